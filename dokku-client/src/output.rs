//! The raw result of running a command: exit code, stdout and stderr as bytes.

use std::borrow::Cow;

use serde::Serialize;

/// The prefix Dokku's `dokku_log_warn`/`dokku_log_fail` helpers put before a message.
pub const WARN_PREFIX: &str = " !     ";

/// What a command returned. Streams are kept apart and binary-safe.
///
/// When stdout was streamed to a sink, `stdout` is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Output {
    /// The remote exit code (`run` returns the container's).
    pub exit_code: i32,
    /// Raw stdout bytes.
    #[serde(serialize_with = "lossy")]
    pub stdout: Vec<u8>,
    /// Raw stderr bytes.
    #[serde(serialize_with = "lossy")]
    pub stderr: Vec<u8>,
}

fn lossy<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(bytes))
}

impl Output {
    /// Builds an output from text (handy in tests and scripted transports).
    pub fn new(exit_code: i32, stdout: impl Into<Vec<u8>>, stderr: impl Into<Vec<u8>>) -> Self {
        Output {
            exit_code,
            stdout: stdout.into(),
            stderr: stderr.into(),
        }
    }

    /// True when the exit code is 0.
    pub fn success(&self) -> bool {
        self.exit_code == 0
    }

    /// stdout as text (invalid UTF-8 replaced).
    pub fn stdout_text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.stdout)
    }

    /// stderr as text (invalid UTF-8 replaced).
    pub fn stderr_text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.stderr)
    }

    /// Every stderr line, with a trailing `\r` and the ` !     ` prefix(es) removed.
    pub fn stderr_messages(&self) -> Vec<String> {
        messages(&self.stderr)
    }

    /// Every stdout line that carries the ` !` prefix (build capture moves
    /// deploy errors to stdout), with the prefix(es) removed.
    pub fn stdout_messages(&self) -> Vec<String> {
        text_lines(&self.stdout_text())
            .filter(|l| is_warn_line(l))
            .map(|l| strip_prefix_all(l).to_string())
            .collect()
    }
}

/// Splits text into lines, dropping one trailing `\r` per line and the empty
/// piece after a final newline.
pub fn text_lines(text: &str) -> impl Iterator<Item = &str> {
    let empty = text.is_empty();
    let text = text.strip_suffix('\n').unwrap_or(text);
    text.split('\n')
        .filter(move |_| !empty)
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
}

/// Message lines of a stream: each line with the ` !     ` prefix removed.
///
/// Lines that are not valid UTF-8 are decoded lossily.
pub fn messages(bytes: &[u8]) -> Vec<String> {
    if bytes.is_empty() {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_suffix('\n').unwrap_or(&text);
    text.split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .map(|l| strip_prefix_all(l).to_string())
        .collect()
}

/// Removes every leading ` !     ` prefix (a Go trigger failure doubles it)
/// and the shorter ` ! ` and ` !\t` forms some plugins print: the crate's one
/// rule for a message line (classification and `pix parse` alike).
pub fn strip_prefix_all(line: &str) -> &str {
    let mut l = line;
    loop {
        if let Some(rest) = l.strip_prefix(WARN_PREFIX) {
            l = rest;
        } else if let Some(rest) = l.strip_prefix(" ! ") {
            l = rest.trim_start_matches(' ');
        } else if let Some(rest) = l.strip_prefix(" !\t") {
            l = rest;
        } else {
            return l;
        }
    }
}

/// True when a line carries the ` !` warning prefix.
pub fn is_warn_line(line: &str) -> bool {
    line.starts_with(" ! ") || line.starts_with(" !\t") || line == " !"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_strip_prefix_and_cr() {
        assert_eq!(messages(b" !     a\r\nb\n"), vec!["a", "b"]);
        assert!(messages(b"").is_empty());
        assert_eq!(messages(b"\n"), vec![""]);
    }

    #[test]
    fn text_lines_handles_missing_final_newline() {
        assert_eq!(text_lines("a\nb").collect::<Vec<_>>(), vec!["a", "b"]);
        assert_eq!(text_lines("a\r\n").collect::<Vec<_>>(), vec!["a"]);
        assert_eq!(text_lines("").count(), 0);
    }
}
