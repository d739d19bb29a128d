//! `apps:*` commands.

use std::io::{BufRead, IsTerminal};

use super::{go_parse, now_secs, ps, render, state, valid_app_name, Code, Ctx, GoFlag};
use crate::contract::Profile;

const NO_FLAGS: &[GoFlag] = &[];

fn go_args(
    ctx: &mut Ctx,
    cmd: &str,
    args: &[String],
    spec: &[GoFlag],
) -> Result<Vec<String>, Code> {
    if ctx.profile == Profile::V0_19 {
        // bash plugin: no flag parsing
        return Ok(args
            .iter()
            .filter(|a| !a.starts_with("--"))
            .cloned()
            .collect());
    }
    go_parse(ctx, cmd, args, spec).map(|g| g.positional)
}

pub(crate) fn list(ctx: &mut Ctx, args: &[String]) -> Code {
    let spec = [GoFlag {
        name: "format",
        value: Some("string"),
        usage: "format: [ stdout | json ] (default \"stdout\")",
    }];
    let mut format = "stdout".to_owned();
    if ctx.profile == Profile::V0_38 {
        match go_parse(ctx, "apps:list", args, &spec) {
            Ok(g) => {
                if let Some(f) = g.get("format") {
                    format = f.to_owned();
                }
            }
            Err(c) => return c,
        }
    } else if let Err(c) = go_args(ctx, "apps:list", args, NO_FLAGS) {
        return c;
    }
    let apps = match state::list_apps(&ctx.layout) {
        Ok(a) => a,
        Err(e) => return ctx.fail(&format!("cannot list apps: {e}")),
    };
    match format.as_str() {
        "json" => {
            ctx.io.out(&format!("{}\n", render::go_json_strings(&apps)));
            0
        }
        "stdout" => {
            ctx.info2_quiet("My Apps");
            if apps.is_empty() && ctx.profile != Profile::V0_19 {
                ctx.warn("You haven't deployed any applications yet");
            }
            for a in apps {
                ctx.io.out(&format!("{a}\n"));
            }
            0
        }
        other => ctx.fail(&format!(
            "Invalid format specified, supported formats: json, stdout: {other}"
        )),
    }
}

pub(crate) fn create(ctx: &mut Ctx, args: &[String]) -> Code {
    let pos = match go_args(ctx, "apps:create", args, NO_FLAGS) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let Some(app) = pos.first().cloned() else {
        return ctx.fail("Please specify an app to run the command on");
    };
    if !valid_app_name(&app) {
        return ctx.fail("App name must begin with lowercase alphanumeric character, and may only contain lowercase alphanumerics, dots, and hyphens");
    }
    if ctx.layout.app_file(&app).exists() {
        return ctx.fail("Name is already taken");
    }
    if let Err(c) = create_app_state(ctx, &app) {
        return c;
    }
    create_lines(ctx, &app);
    0
}

/// What `createApp` prints (its own line and post-create's domains setup).
fn create_lines(ctx: &mut Ctx, app: &str) {
    match ctx.profile {
        Profile::V0_19 => ctx.info1_quiet(&format!("Creating {app}... done")),
        Profile::V0_30 => {
            ctx.info1_quiet(&format!("Creating {app}..."));
            if ctx.global_vhosts().is_empty() {
                ctx.info2("Global server virtual host not set, disabling app vhost...");
            } else {
                ctx.info1("Creating new app virtual host file...");
            }
        }
        Profile::V0_38 => {
            ctx.info1_quiet(&format!("Creating {app}..."));
            if ctx.global_vhosts().is_empty() {
                ctx.info1_quiet("Global server virtual host not set, disabling app vhost...");
            } else {
                ctx.info1_quiet("Creating new app virtual host file...");
            }
        }
    }
}

/// `apps:clone [--skip-deploy] [--ignore-existing] <old> <new>`
/// (plugins/apps `CommandClone`): `createApp` of the new name, then what
/// the modelled plugins' `post-app-clone-setup` copy: every plugin
/// property (apps, git, ps, logs, builder, ...: `PropertyClone`), the config
/// (config: the old env merged into the new), storage attachments, ps's app
/// data (the Procfile and formation) and git's whole app root (the
/// repository, its hook rewritten by `fn-git-create-hook`); the domains are
/// the new app's defaults (domains: `VHOST` removed, `domains_setup`) and no
/// container is copied (scheduler-docker-local). `post-app-clone` (ps)
/// then rebuilds the new app unless `--skip-deploy` or its deploy branch
/// has no commits (`git-has-code`).
pub(crate) fn clone(ctx: &mut Ctx, args: &[String]) -> Code {
    let spec = [
        GoFlag {
            name: "skip-deploy",
            value: None,
            usage: "--skip-deploy: skip deploy of the new app",
        },
        GoFlag {
            name: "ignore-existing",
            value: None,
            usage: "--ignore-existing: exit 0 if new app already exists",
        },
    ];
    let a = match go_parse(ctx, "apps:clone", args, &spec) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let (old, new) = match old_and_new(ctx, &a.positional) {
        Ok(pair) => pair,
        Err(c) => return c,
    };
    let old_st = match ctx.load_app(&old) {
        Ok(s) => s,
        Err(c) => return c,
    };
    if !valid_app_name(&new) {
        return ctx.fail("App name must begin with lowercase alphanumeric character, and may only contain lowercase alphanumerics, dots, and hyphens");
    }
    if ctx.layout.app_file(&new).exists() {
        if a.get("ignore-existing") == Some("true") {
            ctx.warn("Name is already taken");
            return 0;
        }
        return ctx.fail("Name is already taken");
    }
    ctx.info1_quiet(&format!("Cloning {old} to {new}"));
    if let Err(c) = create_app_state(ctx, &new) {
        return c;
    }
    create_lines(ctx, &new);
    super::events::log_trigger(ctx, "post-app-clone-setup", &[&old, &new]);
    let mut st = match ctx.load_app(&new) {
        Ok(s) => s,
        Err(c) => return c,
    };
    st.properties = old_st.properties.clone();
    st.deploy_source = old_st.deploy_source.clone();
    st.deploy_source_metadata = old_st.deploy_source_metadata.clone();
    st.deploy_branch = old_st.deploy_branch.clone();
    st.keep_git_dir = old_st.keep_git_dir.clone();
    st.source_image = old_st.source_image.clone();
    st.git_sha = old_st.git_sha.clone();
    st.git_last_updated_at = old_st.git_last_updated_at.clone();
    st.formation = old_st.formation.clone();
    st.procfile = old_st.procfile.clone();
    st.restart_policy = old_st.restart_policy.clone();
    st.restore_disabled = old_st.restore_disabled;
    st.attachments = old_st.attachments.clone();
    if let Err(c) = ctx.save_app(&new, &st) {
        return c;
    }
    let mut env =
        super::config::read_env(ctx, &super::config::Target::App(new.clone())).unwrap_or_default();
    env.extend(
        super::config::read_env(ctx, &super::config::Target::App(old.clone())).unwrap_or_default(),
    );
    if let Err(e) = state::write_json(&ctx.layout.env_file(&new), &env) {
        return ctx.fail(&format!("Unable to write new environment: {e}"));
    }
    let old_repo = ctx.layout.repo_dir(&old);
    if old_repo.is_dir() {
        let copied = std::process::Command::new("cp")
            .arg("-a")
            .arg(&old_repo)
            .arg(ctx.layout.repo_dir(&new))
            .output();
        if !copied.is_ok_and(|o| o.status.success()) {
            return ctx.fail(&format!("cannot copy the repository of {old}"));
        }
    }
    if let Err(msg) = super::git::create_hook(ctx, &new) {
        return ctx.fail(&msg);
    }
    let branch = super::git::computed_deploy_branch(ctx, &st);
    let has_code = ctx
        .layout
        .repo_dir(&new)
        .join("refs")
        .join("heads")
        .join(branch)
        .is_file();
    super::events::log_trigger(ctx, "post-app-clone", &[&old, &new]);
    if a.get("skip-deploy") == Some("true") || !has_code {
        return 0;
    }
    ps::rebuild(ctx, std::slice::from_ref(&new))
}

/// Creates the app's state (no output).
pub(crate) fn create_app_state(ctx: &mut Ctx, app: &str) -> Result<(), Code> {
    // post-create's domains_setup: the default vhosts, written once
    let defaults = super::domains::default_vhosts(app, &ctx.global_vhosts());
    let st = state::AppState {
        created_at: now_secs(),
        vhosts: (!defaults.is_empty()).then_some(defaults),
        ..Default::default()
    };
    ctx.save_app(app, &st)?;
    super::events::log_trigger(ctx, "post-create", &[app]);
    Ok(())
}

pub(crate) fn exists(ctx: &mut Ctx, args: &[String]) -> Code {
    let pos = match go_args(ctx, "apps:exists", args, NO_FLAGS) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let app = pos.first().cloned().unwrap_or_default();
    match ctx.load_app(&app) {
        Ok(_) => 0,
        Err(c) => c,
    }
}

/// Reads one confirmation word as Go's `fmt.Scanln` does.
pub(crate) fn scanln() -> Result<String, &'static str> {
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => Err("EOF"),
        Ok(_) => {
            let word = line.trim_end_matches(['\n', '\r']).trim();
            if word.is_empty() {
                Err("unexpected newline")
            } else {
                Ok(word
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned())
            }
        }
    }
}

pub(crate) fn destroy(ctx: &mut Ctx, args: &[String]) -> Code {
    let spec = [GoFlag {
        name: "force",
        value: None,
        usage: "--force: force destroy without confirmation",
    }];
    let (pos, mut force) = if ctx.profile == Profile::V0_19 {
        let pos: Vec<String> = args
            .iter()
            .filter(|a| !a.starts_with("--"))
            .cloned()
            .collect();
        let force = pos.get(1).map(String::as_str) == Some("force");
        (pos, force)
    } else {
        match go_parse(ctx, "apps:destroy", args, &spec) {
            Ok(g) => {
                let f = g.has("force");
                (g.positional, f)
            }
            Err(c) => return c,
        }
    };
    force |= ctx.flags.force;
    let Some(app) = pos.first().cloned() else {
        return ctx.fail("Please specify an app to run the command on");
    };
    if let Err(c) = ctx.load_app(&app) {
        return c;
    }
    if !force {
        ctx.warn("WARNING: Potentially Destructive Action");
        if ctx.profile == Profile::V0_19 {
            ctx.warn(&format!(
                "This command will destroy {app} (including all add-ons)."
            ));
            ctx.warn(&format!("To proceed, type \"{app}\""));
            ctx.io.out("\n");
            if std::io::stdin().is_terminal() {
                ctx.io.err("> ");
            }
            let mut line = String::new();
            match std::io::stdin().lock().read_line(&mut line) {
                Ok(n) if n > 0 && line.ends_with('\n') => {}
                _ => return 1,
            }
            if line.trim_end_matches('\n') != app {
                return ctx.fail(&format!("Confirmation did not match {app}. Aborted."));
            }
        } else {
            ctx.warn(&format!("This command will destroy app {app}."));
            ctx.warn(&format!("To proceed, type \"{app}\""));
            ctx.io.out("> ");
            match scanln() {
                Err(e) => return ctx.fail(e),
                Ok(word) if word != app => {
                    ctx.io.err("Confirmation did not match test. Aborted.\n");
                    return 1;
                }
                Ok(_) => {}
            }
        }
    }
    ctx.info1(&format!("Destroying {app} (including all add-ons)"));
    super::postgres::unlink_all_for_app(ctx, &app);
    ps::stop_all(ctx, &app);
    ctx.info1("Cleaning up...");
    ctx.info1("Retiring old containers and images");
    if let Err(e) = std::fs::remove_dir_all(ctx.layout.app_dir(&app)) {
        return ctx.fail(&format!("cannot remove app {app}: {e}"));
    }
    0
}

fn one_app(ctx: &mut Ctx, cmd: &str, args: &[String]) -> Result<String, Code> {
    let pos = go_args(ctx, cmd, args, NO_FLAGS)?;
    let app = pos.first().cloned().unwrap_or_default();
    ctx.load_app(&app)?;
    Ok(app)
}

pub(crate) fn lock(ctx: &mut Ctx, args: &[String]) -> Code {
    let app = match one_app(ctx, "apps:lock", args) {
        Ok(a) => a,
        Err(c) => return c,
    };
    if let Err(e) = std::fs::write(ctx.layout.lock_file(&app), b"") {
        return ctx.fail(&format!("cannot create the deploy lock: {e}"));
    }
    ctx.info1("Deploy lock created");
    0
}

pub(crate) fn locked(ctx: &mut Ctx, args: &[String]) -> Code {
    let app = match one_app(ctx, "apps:locked", args) {
        Ok(a) => a,
        Err(c) => return c,
    };
    if ctx.layout.lock_file(&app).exists() {
        ctx.log_quiet("Deploy lock exists");
        0
    } else {
        ctx.fail("Deploy lock does not exist")
    }
}

pub(crate) fn unlock(ctx: &mut Ctx, args: &[String]) -> Code {
    let app = match one_app(ctx, "apps:unlock", args) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let lock = ctx.layout.lock_file(&app);
    if !lock.exists() {
        return ctx.fail("Unable to remove deploy lock");
    }
    ctx.warn("A deploy may be in progress.");
    ctx.warn("Removing the app lock will not stop in progress deploys.");
    if let Err(e) = std::fs::remove_file(&lock) {
        return ctx.fail(&format!("Unable to remove deploy lock: {e}"));
    }
    ctx.info1("Deploy lock removed");
    0
}

/// `apps:set [--global] <app> <property> [<value>]` (`plugins/apps`
/// `CommandSet`: `disable-autocreation` only globally, then
/// `common.CommandPropertySet` over deploy-source, deploy-source-metadata
/// and the global disable-autocreation), kept in the state's own fields.
pub(crate) fn set(ctx: &mut Ctx, args: &[String]) -> Code {
    let spec = [GoFlag {
        name: "global",
        value: None,
        usage: "--global: set a global property",
    }];
    let a = match go_parse(ctx, "apps:set", args, &spec) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let arg = |i: usize| a.positional.get(i).cloned().unwrap_or_default();
    let global = a.get("global") == Some("true");
    let (app, property, value) = if global {
        ("--global".to_owned(), arg(0), arg(1))
    } else {
        (arg(0), arg(1), arg(2))
    };
    if !global && property == "disable-autocreation" {
        return ctx.fail("Property can only be specified globally");
    }
    let mut st = None;
    if !global {
        match ctx.load_app(&app) {
            Ok(s) => st = Some(s),
            Err(c) => return c,
        }
    }
    if global && property != "disable-autocreation" {
        return ctx.fail("Property cannot be specified globally");
    }
    if property.is_empty() {
        return ctx.fail("No property specified");
    }
    let valid = [
        "deploy-source",
        "deploy-source-metadata",
        "disable-autocreation",
    ];
    if !valid.contains(&property.as_str()) {
        return ctx.fail(&format!(
            "Invalid property specified, valid properties include: {}",
            valid.join(", ")
        ));
    }
    if value.is_empty() {
        ctx.info2_quiet(&format!("Unsetting {property}"));
    } else {
        ctx.info2_quiet(&format!("Setting {property} to {value}"));
    }
    match st {
        None => {
            let mut s = ctx.settings();
            s.disable_autocreation = value;
            match state::write_json(&ctx.layout.global_settings_file(), &s) {
                Ok(()) => 0,
                Err(e) => ctx.fail(&format!("cannot save the global properties: {e}")),
            }
        }
        Some(mut s) => {
            if property == "deploy-source" {
                s.deploy_source = value;
            } else {
                s.deploy_source_metadata = value;
            }
            match ctx.save_app(&app, &s) {
                Ok(()) => 0,
                Err(c) => c,
            }
        }
    }
}

/// The `<old-app> <new-app>` of `apps:clone` and `apps:rename`, with their
/// shared messages (`plugins/apps/subcommands`: `CommandClone`, `CommandRename`).
fn old_and_new(ctx: &mut Ctx, positional: &[String]) -> Result<(String, String), Code> {
    let old = positional.first().cloned().unwrap_or_default();
    let new = positional.get(1).cloned().unwrap_or_default();
    if old.is_empty() {
        return Err(ctx.fail("Please specify an app to run the command on"));
    }
    if new.is_empty() {
        return Err(ctx.fail("Please specify an new app name"));
    }
    Ok((old, new))
}

/// `apps:rename [--skip-deploy] <old> <new>` (`CommandRename`): the new app
/// takes over the old one's state (what each plugin's
/// post-app-rename-setup copies: config, repository, properties, mounts,
/// domains), the old app is destroyed, and a deployed app is rebuilt under
/// its new name unless `--skip-deploy`. The domains plugin's copy of the
/// vhosts renames `<old>.<global vhost>` to `<new>.<global vhost>` and
/// keeps every other domain.
pub(crate) fn rename(ctx: &mut Ctx, args: &[String]) -> Code {
    let spec = [GoFlag {
        name: "skip-deploy",
        value: None,
        usage: "--skip-deploy: skip deploy of the new app",
    }];
    let a = match go_parse(ctx, "apps:rename", args, &spec) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let (old, new) = match old_and_new(ctx, &a.positional) {
        Ok(pair) => pair,
        Err(c) => return c,
    };
    let mut st = match ctx.load_app(&old) {
        Ok(s) => s,
        Err(c) => return c,
    };
    if !valid_app_name(&new) {
        return ctx.fail("App name must begin with lowercase alphanumeric character, and may only contain lowercase alphanumerics, dots, and hyphens");
    }
    if ctx.layout.app_file(&new).exists() {
        return ctx.fail("Name is already taken");
    }
    ctx.info1_quiet(&format!("Renaming {old} to {new}"));
    ctx.info1_quiet(&format!("Creating {new}..."));
    let globals = ctx.global_vhosts();
    if let Some(vhosts) = st.vhosts.as_mut() {
        for v in vhosts.iter_mut() {
            for g in &globals {
                *v = v.replace(&format!("{old}.{g}"), &format!("{new}.{g}"));
            }
        }
    }
    st.created_at = now_secs();
    ctx.info1(&format!("Destroying {old} (including all add-ons)"));
    ps::stop_all(ctx, &old);
    st.containers.clear();
    if let Err(e) = std::fs::rename(ctx.layout.app_dir(&old), ctx.layout.app_dir(&new)) {
        return ctx.fail(&format!("cannot rename app {old}: {e}"));
    }
    let deployed = st.deployed;
    if let Err(c) = ctx.save_app(&new, &st) {
        return c;
    }
    // dokku-postgres' post-app-rename-setup: links follow the new name
    for svc in state::list_services(&ctx.layout).unwrap_or_default() {
        let file = ctx.layout.service_file(&svc);
        let Ok(mut s) = state::read_json::<state::ServiceState>(&file) else {
            continue;
        };
        if s.links.contains(&old) {
            for l in s.links.iter_mut().filter(|l| **l == old) {
                l.clone_from(&new);
            }
            let _ = state::write_json(&file, &s);
        }
    }
    if deployed && a.get("skip-deploy") != Some("true") {
        return ps::rebuild(ctx, std::slice::from_ref(&new));
    }
    0
}
