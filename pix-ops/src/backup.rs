//! Backups: `postgres:export` streamed to a verified local file, and
//! `postgres:import` from one.
//!
//! Invariants:
//! - a backup is written under a temporary name (`*.partial`), checked (it
//!   starts with `PGDMP`, the custom-format magic, and `pg_restore --list`
//!   reads it), and only then renamed to its final name: a file with the final
//!   name is always a complete, readable archive;
//! - on any failure the partial file is removed;
//! - files are mode 0600 in folders of mode 0700;
//! - memory use does not depend on the database's size (the dump is streamed).

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

/// Counts bytes as they are written, for progress display.
#[derive(Debug, Clone, Default)]
pub struct ByteCounter(Arc<AtomicU64>);

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
    let result = export_partial(client, service, &partial, counter).await;
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

async fn export_partial(
    client: &Client,
    service: &str,
    partial: &Path,
    counter: &ByteCounter,
) -> Result<()> {
    let file = tokio::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(partial)
        .await
        .map_err(|e| OpsError::io(format!("creating {}", partial.display()), e))?;
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
    verify_archive(file).await?;
    let f = tokio::fs::File::open(file)
        .await
        .map_err(|e| OpsError::io(format!("opening {}", file.display()), e))?;
    Ok(client.postgres_import(service, f).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

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
