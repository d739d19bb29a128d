//! Stream plumbing shared by the process-based transports (SSH and local):
//! feeding stdin, draining stdout and stderr concurrently, in bounded or
//! constant memory.
//!
//! Pure with respect to where the bytes go: every function takes generic
//! readers and writers, so it is tested with in-memory pipes.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::{Error, Result};
use crate::transport::{Stdin, Stdout};

/// Default bound on captured stdout ([`Stdout::Capture`]): 64 MiB.
pub const DEFAULT_STDOUT_LIMIT: usize = 64 * 1024 * 1024;

/// Default bound on captured stderr: 1 MiB. Beyond it, stderr is still read
/// (so the remote process is not blocked) but discarded, and a marker ends the
/// captured text.
pub const DEFAULT_STDERR_LIMIT: usize = 1024 * 1024;

/// Appended to stderr when it was truncated.
pub const STDERR_TRUNCATED_MARKER: &str = "\n[dokku-client: stderr truncated]\n";

/// Size of the copy buffers: the only memory a stream uses.
const CHUNK: usize = 64 * 1024;

/// Memory bounds for captured streams: [`Default`] (64 MiB of stdout,
/// 1 MiB of stderr) and the setters below.
///
/// ```
/// use dokku_client::transport::Limits;
/// let limits = Limits::default().stdout(1024 * 1024).stderr(64 * 1024);
/// assert_eq!((limits.stdout, limits.stderr), (1 << 20, 1 << 16));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Most bytes of stdout kept by [`Stdout::Capture`]; more is an error.
    pub stdout: usize,
    /// Most bytes of stderr kept; more is dropped and marked.
    pub stderr: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            stdout: DEFAULT_STDOUT_LIMIT,
            stderr: DEFAULT_STDERR_LIMIT,
        }
    }
}

impl Limits {
    /// Sets the most bytes of stdout kept by [`Stdout::Capture`].
    pub fn stdout(mut self, bytes: usize) -> Self {
        self.stdout = bytes;
        self
    }

    /// Sets the most bytes of stderr kept.
    pub fn stderr(mut self, bytes: usize) -> Self {
        self.stderr = bytes;
        self
    }
}

/// Feeds `source` into the child's stdin, then closes it.
///
/// A child that stops reading (broken pipe) is not an error here: the exit
/// status tells what happened. An error reading the *source* is an
/// [`Error::Io`].
pub(crate) async fn feed_stdin<W>(source: Stdin, sink: Option<W>) -> Result<()>
where
    W: AsyncWrite + Unpin,
{
    let Some(mut sink) = sink else {
        return Ok(());
    };
    match source {
        Stdin::Null | Stdin::Inherit => {}
        Stdin::Bytes(bytes) => {
            if let Err(e) = sink.write_all(&bytes).await {
                return tolerate_closed(e, "writing the command's stdin");
            }
        }
        Stdin::Reader(mut reader) => {
            let mut buf = vec![0u8; CHUNK];
            loop {
                let n = reader
                    .read(&mut buf)
                    .await
                    .map_err(|e| Error::io("reading the data to send on stdin", e))?;
                if n == 0 {
                    break;
                }
                if let Err(e) = sink.write_all(&buf[..n]).await {
                    return tolerate_closed(e, "writing the command's stdin");
                }
            }
        }
    }
    if let Err(e) = sink.shutdown().await {
        return tolerate_closed(e, "closing the command's stdin");
    }
    Ok(())
}

fn tolerate_closed(e: io::Error, context: &str) -> Result<()> {
    match e.kind() {
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => Ok(()),
        _ => Err(Error::io(context, e)),
    }
}

/// Reads the child's stdout to its end: captured (bounded by `limit`) or
/// copied to the request's writer in constant memory.
pub(crate) async fn drain_stdout<R>(
    mode: Stdout,
    source: Option<R>,
    limit: usize,
    command: &str,
) -> Result<Vec<u8>>
where
    R: AsyncRead + Unpin,
{
    let Some(mut source) = source else {
        return Ok(Vec::new());
    };
    let mut buf = vec![0u8; CHUNK];
    match mode {
        Stdout::Capture | Stdout::Inherit => {
            let mut out = Vec::new();
            loop {
                let n = source
                    .read(&mut buf)
                    .await
                    .map_err(|e| Error::io("reading the command's stdout", e))?;
                if n == 0 {
                    return Ok(out);
                }
                if out.len() + n > limit {
                    return Err(Error::Parse {
                        command: command.to_string(),
                        message: format!(
                            "the output is larger than the {limit} bytes the client keeps in memory; stream it to a file instead (Stdout::Writer), or raise the capture limit"
                        ),
                        text: String::from_utf8_lossy(&out[..out.len().min(200)]).into_owned(),
                    });
                }
                out.extend_from_slice(&buf[..n]);
            }
        }
        Stdout::Writer(mut writer) => {
            loop {
                let n = source
                    .read(&mut buf)
                    .await
                    .map_err(|e| Error::io("reading the command's stdout", e))?;
                if n == 0 {
                    break;
                }
                writer
                    .write_all(&buf[..n])
                    .await
                    .map_err(|e| Error::io("writing the command's output", e))?;
            }
            writer
                .shutdown()
                .await
                .map_err(|e| Error::io("finishing the command's output", e))?;
            Ok(Vec::new())
        }
    }
}

/// Reads the child's stderr to its end, keeping at most `limit` bytes.
pub(crate) async fn drain_stderr<R>(source: Option<R>, limit: usize) -> Result<Vec<u8>>
where
    R: AsyncRead + Unpin,
{
    let Some(mut source) = source else {
        return Ok(Vec::new());
    };
    let mut buf = vec![0u8; 8 * 1024];
    let mut out = Vec::new();
    let mut truncated = false;
    loop {
        let n = source
            .read(&mut buf)
            .await
            .map_err(|e| Error::io("reading the command's stderr", e))?;
        if n == 0 {
            break;
        }
        let room = limit.saturating_sub(out.len());
        if n > room {
            truncated = true;
        }
        out.extend_from_slice(&buf[..n.min(room)]);
    }
    if truncated {
        out.extend_from_slice(STDERR_TRUNCATED_MARKER.as_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn capture_is_bounded() {
        let data = vec![b'x'; 1000];
        let bytes = drain_stdout(Stdout::Capture, Some(&data[..]), 1000, "c")
            .await
            .unwrap();
        assert_eq!(bytes.len(), 1000);
        let err = drain_stdout(Stdout::Capture, Some(&data[..]), 999, "c")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "parse");
    }

    #[tokio::test]
    async fn stderr_is_truncated_with_marker() {
        let data = vec![b'e'; 5000];
        let got = drain_stderr(Some(&data[..]), 100).await.unwrap();
        assert!(got.starts_with(&[b'e'; 100]));
        assert!(got.ends_with(STDERR_TRUNCATED_MARKER.as_bytes()));
        assert_eq!(got.len(), 100 + STDERR_TRUNCATED_MARKER.len());
        let got = drain_stderr(Some(&b"short"[..]), 100).await.unwrap();
        assert_eq!(got, b"short");
    }

    #[tokio::test]
    async fn stdin_reader_is_copied_and_closed() {
        let (client, mut server) = tokio::io::duplex(16);
        let payload: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let expected = payload.clone();
        let reader = async move {
            let mut got = Vec::new();
            server.read_to_end(&mut got).await.unwrap();
            got
        };
        let (fed, got) = tokio::join!(
            feed_stdin(
                Stdin::Reader(Box::new(std::io::Cursor::new(payload))),
                Some(client)
            ),
            reader
        );
        fed.unwrap();
        assert_eq!(got, expected);
    }

    #[tokio::test]
    async fn stdin_broken_pipe_is_tolerated() {
        let (client, server) = tokio::io::duplex(16);
        drop(server);
        feed_stdin(Stdin::Bytes(vec![1; 1000]), Some(client))
            .await
            .unwrap();
    }
}
