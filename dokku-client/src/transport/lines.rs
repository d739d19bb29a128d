//! Line streaming (`logs -t`, deploy output): a writer that cuts a command's
//! stdout into lines as they arrive and hands each to a callback, in bounded
//! memory.
//!
//! ```
//! use dokku_client::transport::LineSink;
//! use dokku_client::{Command, Request, Stdout};
//! let sink = LineSink::new(|line: &[u8]| println!("{}", String::from_utf8_lossy(line)));
//! let request = Request::new(Command::read("logs").value("myapp").flag("--tail"))
//!     .stdout(Stdout::Writer(Box::new(sink)));
//! # drop(request);
//! ```

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;

/// Default longest line kept: 64 KiB. The rest of a longer line is dropped
/// (a hostile server cannot make the client buffer without end).
pub const DEFAULT_MAX_LINE: usize = 64 * 1024;

/// An [`AsyncWrite`] that calls `on_line` with every complete line (without
/// its `\n`; a `\r` before it is kept), and with the last unterminated line
/// when the stream ends. Lines longer than the limit are cut to it.
pub struct LineSink<F> {
    on_line: F,
    partial: Vec<u8>,
    max_line: usize,
    /// The current line already exceeded the limit: skip to its end.
    skipping: bool,
}

impl<F> std::fmt::Debug for LineSink<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineSink")
            .field("buffered", &self.partial.len())
            .field("max_line", &self.max_line)
            .finish()
    }
}

impl<F: FnMut(&[u8])> LineSink<F> {
    /// Calls `on_line` per line, lines cut at [`DEFAULT_MAX_LINE`] bytes.
    pub fn new(on_line: F) -> Self {
        LineSink::with_max_line(on_line, DEFAULT_MAX_LINE)
    }

    /// Calls `on_line` per line, lines cut at `max_line` bytes (at least 1).
    pub fn with_max_line(on_line: F, max_line: usize) -> Self {
        LineSink {
            on_line,
            partial: Vec::new(),
            max_line: max_line.max(1),
            skipping: false,
        }
    }

    /// Consumes bytes, calling the callback for each finished line.
    pub fn push(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            match bytes.iter().position(|b| *b == b'\n') {
                Some(end) => {
                    self.append(&bytes[..end]);
                    if !self.skipping || !self.partial.is_empty() {
                        (self.on_line)(&self.partial);
                    }
                    self.partial.clear();
                    self.skipping = false;
                    bytes = &bytes[end + 1..];
                }
                None => {
                    self.append(bytes);
                    bytes = &[];
                }
            }
        }
    }

    /// Delivers an unterminated last line, if any.
    pub fn finish(&mut self) {
        if !self.partial.is_empty() {
            (self.on_line)(&self.partial);
            self.partial.clear();
        }
        self.skipping = false;
    }

    fn append(&mut self, bytes: &[u8]) {
        if self.skipping {
            return;
        }
        let room = self.max_line - self.partial.len();
        if bytes.len() > room {
            self.partial.extend_from_slice(&bytes[..room]);
            // Deliver the cut line now and drop the rest of it.
            (self.on_line)(&self.partial);
            self.partial.clear();
            self.skipping = true;
        } else {
            self.partial.extend_from_slice(bytes);
        }
    }
}

impl<F: FnMut(&[u8]) + Unpin> AsyncWrite for LineSink<F> {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().finish();
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn collect(chunks: &[&[u8]], max: usize) -> Vec<Vec<u8>> {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink_lines = lines.clone();
        let mut sink = LineSink::with_max_line(
            move |l: &[u8]| sink_lines.lock().unwrap().push(l.to_vec()),
            max,
        );
        for c in chunks {
            sink.push(c);
        }
        sink.finish();
        let got = lines.lock().unwrap().clone();
        got
    }

    #[test]
    fn lines_are_cut_across_chunks() {
        assert_eq!(
            collect(&[b"ab", b"c\nde\r\n\nf"], 100),
            vec![
                b"abc".to_vec(),
                b"de\r".to_vec(),
                b"".to_vec(),
                b"f".to_vec()
            ]
        );
        assert!(collect(&[b""], 100).is_empty());
    }

    #[test]
    fn long_lines_are_bounded() {
        let long = vec![b'x'; 1000];
        let got = collect(&[&long, b"\nnext\n"], 10);
        assert_eq!(got, vec![vec![b'x'; 10], b"next".to_vec()]);
        let got = collect(&[&long[..10], b"\n"], 10);
        assert_eq!(got, vec![vec![b'x'; 10]]);
    }

    #[tokio::test]
    async fn works_as_a_writer() {
        use tokio::io::AsyncWriteExt;
        let lines = Arc::new(Mutex::new(Vec::new()));
        let l2 = lines.clone();
        let mut sink = LineSink::new(move |l: &[u8]| l2.lock().unwrap().push(l.to_vec()));
        sink.write_all(b"one\ntw").await.unwrap();
        sink.write_all(b"o").await.unwrap();
        sink.shutdown().await.unwrap();
        assert_eq!(
            *lines.lock().unwrap(),
            vec![b"one".to_vec(), b"two".to_vec()]
        );
    }
}
