//! Faults issue 8 lists that client_ssh.rs and reset.rs do not cover: the
//! connection drops during a `postgres:import` and during a `git push`; the
//! local disk fills during a backup (a child process under a small
//! `RLIMIT_FSIZE`), also as the first step of a reset; 8 processes at once
//! against one host leave no `ssh` process or control socket behind.
//!
//! (A server that hangs — timeout naming the command and the wait, remote
//! emulator process gone — is `client_ssh::a_hang_times_out_and_the_remote_command_is_stopped`.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

#[path = "security_common/mod.rs"]
mod security_common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use dokku_client::transport::{SshConfig, SshTransport};
use dokku_client::{Client, Command};
use pix_ops::backup::{export_to_file, import_file, ByteCounter};
use pix_ops::config::{HostOverrides, PixConfig};
use pix_ops::confirm::{ConfirmFlags, NoTerminal};
use pix_ops::connect::{connect, ConnectOptions};
use pix_ops::journal::Strategy;
use pix_ops::progress::Silent;
use pix_ops::reset::{reset, ResetOptions};
use pix_sandbox::contract::{Fault, FaultAction};
use pix_sandbox::sandbox::{procs, Sandbox, SandboxOptions};
use pix_sandbox::scenario;

const APP: &str = "api-development";
const DB: &str = "pg-development";

fn config(sb: &Sandbox) -> SshConfig {
    SshConfig::new(sb.host())
        .port(sb.port())
        .user(sb.user())
        .key(sb.key_path())
        .known_hosts(sb.known_hosts_path())
        .config_file("/dev/null")
}

fn commands_named(sb: &Sandbox, from: usize, name: &str) -> Vec<String> {
    sb.received().unwrap()[from..]
        .iter()
        .map(|r| r.argv_lossy().join(" "))
        .filter(|c| c.split(' ').next() == Some(name))
        .collect()
}

/// Adds ~1 MB of incompressible rows to the service's database, so a dump is
/// far larger than the file-size limit used below.
fn add_bulk(sb: &Sandbox, service: &str) {
    let dsn = scenario::dsn(sb, service).unwrap();
    scenario::query(
        sb,
        &dsn,
        "create table bulk as select g, md5(random()::text) || md5(random()::text) as t from generate_series(1, 15000) g",
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_during_postgres_import_is_a_transport_error_and_is_not_retried() {
    let sb = Sandbox::start(SandboxOptions::default()).expect("sandbox");
    let client = Client::new(SshTransport::connect(config(&sb)).await.unwrap());
    client
        .run_ok(Command::write("postgres:create").value("importdb"))
        .await
        .unwrap();
    add_bulk(&sb, "importdb");
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("importdb.dump");
    export_to_file(&client, "importdb", &dump, &ByteCounter::default())
        .await
        .expect("backup");
    let dsn = scenario::dsn(&sb, "importdb").unwrap();
    scenario::query(&sb, &dsn, "insert into bulk values (0, 'after the backup')").unwrap();

    // The connection is cut as the import starts, while the client streams
    // the archive on stdin.
    sb.inject_fault(Fault {
        matches: "postgres:import".into(),
        action: FaultAction::DropAfterBytes { bytes: 0 },
        times: 1,
    })
    .unwrap();
    let before = sb.received().unwrap().len();
    let err = import_file(&client, "importdb", &dump).await.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            pix_ops::OpsError::Dokku(dokku_client::Error::Transport { .. })
        ),
        "a typed transport error: {err:?}"
    );
    assert!(
        text.contains(&sb.port().to_string()),
        "names the host: {text}"
    );
    assert_eq!(sb.pending_faults(), 0, "the fault fired");
    assert_eq!(
        commands_named(&sb, before, "postgres:import").len(),
        1,
        "a write with a streamed stdin is sent exactly once"
    );
    // Nothing was imported: the row added after the backup is still there.
    assert_eq!(
        scenario::query(&sb, &dsn, "select count(*) from bulk where g = 0").unwrap(),
        "1"
    );
    // The next command reconnects.
    assert!(client
        .run(Command::read("postgres:list"))
        .await
        .unwrap()
        .success());
    client.close().await.unwrap();
}

#[test]
fn a_drop_during_git_push_fails_clearly_and_the_previous_version_keeps_running() {
    let sb = Sandbox::start(SandboxOptions::default().with_proxy()).expect("sandbox");
    let dir = tempfile::tempdir().unwrap();
    scenario::deploy_sample_app(&sb, dir.path(), APP, DB, 3).expect("first deploy");
    let git_sha = |sb: &Sandbox| {
        scenario::dokku(sb, &["git:report", APP, "--git-sha"])
            .unwrap()
            .trim()
            .to_string()
    };
    let running = |sb: &Sandbox| {
        scenario::dokku(sb, &["ps:report", APP, "--running"])
            .map(|s| s.trim() == "true")
            .unwrap_or(false)
    };
    let first = git_sha(&sb);
    assert!(running(&sb));

    let repo = dir.path().join(APP);
    std::fs::write(repo.join("CHANGED"), "second version\n").unwrap();
    scenario::git(&repo, &["add", "CHANGED"]).unwrap();
    scenario::git(&repo, &["commit", "-q", "-m", "second"]).unwrap();
    // The connection drops in the middle of the deploy the push triggers
    // (after the pre-receive hook printed a few bytes).
    sb.inject_fault(Fault {
        matches: "git-hook".into(),
        action: FaultAction::DropAfterBytes { bytes: 20 },
        times: 1,
    })
    .unwrap();
    let err = scenario::push(&sb, &repo, APP).expect_err("the push must fail");
    assert_eq!(sb.pending_faults(), 0, "the fault fired");
    assert!(err.contains("git push exited with"), "{err}");
    assert!(
        err.contains("remote end hung up")
            || err.contains("Connection")
            || err.contains("closed")
            || err.contains("rejected")
            || err.contains("failed"),
        "git says the push failed: {err}"
    );
    assert_eq!(git_sha(&sb), first, "the deployed version is unchanged");
    assert!(running(&sb), "the previous version still runs");

    // Cut every connection through the proxy during a second push.
    let proxy = sb.proxy().unwrap();
    let pusher = {
        let repo = repo.clone();
        let remote = sb.git_remote(APP);
        let ssh = sb.git_ssh_command();
        std::thread::spawn(move || {
            std::process::Command::new("git")
                .args(["push", &remote, "HEAD:master"])
                .env("GIT_SSH_COMMAND", ssh)
                .current_dir(&repo)
                .stdin(Stdio::null())
                .output()
                .unwrap()
        })
    };
    // Wait for the push's connection, then cut it.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while proxy.live_connections() == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    proxy.cut_all();
    let out = pusher.join().unwrap();
    if !out.status.success() {
        // Cut in time: the deploy did not happen, the old version runs.
        assert_eq!(git_sha(&sb), first);
    }
    assert!(running(&sb), "an app keeps running after a cut push");
}

/// Runs this test binary's `child_*` test under `sh`, with SIGXFSZ ignored
/// and a file-size limit of `blocks` 512-byte blocks, so writes past it fail
/// with EFBIG (a full disk, as the process sees it).
fn run_child_with_fsize_limit(test: &str, blocks: u32, env: &[(&str, &Path)]) -> String {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = std::process::Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" --exact {test} --nocapture --test-threads 1"
        ))
        .arg(&exe)
        .env("PIX_FAULTS_CHILD", "1")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the child failed:\n{all}");
    all
}

fn child_env(name: &str) -> Option<PathBuf> {
    std::env::var_os("PIX_FAULTS_CHILD")?;
    std::env::var_os(name).map(PathBuf::from)
}

fn environment(toml: &Path) -> pix_ops::Environment {
    PixConfig::load(toml)
        .unwrap()
        .environment("development", &HostOverrides::default())
        .unwrap()
}

/// Child half of the disk-full test (does nothing when run on its own).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_backup_and_reset_on_a_full_disk() {
    let (Some(toml), Some(work)) = (child_env("PIX_CHILD_TOML"), child_env("PIX_CHILD_WORK"))
    else {
        return;
    };
    let env = environment(&toml);
    let client = connect(&env.host_config, &ConnectOptions::default())
        .await
        .unwrap();
    let dest = work.join("backups").join("direct.dump");
    let err = export_to_file(&client, DB, &dest, &ByteCounter::default())
        .await
        .expect_err("the export cannot fit");
    println!("BACKUP-ERROR: {err}");
    let options = ResetOptions {
        strategy: Strategy::Recreate,
        dry_run: false,
        resume: false,
        no_backup: false,
        confirm: ConfirmFlags {
            yes: true,
            confirm: None,
        },
        backups_dir: work.join("backups"),
        state_dir: work.join("state"),
        command: "pix db reset development".into(),
    };
    let err = reset(&client, &env, &options, &mut NoTerminal, &Silent)
        .await
        .expect_err("a reset whose backup fails must stop");
    println!("RESET-ERROR: {err}");
    client.close().await.unwrap();
}

#[test]
fn a_full_disk_during_a_backup_is_a_clear_error_and_nothing_destructive_starts() {
    let sb = Sandbox::start(SandboxOptions::default()).expect("sandbox");
    let dir = tempfile::tempdir().unwrap();
    scenario::deploy_sample_app(&sb, dir.path(), APP, DB, 5).expect("deploy");
    add_bulk(&sb, DB);
    let toml = dir.path().join("pix.toml");
    sb.write_pix_toml(&toml).unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let before = sb.received().unwrap().len();

    // 64 blocks of 512 bytes: 32 KiB, far below the ~1 MB dump.
    let out = run_child_with_fsize_limit(
        "child_backup_and_reset_on_a_full_disk",
        64,
        &[("PIX_CHILD_TOML", &toml), ("PIX_CHILD_WORK", &work)],
    );
    let backup_error = out
        .lines()
        .find_map(|l| l.split_once("BACKUP-ERROR: ").map(|p| p.1))
        .unwrap_or_else(|| panic!("no backup error in:\n{out}"));
    assert!(
        backup_error.contains("partial file was removed") && backup_error.contains("disk space"),
        "a clear error: {backup_error}"
    );
    let reset_error = out
        .lines()
        .find_map(|l| l.split_once("RESET-ERROR: ").map(|p| p.1))
        .unwrap_or_else(|| panic!("no reset error in:\n{out}"));
    assert!(reset_error.contains("backup"), "{reset_error}");

    // No partial (or final) file is left.
    let mut left = Vec::new();
    let mut stack = vec![work.join("backups")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                left.push(e.path());
            }
        }
    }
    assert!(left.is_empty(), "files left behind: {left:?}");

    // Nothing destructive reached the server: exports only, then reads.
    let received: Vec<String> = sb.received().unwrap()[before..]
        .iter()
        .map(|r| r.argv_lossy().join(" "))
        .collect();
    assert!(
        received.iter().any(|c| c.starts_with("postgres:export")),
        "{received:?}"
    );
    for c in &received {
        for destructive in [
            "apps:lock",
            "ps:stop",
            "postgres:unlink",
            "postgres:destroy",
            "postgres:create",
            "postgres:import",
            "postgres:connect",
        ] {
            assert_ne!(
                c.split(' ').next(),
                Some(destructive),
                "{c} ran: {received:?}"
            );
        }
    }
    let dsn = scenario::dsn(&sb, DB).unwrap();
    assert_eq!(
        scenario::count_rows(&sb, &dsn, "users").unwrap(),
        Some(5),
        "the data is untouched"
    );
    assert_eq!(
        scenario::dokku(&sb, &["ps:report", APP, "--running"])
            .unwrap()
            .trim(),
        "true"
    );
}

/// Child half of the load test: one process's share of typed commands, on
/// a transport whose control directory lives under `PIX_CHILD_CTL`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_load_worker() {
    let (Some(ctl), Some(key), Some(known_hosts)) = (
        child_env("PIX_CHILD_CTL"),
        child_env("PIX_CHILD_KEY"),
        child_env("PIX_CHILD_KNOWN_HOSTS"),
    ) else {
        return;
    };
    let port: u16 = std::env::var("PIX_CHILD_PORT").unwrap().parse().unwrap();
    let user = std::env::var("PIX_CHILD_USER").unwrap();
    let mut config = SshConfig::new("127.0.0.1")
        .port(port)
        .user(user)
        .key(key)
        .known_hosts(known_hosts)
        .config_file("/dev/null");
    config.control_parent = ctl;
    let client = Client::new(SshTransport::connect(config).await.unwrap());
    for i in 0..25 {
        assert!(!client.apps_list().await.unwrap().is_empty());
        client.apps_report(APP).await.unwrap();
        client.config_show(APP).await.unwrap();
        client.postgres_info(DB).await.unwrap();
        if i % 5 == 0 {
            client.ps_report(APP).await.unwrap();
        }
    }
    client.close().await.unwrap();
    println!("LOAD-WORKER-DONE");
}

#[test]
fn eight_processes_at_once_succeed_and_leak_no_ssh_or_control_socket() {
    let sb = Sandbox::start(SandboxOptions::default()).expect("sandbox");
    let dir = tempfile::tempdir().unwrap();
    scenario::deploy_sample_app(&sb, dir.path(), APP, DB, 2).expect("deploy");
    // A private parent for the control directories: other tests on the
    // machine cannot be mistaken for leaks.
    let ctl = tempfile::Builder::new()
        .prefix("pxl-")
        .tempdir_in("/tmp")
        .unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..8)
        .map(|_| {
            std::process::Command::new(&exe)
                .args([
                    "--exact",
                    "child_load_worker",
                    "--nocapture",
                    "--test-threads",
                    "1",
                ])
                .env("PIX_FAULTS_CHILD", "1")
                .env("PIX_CHILD_CTL", ctl.path())
                .env("PIX_CHILD_KEY", sb.key_path())
                .env("PIX_CHILD_KNOWN_HOSTS", sb.known_hosts_path())
                .env("PIX_CHILD_PORT", sb.port().to_string())
                .env("PIX_CHILD_USER", sb.user())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success() && text.contains("LOAD-WORKER-DONE"),
            "a worker failed:\n{text}"
        );
    }
    // No ssh process names the private control parent, and it is empty.
    let needle = ctl.path().as_os_str().as_encoded_bytes().to_vec();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let leaked = || -> Vec<i32> {
        procs::all_processes()
            .into_iter()
            .filter(|p| !p.zombie)
            .filter(|p| {
                std::fs::read(format!("/proc/{}/cmdline", p.pid))
                    .map(|c| c.windows(needle.len()).any(|w| w == needle.as_slice()))
                    .unwrap_or(false)
            })
            .map(|p| p.pid)
            .collect()
    };
    while !leaked().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(leaked().is_empty(), "ssh processes left: {:?}", leaked());
    let left: Vec<_> = std::fs::read_dir(ctl.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "control directories left: {left:?}");
    // Every command of the 8 workers reached the server.
    let received = sb.received().unwrap();
    let reports = received
        .iter()
        .filter(|r| r.argv_lossy().first().map(String::as_str) == Some("postgres:info"))
        .count();
    assert_eq!(reports, 8 * 25);
}

/// Processes whose command line names `needle` (not zombies).
fn processes_naming(needle: &[u8]) -> Vec<i32> {
    procs::all_processes()
        .into_iter()
        .filter(|p| !p.zombie)
        .filter(|p| {
            std::fs::read(format!("/proc/{}/cmdline", p.pid))
                .map(|c| c.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
        })
        .map(|p| p.pid)
        .collect()
}

/// `/tmp/pix-*` control directories whose ssh config names this sandbox.
fn control_dirs_of(sb: &Sandbox) -> Vec<PathBuf> {
    let needle = sb.known_hosts_path().display().to_string();
    std::fs::read_dir("/tmp")
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("pix-"))
        })
        .filter(|p| {
            std::fs::read_dir(p)
                .into_iter()
                .flatten()
                .flatten()
                .any(|f| {
                    std::fs::read_to_string(f.path())
                        .map(|t| t.contains(&needle))
                        .unwrap_or(false)
                })
        })
        .collect()
}

#[test]
fn eight_pix_processes_at_once_succeed_and_leak_nothing() {
    let sb = Sandbox::start(SandboxOptions::default()).expect("sandbox");
    let dir = tempfile::tempdir().unwrap();
    scenario::deploy_sample_app(&sb, dir.path(), APP, DB, 2).expect("deploy");
    let toml = dir.path().join("pix.toml");
    sb.write_pix_toml(&toml).unwrap();
    let commands: &[&[&str]] = &[
        &["status", "--json"],
        &["apps", "list"],
        &["db", "info", "development", "--json"],
        &["config", "show", APP],
        &["ps", "report", APP, "--json"],
    ];
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let toml = toml.clone();
            let cwd = dir.path().to_path_buf();
            std::thread::spawn(move || {
                let mut failures = Vec::new();
                for _ in 0..3 {
                    for args in commands {
                        let run = security_common::pix(&toml, &cwd, args, &[]);
                        if run.code != 0 {
                            failures.push(run.text());
                        }
                    }
                }
                failures
            })
        })
        .collect();
    for w in workers {
        let failures = w.join().unwrap();
        assert!(failures.is_empty(), "pix failed:\n{}", failures.join("\n"));
    }
    // No ssh process uses this sandbox's key, no control directory names it.
    let key = sb.key_path().as_os_str().as_encoded_bytes().to_vec();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while (!processes_naming(&key).is_empty() || !control_dirs_of(&sb).is_empty())
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        processes_naming(&key).is_empty(),
        "ssh processes left: {:?}",
        processes_naming(&key)
    );
    assert!(
        control_dirs_of(&sb).is_empty(),
        "control directories left: {:?}",
        control_dirs_of(&sb)
    );
}
