//! SSH transport over the `openssh` crate (native mux). (Being implemented.)

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::output::Output;
use crate::transport::{Request, Transport};

/// How the server's host key is checked. Never a prompt.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum HostKeyPolicy {
    /// Strict against the known_hosts file (the default).
    #[default]
    Strict,
    /// Accept and record an unknown host, refuse a changed key. Opt-in.
    AcceptNew,
    /// Only this key (an OpenSSH public key line, `ssh-ed25519 AAAA...`).
    Pinned(String),
}

/// How the login user reaches Dokku.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LoginMode {
    /// `dokku@HOST`: the forced command receives the arguments.
    #[default]
    DokkuUser,
    /// A shell user (PIX's `ubuntu`) that runs `dokku` itself.
    ShellUser {
        /// Prefix with `sudo -n`.
        sudo: bool,
        /// The `dokku` binary on the server.
        dokku_path: String,
    },
}

/// Where and how to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshConfig {
    /// Host name or address.
    pub host: String,
    /// Port (None: from `~/.ssh/config`, else 22).
    pub port: Option<u16>,
    /// Login user (default `dokku`).
    pub user: String,
    /// Private key file (None: from `~/.ssh/config` / agent).
    pub key: Option<PathBuf>,
    /// known_hosts file (None: the user's).
    pub known_hosts: Option<PathBuf>,
    /// Host key policy.
    pub host_key: HostKeyPolicy,
    /// Login mode.
    pub login: LoginMode,
    /// Commands in flight at once on the shared connection.
    pub max_sessions: usize,
}

/// The SSH transport.
#[derive(Debug)]
pub struct SshTransport {
    config: SshConfig,
}

impl SshTransport {
    /// Connects.
    pub async fn connect(config: SshConfig) -> Result<Self> {
        Err(Error::Config(format!(
            "ssh transport to {} not implemented yet",
            config.host
        )))
    }
}

#[async_trait::async_trait]
impl Transport for SshTransport {
    async fn execute(&self, _request: Request) -> Result<Output> {
        Err(Error::Config("ssh transport not implemented yet".into()))
    }

    fn target(&self) -> String {
        format!("{}@{}", self.config.user, self.config.host)
    }
}
