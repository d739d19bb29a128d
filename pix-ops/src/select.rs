//! Which Dokku host and app a command talks to, as PIX's Dokku client chose
//! them.
//!
//! Host, first match wins:
//! 1. `--env <name>`: that environment of `pix.toml` (its host, with
//!    `--host`/`DOKKU_HOST` and `--port`/`DOKKU_PORT` overriding the address
//!    and port);
//! 2. `--host`, then `DOKKU_HOST` (a host of `pix.toml` named so, or with that
//!    address, keeps its key and known_hosts; `local` runs `dokku` here);
//! 3. `pix.toml`'s single host (several hosts: one whose address a git remote
//!    points at, else `--env` or `--host` is needed);
//! 4. the git remote whose URL is `dokku@HOST:APP` or
//!    `ssh://dokku@HOST[:PORT]/APP` (`-r/--remote NAME` picks one; Dokku
//!    remotes on different hosts and none picked: an error listing them).
//!
//! App: `-a/--app`, else the environment's, else the app of the Dokku
//! remotes that point at the selected host (several apps and no `-r`: an
//! error listing the remotes, when an app is needed), else `pix.toml`'s only
//! environment on that host.
//!
//! [`select`] is pure; [`Ambient::discover`] reads the process environment,
//! `pix.toml` and the repository's remotes.

use std::path::Path;

use serde::Serialize;

use crate::config::{Environment, HostConfig, HostOverrides, PixConfig};
use crate::error::{OpsError, Result};
use crate::hosts::{targets, HostTarget};

/// What the command line says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelectArgs {
    /// `--host`: an address, a host name of `pix.toml`, or `local`.
    pub host: Option<String>,
    /// `--port`.
    pub port: Option<u16>,
    /// `--user`.
    pub user: Option<String>,
    /// `--env`.
    pub env: Option<String>,
    /// `--app`.
    pub app: Option<String>,
    /// `-r/--remote`: the git remote whose `dokku@HOST:APP` to use.
    pub remote: Option<String>,
}

/// A git remote: its name and URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GitRemote {
    /// `origin`, `dokku`, ...
    pub name: String,
    /// The fetch URL.
    pub url: String,
}

/// A remote URL that points at a Dokku app (the one parser is
/// [`crate::remote::RemoteUrl::parse`]; here the user is always `dokku`).
pub type RemoteTarget = crate::remote::RemoteUrl;

/// What the process environment and the current folder say.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ambient {
    /// `DOKKU_HOST`.
    pub dokku_host: Option<String>,
    /// `DOKKU_PORT`.
    pub dokku_port: Option<u16>,
    /// `pix.toml`, when one was found or given.
    pub config: Option<PixConfig>,
    /// The repository's remotes, in `git config` order.
    pub remotes: Vec<GitRemote>,
}

/// Where the host came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "from", content = "name")]
pub enum HostSource {
    /// `--env <name>`.
    Environment(String),
    /// `--host`.
    Flag,
    /// `DOKKU_HOST`.
    DokkuHost,
    /// `pix.toml`'s host of this name.
    PixToml(String),
    /// This git remote.
    GitRemote(String),
}

/// Where the app came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "from", content = "name")]
pub enum AppSource {
    /// `--app`.
    Flag,
    /// The environment of this name.
    Environment(String),
    /// This git remote.
    GitRemote(String),
}

/// The host (and maybe app) a command talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// How to reach the host.
    pub host: HostConfig,
    /// Where the host came from.
    pub host_source: HostSource,
    /// The app, when one was named or found.
    pub app: Option<String>,
    /// Where the app came from.
    pub app_source: Option<AppSource>,
    /// The environment, with `--env`.
    pub environment: Option<Environment>,
    /// Why no app was chosen although some could be (several Dokku remotes
    /// name different apps on the host): the error [`Selection::app_or`]
    /// gives when an app is needed.
    pub app_ambiguity: Option<String>,
}

impl Selection {
    /// The app given as an argument, else the selected one; an error that
    /// says how to name one otherwise.
    pub fn app_or(&self, given: Option<&str>) -> Result<String> {
        if let Some(app) = given {
            return Ok(app.to_string());
        }
        if let Some(why) = &self.app_ambiguity {
            return Err(OpsError::Usage {
                message: why.clone(),
            });
        }
        self.app.clone().ok_or_else(|| OpsError::Usage {
            message: "no app given: name it as an argument, with -a/--app, with --env <environment>, or add a git remote `dokku@HOST:APP`".into(),
        })
    }
}

/// Parses a git remote URL that points at a Dokku app: `dokku@HOST:APP` or
/// `ssh://dokku@HOST[:PORT]/APP` (a trailing `.git` or `/` is dropped). Any
/// other login user is not a Dokku remote here. Delegates to
/// [`crate::remote::RemoteUrl::parse_dokku`].
pub fn parse_remote_url(url: &str) -> Option<RemoteTarget> {
    crate::remote::RemoteUrl::parse_dokku(url)
}

/// Parses `git config --get-regexp '^remote\..*\.url$'` output.
pub fn parse_remotes(text: &str) -> Vec<GitRemote> {
    text.lines()
        .filter_map(|line| {
            let (key, url) = line.split_once(' ')?;
            let name = key.strip_prefix("remote.")?.strip_suffix(".url")?;
            Some(GitRemote {
                name: name.to_string(),
                url: url.trim().to_string(),
            })
        })
        .collect()
}

/// The remotes of the repository holding `dir` (none outside a repository
/// or without git).
pub fn git_remotes(dir: &Path) -> Vec<GitRemote> {
    let out = std::process::Command::new("git")
        .args(["config", "--get-regexp", r"^remote\..*\.url$"])
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output();
    match out {
        Ok(o) if o.status.success() => parse_remotes(&String::from_utf8_lossy(&o.stdout)),
        _ => Vec::new(),
    }
}

impl Ambient {
    /// Reads `DOKKU_HOST`, `DOKKU_PORT`, `pix.toml` (`config` if given, which
    /// must then exist, else found walking up from `dir`) and `dir`'s remotes.
    pub fn discover(config: Option<&Path>, dir: &Path) -> Result<Ambient> {
        let overrides = HostOverrides::from_env()?;
        let config = match config {
            Some(path) => Some(PixConfig::load(path)?),
            None => match PixConfig::find(dir) {
                Some(path) => Some(PixConfig::load(&path)?),
                None => None,
            },
        };
        Ok(Ambient {
            dokku_host: overrides.host,
            dokku_port: overrides.port,
            config,
            remotes: git_remotes(dir),
        })
    }
}

fn plain_host(address: &str) -> HostConfig {
    HostConfig::dokku_login(address, "dokku", None)
}

/// The only environment of `config` whose host has `address`: its name and
/// app.
fn single_environment(config: Option<&PixConfig>, address: &str) -> Option<(String, String)> {
    let config = config?;
    let mut here = config.environments.iter().filter(|(_, e)| {
        config
            .hosts
            .get(&e.host)
            .is_some_and(|h| h.address == address)
    });
    let (name, env) = here.next()?;
    here.next()
        .is_none()
        .then(|| (name.clone(), env.app.clone()))
}

/// Chooses the host and app (pure; see the module docs for the order).
pub fn select(args: &SelectArgs, ambient: &Ambient) -> Result<Selection> {
    let port = args.port.or(ambient.dokku_port);
    let all_remotes: Vec<(&GitRemote, RemoteTarget)> = ambient
        .remotes
        .iter()
        .filter_map(|r| parse_remote_url(&r.url).map(|t| (r, t)))
        .collect();
    let listed = |remotes: &[(&GitRemote, RemoteTarget)]| {
        remotes
            .iter()
            .map(|(r, t)| format!("{} ({}@{}:{})", r.name, t.user, t.host, t.app))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let dokku_remotes: Vec<(&GitRemote, RemoteTarget)> = match &args.remote {
        Some(name) => {
            let chosen: Vec<_> = all_remotes
                .iter()
                .filter(|(r, _)| &r.name == name)
                .cloned()
                .collect();
            if chosen.is_empty() {
                return Err(OpsError::NotFound {
                    message: format!(
                        "`{name}` is not a git remote of the form dokku@HOST:APP here ({}); see `git remote -v`",
                        if all_remotes.is_empty() {
                            "there is none".to_string()
                        } else {
                            format!("Dokku remotes: {}", listed(&all_remotes))
                        }
                    ),
                });
            }
            chosen
        }
        None => all_remotes.clone(),
    };
    // The app of the Dokku remotes that point at `address`: one app, or an
    // ambiguity to report when an app is needed.
    let remote_for = |address: &str| -> (Option<(String, AppSource)>, Option<String>) {
        let here: Vec<(&GitRemote, RemoteTarget)> = dokku_remotes
            .iter()
            .filter(|(_, t)| t.host == address)
            .cloned()
            .collect();
        let mut apps: Vec<&str> = here.iter().map(|(_, t)| t.app.as_str()).collect();
        apps.sort_unstable();
        apps.dedup();
        match (here.first(), apps.len()) {
            (Some((r, t)), 1) => (
                Some((t.app.clone(), AppSource::GitRemote(r.name.clone()))),
                None,
            ),
            (Some((r, _)), _) => (
                None,
                Some(format!(
                    "several Dokku remotes name apps on {address}: {}; choose one with -r/--remote NAME (e.g. `-r {}`) or name the app with -a/--app",
                    listed(&here),
                    r.name
                )),
            ),
            (None, _) => (None, None),
        }
    };

    let (mut host, host_source, environment) = if let Some(name) = &args.env {
        let config = ambient.config.as_ref().ok_or_else(|| OpsError::Usage {
            message: format!("--env {name} needs a pix.toml: none was found in this folder or its parents; create one or pass --config"),
        })?;
        let overrides = HostOverrides {
            host: args.host.clone().or_else(|| ambient.dokku_host.clone()),
            port,
        };
        let env = config.environment(name, &overrides)?;
        (
            env.host_config.clone(),
            HostSource::Environment(env.name.clone()),
            Some(env),
        )
    } else if let Some((given, source)) =
        args.host
            .as_ref()
            .map(|h| (h, HostSource::Flag))
            .or_else(|| {
                ambient
                    .dokku_host
                    .as_ref()
                    .map(|h| (h, HostSource::DokkuHost))
            })
    {
        let known = ambient.config.as_ref().and_then(|c| {
            c.hosts
                .get(given.as_str())
                .or_else(|| c.hosts.values().find(|h| &h.address == given))
        });
        (
            known.cloned().unwrap_or_else(|| plain_host(given)),
            source,
            None,
        )
    } else if let Some(config) = ambient.config.as_ref().filter(|c| !c.hosts.is_empty()) {
        let chosen = if config.hosts.len() == 1 {
            config.hosts.iter().next()
        } else {
            config
                .hosts
                .iter()
                .find(|(_, h)| dokku_remotes.iter().any(|(_, t)| t.host == h.address))
        };
        let (name, host) = chosen.ok_or_else(|| OpsError::Usage {
            message: format!(
                "pix.toml defines several hosts ({}); choose one with --env <environment> or --host <name>",
                config.hosts.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        })?;
        (host.clone(), HostSource::PixToml(name.clone()), None)
    } else if let Some((remote, target)) = dokku_remotes.first() {
        let hosts: Vec<&str> = dokku_remotes.iter().map(|(_, t)| t.host.as_str()).collect();
        if hosts.iter().any(|h| *h != target.host) {
            return Err(OpsError::Usage {
                message: format!(
                    "several Dokku remotes point at different hosts: {}; choose one with -r/--remote NAME (e.g. `-r {}`)",
                    listed(&dokku_remotes),
                    remote.name
                ),
            });
        }
        let mut host = plain_host(&target.host);
        host.user = target.user.clone();
        host.port = target.port;
        (host, HostSource::GitRemote(remote.name.clone()), None)
    } else {
        return Err(OpsError::Usage {
            message: "no Dokku host: pass --host HOST (or `local`), set DOKKU_HOST, add a pix.toml, or run from a repository with a git remote `dokku@HOST:APP`".into(),
        });
    };
    if environment.is_none() {
        if let Some(p) = port {
            host.port = Some(p);
        }
    }
    if let Some(user) = &args.user {
        host.user = user.clone();
    }

    let mut app_ambiguity = None;
    let (app, app_source) = match (&args.app, &environment) {
        (Some(app), _) => (Some(app.clone()), Some(AppSource::Flag)),
        (None, Some(env)) => (
            Some(env.config.app.clone()),
            Some(AppSource::Environment(env.name.clone())),
        ),
        (None, None) => {
            let (found, ambiguity) = remote_for(&host.address);
            app_ambiguity = ambiguity;
            match found {
                Some((app, source)) => (Some(app), Some(source)),
                // No remote names the app: pix.toml's only environment on
                // this host, if it has just one.
                None if app_ambiguity.is_none() && args.remote.is_none() => {
                    match single_environment(ambient.config.as_ref(), &host.address) {
                        Some((name, app)) => (Some(app), Some(AppSource::Environment(name))),
                        None => (None, None),
                    }
                }
                None => (None, None),
            }
        }
    };
    Ok(Selection {
        host,
        host_source,
        app,
        app_source,
        environment,
        app_ambiguity,
    })
}

/// Which hosts of `config` a command that works on several hosts reaches
/// (pure): `--host NAME` (a host of pix.toml) picks that one; otherwise
/// every host. An address given by `--host`/`DOKKU_HOST` (or a port by
/// `--port`/`DOKKU_PORT`) overrides the host's only when one host is
/// selected: several hosts cannot share one address. `user` (`--user`)
/// replaces each host's login user.
pub fn select_hosts(
    config: &PixConfig,
    host_flag: Option<&str>,
    overrides: &HostOverrides,
    user: Option<&str>,
) -> Result<Vec<HostTarget>> {
    let named = host_flag.filter(|h| config.hosts.contains_key(*h));
    let (only, overrides) = match named {
        Some(name) => (
            vec![name.to_string()],
            HostOverrides {
                host: None,
                port: overrides.port,
            },
        ),
        None => (Vec::new(), overrides.clone()),
    };
    let mut list = targets(config, &HostOverrides::default(), &only)?;
    if list.is_empty() {
        return Err(OpsError::Usage {
            message: format!(
                "the pix.toml in {} names no host; add a [hosts.NAME] table",
                config.base_dir.display()
            ),
        });
    }
    let overriding = overrides.host.is_some() || overrides.port.is_some();
    if overriding && list.len() > 1 {
        return Err(OpsError::Usage {
            message: format!(
                "--host/DOKKU_HOST or --port/DOKKU_PORT gives one address, but pix.toml names {} hosts ({}); pass --host NAME to pick one of them",
                list.len(),
                list.iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    for t in &mut list {
        if let Some(a) = &overrides.host {
            t.host.address = a.clone();
        }
        if let Some(p) = overrides.port {
            t.host.port = Some(p);
        }
        if let Some(u) = user {
            t.host.user = u.to_string();
        }
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = r#"
[hosts.pix-app]
address = "pix-app.ovh"
key = "/keys/pix"

[environments.development]
host = "pix-app"
app = "api-development"
database = "pg-development"

[environments.production]
host = "pix-app"
app = "api-prod"
database = "pg-prod"
protected = true
aliases = ["prod"]
"#;

    fn config(text: &str) -> PixConfig {
        PixConfig::parse(text, Path::new("/repo"), Path::new("/repo/pix.toml")).unwrap()
    }

    fn remote(name: &str, url: &str) -> GitRemote {
        GitRemote {
            name: name.into(),
            url: url.into(),
        }
    }

    fn args() -> SelectArgs {
        SelectArgs::default()
    }

    #[test]
    fn remote_urls() {
        let t = parse_remote_url("dokku@pix-app.ovh:api-development").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.app.as_str()),
            ("pix-app.ovh", None, "api-development")
        );
        let t = parse_remote_url("ssh://dokku@127.0.0.1:2222/myapp.git").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.app.as_str()),
            ("127.0.0.1", Some(2222), "myapp")
        );
        let t = parse_remote_url("ssh://dokku@[::1]:22/a/").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", Some(22)));
        let t = parse_remote_url("ssh://dokku@host/app").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("host", None));
        for not in [
            "git@github.com:1024pix/pix.git",
            "https://github.com/1024pix/pix.git",
            "dokku@host:",
            "dokku@host:Bad_App",
            "ssh://dokku@host:notaport/app",
            "/some/path",
            "dokku@host:org/app",
            "ubuntu@host:app",
        ] {
            assert_eq!(parse_remote_url(not), None, "{not}");
        }
    }

    #[test]
    fn remotes_from_git_config() {
        let r = parse_remotes(
            "remote.origin.url git@github.com:1024pix/pix.git\nremote.dokku.url dokku@h:app\nnoise\n",
        );
        assert_eq!(
            r,
            vec![
                remote("origin", "git@github.com:1024pix/pix.git"),
                remote("dokku", "dokku@h:app")
            ]
        );
    }

    /// One row: the inputs and what must be selected.
    struct Case {
        args: SelectArgs,
        ambient: Ambient,
        host: &'static str,
        port: Option<u16>,
        source: HostSource,
        app: Option<&'static str>,
    }

    fn check(case: Case) {
        let s = select(&case.args, &case.ambient).unwrap();
        assert_eq!(s.host.address, case.host, "{:?}", case.args);
        assert_eq!(s.host.port, case.port, "{:?}", case.args);
        assert_eq!(s.host_source, case.source, "{:?}", case.args);
        assert_eq!(s.app.as_deref(), case.app, "{:?}", case.args);
    }

    /// Several Dokku remotes: `-r` picks one; without it an app that
    /// differs between them is an error naming them, not the first one.
    #[test]
    fn several_dokku_remotes_need_a_choice() {
        let ambient = Ambient {
            remotes: vec![
                remote("origin", "git@github.com:1024pix/pix.git"),
                remote("dev", "dokku@pix-app.ovh:api-development"),
                remote("prod", "dokku@pix-app.ovh:api-prod"),
            ],
            ..Default::default()
        };
        let s = select(&args(), &ambient).unwrap();
        assert_eq!(s.app, None);
        let e = s.app_or(None).unwrap_err().to_string();
        assert!(
            e.contains("dev (dokku@pix-app.ovh:api-development)")
                && e.contains("prod (dokku@pix-app.ovh:api-prod)")
                && e.contains("`-r dev`"),
            "{e}"
        );
        let picked = SelectArgs {
            remote: Some("prod".into()),
            ..args()
        };
        let s = select(&picked, &ambient).unwrap();
        assert_eq!(
            (s.app.as_deref(), s.app_source),
            (Some("api-prod"), Some(AppSource::GitRemote("prod".into())))
        );
        let wrong = SelectArgs {
            remote: Some("origin".into()),
            ..args()
        };
        let e = select(&wrong, &ambient).unwrap_err().to_string();
        assert!(
            e.contains("`origin` is not a git remote of the form dokku@HOST:APP"),
            "{e}"
        );
        // Remotes on two hosts and no choice: the host itself is ambiguous.
        let two_hosts = Ambient {
            remotes: vec![
                remote("a", "dokku@one.example:x"),
                remote("b", "dokku@two.example:y"),
            ],
            ..Default::default()
        };
        let e = select(&args(), &two_hosts).unwrap_err().to_string();
        assert!(
            e.contains("different hosts") && e.contains("-r/--remote"),
            "{e}"
        );
    }

    /// No remote names the app: pix.toml's only environment on the host.
    #[test]
    fn the_single_environment_is_the_default_app() {
        let one = config(
            "[hosts.h]\naddress = \"h.example\"\n[environments.development]\nhost = \"h\"\napp = \"api-dev\"\ndatabase = \"pg\"\n",
        );
        let ambient = Ambient {
            config: Some(one),
            ..Default::default()
        };
        let s = select(&args(), &ambient).unwrap();
        assert_eq!(
            (s.app.as_deref(), s.app_source),
            (
                Some("api-dev"),
                Some(AppSource::Environment("development".into()))
            )
        );
        // Two environments on the host: no default.
        let s = select(
            &args(),
            &Ambient {
                config: Some(config(TOML)),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(s.app, None);
    }

    #[test]
    fn precedence_table() {
        let with_toml = Ambient {
            config: Some(config(TOML)),
            remotes: vec![
                remote("origin", "git@github.com:1024pix/pix.git"),
                remote("dokku", "dokku@pix-app.ovh:api-development"),
            ],
            ..Default::default()
        };
        // pix.toml's single host; app from the remote pointing at it.
        check(Case {
            args: args(),
            ambient: with_toml.clone(),
            host: "pix-app.ovh",
            port: None,
            source: HostSource::PixToml("pix-app".into()),
            app: Some("api-development"),
        });
        // --env wins, with its app; DOKKU_HOST/--port override address and port.
        check(Case {
            args: SelectArgs {
                env: Some("prod".into()),
                port: Some(2222),
                ..args()
            },
            ambient: Ambient {
                dokku_host: Some("127.0.0.1".into()),
                ..with_toml.clone()
            },
            host: "127.0.0.1",
            port: Some(2222),
            source: HostSource::Environment("production".into()),
            app: Some("api-prod"),
        });
        // --host beats DOKKU_HOST, which beats pix.toml; --app beats the remote.
        check(Case {
            args: SelectArgs {
                host: Some("other.example".into()),
                app: Some("x".into()),
                ..args()
            },
            ambient: Ambient {
                dokku_host: Some("env.example".into()),
                ..with_toml.clone()
            },
            host: "other.example",
            port: None,
            source: HostSource::Flag,
            app: Some("x"),
        });
        check(Case {
            args: args(),
            ambient: Ambient {
                dokku_host: Some("env.example".into()),
                dokku_port: Some(2200),
                ..with_toml.clone()
            },
            host: "env.example",
            port: Some(2200),
            source: HostSource::DokkuHost,
            app: None,
        });
        // No pix.toml: the dokku remote chosen with -r (several, on two
        // hosts, need a choice: see several_dokku_remotes_need_a_choice),
        // ssh:// form with its port.
        check(Case {
            args: SelectArgs {
                remote: Some("staging".into()),
                ..args()
            },
            ambient: Ambient {
                remotes: vec![
                    remote("origin", "git@github.com:a/b.git"),
                    remote("staging", "ssh://dokku@10.0.0.5:2222/api-staging"),
                    remote("prod", "dokku@10.0.0.6:api-prod"),
                ],
                ..Default::default()
            },
            host: "10.0.0.5",
            port: Some(2222),
            source: HostSource::GitRemote("staging".into()),
            app: Some("api-staging"),
        });
        // --host local.
        check(Case {
            args: SelectArgs {
                host: Some("local".into()),
                ..args()
            },
            ambient: Ambient::default(),
            host: "local",
            port: None,
            source: HostSource::Flag,
            app: None,
        });
    }

    #[test]
    fn a_pix_toml_host_named_by_host_keeps_its_key() {
        let ambient = Ambient {
            config: Some(config(TOML)),
            ..Default::default()
        };
        let s = select(
            &SelectArgs {
                host: Some("pix-app".into()),
                user: Some("ubuntu".into()),
                ..args()
            },
            &ambient,
        )
        .unwrap();
        assert_eq!(s.host.address, "pix-app.ovh");
        assert_eq!(s.host.key, Some("/keys/pix".into()));
        assert_eq!(s.host.user, "ubuntu");
        let s = select(
            &SelectArgs {
                host: Some("pix-app.ovh".into()),
                ..args()
            },
            &ambient,
        )
        .unwrap();
        assert_eq!(s.host.key, Some("/keys/pix".into()));
    }

    #[test]
    fn errors_say_how_to_choose() {
        let e = select(&args(), &Ambient::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("--host") && e.contains("DOKKU_HOST") && e.contains("dokku@HOST:APP"),
            "{e}"
        );
        let two = format!("{TOML}\n[hosts.other]\naddress = \"o.example\"\n");
        let e = select(
            &args(),
            &Ambient {
                config: Some(config(&two)),
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("other, pix-app") && e.contains("--env"), "{e}");
        let e = select(
            &SelectArgs {
                env: Some("staging".into()),
                ..args()
            },
            &Ambient {
                config: Some(config(TOML)),
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("development, production"), "{e}");
        let e = select(
            &SelectArgs {
                env: Some("development".into()),
                ..args()
            },
            &Ambient::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("pix.toml"), "{e}");
        let s = select(
            &SelectArgs {
                host: Some("h".into()),
                ..args()
            },
            &Ambient::default(),
        )
        .unwrap();
        assert!(s.app_or(None).unwrap_err().to_string().contains("--app"));
        assert_eq!(s.app_or(Some("a")).unwrap(), "a");
    }

    #[test]
    fn several_hosts_pick_the_one_a_remote_points_at() {
        let two = format!("{TOML}\n[hosts.other]\naddress = \"o.example\"\n");
        let s = select(
            &args(),
            &Ambient {
                config: Some(config(&two)),
                remotes: vec![remote("dokku", "dokku@o.example:review-1")],
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(s.host_source, HostSource::PixToml("other".into()));
        assert_eq!(s.app.as_deref(), Some("review-1"));
    }

    #[test]
    fn remotes_of_a_scratch_repository() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .args(args)
                .current_dir(dir.path())
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q"]);
        git(&["remote", "add", "origin", "git@github.com:1024pix/pix.git"]);
        git(&[
            "remote",
            "add",
            "dokku",
            "dokku@pix-app.ovh:api-development",
        ]);
        let remotes = git_remotes(dir.path());
        assert_eq!(remotes.len(), 2);
        let s = select(
            &args(),
            &Ambient {
                remotes,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(s.host.address, "pix-app.ovh");
        assert_eq!(s.app.as_deref(), Some("api-development"));
        let outside = tempfile::tempdir().unwrap();
        assert!(git_remotes(outside.path()).is_empty());
    }

    #[test]
    fn several_host_targets_follow_the_flags() {
        let config = |text: &str| {
            PixConfig::parse(
                text,
                std::path::Path::new("/r"),
                std::path::Path::new("/r/pix.toml"),
            )
            .unwrap()
        };
        let two = config("[hosts.a]\naddress='a.example'\n[hosts.b]\naddress='b.example'\n");
        let none = HostOverrides::default();
        let names = |l: Vec<HostTarget>| l.into_iter().map(|t| t.name).collect::<Vec<_>>();
        assert_eq!(
            names(select_hosts(&two, None, &none, None).unwrap()),
            ["a", "b"]
        );
        let one = select_hosts(&two, Some("b"), &none, Some("admin")).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(
            (one[0].name.as_str(), one[0].host.user.as_str()),
            ("b", "admin")
        );
        // An address for several hosts is refused; for one it applies.
        let addr = HostOverrides {
            host: Some("10.0.0.1".into()),
            port: None,
        };
        let e = select_hosts(&two, Some("10.0.0.1"), &addr, None).unwrap_err();
        assert!(matches!(e, OpsError::Usage { .. }), "{e:?}");
        let single = config("[hosts.a]\naddress='a.example'\n");
        let t = select_hosts(&single, Some("10.0.0.1"), &addr, None).unwrap();
        assert_eq!(t[0].host.address, "10.0.0.1");
        // Picking a host by name with a port override.
        let port = HostOverrides {
            host: Some("b".into()),
            port: Some(2222),
        };
        let t = select_hosts(&two, Some("b"), &port, None).unwrap();
        assert_eq!(
            (t[0].host.address.as_str(), t[0].host.port),
            ("b.example", Some(2222))
        );
    }
}
