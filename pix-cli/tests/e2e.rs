//! The end-to-end suite: the real `pix` binary (and raw `ssh`/`git` where
//! pix has no command) against the Dokku host named by `DOKKU_TEST_HOST`
//! (`DOKKU_TEST_PORT`, `DOKKU_TEST_USER`, `DOKKU_TEST_KEY`,
//! `DOKKU_TEST_KNOWN_HOSTS`): a real server, or the sandbox posing as one
//! (`cargo xtask e2e` without `--host`). Without a host every test prints
//! why it is skipped and passes.
//!
//! Only what a real host offers is used: Dokku over SSH, git over SSH, the
//! database through `postgres:connect`/`postgres:export`. No test reads the
//! emulator's files; what needs them (the received log, fault injection)
//! lives in the sandbox-only suites (`tests/tests/*`, `pix-cli/tests/cli_*`).
//!
//! Each test works on its own apps and services, `pix-e2e-<run id>-<test>-*`
//! ([`pix_sandbox::e2e`]), removed when it ends (a drop guard: also when it
//! fails); the first test of a process sweeps what dead runs left (older
//! than a day).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{commit_file, copy_sample_app, git, run_pix, Run};
use pix_sandbox::e2e::{self, Host, RunId, Scratch};
use pix_sandbox::sandbox::pix_toml::toml_string;

/// The host, swept once; `None` (skip) without `DOKKU_TEST_HOST`.
fn host() -> Option<&'static Host> {
    static HOST: OnceLock<Option<Host>> = OnceLock::new();
    HOST.get_or_init(|| {
        let host = Host::from_env_or_skip()?;
        e2e::sweep_once(&host);
        Some(host)
    })
    .as_ref()
}

/// One test's world: its scratch names, a folder, a pix.toml naming the
/// host `target` and the environment `e2e` (app `<prefix>app`, database
/// `<prefix>db`, the sample app's migrations after a relink).
struct E2e {
    host: &'static Host,
    dir: tempfile::TempDir,
    toml: PathBuf,
    app: String,
    db: String,
    // Last: the scratch apps go after everything else (fields drop in order).
    scratch: Scratch,
}

impl E2e {
    fn new(tag: &str) -> Option<E2e> {
        E2e::with_env(tag, "")
    }

    /// With `extra` lines in `[environments.e2e]` (e.g. `deploy_dir`).
    fn with_env(tag: &str, extra: &str) -> Option<E2e> {
        let Some(host) = host() else {
            eprintln!("{}", pix_sandbox::target::SKIP_MESSAGE);
            return None;
        };
        let scratch = Scratch::new(host, tag);
        let dir = tempfile::tempdir().unwrap();
        let toml = dir.path().join("pix.toml");
        let app = scratch.name("app");
        let db = scratch.name("db");
        let text = format!(
            "# pix-e2e: the host under test and this test's scratch environment\n{host_table}\n\
             [settings]\nbackups_dir = \"backups\"\nreview_app_prefix = {review}\n\
             review_deploy_dir = \"api\"\nreview_node_env = \"development\"\n\n\
             [environments.e2e]\nhost = \"target\"\napp = {app_s}\ndatabase = {db_s}\n\
             protected = false\npost_link = [\"sh migrate.sh\"]\n{extra}",
            host_table = host.pix_toml_host(),
            review = toml_string(&scratch.name("rv-")),
            app_s = toml_string(&app),
            db_s = toml_string(&db),
        );
        std::fs::write(&toml, text).unwrap();
        Some(E2e {
            host,
            dir,
            toml,
            app,
            db,
            scratch,
        })
    }

    /// `pix --config <pix.toml> ARGS` in the test's folder.
    fn pix(&self, args: &[&str]) -> Run {
        self.pix_in(self.dir.path(), args)
    }

    /// `pix --config <pix.toml> ARGS` in `cwd`.
    fn pix_in(&self, cwd: &Path, args: &[&str]) -> Run {
        let mut all = vec!["--config", self.toml.to_str().unwrap()];
        all.extend_from_slice(args);
        run_pix(cwd, &all, &[], None)
    }

    fn dokku(&self, args: &[&str]) -> String {
        self.host.dokku(args).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The app and its database, linked, through pix.
    fn app_with_db(&self) {
        self.pix(&["apps", "create", &self.app]).expect(0);
        self.pix(&["db", "create", &self.db]).expect(0);
        self.pix(&["db", "link", &self.db, &self.app, "--no-restart"])
            .expect(0);
    }

    /// A repository holding the sample app at its root, branch `main`.
    fn sample_repo(&self) -> PathBuf {
        let repo = self.dir.path().join("repo");
        copy_sample_app(&repo);
        init_repo(&repo);
        repo
    }

    /// PIX's layout: the sample app in `api/`, other files beside it.
    fn monorepo(&self) -> PathBuf {
        common::monorepo(self.dir.path())
    }

    /// The app with its database, the sample app deployed by `pix deploy`
    /// and `users` rows seeded through `pix run`. Returns the repository.
    fn deployed(&self, users: u32) -> PathBuf {
        self.app_with_db();
        let repo = self.sample_repo();
        self.pix_in(&repo, &["deploy", "e2e"]).expect(0);
        if users > 0 {
            self.pix(&["run", &self.app, "--", "sh", "seed.sh", &users.to_string()])
                .expect(0);
        }
        repo
    }

    fn users(&self) -> Option<u64> {
        self.host.count_rows(&self.db, "users").unwrap()
    }

    fn deployed_commit(&self, repo: &Path) -> Option<String> {
        self.host.deployed_commit(repo, &self.app).unwrap()
    }
}

fn init_repo(repo: &Path) {
    git(repo, &["init", "-q", "-b", "main"]);
    git(repo, &["config", "user.name", "pix-e2e"]);
    git(repo, &["config", "user.email", "pix-e2e@example.test"]);
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "initial"]);
}

fn rev(repo: &Path, spec: &str) -> String {
    git(repo, &["rev-parse", spec]).trim().to_string()
}

/// The text between the first backquotes after `marker` in `text`.
fn quoted_after(text: &str, marker: &str) -> String {
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker:?} in:\n{text}"));
    let rest = &text[start..];
    let open = rest
        .find('`')
        .unwrap_or_else(|| panic!("no command in:\n{rest}"));
    let rest = &rest[open + 1..];
    rest[..rest.find('`').unwrap()].to_string()
}

/// The first backquoted command of `text` that starts with `start`.
fn backquoted(text: &str, start: &str) -> String {
    let at = text
        .find(&format!("`{start}"))
        .unwrap_or_else(|| panic!("no `{start}...` in:\n{text}"));
    let rest = &text[at + 1..];
    rest[..rest.find('`').unwrap()].to_string()
}

/// Runs a read-only command that lists every app until it succeeds (at
/// most 5 tries): the other tests create and destroy apps meanwhile, and
/// an app gone between `apps:list` and its report fails the whole listing.
fn settled(t: &E2e, cwd: &Path, args: &[&str]) -> Run {
    let mut last = t.pix_in(cwd, args);
    for _ in 0..4 {
        if last.code == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
        last = t.pix_in(cwd, args);
    }
    last.expect(0)
}

/// Runs a printed hint exactly as printed, through a shell, with the
/// binary under test first on `PATH`.
fn run_hint(cwd: &Path, hint: &str) -> Run {
    let bin_dir = common::pix_bin().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("/bin/sh")
        .args(["-c", hint])
        .current_dir(cwd)
        .env("PATH", path)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

// ---------------------------------------------------------------- deploys

#[test]
fn deploy_fresh_then_a_new_commit_then_nothing_new() {
    let Some(t) = E2e::new("dep") else { return };
    t.app_with_db();
    let repo = t.sample_repo();
    let first = t.pix_in(&repo, &["deploy", "e2e"]).expect(0);
    let c1 = t.deployed_commit(&repo).expect("a deployed commit");
    assert!(first.stdout.contains(&t.app), "{}", first.render());
    // The predeploy migrations ran against the linked database.
    assert_eq!(t.users(), Some(0));

    commit_file(&repo, "VERSION", "2\n", "v2");
    let json = t
        .pix_in(&repo, &["deploy", "e2e", "--json"])
        .expect(0)
        .json();
    assert_eq!(json["outcome"]["outcome"], "deployed", "{json}");
    assert_eq!(json["remote_before"], c1.as_str());
    let c2 = t.deployed_commit(&repo).unwrap();
    assert_ne!(c1, c2);
    t.host
        .git(
            &repo,
            &["fetch", "-q", &t.host.git_remote(&t.app), "master"],
        )
        .unwrap();
    assert_eq!(rev(&repo, &format!("{c2}^")), c1, "a fast-forward");
    assert_eq!(rev(&repo, "FETCH_HEAD^{tree}"), rev(&repo, "HEAD^{tree}"));

    let nothing = t.pix_in(&repo, &["deploy", "e2e"]).expect(0);
    assert!(
        nothing
            .stdout
            .contains(&format!("pix ps rebuild {}", t.app)),
        "{}",
        nothing.render()
    );
    assert_eq!(t.deployed_commit(&repo).unwrap(), c2, "nothing pushed");
}

#[test]
fn deploy_folder_deploys_only_that_tree() {
    let Some(t) = E2e::with_env("dir", "deploy_dir = \"api\"\n") else {
        return;
    };
    t.app_with_db();
    let repo = t.monorepo();
    t.pix_in(&repo, &["deploy", "e2e"]).expect(0);
    let sha = t.deployed_commit(&repo).unwrap();
    t.host
        .git(
            &repo,
            &["fetch", "-q", &t.host.git_remote(&t.app), "master"],
        )
        .unwrap();
    assert_eq!(rev(&repo, "FETCH_HEAD"), sha);
    assert_eq!(rev(&repo, "FETCH_HEAD^{tree}"), rev(&repo, "HEAD:api"));
    // A change outside the folder deploys nothing.
    commit_file(&repo, "live/index.html", "<h1>v2</h1>\n", "front only");
    let nothing = t.pix_in(&repo, &["deploy", "e2e"]).expect(0);
    assert!(nothing.stdout.contains("nothing"), "{}", nothing.render());
    assert_eq!(t.deployed_commit(&repo).unwrap(), sha);
}

#[test]
fn deploy_dry_run_pushes_nothing() {
    let Some(t) = E2e::new("dry") else { return };
    t.app_with_db();
    let repo = t.sample_repo();
    let dry = t.pix_in(&repo, &["deploy", "e2e", "--dry-run"]).expect(0);
    assert!(dry.stdout.starts_with("dry run: "), "{}", dry.render());
    assert_eq!(t.deployed_commit(&repo), None);
}

#[test]
fn a_failing_predeploy_exits_7_and_keeps_the_running_version() {
    let Some(t) = E2e::new("bad") else { return };
    let repo = t.deployed(0);
    let c1 = t.deployed_commit(&repo).unwrap();
    commit_file(
        &repo,
        "migrate.sh",
        "#!/bin/sh\necho 'migrate: relation \"users\" is broken' >&2\nexit 3\n",
        "broken migration",
    );
    let failed = t.pix_in(&repo, &["deploy", "e2e"]).expect(7);
    assert!(failed.stderr.contains("is broken"), "{}", failed.render());
    assert_eq!(t.deployed_commit(&repo).unwrap(), c1);
    let report = t.pix(&["--json", "ps", "report", &t.app]).expect(0).json();
    assert_eq!(report[0]["running"], "true", "{report}");
}

#[test]
fn a_locked_app_refuses_deploys_with_exit_4() {
    let Some(t) = E2e::new("lck") else { return };
    t.app_with_db();
    let repo = t.sample_repo();
    t.pix(&["apps", "lock", &t.app]).expect(0);
    assert_eq!(t.host.dokku_code(&["apps:locked", &t.app]).unwrap(), 0);
    let locked = t.pix_in(&repo, &["deploy", "e2e"]).expect(4);
    assert!(locked.stderr.contains("unlock"), "{}", locked.render());
    assert_eq!(t.deployed_commit(&repo), None);
    t.pix(&["apps", "unlock", &t.app]).expect(0);
    assert_ne!(t.host.dokku_code(&["apps:locked", &t.app]).unwrap(), 0);
    t.pix_in(&repo, &["deploy", "e2e"]).expect(0);
}

// ---------------------------------------------------------------- remotes

#[test]
fn a_push_rejected_after_a_rewrite_is_repaired_with_force() {
    let Some(t) = E2e::new("rwr") else { return };
    t.app_with_db();
    let repo = t.sample_repo();
    git(
        &repo,
        &["remote", "add", "dokku", &t.host.git_remote(&t.app)],
    );
    t.host.push(&repo, &t.app).unwrap();
    // History rewritten locally: the next push no longer fast-forwards.
    git(&repo, &["commit", "-q", "--amend", "-m", "rewritten"]);
    let rejected = t.host.push(&repo, &t.app).unwrap_err();
    assert!(
        rejected.contains("rejected") || rejected.contains("non-fast-forward"),
        "{rejected}"
    );
    let status = t
        .pix_in(&repo, &["remote", "status", "--json"])
        .expect(0)
        .json();
    assert_eq!(status[0]["remote"], "dokku", "{status}");
    assert_eq!(status[0]["push"], "rejected", "{status}");
    let refused = t
        .pix_in(&repo, &["remote", "repair", "dokku", "--force"])
        .expect(4);
    assert!(refused.stderr.contains("--yes"), "{}", refused.render());
    let forced = t
        .pix_in(
            &repo,
            &["remote", "repair", "dokku", "--force", "--yes", "--json"],
        )
        .expect(0)
        .json();
    assert_eq!(forced["result"]["outcome"], "pushed", "{forced}");
    assert_eq!(t.deployed_commit(&repo).unwrap(), rev(&repo, "HEAD"));
    let status = t
        .pix_in(&repo, &["remote", "status", "--json"])
        .expect(0)
        .json();
    assert_eq!(status[0]["push"], "up_to_date", "{status}");
}

#[test]
fn a_diverged_remote_is_repaired_by_merge() {
    let Some(t) = E2e::new("mrg") else { return };
    t.app_with_db();
    let repo = t.sample_repo();
    git(
        &repo,
        &["remote", "add", "dokku", &t.host.git_remote(&t.app)],
    );
    t.host.push(&repo, &t.app).unwrap();
    // Someone else deploys a commit we lack; we commit our own.
    let other = t.dir.path().join("other");
    git(
        t.dir.path(),
        &[
            "clone",
            "-q",
            repo.to_str().unwrap(),
            other.to_str().unwrap(),
        ],
    );
    commit_file(&other, "THEIRS", "theirs\n", "someone adds THEIRS");
    t.host.push(&other, &t.app).unwrap();
    commit_file(&repo, "MINE", "mine\n", "we add MINE");
    let status = t
        .pix_in(&repo, &["remote", "status", "--json"])
        .expect(0)
        .json();
    assert_eq!(status[0]["push"], "rejected", "{status}");
    assert_eq!(
        (status[0]["ahead"].as_u64(), status[0]["behind"].as_u64()),
        (Some(1), Some(1)),
        "{status}"
    );
    t.pix_in(&repo, &["remote", "repair", "dokku", "--merge"])
        .expect(0);
    assert_eq!(t.deployed_commit(&repo).unwrap(), rev(&repo, "HEAD"));
    assert!(repo.join("THEIRS").is_file() && repo.join("MINE").is_file());
}

// ---------------------------------------------------------------- databases

#[test]
fn reset_of_a_scratch_database_backs_up_first_and_its_hint_restores() {
    let Some(t) = E2e::new("rst") else { return };
    t.deployed(7);
    assert_eq!(t.users(), Some(7));
    let refused = t.pix(&["db", "reset", "e2e"]).expect(4);
    assert!(refused.stderr.contains("--yes"), "{}", refused.render());
    assert_eq!(t.users(), Some(7));
    let reset = t.pix(&["db", "reset", "e2e", "--yes"]).expect(0);
    assert_eq!(t.users(), Some(0), "rows gone, schema migrated");
    // The backup the reset took is named with the command that restores it.
    let hint = quoted_after(&reset.stderr, "restore with");
    let restored = run_hint(t.dir.path(), &hint);
    assert_eq!(restored.code, 0, "{hint}\n{}", restored.render());
    assert_eq!(t.users(), Some(7));
    // The app runs on the new database.
    let report = t.pix(&["--json", "ps", "report", &t.app]).expect(0).json();
    assert_eq!(report[0]["running"], "true", "{report}");
}

#[test]
fn reset_json_in_place_and_dry_run() {
    let Some(t) = E2e::new("rsj") else { return };
    t.deployed(3);
    let dry = t.pix(&["db", "reset", "e2e", "--dry-run"]).expect(0);
    assert!(dry.stderr.contains("postgres:export"), "{}", dry.render());
    assert_eq!(t.users(), Some(3), "a dry run changes nothing");
    // The dry run names the command that does it; as printed, it does.
    let hint = quoted_after(&dry.stdout, "run");
    let reset = run_hint(t.dir.path(), &hint);
    assert_eq!(reset.code, 0, "{hint}\n{}", reset.render());
    assert_eq!(t.users(), Some(0));
    t.pix(&["run", &t.app, "--", "sh", "seed.sh", "3"])
        .expect(0);
    assert_eq!(t.users(), Some(3));
    let json = t
        .pix(&["db", "reset", "e2e", "--in-place", "--yes", "--json"])
        .expect(0)
        .json();
    assert_eq!(json["outcome"], "completed", "{json}");
    assert_eq!(json["strategy"], "in_place", "{json}");
    let backup = PathBuf::from(json["backup"]["path"].as_str().unwrap());
    assert!(backup.is_file());
    assert_eq!(t.users(), Some(0));
    assert!(t.host.service_exists(&t.db).unwrap());
}

#[test]
fn backup_is_a_verified_archive_and_restore_brings_the_rows_back() {
    let Some(t) = E2e::new("bak") else { return };
    t.deployed(5);
    let b = t.pix(&["db", "backup", "e2e", "--json"]).expect(0).json();
    let file = b["path"].as_str().unwrap().to_string();
    assert!(
        file.starts_with(t.dir.path().join("backups").to_str().unwrap()),
        "{file}"
    );
    assert!(b["entries"].as_u64().unwrap() > 0);
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.starts_with(b"PGDMP"));
    // postgres:export over raw ssh gives an archive of the same database.
    assert!(t.host.export(&t.db).unwrap().starts_with(b"PGDMP"));
    t.host
        .sql(
            &t.db,
            "delete from certification_courses; delete from users;",
        )
        .unwrap();
    assert_eq!(t.users(), Some(0));
    let refused = t.pix(&["db", "restore", "e2e", &file]).expect(4);
    assert!(refused.stderr.contains("--yes"), "{}", refused.render());
    t.pix(&["db", "restore", "e2e", &file, "--yes"]).expect(0);
    assert_eq!(t.users(), Some(5));
}

#[test]
fn db_create_link_info_unlink_destroy() {
    let Some(t) = E2e::new("db") else { return };
    t.pix(&["apps", "create", &t.app]).expect(0);
    t.pix(&["db", "create", &t.db]).expect(0);
    let list = t.pix(&["--json", "db", "list"]).expect(0).json();
    assert!(list.to_string().contains(&t.db), "{list}");
    t.pix(&["db", "link", &t.db, &t.app, "--no-restart"])
        .expect(0);
    let info = t.pix(&["--json", "db", "info", &t.db]).expect(0);
    let url = t.pix(&["config", "get", &t.app, "DATABASE_URL"]).expect(0);
    let revealed = t
        .pix(&["--json", "db", "info", &t.db, "--reveal"])
        .expect(0);
    assert!(url.stdout.starts_with("postgres://"), "{}", url.render());
    let password = url
        .stdout
        .split(':')
        .nth(2)
        .unwrap()
        .split('@')
        .next()
        .unwrap();
    assert!(!info.stdout.contains(password), "the password is masked");
    assert!(revealed.stdout.contains(password), "{}", revealed.render());
    // A linked service is not destroyed; unlinked, it is, once confirmed.
    t.pix(&["db", "unlink", &t.db, &t.app, "--no-restart"])
        .expect(0);
    t.pix(&["db", "destroy", &t.db]).expect(4);
    t.pix(&["db", "destroy", &t.db, "--confirm", &t.db])
        .expect(0);
    assert!(!t.host.service_exists(&t.db).unwrap());
    let missing = t.pix(&["db", "info", &t.db]).expect(3);
    assert!(missing.stderr.contains(&t.db), "{}", missing.render());
}

// ---------------------------------------------------------------- review apps

#[test]
fn review_app_up_list_down() {
    let Some(t) = E2e::new("rv") else { return };
    let repo = t.monorepo();
    git(&repo, &["switch", "-q", "-c", "feature/e2e"]);
    commit_file(&repo, "api/BRANCH", "feature/e2e\n", "work on the branch");
    let up = t.pix_in(&repo, &["--json", "review-app", "up"]).expect(0);
    let app = t.scratch.name("rv-feature-e2e");
    let service = format!("{app}-db");
    assert!(up.stdout.contains(&app), "{}", up.render());
    assert!(t.host.app_exists(&app).unwrap());
    assert!(t.host.service_exists(&service).unwrap());
    assert!(
        t.host.deployed_commit(&repo, &app).unwrap().is_some(),
        "deployed"
    );
    assert_eq!(t.host.count_rows(&service, "users").unwrap(), Some(0));
    assert_eq!(
        t.dokku(&["config:get", &app, "PIX_REVIEW_BRANCH"]).trim(),
        "feature/e2e"
    );
    let list = settled(&t, &repo, &["--json", "review-app", "list"]).json();
    let ours: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.to_string().contains(&app))
        .collect();
    assert_eq!(ours.len(), 1, "{list}");
    assert!(ours[0].to_string().contains("feature/e2e"), "{list}");
    // Up again: the same app, nothing new deployed.
    let sha = t.host.deployed_commit(&repo, &app).unwrap();
    t.pix_in(&repo, &["review-app", "up"]).expect(0);
    assert_eq!(t.host.deployed_commit(&repo, &app).unwrap(), sha);
    t.pix_in(&repo, &["review-app", "down", "feature/e2e", "--yes"])
        .expect(0);
    assert!(!t.host.app_exists(&app).unwrap());
    assert!(!t.host.service_exists(&service).unwrap());
    let gone = t
        .pix_in(&repo, &["review-app", "down", "feature/e2e", "--yes"])
        .expect(3);
    assert!(gone.stderr.contains("feature/e2e"), "{}", gone.render());
}

#[test]
fn review_apps_never_touch_an_environment_s_app() {
    let Some(t) = E2e::new("rve") else { return };
    t.pix(&["apps", "create", &t.app]).expect(0);
    t.dokku(&[
        "config:set",
        "--no-restart",
        &t.app,
        "PIX_REVIEW_BRANCH=gone",
    ]);
    let list = settled(&t, t.dir.path(), &["--json", "review-app", "list"]);
    assert!(!list.stdout.contains(&t.app), "{}", list.render());
    let refused = t.pix(&["review-app", "down", "gone", "--yes"]);
    assert_ne!(refused.code, 0, "{}", refused.render());
    assert!(t.host.app_exists(&t.app).unwrap());
}

// ---------------------------------------------------------------- run

#[test]
fn run_gives_the_program_the_exact_words() {
    let Some(t) = E2e::new("run") else { return };
    t.deployed(0);
    let words: Vec<String> = pix_sandbox::corpus::hostile_words()
        .into_iter()
        .filter(|w| !w.contains('\0') && w.len() < 4000)
        .collect();
    assert!(words.len() > 50);
    for word in &words {
        let run = t.pix(&["run", &t.app, "--", "printf", "%s\\0", word]);
        assert_eq!(run.code, 0, "{word:?}: {}", run.render());
        let mut expected = word.clone();
        expected.push('\0');
        assert_eq!(run.stdout, expected, "{word:?}");
    }
    assert!(
        !Path::new("/tmp/pix-hostile-marker").exists(),
        "an injected command ran"
    );
}

#[test]
fn run_passes_the_exit_code_through() {
    let Some(t) = E2e::new("rxc") else { return };
    t.deployed(0);
    t.pix(&["run", &t.app, "--shell", "exit 7"]).expect(7);
    t.pix(&["run", &t.app, "--", "sh", "-c", "exit 3"])
        .expect(3);
    t.pix(&["run", &t.app, "--", "true"]).expect(0);
    let shell = t
        .pix(&[
            "run",
            &t.app,
            "--shell",
            "echo \"$((6 * 7))\" | tr -d '\\n'",
        ])
        .expect(0);
    assert_eq!(shell.stdout, "42");
}

#[test]
fn run_sets_variables_byte_exact_and_sees_the_database() {
    let Some(t) = E2e::new("rev") else { return };
    t.deployed(2);
    let value = "a  b $(id) `id` 'q' \"d\" ; | &&";
    let run = t
        .pix(&[
            "run",
            &t.app,
            "-e",
            &format!("PIX_E2E={value}"),
            "--",
            "printenv",
            "PIX_E2E",
        ])
        .expect(0);
    assert_eq!(run.stdout, format!("{value}\n"));
    let users = t
        .pix(&[
            "run",
            &t.app,
            "--",
            "sh",
            "-c",
            "psql \"$DATABASE_URL\" -X -A -t -c 'select count(*) from users'",
        ])
        .expect(0);
    assert_eq!(users.stdout.trim(), "2");
}

#[test]
fn run_on_a_missing_app_is_not_found() {
    let Some(t) = E2e::new("rnf") else { return };
    let missing = t.scratch.name("nope");
    let run = t.pix(&["run", &missing, "--", "true"]).expect(3);
    assert!(run.stderr.contains(&missing), "{}", run.render());
    assert!(!t.host.app_exists(&missing).unwrap());
}

// ---------------------------------------------------------------- config

#[test]
fn hostile_config_values_round_trip_through_encoded() {
    let Some(t) = E2e::new("cfg") else { return };
    t.pix(&["apps", "create", &t.app]).expect(0);
    let words: Vec<String> = pix_sandbox::corpus::hostile_words()
        .into_iter()
        .filter(|w| !w.contains('\0') && w.len() < 4000)
        .collect();
    for chunk in words.chunks(10).enumerate() {
        let (n, chunk) = chunk;
        let pairs: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(i, w)| format!("HOSTILE_{n}_{i}={w}"))
            .collect();
        let mut args = vec!["config", "set", t.app.as_str()];
        args.extend(pairs.iter().map(String::as_str));
        args.push("--no-restart");
        t.pix(&args).expect(0);
        for (i, word) in chunk.iter().enumerate() {
            let key = format!("HOSTILE_{n}_{i}");
            let got = t.pix(&["config", "get", &t.app, &key]).expect(0);
            assert_eq!(got.stdout, format!("{word}\n"), "{word:?}");
            let json = t.pix(&["--json", "config", "get", &t.app, &key]).expect(0);
            let back: Option<String> = serde_json::from_str(&json.stdout).unwrap();
            assert_eq!(back.as_deref(), Some(word.as_str()), "{word:?}");
        }
    }
    // Read back by Dokku itself, over raw ssh: the server holds the bytes.
    let exported = t.dokku(&["config:export", "--format", "json", &t.app]);
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&exported).unwrap();
    for (n, chunk) in words.chunks(10).enumerate() {
        for (i, word) in chunk.iter().enumerate() {
            assert_eq!(
                map.get(&format!("HOSTILE_{n}_{i}"))
                    .and_then(|v| v.as_str()),
                Some(word.as_str()),
                "{word:?}"
            );
        }
    }
}

#[test]
fn config_show_masks_secrets_and_unset_removes() {
    let Some(t) = E2e::new("cfs") else { return };
    t.pix(&["apps", "create", &t.app]).expect(0);
    t.pix(&[
        "config",
        "set",
        &t.app,
        "API_SECRET=hunter2-e2e",
        "GREETING=hello  world",
        "--no-restart",
    ])
    .expect(0);
    let shown = t.pix(&["config", "show", &t.app]).expect(0);
    assert!(!shown.stdout.contains("hunter2-e2e"), "{}", shown.render());
    assert!(shown.stdout.contains("hello  world"), "{}", shown.render());
    let revealed = t.pix(&["config", "show", &t.app, "--reveal"]).expect(0);
    assert!(
        revealed.stdout.contains("hunter2-e2e"),
        "{}",
        revealed.render()
    );
    t.pix(&["config", "unset", &t.app, "API_SECRET", "--no-restart"])
        .expect(0);
    assert_ne!(
        t.host
            .dokku_code(&["config:get", &t.app, "API_SECRET"])
            .unwrap(),
        0
    );
    assert_eq!(
        t.dokku(&["config:get", &t.app, "GREETING"]),
        "hello  world\n"
    );
}

// ---------------------------------------------------------------- apps, ps

#[test]
fn apps_create_list_info_destroy() {
    let Some(t) = E2e::new("app") else { return };
    t.pix(&["apps", "create", &t.app]).expect(0);
    let again = t.pix(&["apps", "create", &t.app]);
    assert_ne!(again.code, 0, "{}", again.render());
    let list = t.pix(&["--json", "apps", "list"]).expect(0).json();
    assert!(list.to_string().contains(&t.app), "{list}");
    let info = t.pix(&["--json", "apps", "info", &t.app]).expect(0).json();
    assert!(info.to_string().contains(&t.app), "{info}");
    let refused = t.pix(&["apps", "destroy", &t.app]).expect(4);
    assert!(
        refused.stderr.contains(&format!("--confirm {}", t.app)),
        "{}",
        refused.render()
    );
    assert!(t.host.app_exists(&t.app).unwrap());
    t.pix(&["apps", "destroy", &t.app, "--confirm", &t.app])
        .expect(0);
    assert!(!t.host.app_exists(&t.app).unwrap());
    t.pix(&["apps", "info", &t.app]).expect(3);
}

#[test]
fn locks_are_seen_by_dokku_and_by_pix() {
    let Some(t) = E2e::new("lk") else { return };
    t.pix(&["apps", "create", &t.app]).expect(0);
    let json = t.pix(&["--json", "apps", "lock", &t.app]).expect(0);
    assert_eq!(
        t.host.dokku_code(&["apps:locked", &t.app]).unwrap(),
        0,
        "{}",
        json.render()
    );
    let info = t.pix(&["--json", "apps", "info", &t.app]).expect(0).json();
    assert_eq!(info["locked"], true, "{info}");
    t.pix(&["apps", "unlock", &t.app]).expect(0);
    let info = t.pix(&["--json", "apps", "info", &t.app]).expect(0).json();
    assert_eq!(info["locked"], false, "{info}");
}

#[test]
fn ps_stop_start_restart_scale_rebuild() {
    let Some(t) = E2e::new("ps") else { return };
    t.deployed(0);
    let running = |t: &E2e| {
        let r = t.pix(&["--json", "ps", "report", &t.app]).expect(0).json();
        r[0]["running"].as_str().unwrap_or("").to_string()
    };
    assert_eq!(running(&t), "true");
    t.pix(&["ps", "stop", &t.app]).expect(0);
    assert_eq!(running(&t), "false");
    t.pix(&["ps", "start", &t.app]).expect(0);
    assert_eq!(running(&t), "true");
    t.pix(&["ps", "restart", &t.app]).expect(0);
    assert_eq!(running(&t), "true");
    t.pix(&["ps", "scale", &t.app, "web=2"]).expect(0);
    let scale = t.pix(&["--json", "ps", "scale", &t.app]).expect(0).json();
    assert!(scale.to_string().contains("\"web\""), "{scale}");
    let raw = t.dokku(&["ps:scale", &t.app]);
    assert!(
        raw.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["web:", "2"]),
        "{raw}"
    );
    let report = t.pix(&["--json", "ps", "report", &t.app]).expect(0).json();
    assert_eq!(report[0]["processes"], 2, "{report}");
    t.pix(&["ps", "rebuild", &t.app]).expect(0);
    assert_eq!(running(&t), "true");
}

#[test]
fn status_and_logs_of_a_deployed_app() {
    let Some(t) = E2e::new("st") else { return };
    t.deployed(0);
    let status = settled(&t, t.dir.path(), &["--json", "status"]);
    assert!(status.stdout.contains(&t.app), "{}", status.render());
    let logs = t.pix(&["logs", &t.app, "-n", "5"]).expect(0);
    assert!(logs.stdout.contains("web"), "{}", logs.render());
    assert!(!logs.stdout.contains('\u{1b}'), "no colour in a pipe");
}

// ---------------------------------------------------------------- host keys

/// A pix.toml like `t`'s whose host names `known_hosts` instead.
fn with_known_hosts(t: &E2e, known_hosts: &Path) -> PathBuf {
    let text = std::fs::read_to_string(&t.toml).unwrap();
    let text: String = text
        .lines()
        .filter(|l| !l.starts_with("known_hosts ="))
        .map(|l| {
            if l.starts_with("login = ") {
                format!(
                    "known_hosts = {}\n{l}\n",
                    toml_string(&known_hosts.to_string_lossy())
                )
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let path = t.dir.path().join("pix-kh.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn an_unknown_host_key_is_refused_and_the_hint_trusts_it() {
    let Some(t) = E2e::new("hk") else { return };
    let kh = t.dir.path().join("known_hosts");
    std::fs::write(&kh, "").unwrap();
    let toml = with_known_hosts(&t, &kh);
    let toml_s = toml.to_str().unwrap();
    let failed = run_pix(
        t.dir.path(),
        &["--config", toml_s, "apps", "list"],
        &[],
        None,
    )
    .expect(6);
    // The hint repeats the --config given, so it works as printed.
    let hint = backquoted(
        &failed.stderr,
        &format!("pix --config {toml_s} ssh trust-host "),
    );
    assert_eq!(std::fs::read_to_string(&kh).unwrap(), "", "nothing written");
    // The hint as printed, confirmed.
    let mut args: Vec<&str> = hint.split_whitespace().skip(1).collect();
    let refused = run_pix(t.dir.path(), &args, &[], None).expect(4);
    assert!(refused.stderr.contains("--yes"), "{}", refused.render());
    args.push("--yes");
    run_pix(t.dir.path(), &args, &[], None).expect(0);
    assert!(!std::fs::read_to_string(&kh).unwrap().is_empty());
    run_pix(
        t.dir.path(),
        &["--config", toml_s, "apps", "list"],
        &[],
        None,
    )
    .expect(0);
}

#[test]
fn a_changed_host_key_is_refused_and_needs_replace() {
    let Some(t) = E2e::new("hkc") else { return };
    let other = t.dir.path().join("other");
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "", "-f"])
        .arg(&other)
        .status()
        .unwrap();
    assert!(status.success());
    let public = std::fs::read_to_string(other.with_extension("pub")).unwrap();
    let mut words = public.split_whitespace();
    let (kind, key) = (words.next().unwrap(), words.next().unwrap());
    let target = t.host.target();
    let name = if target.port == 22 {
        target.host.clone()
    } else {
        format!("[{}]:{}", target.host, target.port)
    };
    let kh = t.dir.path().join("known_hosts");
    std::fs::write(&kh, format!("{name} {kind} {key}\n")).unwrap();
    let toml = with_known_hosts(&t, &kh);
    let toml_s = toml.to_str().unwrap();
    let failed = run_pix(
        t.dir.path(),
        &["--config", toml_s, "apps", "list"],
        &[],
        None,
    )
    .expect(6);
    assert!(
        failed.stderr.contains("does not match"),
        "{}",
        failed.render()
    );
    // Raw ssh refuses too (strict checking, never a prompt).
    let mut changed = target.clone();
    changed.known_hosts = Some(kh.clone());
    let raw = e2e::Host::new(changed).dokku(&["version"]).unwrap_err();
    assert!(raw.contains("exited with"), "{raw}");
    let mut args = vec!["--config", toml_s, "ssh", "trust-host", "--yes"];
    let refused = run_pix(t.dir.path(), &args, &[], None).expect(4);
    assert!(refused.stderr.contains("--replace"), "{}", refused.render());
    args.push("--replace");
    run_pix(t.dir.path(), &args, &[], None).expect(0);
    run_pix(
        t.dir.path(),
        &["--config", toml_s, "apps", "list"],
        &[],
        None,
    )
    .expect(0);
}

// ---------------------------------------------------------------- reports

/// Every report this host answers, parsed by `pix parse` for its version:
/// no parse error, and the typed values agree with what pix's own commands
/// return over their connection.
#[test]
fn every_report_the_host_answers_parses_for_its_version() {
    let Some(t) = E2e::new("rep") else { return };
    t.deployed(1);
    t.pix(&["config", "set", &t.app, "PIX_E2E_WORD=a  b", "--no-restart"])
        .expect(0);
    let version = t.dokku(&["version"]);
    eprintln!("host runs {}", version.trim());
    let commands: Vec<Vec<&str>> = vec![
        vec!["version"],
        vec!["apps:list"],
        vec!["apps:report", &t.app],
        vec!["apps:report"],
        vec!["ps:report", &t.app],
        vec!["ps:report"],
        vec!["ps:scale", &t.app],
        vec!["git:report", &t.app],
        vec!["domains:report", &t.app],
        vec!["config:show", &t.app],
        vec!["config:export", "--format", "json", &t.app],
        vec!["postgres:list"],
        vec!["postgres:info", &t.db],
        vec!["postgres:links", &t.db],
        vec!["storage:list", &t.app],
    ];
    for argv in &commands {
        // The all-apps reports race with the other tests' apps coming and
        // going: a few tries.
        let mut out = t.host.dokku_output(argv, None).unwrap();
        for _ in 0..4 {
            if out.status.success() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(500));
            out = t.host.dokku_output(argv, None).unwrap();
        }
        assert!(out.status.success(), "{argv:?}: {out:?}");
        let stderr = t.dir.path().join("stderr");
        std::fs::write(&stderr, &out.stderr).unwrap();
        let mut args = vec!["parse", "--stderr", stderr.to_str().unwrap(), "--"];
        args.extend(argv.iter().copied());
        let parsed = common::run_pix(t.dir.path(), &args, &[], Some(&out.stdout)).expect(0);
        let case = parsed.json();
        assert_eq!(case["ok"], true, "{argv:?}: {case}");
        assert!(case["error"].is_null(), "{argv:?}: {case}");
        match argv[0] {
            "apps:report" if argv.len() == 2 => {
                let own = t.pix(&["--json", "apps", "info", &t.app]).expect(0).json();
                assert_eq!(case["typed"]["dir"], own["dir"], "{case}\n{own}");
                assert_eq!(case["typed"]["locked"], own["locked"]);
            }
            "config:show" => {
                assert!(case.to_string().contains("a  b"), "{case}");
            }
            "postgres:info" => {
                assert!(!case.to_string().is_empty());
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------- cleanup

/// A run killed half-way leaves scratch apps: the next run's sweep removes
/// those of runs older than a day, and keeps those of a run still going.
#[test]
fn the_sweep_removes_what_a_dead_run_left_and_keeps_a_live_run_s() {
    let Some(host) = host() else {
        eprintln!("{}", pix_sandbox::target::SKIP_MESSAGE);
        return;
    };
    let now = e2e::now_unix();
    let dead = RunId::at(now - e2e::MAX_AGE - 3600);
    let live = RunId::at(now - 60);
    let dead_scratch = Scratch::with_prefix(host, format!("{}x-", dead.prefix()));
    let live_scratch = Scratch::with_prefix(host, format!("{}x-", live.prefix()));
    let (dead_app, dead_db) = (dead_scratch.name("app"), dead_scratch.name("db"));
    let live_app = live_scratch.name("app");
    host.dokku(&["apps:create", &dead_app]).unwrap();
    host.dokku(&["postgres:create", &dead_db]).unwrap();
    host.dokku(&["postgres:link", &dead_db, &dead_app]).unwrap();
    host.dokku(&["apps:create", &live_app]).unwrap();
    let swept = e2e::sweep(host, now).unwrap();
    assert!(swept.failures.is_empty(), "{swept:?}");
    assert!(swept.apps.contains(&dead_app), "{swept:?}");
    assert!(swept.services.contains(&dead_db), "{swept:?}");
    assert!(!host.app_exists(&dead_app).unwrap());
    assert!(!host.service_exists(&dead_db).unwrap());
    assert!(
        host.app_exists(&live_app).unwrap(),
        "a live run's app is kept"
    );
    drop(live_scratch);
    assert!(!host.app_exists(&live_app).unwrap());
}

/// A test that panics still leaves nothing behind.
#[test]
fn a_failing_test_leaves_nothing_behind() {
    let Some(host) = host() else {
        eprintln!("{}", pix_sandbox::target::SKIP_MESSAGE);
        return;
    };
    let prefix = Scratch::new(host, "pan").prefix().to_string();
    let result = std::panic::catch_unwind(|| {
        let scratch = Scratch::new(host, "pan");
        host.dokku(&["apps:create", &scratch.name("app")]).unwrap();
        host.dokku(&["postgres:create", &scratch.name("db")])
            .unwrap();
        host.dokku(&["postgres:link", &scratch.name("db"), &scratch.name("app")])
            .unwrap();
        panic!("the test fails half-way");
    });
    assert!(result.is_err());
    let left: Vec<String> = host
        .apps()
        .unwrap()
        .into_iter()
        .chain(host.services().unwrap())
        .filter(|n| n.starts_with(&prefix))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
