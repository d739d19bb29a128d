//! `config:*` commands (Go plugin since 0.11).

use std::collections::BTreeMap;

use base64::Engine;

use super::{go_parse, render, state, Code, Ctx, GoFlag};
use crate::contract::Profile;

/// Whose config: an app or `--global`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    App(String),
    Global,
}

/// Reads an app's (or the global) config vars.
pub(crate) fn read_env(ctx: &Ctx, target: &Target) -> std::io::Result<BTreeMap<String, String>> {
    match target {
        Target::App(a) => state::read_json(&ctx.layout.env_file(a)),
        Target::Global => state::read_json(&ctx.layout.global_env_file()),
    }
}

fn write_env(ctx: &Ctx, target: &Target, vars: &BTreeMap<String, String>) -> std::io::Result<()> {
    match target {
        Target::App(a) => state::write_json(&ctx.layout.env_file(a), vars),
        Target::Global => state::write_json(&ctx.layout.global_env_file(), vars),
    }
}

const GLOBAL: GoFlag = GoFlag {
    name: "global",
    value: None,
    usage: "--global: use the global environment",
};
const NO_RESTART: GoFlag = GoFlag {
    name: "no-restart",
    value: None,
    usage: "--no-restart: no restart",
};
const MERGED: GoFlag = GoFlag {
    name: "merged",
    value: None,
    usage: "--merged: merge app environment and global environment",
};

/// Parses `[--global] <app>`-style arguments; verifies the app.
fn target(
    ctx: &mut Ctx,
    cmd: &str,
    args: &[String],
    spec: &[GoFlag],
) -> Result<(Target, super::GoArgs), Code> {
    ctx.go_failed_prefix = true;
    let mut g = go_parse(ctx, cmd, args, spec)?;
    if g.has("global") {
        return Ok((Target::Global, g));
    }
    if ctx.profile == Profile::V0_19 {
        // 0.19's Go config plugin: getCommonArgs, then VerifyAppName's texts
        if g.positional.first().is_none_or(|a| a.is_empty()) {
            return Err(ctx.fail("Please specify an app or --global"));
        }
        let app = g.positional.remove(0);
        if !ctx.layout.app_file(&app).exists() {
            return Err(ctx.fail(&format!("app {app} does not exist")));
        }
        return Ok((Target::App(app), g));
    }
    if g.positional.is_empty() {
        return Err(ctx.fail("Please specify an app to run the command on"));
    }
    let app = g.positional.remove(0);
    ctx.load_app(&app)?;
    Ok((Target::App(app), g))
}

fn env_or_fail(ctx: &mut Ctx, t: &Target) -> Result<BTreeMap<String, String>, Code> {
    read_env(ctx, t).map_err(|e| ctx.fail(&e.to_string()))
}

fn merged_env(ctx: &mut Ctx, t: &Target, merged: bool) -> Result<BTreeMap<String, String>, Code> {
    let mut vars = env_or_fail(ctx, t)?;
    if merged && *t != Target::Global {
        let mut all = env_or_fail(ctx, &Target::Global)?;
        all.append(&mut vars);
        vars = all;
    }
    Ok(vars)
}

pub(crate) fn show(ctx: &mut Ctx, args: &[String]) -> Code {
    const SHOW_MERGED: GoFlag = GoFlag {
        name: "merged",
        value: None,
        usage: "--merged: display the app's environment merged with the global environment",
    };
    let (t, g) = match target(ctx, "config:show", args, &[GLOBAL, SHOW_MERGED]) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let vars = match merged_env(ctx, &t, g.has("merged")) {
        Ok(v) => v,
        Err(c) => return c,
    };
    let name = match &t {
        Target::App(a) => a.clone(),
        Target::Global => "global".into(),
    };
    ctx.info2_quiet(&format!("{name} env vars"));
    let block = render::columnize(&render::config_lines(&vars), "");
    ctx.io.out(&format!("{block}\n"));
    0
}

pub(crate) fn get(ctx: &mut Ctx, args: &[String]) -> Code {
    let spec = [
        GLOBAL,
        GoFlag {
            name: "quoted",
            value: None,
            usage: "--quoted: get the value quoted",
        },
    ];
    let (t, g) = match target(ctx, "config:get", args, &spec) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let key = match g.positional.as_slice() {
        [] => return ctx.fail("Expected: key"),
        [k] => k.clone(),
        more => {
            return ctx.fail(&format!(
                "Unexpected argument(s): [{}]",
                more[1..].join(" ")
            ));
        }
    };
    let vars = match env_or_fail(ctx, &t) {
        Ok(v) => v,
        Err(c) => return c,
    };
    match vars.get(&key) {
        Some(v) if g.has("quoted") => {
            ctx.io.out(&format!("{}\n", render::single_quote(v)));
            0
        }
        Some(v) => {
            ctx.io.out(&format!("{v}\n"));
            0
        }
        None => 1,
    }
}

fn valid_key(k: &str) -> bool {
    let mut c = k.chars();
    matches!(c.next(), Some(f) if f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

/// Stores vars and prints the `Setting config vars` block; restarts a
/// deployed app unless `no_restart`. Shared with `postgres:link`.
pub(crate) fn set_vars(
    ctx: &mut Ctx,
    t: &Target,
    pairs: &[(String, String)],
    no_restart: bool,
) -> Code {
    let mut vars = match env_or_fail(ctx, t) {
        Ok(v) => v,
        Err(c) => return c,
    };
    let mut shown = BTreeMap::new();
    for (k, v) in pairs {
        vars.insert(k.clone(), render::normalise_value(v));
        shown.insert(k.clone(), v.clone());
    }
    if let Err(e) = write_env(ctx, t, &vars) {
        return ctx.fail(&format!("cannot save config: {e}"));
    }
    ctx.info1_quiet("Setting config vars");
    if !ctx.quiet {
        let block = render::columnize(&render::config_lines(&shown), "       ");
        ctx.io.out(&format!("{block}\n"));
    }
    if let Target::App(app) = t {
        if !no_restart {
            return maybe_restart(ctx, app);
        }
    }
    0
}

fn maybe_restart(ctx: &mut Ctx, app: &str) -> Code {
    let st = match ctx.load_app(app) {
        Ok(s) => s,
        Err(c) => return c,
    };
    if st.deployed && !st.restore_disabled {
        ctx.info1(&format!("Restarting app {app}"));
        let code = super::deploy::release_and_deploy(ctx, app, false);
        if code != 0 {
            ctx.warn(&format!("Failure while restarting app: exit status {code}"));
        }
    }
    0
}

pub(crate) fn set(ctx: &mut Ctx, args: &[String]) -> Code {
    let spec = [
        GoFlag {
            name: "encoded",
            value: None,
            usage: "--encoded: interpret VALUEs as base64",
        },
        GLOBAL,
        NO_RESTART,
    ];
    let (t, g) = match target(ctx, "config:set", args, &spec) {
        Ok(x) => x,
        Err(c) => return c,
    };
    if g.positional.is_empty() {
        return ctx.fail("At least one env pair must be given");
    }
    let mut pairs = Vec::new();
    for p in &g.positional {
        let Some((k, v)) = p.split_once('=') else {
            return ctx.fail(&format!("Invalid env pair: {p}"));
        };
        if !valid_key(k) {
            return ctx.fail(&format!("Invalid key name: '{k}'"));
        }
        let v = if g.has("encoded") {
            match base64::engine::general_purpose::STANDARD.decode(v) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => {
                    let at = match e {
                        base64::DecodeError::InvalidByte(i, _) => i,
                        base64::DecodeError::InvalidLastSymbol(i, _) => i,
                        _ => v.len(),
                    };
                    return ctx.fail(&format!(
                        "illegal base64 data at input byte {at} for key '{k}'"
                    ));
                }
            }
        } else {
            v.to_owned()
        };
        pairs.push((k.to_owned(), v));
    }
    set_vars(ctx, &t, &pairs, g.has("no-restart"))
}

/// Unsets keys with `Unsetting`/`Skipping` lines; restarts when something was
/// unset and the app is deployed. Shared with `postgres:unlink`.
pub(crate) fn unset_vars(ctx: &mut Ctx, t: &Target, keys: &[String], no_restart: bool) -> Code {
    let mut vars = match env_or_fail(ctx, t) {
        Ok(v) => v,
        Err(c) => return c,
    };
    if let Some(k) = keys.iter().find(|k| !valid_key(k)) {
        return ctx.fail(&format!("Invalid key name: '{k}'"));
    }
    let mut changed = false;
    for k in keys {
        if vars.remove(k).is_some() {
            changed = true;
            ctx.info1_quiet(&format!("Unsetting {k}"));
        } else {
            ctx.info1_quiet(&format!("Skipping {k}, it is not set in the environment"));
        }
    }
    if changed {
        if let Err(e) = write_env(ctx, t, &vars) {
            return ctx.fail(&format!("cannot save config: {e}"));
        }
    }
    if let Target::App(app) = t {
        if !no_restart {
            return maybe_restart(ctx, app);
        }
    }
    0
}

pub(crate) fn unset(ctx: &mut Ctx, args: &[String]) -> Code {
    let (t, g) = match target(ctx, "config:unset", args, &[GLOBAL, NO_RESTART]) {
        Ok(x) => x,
        Err(c) => return c,
    };
    if g.positional.is_empty() {
        return ctx.fail("At least one key must be given");
    }
    unset_vars(ctx, &t, &g.positional, g.has("no-restart"))
}

pub(crate) fn export(ctx: &mut Ctx, args: &[String]) -> Code {
    let spec = [
        GoFlag {
            name: "format",
            value: Some("string"),
            usage: "--format: [ docker-args | docker-args-keys | exports | envfile | json | json-list | pack-keys | pretty | shell ] which format to export as) (default \"exports\")",
        },
        GLOBAL,
        MERGED,
    ];
    let (t, g) = match target(ctx, "config:export", args, &spec) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let vars = match merged_env(ctx, &t, g.has("merged")) {
        Ok(v) => v,
        Err(c) => return c,
    };
    let format = g.get("format").unwrap_or("exports").to_owned();
    match render::config_export(&vars, &format) {
        Some(text) => {
            ctx.io.out(&text);
            0
        }
        None => ctx.fail(&format!("Unknown export format: {format}")),
    }
}

pub(crate) fn keys(ctx: &mut Ctx, args: &[String]) -> Code {
    let (t, _) = match target(ctx, "config:keys", args, &[GLOBAL, MERGED]) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let vars = match env_or_fail(ctx, &t) {
        Ok(v) => v,
        Err(c) => return c,
    };
    for k in vars.keys() {
        ctx.io.out(&format!("{k}\n"));
    }
    0
}

pub(crate) fn clear(ctx: &mut Ctx, args: &[String]) -> Code {
    let (t, g) = match target(ctx, "config:clear", args, &[GLOBAL, NO_RESTART]) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let vars = match env_or_fail(ctx, &t) {
        Ok(v) => v,
        Err(c) => return c,
    };
    let keys: Vec<String> = vars.keys().cloned().collect();
    unset_vars(ctx, &t, &keys, g.has("no-restart"))
}

/// Parses an envfile as godotenv does for the common cases: blank lines and
/// `#` comments skipped, an optional `export `, `KEY=VALUE` with the value
/// trimmed and one pair of matching quotes removed.
pub(crate) fn parse_envfile(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            return Err(format!("unexpected character in line: {line}"));
        };
        let v = v.trim();
        let v = ['"', '\'']
            .iter()
            .find_map(|q| v.strip_prefix(*q).and_then(|x| x.strip_suffix(*q)))
            .unwrap_or(v);
        out.push((k.trim().to_owned(), v.to_owned()));
    }
    Ok(out)
}

/// `config:import [--global] [--replace] [--no-restart] [--format envfile|json] <app> <file|->`
/// (`SubImport`, then `SetMany`): each var logged, then set as `config:set`
/// does; `--replace` clears the environment first.
pub(crate) fn import(ctx: &mut Ctx, args: &[String]) -> Code {
    let spec = [
        GLOBAL,
        NO_RESTART,
        GoFlag {
            name: "replace",
            value: None,
            usage: "--replace: replace existing config vars",
        },
        GoFlag {
            name: "format",
            value: Some("string"),
            usage: "--format: [ envfile | json ] which format to export as)",
        },
    ];
    let (t, g) = match target(ctx, "config:import", args, &spec) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let file = g.positional.first().cloned().unwrap_or_default();
    if file == "-" {
        ctx.info1_quiet("Reading config vars from stdin");
    }
    let format = g
        .get("format")
        .filter(|f| !f.is_empty())
        .unwrap_or("envfile");
    if format != "envfile" && format != "json" {
        return ctx.fail(&format!("Unknown format: {format}"));
    }
    let mut text = String::new();
    let read = if file == "-" {
        use std::io::Read;
        std::io::stdin().read_to_string(&mut text).map(drop)
    } else {
        std::fs::read_to_string(&file).map(|t| text = t)
    };
    if let Err(e) = read {
        return ctx.fail(&format!("open {file}: {e}"));
    }
    let pairs: Vec<(String, String)> = if format == "json" {
        match serde_json::from_str::<BTreeMap<String, String>>(&text) {
            Ok(m) => m.into_iter().collect(),
            Err(e) => return ctx.fail(&e.to_string()),
        }
    } else {
        match parse_envfile(&text) {
            Ok(p) => p,
            Err(e) => return ctx.fail(&e),
        }
    };
    let map: BTreeMap<String, String> = pairs.into_iter().collect();
    if map.is_empty() {
        return ctx.fail("No config vars to set");
    }
    for (k, v) in &map {
        ctx.info1_quiet(&format!("Setting config var {k}={v}"));
    }
    if let Some(k) = map.keys().find(|k| !valid_key(k)) {
        return ctx.fail(&format!("Invalid key name: '{k}'"));
    }
    if g.has("replace") {
        if let Err(e) = write_env(ctx, &t, &BTreeMap::new()) {
            return ctx.fail(&format!("cannot save config: {e}"));
        }
    }
    let pairs: Vec<(String, String)> = map.into_iter().collect();
    set_vars(ctx, &t, &pairs, g.has("no-restart"))
}

#[cfg(test)]
mod import_tests {
    use super::*;

    #[test]
    fn envfiles() {
        let p = parse_envfile("# c\n\nexport A=1\nB = \"two words\"\nC='x'\n").unwrap();
        assert_eq!(
            p,
            vec![
                ("A".into(), "1".into()),
                ("B".into(), "two words".into()),
                ("C".into(), "x".into())
            ]
        );
        assert!(parse_envfile("novalue\n").is_err());
    }
}
