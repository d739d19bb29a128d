//! Hostile input through the typed API, on every emulator profile, beyond
//! client_ssh.rs's raw-argument table: app names, service names and config
//! keys are refused before anything is sent; config values arrive byte-exact
//! through `config:set --encoded` and read back identical; `run` arguments
//! arrive byte-exact or are refused. The emulator's record of what it
//! received is the judge, and a marker file proves no shell ran `$(...)`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use std::path::PathBuf;

use dokku_client::config::{ConfigScope, ConfigSetOptions};
use dokku_client::run::{RunCommand, RunOptions};
use dokku_client::transport::{SshConfig, SshTransport};
use dokku_client::{Client, Error};
use pix_sandbox::contract::Profile;
use pix_sandbox::emulator::split::{self, GlobalFlags};
use pix_sandbox::sandbox::{Sandbox, SandboxOptions};
use pix_sandbox::scenario;

mod security_common;
use security_common::pix;

/// A file that exists only if some shell ran an injected command (the
/// corpus's `touch` words name it).
fn marker() -> PathBuf {
    PathBuf::from("/tmp/pix-hostile-marker")
}

/// The corpus (`tests/data/hostile_words.txt`), plus a word longer than a
/// command line may be.
fn corpus() -> Vec<String> {
    let mut v = pix_sandbox::corpus::hostile_words();
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
            assert_refused(&sb, before, c.apps_destroy(&bad).await, &what);
            assert_refused(&sb, before, c.config_show(bad.as_str()).await, &what);
            assert_refused(
                &sb,
                before,
                c.run_in_app(&bad, &RunCommand::argv(["true"]), &RunOptions::default())
                    .await,
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
                ConfigSetOptions::default().no_restart(),
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
                ConfigSetOptions::default().no_restart(),
            )
            .await,
            &what,
        );
    }
    c.close().await.unwrap();
    assert!(!marker().exists(), "an injected command ran");
}

/// A deployed app whose container runs what `run` is given.
fn deploy_tiny_app(sb: &Sandbox, work: &std::path::Path, app: &str) {
    let repo = work.join(app);
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(repo.join("Procfile"), "web: sleep 3600\n").unwrap();
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "."],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "commit",
            "-qm",
            "tiny",
        ],
    ] {
        scenario::git(&repo, args).unwrap();
    }
    scenario::dokku(sb, &["apps:create", app]).unwrap();
    scenario::push(sb, &repo, app).unwrap();
}

/// Asserts Dokku's first pass (the SSH line split on whitespace, every
/// piece read by `parse_args`) found no global flag, and no `--word` but the
/// command's own flags (`asked`).
fn assert_no_global_flag(
    received: &pix_sandbox::contract::ReceivedCommand,
    asked: &[&str],
    what: &str,
) {
    let line = String::from_utf8_lossy(received.ssh_original_command.as_deref().unwrap_or(b""));
    let mut flags = GlobalFlags::default();
    flags.scan(&split::whitespace_split(&line));
    assert!(
        !flags.quiet && !flags.trace && !flags.force && flags.app.is_none(),
        "{what}: first pass read {flags:?}"
    );
    for f in &flags.all {
        assert!(asked.contains(&f.as_str()), "{what}: first pass saw {f:?}");
    }
}

/// Issue 12's corpus check, on one profile: through the real `pix` binary,
/// `run APP -- printf '%s\0' WORD` gives back exactly WORD (or, for what
/// no program can receive, a clear refusal with nothing sent); `config set`
/// then `config get` (text and `--json`) give back exactly WORD; and the
/// emulator received exactly one command per call, aimed at the app, with
/// no global flag in Dokku's first pass.
async fn values_and_run_arguments_arrive_byte_exact(profile: Profile) {
    let _ = std::fs::remove_file(marker());
    let sb = Sandbox::start(SandboxOptions::profile(profile)).expect("sandbox");
    let work = tempfile::tempdir().unwrap();
    let toml = work.path().join("pix.toml");
    sb.write_pix_toml(&toml).unwrap();
    deploy_tiny_app(&sb, work.path(), "hostile");
    let c = client(&sb).await;
    let no_restart = ConfigSetOptions::default().no_restart();
    for (i, value) in corpus().into_iter().enumerate() {
        let key = format!("HOSTILE_{i}");
        let what = format!("{profile:?} value {:?}", short(&value));

        // config: set through the library (what was sent is checked), read
        // back through pix, as text and as JSON.
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
            // No environment variable can hold a NUL.
            Err(Error::UnsafeArgument { argument, reason }) if value.contains('\0') => {
                assert_eq!(
                    argument,
                    format!("{key}=***"),
                    "{what}: the value is not shown"
                );
                assert!(reason.contains("NUL"), "{what}: {reason}");
                assert_eq!(received_len(&sb), before, "{what}");
                continue;
            }
            Err(e) => panic!("{what}: {e}"),
        }
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
        assert_no_global_flag(&got[before], &["--encoded", "--no-restart"], &what);
        let text = pix(&toml, work.path(), &["config", "get", "hostile", &key], &[]);
        assert_eq!(text.code, 0, "{what}: {}", text.text());
        let mut expected = value.as_bytes().to_vec();
        expected.push(b'\n');
        assert_eq!(text.stdout, expected, "{what}: config get (text)");
        let json = pix(
            &toml,
            work.path(),
            &["--json", "config", "get", "hostile", &key],
            &[],
        );
        assert_eq!(json.code, 0, "{what}: {}", json.text());
        let back: Option<String> = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(
            back.as_deref(),
            Some(value.as_str()),
            "{what}: config get --json"
        );

        // run: through pix, the program receives exactly the word.
        let before = received_len(&sb);
        let run = pix(
            &toml,
            work.path(),
            &["run", "hostile", "--", "printf", "%s\\0", &value],
            &[],
        );
        assert_eq!(run.code, 0, "{what}: {}", run.text());
        let mut expected = value.as_bytes().to_vec();
        expected.push(0);
        assert_eq!(run.stdout, expected, "{what}: run printf");
        // (pix's own connection asks `version` first.)
        let got: Vec<_> = sb.received().unwrap()[before..]
            .iter()
            .filter(|r| r.argv_lossy() != ["version"])
            .cloned()
            .collect();
        assert_eq!(got.len(), 1, "{what}: one command per call");
        assert_eq!(got[0].argv_lossy()[..2], ["run", "hostile"], "{what}");
        assert_no_global_flag(&got[0], &[], &what);
    }
    // What no program can receive is refused before anything is sent.
    let before = received_len(&sb);
    match c
        .run_in_app(
            "hostile",
            &RunCommand::argv(["printf", "%s", "nul\0byte"]),
            &RunOptions::default(),
        )
        .await
    {
        Err(Error::UnsafeArgument { argument, reason }) => {
            assert_eq!(argument, "nul\\u{0}byte");
            assert!(reason.contains("NUL"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(received_len(&sb), before);
    c.close().await.unwrap();
    assert!(!marker().exists(), "an injected command ran");
}

/// Branch names become review-app names: every corpus word maps to a valid
/// app name or is refused, never to something the server would misread.
#[test]
fn branch_names_map_to_valid_app_names_or_are_refused() {
    for word in corpus() {
        match pix_ops::deploy::branch_app_name("review-", &word) {
            Ok(app) => assert!(
                dokku_client::apps::validate_app_name(&app).is_ok(),
                "{:?} -> {app:?}",
                short(&word)
            ),
            Err(e) => assert!(e.to_string().contains("no usable app name"), "{e}"),
        }
    }
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
