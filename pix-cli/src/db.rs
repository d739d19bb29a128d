//! `pix db`: Postgres services, backups, restores (the reset is in
//! `reset_cmd.rs`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dokku_client::postgres::{LinkOptions, UnlinkOptions};
use dokku_client::{Client, PostgresInfo, Request, Stdin, Stdout};
use pix_ops::backup::{backup_path, export_to_file, import_file, ByteCounter};
use pix_ops::confirm::{confirm, ConfirmFlags, ConfirmRequest, Prompter};
use pix_ops::Environment;
use serde::Serialize;

use crate::cli::DbCmd;
use crate::context::{confirm_destroy, Ctx, TerminalPrompter};
use crate::exit::Failure;
use crate::output::{bytes_and_rate, neutralise};
use crate::render::done;

/// A service named directly, or through an environment of pix.toml.
pub struct Target {
    /// The connected client.
    pub client: Client,
    /// The service.
    pub service: String,
    /// The environment, when named by one.
    pub environment: Option<Environment>,
    /// pix.toml's backups folder, when there is a pix.toml.
    pub backups_dir: Option<PathBuf>,
}

/// Resolves `name`: an environment of pix.toml (its database, on its host),
/// else a service on the selected host.
pub async fn target(ctx: &Ctx, name: &str) -> Result<Target, Failure> {
    target_or_default(ctx, Some(name)).await
}

/// [`target`], or without a name the environment of `--env`, else
/// pix.toml's only environment.
pub async fn target_or_default(ctx: &Ctx, name: Option<&str>) -> Result<Target, Failure> {
    let name = match name {
        Some(n) => n.to_string(),
        None => match &ctx.g.environment {
            Some(env) => env.clone(),
            None => {
                let ambient = ctx.ambient()?;
                let envs: Vec<String> = ambient
                    .config
                    .as_ref()
                    .map(|c| c.environments.keys().cloned().collect())
                    .unwrap_or_default();
                match envs.as_slice() {
                    [only] => only.clone(),
                    [] => {
                        return Err(Failure::usage(
                            "name a Postgres service (or an environment of pix.toml); `pix db list` lists the services",
                        ))
                    }
                    many => {
                        return Err(Failure::usage(format!(
                            "name a service or an environment, or pass --env NAME (pix.toml defines: {})",
                            many.join(", ")
                        )))
                    }
                }
            }
        },
    };
    let name = name.as_str();
    if let Some((env, config)) = ctx.find_environment(name)? {
        let client = ctx.connect_to(&env.host_config).await?;
        return Ok(Target {
            client,
            service: env.config.database.clone(),
            environment: Some(env),
            backups_dir: Some(config.backups_dir()),
        });
    }
    let ambient = ctx.ambient()?;
    let backups_dir = ambient.config.as_ref().map(|c| c.backups_dir());
    let (client, _) = ctx.connect().await?;
    Ok(Target {
        client,
        service: name.to_string(),
        environment: None,
        backups_dir,
    })
}

/// `pix db info` rows (pure): the DSN masked unless `reveal`.
pub fn info_rows(info: &PostgresInfo, reveal: bool) -> Vec<(String, String)> {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    let dsn = info
        .dsn
        .as_ref()
        .map(|d| {
            if reveal {
                d.expose_secret().to_string()
            } else {
                d.redacted()
            }
        })
        .unwrap_or_default();
    let mut rows = vec![
        ("Service".to_string(), o(&info.service)),
        ("Status".into(), o(&info.status)),
        ("Version".into(), o(&info.version)),
        ("Dsn".into(), dsn),
        ("Links".into(), info.links.join(" ")),
        (
            "Exposed ports".into(),
            info.exposed_ports
                .iter()
                .map(|p| format!("{}->{}", p.container, p.host))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        ("Id".into(), o(&info.id)),
        ("Internal ip".into(), o(&info.internal_ip)),
        ("Data dir".into(), o(&info.data_dir)),
        ("Config dir".into(), o(&info.config_dir)),
        ("Service root".into(), o(&info.service_root)),
    ];
    rows.extend(
        info.other
            .iter()
            .map(|(k, v)| (crate::output::label(k), v.clone())),
    );
    rows
}

/// `pix db info --json --reveal`: the info with the full DSN.
#[derive(Debug, Serialize)]
struct Revealed<'a> {
    #[serde(flatten)]
    info: &'a PostgresInfo,
    dsn: Option<&'a str>,
}

/// `pix db ...` (except reset).
pub async fn db(ctx: &Ctx, cmd: &DbCmd) -> Result<(), Failure> {
    match cmd {
        DbCmd::Info { service, reveal } => {
            let t = target_or_default(ctx, service.service.as_deref()).await?;
            let info = t.client.postgres_info(&t.service).await?;
            if ctx.out.json {
                if *reveal {
                    return ctx.out.json(&Revealed {
                        info: &info,
                        dsn: info.dsn.as_ref().map(|d| d.expose_secret()),
                    });
                }
                return ctx.out.json(&info);
            }
            ctx.out.fields(&info_rows(&info, *reveal))
        }
        DbCmd::List => {
            let (client, _) = ctx.connect().await?;
            let list = client.postgres_list().await?;
            if ctx.out.json {
                return ctx.out.json(&list);
            }
            let rows: Vec<Vec<String>> = list.iter().map(|s| vec![s.clone()]).collect();
            ctx.out.table(&["SERVICE"], &rows)
        }
        DbCmd::Create { service } => {
            let (client, _) = ctx.connect().await?;
            let info = client.postgres_create(service).await?;
            if ctx.out.json {
                return ctx.out.json(&info);
            }
            done(
                ctx,
                "postgres:create",
                service,
                &format!("created {service}"),
            )
        }
        DbCmd::Destroy { service, confirm } => {
            let (client, _) = ctx.connect().await?;
            confirm_destroy(
                "Postgres service",
                service,
                &format!("pix db destroy {service}"),
                confirm.as_deref(),
                &mut TerminalPrompter,
            )?;
            client.postgres_destroy(service).await?;
            done(
                ctx,
                "postgres:destroy",
                service,
                &format!("destroyed {service}"),
            )
        }
        DbCmd::Link {
            service,
            app,
            alias,
            no_restart,
        } => {
            let t = target(ctx, &service.service).await?;
            let app = app_for(ctx, &t, app.app.as_deref())?;
            let mut options = LinkOptions::default();
            options.alias = alias.clone();
            options.no_restart = *no_restart;
            t.client.postgres_link(&t.service, &app, &options).await?;
            done(
                ctx,
                "postgres:link",
                &t.service,
                &format!("linked {} to {app}", t.service),
            )
        }
        DbCmd::Unlink {
            service,
            app,
            no_restart,
        } => {
            let t = target(ctx, &service.service).await?;
            let app = app_for(ctx, &t, app.app.as_deref())?;
            t.client
                .postgres_unlink(
                    &t.service,
                    &app,
                    if *no_restart {
                        UnlinkOptions::default().no_restart()
                    } else {
                        UnlinkOptions::default()
                    },
                )
                .await?;
            done(
                ctx,
                "postgres:unlink",
                &t.service,
                &format!("unlinked {} from {app}", t.service),
            )
        }
        DbCmd::Connect(service) => {
            let t = target_or_default(ctx, service.service.as_deref()).await?;
            let code = if TerminalPrompter.is_terminal() && ctx.out.stdout_tty {
                t.client.postgres_connect(&t.service).await?
            } else {
                // No terminal: SQL from stdin, results to stdout (psql's own).
                let cmd = dokku_client::postgres::connect(&t.service)?;
                let out = t
                    .client
                    .execute(
                        Request::new(cmd)
                            .stdin(Stdin::Inherit)
                            .stdout(Stdout::Inherit),
                    )
                    .await?;
                if out.exit_code != 0 && !t.client.postgres_exists(&t.service).await? {
                    return Err(missing_service(&t.service));
                }
                if !out.stderr.is_empty() {
                    ctx.out.note(
                        ctx.out
                            .server_text_err(&out.stderr_text())
                            .trim_end_matches('\n'),
                    );
                }
                out.exit_code
            };
            if code == 0 {
                Ok(())
            } else if !t.client.postgres_exists(&t.service).await? {
                Err(missing_service(&t.service))
            } else {
                Err(Failure::Exit(code))
            }
        }
        DbCmd::Logs { service, num } => {
            let t = target_or_default(ctx, service.service.as_deref()).await?;
            let text = t.client.postgres_logs(&t.service, *num).await?;
            if ctx.out.json {
                let lines: Vec<&str> = text.lines().collect();
                return ctx.out.json(&lines);
            }
            ctx.out.raw(ctx.out.server_text(&text).as_bytes())
        }
        DbCmd::Backup {
            service,
            backups_dir,
        } => {
            let t = target_or_default(ctx, service.service.as_deref()).await?;
            let dir = backups_dir
                .clone()
                .or(t.backups_dir.clone())
                .unwrap_or_else(|| PathBuf::from("backups"));
            let folder = t
                .environment
                .as_ref()
                .map(|e| e.name.clone())
                .unwrap_or_else(|| t.service.clone());
            let dest = backup_path(&dir, &folder, &t.service);
            backup(ctx, &t.client, &t.service, &dest).await
        }
        DbCmd::Restore {
            service,
            file,
            yes,
            confirm: confirm_name,
        } => {
            let t = target(ctx, &service.service).await?;
            let env_name = t
                .environment
                .as_ref()
                .map(|e| e.name.clone())
                .unwrap_or_else(|| t.service.clone());
            // A service outside pix.toml is treated as protected.
            let protected = t.environment.as_ref().is_none_or(|e| e.config.protected);
            let action = format!("replace the data of {} with {}", t.service, file.display());
            let command = format!("pix db restore {} {}", service.service, file.display());
            confirm(
                &ConfirmRequest {
                    environment: &env_name,
                    protected,
                    name: &t.service,
                    action: &action,
                    command: &command,
                },
                &ConfirmFlags {
                    yes: *yes,
                    confirm: confirm_name.clone(),
                },
                &mut TerminalPrompter,
            )?;
            let started = Instant::now();
            import_file(&t.client, &t.service, file).await?;
            if ctx.out.json {
                return ctx.out.json(&Restored {
                    service: t.service.clone(),
                    file: file.clone(),
                    elapsed_ms: started.elapsed().as_millis() as u64,
                });
            }
            done(
                ctx,
                "postgres:import",
                &t.service,
                &format!("restored {} into {}", file.display(), t.service),
            )
        }
        DbCmd::Reset(args) => crate::reset_cmd::reset(ctx, args).await,
    }
}

/// `pix db restore --json`.
#[derive(Debug, Serialize)]
struct Restored {
    service: String,
    file: PathBuf,
    elapsed_ms: u64,
}

fn app_for(ctx: &Ctx, t: &Target, given: Option<&str>) -> Result<String, Failure> {
    if let Some(app) = given {
        return Ok(app.to_string());
    }
    if let Some(env) = &t.environment {
        return Ok(env.config.app.clone());
    }
    Ok(ctx.selection()?.app_or(None)?)
}

/// Streams a backup with a progress line (bytes and rate) on a terminal.
async fn backup(ctx: &Ctx, client: &Client, service: &str, dest: &Path) -> Result<(), Failure> {
    for stale in pix_ops::backup::remove_stale_partials(dest, service)? {
        eprintln!(
            "{}: {}",
            pix_ops::backup::REMOVED_PARTIAL,
            neutralise(&stale.display().to_string())
        );
    }
    let counter = ByteCounter::default();
    let started = Instant::now();
    let ticker = ctx.out.stderr_tty.then(|| {
        let counter = counter.clone();
        let service = service.to_string();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                eprint!(
                    "\r\x1b[2Kbacking up {service}: {}",
                    bytes_and_rate(counter.get(), started.elapsed())
                );
            }
        })
    });
    let result = tokio::select! {
        biased;
        _ = tokio::signal::ctrl_c() => None,
        r = export_to_file(client, service, dest, &counter) => Some(r),
    };
    if let Some(t) = ticker {
        t.abort();
        eprint!("\r\x1b[2K");
    }
    let Some(result) = result else {
        // The export was dropped mid-stream: remove what it wrote (pix-ops
        // writes it under its partial name and renames it only once verified).
        let _ = std::fs::remove_file(pix_ops::backup::partial_path(dest));
        return Err(Failure::Interrupted(
            "interrupted: the partial backup was removed; nothing on the server was changed".into(),
        ));
    };
    let b = result?;
    if ctx.out.json {
        return ctx.out.json(&b);
    }
    let out = &ctx.out;
    out.line(&format!(
        "{} backup of {service}: {} — {}, {} entries, verified",
        out.ok_mark("✓"),
        b.path.display(),
        bytes_and_rate(b.bytes, started.elapsed()),
        b.entries
    ))
}

/// The not-found failure of a Postgres service (exit 3, with the next step).
fn missing_service(service: &str) -> Failure {
    Failure::from(dokku_client::Error::service_not_found("Postgres", service))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dokku_client::Dsn;

    #[test]
    fn info_masks_the_password() {
        let mut info = PostgresInfo::default();
        info.service = Some("pg".into());
        info.dsn = Some(Dsn::new("postgres://postgres:s3cret@h:5432/pg"));
        let masked = info_rows(&info, false);
        let dsn = &masked.iter().find(|(k, _)| k == "Dsn").unwrap().1;
        assert_eq!(dsn, "postgres://postgres:***@h:5432/pg");
        let shown = info_rows(&info, true);
        assert!(shown.iter().any(|(_, v)| v.contains("s3cret")));
        assert!(!serde_json::to_string(&info).unwrap().contains("s3cret"));
    }

    #[test]
    fn rates() {
        assert_eq!(
            bytes_and_rate(2_000_000, Duration::from_secs(2)),
            "2.0 MB (1.0 MB/s)"
        );
        assert_eq!(bytes_and_rate(10, Duration::ZERO), "10 B (10 B/s)");
    }
}
