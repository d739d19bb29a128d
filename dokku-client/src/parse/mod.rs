//! Pure parsers: bytes in, typed values out. No IO.
//!
//! Every parser follows the rules of the Dokku output reference, not only the
//! recorded cases: reports are split at the first `:` (never by column),
//! padding and `\r` are stripped, `--quiet` output without headers is
//! understood, JSON reports are accepted with stripped and legacy keys, and
//! every historical form (0.4.x to 0.38.x, dokku-postgres 1.0.0 to 1.48.0) is
//! handled. Parsers never panic, whatever the bytes.
//!
//! [`parse_case`] is the one entry point used by `pix parse` and the fixture
//! tests: given a command line, stdout, stderr and the exit code, it returns
//! a [`ParsedCase`] with the command-specific `result`, the failure message
//! and the typed value.
//!
//! ```
//! use dokku_client::parse::parse_case;
//! let argv = vec!["apps:list".to_string()];
//! let case = parse_case(&argv, b"=====> My Apps\napi\nmyapp\n", b"", 0);
//! assert!(case.ok);
//! assert_eq!(case.result["apps"], serde_json::json!(["api", "myapp"]));
//! ```

use serde::Serialize;
use serde_json::{json, Value};

use crate::error::classify;
use crate::output::Output;

pub mod config;
mod dispatch;
pub mod lines;
pub mod postgres;
pub mod report;

pub use config::{
    parse_config_export, parse_config_get, parse_config_set, parse_config_show, parse_config_unset,
    ConfigSetResult, ConfigUnsetResult,
};
pub use lines::{
    parse_apps_list, parse_deployed_urls, parse_log_line, parse_logs, parse_ls, parse_plugin_list,
    parse_ps_scale, parse_remote_show, parse_ssh_keys_list, parse_steps, parse_storage_list,
    parse_version, LsContainer,
};
pub use postgres::{
    parse_backup_schedule, parse_exposed_ports, parse_postgres_info, parse_postgres_list,
    BackupSchedule, PostgresListEntry,
};
pub use report::{parse_report_json, parse_report_text, snake_label, ReportBlock, ReportJson};

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

/// The failure part of a [`ParsedCase`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseError {
    /// A stable snake_case kind (`app_not_found`, `command_failed`, `parse`, ...).
    pub kind: String,
    /// The failure message without the ` !     ` prefix, or `None` when the
    /// command failed silently (`config:get` of an unset key, `postgres:destroy`
    /// at end of input).
    pub message: Option<String>,
    /// The exit code.
    pub exit_code: i32,
}

/// Everything `pix parse` prints about one command run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParsedCase {
    /// True when the exit code is 0 and the output parsed.
    pub ok: bool,
    /// The command name without global flags (`apps:report`).
    pub command: String,
    /// The exit code.
    pub exit_code: i32,
    /// Every stderr line, without `\r` and without the ` !     ` prefix.
    pub stderr_messages: Vec<String>,
    /// The command-specific data, in the shape of the fixtures' `expected.json`.
    pub result: Value,
    /// The failure, if any.
    pub error: Option<CaseError>,
    /// The library's typed value for this output, serialized (or `null`).
    pub typed: Value,
}

/// A command line as Dokku's entry script understands it: leading global
/// flags removed, `--app X` inserted for core plugins, flags found anywhere.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invocation {
    /// The leading global flags (with the value of `--app`).
    pub global: Vec<String>,
    /// The command name (`apps:report`; `version` for `-v`/`--version`).
    pub command: String,
    /// The arguments after the command (with `--app`'s value first for core plugins).
    pub args: Vec<String>,
    /// `--quiet` appeared anywhere.
    pub quiet: bool,
    /// `--force` appeared anywhere.
    pub force: bool,
    /// The value of `--app`, if given.
    pub app_flag: Option<String>,
}

/// Plugins whose dispatcher inserts `DOKKU_APP_NAME` as the first argument.
const CORE_PLUGINS: &[&str] = &[
    "apps",
    "ps",
    "config",
    "domains",
    "git",
    "logs",
    "run",
    "storage",
    "proxy",
    "nginx",
    "checks",
    "docker-options",
    "network",
    "builder",
    "scheduler",
    "resource",
    "registry",
    "buildpacks",
    "cron",
    "enter",
    "repo",
    "certs",
    "ports",
    "app-json",
    "urls",
    "url",
];

impl Invocation {
    /// Interprets an argument list (without the word `dokku`).
    pub fn new(argv: &[String]) -> Self {
        let mut inv = Invocation::default();
        let mut i = 0;
        while i < argv.len() {
            let w = &argv[i];
            if w == "-v" || w == "--version" {
                break;
            }
            if !w.starts_with("--") {
                break;
            }
            inv.global.push(w.clone());
            if w == "--app" {
                if let Some(app) = argv.get(i + 1) {
                    inv.app_flag = Some(app.clone());
                    inv.global.push(app.clone());
                    i += 1;
                }
            } else if let Some(app) = w.strip_prefix("--app=") {
                inv.app_flag = Some(app.to_string());
            }
            i += 1;
        }
        if let Some(w) = argv.get(i) {
            inv.command = if w == "-v" || w == "--version" {
                "version".to_string()
            } else {
                w.clone()
            };
            i += 1;
        }
        let mut rest: Vec<String> = argv.get(i..).unwrap_or_default().to_vec();
        // `parse_args` scans every argument; `--app X` after the command counts too.
        let mut j = 0;
        while j < rest.len() {
            if rest[j] == "--app" && j + 1 < rest.len() && inv.app_flag.is_none() {
                inv.app_flag = Some(rest[j + 1].clone());
                rest.drain(j..j + 2);
                continue;
            }
            j += 1;
        }
        inv.quiet = argv.iter().any(|w| w == "--quiet");
        inv.force = argv.iter().any(|w| w == "--force");
        if let Some(app) = &inv.app_flag {
            let plugin = inv.command.split(':').next().unwrap_or("");
            if CORE_PLUGINS.contains(&plugin) {
                rest.insert(0, app.clone());
            }
        }
        inv.args = rest;
        inv
    }

    /// The plugin part of the command (`apps` for `apps:report`).
    pub fn plugin(&self) -> &str {
        self.command.split(':').next().unwrap_or("")
    }

    /// True when `flag` appears among the arguments.
    pub fn has(&self, flag: &str) -> bool {
        self.args.iter().any(|a| a == flag)
    }

    /// The value after `flag` (`--format json`) or in `flag=value` form.
    pub fn value_of(&self, flags: &[&str]) -> Option<&str> {
        let mut it = self.args.iter();
        while let Some(a) = it.next() {
            if flags.contains(&a.as_str()) {
                return it.next().map(String::as_str);
            }
            for f in flags {
                if let Some(v) = a.strip_prefix(f).and_then(|r| r.strip_prefix('=')) {
                    return Some(v);
                }
            }
        }
        None
    }

    /// The positional arguments: words not starting with `-`, skipping the
    /// value of each flag in `value_flags`.
    pub fn positionals(&self, value_flags: &[&str]) -> Vec<&str> {
        let mut out = Vec::new();
        let mut it = self.args.iter();
        let mut after_dashdash = false;
        while let Some(a) = it.next() {
            if after_dashdash {
                out.push(a.as_str());
            } else if a == "--" {
                after_dashdash = true;
            } else if value_flags.contains(&a.as_str()) {
                it.next();
            } else if !a.starts_with('-') || a == "-" {
                out.push(a.as_str());
            }
        }
        out
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

/// Parses one command run: the pure function behind `pix parse`.
///
/// `argv` is the command line without the word `dokku` (global flags
/// included); it never panics. When the output does not have the expected
/// shape, `ok` is false and `error.kind` is `parse`.
pub fn parse_case(argv: &[String], stdout: &[u8], stderr: &[u8], exit_code: i32) -> ParsedCase {
    let inv = Invocation::new(argv);
    let messages = stderr_messages(stderr);
    let outcome = dispatch::dispatch(&inv, stdout, stderr, exit_code);
    let (result, typed, parse_error) = match outcome {
        Ok(d) => (d.result, d.typed, None),
        Err(e) => (Value::Null, Value::Null, Some(e)),
    };
    let error = if let Some(pe) = parse_error {
        Some(CaseError {
            kind: "parse".into(),
            message: Some(pe.to_string()),
            exit_code,
        })
    } else if exit_code != 0 {
        let text = String::from_utf8_lossy(stdout);
        let message = failure_message(&text, stderr).or_else(|| {
            // A pty merges stderr into stdout, and failures before 0.22 had
            // no prefix: a bare line is the message, except where stdout is
            // the program's own output.
            let own_output = matches!(
                inv.command.as_str(),
                "run" | "run:detached" | "enter" | "postgres:connect" | "postgres:export" | "logs"
            );
            if own_output || !stderr.is_empty() {
                return None;
            }
            lines_of(&text)
                .into_iter()
                .map(str::trim)
                .find(|l| {
                    !l.is_empty()
                        && !l.starts_with("----->")
                        && !l.starts_with("=====>")
                        && *l != ">"
                })
                .map(|l| strip_failed(l).to_string())
        });
        let words: Vec<String> = std::iter::once(inv.command.clone())
            .chain(inv.args.iter().cloned())
            .collect();
        let out = Output::new(exit_code, stdout.to_vec(), stderr.to_vec());
        let kind = match &message {
            None => "command_failed".to_string(),
            Some(_) => classify(&inv.command, &words, &out).kind().to_string(),
        };
        Some(CaseError {
            kind,
            message,
            exit_code,
        })
    } else {
        None
    };
    ParsedCase {
        ok: exit_code == 0 && error.is_none(),
        command: inv.command.clone(),
        exit_code,
        stderr_messages: messages,
        result,
        error,
        typed,
    }
}

/// Serializes a typed value, or `null` if that fails (it cannot for the
/// crate's own types).
pub(crate) fn to_value<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// `{}` as a value.
pub(crate) fn empty_object() -> Value {
    json!({})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        shell_split(s)
    }

    #[test]
    fn invocation_understands_global_flags() {
        let inv = Invocation::new(&argv("--quiet --app myapp config:show"));
        assert_eq!(inv.command, "config:show");
        assert_eq!(inv.args, vec!["myapp"]);
        assert!(inv.quiet);
        let inv = Invocation::new(&argv("--app myapp postgres:link db"));
        assert_eq!(inv.args, vec!["db"]);
        assert_eq!(inv.app_flag.as_deref(), Some("myapp"));
        let inv = Invocation::new(&argv("apps:destroy myapp --force"));
        assert!(inv.force);
        assert_eq!(Invocation::new(&argv("-v")).command, "version");
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
