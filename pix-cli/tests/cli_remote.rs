//! `pix remote status` and `pix remote repair` through the binary, against
//! the sandbox: a Dokku remote someone else pushed to is reported; `--merge`
//! merges and pushes; conflicts stop with the next steps (exit 9) and the
//! work tree untouched; `--force` needs `--yes` without a terminal.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use std::path::{Path, PathBuf};

use common::{commit_file, git, run_pix, Run, World};
use pix_sandbox::scenario;

const APP: &str = "api-staging";

struct Remote {
    w: World,
    local: PathBuf,
}

impl Remote {
    fn new() -> Remote {
        let w = World::start();
        let mut text = std::fs::read_to_string(&w.toml).unwrap();
        text.push_str(&format!(
            "\n[environments.staging]\nhost = \"sandbox\"\napp = \"{APP}\"\ndatabase = \"api-staging-db\"\n"
        ));
        std::fs::write(&w.toml, text).unwrap();
        scenario::dokku(&w.sb, &["apps:create", APP]).unwrap();
        scenario::dokku(&w.sb, &["postgres:create", "api-staging-db"]).unwrap();
        scenario::dokku(&w.sb, &["postgres:link", "api-staging-db", APP]).unwrap();
        let local = scenario::sample_app_repo(w.dir.path(), "local").unwrap();
        // merges need an identity, as on any developer's machine
        git(&local, &["config", "user.name", "Local Dev"]);
        git(&local, &["config", "user.email", "dev@example.test"]);
        git(&local, &["remote", "add", "dokku", &w.sb.git_remote(APP)]);
        git(
            &local,
            &["remote", "add", "origin", "git@github.com:1024pix/pix.git"],
        );
        scenario::push(&w.sb, &local, APP).unwrap();
        Remote { w, local }
    }

    fn pix(&self, args: &[&str]) -> Run {
        let mut all = vec!["--config", self.w.toml.to_str().unwrap()];
        all.extend_from_slice(args);
        run_pix(&self.local, &all, &[], None)
    }

    /// Someone else commits `file` on top of the remote's tip and pushes.
    fn someone_pushes(&self, name: &str, file: &str, text: &str) {
        let other = self.w.dir.path().join(name);
        git(
            self.w.dir.path(),
            &[
                "clone",
                "-q",
                self.local.to_str().unwrap(),
                other.to_str().unwrap(),
            ],
        );
        self.git_ssh(
            &other,
            &["fetch", "-q", &self.w.sb.git_remote(APP), "master"],
        );
        git(&other, &["reset", "-q", "--hard", "FETCH_HEAD"]);
        commit_file(&other, file, text, &format!("someone adds {file}"));
        scenario::push(&self.w.sb, &other, APP).unwrap();
    }

    fn git_ssh(&self, repo: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(repo)
            .env("GIT_SSH_COMMAND", self.w.sb.git_ssh_command())
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn remote_tip(&self) -> String {
        self.git_ssh(
            &self.local,
            &["ls-remote", &self.w.sb.git_remote(APP), "refs/heads/master"],
        )
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
    }
}

#[test]
fn diverged_remote_is_reported_and_merged() {
    let r = Remote::new();
    r.someone_pushes("other", "THEIRS", "theirs\n");
    commit_file(&r.local, "MINE", "mine\n", "local adds MINE");

    let status = r.pix(&["remote", "status"]).expect(0);
    snap!("remote_status_diverged", status);
    let json = r.pix(&["remote", "status", "--json"]).expect(0).json();
    // origin is not Dokku; pix.toml's environments that no remote deploys
    // follow the remotes, their never-created apps left alone.
    let sources: Vec<(&str, &str)> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["remote"].as_str().unwrap(), d["source"].as_str().unwrap()))
        .collect();
    assert_eq!(
        sources,
        [
            ("dokku", "git_remote"),
            ("development", "environment"),
            ("production", "environment")
        ]
    );
    assert_eq!(json[1]["app_exists"], false);
    assert_eq!(json[1]["push"], "create");
    assert_eq!(json[0]["remote"], "dokku");
    assert_eq!(json[0]["push"], "rejected");
    assert_eq!(
        (json[0]["ahead"].as_u64(), json[0]["behind"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(json[0]["environments"][0], "staging");

    let merged = r.pix(&["remote", "repair", "dokku", "--merge"]).expect(0);
    snap!("remote_repair_merge", merged);
    let head = git(&r.local, &["rev-parse", "HEAD"]);
    assert_eq!(r.remote_tip(), head.trim(), "the remote deploys the merge");
    assert!(r.local.join("THEIRS").is_file() && r.local.join("MINE").is_file());
    let json = r.pix(&["remote", "status", "--json"]).expect(0).json();
    assert_eq!(json[0]["push"], "up_to_date");
    let again = r.pix(&["remote", "repair", "dokku", "--merge"]).expect(0);
    assert!(
        again.stdout.starts_with("nothing to repair"),
        "{}",
        again.render()
    );

    // A remote whose host is gone: reported, the others still shown, and
    // the exit code is the failure's.
    git(
        &r.local,
        &[
            "remote",
            "add",
            "dead",
            "ssh://dokku@127.0.0.1:1/api-staging",
        ],
    );
    // An unreachable host is a transport failure: exit 6.
    let status = r.pix(&["remote", "status"]).expect(6);
    assert!(status.stdout.contains("up to date"), "{}", status.render());
    assert!(
        status
            .stderr
            .contains("error: dead: could not reach Dokku at 127.0.0.1"),
        "{}",
        status.render()
    );
    let json = r.pix(&["remote", "status", "--json"]).expect(6);
    let listed = json.json();
    assert_eq!(listed.as_array().unwrap().len(), 3, "{}", json.render());
    assert_eq!(listed[0]["remote"], "dokku");

    // The hint for an environment whose app is missing works as printed.
    r.pix(&["--env", "development", "apps", "create", "api-development"])
        .expect(0);
    let json = r.pix(&["remote", "status", "--json"]).expect(6).json();
    assert_eq!(json[1]["app_exists"], true, "{json}");
}

#[test]
fn conflicts_stop_cleanly_and_force_needs_yes() {
    let r = Remote::new();
    r.someone_pushes("other", "VERSION", "theirs\n");
    commit_file(&r.local, "VERSION", "mine\n", "local writes VERSION");
    let before = git(&r.local, &["rev-parse", "HEAD"]);

    let conflict = r.pix(&["remote", "repair", "dokku", "--merge"]).expect(9);
    snap!("remote_repair_conflict", conflict);
    assert_eq!(git(&r.local, &["rev-parse", "HEAD"]), before);
    assert_eq!(
        git(&r.local, &["status", "--porcelain"]),
        "",
        "work tree as it was"
    );

    // --force: refused without --yes (no terminal), then replaces with a lease
    let theirs = r.remote_tip();
    let refused = r.pix(&["remote", "repair", "dokku", "--force"]).expect(4);
    assert!(refused.stderr.contains("--yes"), "{}", refused.render());
    assert_eq!(r.remote_tip(), theirs);
    let forced = r
        .pix(&["remote", "repair", "dokku", "--force", "--yes", "--json"])
        .expect(0)
        .json();
    assert_eq!(forced["result"]["outcome"], "pushed");
    assert_eq!(forced["before"]["remote_sha"], theirs.as_str());
    assert_eq!(r.remote_tip(), before.trim());
    // Already up to date: nothing is pushed or deployed, and it says so.
    let again = r
        .pix(&["remote", "repair", "dokku", "--force", "--yes"])
        .expect(0);
    assert!(
        again.stdout.starts_with("nothing pushed") && !again.stdout.contains("deployed api"),
        "{}",
        again.render()
    );

    // an unknown remote is a usage error naming the remotes
    let unknown = r.pix(&["remote", "repair", "nope", "--merge"]).expect(3);
    assert!(unknown.stderr.contains("dokku"), "{}", unknown.render());
}

/// PIX's own layout (issue 13): the API in `api/` of a monorepo, deployed
/// by `pix deploy` (`deploy_dir = "api"`), and a colleague's hotfix pushed
/// straight to the Dokku remote on top of the deploy commits.
struct Lineage {
    w: World,
    repo: PathBuf,
}

impl Lineage {
    fn new() -> Lineage {
        let w = World::start();
        let mut text = std::fs::read_to_string(&w.toml).unwrap();
        text.push_str(&format!(
            "\n[environments.staging]\nhost = \"sandbox\"\napp = \"{APP}\"\ndatabase = \"api-staging-db\"\ndeploy_dir = \"api\"\n"
        ));
        std::fs::write(&w.toml, text).unwrap();
        scenario::dokku(&w.sb, &["apps:create", APP]).unwrap();
        scenario::dokku(&w.sb, &["postgres:create", "api-staging-db"]).unwrap();
        scenario::dokku(&w.sb, &["postgres:link", "api-staging-db", APP]).unwrap();
        let repo = common::monorepo(w.dir.path());
        git(&repo, &["config", "user.name", "Local Dev"]);
        git(&repo, &["config", "user.email", "dev@example.test"]);
        // PIX's monorepo holds more than the API: a pushed HEAD would build
        // the wrong thing.
        commit_file(&repo, "web/index.html", "<h1>web</h1>\n", "web");
        std::fs::copy(&w.toml, repo.join("pix.toml")).unwrap();
        git(&repo, &["add", "pix.toml"]);
        git(&repo, &["commit", "-q", "-m", "pix.toml"]);
        Lineage { w, repo }
    }

    fn pix(&self, args: &[&str]) -> Run {
        let mut all = vec!["--config", self.w.toml.to_str().unwrap()];
        all.extend_from_slice(args);
        run_pix(&self.repo, &all, &[], None)
    }

    fn git_ssh(&self, repo: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(repo)
            .env("GIT_SSH_COMMAND", self.w.sb.git_ssh_command())
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A colleague clones the app from Dokku, commits on top of what it
    /// runs and pushes straight to it (a plain fast-forward for them).
    fn colleague_pushes(&self, name: &str, files: &[(&str, &str)], subject: &str) -> String {
        let theirs = self.w.dir.path().join(name);
        if !theirs.exists() {
            std::fs::create_dir_all(&theirs).unwrap();
            git(&theirs, &["init", "-q"]);
        }
        self.git_ssh(
            &theirs,
            &["fetch", "-q", &self.w.sb.git_remote(APP), "master"],
        );
        git(&theirs, &["reset", "-q", "--hard", "FETCH_HEAD"]);
        for (file, text) in files {
            std::fs::write(theirs.join(file), text).unwrap();
        }
        git(&theirs, &["add", "."]);
        git(
            &theirs,
            &[
                "commit",
                "-q",
                "--author=Jane Hotfix <jane@example.test>",
                "-m",
                subject,
            ],
        );
        self.git_ssh(
            &theirs,
            &[
                "push",
                "-q",
                &self.w.sb.git_remote(APP),
                "HEAD:refs/heads/master",
            ],
        );
        git(&theirs, &["rev-parse", "HEAD"]).trim().to_string()
    }

    fn remote_tip(&self) -> String {
        self.git_ssh(
            &self.repo,
            &["ls-remote", &self.w.sb.git_remote(APP), "refs/heads/master"],
        )
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
    }

    /// The files of the tree the remote deploys.
    fn remote_files(&self) -> Vec<String> {
        self.git_ssh(
            &self.repo,
            &["fetch", "-q", &self.w.sb.git_remote(APP), "master"],
        );
        git(&self.repo, &["ls-tree", "--name-only", "FETCH_HEAD"])
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn remote_file(&self, file: &str) -> String {
        self.git_ssh(
            &self.repo,
            &["fetch", "-q", &self.w.sb.git_remote(APP), "master"],
        );
        git(&self.repo, &["show", &format!("FETCH_HEAD:{file}")])
    }
}

#[test]
fn a_hotfix_pushed_straight_to_dokku_blocks_the_deploy_and_is_merged_on_the_deploy_lineage() {
    let l = Lineage::new();
    l.pix(&["deploy", "staging"]).expect(0);
    let hotfix = l.colleague_pushes("jane", &[("HOTFIX", "login fixed\n")], "hotfix: login");
    commit_file(&l.repo, "api/FEATURE", "new\n", "a feature");

    // The deploy stops before pushing, with its own exit code, lists the
    // colleague's commit and names the repairs; the dry run says the same.
    for args in [
        &["deploy", "staging", "--dry-run"][..],
        &["deploy", "staging"],
    ] {
        let blocked = l.pix(args).expect(10);
        assert!(
            blocked.stderr.contains(&format!(
                "{} hotfix: login (Jane Hotfix <jane@example.test>)",
                &hotfix[..12]
            )),
            "{}",
            blocked.render()
        );
        assert!(
            blocked
                .stderr
                .contains("`pix remote repair staging --merge`")
                && blocked
                    .stderr
                    .contains("`pix remote repair staging --force`"),
            "{}",
            blocked.render()
        );
        assert_eq!(l.remote_tip(), hotfix, "nothing pushed");
    }
    let json = l.pix(&["deploy", "staging", "--json"]).expect(10).json();
    assert_eq!(json["outcome"]["outcome"], "foreign_commits");
    assert_eq!(json["outcome"]["commits"][0]["sha"], hotfix.as_str());

    // remote status: the table and --json agree on what a deploy would do;
    // --exit-code fails for CI.
    let status = l.pix(&["remote", "status"]).expect(0);
    let row = status
        .stdout
        .lines()
        .find(|line| line.contains(APP))
        .unwrap_or_else(|| panic!("{}", status.render()));
    assert!(
        row.contains("blocked foreign commits"),
        "{}",
        status.render()
    );
    assert!(
        status
            .stdout
            .contains("`pix remote repair staging --merge`"),
        "{}",
        status.render()
    );
    let json = l.pix(&["remote", "status", "--json"]).expect(0).json();
    let staging = json
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["remote"] == "staging")
        .unwrap();
    assert_eq!(staging["deploy"], "blocked_foreign_commits");
    assert_eq!(staging["lineage"], true);
    l.pix(&["remote", "status", "--exit-code"]).expect(10);

    // --merge: the hotfix comes into api/ of the branch, then the branch is
    // deployed on top of it (a fast-forward); web/ and pix.toml stay out.
    let merged = l.pix(&["remote", "repair", "staging", "--merge"]).expect(0);
    assert!(
        merged
            .stdout
            .contains("brought 1 commit(s) of api-staging into main"),
        "{}",
        merged.render()
    );
    assert_eq!(
        std::fs::read_to_string(l.repo.join("api/HOTFIX")).unwrap(),
        "login fixed\n"
    );
    let files = l.remote_files();
    assert!(
        files.contains(&"HOTFIX".to_string()) && files.contains(&"FEATURE".to_string()),
        "{files:?}"
    );
    assert!(
        !files
            .iter()
            .any(|f| f == "web" || f == "pix.toml" || f == "api"),
        "the deploy folder's tree, not the monorepo: {files:?}"
    );
    let tip = l.remote_tip();
    git(&l.repo, &["merge-base", "--is-ancestor", &hotfix, &tip]);
    l.pix(&["remote", "status", "--exit-code"]).expect(0);
    // The next deploy keeps it (it is in the branch now).
    commit_file(&l.repo, "api/VERSION", "3\n", "v3");
    l.pix(&["deploy", "staging"]).expect(0);
    assert_eq!(l.remote_file("HOTFIX"), "login fixed\n");
}

#[test]
fn lineage_conflicts_print_steps_that_work_and_force_replaces_the_hotfix() {
    let l = Lineage::new();
    l.pix(&["deploy", "staging"]).expect(0);
    let hotfix = l.colleague_pushes("jane", &[("VERSION", "hotfix\n")], "hotfix: version");
    commit_file(&l.repo, "api/VERSION", "mine\n", "local version");
    let before = git(&l.repo, &["rev-parse", "HEAD"]);

    let conflict = l.pix(&["remote", "repair", "staging", "--merge"]).expect(9);
    assert!(
        conflict.stderr.contains("conflicts in: api/VERSION"),
        "{}",
        conflict.render()
    );
    assert!(
        !conflict.stderr.contains("conflicts in: ."),
        "{}",
        conflict.render()
    );
    assert_eq!(git(&l.repo, &["rev-parse", "HEAD"]), before);
    assert_eq!(git(&l.repo, &["status", "--porcelain"]), "");
    assert_eq!(l.remote_tip(), hotfix, "nothing pushed");

    // The printed steps, run as printed (the conflict resolved in between).
    let steps: Vec<String> = conflict
        .stderr
        .lines()
        .skip_while(|line| !line.starts_with("To do it by hand:"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .map(|line| line.trim().to_string())
        .filter(|line| !line.starts_with('#'))
        .collect();
    assert_eq!(steps.len(), 3, "{}", conflict.render());
    let run = |step: &str| {
        if let Some(args) = step.strip_prefix("pix ") {
            let words: Vec<&str> = args.split(' ').collect();
            return l.pix(&words);
        }
        let out = std::process::Command::new("sh")
            .args(["-c", step])
            .current_dir(&l.repo)
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    };
    assert_ne!(
        run(&steps[0]).code,
        0,
        "the cherry-pick stops on the conflict"
    );
    std::fs::write(l.repo.join("api/VERSION"), "mine and hotfix\n").unwrap();
    run(&steps[1]).expect(0);
    run(&steps[2]).expect(0);
    assert_eq!(l.remote_file("VERSION"), "mine and hotfix\n");
    git(
        &l.repo,
        &["merge-base", "--is-ancestor", &hotfix, &l.remote_tip()],
    );

    // Another hotfix, replaced with --force: the remote runs the local
    // folder, its history kept; the deploy commit lists what it replaced.
    let second = l.colleague_pushes("jane", &[("EXTRA", "x\n")], "hotfix: extra");
    l.pix(&["remote", "repair", "staging", "--force"]).expect(4);
    let forced = l
        .pix(&["remote", "repair", "staging", "--force", "--yes"])
        .expect(0);
    assert!(forced.stdout.contains("deployed"), "{}", forced.render());
    assert!(!l.remote_files().contains(&"EXTRA".to_string()));
    let tip = l.remote_tip();
    git(&l.repo, &["merge-base", "--is-ancestor", &second, &tip]);
    let message = git(&l.repo, &["log", "-1", "--format=%B", &tip]);
    assert!(message.contains("hotfix: extra"), "{message}");

    // Once more: nothing was deployed, and it says so.
    let again = l
        .pix(&["remote", "repair", "staging", "--force", "--yes"])
        .expect(0);
    assert!(
        again.stdout.starts_with("nothing to deploy") && !again.stdout.contains("pushed"),
        "{}",
        again.render()
    );
    assert_eq!(l.remote_tip(), tip);
}
