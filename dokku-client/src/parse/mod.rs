//! Pure parsers: bytes in, typed values out. No IO.
//!
//! Every parser follows the rules of the Dokku output reference, not only the
//! recorded cases: reports are split at the first `:` (never by column),
//! padding and `\r` are stripped, `--quiet` output without headers is
//! understood, JSON reports are accepted with stripped and legacy keys, and
//! every historical form (0.4.x to 0.38.x, dokku-postgres 1.0.0 to 1.48.0) is
//! handled. Parsers never panic, whatever the bytes.
//!
//! A resource's parsers live with it (`config`'s in [`crate::config::parse`],
//! dokku-postgres's in [`crate::postgres::parse`], re-exported here as
//! [`config`] and [`postgres`]); this module holds what several resources
//! share: reports ([`report`]), one-line lists ([`lines`]), the one
//! shell-word splitter ([`shell_words`], [`shell_split`]) and the rule for
//! Dokku's message lines.
//!
//! The `pix parse` machinery (`parse_case`, `Invocation`, `ParsedCase`: a
//! recorded command line and its output to the fixtures' `expected.json`
//! shape) is in `cases`, behind the crate feature `cases` (off by default;
//! not part of the stable API).

use serde::Serialize;

#[cfg(feature = "cases")]
pub mod cases;
/// `config:*` output (the parsers live in [`crate::config::parse`]).
pub use crate::config::parse as config;
pub mod lines;
/// dokku-postgres output (the parsers live in [`crate::postgres::parse`]).
pub use crate::postgres::parse as postgres;
pub mod report;

pub use crate::apps::parse_apps_list;
pub use crate::logs::{parse_log_line, parse_logs};
pub use crate::plugin::{parse_plugin_list, parse_plugin_list_json};
pub use crate::ps::parse_ps_scale;
pub use crate::ssh_keys::{parse_ssh_keys_list, parse_ssh_keys_list_json};
pub use crate::storage::{parse_storage_list, parse_storage_list_json};
pub use crate::version::parse_version;
pub use config::{
    parse_config_export, parse_config_get, parse_config_set, parse_config_show, parse_config_unset,
    ConfigSetResult, ConfigUnsetResult, ValueQuoting,
};
pub use lines::{parse_deployed_urls, parse_ls, parse_remote_show, parse_steps, LsContainer};
pub use postgres::{
    parse_backup_schedule, parse_exposed_ports, parse_postgres_info, parse_postgres_list,
    BackupSchedule, PostgresListEntry,
};
pub use report::{
    parse_report_json, parse_report_text, snake_label, JsonReports, ReportBlock, ReportJson,
};

#[cfg(feature = "cases")]
pub use cases::{parse_case, CaseError, Invocation, ParsedCase};

/// A parser failure: what was expected, and the text that did not fit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ParseError {
    /// What was wrong.
    pub message: String,
    /// The offending text (truncated to 200 characters).
    pub text: String,
}

impl ParseError {
    /// A parse error about `text`.
    pub fn new(message: impl Into<String>, text: &str) -> Self {
        ParseError {
            message: message.into(),
            text: text.chars().take(200).collect(),
        }
    }
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (in {:?})", self.message, self.text)
    }
}

impl std::error::Error for ParseError {}

impl ParseError {
    /// Converts into the crate error for `command`.
    pub fn into_error(self, command: &str) -> crate::Error {
        crate::Error::Parse {
            command: command.to_string(),
            message: self.message,
            text: self.text,
        }
    }
}

/// What the splitter does with a quote that is not closed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unclosed {
    /// The quote runs to the end of the text.
    RunsToTheEnd,
    /// The text is refused.
    Refused,
}

/// Splits text into words as a POSIX shell does for simple words (the one
/// splitter of the crate): space, tab and newline separate; `'...'` is
/// literal; `"..."` honours `\"`, `\\`, `\$` and `` \` `` and keeps any
/// other backslash; a backslash outside quotes escapes the next character;
/// a backslash-newline is removed (a continued line). `None` when a quote is
/// not closed. No expansion of any kind.
pub fn shell_words(text: &str) -> Option<Vec<String>> {
    split_words(text, Unclosed::Refused)
}

/// [`shell_words`], where an unclosed quote runs to the end of the line
/// (for text a server printed, which must still be read).
pub fn shell_split(line: &str) -> Vec<String> {
    split_words(line, Unclosed::RunsToTheEnd).unwrap_or_default()
}

fn split_words(text: &str, unclosed: Unclosed) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    // The next character inside a quote; `None` ends the text (refused, or
    // the quote closes there).
    let next_quoted = |chars: &mut std::str::Chars<'_>| match chars.next() {
        Some(c) => Some(Some(c)),
        None if unclosed == Unclosed::RunsToTheEnd => Some(None),
        None => None,
    };
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                while let Some(q) = next_quoted(&mut chars)? {
                    if q == '\'' {
                        break;
                    }
                    cur.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = next_quoted(&mut chars)? {
                    match q {
                        '"' => break,
                        '\\' => match next_quoted(&mut chars)? {
                            Some(e @ ('"' | '\\' | '$' | '`')) => cur.push(e),
                            Some('\n') => {}
                            Some(other) => {
                                cur.push('\\');
                                cur.push(other);
                            }
                            None => cur.push('\\'),
                        },
                        q => cur.push(q),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') | None => {}
                    Some(n) => cur.push(n),
                }
            }
            other => {
                in_word = true;
                cur.push(other);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Some(words)
}

/// Reads `--format json` output that is one JSON array of rows (Go's
/// `json.Marshal` in Dokku's plugins, sshcommand's `list`): `command` names
/// the command in the error, which says what the text was instead.
pub(crate) fn json_rows<T: serde::de::DeserializeOwned>(
    text: &str,
    command: &str,
) -> Result<Vec<T>, ParseError> {
    serde_json::from_str(text.trim()).map_err(|e| {
        ParseError::new(
            format!("{command} --format json is not a JSON array of rows: {e}"),
            text,
        )
    })
}

/// Lines of a text with one trailing `\r` removed from each, and without the
/// empty piece after a final newline.
pub fn lines_of(text: &str) -> Vec<&str> {
    line_iter(text).collect()
}

/// The non-empty lines of a one-word-a-line listing, trimmed
/// (`config:keys`, `postgres:links`).
pub fn word_lines(text: &str) -> Vec<String> {
    lines_of(text)
        .into_iter()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The lines of [`lines_of`], one at a time.
pub(crate) fn line_iter(text: &str) -> impl Iterator<Item = &str> {
    // An empty text has no lines (`"".split` would yield one empty piece);
    // `"\n"` has one empty line.
    let count = if text.is_empty() { 0 } else { usize::MAX };
    let text = text.strip_suffix('\n').unwrap_or(text);
    text.split('\n')
        .take(count)
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
}

pub use crate::output::{is_warn_line, strip_prefix_all, WARN_PREFIX};

/// Every stderr line without `\r` and without the ` !     ` prefix(es): the
/// crate's one rule for a command's messages ([`crate::output::messages`]).
pub fn stderr_messages(stderr: &[u8]) -> Vec<String> {
    crate::output::messages(stderr)
}

/// Lines that accompany a failure or a prompt but are not the failure itself.
fn is_noise_message(m: &str) -> bool {
    let m = m.trim();
    m.is_empty()
        || m.starts_with("WARNING: Potentially Destructive Action")
        || m.starts_with("This command will destroy")
        || m.starts_with("To proceed, type")
        || m.starts_with("See `dokku help`")
        || m.starts_with("No healthchecks found")
        || m.starts_with("Detected linux/")
        || m.starts_with("Usage of ")
        || m.starts_with("xargs: ")
        || m.starts_with("Run 'apps:unlock'")
        || m == "A deploy may be in progress."
        || m == "Removing the app lock will not stop in progress deploys."
}

/// Removes the Go 0.11–0.21 `FAILED: ` prefix.
fn strip_failed(m: &str) -> &str {
    m.strip_prefix("FAILED: ").unwrap_or(m).trim_end()
}

/// The failure message of a failed command: the first meaningful stderr
/// line, else the first ` !` line of stdout (warnings before 0.8.1, build
/// capture, pty captures), without prefixes. pflag errors (`unknown flag`)
/// win over the usage text.
pub fn failure_message(stdout: &str, stderr: &[u8]) -> Option<String> {
    let err = stderr_messages(stderr);
    if let Some(flag) = err.iter().find(|m| {
        m.starts_with("unknown flag")
            || m.starts_with("unknown shorthand flag")
            || m.starts_with("flag needs an argument")
            || m.starts_with("invalid argument")
            || m.starts_with("bad flag syntax")
    }) {
        return Some(flag.trim_end().to_string());
    }
    let flag_lines = err.iter().any(|m| m.starts_with("Usage of "));
    if let Some(m) = err
        .iter()
        .filter(|m| !(flag_lines && (m.starts_with("  -") || m.starts_with("      --"))))
        .find(|m| !is_noise_message(m))
    {
        return Some(strip_failed(m).to_string());
    }
    let out_lines = lines_of(stdout);
    if let Some(m) = out_lines
        .iter()
        .filter(|l| is_warn_line(l) || l.starts_with("FAILED: "))
        .map(|l| strip_prefix_all(l))
        .find(|m| !is_noise_message(m))
    {
        return Some(strip_failed(m).to_string());
    }
    // A pty merges stderr into stdout and old versions failed with bare lines.
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        shell_split(s)
    }

    #[test]
    fn shell_split_handles_quotes() {
        assert_eq!(
            argv(r#"config:set myapp GREETING="hello   world" B='x y' C=a\ b"#),
            vec![
                "config:set",
                "myapp",
                "GREETING=hello   world",
                "B=x y",
                "C=a b"
            ]
        );
        assert_eq!(argv("  "), Vec::<String>::new());
        assert_eq!(argv("a ''"), vec!["a", ""]);
    }

    #[test]
    fn failure_messages_follow_the_reference() {
        assert_eq!(
            failure_message(
                "",
                b" !      !     myapp currently has a deploy lock in place. Exiting...\n"
            ),
            Some("myapp currently has a deploy lock in place. Exiting...".into())
        );
        assert_eq!(
            failure_message("", b"FAILED: bad thing\n"),
            Some("bad thing".into())
        );
        assert_eq!(
            failure_message(
                "",
                b"Usage of config:show:\n      --merged   merge\nunknown flag: --x\n"
            ),
            Some("unknown flag: --x".into())
        );
        assert_eq!(failure_message("", b""), None);
        assert_eq!(
            failure_message(" !     No data provided on stdin.\r\n", b""),
            Some("No data provided on stdin.".into())
        );
    }
}
