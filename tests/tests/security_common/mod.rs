//! Shared by the `security_*` tests: the transport configuration for a
//! sandbox, and the `pix` binary (built into this target directory on first
//! use: it belongs to another package) run against a sandbox's pix.toml.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use dokku_client::transport::SshConfig;
use pix_sandbox::sandbox::Sandbox;

/// Strict transport settings for the sandbox.
pub fn ssh_config(sb: &Sandbox) -> SshConfig {
    SshConfig::new(sb.host())
        .port(sb.port())
        .user(sb.user())
        .key(sb.key_path())
        .known_hosts(sb.known_hosts_path())
        .config_file("/dev/null")
}

/// The `pix` binary of this target directory, built once if missing or
/// older than this test binary.
pub fn pix_bin() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().unwrap();
            // <target>/debug/deps/<test> → <target>
            let target = exe.ancestors().nth(3).unwrap().to_path_buf();
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let status = Command::new(cargo)
                .args(["build", "--quiet", "-p", "pix-cli", "--bin", "pix"])
                .env("CARGO_TARGET_DIR", &target)
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .unwrap();
            let bin = exe.ancestors().nth(2).unwrap().join("pix");
            // A tree being edited may not build; an existing binary is then
            // used (and said so), a missing one is a failure.
            if !status.success() {
                assert!(bin.is_file(), "building pix failed");
                eprintln!("warning: building pix failed; using {}", bin.display());
            }
            assert!(bin.is_file(), "{} missing", bin.display());
            bin
        })
        .clone()
}

/// One run of `pix`: exit code and raw streams.
#[derive(Debug)]
pub struct PixRun {
    /// Exit code (-1: killed).
    pub code: i32,
    /// stdout bytes.
    pub stdout: Vec<u8>,
    /// stderr bytes.
    pub stderr: Vec<u8>,
}

impl PixRun {
    /// Both streams, lossy, for messages.
    pub fn text(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code,
            String::from_utf8_lossy(&self.stdout),
            String::from_utf8_lossy(&self.stderr)
        )
    }

    /// Every byte printed.
    pub fn all_bytes(&self) -> Vec<u8> {
        let mut v = self.stdout.clone();
        v.extend_from_slice(&self.stderr);
        v
    }
}

/// `pix --config <toml> ARGS` in `cwd`, with a clean environment plus `envs`.
pub fn pix(toml: &Path, cwd: &Path, args: &[&str], envs: &[(&str, &str)]) -> PixRun {
    let mut cmd = Command::new(pix_bin());
    cmd.arg("--config").arg(toml).args(args).current_dir(cwd);
    for var in [
        "DOKKU_HOST",
        "DOKKU_PORT",
        "PIX_SSH_KEY",
        "PIX_KNOWN_HOSTS",
        "PIX_TIMEOUT",
        "PIX_CONFIG",
        "NO_COLOR",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(envs.iter().copied());
    let out = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    PixRun {
        code: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: out.stderr,
    }
}

/// True when `haystack` contains `needle`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
