//! The sandbox itself, over the real `ssh` client: plumbing (sshd, forced
//! command, login user, PostgreSQL, proxy, teardown) with a stand-in forced
//! command, then every command family, postgres export/import, git push and
//! faults with the real emulator.

// Test helpers outside `#[test]` functions unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use pix_sandbox::contract::{Fault, FaultAction, Profile};
use pix_sandbox::sandbox::{procs, Sandbox, SandboxOptions};
use pix_sandbox::target;

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

fn sample_app() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-app")
}

fn start(profile: Profile) -> Sandbox {
    Sandbox::start(SandboxOptions::profile(profile).with_emulator(emulator())).unwrap()
}

/// A stand-in forced command (a shell script) for the plumbing tests, which
/// must not depend on the emulator's behaviour.
fn fake_emulator(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("fake-emulator");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn start_fake(body: &str, proxy: bool) -> (Sandbox, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake_emulator(dir.path(), body);
    let mut options = SandboxOptions::default().with_emulator(fake);
    options.proxy = proxy;
    (Sandbox::start(options).unwrap(), dir)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a command over ssh and checks its exit code and that stdout contains
/// each expected piece; returns the output.
#[track_caller]
fn check(sb: &Sandbox, args: &[&str], code: i32, stdout_has: &[&str]) -> Output {
    let out = sb.ssh(args).unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(code),
        "`{}`: exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        args.join(" "),
        out.status.code()
    );
    for piece in stdout_has {
        assert!(
            stdout.contains(piece),
            "`{}`: stdout lacks {piece:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
            args.join(" ")
        );
    }
    out
}

fn stdout_of(sb: &Sandbox, args: &[&str]) -> String {
    text(&check(sb, args, 0, &[]).stdout)
}

fn psql_at(dsn: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", dsn, "-c", sql])
        .output()
        .unwrap();
    assert!(out.status.success(), "psql {sql}: {}", text(&out.stderr));
    text(&out.stdout).trim().to_string()
}

// ---------------------------------------------------------------- plumbing

#[test]
fn forced_command_gets_the_original_command_as_the_login_user() {
    let (sb, _dir) = start_fake(
        r#"printf 'cmd=%s\n' "$SSH_ORIGINAL_COMMAND"; printf 'user=%s\n' "$(id -un)"; printf 'args=%s\n' "$*"
printf 'name=%s fp=%s\n' "$NAME" "$FINGERPRINT"
cat "$2/emulator.json" >/dev/null && echo config=readable"#,
        false,
    );
    let out = check(&sb, &["apps:list", "--quiet", "x y"], 0, &[]);
    let stdout = text(&out.stdout);
    let expected_user = if nix::unistd::Uid::effective().is_root() {
        "dokku".to_string()
    } else {
        sb.user().to_string()
    };
    assert_eq!(sb.user(), expected_user);
    assert!(stdout.contains("cmd=apps:list --quiet x y\n"), "{stdout}");
    assert!(
        stdout.contains(&format!("user={expected_user}\n")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("args=--root {}\n", sb.root().display())),
        "{stdout}"
    );
    assert!(stdout.contains("config=readable"), "{stdout}");
    assert!(stdout.contains("name=default fp=SHA256:"), "{stdout}");
    let debug = format!("{sb:?}");
    assert!(
        !debug.contains(&sb.postgres_admin().password),
        "no password in Debug: {debug}"
    );
    // The config names the cluster and the emulator's own copy.
    let config: pix_sandbox::contract::EmulatorConfig =
        serde_json::from_str(&std::fs::read_to_string(sb.root().join("emulator.json")).unwrap())
            .unwrap();
    assert_eq!(config.postgres.port, sb.pg_port());
    assert_eq!(config.emulator_bin, sb.emulator_bin());
    assert_eq!(config.profile, Profile::V0_38);
    assert!(sb.emulator_bin().starts_with(sb.dir()));
}

#[test]
fn the_host_key_is_pinned_and_a_wrong_key_is_refused() {
    let (sb, dir) = start_fake("echo ok", false);
    let kh = std::fs::read_to_string(sb.known_hosts_path()).unwrap();
    assert!(
        kh.starts_with(&format!("[127.0.0.1]:{} ssh-ed25519 ", sb.sshd_port())),
        "{kh}"
    );
    // Another key is refused (BatchMode: no prompt, exit 255).
    let other = dir.path().join("other");
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other)
        .status()
        .unwrap();
    assert!(st.success());
    let out = sb
        .ssh_command()
        .args(["-i"])
        .arg(&other)
        .arg("version")
        .output()
        .unwrap();
    // ssh uses the first -i given (the sandbox key) and then the other; make
    // a command with only the other key instead.
    let _ = out;
    let out = Command::new("ssh")
        .args(["-F", "/dev/null", "-i"])
        .arg(&other)
        .args(["-p", &sb.port().to_string(), "-o"])
        .arg(format!(
            "UserKnownHostsFile={}",
            sb.known_hosts_path().display()
        ))
        .args([
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
        ])
        .arg(format!("{}@127.0.0.1", sb.user()))
        .arg("version")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255), "{}", text(&out.stderr));
    // The copy-paste line works.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("{} version", sb.ssh_line()))
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), "ok\n", "{}", text(&out.stderr));
}

#[test]
fn postgres_cluster_takes_the_superuser_password_and_the_sample_app_migrates_and_seeds() {
    let (sb, _dir) = start_fake("true", false);
    let admin = sb.postgres_admin();
    let out = sb
        .psql("postgres")
        .args(["-c", "create database sample"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dsn = format!(
        "postgres://{}:{}@127.0.0.1:{}/sample",
        admin.superuser,
        admin.password,
        sb.pg_port()
    );
    // A wrong password is refused over TCP.
    let bad = Command::new("psql")
        .args(["-X", "-c", "select 1"])
        .arg(format!(
            "postgres://{}:wrong@127.0.0.1:{}/sample",
            admin.superuser,
            sb.pg_port()
        ))
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let run = |script: &str, args: &[&str]| {
        let out = Command::new("sh")
            .arg(sample_app().join(script))
            .args(args)
            .env("DATABASE_URL", &dsn)
            .output()
            .unwrap();
        assert!(out.status.success(), "{script}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    for _ in 0..2 {
        assert!(run("migrate.sh", &[]).contains("schema up to date (2 migrations)"));
    }
    assert!(run("seed.sh", &["5"]).contains("users=5"));
    assert!(run("seed.sh", &["7"]).contains("users=7"));
    assert_eq!(
        psql_at(&dsn, "select count(*) from certification_courses"),
        "7"
    );
    // Migrations without a database fail and say why.
    let out = Command::new("sh")
        .arg(sample_app().join("migrate.sh"))
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("DATABASE_URL is not set"));
}

#[test]
fn faults_are_written_as_sortable_files_the_login_user_owns() {
    let (sb, _dir) = start_fake("true", false);
    let faults: Vec<Fault> = (0..12)
        .map(|i| Fault {
            matches: format!("apps:list {i}"),
            action: FaultAction::Exit {
                code: i,
                stderr: "boom".into(),
            },
            times: 1,
        })
        .collect();
    let paths: Vec<PathBuf> = faults
        .iter()
        .map(|f| sb.inject_fault(f.clone()).unwrap())
        .collect();
    let mut names: Vec<String> = std::fs::read_dir(sb.root().join("faults"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let expected: Vec<String> = paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names, expected,
        "files sort in injection order, no temp files left"
    );
    for (path, fault) in paths.iter().zip(&faults) {
        let back: Fault = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(&back, fault);
        use std::os::unix::fs::MetadataExt;
        assert_eq!(std::fs::metadata(path).unwrap().uid(), sb.login_user().uid);
    }
    assert_eq!(sb.pending_faults(), 12);
    assert!(sb.received().unwrap().is_empty());
}

#[test]
fn pix_toml_describes_the_sandbox() {
    let (sb, dir) = start_fake("true", true);
    let path = dir.path().join("pix.toml");
    sb.write_pix_toml(&path).unwrap();
    let config = pix_ops::config::PixConfig::load(&path).unwrap();
    let host = &config.hosts["sandbox"];
    assert_eq!(host.address, "127.0.0.1");
    assert_eq!(host.port, Some(sb.port()));
    assert_ne!(
        sb.port(),
        sb.sshd_port(),
        "the proxy's port when the proxy is on"
    );
    assert_eq!(host.user, sb.user());
    assert_eq!(host.key.as_deref(), Some(sb.key_path().as_path()));
    assert_eq!(
        host.known_hosts.as_deref(),
        Some(sb.known_hosts_path().as_path())
    );
    let env = &config.environments["development"];
    assert_eq!(
        (env.host.as_str(), env.app.as_str(), env.database.as_str()),
        ("sandbox", "api-development", "pg-development")
    );
    assert!(!env.protected);
}

fn min_time(mut f: impl FnMut(), n: usize) -> Duration {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap()
}

#[test]
fn the_proxy_adds_the_delay_it_is_given_and_cuts_connections() {
    let (sb, _dir) = start_fake(
        r#"case "$SSH_ORIGINAL_COMMAND" in hang) echo started; sleep 60;; *) echo pong;; esac"#,
        true,
    );
    let proxy = sb.proxy().unwrap();
    let ping = |port: u16| {
        let out = sb.ssh_command_to(port).arg("ping").output().unwrap();
        assert_eq!(text(&out.stdout), "pong\n", "{}", text(&out.stderr));
    };
    let direct = min_time(|| ping(sb.sshd_port()), 3);
    let through_no_delay = min_time(|| ping(sb.port()), 3);
    let delay = Duration::from_millis(150);
    proxy.set_round_trip_delay(delay);
    let delayed = min_time(|| ping(sb.port()), 2);
    // An ssh command takes several round trips (key exchange, auth, channel):
    // at least one full added round trip must show.
    assert!(delayed >= delay, "delayed {delayed:?} < {delay:?}");
    assert!(
        delayed >= through_no_delay + delay,
        "direct {direct:?}, proxy without delay {through_no_delay:?}, with {delay:?}: {delayed:?}"
    );
    assert!(proxy.connections() >= 5);

    // cut_all drops a live session: ssh ends with 255 well before the command would.
    proxy.set_round_trip_delay(Duration::ZERO);
    let mut child = sb
        .ssh_command()
        .arg("hang")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 8];
    use std::io::Read;
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    assert_eq!(&first, b"started\n");
    let t = Instant::now();
    proxy.cut_all();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(255));
    assert!(t.elapsed() < Duration::from_secs(10));
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn drop_leaves_no_process_behind() {
    // The stand-in starts a detached "app" (own session and process group,
    // listed in run/), and a command that is still running at drop.
    let (sb, _dir) = start_fake(
        r#"root="$2"
case "$SSH_ORIGINAL_COMMAND" in
  start)
    setsid sh -c 'echo $$ > "$1/run/web.pid"; exec sleep 600' _ "$root" </dev/null >/dev/null 2>&1 &
    while [ ! -s "$root/run/web.pid" ]; do sleep 0.05; done
    echo started;;
  hang) echo hanging; exec sleep 600;;
esac"#,
        false,
    );
    check(&sb, &["start"], 0, &["started"]);
    let mut hanging = sb
        .ssh_command()
        .arg("hang")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = [0u8; 8];
    use std::io::Read;
    hanging
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut line)
        .unwrap();
    let pids = sb.pids();
    assert_eq!(pids.apps.len(), 1, "{pids:?}");
    let mut known: BTreeSet<i32> = sb.processes();
    known.extend(pids.sshd);
    known.extend(pids.postgres);
    known.extend(pids.apps.iter().copied());
    assert!(
        known.len() >= 6,
        "sshd, its session, the command, postgres and its workers, the app: {known:?}"
    );
    let dir = sb.dir().to_path_buf();
    drop(sb);
    let alive: Vec<i32> = known
        .iter()
        .copied()
        .filter(|p| procs::is_alive(*p))
        .collect();
    let describe: Vec<String> = alive
        .iter()
        .map(|p| {
            let cmd = std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default();
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            format!(
                "{p}: {} [{stat}]",
                String::from_utf8_lossy(&cmd).replace('\0', " ")
            )
        })
        .collect();
    assert!(alive.is_empty(), "still alive after drop: {describe:#?}");
    assert!(procs::sandbox_processes(&[], &dir).is_empty());
    assert!(!dir.exists(), "the sandbox directory is removed");
    // The client saw its connection end.
    let status = hanging.wait().unwrap();
    assert!(!status.success());
}

#[test]
fn drop_cleans_up_after_a_panicking_test() {
    let dir_slot = std::sync::Arc::new(std::sync::Mutex::new(None::<(PathBuf, BTreeSet<i32>)>));
    let slot = dir_slot.clone();
    let result = std::thread::spawn(move || {
        let (sb, _dir) = start_fake("true", true);
        *slot.lock().unwrap() = Some((sb.dir().to_path_buf(), sb.processes()));
        panic!("a failing test");
    })
    .join();
    assert!(result.is_err());
    let (dir, pids) = dir_slot.lock().unwrap().take().unwrap();
    assert!(!pids.is_empty());
    assert!(pids.iter().all(|p| !procs::is_alive(*p)), "{pids:?}");
    assert!(!dir.exists());
}

// ------------------------------------------------------ with the emulator

#[test]
fn each_command_family_works_over_raw_ssh() {
    let sb = start(Profile::V0_38);
    check(&sb, &["version"], 0, &["dokku version 0.38.27"]);
    check(&sb, &["help"], 0, &[]);
    check(&sb, &["apps:create", "shop"], 0, &[]);
    check(&sb, &["apps:list"], 0, &["shop"]);
    check(&sb, &["apps:exists", "shop"], 0, &[]);
    let missing = check(&sb, &["apps:exists", "nope"], 20, &[]);
    assert!(
        text(&missing.stderr).contains("App nope does not exist"),
        "{}",
        text(&missing.stderr)
    );
    check(
        &sb,
        &["apps:report", "shop"],
        0,
        &["=====> shop app information"],
    );
    check(&sb, &["apps:lock", "shop"], 0, &[]);
    check(&sb, &["apps:locked", "shop"], 0, &[]);
    check(&sb, &["apps:unlock", "shop"], 0, &[]);
    check(&sb, &["apps:locked", "shop"], 1, &[]);
    check(
        &sb,
        &[
            "config:set",
            "--no-restart",
            "shop",
            "GREETING='hello world'",
        ],
        0,
        &[],
    );
    assert_eq!(
        stdout_of(&sb, &["config:get", "shop", "GREETING"]),
        "hello world\n"
    );
    check(&sb, &["config:show", "shop"], 0, &["GREETING:"]);
    check(&sb, &["config:export", "shop"], 0, &["export GREETING="]);
    check(
        &sb,
        &["config:unset", "--no-restart", "shop", "GREETING"],
        0,
        &[],
    );
    check(&sb, &["config:get", "shop", "GREETING"], 1, &[]);
    check(
        &sb,
        &["ps:report", "shop"],
        0,
        &["=====> shop ps information"],
    );
    check(
        &sb,
        &["domains:report", "shop"],
        0,
        &["shop domains information"],
    );
    check(&sb, &["git:report", "shop"], 0, &["shop git information"]);
    check(&sb, &["storage:list", "shop"], 0, &[]);
    check(&sb, &["ssh-keys:list"], 0, &[]);
    check(&sb, &["plugin:list"], 0, &["postgres"]);
    check(&sb, &["logs", "shop"], 1, &[]);
    check(
        &sb,
        &["postgres:create", "shopdb"],
        0,
        &["Postgres container created: shopdb"],
    );
    check(&sb, &["postgres:exists", "shopdb"], 0, &[]);
    check(&sb, &["postgres:list"], 0, &["shopdb"]);
    let dsn = stdout_of(&sb, &["postgres:info", "shopdb", "--dsn"]);
    assert!(dsn.starts_with("postgres://"), "{dsn}");
    assert_eq!(psql_at(dsn.trim(), "select 40 + 2"), "42");
    check(
        &sb,
        &["postgres:link", "shopdb", "shop"],
        0,
        &["DATABASE_URL"],
    );
    check(&sb, &["postgres:linked", "shopdb", "shop"], 0, &[]);
    assert_eq!(
        stdout_of(&sb, &["config:get", "shop", "DATABASE_URL"]).trim(),
        dsn.trim()
    );
    let destroy_linked = sb.ssh(&["--force", "postgres:destroy", "shopdb"]).unwrap();
    assert_ne!(
        destroy_linked.status.code(),
        Some(0),
        "a linked service is not destroyed"
    );
    check(&sb, &["postgres:unlink", "shopdb", "shop"], 0, &[]);
    check(&sb, &["postgres:linked", "shopdb", "shop"], 1, &[]);
    check(&sb, &["--force", "postgres:destroy", "shopdb"], 0, &[]);
    check(&sb, &["postgres:exists", "shopdb"], 1, &[]);
    check(&sb, &["--force", "apps:destroy", "shop"], 0, &[]);
    check(&sb, &["apps:exists", "shop"], 20, &[]);
    // Every command reached the emulator as sent.
    let received = sb.received().unwrap();
    assert!(
        received
            .iter()
            .any(|r| r.argv_lossy() == ["config:get", "shop", "GREETING"]),
        "{received:?}"
    );
}

#[test]
fn older_profiles_report_their_version() {
    for (profile, version) in [
        (Profile::V0_30, "dokku version 0.30."),
        (Profile::V0_19, "dokku version 0.19."),
    ] {
        let sb = start(profile);
        check(&sb, &["version"], 0, &[version]);
        let out = check(
            &sb,
            &["apps:exists", "nope"],
            if profile == Profile::V0_19 { 1 } else { 20 },
            &[],
        );
        assert!(text(&out.stderr).contains("App nope does not exist"));
    }
}

#[test]
fn postgres_export_then_import_round_trips_rows() {
    let sb = start(Profile::V0_38);
    check(&sb, &["postgres:create", "roundtrip"], 0, &[]);
    let dsn = stdout_of(&sb, &["postgres:info", "roundtrip", "--dsn"])
        .trim()
        .to_string();
    psql_at(&dsn, "create table items (id int primary key, name text); insert into items select g, 'item ' || g from generate_series(1, 250) g");
    let export = sb.ssh(&["postgres:export", "roundtrip"]).unwrap();
    assert!(export.status.success(), "{}", text(&export.stderr));
    assert!(
        export.stdout.starts_with(b"PGDMP"),
        "a pg_dump custom archive"
    );
    psql_at(&dsn, "drop table items");
    let mut import = sb
        .ssh_command()
        .args(["postgres:import", "roundtrip"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    import
        .stdin
        .take()
        .unwrap()
        .write_all(&export.stdout)
        .unwrap();
    let out = import.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        psql_at(&dsn, "select count(*), sum(id) from items"),
        "250|31375"
    );
    assert_eq!(
        psql_at(&dsn, "select name from items where id = 7"),
        "item 7"
    );
}

fn sample_repo(dir: &Path) -> PathBuf {
    let repo = dir.join("sample-app");
    std::fs::create_dir_all(&repo).unwrap();
    for entry in std::fs::read_dir(sample_app()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), repo.join(entry.file_name())).unwrap();
    }
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=sandbox",
                "-c",
                "user.email=sandbox@example.test",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .current_dir(&repo)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "sample app"]);
    repo
}

#[test]
fn git_push_deploys_the_sample_app_and_migrations_create_the_tables() {
    let sb = start(Profile::V0_38);
    let work = tempfile::tempdir().unwrap();
    let repo = sample_repo(work.path());
    check(&sb, &["apps:create", "api-development"], 0, &[]);
    check(&sb, &["postgres:create", "pg-development"], 0, &[]);
    check(
        &sb,
        &["postgres:link", "pg-development", "api-development"],
        0,
        &[],
    );
    let out = Command::new("git")
        .args(["push", &sb.git_remote("api-development"), "HEAD:master"])
        .env("GIT_SSH_COMMAND", sb.git_ssh_command())
        .current_dir(&repo)
        .output()
        .unwrap();
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{all}");
    assert!(all.contains("Application deployed"), "{all}");
    assert!(all.contains("migrate: schema up to date"), "{all}");
    let dsn = stdout_of(&sb, &["postgres:info", "pg-development", "--dsn"])
        .trim()
        .to_string();
    assert_eq!(
        psql_at(&dsn, "select string_agg(tablename, ',' order by tablename) from pg_tables where schemaname = 'public'"),
        "certification_courses,schema_migrations,users"
    );
    check(
        &sb,
        &["run", "api-development", "echo", "hello"],
        0,
        &["hello"],
    );
    // GNU ls exits 2 for a missing operand: the command's own code comes back.
    let failing = sb
        .ssh(&["run", "api-development", "ls", "/nonexistent-dir"])
        .unwrap();
    assert_eq!(
        failing.status.code(),
        Some(2),
        "run returns the command's exit code"
    );
    check(
        &sb,
        &["run", "api-development", "sh", "seed.sh", "4"],
        0,
        &["seed: users=4"],
    );
    assert_eq!(psql_at(&dsn, "select count(*) from users"), "4");
    check(
        &sb,
        &["ps:report", "api-development", "--running"],
        0,
        &["true"],
    );
    assert_eq!(sb.pids().apps.len(), 1, "the web process runs");
    wait_until("the web process to log", Duration::from_secs(15), || {
        text(&sb.ssh(&["logs", "api-development"]).unwrap().stdout).contains("web: users=4")
    });
    // A second push with nothing new is up to date; the app keeps running.
    let again = Command::new("git")
        .args(["push", &sb.git_remote("api-development"), "HEAD:master"])
        .env("GIT_SSH_COMMAND", sb.git_ssh_command())
        .current_dir(&repo)
        .output()
        .unwrap();
    assert!(again.status.success());
    assert!(text(&again.stderr).contains("Everything up-to-date"));
    let pids = sb.pids();
    let mut known: BTreeSet<i32> = sb.processes();
    known.extend(pids.sshd);
    known.extend(pids.postgres);
    known.extend(pids.apps.iter().copied());
    let dir = sb.dir().to_path_buf();
    drop(sb);
    let alive: Vec<i32> = known
        .iter()
        .copied()
        .filter(|p| procs::is_alive(*p))
        .collect();
    assert!(alive.is_empty(), "still alive after drop: {alive:?}");
    assert!(procs::sandbox_processes(&[], &dir).is_empty());
}

/// Live processes running the sandbox's copy of the emulator.
fn emulator_processes(sb: &Sandbox) -> Vec<i32> {
    sb.processes()
        .into_iter()
        .filter(|p| {
            std::fs::read_link(format!("/proc/{p}/exe")).is_ok_and(|exe| exe == sb.emulator_bin())
        })
        .collect()
}

#[test]
fn faults_fire_as_asked() {
    let sb = start(Profile::V0_38);
    check(&sb, &["apps:create", "flaky"], 0, &[]);
    // Exit: the next matching command fails as told, then it is used up.
    sb.inject_fault(Fault {
        matches: "apps:list".into(),
        action: FaultAction::Exit {
            code: 42,
            stderr: " !     injected failure\n".into(),
        },
        times: 1,
    })
    .unwrap();
    let out = check(&sb, &["apps:list"], 42, &[]);
    assert_eq!(text(&out.stderr), " !     injected failure\n");
    check(&sb, &["apps:list"], 0, &["flaky"]);
    // A fault for another command leaves this one alone.
    sb.inject_fault(Fault {
        matches: "ps:stop".into(),
        action: FaultAction::Exit {
            code: 1,
            stderr: "no\n".into(),
        },
        times: 1,
    })
    .unwrap();
    check(&sb, &["version"], 0, &[]);
    check(&sb, &["ps:stop", "flaky"], 1, &[]);
    // Hang: the client's own timeout ends it.
    sb.inject_fault(Fault {
        matches: "apps:report".into(),
        action: FaultAction::Hang { seconds: 60 },
        times: 1,
    })
    .unwrap();
    let t = Instant::now();
    let mut child = sb
        .ssh_command()
        .args(["apps:report", "flaky"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the hang fault keeps the command running after 2 s (stdin at EOF is not a gone client)"
    );
    assert_eq!(emulator_processes(&sb).len(), 1, "the hanging command runs");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(t.elapsed() < Duration::from_secs(10));
    // The client went away: the hanging command notices and ends.
    wait_until(
        "the hanging emulator to exit",
        Duration::from_secs(10),
        || emulator_processes(&sb).is_empty(),
    );
    // Drop mid-output: some bytes, then the connection is cut (ssh exits 255),
    // as an interrupted backup would see it.
    check(&sb, &["postgres:create", "flakydb"], 0, &[]);
    let dsn = stdout_of(&sb, &["postgres:info", "flakydb", "--dsn"]);
    psql_at(
        dsn.trim(),
        "create table blobs as select g as id, md5(g::text) || repeat('x', 200) as body from generate_series(1, 20000) g",
    );
    let full = check(&sb, &["postgres:export", "flakydb"], 0, &[]);
    assert!(full.stdout.starts_with(b"PGDMP"));
    sb.inject_fault(Fault {
        matches: "postgres:export".into(),
        action: FaultAction::DropAfterBytes { bytes: 1000 },
        times: 1,
    })
    .unwrap();
    let cut = sb.ssh(&["postgres:export", "flakydb"]).unwrap();
    assert_eq!(cut.status.code(), Some(255), "{}", text(&cut.stderr));
    assert!(
        cut.stdout.len() >= 1000 && cut.stdout.len() < full.stdout.len(),
        "{} bytes of {}",
        cut.stdout.len(),
        full.stdout.len()
    );
    assert!(cut.stdout.starts_with(b"PGDMP"));
    assert_eq!(sb.pending_faults(), 0);
}

#[test]
fn real_host_answers_version() {
    let Some(real) = target::real_host_or_skip() else {
        return;
    };
    let out = real.ssh_command().arg("version").output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("dokku version "),
        "{}",
        text(&out.stdout)
    );
}
