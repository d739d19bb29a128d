//! `pix ssh trust-host` against the sandbox's sshd: the command the
//! unknown-host error names works as printed; nothing is written without
//! `--yes` (no terminal); what is written equals the sandbox's own
//! known_hosts; a changed key needs `--replace`.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use std::path::Path;

use common::World;
use pix_ops::trust::known_keys;

/// The `pix ssh trust-host ...` command named in an error message.
fn named_command(stderr: &str) -> String {
    stderr
        .split('`')
        .skip(1)
        .step_by(2)
        .find(|c| c.starts_with("pix ") && c.contains(" ssh trust-host "))
        .unwrap_or_else(|| panic!("no trust-host command in:\n{stderr}"))
        .to_string()
}

fn keys(file: &Path, port: u16) -> Vec<(String, String)> {
    let mut k = known_keys(file, "127.0.0.1", port).unwrap();
    k.sort();
    k
}

#[test]
fn trust_host_writes_the_scanned_keys_once_confirmed() {
    let w = World::start();
    let port = w.sb.port();
    let kh = w.dir.path().join("known_hosts");
    std::fs::write(&kh, "").unwrap();
    let khs = kh.to_str().unwrap();

    // Unknown host: refused, and the error names the command to run.
    let failed = w.pix(&["--known-hosts", khs, "apps", "list"]).expect(6);
    // It keeps the files given, so following it writes where the failing
    // command looked (not ~/.ssh/known_hosts).
    let command = named_command(&failed.stderr);
    assert_eq!(
        command,
        format!(
            "pix --config {} --known-hosts {khs} ssh trust-host 127.0.0.1:{port}",
            w.toml.display()
        )
    );
    let words: Vec<&str> = command.split_whitespace().skip(1).collect();

    // That exact command, without a terminal and without --yes: shows the
    // fingerprints, writes nothing.
    let mut args = words.clone();
    let refused = common::run_pix(w.dir.path(), &args, &[], None).expect(4);
    snap!("trust_host_refused", refused);
    assert_eq!(std::fs::read_to_string(&kh).unwrap(), "");

    // With --yes: the keys the sandbox pinned, nothing else.
    args.push("--yes");
    let trusted = common::run_pix(w.dir.path(), &args, &[], None).expect(0);
    snap!("trust_host_added", trusted);
    let sandbox = keys(&w.sb.known_hosts_path(), port);
    assert!(!sandbox.is_empty());
    assert_eq!(keys(&kh, port), sandbox);
    w.pix(&["--known-hosts", khs, "apps", "list"]).expect(0);

    // Again: nothing written.
    let written = std::fs::read(&kh).unwrap();
    let again = common::run_pix(w.dir.path(), &args, &[], None).expect(0);
    assert!(
        again.stdout.contains("already trusted"),
        "{}",
        again.render()
    );
    assert_eq!(std::fs::read(&kh).unwrap(), written);

    // JSON, with the host from pix.toml (no HOST argument) and a new file.
    let kh2 = w.dir.path().join("ssh/known_hosts");
    let json = w
        .pix(&[
            "--known-hosts",
            kh2.to_str().unwrap(),
            "ssh",
            "trust-host",
            "--yes",
            "--json",
        ])
        .expect(0)
        .json();
    assert_eq!(json["port"], port);
    assert_eq!(json["keys"][0]["state"], "new");
    assert_eq!(json["keys"][0]["outcome"], "added");
    assert!(json["keys"][0]["fingerprint_sha256"]
        .as_str()
        .unwrap()
        .starts_with("SHA256:"));
    assert_eq!(keys(&kh2, port), sandbox);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&kh2).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn a_changed_key_needs_replace() {
    let w = World::start();
    let port = w.sb.port();
    // A known_hosts holding another key for the host.
    let other = w.dir.path().join("other");
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other)
        .status()
        .unwrap();
    assert!(status.success());
    let public = std::fs::read_to_string(other.with_extension("pub")).unwrap();
    let mut words = public.split_whitespace();
    let (kind, key) = (words.next().unwrap(), words.next().unwrap());
    let kh = w.dir.path().join("known_hosts");
    std::fs::write(&kh, format!("[127.0.0.1]:{port} {kind} {key}\n")).unwrap();
    let khs = kh.to_str().unwrap();

    let failed = w.pix(&["--known-hosts", khs, "apps", "list"]).expect(6);
    // The named command keeps the files given and asks for --replace.
    let command = named_command(&failed.stderr);
    assert!(
        command.contains(&format!("--known-hosts {khs} ")) && command.ends_with(" --replace"),
        "{command}"
    );
    let mut args: Vec<&str> = command.split_whitespace().skip(1).collect();
    // Without --replace a changed key is refused, even with --yes.
    let mut plain: Vec<&str> = args.iter().copied().filter(|a| *a != "--replace").collect();
    plain.push("--yes");
    let refused = common::run_pix(w.dir.path(), &plain, &[], None).expect(4);
    assert!(
        refused.stderr.contains("--replace") && refused.stdout.contains("DIFFERENT"),
        "{}",
        refused.render()
    );
    assert_eq!(keys(&kh, port), vec![(kind.to_string(), key.to_string())]);

    args.push("--yes");
    let replaced = common::run_pix(w.dir.path(), &args, &[], None).expect(0);
    assert!(
        replaced.stdout.contains("replaced the old keys"),
        "{}",
        replaced.render()
    );
    assert_eq!(keys(&kh, port), keys(&w.sb.known_hosts_path(), port));
    w.pix(&["--known-hosts", khs, "apps", "list"]).expect(0);
}
