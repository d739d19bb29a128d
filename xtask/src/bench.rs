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

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use pix_sandbox::contract::read_received;
use pix_sandbox::sandbox::{Sandbox, SandboxOptions};

use crate::bench_report::{
    self as report, bytes, criterion_sample_stats, hyperfine_stats, mb_per_s, ms, Row, Stats,
    Verdict,
};

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

const ENV: &str = "development";
const APP: &str = "api-development";
const DB: &str = "pg-development";
const BACKUP_DB: &str = "pg-bench";
/// Apps on the host for the status figure (the environment's app included).
const STATUS_APPS: usize = 100;
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
    fn wants(&self, section: &str) -> bool {
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

/// Where cargo puts the release binaries.
fn release_dir() -> PathBuf {
    target_dir().join("release")
}

fn target_dir() -> PathBuf {
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

fn run_cargo(args: &[&str], what: &str) -> Result<(), String> {
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
        parse_figures(&mut rows, &mut details)?;
    }
    if args.wants("cli") {
        cli_figures(&pix, &mut rows)?;
    }
    if ["reset", "status", "backup"].iter().any(|s| args.wants(s)) {
        let mut bench = SandboxBench::start(&pix, &emulator, &args)?;
        bench.run(&mut rows, &mut details)?;
    }
    if args.wants("deploy") {
        deploy_figures(&args, &mut rows, &mut details)?;
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

fn check(out: &Output, what: &str) -> Result<(), String> {
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

fn timed(cmd: &mut Command, what: &str) -> Result<Duration, String> {
    let start = Instant::now();
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    let took = start.elapsed();
    check(&out, what)?;
    Ok(took)
}

fn stats(runs: &[Duration], what: &str) -> Result<Stats, String> {
    Stats::of(runs).ok_or_else(|| format!("no runs of {what}"))
}

// ---------------------------------------------------------------- parse

fn parse_figures(rows: &mut Vec<Row>, details: &mut Vec<String>) -> Result<(), String> {
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

fn fmt_small(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns < 10_000 {
        format!("{ns} ns")
    } else {
        format!("{:.1} µs", ns as f64 / 1000.0)
    }
}

/// `"throughput":{"Bytes":N}` in criterion's benchmark.json.
fn criterion_throughput(path: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    report::json_number_after(&text, "Bytes", 0).map(|v| v as u64)
}

// ---------------------------------------------------------------- cli

fn cli_figures(pix: &Path, rows: &mut Vec<Row>) -> Result<(), String> {
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

fn tempfile_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("pix-bench-{}-{name}", std::process::id()))
}

// ---------------------------------------------------------------- deploy

fn deploy_figures(
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

// ---------------------------------------------------------------- sandbox figures

struct SandboxBench<'a> {
    sb: Sandbox,
    work: PathBuf,
    toml: PathBuf,
    pix: &'a Path,
    args: &'a BenchArgs,
}

impl Drop for SandboxBench<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.work);
    }
}

/// The server's own time for what pix sent: the whole sequence, each
/// command's median, and how many commands.
type ServerTime = (Stats, Vec<(String, Duration)>, usize);

/// One figure's runs: pix's, the baseline's (interleaved).
#[derive(Default)]
struct Pair {
    pix: Vec<Duration>,
    baseline: Vec<Duration>,
}

impl<'a> SandboxBench<'a> {
    fn start(pix: &'a Path, emulator: &Path, args: &'a BenchArgs) -> Result<Self, String> {
        eprintln!("bench: starting the sandbox (with the delaying proxy)");
        let sb = Sandbox::start(
            SandboxOptions::default()
                .with_proxy()
                .with_emulator(emulator),
        )
        .map_err(|e| format!("the sandbox did not start: {e}"))?;
        let work = tempfile_path("work");
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work)
            .map_err(|e| format!("cannot create {}: {e}", work.display()))?;
        let toml = work.join("pix.toml");
        sb.write_pix_toml(&toml)
            .map_err(|e| format!("cannot write pix.toml: {e}"))?;
        // The reset's figure is the command sequence itself: no migration
        // (the sample app is not deployed here).
        let text =
            std::fs::read_to_string(&toml).map_err(|e| format!("cannot read pix.toml: {e}"))?;
        let text = text.replace("post_link = [\"sh migrate.sh\"]", "post_link = []");
        std::fs::write(&toml, text).map_err(|e| format!("cannot write pix.toml: {e}"))?;
        let bench = SandboxBench {
            sb,
            work,
            toml,
            pix,
            args,
        };
        // The environment's app runs (the reset checks it runs again).
        pix_sandbox::scenario::deploy_sample_app(&bench.sb, &bench.work, APP, DB, 5)
            .map_err(|e| format!("deploying the sample app: {e}"))?;
        for i in 1..STATUS_APPS {
            bench.emulator_ok(&["apps:create", &format!("app-{i:03}")])?;
        }
        Ok(bench)
    }

    /// The emulator run directly (argv mode, as the login user), as sshd
    /// would run it minus sshd.
    fn emulator(&self, argv: &[&str]) -> Command {
        let mut cmd = Command::new(self.sb.emulator_bin());
        cmd.arg("--root").arg(self.sb.root()).args(argv);
        self.sb.login_user().apply(&mut cmd);
        cmd.stdin(Stdio::null());
        cmd
    }

    fn emulator_ok(&self, argv: &[&str]) -> Result<Output, String> {
        let what = format!("dokku-emulator {}", argv.join(" "));
        let out = self
            .emulator(argv)
            .output()
            .map_err(|e| format!("cannot run {what}: {e}"))?;
        check(&out, &what)?;
        Ok(out)
    }

    fn pix_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.pix);
        cmd.arg("--config")
            .arg(&self.toml)
            .args(args)
            .current_dir(&self.work)
            .env("NO_COLOR", "1");
        cmd
    }

    fn ssh(&self, argv: &[&str]) -> Command {
        let mut cmd = self.sb.ssh_command();
        cmd.args(argv);
        cmd
    }

    fn set_rtt(&self, rtt: Duration) -> Result<(), String> {
        self.sb
            .proxy()
            .ok_or("the sandbox has no proxy")?
            .set_round_trip_delay(rtt);
        Ok(())
    }

    fn connections(&self) -> usize {
        self.sb.proxy().map(|p| p.connections()).unwrap_or(0)
    }

    fn received_len(&self) -> Result<usize, String> {
        read_received(self.sb.root())
            .map(|r| r.len())
            .map_err(|e| format!("cannot read what the emulator received: {e}"))
    }

    /// The argv of every command received since `from`.
    fn received_since(&self, from: usize) -> Result<Vec<Vec<String>>, String> {
        let all = read_received(self.sb.root())
            .map_err(|e| format!("cannot read what the emulator received: {e}"))?;
        Ok(all.iter().skip(from).map(|r| r.argv_lossy()).collect())
    }

    /// The server's own time for a sequence of commands: each run directly,
    /// in order; `runs` times. Returns the sequence's stats and each
    /// command's median.
    fn server_time(
        &self,
        commands: &[Vec<String>],
    ) -> Result<(Stats, Vec<(String, Duration)>), String> {
        let mut totals = Vec::new();
        let mut per: Vec<Vec<Duration>> = vec![Vec::new(); commands.len()];
        for _ in 0..self.args.runs {
            let mut total = Duration::ZERO;
            for (i, argv) in commands.iter().enumerate() {
                let words: Vec<&str> = argv.iter().map(String::as_str).collect();
                // Exit codes are part of the answers (`apps:locked` says no
                // with 1): time the command whatever it answers.
                let start = Instant::now();
                self.emulator(&words)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .map_err(|e| format!("cannot run dokku-emulator {}: {e}", argv.join(" ")))?;
                let took = start.elapsed();
                per[i].push(took);
                total += took;
            }
            totals.push(total);
        }
        let each = commands
            .iter()
            .zip(&per)
            .map(|(argv, runs)| {
                (
                    argv.join(" "),
                    Stats::of(runs).map(|s| s.median).unwrap_or_default(),
                )
            })
            .collect();
        Ok((stats(&totals, "the server time")?, each))
    }

    fn run(&mut self, rows: &mut Vec<Row>, details: &mut Vec<String>) -> Result<(), String> {
        // The reset's plan, as pix prints it (`--dry-run --json`).
        let plan = self.reset_plan()?;
        let mut server_reset = None;
        let mut server_status = None;
        for &rtt_ms in &self.args.rtts_ms.clone() {
            let rtt = Duration::from_millis(rtt_ms);
            self.set_rtt(rtt)?;
            eprintln!("bench: round trip {rtt_ms} ms");
            let handshake = self.handshake(rtt, details)?;
            if self.args.wants("reset") {
                self.reset_figure(rtt, handshake, &plan, &mut server_reset, rows, details)?;
            }
            if self.args.wants("status") {
                self.status_figure(rtt, handshake, &mut server_status, rows, details)?;
            }
        }
        if self.args.wants("backup") {
            self.backup_figures(rows, details)?;
        }
        self.set_rtt(Duration::ZERO)
    }

    fn reset_plan(&self) -> Result<Vec<Vec<String>>, String> {
        let out = self
            .pix_cmd(&["db", "reset", ENV, "--dry-run", "--no-backup", "--json"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run pix: {e}"))?;
        check(&out, "pix db reset --dry-run --json")?;
        let text = String::from_utf8_lossy(&out.stdout);
        // "plan": ["apps:lock api-development", ...] — plain words only.
        let start = text
            .find("\"plan\"")
            .ok_or("pix db reset --dry-run --json printed no plan")?;
        let body = &text[start..];
        let open = body.find('[').ok_or("the plan is not a list")?;
        let close = body.find(']').ok_or("the plan is not a list")?;
        let plan: Vec<Vec<String>> = body[open + 1..close]
            .split('"')
            .skip(1)
            .step_by(2)
            .map(|line| line.split_whitespace().map(str::to_string).collect())
            .collect();
        if plan.is_empty()
            || plan
                .iter()
                .any(|c| c.iter().any(|w| w.contains(['<', '>'])))
        {
            return Err(format!("unexpected reset plan: {plan:?}"));
        }
        Ok(plan)
    }

    /// One SSH connection's cost: `ssh HOST version`, minus the emulator's
    /// own time for `version` and one round trip.
    fn handshake(&self, rtt: Duration, details: &mut Vec<String>) -> Result<Duration, String> {
        let mut ssh_runs = Vec::new();
        let mut server_runs = Vec::new();
        for _ in 0..self.args.runs.max(10) {
            ssh_runs.push(timed(&mut self.ssh(&["version"]), "ssh version")?);
            server_runs.push(timed(
                &mut self.emulator(&["version"]),
                "dokku-emulator version",
            )?);
        }
        let ssh = stats(&ssh_runs, "ssh version")?;
        let server = stats(&server_runs, "dokku-emulator version")?;
        let handshake = ssh.median.saturating_sub(server.median + rtt);
        let muxed = self.command_on_open_connection()?;
        details.push(format!(
            "@ {} ms: one `ssh HOST version` {}; emulator alone {}; so one SSH connection (process start, TCP, key exchange, auth, session) ≈ {}. \
             One more command on an open connection (OpenSSH ControlMaster, `ssh -S` client): {} — the floor of a dependent command over SSH (a new session channel: open, then exec)",
            rtt.as_millis(),
            ssh.render(),
            server.render(),
            ms(handshake),
            muxed.render()
        ));
        Ok(handshake)
    }

    /// `ssh` through the ControlMaster socket `socket` (`-o` options before
    /// the destination): `ControlMaster=master` (`auto`: the first command
    /// starts a master that stays, `ControlPersist`; `no`: a client of a
    /// running one), `extra` flags (`-N`, `-O exit`), then `argv`.
    fn ssh_via(&self, socket: &Path, master: &str, extra: &[&str], argv: &[&str]) -> Command {
        let plain = self.sb.ssh_command();
        let mut c = Command::new(plain.get_program());
        c.arg("-o")
            .arg(format!("ControlPath={}", socket.display()))
            .arg("-o")
            .arg(format!("ControlMaster={master}"))
            .args(["-o", "ControlPersist=60"])
            .args(extra)
            .args(plain.get_args())
            .args(argv)
            .stdin(Stdio::null());
        c
    }

    /// A ControlMaster (`ssh -M -N`) listening on `socket`, up when this
    /// returns.
    fn start_master(&self, socket: &Path) -> Result<std::process::Child, String> {
        let _ = std::fs::remove_file(socket);
        let mut master = self
            .ssh_via(socket, "yes", &["-N"], &[])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start an ssh master: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if !socket.exists() {
            let _ = master.kill();
            let _ = master.wait();
            return Err("the ssh master did not open its control socket".to_string());
        }
        Ok(master)
    }

    /// Stops the master on `socket` (`ssh -O exit`), whoever started it.
    fn stop_master(&self, socket: &Path) {
        let _ = self
            .ssh_via(socket, "no", &["-O", "exit"], &[])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_file(socket);
    }

    /// `commands` one after another, as a shell script over one
    /// ControlMaster does: `warm`, the master is up before the clock starts
    /// (and stopped after it); cold, the first command starts it
    /// (`ControlMaster=auto`, `ControlPersist`), inside the time. Exit codes
    /// are answers (`apps:locked` says no with 1), but ssh's own failure
    /// (255) is an error.
    fn shell_sequence(&self, commands: &[Vec<String>], warm: bool) -> Result<Duration, String> {
        let socket = self.work.join(if warm { "warm.sock" } else { "cold.sock" });
        self.stop_master(&socket);
        let mut master = if warm {
            Some(self.start_master(&socket)?)
        } else {
            None
        };
        let mode = if warm { "no" } else { "auto" };
        let result = (|| {
            let start = Instant::now();
            for argv in commands {
                let words: Vec<&str> = argv.iter().map(String::as_str).collect();
                let out = self
                    .ssh_via(&socket, mode, &[], &words)
                    .output()
                    .map_err(|e| format!("cannot run ssh: {e}"))?;
                if out.status.code() == Some(255) || out.status.code().is_none() {
                    return Err(format!(
                        "ssh {} over a ControlMaster failed: {}",
                        argv.join(" "),
                        String::from_utf8_lossy(&out.stderr).trim()
                    ));
                }
            }
            Ok(start.elapsed())
        })();
        self.stop_master(&socket);
        if let Some(m) = master.as_mut() {
            let _ = m.kill();
            let _ = m.wait();
        }
        result
    }

    /// `version` through an already open connection (an OpenSSH master and
    /// `ssh -S` clients): what one more command costs once connected.
    fn command_on_open_connection(&self) -> Result<Stats, String> {
        let socket = self.work.join("mux.sock");
        let mut master = self.start_master(&socket)?;
        let mut runs = Vec::new();
        let result = (|| {
            for _ in 0..self.args.runs.max(10) {
                runs.push(timed(
                    &mut self.ssh_via(&socket, "no", &[], &["version"]),
                    "ssh -S version",
                )?);
            }
            stats(&runs, "ssh -S version")
        })();
        self.stop_master(&socket);
        let _ = master.kill();
        let _ = master.wait();
        result
    }

    fn reset_figure(
        &self,
        rtt: Duration,
        handshake: Duration,
        plan: &[Vec<String>],
        server: &mut Option<ServerTime>,
        rows: &mut Vec<Row>,
        details: &mut Vec<String>,
    ) -> Result<(), String> {
        let mut pair = Pair::default();
        let mut native = Vec::new();
        let mut cold = Vec::new();
        let mut warm = Vec::new();
        let mut sent: Option<Vec<Vec<String>>> = None;
        let mut conns = 0;
        for i in 0..self.args.runs {
            let before = self.received_len()?;
            let c0 = self.connections();
            pair.pix.push(timed(
                &mut self.pix_cmd(&["db", "reset", ENV, "--yes", "--no-backup"]),
                "pix db reset",
            )?);
            conns = self.connections() - c0;
            if i == 0 {
                sent = Some(self.received_since(before)?);
            }
            native.push(timed(
                self.pix_cmd(&["db", "reset", ENV, "--yes", "--no-backup"])
                    .env("PIX_SSH", "native"),
                "pix --ssh native db reset",
            )?);
            let start = Instant::now();
            for argv in plan {
                let words: Vec<&str> = argv.iter().map(String::as_str).collect();
                let mut cmd = self.ssh(&words);
                let out = cmd
                    .stdin(Stdio::null())
                    .output()
                    .map_err(|e| format!("cannot run ssh: {e}"))?;
                check(&out, &format!("ssh {}", argv.join(" ")))?;
            }
            pair.baseline.push(start.elapsed());
            // The same commands pix sent, as a shell script over one
            // OpenSSH ControlMaster: started by the first command, or up
            // before the clock starts.
            let same = sent.as_deref().unwrap_or_default();
            cold.push(self.shell_sequence(same, false)?);
            warm.push(self.shell_sequence(same, true)?);
        }
        let sent = sent.unwrap_or_default();
        if server.is_none() {
            let (s, each) = self.server_time(&sent)?;
            *server = Some((s, each, sent.len()));
        }
        let Some((server_stats, each, n_sent)) = server.as_ref() else {
            return Err("no server time".into());
        };
        let cold = stats(&cold, "the reset over a cold ControlMaster")?;
        let warm = stats(&warm, "the reset over a warm ControlMaster")?;
        let stages = dependent_stages(&sent);
        let p = stats(&pair.pix, "pix db reset")?;
        let b = stats(&pair.baseline, "the ssh-per-command reset")?;
        let bound = report::limit(handshake, plan.len() as u32, rtt, server_stats.median);
        let ratio = p.median.as_secs_f64() / bound.as_secs_f64();
        let speedup = b.median.as_secs_f64() / p.median.as_secs_f64();
        let rtt_ms = rtt.as_millis();
        let mut verdict = Verdict::at_most(ratio, 1.15, "× the limit");
        if rtt_ms >= 40 {
            verdict = verdict.and(Verdict::at_least(
                speedup,
                4.0,
                "× faster than ssh per command",
            ));
        }
        rows.push(Row {
            what: format!(
                "reset's command sequence ({} commands), `pix db reset --yes --no-backup` @ {rtt_ms} ms",
                plan.len()
            ),
            pix: format!(
                "{} — {speedup:.1}× faster; {conns} connection(s); {:.2}× faster than the same commands over a warm ControlMaster",
                p.render(),
                warm.median.as_secs_f64() / p.median.as_secs_f64()
            ),
            baseline: format!("`ssh` per command: {}", b.render()),
            target: format!(
                "≤ 1.15 × (1 handshake + {} RTT + server time) = {}{}",
                plan.len(),
                ms(bound.mul_f64(1.15)),
                if rtt_ms >= 40 { "; ≥ 4× faster" } else { "" }
            ),
            verdict,
        });
        let n = stats(&native, "pix --ssh native db reset")?;
        let n_bound = report::limit(handshake, stages, rtt, server_stats.median);
        let n_ratio = n.median.as_secs_f64() / n_bound.as_secs_f64();
        let n_vs_warm = warm.median.as_secs_f64() / n.median.as_secs_f64();
        let mut n_verdict = Verdict::at_most(n_ratio, 1.15, "× the limit");
        if rtt_ms >= 40 {
            n_verdict = n_verdict.and(Verdict::at_least(
                n_vs_warm,
                1.7,
                "× faster than the warm-ControlMaster sequence",
            ));
        }
        rows.push(Row {
            what: format!(
                "reset, native transport (`PIX_SSH=native pix db reset --yes --no-backup`) @ {rtt_ms} ms"
            ),
            pix: format!(
                "{} — {n_vs_warm:.2}× faster than the warm-ControlMaster sequence, {:.2}× the cold one, {:.1}× ssh per command; {:.2}× the OpenSSH transport's time",
                n.render(),
                cold.median.as_secs_f64() / n.median.as_secs_f64(),
                b.median.as_secs_f64() / n.median.as_secs_f64(),
                n.median.as_secs_f64() / p.median.as_secs_f64()
            ),
            baseline: format!(
                "the {n_sent} commands pix sent, one after another over one OpenSSH ControlMaster: cold (started by the first command) {}; warm (already up) {}",
                cold.render(),
                warm.render()
            ),
            target: format!(
                "≤ 1.15 × (1 handshake + {stages} RTT (one per dependent stage) + server time) = {}{}",
                ms(n_bound.mul_f64(1.15)),
                if rtt_ms >= 40 {
                    "; ≥ 1.7× faster than the warm ControlMaster"
                } else {
                    ""
                }
            ),
            verdict: n_verdict,
        });
        if rtt_ms == self.args.rtts_ms.first().copied().unwrap_or(0) as u128 {
            details.push(format!(
                "reset: pix sent {n_sent} commands over one connection (the plan's {} plus its preflight reads: {}); the emulator's own time for all of them in a row: {}",
                plan.len(),
                sent.iter().map(|a| format!("`{}`", a.join(" "))).collect::<Vec<_>>().join(", "),
                server_stats.render()
            ));
            let slow: Vec<String> = each
                .iter()
                .map(|(c, d)| format!("`{c}` {}", ms(*d)))
                .collect();
            details.push(format!(
                "emulator time per reset command (median): {}",
                slow.join(", ")
            ));
            details.push(format!(
                "reset: {stages} dependent stages in what pix sent (each write its own stage; the reads between two writes go out together: {})",
                stage_list(&sent)
            ));
        }
        Ok(())
    }

    fn status_figure(
        &self,
        rtt: Duration,
        handshake: Duration,
        server: &mut Option<ServerTime>,
        rows: &mut Vec<Row>,
        details: &mut Vec<String>,
    ) -> Result<(), String> {
        let mut native = Vec::new();
        let mut cold = Vec::new();
        let mut warm = Vec::new();
        let mut pair = Pair::default();
        let mut sent = None;
        let mut conns = 0;
        for i in 0..self.args.runs {
            let before = self.received_len()?;
            let c0 = self.connections();
            pair.pix.push(timed(
                self.pix_cmd(&["status"]).stdout(Stdio::piped()),
                "pix status",
            )?);
            conns = self.connections() - c0;
            // What pix sent (the OpenSSH run's alone; the native one sends
            // the same).
            if i == 0 {
                sent = Some(self.received_since(before)?);
            }
            native.push(timed(
                self.pix_cmd(&["status"])
                    .env("PIX_SSH", "native")
                    .stdout(Stdio::piped()),
                "pix --ssh native status",
            )?);
            let start = Instant::now();
            let list = self
                .ssh(&["apps:list"])
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("cannot run ssh: {e}"))?;
            check(&list, "ssh apps:list")?;
            let apps: Vec<String> = String::from_utf8_lossy(&list.stdout)
                .lines()
                .filter(|l| !l.starts_with("=====>") && !l.trim().is_empty())
                .map(|l| l.trim().to_string())
                .collect();
            if apps.len() != STATUS_APPS {
                return Err(format!(
                    "apps:list listed {} apps, not {STATUS_APPS}",
                    apps.len()
                ));
            }
            for app in &apps {
                let out = self
                    .ssh(&["apps:report", app])
                    .stdin(Stdio::null())
                    .output()
                    .map_err(|e| format!("cannot run ssh: {e}"))?;
                check(&out, &format!("ssh apps:report {app}"))?;
            }
            pair.baseline.push(start.elapsed());
            // The same loop as a shell script over one ControlMaster (the
            // list is read through it too, first).
            let mut loop_cmds = vec![vec!["apps:list".to_string()]];
            loop_cmds.extend(
                apps.iter()
                    .map(|a| vec!["apps:report".to_string(), a.clone()]),
            );
            cold.push(self.shell_sequence(&loop_cmds, false)?);
            warm.push(self.shell_sequence(&loop_cmds, true)?);
        }
        let cold = stats(&cold, "the status loop over a cold ControlMaster")?;
        let warm = stats(&warm, "the status loop over a warm ControlMaster")?;
        let sent = sent.unwrap_or_default();
        if server.is_none() {
            let (s, each) = self.server_time(&sent)?;
            *server = Some((s, each, sent.len()));
        }
        let Some((server_stats, each, n_sent)) = server.as_ref() else {
            return Err("no server time".into());
        };
        let p = stats(&pair.pix, "pix status")?;
        let b = stats(&pair.baseline, "the ssh loop")?;
        let bound = report::limit(handshake, 4, rtt, server_stats.median);
        let speedup = b.median.as_secs_f64() / p.median.as_secs_f64();
        let rtt_ms = rtt.as_millis();
        let mut verdict = Verdict::at_most(
            p.median.as_secs_f64() * 1000.0,
            bound.as_secs_f64() * 1000.0,
            "ms",
        );
        if rtt_ms >= 40 {
            verdict = verdict.and(Verdict::at_least(
                speedup,
                20.0,
                "× faster than the ssh loop",
            ));
        }
        rows.push(Row {
            what: format!("`pix status`, {STATUS_APPS} apps @ {rtt_ms} ms"),
            pix: format!(
                "{} — {speedup:.1}× faster; {conns} connection(s), {n_sent} commands; {:.1}× faster than the loop over a warm ControlMaster",
                p.render(),
                warm.median.as_secs_f64() / p.median.as_secs_f64()
            ),
            baseline: format!(
                "`ssh apps:list` + `ssh apps:report APP` × {STATUS_APPS}: {}",
                b.render()
            ),
            target: format!(
                "≤ 1 handshake + 4 RTT + server time = {}{}",
                ms(bound),
                if rtt_ms >= 40 {
                    "; ≥ 20× faster"
                } else {
                    ""
                }
            ),
            verdict,
        });
        let n = stats(&native, "pix --ssh native status")?;
        let n_bound = report::limit(handshake, 2, rtt, server_stats.median);
        rows.push(Row {
            what: format!("`pix status`, {STATUS_APPS} apps, native transport @ {rtt_ms} ms"),
            pix: format!(
                "{} — {:.1}× faster than the ssh loop, {:.1}× the loop over a warm ControlMaster, {:.1}× a cold one; {:.2}× the OpenSSH transport's time",
                n.render(),
                b.median.as_secs_f64() / n.median.as_secs_f64(),
                warm.median.as_secs_f64() / n.median.as_secs_f64(),
                cold.median.as_secs_f64() / n.median.as_secs_f64(),
                n.median.as_secs_f64() / p.median.as_secs_f64()
            ),
            baseline: format!(
                "the same loop over one OpenSSH ControlMaster: cold (started by `apps:list`) {}; warm (already up) {}",
                cold.render(),
                warm.render()
            ),
            target: format!("≤ 1 handshake + 2 RTT + server time = {}", ms(n_bound)),
            verdict: Verdict::at_most(
                n.median.as_secs_f64() * 1000.0,
                n_bound.as_secs_f64() * 1000.0,
                "ms",
            ),
        });
        if rtt_ms == self.args.rtts_ms.first().copied().unwrap_or(0) as u128 {
            let each: Vec<String> = each
                .iter()
                .map(|(c, d)| format!("`{c}` {}", ms(*d)))
                .collect();
            details.push(format!(
                "status: the emulator's own time for what pix sent, one after another: {} ({})",
                server_stats.render(),
                each.join(", ")
            ));
        }
        Ok(())
    }

    // ---------------------------------------------------------------- backup

    fn backup_figures(&self, rows: &mut Vec<Row>, details: &mut Vec<String>) -> Result<(), String> {
        if !Path::new("/usr/bin/time").is_file() {
            return Err("/usr/bin/time is missing: apt-get install time".into());
        }
        self.emulator_ok(&["postgres:create", BACKUP_DB])?;
        let mut sizes = self.args.backup_sizes.clone();
        sizes.sort();
        let mut rss_by_size = Vec::new();
        let rtts = self
            .args
            .backup_rtts_ms
            .clone()
            .unwrap_or_else(|| self.args.rtts_ms.clone());
        let largest = sizes.last().copied().unwrap_or(0);
        let several = sizes.len() > 1;
        for size in sizes.clone() {
            let db_size = self.fill(size)?;
            // The largest of several sizes takes minutes a run: its memory
            // and throughput at the first round trip are the figure.
            let at: Vec<u64> = if several && size == largest {
                rtts.iter().take(1).copied().collect()
            } else {
                rtts.clone()
            };
            for &rtt_ms in &at {
                self.set_rtt(Duration::from_millis(rtt_ms))?;
                let rss = self.backup_figure(size, db_size, rtt_ms, rows)?;
                rss_by_size.push((size, rtt_ms, rss));
            }
        }
        self.set_rtt(Duration::ZERO)?;
        let rss: Vec<String> = rss_by_size
            .iter()
            .map(|(s, r, (p, b))| {
                format!(
                    "{} @ {r} ms: pix {} MB (the larger of its two transports), ssh {} MB",
                    report::size_label(*s),
                    p / 1024,
                    b / 1024
                )
            })
            .collect();
        details.push(format!(
            "backup peak memory (max RSS, /usr/bin/time): {}",
            rss.join("; ")
        ));
        Ok(())
    }

    /// Runs SQL as the service's own role (as an app would: pg_dump runs as
    /// that role, so the tables must be its own).
    fn psql_bench(&self, sql: &str) -> Result<String, String> {
        let out = self.emulator_ok(&["postgres:info", BACKUP_DB, "--dsn"])?;
        let dsn = String::from_utf8_lossy(&out.stdout).trim().to_string();
        pix_sandbox::scenario::query(&self.sb, &dsn, sql)
    }

    /// Grows the backup database's one table to about `size` bytes on disk
    /// (`generate_series` inserts); returns the database's size.
    fn fill(&self, size: u64) -> Result<u64, String> {
        let database = self.backup_database_name()?;
        self.psql_bench(
            "create table if not exists filler (id bigint, a text, b text, n double precision)",
        )?;
        let current = |b: &Self| -> Result<u64, String> {
            b.psql_bench("select pg_total_relation_size('filler')")?
                .parse::<u64>()
                .map_err(|e| format!("unexpected table size: {e}"))
        };
        let mut have = current(self)?;
        eprintln!("bench: filling {database} to {}", bytes(size));
        // ~150 bytes a row on disk: two md5 texts, a bigint and a double.
        while have < size {
            let rows = ((size - have) / 150).clamp(1_000, 1_000_000);
            self.psql_bench(&format!(
                "insert into filler select i, md5(i::text), md5((i * 31)::text) || md5((i * 7)::text), random() \
                 from generate_series((select coalesce(max(id), 0) + 1 from filler), (select coalesce(max(id), 0) + {rows} from filler)) i"
            ))?;
            have = current(self)?;
        }
        self.psql_bench("vacuum analyze filler")?;
        let db = self
            .psql_bench(&format!("select pg_database_size('{database}')"))?
            .parse::<u64>()
            .map_err(|e| format!("unexpected database size: {e}"))?;
        Ok(db)
    }

    fn backup_database_name(&self) -> Result<String, String> {
        let name = self.psql_bench("select current_database()")?;
        if name.is_empty() {
            return Err("psql printed no database name".into());
        }
        Ok(name)
    }

    /// Runs the backup figure; returns the max RSS (kB) of pix and of ssh.
    fn backup_figure(
        &self,
        size: u64,
        db_size: u64,
        rtt_ms: u64,
        rows: &mut Vec<Row>,
    ) -> Result<(u64, u64), String> {
        let backups = self.work.join("backups");
        let baseline_file = self.work.join("baseline.dump");
        let mut pair = Pair::default();
        let mut native = Vec::new();
        let (mut pix_rss, mut ssh_rss, mut native_rss) = (0u64, 0u64, 0u64);
        let mut archive = 0u64;
        let mut native_archive = 0u64;
        let mut baseline_bytes = 0u64;
        let rss_file = self.work.join("rss.txt");
        // `pix db backup` under /usr/bin/time, on one transport.
        let pix_backup = |transport: &str| -> Command {
            let _ = std::fs::remove_dir_all(&backups);
            let mut cmd = Command::new("/usr/bin/time");
            cmd.arg("-f")
                .arg("%M")
                .arg("-o")
                .arg(&rss_file)
                .arg(self.pix);
            cmd.arg("--config")
                .arg(&self.toml)
                .args(["db", "backup", BACKUP_DB, "--backups-dir"])
                .arg(&backups)
                .current_dir(&self.work)
                .env("NO_COLOR", "1")
                .env("PIX_SSH", transport);
            cmd
        };
        for _ in 0..self.args.runs {
            pair.pix
                .push(timed(&mut pix_backup("openssh"), "pix db backup")?);
            pix_rss = pix_rss.max(read_rss(&rss_file)?);
            archive = newest_file_size(&backups)?;
            native.push(timed(
                &mut pix_backup("native"),
                "PIX_SSH=native pix db backup",
            )?);
            native_rss = native_rss.max(read_rss(&rss_file)?);
            native_archive = newest_file_size(&backups)?;

            let file = std::fs::File::create(&baseline_file)
                .map_err(|e| format!("cannot create {}: {e}", baseline_file.display()))?;
            let mut cmd = Command::new("/usr/bin/time");
            cmd.arg("-f").arg("%M").arg("-o").arg(&rss_file);
            let ssh = self.ssh(&["postgres:export", BACKUP_DB]);
            cmd.arg(ssh.get_program()).args(ssh.get_args()).stdout(file);
            pair.baseline
                .push(timed(&mut cmd, "ssh postgres:export > file")?);
            ssh_rss = ssh_rss.max(read_rss(&rss_file)?);
            baseline_bytes = std::fs::metadata(&baseline_file)
                .map(|m| m.len())
                .unwrap_or(0);
        }
        let _ = std::fs::remove_file(&baseline_file);
        let _ = std::fs::remove_dir_all(&backups);
        let p = stats(&pair.pix, "pix db backup")?;
        let b = stats(&pair.baseline, "ssh postgres:export")?;
        let pix_tp = mb_per_s(archive, p.median);
        let ssh_tp = mb_per_s(baseline_bytes, b.median);
        let ratio = if ssh_tp > 0.0 { pix_tp / ssh_tp } else { 0.0 };
        rows.push(Row {
            what: format!(
                "`pix db backup`, database of {} ({} on disk, archive {}) @ {rtt_ms} ms",
                report::size_label(size),
                bytes(db_size),
                bytes(archive)
            ),
            pix: format!(
                "{} → {pix_tp:.1} MB/s archive; max RSS {} MB",
                p.render(),
                pix_rss / 1024
            ),
            baseline: format!(
                "`ssh postgres:export DB > file`: {} → {ssh_tp:.1} MB/s; max RSS {} MB",
                b.render(),
                ssh_rss / 1024
            ),
            target: "throughput ≥ 0.9× baseline; peak memory ≤ 32 MB".into(),
            verdict: Verdict::at_least(ratio, 0.9, "× the baseline's throughput")
                .and(Verdict::at_most(pix_rss as f64 / 1024.0, 32.0, "MB RSS")),
        });
        let n = stats(&native, "PIX_SSH=native pix db backup")?;
        let native_tp = mb_per_s(native_archive, n.median);
        let n_ratio = if ssh_tp > 0.0 {
            native_tp / ssh_tp
        } else {
            0.0
        };
        rows.push(Row {
            what: format!(
                "`pix db backup`, native transport, database of {} (archive {}) @ {rtt_ms} ms",
                report::size_label(size),
                bytes(native_archive)
            ),
            pix: format!(
                "{} → {native_tp:.1} MB/s archive; max RSS {} MB",
                n.render(),
                native_rss / 1024
            ),
            baseline: format!(
                "`ssh postgres:export DB > file`: {} → {ssh_tp:.1} MB/s; max RSS {} MB",
                b.render(),
                ssh_rss / 1024
            ),
            target: "throughput ≥ 0.9× baseline; peak memory ≤ 32 MB".into(),
            verdict: Verdict::at_least(n_ratio, 0.9, "× the baseline's throughput")
                .and(Verdict::at_most(native_rss as f64 / 1024.0, 32.0, "MB RSS")),
        });
        Ok((pix_rss.max(native_rss), ssh_rss))
    }
}

/// Dokku commands that only read (pix sends the reads between two writes
/// together, so they make one stage).
fn is_read(argv: &[String]) -> bool {
    let name = argv.first().map(String::as_str).unwrap_or("");
    name == "version"
        || name.ends_with(":report")
        || name.ends_with(":exists")
        || name.ends_with(":linked")
        || name.ends_with(":locked")
        || name.ends_with(":info")
        || name.ends_with(":list")
        || name == "config:get"
}

/// The stages of a command sequence: each write alone, each run of reads
/// between writes together.
fn stages_of(commands: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut reads_open = false;
    for argv in commands {
        let name = argv.first().cloned().unwrap_or_default();
        if is_read(argv) {
            match out.last_mut() {
                Some(stage) if reads_open => stage.push(name),
                _ => out.push(vec![name]),
            }
            reads_open = true;
        } else {
            out.push(vec![name]);
            reads_open = false;
        }
    }
    out
}

/// How many round trips a client that joins independent reads needs at
/// least (one per stage).
fn dependent_stages(commands: &[Vec<String>]) -> u32 {
    u32::try_from(stages_of(commands).len()).unwrap_or(u32::MAX)
}

/// The stages, for the details: `[version, apps:locked, ...] → [apps:lock] → ...`.
fn stage_list(commands: &[Vec<String>]) -> String {
    stages_of(commands)
        .iter()
        .map(|s| format!("[{}]", s.join(", ")))
        .collect::<Vec<_>>()
        .join(" → ")
}

fn read_rss(path: &Path) -> Result<u64, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    // /usr/bin/time may put "Command exited ..." first; the figure is last.
    text.lines()
        .filter_map(|l| l.trim().parse::<u64>().ok())
        .next_back()
        .ok_or_else(|| format!("no max RSS in {}: {text}", path.display()))
}

fn newest_file_size(dir: &Path) -> Result<u64, String> {
    fn walk(dir: &Path, best: &mut Option<(std::time::SystemTime, u64)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                walk(&path, best);
            } else if let Ok(m) = e.metadata() {
                let t = m.modified().unwrap_or(std::time::UNIX_EPOCH);
                if best.is_none_or(|(bt, _)| t >= bt) {
                    *best = Some((t, m.len()));
                }
            }
        }
    }
    let mut best = None;
    walk(dir, &mut best);
    best.map(|(_, len)| len)
        .ok_or_else(|| format!("pix db backup wrote nothing under {}", dir.display()))
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

    #[test]
    fn the_reset_has_one_stage_per_write_and_per_run_of_reads() {
        let cmds: Vec<Vec<String>> = [
            "version",
            "apps:locked a",
            "apps:exists a",
            "apps:lock a",
            "ps:stop a",
            "postgres:create db",
            "postgres:info db",
            "config:get a DATABASE_URL",
            "apps:unlock a",
        ]
        .iter()
        .map(|l| l.split(' ').map(str::to_string).collect())
        .collect();
        assert_eq!(dependent_stages(&cmds), 6);
        assert!(stage_list(&cmds).starts_with("[version, apps:locked, apps:exists] → [apps:lock]"));
    }

    #[test]
    fn reads_time_output() {
        let dir = std::env::temp_dir().join(format!("pix-bench-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("rss");
        std::fs::write(&f, "Command exited with non-zero status 1\n23456\n").unwrap();
        assert_eq!(read_rss(&f).unwrap(), 23456);
        std::fs::write(&f, "nothing\n").unwrap();
        assert!(read_rss(&f).is_err());
        let sub = dir.join("b/development");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join("x.dump"), vec![0u8; 42]).unwrap();
        assert_eq!(newest_file_size(&dir.join("b")).unwrap(), 42);
        assert!(newest_file_size(&dir.join("none")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
