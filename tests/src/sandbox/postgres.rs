//! The sandbox's private PostgreSQL cluster: `initdb` as the login user, then
//! `postgres` started directly (so the sandbox holds its pid), stopped with
//! `pg_ctl stop -m immediate`.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::user::LoginUser;
use super::{free_port, random_hex, SandboxError};

/// The superuser role of the sandbox's cluster.
pub const SUPERUSER: &str = "postgres";

/// A running cluster.
pub(crate) struct Cluster {
    pub child: Option<Child>,
    pub port: u16,
    pub data_dir: PathBuf,
    pub socket_dir: PathBuf,
    pub bin_dir: PathBuf,
    pub password: String,
    pub user: LoginUser,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("pid", &self.pid())
            .field("port", &self.port)
            .field("data_dir", &self.data_dir)
            .field("password", &"***")
            .finish()
    }
}

impl Cluster {
    /// Initialises a cluster in `dir` (owned by the login user) and starts it.
    pub fn start(dir: &Path, bin_dir: &Path, user: &LoginUser) -> Result<Cluster, SandboxError> {
        let data_dir = dir.join("data");
        let password = random_hex(16)?;
        let pwfile = dir.join("pwfile");
        std::fs::write(&pwfile, format!("{password}\n"))
            .map_err(|e| SandboxError::io(format!("writing {}", pwfile.display()), e))?;
        user.own(&pwfile)?;
        let mut initdb = Command::new(bin_dir.join("initdb"));
        initdb
            .arg("-D")
            .arg(&data_dir)
            .args([
                "-U",
                SUPERUSER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .args(["--no-sync", "-E", "UTF8", "--locale=C"])
            .current_dir(dir)
            .stdin(Stdio::null());
        user.apply(&mut initdb);
        let out = initdb.output().map_err(|e| {
            SandboxError::io(format!("running {}", bin_dir.join("initdb").display()), e)
        })?;
        let _ = std::fs::remove_file(&pwfile);
        if !out.status.success() {
            return Err(SandboxError::Command {
                what: "initdb".into(),
                status: out.status.to_string(),
                output: format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            });
        }
        let mut cluster = Cluster {
            child: None,
            port: 0,
            data_dir,
            socket_dir: dir.to_path_buf(),
            bin_dir: bin_dir.to_path_buf(),
            password,
            user: user.clone(),
        };
        let mut last_error = None;
        for _ in 0..4 {
            match cluster.launch() {
                Ok(()) => return Ok(cluster),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| SandboxError::User("postgres did not start".into())))
    }

    fn launch(&mut self) -> Result<(), SandboxError> {
        let port = free_port()?;
        let log_path = self.socket_dir.join("postgres.log");
        let log = std::fs::File::create(&log_path)
            .map_err(|e| SandboxError::io(format!("creating {}", log_path.display()), e))?;
        let log2 = log
            .try_clone()
            .map_err(|e| SandboxError::io("duplicating the postgres log handle", e))?;
        let mut cmd = Command::new(self.bin_dir.join("postgres"));
        cmd.arg("-D")
            .arg(&self.data_dir)
            .arg("-p")
            .arg(port.to_string())
            .arg("-k")
            .arg(&self.socket_dir)
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=50",
                "-c",
                "shared_buffers=16MB",
                "-c",
                "unix_socket_permissions=0700",
            ])
            .current_dir(&self.socket_dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .process_group(0);
        self.user.apply(&mut cmd);
        let mut child = cmd.spawn().map_err(|e| {
            SandboxError::io(
                format!("starting {}", self.bin_dir.join("postgres").display()),
                e,
            )
        })?;
        let deadline = Instant::now() + Duration::from_secs(30);
        let pid_file = self.data_dir.join("postmaster.pid");
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                return Err(SandboxError::Command {
                    what: format!("postgres on port {port}"),
                    status: status.to_string(),
                    output: log,
                });
            }
            let ready = std::fs::read_to_string(&pid_file)
                .map(|t| t.lines().nth(7).is_some_and(|l| l.trim() == "ready"))
                .unwrap_or(false);
            if ready {
                self.port = port;
                self.child = Some(child);
                return Ok(());
            }
            if Instant::now() >= deadline {
                super::procs::kill_group(child.id() as i32);
                let _ = child.wait();
                return Err(SandboxError::NotReady {
                    what: "postgres".into(),
                    seconds: 30,
                    log: std::fs::read_to_string(&log_path).unwrap_or_default(),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `pg_ctl stop -m immediate`, then makes sure the postmaster is gone.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(None) = child.try_wait() {
            let mut pg_ctl = Command::new(self.bin_dir.join("pg_ctl"));
            pg_ctl
                .arg("stop")
                .arg("-D")
                .arg(&self.data_dir)
                .args(["-m", "immediate", "-w", "-t", "10"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            self.user.apply(&mut pg_ctl);
            let _ = pg_ctl.status();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() >= deadline => {
                    super::procs::kill_group(child.id() as i32);
                    let _ = child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }

    /// The postmaster's pid.
    pub fn pid(&self) -> Option<i32> {
        self.child.as_ref().map(|c| c.id() as i32)
    }
}
