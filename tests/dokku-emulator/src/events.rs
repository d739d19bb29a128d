//! `events`, `events:on|off|list` (Dokku's `plugins/20_events`).
//!
//! `events:on` writes `export DOKKU_EVENTS=1` to `.dokkurc/DOKKU_EVENTS`
//! (sourced by `dokku` at every call), `events:off` removes it. While it is
//! on, the plugin's `hook` (linked under every trigger name it lists) logs
//! each trigger call through `logger -t dokku-event`
//! (`dokku_log_plugn_trigger_call`: `INVOKED: <hook>( <args> ) NAME=...
//! FINGERPRINT=... DOKKU_PID=...`), which rsyslog writes to
//! `/var/log/dokku/events.log` in its traditional format; `events` prints
//! its last 100 lines (`-t` follows it).
//!
//! The emulator has no plugin triggers: it logs the calls it makes one to
//! one with Dokku's top-level ones ([`log_trigger`]: `post-create` of
//! `createApp`, `receive-app` of `ps:rebuild`, `post-app-clone-setup`
//! and `post-app-clone` of `apps:clone`), not the triggers those call in
//! turn.

use std::io::Write;

use super::{Code, Ctx};

/// The trigger names `plugins/20_events` links to its `hook` at 0.38.27
/// (`git ls-tree` order, which is `sort` in the C locale).
const LOGGED_HOOKS: &[&str] = &[
    "app-create",
    "app-destroy",
    "app-exists",
    "app-json-get-content",
    "app-json-process-deploy-parallelism",
    "app-list",
    "app-maybe-create",
    "app-restart",
    "app-urls",
    "builder-build",
    "builder-create-dokku-image",
    "builder-detect",
    "builder-dokku-image",
    "builder-get-property",
    "builder-herokuish-allowed",
    "builder-image-is-cnb",
    "builder-image-is-herokuish",
    "builder-release",
    "buildpack-stack-name",
    "caddy-template-source",
    "certs-exists",
    "certs-force",
    "check-deploy",
    "checks-get-property",
    "config-export",
    "config-get",
    "config-get-global",
    "core-post-deploy",
    "core-post-extract",
    "cron-entries",
    "cron-get-property",
    "cron-write",
    "dependencies",
    "deploy",
    "deploy-source-set",
    "deployed-app-image-repo",
    "deployed-app-image-tag",
    "deployed-app-repository",
    "docker-args-build",
    "docker-args-deploy",
    "docker-args-process-build",
    "docker-args-process-deploy",
    "docker-args-process-run",
    "docker-args-run",
    "domains-add",
    "domains-disable",
    "domains-enable",
    "domains-list",
    "domains-urls",
    "domains-vhost-enabled",
    "git-deploy-branch",
    "git-from-archive",
    "git-from-directory",
    "git-from-image",
    "git-get-property",
    "git-has-code",
    "git-post-pull",
    "git-pre-pull",
    "git-revision",
    "haproxy-template-source",
    "logs-get-property",
    "network-build-config",
    "network-clear-config",
    "network-config-exists",
    "network-get-ipaddr",
    "network-get-listeners",
    "network-get-property",
    "network-get-static-listeners",
    "network-write-ipaddr",
    "network-write-port",
    "nginx-app-template-source",
    "nginx-dokku-template-source",
    "nginx-hostname",
    "nginx-pre-reload",
    "openresty-template-source",
    "ports-clear",
    "ports-configure",
    "ports-get",
    "ports-get-available",
    "ports-get-property",
    "ports-set-detected",
    "post-app-clone",
    "post-app-clone-setup",
    "post-app-rename",
    "post-app-rename-setup",
    "post-build-buildpack",
    "post-build-dockerfile",
    "post-build-lambda",
    "post-build-pack",
    "post-certs-remove",
    "post-certs-update",
    "post-config-update",
    "post-container-create",
    "post-create",
    "post-delete",
    "post-deploy",
    "post-domains-update",
    "post-extract",
    "post-proxy-ports-update",
    "post-release-builder",
    "post-release-lambda",
    "post-stack-set",
    "post-stop",
    "pre-build-buildpack",
    "pre-build-dockerfile",
    "pre-build-lambda",
    "pre-build-pack",
    "pre-delete",
    "pre-deploy",
    "pre-disable-vhost",
    "pre-enable-vhost",
    "pre-receive-app",
    "pre-release-buildpack",
    "pre-release-dockerfile",
    "pre-release-lambda",
    "pre-release-pack",
    "pre-restore",
    "pre-start",
    "procfile-exists",
    "procfile-get-command",
    "proxy-build-config",
    "proxy-clear-config",
    "proxy-disable",
    "proxy-enable",
    "proxy-is-enabled",
    "proxy-type",
    "ps-can-scale",
    "ps-current-scale",
    "ps-set-scale",
    "receive-app",
    "receive-branch",
    "release-and-deploy",
    "report",
    "resource-get-property",
    "retire-container-failed",
    "scheduler-app-status",
    "scheduler-deploy",
    "scheduler-detect",
    "scheduler-enter",
    "scheduler-inspect",
    "scheduler-is-deployed",
    "scheduler-logs",
    "scheduler-logs-failed",
    "scheduler-post-delete",
    "scheduler-post-deploy-process",
    "scheduler-post-run",
    "scheduler-pre-restore",
    "scheduler-register-retired",
    "scheduler-retire",
    "scheduler-run",
    "scheduler-run-list",
    "scheduler-run-logs",
    "scheduler-run-stop",
    "scheduler-stop",
    "storage-list",
    "traefik-template-source",
    "uninstall",
    "update",
    "user-auth",
    "user-auth-app",
];

fn flag_file(ctx: &Ctx) -> std::path::PathBuf {
    ctx.layout.root.join(".dokkurc").join("DOKKU_EVENTS")
}

fn log_file(ctx: &Ctx) -> std::path::PathBuf {
    ctx.layout.root.join("events.log")
}

/// Whether `DOKKU_EVENTS` is set (the `.dokkurc` file exists).
pub(crate) fn enabled(ctx: &Ctx) -> bool {
    flag_file(ctx).is_file()
}

/// `events:on`.
pub(crate) fn on(ctx: &mut Ctx) -> Code {
    ctx.io.out("Enabling dokku events logger\n");
    let file = flag_file(ctx);
    let written = file
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&file, "export DOKKU_EVENTS=1\n"));
    match written {
        Ok(()) => 0,
        Err(e) => ctx.fail(&format!("{}: {e}", file.display())),
    }
}

/// `events:off`.
pub(crate) fn off(ctx: &mut Ctx) -> Code {
    ctx.io.out("Disabling dokku events logger\n");
    let _ = std::fs::remove_file(flag_file(ctx));
    0
}

/// `events:list`: the logged trigger names when on, else a warning.
pub(crate) fn list(ctx: &mut Ctx) -> Code {
    if !enabled(ctx) {
        ctx.warn("Events logger disabled");
        return 0;
    }
    if !ctx.quiet {
        ctx.io.out(&col_info2("Events currently logged"));
    }
    for hook in LOGGED_HOOKS {
        ctx.io
            .out(&format!("{hook:<25} {:<25} {:<25} {:<25}\n", "", "", ""));
    }
    0
}

/// `dokku_col_log_info2`: `printf "%-6s %-18s %-25s %-25s %-25s\n"`.
fn col_info2(text: &str) -> String {
    format!(
        "{:<6} {text:<18} {:<25} {:<25} {:<25}\n",
        "=====>", "", "", ""
    )
}

/// `events [-t]`: the last 100 lines of the log, or follows it.
pub(crate) fn show(ctx: &mut Ctx, args: &[String]) -> Code {
    let file = log_file(ctx);
    if !file.is_file() {
        return 0;
    }
    if args.first().map(String::as_str) == Some("-t") {
        let status = std::process::Command::new("tail")
            .arg("-F")
            .arg(&file)
            .status();
        return super::ps::exit_code(status);
    }
    let text = std::fs::read(&file).unwrap_or_default();
    ctx.io.out_bytes(last_lines(&text, 100));
    0
}

/// The last `n` lines of `text` (`tail -n`).
fn last_lines(text: &[u8], n: usize) -> &[u8] {
    let body = text.strip_suffix(b"\n").unwrap_or(text);
    let mut seen = 0;
    for (i, b) in body.iter().enumerate().rev() {
        if *b == b'\n' {
            seen += 1;
            if seen == n {
                return &text[i + 1..];
            }
        }
    }
    text
}

/// Logs a trigger call as the events hook does, when the logger is on.
pub(crate) fn log_trigger(ctx: &Ctx, hook: &str, args: &[&str]) {
    if !enabled(ctx) || !LOGGED_HOOKS.contains(&hook) {
        return;
    }
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    let pid = std::process::id();
    let line = format!(
        "{} {} dokku-event[{pid}]: INVOKED: {hook}( {} ) NAME={} FINGERPRINT={} DOKKU_PID={pid}\n",
        syslog_time(time::OffsetDateTime::now_utc()),
        hostname(),
        args.join(" "),
        env("NAME"),
        env("FINGERPRINT"),
    );
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_file(ctx))
    {
        let _ = f.write_all(line.as_bytes());
    }
}

/// rsyslog's traditional timestamp (`Dec  3 14:20:00`).
fn syslog_time(t: time::OffsetDateTime) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{} {:>2} {:02}:{:02}:{:02}",
        MONTHS[usize::from(u8::from(t.month())) - 1],
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(last_lines(b"a\nb\nc\n", 2), b"b\nc\n");
        assert_eq!(last_lines(b"a\nb\n", 5), b"a\nb\n");
        assert_eq!(last_lines(b"", 5), b"");
    }

    #[test]
    fn traditional_syslog_time_pads_the_day() {
        let t = time::OffsetDateTime::from_unix_timestamp(1_764_771_600)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        assert_eq!(syslog_time(t), "Dec  3 14:20:00");
    }

    #[test]
    fn columns_match_the_bash_printf() {
        assert_eq!(
            col_info2("Events currently logged"),
            format!(
                "=====> Events currently logged {:<25} {:<25} {:<25}\n",
                "", "", ""
            )
        );
        assert_eq!(LOGGED_HOOKS.len(), 160);
        assert!(!LOGGED_HOOKS.contains(&"help-functions"));
    }
}
