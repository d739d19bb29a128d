//! `pix releases` and `pix rollback` through the binary, against the
//! sandbox, on PIX's layout (the API in `api/`): each deploy is a release
//! with its source commit; a rollback deploys an earlier release's tree as a
//! new fast-forward commit, and is itself listed.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use common::{commit_file, monorepo, run_pix, Run, World};
use pix_sandbox::scenario;

const APP: &str = "api-staging";
const DB: &str = "api-staging-db";

#[test]
fn releases_are_listed_and_a_rollback_is_a_new_fast_forward_deploy() {
    let w = World::start();
    let mut text = std::fs::read_to_string(&w.toml).unwrap();
    text.push_str(&format!(
        "\n[environments.staging]\nhost = \"sandbox\"\napp = \"{APP}\"\ndatabase = \"{DB}\"\ndeploy_dir = \"api\"\n"
    ));
    std::fs::write(&w.toml, text).unwrap();
    scenario::dokku(&w.sb, &["apps:create", APP]).unwrap();
    scenario::dokku(&w.sb, &["postgres:create", DB]).unwrap();
    scenario::dokku(&w.sb, &["postgres:link", DB, APP]).unwrap();
    let repo = monorepo(w.dir.path());
    let pix = |args: &[&str]| -> Run {
        let mut all = vec!["--config", w.toml.to_str().unwrap()];
        all.extend_from_slice(args);
        run_pix(&repo, &all, &[], None)
    };
    let tree = || {
        scenario::dokku(&w.sb, &["run", APP, "cat", "VERSION"])
            .unwrap_or_default()
            .trim()
            .to_string()
    };

    // No release yet: said so, with the command that makes one.
    let none = pix(&["releases", "staging"]).expect(0);
    assert!(
        none.stderr.contains("pix deploy staging"),
        "{}",
        none.render()
    );

    commit_file(&repo, "api/VERSION", "one\n", "version one");
    pix(&["deploy", "staging", "--yes"]).expect(0);
    commit_file(&repo, "api/VERSION", "two\n", "version two");
    pix(&["deploy", "staging", "--yes"]).expect(0);
    assert_eq!(tree(), "two");

    let listed = pix(&["releases", "staging", "--json"]).expect(0).json();
    let list = listed.as_array().unwrap();
    assert_eq!(list.len(), 2, "{listed}");
    assert_eq!(
        (list[0]["version"].as_u64(), list[0]["current"].as_bool()),
        (Some(2), Some(true))
    );
    assert_eq!(list[1]["source_branch"], "main");
    let table = pix(&["releases", "staging"]).expect(0);
    assert!(
        table.stdout.contains("v2 *") && table.stdout.contains("v1 "),
        "{}",
        table.render()
    );

    // A dry run says what it would do and pushes nothing.
    pix(&["rollback", "staging", "--dry-run"]).expect(0);
    assert_eq!(tree(), "two");

    // The default: the release before the current one, as a new commit.
    let back = pix(&["rollback", "staging", "--yes"]);
    assert_eq!(back.code, 0, "{}", back.render());
    assert!(back.stderr.contains("back to v1"), "{}", back.render());
    assert_eq!(tree(), "one");
    let list = pix(&["releases", "staging", "--json"]).expect(0).json();
    assert_eq!(list.as_array().unwrap().len(), 3, "{list}");

    // By version, forward again; an unknown one is not found (3).
    pix(&["rollback", "staging", "v2", "--yes"]).expect(0);
    assert_eq!(tree(), "two");
    let unknown = pix(&["rollback", "staging", "v42", "--yes"]).expect(3);
    assert!(
        unknown.stderr.contains("no release \"v42\""),
        "{}",
        unknown.render()
    );
}
