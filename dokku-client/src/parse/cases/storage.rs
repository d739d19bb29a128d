//! `storage:list`: the app's mounts.

use serde_json::{json, Value};

use super::dispatch::{done, same, Case, Outcome};
use super::to_value;
use crate::storage::{parse_storage_list, parse_storage_list_json};

/// `storage:list`; `None` for other commands.
pub(super) fn case(c: &Case<'_>) -> Option<Outcome> {
    if c.inv.command != "storage:list" {
        return None;
    }
    if !c.ok() {
        return Some(same(Value::Null));
    }
    let m = if c.inv.value_of(&["--format"]) == Some("json") {
        match parse_storage_list_json(c.text()) {
            Ok(m) => m,
            Err(e) => return Some(Err(e)),
        }
    } else {
        parse_storage_list(c.text())
    };
    Some(done(json!({ "mounts": m }), to_value(&m)))
}
