//! The `pix parse` machinery (feature `cases`): from a recorded command
//! line, its stdout, stderr and exit code to what `pix parse` prints, shaped
//! like the fixtures' `expected.json`.
//!
//! Not part of the stable API: it exists for `pix parse`, the fixture tests
//! and the fuzz targets. Enable it with `features = ["cases"]`.
//!
//! Each resource's case handling is in one file here, named as the crate's
//! resource modules (`apps`, `ps`, `config`, `domains`, `git`, `postgres`,
//! `logs`, `run`, `plugin`, `ssh_keys`, `storage`, `version`; `misc` for
//! `ls`, `remote:show` and commands no resource knows); `report` is the
//! shape every `X:report` shares, typed by its resource; `dispatch` routes a
//! command to them.
//!
//! [`parse_case`] is the one entry point: given a command line, stdout,
//! stderr and the exit code, it returns a [`ParsedCase`] with the
//! command-specific `result`, the failure message and the typed value.
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

use super::{failure_message, lines_of, stderr_messages, strip_failed};
use crate::error::classify;
use crate::output::Output;

mod apps;
mod config;
mod dispatch;
mod domains;
mod git;
mod logs;
mod misc;
mod plugin;
mod postgres;
mod ps;
mod report;
mod run;
mod ssh_keys;
mod storage;
mod version;

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
    use crate::parse::shell_split;

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
}
