//! `cargo xtask demo`: the sandbox, the sample app deployed on a linked
//! database and seeded, then everything torn down.
//!
//! The demo is a list of steps over one [`Sandbox`]; a new workflow (the
//! database reset) is one more call in [`run_steps`].

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

use pix_sandbox::sandbox::pix_toml::{APP, DATABASE};
use pix_sandbox::sandbox::{procs, Sandbox, SandboxOptions};

use crate::progress::Progress;

/// Set by Ctrl-C.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

fn check_interrupted() -> Result<(), String> {
    if INTERRUPTED.load(Ordering::SeqCst) {
        Err("interrupted by Ctrl-C".into())
    } else {
        Ok(())
    }
}

/// How many users the demo seeds.
const SEED_USERS: u32 = 10;

/// Runs the demo.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let args = crate::parse_sandbox_args(args, false)?;
    crate::test_cmd::ensure_prerequisites()?;
    crate::build_emulator()?;
    // Ctrl-C reaches the running ssh/git (same process group) and makes the
    // step fail; the demo itself carries on to the teardown.
    ctrlc::set_handler(|| {
        INTERRUPTED.store(true, Ordering::SeqCst);
        eprintln!("\ninterrupted: stopping after this step and tearing the sandbox down");
    })
    .map_err(|e| format!("cannot handle Ctrl-C: {e}"))?;
    let mut progress = Progress::new(8);
    let sandbox = progress.step(
        "start the sandbox (sshd, PostgreSQL, Dokku emulator)",
        || Sandbox::start(SandboxOptions::profile(args.profile)).map_err(|e| e.to_string()),
    )?;
    progress.detail(&format!(
        "Dokku {} emulated at {}@{}:{}",
        args.profile.name(),
        sandbox.user(),
        sandbox.host(),
        sandbox.port()
    ));
    let dir = sandbox.dir().to_path_buf();
    let result = run_steps(&sandbox, &mut progress);
    progress.step("tear the sandbox down", || {
        drop(sandbox);
        let left = procs::sandbox_processes(&[], &dir);
        if left.is_empty() && !dir.exists() {
            Ok(())
        } else {
            Err(format!("processes still running: {left:?}"))
        }
    })?;
    result?;
    println!(
        "demo finished in {:.1} s: nothing left running",
        progress.elapsed_secs()
    );
    Ok(())
}

/// The demo's steps against a running sandbox.
pub(crate) fn run_steps(sb: &Sandbox, progress: &mut Progress) -> Result<(), String> {
    progress.step(&format!("create the app {APP}"), || {
        dokku(sb, &["apps:create", APP]).map(|_| ())
    })?;
    progress.step(&format!("create the database {DATABASE}"), || {
        dokku(sb, &["postgres:create", DATABASE]).map(|_| ())
    })?;
    progress.step(&format!("link {DATABASE} to {APP}"), || {
        dokku(sb, &["postgres:link", DATABASE, APP]).map(|_| ())
    })?;
    let work = tempfile_dir()?;
    let pushed = progress.step(
        &format!("deploy the sample app (git push {})", sb.git_remote(APP)),
        || deploy_sample_app(sb, &work.0),
    );
    if let Ok(lines) = &pushed {
        progress.detail(lines);
    }
    pushed?;
    let seeded = progress.step(
        &format!("seed {SEED_USERS} users (dokku run {APP} sh seed.sh)"),
        || dokku(sb, &["run", APP, "sh", "seed.sh", &SEED_USERS.to_string()]),
    )?;
    progress.detail(String::from_utf8_lossy(&seeded.stdout).trim());
    let report = progress.step("check the app is running", || {
        let out = dokku(sb, &["ps:report", APP, "--running"])?;
        let running = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if running == "true" {
            Ok(running)
        } else {
            Err(format!("ps:report says running={running}"))
        }
    })?;
    progress.detail(&format!("{APP} running: {report}"));
    Ok(())
}

/// Runs a Dokku command over ssh; a non-zero exit is an error with stderr.
pub(crate) fn dokku(sb: &Sandbox, args: &[&str]) -> Result<Output, String> {
    check_interrupted()?;
    let out = sb
        .ssh_command()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run ssh: {e}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "`dokku {}` exited with {}:\n{}{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A temporary directory removed on drop (std only).
pub(crate) struct TempDir(pub PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempfile_dir() -> Result<TempDir, String> {
    let suffix = pix_sandbox::sandbox::random_hex(6).map_err(|e| e.to_string())?;
    let path = std::env::temp_dir().join(format!("pix-demo-{suffix}"));
    std::fs::create_dir_all(&path).map_err(|e| format!("creating {}: {e}", path.display()))?;
    Ok(TempDir(path))
}

/// Commits a copy of `tests/sample-app` in `work` and pushes it to the
/// sandbox; returns the deploy's framing lines (`----->`, `=====>`).
pub(crate) fn deploy_sample_app(sb: &Sandbox, work: &Path) -> Result<String, String> {
    check_interrupted()?;
    let source = crate::repo_root().join("tests").join("sample-app");
    let repo = work.join("sample-app");
    std::fs::create_dir_all(&repo).map_err(|e| format!("creating {}: {e}", repo.display()))?;
    let entries =
        std::fs::read_dir(&source).map_err(|e| format!("reading {}: {e}", source.display()))?;
    for entry in entries.flatten() {
        std::fs::copy(entry.path(), repo.join(entry.file_name()))
            .map_err(|e| format!("copying {}: {e}", entry.path().display()))?;
    }
    git(&repo, &["init", "-q"])?;
    git(&repo, &["add", "."])?;
    git(&repo, &["commit", "-q", "-m", "sample app"])?;
    let out = Command::new("git")
        .args(["push", &sb.git_remote(APP), "HEAD:master"])
        .env("GIT_SSH_COMMAND", sb.git_ssh_command())
        .current_dir(&repo)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        return Err(format!("git push exited with {}:\n{all}", out.status));
    }
    Ok(deploy_summary(&all))
}

/// The lines of a push's output worth showing: Dokku's framing and the
/// migration's own report (`remote: ` prefixes removed).
pub(crate) fn deploy_summary(output: &str) -> String {
    output
        .lines()
        .map(|l| l.strip_prefix("remote: ").unwrap_or(l).trim_end())
        .filter(|l| l.starts_with("----->") || l.starts_with("=====>") || l.contains("migrate:"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn git(repo: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=pix demo",
            "-c",
            "user.email=demo@example.test",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(repo)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deploy_summary_keeps_the_framing_and_migrations() {
        let out = "Enumerating objects: 5\nremote: -----> Cleaning up...\nremote: migrate: schema up to date (2 migrations)\nremote:        noise\nremote: =====> Application deployed:\nTo 127.0.0.1:api\n";
        assert_eq!(
            deploy_summary(out),
            "-----> Cleaning up...\nmigrate: schema up to date (2 migrations)\n=====> Application deployed:"
        );
    }
}
