//! Every day-to-day command against the sandbox, human and `--json`,
//! snapshotted; errors with their exit codes; a closed stdout; no escape
//! codes off a terminal.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use std::io::Read;
use std::process::Stdio;

use common::{Run, World};
use pix_sandbox::scenario;

/// Runs and snapshots `pix ARGS` (human, then `--json` when `json`).
fn both(w: &World, name: &str, args: &[&str], json: bool, all: &mut Vec<Run>) {
    let run = w.pix(args).expect(0);
    snap!(name, run);
    all.push(run);
    if json {
        let mut j = args.to_vec();
        j.push("--json");
        let run = w.pix(&j).expect(0);
        run.json();
        snap!(format!("{name}_json"), run);
        all.push(run);
    }
}

#[test]
fn commands_human_and_json() {
    let w = World::start();
    let mut all = Vec::new();

    // apps
    both(&w, "apps_list_empty", &["apps", "list"], true, &mut all);
    both(
        &w,
        "apps_create",
        &["apps", "create", "review-1"],
        false,
        &mut all,
    );
    let again = w.pix(&["apps", "create", "review-1"]).expect(5);
    snap!("apps_create_again", again);
    both(&w, "apps_list", &["apps", "list"], true, &mut all);
    both(
        &w,
        "apps_info",
        &["apps", "info", "review-1"],
        true,
        &mut all,
    );
    let missing = w.pix(&["apps", "info", "nope"]).expect(3);
    snap!("apps_info_missing", missing);
    both(
        &w,
        "apps_lock_json",
        &["apps", "lock", "review-1", "--json"],
        false,
        &mut all,
    );
    let locked = w.pix(&["status", "--json"]).expect(0).json();
    assert_eq!(locked[0]["locked"], true);
    both(
        &w,
        "apps_unlock",
        &["apps", "unlock", "review-1"],
        false,
        &mut all,
    );

    // databases
    both(
        &w,
        "db_create",
        &["db", "create", "pg-review"],
        false,
        &mut all,
    );
    both(&w, "db_list", &["db", "list"], true, &mut all);
    both(
        &w,
        "db_link",
        &["db", "link", "pg-review", "review-1"],
        false,
        &mut all,
    );
    both(&w, "db_info", &["db", "info", "pg-review"], true, &mut all);
    let dsn = scenario::dsn(&w.sb, "pg-review").unwrap();
    let password = dsn
        .split(':')
        .nth(2)
        .unwrap()
        .split('@')
        .next()
        .unwrap()
        .to_string();
    for run in &all {
        assert!(
            !run.stdout.contains(&password),
            "password leaked:\n{}",
            run.render()
        );
    }
    let revealed = w
        .pix(&["db", "info", "pg-review", "--reveal", "--json"])
        .expect(0);
    assert_eq!(revealed.json()["dsn"], dsn.as_str());
    let revealed = w.pix(&["db", "info", "pg-review", "--reveal"]).expect(0);
    assert!(revealed.stdout.contains(&dsn), "{}", revealed.render());
    let logs = w.pix(&["db", "logs", "pg-review", "--num", "3"]).expect(0);
    assert!(!logs.stdout.is_empty(), "{}", logs.render());
    let logs = w
        .pix(&["db", "logs", "pg-review", "--num", "3", "--json"])
        .expect(0);
    assert!(logs.json().is_array(), "{}", logs.render());

    // config: any bytes in values, secrets masked
    let value = "it's  \"quoted\"\nand $HOME `x`";
    let set_arg = format!("GREETING={value}");
    both(
        &w,
        "config_set",
        &[
            "config",
            "set",
            "review-1",
            &set_arg,
            "API_TOKEN=t0ken-value",
            "--no-restart",
        ],
        false,
        &mut all,
    );
    let got = w.pix(&["config", "get", "review-1", "GREETING"]).expect(0);
    assert_eq!(got.stdout, format!("{value}\n"));
    both(
        &w,
        "config_show",
        &["config", "show", "review-1"],
        true,
        &mut all,
    );
    for run in &all {
        assert!(!run.stdout.contains("t0ken-value"), "{}", run.render());
    }
    let shown = w
        .pix(&["config", "show", "review-1", "--reveal", "--json"])
        .expect(0)
        .json();
    assert_eq!(shown["vars"]["API_TOKEN"], "t0ken-value");
    assert_eq!(shown["vars"]["GREETING"], value);
    assert_eq!(shown["vars"]["DATABASE_URL"], dsn.as_str());
    both(
        &w,
        "config_unset",
        &["config", "unset", "review-1", "GREETING", "--no-restart"],
        false,
        &mut all,
    );
    let unset = w.pix(&["config", "get", "review-1", "GREETING"]).expect(3);
    snap!("config_get_unset", unset);

    // processes
    both(
        &w,
        "ps_report",
        &["ps", "report", "review-1"],
        true,
        &mut all,
    );
    both(
        &w,
        "ps_scale_show",
        &["ps", "scale", "review-1"],
        true,
        &mut all,
    );

    // status: every app in one table
    both(&w, "status", &["status"], true, &mut all);

    // ssh keys
    both(&w, "ssh_keys_list", &["ssh-keys", "list"], true, &mut all);
    let pubkey = std::fs::read_to_string(w.sb.key_path().with_extension("pub")).unwrap();
    let keyfile = w.dir.path().join("alice.pub");
    std::fs::write(&keyfile, pubkey).unwrap();
    w.pix(&["ssh-keys", "add", "alice", keyfile.to_str().unwrap()])
        .expect(0);
    let keys = w.pix(&["ssh-keys", "list", "--json"]).expect(0).json();
    assert!(
        keys.as_array()
            .unwrap()
            .iter()
            .any(|k| k["name"] == "alice"),
        "{keys}"
    );
    w.pix(&["ssh-keys", "remove", "alice"]).expect(0);
    let not_a_key = w
        .pix(&["ssh-keys", "add", "bob", w.toml.to_str().unwrap()])
        .expect(2);
    assert!(
        not_a_key.stderr.contains("public key"),
        "{}",
        not_a_key.render()
    );

    // storage
    let mount = "/var/lib/dokku/data/storage/review-1:/app/storage";
    both(
        &w,
        "storage_mount",
        &["storage", "mount", "review-1", mount],
        false,
        &mut all,
    );
    both(
        &w,
        "storage_list",
        &["storage", "list", "review-1"],
        true,
        &mut all,
    );
    w.pix(&["storage", "unmount", "review-1", mount]).expect(0);

    // pass-through: the remote's streams and exit code
    both(
        &w,
        "dokku_apps_list",
        &["dokku", "--", "apps:list"],
        false,
        &mut all,
    );
    let exists = w.pix(&["dokku", "apps:exists", "nope"]);
    assert_ne!(exists.code, 0);
    snap!("dokku_exit_code", exists);

    // -v logs the commands, never the secrets
    let verbose = w
        .pix(&[
            "-v",
            "config",
            "set",
            "review-1",
            "SECRET_X=v3ry-secret",
            "--no-restart",
        ])
        .expect(0);
    assert!(
        verbose.stderr.contains("command=config:set"),
        "{}",
        verbose.render()
    );
    assert!(
        verbose.stderr.contains("elapsed_ms="),
        "{}",
        verbose.render()
    );
    assert!(
        !verbose.stderr.contains("v3ry-secret"),
        "{}",
        verbose.render()
    );

    // destruction needs the typed name
    let refused = w.pix(&["apps", "destroy", "review-1"]).expect(4);
    snap!("apps_destroy_refused", refused);
    let wrong = w
        .pix(&["db", "destroy", "pg-review", "--confirm", "pg-other"])
        .expect(4);
    snap!("db_destroy_wrong_name", wrong);
    both(
        &w,
        "db_unlink",
        &["db", "unlink", "pg-review", "review-1"],
        false,
        &mut all,
    );
    both(
        &w,
        "db_destroy",
        &["db", "destroy", "pg-review", "--confirm", "pg-review"],
        false,
        &mut all,
    );
    both(
        &w,
        "apps_destroy",
        &["apps", "destroy", "review-1", "--confirm", "review-1"],
        false,
        &mut all,
    );

    // off a terminal: no escape codes anywhere
    for run in &all {
        assert!(
            !run.stdout.contains('\x1b') && !run.stderr.contains('\x1b'),
            "{}",
            run.render()
        );
    }
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let w = World::start();
    for app in ["a-1", "a-2", "a-3"] {
        w.pix(&["apps", "create", app]).expect(0);
    }
    for args in [
        &["apps", "list"][..],
        &["status"],
        &["apps", "list", "--json"],
    ] {
        let mut cmd = std::process::Command::new(common::pix_bin());
        cmd.arg("--config")
            .arg(&w.toml)
            .args(args)
            .current_dir(w.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        // The reader goes away before pix writes anything (it connects first).
        drop(child.stdout.take());
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
    // and through a shell pipe, as people do it
    let line = format!(
        "{} --config {} apps list | head -1; echo \"status=${{PIPESTATUS[0]}}\"",
        common::pix_bin().display(),
        w.toml.display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &line])
        .current_dir(w.dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout, "APP\nstatus=0\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
