//! The actual state of a host, read in two rounds of concurrent reads.

use super::*;

/// What the host holds, as far as provisioning looks.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ActualHost {
    /// Apps.
    pub apps: BTreeSet<String>,
    /// Postgres services (empty when the plugin is missing).
    pub services: BTreeSet<String>,
    /// Apps linked to each service read.
    pub links: BTreeMap<String, Vec<String>>,
    /// Installed plugins.
    pub plugins: BTreeSet<String>,
    /// Names of authorised keys.
    pub ssh_keys: BTreeSet<String>,
    /// The fingerprint of each authorised key, by name.
    #[serde(skip)]
    pub ssh_key_fingerprints: BTreeMap<String, String>,
    /// Config of each desired app that exists (values are not serialised).
    #[serde(skip)]
    pub config: BTreeMap<String, BTreeMap<String, String>>,
    /// Domains of each desired app that exists.
    pub domains: BTreeMap<String, Vec<String>>,
    /// Mounts of each desired app that exists.
    pub storage: BTreeMap<String, Vec<String>>,
}

/// Reads what provisioning compares: `apps:list`, `postgres:list`,
/// `plugin:list` and `ssh-keys:list` together, then config exports, domain
/// reports, mount lists and `postgres:info` of the services together.
pub async fn read_actual(
    client: &Client,
    desired: &DesiredHost,
    prune: bool,
) -> Result<ActualHost> {
    let (apps, services, plugins, keys) = tokio::join!(
        client.apps_list(),
        client.postgres_list(),
        client.plugin_list(),
        client.ssh_keys_list(),
    );
    let mut actual = ActualHost {
        apps: apps?.into_iter().collect(),
        plugins: plugins?.into_iter().map(|p| p.name).collect(),
        ..Default::default()
    };
    actual.services = match services {
        Ok(s) => s.into_iter().collect(),
        // No postgres plugin yet: no services.
        Err(dokku_client::Error::CommandFailed { .. }) if !actual.plugins.contains("postgres") => {
            BTreeSet::new()
        }
        Err(e) => return Err(e.into()),
    };
    actual.ssh_keys = match keys {
        Ok(k) => {
            actual.ssh_key_fingerprints = k
                .iter()
                .map(|k| (k.name.clone(), k.fingerprint.clone()))
                .collect();
            k.into_iter().map(|k| k.name).collect()
        }
        // `No public keys found.` exits 1.
        Err(dokku_client::Error::CommandFailed { .. }) => BTreeSet::new(),
        Err(e) => return Err(e.into()),
    };

    enum Read {
        Config(String, BTreeMap<String, String>),
        Domains(String, Vec<String>),
        Storage(String, Vec<String>),
        Links(String, Vec<String>),
    }
    let mut set: tokio::task::JoinSet<dokku_client::Result<Read>> = tokio::task::JoinSet::new();
    for d in desired.apps.iter().filter(|d| actual.apps.contains(&d.app)) {
        let (c, app) = (client.clone(), d.app.clone());
        set.spawn(async move {
            let vars = c.config_export(app.as_str(), ExportFormat::Json).await?;
            Ok(Read::Config(app, vars.0))
        });
        if d.domains.is_some() {
            let (c, app) = (client.clone(), d.app.clone());
            set.spawn(async move {
                let report = c.domains_report(&app).await?;
                Ok(Read::Domains(app, report.app_vhosts))
            });
        }
        if d.storage.is_some() {
            let (c, app) = (client.clone(), d.app.clone());
            set.spawn(async move {
                let mounts = c
                    .storage_list(&app)
                    .await?
                    .into_iter()
                    .map(|m| format!("{}:{}", m.host_path, m.container_path))
                    .collect();
                Ok(Read::Storage(app, mounts))
            });
        }
    }
    let wanted: BTreeSet<&str> = desired.apps.iter().map(|d| d.service.as_str()).collect();
    for s in actual
        .services
        .iter()
        .filter(|s| prune || wanted.contains(s.as_str()))
    {
        let (c, svc) = (client.clone(), s.clone());
        set.spawn(async move {
            let info = c.postgres_info(&svc).await?;
            Ok(Read::Links(svc, info.links))
        });
    }
    while let Some(joined) = set.join_next().await {
        let read = joined.map_err(|e| OpsError::io("a read task", std::io::Error::other(e)))?;
        match read? {
            Read::Config(app, vars) => {
                actual.config.insert(app, vars);
            }
            Read::Domains(app, vhosts) => {
                actual.domains.insert(app, vhosts);
            }
            Read::Storage(app, mounts) => {
                actual.storage.insert(app, mounts);
            }
            Read::Links(svc, links) => {
                actual.links.insert(svc, links);
            }
        }
    }
    Ok(actual)
}
