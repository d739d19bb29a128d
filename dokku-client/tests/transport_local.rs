//! The local transport against a small fake `dokku` script: argv byte-exact,
//! stdin, exit codes, streams kept apart, large output streamed in constant
//! memory, timeouts that kill the child and its helpers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on setup errors

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use dokku_client::transport::{Limits, LocalTransport};
use dokku_client::{Client, Command, Error, Request, Stdin, Stdout, Transport};
use tokio::io::AsyncWrite;

/// The fake: `argv` prints its arguments NUL-separated, `stdin` echoes stdin,
/// `exit N` exits with N after writing to both streams, `big N` writes N
/// bytes, `sleep` starts a helper and waits, `version` answers like Dokku.
const FAKE: &str = r#"#!/bin/sh
case "$1" in
  version) echo "dokku version 0.38.27" ;;
  argv) shift; printf '%s\0' "$@" ;;
  stdin) cat ;;
  exit) echo "out"; echo " !     failed on purpose" >&2; exit "$2" ;;
  big) head -c "$2" /dev/zero ;;
  sleep) sleep 60 & echo $! > "$2"; wait ;;
  *) echo " !     unknown $1" >&2; exit 1 ;;
esac
"#;

fn fake_dokku(dir: &Path) -> PathBuf {
    let path = dir.join("dokku");
    std::fs::write(&path, FAKE).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn setup() -> (tempfile::TempDir, Client, LocalTransport) {
    let dir = tempfile::tempdir().unwrap();
    let transport = LocalTransport::with_path(fake_dokku(dir.path()));
    let client = Client::builder(transport.clone())
        .timeout(Duration::from_secs(2))
        .build();
    (dir, client, transport)
}

#[tokio::test]
async fn arguments_arrive_byte_exact() {
    let (_dir, client, _) = setup();
    let corpus = [
        "plain",
        "with space",
        "it's",
        "\"double\"",
        "$(reboot)",
        "`id`",
        "a;b",
        "a|b",
        "a && b",
        "back\\slash",
        "ünïcödé ✓",
        "-n",
        "-e",
        "--help",
        "multi\nline",
        "tab\there",
        "*",
        "",
        "'",
    ];
    for value in corpus {
        let out = client
            .run_ok(Command::read("argv").value("app").value(value))
            .await
            .unwrap();
        let words: Vec<&[u8]> = out.stdout.split(|b| *b == 0).collect();
        assert_eq!(words, vec![&b"app"[..], value.as_bytes(), b""], "{value:?}");
    }
    // What Dokku's parse_args would misread, and NUL, are refused.
    for bad in ["--app", "a\0b"] {
        let err = client
            .run(Command::read("argv").value(bad))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "unsafe_argument", "{bad:?}");
    }
}

#[tokio::test]
async fn stdin_is_sent_and_exit_codes_kept() {
    let (_dir, client, _) = setup();
    let payload: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    let out = client
        .execute(Request::new(Command::write("stdin")).stdin(Stdin::Bytes(payload.clone())))
        .await
        .unwrap();
    assert_eq!(out.stdout, payload);
    let reader = std::io::Cursor::new(payload.clone());
    let out = client
        .execute(Request::new(Command::write("stdin")).stdin(Stdin::Reader(Box::new(reader))))
        .await
        .unwrap();
    assert_eq!(out.stdout, payload);

    let out = client.run(Command::read("exit").value("3")).await.unwrap();
    assert_eq!(out.exit_code, 3);
    assert_eq!(out.stdout, b"out\n");
    assert_eq!(out.stderr, b" !     failed on purpose\n");
    let err = client
        .run_ok(Command::read("exit").value("7"))
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), Some(7));
    assert!(err.to_string().contains("failed on purpose"), "{err}");
}

#[tokio::test]
async fn version_is_detected() {
    let (_dir, client, _) = setup();
    assert_eq!(client.version().await.unwrap().minor, 38);
}

/// A writer that counts bytes and keeps none.
struct Counter(Arc<AtomicUsize>);

impl AsyncWrite for Counter {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.0.fetch_add(buf.len(), Ordering::SeqCst);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn large_output_streams_to_a_writer_and_capture_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    // A capture limit far below the streamed size: streaming must not capture.
    let transport = LocalTransport::with_path(fake_dokku(dir.path()))
        .limits(Limits::default().stdout(1024 * 1024).stderr(1024));
    let client = Client::builder(transport)
        .timeout(Duration::from_secs(30))
        .build();
    let count = Arc::new(AtomicUsize::new(0));
    let size = 200 * 1024 * 1024;
    let out = client
        .execute(
            Request::new(Command::read("big").value(size.to_string()))
                .stdout(Stdout::Writer(Box::new(Counter(count.clone())))),
        )
        .await
        .unwrap();
    assert!(out.success());
    assert!(out.stdout.is_empty());
    assert_eq!(count.load(Ordering::SeqCst), size);

    let err = client
        .run(Command::read("big").value((2 * 1024 * 1024).to_string()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "parse", "{err}");
    assert!(err.to_string().contains("stream it"), "{err}");
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            let state = s.rsplit(')').next().unwrap_or("").split_whitespace().next();
            !matches!(state, Some("Z") | Some("X"))
        })
        .unwrap_or(false)
}

#[tokio::test]
async fn a_timeout_kills_the_child_and_its_helpers() {
    let (dir, client, _) = setup();
    let pid_file = dir.path().join("helper.pid");
    let started = Instant::now();
    let err = client
        .run(Command::read("sleep").value(pid_file.to_str().unwrap()))
        .await
        .unwrap_err();
    match &err {
        Error::Timeout { command, waited } => {
            assert!(command.starts_with("sleep "), "{command}");
            assert_eq!(*waited, Duration::from_secs(2));
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    let helper: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    while alive(helper) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!alive(helper), "the helper {helper} survived the timeout");
}

#[tokio::test]
async fn a_missing_binary_is_not_dokku() {
    let transport = LocalTransport::with_path("/nonexistent/dokku");
    let err = transport
        .execute(Request::new(Command::read("version")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "not_dokku", "{err}");
    assert!(transport.target().contains("/nonexistent/dokku"));
}
