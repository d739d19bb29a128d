//! `pix provision` and `pix status --all` end to end against the sandbox
//! (issue 9): the plan of an empty sandbox lists everything and changes
//! nothing (snapshot), `--json` gives it as data without the secret; apply
//! shows its progress and creates it, root steps over the admin's shell
//! login with sudo; a second plan is empty; a change in the file plans
//! exactly that change; a failure half-way stops with what was and was not
//! done (exit 5) and a rerun converges. Two sandboxes as two hosts: `status
//! --all` and `provision --plan` show both; one stopped: reported, the
//! other still shown.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use std::path::Path;

use common::{ensure_emulator, run_pix, Run};
use pix_sandbox::contract::{Fault, FaultAction};
use pix_sandbox::sandbox::pix_toml::toml_string;
use pix_sandbox::sandbox::{Sandbox, SandboxOptions};
use pix_sandbox::scenario;

const SECRET: &str = "s3cr3t value with spaces";

/// `[hosts.NAME]` of a sandbox; with its shell login as the admin user and
/// the provisioning keys when `provisioning`.
fn host_table(name: &str, sb: &Sandbox, provisioning: bool) -> String {
    let extra = if provisioning {
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
        format!("plugins = [\"postgres\", \"letsencrypt\"]\nssh_keys = {{ alice = \"keys/alice.pub\" }}\n{admin}")
    } else {
        "plugins = [\"postgres\"]\n".to_string()
    };
    format!(
        "[hosts.{name}]\naddress = {}\nport = {}\nuser = {}\nkey = {}\nknown_hosts = {}\n{extra}\n",
        toml_string(sb.host()),
        sb.port(),
        toml_string(sb.user()),
        toml_string(&sb.key_path().display().to_string()),
        toml_string(&sb.known_hosts_path().display().to_string()),
    )
}

/// PIX's two environments on host `sandbox`.
fn environments(dev_node_env: &str) -> String {
    format!(
        "[environments.development]\nhost = \"sandbox\"\napp = \"api-development\"\ndatabase = \"pg-development\"\n\
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
}

impl World {
    fn new() -> World {
        ensure_emulator();
        let sb = Sandbox::start(SandboxOptions::default().with_shell_login()).expect("sandbox");
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("keys")).unwrap();
        let out = std::process::Command::new(&sb.tools().ssh_keygen)
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "alice@pix", "-f"])
            .arg(dir.path().join("keys/alice"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        World { sb, dir }
    }

    fn write(&self, envs: &str) {
        std::fs::write(
            self.dir.path().join("pix.toml"),
            format!("{}{envs}", host_table("sandbox", &self.sb, true)),
        )
        .unwrap();
    }

    fn pix(&self, args: &[&str]) -> Run {
        pix_at(self.dir.path(), args)
    }

    fn dokku(&self, args: &[&str]) -> String {
        scenario::dokku(&self.sb, args).unwrap()
    }
}

/// `pix --config DIR/pix.toml ARGS` in DIR, with the secret in the
/// environment.
fn pix_at(dir: &Path, args: &[&str]) -> Run {
    let toml = dir.join("pix.toml");
    let mut all = vec!["--config", toml.to_str().unwrap()];
    all.extend_from_slice(args);
    run_pix(dir, &all, &[("SECRET_KEY", SECRET)], None)
}

#[test]
fn provision_plans_applies_and_converges() {
    let w = World::new();
    w.write(&environments("development"));

    // The plan of the empty sandbox: everything, nothing changed.
    let plan = w.pix(&["provision", "--plan"]).expect(0);
    assert!(!plan.stdout.contains(SECRET), "{}", plan.stdout);
    snap!("provision_plan_empty_sandbox", plan);
    assert!(!w.dokku(&["apps:list"]).contains("api-"), "nothing created");

    // The same plan as data, without the secret.
    let json = w.pix(&["provision", "--plan", "--json"]).expect(0);
    assert!(!json.stdout.contains(SECRET), "{}", json.stdout);
    let v = json.json();
    assert_eq!(v[0]["host"], "sandbox");
    let steps = v[0]["result"]["ok"]["steps"].as_array().unwrap();
    // One step per change (two config keys of one app are one `config:set`).
    assert_eq!(steps.len(), 13, "{}", json.stdout);
    assert_eq!(steps[0]["needs_root"], true);
    assert!(steps[0]["via"]
        .as_str()
        .unwrap()
        .ends_with("(shell login, sudo)"));

    // Apply: the plan, progress per step, the summary.
    let apply = w.pix(&["provision"]).expect(0);
    snap!("provision_apply", apply);
    assert_eq!(
        apply.stderr.matches("✓ sandbox: ").count(),
        13,
        "{}",
        apply.stderr
    );
    assert_eq!(
        w.dokku(&["postgres:links", "pg-development"]).trim(),
        "api-development"
    );
    assert_eq!(
        w.dokku(&["config:get", "api-development", "SECRET_KEY"])
            .trim_end_matches('\n'),
        SECRET
    );
    // The root steps went through sudo on the shell login.
    let sudo = std::fs::read_to_string(w.sb.sudo_log()).unwrap();
    assert!(sudo.contains("ssh-keys:add alice"), "{sudo}");

    // A second plan is empty; a second apply changes nothing.
    let again = w.pix(&["provision", "--plan"]).expect(0);
    assert_eq!(
        again.stdout,
        "host sandbox (127.0.0.1):\n  nothing to change\n"
    );
    let noop = w.pix(&["provision"]).expect(0);
    let noop_json = w.pix(&["provision", "--json"]).expect(0).json();
    assert_eq!(
        noop_json["plans"][0]["result"]["ok"]["steps"],
        serde_json::json!([])
    );
    assert_eq!(
        noop_json["applied"][0]["result"]["ok"]["done"],
        serde_json::json!([])
    );
    assert!(
        noop.stdout.ends_with("host sandbox: nothing to change\n"),
        "{}",
        noop.stdout
    );

    // A change in the file plans exactly that change.
    w.write(&environments("staging"));
    let changed = w.pix(&["provision", "--plan"]).expect(0);
    assert_eq!(
        changed.stdout,
        "host sandbox (127.0.0.1):\n  ~ set NODE_ENV=staging on api-development (was development)\n"
    );
}

#[test]
fn a_failure_half_way_stops_and_a_rerun_converges() {
    let w = World::new();
    w.write(&environments("development"));
    w.sb.inject_fault(Fault {
        matches: "apps:create api-prod".into(),
        action: FaultAction::Exit {
            code: 1,
            stderr: " !     injected: disk full\n".into(),
        },
        times: 1,
    })
    .unwrap();
    let failed = w.pix(&["provision"]).expect(5);
    snap!("provision_failed_half_way", failed);
    assert!(
        failed.stderr.contains("Not done:") && failed.stderr.contains("disk full"),
        "{}",
        failed.stderr
    );
    // The rerun plans only what is left, and converges.
    let rest = w.pix(&["provision", "--plan"]).expect(0);
    assert!(
        rest.stdout
            .starts_with("host sandbox (127.0.0.1):\n  + create app api-prod\n"),
        "{}",
        rest.stdout
    );
    w.pix(&["provision"]).expect(0);
    let done = w.pix(&["provision", "--plan"]).expect(0);
    assert!(done.stdout.contains("nothing to change"), "{}", done.stdout);
}

#[test]
fn prune_asks_and_a_database_needs_its_name() {
    let w = World::new();
    w.write(&environments("development"));
    w.pix(&["provision"]).expect(0);
    w.write(
        environments("development")
            .split("\n[environments.production]")
            .next()
            .unwrap(),
    );
    // Without a terminal and without --yes: refused, nothing done.
    let refused = w.pix(&["provision", "--prune"]).expect(4);
    assert!(
        refused.stdout.contains("- destroy app api-prod"),
        "{}",
        refused.stdout
    );
    assert!(w.dokku(&["apps:list"]).contains("api-prod"));
    // --yes covers the app, not the database.
    let refused = w.pix(&["provision", "--prune", "--yes"]).expect(4);
    assert!(
        refused.stderr.contains("--confirm pg-prod"),
        "{}",
        refused.stderr
    );
    assert!(w.dokku(&["apps:list"]).contains("api-prod"));
    w.pix(&["provision", "--prune", "--yes", "--confirm", "pg-prod"])
        .expect(0);
    assert!(!w.dokku(&["apps:list"]).contains("api-prod"));
    assert!(!w.dokku(&["postgres:list"]).contains("pg-prod"));
}

#[test]
fn two_hosts_at_once_and_one_stopped() {
    ensure_emulator();
    let a = Sandbox::start(SandboxOptions::default()).expect("sandbox a");
    let b = Sandbox::start(SandboxOptions::default()).expect("sandbox b");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pix.toml"),
        format!(
            "{}{}[environments.staging]\nhost = \"staging-host\"\napp = \"api-staging\"\ndatabase = \"pg-staging\"\n\
             \n[environments.production]\nhost = \"prod-host\"\napp = \"api-prod\"\ndatabase = \"pg-prod\"\nprotected = true\n",
            host_table("staging-host", &a, false),
            host_table("prod-host", &b, false),
        ),
    )
    .unwrap();
    let pix = |args: &[&str]| pix_at(dir.path(), args);

    // Plan both at once; apply both; status of both in one table.
    let plan = pix(&["provision", "--plan"]).expect(0);
    snap!("provision_plan_two_hosts", plan);
    pix(&["provision"]).expect(0);
    let status = pix(&["status", "--all"]).expect(0);
    snap!("status_all_two_hosts", status);
    let json = pix(&["status", "--all", "--json"]).expect(0).json();
    assert_eq!(json[0]["host"], "prod-host");
    assert_eq!(json[0]["result"]["ok"][0]["app"], "api-prod");
    assert_eq!(json[1]["result"]["ok"][0]["app"], "api-staging");
    // --host NAME picks one host.
    let one = pix(&["--host", "staging-host", "status", "--all"]).expect(0);
    assert!(
        one.stdout.contains("api-staging") && !one.stdout.contains("api-prod"),
        "{}",
        one.stdout
    );

    // Production goes away: reported (exit 6), staging still shown.
    drop(b);
    let status = pix(&["status", "--all"]).expect(6);
    assert!(
        status.stdout.contains("staging-host  api-staging"),
        "{}",
        status.stdout
    );
    assert!(
        status
            .stdout
            .contains("host prod-host (127.0.0.1): not reached: "),
        "{}",
        status.stdout
    );
    let plan = pix(&["provision", "--plan"]).expect(6);
    assert!(
        plan.stdout
            .contains("host prod-host (127.0.0.1): not reached: ")
            && plan
                .stdout
                .contains("host staging-host (127.0.0.1):\n  nothing to change\n"),
        "{}",
        plan.stdout
    );
    let json = pix(&["provision", "--plan", "--json"]).expect(6).json();
    assert!(json[0]["result"]["error"].is_string(), "{json}");
    assert_eq!(json[1]["result"]["ok"]["host"], "staging-host");
    drop(a);
}
