//! What every figure shares: where cargo builds, running cargo, timing a
//! command, and the small formats and scratch paths of the figures.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::bench_report::Stats;

/// Where cargo puts the release binaries.
pub(super) fn release_dir() -> PathBuf {
    target_dir().join("release")
}

pub(super) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                crate::repo_root().join(p)
            }
        })
        .unwrap_or_else(|| crate::repo_root().join("target"))
}

pub(super) fn run_cargo(args: &[&str], what: &str) -> Result<(), String> {
    eprintln!("bench: cargo {}", args.join(" "));
    let status = crate::cargo()
        .args(args)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

pub(super) fn check(out: &Output, what: &str) -> Result<(), String> {
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} exited with {}:\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

pub(super) fn timed(cmd: &mut Command, what: &str) -> Result<Duration, String> {
    let start = Instant::now();
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    let took = start.elapsed();
    check(&out, what)?;
    Ok(took)
}

pub(super) fn stats(runs: &[Duration], what: &str) -> Result<Stats, String> {
    Stats::of(runs).ok_or_else(|| format!("no runs of {what}"))
}
pub(super) fn fmt_small(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns < 10_000 {
        format!("{ns} ns")
    } else {
        format!("{:.1} µs", ns as f64 / 1000.0)
    }
}

pub(super) fn tempfile_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("pix-bench-{}-{name}", std::process::id()))
}
