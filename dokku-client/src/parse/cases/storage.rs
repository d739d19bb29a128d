//! `storage:list`: the app's mounts.

use serde_json::{json, Value};

use super::dispatch::{done, same, Case, Outcome};
use super::to_value;
use crate::storage::parse_storage_list;

/// `storage:list`; `None` for other commands.
pub(super) fn case(c: &Case<'_>) -> Option<Outcome> {
    if c.inv.command != "storage:list" {
        return None;
    }
    if !c.ok() {
        return Some(same(Value::Null));
    }
    let m = parse_storage_list(c.text());
    Some(done(json!({ "mounts": m }), to_value(&m)))
}
