//! `apps`: list, exists, create, destroy, lock, unlock, locked, and the
//! typed shape of `apps:report`.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::dispatch::{destroyed, same, yes_no, Case, Outcome};
use super::report::{no_extra, ReportShape};
use super::to_value;
use crate::apps::parse_apps_list;
use crate::apps::AppReport;
use crate::parse::lines::parse_steps;

/// `apps:report`'s typed value: [`AppReport`].
pub(super) const REPORT: ReportShape = ReportShape {
    prefix: "app",
    typed,
    extra: no_extra,
};

fn typed(subject: Option<String>, fields: BTreeMap<String, String>) -> Value {
    to_value(&AppReport::from_fields(subject, fields))
}

/// The `apps` commands but `apps:report`; `None` for others.
pub(super) fn case(c: &Case<'_>) -> Option<Outcome> {
    Some(match c.inv.command.as_str() {
        "apps" | "apps:list" => list(c),
        "apps:exists" => yes_no(c, "exists", &[1, 20]),
        "apps:create" => create(c),
        "apps:destroy" => destroyed(c, "app"),
        "apps:lock" => same(if c.ok() {
            json!({"locked": true})
        } else {
            Value::Null
        }),
        "apps:unlock" => same(if c.ok() {
            json!({"locked": false})
        } else {
            Value::Null
        }),
        "apps:locked" => yes_no(c, "locked", &[1]),
        _ => return None,
    })
}

fn list(c: &Case<'_>) -> Outcome {
    if !c.ok() {
        return same(Value::Null);
    }
    c.json_list()?;
    let apps = parse_apps_list(c.text())?;
    same(json!({ "apps": apps }))
}

fn create(c: &Case<'_>) -> Outcome {
    if !c.ok() {
        return same(json!({"created": false}));
    }
    let mut r = json!({"app": c.app(), "created": true});
    let steps = parse_steps(c.text());
    if !steps.is_empty() {
        r["steps"] = json!(steps);
    }
    same(r)
}
