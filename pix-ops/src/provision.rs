//! `pix provision`: PIX's `provision-dokku` rule as plan, then apply.
//!
//! The desired state comes from `pix.toml` ([`desired_host`]): per host the
//! plugins and SSH keys, per environment its app, its Postgres service and
//! their link, its config (plain values, or values taken from the local
//! environment: secrets), domains and storage mounts. The actual state is
//! read from the host ([`read_actual`]) in two rounds of concurrent reads over
//! the one connection. [`plan_host`] (pure) compares them into typed
//! [`Change`]s in a safe order; [`render`] prints them as a diff; the plan
//! serialises for `--json` with secret values left out.
//!
//! [`confirm_removals`] asks for the removals' confirmation (apps: `--yes`
//! or y/N; a service: its name typed) and gives a [`Confirmed`] token;
//! [`apply_host`] needs it, then runs the changes in order, reporting
//! progress, and stops at the first failure with what was done and what was
//! not. Running again re-plans from the server, so it converges.
//!
//! Removals (`prune`): apps, services, links, domains and mounts that the
//! file does not name. Review apps are not in the file: with `[settings]
//! review_app_prefix` set, apps with that prefix are left alone; without it,
//! prune lists them like any other app (and asks before destroying). Config keys, SSH keys and plugins are never removed
//! (removing the key you are connected with locks you out; Dokku and the
//! links set keys of their own).
//!
//! Root: `plugin:install` and `ssh-keys:add` run as root in Dokku. When the
//! host names an `admin_user`, they go through a second connection as that
//! user with the shell login and `sudo` ([`admin_host`]), as PIX did; the
//! plan says so on those lines. Without one they run over the host's login.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dokku_client::config::{ConfigSetOptions, ExportFormat};
use dokku_client::postgres::LinkOptions;
use dokku_client::transport::{Request, Stdin};
use dokku_client::{Client, Command};
use serde::Serialize;

use crate::config::{HostConfig, Login, PixConfig};
use crate::confirm::{self, ConfirmFlags, ConfirmRequest, Prompter};
use crate::error::{OpsError, Result};

/// Git URLs of the official plugins known by name.
pub const KNOWN_PLUGINS: &[(&str, &str)] = &[
    ("postgres", "https://github.com/dokku/dokku-postgres.git"),
    ("redis", "https://github.com/dokku/dokku-redis.git"),
    ("mysql", "https://github.com/dokku/dokku-mysql.git"),
    ("mongo", "https://github.com/dokku/dokku-mongo.git"),
    (
        "letsencrypt",
        "https://github.com/dokku/dokku-letsencrypt.git",
    ),
    (
        "maintenance",
        "https://github.com/dokku/dokku-maintenance.git",
    ),
];

/// A plugin to install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginSpec {
    /// Its name in `plugin:list`.
    pub name: String,
    /// Its git URL.
    pub url: String,
}

/// Resolves a `plugins` entry (pure): a known name, or a git URL whose last
/// path part (`dokku-` and `.git` removed) is the name.
pub fn plugin_spec(entry: &str) -> Result<PluginSpec> {
    if let Some((name, url)) = KNOWN_PLUGINS.iter().find(|(n, _)| *n == entry) {
        return Ok(PluginSpec {
            name: (*name).into(),
            url: (*url).into(),
        });
    }
    let is_url = ["https://", "http://", "git@", "ssh://"]
        .iter()
        .any(|p| entry.starts_with(p));
    let last = entry
        .trim_end_matches('/')
        .rsplit(['/', ':'])
        .next()
        .unwrap_or_default();
    let name = last.trim_end_matches(".git");
    let name = name.strip_prefix("dokku-").unwrap_or(name);
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !is_url || !valid || entry.chars().any(char::is_whitespace) {
        return Err(OpsError::Usage {
            message: format!(
                "plugin {entry:?} is neither a known name ({}) nor a git URL such as https://github.com/owner/dokku-name.git",
                KNOWN_PLUGINS
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    Ok(PluginSpec {
        name: name.to_string(),
        url: entry.to_string(),
    })
}

/// A value that is never printed: `Debug` shows `***`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        SecretValue(value.into())
    }
    /// The value, to send it to Dokku. Never log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A config var the file wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredVar {
    /// The key.
    pub key: String,
    /// The value (`None`: a `config_from_env` key missing locally).
    pub value: Option<SecretValue>,
    /// From `config_from_env`: never printed.
    pub secret: bool,
}

/// One environment's part of the desired state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredApp {
    /// The environment.
    pub environment: String,
    /// The app.
    pub app: String,
    /// Its Postgres service.
    pub service: String,
    /// Config vars.
    pub config: Vec<DesiredVar>,
    /// Domains (`None`: not managed).
    pub domains: Option<Vec<String>>,
    /// Storage mounts (`None`: not managed).
    pub storage: Option<Vec<String>>,
}

/// A public key to authorise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredKey {
    /// Its name.
    pub name: String,
    /// The file it was read from.
    pub path: PathBuf,
    /// The key line.
    pub key: String,
    /// Its OpenSSH fingerprint (`SHA256:...`), as `ssh-keys:list` shows it.
    pub fingerprint: String,
}

/// The OpenSSH fingerprint of a public key line (`ssh-ed25519 AAAA... c`):
/// `SHA256:` and the unpadded base64 of the SHA-256 of the key blob, as
/// `ssh-keygen -l` and Dokku's `ssh-keys:list` print it. `None` when the
/// line holds no base64 key blob.
pub fn key_fingerprint(key_line: &str) -> Option<String> {
    use base64::Engine as _;
    use sha2::Digest as _;
    let blob = key_line.split_whitespace().nth(1)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(blob)
        .ok()
        .filter(|b| !b.is_empty())?;
    let digest = sha2::Sha256::digest(&bytes);
    Some(format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
    ))
}

/// What one host should hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DesiredHost {
    /// Plugins.
    pub plugins: Vec<PluginSpec>,
    /// SSH keys.
    pub ssh_keys: Vec<DesiredKey>,
    /// Apps, one per environment on the host.
    pub apps: Vec<DesiredApp>,
    /// The admin user for root commands, if any.
    pub admin_user: Option<String>,
    /// The admin user's key, if not the host's.
    pub admin_key: Option<PathBuf>,
    /// Apps whose name starts with this are review apps (`[settings]
    /// review_app_prefix`): `pix review-app` manages them, prune leaves them.
    pub review_prefix: Option<String>,
}

/// Where the values of `config_from_env` come from.
pub type LocalEnv<'a> = &'a (dyn Fn(&str) -> Option<String> + Sync);

/// The process environment, as a [`LocalEnv`].
pub fn process_env(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

/// The desired state of host `host_name` from `config`: reads the SSH key
/// files and the `config_from_env` values from `env`.
pub fn desired_host(config: &PixConfig, host_name: &str, env: LocalEnv<'_>) -> Result<DesiredHost> {
    let provision = config.provision_of(host_name);
    let config_error = |message: String| OpsError::Config {
        path: config.base_dir.join(crate::config::FILE_NAME),
        message,
    };
    let plugins = provision
        .plugins
        .iter()
        .map(|p| plugin_spec(p).map_err(|e| config_error(format!("[hosts.{host_name}] {e}"))))
        .collect::<Result<Vec<_>>>()?;
    let mut ssh_keys = Vec::new();
    for (name, path) in &provision.ssh_keys {
        let full = config.base_dir.join(path);
        let text = std::fs::read_to_string(&full).map_err(|e| {
            config_error(format!(
                "[hosts.{host_name}] ssh key {name}: cannot read {}: {e}",
                full.display()
            ))
        })?;
        let key = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .unwrap_or_default()
            .to_string();
        if !(key.starts_with("ssh-") || key.starts_with("ecdsa-") || key.starts_with("sk-")) {
            return Err(config_error(format!(
                "[hosts.{host_name}] ssh key {name}: {} does not hold a public key (ssh-ed25519 AAAA...)",
                full.display()
            )));
        }
        let fingerprint = key_fingerprint(&key).ok_or_else(|| {
            config_error(format!(
                "[hosts.{host_name}] ssh key {name}: {} does not hold a valid public key (its base64 part does not decode)",
                full.display()
            ))
        })?;
        ssh_keys.push(DesiredKey {
            name: name.clone(),
            path: path.clone(),
            key,
            fingerprint,
        });
    }
    let mut apps = Vec::new();
    for (env_name, e) in config
        .environments
        .iter()
        .filter(|(_, e)| e.host == host_name)
    {
        dokku_client::apps::validate_app_name(&e.app)?;
        dokku_client::postgres::validate_service_name(&e.database)?;
        let mut vars = Vec::new();
        for (k, v) in &e.config {
            dokku_client::config::validate_config_key(k)?;
            vars.push(DesiredVar {
                key: k.clone(),
                value: Some(SecretValue::new(v.clone())),
                secret: false,
            });
        }
        for k in &e.config_from_env {
            dokku_client::config::validate_config_key(k)?;
            if e.config.contains_key(k) {
                return Err(config_error(format!(
                    "environment {env_name}: {k} is both in config and config_from_env; keep one"
                )));
            }
            vars.push(DesiredVar {
                key: k.clone(),
                value: env(k).map(SecretValue::new),
                secret: true,
            });
        }
        apps.push(DesiredApp {
            environment: env_name.clone(),
            app: e.app.clone(),
            service: e.database.clone(),
            config: vars,
            domains: e.domains.clone(),
            storage: e.storage.clone(),
        });
    }
    Ok(DesiredHost {
        plugins,
        ssh_keys,
        apps,
        admin_user: provision.admin_user.clone(),
        admin_key: provision.admin_key.map(|k| key_path(config, k)),
        review_prefix: config
            .settings
            .review_app_prefix
            .clone()
            .filter(|p| !p.is_empty()),
    })
}

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

/// One config var in a [`Change::SetConfig`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigChange {
    /// The key.
    pub key: String,
    /// A secret (`config_from_env`): its values are never shown.
    pub secret: bool,
    /// The new value, for plain keys.
    pub value: Option<String>,
    /// The current value, for plain keys that are set.
    pub was: Option<String>,
    /// Whether the key is set now.
    pub exists: bool,
    /// The value sent.
    #[serde(skip)]
    pub send: SecretValue,
}

/// One change of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Change {
    /// `plugin:install <url> <name>` (root).
    InstallPlugin {
        /// The plugin.
        name: String,
        /// Its git URL.
        url: String,
    },
    /// `ssh-keys:add <name>` with the key on stdin (root).
    AddSshKey {
        /// The key's name.
        name: String,
        /// The file it comes from.
        path: PathBuf,
        /// The key line.
        #[serde(skip)]
        key: String,
    },
    /// `ssh-keys:remove <name>` then `ssh-keys:add <name>`: the key file of
    /// a name already authorised holds another key (a rotated key).
    ReplaceSshKey {
        /// The key's name.
        name: String,
        /// The file the new key comes from.
        path: PathBuf,
        /// The new key line.
        #[serde(skip)]
        key: String,
        /// The fingerprint authorised now.
        from: String,
        /// The new key's fingerprint.
        to: String,
    },
    /// `postgres:create <service>`.
    CreateService {
        /// The service.
        service: String,
    },
    /// `apps:create <app>`.
    CreateApp {
        /// The app.
        app: String,
    },
    /// `config:set --encoded <app> K=V...`.
    SetConfig {
        /// The app.
        app: String,
        /// The vars.
        vars: Vec<ConfigChange>,
    },
    /// `domains:add <app> <domain>`.
    AddDomain {
        /// The app.
        app: String,
        /// The domain.
        domain: String,
    },
    /// `storage:mount <app> <mount>`.
    MountStorage {
        /// The app.
        app: String,
        /// `host:container`.
        mount: String,
    },
    /// `postgres:link <service> <app>`.
    Link {
        /// The service.
        service: String,
        /// The app.
        app: String,
    },
    /// `postgres:unlink <service> <app>` (prune).
    Unlink {
        /// The service.
        service: String,
        /// The app.
        app: String,
    },
    /// `storage:unmount <app> <mount>` (prune).
    UnmountStorage {
        /// The app.
        app: String,
        /// `host:container`.
        mount: String,
    },
    /// `domains:remove <app> <domain>` (prune).
    RemoveDomain {
        /// The app.
        app: String,
        /// The domain.
        domain: String,
    },
    /// `apps:destroy --force <app>` (prune; confirmed).
    DestroyApp {
        /// The app.
        app: String,
    },
    /// `postgres:destroy <service> --force` (prune; its name typed).
    DestroyService {
        /// The service.
        service: String,
    },
}

impl Change {
    /// Whether Dokku runs it only as root.
    pub fn needs_root(&self) -> bool {
        matches!(
            self,
            Change::InstallPlugin { .. } | Change::AddSshKey { .. } | Change::ReplaceSshKey { .. }
        )
    }

    /// Whether it removes something.
    pub fn is_removal(&self) -> bool {
        matches!(
            self,
            Change::Unlink { .. }
                | Change::UnmountStorage { .. }
                | Change::RemoveDomain { .. }
                | Change::DestroyApp { .. }
                | Change::DestroyService { .. }
        )
    }

    /// The Dokku commands of this change, in order (pure; secrets hidden
    /// when displayed): what the plan shows and what the apply runs.
    pub fn commands(&self) -> Result<Vec<Command>> {
        use dokku_client::{apps, config, domains, plugin, postgres, ssh_keys, storage};
        Ok(match self {
            Change::InstallPlugin { name, url } => vec![plugin::install(url, Some(name))?],
            Change::AddSshKey { name, .. } => vec![ssh_keys::add(name)?],
            Change::ReplaceSshKey { name, .. } => {
                vec![ssh_keys::remove(name)?, ssh_keys::add(name)?]
            }
            Change::CreateService { service } => vec![postgres::create(service)?],
            Change::CreateApp { app } => vec![apps::create(app)?],
            Change::SetConfig { app, vars } => {
                let pairs: Vec<(&str, &str)> = vars
                    .iter()
                    .map(|v| (v.key.as_str(), v.send.expose_secret()))
                    .collect();
                vec![config::set(
                    app.as_str().into(),
                    &pairs,
                    ConfigSetOptions::default(),
                )?]
            }
            Change::AddDomain { app, domain } => vec![domains::add(app, &[domain])?],
            Change::RemoveDomain { app, domain } => vec![domains::remove(app, &[domain])?],
            Change::MountStorage { app, mount } => vec![storage::mount(app, mount)?],
            Change::UnmountStorage { app, mount } => vec![storage::unmount(app, mount)?],
            Change::Link { service, app } => {
                vec![postgres::link(service, app, &LinkOptions::default())?]
            }
            Change::Unlink { service, app } => vec![postgres::unlink(
                service,
                app,
                postgres::UnlinkOptions::default(),
            )?],
            Change::DestroyApp { app } => vec![apps::destroy(app)?],
            Change::DestroyService { service } => vec![postgres::destroy(service)?],
        })
    }

    /// What `command` of [`Change::commands`] reads on its stdin: the public
    /// key of an `ssh-keys:add`, nothing for the others.
    fn stdin_of(&self, command: &Command) -> Option<Vec<u8>> {
        match self {
            Change::AddSshKey { key, .. } | Change::ReplaceSshKey { key, .. }
                if command.name() == "ssh-keys:add" =>
            {
                Some(key.trim().as_bytes().to_vec())
            }
            _ => None,
        }
    }

    /// The diff lines of this change (pure; secret values never appear).
    pub fn lines(&self) -> Vec<String> {
        match self {
            Change::InstallPlugin { name, url } => vec![format!("+ install plugin {name} ({url})")],
            Change::AddSshKey { name, path, .. } => {
                vec![format!("+ add ssh key {name} ({})", path.display())]
            }
            Change::ReplaceSshKey {
                name,
                path,
                from,
                to,
                ..
            } => vec![format!(
                "~ replace ssh key {name} ({}): {from} → {to}",
                path.display()
            )],
            Change::CreateService { service } => vec![format!("+ create service {service}")],
            Change::CreateApp { app } => vec![format!("+ create app {app}")],
            Change::SetConfig { app, vars } => vars
                .iter()
                .map(|v| match (v.secret, &v.value, &v.was, v.exists) {
                    (true, _, _, true) => {
                        format!("~ set {} on {app} (secret, changed; value hidden)", v.key)
                    }
                    (true, _, _, false) => {
                        format!("~ set {} on {app} (secret; value hidden)", v.key)
                    }
                    (false, Some(new), Some(old), _) => {
                        format!("~ set {}={new} on {app} (was {old})", v.key)
                    }
                    (false, Some(new), None, _) => format!("~ set {}={new} on {app}", v.key),
                    (false, None, _, _) => format!("~ set {} on {app}", v.key),
                })
                .collect(),
            Change::AddDomain { app, domain } => vec![format!("+ add domain {domain} to {app}")],
            Change::MountStorage { app, mount } => vec![format!("+ mount {mount} on {app}")],
            Change::Link { service, app } => vec![format!("+ link {service} to {app}")],
            Change::Unlink { service, app } => vec![format!("- unlink {service} from {app}")],
            Change::UnmountStorage { app, mount } => vec![format!("- unmount {mount} from {app}")],
            Change::RemoveDomain { app, domain } => {
                vec![format!("- remove domain {domain} from {app}")]
            }
            Change::DestroyApp { app } => vec![format!("- destroy app {app}")],
            Change::DestroyService { service } => vec![format!(
                "- destroy service {service} (its data is lost; its name must be typed to confirm)"
            )],
        }
    }
}

/// A change with what the plan says about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The change.
    #[serde(flatten)]
    pub change: Change,
    /// Runs as root: over the admin user's shell login with `sudo` when
    /// `via` names it.
    pub needs_root: bool,
    /// How it reaches Dokku: `dokku@host`, or `ubuntu@host (shell login, sudo)`.
    pub via: String,
    /// The diff lines.
    pub lines: Vec<String>,
    /// The Dokku commands the apply runs for it, in order (from
    /// [`Change::commands`]; shown with secrets hidden).
    #[serde(serialize_with = "displayed")]
    pub commands: Vec<Command>,
}

/// Commands as people see them (secrets hidden), for the JSON plan.
fn displayed<S: serde::Serializer>(
    commands: &[Command],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(commands.iter().map(Command::display))
}

/// The plan of one host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostPlan {
    /// The host's name in `pix.toml`.
    pub host: String,
    /// Its address.
    pub address: String,
    /// The changes, in the order they are applied.
    pub steps: Vec<Step>,
    /// Things the plan cannot do (a secret missing locally, ...).
    pub warnings: Vec<String>,
}

impl HostPlan {
    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// A key path from `pix.toml`: `~/...` and absolute paths as given, others
/// relative to the file's folder.
fn key_path(config: &PixConfig, path: PathBuf) -> PathBuf {
    if path.starts_with("~") {
        path
    } else {
        config.base_dir.join(path)
    }
}

/// How the root commands of `host` reach Dokku: the admin user's shell login
/// with `sudo`, with its own key when given (pure).
pub fn admin_host(host: &HostConfig, admin_user: &str, admin_key: Option<&Path>) -> HostConfig {
    HostConfig {
        user: admin_user.to_string(),
        login: Login::Shell,
        sudo: true,
        key: admin_key
            .map(Path::to_path_buf)
            .or_else(|| host.key.clone()),
        ..host.clone()
    }
}

fn login_text(host: &HostConfig) -> String {
    match host.login {
        Login::Dokku => format!("{}@{}", host.user, host.address),
        Login::Shell => format!(
            "{}@{} (shell login{})",
            host.user,
            host.address,
            if host.sudo { ", sudo" } else { "" }
        ),
    }
}

/// Compares desired and actual state into a plan (pure).
pub fn plan_host(
    host_name: &str,
    host: &HostConfig,
    desired: &DesiredHost,
    actual: &ActualHost,
    prune: bool,
) -> HostPlan {
    let mut changes = Vec::new();
    let mut warnings = Vec::new();
    for p in &desired.plugins {
        if !actual.plugins.contains(&p.name) {
            changes.push(Change::InstallPlugin {
                name: p.name.clone(),
                url: p.url.clone(),
            });
        }
    }
    for k in &desired.ssh_keys {
        if !actual.ssh_keys.contains(&k.name) {
            changes.push(Change::AddSshKey {
                name: k.name.clone(),
                path: k.path.clone(),
                key: k.key.clone(),
            });
        } else if let Some(now) = actual
            .ssh_key_fingerprints
            .get(&k.name)
            .filter(|now| **now != k.fingerprint)
        {
            changes.push(Change::ReplaceSshKey {
                name: k.name.clone(),
                path: k.path.clone(),
                key: k.key.clone(),
                from: now.clone(),
                to: k.fingerprint.clone(),
            });
        }
    }
    let mut seen = BTreeSet::new();
    for d in &desired.apps {
        if !actual.services.contains(&d.service) && seen.insert(format!("s:{}", d.service)) {
            changes.push(Change::CreateService {
                service: d.service.clone(),
            });
        }
    }
    for d in &desired.apps {
        if !actual.apps.contains(&d.app) && seen.insert(format!("a:{}", d.app)) {
            changes.push(Change::CreateApp { app: d.app.clone() });
        }
    }
    let empty = BTreeMap::new();
    for d in &desired.apps {
        let current = actual.config.get(&d.app).unwrap_or(&empty);
        let mut vars = Vec::new();
        for v in &d.config {
            let Some(value) = &v.value else {
                warnings.push(format!(
                    "{} of {} is in config_from_env but not set in the local environment: not set (export it and run again)",
                    v.key, d.app
                ));
                continue;
            };
            let now = current.get(&v.key);
            if now.map(String::as_str) == Some(value.expose_secret()) {
                continue;
            }
            vars.push(ConfigChange {
                key: v.key.clone(),
                secret: v.secret,
                value: (!v.secret).then(|| value.expose_secret().to_string()),
                was: if v.secret { None } else { now.cloned() },
                exists: now.is_some(),
                send: value.clone(),
            });
        }
        if !vars.is_empty() {
            changes.push(Change::SetConfig {
                app: d.app.clone(),
                vars,
            });
        }
    }
    let none = Vec::new();
    for d in &desired.apps {
        if let Some(domains) = &d.domains {
            let now = actual.domains.get(&d.app).unwrap_or(&none);
            for domain in domains.iter().filter(|x| !now.contains(x)) {
                changes.push(Change::AddDomain {
                    app: d.app.clone(),
                    domain: domain.clone(),
                });
            }
        }
        if let Some(mounts) = &d.storage {
            let now = actual.storage.get(&d.app).unwrap_or(&none);
            for mount in mounts.iter().filter(|x| !now.contains(x)) {
                changes.push(Change::MountStorage {
                    app: d.app.clone(),
                    mount: mount.clone(),
                });
            }
        }
    }
    for d in &desired.apps {
        let linked = actual
            .links
            .get(&d.service)
            .is_some_and(|apps| apps.contains(&d.app));
        if !linked {
            changes.push(Change::Link {
                service: d.service.clone(),
                app: d.app.clone(),
            });
        }
    }
    if prune {
        let wanted_links: BTreeSet<(&str, &str)> = desired
            .apps
            .iter()
            .map(|d| (d.service.as_str(), d.app.as_str()))
            .collect();
        for (svc, apps) in &actual.links {
            for app in apps {
                if !wanted_links.contains(&(svc.as_str(), app.as_str())) {
                    changes.push(Change::Unlink {
                        service: svc.clone(),
                        app: app.clone(),
                    });
                }
            }
        }
        for d in &desired.apps {
            if let (Some(mounts), Some(now)) = (&d.storage, actual.storage.get(&d.app)) {
                for m in now.iter().filter(|m| !mounts.contains(m)) {
                    changes.push(Change::UnmountStorage {
                        app: d.app.clone(),
                        mount: m.clone(),
                    });
                }
            }
            if let (Some(domains), Some(now)) = (&d.domains, actual.domains.get(&d.app)) {
                for x in now.iter().filter(|x| !domains.contains(x)) {
                    changes.push(Change::RemoveDomain {
                        app: d.app.clone(),
                        domain: x.clone(),
                    });
                }
            }
        }
        let apps: BTreeSet<&str> = desired.apps.iter().map(|d| d.app.as_str()).collect();
        let review = |a: &str| {
            desired
                .review_prefix
                .as_deref()
                .is_some_and(|p| a.starts_with(p))
        };
        for a in actual
            .apps
            .iter()
            .filter(|a| !apps.contains(a.as_str()) && !review(a))
        {
            changes.push(Change::DestroyApp { app: a.clone() });
        }
        let services: BTreeSet<&str> = desired.apps.iter().map(|d| d.service.as_str()).collect();
        for s in actual
            .services
            .iter()
            .filter(|s| !services.contains(s.as_str()))
        {
            changes.push(Change::DestroyService { service: s.clone() });
        }
    }
    let root_via = match &desired.admin_user {
        Some(u) => login_text(&admin_host(host, u, desired.admin_key.as_deref())),
        None => login_text(host),
    };
    let steps = changes
        .into_iter()
        .filter_map(|change| {
            let needs_root = change.needs_root();
            let mut lines = change.lines();
            let commands = match change.commands() {
                Ok(commands) => commands,
                Err(e) => {
                    warnings.push(format!(
                        "{}: not planned, its command cannot be built ({e})",
                        lines.join("; ").trim_start_matches(['+', '~', '-', ' '])
                    ));
                    return None;
                }
            };
            let via = if needs_root {
                if let Some(first) = lines.first_mut() {
                    first.push_str(&format!(" [needs root: via {root_via}]"));
                }
                root_via.clone()
            } else {
                login_text(host)
            };
            Some(Step {
                change,
                needs_root,
                via,
                lines,
                commands,
            })
        })
        .collect();
    HostPlan {
        host: host_name.to_string(),
        address: host.address.clone(),
        steps,
        warnings,
    }
}

/// The plan as a diff (pure): a header per host, one line per change.
pub fn render(plans: &[HostPlan]) -> String {
    let mut out = String::new();
    for p in plans {
        out.push_str(&format!("host {} ({}):\n", p.host, p.address));
        if p.steps.is_empty() {
            out.push_str("  nothing to change\n");
        }
        for s in &p.steps {
            for l in &s.lines {
                out.push_str(&format!("  {l}\n"));
            }
        }
        for w in &p.warnings {
            out.push_str(&format!("  ! {w}\n"));
        }
    }
    out
}

/// What `plan` needs besides the file.
#[derive(Clone, Copy)]
pub struct PlanOptions<'a> {
    /// Plan removals of what the file does not name.
    pub prune: bool,
    /// Where `config_from_env` values come from ([`process_env`] normally).
    pub env: LocalEnv<'a>,
}

impl fmt::Debug for PlanOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlanOptions")
            .field("prune", &self.prune)
            .finish_non_exhaustive()
    }
}

impl Default for PlanOptions<'_> {
    fn default() -> Self {
        PlanOptions {
            prune: false,
            env: &process_env,
        }
    }
}

/// Reads host `host_name` over `client` and plans it. Nothing changes.
pub async fn plan(
    client: &Client,
    config: &PixConfig,
    host_name: &str,
    host: &HostConfig,
    options: &PlanOptions<'_>,
) -> Result<HostPlan> {
    let desired = desired_host(config, host_name, options.env)?;
    let actual = read_actual(client, &desired, options.prune).await?;
    Ok(plan_host(host_name, host, &desired, &actual, options.prune))
}

/// Progress of `apply`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyEvent {
    /// A step started.
    Started {
        /// The host.
        host: String,
        /// 1-based.
        index: usize,
        /// Steps in all.
        total: usize,
        /// Its diff line(s), joined.
        what: String,
    },
    /// A step finished.
    Done {
        /// The host.
        host: String,
        /// Its diff line(s).
        what: String,
        /// How long it took.
        elapsed: Duration,
    },
    /// A step failed: apply stops.
    Failed {
        /// The host.
        host: String,
        /// Its diff line(s).
        what: String,
        /// The error.
        error: String,
    },
}

/// Receives apply events.
pub trait ApplyProgress: Send + Sync {
    /// Called for every event, in order.
    fn event(&self, event: ApplyEvent);
}

/// Ignores events.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl ApplyProgress for NoProgress {
    fn event(&self, _event: ApplyEvent) {}
}

/// What the caller passes to `apply`.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// `--yes` / `--confirm` (removals).
    pub confirm: ConfirmFlags,
    /// How the user runs it (for messages): `pix provision --prune`.
    pub command: String,
}

/// The step that stopped an apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedStep {
    /// Its diff line(s).
    pub what: String,
    /// The error.
    pub error: String,
}

/// How an apply went on one host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// The host.
    pub host: String,
    /// The steps done.
    pub done: Vec<String>,
    /// The step that failed, if any.
    pub failed: Option<FailedStep>,
    /// The steps not run (after a failure).
    pub not_done: Vec<String>,
}

impl ApplyReport {
    /// True when every step was done.
    pub fn succeeded(&self) -> bool {
        self.failed.is_none()
    }

    /// `Ok` when every step was done, else an error that says what was done,
    /// what failed, what was not done, and to run again.
    pub fn into_result(self, command: &str) -> Result<ApplyReport> {
        match &self.failed {
            None => Ok(self),
            Some(f) => Err(OpsError::StepFailed {
                message: format!(
                    "provisioning {} stopped at `{}`: {}. Done: {}. Not done: {}. Fix the cause and run `{}` again: it plans from what the host holds now",
                    self.host,
                    f.what,
                    f.error,
                    list(&self.done),
                    list(&self.not_done),
                    if command.is_empty() { "pix provision" } else { command }
                ),
            }),
        }
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "nothing".into()
    } else {
        items.join("; ")
    }
}

/// Proof that a plan's removals were confirmed ([`confirm_removals`]);
/// [`apply_host`] refuses a plan whose removals it does not cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmed {
    host: String,
    removals: Vec<Change>,
}

impl Confirmed {
    fn covers(&self, plan: &HostPlan) -> bool {
        self.host == plan.host
            && plan
                .steps
                .iter()
                .filter(|s| s.change.is_removal())
                .all(|s| self.removals.contains(&s.change))
    }
}

/// Asks for the confirmations the plan's removals need (none: nothing is
/// asked); nothing runs when one is refused. Confirm every host's plan
/// first, then apply them (concurrently if you like).
pub fn confirm_removals(
    plan: &HostPlan,
    options: &ApplyOptions,
    prompter: &mut dyn Prompter,
) -> Result<Confirmed> {
    let command = if options.command.is_empty() {
        "pix provision --prune".to_string()
    } else {
        options.command.clone()
    };
    let apps: Vec<&str> = plan
        .steps
        .iter()
        .filter_map(|s| match &s.change {
            Change::DestroyApp { app } => Some(app.as_str()),
            _ => None,
        })
        .collect();
    if !apps.is_empty() {
        let action = format!("destroy the apps {} on {}", apps.join(", "), plan.host);
        confirm::confirm(
            &ConfirmRequest {
                environment: &plan.host,
                protected: false,
                name: apps[0],
                action: &action,
                command: &command,
            },
            // `--confirm` names a database; apps are confirmed by --yes or
            // at the terminal.
            &ConfirmFlags {
                yes: options.confirm.yes,
                confirm: None,
            },
            prompter,
        )?;
    }
    for s in &plan.steps {
        if let Change::DestroyService { service } = &s.change {
            let action = format!(
                "destroy the Postgres service {service} and its data on {}",
                plan.host
            );
            confirm::confirm(
                &ConfirmRequest {
                    environment: &plan.host,
                    protected: true,
                    name: service,
                    action: &action,
                    command: &command,
                },
                &ConfirmFlags {
                    yes: false,
                    confirm: options.confirm.confirm.clone(),
                },
                prompter,
            )?;
        }
    }
    Ok(Confirmed {
        host: plan.host.clone(),
        removals: plan
            .steps
            .iter()
            .filter(|s| s.change.is_removal())
            .map(|s| s.change.clone())
            .collect(),
    })
}

/// Runs the step's planned commands, in order, each checked.
async fn run_step(client: &Client, step: &Step) -> Result<()> {
    for command in &step.commands {
        let mut request = Request::new(command.clone());
        if let Some(bytes) = step.change.stdin_of(command) {
            request = request.stdin(Stdin::Bytes(bytes));
        }
        client.execute_ok(request).await?;
    }
    Ok(())
}

/// Applies `plan` (from [`plan`] on the same host) once its removals are
/// `confirmed`: every step in order over `client` (root steps over `root`
/// when given), stopping at the first failure. See
/// [`ApplyReport::into_result`].
pub async fn apply_host(
    client: &Client,
    root: Option<&Client>,
    plan: &HostPlan,
    confirmed: &Confirmed,
    progress: &dyn ApplyProgress,
) -> Result<ApplyReport> {
    if !confirmed.covers(plan) {
        return Err(OpsError::Refused {
            message: format!(
                "the removals planned on {} were not confirmed; nothing was done",
                plan.host
            ),
        });
    }
    let mut report = ApplyReport {
        host: plan.host.clone(),
        done: Vec::new(),
        failed: None,
        not_done: Vec::new(),
    };
    let total = plan.steps.len();
    for (i, step) in plan.steps.iter().enumerate() {
        let what = step.lines.join("; ");
        if report.failed.is_some() {
            report.not_done.push(what);
            continue;
        }
        progress.event(ApplyEvent::Started {
            host: plan.host.clone(),
            index: i + 1,
            total,
            what: what.clone(),
        });
        let started = Instant::now();
        let on = match (step.needs_root, root) {
            (true, Some(r)) => r,
            _ => client,
        };
        match run_step(on, step).await {
            Ok(()) => {
                progress.event(ApplyEvent::Done {
                    host: plan.host.clone(),
                    what: what.clone(),
                    elapsed: started.elapsed(),
                });
                report.done.push(what);
            }
            Err(e) => {
                let error = e.to_string();
                progress.event(ApplyEvent::Failed {
                    host: plan.host.clone(),
                    what: what.clone(),
                    error: error.clone(),
                });
                report.failed = Some(FailedStep { what, error });
            }
        }
    }
    Ok(report)
}

/// Connects the admin user of `host_name` (shell login with `sudo`) when
/// the plan has root steps and the host names one; `None` otherwise.
pub async fn connect_root(
    config: &PixConfig,
    host_name: &str,
    host: &HostConfig,
    plan: &HostPlan,
    options: &crate::connect::ConnectOptions,
) -> Result<Option<Client>> {
    if !plan.steps.iter().any(|s| s.needs_root) {
        return Ok(None);
    }
    let provision = config.provision_of(host_name);
    match provision.admin_user {
        Some(user) => {
            let key = provision.admin_key.map(|k| key_path(config, k));
            let admin = admin_host(host, &user, key.as_deref());
            // The admin's own key wins over a --key meant for the dokku login.
            let options = crate::connect::ConnectOptions {
                key: if key.is_some() {
                    None
                } else {
                    options.key.clone()
                },
                ..options.clone()
            };
            Ok(Some(crate::connect::connect(&admin, &options).await?))
        }
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> HostConfig {
        let c = PixConfig::parse(
            "[hosts.h]\naddress='pix-app.ovh'\n",
            std::path::Path::new("/r"),
            std::path::Path::new("/r/pix.toml"),
        )
        .unwrap();
        c.hosts["h"].clone()
    }

    /// A key made with `ssh-keygen -t ed25519`, and the fingerprint
    /// `ssh-keygen -lf` printed for it (the oracle for [`key_fingerprint`]).
    const ALICE: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAD7MDKZTFNtdZ864snl8tqCgT5MLn/v6Srto8Jpg7ft alice@pix";
    const ALICE_FINGERPRINT: &str = "SHA256:ExMWkg+sAtn+tr4G2FPGsGREJEePX0efnQ1w0Cb/lMs";
    /// The same for `ssh-keygen -t rsa -b 1024`.
    const BOB: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC4GE0Rosrm3nqn5CysB18DzlKCP99tGTp6uDLGWeVkMu2K4DmaANZXXbuwKksx0KJJ86soWIF+M6mgWvWkrSk7bZtmBu/sAprCjFjseVNHDMqASoX0uGkJbyMtSnrKf+DX4dBDfI1qRIVDT2SCeTrME3XRvcVuWCVxYXWXpXuBIw== bob@pix";
    const BOB_FINGERPRINT: &str = "SHA256:j4EOk2nNhh3e17+gaAQiqdD/Dk0rUaRXb7kurVOPCrM";

    #[test]
    fn fingerprints_are_openssh_s() {
        assert_eq!(key_fingerprint(ALICE).as_deref(), Some(ALICE_FINGERPRINT));
        assert_eq!(key_fingerprint(BOB).as_deref(), Some(BOB_FINGERPRINT));
        assert_eq!(key_fingerprint("ssh-ed25519"), None);
        assert_eq!(key_fingerprint("ssh-ed25519 not*base64 c"), None);
    }

    #[test]
    fn a_rotated_key_is_replaced_not_left_alone() {
        let mut actual = ActualHost::default();
        actual.ssh_keys.insert("alice".into());
        actual
            .ssh_key_fingerprints
            .insert("alice".into(), BOB_FINGERPRINT.into());
        let plan = plan_host("h", &host(), &desired(), &actual, false);
        let replace: Vec<&Change> = plan
            .steps
            .iter()
            .map(|s| &s.change)
            .filter(|c| matches!(c, Change::ReplaceSshKey { .. } | Change::AddSshKey { .. }))
            .collect();
        assert_eq!(replace.len(), 1, "{replace:?}");
        assert!(
            matches!(replace[0], Change::ReplaceSshKey { name, from, to, .. }
                if name == "alice" && from == BOB_FINGERPRINT && to == ALICE_FINGERPRINT),
            "{replace:?}"
        );
        assert!(replace[0].needs_root() && !replace[0].is_removal());
        assert!(text(&plan).contains(&format!(
            "~ replace ssh key alice (keys/alice.pub): {BOB_FINGERPRINT} → {ALICE_FINGERPRINT}"
        )));
        // The same key under its name: nothing to do.
        actual
            .ssh_key_fingerprints
            .insert("alice".into(), ALICE_FINGERPRINT.into());
        let plan = plan_host("h", &host(), &desired(), &actual, false);
        assert!(!plan.steps.iter().any(|s| matches!(
            s.change,
            Change::ReplaceSshKey { .. } | Change::AddSshKey { .. }
        )));
    }

    fn desired() -> DesiredHost {
        DesiredHost {
            plugins: vec![plugin_spec("postgres").unwrap()],
            ssh_keys: vec![DesiredKey {
                name: "alice".into(),
                path: "keys/alice.pub".into(),
                key: ALICE.into(),
                fingerprint: ALICE_FINGERPRINT.into(),
            }],
            apps: vec![DesiredApp {
                environment: "production".into(),
                app: "api-prod".into(),
                service: "pg-prod".into(),
                config: vec![
                    DesiredVar {
                        key: "NODE_ENV".into(),
                        value: Some(SecretValue::new("production")),
                        secret: false,
                    },
                    DesiredVar {
                        key: "SECRET".into(),
                        value: Some(SecretValue::new("hunter2")),
                        secret: true,
                    },
                    DesiredVar {
                        key: "MISSING".into(),
                        value: None,
                        secret: true,
                    },
                ],
                domains: Some(vec!["api.pix.fr".into()]),
                storage: Some(vec!["/srv/pt:/placement_tests".into()]),
            }],
            admin_user: Some("ubuntu".into()),
            admin_key: None,
            review_prefix: Some("review-".into()),
        }
    }

    fn text(plan: &HostPlan) -> String {
        render(std::slice::from_ref(plan))
    }

    #[test]
    fn an_empty_host_gets_everything_in_a_safe_order() {
        let plan = plan_host("h", &host(), &desired(), &ActualHost::default(), true);
        let t = text(&plan);
        assert_eq!(
            t,
            "host h (pix-app.ovh):\n\
             \x20 + install plugin postgres (https://github.com/dokku/dokku-postgres.git) [needs root: via ubuntu@pix-app.ovh (shell login, sudo)]\n\
             \x20 + add ssh key alice (keys/alice.pub) [needs root: via ubuntu@pix-app.ovh (shell login, sudo)]\n\
             \x20 + create service pg-prod\n\
             \x20 + create app api-prod\n\
             \x20 ~ set NODE_ENV=production on api-prod\n\
             \x20 ~ set SECRET on api-prod (secret; value hidden)\n\
             \x20 + add domain api.pix.fr to api-prod\n\
             \x20 + mount /srv/pt:/placement_tests on api-prod\n\
             \x20 + link pg-prod to api-prod\n\
             \x20 ! MISSING of api-prod is in config_from_env but not set in the local environment: not set (export it and run again)\n"
        );
        assert!(!t.contains("hunter2"));
        let json = serde_json::to_string(&plan).unwrap();
        assert!(!json.contains("hunter2"), "{json}");
        assert!(!format!("{plan:?}").contains("hunter2"));
        assert!(json.contains("\"action\":\"create_app\""), "{json}");
        let cmds = plan.steps[4].change.commands().unwrap();
        assert!(!cmds[0].to_string().contains("hunter2"));
        assert!(!json.contains("hunter2"), "{json}");
        assert_eq!(plan.steps[0].via, "ubuntu@pix-app.ovh (shell login, sudo)");
        assert_eq!(plan.steps[2].via, "dokku@pix-app.ovh");
    }

    #[test]
    fn a_converged_host_plans_nothing_and_changes_are_exact() {
        let mut actual = ActualHost::default();
        actual.plugins.insert("postgres".into());
        actual.ssh_keys.insert("alice".into());
        actual.services.insert("pg-prod".into());
        actual.apps.insert("api-prod".into());
        actual
            .links
            .insert("pg-prod".into(), vec!["api-prod".into()]);
        actual.config.insert(
            "api-prod".into(),
            [("NODE_ENV", "production"), ("SECRET", "hunter2")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        actual
            .domains
            .insert("api-prod".into(), vec!["api.pix.fr".into()]);
        actual
            .storage
            .insert("api-prod".into(), vec!["/srv/pt:/placement_tests".into()]);
        let plan = plan_host("h", &host(), &desired(), &actual, true);
        assert!(plan.is_empty(), "{}", text(&plan));

        actual
            .config
            .get_mut("api-prod")
            .unwrap()
            .insert("NODE_ENV".into(), "staging".into());
        actual
            .config
            .get_mut("api-prod")
            .unwrap()
            .insert("SECRET".into(), "old-secret".into());
        actual.apps.insert("orphan".into());
        actual.apps.insert("review-feature-x".into());
        actual.services.insert("pg-orphan".into());
        actual
            .links
            .insert("pg-orphan".into(), vec!["orphan".into()]);
        actual
            .domains
            .get_mut("api-prod")
            .unwrap()
            .push("api-prod.pix-app.ovh".into());
        let lines: Vec<String> = plan_host("h", &host(), &desired(), &actual, false)
            .steps
            .iter()
            .flat_map(|s| s.lines.clone())
            .collect();
        assert_eq!(
            lines,
            [
                "~ set NODE_ENV=production on api-prod (was staging)",
                "~ set SECRET on api-prod (secret, changed; value hidden)"
            ]
        );
        let pruned: Vec<String> = plan_host("h", &host(), &desired(), &actual, true)
            .steps
            .iter()
            .skip(1)
            .flat_map(|s| s.lines.clone())
            .collect();
        assert_eq!(
            pruned,
            [
                "- unlink pg-orphan from orphan",
                "- remove domain api-prod.pix-app.ovh from api-prod",
                "- destroy app orphan",
                "- destroy service pg-orphan (its data is lost; its name must be typed to confirm)"
            ]
        );
    }

    #[test]
    fn plugin_entries() {
        assert_eq!(plugin_spec("postgres").unwrap().url, KNOWN_PLUGINS[0].1);
        let p = plugin_spec("https://github.com/dokku/dokku-letsencrypt.git").unwrap();
        assert_eq!(p.name, "letsencrypt");
        assert_eq!(
            plugin_spec("git@github.com:me/dokku-thing.git")
                .unwrap()
                .name,
            "thing"
        );
        assert!(plugin_spec("nonsense").is_err());
        assert!(plugin_spec("https://x/a b.git").is_err());
    }

    #[test]
    fn removals_need_confirmation_and_services_their_name() {
        let mut actual = ActualHost::default();
        actual.apps.insert("orphan".into());
        actual.services.insert("pg-orphan".into());
        let d = DesiredHost::default();
        let plan = plan_host("h", &host(), &d, &actual, true);
        let mut no = crate::confirm::NoTerminal;
        let yes = ApplyOptions {
            confirm: ConfirmFlags {
                yes: true,
                confirm: None,
            },
            command: String::new(),
        };
        let e = confirm_removals(&plan, &yes, &mut no).unwrap_err();
        assert!(e.to_string().contains("--confirm pg-orphan"), "{e}");
        let typed = ApplyOptions {
            confirm: ConfirmFlags {
                yes: true,
                confirm: Some("pg-orphan".into()),
            },
            command: String::new(),
        };
        // the typed name confirms the service, --yes the app
        confirm_removals(&plan, &typed, &mut no).unwrap();
        let c = confirm_removals(
            &HostPlan {
                steps: vec![],
                ..plan.clone()
            },
            &yes,
            &mut no,
        )
        .unwrap();
        assert!(
            !c.covers(&plan),
            "a token without the removals does not cover them"
        );
        let no_yes = ApplyOptions {
            confirm: ConfirmFlags {
                yes: false,
                confirm: Some("pg-orphan".into()),
            },
            command: String::new(),
        };
        assert!(confirm_removals(&plan, &no_yes, &mut no).is_err());
        let only_service = HostPlan {
            steps: plan
                .steps
                .iter()
                .filter(|s| matches!(s.change, Change::DestroyService { .. }))
                .cloned()
                .collect(),
            ..plan.clone()
        };
        confirm_removals(&only_service, &typed, &mut no).unwrap();
        assert!(confirm_removals(&only_service, &yes, &mut no).is_err());
    }

    #[test]
    fn the_shipped_pix_toml_plans_pixs_layout_on_an_empty_host() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../pix.toml");
        let c = PixConfig::load(&path).unwrap();
        let none = |_: &str| None;
        let d = desired_host(&c, "pix-app", &none).unwrap();
        let plan = plan_host(
            "pix-app",
            &c.hosts["pix-app"],
            &d,
            &ActualHost::default(),
            false,
        );
        let t = text(&plan);
        for line in [
            "+ install plugin postgres (https://github.com/dokku/dokku-postgres.git) [needs root: via ubuntu@pix-app.ovh (shell login, sudo)]",
            "+ create service pg-development",
            "+ create app api-prod",
            "~ set NODE_ENV=production on api-prod",
            "+ add domain api-prod.pix-app.ovh to api-prod",
            "+ mount /var/lib/dokku/data/storage/placement_tests:/placement_tests on api-prod",
            "+ link pg-prod to api-prod",
        ] {
            assert!(t.contains(line), "{line}\n{t}");
        }
    }

    #[test]
    fn desired_state_reads_keys_and_local_env() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("keys")).unwrap();
        std::fs::write(dir.path().join("keys/a.pub"), format!("{ALICE}\n")).unwrap();
        let text = "[hosts.h]\naddress='x'\nplugins=['postgres']\nssh_keys={ a='keys/a.pub' }\n[environments.e]\nhost='h'\napp='api-e'\ndatabase='pg-e'\nconfig={ NODE_ENV='e' }\nconfig_from_env=['S']\n";
        let c = PixConfig::parse(text, dir.path(), &dir.path().join("pix.toml")).unwrap();
        let env = |k: &str| (k == "S").then(|| "v".to_string());
        let d = desired_host(&c, "h", &env).unwrap();
        assert_eq!(d.ssh_keys[0].key, ALICE);
        assert_eq!(d.ssh_keys[0].fingerprint, ALICE_FINGERPRINT);
        assert_eq!(d.apps[0].config.len(), 2);
        assert_eq!(
            d.apps[0].config[1].value.as_ref().unwrap().expose_secret(),
            "v"
        );
        std::fs::write(dir.path().join("keys/a.pub"), "not a key\n").unwrap();
        let e = desired_host(&c, "h", &env).unwrap_err();
        assert!(e.to_string().contains("does not hold a public key"), "{e}");
    }
}
