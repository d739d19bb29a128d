//! pix-cli/README.md's quick tour, run as written against a sandbox: every
//! line of its shell block, in order, under `bash -e` (so a line that does
//! not work as printed fails the test). Only what the README says to take
//! from terminal 1 is filled in: the sandbox's pix.toml and port; the tour's
//! scratch folders are moved under a private temporary folder.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use std::process::Command;

use common::World;

/// The first ```sh block after `## Quick tour`.
fn tour() -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("## Quick tour").expect("a quick tour section");
    let block = &readme[start..];
    let open = block.find("```sh\n").expect("its sh block") + "```sh\n".len();
    let close = block[open..].find("```").unwrap();
    block[open..open + close].to_string()
}

#[test]
fn the_readme_tour_runs_as_written() {
    let w = World::start();
    let scratch = tempfile::tempdir().unwrap();
    let s = scratch.path().display().to_string();
    // The pix.toml `cargo xtask sandbox` prints, not the test harness's.
    let toml = scratch.path().join("pix.toml");
    w.sb.write_pix_toml(&toml).unwrap();
    let repo_root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    let mut script = String::from("set -euo pipefail\n");
    for line in tour().lines() {
        let t = line.trim_start();
        // Terminal 1's sandbox and the build are this test's own.
        if t.starts_with("cargo xtask sandbox") || t.starts_with("cargo build") {
            continue;
        }
        let line = line
            .replace("/tmp/pxs-XXXXXX/pix.toml", &toml.display().to_string())
            .replace("127.0.0.1:PORT", &format!("127.0.0.1:{}", w.sb.port()))
            .replace("/tmp/pix-tour", &format!("{s}/pix-tour"))
            .replace("/tmp/kh", &format!("{s}/kh"));
        script.push_str(&line);
        script.push('\n');
    }
    let bin = common::pix_bin();
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(repo_root)
        .env("PATH", path)
        .env("GIT_SSH_COMMAND", w.sb.git_ssh_command())
        .env_remove("PIX_SSH_KEY")
        .env_remove("PIX_KNOWN_HOSTS")
        .env_remove("DOKKU_HOST")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the tour stopped ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    // What the tour's comments promise.
    assert!(stdout.contains("a  b\n$(id)\n"), "run's argv:\n{stdout}");
    assert!(stdout.contains("v2 *"), "releases:\n{stdout}");
}
