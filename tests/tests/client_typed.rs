//! Every typed method of `dokku_client::Client`, over real SSH, against the
//! sandbox on each emulator profile (0.38, 0.30, 0.19). The state each method
//! reports is checked against what was done to it, and against raw `ssh`
//! where the two could disagree.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::collections::BTreeMap;

use dokku_client::config::{ConfigSetOptions, ExportFormat};
use dokku_client::logs::LogsOptions;
use dokku_client::postgres::LinkOptions;
use dokku_client::run::{RunCommand, RunOptions};
use dokku_client::transport::{SshConfig, SshTransport};
use dokku_client::Client;
use pix_sandbox::contract::Profile;
use pix_sandbox::sandbox::{Sandbox, SandboxOptions};
use pix_sandbox::scenario;

async fn client(sb: &Sandbox) -> Client {
    let config = SshConfig::new(sb.host())
        .user(sb.user())
        .port(sb.port())
        .key(sb.key_path())
        .known_hosts(sb.known_hosts_path());
    Client::new(SshTransport::connect(config).await.expect("connect"))
}

async fn every_typed_method(profile: Profile) {
    let sb = Sandbox::start(SandboxOptions::profile(profile)).expect("sandbox");
    let work = tempfile::tempdir().unwrap();
    let c = client(&sb).await;
    let version = c.version().await.unwrap().clone();
    let expected = match profile {
        Profile::V0_38 => (0, 38),
        Profile::V0_30 => (0, 30),
        Profile::V0_19 => (0, 19),
    };
    assert_eq!((version.major, version.minor), expected, "{profile:?}");

    // apps
    assert!(c.apps_list().await.unwrap().is_empty());
    c.apps_create("web-a").await.unwrap();
    c.apps_create("web-b").await.unwrap();
    let err = c.apps_create("web-a").await.unwrap_err();
    assert_eq!(err.kind(), "already_exists", "{err}");
    assert_eq!(c.apps_list().await.unwrap(), ["web-a", "web-b"]);
    assert!(c.apps_exists("web-a").await.unwrap());
    assert!(!c.apps_exists("nope").await.unwrap());
    let err = c.apps_report("nope").await.unwrap_err();
    assert_eq!(err.kind(), "app_not_found", "{profile:?}: {err}");
    assert!(!c.apps_locked("web-a").await.unwrap());
    c.apps_lock("web-a").await.unwrap();
    assert!(c.apps_locked("web-a").await.unwrap());
    c.apps_unlock("web-a").await.unwrap();
    assert!(!c.apps_locked("web-a").await.unwrap());
    let reports = c.apps_reports().await.unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0].app.as_deref(), Some("web-a"));

    // config: values that need quoting arrive exactly (sent --encoded)
    let vars = [
        ("GREETING", "hé  llo 'w' \"x\" $(id)"),
        ("MULTI", "a\nb"),
        ("EMPTYISH", " "),
    ];
    c.config_set("web-a", &vars, ConfigSetOptions::default().no_restart())
        .await
        .unwrap();
    for (k, v) in vars {
        assert_eq!(
            c.config_get("web-a", k).await.unwrap().as_deref(),
            Some(v),
            "{k}"
        );
    }
    assert_eq!(c.config_get("web-a", "UNSET").await.unwrap(), None);
    let exported = c.config_export("web-a", ExportFormat::Json).await.unwrap();
    assert_eq!(exported.get("MULTI"), Some("a\nb"));
    let shown = c.config_show("web-a").await.unwrap();
    assert!(shown.get("GREETING").is_some());
    let mut keys = c.config_keys("web-a").await.unwrap();
    keys.sort();
    assert_eq!(keys, ["EMPTYISH", "GREETING", "MULTI"]);
    c.config_unset(
        "web-a",
        &["EMPTYISH"],
        ConfigSetOptions::default().no_restart(),
    )
    .await
    .unwrap();
    assert_eq!(c.config_get("web-a", "EMPTYISH").await.unwrap(), None);

    // postgres
    assert!(c.postgres_list().await.unwrap().is_empty());
    let info = c.postgres_create("db-a").await.unwrap();
    let dsn = info.dsn.clone().expect("dsn");
    assert!(!dsn.to_string().contains(
        dsn.expose_secret()
            .split(':')
            .nth(2)
            .unwrap()
            .split('@')
            .next()
            .unwrap()
    ));
    assert!(c.postgres_exists("db-a").await.unwrap());
    assert!(!c.postgres_exists("db-nope").await.unwrap());
    assert_eq!(c.postgres_list().await.unwrap(), ["db-a"]);
    let err = c.postgres_info("db-nope").await.unwrap_err();
    assert_eq!(err.kind(), "service_not_found", "{err}");
    assert!(!c.postgres_linked("db-a", "web-a").await.unwrap());
    c.postgres_link("db-a", "web-a", &LinkOptions::default().no_restart())
        .await
        .unwrap();
    assert!(c.postgres_linked("db-a", "web-a").await.unwrap());
    assert_eq!(c.postgres_links("db-a").await.unwrap(), ["web-a"]);
    assert_eq!(
        c.config_get("web-a", "DATABASE_URL")
            .await
            .unwrap()
            .as_deref(),
        Some(dsn.expose_secret())
    );
    let err = c.postgres_destroy("db-a").await.unwrap_err();
    assert!(err.to_string().contains("linked"), "{err}");

    // a deployed app: ps, git, domains, run, logs
    let repo = scenario::sample_app_repo(work.path(), "web-a").unwrap();
    scenario::push(&sb, &repo, "web-a").unwrap();
    let ps = c.ps_report("web-a").await.unwrap();
    assert_eq!(ps.deployed, Some(true), "{ps:?}");
    assert_eq!(ps.running.as_deref(), Some("true"));
    assert_eq!(ps.statuses.len(), 1, "{ps:?}");
    assert_eq!(ps.statuses[0].process_type, "web");
    let git = c.git_report("web-a").await.unwrap();
    let head = scenario::git(&repo, &["rev-parse", "HEAD"]).unwrap();
    // Dokku 0.19's git:report has no sha row; its apps:report has `Git sha`.
    let sha = match git.sha.clone() {
        Some(sha) => sha,
        None => {
            let app = c.apps_report("web-a").await.unwrap();
            app.other.get("git_sha").cloned().unwrap_or_default()
        }
    };
    assert!(
        !sha.is_empty() && head.starts_with(&sha),
        "{git:?} vs {head}"
    );
    let domains = c.domains_report("web-a").await.unwrap();
    assert!(
        domains.app_vhosts.iter().any(|v| v.starts_with("web-a.")),
        "{domains:?}"
    );
    let out = c
        .run_in_app(
            "web-a",
            &RunCommand::shell("echo hi; exit 7"),
            &RunOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(out.exit_code, 7);
    assert_eq!(out.stdout_text().trim(), "hi");
    // argv: the words arrive as typed, nothing interprets them.
    let out = c
        .run_in_app(
            "web-a",
            &RunCommand::argv(["echo", "hi;", "exit", "7"]),
            &RunOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(out.exit_code, 0);
    assert_eq!(out.stdout_text(), "hi; exit 7\n");
    c.ps_stop("web-a").await.unwrap();
    assert_eq!(
        c.ps_report("web-a").await.unwrap().running.as_deref(),
        Some("false")
    );
    c.ps_start("web-a").await.unwrap();
    assert_eq!(
        c.ps_report("web-a").await.unwrap().running.as_deref(),
        Some("true")
    );
    c.ps_restart("web-a").await.unwrap();
    c.ps_rebuild("web-a").await.unwrap();
    assert_eq!(
        c.ps_report("web-a").await.unwrap().running.as_deref(),
        Some("true")
    );
    let mut formation = BTreeMap::new();
    formation.insert("web".to_string(), 2u32);
    c.ps_scale_set("web-a", &formation, Default::default())
        .await
        .unwrap();
    assert_eq!(c.ps_scale_get("web-a").await.unwrap().get("web"), Some(&2));
    assert_eq!(c.ps_report("web-a").await.unwrap().statuses.len(), 2);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let lines = c
        .logs("web-a", &LogsOptions::default().num(5))
        .await
        .unwrap();
    assert!(
        lines.iter().any(|l| l.message.contains("web:")),
        "{lines:?}"
    );

    // export / import round trip of real rows through the typed streams
    scenario::seed(&sb, "web-a", 7).unwrap();
    let dump = work.path().join("db-a.dump");
    let file = tokio::fs::File::create(&dump).await.unwrap();
    c.postgres_export("db-a", file).await.unwrap();
    assert!(std::fs::read(&dump).unwrap().starts_with(b"PGDMP"));
    c.postgres_create("db-b").await.unwrap();
    c.postgres_import("db-b", tokio::fs::File::open(&dump).await.unwrap())
        .await
        .unwrap();
    let db_b = scenario::dsn(&sb, "db-b").unwrap();
    assert_eq!(scenario::count_rows(&sb, &db_b, "users").unwrap(), Some(7));

    // storage, keys, plugins
    c.storage_mount("web-a", "/var/lib/pix/uploads:/app/uploads")
        .await
        .unwrap();
    let mounts = c.storage_list("web-a").await.unwrap();
    assert_eq!(mounts.len(), 1, "{mounts:?}");
    assert_eq!(mounts[0].container_path, "/app/uploads");
    c.storage_unmount("web-a", "/var/lib/pix/uploads:/app/uploads")
        .await
        .unwrap();
    assert!(c.storage_list("web-a").await.unwrap().is_empty());
    assert!(
        !c.ssh_keys_list().await.unwrap().is_empty(),
        "the sandbox's own key is listed"
    );
    assert!(c
        .plugin_list()
        .await
        .unwrap()
        .iter()
        .any(|p| p.name == "postgres"));

    // teardown through the API
    c.postgres_unlink(
        "db-a",
        "web-a",
        dokku_client::postgres::UnlinkOptions::default().no_restart(),
    )
    .await
    .unwrap();
    assert!(!c.postgres_linked("db-a", "web-a").await.unwrap());
    c.postgres_destroy("db-a").await.unwrap();
    assert!(!c.postgres_exists("db-a").await.unwrap());
    c.apps_destroy("web-b").await.unwrap();
    assert_eq!(c.apps_list().await.unwrap(), ["web-a"]);
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_typed_method_0_38() {
    every_typed_method(Profile::V0_38).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_typed_method_0_30() {
    every_typed_method(Profile::V0_30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_typed_method_0_19() {
    every_typed_method(Profile::V0_19).await;
}
