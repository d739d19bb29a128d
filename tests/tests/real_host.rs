//! The typed client against a real Dokku host, when one is named by
//! `DOKKU_TEST_HOST` (with `DOKKU_TEST_PORT`, `DOKKU_TEST_USER`,
//! `DOKKU_TEST_KEY`, `DOKKU_TEST_KNOWN_HOSTS`). Without one, every test here
//! prints why it is skipped and passes.
//!
//! What runs there: version detection, every read the client has for every
//! app (reports parsed without a parse error), and the life of one scratch
//! app (`pix-e2e-<run id>-lifecycle-app`, see `pix_sandbox::e2e`): create, config with hostile values, lock, report,
//! destroy. Nothing else on the host is changed. `PIX_SSH=native` (as
//! `cargo xtask e2e` sets for its second pass) uses the native transport.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use dokku_client::config::{ConfigSetOptions, ExportFormat};
use dokku_client::transport::{NativeTransport, SshConfig, SshTransport, Transport};
use dokku_client::Client;
use pix_sandbox::e2e::{Host, Scratch};
use pix_sandbox::target::{self, TestTarget};

fn client_for(target: &TestTarget, rt: &tokio::runtime::Runtime) -> Client {
    let mut config = SshConfig::new(target.host.clone())
        .user(target.user.clone())
        .port(target.port);
    if let Some(key) = &target.key {
        config = config.key(key.clone());
    }
    if let Some(kh) = &target.known_hosts {
        config = config.known_hosts(kh.clone());
    }
    // The transport `cargo xtask e2e` runs this pass on (`PIX_SSH`).
    let transport: Box<dyn Transport> = match std::env::var("PIX_SSH").as_deref() {
        Ok("native") => Box::new(
            rt.block_on(NativeTransport::connect(config))
                .expect("connect to DOKKU_TEST_HOST (native transport)"),
        ),
        _ => Box::new(
            rt.block_on(SshTransport::connect(config))
                .expect("connect to DOKKU_TEST_HOST"),
        ),
    };
    Client::new(transport)
}

/// One test, so its two parts never run at the same time against the host.
#[test]
fn real_host_end_to_end() {
    let Some(real) = target::real_host_or_skip() else {
        return;
    };
    reads_parse(&real);
    scratch_app_lifecycle(&real);
}

fn reads_parse(real: &TestTarget) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = client_for(real, &rt);
    rt.block_on(async {
        let version = client.version().await.expect("version").clone();
        eprintln!("real host runs Dokku {version}");
        let apps = client.apps_list().await.expect("apps:list");
        for app in &apps {
            // An app someone destroys meanwhile is not a failure of ours.
            match client.apps_report(app).await {
                Ok(_) => {}
                Err(dokku_client::Error::AppNotFound { .. }) => continue,
                Err(e) => panic!("apps:report {app}: {e}"),
            }
            client.ps_report(app).await.expect("ps:report");
            client.git_report(app).await.expect("git:report");
            client.domains_report(app).await.expect("domains:report");
            client.config_show(app.as_str()).await.expect("config:show");
        }
        // Other clients (or the lifecycle test) may add apps meanwhile: every
        // app listed before must have its report in the all-apps call.
        let reports = client.apps_reports().await.expect("apps:report (all)");
        for app in &apps {
            assert!(
                reports
                    .iter()
                    .any(|r| r.app.as_deref() == Some(app.as_str())),
                "no report for {app}"
            );
        }
        if client.postgres_list().await.is_ok() {
            for svc in client.postgres_list().await.unwrap() {
                let info = client.postgres_info(&svc).await.expect("postgres:info");
                assert!(!format!("{info:?}").contains(":***@") || info.dsn.is_some());
            }
        }
        client.close().await.unwrap();
    });
}

fn scratch_app_lifecycle(real: &TestTarget) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = client_for(real, &rt);
    // A scratch name of this run (`cargo xtask e2e` sweeps those of dead
    // runs), removed even when this test fails.
    let scratch = Scratch::new(&Host::new(real.clone()), "lifecycle");
    let app = scratch.name("app");
    rt.block_on(async {
        assert!(
            !client.apps_exists(&app).await.unwrap(),
            "{app} already exists"
        );
        client.apps_create(&app).await.expect("apps:create");
        let result = async {
            assert!(client.apps_exists(&app).await?);
            let hostile = [
                ("PIX_SPACES", "a  b   c"),
                ("PIX_QUOTES", "it's \"quoted\""),
                ("PIX_SHELL", "$(id) `id` ; | && $HOME"),
                ("PIX_MULTILINE", "line 1\nline 2"),
                ("PIX_DASH", "-n"),
            ];
            client
                .config_set(
                    app.as_str(),
                    &hostile,
                    ConfigSetOptions::default().no_restart(),
                )
                .await?;
            let exported = client
                .config_export(app.as_str(), ExportFormat::Json)
                .await?;
            for (key, value) in hostile {
                assert_eq!(exported.get(key), Some(value), "{key}");
            }
            client.apps_lock(&app).await?;
            assert!(client.apps_locked(&app).await?);
            client.apps_unlock(&app).await?;
            assert!(!client.apps_locked(&app).await?);
            let report = client.apps_report(&app).await?;
            assert_eq!(report.locked, Some(false));
            Ok::<_, dokku_client::Error>(())
        }
        .await;
        client
            .apps_destroy(&app)
            .await
            .expect("apps:destroy --force");
        result.expect("scratch app lifecycle");
        assert!(!client.apps_exists(&app).await.unwrap());
        client.close().await.unwrap();
    });
}
