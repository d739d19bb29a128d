//! The backup figures: `pix db backup` against `ssh postgres:export DB >
//! file` at each size and round trip, with peak memory from
//! `/usr/bin/time`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::measure::{stats, timed};
use super::sandbox::{Pair, SandboxBench, BACKUP_DB};
use crate::bench_report::{self as report, bytes, mb_per_s, Row, Verdict};

impl SandboxBench<'_> {
    pub(super) fn backup_figures(
        &self,
        rows: &mut Vec<Row>,
        details: &mut Vec<String>,
    ) -> Result<(), String> {
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
    pub(super) fn psql_bench(&self, sql: &str) -> Result<String, String> {
        let out = self.emulator_ok(&["postgres:info", BACKUP_DB, "--dsn"])?;
        let dsn = String::from_utf8_lossy(&out.stdout).trim().to_string();
        pix_sandbox::scenario::query(&self.sb, &dsn, sql)
    }

    /// Grows the backup database's one table to about `size` bytes on disk
    /// (`generate_series` inserts); returns the database's size.
    pub(super) fn fill(&self, size: u64) -> Result<u64, String> {
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

    pub(super) fn backup_database_name(&self) -> Result<String, String> {
        let name = self.psql_bench("select current_database()")?;
        if name.is_empty() {
            return Err("psql printed no database name".into());
        }
        Ok(name)
    }

    /// Runs the backup figure; returns the max RSS (kB) of pix and of ssh.
    pub(super) fn backup_figure(
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
