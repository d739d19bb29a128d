//! The parser figures: criterion's `apps:report` text benchmarks and the
//! quoting one (`dokku-client/benches/parse.rs`).

use std::path::Path;

use super::measure::{fmt_small, run_cargo, target_dir};
use crate::bench_report::{
    self as report, bytes, criterion_sample_stats, mb_per_s, ms, Row, Stats, Verdict,
};

pub(super) fn parse_figures(rows: &mut Vec<Row>, details: &mut Vec<String>) -> Result<(), String> {
    run_cargo(
        &["bench", "-p", "dokku-client", "--bench", "parse"],
        "the criterion benchmarks (cargo bench -p dokku-client --bench parse)",
    )?;
    let dir = target_dir().join("criterion");
    let sample = |rel: &str| -> Result<Stats, String> {
        let path = dir.join(rel).join("new").join("sample.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read criterion's {}: {e}", path.display()))?;
        criterion_sample_stats(&text)
            .ok_or_else(|| format!("{} has no samples criterion would write", path.display()))
    };
    let parse = sample("apps_report_text/parse/10000")?;
    // The same text the bench generates: its size sets the throughput.
    let size = criterion_throughput(&dir.join("apps_report_text/parse/10000/new/benchmark.json"))
        .ok_or("criterion's benchmark.json has no byte throughput for the parse figure")?;
    let mbs = mb_per_s(size, parse.median);
    rows.push(Row {
        what: format!(
            "parse `apps:report` text, 10,000 apps ({}), criterion",
            bytes(size)
        ),
        pix: format!("{} → {mbs:.0} MB/s", parse.render()),
        baseline: String::new(),
        target: "≥ 200 MB/s; under 100 ms".into(),
        verdict: Verdict::at_least(mbs, 200.0, "MB/s").and(Verdict::at_most(
            parse.median.as_secs_f64() * 1000.0,
            100.0,
            "ms",
        )),
    });
    if let Ok(blocks) = sample("apps_report_text/blocks/10000") {
        details.push(format!(
            "parse split: the text to label/value blocks alone (`parse_report_text`) {} → {:.0} MB/s; the rest of the {} is snake_case naming, maps and typed `AppReport`s",
            blocks.render(),
            mb_per_s(size, blocks.median),
            ms(parse.median)
        ));
    }
    if let Ok(q) = sample("quoting/ssh_line config_set") {
        details.push(format!(
            "quoting one `config:set` line with four words (`ssh_line`): {} per line (criterion)",
            fmt_small(q.median)
        ));
    }
    Ok(())
}

/// `"throughput":{"Bytes":N}` in criterion's benchmark.json.
fn criterion_throughput(path: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    report::json_number_after(&text, "Bytes", 0).map(|v| v as u64)
}
