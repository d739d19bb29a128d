//! `logs`: the app's log lines.

use serde_json::{json, Value};

use super::dispatch::{done, same, Case, Outcome};
use super::to_value;
use crate::logs::parse_logs;

/// `logs`; `None` for other commands (`logs:report` is a report).
pub(super) fn case(c: &Case<'_>) -> Option<Outcome> {
    if c.inv.command != "logs" {
        return None;
    }
    if !c.ok() {
        return Some(same(Value::Null));
    }
    let lines = parse_logs(c.text());
    Some(done(json!({ "lines": lines }), to_value(&lines)))
}
