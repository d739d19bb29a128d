//! The reset figure: `pix db reset`'s command sequence against the same
//! commands by `ssh`, with the least round trips a client that joins
//! independent reads needs (its stages).

use std::process::Stdio;
use std::time::{Duration, Instant};

use super::measure::{check, stats, timed};
use super::sandbox::{Pair, SandboxBench, ServerTime, ENV};
use crate::bench_report::{self as report, ms, Row, Verdict};

impl SandboxBench<'_> {
    pub(super) fn reset_figure(
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
