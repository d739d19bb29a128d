//! `config:*` output: `config:show` (columnize, multi-line, `--quiet`, the
//! old `config vars` header), `config:export` in every format, `config:get`,
//! and the `config:set` / `config:unset` confirmations.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::parse::{lines_of, shell_split, ParseError};

/// True when `key` is a valid config key (`^[a-zA-Z_][a-zA-Z0-9_]*$`).
pub fn is_config_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `KEY:` at the start of a line followed by a space or the end: the key.
fn entry_key(line: &str) -> Option<(&str, &str)> {
    let (key, rest) = line.split_once(':')?;
    if !is_config_key(key) {
        return None;
    }
    if !(rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t')) {
        return None;
    }
    Some((key, rest))
}

/// Parses a columnize block (`KEY:  value` rows, keys sorted, multi-line
/// values continuing on unindented lines). `indent` is removed from each line
/// first when present (`config:set` uses 7 spaces).
fn parse_columns<'a, I: IntoIterator<Item = &'a str>>(lines: I) -> BTreeMap<String, String> {
    let mut entries: Vec<(String, String)> = Vec::new();
    for line in lines {
        let trimmed = line.trim_start();
        let new_entry = entry_key(trimmed).filter(|(key, _)| {
            // Keys are printed sorted: a "KEY:" that sorts before the previous
            // key is part of a multi-line value.
            entries
                .last()
                .map(|(prev, _)| *key > prev.as_str())
                .unwrap_or(true)
        });
        match new_entry {
            Some((key, rest)) => entries.push((key.to_string(), rest.trim().to_string())),
            None => {
                if let Some((_, value)) = entries.last_mut() {
                    value.push('\n');
                    value.push_str(line.trim_end());
                }
            }
        }
    }
    // Blank lines after the last value are the block's end, not data.
    if let Some((_, value)) = entries.last_mut() {
        let kept = value.trim_end_matches('\n').len();
        value.truncate(kept);
    }
    entries.into_iter().collect()
}

/// Parses `config:show` (and bare `config`, and `config:export --format
/// pretty`): the `=====> <app> env vars` or old `config vars` header is
/// optional (`--quiet`); values are as displayed (trimmed, multi-line joined
/// with `\n`).
pub fn parse_config_show(text: &str) -> BTreeMap<String, String> {
    let lines: Vec<&str> = lines_of(text)
        .into_iter()
        .filter(|l| !l.starts_with("=====>"))
        .collect();
    // Leading blank lines are never part of a value.
    let start = lines
        .iter()
        .position(|l| !l.trim().is_empty())
        .unwrap_or(lines.len());
    parse_columns(lines[start..].iter().copied())
}

/// How `config:get` printed the value: as it is, or shell-quoted
/// (`config:get --quoted`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueQuoting {
    /// The value as stored.
    Plain,
    /// `--quoted`: single-quoted for a shell; parsing undoes it.
    Quoted,
}

/// Parses `config:get` output: the value without its final newline, or
/// `None` when the key is unset (exit 1, or 123 through old xargs, with no
/// output). [`ValueQuoting::Quoted`] undoes `--quoted`.
///
/// ```
/// use dokku_client::parse::config::{parse_config_get, ValueQuoting};
/// assert_eq!(parse_config_get("x\n", 0, ValueQuoting::Plain).as_deref(), Some("x"));
/// assert_eq!(parse_config_get("'it'\\''s'\n", 0, ValueQuoting::Quoted).as_deref(), Some("it's"));
/// assert_eq!(parse_config_get("", 1, ValueQuoting::Plain), None);
/// ```
pub fn parse_config_get(stdout: &str, exit_code: i32, quoting: ValueQuoting) -> Option<String> {
    let quoted = quoting == ValueQuoting::Quoted;
    if exit_code != 0 {
        return None;
    }
    let v = stdout.strip_suffix('\n').unwrap_or(stdout);
    let v = v.strip_suffix('\r').unwrap_or(v);
    if quoted {
        let words = shell_split(v);
        if words.len() == 1 {
            return words.into_iter().next();
        }
    }
    Some(v.to_string())
}

/// Undoes the envfile escaping of one double-quoted value.
fn envfile_value(raw: &str) -> String {
    let Some(inner) = raw.strip_prefix('"') else {
        return raw.trim_end().to_string();
    };
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            other => out.push(other),
        }
    }
    out
}

/// Parses `config:export` output in `format` (`exports` when `None`):
/// `exports`, `envfile`, `shell`, `docker-args`, `json`, `json-list` (where
/// `null` means no vars) and `pretty`. For `docker-args-keys` and
/// `pack-keys` the values are empty.
pub fn parse_config_export(
    text: &str,
    format: Option<&str>,
) -> Result<BTreeMap<String, String>, ParseError> {
    let mut vars = BTreeMap::new();
    match format.unwrap_or("exports") {
        "envfile" => {
            for line in lines_of(text) {
                if line.trim().is_empty() {
                    continue;
                }
                let (k, v) = line
                    .split_once('=')
                    .ok_or_else(|| ParseError::new("expected KEY=value", line))?;
                vars.insert(k.trim().to_string(), envfile_value(v));
            }
        }
        "json" => {
            let v: Value = serde_json::from_str(text.trim())
                .map_err(|e| ParseError::new(format!("invalid JSON: {e}"), text))?;
            match v {
                Value::Object(m) => {
                    for (k, v) in m {
                        vars.insert(k, json_text(v));
                    }
                }
                Value::Null => {}
                _ => return Err(ParseError::new("expected a JSON object", text)),
            }
        }
        "json-list" => {
            let v: Value = serde_json::from_str(text.trim())
                .map_err(|e| ParseError::new(format!("invalid JSON: {e}"), text))?;
            match v {
                Value::Null => {}
                Value::Array(items) => {
                    for item in items {
                        let name = item.get("name").and_then(Value::as_str);
                        let value = item.get("value").cloned().unwrap_or(Value::Null);
                        match name {
                            Some(n) => {
                                vars.insert(n.to_string(), json_text(value));
                            }
                            None => {
                                return Err(ParseError::new(
                                    "expected {\"name\", \"value\"} items",
                                    text,
                                ))
                            }
                        }
                    }
                }
                _ => return Err(ParseError::new("expected a JSON list or null", text)),
            }
        }
        "pretty" => return Ok(parse_config_show(text)),
        "pack-keys" => {
            for w in shell_split(text) {
                if w != "--env" {
                    vars.insert(w, String::new());
                }
            }
        }
        _ => {
            // exports, shell, docker-args, docker-args-keys: shell words.
            for w in shell_split(text) {
                if w == "export" {
                    continue;
                }
                let w = w.strip_prefix("--env=").unwrap_or(&w);
                match w.split_once('=') {
                    Some((k, v)) => vars.insert(k.to_string(), v.to_string()),
                    None => vars.insert(w.to_string(), String::new()),
                };
            }
        }
    }
    Ok(vars)
}

fn json_text(v: Value) -> String {
    match v {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// What `config:set` (and `postgres:link`) printed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ConfigSetResult {
    /// The vars as confirmed (decoded when `--encoded`), trimmed.
    pub set: BTreeMap<String, String>,
    /// True when the app was restarted.
    pub restarted: bool,
    /// The URLs of the `=====> Application deployed:` block, if any.
    pub urls: Vec<String>,
}

/// True when the output shows a restart that really happened.
pub fn restarted(text: &str) -> bool {
    let lines = lines_of(text);
    lines.iter().any(|l| l.starts_with("-----> Restarting app"))
        && !lines.iter().any(|l| {
            let m = crate::parse::strip_prefix_all(l);
            m.ends_with("has not been deployed") || m.contains("Skipping restart")
        })
}

/// Parses the `config:set` confirmation: `-----> Setting config vars` then
/// indented `KEY:  value` rows (0.4.x: `KEY: value`), then maybe a restart.
pub fn parse_config_set(text: &str) -> ConfigSetResult {
    let lines = lines_of(text);
    let mut rows = Vec::new();
    let mut inside = false;
    for l in &lines {
        if l.starts_with("-----> Setting config vars") {
            inside = true;
            continue;
        }
        if inside {
            if l.starts_with("----->") || l.starts_with("=====>") || l.starts_with(" !") {
                inside = false;
                continue;
            }
            if l.trim().is_empty() {
                continue;
            }
            // postgres:link --no-restart says so inside the block.
            if l.trim_start().starts_with("Skipping restart") {
                inside = false;
                continue;
            }
            rows.push(l.strip_prefix("       ").unwrap_or(l));
        }
    }
    ConfigSetResult {
        set: parse_columns(rows),
        restarted: restarted(text),
        urls: crate::parse::lines::parse_deployed_urls(text),
    }
}

/// What `config:unset` (and `postgres:unlink`) printed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ConfigUnsetResult {
    /// Keys removed (`-----> Unsetting K`).
    pub unset: Vec<String>,
    /// Keys that were not set (`-----> Skipping K, it is not set ...`).
    pub skipped: Vec<String>,
    /// True when the app was restarted.
    pub restarted: bool,
}

/// Parses `config:unset` output.
pub fn parse_config_unset(text: &str) -> ConfigUnsetResult {
    let mut r = ConfigUnsetResult {
        restarted: restarted(text),
        ..Default::default()
    };
    for l in lines_of(text) {
        if let Some(k) = l.strip_prefix("-----> Unsetting ") {
            r.unset.push(k.trim().to_string());
        } else if let Some(rest) = l.strip_prefix("-----> Skipping ") {
            if let Some((k, _)) = rest.split_once(',') {
                r.skipped.push(k.trim().to_string());
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_show_multiline_and_empty() {
        let text =
            "=====> myapp env vars\nA:      1\nB:      line1\nline2\nAAA: not a key\nC:      \n\n";
        let v = parse_config_show(text);
        assert_eq!(v["A"], "1");
        assert_eq!(v["B"], "line1\nline2\nAAA: not a key");
        assert_eq!(v["C"], "");
        assert!(parse_config_show("=====> myapp env vars\n\n").is_empty());
        let old = parse_config_show("=====> myapp config vars\nPORT:  5000\r\n");
        assert_eq!(old["PORT"], "5000");
    }

    #[test]
    fn export_formats() {
        let v = parse_config_export("export A='it'\\''s'\nexport B='x\ny'\n", None).unwrap();
        assert_eq!(v["A"], "it's");
        assert_eq!(v["B"], "x\ny");
        let v = parse_config_export("A=\"a\\\"b\\$c\\nd\"\nN=7\n", Some("envfile")).unwrap();
        assert_eq!(v["A"], "a\"b$c\nd");
        assert_eq!(v["N"], "7");
        let v = parse_config_export("--env=A='1 2' --env=B='x'\n", Some("docker-args")).unwrap();
        assert_eq!(v["A"], "1 2");
        let v = parse_config_export("null\n", Some("json-list")).unwrap();
        assert!(v.is_empty());
        let v =
            parse_config_export("[{\"name\":\"A\",\"value\":\"1\"}]\n", Some("json-list")).unwrap();
        assert_eq!(v["A"], "1");
        assert!(parse_config_export("{", Some("json")).is_err());
    }

    #[test]
    fn config_get_missing_is_none() {
        assert_eq!(parse_config_get("", 1, ValueQuoting::Plain), None);
        assert_eq!(parse_config_get("", 123, ValueQuoting::Plain), None);
        assert_eq!(
            parse_config_get("  x  \n", 0, ValueQuoting::Plain).as_deref(),
            Some("  x  ")
        );
        assert_eq!(
            parse_config_get("'it'\\''s'\n", 0, ValueQuoting::Quoted).as_deref(),
            Some("it's")
        );
    }

    #[test]
    fn set_confirmation() {
        let r = parse_config_set("-----> Setting config vars\n       GREETING: hello world\n-----> Restarting app myapp\nApp myapp has not been deployed\n");
        assert_eq!(r.set["GREETING"], "hello world");
        assert!(!r.restarted);
    }
}
