//! Review apps against the sandbox (issue 5): up (app, NODE_ENV, its own
//! Postgres service, deploy), list, down and prune, with real branches created
//! and deleted on a local bare `origin`. Apps of pix.toml are never touched.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::path::{Path, PathBuf};

use pix_ops::config::{HostOverrides, PixConfig};
use pix_ops::confirm::{ConfirmFlags, NoTerminal};
use pix_ops::connect::{connect, ConnectOptions};
use pix_ops::deploy::{branch_settings, DeployOptions, DeployOutcome};
use pix_ops::git::Git;
use pix_ops::progress::Silent;
use pix_ops::review::{self, UpOptions, UpReport, BRANCH_VAR};
use pix_ops::OpsError;
use pix_sandbox::sandbox::{Sandbox, SandboxOptions};
use pix_sandbox::scenario::{self, git};

struct World {
    sb: Sandbox,
    _dir: tempfile::TempDir,
    config: PixConfig,
    repo: PathBuf,
    rt: tokio::runtime::Runtime,
}

fn copy_sample_app(to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(scenario::sample_app_dir()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

impl World {
    fn new() -> World {
        let sb = Sandbox::start(SandboxOptions::default()).expect("sandbox");
        let dir = tempfile::tempdir().unwrap();
        let toml = dir.path().join("pix.toml");
        sb.write_pix_toml(&toml).unwrap();
        let mut text = std::fs::read_to_string(&toml).unwrap();
        text.push_str(
            "\n[settings]\nreview_deploy_dir = \"api\"\nreview_node_env = \"development\"\n",
        );
        std::fs::write(&toml, text).unwrap();
        let config = PixConfig::load(&toml).unwrap();

        // origin: a local bare repository; the work repository tracks it.
        let origin = dir.path().join("origin.git");
        git(
            dir.path(),
            &["init", "-q", "--bare", origin.to_str().unwrap()],
        )
        .unwrap();
        let repo = dir.path().join("pix");
        copy_sample_app(&repo.join("api"));
        std::fs::write(repo.join("README.md"), "# pix\n").unwrap();
        git(&repo, &["init", "-q", "-b", "main"]).unwrap();
        git(&repo, &["add", "."]).unwrap();
        git(&repo, &["commit", "-q", "-m", "initial"]).unwrap();
        git(
            &repo,
            &["remote", "add", "origin", origin.to_str().unwrap()],
        )
        .unwrap();
        git(&repo, &["push", "-q", "origin", "main"]).unwrap();
        for branch in ["feature/one", "Fix_Two"] {
            git(&repo, &["switch", "-q", "-c", branch, "main"]).unwrap();
            std::fs::write(repo.join("api/BRANCH"), format!("{branch}\n")).unwrap();
            git(&repo, &["add", "."]).unwrap();
            git(&repo, &["commit", "-q", "-m", &format!("work on {branch}")]).unwrap();
            git(&repo, &["push", "-q", "origin", branch]).unwrap();
        }
        git(&repo, &["switch", "-q", "feature/one"]).unwrap();

        // The environment's app, even carrying the review marker, is never
        // listed, removed or pruned.
        scenario::dokku(&sb, &["apps:create", "api-development"]).unwrap();
        scenario::dokku(
            &sb,
            &[
                "config:set",
                "--no-restart",
                "api-development",
                "PIX_REVIEW_BRANCH=gone",
            ],
        )
        .unwrap();
        World {
            sb,
            _dir: dir,
            config,
            repo,
            rt: tokio::runtime::Runtime::new().unwrap(),
        }
    }

    fn client(&self) -> dokku_client::Client {
        let s = branch_settings(&self.config, &HostOverrides::default()).unwrap();
        self.rt
            .block_on(connect(&s.host, &ConnectOptions::default()))
            .unwrap()
    }

    fn up(&self, branch: Option<&str>) -> UpReport {
        let client = self.client();
        let settings = branch_settings(&self.config, &HostOverrides::default()).unwrap();
        let options = UpOptions {
            branch: branch.map(str::to_string),
            deploy: DeployOptions {
                repo: self.repo.clone(),
                ..DeployOptions::default()
            },
        };
        self.rt
            .block_on(review::up(
                &client,
                &self.config,
                &settings,
                &options,
                &mut NoTerminal,
                &Silent,
            ))
            .expect("review-app up")
    }

    fn dokku(&self, args: &[&str]) -> Result<String, String> {
        scenario::dokku(&self.sb, args)
    }

    fn exists(&self, app: &str) -> bool {
        self.dokku(&["apps:exists", app]).is_ok()
    }

    fn service_exists(&self, svc: &str) -> bool {
        self.dokku(&["postgres:exists", svc]).is_ok()
    }
}

fn yes() -> ConfirmFlags {
    ConfirmFlags {
        yes: true,
        confirm: None,
    }
}

#[test]
fn up_list_down_prune_with_real_branches() {
    let w = World::new();

    // up for the current branch.
    let one = w.up(None);
    assert_eq!(one.mapping.branch, "feature/one");
    assert_eq!(one.mapping.app, "feature-one");
    assert_eq!(one.service, "feature-one-db");
    assert!(one.created_app && one.created_service && one.linked);
    let commit_one = match &one.deploy.outcome {
        DeployOutcome::Deployed { commit, urls } => {
            assert!(urls.iter().any(|u| u.contains("feature-one")), "{urls:?}");
            commit.clone()
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(
        w.dokku(&["config:get", "feature-one", "NODE_ENV"])
            .unwrap()
            .trim(),
        "development"
    );
    assert_eq!(
        w.dokku(&["config:get", "feature-one", BRANCH_VAR])
            .unwrap()
            .trim(),
        "feature/one"
    );
    assert!(w
        .dokku(&["config:get", "feature-one", "DATABASE_URL"])
        .unwrap()
        .starts_with("postgres://"));
    assert_eq!(
        w.dokku(&["ps:report", "feature-one", "--running"])
            .unwrap()
            .trim(),
        "true"
    );

    // up for a branch that is not checked out: its own ref is deployed.
    let two = w.up(Some("Fix_Two"));
    assert_eq!(two.mapping.app, "fix-two");
    assert_eq!(
        two.deploy.source_commit,
        git(&w.repo, &["rev-parse", "Fix_Two"]).unwrap().trim()
    );
    assert!(matches!(two.deploy.outcome, DeployOutcome::Deployed { .. }));

    // up again: nothing is recreated and nothing to deploy.
    let again = w.up(None);
    assert!(!again.created_app && !again.created_service && !again.linked);
    assert!(matches!(
        again.deploy.outcome,
        DeployOutcome::NothingToDeploy { .. }
    ));

    // list
    let client = w.client();
    let git_repo = Git::new(&w.repo);
    let apps =
        w.rt.block_on(review::list(&client, &w.config, Some(&git_repo)))
            .unwrap();
    let mut names: Vec<&str> = apps.iter().map(|a| a.app.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        ["feature-one", "fix-two"],
        "api-development is not listed"
    );
    let a1 = apps.iter().find(|a| a.app == "feature-one").unwrap();
    assert_eq!(a1.branch, "feature/one");
    assert_eq!(a1.commit.as_deref(), Some(commit_one.as_str()));
    assert_eq!(
        a1.source_commit.as_deref(),
        Some(git(&w.repo, &["rev-parse", "feature/one"]).unwrap().trim())
    );
    assert_eq!(a1.service.as_deref(), Some("feature-one-db"));
    assert!(
        a1.urls.iter().any(|u| u.contains("feature-one")),
        "{:?}",
        a1.urls
    );

    // Delete Fix_Two on origin (as GitHub does after a merge: the local
    // branch has nothing origin did not have): prune plans it, refuses
    // without --yes.
    let origin = w._dir.path().join("origin.git");
    git(
        &origin,
        &[
            "--git-dir",
            origin.to_str().unwrap(),
            "branch",
            "-D",
            "Fix_Two",
        ],
    )
    .unwrap();
    let plan =
        w.rt.block_on(review::prune_plan(&client, &w.config, &git_repo, "origin"))
            .unwrap();
    let gone: Vec<&str> = plan.remove.iter().map(|a| a.app.as_str()).collect();
    assert_eq!(gone, ["fix-two"]);
    assert_eq!(plan.keep.len(), 1);
    let e =
        w.rt.block_on(review::prune(
            &client,
            &w.config,
            &plan,
            &ConfirmFlags::default(),
            &mut NoTerminal,
            &Silent,
        ))
        .unwrap_err();
    assert!(matches!(e, OpsError::Refused { .. }), "{e}");
    assert!(w.exists("fix-two"), "nothing removed before confirmation");
    let removed =
        w.rt.block_on(review::prune(
            &client,
            &w.config,
            &plan,
            &yes(),
            &mut NoTerminal,
            &Silent,
        ))
        .unwrap();
    assert_eq!(removed.len(), 1);
    assert!(removed[0].service_destroyed);
    assert!(!w.exists("fix-two"));
    assert!(!w.service_exists("fix-two-db"));
    assert!(w.exists("feature-one"));

    // down for a branch that still exists (explicit).
    let e =
        w.rt.block_on(review::down(
            &client,
            &w.config,
            "no/such-branch",
            &yes(),
            &mut NoTerminal,
            &Silent,
        ))
        .unwrap_err();
    assert!(e.to_string().contains("no review app"), "{e}");
    let down =
        w.rt.block_on(review::down(
            &client,
            &w.config,
            "feature/one",
            &yes(),
            &mut NoTerminal,
            &Silent,
        ))
        .unwrap();
    assert_eq!(down.app, "feature-one");
    assert!(!w.exists("feature-one"));
    assert!(!w.service_exists("feature-one-db"));

    // The environment's app survived everything.
    assert!(w.exists("api-development"));
    w.rt.block_on(client.close()).unwrap();
}

#[test]
fn up_refuses_apps_it_does_not_own() {
    let w = World::new();
    // An existing app that is not a review app.
    w.dokku(&["apps:create", "feature-one"]).unwrap();
    let client = w.client();
    let settings = branch_settings(&w.config, &HostOverrides::default()).unwrap();
    let options = UpOptions {
        branch: None,
        deploy: DeployOptions {
            repo: w.repo.clone(),
            ..DeployOptions::default()
        },
    };
    let e =
        w.rt.block_on(review::up(
            &client,
            &w.config,
            &settings,
            &options,
            &mut NoTerminal,
            &Silent,
        ))
        .unwrap_err();
    assert!(e.to_string().contains("not a review app"), "{e}");
    assert!(!w.service_exists("feature-one-db"), "nothing created");

    // A branch whose name maps to an environment's app.
    git(&w.repo, &["switch", "-q", "-c", "API_Development"]).unwrap();
    let e =
        w.rt.block_on(review::up(
            &client,
            &w.config,
            &settings,
            &options,
            &mut NoTerminal,
            &Silent,
        ))
        .unwrap_err();
    assert!(e.to_string().contains("environment of pix.toml"), "{e}");
    w.rt.block_on(client.close()).unwrap();
}
