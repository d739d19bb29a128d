//! The sandbox figures' common ground: the sandbox (with the delaying
//! proxy) set up with the environment's app and 99 more, the emulator run
//! directly (the server's own time), what it received, and the order of the
//! figures at each round trip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use pix_sandbox::contract::read_received;
use pix_sandbox::sandbox::{Sandbox, SandboxOptions};

use super::measure::{check, stats, tempfile_path};
use super::BenchArgs;
use crate::bench_report::{Row, Stats};

/// The pix.toml environment the figures use.
pub(super) const ENV: &str = "development";
/// Its app (deployed: the reset checks it runs again).
pub(super) const APP: &str = "api-development";
/// Its Postgres service.
pub(super) const DB: &str = "pg-development";
/// The service the backup figure fills and exports.
pub(super) const BACKUP_DB: &str = "pg-bench";
/// Apps on the host for the status figure (the environment's app included).
pub(super) const STATUS_APPS: usize = 100;

pub(super) struct SandboxBench<'a> {
    pub(super) sb: Sandbox,
    pub(super) work: PathBuf,
    pub(super) toml: PathBuf,
    pub(super) pix: &'a Path,
    pub(super) args: &'a BenchArgs,
}

impl Drop for SandboxBench<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.work);
    }
}

/// The server's own time for what pix sent: the whole sequence, each
/// command's median, and how many commands.
pub(super) type ServerTime = (Stats, Vec<(String, Duration)>, usize);

/// One figure's runs: pix's, the baseline's (interleaved).
#[derive(Default)]
pub(super) struct Pair {
    pub(super) pix: Vec<Duration>,
    pub(super) baseline: Vec<Duration>,
}

impl<'a> SandboxBench<'a> {
    pub(super) fn start(
        pix: &'a Path,
        emulator: &Path,
        args: &'a BenchArgs,
    ) -> Result<Self, String> {
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
    pub(super) fn emulator(&self, argv: &[&str]) -> Command {
        let mut cmd = Command::new(self.sb.emulator_bin());
        cmd.arg("--root").arg(self.sb.root()).args(argv);
        self.sb.login_user().apply(&mut cmd);
        cmd.stdin(Stdio::null());
        cmd
    }

    pub(super) fn emulator_ok(&self, argv: &[&str]) -> Result<Output, String> {
        let what = format!("dokku-emulator {}", argv.join(" "));
        let out = self
            .emulator(argv)
            .output()
            .map_err(|e| format!("cannot run {what}: {e}"))?;
        check(&out, &what)?;
        Ok(out)
    }

    pub(super) fn pix_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.pix);
        cmd.arg("--config")
            .arg(&self.toml)
            .args(args)
            .current_dir(&self.work)
            .env("NO_COLOR", "1");
        cmd
    }

    pub(super) fn ssh(&self, argv: &[&str]) -> Command {
        let mut cmd = self.sb.ssh_command();
        cmd.args(argv);
        cmd
    }

    pub(super) fn set_rtt(&self, rtt: Duration) -> Result<(), String> {
        self.sb
            .proxy()
            .ok_or("the sandbox has no proxy")?
            .set_round_trip_delay(rtt);
        Ok(())
    }

    pub(super) fn connections(&self) -> usize {
        self.sb.proxy().map(|p| p.connections()).unwrap_or(0)
    }

    pub(super) fn received_len(&self) -> Result<usize, String> {
        read_received(self.sb.root())
            .map(|r| r.len())
            .map_err(|e| format!("cannot read what the emulator received: {e}"))
    }

    /// The argv of every command received since `from`.
    pub(super) fn received_since(&self, from: usize) -> Result<Vec<Vec<String>>, String> {
        let all = read_received(self.sb.root())
            .map_err(|e| format!("cannot read what the emulator received: {e}"))?;
        Ok(all.iter().skip(from).map(|r| r.argv_lossy()).collect())
    }

    /// The server's own time for a sequence of commands: each run directly,
    /// in order; `runs` times. Returns the sequence's stats and each
    /// command's median.
    pub(super) fn server_time(
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

    pub(super) fn run(
        &mut self,
        rows: &mut Vec<Row>,
        details: &mut Vec<String>,
    ) -> Result<(), String> {
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

    pub(super) fn reset_plan(&self) -> Result<Vec<Vec<String>>, String> {
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
}
