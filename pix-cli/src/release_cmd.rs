//! `pix release <version>`: `pix_ops::release` (merge the release branch
//! into the integration branch and that into the main branch, tag, push
//! atomically, deploy production with its confirmation). Git steps and the
//! deploy's output are shown as they happen; the exit code is the deploy's
//! ([`crate::exit::deploy_code`]) when it deploys.

use std::io::Write;

use clap::Args;
use pix_ops::confirm::ConfirmFlags;
use pix_ops::progress::Progress;
use pix_ops::release::{self, ReleaseEvent, ReleaseOptions, ReleaseReport};

use crate::context::{interruptible, Ctx, TerminalPrompter};
use crate::exit::{self, Failure};
use crate::output::{neutralise, paint};
use crate::render::{self, render_outcome, short, Rendered};

/// `pix release --help`'s examples.
pub const AFTER_HELP: &str = "\
Examples:
  pix release 1.4.0 --dry-run
  pix release 1.4.0
  pix release 1.4.0 --confirm pg-prod
  pix release 1.4.0 --no-deploy --origin upstream

Checks the working tree is clean, the release branch (release-<version>)
exists and the tag does not; merges it into dev, dev into master (a
conflict aborts the merge and nothing is pushed), tags v<version>, pushes
both branches and the tag in one atomic push, then deploys production
(protected: --confirm <database> without a terminal). Branch names come
from [release] in pix.toml. Exit codes: as `pix deploy` once it deploys;
see `pix help exit-codes`.";

/// `pix release`.
#[derive(Debug, Args, Clone, Default)]
pub struct ReleaseArgs {
    /// The version: 1.2.3 (or 1.2.3-rc.1); the tag is v<version>.
    #[arg(id = "release_version", value_name = "VERSION")]
    pub version: String,
    /// Print the git commands and the deploy; run only the read-only checks.
    #[arg(long)]
    pub dry_run: bool,
    /// Stop after pushing: do not deploy production.
    #[arg(long)]
    pub no_deploy: bool,
    /// Proceed without asking (an unprotected production).
    #[arg(long)]
    pub yes: bool,
    /// The production database's name, to confirm without a terminal.
    #[arg(long, value_name = "NAME")]
    pub confirm: Option<String>,
    /// The git remote to fetch from and push to [default: origin] (not
    /// `-r/--remote`, which names a Dokku remote).
    #[arg(long = "origin", value_name = "REMOTE")]
    pub remote: Option<String>,
}

/// The lines printed on stderr for a release event (pure).
pub fn render_event(event: &ReleaseEvent) -> Vec<String> {
    match event {
        ReleaseEvent::Git(line) => vec![format!("→ {}", neutralise(line))],
        ReleaseEvent::Note(text) => vec![format!("  {}", neutralise(text))],
        ReleaseEvent::Deploy(e) => render::render_event(e),
    }
}

/// Prints release events on stderr as they arrive.
#[derive(Debug, Default)]
pub struct Display;

impl Progress<ReleaseEvent> for Display {
    fn event(&self, event: ReleaseEvent) {
        let mut err = std::io::stderr().lock();
        for line in render_event(&event) {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    }
}

/// The outcome as text (pure): the dry run's commands, or what was
/// released and the deploy's outcome. `command` is how the user ran it.
pub fn render_report(report: &ReleaseReport, command: &str, color: bool) -> Rendered {
    let n = &report.names;
    let mut r = Rendered::default();
    if report.dry_run {
        r.stdout.push(format!(
            "dry run of release {} (nothing was changed); it would run:",
            n.version
        ));
        r.stdout
            .extend(report.git.iter().map(|l| format!("  {}", neutralise(l))));
        r.stdout
            .push(format!("  then {}", neutralise(&report.deploy_plan)));
        r.stdout.push(format!("Run `{command}` to do it."));
        return r;
    }
    r.stdout.push(format!(
        "{} released {}: {} → {} → {}, tagged {}{}, pushed to {}",
        paint("✓", "32", color),
        n.version,
        n.release_branch,
        n.integration_branch,
        n.main_branch,
        n.tag,
        report
            .tagged_commit
            .as_deref()
            .map(|c| format!(" ({})", short(c)))
            .unwrap_or_default(),
        n.remote
    ));
    match &report.deploy {
        Some(d) => {
            // What to run next is a deploy of the tag, not the release again.
            let again = format!("pix deploy {} --rev {}", n.production_env, n.tag);
            let deploy = render_outcome(d, &again, color);
            r.stdout.extend(deploy.stdout);
            r.stderr.extend(deploy.stderr);
        }
        None => r.stdout.push(format!(
            "not deployed (--no-deploy); deploy it with `pix deploy {} --rev {}`",
            n.production_env, n.tag
        )),
    }
    r
}

/// The exit code of a release that ran: the deploy's when it deployed.
pub fn release_code(report: &ReleaseReport) -> i32 {
    report
        .deploy
        .as_ref()
        .map(|d| exit::deploy_code(&d.outcome))
        .unwrap_or(exit::OK)
}

/// How the user ran it, for the messages (pure).
pub fn command_line(args: &ReleaseArgs) -> String {
    let mut c = format!("pix release {}", args.version);
    if args.no_deploy {
        c.push_str(" --no-deploy");
    }
    if let Some(r) = &args.remote {
        c.push_str(&format!(" --origin {r}"));
    }
    c
}

/// `pix release`.
pub async fn release(ctx: &Ctx, args: &ReleaseArgs) -> Result<(), Failure> {
    let (config, overrides) = ctx.config_and_overrides()?;
    let command = command_line(args);
    let options = ReleaseOptions {
        repo: ctx.cwd()?,
        remote: args.remote.clone(),
        dry_run: args.dry_run,
        no_deploy: args.no_deploy,
        connect: ctx.connect_options(),
        confirm: ConfirmFlags {
            yes: args.yes,
            confirm: args.confirm.clone(),
        },
        command: command.clone(),
    };
    let mut prompter = TerminalPrompter;
    let display = Display;
    let run = release::release(
        &config,
        &args.version,
        &overrides,
        &options,
        &mut prompter,
        &display,
    );
    let report = match interruptible(run).await {
        None => {
            return Err(Failure::Interrupted(format!(
                "interrupted during the release of {}; check `git status` and `git log` (a merge may be half-done: `git merge --abort`), then run `{command}` again",
                args.version
            )))
        }
        Some(r) => r?,
    };
    if ctx.out.json {
        ctx.out.json(&report)?;
    } else {
        render_report(&report, &command, ctx.out.color).print(&ctx.out)?;
    }
    match release_code(&report) {
        exit::OK => Ok(()),
        code => Err(Failure::Exit(code)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pix_ops::release::ReleaseNames;

    fn report(dry_run: bool) -> ReleaseReport {
        ReleaseReport {
            names: ReleaseNames {
                version: "1.2.3".into(),
                tag: "v1.2.3".into(),
                release_branch: "release-1.2.3".into(),
                integration_branch: "dev".into(),
                main_branch: "master".into(),
                production_env: "production".into(),
                remote: "origin".into(),
            },
            git: vec!["git fetch --quiet origin".into()],
            deploy_plan: "deploy master (v1.2.3) to api-prod".into(),
            dry_run,
            tagged_commit: (!dry_run).then(|| "0123456789abcdef0123".into()),
            deploy: None,
        }
    }

    #[test]
    fn reports_render() {
        let r = render_report(&report(true), "pix release 1.2.3", false);
        assert_eq!(
            r.stdout,
            vec![
                "dry run of release 1.2.3 (nothing was changed); it would run:",
                "  git fetch --quiet origin",
                "  then deploy master (v1.2.3) to api-prod",
                "Run `pix release 1.2.3` to do it.",
            ]
        );
        let r = render_report(&report(false), "pix release 1.2.3", false);
        assert_eq!(
            r.stdout,
            vec![
                "✓ released 1.2.3: release-1.2.3 → dev → master, tagged v1.2.3 (0123456789ab), pushed to origin",
                "not deployed (--no-deploy); deploy it with `pix deploy production --rev v1.2.3`",
            ]
        );
        assert_eq!(release_code(&report(false)), exit::OK);
    }

    #[test]
    fn events_render() {
        assert_eq!(
            render_event(&ReleaseEvent::Git("git switch dev".into())),
            vec!["→ git switch dev"]
        );
        assert_eq!(
            render_event(&ReleaseEvent::Note("pushed\x1b[2J".into())),
            vec!["  pushed\\u{1b}[2J"]
        );
    }
}
