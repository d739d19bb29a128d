//! `pix provision`: PIX's `provision-dokku` rule as plan, then apply.
//!
//! The desired state comes from `pix.toml` ([`desired_host`]): per host the
//! plugins and SSH keys, per environment its app, its Postgres service and
//! their link, its config (plain values, or values taken from the local
//! environment: secrets), domains and storage mounts. The actual state is
//! read from the host ([`read_actual`]) in two rounds of concurrent reads over
//! the one connection. [`plan_host`] (pure) compares them into typed
//! [`Change`]s in a safe order; [`render`] prints them as a diff; the plan
//! serialises for `--json` with secret values left out.
//!
//! [`confirm_removals`] asks for the removals' confirmation (apps: `--yes`
//! or y/N; a service: its name typed) and gives a [`Confirmed`] token;
//! [`apply_host`] needs it, then runs the changes in order, reporting
//! progress, and stops at the first failure with what was done and what was
//! not. Running again re-plans from the server, so it converges.
//!
//! Removals (`prune`): apps, services, links, domains and mounts that the
//! file does not name. Review apps are not in the file: with `[settings]
//! review_app_prefix` set, apps with that prefix are left alone; without it,
//! prune lists them like any other app (and asks before destroying). Config keys, SSH keys and plugins are never removed
//! (removing the key you are connected with locks you out; Dokku and the
//! links set keys of their own).
//!
//! Root: `plugin:install` and `ssh-keys:add` run as root in Dokku. When the
//! host names an `admin_user`, they go through a second connection as that
//! user with the shell login and `sudo` ([`admin_host`]), as PIX did; the
//! plan says so on those lines. Without one they run over the host's login.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dokku_client::config::{ConfigSetOptions, ExportFormat};
use dokku_client::postgres::LinkOptions;
use dokku_client::transport::{Request, Stdin};
use dokku_client::{Client, Command};
use serde::Serialize;

use crate::config::{HostConfig, Login, PixConfig};
use crate::confirm::{self, ConfirmFlags, ConfirmRequest, Prompter};
use crate::error::{OpsError, Result};
use crate::progress::Progress;

use crate::connect::ConnectOptions;
use crate::hosts::{connect_each, HostTarget, PerHost};

mod actual;
mod apply;
mod desired;
mod diff;

pub use actual::*;
pub use apply::*;
pub use desired::*;
pub use diff::*;

/// What `plan` needs besides the file.
#[derive(Clone, Copy)]
pub struct PlanOptions<'a> {
    /// Plan removals of what the file does not name.
    pub prune: bool,
    /// Where `config_from_env` values come from ([`process_env`] normally).
    pub env: LocalEnv<'a>,
}

impl fmt::Debug for PlanOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlanOptions")
            .field("prune", &self.prune)
            .finish_non_exhaustive()
    }
}

impl Default for PlanOptions<'_> {
    fn default() -> Self {
        PlanOptions {
            prune: false,
            env: &process_env,
        }
    }
}

/// Reads host `host_name` over `client` and plans it. Nothing changes.
pub async fn plan(
    client: &Client,
    config: &PixConfig,
    host_name: &str,
    host: &HostConfig,
    options: &PlanOptions<'_>,
) -> Result<HostPlan> {
    let desired = desired_host(config, host_name, options.env)?;
    let actual = read_actual(client, &desired, options.prune).await?;
    Ok(plan_host(host_name, host, &desired, &actual, options.prune))
}

/// A host connected and planned: its plan (or why not), and the open
/// connection and its target for the apply.
pub struct PlannedHost {
    /// The plan, or why the host could not be planned.
    pub plan: PerHost<HostPlan>,
    session: Option<(Client, HostTarget)>,
}

/// Connects and plans every target at once (one connection each), keeping
/// the connections for [`apply_all`]; [`close_all`] closes them.
pub async fn connect_and_plan(
    config: &PixConfig,
    targets: Vec<HostTarget>,
    options: &ConnectOptions,
    prune: bool,
) -> Vec<PlannedHost> {
    let config = config.clone();
    connect_each(targets, options, move |target, client| {
        let config = config.clone();
        async move {
            let plan_options = PlanOptions {
                prune,
                ..PlanOptions::default()
            };
            match plan(&client, &config, &target.name, &target.host, &plan_options).await {
                Ok(plan) => Ok((plan, (client, target))),
                Err(e) => {
                    let _ = client.close().await;
                    Err(e)
                }
            }
        }
    })
    .await
    .into_iter()
    .map(|planned| {
        let (result, session) = match planned.result {
            Ok((plan, session)) => (Ok(plan), Some(session)),
            Err(e) => (Err(e), None),
        };
        PlannedHost {
            plan: PerHost {
                host: planned.host,
                address: planned.address,
                result,
            },
            session,
        }
    })
    .collect()
}

/// Closes the connections [`connect_and_plan`] kept.
pub async fn close_all(planned: &[PlannedHost]) {
    for (client, _) in planned.iter().filter_map(|p| p.session.as_ref()) {
        let _ = client.close().await;
    }
}

/// Plans every target at once and closes the connections: what
/// `pix provision --plan` shows. Nothing changes.
pub async fn plan_all(
    config: &PixConfig,
    targets: Vec<HostTarget>,
    connect_options: &ConnectOptions,
    prune: bool,
) -> Vec<PerHost<HostPlan>> {
    let planned = connect_and_plan(config, targets, connect_options, prune).await;
    close_all(&planned).await;
    planned.into_iter().map(|p| p.plan).collect()
}

/// Asks for every host's removals (see [`confirm_removals`]) before
/// anything runs anywhere: one token per planned host (`None` for a host
/// that could not be planned), or the first refusal.
pub fn confirm_all(
    planned: &[PlannedHost],
    options: &ApplyOptions,
    prompter: &mut dyn Prompter,
) -> Result<Vec<Option<Confirmed>>> {
    planned
        .iter()
        .map(|p| match &p.plan.result {
            Ok(plan) => confirm_removals(plan, options, prompter).map(Some),
            Err(_) => Ok(None),
        })
        .collect()
}

/// Applies each planned host in turn over its kept connection (root steps
/// over the admin login, see [`connect_root`]), then closes it: one report
/// per host that was planned and confirmed.
pub async fn apply_all(
    config: &PixConfig,
    planned: &[PlannedHost],
    confirmed: Vec<Option<Confirmed>>,
    options: &ConnectOptions,
    progress: &dyn Progress<ApplyEvent>,
) -> Vec<PerHost<ApplyReport>> {
    let mut applied = Vec::new();
    for (p, ok) in planned.iter().zip(confirmed) {
        let (Ok(plan), Some((client, target)), Some(ok)) = (&p.plan.result, &p.session, ok) else {
            continue;
        };
        let result = async {
            let root = connect_root(config, &target.name, &target.host, plan, options).await?;
            let report = apply_host(client, root.as_ref(), plan, &ok, progress).await;
            if let Some(root) = root {
                let _ = root.close().await;
            }
            report
        }
        .await;
        let _ = client.close().await;
        applied.push(PerHost {
            host: target.name.clone(),
            address: target.host.address.clone(),
            result,
        });
    }
    applied
}

/// Renders per-host plans: the diff of each host that answered, the error
/// of each that did not (pure).
pub fn render_plans(plans: &[PerHost<HostPlan>]) -> String {
    let mut out = String::new();
    for p in plans {
        match &p.result {
            Ok(plan) => out.push_str(&render(std::slice::from_ref(plan))),
            Err(e) => out.push_str(&format!(
                "host {} ({}): not reached: {e}\n",
                p.host, p.address
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> HostConfig {
        let c = PixConfig::parse(
            "[hosts.h]\naddress='pix-app.ovh'\n",
            std::path::Path::new("/r"),
            std::path::Path::new("/r/pix.toml"),
        )
        .unwrap();
        c.hosts["h"].clone()
    }

    /// A key made with `ssh-keygen -t ed25519`, and the fingerprint
    /// `ssh-keygen -lf` printed for it (the oracle for [`key_fingerprint`]).
    const ALICE: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAD7MDKZTFNtdZ864snl8tqCgT5MLn/v6Srto8Jpg7ft alice@pix";
    const ALICE_FINGERPRINT: &str = "SHA256:ExMWkg+sAtn+tr4G2FPGsGREJEePX0efnQ1w0Cb/lMs";
    /// The same for `ssh-keygen -t rsa -b 1024`.
    const BOB: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC4GE0Rosrm3nqn5CysB18DzlKCP99tGTp6uDLGWeVkMu2K4DmaANZXXbuwKksx0KJJ86soWIF+M6mgWvWkrSk7bZtmBu/sAprCjFjseVNHDMqASoX0uGkJbyMtSnrKf+DX4dBDfI1qRIVDT2SCeTrME3XRvcVuWCVxYXWXpXuBIw== bob@pix";
    const BOB_FINGERPRINT: &str = "SHA256:j4EOk2nNhh3e17+gaAQiqdD/Dk0rUaRXb7kurVOPCrM";

    #[test]
    fn fingerprints_are_openssh_s() {
        assert_eq!(key_fingerprint(ALICE).as_deref(), Some(ALICE_FINGERPRINT));
        assert_eq!(key_fingerprint(BOB).as_deref(), Some(BOB_FINGERPRINT));
        assert_eq!(key_fingerprint("ssh-ed25519"), None);
        assert_eq!(key_fingerprint("ssh-ed25519 not*base64 c"), None);
    }

    #[test]
    fn a_rotated_key_is_replaced_not_left_alone() {
        let mut actual = ActualHost::default();
        actual.ssh_keys.insert("alice".into());
        actual
            .ssh_key_fingerprints
            .insert("alice".into(), BOB_FINGERPRINT.into());
        let plan = plan_host("h", &host(), &desired(), &actual, false);
        let replace: Vec<&Change> = plan
            .steps
            .iter()
            .map(|s| &s.change)
            .filter(|c| matches!(c, Change::ReplaceSshKey { .. } | Change::AddSshKey { .. }))
            .collect();
        assert_eq!(replace.len(), 1, "{replace:?}");
        assert!(
            matches!(replace[0], Change::ReplaceSshKey { name, from, to, .. }
                if name == "alice" && from == BOB_FINGERPRINT && to == ALICE_FINGERPRINT),
            "{replace:?}"
        );
        assert!(replace[0].needs_root() && !replace[0].is_removal());
        let commands = replace[0].commands().unwrap();
        let shown: Vec<(String, bool)> = commands
            .iter()
            .map(|c| (c.to_string(), c.has_stdin()))
            .collect();
        assert_eq!(
            shown,
            [
                ("ssh-keys:remove alice".to_string(), false),
                ("ssh-keys:add alice".to_string(), true)
            ]
        );
        assert!(text(&plan).contains(&format!(
            "~ replace ssh key alice (keys/alice.pub): {BOB_FINGERPRINT} → {ALICE_FINGERPRINT}"
        )));
        // The same key under its name: nothing to do.
        actual
            .ssh_key_fingerprints
            .insert("alice".into(), ALICE_FINGERPRINT.into());
        let plan = plan_host("h", &host(), &desired(), &actual, false);
        assert!(!plan.steps.iter().any(|s| matches!(
            s.change,
            Change::ReplaceSshKey { .. } | Change::AddSshKey { .. }
        )));
    }

    fn desired() -> DesiredHost {
        DesiredHost {
            plugins: vec![plugin_spec("postgres").unwrap()],
            ssh_keys: vec![DesiredKey {
                name: "alice".into(),
                path: "keys/alice.pub".into(),
                key: ALICE.into(),
                fingerprint: ALICE_FINGERPRINT.into(),
            }],
            apps: vec![DesiredApp {
                environment: "production".into(),
                app: "api-prod".into(),
                service: "pg-prod".into(),
                config: vec![
                    DesiredVar {
                        key: "NODE_ENV".into(),
                        value: Some(SecretValue::new("production")),
                        secret: false,
                    },
                    DesiredVar {
                        key: "SECRET".into(),
                        value: Some(SecretValue::new("hunter2")),
                        secret: true,
                    },
                    DesiredVar {
                        key: "MISSING".into(),
                        value: None,
                        secret: true,
                    },
                ],
                domains: Some(vec!["api.pix.fr".into()]),
                storage: Some(vec!["/srv/pt:/placement_tests".into()]),
            }],
            admin_user: Some("ubuntu".into()),
            admin_key: None,
            review_prefix: Some("review-".into()),
        }
    }

    fn text(plan: &HostPlan) -> String {
        render(std::slice::from_ref(plan))
    }

    #[test]
    fn an_empty_host_gets_everything_in_a_safe_order() {
        let plan = plan_host("h", &host(), &desired(), &ActualHost::default(), true);
        let t = text(&plan);
        assert_eq!(
            t,
            "host h (pix-app.ovh):\n\
             \x20 + install plugin postgres (https://github.com/dokku/dokku-postgres.git) [needs root: via ubuntu@pix-app.ovh (shell login, sudo)]\n\
             \x20 + add ssh key alice (keys/alice.pub) [needs root: via ubuntu@pix-app.ovh (shell login, sudo)]\n\
             \x20 + create service pg-prod\n\
             \x20 + create app api-prod\n\
             \x20 ~ set NODE_ENV=production on api-prod\n\
             \x20 ~ set SECRET on api-prod (secret; value hidden)\n\
             \x20 + add domain api.pix.fr to api-prod\n\
             \x20 + mount /srv/pt:/placement_tests on api-prod\n\
             \x20 + link pg-prod to api-prod\n\
             \x20 ! MISSING of api-prod is in config_from_env but not set in the local environment: not set (export it and run again)\n"
        );
        assert!(!t.contains("hunter2"));
        let json = serde_json::to_string(&plan).unwrap();
        assert!(!json.contains("hunter2"), "{json}");
        assert!(!format!("{plan:?}").contains("hunter2"));
        assert!(json.contains("\"action\":\"create_app\""), "{json}");
        let cmds = plan.steps[4].change.commands().unwrap();
        assert!(!cmds[0].to_string().contains("hunter2"));
        assert!(!json.contains("hunter2"), "{json}");
        assert_eq!(plan.steps[0].via, "ubuntu@pix-app.ovh (shell login, sudo)");
        assert_eq!(plan.steps[2].via, "dokku@pix-app.ovh");
        // The key travels with its command, on stdin, and is never shown.
        let add = &plan.steps[1].commands;
        assert_eq!(add.len(), 1);
        assert_eq!(add[0].command.argv(), ["ssh-keys:add", "alice"]);
        assert!(add[0].has_stdin());
        let key_body = ALICE.split(' ').nth(1).unwrap();
        assert!(!json.contains(key_body), "{json}");
        assert!(!format!("{:?}", plan.steps[1].commands).contains(key_body));
        assert!(!add[0].to_string().contains(key_body));
        match add[0].request().stdin {
            dokku_client::transport::Stdin::Bytes(b) => assert_eq!(b, ALICE.as_bytes()),
            other => panic!("{other:?}"),
        }
        assert!(plan.steps[2..]
            .iter()
            .flat_map(|s| &s.commands)
            .all(|c| !c.has_stdin()));
    }

    #[test]
    fn a_converged_host_plans_nothing_and_changes_are_exact() {
        let mut actual = ActualHost::default();
        actual.plugins.insert("postgres".into());
        actual.ssh_keys.insert("alice".into());
        actual.services.insert("pg-prod".into());
        actual.apps.insert("api-prod".into());
        actual
            .links
            .insert("pg-prod".into(), vec!["api-prod".into()]);
        actual.config.insert(
            "api-prod".into(),
            [("NODE_ENV", "production"), ("SECRET", "hunter2")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        actual
            .domains
            .insert("api-prod".into(), vec!["api.pix.fr".into()]);
        actual
            .storage
            .insert("api-prod".into(), vec!["/srv/pt:/placement_tests".into()]);
        let plan = plan_host("h", &host(), &desired(), &actual, true);
        assert!(plan.is_empty(), "{}", text(&plan));

        actual
            .config
            .get_mut("api-prod")
            .unwrap()
            .insert("NODE_ENV".into(), "staging".into());
        actual
            .config
            .get_mut("api-prod")
            .unwrap()
            .insert("SECRET".into(), "old-secret".into());
        actual.apps.insert("orphan".into());
        actual.apps.insert("review-feature-x".into());
        actual.services.insert("pg-orphan".into());
        actual
            .links
            .insert("pg-orphan".into(), vec!["orphan".into()]);
        actual
            .domains
            .get_mut("api-prod")
            .unwrap()
            .push("api-prod.pix-app.ovh".into());
        let lines: Vec<String> = plan_host("h", &host(), &desired(), &actual, false)
            .steps
            .iter()
            .flat_map(|s| s.lines.clone())
            .collect();
        assert_eq!(
            lines,
            [
                "~ set NODE_ENV=production on api-prod (was staging)",
                "~ set SECRET on api-prod (secret, changed; value hidden)"
            ]
        );
        let pruned: Vec<String> = plan_host("h", &host(), &desired(), &actual, true)
            .steps
            .iter()
            .skip(1)
            .flat_map(|s| s.lines.clone())
            .collect();
        assert_eq!(
            pruned,
            [
                "- unlink pg-orphan from orphan",
                "- remove domain api-prod.pix-app.ovh from api-prod",
                "- destroy app orphan",
                "- destroy service pg-orphan (its data is lost; its name must be typed to confirm)"
            ]
        );
    }

    #[test]
    fn plugin_entries() {
        assert_eq!(plugin_spec("postgres").unwrap().url, KNOWN_PLUGINS[0].1);
        let p = plugin_spec("https://github.com/dokku/dokku-letsencrypt.git").unwrap();
        assert_eq!(p.name, "letsencrypt");
        assert_eq!(
            plugin_spec("git@github.com:me/dokku-thing.git")
                .unwrap()
                .name,
            "thing"
        );
        assert!(plugin_spec("nonsense").is_err());
        assert!(plugin_spec("https://x/a b.git").is_err());
    }

    #[test]
    fn removals_need_confirmation_and_services_their_name() {
        let mut actual = ActualHost::default();
        actual.apps.insert("orphan".into());
        actual.services.insert("pg-orphan".into());
        let d = DesiredHost::default();
        let plan = plan_host("h", &host(), &d, &actual, true);
        let mut no = crate::confirm::NoTerminal;
        let yes = ApplyOptions {
            confirm: ConfirmFlags {
                yes: true,
                confirm: None,
            },
            command: String::new(),
        };
        let e = confirm_removals(&plan, &yes, &mut no).unwrap_err();
        assert!(e.to_string().contains("--confirm pg-orphan"), "{e}");
        let typed = ApplyOptions {
            confirm: ConfirmFlags {
                yes: true,
                confirm: Some("pg-orphan".into()),
            },
            command: String::new(),
        };
        // the typed name confirms the service, --yes the app
        confirm_removals(&plan, &typed, &mut no).unwrap();
        let c = confirm_removals(
            &HostPlan {
                steps: vec![],
                ..plan.clone()
            },
            &yes,
            &mut no,
        )
        .unwrap();
        assert!(
            !c.covers(&plan),
            "a token without the removals does not cover them"
        );
        let no_yes = ApplyOptions {
            confirm: ConfirmFlags {
                yes: false,
                confirm: Some("pg-orphan".into()),
            },
            command: String::new(),
        };
        assert!(confirm_removals(&plan, &no_yes, &mut no).is_err());
        let only_service = HostPlan {
            steps: plan
                .steps
                .iter()
                .filter(|s| matches!(s.change, Change::DestroyService { .. }))
                .cloned()
                .collect(),
            ..plan.clone()
        };
        confirm_removals(&only_service, &typed, &mut no).unwrap();
        assert!(confirm_removals(&only_service, &yes, &mut no).is_err());
    }

    #[test]
    fn the_shipped_pix_toml_plans_pixs_layout_on_an_empty_host() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../pix.toml");
        let c = PixConfig::load(&path).unwrap();
        let none = |_: &str| None;
        let d = desired_host(&c, "pix-app", &none).unwrap();
        let plan = plan_host(
            "pix-app",
            &c.hosts["pix-app"],
            &d,
            &ActualHost::default(),
            false,
        );
        let t = text(&plan);
        for line in [
            "+ install plugin postgres (https://github.com/dokku/dokku-postgres.git) [needs root: via ubuntu@pix-app.ovh (shell login, sudo)]",
            "+ create service pg-development",
            "+ create app api-prod",
            "~ set NODE_ENV=production on api-prod",
            "+ add domain api-prod.pix-app.ovh to api-prod",
            "+ mount /var/lib/dokku/data/storage/placement_tests:/placement_tests on api-prod",
            "+ link pg-prod to api-prod",
        ] {
            assert!(t.contains(line), "{line}\n{t}");
        }
    }

    #[test]
    fn desired_state_reads_keys_and_local_env() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("keys")).unwrap();
        std::fs::write(dir.path().join("keys/a.pub"), format!("{ALICE}\n")).unwrap();
        let text = "[hosts.h]\naddress='x'\nplugins=['postgres']\nssh_keys={ a='keys/a.pub' }\n[environments.e]\nhost='h'\napp='api-e'\ndatabase='pg-e'\nconfig={ NODE_ENV='e' }\nconfig_from_env=['S']\n";
        let c = PixConfig::parse(text, dir.path(), &dir.path().join("pix.toml")).unwrap();
        let env = |k: &str| (k == "S").then(|| "v".to_string());
        let d = desired_host(&c, "h", &env).unwrap();
        assert_eq!(d.ssh_keys[0].key, ALICE);
        assert_eq!(d.ssh_keys[0].fingerprint, ALICE_FINGERPRINT);
        assert_eq!(d.apps[0].config.len(), 2);
        assert_eq!(
            d.apps[0].config[1].value.as_ref().unwrap().expose_secret(),
            "v"
        );
        std::fs::write(dir.path().join("keys/a.pub"), "not a key\n").unwrap();
        let e = desired_host(&c, "h", &env).unwrap_err();
        assert!(e.to_string().contains("does not hold a public key"), "{e}");
    }
}
