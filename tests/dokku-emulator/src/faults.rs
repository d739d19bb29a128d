//! The received-command log and faults on demand (contract).

use std::io::Write;
use std::os::fd::AsFd;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::contract::{self, Fault, ReceivedCommand};

/// Appends one [`ReceivedCommand`] line to `received.jsonl` (one `write` call
/// on an `O_APPEND` file, so concurrent invocations do not interleave).
pub(crate) fn record(root: &Path, ssh: Option<Vec<u8>>, argv: &[String]) {
    let rec = ReceivedCommand {
        ssh_original_command: ssh,
        argv: argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
    };
    if let Ok(mut line) = serde_json::to_vec(&rec) {
        line.push(b'\n');
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(root.join(contract::RECEIVED_FILE))
        {
            let _ = f.write_all(&line);
        }
    }
}

/// True when a fault applies to `argv` (global flags removed).
pub(crate) fn matches(fault: &Fault, argv: &[String]) -> bool {
    argv.join(" ").starts_with(&fault.matches)
}

/// Finds the first matching fault (files in name order), claims it by
/// renaming, puts back a copy with `times - 1` when uses remain, and returns it.
pub(crate) fn claim(root: &Path, argv: &[String]) -> Option<Fault> {
    let dir = root.join(contract::FAULTS_DIR);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
        .collect();
    names.sort();
    for name in names {
        let path = dir.join(&name);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let Ok(fault) = serde_json::from_slice::<Fault>(&bytes) else {
            continue;
        };
        if fault.times == 0 || !matches(&fault, argv) {
            continue;
        }
        let claimed = dir.join(format!(".{name}.claimed.{}", std::process::id()));
        if std::fs::rename(&path, &claimed).is_err() {
            continue; // another invocation took it
        }
        // Re-read what we claimed (it may have changed since the first read).
        let fault: Fault = match std::fs::read(&claimed)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
        {
            Some(f) => f,
            None => fault,
        };
        if fault.times > 1 {
            let rest = Fault {
                times: fault.times - 1,
                ..fault.clone()
            };
            if let Ok(text) = serde_json::to_vec(&rest) {
                let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
                if std::fs::write(&tmp, text).is_ok() {
                    let _ = std::fs::rename(&tmp, &path);
                }
            }
        }
        let _ = std::fs::remove_file(&claimed);
        return Some(fault);
    }
    None
}

/// True when the reader of stdout has gone away (stdin is not watched: a
/// client that sends EOF on stdin is still there).
pub(crate) fn client_gone() -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let stdout = std::io::stdout();
    let mut fds = [PollFd::new(stdout.as_fd(), PollFlags::empty())];
    match poll(&mut fds, PollTimeout::ZERO) {
        Ok(n) if n > 0 => fds.iter().any(|f| {
            f.revents().is_some_and(|r| {
                r.intersects(PollFlags::POLLHUP | PollFlags::POLLERR | PollFlags::POLLNVAL)
            })
        }),
        _ => false,
    }
}

/// Sleeps up to `seconds`, returning early when the client goes away.
pub(crate) fn hang(seconds: u64) {
    let end = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < end {
        if client_gone() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The malicious-server fault: writes `stdout` `repeat` times (forever when
/// `None`; [`Io::out_bytes`](super::Io) exits when the client goes away),
/// then `stderr`, and returns `code`. Undecodable base64 is written as is.
pub(crate) fn respond(
    io: &mut super::Io,
    stdout_b64: &str,
    stderr_b64: &str,
    code: i32,
    repeat: Option<u64>,
) -> i32 {
    use base64::Engine;
    let decode = |text: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap_or_else(|_| text.as_bytes().to_vec())
    };
    let out = decode(stdout_b64);
    let err = decode(stderr_b64);
    match repeat {
        Some(n) => {
            for _ in 0..n {
                io.out_bytes(&out);
            }
        }
        None if out.is_empty() => {}
        None => loop {
            io.out_bytes(&out);
        },
    }
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(&err);
    let _ = stderr.flush();
    code
}

/// `(comm, ppid)` of a process from `/proc/<pid>/stat`.
fn proc_stat(pid: i32) -> Option<(String, i32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_owned();
    let ppid = text.get(close + 2..)?.split(' ').nth(1)?.parse().ok()?;
    Some((comm, ppid))
}

/// Cuts the SSH connection: SIGKILL to the nearest ancestor whose name starts
/// with `sshd`; then exits (255) in any case.
pub(crate) fn drop_connection() -> ! {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let mut pid = std::os::unix::process::parent_id() as i32;
    for _ in 0..32 {
        let Some((comm, ppid)) = proc_stat(pid) else {
            break;
        };
        if comm.starts_with("sshd") {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            break;
        }
        if ppid <= 1 {
            break;
        }
        pid = ppid;
    }
    std::process::exit(255)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::FaultAction;

    #[test]
    fn claim_consumes_times_and_matches_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let faults = dir.path().join(contract::FAULTS_DIR);
        std::fs::create_dir_all(&faults).unwrap();
        let f = Fault {
            matches: "apps:list".into(),
            action: FaultAction::Exit {
                code: 7,
                stderr: "boom\n".into(),
            },
            times: 2,
        };
        std::fs::write(faults.join("a.json"), serde_json::to_vec(&f).unwrap()).unwrap();
        let argv = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        assert!(claim(dir.path(), &argv("config:show x")).is_none());
        assert_eq!(claim(dir.path(), &argv("apps:list")).unwrap().times, 2);
        assert_eq!(
            claim(dir.path(), &argv("apps:list --format json"))
                .unwrap()
                .times,
            1
        );
        assert!(claim(dir.path(), &argv("apps:list")).is_none());
        assert_eq!(std::fs::read_dir(&faults).unwrap().count(), 0);
    }

    #[test]
    fn stat_parses_self() {
        let (comm, ppid) = proc_stat(std::process::id() as i32).unwrap();
        assert!(!comm.is_empty());
        assert!(ppid > 0);
    }
}
