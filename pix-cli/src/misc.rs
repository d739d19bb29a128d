//! `pix run`, `pix logs`, `pix status`, `pix ssh-keys`, `pix storage`,
//! `pix dokku`.

use std::io::{IsTerminal, Read, Write};

use dokku_client::logs::{LogLine, LogsOptions};
use dokku_client::run::{ContainerEntry, RunCommand, RunOptions};
use dokku_client::{Command, Request, Stdout};

use crate::cli::{DokkuArgs, LogsArgs, RunArgs, RunEntry, SshKeysCmd, StorageCmd};
use crate::context::{split_app, Ctx};
use crate::exit::Failure;
use crate::render::{done, status_cells, STATUS_HEADERS};

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
        pix_ops::run::check_app_after_exit(&client, &app, out.exit_code).await?;
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(ctx.out.server_text_err(&out.stderr_text()).as_bytes());
        out.exit_code
    };
    // A non-zero exit may be Dokku's for a missing app (the captured
    // output's was checked above the same way).
    if interactive {
        pix_ops::run::check_app_after_exit(&client, &app, code).await?;
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
    let mut options = LogsOptions::default();
    options.num = args.num;
    options.process = args.process.clone();
    options.quiet = args.quiet;
    options.tail = args.follow;
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
    let out = ctx.out;
    let json = ctx.out.json;
    let print = move |parsed: LogLine| {
        let line = if json {
            serde_json::to_string(&parsed).unwrap_or_default()
        } else {
            render_log(&out, &parsed)
        };
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{line}")
            .and_then(|()| stdout.flush())
            .is_ok()
    };
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let result = pix_ops::logs::follow(&client, &app, &options, print, stop).await;
    let _ = client.close().await;
    Ok(result?)
}

/// `pix status` (`--all` is [`crate::status_all`]).
pub async fn status(ctx: &Ctx) -> Result<(), Failure> {
    let (client, _) = ctx.connect().await?;
    let rows = pix_ops::status::status_rows(&client).await;
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
    // one-home: the user's own words
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
        Stdout::Writer(Box::new(ctx.out.server_lines()))
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
    fn log_lines() {
        let mut l = LogLine::new("hi");
        l.timestamp = Some("T".into());
        l.process = Some("web.1".into());
        assert_eq!(log_line(&l), "T app[web.1]: hi");
    }
}
