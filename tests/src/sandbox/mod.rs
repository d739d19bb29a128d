//! The local Dokku sandbox: the real OpenSSH server, a private PostgreSQL
//! cluster, the real `git`, and the Dokku emulator as the forced command, all
//! on 127.0.0.1 at free ports, torn down on drop.
//!
//! ```no_run
//! use pix_sandbox::sandbox::{Sandbox, SandboxOptions};
//! let sandbox = Sandbox::start(SandboxOptions::default()).unwrap();
//! let out = sandbox.ssh_command().arg("apps:list").output().unwrap();
//! assert!(out.status.success());
//! // dropped: sshd, postgres and every app process are gone
//! ```
//!
//! Layout of the sandbox directory (`/tmp/pxs-XXXXXX`, short on purpose:
//! unix socket paths are limited to about 100 bytes):
//!
//! | path | owner | what |
//! |---|---|---|
//! | `bin/dokku-emulator` | runner | a copy of the emulator, readable by the login user (`/root` is 0700) |
//! | `root/` | login user | the emulator root (`emulator.json`, `faults/`, `received.jsonl`, `run/`, state) |
//! | `ssh/` | runner, 0700 | host key, client key, `known_hosts`, `sshd_config`, `sshd.log` |
//! | `authorized_keys` | runner, 0644 | the client key, forced to run the emulator |
//! | `pg/` | login user, 0700 | the cluster (`data/`), its unix socket and `postgres.log` |
//!
//! Teardown: every process group in `root/run/*.pid` is killed, sshd is
//! killed, PostgreSQL is stopped with `pg_ctl stop -m immediate`, then every
//! process that descends from them or names the sandbox directory (command
//! line, working directory, executable) is killed, then the directory is
//! removed. This runs in `Drop`, so also when a test panics. A run killed
//! outright (Ctrl-C on `cargo test`, a timeout) cannot run `Drop`: each
//! sandbox directory holds `owner.pid`, and the next [`Sandbox::start`]
//! reaps the sandboxes whose owner is gone ([`reap_stale_sandboxes`]).
//!
//! Start-up cost: `initdb --no-sync` takes about 0.7 s here and runs in a
//! thread while the SSH keys are made and sshd starts, so a sandbox is ready
//! in about a second. Each sandbox has its own cluster: the emulator names
//! databases after services, so sandboxes sharing a cluster would collide.

pub mod pix_toml;
pub mod postgres;
pub mod prereq;
pub mod procs;
pub mod sshd;
pub mod user;

use std::collections::BTreeSet;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::contract::{self, EmulatorConfig, Fault, PostgresAdmin, Profile, ReceivedCommand};
use crate::proxy::DelayProxy;
use crate::target::{shell_quote, TestTarget};

pub use prereq::{check_prerequisites, Missing, MissingPrerequisites, Tools};
pub use user::LoginUser;

/// The name of the emulator binary.
pub const EMULATOR_BIN_NAME: &str = "dokku-emulator";
/// Environment variable naming the emulator binary to use (overrides the
/// search next to the running executable).
pub const EMULATOR_BIN_ENV: &str = "PIX_SANDBOX_EMULATOR";
/// Where sandboxes are made (short paths: unix sockets live inside).
pub const SANDBOX_PARENT: &str = "/tmp";
/// The prefix of a sandbox directory's name.
pub const SANDBOX_PREFIX: &str = "pxs-";
/// The file in a sandbox directory naming the process that owns it.
pub const OWNER_FILE: &str = "owner.pid";

/// Removes sandboxes whose owning process is gone (a test run killed by
/// Ctrl-C or a timeout cannot run `Drop`): kills what still runs there and
/// deletes the directory. Sandboxes of live processes are left alone.
/// Returns the directories reaped.
pub fn reap_stale_sandboxes(parent: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut reaped = Vec::new();
    for entry in entries.flatten() {
        let dir = entry.path();
        let is_sandbox = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(SANDBOX_PREFIX));
        if !is_sandbox {
            continue;
        }
        let owner = std::fs::read_to_string(dir.join(OWNER_FILE))
            .ok()
            .and_then(|t| t.trim().parse::<i32>().ok());
        // No owner file: being created right now, or not ours; leave it.
        let Some(owner) = owner else { continue };
        if procs::is_alive(owner) {
            continue;
        }
        let run_dir = dir.join("root").join(contract::RUN_DIR);
        let groups = procs::pid_files(&run_dir);
        for pgid in &groups {
            procs::kill_group(*pgid);
        }
        let left = procs::sweep(&groups, &dir, Duration::from_secs(5));
        if left.is_empty() && std::fs::remove_dir_all(&dir).is_ok() {
            reaped.push(dir);
        }
    }
    reaped
}

/// The name the client key has in `authorized_keys` (`NAME=` as Dokku's
/// `ssh-keys:add` writes it).
pub const SSH_KEY_NAME: &str = "default";
/// The default global vhost.
pub const DEFAULT_VHOST: &str = "sandbox.test";

/// How to start a sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxOptions {
    /// The Dokku version the emulator models.
    pub profile: Profile,
    /// Put a [`DelayProxy`] in front of sshd ([`Sandbox::port`] is then the
    /// proxy's port).
    pub proxy: bool,
    /// The emulator binary (None: [`find_emulator_bin`]).
    pub emulator_bin: Option<PathBuf>,
    /// The global vhost (apps are `http://<app>.<vhost>`).
    pub global_vhost: String,
    /// Also a shell login (PIX's `ubuntu` with sudo): a second key, in its
    /// own keys file, that runs what it is sent through `/bin/sh` with
    /// `dokku` and `sudo` stand-ins first on `PATH` ([`Sandbox::shell_key_path`]).
    pub shell_login: bool,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            profile: Profile::default(),
            proxy: false,
            emulator_bin: None,
            global_vhost: DEFAULT_VHOST.to_string(),
            shell_login: false,
        }
    }
}

impl SandboxOptions {
    /// Default options with this profile.
    pub fn profile(profile: Profile) -> Self {
        SandboxOptions {
            profile,
            ..Default::default()
        }
    }

    /// With the delaying proxy in front of sshd.
    pub fn with_proxy(mut self) -> Self {
        self.proxy = true;
        self
    }

    /// With the shell login (see [`SandboxOptions::shell_login`]).
    pub fn with_shell_login(mut self) -> Self {
        self.shell_login = true;
        self
    }

    /// With this emulator binary.
    pub fn with_emulator(mut self, bin: impl Into<PathBuf>) -> Self {
        self.emulator_bin = Some(bin.into());
        self
    }
}

/// Why the sandbox could not start (or a sandbox operation failed).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// A program is missing; the error names its package.
    #[error(transparent)]
    Missing(#[from] MissingPrerequisites),
    /// A file or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A helper program failed.
    #[error("{what} failed ({status}):\n{output}")]
    Command {
        /// Which program.
        what: String,
        /// Its exit status.
        status: String,
        /// What it printed.
        output: String,
    },
    /// A server did not become ready in time.
    #[error("{what} was not ready after {seconds} s; its log says:\n{log}")]
    NotReady {
        /// Which server.
        what: String,
        /// How long we waited.
        seconds: u64,
        /// Its log.
        log: String,
    },
    /// The emulator binary was not found.
    #[error(
        "the Dokku emulator binary was not found (looked at {}); build it with \
         `cargo build -p dokku-emulator` or set {EMULATOR_BIN_ENV}",
        looked.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    EmulatorNotFound {
        /// The paths tried.
        looked: Vec<PathBuf>,
    },
    /// The login user could not be set up.
    #[error("{0}")]
    User(String),
}

impl SandboxError {
    pub(crate) fn io(what: impl Into<String>, source: io::Error) -> Self {
        SandboxError::Io {
            what: what.into(),
            source,
        }
    }
}

/// Finds the emulator: `$PIX_SANDBOX_EMULATOR`; else, when run by cargo
/// (`$CARGO` set, as for tests and `cargo xtask`), the `dokku-emulator`
/// crate's binary built (once per process) into the running executable's
/// target folder; else `dokku-emulator` next to the running executable or
/// one folder up (test binaries live in `deps/`).
pub fn find_emulator_bin() -> Result<PathBuf, SandboxError> {
    if let Some(p) = std::env::var_os(EMULATOR_BIN_ENV).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(SandboxError::EmulatorNotFound { looked: vec![p] })
        };
    }
    let exe = std::env::current_exe()
        .map_err(|e| SandboxError::io("finding the running executable", e))?;
    if let Some(built) = cargo_built_emulator(&exe) {
        return Ok(built);
    }
    let mut looked = Vec::new();
    let mut dir = exe.parent();
    for _ in 0..2 {
        let Some(d) = dir else { break };
        let candidate = d.join(EMULATOR_BIN_NAME);
        if candidate.is_file() {
            return Ok(candidate);
        }
        looked.push(candidate);
        dir = d.parent();
    }
    Err(SandboxError::EmulatorNotFound { looked })
}

/// Builds the `dokku-emulator` binary with the cargo that runs us, into the
/// target folder of `exe` (`<target>/<profile>/[deps/]exe`); `None` when not
/// run by cargo or the build fails.
fn cargo_built_emulator(exe: &Path) -> Option<PathBuf> {
    static BUILT: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var_os("CARGO")?;
            let mut profile_dir = exe.parent()?;
            if profile_dir.file_name().is_some_and(|n| n == "deps") {
                profile_dir = profile_dir.parent()?;
            }
            let target = profile_dir.parent()?;
            let mut cmd = std::process::Command::new(cargo);
            cmd.args([
                "build",
                "--quiet",
                "-p",
                "dokku-emulator",
                "--bin",
                EMULATOR_BIN_NAME,
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("CARGO_TARGET_DIR", target);
            if profile_dir.file_name().is_some_and(|n| n == "release") {
                cmd.arg("--release");
            }
            let ok = cmd.status().ok()?.success();
            let bin = profile_dir.join(EMULATOR_BIN_NAME);
            (ok && bin.is_file()).then_some(bin)
        })
        .clone()
}

/// A free TCP port on 127.0.0.1 (free when asked; callers retry on a clash).
pub fn free_port() -> Result<u16, SandboxError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| SandboxError::io("finding a free port on 127.0.0.1", e))
}

/// `bytes` random bytes from the kernel, as hex.
pub fn random_hex(bytes: usize) -> Result<String, SandboxError> {
    use std::io::Read;
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| SandboxError::io("reading /dev/urandom", e))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// The pids a sandbox started (for checks that nothing is left behind).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SandboxPids {
    /// The sshd listener.
    pub sshd: Option<i32>,
    /// The postmaster.
    pub postgres: Option<i32>,
    /// Process groups of app processes (`root/run/*.pid`).
    pub apps: Vec<i32>,
}

/// A running sandbox. Dropping it stops everything it started.
#[derive(Debug)]
pub struct Sandbox {
    // Declared first so nothing else outlives... the directory is removed last
    // (fields drop in order; `Drop::drop` has already stopped the processes).
    tools: Tools,
    user: LoginUser,
    profile: Profile,
    global_vhost: String,
    root: PathBuf,
    ssh_dir: PathBuf,
    emulator_bin: PathBuf,
    sshd: Option<Child>,
    sshd_port: u16,
    postgres: Option<postgres::Cluster>,
    proxy: Option<DelayProxy>,
    fault_seq: AtomicU32,
    shell_login: bool,
    dir: Option<tempfile::TempDir>,
}

fn mkdir(path: &Path, mode: u32) -> Result<(), SandboxError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path)
        .and_then(|_| std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)))
        .map_err(|e| SandboxError::io(format!("creating {}", path.display()), e))
}

fn write_file(path: &Path, text: &str, mode: u32) -> Result<(), SandboxError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text)
        .and_then(|_| std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)))
        .map_err(|e| SandboxError::io(format!("writing {}", path.display()), e))
}

impl Sandbox {
    /// Starts sshd, PostgreSQL and the emulator's state; see the module docs.
    pub fn start(options: SandboxOptions) -> Result<Sandbox, SandboxError> {
        let tools = check_prerequisites()?;
        let emulator_src = match &options.emulator_bin {
            Some(p) if p.is_file() => p.clone(),
            Some(p) => {
                return Err(SandboxError::EmulatorNotFound {
                    looked: vec![p.clone()],
                })
            }
            None => find_emulator_bin()?,
        };
        let user = LoginUser::for_sandbox()?;
        reap_stale_sandboxes(Path::new(SANDBOX_PARENT));
        let dir = tempfile::Builder::new()
            .prefix(SANDBOX_PREFIX)
            .tempdir_in(SANDBOX_PARENT)
            .map_err(|e| SandboxError::io("creating the sandbox directory in /tmp", e))?;
        let base = dir.path().to_path_buf();
        let mut sandbox = Sandbox {
            tools,
            user: user.clone(),
            profile: options.profile,
            global_vhost: options.global_vhost.clone(),
            root: base.join("root"),
            ssh_dir: base.join("ssh"),
            emulator_bin: base.join("bin").join(EMULATOR_BIN_NAME),
            sshd: None,
            sshd_port: 0,
            postgres: None,
            proxy: None,
            fault_seq: AtomicU32::new(0),
            shell_login: options.shell_login,
            dir: Some(dir),
        };
        mkdir(&base, 0o755)?;
        write_file(
            &base.join(OWNER_FILE),
            &format!("{}\n", std::process::id()),
            0o644,
        )?;
        mkdir(&base.join("bin"), 0o755)?;
        std::fs::copy(&emulator_src, &sandbox.emulator_bin).map_err(|e| {
            SandboxError::io(
                format!(
                    "copying {} to {}",
                    emulator_src.display(),
                    sandbox.emulator_bin.display()
                ),
                e,
            )
        })?;
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                &sandbox.emulator_bin,
                std::fs::Permissions::from_mode(0o755),
            )
            .map_err(|e| SandboxError::io("making the emulator executable", e))?;
        }
        for (path, mode) in [
            (sandbox.root.clone(), 0o755),
            (sandbox.root.join(contract::FAULTS_DIR), 0o755),
            (sandbox.root.join(contract::RUN_DIR), 0o755),
            (base.join("pg"), 0o700),
        ] {
            mkdir(&path, mode)?;
            user.own(&path)?;
        }
        mkdir(&sandbox.ssh_dir, 0o700)?;

        // initdb is the slow part: it runs while keys are made and sshd starts.
        let pg_dir = base.join("pg");
        let pg_bin = sandbox.tools.postgres_bin.clone();
        let pg_user = user.clone();
        let pg_thread =
            std::thread::spawn(move || postgres::Cluster::start(&pg_dir, &pg_bin, &pg_user));
        let ssh_result = sandbox.start_sshd(options.proxy);
        let pg_result = pg_thread.join().unwrap_or_else(|_| {
            Err(SandboxError::User(
                "the postgres start-up thread panicked".into(),
            ))
        });
        match pg_result {
            Ok(cluster) => sandbox.postgres = Some(cluster),
            Err(e) => return Err(e),
        }
        ssh_result?;
        sandbox.write_config()?;
        Ok(sandbox)
    }

    fn start_sshd(&mut self, proxy: bool) -> Result<(), SandboxError> {
        let host_key = self.ssh_dir.join("host_ed25519");
        let client_key = self.key_path();
        let host_pub = sshd::keygen(&self.tools.ssh_keygen, &host_key, "pix-sandbox-host")?;
        let client_pub = sshd::keygen(&self.tools.ssh_keygen, &client_key, "pix-sandbox-client")?;
        let fingerprint = sshd::fingerprint(
            &self.tools.ssh_keygen,
            &PathBuf::from(format!("{}.pub", client_key.display())),
        )?;
        let authorized_keys = self.dir().join("authorized_keys");
        write_file(
            &authorized_keys,
            &sshd::authorized_keys_line(
                &self.emulator_bin,
                &self.root,
                &client_pub,
                &fingerprint,
                SSH_KEY_NAME,
            ),
            0o644,
        )?;
        let extra_authorized_keys = if self.shell_login {
            Some(self.write_shell_login()?)
        } else {
            None
        };
        let files = sshd::SshdFiles {
            host_key,
            pid_file: self.ssh_dir.join("sshd.pid"),
            authorized_keys,
            extra_authorized_keys,
            config: self.ssh_dir.join("sshd_config"),
            log: self.ssh_dir.join("sshd.log"),
        };
        let (child, port) = sshd::start(&self.tools.sshd, &files, &self.user.name)?;
        self.sshd = Some(child);
        self.sshd_port = port;
        let mut ports = vec![port];
        if proxy {
            let p = DelayProxy::start(SocketAddr::from(([127, 0, 0, 1], port)))
                .map_err(|e| SandboxError::io("starting the delay proxy", e))?;
            ports.push(p.port());
            self.proxy = Some(p);
        }
        write_file(
            &self.known_hosts_path(),
            &sshd::known_hosts(&host_pub, &ports),
            0o644,
        )
    }

    /// The shell login: its key, its keys file, and the `dokku` and `sudo`
    /// stand-ins. `dokku` runs the emulator as a program (no
    /// `SSH_ORIGINAL_COMMAND`, so `received()` shows `None` for it, as for a
    /// command run on the server); `sudo` accepts `-n` and `--`, appends its
    /// arguments to [`Sandbox::sudo_log`] and runs them as the same user
    /// (there is no root here). Returns the keys file.
    fn write_shell_login(&self) -> Result<PathBuf, SandboxError> {
        let key = self.ssh_dir.join("id_shell");
        let public = sshd::keygen(&self.tools.ssh_keygen, &key, "pix-sandbox-shell")?;
        let bin = self.shell_bin();
        mkdir(&bin, 0o755)?;
        write_file(
            &bin.join("dokku"),
            &format!(
                "#!/bin/sh\nunset SSH_ORIGINAL_COMMAND\nexec {} --root {} \"$@\"\n",
                shell_quote(&self.emulator_bin.display().to_string()),
                shell_quote(&self.root.display().to_string()),
            ),
            0o755,
        )?;
        let log = self.sudo_log();
        write_file(
            &bin.join("sudo"),
            &format!(
                "#!/bin/sh\n# The sandbox's stand-in for sudo: no root here; -n and -- as sudo takes them.\n\
                 while [ $# -gt 0 ]; do case \"$1\" in -n) shift;; --) shift; break;; -*) echo \"sudo: unsupported option $1\" >&2; exit 1;; *) break;; esac; done\n\
                 printf '%s\\n' \"$*\" >> {}\nexec \"$@\"\n",
                shell_quote(&log.display().to_string()),
            ),
            0o755,
        )?;
        write_file(&log, "", 0o644)?;
        self.user.own(&log)?;
        let file = self.dir().join("shell_authorized_keys");
        write_file(
            &file,
            &sshd::shell_authorized_keys_line(&bin, &public),
            0o644,
        )?;
        Ok(file)
    }

    /// The folder of the shell login's `dokku` and `sudo` stand-ins.
    pub fn shell_bin(&self) -> PathBuf {
        self.dir().join("shell-bin")
    }

    /// Every command the shell login ran through `sudo`, one per line.
    pub fn sudo_log(&self) -> PathBuf {
        self.dir().join("sudo.log")
    }

    /// The shell login's private key (`None` unless started
    /// [`SandboxOptions::with_shell_login`]). Its user is [`Sandbox::user`].
    pub fn shell_key_path(&self) -> Option<PathBuf> {
        self.shell_login.then(|| self.ssh_dir.join("id_shell"))
    }

    fn write_config(&self) -> Result<(), SandboxError> {
        let config = EmulatorConfig {
            profile: self.profile,
            global_vhost: self.global_vhost.clone(),
            postgres: self.postgres_admin(),
            git_bin_dir: self.tools.git.parent().map(Path::to_path_buf),
            emulator_bin: self.emulator_bin.clone(),
        };
        let text = serde_json::to_string_pretty(&config)
            .map_err(|e| SandboxError::io("serialising emulator.json", io::Error::other(e)))?;
        let path = self.root.join(contract::CONFIG_FILE);
        write_file(&path, &text, 0o600)?;
        self.user.own(&path)
    }

    /// The sandbox's own directory.
    pub fn dir(&self) -> &Path {
        self.dir
            .as_ref()
            .map(|d| d.path())
            .unwrap_or(Path::new("/nonexistent"))
    }

    /// Always `127.0.0.1`.
    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// The port clients use: the proxy's when the proxy is on, else sshd's.
    pub fn port(&self) -> u16 {
        self.proxy
            .as_ref()
            .map(|p| p.port())
            .unwrap_or(self.sshd_port)
    }

    /// sshd's own port (bypassing the proxy).
    pub fn sshd_port(&self) -> u16 {
        self.sshd_port
    }

    /// The delay proxy, when started with one.
    pub fn proxy(&self) -> Option<&DelayProxy> {
        self.proxy.as_ref()
    }

    /// The login user's name (`dokku` when run as root).
    pub fn user(&self) -> &str {
        &self.user.name
    }

    /// The login user.
    pub fn login_user(&self) -> &LoginUser {
        &self.user
    }

    /// The modelled Dokku version.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// The global vhost.
    pub fn global_vhost(&self) -> &str {
        &self.global_vhost
    }

    /// The client's private key.
    pub fn key_path(&self) -> PathBuf {
        self.ssh_dir.join("id_ed25519")
    }

    /// The known_hosts file pinning the host key (for sshd's and the proxy's
    /// ports).
    pub fn known_hosts_path(&self) -> PathBuf {
        self.ssh_dir.join("known_hosts")
    }

    /// The emulator root (its state, faults, received log).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The emulator binary sshd runs (the sandbox's copy).
    pub fn emulator_bin(&self) -> &Path {
        &self.emulator_bin
    }

    /// The programs found at start.
    pub fn tools(&self) -> &Tools {
        &self.tools
    }

    /// The PostgreSQL port.
    pub fn pg_port(&self) -> u16 {
        self.postgres.as_ref().map(|c| c.port).unwrap_or(0)
    }

    /// The superuser connection the emulator uses.
    pub fn postgres_admin(&self) -> PostgresAdmin {
        let (port, password, bin_dir) = match &self.postgres {
            Some(c) => (c.port, c.password.clone(), c.bin_dir.clone()),
            None => (0, String::new(), self.tools.postgres_bin.clone()),
        };
        PostgresAdmin {
            host: "127.0.0.1".into(),
            port,
            superuser: postgres::SUPERUSER.into(),
            password,
            bin_dir,
        }
    }

    /// A `psql` command connected to `database` as the superuser (no psqlrc,
    /// stops on the first error).
    pub fn psql(&self, database: &str) -> Command {
        let admin = self.postgres_admin();
        let mut cmd = Command::new(admin.bin_dir.join("psql"));
        cmd.env("PGPASSWORD", &admin.password)
            .args(["-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p"])
            .arg(admin.port.to_string())
            .args(["-U", &admin.superuser, "-d", database]);
        cmd
    }

    /// The SSH target: this sandbox as the tests' [`TestTarget`].
    pub fn target(&self) -> TestTarget {
        TestTarget {
            host: self.host().to_string(),
            port: self.port(),
            user: self.user.name.clone(),
            key: Some(self.key_path()),
            known_hosts: Some(self.known_hosts_path()),
        }
    }

    fn ssh_options(&self, port: u16) -> Vec<String> {
        vec![
            "-F".into(),
            "/dev/null".into(),
            "-i".into(),
            self.key_path().display().to_string(),
            "-p".into(),
            port.to_string(),
            "-o".into(),
            format!("UserKnownHostsFile={}", self.known_hosts_path().display()),
            "-o".into(),
            "StrictHostKeyChecking=yes".into(),
            "-o".into(),
            "BatchMode=yes".into(),
            "-o".into(),
            "IdentitiesOnly=yes".into(),
        ]
    }

    /// `ssh ... -- USER@127.0.0.1` through [`Sandbox::port`]; add the Dokku
    /// command as arguments (`--` stops ssh from reading a leading
    /// `--force` or `--quiet` as its own option).
    pub fn ssh_command(&self) -> Command {
        self.ssh_command_to(self.port())
    }

    /// `ssh ... USER@127.0.0.1` on a given port (sshd's or the proxy's).
    pub fn ssh_command_to(&self, port: u16) -> Command {
        let mut cmd = Command::new(&self.tools.ssh);
        cmd.args(self.ssh_options(port)).arg("--").arg(format!(
            "{}@{}",
            self.user.name,
            self.host()
        ));
        cmd
    }

    /// Runs `ssh ... USER@127.0.0.1 ARGS...` and returns its output.
    pub fn ssh(&self, args: &[&str]) -> io::Result<Output> {
        self.ssh_command().args(args).output()
    }

    /// The same `ssh` line as one copy-pastable shell command.
    pub fn ssh_line(&self) -> String {
        let mut words = vec![self.tools.ssh.display().to_string()];
        words.extend(self.ssh_options(self.port()));
        words.push("--".into());
        words.push(format!("{}@{}", self.user.name, self.host()));
        words
            .iter()
            .map(|w| shell_quote(w))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A value for `GIT_SSH_COMMAND` (`git push USER@127.0.0.1:APP ...`).
    pub fn git_ssh_command(&self) -> String {
        let mut words = vec![self.tools.ssh.display().to_string()];
        words.extend(self.ssh_options(self.port()));
        words
            .iter()
            .map(|w| shell_quote(w))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The git remote of an app: `USER@127.0.0.1:APP`.
    pub fn git_remote(&self, app: &str) -> String {
        format!("{}@{}:{}", self.user.name, self.host(), app)
    }

    /// Writes a `pix.toml` describing this sandbox as host `sandbox` and the
    /// sample app as environment `development`; see [`pix_toml`] for the
    /// exact content.
    pub fn write_pix_toml(&self, path: &Path) -> Result<(), SandboxError> {
        let key = self.key_path();
        let known_hosts = self.known_hosts_path();
        let text = pix_toml::render(&pix_toml::PixTomlHost {
            address: self.host(),
            port: self.port(),
            user: &self.user.name,
            key: &key,
            known_hosts: &known_hosts,
        });
        write_file(path, &text, 0o644)
    }

    /// Arms a fault: writes `<root>/faults/NNNNNN.json` (applied in name
    /// order by the emulator).
    pub fn inject_fault(&self, fault: Fault) -> Result<PathBuf, SandboxError> {
        let faults = self.root.join(contract::FAULTS_DIR);
        let seq = self.fault_seq.fetch_add(1, Ordering::SeqCst);
        let text = serde_json::to_string(&fault)
            .map_err(|e| SandboxError::io("serialising a fault", io::Error::other(e)))?;
        let tmp = faults.join(format!(".{seq:06}.tmp"));
        let path = faults.join(format!("{seq:06}.json"));
        write_file(&tmp, &text, 0o644)?;
        self.user.own(&tmp)?;
        std::fs::rename(&tmp, &path)
            .map_err(|e| SandboxError::io(format!("moving a fault to {}", path.display()), e))?;
        Ok(path)
    }

    /// Faults not yet used up.
    pub fn pending_faults(&self) -> usize {
        std::fs::read_dir(self.root.join(contract::FAULTS_DIR))
            .map(|d| {
                d.flatten()
                    .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                    .count()
            })
            .unwrap_or(0)
    }

    /// Every command the emulator received, in order.
    pub fn received(&self) -> Result<Vec<ReceivedCommand>, SandboxError> {
        contract::read_received(&self.root).map_err(|e| {
            SandboxError::io(
                format!(
                    "reading {}",
                    self.root.join(contract::RECEIVED_FILE).display()
                ),
                e,
            )
        })
    }

    /// The pids the sandbox started or knows of.
    pub fn pids(&self) -> SandboxPids {
        SandboxPids {
            sshd: self.sshd.as_ref().map(|c| c.id() as i32),
            postgres: self.postgres.as_ref().and_then(|c| c.pid()),
            apps: procs::pid_files(&self.root.join(contract::RUN_DIR)),
        }
    }

    /// Every live process that belongs to the sandbox.
    pub fn processes(&self) -> BTreeSet<i32> {
        let p = self.pids();
        let roots: Vec<i32> = p.sshd.into_iter().chain(p.postgres).chain(p.apps).collect();
        procs::sandbox_processes(&roots, self.dir())
    }

    fn teardown(&mut self) {
        self.proxy = None;
        let run_dir = self.root.join(contract::RUN_DIR);
        let dir = self.dir().to_path_buf();
        // Snapshot first: once the sshd listener dies, its connection
        // processes are reparented and the tree can no longer be followed.
        let mut roots: Vec<i32> = procs::pid_files(&run_dir);
        roots.extend(self.sshd.as_ref().map(|c| c.id() as i32));
        let mut doomed: BTreeSet<i32> = procs::descendants(&roots);
        for pgid in procs::pid_files(&run_dir) {
            procs::kill_group(pgid);
        }
        for pid in &doomed {
            procs::kill_pid(*pid);
        }
        if let Some(pg) = &mut self.postgres {
            doomed.extend(pg.pid());
            pg.stop();
        }
        let roots: Vec<i32> = doomed.into_iter().collect();
        procs::sweep(&roots, &dir, Duration::from_secs(5));
        if let Some(mut child) = self.sshd.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        for pgid in procs::pid_files(&run_dir) {
            procs::kill_group(pgid);
        }
        procs::sweep(&roots, &dir, Duration::from_secs(2));
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.teardown();
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reaps_sandboxes_of_dead_owners_only() {
        let parent = tempfile::tempdir().unwrap();
        let dead = {
            let mut c = Command::new("true").spawn().unwrap();
            let pid = c.id();
            c.wait().unwrap();
            pid
        };
        let stale = parent.path().join(format!("{SANDBOX_PREFIX}stale"));
        let live = parent.path().join(format!("{SANDBOX_PREFIX}live"));
        let foreign = parent.path().join("other-dir");
        for d in [&stale, &live, &foreign] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(stale.join(OWNER_FILE), format!("{dead}\n")).unwrap();
        std::fs::write(live.join(OWNER_FILE), format!("{}\n", std::process::id())).unwrap();
        std::fs::write(foreign.join(OWNER_FILE), format!("{dead}\n")).unwrap();
        let mut leftover = Command::new("sleep")
            .arg("300")
            .current_dir(&stale)
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let reaped = reap_stale_sandboxes(parent.path());
        assert_eq!(reaped, vec![stale.clone()]);
        assert!(!stale.exists());
        assert!(live.exists() && foreign.exists());
        let status = leftover.wait().unwrap();
        assert!(!status.success(), "the leftover process was killed");
    }
}
