//! Trusting a host key on purpose (`pix ssh trust-host`), replacing PIX's
//! `renew-ssh` rule: scan the server's keys with `ssh-keyscan`, show their
//! SHA-256 fingerprints, and only after the caller confirmed, append the
//! chosen key to a known_hosts file.
//!
//! Invariants:
//! - nothing is written by [`scan`] or [`fingerprint`];
//! - [`trust`] never duplicates a line, never replaces a different key of the
//!   same type unless `replace` is given, and creates the file with mode 0600
//!   (its folder with mode 0700);
//! - host names that ssh tools would read as options are refused.
//!
//! ```no_run
//! # async fn demo() -> pix_ops::Result<()> {
//! use pix_ops::trust::{scan, trust, TrustOutcome};
//! let keys = scan("dokku.example.com", 22).await?;
//! for k in &keys {
//!     println!("{} {}", k.key_type, k.fingerprint_sha256);
//! }
//! // ... after the user confirmed the fingerprint:
//! let path = std::path::Path::new("/home/me/.ssh/known_hosts");
//! let outcome = trust(path, "dokku.example.com", 22, &keys[0], false)?;
//! assert_ne!(outcome, TrustOutcome::Replaced);
//! # Ok(()) }
//! ```

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde::Serialize;
use tokio::io::AsyncWriteExt;

use crate::error::{OpsError, Result};
use crate::journal::create_private_dir;

/// How long `ssh-keyscan` may take.
pub const SCAN_TIMEOUT: Duration = Duration::from_secs(10);

/// One public host key of a server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostKey {
    /// `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, ...
    pub key_type: String,
    /// The base64 key data.
    pub key: String,
    /// `SHA256:...`, as `ssh-keygen -l` and ssh's own messages print it.
    pub fingerprint_sha256: String,
}

impl HostKey {
    /// The known_hosts line for this key on `host`/`port`.
    pub fn known_hosts_line(&self, host: &str, port: u16) -> String {
        format!(
            "{} {} {}",
            known_hosts_name(host, port),
            self.key_type,
            self.key
        )
    }
}

/// What [`trust`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrustOutcome {
    /// The key was appended.
    Added,
    /// The exact key was already there: nothing written.
    AlreadyTrusted,
    /// Every previous key of the host was removed and this one appended.
    Replaced,
}

/// The host as known_hosts names it: `host` on port 22, `[host]:port`
/// otherwise.
pub fn known_hosts_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// Refuses host names that ssh tools would read as options or that cannot be
/// written into a known_hosts line.
fn check_host(host: &str) -> Result<()> {
    let bad = host.is_empty()
        || host.starts_with('-')
        || host.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, ',' | '#' | '*' | '?' | '!' | '|')
        });
    if bad {
        return Err(OpsError::Usage {
            message: format!(
                "invalid host {:?}: give a host name or address without spaces, wildcards or a leading `-`",
                dokku_client::command::escape_control(host)
            ),
        });
    }
    Ok(())
}

/// Parses `ssh-keyscan` output (`host type base64` lines; comments ignored)
/// into `(type, key)` pairs, without duplicates.
pub fn parse_keyscan(text: &str) -> Vec<(String, String)> {
    let mut keys: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(_host), Some(key_type), Some(key)) = (words.next(), words.next(), words.next())
        else {
            continue;
        };
        let pair = (key_type.to_string(), key.to_string());
        if is_key_type(key_type) && is_base64(key) && !keys.contains(&pair) {
            keys.push(pair);
        }
    }
    keys
}

fn is_key_type(word: &str) -> bool {
    (word.starts_with("ssh-") || word.starts_with("ecdsa-") || word.starts_with("sk-"))
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '@' | '.'))
}

fn is_base64(word: &str) -> bool {
    !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
}

/// Runs `ssh-keyscan` against `host:port` and returns every key offered,
/// with its SHA-256 fingerprint. Writes nothing.
pub async fn scan(host: &str, port: u16) -> Result<Vec<HostKey>> {
    check_host(host)?;
    let mut cmd = tokio::process::Command::new("ssh-keyscan");
    cmd.arg("-p")
        .arg(port.to_string())
        .arg("-T")
        .arg(SCAN_TIMEOUT.as_secs().to_string())
        .arg("--")
        .arg(host)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(SCAN_TIMEOUT + Duration::from_secs(5), cmd.output())
        .await
        .map_err(|_| OpsError::Precondition {
            message: format!(
                "ssh-keyscan {host} (port {port}) did not finish within {}s; check the host and port",
                SCAN_TIMEOUT.as_secs() + 5
            ),
        })?
        .map_err(|e| {
            OpsError::io(
                "running ssh-keyscan (install the `openssh-client` package)",
                e,
            )
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let pairs = parse_keyscan(&text);
    if pairs.is_empty() {
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(OpsError::Precondition {
            message: format!(
                "{host} (port {port}) offered no SSH host key{}; check the host, the port and that sshd runs there",
                match why.trim() {
                    "" => String::new(),
                    w => format!(" ({})", dokku_client::command::escape_control(w)),
                }
            ),
        });
    }
    let mut keys = Vec::with_capacity(pairs.len());
    for (key_type, key) in pairs {
        let fingerprint_sha256 = fingerprint(&format!("{key_type} {key}")).await?;
        keys.push(HostKey {
            key_type,
            key,
            fingerprint_sha256,
        });
    }
    Ok(keys)
}

/// The `SHA256:...` fingerprint of a public key line (`type base64
/// [comment]`, or a known_hosts line), computed by `ssh-keygen -lf -`.
pub async fn fingerprint(key_line: &str) -> Result<String> {
    let mut child = tokio::process::Command::new("ssh-keygen")
        .args(["-l", "-E", "sha256", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            OpsError::io(
                "running ssh-keygen (install the `openssh-client` package)",
                e,
            )
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let mut line = key_line.trim().to_string();
        line.push('\n');
        stdin
            .write_all(line.as_bytes())
            .await
            .map_err(|e| OpsError::io("writing the key to ssh-keygen", e))?;
    }
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| OpsError::io("running ssh-keygen -l", e))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .find(|w| w.starts_with("SHA256:"))
        .map(str::to_string)
        .ok_or_else(|| OpsError::Usage {
            message: format!(
                "ssh-keygen cannot read the key {:?}: {}",
                dokku_client::command::escape_control(
                    &key_line.chars().take(80).collect::<String>()
                ),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        })
}

/// The `(type, key)` entries known_hosts already holds for the host
/// (hashed entries included), found with `ssh-keygen -F`.
pub fn known_keys(known_hosts: &Path, host: &str, port: u16) -> Result<Vec<(String, String)>> {
    check_host(host)?;
    if !known_hosts.exists() {
        return Ok(Vec::new());
    }
    let out = std::process::Command::new("ssh-keygen")
        .arg("-F")
        .arg(known_hosts_name(host, port))
        .arg("-f")
        .arg(known_hosts)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            OpsError::io(
                "running ssh-keygen -F (install the `openssh-client` package)",
                e,
            )
        })?;
    // Exit 1 with no output: the host is not in the file.
    Ok(parse_keyscan(&String::from_utf8_lossy(&out.stdout)))
}

/// Appends `key` for `host`/`port` to `known_hosts`, after the caller showed
/// the fingerprint and the user confirmed.
///
/// - the exact key already present: [`TrustOutcome::AlreadyTrusted`], nothing
///   written;
/// - another key of the same type present: refused unless `replace`, which
///   removes every entry of the host (`ssh-keygen -R`, which keeps the old
///   file as `<file>.old`) and appends the new key ([`TrustOutcome::Replaced`]);
/// - otherwise the line is appended ([`TrustOutcome::Added`]); a new file is
///   created with mode 0600, a new folder with mode 0700.
pub fn trust(
    known_hosts: &Path,
    host: &str,
    port: u16,
    key: &HostKey,
    replace: bool,
) -> Result<TrustOutcome> {
    check_host(host)?;
    if !is_key_type(&key.key_type) || !is_base64(&key.key) {
        return Err(OpsError::Usage {
            message: format!(
                "not an SSH public key: {:?} {:?}",
                dokku_client::command::escape_control(&key.key_type),
                dokku_client::command::escape_control(&key.key)
            ),
        });
    }
    let existing = known_keys(known_hosts, host, port)?;
    if existing
        .iter()
        .any(|(t, k)| *t == key.key_type && *k == key.key)
    {
        return Ok(TrustOutcome::AlreadyTrusted);
    }
    let conflicting = existing.iter().any(|(t, _)| *t == key.key_type);
    let mut outcome = TrustOutcome::Added;
    if conflicting {
        if !replace {
            return Err(OpsError::Precondition {
                message: format!(
                    "{} already holds a different {} key for {}: the server's key changed, or someone is intercepting the connection. Check the new fingerprint {} with the server's administrator, then run `pix ssh trust-host --replace`",
                    known_hosts.display(),
                    key.key_type,
                    known_hosts_name(host, port),
                    key.fingerprint_sha256
                ),
            });
        }
        let out = std::process::Command::new("ssh-keygen")
            .arg("-R")
            .arg(known_hosts_name(host, port))
            .arg("-f")
            .arg(known_hosts)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| OpsError::io("running ssh-keygen -R", e))?;
        if !out.status.success() {
            return Err(OpsError::Precondition {
                message: format!(
                    "ssh-keygen -R could not remove the old key from {}: {}",
                    known_hosts.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            });
        }
        outcome = TrustOutcome::Replaced;
    }
    append_line(known_hosts, &key.known_hosts_line(host, port))?;
    Ok(outcome)
}

/// Appends one line (adding a newline first if the file does not end with
/// one); creates the file 0600 and its folder 0700 when missing.
fn append_line(path: &Path, line: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            create_private_dir(dir)?;
        }
    }
    let needs_newline = match std::fs::read(path) {
        Ok(bytes) => bytes.last().is_some_and(|b| *b != b'\n'),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(OpsError::io(format!("reading {}", path.display()), e)),
    };
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| OpsError::io(format!("opening {}", path.display()), e))?;
    let mut text = String::new();
    if needs_newline {
        text.push('\n');
    }
    text.push_str(line);
    text.push('\n');
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| OpsError::io(format!("writing {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_lines() {
        assert_eq!(known_hosts_name("h", 22), "h");
        assert_eq!(known_hosts_name("127.0.0.1", 2222), "[127.0.0.1]:2222");
        let k = HostKey {
            key_type: "ssh-ed25519".into(),
            key: "AAAA".into(),
            fingerprint_sha256: "SHA256:x".into(),
        };
        assert_eq!(k.known_hosts_line("h", 2200), "[h]:2200 ssh-ed25519 AAAA");
    }

    #[test]
    fn keyscan_output_is_parsed_strictly() {
        let text = "# 127.0.0.1:2222 SSH-2.0-OpenSSH_9.2\n[127.0.0.1]:2222 ssh-ed25519 AAAAC3Nz\n[127.0.0.1]:2222 ssh-ed25519 AAAAC3Nz\n[127.0.0.1]:2222 ssh-rsa AAAAB3+/=\ngarbage\nh evil$(x) AAAA\nh ssh-ed25519 not;base64\n";
        assert_eq!(
            parse_keyscan(text),
            vec![
                ("ssh-ed25519".to_string(), "AAAAC3Nz".to_string()),
                ("ssh-rsa".to_string(), "AAAAB3+/=".to_string())
            ]
        );
    }

    #[test]
    fn hosts_that_look_like_options_are_refused() {
        for bad in ["", "-oProxyCommand=x", "a b", "h,evil", "*", "a\nb"] {
            assert!(check_host(bad).is_err(), "{bad:?}");
        }
        assert!(check_host("dokku.example.com").is_ok());
        assert!(check_host("::1").is_ok());
    }
}
