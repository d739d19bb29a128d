//! `pix release <version>`: PIX's `release:publish` script made safe.
//!
//! PIX merged `release-x.y.z` into `dev` and `dev` into `master`, tagged
//! `vX.Y.Z`, pushed, then force-pushed production. Here, in order:
//!
//! 1. checks, read-only: the version is `x.y.z` (digits, dots, an optional
//!    `-suffix`); the working tree has no uncommitted change; the release
//!    branch exists (locally or on the remote); the tag exists neither
//!    locally nor on the remote; the integration and main branches are not
//!    behind or apart from the remote's;
//! 2. `git fetch`, then the merges with `--no-ff`: release → integration,
//!    integration → main. A conflict aborts the merge (`git merge --abort`),
//!    goes back to the branch you were on, and says exactly what to do;
//! 3. `git tag -a v<version>` on the main branch;
//! 4. one `git push --atomic` of both branches and the tag (all or nothing);
//! 5. the deploy of the production environment from the main branch through
//!    [`crate::deploy`], with its confirmation (a protected environment needs
//!    its database's name typed).
//!
//! [`plan`] gives every git command and the deploy as text (`--dry-run`);
//! [`release`] runs them.

use std::path::PathBuf;

use serde::Serialize;

use crate::config::{HostOverrides, PixConfig};
use crate::confirm::{self, ConfirmFlags, ConfirmRequest, Prompter};
use crate::connect::{connect, ConnectOptions};
use crate::deploy::{self, DeployEvent, DeployReport, DeployTarget};
use crate::error::{OpsError, Result};
use crate::git::Git;
use crate::progress::{Forward, Progress};

/// Defaults of the `[release]` table (PIX's names).
pub const DEFAULT_INTEGRATION_BRANCH: &str = "dev";
/// The default main branch.
pub const DEFAULT_MAIN_BRANCH: &str = "master";
/// The default release branch prefix.
pub const DEFAULT_RELEASE_PREFIX: &str = "release-";
/// The default production environment.
pub const DEFAULT_PRODUCTION_ENV: &str = "production";

/// The branches and names of one release (pure).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseNames {
    /// `1.2.3`.
    pub version: String,
    /// `v1.2.3`.
    pub tag: String,
    /// `release-1.2.3`.
    pub release_branch: String,
    /// `dev`.
    pub integration_branch: String,
    /// `master`.
    pub main_branch: String,
    /// `production`.
    pub production_env: String,
    /// `origin`.
    pub remote: String,
}

/// Checks `version` and derives the names from `config`'s `[release]` table
/// (pure).
pub fn names(config: &PixConfig, version: &str, remote: &str) -> Result<ReleaseNames> {
    let version = version.strip_prefix('v').unwrap_or(version);
    let (core, suffix) = match version.split_once('-') {
        Some((c, s)) => (c, Some(s)),
        None => (version, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    let core_ok = parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    let suffix_ok = suffix
        .is_none_or(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '.'));
    if !core_ok || !suffix_ok {
        return Err(OpsError::Usage {
            message: format!(
                "version {version:?} is not of the form 1.2.3 (optionally 1.2.3-rc.1)"
            ),
        });
    }
    let r = &config.release;
    let pick = |v: &Option<String>, d: &str| v.clone().unwrap_or_else(|| d.to_string());
    Ok(ReleaseNames {
        version: version.to_string(),
        tag: format!("v{version}"),
        release_branch: format!(
            "{}{version}",
            pick(&r.release_branch_prefix, DEFAULT_RELEASE_PREFIX)
        ),
        integration_branch: pick(&r.integration_branch, DEFAULT_INTEGRATION_BRANCH),
        main_branch: pick(&r.main_branch, DEFAULT_MAIN_BRANCH),
        production_env: pick(&r.production_env, DEFAULT_PRODUCTION_ENV),
        remote: remote.to_string(),
    })
}

/// The git commands of a release, in order (pure).
pub fn git_commands(n: &ReleaseNames) -> Vec<Vec<String>> {
    let s = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    vec![
        s(&["fetch", "--quiet", &n.remote]),
        s(&["switch", &n.integration_branch]),
        s(&["merge", "--no-ff", "--no-edit", &n.release_branch]),
        s(&["switch", &n.main_branch]),
        s(&["merge", "--no-ff", "--no-edit", &n.integration_branch]),
        s(&["tag", "-a", &n.tag, "-m", &format!("Release {}", n.version)]),
        s(&[
            "push",
            "--atomic",
            &n.remote,
            &format!("refs/heads/{0}:refs/heads/{0}", n.integration_branch),
            &format!("refs/heads/{0}:refs/heads/{0}", n.main_branch),
            &format!("refs/tags/{0}:refs/tags/{0}", n.tag),
        ]),
    ]
}

/// A command as a shell line (pure; words with spaces are quoted).
pub fn shell_line(words: &[String]) -> String {
    std::iter::once("git".to_string())
        .chain(words.iter().map(|w| {
            if w.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./:=@^{}".contains(c))
            {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', r"'\''"))
            }
        }))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What the caller passes.
#[derive(Debug, Clone, Default)]
pub struct ReleaseOptions {
    /// The repository (any folder inside its work tree).
    pub repo: PathBuf,
    /// The remote (default `origin`).
    pub remote: Option<String>,
    /// Print the commands; run only the read-only checks.
    pub dry_run: bool,
    /// Stop after pushing (no deploy).
    pub no_deploy: bool,
    /// Key and known_hosts overrides for the deploy.
    pub connect: ConnectOptions,
    /// `--yes` / `--confirm` for the deploy.
    pub confirm: ConfirmFlags,
    /// How the user runs it (for messages): `pix release 1.2.3`.
    pub command: String,
}

/// Something that happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseEvent {
    /// A git command is about to run.
    Git(String),
    /// A line of information.
    Note(String),
    /// An event of the production deploy.
    Deploy(DeployEvent),
}

impl From<DeployEvent> for ReleaseEvent {
    fn from(event: DeployEvent) -> Self {
        ReleaseEvent::Deploy(event)
    }
}

/// The report (`--json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseReport {
    /// Names and branches.
    pub names: ReleaseNames,
    /// The git commands (run, or to run with `--dry-run`).
    pub git: Vec<String>,
    /// The deploy, as a sentence.
    pub deploy_plan: String,
    /// True for `--dry-run`: nothing was changed.
    pub dry_run: bool,
    /// The commit tagged (after a real run).
    pub tagged_commit: Option<String>,
    /// The deploy's report (after a real run that deployed).
    pub deploy: Option<DeployReport>,
}

fn precondition(message: String) -> OpsError {
    OpsError::Precondition { message }
}

async fn exists(git: &Git, reference: &str) -> Result<bool> {
    Ok(git
        .query(&["rev-parse", "--verify", "-q", reference])
        .await?
        .is_some())
}

/// A committer identity when git has none (CI), as deploys do.
async fn with_identity(git: &Git) -> Result<Git> {
    if git.query(&["var", "GIT_COMMITTER_IDENT"]).await?.is_some()
        && git.query(&["var", "GIT_AUTHOR_IDENT"]).await?.is_some()
    {
        return Ok(git.clone());
    }
    Ok(git
        .clone()
        .env("GIT_AUTHOR_NAME", "pix release")
        .env("GIT_AUTHOR_EMAIL", "pix-release@localhost")
        .env("GIT_COMMITTER_NAME", "pix release")
        .env("GIT_COMMITTER_EMAIL", "pix-release@localhost"))
}

/// The read-only checks. Returns the branch checked out now.
async fn check(git: &Git, n: &ReleaseNames) -> Result<String> {
    let changes = git
        .capture(&["status", "--porcelain", "--untracked-files=no"])
        .await?;
    if !changes.is_empty() {
        return Err(precondition(format!(
            "the working tree has uncommitted changes; commit or stash them first (git status):\n{changes}"
        )));
    }
    let current = git
        .query(&["symbolic-ref", "--short", "-q", "HEAD"])
        .await?
        .ok_or_else(|| precondition("HEAD is detached: check out a branch first".into()))?;
    let remote_ref = |b: &str| format!("refs/remotes/{}/{b}", n.remote);
    if !exists(git, &format!("refs/heads/{}", n.release_branch)).await?
        && !exists(git, &remote_ref(&n.release_branch)).await?
    {
        return Err(precondition(format!(
            "the release branch {} does not exist (locally or on {}); create it with `git switch -c {} {}` and commit the release there",
            n.release_branch, n.remote, n.release_branch, n.integration_branch
        )));
    }
    for b in [&n.integration_branch, &n.main_branch] {
        if !exists(git, &format!("refs/heads/{b}")).await? && !exists(git, &remote_ref(b)).await? {
            return Err(precondition(format!(
                "branch {b} does not exist (locally or on {}); check [release] in pix.toml",
                n.remote
            )));
        }
    }
    if exists(git, &format!("refs/tags/{}", n.tag)).await? {
        return Err(precondition(format!(
            "tag {} already exists; a released version is never re-tagged: pick the next version",
            n.tag
        )));
    }
    let remote_tags = git
        .capture(&[
            "ls-remote",
            "--tags",
            &n.remote,
            &format!("refs/tags/{}", n.tag),
        ])
        .await?;
    if !remote_tags.trim().is_empty() {
        return Err(precondition(format!(
            "tag {} already exists on {}; pick the next version",
            n.tag, n.remote
        )));
    }
    Ok(current)
}

/// Brings local `branch` up to the remote's (fast-forward only).
async fn sync_branch(
    git: &Git,
    n: &ReleaseNames,
    branch: &str,
    progress: &dyn Progress<ReleaseEvent>,
) -> Result<()> {
    let remote = format!("refs/remotes/{}/{branch}", n.remote);
    if !exists(git, &format!("refs/heads/{branch}")).await? {
        // Created from the remote's.
        progress.event(ReleaseEvent::Git(format!("git branch {branch} {remote}")));
        git.capture(&["branch", branch, &remote]).await?;
        return Ok(());
    }
    if !exists(git, &remote).await? {
        return Ok(());
    }
    let local = format!("refs/heads/{branch}");
    let behind = git
        .query(&["merge-base", "--is-ancestor", &local, &remote])
        .await?
        .is_some();
    let ahead = git
        .query(&["merge-base", "--is-ancestor", &remote, &local])
        .await?
        .is_some();
    match (ahead, behind) {
        (true, _) => Ok(()),
        (false, true) => {
            progress.event(ReleaseEvent::Git(format!("git branch -f {branch} {remote}")));
            // Not checked out (we switch only after): move it.
            git.capture(&["update-ref", &local, &remote]).await?;
            Ok(())
        }
        (false, false) => Err(precondition(format!(
            "{branch} and {}/{branch} have diverged; reconcile them first (git switch {branch} && git pull --rebase {} {branch}), then release again",
            n.remote, n.remote
        ))),
    }
}

/// Merges `from` into the checked-out `into`; on a conflict aborts, goes
/// back to `back`, and says what to do.
async fn merge(
    git: &Git,
    n: &ReleaseNames,
    from: &str,
    into: &str,
    back: &str,
    progress: &dyn Progress<ReleaseEvent>,
) -> Result<()> {
    let args = ["merge", "--no-ff", "--no-edit", from];
    progress.event(ReleaseEvent::Git(format!("git {}", args.join(" "))));
    let out = git.output(&args).await?;
    if out.success() {
        return Ok(());
    }
    let conflicted = git
        .capture(&["diff", "--name-only", "--diff-filter=U"])
        .await
        .unwrap_or_default();
    let _ = git.output(&["merge", "--abort"]).await;
    let _ = git.output(&["switch", back]).await;
    Err(OpsError::StepFailed {
        message: format!(
            "merging {from} into {into} conflicts{}; the merge was aborted and nothing was pushed or tagged (you are back on {back}). Resolve it by hand: `git switch {into} && git merge --no-ff {from}`, fix the files, `git commit`, then run the release again: {}",
            if conflicted.trim().is_empty() {
                format!(" ({})", crate::git::tail(&format!("{}\n{}", out.stdout, out.stderr), 3))
            } else {
                format!(" in: {}", conflicted.lines().collect::<Vec<_>>().join(", "))
            },
            if n.version.is_empty() { "pix release".to_string() } else { format!("pix release {}", n.version) }
        ),
    })
}

/// The production deploy target.
fn production(
    config: &PixConfig,
    n: &ReleaseNames,
    overrides: &HostOverrides,
) -> Result<DeployTarget> {
    let env = config.environment(&n.production_env, overrides)?;
    Ok(DeployTarget::from_environment(&env))
}

/// Lists what a release would do (pure apart from reading `config`).
pub fn plan(
    config: &PixConfig,
    n: &ReleaseNames,
    overrides: &HostOverrides,
) -> Result<(Vec<String>, String)> {
    let target = production(config, n, overrides)?;
    let git: Vec<String> = git_commands(n).iter().map(|c| shell_line(c)).collect();
    let deploy = format!(
        "deploy {} ({}) to {} on {} (`git push {}` of one fast-forward commit, confirmed{})",
        n.main_branch,
        n.tag,
        target.app,
        target.host.address,
        crate::push::git_url(&target.host, &target.app),
        if target.protected {
            format!(" by typing {}", target.confirm_name)
        } else {
            String::new()
        }
    );
    Ok((git, deploy))
}

/// Runs the release of `version` (see the module documentation).
pub async fn release(
    config: &PixConfig,
    version: &str,
    overrides: &HostOverrides,
    options: &ReleaseOptions,
    prompter: &mut dyn Prompter,
    progress: &dyn Progress<ReleaseEvent>,
) -> Result<ReleaseReport> {
    let remote = options.remote.clone().unwrap_or_else(|| "origin".into());
    let n = names(config, version, &remote)?;
    let (git_lines, deploy_plan) = plan(config, &n, overrides)?;
    let git = Git::new(&options.repo);
    let mut report = ReleaseReport {
        names: n.clone(),
        git: git_lines,
        deploy_plan,
        dry_run: options.dry_run,
        tagged_commit: None,
        deploy: None,
    };
    let start = check(&git, &n).await?;
    if options.dry_run {
        return Ok(report);
    }
    // Ask before anything is merged, tagged or pushed: a refused production
    // deploy must not leave a release half published.
    let target = if options.no_deploy {
        None
    } else {
        Some(production(config, &n, overrides)?)
    };
    let mut deploy_confirm = options.confirm.clone();
    if let Some(t) = target.as_ref().filter(|t| t.protected) {
        let action = format!(
            "release {} (merge, tag {}, push to {remote}) and deploy it to {}",
            n.version, n.tag, t.environment
        );
        let command = if options.command.is_empty() {
            format!("pix release {}", n.version)
        } else {
            options.command.clone()
        };
        confirm::confirm(
            &ConfirmRequest {
                environment: &t.environment,
                protected: true,
                name: &t.confirm_name,
                action: &action,
                command: &command,
            },
            &options.confirm,
            prompter,
        )?;
        // Confirmed once: the deploy does not ask again.
        deploy_confirm = ConfirmFlags {
            yes: false,
            confirm: Some(t.confirm_name.clone()),
        };
    }
    let git = with_identity(&git).await?;
    progress.event(ReleaseEvent::Git(format!("git fetch --quiet {remote}")));
    git.capture(&["fetch", "--quiet", &remote]).await?;
    // The fetch may have brought the release branch or a tag.
    check(&git, &n).await?;
    for b in [&n.integration_branch, &n.main_branch] {
        sync_branch(&git, &n, b, progress).await?;
    }
    let release_ref = if exists(&git, &format!("refs/heads/{}", n.release_branch)).await? {
        n.release_branch.clone()
    } else {
        format!("{remote}/{}", n.release_branch)
    };

    progress.event(ReleaseEvent::Git(format!(
        "git switch {}",
        n.integration_branch
    )));
    git.capture(&["switch", "--quiet", &n.integration_branch])
        .await?;
    merge(
        &git,
        &n,
        &release_ref,
        &n.integration_branch,
        &start,
        progress,
    )
    .await?;
    progress.event(ReleaseEvent::Git(format!("git switch {}", n.main_branch)));
    git.capture(&["switch", "--quiet", &n.main_branch]).await?;
    merge(
        &git,
        &n,
        &n.integration_branch,
        &n.main_branch,
        &start,
        progress,
    )
    .await?;
    let message = format!("Release {}", n.version);
    progress.event(ReleaseEvent::Git(format!(
        "git tag -a {} -m '{message}'",
        n.tag
    )));
    git.capture(&["tag", "-a", &n.tag, "-m", &message]).await?;
    let tagged = git.capture(&["rev-parse", "HEAD"]).await?;
    report.tagged_commit = Some(tagged.clone());

    let push = git_commands(&n).pop().unwrap_or_default();
    let push: Vec<&str> = push.iter().map(String::as_str).collect();
    progress.event(ReleaseEvent::Git(format!("git {}", push.join(" "))));
    let pushed = git.output(&push).await?;
    let _ = git.output(&["switch", "--quiet", &start]).await;
    if !pushed.success() {
        return Err(OpsError::StepFailed {
            message: format!(
                "pushing to {remote} failed ({}); nothing was pushed (the push is atomic). The merges and tag {} are local: fix the cause and push with `git push --atomic {remote} {} {} {}`, then deploy with `pix deploy {}`",
                crate::git::tail(&pushed.stderr, 3),
                n.tag,
                n.integration_branch,
                n.main_branch,
                n.tag,
                n.production_env
            ),
        });
    }
    progress.event(ReleaseEvent::Note(format!(
        "pushed {}, {} and {} to {remote}",
        n.integration_branch, n.main_branch, n.tag
    )));
    let Some(target) = target else {
        return Ok(report);
    };
    let client = connect(&target.host, &options.connect).await?;
    let deploy_options = deploy::DeployOptions {
        repo: options.repo.clone(),
        rev: Some(n.main_branch.clone()),
        connect: options.connect.clone(),
        confirm: deploy_confirm,
        command: if options.command.is_empty() {
            format!("pix release {}", n.version)
        } else {
            options.command.clone()
        },
        dry_run: false,
        ..deploy::DeployOptions::default()
    };
    let deployed = deploy::deploy(
        &client,
        &target,
        &deploy_options,
        prompter,
        &Forward(progress),
    )
    .await;
    let _ = client.close().await;
    let deployed = deployed.map_err(|e| OpsError::StepFailed {
        message: format!(
            "{} is released ({} pushed) but the deploy to {} did not happen: {e}. Deploy it with `pix deploy {} --rev {}`",
            n.version, n.tag, n.production_env, n.production_env, n.tag
        ),
    })?;
    report.deploy = Some(deployed);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(release: &str) -> PixConfig {
        PixConfig::parse(
            &format!("{release}[hosts.h]\naddress='pix-app.ovh'\n[environments.production]\nhost='h'\napp='api-prod'\ndatabase='pg-prod'\nprotected=true\n"),
            std::path::Path::new("/r"),
            std::path::Path::new("/r/pix.toml"),
        )
        .unwrap()
    }

    #[test]
    fn versions_and_names() {
        let c = config("");
        let n = names(&c, "v1.2.3", "origin").unwrap();
        assert_eq!(
            (
                n.tag.as_str(),
                n.release_branch.as_str(),
                n.integration_branch.as_str(),
                n.main_branch.as_str()
            ),
            ("v1.2.3", "release-1.2.3", "dev", "master")
        );
        assert_eq!(names(&c, "1.2.3-rc.1", "o").unwrap().tag, "v1.2.3-rc.1");
        for bad in ["1.2", "1.2.x", "", "1.2.3-", "1.2.3;rm", "1..3"] {
            assert!(names(&c, bad, "o").is_err(), "{bad}");
        }
        let c = config("[release]\nmain_branch='main'\nintegration_branch='develop'\nrelease_branch_prefix='release/'\n");
        let n = names(&c, "2.0.0", "origin").unwrap();
        assert_eq!(n.release_branch, "release/2.0.0");
        assert_eq!(n.main_branch, "main");
    }

    #[test]
    fn the_dry_run_lists_every_command() {
        let c = config("");
        let n = names(&c, "1.2.3", "origin").unwrap();
        let (git, deploy) = plan(&c, &n, &HostOverrides::default()).unwrap();
        assert_eq!(
            git,
            [
                "git fetch --quiet origin",
                "git switch dev",
                "git merge --no-ff --no-edit release-1.2.3",
                "git switch master",
                "git merge --no-ff --no-edit dev",
                "git tag -a v1.2.3 -m 'Release 1.2.3'",
                "git push --atomic origin refs/heads/dev:refs/heads/dev refs/heads/master:refs/heads/master refs/tags/v1.2.3:refs/tags/v1.2.3"
            ]
        );
        assert!(
            deploy.starts_with("deploy master (v1.2.3) to api-prod on pix-app.ovh"),
            "{deploy}"
        );
        assert!(deploy.contains("by typing pg-prod"), "{deploy}");
    }
}
