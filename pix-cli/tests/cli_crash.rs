//! What a killed `pix` leaves behind: no OpenSSH master for more than a few
//! seconds, and its private folder and unfinished backup removed by the next
//! run (which says so for the backup).

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pix_sandbox::contract::{Fault, FaultAction};
use pix_sandbox::scenario;

/// The SSH control folder (`<parent>/pix-*`) whose lock names process `pid`.
fn control_dir_of(parent: &Path, pid: u32) -> Option<PathBuf> {
    let wanted = format!("pid {pid}");
    std::fs::read_dir(parent).ok()?.flatten().find_map(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        let lock = std::fs::read_to_string(e.path().join("lock")).ok()?;
        (name.starts_with("pix-") && lock.trim() == wanted).then(|| e.path())
    })
}

/// Processes whose command line names `dir` (the master `ssh` of a
/// control folder has `-S <dir>/...`).
fn processes_naming(dir: &Path) -> Vec<u32> {
    let needle = dir.as_os_str().as_encoded_bytes();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.windows(needle.len()).any(|w| w == needle))
        })
        .collect()
}

fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    done()
}

fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with(suffix))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_killed_pix_leaves_no_ssh_master_and_the_next_run_cleans_up_after_it() {
    let w = common::World::start();
    scenario::dokku(&w.sb, &["postgres:create", "pg-development"]).unwrap();
    // The export hangs on the server: pix is killed in the middle of it.
    w.sb.inject_fault(Fault {
        matches: "postgres:export".into(),
        action: FaultAction::Hang { seconds: 60 },
        times: 1,
    })
    .unwrap();
    // A private TMPDIR: no other pix on this machine sweeps our folder.
    let tmp = tempfile::Builder::new()
        .prefix("pxc")
        .tempdir_in("/tmp")
        .unwrap();
    let mut child = Command::new(common::pix_bin())
        .args(["--config", w.toml.to_str().unwrap()])
        .args(["db", "backup", "development"])
        .env("TMPDIR", tmp.path())
        .current_dir(w.dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let backups = w.dir.path().join("backups").join("development");
    let mid_command = wait_until(Duration::from_secs(30), || {
        w.sb.pending_faults() == 0 && !files_ending(&backups, ".partial").is_empty()
    });
    assert!(mid_command, "the export never started");
    let dir = control_dir_of(tmp.path(), pid).expect("pix's control folder");
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{} is private", dir.display());
    assert!(
        !processes_naming(&dir).is_empty(),
        "no ssh master for {}",
        dir.display()
    );
    let partial = files_ending(&backups, ".partial").remove(0);

    child.kill().unwrap(); // SIGKILL: nothing of pix runs after this
    child.wait().unwrap();
    let killed_at = Instant::now();
    let gone = wait_until(Duration::from_secs(10), || {
        processes_naming(&dir).is_empty()
    });
    assert!(
        gone,
        "the ssh master of {} outlived pix by more than 10 s: {:?}",
        dir.display(),
        processes_naming(&dir)
    );
    eprintln!("master gone {:?} after the kill", killed_at.elapsed());
    assert!(
        dir.exists(),
        "kill -9 left the folder (the next run removes it)"
    );
    assert!(partial.exists(), "kill -9 left the partial backup");

    // The next run removes both, and says so for the backup.
    let run = common::run_pix(
        w.dir.path(),
        &[
            "--config",
            w.toml.to_str().unwrap(),
            "db",
            "backup",
            "development",
        ],
        &[("TMPDIR", tmp.path().to_str().unwrap())],
        None,
    )
    .expect(0);
    assert!(!dir.exists(), "stale {} still there", dir.display());
    assert!(
        run.stderr.contains(&format!(
            "removed an unfinished backup left by an interrupted run: {}",
            partial.display()
        )),
        "{}",
        run.render()
    );
    assert!(files_ending(&backups, ".partial").is_empty());
    assert_eq!(files_ending(&backups, ".dump").len(), 1, "{}", run.render());
}
