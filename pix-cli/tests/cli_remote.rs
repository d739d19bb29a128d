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

    // an unknown remote is a usage error naming the remotes
    let unknown = r.pix(&["remote", "repair", "nope", "--merge"]).expect(3);
    assert!(unknown.stderr.contains("dokku"), "{}", unknown.render());
}
