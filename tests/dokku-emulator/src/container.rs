//! The container's view of an app: what a Dokku container sees at `/app`.
//!
//! In Dokku every `run`, `run:detached` and app.json `predeploy`/`postdeploy`
//! task runs in a container of the app's image, whose working directory is
//! `/app` (herokuish's `procfile-exec`: `cd "$app_path"` after
//! `procfile-setup-home`, which sets `HOME` to it). The emulator has no
//! containers: the hidden `__app-view <tree> <program> [args...]` mode of its
//! binary enters a private mount namespace (with a user namespace that maps
//! the caller to itself when it is not root), builds a root on a tmpfs out of
//! bind mounts of every top-level entry of the real `/`, binds the app's
//! deployed tree at `/app`, `chroot`s into it and executes the program in
//! `/app` with `HOME=/app`. Writes to `/app` land in the deployed tree, as a
//! predeploy task's land in the image Dokku then deploys.
//!
//! Where the kernel refuses namespaces (no user namespaces for the user, no
//! `CAP_SYS_ADMIN`), the program runs in the tree itself, as the emulator did
//! before: paths under `/app` then do not exist (`app_view_available` tells
//! tests to skip).

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};
use nix::unistd::{chdir, chroot, getgid, getuid};

/// Where the deployed tree is seen.
pub(crate) const APP_DIR: &str = "/app";

/// The hidden mode's name.
pub(crate) const MODE: &str = "__app-view";

/// A command that runs `program` as a container of the app would: in the
/// app view (through the emulator binary `exe` with its state `root`, the
/// tree bound at `/app`, the view's tmpfs mounted at `view_dir`).
/// Arguments, environment and stdio are added by the caller as usual.
pub(crate) fn command(
    exe: &Path,
    root: &Path,
    view_dir: &Path,
    tree: &Path,
    program: &str,
) -> Command {
    let mut cmd = Command::new(exe);
    cmd.arg("--root")
        .arg(root)
        .arg(MODE)
        .arg(view_dir)
        .arg(tree)
        .arg(program)
        .current_dir(tree);
    cmd
}

/// `__app-view <view-dir> <tree> <program> [args...]`: enters the view and
/// executes the program (falling back to the tree when the view cannot be
/// made). Returns only on failure.
pub(crate) fn main(args: &[String]) -> i32 {
    let [view_dir, tree, program, rest @ ..] = args else {
        eprintln!(" !     usage: {MODE} <view-dir> <tree> <program> [args...]");
        return 2;
    };
    let tree = Path::new(tree);
    let mut cmd = Command::new(program);
    cmd.args(rest);
    match enter(Path::new(view_dir), tree) {
        Ok(()) => {
            cmd.env("HOME", APP_DIR).current_dir(APP_DIR);
        }
        Err(_) => {
            cmd.current_dir(tree);
        }
    }
    let e = cmd.exec();
    eprintln!("{program}: {e}");
    if e.kind() == std::io::ErrorKind::NotFound {
        127
    } else {
        126
    }
}

/// Makes this process see `tree` at `/app`: a private mount namespace (and
/// a user namespace when not root), a new root of bind mounts on a tmpfs
/// mounted at `view_dir`, `chroot` into it.
pub(crate) fn enter(view_dir: &Path, tree: &Path) -> Result<(), String> {
    std::fs::create_dir_all(view_dir)
        .map_err(|e| format!("cannot create {}: {e}", view_dir.display()))?;
    let tree = tree
        .canonicalize()
        .map_err(|e| format!("{}: {e}", tree.display()))?;
    let (uid, gid) = (getuid(), getgid());
    if uid.is_root() {
        unshare(CloneFlags::CLONE_NEWNS).map_err(|e| format!("unshare: {e}"))?;
    } else {
        unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS)
            .map_err(|e| format!("unshare: {e}"))?;
        let write = |file: &str, text: String| {
            std::fs::write(format!("/proc/self/{file}"), text)
                .map_err(|e| format!("/proc/self/{file}: {e}"))
        };
        write("setgroups", "deny".into())?;
        write("uid_map", format!("{uid} {uid} 1\n"))?;
        write("gid_map", format!("{gid} {gid} 1\n"))?;
    }
    let none: Option<&str> = None;
    mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none)
        .map_err(|e| format!("making / private: {e}"))?;
    mount(
        Some("tmpfs"),
        view_dir,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some("mode=755"),
    )
    .map_err(|e| format!("tmpfs at {}: {e}", view_dir.display()))?;
    let entries = std::fs::read_dir("/").map_err(|e| format!("reading /: {e}"))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name == "app" {
            continue;
        }
        let source = entry.path();
        let target = view_dir.join(&name);
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_symlink() {
            if let Ok(to) = std::fs::read_link(&source) {
                std::os::unix::fs::symlink(to, &target)
                    .map_err(|e| format!("{}: {e}", target.display()))?;
            }
            continue;
        }
        if kind.is_dir() {
            std::fs::create_dir(&target).map_err(|e| format!("{}: {e}", target.display()))?;
        } else {
            std::fs::File::create(&target).map_err(|e| format!("{}: {e}", target.display()))?;
        }
        // A mount the namespace cannot copy (one it does not own wholly) is
        // left out rather than failing the view.
        let _ = mount(
            Some(&source),
            &target,
            none,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            none,
        );
    }
    let app = view_dir.join("app");
    std::fs::create_dir(&app).map_err(|e| format!("{}: {e}", app.display()))?;
    mount(
        Some(&tree),
        &app,
        none,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        none,
    )
    .map_err(|e| format!("binding {} at /app: {e}", tree.display()))?;
    chdir(view_dir).map_err(|e| format!("chdir: {e}"))?;
    chroot(".").map_err(|e| format!("chroot: {e}"))?;
    chdir(APP_DIR).map_err(|e| format!("chdir /app: {e}"))?;
    Ok(())
}

/// Whether this machine lets the emulator make the view (for tests: they
/// skip with a message when not). Runs `test -d /app/.` through the mode
/// with a probe tree holding a marker file.
pub fn app_view_available(exe: &Path, scratch: &Path) -> bool {
    let tree = scratch.join("app-view-probe");
    if std::fs::create_dir_all(&tree).is_err() || std::fs::write(tree.join("marker"), "").is_err() {
        return false;
    }
    command(exe, scratch, &scratch.join("view"), &tree, "/bin/sh")
        .args(["-c", "test -f /app/marker && test \"$PWD\" = /app"])
        .status()
        .is_ok_and(|s| s.success())
}

/// [`command`] for `app`'s deployed tree, through this emulator's binary.
pub(crate) fn app_command(ctx: &super::Ctx, app: &str, program: &str) -> Command {
    command(
        &ctx.config.emulator_bin,
        &ctx.layout.root,
        &ctx.layout.view_dir(),
        &ctx.layout.tree_dir(app),
        program,
    )
}
