//! How commands reach Dokku: the [`Transport`] trait and its implementations.
//!
//! A transport runs one [`Request`] and returns its [`Output`]. It does no
//! parsing and no classification; the [`Client`](crate::Client) does that.
//! Quoting happens in exactly one place, [`crate::command::ssh_line`], which
//! the SSH transport calls.

use std::fmt;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

use crate::command::Command;
use crate::error::Result;
use crate::output::Output;
use crate::version::DokkuVersion;

pub mod io;
pub mod lines;
pub mod local;
pub mod native;
pub mod scripted;
pub mod ssh;
mod terminal;

pub use io::Limits;
pub use lines::LineSink;
pub use local::LocalTransport;
pub use native::{native_unsupported, NativeTransport};
pub use scripted::{RecordedRequest, ScriptedCase, ScriptedTransport};
pub use ssh::{HostKeyPolicy, LoginMode, SshConfig, SshTransport};

/// Where a command's stdin comes from.
#[derive(Default)]
#[non_exhaustive]
pub enum Stdin {
    /// Nothing: stdin is closed at once.
    #[default]
    Null,
    /// These bytes, then end of file.
    Bytes(Vec<u8>),
    /// Streamed from a reader in constant memory (`postgres:import`).
    Reader(Box<dyn AsyncRead + Send + Unpin>),
    /// The local process's own stdin (interactive commands).
    Inherit,
}

impl fmt::Debug for Stdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stdin::Null => f.write_str("Null"),
            Stdin::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Stdin::Reader(_) => f.write_str("Reader"),
            Stdin::Inherit => f.write_str("Inherit"),
        }
    }
}

/// Where a command's stdout goes.
#[derive(Default)]
#[non_exhaustive]
pub enum Stdout {
    /// Collected into [`Output::stdout`].
    #[default]
    Capture,
    /// Streamed to a writer in constant memory (`postgres:export`, `logs -t`);
    /// [`Output::stdout`] stays empty.
    Writer(Box<dyn AsyncWrite + Send + Unpin>),
    /// The local process's own stdout (interactive commands).
    Inherit,
}

impl fmt::Debug for Stdout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stdout::Capture => f.write_str("Capture"),
            Stdout::Writer(_) => f.write_str("Writer"),
            Stdout::Inherit => f.write_str("Inherit"),
        }
    }
}

/// One command to run, with its streams.
#[derive(Debug)]
#[non_exhaustive]
pub struct Request {
    /// The command.
    pub command: Command,
    /// The server version, when known: decides how the SSH line is quoted.
    pub version: Option<DokkuVersion>,
    /// stdin.
    pub stdin: Stdin,
    /// stdout.
    pub stdout: Stdout,
    /// Ask for a terminal (interactive `run`, `postgres:connect`). stderr is
    /// then inherited too.
    pub tty: bool,
    /// This call's time limit, overriding the client's (a long
    /// `postgres:export`, a `logs -t` follow). `None`: the client's timeout,
    /// except for terminal sessions (the `tty` field), which a person drives
    /// and which then have none, and followed logs
    /// ([`Client::logs_tail`](crate::Client::logs_tail)), which have the
    /// client's follow timeout (none by default).
    pub timeout: Option<Duration>,
}

impl Request {
    /// A request with closed stdin and captured stdout.
    pub fn new(command: Command) -> Self {
        Request {
            command,
            version: None,
            stdin: Stdin::Null,
            stdout: Stdout::Capture,
            tty: false,
            timeout: None,
        }
    }

    /// Sets stdin.
    pub fn stdin(mut self, stdin: Stdin) -> Self {
        self.stdin = stdin;
        self
    }

    /// Sets stdout.
    pub fn stdout(mut self, stdout: Stdout) -> Self {
        self.stdout = stdout;
        self
    }

    /// Asks for a terminal (sets the `tty` field).
    pub fn tty(mut self) -> Self {
        self.tty = true;
        self
    }

    /// Sets this call's time limit (see [`Request::timeout`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// Runs Dokku commands somewhere.
///
/// Implementations must:
/// - keep stdout and stderr apart and binary-safe;
/// - stream [`Stdin::Reader`] and [`Stdout::Writer`] in constant memory;
/// - stop the remote process when the returned future is dropped (the client
///   drops it on timeout);
/// - report connection failures as [`Error::Transport`](crate::Error::Transport)
///   (or the host-key and authentication variants), never as a command failure.
#[async_trait::async_trait]
pub trait Transport: Send + Sync + fmt::Debug {
    /// Runs one command and returns its exit code and captured streams.
    async fn execute(&self, request: Request) -> Result<Output>;

    /// A short description of the target for messages (`dokku@host:22`, `local`).
    fn target(&self) -> String;

    /// Closes connections and cleans up (control sockets, child processes).
    async fn close(&self) -> Result<()> {
        Ok(())
    }
}

/// Default timeout for one command.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// A boxed transport is a transport (a transport chosen at run time).
#[async_trait::async_trait]
impl Transport for Box<dyn Transport> {
    async fn execute(&self, request: Request) -> Result<Output> {
        (**self).execute(request).await
    }

    fn target(&self) -> String {
        (**self).target()
    }

    async fn close(&self) -> Result<()> {
        (**self).close().await
    }
}
