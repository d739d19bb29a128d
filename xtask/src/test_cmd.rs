//! `cargo xtask test`: install what is missing, then run every test.

use std::process::Command;

use pix_sandbox::sandbox::{check_prerequisites, MissingPrerequisites, Tools};

/// Installs missing packages (root only), then `cargo test --workspace
/// --no-fail-fast`.
pub(crate) fn run(extra: &[String]) -> Result<(), String> {
    ensure_prerequisites()?;
    println!(
        "xtask: cargo test --workspace --no-fail-fast {}",
        extra.join(" ")
    );
    // --no-fail-fast: every test binary runs, so one report lists every failure.
    let status = crate::cargo()
        .args(["test", "--workspace", "--no-fail-fast"])
        .args(extra)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the test suite failed ({status})"))
    }
}

/// What to do about the sandbox's prerequisites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Everything is there.
    Nothing,
    /// Install these packages with apt-get (as root).
    Install(Vec<String>),
    /// Not root: say what to install and stop.
    Refuse(String),
}

/// Decides from the check and whether we are root.
pub(crate) fn plan(check: Result<Tools, MissingPrerequisites>, root: bool) -> Plan {
    match check {
        Ok(_) => Plan::Nothing,
        Err(missing) if root => Plan::Install(missing.packages()),
        Err(missing) => Plan::Refuse(format!(
            "{missing}\nnot running as root, so nothing was installed: run \
             `sudo apt-get update && sudo apt-get install -y {}` and try again",
            missing.packages().join(" ")
        )),
    }
}

/// Checks the sandbox's programs; as root, installs the missing packages
/// with apt-get; otherwise says which package to install.
pub(crate) fn ensure_prerequisites() -> Result<(), String> {
    let root = pix_sandbox::sandbox::user::running_as_root();
    match plan(check_prerequisites(), root) {
        Plan::Nothing => Ok(()),
        Plan::Refuse(message) => Err(message),
        Plan::Install(packages) => {
            println!("xtask: installing {} with apt-get", packages.join(" "));
            apt(&["update"])?;
            let mut install = vec!["install", "-y", "--no-install-recommends"];
            install.extend(packages.iter().map(String::as_str));
            apt(&install)?;
            check_prerequisites()
                .map(|_| ())
                .map_err(|m| format!("still missing after apt-get install: {m}"))
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use pix_sandbox::sandbox::Missing;

    fn missing_sshd() -> MissingPrerequisites {
        MissingPrerequisites {
            missing: vec![Missing {
                program: "sshd".into(),
                package: "openssh-server".into(),
            }],
        }
    }

    #[test]
    fn root_installs_the_missing_package() {
        assert_eq!(
            plan(Err(missing_sshd()), true),
            Plan::Install(vec!["openssh-server".into()])
        );
    }

    #[test]
    fn other_users_are_told_which_package_to_install() {
        let Plan::Refuse(message) = plan(Err(missing_sshd()), false) else {
            panic!("expected a refusal");
        };
        assert!(message.contains("sshd"), "{message}");
        assert!(
            message.contains("apt-get install -y openssh-server"),
            "{message}"
        );
        assert!(message.contains("not running as root"), "{message}");
    }

    #[test]
    fn nothing_to_do_when_everything_is_there() {
        if let Ok(tools) = check_prerequisites() {
            assert_eq!(plan(Ok(tools), false), Plan::Nothing);
        }
    }
}
