//! The safe database reset against the sandbox (issue 4's checks): the happy
//! path on every profile, a fault at every step, concurrent resets, and the
//! protected environment's refusal.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod security_common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use pix_ops::config::{HostOverrides, PixConfig};
use pix_ops::confirm::{ConfirmFlags, NoTerminal};
use pix_ops::connect::{connect, ConnectOptions};
use pix_ops::journal::{Journal, JournalState, Step, Strategy};
use pix_ops::progress::Progress;
use pix_ops::reset::{plan_steps, render_plan, reset, step_commands, Event, Outcome, ResetOptions};
use pix_ops::{Environment, OpsError};
use pix_sandbox::contract::{Fault, FaultAction, Profile};
use pix_sandbox::sandbox::{Sandbox, SandboxOptions};
use pix_sandbox::scenario;

const APP: &str = "api-development";
const DB: &str = "pg-development";
const USERS: u32 = 25;

/// A sandbox with the sample app deployed on a seeded database, a pix.toml
/// (with an extra protected environment) and folders for backups and journals.
struct World {
    sb: Sandbox,
    dir: tempfile::TempDir,
    config: PixConfig,
}

impl World {
    fn new(profile: Profile) -> World {
        let sb = Sandbox::start(SandboxOptions::profile(profile)).expect("sandbox");
        let dir = tempfile::tempdir().expect("tempdir");
        scenario::deploy_sample_app(&sb, dir.path(), APP, DB, USERS).expect("deploy");
        let toml = dir.path().join("pix.toml");
        sb.write_pix_toml(&toml).expect("pix.toml");
        let mut text = std::fs::read_to_string(&toml).expect("read pix.toml");
        text.push_str(
            "\n[environments.production]\nhost = \"sandbox\"\napp = \"api-prod\"\ndatabase = \"pg-prod\"\nprotected = true\n",
        );
        std::fs::write(&toml, text).expect("write pix.toml");
        let config = PixConfig::load(&toml).expect("load pix.toml");
        World { sb, dir, config }
    }

    fn env(&self, name: &str) -> Environment {
        self.config
            .environment(name, &HostOverrides::default())
            .expect("environment")
    }

    fn options(&self) -> ResetOptions {
        ResetOptions {
            strategy: Strategy::Recreate,
            dry_run: false,
            resume: false,
            no_backup: false,
            confirm: ConfirmFlags {
                yes: true,
                confirm: None,
            },
            backups_dir: self.dir.path().join("backups"),
            state_dir: self.dir.path().join(".pix"),
            command: "pix db reset development".into(),
        }
    }

    async fn reset(
        &self,
        options: &ResetOptions,
        progress: &dyn Progress<Event>,
    ) -> Result<pix_ops::reset::ResetReport, OpsError> {
        let env = self.env("development");
        let client = connect(&env.host_config, &ConnectOptions::default())
            .await
            .expect("connect");
        let result = reset(&client, &env, options, &mut NoTerminal, progress).await;
        client.close().await.expect("close");
        result
    }

    /// Runs the first command between backticks in `message` exactly as
    /// printed (its first word, `pix`, is the binary under test), in the
    /// folder of pix.toml, without a terminal.
    fn run_printed(&self, message: &str) -> security_common::PixRun {
        let command = message
            .split('`')
            .nth(1)
            .unwrap_or_else(|| panic!("no command in {message}"));
        let words: Vec<&str> = command.split_whitespace().collect();
        assert_eq!(words.first(), Some(&"pix"), "{command}");
        let out = std::process::Command::new(security_common::pix_bin())
            .args(&words[1..])
            .current_dir(self.dir.path())
            .env_remove("PIX_CONFIG")
            .env_remove("DOKKU_HOST")
            .env_remove("DOKKU_PORT")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        security_common::PixRun {
            code: out.status.code().unwrap_or(-1),
            stdout: out.stdout,
            stderr: out.stderr,
        }
    }

    fn dsn(&self) -> String {
        scenario::dsn(&self.sb, DB).expect("dsn")
    }

    fn users(&self) -> Option<u64> {
        scenario::count_rows(&self.sb, &self.dsn(), "users").expect("count users")
    }

    fn running(&self) -> bool {
        scenario::dokku(&self.sb, &["ps:report", APP, "--running"])
            .map(|s| s.trim() == "true")
            .unwrap_or(false)
    }

    fn locked(&self) -> bool {
        scenario::dokku(&self.sb, &["apps:locked", APP]).is_ok()
    }

    fn database_url(&self) -> String {
        scenario::dokku(&self.sb, &["config:get", APP, "DATABASE_URL"])
            .expect("config:get")
            .trim_end()
            .to_string()
    }

    fn journal(&self) -> Option<Journal> {
        Journal::read(&Journal::path(&self.dir.path().join(".pix"), "development"))
            .expect("journal")
    }

    /// The backup restores into a scratch database with the seeded rows.
    fn check_backup(&self, path: &Path, scratch: &str) {
        assert!(path.is_file(), "backup {} missing", path.display());
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(path).unwrap().permissions(),
        ) & 0o777;
        assert_eq!(mode, 0o600, "backup mode");
        scenario::restore_into_scratch(&self.sb, path, scratch).expect("restore backup");
        let n = scenario::count_rows(&self.sb, &scenario::admin_dsn(&self.sb, scratch), "users")
            .expect("count");
        assert_eq!(n, Some(u64::from(USERS)), "rows in the restored backup");
    }
}

/// Records progress events.
#[derive(Default)]
struct Recorder(Mutex<Vec<Event>>);

impl Progress<Event> for Recorder {
    fn event(&self, event: Event) {
        self.0.lock().unwrap().push(event);
    }
}

fn happy_path(profile: Profile) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let w = World::new(profile);
    assert_eq!(w.users(), Some(u64::from(USERS)));
    let old_url = w.database_url();
    let recorder = Recorder::default();
    let before = w.sb.received().expect("received").len();
    let report = rt
        .block_on(w.reset(&w.options(), &recorder))
        .expect("reset");
    assert_eq!(report.outcome, Outcome::Completed);
    plan_is_what_ran(&w, &report, &w.sb.received().expect("received")[before..]);
    assert_eq!(w.users(), Some(0), "rows gone, schema migrated");
    assert!(w.running(), "app running");
    assert!(!w.locked(), "lock released");
    let new_url = w.database_url();
    assert_eq!(new_url, w.dsn(), "DATABASE_URL points at the service");
    assert_ne!(new_url, old_url, "a new database (new credentials)");
    let backup = report.backup.expect("backup taken");
    w.check_backup(&backup.path, "scratch_restore");
    assert_eq!(w.journal().unwrap().state, JournalState::Completed);
    // the plan was printed before anything ran, every Dokku command in order
    let events = recorder.0.lock().unwrap();
    let Some(Event::Plan(plan)) = events.iter().find(|e| matches!(e, Event::Plan(_))) else {
        panic!("no plan")
    };
    let verbs: Vec<&str> = plan.iter().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(
        verbs,
        [
            "postgres:export",
            "apps:lock",
            "ps:stop",
            "postgres:unlink",
            "postgres:destroy",
            "postgres:create",
            "postgres:link",
            "run",
            "ps:report",
            "config:get",
            "postgres:info",
            "apps:unlock"
        ]
    );
    // the password never appears in what the workflow reported
    let password = new_url
        .split(':')
        .nth(2)
        .unwrap()
        .split('@')
        .next()
        .unwrap()
        .to_string();
    let printed = format!("{events:?}{:?}", w.journal());
    assert!(!printed.contains(&password), "secret leaked");
}

/// The printed plan is rendered from [`step_commands`], and the server
/// received exactly those commands, in order, after the read-only
/// preflight (the verify's three reads go out together, in any order).
fn plan_is_what_ran(
    w: &World,
    report: &pix_ops::reset::ResetReport,
    received: &[pix_sandbox::contract::ReceivedCommand],
) {
    let env = w.env("development");
    let steps = plan_steps(Strategy::Recreate, env.config.post_link.len(), true);
    let backup = report.backup.as_ref().expect("backup").path.clone();
    assert_eq!(
        render_plan(&steps, &env, &backup).unwrap(),
        report.plan,
        "the printed plan"
    );
    let planned: Vec<(Step, Vec<String>)> = steps
        .iter()
        .flat_map(|s| {
            step_commands(*s, &env)
                .unwrap()
                .into_iter()
                .map(move |c| (*s, c.argv().iter().map(|w| w.to_string()).collect()))
        })
        .collect();
    assert!(received.len() > planned.len(), "{received:?}");
    let (preflight, ran) = received.split_at(received.len() - planned.len());
    for r in preflight {
        let name = r.argv_lossy()[0].clone();
        assert!(
            [
                "version",
                "apps:exists",
                "postgres:exists",
                "postgres:linked",
                "apps:locked"
            ]
            .contains(&name.as_str()),
            "before the plan only the preflight's reads: {name}"
        );
    }
    let ran: Vec<Vec<String>> = ran.iter().map(|r| r.argv_lossy()).collect();
    let mut i = 0;
    while i < planned.len() {
        let step = planned[i].0;
        let n = planned[i..].iter().take_while(|(s, _)| *s == step).count();
        let mut want: Vec<&Vec<String>> = planned[i..i + n].iter().map(|(_, c)| c).collect();
        let mut got: Vec<&Vec<String>> = ran[i..i + n].iter().collect();
        if step == Step::Verify {
            want.sort();
            got.sort();
        }
        assert_eq!(got, want, "step {}", step.name());
        i += n;
    }
}

#[test]
fn reset_happy_path_0_38() {
    happy_path(Profile::V0_38);
}

#[test]
fn reset_happy_path_0_30() {
    happy_path(Profile::V0_30);
}

#[test]
fn reset_happy_path_0_19() {
    happy_path(Profile::V0_19);
}

#[test]
fn in_place_keeps_credentials() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let w = World::new(Profile::V0_38);
    let old_url = w.database_url();
    let mut options = w.options();
    options.strategy = Strategy::InPlace;
    let report = rt
        .block_on(w.reset(&options, &pix_ops::progress::Silent))
        .expect("reset");
    assert_eq!(report.outcome, Outcome::Completed);
    assert_eq!(w.users(), Some(0));
    assert_eq!(w.database_url(), old_url, "same credentials");
    assert!(w.running());
    assert!(!w.locked());
}

/// What to break at a step.
#[derive(Debug, Clone, Copy)]
enum Breakage {
    /// The Dokku command fails.
    CommandFails,
    /// The SSH connection drops during the command.
    ConnectionDrops,
    /// The client dies when the step starts (then `--resume`).
    ClientKilled,
}

/// The received-command prefix that identifies a step's first command.
fn step_match(step: Step) -> String {
    match step {
        Step::Backup => "postgres:export".into(),
        Step::Lock => "apps:lock".into(),
        Step::Stop => "ps:stop".into(),
        Step::Unlink => "postgres:unlink".into(),
        Step::Destroy => "postgres:destroy".into(),
        Step::Create => "postgres:create".into(),
        Step::Link => "postgres:link".into(),
        Step::PostLink(_) => format!("run {APP}"),
        Step::Verify => "config:get".into(),
        Step::Unlock => "apps:unlock".into(),
        Step::Wipe => "postgres:connect".into(),
        Step::Start => "ps:start".into(),
    }
}

/// Cancels the reset when a given step starts (the client "dies" there).
struct KillAt {
    step: Step,
    notify: Arc<tokio::sync::Notify>,
}

impl Progress<Event> for KillAt {
    fn event(&self, event: Event) {
        if let Event::Started { step, .. } = event {
            if step == self.step {
                self.notify.notify_one();
            }
        }
    }
}

/// A person resumes a killed reset some time after the kill, not within
/// milliseconds: the command the dead client had sent may still be running
/// on the server (nothing can stop it, see `transport/ssh.rs`), and Dokku
/// has no lock that would make a second command wait for it. Give it time
/// to end (or to die at its next write to the closed channel).
fn settle_after_kill() {
    std::thread::sleep(std::time::Duration::from_millis(1500));
}

fn break_at(w: &World, rt: &tokio::runtime::Runtime, step: Step, how: Breakage) {
    // Start each round from the seeded state.
    scenario::seed(&w.sb, APP, USERS).expect("seed");
    let before_backups = backups(w);
    let outcome = match how {
        Breakage::CommandFails | Breakage::ConnectionDrops => {
            let action = match how {
                Breakage::CommandFails => FaultAction::Exit {
                    code: 1,
                    stderr: " !     injected failure\n".into(),
                },
                _ => FaultAction::DropAfterBytes { bytes: 0 },
            };
            w.sb.inject_fault(Fault {
                matches: step_match(step),
                action,
                times: 1,
            })
            .expect("fault");
            let r = rt.block_on(w.reset(&w.options(), &pix_ops::progress::Silent));
            assert_eq!(
                w.sb.pending_faults(),
                0,
                "{step:?} {how:?}: the fault did not fire"
            );
            r.map(|_| ())
        }
        Breakage::ClientKilled => {
            let notify = Arc::new(tokio::sync::Notify::new());
            let killer = KillAt {
                step,
                notify: notify.clone(),
            };
            let options = w.options();
            let interrupted = rt.block_on(async {
                tokio::select! {
                    r = w.reset(&options, &killer) => Some(r),
                    _ = notify.notified() => None,
                }
            });
            assert!(
                interrupted.is_none(),
                "{step:?}: the reset finished before being killed"
            );
            settle_after_kill();
            // Without a terminal, every hint names the one command that
            // finishes the reset: --resume and the confirmation.
            let hint = "`pix db reset development --resume --yes`";
            // A plain rerun (--yes) refuses and says a reset is half done...
            let again = rt.block_on(w.reset(&w.options(), &pix_ops::progress::Silent));
            let text = again
                .expect_err("a rerun without --resume must refuse")
                .to_string();
            assert!(
                text.contains("half done") && text.contains(hint),
                "{step:?}: {text}"
            );
            // ...so does --resume alone (no terminal to confirm on)...
            let mut resume = w.options();
            resume.resume = true;
            resume.confirm = ConfirmFlags::default();
            let refused = rt
                .block_on(w.reset(&resume, &pix_ops::progress::Silent))
                .expect_err("--resume without a confirmation or a terminal must refuse")
                .to_string();
            assert!(refused.contains(hint), "{step:?}: {refused}");
            assert_eq!(
                w.journal().map(|j| j.state),
                Some(JournalState::InProgress),
                "{step:?}: the refusals changed nothing"
            );
            // ...and that command, run as printed, finishes it.
            let run = w.run_printed(&text);
            assert_eq!(run.code, 0, "{step:?}: {}", run.text());
            let stdout = String::from_utf8_lossy(&run.stdout);
            assert!(
                stdout.contains("reset of development") && stdout.contains("completed"),
                "{step:?}: {}",
                run.text()
            );
            Ok(())
        }
    };
    // Whatever happened: original rows or a clean reset, app running, lock
    // released, backup intact.
    let users = w.users();
    assert!(
        users == Some(u64::from(USERS)) || users == Some(0),
        "{step:?} {how:?}: users={users:?} ({outcome:?})"
    );
    if outcome.is_err() {
        assert_eq!(
            users,
            Some(u64::from(USERS)),
            "{step:?} {how:?}: a failed reset must leave the original rows"
        );
    }
    assert!(
        w.running(),
        "{step:?} {how:?}: app not running ({outcome:?})"
    );
    assert!(!w.locked(), "{step:?} {how:?}: lock left ({outcome:?})");
    assert_eq!(w.database_url(), w.dsn(), "{step:?} {how:?}: DATABASE_URL");
    for b in backups(w).difference(&before_backups) {
        let scratch = format!("scratch_{}", rand_suffix());
        w.check_backup(b, &scratch);
    }
    if let Some(j) = w.journal() {
        assert_ne!(
            j.state,
            JournalState::InProgress,
            "{step:?} {how:?}: journal left in progress"
        );
    }
    let partials = files_ending(w, ".partial");
    assert!(
        partials.is_empty(),
        "{step:?} {how:?}: unfinished backups left: {partials:?}"
    );
}

fn files_ending(w: &World, suffix: &str) -> Vec<PathBuf> {
    let dir = w.dir.path().join("backups").join("development");
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with(suffix))
                .collect()
        })
        .unwrap_or_default()
}

fn backups(w: &World) -> std::collections::BTreeSet<PathBuf> {
    let dir = w.dir.path().join("backups").join("development");
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "dump"))
                .collect()
        })
        .unwrap_or_default()
}

fn rand_suffix() -> String {
    format!(
        "{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

fn all_steps() -> Vec<Step> {
    pix_ops::reset::plan_steps(Strategy::Recreate, 1, true)
}

#[test]
fn a_failing_command_at_every_step_is_survived() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let w = World::new(Profile::V0_38);
    for step in all_steps() {
        break_at(&w, &rt, step, Breakage::CommandFails);
    }
}

#[test]
fn a_dropped_connection_at_every_step_is_survived() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let w = World::new(Profile::V0_38);
    for step in all_steps() {
        break_at(&w, &rt, step, Breakage::ConnectionDrops);
    }
}

#[test]
fn a_killed_client_at_every_step_is_resumed() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let w = World::new(Profile::V0_38);
    for step in all_steps() {
        break_at(&w, &rt, step, Breakage::ClientKilled);
    }
}

#[test]
fn a_resume_finishes_an_unlink_the_server_left_half_done() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let w = World::new(Profile::V0_38);
    // The client dies as the unlink starts...
    let notify = Arc::new(tokio::sync::Notify::new());
    let killer = KillAt {
        step: Step::Unlink,
        notify: notify.clone(),
    };
    let options = w.options();
    let killed = rt.block_on(async {
        tokio::select! {
            r = w.reset(&options, &killer) => Some(r),
            _ = notify.notified() => None,
        }
    });
    assert!(killed.is_none(), "the reset finished before being killed");
    settle_after_kill();
    // ...and the server is left as a killed `postgres:unlink` leaves it:
    // the link gone, DATABASE_URL still pointing at the service.
    let old = w.dsn();
    let _ = scenario::dokku(&w.sb, &["postgres:unlink", "--no-restart", DB, APP]);
    scenario::dokku(
        &w.sb,
        &[
            "config:set",
            "--no-restart",
            APP,
            &format!("DATABASE_URL={old}"),
        ],
    )
    .expect("config:set");

    let mut resume = w.options();
    resume.resume = true;
    rt.block_on(w.reset(&resume, &pix_ops::progress::Silent))
        .expect("the resume completes");
    let new = w.dsn();
    assert_ne!(new, old, "a new database");
    assert_eq!(w.database_url(), new, "DATABASE_URL points at it");
    let vars = scenario::dokku(&w.sb, &["config:keys", APP]).expect("config:keys");
    assert!(!vars.contains("DOKKU_POSTGRES_"), "no second URL: {vars}");
    assert!(w.running() && !w.locked());
}

#[test]
fn two_resets_at_once_one_is_refused_with_the_holder() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let w = World::new(Profile::V0_38);
    let options = w.options();
    let (a, b) = rt.block_on(async {
        tokio::join!(
            w.reset(&options, &pix_ops::progress::Silent),
            w.reset(&options, &pix_ops::progress::Silent)
        )
    });
    let (ok, refused) = match (a, b) {
        (Ok(r), Err(e)) | (Err(e), Ok(r)) => (r, e),
        other => panic!("expected one success and one refusal, got {other:?}"),
    };
    assert_eq!(ok.outcome, Outcome::Completed);
    assert!(matches!(refused, OpsError::LockHeld { .. }), "{refused}");
    assert!(
        refused.to_string().contains("pid"),
        "the holder is named: {refused}"
    );
    assert!(!w.locked());
}

#[test]
fn protected_environment_without_terminal_or_confirm_is_refused_and_nothing_runs() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let w = World::new(Profile::V0_38);
    scenario::deploy_sample_app(&w.sb, w.dir.path(), "api-prod", "pg-prod", 5).expect("prod");
    let before = w.sb.received().expect("received").len();
    let env = w.env("production");
    for confirm in [
        ConfirmFlags {
            yes: true,
            confirm: None,
        },
        ConfirmFlags {
            yes: false,
            confirm: Some("pg-development".into()),
        },
        ConfirmFlags::default(),
    ] {
        let mut options = w.options();
        options.confirm = confirm.clone();
        let result = rt.block_on(async {
            let client = connect(&env.host_config, &ConnectOptions::default())
                .await
                .expect("connect");
            let r = reset(
                &client,
                &env,
                &options,
                &mut NoTerminal,
                &pix_ops::progress::Silent,
            )
            .await;
            client.close().await.expect("close");
            r
        });
        let err = result.expect_err("must be refused");
        assert!(
            matches!(err, OpsError::Refused { .. }),
            "{confirm:?}: {err}"
        );
        assert!(
            err.to_string().contains("--confirm pg-prod")
                || err.to_string().contains("does not match"),
            "{err}"
        );
    }
    // --no-backup is refused on a protected environment, whatever the confirmation
    let mut options = w.options();
    options.no_backup = true;
    options.confirm = ConfirmFlags {
        yes: false,
        confirm: Some("pg-prod".into()),
    };
    let err = rt
        .block_on(async {
            let client = connect(&env.host_config, &ConnectOptions::default())
                .await
                .expect("connect");
            reset(
                &client,
                &env,
                &options,
                &mut NoTerminal,
                &pix_ops::progress::Silent,
            )
            .await
        })
        .expect_err("--no-backup refused");
    assert!(err.to_string().contains("--no-backup"), "{err}");
    // only reads reached the server
    let received = w.sb.received().expect("received");
    let writes: Vec<_> = received[before..]
        .iter()
        .map(|r| r.argv_lossy().join(" "))
        .filter(|c| {
            ![
                "version",
                "apps:exists",
                "postgres:exists",
                "postgres:linked",
                "apps:locked",
            ]
            .iter()
            .any(|r| c.starts_with(r))
        })
        .collect();
    assert!(writes.is_empty(), "writes ran: {writes:?}");
    let n =
        scenario::count_rows(&w.sb, &scenario::dsn(&w.sb, "pg-prod").unwrap(), "users").unwrap();
    assert_eq!(n, Some(5), "production untouched");
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let w = World::new(Profile::V0_38);
    let mut options = w.options();
    options.dry_run = true;
    let report = rt
        .block_on(w.reset(&options, &pix_ops::progress::Silent))
        .expect("dry run");
    assert_eq!(report.outcome, Outcome::DryRun);
    assert_eq!(report.plan.len(), 12, "{:#?}", report.plan);
    assert!(
        report.plan[0].starts_with("postgres:export pg-development > "),
        "{}",
        report.plan[0]
    );
    assert_eq!(w.users(), Some(u64::from(USERS)));
    assert!(w.journal().is_none());
}

#[test]
fn an_unfinished_backup_left_by_a_killed_run_is_removed_by_the_next_one() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let w = World::new(Profile::V0_38);
    let folder = w.dir.path().join("backups").join("development");
    std::fs::create_dir_all(&folder).unwrap();
    // A run killed mid-export left its partial; another run is writing one
    // right now (it holds the partial's lock); another service's is not ours.
    let stale = folder.join(format!("20260101T000000Z-{DB}.dump.partial"));
    let live = folder.join(format!("20260101T000001Z-{DB}.dump.partial"));
    let other = folder.join("20260101T000000Z-pg-other.dump.partial");
    for f in [&stale, &live, &other] {
        std::fs::write(f, b"PGDMP\x01").unwrap();
    }
    let writer = std::fs::File::open(&live).unwrap();
    writer.lock().unwrap();
    let recorder = Recorder::default();
    let report = rt
        .block_on(w.reset(&w.options(), &recorder))
        .expect("reset");
    assert_eq!(report.outcome, Outcome::Completed);
    let notes: Vec<String> = recorder
        .0
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            Event::Note(n) if n.contains("unfinished") => Some(n.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        notes,
        vec![format!(
            "removed an unfinished backup left by an interrupted run: {}",
            stale.display()
        )]
    );
    assert!(!stale.exists(), "the stale partial is gone");
    assert!(live.exists(), "a partial being written is left alone");
    assert!(other.exists(), "another service's file is left alone");
    drop(writer);
}
