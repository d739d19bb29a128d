//! Pushes to Dokku: an app's git URL, the `GIT_SSH_COMMAND` that reaches
//! it (for CI too), the push itself with its output streamed and its typed
//! outcome ([`PushOutcome`], whose failures, [`PushFailure`], a deploy's
//! outcome shares). Used by [`crate::deploy`] and [`crate::remote`]; it
//! knows neither.

use std::path::PathBuf;

use serde::Serialize;

use crate::config::{HostConfig, Login};
use crate::connect::ConnectOptions;
use crate::error::{OpsError, Result};
use crate::git::{self, Git};

/// How many output lines a failed build keeps.
pub const LOG_TAIL_LINES: usize = 30;

/// The `\e[1G\e[K` prefix Dokku puts on its git-hook lines.
const HOOK_PREFIX: &str = "\x1b[1G\x1b[K";

/// The SSH user git pushes as: the host's user when it logs in as Dokku's
/// forced command, else `dokku` (a shell user such as `ubuntu` cannot
/// receive pushes).
pub fn git_user(host: &HostConfig) -> &str {
    match host.login {
        Login::Dokku => &host.user,
        Login::Shell => "dokku",
    }
}

/// The git URL of `app` on `host`: `USER@HOST:APP` (the port goes into
/// [`git_ssh_command`]).
pub fn git_url(host: &HostConfig, app: &str) -> String {
    let address = if host.address.contains(':') {
        format!("[{}]", host.address)
    } else {
        host.address.clone()
    };
    format!("{}@{address}:{app}", git_user(host))
}

/// Quotes a word for `sh` (git runs `GIT_SSH_COMMAND` through the shell).
pub fn shell_quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@,+%".contains(c));
    if safe {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

fn expand_home(path: PathBuf) -> PathBuf {
    match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path,
    }
}

/// `GIT_SSH_COMMAND` for pushes to `host`: never asks anything
/// (`BatchMode`), checks the host key strictly (or accepts a new one with
/// `accept_new_host_key`), and uses the key and known_hosts from the flags,
/// else from `pix.toml`. Paths are shell-quoted.
pub fn git_ssh_command(host: &HostConfig, options: &ConnectOptions) -> String {
    let mut words: Vec<String> = vec!["ssh".into(), "-o".into(), "BatchMode=yes".into()];
    words.push("-o".into());
    words.push(if options.accept_new_host_key {
        "StrictHostKeyChecking=accept-new".into()
    } else {
        "StrictHostKeyChecking=yes".into()
    });
    if let Some(kh) = options
        .known_hosts
        .clone()
        .or_else(|| host.known_hosts.clone())
    {
        words.push("-o".into());
        words.push(format!("UserKnownHostsFile={}", expand_home(kh).display()));
    }
    if let Some(key) = options.key.clone().or_else(|| host.key.clone()) {
        words.push("-i".into());
        words.push(expand_home(key).display().to_string());
        words.push("-o".into());
        words.push("IdentitiesOnly=yes".into());
    }
    if let Some(port) = host.port {
        words.push("-p".into());
        words.push(port.to_string());
    }
    words
        .iter()
        .map(|w| shell_quote(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A line of `git push` output as the user should see it: `remote: ` and
/// Dokku's `\e[1G\e[K` removed, trailing spaces trimmed. `None` for lines
/// that are not from the remote.
pub fn remote_line(line: &str) -> Option<String> {
    let rest = line.strip_prefix("remote:")?;
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    let mut rest = rest;
    while let Some(r) = rest.strip_prefix(HOOK_PREFIX) {
        rest = r;
    }
    Some(rest.replace(HOOK_PREFIX, "").trim_end().to_string())
}

/// The URLs listed after `Application deployed:` in a deploy's output.
pub fn deployed_urls(lines: &[String]) -> Vec<String> {
    let mut urls = Vec::new();
    let mut after = false;
    for line in lines {
        let t = line.trim();
        if t.ends_with("Application deployed:") {
            after = true;
            urls.clear();
            continue;
        }
        if after {
            if t.starts_with("http://") || t.starts_with("https://") {
                urls.push(t.to_string());
            } else if !t.is_empty() {
                after = false;
            }
        }
    }
    urls
}

/// Why a push to Dokku did not deploy: what a deploy and a plain push
/// (`pix remote repair`) share. Serialised as the outcome it is
/// (`{"outcome": "build_failed", "log_tail": [...]}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum PushFailure {
    /// The pre-receive hook declined: the build or predeploy failed; the
    /// running version is untouched.
    BuildFailed {
        /// The last lines of the deploy output.
        log_tail: Vec<String>,
    },
    /// The app is locked (`apps:lock`) or another deploy holds its deploy
    /// lock.
    Locked {
        /// Why (Dokku's message, or pix's).
        message: String,
    },
    /// git refused to update the ref (the remote moved meanwhile: not a
    /// fast-forward, or the lease did not hold).
    Rejected {
        /// Why, and what to do.
        reason: String,
    },
}

/// How a push ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum PushOutcome {
    /// The ref was updated and the deploy succeeded.
    Pushed {
        /// The app's URLs, from the deploy output.
        urls: Vec<String>,
    },
    /// The remote already held the pushed commit: nothing was pushed and
    /// nothing was deployed.
    UpToDate,
    /// Nothing was deployed (serialised as the failure itself).
    #[serde(untagged)]
    Failed(PushFailure),
}

fn rejected(reason: String) -> PushOutcome {
    PushOutcome::Failed(PushFailure::Rejected { reason })
}

/// Classifies a finished push from its exit code and stderr lines. A push
/// that failed without reaching the remote (SSH errors) is an error.
pub fn classify_push(code: i32, stderr_lines: &[String]) -> Result<PushOutcome> {
    let remote: Vec<String> = stderr_lines.iter().filter_map(|l| remote_line(l)).collect();
    if code == 0
        && stderr_lines
            .iter()
            .any(|l| l.trim() == "Everything up-to-date")
    {
        return Ok(PushOutcome::UpToDate);
    }
    if code == 0 {
        return Ok(PushOutcome::Pushed {
            urls: deployed_urls(&remote),
        });
    }
    let all = stderr_lines.join("\n");
    if let Some(lock) = remote
        .iter()
        .find(|l| l.contains("currently has a deploy lock in place"))
    {
        return Ok(PushOutcome::Failed(PushFailure::Locked {
            message: lock.trim_start_matches([' ', '!']).trim().to_string(),
        }));
    }
    if all.contains("pre-receive hook declined") {
        let meaningful: Vec<String> = remote
            .iter()
            .filter(|l| !l.trim().is_empty())
            .cloned()
            .collect();
        let start = meaningful.len().saturating_sub(LOG_TAIL_LINES);
        return Ok(PushOutcome::Failed(PushFailure::BuildFailed {
            log_tail: meaningful[start..].to_vec(),
        }));
    }
    if all.contains("stale info") {
        return Ok(rejected(
            "the remote branch moved after it was read (someone pushed meanwhile); nothing was overwritten. Run the command again to see the new state".into(),
        ));
    }
    if all.contains("non-fast-forward") || all.contains("fetch first") || all.contains("[rejected]")
    {
        return Ok(rejected(
            "the remote branch holds commits the pushed one does not contain (not a fast-forward); see `pix remote status` and `pix remote repair`".into(),
        ));
    }
    if all.contains("[remote rejected]") {
        return Ok(rejected(format!(
            "the remote refused the update: {}",
            git::tail(&all, 3)
        )));
    }
    Err(OpsError::StepFailed {
        message: format!(
            "git push failed (exit {code}) before the remote answered: {}. Check the SSH key, known_hosts and the host's address",
            git::tail(&all, 4)
        ),
    })
}

/// Pushes `source` to `refs/heads/<branch>` of `url`, streaming the output
/// (remote lines cleaned, [`remote_line`]) to `output`. With `lease`, uses
/// `--force-with-lease=refs/heads/<branch>:<sha>` (and refuses with
/// `Rejected` when the remote no longer holds `sha`).
pub async fn push(
    git: &Git,
    url: &str,
    source: &str,
    branch: &str,
    lease: Option<&str>,
    output: &mut (dyn FnMut(String) + Send),
) -> Result<PushOutcome> {
    let refspec = format!("{source}:refs/heads/{branch}");
    let lease_arg = lease.map(|sha| format!("--force-with-lease=refs/heads/{branch}:{sha}"));
    let mut args = vec!["push", "--progress"];
    if let Some(l) = &lease_arg {
        args.push(l);
    }
    args.push(url);
    args.push(&refspec);
    let mut lines = Vec::new();
    let out = git
        .stream(&args, &mut |line| {
            lines.push(line.to_string());
            if let Some(r) = remote_line(line) {
                output(r);
            }
        })
        .await?;
    classify_push(out.code, &lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> HostConfig {
        HostConfig {
            address: "pix-app.ovh".into(),
            port: Some(2222),
            user: "dokku".into(),
            key: Some(PathBuf::from("/keys/my key")),
            known_hosts: Some(PathBuf::from("/kh/it's")),
            login: Login::Dokku,
            sudo: false,
            dokku_path: None,
            transport: None,
        }
    }

    #[test]
    fn ssh_command_is_batch_strict_and_quoted() {
        let c = git_ssh_command(&host(), &ConnectOptions::default());
        assert_eq!(
            c,
            "ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o 'UserKnownHostsFile=/kh/it'\\''s' -i '/keys/my key' -o IdentitiesOnly=yes -p 2222"
        );
        let mut h = host();
        h.key = None;
        h.known_hosts = None;
        h.port = None;
        let o = ConnectOptions {
            accept_new_host_key: true,
            ..ConnectOptions::default()
        };
        assert_eq!(
            git_ssh_command(&h, &o),
            "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new"
        );
        let o = ConnectOptions {
            key: Some("/flag/key".into()),
            ..ConnectOptions::default()
        };
        assert!(git_ssh_command(&host(), &o).contains("-i /flag/key"));
    }

    #[test]
    fn git_url_uses_dokku_for_shell_logins() {
        let mut h = host();
        assert_eq!(git_url(&h, "api"), "dokku@pix-app.ovh:api");
        h.login = Login::Shell;
        h.user = "ubuntu".into();
        assert_eq!(git_url(&h, "api"), "dokku@pix-app.ovh:api");
        h.address = "::1".into();
        assert_eq!(git_url(&h, "api"), "dokku@[::1]:api");
    }

    #[test]
    fn remote_lines_are_cleaned() {
        assert_eq!(
            remote_line("remote: \x1b[1G\x1b[K-----> Set main as deploy-branch   ").as_deref(),
            Some("-----> Set main as deploy-branch")
        );
        assert_eq!(remote_line("remote: plain").as_deref(), Some("plain"));
        assert_eq!(remote_line("To dokku@h:a"), None);
    }

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn push_outcomes_are_classified() {
        let ok = lines("remote: \x1b[1G\x1b[K=====> Application deployed:\nremote: \x1b[1G\x1b[K       http://a.example.test\nremote: \x1b[1G\x1b[K       https://b.example.test\nremote: \nTo dokku@h:a\n   1..2  x -> master");
        assert_eq!(
            classify_push(0, &ok).unwrap(),
            PushOutcome::Pushed {
                urls: vec![
                    "http://a.example.test".into(),
                    "https://b.example.test".into()
                ]
            }
        );
        let failed = lines("remote: -----> Releasing a...\nremote: migrate: boom\nTo dokku@h:a\n ! [remote rejected] x -> master (pre-receive hook declined)\nerror: failed to push some refs");
        match classify_push(1, &failed).unwrap() {
            PushOutcome::Failed(PushFailure::BuildFailed { log_tail }) => {
                assert_eq!(log_tail, ["-----> Releasing a...", "migrate: boom"]);
            }
            other => panic!("{other:?}"),
        }
        let locked = lines("remote:  !     a currently has a deploy lock in place. Exiting...\nremote:  !     Run 'apps:unlock' to release the existing deploy lock\n ! [remote rejected] x -> master (pre-receive hook declined)");
        assert!(matches!(
            classify_push(1, &locked).unwrap(),
            PushOutcome::Failed(PushFailure::Locked { message }) if message.starts_with("a currently has")
        ));
        let nff = lines(
            " ! [rejected]        x -> master (non-fast-forward)\nerror: failed to push some refs",
        );
        assert!(matches!(
            classify_push(1, &nff).unwrap(),
            PushOutcome::Failed(PushFailure::Rejected { .. })
        ));
        let stale = lines(" ! [rejected]        x -> master (stale info)");
        assert!(matches!(
            classify_push(1, &stale).unwrap(),
            PushOutcome::Failed(PushFailure::Rejected { reason }) if reason.contains("moved")
        ));
        let ssh =
            lines("Host key verification failed.\nfatal: Could not read from remote repository.");
        let e = classify_push(128, &ssh).unwrap_err().to_string();
        assert!(e.contains("Host key verification failed"), "{e}");
    }

    #[test]
    fn outcomes_serialise_as_before() {
        let json = |o: &PushOutcome| serde_json::to_string(o).unwrap();
        assert_eq!(
            json(&PushOutcome::Pushed {
                urls: vec!["http://a".into()]
            }),
            r#"{"outcome":"pushed","urls":["http://a"]}"#
        );
        assert_eq!(json(&PushOutcome::UpToDate), r#"{"outcome":"up_to_date"}"#);
        assert_eq!(
            json(&PushOutcome::Failed(PushFailure::BuildFailed {
                log_tail: vec!["boom".into()]
            })),
            r#"{"outcome":"build_failed","log_tail":["boom"]}"#
        );
        assert_eq!(
            json(&PushOutcome::Failed(PushFailure::Locked {
                message: "m".into()
            })),
            r#"{"outcome":"locked","message":"m"}"#
        );
        assert_eq!(
            json(&rejected("r".into())),
            r#"{"outcome":"rejected","reason":"r"}"#
        );
    }
}
