//! Hostile input through the typed API, on every emulator profile, beyond
//! client_ssh.rs's raw-argument table: app names, service names and config
//! keys are refused before anything is sent; config values arrive byte-exact
//! through `config:set --encoded` and read back identical; `run` arguments
//! arrive byte-exact or are refused. The emulator's record of what it
//! received is the judge, and a marker file proves no shell ran `$(...)`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use std::path::PathBuf;

use dokku_client::config::{ConfigScope, ConfigSetOptions};
use dokku_client::run::RunOptions;
use dokku_client::transport::{SshConfig, SshTransport};
use dokku_client::{Client, Error, ExportFormat};
use pix_sandbox::contract::Profile;
use pix_sandbox::sandbox::{Sandbox, SandboxOptions};

/// A file that exists only if some shell ran an injected command.
fn marker() -> PathBuf {
    PathBuf::from(format!("/tmp/pxs-pwned-{}", std::process::id()))
}

/// The corpus of issue 8.
fn corpus() -> Vec<String> {
    let m = marker();
    let m = m.display();
    let mut v: Vec<String> = [
        "with space",
        "it's",
        "\"double\"",
        "a;b",
        "a|b",
        "a && b",
        "multi\nline",
        "cr\rreturn",
        "nul\0byte",
        "-leading",
        "-n",
        "-e",
        "--force",
        "--app",
        "--app=other",
        "--quiet",
        "--help",
        "x --force",
        "x --app other",
        "x\n--app\nother",
        "\u{430}pp",   // Cyrillic a
        "\u{ff41}pp",  // fullwidth a
        "app\u{200b}", // zero-width space
        "APP",
        "\u{1b}]0;pwned\u{7}",
        "\u{1b}[2J",
        "ünïcödé ✓",
        "",
        "*",
        "~",
        "$HOME",
        "back\\slash",
        "'",
        "''",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(format!("$(touch {m})"));
    v.push(format!("`touch {m}`"));
    v.push(format!("x; touch {m}"));
    v.push(format!("x | touch {m}"));
    v.push("a".repeat(4096));
    v.push("b".repeat(70_000));
    v
}

fn config(sb: &Sandbox) -> SshConfig {
    SshConfig::new(sb.host())
        .port(sb.port())
        .user(sb.user())
        .key(sb.key_path())
        .known_hosts(sb.known_hosts_path())
        .config_file("/dev/null")
}

async fn client(sb: &Sandbox) -> Client {
    let c = Client::new(SshTransport::connect(config(sb)).await.unwrap());
    c.version().await.unwrap();
    c
}

/// A value for messages: escaped, at most 40 characters.
fn short(value: &str) -> String {
    let mut s: String = value.chars().take(40).collect();
    if value.chars().count() > 40 {
        s.push_str("...");
    }
    s
}

fn received_len(sb: &Sandbox) -> usize {
    sb.received().unwrap().len()
}

/// Asserts `result` is a refusal of the kind given and nothing was sent.
fn assert_refused<T: std::fmt::Debug>(
    sb: &Sandbox,
    before: usize,
    result: Result<T, Error>,
    what: &str,
) {
    match result {
        Err(Error::InvalidName { .. }) => {}
        other => panic!(
            "{what}: expected InvalidName, got {}",
            short(&format!("{other:?}"))
        ),
    }
    assert_eq!(
        received_len(sb),
        before,
        "{what}: a refused call sent nothing"
    );
}

async fn names_and_keys_are_refused(profile: Profile) {
    let sb = Sandbox::start(SandboxOptions::profile(profile)).expect("sandbox");
    let c = client(&sb).await;
    c.apps_create("hostile").await.unwrap();
    for bad in corpus() {
        let what = format!("{profile:?} app {:?}", short(&bad));
        let valid_app = dokku_client::apps::validate_app_name(&bad).is_ok();
        let before = received_len(&sb);
        // (A long run of `a` is a valid name: the server answers for it.)
        if !valid_app {
            assert_refused(&sb, before, c.apps_report(&bad).await, &what);
            assert_refused(&sb, before, c.apps_create(&bad).await, &what);
            assert_refused(&sb, before, c.apps_destroy(&bad, true).await, &what);
            assert_refused(&sb, before, c.config_show(bad.as_str()).await, &what);
            assert_refused(
                &sb,
                before,
                c.run_in_app(&bad, &["true"], &RunOptions::default()).await,
                &what,
            );
        }

        // Service names: refused, or (a leading `-` the server's regex also
        // allows) sent byte-exact as one argument.
        let what = format!("{profile:?} service {:?}", short(&bad));
        let before = received_len(&sb);
        match c.postgres_info(&bad).await {
            Err(Error::InvalidName { .. } | Error::UnsafeArgument { .. }) => {
                assert_eq!(received_len(&sb), before, "{what}: sent after a refusal")
            }
            _ => {
                let got = sb.received().unwrap();
                assert_eq!(got.len(), before + 1, "{what}");
                assert_eq!(got[before].argv[1], bad.as_bytes(), "{what}");
                assert!(
                    bad.chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'),
                    "{what}: only a name of the server's service characters may pass"
                );
            }
        }

        // Config keys (`APP` is a valid one).
        if dokku_client::parse::config::is_config_key(&bad) {
            continue;
        }
        let what = format!("{profile:?} key {:?}", short(&bad));
        let before = received_len(&sb);
        assert_refused(
            &sb,
            before,
            c.config_set(
                "hostile",
                &[(bad.as_str(), "v")],
                ConfigSetOptions { no_restart: true },
            )
            .await,
            &what,
        );
        assert_refused(&sb, before, c.config_get("hostile", &bad).await, &what);
        assert_refused(
            &sb,
            before,
            c.config_unset(
                "hostile",
                &[bad.as_str()],
                ConfigSetOptions { no_restart: true },
            )
            .await,
            &what,
        );
    }
    c.close().await.unwrap();
    assert!(!marker().exists(), "an injected command ran");
}

async fn values_and_run_arguments_arrive_byte_exact(profile: Profile) {
    let sb = Sandbox::start(SandboxOptions::profile(profile)).expect("sandbox");
    let c = client(&sb).await;
    c.apps_create("hostile").await.unwrap();
    let no_restart = ConfigSetOptions { no_restart: true };
    for (i, value) in corpus().into_iter().enumerate() {
        let key = format!("HOSTILE_{i}");
        let what = format!("{profile:?} value {:?}", short(&value));
        let before = received_len(&sb);
        match c
            .config_set(
                ConfigScope::App("hostile"),
                &[(key.as_str(), value.as_str())],
                no_restart,
            )
            .await
        {
            Ok(_) => {}
            // Too long for one command line: refused before sending.
            Err(Error::UnsafeArgument { reason, .. }) if value.len() > 40_000 => {
                assert!(reason.contains("bytes"), "{what}: {reason}");
                assert_eq!(received_len(&sb), before, "{what}");
                continue;
            }
            Err(e) => panic!("{what}: {e}"),
        }
        // What the server received: one config:set with the value encoded.
        let got = sb.received().unwrap();
        assert_eq!(got.len(), before + 1, "{what}");
        let argv = got[before].argv_lossy();
        assert_eq!(
            argv[..4],
            ["config:set", "--encoded", "--no-restart", "hostile"],
            "{what}"
        );
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(value.as_bytes());
        assert_eq!(argv[4], format!("{key}={encoded}"), "{what}");
        // Read back exactly.
        let back = match c.config_export("hostile", ExportFormat::Json).await {
            Ok(vars) => vars.get(&key).map(str::to_string),
            // 0.19 has no JSON export: config:get.
            Err(_) => c.config_get("hostile", &key).await.unwrap(),
        };
        assert_eq!(back.as_deref(), Some(value.as_str()), "{what}");

        // `run` arguments: byte-exact, or refused with nothing sent.
        let before = received_len(&sb);
        match c
            .run_in_app("hostile", &["echo", value.as_str()], &RunOptions::default())
            .await
        {
            Ok(_) => {
                let got = sb.received().unwrap();
                assert_eq!(got.len(), before + 1, "{what}");
                let expected: Vec<Vec<u8>> = vec![
                    b"run".to_vec(),
                    b"hostile".to_vec(),
                    b"echo".to_vec(),
                    value.as_bytes().to_vec(),
                ];
                assert_eq!(got[before].argv, expected, "{what}");
            }
            Err(Error::UnsafeArgument { argument, reason }) => {
                assert_eq!(received_len(&sb), before, "{what}: sent after a refusal");
                assert!(
                    !argument.contains('\u{1b}'),
                    "{what}: raw escape in the error"
                );
                assert!(!reason.is_empty());
            }
            Err(other) => panic!("{what}: {other}"),
        }
    }
    c.close().await.unwrap();
    assert!(!marker().exists(), "an injected command ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_and_keys_are_refused_0_38() {
    names_and_keys_are_refused(Profile::V0_38).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_and_keys_are_refused_0_30() {
    names_and_keys_are_refused(Profile::V0_30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_and_keys_are_refused_0_19() {
    names_and_keys_are_refused(Profile::V0_19).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_values_and_run_arguments_arrive_byte_exact_0_38() {
    values_and_run_arguments_arrive_byte_exact(Profile::V0_38).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_values_and_run_arguments_arrive_byte_exact_0_30() {
    values_and_run_arguments_arrive_byte_exact(Profile::V0_30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_values_and_run_arguments_arrive_byte_exact_0_19() {
    values_and_run_arguments_arrive_byte_exact(Profile::V0_19).await;
}
