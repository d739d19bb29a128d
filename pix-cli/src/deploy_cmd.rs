//! `pix deploy <env>|branch`: the fast-forward deploy of `pix_ops::deploy`,
//! its output streamed as it comes, its outcome rendered with an exit code
//! CI can act on ([`crate::exit::deploy_code`]).

use std::io::Write;

use pix_ops::config::{HostOverrides, PixConfig};
use pix_ops::confirm::ConfirmFlags;
use pix_ops::deploy::{
    self, DeployEvent, DeployOptions, DeployOutcome, DeployReport, BRANCH_TARGET,
};
use pix_ops::git::Git;
use pix_ops::progress::Progress;
use pix_ops::push::{PushFailure, PushOutcome};

use crate::cli::DeployArgs;
use crate::context::{interruptible, Ctx, TerminalPrompter};
use crate::exit::{self, Failure};
use crate::output::{neutralise, paint, Out};

/// The first 12 characters of a commit id.
pub fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
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

/// The lines printed on stderr for a deploy event (pure). Server text is
/// neutralised.
pub fn render_event(event: &DeployEvent) -> Vec<String> {
    match event {
        DeployEvent::Mapped { branch, app } => {
            vec![format!("branch {} → app {app}", neutralise(branch))]
        }
        DeployEvent::Plan {
            app,
            source,
            commit,
            parent,
            deploy_branch,
        } => vec![format!(
            "→ pushing {} (source {}) to {app}'s {} {}",
            short(commit),
            short(source),
            neutralise(deploy_branch),
            match parent {
                Some(p) => format!("on top of {}", short(p)),
                None => "as its first commit".to_string(),
            }
        )],
        DeployEvent::Output(line) => vec![neutralise(line)],
        DeployEvent::Note(text) => vec![format!("  {}", neutralise(text))],
    }
}

/// Prints deploy events on stderr as they arrive (a mapping already shown
/// is not repeated: `review-app up` and the deploy both announce it).
#[derive(Debug, Default)]
pub struct Display {
    mapped: std::sync::Mutex<Option<DeployEvent>>,
    planned: std::sync::atomic::AtomicBool,
}

impl Display {
    /// True once a push was planned (it starts right after the plan, unless
    /// it is a dry run).
    pub fn planned(&self) -> bool {
        self.planned.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Progress<DeployEvent> for Display {
    fn event(&self, event: DeployEvent) {
        if matches!(event, DeployEvent::Plan { .. }) {
            self.planned
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
        if matches!(event, DeployEvent::Mapped { .. }) {
            if let Ok(mut last) = self.mapped.lock() {
                if last.as_ref() == Some(&event) {
                    return;
                }
                *last = Some(event.clone());
            }
        }
        let mut err = std::io::stderr().lock();
        for line in render_event(&event) {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    }
}

/// What to print for an outcome: lines for stdout and for stderr.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    /// Lines for stdout.
    pub stdout: Vec<String>,
    /// Lines for stderr.
    pub stderr: Vec<String>,
}

impl Rendered {
    /// Prints both.
    pub fn print(&self, out: &Out) -> Result<(), Failure> {
        for line in &self.stderr {
            out.note(line);
        }
        for line in &self.stdout {
            out.line(line)?;
        }
        Ok(())
    }
}

/// What a push that did not deploy prints on stderr (pure), a deploy's or
/// a plain push's: `command` is how the user ran it, to run it again.
pub fn render_failure(app: &str, failure: &PushFailure, command: &str, color: bool) -> Vec<String> {
    let cross = paint("✗", "31", color);
    match failure {
        PushFailure::BuildFailed { log_tail } => {
            let mut lines = vec![format!(
                "{cross} the build of {app} failed; the running version is untouched. Last lines of its output:"
            )];
            lines.extend(log_tail.iter().map(|l| format!("  | {}", neutralise(l))));
            lines.push(format!("Fix it, commit, and run `{command}` again."));
            lines
        }
        PushFailure::Locked { message } => vec![format!("{cross} {}", neutralise(message))],
        PushFailure::Rejected { reason } => {
            vec![format!("{cross} push rejected: {}", neutralise(reason))]
        }
    }
}

/// The outcome of a deploy as text (pure). `command` is how the user ran it
/// (`pix deploy development`); `color` paints the marks.
pub fn render_outcome(report: &DeployReport, command: &str, color: bool) -> Rendered {
    let app = &report.target.app;
    let source = format!(
        "{} ({})",
        short(&report.source_commit),
        report.source_branch.as_deref().unwrap_or("detached HEAD")
    );
    let mut r = Rendered::default();
    match &report.outcome {
        DeployOutcome::Deployed { urls, commit } => {
            r.stdout.push(format!(
                "{} deployed {} to {app} (commit {})",
                paint("✓", "32", color),
                neutralise(&source),
                short(commit)
            ));
            r.stdout
                .extend(urls.iter().map(|u| format!("  {}", neutralise(u))));
        }
        DeployOutcome::NothingToDeploy { commit } => {
            r.stdout.push(format!(
                "nothing to deploy: {app} already runs this tree (commit {}). To rebuild it anyway: `pix ps rebuild {app}` (or `{command} --rebuild`)",
                short(commit)
            ));
        }
        DeployOutcome::DryRun { commit } => {
            r.stdout.push(format!(
                "dry run: {} would be pushed to {} ({}) as commit {}{} (the deploy pushes this same commit); nothing was pushed. Run `{command}` to deploy",
                neutralise(&source),
                neutralise(&report.url),
                neutralise(&report.deploy_branch),
                short(commit),
                match &report.remote_before {
                    Some(p) => format!(" on top of {}", short(p)),
                    None => String::new(),
                }
            ));
        }
        DeployOutcome::Failed(failure) => {
            r.stderr = render_failure(app, failure, command, color);
        }
        DeployOutcome::ForeignCommits {
            remote_tip,
            commits,
            count,
            repair,
        } => {
            r.stderr = foreign_lines(report, remote_tip, commits, *count, repair, color);
        }
    }
    r
}

/// What a deploy blocked by foreign commits prints (pure).
pub fn foreign_lines(
    report: &DeployReport,
    remote_tip: &str,
    commits: &[pix_ops::lineage::ForeignCommit],
    count: usize,
    repair: &[String],
    color: bool,
) -> Vec<String> {
    let mut lines = vec![format!(
        "{} {}'s {} ({}) holds {count} commit(s) that `pix deploy` did not make (pushed straight to Dokku); deploying {} would undo them, so nothing was pushed:",
        paint("✗", "31", color),
        report.target.app,
        neutralise(&report.deploy_branch),
        short(remote_tip),
        short(&report.source_commit),
    )];
    for c in commits {
        lines.push(format!(
            "  {} {} ({})",
            short(&c.sha),
            neutralise(&c.subject),
            neutralise(&c.author)
        ));
    }
    if count > commits.len() {
        lines.push(format!("  and {} more", count - commits.len()));
    }
    if let [keep, replace, ..] = repair {
        lines.push(format!(
            "Keep them (their changes come into your branch, then it deploys): `{keep}`"
        ));
        lines.push(format!("Or replace them with your version: `{replace}`"));
    }
    lines
}

/// A push's outcome as text (pure), for `pix remote repair`: `what` names
/// the push (`HEAD to dokku's master`).
pub fn render_push(
    outcome: &PushOutcome,
    app: &str,
    what: &str,
    command: &str,
    color: bool,
) -> Rendered {
    let mut r = Rendered::default();
    match outcome {
        PushOutcome::Pushed { urls } => {
            r.stdout.push(format!(
                "{} pushed {} and deployed {app}",
                paint("✓", "32", color),
                neutralise(what)
            ));
            r.stdout
                .extend(urls.iter().map(|u| format!("  {}", neutralise(u))));
        }
        PushOutcome::UpToDate => {
            r.stdout.push(format!(
                "nothing pushed: {} is already there, so nothing was deployed. To rebuild {app} anyway: `pix ps rebuild {app}`",
                neutralise(what)
            ));
        }
        PushOutcome::Failed(failure) => {
            r.stderr = render_failure(app, failure, command, color);
        }
    }
    r
}

/// Deploys are git pushes over SSH: the `local` host (dokku run here)
/// cannot receive one.
pub fn refuse_local(host: &pix_ops::config::HostConfig) -> Result<(), Failure> {
    if host.address == pix_ops::connect::LOCAL_HOST {
        return Err(Failure::usage(
            "deploys are git pushes over SSH and the host `local` cannot receive one: give the server's address (--host, DOKKU_HOST or pix.toml)",
        ));
    }
    Ok(())
}

/// A non-zero exit code as a failure that was already reported.
pub fn exit_with(code: i32) -> Result<(), Failure> {
    if code == exit::OK {
        Ok(())
    } else {
        Err(Failure::Exit(code))
    }
}

/// The message when Ctrl-C stops a deploy; `pushing`: the push had
/// started.
pub fn interrupted(command: &str, pushing: bool) -> Failure {
    Failure::Interrupted(if pushing {
        format!(
            "interrupted: the push may or may not have reached the server; check with `pix remote status` or run `{command}` again (a deploy always fast-forwards)"
        )
    } else {
        format!("interrupted before anything was pushed; run `{command}` again to deploy")
    })
}

/// `pix deploy`.
pub async fn deploy(ctx: &Ctx, args: &DeployArgs) -> Result<(), Failure> {
    let (config, overrides) = ctx.config_and_overrides()?;
    let repo = ctx.cwd()?;
    let git = Git::new(&repo);
    let name = environment_name(&config, &args.environment, &overrides);
    let mut target = deploy::resolve_target(&config, &name, &overrides, &git).await?;
    if let Some(user) = &ctx.g.user {
        target.host.user = user.clone();
    }
    refuse_local(&target.host)?;
    let command = format!("pix deploy {}", args.environment);
    let options = DeployOptions {
        repo,
        rev: args.rev.clone(),
        connect: ctx.connect_options(),
        confirm: ConfirmFlags {
            yes: args.yes,
            confirm: args.confirm.clone(),
        },
        command: command.clone(),
        dry_run: args.dry_run,
        ..DeployOptions::default()
    };
    let display = Display::default();
    if let Some(branch) = &target.branch {
        // Shown before connecting, so it is there even if the host is not.
        display.event(DeployEvent::Mapped {
            branch: branch.clone(),
            app: target.app.clone(),
        });
    }
    let client = ctx.connect_to(&target.host).await?;
    let mut prompter = TerminalPrompter;
    let result = interruptible(deploy::deploy(
        &client,
        &target,
        &options,
        &mut prompter,
        &display,
    ))
    .await;
    let report = match result {
        None => {
            let _ = client.close().await;
            return Err(interrupted(&command, display.planned() && !args.dry_run));
        }
        Some(r) => r,
    };
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            let _ = client.close().await;
            let failure = Failure::from(e);
            // Ctrl-C at the confirmation prompt ends the prompt first.
            if exit::code(&failure) == exit::INTERRUPTED {
                return Err(interrupted(&command, display.planned() && !args.dry_run));
            }
            return Err(failure);
        }
    };
    let rebuild = args.rebuild
        && !args.dry_run
        && matches!(report.outcome, DeployOutcome::NothingToDeploy { .. });
    if rebuild {
        display.event(DeployEvent::Note(format!(
            "nothing new to deploy: rebuilding {} (ps:rebuild)",
            target.app
        )));
        let rebuilt = deploy::rebuild(&client, &target.app).await;
        let _ = client.close().await;
        rebuilt?;
    } else {
        let _ = client.close().await;
    }
    let code = exit::deploy_code(&report.outcome);
    if ctx.out.json {
        ctx.out.json(&report)?;
        return exit_with(code);
    }
    if rebuild {
        ctx.out.line(&format!(
            "{} rebuilt {} from the tree it already had",
            ctx.out.ok_mark("✓"),
            target.app
        ))?;
    } else {
        render_outcome(&report, &command, ctx.out.color).print(&ctx.out)?;
    }
    exit_with(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pix_ops::config::HostConfig;
    use pix_ops::deploy::DeployTarget;

    fn config() -> PixConfig {
        let text = "[hosts.h]\naddress='h'\n[environments.production]\nhost='h'\napp='api-prod'\ndatabase='pg-prod'\nprotected=true\n[environments.development]\nhost='h'\napp='api-dev'\ndatabase='pg-dev'\n";
        PixConfig::parse(
            text,
            std::path::Path::new("/r"),
            std::path::Path::new("/r/pix.toml"),
        )
        .unwrap()
    }

    #[test]
    fn npm_era_names_resolve() {
        let c = config();
        let o = HostOverrides::default();
        assert_eq!(environment_name(&c, "prod", &o), "production");
        assert_eq!(environment_name(&c, "production", &o), "production");
        assert_eq!(environment_name(&c, "development", &o), "development");
        assert_eq!(environment_name(&c, "branch", &o), "branch");
        assert_eq!(environment_name(&c, "staging", &o), "staging");
    }

    fn report(outcome: DeployOutcome) -> DeployReport {
        let host: HostConfig = config().hosts["h"].clone();
        DeployReport {
            target: DeployTarget {
                environment: "development".into(),
                app: "api-dev".into(),
                host,
                protected: false,
                confirm_name: "pg-dev".into(),
                deploy_dir: Some("api".into()),
                branch: None,
            },
            url: "dokku@h:api-dev".into(),
            source_commit: "0123456789abcdef0123456789abcdef01234567".into(),
            source_branch: Some("main".into()),
            tree: "t".into(),
            deploy_branch: "master".into(),
            remote_before: Some("feedfacefeedfacefeedfacefeedfacefeedface".into()),
            outcome,
        }
    }

    #[test]
    fn outcomes_render() {
        let cmd = "pix deploy development";
        let r = render_outcome(
            &report(DeployOutcome::Deployed {
                urls: vec!["http://api-dev.h".into()],
                commit: "abcdefabcdefabcdef".into(),
            }),
            cmd,
            false,
        );
        assert_eq!(
            r.stdout,
            [
                "✓ deployed 0123456789ab (main) to api-dev (commit abcdefabcdef)",
                "  http://api-dev.h"
            ]
        );
        assert!(r.stderr.is_empty());
        let r = render_outcome(
            &report(DeployOutcome::NothingToDeploy {
                commit: "abcdefabcdefabcdef".into(),
            }),
            cmd,
            false,
        );
        assert!(r.stdout[0].contains("`pix ps rebuild api-dev`"), "{r:?}");
        assert!(r.stdout[0].contains("--rebuild"), "{r:?}");
        let r = render_outcome(
            &report(DeployOutcome::Failed(PushFailure::BuildFailed {
                log_tail: vec!["migrate: boom\x1b[2J".into()],
            })),
            cmd,
            false,
        );
        assert!(r.stdout.is_empty());
        assert_eq!(r.stderr[1], "  | migrate: boom\\u{1b}[2J");
        assert!(r.stderr[0].contains("running version is untouched"));
        let r = render_outcome(
            &report(DeployOutcome::DryRun {
                commit: "abcdefabcdefabcdef".into(),
            }),
            cmd,
            false,
        );
        assert!(
            r.stdout[0].contains("on top of feedfacefeed")
                && r.stdout[0].contains("nothing was pushed"),
            "{r:?}"
        );
        let r = render_outcome(
            &report(DeployOutcome::Failed(PushFailure::Rejected {
                reason: "moved".into(),
            })),
            cmd,
            true,
        );
        assert_eq!(r.stderr, ["\x1b[31m✗\x1b[0m push rejected: moved"]);
    }

    #[test]
    fn events_render() {
        assert_eq!(
            render_event(&DeployEvent::Mapped {
                branch: "Feature/X".into(),
                app: "feature-x".into()
            }),
            ["branch Feature/X → app feature-x"]
        );
        assert_eq!(
            render_event(&DeployEvent::Plan {
                app: "a".into(),
                source: "0123456789abcdef".into(),
                commit: "abcdefabcdefabcd".into(),
                parent: None,
                deploy_branch: "master".into()
            }),
            ["→ pushing abcdefabcdef (source 0123456789ab) to a's master as its first commit"]
        );
        assert_eq!(
            render_event(&DeployEvent::Output("-----> Building\x07".into())),
            ["-----> Building\\u{7}"]
        );
    }

    #[test]
    fn pushes_render() {
        let r = render_push(
            &PushOutcome::Pushed { urls: vec![] },
            "a",
            "HEAD to dokku's master",
            "pix remote repair dokku --merge",
            false,
        );
        assert_eq!(r.stdout, ["✓ pushed HEAD to dokku's master and deployed a"]);
        let r = render_push(
            &PushOutcome::Failed(PushFailure::Locked {
                message: "a is locked".into(),
            }),
            "a",
            "x",
            "c",
            false,
        );
        assert_eq!(r.stderr, ["✗ a is locked"]);
    }
}
