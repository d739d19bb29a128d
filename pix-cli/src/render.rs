//! Rendering shared by several commands: the deploy's events and
//! outcomes (a deploy, a review app, a rollback, a release, a repair all
//! end in one), a push's outcome, what a command that changed something
//! prints ([`done`]), the status table's cells. Pure but for the printing
//! sinks; command modules import it, never each other.

use std::io::Write;

use pix_ops::deploy::{DeployEvent, DeployOutcome, DeployReport};
use pix_ops::progress::Progress;
use pix_ops::push::{PushFailure, PushOutcome};
use serde::Serialize;

use crate::context::Ctx;
use crate::exit::Failure;
use crate::output::{neutralise, paint, yes_no_text, Out};

/// What a command that changes something did (`--json`).
#[derive(Debug, Serialize)]
pub struct Done {
    /// The action (`apps:lock`).
    pub action: String,
    /// The app or service.
    pub target: String,
    /// True: it was done.
    pub ok: bool,
}

/// Prints the outcome of an action: `--json` or a line.
pub fn done(ctx: &Ctx, action: &str, target: &str, human: &str) -> Result<(), Failure> {
    if ctx.out.json {
        ctx.out.json(&Done {
            action: action.into(),
            target: target.into(),
            ok: true,
        })
    } else {
        ctx.out.line(&format!("{} {human}", ctx.out.ok_mark("✓")))
    }
}

/// The columns of the status table.
pub const STATUS_HEADERS: [&str; 7] = [
    "APP",
    "DEPLOYED",
    "RUNNING",
    "PROCESSES",
    "LOCKED",
    "DATABASES",
    "URL",
];

/// A status row as table cells, in [`STATUS_HEADERS`] order (pure).
pub fn status_cells(r: &pix_ops::status::AppStatus) -> Vec<String> {
    let yes_no = |b: Option<bool>| {
        b.map(|b| if b { "yes" } else { "no" })
            .unwrap_or("?")
            .to_string()
    };
    vec![
        r.app.clone(),
        yes_no(r.deployed),
        yes_no_text(r.running.as_deref()),
        r.processes
            .map(|n| n.to_string())
            .unwrap_or_else(|| "?".into()),
        yes_no(r.locked),
        r.databases.join(","),
        r.urls.join(" "),
    ]
}

/// The first 12 characters of a commit id.
pub fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
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
pub struct DeployDisplay {
    mapped: std::sync::Mutex<Option<DeployEvent>>,
    planned: std::sync::atomic::AtomicBool,
}

impl DeployDisplay {
    /// True once a push was planned (it starts right after the plan, unless
    /// it is a dry run).
    pub fn planned(&self) -> bool {
        self.planned.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Progress<DeployEvent> for DeployDisplay {
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

#[cfg(test)]
mod tests {
    use super::*;
    use pix_ops::config::HostConfig;
    use pix_ops::deploy::DeployTarget;
    use pix_ops::PixConfig;

    fn config() -> PixConfig {
        let text = "[hosts.h]\naddress='h'\n[environments.production]\nhost='h'\napp='api-prod'\ndatabase='pg-prod'\nprotected=true\n[environments.development]\nhost='h'\napp='api-dev'\ndatabase='pg-dev'\n";
        PixConfig::parse(
            text,
            std::path::Path::new("/r"),
            std::path::Path::new("/r/pix.toml"),
        )
        .unwrap()
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
