//! `pix_ops::trust` against the sandbox's real sshd: the scanned key is the
//! sandbox's host key, trusting writes one private line, never duplicates,
//! refuses a changed key without `replace`, and the written file is what a
//! strict connection then accepts.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use dokku_client::transport::{SshConfig, SshTransport};
use dokku_client::{Client, Command};
use pix_ops::trust::{fingerprint, known_hosts_name, scan, trust, HostKey, TrustOutcome};
use pix_ops::OpsError;
use pix_sandbox::sandbox::{Sandbox, SandboxOptions};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The sandbox's host key as `(type, base64)`, from its known_hosts file.
fn sandbox_key(sb: &Sandbox) -> (String, String) {
    let text = std::fs::read_to_string(sb.known_hosts_path()).unwrap();
    let words: Vec<&str> = text.lines().next().unwrap().split_whitespace().collect();
    (words[1].to_string(), words[2].to_string())
}

async fn connects_strictly(sb: &Sandbox, known_hosts: &Path) -> bool {
    let config = SshConfig::new(sb.host())
        .port(sb.sshd_port())
        .user(sb.user())
        .key(sb.key_path())
        .known_hosts(known_hosts)
        .config_file("/dev/null");
    match SshTransport::connect(config).await {
        Ok(t) => {
            let client = Client::new(t);
            let ok = client
                .run(Command::read("version"))
                .await
                .unwrap()
                .success();
            client.close().await.unwrap();
            ok
        }
        Err(_) => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_shows_the_real_key_and_trust_writes_it_once_privately() {
    let sb = Sandbox::start(SandboxOptions::default()).expect("sandbox");
    let (key_type, key) = sandbox_key(&sb);

    let keys = scan(sb.host(), sb.sshd_port()).await.expect("scan");
    let found: &HostKey = keys
        .iter()
        .find(|k| k.key_type == key_type)
        .expect("the sandbox's key type is offered");
    assert_eq!(found.key, key, "ssh-keyscan returns the sandbox's host key");
    // The fingerprint is the one ssh-keygen computes from the known_hosts file.
    let listing = std::process::Command::new("ssh-keygen")
        .args(["-l", "-E", "sha256", "-f"])
        .arg(sb.known_hosts_path())
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(
        listing.contains(&found.fingerprint_sha256),
        "{} not in {listing}",
        found.fingerprint_sha256
    );
    assert_eq!(
        fingerprint(&format!("{key_type} {key} comment"))
            .await
            .unwrap(),
        found.fingerprint_sha256
    );

    // Unknown host: a strict connection with an empty file is refused.
    let dir = tempfile::tempdir().unwrap();
    let known_hosts = dir.path().join("fresh").join("ssh").join("known_hosts");
    assert!(!connects_strictly(&sb, &known_hosts).await);

    // Trusting creates the folder 0700 and the file 0600, one line.
    let outcome = trust(&known_hosts, sb.host(), sb.sshd_port(), found, false).unwrap();
    assert_eq!(outcome, TrustOutcome::Added);
    assert_eq!(mode(&known_hosts), 0o600);
    assert_eq!(mode(known_hosts.parent().unwrap()), 0o700);
    let text = std::fs::read_to_string(&known_hosts).unwrap();
    assert_eq!(
        text,
        format!(
            "{} {key_type} {key}\n",
            known_hosts_name(sb.host(), sb.sshd_port())
        )
    );
    // Trusting again writes nothing.
    let outcome = trust(&known_hosts, sb.host(), sb.sshd_port(), found, false).unwrap();
    assert_eq!(outcome, TrustOutcome::AlreadyTrusted);
    assert_eq!(std::fs::read_to_string(&known_hosts).unwrap(), text);
    // And a strict connection now succeeds.
    assert!(connects_strictly(&sb, &known_hosts).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_key_is_only_replaced_when_asked() {
    let sb = Sandbox::start(SandboxOptions::default()).expect("sandbox");
    let dir = tempfile::tempdir().unwrap();
    // Another ed25519 key recorded for the host (the "old" key).
    let other = dir.path().join("other");
    assert!(std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other)
        .status()
        .unwrap()
        .success());
    let other_pub = std::fs::read_to_string(dir.path().join("other.pub")).unwrap();
    let other_words: Vec<&str> = other_pub.split_whitespace().collect();
    let known_hosts = dir.path().join("known_hosts");
    let before = format!(
        "unrelated.example ssh-ed25519 {}\n{} {} {}",
        other_words[1],
        known_hosts_name(sb.host(), sb.sshd_port()),
        other_words[0],
        other_words[1]
    ); // no final newline on purpose
    std::fs::write(&known_hosts, &before).unwrap();
    assert!(
        !connects_strictly(&sb, &known_hosts).await,
        "the old key is refused"
    );

    let keys = scan(sb.host(), sb.sshd_port()).await.unwrap();
    let (key_type, key) = sandbox_key(&sb);
    let new = keys.iter().find(|k| k.key_type == key_type).unwrap();

    let err = trust(&known_hosts, sb.host(), sb.sshd_port(), new, false).unwrap_err();
    assert!(matches!(err, OpsError::Precondition { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains(&new.fingerprint_sha256), "{msg}");
    assert!(msg.contains("--replace"), "{msg}");
    assert_eq!(
        std::fs::read_to_string(&known_hosts).unwrap(),
        before,
        "nothing written without --replace"
    );

    let outcome = trust(&known_hosts, sb.host(), sb.sshd_port(), new, true).unwrap();
    assert_eq!(outcome, TrustOutcome::Replaced);
    let text = std::fs::read_to_string(&known_hosts).unwrap();
    assert!(
        text.contains("unrelated.example"),
        "other hosts are kept: {text}"
    );
    assert!(!text.contains(&format!(
        "{} {} {}",
        known_hosts_name(sb.host(), sb.sshd_port()),
        other_words[0],
        other_words[1]
    )));
    assert_eq!(text.matches(&key).count(), 1, "{text}");
    assert!(connects_strictly(&sb, &known_hosts).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_hosts_and_keys_are_refused_before_any_tool_runs() {
    let dir = tempfile::tempdir().unwrap();
    let known_hosts = dir.path().join("known_hosts");
    for host in ["-oProxyCommand=touch /tmp/pwned", "a b", "h\nevil", ""] {
        assert!(scan(host, 22).await.is_err(), "{host:?}");
    }
    let bad = HostKey {
        key_type: "ssh-ed25519".into(),
        key: "AAAA\n[evil]:22 ssh-ed25519 BBBB".into(),
        fingerprint_sha256: "SHA256:x".into(),
    };
    assert!(trust(&known_hosts, "h", 22, &bad, false).is_err());
    assert!(!known_hosts.exists(), "nothing written");
}
