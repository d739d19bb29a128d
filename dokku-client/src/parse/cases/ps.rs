//! `ps`: scale (shown or set), the lifecycle commands (stop, start, restart,
//! rebuild, restartall, restore), and the typed shape of `ps:report` (with
//! each process's container status).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::dispatch::{done, same, with_urls, Case, Outcome};
use super::report::ReportShape;
use super::to_value;
use crate::parse::lines::warn_messages;
use crate::parse::{lines_of, ReportBlock};
use crate::ps::parse_ps_scale;
use crate::ps::{process_status, PsReport};

/// `ps:report`'s typed value ([`PsReport`]); its text result adds
/// `containers`.
pub(super) const REPORT: ReportShape = ReportShape {
    prefix: "ps",
    typed,
    extra: containers,
};

fn typed(subject: Option<String>, fields: BTreeMap<String, String>) -> Value {
    to_value(&PsReport::from_fields(subject, fields))
}

/// Every `Status <process>` row as `{process, status, cid}`.
fn containers(blocks: &[ReportBlock], result: &mut Value) {
    let containers: Vec<Value> = blocks
        .iter()
        .flat_map(|b| b.fields.iter())
        .filter_map(|(k, v)| process_status(k, v))
        .map(|s| json!({"process": s.process(), "status": s.status, "cid": s.container_id}))
        .collect();
    result["containers"] = json!(containers);
}

/// The `ps` commands but `ps:report`; `None` for others.
pub(super) fn case(c: &Case<'_>) -> Option<Outcome> {
    Some(match c.inv.command.as_str() {
        "ps:scale" => scale(c),
        "ps:stop" | "ps:start" | "ps:restart" | "ps:rebuild" | "ps:restartall" | "ps:restore" => {
            lifecycle(c)
        }
        _ => return None,
    })
}

fn scale(c: &Case<'_>) -> Outcome {
    if !c.ok() {
        return same(Value::Null);
    }
    let text = c.text();
    let pos = c.inv.positionals(&["--format"]);
    let settings: Vec<&str> = pos.iter().copied().filter(|p| p.contains('=')).collect();
    if !settings.is_empty() {
        let mut f = BTreeMap::new();
        // `-----> Scaling myapp processes: web=2 worker=1` when printed.
        let shown = lines_of(text).into_iter().find_map(|l| {
            l.strip_prefix("-----> Scaling ")
                .and_then(|r| r.split_once(" processes: "))
                .map(|(_, list)| list.to_string())
        });
        let listed: Vec<String> = match &shown {
            Some(list) => list.split_whitespace().map(str::to_string).collect(),
            None => settings.iter().map(|s| s.to_string()).collect(),
        };
        for s in &listed {
            if let Some((k, v)) = s.split_once('=') {
                f.insert(k.to_string(), v.parse::<u32>().unwrap_or(0));
            }
        }
        return same(json!({"app": c.app(), "formation": f}));
    }
    c.json_list()?;
    let (header_app, formation) = parse_ps_scale(text)?;
    done(
        json!({"app": header_app, "formation": formation}),
        to_value(&formation),
    )
}

fn lifecycle(c: &Case<'_>) -> Outcome {
    if !c.ok() {
        return same(Value::Null);
    }
    let all = c.stdout_and_stderr();
    let mut r = json!({"app": c.app()});
    let warnings: Vec<String> = warn_messages(&all)
        .into_iter()
        .chain(lines_of(&all).iter().map(|l| l.to_string()))
        .collect();
    if warnings
        .iter()
        .any(|m| m.ends_with("has not been deployed"))
    {
        r["deployed"] = json!(false);
    }
    if warnings.iter().any(|m| m.ends_with("already running")) {
        r["already_running"] = json!(true);
    }
    with_urls(&mut r, c.text());
    same(r)
}
