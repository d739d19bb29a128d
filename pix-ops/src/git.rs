//! A small typed wrapper over the real `git` binary (no libgit2): run a
//! command, capture its output, stream its stderr line by line, and turn
//! failures into errors that name the command and git's own message.
//!
//! Every command runs with `LC_ALL=C` (messages are parsed) and
//! `GIT_TERMINAL_PROMPT=0` (never waits for a password).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error::OpsError;

/// The longest line kept from a streamed command (longer ones are cut).
pub const MAX_LINE: usize = 64 * 1024;

/// Why a git command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GitError {
    /// `git` could not be started.
    #[error("cannot run `git {args}` in {}: {source}; is git installed and on PATH?", dir.display())]
    Spawn {
        /// The arguments.
        args: String,
        /// The working directory.
        dir: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// `git` exited with an error.
    #[error("`git {args}` failed (exit {code}): {message}")]
    Failed {
        /// The arguments.
        args: String,
        /// The exit code (-1 when killed by a signal).
        code: i32,
        /// git's message (the end of its stderr).
        message: String,
    },
}

impl From<GitError> for OpsError {
    fn from(e: GitError) -> Self {
        match e {
            GitError::Spawn { source, args, .. } => {
                OpsError::io(format!("running `git {args}`"), source)
            }
            other => OpsError::StepFailed {
                message: other.to_string(),
            },
        }
    }
}

/// What a finished git command printed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GitOutput {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error (for streamed commands: the lines, joined with `\n`).
    pub stderr: String,
}

impl GitOutput {
    /// True when git exited with 0.
    pub fn success(&self) -> bool {
        self.code == 0
    }
}

/// `git` run in one repository with extra environment variables.
#[derive(Debug, Clone)]
pub struct Git {
    dir: PathBuf,
    program: PathBuf,
    env: Vec<(OsString, OsString)>,
}

impl Git {
    /// git in `dir` (a work tree or any folder inside one).
    pub fn new(dir: impl Into<PathBuf>) -> Git {
        Git {
            dir: dir.into(),
            program: PathBuf::from("git"),
            env: Vec::new(),
        }
    }

    /// Uses another git binary.
    pub fn program(mut self, program: impl Into<PathBuf>) -> Git {
        self.program = program.into();
        self
    }

    /// Adds an environment variable to every command.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Git {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Sets `GIT_SSH_COMMAND` (see [`crate::push::git_ssh_command`]).
    pub fn ssh_command(self, command: &str) -> Git {
        self.env("GIT_SSH_COMMAND", command)
    }

    /// The repository folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(&self.program);
        cmd.args(args)
            .current_dir(&self.dir)
            .env("LC_ALL", "C")
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    fn spawn_error(&self, args: &[&str], source: std::io::Error) -> GitError {
        GitError::Spawn {
            args: args.join(" "),
            dir: self.dir.clone(),
            source,
        }
    }

    /// Runs git and returns its output whatever the exit code.
    pub async fn output(&self, args: &[&str]) -> Result<GitOutput, GitError> {
        let out = self
            .command(args)
            .output()
            .await
            .map_err(|e| self.spawn_error(args, e))?;
        Ok(GitOutput {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    /// Runs git and returns its stdout without the trailing newline; a
    /// non-zero exit is an error carrying git's message.
    pub async fn capture(&self, args: &[&str]) -> Result<String, GitError> {
        let out = self.output(args).await?;
        check(args, &out)?;
        Ok(out.stdout.trim_end_matches(['\n', '\r']).to_string())
    }

    /// Runs git and returns `Some(stdout)` on success, `None` on a non-zero
    /// exit (for queries such as `rev-parse --verify`).
    pub async fn query(&self, args: &[&str]) -> Result<Option<String>, GitError> {
        let out = self.output(args).await?;
        Ok(out
            .success()
            .then(|| out.stdout.trim_end_matches(['\n', '\r']).to_string()))
    }

    /// Runs git, calling `on_line` for every stderr line as it arrives
    /// (lines end at `\n` or `\r`; empty ones are skipped). stdout is
    /// collected. Returns the output whatever the exit code.
    pub async fn stream(
        &self,
        args: &[&str],
        on_line: &mut (dyn FnMut(&str) + Send),
    ) -> Result<GitOutput, GitError> {
        let mut child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.spawn_error(args, e))?;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let collect_stdout = async move {
            let mut buf = Vec::new();
            if let Some(mut s) = stdout {
                let _ = s.read_to_end(&mut buf).await;
            }
            buf
        };
        let mut lines = Vec::new();
        let read_stderr = async {
            if let Some(s) = stderr {
                read_lines(s, &mut |l| {
                    on_line(l);
                    lines.push(l.to_string());
                })
                .await;
            }
        };
        let (out, ()) = tokio::join!(collect_stdout, read_stderr);
        let status = child.wait().await.map_err(|e| self.spawn_error(args, e))?;
        Ok(GitOutput {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out).into_owned(),
            stderr: lines.join("\n"),
        })
    }
}

/// An error when `out` is not a success.
pub fn check(args: &[&str], out: &GitOutput) -> Result<(), GitError> {
    if out.success() {
        return Ok(());
    }
    Err(GitError::Failed {
        args: args.join(" "),
        code: out.code,
        message: tail(&out.stderr, 6),
    })
}

/// The last `n` non-empty lines of `text`, joined with `; `.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect();
    let start = lines.len().saturating_sub(n);
    let joined = lines[start..].join("; ");
    if joined.is_empty() {
        "(no message)".into()
    } else {
        joined
    }
}

/// Splits a byte stream into lines at `\n` or `\r`, skipping empty ones.
async fn read_lines(mut reader: impl AsyncRead + Unpin, on_line: &mut dyn FnMut(&str)) {
    let mut buf = [0u8; 8192];
    let mut line: Vec<u8> = Vec::new();
    loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for &b in &buf[..n] {
            if b == b'\n' || b == b'\r' {
                if !line.is_empty() {
                    on_line(&String::from_utf8_lossy(&line));
                    line.clear();
                }
            } else if line.len() < MAX_LINE {
                line.push(b);
            }
        }
    }
    if !line.is_empty() {
        on_line(&String::from_utf8_lossy(&line));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_split_at_newline_and_carriage_return() {
        let data: &[u8] = b"one\r\ntwo\rthree\n\nfour";
        let mut got = Vec::new();
        read_lines(data, &mut |l| got.push(l.to_string())).await;
        assert_eq!(got, ["one", "two", "three", "four"]);
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\n\nb\nc\n", 2), "b; c");
        assert_eq!(tail("", 2), "(no message)");
    }

    #[tokio::test]
    async fn capture_and_errors_name_the_command() {
        let dir = tempfile::tempdir().unwrap();
        let git = Git::new(dir.path());
        git.capture(&["init", "-q"]).await.unwrap();
        let e = git
            .capture(&["rev-parse", "--verify", "nope^{commit}"])
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("git rev-parse --verify nope^{commit}"),
            "{text}"
        );
        assert!(git
            .query(&["rev-parse", "--verify", "-q", "HEAD"])
            .await
            .unwrap()
            .is_none());
        let mut lines = Vec::new();
        let out = git
            .stream(&["switch", "no-such-branch"], &mut |l| {
                lines.push(l.to_string())
            })
            .await
            .unwrap();
        assert!(!out.success());
        assert!(
            lines.iter().any(|l| l.contains("no-such-branch")),
            "{lines:?}"
        );
        assert_eq!(out.stderr, lines.join("\n"));
        let missing = Git::new(dir.path()).program("/nonexistent/git");
        assert!(matches!(
            missing.capture(&["status"]).await,
            Err(GitError::Spawn { .. })
        ));
    }
}
