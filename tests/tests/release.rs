//! `pix_ops::release` on a scratch repository with a local bare `origin` and
//! the sandbox as production (issue 9): the dry run changes nothing; a
//! release merges release → dev → master, tags, pushes atomically and
//! deploys production with its typed confirmation; an existing tag, a dirty
//! tree and a missing branch are refused; a conflict aborts cleanly.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::path::{Path, PathBuf};

use pix_ops::config::{HostOverrides, PixConfig};
use pix_ops::confirm::{ConfirmFlags, NoTerminal};
use pix_ops::deploy::DeployOutcome;
use pix_ops::progress::Silent;
use pix_ops::release::{release, ReleaseOptions, ReleaseReport};
use pix_ops::OpsError;
use pix_sandbox::sandbox::pix_toml::toml_string;
use pix_sandbox::sandbox::{Sandbox, SandboxOptions};
use pix_sandbox::scenario::{self, git};

struct World {
    sb: Sandbox,
    _dir: tempfile::TempDir,
    config: PixConfig,
    repo: PathBuf,
    origin: PathBuf,
    rt: tokio::runtime::Runtime,
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

impl World {
    fn new() -> World {
        let sb = Sandbox::start(SandboxOptions::default()).expect("sandbox");
        let dir = tempfile::tempdir().unwrap();
        let toml = dir.path().join("pix.toml");
        write(
            &toml,
            &format!(
                "[hosts.sandbox]\naddress = {}\nport = {}\nuser = {}\nkey = {}\nknown_hosts = {}\n\
                 \n[environments.production]\nhost = \"sandbox\"\napp = \"api-prod\"\ndatabase = \"pg-prod\"\n\
                 protected = true\ndeploy_dir = \"api\"\n",
                toml_string(sb.host()),
                sb.port(),
                toml_string(sb.user()),
                toml_string(&sb.key_path().display().to_string()),
                toml_string(&sb.known_hosts_path().display().to_string()),
            ),
        );
        let config = PixConfig::load(&toml).unwrap();
        scenario::dokku(&sb, &["apps:create", "api-prod"]).unwrap();
        scenario::dokku(&sb, &["postgres:create", "pg-prod"]).unwrap();
        scenario::dokku(&sb, &["postgres:link", "pg-prod", "api-prod"]).unwrap();

        let origin = dir.path().join("origin.git");
        std::fs::create_dir_all(&origin).unwrap();
        git(&origin, &["init", "-q", "--bare"]).unwrap();
        let repo = dir.path().join("pix");
        let api = repo.join("api");
        std::fs::create_dir_all(&api).unwrap();
        for entry in std::fs::read_dir(scenario::sample_app_dir()).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), api.join(entry.file_name())).unwrap();
        }
        write(&repo.join("CHANGELOG.md"), "# changelog\n");
        git(&repo, &["init", "-q", "-b", "master"]).unwrap();
        git(&repo, &["config", "user.name", "pix"]).unwrap();
        git(&repo, &["config", "user.email", "pix@sandbox.test"]).unwrap();
        git(&repo, &["config", "commit.gpgsign", "false"]).unwrap();
        git(&repo, &["config", "tag.gpgsign", "false"]).unwrap();
        git(&repo, &["add", "."]).unwrap();
        git(&repo, &["commit", "-q", "-m", "initial"]).unwrap();
        git(&repo, &["branch", "dev"]).unwrap();
        git(
            &repo,
            &["remote", "add", "origin", &origin.display().to_string()],
        )
        .unwrap();
        git(&repo, &["push", "-q", "origin", "master", "dev"]).unwrap();
        git(&repo, &["fetch", "-q", "origin"]).unwrap();
        World {
            sb,
            _dir: dir,
            config,
            repo,
            origin,
            rt: tokio::runtime::Runtime::new().unwrap(),
        }
    }

    /// A release branch from dev with one change to `file`.
    fn release_branch(&self, version: &str, file: &str, text: &str) {
        git(
            &self.repo,
            &["switch", "-q", "-c", &format!("release-{version}"), "dev"],
        )
        .unwrap();
        write(&self.repo.join(file), text);
        git(&self.repo, &["add", file]).unwrap();
        git(
            &self.repo,
            &["commit", "-q", "-m", &format!("release {version}")],
        )
        .unwrap();
    }

    fn release(
        &self,
        version: &str,
        dry_run: bool,
        confirm: Option<&str>,
    ) -> Result<ReleaseReport, OpsError> {
        let options = ReleaseOptions {
            repo: self.repo.clone(),
            dry_run,
            confirm: ConfirmFlags {
                yes: false,
                confirm: confirm.map(str::to_string),
            },
            command: format!("pix release {version}"),
            ..ReleaseOptions::default()
        };
        self.rt.block_on(release(
            &self.config,
            version,
            &HostOverrides::default(),
            &options,
            &mut NoTerminal,
            &Silent,
        ))
    }

    fn origin_ref(&self, name: &str) -> Option<String> {
        git(&self.origin, &["rev-parse", "--verify", "-q", name])
            .ok()
            .map(|s| s.trim().to_string())
    }

    fn head_branch(&self) -> String {
        git(&self.repo, &["symbolic-ref", "--short", "HEAD"])
            .unwrap()
            .trim()
            .to_string()
    }
}

#[test]
fn release_merges_tags_pushes_and_deploys_production() {
    let w = World::new();
    w.release_branch("1.0.0", "CHANGELOG.md", "# changelog\n\n## 1.0.0\n");
    let master_before = w.origin_ref("refs/heads/master").unwrap();

    // Dry run: the commands, and nothing changes.
    let dry = w.release("1.0.0", true, None).unwrap();
    assert!(dry.dry_run);
    assert_eq!(dry.git[2], "git merge --no-ff --no-edit release-1.0.0");
    assert!(
        dry.deploy_plan.contains("to api-prod on 127.0.0.1"),
        "{}",
        dry.deploy_plan
    );
    assert!(
        dry.deploy_plan.contains("by typing pg-prod"),
        "{}",
        dry.deploy_plan
    );
    assert_eq!(w.origin_ref("refs/heads/master").unwrap(), master_before);
    assert!(git(&w.repo, &["tag"]).unwrap().trim().is_empty());

    // The release.
    let report = w.release("1.0.0", false, Some("pg-prod")).unwrap();
    let tagged = report.tagged_commit.clone().unwrap();
    assert_eq!(w.origin_ref("refs/tags/v1.0.0^{commit}").unwrap(), tagged);
    assert_eq!(w.origin_ref("refs/heads/master").unwrap(), tagged);
    let dev = w.origin_ref("refs/heads/dev").unwrap();
    assert_eq!(
        git(&w.origin, &["merge-base", "--is-ancestor", &dev, &tagged]).map(|_| ()),
        Ok(())
    );
    let log = git(&w.origin, &["log", "--format=%s", "master"]).unwrap();
    assert!(
        log.contains("Merge branch 'dev'") && log.contains("release 1.0.0"),
        "{log}"
    );
    assert_eq!(w.head_branch(), "release-1.0.0", "back where we started");
    match &report.deploy.as_ref().unwrap().outcome {
        DeployOutcome::Deployed { .. } => {}
        other => panic!("not deployed: {other:?}"),
    }
    assert_eq!(
        report.deploy.as_ref().unwrap().source_commit,
        tagged,
        "production runs the tagged commit"
    );
    assert!(
        scenario::dokku(&w.sb, &["ps:report", "api-prod", "--deployed"])
            .unwrap()
            .contains("true")
    );

    // The same version again: the tag exists.
    let e = w.release("1.0.0", false, Some("pg-prod")).unwrap_err();
    assert!(e.to_string().contains("tag v1.0.0 already exists"), "{e}");

    // A dirty tree is refused; so is a missing release branch.
    write(&w.repo.join("CHANGELOG.md"), "dirty\n");
    let e = w.release("1.0.1", true, None).unwrap_err();
    assert!(e.to_string().contains("uncommitted changes"), "{e}");
    git(&w.repo, &["checkout", "--", "CHANGELOG.md"]).unwrap();
    let e = w.release("9.9.9", true, None).unwrap_err();
    assert!(
        e.to_string().contains("release-9.9.9 does not exist"),
        "{e}"
    );
}

#[test]
fn a_conflict_aborts_cleanly_and_production_needs_its_name_typed() {
    let w = World::new();
    w.release_branch(
        "1.1.0",
        "CHANGELOG.md",
        "# changelog\n\n## 1.1.0 from the release\n",
    );
    // Meanwhile dev changed the same line.
    git(&w.repo, &["switch", "-q", "dev"]).unwrap();
    write(
        &w.repo.join("CHANGELOG.md"),
        "# changelog\n\n## something else on dev\n",
    );
    git(&w.repo, &["commit", "-q", "-am", "dev work"]).unwrap();
    git(&w.repo, &["switch", "-q", "release-1.1.0"]).unwrap();
    let dev_before = git(&w.repo, &["rev-parse", "dev"]).unwrap();

    let e = w.release("1.1.0", false, Some("pg-prod")).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("merging release-1.1.0 into dev conflicts in: CHANGELOG.md"),
        "{text}"
    );
    assert!(
        text.contains("merge was aborted")
            && text.contains("git switch dev && git merge --no-ff release-1.1.0"),
        "{text}"
    );
    assert_eq!(w.head_branch(), "release-1.1.0");
    assert!(!w.repo.join(".git/MERGE_HEAD").exists());
    assert!(
        git(&w.repo, &["status", "--porcelain", "--untracked-files=no"])
            .unwrap()
            .is_empty()
    );
    assert_eq!(git(&w.repo, &["rev-parse", "dev"]).unwrap(), dev_before);
    assert!(w.origin_ref("refs/tags/v1.1.0").is_none());

    // Resolve on a new release branch; without the typed name the release is
    // refused before anything is merged, tagged or pushed.
    w.release_branch("1.1.1", "README.md", "# pix\n");
    let dev_before = git(&w.repo, &["rev-parse", "dev"]).unwrap();
    let e = w.release("1.1.1", false, None).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("nothing was done") && text.contains("--confirm pg-prod"),
        "{text}"
    );
    assert!(w.origin_ref("refs/tags/v1.1.1").is_none());
    assert!(git(&w.repo, &["tag", "--list", "v1.1.1"])
        .unwrap()
        .trim()
        .is_empty());
    assert_eq!(git(&w.repo, &["rev-parse", "dev"]).unwrap(), dev_before);
    assert!(
        !scenario::dokku(&w.sb, &["ps:report", "api-prod", "--deployed"])
            .unwrap()
            .contains("true")
    );
}
