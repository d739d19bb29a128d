//! `version` (and `-v`/`--version`): the server's version.

use serde_json::{json, Value};

use super::dispatch::{done, same, Case, Outcome};
use super::to_value;
use crate::version::parse_version;

/// `version`; `None` for other commands.
pub(super) fn case(c: &Case<'_>) -> Option<Outcome> {
    (c.inv.command == "version").then(|| version(c))
}

fn version(c: &Case<'_>) -> Outcome {
    if !c.ok() {
        return same(Value::Null);
    }
    let v = parse_version(c.text())?;
    done(json!({"version": v.to_string()}), to_value(&v))
}
