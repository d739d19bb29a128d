//! Line-oriented outputs: `apps:list`, `version`, `ps:scale`, `logs`, `ls`
//! (0.4.x), `remote:show`, `plugin:list`, `ssh-keys:list`, `storage:list`,
//! progress steps and the `Application deployed:` URL block.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::{is_warn_line, lines_of, strip_prefix_all, ParseError};
use crate::logs::LogLine;
use crate::plugin::PluginInfo;
use crate::ssh_keys::SshKey;
use crate::storage::Mount;
use crate::version::DokkuVersion;

/// Parses `apps:list` / `apps` output: the `=====> My Apps` header
/// (absent with `--quiet`), one name per line; `--format json` (`["a"]`).
/// Warning lines (stdout before 0.8.1) and names Dokku itself skips (a
/// leading `.` or upper-case letter) are left out.
pub fn parse_apps_list(text: &str) -> Result<Vec<String>, ParseError> {
    let trimmed = text.trim();
    if trimmed.starts_with('[') {
        let v: Value = serde_json::from_str(trimmed)
            .map_err(|e| ParseError::new(format!("invalid JSON app list: {e}"), text))?;
        return match v {
            Value::Array(items) => Ok(items
                .into_iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect()),
            _ => Err(ParseError::new("expected a JSON list of names", text)),
        };
    }
    Ok(lines_of(text)
        .into_iter()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("=====>") && !l.starts_with("----->"))
        .filter(|l| !l.starts_with('!'))
        .filter(|l| !l.starts_with('.') && !l.starts_with(|c: char| c.is_ascii_uppercase()))
        .filter(|l| !l.contains(' '))
        .map(str::to_string)
        .collect())
}

/// Parses `version` output in every form (see [`DokkuVersion::parse_output`]).
pub fn parse_version(text: &str) -> Result<DokkuVersion, ParseError> {
    DokkuVersion::parse_output(text)
        .map_err(|_| ParseError::new("expected `dokku version X.Y.Z`, `X.Y.Z` or `vX.Y.Z`", text))
}

/// Parses `ps:scale <app>` output: `-----> Scaling for <app>` (absent with
/// `--quiet`), then `proc: qty` rows split at the first `:` (not aligned);
/// the 0.4.x `-----> web   1` rows; or `--format json`
/// (`[{"process_type":"web","quantity":1}]`). Returns the app named in the
/// header, if any, and the formation.
pub fn parse_ps_scale(text: &str) -> Result<(Option<String>, BTreeMap<String, u32>), ParseError> {
    let trimmed = text.trim();
    let mut formation = BTreeMap::new();
    if trimmed.starts_with('[') {
        let v: Value = serde_json::from_str(trimmed)
            .map_err(|e| ParseError::new(format!("invalid JSON formation: {e}"), text))?;
        for item in v.as_array().into_iter().flatten() {
            let p = item.get("process_type").and_then(Value::as_str);
            let q = item.get("quantity").and_then(|q| {
                q.as_u64()
                    .or_else(|| q.as_str().and_then(|s| s.parse().ok()))
            });
            if let (Some(p), Some(q)) = (p, q) {
                formation.insert(p.to_string(), u32::try_from(q).unwrap_or(u32::MAX));
            }
        }
        return Ok((None, formation));
    }
    let mut app = None;
    for l in lines_of(text) {
        if let Some(a) = l.strip_prefix("-----> Scaling for ") {
            app = Some(a.trim().to_string());
            continue;
        }
        let body = l.strip_prefix("----->").unwrap_or(l).trim();
        let (proc, qty) = match body.split_once(':') {
            Some((p, q)) => (p.trim(), q.trim()),
            None => {
                let mut w = body.split_whitespace();
                match (w.next(), w.next(), w.next()) {
                    (Some(p), Some(q), None) => (p, q),
                    _ => continue,
                }
            }
        };
        if proc.is_empty() || proc.contains(' ') {
            continue;
        }
        if let Ok(q) = qty.parse::<u32>() {
            formation.insert(proc.to_string(), q);
        }
    }
    Ok((app, formation))
}

/// Removes one ANSI SGR sequence (`\e[..m`) at the start of `s`.
fn strip_sgr(s: &str) -> &str {
    if let Some(rest) = s.strip_prefix("\u{1b}[") {
        if let Some(end) = rest.find('m') {
            if rest[..end].chars().all(|c| c.is_ascii_digit() || c == ';') {
                return &rest[end + 1..];
            }
        }
    }
    s
}

/// Parses one `logs` line: `\e[36m<timestamp> app[web.1]:\e[0m <message>`.
/// Lines of another shape (`-q` output, app output without a prefix) keep
/// their text as the message with no timestamp or process.
pub fn parse_log_line(line: &str) -> LogLine {
    let raw = LogLine {
        timestamp: None,
        process: None,
        message: line.to_string(),
    };
    let s = strip_sgr(line);
    let Some((ts, rest)) = s.split_once(' ') else {
        return raw;
    };
    if !ts.starts_with(|c: char| c.is_ascii_digit()) || !ts.contains('T') {
        return raw;
    }
    let Some(close) = rest.find("]:") else {
        return raw;
    };
    let source = &rest[..close];
    let Some(open) = source.find('[') else {
        return raw;
    };
    if source[..open].contains(' ') {
        return raw;
    }
    let process = &source[open + 1..];
    let message = &rest[close + 2..];
    let message = message.strip_prefix("\u{1b}[0m").unwrap_or(message);
    let message = message.strip_prefix(' ').unwrap_or(message);
    LogLine {
        timestamp: Some(ts.to_string()),
        process: Some(process.to_string()),
        message: message.to_string(),
    }
}

/// Parses `logs` output line by line (see [`parse_log_line`]).
pub fn parse_logs(text: &str) -> Vec<LogLine> {
    lines_of(text).into_iter().map(parse_log_line).collect()
}

/// One row of the 0.4.x `ls` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LsContainer {
    /// The app.
    pub app: String,
    /// The container type (`web`), `None` when not deployed.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The container ID, `None` when not deployed.
    pub id: Option<String>,
    /// `running`, `stopped` or `NOT_DEPLOYED`.
    pub status: String,
}

/// Parses 0.4.x `ls` output (25-wide columns with trailing spaces).
pub fn parse_ls(text: &str) -> Vec<LsContainer> {
    let nd = |s: &str| (s != "NOT_DEPLOYED").then(|| s.to_string());
    lines_of(text)
        .into_iter()
        .filter(|l| !l.starts_with("----->") && !l.trim().is_empty() && !is_warn_line(l))
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            match w.as_slice() {
                [app, kind, id, status, ..] => Some(LsContainer {
                    app: app.to_string(),
                    kind: nd(kind),
                    id: nd(id),
                    status: status.to_string(),
                }),
                _ => None,
            }
        })
        .collect()
}

/// Parses the official client's `remote:show`: `dokku-<key>: value` lines,
/// keys without `dokku-` and with `_`; numeric ports become numbers.
pub fn parse_remote_show(text: &str) -> Map<String, Value> {
    let mut m = Map::new();
    for l in lines_of(text) {
        if let Some((k, v)) = l.split_once(':') {
            let key = k.trim().trim_start_matches("dokku-").replace('-', "_");
            let v = v.trim();
            let value = match (key.as_str(), v.parse::<u64>()) {
                ("port", Ok(n)) => Value::from(n),
                _ => Value::from(v),
            };
            m.insert(key, value);
        }
    }
    m
}

/// Parses `plugin:list`: `  name  version  enabled|disabled  description`.
pub fn parse_plugin_list(text: &str) -> Vec<PluginInfo> {
    lines_of(text)
        .into_iter()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("=====>") && !is_warn_line(l))
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let name = w.next()?.to_string();
            let version = w.next()?.to_string();
            let state = w.next()?;
            let enabled = match state {
                "enabled" => true,
                "disabled" => false,
                _ => return None,
            };
            Some(PluginInfo {
                name,
                version,
                enabled,
                description: w.collect::<Vec<_>>().join(" "),
            })
        })
        .collect()
}

/// Parses `ssh-keys:list`: `SHA256:... NAME="admin" SSHCOMMAND_ALLOWED_KEYS="none"`.
pub fn parse_ssh_keys_list(text: &str) -> Vec<SshKey> {
    lines_of(text)
        .into_iter()
        .filter(|l| !l.trim().is_empty() && !is_warn_line(l) && !l.starts_with("=====>"))
        .filter_map(|l| {
            let words = super::shell_split(l);
            let fingerprint = words.first()?.clone();
            let name = words
                .iter()
                .find_map(|w| w.strip_prefix("NAME=").map(str::to_string))
                .unwrap_or_default();
            Some(SshKey { fingerprint, name })
        })
        .collect()
}

/// Parses `storage:list`: indented `host:container[:options]` lines under an
/// optional header.
pub fn parse_storage_list(text: &str) -> Vec<Mount> {
    lines_of(text)
        .into_iter()
        .filter(|l| !l.starts_with("=====>") && !l.starts_with("----->") && !is_warn_line(l))
        .filter_map(|l| {
            let l = l.trim();
            let (host, container) = l.split_once(':')?;
            Some(Mount {
                host_path: host.to_string(),
                container_path: container.to_string(),
            })
        })
        .collect()
}

/// The `-----> step` lines of an output, without the arrow.
pub fn parse_steps(text: &str) -> Vec<String> {
    lines_of(text)
        .into_iter()
        .filter_map(|l| l.strip_prefix("-----> ").map(|s| s.trim_end().to_string()))
        .collect()
}

/// The URLs under `=====> Application deployed:` (indented, up to the blank line).
pub fn parse_deployed_urls(text: &str) -> Vec<String> {
    let lines = lines_of(text);
    let Some(at) = lines
        .iter()
        .position(|l| l.starts_with("=====> Application deployed:"))
    else {
        return Vec::new();
    };
    lines[at + 1..]
        .iter()
        .take_while(|l| l.starts_with(' ') && !l.trim().is_empty() && !is_warn_line(l))
        .map(|l| l.trim().to_string())
        .collect()
}

/// The messages of the ` !` lines in a text, without prefixes.
pub fn warn_messages(text: &str) -> Vec<String> {
    lines_of(text)
        .into_iter()
        .filter(|l| is_warn_line(l))
        .map(|l| strip_prefix_all(l).to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apps_list_forms() {
        assert_eq!(
            parse_apps_list("=====> My Apps\r\na\r\n.hidden\nB\n").unwrap(),
            vec!["a"]
        );
        assert_eq!(parse_apps_list("[]\n").unwrap(), Vec::<String>::new());
        assert_eq!(
            parse_apps_list("=====> My Apps\n !     You haven't deployed any applications yet\n")
                .unwrap(),
            Vec::<String>::new()
        );
        assert!(parse_apps_list("[1").is_err());
    }

    #[test]
    fn scale_forms() {
        let (app, f) = parse_ps_scale(
            "-----> Scaling for a\nproctype: qty\n--------: ---\nweb:  1\nworker: 2\n",
        )
        .unwrap();
        assert_eq!(app.as_deref(), Some("a"));
        assert_eq!(f["web"], 1);
        assert_eq!(f["worker"], 2);
        let (_, f) = parse_ps_scale("-----> proctype           qty   \n-----> --------           ---   \n-----> web                1                    \n").unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(f["web"], 1);
        let (_, f) = parse_ps_scale("[{\"process_type\":\"web\",\"quantity\":3}]\n").unwrap();
        assert_eq!(f["web"], 3);
    }

    #[test]
    fn log_lines() {
        let l = parse_log_line(
            "\u{1b}[36m2026-08-21T10:15:01.123456789Z app[web.1]:\u{1b}[0m GET / 200",
        );
        assert_eq!(l.process.as_deref(), Some("web.1"));
        assert_eq!(l.message, "GET / 200");
        let l = parse_log_line("raw message");
        assert_eq!(l.timestamp, None);
        assert_eq!(l.message, "raw message");
    }

    #[test]
    fn urls_block() {
        let u = parse_deployed_urls(
            "=====> Application deployed:\n       http://a\n       http://b\n\n",
        );
        assert_eq!(u, vec!["http://a", "http://b"]);
    }
}
