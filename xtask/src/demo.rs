//! `cargo xtask demo`: the sandbox, the sample app deployed on a linked
//! database and seeded, then everything torn down.
//!
//! The demo is a list of steps over one [`Sandbox`]; a new workflow (the
//! database reset) is one more call in [`run_steps`].

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use pix_sandbox::sandbox::pix_toml::{APP, DATABASE};
use pix_sandbox::sandbox::{procs, Sandbox, SandboxOptions};
use pix_sandbox::scenario;

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
    // Everything is built first, so no step's time includes a compile (on a
    // fresh clone the reset step once took 101 s, pix's build included).
    eprintln!("xtask: building the Dokku emulator and pix");
    crate::build_emulator()?;
    let pix = crate::reset::pix_command()?;
    // Ctrl-C reaches the running ssh/git (same process group) and makes the
    // step fail; the demo itself carries on to the teardown.
    ctrlc::set_handler(|| {
        INTERRUPTED.store(true, Ordering::SeqCst);
        eprintln!("\ninterrupted: stopping after this step and tearing the sandbox down");
    })
    .map_err(|e| format!("cannot handle Ctrl-C: {e}"))?;
    let mut progress = Progress::new(9);
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
    let result = run_steps(&sandbox, &mut progress, pix);
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
pub(crate) fn run_steps(
    sb: &Sandbox,
    progress: &mut Progress,
    mut pix: std::process::Command,
) -> Result<(), String> {
    let work = tempfile_dir()?;
    progress.step(&format!("create the app {APP}"), || {
        dokku(sb, &["apps:create", APP]).map(drop)
    })?;
    progress.step(
        &format!("create the database {DATABASE} and link it"),
        || {
            dokku(sb, &["postgres:create", DATABASE])?;
            dokku(sb, &["postgres:link", DATABASE, APP]).map(drop)
        },
    )?;
    let pushed = progress.step(
        &format!("deploy the sample app (git push {})", sb.git_remote(APP)),
        || {
            check_interrupted()?;
            let repo = scenario::sample_app_repo(&work.0, APP)?;
            scenario::push(sb, &repo, APP).map(|all| deploy_summary(&all))
        },
    )?;
    progress.detail(&pushed);
    let seeded = progress.step(
        &format!("seed {SEED_USERS} users (dokku run {APP} sh seed.sh)"),
        || dokku(sb, &["run", APP, "sh", "seed.sh", &SEED_USERS.to_string()]),
    )?;
    progress.detail(seeded.trim());
    let before = progress.step("read the database before the reset", || snapshot(sb))?;
    progress.detail(&before.describe());

    let toml = work.0.join("pix.toml");
    sb.write_pix_toml(&toml).map_err(|e| e.to_string())?;
    progress.step(
        "reset the development database safely (pix db reset development --yes)",
        || {
            check_interrupted()?;
            let status = pix
                .arg("--config")
                .arg(&toml)
                .args(["db", "reset", "development", "--yes", "--backups-dir"])
                .arg(work.0.join("backups"))
                .status()
                .map_err(|e| format!("cannot run pix: {e}"))?;
            if status.success() {
                Ok(())
            } else {
                Err(format!("pix db reset failed ({status})"))
            }
        },
    )?;
    let after = progress.step(
        "check: the app runs on an empty, migrated, new database",
        || {
            let after = snapshot(sb)?;
            if !after.running {
                return Err("the app is not running".into());
            }
            if after.users != Some(0) || after.migrations != Some(2) {
                return Err(format!("unexpected database: {}", after.describe()));
            }
            if after.database_url == before.database_url {
                return Err("DATABASE_URL did not change".into());
            }
            Ok(after)
        },
    )?;
    progress.detail(&after.describe());
    progress.detail("DATABASE_URL now points at the new database (new credentials)");
    Ok(())
}

/// What the demo shows of the app and its database.
struct Snapshot {
    running: bool,
    users: Option<u64>,
    migrations: Option<u64>,
    database_url: String,
}

impl Snapshot {
    fn describe(&self) -> String {
        let n = |v: Option<u64>| v.map_or_else(|| "no table".to_string(), |n| n.to_string());
        format!(
            "{APP} running: {}; users: {}; migrations applied: {}",
            self.running,
            n(self.users),
            n(self.migrations)
        )
    }
}

fn snapshot(sb: &Sandbox) -> Result<Snapshot, String> {
    let running = dokku(sb, &["ps:report", APP, "--running"])?.trim() == "true";
    let dsn = scenario::dsn(sb, DATABASE)?;
    Ok(Snapshot {
        running,
        users: scenario::count_rows(sb, &dsn, "users")?,
        migrations: scenario::count_rows(sb, &dsn, "schema_migrations")?,
        database_url: dokku(sb, &["config:get", APP, "DATABASE_URL"])?,
    })
}

/// Runs a Dokku command over ssh (stops first if Ctrl-C was pressed).
pub(crate) fn dokku(sb: &Sandbox, args: &[&str]) -> Result<String, String> {
    check_interrupted()?;
    scenario::dokku(sb, args)
}

/// A temporary directory removed on drop.
pub(crate) struct TempDir(pub PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempfile_dir() -> Result<TempDir, String> {
    let path = std::env::temp_dir().join(format!("pix-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir_all(&path).map_err(|e| format!("creating {}: {e}", path.display()))?;
    Ok(TempDir(path))
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
