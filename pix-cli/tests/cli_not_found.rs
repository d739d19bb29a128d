//! `pix help exit-codes` says 3 means "not found": every command that takes
//! an app, a service, an environment or a branch says so, with a sentence
//! naming the next step, on the 0.38, 0.30 and 0.19 profiles (0.19 answers
//! a missing app with exit 1, or 123 through `xargs`, and `FAILED: app ...`).

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use common::World;
use pix_sandbox::contract::Profile;

/// (arguments, a piece of the next step the message must name).
const MISSING: &[(&[&str], &str)] = &[
    (&["apps", "info", "nope"], "pix apps list"),
    (&["apps", "lock", "nope"], "pix apps list"),
    (&["apps", "unlock", "nope"], "pix apps list"),
    (&["apps", "destroy", "nope"], "pix apps list"),
    (&["ps", "report", "nope"], "pix apps list"),
    (&["ps", "restart", "nope"], "pix apps list"),
    (&["ps", "stop", "nope"], "pix apps list"),
    (&["ps", "start", "nope"], "pix apps list"),
    (&["ps", "rebuild", "nope"], "pix apps list"),
    (&["ps", "scale", "nope", "web=1"], "pix apps list"),
    (&["config", "show", "nope"], "pix apps list"),
    (&["config", "get", "nope", "KEY"], "pix apps list"),
    (
        &["config", "set", "nope", "KEY=v", "--no-restart"],
        "pix apps list",
    ),
    (
        &["config", "unset", "nope", "KEY", "--no-restart"],
        "pix apps list",
    ),
    (&["run", "nope", "--", "true"], "pix apps list"),
    (&["run", "nope", "--shell", "exit 20"], "pix apps list"),
    (&["logs", "nope"], "pix apps list"),
    (&["storage", "list", "nope"], "pix apps list"),
    (&["db", "info", "nope"], "pix db list"),
    (&["db", "connect", "nope"], "pix db list"),
    (&["db", "logs", "nope"], "pix db list"),
    (&["db", "backup", "nope"], "pix db list"),
    (&["db", "link", "nope", "api-development"], "pix db list"),
    (&["db", "unlink", "nope", "api-development"], "pix db list"),
    (&["db", "link", "pg-development", "nope"], "pix apps list"),
    (&["deploy", "nope"], "pix.toml defines: development"),
    (
        &["db", "reset", "nope", "--dry-run"],
        "pix.toml defines: development",
    ),
    (
        &["remote", "repair", "nope", "--merge"],
        "environments: development",
    ),
    (
        &["review-app", "down", "nope", "--yes"],
        "pix review-app list",
    ),
];

fn every_missing_thing_exits_3(profile: Profile) {
    let w = World::with_profile(profile);
    // The environment's service exists, so a missing app is the only cause.
    pix_sandbox::scenario::dokku(&w.sb, &["postgres:create", "pg-development"]).unwrap();
    // `pix remote` works in a repository.
    common::git(w.dir.path(), &["init", "-q", "-b", "main"]);
    let mut wrong = Vec::new();
    for (args, next) in MISSING {
        let run = w.pix(args);
        // A hint repeats the global flags the command was given (the
        // test's `--config FILE`): read it without them.
        let stderr = without_config_flag(&run.stderr);
        if run.code != 3 || !stderr.contains(next) {
            wrong.push(format!("pix {}:\n{}", args.join(" "), run.render()));
        }
    }
    assert!(wrong.is_empty(), "{profile:?}:\n{}", wrong.join("\n"));
}

/// `text` with every `--config WORD ` taken out.
fn without_config_flag(text: &str) -> String {
    let mut out = String::new();
    let mut words = text.split(' ').peekable();
    while let Some(w) = words.next() {
        if w == "--config" {
            words.next();
            continue;
        }
        out.push_str(w);
        if words.peek().is_some() {
            out.push(' ');
        }
    }
    out
}

#[test]
fn missing_things_exit_3_with_the_next_step_0_38() {
    every_missing_thing_exits_3(Profile::V0_38);
}

#[test]
fn missing_things_exit_3_with_the_next_step_0_30() {
    every_missing_thing_exits_3(Profile::V0_30);
}

#[test]
fn missing_things_exit_3_with_the_next_step_0_19() {
    every_missing_thing_exits_3(Profile::V0_19);
}
