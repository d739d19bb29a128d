//! `ssh-keys:list`: the keys and their fingerprints.

use serde_json::{json, Value};

use super::dispatch::{done, same, Case, Outcome};
use super::to_value;
use crate::ssh_keys::{parse_ssh_keys_list, parse_ssh_keys_list_json};

/// `ssh-keys:list`; `None` for other commands.
pub(super) fn case(c: &Case<'_>) -> Option<Outcome> {
    if c.inv.command != "ssh-keys:list" {
        return None;
    }
    Some(list(c))
}

fn list(c: &Case<'_>) -> Outcome {
    if !c.ok() {
        return same(Value::Null);
    }
    let k = if c.json_list()? {
        parse_ssh_keys_list_json(c.text())?
    } else {
        parse_ssh_keys_list(c.text())
    };
    done(json!({ "keys": k }), to_value(&k))
}
