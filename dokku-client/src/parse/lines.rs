//! Line-oriented outputs no resource module owns: `ls` (0.4.x),
//! `remote:show`, progress steps and the `Application deployed:` URL block.
//! (The lists of a resource live with it: `apps::parse_apps_list`,
//! `ps::parse_ps_scale`, `logs::parse_log_line`, `plugin::parse_plugin_list`,
//! `ssh_keys::parse_ssh_keys_list`, `storage::parse_storage_list`,
//! `version::parse_version`; all are re-exported from [`crate::parse`].)

use serde::Serialize;
use serde_json::{Map, Value};

use super::{is_warn_line, lines_of, strip_prefix_all};

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
    fn urls_block() {
        let u = parse_deployed_urls(
            "=====> Application deployed:\n       http://a\n       http://b\n\n",
        );
        assert_eq!(u, vec!["http://a", "http://b"]);
    }
}
