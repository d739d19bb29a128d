//! The emulator reproduces the shared Dokku fixtures byte for byte.
//!
//! Every folder under the fixtures directory (`DOKKU_FIXTURES_DIR`, else
//! `../../shared/dokku/fixtures` from this crate) must be either in
//! [`covered`] (seed the state the case describes, run the emulator binary as
//! sshd would with `SSH_ORIGINAL_COMMAND` = the case's `cmd`, compare stdout,
//! stderr and exit code exactly) or in [`UNCOVERED`] with a reason. A new
//! fixture in neither list fails the test, so it forces a decision.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use pix_sandbox::contract::{EmulatorConfig, PostgresAdmin, Profile, CONFIG_FILE, RUN_DIR};
use pix_sandbox::emulator::state::{write_json, AppState, Layout, ServiceState};

/// The emulator binary (built by cargo for this test run).
static EMULATOR_BIN: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    pix_sandbox::sandbox::find_emulator_bin()
        .expect("the dokku-emulator binary")
        .to_string_lossy()
        .into_owned()
});

fn emulator() -> &'static str {
    EMULATOR_BIN.as_str()
}

/// Cases the emulator does not reproduce, and why.
const UNCOVERED: &[(&str, &str)] = &[
    ("apps-create-0.4.14", "dokku 0.4.14 era: not a modelled profile"),
    ("config-set-0.4.14", "dokku 0.4.14 era: not a modelled profile"),
    ("error-unknown-command-0.4.14", "dokku 0.4.14 era: not a modelled profile"),
    ("ls-0.4.14", "dokku 0.4.14 era: `ls` was removed in 0.12.0"),
    ("client-remote-show", "runs only in the official client, on the local machine"),
    (
        "postgres-create",
        "needs the real cluster, and the password and container id are random; the sandbox's end-to-end tests create real services",
    ),
    (
        "postgres-connect-piped",
        "needs a real database to run psql against; covered by the sandbox's end-to-end tests",
    ),
    ("postgres-export-binary", "synthetic, truncated dump: a real pg_dump archive differs"),
    (
        "postgres-import-tty",
        "needs a terminal on stdin (ssh -t) whose pty merges the streams and writes CRLF",
    ),
    ("run-detached", "the container name ends in bash $RANDOM"),
];

/// The profile a case models.
fn profile_for(models_dokku: &str) -> Option<Profile> {
    match models_dokku {
        "0.38.27" => Some(Profile::V0_38),
        // The 0.37.10 cases exercise only the bash git:report (0.38.0 changed
        // it), which profile 0.30 models with the same rows and rules.
        "0.37.10" => Some(Profile::V0_30),
        v if v.starts_with("0.30") => Some(Profile::V0_30),
        v if v.starts_with("0.19") => Some(Profile::V0_19),
        _ => None,
    }
}

const SHA: &str = "2f6d3c9a8b7e4f1d0c5b6a7e8f9d0c1b2a3e4f5d";
const PASSWORD: &str = "6f1d2c3b4a5e6f708192a3b4c5d6e7f8";
const SERVICE_ID: &str = "9c1e5a7b3d2f4e6a8b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a";

/// Seeds a state directory for one case.
struct Seed {
    layout: Layout,
    profile: Profile,
    /// Processes standing for running containers (reaped after the case).
    children: std::cell::RefCell<Vec<std::process::Child>>,
}

impl Seed {
    fn config(&self) {
        let cfg = EmulatorConfig {
            profile: self.profile,
            global_vhost: "dokku.example.com".into(),
            postgres: PostgresAdmin {
                host: "127.0.0.1".into(),
                port: 1,
                superuser: "postgres".into(),
                password: String::new(),
                bin_dir: PathBuf::from("/nonexistent"),
            },
            git_bin_dir: None,
            emulator_bin: PathBuf::from(emulator()),
        };
        write_json(&self.layout.root.join(CONFIG_FILE), &cfg).unwrap();
    }

    /// The fixtures' usual `myapp`: created, deployed from git.
    fn myapp() -> AppState {
        AppState {
            created_at: 1717171717,
            deploy_source: "git-push".into(),
            deploy_source_metadata: SHA.into(),
            git_sha: SHA.into(),
            git_last_updated_at: "1718123456".into(),
            deploy_branch: "main".into(),
            ..Default::default()
        }
    }

    fn app(&self, name: &str, st: &AppState) {
        write_json(&self.layout.app_file(name), st).unwrap();
    }

    fn env(&self, name: &str, vars: &[(&str, &str)]) {
        let map: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        write_json(&self.layout.env_file(name), &map).unwrap();
    }

    /// A deployed app whose tree has this Procfile.
    fn deployed(&self, name: &str, procfile: &str, containers: &[(&str, &str)]) -> AppState {
        let tree = self.layout.tree_dir(name);
        std::fs::create_dir_all(&tree).unwrap();
        std::fs::write(tree.join("Procfile"), procfile).unwrap();
        let mut st = Seed::myapp();
        st.deployed = true;
        st.procfile = procfile
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        st.containers = containers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.app(name, &st);
        st
    }

    /// Starts a real process standing for a container and records its pid.
    fn running(&self, app: &str, instance: &str) {
        let child = Command::new("sleep")
            .arg("60")
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let pid = self.layout.pid_file(app, instance);
        std::fs::create_dir_all(pid.parent().unwrap()).unwrap();
        std::fs::write(pid, format!("{}\n", child.id())).unwrap();
        self.children.borrow_mut().push(child);
    }

    fn service(&self, name: &str, links: &[&str], exposed: &str) {
        let s = ServiceState {
            user: "postgres".into(),
            password: PASSWORD.into(),
            host: format!("dokku-postgres-{name}"),
            port: 5432,
            database: name.replace(['.', '-'], "_"),
            id: SERVICE_ID.into(),
            internal_ip: "172.17.0.3".into(),
            version: "postgres:18.4".into(),
            exposed_ports: exposed.into(),
            status: "running".into(),
            links: links.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        write_json(&self.layout.service_file(name), &s).unwrap();
    }

    fn dsn() -> String {
        format!("postgres://postgres:{PASSWORD}@dokku-postgres-lollipop:5432/lollipop")
    }

    /// Runs an emulator command to build state (must succeed).
    fn run(&self, args: &[&str]) {
        let out = Command::new(emulator())
            .arg("--root")
            .arg(&self.layout.root)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "seed command {args:?} failed: {out:?}"
        );
    }

    fn logs(&self, app: &str, instance: &str, lines: &[&str]) {
        let dir = self.layout.logs_dir(app);
        std::fs::create_dir_all(&dir).unwrap();
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(dir.join(format!("{instance}.log")), text).unwrap();
    }
}

/// The seed (and stdin) of every covered case.
fn covered(case: &str, s: &Seed) -> Option<&'static [u8]> {
    let mut stdin: &'static [u8] = b"";
    match case {
        "apps-create-basic"
        | "apps-create-invalid-name"
        | "apps-list-empty"
        | "postgres-list-empty"
        | "version-current"
        | "error-app-missing"
        | "error-app-missing-config-show" => {}
        "apps-create-already-exists"
        | "apps-exists-true"
        | "apps-lock"
        | "apps-locked-false"
        | "apps-report-basic"
        | "apps-report-flag-with-format"
        | "apps-report-invalid-flag"
        | "apps-report-json"
        | "apps-report-single-flag"
        | "apps-destroy-force"
        | "config-export-json-list-empty"
        | "config-get-missing"
        | "config-set-encoded"
        | "config-set-invalid-key"
        | "config-set-no-restart"
        | "config-show-empty"
        | "git-report-basic"
        | "git-report-0.37.10-empty-flag"
        | "git-report-0.37.10-format-json"
        | "logs-not-deployed"
        | "ps-restart-not-deployed" => s.app("myapp", &Seed::myapp()),
        "apps-destroy-confirm-mismatch" => {
            s.app("myapp", &Seed::myapp());
            stdin = b"wrong\n";
        }
        "apps-destroy-no-stdin" => s.app("myapp", &Seed::myapp()),
        "apps-list-basic" | "apps-list-json" => {
            for a in ["myapp", "staging.web", "api"] {
                s.run(&["apps:create", a]);
            }
        }
        "apps-unlock-when-locked" => {
            s.app("myapp", &Seed::myapp());
            s.run(&["apps:lock", "myapp"]);
        }
        "config-export-envfile" => {
            s.app("myapp", &Seed::myapp());
            s.run(&[
                "config:set",
                "--no-restart",
                "myapp",
                "EMPTY=",
                "PADDED=  padded  ",
                "QUERY=a=1&b=<2>",
            ]);
            s.run(&[
                "config:set",
                "--no-restart",
                "myapp",
                "ZERO_PAD=007",
                "MULTI=line1\nline2",
            ]);
        }
        "config-export-exports" | "config-export-shell" => {
            s.app("myapp", &Seed::myapp());
            s.run(&[
                "config:set",
                "--no-restart",
                "myapp",
                "GREETING=héllo wörld ✓",
                "MOTTO=it's fine",
                "PORT=5000",
            ]);
        }
        "config-get-padded" => {
            s.app("myapp", &Seed::myapp());
            s.env("myapp", &[("PADDED", "  padded  ")]);
        }
        "config-show-global-quiet" => {
            s.run(&[
                "config:set",
                "--global",
                "CURL_TIMEOUT=60",
                "DOKKU_RM_CONTAINER=1",
            ]);
        }
        "config-unset" => {
            s.app("myapp", &Seed::myapp());
            s.env("myapp", &[("DEBUG", "true")]);
        }
        "config-set-restart" => {
            let mut st = s.deployed("myapp", "web: sleep 60\n", &[("web.1", &"a".repeat(64))]);
            st.vhosts = Some(vec![
                "myapp.dokku.example.com".into(),
                "www.example.com".into(),
            ]);
            st.tls_vhosts = vec!["www.example.com".into()];
            s.app("myapp", &st);
        }
        "domains-report-basic" => {
            let mut st = Seed::myapp();
            st.vhosts = Some(vec![
                "myapp.dokku.example.com".into(),
                "www.example.com".into(),
            ]);
            s.app("myapp", &st);
        }
        "logs-basic" => {
            s.deployed(
                "myapp",
                "web: x\nworker: y\n",
                &[("web.1", "1"), ("worker.1", "2")],
            );
            s.logs(
                "myapp",
                "web.1",
                &[
                    "2026-08-21T10:15:00.000000000Z GET /health 200 1ms",
                    "2026-08-21T10:15:01.123456789Z GET / 200 12ms",
                    "2026-08-21T10:15:02.000000001Z POST /login 302",
                ],
            );
            s.logs(
                "myapp",
                "worker.1",
                &[
                    "2026-08-21T10:14:59.000000000Z job 41: done",
                    "2026-08-21T10:15:01.200000000Z job 42: done (took 1.2s)",
                    "2026-08-21T10:15:03.999999999Z \x1b[1mbold app output\x1b[0m",
                ],
            );
        }
        "postgres-backup-schedule-cat" => {
            s.service("lollipop", &[], "");
            s.run(&[
                "postgres:backup-schedule",
                "lollipop",
                "0 3 * * *",
                "my-backups",
            ]);
        }
        "postgres-backup-schedule-cat-none"
        | "postgres-create-exists"
        | "postgres-exists"
        | "postgres-destroy-force"
        | "postgres-info-config-options-empty"
        | "postgres-info-dsn"
        | "postgres-info-invalid-flag"
        | "postgres-info-status-flag" => s.service("lollipop", &[], ""),
        "postgres-destroy-confirm-eof" => s.service("lollipop", &[], ""),
        "postgres-destroy-confirm-mismatch" => {
            s.service("lollipop", &[], "");
            stdin = b"nope\n";
        }
        "postgres-info-exposed-flag" => s.service("lollipop", &[], "5432->35432"),
        "postgres-info-links-flag" => s.service("lollipop", &["api-server", "worker-app"], ""),
        "postgres-info-quiet" | "postgres-info-running" => s.service("lollipop", &["myapp"], ""),
        "postgres-link" => {
            s.service("lollipop", &[], "");
            s.app("myapp", &Seed::myapp());
        }
        "postgres-link-alias-querystring" => {
            s.service("lollipop", &[], "");
            s.app("reporting", &Seed::myapp());
        }
        "postgres-link-already-linked" => {
            s.service("lollipop", &["myapp"], "");
            s.app("myapp", &Seed::myapp());
            s.env("myapp", &[("DATABASE_URL", &Seed::dsn())]);
        }
        "postgres-unlink" => {
            s.service("lollipop", &["myapp"], "");
            s.app("myapp", &Seed::myapp());
            s.env("myapp", &[("DATABASE_URL", &Seed::dsn())]);
        }
        "postgres-list-basic" => {
            for n in ["orders-db", "lollipop", "analytics"] {
                s.service(n, &[], "");
            }
        }
        "ps-report-json" | "ps-report-running" | "ps-report-single-flag" => {
            s.deployed(
                "myapp",
                "web: sleep 60\nworker: sleep 60\n",
                &[
                    ("web.1", "5b0c2a1f9e3d4c5b6a7980"),
                    ("web.2", "8e1d4c7b2a6f"),
                    ("worker.1", "c3f9a0b7d21e"),
                ],
            );
            for i in ["web.1", "web.2", "worker.1"] {
                s.running("myapp", i);
            }
        }
        "ps-restart-deploy" => {
            s.deployed("myapp", "web: sleep 60\n", &[("web.1", &"b".repeat(64))]);
        }
        "ps-scale-quiet" => {
            let mut st = Seed::myapp();
            st.formation = [("web".to_owned(), 2), ("worker".to_owned(), 1)].into();
            s.app("myapp", &st);
        }
        "ps-scale-show" => {
            let mut st = Seed::myapp();
            st.formation = [
                ("web".to_owned(), 2),
                ("worker".to_owned(), 1),
                ("cron-worker".to_owned(), 0),
            ]
            .into();
            s.app("myapp", &st);
        }
        "ps-start-already-running" => {
            s.deployed("myapp", "web: sleep 60\n", &[("web.1", "5b0c2a1f9e3d")]);
            s.running("myapp", "web.1");
        }
        "ps-stop" => {
            s.deployed("myapp", "web: sleep 60\n", &[("web.1", "5b0c2a1f9e3d")]);
            s.running("myapp", "web.1");
        }
        "run-basic" => {
            s.deployed("myapp", "web: sleep 60\n", &[]);
        }
        "run-procfile-key" => {
            // A script, as real apps have: herokuish's `/exec` re-splits a
            // Procfile command's words, so a quoted format string with
            // spaces would not survive it (tests/dokku-emulator/src/run.rs).
            s.deployed("myapp", "web: sleep 60\nmigrate: sh migrate.sh\n", &[]);
            std::fs::write(
                s.layout.tree_dir("myapp").join("migrate.sh"),
                "printf '== 20240101000000 CreateUsers: migrating ==\\n-- create_table(:users)\\n'\n",
            )
            .unwrap();
        }
        _ => return None,
    }
    Some(stdin)
}

/// Kills the process groups recorded under `run/` (as the sandbox does).
fn kill_recorded(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root.join(RUN_DIR)) else {
        return;
    };
    for e in entries.flatten() {
        if let Ok(text) = std::fs::read_to_string(e.path()) {
            if let Ok(pgid) = text.trim().parse::<i32>() {
                if pgid > 1 {
                    let _ = nix::sys::signal::killpg(
                        nix::unistd::Pid::from_raw(pgid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
            }
        }
    }
}

fn fixtures_dir() -> PathBuf {
    match std::env::var_os("DOKKU_FIXTURES_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/dokku/fixtures"),
    }
}

/// Seeds, runs and compares one case; returns a description of any mismatch.
fn check_case(dir: &Path) -> Result<bool, String> {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    let models = expected["models"]["dokku"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let root = tempfile::tempdir().unwrap();
    let Some(profile) = profile_for(&models) else {
        return Err(format!(
            "{name}: models dokku {models:?}, which no profile covers; list it as uncovered"
        ));
    };
    let seed = Seed {
        layout: Layout::new(root.path()),
        profile,
        children: Default::default(),
    };
    seed.config();
    let Some(stdin) = covered(&name, &seed) else {
        return Ok(false);
    };
    let cmd = std::fs::read_to_string(dir.join("cmd")).unwrap();
    let cmd = cmd.strip_suffix('\n').unwrap_or(&cmd);
    let mut child = Command::new(emulator())
        .arg("--root")
        .arg(root.path())
        .env("SSH_ORIGINAL_COMMAND", cmd)
        .env_remove("DOKKU_EMULATOR_ROOT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    kill_recorded(root.path());
    for mut c in seed.children.take() {
        let _ = c.kill();
        let _ = c.wait();
    }
    let want_out = std::fs::read(dir.join("stdout")).unwrap();
    let want_err = std::fs::read(dir.join("stderr")).unwrap();
    let want_code: i32 = std::fs::read_to_string(dir.join("exit_code"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut problems = Vec::new();
    if out.stdout != want_out {
        problems.push(format!(
            "stdout\n  want {:?}\n  got  {:?}",
            String::from_utf8_lossy(&want_out),
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    if out.stderr != want_err {
        problems.push(format!(
            "stderr\n  want {:?}\n  got  {:?}",
            String::from_utf8_lossy(&want_err),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    if out.status.code() != Some(want_code) {
        problems.push(format!(
            "exit code: want {want_code}, got {:?}",
            out.status.code()
        ));
    }
    if problems.is_empty() {
        Ok(true)
    } else {
        Err(format!("{name} ({cmd}):\n{}", problems.join("\n")))
    }
}

#[test]
fn emulator_reproduces_the_fixtures() {
    let dir = fixtures_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        panic!(
            "no fixtures at {}; set DOKKU_FIXTURES_DIR to the shared/dokku/fixtures directory",
            dir.display()
        );
    };
    let mut cases: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("cmd").exists())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases under {}", dir.display());
    let mut failures = Vec::new();
    let mut reproduced = 0;
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let uncovered = UNCOVERED.iter().any(|(n, _)| *n == name);
        if uncovered {
            continue;
        }
        match check_case(case) {
            Ok(true) => reproduced += 1,
            Ok(false) => failures.push(format!(
                "{name}: neither reproduced nor listed as uncovered; add a seed or a reason"
            )),
            Err(e) => failures.push(e),
        }
    }
    for (n, _) in UNCOVERED {
        if !cases.iter().any(|c| c.file_name().is_some_and(|f| f == *n)) {
            eprintln!("note: uncovered case {n} is not in {}", dir.display());
        }
    }
    eprintln!(
        "{reproduced} cases reproduced, {} uncovered",
        UNCOVERED.len()
    );
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
