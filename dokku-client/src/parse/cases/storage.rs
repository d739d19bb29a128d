//! `storage:list`: the app's mounts.

use super::dispatch::{list_of, Case, Outcome};
use crate::storage::{parse_storage_list, parse_storage_list_json};

/// `storage:list`; `None` for other commands.
pub(super) fn case(c: &Case<'_>) -> Option<Outcome> {
    if c.inv.command != "storage:list" {
        return None;
    }
    Some(list_of(
        c,
        "mounts",
        parse_storage_list,
        parse_storage_list_json,
    ))
}
