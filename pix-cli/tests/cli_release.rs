//! `pix release` end to end (issue 9): a scratch repository with a local
//! bare `origin` and the sandbox as production. `--dry-run` prints the git
//! commands and the deploy and changes nothing (snapshot); the release
//! merges, tags, pushes and deploys production (typed confirmation through
//! `--confirm`), showing its git steps and the deploy's output; a second
//! release of the same version is refused.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use std::path::PathBuf;

use common::{commit_file, copy_sample_app, ensure_emulator, git, run_pix, Run};
use pix_sandbox::sandbox::pix_toml::toml_string;
use pix_sandbox::sandbox::{Sandbox, SandboxOptions};
use pix_sandbox::scenario;

struct World {
    sb: Sandbox,
    _dir: tempfile::TempDir,
    toml: PathBuf,
    repo: PathBuf,
    origin: PathBuf,
}

impl World {
    fn new() -> World {
        ensure_emulator();
        let sb = Sandbox::start(SandboxOptions::default()).expect("sandbox");
        let dir = tempfile::tempdir().unwrap();
        let toml = dir.path().join("pix.toml");
        std::fs::write(
            &toml,
            format!(
                "[hosts.sandbox]\naddress = {}\nport = {}\nuser = {}\nkey = {}\nknown_hosts = {}\n\
                 \n[environments.production]\nhost = \"sandbox\"\napp = \"api-prod\"\ndatabase = \"pg-prod\"\n\
                 protected = true\ndeploy_dir = \"api\"\n",
                toml_string(sb.host()),
                sb.port(),
                toml_string(sb.user()),
                toml_string(&sb.key_path().display().to_string()),
                toml_string(&sb.known_hosts_path().display().to_string()),
            ),
        )
        .unwrap();
        scenario::dokku(&sb, &["apps:create", "api-prod"]).unwrap();
        scenario::dokku(&sb, &["postgres:create", "pg-prod"]).unwrap();
        scenario::dokku(&sb, &["postgres:link", "pg-prod", "api-prod"]).unwrap();

        let origin = dir.path().join("origin.git");
        std::fs::create_dir_all(&origin).unwrap();
        git(&origin, &["init", "-q", "--bare"]);
        let repo = dir.path().join("pix");
        copy_sample_app(&repo.join("api"));
        std::fs::write(repo.join("CHANGELOG.md"), "# changelog\n").unwrap();
        git(&repo, &["init", "-q", "-b", "master"]);
        for (k, v) in [
            ("user.name", "pix"),
            ("user.email", "pix@sandbox.test"),
            ("commit.gpgsign", "false"),
            ("tag.gpgsign", "false"),
        ] {
            git(&repo, &["config", k, v]);
        }
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-q", "-m", "initial"]);
        git(&repo, &["branch", "dev"]);
        git(
            &repo,
            &["remote", "add", "origin", &origin.display().to_string()],
        );
        git(&repo, &["push", "-q", "origin", "master", "dev"]);
        git(&repo, &["fetch", "-q", "origin"]);
        git(&repo, &["switch", "-q", "-c", "release-1.2.3", "dev"]);
        commit_file(
            &repo,
            "CHANGELOG.md",
            "# changelog\n\n## 1.2.3\n",
            "release 1.2.3",
        );
        World {
            sb,
            _dir: dir,
            toml,
            repo,
            origin,
        }
    }

    fn pix(&self, args: &[&str]) -> Run {
        let mut all = vec!["--config", self.toml.to_str().unwrap()];
        all.extend_from_slice(args);
        run_pix(&self.repo, &all, &[], None)
    }

    fn origin_ref(&self, name: &str) -> Option<String> {
        scenario::git(&self.origin, &["rev-parse", "--verify", "-q", name])
            .ok()
            .map(|s| s.trim().to_string())
    }
}

fn deployed(sb: &Sandbox) -> String {
    scenario::dokku(sb, &["ps:report", "api-prod", "--deployed"])
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn dry_run_then_release_and_deploy() {
    let w = World::new();
    let head = git(&w.repo, &["rev-parse", "HEAD"]);

    // The dry run: the commands, nothing changed.
    let dry = w.pix(&["release", "1.2.3", "--dry-run"]).expect(0);
    snap!("release_dry_run", dry);
    assert_eq!(git(&w.repo, &["rev-parse", "HEAD"]), head);
    assert!(w.origin_ref("v1.2.3").is_none());
    let json = w
        .pix(&["release", "1.2.3", "--dry-run", "--json"])
        .expect(0)
        .json();
    assert_eq!(json["dry_run"], true);
    assert_eq!(json["names"]["tag"], "v1.2.3");
    assert_eq!(json["git"].as_array().unwrap().len(), 7);

    // Production is protected: without a terminal the deploy needs
    // --confirm; with it, the release merges, tags, pushes and deploys.
    let run = w
        .pix(&["release", "1.2.3", "--confirm", "pg-prod"])
        .expect(0);
    for step in [
        "→ git fetch --quiet origin",
        "→ git merge --no-ff --no-edit release-1.2.3",
        "→ git merge --no-ff --no-edit dev",
        "→ git tag -a v1.2.3",
        "→ git push --atomic origin",
        "  pushed dev, master and v1.2.3 to origin",
    ] {
        assert!(run.stderr.contains(step), "{step}\n{}", run.render());
    }
    assert!(
        run.stdout
            .starts_with("✓ released 1.2.3: release-1.2.3 → dev → master, tagged v1.2.3 ("),
        "{}",
        run.render()
    );
    assert!(
        run.stdout.contains("deployed ") && run.stdout.contains(" to api-prod (commit "),
        "{}",
        run.render()
    );
    let master = git(&w.repo, &["rev-parse", "master"]).trim().to_string();
    assert_eq!(w.origin_ref("master").as_deref(), Some(master.as_str()));
    assert_eq!(
        w.origin_ref("v1.2.3^{commit}").as_deref(),
        Some(master.as_str())
    );
    assert_eq!(deployed(&w.sb), "true");
    // Back on the branch it started from.
    assert_eq!(
        git(&w.repo, &["symbolic-ref", "--short", "HEAD"]).trim(),
        "release-1.2.3"
    );

    // The same version again: refused (the tag exists), nothing pushed.
    let again = w
        .pix(&["release", "1.2.3", "--confirm", "pg-prod"])
        .expect(5);
    assert!(
        again.stderr.contains("tag v1.2.3 already exists"),
        "{}",
        again.render()
    );
}

#[test]
fn no_deploy_stops_after_the_push_and_an_unconfirmed_production_is_not_deployed() {
    let w = World::new();
    let run = w.pix(&["release", "1.2.3", "--no-deploy"]).expect(0);
    assert!(
        run.stdout.contains("not deployed (--no-deploy)"),
        "{}",
        run.render()
    );
    assert!(w.origin_ref("v1.2.3").is_some());
    assert_eq!(deployed(&w.sb), "false");
    w.pix(&["release", "1.2"]).expect(2);

    // Without a terminal and without --confirm, the protected production
    // refuses before anything is merged, tagged or pushed.
    git(&w.repo, &["switch", "-q", "-c", "release-1.2.4", "dev"]);
    commit_file(
        &w.repo,
        "CHANGELOG.md",
        "# changelog\n\n## 1.2.4\n",
        "release 1.2.4",
    );
    let refused = w.pix(&["release", "1.2.4"]).expect(4);
    assert!(
        refused.stderr.contains("--confirm pg-prod") && refused.stderr.contains("nothing was done"),
        "{}",
        refused.render()
    );
    assert!(w.origin_ref("v1.2.4").is_none(), "nothing pushed");
    assert!(
        git(&w.repo, &["tag", "--list", "v1.2.4"]).trim().is_empty(),
        "nothing tagged"
    );
    assert_eq!(deployed(&w.sb), "false");
}
