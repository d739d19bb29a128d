//! SSH transport that owns its connection in-process (the `russh` crate).
//!
//! Where [`SshTransport`](crate::transport::SshTransport) goes through the OpenSSH multiplexer (a command
//! opens a session channel and waits for its confirmation, then sends `exec`:
//! two round trips), [`NativeTransport`] keeps **a spare session channel
//! open ahead of need**: a command takes it, sends `exec` (and EOF, or its
//! stdin) at once, and the server's answer is the only round trip. A new spare
//! is opened in the background while the command runs. One spare at first;
//! once commands have run side by side (joined reads), as many as the most
//! that ran at once, up to half of [`SshConfig::max_sessions`], so a stage of
//! joined reads costs one round trip too.
//!
//! ## What holds as for the OpenSSH transport
//! - **Host keys are strict**: the same known_hosts files (the configured one
//!   only, else `UserKnownHostsFile`/`GlobalKnownHostsFile` as `ssh -G`
//!   resolves them), plain, wildcard and hashed (`|1|`) entries,
//!   `@revoked` honoured; an unknown key is [`Error::HostKeyUnknown`], a
//!   changed one [`Error::HostKeyMismatch`], both with the presented
//!   fingerprint; [`HostKeyPolicy::Pinned`] and [`HostKeyPolicy::AcceptNew`]
//!   as there. Never a prompt.
//! - **Keys**: the configured key only (as `IdentitiesOnly=yes`), else the
//!   agent (`SSH_AUTH_SOCK` / `IdentityAgent`) and the `IdentityFile`s of
//!   `ssh -G`; ed25519, ECDSA and RSA (SHA-2 signatures). An encrypted key
//!   cannot be unlocked here (no prompt): a clear [`Error::Config`] says to
//!   load it into the agent, unless the agent holds it.
//! - **At most [`SshConfig::max_sessions`] channels open at once, the spares
//!   included** (each open channel holds a permit).
//! - **Timeouts end the remote command**: a dropped command future sends
//!   `signal TERM`, EOF and closes the channel (sshd then closes the remote
//!   pipes, as with the OpenSSH transport).
//! - stdout/stderr apart, binary-safe, capped by [`Limits`] like the other
//!   transports; [`Stdin::Reader`]/[`Stdout::Writer`] streamed in constant
//!   memory (the channel's flow-control window and bounded queue).
//! - The line sent is [`ssh_line`]'s (or [`shell_line`]'s), the same bytes.
//!
//! ## What it does not do
//! `ProxyJump`, `ProxyCommand`, security keys (`sk-` types) and PKCS#11:
//! [`native_unsupported`] says so, and the caller uses the OpenSSH transport.
//!
//! ## Terminals
//! [`Request::tty`] (interactive `run`, `postgres:connect`) is served here
//! too: `pty-req` (`$TERM`, the window size, the local modes) pipelined with
//! `exec` on the spare channel, the local terminal in raw mode until the
//! session ends (restored on every way out), `SIGWINCH` forwarded as
//! `window-change`, the remote exit status returned. Stdin is read by a
//! thread that is stopped when the command ends (`terminal.rs`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use russh::client::{self, Handle, Msg};
use russh::keys::{Algorithm, HashAlg, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use russh::{Channel, ChannelMsg, ChannelWriteHalf, Sig};
use tokio::io::AsyncWriteExt;
use tokio::sync::{Mutex, Notify, OwnedSemaphorePermit, Semaphore};

use crate::command::{shell_line, ssh_line, Elevation};
use crate::error::{Error, Result};
use crate::output::Output;
use crate::transport::io::{feed_stdin, Limits, STDERR_TRUNCATED_MARKER};
use crate::transport::ssh::{classify_ssh_failure, pinned_key_line};
use crate::transport::terminal;
use crate::transport::{HostKeyPolicy, LoginMode, Request, SshConfig, Stdin, Stdout, Transport};

/// How many times a refused channel open (the server's `MaxSessions` slots
/// not yet freed) is asked again.
const OPEN_RETRIES: u32 = 100;

/// What `ssh -G` says about a host (only what this transport uses).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Resolved {
    /// The address to connect to (`HostName`).
    pub hostname: String,
    /// The port.
    pub port: u16,
    /// `IdentityFile`s (tilde expanded).
    pub identity_files: Vec<PathBuf>,
    /// `IdentitiesOnly`.
    pub identities_only: bool,
    /// `UserKnownHostsFile` then `GlobalKnownHostsFile`.
    pub known_hosts: Vec<PathBuf>,
    /// `HostKeyAlias`.
    pub host_key_alias: Option<String>,
    /// `IdentityAgent` (None: `SSH_AUTH_SOCK`).
    pub identity_agent: Option<String>,
    /// `ProxyJump` / `ProxyCommand` / `PKCS11Provider` when set.
    pub unsupported: Vec<String>,
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

fn expand(word: &str) -> PathBuf {
    match (word.strip_prefix("~/"), home()) {
        (Some(rest), Some(h)) => h.join(rest),
        _ => PathBuf::from(word),
    }
}

/// Parses `ssh -G` output.
pub fn parse_ssh_g(text: &str, default_host: &str, default_port: u16) -> Resolved {
    let mut r = Resolved {
        hostname: default_host.to_string(),
        port: default_port,
        ..Resolved::default()
    };
    let mut user_kh = Vec::new();
    let mut global_kh = Vec::new();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(' ') else {
            continue;
        };
        let value = value.trim();
        match key {
            "hostname" => r.hostname = value.to_string(),
            "port" => r.port = value.parse().unwrap_or(default_port),
            "identityfile" => r.identity_files.push(expand(value)),
            "identitiesonly" => r.identities_only = value == "yes",
            "userknownhostsfile" => user_kh = value.split_whitespace().map(expand).collect(),
            "globalknownhostsfile" => global_kh = value.split_whitespace().map(expand).collect(),
            "hostkeyalias" if value != "none" => r.host_key_alias = Some(value.to_string()),
            "identityagent" if value != "none" && value != "SSH_AUTH_SOCK" => {
                r.identity_agent = Some(expand(value).to_string_lossy().into_owned())
            }
            "proxyjump" | "proxycommand" | "pkcs11provider" if value != "none" => {
                r.unsupported.push(format!("{key} {value}"))
            }
            _ => {}
        }
    }
    r.known_hosts = user_kh.into_iter().chain(global_kh).collect();
    r
}

/// Runs `ssh -G` for `config` (no network): the user's config as ssh reads it.
/// Without a usable `ssh`, OpenSSH's defaults.
pub fn resolve(config: &SshConfig) -> Resolved {
    let mut cmd = std::process::Command::new("ssh");
    cmd.arg("-G");
    if let Some(file) = &config.config_file {
        cmd.arg("-F").arg(file);
    }
    if let Some(p) = config.port {
        cmd.arg("-p").arg(p.to_string());
    }
    cmd.arg("-l").arg(&config.user).arg("--").arg(&config.host);
    let out = cmd
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output();
    let mut r = match out {
        Ok(o) if o.status.success() => parse_ssh_g(
            &String::from_utf8_lossy(&o.stdout),
            &config.host,
            config.port.unwrap_or(22),
        ),
        _ => {
            let ssh = home().unwrap_or_default().join(".ssh");
            Resolved {
                hostname: config.host.clone(),
                port: config.port.unwrap_or(22),
                identity_files: ["id_ed25519", "id_ecdsa", "id_rsa"]
                    .iter()
                    .map(|n| ssh.join(n))
                    .collect(),
                known_hosts: vec![
                    ssh.join("known_hosts"),
                    PathBuf::from("/etc/ssh/ssh_known_hosts"),
                ],
                ..Resolved::default()
            }
        }
    };
    if let Some(p) = config.port {
        r.port = p;
    }
    r
}

/// True when a key file (or its `.pub`) is a security-key type (`sk-...`).
fn is_security_key(path: &Path) -> bool {
    let public = {
        let mut p = path.as_os_str().to_owned();
        p.push(".pub");
        PathBuf::from(p)
    };
    if let Ok(text) = std::fs::read_to_string(&public) {
        return text.trim_start().starts_with("sk-");
    }
    matches!(
        russh::keys::load_secret_key(path, None).map(|k| k.algorithm()),
        Ok(Algorithm::SkEd25519 | Algorithm::SkEcdsaSha2NistP256)
    )
}

/// Why the native transport cannot serve `config` as OpenSSH would (a
/// `ProxyJump`/`ProxyCommand`/PKCS#11 in `~/.ssh/config`, a security key),
/// or `None`. The caller then uses [`SshTransport`](crate::transport::SshTransport) (never a weaker login).
pub fn native_unsupported(config: &SshConfig) -> Option<String> {
    let r = resolve(config);
    if let Some(what) = r.unsupported.first() {
        return Some(format!("the ssh config sets `{what}`"));
    }
    let keys: Vec<PathBuf> = match &config.key {
        Some(k) => vec![k.clone()],
        None => r.identity_files.clone(),
    };
    keys.iter()
        .find(|k| k.exists() && is_security_key(k))
        .map(|k| format!("the key {} is a security key (sk-)", k.display()))
}

/// What a known_hosts lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Known {
    /// The presented key is recorded.
    Match,
    /// A key of the same type is recorded for the host, not this one (or
    /// this one is `@revoked`).
    Changed,
    /// Nothing (of that type) for the host.
    Unknown,
}

/// `host` or `[host]:port`, as known_hosts names it.
fn host_port(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// OpenSSH's `*`/`?` patterns.
fn wildcard(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            wildcard(&pattern[1..], text) || (!text.is_empty() && wildcard(pattern, &text[1..]))
        }
        (Some(b'?'), Some(_)) => wildcard(&pattern[1..], &text[1..]),
        (Some(p), Some(t)) if p.eq_ignore_ascii_case(t) => wildcard(&pattern[1..], &text[1..]),
        _ => false,
    }
}

fn hashed_match(entry: &str, name: &str) -> bool {
    use base64::Engine;
    use hmac::{KeyInit, Mac};
    let mut parts = entry.split('|').skip(2);
    let engine = base64::engine::general_purpose::STANDARD;
    let (Some(Ok(salt)), Some(Ok(hash))) = (
        parts.next().map(|p| engine.decode(p)),
        parts.next().map(|p| engine.decode(p)),
    ) else {
        return false;
    };
    let Ok(mac) = <hmac::Hmac<sha1::Sha1> as KeyInit>::new_from_slice(&salt) else {
        return false;
    };
    mac.chain_update(name.as_bytes())
        .verify_slice(&hash)
        .is_ok()
}

/// True when a known_hosts host list names `name` (negations win).
fn hosts_match(list: &str, name: &str) -> bool {
    let mut matched = false;
    for entry in list.split(',') {
        if let Some(neg) = entry.strip_prefix('!') {
            if wildcard(neg.as_bytes(), name.as_bytes()) {
                return false;
            }
        } else if entry.starts_with("|1|") {
            matched |= hashed_match(entry, name);
        } else {
            matched |= wildcard(entry.as_bytes(), name.as_bytes());
        }
    }
    matched
}

fn same_family(a: &Algorithm, b: &Algorithm) -> bool {
    match (a, b) {
        (Algorithm::Rsa { .. }, Algorithm::Rsa { .. }) => true,
        _ => a == b,
    }
}

/// The keys recorded for `name` in `files` (revoked ones flagged).
fn recorded_keys(files: &[PathBuf], name: &str) -> Vec<(PublicKey, bool)> {
    let mut keys = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut words = line.split_whitespace();
            let mut first = words.next().unwrap_or("");
            let mut revoked = false;
            if first.starts_with('@') {
                if first != "@revoked" {
                    continue; // @cert-authority: not used here
                }
                revoked = true;
                first = words.next().unwrap_or("");
            }
            let (_kind, Some(blob)) = (words.next(), words.next()) else {
                continue;
            };
            if !hosts_match(first, name) {
                continue;
            }
            if let Ok(key) = russh::keys::parse_public_key_base64(blob) {
                keys.push((key, revoked));
            }
        }
    }
    keys
}

fn lookup(files: &[PathBuf], name: &str, key: &PublicKey) -> Known {
    let recorded = recorded_keys(files, name);
    if recorded
        .iter()
        .any(|(k, revoked)| *revoked && k.key_data() == key.key_data())
    {
        return Known::Changed;
    }
    if recorded
        .iter()
        .any(|(k, revoked)| !revoked && k.key_data() == key.key_data())
    {
        return Known::Match;
    }
    if recorded
        .iter()
        .any(|(k, revoked)| !revoked && same_family(&k.algorithm(), &key.algorithm()))
    {
        return Known::Changed;
    }
    Known::Unknown
}

/// `SHA256:... (ED25519)`, as the OpenSSH transport reports it.
fn fingerprint(key: &PublicKey) -> String {
    let kind = match key.algorithm() {
        Algorithm::Ed25519 => "ED25519".to_string(),
        Algorithm::Ecdsa { .. } => "ECDSA".to_string(),
        Algorithm::Rsa { .. } => "RSA".to_string(),
        other => other.as_str().to_ascii_uppercase(),
    };
    format!("{} ({kind})", key.fingerprint(HashAlg::Sha256))
}

/// The host-key check, run by russh during the key exchange.
struct Checker {
    policy: HostKeyPolicy,
    /// `host` or `[host]:port` (or the `HostKeyAlias`).
    name: String,
    files: Vec<PathBuf>,
    label: String,
    verdict: Arc<std::sync::Mutex<Option<Error>>>,
}

impl Checker {
    fn judge(&self, key: &PublicKey) -> std::result::Result<(), Error> {
        let fp = Some(fingerprint(key));
        let mismatch = || Error::HostKeyMismatch {
            host: self.label.clone(),
            fingerprint: fp.clone(),
        };
        if let HostKeyPolicy::Pinned(pinned) = &self.policy {
            let line = pinned_key_line(pinned)?;
            let blob = line.split_whitespace().nth(1).unwrap_or("");
            return match russh::keys::parse_public_key_base64(blob) {
                Ok(k) if k.key_data() == key.key_data() => Ok(()),
                _ => Err(mismatch()),
            };
        }
        match lookup(&self.files, &self.name, key) {
            Known::Match => Ok(()),
            Known::Changed => Err(mismatch()),
            Known::Unknown if self.policy == HostKeyPolicy::AcceptNew => {
                let file = self.files.first().ok_or_else(|| {
                    Error::Config("no known_hosts file to record the new host key in".into())
                })?;
                let entry = key
                    .to_openssh()
                    .map_err(|e| Error::Config(format!("encoding the host key: {e}")))?;
                let entry: String = entry
                    .split_whitespace()
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" ");
                use std::io::Write;
                use std::os::unix::fs::OpenOptionsExt;
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .create(true)
                    .mode(0o600)
                    .open(file)
                    .map_err(|e| Error::io("recording the new host key", e))?;
                writeln!(f, "{} {entry}", self.name)
                    .map_err(|e| Error::io("recording the new host key", e))?;
                tracing::info!(host = %self.label, fingerprint = %fingerprint(key), file = %file.display(), "recorded a new host key");
                Ok(())
            }
            Known::Unknown => Err(Error::HostKeyUnknown {
                host: self.label.clone(),
                fingerprint: fp,
            }),
        }
    }
}

impl client::Handler for Checker {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_public_key: &PublicKeyOrCertificate,
    ) -> std::result::Result<bool, Self::Error> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = server_public_key else {
            *self.verdict.lock().unwrap_or_else(|p| p.into_inner()) = Some(Error::HostKeyUnknown {
                host: self.label.clone(),
                fingerprint: None,
            });
            return Ok(false);
        };
        match self.judge(key) {
            Ok(()) => Ok(true),
            Err(e) => {
                *self.verdict.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                Ok(false)
            }
        }
    }
}

/// A spare channel and the permit it holds.
type Spare = (Channel<Msg>, OwnedSemaphorePermit);

/// One open connection and its spare channels.
struct Conn {
    handle: Handle<Checker>,
    spares: std::sync::Mutex<Vec<Spare>>,
    /// Spares being opened (changed under the `spares` lock).
    opening: AtomicUsize,
    /// Commands holding a channel now.
    in_flight: AtomicUsize,
    /// How many spares to keep: the most commands this connection ran at
    /// once (at least 1, at most `max_spares`).
    want: AtomicUsize,
    max_spares: usize,
    spare_ready: Notify,
}

impl Conn {
    fn alive(&self) -> bool {
        !self.handle.is_closed()
    }

    fn lock_spares(&self) -> std::sync::MutexGuard<'_, Vec<Spare>> {
        self.spares.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take_spare(&self) -> Option<Spare> {
        self.lock_spares().pop()
    }

    fn has_spare(&self) -> bool {
        !self.lock_spares().is_empty()
    }

    /// A command takes a channel: counted, and the spares to keep raised to
    /// the most seen at once.
    fn start_flight(self: &Arc<Self>) -> Flight {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.want
            .fetch_max(now.min(self.max_spares), Ordering::SeqCst);
        Flight(self.clone())
    }
}

/// A command holding a channel (uncounted on drop).
struct Flight(Arc<Conn>);

impl Drop for Flight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Opens a session channel, asking again while the server refuses one
/// (its `MaxSessions` slots are freed a little after a channel closes).
async fn open_channel(handle: &Handle<Checker>) -> std::result::Result<Channel<Msg>, russh::Error> {
    let mut refusals = 0u32;
    loop {
        match handle.channel_open_session().await {
            Err(russh::Error::ChannelOpenFailure(_)) if refusals < OPEN_RETRIES => {
                refusals += 1;
                tokio::time::sleep(Duration::from_millis(10 * u64::from(refusals.min(10)))).await;
            }
            other => return other,
        }
    }
}

/// Opens spare channels in the background up to the number wanted, while
/// permits are free (each spare holds one: never more than `max_sessions`
/// channels).
fn refill(conn: &Arc<Conn>, permits: &Arc<Semaphore>) {
    if !conn.alive() {
        return;
    }
    loop {
        let permit = {
            let spares = conn.lock_spares();
            let have = spares.len() + conn.opening.load(Ordering::SeqCst);
            if have >= conn.want.load(Ordering::SeqCst) {
                return;
            }
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                return;
            };
            conn.opening.fetch_add(1, Ordering::SeqCst);
            permit
        };
        let conn = conn.clone();
        tokio::spawn(async move {
            let opened = open_channel(&conn.handle).await;
            {
                let mut spares = conn.lock_spares();
                if let Ok(channel) = opened {
                    spares.push((channel, permit));
                }
                conn.opening.fetch_sub(1, Ordering::SeqCst);
            }
            conn.spare_ready.notify_waiters();
        });
    }
}

/// Ends the remote command if the command's future is dropped before it
/// finished (the client's timeout): `signal TERM`, EOF, close.
struct EndOnDrop {
    write: Option<Arc<ChannelWriteHalf<Msg>>>,
    permit: Option<OwnedSemaphorePermit>,
    _flight: Flight,
}

impl EndOnDrop {
    fn finished(&mut self) {
        self.write = None;
    }
}

impl Drop for EndOnDrop {
    fn drop(&mut self) {
        let permit = self.permit.take();
        if let Some(write) = self.write.take() {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let _ = write.signal(Sig::TERM).await;
                    let _ = write.eof().await;
                    let _ = write.close().await;
                    // Give the server a moment to free the session slot.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    drop(permit);
                });
            }
        }
    }
}

/// Collects stdout: captured under a cap, or copied to a writer.
enum OutSink {
    Capture {
        buf: Vec<u8>,
        limit: usize,
    },
    Writer(Box<dyn tokio::io::AsyncWrite + Send + Unpin>),
    /// This process's stdout, flushed after every chunk (a prompt has no
    /// newline).
    Terminal(tokio::io::Stdout),
}

impl OutSink {
    async fn push(&mut self, data: &[u8], command: &str) -> Result<()> {
        match self {
            OutSink::Capture { buf, limit } => {
                if buf.len() + data.len() > *limit {
                    return Err(Error::Parse {
                        command: command.to_string(),
                        message: format!(
                            "the output is larger than the {limit} bytes the client keeps in memory; stream it to a file instead (Stdout::Writer), or raise the capture limit"
                        ),
                        text: String::from_utf8_lossy(&buf[..buf.len().min(200)]).into_owned(),
                    });
                }
                buf.extend_from_slice(data);
                Ok(())
            }
            OutSink::Writer(w) => w
                .write_all(data)
                .await
                .map_err(|e| Error::io("writing the command's output", e)),
            OutSink::Terminal(w) => {
                w.write_all(data)
                    .await
                    .map_err(|e| Error::io("writing the command's output", e))?;
                w.flush()
                    .await
                    .map_err(|e| Error::io("writing the command's output", e))
            }
        }
    }

    async fn finish(self) -> Result<Vec<u8>> {
        match self {
            OutSink::Capture { buf, .. } => Ok(buf),
            OutSink::Writer(mut w) => {
                w.shutdown()
                    .await
                    .map_err(|e| Error::io("finishing the command's output", e))?;
                Ok(Vec::new())
            }
            OutSink::Terminal(mut w) => {
                w.flush()
                    .await
                    .map_err(|e| Error::io("finishing the command's output", e))?;
                Ok(Vec::new())
            }
        }
    }
}

/// The native SSH transport (see the module docs).
pub struct NativeTransport {
    config: SshConfig,
    resolved: Resolved,
    state: Arc<Mutex<Option<Arc<Conn>>>>,
    permits: Arc<Semaphore>,
    closed: Arc<AtomicBool>,
}

impl std::fmt::Debug for NativeTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeTransport")
            .field("target", &self.config.target())
            .finish()
    }
}

impl NativeTransport {
    /// Connects, checks the host key and logs in (errors classified as the
    /// OpenSSH transport's: [`Error::HostKeyUnknown`],
    /// [`Error::HostKeyMismatch`], [`Error::Authentication`],
    /// [`Error::Transport`]).
    pub async fn connect(config: SshConfig) -> Result<Self> {
        let t = NativeTransport::lazy(config)?;
        t.connection().await?;
        Ok(t)
    }

    /// A transport that connects on its first command.
    pub fn lazy(config: SshConfig) -> Result<Self> {
        crate::transport::ssh::validate(&config)?;
        let resolved = resolve(&config);
        Ok(NativeTransport {
            permits: Arc::new(Semaphore::new(config.max_sessions)),
            resolved,
            config,
            state: Arc::new(Mutex::new(None)),
            closed: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SshConfig {
        &self.config
    }

    /// True when a spare session channel is open, waiting for a command.
    pub async fn has_spare_channel(&self) -> bool {
        self.state
            .lock()
            .await
            .as_ref()
            .is_some_and(|c| c.has_spare())
    }

    fn closed_error(&self) -> Error {
        Error::Config(format!(
            "the SSH transport to {} was closed; create a new client",
            self.config.target()
        ))
    }

    fn transport_error(&self, message: impl Into<String>) -> Error {
        Error::Transport {
            host: self.config.target(),
            message: message.into(),
        }
    }

    async fn connection(&self) -> Result<Arc<Conn>> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(self.closed_error());
        }
        let state = self.state.clone();
        let config = self.config.clone();
        let resolved = self.resolved.clone();
        let closed = self.closed.clone();
        let permits = self.permits.clone();
        // In its own task: a cancelled caller does not leave half a login.
        let task = tokio::spawn(async move {
            let mut slot = state.lock().await;
            if closed.load(Ordering::SeqCst) {
                return Err(Error::Config("the SSH transport was closed".into()));
            }
            if let Some(conn) = slot.as_ref() {
                if conn.alive() {
                    return Ok(conn.clone());
                }
                tracing::debug!(target = %config.target(), "ssh connection gone; reconnecting");
            }
            let timeout = config.connect_timeout;
            let handle = match tokio::time::timeout(timeout, open(&config, &resolved)).await {
                Ok(r) => r?,
                Err(_) => {
                    return Err(classify_ssh_failure(
                        "Connection timed out during banner exchange, key exchange or login",
                        &config,
                        None,
                    ))
                }
            };
            let conn = Arc::new(Conn {
                handle,
                spares: std::sync::Mutex::new(Vec::new()),
                opening: AtomicUsize::new(0),
                in_flight: AtomicUsize::new(0),
                want: AtomicUsize::new(1),
                max_spares: (config.max_sessions / 2).max(1),
                spare_ready: Notify::new(),
            });
            refill(&conn, &permits);
            *slot = Some(conn.clone());
            Ok(conn)
        });
        task.await
            .map_err(|e| self.transport_error(format!("the connection task failed: {e}")))?
    }

    /// A channel, its permit and the command's place in the count: a spare
    /// if there is one, else a new one.
    async fn channel(
        &self,
        conn: &Arc<Conn>,
    ) -> Result<(Channel<Msg>, OwnedSemaphorePermit, Flight)> {
        let flight = conn.start_flight();
        loop {
            if let Some((channel, permit)) = conn.take_spare() {
                refill(conn, &self.permits);
                return Ok((channel, permit, flight));
            }
            let ready = conn.spare_ready.notified();
            tokio::select! {
                permit = self.permits.clone().acquire_owned() => {
                    let permit = permit.map_err(|_| self.closed_error())?;
                    let channel = open_channel(&conn.handle).await.map_err(|e| {
                        self.transport_error(format!("could not open a session channel: {e}"))
                    })?;
                    refill(conn, &self.permits);
                    return Ok((channel, permit, flight));
                }
                _ = ready => continue,
                _ = tokio::time::sleep(Duration::from_millis(100)) => continue,
            }
        }
    }

    fn line(&self, request: &Request) -> Result<String> {
        match &self.config.login {
            LoginMode::DokkuUser => ssh_line(&request.command, request.version.as_ref()),
            LoginMode::ShellUser { sudo, dokku_path } => {
                shell_line(&request.command, dokku_path, Elevation::when_sudo(*sudo))
            }
        }
    }

    async fn run_piped(&self, conn: &Arc<Conn>, line: &str, request: Request) -> Result<Output> {
        let shown = request.command.display();
        let (channel, permit, flight) = self.channel(conn).await?;
        let (mut read, write) = channel.split();
        let write = Arc::new(write);
        let mut guard = EndOnDrop {
            write: Some(write.clone()),
            permit: Some(permit),
            _flight: flight,
        };
        write
            .exec(true, line.as_bytes().to_vec())
            .await
            .map_err(|e| self.transport_error(format!("could not send `{shown}`: {e}")))?;
        let stdin_fut = {
            let write = write.clone();
            async move {
                match request.stdin {
                    Stdin::Null => {
                        let _ = write.eof().await;
                        Ok(None)
                    }
                    Stdin::Inherit => forward_stdin(write).map(Some),
                    other => feed_stdin(other, Some(write.make_writer()))
                        .await
                        .map(|()| None),
                }
            }
        };
        let limits: Limits = self.config.limits;
        let mut out = match request.stdout {
            Stdout::Capture => OutSink::Capture {
                buf: Vec::new(),
                limit: limits.stdout,
            },
            Stdout::Writer(w) => OutSink::Writer(w),
            Stdout::Inherit => OutSink::Writer(Box::new(tokio::io::stdout())),
        };
        let read_fut = async {
            let mut err = Vec::new();
            let mut truncated = false;
            let mut code = None;
            let mut signal = None;
            let mut closed = false;
            while let Some(msg) = read.wait().await {
                match msg {
                    ChannelMsg::Data { data } => out.push(&data, &shown).await?,
                    ChannelMsg::ExtendedData { data, ext: 1 } => {
                        let room = limits.stderr.saturating_sub(err.len());
                        truncated |= data.len() > room;
                        err.extend_from_slice(&data[..data.len().min(room)]);
                    }
                    ChannelMsg::ExitStatus { exit_status } => code = Some(exit_status),
                    ChannelMsg::ExitSignal { signal_name, .. } => signal = Some(signal_name),
                    ChannelMsg::Failure => {
                        return Err(self.transport_error(format!(
                            "the server refused to run `{shown}` on the session channel"
                        )))
                    }
                    ChannelMsg::Close => {
                        closed = true;
                        break;
                    }
                    _ => {}
                }
            }
            if truncated {
                err.extend_from_slice(STDERR_TRUNCATED_MARKER.as_bytes());
            }
            Ok((err, code, signal, closed))
        };
        let (inherit_task, (err, code, signal, closed)) = tokio::try_join!(stdin_fut, read_fut)?;
        if let Some(t) = inherit_task {
            // Stops the stdin thread (its drop waits for it).
            t.abort();
            let _ = t.await;
        }
        let exit_code = match (code, signal) {
            (Some(c), _) => i32::try_from(c).unwrap_or(-1),
            (None, Some(sig)) => {
                tracing::debug!(?sig, command = %shown, "the remote command was killed by a signal");
                -1
            }
            (None, None) => {
                let _ = closed;
                return Err(self.transport_error(format!(
                    "the connection ended before `{shown}` finished (no exit status)"
                )));
            }
        };
        let stdout = out.finish().await?;
        guard.finished();
        // The channel is closed; the permit is released once the server had
        // a moment to free the session slot, the spare refilled.
        drop(guard);
        refill(conn, &self.permits);
        Ok(Output {
            exit_code,
            stdout,
            stderr: err,
        })
    }

    /// An interactive session: a `pty-req` with `$TERM`, the local window
    /// size and modes, pipelined with the `exec` on the spare channel (one
    /// round trip, as a piped command); the local terminal in raw mode for the
    /// session (restored on every way out: the end, an error, a signal, a
    /// panic's unwinding); window changes (`SIGWINCH`) forwarded; bytes both
    /// ways untouched; the remote exit status returned. Unless stdin is
    /// inherited and a terminal there is no `pty-req` and no raw mode (as
    /// `ssh -t` without a terminal).
    /// `SIGTERM` or `SIGHUP` to this process ends the session (its channel
    /// closed, so the remote terminal hangs up) and is reported as
    /// interrupted; so does `SIGINT` while the terminal is raw (Ctrl-C is
    /// then a byte for the remote, so a `SIGINT` comes from elsewhere, and
    /// its default action would leave the terminal raw).
    async fn run_tty(&self, conn: &Arc<Conn>, line: &str, request: Request) -> Result<Output> {
        #[derive(Debug, PartialEq)]
        enum Reply {
            Pty,
            Exec,
        }
        let shown = request.command.display();
        // The local side first: a failure here sends nothing.
        let mut raw = None;
        let mut modes = Vec::new();
        if matches!(request.stdin, Stdin::Inherit) && terminal::stdin_is_terminal() {
            let (mode, saved) = terminal::RawMode::enter()
                .map_err(|e| Error::io("putting the terminal in raw mode", e))?;
            modes = terminal::modes(&saved);
            raw = Some(mode);
        }
        let (channel, permit, flight) = self.channel(conn).await?;
        let (mut read, write) = channel.split();
        let write = Arc::new(write);
        let mut guard = EndOnDrop {
            write: Some(write.clone()),
            permit: Some(permit),
            _flight: flight,
        };
        let mut pending = std::collections::VecDeque::new();
        if raw.is_some() {
            let (cols, rows, xpix, ypix) = terminal::window_size().unwrap_or((80, 24, 0, 0));
            write
                .request_pty(true, &terminal::term_name(), cols, rows, xpix, ypix, &modes)
                .await
                .map_err(|e| self.transport_error(format!("could not ask for a terminal: {e}")))?;
            pending.push_back(Reply::Pty);
        }
        write
            .exec(true, line.as_bytes().to_vec())
            .await
            .map_err(|e| self.transport_error(format!("could not send `{shown}`: {e}")))?;
        pending.push_back(Reply::Exec);
        let stdin_task = {
            let write = write.clone();
            match request.stdin {
                Stdin::Inherit => forward_stdin(write)?,
                other => tokio::spawn(async move {
                    let _ = feed_stdin(other, Some(write.make_writer())).await;
                }),
            }
        };
        let mut out = match request.stdout {
            Stdout::Capture => OutSink::Capture {
                buf: Vec::new(),
                limit: self.config.limits.stdout,
            },
            Stdout::Writer(w) => OutSink::Writer(w),
            Stdout::Inherit => OutSink::Terminal(tokio::io::stdout()),
        };
        let mut err_out = tokio::io::stderr();
        use tokio::signal::unix::{signal, SignalKind};
        let mut winch = signal(SignalKind::window_change()).ok();
        let mut term = signal(SignalKind::terminate()).ok();
        let mut hup = signal(SignalKind::hangup()).ok();
        // Only in raw mode: a handler stays installed for the process's life,
        // and a piped session's Ctrl-C keeps its default action.
        let mut int = if raw.is_some() {
            signal(SignalKind::interrupt()).ok()
        } else {
            None
        };
        let mut code = None;
        let mut killed_by = None;
        let mut ended_by = None;
        let result: Result<()> = async {
            loop {
                tokio::select! {
                    msg = read.wait() => match msg {
                        None | Some(ChannelMsg::Close) => return Ok(()),
                        Some(ChannelMsg::Data { data }) => out.push(&data, &shown).await?,
                        Some(ChannelMsg::ExtendedData { data, ext: 1 }) => {
                            let _ = err_out.write_all(&data).await;
                            let _ = err_out.flush().await;
                        }
                        Some(ChannelMsg::ExitStatus { exit_status }) => code = Some(exit_status),
                        Some(ChannelMsg::ExitSignal { signal_name, .. }) => {
                            killed_by = Some(signal_name)
                        }
                        Some(ChannelMsg::Success) => {
                            pending.pop_front();
                        }
                        Some(ChannelMsg::Failure) => match pending.pop_front() {
                            Some(Reply::Pty) => {
                                // As ssh: go on without one, the terminal
                                // back to normal for a line-by-line session.
                                drop(raw.take());
                                let _ = err_out
                                    .write_all(b"PTY allocation request failed: the session has no terminal\r\n")
                                    .await;
                            }
                            _ => {
                                return Err(self.transport_error(format!(
                                    "the server refused to run `{shown}` on the session channel"
                                )))
                            }
                        },
                        Some(_) => {}
                    },
                    Some(()) = next_signal(&mut winch) => {
                        if let Some((cols, rows, xpix, ypix)) = terminal::window_size() {
                            let _ = write.window_change(cols, rows, xpix, ypix).await;
                        }
                    }
                    Some(()) = next_signal(&mut term) => {
                        ended_by = Some("SIGTERM");
                        return Ok(());
                    }
                    Some(()) = next_signal(&mut hup) => {
                        ended_by = Some("SIGHUP");
                        return Ok(());
                    }
                    Some(()) = next_signal(&mut int) => {
                        ended_by = Some("SIGINT");
                        return Ok(());
                    }
                }
            }
        }
        .await;
        // Stop reading the terminal before giving it back.
        stdin_task.abort();
        let _ = stdin_task.await;
        let flushed = out.finish().await;
        drop(raw);
        result?;
        if let Some(sig) = ended_by {
            // The guard closes the channel: the remote terminal hangs up.
            drop(guard);
            return Err(Error::io(
                "the interactive session",
                std::io::Error::new(
                    std::io::ErrorKind::Interrupted,
                    format!("pix received {sig}; the session was closed"),
                ),
            ));
        }
        let stdout = flushed?;
        let exit_code = match (code, killed_by) {
            (Some(c), _) => i32::try_from(c).unwrap_or(-1),
            (None, Some(sig)) => {
                tracing::debug!(?sig, command = %shown, "the remote command was killed by a signal");
                -1
            }
            (None, None) => {
                return Err(self.transport_error(format!(
                    "the connection ended before `{shown}` finished (no exit status)"
                )));
            }
        };
        guard.finished();
        drop(guard);
        refill(conn, &self.permits);
        Ok(Output {
            exit_code,
            stdout,
            stderr: Vec::new(),
        })
    }
}

/// Copies this process's stdin to the channel (EOF at its end) from a
/// stoppable reader thread: aborting the task and awaiting it stops the
/// thread, so nothing reads the terminal after the command.
fn forward_stdin(write: Arc<ChannelWriteHalf<Msg>>) -> Result<tokio::task::JoinHandle<()>> {
    let mut pump =
        terminal::StdinPump::start().map_err(|e| Error::io("reading this process's stdin", e))?;
    Ok(tokio::spawn(async move {
        while let Some(chunk) = pump.recv().await {
            match chunk {
                Some(bytes) => {
                    if write.data(&bytes[..]).await.is_err() {
                        break;
                    }
                }
                None => {
                    let _ = write.eof().await;
                    break;
                }
            }
        }
    }))
}

/// The next delivery of a signal, or never when it could not be watched.
async fn next_signal(s: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match s {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

/// TCP connect, key exchange (host key checked), login.
async fn open(config: &SshConfig, resolved: &Resolved) -> Result<Handle<Checker>> {
    let label = config.host_label();
    let name = resolved
        .host_key_alias
        .clone()
        .unwrap_or_else(|| host_port(&resolved.hostname, resolved.port));
    let files = match &config.known_hosts {
        Some(kh) => vec![kh.clone()],
        None => resolved.known_hosts.clone(),
    };
    // Offer first the host key types on record (as OpenSSH does), so a host
    // with an RSA entry is not reported unknown for its ed25519 key.
    let recorded: Vec<Algorithm> = match &config.host_key {
        HostKeyPolicy::Pinned(line) => pinned_key_line(line)
            .ok()
            .and_then(|l| russh::keys::parse_public_key_base64(l.split_whitespace().nth(1)?).ok())
            .map(|k| vec![k.algorithm()])
            .unwrap_or_default(),
        _ => recorded_keys(&files, &name)
            .into_iter()
            .map(|(k, _)| k.algorithm())
            .collect(),
    };
    let mut preferred = russh::Preferred::default();
    let mut algos: Vec<Algorithm> = preferred.key.to_vec();
    algos.sort_by_key(|a| !recorded.iter().any(|r| same_family(r, a)));
    preferred.key = algos.into();
    let russh_config = Arc::new(client::Config {
        preferred,
        keepalive_interval: Some(config.keepalive),
        keepalive_max: 3,
        nodelay: true,
        ..client::Config::default()
    });
    let verdict = Arc::new(std::sync::Mutex::new(None));
    let checker = Checker {
        policy: config.host_key.clone(),
        name,
        files,
        label: label.clone(),
        verdict: verdict.clone(),
    };
    let transport_err = |message: String| Error::Transport {
        host: config.target(),
        message,
    };
    let tcp = tokio::net::TcpStream::connect((resolved.hostname.as_str(), resolved.port))
        .await
        .map_err(|e| {
            transport_err(format!(
                "connect to host {} port {}: {}",
                resolved.hostname,
                resolved.port,
                if e.kind() == std::io::ErrorKind::ConnectionRefused {
                    "Connection refused".to_string()
                } else {
                    e.to_string()
                }
            ))
        })?;
    let _ = tcp.set_nodelay(true);
    let mut handle = match client::connect_stream(russh_config, tcp, checker).await {
        Ok(h) => h,
        Err(e) => {
            if let Some(v) = verdict.lock().unwrap_or_else(|p| p.into_inner()).take() {
                return Err(v);
            }
            return Err(transport_err(format!("the SSH handshake failed: {e}")));
        }
    };
    authenticate(&mut handle, config, resolved).await?;
    Ok(handle)
}

fn public_of(path: &Path) -> Option<PublicKey> {
    let mut p = path.as_os_str().to_owned();
    p.push(".pub");
    let text = std::fs::read_to_string(PathBuf::from(p)).ok()?;
    PublicKey::from_openssh(text.trim()).ok()
}

async fn authenticate(
    handle: &mut Handle<Checker>,
    config: &SshConfig,
    resolved: &Resolved,
) -> Result<()> {
    let user = config.user.clone();
    let (files, only): (Vec<PathBuf>, bool) = match &config.key {
        Some(k) => (vec![k.clone()], true),
        None => (resolved.identity_files.clone(), resolved.identities_only),
    };
    let auth_err = || Error::Authentication {
        host: config.host_label(),
        user: config.user.clone(),
    };
    let transport_err = |e: &dyn std::fmt::Display| Error::Transport {
        host: config.target(),
        message: format!("the login failed: {e}"),
    };
    let rsa_hash = match handle.best_supported_rsa_hash().await {
        Ok(Some(h)) => h,
        _ => Some(HashAlg::Sha256),
    };
    let wanted: Vec<PublicKey> = files.iter().filter_map(|f| public_of(f)).collect();
    // The agent first (as ssh does); with IdentitiesOnly, only the keys of
    // the identity files.
    let agent = match &resolved.identity_agent {
        Some(path) => russh::keys::agent::client::AgentClient::connect_uds(path)
            .await
            .ok()
            .map(|a| a.dynamic()),
        None if std::env::var_os("SSH_AUTH_SOCK").is_some() => {
            russh::keys::agent::client::AgentClient::connect_env()
                .await
                .ok()
                .map(|a| a.dynamic())
        }
        None => None,
    };
    let mut agent_keys = Vec::new();
    if let Some(mut agent) = agent {
        if let Ok(ids) = agent.request_identities().await {
            for id in ids {
                let key = id.public_key().into_owned();
                if only && !wanted.iter().any(|w| w.key_data() == key.key_data()) {
                    continue;
                }
                agent_keys.push(key.clone());
                let hash = if key.algorithm().is_rsa() {
                    rsa_hash
                } else {
                    None
                };
                match handle
                    .authenticate_publickey_with(user.clone(), key, hash, &mut agent)
                    .await
                {
                    Ok(russh::client::AuthResult::Success) => return Ok(()),
                    Ok(_) => {}
                    Err(e) => tracing::debug!(error = %e, "the agent did not sign"),
                }
            }
        }
    }
    let mut encrypted = None;
    for file in &files {
        if !file.exists() && config.key.is_none() {
            continue;
        }
        let key = match russh::keys::load_secret_key(file, None) {
            Ok(k) => k,
            Err(russh::keys::Error::KeyIsEncrypted) => {
                encrypted.get_or_insert(file.clone());
                continue;
            }
            Err(e) if config.key.is_some() => {
                return Err(Error::Config(format!(
                    "could not read the SSH key {}: {e}",
                    file.display()
                )))
            }
            Err(_) => continue,
        };
        if agent_keys
            .iter()
            .any(|a| a.key_data() == key.public_key().key_data())
        {
            continue; // already offered through the agent
        }
        let hash = if key.algorithm().is_rsa() {
            rsa_hash
        } else {
            None
        };
        match handle
            .authenticate_publickey(
                user.clone(),
                PrivateKeyWithHashAlg::new(Arc::new(key), hash),
            )
            .await
        {
            Ok(russh::client::AuthResult::Success) => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(transport_err(&e)),
        }
    }
    if let Some(file) = encrypted {
        return Err(Error::Config(format!(
            "the SSH key {} is protected by a passphrase, which pix cannot ask for: load it into your agent (`ssh-add {}`) and retry, or use the OpenSSH transport (--ssh openssh)",
            file.display(),
            file.display()
        )));
    }
    Err(auth_err())
}

#[async_trait::async_trait]
impl Transport for NativeTransport {
    async fn execute(&self, request: Request) -> Result<Output> {
        let line = self.line(&request)?;
        let conn = self.connection().await?;
        if request.tty {
            return self.run_tty(&conn, &line, request).await;
        }
        self.run_piped(&conn, &line, request).await
    }

    fn target(&self) -> String {
        self.config.target()
    }

    async fn close(&self) -> Result<()> {
        self.closed.store(true, Ordering::SeqCst);
        if let Some(conn) = self.state.lock().await.take() {
            conn.lock_spares().clear();
            let _ = conn
                .handle
                .disconnect(russh::Disconnect::ByApplication, "", "en")
                .await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_and_hashed_entries_match_as_openssh() {
        assert!(hosts_match("a.example,b.example", "b.example"));
        assert!(hosts_match("*.example", "b.example"));
        assert!(!hosts_match("*.example,!b.example", "b.example"));
        assert!(hosts_match("[127.0.0.1]:2222", "[127.0.0.1]:2222"));
        assert!(!hosts_match("127.0.0.1", "[127.0.0.1]:2222"));
        // `ssh-keygen -H` of `[127.0.0.1]:2222` with salt "salt".
        use base64::Engine;
        use hmac::{KeyInit, Mac};
        let engine = base64::engine::general_purpose::STANDARD;
        let mac = <hmac::Hmac<sha1::Sha1> as KeyInit>::new_from_slice(b"salt")
            .unwrap()
            .chain_update(b"[127.0.0.1]:2222")
            .finalize()
            .into_bytes();
        let entry = format!("|1|{}|{}", engine.encode(b"salt"), engine.encode(mac));
        assert!(hosts_match(&entry, "[127.0.0.1]:2222"));
        assert!(!hosts_match(&entry, "[127.0.0.1]:2223"));
    }

    #[test]
    fn reads_ssh_g() {
        let r = parse_ssh_g(
            "hostname 10.0.0.1\nport 2222\nidentityfile /k/id\nidentitiesonly yes\nuserknownhostsfile /a /b\nglobalknownhostsfile /g\nproxyjump bastion\nproxycommand none\n",
            "h",
            22,
        );
        assert_eq!(r.hostname, "10.0.0.1");
        assert_eq!(r.port, 2222);
        assert_eq!(r.identity_files, vec![PathBuf::from("/k/id")]);
        assert!(r.identities_only);
        assert_eq!(
            r.known_hosts,
            vec![
                PathBuf::from("/a"),
                PathBuf::from("/b"),
                PathBuf::from("/g")
            ]
        );
        assert_eq!(r.unsupported, vec!["proxyjump bastion".to_string()]);
    }
}
