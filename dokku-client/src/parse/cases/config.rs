//! `config`: show (and the deprecated bare `--export`/`--shell`), get,
//! export in every format, keys, set, unset.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::dispatch::{done, same, with_urls, Case, Outcome};
use super::{to_value, Invocation};
use crate::config::ConfigVars;
use crate::parse::config::{
    is_config_key, parse_config_export, parse_config_get, parse_config_set, parse_config_show,
    parse_config_unset, ValueQuoting,
};
use crate::parse::lines_of;

/// The `config` commands; `None` for others (`config:report` is a report).
pub(super) fn case(c: &Case<'_>) -> Option<Outcome> {
    Some(match c.inv.command.as_str() {
        "config" | "config:show" => show(c),
        "config:get" => get(c),
        "config:export" => export(c),
        "config:keys" => keys(c),
        "config:set" => set(c),
        "config:unset" => unset(c),
        _ => return None,
    })
}

fn show(c: &Case<'_>) -> Outcome {
    if !c.ok() {
        return same(Value::Null);
    }
    let text = c.text();
    // Bare `config --export` / `--shell` (deprecated) print exports.
    if c.inv.has("--export") || c.inv.has("--shell") {
        let format = if c.inv.has("--shell") {
            "shell"
        } else {
            "exports"
        };
        let vars = parse_config_export(text, Some(format))?;
        return done(json!({"format": format, "vars": vars}), to_value(&vars));
    }
    let vars = parse_config_show(text);
    let app = if c.inv.has("--global") {
        None
    } else {
        c.pos0(&[])
    };
    done(
        json!({"app": app, "vars_as_displayed": vars}),
        to_value(&ConfigVars::from(vars.clone())),
    )
}

fn get(c: &Case<'_>) -> Outcome {
    let exit = c.exit;
    if exit != 0 && exit != 1 && exit != 123 {
        return same(Value::Null);
    }
    let text = c.text();
    if exit != 0 && (!text.trim().is_empty() || !c.stderr.is_empty()) {
        return same(Value::Null);
    }
    // The result keeps the bytes as printed (`--quoted` included);
    // the typed value is the unquoted one.
    let raw = parse_config_get(text, exit, ValueQuoting::Plain);
    let v = parse_config_get(
        text,
        exit,
        if c.inv.has("--quoted") {
            ValueQuoting::Quoted
        } else {
            ValueQuoting::Plain
        },
    );
    done(json!({ "value": raw }), json!(v))
}

fn export(c: &Case<'_>) -> Outcome {
    if !c.ok() {
        return same(Value::Null);
    }
    let format = c
        .inv
        .value_of(&["--format"])
        .unwrap_or("exports")
        .to_string();
    let vars = parse_config_export(c.text(), Some(&format))?;
    let key = match format.as_str() {
        "envfile" => "vars_as_exported",
        "pretty" => "vars_as_displayed",
        "docker-args-keys" | "pack-keys" => "keys",
        _ => "vars",
    };
    let data = if key == "keys" {
        json!(vars.keys().collect::<Vec<_>>())
    } else {
        json!(vars)
    };
    let mut r = json!({ "format": format });
    r[key] = data;
    done(r, to_value(&ConfigVars::from(vars)))
}

fn keys(c: &Case<'_>) -> Outcome {
    if !c.ok() {
        return same(Value::Null);
    }
    let keys: Vec<String> = lines_of(c.text())
        .into_iter()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    same(json!({ "keys": keys }))
}

fn set(c: &Case<'_>) -> Outcome {
    if !c.ok() {
        return same(Value::Null);
    }
    let mut r = parse_config_set(c.text());
    if r.set.is_empty() {
        r.set = set_from_argv(c.inv);
    }
    let mut v = json!({"set": r.set, "restarted": r.restarted});
    if !r.urls.is_empty() {
        v["urls"] = json!(r.urls);
    }
    done(v, to_value(&r))
}

fn unset(c: &Case<'_>) -> Outcome {
    if !c.ok() {
        return same(Value::Null);
    }
    let text = c.text();
    let r = parse_config_unset(text);
    let mut v = json!({"unset": r.unset, "skipped": r.skipped, "restarted": r.restarted});
    with_urls(&mut v, text);
    done(v, to_value(&r))
}

/// `K=V` arguments of `config:set` (decoded when `--encoded`), for `--quiet`
/// output that has no confirmation rows.
fn set_from_argv(inv: &Invocation) -> BTreeMap<String, String> {
    use base64::Engine;
    let encoded = inv.has("--encoded");
    inv.positionals(&[])
        .into_iter()
        .filter_map(|p| p.split_once('='))
        .filter(|(k, _)| is_config_key(k))
        .map(|(k, v)| {
            let v = if encoded {
                base64::engine::general_purpose::STANDARD
                    .decode(v)
                    .ok()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_else(|| v.to_string())
            } else {
                v.to_string()
            };
            (k.to_string(), v.trim().to_string())
        })
        .collect()
}
