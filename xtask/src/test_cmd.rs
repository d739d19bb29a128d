//! `cargo xtask test`: install what is missing, then run every test.

use std::process::Command;

use pix_sandbox::sandbox::check_prerequisites;

/// Installs missing packages (root only), then `cargo test --workspace`.
pub(crate) fn run(extra: &[String]) -> Result<(), String> {
    ensure_prerequisites()?;
    println!("xtask: cargo test --workspace {}", extra.join(" "));
    let status = crate::cargo()
        .args(["test", "--workspace"])
        .args(extra)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the test suite failed ({status})"))
    }
}

/// Checks the sandbox's programs; as root, installs the missing packages
/// with apt-get; otherwise says which package to install.
pub(crate) fn ensure_prerequisites() -> Result<(), String> {
    let missing = match check_prerequisites() {
        Ok(_) => return Ok(()),
        Err(m) => m,
    };
    let packages = missing.packages();
    if !pix_sandbox::sandbox::user::running_as_root() {
        return Err(format!(
            "{missing}\nnot running as root, so nothing was installed: run \
             `sudo apt-get install -y {}` and try again",
            packages.join(" ")
        ));
    }
    println!(
        "xtask: installing {} (missing: {})",
        packages.join(" "),
        missing_programs(&missing)
    );
    apt(&["update"])?;
    let mut install = vec!["install", "-y", "--no-install-recommends"];
    install.extend(packages.iter().map(String::as_str));
    apt(&install)?;
    check_prerequisites()
        .map(|_| ())
        .map_err(|m| format!("still missing after apt-get install: {m}"))
}

fn missing_programs(m: &pix_sandbox::sandbox::MissingPrerequisites) -> String {
    m.missing
        .iter()
        .map(|p| p.program.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn apt(args: &[&str]) -> Result<(), String> {
    let status = Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("cannot run apt-get: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("apt-get {} failed ({status})", args.join(" ")))
    }
}
