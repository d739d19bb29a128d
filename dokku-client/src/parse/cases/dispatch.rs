//! From a command line to the resource whose parser fits, and what the
//! resources' case functions share: the run as they see it ([`Case`]), the
//! outcome ([`Dispatched`]) and a few result pieces more than one resource
//! prints.
//!
//! Each resource's case handling (the `result` shapes of the fixtures'
//! `expected.json`, generalised to every command and version of its family)
//! is in its own file of `parse/cases/`; every `X:report` goes through
//! [`super::report`], typed by the resource that owns `X`.

use std::borrow::Cow;
use std::cell::OnceCell;

use serde_json::{json, Map, Value};

use super::{apps, config, domains, logs, misc, plugin, postgres, ps, report, run};
use super::{ssh_keys, storage, version, Invocation};
use crate::parse::lines::parse_deployed_urls;
use crate::parse::{failure_message, ParseError};

/// A parsed output: the fixture-shaped result and the typed value.
pub(crate) struct Dispatched {
    pub result: Value,
    pub typed: Value,
}

/// What a case function returns.
pub(super) type Outcome = Result<Dispatched, ParseError>;

/// One recorded run, as the resources' case functions see it.
pub(super) struct Case<'a> {
    /// The command line.
    pub inv: &'a Invocation,
    /// The raw stdout (binary for `postgres:export`).
    pub stdout: &'a [u8],
    /// The raw stderr.
    pub stderr: &'a [u8],
    /// The exit code.
    pub exit: i32,
    /// stdout decoded (lossily), on first use: binary output is never decoded.
    text: OnceCell<Cow<'a, str>>,
}

impl<'a> Case<'a> {
    /// stdout as text.
    pub fn text(&self) -> &str {
        self.text
            .get_or_init(|| String::from_utf8_lossy(self.stdout))
    }

    /// The command exited 0.
    pub fn ok(&self) -> bool {
        self.exit == 0
    }

    /// The first positional argument, skipping the values of `flags`.
    pub fn pos0(&self, flags: &[&str]) -> Option<String> {
        self.inv.positionals(flags).first().map(|s| s.to_string())
    }

    /// The app: the first positional argument, else `--app`'s value.
    pub fn app(&self) -> Option<String> {
        self.pos0(&[]).or_else(|| self.inv.app_flag.clone())
    }

    /// The failure message of a failed run ([`failure_message`]).
    pub fn failed_message(&self) -> Option<String> {
        failure_message(self.text(), self.stderr)
    }

    /// Whether a list command asked for `--format json`. Such output is one
    /// JSON array; when the flag is given but stdout holds none, the
    /// answer is an error, never the text parser's reading of it.
    pub fn json_list(&self) -> Result<bool, ParseError> {
        if self.inv.value_of(&["--format"]) != Some("json") {
            return Ok(false);
        }
        if self.text().trim_start().starts_with('[') {
            Ok(true)
        } else {
            Err(ParseError::new(
                format!("{} --format json printed no JSON array", self.inv.command),
                self.text(),
            ))
        }
    }

    /// stdout, a newline, then stderr (for messages either may carry).
    pub fn stdout_and_stderr(&self) -> String {
        format!("{}\n{}", self.text(), String::from_utf8_lossy(self.stderr))
    }
}

/// The result and typed value of one run: every `X:report` through the shared
/// report shape, any other command through its resource (the plugin part of
/// its name), and what no resource knows as the steps it printed.
pub(crate) fn dispatch(inv: &Invocation, stdout: &[u8], stderr: &[u8], exit: i32) -> Outcome {
    let case = Case {
        inv,
        stdout,
        stderr,
        exit,
        text: OnceCell::new(),
    };
    let command = inv.command.as_str();
    if command.ends_with(":report") && !command.starts_with("postgres") {
        return report::report(&case);
    }
    let handled = match inv.plugin() {
        "apps" => apps::case(&case),
        "config" => config::case(&case),
        "domains" => domains::case(&case),
        "logs" => logs::case(&case),
        "plugin" => plugin::case(&case),
        "postgres" => postgres::case(&case),
        "ps" => ps::case(&case),
        "run" => run::case(&case),
        "ssh-keys" => ssh_keys::case(&case),
        "storage" => storage::case(&case),
        "version" => version::case(&case),
        "ls" | "remote" => misc::case(&case),
        _ => None,
    };
    handled.unwrap_or_else(|| misc::other(&case))
}

/// A list command with a text and a `--format json` form: `{field: rows}`,
/// read by `json` when the run asked for JSON ([`Case::json_list`]), else
/// by `text`; a failed run is `null`.
pub(super) fn list_of<T: serde::Serialize>(
    c: &Case<'_>,
    field: &str,
    text: fn(&str) -> Vec<T>,
    json: fn(&str) -> Result<Vec<T>, ParseError>,
) -> Outcome {
    if !c.ok() {
        return same(Value::Null);
    }
    let rows = if c.json_list()? {
        json(c.text())?
    } else {
        text(c.text())
    };
    let typed = super::to_value(&rows);
    let mut result = Map::new();
    result.insert(field.to_string(), typed.clone());
    done(Value::Object(result), typed)
}

/// An outcome whose typed value is `typed`.
pub(super) fn done(result: Value, typed: Value) -> Outcome {
    Ok(Dispatched { result, typed })
}

/// An outcome whose typed value is the result itself.
pub(super) fn same(result: Value) -> Outcome {
    let typed = result.clone();
    done(result, typed)
}

/// Flags that are not report info flags.
pub(super) fn is_info_flag(a: &str) -> bool {
    a.starts_with("--")
        && !matches!(
            a,
            "--format" | "--global" | "--quiet" | "--force" | "--trace" | "--"
        )
}

/// The value an info flag printed (`apps:report APP --deploy-source`): stdout
/// without its final newline and `\r`.
pub(super) fn info_value(text: &str) -> &str {
    let v = text.strip_suffix('\n').unwrap_or(text);
    v.strip_suffix('\r').unwrap_or(v)
}

/// Adds the `Application deployed:` URLs, when a deploy printed them.
pub(super) fn with_urls(result: &mut Value, text: &str) {
    let urls = parse_deployed_urls(text);
    if !urls.is_empty() {
        result["urls"] = json!(urls);
    }
}

/// The result of a destroy (`apps:destroy`, `postgres:destroy`): `key` names
/// what was destroyed; a refused one says whether a confirmation was asked.
pub(super) fn destroyed(c: &Case<'_>, key: &str) -> Outcome {
    if c.ok() {
        let mut r = Map::new();
        r.insert(key.into(), json!(c.app()));
        r.insert("destroyed".into(), json!(true));
        return same(Value::Object(r));
    }
    let all = c.stdout_and_stderr();
    let prompted =
        all.contains("To proceed, type") || all.contains("Potentially Destructive Action");
    let mut r = json!({"destroyed": false});
    if prompted {
        r["confirmation_required"] = json!(true);
    }
    same(r)
}

/// The result of a yes/no question: `key` is true on `yes`, false on one of
/// `no`, and there is no result on any other exit code.
pub(super) fn yes_no(c: &Case<'_>, key: &str, no: &[i32]) -> Outcome {
    let answer = match c.exit {
        0 => true,
        e if no.contains(&e) => false,
        _ => return same(Value::Null),
    };
    let mut r = Map::new();
    r.insert(key.into(), json!(answer));
    same(Value::Object(r))
}
