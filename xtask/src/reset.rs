//! `cargo xtask reset-database-<env>` and `cargo xtask reset-database <env>`:
//! the infra Makefile's rules, now the safe reset of `pix db reset`.
//!
//! The work is done by the `pix` binary (built here, run from the repository
//! root so the repository's `pix.toml` is found); every flag after the
//! environment goes to `pix db reset` (`--dry-run`, `--yes`, `--confirm NAME`,
//! `--resume`, `--in-place`, `--json`, `--no-backup`, `--backups-dir DIR`).
//! `pix`'s exit code is kept (as for `deploy`), so a script can tell a
//! refusal (4) or a half-done reset from a transport failure.

use std::process::{Command, ExitStatus};

/// The environment named by a `reset-database-<env>` command, if it is one.
pub(crate) fn environment_of(command: &str) -> Option<&str> {
    command
        .strip_prefix("reset-database-")
        .filter(|env| !env.is_empty())
}

/// Runs `pix db reset <env> ARGS...`; `Ok(code)` is pix's exit code.
pub(crate) fn run(environment: &str, args: &[String]) -> Result<i32, String> {
    if environment.starts_with('-') {
        return Err(format!(
            "`{environment}` is not an environment: use `cargo xtask reset-database <env> [flags]`"
        ));
    }
    run_pix(pix_command()?, &["db", "reset", environment], args)
}

/// Runs `pix` (`cmd`) with `words` then `args`; `Ok(code)` is its exit code
/// (see [`exit_code`]). Every xtask wrapper of pix goes through here.
pub(crate) fn run_pix(mut cmd: Command, words: &[&str], args: &[String]) -> Result<i32, String> {
    let status = cmd
        .args(words)
        .args(args)
        .status()
        .map_err(|e| format!("cannot run pix: {e}"))?;
    Ok(exit_code(status))
}

/// pix's exit code; killed by a signal, 128 + the signal's number (as a
/// shell reports it).
pub(crate) fn exit_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        (None, None) => 1,
    }
}

/// Builds `pix` and returns a command that runs it from the repository root.
pub(crate) fn pix_command() -> Result<Command, String> {
    let status = crate::cargo()
        .args(["build", "--quiet", "-p", "pix-cli", "--bin", "pix"])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("building pix failed ({status})"));
    }
    let mut cmd = Command::new(pix_binary());
    cmd.current_dir(crate::repo_root());
    Ok(cmd)
}

/// Where `cargo build -p pix-cli` put `pix`: next to this xtask binary.
pub(crate) fn pix_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    exe.with_file_name("pix")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makefile_names_map_to_environments() {
        assert_eq!(
            environment_of("reset-database-development"),
            Some("development")
        );
        assert_eq!(
            environment_of("reset-database-production"),
            Some("production")
        );
        assert_eq!(environment_of("reset-database-"), None);
        assert_eq!(environment_of("reset-database"), None);
        assert_eq!(environment_of("demo"), None);
    }

    #[test]
    fn a_flag_is_not_an_environment() {
        let e = run("--yes", &[]).unwrap_err();
        assert!(e.contains("reset-database <env>"), "{e}");
    }

    /// A stand-in for pix: checks the words it gets, exits with `code`.
    fn fake_pix(expected: &str, code: i32) -> Command {
        let mut cmd = Command::new("/bin/sh");
        cmd.args([
            "-c",
            &format!("[ \"$*\" = {expected:?} ] || exit 99; exit {code}"),
            "pix",
        ]);
        cmd
    }

    #[test]
    fn the_wrapper_exits_with_pix_s_code() {
        let args = ["--resume".to_string(), "--yes".to_string()];
        for code in [0, 1, 4, 7, 8] {
            let got = run_pix(
                fake_pix("db reset development --resume --yes", code),
                &["db", "reset", "development"],
                &args,
            )
            .unwrap();
            assert_eq!(got, code);
        }
    }

    #[test]
    fn a_pix_killed_by_a_signal_is_128_plus_the_signal() {
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "kill -9 $$", "pix"]);
        assert_eq!(run_pix(cmd, &[], &[]).unwrap(), 128 + 9);
    }
}
