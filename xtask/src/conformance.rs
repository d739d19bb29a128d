//! `cargo xtask conformance --dokku-src DIR [--with-deploy] [--only REGEX]`:
//! Dokku's own bats tests against a fresh sandbox set up as Dokku's CI
//! expects (global domain `dokku.me`, no apps), through the shared runner
//! (`run_dokku_bats.sh`). Not part of CI: it needs root (the runner's mount
//! namespace), bats, jq and uuidgen.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use pix_sandbox::sandbox::{Sandbox, SandboxOptions};

/// Where the runner is when `--runner` and `DOKKU_BATS_RUNNER` are not given.
const DEFAULT_RUNNER: &str = "/work/shared/dokku-bats/run_dokku_bats.sh";

/// The global domain Dokku's CI sets (`tests.mk`, `test_helper.bash`).
pub(crate) const CI_DOMAIN: &str = "dokku.me";

#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ConformanceArgs {
    pub dokku_src: PathBuf,
    pub runner: Option<PathBuf>,
    pub with_deploy: bool,
    pub only: Option<String>,
    pub out: Option<PathBuf>,
    pub verbose: bool,
}

pub(crate) fn parse_args(args: &[String]) -> Result<ConformanceArgs, String> {
    let mut out = ConformanceArgs::default();
    let mut src = None;
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
            "--dokku-src" => src = Some(PathBuf::from(value("--dokku-src")?)),
            "--runner" => out.runner = Some(PathBuf::from(value("--runner")?)),
            "--only" => out.only = Some(value("--only")?),
            "--out" => out.out = Some(PathBuf::from(value("--out")?)),
            "--with-deploy" => out.with_deploy = true,
            "-v" | "--verbose" => out.verbose = true,
            other => return Err(format!("conformance: unknown argument `{other}`")),
        }
    }
    out.dokku_src = src.ok_or("conformance needs --dokku-src DIR (a bare clone of dokku/dokku)")?;
    Ok(out)
}

/// The runner's summary lines (`strict:` and `bats:`), in order.
pub(crate) fn summary_lines(output: &str) -> Vec<&str> {
    output
        .lines()
        .filter(|l| l.starts_with("strict:") || l.starts_with("bats:"))
        .collect()
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let args = parse_args(args)?;
    let runner = args
        .runner
        .clone()
        .or_else(|| std::env::var_os("DOKKU_BATS_RUNNER").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_RUNNER));
    if !runner.is_file() {
        return Err(format!(
            "no runner at {} (give --runner or DOKKU_BATS_RUNNER)",
            runner.display()
        ));
    }
    crate::test_cmd::ensure_prerequisites()?;
    crate::build_emulator()?;
    // A copy of the emulator: a rebuild during the run (another cargo
    // command in this worktree) must not change the binary under test.
    let built = pix_sandbox::sandbox::find_emulator_bin().map_err(|e| e.to_string())?;
    let snapshot_dir = std::env::temp_dir().join(format!("pix-conformance-{}", std::process::id()));
    std::fs::create_dir_all(&snapshot_dir).map_err(|e| e.to_string())?;
    let snapshot = snapshot_dir.join("dokku-emulator");
    std::fs::copy(&built, &snapshot).map_err(|e| format!("copying the emulator: {e}"))?;
    let options = SandboxOptions {
        global_vhost: CI_DOMAIN.to_string(),
        emulator_bin: Some(snapshot),
        ..SandboxOptions::default()
    };
    let sandbox = Sandbox::start(options).map_err(|e| e.to_string());
    let sandbox = match sandbox {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&snapshot_dir);
            return Err(e);
        }
    };
    eprintln!(
        "conformance: sandbox on port {} (global domain {CI_DOMAIN}), runner {}",
        sandbox.port(),
        runner.display()
    );
    let mut cmd = Command::new("bash");
    cmd.arg(&runner);
    if args.with_deploy {
        cmd.arg("--with-deploy");
    }
    if let Some(only) = &args.only {
        cmd.args(["--only", only]);
    }
    if let Some(out) = &args.out {
        cmd.arg("--out").arg(out);
    }
    if args.verbose {
        cmd.arg("-v");
    }
    cmd.arg(&args.dokku_src)
        .arg("-p")
        .arg(sandbox.port().to_string())
        .arg("-i")
        .arg(sandbox.key_path())
        .arg("-o")
        .arg("IdentitiesOnly=yes")
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            sandbox.known_hosts_path().display()
        ))
        .arg("-o")
        .arg("StrictHostKeyChecking=yes")
        .arg(format!("{}@{}", sandbox.user(), sandbox.host()))
        .stdout(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", runner.display()))?;
    let mut all = String::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            all.push_str(&line);
            all.push('\n');
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    drop(sandbox);
    let _ = std::fs::remove_dir_all(&snapshot_dir);
    println!("---- conformance summary ----");
    for l in summary_lines(&all) {
        println!("{l}");
    }
    match status.code() {
        Some(0) | Some(1) => Ok(()),
        _ => Err(format!("the runner failed ({status})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_conformance_arguments() {
        let a = parse_args(&args(&["--dokku-src", "/m", "--with-deploy", "--only=ps"])).unwrap();
        assert_eq!(a.dokku_src, PathBuf::from("/m"));
        assert!(a.with_deploy);
        assert_eq!(a.only.as_deref(), Some("ps"));
        assert!(parse_args(&[]).unwrap_err().contains("--dokku-src"));
        assert!(parse_args(&args(&["--dokku-src", "/m", "--x"]))
            .unwrap_err()
            .contains("unknown argument"));
    }

    #[test]
    fn keeps_the_summary_lines() {
        let out = "PASS  a :: b\nstrict: 3 of 4\nbats: 5 run, 4 passed, 1 failed\n";
        assert_eq!(
            summary_lines(out),
            ["strict: 3 of 4", "bats: 5 run, 4 passed, 1 failed"]
        );
    }
}
