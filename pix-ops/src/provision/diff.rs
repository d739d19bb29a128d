//! Desired against actual: the typed changes, their commands, the plan
//! and its rendering as a diff (pure).

use super::*;

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

    /// The Dokku commands of this change, in order, each with what it
    /// reads on stdin (pure; secrets hidden when displayed): what the plan
    /// shows and what the apply runs.
    pub fn commands(&self) -> Result<Vec<PlannedCommand>> {
        use dokku_client::{apps, config, domains, plugin, postgres, ssh_keys, storage};
        let add_key = |name: &str, key: &str| -> Result<PlannedCommand> {
            Ok(PlannedCommand {
                command: ssh_keys::add(name)?,
                stdin: Some(ssh_keys::add_stdin(key)),
            })
        };
        let commands = match self {
            Change::InstallPlugin { name, url } => vec![plugin::install(url, Some(name))?],
            Change::AddSshKey { name, key, .. } => return Ok(vec![add_key(name, key)?]),
            Change::ReplaceSshKey { name, key, .. } => {
                return Ok(vec![
                    PlannedCommand::new(ssh_keys::remove(name)?),
                    add_key(name, key)?,
                ])
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
        };
        Ok(commands.into_iter().map(PlannedCommand::new).collect())
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
    /// The Dokku commands the apply runs for it, in order, with their stdin
    /// (from [`Change::commands`]; shown with secrets hidden, stdin never).
    #[serde(serialize_with = "displayed")]
    pub commands: Vec<PlannedCommand>,
}

/// Commands as people see them (secrets hidden, no stdin), for the JSON
/// plan.
fn displayed<S: serde::Serializer>(
    commands: &[PlannedCommand],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(commands.iter().map(|c| c.command.display()))
}

/// One Dokku command of a plan and what it reads on stdin (an
/// `ssh-keys:add`'s public key): the apply sends exactly this, so the plan
/// shown is what runs. The stdin is never shown: `Debug` and `Display` show
/// the command (secrets hidden), and the JSON plan the command only.
#[derive(Clone, PartialEq, Eq)]
pub struct PlannedCommand {
    /// The command.
    pub command: Command,
    /// What it reads on stdin (`None`: stdin closed).
    stdin: Option<Vec<u8>>,
}

impl PlannedCommand {
    /// A command that reads nothing on stdin.
    pub fn new(command: Command) -> Self {
        PlannedCommand {
            command,
            stdin: None,
        }
    }

    /// Whether the command reads something on stdin.
    pub fn has_stdin(&self) -> bool {
        self.stdin.is_some()
    }

    /// The request that runs it: the command with its stdin.
    pub fn request(&self) -> Request {
        let request = Request::new(self.command.clone());
        match &self.stdin {
            Some(bytes) => request.stdin(Stdin::Bytes(bytes.clone())),
            None => request,
        }
    }
}

impl fmt::Debug for PlannedCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlannedCommand")
            .field("command", &self.command)
            .field("stdin", &self.stdin.as_ref().map(|_| "***"))
            .finish()
    }
}

impl fmt::Display for PlannedCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.command, f)
    }
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
