//! The reset journal: a file on disk that records each step as it completes,
//! so a reset interrupted by a crash, a lost connection or Ctrl-C can be
//! resumed (`--resume`) and is never silently half done.
//!
//! Invariants:
//! - the journal is written (atomically: temporary file, fsync, rename) after
//!   every completed step, before the next one starts;
//! - files are mode 0600 in a folder of mode 0700;
//! - it never holds a secret (no DSN, no password).

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{OpsError, Result};

/// How the database is reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Destroy the service and create a new one (new credentials), as PIX's
    /// Makefile did.
    Recreate,
    /// Empty the database through `postgres:connect` (drop and recreate the
    /// `public` schema), keeping the service and its credentials.
    InPlace,
}

/// One step of a reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "step", content = "index")]
pub enum Step {
    /// Stream `postgres:export` to a verified local file.
    Backup,
    /// `apps:lock`.
    Lock,
    /// `ps:stop`.
    Stop,
    /// `postgres:unlink`.
    Unlink,
    /// `postgres:destroy --force`.
    Destroy,
    /// `postgres:create`.
    Create,
    /// `postgres:link` (restarts the app).
    Link,
    /// In place: drop and recreate the `public` schema through `postgres:connect`.
    Wipe,
    /// In place: `ps:start`.
    Start,
    /// The n-th configured post-link command, through `run`.
    PostLink(usize),
    /// Check the app runs and `DATABASE_URL` points at the database.
    Verify,
    /// `apps:unlock`.
    Unlock,
}

impl Step {
    /// A short name (`backup`, `post_link[0]`).
    pub fn name(&self) -> String {
        match self {
            Step::PostLink(i) => format!("post_link[{i}]"),
            other => serde_json::to_value(other)
                .ok()
                .and_then(|v| v.get("step").and_then(|s| s.as_str()).map(str::to_string))
                .unwrap_or_default(),
        }
    }

    /// True for the steps after which the original data is gone from the
    /// server (only the backup holds it).
    pub fn destroys_data(&self) -> bool {
        matches!(self, Step::Destroy | Step::Wipe)
    }
}

/// Where a reset stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalState {
    /// Steps are running (or the process died while they were).
    InProgress,
    /// Every step completed.
    Completed,
    /// A step failed and the original database was restored.
    RolledBack,
}

/// The journal of one reset of one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    /// Format version.
    pub format: u32,
    /// The environment.
    pub environment: String,
    /// The app.
    pub app: String,
    /// The Postgres service.
    pub service: String,
    /// The strategy.
    pub strategy: Strategy,
    /// Who runs it (`user@machine pid N`).
    pub operator: String,
    /// When it started (RFC 3339, UTC).
    pub started_at: String,
    /// The planned steps, in order.
    pub plan: Vec<Step>,
    /// The completed steps, in order.
    pub completed: Vec<Step>,
    /// The verified backup, once taken.
    pub backup: Option<PathBuf>,
    /// Where the reset stands.
    pub state: JournalState,
    /// The last error, if a step failed.
    pub last_error: Option<String>,
}

impl Journal {
    /// The path of the journal of `environment` under `state_dir`.
    pub fn path(state_dir: &Path, environment: &str) -> PathBuf {
        state_dir.join("resets").join(format!("{environment}.json"))
    }

    /// Reads a journal; `Ok(None)` when there is none.
    pub fn read(path: &Path) -> Result<Option<Journal>> {
        match fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                OpsError::Precondition {
                    message: format!(
                        "the reset journal {} is unreadable ({e}); inspect it, and move it away once you know the state of the database",
                        path.display()
                    ),
                }
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(OpsError::io(format!("reading {}", path.display()), e)),
        }
    }

    /// Writes the journal atomically (temporary file, fsync, rename), mode 0600
    /// in a folder of mode 0700.
    pub fn write(&self, path: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| OpsError::io("encoding the journal", std::io::Error::other(e)))?;
        write_private_atomic(path, &bytes)
    }

    /// The next step to run: the first planned step not completed.
    pub fn next_step(&self) -> Option<Step> {
        self.plan.get(self.completed.len()).copied()
    }

    /// True once a data-destroying step has completed.
    pub fn data_destroyed(&self) -> bool {
        self.completed.iter().any(Step::destroys_data)
    }

    /// Records a completed step and writes the journal.
    pub fn complete(&mut self, step: Step, path: &Path) -> Result<()> {
        self.completed.push(step);
        self.write(path)
    }
}

/// Creates `dir` (and parents) with mode 0700.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| OpsError::io(format!("creating {}", dir.display()), e))
}

/// Writes `bytes` to `path` atomically with mode 0600, its folder 0700.
pub fn write_private_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    create_private_dir(dir)?;
    let tmp = path.with_extension("tmp");
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| OpsError::io(format!("writing {}", tmp.display()), e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| OpsError::io(format!("writing {}", tmp.display()), e))?;
    fs::rename(&tmp, path).map_err(|e| {
        OpsError::io(
            format!("renaming {} to {}", tmp.display(), path.display()),
            e,
        )
    })
}

/// A local exclusive lock (a `flock` on a file), released when dropped.
#[derive(Debug)]
pub struct LocalLock {
    _file: File,
    path: PathBuf,
}

impl LocalLock {
    /// Takes the lock at `path` without waiting; `Ok(None)` when another
    /// process holds it (its holder is written in the file).
    pub fn try_acquire(
        path: &Path,
        holder: &str,
    ) -> Result<std::result::Result<LocalLock, String>> {
        let dir = path.parent().unwrap_or_else(|| Path::new("."));
        create_private_dir(dir)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(|e| OpsError::io(format!("opening {}", path.display()), e))?;
        match file.try_lock() {
            Ok(()) => {
                file.set_len(0)
                    .and_then(|()| file.write_all(holder.as_bytes()))
                    .map_err(|e| OpsError::io(format!("writing {}", path.display()), e))?;
                Ok(Ok(LocalLock {
                    _file: file,
                    path: path.to_path_buf(),
                }))
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let who = fs::read_to_string(path).unwrap_or_default();
                Ok(Err(if who.trim().is_empty() {
                    "another process".to_string()
                } else {
                    who.trim().to_string()
                }))
            }
            Err(std::fs::TryLockError::Error(e)) => {
                Err(OpsError::io(format!("locking {}", path.display()), e))
            }
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `user@machine pid N`, to say who holds a lock.
pub fn operator() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let host = fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    format!("{user}@{host} pid {}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn journal() -> Journal {
        Journal {
            format: 1,
            environment: "development".into(),
            app: "api".into(),
            service: "pg".into(),
            strategy: Strategy::Recreate,
            operator: operator(),
            started_at: "2026-01-01T00:00:00Z".into(),
            plan: vec![
                Step::Backup,
                Step::Lock,
                Step::Destroy,
                Step::PostLink(0),
                Step::Unlock,
            ],
            completed: vec![],
            backup: None,
            state: JournalState::InProgress,
            last_error: None,
        }
    }

    #[test]
    fn journal_round_trips_with_private_modes() {
        let dir = tempfile::tempdir().unwrap();
        let path = Journal::path(dir.path(), "development");
        let mut j = journal();
        j.complete(Step::Backup, &path).unwrap();
        j.complete(Step::Lock, &path).unwrap();
        let back = Journal::read(&path).unwrap().unwrap();
        assert_eq!(back, j);
        assert_eq!(back.next_step(), Some(Step::Destroy));
        assert!(!back.data_destroyed());
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dmode = fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dmode, 0o700);
        assert!(Journal::read(&dir.path().join("none.json"))
            .unwrap()
            .is_none());
    }

    #[test]
    fn step_names_are_stable() {
        assert_eq!(Step::Backup.name(), "backup");
        assert_eq!(Step::PostLink(2).name(), "post_link[2]");
        assert!(Step::Wipe.destroys_data() && Step::Destroy.destroys_data());
        assert!(!Step::Create.destroys_data());
    }

    #[test]
    fn local_lock_is_exclusive_and_names_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let first = LocalLock::try_acquire(&path, "alice@a pid 1")
            .unwrap()
            .unwrap();
        let second = LocalLock::try_acquire(&path, "bob@b pid 2").unwrap();
        assert_eq!(second.unwrap_err(), "alice@a pid 1");
        drop(first);
        assert!(LocalLock::try_acquire(&path, "bob").unwrap().is_ok());
    }
}
