//! `pix review-app up|list|down|prune` through the binary, against the
//! sandbox, with real branches created and deleted on a local bare `origin`.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use std::path::PathBuf;

use common::{commit_file, copy_sample_app, git, run_pix, Run, World};
use pix_sandbox::scenario;

struct Review {
    w: World,
    repo: PathBuf,
}

impl Review {
    fn new() -> Review {
        let w = World::start();
        let text = std::fs::read_to_string(&w.toml).unwrap().replace(
            "[settings]\n",
            "[settings]\nreview_deploy_dir = \"api\"\nreview_node_env = \"development\"\n",
        );
        std::fs::write(&w.toml, text).unwrap();
        let origin = w.dir.path().join("origin.git");
        git(
            w.dir.path(),
            &["init", "-q", "--bare", origin.to_str().unwrap()],
        );
        let repo = w.dir.path().join("pix");
        copy_sample_app(&repo.join("api"));
        std::fs::write(repo.join("README.md"), "# pix\n").unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-q", "-m", "initial"]);
        git(
            &repo,
            &["remote", "add", "origin", origin.to_str().unwrap()],
        );
        git(&repo, &["push", "-q", "origin", "main"]);
        for branch in ["feature/one", "Fix_Two"] {
            git(&repo, &["switch", "-q", "-c", branch, "main"]);
            commit_file(
                &repo,
                "api/BRANCH",
                &format!("{branch}\n"),
                &format!("work on {branch}"),
            );
            git(&repo, &["push", "-q", "origin", branch]);
        }
        git(&repo, &["switch", "-q", "feature/one"]);
        // The environment's app carries the marker: still never touched.
        scenario::dokku(&w.sb, &["apps:create", "api-development"]).unwrap();
        scenario::dokku(
            &w.sb,
            &[
                "config:set",
                "--no-restart",
                "api-development",
                "PIX_REVIEW_BRANCH=gone",
            ],
        )
        .unwrap();
        Review { w, repo }
    }

    fn pix(&self, args: &[&str]) -> Run {
        let mut all = vec!["--config", self.w.toml.to_str().unwrap()];
        all.extend_from_slice(args);
        run_pix(&self.repo, &all, &[], None)
    }

    fn apps(&self) -> Vec<String> {
        scenario::dokku(&self.w.sb, &["apps:list"])
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("=====>"))
            .map(str::to_string)
            .collect()
    }
}

#[test]
fn review_apps_up_list_prune_down() {
    let r = Review::new();

    // up: the current branch; app, NODE_ENV, its own database, deployed.
    let up = r.pix(&["review-app", "up"]).expect(0);
    snap!("review_up", up);
    let node_env = scenario::dokku(&r.w.sb, &["config:get", "feature-one", "NODE_ENV"]).unwrap();
    assert_eq!(node_env.trim(), "development");
    // a named branch, JSON: the library's report
    let up = r.pix(&["review-app", "up", "Fix_Two", "--json"]).expect(0);
    let report = up.json();
    assert_eq!(report["mapping"]["app"], "fix-two");
    assert_eq!(report["service"], "fix-two-db");
    assert_eq!(report["deploy"]["outcome"]["outcome"], "deployed");
    // again: nothing to deploy, nothing created
    let again = r.pix(&["review-app", "up", "--json"]).expect(0).json();
    assert_eq!(again["created_app"], false);
    assert_eq!(again["deploy"]["outcome"]["outcome"], "nothing_to_deploy");

    // list: both, never the environment's app
    let list = r.pix(&["review-app", "list"]).expect(0);
    snap!("review_list", list);
    let listed = r.pix(&["review-app", "list", "--json"]).expect(0).json();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["app"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["feature-one", "fix-two"]);
    let head = git(&r.repo, &["rev-parse", "feature/one"]);
    assert_eq!(listed[0]["source_commit"], head.trim());

    // the branch is deleted on origin (merged and deleted there, as on
    // GitHub: the local branch has nothing origin did not have): prune
    // shows it, needs --yes
    let origin = r.w.dir.path().join("origin.git");
    git(
        &origin,
        &[
            "--git-dir",
            origin.to_str().unwrap(),
            "branch",
            "-D",
            "Fix_Two",
        ],
    );
    let refused = r.pix(&["review-app", "prune"]).expect(4);
    snap!("review_prune_refused", refused);
    assert!(r.apps().contains(&"fix-two".to_string()), "nothing removed");
    let plan = r
        .pix(&["review-app", "prune", "--dry-run", "--json"])
        .expect(0)
        .json();
    assert_eq!(plan["plan"]["remove"][0]["app"], "fix-two");
    assert_eq!(plan["removed"].as_array().unwrap().len(), 0);
    let pruned = r.pix(&["review-app", "prune", "--yes"]).expect(0);
    snap!("review_prune", pruned);
    let apps = r.apps();
    assert!(!apps.contains(&"fix-two".to_string()), "{apps:?}");
    assert!(apps.contains(&"feature-one".to_string()), "{apps:?}");
    assert!(apps.contains(&"api-development".to_string()), "{apps:?}");
    assert!(scenario::dokku(&r.w.sb, &["postgres:exists", "fix-two-db"]).is_err());
    let nothing = r.pix(&["review-app", "prune", "--yes"]).expect(0);
    assert!(
        nothing.stdout.starts_with("nothing to prune"),
        "{}",
        nothing.render()
    );

    // down: confirmed only with --yes without a terminal
    let refused = r.pix(&["review-app", "down", "feature/one"]).expect(4);
    assert!(refused.stderr.contains("--yes"), "{}", refused.render());
    let down = r
        .pix(&["review-app", "down", "feature/one", "--yes"])
        .expect(0);
    snap!("review_down", down);
    let unknown = r
        .pix(&["review-app", "down", "feature/one", "--yes"])
        .expect(3);
    assert!(
        unknown.stderr.contains("pix review-app list"),
        "{}",
        unknown.render()
    );
    let listed = r.pix(&["review-app", "list", "--json"]).expect(0).json();
    assert_eq!(listed.as_array().unwrap().len(), 0);
    assert_eq!(r.apps(), ["api-development"]);
}

/// Prune removes only what is provably gone (issue 13): a branch that was
/// never pushed, or that was deleted on origin while its local branch holds
/// commits origin never had, keeps its review app, and prune says why.
#[test]
fn prune_keeps_review_apps_of_local_work() {
    let r = Review::new();
    // A branch only on this machine, with its review app.
    git(&r.repo, &["switch", "-q", "-c", "wip/local", "main"]);
    commit_file(&r.repo, "api/WIP", "wip\n", "work in progress");
    r.pix(&["review-app", "up"]).expect(0);
    // Fix_Two: up, then deleted on origin from here; a local commit since.
    r.pix(&["review-app", "up", "Fix_Two"]).expect(0);
    git(&r.repo, &["push", "-q", "origin", "--delete", "Fix_Two"]);
    git(&r.repo, &["switch", "-q", "Fix_Two"]);
    commit_file(&r.repo, "api/MORE", "more\n", "more work");
    // feature/one: up, then deleted on origin and here: gone.
    r.pix(&["review-app", "up", "feature/one"]).expect(0);
    let origin = r.w.dir.path().join("origin.git");
    git(
        &origin,
        &[
            "--git-dir",
            origin.to_str().unwrap(),
            "branch",
            "-D",
            "feature/one",
        ],
    );
    git(&r.repo, &["branch", "-q", "-D", "feature/one"]);

    let dry = r.pix(&["review-app", "prune", "--dry-run"]).expect(0);
    assert!(
        dry.stdout.contains("kept wip-local: ")
            && dry.stdout.contains("`git push origin wip/local`"),
        "{}",
        dry.render()
    );
    assert!(dry.stdout.contains("kept fix-two: "), "{}", dry.render());
    let pruned = r
        .pix(&["review-app", "prune", "--yes", "--json"])
        .expect(0)
        .json();
    let removed: Vec<&str> = pruned["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["app"].as_str().unwrap())
        .collect();
    assert_eq!(removed, ["feature-one"], "{pruned}");
    let apps = r.apps();
    assert!(apps.contains(&"wip-local".to_string()), "{apps:?}");
    assert!(apps.contains(&"fix-two".to_string()), "{apps:?}");
    assert!(scenario::dokku(&r.w.sb, &["postgres:exists", "wip-local-db"]).is_ok());
    let reasons = pruned["plan"]["reasons"].as_array().unwrap();
    assert!(reasons
        .iter()
        .any(|x| x["app"] == "wip-local" && x["remove"] == false));
}
