//! The sample app deployed and seeded: status, logs, run, processes, and the
//! database workflows (backup, restore, reset with its refusals, Ctrl-C and
//! `--resume`) through the `pix` binary.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::World;
use pix_sandbox::scenario;

const APP: &str = "api-development";
const DB: &str = "pg-development";
const USERS: u32 = 12;

fn deployed() -> World {
    let w = World::start();
    scenario::deploy_sample_app(&w.sb, w.dir.path(), APP, DB, USERS).expect("deploy");
    w
}

fn users(w: &World) -> Option<u64> {
    let dsn = scenario::dsn(&w.sb, DB).unwrap();
    scenario::count_rows(&w.sb, &dsn, "users").unwrap()
}

#[test]
fn an_app_at_work() {
    let w = deployed();
    let status = w.pix(&["status"]).expect(0);
    snap!("deployed_status", status);
    let status = w.pix(&["status", "--json"]).expect(0).json();
    assert_eq!(status[0]["running"], "true");
    assert_eq!(status[0]["databases"][0], DB);

    // logs: recent lines, human and JSON
    let logs = w.pix(&["logs", APP, "--num", "5"]).expect(0);
    assert!(logs.stdout.contains("app[web.1]: "), "{}", logs.render());
    let logs = w
        .pix(&["logs", APP, "--num", "5", "--json"])
        .expect(0)
        .json();
    assert!(logs.as_array().is_some_and(|l| !l.is_empty()), "{logs}");

    // run without a terminal: a shell line (--shell), streams apart, the
    // remote's exit code
    let run = w.pix(&["run", APP, "--shell", "echo out; echo err >&2; exit 3"]);
    assert_eq!(run.code, 3, "{}", run.render());
    assert_eq!(run.stdout, "out\n");
    assert!(run.stderr.contains("err"), "{}", run.render());
    // argv: each word arrives as typed, nothing interprets it
    let run = w
        .pix(&["run", APP, "--", "echo", "two  words", "$(id);"])
        .expect(0);
    assert_eq!(run.stdout, "two  words $(id);\n");
    let run = w.pix(&[
        "run",
        APP,
        "-e",
        "GREETING=it's  here",
        "--shell",
        "echo \"$GREETING\"",
    ]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "it's  here\n"),
        "{}",
        run.render()
    );
    // a stdin stream reaches the program, and its exit code comes back
    let run = w.pix_stdin(&["run", APP, "--", "sh"], "echo hi; exit 9\n");
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (9, "hi\n"),
        "{}",
        run.render()
    );
    // and the same through the passthrough, as plain ssh would
    let raw = w.pix_stdin(&["dokku", "run", APP, "sh"], "echo hi; exit 9\n");
    assert_eq!(
        (raw.code, raw.stdout.as_str()),
        (9, "hi\n"),
        "{}",
        raw.render()
    );

    // processes
    let report = w.pix(&["ps", "report", APP]).expect(0);
    snap!("deployed_ps_report", report);
    w.pix(&["ps", "scale", APP, "web=2"]).expect(0);
    let scale = w.pix(&["ps", "scale", APP, "--json"]).expect(0).json();
    assert_eq!(scale["web"], 2);
    for action in ["stop", "start", "restart", "rebuild"] {
        let r = w.pix(&["ps", action, APP]).expect(0);
        assert!(r.stdout.starts_with('✓'), "{}", r.render());
    }
    let report = w.pix(&["ps", "report", APP, "--json"]).expect(0).json();
    assert_eq!(report[0]["running"], "true");
    assert_eq!(report[0]["processes"], 2);

    // logs -f: lines arrive while following; a closed reader ends it quietly
    let mut child = std::process::Command::new(common::pix_bin())
        .args(["--config", w.toml.to_str().unwrap(), "logs", APP, "-f"])
        .current_dir(w.dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    assert!(first.contains("[web.1]"), "{first}");
    // Dokku's colours are stripped in a pipe (rendered only on a terminal).
    assert!(!first.contains('\u{1b}'), "{first:?}");
    drop(reader);
    // more output makes the next write fail; pix must then stop by itself
    w.pix(&["ps", "restart", APP]).expect(0);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "logs -f did not stop");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.code(), Some(0));
}

#[test]
fn backup_restore_and_reset() {
    let w = deployed();
    assert_eq!(users(&w), Some(u64::from(USERS)));

    // backup of an environment: dated folder, verified
    let backup = w.pix(&["db", "backup", "development"]).expect(0);
    snap!("db_backup", backup);
    let b = w
        .pix(&["db", "backup", "development", "--json"])
        .expect(0)
        .json();
    let file = b["path"].as_str().unwrap().to_string();
    assert!(file.starts_with(w.dir.path().join("backups/development").to_str().unwrap()));
    assert!(b["entries"].as_u64().unwrap() > 0);

    // dry run: the plan, nothing changed
    let dry = w
        .pix(&["db", "reset", "development", "--dry-run"])
        .expect(0);
    snap!("reset_dry_run", dry);
    assert_eq!(users(&w), Some(u64::from(USERS)));

    // no terminal, no --yes: refused, nothing ran
    let refused = w.pix(&["db", "reset", "development"]).expect(4);
    snap!("reset_unconfirmed", refused);
    assert_eq!(users(&w), Some(u64::from(USERS)));

    // the reset, human
    let reset = w.pix(&["db", "reset", "development", "--yes"]).expect(0);
    snap!("reset_human", reset);
    assert_eq!(users(&w), Some(0), "rows gone, schema migrated");

    // restore the backup taken before: the rows are back
    let restore = w.pix(&["db", "restore", "development", &file]).expect(4);
    assert!(restore.stderr.contains("--yes"), "{}", restore.render());
    let restore = w
        .pix(&["db", "restore", "development", &file, "--yes"])
        .expect(0);
    snap!("db_restore", restore);
    assert_eq!(users(&w), Some(u64::from(USERS)));

    // the reset, JSON: the library's report
    let report = w
        .pix(&["db", "reset", "development", "--yes", "--json"])
        .expect(0);
    snap!("reset_json", report);
    let json = report.json();
    assert_eq!(json["outcome"], "completed");
    assert_eq!(users(&w), Some(0));

    // a protected environment without a terminal: refused, even with --yes
    scenario::dokku(&w.sb, &["apps:create", "api-prod"]).unwrap();
    scenario::dokku(&w.sb, &["postgres:create", "pg-prod"]).unwrap();
    scenario::dokku(&w.sb, &["postgres:link", "pg-prod", "api-prod"]).unwrap();
    for args in [
        &["db", "reset", "production"][..],
        &["db", "reset", "prod", "--yes"],
        &["db", "reset", "production", "--confirm", "pg-development"],
    ] {
        let r = w.pix(args).expect(4);
        assert!(r.stderr.contains("nothing was done"), "{}", r.render());
    }
    let r = w.pix(&["db", "reset", "production", "--yes"]).expect(4);
    snap!("reset_protected_refused", r);
    // nothing was written to production: only reads mention it
    for c in w.sb.received().unwrap() {
        let argv = c.argv_lossy();
        if argv.iter().any(|a| a == "pg-prod" || a == "api-prod") {
            let name = argv.first().cloned().unwrap_or_default();
            assert!(
                [
                    "apps:exists",
                    "postgres:exists",
                    "postgres:linked",
                    "apps:locked",
                    "apps:create",
                    "postgres:create",
                    "postgres:link"
                ]
                .contains(&name.as_str()),
                "{argv:?}"
            );
        }
    }
    let unknown = w.pix(&["db", "reset", "staging"]).expect(3);
    snap!("reset_unknown_env", unknown);
}

#[test]
fn ctrl_c_stops_a_reset_that_resume_finishes() {
    let w = deployed();
    let mut child = std::process::Command::new(common::pix_bin())
        .args([
            "--config",
            w.toml.to_str().unwrap(),
            "db",
            "reset",
            "development",
            "--yes",
        ])
        .current_dir(w.dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // interrupt once the database is gone (between destroy and create)
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "reset ended early:\n{seen}"
        );
        seen.push_str(&line);
        if line.starts_with("✓ destroy") {
            break;
        }
    }
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{seen}{rest}");
    // Without a terminal, the hint is the whole command that finishes it.
    let hint = format!(
        "`pix --config {} db reset development --resume --yes`",
        w.toml.display()
    );
    assert!(
        rest.contains(&format!("interrupted: run {hint} to finish the reset")),
        "{rest}"
    );

    // without --resume: refused, it names the same command
    let again = w.pix(&["db", "reset", "development", "--yes"]).expect(5);
    assert!(again.stderr.contains(&hint), "{}", again.render());
    // which, run as printed, finishes the reset
    let printed: Vec<&str> = hint.trim_matches('`').split_whitespace().collect();
    assert_eq!(printed[0], "pix");
    let resumed = common::run_pix(w.dir.path(), &printed[1..], &[], None).expect(0);
    assert!(resumed.stdout.contains("completed"), "{}", resumed.render());
    assert_eq!(users(&w), Some(0));
    let running = scenario::dokku(&w.sb, &["ps:report", APP, "--running"]).unwrap();
    assert_eq!(running.trim(), "true");
    assert!(
        scenario::dokku(&w.sb, &["apps:locked", APP]).is_err(),
        "lock released"
    );
}
