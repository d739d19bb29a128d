//! `pix ssh trust-host [HOST]`: scan the host's keys, show their
//! fingerprints, and write them to known_hosts only once confirmed
//! (`--yes`, or `y` at a terminal; refused without either).

use std::path::PathBuf;

use pix_ops::confirm::Prompter;
use pix_ops::trust::{self, known_hosts_name, HostKey, TrustOutcome};
use pix_ops::OpsError;
use serde::Serialize;

use crate::cli::{SshCmd, TrustHostArgs};
use crate::context::{Ctx, TerminalPrompter};
use crate::exit::Failure;

/// Splits `HOST`, `HOST:PORT`, `[HOST]:PORT` or `[HOST]` (pure). A bare
/// IPv6 address (several colons) is a host without a port.
pub fn parse_host_arg(arg: &str) -> Result<(String, Option<u16>), String> {
    let bad_port =
        |p: &str| format!("invalid port {p:?} in {arg:?}: give HOST, HOST:PORT or [HOST]:PORT");
    if let Some(rest) = arg.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("{arg:?} opens `[` without closing it: give [HOST]:PORT"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse::<u16>().map_err(|_| bad_port(p))?),
            None if after.is_empty() => None,
            None => return Err(format!("unexpected {after:?} after ] in {arg:?}")),
        };
        return Ok((host.to_string(), port));
    }
    match arg.split_once(':') {
        Some((host, p)) if !p.contains(':') => Ok((
            host.to_string(),
            Some(p.parse::<u16>().map_err(|_| bad_port(p))?),
        )),
        _ => Ok((arg.to_string(), None)),
    }
}

/// How a scanned key compares with what known_hosts holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// Not recorded yet.
    New,
    /// Exactly this key is recorded.
    Known,
    /// Another key of this type is recorded: the server's key changed, or
    /// someone is in the middle.
    Different,
}

/// Compares each scanned key with the recorded `(type, key)` pairs (pure).
pub fn key_states(keys: &[HostKey], known: &[(String, String)]) -> Vec<KeyState> {
    keys.iter()
        .map(|k| {
            if known.iter().any(|(t, v)| *t == k.key_type && *v == k.key) {
                KeyState::Known
            } else if known.iter().any(|(t, _)| *t == k.key_type) {
                KeyState::Different
            } else {
                KeyState::New
            }
        })
        .collect()
}

/// One key in `--json`.
#[derive(Debug, Serialize)]
pub struct KeyResult<'a> {
    /// The key.
    #[serde(flatten)]
    pub key: &'a HostKey,
    /// Before writing.
    pub state: KeyState,
    /// What was written (`None`: nothing, as the key was known).
    pub outcome: Option<TrustOutcome>,
}

/// `--json` of `trust-host`.
#[derive(Debug, Serialize)]
pub struct TrustReport<'a> {
    /// The host.
    pub host: &'a str,
    /// Its port.
    pub port: u16,
    /// The known_hosts file.
    pub known_hosts: PathBuf,
    /// Each key offered.
    pub keys: Vec<KeyResult<'a>>,
}

fn expand_home(path: PathBuf) -> PathBuf {
    match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path,
    }
}

/// The host, port and known_hosts file `trust-host` works on.
fn target(ctx: &Ctx, args: &TrustHostArgs) -> Result<(String, u16, PathBuf), Failure> {
    let ambient = ctx.ambient()?;
    let (address, port, file) = match &args.host {
        Some(arg) => {
            let (host, port) = parse_host_arg(arg).map_err(Failure::usage)?;
            let known = ambient.config.as_ref().and_then(|c| {
                c.hosts
                    .get(&host)
                    .or_else(|| {
                        c.hosts.values().find(|h| {
                            h.address == host && (port.is_none() || port == h.port.or(Some(22)))
                        })
                    })
                    .cloned()
            });
            match known {
                Some(h) => (
                    h.address.clone(),
                    port.or(ctx.g.port).or(h.port),
                    h.known_hosts.clone(),
                ),
                None => (host, port.or(ctx.g.port).or(ambient.dokku_port), None),
            }
        }
        None => {
            let sel = ctx.selection()?;
            (sel.host.address, sel.host.port, sel.host.known_hosts)
        }
    };
    if address == pix_ops::connect::LOCAL_HOST {
        return Err(Failure::usage(
            "`local` runs dokku on this machine: there is no host key to trust",
        ));
    }
    let file = ctx
        .connect_options()
        .known_hosts
        .or(file)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".ssh/known_hosts")))
        .map(expand_home)
        .ok_or_else(|| {
            Failure::usage("no known_hosts file: pass --known-hosts FILE (HOME is not set)")
        })?;
    Ok((address, port.unwrap_or(22), file))
}

/// `pix ssh ...`.
pub async fn ssh(ctx: &Ctx, cmd: &SshCmd) -> Result<(), Failure> {
    match cmd {
        SshCmd::TrustHost(args) => trust_host(ctx, args, &mut TerminalPrompter).await,
    }
}

async fn trust_host(
    ctx: &Ctx,
    args: &TrustHostArgs,
    prompter: &mut dyn Prompter,
) -> Result<(), Failure> {
    let (host, port, file) = target(ctx, args)?;
    let name = known_hosts_name(&host, port);
    let keys = trust::scan(&host, port).await?;
    let known = trust::known_keys(&file, &host, port)?;
    let states = key_states(&keys, &known);
    if !ctx.out.json {
        ctx.out
            .line(&format!("{name} offers {} host key(s):", keys.len()))?;
        let rows: Vec<Vec<String>> = keys
            .iter()
            .zip(&states)
            .map(|(k, s)| {
                vec![
                    k.key_type.clone(),
                    k.fingerprint_sha256.clone(),
                    match s {
                        KeyState::New => "new",
                        KeyState::Known => "already trusted",
                        KeyState::Different => "DIFFERENT from the recorded key",
                    }
                    .to_string(),
                ]
            })
            .collect();
        ctx.out
            .table(&["TYPE", "FINGERPRINT", "IN KNOWN_HOSTS"], &rows)?;
    }
    let report = |outcomes: Vec<Option<TrustOutcome>>| TrustReport {
        host: &host,
        port,
        known_hosts: file.clone(),
        keys: keys
            .iter()
            .zip(&states)
            .zip(outcomes)
            .map(|((key, state), outcome)| KeyResult {
                key,
                state: *state,
                outcome,
            })
            .collect(),
    };
    let command = match &args.host {
        Some(h) => format!("pix ssh trust-host {h}"),
        None => "pix ssh trust-host".to_string(),
    };
    if states.iter().all(|s| *s == KeyState::Known) {
        if ctx.out.json {
            return ctx.out.json(&report(vec![None; keys.len()]));
        }
        return ctx.out.line(&format!(
            "every key is already trusted in {}; nothing written",
            file.display()
        ));
    }
    let different = states.contains(&KeyState::Different);
    if different && !args.replace {
        return Err(OpsError::Refused {
            message: format!(
                "{} already holds a different key for {name}: the server's key changed, or someone is intercepting the connection. Nothing was written. Check the fingerprints above with the server's administrator (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the server), then run `{command} --replace`",
                file.display()
            ),
        }
        .into());
    }
    if !args.yes {
        let refuse = |why: &str| {
            Failure::Ops(OpsError::Refused {
                message: format!(
                    "{why}; nothing was written. Compare the fingerprints above with the server's (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on it), then run `{command} --yes`"
                ),
            })
        };
        if !prompter.is_terminal() {
            return Err(refuse("there is no terminal to confirm on"));
        }
        let answer = prompter
            .ask(&format!(
                "Do these fingerprints match the server's? Trust {name} in {}{}? [y/N] ",
                file.display(),
                if different {
                    ", replacing its old keys"
                } else {
                    ""
                }
            ))
            .map_err(|e| Failure::io("reading the confirmation", e))?;
        if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            return Err(refuse("not confirmed"));
        }
    }
    // A replacement removes every line of the host first: do it once, then
    // write every other key (the known ones too, as they were removed).
    let mut outcomes: Vec<Option<TrustOutcome>> = vec![None; keys.len()];
    if args.replace {
        if let Some(i) = states.iter().position(|s| *s == KeyState::Different) {
            outcomes[i] = Some(trust::trust(&file, &host, port, &keys[i], true)?);
        }
    }
    let wiped = outcomes.contains(&Some(TrustOutcome::Replaced));
    for (i, (key, state)) in keys.iter().zip(&states).enumerate() {
        if outcomes[i].is_some() || (*state == KeyState::Known && !wiped) {
            continue;
        }
        outcomes[i] = Some(trust::trust(&file, &host, port, key, false)?);
    }
    if ctx.out.json {
        return ctx.out.json(&report(outcomes));
    }
    for (key, outcome) in keys.iter().zip(&outcomes) {
        let what = match outcome {
            Some(TrustOutcome::Added) => "added",
            Some(TrustOutcome::Replaced) => "replaced the old keys with",
            Some(TrustOutcome::AlreadyTrusted) | None => continue,
        };
        ctx.out.line(&format!(
            "{} {what} {} {} for {name} in {}",
            ctx.out.ok_mark("✓"),
            key.key_type,
            key.fingerprint_sha256,
            file.display()
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_arguments_parse() {
        let ok = |a: &str| parse_host_arg(a).unwrap();
        assert_eq!(ok("dokku.example.com"), ("dokku.example.com".into(), None));
        assert_eq!(ok("127.0.0.1:2222"), ("127.0.0.1".into(), Some(2222)));
        assert_eq!(ok("[::1]:2222"), ("::1".into(), Some(2222)));
        assert_eq!(ok("[::1]"), ("::1".into(), None));
        assert_eq!(ok("::1"), ("::1".into(), None));
        for bad in ["h:x", "h:99999", "[::1", "[::1]x", "[::1]:"] {
            assert!(parse_host_arg(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_compare_with_known_hosts() {
        let k = |t: &str, v: &str| HostKey {
            key_type: t.into(),
            key: v.into(),
            fingerprint_sha256: String::new(),
        };
        let keys = [
            k("ssh-ed25519", "A"),
            k("ssh-rsa", "B"),
            k("ecdsa-sha2-nistp256", "C"),
        ];
        let known = [
            ("ssh-ed25519".to_string(), "A".to_string()),
            ("ssh-rsa".to_string(), "OLD".to_string()),
        ];
        assert_eq!(
            key_states(&keys, &known),
            [KeyState::Known, KeyState::Different, KeyState::New]
        );
    }
}
