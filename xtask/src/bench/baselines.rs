//! The baselines: what people use today, `ssh` per Dokku command, cold
//! (one connection each, or a ControlMaster the first command starts) and
//! warm (a ControlMaster already up), and one SSH connection's own cost.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::measure::{stats, timed};
use super::sandbox::SandboxBench;
use crate::bench_report::{ms, Stats};

impl SandboxBench<'_> {
    /// One SSH connection's cost: `ssh HOST version`, minus the emulator's
    /// own time for `version` and one round trip.
    pub(super) fn handshake(
        &self,
        rtt: Duration,
        details: &mut Vec<String>,
    ) -> Result<Duration, String> {
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
    pub(super) fn ssh_via(
        &self,
        socket: &Path,
        master: &str,
        extra: &[&str],
        argv: &[&str],
    ) -> Command {
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
    pub(super) fn start_master(&self, socket: &Path) -> Result<std::process::Child, String> {
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
    pub(super) fn stop_master(&self, socket: &Path) {
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
    pub(super) fn shell_sequence(
        &self,
        commands: &[Vec<String>],
        warm: bool,
    ) -> Result<Duration, String> {
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
    pub(super) fn command_on_open_connection(&self) -> Result<Stats, String> {
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
}
