//! The deploy figure: a redeploy with 10 and with 10,000 commits of history
//! (`tests/benches/deploy_history.rs`).

use std::time::Duration;

use super::measure::{stats, tempfile_path};
use super::BenchArgs;
use crate::bench_report::{Row, Verdict};

pub(super) fn deploy_figures(
    args: &BenchArgs,
    rows: &mut Vec<Row>,
    details: &mut Vec<String>,
) -> Result<(), String> {
    let out_file = tempfile_path("deploy.txt");
    let _ = std::fs::remove_file(&out_file);
    eprintln!("bench: deploy with 10 and 10,000 commits (tests/benches/deploy_history.rs)");
    let status = crate::cargo()
        .args([
            "test",
            "--release",
            "-p",
            "pix-sandbox",
            "--bench",
            "deploy_history",
            "--",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("PIX_BENCH_OUT", &out_file)
        .env("PIX_BENCH_RUNS", args.runs.to_string())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("the deploy benchmark failed ({status})"));
    }
    let text = std::fs::read_to_string(&out_file)
        .map_err(|e| format!("the deploy benchmark wrote no {}: {e}", out_file.display()))?;
    let _ = std::fs::remove_file(&out_file);
    let runs_of = |commits: u64| -> Vec<Duration> {
        text.lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                let c: u64 = w.next()?.parse().ok()?;
                let nanos: u64 = w.next()?.parse().ok()?;
                (c == commits).then(|| Duration::from_nanos(nanos))
            })
            .collect()
    };
    let short = stats(&runs_of(10), "the 10-commit deploy")?;
    let long = stats(&runs_of(10_000), "the 10,000-commit deploy")?;
    let ratio = long.median.as_secs_f64() / short.median.as_secs_f64();
    rows.push(Row {
        what: "redeploy (`pix_ops::deploy::deploy`, one new commit) of a repository with 10,000 commits".into(),
        pix: long.render(),
        baseline: format!("10 commits: {}", short.render()),
        target: "ratio ≤ 1.2".into(),
        verdict: Verdict::at_most(ratio, 1.2, "×"),
    });
    details.push(
        "deploy figure: the 0.38 sandbox without the proxy; each run commits one change and deploys it (git push of the new commit only)".into(),
    );
    Ok(())
}
