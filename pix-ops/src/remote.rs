//! Dokku git remotes: URLs, the `GIT_SSH_COMMAND` for CI, pushes with typed
//! outcomes, and pushes that no longer fast-forward (`pix remote status`,
//! `pix remote repair`).
//!
//! A remote *diverges* when its deploy branch holds commits the local side
//! does not have (someone else pushed, or the local branch was rebased).
//! [`status`] reports that per remote after a fetch; [`repair_merge`] merges
//! the remote's branch and pushes a fast-forward; [`repair_force`] pushes with
//! `--force-with-lease=<ref>:<sha read by [`read_divergence`]>`, so a remote
//! that moved again after it was read is refused, never overwritten.
//!
//! **The deploy lineage.** An environment with a `deploy_dir` (PIX's own
//! layout: the API in `api/` of a monorepo), or whose remote holds commits
//! `pix deploy` made, is not a copy of the local branch: its commits are
//! the deploy commits pix builds from the folder ([`crate::deploy`]). Its
//! [`Divergence::lineage`] is true and its repairs work on that lineage:
//! [`repair_lineage_merge`] brings the foreign commits' changes into the
//! checked-out branch (one commit, cherry-picked into the folder, carrying
//! `Pix-Remote-Tip:`), then deploys; [`repair_lineage_force`] deploys on
//! top of them, replacing their changes (the remote's history is kept; the
//! deploy commit lists what it replaces).

use serde::Serialize;

use crate::config::PixConfig;
use crate::confirm::{self, ConfirmFlags, ConfirmRequest, Prompter};
use crate::connect::ConnectOptions;
use crate::deploy::{self, DeployEvent, DeployOptions, DeployReport, DeployTarget};
use crate::error::{OpsError, Result};
use crate::git::{self, Git};
use crate::lineage::{self, ForeignCommit};
use crate::progress::Progress;
use crate::push::{self, git_ssh_command, git_url, shell_quote, PushOutcome};

/// A Dokku git remote URL: `dokku@HOST:APP` or `ssh://dokku@HOST[:PORT]/APP`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteUrl {
    /// The SSH user (`dokku`).
    pub user: String,
    /// The host.
    pub host: String,
    /// The port, when the URL names one.
    pub port: Option<u16>,
    /// The app.
    pub app: String,
}

impl RemoteUrl {
    /// Parses a git remote URL; `None` for anything that is not an SSH URL
    /// with a user and a valid Dokku app name (https, local paths, ...).
    pub fn parse(url: &str) -> Option<RemoteUrl> {
        let url = url.trim();
        let (user, host, port, path) = if let Some(rest) = url.strip_prefix("ssh://") {
            let (authority, path) = rest.split_once('/')?;
            let (user, hostport) = authority.rsplit_once('@')?;
            let (host, port) = match hostport.strip_prefix('[') {
                Some(v6) => {
                    let (h, after) = v6.split_once(']')?;
                    let port = match after.strip_prefix(':') {
                        Some(p) => Some(p.parse::<u16>().ok()?),
                        None if after.is_empty() => None,
                        None => return None,
                    };
                    (h, port)
                }
                None => match hostport.rsplit_once(':') {
                    Some((h, p)) => (h, Some(p.parse::<u16>().ok()?)),
                    None => (hostport, None),
                },
            };
            (user, host, port, path)
        } else {
            if url.contains("://") {
                return None;
            }
            let (user, rest) = url.split_once('@')?;
            // scp-like form: `[::1]:app` or `host:app`.
            let (host, path) = match rest.strip_prefix('[') {
                Some(v6) => {
                    let (h, after) = v6.split_once(']')?;
                    (h, after.strip_prefix(':')?)
                }
                None => rest.split_once(':')?,
            };
            if user.contains('/') || host.contains('/') {
                return None;
            }
            (user, host, None, path)
        };
        let app = path.trim_start_matches('/').trim_end_matches('/');
        let app = app.strip_suffix(".git").unwrap_or(app);
        if user.is_empty() || host.is_empty() || dokku_client::apps::validate_app_name(app).is_err()
        {
            return None;
        }
        Some(RemoteUrl {
            user: user.to_string(),
            host: host.to_string(),
            port,
            app: app.to_string(),
        })
    }

    /// [`RemoteUrl::parse`], for URLs whose login user is `dokku` only (the
    /// form host and app detection trusts: a push as another user is not a
    /// Dokku push).
    pub fn parse_dokku(url: &str) -> Option<RemoteUrl> {
        RemoteUrl::parse(url).filter(|r| r.user == "dokku")
    }
}

/// `git remote -v`: the Dokku remotes (fetch URLs), in order.
pub fn parse_remote_list(text: &str) -> Vec<(String, RemoteUrl, String)> {
    let mut out: Vec<(String, RemoteUrl, String)> = Vec::new();
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        let (Some(name), Some(url)) = (parts.next(), parts.next()) else {
            continue;
        };
        if parts.next() == Some("(push)") && out.iter().any(|(n, _, _)| n == name) {
            continue;
        }
        if out.iter().any(|(n, _, _)| n == name) {
            continue;
        }
        if let Some(parsed) = RemoteUrl::parse(url) {
            out.push((name.to_string(), parsed, url.to_string()));
        }
    }
    out
}

/// The `GIT_SSH_COMMAND` for a remote URL: from the `pix.toml` host with the
/// same address (and port, when the URL names one), if any.
pub fn ssh_command_for(
    config: &PixConfig,
    url: &RemoteUrl,
    options: &ConnectOptions,
) -> Option<String> {
    config
        .hosts
        .values()
        .find(|h| h.address == url.host && (url.port.is_none() || url.port == h.port))
        .map(|h| {
            let mut h = h.clone();
            if url.port.is_some() {
                h.port = url.port;
            }
            git_ssh_command(&h, options)
        })
}

/// The options for a remote from `pix.toml` (pure): the `GIT_SSH_COMMAND`
/// of the host with the URL's address; deploy branch and local ref left to
/// their defaults (the CLI may fill the deploy branch from
/// [`crate::deploy::deploy_branch`]).
pub fn options_from_config(
    config: &PixConfig,
    url: &RemoteUrl,
    connect: &ConnectOptions,
) -> RemoteOptions {
    RemoteOptions {
        deploy_branch: None,
        local_ref: None,
        ssh_command: ssh_command_for(config, url, connect),
        app_exists: None,
        deploy_target: None,
    }
}

/// What a plain `git push <remote> <local>:<deploy branch>` would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PushPrediction {
    /// The remote has no such branch: the push creates it.
    Create,
    /// The remote already holds the local commit.
    UpToDate,
    /// The remote's commit is contained in the local one.
    FastForward,
    /// The remote holds commits the local side does not: refused.
    Rejected,
}

/// What a deploy would do (`pix deploy ENV` for a remote an environment
/// deploys; a push of the local ref for one no environment deploys): the
/// `deploy` field of `pix remote status`, its DEPLOY column and what
/// `--exit-code` looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeployPrediction {
    /// The remote has no deploy branch yet: the deploy creates it.
    Create,
    /// The app does not exist on its host: a deploy refuses.
    AppMissing,
    /// The environment's `deploy_dir` is not in the local commit.
    MissingFolder,
    /// The remote already deploys this tree.
    UpToDate,
    /// A deploy goes on top of the remote's tip.
    FastForward,
    /// The remote holds commits `pix deploy` did not make, and the deploy
    /// would undo them: it stops (`pix remote repair`).
    BlockedForeignCommits,
    /// A push would be rejected (not a fast-forward).
    Rejected,
}

impl DeployPrediction {
    /// Its name, as in `--json` (pure).
    pub fn as_str(self) -> &'static str {
        match self {
            DeployPrediction::Create => "create",
            DeployPrediction::AppMissing => "app_missing",
            DeployPrediction::MissingFolder => "missing_folder",
            DeployPrediction::UpToDate => "up_to_date",
            DeployPrediction::FastForward => "fast_forward",
            DeployPrediction::BlockedForeignCommits => "blocked_foreign_commits",
            DeployPrediction::Rejected => "rejected",
        }
    }
}

/// The divergence between a local ref and a remote's deploy branch, as read
/// by [`read_divergence`] (after a fetch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Divergence {
    /// The git remote's name; for an environment of `pix.toml` that no git
    /// remote deploys, the environment's name (see `source`).
    pub remote: String,
    /// Whether `remote` names a git remote or an environment.
    pub source: RemoteSource,
    /// The URL pushed to.
    pub url: String,
    /// The local ref the remote's deploy branch was fetched into.
    pub tracking: String,
    /// Whether one of `environments` is protected (a forced push to it
    /// needs the typed confirmation).
    pub protected: bool,
    /// The app it deploys (from the URL).
    pub app: String,
    /// The remote's deploy branch.
    pub deploy_branch: String,
    /// The commit the remote's branch held when read (`None`: no branch).
    pub remote_sha: Option<String>,
    /// The local ref compared (`HEAD` or a branch).
    pub local_ref: String,
    /// The local commit.
    pub local_sha: String,
    /// Commits in the local ref the remote does not have.
    pub ahead: u64,
    /// Commits on the remote the local ref does not have.
    pub behind: u64,
    /// What a plain push would do.
    pub push: PushPrediction,
    /// The environments of `pix.toml` deploying this app.
    pub environments: Vec<String>,
    /// Whether the remote's tree equals the local commit's tree.
    pub same_tree: bool,
    /// Whether the app exists on the host, when that was asked
    /// ([`RemoteOptions::app_exists`]); `Some(false)`: nothing was fetched and
    /// a push (or `pix deploy`) creates the app.
    pub app_exists: Option<bool>,
    /// Whether the remote is a deploy lineage (see the module
    /// documentation): its repairs work on deploy commits, not on the
    /// local branch.
    pub lineage: bool,
    /// What a deploy would do.
    pub deploy: DeployPrediction,
    /// The commits on the remote `pix deploy` did not make and the local
    /// commit does not have (newest first, at most [`lineage::LISTED`]).
    pub foreign: Vec<ForeignCommit>,
    /// How many there are in all.
    pub foreign_count: usize,
}

/// What a [`Divergence`] was read for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RemoteSource {
    /// A git remote of the repository (`git remote -v`).
    GitRemote,
    /// An environment of `pix.toml` that no git remote deploys (`pix deploy`
    /// pushes to its URL directly).
    Environment,
}

impl Divergence {
    /// What to name in a `git push`/`git fetch`: the git remote, or the URL
    /// for an environment without one.
    pub fn push_target(&self) -> &str {
        match self.source {
            RemoteSource::GitRemote => &self.remote,
            RemoteSource::Environment => &self.url,
        }
    }
}

/// The tracking ref a remote's deploy branch is fetched into.
pub fn tracking_ref(remote: &str, branch: &str) -> String {
    format!("refs/remotes/{remote}/{branch}")
}

/// The ref an environment's deploy branch is fetched into when no git remote
/// deploys it (outside `refs/remotes`, which is git's for real remotes).
pub fn environment_tracking_ref(environment: &str, branch: &str) -> String {
    format!("refs/pix/environments/{environment}/{branch}")
}

/// Pure: the prediction from the counts.
pub fn predict(remote_sha: Option<&str>, ahead: u64, behind: u64) -> PushPrediction {
    match remote_sha {
        None => PushPrediction::Create,
        Some(_) if behind > 0 => PushPrediction::Rejected,
        Some(_) if ahead == 0 => PushPrediction::UpToDate,
        Some(_) => PushPrediction::FastForward,
    }
}

/// Options of [`read_divergence`], [`status`] and the repairs.
#[derive(Debug, Clone, Default)]
pub struct RemoteOptions {
    /// The remote's deploy branch (default `master`; the CLI reads it from
    /// `git:report` when the app is in `pix.toml`).
    pub deploy_branch: Option<String>,
    /// The local ref compared and pushed (default `HEAD`).
    pub local_ref: Option<String>,
    /// `GIT_SSH_COMMAND` for the remote (see [`ssh_command_for`]).
    pub ssh_command: Option<String>,
    /// Whether the app exists on the host, when known (`apps:exists`).
    /// `Some(false)` skips the fetch: Dokku creates a missing app when it is
    /// fetched from, and reading a status must not create anything. `None`
    /// fetches.
    pub app_exists: Option<bool>,
    /// The deploy target this remote is read for (`pix remote repair
    /// branch`, an alias): its URL and folder are used instead of the
    /// remote's name.
    pub deploy_target: Option<DeployTarget>,
}

fn git_for(git: &Git, options: &RemoteOptions) -> Git {
    match &options.ssh_command {
        Some(c) => git.clone().ssh_command(c),
        None => git.clone(),
    }
}

async fn remote_url(git: &Git, remote: &str) -> Result<String> {
    let out = git.output(&["remote", "get-url", remote]).await?;
    if !out.success() {
        let known = git.capture(&["remote"]).await.unwrap_or_default();
        let known = known.split_whitespace().collect::<Vec<_>>();
        return Err(OpsError::NotFound {
            message: format!(
                "`{remote}` is not a git remote of {} ({})",
                git.dir().display(),
                if known.is_empty() {
                    "it has none".to_string()
                } else {
                    format!("remotes: {}", known.join(", "))
                }
            ),
        });
    }
    Ok(out.stdout.trim().to_string())
}

/// Fetches `remote`'s deploy branch into `refs/remotes/<remote>/<branch>`
/// and compares it with the local ref. Read-only on the remote.
///
/// `remote` is a git remote of the repository or, when no remote has that
/// name, an environment of `pix.toml` (its app's URL on its host; fetched
/// into [`environment_tracking_ref`]).
pub async fn read_divergence(
    git: &Git,
    config: Option<&PixConfig>,
    remote: &str,
    options: &RemoteOptions,
) -> Result<Divergence> {
    let by_target = options
        .deploy_target
        .as_ref()
        .map(|t| (git_url(&t.host, &t.app), RemoteSource::Environment));
    let (url, source) = match by_target {
        Some(found) => found,
        None => match remote_url(git, remote).await {
            Ok(url) => (url, RemoteSource::GitRemote),
            Err(not_a_remote) => match config {
                Some(c) => match environment_url(c, remote) {
                    Some(url) => (url, RemoteSource::Environment),
                    None => {
                        return Err(OpsError::NotFound {
                            message: format!(
                                "{not_a_remote}, nor an environment of pix.toml (environments: {}); see `pix remote status`",
                                c.environments
                                    .keys()
                                    .map(String::as_str)
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        })
                    }
                },
                None => return Err(not_a_remote),
            },
        },
    };
    let parsed = RemoteUrl::parse(&url).ok_or_else(|| OpsError::Usage {
        message: format!(
            "remote `{remote}` ({url}) is not a Dokku remote (dokku@HOST:APP or ssh://dokku@HOST[:PORT]/APP)"
        ),
    })?;
    let git = git_for(git, options);
    let branch = options
        .deploy_branch
        .clone()
        .unwrap_or_else(|| "master".into());
    let local_ref = options.local_ref.clone().unwrap_or_else(|| "HEAD".into());
    let local_sha = git
        .capture(&["rev-parse", "--verify", &format!("{local_ref}^{{commit}}")])
        .await?;
    let tracking = match source {
        RemoteSource::GitRemote => tracking_ref(remote, &branch),
        RemoteSource::Environment => environment_tracking_ref(remote, &branch),
    };
    let listed = if options.app_exists == Some(false) {
        String::new()
    } else {
        ls_remote(&git, &url, &parsed, &branch).await?
    };
    let remote_sha = listed
        .lines()
        .find_map(|l| l.split_whitespace().next())
        .map(str::to_string);
    let (ahead, behind, same_tree, read_sha) = match &remote_sha {
        Some(sha) => {
            git.capture(&[
                "fetch",
                "--no-tags",
                "--quiet",
                &url,
                &format!("+refs/heads/{branch}:{tracking}"),
            ])
            .await?;
            // The remote may have moved between ls-remote and fetch: compare
            // with what was read, which the lease will hold on to.
            let fetched = git.capture(&["rev-parse", &tracking]).await?;
            let sha = if git
                .query(&["cat-file", "-e", &format!("{sha}^{{commit}}")])
                .await?
                .is_some()
            {
                sha.clone()
            } else {
                fetched
            };
            let counts = git
                .capture(&[
                    "rev-list",
                    "--left-right",
                    "--count",
                    &format!("{local_sha}...{sha}"),
                ])
                .await?;
            let mut it = counts.split_whitespace().map(|n| n.parse::<u64>().ok());
            let ahead = it.next().flatten().unwrap_or(0);
            let behind = it.next().flatten().unwrap_or(0);
            let same = git
                .capture(&["rev-parse", &format!("{sha}^{{tree}}")])
                .await?
                == git
                    .capture(&["rev-parse", &format!("{local_sha}^{{tree}}")])
                    .await?;
            (ahead, behind, same, Some(sha))
        }
        None => (0, 0, false, None),
    };
    let deploying: Vec<(&String, bool)> = config
        .map(|c| {
            c.environments
                .iter()
                .filter(|(_, e)| {
                    e.app == parsed.app
                        && c.hosts.get(&e.host).map(|h| h.address.as_str())
                            == Some(parsed.host.as_str())
                })
                .map(|(n, e)| (n, e.protected))
                .collect()
        })
        .unwrap_or_default();
    // The folder `pix deploy` builds from, when an environment deploys it.
    let folder: Option<Option<String>> = match &options.deploy_target {
        Some(t) => Some(t.deploy_dir.clone()),
        None => deploying.first().and_then(|(name, _)| {
            config
                .and_then(|c| c.environments.get(*name))
                .map(|e| e.deploy_dir.clone())
        }),
    };
    let push = predict(remote_sha.as_deref(), ahead, behind);
    let mut seen_lineage = folder
        .as_ref()
        .is_some_and(|d| deploy::tree_spec("x", d.as_deref()) != "x^{tree}");
    let mut foreign = Vec::new();
    let mut foreign_count = 0;
    let deploy = if options.app_exists == Some(false) {
        DeployPrediction::AppMissing
    } else {
        match (&read_sha, &folder) {
            (None, _) => DeployPrediction::Create,
            (Some(sha), Some(dir)) => match folder_tree(&git, &local_sha, dir.as_deref()).await? {
                None => DeployPrediction::MissingFolder,
                Some(tree) => {
                    let l = lineage::read(&git, sha, &local_sha, &tree).await?;
                    seen_lineage |= l.has_own;
                    foreign_count = l.foreign_count;
                    foreign = l.foreign.clone();
                    let remote_tree = git
                        .capture(&["rev-parse", &format!("{sha}^{{tree}}")])
                        .await?;
                    if remote_tree == tree {
                        DeployPrediction::UpToDate
                    } else if l.blocks() {
                        DeployPrediction::BlockedForeignCommits
                    } else {
                        DeployPrediction::FastForward
                    }
                }
            },
            (Some(_), None) => match push {
                PushPrediction::Create => DeployPrediction::Create,
                PushPrediction::UpToDate => DeployPrediction::UpToDate,
                PushPrediction::FastForward => DeployPrediction::FastForward,
                PushPrediction::Rejected => DeployPrediction::Rejected,
            },
        }
    };
    Ok(Divergence {
        remote: remote.to_string(),
        source,
        url,
        tracking,
        protected: deploying.iter().any(|(_, protected)| *protected)
            || options.deploy_target.as_ref().is_some_and(|t| t.protected),
        environments: deploying.iter().map(|(n, _)| (*n).clone()).collect(),
        app: parsed.app,
        deploy_branch: branch,
        push,
        remote_sha,
        local_ref,
        local_sha,
        ahead,
        behind,
        same_tree,
        app_exists: options.app_exists,
        lineage: seen_lineage,
        deploy,
        foreign,
        foreign_count,
    })
}

/// The tree `pix deploy` would build from `commit` (`None`: the folder is
/// not there).
pub async fn folder_tree(git: &Git, commit: &str, dir: Option<&str>) -> Result<Option<String>> {
    let spec = deploy::tree_spec(commit, dir);
    Ok(
        match git.query(&["rev-parse", "--verify", "-q", &spec]).await? {
            Some(id) if git.query(&["cat-file", "-t", &id]).await?.as_deref() == Some("tree") => {
                Some(id)
            }
            _ => None,
        },
    )
}

/// The push URL of environment `name` of `config`, if it has one.
pub fn environment_url(config: &PixConfig, name: &str) -> Option<String> {
    let env = config.environments.get(name)?;
    let host = config.hosts.get(&env.host)?;
    Some(git_url(host, &env.app))
}

/// `git ls-remote URL refs/heads/BRANCH`; a remote that cannot be reached
/// over SSH is a transport failure (exit 6 in the CLI), not a failed
/// command.
async fn ls_remote(git: &Git, url: &str, parsed: &RemoteUrl, branch: &str) -> Result<String> {
    let head = format!("refs/heads/{branch}");
    let args = ["ls-remote", url, head.as_str()];
    let out = git.output(&args).await?;
    if !out.success() && is_unreachable(&out.stderr) {
        return Err(OpsError::Dokku(dokku_client::Error::Transport {
            host: parsed.host.clone(),
            message: git::tail(&out.stderr, 3),
        }));
    }
    git::check(&args, &out)?;
    Ok(out.stdout.trim_end().to_string())
}

/// Whether git's stderr says the remote could not be reached over SSH (as
/// opposed to the remote refusing or failing a command).
pub fn is_unreachable(stderr: &str) -> bool {
    const SSH_FAILURES: [&str; 7] = [
        "ssh: connect to host",
        "ssh: Could not resolve hostname",
        "Connection refused",
        "Connection timed out",
        "Connection closed by",
        "Host key verification failed",
        "Permission denied (publickey",
    ];
    SSH_FAILURES.iter().any(|m| stderr.contains(m))
}

/// `pix remote status`: [`read_divergence`] for every Dokku remote of the
/// repository (`git remote -v`), then for every environment of `pix.toml`
/// that none of them deploys. `options_for` gives each remote's options
/// (deploy branch, ssh command) from its name and URL.
pub async fn status(
    git: &Git,
    config: Option<&PixConfig>,
    options_for: &dyn Fn(&str, &RemoteUrl) -> RemoteOptions,
) -> Result<Vec<Divergence>> {
    let listed = git.capture(&["remote", "-v"]).await?;
    let remotes = parse_remote_list(&listed);
    let mut out = Vec::new();
    for (name, url, _) in &remotes {
        let options = options_for(name, url);
        out.push(read_divergence(git, config, name, &options).await?);
    }
    if let Some(config) = config {
        for name in environments_without_remote(config, &remotes) {
            let Some(url) = environment_url(config, &name).and_then(|u| RemoteUrl::parse(&u))
            else {
                continue;
            };
            let options = options_for(&name, &url);
            out.push(read_divergence(git, Some(config), &name, &options).await?);
        }
    }
    Ok(out)
}

/// The environments of `config` that no remote of `remotes` (from
/// [`parse_remote_list`]) deploys, by name, and that no remote shadows by
/// having the environment's name.
pub fn environments_without_remote(
    config: &PixConfig,
    remotes: &[(String, RemoteUrl, String)],
) -> Vec<String> {
    config
        .environments
        .iter()
        .filter(|(name, env)| {
            let address = config.hosts.get(&env.host).map(|h| h.address.as_str());
            !remotes.iter().any(|(remote, url, _)| {
                remote == *name || (url.app == env.app && Some(url.host.as_str()) == address)
            })
        })
        .map(|(name, _)| name.clone())
        .collect()
}

/// How `repair --merge` ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum MergeOutcome {
    /// Nothing to merge: the remote's commits are already in the local ref.
    NothingToMerge {
        /// The push that followed (a fast-forward), if one was needed.
        push: Option<PushOutcome>,
    },
    /// Merged (commit `merge`) and pushed.
    Merged {
        /// The merge commit.
        merge: String,
        /// How the push ended.
        push: PushOutcome,
    },
    /// A deploy lineage's repair: the foreign commits' changes were brought
    /// into the checked-out branch (commit `replay`), then deployed.
    Replayed {
        /// The commit on the local branch that brings their changes.
        replay: String,
        /// The deploy that followed.
        deploy: Box<DeployReport>,
    },
    /// The merge had conflicts; it was aborted (the work tree is as it was)
    /// and `next_steps` say how to do it by hand.
    Conflicts {
        /// The conflicting paths.
        files: Vec<String>,
        /// The exact commands to run.
        next_steps: Vec<String>,
    },
}

/// A plain push of `HEAD` to the remote's deploy branch (a repair's merge
/// result), its output passed on as deploy events.
async fn push_head(
    git: &Git,
    read: &Divergence,
    progress: &dyn Progress<DeployEvent>,
) -> Result<PushOutcome> {
    push::push(
        git,
        &read.url,
        "HEAD",
        &read.deploy_branch,
        None,
        &mut |line| progress.event(DeployEvent::Output(line)),
    )
    .await
}

/// `pix remote repair <remote> --merge`: merges the remote's deploy branch
/// (as read in `read`) into the current branch, then pushes it (a
/// fast-forward now). Needs a clean work tree and a checked-out branch; on
/// conflicts runs `git merge --abort` and returns the steps to finish by
/// hand.
pub async fn repair_merge(
    git: &Git,
    read: &Divergence,
    options: &RemoteOptions,
    progress: &dyn Progress<DeployEvent>,
) -> Result<MergeOutcome> {
    let git = git_for(git, options);
    let Some(remote_sha) = &read.remote_sha else {
        return Err(OpsError::Precondition {
            message: format!(
                "{} has no branch {}: nothing to merge; a plain push creates it",
                read.remote, read.deploy_branch
            ),
        });
    };
    if read.local_ref != "HEAD" {
        return Err(OpsError::Usage {
            message:
                "--merge works on the checked-out branch; check out the branch to repair first"
                    .into(),
        });
    }
    let branch = clean_branch(&git).await?;
    let tracking = &read.tracking;
    if read.behind == 0 {
        let push = if read.ahead > 0 {
            Some(push_head(&git, read, progress).await?)
        } else {
            None
        };
        return Ok(MergeOutcome::NothingToMerge { push });
    }
    progress.event(DeployEvent::Note(format!(
        "merging {} ({} commit(s) only on {}) into {branch}",
        &remote_sha[..remote_sha.len().min(12)],
        read.behind,
        read.remote
    )));
    let message = format!(
        "Merge branch '{}' of {} into {branch}",
        read.deploy_branch, read.remote
    );
    let out = git
        .output(&["merge", "--no-ff", "--no-edit", "-m", &message, remote_sha])
        .await?;
    if !out.success() {
        let files = git
            .capture(&["diff", "--name-only", "--diff-filter=U"])
            .await
            .unwrap_or_default();
        let files: Vec<String> = files.lines().map(str::to_string).collect();
        // Leave the work tree exactly as before.
        let aborted = git.output(&["merge", "--abort"]).await?;
        if files.is_empty() && aborted.success() {
            return Err(OpsError::StepFailed {
                message: format!(
                    "git merge failed: {}; the merge was aborted",
                    git::tail(&format!("{}\n{}", out.stdout, out.stderr), 4)
                ),
            });
        }
        let next_steps = vec![
            format!("git merge {tracking}"),
            format!("# resolve the conflicts in: {}", files.join(", ")),
            "git add <the resolved files> && git commit --no-edit".into(),
            format!(
                "git push {} HEAD:refs/heads/{}",
                read.push_target(),
                read.deploy_branch
            ),
            "# or give up the merge at any point with: git merge --abort".into(),
        ];
        return Ok(MergeOutcome::Conflicts { files, next_steps });
    }
    let merge = git.capture(&["rev-parse", "HEAD"]).await?;
    let push = push_head(&git, read, progress).await?;
    Ok(MergeOutcome::Merged { merge, push })
}

/// The checked-out branch, when the work tree has no uncommitted changes.
async fn clean_branch(git: &Git) -> Result<String> {
    let branch = git
        .query(&["symbolic-ref", "--short", "-q", "HEAD"])
        .await?
        .ok_or_else(|| OpsError::Precondition {
            message: "HEAD is detached; check out the branch to repair (git switch <branch>)"
                .into(),
        })?;
    let dirty = git
        .capture(&["status", "--porcelain", "--untracked-files=no"])
        .await?;
    if !dirty.trim().is_empty() {
        return Err(OpsError::Precondition {
            message: format!(
                "the work tree has uncommitted changes; commit or stash them first:\n{dirty}"
            ),
        });
    }
    Ok(branch)
}

/// How `pix deploy` is run for `target` (pure): `pix deploy staging`,
/// `pix deploy branch`.
pub fn deploy_command(target: &DeployTarget) -> String {
    format!("pix deploy {}", target.environment)
}

/// The ref a lineage repair keeps its replay commit under (so the printed
/// hand steps can name it).
pub fn repair_ref(app: &str) -> String {
    format!("refs/pix/repair/{app}")
}

/// The foreign commits of `read`, one line each (pure).
pub fn foreign_lines(read: &Divergence) -> Vec<String> {
    let mut lines: Vec<String> = read
        .foreign
        .iter()
        .map(|c| {
            format!(
                "{} {} ({})",
                &c.sha[..c.sha.len().min(12)],
                c.subject,
                c.author
            )
        })
        .collect();
    if read.foreign_count > read.foreign.len() {
        lines.push(format!(
            "and {} more",
            read.foreign_count - read.foreign.len()
        ));
    }
    lines
}

/// `pix remote repair ENV --merge` on a deploy lineage: brings the changes
/// of the commits pushed without `pix deploy` into the checked-out branch
/// (one commit whose tree is the remote's tip, on the newest deploy commit
/// under it, cherry-picked into the deploy folder with `-X subtree=DIR`; its
/// message lists them and ends with `Pix-Remote-Tip: <tip>`), then deploys
/// the branch (on top of the remote's tip: a fast-forward). On conflicts the
/// cherry-pick is aborted (the work tree is as it was) and the hand steps
/// are returned.
pub async fn repair_lineage_merge(
    client: &dokku_client::Client,
    git: &Git,
    read: &Divergence,
    target: &DeployTarget,
    options: &DeployOptions,
    prompter: &mut dyn crate::confirm::Prompter,
    progress: &dyn Progress<DeployEvent>,
) -> Result<MergeOutcome> {
    let Some(tip) = &read.remote_sha else {
        return Err(OpsError::Precondition {
            message: format!(
                "{} has no branch {}: nothing to merge; `{}` creates it",
                read.remote,
                read.deploy_branch,
                deploy_command(target)
            ),
        });
    };
    let branch = clean_branch(git).await?;
    if read.deploy != DeployPrediction::BlockedForeignCommits {
        let why = if read.foreign_count == 0 {
            "holds only commits made by `pix deploy` (or already in your history)".to_string()
        } else {
            format!(
                "holds {} commit(s) not made by `pix deploy`, whose changes {} already has",
                read.foreign_count, read.local_ref
            )
        };
        return Err(OpsError::Refused {
            message: format!(
                "{}'s {} {why}: nothing to merge; nothing was done. `{}` deploys on top of it (it was deployed by `pix deploy`)",
                read.remote,
                read.deploy_branch,
                deploy_command(target)
            ),
        });
    }
    let tree = folder_tree(git, &read.local_sha, target.deploy_dir.as_deref())
        .await?
        .ok_or_else(|| OpsError::Precondition {
            message: format!(
                "the folder `{}` does not exist at HEAD",
                target.deploy_dir.as_deref().unwrap_or(".")
            ),
        })?;
    let seen = lineage::read(git, tip, &read.local_sha, &tree).await?;
    let newest = seen.foreign.first().cloned();
    let mut message = format!(
        "Bring in {} commit(s) pushed to {} without pix deploy\n\n",
        seen.foreign_count, read.app
    );
    for line in foreign_lines(read) {
        message.push_str(&format!("  {line}\n"));
    }
    message.push_str(&format!("\n{} {tip}\n", lineage::REMOTE_TIP_TRAILER));
    let mut make = vec!["commit-tree".to_string(), format!("{tip}^{{tree}}")];
    if let Some(base) = &seen.base {
        make.push("-p".into());
        make.push(base.clone());
    }
    make.push("-m".into());
    make.push(message);
    let mut maker = deploy::identity(git).await?;
    if let Some(c) = &newest {
        let who = git
            .capture(&[
                "log",
                "-1",
                "--format=%an%x00%ae%x00%ad",
                "--date=raw",
                &c.sha,
            ])
            .await?;
        let mut p = who.splitn(3, '\0');
        if let (Some(n), Some(e), Some(d)) = (p.next(), p.next(), p.next()) {
            maker = maker
                .env("GIT_AUTHOR_NAME", n)
                .env("GIT_AUTHOR_EMAIL", e)
                .env("GIT_AUTHOR_DATE", format!("@{d}"));
        }
    }
    let make: Vec<&str> = make.iter().map(String::as_str).collect();
    let replay_source = maker.capture(&make).await?;
    let keep = repair_ref(&read.app);
    git.capture(&["update-ref", &keep, &replay_source]).await?;
    let subtree = target
        .deploy_dir
        .as_deref()
        .map(|d| d.trim_matches('/'))
        .filter(|d| !d.is_empty() && *d != ".")
        .map(|d| format!("subtree={d}"));
    progress.event(DeployEvent::Note(format!(
        "bringing {} commit(s) of {} into {branch}{}",
        seen.foreign_count,
        read.app,
        target
            .deploy_dir
            .as_deref()
            .map(|d| format!(" (under {d}/)"))
            .unwrap_or_default()
    )));
    let mut pick = vec!["cherry-pick", "--keep-redundant-commits"];
    if let Some(x) = &subtree {
        pick.push("-X");
        pick.push(x);
    }
    pick.push(&keep);
    let out = deploy::identity(git).await?.output(&pick).await?;
    if !out.success() {
        let files = git
            .capture(&["diff", "--name-only", "--diff-filter=U"])
            .await
            .unwrap_or_default();
        let files: Vec<String> = files.lines().map(str::to_string).collect();
        let aborted = git.output(&["cherry-pick", "--abort"]).await?;
        if files.is_empty() && aborted.success() {
            return Err(OpsError::StepFailed {
                message: format!(
                    "git cherry-pick failed: {}; it was aborted",
                    git::tail(&format!("{}\n{}", out.stdout, out.stderr), 4)
                ),
            });
        }
        let mut hand = vec!["git".to_string(), "cherry-pick".to_string()];
        if let Some(x) = &subtree {
            hand.push("-X".into());
            hand.push(x.clone());
        }
        hand.push(keep.clone());
        let quoted: Vec<String> = files.iter().map(|f| shell_quote(f)).collect();
        let next_steps = vec![
            hand.iter()
                .map(|w| shell_quote(w))
                .collect::<Vec<_>>()
                .join(" "),
            format!("# resolve the conflicts in: {}", files.join(", ")),
            format!("git add {} && git commit --no-edit", quoted.join(" ")),
            deploy_command(target),
            "# or give up at any point with: git cherry-pick --abort".into(),
        ];
        return Ok(MergeOutcome::Conflicts { files, next_steps });
    }
    let replay = git.capture(&["rev-parse", "HEAD"]).await?;
    let mut options = options.clone();
    options.rev = None;
    let report = deploy::deploy(client, target, &options, prompter, progress).await?;
    Ok(MergeOutcome::Replayed {
        replay,
        deploy: Box::new(report),
    })
}

/// `pix remote repair ENV --force` on a deploy lineage: after confirmation
/// (a protected environment's needs the app's name typed), deploys the
/// local commit on top of the remote's tip although it undoes the commits
/// pushed without `pix deploy` (the deploy commit lists them). With nothing
/// to replace, it is a plain deploy (and says "nothing to deploy" when the
/// remote already runs the tree). If the remote moved after it was read,
/// the deploy stops again with [`deploy::DeployOutcome::ForeignCommits`].
#[allow(clippy::too_many_arguments)]
pub async fn repair_lineage_force(
    client: &dokku_client::Client,
    read: &Divergence,
    target: &DeployTarget,
    options: &DeployOptions,
    flags: &ConfirmFlags,
    prompter: &mut dyn Prompter,
    progress: &dyn Progress<DeployEvent>,
) -> Result<DeployReport> {
    let mut options = options.clone();
    options.rev = None;
    if read.deploy == DeployPrediction::BlockedForeignCommits {
        let tip = read.remote_sha.clone().unwrap_or_default();
        let action = format!(
            "deploy {} ({}) to {} on top of {}, undoing {} commit(s) pushed without pix deploy",
            &read.local_sha[..read.local_sha.len().min(12)],
            read.local_ref,
            read.app,
            &tip[..tip.len().min(12)],
            read.foreign_count
        );
        let command = format!("pix remote repair {} --force", read.remote);
        confirm::confirm(
            &ConfirmRequest {
                environment: &read.remote,
                protected: read.protected,
                name: &read.app,
                action: &action,
                command: &command,
            },
            flags,
            prompter,
        )?;
        options.replace_foreign = Some(tip);
        options.confirmed = true;
    }
    deploy::deploy(client, target, &options, prompter, progress).await
}

/// `pix remote repair <remote> --force`: after confirmation, pushes the
/// local ref with `--force-with-lease` against the commit `read` saw. If the
/// remote moved since, git refuses and the outcome is `Rejected`.
pub async fn repair_force(
    git: &Git,
    read: &Divergence,
    options: &RemoteOptions,
    flags: &ConfirmFlags,
    prompter: &mut dyn Prompter,
    progress: &dyn Progress<DeployEvent>,
) -> Result<PushOutcome> {
    let git = git_for(git, options);
    if read.remote_sha.as_deref() == Some(read.local_sha.as_str()) {
        return Ok(PushOutcome::UpToDate);
    }
    let action = format!(
        "replace {}'s {} ({}, {} commit(s) not in {}) with {} ({})",
        read.remote,
        read.deploy_branch,
        read.remote_sha
            .as_deref()
            .map(|s| &s[..s.len().min(12)])
            .unwrap_or("none"),
        read.behind,
        read.local_ref,
        read.local_ref,
        &read.local_sha[..read.local_sha.len().min(12)]
    );
    let command = format!("pix remote repair {} --force", read.remote);
    confirm::confirm(
        &ConfirmRequest {
            environment: &read.remote,
            protected: read.protected,
            name: &read.app,
            action: &action,
            command: &command,
        },
        flags,
        prompter,
    )?;
    // An absent branch is leased as "must not exist" (empty expected value).
    let lease = read.remote_sha.clone().unwrap_or_default();
    push::push(
        &git,
        &read.url,
        &read.local_sha,
        &read.deploy_branch,
        Some(&lease),
        &mut |line| progress.event(DeployEvent::Output(line)),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environments_without_a_remote_are_the_ones_no_remote_deploys() {
        let config = PixConfig::parse(
            "[hosts.pix]\naddress = \"pix-app.ovh\"\n\n\
             [environments.development]\nhost = \"pix\"\napp = \"api-dev\"\ndatabase = \"db-dev\"\n\n\
             [environments.staging]\nhost = \"pix\"\napp = \"api-staging\"\ndatabase = \"db-staging\"\n\n\
             [environments.production]\nhost = \"pix\"\napp = \"api-prod\"\ndatabase = \"db-prod\"\nprotected = true\n",
            std::path::Path::new("/repo"),
            std::path::Path::new("/repo/pix.toml"),
        )
        .unwrap();
        let remotes = parse_remote_list(
            // one deploys staging; one has production's name but another app;
            // one points at api-dev on another host
            "dokku\tdokku@pix-app.ovh:api-staging (push)\n\
             production\tdokku@pix-app.ovh:something-else (push)\n\
             other\tdokku@elsewhere.example:api-dev (push)\n",
        );
        assert_eq!(
            environments_without_remote(&config, &remotes),
            ["development"]
        );
        assert_eq!(
            environment_url(&config, "development").as_deref(),
            Some("dokku@pix-app.ovh:api-dev")
        );
        assert_eq!(environment_url(&config, "nope"), None);
    }

    #[test]
    fn unreachable_remotes_are_told_from_failed_commands() {
        for unreachable in [
            "ssh: connect to host 127.0.0.1 port 1: Connection refused\nfatal: Could not read from remote repository.",
            "ssh: Could not resolve hostname nope: Name or service not known",
            "Host key verification failed.\nfatal: Could not read from remote repository.",
            "dokku@h: Permission denied (publickey).",
        ] {
            assert!(is_unreachable(unreachable), "{unreachable}");
        }
        for failed in [
            " !     App name must begin with lowercase alphanumeric character",
            "fatal: couldn't find remote ref refs/heads/main",
        ] {
            assert!(!is_unreachable(failed), "{failed}");
        }
    }

    #[test]
    fn remote_urls_parse() {
        type Want<'a> = Option<(&'a str, &'a str, Option<u16>, &'a str)>;
        let cases: &[(&str, Want<'_>)] = &[
            (
                "dokku@pix-app.ovh:api-prod",
                Some(("dokku", "pix-app.ovh", None, "api-prod")),
            ),
            (
                "dokku@pix-app.ovh:api-prod.git",
                Some(("dokku", "pix-app.ovh", None, "api-prod")),
            ),
            (
                "ssh://dokku@pix-app.ovh/api-prod",
                Some(("dokku", "pix-app.ovh", None, "api-prod")),
            ),
            (
                "ssh://dokku@pix-app.ovh:2222/my.app",
                Some(("dokku", "pix-app.ovh", Some(2222), "my.app")),
            ),
            (
                "ssh://dokku@[::1]:22/a",
                Some(("dokku", "::1", Some(22), "a")),
            ),
            ("ssh://dokku@[::1]/a/", Some(("dokku", "::1", None, "a"))),
            ("dokku@[::1]:a", Some(("dokku", "::1", None, "a"))),
            (
                "ssh://dokku@host/app.git",
                Some(("dokku", "host", None, "app")),
            ),
            ("ssh://dokku@[::1]x/a", None),
            ("dokku@host:", None),
            ("dokku@host:org/app", None),
            ("ssh://host/app", None),
            (
                "dokku@127.0.0.1:/a",
                Some(("dokku", "127.0.0.1", None, "a")),
            ),
            ("https://github.com/1024pix/pix.git", None),
            ("/srv/git/pix.git", None),
            ("../origin.git", None),
            ("git@github.com:1024pix/pix.git", None),
            ("dokku@host:Bad_App", None),
            ("host:app", None),
            ("ssh://dokku@host:notaport/app", None),
        ];
        for (url, want) in cases {
            let got = RemoteUrl::parse(url);
            let want = want.map(|(u, h, p, a)| RemoteUrl {
                user: u.into(),
                host: h.into(),
                port: p,
                app: a.into(),
            });
            assert_eq!(got, want, "{url}");
        }
    }

    #[test]
    fn remote_list_keeps_dokku_remotes_once() {
        let text = "origin\tgit@github.com:1024pix/pix.git (fetch)\norigin\tgit@github.com:1024pix/pix.git (push)\nprod\tdokku@pix-app.ovh:api-prod (fetch)\nprod\tdokku@pix-app.ovh:api-prod (push)\nbr\tssh://dokku@h:2222/x (fetch)\n";
        let got = parse_remote_list(text);
        let names: Vec<&str> = got.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(names, ["prod", "br"]);
        assert_eq!(got[1].1.port, Some(2222));
    }

    #[test]
    fn predictions() {
        assert_eq!(predict(None, 0, 0), PushPrediction::Create);
        assert_eq!(predict(Some("a"), 0, 0), PushPrediction::UpToDate);
        assert_eq!(predict(Some("a"), 2, 0), PushPrediction::FastForward);
        assert_eq!(predict(Some("a"), 2, 1), PushPrediction::Rejected);
    }
}
