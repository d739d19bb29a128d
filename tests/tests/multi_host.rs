//! Two sandboxes as two hosts of one pix.toml (issue 9): plan and status
//! across both at once, one connection each; with one host stopped, it is
//! reported with its error and the other is still shown.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::collections::BTreeMap;

use pix_ops::config::{HostOverrides, PixConfig};
use pix_ops::confirm::{ConfirmFlags, NoTerminal};
use pix_ops::connect::ConnectOptions;
use pix_ops::hosts::{for_each_host, targets, PerHost};
use pix_ops::progress::Silent;
use pix_ops::provision::{apply_host, confirm_removals, ApplyOptions, HostPlan};
use pix_ops::provision::{plan_all, render_plans};
use pix_sandbox::sandbox::pix_toml::toml_string;
use pix_sandbox::sandbox::{Sandbox, SandboxOptions};

fn host_table(name: &str, sb: &Sandbox) -> String {
    format!(
        "[hosts.{name}]\naddress = {}\nport = {}\nuser = {}\nkey = {}\nknown_hosts = {}\nplugins = [\"postgres\"]\n\n",
        toml_string(sb.host()),
        sb.port(),
        toml_string(sb.user()),
        toml_string(&sb.key_path().display().to_string()),
        toml_string(&sb.known_hosts_path().display().to_string()),
    )
}

fn lines(p: &PerHost<HostPlan>) -> Vec<String> {
    p.result
        .as_ref()
        .unwrap()
        .steps
        .iter()
        .flat_map(|s| s.lines.clone())
        .collect()
}

/// A status row per app, as `pix status` would compute from the reports.
async fn status(client: dokku_client::Client) -> pix_ops::Result<BTreeMap<String, Option<bool>>> {
    let apps = client.apps_list().await?;
    let mut rows = BTreeMap::new();
    for app in apps {
        let ps = client.ps_report(&app).await?;
        rows.insert(app, ps.deployed);
    }
    Ok(rows)
}

#[test]
fn plan_and_status_across_two_hosts_and_one_stopped() {
    let a = Sandbox::start(SandboxOptions::default()).expect("sandbox a");
    let b = Sandbox::start(SandboxOptions::default()).expect("sandbox b");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pix.toml");
    std::fs::write(
        &path,
        format!(
            "{}{}[environments.staging]\nhost = \"staging-host\"\napp = \"api-staging\"\ndatabase = \"pg-staging\"\n\
             \n[environments.production]\nhost = \"prod-host\"\napp = \"api-prod\"\ndatabase = \"pg-prod\"\nprotected = true\n",
            host_table("staging-host", &a),
            host_table("prod-host", &b),
        ),
    )
    .unwrap();
    let config = PixConfig::load(&path).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let all = || targets(&config, &HostOverrides::default(), &[]).unwrap();
    let options = ConnectOptions::default();

    // Plan both hosts at once: each plans its own environment only.
    let plans = rt.block_on(plan_all(&config, all(), &options, false));
    assert_eq!(
        plans.iter().map(|p| p.host.as_str()).collect::<Vec<_>>(),
        ["prod-host", "staging-host"]
    );
    assert_eq!(
        lines(&plans[0]),
        [
            "+ create service pg-prod",
            "+ create app api-prod",
            "+ link pg-prod to api-prod"
        ]
    );
    assert_eq!(
        lines(&plans[1]),
        [
            "+ create service pg-staging",
            "+ create app api-staging",
            "+ link pg-staging to api-staging"
        ]
    );
    // Each host got exactly one connection: one `version` probe each.
    for sb in [&a, &b] {
        let versions = sb
            .received()
            .unwrap()
            .iter()
            .filter(|r| r.argv_lossy().first().map(String::as_str) == Some("version"))
            .count();
        assert!(versions <= 1, "{versions} version probes");
    }

    // Apply on both hosts concurrently.
    let config2 = config.clone();
    let applied = rt.block_on(for_each_host(all(), &options, move |target, client| {
        let config = config2.clone();
        async move {
            let plan = pix_ops::provision::plan(
                &client,
                &config,
                &target.name,
                &target.host,
                &Default::default(),
            )
            .await?;
            let options = ApplyOptions {
                confirm: ConfirmFlags::default(),
                command: "pix provision".into(),
            };
            let confirmed = confirm_removals(&plan, &options, &mut NoTerminal)?;
            apply_host(&client, None, &plan, &confirmed, &Silent)
                .await?
                .into_result("pix provision")
        }
    }));
    assert!(applied.iter().all(PerHost::is_ok), "{applied:?}");

    // Status across both.
    let rows = rt.block_on(for_each_host(all(), &options, |_t, c| status(c)));
    assert_eq!(
        rows[0].result.as_ref().unwrap().keys().collect::<Vec<_>>(),
        ["api-prod"]
    );
    assert_eq!(
        rows[1].result.as_ref().unwrap().keys().collect::<Vec<_>>(),
        ["api-staging"]
    );
    let plans = rt.block_on(plan_all(&config, all(), &options, false));
    assert!(plans.iter().all(|p| p.result.as_ref().unwrap().is_empty()));

    // The production host goes away: reported, staging still shown.
    drop(b);
    let rows = rt.block_on(for_each_host(all(), &options, |_t, c| status(c)));
    let down = rows[0].result.as_ref().unwrap_err().to_string();
    assert!(!down.is_empty());
    assert_eq!(
        rows[1].result.as_ref().unwrap().keys().collect::<Vec<_>>(),
        ["api-staging"]
    );
    let plans = rt.block_on(plan_all(&config, all(), &options, false));
    let text = render_plans(&plans);
    assert!(
        text.contains("host prod-host (127.0.0.1): not reached: "),
        "{text}"
    );
    assert!(
        text.contains("host staging-host (127.0.0.1):\n  nothing to change\n"),
        "{text}"
    );
    let json = serde_json::to_value(&plans).unwrap();
    assert!(json[0]["result"]["error"].is_string(), "{json}");
    assert_eq!(json[1]["result"]["ok"]["host"], "staging-host");
    drop(a);
}
