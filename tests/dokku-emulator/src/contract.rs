//! The contract between the sandbox (which sets things up) and the emulator
//! (which runs as the forced command): the state directory's layout, its
//! configuration file, fault files and the record of received commands.
//!
//! Layout of the emulator root (`--root DIR` or `DOKKU_EMULATOR_ROOT`):
//!
//! | path | owner | what |
//! |---|---|---|
//! | `emulator.json` | sandbox | [`EmulatorConfig`] |
//! | `faults/*.json` | sandbox writes, emulator consumes | [`Fault`], one per file, applied in name order |
//! | `received.jsonl` | emulator appends | one [`ReceivedCommand`] per invocation |
//! | `run/*.pid` | emulator | one process group id per running app process; the sandbox kills them on drop |
//! | everything else | emulator | apps, services, repos, logs |

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// File name of the emulator configuration inside the root.
pub const CONFIG_FILE: &str = "emulator.json";
/// Directory of pending faults inside the root.
pub const FAULTS_DIR: &str = "faults";
/// Record of received commands inside the root.
pub const RECEIVED_FILE: &str = "received.jsonl";
/// Directory of pid files of running app processes inside the root.
pub const RUN_DIR: &str = "run";
/// Environment variable naming the root when `--root` is not given.
pub const ROOT_ENV: &str = "DOKKU_EMULATOR_ROOT";

/// The Dokku version the emulator models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Profile {
    /// Dokku 0.38.27 with dokku-postgres 1.48.0 (the default).
    #[default]
    #[serde(rename = "0.38")]
    V0_38,
    /// Dokku 0.30.x: Go reports with pre-0.38.8 JSON keys, no xargs re-split
    /// (except config), exit 20 for a missing app.
    #[serde(rename = "0.30")]
    V0_30,
    /// Dokku 0.19.13: bash reports, no JSON, failures without ` !`, exit 1 for a
    /// missing app.
    #[serde(rename = "0.19")]
    V0_19,
}

impl Profile {
    /// Every profile.
    pub const ALL: [Profile; 3] = [Profile::V0_38, Profile::V0_30, Profile::V0_19];

    /// The profile's name as written in config and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Profile::V0_38 => "0.38",
            Profile::V0_30 => "0.30",
            Profile::V0_19 => "0.19",
        }
    }

    /// Parses `0.38`, `0.30` or `0.19`.
    pub fn parse(text: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.name() == text)
    }
}

/// Written by the sandbox to `<root>/emulator.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmulatorConfig {
    /// The modelled version.
    pub profile: Profile,
    /// The global vhost: apps are at `http://<app>.<vhost>`.
    pub global_vhost: String,
    /// PostgreSQL connection for the emulator (as a superuser).
    pub postgres: PostgresAdmin,
    /// Directory holding `git` and `git-receive-pack` (None: from PATH).
    pub git_bin_dir: Option<PathBuf>,
    /// The emulator's own binary (hooks call it back).
    pub emulator_bin: PathBuf,
}

/// How the emulator reaches the sandbox's PostgreSQL cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostgresAdmin {
    /// Host for DSNs and admin connections (`127.0.0.1`).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Superuser role.
    pub superuser: String,
    /// Superuser password.
    pub password: String,
    /// Directory of `psql`, `pg_dump`, `pg_restore`.
    pub bin_dir: PathBuf,
}

/// What a fault does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultAction {
    /// Do not run the command; exit with this code and stderr.
    Exit {
        /// Exit code.
        code: i32,
        /// stderr bytes (text).
        stderr: String,
    },
    /// Hang for this long (or until the client goes away), then exit 1.
    Hang {
        /// Seconds.
        seconds: u64,
    },
    /// Run the command, but after this many bytes of stdout cut the SSH
    /// connection (kill the sshd session process).
    DropAfterBytes {
        /// Bytes written before the cut.
        bytes: u64,
    },
    /// A malicious or broken server: do not run the command; write these
    /// stdout bytes `repeat` times (`None`: until the client goes away),
    /// then this stderr, and exit with `code`.
    Respond {
        /// stdout bytes, base64 (they may be invalid UTF-8 or escapes).
        stdout_b64: String,
        /// stderr bytes, base64.
        stderr_b64: String,
        /// Exit code.
        code: i32,
        /// How many times stdout is written; `None`: without end.
        repeat: Option<u64>,
    },
}

/// A fault armed for the next command(s) that match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// Matches when the received argv (global flags removed), joined by single
    /// spaces, starts with this text. Empty matches every command.
    pub matches: String,
    /// What to do.
    pub action: FaultAction,
    /// How many matching commands it applies to before it is used up.
    pub times: u32,
}

/// One invocation as the emulator received it, appended to `received.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedCommand {
    /// `SSH_ORIGINAL_COMMAND` bytes, when the call came over SSH.
    pub ssh_original_command: Option<Vec<u8>>,
    /// The argument vector after the server-side split (what Dokku would see).
    pub argv: Vec<Vec<u8>>,
}

impl ReceivedCommand {
    /// The argv as strings (lossy).
    pub fn argv_lossy(&self) -> Vec<String> {
        self.argv
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect()
    }
}

/// Reads `<root>/received.jsonl` (missing file: nothing received).
pub fn read_received(root: &Path) -> std::io::Result<Vec<ReceivedCommand>> {
    let text = match std::fs::read_to_string(root.join(RECEIVED_FILE)) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(std::io::Error::other))
        .collect()
}
