//! Several hosts at once: one connection per host, a per-host closure run
//! concurrently, one result per host. A host that does not answer is
//! reported with its error; the others still are.
//!
//! ```no_run
//! # async fn demo(config: pix_ops::PixConfig) {
//! use pix_ops::hosts::{for_each_host, targets};
//! let hosts = targets(&config, &Default::default(), &[]).unwrap();
//! let apps = for_each_host(hosts, &Default::default(), |_target, client| async move {
//!     Ok(client.apps_list().await?)
//! })
//! .await;
//! for host in &apps {
//!     match &host.result {
//!         Ok(list) => println!("{}: {}", host.host, list.join(", ")),
//!         Err(e) => println!("{}: unreachable: {e}", host.host),
//!     }
//! }
//! # }
//! ```

use std::future::Future;

use dokku_client::Client;
use serde::Serialize;

use crate::config::{HostConfig, HostOverrides, PixConfig};
use crate::connect::{connect, ConnectOptions};
use crate::error::{OpsError, Result};

/// A host of `pix.toml` to reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostTarget {
    /// Its name under `[hosts]`.
    pub name: String,
    /// Its settings (overrides applied).
    pub host: HostConfig,
}

/// The hosts of `config` (all of them when `only` is empty), overrides
/// applied, in name order. An unknown name in `only` is an error.
pub fn targets(
    config: &PixConfig,
    overrides: &HostOverrides,
    only: &[String],
) -> Result<Vec<HostTarget>> {
    for name in only {
        if !config.hosts.contains_key(name) {
            return Err(OpsError::Usage {
                message: format!(
                    "unknown host `{name}`; pix.toml defines: {}",
                    config.hosts.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            });
        }
    }
    Ok(config
        .hosts
        .iter()
        .filter(|(n, _)| only.is_empty() || only.contains(n))
        .map(|(name, host)| {
            let mut host = host.clone();
            if let Some(h) = &overrides.host {
                host.address = h.clone();
            }
            if let Some(p) = overrides.port {
                host.port = Some(p);
            }
            HostTarget {
                name: name.clone(),
                host,
            }
        })
        .collect())
}

/// One host's result.
#[derive(Debug, Serialize)]
#[serde(bound(serialize = "T: Serialize"))]
pub struct PerHost<T> {
    /// The host's name.
    pub host: String,
    /// Its address.
    pub address: String,
    /// What the closure returned, or why the host could not be reached or
    /// the closure failed.
    #[serde(serialize_with = "serialize_result")]
    pub result: Result<T>,
}

impl<T> PerHost<T> {
    /// True when this host answered and its work succeeded.
    pub fn is_ok(&self) -> bool {
        self.result.is_ok()
    }
}

fn serialize_result<T: Serialize, S: serde::Serializer>(
    result: &Result<T>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Tagged<'a, T> {
        Ok(&'a T),
        Error(String),
    }
    match result {
        Ok(v) => Tagged::Ok(v).serialize(s),
        Err(e) => Tagged::<T>::Error(e.to_string()).serialize(s),
    }
}

/// Connects to every target at once (one connection each), runs `work` on
/// each concurrently, closes the connections, and returns one result per
/// target in the targets' order.
pub async fn for_each_host<T, F, Fut>(
    targets: Vec<HostTarget>,
    options: &ConnectOptions,
    work: F,
) -> Vec<PerHost<T>>
where
    T: Send + 'static,
    F: Fn(HostTarget, Client) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<T>> + Send + 'static,
{
    connect_each(targets, options, move |target, client| {
        let work = work.clone();
        async move {
            let out = work(target, client.clone()).await;
            let _ = client.close().await;
            out
        }
    })
    .await
}

/// Like [`for_each_host`], but `work` owns the connection: it closes it, or
/// returns it in its result to keep using it (a plan, then its apply).
pub async fn connect_each<T, F, Fut>(
    targets: Vec<HostTarget>,
    options: &ConnectOptions,
    work: F,
) -> Vec<PerHost<T>>
where
    T: Send + 'static,
    F: Fn(HostTarget, Client) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<T>> + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    let order: Vec<(String, String)> = targets
        .iter()
        .map(|t| (t.name.clone(), t.host.address.clone()))
        .collect();
    for (i, target) in targets.into_iter().enumerate() {
        let options = options.clone();
        let work = work.clone();
        set.spawn(async move {
            let result = async {
                let client = connect(&target.host, &options).await?;
                work(target, client).await
            }
            .await;
            (i, result)
        });
    }
    let mut results: Vec<Option<Result<T>>> = order.iter().map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((i, r)) => {
                if let Some(slot) = results.get_mut(i) {
                    *slot = Some(r);
                }
            }
            // A task that panicked or was cancelled: its slot is reported below.
            Err(_) => continue,
        }
    }
    order
        .into_iter()
        .zip(results)
        .map(|((host, address), r)| PerHost {
            host,
            address,
            result: r.unwrap_or_else(|| {
                Err(OpsError::Precondition {
                    message: "the task for this host stopped unexpectedly".into(),
                })
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> PixConfig {
        PixConfig::parse(
            "[hosts.b]\naddress='b.example'\n[hosts.a]\naddress='a.example'\nport=2222\n",
            std::path::Path::new("/r"),
            std::path::Path::new("/r/pix.toml"),
        )
        .unwrap()
    }

    #[test]
    fn targets_are_filtered_and_overridden() {
        let c = config();
        let all = targets(&c, &HostOverrides::default(), &[]).unwrap();
        assert_eq!(
            all.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        let o = HostOverrides {
            host: None,
            port: Some(1),
        };
        let one = targets(&c, &o, &["b".into()]).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].host.port, Some(1));
        let e = targets(&c, &o, &["zz".into()]).unwrap_err();
        assert!(e.to_string().contains("a, b"), "{e}");
    }

    #[tokio::test]
    async fn an_unreachable_host_is_reported_and_the_others_still_are() {
        let mut c = config();
        // `local` runs dokku here: a missing binary fails at the first command.
        c.hosts.get_mut("a").unwrap().address = crate::connect::LOCAL_HOST.into();
        c.hosts.get_mut("a").unwrap().dokku_path = Some("/nonexistent/dokku".into());
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("dokku");
        std::fs::write(
            &fake,
            "#!/bin/sh\ncase \"$1\" in version) echo 'dokku version 0.38.27';; *) echo \"$@\";; esac\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        c.hosts.get_mut("b").unwrap().address = crate::connect::LOCAL_HOST.into();
        c.hosts.get_mut("b").unwrap().dokku_path = Some(fake.display().to_string());
        let t = targets(&c, &HostOverrides::default(), &[]).unwrap();
        let out = for_each_host(t, &ConnectOptions::default(), |target, client| async move {
            let o = client.run_ok(dokku_client::postgres::list()).await?;
            Ok(format!("{}:{}", target.name, o.stdout_text().trim()))
        })
        .await;
        assert_eq!(out.len(), 2);
        assert!(out[0].result.is_err(), "{:?}", out[0].result);
        assert_eq!(out[1].result.as_ref().unwrap(), "b:postgres:list");
        let json = serde_json::to_value(&out).unwrap();
        assert!(json[0]["result"]["error"].is_string(), "{json}");
        assert_eq!(json[1]["result"]["ok"], "b:postgres:list");
    }
}
