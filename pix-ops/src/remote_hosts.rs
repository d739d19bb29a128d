//! The Dokku side of `pix remote`: the host a remote URL points at, one
//! connection per host opened on first use, and what each remote's app says
//! (whether it exists, its deploy branch) before git touches it.

use std::collections::BTreeMap;

use dokku_client::Client;

use crate::config::{HostConfig, PixConfig};
use crate::connect::{connect, ConnectOptions};
use crate::deploy::deploy_branch;
use crate::git::Git;
use crate::push::git_ssh_command;
use crate::remote::{Divergence, RemoteOptions, RemoteUrl};

/// The host a remote URL points at: the pix.toml host with its address (and
/// port, when the URL names one), else one made from the URL (pure).
pub fn host_for_url(config: Option<&PixConfig>, url: &RemoteUrl, port: Option<u16>) -> HostConfig {
    let known = config.and_then(|c| {
        c.hosts
            .values()
            .find(|h| h.address == url.host && (url.port.is_none() || url.port == h.port))
            .cloned()
    });
    match known {
        Some(mut h) => {
            if url.port.is_some() {
                h.port = url.port;
            }
            h
        }
        None => HostConfig::dokku_login(&url.host, &url.user, url.port.or(port)),
    }
}

/// The Dokku connections of one `pix remote` run, one per host (several
/// remotes and environments usually share a host), opened on first use.
/// What went wrong on the way (a host that did not answer, said once) is
/// kept as notes for the caller to show ([`RemoteConnections::take_notes`]).
pub struct RemoteConnections {
    options: ConnectOptions,
    /// By `user@address:port`: the client, or `None` when the host did not answer.
    open: BTreeMap<String, Option<Client>>,
    notes: Vec<String>,
}

impl RemoteConnections {
    /// No connection yet; each is opened with `options`.
    pub fn new(options: ConnectOptions) -> Self {
        RemoteConnections {
            options,
            open: BTreeMap::new(),
            notes: Vec::new(),
        }
    }

    /// The client of `host`, connected on first use (`None`: it did not answer).
    pub async fn get(&mut self, host: &HostConfig) -> Option<&Client> {
        let key = format!("{}@{}:{:?}", host.user, host.address, host.port);
        if !self.open.contains_key(&key) {
            let client = match connect(host, &self.options).await {
                Ok(client) => Some(client),
                Err(e) => {
                    self.notes.push(format!(
                        "{} unreachable ({e}); assuming deploy branch master",
                        host.address
                    ));
                    None
                }
            };
            self.open.insert(key.clone(), client);
        }
        self.open.get(&key).and_then(Option::as_ref)
    }

    /// The options for one remote: its `GIT_SSH_COMMAND` (key and
    /// known_hosts from the flags, the environment or pix.toml), whether its
    /// app exists (`apps:exists`: Dokku would create a missing app on fetch)
    /// and its deploy branch from `git:report`, when the app's host answers.
    /// `port` is the `--port` given for a host pix.toml does not name.
    pub async fn options_for(
        &mut self,
        config: Option<&PixConfig>,
        url: &RemoteUrl,
        port: Option<u16>,
    ) -> RemoteOptions {
        let host = host_for_url(config, url, port);
        let ssh_command = git_ssh_command(&host, &self.options);
        let (app_exists, deploy_branch) = match self.get(&host).await {
            Some(client) => {
                let client = client.clone();
                self.read_app(&client, &url.app).await
            }
            None => (None, None),
        };
        RemoteOptions {
            deploy_branch,
            local_ref: None,
            ssh_command: Some(ssh_command),
            app_exists,
            deploy_target: None,
        }
    }

    /// Whether `app` exists on the host of `client` (`None`: unknown), and
    /// its deploy branch.
    async fn read_app(&mut self, client: &Client, app: &str) -> (Option<bool>, Option<String>) {
        let exists = match client.apps_exists(app).await {
            Ok(false) => return (Some(false), None),
            Ok(true) => Some(true),
            Err(e) => {
                self.notes.push(format!("apps:exists {app}: {e}"));
                None
            }
        };
        match deploy_branch(client, app).await {
            Ok(b) => (exists, Some(b)),
            Err(e) => {
                self.notes
                    .push(format!("deploy branch of {app}: {e}; assuming master"));
                (exists, None)
            }
        }
    }

    /// The notes gathered since the last call.
    pub fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }

    /// Closes every connection.
    pub async fn close(self) {
        for client in self.open.into_values().flatten() {
            let _ = client.close().await;
        }
    }
}

/// The source commit named by each remote's tip when `pix deploy` made it
/// (its `Source-Commit:` trailer), read from the fetched commit.
pub async fn deployed_from(git: &Git, divs: &[Divergence]) -> Vec<Option<String>> {
    let mut out = Vec::with_capacity(divs.len());
    for d in divs {
        let source = match &d.remote_sha {
            Some(sha) => git
                .query(&["log", "-1", "--format=%T%x00%B", sha])
                .await
                .ok()
                .flatten()
                .and_then(|m| {
                    let (tree, message) = m.split_once('\0')?;
                    crate::lineage::is_own(message, tree)
                        .then(|| crate::deploy::parse_message(message).0)
                        .flatten()
                }),
            None => None,
        };
        out.push(source);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_come_from_pix_toml_or_the_url() {
        let c = PixConfig::parse(
            "[hosts.s]\naddress='h'\nport=2222\nkey='/k'\n",
            std::path::Path::new("/r"),
            std::path::Path::new("/r/pix.toml"),
        )
        .unwrap();
        let url = RemoteUrl::parse("dokku@h:a").unwrap();
        let h = host_for_url(Some(&c), &url, None);
        assert_eq!(
            (h.port, h.key.as_deref()),
            (Some(2222), Some(std::path::Path::new("/k")))
        );
        let url = RemoteUrl::parse("ssh://dokku@other:2200/a").unwrap();
        let h = host_for_url(Some(&c), &url, Some(1));
        assert_eq!(
            (h.address.as_str(), h.port, h.key),
            ("other", Some(2200), None)
        );
        let url = RemoteUrl::parse("dokku@other:a").unwrap();
        assert_eq!(host_for_url(None, &url, Some(1)).port, Some(1));
    }
}
