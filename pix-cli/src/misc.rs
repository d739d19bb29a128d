//! `pix run`, `pix logs`, `pix status`, `pix ssh-keys`, `pix storage`,
//! `pix dokku`.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dokku_client::logs::{logs_command, LogLine, LogsOptions};
use dokku_client::parse::report::typed_reports;
use dokku_client::run::{ContainerEntry, RunCommand, RunOptions};
use dokku_client::transport::LineSink;
use dokku_client::{
    AppReport, Client, Command, DomainsReport, PsReport, ReportFields, Request, Stdout,
};
use serde::Serialize;

use crate::apps::{done, ps_reports, split_app};
use crate::cli::{DokkuArgs, LogsArgs, RunArgs, RunEntry, SshKeysCmd, StorageCmd};
use crate::context::Ctx;
use crate::exit::Failure;

/// `pix run`.
pub async fn run(ctx: &Ctx, args: &RunArgs) -> Result<(), Failure> {
    let command = match &args.shell {
        Some(line) => RunCommand::shell(line.clone()),
        None => RunCommand::argv(args.command.iter().cloned()),
    };
    let mut options = RunOptions::default().entry(match args.entry {
        RunEntry::Herokuish => ContainerEntry::Herokuish,
        RunEntry::Direct => ContainerEntry::Direct,
    });
    for pair in &args.env {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(Failure::usage(format!(
                "`-e {}` needs KEY=VALUE, for example `-e DEBUG=1`",
                dokku_client::command::escape_control(pair)
            )));
        };
        options = options.env(key, value);
    }
    let (client, sel) = ctx.connect().await?;
    let app = sel.app_or(args.app.as_deref())?;
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let code = if interactive {
        client.run_interactive(&app, &command, &options).await?
    } else {
        let out = client.run_streaming(&app, &command, &options).await?;
        if out.exit_code != 0 && !client.apps_exists(&app).await? {
            return Err(dokku_client::Error::AppNotFound { app }.into());
        }
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(ctx.out.server_text_err(&out.stderr_text()).as_bytes());
        out.exit_code
    };
    // A non-zero exit may be the command's, or Dokku's for a missing app
    // (20, or 1 before 0.24): ask, so a missing app is said as such (the
    // captured stderr was checked above the same way).
    if interactive && code != 0 && !client.apps_exists(&app).await? {
        return Err(dokku_client::Error::AppNotFound { app }.into());
    }
    let _ = client.close().await;
    if code == 0 {
        Ok(())
    } else {
        Err(Failure::Exit(code))
    }
}

/// A log line as Dokku prints it (pure): `TIME app[PROCESS]: MESSAGE`.
pub fn log_line(line: &LogLine) -> String {
    match (&line.timestamp, &line.process) {
        (Some(t), Some(p)) => format!("{t} app[{p}]: {}", line.message),
        _ => line.message.clone(),
    }
}

/// A log line for the screen (pure): on a colour terminal Dokku's cyan
/// `TIME app[PROCESS]:` prefix, otherwise plain text; whatever the server
/// sent is neutralised by `server_text` (no raw escape reaches a terminal,
/// and none is written into a file or pipe).
pub fn render_log(out: &crate::output::Out, line: &LogLine) -> String {
    let plain = |s: &str| out.server_text(&strip_sgr_all(s));
    match (&line.timestamp, &line.process, out.color) {
        (Some(t), Some(p), true) => format!(
            "\u{1b}[36m{} app[{}]:\u{1b}[0m {}",
            plain(t),
            plain(p),
            plain(&line.message)
        ),
        _ => plain(&log_line(line)),
    }
}

/// Removes every ANSI SGR sequence (`ESC [ digits;... m`), the colours
/// Dokku puts in log lines.
pub fn strip_sgr_all(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("\u{1b}[") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let params = after
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(after.len());
        if after[params..].starts_with('m') {
            rest = &after[params + 1..];
        } else {
            out.push('\u{1b}');
            rest = &rest[i + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// `pix logs`.
pub async fn logs(ctx: &Ctx, args: &LogsArgs) -> Result<(), Failure> {
    let (client, sel) = ctx.connect().await?;
    let app = sel.app_or(args.app.app.as_deref())?;
    let options = LogsOptions {
        num: args.num,
        process: args.process.clone(),
        quiet: args.quiet,
        tail: args.follow,
    };
    if !args.follow {
        let lines = client.logs(&app, &options).await?;
        if ctx.out.json {
            return ctx.out.json(&lines);
        }
        let text: String = lines
            .iter()
            .map(|l| render_log(&ctx.out, l) + "\n")
            .collect();
        return ctx.out.raw(text.as_bytes());
    }
    // Follow: each line printed as it arrives, until Ctrl-C or a closed pipe.
    let closed = Arc::new(AtomicBool::new(false));
    let closed2 = Arc::clone(&closed);
    let out = ctx.out;
    let json = ctx.out.json;
    let sink = LineSink::new(move |bytes: &[u8]| {
        if closed2.load(Ordering::SeqCst) {
            return;
        }
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim_end_matches(['\n', '\r']);
        let parsed = dokku_client::parse::parse_log_line(text);
        let line = if json {
            serde_json::to_string(&parsed).unwrap_or_default()
        } else {
            render_log(&out, &parsed)
        };
        let mut stdout = std::io::stdout().lock();
        if writeln!(stdout, "{line}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            closed2.store(true, Ordering::SeqCst);
        }
    });
    let cmd = logs_command(&app, &options)?;
    let request = Request::new(cmd.clone())
        .stdout(Stdout::Writer(Box::new(sink)))
        .timeout(Duration::from_secs(30 * 24 * 3600));
    let watch_closed = async {
        while !closed.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let result = tokio::select! {
        r = client.execute(request) => Some(r),
        _ = tokio::signal::ctrl_c() => None,
        _ = watch_closed => None,
    };
    let _ = client.close().await;
    match result {
        Some(Ok(o)) if !o.success() => Err(client.classify(&cmd, &o).into()),
        Some(Err(e)) => Err(e.into()),
        _ => Ok(()),
    }
}

/// One row of `pix status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppStatus {
    /// The app.
    pub app: String,
    /// Deployed at least once.
    pub deployed: Option<bool>,
    /// `true`, `false` or `mixed`.
    pub running: Option<String>,
    /// Process containers.
    pub processes: Option<u32>,
    /// The deploy lock.
    pub locked: Option<bool>,
    /// Linked Postgres services.
    pub databases: Vec<String>,
    /// The app's URLs (from its domains).
    pub urls: Vec<String>,
}

/// Joins the reports of every app into status rows (pure).
pub fn build_status(
    apps: &[AppReport],
    ps: &[PsReport],
    domains: &[DomainsReport],
    links: &[(String, Vec<String>)],
) -> Vec<AppStatus> {
    let mut rows: BTreeMap<String, AppStatus> = BTreeMap::new();
    let names = apps
        .iter()
        .filter_map(|a| a.app.clone())
        .chain(ps.iter().filter_map(|p| p.app.clone()))
        .filter(|n| n != "--global");
    for name in names {
        rows.entry(name.clone()).or_insert_with(|| AppStatus {
            app: name,
            deployed: None,
            running: None,
            processes: None,
            locked: None,
            databases: Vec::new(),
            urls: Vec::new(),
        });
    }
    for a in apps {
        if let Some(r) = a.app.as_ref().and_then(|n| rows.get_mut(n)) {
            r.locked = a.locked;
        }
    }
    for p in ps {
        if let Some(r) = p.app.as_ref().and_then(|n| rows.get_mut(n)) {
            r.deployed = p.deployed;
            r.running = p.running.clone();
            r.processes = p.processes;
        }
    }
    for d in domains {
        if let Some(r) = d.app.as_ref().and_then(|n| rows.get_mut(n)) {
            if d.app_enabled != Some(false) {
                r.urls = d.app_vhosts.iter().map(|v| format!("http://{v}")).collect();
            }
        }
    }
    for (service, apps) in links {
        for app in apps {
            if let Some(r) = rows.get_mut(app) {
                r.databases.push(service.clone());
            }
        }
    }
    rows.into_values().collect()
}

async fn all_reports<T: ReportFields>(
    client: &Client,
    name: &str,
    prefix: &str,
) -> Result<Vec<T>, Failure> {
    let cmd = Command::read(name);
    let out = client.run_ok(cmd.clone()).await?;
    Ok(typed_reports(&out.stdout_text(), false, prefix, None)
        .map_err(|e| e.into_error(cmd.name()))?)
}

/// Every service and the apps linked to it (`postgres:info` per service,
/// concurrently). No postgres plugin: none.
async fn service_links(client: &Client) -> Result<Vec<(String, Vec<String>)>, Failure> {
    let services = match client.postgres_list().await {
        Ok(s) => s,
        Err(dokku_client::Error::CommandFailed { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut set = tokio::task::JoinSet::new();
    for (i, s) in services.into_iter().enumerate() {
        let client = client.clone();
        set.spawn(async move {
            let info = client.postgres_info(&s).await;
            (i, s, info)
        });
    }
    let mut links = Vec::new();
    while let Some(joined) = set.join_next().await {
        let (i, s, info) =
            joined.map_err(|e| Failure::io("a postgres:info task", std::io::Error::other(e)))?;
        links.push((i, s, info?.links));
    }
    links.sort();
    Ok(links.into_iter().map(|(_, s, l)| (s, l)).collect())
}

/// Old versions' `apps:report` has no lock row for an undeployed app (0.19
/// prints `not deployed`): ask `apps:locked` for those apps, concurrently.
async fn fill_locks(client: &Client, rows: &mut [AppStatus]) -> Result<(), Failure> {
    let mut set = tokio::task::JoinSet::new();
    for (i, row) in rows.iter().enumerate().filter(|(_, r)| r.locked.is_none()) {
        let client = client.clone();
        let app = row.app.clone();
        set.spawn(async move { (i, client.apps_locked(&app).await) });
    }
    while let Some(joined) = set.join_next().await {
        let (i, locked) =
            joined.map_err(|e| Failure::io("an apps:locked task", std::io::Error::other(e)))?;
        if let Some(row) = rows.get_mut(i) {
            row.locked = Some(locked?);
        }
    }
    Ok(())
}

/// The status rows of the host `client` is connected to: every app, joined
/// from the reports (used by `pix status` and `pix status --all`).
///
/// Every report is asked for in text form, which reads the same on every
/// version, so nothing waits for version detection: the `version` probe goes
/// out with the first reads, and the whole table costs two dependent stages
/// (the reports and `postgres:list`, then `postgres:info` per service).
pub async fn status_rows(client: &Client) -> Result<Vec<AppStatus>, Failure> {
    let (apps, ps, domains, links) = tokio::join!(
        client.apps_reports(),
        ps_reports(client),
        all_reports::<DomainsReport>(client, "domains:report", "domains"),
        service_links(client),
    );
    let mut rows = build_status(&apps?, &ps?, &domains?, &links?);
    fill_locks(client, &mut rows).await?;
    Ok(rows)
}

/// The columns of the status table.
pub const STATUS_HEADERS: [&str; 7] = [
    "APP",
    "DEPLOYED",
    "RUNNING",
    "PROCESSES",
    "LOCKED",
    "DATABASES",
    "URL",
];

/// A status row as table cells, in [`STATUS_HEADERS`] order (pure).
pub fn status_cells(r: &AppStatus) -> Vec<String> {
    let yes_no = |b: Option<bool>| {
        b.map(|b| if b { "yes" } else { "no" })
            .unwrap_or("?")
            .to_string()
    };
    vec![
        r.app.clone(),
        yes_no(r.deployed),
        crate::output::yes_no_text(r.running.as_deref()),
        r.processes
            .map(|n| n.to_string())
            .unwrap_or_else(|| "?".into()),
        yes_no(r.locked),
        r.databases.join(","),
        r.urls.join(" "),
    ]
}

/// `pix status` (`--all`: every host of pix.toml, [`crate::status_all`]).
pub async fn status(ctx: &Ctx, args: &crate::status_all::StatusArgs) -> Result<(), Failure> {
    if args.all {
        return crate::status_all::status_all(ctx).await;
    }
    let (client, _) = ctx.connect().await?;
    let rows = status_rows(&client).await;
    let _ = client.close().await;
    let rows = rows?;
    if ctx.out.json {
        return ctx.out.json(&rows);
    }
    let table: Vec<Vec<String>> = rows.iter().map(status_cells).collect();
    ctx.out.table(&STATUS_HEADERS, &table)
}

/// `pix ssh-keys ...`.
pub async fn ssh_keys(ctx: &Ctx, cmd: &SshKeysCmd) -> Result<(), Failure> {
    let (client, _) = ctx.connect().await?;
    match cmd {
        SshKeysCmd::List => {
            let keys = client.ssh_keys_list().await?;
            if ctx.out.json {
                return ctx.out.json(&keys);
            }
            let rows: Vec<Vec<String>> = keys
                .iter()
                .map(|k| vec![k.name.clone(), k.fingerprint.clone()])
                .collect();
            ctx.out.table(&["NAME", "FINGERPRINT"], &rows)
        }
        SshKeysCmd::Add { name, file } => {
            let mut key = String::new();
            if file.as_os_str() == "-" {
                std::io::stdin()
                    .read_to_string(&mut key)
                    .map_err(|e| Failure::io("reading the public key from stdin", e))?;
            } else {
                key = std::fs::read_to_string(file).map_err(|e| {
                    Failure::io(format!("reading the public key {}", file.display()), e)
                })?;
            }
            if !key.trim_start().starts_with("ssh-") && !key.trim_start().starts_with("ecdsa-") {
                return Err(Failure::usage(format!(
                    "{} does not hold an SSH public key (a line starting with ssh-ed25519, ssh-rsa, ...); give the .pub file",
                    file.display()
                )));
            }
            client.ssh_keys_add(name, &key).await?;
            done(ctx, "ssh-keys:add", name, &format!("added key {name}"))
        }
        SshKeysCmd::Remove { name } => {
            client.ssh_keys_remove(name).await?;
            done(ctx, "ssh-keys:remove", name, &format!("removed key {name}"))
        }
    }
}

/// `pix storage ...`.
pub async fn storage(ctx: &Ctx, cmd: &StorageCmd) -> Result<(), Failure> {
    let (client, sel) = ctx.connect().await?;
    let app_flag = ctx.g.app.is_some();
    match cmd {
        StorageCmd::List(a) => {
            let app = sel.app_or(a.app.as_deref())?;
            let mounts = client.storage_list(&app).await?;
            if ctx.out.json {
                return ctx.out.json(&mounts);
            }
            let rows: Vec<Vec<String>> = mounts
                .iter()
                .map(|m| vec![m.host_path.clone(), m.container_path.clone()])
                .collect();
            ctx.out.table(&["HOST PATH", "CONTAINER PATH"], &rows)
        }
        StorageCmd::Mount { words } | StorageCmd::Unmount { words } => {
            let (app, rest) = split_app(words, app_flag, |w| w.contains(':'));
            let app = sel.app_or(app)?;
            let [mount] = rest else {
                return Err(Failure::usage("give one mount, /host/path:/container/path"));
            };
            if matches!(cmd, StorageCmd::Mount { .. }) {
                client.storage_mount(&app, mount).await?;
                done(
                    ctx,
                    "storage:mount",
                    &app,
                    &format!("mounted {mount} into {app}"),
                )
            } else {
                client.storage_unmount(&app, mount).await?;
                done(
                    ctx,
                    "storage:unmount",
                    &app,
                    &format!("unmounted {mount} from {app}"),
                )
            }
        }
    }
}

/// `pix dokku -- ARGS...`.
pub async fn dokku(ctx: &Ctx, args: &DokkuArgs) -> Result<(), Failure> {
    let (client, _) = ctx.connect().await?;
    let cmd = Command::raw(args.args.iter().cloned())?;
    // Streamed both ways as plain `ssh dokku@host CMD` is: piped input goes
    // to the command (`config:import`, `postgres:import`), output is
    // written as it comes; on a terminal each line is neutralised first.
    let stdin = if std::io::stdin().is_terminal() {
        dokku_client::Stdin::Null
    } else {
        dokku_client::Stdin::Inherit
    };
    let stdout = if ctx.out.stdout_tty {
        let out = ctx.out;
        Stdout::Writer(Box::new(LineSink::new(move |line: &[u8]| {
            let text = out.server_text(&String::from_utf8_lossy(line));
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{text}").and_then(|()| stdout.flush());
        })))
    } else {
        Stdout::Inherit
    };
    let request = Request::new(cmd).stdin(stdin).stdout(stdout);
    let out = client.execute(request).await?;
    let _ = client.close().await;
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(ctx.out.server_text_err(&out.stderr_text()).as_bytes());
    if out.exit_code == 0 {
        Ok(())
    } else {
        Err(Failure::Exit(out.exit_code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn out(color: bool, tty: bool) -> crate::output::Out {
        crate::output::Out {
            json: false,
            color,
            color_err: color,
            stdout_tty: tty,
            stderr_tty: tty,
        }
    }

    /// Dokku's coloured log line: rendered on a colour terminal, stripped
    /// in a pipe or file and with NO_COLOR, never a raw or spelled-out
    /// escape of its own.
    #[test]
    fn log_lines_are_coloured_only_on_a_colour_terminal() {
        let raw =
            "\u{1b}[36m2026-12-03T08:00:00.1Z app[web.1]:\u{1b}[0m hello \u{1b}[31mred\u{1b}[0m";
        let line = dokku_client::parse::parse_log_line(raw);
        let plain = "2026-12-03T08:00:00.1Z app[web.1]: hello red";
        assert_eq!(render_log(&out(false, false), &line), plain, "pipe or file");
        assert_eq!(
            render_log(&out(false, true), &line),
            plain,
            "NO_COLOR terminal"
        );
        assert_eq!(
            render_log(&out(true, true), &line),
            "\u{1b}[36m2026-12-03T08:00:00.1Z app[web.1]:\u{1b}[0m hello red"
        );
        // Other escapes from the app are neutralised on a terminal.
        let line = dokku_client::parse::parse_log_line("\u{1b}]0;title\u{7}");
        assert_eq!(render_log(&out(true, true), &line), "\\u{1b}]0;title\\u{7}");
        assert_eq!(
            strip_sgr_all("a\u{1b}[1;32mb\u{1b}[0m\u{1b}[x"),
            "ab\u{1b}[x"
        );
    }

    #[test]
    fn status_joins_the_reports() {
        let apps = vec![
            AppReport::from_fields(Some("a".into()), fields(&[("locked", "true")])),
            AppReport::from_fields(Some("b".into()), fields(&[("locked", "false")])),
        ];
        let ps = vec![PsReport::from_fields(
            Some("a".into()),
            fields(&[
                ("deployed", "true"),
                ("running", "true"),
                ("processes", "2"),
            ]),
        )];
        let domains = vec![DomainsReport::from_fields(
            Some("a".into()),
            fields(&[("app_enabled", "true"), ("app_vhosts", "a.example a.test")]),
        )];
        let links = vec![(
            "pg-a".to_string(),
            vec!["a".to_string(), "gone".to_string()],
        )];
        let rows = build_status(&apps, &ps, &domains, &links);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].app, "a");
        assert_eq!(rows[0].locked, Some(true));
        assert_eq!(rows[0].processes, Some(2));
        assert_eq!(rows[0].databases, vec!["pg-a"]);
        assert_eq!(rows[0].urls, vec!["http://a.example", "http://a.test"]);
        assert_eq!(rows[1].deployed, None);
        assert!(rows[1].urls.is_empty());
    }

    #[test]
    fn log_lines() {
        let l = LogLine {
            timestamp: Some("T".into()),
            process: Some("web.1".into()),
            message: "hi".into(),
        };
        assert_eq!(log_line(&l), "T app[web.1]: hi");
    }
}
