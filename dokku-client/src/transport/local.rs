//! Local transport: runs `dokku` on this machine (for when you are on the
//! server).
//!
//! The argument vector is passed to the binary directly: no shell, no
//! quoting, no re-split, so every word arrives byte-exact (only what Dokku's
//! own `parse_args` would misread is refused, see
//! [`crate::command::checked_argv`]).
//!
//! The child runs in its own process group; if the command's future is
//! dropped (the client's timeout) before it finished, the whole group is
//! killed (`SIGKILL`), so helper processes it started do not survive it.
//! Interactive commands ([`Request::tty`]) stay in the terminal's process
//! group and inherit the terminal.

use std::path::PathBuf;

use tokio::process::Command as ProcessCommand;

use crate::command::checked_argv;
use crate::error::{Error, Result};
use crate::output::Output;
use crate::transport::io::{drain_stderr, drain_stdout, feed_stdin, Limits};
use crate::transport::{Request, Stdin, Stdout, Transport};

/// Runs the `dokku` binary locally (on the server itself).
#[derive(Debug, Clone)]
pub struct LocalTransport {
    /// Path of the `dokku` binary (a bare name is looked up on `PATH`).
    pub dokku_path: PathBuf,
    /// Memory bounds for captured stdout and stderr.
    pub limits: Limits,
}

impl Default for LocalTransport {
    fn default() -> Self {
        LocalTransport::new()
    }
}

impl LocalTransport {
    /// Runs `dokku` from `PATH`.
    pub fn new() -> Self {
        LocalTransport::with_path("dokku")
    }

    /// Runs the binary at `path`.
    pub fn with_path(path: impl Into<PathBuf>) -> Self {
        LocalTransport {
            dokku_path: path.into(),
            limits: Limits::default(),
        }
    }

    /// Sets the capture limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    fn spawn_error(&self, e: std::io::Error) -> Error {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::NotDokku {
                host: "local".into(),
                message: format!(
                    "{} was not found; install Dokku or give the path of the `dokku` binary",
                    self.dokku_path.display()
                ),
            }
        } else {
            Error::io(format!("starting {}", self.dokku_path.display()), e)
        }
    }
}

/// Kills a process group when dropped before [`GroupGuard::disarm`].
struct GroupGuard {
    pgid: Option<i32>,
}

impl GroupGuard {
    fn disarm(&mut self) {
        self.pgid = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid {
            // The leader is not reaped yet (we still own its Child), so the
            // group id cannot have been reused.
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pgid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

#[async_trait::async_trait]
impl Transport for LocalTransport {
    async fn execute(&self, request: Request) -> Result<Output> {
        let argv = checked_argv(&request.command)?;
        let shown = request.command.display();
        let mut cmd = ProcessCommand::new(&self.dokku_path);
        cmd.args(&argv).kill_on_drop(true);
        if request.tty {
            let status = cmd
                .stdin(std::process::Stdio::inherit())
                .stdout(std::process::Stdio::inherit())
                .stderr(std::process::Stdio::inherit())
                .status()
                .await
                .map_err(|e| self.spawn_error(e))?;
            return Ok(Output::new(
                status.code().unwrap_or(-1),
                Vec::new(),
                Vec::new(),
            ));
        }
        cmd.process_group(0);
        cmd.stdin(match request.stdin {
            Stdin::Null => std::process::Stdio::null(),
            Stdin::Inherit => std::process::Stdio::inherit(),
            Stdin::Bytes(_) | Stdin::Reader(_) => std::process::Stdio::piped(),
        });
        cmd.stdout(match request.stdout {
            Stdout::Inherit => std::process::Stdio::inherit(),
            Stdout::Capture | Stdout::Writer(_) => std::process::Stdio::piped(),
        });
        cmd.stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| self.spawn_error(e))?;
        let mut guard = GroupGuard {
            pgid: child.id().and_then(|p| i32::try_from(p).ok()),
        };
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let (_, out, err) = tokio::try_join!(
            feed_stdin(request.stdin, stdin),
            drain_stdout(request.stdout, stdout, self.limits.stdout, &shown),
            drain_stderr(stderr, self.limits.stderr),
        )?;
        let status = child
            .wait()
            .await
            .map_err(|e| Error::io(format!("waiting for `{shown}`"), e))?;
        guard.disarm();
        let exit_code = match status.code() {
            Some(code) => code,
            None => {
                use std::os::unix::process::ExitStatusExt;
                128 + status.signal().unwrap_or(0)
            }
        };
        Ok(Output {
            exit_code,
            stdout: out,
            stderr: err,
        })
    }

    fn target(&self) -> String {
        format!("local ({})", self.dokku_path.display())
    }
}
