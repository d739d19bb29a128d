//! `cargo xtask reset-database-<env>` and `cargo xtask reset-database <env>`:
//! the infra Makefile's rules, now the safe reset of `pix db reset`.
//!
//! The work is done by the `pix` binary (built here, run from the repository
//! root so the repository's `pix.toml` is found); every flag after the
//! environment goes to `pix db reset` (`--dry-run`, `--yes`, `--confirm NAME`,
//! `--resume`, `--in-place`, `--json`, `--no-backup`, `--backups-dir DIR`).

use std::process::Command;

/// The environment named by a `reset-database-<env>` command, if it is one.
pub(crate) fn environment_of(command: &str) -> Option<&str> {
    command
        .strip_prefix("reset-database-")
        .filter(|env| !env.is_empty())
}

/// Runs `pix db reset <env> ARGS...` and returns its failure, if any.
pub(crate) fn run(environment: &str, args: &[String]) -> Result<(), String> {
    if environment.starts_with('-') {
        return Err(format!(
            "`{environment}` is not an environment: use `cargo xtask reset-database <env> [flags]`"
        ));
    }
    let status = pix_command()?
        .args(["db", "reset", environment])
        .args(args)
        .status()
        .map_err(|e| format!("cannot run pix: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("pix db reset {environment} failed ({status})"))
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
}
