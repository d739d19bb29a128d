//! `cargo xtask fuzz [--seconds N] [--cmin] [TARGET...]`: runs the cargo-fuzz
//! targets of `fuzz/` (every one by default) for N seconds each on their
//! committed corpus, installing cargo-fuzz first when it is missing.
//! `--cmin` minimises each corpus afterwards (`cargo fuzz cmin`).
//!
//! cargo-fuzz needs nightly features; on a stable toolchain they are enabled
//! with `RUSTC_BOOTSTRAP=1`. The sanitizer is off: the code under test is
//! safe Rust, and libFuzzer's coverage guidance is what matters.

use std::path::Path;
use std::process::Command;

/// Default run time per target.
pub const DEFAULT_SECONDS: u64 = 60;

/// Parsed arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuzzArgs {
    /// Seconds per target.
    pub seconds: u64,
    /// Minimise the corpus afterwards.
    pub cmin: bool,
    /// Targets to run (empty: all).
    pub targets: Vec<String>,
}

/// Parses `[--seconds N] [--cmin] [TARGET...]`.
pub fn parse_args(args: &[String]) -> Result<FuzzArgs, String> {
    let mut out = FuzzArgs {
        seconds: DEFAULT_SECONDS,
        cmin: false,
        targets: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => {
                let v = it
                    .next()
                    .ok_or("--seconds needs a number of seconds per target")?;
                out.seconds = v
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("--seconds {v:?}: give a whole number above 0"))?;
            }
            "--cmin" => out.cmin = true,
            flag if flag.starts_with('-') => {
                return Err(format!(
                "unknown flag {flag}; usage: cargo xtask fuzz [--seconds N] [--cmin] [TARGET...]"
            ))
            }
            target => out.targets.push(target.to_string()),
        }
    }
    Ok(out)
}

/// The `[[bin]]` names of the fuzz manifest: the targets.
pub fn targets_in(manifest: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut in_bin = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
            continue;
        }
        if in_bin {
            if let Some(rest) = line.strip_prefix("name") {
                if let Some(value) = rest.trim_start().strip_prefix('=') {
                    targets.push(value.trim().trim_matches('"').to_string());
                }
            }
        }
    }
    targets
}

fn fuzz_dir() -> std::path::PathBuf {
    crate::repo_root().join("fuzz")
}

fn cargo_fuzz_installed() -> bool {
    crate::cargo()
        .args(["fuzz", "--version"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn run_status(mut cmd: Command, what: &str) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

fn cargo_fuzz(dir: &Path) -> Command {
    let mut cmd = crate::cargo();
    cmd.current_dir(dir).env("RUSTC_BOOTSTRAP", "1").arg("fuzz");
    cmd
}

/// Runs the command.
pub fn run(args: &[String]) -> Result<(), String> {
    let args = parse_args(args)?;
    let dir = fuzz_dir();
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))
        .map_err(|e| format!("cannot read {}: {e}", dir.join("Cargo.toml").display()))?;
    let known = targets_in(&manifest);
    let targets = if args.targets.is_empty() {
        known.clone()
    } else {
        for t in &args.targets {
            if !known.contains(t) {
                return Err(format!(
                    "unknown fuzz target `{t}`; the targets are: {}",
                    known.join(", ")
                ));
            }
        }
        args.targets.clone()
    };
    if !cargo_fuzz_installed() {
        eprintln!("xtask: installing cargo-fuzz (cargo install cargo-fuzz --locked)");
        let mut install = crate::cargo();
        install.args(["install", "cargo-fuzz", "--locked"]);
        run_status(install, "cargo install cargo-fuzz")?;
    }
    for target in &targets {
        let corpus = dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus)
            .map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
        eprintln!("xtask: fuzzing {target} for {}s", args.seconds);
        let mut cmd = cargo_fuzz(&dir);
        cmd.args(["run", target, "--sanitizer", "none"])
            .arg(&corpus)
            .arg("--")
            .arg(format!("-max_total_time={}", args.seconds))
            .args(["-timeout=10", "-rss_limit_mb=2048", "-print_final_stats=1"]);
        run_status(cmd, &format!("fuzz target {target}")).map_err(|e| {
            format!(
                "{e}: the failing input is in {}; replay it with `cargo fuzz run {target} <file>` in fuzz/",
                dir.join("artifacts").join(target).display()
            )
        })?;
        if args.cmin {
            let mut cmd = cargo_fuzz(&dir);
            cmd.args(["cmin", target, "--sanitizer", "none"])
                .arg(&corpus);
            run_status(cmd, &format!("cargo fuzz cmin {target}"))?;
        }
    }
    eprintln!(
        "xtask: {} target(s) ran {}s each without a failure",
        targets.len(),
        args.seconds
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn arguments() {
        assert_eq!(
            parse_args(&[]).unwrap(),
            FuzzArgs {
                seconds: DEFAULT_SECONDS,
                cmin: false,
                targets: vec![]
            }
        );
        let a = parse_args(&s(&["--seconds", "600", "--cmin", "ssh_line"])).unwrap();
        assert_eq!(a.seconds, 600);
        assert!(a.cmin);
        assert_eq!(a.targets, ["ssh_line"]);
        assert!(parse_args(&s(&["--seconds"])).is_err());
        assert!(parse_args(&s(&["--seconds", "0"])).is_err());
        assert!(parse_args(&s(&["--seconds", "x"])).is_err());
        assert!(parse_args(&s(&["--fast"])).is_err());
    }

    #[test]
    fn targets_come_from_the_manifest() {
        let manifest = "[package]\nname = \"pix-fuzz\"\n\n[[bin]]\nname = \"parse_case\"\npath = \"x.rs\"\n\n[[bin]]\nname = \"ssh_line\"\n";
        assert_eq!(targets_in(manifest), ["parse_case", "ssh_line"]);
        let real = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
        let targets = targets_in(&real);
        assert!(targets.len() >= 7, "{targets:?}");
        for t in &targets {
            assert!(
                fuzz_dir().join("corpus").join(t).is_dir(),
                "no committed corpus for {t}"
            );
        }
    }
}
