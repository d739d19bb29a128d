//! `git`: the typed shape of `git:report` (its only command with a result
//! of its own; the others print steps).

use std::collections::BTreeMap;

use serde_json::Value;

use super::report::{no_extra, ReportShape};
use super::to_value;
use crate::git::GitReport;

/// `git:report`'s typed value: [`GitReport`].
pub(super) const REPORT: ReportShape = ReportShape {
    prefix: "git",
    typed,
    extra: no_extra,
};

fn typed(subject: Option<String>, fields: BTreeMap<String, String>) -> Value {
    to_value(&GitReport::from_fields(subject, fields))
}
