//! Finding and ending the sandbox's processes through `/proc`.
//!
//! sshd puts each connection in its own session and the emulator starts app
//! processes in their own process groups, so killing one process group is not
//! enough. A process belongs to the sandbox when it descends from one of the
//! sandbox's own children (sshd, postgres), or when its command line, working
//! directory or executable names the sandbox's directory (the emulator binary
//! is copied there, app trees live there).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;

/// One live process as read from `/proc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcInfo {
    /// Process id.
    pub pid: i32,
    /// Parent process id.
    pub ppid: i32,
    /// Process group id.
    pub pgid: i32,
    /// Whether it is a zombie (exited, not yet reaped).
    pub zombie: bool,
}

/// Parses the fields after the command name in `/proc/PID/stat`.
pub fn parse_stat(stat: &str) -> Option<ProcInfo> {
    let pid: i32 = stat.split_whitespace().next()?.parse().ok()?;
    // The command name is in parentheses and may contain spaces or ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgid = fields.next()?.parse().ok()?;
    Some(ProcInfo {
        pid,
        ppid,
        pgid,
        zombie: state == "Z" || state == "X",
    })
}

/// Every process visible in `/proc`.
pub fn all_processes() -> Vec<ProcInfo> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter_map(|s| parse_stat(&s))
        .collect()
}

/// Whether `pid` is alive (exists and is not a zombie).
pub fn is_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| parse_stat(&s))
        .is_some_and(|p| !p.zombie)
}

/// Whether the process's command line, working directory or executable
/// names `dir`.
pub fn refers_to(pid: i32, dir: &Path) -> bool {
    let dir_bytes = dir.as_os_str().as_encoded_bytes();
    if let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) {
        if cmdline.windows(dir_bytes.len()).any(|w| w == dir_bytes) {
            return true;
        }
    }
    for link in ["cwd", "exe"] {
        if let Ok(target) = std::fs::read_link(format!("/proc/{pid}/{link}")) {
            if target.starts_with(dir) {
                return true;
            }
        }
    }
    false
}

/// The live processes that belong to a sandbox: descendants of `roots`
/// (included), and processes referring to `dir`. Never the calling process.
pub fn sandbox_processes(roots: &[i32], dir: &Path) -> BTreeSet<i32> {
    let me = std::process::id() as i32;
    let procs = all_processes();
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for p in &procs {
        children.entry(p.ppid).or_default().push(p.pid);
    }
    let live: BTreeSet<i32> = procs.iter().filter(|p| !p.zombie).map(|p| p.pid).collect();
    let mut found = BTreeSet::new();
    let mut stack: Vec<i32> = roots.iter().copied().filter(|p| *p > 1).collect();
    while let Some(pid) = stack.pop() {
        if found.insert(pid) {
            stack.extend(children.get(&pid).into_iter().flatten().copied());
        }
    }
    for p in &procs {
        if !p.zombie && p.pid != me && !found.contains(&p.pid) && refers_to(p.pid, dir) {
            found.insert(p.pid);
            stack.push(p.pid);
        }
    }
    while let Some(pid) = stack.pop() {
        for c in children.get(&pid).into_iter().flatten() {
            if found.insert(*c) {
                stack.push(*c);
            }
        }
    }
    found.remove(&me);
    found.retain(|p| live.contains(p));
    found
}

/// The live descendants of `roots` (included), found in one scan.
pub fn descendants(roots: &[i32]) -> BTreeSet<i32> {
    let procs = all_processes();
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for p in &procs {
        children.entry(p.ppid).or_default().push(p.pid);
    }
    let mut found = BTreeSet::new();
    let mut stack: Vec<i32> = roots.iter().copied().filter(|p| *p > 1).collect();
    while let Some(pid) = stack.pop() {
        if found.insert(pid) {
            stack.extend(children.get(&pid).into_iter().flatten().copied());
        }
    }
    let live: BTreeSet<i32> = procs.iter().filter(|p| !p.zombie).map(|p| p.pid).collect();
    found.retain(|p| live.contains(p) && *p != std::process::id() as i32);
    found
}

/// Sends SIGKILL to a process group (errors ignored: it may be gone).
pub fn kill_group(pgid: i32) {
    if pgid > 1 {
        let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
    }
}

/// Sends SIGKILL to a process (errors ignored: it may be gone).
pub fn kill_pid(pid: i32) {
    if pid > 1 && pid != std::process::id() as i32 {
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

/// Kills everything that belongs to the sandbox until nothing is left or
/// `timeout` passes; returns what was still alive at the end.
pub fn sweep(roots: &[i32], dir: &Path, timeout: Duration) -> BTreeSet<i32> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = sandbox_processes(roots, dir);
        if left.is_empty() || Instant::now() >= deadline {
            return left;
        }
        for pid in &left {
            kill_pid(*pid);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Process group ids listed in `<root>/run/*.pid` by the emulator.
pub fn pid_files(run_dir: &Path) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir(run_dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "pid"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .filter_map(|t| t.trim().parse::<i32>().ok())
        .filter(|p| *p > 1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_awkward_names() {
        let p = parse_stat("123 (a b) c) S 45 67 67 0 -1").unwrap();
        assert_eq!((p.pid, p.ppid, p.pgid, p.zombie), (123, 45, 67, false));
        let z = parse_stat("9 (sh) Z 1 9 9").unwrap();
        assert!(z.zombie);
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn finds_and_kills_a_child_tree_and_processes_in_a_dir() {
        let dir = tempfile::tempdir().unwrap();
        use std::os::unix::process::CommandExt;
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg("sleep 300 & sleep 301")
            .process_group(0)
            .spawn()
            .unwrap();
        let mut other = std::process::Command::new("sleep")
            .arg("302")
            .current_dir(dir.path())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let found = sandbox_processes(&[child.id() as i32], dir.path());
        assert!(found.contains(&(child.id() as i32)));
        assert!(found.contains(&(other.id() as i32)), "{found:?}");
        assert!(found.len() >= 4, "{found:?}");
        let left = sweep(&[child.id() as i32], dir.path(), Duration::from_secs(5));
        // The direct children are zombies until waited for, and zombies do not count.
        assert!(left.is_empty(), "{left:?}");
        child.wait().unwrap();
        other.wait().unwrap();
    }

    #[test]
    fn reads_pid_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("web.pid"), "4242\n").unwrap();
        std::fs::write(dir.path().join("bad.pid"), "x").unwrap();
        std::fs::write(dir.path().join("one.pid"), "1").unwrap();
        std::fs::write(dir.path().join("note.txt"), "77").unwrap();
        assert_eq!(pid_files(dir.path()), vec![4242]);
        assert!(pid_files(&dir.path().join("nope")).is_empty());
    }
}
