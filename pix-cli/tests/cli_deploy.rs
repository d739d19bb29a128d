//! `pix deploy` through the binary, against the sandbox: the sample app
//! lives in `api/` of a bigger repository; deploys (human and `--json`),
//! nothing to deploy (and `--rebuild`), a failing predeploy (exit 7, the
//! running version kept), a dry run, a locked app, a protected environment,
//! `branch` without its review app, and CI-style credentials from the
//! environment.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use std::path::{Path, PathBuf};

use common::{commit_file, git, monorepo, run_pix, Run, World};
use pix_sandbox::scenario;

const APP: &str = "api-staging";
const DB: &str = "api-staging-db";

struct Repo {
    w: World,
    repo: PathBuf,
}

impl Repo {
    fn new() -> Repo {
        let w = World::start();
        let mut text = std::fs::read_to_string(&w.toml).unwrap();
        text.push_str(&format!(
            "\n[environments.staging]\nhost = \"sandbox\"\napp = \"{APP}\"\ndatabase = \"{DB}\"\ndeploy_dir = \"api\"\n"
        ));
        std::fs::write(&w.toml, text).unwrap();
        for (app, db) in [(APP, DB), ("api-prod", "pg-prod")] {
            scenario::dokku(&w.sb, &["apps:create", app]).unwrap();
            scenario::dokku(&w.sb, &["postgres:create", db]).unwrap();
            scenario::dokku(&w.sb, &["postgres:link", db, app]).unwrap();
        }
        let repo = monorepo(w.dir.path());
        Repo { w, repo }
    }

    /// `pix --config <pix.toml> ARGS` inside the repository.
    fn pix(&self, args: &[&str]) -> Run {
        self.pix_env(args, &[])
    }

    fn pix_env(&self, args: &[&str], envs: &[(&str, &str)]) -> Run {
        let mut all = vec!["--config", self.w.toml.to_str().unwrap()];
        all.extend_from_slice(args);
        run_pix(&self.repo, &all, envs, None)
    }

    /// `pix ARGS` as CI runs it: the repository's pix.toml names no key and
    /// no known_hosts (they come from the environment, `envs`).
    fn pix_ci(&self, args: &[&str], envs: &[(&str, &str)]) -> Run {
        let text: String = std::fs::read_to_string(&self.w.toml)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("key =") && !l.starts_with("known_hosts ="))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(self.repo.join("pix.toml"), text).unwrap();
        run_pix(&self.repo, args, envs, None)
    }

    fn deployed_sha(&self) -> String {
        scenario::dokku(&self.w.sb, &["git:report", APP, "--git-sha"])
            .unwrap()
            .trim()
            .to_string()
    }

    fn running(&self) -> bool {
        scenario::dokku(&self.w.sb, &["ps:report", APP, "--running"])
            .map(|s| s.trim() == "true")
            .unwrap_or(false)
    }
}

fn rev(repo: &Path, spec: &str) -> String {
    git(repo, &["rev-parse", spec]).trim().to_string()
}

#[test]
fn deploys_the_api_folder_and_reports_each_outcome() {
    let r = Repo::new();

    // First deploy, human: the output streams on stderr, the result on stdout.
    let first = r.pix(&["deploy", "staging"]).expect(0);
    snap!("deploy_human", first);
    assert!(r.running());
    let c1 = r.deployed_sha();
    // The deployed commit's tree is api/ at HEAD.
    let mut fetch = std::process::Command::new("git");
    fetch
        .args(["fetch", "-q", &r.w.sb.git_remote(APP), "master"])
        .env("GIT_SSH_COMMAND", r.w.sb.git_ssh_command())
        .current_dir(&r.repo);
    assert!(fetch.status().unwrap().success());
    assert_eq!(rev(&r.repo, "FETCH_HEAD"), c1);
    assert_eq!(rev(&r.repo, "FETCH_HEAD^{tree}"), rev(&r.repo, "HEAD:api"));

    // Nothing changed under api/: nothing to deploy, exit 0, the rebuild offered.
    commit_file(&r.repo, "live/index.html", "<h1>v2</h1>\n", "front only");
    let nothing = r.pix(&["deploy", "staging"]).expect(0);
    snap!("deploy_nothing", nothing);
    assert!(nothing.stdout.contains("pix ps rebuild api-staging"));
    let rebuilt = r.pix(&["deploy", "staging", "--rebuild"]).expect(0);
    assert!(
        rebuilt.stdout.contains("rebuilt api-staging"),
        "{}",
        rebuilt.render()
    );
    assert_eq!(r.deployed_sha(), c1, "a rebuild pushes nothing");

    // Dry run: the plan, nothing pushed.
    commit_file(&r.repo, "api/VERSION", "2\n", "v2");
    let dry = r.pix(&["deploy", "staging", "--dry-run"]).expect(0);
    assert!(dry.stdout.starts_with("dry run: "), "{}", dry.render());
    assert_eq!(r.deployed_sha(), c1);

    // JSON: the library's report; credentials from the environment as in
    // CI (pix.toml in the repository names none: without them, exit 6).
    let key = r.w.sb.key_path();
    let known = r.w.sb.known_hosts_path();
    let no_creds = r.pix_ci(&["deploy", "staging", "--json"], &[]).expect(6);
    assert_eq!(no_creds.json()["error"]["exit_code"], 6);
    let json = r
        .pix_ci(
            &["deploy", "staging", "--json"],
            &[
                ("PIX_SSH_KEY", key.to_str().unwrap()),
                ("PIX_KNOWN_HOSTS", known.to_str().unwrap()),
            ],
        )
        .expect(0);
    std::fs::remove_file(r.repo.join("pix.toml")).unwrap();
    snap!("deploy_json", json);
    let report = json.json();
    assert_eq!(report["outcome"]["outcome"], "deployed");
    assert_eq!(report["remote_before"], c1.as_str());
    assert_eq!(report["source_commit"], rev(&r.repo, "HEAD").as_str());
    let c2 = r.deployed_sha();
    assert_eq!(rev(&r.repo, &format!("{c2}^")), c1, "a fast-forward");

    // A failing predeploy: exit 7, the log tail, the running version kept.
    commit_file(
        &r.repo,
        "api/migrate.sh",
        "#!/bin/sh\necho 'migrate: relation \"users\" is broken' >&2\nexit 3\n",
        "broken migration",
    );
    let failed = r.pix(&["deploy", "staging"]).expect(7);
    snap!("deploy_build_failed", failed);
    assert!(failed.stderr.contains("is broken"), "{}", failed.render());
    assert!(r.running(), "the old version still runs");
    assert_eq!(r.deployed_sha(), c2);
    let failed = r.pix(&["deploy", "staging", "--json"]).expect(7);
    assert_eq!(failed.json()["outcome"]["outcome"], "build_failed");

    // Locked: exit 4, nothing pushed.
    git(&r.repo, &["revert", "--no-edit", "HEAD"]);
    scenario::dokku(&r.w.sb, &["apps:lock", APP]).unwrap();
    let locked = r.pix(&["deploy", "staging"]).expect(4);
    // The hint is pix's own command, with the real app.
    assert!(
        locked.stderr.contains(&format!("`pix apps unlock {APP}`")),
        "{}",
        locked.render()
    );
    scenario::dokku(&r.w.sb, &["apps:unlock", APP]).unwrap();
    assert_eq!(r.deployed_sha(), c2);

    // A remote that pix deploy deploys: `remote status` says so (no
    // plain-push advice) and `repair --merge` refuses to mix its tree in.
    git(
        &r.repo,
        &["remote", "add", "dokku", &r.w.sb.git_remote(APP)],
    );
    let status = r.pix(&["remote", "status"]).expect(0);
    snap!("remote_status_deployed", status);
    assert!(
        status.stdout.contains("`pix deploy staging` deploys it"),
        "{}",
        status.render()
    );
    let merge = r.pix(&["remote", "repair", "dokku", "--merge"]).expect(4);
    assert!(
        merge.stderr.contains("deployed by `pix deploy`"),
        "{}",
        merge.render()
    );
    assert_eq!(r.deployed_sha(), c2);
    commit_file(&r.repo, "api/VERSION", "3\n", "v3");
    r.pix(&["deploy", "staging"]).expect(0);
    let status = r.pix(&["remote", "status"]).expect(0);
    assert!(status.stdout.contains("up to date"), "{}", status.render());
}

#[test]
fn protected_environments_aliases_and_branches() {
    let r = Repo::new();
    let mut text = std::fs::read_to_string(&r.w.toml).unwrap();
    text = text.replace(
        "protected = true\naliases = [\"prod\"]\n",
        "protected = true\ndeploy_dir = \"api\"\n",
    );
    text = text.replace("[settings]\n", "[settings]\nreview_deploy_dir = \"api\"\n");
    std::fs::write(&r.w.toml, text).unwrap();

    // `prod` is `production` (the npm-era name) even without an alias in
    // pix.toml; protected: --yes is not enough, no terminal: refused.
    for args in [
        &["deploy", "prod"][..],
        &["deploy", "production", "--yes"],
        &["deploy", "prod", "--confirm", "api-prod"],
    ] {
        let refused = r.pix(args).expect(4);
        assert!(
            refused.stderr.contains("nothing was done"),
            "{}",
            refused.render()
        );
    }
    let refused = r.pix(&["deploy", "prod"]).expect(4);
    snap!("deploy_protected_refused", refused);
    assert!(
        scenario::dokku(&r.w.sb, &["git:report", "api-prod", "--git-sha"])
            .unwrap()
            .trim()
            .is_empty(),
        "nothing pushed to production"
    );
    r.pix(&["deploy", "prod", "--confirm", "pg-prod"]).expect(0);

    // `branch`: the mapping is printed; no app yet: review-app up is named.
    git(&r.repo, &["switch", "-q", "-c", "Feature/Login_Page"]);
    let branch = r.pix(&["deploy", "branch"]).expect(5);
    assert!(
        branch
            .stderr
            .contains("branch Feature/Login_Page → app feature-login-page"),
        "{}",
        branch.render()
    );
    assert!(
        branch.stderr.contains("pix review-app up"),
        "{}",
        branch.render()
    );
    assert_eq!(
        branch.stderr.matches("→ app ").count(),
        1,
        "{}",
        branch.render()
    );
    scenario::dokku(&r.w.sb, &["apps:create", "feature-login-page"]).unwrap();
    scenario::dokku(&r.w.sb, &["postgres:create", "login-db"]).unwrap();
    scenario::dokku(
        &r.w.sb,
        &["postgres:link", "login-db", "feature-login-page"],
    )
    .unwrap();
    let deployed = r.pix(&["deploy", "branch"]).expect(0);
    assert!(
        deployed.stdout.contains("to feature-login-page"),
        "{}",
        deployed.render()
    );

    // An unknown environment is a usage error that lists the known ones.
    let unknown = r.pix(&["deploy", "nowhere"]).expect(3);
    assert!(unknown.stderr.contains("staging"), "{}", unknown.render());
}

#[test]
fn ctrl_c_during_a_deploy_stops_it_and_says_what_next() {
    use std::io::{BufRead, BufReader};
    let r = Repo::new();
    r.pix(&["deploy", "staging"]).expect(0);
    // a predeploy that takes its time
    commit_file(
        &r.repo,
        "api/migrate.sh",
        "#!/bin/sh\necho 'migrate: slow' >&2\nsleep 12\n",
        "slow migration",
    );
    let mut child = std::process::Command::new(common::pix_bin())
        .args(["--config", r.w.toml.to_str().unwrap(), "deploy", "staging"])
        .current_dir(&r.repo)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "deploy ended early:\n{seen}"
        );
        seen.push_str(&line);
        if line.contains("migrate: slow") {
            break;
        }
    }
    let started = std::time::Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{seen}{rest}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "stopped at once"
    );
    assert!(rest.contains("interrupted:"), "{rest}");
    assert!(rest.contains("pix remote status"), "{rest}");
    // Whether the server finished that deploy is the server's business (the
    // message says so); the app runs either way.
    assert!(r.running());
}

/// `--rev HEAD~1` (issue 13): the resolved commit is recorded, not the
/// revision's text, with no branch; the dry run's commit is the one the
/// deploy pushes (the deploy commit is deterministic).
#[test]
fn a_rev_records_its_commit_and_the_dry_run_shows_the_deployed_commit() {
    let r = Repo::new();
    commit_file(&r.repo, "api/VERSION", "2\n", "v2");
    commit_file(&r.repo, "api/VERSION", "3\n", "v3");
    let wanted = rev(&r.repo, "HEAD~1");
    let dry = r
        .pix(&[
            "deploy",
            "staging",
            "--rev",
            "HEAD~1",
            "--dry-run",
            "--json",
        ])
        .expect(0)
        .json();
    // a second apart: a commit dated "now" would get another id
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let done = r
        .pix(&["deploy", "staging", "--rev", "HEAD~1", "--json"])
        .expect(0)
        .json();
    assert_eq!(done["source_commit"], wanted.as_str());
    assert_eq!(done["source_branch"], serde_json::Value::Null, "{done}");
    assert_eq!(
        dry["outcome"]["commit"], done["outcome"]["commit"],
        "dry run {dry}\ndeploy {done}"
    );
    let commit = done["outcome"]["commit"].as_str().unwrap().to_string();
    assert_eq!(r.deployed_sha(), commit);
    let mut fetch = std::process::Command::new("git");
    fetch
        .args(["fetch", "-q", &r.w.sb.git_remote(APP), "master"])
        .env("GIT_SSH_COMMAND", r.w.sb.git_ssh_command())
        .current_dir(&r.repo);
    assert!(fetch.status().unwrap().success());
    let message = git(&r.repo, &["log", "-1", "--format=%B", "FETCH_HEAD"]);
    assert!(
        message.contains(&format!("Source-Commit: {wanted}")),
        "{message}"
    );
    assert!(
        !message.contains("HEAD~1\n") && !message.contains("Source-Branch:"),
        "{message}"
    );

    // A branch named by --rev is recorded as that branch.
    git(&r.repo, &["branch", "release", "HEAD"]);
    let json = r
        .pix(&["deploy", "staging", "--rev", "release", "--json"])
        .expect(0)
        .json();
    assert_eq!(json["source_branch"], "release");
}
