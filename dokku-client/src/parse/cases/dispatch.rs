//! From a command line to the parser that fits, and the `result` shapes of
//! the fixtures' `expected.json`, generalised to every command and version of
//! each family.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::{empty_object, to_value, Invocation};
use crate::apps::AppReport;
use crate::config::ConfigVars;
use crate::domains::DomainsReport;
use crate::git::GitReport;
use crate::parse::config::{
    parse_config_export, parse_config_get, parse_config_set, parse_config_show, parse_config_unset,
};
use crate::parse::lines::{
    parse_apps_list, parse_deployed_urls, parse_logs, parse_ls, parse_plugin_list, parse_ps_scale,
    parse_remote_show, parse_ssh_keys_list, parse_steps, parse_storage_list, parse_version,
    warn_messages,
};
use crate::parse::postgres::{
    parse_backup_schedule, parse_exposed_ports, parse_links, parse_postgres_info,
    parse_postgres_list,
};
use crate::parse::report::{
    json_snake_fields, parse_report_json, parse_report_text, ReportBlock, ReportJson,
};
use crate::parse::{failure_message, lines_of, ParseError};
use crate::postgres::PostgresInfo;
use crate::ps::{process_status, PsReport};

/// A parsed output: the fixture-shaped result and the typed value.
pub(crate) struct Dispatched {
    pub result: Value,
    pub typed: Value,
}

fn done(result: Value, typed: Value) -> Result<Dispatched, ParseError> {
    Ok(Dispatched { result, typed })
}

fn same(result: Value) -> Result<Dispatched, ParseError> {
    let typed = result.clone();
    done(result, typed)
}

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

/// Flags that are not report info flags.
fn is_info_flag(a: &str) -> bool {
    a.starts_with("--")
        && !matches!(
            a,
            "--format" | "--global" | "--quiet" | "--force" | "--trace" | "--"
        )
}

pub(crate) fn dispatch(
    inv: &Invocation,
    stdout: &[u8],
    stderr: &[u8],
    exit: i32,
) -> Result<Dispatched, ParseError> {
    // Binary output is never decoded or split.
    if inv.command == "postgres:export" {
        if exit != 0 {
            return same(Value::Null);
        }
        let magic = stdout.starts_with(b"PGDMP").then_some("PGDMP");
        return same(json!({"binary": true, "magic": magic, "byte_length": stdout.len()}));
    }
    let text_owned = String::from_utf8_lossy(stdout);
    let text: &str = &text_owned;
    let ok = exit == 0;
    let pos0 = |flags: &[&str]| inv.positionals(flags).first().map(|s| s.to_string());
    let app = || pos0(&[]).or_else(|| inv.app_flag.clone());
    let failed_message = || failure_message(text, stderr);

    match inv.command.as_str() {
        "version" => {
            if !ok {
                return same(Value::Null);
            }
            let v = parse_version(text)?;
            done(json!({"version": v.to_string()}), to_value(&v))
        }
        "apps" | "apps:list" => {
            if !ok {
                return same(Value::Null);
            }
            let apps = parse_apps_list(text)?;
            same(json!({ "apps": apps }))
        }
        "apps:exists" => match exit {
            0 => same(json!({"exists": true})),
            1 | 20 => same(json!({"exists": false})),
            _ => same(Value::Null),
        },
        "apps:create" => {
            if !ok {
                return same(json!({"created": false}));
            }
            let mut r = json!({"app": app(), "created": true});
            let steps = parse_steps(text);
            if !steps.is_empty() {
                r["steps"] = json!(steps);
            }
            same(r)
        }
        "apps:destroy" | "postgres:destroy" => {
            let is_pg = inv.command.starts_with("postgres");
            if ok {
                let key = if is_pg { "service" } else { "app" };
                let mut r = Map::new();
                r.insert(key.into(), json!(app()));
                r.insert("destroyed".into(), json!(true));
                return same(Value::Object(r));
            }
            let all = format!("{}\n{}", text, String::from_utf8_lossy(stderr));
            let prompted =
                all.contains("To proceed, type") || all.contains("Potentially Destructive Action");
            let mut r = json!({"destroyed": false});
            if prompted {
                r["confirmation_required"] = json!(true);
            }
            same(r)
        }
        "apps:lock" => same(if ok {
            json!({"locked": true})
        } else {
            Value::Null
        }),
        "apps:unlock" => same(if ok {
            json!({"locked": false})
        } else {
            Value::Null
        }),
        "apps:locked" => match exit {
            0 => same(json!({"locked": true})),
            1 => same(json!({"locked": false})),
            _ => same(Value::Null),
        },
        "apps:report" => report(inv, text, exit, "app", &failed_message),
        "ps:report" => report(inv, text, exit, "ps", &failed_message),
        "git:report" => report(inv, text, exit, "git", &failed_message),
        "domains:report" => report(inv, text, exit, "domains", &failed_message),
        c if c.ends_with(":report") && !c.starts_with("postgres") => {
            let prefix = c.trim_end_matches(":report").to_string();
            report(inv, text, exit, &prefix, &failed_message)
        }
        "ps:scale" => {
            if !ok {
                return same(Value::Null);
            }
            let pos = inv.positionals(&["--format"]);
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
                return same(json!({"app": app(), "formation": f}));
            }
            let (header_app, formation) = parse_ps_scale(text)?;
            done(
                json!({"app": header_app, "formation": formation}),
                to_value(&formation),
            )
        }
        "ps:stop" | "ps:start" | "ps:restart" | "ps:rebuild" | "ps:restartall" | "ps:restore" => {
            if !ok {
                return same(Value::Null);
            }
            let all = format!("{}\n{}", text, String::from_utf8_lossy(stderr));
            let mut r = json!({"app": app()});
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
            with_urls(&mut r, text);
            same(r)
        }
        "config" | "config:show" => {
            if !ok {
                return same(Value::Null);
            }
            // Bare `config --export` / `--shell` (deprecated) print exports.
            if inv.has("--export") || inv.has("--shell") {
                let format = if inv.has("--shell") {
                    "shell"
                } else {
                    "exports"
                };
                let vars = parse_config_export(text, Some(format))?;
                return done(json!({"format": format, "vars": vars}), to_value(&vars));
            }
            let vars = parse_config_show(text);
            let app = if inv.has("--global") { None } else { pos0(&[]) };
            done(
                json!({"app": app, "vars_as_displayed": vars}),
                to_value(&ConfigVars::from(vars.clone())),
            )
        }
        "config:get" => {
            if exit != 0 && exit != 1 && exit != 123 {
                return same(Value::Null);
            }
            if exit != 0 && (!text.trim().is_empty() || !stderr.is_empty()) {
                return same(Value::Null);
            }
            // The result keeps the bytes as printed (`--quoted` included);
            // the typed value is the unquoted one.
            let raw = parse_config_get(text, exit, false);
            let v = parse_config_get(text, exit, inv.has("--quoted"));
            done(json!({ "value": raw }), json!(v))
        }
        "config:export" => {
            if !ok {
                return same(Value::Null);
            }
            let format = inv.value_of(&["--format"]).unwrap_or("exports").to_string();
            let vars = parse_config_export(text, Some(&format))?;
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
        "config:keys" => {
            if !ok {
                return same(Value::Null);
            }
            let keys: Vec<String> = lines_of(text)
                .into_iter()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            same(json!({ "keys": keys }))
        }
        "config:set" => {
            if !ok {
                return same(Value::Null);
            }
            let mut r = parse_config_set(text);
            if r.set.is_empty() {
                r.set = set_from_argv(inv);
            }
            let mut v = json!({"set": r.set, "restarted": r.restarted});
            if !r.urls.is_empty() {
                v["urls"] = json!(r.urls);
            }
            done(v, to_value(&r))
        }
        "config:unset" => {
            if !ok {
                return same(Value::Null);
            }
            let r = parse_config_unset(text);
            let mut v = json!({"unset": r.unset, "skipped": r.skipped, "restarted": r.restarted});
            with_urls(&mut v, text);
            done(v, to_value(&r))
        }
        "logs" => {
            if !ok {
                return same(Value::Null);
            }
            let lines = parse_logs(text);
            done(json!({ "lines": lines }), to_value(&lines))
        }
        "run" => {
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
        "run:detached" => {
            if !ok {
                return same(Value::Null);
            }
            let name = lines_of(text)
                .into_iter()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim()
                .to_string();
            same(json!({ "container_name": name }))
        }
        "ls" => {
            if !ok {
                return same(Value::Null);
            }
            same(json!({ "containers": parse_ls(text) }))
        }
        "remote:show" => {
            if !ok {
                return same(Value::Null);
            }
            same(Value::Object(parse_remote_show(text)))
        }
        "domains" => {
            // 0.4.x: `=====> <app> Domain Names` then one domain per line.
            if !ok {
                return same(Value::Null);
            }
            let domains: Vec<String> = lines_of(text)
                .into_iter()
                .filter(|l| !l.starts_with("=====>") && !l.trim().is_empty())
                .map(|l| l.trim().to_string())
                .collect();
            same(json!({ "domains": domains }))
        }
        "plugin" | "plugin:list" => {
            if !ok {
                return same(Value::Null);
            }
            let p = parse_plugin_list(text);
            done(json!({ "plugins": p }), to_value(&p))
        }
        "ssh-keys:list" => {
            if !ok {
                return same(Value::Null);
            }
            let k = parse_ssh_keys_list(text);
            done(json!({ "keys": k }), to_value(&k))
        }
        "storage:list" => {
            if !ok {
                return same(Value::Null);
            }
            let m = parse_storage_list(text);
            done(json!({ "mounts": m }), to_value(&m))
        }
        "postgres:info" => postgres_info(inv, text, exit, false),
        "postgres:create" => {
            if !ok {
                return same(Value::Null);
            }
            let _ = PG_CREATE_FLAGS;
            postgres_info(inv, text, exit, true)
        }
        "postgres:list" => {
            if !ok {
                return same(Value::Null);
            }
            let (entries, table) = parse_postgres_list(text);
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
        "postgres:exists" => match exit {
            0 => same(json!({"exists": true})),
            1 => same(json!({"exists": false})),
            _ => same(Value::Null),
        },
        "postgres:linked" => match exit {
            0 => same(json!({"linked": true})),
            1 => same(json!({"linked": false})),
            _ => same(Value::Null),
        },
        "postgres:links" => {
            if !ok {
                return same(Value::Null);
            }
            let links: Vec<String> = lines_of(text)
                .into_iter()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            same(json!({ "links": links }))
        }
        "postgres:link" => {
            if !ok {
                return same(Value::Null);
            }
            let pos = inv.positionals(&["-a", "--alias", "-q", "--querystring"]);
            let service = pos.first().map(|s| s.to_string());
            let app = pos
                .get(1)
                .map(|s| s.to_string())
                .or_else(|| inv.app_flag.clone());
            let r = parse_config_set(text);
            let (var, url) = match r.set.iter().next() {
                Some((k, v)) => (Some(k.clone()), Some(v.clone())),
                None => (None, None),
            };
            let mut v = json!({"service": service, "app": app, "config_var": var, "url": url, "restarted": r.restarted});
            with_urls(&mut v, text);
            same(v)
        }
        "postgres:unlink" => {
            if !ok {
                return same(Value::Null);
            }
            let pos = inv.positionals(&[]);
            let r = parse_config_unset(text);
            let mut v = json!({
                "service": pos.first(),
                "app": pos.get(1).map(|s| s.to_string()).or_else(|| inv.app_flag.clone()),
                "unset": r.unset,
                "restarted": r.restarted,
            });
            with_urls(&mut v, text);
            same(v)
        }
        "postgres:connect" => {
            if !ok {
                return same(Value::Null);
            }
            same(json!({ "psql_output": text }))
        }
        "postgres:import" => same(if ok {
            json!({"service": pos0(&[])})
        } else {
            Value::Null
        }),
        "postgres:backup-schedule-cat" => {
            if !ok {
                return same(Value::Null);
            }
            match parse_backup_schedule(text) {
                Some(s) => same(to_value(&s)),
                None => Err(ParseError::new(
                    "expected a cron line `<m h dom mon dow> <user> <command>`",
                    text,
                )),
            }
        }
        _ => {
            if !ok {
                return same(Value::Null);
            }
            let mut r = empty_object();
            let steps = parse_steps(text);
            if !steps.is_empty() {
                r["steps"] = json!(steps);
            }
            same(r)
        }
    }
}

/// Adds the `Application deployed:` URLs, when a deploy printed them.
fn with_urls(result: &mut Value, text: &str) {
    let urls = parse_deployed_urls(text);
    if !urls.is_empty() {
        result["urls"] = json!(urls);
    }
}

/// `K=V` arguments of `config:set` (decoded when `--encoded`), for `--quiet`
/// output that has no confirmation rows.
fn set_from_argv(inv: &Invocation) -> BTreeMap<String, String> {
    use base64::Engine;
    let encoded = inv.has("--encoded");
    inv.positionals(&[])
        .into_iter()
        .filter_map(|p| p.split_once('='))
        .filter(|(k, _)| crate::parse::config::is_config_key(k))
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

fn report(
    inv: &Invocation,
    text: &str,
    exit: i32,
    prefix: &str,
    failed_message: &dyn Fn() -> Option<String>,
) -> Result<Dispatched, ParseError> {
    let ok = exit == 0;
    let default_type = if prefix == "apps" { "app" } else { prefix };
    if inv.args.iter().any(|a| is_info_flag(a)) {
        if ok {
            let v = text.strip_suffix('\n').unwrap_or(text);
            let v = v.strip_suffix('\r').unwrap_or(v);
            return same(json!({ "value": v }));
        }
        // Bash reports (before 0.38) failed on an empty value.
        if failed_message().as_deref() == Some("not deployed") {
            return same(json!({ "value": "" }));
        }
        return same(Value::Null);
    }
    if !ok {
        return same(Value::Null);
    }
    if inv.value_of(&["--format"]) == Some("json") {
        let many = inv.positionals(&["--format"]).is_empty() && !inv.has("--global");
        let parsed = parse_report_json(text, many)?;
        return match parsed {
            ReportJson::Single(m) => {
                let typed = typed_report(default_type, None, json_snake_fields(&m, default_type));
                done(json!({ "json": m }), typed)
            }
            ReportJson::Lines(v) => {
                let typed: Vec<Value> = v
                    .iter()
                    .map(|m| typed_report(default_type, None, json_snake_fields(m, default_type)))
                    .collect();
                done(json!({ "json_lines": v }), Value::Array(typed))
            }
        };
    }
    let blocks = parse_report_text(text, Some(default_type));
    let mut r = json!({ "reports": blocks });
    if default_type == "ps" {
        let containers: Vec<Value> = blocks
            .iter()
            .flat_map(|b| b.fields.iter())
            .filter_map(|(k, v)| process_status(k, v))
            .map(|s| json!({"process": s.process(), "status": s.status, "cid": s.container_id}))
            .collect();
        r["containers"] = json!(containers);
    }
    if default_type == "domains" {
        if let Some(v) = blocks.iter().find_map(|b| b.get("Domains app vhosts")) {
            r["app_vhosts"] = json!(v.split_whitespace().collect::<Vec<_>>());
        }
    }
    let typed: Vec<Value> = blocks
        .iter()
        .map(|b: &ReportBlock| {
            typed_report(
                default_type,
                b.subject.clone(),
                b.snake_fields(default_type),
            )
        })
        .collect();
    let typed = if typed.len() == 1 {
        typed.into_iter().next().unwrap_or(Value::Null)
    } else {
        Value::Array(typed)
    };
    done(r, typed)
}

fn typed_report(kind: &str, subject: Option<String>, fields: BTreeMap<String, String>) -> Value {
    match kind {
        "app" => to_value(&AppReport::from_fields(subject, fields)),
        "ps" => to_value(&PsReport::from_fields(subject, fields)),
        "git" => to_value(&GitReport::from_fields(subject, fields)),
        "domains" => to_value(&DomainsReport::from_fields(subject, fields)),
        _ => {
            let mut m = Map::new();
            m.insert("subject".into(), json!(subject));
            for (k, v) in fields {
                m.insert(k, json!(v));
            }
            Value::Object(m)
        }
    }
}

fn postgres_info(
    inv: &Invocation,
    text: &str,
    exit: i32,
    created: bool,
) -> Result<Dispatched, ParseError> {
    if exit != 0 {
        return same(Value::Null);
    }
    let flags: &[&str] = if created { PG_CREATE_FLAGS } else { &[] };
    let service = inv.positionals(flags).first().map(|s| s.to_string());
    if !created {
        if let Some(flag) = inv.args.iter().find(|a| is_info_flag(a)) {
            let v = text.strip_suffix('\n').unwrap_or(text);
            let v = v.strip_suffix('\r').unwrap_or(v);
            let mut r = json!({ "value": v });
            match flag.as_str() {
                "--links" => r["links"] = json!(parse_links(v)),
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
            "links" => r["links"] = json!(parse_links(value)),
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
