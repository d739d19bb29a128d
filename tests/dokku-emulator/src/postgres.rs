//! `postgres:*` (dokku-postgres): real roles and databases in the sandbox's
//! cluster; output per the profile's plugin version.

use std::io::{BufRead, IsTerminal, Read};
use std::process::{Command, Stdio};

use super::config::{self, Target};
use super::{random_hex, render, state, Code, Ctx, ProfileExt};
use crate::contract::Profile;

const COLOURS: [&str; 16] = [
    "AQUA", "BLACK", "BLUE", "FUCHSIA", "GRAY", "GREEN", "LIME", "MAROON", "NAVY", "OLIVE",
    "PURPLE", "RED", "SILVER", "TEAL", "WHITE", "YELLOW",
];

/// The database name for a service: `.` and `-` become `_`.
pub(crate) fn database_name(svc: &str) -> String {
    svc.replace(['.', '-'], "_")
}

/// The service's role: the database name, with a `dokku_` prefix when
/// PostgreSQL reserves the name (`pg_*`).
pub(crate) fn role_name(db: &str) -> String {
    if db.starts_with("pg_") {
        format!("dokku_{db}")
    } else {
        db.to_owned()
    }
}

/// Service names: `[A-Za-z0-9_-]+`.
fn valid_service_name(svc: &str) -> bool {
    !svc.is_empty()
        && svc
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn load(ctx: &mut Ctx, svc: Option<&String>) -> Result<(String, state::ServiceState), Code> {
    let Some(svc) = svc else {
        return Err(ctx.fail("Please specify a valid name for the service"));
    };
    let path = ctx.layout.service_file(svc);
    if !path.exists() {
        return Err(ctx.fail(&format!("Postgres service {svc} does not exist")));
    }
    match state::read_json(&path) {
        Ok(s) => Ok((svc.clone(), s)),
        Err(e) => Err(ctx.fail(&e.to_string())),
    }
}

fn save(ctx: &mut Ctx, svc: &str, s: &state::ServiceState) -> Result<(), Code> {
    state::write_json(&ctx.layout.service_file(svc), s)
        .map_err(|e| ctx.fail(&format!("cannot save service {svc}: {e}")))
}

pub(crate) fn dispatch(ctx: &mut Ctx, sub: &str, args: &[String]) -> Code {
    match sub {
        "create" => create(ctx, args),
        "info" => info(ctx, args),
        "list" => list(ctx),
        "exists" => match load(ctx, args.first()) {
            Ok((svc, _)) => {
                ctx.info1(&format!("Service {svc} exists"));
                0
            }
            Err(c) => c,
        },
        "link" => link(ctx, args),
        "unlink" => unlink(ctx, args),
        "linked" => linked(ctx, args),
        "links" => match load(ctx, args.first()) {
            Ok((_, s)) => {
                for a in &s.links {
                    ctx.io.out(&format!("{a}\n"));
                }
                0
            }
            Err(c) => c,
        },
        "destroy" => destroy(ctx, args),
        "export" => export(ctx, args),
        "import" => import(ctx, args),
        "connect" => connect(ctx, args),
        "logs" => logs(ctx, args),
        "backup-schedule" => backup_schedule(ctx, args),
        "backup-schedule-cat" => match load(ctx, args.first()) {
            Ok((svc, _)) => {
                match std::fs::read_to_string(ctx.layout.service_dir(&svc).join("backup-schedule"))
                {
                    Ok(line) => {
                        ctx.io.out(&line);
                        0
                    }
                    Err(_) => ctx.fail(&format!("There is no scheduled backup for {svc}.")),
                }
            }
            Err(c) => c,
        },
        "backup-unschedule" => match load(ctx, args.first()) {
            Ok((svc, _)) => {
                ctx.info2(&format!("Removing scheduled backup for {svc}"));
                let _ = std::fs::remove_file(ctx.layout.service_dir(&svc).join("backup-schedule"));
                0
            }
            Err(c) => c,
        },
        _ => {
            let mut all = vec![format!("postgres:{sub}")];
            all.extend(args.iter().cloned());
            ctx.warn(&format!("`{}` is not a dokku command.", all.join(" ")));
            ctx.warn("See `dokku help` for a list of available commands.");
            1
        }
    }
}

/// `(flag, label, value)` info rows in the plugin's fixed order.
fn info_rows(ctx: &Ctx, svc: &str, s: &state::ServiceState) -> Vec<(String, String, String)> {
    let root = format!("/var/lib/dokku/services/postgres/{svc}");
    let links = if s.links.is_empty() {
        "-".to_owned()
    } else {
        format!("{} ", s.links.join(" "))
    };
    let exposed = if s.exposed_ports.is_empty() {
        "-".to_owned()
    } else {
        format!("{} ", s.exposed_ports)
    };
    let r = |f: &str, l: &str, v: String| (f.to_owned(), l.to_owned(), v);
    if ctx.profile == Profile::V0_19 {
        return vec![
            r("--config-dir", "Config dir:", format!("{root}/config")),
            r("--data-dir", "Data dir:", format!("{root}/data")),
            r("--dsn", "Dsn:", s.dsn("postgres")),
            r("--exposed-ports", "Exposed ports:", exposed),
            r("--id", "Id:", s.id.clone()),
            r("--internal-ip", "Internal ip:", s.internal_ip.clone()),
            r("--links", "Links:", links),
            r("--service-root", "Service root:", root.clone()),
            r("--status", "Status:", s.status.clone()),
            r("--version", "Version:", s.version.clone()),
        ];
    }
    vec![
        r("--config-dir", "Config dir:", format!("{root}/data")),
        r(
            "--config-options",
            "Config options:",
            s.config_options.clone(),
        ),
        r("--data-dir", "Data dir:", format!("{root}/data")),
        r("--dsn", "Dsn:", s.dsn("postgres")),
        r("--exposed-ports", "Exposed ports:", exposed),
        r("--id", "Id:", s.id.clone()),
        r("--internal-ip", "Internal ip:", s.internal_ip.clone()),
        r(
            "--initial-network",
            "Initial network:",
            s.initial_network.clone(),
        ),
        r("--links", "Links:", links),
        r(
            "--post-create-network",
            "Post create network:",
            s.post_create_network.clone(),
        ),
        r(
            "--post-start-network",
            "Post start network:",
            s.post_start_network.clone(),
        ),
        r("--service-root", "Service root:", root),
        r("--status", "Status:", s.status.clone()),
        r("--version", "Version:", s.version.clone()),
    ]
}

fn info_block(ctx: &Ctx, svc: &str, s: &state::ServiceState) -> String {
    let mut out = String::new();
    if ctx.profile == Profile::V0_19 {
        out.push_str("=====> Container Information\n");
    } else if !ctx.quiet {
        out.push_str(&format!("=====> {svc} postgres service information\n"));
    }
    for (_, l, v) in info_rows(ctx, svc, s) {
        out.push_str(&render::service_row(&l, &v));
    }
    out
}

fn info(ctx: &mut Ctx, args: &[String]) -> Code {
    let (svc, s) = match load(ctx, args.first()) {
        Ok(x) => x,
        Err(c) => return c,
    };
    match args.get(1) {
        None => {
            let text = info_block(ctx, &svc, &s);
            ctx.io.out(&text);
            0
        }
        Some(flag) => {
            let rows = info_rows(ctx, &svc, &s);
            match rows.iter().find(|(f, _, _)| f == flag) {
                Some((_, _, v)) => {
                    ctx.io.out(&format!("{v}\n"));
                    0
                }
                None => {
                    let flags: Vec<&str> = rows.iter().map(|(f, _, _)| f.as_str()).collect();
                    ctx.fail(&format!(
                        "Invalid flag passed, valid flags: {}",
                        flags.join(" ")
                    ))
                }
            }
        }
    }
}

fn list(ctx: &mut Ctx) -> Code {
    let names = match state::list_services(&ctx.layout) {
        Ok(n) => n,
        Err(e) => return ctx.fail(&format!("cannot list services: {e}")),
    };
    if names.is_empty() {
        ctx.warn("There are no Postgres services");
        return 0;
    }
    if ctx.profile == Profile::V0_19 {
        // dokku-postgres < 1.10.0: `column -t -s,` table
        let mut rows = Vec::new();
        if !ctx.quiet {
            rows.push(vec![
                "NAME".to_owned(),
                "VERSION".to_owned(),
                "STATUS".to_owned(),
                "EXPOSED PORTS".to_owned(),
                "LINKS".to_owned(),
            ]);
        }
        for n in &names {
            let s: state::ServiceState =
                state::read_json(&ctx.layout.service_file(n)).unwrap_or_default();
            let exposed = if s.exposed_ports.is_empty() {
                "-".into()
            } else {
                format!("{} ", s.exposed_ports)
            };
            let links = if s.links.is_empty() {
                "-".into()
            } else {
                format!("{} ", s.links.join(" "))
            };
            rows.push(vec![
                n.clone(),
                s.version.clone(),
                s.status.clone(),
                exposed,
                links,
            ]);
        }
        let widths: Vec<usize> = (0..5)
            .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
            .collect();
        for r in rows {
            let mut line = String::new();
            for (i, cell) in r.iter().enumerate() {
                if i == 4 {
                    line.push_str(cell);
                } else {
                    line.push_str(&render::pad_chars(cell, widths[i]));
                    line.push_str("  ");
                }
            }
            ctx.io.out(&format!("{line}\n"));
        }
        return 0;
    }
    ctx.info2_quiet("Postgres services");
    for n in names {
        ctx.io.out(&format!("{n}\n"));
    }
    0
}

/// Runs `psql` as the superuser against the `postgres` database.
fn admin_sql(ctx: &Ctx, statements: &[String]) -> Result<(), String> {
    let pg = &ctx.config.postgres;
    let mut cmd = Command::new(pg.bin_dir.join("psql"));
    cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h"])
        .arg(&pg.host)
        .arg("-p")
        .arg(pg.port.to_string())
        .arg("-U")
        .arg(&pg.superuser)
        .args(["-d", "postgres"])
        .env("PGPASSWORD", &pg.password)
        .stdin(Stdio::null());
    for s in statements {
        cmd.arg("-c").arg(s);
    }
    let out = cmd.output().map_err(|e| format!("cannot run psql: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// SQL to create the service's role and database.
pub(crate) fn create_sql(role: &str, password: &str, db: &str) -> Vec<String> {
    vec![
        format!(
            "CREATE ROLE \"{role}\" LOGIN PASSWORD '{}'",
            password.replace('\'', "''")
        ),
        format!("CREATE DATABASE \"{db}\" OWNER \"{role}\""),
    ]
}

/// SQL to drop the service's database and role.
pub(crate) fn drop_sql(role: &str, db: &str) -> Vec<String> {
    vec![
        format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
        format!("DROP ROLE IF EXISTS \"{role}\""),
    ]
}

fn create(ctx: &mut Ctx, args: &[String]) -> Code {
    let mut svc = None;
    let mut password = None;
    let mut image = None;
    let mut image_version = None;
    let mut config_options = String::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        let takes = matches!(
            a,
            "-i" | "--image"
                | "-I"
                | "--image-version"
                | "-p"
                | "--password"
                | "-r"
                | "--root-password"
                | "-m"
                | "--memory"
                | "-s"
                | "--shm-size"
                | "-c"
                | "--config-options"
                | "-C"
                | "--custom-env"
                | "-N"
                | "--initial-network"
                | "-P"
                | "--post-create-network"
                | "-S"
                | "--post-start-network"
        );
        if takes {
            let v = args.get(i + 1).cloned().unwrap_or_default();
            match a {
                "-i" | "--image" => image = Some(v),
                "-I" | "--image-version" => image_version = Some(v),
                "-p" | "--password" => password = Some(v),
                "-c" | "--config-options" => config_options = v,
                _ => {}
            }
            i += 2;
            continue;
        }
        if svc.is_none() {
            svc = Some(a.to_owned());
        }
        i += 1;
    }
    let Some(svc) = svc.filter(|s| valid_service_name(s)) else {
        return ctx.fail(
            "Please specify a valid name for the service. Valid characters are: [A-Za-z0-9_]+",
        );
    };
    if ctx.layout.service_file(&svc).exists() {
        return ctx.fail(&format!("Postgres service {svc} already exists"));
    }
    let default_image = ctx.profile.postgres_image();
    let (def_name, def_tag) = default_image
        .split_once(':')
        .unwrap_or((default_image, "latest"));
    let version = format!(
        "{}:{}",
        image.as_deref().unwrap_or(def_name),
        image_version.as_deref().unwrap_or(def_tag)
    );
    if password.is_some() {
        ctx.warn("Specified password may not be as secure as the auto-generated password");
    }
    let db = database_name(&svc);
    let role = role_name(&db);
    let password = password.unwrap_or_else(|| random_hex(16));
    let existing = state::list_services(&ctx.layout)
        .map(|v| v.len())
        .unwrap_or(0);
    let s = state::ServiceState {
        user: role.clone(),
        password: password.clone(),
        host: ctx.config.postgres.host.clone(),
        port: ctx.config.postgres.port,
        database: db.clone(),
        id: random_hex(32),
        internal_ip: format!("172.17.0.{}", 2 + existing % 250),
        version,
        config_options,
        status: "running".into(),
        real: true,
        ..Default::default()
    };
    if !ctx.quiet {
        ctx.verbose("Waiting for container to be ready");
    }
    if let Err(e) = admin_sql(ctx, &create_sql(&role, &password, &db)) {
        return ctx.fail(&format!("Unable to create the service's database: {e}"));
    }
    if !ctx.quiet {
        ctx.verbose("Creating container database");
    }
    if !ctx.quiet {
        ctx.verbose("Securing connection to database");
    }
    if let Err(c) = save(ctx, &svc, &s) {
        let _ = admin_sql(ctx, &drop_sql(&role, &db));
        return c;
    }
    ctx.info2(&format!("Postgres container created: {svc}"));
    let text = info_block(ctx, &svc, &s);
    ctx.io.out(&text);
    0
}

/// `postgres:link <svc> <app> [-a|--alias A] [-q|--querystring Q] [-n|--no-restart]`
fn link(ctx: &mut Ctx, args: &[String]) -> Code {
    let mut pos = Vec::new();
    let mut alias = None;
    let mut query = None;
    let mut no_restart = ctx.flags.has("--no-restart");
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-a" | "--alias" => {
                alias = args.get(i + 1).cloned();
                i += 1;
            }
            "-q" | "--querystring" => {
                query = args.get(i + 1).cloned();
                i += 1;
            }
            "-n" | "--no-restart" => no_restart = true,
            a => pos.push(a.to_owned()),
        }
        i += 1;
    }
    let (svc, mut s) = match load(ctx, pos.first()) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let Some(app) = pos.get(1).cloned().or_else(|| ctx.flags.app.clone()) else {
        return ctx.fail("Please specify an app to run the command on");
    };
    if let Err(c) = ctx.load_app(&app) {
        return c;
    }
    let vars = match config::read_env(ctx, &Target::App(app.clone())) {
        Ok(v) => v,
        Err(e) => return ctx.fail(&e.to_string()),
    };
    let url = s.dsn(&scheme_for(&vars));
    let text = config_text(&vars);
    let var_base = match alias {
        Some(a) => {
            let up = a.to_uppercase();
            let base = up.strip_suffix("_URL").unwrap_or(&up).to_owned();
            if text.contains(&format!("{base}_URL")) {
                return ctx.fail(&format!("Specified alias {base} already in use"));
            }
            base
        }
        None if text.contains("DATABASE_URL") => {
            match COLOURS
                .iter()
                .map(|c| format!("DOKKU_POSTGRES_{c}"))
                .find(|n| !text.contains(&format!("{n}_URL")))
            {
                Some(n) => n,
                None => return ctx.fail("Unable to use default or generated URL alias"),
            }
        }
        None => "DATABASE".to_owned(),
    };
    let existing = keys_holding(&vars, &url);
    if !existing.is_empty() {
        return ctx.fail(&format!("Already linked as {}", existing.join("\n")));
    }
    let value = match query {
        Some(q) => format!("{url}?{q}"),
        None => url,
    };
    if !s.links.contains(&app) {
        s.links.push(app.clone());
        s.links.sort();
    }
    if let Err(c) = save(ctx, &svc, &s) {
        return c;
    }
    let code = config::set_vars(
        ctx,
        &Target::App(app),
        &[(format!("{var_base}_URL"), value)],
        no_restart,
    );
    if code == 0 && no_restart {
        ctx.verbose("Skipping restart of linked app");
    }
    code
}

/// `POSTGRES_DATABASE_SCHEME` of the app, else `postgres`.
fn scheme_for(vars: &std::collections::BTreeMap<String, String>) -> String {
    vars.get("POSTGRES_DATABASE_SCHEME")
        .cloned()
        .unwrap_or_else(|| "postgres".into())
}

/// The text the plugin greps (`KEY:  value` lines).
fn config_text(vars: &std::collections::BTreeMap<String, String>) -> String {
    vars.iter().map(|(k, v)| format!("{k}:  {v}\n")).collect()
}

/// Keys whose config line contains `url` (`grep URL | cut -d: -f1`).
fn keys_holding(vars: &std::collections::BTreeMap<String, String>, url: &str) -> Vec<String> {
    vars.iter()
        .filter(|(k, v)| format!("{k}:  {v}").contains(url))
        .map(|(k, _)| k.clone())
        .collect()
}

fn unlink(ctx: &mut Ctx, args: &[String]) -> Code {
    let pos: Vec<String> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .cloned()
        .collect();
    let no_restart = ctx.flags.has("--no-restart") || args.iter().any(|a| a == "-n");
    let (svc, mut s) = match load(ctx, pos.first()) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let Some(app) = pos.get(1).cloned().or_else(|| ctx.flags.app.clone()) else {
        return ctx.fail("Please specify an app to run the command on");
    };
    if let Err(c) = ctx.load_app(&app) {
        return c;
    }
    let vars = config::read_env(ctx, &Target::App(app.clone())).unwrap_or_default();
    let keys = keys_holding(&vars, &s.dsn(&scheme_for(&vars)));
    s.links.retain(|a| a != &app);
    if let Err(c) = save(ctx, &svc, &s) {
        return c;
    }
    if keys.is_empty() {
        return ctx.fail(&format!("Not linked to app {app}"));
    }
    let code = config::unset_vars(ctx, &Target::App(app), &keys, no_restart);
    if code == 0 && no_restart {
        ctx.verbose("Skipping restart of linked app");
    }
    code
}

/// The pre-delete hook of `apps:destroy`: `Unlinking from <svc>` per service.
pub(crate) fn unlink_all_for_app(ctx: &mut Ctx, app: &str) {
    let Ok(names) = state::list_services(&ctx.layout) else {
        return;
    };
    for svc in names {
        if !ctx.quiet {
            ctx.verbose(&format!("Unlinking from {svc}"));
        }
        let path = ctx.layout.service_file(&svc);
        if let Ok(mut s) = state::read_json::<state::ServiceState>(&path) {
            if s.links.iter().any(|a| a == app) {
                s.links.retain(|a| a != app);
                let _ = state::write_json(&path, &s);
            }
        }
    }
}

fn linked(ctx: &mut Ctx, args: &[String]) -> Code {
    let (svc, s) = match load(ctx, args.first()) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let app = args.get(1).cloned().unwrap_or_default();
    if let Err(c) = ctx.load_app(&app) {
        return c;
    }
    if s.links.contains(&app) {
        ctx.info1(&format!("Service {svc} is linked to {app}"));
        0
    } else {
        ctx.fail(&format!("Service {svc} is not linked to {app}"))
    }
}

fn destroy(ctx: &mut Ctx, args: &[String]) -> Code {
    let force = ctx.flags.force
        || args
            .iter()
            .skip(1)
            .any(|a| a == "-f" || a == "--force" || a == "force");
    let (svc, s) = match load(ctx, args.first()) {
        Ok(x) => x,
        Err(c) => return c,
    };
    if !s.links.is_empty() {
        return ctx.fail("Cannot delete linked service");
    }
    if !force {
        ctx.warn("WARNING: Potentially Destructive Action");
        ctx.warn(&format!(
            "This command will destroy {svc} Postgres service."
        ));
        ctx.warn(&format!("To proceed, type \"{svc}\""));
        ctx.io.out("\n");
        if std::io::stdin().is_terminal() {
            ctx.io.err("> ");
        }
        let mut line = String::new();
        match std::io::stdin().lock().read_line(&mut line) {
            Ok(n) if n > 0 && line.ends_with('\n') => {}
            _ => return 1, // bash `read` fails at EOF under `set -e`
        }
        if line.trim_end_matches('\n') != svc {
            return ctx.fail(&format!("Confirmation did not match {svc}. Aborted."));
        }
    }
    ctx.info2(&format!("Deleting {svc}"));
    ctx.info2("Pausing container");
    ctx.verbose("Container paused");
    ctx.verbose("Removing container");
    ctx.verbose("Removing data");
    if s.real {
        if let Err(e) = admin_sql(ctx, &drop_sql(&s.user, &s.database)) {
            return ctx.fail(&format!("Unable to remove the service's database: {e}"));
        }
    }
    if let Err(e) = std::fs::remove_dir_all(ctx.layout.service_dir(&svc)) {
        return ctx.fail(&format!("cannot remove service {svc}: {e}"));
    }
    ctx.info2(&format!("Postgres container deleted: {svc}"));
    0
}

fn client_tool(ctx: &Ctx, tool: &str, s: &state::ServiceState) -> Command {
    let mut cmd = Command::new(ctx.config.postgres.bin_dir.join(tool));
    cmd.arg("-h")
        .arg(&s.host)
        .arg("-p")
        .arg(s.port.to_string())
        .arg("-U")
        .arg(&s.user)
        .env("PGPASSWORD", &s.password);
    cmd
}

fn require_real(ctx: &mut Ctx, svc: &str, s: &state::ServiceState) -> Result<(), Code> {
    if s.real {
        Ok(())
    } else {
        Err(ctx.fail(&format!(
            "Postgres service {svc} has no database in the sandbox cluster (seeded state only); create it with postgres:create"
        )))
    }
}

/// [`load`], for the commands that need the service's real database.
fn load_real(ctx: &mut Ctx, svc: Option<&String>) -> Result<(String, state::ServiceState), Code> {
    let (svc, s) = load(ctx, svc)?;
    require_real(ctx, &svc, &s)?;
    Ok((svc, s))
}

fn export(ctx: &mut Ctx, args: &[String]) -> Code {
    let (_svc, s) = match load_real(ctx, args.first()) {
        Ok(x) => x,
        Err(c) => return c,
    };
    if std::env::var_os("SSH_TTY").is_some() && std::io::stdout().is_terminal() {
        // as the plugin's `stty -opost`: keep the pty from rewriting the dump
        use nix::sys::termios::{tcgetattr, tcsetattr, OutputFlags, SetArg};
        let stdout = std::io::stdout();
        if let Ok(mut t) = tcgetattr(&stdout) {
            t.output_flags.remove(OutputFlags::OPOST);
            let _ = tcsetattr(&stdout, SetArg::TCSANOW, &t);
        }
    }
    let mut child = match client_tool(ctx, "pg_dump", &s)
        .args(["-Fc", "--no-acl", "--no-owner", "-w", "-d"])
        .arg(&s.database)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return ctx.fail(&format!("cannot run pg_dump: {e}")),
    };
    if let Some(mut out) = child.stdout.take() {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match out.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => ctx.io.out_bytes(&buf[..n]),
            }
        }
    }
    super::ps::exit_code(child.wait())
}

fn import(ctx: &mut Ctx, args: &[String]) -> Code {
    let (_svc, s) = match load_real(ctx, args.first()) {
        Ok(x) => x,
        Err(c) => return c,
    };
    if std::io::stdin().is_terminal() {
        return ctx.fail("No data provided on stdin.");
    }
    let status = client_tool(ctx, "pg_restore", &s)
        .args(["-cO", "--if-exists", "-w", "-d"])
        .arg(&s.database)
        .status();
    super::ps::exit_code(status)
}

fn connect(ctx: &mut Ctx, args: &[String]) -> Code {
    let (_svc, s) = match load_real(ctx, args.first()) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let mut psql = client_tool(ctx, "psql", &s);
    psql.args(["-X", "-v", "ON_ERROR_STOP=1", "-w"])
        .arg(&s.database);
    match super::ps::run_foreground(&mut psql) {
        Ok(code) => code,
        Err(e) => ctx.fail(&format!("cannot start psql: {e}")),
    }
}

/// `postgres:logs <svc> [-n N] [-t]`: the cluster's log lines about the
/// service's database (as far as the server lets the emulator read them).
fn logs(ctx: &mut Ctx, args: &[String]) -> Code {
    let (svc, _s) = match load_real(ctx, args.first()) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let pg = &ctx.config.postgres;
    let out = Command::new(pg.bin_dir.join("psql"))
        .args(["-X", "-At", "-h"])
        .arg(&pg.host)
        .arg("-p")
        .arg(pg.port.to_string())
        .arg("-U")
        .arg(&pg.superuser)
        .args(["-d", "postgres", "-c"])
        .arg(
            "SELECT current_setting('data_directory') || '|' || coalesce(pg_current_logfile(), '')",
        )
        .env("PGPASSWORD", &pg.password)
        .output();
    let answer = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        _ => String::new(),
    };
    // the collector's current file, else a `postgres.log` beside the data
    // directory (`pg_ctl -l`, as the sandbox starts its cluster)
    let (data_dir, current) = answer.split_once('|').unwrap_or((&answer, ""));
    let data_dir = std::path::Path::new(data_dir);
    let mut candidates = Vec::new();
    if !current.is_empty() {
        candidates.push(data_dir.join(current));
    }
    if let Some(parent) = data_dir.parent() {
        candidates.push(parent.join("postgres.log"));
    }
    match candidates
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .ok_or(())
    {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            for l in &lines[lines.len().saturating_sub(100)..] {
                ctx.io.out(&format!("{l}\n"));
            }
            0
        }
        Err(_) => {
            ctx.warn(&format!(
                "No logs available for {svc} (the cluster log is not readable here)"
            ));
            0
        }
    }
}

fn backup_schedule(ctx: &mut Ctx, args: &[String]) -> Code {
    let (svc, _) = match load(ctx, args.first()) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let (Some(cron), Some(bucket)) = (args.get(1), args.get(2)) else {
        return ctx.fail("Please specify a schedule and a bucket");
    };
    let iam = if args.iter().any(|a| a == "--use-iam" || a == "-u") {
        "--use-iam"
    } else {
        ""
    };
    let line = format!("{cron} dokku /usr/bin/dokku postgres:backup {svc} {bucket} {iam}\n");
    if let Err(e) = std::fs::write(ctx.layout.service_dir(&svc).join("backup-schedule"), line) {
        return ctx.fail(&format!("cannot write the schedule: {e}"));
    }
    ctx.info2(&format!("Scheduling backup for {svc}"));
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_sql() {
        assert_eq!(database_name("my-db.v2"), "my_db_v2");
        assert_eq!(role_name("pg_development"), "dokku_pg_development");
        assert_eq!(role_name("lollipop"), "lollipop");
        assert!(valid_service_name("a-b_c"));
        assert!(!valid_service_name("a.b"));
        assert_eq!(
            create_sql("lolli", "ab'c", "lolli"),
            vec![
                "CREATE ROLE \"lolli\" LOGIN PASSWORD 'ab''c'".to_owned(),
                "CREATE DATABASE \"lolli\" OWNER \"lolli\"".to_owned()
            ]
        );
        assert_eq!(
            drop_sql("r", "d")[0],
            "DROP DATABASE IF EXISTS \"d\" WITH (FORCE)"
        );
    }
}
