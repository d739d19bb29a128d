//! dokku-client's SSH transport end to end, over the sandbox's real sshd and
//! the Dokku emulator: version detection, load on one connection, host keys,
//! authentication, a server that is down, hangs and drops, the hostile
//! argument table on every profile, and no leaked `ssh` or control socket.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on setup errors

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dokku_client::transport::{HostKeyPolicy, NativeTransport, SshConfig, SshTransport};
use dokku_client::{Client, Command, Error, Request, RetryPolicy, Stdin, Stdout, Transport};
use pix_sandbox::contract::{Fault, FaultAction, Profile};
use pix_sandbox::sandbox::{procs, Sandbox, SandboxOptions};

fn start(options: SandboxOptions) -> Sandbox {
    Sandbox::start(options)
        .expect("the sandbox starts (run `cargo xtask test` to install what is missing)")
}

/// The transport configuration that reaches the sandbox (strict host keys).
fn config(sandbox: &Sandbox) -> SshConfig {
    SshConfig::new(sandbox.host())
        .port(sandbox.port())
        .user(sandbox.user())
        .key(sandbox.key_path())
        .known_hosts(sandbox.known_hosts_path())
        .config_file("/dev/null")
}

/// The two SSH transports: every check below runs on both.
#[derive(Debug, Clone, Copy)]
enum Which {
    OpenSsh,
    Native,
}

async fn connect(which: Which, config: SshConfig) -> Result<Box<dyn Transport>, Error> {
    Ok(match which {
        Which::OpenSsh => Box::new(SshTransport::connect(config).await?),
        Which::Native => Box::new(NativeTransport::connect(config).await?),
    })
}

async fn client(sandbox: &Sandbox) -> (Client, PathBuf, u32) {
    let transport = SshTransport::connect(config(sandbox))
        .await
        .expect("connects");
    let ctl = transport.control_socket().await.expect("a control socket");
    let pid = transport.master_pid().await.expect("the master's pid");
    (Client::new(transport), ctl, pid)
}

/// `ssh` processes whose command line names `needle`.
fn ssh_processes_naming(needle: &Path) -> Vec<i32> {
    let needle = needle.as_os_str().as_encoded_bytes().to_vec();
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
}

/// Emulator processes still running (their command line names the binary).
fn emulator_processes(sandbox: &Sandbox) -> Vec<i32> {
    ssh_processes_naming(sandbox.emulator_bin())
}

async fn assert_no_leak(ctl: &Path, pid: u32) {
    let dir = ctl
        .ancestors()
        .find(|a| {
            a.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("pix-"))
        })
        .expect("the control socket lives in a pix- directory")
        .to_path_buf();
    let deadline = Instant::now() + Duration::from_secs(5);
    while (procs::is_alive(pid as i32) || !ssh_processes_naming(&dir).is_empty())
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !procs::is_alive(pid as i32),
        "the master ssh {pid} is still running"
    );
    assert!(
        ssh_processes_naming(&dir).is_empty(),
        "ssh processes left naming {}",
        dir.display()
    );
    assert!(
        !ctl.exists(),
        "control socket {} left behind",
        ctl.display()
    );
    assert!(
        !dir.exists(),
        "control directory {} left behind",
        dir.display()
    );
}

fn expected_version(profile: Profile) -> (u32, u32) {
    match profile {
        Profile::V0_38 => (0, 38),
        Profile::V0_30 => (0, 30),
        Profile::V0_19 => (0, 19),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detects_the_version_of_each_profile_and_closes_cleanly() {
    for profile in Profile::ALL {
        let sandbox = start(SandboxOptions::profile(profile));
        let (client, ctl, pid) = client(&sandbox).await;
        let version = client.version().await.expect("version").clone();
        assert_eq!(
            (version.major, version.minor),
            expected_version(profile),
            "{version:?}"
        );
        client.close().await.unwrap();
        assert_no_leak(&ctl, pid).await;
        // A closed transport refuses further work instead of reconnecting.
        assert!(client.run(Command::read("apps:list")).await.is_err());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_commands_share_one_connection() {
    let sandbox = start(SandboxOptions::default().with_proxy());
    let (client, ctl, pid) = client(&sandbox).await;
    client.version().await.unwrap();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let total = 1000;
    let workers = 16;
    for w in 0..workers {
        let client = client.clone();
        tasks.spawn(async move {
            for _ in (w..total).step_by(workers) {
                let out = client.run_ok(Command::read("apps:list")).await?;
                assert!(out.success());
            }
            Ok::<_, Error>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap().unwrap();
    }
    eprintln!("{total} commands in {:?}", started.elapsed());
    let proxy = sandbox.proxy().unwrap();
    assert_eq!(
        proxy.connections(),
        1,
        "every command used the one master connection"
    );
    client.close().await.unwrap();
    assert_no_leak(&ctl, pid).await;
}

async fn host_keys_are_strict_unless_asked_on(which: Which) {
    let sandbox = start(SandboxOptions::default());
    let dir = tempfile::tempdir().unwrap();

    // Unknown host: an empty known_hosts file.
    let empty = dir.path().join("empty_known_hosts");
    std::fs::write(&empty, "").unwrap();
    let err = connect(which, config(&sandbox).known_hosts(&empty))
        .await
        .unwrap_err();
    match &err {
        Error::HostKeyUnknown { fingerprint, .. } => {
            let fp = fingerprint.as_deref().expect("the presented fingerprint");
            assert!(fp.starts_with("SHA256:"), "{fp}");
        }
        other => panic!("expected HostKeyUnknown, got {other:?}"),
    }
    assert!(
        err.to_string().contains("known_hosts file on purpose"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&empty).unwrap(),
        "",
        "strict mode wrote nothing"
    );

    // Changed key: known_hosts holds another key for the host.
    let other_key = dir.path().join("other");
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other_key)
        .status()
        .unwrap();
    assert!(status.success());
    let other_pub = std::fs::read_to_string(dir.path().join("other.pub")).unwrap();
    let other_pub: String = other_pub
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let wrong = dir.path().join("wrong_known_hosts");
    std::fs::write(
        &wrong,
        format!("[127.0.0.1]:{} {other_pub}\n", sandbox.port()),
    )
    .unwrap();
    let err = connect(which, config(&sandbox).known_hosts(&wrong))
        .await
        .unwrap_err();
    match &err {
        Error::HostKeyMismatch { fingerprint, .. } => {
            assert!(
                fingerprint
                    .as_deref()
                    .is_some_and(|f| f.starts_with("SHA256:")),
                "{err:?}"
            )
        }
        other => panic!("expected HostKeyMismatch, got {other:?}"),
    }

    // A pinned key that does not match is refused, even with a good known_hosts.
    let err = connect(
        which,
        config(&sandbox).host_key(HostKeyPolicy::Pinned(other_pub.clone())),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), "host_key_mismatch", "{err}");

    // The right pinned key works, with an empty known_hosts.
    let host_key = std::fs::read_to_string(sandbox.known_hosts_path()).unwrap();
    let host_key: String = host_key
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .skip(1)
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let pinned = connect(
        which,
        config(&sandbox)
            .known_hosts(&empty)
            .host_key(HostKeyPolicy::Pinned(host_key)),
    )
    .await
    .expect("the pinned key matches");
    let out = Client::new(pinned)
        .run(Command::read("version"))
        .await
        .unwrap();
    assert!(out.success());

    // Accept-new only when asked: records the key, then strict mode accepts it.
    let fresh = dir.path().join("fresh_known_hosts");
    let t = connect(
        which,
        config(&sandbox)
            .known_hosts(&fresh)
            .host_key(HostKeyPolicy::AcceptNew),
    )
    .await
    .expect("accept-new connects");
    t.close().await.unwrap();
    assert!(std::fs::read_to_string(&fresh)
        .unwrap()
        .contains("ssh-ed25519"));
    let t = connect(which, config(&sandbox).known_hosts(&fresh))
        .await
        .unwrap();
    t.close().await.unwrap();
    // ... and still refuses a changed key.
    let err = connect(
        which,
        config(&sandbox)
            .known_hosts(&wrong)
            .host_key(HostKeyPolicy::AcceptNew),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), "host_key_mismatch", "{err}");
}

async fn a_wrong_key_is_an_authentication_error_on(which: Which) {
    let sandbox = start(SandboxOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("stranger");
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(status.success());
    let err = connect(which, config(&sandbox).key(&key))
        .await
        .unwrap_err();
    match &err {
        Error::Authentication { user, .. } => assert_eq!(user, sandbox.user()),
        other => panic!("expected Authentication, got {other:?}"),
    }
}

async fn a_server_that_is_down_is_a_transport_error_on(which: Which) {
    let sandbox = start(SandboxOptions::default());
    let port = pix_sandbox::sandbox::free_port().unwrap();
    let err = connect(which, config(&sandbox).port(port))
        .await
        .unwrap_err();
    match &err {
        Error::Transport { host, message } => {
            assert!(host.contains(&port.to_string()), "{host}");
            assert!(message.contains("refused"), "{message}");
        }
        other => panic!("expected Transport, got {other:?}"),
    }
}

async fn a_hang_times_out_and_the_remote_command_is_stopped_on(which: Which) {
    let sandbox = start(SandboxOptions::default());
    let transport = connect(which, config(&sandbox)).await.unwrap();
    let client = Client::builder(transport)
        .timeout(Duration::from_secs(2))
        .build();
    client.version().await.unwrap();
    sandbox
        .inject_fault(Fault {
            matches: "apps:report".into(),
            action: FaultAction::Hang { seconds: 60 },
            times: 1,
        })
        .unwrap();
    let started = Instant::now();
    let err = client
        .run(Command::read("apps:report").value("myapp"))
        .await
        .unwrap_err();
    match &err {
        Error::Timeout { command, waited } => {
            assert!(command.contains("apps:report myapp"), "{command}");
            assert_eq!(*waited, Duration::from_secs(2));
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    // The remote emulator sees its channel closed and goes away.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !emulator_processes(&sandbox).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        emulator_processes(&sandbox).is_empty(),
        "the hung emulator is still running: {:?}",
        emulator_processes(&sandbox)
    );
    // The connection is still usable.
    assert!(client
        .run(Command::read("apps:list"))
        .await
        .unwrap()
        .success());
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_mid_output_is_a_transport_error_and_the_next_read_reconnects() {
    let sandbox = start(SandboxOptions::default().with_proxy());
    let transport = SshTransport::connect(config(&sandbox)).await.unwrap();
    let first_pid = transport.master_pid().await.unwrap();
    let no_retry = Client::builder(transport)
        .retry(RetryPolicy::none().backoff(Duration::from_millis(10)))
        .build();
    no_retry.version().await.unwrap();
    sandbox
        .inject_fault(Fault {
            matches: "help".into(),
            action: FaultAction::DropAfterBytes { bytes: 100 },
            times: 1,
        })
        .unwrap();
    let err = no_retry.run(Command::read("help")).await.unwrap_err();
    assert_eq!(err.kind(), "transport", "{err}");
    // The next read reconnects on its own.
    let out = no_retry.run(Command::read("help")).await.unwrap();
    assert!(out.success());
    assert!(out.stdout.len() > 100);
    assert_eq!(sandbox.proxy().unwrap().connections(), 2);
    assert!(
        !procs::is_alive(first_pid as i32),
        "the dead master is gone"
    );

    // With the default policy a read survives a cut connection transparently.
    let retrying = Client::new(SshTransport::connect(config(&sandbox)).await.unwrap());
    retrying.version().await.unwrap();
    sandbox
        .inject_fault(Fault {
            matches: "help".into(),
            action: FaultAction::DropAfterBytes { bytes: 100 },
            times: 1,
        })
        .unwrap();
    assert!(retrying.run(Command::read("help")).await.unwrap().success());

    // A cut of every connection by the proxy: the next command reconnects.
    sandbox.proxy().unwrap().cut_all();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(retrying
        .run(Command::read("apps:list"))
        .await
        .unwrap()
        .success());
    no_retry.close().await.unwrap();
    retrying.close().await.unwrap();
}

async fn a_write_is_never_repeated_after_a_drop_on(which: Which) {
    let sandbox = start(SandboxOptions::default());
    let client = Client::new(connect(which, config(&sandbox)).await.unwrap());
    client.version().await.unwrap();
    sandbox
        .inject_fault(Fault {
            matches: "apps:create".into(),
            action: FaultAction::DropAfterBytes { bytes: 0 },
            times: 1,
        })
        .unwrap();
    let before = sandbox.received().unwrap().len();
    let err = client
        .run(Command::write("apps:create").value("once"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "transport", "{err}");
    let after: Vec<_> = sandbox.received().unwrap()[before..]
        .iter()
        .filter(|r| r.argv_lossy().first().map(String::as_str) == Some("apps:create"))
        .cloned()
        .collect();
    assert_eq!(after.len(), 1, "the write was sent exactly once");
    client.close().await.unwrap();
}

/// The hostile-argument table (the same corpus as command.rs's tests).
const HOSTILE: &[&str] = &[
    "plain",
    "with space",
    "it's",
    "\"double\"",
    "$(reboot)",
    "`id`",
    "a;b",
    "a|b",
    "a && b",
    "back\\slash",
    "ünïcödé ✓",
    "-leading-dash",
    "--no-restart-smuggled=1",
    "tab\there",
    "*",
    "",
    "'",
    "''",
    "-n",
    "--help",
    "--app",
    "multi\nline",
];

async fn hostile_arguments_arrive_byte_exact_or_are_refused_on_every_profile_on(which: Which) {
    for profile in Profile::ALL {
        let sandbox = start(SandboxOptions::profile(profile));
        let client = Client::new(connect(which, config(&sandbox)).await.unwrap());
        client.version().await.unwrap();
        for name in ["config:get", "run"] {
            for value in HOSTILE {
                let before = sandbox.received().unwrap().len();
                let cmd = Command::read(name).value("someapp").value(*value);
                match client.run(cmd).await {
                    Ok(_) => {
                        let received = sandbox.received().unwrap();
                        assert_eq!(received.len(), before + 1, "{profile:?} {name} {value:?}");
                        let argv = &received[before].argv;
                        let expected: Vec<Vec<u8>> = vec![
                            name.as_bytes().to_vec(),
                            b"someapp".to_vec(),
                            value.as_bytes().to_vec(),
                        ];
                        assert_eq!(argv, &expected, "{profile:?} {name} {value:?}");
                    }
                    Err(Error::UnsafeArgument { .. }) => {
                        assert_eq!(
                            sandbox.received().unwrap().len(),
                            before,
                            "a refused argument sent nothing"
                        );
                    }
                    Err(other) => panic!("{profile:?} {name} {value:?}: {other}"),
                }
            }
        }
        client.close().await.unwrap();
    }
}

async fn streams_are_kept_apart_and_binary_safe_on(which: Which) {
    let sandbox = start(SandboxOptions::default());
    let transport = connect(which, config(&sandbox)).await.unwrap();
    let client = Client::new(transport);
    // A failing command: stderr is captured apart from stdout.
    let out = client
        .run(Command::read("apps:report").value("nope"))
        .await
        .unwrap();
    assert_ne!(out.exit_code, 0);
    assert!(out.stdout.is_empty(), "{:?}", out.stdout_text());
    assert!(
        out.stderr_text().contains("nope"),
        "{:?}",
        out.stderr_text()
    );
    client.close().await.unwrap();
    // The transport can also be used on its own.
    let t = connect(which, config(&sandbox)).await.unwrap();
    assert!(t.target().contains(&sandbox.port().to_string()));
    t.close().await.unwrap();
}

async fn postgres_export_and_import_stream_and_a_cut_export_is_an_error_on(which: Which) {
    let sandbox = start(SandboxOptions::default());
    let client = Client::new(connect(which, config(&sandbox)).await.unwrap());
    client
        .run_ok(Command::write("postgres:create").value("streamdb"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("streamdb.dump");
    let file = tokio::fs::File::create(&dump).await.unwrap();
    let out = client
        .execute(
            Request::new(Command::read("postgres:export").value("streamdb"))
                .stdout(Stdout::Writer(Box::new(file))),
        )
        .await
        .unwrap();
    assert!(out.success(), "{}", out.stderr_text());
    assert!(out.stdout.is_empty(), "streamed, not captured");
    let bytes = std::fs::read(&dump).unwrap();
    assert!(bytes.starts_with(b"PGDMP"), "a pg_dump custom archive");

    let reader = tokio::fs::File::open(&dump).await.unwrap();
    let out = client
        .execute(
            Request::new(Command::write("postgres:import").value("streamdb"))
                .stdin(Stdin::Reader(Box::new(reader))),
        )
        .await
        .unwrap();
    assert!(out.success(), "{}", out.stderr_text());

    // The connection drops in the middle of the export: a typed transport
    // error, never a success with a truncated file, and no blind retry.
    sandbox
        .inject_fault(Fault {
            matches: "postgres:export".into(),
            action: FaultAction::DropAfterBytes { bytes: 100 },
            times: 1,
        })
        .unwrap();
    let before = sandbox.received().unwrap().len();
    let cut = dir.path().join("cut.dump");
    let file = tokio::fs::File::create(&cut).await.unwrap();
    let err = client
        .execute(
            Request::new(Command::read("postgres:export").value("streamdb"))
                .stdout(Stdout::Writer(Box::new(file))),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "transport", "{err}");
    assert_eq!(
        sandbox.received().unwrap().len(),
        before + 1,
        "a stream is not retried"
    );
    // The next command reconnects.
    assert!(client
        .run(Command::read("postgres:list"))
        .await
        .unwrap()
        .success());
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_client_without_close_leaks_nothing() {
    let sandbox = start(SandboxOptions::default());
    let (client, ctl, pid) = client(&sandbox).await;
    assert!(client
        .run(Command::read("apps:list"))
        .await
        .unwrap()
        .success());
    drop(client);
    assert_no_leak(&ctl, pid).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interactive_commands_return_the_remote_exit_code() {
    let sandbox = start(SandboxOptions::default());
    let (client, ctl, pid) = client(&sandbox).await;
    // No terminal here: ssh -t then runs without one, through the same master.
    let out = client
        .execute(Request::new(Command::read("apps:report").value("nope")).tty())
        .await
        .unwrap();
    assert_eq!(out.exit_code, 20);
    let out = client
        .execute(Request::new(Command::read("version")).tty())
        .await
        .unwrap();
    assert_eq!(out.exit_code, 0);
    client.close().await.unwrap();
    assert_no_leak(&ctl, pid).await;
}

/// The native transport's terminal path without a terminal (stdin not
/// inherited): no `pty-req`, no raw mode, the remote exit code returned, stdout
/// given to a writer as is; the channel given back (the spare refilled).
/// Its terminal itself is checked through tmux in `pix-cli/tests/cli_terminal.rs`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interactive_commands_return_the_remote_exit_code_native() {
    let sandbox = start(SandboxOptions::default());
    let client = Client::new(connect(Which::Native, config(&sandbox)).await.unwrap());
    let out = client
        .execute(Request::new(Command::read("apps:report").value("nope")).tty())
        .await
        .unwrap();
    assert_eq!(out.exit_code, 20);
    let out = client
        .execute(Request::new(Command::read("version")).tty())
        .await
        .unwrap();
    assert_eq!(out.exit_code, 0);
    assert!(out.stdout_text().contains("dokku version"), "{out:?}");
    for _ in 0..20 {
        let out = client
            .execute(Request::new(Command::read("apps:list")).tty())
            .await
            .unwrap();
        assert_eq!(out.exit_code, 0);
    }
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_127_from_the_forced_command_is_not_dokku() {
    let sandbox = start(SandboxOptions::default());
    let (client, _, _) = client(&sandbox).await;
    client.version().await.unwrap();
    sandbox
        .inject_fault(Fault {
            matches: "apps:list".into(),
            action: FaultAction::Exit {
                code: 127,
                stderr: "sh: 1: /usr/bin/dokku: not found\n".into(),
            },
            times: 1,
        })
        .unwrap();
    let err = client.run_ok(Command::read("apps:list")).await.unwrap_err();
    match &err {
        Error::NotDokku { host, message } => {
            assert!(host.contains(&sandbox.port().to_string()), "{host}");
            assert!(message.contains("not found"), "{message}");
        }
        other => panic!("expected NotDokku, got {other:?}"),
    }
    client.close().await.unwrap();
}

async fn a_server_too_slow_to_answer_fails_within_the_connect_timeout_on(which: Which) {
    let sandbox = start(SandboxOptions::default().with_proxy());
    sandbox
        .proxy()
        .unwrap()
        .set_delays(Duration::from_secs(4), Duration::from_secs(4));
    let started = Instant::now();
    let err = connect(
        which,
        config(&sandbox).connect_timeout(Duration::from_millis(1500)),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), "transport", "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    // With a small delay, everything works through the proxy.
    sandbox
        .proxy()
        .unwrap()
        .set_delays(Duration::from_millis(20), Duration::from_millis(20));
    let client = Client::new(connect(which, config(&sandbox)).await.unwrap());
    assert!(client
        .run(Command::read("apps:list"))
        .await
        .unwrap()
        .success());
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_keys_are_strict_unless_asked() {
    host_keys_are_strict_unless_asked_on(Which::OpenSsh).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_keys_are_strict_unless_asked_native() {
    host_keys_are_strict_unless_asked_on(Which::Native).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_is_an_authentication_error() {
    a_wrong_key_is_an_authentication_error_on(Which::OpenSsh).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_is_an_authentication_error_native() {
    a_wrong_key_is_an_authentication_error_on(Which::Native).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_down_is_a_transport_error() {
    a_server_that_is_down_is_a_transport_error_on(Which::OpenSsh).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_down_is_a_transport_error_native() {
    a_server_that_is_down_is_a_transport_error_on(Which::Native).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hang_times_out_and_the_remote_command_is_stopped() {
    a_hang_times_out_and_the_remote_command_is_stopped_on(Which::OpenSsh).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hang_times_out_and_the_remote_command_is_stopped_native() {
    a_hang_times_out_and_the_remote_command_is_stopped_on(Which::Native).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_is_never_repeated_after_a_drop() {
    a_write_is_never_repeated_after_a_drop_on(Which::OpenSsh).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_is_never_repeated_after_a_drop_native() {
    a_write_is_never_repeated_after_a_drop_on(Which::Native).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_arguments_arrive_byte_exact_or_are_refused_on_every_profile() {
    hostile_arguments_arrive_byte_exact_or_are_refused_on_every_profile_on(Which::OpenSsh).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_arguments_arrive_byte_exact_or_are_refused_on_every_profile_native() {
    hostile_arguments_arrive_byte_exact_or_are_refused_on_every_profile_on(Which::Native).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_are_kept_apart_and_binary_safe() {
    streams_are_kept_apart_and_binary_safe_on(Which::OpenSsh).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_are_kept_apart_and_binary_safe_native() {
    streams_are_kept_apart_and_binary_safe_on(Which::Native).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_export_and_import_stream_and_a_cut_export_is_an_error() {
    postgres_export_and_import_stream_and_a_cut_export_is_an_error_on(Which::OpenSsh).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_export_and_import_stream_and_a_cut_export_is_an_error_native() {
    postgres_export_and_import_stream_and_a_cut_export_is_an_error_on(Which::Native).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_too_slow_to_answer_fails_within_the_connect_timeout() {
    a_server_too_slow_to_answer_fails_within_the_connect_timeout_on(Which::OpenSsh).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_too_slow_to_answer_fails_within_the_connect_timeout_native() {
    a_server_too_slow_to_answer_fails_within_the_connect_timeout_on(Which::Native).await;
}

/// A fresh key of `kind` (`-N` passphrase), authorised on the sandbox's login.
fn authorised_key(sandbox: &Sandbox, dir: &Path, kind: &str, passphrase: &str) -> PathBuf {
    let key = dir.join(format!("id_{kind}"));
    let mut keygen = std::process::Command::new("ssh-keygen");
    keygen
        .args(["-q", "-t", kind, "-N", passphrase, "-f"])
        .arg(&key);
    if kind == "rsa" {
        keygen.args(["-b", "2048"]);
    }
    assert!(keygen.status().unwrap().success());
    let public = std::fs::read_to_string(dir.join(format!("id_{kind}.pub"))).unwrap();
    let auth = sandbox.dir().join("authorized_keys");
    let line = std::fs::read_to_string(&auth)
        .unwrap()
        .lines()
        .find(|l| l.contains("command="))
        .map(|l| {
            let at = l.find(" ssh-").or_else(|| l.find(" ecdsa-")).unwrap();
            format!("{} {}", &l[..at], public.trim())
        })
        .unwrap();
    let mut text = std::fs::read_to_string(&auth).unwrap();
    text.push_str(&line);
    text.push('\n');
    std::fs::write(&auth, text).unwrap();
    key
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_logs_in_with_ed25519_ecdsa_and_rsa_and_refuses_an_encrypted_key() {
    let sandbox = start(SandboxOptions::default());
    let dir = tempfile::tempdir().unwrap();
    for kind in ["ed25519", "ecdsa", "rsa"] {
        let key = authorised_key(&sandbox, dir.path(), kind, "");
        let t = NativeTransport::connect(config(&sandbox).key(&key))
            .await
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        let out = Client::new(t).run(Command::read("version")).await.unwrap();
        assert!(out.success(), "{kind}");
    }
    let locked_dir = dir.path().join("locked");
    std::fs::create_dir(&locked_dir).unwrap();
    let moved = authorised_key(&sandbox, &locked_dir, "ed25519", "secret words");
    let err = NativeTransport::connect(config(&sandbox).key(&moved))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("passphrase"), "{err}");
    assert!(err.to_string().contains("ssh-add"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_reads_hashed_known_hosts_and_keeps_a_spare_channel() {
    let sandbox = start(SandboxOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let hashed = dir.path().join("hashed_known_hosts");
    std::fs::copy(sandbox.known_hosts_path(), &hashed).unwrap();
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-H", "-f"])
        .arg(&hashed)
        .status()
        .unwrap();
    assert!(status.success());
    assert!(std::fs::read_to_string(&hashed).unwrap().starts_with("|1|"));
    let t = NativeTransport::connect(config(&sandbox).known_hosts(&hashed))
        .await
        .expect("a hashed entry is honoured");
    // The spare channel is opened right after the login, ahead of need.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !t.has_spare_channel().await && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(t.has_spare_channel().await);
    let client = Client::new(t);
    // 40 commands at once: at most 8 channels (the spare included), the
    // others wait for a free one instead of failing.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let c = client.clone();
        tasks.spawn(async move { c.run_ok(Command::read("apps:list")).await });
    }
    while let Some(done) = tasks.join_next().await {
        assert!(done.unwrap().unwrap().success());
    }
    client.close().await.unwrap();
}
