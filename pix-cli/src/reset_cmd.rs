//! `pix db reset <env>`: the safe reset with its progress shown as it goes.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use pix_ops::confirm::{ConfirmFlags, Prompter};
use pix_ops::journal::{Journal, JournalState, Step, Strategy};
use pix_ops::progress::Progress;
use pix_ops::reset::{
    confirmed_command, reset as run_reset, resume_command, shell_word, Event, ResetOptions,
};

use crate::cli::ResetArgs;
use crate::context::{Ctx, TerminalPrompter, INTERRUPTED};
use crate::exit::Failure;
use crate::output::{bytes_and_rate, neutralise, paint};
use crate::spinner::{seconds, Spinner};

/// One event as the lines printed for it (pure). `bytes` is the backup's
/// size when the event is the backup's end.
pub fn render_event(event: &Event, bytes: Option<u64>, color: bool) -> Vec<String> {
    match event {
        Event::Plan(lines) => {
            let mut out = vec!["plan:".to_string()];
            out.extend(
                lines
                    .iter()
                    .enumerate()
                    .map(|(i, l)| format!("  {:>2}. {}", i + 1, neutralise(l))),
            );
            out
        }
        Event::Started { step, what } => {
            vec![format!("→ {}: {}", step.name(), neutralise(what))]
        }
        Event::Finished { step, elapsed } => {
            let extra = match (step, bytes) {
                (Step::Backup, Some(b)) => format!(", {}", bytes_and_rate(b, *elapsed)),
                _ => String::new(),
            };
            vec![format!(
                "{} {} ({}{extra})",
                paint("✓", "32", color),
                step.name(),
                seconds(*elapsed)
            )]
        }
        Event::Skipped { step, why } => {
            vec![format!("- {} skipped: {}", step.name(), neutralise(why))]
        }
        Event::Failed { step, error } => vec![format!(
            "{} {} failed: {}",
            paint("✗", "31", color),
            step.name(),
            neutralise(error)
        )],
        Event::BackupBytes(_) => Vec::new(),
        Event::Note(text) => vec![format!("  {}", neutralise(text))],
    }
}

/// Shows reset progress on stderr: a spinner with the elapsed time (and the
/// backup's bytes) on a terminal, plain lines otherwise.
pub struct Display {
    color: bool,
    spinner: Arc<Spinner>,
}

impl Display {
    /// A display; on a terminal a thread redraws the spinner.
    pub fn start(tty: bool, color: bool) -> Display {
        Display {
            color,
            spinner: Spinner::start(tty),
        }
    }

    /// Stops the spinner.
    pub fn finish(&self) {
        self.spinner.finish();
    }
}

impl Progress<Event> for Display {
    fn event(&self, event: Event) {
        let bytes = match &event {
            Event::Finished {
                step: Step::Backup, ..
            } => self.spinner.counted(),
            _ => None,
        };
        let lines = render_event(&event, bytes, self.color);
        match &event {
            Event::Started { step, .. } => self.spinner.update(&lines, Some(step.name())),
            Event::Finished { .. } | Event::Skipped { .. } | Event::Failed { .. } => {
                self.spinner.update(&lines, None)
            }
            Event::BackupBytes(counter) => self.spinner.attach_counter(counter),
            _ => self.spinner.print(&lines),
        }
    }
}

/// The reset as the user asked for it, for hints: the global flags, the
/// environment, and the flags a rerun must keep (`--in-place`,
/// `--no-backup`, `--backups-dir`); hints add `--resume` and `--yes`.
pub fn reset_command(ctx: &Ctx, environment: &str, args: &ResetArgs) -> String {
    let mut command = format!("{} db reset {}", ctx.invocation(), shell_word(environment));
    if args.in_place {
        command.push_str(" --in-place");
    }
    if args.no_backup {
        command.push_str(" --no-backup");
    }
    if let Some(dir) = &args.backups_dir {
        command.push_str(" --backups-dir ");
        command.push_str(&shell_word(&dir.to_string_lossy()));
    }
    command
}

/// Runs `pix db reset`.
pub async fn reset(ctx: &Ctx, args: &ResetArgs) -> Result<(), Failure> {
    let (env, config) = ctx.environment(&args.environment)?;
    let options = ResetOptions {
        strategy: if args.in_place {
            Strategy::InPlace
        } else {
            Strategy::Recreate
        },
        dry_run: args.dry_run,
        resume: args.resume,
        no_backup: args.no_backup,
        confirm: ConfirmFlags {
            yes: args.yes,
            confirm: args.confirm.clone(),
        },
        backups_dir: args
            .backups_dir
            .clone()
            .unwrap_or_else(|| config.backups_dir()),
        state_dir: config.state_dir(),
        command: reset_command(ctx, &env.name, args),
    };
    let client = ctx.connect_to(&env.host_config).await?;
    let display = Display::start(ctx.out.stderr_tty, ctx.out.color_err);
    let watcher = tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            INTERRUPTED.store(true, Ordering::SeqCst);
        }
    });
    let started = Instant::now();
    let mut prompter = TerminalPrompter;
    let result = tokio::select! {
        biased;
        _ = tokio::signal::ctrl_c() => None,
        r = run_reset(&client, &env, &options, &mut prompter, &display) => Some(r),
    };
    display.finish();
    watcher.abort();
    let _ = client.close().await;
    let report = match result {
        None => {
            let journal = Journal::read(&Journal::path(&options.state_dir, &env.name))
                .ok()
                .flatten();
            let message = match journal {
                Some(j) if j.state == JournalState::InProgress => format!(
                    "interrupted: run `{}` to finish the reset",
                    resume_command(&options.command, &env, prompter.is_terminal())
                ),
                _ => "interrupted before anything was changed; nothing to resume".to_string(),
            };
            return Err(Failure::Interrupted(message));
        }
        Some(r) => r?,
    };
    if ctx.out.json {
        return ctx.out.json(&report);
    }
    match report.outcome {
        pix_ops::reset::Outcome::DryRun => ctx.out.line(&format!(
            "dry run: nothing was changed; run `{}` to do it",
            confirmed_command(&options.command, &env, prompter.is_terminal())
        )),
        pix_ops::reset::Outcome::Completed => ctx.out.line(&format!(
            "{} reset of {} ({} on {}) completed in {}{}",
            ctx.out.ok_mark("✓"),
            env.name,
            report.service,
            report.app,
            seconds(started.elapsed()),
            report
                .backup
                .as_ref()
                .map(|b| format!("; backup: {}", b.path.display()))
                .unwrap_or_default()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn events_render_as_lines() {
        let plan = render_event(
            &Event::Plan(vec!["apps:lock a".into(), "ps:stop a".into()]),
            None,
            false,
        );
        assert_eq!(plan, vec!["plan:", "   1. apps:lock a", "   2. ps:stop a"]);
        let f = render_event(
            &Event::Finished {
                step: Step::Backup,
                elapsed: Duration::from_millis(2000),
            },
            Some(2_000_000),
            false,
        );
        assert_eq!(f, vec!["✓ backup (2.00s, 2.0 MB (1.0 MB/s))"]);
        let f = render_event(
            &Event::Failed {
                step: Step::Stop,
                error: "boom\x1b[2J".into(),
            },
            None,
            true,
        );
        assert_eq!(f, vec!["\x1b[31m✗\x1b[0m stop failed: boom\\u{1b}[2J"]);
        assert_eq!(
            render_event(
                &Event::Skipped {
                    step: Step::Lock,
                    why: "already".into()
                },
                None,
                false
            ),
            vec!["- lock skipped: already"]
        );
        // The backup's counter feeds the spinner; it prints nothing.
        let counter = pix_ops::backup::ByteCounter::default();
        assert!(render_event(&Event::BackupBytes(counter), None, false).is_empty());
    }
}
