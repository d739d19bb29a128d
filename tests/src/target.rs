//! The Dokku host the end-to-end tests run against: a real server named by
//! `DOKKU_TEST_HOST` when set, otherwise the local sandbox.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `DOKKU_TEST_HOST` | address of a real Dokku host | unset: real-host tests are skipped |
//! | `DOKKU_TEST_PORT` | SSH port | 22 |
//! | `DOKKU_TEST_USER` | login user | `dokku` |
//! | `DOKKU_TEST_KEY` | private key file | ssh's defaults |
//! | `DOKKU_TEST_KNOWN_HOSTS` | known_hosts file pinning the host key | `~/.ssh/known_hosts` |
//!
//! ```no_run
//! use pix_sandbox::target;
//! let Some(real) = target::real_host_or_skip() else { return };
//! let status = real.ssh_command().arg("version").status().unwrap();
//! assert!(status.success());
//! ```

use std::path::PathBuf;
use std::process::Command;

/// The message printed when a test needs a real host and none is set.
pub const SKIP_MESSAGE: &str =
    "skipped: DOKKU_TEST_HOST not set (a real Dokku host is needed for this test)";

/// A Dokku host reachable over SSH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestTarget {
    /// Address (name or IP).
    pub host: String,
    /// SSH port.
    pub port: u16,
    /// Login user.
    pub user: String,
    /// Private key file (None: ssh's defaults).
    pub key: Option<PathBuf>,
    /// known_hosts file (None: `~/.ssh/known_hosts`).
    pub known_hosts: Option<PathBuf>,
}

/// A `DOKKU_TEST_*` variable holds something unusable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetError(pub String);

impl std::fmt::Display for TargetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TargetError {}

impl TestTarget {
    /// Reads `DOKKU_TEST_*` from the environment: `Ok(None)` when
    /// `DOKKU_TEST_HOST` is unset or empty.
    pub fn from_env() -> Result<Option<TestTarget>, TargetError> {
        TestTarget::from_vars(|name| std::env::var(name).ok())
    }

    /// [`TestTarget::from_env`] over any source of variables.
    pub fn from_vars(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<TestTarget>, TargetError> {
        let Some(host) = get("DOKKU_TEST_HOST").filter(|h| !h.trim().is_empty()) else {
            return Ok(None);
        };
        let port = match get("DOKKU_TEST_PORT").filter(|p| !p.trim().is_empty()) {
            None => 22,
            Some(p) => p
                .trim()
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| {
                    TargetError(format!(
                        "DOKKU_TEST_PORT={p:?} is not a port number (1-65535); unset it to use 22"
                    ))
                })?,
        };
        let user = get("DOKKU_TEST_USER")
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| "dokku".to_string());
        let key = get("DOKKU_TEST_KEY")
            .filter(|k| !k.is_empty())
            .map(PathBuf::from);
        let known_hosts = get("DOKKU_TEST_KNOWN_HOSTS")
            .filter(|k| !k.is_empty())
            .map(PathBuf::from);
        Ok(Some(TestTarget {
            host: host.trim().to_string(),
            port,
            user,
            key,
            known_hosts,
        }))
    }

    /// The `ssh` options (strict host key checking, batch mode, no config
    /// file) without the destination.
    pub fn ssh_options(&self) -> Vec<String> {
        let mut args = vec!["-F".to_string(), "/dev/null".to_string()];
        if let Some(key) = &self.key {
            args.push("-i".into());
            args.push(key.display().to_string());
            args.push("-o".into());
            args.push("IdentitiesOnly=yes".into());
        }
        args.push("-p".into());
        args.push(self.port.to_string());
        if let Some(kh) = &self.known_hosts {
            args.push("-o".into());
            args.push(format!("UserKnownHostsFile={}", kh.display()));
        }
        for opt in [
            "StrictHostKeyChecking=yes",
            "BatchMode=yes",
            "ConnectTimeout=10",
        ] {
            args.push("-o".into());
            args.push(opt.into());
        }
        args
    }

    /// `user@host`.
    pub fn destination(&self) -> String {
        format!("{}@{}", self.user, self.host)
    }

    /// An `ssh` command ready for the remote command's arguments.
    pub fn ssh_command(&self) -> Command {
        let mut cmd = Command::new("ssh");
        // `--`: a command starting with `--force` is not an ssh option.
        cmd.args(self.ssh_options())
            .arg("--")
            .arg(self.destination());
        cmd
    }

    /// A value for `GIT_SSH_COMMAND` (words quoted for the shell git uses).
    pub fn git_ssh_command(&self) -> String {
        let mut words = vec!["ssh".to_string()];
        words.extend(self.ssh_options().iter().map(|w| shell_quote(w)));
        words.join(" ")
    }
}

/// The real host from the environment, or `None` after printing
/// [`SKIP_MESSAGE`] (tests then return early). A malformed variable fails
/// the test with what is wrong.
pub fn real_host_or_skip() -> Option<TestTarget> {
    match TestTarget::from_env() {
        Ok(Some(t)) => Some(t),
        Ok(None) => {
            eprintln!("{SKIP_MESSAGE}");
            None
        }
        Err(e) => panic!("{e}"),
    }
}

/// Quotes a word for a POSIX shell (unchanged when it is plainly safe).
pub fn shell_quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_=/,.+:@%".contains(&b));
    if safe {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn unset_or_empty_host_means_none() {
        assert_eq!(TestTarget::from_vars(vars(&[])).unwrap(), None);
        assert_eq!(
            TestTarget::from_vars(vars(&[("DOKKU_TEST_HOST", " ")])).unwrap(),
            None
        );
    }

    #[test]
    fn reads_every_variable_with_defaults() {
        let t = TestTarget::from_vars(vars(&[("DOKKU_TEST_HOST", "dokku.example")]))
            .unwrap()
            .unwrap();
        assert_eq!(
            (t.port, t.user.as_str(), t.key.clone()),
            (22, "dokku", None)
        );
        let t = TestTarget::from_vars(vars(&[
            ("DOKKU_TEST_HOST", "10.0.0.5"),
            ("DOKKU_TEST_PORT", "2222"),
            ("DOKKU_TEST_USER", "deploy"),
            ("DOKKU_TEST_KEY", "/k/id"),
            ("DOKKU_TEST_KNOWN_HOSTS", "/k/kh"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(t.destination(), "deploy@10.0.0.5");
        let opts = t.ssh_options().join(" ");
        assert!(opts.contains("-i /k/id"), "{opts}");
        assert!(opts.contains("-p 2222"), "{opts}");
        assert!(opts.contains("UserKnownHostsFile=/k/kh"), "{opts}");
        assert!(opts.contains("StrictHostKeyChecking=yes"), "{opts}");
    }

    #[test]
    fn a_bad_port_is_an_error_that_says_so() {
        let e = TestTarget::from_vars(vars(&[("DOKKU_TEST_HOST", "h"), ("DOKKU_TEST_PORT", "x")]))
            .unwrap_err();
        assert!(e.0.contains("DOKKU_TEST_PORT"), "{e}");
    }

    #[test]
    fn quotes_for_the_shell() {
        assert_eq!(shell_quote("/tmp/a.b"), "/tmp/a.b");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
