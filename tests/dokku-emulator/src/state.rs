//! The emulator's state under its root directory.
//!
//! | path | what |
//! |---|---|
//! | `apps/<app>/app.json` | [`AppState`] |
//! | `apps/<app>/env.json` | the app's config vars (`{"K":"v"}`) |
//! | `apps/<app>/.deploy.lock` | deploy lock file (`apps:lock`, flock during deploys) |
//! | `apps/<app>/repo/` | bare git repository (`git push`) |
//! | `apps/<app>/tree/` | the deployed tree (checked out by a deploy) |
//! | `apps/<app>/logs/<proc>.<n>.log` | process output, one `<RFC3339 nanos> <line>` per line |
//! | `global/env.json` | global config vars |
//! | `global/settings.json` | [`GlobalSettings`] |
//! | `services/postgres/<svc>/service.json` | [`ServiceState`] |
//! | `services/postgres/<svc>/backup-schedule` | the cron line of `postgres:backup-schedule` |
//! | `ssh-keys/<name>` | public key lines of `ssh-keys:add` |
//! | `run/<app>.<proc>.<n>.pid` | process group id of a running process (contract) |
//! | `app-view/` | mount point of the container view's tmpfs (empty on the host) |
//! | `.dokkurc/DOKKU_EVENTS` | `events:on`'s switch |
//! | `events.log` | the events log (`events`) |
//!
//! Every JSON field has a default, so a fixture or test can seed a file with
//! just the fields it cares about.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Per-app state (`apps/<app>/app.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppState {
    /// Unix seconds of `apps:create`.
    pub created_at: i64,
    /// `git-push`, or empty before the first deploy.
    pub deploy_source: String,
    /// The deployed commit sha.
    pub deploy_source_metadata: String,
    /// `git:report --git-sha`.
    pub git_sha: String,
    /// `git:report --git-last-updated-at` (Unix seconds, as text).
    pub git_last_updated_at: String,
    /// `git:set deploy-branch` (empty: not set).
    pub deploy_branch: String,
    /// `git:set keep-git-dir`.
    pub keep_git_dir: String,
    /// `git:report --git-source-image`.
    pub source_image: String,
    /// App vhosts; `None` means the default `<app>.<global vhost>`.
    pub vhosts: Option<Vec<String>>,
    /// Vhosts served over https (their URL is `https://`).
    pub tls_vhosts: Vec<String>,
    /// `domains:report --domains-app-enabled` (default true).
    pub domains_disabled: bool,
    /// Formation from `ps:scale` (process type → quantity).
    pub formation: BTreeMap<String, u32>,
    /// True once deployed.
    pub deployed: bool,
    /// Container ids (64 hex) by `<proc>.<n>`: one per deployed instance.
    pub containers: BTreeMap<String, String>,
    /// `ps:set restore` (default true).
    pub restore_disabled: bool,
    /// `ps:set restart-policy` (empty: default).
    pub restart_policy: String,
    /// Procfile (process type → command) of the deployed tree.
    pub procfile: BTreeMap<String, String>,
    /// Storage attachments (`storage:mount`), in mount order.
    pub attachments: Vec<super::storage::Attachment>,
    /// Go plugins' properties (`plugin → property → value`).
    pub properties: super::properties::Properties,
}

/// Global settings (`global/settings.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GlobalSettings {
    /// Global vhosts override (`None`: the config's `global_vhost`).
    pub vhosts: Option<Vec<String>>,
    /// `git:set --global deploy-branch`.
    pub deploy_branch: String,
    /// `apps:set --global disable-autocreation`.
    pub disable_autocreation: String,
    /// Plugins added by `plugin:install` (name → git URL).
    pub plugins: BTreeMap<String, String>,
    /// Go plugins' global properties (`plugin → property → value`).
    pub properties: super::properties::Properties,
}

/// A postgres service (`services/postgres/<svc>/service.json`). The DSN is
/// `postgres://<user>:<password>@<host>:<port>/<database>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceState {
    /// Role in the DSN.
    pub user: String,
    /// Password (32 hex).
    pub password: String,
    /// Host in the DSN.
    pub host: String,
    /// Port in the DSN.
    pub port: u16,
    /// Database name.
    pub database: String,
    /// Container id (64 hex).
    pub id: String,
    /// Internal IP.
    pub internal_ip: String,
    /// Image and tag (`postgres:18.4`).
    pub version: String,
    /// `--config-options`.
    pub config_options: String,
    /// `5432->35432` when exposed.
    pub exposed_ports: String,
    /// `running`, `exited`, ...
    pub status: String,
    /// Linked apps, in link order.
    pub links: Vec<String>,
    /// Network rows.
    pub initial_network: String,
    /// Network rows.
    pub post_create_network: String,
    /// Network rows.
    pub post_start_network: String,
    /// True when the role and database exist in the sandbox's cluster.
    pub real: bool,
}

impl ServiceState {
    /// The DSN with a scheme.
    pub fn dsn(&self, scheme: &str) -> String {
        format!(
            "{scheme}://{}:{}@{}:{}/{}",
            self.user, self.password, self.host, self.port, self.database
        )
    }
}

/// Paths of the state directory.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The root.
    pub root: PathBuf,
}

impl Layout {
    /// The layout under `root`.
    pub fn new(root: &Path) -> Layout {
        Layout {
            root: root.to_path_buf(),
        }
    }
    /// `apps/`.
    pub fn apps_dir(&self) -> PathBuf {
        self.root.join("apps")
    }
    /// `apps/<app>/`.
    pub fn app_dir(&self, app: &str) -> PathBuf {
        self.apps_dir().join(app)
    }
    /// `apps/<app>/app.json`.
    pub fn app_file(&self, app: &str) -> PathBuf {
        self.app_dir(app).join("app.json")
    }
    /// `apps/<app>/env.json`.
    pub fn env_file(&self, app: &str) -> PathBuf {
        self.app_dir(app).join("env.json")
    }
    /// `global/env.json`.
    pub fn global_env_file(&self) -> PathBuf {
        self.root.join("global").join("env.json")
    }
    /// `global/settings.json`.
    pub fn global_settings_file(&self) -> PathBuf {
        self.root.join("global").join("settings.json")
    }
    /// `apps/<app>/.deploy.lock`.
    pub fn lock_file(&self, app: &str) -> PathBuf {
        self.app_dir(app).join(".deploy.lock")
    }
    /// `apps/<app>/repo`.
    pub fn repo_dir(&self, app: &str) -> PathBuf {
        self.app_dir(app).join("repo")
    }
    /// `apps/<app>/tree`.
    pub fn tree_dir(&self, app: &str) -> PathBuf {
        self.app_dir(app).join("tree")
    }
    /// `app-view`: where the app view's tmpfs is mounted (in a private
    /// mount namespace; an empty directory on the host).
    pub fn view_dir(&self) -> PathBuf {
        self.root.join("app-view")
    }
    /// `apps/<app>/logs`.
    pub fn logs_dir(&self, app: &str) -> PathBuf {
        self.app_dir(app).join("logs")
    }
    /// `services/postgres`.
    pub fn services_dir(&self) -> PathBuf {
        self.root.join("services").join("postgres")
    }
    /// `services/postgres/<svc>`.
    pub fn service_dir(&self, svc: &str) -> PathBuf {
        self.services_dir().join(svc)
    }
    /// `services/postgres/<svc>/service.json`.
    pub fn service_file(&self, svc: &str) -> PathBuf {
        self.service_dir(svc).join("service.json")
    }
    /// `run/<app>.<proc>.<n>.pid`.
    pub fn pid_file(&self, app: &str, instance: &str) -> PathBuf {
        self.root
            .join(crate::contract::RUN_DIR)
            .join(format!("{app}.{instance}.pid"))
    }
    /// `ssh-keys/`.
    pub fn ssh_keys_dir(&self) -> PathBuf {
        self.root.join("ssh-keys")
    }
}

/// Reads a JSON file; a missing file gives the default.
pub fn read_json<T: for<'de> Deserialize<'de> + Default>(path: &Path) -> io::Result<T> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            io::Error::other(format!(
                "{} is not valid emulator state ({e}); fix or delete it",
                path.display()
            ))
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(e),
    }
}

/// Writes a JSON file atomically (temp file + rename), creating directories.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other(format!("{} has no parent", path.display())))?;
    std::fs::create_dir_all(dir)?;
    let text = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("state"),
        std::process::id()
    ));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// App names: directories under `apps/`, byte-wise sorted, skipping names
/// starting with `.` or an upper-case letter.
pub fn list_apps(layout: &Layout) -> io::Result<Vec<String>> {
    list_dirs(&layout.apps_dir(), |n| {
        !n.starts_with('.') && !n.starts_with(|c: char| c.is_ascii_uppercase())
    })
}

/// Service names, sorted.
pub fn list_services(layout: &Layout) -> io::Result<Vec<String>> {
    list_dirs(&layout.services_dir(), |n| !n.starts_with('.'))
}

fn list_dirs(dir: &Path, keep: impl Fn(&str) -> bool) -> io::Result<Vec<String>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            if let Some(name) = entry.file_name().to_str() {
                if keep(name) {
                    out.push(name.to_owned());
                }
            }
        }
    }
    out.sort();
    Ok(out)
}
