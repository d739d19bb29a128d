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
    Some(list(c))
}

fn list(c: &Case<'_>) -> Outcome {
    if !c.ok() {
        return same(Value::Null);
    }
    let m = if c.json_list()? {
        parse_storage_list_json(c.text())?
    } else {
        parse_storage_list(c.text())
    };
    done(json!({ "mounts": m }), to_value(&m))
}
