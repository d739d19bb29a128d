//! Review apps: one Dokku app per branch, with its own Postgres service.
//!
//! **How a review app is recognised.** `up` sets two config vars on the app
//! (with `--no-restart`, together with `NODE_ENV`):
//! - `PIX_REVIEW_BRANCH=<branch>`: the branch it deploys;
//! - `PIX_REVIEW_SERVICE=<service>`: the Postgres service made for it.
//!
//! Only apps carrying `PIX_REVIEW_BRANCH` are listed, removed or pruned, and
//! never an app or service named in `pix.toml` (the environments, protected
//! or not), whatever its config says.
//!
//! The app is named after the branch ([`crate::deploy::branch_app_name`]),
//! the service after the app ([`review_service_name`]: `<app>-db`).

use dokku_client::config::ConfigSetOptions;
use dokku_client::postgres::{LinkOptions, UnlinkOptions};
use dokku_client::Client;
use serde::Serialize;

use crate::config::PixConfig;
use crate::confirm::{self, ConfirmFlags, ConfirmRequest, Prompter};
use crate::deploy::{
    self, BranchMapping, BranchSettings, DeployEvent, DeployOptions, DeployReport,
};
use crate::error::{OpsError, Result};
use crate::git::Git;
use crate::progress::Progress;

/// The config var naming a review app's branch.
pub const BRANCH_VAR: &str = "PIX_REVIEW_BRANCH";
/// The config var naming a review app's Postgres service.
pub const SERVICE_VAR: &str = "PIX_REVIEW_SERVICE";

/// The Postgres service of a review app (pure): the app's name with `.`
/// turned into `-`, then `-db`.
pub fn review_service_name(app: &str) -> String {
    format!("{}-db", app.replace('.', "-"))
}

/// True when `app` or `service` is named in `pix.toml` (never touched).
pub fn reserved_app(config: &PixConfig, app: &str) -> bool {
    config.environments.values().any(|e| e.app == app)
}

/// True when `service` is an environment's database in `pix.toml`.
pub fn reserved_service(config: &PixConfig, service: &str) -> bool {
    config.environments.values().any(|e| e.database == service)
}

/// What `up` is asked for.
#[derive(Debug, Clone, Default)]
pub struct UpOptions {
    /// The branch (default: the current one). Its local ref is deployed.
    pub branch: Option<String>,
    /// The deploy's options (`repo`, `connect`; `rev` is set from `branch`).
    pub deploy: DeployOptions,
}

/// What `up` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpReport {
    /// The branch and its app.
    pub mapping: BranchMapping,
    /// The Postgres service.
    pub service: String,
    /// The app was created now.
    pub created_app: bool,
    /// The service was created now.
    pub created_service: bool,
    /// The service was linked now.
    pub linked: bool,
    /// The deploy.
    pub deploy: DeployReport,
}

/// `pix review-app up [branch]`: creates the app if missing, sets
/// `NODE_ENV`, `PIX_REVIEW_BRANCH` and `PIX_REVIEW_SERVICE` with
/// `--no-restart`, creates and links the app's own Postgres service, then
/// deploys (see [`deploy::deploy`]). Safe to run again: existing pieces are
/// kept.
pub async fn up(
    client: &Client,
    config: &PixConfig,
    settings: &BranchSettings,
    options: &UpOptions,
    prompter: &mut dyn Prompter,
    progress: &dyn Progress<DeployEvent>,
) -> Result<UpReport> {
    let git = Git::new(&options.deploy.repo);
    let branch = match &options.branch {
        Some(b) => b.clone(),
        None => deploy::current_branch(&git).await?,
    };
    let target = deploy::branch_target(settings, &branch)?;
    let app = target.app.clone();
    progress.event(DeployEvent::Mapped {
        branch: branch.clone(),
        app: app.clone(),
    });
    if reserved_app(config, &app) {
        return Err(OpsError::Refused {
            message: format!(
                "branch {branch} maps to app {app}, which is an environment of pix.toml; review apps never touch it. Rename the branch or set [settings] review_app_prefix"
            ),
        });
    }
    let service = review_service_name(&app);
    if reserved_service(config, &service) {
        return Err(OpsError::Refused {
            message: format!(
                "the review database {service} is an environment's database in pix.toml; set [settings] review_app_prefix"
            ),
        });
    }

    let created_app = !client.apps_exists(&app).await?;
    if created_app {
        progress.event(DeployEvent::Note(format!("creating app {app}")));
        client.apps_create(&app).await?;
    } else {
        match client.config_get(app.as_str(), BRANCH_VAR).await? {
            Some(b) if b == branch => {}
            Some(b) => {
                return Err(OpsError::Refused {
                    message: format!(
                        "app {app} is the review app of branch {b}, not {branch} (two branches map to the same name); nothing was changed"
                    ),
                })
            }
            None => {
                return Err(OpsError::Refused {
                    message: format!(
                        "app {app} already exists and is not a review app (no {BRANCH_VAR}); nothing was changed"
                    ),
                })
            }
        }
    }
    client
        .config_set(
            app.as_str(),
            &[
                ("NODE_ENV", settings.node_env.as_str()),
                (BRANCH_VAR, branch.as_str()),
                (SERVICE_VAR, service.as_str()),
            ],
            ConfigSetOptions::default().no_restart(),
        )
        .await?;
    let created_service = !client.postgres_exists(&service).await?;
    if created_service {
        progress.event(DeployEvent::Note(format!(
            "creating Postgres service {service}"
        )));
        client.postgres_create(&service).await?;
    }
    let linked = !client.postgres_linked(&service, &app).await?;
    if linked {
        client
            .postgres_link(&service, &app, &LinkOptions::default().no_restart())
            .await?;
    }
    let mut deploy_options = options.deploy.clone();
    if options.branch.is_some() && deploy_options.rev.is_none() {
        deploy_options.rev = Some(branch.clone());
    }
    let report = deploy::deploy(client, &target, &deploy_options, prompter, progress).await?;
    Ok(UpReport {
        mapping: BranchMapping { branch, app },
        service,
        created_app,
        created_service,
        linked,
        deploy: report,
    })
}

/// One review app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewApp {
    /// The app.
    pub app: String,
    /// Its branch (`PIX_REVIEW_BRANCH`).
    pub branch: String,
    /// Its Postgres service (`PIX_REVIEW_SERVICE`).
    pub service: Option<String>,
    /// The deployed commit (`git:report` sha, else `apps:report` deploy
    /// source metadata); `None` before the first deploy.
    pub commit: Option<String>,
    /// The source commit named in the deploy commit's message, when the
    /// deploy commit is known locally.
    pub source_commit: Option<String>,
    /// The app's URLs (from its vhosts).
    pub urls: Vec<String>,
}

/// `pix review-app list`: every app with `PIX_REVIEW_BRANCH`, except apps of
/// `pix.toml`. With `git`, the source commits are read from the local deploy
/// commits.
pub async fn list(
    client: &Client,
    config: &PixConfig,
    git: Option<&Git>,
) -> Result<Vec<ReviewApp>> {
    let mut out = Vec::new();
    for app in client.apps_list().await? {
        if reserved_app(config, &app) {
            continue;
        }
        let vars = client.config_show(app.as_str()).await?;
        let Some(branch) = vars.get(BRANCH_VAR).map(str::to_string) else {
            continue;
        };
        let (git_report, app_report, domains) = tokio::join!(
            client.git_report(&app),
            client.apps_report(&app),
            client.domains_report(&app)
        );
        // 0.19 has the sha in apps:report (`--git-sha`), not in git:report.
        let app_report = app_report.ok();
        let git_sha = git_report?.sha.filter(|s| !s.is_empty()).or_else(|| {
            app_report
                .as_ref()
                .and_then(|r| r.other.get("git_sha").cloned())
        });
        let commit = pick_commit(git_sha, app_report.and_then(|r| r.deploy_source_metadata));
        let source_commit = match (git, &commit) {
            (Some(g), Some(c)) => g
                .query(&["log", "-1", "--format=%B", c])
                .await?
                .and_then(|m| deploy::parse_message(&m).0),
            _ => None,
        };
        out.push(ReviewApp {
            urls: domains
                .map(|d| d.app_vhosts.iter().map(|v| format!("http://{v}")).collect())
                .unwrap_or_default(),
            service: vars.get(SERVICE_VAR).map(str::to_string),
            app,
            branch,
            commit,
            source_commit,
        });
    }
    Ok(out)
}

/// The deployed commit from `git:report`'s sha (7 characters before 0.38)
/// and `apps:report`'s deploy source metadata (pure): the full SHA when the
/// metadata extends the report's sha, else whichever is there.
pub fn pick_commit(git_sha: Option<String>, metadata: Option<String>) -> Option<String> {
    let git_sha = git_sha.filter(|s| !s.is_empty());
    let metadata = metadata.filter(|m| m.len() == 40 && m.chars().all(|c| c.is_ascii_hexdigit()));
    match (git_sha, metadata) {
        (Some(s), Some(m)) if m.starts_with(&s) => Some(m),
        (Some(s), _) => Some(s),
        (None, m) => m,
    }
}

/// What removing a review app did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Removed {
    /// The app (destroyed).
    pub app: String,
    /// Its branch.
    pub branch: String,
    /// Its service, when it had one.
    pub service: Option<String>,
    /// Whether the service was destroyed (it is kept when other apps are
    /// linked to it, or when it is named in `pix.toml`).
    pub service_destroyed: bool,
}

/// Removes one review app: unlinks and destroys its service (unless other
/// apps use it or `pix.toml` names it), then destroys the app (its config
/// goes with it).
async fn remove(
    client: &Client,
    config: &PixConfig,
    app: &ReviewApp,
    progress: &dyn Progress<DeployEvent>,
) -> Result<Removed> {
    if reserved_app(config, &app.app) {
        return Err(OpsError::Refused {
            message: format!(
                "{} is an environment of pix.toml; it is never removed",
                app.app
            ),
        });
    }
    let mut service_destroyed = false;
    if let Some(svc) = &app.service {
        if !reserved_service(config, svc) && client.postgres_exists(svc).await? {
            if client.postgres_linked(svc, &app.app).await? {
                client
                    .postgres_unlink(svc, &app.app, UnlinkOptions::default().no_restart())
                    .await?;
            }
            let others = client.postgres_links(svc).await?;
            if others.is_empty() {
                progress.event(DeployEvent::Note(format!(
                    "destroying Postgres service {svc}"
                )));
                client.postgres_destroy(svc).await?;
                service_destroyed = true;
            } else {
                progress.event(DeployEvent::Note(format!(
                    "keeping {svc}: still linked to {}",
                    others.join(", ")
                )));
            }
        }
    }
    progress.event(DeployEvent::Note(format!("destroying app {}", app.app)));
    client.apps_destroy(&app.app).await?;
    Ok(Removed {
        app: app.app.clone(),
        branch: app.branch.clone(),
        service: app.service.clone(),
        service_destroyed,
    })
}

/// `pix review-app down <branch>`: removes the review app of `branch`
/// (confirmed with `--yes` or at a terminal).
pub async fn down(
    client: &Client,
    config: &PixConfig,
    branch: &str,
    flags: &ConfirmFlags,
    prompter: &mut dyn Prompter,
    progress: &dyn Progress<DeployEvent>,
) -> Result<Removed> {
    let apps = list(client, config, None).await?;
    let app = apps
        .into_iter()
        .find(|a| a.branch == branch)
        .ok_or_else(|| OpsError::NotFound {
            message: format!(
                "no review app deploys branch {branch} on {}; list them with `pix review-app list`",
                client.target()
            ),
        })?;
    let action = format!(
        "destroy review app {}{}",
        app.app,
        app.service
            .as_deref()
            .map(|s| format!(" and its database {s}"))
            .unwrap_or_default()
    );
    let command = format!("pix review-app down {branch}");
    confirm::confirm(
        &ConfirmRequest {
            environment: &app.app,
            protected: false,
            name: &app.app,
            action: &action,
            command: &command,
        },
        flags,
        prompter,
    )?;
    remove(client, config, &app, progress).await
}

/// The branches of the git remote `origin` (`git ls-remote --heads`).
pub async fn remote_branches(git: &Git, origin: &str) -> Result<Vec<String>> {
    let out = git.capture(&["ls-remote", "--heads", origin]).await?;
    Ok(parse_heads(&out))
}

/// Branch names from `git ls-remote --heads` output (pure).
pub fn parse_heads(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter_map(|r| r.strip_prefix("refs/heads/"))
        .map(str::to_string)
        .collect()
}

/// What `prune` would remove.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrunePlan {
    /// The git remote consulted.
    pub origin: String,
    /// Review apps whose branch is provably gone: deleted on `origin` and
    /// either not a local branch or one whose commits are all on `origin`.
    pub remove: Vec<ReviewApp>,
    /// The other review apps.
    pub keep: Vec<ReviewApp>,
    /// Why each app is removed or kept, in the order listed.
    pub reasons: Vec<PruneReason>,
}

/// Why one review app is removed or kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PruneReason {
    /// The app.
    pub app: String,
    /// Its branch.
    pub branch: String,
    /// Whether it is removed.
    pub remove: bool,
    /// Why.
    pub reason: String,
}

/// A review app's branch in the local repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalBranch {
    /// No local branch of that name.
    Absent,
    /// A local branch whose commits are all on the remote (merged, or
    /// pushed before the remote branch was deleted).
    Pushed,
    /// A local branch with this many commits on no branch of the remote.
    Unpushed(u64),
}

/// Pure: splits review apps by whether their branch is still on the remote
/// (no local branches known).
pub fn plan_prune(origin: &str, apps: Vec<ReviewApp>, branches: &[String]) -> PrunePlan {
    plan_prune_with(origin, apps, branches, &|_| LocalBranch::Absent)
}

/// Pure: an app is removed only when its branch is gone from `origin` and
/// `local` says the local repository holds no unpushed work on it.
pub fn plan_prune_with(
    origin: &str,
    apps: Vec<ReviewApp>,
    branches: &[String],
    local: &dyn Fn(&str) -> LocalBranch,
) -> PrunePlan {
    let mut plan = PrunePlan {
        origin: origin.to_string(),
        remove: Vec::new(),
        keep: Vec::new(),
        reasons: Vec::new(),
    };
    for app in apps {
        let b = app.branch.clone();
        let (remove, reason) = if branches.contains(&b) {
            (false, format!("branch {b} is still on {origin}"))
        } else {
            match local(&b) {
                LocalBranch::Absent => (
                    true,
                    format!("branch {b} is gone from {origin} and is not a local branch"),
                ),
                LocalBranch::Pushed => (
                    true,
                    format!(
                        "branch {b} is gone from {origin}; the local branch {b} has no commit that {origin} lacks"
                    ),
                ),
                LocalBranch::Unpushed(n) => (
                    false,
                    format!(
                        "branch {b} is not on {origin} but the local branch {b} has {n} commit(s) that {origin} lacks: push it (`git push {origin} {b}`) or delete it (`git branch -D {b}`), then prune again"
                    ),
                ),
            }
        };
        plan.reasons.push(PruneReason {
            app: app.app.clone(),
            branch: b,
            remove,
            reason,
        });
        if remove {
            plan.remove.push(app);
        } else {
            plan.keep.push(app);
        }
    }
    plan
}

/// The state of local branch `branch` against `origin`: its commits that
/// are neither on a remote-tracking branch of `origin` nor under one of the
/// remote's current heads `heads` (ids).
pub async fn local_branch(
    git: &Git,
    origin: &str,
    branch: &str,
    heads: &[String],
) -> Result<LocalBranch> {
    let Some(tip) = git
        .query(&[
            "rev-parse",
            "--verify",
            "-q",
            &format!("refs/heads/{branch}^{{commit}}"),
        ])
        .await?
    else {
        return Ok(LocalBranch::Absent);
    };
    let mut args: Vec<String> = vec![
        "rev-list".into(),
        "--count".into(),
        tip,
        "--not".into(),
        format!("--remotes={origin}"),
    ];
    for h in heads {
        if git
            .query(&["cat-file", "-e", &format!("{h}^{{commit}}")])
            .await?
            .is_some()
        {
            args.push(h.clone());
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let n: u64 = git.capture(&args).await?.trim().parse().unwrap_or(u64::MAX);
    Ok(if n == 0 {
        LocalBranch::Pushed
    } else {
        LocalBranch::Unpushed(n)
    })
}

/// `pix review-app prune`, first half: the review apps whose branch is
/// provably gone (see [`plan_prune_with`]). Changes nothing.
pub async fn prune_plan(
    client: &Client,
    config: &PixConfig,
    git: &Git,
    origin: &str,
) -> Result<PrunePlan> {
    let listed = git.capture(&["ls-remote", "--heads", origin]).await?;
    let branches = parse_heads(&listed);
    let heads: Vec<String> = listed
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    let apps = list(client, config, None).await?;
    let mut states = std::collections::BTreeMap::new();
    for app in &apps {
        if !branches.contains(&app.branch) {
            states.insert(
                app.branch.clone(),
                local_branch(git, origin, &app.branch, &heads).await?,
            );
        }
    }
    Ok(plan_prune_with(origin, apps, &branches, &|b| {
        states.get(b).copied().unwrap_or(LocalBranch::Absent)
    }))
}

/// `pix review-app prune`, second half: after confirmation (`--yes`, or `y`
/// at a terminal), removes every app of the plan.
pub async fn prune(
    client: &Client,
    config: &PixConfig,
    plan: &PrunePlan,
    flags: &ConfirmFlags,
    prompter: &mut dyn Prompter,
    progress: &dyn Progress<DeployEvent>,
) -> Result<Vec<Removed>> {
    if plan.remove.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<&str> = plan.remove.iter().map(|a| a.app.as_str()).collect();
    let action = format!(
        "destroy {} review app(s) whose branch is gone from {} (and not kept locally with unpushed commits): {}",
        names.len(),
        plan.origin,
        names.join(", ")
    );
    confirm::confirm(
        &ConfirmRequest {
            environment: "review apps",
            protected: false,
            name: "prune",
            action: &action,
            command: "pix review-app prune",
        },
        flags,
        prompter,
    )?;
    let mut removed = Vec::new();
    for app in &plan.remove {
        removed.push(remove(client, config, app, progress).await?);
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(name: &str, branch: &str) -> ReviewApp {
        ReviewApp {
            app: name.into(),
            branch: branch.into(),
            service: Some(review_service_name(name)),
            commit: None,
            source_commit: None,
            urls: vec![],
        }
    }

    #[test]
    fn service_names_are_valid() {
        assert_eq!(review_service_name("feature-x"), "feature-x-db");
        assert_eq!(review_service_name("release.1.2"), "release-1-2-db");
        dokku_client::postgres::validate_service_name(&review_service_name("a.b-c")).unwrap();
    }

    #[test]
    fn prune_keeps_live_branches() {
        let plan = plan_prune(
            "origin",
            vec![app("a", "a"), app("b", "feature/b"), app("c", "c")],
            &["a".into(), "feature/b".into()],
        );
        let gone: Vec<&str> = plan.remove.iter().map(|a| a.app.as_str()).collect();
        assert_eq!(gone, ["c"]);
        assert_eq!(plan.keep.len(), 2);
    }

    #[test]
    fn prune_keeps_local_branches_with_unpushed_commits() {
        let plan = plan_prune_with(
            "origin",
            vec![app("a", "a"), app("b", "b"), app("c", "c"), app("d", "d")],
            &["a".into()],
            &|b| match b {
                "b" => LocalBranch::Unpushed(2),
                "c" => LocalBranch::Pushed,
                _ => LocalBranch::Absent,
            },
        );
        let gone: Vec<&str> = plan.remove.iter().map(|a| a.app.as_str()).collect();
        assert_eq!(gone, ["c", "d"]);
        let why: Vec<(&str, bool)> = plan
            .reasons
            .iter()
            .map(|r| (r.app.as_str(), r.remove))
            .collect();
        assert_eq!(why, [("a", false), ("b", false), ("c", true), ("d", true)]);
        assert!(
            plan.reasons[1].reason.contains("`git push origin b`"),
            "{:?}",
            plan.reasons[1]
        );
    }

    #[test]
    fn commits_prefer_the_full_sha() {
        let full = "3d2922a89587e6032d99bb669522556f634cae07".to_string();
        assert_eq!(
            pick_commit(Some("3d2922a".into()), Some(full.clone())),
            Some(full.clone())
        );
        assert_eq!(pick_commit(Some(full.clone()), None), Some(full.clone()));
        assert_eq!(pick_commit(None, Some(full.clone())), Some(full));
        assert_eq!(
            pick_commit(Some("abc1234".into()), Some("nginx:latest".into())),
            Some("abc1234".into())
        );
        assert_eq!(pick_commit(Some(String::new()), None), None);
    }

    #[test]
    fn heads_parse() {
        let text = "abc\trefs/heads/main\ndef\trefs/heads/feature/x\n";
        assert_eq!(parse_heads(text), ["main", "feature/x"]);
    }
}
