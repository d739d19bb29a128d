//! `domains`: the 0.4.x listing, and the typed shape of `domains:report`
//! (with the app's vhosts as a list).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::dispatch::{same, Case, Outcome};
use super::report::ReportShape;
use super::to_value;
use crate::domains::DomainsReport;
use crate::parse::{lines_of, ReportBlock};

/// `domains:report`'s typed value ([`DomainsReport`]); its text result adds
/// `app_vhosts`.
pub(super) const REPORT: ReportShape = ReportShape {
    prefix: "domains",
    typed,
    extra: app_vhosts,
};

fn typed(subject: Option<String>, fields: BTreeMap<String, String>) -> Value {
    to_value(&DomainsReport::from_fields(subject, fields))
}

/// The first block's `Domains app vhosts`, split into words.
fn app_vhosts(blocks: &[ReportBlock], result: &mut Value) {
    if let Some(v) = blocks.iter().find_map(|b| b.get("Domains app vhosts")) {
        result["app_vhosts"] = json!(v.split_whitespace().collect::<Vec<_>>());
    }
}

/// `domains` (0.4.x); `None` for other commands.
pub(super) fn case(c: &Case<'_>) -> Option<Outcome> {
    if c.inv.command != "domains" {
        return None;
    }
    // 0.4.x: `=====> <app> Domain Names` then one domain per line.
    if !c.ok() {
        return Some(same(Value::Null));
    }
    let domains: Vec<String> = lines_of(c.text())
        .into_iter()
        .filter(|l| !l.starts_with("=====>") && !l.trim().is_empty())
        .map(|l| l.trim().to_string())
        .collect();
    Some(same(json!({ "domains": domains })))
}
