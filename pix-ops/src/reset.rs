//! The safe database reset: PIX's `reset-database-*` rule made impossible to
//! lose data with.
//!
//! Order: preflight (read-only) → plan → confirmation → verified backup →
//! lock → steps, each journaled → verify → unlock. A failure after the data
//! was destroyed restores the backup; an interruption is resumed with
//! `--resume`. See `ARCHITECTURE.md` for the invariants.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use dokku_client::postgres::{LinkOptions, UnlinkOptions};
use dokku_client::run::{run_command, RunCommand, RunOptions};
use dokku_client::{apps, config, postgres, ps};
use dokku_client::{Client, Command, Request, Stdin};
use serde::Serialize;

use crate::backup::{self, Backup, ByteCounter};
use crate::config::Environment;
use crate::confirm::{self, ConfirmFlags, ConfirmRequest, Prompter};
use crate::error::{OpsError, Result};
use crate::journal::{self, Journal, JournalState, LocalLock, Step, Strategy};
use crate::progress::Progress;

/// The SQL that empties a database in place (keeps the role and password).
pub const WIPE_SQL: &str = "DROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n";

/// What the caller asks for.
#[derive(Debug, Clone)]
pub struct ResetOptions {
    /// Recreate the service, or empty it in place.
    pub strategy: Strategy,
    /// Stop after printing the plan.
    pub dry_run: bool,
    /// Continue an interrupted reset from its journal.
    pub resume: bool,
    /// Skip the backup (refused for protected environments).
    pub no_backup: bool,
    /// `--yes` / `--confirm`.
    pub confirm: ConfirmFlags,
    /// Where backups go.
    pub backups_dir: PathBuf,
    /// Where journals and local locks go.
    pub state_dir: PathBuf,
    /// How the user invokes the reset, without `--resume` or a confirmation
    /// flag (`pix db reset development`, with the global flags and
    /// `--backups-dir` given): hints add what they need to it.
    pub command: String,
}

/// `word` as one shell word: unchanged when it is plain, else single-quoted.
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The command that restores `backup` into `env`'s database, as printed in
/// hints: the global flags of `command`, and without a terminal the flag
/// that confirms.
pub fn restore_command(
    command: &str,
    env: &Environment,
    backup: &std::path::Path,
    terminal: bool,
) -> String {
    let pix = command.split(" db reset ").next().unwrap_or("pix");
    let base = format!(
        "{pix} db restore {} {}",
        env.name,
        shell_word(&backup.to_string_lossy())
    );
    confirmed_command(&base, env, terminal)
}

/// The command that finishes an interrupted reset, as printed in hints:
/// `command --resume`, and without a terminal to confirm on, the flag that
/// confirms (`--yes`; `--confirm <database>` for a protected environment).
pub fn resume_command(command: &str, env: &Environment, terminal: bool) -> String {
    confirmed_command(&format!("{command} --resume"), env, terminal)
}

/// `command` as it proceeds: as is at a terminal (it asks), else with the
/// flag that confirms for `env` (`--yes`; `--confirm <database>` when the
/// environment is protected).
pub fn confirmed_command(command: &str, env: &Environment, terminal: bool) -> String {
    match (terminal, env.config.protected) {
        (true, _) => command.to_string(),
        (false, false) => format!("{command} --yes"),
        (false, true) => format!("{command} --confirm {}", env.config.database),
    }
}

/// Something that happened, for progress display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The plan: every Dokku command, in order.
    Plan(Vec<String>),
    /// A step started.
    Started {
        /// The step.
        step: Step,
        /// What it does (the Dokku command, secrets hidden).
        what: String,
    },
    /// A step finished.
    Finished {
        /// The step.
        step: Step,
        /// How long it took.
        elapsed: Duration,
    },
    /// A step was already done (on resume).
    Skipped {
        /// The step.
        step: Step,
        /// Why.
        why: String,
    },
    /// A step failed.
    Failed {
        /// The step.
        step: Step,
        /// The error.
        error: String,
    },
    /// The backup's byte counter, sent as the backup starts: the bytes
    /// written so far, for a display to poll while it runs.
    BackupBytes(ByteCounter),
    /// A line of information.
    Note(String),
}

/// How a step went, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepRecord {
    /// The step's name.
    pub step: String,
    /// `done`, `skipped` or `failed`.
    pub status: &'static str,
    /// Milliseconds.
    pub elapsed_ms: u64,
}

/// How the reset ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// `--dry-run`: nothing was changed.
    DryRun,
    /// Every step completed.
    Completed,
}

/// The machine-readable report (`--json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResetReport {
    /// The environment.
    pub environment: String,
    /// The app.
    pub app: String,
    /// The Postgres service.
    pub service: String,
    /// The strategy.
    pub strategy: Strategy,
    /// The Dokku commands, in order.
    pub plan: Vec<String>,
    /// The steps as they went.
    pub steps: Vec<StepRecord>,
    /// The backup, if one was taken.
    pub backup: Option<Backup>,
    /// How it ended.
    pub outcome: Outcome,
}

/// The steps of a strategy with `post_link` commands.
pub fn plan_steps(strategy: Strategy, post_link: usize, backup: bool) -> Vec<Step> {
    let mut steps = Vec::new();
    if backup {
        steps.push(Step::Backup);
    }
    steps.push(Step::Lock);
    steps.push(Step::Stop);
    match strategy {
        Strategy::Recreate => {
            steps.extend([Step::Unlink, Step::Destroy, Step::Create, Step::Link]);
        }
        Strategy::InPlace => steps.extend([Step::Wipe, Step::Start]),
    }
    steps.extend((0..post_link).map(Step::PostLink));
    steps.push(Step::Verify);
    steps.push(Step::Unlock);
    steps
}

/// The Dokku commands of one step, in order: what the plan prints and what
/// the step sends when nothing goes wrong (a resume first asks whether the
/// step already happened; a verify that finds the app stopped starts it).
pub fn step_commands(step: Step, env: &Environment) -> Result<Vec<Command>> {
    let app = env.config.app.as_str();
    let svc = env.config.database.as_str();
    Ok(match step {
        Step::Backup => vec![postgres::export(svc)?],
        Step::Lock => vec![apps::lock(app)?],
        Step::Stop => vec![ps::stop(app)?],
        Step::Unlink => vec![postgres::unlink(svc, app, UnlinkOptions::default())?],
        Step::Destroy => vec![postgres::destroy(svc)?],
        Step::Create => vec![postgres::create(svc)?],
        Step::Link => vec![postgres::link(svc, app, &LinkOptions::default())?],
        Step::Wipe => vec![postgres::connect(svc)?],
        Step::Start => vec![ps::start(app)?],
        Step::PostLink(i) => {
            // A post-link command is a line for the container's shell, as
            // the Makefile's `dokku run APP npm run db:migrate` was.
            let line = env.config.post_link.get(i).cloned().unwrap_or_default();
            // (pix.toml's validation refuses an empty line or a NUL byte,
            // the only lines `run_command` refuses.)
            vec![run_command(
                app,
                &RunCommand::shell(line),
                &RunOptions::default(),
            )?]
        }
        Step::Verify => vec![
            ps::running(app)?,
            config::get(app.into(), DATABASE_URL)?,
            postgres::dsn(svc)?,
        ],
        Step::Unlock => vec![apps::unlock(app)?],
    })
}

/// The config key the link sets and the verify reads.
const DATABASE_URL: &str = "DATABASE_URL";

/// Renders the plan: one line per Dokku command of [`step_commands`].
pub fn render_plan(
    steps: &[Step],
    env: &Environment,
    backup_path: &std::path::Path,
) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    for s in steps {
        for c in step_commands(*s, env)? {
            lines.push(match s {
                Step::Backup => format!("{c} > {}", backup_path.display()),
                Step::Wipe => format!("{c} < (DROP SCHEMA public CASCADE; CREATE SCHEMA public)"),
                _ => c.to_string(),
            });
        }
    }
    Ok(lines)
}

/// Runs the reset of `env` on `client`.
pub async fn reset(
    client: &Client,
    env: &Environment,
    options: &ResetOptions,
    prompter: &mut dyn Prompter,
    progress: &dyn Progress<Event>,
) -> Result<ResetReport> {
    let app = env.config.app.clone();
    let svc = env.config.database.clone();
    if options.no_backup && env.config.protected {
        return Err(OpsError::Refused {
            message: format!(
                "{} is protected: --no-backup is refused there; nothing was done",
                env.name
            ),
        });
    }

    // One reset per environment per machine at a time.
    let lock_path = options
        .state_dir
        .join("resets")
        .join(format!("{}.lock", env.name));
    let _local_lock = match LocalLock::try_acquire(&lock_path, &journal::operator())? {
        Ok(lock) => lock,
        Err(holder) => {
            return Err(OpsError::LockHeld {
                message: format!(
                    "a reset of {} is already running ({holder}); wait for it to finish",
                    env.name
                ),
            })
        }
    };

    let journal_path = Journal::path(&options.state_dir, &env.name);
    let existing = Journal::read(&journal_path)?;
    let terminal = prompter.is_terminal();
    let resume_hint = resume_command(&options.command, env, terminal);
    let resuming = match (&existing, options.resume) {
        (Some(j), false) if j.state == JournalState::InProgress => {
            return Err(OpsError::Precondition {
                message: format!(
                    "a reset of {} is half done (started {} by {}; completed: {}; next: {}{}). Run `{}` to finish it",
                    env.name,
                    j.started_at,
                    j.operator,
                    names(&j.completed),
                    j.next_step().map(|s| s.name()).unwrap_or_else(|| "none".into()),
                    j.backup
                        .as_ref()
                        .map(|b| format!("; backup: {}", b.display()))
                        .unwrap_or_default(),
                    resume_hint
                ),
            })
        }
        (Some(j), true) if j.state == JournalState::InProgress => Some(j.clone()),
        (_, true) => {
            return Err(OpsError::Usage {
                message: format!("there is no interrupted reset of {} to resume", env.name),
            })
        }
        _ => None,
    };

    // 1. Preflight, read-only, reads sent together, with the version probe
    // (their words are plain, so they need not wait for it).
    let (version, app_exists, svc_exists, linked, locked) = tokio::join!(
        client.version(),
        client.apps_exists(&app),
        client.postgres_exists(&svc),
        linked(client, &svc, &app),
        client.apps_locked(&app),
    );
    progress.event(Event::Note(format!(
        "connected to {} (Dokku {})",
        client.target(),
        version?
    )));
    let (app_exists, svc_exists, linked, locked) = (app_exists?, svc_exists?, linked?, locked?);
    if !app_exists {
        return Err(OpsError::Precondition {
            message: format!(
                "app {app} does not exist on {}; check pix.toml's environment {}",
                client.target(),
                env.name
            ),
        });
    }
    if resuming.is_none() {
        if !svc_exists {
            return Err(OpsError::Precondition {
                message: format!(
                    "Postgres service {svc} does not exist on {}; create and link it first (`pix db create {svc}`, `pix db link {svc} {app}`)",
                    client.target()
                ),
            });
        }
        if !linked {
            return Err(OpsError::Precondition {
                message: format!(
                    "Postgres service {svc} is not linked to {app}; link it first with `pix db link {svc} {app}`"
                ),
            });
        }
        if locked {
            return Err(OpsError::LockHeld {
                message: format!(
                    "app {app} is locked on {} (a deploy in progress, `apps:lock`, or a reset from another machine); nothing was done. If none is running, `pix apps unlock {app}` and retry",
                    client.target()
                ),
            });
        }
    }

    let with_backup = !options.no_backup;
    let mut journal = match resuming {
        Some(j) => j,
        None => Journal {
            format: 1,
            environment: env.name.clone(),
            app: app.clone(),
            service: svc.clone(),
            strategy: options.strategy,
            operator: journal::operator(),
            started_at: now_rfc3339(),
            plan: plan_steps(options.strategy, env.config.post_link.len(), with_backup),
            completed: Vec::new(),
            backup: None,
            state: JournalState::InProgress,
            last_error: None,
        },
    };
    let backup_path = journal
        .backup
        .clone()
        .unwrap_or_else(|| backup::backup_path(&options.backups_dir, &env.name, &svc));
    let plan = render_plan(&journal.plan, env, &backup_path)?;
    progress.event(Event::Plan(plan.clone()));
    let mut report = ResetReport {
        environment: env.name.clone(),
        app: app.clone(),
        service: svc.clone(),
        strategy: journal.strategy,
        plan,
        steps: Vec::new(),
        backup: None,
        outcome: Outcome::DryRun,
    };
    if options.dry_run {
        return Ok(report);
    }

    // 2. Confirmation (also on resume: it continues destructive work).
    let action = match journal.strategy {
        Strategy::Recreate => format!("destroy {svc} and create it anew, empty, for {app}"),
        Strategy::InPlace => format!("empty {svc} (drop its public schema) for {app}"),
    };
    // A refusal names the command to run: on resume, with `--resume`.
    let confirm_command = if options.resume {
        format!("{} --resume", options.command)
    } else {
        options.command.clone()
    };
    confirm::confirm(
        &ConfirmRequest {
            environment: &env.name,
            protected: env.config.protected,
            name: &svc,
            action: &action,
            command: &confirm_command,
        },
        &options.confirm,
        prompter,
    )?;

    journal.write(&journal_path)?;
    let first_resumed = journal.completed.len();
    let mut index = first_resumed;
    while let Some(step) = journal.next_step() {
        let started = Instant::now();
        let what = step_commands(step, env)?
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join("; ");
        progress.event(Event::Started { step, what });
        // Only the first step after an interruption may have half happened.
        let check_done = resuming_step(index, first_resumed, options.resume);
        let result = run_step(client, env, step, &backup_path, check_done, progress).await;
        match result {
            Ok(StepResult::Done(backup)) => {
                if let Some(b) = backup {
                    journal.backup = Some(b.path.clone());
                    report.backup = Some(b);
                }
                let elapsed = started.elapsed();
                progress.event(Event::Finished { step, elapsed });
                report.steps.push(record(step, "done", elapsed));
                journal.complete(step, &journal_path)?;
            }
            Ok(StepResult::AlreadyDone(why)) => {
                progress.event(Event::Skipped { step, why });
                report
                    .steps
                    .push(record(step, "skipped", started.elapsed()));
                journal.complete(step, &journal_path)?;
            }
            Err(error) => {
                let text = error.to_string();
                progress.event(Event::Failed {
                    step,
                    error: text.clone(),
                });
                report.steps.push(record(step, "failed", started.elapsed()));
                journal.last_error = Some(text.clone());
                if step == Step::Unlock {
                    // Everything else is done: keep the reset, report the lock.
                    journal.state = JournalState::Completed;
                    journal.write(&journal_path)?;
                    return Err(error);
                }
                journal.write(&journal_path)?;
                let ctx = Failure {
                    client,
                    env,
                    journal_path: &journal_path,
                    progress,
                    resume_hint: &resume_hint,
                    restore_hint: &|b| restore_command(&options.command, env, b, terminal),
                };
                return Err(recover(ctx, &mut journal, step, error).await);
            }
        }
        index += 1;
    }
    journal.state = JournalState::Completed;
    journal.write(&journal_path)?;
    if report.backup.is_none() {
        if let Some(path) = &journal.backup {
            report.backup = Some(Backup {
                path: path.clone(),
                bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or_default(),
                entries: 0,
            });
        }
    }
    if let Some(b) = &report.backup {
        progress.event(Event::Note(format!(
            "backup of the old database kept at {} (restore with `{}`)",
            b.path.display(),
            restore_command(&options.command, env, &b.path, terminal)
        )));
    }
    report.outcome = Outcome::Completed;
    Ok(report)
}

fn resuming_step(index: usize, first: usize, resume: bool) -> bool {
    resume && index == first
}

fn record(step: Step, status: &'static str, elapsed: Duration) -> StepRecord {
    StepRecord {
        step: step.name(),
        status,
        elapsed_ms: elapsed.as_millis() as u64,
    }
}

fn names(steps: &[Step]) -> String {
    if steps.is_empty() {
        return "none".into();
    }
    steps.iter().map(Step::name).collect::<Vec<_>>().join(", ")
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

enum StepResult {
    Done(Option<Backup>),
    AlreadyDone(String),
}

/// `postgres:linked`, where a missing service is simply not linked.
async fn linked(client: &Client, svc: &str, app: &str) -> Result<bool> {
    match client.postgres_linked(svc, app).await {
        Err(dokku_client::Error::ServiceNotFound { .. }) => Ok(false),
        other => Ok(other?),
    }
}

async fn run_ok(client: &Client, command: Command) -> Result<dokku_client::Output> {
    Ok(client.run_ok(command).await?)
}

async fn run_step(
    client: &Client,
    env: &Environment,
    step: Step,
    backup_path: &std::path::Path,
    check_done: bool,
    progress: &dyn Progress<Event>,
) -> Result<StepResult> {
    let app = env.config.app.as_str();
    let svc = env.config.database.as_str();
    let mut commands = step_commands(step, env)?.into_iter();
    let mut next = || {
        commands.next().ok_or_else(|| OpsError::Usage {
            message: format!("no command for step {}", step.name()),
        })
    };
    match step {
        Step::Backup => {
            for stale in backup::remove_stale_partials(backup_path, svc)? {
                progress.event(Event::Note(format!(
                    "{}: {}",
                    backup::REMOVED_PARTIAL,
                    stale.display()
                )));
            }
            if check_done
                && backup_path.is_file()
                && backup::verify_archive(backup_path).await.is_ok()
            {
                return Ok(StepResult::AlreadyDone(format!(
                    "backup {} is complete",
                    backup_path.display()
                )));
            }
            let counter = ByteCounter::default();
            progress.event(Event::BackupBytes(counter.clone()));
            let b = backup::export_to_file(client, svc, backup_path, &counter).await?;
            progress.event(Event::Note(format!(
                "backup verified: {} ({} bytes, {} entries)",
                b.path.display(),
                b.bytes,
                b.entries
            )));
            Ok(StepResult::Done(Some(b)))
        }
        Step::Lock => {
            if check_done && client.apps_locked(app).await? {
                return Ok(StepResult::AlreadyDone("the app is already locked".into()));
            }
            run_ok(client, next()?).await?;
            Ok(StepResult::Done(None))
        }
        Step::Unlock => {
            if check_done && !client.apps_locked(app).await? {
                return Ok(StepResult::AlreadyDone("the app is not locked".into()));
            }
            // The reset itself is done: a failed unlock must not undo it.
            // Look at the lock (not a blind retry) and try once more.
            if let Err(first) = run_ok(client, next()?).await {
                if client.apps_locked(app).await? {
                    run_ok(client, apps::unlock(app)?)
                        .await
                        .map_err(|second| OpsError::StepFailed {
                            message: format!(
                                "the database was reset, but the app lock could not be released ({first}; then {second}); run `pix apps unlock {app}`"
                            ),
                        })?;
                }
            }
            Ok(StepResult::Done(None))
        }
        Step::Unlink => {
            if check_done && !linked(client, svc, app).await? {
                finish_unlink(client, svc, app).await?;
                return Ok(StepResult::AlreadyDone("the service is not linked".into()));
            }
            run_ok(client, next()?).await?;
            Ok(StepResult::Done(None))
        }
        Step::Destroy => {
            if check_done && !client.postgres_exists(svc).await? {
                return Ok(StepResult::AlreadyDone(
                    "the service is already gone".into(),
                ));
            }
            run_ok(client, next()?).await?;
            Ok(StepResult::Done(None))
        }
        Step::Create => {
            if check_done && client.postgres_exists(svc).await? {
                return Ok(StepResult::AlreadyDone("the service exists".into()));
            }
            run_ok(client, next()?).await?;
            Ok(StepResult::Done(None))
        }
        Step::Link => {
            if check_done && linked(client, svc, app).await? {
                return Ok(StepResult::AlreadyDone("the service is linked".into()));
            }
            run_ok(client, next()?).await?;
            Ok(StepResult::Done(None))
        }
        Step::Stop | Step::Start => {
            run_ok(client, next()?).await?;
            Ok(StepResult::Done(None))
        }
        Step::Wipe => {
            wipe(client, next()?).await?;
            Ok(StepResult::Done(None))
        }
        Step::PostLink(_) => {
            let command = next()?;
            let out = client.run(command.clone()).await?;
            if !out.success() {
                return Err(OpsError::Dokku(client.classify(&command, &out)));
            }
            Ok(StepResult::Done(None))
        }
        Step::Verify => {
            verify(client, app, svc, [next()?, next()?, next()?]).await?;
            Ok(StepResult::Done(None))
        }
    }
}

/// After an interrupted `postgres:unlink`: the server may have dropped the
/// link but not yet the app's `DATABASE_URL` (the command was stopped in
/// between). A URL still pointing at the service is then unset, as the
/// unlink would have; otherwise the link that follows would leave it in
/// place and put the new URL under another name.
async fn finish_unlink(client: &Client, svc: &str, app: &str) -> Result<()> {
    let (url, info) = tokio::join!(
        client.config_get(app, "DATABASE_URL"),
        client.postgres_info(svc),
    );
    let dsn = match info {
        Ok(info) => info.dsn.map(|d| d.expose_secret().to_string()),
        Err(dokku_client::Error::ServiceNotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    if let (Some(url), Some(dsn)) = (url?, dsn) {
        if url == dsn {
            client
                .config_unset(
                    app,
                    &["DATABASE_URL"],
                    dokku_client::config::ConfigSetOptions::default().no_restart(),
                )
                .await?;
        }
    }
    Ok(())
}

/// Empties the database: `command` is its `postgres:connect`.
async fn wipe(client: &Client, command: Command) -> Result<()> {
    client
        .execute_ok(Request::new(command).stdin(Stdin::Bytes(WIPE_SQL.as_bytes().to_vec())))
        .await?;
    Ok(())
}

/// Checks the app runs and its `DATABASE_URL` is the service's DSN, with
/// the step's three reads (`ps:report --running`, `config:get`,
/// `postgres:info --dsn`), sent together.
async fn verify(client: &Client, app: &str, svc: &str, reads: [Command; 3]) -> Result<()> {
    let [running, get_url, dsn] = reads;
    let (running, url, dsn) = tokio::join!(
        client.run_ok(running),
        client.run(get_url.clone()),
        client.run_ok(dsn),
    );
    let mut running = ps::parse_running(&running?.stdout_text());
    let url = url?;
    let url = config::parse_get(&url).ok_or_else(|| client.classify(&get_url, &url))?;
    let dsn = postgres::parse_dsn(&dsn?.stdout_text());
    if running != Some(true) {
        // The link restarts a deployed app; make sure it is up.
        client.ps_start(app).await?;
        running = Some(client.ps_running(app).await?);
    }
    if running != Some(true) {
        return Err(OpsError::Precondition {
            message: format!(
                "app {app} is not running after the reset (`ps:report {app} --running` says {}); see `pix logs {app}`",
                running.map_or("neither true nor false", |r| if r { "true" } else { "false" })
            ),
        });
    }
    let dsn = dsn.as_ref().map(|d| d.expose_secret().to_string());
    match (url, dsn) {
        (Some(url), Some(dsn)) if url == dsn => Ok(()),
        (url, _) => Err(OpsError::Precondition {
            message: format!(
                "DATABASE_URL of {app} does not point at {svc} after the reset (it {}); relink with `pix db link {svc} {app}`",
                if url.is_none() { "is unset" } else { "holds another URL" }
            ),
        }),
    }
}

/// What recovery needs to know.
struct Failure<'a> {
    client: &'a Client,
    env: &'a Environment,
    journal_path: &'a std::path::Path,
    progress: &'a dyn Progress<Event>,
    /// The command that resumes (see [`resume_command`]).
    resume_hint: &'a str,
    /// The command that restores a backup (see [`restore_command`]).
    restore_hint: &'a dyn Fn(&std::path::Path) -> String,
}

/// After a failed step: put the environment back in a working state.
async fn recover(
    ctx: Failure<'_>,
    journal: &mut Journal,
    failed: Step,
    error: OpsError,
) -> OpsError {
    let Failure {
        client,
        env,
        journal_path,
        progress,
        resume_hint,
        restore_hint,
    } = ctx;
    let app = env.config.app.as_str();
    let svc = env.config.database.as_str();
    // The failing step may have half happened: treat a failed destroy or wipe
    // as having destroyed the data.
    let data_gone = journal.data_destroyed() || failed.destroys_data();
    let backup = journal.backup.clone();
    progress.event(Event::Note(format!(
        "step {} failed; restoring {}",
        failed.name(),
        if data_gone {
            "the database from the backup"
        } else {
            "the app"
        }
    )));
    let restored: Result<()> = async {
        if data_gone {
            let Some(backup) = &backup else {
                return Err(OpsError::StepFailed {
                    message: "no backup was taken (--no-backup), so the data cannot be restored"
                        .into(),
                });
            };
            if !client.postgres_exists(svc).await? {
                run_ok(client, postgres::create(svc)?).await?;
            } else if journal.strategy == Strategy::Recreate
                && journal.completed.contains(&Step::Create)
            {
                // The new database may hold half a migration: empty it first.
                wipe(client, postgres::connect(svc)?).await?;
            }
            backup::import_file(client, svc, backup).await?;
        }
        if !linked(client, svc, app).await? {
            run_ok(client, postgres::link(svc, app, &LinkOptions::default())?).await?;
        }
        run_ok(client, ps::start(app)?).await?;
        Ok(())
    }
    .await;
    // Always release the lock we took (a failed `apps:lock` may still have
    // taken it: look). Preflight refused an app locked by anyone else.
    let unlocked: Result<()> = async {
        let took = journal.completed.contains(&Step::Lock) || failed == Step::Lock;
        if took && client.apps_locked(app).await? {
            run_ok(client, apps::unlock(app)?).await?;
        }
        Ok(())
    }
    .await;
    let backup_text = backup
        .as_ref()
        .map(|b| format!("The backup is at {}.", b.display()))
        .unwrap_or_else(|| "No backup was taken.".into());
    let by_hand = backup
        .as_ref()
        .map(|b| format!(", or restore by hand with `{}`", restore_hint(b)))
        .unwrap_or_default();
    match (restored, unlocked) {
        (Ok(()), Ok(())) => {
            journal.state = JournalState::RolledBack;
            let _ = journal.write(journal_path);
            OpsError::StepFailed {
                message: format!(
                    "the reset of {} failed at step {}: {error}. {} The app was started again and unlocked. {backup_text}",
                    env.name,
                    failed.name(),
                    if data_gone {
                        "The original database was restored from the backup."
                    } else {
                        "The database was not touched."
                    }
                ),
            }
        }
        (restore, unlock) => {
            let why = [restore.err(), unlock.err()]
                .into_iter()
                .flatten()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ");
            OpsError::StepFailed {
                message: format!(
                    "the reset of {} failed at step {}: {error}. Restoring also failed: {why}. {backup_text} Run `{resume_hint}` once the server answers{by_hand}",
                    env.name,
                    failed.name(),
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{HostOverrides, PixConfig};
    use std::path::Path;

    const TOML: &str = "[hosts.h]\naddress = \"dokku.example\"\n\n[environments.development]\nhost = \"h\"\napp = \"api-dev\"\ndatabase = \"pg-dev\"\n\n[environments.production]\nhost = \"h\"\napp = \"api-prod\"\ndatabase = \"pg-prod\"\nprotected = true\n";

    fn env(name: &str) -> Environment {
        PixConfig::parse(TOML, Path::new("/r"), Path::new("/r/pix.toml"))
            .unwrap()
            .environment(name, &HostOverrides::default())
            .unwrap()
    }

    #[test]
    fn hints_without_a_terminal_carry_the_flags_that_proceed() {
        let dev = env("development");
        let prod = env("production");
        let cmd = "pix --config x.toml db reset development";
        assert_eq!(
            resume_command(cmd, &dev, false),
            "pix --config x.toml db reset development --resume --yes"
        );
        assert_eq!(
            resume_command(cmd, &dev, true),
            "pix --config x.toml db reset development --resume"
        );
        assert_eq!(
            resume_command("pix db reset production", &prod, false),
            "pix db reset production --resume --confirm pg-prod"
        );
        assert_eq!(
            restore_command(cmd, &dev, Path::new("/b/a b.dump"), false),
            "pix --config x.toml db restore development '/b/a b.dump' --yes"
        );
        assert_eq!(
            restore_command(
                "pix db reset production",
                &prod,
                Path::new("/b/x.dump"),
                false
            ),
            "pix db restore production /b/x.dump --confirm pg-prod"
        );
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
