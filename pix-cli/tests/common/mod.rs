//! Shared by the CLI's end-to-end tests: a sandbox with a pix.toml, the
//! `pix` binary run against it, and snapshots with what varies redacted.

#![allow(dead_code, clippy::unwrap_used)] // tests: a panic is the failure report

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use pix_sandbox::contract::Profile;
use pix_sandbox::sandbox::{find_emulator_bin, Sandbox, SandboxOptions};

/// The `pix` binary under test.
pub fn pix_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pix"))
}

/// Builds the Dokku emulator next to the test binaries, once per test
/// process (it belongs to another package, so cargo does not build it for
/// us, and a stale one would model yesterday's server).
pub fn ensure_emulator() {
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    BUILT.get_or_init(build_emulator);
    assert!(find_emulator_bin().is_ok(), "no emulator binary");
}

fn build_emulator() {
    if std::env::var_os("PIX_SANDBOX_EMULATOR").is_some() {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    // <target>/debug/deps/<test> → <target>
    let target = exe.ancestors().nth(3).unwrap().to_path_buf();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "-p",
            "dokku-emulator",
            "--bin",
            "dokku-emulator",
        ])
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(status.success(), "building the emulator failed");
}

/// A sandbox, a scratch folder and a pix.toml (the sandbox's `development`
/// plus a protected `production`).
pub struct World {
    pub sb: Sandbox,
    pub dir: tempfile::TempDir,
    pub toml: PathBuf,
}

/// One run of `pix`.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Exit code and both streams, for snapshots.
    pub fn render(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// Panics with the output unless the exit code is `code`.
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(self.code, code, "{}", self.render());
        self
    }

    /// stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.render()))
    }
}

impl World {
    pub fn start() -> World {
        World::with_profile(Profile::default())
    }

    pub fn with_profile(profile: Profile) -> World {
        ensure_emulator();
        let sb = Sandbox::start(SandboxOptions::profile(profile)).expect("sandbox");
        let dir = tempfile::tempdir().unwrap();
        let toml = dir.path().join("pix.toml");
        sb.write_pix_toml(&toml).unwrap();
        let mut text = std::fs::read_to_string(&toml).unwrap();
        text.push_str(
            "\n[settings]\nbackups_dir = \"backups\"\n\n[environments.production]\nhost = \"sandbox\"\napp = \"api-prod\"\ndatabase = \"pg-prod\"\nprotected = true\naliases = [\"prod\"]\n",
        );
        std::fs::write(&toml, text).unwrap();
        World { sb, dir, toml }
    }

    /// `pix --config <pix.toml> ARGS` in the scratch folder.
    pub fn pix(&self, args: &[&str]) -> Run {
        let mut all = vec!["--config", self.toml.to_str().unwrap()];
        all.extend_from_slice(args);
        self.pix_in(self.dir.path(), &all, &[])
    }

    /// `pix ARGS` with `input` on its stdin (not a terminal).
    pub fn pix_stdin(&self, args: &[&str], input: &str) -> Run {
        let mut all = vec!["--config", self.toml.to_str().unwrap()];
        all.extend_from_slice(args);
        run_pix(self.dir.path(), &all, &[], Some(input.as_bytes()))
    }

    /// `pix ARGS` in `cwd` with extra environment variables.
    pub fn pix_in(&self, cwd: &Path, args: &[&str], envs: &[(&str, &str)]) -> Run {
        run_pix(cwd, args, envs, None)
    }
}

/// A repository whose `api/` folder is the sample app, next to other files
/// (PIX's layout), on branch `main` with one commit.
pub fn monorepo(root: &Path) -> PathBuf {
    let repo = root.join("pix");
    copy_sample_app(&repo.join("api"));
    std::fs::create_dir_all(repo.join("live")).unwrap();
    std::fs::write(repo.join("live/index.html"), "<h1>front</h1>\n").unwrap();
    std::fs::write(repo.join("README.md"), "# pix\n").unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "initial"]);
    repo
}

/// Copies the sample app's files into `to`.
pub fn copy_sample_app(to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(pix_sandbox::scenario::sample_app_dir()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// Runs git in `repo`; panics with its output on failure.
pub fn git(repo: &Path, args: &[&str]) -> String {
    pix_sandbox::scenario::git(repo, args).unwrap_or_else(|e| panic!("git {args:?}: {e}"))
}

/// Commits `text` into `file` of `repo`.
pub fn commit_file(repo: &Path, file: &str, text: &str, message: &str) {
    let path = repo.join(file);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(path, text).unwrap();
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", message]);
}

/// Runs `pix` with a clean environment (no DOKKU_*, PIX_*, NO_COLOR, RUST_LOG).
pub fn run_pix(cwd: &Path, args: &[&str], envs: &[(&str, &str)], stdin: Option<&[u8]>) -> Run {
    let mut cmd = Command::new(pix_bin());
    cmd.args(args).current_dir(cwd);
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
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().unwrap();
    if let Some(bytes) = stdin {
        use std::io::Write;
        let mut s = child.stdin.take().unwrap();
        s.write_all(bytes).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// What varies between runs, and its placeholder.
pub const FILTERS: &[(&str, &str)] = &[
    (
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
        "[DATETIME]",
    ),
    (r"\d{8}T\d{6}Z", "[STAMP]"),
    (r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", "[DATE]"),
    (r"/tmp/[^\s\x22'`)]+", "[TMP]"),
    (r"\(\d+ bytes", "([N] bytes"),
    (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
    (r"\]:\d{2,5}\b", "]:[PORT]"),
    (r"(-p |port[\x22:= ]+)\d{2,5}", "${1}[PORT]"),
    (r"://([a-z0-9_]+):[A-Za-z0-9]{8,}@", "://${1}:[PASSWORD]@"),
    (r"\b[0-9a-f]{64}\b", "[CONTAINER]"),
    (r"\b[0-9a-f]{40}\b", "[SHA]"),
    (r"\b[0-9a-f]{11,12}\b", "[CID]"),
    (r"\b1\d{9}\b", "[UNIX]"),
    (r"\d+\.\d+s\b", "[ELAPSED]"),
    (r"\d+(\.\d)? [kMGT]?B(/s)?", "[SIZE]"),
    (r"\x22(elapsed_ms|bytes|entries)\x22: \d+", "\"$1\": [N]"),
    (r"pid \d+", "pid [PID]"),
    (r"SHA256:[A-Za-z0-9+/]{43}", "SHA256:[FINGERPRINT]"),
];

/// Snapshots a run with [`FILTERS`] applied.
#[macro_export]
macro_rules! snap {
    ($name:expr, $run:expr) => {{
        let filters: Vec<(&str, &str)> = common::FILTERS.to_vec();
        insta::with_settings!({ filters => filters, prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!($name, $run.render());
        });
    }};
}
