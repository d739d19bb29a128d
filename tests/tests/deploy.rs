//! Fast-forward deploys against the sandbox (issue 5): the sample app lives in
//! `api/` of a bigger repository; every deploy is one commit on top of the
//! remote's tip, also after the branch was amended; a failing predeploy is a
//! typed outcome that leaves the running version alone; locks and protected
//! environments stop the push.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use pix_ops::config::{HostOverrides, PixConfig};
use pix_ops::confirm::{ConfirmFlags, NoTerminal};
use pix_ops::connect::{connect, ConnectOptions};
use pix_ops::deploy::{
    deploy, DeployEvent, DeployOptions, DeployOutcome, DeployReport, DeployTarget,
};
use pix_ops::progress::Progress;
use pix_ops::push::PushFailure;
use pix_ops::OpsError;
use pix_sandbox::contract::Profile;
use pix_sandbox::sandbox::{Sandbox, SandboxOptions};
use pix_sandbox::scenario::{self, git};

const APP: &str = "api-staging";
const DB: &str = "api-staging-db";

/// Collects events.
#[derive(Default)]
struct Events(Mutex<Vec<DeployEvent>>);

impl Progress<DeployEvent> for Events {
    fn event(&self, event: DeployEvent) {
        self.0.lock().unwrap().push(event);
    }
}

impl Events {
    fn output(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                DeployEvent::Output(l) => Some(l.clone()),
                _ => None,
            })
            .collect()
    }
}

struct World {
    sb: Sandbox,
    dir: tempfile::TempDir,
    config: PixConfig,
    repo: PathBuf,
}

/// A repository whose `api/` folder is the sample app, next to other files.
fn monorepo(root: &Path) -> PathBuf {
    let repo = root.join("pix");
    let api = repo.join("api");
    std::fs::create_dir_all(&api).unwrap();
    for entry in std::fs::read_dir(scenario::sample_app_dir()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), api.join(entry.file_name())).unwrap();
    }
    std::fs::create_dir_all(repo.join("live")).unwrap();
    std::fs::write(repo.join("live/index.html"), "<h1>front</h1>\n").unwrap();
    std::fs::write(repo.join("README.md"), "# pix\n").unwrap();
    git(&repo, &["init", "-q", "-b", "main"]).unwrap();
    git(&repo, &["add", "."]).unwrap();
    git(&repo, &["commit", "-q", "-m", "initial"]).unwrap();
    repo
}

impl World {
    fn new() -> World {
        World::on(Profile::V0_38)
    }

    fn on(profile: Profile) -> World {
        let sb = Sandbox::start(SandboxOptions::profile(profile)).expect("sandbox");
        let dir = tempfile::tempdir().unwrap();
        let toml = dir.path().join("pix.toml");
        sb.write_pix_toml(&toml).unwrap();
        let mut text = std::fs::read_to_string(&toml).unwrap();
        text.push_str(&format!(
            "\n[environments.staging]\nhost = \"sandbox\"\napp = \"{APP}\"\ndatabase = \"{DB}\"\ndeploy_dir = \"api\"\n\
             \n[environments.production]\nhost = \"sandbox\"\napp = \"api-prod\"\ndatabase = \"api-prod-db\"\nprotected = true\naliases = [\"prod\"]\ndeploy_dir = \"api\"\n"
        ));
        std::fs::write(&toml, text).unwrap();
        let config = PixConfig::load(&toml).unwrap();
        for (app, db) in [(APP, DB), ("api-prod", "api-prod-db")] {
            scenario::dokku(&sb, &["apps:create", app]).unwrap();
            scenario::dokku(&sb, &["postgres:create", db]).unwrap();
            scenario::dokku(&sb, &["postgres:link", db, app]).unwrap();
        }
        let repo = monorepo(dir.path());
        World {
            sb,
            dir,
            config,
            repo,
        }
    }

    fn target(&self, env: &str) -> DeployTarget {
        let env = self
            .config
            .environment(env, &HostOverrides::default())
            .unwrap();
        DeployTarget::from_environment(&env)
    }

    fn deploy_from(
        &self,
        repo: &Path,
        env: &str,
        flags: ConfirmFlags,
        events: &Events,
    ) -> Result<DeployReport, OpsError> {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let target = self.target(env);
        rt.block_on(async {
            let client = connect(&target.host, &ConnectOptions::default())
                .await
                .unwrap();
            let options = DeployOptions {
                repo: repo.to_path_buf(),
                confirm: flags,
                command: format!("pix deploy {env}"),
                ..DeployOptions::default()
            };
            let r = deploy(&client, &target, &options, &mut NoTerminal, events).await;
            client.close().await.unwrap();
            r
        })
    }

    fn deploy(&self, events: &Events) -> DeployReport {
        self.deploy_from(&self.repo, "staging", ConfirmFlags::default(), events)
            .expect("deploy")
    }

    /// What the remote's deploy branch holds (`git ls-remote`).
    fn remote_tip(&self, app: &str) -> Option<String> {
        let out = std::process::Command::new("git")
            .args(["ls-remote", &self.sb.git_remote(app), "refs/heads/master"])
            .env("GIT_SSH_COMMAND", self.sb.git_ssh_command())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .map(str::to_string)
    }

    /// The deployed sha (`git:report`; `apps:report` on 0.19, which has no
    /// `--git-sha` in git:report).
    fn git_sha(&self, app: &str) -> String {
        scenario::dokku(&self.sb, &["git:report", app, "--git-sha"])
            .or_else(|_| scenario::dokku(&self.sb, &["apps:report", app, "--git-sha"]))
            .unwrap()
            .trim()
            .to_string()
    }

    fn running(&self, app: &str) -> bool {
        scenario::dokku(&self.sb, &["ps:report", app, "--running"])
            .map(|s| s.trim() == "true")
            .unwrap_or(false)
    }

    fn api_tree(&self, repo: &Path) -> String {
        git(repo, &["rev-parse", "HEAD:api"])
            .unwrap()
            .trim()
            .to_string()
    }
}

fn rev(repo: &Path, spec: &str) -> String {
    git(repo, &["rev-parse", spec]).unwrap().trim().to_string()
}

fn deployed_commit(report: &DeployReport) -> String {
    match &report.outcome {
        DeployOutcome::Deployed { commit, .. } => commit.clone(),
        other => panic!("not deployed: {other:?}"),
    }
}

#[test]
fn deploys_fast_forward_after_an_amend_and_from_another_clone() {
    let w = World::new();
    let events = Events::default();

    // First deploy: a root commit whose tree is api/.
    let first = w.deploy(&events);
    let c1 = deployed_commit(&first);
    assert_eq!(first.remote_before, None);
    assert_eq!(first.deploy_branch, "master");
    assert_eq!(w.remote_tip(APP).as_deref(), Some(c1.as_str()));
    assert_eq!(rev(&w.repo, &format!("{c1}^{{tree}}")), w.api_tree(&w.repo));
    assert_eq!(w.git_sha(APP), c1);
    assert!(w.running(APP));
    let msg = git(&w.repo, &["log", "-1", "--format=%B", &c1]).unwrap();
    assert!(
        msg.contains(&format!("Source-Commit: {}", rev(&w.repo, "HEAD"))),
        "{msg}"
    );
    assert!(msg.contains("Source-Branch: main"), "{msg}");
    match &first.outcome {
        DeployOutcome::Deployed { urls, .. } => {
            assert!(
                urls.iter().any(|u| u.contains(APP)),
                "urls from the deploy output: {urls:?}"
            );
        }
        _ => unreachable!(),
    }
    let out = events.output();
    assert!(out.iter().any(|l| l.contains("Releasing")), "{out:?}");
    assert!(
        out.iter()
            .all(|l| !l.contains('\x1b') && !l.starts_with("remote:")),
        "cleaned lines: {out:?}"
    );

    // Amend the source commit (history rewritten): still a fast-forward.
    std::fs::write(w.repo.join("api/VERSION"), "2\n").unwrap();
    git(&w.repo, &["add", "."]).unwrap();
    git(
        &w.repo,
        &["commit", "-q", "--amend", "-m", "initial, amended"],
    )
    .unwrap();
    let second = w.deploy(&Events::default());
    let c2 = deployed_commit(&second);
    assert_eq!(second.remote_before.as_deref(), Some(c1.as_str()));
    assert_eq!(rev(&w.repo, &format!("{c2}^")), c1, "parent is the old tip");
    assert_eq!(rev(&w.repo, &format!("{c2}^{{tree}}")), w.api_tree(&w.repo));
    assert_eq!(w.remote_tip(APP).as_deref(), Some(c2.as_str()));
    assert_eq!(w.git_sha(APP), c2);

    // Nothing changed in api/ (only elsewhere): nothing to deploy.
    std::fs::write(w.repo.join("README.md"), "# pix, docs only\n").unwrap();
    git(&w.repo, &["commit", "-q", "-am", "docs"]).unwrap();
    let same = w.deploy(&Events::default());
    assert_eq!(
        same.outcome,
        DeployOutcome::NothingToDeploy { commit: c2.clone() }
    );
    assert_eq!(w.remote_tip(APP).as_deref(), Some(c2.as_str()));

    // A fresh clone that never saw the deploy commits: fetched, still linear.
    let clone = w.dir.path().join("clone");
    git(
        w.dir.path(),
        &[
            "clone",
            "-q",
            w.repo.to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
    )
    .unwrap();
    std::fs::write(clone.join("api/VERSION"), "3\n").unwrap();
    git(&clone, &["commit", "-q", "-am", "version 3"]).unwrap();
    let third = w
        .deploy_from(
            &clone,
            "staging",
            ConfirmFlags::default(),
            &Events::default(),
        )
        .unwrap();
    let c3 = deployed_commit(&third);
    assert_eq!(rev(&clone, &format!("{c3}^")), c2);
    assert_eq!(w.remote_tip(APP).as_deref(), Some(c3.as_str()));

    // The remote's history is linear: c3 -> c2 -> c1.
    let parents = git(&clone, &["rev-list", "--parents", &c3]).unwrap();
    let rows: Vec<Vec<&str>> = parents
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 3, "{parents}");
    assert!(rows.iter().all(|r| r.len() <= 2), "{parents}");
    assert!(w.running(APP));
}

#[test]
fn failing_predeploy_is_build_failed_and_keeps_the_running_version() {
    let w = World::new();
    let c1 = deployed_commit(&w.deploy(&Events::default()));
    std::fs::write(
        w.repo.join("api/migrate.sh"),
        "#!/bin/sh\necho 'migrate: relation \"users\" is broken' >&2\nexit 3\n",
    )
    .unwrap();
    git(&w.repo, &["commit", "-q", "-am", "broken migration"]).unwrap();
    let events = Events::default();
    let report = w.deploy(&events);
    match &report.outcome {
        DeployOutcome::Failed(PushFailure::BuildFailed { log_tail }) => {
            assert!(
                log_tail.iter().any(|l| l.contains("is broken")),
                "log tail: {log_tail:?}"
            );
        }
        other => panic!("expected BuildFailed, got {other:?}"),
    }
    assert_eq!(report.outcome.exit_code(), 2);
    assert!(w.running(APP), "the old version still runs");
    assert_eq!(w.git_sha(APP), c1, "git:report sha unchanged");
    assert_eq!(w.remote_tip(APP).as_deref(), Some(c1.as_str()));

    // Fixing it deploys on top of the last good commit.
    git(&w.repo, &["revert", "--no-edit", "HEAD"]).unwrap();
    std::fs::write(w.repo.join("api/VERSION"), "fixed\n").unwrap();
    git(&w.repo, &["add", "."]).unwrap();
    git(&w.repo, &["commit", "-q", "-m", "fixed"]).unwrap();
    let c2 = deployed_commit(&w.deploy(&Events::default()));
    assert_eq!(rev(&w.repo, &format!("{c2}^")), c1);
}

#[test]
fn locked_apps_and_protected_environments_stop_before_the_push() {
    let w = World::new();
    let c1 = deployed_commit(&w.deploy(&Events::default()));
    std::fs::write(w.repo.join("api/VERSION"), "2\n").unwrap();
    git(&w.repo, &["add", "."]).unwrap();
    git(&w.repo, &["commit", "-q", "-m", "v2"]).unwrap();

    scenario::dokku(&w.sb, &["apps:lock", APP]).unwrap();
    let locked = w.deploy(&Events::default());
    assert!(
        matches!(&locked.outcome, DeployOutcome::Failed(PushFailure::Locked { message }) if message.contains(&format!("`pix apps unlock {APP}`"))),
        "{:?}",
        locked.outcome
    );
    assert_eq!(locked.outcome.exit_code(), 3);
    assert_eq!(w.remote_tip(APP).as_deref(), Some(c1.as_str()));
    scenario::dokku(&w.sb, &["apps:unlock", APP]).unwrap();

    // Protected: refused without a terminal or the typed name, even with --yes.
    let before = w.remote_tip("api-prod");
    let yes = ConfirmFlags {
        yes: true,
        confirm: None,
    };
    let e = w
        .deploy_from(&w.repo, "prod", yes, &Events::default())
        .unwrap_err();
    assert!(matches!(e, OpsError::Refused { .. }), "{e}");
    assert!(e.to_string().contains("--confirm api-prod-db"), "{e}");
    assert_eq!(w.remote_tip("api-prod"), before, "nothing pushed");
    let typed = ConfirmFlags {
        yes: false,
        confirm: Some("api-prod-db".into()),
    };
    let ok = w
        .deploy_from(&w.repo, "production", typed, &Events::default())
        .unwrap();
    let c = deployed_commit(&ok);
    assert_eq!(w.remote_tip("api-prod").as_deref(), Some(c.as_str()));
}

#[test]
fn missing_folder_and_missing_app_are_clear_errors() {
    let w = World::new();
    let mut config = w.config.clone();
    if let Some(e) = config.environments.get_mut("staging") {
        e.deploy_dir = Some("nope".into());
    }
    let env = config
        .environment("staging", &HostOverrides::default())
        .unwrap();
    let target = DeployTarget::from_environment(&env);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let e = rt.block_on(async {
        let client = connect(&target.host, &ConnectOptions::default())
            .await
            .unwrap();
        let options = DeployOptions {
            repo: w.repo.clone(),
            ..DeployOptions::default()
        };
        deploy(
            &client,
            &target,
            &options,
            &mut NoTerminal,
            &Events::default(),
        )
        .await
    });
    let text = e.unwrap_err().to_string();
    assert!(text.contains("`nope` does not exist"), "{text}");

    scenario::dokku(&w.sb, &["apps:destroy", APP, "--force"]).unwrap();
    let e = w
        .deploy_from(
            &w.repo,
            "staging",
            ConfirmFlags::default(),
            &Events::default(),
        )
        .unwrap_err();
    assert!(e.to_string().contains("does not exist"), "{e}");
    assert_eq!(w.remote_tip("api-prod"), None);
}

/// A first deploy and a deploy after an amend on the older profiles (bash
/// `git:report` on 0.19, Go reports on 0.30).
#[test]
fn deploys_fast_forward_on_older_profiles() {
    for profile in [Profile::V0_30, Profile::V0_19] {
        let w = World::on(profile);
        let c1 = deployed_commit(&w.deploy(&Events::default()));
        git(&w.repo, &["commit", "-q", "--amend", "-m", "amended"]).unwrap();
        std::fs::write(w.repo.join("api/VERSION"), "2\n").unwrap();
        git(&w.repo, &["add", "."]).unwrap();
        git(&w.repo, &["commit", "-q", "--amend", "--no-edit"]).unwrap();
        let c2 = deployed_commit(&w.deploy(&Events::default()));
        assert_eq!(rev(&w.repo, &format!("{c2}^")), c1, "{profile:?}");
        // before 0.38 git:report prints 7 characters
        let sha = w.git_sha(APP);
        assert!(sha.len() >= 7 && c2.starts_with(&sha), "{profile:?}: {sha}");
        assert!(w.running(APP), "{profile:?}");
    }
}

/// Adds `n` commits touching `live/` (not `api/`) with `git fast-import`.
fn add_history(repo: &Path, n: usize) {
    let head = rev(repo, "HEAD");
    let mut script = String::new();
    for i in 0..n {
        let body = format!("page {i}\n");
        let msg = format!("front change {i}\n");
        script.push_str("commit refs/heads/main\n");
        script.push_str(&format!(
            "committer pix <pix@sandbox.test> {} +0000\n",
            1_700_000_000 + i
        ));
        script.push_str(&format!("data {}\n{msg}", msg.len()));
        if i == 0 {
            script.push_str(&format!("from {head}\n"));
        }
        script.push_str(&format!(
            "M 100644 inline live/index.html\ndata {}\n{body}\n",
            body.len()
        ));
    }
    let mut child = std::process::Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(repo)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    git(repo, &["reset", "-q", "--hard", "main"]).unwrap();
}

/// The benchmark of issue 5: a deploy on a repository with 10,000 commits
/// costs what it costs with 10. Not a timed assertion (machines vary): run
/// with `cargo test -p pix-sandbox --test deploy -- --ignored --nocapture`
/// and compare the printed times.
#[test]
#[ignore = "benchmark: prints timings"]
fn bench_deploy_time_does_not_depend_on_history_length() {
    for commits in [10usize, 10_000] {
        let w = World::new();
        add_history(&w.repo, commits);
        let count = git(&w.repo, &["rev-list", "--count", "HEAD"]).unwrap();
        deployed_commit(&w.deploy(&Events::default()));
        let mut times = Vec::new();
        for round in 0..3 {
            std::fs::write(w.repo.join("api/VERSION"), format!("{round}\n")).unwrap();
            git(&w.repo, &["add", "."]).unwrap();
            git(&w.repo, &["commit", "-q", "-m", "bump"]).unwrap();
            let start = std::time::Instant::now();
            deployed_commit(&w.deploy(&Events::default()));
            times.push(start.elapsed());
        }
        println!(
            "history of {} commits: redeploys took {:?}",
            count.trim(),
            times
        );
    }
}
