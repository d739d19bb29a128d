//! `run` (the program's output, and the Procfile command it named) and
//! `run:detached` (the container's name).

use serde_json::{json, Value};

use super::dispatch::{same, Case, Outcome};
use crate::parse::lines_of;

/// `run`, `run:detached`; `None` for other commands.
pub(super) fn case(c: &Case<'_>) -> Option<Outcome> {
    Some(match c.inv.command.as_str() {
        "run" => run(c),
        "run:detached" => detached(c),
        _ => return None,
    })
}

fn run(c: &Case<'_>) -> Outcome {
    let text = c.text();
    let lines = lines_of(text);
    let procfile = lines.first().and_then(|l| {
        l.strip_prefix("-----> Found '")
            .and_then(|r| r.split_once("' in Procfile"))
            .map(|(k, _)| k.to_string())
    });
    let output = if procfile.is_some() {
        match text.find('\n') {
            Some(i) => text[i + 1..].to_string(),
            None => String::new(),
        }
    } else {
        text.to_string()
    };
    let mut r = json!({ "output": output });
    if let Some(p) = procfile {
        r["procfile_command"] = json!(p);
    }
    same(r)
}

fn detached(c: &Case<'_>) -> Outcome {
    if !c.ok() {
        return same(Value::Null);
    }
    let name = lines_of(c.text())
        .into_iter()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string();
    same(json!({ "container_name": name }))
}
