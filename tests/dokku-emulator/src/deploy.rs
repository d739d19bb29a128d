//! Deploys on the docker-local scheduler: the Procfile and app.json
//! scripts of the deployed tree, starting the formation's processes, the
//! proxy lines and the `Application deployed:` block.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;

use super::ps::{app_env, formation, parse_procfile, start_instance, stop_pid_file};
use super::{container, random_hex, state, Code, Ctx};

/// Reads the deployed tree's Procfile into the state.
pub(crate) fn load_procfile(ctx: &Ctx, app: &str, st: &mut state::AppState) {
    if let Ok(text) = std::fs::read_to_string(ctx.layout.tree_dir(app).join("Procfile")) {
        st.procfile = parse_procfile(&text);
    }
}

/// ps's `core-post-extract` (`TriggerCorePostExtract`, `common.CorePostExtract`
/// for a source tree): the computed `procfile-path` (trimmed of `/`; none is
/// `Procfile`) becomes the tree's `Procfile`; a path that names no file
/// removes the tree's `Procfile` (the app then has none).
pub(crate) fn extract_procfile(ctx: &Ctx, app: &str, tree: &Path) -> Result<(), String> {
    let computed = super::properties::computed(ctx, "ps", app, "procfile-path", "");
    let path = match computed.trim_matches('/') {
        "" => "Procfile",
        p => p,
    };
    if path == "Procfile" {
        return Ok(());
    }
    let source = tree.join(path);
    let default = tree.join("Procfile");
    if source.is_file() {
        std::fs::copy(&source, &default)
            .map(|_| ())
            .map_err(|e| format!("Unable to move Procfile into place: {e}"))
    } else if default.is_file() {
        std::fs::remove_file(&default).map_err(|e| e.to_string())
    } else {
        Ok(())
    }
}

/// ps's `post-release-builder` (`updateScale`) followed by its
/// `core-post-deploy` (which drops `scale.old`): process types the new
/// Procfile does not have and that are scaled to zero leave the formation;
/// those scaled up stay.
pub(crate) fn prune_formation(st: &mut state::AppState) {
    let procfile = &st.procfile;
    st.formation
        .retain(|proc_type, count| *count != 0 || procfile.contains_key(proc_type));
}

/// The app.json `scripts.dokku.<phase>` command of the deployed tree.
pub(crate) fn app_json_script(ctx: &Ctx, app: &str, phase: &str) -> Option<String> {
    let text = std::fs::read(ctx.layout.tree_dir(app).join("app.json")).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&text).ok()?;
    v.get("scripts")?
        .get("dokku")?
        .get(phase)?
        .as_str()
        .map(str::to_owned)
}

/// Runs an app.json script with the app's environment in its tree, its
/// output passed through (stdout and stderr both to our stdout, as under
/// build capture). Returns false when it failed.
pub(crate) fn run_script(ctx: &mut Ctx, app: &str, phase: &str) -> bool {
    ctx.info1(&format!("Checking for {phase} task"));
    let Some(script) = app_json_script(ctx, app, phase) else {
        ctx.verbose(&format!("No {phase} task found, skipping"));
        return true;
    };
    if phase == "predeploy" {
        ctx.verbose(&format!("Executing {phase} task from app.json: {script}"));
    } else {
        ctx.verbose(&format!(
            "Executing {phase} task from app.json in ephemeral container: {script}"
        ));
    }
    let env = app_env(ctx, app);
    let out = container::app_command(ctx, app, "/bin/sh")
        .arg("-c")
        .arg(&script)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .output();
    match out {
        Ok(o) => {
            ctx.io.out_bytes(&o.stdout);
            ctx.io.out_bytes(&o.stderr);
            if o.status.success() {
                true
            } else {
                ctx.warn(&format!("Execution of {phase} task failed: {script}"));
                false
            }
        }
        Err(e) => {
            ctx.warn(&format!("Execution of {phase} task failed: {script}: {e}"));
            false
        }
    }
}

/// The scheduler's deploy of every process type (new instances started, old
/// ones stopped), ending with post-deploy and the proxy lines.
pub(crate) fn deploy_body(ctx: &mut Ctx, app: &str, scripts: bool) -> Code {
    ctx.io.capture = true;
    let mut st = match ctx.load_app(app) {
        Ok(s) => s,
        Err(c) => return c,
    };
    load_procfile(ctx, app, &mut st);
    let f = formation(&st);
    let old: BTreeMap<String, String> = std::mem::take(&mut st.containers);
    for (proc_type, count) in &f {
        let Some(command) = st.procfile.get(proc_type).cloned() else {
            continue;
        };
        if *count == 0 {
            continue;
        }
        ctx.info1(&format!("Deploying {proc_type} (count={count})"));
        for n in 1..=*count {
            let instance = format!("{proc_type}.{n}");
            ctx.verbose(&format!("Attempting pre-flight checks ({instance})"));
            ctx.warn(&format!(
                "No healthchecks found in app.json for {proc_type} process type"
            ));
            stop_pid_file(&ctx.layout.pid_file(app, &instance));
            if let Err(e) = start_instance(ctx, app, &instance, &command) {
                st.containers.extend(old.clone());
                let _ = ctx.save_app(app, &st);
                return ctx.fail(&e);
            }
            st.containers.insert(instance.clone(), random_hex(32));
            if old.contains_key(&instance) {
                ctx.verbose(&format!(
                    "Scheduling old container shutdown in 60 seconds ({instance})"
                ));
            }
        }
    }
    for instance in old.keys() {
        if !st.containers.contains_key(instance) {
            stop_pid_file(&ctx.layout.pid_file(app, instance));
        }
    }
    st.deployed = true;
    if let Err(c) = ctx.save_app(app, &st) {
        return c;
    }
    ctx.info1("Running post-deploy");
    if scripts && !run_script(ctx, app, "postdeploy") {
        return 1;
    }
    proxy_lines(ctx, app, &st);
    0
}

/// The nginx proxy rebuild lines.
pub(crate) fn proxy_lines(ctx: &mut Ctx, app: &str, st: &state::AppState) {
    let vhosts = ctx.app_vhosts(app, st);
    let plain: Vec<&String> = vhosts
        .iter()
        .filter(|v| !st.tls_vhosts.contains(v))
        .collect();
    if st.domains_disabled || vhosts.is_empty() {
        return;
    }
    let shown: Vec<&str> = if plain.is_empty() {
        vhosts.iter().map(String::as_str).collect()
    } else {
        plain.iter().map(|s| s.as_str()).collect()
    };
    ctx.info1(&format!(
        "Configuring {}...(using built-in template)",
        shown.join(" ")
    ));
    ctx.info1("Creating http nginx.conf");
    ctx.verbose("Reloading nginx");
}

/// `release_and_deploy`: Releasing, the scheduler deploy, and the
/// `=====> Application deployed:` block with a closing blank line.
pub(crate) fn release_and_deploy(ctx: &mut Ctx, app: &str, scripts: bool) -> Code {
    ctx.io.capture = true;
    ctx.info1(&format!("Releasing {app}..."));
    if scripts {
        if let Err(c) = ctx.load_app(app) {
            return c;
        }
        if !run_script(ctx, app, "predeploy") {
            return 1;
        }
    }
    ctx.info1(&format!(
        "Deploying {app} via the docker-local scheduler..."
    ));
    let code = deploy_body(ctx, app, scripts);
    if code != 0 {
        return code;
    }
    let st = match ctx.load_app(app) {
        Ok(s) => s,
        Err(c) => return c,
    };
    ctx.info2("Application deployed:");
    for v in ctx.app_vhosts(app, &st) {
        let scheme = if st.tls_vhosts.contains(&v) {
            "https"
        } else {
            "http"
        };
        ctx.verbose(&format!("{scheme}://{v}"));
    }
    ctx.io.out("\n");
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroed_types_the_procfile_lacks_leave_the_formation() {
        let mut st = state::AppState::default();
        st.procfile.insert("web".into(), "run".into());
        st.formation.insert("web".into(), 1);
        st.formation.insert("worker".into(), 0);
        st.formation.insert("clock".into(), 2);
        prune_formation(&mut st);
        let kept: Vec<&str> = st.formation.keys().map(String::as_str).collect();
        assert_eq!(kept, ["clock", "web"]);
    }
}
