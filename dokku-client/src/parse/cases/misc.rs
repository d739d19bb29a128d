//! Commands of no resource module: `ls` (the containers), `remote:show` (a
//! client's remote), and every command no resource knows (the steps it
//! printed).

use serde_json::{json, Value};

use super::dispatch::{same, Case, Outcome};
use super::empty_object;
use crate::parse::lines::{parse_ls, parse_remote_show, parse_steps};

/// `ls`, `remote:show`; `None` for other commands.
pub(super) fn case(c: &Case<'_>) -> Option<Outcome> {
    let command = c.inv.command.as_str();
    if !matches!(command, "ls" | "remote:show") {
        return None;
    }
    if !c.ok() {
        return Some(same(Value::Null));
    }
    let text = c.text();
    Some(same(if command == "ls" {
        json!({ "containers": parse_ls(text) })
    } else {
        Value::Object(parse_remote_show(text))
    }))
}

/// A command no resource knows: `{}`, with the `----->` steps it printed.
pub(super) fn other(c: &Case<'_>) -> Outcome {
    if !c.ok() {
        return same(Value::Null);
    }
    let mut r = empty_object();
    let steps = parse_steps(c.text());
    if !steps.is_empty() {
        r["steps"] = json!(steps);
    }
    same(r)
}
