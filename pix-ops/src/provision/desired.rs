//! The desired state of a host, from `pix.toml`: plugins, SSH keys, and per
//! environment its app, service, link, config, domains and mounts.

use super::*;

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

/// A key path from `pix.toml`: `~/...` and absolute paths as given, others
/// relative to the file's folder.
pub(crate) fn key_path(config: &PixConfig, path: PathBuf) -> PathBuf {
    if path.starts_with("~") {
        path
    } else {
        config.base_dir.join(path)
    }
}
