//! `postgres` (dokku-postgres): export (binary, never decoded), create,
//! info (whole or one flag), destroy, list, exists, linked, links, link,
//! unlink, connect, import, backup-schedule-cat.

use serde_json::{json, Map, Value};

use super::dispatch::{destroyed, done, info_value, is_info_flag, same, with_urls, yes_no};
use super::dispatch::{Case, Outcome};
use super::to_value;
use crate::parse::config::{parse_config_set, parse_config_unset};
use crate::parse::postgres::{
    parse_backup_schedule, parse_exposed_ports, parse_info_links, parse_postgres_info,
    parse_postgres_list,
};
use crate::parse::{lines_of, ParseError};
use crate::postgres::PostgresInfo;

/// Value flags of `postgres:create`.
const PG_CREATE_FLAGS: &[&str] = &[
    "-i",
    "--image",
    "-I",
    "--image-version",
    "-p",
    "--password",
    "-r",
    "--root-password",
    "-m",
    "--memory",
    "-s",
    "--shm-size",
    "-c",
    "--config-options",
    "-C",
    "--custom-env",
    "-N",
    "--initial-network",
    "-P",
    "--post-create-network",
    "-S",
    "--post-start-network",
];

/// The `postgres` commands; `None` for others (they print steps).
pub(super) fn case(c: &Case<'_>) -> Option<Outcome> {
    Some(match c.inv.command.as_str() {
        "postgres:export" => export(c),
        "postgres:destroy" => destroyed(c, "service"),
        "postgres:info" => info(c, false),
        "postgres:create" => {
            if !c.ok() {
                return Some(same(Value::Null));
            }
            info(c, true)
        }
        "postgres:list" => list(c),
        "postgres:exists" => yes_no(c, "exists", &[1]),
        "postgres:linked" => yes_no(c, "linked", &[1]),
        "postgres:links" => links(c),
        "postgres:link" => link(c),
        "postgres:unlink" => unlink(c),
        "postgres:connect" => {
            if !c.ok() {
                return Some(same(Value::Null));
            }
            same(json!({ "psql_output": c.text() }))
        }
        "postgres:import" => same(if c.ok() {
            json!({"service": c.pos0(&[])})
        } else {
            Value::Null
        }),
        "postgres:backup-schedule-cat" => backup_schedule(c),
        _ => return None,
    })
}

/// Binary output: never decoded or split.
fn export(c: &Case<'_>) -> Outcome {
    if !c.ok() {
        return same(Value::Null);
    }
    let magic = c.stdout.starts_with(b"PGDMP").then_some("PGDMP");
    same(json!({"binary": true, "magic": magic, "byte_length": c.stdout.len()}))
}

/// `postgres:info` (or `postgres:create`, which prints the info of the new
/// service).
fn info(c: &Case<'_>, created: bool) -> Outcome {
    if !c.ok() {
        return same(Value::Null);
    }
    let text = c.text();
    let flags: &[&str] = if created { PG_CREATE_FLAGS } else { &[] };
    let service = c.pos0(flags);
    if !created {
        if let Some(flag) = c.inv.args.iter().find(|a| is_info_flag(a)) {
            let v = info_value(text);
            let mut r = json!({ "value": v });
            match flag.as_str() {
                "--links" => r["links"] = json!(parse_info_links(v)),
                "--exposed-ports" => r["exposed_ports"] = json!(parse_exposed_ports(v)),
                _ => {}
            }
            return same(r);
        }
    }
    let fields = parse_postgres_info(text);
    let mut fm = Map::new();
    for (k, v) in &fields {
        fm.insert(k.clone(), json!(v));
    }
    let mut r = json!({ "service": service, "fields": fm });
    for (label, value) in &fields {
        let key = label.to_ascii_lowercase().replace(' ', "_");
        match key.as_str() {
            "dsn" | "status" | "id" | "internal_ip" | "version" | "config_dir" | "data_dir"
            | "service_root" => r[key.as_str()] = json!(value),
            "links" => r["links"] = json!(parse_info_links(value)),
            "exposed_ports" => r["exposed_ports"] = json!(parse_exposed_ports(value)),
            _ => {}
        }
    }
    if created {
        r["created"] = json!(true);
    }
    let info = PostgresInfo::from_fields(service, &fields);
    done(r, to_value(&info))
}

fn list(c: &Case<'_>) -> Outcome {
    if !c.ok() {
        return same(Value::Null);
    }
    let (entries, table) = parse_postgres_list(c.text());
    let services: Vec<Value> = entries
        .iter()
        .map(|e| {
            if table {
                let mut m = Map::new();
                m.insert("name".into(), json!(e.name));
                for (k, v) in &e.columns {
                    m.insert(k.clone(), json!(v));
                }
                Value::Object(m)
            } else {
                json!(e.name)
            }
        })
        .collect();
    done(json!({ "services": services }), to_value(&entries))
}

fn links(c: &Case<'_>) -> Outcome {
    if !c.ok() {
        return same(Value::Null);
    }
    let links: Vec<String> = lines_of(c.text())
        .into_iter()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    same(json!({ "links": links }))
}

fn link(c: &Case<'_>) -> Outcome {
    if !c.ok() {
        return same(Value::Null);
    }
    let text = c.text();
    let pos = c.inv.positionals(&["-a", "--alias", "-q", "--querystring"]);
    let service = pos.first().map(|s| s.to_string());
    let app = pos
        .get(1)
        .map(|s| s.to_string())
        .or_else(|| c.inv.app_flag.clone());
    let r = parse_config_set(text);
    let (var, url) = match r.set.iter().next() {
        Some((k, v)) => (Some(k.clone()), Some(v.clone())),
        None => (None, None),
    };
    let mut v = json!({"service": service, "app": app, "config_var": var, "url": url, "restarted": r.restarted});
    with_urls(&mut v, text);
    same(v)
}

fn unlink(c: &Case<'_>) -> Outcome {
    if !c.ok() {
        return same(Value::Null);
    }
    let text = c.text();
    let pos = c.inv.positionals(&[]);
    let r = parse_config_unset(text);
    let mut v = json!({
        "service": pos.first(),
        "app": pos.get(1).map(|s| s.to_string()).or_else(|| c.inv.app_flag.clone()),
        "unset": r.unset,
        "restarted": r.restarted,
    });
    with_urls(&mut v, text);
    same(v)
}

fn backup_schedule(c: &Case<'_>) -> Outcome {
    if !c.ok() {
        return same(Value::Null);
    }
    let text = c.text();
    match parse_backup_schedule(text) {
        Some(s) => same(to_value(&s)),
        None => Err(ParseError::new(
            "expected a cron line `<m h dom mon dow> <user> <command>`",
            text,
        )),
    }
}
