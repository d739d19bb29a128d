//! `plugin`, `plugin:list`: the installed plugins.

use serde_json::{json, Value};

use super::dispatch::{done, same, Case, Outcome};
use super::to_value;
use crate::plugin::{parse_plugin_list, parse_plugin_list_json};

/// `plugin`, `plugin:list`; `None` for other commands.
pub(super) fn case(c: &Case<'_>) -> Option<Outcome> {
    if !matches!(c.inv.command.as_str(), "plugin" | "plugin:list") {
        return None;
    }
    if !c.ok() {
        return Some(same(Value::Null));
    }
    let p = if c.inv.value_of(&["--format"]) == Some("json") {
        match parse_plugin_list_json(c.text()) {
            Ok(v) => v,
            Err(e) => return Some(Err(e)),
        }
    } else {
        parse_plugin_list(c.text())
    };
    Some(done(json!({ "plugins": p }), to_value(&p)))
}
