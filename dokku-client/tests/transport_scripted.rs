//! A `Client` over the scripted transport answering from the shared fixtures
//! (`DOKKU_FIXTURES_DIR`, else `../../shared/dokku/fixtures` from the crate).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on setup errors

use std::path::PathBuf;

use dokku_client::transport::{ScriptedCase, ScriptedTransport};
use dokku_client::{Client, Command, Output, Request, Stdin, Stdout};

fn fixtures_dir() -> PathBuf {
    std::env::var_os("DOKKU_FIXTURES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/dokku/fixtures")
        })
}

fn fixture(case: &str, file: &str) -> Vec<u8> {
    std::fs::read(fixtures_dir().join(case).join(file)).unwrap()
}

#[tokio::test]
async fn every_fixture_case_is_loaded_and_answered() {
    let transport = ScriptedTransport::from_dir(fixtures_dir()).unwrap();
    let folders = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("cmd").is_file())
        .count();
    assert_eq!(transport.cases().len(), folders);
    assert!(folders > 0);
    // Each case, loaded on its own, answers its own command line split like
    // a shell, with its exact bytes.
    for case in transport.cases() {
        let Some(words) = dokku_client::transport::scripted::shell_words(&case.cmd) else {
            continue;
        };
        if words.is_empty() {
            continue;
        }
        let name = case.name.clone().unwrap();
        let single = ScriptedTransport::new().case(case.cmd.clone(), case.output.clone());
        let client = Client::builder(single)
            .version(dokku_client::DokkuVersion::new(0, 38, 27))
            .build();
        let cmd = Command::raw(words.clone()).unwrap();
        match client.run(cmd).await {
            Ok(out) => {
                assert_eq!(out.stdout, fixture(&name, "stdout"), "{name}");
                assert_eq!(out.stderr, fixture(&name, "stderr"), "{name}");
                let code: i32 = String::from_utf8(fixture(&name, "exit_code"))
                    .unwrap()
                    .trim()
                    .parse()
                    .unwrap();
                assert_eq!(out.exit_code, code, "{name}");
            }
            // Cases whose words cannot be sent safely to a 0.38 server
            // (e.g. a bare `-n`) are refused exactly as over SSH.
            Err(e) => assert_eq!(e.kind(), "unsafe_argument", "{name}: {e}"),
        }
    }
}

#[tokio::test]
async fn a_client_reads_version_and_apps_from_the_fixtures() {
    let transport = ScriptedTransport::from_dir(fixtures_dir()).unwrap();
    let client = Client::new(transport.clone());
    let version = client.version().await.unwrap();
    assert_eq!((version.major, version.minor, version.patch), (0, 38, 27));
    let out = client.run_ok(Command::read("apps:list")).await.unwrap();
    assert_eq!(out.stdout, fixture("apps-list-basic", "stdout"));
    let out = client
        .run_ok(Command::read("apps:list").flag("--format").flag("json"))
        .await
        .unwrap();
    assert_eq!(out.stdout, fixture("apps-list-json", "stdout"));

    // The request log records what was asked, in order, secrets included.
    let requests = transport.requests();
    let argv: Vec<String> = requests.iter().map(|r| r.argv.join(" ")).collect();
    assert_eq!(
        argv,
        vec!["version", "apps:list", "apps:list --format json"]
    );
    assert!(
        requests[1].version.is_some(),
        "requests carry the detected version"
    );
}

#[tokio::test]
async fn quoted_cmd_files_match_their_unquoted_argv() {
    let transport = ScriptedTransport::from_dir(fixtures_dir()).unwrap();
    let client = Client::builder(transport)
        .version(dokku_client::DokkuVersion::new(0, 38, 27))
        .build();
    // cmd: config:set --no-restart myapp MESSAGE="hello   world" URL=...
    let out = client
        .run(
            Command::write("config:set")
                .flag("--no-restart")
                .value("myapp")
                .value("MESSAGE=hello   world")
                .value("URL=https://a.example.com:8443/x?y=1"),
        )
        .await
        .unwrap();
    assert_eq!(out.stdout, fixture("config-set-no-restart", "stdout"));
}

#[tokio::test]
async fn unmatched_commands_name_the_nearest_cases() {
    let transport = ScriptedTransport::from_dir(fixtures_dir()).unwrap();
    let client = Client::new(transport);
    let err = client.run(Command::read("apps:lst")).await.unwrap_err();
    assert_eq!(err.kind(), "config");
    let text = err.to_string();
    assert!(text.contains("apps:lst"), "{text}");
    assert!(text.contains("`apps:list`"), "{text}");
}

#[tokio::test]
async fn hand_made_cases_repeat_in_order_and_stream() {
    let transport = ScriptedTransport::new()
        .version("0.30.5")
        .case(
            "apps:create web",
            Output::new(0, "-----> Creating web...\n", ""),
        )
        .case(
            "apps:create web",
            Output::new(1, "", " !     Name is already taken\n"),
        )
        .case(
            "postgres:export db",
            Output::new(0, b"PGDMP\x00\x01binary".to_vec(), ""),
        )
        .case("postgres:import db", Output::new(0, "", ""));
    let client = Client::new(transport.clone());
    assert_eq!(client.version().await.unwrap().minor, 30);
    client
        .run_ok(Command::write("apps:create").value("web"))
        .await
        .unwrap();
    let err = client
        .run_ok(Command::write("apps:create").value("web"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "already_exists", "{err}");
    // The last case repeats.
    assert!(client
        .run_ok(Command::write("apps:create").value("web"))
        .await
        .is_err());

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dump");
    let file = tokio::fs::File::create(&path).await.unwrap();
    let out = client
        .execute(
            Request::new(Command::read("postgres:export").value("db"))
                .stdout(Stdout::Writer(Box::new(file))),
        )
        .await
        .unwrap();
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read(&path).unwrap(), b"PGDMP\x00\x01binary");

    client
        .execute(
            Request::new(Command::write("postgres:import").value("db")).stdin(Stdin::Reader(
                Box::new(std::io::Cursor::new(b"dump bytes".to_vec())),
            )),
        )
        .await
        .unwrap();
    let last = transport.requests().pop().unwrap();
    assert_eq!(last.stdin, b"dump bytes");
}

#[test]
fn a_case_folder_loads_exactly() {
    let case = ScriptedCase::from_dir(&fixtures_dir().join("version-current")).unwrap();
    assert_eq!(case.cmd, "version");
    assert_eq!(case.output.exit_code, 0);
    assert_eq!(case.output.stdout, fixture("version-current", "stdout"));
    assert!(ScriptedCase::from_dir(&fixtures_dir().join("no-such-case")).is_err());
}
