//! The CLI's start-up figures: `pix --version` and `pix --help` through
//! hyperfine.

use std::path::Path;
use std::process::{Command, Stdio};

use super::measure::{check, tempfile_path};
use crate::bench_report::{hyperfine_stats, Row, Verdict};

pub(super) fn cli_figures(pix: &Path, rows: &mut Vec<Row>) -> Result<(), String> {
    for flag in ["--version", "--help"] {
        let json = tempfile_path(&format!("hyperfine{flag}.json"));
        let pix_line = format!("{} {flag}", pix.display());
        let out = Command::new("hyperfine")
            .args([
                "--shell=none",
                "--warmup",
                "5",
                "--runs",
                "50",
                "--style",
                "none",
            ])
            .arg("--export-json")
            .arg(&json)
            .arg(&pix_line)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run hyperfine (apt-get install hyperfine): {e}"))?;
        check(&out, "hyperfine")?;
        let text = std::fs::read_to_string(&json)
            .map_err(|e| format!("cannot read {}: {e}", json.display()))?;
        let _ = std::fs::remove_file(&json);
        let s = hyperfine_stats(&text).ok_or("hyperfine wrote no results")?;
        rows.push(Row {
            what: format!("`pix {flag}` (hyperfine, no shell)"),
            pix: s.render(),
            baseline: String::new(),
            target: "< 5 ms median".into(),
            verdict: Verdict::at_most(s.median.as_secs_f64() * 1000.0, 5.0, "ms"),
        });
    }
    Ok(())
}
