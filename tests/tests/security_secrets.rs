//! Secrets: a Postgres password (read from `postgres:info --dsn` over raw
//! ssh) never appears in what the library, the workflows or `pix` print or
//! write — typed values' Debug/Display/JSON, reset progress events, the
//! `--json` report, the journal, every `pix` command at `-vv` (tracing at
//! debug level on stderr), error messages — unless `--reveal` is given (the
//! positive control). Backups and journals are 0600 in 0700 folders.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod security_common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use dokku_client::postgres::LinkOptions;
use dokku_client::transport::SshTransport;
use dokku_client::Client;
use pix_ops::config::{HostOverrides, PixConfig};
use pix_ops::confirm::{ConfirmFlags, NoTerminal};
use pix_ops::connect::{connect, ConnectOptions};
use pix_ops::journal::{Journal, Strategy};
use pix_ops::progress::Progress;
use pix_ops::reset::{reset, Event, ResetOptions};
use pix_sandbox::contract::{Fault, FaultAction};
use pix_sandbox::sandbox::pix_toml::{APP, DATABASE};
use pix_sandbox::sandbox::{Sandbox, SandboxOptions};
use pix_sandbox::scenario;
use security_common::{contains, pix, ssh_config, PixRun};

/// The password of a `postgres://user:password@host:port/db` DSN.
fn password_of(dsn: &str) -> String {
    let rest = dsn.split_once("://").unwrap().1;
    let creds = rest.rsplit_once('@').unwrap().0;
    let password = creds.split_once(':').unwrap().1.to_string();
    assert!(password.len() >= 8, "a real password: {password:?}");
    password
}

#[derive(Default)]
struct Recorder(Mutex<Vec<Event>>);

impl Progress<Event> for Recorder {
    fn event(&self, event: Event) {
        self.0.lock().unwrap().push(event);
    }
}

/// Every file under `dir` (recursively).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Fails if any of `passwords` is in `bytes`.
fn assert_clean(what: &str, bytes: &[u8], passwords: &[String]) {
    for p in passwords {
        assert!(
            !contains(bytes, p.as_bytes()),
            "the password leaked in {what}:\n{}",
            String::from_utf8_lossy(bytes)
        );
    }
}

#[test]
fn a_known_password_never_appears_in_output_logs_journals_or_errors() {
    let sb = Sandbox::start(SandboxOptions::default()).expect("sandbox");
    let dir = tempfile::tempdir().unwrap();
    scenario::deploy_sample_app(&sb, dir.path(), APP, DATABASE, 5).expect("deploy");
    let toml = dir.path().join("pix.toml");
    sb.write_pix_toml(&toml).unwrap();
    let mut passwords = vec![password_of(&scenario::dsn(&sb, DATABASE).unwrap())];
    let rt = tokio::runtime::Runtime::new().unwrap();

    // The library: typed values and errors.
    rt.block_on(async {
        let c = Client::new(SshTransport::connect(ssh_config(&sb)).await.unwrap());
        let info = c.postgres_info(DATABASE).await.unwrap();
        let dsn = info.dsn.clone().expect("a DSN");
        assert_eq!(
            password_of(dsn.expose_secret()),
            passwords[0],
            "the control"
        );
        let shown = format!(
            "{info:?}{dsn}{dsn:?}{}{}",
            serde_json::to_string(&info).unwrap(),
            dsn.redacted()
        );
        assert_clean("postgres:info's typed value", shown.as_bytes(), &passwords);
        // A second service linked to the app: the link output and errors.
        c.postgres_create("pg-extra").await.unwrap();
        c.postgres_link(
            "pg-extra",
            APP,
            &LinkOptions::default().alias("EXTRA").no_restart(),
        )
        .await
        .unwrap();
        passwords.push(password_of(&scenario::dsn(&sb, "pg-extra").unwrap()));
        let err = c
            .postgres_link("pg-extra", APP, &LinkOptions::default())
            .await
            .unwrap_err();
        assert_clean(
            "a failed link's error",
            format!("{err}{err:?}").as_bytes(),
            &passwords,
        );
        c.close().await.unwrap();
    });

    // The workflow: a reset with progress events, its report and journal.
    let config = PixConfig::load(&toml).unwrap();
    let env = config
        .environment("development", &HostOverrides::default())
        .unwrap();
    let state = dir.path().join("lib-state");
    let backups = dir.path().join("lib-backups");
    let recorder = Recorder::default();
    let report = rt
        .block_on(async {
            let client = connect(&env.host_config, &ConnectOptions::default())
                .await
                .unwrap();
            let options = ResetOptions {
                strategy: Strategy::Recreate,
                dry_run: false,
                resume: false,
                no_backup: false,
                confirm: ConfirmFlags {
                    yes: true,
                    confirm: None,
                },
                backups_dir: backups.clone(),
                state_dir: state.clone(),
                command: "pix db reset development".into(),
            };
            let r = reset(&client, &env, &options, &mut NoTerminal, &recorder).await;
            client.close().await.unwrap();
            r
        })
        .expect("reset");
    // The reset made a new database: its password must not leak either.
    passwords.push(password_of(&scenario::dsn(&sb, DATABASE).unwrap()));
    let events = format!("{:?}", recorder.0.lock().unwrap());
    assert_clean("the reset's progress events", events.as_bytes(), &passwords);
    assert_clean(
        "the reset's JSON report",
        serde_json::to_string(&report).unwrap().as_bytes(),
        &passwords,
    );
    let journal = Journal::path(&state, "development");
    assert_clean("the journal", &std::fs::read(&journal).unwrap(), &passwords);
    assert_eq!(mode(&journal), 0o600, "journal mode");
    assert_eq!(
        mode(journal.parent().unwrap()),
        0o700,
        "journal folder mode"
    );
    let backup = report.backup.expect("a backup").path;
    assert_eq!(mode(&backup), 0o600, "backup mode");
    assert_eq!(mode(backup.parent().unwrap()), 0o700, "backup folder mode");

    // The CLI at -vv: every command that touches the service or the app.
    let mut runs: Vec<(String, PixRun)> = Vec::new();
    let mut run = |args: &[&str]| {
        let mut all = vec!["-vv"];
        all.extend_from_slice(args);
        let r = pix(&toml, dir.path(), &all, &[]);
        runs.push((args.join(" "), r));
    };
    for json in [false, true] {
        let commands: [&[&str]; 9] = [
            &["db", "info", DATABASE],
            &["db", "info", "development"],
            &["db", "list"],
            &["config", "show", APP],
            &["status"],
            &["apps", "info", APP],
            &["ps", "report", APP],
            &["db", "backup", "development"],
            &["db", "reset", "development", "--yes"],
        ];
        for args in commands {
            let mut args = args.to_vec();
            if json {
                args.push("--json");
            }
            run(&args);
        }
    }
    passwords.push(password_of(&scenario::dsn(&sb, DATABASE).unwrap()));
    // A reset that fails after the new database exists (post-link command).
    sb.inject_fault(Fault {
        matches: format!("run {APP}"),
        action: FaultAction::Exit {
            code: 1,
            stderr: " !     injected failure\n".into(),
        },
        times: 1,
    })
    .unwrap();
    run(&["db", "reset", "development", "--yes", "--json"]);
    passwords.push(password_of(&scenario::dsn(&sb, DATABASE).unwrap()));
    run(&["db", "reset", "development", "--dry-run"]);
    for (i, (args, r)) in runs.iter().enumerate() {
        assert_clean(&format!("pix -vv {args}"), &r.all_bytes(), &passwords);
        // Every command worked (so the search covered real output), except
        // the reset with the injected failure.
        let failed_on_purpose = i == runs.len() - 2;
        assert_eq!(r.code != 0, failed_on_purpose, "pix {args}:\n{}", r.text());
        // -vv logs every Dokku command at debug level on stderr.
        assert!(
            contains(&r.stderr, b"DEBUG"),
            "pix -vv {args} logged nothing:\n{}",
            r.text()
        );
    }
    // The search can fail: with --reveal the password is printed.
    let revealed = pix(
        &toml,
        dir.path(),
        &["db", "info", DATABASE, "--reveal"],
        &[],
    );
    let current = passwords.last().unwrap();
    assert!(
        contains(&revealed.stdout, current.as_bytes()),
        "--reveal shows the password:\n{}",
        revealed.text()
    );
    let revealed = pix(&toml, dir.path(), &["config", "show", APP, "--reveal"], &[]);
    assert!(
        contains(&revealed.stdout, current.as_bytes()),
        "{}",
        revealed.text()
    );

    // Files the CLI wrote: journals and locks hold no secret; backups and
    // journals are private.
    for file in files_under(dir.path()) {
        let name = file.to_string_lossy();
        if name.contains("/.pix/") {
            assert_clean(&name, &std::fs::read(&file).unwrap(), &passwords);
            assert_eq!(mode(&file), 0o600, "{name}");
            assert_eq!(mode(file.parent().unwrap()), 0o700, "{name}'s folder");
        }
        if name.ends_with(".dump") {
            assert_eq!(mode(&file), 0o600, "{name}");
            assert_eq!(mode(file.parent().unwrap()), 0o700, "{name}'s folder");
        }
    }
    assert!(
        files_under(dir.path())
            .iter()
            .any(|f| f.to_string_lossy().contains("/.pix/")),
        "the CLI wrote a journal"
    );
}
