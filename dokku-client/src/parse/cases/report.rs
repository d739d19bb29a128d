//! Every `X:report` (but `postgres:*`): an info flag's value, `--format
//! json` (one object, or one per line for every app), or the text blocks;
//! typed by the resource that owns the prefix ([`ReportShape`]), else an
//! object of the block's fields.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::dispatch::{done, info_value, is_info_flag, same, Case, Outcome};
use super::{apps, domains, git, ps};
use crate::parse::report::{
    json_snake_fields, parse_report_json, parse_report_text, JsonReports, ReportBlock, ReportJson,
};

/// How a resource's report is typed and what its `result` adds.
pub(super) struct ReportShape {
    /// The label prefix (`app` for `apps:report`'s `App dir`).
    pub prefix: &'static str,
    /// The library's typed report from a subject and its snake_case fields.
    pub typed: fn(Option<String>, BTreeMap<String, String>) -> Value,
    /// What the resource adds to the `result` of a text report.
    pub extra: fn(&[ReportBlock], &mut Value),
}

/// For a [`ReportShape`] whose text result adds nothing.
pub(super) fn no_extra(_: &[ReportBlock], _: &mut Value) {}

/// The resources with a typed report.
const TYPED: &[&ReportShape] = &[&apps::REPORT, &domains::REPORT, &git::REPORT, &ps::REPORT];

/// A report no resource types: the subject and the fields.
fn untyped(subject: Option<String>, fields: BTreeMap<String, String>) -> Value {
    let mut m = Map::new();
    m.insert("subject".into(), json!(subject));
    for (k, v) in fields {
        m.insert(k, json!(v));
    }
    Value::Object(m)
}

/// The result of an `X:report` run.
pub(super) fn report(c: &Case<'_>) -> Outcome {
    let prefix = c.inv.command.trim_end_matches(":report");
    let default_type = if prefix == "apps" { "app" } else { prefix };
    let shape = TYPED.iter().find(|s| s.prefix == default_type);
    let typed_report = shape.map_or(untyped as fn(_, _) -> _, |s| s.typed);
    if c.inv.args.iter().any(|a| is_info_flag(a)) {
        if c.ok() {
            return same(json!({ "value": info_value(c.text()) }));
        }
        // Bash reports (before 0.38) failed on an empty value.
        if c.failed_message().as_deref() == Some("not deployed") {
            return same(json!({ "value": "" }));
        }
        return same(Value::Null);
    }
    if !c.ok() {
        return same(Value::Null);
    }
    let text = c.text();
    if c.inv.value_of(&["--format"]) == Some("json") {
        let many = c.inv.positionals(&["--format"]).is_empty() && !c.inv.has("--global");
        let parsed = parse_report_json(
            text,
            if many {
                JsonReports::Many
            } else {
                JsonReports::One
            },
        )?;
        return match parsed {
            ReportJson::Single(m) => {
                let typed = typed_report(None, json_snake_fields(&m, default_type));
                done(json!({ "json": m }), typed)
            }
            ReportJson::Lines(v) => {
                let typed: Vec<Value> = v
                    .iter()
                    .map(|m| typed_report(None, json_snake_fields(m, default_type)))
                    .collect();
                done(json!({ "json_lines": v }), Value::Array(typed))
            }
        };
    }
    let blocks = parse_report_text(text, Some(default_type));
    let mut r = json!({ "reports": blocks });
    if let Some(s) = shape {
        (s.extra)(&blocks, &mut r);
    }
    let typed: Vec<Value> = blocks
        .iter()
        .map(|b: &ReportBlock| typed_report(b.subject.clone(), b.snake_fields(default_type)))
        .collect();
    let typed = if typed.len() == 1 {
        typed.into_iter().next().unwrap_or(Value::Null)
    } else {
        Value::Array(typed)
    };
    done(r, typed)
}
