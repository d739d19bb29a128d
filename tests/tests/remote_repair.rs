//! Pushes that no longer fast-forward, against the sandbox (issue 5): a Dokku
//! remote someone else pushed to is reported by `status`; `repair --merge`
//! and `repair --force` both end with the remote deploying the intended tree;
//! `--force` refuses when the remote moved again after it was read; merge
//! conflicts stop cleanly.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::path::{Path, PathBuf};

use pix_ops::config::PixConfig;
use pix_ops::confirm::{ConfirmFlags, NoTerminal};
use pix_ops::connect::ConnectOptions;
use pix_ops::git::Git;
use pix_ops::progress::Silent;
use pix_ops::push::{PushFailure, PushOutcome};
use pix_ops::remote::{
    self, Divergence, MergeOutcome, PushPrediction, RemoteOptions, RemoteSource, RemoteUrl,
};
use pix_ops::OpsError;
use pix_sandbox::sandbox::{Sandbox, SandboxOptions};
use pix_sandbox::scenario::{self, git};

const APP: &str = "api-staging";

struct World {
    sb: Sandbox,
    dir: tempfile::TempDir,
    config: PixConfig,
    /// The local repository (remote `dokku`).
    local: PathBuf,
    rt: tokio::runtime::Runtime,
}

impl World {
    fn new() -> World {
        let sb = Sandbox::start(SandboxOptions::default()).expect("sandbox");
        let dir = tempfile::tempdir().unwrap();
        let toml = dir.path().join("pix.toml");
        sb.write_pix_toml(&toml).unwrap();
        let mut text = std::fs::read_to_string(&toml).unwrap();
        text.push_str(&format!(
            "\n[environments.staging]\nhost = \"sandbox\"\napp = \"{APP}\"\ndatabase = \"api-staging-db\"\n"
        ));
        std::fs::write(&toml, text).unwrap();
        let config = PixConfig::load(&toml).unwrap();
        scenario::dokku(&sb, &["apps:create", APP]).unwrap();
        scenario::dokku(&sb, &["postgres:create", "api-staging-db"]).unwrap();
        scenario::dokku(&sb, &["postgres:link", "api-staging-db", APP]).unwrap();
        let local = scenario::sample_app_repo(dir.path(), "local").unwrap();
        git(&local, &["remote", "add", "dokku", &sb.git_remote(APP)]).unwrap();
        git(
            &local,
            &["remote", "add", "origin", "/nonexistent/origin.git"],
        )
        .unwrap();
        scenario::push(&sb, &local, APP).unwrap();
        World {
            sb,
            dir,
            config,
            local,
            rt: tokio::runtime::Runtime::new().unwrap(),
        }
    }

    /// A clone of the local repository used by "someone else".
    fn other(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        git(
            self.dir.path(),
            &[
                "clone",
                "-q",
                self.local.to_str().unwrap(),
                path.to_str().unwrap(),
            ],
        )
        .unwrap();
        path
    }

    /// Someone else commits `file` in `repo` on top of the remote's tip and
    /// pushes (a fast-forward for them).
    fn someone_pushes(&self, repo: &Path, file: &str, text: &str) {
        self.git_ssh(repo, &["fetch", "-q", &self.sb.git_remote(APP), "master"]);
        git(repo, &["reset", "-q", "--hard", "FETCH_HEAD"]).unwrap();
        std::fs::write(repo.join(file), text).unwrap();
        git(repo, &["add", "."]).unwrap();
        git(
            repo,
            &["commit", "-q", "-m", &format!("someone adds {file}")],
        )
        .unwrap();
        scenario::push(&self.sb, repo, APP).unwrap();
    }

    fn git_ssh(&self, repo: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(repo)
            .env("GIT_SSH_COMMAND", self.sb.git_ssh_command())
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn commit_local(&self, file: &str, text: &str) {
        std::fs::write(self.local.join(file), text).unwrap();
        git(&self.local, &["add", "."]).unwrap();
        git(
            &self.local,
            &["commit", "-q", "-m", &format!("local adds {file}")],
        )
        .unwrap();
    }

    fn options(&self) -> RemoteOptions {
        RemoteOptions {
            deploy_branch: Some("master".into()),
            local_ref: None,
            ssh_command: Some(self.sb.git_ssh_command()),
            app_exists: None,
            deploy_target: None,
        }
    }

    /// What the CLI gives `remote::status` for a URL: the host's ssh
    /// command from pix.toml, and whether the app exists (asked first, as
    /// `pix remote status` does with `apps:exists`).
    fn options_for(&self, config: &PixConfig, url: &RemoteUrl) -> RemoteOptions {
        let mut o = remote::options_from_config(config, url, &ConnectOptions::default());
        assert!(o.ssh_command.is_some(), "host found for {url:?}");
        o.deploy_branch = Some("master".into());
        o.app_exists = Some(self.app_exists(&url.app));
        o
    }

    fn app_exists(&self, app: &str) -> bool {
        scenario::dokku(&self.sb, &["apps:exists", app]).is_ok()
    }

    fn git(&self) -> Git {
        Git::new(&self.local)
    }

    fn read(&self) -> Divergence {
        self.rt
            .block_on(remote::read_divergence(
                &self.git(),
                Some(&self.config),
                "dokku",
                &self.options(),
            ))
            .unwrap()
    }

    fn remote_tip(&self) -> String {
        self.git_ssh(
            &self.local,
            &["ls-remote", &self.sb.git_remote(APP), "refs/heads/master"],
        )
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
    }

    fn deployed_sha(&self) -> String {
        scenario::dokku(&self.sb, &["git:report", APP, "--git-sha"])
            .unwrap()
            .trim()
            .to_string()
    }

    fn head(&self) -> String {
        rev(&self.local, "HEAD")
    }
}

fn rev(repo: &Path, spec: &str) -> String {
    git(repo, &["rev-parse", spec]).unwrap().trim().to_string()
}

fn yes() -> ConfirmFlags {
    ConfirmFlags {
        yes: true,
        confirm: None,
    }
}

#[test]
fn status_reports_divergence_and_merge_repairs_it() {
    let w = World::new();
    let other = w.other("other");
    w.someone_pushes(&other, "other.txt", "theirs\n");
    w.commit_local("local.txt", "mine\n");

    // status: every Dokku remote (origin is not one; the ssh:// form with a
    // port is), diverged 1/1; the ssh command comes from pix.toml's host.
    let ssh_url = format!("ssh://{}@127.0.0.1:{}/{APP}", w.sb.user(), w.sb.port());
    git(&w.local, &["remote", "add", "staging-ssh", &ssh_url]).unwrap();
    let config = w.config.clone();
    let options_for = |_name: &str, url: &RemoteUrl| w.options_for(&config, url);
    let all =
        w.rt.block_on(remote::status(&w.git(), Some(&w.config), &options_for))
            .unwrap();
    // The two remotes, then pix.toml's `development`, which no remote
    // deploys and whose app was never created: reported, nothing fetched,
    // and (Dokku creates a missing app on fetch) still not created.
    assert_eq!(all.len(), 3, "{all:?}");
    assert_eq!(all[1].remote, "staging-ssh");
    assert_eq!((all[1].ahead, all[1].behind), (1, 1));
    let dev = &all[2];
    assert_eq!(
        (dev.remote.as_str(), dev.source, dev.app.as_str()),
        ("development", RemoteSource::Environment, "api-development")
    );
    assert_eq!(
        (dev.app_exists, dev.remote_sha.as_deref(), &dev.push),
        (Some(false), None, &PushPrediction::Create)
    );
    assert!(!w.app_exists("api-development"), "status created the app");
    let d = &all[0];
    assert_eq!(d.remote, "dokku");
    assert_eq!(d.app, APP);
    assert_eq!(d.environments, ["staging"]);
    assert_eq!((d.ahead, d.behind), (1, 1));
    assert_eq!(d.push, PushPrediction::Rejected);
    assert!(!d.same_tree);
    assert_eq!(d.remote_sha.as_deref(), Some(rev(&other, "HEAD").as_str()));

    // repair --merge: merge commit pushed as a fast-forward and deployed.
    let merged =
        w.rt.block_on(remote::repair_merge(&w.git(), d, &w.options(), &Silent))
            .unwrap();
    match &merged {
        MergeOutcome::Merged { merge, push } => {
            assert_eq!(*merge, w.head());
            assert!(matches!(push, PushOutcome::Pushed { .. }), "{push:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(w.local.join("other.txt").is_file() && w.local.join("local.txt").is_file());
    assert_eq!(w.remote_tip(), w.head());
    assert_eq!(w.deployed_sha(), w.head());
    let after = w.read();
    assert_eq!(after.push, PushPrediction::UpToDate);
    assert!(after.same_tree);
}

#[test]
fn force_uses_a_lease_and_refuses_when_the_remote_moved_again() {
    let w = World::new();
    let other = w.other("other");
    w.someone_pushes(&other, "other.txt", "theirs\n");
    w.commit_local("local.txt", "mine\n");
    let read = w.read();
    assert_eq!(read.push, PushPrediction::Rejected);

    // Without --yes and without a terminal: refused, nothing pushed.
    let e =
        w.rt.block_on(remote::repair_force(
            &w.git(),
            &read,
            &w.options(),
            &ConfirmFlags::default(),
            &mut NoTerminal,
            &Silent,
        ))
        .unwrap_err();
    assert!(matches!(e, OpsError::Refused { .. }), "{e}");

    // Someone pushes again between the read and the push: the lease fails.
    w.someone_pushes(&other, "other2.txt", "theirs again\n");
    let moved = rev(&other, "HEAD");
    let outcome =
        w.rt.block_on(remote::repair_force(
            &w.git(),
            &read,
            &w.options(),
            &yes(),
            &mut NoTerminal,
            &Silent,
        ))
        .unwrap();
    assert!(
        matches!(&outcome, PushOutcome::Failed(PushFailure::Rejected { reason }) if reason.contains("moved")),
        "{outcome:?}"
    );
    assert_eq!(w.remote_tip(), moved, "their push was not overwritten");

    // Read again, then force: the remote deploys the local tree.
    let read = w.read();
    assert_eq!(read.behind, 2);
    let outcome =
        w.rt.block_on(remote::repair_force(
            &w.git(),
            &read,
            &w.options(),
            &yes(),
            &mut NoTerminal,
            &Silent,
        ))
        .unwrap();
    assert!(matches!(outcome, PushOutcome::Pushed { .. }), "{outcome:?}");
    assert_eq!(w.remote_tip(), w.head());
    assert_eq!(w.deployed_sha(), w.head());
    assert!(w.read().same_tree);
}

#[test]
fn merge_conflicts_stop_cleanly_with_next_steps() {
    let w = World::new();
    let other = w.other("other");
    w.someone_pushes(&other, "README.md", "theirs\n");
    w.commit_local("README.md", "mine\n");
    let before = w.head();
    let read = w.read();
    let outcome =
        w.rt.block_on(remote::repair_merge(&w.git(), &read, &w.options(), &Silent))
            .unwrap();
    match &outcome {
        MergeOutcome::Conflicts { files, next_steps } => {
            assert_eq!(files, &["README.md"]);
            assert!(
                next_steps
                    .iter()
                    .any(|s| s == "git merge refs/remotes/dokku/master"),
                "{next_steps:?}"
            );
            assert!(
                next_steps
                    .iter()
                    .any(|s| s == "git push dokku HEAD:refs/heads/master"),
                "{next_steps:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    // The work tree is as it was: no merge in progress, no changes.
    assert_eq!(w.head(), before);
    assert_eq!(git(&w.local, &["status", "--porcelain"]).unwrap(), "");
    assert!(!w.local.join(".git/MERGE_HEAD").exists());
    assert_eq!(w.remote_tip(), rev(&other, "HEAD"), "nothing pushed");

    // A dirty work tree is refused before anything happens.
    std::fs::write(w.local.join("README.md"), "dirty\n").unwrap();
    let e =
        w.rt.block_on(remote::repair_merge(&w.git(), &read, &w.options(), &Silent))
            .unwrap_err();
    assert!(e.to_string().contains("uncommitted changes"), "{e}");
}

#[test]
fn an_environment_without_a_remote_is_read_and_repaired_by_its_name() {
    let mut w = World::new();
    // PIX's layout: `pix deploy` pushes to the environment's URL; the
    // repository has no git remote for it.
    git(&w.local, &["remote", "remove", "dokku"]).unwrap();
    w.config.environments.get_mut("staging").unwrap().protected = true;
    let other = w.other("other");
    w.someone_pushes(&other, "other.txt", "theirs\n");
    w.commit_local("local.txt", "mine\n");

    let config = w.config.clone();
    let options_for = |_name: &str, url: &RemoteUrl| w.options_for(&config, url);
    let all =
        w.rt.block_on(remote::status(&w.git(), Some(&w.config), &options_for))
            .unwrap();
    let staging = all
        .iter()
        .find(|d| d.remote == "staging")
        .unwrap_or_else(|| panic!("staging reported: {all:?}"));
    assert_eq!(staging.source, RemoteSource::Environment);
    assert_eq!(staging.url, w.sb.git_remote(APP));
    assert_eq!(staging.push_target(), staging.url);
    assert_eq!(staging.tracking, "refs/pix/environments/staging/master");
    assert_eq!((staging.ahead, staging.behind), (1, 1));
    assert_eq!(staging.push, PushPrediction::Rejected);
    assert!(staging.protected);
    assert_eq!(
        rev(&w.local, &staging.tracking),
        rev(&other, "HEAD"),
        "fetched outside refs/remotes"
    );

    // By name, as `pix remote repair staging` does.
    let url = RemoteUrl::parse(&w.sb.git_remote(APP)).unwrap();
    let options = w.options_for(&config, &url);
    let read =
        w.rt.block_on(remote::read_divergence(
            &w.git(),
            Some(&w.config),
            "staging",
            &options,
        ))
        .unwrap();
    assert_eq!(read, *staging);

    // Protected: --yes alone does not force it, the typed name does.
    let e =
        w.rt.block_on(remote::repair_force(
            &w.git(),
            &read,
            &options,
            &yes(),
            &mut NoTerminal,
            &Silent,
        ))
        .unwrap_err();
    assert!(matches!(e, OpsError::Refused { .. }), "{e}");
    assert_eq!(w.remote_tip(), rev(&other, "HEAD"), "nothing pushed");

    let merged =
        w.rt.block_on(remote::repair_merge(&w.git(), &read, &options, &Silent))
            .unwrap();
    assert!(matches!(merged, MergeOutcome::Merged { .. }), "{merged:?}");
    assert_eq!(w.remote_tip(), w.head());
    assert_eq!(w.deployed_sha(), w.head());

    // A name that is neither a remote nor an environment.
    let e =
        w.rt.block_on(remote::read_divergence(
            &w.git(),
            Some(&w.config),
            "nowhere",
            &options,
        ))
        .unwrap_err();
    let e = e.to_string();
    assert!(
        e.contains("`nowhere` is not a git remote")
            && e.contains("environments: development, staging"),
        "{e}"
    );
}
