//! `*:report` output: Go and bash text reports, `--format json` (one object
//! or NDJSON), and the snake_case naming of report fields.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::{is_warn_line, line_iter, lines_of, ParseError};

/// One report block: `=====> <subject> <type> information` and its rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ReportBlock {
    /// The app name, `--global`, or `None` when `--quiet` removed the header.
    pub subject: Option<String>,
    /// The report type (`app`, `ps`, `git`, `domains`), from the header, or
    /// the one given to the parser when there is no header.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Label (text before the first `:`) to value (padding and trailing
    /// whitespace removed), in output order.
    #[serde(serialize_with = "ordered")]
    pub fields: Vec<(String, String)>,
}

fn ordered<S: serde::Serializer>(fields: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(fields.len()))?;
    for (k, v) in fields {
        m.serialize_entry(k, v)?;
    }
    m.end()
}

impl ReportBlock {
    /// The value of a label (exact match).
    pub fn get(&self, label: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == label)
            .map(|(_, v)| v.as_str())
    }

    /// The fields as a map keyed by snake_case name with the plugin prefix
    /// removed (see [`snake_label`]).
    pub fn snake_fields(&self, prefix: &str) -> BTreeMap<String, String> {
        self.fields
            .iter()
            .map(|(k, v)| (snake_label(k, prefix), v.clone()))
            .collect()
    }
}

/// Turns a report label or JSON key into a snake_case field name without the
/// plugin prefix: `App deploy source` and `app-deploy-source` become
/// `deploy_source` for prefix `app`; `Status web 1` and `status-web.1`
/// become `status_web_1`.
pub fn snake_label(label: &str, prefix: &str) -> String {
    let mut s = String::with_capacity(label.len());
    let mut after_underscore = false;
    for c in label.trim().chars() {
        let c = match c {
            ' ' | '-' | '.' => '_',
            c => c.to_ascii_lowercase(),
        };
        // Runs of separators become one `_`.
        if c == '_' && after_underscore {
            continue;
        }
        after_underscore = c == '_';
        s.push(c);
    }
    let strip = prefix_len(&s, prefix);
    if strip > 0 {
        s.drain(..strip);
    }
    s
}

/// The length of `<prefix>_` at the start of the snake_case name `name`
/// (the prefix lowercased, `-` as `_`), when something follows it; else 0.
fn prefix_len(name: &str, prefix: &str) -> usize {
    let (name, prefix) = (name.as_bytes(), prefix.as_bytes());
    let len = prefix.len() + 1;
    if prefix.is_empty() || name.len() <= len || name[prefix.len()] != b'_' {
        return 0;
    }
    let same = name.iter().zip(prefix).all(|(&n, &p)| {
        let p = if p == b'-' {
            b'_'
        } else {
            p.to_ascii_lowercase()
        };
        n == p
    });
    if same {
        len
    } else {
        0
    }
}

/// Remembers the snake_case names of the labels seen so far: a report repeats
/// the same few labels for every app, so each is converted once.
struct SnakeNames<'t, 'p> {
    prefix: &'p str,
    seen: Vec<(&'t str, String)>,
}

impl<'t, 'p> SnakeNames<'t, 'p> {
    /// Labels past this many are converted every time (a `ps:report` with
    /// many processes has a label per process).
    const CAPACITY: usize = 64;

    fn new(prefix: &'p str) -> Self {
        SnakeNames {
            prefix,
            seen: Vec::new(),
        }
    }

    fn get(&mut self, label: &'t str) -> Cow<'_, str> {
        let index = match self.seen.iter().position(|(l, _)| *l == label) {
            Some(i) => i,
            None if self.seen.len() < Self::CAPACITY => {
                self.seen.push((label, snake_label(label, self.prefix)));
                self.seen.len() - 1
            }
            None => return Cow::Owned(snake_label(label, self.prefix)),
        };
        Cow::Borrowed(self.seen[index].1.as_str())
    }
}

/// Parses a report header `=====> <subject> <type> information` into
/// `(subject, type)`.
fn header(line: &str) -> Option<(Option<String>, Option<String>)> {
    let rest = line.strip_prefix("=====>")?.trim();
    let rest = rest
        .strip_suffix(" information")
        .or_else(|| rest.strip_suffix(" Information"))?;
    match rest.rsplit_once(' ') {
        Some((subject, kind)) => Some((Some(subject.trim().to_string()), Some(kind.to_string()))),
        None => Some((None, Some(rest.to_string()))),
    }
}

/// Splits a report row at the first `:` into a trimmed label and value.
pub fn split_row(line: &str) -> Option<(String, String)> {
    row_parts(line).map(|(label, value)| (label.to_string(), value.to_string()))
}

/// [`split_row`] without copying.
fn row_parts(line: &str) -> Option<(&str, &str)> {
    let (label, value) = line.split_once(':')?;
    let label = label.trim();
    if label.is_empty() {
        return None;
    }
    Some((label, value.trim()))
}

/// A line of a text report that is neither a header nor a row: blank lines,
/// ` !` warnings and `----->` notes.
fn is_report_noise(line: &str) -> bool {
    line.trim().is_empty() || is_warn_line(line) || line.starts_with("----->")
}

/// Parses a text report: any number of blocks, each with an optional header
/// (Go and bash forms, `--quiet` output has none). Rows are split at the
/// first `:`; padding, trailing spaces and `\r` are removed. Rows before any
/// header form a block whose subject is `None` and whose type is
/// `default_type`. Lines that are not rows (warnings, blank lines) are skipped.
pub fn parse_report_text(text: &str, default_type: Option<&str>) -> Vec<ReportBlock> {
    let mut blocks: Vec<ReportBlock> = Vec::new();
    for line in line_iter(text) {
        if line.starts_with("=====>") {
            if let Some((subject, kind)) = header(line) {
                blocks.push(ReportBlock {
                    subject,
                    kind,
                    fields: Vec::new(),
                });
            }
            continue;
        }
        if is_report_noise(line) {
            continue;
        }
        if let Some((label, value)) = split_row(line) {
            if blocks.is_empty() {
                blocks.push(ReportBlock {
                    subject: None,
                    kind: default_type.map(str::to_string),
                    fields: Vec::new(),
                });
            }
            if let Some(b) = blocks.last_mut() {
                b.fields.push((label, value));
            }
        }
    }
    blocks
}

/// What [`parse_report_text`] then [`ReportBlock::snake_fields`] give, in one
/// pass without the intermediate blocks: `start` makes a report from its
/// subject, `field` adds a snake_case name and its value to it.
fn text_reports<R>(
    text: &str,
    prefix: &str,
    subject: Option<&str>,
    start: impl Fn(Option<String>) -> R,
    mut field: impl FnMut(&mut R, &str, &str),
) -> Vec<R> {
    let mut reports: Vec<R> = Vec::new();
    let mut names = SnakeNames::new(prefix);
    for line in line_iter(text) {
        if line.starts_with("=====>") {
            if let Some((from_header, _kind)) = header(line) {
                reports.push(start(from_header.or_else(|| subject.map(str::to_string))));
            }
            continue;
        }
        if is_report_noise(line) {
            continue;
        }
        if let Some((label, value)) = row_parts(line) {
            if reports.is_empty() {
                reports.push(start(subject.map(str::to_string)));
            }
            if let Some(report) = reports.last_mut() {
                field(report, &names.get(label), value);
            }
        }
    }
    reports
}

/// A typed `*:report` ([`crate::AppReport`], [`crate::PsReport`],
/// [`crate::GitReport`], [`crate::DomainsReport`]) filled from snake_case
/// fields (plugin prefix removed), one at a time.
pub trait ReportFields: Default {
    /// Sets the report's subject (the app).
    fn set_subject(&mut self, subject: Option<String>);

    /// Takes one field. A later field of the same name replaces an earlier
    /// one; names the type does not know are kept in its `other` map.
    fn set_field(&mut self, name: &str, value: String);

    /// Called once, after the last field.
    fn finish(&mut self) {}

    /// The report of a subject and its fields (one item of [`report_maps`]).
    fn from_map(subject: Option<String>, fields: BTreeMap<String, String>) -> Self {
        let mut report = Self::default();
        report.set_subject(subject);
        for (name, value) in fields {
            report.set_field(&name, value);
        }
        report.finish();
        report
    }
}
/// Dokku's `true`/`false` (report values, `ps:report --running`) as a bool;
/// anything else is `None`.
pub(crate) fn parse_bool(value: &str) -> Option<bool> {
    match value {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// The output a `*:report` command is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReportFormat {
    /// Dokku's `=====>` blocks (every version).
    Text,
    /// `--format json` (where the plugin's report has it).
    Json,
}

impl ReportFormat {
    /// `Json` when the server's report has it, `Text` otherwise.
    pub fn when(json: bool) -> Self {
        if json {
            ReportFormat::Json
        } else {
            ReportFormat::Text
        }
    }

    /// True for `Json`.
    pub fn is_json(self) -> bool {
        self == ReportFormat::Json
    }

    /// Adds `--format json` to `cmd` for `Json`.
    pub fn apply(self, cmd: crate::Command) -> crate::Command {
        match self {
            ReportFormat::Text => cmd,
            ReportFormat::Json => cmd.flag("--format").flag("json"),
        }
    }
}

/// Typed reports from `*:report` output: what [`report_maps`] then
/// [`ReportFields::from_map`] give. Text output goes straight to the typed
/// reports (each label converted once, no maps in between): a host with
/// 10,000 apps sends megabytes of it.
///
/// ```
/// use dokku_client::parse::report::{typed_reports, ReportFormat};
/// use dokku_client::AppReport;
///
/// let text = "=====> api app information\n       App dir:     /home/dokku/api\n       App locked:  false\n       App shiny:   yes\n";
/// let reports: Vec<AppReport> = typed_reports(text, ReportFormat::Text, "app", None)?;
/// assert_eq!(reports[0].app.as_deref(), Some("api"));
/// assert_eq!(reports[0].dir.as_deref(), Some("/home/dokku/api"));
/// assert_eq!(reports[0].locked, Some(false));
/// // A field this version does not know is kept, by its snake_case name.
/// assert_eq!(reports[0].other["shiny"], "yes");
/// # Ok::<(), dokku_client::parse::ParseError>(())
/// ```
pub fn typed_reports<T: ReportFields>(
    text: &str,
    format: ReportFormat,
    prefix: &str,
    subject: Option<&str>,
) -> Result<Vec<T>, ParseError> {
    if format.is_json() {
        return Ok(report_maps(text, format, prefix, subject)?
            .into_iter()
            .map(|(s, f)| T::from_map(s, f))
            .collect());
    }
    let mut reports = text_reports(
        text,
        prefix,
        subject,
        |s| {
            let mut report = T::default();
            report.set_subject(s);
            report
        },
        |report, name, value| report.set_field(name, value.to_string()),
    );
    for report in &mut reports {
        report.finish();
    }
    Ok(reports)
}

/// Decoded `--format json` report output.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub enum ReportJson {
    /// One object (a report for one app, or `--global`).
    Single(Map<String, Value>),
    /// One object per line (every app, no app names inside).
    Lines(Vec<Map<String, Value>>),
}

/// How many reports a `--format json` output was asked to hold: one
/// subject's (`apps:report APP`) or every subject's (`apps:report`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonReports {
    /// One report: a single object is [`ReportJson::Single`].
    One,
    /// Every report: always [`ReportJson::Lines`], even with one line.
    Many,
}

/// Parses `--format json` report output: one object, or NDJSON (one object
/// per line). Every key is kept; values are normally strings.
///
/// ```
/// use dokku_client::parse::report::{parse_report_json, JsonReports, ReportJson};
/// let one = parse_report_json("{\"app-locked\":\"false\"}\n", JsonReports::One).unwrap();
/// assert!(matches!(one, ReportJson::Single(_)));
/// let every = parse_report_json("{\"app-locked\":\"false\"}\n", JsonReports::Many).unwrap();
/// assert!(matches!(every, ReportJson::Lines(v) if v.len() == 1));
/// ```
pub fn parse_report_json(text: &str, expected: JsonReports) -> Result<ReportJson, ParseError> {
    let many = expected == JsonReports::Many;
    let mut objects = Vec::new();
    for line in lines_of(text) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(m)) => objects.push(m),
            Ok(_) => return Err(ParseError::new("expected a JSON object per line", line)),
            Err(e) => {
                // A pretty-printed document spans lines: try the whole text.
                return match serde_json::from_str::<Value>(text.trim()) {
                    Ok(Value::Object(m)) if !many => Ok(ReportJson::Single(m)),
                    Ok(Value::Object(m)) => Ok(ReportJson::Lines(vec![m])),
                    _ => Err(ParseError::new(format!("invalid report JSON: {e}"), line)),
                };
            }
        }
    }
    if many || objects.len() != 1 {
        Ok(ReportJson::Lines(objects))
    } else {
        Ok(ReportJson::Single(objects.pop().unwrap_or_default()))
    }
}

/// Normalises a JSON report object to snake_case field names without the
/// plugin prefix. Legacy (`app-dir`) and stripped (`dir`) keys collapse into
/// one field; non-string values are kept as their JSON text.
pub fn json_snake_fields(obj: &Map<String, Value>, prefix: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, v) in obj {
        let value = match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        out.insert(snake_label(k, prefix), value);
    }
    out
}

/// A report's subject and its snake_case fields.
pub type SubjectFields = (Option<String>, BTreeMap<String, String>);

/// Reports as `(subject, snake_case fields)` pairs, from `--format json`
/// output ([`ReportFormat::Json`]: one object or NDJSON; `subject` names a
/// single report) or from text. The typed report methods are built on this.
pub fn report_maps(
    text: &str,
    format: ReportFormat,
    prefix: &str,
    subject: Option<&str>,
) -> Result<Vec<SubjectFields>, ParseError> {
    if format.is_json() {
        return Ok(
            match parse_report_json(
                text,
                if subject.is_none() {
                    JsonReports::Many
                } else {
                    JsonReports::One
                },
            )? {
                ReportJson::Single(m) => {
                    vec![(subject.map(str::to_string), json_snake_fields(&m, prefix))]
                }
                ReportJson::Lines(v) => v
                    .iter()
                    .map(|m| (subject.map(str::to_string), json_snake_fields(m, prefix)))
                    .collect(),
            },
        );
    }
    Ok(text_reports(
        text,
        prefix,
        subject,
        |s| (s, BTreeMap::new()),
        |(_, fields), name, value| {
            fields.insert(name.to_string(), value.to_string());
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_rows_at_the_first_colon() {
        let text = "=====> myapp ps information\n       Ps restart policy:  on-failure:10\r\n       Status web.1:                 running    (CID: 0123456789ab)          \n";
        let b = parse_report_text(text, Some("ps"));
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].subject.as_deref(), Some("myapp"));
        assert_eq!(b[0].get("Ps restart policy"), Some("on-failure:10"));
        assert_eq!(
            b[0].get("Status web.1"),
            Some("running    (CID: 0123456789ab)")
        );
    }

    #[test]
    fn quiet_reports_have_no_subject() {
        let b = parse_report_text("       App dir:   /home/dokku/a\n", Some("app"));
        assert_eq!(b[0].subject, None);
        assert_eq!(b[0].kind.as_deref(), Some("app"));
    }

    #[test]
    fn several_blocks_and_global() {
        let text = "=====> a app information\n       App dir: /a\n=====> b app information\n       App dir: /b\n=====> --global domains information\n       Domains global enabled: true\n";
        let b = parse_report_text(text, None);
        assert_eq!(b.len(), 3);
        assert_eq!(b[2].subject.as_deref(), Some("--global"));
        assert_eq!(b[2].kind.as_deref(), Some("domains"));
    }

    #[test]
    fn snake_labels() {
        assert_eq!(snake_label("App deploy source", "app"), "deploy_source");
        assert_eq!(snake_label("app-deploy-source", "app"), "deploy_source");
        assert_eq!(snake_label("status-web.1", "ps"), "status_web_1");
        assert_eq!(snake_label("Ps can scale", "ps"), "can_scale");
        assert_eq!(snake_label("Deployed", "ps"), "deployed");
    }

    /// The first, plain implementation of [`snake_label`], kept as the oracle
    /// for the one-pass version.
    fn snake_label_oracle(label: &str, prefix: &str) -> String {
        let mut s: String = label
            .trim()
            .chars()
            .map(|c| match c {
                ' ' | '-' | '.' => '_',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        while s.contains("__") {
            s = s.replace("__", "_");
        }
        let p = format!("{}_", prefix.to_ascii_lowercase().replace('-', "_"));
        if !prefix.is_empty() && s.len() > p.len() && s.starts_with(&p) {
            s = s[p.len()..].to_string();
        }
        s
    }

    #[test]
    fn snake_label_edge_cases_match_the_oracle() {
        let cases = [
            ("", "app"),
            ("App", "app"),
            ("App_", "app"),
            ("app_x", "app"),
            ("APP  Dir", "app"),
            ("Git-- sha", "git"),
            ("Postgres-Ä x", "postgres"),
            ("Ä x", "Ä"),
            ("ps-x", "PS"),
            ("docker-options_x", "docker-options"),
            ("a__b...c", ""),
            ("  Status web 1  ", "ps"),
            ("Xpp dir", "app"),
            ("Apx dir", "app"),
            ("App-dir", "ap"),
        ];
        for (label, prefix) in cases {
            assert_eq!(
                snake_label(label, prefix),
                snake_label_oracle(label, prefix),
                "{label:?} {prefix:?}"
            );
        }
    }

    /// The one-pass text path of [`report_maps`] against the two-stage one
    /// (blocks, then snake_case fields) it replaces.
    fn report_maps_oracle(text: &str, prefix: &str, subject: Option<&str>) -> Vec<SubjectFields> {
        parse_report_text(text, Some(prefix))
            .into_iter()
            .map(|b| {
                let s = b.subject.clone().or_else(|| subject.map(str::to_string));
                (s, b.snake_fields(prefix))
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn snake_label_matches_the_oracle(
            label in "(App|APP|Ps|Docker-Options|Xpp|Apx|Ä|)[ _.-]{0,2}[ -.A-Za-z_Ä0-9]{0,12}",
            prefix in "(|app|ps|git|docker-options|[a-zA-Z_-]{0,6})",
        ) {
            proptest::prop_assert_eq!(snake_label(&label, &prefix), snake_label_oracle(&label, &prefix));
        }

        #[test]
        fn text_report_maps_match_the_oracle(
            lines in proptest::collection::vec(
                "(=====> [a-z-]{0,6} ?[a-z]{0,4} information|=====> --global app information| ! warn: x|----->|[ ]{0,8}(App|Ps|Git) [A-Za-z .-]{0,10}:[ ]{0,4}[a-z0-9: ]{0,8}\r?|[a-z:]{0,5}|)",
                0..12,
            ),
            subject in proptest::option::of("[a-z]{1,4}"),
            prefix in "(app|ps|git)",
        ) {
            let text = lines.join("\n");
            let got = report_maps(&text, ReportFormat::Text, &prefix, subject.as_deref());
            proptest::prop_assert_eq!(
                got.ok(),
                Some(report_maps_oracle(&text, &prefix, subject.as_deref()))
            );
        }
    }

    /// The typed text path against the map path, for every report type
    /// (`from_map` feeds sorted fields, the text path feeds them in output
    /// order with repeats: the results must not differ).
    fn typed_matches_maps<T: ReportFields + PartialEq + std::fmt::Debug>(
        text: &str,
        prefix: &str,
        subject: Option<&str>,
    ) -> Result<(), proptest::test_runner::TestCaseError> {
        let typed: Vec<T> =
            typed_reports(text, ReportFormat::Text, prefix, subject).unwrap_or_default();
        let via_maps: Vec<T> = report_maps(text, ReportFormat::Text, prefix, subject)
            .unwrap_or_default()
            .into_iter()
            .map(|(s, f)| T::from_map(s, f))
            .collect();
        proptest::prop_assert_eq!(typed, via_maps);
        Ok(())
    }

    proptest::proptest! {
        #[test]
        fn typed_text_reports_match_the_map_path(
            lines in proptest::collection::vec(
                "(=====> [a-z]{1,4} (app|ps|git|domains) information|[ ]{0,7}(App|Ps|Git|Domains) (locked|dir|deployed|processes|running|can scale|sha|app enabled|app vhosts|restart policy):[ ]{0,3}(true|false|x|[0-9]{1,2}|a b)|[ ]{0,7}Status (web|worker|web-x) [0-9]{1,2}:[ ]{0,3}(running|exited) {0,2}(\\(CID: [a-f0-9]{3}\\))?|[ ]{0,7}[A-Z][a-z]{0,6}:[ ]?[a-z]{0,3}|)",
                0..14,
            ),
            subject in proptest::option::of("[a-z]{1,4}"),
        ) {
            let text = lines.join("\n");
            let subject = subject.as_deref();
            typed_matches_maps::<crate::AppReport>(&text, "app", subject)?;
            typed_matches_maps::<crate::PsReport>(&text, "ps", subject)?;
            typed_matches_maps::<crate::GitReport>(&text, "git", subject)?;
            typed_matches_maps::<crate::DomainsReport>(&text, "domains", subject)?;
        }
    }

    #[test]
    fn ndjson_and_single() {
        match parse_report_json("{\"a\":\"1\"}\n{\"a\":\"2\"}\n", JsonReports::Many) {
            Ok(ReportJson::Lines(v)) => assert_eq!(v.len(), 2),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_report_json("{\"a\":\"1\"}\n", JsonReports::One),
            Ok(ReportJson::Single(_))
        ));
        assert!(parse_report_json("nope\n", JsonReports::One).is_err());
    }
}
