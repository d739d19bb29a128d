//! A malicious or broken server (the emulator's `Respond` fault): output
//! that never ends stops at the capture limit with a clear error, stderr is
//! bounded, typed parsers never panic on huge lines, invalid UTF-8 or
//! terminal escapes, and `pix` never lets a raw ESC byte reach the terminal
//! (app names, config values, logs, error messages), in human and `--json`
//! output alike.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod security_common;

use std::time::{Duration, Instant};

use base64::Engine;
use dokku_client::config::{ConfigScope, ConfigSetOptions};
use dokku_client::logs::LogsOptions;
use dokku_client::transport::{Limits, SshTransport};
use dokku_client::{Client, Command, ExportFormat};
use pix_sandbox::contract::{Fault, FaultAction};
use pix_sandbox::sandbox::{procs, Sandbox, SandboxOptions};
use security_common::{contains, pix, pix_bin, ssh_config, PixRun};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Arms a `Respond` fault for the next command starting with `matches`.
fn respond(
    sb: &Sandbox,
    matches: &str,
    stdout: &[u8],
    stderr: &[u8],
    code: i32,
    repeat: Option<u64>,
) {
    sb.inject_fault(Fault {
        matches: matches.into(),
        action: FaultAction::Respond {
            stdout_b64: b64(stdout),
            stderr_b64: b64(stderr),
            code,
            repeat,
        },
        times: 1,
    })
    .unwrap();
}

fn emulators(sb: &Sandbox) -> Vec<i32> {
    let needle = sb.emulator_bin().as_os_str().as_encoded_bytes().to_vec();
    procs::all_processes()
        .into_iter()
        .filter(|p| !p.zombie)
        .filter(|p| {
            std::fs::read(format!("/proc/{}/cmdline", p.pid))
                .map(|c| contains(&c, &needle))
                .unwrap_or(false)
        })
        .map(|p| p.pid)
        .collect()
}

const ESC_TITLE: &[u8] = b"\x1b]0;pwned\x07";
const ESC_CLEAR: &[u8] = b"\x1b[2J";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_output_stops_at_the_capture_limit_with_a_clear_error() {
    let sb = Sandbox::start(SandboxOptions::default()).expect("sandbox");
    let limits = Limits::default().stdout(1024 * 1024).stderr(64 * 1024);
    let client = Client::new(
        SshTransport::connect(ssh_config(&sb).limits(limits))
            .await
            .unwrap(),
    );
    client.version().await.unwrap();

    respond(&sb, "apps:list", &b"evil-app\n".repeat(4096), b"", 0, None);
    let started = Instant::now();
    let err = client.apps_list().await.unwrap_err();
    assert_eq!(err.kind(), "parse", "{err}");
    let msg = err.to_string();
    assert!(msg.contains("1048576 bytes"), "{msg}");
    assert!(
        msg.contains("stream it to a file"),
        "says what to do: {msg}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    // The remote process sees its reader gone and exits.
    let deadline = Instant::now() + Duration::from_secs(15);
    while !emulators(&sb).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(emulators(&sb).is_empty(), "the endless writer still runs");
    // The connection is still usable.
    assert!(client.apps_list().await.is_ok());

    // Endless stderr is read to its end but kept bounded.
    respond(
        &sb,
        "apps:list",
        b"",
        &vec![b'e'; 2 * 1024 * 1024],
        1,
        Some(0),
    );
    let out = client.run(Command::read("apps:list")).await.unwrap();
    assert_eq!(out.exit_code, 1);
    assert!(
        out.stderr.len() <= limits.stderr + 64,
        "{}",
        out.stderr.len()
    );
    assert!(out
        .stderr_text()
        .ends_with("[dokku-client: stderr truncated]\n"));
    client.close().await.unwrap();
}

/// Payloads a hostile server sends instead of a command's output.
fn payloads() -> Vec<(&'static str, Vec<u8>)> {
    let mut huge = b"=====> My Apps\n".to_vec();
    huge.extend(std::iter::repeat_n(b'x', 4 * 1024 * 1024));
    let mut invalid = b"=====> a app information\n       App dir:  /home/\xff\xfe\xc0\x80dokku\n       App locked: \xed\xa0\x80true\n".to_vec();
    invalid.extend_from_slice(b"DATABASE_URL: postgres://u:p@\xff/db\n{\"a\":\"\xff\"}\n");
    let mut escapes = b"=====> ".to_vec();
    escapes.extend_from_slice(ESC_TITLE);
    escapes.extend_from_slice(b"app information\n       App dir: ");
    escapes.extend_from_slice(ESC_CLEAR);
    escapes.extend_from_slice(b"\n");
    escapes.extend_from_slice(ESC_CLEAR);
    escapes.extend_from_slice(b"app\nKEY: ");
    escapes.extend_from_slice(ESC_TITLE);
    escapes.extend_from_slice(b"\n2026-01-01T00:00:00Z app[web.1]: ");
    escapes.extend_from_slice(ESC_CLEAR);
    escapes.push(b'\n');
    let nul = b"\0\0=====>\0 \0:\0\n\r\r\r:::::\n".repeat(1000);
    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes();
    vec![
        ("huge line", huge),
        ("invalid utf-8", invalid),
        ("escapes", escapes),
        ("nul bytes", nul),
        ("deeply nested json", deep_json),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_parsers_survive_hostile_output() {
    let sb = Sandbox::start(SandboxOptions::default()).expect("sandbox");
    let c = Client::new(SshTransport::connect(ssh_config(&sb)).await.unwrap());
    c.version().await.unwrap();
    for (name, payload) in payloads() {
        for code in [0, 1] {
            // Each call is answered by the hostile payload; any result but a
            // panic (or a hang) is acceptable.
            macro_rules! hostile {
                ($matches:expr, $call:expr) => {{
                    respond(&sb, $matches, &payload, &payload, code, Some(1));
                    let r = $call;
                    assert_eq!(sb.pending_faults(), 0, "{name}: {} not answered", $matches);
                    let shown = match &r {
                        Ok(v) => format!("{v:?}"),
                        Err(e) => e.to_string(),
                    };
                    assert!(shown.len() < 64 * 1024 * 1024);
                }};
            }
            hostile!("apps:list", c.apps_list().await);
            hostile!("apps:report", c.apps_report("a").await);
            hostile!("ps:report", c.ps_report("a").await);
            hostile!("git:report", c.git_report("a").await);
            hostile!("domains:report", c.domains_report("a").await);
            hostile!("config:show", c.config_show("a").await);
            hostile!(
                "config:export",
                c.config_export("a", ExportFormat::Json).await
            );
            hostile!("config:get", c.config_get("a", "K").await);
            hostile!("postgres:info", c.postgres_info("s").await);
            hostile!("postgres:list", c.postgres_list().await);
            hostile!("logs", c.logs("a", &LogsOptions::default()).await);
            hostile!("storage:list", c.storage_list("a").await);
            hostile!("ssh-keys:list", c.ssh_keys_list().await);
            hostile!("plugin:list", c.plugin_list().await);
            hostile!("ps:scale", c.ps_scale_get("a").await);
        }
    }
    c.close().await.unwrap();
}

/// Runs `pix` under a pseudo-terminal (`script`), colours off, and returns
/// what the terminal received.
fn pix_on_a_terminal(toml: &std::path::Path, cwd: &std::path::Path, args: &[&str]) -> PixRun {
    let mut words = vec![
        pix_bin().display().to_string(),
        "--config".into(),
        toml.display().to_string(),
    ];
    words.extend(args.iter().map(|a| a.to_string()));
    let line = words
        .iter()
        .map(|w| pix_sandbox::target::shell_quote(w))
        .collect::<Vec<_>>()
        .join(" ");
    let out = std::process::Command::new("script")
        .args(["-q", "-e", "-c", &line, "/dev/null"])
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env("TERM", "dumb")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    PixRun {
        code: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: out.stderr,
    }
}

#[test]
fn pix_never_prints_a_raw_escape_from_the_server() {
    let sb = Sandbox::start(SandboxOptions::default()).expect("sandbox");
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("pix.toml");
    sb.write_pix_toml(&toml).unwrap();
    let app = pix_sandbox::sandbox::pix_toml::APP;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut value = b"before ".to_vec();
    value.extend_from_slice(ESC_TITLE);
    value.extend_from_slice(ESC_CLEAR);
    value.extend_from_slice(b" after");
    let value = String::from_utf8(value).unwrap();
    rt.block_on(async {
        let c = Client::new(SshTransport::connect(ssh_config(&sb)).await.unwrap());
        c.apps_create(app).await.unwrap();
        c.config_set(
            ConfigScope::App(app),
            &[("EVIL", value.as_str()), ("EVIL_TOKEN", value.as_str())],
            ConfigSetOptions::default().no_restart(),
        )
        .await
        .unwrap();
        // The typed API keeps the value exact (it is data, not display).
        let vars = c.config_export(app, ExportFormat::Json).await.unwrap();
        assert_eq!(vars.get("EVIL"), Some(value.as_str()));
        c.close().await.unwrap();
    });

    let mut escaped_app_list = b"=====> My Apps\n".to_vec();
    escaped_app_list.extend_from_slice(ESC_TITLE);
    escaped_app_list.extend_from_slice(b"evil\n");
    escaped_app_list.extend_from_slice(ESC_CLEAR);
    escaped_app_list.extend_from_slice(b"other\n");
    let mut escaped_logs = b"2026-01-01T00:00:00.000000000Z app[web.1]: hello ".to_vec();
    escaped_logs.extend_from_slice(ESC_TITLE);
    escaped_logs.extend_from_slice(ESC_CLEAR);
    escaped_logs.push(b'\n');
    let mut escaped_error = b" !     App ".to_vec();
    escaped_error.extend_from_slice(ESC_TITLE);
    escaped_error.extend_from_slice(ESC_CLEAR);
    escaped_error.extend_from_slice(b" does not exist\n");

    // Raw server streams (`logs`) are passed through exactly into a pipe (they
    // are data there: `pix logs > file`) and neutralised on a terminal, so
    // they are checked under a pseudo-terminal; everything else is checked
    // in a pipe too.
    type Case<'a> = (
        &'a str,
        Option<(&'a str, &'a [u8], &'a [u8], i32)>,
        Vec<&'a str>,
    );
    let cases: Vec<Case<'_>> = vec![
        (
            "apps list",
            Some(("apps:list", &escaped_app_list, b"", 0)),
            vec!["apps", "list"],
        ),
        ("config show", None, vec!["config", "show", app]),
        (
            "config show --reveal",
            None,
            vec!["config", "show", app, "--reveal"],
        ),
        ("config get", None, vec!["config", "get", app, "EVIL"]),
        (
            "dokku passthrough",
            Some(("apps:list", &escaped_app_list, &escaped_error, 0)),
            vec!["dokku", "apps:list"],
        ),
        (
            "logs",
            Some(("logs", &escaped_logs, b"", 0)),
            vec!["logs", app],
        ),
        (
            "apps info error",
            Some(("apps:report", b"", &escaped_error, 20)),
            vec!["apps", "info", app],
        ),
        ("status", None, vec!["status"]),
    ];
    for (name, fault, args) in cases {
        // Human output, on a terminal: nothing the server sent may drive it.
        if let Some((matches, out, err, code)) = fault {
            respond(&sb, matches, out, err, code, Some(1));
        }
        let run = pix_on_a_terminal(&toml, dir.path(), &args);
        assert!(
            !run.all_bytes().contains(&0x1b),
            "{name} printed a raw ESC on a terminal:\n{}",
            run.text().escape_debug()
        );
        assert!(
            contains(&run.all_bytes(), b"\\u{1b}") || name == "status",
            "{name}: the escape is shown escaped:\n{}",
            run.text().escape_debug()
        );
        // JSON into a pipe: escapes are JSON-escaped. (`pix dokku` passes
        // every word, `--json` included, to Dokku and its output through.)
        if name == "dokku passthrough" {
            continue;
        }
        if let Some((matches, out, err, code)) = fault {
            respond(&sb, matches, out, err, code, Some(1));
        }
        let mut json_args = args.clone();
        json_args.push("--json");
        let run = pix(&toml, dir.path(), &json_args, &[]);
        assert!(
            !run.stdout.contains(&0x1b),
            "{name} --json printed a raw ESC:\n{}",
            run.text().escape_debug()
        );
        if fault.is_some() {
            assert_eq!(sb.pending_faults(), 0, "{name}: the fault did not fire");
        }
    }
    // `config get` into a pipe is data: the exact value, for scripts.
    let run = pix(&toml, dir.path(), &["config", "get", app, "EVIL"], &[]);
    assert_eq!(
        run.stdout,
        format!("{value}\n").into_bytes(),
        "{}",
        run.text()
    );
}
