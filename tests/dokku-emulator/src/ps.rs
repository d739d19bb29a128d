//! The ps plugin and scheduler-docker-local's processes: `ps:*`, and the
//! per-process supervisor that timestamps output into the app's log files
//! (deploys are in `deploy`, `logs` in `logs`).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use super::deploy::{deploy_body, proxy_lines, release_and_deploy};
use super::{config, container, go_parse, render, state, Code, Ctx, GoFlag};
use crate::contract::Profile;

/// `running` or `exited` for one instance (`web.1`), from its pid file.
pub(crate) fn instance_status(ctx: &Ctx, app: &str, instance: &str) -> &'static str {
    if alive_pgid(&ctx.layout.pid_file(app, instance)).is_some() {
        "running"
    } else {
        "exited"
    }
}

fn alive_pgid(pid_file: &Path) -> Option<i32> {
    let text = std::fs::read_to_string(pid_file).ok()?;
    let pgid: i32 = text.trim().parse().ok()?;
    if pgid <= 1 {
        return None;
    }
    // A zombie is gone: it only waits for its parent (after the starting
    // emulator exited, PID 1, which may reap late) to collect its status.
    crate::procs::is_alive(pgid).then_some(pgid)
}

/// `true`, `false` or `mixed`.
pub(crate) fn running_summary(ctx: &Ctx, app: &str, st: &state::AppState) -> &'static str {
    let total = st.containers.len();
    let up = st
        .containers
        .keys()
        .filter(|i| instance_status(ctx, app, i) == "running")
        .count();
    if total == 0 || up == 0 {
        "false"
    } else if up == total {
        "true"
    } else {
        "mixed"
    }
}

pub(crate) fn stop_pid_file(pid_file: &Path) {
    if let Some(pgid) = alive_pgid(pid_file) {
        let _ = killpg(Pid::from_raw(pgid), Signal::SIGTERM);
        let end = Instant::now() + Duration::from_secs(3);
        while Instant::now() < end && crate::procs::is_alive(pgid) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
    }
    let _ = std::fs::remove_file(pid_file);
}

/// Stops every process of an app (pid files `run/<app>.*.pid`).
pub(crate) fn stop_all(ctx: &Ctx, app: &str) {
    let dir = ctx.layout.root.join(crate::contract::RUN_DIR);
    let prefix = format!("{app}.");
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(rest) = name.strip_prefix(&prefix) {
                // `<app>.<proc>.<n>.pid`: the rest must not contain another app name
                if rest.ends_with(".pid") && rest.matches('.').count() == 2 {
                    stop_pid_file(&e.path());
                }
            }
        }
    }
}

/// Parses a Procfile.
pub(crate) fn parse_procfile(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .filter(|(k, v)| !k.is_empty() && !v.is_empty() && !k.contains(' '))
        .collect()
}

/// The effective formation: stored counts, `web` defaulting to 1 and other
/// Procfile types to 0.
pub(crate) fn formation(st: &state::AppState) -> BTreeMap<String, u32> {
    let mut f: BTreeMap<String, u32> = st
        .procfile
        .keys()
        .map(|k| (k.clone(), u32::from(k == "web")))
        .collect();
    for (k, v) in &st.formation {
        f.insert(k.clone(), *v);
    }
    f
}

/// The environment of an app's processes: PATH, the app's config, extras.
pub(crate) fn app_env(ctx: &Ctx, app: &str) -> Vec<(String, String)> {
    let mut path = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
    path = format!("{}:{path}", ctx.config.postgres.bin_dir.display());
    let mut env = vec![
        ("PATH".to_owned(), path),
        (
            "HOME".to_owned(),
            ctx.layout.tree_dir(app).display().to_string(),
        ),
    ];
    if let Ok(lang) = std::env::var("LANG") {
        env.push(("LANG".into(), lang));
    }
    let global = config::read_env(ctx, &config::Target::Global).unwrap_or_default();
    let vars = config::read_env(ctx, &config::Target::App(app.to_owned())).unwrap_or_default();
    env.extend(global);
    env.extend(vars);
    env
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(5000)
}

/// Starts one instance through the supervisor; waits for its pid file.
pub(crate) fn start_instance(
    ctx: &Ctx,
    app: &str,
    instance: &str,
    command: &str,
) -> Result<(), String> {
    let pid_file = ctx.layout.pid_file(app, instance);
    let _ = std::fs::remove_file(&pid_file);
    if let Some(dir) = pid_file.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(ctx.layout.logs_dir(app))
        .map_err(|e| format!("cannot create the log directory: {e}"))?;
    let mut child = Command::new(&ctx.config.emulator_bin)
        .arg("--root")
        .arg(&ctx.layout.root)
        .args(["__supervise", app, instance, command])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", ctx.config.emulator_bin.display()))?;
    let end = Instant::now() + Duration::from_secs(3);
    while Instant::now() < end {
        if pid_file.exists() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "the supervisor of {app} {instance} exited early ({status})"
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Err(format!("the supervisor of {app} {instance} did not start"))
}

/// The hidden `__supervise <app> <instance> <command>` mode: a session
/// leader that runs `sh -c <command>` with the app's environment in its tree
/// and writes `<timestamp> <line>` to `logs/<instance>.log`.
pub(crate) fn supervise(ctx: &mut Ctx, args: &[String]) -> Code {
    let [app, instance, command] = args else {
        return 2;
    };
    let _ = nix::unistd::setsid();
    let me = std::process::id();
    let mut env = app_env(ctx, app);
    if !env.iter().any(|(k, _)| k == "PORT") {
        env.push(("PORT".into(), free_port().to_string()));
    }
    env.push(("DYNO".into(), instance.clone()));
    let log_path = ctx.layout.logs_dir(app).join(format!("{instance}.log"));
    let Ok(mut log) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
    else {
        return 1;
    };
    let Ok((reader, writer)) = std::io::pipe() else {
        return 1;
    };
    let Ok(writer2) = writer.try_clone() else {
        return 1;
    };
    let mut cmd = container::app_command(ctx, app, "/bin/sh");
    cmd.arg("-c")
        .arg(command)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(writer2);
    let pid_file = ctx.layout.pid_file(app, instance);
    if std::fs::write(&pid_file, format!("{me}\n")).is_err() {
        return 1;
    }
    let child = cmd.spawn();
    drop(cmd);
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            let _ = log.write_all(format!("{} failed to start: {e}\n", timestamp()).as_bytes());
            let _ = std::fs::remove_file(&pid_file);
            return 1;
        }
    };
    for line in BufReader::new(reader).split(b'\n').map_while(Result::ok) {
        let mut rec = format!("{} ", timestamp()).into_bytes();
        rec.extend_from_slice(&line);
        rec.push(b'\n');
        let _ = log.write_all(&rec);
    }
    let _ = child.wait();
    if std::fs::read_to_string(&pid_file).is_ok_and(|t| t.trim() == me.to_string()) {
        let _ = std::fs::remove_file(&pid_file);
    }
    0
}

/// RFC 3339 UTC with 9-digit nanoseconds (Docker's `logs -t`).
pub(crate) fn timestamp() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond()
    )
}

/// `--all` and `--parallel` of `ps:<verb>` (pflag usage texts of 0.38.27).
fn all_parallel(verb: &str) -> [GoFlag; 2] {
    let (all, parallel) = match verb {
        "rebuild" => (
            "--all: rebuild all apps",
            "--parallel: number of apps to rebuild in parallel, -1 to match cpu count",
        ),
        "restart" => (
            "--all: restart all apps",
            "--parallel: number of apps to restart in parallel, -1 to match cpu count",
        ),
        "start" => (
            "--all: start all apps",
            "--parallel: number of apps to start in parallel, -1 to match cpu count",
        ),
        _ => (
            "--all: stop all apps",
            "--parallel: number of apps to stop in parallel, -1 to match cpu count",
        ),
    };
    [
        GoFlag {
            name: "all",
            value: None,
            usage: all,
        },
        GoFlag {
            name: "parallel",
            value: Some("int"),
            usage: parallel,
        },
    ]
}

/// Apps a `ps:*` command applies to (`--all` or one app).
fn targets(ctx: &mut Ctx, cmd: &str, args: &[String]) -> Result<Vec<String>, Code> {
    let (all, pos) = if ctx.profile == Profile::V0_19 {
        (
            args.iter().any(|a| a == "--all"),
            args.iter()
                .filter(|a| !a.starts_with("--"))
                .cloned()
                .collect::<Vec<_>>(),
        )
    } else {
        let verb = cmd.trim_start_matches("ps:");
        let g = go_parse(ctx, cmd, args, &all_parallel(verb))?;
        (g.has("all"), g.positional)
    };
    if all {
        return state::list_apps(&ctx.layout)
            .map_err(|e| ctx.fail(&format!("cannot list apps: {e}")));
    }
    match pos.first() {
        Some(a) => {
            ctx.load_app(a)?;
            Ok(vec![a.clone()])
        }
        None => Err(ctx.fail("Please specify an app to run the command on")),
    }
}

pub(crate) fn stop(ctx: &mut Ctx, args: &[String]) -> Code {
    let apps = match targets(ctx, "ps:stop", args) {
        Ok(a) => a,
        Err(c) => return c,
    };
    for app in apps {
        if deployed_or_warn(ctx, &app).is_none() {
            continue;
        }
        ctx.info1_quiet(&format!("Stopping {app}"));
        stop_all(ctx, &app);
    }
    0
}

pub(crate) fn start(ctx: &mut Ctx, args: &[String]) -> Code {
    let apps = match targets(ctx, "ps:start", args) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let mut code = 0;
    for app in apps {
        let Some(st) = deployed_or_warn(ctx, &app) else {
            continue;
        };
        match running_summary(ctx, &app, &st) {
            "true" => {
                ctx.warn(&format!("App {app} already running"));
                proxy_lines(ctx, &app, &st);
            }
            summary => {
                if summary == "mixed" {
                    ctx.warn("App is running in mixed mode, releasing");
                } else {
                    ctx.warn("App has been detected as not running, releasing");
                }
                code = release_and_deploy(ctx, &app, false);
                if code == 0 {
                    if let Ok(st) = ctx.load_app(&app) {
                        proxy_lines(ctx, &app, &st);
                    }
                }
            }
        }
    }
    code
}

/// The state of `app` when it is deployed; warns as Dokku does when it is
/// not (a missing app is skipped silently: `targets` checked the names).
fn deployed_or_warn(ctx: &mut Ctx, app: &str) -> Option<state::AppState> {
    match ctx.load_app(app) {
        Ok(st) if st.deployed => Some(st),
        Ok(_) => {
            ctx.warn(&format!("App {app} has not been deployed"));
            None
        }
        Err(_) => None,
    }
}

pub(crate) fn restart(ctx: &mut Ctx, args: &[String]) -> Code {
    if ctx.profile == Profile::V0_38 {
        ctx.io.capture = true;
    }
    let apps = match targets(ctx, "ps:restart", args) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let mut code = 0;
    for app in apps {
        if deployed_or_warn(ctx, &app).is_none() {
            continue;
        }
        code = deploy_body(ctx, &app, false);
    }
    code
}

pub(crate) fn rebuild(ctx: &mut Ctx, args: &[String]) -> Code {
    if ctx.profile == Profile::V0_38 {
        ctx.io.capture = true;
    }
    let apps = match targets(ctx, "ps:rebuild", args) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let mut code = 0;
    for app in apps {
        // 0.19's bash rebuild checks the app is deployed; the Go plugin's
        // `Rebuild` calls `receive-app` straight away.
        if ctx.profile == Profile::V0_19 && deployed_or_warn(ctx, &app).is_none() {
            continue;
        }
        let _lock = match super::git::acquire_deploy_lock(ctx, &app) {
            Ok(l) => l,
            Err(c) => {
                if ctx.profile != Profile::V0_19 {
                    // the Go ps plugin prints the trigger's captured stderr again
                    ctx.io.err(&format!(
                        " !      !     {app} currently has a deploy lock in place. Exiting...\n !     Run 'apps:unlock' to release the existing deploy lock\n\n"
                    ));
                }
                return c;
            }
        };
        code = if ctx.profile == Profile::V0_19 {
            release_and_deploy(ctx, &app, true)
        } else {
            super::events::log_trigger(ctx, "receive-app", &[&app]);
            super::git::receive_app(ctx, &app)
        };
        super::git::release_deploy_lock(ctx, &app);
    }
    code
}

pub(crate) fn scale(ctx: &mut Ctx, args: &[String]) -> Code {
    let spec = [
        GoFlag {
            name: "format",
            value: Some("string"),
            usage: "format: [ stdout | json ] (default \"stdout\")",
        },
        GoFlag {
            name: "skip-deploy",
            value: None,
            usage: "--skip-deploy: skip deploy of the app",
        },
    ];
    let g = if ctx.profile == Profile::V0_19 {
        let mut g = super::GoArgs::default();
        for a in args {
            if a == "--skip-deploy" {
                g.flags.insert("skip-deploy".into(), "true".into());
            } else {
                g.positional.push(a.clone());
            }
        }
        g
    } else {
        // `--format` arrived in 0.38.21
        let spec: &[GoFlag] = if ctx.profile == Profile::V0_38 {
            &spec
        } else {
            &spec[1..]
        };
        match go_parse(ctx, "ps:scale", args, spec) {
            Ok(g) => g,
            Err(c) => return c,
        }
    };
    let Some(app) = g.positional.first().cloned() else {
        return ctx.fail("Please specify an app to run the command on");
    };
    let mut st = match ctx.load_app(&app) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let pairs = &g.positional[1..];
    if pairs.is_empty() {
        let f = formation(&st);
        if g.get("format") == Some("json") {
            let list: Vec<serde_json::Value> = f
                .iter()
                .map(|(k, v)| serde_json::json!({"process_type": k, "quantity": v}))
                .collect();
            ctx.io.out(&format!("{}\n", serde_json::Value::from(list)));
            return 0;
        }
        ctx.info1_quiet(&format!("Scaling for {app}"));
        ctx.log_quiet("proctype: qty");
        ctx.log_quiet("--------: ---");
        for (k, v) in &f {
            ctx.io.out(&render::scale_row(k, *v));
        }
        return 0;
    }
    if app_json_has_formation(ctx, &app) {
        return ctx.fail(&format!(
            "App {app} contains an app.json file with a formations key and cannot be manually scaled"
        ));
    }
    let mut parsed: Vec<(String, u32)> = Vec::new();
    for p in pairs {
        let Some((k, v)) = p.split_once('=') else {
            return ctx.fail(&format!("Missing count for process type {p}"));
        };
        let Ok(n) = v.trim().parse::<u32>() else {
            return ctx.fail(&format!("Invalid count for process type {k}"));
        };
        let k = k.trim().to_owned();
        if !st.procfile.is_empty() && !st.procfile.contains_key(&k) && n != 0 {
            return ctx.fail(&format!("{k} is not a valid process name to scale up"));
        }
        if !parsed.iter().any(|(seen, _)| *seen == k) {
            parsed.push((k, n));
        }
    }
    ctx.info1(&format!("Scaling {app} processes: {}", pairs.join(" ")));
    for (k, n) in parsed {
        st.formation.insert(k, n);
    }
    if let Err(c) = ctx.save_app(&app, &st) {
        return c;
    }
    if st.deployed && !g.has("skip-deploy") {
        return release_and_deploy(ctx, &app, false);
    }
    0
}

fn app_json_has_formation(ctx: &Ctx, app: &str) -> bool {
    std::fs::read(ctx.layout.tree_dir(app).join("app.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|v| v.get("formation").is_some())
}

/// Runs an interactive child (`run`, `postgres:connect`) the way a shell
/// runs a foreground job: on a terminal, in its own process group made the
/// terminal's foreground group, so Ctrl-C stops what the child runs (psql
/// cancels its query, a shell its command) and not the emulator standing for
/// Dokku, which would end the session (as `docker exec -it` passes it into
/// the container on a real host). Without a terminal, a plain wait.
pub(crate) fn run_foreground(cmd: &mut Command) -> std::io::Result<Code> {
    use nix::sys::signal::{sigprocmask, SigSet, SigmaskHow};
    use nix::unistd::{getpgrp, tcsetpgrp, Pid};
    use std::os::unix::process::CommandExt;
    let stdin = std::io::stdin();
    let tty = std::io::IsTerminal::is_terminal(&stdin);
    if !tty {
        return Ok(exit_code(cmd.status()));
    }
    cmd.process_group(0);
    let mut child = cmd.spawn()?;
    // A background group may change the foreground group while SIGTTOU is
    // blocked (POSIX: then no signal is sent).
    let mut set = SigSet::empty();
    set.add(Signal::SIGTTOU);
    let mut old = SigSet::empty();
    let _ = sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), Some(&mut old));
    let child_group = Pid::from_raw(i32::try_from(child.id()).unwrap_or(0));
    let _ = tcsetpgrp(&stdin, child_group);
    let status = child.wait();
    let _ = tcsetpgrp(&stdin, getpgrp());
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
    Ok(exit_code(status))
}

/// Exit code of a finished child (128 + signal when killed).
pub(crate) fn exit_code(status: std::io::Result<std::process::ExitStatus>) -> Code {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(s) => s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0)),
        Err(_) => 1,
    }
}

/// `ps:set [--global] <app> <property> [<value>]` (`ps.CommandSet`): a
/// restart policy must be `no`, `always`, `unless-stopped`, `on-failure` or
/// `on-failure:N`.
pub(crate) fn set(ctx: &mut Ctx, args: &[String]) -> Code {
    let spec = [super::GoFlag {
        name: "global",
        value: None,
        usage: "--global: set a global property",
    }];
    let g = match super::go_parse(ctx, "ps:set", args, &spec) {
        Ok(g) => g,
        Err(c) => return c,
    };
    let arg = |i: usize| g.positional.get(i).cloned().unwrap_or_default();
    let (app, property, value) = if g.has("global") {
        ("--global".to_string(), arg(0), arg(1))
    } else {
        (arg(0), arg(1), arg(2))
    };
    if property == "restart-policy" && !value.is_empty() && !valid_restart_policy(&value) {
        return ctx.fail("Invalid restart-policy specified");
    }
    super::properties::command_property_set(
        ctx,
        "ps",
        &app,
        &property,
        &value,
        PS_PROPERTIES,
        PS_GLOBAL_PROPERTIES,
    )
}

/// `ps.DefaultProperties`' keys.
pub(crate) const PS_PROPERTIES: &[&str] = &[
    "dockerfile-start-cmd",
    "procfile-path",
    "restart-policy",
    "restore",
    "skip-deploy",
    "start-cmd",
    "stop-timeout-seconds",
];

/// `ps.GlobalProperties`.
pub(crate) const PS_GLOBAL_PROPERTIES: &[&str] = &[
    "procfile-path",
    "restart-policy",
    "skip-deploy",
    "stop-timeout-seconds",
];

/// `isValidRestartPolicy`.
pub(crate) fn valid_restart_policy(policy: &str) -> bool {
    matches!(policy, "no" | "always" | "unless-stopped" | "on-failure")
        || policy.starts_with("on-failure:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn procfile_and_formation() {
        let p = parse_procfile("# c\nweb: node server.js\nworker:  run --x=1:2\n\nbad line\n");
        assert_eq!(p.get("web").map(String::as_str), Some("node server.js"));
        assert_eq!(p.get("worker").map(String::as_str), Some("run --x=1:2"));
        assert_eq!(p.len(), 2);
        let mut st = state::AppState {
            procfile: p,
            ..Default::default()
        };
        assert_eq!(
            formation(&st).into_iter().collect::<Vec<_>>(),
            vec![("web".into(), 1), ("worker".into(), 0)]
        );
        st.formation.insert("worker".into(), 2);
        assert_eq!(formation(&st).get("worker"), Some(&2));
    }
}
