//! `plugin`, `plugin:list`: the installed plugins.

use super::dispatch::{list_of, Case, Outcome};
use crate::plugin::{parse_plugin_list, parse_plugin_list_json};

/// `plugin`, `plugin:list`; `None` for other commands.
pub(super) fn case(c: &Case<'_>) -> Option<Outcome> {
    if !matches!(c.inv.command.as_str(), "plugin" | "plugin:list") {
        return None;
    }
    Some(list_of(
        c,
        "plugins",
        parse_plugin_list,
        parse_plugin_list_json,
    ))
}
