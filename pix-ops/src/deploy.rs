//! Deploys that always fast-forward.
//!
//! A deploy builds **one** commit whose tree is the environment's
//! `deploy_dir` at HEAD (`git rev-parse HEAD:api`) and whose parent is the
//! commit the app's deploy branch holds now (`git ls-remote`; none for a new
//! app), then pushes it to `refs/heads/<deploy branch>`. So a push never
//! rewrites history, never needs a force, never conflicts, and costs the same
//! however long the local history is (only the new tree's objects are sent).
//! The commit's message names the source commit, branch and folder
//! ([`deploy_message`], trailers `Source-Commit:` / `Source-Branch:` /
//! `Source-Dir:`) and the tree built (`Pix-Tree:`), by which pix recognises
//! its own commits ([`crate::lineage`]). The commit is deterministic: its
//! author and committer dates are the source commit's committer date (or the
//! parent's, when later), so a dry run shows the id the deploy pushes.
//!
//! Order: resolve the target → read `git:report` and `apps:report` →
//! `ls-remote` (+ fetch the remote's commit when it is not local) → nothing to
//! deploy? → commits on the remote that pix did not make and that the new
//! tree would undo? ([`DeployOutcome::ForeignCommits`], also in a dry run) →
//! confirmation (protected environments) → `commit-tree` → push, streaming
//! the output → typed [`DeployOutcome`].

use std::path::PathBuf;

use dokku_client::Client;
use serde::Serialize;

use crate::config::{Environment, HostConfig, HostOverrides, PixConfig};
use crate::confirm::{self, ConfirmFlags, ConfirmRequest, Prompter};
use crate::connect::ConnectOptions;
use crate::error::{OpsError, Result};
use crate::git::Git;
use crate::lineage::{self, ForeignCommit};
use crate::progress::Progress;
use crate::push::{self, PushFailure, PushOutcome};

/// The longest app name [`branch_app_name`] makes.
pub const MAX_APP_NAME: usize = 48;

/// The environment name that means "the current branch's app".
pub const BRANCH_TARGET: &str = "branch";

/// Something that happened during a deploy, for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployEvent {
    /// The branch → app mapping of a branch deploy.
    Mapped {
        /// The branch.
        branch: String,
        /// The app.
        app: String,
    },
    /// What is about to be pushed.
    Plan {
        /// The app.
        app: String,
        /// The source commit.
        source: String,
        /// The deploy commit.
        commit: String,
        /// Its parent (the remote's commit), if any.
        parent: Option<String>,
        /// The deploy branch.
        deploy_branch: String,
    },
    /// A line of the deploy's output (`remote: ` and `\e[1G\e[K` removed).
    Output(String),
    /// A line of information.
    Note(String),
}

/// Where a deploy goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeployTarget {
    /// The environment's name (`branch` for branch apps).
    pub environment: String,
    /// The app.
    pub app: String,
    /// Its host.
    #[serde(skip)]
    pub host: HostConfig,
    /// Whether deploying needs a typed confirmation.
    pub protected: bool,
    /// The name typed to confirm (the environment's database).
    pub confirm_name: String,
    /// The folder deployed, relative to the repository root (`None`: all).
    pub deploy_dir: Option<String>,
    /// For branch apps: the branch the app is named after.
    pub branch: Option<String>,
}

impl DeployTarget {
    /// The target of a `pix.toml` environment.
    pub fn from_environment(env: &Environment) -> DeployTarget {
        DeployTarget {
            environment: env.name.clone(),
            app: env.config.app.clone(),
            host: env.host_config.clone(),
            protected: env.config.protected,
            confirm_name: env.config.database.clone(),
            deploy_dir: env.config.deploy_dir.clone(),
            branch: None,
        }
    }
}

/// A branch and the app named after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BranchMapping {
    /// The git branch.
    pub branch: String,
    /// The Dokku app.
    pub app: String,
}

/// FNV-1a, for a short stable suffix.
fn fnv(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// The Dokku app name for `branch` (pure): `prefix` + the branch
/// lower-cased, every character outside `[a-z0-9.-]` (and `/`) turned into
/// `-`, runs of `-` collapsed, leading and trailing `-`/`.` trimmed. Names
/// longer than [`MAX_APP_NAME`] are cut and end with a hash of the whole
/// branch, so two long branches never share an app.
pub fn branch_app_name(prefix: &str, branch: &str) -> Result<String> {
    let mut name = String::new();
    for c in format!("{prefix}{branch}").chars() {
        let c = c.to_ascii_lowercase();
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' {
            c
        } else {
            '-'
        };
        if c == '-' && name.ends_with('-') {
            continue;
        }
        if c == '.' && name.ends_with('.') {
            continue;
        }
        name.push(c);
    }
    let trim = |s: &str| {
        s.trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
            .trim_end_matches(['-', '.'])
            .to_string()
    };
    let mut name = trim(&name);
    if name.len() > MAX_APP_NAME {
        let suffix = format!("-{:08x}", fnv(branch));
        name = trim(&name[..MAX_APP_NAME - suffix.len()]) + &suffix;
    }
    if name.is_empty() {
        return Err(OpsError::Usage {
            message: format!(
                "branch {branch:?} gives no usable app name (it needs letters or digits)"
            ),
        });
    }
    dokku_client::apps::validate_app_name(&name)?;
    Ok(name)
}

/// The deploy commit's message (pure).
pub fn deploy_message(source: &str, branch: Option<&str>, deploy_dir: Option<&str>) -> String {
    let from = match branch {
        Some(b) => SourceName::Branch(b),
        None => SourceName::Detached,
    };
    lineage_message(source, from, deploy_dir, None, &[])
}

/// How the source commit was named, for the deploy commit's first line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceName<'a> {
    /// A branch (also written as `Source-Branch:`).
    Branch(&'a str),
    /// A detached HEAD.
    Detached,
    /// Another revision (`HEAD~1`, a tag, a sha): no branch.
    Rev(&'a str),
}

/// The deploy commit's message (pure): first line, the commits it replaces
/// (when a repair replaces commits pix did not make), then the trailers
/// `Source-Commit:`, `Source-Branch:`, `Source-Dir:` and `Pix-Tree:`.
pub fn lineage_message(
    source: &str,
    from: SourceName<'_>,
    deploy_dir: Option<&str>,
    tree: Option<&str>,
    replaced: &[ForeignCommit],
) -> String {
    let short = &source[..source.len().min(12)];
    let what = deploy_dir
        .map(|d| format!("{}/", d.trim_end_matches('/')))
        .unwrap_or_else(|| "the repository".into());
    let label = match from {
        SourceName::Branch(b) => format!(" of {b}"),
        SourceName::Detached => " (detached HEAD)".into(),
        SourceName::Rev(r) => format!(" ({})", r.replace(['\n', '\r'], " ")),
    };
    let mut text = format!("Deploy {what} from {short}{label}\n\n");
    if !replaced.is_empty() {
        text.push_str("Replaces these commits, pushed without pix deploy:\n");
        for c in replaced {
            text.push_str(&format!(
                "  {} {} ({})\n",
                &c.sha[..c.sha.len().min(12)],
                c.subject,
                c.author
            ));
        }
        text.push('\n');
    }
    text.push_str(&format!("Source-Commit: {source}\n"));
    if let SourceName::Branch(b) = from {
        text.push_str(&format!("Source-Branch: {b}\n"));
    }
    if let Some(d) = deploy_dir {
        text.push_str(&format!("Source-Dir: {d}\n"));
    }
    if let Some(t) = tree {
        text.push_str(&format!("{} {t}\n", lineage::TREE_TRAILER));
    }
    text
}

/// Reads the `Source-Commit:` and `Source-Branch:` trailers of a deploy
/// commit's message (pure).
pub fn parse_message(message: &str) -> (Option<String>, Option<String>) {
    let field = |key: &str| {
        message
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    (field("Source-Commit:"), field("Source-Branch:"))
}

/// The review-app settings from `pix.toml` (`[settings] review_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchSettings {
    /// The host's name.
    pub host_name: String,
    /// The host.
    pub host: HostConfig,
    /// The folder deployed.
    pub deploy_dir: Option<String>,
    /// The prefix of app names.
    pub prefix: String,
    /// `NODE_ENV` of review apps.
    pub node_env: String,
}

/// The default `NODE_ENV` of review apps (PIX's `review-apps-on-pg`).
pub const DEFAULT_NODE_ENV: &str = "integration";

/// Resolves the review/branch settings: host `settings.review_host`, else the
/// only host, else the `development` environment's host; folder
/// `settings.review_deploy_dir`, else the `development` environment's.
pub fn branch_settings(config: &PixConfig, overrides: &HostOverrides) -> Result<BranchSettings> {
    let dev = config.environment("development", overrides).ok();
    let host_name = match &config.settings.review_host {
        Some(h) => h.clone(),
        None if config.hosts.len() == 1 => config.hosts.keys().next().cloned().unwrap_or_default(),
        None => match &dev {
            Some(d) => d.host_name.clone(),
            None => {
                return Err(OpsError::Config {
                    path: config.base_dir.join(crate::config::FILE_NAME),
                    message: "several hosts and no `development` environment: set [settings] review_host to the host of review apps".into(),
                })
            }
        },
    };
    let mut host = config
        .hosts
        .get(&host_name)
        .cloned()
        .ok_or_else(|| OpsError::Config {
            path: config.base_dir.join(crate::config::FILE_NAME),
            message: format!("review_host `{host_name}` is not under [hosts]"),
        })?;
    if let Some(h) = &overrides.host {
        host.address = h.clone();
    }
    if let Some(p) = overrides.port {
        host.port = Some(p);
    }
    Ok(BranchSettings {
        host_name,
        host,
        deploy_dir: config
            .settings
            .review_deploy_dir
            .clone()
            .or_else(|| dev.and_then(|d| d.config.deploy_dir)),
        prefix: config
            .settings
            .review_app_prefix
            .clone()
            .unwrap_or_default(),
        node_env: config
            .settings
            .review_node_env
            .clone()
            .unwrap_or_else(|| DEFAULT_NODE_ENV.into()),
    })
}

/// The target for a branch's app.
pub fn branch_target(settings: &BranchSettings, branch: &str) -> Result<DeployTarget> {
    let app = branch_app_name(&settings.prefix, branch)?;
    Ok(DeployTarget {
        environment: BRANCH_TARGET.into(),
        confirm_name: app.clone(),
        app,
        host: settings.host.clone(),
        protected: false,
        deploy_dir: settings.deploy_dir.clone(),
        branch: Some(branch.to_string()),
    })
}

/// The current branch of `repo` (error when HEAD is detached).
pub async fn current_branch(git: &Git) -> Result<String> {
    git.query(&["symbolic-ref", "--short", "-q", "HEAD"])
        .await?
        .ok_or_else(|| OpsError::Usage {
            message: "HEAD is detached: name the branch, or check one out (git switch <branch>)"
                .into(),
        })
}

/// The environment `pix deploy NAME` means (pure): `NAME` when pix.toml
/// knows it (as a name or an alias), else the npm-era synonym (`prod` ↔
/// `production`) when pix.toml knows that one; `branch` stays `branch`.
pub fn environment_name(config: &PixConfig, name: &str, overrides: &HostOverrides) -> String {
    let known = |n: &str| config.environment(n, overrides).is_ok();
    if name == BRANCH_TARGET || known(name) {
        return name.to_string();
    }
    let synonym = match name {
        "prod" => "production",
        "production" => "prod",
        _ => return name.to_string(),
    };
    if known(synonym) {
        synonym.to_string()
    } else {
        name.to_string()
    }
}

/// Deploys are git pushes over SSH: the `local` host (dokku run here)
/// cannot receive one (a usage error).
pub fn refuse_local(host: &HostConfig) -> Result<()> {
    if host.address == crate::connect::LOCAL_HOST {
        return Err(OpsError::Usage {
            message: "deploys are git pushes over SSH and the host `local` cannot receive one: give the server's address (--host, DOKKU_HOST or pix.toml)".into(),
        });
    }
    Ok(())
}

/// Resolves `pix deploy <name>`: an environment of `pix.toml` (or an alias),
/// or `branch` for the current branch's app.
pub async fn resolve_target(
    config: &PixConfig,
    name: &str,
    overrides: &HostOverrides,
    git: &Git,
) -> Result<DeployTarget> {
    if name == BRANCH_TARGET && config.environment(name, overrides).is_err() {
        let settings = branch_settings(config, overrides)?;
        let branch = current_branch(git).await?;
        return branch_target(&settings, &branch);
    }
    let env = config.environment(name, overrides)?;
    Ok(DeployTarget::from_environment(&env))
}

/// What the caller asks for.
#[derive(Debug, Clone, Default)]
pub struct DeployOptions {
    /// The repository (any folder inside its work tree).
    pub repo: PathBuf,
    /// The revision deployed (default `HEAD`).
    pub rev: Option<String>,
    /// Key and known_hosts overrides (flags / `PIX_SSH_KEY`, `PIX_KNOWN_HOSTS`).
    pub connect: ConnectOptions,
    /// `--yes` / `--confirm`.
    pub confirm: ConfirmFlags,
    /// How the user invokes the deploy (for messages): `pix deploy production`.
    pub command: String,
    /// Stop before pushing (the plan is still reported).
    pub dry_run: bool,
    /// The remote tip whose foreign commits the caller confirmed replacing
    /// (`pix remote repair ENV --force`): the deploy goes on top of it
    /// although it undoes them, and says so in its message.
    pub replace_foreign: Option<String>,
    /// The caller already confirmed (a repair's own confirmation): no
    /// second question for a protected environment.
    pub confirmed: bool,
}

/// How a deploy ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum DeployOutcome {
    /// Pushed and deployed.
    Deployed {
        /// The app's URLs.
        urls: Vec<String>,
        /// The deploy commit now on the remote.
        commit: String,
    },
    /// The remote already deploys this tree; `ps:rebuild` rebuilds it.
    NothingToDeploy {
        /// The remote's commit.
        commit: String,
    },
    /// `--dry-run`: the commit was built, nothing was pushed.
    DryRun {
        /// The deploy commit that would be pushed.
        commit: String,
    },
    /// The remote holds commits `pix deploy` did not make (pushed straight
    /// to Dokku) and the new commit would undo them: nothing was pushed.
    ForeignCommits {
        /// The remote's tip.
        remote_tip: String,
        /// The foreign commits, newest first (at most
        /// [`lineage::LISTED`]).
        commits: Vec<ForeignCommit>,
        /// How many there are in all.
        count: usize,
        /// The commands that repair it (keep them, replace them).
        repair: Vec<String>,
    },
    /// Nothing was deployed: the build failed, the app is locked or git
    /// refused the push (serialised as the failure itself, as a push's).
    #[serde(untagged)]
    Failed(PushFailure),
}

impl DeployOutcome {
    /// A process exit code that means something to CI: 0 deployed (or
    /// nothing to do, or dry run), 2 build failed, 3 locked, 4 rejected, 5
    /// blocked by foreign commits.
    pub fn exit_code(&self) -> i32 {
        match self {
            DeployOutcome::Deployed { .. }
            | DeployOutcome::NothingToDeploy { .. }
            | DeployOutcome::DryRun { .. } => 0,
            DeployOutcome::Failed(PushFailure::BuildFailed { .. }) => 2,
            DeployOutcome::Failed(PushFailure::Locked { .. }) => 3,
            DeployOutcome::Failed(PushFailure::Rejected { .. }) => 4,
            DeployOutcome::ForeignCommits { .. } => 5,
        }
    }
}

/// The machine-readable report (`--json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeployReport {
    /// The target.
    pub target: DeployTarget,
    /// The git URL pushed to.
    pub url: String,
    /// The source commit.
    pub source_commit: String,
    /// The source branch (`None`: detached HEAD).
    pub source_branch: Option<String>,
    /// The tree deployed.
    pub tree: String,
    /// The app's deploy branch.
    pub deploy_branch: String,
    /// What the remote's branch held before (`None`: nothing).
    pub remote_before: Option<String>,
    /// How it ended.
    pub outcome: DeployOutcome,
}

/// The tree of `deploy_dir` at `rev` (pure command building).
pub fn tree_spec(rev: &str, deploy_dir: Option<&str>) -> String {
    match deploy_dir
        .map(|d| d.trim_matches('/'))
        .filter(|d| !d.is_empty() && *d != ".")
    {
        Some(d) => format!("{rev}:{d}"),
        None => format!("{rev}^{{tree}}"),
    }
}

/// git with a committer identity for commits pix makes when git has none
/// (CI).
pub async fn identity(git: &Git) -> Result<Git> {
    if git.query(&["var", "GIT_COMMITTER_IDENT"]).await?.is_some()
        && git.query(&["var", "GIT_AUTHOR_IDENT"]).await?.is_some()
    {
        return Ok(git.clone());
    }
    Ok(git
        .clone()
        .env("GIT_AUTHOR_NAME", "pix deploy")
        .env("GIT_AUTHOR_EMAIL", "pix-deploy@localhost")
        .env("GIT_COMMITTER_NAME", "pix deploy")
        .env("GIT_COMMITTER_EMAIL", "pix-deploy@localhost"))
}

/// The ref the remote's deploy commit is fetched into (and kept, so the next
/// deploy finds its parent locally).
pub fn deployed_ref(host: &HostConfig, app: &str) -> String {
    let host: String = host
        .address
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("refs/pix/deployed/{host}/{app}")
}

/// The branch a push must update to deploy (pure): the app's
/// `deploy-branch`, else the computed one, else the global one, else
/// `master`.
pub fn deploy_branch_of(report: &dokku_client::GitReport) -> String {
    [
        &report.deploy_branch,
        &report.computed_deploy_branch,
        &report.global_deploy_branch,
    ]
    .into_iter()
    .flatten()
    .find(|b| !b.trim().is_empty())
    .map(|b| b.trim().to_string())
    .unwrap_or_else(|| "master".into())
}

/// The deploy branch of `app` (from `git:report`).
pub async fn deploy_branch(client: &Client, app: &str) -> Result<String> {
    Ok(deploy_branch_of(&client.git_report(app).await?))
}

/// Deploys `target` from `options.repo` (see the module documentation).
pub async fn deploy(
    client: &Client,
    target: &DeployTarget,
    options: &DeployOptions,
    prompter: &mut dyn Prompter,
    progress: &dyn Progress<DeployEvent>,
) -> Result<DeployReport> {
    let ssh = push::git_ssh_command(&target.host, &options.connect);
    let git = Git::new(&options.repo).ssh_command(&ssh);
    let rev = options.rev.clone().unwrap_or_else(|| "HEAD".into());
    let source_commit = git
        .capture(&["rev-parse", "--verify", &format!("{rev}^{{commit}}")])
        .await
        .map_err(|e| OpsError::Usage {
            message: format!("{rev} is not a commit of {}: {e}", options.repo.display()),
        })?;
    let source_branch = branch_of_rev(&git, &rev).await?;
    let spec = tree_spec(&source_commit, target.deploy_dir.as_deref());
    // `<rev>:<dir>` takes the rest of the text as a path: no `^{tree}` here;
    // the object's type is checked separately.
    let tree = match git.query(&["rev-parse", "--verify", "-q", &spec]).await? {
        Some(id) if git.query(&["cat-file", "-t", &id]).await?.as_deref() == Some("tree") => {
            Some(id)
        }
        _ => None,
    }
    .ok_or_else(|| OpsError::Precondition {
            message: format!(
                "the folder `{}` does not exist at {} ({}); check deploy_dir of environment {} in pix.toml",
                target.deploy_dir.as_deref().unwrap_or("."),
                rev,
                &source_commit[..12.min(source_commit.len())],
                target.environment
            ),
        })?;
    if let Some(b) = &target.branch {
        progress.event(DeployEvent::Mapped {
            branch: b.clone(),
            app: target.app.clone(),
        });
    }

    if !client.apps_exists(&target.app).await? {
        return Err(OpsError::Precondition {
            message: if target.branch.is_some() {
                format!(
                    "app {} does not exist on {}; create it with its database with `pix review-app up`",
                    target.app,
                    client.target()
                )
            } else {
                format!(
                    "app {} of environment {} does not exist on {}; create it first (dokku apps:create {})",
                    target.app,
                    target.environment,
                    client.target(),
                    target.app
                )
            },
        });
    }
    let (git_report, app_report) = tokio::join!(
        client.git_report(&target.app),
        client.apps_report(&target.app)
    );
    let (git_report, app_report) = (git_report?, app_report?);
    let deploy_branch = deploy_branch_of(&git_report);
    let url = push::git_url(&target.host, &target.app);
    let report = |remote_before: Option<String>, outcome: DeployOutcome| DeployReport {
        target: target.clone(),
        url: url.clone(),
        source_commit: source_commit.clone(),
        source_branch: source_branch.clone(),
        tree: tree.clone(),
        deploy_branch: deploy_branch.clone(),
        remote_before,
        outcome,
    };
    // Reports before 0.38 have no lock row: ask `apps:locked` then.
    let locked = match app_report.locked {
        Some(locked) => locked,
        None => client.apps_locked(&target.app).await?,
    };
    if locked {
        return Ok(report(
            None,
            DeployOutcome::Failed(PushFailure::Locked {
                message: format!(
                    "{} is locked (apps:lock): a database reset or another operation may be running; nothing was pushed. If nothing is running, `pix apps unlock {}` and deploy again",
                    target.app, target.app
                ),
            }),
        ));
    }

    let listed = git
        .capture(&["ls-remote", &url, &format!("refs/heads/{deploy_branch}")])
        .await?;
    let remote_sha = listed
        .lines()
        .find_map(|l| l.split_whitespace().next())
        .map(str::to_string);
    let keep = deployed_ref(&target.host, &target.app);
    if let Some(sha) = &remote_sha {
        let have = git
            .query(&["cat-file", "-e", &format!("{sha}^{{commit}}")])
            .await?
            .is_some();
        if !have {
            progress.event(DeployEvent::Note(format!(
                "fetching {} (the remote's {deploy_branch})",
                &sha[..sha.len().min(12)]
            )));
            git.capture(&[
                "fetch",
                "--no-tags",
                "--quiet",
                &url,
                &format!("+refs/heads/{deploy_branch}:{keep}"),
            ])
            .await?;
        }
        let remote_tree = git
            .capture(&["rev-parse", &format!("{sha}^{{tree}}")])
            .await?;
        if remote_tree == tree {
            return Ok(report(
                remote_sha.clone(),
                DeployOutcome::NothingToDeploy {
                    commit: sha.clone(),
                },
            ));
        }
    }

    let mut replaced = Vec::new();
    if let Some(sha) = &remote_sha {
        let seen = lineage::read(&git, sha, &source_commit, &tree).await?;
        if seen.blocks() {
            if options.replace_foreign.as_deref() == Some(sha.as_str()) {
                replaced = seen.foreign.clone();
            } else {
                let repair = repair_commands(target);
                return Ok(report(
                    remote_sha.clone(),
                    DeployOutcome::ForeignCommits {
                        remote_tip: sha.clone(),
                        commits: seen.foreign,
                        count: seen.foreign_count,
                        repair,
                    },
                ));
            }
        } else if seen.foreign_count > 0 {
            progress.event(DeployEvent::Note(format!(
                "the remote's {} commit(s) not made by pix deploy are already in {}: deploying on top of them",
                seen.foreign_count,
                &source_commit[..source_commit.len().min(12)]
            )));
        }
    }

    if target.protected && !options.confirmed {
        let action = format!(
            "deploy {} ({}) to {}",
            &source_commit[..source_commit.len().min(12)],
            source_branch.as_deref().unwrap_or("detached HEAD"),
            target.app
        );
        let command = if options.command.is_empty() {
            format!("pix deploy {}", target.environment)
        } else {
            options.command.clone()
        };
        confirm::confirm(
            &ConfirmRequest {
                environment: &target.environment,
                protected: true,
                name: &target.confirm_name,
                action: &action,
                command: &command,
            },
            &options.confirm,
            prompter,
        )?;
    }

    let from = match (&source_branch, rev.as_str()) {
        (Some(b), _) => SourceName::Branch(b),
        (None, "HEAD") => SourceName::Detached,
        (None, r) => SourceName::Rev(r),
    };
    let message = lineage_message(
        &source_commit,
        from,
        target.deploy_dir.as_deref(),
        Some(&tree),
        &replaced,
    );
    let mut args = vec!["commit-tree", tree.as_str()];
    if let Some(p) = &remote_sha {
        args.push("-p");
        args.push(p);
    }
    args.push("-m");
    args.push(&message);
    let date = commit_date(&git, &source_commit, remote_sha.as_deref()).await?;
    let commit = identity(&git)
        .await?
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .capture(&args)
        .await?;
    progress.event(DeployEvent::Plan {
        app: target.app.clone(),
        source: source_commit.clone(),
        commit: commit.clone(),
        parent: remote_sha.clone(),
        deploy_branch: deploy_branch.clone(),
    });
    if options.dry_run {
        return Ok(report(remote_sha, DeployOutcome::DryRun { commit }));
    }

    let pushed = push::push(&git, &url, &commit, &deploy_branch, None, &mut |line| {
        progress.event(DeployEvent::Output(line))
    })
    .await?;
    let outcome = match pushed {
        PushOutcome::Pushed { mut urls } => {
            git.capture(&["update-ref", &keep, &commit]).await?;
            if urls.is_empty() {
                urls = client
                    .domains_report(&target.app)
                    .await
                    .map(|d| d.app_vhosts.iter().map(|v| format!("http://{v}")).collect())
                    .unwrap_or_default();
            }
            DeployOutcome::Deployed { urls, commit }
        }
        PushOutcome::UpToDate => DeployOutcome::NothingToDeploy { commit },
        PushOutcome::Failed(failure) => DeployOutcome::Failed(failure),
    };
    Ok(report(remote_sha, outcome))
}

/// The branch `rev` names (`None`: not a branch): `HEAD` → the checked-out
/// branch, `main` → `main`, `origin/main` → `origin/main`; `HEAD~1`, tags
/// and commit ids name none.
pub async fn branch_of_rev(git: &Git, rev: &str) -> Result<Option<String>> {
    let full = git
        .query(&["rev-parse", "--symbolic-full-name", rev])
        .await?
        .unwrap_or_default();
    let full = full.lines().next().unwrap_or("").trim();
    Ok(full
        .strip_prefix("refs/heads/")
        .or_else(|| full.strip_prefix("refs/remotes/"))
        .filter(|b| !b.is_empty())
        .map(str::to_string))
}

/// The deploy commit's date (`@SECONDS +0000`): the source commit's
/// committer date, or its parent's when later (so the commit is the same
/// for the same source and parent, in a dry run and in the deploy).
async fn commit_date(git: &Git, source: &str, parent: Option<&str>) -> Result<String> {
    let seconds = |text: String| text.trim().parse::<i64>().unwrap_or(0);
    let mut at = seconds(git.capture(&["log", "-1", "--format=%ct", source]).await?);
    if let Some(p) = parent {
        at = at.max(seconds(
            git.capture(&["log", "-1", "--format=%ct", p]).await?,
        ));
    }
    Ok(format!("@{at} +0000"))
}

/// The commands that repair a deploy blocked by foreign commits (pure):
/// keep them (`--merge`) or replace them (`--force`).
pub fn repair_commands(target: &DeployTarget) -> Vec<String> {
    if target.branch.is_some() {
        let url = push::git_url(&target.host, &target.app);
        return vec![
            format!("pix remote repair {url} --merge"),
            format!("pix remote repair {url} --force"),
        ];
    }
    vec![
        format!("pix remote repair {} --merge", target.environment),
        format!("pix remote repair {} --force", target.environment),
    ]
}

/// `ps:rebuild <app>`: what to run after [`DeployOutcome::NothingToDeploy`]
/// to rebuild the same source.
pub async fn rebuild(client: &Client, app: &str) -> Result<()> {
    Ok(client.ps_rebuild(app).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_names_become_app_names() {
        let cases: &[(&str, &str, &str)] = &[
            ("", "191-setup-archi-v2", "191-setup-archi-v2"),
            ("", "Feature/PIX-42_Login", "feature-pix-42-login"),
            ("", "--weird--", "weird"),
            ("", "a..b", "a.b"),
            ("", "release.1.2.", "release.1.2"),
            ("", "_x", "x"),
            ("review-", "Main", "review-main"),
            ("", "été", "t"),
        ];
        for (prefix, branch, want) in cases {
            assert_eq!(branch_app_name(prefix, branch).unwrap(), *want, "{branch}");
        }
        assert!(branch_app_name("", "///").is_err());
        assert!(branch_app_name("", "").is_err());
    }

    #[test]
    fn long_branch_names_are_bounded_and_distinct() {
        let a = "feature/".to_string() + &"x".repeat(80) + "-one";
        let b = "feature/".to_string() + &"x".repeat(80) + "-two";
        let na = branch_app_name("", &a).unwrap();
        let nb = branch_app_name("", &b).unwrap();
        assert!(na.len() <= MAX_APP_NAME, "{na}");
        assert_ne!(na, nb);
        assert_eq!(na, branch_app_name("", &a).unwrap());
        dokku_client::apps::validate_app_name(&na).unwrap();
        // a cut that lands on a separator is trimmed before the suffix
        let c = "a".repeat(38) + "---" + &"b".repeat(20);
        let nc = branch_app_name("", &c).unwrap();
        assert!(!nc.contains("--"), "{nc}");
    }

    #[test]
    fn messages_name_the_source_and_parse_back() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let m = deploy_message(sha, Some("main"), Some("api"));
        assert!(
            m.starts_with("Deploy api/ from 0123456789ab of main\n\n"),
            "{m}"
        );
        assert_eq!(
            parse_message(&m),
            (Some(sha.to_string()), Some("main".to_string()))
        );
        let m = deploy_message(sha, None, None);
        assert!(m.starts_with("Deploy the repository from 0123456789ab (detached HEAD)"));
        assert_eq!(parse_message(&m), (Some(sha.to_string()), None));
        assert_eq!(parse_message("plain commit"), (None, None));
    }

    #[test]
    fn deploy_branch_precedence() {
        let mut r = dokku_client::GitReport::default();
        assert_eq!(deploy_branch_of(&r), "master");
        r.global_deploy_branch = Some("main".into());
        assert_eq!(deploy_branch_of(&r), "main");
        r.computed_deploy_branch = Some("prod".into());
        assert_eq!(deploy_branch_of(&r), "prod");
        r.deploy_branch = Some(" ".into());
        assert_eq!(deploy_branch_of(&r), "prod");
        r.deploy_branch = Some("app".into());
        assert_eq!(deploy_branch_of(&r), "app");
    }

    #[tokio::test]
    async fn targets_resolve_environments_aliases_and_branches() {
        let dir = tempfile::tempdir().unwrap();
        let git = Git::new(dir.path());
        git.capture(&["init", "-q", "-b", "Feature/Login"])
            .await
            .unwrap();
        let text = "[hosts.h]\naddress='h'\n[environments.production]\nhost='h'\napp='api-prod'\ndatabase='db-prod'\nprotected=true\naliases=['prod']\ndeploy_dir='api'\n";
        let c = PixConfig::parse(
            text,
            std::path::Path::new("/r"),
            std::path::Path::new("/r/pix.toml"),
        )
        .unwrap();
        let o = HostOverrides::default();
        let t = resolve_target(&c, "prod", &o, &git).await.unwrap();
        assert_eq!((t.app.as_str(), t.protected), ("api-prod", true));
        assert_eq!(t.confirm_name, "db-prod");
        let t = resolve_target(&c, "branch", &o, &git).await.unwrap();
        assert_eq!(t.app, "feature-login");
        assert_eq!(t.branch.as_deref(), Some("Feature/Login"));
        assert!(resolve_target(&c, "staging", &o, &git).await.is_err());
    }

    #[test]
    fn npm_era_names_resolve() {
        let text = "[hosts.h]\naddress='h'\n[environments.production]\nhost='h'\napp='api-prod'\ndatabase='pg-prod'\nprotected=true\n[environments.development]\nhost='h'\napp='api-dev'\ndatabase='pg-dev'\n";
        let c = PixConfig::parse(
            text,
            std::path::Path::new("/r"),
            std::path::Path::new("/r/pix.toml"),
        )
        .unwrap();
        let o = HostOverrides::default();
        assert_eq!(environment_name(&c, "prod", &o), "production");
        assert_eq!(environment_name(&c, "production", &o), "production");
        assert_eq!(environment_name(&c, "development", &o), "development");
        assert_eq!(environment_name(&c, "branch", &o), "branch");
        assert_eq!(environment_name(&c, "staging", &o), "staging");
        let mut local = c.hosts["h"].clone();
        assert!(refuse_local(&local).is_ok());
        local.address = crate::connect::LOCAL_HOST.into();
        assert!(matches!(refuse_local(&local), Err(OpsError::Usage { .. })));
    }

    #[test]
    fn tree_specs() {
        assert_eq!(tree_spec("abc", Some("api")), "abc:api");
        assert_eq!(tree_spec("abc", Some("api/")), "abc:api");
        assert_eq!(tree_spec("abc", Some(".")), "abc^{tree}");
        assert_eq!(tree_spec("abc", None), "abc^{tree}");
    }

    #[test]
    fn exit_codes_mean_something() {
        assert_eq!(
            DeployOutcome::Deployed {
                urls: vec![],
                commit: "c".into()
            }
            .exit_code(),
            0
        );
        assert_eq!(
            DeployOutcome::Failed(PushFailure::BuildFailed { log_tail: vec![] }).exit_code(),
            2
        );
        assert_eq!(
            DeployOutcome::Failed(PushFailure::Locked {
                message: String::new()
            })
            .exit_code(),
            3
        );
        assert_eq!(
            DeployOutcome::Failed(PushFailure::Rejected {
                reason: String::new()
            })
            .exit_code(),
            4
        );
    }

    #[test]
    fn outcomes_serialise_flat_with_their_tag() {
        let json = |o: DeployOutcome| serde_json::to_string(&o).unwrap();
        assert_eq!(
            json(DeployOutcome::Deployed {
                urls: vec!["http://a".into()],
                commit: "c".into()
            }),
            r#"{"outcome":"deployed","urls":["http://a"],"commit":"c"}"#
        );
        assert_eq!(
            json(DeployOutcome::Failed(PushFailure::BuildFailed {
                log_tail: vec!["boom".into()]
            })),
            r#"{"outcome":"build_failed","log_tail":["boom"]}"#
        );
        assert_eq!(
            json(DeployOutcome::Failed(PushFailure::Locked {
                message: "m".into()
            })),
            r#"{"outcome":"locked","message":"m"}"#
        );
        assert_eq!(
            json(DeployOutcome::Failed(PushFailure::Rejected {
                reason: "r".into()
            })),
            r#"{"outcome":"rejected","reason":"r"}"#
        );
    }

    #[test]
    fn branch_settings_default_to_the_development_host() {
        let text = "[settings]\nreview_node_env = \"development\"\n[hosts.a]\naddress='a'\n[hosts.b]\naddress='b'\nport=2222\n[environments.development]\nhost='b'\napp='api-development'\ndatabase='pg-development'\ndeploy_dir='api'\n";
        let c = PixConfig::parse(
            text,
            std::path::Path::new("/r"),
            std::path::Path::new("/r/pix.toml"),
        )
        .unwrap();
        let s = branch_settings(&c, &HostOverrides::default()).unwrap();
        assert_eq!(s.host_name, "b");
        assert_eq!(s.host.port, Some(2222));
        assert_eq!(s.deploy_dir.as_deref(), Some("api"));
        assert_eq!(s.node_env, "development");
        let t = branch_target(&s, "Fix/Thing").unwrap();
        assert_eq!(t.app, "fix-thing");
        assert!(!t.protected);
    }
}
