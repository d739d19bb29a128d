//! The logs plugin: `logs <app>` (the app's process output, as
//! scheduler-docker-local shows it) and its properties (`plugins/logs/*.go`
//! of 0.38): `logs:set`
//! with its validation (`set.go`), `logs:report` with computed values and
//! sink redaction (`report.go`), and the sink DSN parsing of
//! `SinkValueToConfig` as far as validation and redaction need it.
//!
//! There is no vector container: `logs:set` of a vector property reports
//! the config file Dokku would write and writes none; no Docker network
//! exists, so every `vector-networks` name is refused.

use base64::Engine;

use std::io::{Read, Seek, SeekFrom};
use std::time::Duration;

use super::{faults, go_parse, properties, reports, Code, Ctx, GoFlag};
use crate::contract::Profile;

/// Per-app properties and their defaults (`DefaultProperties`).
const DEFAULTS: [&str; 4] = [
    "app-label-alias",
    "max-size",
    "vector-cron-sink",
    "vector-sink",
];
/// Properties settable with `--global` (`GlobalProperties`).
const GLOBALS: [&str; 6] = [
    "app-label-alias",
    "max-size",
    "vector-cron-sink",
    "vector-image",
    "vector-networks",
    "vector-sink",
];
const APP_LABEL_ALIAS: &str = "com.dokku.app-name";
const MAX_SIZE: &str = "10m";
/// The image of the plugin's Dockerfile (`FROM timberio/vector:0.57.0-debian`).
const VECTOR_IMAGE: &str = "timberio/vector:0.57.0-debian";
const VECTOR_JSON: &str = "/var/lib/dokku/data/logs/vector.json";

/// `validateSetValue`.
fn validate(app: &str, key: &str, value: &str) -> Result<(), String> {
    match key {
        "app-label-alias" if !value.is_empty() => {
            let ok = value.starts_with(|c: char| c.is_ascii_alphanumeric())
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
            if !ok {
                return Err("Invalid app-label-alias value, must start with a letter or number and contain only letters, numbers, and any of [_, ., -]".into());
            }
        }
        "max-size" if !value.is_empty() && value != "unlimited" => {
            if !value.ends_with(['k', 'm', 'g']) {
                return Err(
                    "Invalid max-size unit measure, value must end in any of [k, m, g]".into(),
                );
            }
            if value.len() < 2 {
                return Err("Invalid max-size value, must be a number followed by a unit of measure [k, m, g]".into());
            }
            let number = &value[..value.len() - 1];
            if super::render::go_atoi(number).is_none() {
                return Err(format!("Invalid max-size value, unable to convert number to int: strconv.Atoi: parsing \"{number}\": invalid syntax"));
            }
        }
        "vector-image" if app != "--global" => {
            return Err("vector-image may only be set globally with --global".into())
        }
        "vector-networks" => {
            if app != "--global" {
                return Err("vector-networks may only be set globally with --global".into());
            }
            if !value.is_empty() {
                // the first name already fails: no Docker network exists here
                let name = value.split(',').next().unwrap_or_default().trim();
                if name.is_empty() {
                    return Err(
                        "Invalid vector-networks value, empty entry in comma-separated list".into(),
                    );
                }
                if name == "bridge" {
                    return Err("Invalid vector-networks value, \"bridge\" is not a valid entry for vector-networks".into());
                }
                return Err(format!("Network \"{name}\" does not exist"));
            }
        }
        "vector-sink" | "vector-cron-sink" if !value.is_empty() => {
            sink_type(value)?;
        }
        _ => {}
    }
    Ok(())
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3).unwrap_or_default();
                let v = u8::from_str_radix(hex, 16)
                    .map_err(|_| format!("invalid URL escape \"%{hex}\""))?;
                out.push(v);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// The sink type of a DSN (`SinkValueToConfig`'s `type`): the URL scheme
/// with `-` as `_`; errors for a `sinks` option and undecodable
/// `base64enc:` values.
pub(crate) fn sink_type(value: &str) -> Result<String, String> {
    let normalised = match value.split_once("://") {
        Some((scheme, rest)) => format!("{}://{rest}", scheme.replace('_', "-")),
        None => value.to_owned(),
    };
    let scheme = match normalised.find(':') {
        Some(i)
            if normalised[..i].starts_with(|c: char| c.is_ascii_alphabetic())
                && normalised[..i]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) =>
        {
            normalised[..i].to_ascii_lowercase()
        }
        Some(0) => return Err(format!("parse \"{normalised}\": missing protocol scheme")),
        _ => String::new(),
    };
    let query = normalised
        .split_once('?')
        .map(|(_, q)| q.split('#').next().unwrap_or_default())
        .unwrap_or_default();
    for pair in query
        .trim_start_matches('&')
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent_decode(k)?;
        let v = percent_decode(v)?;
        if k == "sinks" && !v.is_empty() {
            return Err("Invalid option sinks".into());
        }
        if let Some(enc) = v.strip_prefix("base64enc:") {
            if let Err(e) = base64::engine::general_purpose::STANDARD.decode(enc) {
                return Err(format!("Error decoding base64: {e}"));
            }
        }
    }
    Ok(scheme.replace('-', "_"))
}

/// `logs:set [--global] <app> <property> [<value>]`.
pub(crate) fn set(ctx: &mut Ctx, args: &[String]) -> Code {
    let spec = [GoFlag {
        name: "global",
        value: None,
        usage: "--global: set a global property",
    }];
    let a = match go_parse(ctx, "logs:set", args, &spec) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let arg = |i: usize| a.positional.get(i).cloned().unwrap_or_default();
    let (app, property, value) = if a.get("global") == Some("true") {
        ("--global".to_owned(), arg(0), arg(1))
    } else {
        (arg(0), arg(1), arg(2))
    };
    if let Err(e) = validate(&app, &property, &value) {
        return ctx.fail(&e);
    }
    let code =
        properties::command_property_set(ctx, "logs", &app, &property, &value, &DEFAULTS, &GLOBALS);
    if code != 0 {
        return code;
    }
    if matches!(
        property.as_str(),
        "app-label-alias" | "vector-cron-sink" | "vector-sink"
    ) && !ctx.quiet
    {
        ctx.verbose(&format!("Writing updated vector config to {VECTOR_JSON}"));
    }
    0
}

/// `logs:report [<app>|--global] [--format stdout|json] [<flag>]`.
pub(crate) fn report(ctx: &mut Ctx, args: &[String]) -> Code {
    let mut format = "stdout".to_owned();
    let mut info = Vec::new();
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--format" {
            format = args.get(i + 1).cloned().unwrap_or_default();
            i += 2;
            continue;
        }
        if args[i].starts_with("--") && args[i] != "--global" {
            info.push(args[i].clone());
        }
        i += 1;
    }
    if info.len() > 1 {
        return ctx.fail("logs:report command allows only a single flag");
    }
    let flag = info.pop().unwrap_or_default();
    reports::go_report_with(ctx, args, "logs", (Some("logs"), true), &mut |ctx, app| {
        rows(ctx, app.map(|(n, _)| n), &format, &flag)
    })
}

/// `redactedSink`: the raw value for JSON or the exact flag asked for,
/// else `<type>://redacted`.
fn redacted(value: String, format: &str, asked: &str, exact: &str) -> String {
    if value.is_empty() || format != "stdout" || asked == exact {
        return value;
    }
    match sink_type(&value) {
        Ok(t) => format!("{t}://redacted"),
        Err(_) => String::new(),
    }
}

/// The report rows of an app (`None`: `--global`).
fn rows(ctx: &Ctx, app: Option<&str>, format: &str, asked: &str) -> Vec<(String, String)> {
    let g = |k: &str| properties::get(ctx, "logs", "--global", k);
    let own = |k: &str| {
        app.map(|a| properties::get(ctx, "logs", a, k))
            .unwrap_or_default()
    };
    let or = |v: String, d: String| if v.is_empty() { d } else { v };
    let sink = |k: &str, flag: &str| redacted(own(k), format, asked, flag);
    let gsink = |k: &str, flag: &str| redacted(g(k), format, asked, flag);
    let mut rows = vec![
        (
            "--logs-computed-app-label-alias",
            or(
                or(own("app-label-alias"), g("app-label-alias")),
                APP_LABEL_ALIAS.into(),
            ),
        ),
        (
            "--logs-computed-max-size",
            or(or(own("max-size"), g("max-size")), MAX_SIZE.into()),
        ),
        (
            "--logs-computed-vector-cron-sink",
            or(
                sink("vector-cron-sink", "--logs-vector-cron-sink"),
                gsink("vector-cron-sink", "--logs-global-vector-cron-sink"),
            ),
        ),
        (
            "--logs-computed-vector-image",
            properties::get_default(ctx, "logs", "--global", "vector-image", VECTOR_IMAGE),
        ),
        ("--logs-computed-vector-networks", g("vector-networks")),
        (
            "--logs-computed-vector-sink",
            or(
                sink("vector-sink", "--logs-vector-sink"),
                gsink("vector-sink", "--logs-global-vector-sink"),
            ),
        ),
        ("--logs-global-app-label-alias", g("app-label-alias")),
        ("--logs-global-max-size", g("max-size")),
        (
            "--logs-global-vector-cron-sink",
            gsink("vector-cron-sink", "--logs-global-vector-cron-sink"),
        ),
        ("--logs-global-vector-image", g("vector-image")),
        ("--logs-global-vector-networks", g("vector-networks")),
        (
            "--logs-global-vector-sink",
            gsink("vector-sink", "--logs-global-vector-sink"),
        ),
    ];
    if app.is_some() {
        rows.push(("--logs-app-label-alias", own("app-label-alias")));
        rows.push(("--logs-max-size", own("max-size")));
        rows.push((
            "--logs-vector-cron-sink",
            sink("vector-cron-sink", "--logs-vector-cron-sink"),
        ));
        rows.push((
            "--logs-vector-sink",
            sink("vector-sink", "--logs-vector-sink"),
        ));
    }
    rows.into_iter().map(|(f, v)| (f.to_owned(), v)).collect()
}

// `logs <app>`: the app's process output.

const COLOURS: [u8; 5] = [36, 33, 32, 35, 31];

/// pflag usage of the 0.38.27 `logs` command (flags with shorthands).
const LOGS_USAGE: &str = "Usage of logs:
  -h, --help        print help for the command
  -n, --num int     the number of lines to display (default 100)
  -p, --ps string   only display logs from the given process
  -q, --quiet       display raw logs without colors, time and names
  -t, --tail        continually stream logs
";

/// `logs <app> [-n|--num N] [-t|--tail] [-p|--ps proc] [-q|--quiet]`
pub(crate) fn logs(ctx: &mut Ctx, args: &[String]) -> Code {
    let mut num: usize = 100;
    let mut tail = false;
    let mut quiet = false;
    let mut ps: Option<String> = None;
    let mut app: Option<String> = None;
    let go = ctx.profile == Profile::V0_38;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-n" | "--num" => {
                let v = args.get(i + 1).cloned().unwrap_or_default();
                match v.parse() {
                    Ok(n) => num = n,
                    Err(_) if go => {
                        ctx.io.err(&format!(
                            "{LOGS_USAGE}invalid argument \"{v}\" for \"-n, --num\" flag: strconv.ParseInt: parsing \"{v}\": invalid syntax\n"
                        ));
                        return 2;
                    }
                    Err(_) => {}
                }
                i += 1;
            }
            "-t" | "--tail" => tail = true,
            "-q" | "--quiet" => quiet = true,
            "-p" | "--ps" => {
                ps = args.get(i + 1).cloned();
                i += 1;
            }
            a if go && a.starts_with("--") && a.len() > 2 => {
                ctx.io.err(&format!("{LOGS_USAGE}unknown flag: {a}\n"));
                return 2;
            }
            a if go && a.starts_with('-') && a.len() > 1 && !a.starts_with("--") => {
                let c = a.chars().nth(1).unwrap_or('-');
                ctx.io.err(&format!(
                    "{LOGS_USAGE}unknown shorthand flag: '{c}' in {a}\n"
                ));
                return 2;
            }
            a if app.is_none() && !a.starts_with('-') => app = Some(a.to_owned()),
            _ => {}
        }
        i += 1;
    }
    let app = app.unwrap_or_default();
    let st = match ctx.load_app(&app) {
        Ok(s) => s,
        Err(c) => return c,
    };
    if !st.deployed {
        return ctx.fail(&format!("App {app} has not been deployed"));
    }
    let instances: Vec<String> = st
        .containers
        .keys()
        .filter(|i| {
            ps.as_ref()
                .is_none_or(|p| i.split('.').next() == Some(p.as_str()))
        })
        .cloned()
        .collect();
    let mut lines: Vec<(String, usize, String)> = Vec::new();
    let mut offsets = Vec::new();
    for (idx, inst) in instances.iter().enumerate() {
        let path = ctx.layout.logs_dir(&app).join(format!("{inst}.log"));
        let text = std::fs::read(&path).unwrap_or_default();
        offsets.push(text.len() as u64);
        let text = String::from_utf8_lossy(&text);
        let all: Vec<&str> = text.lines().collect();
        for l in &all[all.len().saturating_sub(num)..] {
            let (ts, msg) = l.split_once(' ').unwrap_or((l, ""));
            lines.push((ts.to_owned(), idx, msg.to_owned()));
        }
    }
    lines.sort_by(|a, b| a.0.cmp(&b.0));
    for (ts, idx, msg) in &lines {
        let text = log_line(ts, &instances[*idx], *idx, msg, quiet);
        ctx.io.out(&text);
    }
    if tail {
        follow(ctx, &app, &instances, &mut offsets, quiet);
    }
    0
}

fn log_line(ts: &str, instance: &str, idx: usize, msg: &str, quiet: bool) -> String {
    if quiet {
        format!("{msg}\n")
    } else {
        format!(
            "\x1b[{}m{ts} app[{instance}]:\x1b[0m {msg}\n",
            COLOURS[idx % COLOURS.len()]
        )
    }
}

fn follow(ctx: &mut Ctx, app: &str, instances: &[String], offsets: &mut [u64], quiet: bool) {
    loop {
        if faults::client_gone() {
            return;
        }
        for (idx, inst) in instances.iter().enumerate() {
            let path = ctx.layout.logs_dir(app).join(format!("{inst}.log"));
            let Ok(mut f) = std::fs::File::open(&path) else {
                continue;
            };
            if f.seek(SeekFrom::Start(offsets[idx])).is_err() {
                continue;
            }
            let mut buf = Vec::new();
            if f.read_to_end(&mut buf).is_err() {
                continue;
            }
            let complete = buf.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
            offsets[idx] += complete as u64;
            for l in String::from_utf8_lossy(&buf[..complete]).lines() {
                let (ts, msg) = l.split_once(' ').unwrap_or((l, ""));
                let text = log_line(ts, inst, idx, msg, quiet);
                ctx.io.out(&text);
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sink_types_and_errors() {
        assert_eq!(
            sink_type("datadog_logs://?api_key=abc").unwrap(),
            "datadog_logs"
        );
        assert_eq!(
            sink_type("console://?encoding[codec]=json").unwrap(),
            "console"
        );
        assert_eq!(sink_type("aws-s3://?x=1").unwrap(), "aws_s3");
        assert_eq!(
            sink_type("console://?sinks=x").unwrap_err(),
            "Invalid option sinks"
        );
        assert!(sink_type("http://?a=base64enc:%%%")
            .unwrap_err()
            .starts_with("invalid URL escape"));
        assert!(sink_type("http://?a=base64enc:***")
            .unwrap_err()
            .starts_with("Error decoding base64"));
    }

    #[test]
    fn redaction_follows_format_and_flag() {
        let v = || "datadog_logs://?api_key=abc".to_owned();
        assert_eq!(
            redacted(v(), "stdout", "", "--logs-vector-sink"),
            "datadog_logs://redacted"
        );
        assert_eq!(redacted(v(), "json", "", "--logs-vector-sink"), v());
        assert_eq!(
            redacted(v(), "stdout", "--logs-vector-sink", "--logs-vector-sink"),
            v()
        );
        assert_eq!(
            redacted(
                v(),
                "stdout",
                "--logs-computed-vector-sink",
                "--logs-vector-sink"
            ),
            "datadog_logs://redacted"
        );
    }

    #[test]
    fn set_validation() {
        assert!(validate("a", "max-size", "20m").is_ok());
        assert!(validate("a", "max-size", "unlimited").is_ok());
        assert!(validate("a", "max-size", "20")
            .unwrap_err()
            .contains("unit measure"));
        assert!(validate("a", "max-size", "m")
            .unwrap_err()
            .contains("must be a number"));
        assert!(validate("a", "max-size", "xm")
            .unwrap_err()
            .contains("unable to convert"));
        assert!(validate("a", "vector-image", "x")
            .unwrap_err()
            .contains("only be set globally"));
        assert!(validate("--global", "vector-networks", "bridge").is_err());
        assert!(validate("a", "app-label-alias", "-x").is_err());
        assert!(validate("a", "app-label-alias", "com.x_y-z").is_ok());
    }

    #[test]
    fn log_lines() {
        assert_eq!(
            log_line("2026-01-01T00:00:00.000000001Z", "worker.1", 1, "hi", false),
            "\x1b[33m2026-01-01T00:00:00.000000001Z app[worker.1]:\x1b[0m hi\n"
        );
        assert_eq!(log_line("t", "web.1", 7, "hi", true), "hi\n");
        let ts = super::super::ps::timestamp();
        assert_eq!(ts.len(), 30, "{ts}");
        assert!(ts.ends_with('Z'));
    }
}
