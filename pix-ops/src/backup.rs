//! Backups: `postgres:export` streamed to a verified local file, and
//! `postgres:import` from one.
//!
//! Invariants:
//! - a backup is written under a temporary name (`*.partial`), checked (it
//!   starts with `PGDMP`, the custom-format magic, and `pg_restore --list`
//!   reads it), and only then renamed to its final name: a file with the final
//!   name is always a complete, readable archive;
//! - on any failure the partial file is removed; one left by a killed run
//!   is removed by the next backup of the same service into the same folder
//!   ([`remove_stale_partials`]) unless a live run is writing it: a writer
//!   holds a `flock` on its partial until it is renamed or removed, and
//!   creating a partial and sweeping stale ones both happen under a `flock`
//!   of the folder itself;
//! - files are mode 0600 in folders of mode 0700;
//! - memory use does not depend on the database's size (the dump is streamed).

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use dokku_client::Client;
use serde::Serialize;
use tokio::io::AsyncWrite;

use crate::error::{OpsError, Result};
use crate::journal::create_private_dir;

/// What [`remove_stale_partials`] says about each file it removed (followed
/// by the path), for the one line callers print.
pub const REMOVED_PARTIAL: &str = "removed an unfinished backup left by an interrupted run";

/// The first bytes of a PostgreSQL custom-format archive.
pub const PGDMP_MAGIC: &[u8] = b"PGDMP";

/// A verified backup on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Backup {
    /// Where it is.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// How many entries `pg_restore --list` found in it.
    pub entries: usize,
}

/// `<backups_dir>/<environment>/<UTC time>-<service>.dump`.
pub fn backup_path(backups_dir: &Path, environment: &str, service: &str) -> PathBuf {
    let now = time::OffsetDateTime::now_utc();
    let stamp = now
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_else(|_| now.unix_timestamp().to_string());
    backups_dir
        .join(environment)
        .join(format!("{stamp}-{service}.dump"))
}

/// Counts bytes as they are written, for progress display. Clones share
/// the count; two counters are equal when they are the same count.
#[derive(Debug, Clone, Default)]
pub struct ByteCounter(Arc<AtomicU64>);

impl PartialEq for ByteCounter {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for ByteCounter {}

impl ByteCounter {
    /// Bytes so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

struct CountingWriter<W> {
    inner: W,
    counter: ByteCounter,
}

impl<W: AsyncWrite + Unpin> AsyncWrite for CountingWriter<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &poll {
            self.counter.0.fetch_add(*n as u64, Ordering::Relaxed);
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Streams `postgres:export <service>` into `dest`, verifies it, and renames
/// it into place. `counter` sees the bytes as they arrive.
pub async fn export_to_file(
    client: &Client,
    service: &str,
    dest: &Path,
    counter: &ByteCounter,
) -> Result<Backup> {
    let dir = dest.parent().unwrap_or_else(|| Path::new("."));
    create_private_dir(dir)?;
    let partial = partial_path(dest);
    // Held until the partial is renamed or removed: a concurrent sweep
    // leaves it alone.
    let (file, _writing) = create_partial(&partial)?;
    let result = export_partial(client, service, file, counter).await;
    let result = match result {
        Ok(()) => verify_archive(&partial).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(entries) => {
            tokio::fs::rename(&partial, dest).await.map_err(|e| {
                OpsError::io(format!("renaming the backup to {}", dest.display()), e)
            })?;
            let bytes = tokio::fs::metadata(dest)
                .await
                .map(|m| m.len())
                .unwrap_or_default();
            Ok(Backup {
                path: dest.to_path_buf(),
                bytes,
                entries,
            })
        }
        Err(e) => {
            let _ = tokio::fs::remove_file(&partial).await;
            Err(e)
        }
    }
}

/// Where a backup is written until it is verified: `<dest>.partial`.
pub fn partial_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    dest.with_file_name(name)
}

/// Runs `f` holding the lock of the backups folder `dir` (a `flock` on the
/// folder itself: no lock file is left among the backups).
fn with_folder_lock<T>(dir: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let lock = std::fs::File::open(dir)
        .map_err(|e| OpsError::io(format!("opening {}", dir.display()), e))?;
    lock.lock()
        .map_err(|e| OpsError::io(format!("locking {}", dir.display()), e))?;
    let result = f();
    drop(lock);
    result
}

/// Creates `partial` (0600) for writing, and a second handle on it that
/// holds its `flock` (a sweep of stale partials skips it while held).
fn create_partial(partial: &Path) -> Result<(tokio::fs::File, std::fs::File)> {
    let dir = partial.parent().unwrap_or_else(|| Path::new("."));
    with_folder_lock(dir, || {
        let creating = |e| OpsError::io(format!("creating {}", partial.display()), e);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(partial)
            .map_err(creating)?;
        let guard = std::fs::File::open(partial).map_err(creating)?;
        guard.try_lock().map_err(|e| {
            OpsError::io(
                format!("locking {}", partial.display()),
                std::io::Error::other(e.to_string()),
            )
        })?;
        Ok((tokio::fs::File::from_std(file), guard))
    })
}

/// Removes the unfinished backups of `service` (`<time>-<service>.dump.partial`)
/// that interrupted runs left in the folder of `dest`, and returns their
/// paths. A partial that a live run is writing (it holds its lock) is left
/// alone, as are other services' files and anything that is not a regular
/// file.
pub fn remove_stale_partials(dest: &Path, service: &str) -> Result<Vec<PathBuf>> {
    let dir = dest.parent().unwrap_or_else(|| Path::new("."));
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(OpsError::io(format!("reading {}", dir.display()), e)),
    };
    let candidates: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| is_partial_of(&e.file_name().to_string_lossy(), service))
        .map(|e| e.path())
        .collect();
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    with_folder_lock(dir, || {
        let mut removed = Vec::new();
        for path in candidates {
            let Ok(file) = std::fs::File::open(&path) else {
                continue;
            };
            if file.try_lock().is_err() {
                continue; // a live run is writing it
            }
            match std::fs::remove_file(&path) {
                Ok(()) => removed.push(path),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(OpsError::io(format!("removing {}", path.display()), e)),
            }
        }
        Ok(removed)
    })
}

/// True for `<time>-<service>.dump.partial`, the name [`export_to_file`]
/// gives a backup of `service` while it is written.
fn is_partial_of(name: &str, service: &str) -> bool {
    name.strip_suffix(".dump.partial")
        .and_then(|stem| stem.split_once('-'))
        .is_some_and(|(stamp, svc)| {
            svc == service
                && !stamp.is_empty()
                && stamp
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == 'T' || c == 'Z')
        })
}

async fn export_partial(
    client: &Client,
    service: &str,
    file: tokio::fs::File,
    counter: &ByteCounter,
) -> Result<()> {
    let writer = CountingWriter {
        inner: file,
        counter: counter.clone(),
    };
    client
        .postgres_export(service, writer)
        .await
        .map_err(|e| match e {
            dokku_client::Error::Io { context, source } => OpsError::Backup {
                message: format!(
                    "{context}: {source}; the partial file was removed and nothing on the server was changed. Free some disk space (or choose another --backups-dir) and retry"
                ),
            },
            other => OpsError::Dokku(other),
        })
}

/// Checks that `path` is a PostgreSQL custom-format archive that
/// `pg_restore --list` reads; returns the number of entries.
pub async fn verify_archive(path: &Path) -> Result<usize> {
    let mut magic = [0u8; 5];
    {
        use tokio::io::AsyncReadExt;
        let mut f = tokio::fs::File::open(path)
            .await
            .map_err(|e| OpsError::io(format!("opening {}", path.display()), e))?;
        f.read_exact(&mut magic)
            .await
            .map_err(|_| OpsError::Backup {
                message: format!(
                    "{} is empty or truncated (less than 5 bytes): the export produced no archive",
                    path.display()
                ),
            })?;
    }
    if magic != PGDMP_MAGIC {
        return Err(OpsError::Backup {
            message: format!(
                "{} does not start with PGDMP: it is not a PostgreSQL custom-format archive",
                path.display()
            ),
        });
    }
    let pg_restore = find_pg_tool("pg_restore").ok_or_else(|| OpsError::Backup {
        message: "pg_restore is not installed, so the backup cannot be verified; install the `postgresql-client` package".into(),
    })?;
    let out = tokio::process::Command::new(&pg_restore)
        .arg("--list")
        .arg(path)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| OpsError::io(format!("running {}", pg_restore.display()), e))?;
    if !out.status.success() {
        return Err(OpsError::Backup {
            message: format!(
                "pg_restore --list cannot read {}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with(';'))
        .count())
}

/// Finds a PostgreSQL client tool on PATH, else in the newest
/// `/usr/lib/postgresql/*/bin`.
pub fn find_pg_tool(name: &str) -> Option<PathBuf> {
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin").join(name)))
        .filter(|p| p.is_file())
        .collect();
    versions.sort();
    versions.pop()
}

/// Restores `file` into `service` through `postgres:import` (stdin streamed).
pub async fn import_file(client: &Client, service: &str, file: &Path) -> Result<()> {
    // A file that is not an archive is refused before anything is sent (and
    // said as a restore's problem, not a backup's).
    verify_archive(file).await.map_err(|e| match e {
        OpsError::Backup { message } => OpsError::Usage {
            message: format!(
                "cannot restore {}: {message}; nothing was sent to {service}. Give a file that `pix db backup` wrote (a PostgreSQL custom-format dump)",
                file.display()
            ),
        },
        other => other,
    })?;
    let f = tokio::fs::File::open(file)
        .await
        .map_err(|e| OpsError::io(format!("opening {}", file.display()), e))?;
    Ok(client.postgres_import(service, f).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_restore_of_a_file_that_is_not_an_archive_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.dump");
        std::fs::write(&bad, b"not a dump").unwrap();
        let client = Client::new(dokku_client::transport::ScriptedTransport::new());
        let e = import_file(&client, "pg", &bad).await.unwrap_err();
        let text = e.to_string();
        assert!(
            matches!(e, OpsError::Usage { .. })
                && text.starts_with(&format!("cannot restore {}", bad.display()))
                && !text.contains("backup failed"),
            "{text}"
        );
    }

    #[test]
    fn backup_paths_are_named_by_environment_and_time() {
        let p = backup_path(Path::new("/b"), "development", "pg-development");
        assert!(p.starts_with("/b/development"));
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        assert!(name.ends_with("Z-pg-development.dump"), "{name}");
        assert_eq!(
            partial_path(&p).file_name().unwrap().to_string_lossy(),
            format!("{name}.partial")
        );
    }

    #[test]
    fn stale_partials_of_the_service_are_removed_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let dest = backup_path(dir.path(), "development", "pg");
        let folder = dest.parent().unwrap();
        create_private_dir(folder).unwrap();
        let stale = folder.join("20260101T000000Z-pg.dump.partial");
        let live = folder.join("20260101T000001Z-pg.dump.partial");
        let other = folder.join("20260101T000000Z-other-pg.dump.partial");
        let done = folder.join("20260101T000000Z-pg.dump");
        for f in [&stale, &other, &done] {
            std::fs::write(f, b"PGDMP").unwrap();
        }
        // a concurrent run writing `live` holds its lock
        let (_file, guard) = create_partial(&live).unwrap();
        let removed = remove_stale_partials(&dest, "pg").unwrap();
        assert_eq!(removed, vec![stale.clone()]);
        assert!(!stale.exists());
        assert!(live.exists() && other.exists() && done.exists());
        // once that run is gone, its partial is stale too
        drop(guard);
        assert_eq!(remove_stale_partials(&dest, "pg").unwrap(), vec![live]);
        assert!(remove_stale_partials(&dir.path().join("none/x.dump"), "pg")
            .unwrap()
            .is_empty());
        assert!(!is_partial_of("20260101T000000Z-pg.dump", "pg"));
        assert!(!is_partial_of("-pg.dump.partial", "pg"));
    }

    #[tokio::test]
    async fn verify_rejects_what_is_not_an_archive() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("e.dump");
        std::fs::write(&empty, b"").unwrap();
        assert!(verify_archive(&empty)
            .await
            .unwrap_err()
            .to_string()
            .contains("empty"));
        let text = dir.path().join("t.dump");
        std::fs::write(&text, b"-- SQL dump\n").unwrap();
        assert!(verify_archive(&text)
            .await
            .unwrap_err()
            .to_string()
            .contains("PGDMP"));
        let fake = dir.path().join("f.dump");
        std::fs::write(&fake, b"PGDMP\x01\x0e\x00garbage").unwrap();
        let err = verify_archive(&fake).await.unwrap_err().to_string();
        assert!(err.contains("pg_restore"), "{err}");
    }
}
