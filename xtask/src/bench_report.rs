//! The pure half of `cargo xtask bench`: statistics over timed runs, the
//! targets' arithmetic, reading hyperfine's and criterion's JSON, and the
//! `BENCHMARKS.md` section. No IO here, so all of it is tested without a
//! sandbox.

use std::fmt::Write as _;
use std::time::Duration;

/// The marker lines around the generated part of `BENCHMARKS.md`.
pub(crate) const BEGIN_MARK: &str = "<!-- cargo xtask bench: begin (generated, do not edit) -->";
/// See [`BEGIN_MARK`].
pub(crate) const END_MARK: &str = "<!-- cargo xtask bench: end -->";

/// Median, min and max of a set of runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Stats {
    /// The median (the mean of the two middle runs for an even count).
    pub median: Duration,
    /// The fastest run.
    pub min: Duration,
    /// The slowest run.
    pub max: Duration,
    /// How many runs.
    pub runs: usize,
}

impl Stats {
    /// The statistics of `runs`; `None` when there are none.
    pub(crate) fn of(runs: &[Duration]) -> Option<Stats> {
        let mut sorted = runs.to_vec();
        sorted.sort();
        let n = sorted.len();
        let (first, last) = (*sorted.first()?, *sorted.last()?);
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2
        };
        Some(Stats {
            median,
            min: first,
            max: last,
            runs: n,
        })
    }

    /// `12.3 ms (min 11.9, max 14.0, n=5)`.
    pub(crate) fn render(&self) -> String {
        format!(
            "{} (min {}, max {}, n={})",
            ms(self.median),
            ms_bare(self.min),
            ms_bare(self.max),
            self.runs
        )
    }
}

/// A duration in milliseconds with a sensible precision: `0.84 ms`,
/// `12.3 ms`, `1520 ms`.
pub(crate) fn ms(d: Duration) -> String {
    format!("{} ms", ms_bare(d))
}

fn ms_bare(d: Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    if v < 10.0 {
        format!("{v:.2}")
    } else if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// Bytes for people: `104.9 MB` (decimal units, as throughput is).
pub(crate) fn bytes(n: u64) -> String {
    let v = n as f64;
    if v >= 1e9 {
        format!("{:.2} GB", v / 1e9)
    } else if v >= 1e6 {
        format!("{:.1} MB", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1} kB", v / 1e3)
    } else {
        format!("{n} B")
    }
}

/// Megabytes (10^6) per second.
pub(crate) fn mb_per_s(bytes: u64, time: Duration) -> f64 {
    let secs = time.as_secs_f64();
    if secs <= 0.0 {
        return 0.0;
    }
    bytes as f64 / 1e6 / secs
}

/// Parses a size: `100M`, `1G`, `512k`, `2000000` (bytes; powers of 1024
/// for the suffixes, as `pg_size_pretty` counts).
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, ""),
    };
    let n: u64 = digits.parse().map_err(|_| {
        format!("`{text}` is not a size: use a whole number with K, M or G (100M, 1G)")
    })?;
    let mult: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" => 1 << 10,
        "M" | "MB" => 1 << 20,
        "G" | "GB" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit `{other}` in `{text}`: use K, M or G (100M, 1G)"
            ))
        }
    };
    match n.checked_mul(mult) {
        Some(v) if v > 0 => Ok(v),
        _ => Err(format!("`{text}` is not a usable size (zero or too large)")),
    }
}

/// `100M` / `1G` back from bytes, for labels.
pub(crate) fn size_label(n: u64) -> String {
    if n >= 1 << 30 && n.is_multiple_of(1 << 30) {
        format!("{}G", n >> 30)
    } else if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{}M", n >> 20)
    } else {
        bytes(n)
    }
}

/// The theoretical time of a workflow: one SSH handshake, `round_trips`
/// network round trips of `rtt`, and the server's own time.
pub(crate) fn limit(
    handshake: Duration,
    round_trips: u32,
    rtt: Duration,
    server: Duration,
) -> Duration {
    handshake + rtt * round_trips + server
}

/// The number in `"key": 1.25` (the first occurrence of `key` at or after
/// `from`), as JSON writes it.
pub(crate) fn json_number_after(text: &str, key: &str, from: usize) -> Option<f64> {
    let quoted = format!("\"{key}\"");
    let at = text.get(from..)?.find(&quoted)? + from + quoted.len();
    let rest = text[at..].trim_start().strip_prefix(':')?.trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// The numbers of the JSON array `"key": [1, 2.5, ...]`.
pub(crate) fn json_number_array(text: &str, key: &str) -> Option<Vec<f64>> {
    let quoted = format!("\"{key}\"");
    let at = text.find(&quoted)? + quoted.len();
    let rest = text[at..].trim_start().strip_prefix(':')?.trim_start();
    let body = rest.strip_prefix('[')?;
    let end = body.find(']')?;
    body[..end]
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().ok())
        .collect()
}

/// Median, min and max (seconds) of hyperfine's `--export-json` for its
/// first command.
pub(crate) fn hyperfine_stats(json: &str) -> Option<Stats> {
    let results = json.find("\"results\"")?;
    let secs = |key: &str| json_number_after(json, key, results).map(Duration::from_secs_f64);
    let runs = json_number_array(&json[results..], "times").map(|t| t.len())?;
    Some(Stats {
        median: secs("median")?,
        min: secs("min")?,
        max: secs("max")?,
        runs,
    })
}

/// Per-iteration times of criterion's `sample.json` (`iters` and `times` in
/// nanoseconds per sample): median, min and max of one iteration.
pub(crate) fn criterion_sample_stats(sample_json: &str) -> Option<Stats> {
    let iters = json_number_array(sample_json, "iters")?;
    let times = json_number_array(sample_json, "times")?;
    if iters.len() != times.len() || iters.is_empty() {
        return None;
    }
    let per: Vec<Duration> = iters
        .iter()
        .zip(&times)
        .filter(|(i, _)| **i > 0.0)
        .map(|(i, t)| Duration::from_secs_f64(t / i / 1e9))
        .collect();
    Stats::of(&per)
}

/// One row of the results table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    /// What was measured (`reset sequence @ 40 ms`).
    pub what: String,
    /// pix's figure.
    pub pix: String,
    /// The baseline's figure in the same run (empty when none).
    pub baseline: String,
    /// The target, as the issue states it.
    pub target: String,
    /// Met or missed, with the arithmetic.
    pub verdict: Verdict,
}

/// Whether a target is met.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
    /// Met; the text shows the arithmetic.
    Met(String),
    /// Missed; the text says by how much.
    Missed(String),
    /// Not measured in this run, and why.
    NotMeasured(String),
}

impl Verdict {
    /// `at_most` met when `value <= bound`, with both numbers in the text.
    pub(crate) fn at_most(value: f64, bound: f64, unit: &str) -> Verdict {
        let text = format!("{} {unit} vs ≤ {} {unit}", round3(value), round3(bound));
        if value <= bound {
            Verdict::Met(text)
        } else {
            let over = if bound > 0.0 {
                (value / bound - 1.0) * 100.0
            } else {
                f64::INFINITY
            };
            Verdict::Missed(format!("{text} (over by {over:.0}%)"))
        }
    }

    /// `at_least` met when `value >= bound`.
    pub(crate) fn at_least(value: f64, bound: f64, unit: &str) -> Verdict {
        let text = format!("{} {unit} vs ≥ {} {unit}", round3(value), round3(bound));
        if value >= bound {
            Verdict::Met(text)
        } else {
            let short = if bound > 0.0 {
                (1.0 - value / bound) * 100.0
            } else {
                0.0
            };
            Verdict::Missed(format!("{text} (short by {short:.0}%)"))
        }
    }

    /// Both must hold.
    pub(crate) fn and(self, other: Verdict) -> Verdict {
        match (self, other) {
            (Verdict::Met(a), Verdict::Met(b)) => Verdict::Met(format!("{a}; {b}")),
            (Verdict::NotMeasured(a), _) | (_, Verdict::NotMeasured(a)) => Verdict::NotMeasured(a),
            (Verdict::Missed(a), Verdict::Met(b)) => Verdict::Missed(format!("{a}; met: {b}")),
            (Verdict::Met(a), Verdict::Missed(b)) => Verdict::Missed(format!("met: {a}; {b}")),
            (Verdict::Missed(a), Verdict::Missed(b)) => Verdict::Missed(format!("{a}; {b}")),
        }
    }

    fn render(&self) -> String {
        match self {
            Verdict::Met(t) => format!("**met**: {t}"),
            Verdict::Missed(t) => format!("**missed**: {t}"),
            Verdict::NotMeasured(t) => format!("not measured: {t}"),
        }
    }
}

fn round3(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// What the generated section says about the run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Report {
    /// `2026-11-27 22:40 UTC`.
    pub date: String,
    /// nproc, CPU model, kernel.
    pub machine: String,
    /// The simulated round trips, in ms.
    pub rtts_ms: Vec<u64>,
    /// Runs per figure.
    pub runs: usize,
    /// The results table.
    pub rows: Vec<Row>,
    /// Further measured details (server time per command, handshakes,
    /// command counts), one Markdown bullet each.
    pub details: Vec<String>,
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Renders the generated section (markers included).
pub(crate) fn render_section(report: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{BEGIN_MARK}");
    let _ = writeln!(s);
    let _ = writeln!(s, "Run of {} on {}.", report.date, report.machine);
    let rtts: Vec<String> = report.rtts_ms.iter().map(|r| format!("{r} ms")).collect();
    let _ = writeln!(
        s,
        "Simulated round trip (the sandbox's delaying proxy, half each way): {}. \
         Every figure is the median of {} runs or more, min and max beside it; \
         the baseline ran interleaved with pix, run for run.",
        rtts.join(" and "),
        report.runs
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "| what | pix | baseline, same run | target | result |");
    let _ = writeln!(s, "|---|---|---|---|---|");
    for row in &report.rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            cell(&row.what),
            cell(&row.pix),
            cell(if row.baseline.is_empty() {
                "—"
            } else {
                &row.baseline
            }),
            cell(&row.target),
            cell(&row.verdict.render())
        );
    }
    let _ = writeln!(s);
    if !report.details.is_empty() {
        let _ = writeln!(s, "Details of this run:");
        let _ = writeln!(s);
        for d in &report.details {
            let _ = writeln!(s, "- {d}");
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "{END_MARK}");
    s
}

/// Puts `section` into `document` in place of the marked section, or at its
/// end when there is none yet (a missing end marker is an error: fixing it
/// by hand is safer than guessing what to replace).
pub(crate) fn replace_section(document: &str, section: &str) -> Result<String, String> {
    match (document.find(BEGIN_MARK), document.find(END_MARK)) {
        (Some(b), Some(e)) if e > b => {
            let after = e + END_MARK.len();
            let after = after + usize::from(document[after..].starts_with('\n'));
            Ok(format!("{}{}{}", &document[..b], section, &document[after..]))
        }
        (None, None) => {
            let mut out = document.to_string();
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(section);
            Ok(out)
        }
        _ => Err(format!(
            "BENCHMARKS.md has a broken generated section: keep both `{BEGIN_MARK}` and `{END_MARK}`, in that order, or remove both"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn stats_take_median_min_max() {
        let s = Stats::of(&[d(5), d(1), d(9), d(3), d(7)]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.runs), (d(5), d(1), d(9), 5));
        let s = Stats::of(&[d(4), d(1), d(2), d(10)]).unwrap();
        assert_eq!(s.median, d(3));
        assert!(Stats::of(&[]).is_none());
        assert_eq!(s.render(), "3.00 ms (min 1.00, max 10.0, n=4)");
    }

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!(parse_size("100M").unwrap(), 100 << 20);
        assert_eq!(parse_size("1G").unwrap(), 1 << 30);
        assert_eq!(parse_size("512k").unwrap(), 512 << 10);
        assert_eq!(parse_size("2000").unwrap(), 2000);
        assert!(parse_size("1T").unwrap_err().contains("unknown size unit"));
        assert!(parse_size("M").unwrap_err().contains("not a size"));
        assert!(parse_size("0M").unwrap_err().contains("not a usable size"));
        assert_eq!(size_label(100 << 20), "100M");
        assert_eq!(size_label(1 << 30), "1G");
        assert_eq!(bytes(104_857_600), "104.9 MB");
        assert_eq!(mb_per_s(50_000_000, Duration::from_millis(500)), 100.0);
    }

    #[test]
    fn limit_adds_handshake_round_trips_and_server_time() {
        assert_eq!(limit(d(30), 10, d(40), d(100)), d(530));
    }

    #[test]
    fn verdicts_say_by_how_much() {
        assert_eq!(
            Verdict::at_most(1.0, 1.15, "×"),
            Verdict::Met("1.00 × vs ≤ 1.15 ×".into())
        );
        assert_eq!(
            Verdict::at_most(2.3, 1.15, "×"),
            Verdict::Missed("2.30 × vs ≤ 1.15 × (over by 100%)".into())
        );
        assert_eq!(
            Verdict::at_least(3.0, 4.0, "×"),
            Verdict::Missed("3.00 × vs ≥ 4.00 × (short by 25%)".into())
        );
        let both = Verdict::at_least(5.0, 4.0, "×").and(Verdict::at_most(2.0, 1.0, "×"));
        assert!(
            matches!(both, Verdict::Missed(ref t) if t.starts_with("met: 5.00")),
            "{both:?}"
        );
    }

    #[test]
    fn reads_hyperfine_json() {
        let json = r#"{"results":[{"command":"pix --version","mean":0.0021,"stddev":0.0001,
            "median":0.0020,"user":0.001,"system":0.0005,"min":0.0018,"max":0.0031,
            "times":[0.0018,0.0020,0.0031],"exit_codes":[0,0,0]}]}"#;
        let s = hyperfine_stats(json).unwrap();
        assert_eq!(s.runs, 3);
        assert_eq!(s.median, Duration::from_secs_f64(0.0020));
        assert_eq!(s.min, Duration::from_secs_f64(0.0018));
        assert_eq!(s.max, Duration::from_secs_f64(0.0031));
        assert!(hyperfine_stats("{}").is_none());
    }

    #[test]
    fn reads_criterion_samples() {
        let json = r#"{"sampling_mode":"Linear","iters":[1.0,2.0,4.0],"times":[10000000.0,30000000.0,40000000.0]}"#;
        let s = criterion_sample_stats(json).unwrap();
        assert_eq!(s.min, d(10));
        assert_eq!(s.median, d(10));
        assert_eq!(s.max, d(15));
        assert!(criterion_sample_stats(r#"{"iters":[1.0],"times":[]}"#).is_none());
    }

    #[test]
    fn section_is_replaced_or_appended() {
        let report = Report {
            date: "2026-11-27 22:40 UTC".into(),
            machine: "2 × Xeon".into(),
            rtts_ms: vec![0, 40],
            runs: 5,
            rows: vec![Row {
                what: "a|b".into(),
                pix: "1 ms".into(),
                baseline: String::new(),
                target: "< 5 ms".into(),
                verdict: Verdict::Met("1 vs 5".into()),
            }],
            details: vec!["server time 1 ms".into()],
        };
        let section = render_section(&report);
        assert!(
            section.contains("| a\\|b | 1 ms | — | < 5 ms | **met**: 1 vs 5 |"),
            "{section}"
        );
        assert!(section.contains("0 ms and 40 ms"));
        let doc = format!("# Benchmarks\n\nintro\n\n{BEGIN_MARK}\nold\n{END_MARK}\n\n## Notes\n");
        let out = replace_section(&doc, &section).unwrap();
        assert!(out.starts_with("# Benchmarks\n\nintro\n\n"));
        assert!(!out.contains("old"));
        assert!(out.ends_with(&format!("{END_MARK}\n\n## Notes\n")));
        let appended = replace_section("# Benchmarks\n", &section).unwrap();
        assert_eq!(appended, format!("# Benchmarks\n\n{section}"));
        assert!(replace_section(&format!("x {END_MARK} {BEGIN_MARK}"), &section).is_err());
        assert!(replace_section(&format!("x {BEGIN_MARK}"), &section).is_err());
    }
}
