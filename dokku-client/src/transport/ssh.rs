//! SSH transport over the `openssh` crate (native mux).
//!
//! One multiplexed master connection per [`SshTransport`], opened once and
//! shared by every command; at most [`SshConfig::max_sessions`] commands run
//! at once on it (sshd's default `MaxSessions` is 10).
//!
//! ## Host keys
//! Never a prompt (`BatchMode=yes`), never trust-on-first-use unless asked:
//! [`HostKeyPolicy::Strict`] (`StrictHostKeyChecking=yes`) is the default;
//! [`HostKeyPolicy::Pinned`] writes a private known_hosts file holding only the
//! pinned key (looked up through a private `HostKeyAlias`, so `~/.ssh/config`
//! host aliases and ports cannot change which entry is checked) and ignores
//! every other known_hosts file; [`HostKeyPolicy::AcceptNew`] records an
//! unknown host (`accept-new`) and still refuses a changed key.
//!
//! ## Options
//! Each connection writes a small ssh config file into its private control
//! directory (`/tmp/pix-XXXXXX`): the known_hosts settings first (first value
//! wins in ssh), then `Include ~/.ssh/config` (or [`SshConfig::config_file`])
//! and `/etc/ssh/ssh_config`, so the user's keys, ports and aliases are
//! honoured unless given here.
//!
//! ## Stopping remote commands
//! The ssh multiplexing protocol has no message to signal a remote process,
//! so when a command's future is dropped (the client's timeout) the transport
//! closes the command's channel: the mux client connection and every pipe are
//! closed, the master sends EOF on the remote stdin and `eow@openssh.com`, on
//! which sshd closes the remote stdout and stderr pipes. The remote command
//! therefore reads EOF on stdin and gets `SIGPIPE`/`EPIPE` on its next write.
//! A remote command that neither reads nor writes keeps running until it does
//! (sshd sends no signal to a session without a terminal); the master exits
//! when [`Transport::close`] is called (or the transport is dropped), which
//! closes the connection, and sshd then tears down its side.
//! Interactive commands ([`Request::tty`]) run under a terminal: closing it
//! sends `SIGHUP` to the remote process group.
//!
//! ## Private folders and a killed process
//! The control directory is created mode 0700 and removed on close and on
//! drop. It holds a `lock` file (`flock`ed for the connection's life, naming
//! the owner's pid) and `master.pid`. The master is started with
//! `ControlPersist` of [`MASTER_IDLE_EXIT`] (seconds) and, while the
//! connection is open, this process holds one idle mux connection to it, so
//! it never idles out under a live client; once the process is gone (even
//! `kill -9`) that connection closes and the master exits within
//! [`MASTER_IDLE_EXIT`] of its last channel closing. Each new connection
//! first sweeps the control parent: a `pix-*` directory of ours whose lock
//! nobody holds was left by a killed process; its master (if still there)
//! is terminated and the directory removed ([`sweep_stale_control_dirs`]).
//!
//! ## Reconnecting
//! Before each command the master is checked (a mux alive check, no network
//! round trip); if it died (the connection was cut, or it exited), a new
//! connection is opened before the command is sent. A command whose connection dies while it runs fails with
//! [`Error::Transport`]; it is never re-sent here (the client retries reads).

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use openssh::{ControlPersist, KnownHosts, Session, SessionBuilder, Stdio};
use tempfile::TempDir;
use tokio::sync::{Mutex, Semaphore};

use crate::command::{shell_line, ssh_line, Elevation};
use crate::error::{Error, Result};
use crate::output::Output;
use crate::transport::io::{drain_stderr, drain_stdout, feed_stdin, Limits};
use crate::transport::{Request, Stdin, Stdout, Transport};

/// A master without any client (no command, and no transport holding it:
/// its process was killed) this long exits by itself, so a process that dies
/// without closing leaves no `ssh` behind for more than a few seconds.
pub const MASTER_IDLE_EXIT: Duration = Duration::from_secs(3);

/// The prefix of private control directories in [`SshConfig::control_parent`].
pub const CONTROL_DIR_PREFIX: &str = "pix-";

/// The lock file of a control directory: `flock`ed while its connection is
/// open; holds `pid N` of the owning process.
pub const CONTROL_DIR_LOCK: &str = "lock";

/// Default number of commands in flight on one connection (below sshd's
/// default `MaxSessions 10`).
pub const DEFAULT_MAX_SESSIONS: usize = 8;

/// Default time allowed to open the connection (rounded up to whole seconds:
/// ssh's `ConnectTimeout` counts seconds).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Default interval of ssh keep-alive probes (`ServerAliveInterval`); three
/// unanswered probes end a dead connection.
pub const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(15);

/// How many times a refused session open (the server's `MaxSessions` slots
/// not yet freed) is asked again before it is an error.
const SESSION_OPEN_RETRIES: u32 = 100;

/// True when the server refused to open a session channel: nothing ran.
fn is_session_refused(e: &openssh::Error) -> bool {
    matches!(
        e,
        openssh::Error::SshMux(openssh_mux_client::Error::RequestFailure(msg))
            if msg.contains("open refused")
    )
}

/// The `HostKeyAlias` used with a pinned key.
const PINNED_ALIAS: &str = "dokku-client-pinned-host";

/// How the server's host key is checked. Never a prompt.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
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
#[non_exhaustive]
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
///
/// Build it with [`SshConfig::new`] and the setters (fields stay public for
/// reading and adjusting):
///
/// ```
/// use dokku_client::transport::{HostKeyPolicy, SshConfig};
/// let config = SshConfig::new("dokku.example.com")
///     .port(2222)
///     .key("/home/me/.ssh/id_ed25519")
///     .known_hosts("/home/me/.ssh/known_hosts")
///     .host_key(HostKeyPolicy::Strict);
/// assert_eq!(config.user, "dokku");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SshConfig {
    /// Host name, address, or `~/.ssh/config` alias.
    pub host: String,
    /// Port (None: from `~/.ssh/config`, else 22).
    pub port: Option<u16>,
    /// Login user (default `dokku`).
    pub user: String,
    /// Private key file (None: from `~/.ssh/config` / agent). When given, only
    /// this key is offered (`IdentitiesOnly=yes`).
    pub key: Option<PathBuf>,
    /// known_hosts file (None: the user's and the system's, as ssh reads them).
    /// When given, it is the only one consulted.
    pub known_hosts: Option<PathBuf>,
    /// Host key policy.
    pub host_key: HostKeyPolicy,
    /// Login mode.
    pub login: LoginMode,
    /// Commands in flight at once on the shared connection (default 8).
    pub max_sessions: usize,
    /// Time allowed to open the connection (rounded up to whole seconds).
    pub connect_timeout: Duration,
    /// Keep-alive probe interval (rounded up to whole seconds).
    pub keepalive: Duration,
    /// An ssh config file to read instead of `~/.ssh/config` and
    /// `/etc/ssh/ssh_config` (`/dev/null`: none).
    pub config_file: Option<PathBuf>,
    /// Memory bounds for captured stdout and stderr.
    pub limits: Limits,
    /// Directory in which the private control directory is created (default
    /// `TMPDIR` when it is short enough for a socket path, else `/tmp`).
    pub control_parent: PathBuf,
}

/// `TMPDIR` when set, absolute and short (a Unix socket path is limited to
/// about 100 bytes, and the socket sits two levels below), else `/tmp`.
pub fn default_control_parent() -> PathBuf {
    std::env::var_os("TMPDIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute() && p.as_os_str().len() <= 48 && p.is_dir())
        .unwrap_or_else(|| PathBuf::from("/tmp"))
}

impl SshConfig {
    /// Defaults for `dokku@host`: strict host keys, port and key from
    /// `~/.ssh/config`, 8 sessions.
    pub fn new(host: impl Into<String>) -> Self {
        SshConfig {
            host: host.into(),
            port: None,
            user: "dokku".into(),
            key: None,
            known_hosts: None,
            host_key: HostKeyPolicy::Strict,
            login: LoginMode::DokkuUser,
            max_sessions: DEFAULT_MAX_SESSIONS,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            keepalive: DEFAULT_KEEPALIVE,
            config_file: None,
            limits: Limits::default(),
            control_parent: default_control_parent(),
        }
    }

    /// Sets the port.
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Sets the login user.
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = user.into();
        self
    }

    /// Sets the private key file.
    pub fn key(mut self, key: impl Into<PathBuf>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets the known_hosts file.
    pub fn known_hosts(mut self, path: impl Into<PathBuf>) -> Self {
        self.known_hosts = Some(path.into());
        self
    }

    /// Sets the host key policy.
    pub fn host_key(mut self, policy: HostKeyPolicy) -> Self {
        self.host_key = policy;
        self
    }

    /// Sets the login mode.
    pub fn login(mut self, login: LoginMode) -> Self {
        self.login = login;
        self
    }

    /// Sets the number of commands in flight at once.
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.max_sessions = n;
        self
    }

    /// Sets the connect timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the ssh config file read instead of the user's and system's.
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config_file = Some(path.into());
        self
    }

    /// Sets the capture limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// `user@host:port` (or `user@host`) for messages.
    pub fn target(&self) -> String {
        match self.port {
            Some(p) => format!("{}@{}:{}", self.user, self.host, p),
            None => format!("{}@{}", self.user, self.host),
        }
    }

    /// `host` or `host:port`, for host-key messages.
    pub fn host_label(&self) -> String {
        match self.port {
            // `[::1]:2222`: an IPv6 address with a port needs its brackets.
            Some(p) if p != 22 && self.host.contains(':') => format!("[{}]:{}", self.host, p),
            Some(p) if p != 22 => format!("{}:{}", self.host, p),
            _ => self.host.clone(),
        }
    }

    /// Refuses values that ssh would read as options or that cannot be written
    /// into its config file.
    fn validate(&self) -> Result<()> {
        let bad_word = |w: &str| {
            w.is_empty()
                || w.starts_with('-')
                || w.chars().any(|c| c.is_whitespace() || c.is_control())
        };
        if bad_word(&self.host) {
            return Err(Error::Config(format!(
                "invalid SSH host {:?}: it must be non-empty, not start with `-` and contain no spaces",
                crate::command::escape_control(&self.host)
            )));
        }
        if bad_word(&self.user) || self.user.contains('@') {
            return Err(Error::Config(format!(
                "invalid SSH user {:?}: it must be non-empty, not start with `-` and contain no spaces or `@`",
                crate::command::escape_control(&self.user)
            )));
        }
        if self.max_sessions == 0 {
            return Err(Error::Config("max_sessions must be at least 1".into()));
        }
        for p in [&self.known_hosts, &self.config_file].into_iter().flatten() {
            config_path_value(p)?;
        }
        if let HostKeyPolicy::Pinned(key) = &self.host_key {
            pinned_key_line(key)?;
        }
        Ok(())
    }
}

/// Validates a configuration (shared with the native transport).
pub(crate) fn validate(config: &SshConfig) -> Result<()> {
    config.validate()
}

/// A path as an ssh config value (double-quoted).
fn config_path_value(path: &Path) -> Result<String> {
    let text = path
        .to_str()
        .ok_or_else(|| Error::Config(format!("the path {} is not valid UTF-8", path.display())))?;
    if text.contains('"') || text.chars().any(char::is_control) {
        return Err(Error::Config(format!(
            "the path {text:?} contains a quote or control character, which ssh's config cannot carry"
        )));
    }
    Ok(format!("\"{text}\""))
}

/// Validates a pinned key (`TYPE BASE64 [comment]`, or a known_hosts line
/// `HOST TYPE BASE64`) and returns `TYPE BASE64`.
pub fn pinned_key_line(key: &str) -> Result<String> {
    let words: Vec<&str> = key.split_whitespace().collect();
    let looks_like_type =
        |w: &str| w.starts_with("ssh-") || w.starts_with("ecdsa-") || w.starts_with("sk-");
    let start = words.iter().position(|w| looks_like_type(w));
    let (Some(i), false) = (start, key.contains('\n')) else {
        return Err(Error::Config(format!(
            "the pinned host key {:?} is not an OpenSSH public key line (`ssh-ed25519 AAAA...`)",
            crate::command::escape_control(key)
        )));
    };
    let blob = words.get(i + 1).copied().unwrap_or("");
    let b64 = !blob.is_empty()
        && blob
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '=');
    if !b64 {
        return Err(Error::Config(format!(
            "the pinned host key {:?} has no base64 key data after its type",
            crate::command::escape_control(key)
        )));
    }
    Ok(format!("{} {}", words[i], blob))
}

/// The ssh config written for one connection.
fn ssh_config_text(config: &SshConfig, pinned_file: Option<&Path>) -> Result<String> {
    let mut text =
        String::from("# Written by dokku-client for one connection; removed on close.\n");
    if let Some(file) = pinned_file {
        text.push_str(&format!("HostKeyAlias {PINNED_ALIAS}\n"));
        text.push_str(&format!(
            "UserKnownHostsFile {}\n",
            config_path_value(file)?
        ));
        text.push_str("GlobalKnownHostsFile /dev/null\n");
    } else if let Some(kh) = &config.known_hosts {
        text.push_str(&format!("UserKnownHostsFile {}\n", config_path_value(kh)?));
        text.push_str("GlobalKnownHostsFile /dev/null\n");
    }
    text.push_str("BatchMode yes\n");
    match &config.config_file {
        // `/dev/null` means "no config" (as with `ssh -F /dev/null`).
        Some(file) if file == Path::new("/dev/null") => {}
        Some(file) => text.push_str(&format!("Include {}\n", config_path_value(file)?)),
        None => {
            text.push_str("Include ~/.ssh/config\n");
            text.push_str("Include /etc/ssh/ssh_config\n");
        }
    }
    Ok(text)
}

/// Rounds up to whole seconds, at least one.
fn whole_seconds(d: Duration) -> Duration {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    Duration::from_secs(secs.max(1))
}

/// What a failed connection attempt means, from what ssh printed.
///
/// `fingerprint` is the key the server presents when it was found out
/// separately (`ssh-keyscan`); a fingerprint printed by ssh itself wins.
pub fn classify_ssh_failure(text: &str, config: &SshConfig, fingerprint: Option<String>) -> Error {
    // Host-key and authentication errors name the host (and port) the key
    // belongs to; the user is reported on its own.
    let host = config.host_label();
    let printed = printed_fingerprint(text);
    let pinned = matches!(config.host_key, HostKeyPolicy::Pinned(_));
    if text.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
        || (text.contains("Host key for") && text.contains("has changed"))
    {
        return Error::HostKeyMismatch {
            host,
            fingerprint: printed.or(fingerprint),
        };
    }
    if text.contains("host key is known for") || text.contains("Host key verification failed") {
        return if pinned {
            Error::HostKeyMismatch {
                host,
                fingerprint: printed.or(fingerprint),
            }
        } else {
            Error::HostKeyUnknown {
                host,
                fingerprint: printed.or(fingerprint),
            }
        };
    }
    if text.contains("Permission denied (") || text.contains("Too many authentication failures") {
        return Error::Authentication {
            host,
            user: config.user.clone(),
        };
    }
    if text.contains("timed out") {
        return Error::Transport {
            host: config.target(),
            message: format!(
                "the SSH connection was not set up within {}s ({}); check the address and port and that an SSH server answers there, or allow more time with --timeout SECONDS",
                whole_seconds(config.connect_timeout).as_secs(),
                summarize(text)
            ),
        };
    }
    Error::Transport {
        host: config.target(),
        message: summarize(text),
    }
}

/// True when the text says the host key could not be verified (so a
/// fingerprint is worth looking up).
fn is_host_key_failure(text: &str) -> bool {
    text.contains("Host key verification failed") || text.contains("host key is known for")
}

/// `SHA256:...` printed by ssh, if any.
fn printed_fingerprint(text: &str) -> Option<String> {
    let at = text.find("SHA256:")?;
    let fp: String = text[at..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    Some(fp.trim_end_matches('.').to_string())
}

/// ssh's messages without the `@@@` banner noise and blank lines, on one line.
fn summarize(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.trim_end_matches('\r').trim())
        .filter(|l| !l.is_empty() && !l.starts_with("@@@"))
        .collect();
    if lines.is_empty() {
        "ssh failed without a message".into()
    } else {
        crate::command::escape_control(&lines.join(" / "))
    }
}

/// One master connection and its private directory.
#[derive(Debug)]
struct Conn {
    session: Option<Session>,
    /// Private directory: ssh config, pinned known_hosts, openssh's control
    /// subdirectory. Removed on drop.
    dir: Option<TempDir>,
    ctl: PathBuf,
    config_file: PathBuf,
    master_pid: Option<u32>,
    dead: AtomicBool,
    /// An idle mux connection that keeps the master from idling out while
    /// this process lives (see the module docs).
    holder: std::sync::Mutex<Option<openssh_mux_client::Connection>>,
    /// The `flock`ed lock file of `dir`: a sweep knows the folder is in use.
    _lock: std::fs::File,
}

impl Conn {
    async fn open(config: SshConfig) -> Result<Conn> {
        sweep_stale_control_dirs(&config.control_parent).await;
        // Private: tempfile would leave the mode to the umask (often 0755).
        let dir = tempfile::Builder::new()
            .prefix(CONTROL_DIR_PREFIX)
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir_in(&config.control_parent)
            .map_err(|e| {
                Error::io(
                    format!(
                        "creating the SSH control directory in {}",
                        config.control_parent.display()
                    ),
                    e,
                )
            })?;
        let lock = lock_control_dir(dir.path())?;
        let pinned_file = match &config.host_key {
            HostKeyPolicy::Pinned(key) => {
                let file = dir.path().join("known_hosts");
                let line = format!("{PINNED_ALIAS} {}\n", pinned_key_line(key)?);
                std::fs::write(&file, line)
                    .map_err(|e| Error::io("writing the pinned known_hosts file", e))?;
                Some(file)
            }
            _ => None,
        };
        let config_file = dir.path().join("ssh_config");
        std::fs::write(
            &config_file,
            ssh_config_text(&config, pinned_file.as_deref())?,
        )
        .map_err(|e| Error::io("writing the private ssh config", e))?;

        let mut builder = SessionBuilder::default();
        builder
            .known_hosts_check(match config.host_key {
                HostKeyPolicy::AcceptNew => KnownHosts::Add,
                HostKeyPolicy::Strict | HostKeyPolicy::Pinned(_) => KnownHosts::Strict,
            })
            .control_directory(dir.path())
            .control_persist(ControlPersist::IdleFor(
                NonZeroUsize::new(MASTER_IDLE_EXIT.as_secs() as usize).unwrap_or(NonZeroUsize::MIN),
            ))
            .config_file(&config_file)
            .user(config.user.clone())
            .connect_timeout(whole_seconds(config.connect_timeout))
            .server_alive_interval(whole_seconds(config.keepalive));
        if let Some(port) = config.port {
            builder.port(port);
        }
        if let Some(key) = &config.key {
            builder.keyfile(key);
        }
        let session = match builder.connect_mux(&config.host).await {
            Ok(s) => s,
            Err(openssh::Error::Connect(e)) => {
                let text = e.to_string();
                let fingerprint =
                    if is_host_key_failure(&text) && printed_fingerprint(&text).is_none() {
                        presented_fingerprint(&config, &config_file, &text).await
                    } else {
                        None
                    };
                return Err(classify_ssh_failure(&text, &config, fingerprint));
            }
            Err(e) => {
                return Err(Error::Transport {
                    host: config.target(),
                    message: error_chain(&e),
                })
            }
        };
        let ctl = session.control_socket().to_path_buf();
        let (master_pid, holder) = match openssh_mux_client::Connection::connect(&ctl).await {
            Ok(mut c) => match c.send_alive_check().await {
                Ok(pid) => (Some(pid.get()), Some(c)),
                Err(_) => (None, None),
            },
            Err(_) => (None, None),
        };
        if let Some(pid) = master_pid {
            let _ = std::fs::write(dir.path().join("master.pid"), format!("{pid}\n"));
        }
        tracing::debug!(target = %config.target(), ctl = %ctl.display(), ?master_pid, "ssh master up");
        Ok(Conn {
            session: Some(session),
            dir: Some(dir),
            ctl,
            config_file,
            master_pid,
            dead: AtomicBool::new(false),
            holder: std::sync::Mutex::new(holder),
            _lock: lock,
        })
    }

    /// Lets go of the idle mux connection (the master may then exit).
    fn release_holder(&self) {
        let held = match self.holder.lock() {
            Ok(mut h) => h.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        drop(held);
    }

    fn session(&self) -> Result<&Session> {
        self.session
            .as_ref()
            .ok_or_else(|| Error::Config("the SSH connection was closed".into()))
    }

    async fn alive(&self) -> bool {
        if self.dead.load(Ordering::SeqCst) {
            return false;
        }
        let ok = match &self.session {
            Some(s) => s.check().await.is_ok(),
            None => false,
        };
        if !ok {
            self.dead.store(true, Ordering::SeqCst);
        }
        ok
    }

    /// Ends the master: stop listening (it exits when its channels close),
    /// then, if channels of timed-out commands keep it alive, terminate it.
    async fn shutdown(&self) {
        self.dead.store(true, Ordering::SeqCst);
        self.release_holder();
        if let Ok(mut c) = openssh_mux_client::Connection::connect(&self.ctl).await {
            let _ = c.request_stop_listening().await;
        }
        if let Some(pid) = self.master_pid {
            for signal in [
                None,
                Some(nix::sys::signal::Signal::SIGTERM),
                Some(nix::sys::signal::Signal::SIGKILL),
            ] {
                if let Some(sig) = signal {
                    signal_master(pid, &self.ctl, sig);
                }
                for _ in 0..50 {
                    if !master_alive(pid, &self.ctl) {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // openssh's Session drop asks the master to stop listening.
        self.release_holder();
        drop(self.session.take());
        if let Some(pid) = self.master_pid {
            signal_master(pid, &self.ctl, nix::sys::signal::Signal::SIGTERM);
        }
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
    }
}

/// Creates the `lock` file of a new control directory, locked and naming
/// this process. It is locked under a temporary name and then renamed, so a
/// concurrent sweep never sees an unlocked `lock` of a live folder.
fn lock_control_dir(dir: &Path) -> Result<std::fs::File> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let fresh = dir.join("lock.new");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&fresh)
        .map_err(|e| Error::io("creating the SSH control directory's lock", e))?;
    file.try_lock().map_err(|e| {
        Error::io(
            "locking the SSH control directory",
            std::io::Error::other(e),
        )
    })?;
    file.write_all(format!("pid {}\n", std::process::id()).as_bytes())
        .map_err(|e| Error::io("writing the SSH control directory's lock", e))?;
    std::fs::rename(&fresh, dir.join(CONTROL_DIR_LOCK))
        .map_err(|e| Error::io("naming the SSH control directory's lock", e))?;
    Ok(file)
}

/// Removes the control directories under `parent` left by killed processes:
/// `pix-*` folders owned by this user whose `lock` file nobody holds. A
/// master still running there is terminated first. Best effort: what cannot
/// be read or removed is left; folders without a lock file (another tool's,
/// or an older version's) are never touched. Returns the folders removed.
pub async fn sweep_stale_control_dirs(parent: &Path) -> Vec<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let uid = nix::unistd::geteuid().as_raw();
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        if !entry
            .file_name()
            .to_string_lossy()
            .starts_with(CONTROL_DIR_PREFIX)
        {
            continue;
        }
        let dir = entry.path();
        // Not followed: a symlink or another user's folder is not ours.
        let ours = std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir() && m.uid() == uid);
        let lock_path = dir.join(CONTROL_DIR_LOCK);
        let lock_is_file = std::fs::symlink_metadata(&lock_path).is_ok_and(|m| m.is_file());
        if !ours || !lock_is_file {
            continue;
        }
        let Ok(lock) = std::fs::File::open(&lock_path) else {
            continue;
        };
        if lock.try_lock().is_err() {
            continue; // a live connection
        }
        let master = std::fs::read_to_string(dir.join("master.pid"))
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok());
        if let Some(pid) = master {
            stop_stale_master(pid, &dir).await;
        }
        if std::fs::remove_dir_all(&dir).is_ok() {
            tracing::debug!(dir = %dir.display(), ?master, "removed a stale SSH control directory");
            removed.push(dir);
        }
        drop(lock);
    }
    removed
}

/// Terminates the master of a stale control directory (`SIGTERM`, then
/// `SIGKILL` after a second), if it is still that master.
async fn stop_stale_master(pid: u32, dir: &Path) {
    for signal in [
        nix::sys::signal::Signal::SIGTERM,
        nix::sys::signal::Signal::SIGKILL,
    ] {
        signal_master(pid, dir, signal);
        for _ in 0..50 {
            if !master_alive(pid, dir) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// True while the process `pid` is our master (its command line names our
/// control socket); a zombie or a reused pid is not.
fn master_alive(pid: u32, ctl: &Path) -> bool {
    let proc_file = PathBuf::from(format!("/proc/{pid}/cmdline"));
    match std::fs::read(&proc_file) {
        Ok(cmdline) => {
            let needle = ctl.as_os_str().as_encoded_bytes();
            !needle.is_empty() && cmdline.windows(needle.len()).any(|w| w == needle)
        }
        Err(_) if Path::new("/proc/self").exists() => false,
        // No /proc (not Linux): fall back to "does the pid exist".
        Err(_) => i32::try_from(pid)
            .map(|p| nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), None).is_ok())
            .unwrap_or(false),
    }
}

fn signal_master(pid: u32, ctl: &Path, signal: nix::sys::signal::Signal) {
    if master_alive(pid, ctl) {
        if let Ok(p) = i32::try_from(pid) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), signal);
        }
    }
}

/// An openssh error with its sources, on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The fingerprint of the host key the server presents, found with
/// `ssh-keyscan` and `ssh-keygen -lf -` (best effort, bounded in time).
async fn presented_fingerprint(
    config: &SshConfig,
    config_file: &Path,
    ssh_text: &str,
) -> Option<String> {
    let (host, port) = resolve_endpoint(config, config_file).await?;
    // ssh names the key type it wanted: `No ED25519 host key is known`.
    let wanted = ssh_text
        .split("No ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_ascii_uppercase);
    let scan = tokio::time::timeout(
        Duration::from_secs(8),
        tokio::process::Command::new("ssh-keyscan")
            .args(["-T", "5", "-p", &port.to_string(), "--", &host])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .ok()?
    .ok()?;
    let mut keygen = tokio::process::Command::new("ssh-keygen")
        .args(["-l", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let mut stdin = keygen.stdin.take()?;
    use tokio::io::AsyncWriteExt;
    let _ = stdin.write_all(&scan.stdout).await;
    drop(stdin);
    let out = tokio::time::timeout(Duration::from_secs(5), keygen.wait_with_output())
        .await
        .ok()?
        .ok()?;
    pick_fingerprint(&String::from_utf8_lossy(&out.stdout), wanted.as_deref())
}

/// From `ssh-keygen -l` lines (`256 SHA256:xx host (ED25519)`), the
/// fingerprint of the wanted key type, else the first.
fn pick_fingerprint(listing: &str, wanted: Option<&str>) -> Option<String> {
    let entries: Vec<(String, String)> = listing
        .lines()
        .filter_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let fp = words.get(1)?;
            let kind = words.last()?.trim_matches(|c| c == '(' || c == ')');
            fp.starts_with("SHA256:")
                .then(|| (fp.to_string(), kind.to_ascii_uppercase()))
        })
        .collect();
    wanted
        .and_then(|w| entries.iter().find(|(_, k)| k == w))
        .or_else(|| entries.first())
        .map(|(fp, kind)| format!("{fp} ({kind})"))
}

/// The real host name and port after `~/.ssh/config` (`ssh -G`).
async fn resolve_endpoint(config: &SshConfig, config_file: &Path) -> Option<(String, u16)> {
    let mut cmd = tokio::process::Command::new("ssh");
    cmd.arg("-G").arg("-F").arg(config_file);
    if let Some(p) = config.port {
        cmd.arg("-p").arg(p.to_string());
    }
    cmd.arg("--").arg(&config.host);
    let out = tokio::time::timeout(
        Duration::from_secs(5),
        cmd.stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .ok()?
    .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut host = None;
    let mut port = None;
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("hostname ") {
            host = Some(h.trim().to_string());
        } else if let Some(p) = line.strip_prefix("port ") {
            port = p.trim().parse().ok();
        }
    }
    Some((host?, port.unwrap_or(22)))
}

/// The SSH transport: one shared multiplexed connection, commands capped by a
/// semaphore.
#[derive(Debug)]
pub struct SshTransport {
    config: SshConfig,
    state: Arc<Mutex<Option<Arc<Conn>>>>,
    permits: Arc<Semaphore>,
    closed: Arc<AtomicBool>,
}

impl SshTransport {
    /// Connects (and classifies a failure: [`Error::HostKeyUnknown`],
    /// [`Error::HostKeyMismatch`], [`Error::Authentication`],
    /// [`Error::Transport`]).
    pub async fn connect(config: SshConfig) -> Result<Self> {
        let transport = SshTransport::lazy(config)?;
        transport.connection().await?;
        Ok(transport)
    }

    /// A transport that connects on its first command.
    pub fn lazy(config: SshConfig) -> Result<Self> {
        config.validate()?;
        Ok(SshTransport {
            permits: Arc::new(Semaphore::new(config.max_sessions)),
            config,
            state: Arc::new(Mutex::new(None)),
            closed: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SshConfig {
        &self.config
    }

    /// The control socket of the current master connection, if one is open
    /// (for diagnostics and leak checks).
    pub async fn control_socket(&self) -> Option<PathBuf> {
        self.state.lock().await.as_ref().map(|c| c.ctl.clone())
    }

    /// The pid of the current master `ssh` process, if known.
    pub async fn master_pid(&self) -> Option<u32> {
        self.state.lock().await.as_ref().and_then(|c| c.master_pid)
    }

    /// The current connection, reconnecting if the master is gone.
    ///
    /// The (re)connection runs in its own task: if the caller is cancelled
    /// (timeout), the attempt still finishes and its result is kept or cleaned
    /// up, so no half-started `ssh` is left behind.
    async fn connection(&self) -> Result<Arc<Conn>> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(self.closed_error());
        }
        let current = self.state.lock().await.clone();
        if let Some(conn) = current {
            if conn.alive().await {
                return Ok(conn);
            }
            tracing::debug!(target = %self.config.target(), "ssh master gone; reconnecting");
        }
        let state = self.state.clone();
        let config = self.config.clone();
        let closed = self.closed.clone();
        let task = tokio::spawn(async move {
            let mut slot = state.lock().await;
            if closed.load(Ordering::SeqCst) {
                return Err(Error::Config("the SSH transport was closed".into()));
            }
            if let Some(conn) = slot.as_ref() {
                if !conn.dead.load(Ordering::SeqCst) {
                    return Ok(conn.clone());
                }
            }
            let conn = Arc::new(Conn::open(config).await?);
            if let Some(old) = slot.replace(conn.clone()) {
                old.shutdown().await;
            }
            Ok(conn)
        });
        task.await.map_err(|e| Error::Transport {
            host: self.config.target(),
            message: format!("the connection task failed: {e}"),
        })?
    }

    fn closed_error(&self) -> Error {
        Error::Config(format!(
            "the SSH transport to {} was closed; create a new client",
            self.config.target()
        ))
    }

    fn line(&self, request: &Request) -> Result<String> {
        match &self.config.login {
            LoginMode::DokkuUser => ssh_line(&request.command, request.version.as_ref()),
            LoginMode::ShellUser { sudo, dokku_path } => {
                shell_line(&request.command, dokku_path, Elevation::when_sudo(*sudo))
            }
        }
    }

    fn transport_error(&self, what: &str, e: &openssh::Error) -> Error {
        Error::Transport {
            host: self.config.target(),
            message: format!("{what}: {}", error_chain(e)),
        }
    }

    async fn run_piped(&self, conn: &Conn, line: &str, request: Request) -> Result<Output> {
        let shown = request.command.display();
        let session = conn.session()?;
        let mut cmd = session.raw_command(line);
        cmd.stdin(match request.stdin {
            Stdin::Null => Stdio::null(),
            Stdin::Inherit => Stdio::inherit(),
            Stdin::Bytes(_) | Stdin::Reader(_) => Stdio::piped(),
        });
        cmd.stdout(match request.stdout {
            Stdout::Inherit => Stdio::inherit(),
            Stdout::Capture | Stdout::Writer(_) => Stdio::piped(),
        });
        cmd.stderr(Stdio::piped());
        // sshd frees a session slot only after the channel's close handshake,
        // which can trail the exit status we wait for: a refused session open
        // means nothing was started, so it is safe to wait and ask again.
        let mut refusals = 0u32;
        let mut child = loop {
            match cmd.spawn().await {
                Ok(child) => break child,
                Err(e) if is_session_refused(&e) && refusals < SESSION_OPEN_RETRIES => {
                    refusals += 1;
                    tokio::time::sleep(Duration::from_millis(10 * u64::from(refusals.min(10))))
                        .await;
                }
                Err(e) => {
                    return Err(
                        self.transport_error("could not start the command on the connection", &e)
                    )
                }
            }
        };
        let stdin = child.stdin().take();
        let stdout = child.stdout().take();
        let stderr = child.stderr().take();
        let limits = self.config.limits;
        let (_, out, err) = tokio::try_join!(
            feed_stdin(request.stdin, stdin),
            drain_stdout(request.stdout, stdout, limits.stdout, &shown),
            drain_stderr(stderr, limits.stderr),
        )?;
        let exit_code = match child.wait().await {
            Ok(status) => status.code().unwrap_or(-1),
            // openssh reports exit 127 as "command not found": keep it as
            // the exit code, the client classifies it (not a Dokku user).
            Err(openssh::Error::Remote(e)) if e.kind() == std::io::ErrorKind::NotFound => 127,
            Err(e) => {
                conn.alive().await;
                return Err(self.transport_error(
                    &format!("the connection ended before `{shown}` finished (no exit status)"),
                    &e,
                ));
            }
        };
        Ok(Output {
            exit_code,
            stdout: out,
            stderr: err,
        })
    }

    /// Interactive mode: the system `ssh -t` through the same master (or, if
    /// it is gone, with the same strict options), inheriting the terminal.
    async fn run_tty(&self, conn: &Conn, line: &str) -> Result<Output> {
        let log = conn
            .dir
            .as_ref()
            .map(|d| d.path().join("tty.log"))
            .ok_or_else(|| self.closed_error())?;
        let _ = std::fs::remove_file(&log);
        let mut cmd = tokio::process::Command::new("ssh");
        cmd.arg("-F")
            .arg(&conn.config_file)
            .arg("-S")
            .arg(&conn.ctl)
            .args(["-o", "ControlMaster=no", "-o", "BatchMode=yes"])
            .arg("-o")
            .arg(match self.config.host_key {
                HostKeyPolicy::AcceptNew => "StrictHostKeyChecking=accept-new",
                _ => "StrictHostKeyChecking=yes",
            })
            .arg("-E")
            .arg(&log)
            .arg("-l")
            .arg(&self.config.user);
        if let Some(p) = self.config.port {
            cmd.arg("-p").arg(p.to_string());
        }
        if let Some(key) = &self.config.key {
            cmd.args(["-o", "IdentitiesOnly=yes", "-i"]).arg(key);
        }
        // ERROR, not INFO: the mux client's `Shared connection to HOST
        // closed.` line is noise at every exit; errors still reach the log.
        cmd.args(["-o", "LogLevel=ERROR"]);
        cmd.arg("-t").arg("--").arg(&self.config.host).arg(line);
        cmd.kill_on_drop(true);
        let status = cmd
            .status()
            .await
            .map_err(|e| Error::io("starting the system `ssh` for an interactive command", e))?;
        let code = status.code().unwrap_or(-1);
        if code == 255 {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.trim().is_empty() {
                // The session was set up (a failure to connect or log in
                // always says why) and then ended with no exit status.
                return Err(Error::Transport {
                    host: self.config.target(),
                    message: "the interactive session ended without an exit status (ssh exited 255 and printed nothing): the connection dropped or the remote command was killed".into(),
                });
            }
            return Err(classify_ssh_failure(&text, &self.config, None));
        }
        Ok(Output {
            exit_code: code,
            stdout: Vec::new(),
            stderr: Vec::new(),
        })
    }
}

#[async_trait::async_trait]
impl Transport for SshTransport {
    async fn execute(&self, request: Request) -> Result<Output> {
        let line = self.line(&request)?;
        let _permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| self.closed_error())?;
        let conn = self.connection().await?;
        if request.tty {
            self.run_tty(&conn, &line).await
        } else {
            self.run_piped(&conn, &line, request).await
        }
    }

    fn target(&self) -> String {
        self.config.target()
    }

    async fn close(&self) -> Result<()> {
        self.closed.store(true, Ordering::SeqCst);
        let conn = self.state.lock().await.take();
        if let Some(conn) = conn {
            conn.shutdown().await;
            if let Some(dir) = &conn.dir {
                let _ = std::fs::remove_dir_all(dir.path());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_labels_bracket_ipv6_with_a_port() {
        assert_eq!(SshConfig::new("::1").port(2222).host_label(), "[::1]:2222");
        assert_eq!(SshConfig::new("h").port(2222).host_label(), "h:2222");
        assert_eq!(SshConfig::new("h").port(22).host_label(), "h");
    }

    fn cfg() -> SshConfig {
        SshConfig::new("127.0.0.1").port(2222)
    }

    #[test]
    fn classifies_ssh_messages() {
        let c = cfg();
        let unknown = "No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\r\nHost key verification failed.\r\n";
        assert_eq!(
            classify_ssh_failure(unknown, &c, None).kind(),
            "host_key_unknown"
        );
        let pinned = cfg().host_key(HostKeyPolicy::Pinned("ssh-ed25519 AAAAC3Nz".into()));
        assert_eq!(
            classify_ssh_failure(unknown, &pinned, None).kind(),
            "host_key_mismatch"
        );
        let changed = "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\r\n@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r\nIT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\r\nThe fingerprint for the ED25519 key sent by the remote host is\nSHA256:abcDEF123.\r\nHost key verification failed.\r\n";
        match classify_ssh_failure(changed, &c, None) {
            Error::HostKeyMismatch { fingerprint, host } => {
                assert_eq!(fingerprint.as_deref(), Some("SHA256:abcDEF123"));
                assert_eq!(host, "127.0.0.1:2222");
            }
            other => panic!("{other:?}"),
        }
        let denied = "dokku@127.0.0.1: Permission denied (publickey).\r\n";
        assert_eq!(
            classify_ssh_failure(denied, &c, None).kind(),
            "authentication"
        );
        let silent = "Connection timed out during banner exchange\r\nConnection to 127.0.0.1 port 2222 timed out\r\n";
        match classify_ssh_failure(
            silent,
            &c.clone().connect_timeout(Duration::from_secs(2)),
            None,
        ) {
            Error::Transport { message, .. } => {
                assert!(message.contains("not set up within 2s"), "{message}");
                assert!(message.contains("banner exchange"), "{message}");
                assert!(message.contains("--timeout"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let refused = "ssh: connect to host 127.0.0.1 port 2222: Connection refused\r\n";
        match classify_ssh_failure(refused, &c, None) {
            Error::Transport { message, .. } => assert!(message.contains("Connection refused")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn picks_the_fingerprint_of_the_wanted_type() {
        let listing =
            "3072 SHA256:rsa [127.0.0.1]:2222 (RSA)\n256 SHA256:ed [127.0.0.1]:2222 (ED25519)\n";
        assert_eq!(
            pick_fingerprint(listing, Some("ED25519")).as_deref(),
            Some("SHA256:ed (ED25519)")
        );
        assert_eq!(
            pick_fingerprint(listing, None).as_deref(),
            Some("SHA256:rsa (RSA)")
        );
        assert_eq!(pick_fingerprint("garbage\n", None), None);
    }

    #[test]
    fn validates_pinned_keys_and_hosts() {
        assert_eq!(
            pinned_key_line("ssh-ed25519 AAAAC3Nza+/= me@host").unwrap(),
            "ssh-ed25519 AAAAC3Nza+/="
        );
        assert_eq!(
            pinned_key_line("[h]:22 ecdsa-sha2-nistp256 AAAAE2").unwrap(),
            "ecdsa-sha2-nistp256 AAAAE2"
        );
        assert!(pinned_key_line("not a key").is_err());
        assert!(pinned_key_line("ssh-ed25519").is_err());
        assert!(pinned_key_line("ssh-ed25519 AAAA\nevil").is_err());
        assert!(SshConfig::new("-oProxyCommand=x").validate().is_err());
        assert!(SshConfig::new("host name").validate().is_err());
        assert!(SshConfig::new("h").user("-l").validate().is_err());
        assert!(SshConfig::new("h").max_sessions(0).validate().is_err());
        assert!(SshConfig::new("h").known_hosts("/a\"b").validate().is_err());
        assert!(SshConfig::new("h").validate().is_ok());
    }

    #[test]
    fn config_text_puts_our_settings_first() {
        let c = cfg().known_hosts("/k h/known_hosts");
        let text = ssh_config_text(&c, None).unwrap();
        let kh = text
            .find("UserKnownHostsFile \"/k h/known_hosts\"")
            .unwrap();
        let inc = text.find("Include ~/.ssh/config").unwrap();
        assert!(kh < inc);
        assert!(text.contains("GlobalKnownHostsFile /dev/null"));
        let c = cfg().host_key(HostKeyPolicy::Pinned("ssh-ed25519 AAAA".into()));
        let text = ssh_config_text(&c, Some(Path::new("/tmp/pix-x/known_hosts"))).unwrap();
        assert!(text.contains(&format!("HostKeyAlias {PINNED_ALIAS}")));
        assert!(text.contains("UserKnownHostsFile \"/tmp/pix-x/known_hosts\""));
        let c = cfg().config_file("/etc/my_ssh_config");
        let text = ssh_config_text(&c, None).unwrap();
        assert!(text.contains("Include \"/etc/my_ssh_config\""));
        assert!(!text.contains("~/.ssh/config"));
    }

    #[test]
    fn rounds_timeouts_up_to_whole_seconds() {
        assert_eq!(
            whole_seconds(Duration::from_millis(1500)),
            Duration::from_secs(2)
        );
        assert_eq!(
            whole_seconds(Duration::from_millis(0)),
            Duration::from_secs(1)
        );
        assert_eq!(
            whole_seconds(Duration::from_secs(3)),
            Duration::from_secs(3)
        );
    }
}
