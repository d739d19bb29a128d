//! The deploy figure of `cargo xtask bench` (issue 7): a redeploy of a
//! repository with 10,000 commits against the same redeploy with 10, runs
//! interleaved on two sandboxes. Each run commits one change under `api/`
//! and deploys it through `pix_ops::deploy::deploy` (connect, deploy,
//! close), as `pix deploy` would.
//!
//! Run by `cargo xtask bench --only deploy`, or by hand:
//! `PIX_BENCH_OUT=/tmp/deploy.txt cargo test --release -p pix-sandbox --bench deploy_history -- --ignored --nocapture`.
//! Writes one line per run to `PIX_BENCH_OUT`: `<commits> <nanoseconds>`.
//! `PIX_BENCH_RUNS` sets the runs per repository (default 5). Not a timed
//! assertion: what it checks is that every run really deployed its commit.

#![allow(clippy::unwrap_used)] // a benchmark: a panic is the failure report

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pix_ops::config::{HostOverrides, PixConfig};
use pix_ops::confirm::{ConfirmFlags, NoTerminal};
use pix_ops::connect::{connect, ConnectOptions};
use pix_ops::deploy::{deploy, DeployOptions, DeployOutcome, DeployTarget};
use pix_ops::progress::Silent;
use pix_sandbox::sandbox::{Sandbox, SandboxOptions};
use pix_sandbox::scenario::{self, git};

const APP: &str = "api-staging";
const DB: &str = "api-staging-db";

/// A sandbox with the staging app and a monorepo whose `api/` is deployed.
struct World {
    sb: Sandbox,
    _dir: tempfile::TempDir,
    target: DeployTarget,
    repo: PathBuf,
    commits: usize,
}

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
    git(&repo, &["init", "-q", "-b", "main"]).unwrap();
    git(&repo, &["add", "."]).unwrap();
    git(&repo, &["commit", "-q", "-m", "initial"]).unwrap();
    repo
}

/// Adds `n` commits (each changing a file outside `api/`) with one
/// `git fast-import`, then checks the new tip out.
fn add_history(repo: &Path, n: usize) {
    let head = git(repo, &["rev-parse", "HEAD"])
        .unwrap()
        .trim()
        .to_string();
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
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(repo)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    git(repo, &["reset", "-q", "--hard", "main"]).unwrap();
}

impl World {
    fn new(history: usize) -> World {
        let sb = Sandbox::start(SandboxOptions::default()).expect("sandbox");
        let dir = tempfile::tempdir().unwrap();
        let toml = dir.path().join("pix.toml");
        sb.write_pix_toml(&toml).unwrap();
        let mut text = std::fs::read_to_string(&toml).unwrap();
        text.push_str(&format!(
            "\n[environments.staging]\nhost = \"sandbox\"\napp = \"{APP}\"\ndatabase = \"{DB}\"\ndeploy_dir = \"api\"\n"
        ));
        std::fs::write(&toml, text).unwrap();
        let config = PixConfig::load(&toml).unwrap();
        let env = config
            .environment("staging", &HostOverrides::default())
            .unwrap();
        scenario::dokku(&sb, &["apps:create", APP]).unwrap();
        scenario::dokku(&sb, &["postgres:create", DB]).unwrap();
        scenario::dokku(&sb, &["postgres:link", DB, APP]).unwrap();
        let repo = monorepo(dir.path());
        add_history(&repo, history);
        let commits: usize = git(&repo, &["rev-list", "--count", "HEAD"])
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        World {
            sb,
            _dir: dir,
            target: DeployTarget::from_environment(&env),
            repo,
            commits,
        }
    }

    /// Connects, deploys HEAD, closes; returns the deployed commit.
    fn deploy(&self, rt: &tokio::runtime::Runtime) -> String {
        rt.block_on(async {
            let client = connect(&self.target.host, &ConnectOptions::default())
                .await
                .unwrap();
            let options = DeployOptions {
                repo: self.repo.clone(),
                confirm: ConfirmFlags::default(),
                command: "pix deploy staging".into(),
                ..DeployOptions::default()
            };
            let report = deploy(&client, &self.target, &options, &mut NoTerminal, &Silent)
                .await
                .unwrap();
            client.close().await.unwrap();
            match report.outcome {
                DeployOutcome::Deployed { commit, .. } => commit,
                other => panic!("not deployed: {other:?}"),
            }
        })
    }

    /// Commits one change under `api/` and deploys it, timed.
    fn redeploy(&self, rt: &tokio::runtime::Runtime, round: usize) -> Duration {
        std::fs::write(self.repo.join("api/VERSION"), format!("{round}\n")).unwrap();
        git(&self.repo, &["add", "."]).unwrap();
        git(&self.repo, &["commit", "-q", "-m", "bump"]).unwrap();
        let start = Instant::now();
        let commit = self.deploy(rt);
        let took = start.elapsed();
        // The deployed commit is made from HEAD's api/ tree: the app must
        // now run this round's version.
        let version = scenario::dokku(&self.sb, &["run", APP, "cat", "VERSION"]).unwrap();
        assert_eq!(version.trim(), round.to_string(), "commit {commit}");
        took
    }
}

#[test]
#[ignore = "benchmark: run by `cargo xtask bench --only deploy`"]
fn redeploy_time_with_10_and_10000_commits() {
    let runs: usize = std::env::var("PIX_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let worlds = [World::new(10), World::new(10_000)];
    for w in &worlds {
        w.deploy(&rt); // the first deploy pushes the whole api/ history
    }
    let mut lines = String::new();
    for round in 0..runs {
        for w in &worlds {
            let took = w.redeploy(&rt, round);
            println!("{} commits: redeploy {round} took {took:?}", w.commits);
            // `<commits> <ns>`, with the commit count as the figure names it
            let label = if w.commits > 1000 { 10_000 } else { 10 };
            lines.push_str(&format!("{label} {}\n", took.as_nanos()));
        }
    }
    if let Some(path) = std::env::var_os("PIX_BENCH_OUT") {
        std::fs::write(&path, lines).unwrap();
    }
}
