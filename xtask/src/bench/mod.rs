//! `cargo xtask bench`: pix against what people use today (`ssh` per Dokku
//! command), on one sandbox, in the same run, at 0 ms and 40 ms simulated
//! round trip; writes the table into `BENCHMARKS.md` (the marked section).
//!
//! Figures (issue 7): the reset's command sequence (`pix db reset`, one
//! connection, against `ssh` per plan command), `pix status` on 100 apps
//! (against `ssh apps:report APP` in a loop), `pix db backup` (against
//! `ssh postgres:export DB > file`, with peak memory from `/usr/bin/time`),
//! `pix --version`/`--help` (hyperfine), the `apps:report` parser
//! (criterion, `dokku-client/benches/parse.rs`) and a deploy's cost with a
//! long history (`tests/benches/deploy_history.rs`). The server's own time
//! is measured by running the emulator directly with the commands pix sent.
//!
//! The pure parts (statistics, verdicts, the Markdown) are in
//! [`crate::bench_report`].
//!
//! One file per job: [`parse`] (criterion), [`cli`] (hyperfine), [`deploy`]
//! (a long history), and the sandbox's figures: [`sandbox`] (the sandbox,
//! the emulator run directly, the server's own time), [`baselines`] (`ssh`
//! per command, with and without a ControlMaster), [`reset`], [`status`],
//! [`backup`]; [`measure`] holds the shared timing and cargo helpers.

mod backup;
mod baselines;
mod cli;
mod deploy;
mod measure;
mod parse;
mod reset;
mod sandbox;
mod status;

use std::process::Command;

use crate::bench_report as report;

use measure::{release_dir, run_cargo};
use sandbox::SandboxBench;

/// `cargo xtask bench --help`.
pub(crate) const BENCH_USAGE: &str = "\
usage: cargo xtask bench [--runs N] [--rtt MS,MS] [--backup-size SIZE[,SIZE]]
                         [--backup-rtt MS,MS] [--only LIST] [--no-write]

  --runs N             runs per figure, pix and baseline interleaved (default 5, at least 5)
  --rtt MS,MS          simulated round trips through the sandbox's proxy (default 0,40)
  --backup-size S,S    database sizes for the backup figure (default 100M; e.g. 100M,1G)
  --backup-rtt MS,MS   round trips for the backup figure (default: --rtt's); the largest
                       size runs at the first one only when there are several sizes
  --only LIST          some of: reset,status,backup,cli,parse,deploy (default: all)
  --no-write           print the section instead of writing BENCHMARKS.md
";

/// The sections `--only` knows.
const SECTIONS: &[&str] = &["reset", "status", "backup", "cli", "parse", "deploy"];

/// Parsed arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BenchArgs {
    pub runs: usize,
    pub rtts_ms: Vec<u64>,
    pub backup_sizes: Vec<u64>,
    pub backup_rtts_ms: Option<Vec<u64>>,
    pub only: Vec<String>,
    pub write: bool,
}

impl BenchArgs {
    pub(super) fn wants(&self, section: &str) -> bool {
        self.only.iter().any(|s| s == section)
    }
}

/// Parses the arguments of `cargo xtask bench`.
pub(crate) fn parse_args(args: &[String]) -> Result<BenchArgs, String> {
    let mut out = BenchArgs {
        runs: 5,
        rtts_ms: vec![0, 40],
        backup_sizes: vec![100 << 20],
        backup_rtts_ms: None,
        only: SECTIONS.iter().map(|s| s.to_string()).collect(),
        write: true,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{name} needs a value\n\n{BENCH_USAGE}"))
        };
        match flag {
            "--runs" => {
                let v = value("--runs")?;
                out.runs = v.parse().ok().filter(|n| *n >= 5).ok_or_else(|| {
                    format!("--runs takes a whole number of at least 5, got `{v}`")
                })?;
            }
            "--rtt" => {
                let v = value("--rtt")?;
                out.rtts_ms = v
                    .split(',')
                    .map(|p| p.trim().parse::<u64>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| {
                        format!("--rtt takes milliseconds separated by commas (0,40), got `{v}`")
                    })?;
            }
            "--backup-rtt" => {
                let v = value("--backup-rtt")?;
                out.backup_rtts_ms = Some(
                    v.split(',')
                        .map(|p| p.trim().parse::<u64>())
                        .collect::<Result<_, _>>()
                        .map_err(|_| {
                            format!("--backup-rtt takes milliseconds separated by commas (0,40), got `{v}`")
                        })?,
                );
            }
            "--backup-size" => {
                let v = value("--backup-size")?;
                out.backup_sizes = v
                    .split(',')
                    .map(report::parse_size)
                    .collect::<Result<_, _>>()?;
            }
            "--only" => {
                let v = value("--only")?;
                let list: Vec<String> = v.split(',').map(|s| s.trim().to_string()).collect();
                if let Some(bad) = list.iter().find(|s| !SECTIONS.contains(&s.as_str())) {
                    return Err(format!(
                        "--only: unknown figure `{bad}`; use some of {}",
                        SECTIONS.join(",")
                    ));
                }
                out.only = list;
            }
            "--no-write" => out.write = false,
            "--help" | "-h" => return Err(BENCH_USAGE.to_string()),
            other => return Err(format!("unknown argument `{other}`\n\n{BENCH_USAGE}")),
        }
    }
    if out.rtts_ms.is_empty() || out.backup_sizes.is_empty() {
        return Err(format!(
            "--rtt and --backup-size need at least one value\n\n{BENCH_USAGE}"
        ));
    }
    Ok(out)
}

/// Runs `cargo xtask bench`.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let args = parse_args(args)?;
    run_cargo(
        &[
            "build",
            "--release",
            "-p",
            "pix-cli",
            "-p",
            "dokku-emulator",
            "--bins",
        ],
        "building pix and the emulator (release)",
    )?;
    let pix = release_dir().join("pix");
    let emulator = release_dir().join("dokku-emulator");
    for bin in [&pix, &emulator] {
        if !bin.is_file() {
            return Err(format!("{} is missing after the build", bin.display()));
        }
    }
    let mut rows = Vec::new();
    let mut details = Vec::new();

    if args.wants("parse") {
        parse::parse_figures(&mut rows, &mut details)?;
    }
    if args.wants("cli") {
        cli::cli_figures(&pix, &mut rows)?;
    }
    if ["reset", "status", "backup"].iter().any(|s| args.wants(s)) {
        let mut bench = SandboxBench::start(&pix, &emulator, &args)?;
        bench.run(&mut rows, &mut details)?;
    }
    if args.wants("deploy") {
        deploy::deploy_figures(&args, &mut rows, &mut details)?;
    }

    let section = report::render_section(&report::Report {
        date: utc_now(),
        machine: machine(),
        rtts_ms: args.rtts_ms.clone(),
        runs: args.runs,
        rows,
        details,
    });
    if args.write {
        let path = crate::repo_root().join("BENCHMARKS.md");
        let old = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "# Benchmarks\n".to_string(),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let new = report::replace_section(&old, &section)?;
        std::fs::write(&path, new).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("bench: wrote {}", path.display());
    }
    print!("{section}");
    Ok(())
}

fn utc_now() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "an unknown date".into())
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|t| t.trim().to_string())
        .unwrap_or_default();
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| format!(", {:.1} GiB RAM", kb as f64 / 1048576.0))
        .unwrap_or_default();
    // Other work on the machine shows in every figure: say how busy it was.
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().map(str::to_string))
        .map(|l| format!("; load average {l} when the section was written"))
        .unwrap_or_default();
    format!("nproc {cpus}, {model}{mem}, Linux {kernel}{load}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_bench_arguments() {
        let a = parse_args(&[]).unwrap();
        assert_eq!(a.runs, 5);
        assert_eq!(a.rtts_ms, vec![0, 40]);
        assert_eq!(a.backup_sizes, vec![100 << 20]);
        assert!(a.wants("deploy") && a.write);
        let a = parse_args(&args(&[
            "--runs=7",
            "--rtt",
            "40",
            "--backup-size",
            "100M,1G",
            "--only",
            "backup,cli",
            "--no-write",
        ]))
        .unwrap();
        assert_eq!(a.runs, 7);
        assert_eq!(a.rtts_ms, vec![40]);
        assert_eq!(a.backup_sizes, vec![100 << 20, 1 << 30]);
        assert!(a.wants("backup") && !a.wants("reset") && !a.write);
    }

    #[test]
    fn rejects_bad_bench_arguments() {
        let e = parse_args(&args(&["--runs", "3"])).unwrap_err();
        assert!(e.contains("at least 5"), "{e}");
        let e = parse_args(&args(&["--rtt", "4o"])).unwrap_err();
        assert!(e.contains("milliseconds"), "{e}");
        let e = parse_args(&args(&["--only", "speed"])).unwrap_err();
        assert!(e.contains("unknown figure `speed`"), "{e}");
        let e = parse_args(&args(&["--backup-size", "1T"])).unwrap_err();
        assert!(e.contains("unknown size unit"), "{e}");
        let e = parse_args(&args(&["--fast"])).unwrap_err();
        assert!(e.contains("unknown argument"), "{e}");
    }
}
