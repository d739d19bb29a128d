//! The sandbox's OpenSSH server: keys, configuration and start.

use std::io::Read;
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, SandboxError};

/// Generates an ed25519 key pair at `path` (and `path.pub`); returns the
/// public key line (`ssh-ed25519 AAAA... comment`).
pub(crate) fn keygen(
    ssh_keygen: &Path,
    path: &Path,
    comment: &str,
) -> Result<String, SandboxError> {
    let out = Command::new(ssh_keygen)
        .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| SandboxError::io(format!("running {}", ssh_keygen.display()), e))?;
    if !out.status.success() {
        return Err(SandboxError::Command {
            what: format!("ssh-keygen for {}", path.display()),
            status: out.status.to_string(),
            output: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    let pub_path = PathBuf::from(format!("{}.pub", path.display()));
    let text = std::fs::read_to_string(&pub_path)
        .map_err(|e| SandboxError::io(format!("reading {}", pub_path.display()), e))?;
    Ok(text.trim().to_string())
}

/// The public key without its comment (`ssh-ed25519 AAAA...`).
pub fn key_without_comment(line: &str) -> String {
    line.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `authorized_keys` line: the key may only run the emulator, as Dokku's
/// sshcommand does, with the `FINGERPRINT` and `NAME` variables sshcommand
/// sets (`ssh-keys:list` and triggers read them). `restrict` turns off
/// forwarding, agent and X11; `pty` is given back because Dokku allows a
/// terminal (`ssh -t ... run`, `postgres:connect`).
pub fn authorized_keys_line(
    emulator: &Path,
    root: &Path,
    client_pub: &str,
    fingerprint: &str,
    name: &str,
) -> String {
    format!(
        "restrict,pty,command=\"FINGERPRINT={fingerprint} NAME=\\\"{name}\\\" {} --root {}\" {}\n",
        emulator.display(),
        root.display(),
        key_without_comment(client_pub)
    )
}

/// The `SHA256:...` fingerprint of a public key file (`ssh-keygen -lf`).
pub(crate) fn fingerprint(ssh_keygen: &Path, pub_path: &Path) -> Result<String, SandboxError> {
    let out = Command::new(ssh_keygen)
        .arg("-lf")
        .arg(pub_path)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| SandboxError::io(format!("running {}", ssh_keygen.display()), e))?;
    let text = String::from_utf8_lossy(&out.stdout);
    match text.split_whitespace().nth(1) {
        Some(fp) if out.status.success() && fp.starts_with("SHA256:") => Ok(fp.to_string()),
        _ => Err(SandboxError::Command {
            what: format!("ssh-keygen -lf {}", pub_path.display()),
            status: out.status.to_string(),
            output: format!("{text}{}", String::from_utf8_lossy(&out.stderr)),
        }),
    }
}

/// The known_hosts lines pinning the host key on every port that reaches it.
pub fn known_hosts(host_pub: &str, ports: &[u16]) -> String {
    let key = key_without_comment(host_pub);
    ports
        .iter()
        .map(|p| format!("[127.0.0.1]:{p} {key}\n"))
        .collect()
}

/// Paths the sshd configuration names.
#[derive(Debug, Clone)]
pub(crate) struct SshdFiles {
    pub host_key: PathBuf,
    pub pid_file: PathBuf,
    pub authorized_keys: PathBuf,
    /// A second keys file (the shell login's key), when there is one.
    pub extra_authorized_keys: Option<PathBuf>,
    pub config: PathBuf,
    pub log: PathBuf,
}

/// The `authorized_keys` line of the shell login: no Dokku forced command;
/// the key runs what the client sends through `/bin/sh`, with `bin` first
/// on `PATH` (the `dokku` and `sudo` stand-ins), as a shell user's login
/// would. (sshd cannot set `PATH` per key without `PermitUserEnvironment`,
/// so a forced command sets it and runs the original command.)
pub fn shell_authorized_keys_line(bin: &Path, client_pub: &str) -> String {
    format!(
        "restrict,pty,command=\"PATH={}:/usr/local/bin:/usr/bin:/bin; export PATH; exec /bin/sh -c \\\"$SSH_ORIGINAL_COMMAND\\\"\" {} pix-sandbox-shell\n",
        bin.display(),
        key_without_comment(client_pub)
    )
}

/// The sshd configuration.
pub fn config_text(
    port: u16,
    host_key: &Path,
    pid_file: &Path,
    authorized_keys: &Path,
    user: &str,
) -> String {
    config_text_with_keys(port, host_key, pid_file, &[authorized_keys], user)
}

/// The sshd configuration with several `authorized_keys` files.
pub fn config_text_with_keys(
    port: u16,
    host_key: &Path,
    pid_file: &Path,
    authorized_keys: &[&Path],
    user: &str,
) -> String {
    let authorized_keys = authorized_keys
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "# pix sandbox sshd\n\
         ListenAddress 127.0.0.1\n\
         Port {port}\n\
         HostKey {host_key}\n\
         PidFile {pid_file}\n\
         AuthorizedKeysFile {authorized_keys}\n\
         AllowUsers {user}\n\
         StrictModes no\n\
         PubkeyAuthentication yes\n\
         PasswordAuthentication no\n\
         KbdInteractiveAuthentication no\n\
         HostbasedAuthentication no\n\
         AuthenticationMethods publickey\n\
         PermitRootLogin no\n\
         UsePAM no\n\
         UseDNS no\n\
         MaxSessions 10\n\
         MaxStartups 100\n\
         LoginGraceTime 30\n\
         PrintMotd no\n\
         PrintLastLog no\n\
         PermitUserEnvironment no\n\
         AllowTcpForwarding no\n\
         X11Forwarding no\n\
         LogLevel INFO\n",
        host_key = host_key.display(),
        pid_file = pid_file.display(),
    )
}

/// Starts sshd on a free port (a few tries: a port may be taken between
/// picking it and binding it). Returns the child and its port.
pub(crate) fn start(
    sshd: &Path,
    files: &SshdFiles,
    user: &str,
) -> Result<(Child, u16), SandboxError> {
    if nix::unistd::Uid::effective().is_root() {
        // sshd's privilege separation directory.
        std::fs::create_dir_all("/run/sshd")
            .map_err(|e| SandboxError::io("creating /run/sshd", e))?;
    }
    let mut last = None;
    for _ in 0..4 {
        let port = free_port()?;
        let mut keys = vec![files.authorized_keys.as_path()];
        keys.extend(files.extra_authorized_keys.as_deref());
        let text = config_text_with_keys(port, &files.host_key, &files.pid_file, &keys, user);
        std::fs::write(&files.config, text)
            .map_err(|e| SandboxError::io(format!("writing {}", files.config.display()), e))?;
        let log = std::fs::File::create(&files.log)
            .map_err(|e| SandboxError::io(format!("creating {}", files.log.display()), e))?;
        let mut child = Command::new(sshd)
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(&files.config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .process_group(0)
            .spawn()
            .map_err(|e| SandboxError::io(format!("starting {}", sshd.display()), e))?;
        match wait_for_banner(&mut child, port, &files.log) {
            Ok(()) => return Ok((child, port)),
            Err(e) => {
                super::procs::kill_group(child.id() as i32);
                let _ = child.wait();
                last = Some(e);
            }
        }
    }
    Err(last.unwrap_or_else(|| SandboxError::User("sshd did not start".into())))
}

fn wait_for_banner(child: &mut Child, port: u16, log: &Path) -> Result<(), SandboxError> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(SandboxError::Command {
                what: format!("sshd on port {port}"),
                status: status.to_string(),
                output: std::fs::read_to_string(log).unwrap_or_default(),
            });
        }
        if let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 4];
            if s.read_exact(&mut buf).is_ok() && &buf == b"SSH-" {
                return Ok(());
            }
        }
        if Instant::now() >= deadline {
            return Err(SandboxError::NotReady {
                what: "sshd".into(),
                seconds: 20,
                log: std::fs::read_to_string(log).unwrap_or_default(),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorized_keys_line_forces_the_emulator() {
        let line = authorized_keys_line(
            Path::new("/tmp/pxs-a/bin/dokku-emulator"),
            Path::new("/tmp/pxs-a/root"),
            "ssh-ed25519 AAAAC3Nza key-comment",
            "SHA256:abc",
            "default",
        );
        assert_eq!(
            line,
            "restrict,pty,command=\"FINGERPRINT=SHA256:abc NAME=\\\"default\\\" /tmp/pxs-a/bin/dokku-emulator --root /tmp/pxs-a/root\" ssh-ed25519 AAAAC3Nza\n"
        );
    }

    #[test]
    fn known_hosts_pins_every_port() {
        assert_eq!(
            known_hosts("ssh-ed25519 AAAAhost host", &[2222, 3333]),
            "[127.0.0.1]:2222 ssh-ed25519 AAAAhost\n[127.0.0.1]:3333 ssh-ed25519 AAAAhost\n"
        );
    }

    #[test]
    fn config_has_the_settings_sshd_needs_here() {
        let text = config_text(
            2200,
            Path::new("/s/ssh/host"),
            Path::new("/s/ssh/pid"),
            Path::new("/s/authorized_keys"),
            "dokku",
        );
        for line in [
            "ListenAddress 127.0.0.1",
            "Port 2200",
            "HostKey /s/ssh/host",
            "AuthorizedKeysFile /s/authorized_keys",
            "StrictModes no",
            "PasswordAuthentication no",
            "UsePAM no",
            "MaxSessions 10",
            "AllowUsers dokku",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        assert!(!text.contains("AcceptEnv"));
        let two = config_text_with_keys(
            2200,
            Path::new("/h"),
            Path::new("/p"),
            &[Path::new("/a"), Path::new("/b")],
            "dokku",
        );
        assert!(
            two.lines().any(|l| l == "AuthorizedKeysFile /a /b"),
            "{two}"
        );
    }

    #[test]
    fn the_shell_login_line_sets_path_and_runs_the_original_command() {
        let line = shell_authorized_keys_line(Path::new("/s/shell-bin"), "ssh-ed25519 AAAAk c");
        assert_eq!(
            line,
            "restrict,pty,command=\"PATH=/s/shell-bin:/usr/local/bin:/usr/bin:/bin; export PATH; exec /bin/sh -c \\\"$SSH_ORIGINAL_COMMAND\\\"\" ssh-ed25519 AAAAk pix-sandbox-shell\n"
        );
    }
}
