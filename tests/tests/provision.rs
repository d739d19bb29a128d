//! `pix_ops::provision` against the sandbox (issue 9): an empty host
//! provisioned from a pix.toml shaped like PIX's (two environments, their
//! apps, services and links, config with a secret from the local
//! environment, domains, a storage mount, team keys, plugins). The plan lists
//! everything and changes nothing; apply creates it; a second plan is empty;
//! a change in the file plans exactly that change; a failure injected half-way
//! stops with what was and was not done, and a rerun converges; removals only
//! with prune, a database only with its name typed.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::sync::Mutex;

use pix_ops::config::PixConfig;
use pix_ops::confirm::{ConfirmFlags, NoTerminal};
use pix_ops::connect::{connect, ConnectOptions};
use pix_ops::progress::Progress;
use pix_ops::provision::{
    apply_host, confirm_removals, connect_root, plan, render, ApplyEvent, ApplyOptions,
    ApplyReport, HostPlan, PlanOptions,
};
use pix_ops::OpsError;
use pix_sandbox::contract::{Fault, FaultAction, Profile};
use pix_sandbox::sandbox::pix_toml::toml_string;
use pix_sandbox::sandbox::{Sandbox, SandboxOptions};
use pix_sandbox::scenario;

const SECRET: &str = "s3cr3t value with spaces";

/// The `[hosts.sandbox]` table of a sandbox, with the provisioning keys;
/// with the sandbox's shell login as the admin user when it has one.
fn host_table(sb: &Sandbox) -> String {
    let admin = sb
        .shell_key_path()
        .map(|k| {
            format!(
                "admin_user = {}\nadmin_key = {}\n",
                toml_string(sb.user()),
                toml_string(&k.display().to_string())
            )
        })
        .unwrap_or_default();
    format!(
        "[hosts.sandbox]\naddress = {}\nport = {}\nuser = {}\nkey = {}\nknown_hosts = {}\n\
         plugins = [\"postgres\", \"letsencrypt\"]\nssh_keys = {{ alice = \"keys/alice.pub\" }}\n{admin}",
        toml_string(sb.host()),
        sb.port(),
        toml_string(sb.user()),
        toml_string(&sb.key_path().display().to_string()),
        toml_string(&sb.known_hosts_path().display().to_string()),
    )
}

/// PIX's two environments (ORIGINAL.md section 1), made explicit.
fn environments(dev_node_env: &str) -> String {
    format!(
        "\n[environments.development]\nhost = \"sandbox\"\napp = \"api-development\"\ndatabase = \"pg-development\"\n\
         config = {{ NODE_ENV = \"{dev_node_env}\" }}\nconfig_from_env = [\"SECRET_KEY\"]\n\
         domains = [\"api-development.pix.test\"]\n\
         storage = [\"/var/lib/dokku/data/storage/placement_tests:/placement_tests\"]\n\
         \n[environments.production]\nhost = \"sandbox\"\napp = \"api-prod\"\ndatabase = \"pg-prod\"\nprotected = true\n\
         config = {{ NODE_ENV = \"production\" }}\ndomains = [\"api.pix.test\"]\n"
    )
}

struct World {
    sb: Sandbox,
    dir: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
}

#[derive(Default)]
struct Events(Mutex<Vec<ApplyEvent>>);

impl Progress<ApplyEvent> for Events {
    fn event(&self, event: ApplyEvent) {
        self.0.lock().unwrap().push(event);
    }
}

fn local_env(key: &str) -> Option<String> {
    (key == "SECRET_KEY").then(|| SECRET.to_string())
}

impl World {
    fn new() -> World {
        World::with(SandboxOptions::default())
    }

    fn with(options: SandboxOptions) -> World {
        let sb = Sandbox::start(options).expect("sandbox");
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("keys")).unwrap();
        let w = World {
            sb,
            dir,
            rt: tokio::runtime::Runtime::new().unwrap(),
        };
        w.keygen();
        w
    }

    /// Makes a new key pair `keys/alice` (with `ssh-keygen`).
    fn keygen(&self) {
        let key = self.dir.path().join("keys/alice");
        let out = std::process::Command::new(&self.sb.tools().ssh_keygen)
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "alice@pix", "-f"])
            .arg(&key)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }

    /// `keys/alice.pub`'s fingerprint as `ssh-keygen -lf` prints it.
    fn fingerprint(&self) -> String {
        let out = std::process::Command::new(&self.sb.tools().ssh_keygen)
            .arg("-lf")
            .arg(self.dir.path().join("keys/alice.pub"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string()
    }

    fn write(&self, envs: &str) -> PixConfig {
        let path = self.dir.path().join("pix.toml");
        std::fs::write(&path, format!("{}{envs}", host_table(&self.sb))).unwrap();
        PixConfig::load(&path).unwrap()
    }

    fn plan(&self, config: &PixConfig, prune: bool) -> HostPlan {
        self.rt.block_on(async {
            let host = &config.hosts["sandbox"];
            let client = connect(host, &ConnectOptions::default()).await.unwrap();
            let options = PlanOptions {
                prune,
                env: &local_env,
            };
            let p = plan(&client, config, "sandbox", host, &options)
                .await
                .unwrap();
            client.close().await.unwrap();
            p
        })
    }

    fn apply(
        &self,
        config: &PixConfig,
        p: &HostPlan,
        flags: ConfirmFlags,
    ) -> Result<ApplyReport, OpsError> {
        self.rt.block_on(async {
            let host = &config.hosts["sandbox"];
            let client = connect(host, &ConnectOptions::default()).await.unwrap();
            let options = ApplyOptions {
                confirm: flags,
                command: "pix provision".into(),
            };
            let events = Events::default();
            let confirmed = match confirm_removals(p, &options, &mut NoTerminal) {
                Ok(c) => c,
                Err(e) => {
                    client.close().await.unwrap();
                    return Err(e);
                }
            };
            let root = connect_root(config, "sandbox", host, p, &ConnectOptions::default())
                .await
                .unwrap();
            let r = apply_host(&client, root.as_ref(), p, &confirmed, &events).await;
            client.close().await.unwrap();
            if let Some(root) = root {
                root.close().await.unwrap();
            }
            if let Ok(report) = &r {
                let events = events.0.lock().unwrap();
                let started = events
                    .iter()
                    .filter(|e| matches!(e, ApplyEvent::Started { .. }))
                    .count();
                assert_eq!(
                    started,
                    report.done.len() + usize::from(report.failed.is_some())
                );
            }
            r
        })
    }

    fn dokku(&self, args: &[&str]) -> String {
        scenario::dokku(&self.sb, args).unwrap()
    }

    fn received_names(&self) -> Vec<String> {
        self.sb
            .received()
            .unwrap()
            .iter()
            .map(|r| r.argv_lossy().first().cloned().unwrap_or_default())
            .collect()
    }
}

/// The `commands` the JSON plan shows, every step's in order.
fn json_steps_commands(json: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["commands"].as_array().unwrap().clone())
        .map(|c| c.as_str().unwrap().to_string())
        .collect()
}

fn lines(p: &HostPlan) -> Vec<String> {
    p.steps.iter().flat_map(|s| s.lines.clone()).collect()
}

#[test]
fn an_empty_sandbox_is_provisioned_and_converges() {
    let w = World::new();
    let config = w.write(&environments("development"));
    let before = w.received_names().len();
    let p = w.plan(&config, false);
    // The plan only read.
    let reads = w.received_names()[before..].to_vec();
    for name in &reads {
        assert!(
            [
                "version",
                "apps:list",
                "postgres:list",
                "plugin:list",
                "ssh-keys:list"
            ]
            .contains(&name.as_str()),
            "the plan ran {name}: {reads:?}"
        );
    }
    assert_eq!(
        lines(&p),
        [
            "+ install plugin letsencrypt (https://github.com/dokku/dokku-letsencrypt.git) [needs root: via dokku@127.0.0.1]"
                .replace("dokku@", &format!("{}@", w.sb.user())),
            "+ add ssh key alice (keys/alice.pub) [needs root: via dokku@127.0.0.1]"
                .replace("dokku@", &format!("{}@", w.sb.user())),
            "+ create service pg-development".into(),
            "+ create service pg-prod".into(),
            "+ create app api-development".into(),
            "+ create app api-prod".into(),
            "~ set NODE_ENV=development on api-development".into(),
            "~ set SECRET_KEY on api-development (secret; value hidden)".into(),
            "~ set NODE_ENV=production on api-prod".into(),
            "+ add domain api-development.pix.test to api-development".into(),
            "+ mount /var/lib/dokku/data/storage/placement_tests:/placement_tests on api-development".into(),
            "+ add domain api.pix.test to api-prod".into(),
            "+ link pg-development to api-development".into(),
            "+ link pg-prod to api-prod".into(),
        ]
    );
    assert!(
        !w.dokku(&["apps:list"]).contains("api-"),
        "nothing was created"
    );
    let text = render(std::slice::from_ref(&p));
    let json = serde_json::to_string(&p).unwrap();
    assert!(
        !text.contains(SECRET) && !json.contains(SECRET),
        "{text}\n{json}"
    );

    let before_apply = w.sb.received().unwrap().len();
    let report = w.apply(&config, &p, ConfirmFlags::default()).unwrap();
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(report.done.len(), p.steps.len());
    // The apply sent the plan's commands, step for step, and nothing else
    // (but each connection's version probe).
    let sent: Vec<Vec<String>> = w.sb.received().unwrap()[before_apply..]
        .iter()
        .map(|r| r.argv_lossy())
        .filter(|argv| argv[0] != "version")
        .collect();
    let planned: Vec<Vec<String>> = p
        .steps
        .iter()
        .flat_map(|s| s.commands.iter())
        .map(|c| c.command.argv().iter().map(|w| w.to_string()).collect())
        .collect();
    assert_eq!(sent, planned);
    let shown = json_steps_commands(&json);
    assert_eq!(shown.len(), planned.len());
    assert!(shown.iter().all(|c| !c.contains(SECRET)), "{shown:?}");

    // What apply created, read back over raw ssh.
    let apps = w.dokku(&["apps:list"]);
    assert!(
        apps.contains("api-development") && apps.contains("api-prod"),
        "{apps}"
    );
    assert_eq!(
        w.dokku(&["postgres:links", "pg-development"]).trim(),
        "api-development"
    );
    assert_eq!(w.dokku(&["postgres:links", "pg-prod"]).trim(), "api-prod");
    assert_eq!(
        w.dokku(&["config:get", "api-prod", "NODE_ENV"]).trim(),
        "production"
    );
    assert_eq!(
        w.dokku(&["config:get", "api-development", "SECRET_KEY"])
            .trim_end_matches('\n'),
        SECRET
    );
    assert!(w
        .dokku(&["domains:report", "api-prod", "--domains-app-vhosts"])
        .contains("api.pix.test"));
    assert!(w
        .dokku(&["storage:list", "api-development"])
        .contains("/placement_tests"));
    assert!(w.dokku(&["ssh-keys:list"]).contains("NAME=\"alice\""));
    assert!(w.dokku(&["plugin:list"]).contains("letsencrypt"));

    // A second plan is empty.
    let again = w.plan(&config, false);
    assert!(again.is_empty(), "{}", render(std::slice::from_ref(&again)));

    // A change in the file plans exactly that change.
    let changed = w.write(&environments("staging"));
    let p = w.plan(&changed, false);
    assert_eq!(
        lines(&p),
        ["~ set NODE_ENV=staging on api-development (was development)"]
    );
    assert!(w
        .apply(&changed, &p, ConfirmFlags::default())
        .unwrap()
        .succeeded());
    assert!(w.plan(&changed, false).is_empty());

    // A rotated key (another key in alice's file) is replaced, not left
    // alone because the name is already there.
    let old_fingerprint = w.fingerprint();
    std::fs::remove_file(w.dir.path().join("keys/alice")).unwrap();
    std::fs::remove_file(w.dir.path().join("keys/alice.pub")).unwrap();
    w.keygen();
    let new_fingerprint = w.fingerprint();
    assert_ne!(old_fingerprint, new_fingerprint);
    let p = w.plan(&changed, false);
    assert_eq!(
        lines(&p),
        [format!(
            "~ replace ssh key alice (keys/alice.pub): {old_fingerprint} → {new_fingerprint} [needs root: via dokku@127.0.0.1]"
        )]
    );
    assert!(w
        .apply(&changed, &p, ConfirmFlags::default())
        .unwrap()
        .succeeded());
    let listed = w.dokku(&["ssh-keys:list"]);
    assert!(
        listed.contains(&new_fingerprint) && !listed.contains(&old_fingerprint),
        "{listed}"
    );
    assert!(w.plan(&changed, false).is_empty());
}

#[test]
fn root_commands_go_through_the_shell_login_with_sudo() {
    let w = World::with(SandboxOptions::default().with_shell_login());
    let config = w.write(&environments("development"));
    let p = w.plan(&config, false);
    let via = format!("{}@127.0.0.1 (shell login, sudo)", w.sb.user());
    let root: Vec<&str> = p
        .steps
        .iter()
        .filter(|s| s.needs_root)
        .map(|s| s.via.as_str())
        .collect();
    assert_eq!(root, [via.as_str(), via.as_str()]);
    assert!(lines(&p)[0].ends_with(&format!("[needs root: via {via}]")));
    let before = w.sb.received().unwrap().len();
    assert!(w
        .apply(&config, &p, ConfirmFlags::default())
        .unwrap()
        .succeeded());

    // plugin:install and ssh-keys:add ran as a program on the server (no
    // forced command), through sudo; everything else over the dokku login.
    let received = w.sb.received().unwrap();
    for r in &received[before..] {
        let name = r.argv_lossy().first().cloned().unwrap_or_default();
        let through_shell = r.ssh_original_command.is_none();
        match name.as_str() {
            "plugin:install" | "ssh-keys:add" => {
                assert!(through_shell, "{name} over the dokku login")
            }
            "version" => {}
            _ => assert!(!through_shell, "{name} over the shell login"),
        }
    }
    let sudo = std::fs::read_to_string(w.sb.sudo_log()).unwrap();
    // The client's version probe (sent alongside the first plain command, so
    // in either order with it), then the two root commands, in plan order.
    let mut lines: Vec<&str> = sudo.lines().collect();
    let probe = lines.iter().position(|l| *l == "dokku version");
    assert!(probe.is_some_and(|i| i <= 1), "{sudo}");
    lines.retain(|l| *l != "dokku version");
    assert_eq!(
        lines,
        [
            "dokku plugin:install https://github.com/dokku/dokku-letsencrypt.git letsencrypt",
            "dokku ssh-keys:add alice"
        ],
        "{sudo}"
    );
    assert!(w.dokku(&["ssh-keys:list"]).contains("NAME=\"alice\""));
    assert!(w.dokku(&["plugin:list"]).contains("letsencrypt"));
    assert!(w.plan(&config, false).is_empty());
}

#[test]
fn a_failure_half_way_stops_and_a_rerun_converges() {
    let w = World::new();
    let config = w.write(&environments("development"));
    let p = w.plan(&config, false);
    w.sb.inject_fault(Fault {
        matches: "apps:create api-prod".into(),
        action: FaultAction::Exit {
            code: 1,
            stderr: " !     injected: disk full\n".into(),
        },
        times: 1,
    })
    .unwrap();
    let report = w.apply(&config, &p, ConfirmFlags::default()).unwrap();
    let failed = report.failed.clone().expect("the step failed");
    assert_eq!(failed.what, "+ create app api-prod");
    assert!(failed.error.contains("disk full"), "{failed:?}");
    assert_eq!(report.done.len(), 5, "{report:?}");
    assert_eq!(report.not_done.len(), p.steps.len() - 6);
    let e = report
        .clone()
        .into_result("pix provision")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Not done:") && e.contains("run `pix provision` again"),
        "{e}"
    );

    // The rerun plans only what is left, and converges.
    let rest = w.plan(&config, false);
    let rest_lines = lines(&rest);
    assert_eq!(rest_lines[0], "+ create app api-prod", "{rest_lines:?}");
    assert!(!rest_lines
        .iter()
        .any(|l| l.contains("pg-development") && l.starts_with("+ create")));
    assert!(w
        .apply(&config, &rest, ConfirmFlags::default())
        .unwrap()
        .succeeded());
    assert!(w.plan(&config, false).is_empty());
}

#[test]
fn prune_removes_only_with_confirmation_and_a_database_only_with_its_name() {
    let w = World::new();
    let config = w.write(&environments("development"));
    let p = w.plan(&config, false);
    assert!(w
        .apply(&config, &p, ConfirmFlags::default())
        .unwrap()
        .succeeded());

    // production leaves the file: without prune nothing is removed.
    let dev_only = w.write(
        environments("development")
            .split("\n[environments.production]")
            .next()
            .unwrap(),
    );
    assert!(w.plan(&dev_only, false).is_empty());
    let pruned = w.plan(&dev_only, true);
    assert_eq!(
        lines(&pruned),
        [
            "- unlink pg-prod from api-prod",
            // under prune an app has exactly the file's domains: the default
            // `<app>.<global vhost>` goes
            "- remove domain api-development.sandbox.test from api-development",
            "- destroy app api-prod",
            "- destroy service pg-prod (its data is lost; its name must be typed to confirm)"
        ]
    );
    // --yes is not enough for a database: nothing is done.
    let e = w
        .apply(
            &dev_only,
            &pruned,
            ConfirmFlags {
                yes: true,
                confirm: None,
            },
        )
        .unwrap_err();
    assert!(e.to_string().contains("--confirm pg-prod"), "{e}");
    assert!(w.dokku(&["apps:list"]).contains("api-prod"));
    let report = w
        .apply(
            &dev_only,
            &pruned,
            ConfirmFlags {
                yes: true,
                confirm: Some("pg-prod".into()),
            },
        )
        .unwrap();
    assert!(report.succeeded(), "{report:?}");
    assert!(!w.dokku(&["apps:list"]).contains("api-prod"));
    assert!(!w.dokku(&["postgres:list"]).contains("pg-prod"));
    assert_eq!(
        w.dokku(&["domains:report", "api-development", "--domains-app-vhosts"])
            .trim(),
        "api-development.pix.test"
    );
    assert!(w.plan(&dev_only, true).is_empty());
}

/// Plan, apply and an empty second plan on the older Dokku versions the
/// emulator models (their reads differ: text reports, no `apps:list` JSON).
#[test]
fn older_versions_provision_and_converge() {
    for profile in [Profile::V0_30, Profile::V0_19] {
        let w = World::with(SandboxOptions::profile(profile));
        let config = w.write(&environments("development"));
        let p = w.plan(&config, false);
        assert_eq!(lines(&p).len(), 14, "{profile:?}: {:?}", lines(&p));
        let report = w.apply(&config, &p, ConfirmFlags::default()).unwrap();
        assert!(report.succeeded(), "{profile:?}: {report:?}");
        let again = w.plan(&config, false);
        assert!(
            again.is_empty(),
            "{profile:?}: {}",
            render(std::slice::from_ref(&again))
        );
    }
}
