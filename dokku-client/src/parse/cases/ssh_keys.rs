//! `ssh-keys:list`: the keys and their fingerprints.

use super::dispatch::{list_of, Case, Outcome};
use crate::ssh_keys::{parse_ssh_keys_list, parse_ssh_keys_list_json};

/// `ssh-keys:list`; `None` for other commands.
pub(super) fn case(c: &Case<'_>) -> Option<Outcome> {
    if c.inv.command != "ssh-keys:list" {
        return None;
    }
    Some(list_of(
        c,
        "keys",
        parse_ssh_keys_list,
        parse_ssh_keys_list_json,
    ))
}
