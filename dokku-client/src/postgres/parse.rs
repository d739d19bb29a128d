//! dokku-postgres output: `postgres:info` in every historical form,
//! `postgres:list` (names, or the old `column -t` table), exposed ports and
//! `postgres:backup-schedule-cat`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::parse::report::split_row;
use crate::parse::{is_warn_line, lines_of};
use crate::postgres::ExposedPort;

/// Parses `postgres:info` (and the info block that ends `postgres:create`):
/// the `=====> <svc> postgres service information` header (1.11.0+), the
/// `=====> Container Information` header (1.1.0–1.10.x), no header
/// (`--quiet`, 1.16.0+) or the single `DSN:` line of 1.0.0. Rows are split
/// at the first `:`, padding and `\r` removed, in output order.
pub fn parse_postgres_info(text: &str) -> Vec<(String, String)> {
    let lines = lines_of(text);
    // When an info header is present, rows start after it (create prints
    // progress lines first).
    let start = lines
        .iter()
        .rposition(|l| {
            l.starts_with("=====>")
                && (l.ends_with("service information") || l.ends_with("Container Information"))
        })
        .map(|i| i + 1)
        .unwrap_or(0);
    let mut fields = Vec::new();
    for l in &lines[start..] {
        // Rows are indented; Docker pull output (`Status: Downloaded ...`) is not.
        if !l.starts_with(' ') || is_warn_line(l) || l.trim().is_empty() {
            continue;
        }
        if let Some(row) = split_row(l) {
            fields.push(row);
        }
    }
    fields
}

/// Parses the `Exposed ports` value: `-` (none) or `5432->35432 ` pairs.
pub fn parse_exposed_ports(value: &str) -> Vec<ExposedPort> {
    value
        .split_whitespace()
        .filter_map(|pair| {
            let (c, h) = pair.split_once("->")?;
            Some(ExposedPort {
                container: c.trim().parse().ok()?,
                host: h.trim().parse().ok()?,
            })
        })
        .collect()
}

/// Parses the `Links` value: `-` (none) or a space-joined list.
pub fn parse_info_links(value: &str) -> Vec<String> {
    value
        .split_whitespace()
        .filter(|w| *w != "-")
        .map(str::to_string)
        .collect()
}

/// One service in `postgres:list` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PostgresListEntry {
    /// The service name.
    pub name: String,
    /// The other columns of the old table form (`version`, `status`,
    /// `exposed_ports`, `links`), keyed by snake_case header; empty for the
    /// names-only form (1.10.0+).
    pub columns: BTreeMap<String, String>,
}

/// Parses `postgres:list`: names under `=====> Postgres services`
/// (1.10.0+), or the `column -t` table of older versions, whose columns are
/// split on runs of two or more spaces (`EXPOSED PORTS` contains one).
/// Returns the entries and whether the output was a table.
pub fn parse_postgres_list(text: &str) -> (Vec<PostgresListEntry>, bool) {
    let lines: Vec<&str> = lines_of(text)
        .into_iter()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("=====>") && !is_warn_line(l))
        .collect();
    let is_table = lines
        .first()
        .map(|l| l.trim_start().starts_with("NAME") && split_columns(l).len() > 1)
        .unwrap_or(false);
    if !is_table {
        let entries = lines
            .iter()
            .map(|l| PostgresListEntry {
                name: l.trim().to_string(),
                columns: BTreeMap::new(),
            })
            .collect();
        return (entries, false);
    }
    let header: Vec<String> = split_columns(lines[0])
        .iter()
        .map(|h| h.to_ascii_lowercase().replace(' ', "_"))
        .collect();
    let entries = lines[1..]
        .iter()
        .map(|l| {
            let cols = split_columns(l);
            let mut columns = BTreeMap::new();
            let mut name = String::new();
            for (i, h) in header.iter().enumerate() {
                let v = cols.get(i).cloned().unwrap_or_default();
                if i == 0 {
                    name = v;
                } else {
                    columns.insert(h.clone(), v);
                }
            }
            PostgresListEntry { name, columns }
        })
        .collect();
    (entries, true)
}

/// Splits a `column -t` row on runs of two or more spaces.
fn split_columns(line: &str) -> Vec<String> {
    let mut cols = Vec::new();
    let mut cur = String::new();
    let mut spaces = 0;
    for c in line.trim().chars() {
        if c == ' ' {
            spaces += 1;
            continue;
        }
        if spaces >= 2 && !cur.is_empty() {
            cols.push(std::mem::take(&mut cur));
        } else if spaces == 1 {
            cur.push(' ');
        }
        spaces = 0;
        cur.push(c);
    }
    if !cur.is_empty() {
        cols.push(cur);
    }
    cols
}

/// A backup schedule as printed by `postgres:backup-schedule-cat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct BackupSchedule {
    /// The five cron fields.
    pub schedule: String,
    /// The user the cron line runs as.
    pub user: String,
    /// The command, trailing space removed.
    pub command: String,
    /// The service backed up.
    pub service: Option<String>,
    /// The bucket.
    pub bucket: Option<String>,
    /// True when `--use-iam` is given.
    pub use_iam: bool,
}

/// Parses the cron line `<cron> <user> <command...>`.
pub fn parse_backup_schedule(text: &str) -> Option<BackupSchedule> {
    let line = lines_of(text).into_iter().find(|l| !l.trim().is_empty())?;
    let words: Vec<&str> = line.split_whitespace().collect();
    if words.len() < 7 {
        return None;
    }
    let schedule = words[..5].join(" ");
    let user = words[5].to_string();
    let command_words = &words[6..];
    let command = command_words.join(" ");
    let backup_at = command_words
        .iter()
        .position(|w| w.ends_with(":backup"))
        .map(|i| i + 1);
    let positional: Vec<&str> = backup_at
        .map(|i| {
            command_words[i..]
                .iter()
                .copied()
                .filter(|w| !w.starts_with("--"))
                .collect()
        })
        .unwrap_or_default();
    Some(BackupSchedule {
        schedule,
        user,
        command,
        service: positional.first().map(|s| s.to_string()),
        bucket: positional.get(1).map(|s| s.to_string()),
        use_iam: command_words.contains(&"--use-iam"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_forms() {
        let f =
            parse_postgres_info("       DSN: postgres://postgres:p@dokku-postgres-db:5432/db\n");
        assert_eq!(f[0].0, "DSN");
        assert_eq!(f[0].1, "postgres://postgres:p@dokku-postgres-db:5432/db");
        let f = parse_postgres_info("=====> Container Information\n       Config dir:          /c                       \n       Links:               -                        \n");
        assert_eq!(f.len(), 2);
        assert_eq!(f[1], ("Links".to_string(), "-".to_string()));
    }

    #[test]
    fn old_list_table_splits_on_two_spaces() {
        let text = "NAME      VERSION        STATUS   EXPOSED PORTS  LINKS\nlollipop  postgres:9.6  running  -              myapp\n";
        let (e, table) = parse_postgres_list(text);
        assert!(table);
        assert_eq!(e[0].name, "lollipop");
        assert_eq!(e[0].columns["exposed_ports"], "-");
        assert_eq!(e[0].columns["links"], "myapp");
    }

    #[test]
    fn ports_and_schedule() {
        let p = parse_exposed_ports("5432->35432 ");
        assert_eq!((p[0].container, p[0].host), (5432, 35432));
        assert!(parse_exposed_ports("-").is_empty());
        let s = parse_backup_schedule(
            "0 3 * * * dokku /usr/bin/dokku postgres:backup db bucket --use-iam\n",
        )
        .unwrap();
        assert!(s.use_iam);
        assert_eq!(s.bucket.as_deref(), Some("bucket"));
    }
}
