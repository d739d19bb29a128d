//! `pix provision [--plan]`: the hosts of pix.toml as plan, then apply
//! (`pix_ops::provision`). Every selected host is connected and planned at
//! once (one connection each); `--plan` prints the diff (or the plan as
//! JSON) and stops. Otherwise the plans are shown, every removal is
//! confirmed before anything runs, then each host is applied in turn with
//! its progress, stopping at its first failure with what was done and what
//! was not. A host that does not answer is reported; the others still are.

use std::sync::Arc;

use clap::Args;
use pix_ops::confirm::ConfirmFlags;
use pix_ops::connect::ConnectOptions;
use pix_ops::hosts::{HostTarget, PerHost};
use pix_ops::progress::Progress;
use pix_ops::provision::{
    apply_all, close_all, confirm_all, connect_and_plan, plan_all, render_plans, ApplyEvent,
    ApplyOptions, ApplyReport, HostPlan,
};
use pix_ops::PixConfig;
use serde::Serialize;

use crate::context::{host_targets, interruptible, Ctx, TerminalPrompter};
use crate::exit::{self, first_failure_code, Failure};
use crate::output::{neutralise, paint};
use crate::render::Rendered;
use crate::spinner::{seconds, Spinner};

/// `pix provision --help`'s examples.
pub const AFTER_HELP: &str = "\
Examples:
  pix provision --plan
  pix provision --plan --json
  pix provision
  pix --host production-host provision --prune --yes --confirm pg-old

Every host of pix.toml, or the one --host NAME names, one connection each.
--plan changes nothing. Without it the plan is shown, removals are
confirmed (apps: --yes or y/N; a database: its name, --confirm NAME without
a terminal), then each host is applied, stopping at its first failure; run
it again to converge. Root steps (plugin:install, ssh-keys:add) go through
the host's admin_user with sudo when pix.toml names one.";

/// `pix provision`.
#[derive(Debug, Args, Clone, Default)]
pub struct ProvisionArgs {
    /// Print what would change on each host (a diff; --json: the plan);
    /// change nothing.
    #[arg(long)]
    pub plan: bool,
    /// Also remove the apps, services, links, domains and mounts pix.toml
    /// does not name.
    #[arg(long)]
    pub prune: bool,
    /// Confirm the removal of apps (with --prune) without asking.
    #[arg(long)]
    pub yes: bool,
    /// The name of a database --prune destroys, to confirm without a
    /// terminal.
    #[arg(long, value_name = "NAME")]
    pub confirm: Option<String>,
}

/// `--json` of an apply: the plans, then how each host went.
#[derive(Debug, Serialize)]
pub struct ProvisionResult {
    /// Each host's plan (or why it could not be planned).
    pub plans: Vec<PerHost<HostPlan>>,
    /// Each planned host's apply (or why it could not be applied).
    pub applied: Vec<PerHost<ApplyReport>>,
}

/// How the user ran it, for the messages (pure).
pub fn command_line(args: &ProvisionArgs, host: Option<&str>) -> String {
    let mut c = String::from("pix");
    if let Some(h) = host {
        c.push_str(&format!(" --host {h}"));
    }
    c.push_str(" provision");
    if args.prune {
        c.push_str(" --prune");
    }
    c
}

/// One apply event as a line (pure). On a terminal a start is shown by the
/// spinner instead.
pub fn render_event(event: &ApplyEvent, color: bool) -> String {
    match event {
        ApplyEvent::Started {
            host,
            index,
            total,
            what,
        } => format!("→ [{index}/{total}] {host}: {}", neutralise(what)),
        ApplyEvent::Done {
            host,
            what,
            elapsed,
        } => format!(
            "{} {host}: {} ({})",
            paint("✓", "32", color),
            neutralise(what),
            seconds(*elapsed)
        ),
        ApplyEvent::Failed { host, what, error } => format!(
            "{} {host}: {} failed: {}",
            paint("✗", "31", color),
            neutralise(what),
            neutralise(error)
        ),
    }
}

/// The summary after an apply (pure): a line per host on stdout; for a host
/// that stopped, what was done and what was not, and the error, on stderr.
pub fn render_reports(results: &[PerHost<ApplyReport>], command: &str, color: bool) -> Rendered {
    let mut r = Rendered::default();
    for p in results {
        match &p.result {
            Ok(report) if report.succeeded() => r.stdout.push(if report.done.is_empty() {
                format!("host {}: nothing to change", p.host)
            } else {
                format!(
                    "{} host {}: {} change{} applied",
                    paint("✓", "32", color),
                    p.host,
                    report.done.len(),
                    if report.done.len() == 1 { "" } else { "s" }
                )
            }),
            Ok(report) => {
                r.stdout.push(format!(
                    "{} host {}: stopped after {} of {} changes",
                    paint("✗", "31", color),
                    p.host,
                    report.done.len(),
                    report.done.len() + 1 + report.not_done.len()
                ));
                if let Err(e) = report.clone().into_result(command) {
                    r.stderr.push(format!(
                        "{} {}",
                        paint("error:", "1;31", color),
                        neutralise(&e.to_string())
                    ));
                }
            }
            Err(e) => r.stderr.push(format!(
                "{} host {} ({}): {}",
                paint("error:", "1;31", color),
                p.host,
                p.address,
                neutralise(&e.to_string())
            )),
        }
    }
    r
}

/// The exit code of an apply: the first host that failed (an unreachable
/// host, or a step that failed: [`exit::REMOTE`]).
pub fn apply_code(results: &[PerHost<ApplyReport>], command: &str) -> Option<i32> {
    results.iter().find_map(|p| match &p.result {
        Err(e) => Some(exit::ops_code(e)),
        Ok(report) => report
            .clone()
            .into_result(command)
            .err()
            .map(|e| exit::ops_code(&e)),
    })
}

/// Shows apply progress on stderr: a spinner with the step and its elapsed
/// time on a terminal, plain lines otherwise.
pub struct Display {
    tty: bool,
    color: bool,
    spinner: Arc<Spinner>,
}

impl Display {
    /// A display; on a terminal a thread redraws the spinner.
    pub fn start(tty: bool, color: bool) -> Display {
        Display {
            tty,
            color,
            spinner: Spinner::start(tty),
        }
    }

    /// Stops the spinner.
    pub fn finish(&self) {
        self.spinner.finish();
    }
}

impl Progress<ApplyEvent> for Display {
    fn event(&self, event: ApplyEvent) {
        let line = render_event(&event, self.color);
        match &event {
            // On a terminal the step shows on the spinner until it ends.
            ApplyEvent::Started { .. } if self.tty => self.spinner.update(&[], Some(line)),
            ApplyEvent::Started { .. } => self.spinner.print(&[line]),
            _ => self.spinner.update(&[line], None),
        }
    }
}

/// `pix provision`.
pub async fn provision(ctx: &Ctx, args: &ProvisionArgs) -> Result<(), Failure> {
    let (config, targets) = host_targets(ctx)?;
    let options = ctx.connect_options();
    let command = command_line(args, ctx.g.host.as_deref());
    if args.plan {
        let plans = plan_all(&config, targets, &options, args.prune).await;
        if ctx.out.json {
            ctx.out.json(&plans)?;
        } else {
            ctx.out
                .raw(ctx.out.server_text(&render_plans(&plans)).as_bytes())?;
        }
        return match first_failure_code(&plans) {
            Some(code) => Err(Failure::Exit(code)),
            None => Ok(()),
        };
    }
    let display = Display::start(ctx.out.stderr_tty, ctx.out.color_err);
    let work = apply(ctx, &config, targets, &options, args, &command, &display);
    let outcome = interruptible(work).await;
    display.finish();
    match outcome {
        None => Err(Failure::Interrupted(format!(
            "interrupted; the step that was running may or may not have happened. Run `{command}` again: it plans from what the hosts hold now"
        ))),
        Some(r) => r,
    }
}

async fn apply(
    ctx: &Ctx,
    config: &PixConfig,
    targets: Vec<HostTarget>,
    options: &ConnectOptions,
    args: &ProvisionArgs,
    command: &str,
    display: &Display,
) -> Result<(), Failure> {
    let planned = connect_and_plan(config, targets, options, args.prune).await;
    if !ctx.out.json {
        let text: String = planned
            .iter()
            .map(|p| render_plans(std::slice::from_ref(&p.plan)))
            .collect();
        ctx.out.raw(ctx.out.server_text(&text).as_bytes())?;
    }
    let apply_options = ApplyOptions {
        confirm: ConfirmFlags {
            yes: args.yes,
            confirm: args.confirm.clone(),
        },
        command: command.to_string(),
    };
    // Every removal is confirmed before anything runs anywhere.
    let confirmed = match confirm_all(&planned, &apply_options, &mut TerminalPrompter) {
        Ok(c) => c,
        Err(e) => {
            close_all(&planned).await;
            return Err(e.into());
        }
    };
    let applied = apply_all(config, &planned, confirmed, options, display).await;
    let plans: Vec<PerHost<HostPlan>> = planned.into_iter().map(|p| p.plan).collect();
    let code = first_failure_code(&plans).or(apply_code(&applied, command));
    if ctx.out.json {
        ctx.out.json(&ProvisionResult { plans, applied })?;
    } else {
        render_reports(&applied, command, ctx.out.color).print(&ctx.out)?;
    }
    match code {
        Some(code) => Err(Failure::Exit(code)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pix_ops::provision::FailedStep;
    use std::time::Duration;

    #[test]
    fn events_render_as_lines() {
        let started = ApplyEvent::Started {
            host: "h".into(),
            index: 2,
            total: 5,
            what: "+ create app a".into(),
        };
        assert_eq!(render_event(&started, false), "→ [2/5] h: + create app a");
        let done = ApplyEvent::Done {
            host: "h".into(),
            what: "+ create app a".into(),
            elapsed: Duration::from_millis(1500),
        };
        assert_eq!(render_event(&done, false), "✓ h: + create app a (1.50s)");
        let failed = ApplyEvent::Failed {
            host: "h".into(),
            what: "+ link s to a".into(),
            error: "boom\x1b[2J".into(),
        };
        assert_eq!(
            render_event(&failed, false),
            "✗ h: + link s to a failed: boom\\u{1b}[2J"
        );
    }

    #[test]
    fn reports_say_what_was_done_and_not_done() {
        let ok = |done: Vec<&str>| ApplyReport {
            host: "a".into(),
            done: done.into_iter().map(String::from).collect(),
            failed: None,
            not_done: vec![],
        };
        let stopped = ApplyReport {
            host: "b".into(),
            done: vec!["+ create app x".into()],
            failed: Some(FailedStep {
                what: "+ link s to x".into(),
                error: "refused".into(),
            }),
            not_done: vec!["~ set K=v on x".into()],
        };
        let results = vec![
            PerHost {
                host: "a".into(),
                address: "a.example".into(),
                result: Ok(ok(vec!["+ create app y"])),
            },
            PerHost {
                host: "b".into(),
                address: "b.example".into(),
                result: Ok(stopped),
            },
            PerHost {
                host: "c".into(),
                address: "c.example".into(),
                result: Ok(ok(vec![])),
            },
        ];
        let r = render_reports(&results, "pix provision", false);
        assert_eq!(
            r.stdout,
            vec![
                "✓ host a: 1 change applied",
                "✗ host b: stopped after 1 of 3 changes",
                "host c: nothing to change"
            ]
        );
        assert_eq!(r.stderr.len(), 1);
        for part in [
            "+ link s to x",
            "refused",
            "+ create app x",
            "~ set K=v on x",
        ] {
            assert!(r.stderr[0].contains(part), "{}", r.stderr[0]);
        }
        assert_eq!(apply_code(&results, "pix provision"), Some(exit::REMOTE));
        assert_eq!(apply_code(&results[..1], "pix provision"), None);
    }

    #[test]
    fn the_command_line_is_rebuilt() {
        let args = ProvisionArgs {
            prune: true,
            ..ProvisionArgs::default()
        };
        assert_eq!(
            command_line(&args, Some("prod")),
            "pix --host prod provision --prune"
        );
        assert_eq!(
            command_line(&ProvisionArgs::default(), None),
            "pix provision"
        );
    }
}
