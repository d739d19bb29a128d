//! Process liveness through `/proc` (the app processes the emulator runs).

/// Whether `pid` is alive: `/proc/PID/stat` exists and its state (the field
/// after the parenthesised command name) is neither zombie nor dead.
pub(crate) fn is_alive(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let Some(close) = stat.rfind(')') else {
        return false;
    };
    !matches!(
        stat[close + 1..].split_whitespace().next(),
        Some("Z" | "X") | None
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn self_is_alive() {
        assert!(super::is_alive(std::process::id() as i32));
        assert!(!super::is_alive(i32::MAX));
    }
}
