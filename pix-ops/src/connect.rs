//! Turning a `pix.toml` host into a connected [`Client`].

use std::path::PathBuf;
use std::time::Duration;

use dokku_client::transport::{
    native_unsupported, HostKeyPolicy, LocalTransport, LoginMode, NativeTransport, SshConfig,
    SshTransport, Transport,
};
use dokku_client::Client;

use crate::config::{HostConfig, Login, SshKind};
use crate::error::Result;

/// The address that means "run `dokku` on this machine".
pub const LOCAL_HOST: &str = "local";

/// Connection settings that come from flags or the environment rather than
/// `pix.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectOptions {
    /// A key file that overrides the host's.
    pub key: Option<PathBuf>,
    /// A known_hosts file that overrides the host's.
    pub known_hosts: Option<PathBuf>,
    /// Accept and record an unknown host key (never a changed one).
    pub accept_new_host_key: bool,
    /// Per-command timeout (default: the client's); it also bounds opening
    /// the SSH connection (default [`dokku_client::transport::ssh::DEFAULT_CONNECT_TIMEOUT`]).
    pub timeout: Option<Duration>,
    /// The SSH transport (`--ssh`, `PIX_SSH`), over the host's `transport`.
    pub transport: Option<SshKind>,
}

impl ConnectOptions {
    /// Reads `PIX_SSH_KEY`, `PIX_KNOWN_HOSTS`, `PIX_TIMEOUT` (seconds) and
    /// `PIX_SSH` (`native` or `openssh`; anything else is ignored with a warning).
    pub fn from_env() -> ConnectOptions {
        let path = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        ConnectOptions {
            key: path("PIX_SSH_KEY"),
            known_hosts: path("PIX_KNOWN_HOSTS"),
            accept_new_host_key: false,
            timeout: std::env::var("PIX_TIMEOUT")
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .map(Duration::from_secs),
            transport: std::env::var("PIX_SSH")
                .ok()
                .filter(|v| !v.is_empty())
                .and_then(|v| match v.parse() {
                    Ok(kind) => Some(kind),
                    Err(e) => {
                        tracing::warn!("PIX_SSH: {e}");
                        None
                    }
                }),
        }
    }
}

/// The SSH settings for `host` (pure: no connection is made).
pub fn ssh_config(host: &HostConfig, options: &ConnectOptions) -> SshConfig {
    let mut config = SshConfig::new(host.address.clone()).user(host.user.clone());
    config.port = host.port;
    config.key = options
        .key
        .clone()
        .or_else(|| host.key.clone())
        .map(expand_home);
    config.known_hosts = options
        .known_hosts
        .clone()
        .or_else(|| host.known_hosts.clone())
        .map(expand_home);
    if options.accept_new_host_key {
        config.host_key = HostKeyPolicy::AcceptNew;
    }
    if let Some(t) = options.timeout {
        config.connect_timeout = t;
    }
    if host.login == Login::Shell {
        config.login = LoginMode::ShellUser {
            sudo: host.sudo,
            dokku_path: host.dokku_path.clone().unwrap_or_else(|| "dokku".into()),
        };
    }
    config
}

/// Connects to `host` (or, for the address `local`, runs `dokku` here).
pub async fn connect(host: &HostConfig, options: &ConnectOptions) -> Result<Client> {
    let builder = if host.address == LOCAL_HOST {
        let path = host.dokku_path.clone().unwrap_or_else(|| "dokku".into());
        Client::builder(LocalTransport::with_path(path))
    } else {
        Client::builder(ssh_transport(host, options).await?)
    };
    let builder = match options.timeout {
        Some(t) => builder.timeout(t),
        None => builder,
    };
    Ok(builder.build())
}

/// Which SSH transport serves `host`: `--ssh`/`PIX_SSH`, else the host's
/// `transport`, else OpenSSH.
pub fn ssh_kind(host: &HostConfig, options: &ConnectOptions) -> SshKind {
    options.transport.or(host.transport).unwrap_or_default()
}

/// Opens the SSH transport chosen for `host`. The native transport falls
/// back to OpenSSH (with a note under `-v`) when the user's ssh config asks
/// for what it does not do (ProxyJump, ProxyCommand, a security key).
pub async fn ssh_transport(
    host: &HostConfig,
    options: &ConnectOptions,
) -> Result<Box<dyn Transport>> {
    let config = ssh_config(host, options);
    if ssh_kind(host, options) == SshKind::Native {
        match native_unsupported(&config) {
            None => return Ok(Box::new(NativeTransport::connect(config).await?)),
            Some(reason) => tracing::info!(
                target = %config.target(),
                "using the OpenSSH transport instead of the native one: {reason}"
            ),
        }
    }
    Ok(Box::new(SshTransport::connect(config).await?))
}

/// Expands a leading `~/`.
fn expand_home(path: PathBuf) -> PathBuf {
    match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dokku_client::transport::ssh::DEFAULT_CONNECT_TIMEOUT;

    fn host() -> HostConfig {
        HostConfig {
            address: "pix-app.ovh".into(),
            port: Some(2222),
            user: "dokku".into(),
            key: Some(PathBuf::from("~/.ssh/pix")),
            known_hosts: None,
            login: Login::Dokku,
            sudo: false,
            dokku_path: None,
            transport: None,
        }
    }

    #[test]
    fn flags_override_the_file_and_policy_is_strict_by_default() {
        let c = ssh_config(&host(), &ConnectOptions::default());
        assert_eq!(c.port, Some(2222));
        assert_eq!(c.host_key, HostKeyPolicy::Strict);
        assert!(!c.key.unwrap().starts_with("~"));
        let o = ConnectOptions {
            key: Some("/k".into()),
            known_hosts: Some("/kh".into()),
            accept_new_host_key: true,
            timeout: None,
            transport: None,
        };
        let c = ssh_config(&host(), &o);
        assert_eq!(c.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
        assert_eq!(c.key, Some(PathBuf::from("/k")));
        assert_eq!(c.known_hosts, Some(PathBuf::from("/kh")));
        assert_eq!(c.host_key, HostKeyPolicy::AcceptNew);
    }

    #[test]
    fn the_flag_wins_over_the_host_and_openssh_is_the_default() {
        let mut h = host();
        assert_eq!(ssh_kind(&h, &ConnectOptions::default()), SshKind::Openssh);
        h.transport = Some(SshKind::Native);
        assert_eq!(ssh_kind(&h, &ConnectOptions::default()), SshKind::Native);
        let o = ConnectOptions {
            transport: Some(SshKind::Openssh),
            ..ConnectOptions::default()
        };
        assert_eq!(ssh_kind(&h, &o), SshKind::Openssh);
        let parsed: HostConfig = toml::from_str("address = 'h'\ntransport = 'native'\n").unwrap();
        assert_eq!(parsed.transport, Some(SshKind::Native));
    }

    #[test]
    fn the_timeout_also_bounds_the_connection() {
        let o = ConnectOptions {
            timeout: Some(Duration::from_secs(3)),
            ..ConnectOptions::default()
        };
        assert_eq!(
            ssh_config(&host(), &o).connect_timeout,
            Duration::from_secs(3)
        );
    }

    #[test]
    fn shell_login_runs_dokku_with_sudo() {
        let mut h = host();
        h.login = Login::Shell;
        h.sudo = true;
        h.user = "ubuntu".into();
        let c = ssh_config(&h, &ConnectOptions::default());
        assert_eq!(
            c.login,
            LoginMode::ShellUser {
                sudo: true,
                dokku_path: "dokku".into()
            }
        );
        assert_eq!(c.user, "ubuntu");
    }
}
