//! `cargo xtask`: the project's automation (few dependencies, plain std).
//!
//! - `cargo xtask test [ARGS...]`: installs what the sandbox needs when it is
//!   missing (as root), then runs the whole test suite (`cargo test
//!   --workspace`, doc tests included); extra arguments go to `cargo test`.
//! - `cargo xtask e2e [--host H --port P --user U --key K --known-hosts F]
//!   [--yes]`: the end-to-end suite against a real Dokku host (also from
//!   `DOKKU_TEST_*`), or, without one, against a sandbox posing as one;
//!   `cargo xtask e2e-clean RUN_ID [host flags]` removes what a dead run left.
//!   `cargo xtask test` runs the sandbox form after the workspace's tests.
//! - `cargo xtask sandbox [--profile 0.38|0.30|0.19] [--proxy-delay-ms N]
//!   [--global-domain NAME]`: starts the sandbox in the foreground and prints
//!   how to reach it; Ctrl-C stops it.
//! - `cargo xtask conformance --dokku-src DIR [--with-deploy] [--only REGEX]`:
//!   Dokku's own bats tests against a fresh sandbox set up as Dokku's CI
//!   expects (global domain `dokku.me`); prints the runner's `strict:` and
//!   `bats:` lines. Not part of CI.
//! - `cargo xtask demo [--profile P]`: starts the sandbox, deploys and seeds
//!   the sample app, resets its database safely (`pix db reset development`),
//!   shows the app running on an empty, migrated database, and leaves nothing
//!   running.
//! - `cargo xtask reset-database-<env> [FLAGS]` (the infra Makefile's names)
//!   and `cargo xtask reset-database <env> [FLAGS]`: `pix db reset <env>`
//!   against the host in the repository's `pix.toml`; pix's exit code is kept.
//! - `cargo xtask deploy-<env> [FLAGS]` (the Makefile's `deploy-*` names)
//!   and `cargo xtask deploy <env> [FLAGS]`: `pix deploy <env>` from the
//!   repository root; pix's exit code is kept (7 build failed, 8 rejected).
//! - `cargo xtask man DIR`: writes pix's man pages (`pix.1`, one per
//!   command) into DIR, for packaging.
//! - `cargo xtask fuzz [--seconds N] [--cmin] [TARGET...]`: runs the
//!   cargo-fuzz targets of `fuzz/` (see SECURITY.md).
//! - `cargo xtask bench [--backup-size 1G] ...`: pix against `ssh` per
//!   command on the sandbox at 0 and 40 ms round trip; writes `BENCHMARKS.md`.

mod bench;
mod bench_report;
mod conformance;
mod demo;
mod deploy;
mod e2e;
mod fuzz;
mod progress;
mod reset;
mod sandbox_cmd;
mod test_cmd;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use pix_sandbox::contract::Profile;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test [ARGS...]      install missing system packages (as root), then run every test
                      (cargo test --workspace ARGS...), then, without ARGS, the end-to-end
                      suite on a sandbox posing as a remote host (e2e)
  e2e [--host H] [--port P] [--user U] [--key FILE] [--known-hosts FILE] [--yes]
      [--profile 0.38|0.30|0.19] [-- TEST ARGS...]
                      the end-to-end suite against a real Dokku host (or DOKKU_TEST_HOST,
                      DOKKU_TEST_PORT, ...); without one, against a local sandbox; it creates
                      only pix-e2e-<run id>-* apps and services and removes them
  e2e-clean RUN_ID|--all-stale [--host H ...]
                      remove what a killed e2e run left (the command e2e prints), or every
                      pix-e2e-* app and service of runs started over a day ago
  sandbox [--profile 0.38|0.30|0.19] [--proxy-delay-ms N] [--global-domain NAME]
                      start the local Dokku sandbox in the foreground; Ctrl-C stops it
  conformance --dokku-src DIR [--with-deploy] [--only REGEX] [--runner FILE] [--out DIR] [-v]
                      run Dokku's own bats tests (shared/dokku-bats runner) against a fresh
                      sandbox with global domain dokku.me; prints the strict: and bats: lines
  demo [--profile 0.38|0.30|0.19]
                      start the sandbox, deploy and seed the sample app, reset its database
                      safely, show the result, tear everything down
  reset-database-development [FLAGS], reset-database-production [FLAGS],
  reset-database <env> [FLAGS]
                      the safe database reset (pix db reset <env> FLAGS) on the host
                      of the repository's pix.toml; FLAGS: --dry-run --yes --confirm NAME
                      --resume --in-place --json --no-backup --backups-dir DIR
  deploy-development [FLAGS], deploy-production [FLAGS], deploy-branch [FLAGS],
  deploy <env> [FLAGS]
                      deploy the environment (pix deploy <env> FLAGS) from this repository;
                      FLAGS: --dry-run --yes --confirm NAME --rev REV --rebuild --json;
                      exits with pix's code (see `pix help exit-codes`)
  man DIR             write pix's man pages (pix.1, pix-deploy.1, pix-db-reset.1, ...) into DIR
  fuzz [--seconds N] [--cmin] [TARGET...]
                      run the cargo-fuzz targets of fuzz/ (all by default) for N seconds
                      each (default 60) on their corpus; installs cargo-fuzz if missing
  bench [--runs N] [--rtt MS,MS] [--backup-size SIZE,...] [--only LIST] [--no-write]
                      pix against ssh-per-command on the sandbox; writes BENCHMARKS.md
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((c, rest)) => (c.as_str(), rest),
        None => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match command {
        "test" => {
            let tests = test_cmd::run(rest);
            // The whole suite includes the end-to-end one (sandbox form);
            // with ARGS the caller picked tests, so it is left out.
            let e2e = if rest.is_empty() {
                e2e::run_on_sandbox(Profile::default(), &[], &[])
            } else {
                Ok(())
            };
            match (tests, e2e) {
                (Ok(()), Ok(())) => Ok(()),
                (Err(a), Err(b)) => Err(format!("{a}; {b}")),
                (Err(e), Ok(())) | (Ok(()), Err(e)) => Err(e),
            }
        }
        "e2e" => e2e::run(rest),
        "e2e-clean" => e2e::clean(rest),
        "sandbox" => sandbox_cmd::run(rest),
        "conformance" => conformance::run(rest),
        "demo" => demo::run(rest),
        "fuzz" => fuzz::run(rest),
        "man" => man(rest),
        "bench" => bench::run(rest),
        "reset-database" => match rest.split_first() {
            Some((env, flags)) => return pix_exit(reset::run(env, flags)),
            None => Err(format!("reset-database needs an environment\n\n{USAGE}")),
        },
        "deploy" => match rest.split_first() {
            Some((env, flags)) => return pix_exit(deploy::run(env, flags)),
            None => Err(format!("deploy needs an environment\n\n{USAGE}")),
        },
        other if deploy::environment_of(other).is_some() => {
            return pix_exit(deploy::run(
                deploy::environment_of(other).unwrap_or_default(),
                rest,
            ));
        }
        other if reset::environment_of(other).is_some() => {
            return pix_exit(reset::run(
                reset::environment_of(other).unwrap_or_default(),
                rest,
            ));
        }
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask man DIR`: pix's man pages, one per command, for packaging.
fn man(args: &[String]) -> Result<(), String> {
    let [dir] = args else {
        return Err(format!("man takes the folder to write into\n\n{USAGE}"));
    };
    let status = reset::pix_command()?
        .args(["man", "--out-dir"])
        .arg(dir)
        .status()
        .map_err(|e| format!("cannot run pix: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("pix man --out-dir {dir} failed ({status})"))
    }
}

/// The exit of a wrapper of pix (`reset-database*`, `deploy*`): pix's own
/// code (it printed why), or an xtask error.
fn pix_exit(result: Result<i32, String>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(exit_byte(code)),
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// An exit code as the byte a process exits with (out of range: 1).
fn exit_byte(code: i32) -> u8 {
    u8::try_from(code).unwrap_or(1)
}

/// The workspace root (xtask lives in `<root>/xtask`).
pub(crate) fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// `cargo`, as the one that runs us (`$CARGO`), else from PATH.
pub(crate) fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut cmd = Command::new(cargo);
    cmd.current_dir(repo_root());
    cmd
}

/// Builds the Dokku emulator (the sandbox's forced command) so it sits next
/// to this binary, where the sandbox looks for it.
pub(crate) fn build_emulator() -> Result<(), String> {
    let status = cargo()
        .args([
            "build",
            "--quiet",
            "-p",
            "dokku-emulator",
            "--bin",
            "dokku-emulator",
        ])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("building the Dokku emulator failed ({status})"))
    }
}

/// Options shared by `sandbox` and `demo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SandboxArgs {
    pub profile: Profile,
    pub proxy_delay_ms: Option<u64>,
    /// The global domain (None: the sandbox's default).
    pub global_domain: Option<String>,
}

/// Parses `--profile P` and `--proxy-delay-ms N` (also `--flag=value`).
pub(crate) fn parse_sandbox_args(
    args: &[String],
    allow_delay: bool,
) -> Result<SandboxArgs, String> {
    let mut out = SandboxArgs {
        profile: Profile::default(),
        proxy_delay_ms: None,
        global_domain: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag {
            "--profile" => {
                let v = value("--profile")?;
                out.profile = Profile::parse(&v).ok_or_else(|| {
                    format!("unknown profile `{v}`: use 0.38 (default), 0.30 or 0.19")
                })?;
            }
            "--proxy-delay-ms" if allow_delay => {
                let v = value("--proxy-delay-ms")?;
                out.proxy_delay_ms = Some(v.parse().map_err(|_| {
                    format!("--proxy-delay-ms takes a whole number of milliseconds, got `{v}`")
                })?);
            }
            "--global-domain" if allow_delay => {
                out.global_domain = Some(value("--global-domain")?);
            }
            other => return Err(format!("unknown argument `{other}`\n\n{USAGE}")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_sandbox_arguments() {
        let a =
            parse_sandbox_args(&args(&["--profile", "0.19", "--proxy-delay-ms=40"]), true).unwrap();
        assert_eq!(a.profile, Profile::V0_19);
        assert_eq!(a.proxy_delay_ms, Some(40));
        let a = parse_sandbox_args(&args(&["--global-domain", "dokku.me"]), true).unwrap();
        assert_eq!(a.global_domain.as_deref(), Some("dokku.me"));
        assert_eq!(
            parse_sandbox_args(&[], true).unwrap().profile,
            Profile::V0_38
        );
    }

    #[test]
    fn rejects_bad_arguments_with_a_reason() {
        let e = parse_sandbox_args(&args(&["--profile", "1.0"]), true).unwrap_err();
        assert!(e.contains("unknown profile `1.0`"), "{e}");
        let e = parse_sandbox_args(&args(&["--proxy-delay-ms", "x"]), true).unwrap_err();
        assert!(e.contains("whole number"), "{e}");
        let e = parse_sandbox_args(&args(&["--proxy-delay-ms", "5"]), false).unwrap_err();
        assert!(e.contains("unknown argument"), "{e}");
        let e = parse_sandbox_args(&args(&["--profile"]), true).unwrap_err();
        assert!(e.contains("needs a value"), "{e}");
    }

    #[test]
    fn wrappers_exit_with_pix_s_code() {
        assert_eq!(pix_exit(Ok(4)), ExitCode::from(4));
        assert_eq!(pix_exit(Ok(0)), ExitCode::SUCCESS);
        assert_eq!(pix_exit(Ok(128 + 9)), ExitCode::from(137));
        assert_eq!(pix_exit(Ok(300)), ExitCode::from(1));
        assert_eq!(pix_exit(Err("no pix".into())), ExitCode::FAILURE);
    }

    #[test]
    fn finds_the_repository_root() {
        assert!(repo_root().join("Cargo.toml").is_file());
        assert!(repo_root().join("tests/sample-app/Procfile").is_file());
    }
}
