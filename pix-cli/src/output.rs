//! Printing: tables, JSON, colour, masking of secrets, and neutralising what
//! came from the server before it reaches a terminal. The formatting
//! functions are pure; [`Out`] does the writing.

use std::io::{IsTerminal, Write};

use dokku_client::command::escape_control;
use dokku_client::transport::LineSink;
use dokku_client::Dsn;
use serde::Serialize;

use crate::exit::Failure;

/// The placeholder for a hidden secret.
pub const MASK: &str = "********";

/// Where and how to print.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    /// `--json`: machine output on stdout.
    pub json: bool,
    /// Colour on stdout.
    pub color: bool,
    /// Colour on stderr.
    pub color_err: bool,
    /// stdout is a terminal.
    pub stdout_tty: bool,
    /// stderr is a terminal.
    pub stderr_tty: bool,
}

/// True when `NO_COLOR` asks for no colour (any non-empty value).
pub fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
        || std::env::var("TERM").is_ok_and(|t| t == "dumb")
}

impl Out {
    /// Detects terminals and `NO_COLOR`.
    pub fn detect(json: bool) -> Out {
        let stdout_tty = std::io::stdout().is_terminal();
        let stderr_tty = std::io::stderr().is_terminal();
        let no_color = no_color_env();
        Out {
            json,
            color: stdout_tty && !no_color,
            color_err: stderr_tty && !no_color,
            stdout_tty,
            stderr_tty,
        }
    }

    /// Writes `text` to stdout as is.
    pub fn raw(&self, bytes: &[u8]) -> Result<(), Failure> {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes)
            .and_then(|()| out.flush())
            .map_err(|e| Failure::io("writing to stdout", e))
    }

    /// Writes `text` and a newline to stdout.
    pub fn line(&self, text: &str) -> Result<(), Failure> {
        self.raw(format!("{text}\n").as_bytes())
    }

    /// Prints `value` as pretty JSON.
    pub fn json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), Failure> {
        let text = serde_json::to_string_pretty(value)
            .map_err(|e| Failure::io("serialising the result as JSON", std::io::Error::other(e)))?;
        self.line(&text)
    }

    /// Prints an aligned table (cells from the server are neutralised).
    pub fn table(&self, headers: &[&str], rows: &[Vec<String>]) -> Result<(), Failure> {
        self.raw(render_table(headers, rows, self.color).as_bytes())
    }

    /// Prints `label: value` rows, aligned.
    pub fn fields(&self, rows: &[(String, String)]) -> Result<(), Failure> {
        self.raw(render_fields(rows, self.color).as_bytes())
    }

    /// Server text made safe for stdout: control characters escaped when
    /// stdout is a terminal, untouched in a pipe.
    pub fn server_text(&self, text: &str) -> String {
        if self.stdout_tty {
            neutralise(text)
        } else {
            text.to_string()
        }
    }

    /// Server text made safe for stderr.
    pub fn server_text_err(&self, text: &str) -> String {
        if self.stderr_tty {
            neutralise(text)
        } else {
            text.to_string()
        }
    }

    /// A line on stderr (progress, notes); write errors are ignored.
    pub fn note(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }

    /// `text` in green on stdout when colour is on.
    pub fn ok_mark(&self, text: &str) -> String {
        paint(text, "32", self.color)
    }

    /// A writer for a command's output streamed to stdout line by line as
    /// it comes, each line neutralised first ([`Out::server_text`]); write
    /// errors are ignored.
    pub fn server_lines(self) -> LineSink<impl FnMut(&[u8]) + Send + Unpin + 'static> {
        LineSink::new(move |line: &[u8]| {
            let text = self.server_text(&String::from_utf8_lossy(line));
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{text}").and_then(|()| stdout.flush());
        })
    }
}

/// Wraps `text` in an SGR colour when `on`.
pub fn paint(text: &str, sgr: &str, on: bool) -> String {
    if on {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// Escapes control characters except newlines and tabs (so multi-line text
/// keeps its shape but cannot drive the terminal).
pub fn neutralise(text: &str) -> String {
    text.split('\n')
        .map(|line| {
            line.split('\t')
                .map(escape_control)
                .collect::<Vec<_>>()
                .join("\t")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Dokku's `true`/`false` as the tables' `yes`/`no` (other values, such as
/// `mixed`, as they are; nothing known: `?`).
pub fn yes_no_text(value: Option<&str>) -> String {
    match value {
        Some("true") => "yes".into(),
        Some("false") => "no".into(),
        Some(v) => v.to_string(),
        None => "?".into(),
    }
}

/// An aligned table: a header row then rows, two spaces between columns, the
/// last column not padded. Every cell is neutralised.
pub fn render_table(headers: &[&str], rows: &[Vec<String>], color: bool) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| escape_control(c)).collect())
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &cells {
        for (i, c) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |cols: Vec<String>, header: bool| -> String {
        let n = cols.len();
        let mut out = String::new();
        for (i, c) in cols.into_iter().enumerate() {
            let pad = widths
                .get(i)
                .copied()
                .unwrap_or(0)
                .saturating_sub(c.chars().count());
            let shown = if header { paint(&c, "1", color) } else { c };
            out.push_str(&shown);
            if i + 1 < n {
                out.push_str(&" ".repeat(pad + 2));
            }
        }
        out.trim_end().to_string() + "\n"
    };
    let mut out = line(headers.iter().map(|h| h.to_string()).collect(), true);
    for row in cells {
        out.push_str(&line(row, false));
    }
    out
}

/// `label: value` rows with values aligned; labels in bold with colour.
pub fn render_fields(rows: &[(String, String)], color: bool) -> String {
    let width = rows
        .iter()
        .map(|(l, _)| l.chars().count() + 1)
        .max()
        .unwrap_or(0);
    rows.iter()
        .map(|(label, value)| {
            let label = format!("{label}:");
            let pad = width.saturating_sub(label.chars().count());
            format!(
                "{}{}  {}\n",
                paint(&label, "1", color),
                " ".repeat(pad),
                escape_control(value)
            )
            .trim_end()
            .to_string()
                + "\n"
        })
        .collect()
}

/// True for config keys whose values are secrets: names containing
/// PASSWORD, SECRET, TOKEN or KEY (any case).
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_uppercase();
    ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "KEY"]
        .iter()
        .any(|w| k.contains(w))
}

/// A config value as shown without `--reveal`: secrets masked, URLs with a
/// password shown with `***` in its place.
pub fn mask_value(key: &str, value: &str) -> String {
    if is_secret_key(key) {
        return MASK.to_string();
    }
    if url_has_password(value) {
        return Dsn::new(value).redacted();
    }
    value.to_string()
}

/// True for `scheme://user:password@host...`.
pub fn url_has_password(value: &str) -> bool {
    let Some((_, rest)) = value.split_once("://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    authority
        .rsplit_once('@')
        .is_some_and(|(creds, _)| creds.contains(':'))
}

/// A snake_case key as a label (`deploy_source` → `Deploy source`).
pub fn label(key: &str) -> String {
    let spaced = key.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
        None => spaced,
    }
}

/// `12.3 MB (4.1 MB/s)` (pure).
pub fn bytes_and_rate(bytes: u64, elapsed: std::time::Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        (bytes as f64 / secs) as u64
    } else {
        bytes
    };
    format!("{} ({}/s)", human_bytes(bytes), human_bytes(rate))
}

/// `1.5 MB`-style sizes.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_aligned_and_safe() {
        let t = render_table(
            &["APP", "RUNNING", "URL"],
            &[
                vec!["api".into(), "true".into(), "http://api".into()],
                vec!["evil\x1b[2J".into(), "false".into(), String::new()],
            ],
            false,
        );
        assert_eq!(
            t,
            "APP            RUNNING  URL\napi            true     http://api\nevil\\u{1b}[2J  false\n"
        );
        let colored = render_table(&["A"], &[], true);
        assert_eq!(colored, "\x1b[1mA\x1b[0m\n");
    }

    #[test]
    fn fields_are_aligned() {
        let f = render_fields(
            &[
                ("Dsn".into(), "x".into()),
                ("Status".into(), "running".into()),
            ],
            false,
        );
        assert_eq!(f, "Dsn:     x\nStatus:  running\n");
    }

    #[test]
    fn secrets_are_masked() {
        for (k, v, shown) in [
            (
                "DATABASE_URL",
                "postgres://u:pw@h:5432/db",
                "postgres://u:***@h:5432/db",
            ),
            ("REDIS_URL", "redis://h:6379", "redis://h:6379"),
            ("API_TOKEN", "abc", MASK),
            ("db_password", "abc", MASK),
            ("SECRET_KEY_BASE", "abc", MASK),
            ("AWS_ACCESS_KEY_ID", "abc", MASK),
            ("GREETING", "hello", "hello"),
            (
                "OTHER",
                "https://user:pw@example.com/x",
                "https://user:***@example.com/x",
            ),
            (
                "HOMEPAGE",
                "https://example.com/a@b:c",
                "https://example.com/a@b:c",
            ),
        ] {
            assert_eq!(mask_value(k, v), shown, "{k}");
        }
    }

    #[test]
    fn control_characters_are_neutralised() {
        assert_eq!(neutralise("a\tb\nc\x1b[31md\r"), "a\tb\nc\\u{1b}[31md\\r");
    }

    #[test]
    fn sizes() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_500_000), "1.5 MB");
    }
}
