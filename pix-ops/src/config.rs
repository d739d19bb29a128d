//! `pix.toml`: hosts and environments.
//!
//! ```toml
//! [settings]
//! backups_dir = "backups"          # relative to the file's folder
//!
//! [hosts.pix-app]
//! address = "pix-app.ovh"
//! port = 22                        # optional
//! user = "dokku"                   # optional, default dokku
//! key = "~/.ssh/id_ed25519"        # optional
//! known_hosts = "~/.ssh/known_hosts" # optional
//! login = "dokku"                  # "dokku" (forced command) or "shell" (runs `dokku` itself)
//! sudo = false                     # with login = "shell"
//!
//! [environments.development]
//! host = "pix-app"
//! app = "api-development"
//! database = "pg-development"
//! protected = false
//! post_link = ["npm run db:migrate"]   # run through `dokku run` after relinking
//! deploy_dir = "api"                   # folder deployed (deploys)
//! ```
//!
//! Provisioning (all optional): per host `plugins = ["postgres"]`,
//! `ssh_keys = { alice = "keys/alice.pub" }`, `admin_user = "ubuntu"`,
//! `admin_key = "~/.ssh/id_admin"`; per
//! environment `config = { NODE_ENV = "production" }`,
//! `config_from_env = ["SECRET_KEY"]`, `domains = ["api.example.org"]`,
//! `storage = ["/var/lib/dokku/data/storage/x:/x"]`. A `[release]` table:
//! `integration_branch`, `main_branch`, `release_branch_prefix`,
//! `production_env`.
//!
//! Review apps (optional, in `[settings]`): `review_host`, `review_deploy_dir`,
//! `review_node_env` (default `integration`), `review_app_prefix`.
//!
//! The file is found by walking up from the current directory, or given
//! explicitly. `DOKKU_HOST` and `DOKKU_PORT` override the address and port of
//! every host (as PIX's Dokku client used them).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{OpsError, Result};

/// The configuration file's name.
pub const FILE_NAME: &str = "pix.toml";

/// How the login user reaches Dokku.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Login {
    /// `dokku@HOST`: the forced command receives the arguments.
    #[default]
    Dokku,
    /// A shell user that runs `dokku` itself (PIX's `ubuntu`).
    Shell,
}

/// One Dokku host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    /// Host name or address.
    pub address: String,
    /// SSH port (default: from `~/.ssh/config`, else 22).
    #[serde(default)]
    pub port: Option<u16>,
    /// Login user (default `dokku`).
    #[serde(default = "default_user")]
    pub user: String,
    /// Private key file.
    #[serde(default)]
    pub key: Option<PathBuf>,
    /// known_hosts file.
    #[serde(default)]
    pub known_hosts: Option<PathBuf>,
    /// Login mode.
    #[serde(default)]
    pub login: Login,
    /// With `login = "shell"`: run `dokku` through `sudo -n`.
    #[serde(default)]
    pub sudo: bool,
    /// With `login = "shell"`: the `dokku` binary on the server.
    #[serde(default)]
    pub dokku_path: Option<String>,
    /// Which SSH transport (`"openssh"`, the default, or `"native"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<SshKind>,
}

impl HostConfig {
    /// A host reached as `user@address[:port]` with Dokku's forced-command
    /// login and nothing else set (a remote URL's, `DOKKU_HOST`'s).
    pub fn dokku_login(address: &str, user: &str, port: Option<u16>) -> Self {
        HostConfig {
            address: address.to_string(),
            port,
            user: user.to_string(),
            key: None,
            known_hosts: None,
            login: Login::Dokku,
            sudo: false,
            dokku_path: None,
            transport: None,
        }
    }
}

/// The SSH transport: the OpenSSH multiplexer (default) or the in-process
/// one (`dokku_client::transport::NativeTransport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SshKind {
    /// `ssh` with a ControlMaster (the default).
    #[default]
    Openssh,
    /// The connection owned in-process, one spare channel ahead of need.
    Native,
}

impl std::str::FromStr for SshKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "openssh" => Ok(SshKind::Openssh),
            "native" => Ok(SshKind::Native),
            other => Err(format!(
                "unknown SSH transport {other:?}: use native or openssh"
            )),
        }
    }
}

fn default_user() -> String {
    "dokku".to_string()
}

/// One environment: an app and its database on a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentConfig {
    /// The host's key in `[hosts]`.
    pub host: String,
    /// The Dokku app.
    pub app: String,
    /// The Postgres service linked to the app.
    pub database: String,
    /// Protected environments need the database's name typed to confirm, and
    /// refuse `--no-backup`.
    #[serde(default)]
    pub protected: bool,
    /// Commands run through `dokku run <app>` after the new database is linked.
    #[serde(default)]
    pub post_link: Vec<String>,
    /// The folder deployed (PIX's `api/`), relative to the repository root.
    #[serde(default)]
    pub deploy_dir: Option<String>,
    /// Other names this environment answers to (`prod` for `production`).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Non-secret config vars `pix provision` sets (`NODE_ENV = "production"`).
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    /// Config vars whose values `pix provision` takes from the local
    /// environment at apply time (secrets: never printed).
    #[serde(default)]
    pub config_from_env: Vec<String>,
    /// The app's domains. Unset: domains are not managed.
    #[serde(default)]
    pub domains: Option<Vec<String>>,
    /// Storage mounts `/host/path:/app/path`. Unset: mounts are not managed.
    #[serde(default)]
    pub storage: Option<Vec<String>>,
}

/// Settings that are not per host or environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Where backups go (relative to the file's folder). Default `backups`.
    #[serde(default)]
    pub backups_dir: Option<PathBuf>,
    /// Where reset journals go (relative to the file's folder). Default `.pix`.
    #[serde(default)]
    pub state_dir: Option<PathBuf>,
    /// The host of review (branch) apps. Default: the only host, else the
    /// `development` environment's.
    #[serde(default)]
    pub review_host: Option<String>,
    /// The folder review apps deploy. Default: the `development`
    /// environment's `deploy_dir`.
    #[serde(default)]
    pub review_deploy_dir: Option<String>,
    /// `NODE_ENV` of review apps. Default `integration`.
    #[serde(default)]
    pub review_node_env: Option<String>,
    /// A prefix for review app names (`review-` gives `review-<branch>`).
    /// Default: none (PIX named apps after the branch).
    #[serde(default)]
    pub review_app_prefix: Option<String>,
}

/// The provisioning part of a `[hosts.<name>]` table (read apart from
/// [`HostConfig`], so that type keeps its shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct HostProvision {
    /// Plugins to install: a known name (`postgres`, `redis`,
    /// `letsencrypt`, ...) or a git URL (`https://.../dokku-x.git`).
    #[serde(default)]
    pub plugins: Vec<String>,
    /// Public keys that may deploy, by name: `{ alice = "keys/alice.pub" }`
    /// (paths relative to the file's folder).
    #[serde(default)]
    pub ssh_keys: BTreeMap<String, PathBuf>,
    /// A shell user with `sudo` (PIX's `ubuntu`) to log in as for the
    /// commands Dokku only runs as root (`plugin:install`, `ssh-keys:add`).
    /// Unset: those run over the host's own login.
    #[serde(default)]
    pub admin_user: Option<String>,
    /// The admin user's private key (default: the host's `key`).
    #[serde(default)]
    pub admin_key: Option<PathBuf>,
}

/// The keys of `[hosts.<name>]` that belong to [`HostProvision`].
pub const HOST_PROVISION_KEYS: &[&str] = &["plugins", "ssh_keys", "admin_user", "admin_key"];

/// The `[release]` table (`pix release`); every field has a default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ReleaseConfig {
    /// The branch releases are merged into first (PIX's `dev`).
    #[serde(default)]
    pub integration_branch: Option<String>,
    /// The branch that holds what production runs (PIX's `master`).
    #[serde(default)]
    pub main_branch: Option<String>,
    /// Release branches are `<prefix><version>` (PIX's `release-`).
    #[serde(default)]
    pub release_branch_prefix: Option<String>,
    /// The environment deployed at the end (default `production`).
    #[serde(default)]
    pub production_env: Option<String>,
}

/// The parsed `pix.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PixConfig {
    /// Settings.
    #[serde(default)]
    pub settings: Settings,
    /// `pix release` settings.
    #[serde(default)]
    pub release: ReleaseConfig,
    /// What `pix provision` sets up per host (`plugins`, `ssh_keys`,
    /// `admin_user` under `[hosts.<name>]`), by host name.
    #[serde(skip)]
    pub host_provision: BTreeMap<String, HostProvision>,
    /// Hosts by name.
    #[serde(default)]
    pub hosts: BTreeMap<String, HostConfig>,
    /// Environments by name.
    #[serde(default)]
    pub environments: BTreeMap<String, EnvironmentConfig>,
    /// The folder holding the file (relative paths are resolved from here).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// An environment resolved with its host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Environment {
    /// The environment's name.
    pub name: String,
    /// Its settings.
    #[serde(flatten)]
    pub config: EnvironmentConfig,
    /// Its host's name.
    pub host_name: String,
    /// Its host (with environment overrides applied).
    pub host_config: HostConfig,
}

impl PixConfig {
    /// Parses a `pix.toml` text; `base_dir` resolves relative paths.
    pub fn parse(text: &str, base_dir: &Path, source: &Path) -> Result<PixConfig> {
        let error = |e: toml::de::Error| OpsError::Config {
            path: source.to_path_buf(),
            message: e.message().to_string(),
        };
        let mut table: toml::Table = toml::from_str(text).map_err(error)?;
        let host_provision = take_host_provision(&mut table).map_err(error)?;
        let mut config: PixConfig = toml::Value::Table(table).try_into().map_err(error)?;
        config.host_provision = host_provision;
        config.base_dir = base_dir.to_path_buf();
        config.validate(source)?;
        Ok(config)
    }

    /// Reads and parses a file.
    pub fn load(path: &Path) -> Result<PixConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| OpsError::Config {
            path: path.to_path_buf(),
            message: format!("cannot read it: {e}"),
        })?;
        let base = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        PixConfig::parse(&text, &base, path)
    }

    /// Finds `pix.toml` by walking up from `start`.
    pub fn find(start: &Path) -> Option<PathBuf> {
        start
            .ancestors()
            .map(|dir| dir.join(FILE_NAME))
            .find(|p| p.is_file())
    }

    /// Loads `explicit` if given, else the file found from the current directory.
    pub fn discover(explicit: Option<&Path>) -> Result<PixConfig> {
        if let Some(path) = explicit {
            return PixConfig::load(path);
        }
        let cwd = std::env::current_dir()
            .map_err(|e| OpsError::io("reading the current directory", e))?;
        match PixConfig::find(&cwd) {
            Some(path) => PixConfig::load(&path),
            None => Err(OpsError::NoConfig { searched_from: cwd }),
        }
    }

    fn validate(&self, source: &Path) -> Result<()> {
        for (name, env) in &self.environments {
            if !self.hosts.contains_key(&env.host) {
                return Err(OpsError::Config {
                    path: source.to_path_buf(),
                    message: format!(
                        "environment `{name}` names host `{}`, which is not under [hosts] (known: {})",
                        env.host,
                        self.hosts.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
            for (i, line) in env.post_link.iter().enumerate() {
                if line.trim().is_empty() || line.contains('\0') {
                    return Err(OpsError::Config {
                        path: source.to_path_buf(),
                        message: format!(
                            "environment `{name}`: post_link[{i}] is empty or contains a NUL byte; write the shell line `dokku run` should run after relinking, e.g. \"npm run db:migrate\""
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// The environment called `name` (or one of its aliases), with its host,
    /// `DOKKU_HOST`/`DOKKU_PORT` overrides applied from `overrides`.
    pub fn environment(&self, name: &str, overrides: &HostOverrides) -> Result<Environment> {
        let (env_name, env) = self
            .environments
            .iter()
            .find(|(n, e)| n.as_str() == name || e.aliases.iter().any(|a| a == name))
            .ok_or_else(|| OpsError::UnknownEnvironment {
                name: name.to_string(),
                known: self.environments.keys().cloned().collect(),
            })?;
        let mut host = self
            .hosts
            .get(&env.host)
            .cloned()
            .ok_or_else(|| OpsError::Config {
                path: self.base_dir.join(FILE_NAME),
                message: format!("host `{}` is missing", env.host),
            })?;
        overrides.apply(&mut host);
        Ok(Environment {
            name: env_name.clone(),
            config: env.clone(),
            host_name: env.host.clone(),
            host_config: host,
        })
    }

    /// What `pix provision` sets up on host `name` (empty when unknown).
    pub fn provision_of(&self, name: &str) -> HostProvision {
        self.host_provision.get(name).cloned().unwrap_or_default()
    }

    /// Where backups of `env` go.
    pub fn backups_dir(&self) -> PathBuf {
        let dir = self
            .settings
            .backups_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("backups"));
        self.base_dir.join(dir)
    }

    /// Where journals and locks go.
    pub fn state_dir(&self) -> PathBuf {
        let dir = self
            .settings
            .state_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(".pix"));
        self.base_dir.join(dir)
    }
}

/// Removes the [`HOST_PROVISION_KEYS`] from every `[hosts.<name>]` table
/// and parses them.
fn take_host_provision(
    table: &mut toml::Table,
) -> std::result::Result<BTreeMap<String, HostProvision>, toml::de::Error> {
    use serde::de::Error as _;
    let mut out = BTreeMap::new();
    let Some(toml::Value::Table(hosts)) = table.get_mut("hosts") else {
        return Ok(out);
    };
    for (name, host) in hosts.iter_mut() {
        let toml::Value::Table(host) = host else {
            continue;
        };
        let mut part = toml::Table::new();
        for key in HOST_PROVISION_KEYS {
            if let Some(v) = host.remove(*key) {
                part.insert((*key).to_string(), v);
            }
        }
        let parsed: HostProvision =
            toml::Value::Table(part)
                .try_into()
                .map_err(|e: toml::de::Error| {
                    toml::de::Error::custom(format!("[hosts.{name}]: {}", e.message()))
                })?;
        out.insert(name.clone(), parsed);
    }
    Ok(out)
}

/// `DOKKU_HOST` / `DOKKU_PORT` (or `--host`/`--port`) overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostOverrides {
    /// Replaces every host's address.
    pub host: Option<String>,
    /// Replaces every host's port.
    pub port: Option<u16>,
}

impl HostOverrides {
    /// Reads `DOKKU_HOST` and `DOKKU_PORT` from the environment.
    pub fn from_env() -> Result<HostOverrides> {
        let host = std::env::var("DOKKU_HOST").ok().filter(|h| !h.is_empty());
        let port = match std::env::var("DOKKU_PORT") {
            Ok(p) if !p.is_empty() => Some(p.parse::<u16>().map_err(|_| OpsError::Usage {
                message: format!("DOKKU_PORT={p:?} is not a port number (1-65535)"),
            })?),
            _ => None,
        };
        Ok(HostOverrides { host, port })
    }

    fn apply(&self, host: &mut HostConfig) {
        if let Some(h) = &self.host {
            host.address = h.clone();
        }
        if let Some(p) = self.port {
            host.port = Some(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
[hosts.pix-app]
address = "pix-app.ovh"

[environments.development]
host = "pix-app"
app = "api-development"
database = "pg-development"
post_link = ["npm run db:migrate"]

[environments.production]
host = "pix-app"
app = "api-prod"
database = "pg-prod"
protected = true
aliases = ["prod"]
"#;

    fn sample() -> PixConfig {
        PixConfig::parse(SAMPLE, Path::new("/repo"), Path::new("/repo/pix.toml")).unwrap()
    }

    #[test]
    fn resolves_environments_and_aliases() {
        let c = sample();
        let env = c.environment("prod", &HostOverrides::default()).unwrap();
        assert_eq!(env.name, "production");
        assert!(env.config.protected);
        assert_eq!(env.host_config.user, "dokku");
        assert_eq!(env.host_config.address, "pix-app.ovh");
        assert_eq!(c.backups_dir(), PathBuf::from("/repo/backups"));
    }

    #[test]
    fn overrides_replace_host_and_port() {
        let c = sample();
        let o = HostOverrides {
            host: Some("127.0.0.1".into()),
            port: Some(2222),
        };
        let env = c.environment("development", &o).unwrap();
        assert_eq!(env.host_config.address, "127.0.0.1");
        assert_eq!(env.host_config.port, Some(2222));
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let c = sample();
        let e = c
            .environment("staging", &HostOverrides::default())
            .unwrap_err();
        assert!(e.to_string().contains("development, production"), "{e}");
        let bad = "[environments.x]\nhost='nope'\napp='a'\ndatabase='d'\n";
        let e = PixConfig::parse(bad, Path::new("/"), Path::new("/pix.toml")).unwrap_err();
        assert!(e.to_string().contains("`nope`"), "{e}");
        let e = PixConfig::parse(
            "[hosts.a]\nadress='x'\n",
            Path::new("/"),
            Path::new("/pix.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("adress"), "{e}");
    }

    #[test]
    fn provisioning_fields_parse_and_typos_are_refused() {
        let text = "[release]\nmain_branch='main'\n[hosts.a]\naddress='a'\nplugins=['postgres']\nssh_keys={ alice='keys/alice.pub' }\nadmin_user='ubuntu'\n[environments.e]\nhost='a'\napp='x'\ndatabase='pg-x'\nconfig={ NODE_ENV='production' }\nconfig_from_env=['SECRET']\ndomains=['x.example.org']\nstorage=['/h:/c']\n";
        let c = PixConfig::parse(text, Path::new("/r"), Path::new("/r/pix.toml")).unwrap();
        let p = c.provision_of("a");
        assert_eq!(p.plugins, vec!["postgres"]);
        assert_eq!(p.ssh_keys["alice"], PathBuf::from("keys/alice.pub"));
        assert_eq!(p.admin_user.as_deref(), Some("ubuntu"));
        assert_eq!(c.provision_of("nope"), HostProvision::default());
        assert_eq!(c.release.main_branch.as_deref(), Some("main"));
        let e = &c.environments["e"];
        assert_eq!(e.config["NODE_ENV"], "production");
        assert_eq!(
            e.domains.as_deref(),
            Some(&["x.example.org".to_string()][..])
        );
        assert_eq!(e.storage.as_deref(), Some(&["/h:/c".to_string()][..]));
        assert_eq!(e.config_from_env, vec!["SECRET"]);
        let e = PixConfig::parse(
            "[hosts.a]\naddress='a'\nplugins='postgres'\n",
            Path::new("/"),
            Path::new("/pix.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("[hosts.a]"), "{e}");
        let e = PixConfig::parse(
            "[release]\nmain='x'\n",
            Path::new("/"),
            Path::new("/pix.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("main"), "{e}");
    }

    #[test]
    fn the_shipped_pix_toml_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../pix.toml");
        let c = PixConfig::load(&path).unwrap();
        let dev = c
            .environment("development", &HostOverrides::default())
            .unwrap();
        assert_eq!(dev.config.app, "api-development");
        assert_eq!(dev.config.database, "pg-development");
        let prod = c
            .environment("production", &HostOverrides::default())
            .unwrap();
        assert!(prod.config.protected);
        assert_eq!(c.provision_of("pix-app").plugins, vec!["postgres"]);
        assert_eq!(prod.config.config["NODE_ENV"], "production");
        assert_eq!(c.release.integration_branch.as_deref(), Some("dev"));
    }
}
