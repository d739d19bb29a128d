//! The login user: `dokku` (created if missing) when running as root,
//! otherwise the user running the sandbox.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use nix::unistd::{Gid, Uid, User};

use super::SandboxError;

/// The user sshd logs in as and the emulator, app processes and PostgreSQL
/// run as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginUser {
    /// User name.
    pub name: String,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Home directory.
    pub home: PathBuf,
    /// Whether the sandbox itself runs as root (so it switches to this user).
    pub switch: bool,
}

/// The dedicated user created when running as root, as on a Dokku server.
pub const DOKKU_USER: &str = "dokku";

/// Whether this process runs as root (it then logs in as `dokku`).
pub fn running_as_root() -> bool {
    Uid::effective().is_root()
}

static USER_SETUP: Mutex<()> = Mutex::new(());

impl LoginUser {
    /// `dokku` when root (created and unlocked when needed), else the
    /// current user.
    pub fn for_sandbox() -> Result<LoginUser, SandboxError> {
        let uid = Uid::effective();
        if uid.is_root() {
            let _guard = USER_SETUP.lock().unwrap_or_else(|e| e.into_inner());
            ensure_dokku_user()?;
            let user = lookup(DOKKU_USER)?.ok_or_else(|| {
                SandboxError::User(format!(
                    "user {DOKKU_USER} still does not exist after useradd; create it with \
                     `useradd --create-home --shell /bin/bash {DOKKU_USER}`"
                ))
            })?;
            Ok(LoginUser {
                switch: true,
                ..user
            })
        } else {
            let user = User::from_uid(uid)
                .map_err(|e| SandboxError::User(format!("cannot look up uid {uid}: {e}")))?
                .ok_or_else(|| {
                    SandboxError::User(format!(
                        "uid {uid} has no entry in /etc/passwd; sshd needs a named user"
                    ))
                })?;
            Ok(LoginUser {
                name: user.name,
                uid: user.uid.as_raw(),
                gid: user.gid.as_raw(),
                home: user.dir,
                switch: false,
            })
        }
    }

    /// Makes `cmd` run as this user (when the sandbox runs as root).
    pub fn apply(&self, cmd: &mut Command) {
        use std::os::unix::process::CommandExt;
        if self.switch {
            cmd.uid(self.uid).gid(self.gid);
        }
        cmd.env("HOME", &self.home)
            .env("USER", &self.name)
            .env("LOGNAME", &self.name);
    }

    /// Gives `path` to this user (when the sandbox runs as root).
    pub fn own(&self, path: &Path) -> Result<(), SandboxError> {
        if !self.switch {
            return Ok(());
        }
        nix::unistd::chown(
            path,
            Some(Uid::from_raw(self.uid)),
            Some(Gid::from_raw(self.gid)),
        )
        .map_err(|e| {
            SandboxError::io(
                format!("chown {} to {}", path.display(), self.name),
                e.into(),
            )
        })
    }
}

fn lookup(name: &str) -> Result<Option<LoginUser>, SandboxError> {
    let user = User::from_name(name)
        .map_err(|e| SandboxError::User(format!("cannot look up user {name}: {e}")))?;
    Ok(user.map(|u| LoginUser {
        name: u.name,
        uid: u.uid.as_raw(),
        gid: u.gid.as_raw(),
        home: u.dir,
        switch: false,
    }))
}

fn ensure_dokku_user() -> Result<(), SandboxError> {
    if lookup(DOKKU_USER)?.is_none() {
        let out = Command::new("useradd")
            .args(["--create-home", "--shell", "/bin/bash", DOKKU_USER])
            .output()
            .map_err(|e| SandboxError::io("running useradd (package passwd)", e))?;
        // Another process may have created it meanwhile: only fail when it is still missing.
        if !out.status.success() && lookup(DOKKU_USER)?.is_none() {
            return Err(SandboxError::Command {
                what: format!("useradd {DOKKU_USER}"),
                status: out.status.to_string(),
                output: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
    }
    // sshd refuses accounts whose password field is locked ('!'): set it to '*'.
    let shadow = std::fs::read_to_string("/etc/shadow").unwrap_or_default();
    let locked = shadow
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{DOKKU_USER}:")))
        .map(|rest| rest.starts_with('!'))
        .unwrap_or(true);
    if locked {
        let out = Command::new("usermod")
            .args(["-p", "*", DOKKU_USER])
            .output()
            .map_err(|e| SandboxError::io("running usermod (package passwd)", e))?;
        if !out.status.success() {
            return Err(SandboxError::Command {
                what: format!("usermod -p '*' {DOKKU_USER}"),
                status: out.status.to_string(),
                output: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
    }
    Ok(())
}
