//! Output formatting (pure): Go and bash reports, report JSON, columnize
//! blocks, config exports, `ps:scale` rows (REFERENCE.md sections 1.4–1.6, 2).

use std::collections::BTreeMap;

/// Right-pads `text` with spaces to `width` bytes (bash `printf %-Ns`).
pub fn pad_bytes(text: &str, width: usize) -> String {
    let mut s = text.to_owned();
    while s.len() < width {
        s.push(' ');
    }
    s
}

/// Right-pads `text` with spaces to `width` characters (Go `%-Ns`, RightPad).
pub fn pad_chars(text: &str, width: usize) -> String {
    let n = text.chars().count();
    let mut s = text.to_owned();
    for _ in n..width {
        s.push(' ');
    }
    s
}

/// The Go report label of a flag: drop `--`, `-` and `.` become spaces, the
/// first character upper-cased, `:` appended.
pub fn go_label(flag: &str) -> String {
    let bare = flag.trim_start_matches("--").replace(['-', '.'], " ");
    let mut chars = bare.chars();
    let mut out = match chars.next() {
        Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    };
    out.push(':');
    out
}

/// A Go report block (`common.ReportSingleApp`): header (unless quiet), rows
/// sorted byte-wise by flag, width `max(longest flag, 31)`.
pub fn go_report(subject: &str, kind: &str, rows: &[(String, String)], quiet: bool) -> String {
    let mut rows: Vec<&(String, String)> = rows.iter().collect();
    rows.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(31);
    let mut out = String::new();
    if !quiet {
        out.push_str(&format!("=====> {subject} {kind} information\n"));
    }
    for (flag, value) in rows {
        out.push_str("       ");
        out.push_str(&pad_chars(&go_label(flag), width));
        out.push_str(value);
        out.push('\n');
    }
    out
}

/// One bash report row: 7 spaces, `printf "%-30s %-25s"`, newline.
pub fn bash_row(label: &str, value: &str) -> String {
    format!("       {} {}\n", pad_bytes(label, 30), pad_bytes(value, 25))
}

/// A bash report block: header (unless quiet) and rows in code order.
/// `rows` are `(label with colon, value)`.
pub fn bash_report(subject: &str, kind: &str, rows: &[(String, String)], quiet: bool) -> String {
    let mut out = String::new();
    if !quiet {
        out.push_str(&format!("=====> {subject} {kind} information\n"));
    }
    for (label, value) in rows {
        out.push_str(&bash_row(label, value));
    }
    out
}

/// One dokku-postgres info row: 7 spaces, `printf "%-20s %-25s"`, newline.
pub fn service_row(label: &str, value: &str) -> String {
    format!("       {} {}\n", pad_bytes(label, 20), pad_bytes(value, 25))
}

/// Go `encoding/json` string escaping extras: `<`, `>`, `&`, U+2028, U+2029.
pub fn go_json_escape(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// A JSON object of strings, keys sorted, as Go marshals a `map[string]string`.
pub fn go_json_object(map: &BTreeMap<String, String>) -> String {
    go_json_escape(
        &serde_json::Value::from(serde_json::Map::from_iter(
            map.iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))),
        ))
        .to_string(),
    )
}

/// Go `json.Marshal` of a list of strings.
pub fn go_json_strings(items: &[String]) -> String {
    go_json_escape(&serde_json::Value::from(items.to_vec()).to_string())
}

/// Report JSON keys for `flag` (`--app-dir`): the legacy key (`app-dir`) and,
/// when `strip_prefix` is given and applies, the stripped key (`dir`).
pub fn json_keys(flag: &str, strip_prefix: Option<&str>, legacy: bool) -> Vec<String> {
    let bare = flag.trim_start_matches("--").to_owned();
    match strip_prefix {
        Some(p) => match bare.strip_prefix(&format!("{p}-")) {
            Some(stripped) if legacy => vec![stripped.to_owned(), bare.clone()],
            Some(stripped) => vec![stripped.to_owned()],
            None => vec![bare],
        },
        None => vec![bare],
    }
}

/// ryanuber/columnize v2 with `\0` as delimiter (as Dokku's config plugin
/// sets it) and two-space glue: every
/// element trimmed, widths counted in runes over all lines, the last element
/// of a line unpadded. Returns the block without its final newline.
pub fn columnize(lines: &[String], prefix: &str) -> String {
    let split: Vec<Vec<String>> = lines
        .iter()
        .flat_map(|l| l.split('\n').map(str::to_owned).collect::<Vec<_>>())
        .map(|l| l.split('\0').map(|e| e.trim().to_owned()).collect())
        .collect();
    let mut widths: Vec<usize> = Vec::new();
    for elems in &split {
        for (i, e) in elems.iter().enumerate() {
            let n = e.chars().count();
            if widths.len() <= i {
                widths.push(n);
            } else if widths[i] < n {
                widths[i] = n;
            }
        }
    }
    let mut out = String::new();
    for elems in &split {
        out.push_str(prefix);
        for (i, e) in elems.iter().enumerate() {
            if i + 1 == elems.len() {
                out.push_str(e);
            } else {
                out.push_str(&pad_chars(e, widths[i]));
                out.push_str("  ");
            }
        }
        out.push('\n');
    }
    if out.ends_with('\n') {
        out.pop();
    }
    out
}

/// The `KEY:\0value` lines Dokku's config plugin columnizes, keys sorted.
pub fn config_lines(vars: &BTreeMap<String, String>) -> Vec<String> {
    vars.iter().map(|(k, v)| format!("{k}:\0{v}")).collect()
}

/// Single-quotes a value for `export`/`shell` formats (`'` → `'\''`).
pub fn single_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "'\\''"))
}

/// godotenv's integer test (Go `strconv.Atoi`).
pub fn go_atoi(v: &str) -> Option<i64> {
    let digits = v.strip_prefix(['+', '-']).unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<i64>().ok()
}

/// How godotenv stores a value: integer-looking values are normalised.
pub fn normalise_value(v: &str) -> String {
    match go_atoi(v) {
        Some(i) => i.to_string(),
        None => v.to_owned(),
    }
}

/// godotenv.Marshal: sorted `K="escaped"` lines, integers unquoted.
pub fn envfile(vars: &BTreeMap<String, String>) -> String {
    let mut lines: Vec<String> = vars
        .iter()
        .map(|(k, v)| match go_atoi(v) {
            Some(i) => format!("{k}={i}"),
            None => {
                let mut e = String::new();
                for c in v.chars() {
                    match c {
                        '\\' => e.push_str("\\\\"),
                        '\n' => e.push_str("\\n"),
                        '\r' => e.push_str("\\r"),
                        '"' => e.push_str("\\\""),
                        '!' => e.push_str("\\!"),
                        '$' => e.push_str("\\$"),
                        '`' => e.push_str("\\`"),
                        c => e.push(c),
                    }
                }
                format!("{k}=\"{e}\"")
            }
        })
        .collect();
    lines.sort();
    lines.join("\n")
}

/// `config:export --format F` output: the format's text plus `\n` (a space
/// for `shell`), or `None` for an unknown format.
pub fn config_export(vars: &BTreeMap<String, String>, format: &str) -> Option<String> {
    let quoted = |prefix: &str, sep: &str| {
        vars.iter()
            .map(|(k, v)| format!("{prefix}{k}={}", single_quote(v)))
            .collect::<Vec<_>>()
            .join(sep)
    };
    let keys = |prefix: &str| {
        vars.keys()
            .map(|k| format!("{prefix}{k}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let body = match format {
        "exports" => quoted("export ", "\n"),
        "envfile" => envfile(vars),
        "docker-args" => quoted("--env=", " "),
        "docker-args-keys" => keys("--env="),
        "pack-keys" => keys("--env "),
        "shell" => return Some(format!("{} ", quoted("", " "))),
        "json" => go_json_object(vars),
        "json-list" => {
            if vars.is_empty() {
                "null".to_owned()
            } else {
                let list: Vec<serde_json::Value> = vars
                    .iter()
                    .map(|(k, v)| serde_json::json!({"name": k, "value": v}))
                    .collect();
                go_json_escape(&serde_json::Value::from(list).to_string())
            }
        }
        "pretty" => columnize(&config_lines(vars), ""),
        _ => return None,
    };
    Some(format!("{body}\n"))
}

/// One `ps:scale` row: `RightPad("<proc>:", 5) + " " + qty`.
pub fn scale_row(proc_type: &str, qty: u32) -> String {
    format!("{} {qty}\n", pad_chars(&format!("{proc_type}:"), 5))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn labels() {
        assert_eq!(go_label("--status-web.1"), "Status web 1:");
        assert_eq!(go_label("--app-dir"), "App dir:");
    }

    #[test]
    fn go_report_sorts_bytewise_and_pads_to_longest_flag() {
        let r = go_report(
            "myapp",
            "ps",
            &rows(&[
                ("--status-web.2", "b"),
                ("--status-web.10", "c"),
                ("--running", "true"),
                ("--deployed", ""),
            ]),
            false,
        );
        let expected = "=====> myapp ps information\n       Deployed:                      \n       Running:                       true\n       Status web 10:                 c\n       Status web 2:                  b\n";
        assert_eq!(r, expected);
        // a longer flag widens the column
        let long = "--ps-computed-stop-timeout-seconds";
        let r = go_report("a", "ps", &rows(&[(long, "30")]), true);
        assert_eq!(
            r,
            format!(
                "       {}30\n",
                pad_chars("Ps computed stop timeout seconds:", 34)
            )
        );
    }

    #[test]
    fn bash_rows() {
        assert_eq!(
            bash_row("Git sha:", "abc"),
            format!("       Git sha:{} abc{}\n", " ".repeat(22), " ".repeat(22))
        );
        let long = "A label that is longer than thirty:";
        assert_eq!(
            bash_row(long, ""),
            format!("       {long} {}\n", " ".repeat(25))
        );
        assert_eq!(
            service_row("Status:", "running"),
            "       Status:              running                  \n"
        );
    }

    #[test]
    fn json_shapes() {
        let mut m = BTreeMap::new();
        m.insert("b".to_owned(), "<&>".to_owned());
        m.insert("a".to_owned(), "1".to_owned());
        assert_eq!(go_json_object(&m), r#"{"a":"1","b":"\u003c\u0026\u003e"}"#);
        assert_eq!(
            json_keys("--app-dir", Some("app"), true),
            vec!["dir".to_owned(), "app-dir".to_owned()]
        );
        assert_eq!(
            json_keys("--deployed", Some("ps"), true),
            vec!["deployed".to_owned()]
        );
        assert_eq!(
            json_keys("--git-sha", Some("git"), false),
            vec!["sha".to_owned()]
        );
        assert_eq!(
            json_keys("--git-sha", None, false),
            vec!["git-sha".to_owned()]
        );
    }

    #[test]
    fn columnize_rules() {
        let mut m = BTreeMap::new();
        m.insert("A".to_owned(), "  x  ".to_owned());
        m.insert("LONGER".to_owned(), "line1\nline2".to_owned());
        m.insert("E".to_owned(), String::new());
        assert_eq!(
            columnize(&config_lines(&m), "  "),
            "  A:       x\n  E:       \n  LONGER:  line1\n  line2"
        );
        assert_eq!(columnize(&[], ""), "");
    }

    #[test]
    fn exports() {
        let mut m = BTreeMap::new();
        m.insert("Q".to_owned(), "it's $x!".to_owned());
        m.insert("N".to_owned(), "7".to_owned());
        assert_eq!(
            config_export(&m, "envfile").as_deref(),
            Some("N=7\nQ=\"it's \\$x\\!\"\n")
        );
        assert_eq!(
            config_export(&m, "shell").as_deref(),
            Some("N='7' Q='it'\\''s $x!' ")
        );
        assert_eq!(
            config_export(&BTreeMap::new(), "json-list").as_deref(),
            Some("null\n")
        );
        assert_eq!(
            config_export(&BTreeMap::new(), "json").as_deref(),
            Some("{}\n")
        );
        assert!(config_export(&m, "yaml").is_none());
        assert_eq!(normalise_value("007"), "7");
        assert_eq!(normalise_value("+7"), "7");
        assert_eq!(normalise_value("7a"), "7a");
        assert_eq!(normalise_value(" 7"), " 7");
    }

    #[test]
    fn scale_rows() {
        assert_eq!(scale_row("web", 2), "web:  2\n");
        assert_eq!(scale_row("worker", 1), "worker: 1\n");
    }
}
