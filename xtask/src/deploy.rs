//! `cargo xtask deploy-<env>` and `cargo xtask deploy <env>`: the infra
//! Makefile's `deploy-api-*` rules and the npm-era `deploy:*` scripts, now
//! `pix deploy <env>` (a fast-forward deploy of the environment's folder).
//!
//! `pix` is built and run from the repository root (see
//! [`crate::reset::pix_command`]), so the repository's `pix.toml` and git
//! work tree are used; every flag after the environment goes to
//! `pix deploy` (`--dry-run`, `--yes`, `--confirm NAME`, `--rev REV`,
//! `--rebuild`, `--json`). `pix`'s exit code is kept, so CI can tell a
//! failed build (7) from a rejected push (8).

/// The environment named by a `deploy-<env>` command, if it is one
/// (`deploy-development`, `deploy-production`, `deploy-branch`).
pub(crate) fn environment_of(command: &str) -> Option<&str> {
    command
        .strip_prefix("deploy-")
        .filter(|env| !env.is_empty())
}

/// Runs `pix deploy <env> ARGS...`; `Ok(code)` is pix's exit code.
pub(crate) fn run(environment: &str, args: &[String]) -> Result<i32, String> {
    if environment.starts_with('-') {
        return Err(format!(
            "`{environment}` is not an environment: use `cargo xtask deploy <env> [flags]`"
        ));
    }
    crate::reset::run_pix(crate::reset::pix_command()?, &["deploy", environment], args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makefile_names_map_to_environments() {
        assert_eq!(environment_of("deploy-development"), Some("development"));
        assert_eq!(environment_of("deploy-production"), Some("production"));
        assert_eq!(environment_of("deploy-branch"), Some("branch"));
        assert_eq!(environment_of("deploy-"), None);
        assert_eq!(environment_of("deploy"), None);
        assert_eq!(environment_of("reset-database-development"), None);
    }

    #[test]
    fn a_flag_is_not_an_environment() {
        let e = run("--yes", &[]).unwrap_err();
        assert!(e.contains("deploy <env>"), "{e}");
    }
}
