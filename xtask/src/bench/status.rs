//! The status figure: `pix status` on 100 apps against `ssh apps:report
//! APP` in a loop.

use std::process::Stdio;
use std::time::{Duration, Instant};

use super::measure::{check, stats, timed};
use super::sandbox::{Pair, SandboxBench, ServerTime, STATUS_APPS};
use crate::bench_report::{self as report, ms, Row, Verdict};

impl SandboxBench<'_> {
    pub(super) fn status_figure(
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
}
