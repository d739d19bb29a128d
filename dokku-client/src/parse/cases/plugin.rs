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
    Some(list(c))
}

fn list(c: &Case<'_>) -> Outcome {
    if !c.ok() {
        return same(Value::Null);
    }
    let p = if c.json_list()? {
        parse_plugin_list_json(c.text())?
    } else {
        parse_plugin_list(c.text())
    };
    done(json!({ "plugins": p }), to_value(&p))
}
