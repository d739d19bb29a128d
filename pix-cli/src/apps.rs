//! `pix apps`, `pix ps`, `pix config`: thin over the client's typed methods.

use std::collections::BTreeMap;

use dokku_client::config::ConfigSetOptions;
use dokku_client::ps::{Formation, ScaleOptions};
use dokku_client::PsReport;
use serde::Serialize;

use crate::cli::{AppsCmd, ConfigCmd, PsCmd};
use crate::context::{confirm_destroy, split_app, Ctx, TerminalPrompter};
use crate::exit::Failure;
use crate::output::{label, mask_value, yes_no_text, MASK};
use crate::render::done;

/// `pix apps ...`.
pub async fn apps(ctx: &Ctx, cmd: &AppsCmd) -> Result<(), Failure> {
    let (client, sel) = ctx.connect().await?;
    match cmd {
        AppsCmd::List => {
            let apps = client.apps_list().await?;
            if ctx.out.json {
                return ctx.out.json(&apps);
            }
            let rows: Vec<Vec<String>> = apps.iter().map(|a| vec![a.clone()]).collect();
            ctx.out.table(&["APP"], &rows)
        }
        AppsCmd::Info(a) => {
            let app = sel.app_or(a.app.as_deref())?;
            let report = client.apps_report(&app).await?;
            if ctx.out.json {
                return ctx.out.json(&report);
            }
            let mut rows = vec![
                ("App".to_string(), report.app.clone().unwrap_or(app)),
                ("Deploy source".into(), opt(&report.deploy_source)),
                (
                    "Deploy source metadata".into(),
                    opt(&report.deploy_source_metadata),
                ),
                ("Dir".into(), opt(&report.dir)),
                (
                    "Created at".into(),
                    report
                        .created_at
                        .as_deref()
                        .map(epoch_text)
                        .unwrap_or_default(),
                ),
                (
                    "Locked".into(),
                    report.locked.map(|b| b.to_string()).unwrap_or_default(),
                ),
            ];
            rows.extend(report.other.iter().map(|(k, v)| (label(k), v.clone())));
            ctx.out.fields(&rows)
        }
        AppsCmd::Create { app } => {
            client.apps_create(app).await?;
            done(ctx, "apps:create", app, &format!("created app {app}"))
        }
        AppsCmd::Destroy { app, confirm } => {
            // Say a missing app is missing before asking to confirm.
            if !client.apps_exists(app).await? {
                return Err(dokku_client::Error::app_not_found(app).into());
            }
            confirm_destroy(
                "app",
                app,
                &format!("pix apps destroy {app}"),
                confirm.as_deref(),
                &mut TerminalPrompter,
            )?;
            client.apps_destroy(app).await?;
            done(ctx, "apps:destroy", app, &format!("destroyed app {app}"))
        }
        AppsCmd::Lock(a) => {
            let app = sel.app_or(a.app.as_deref())?;
            client.apps_lock(&app).await?;
            done(ctx, "apps:lock", &app, &format!("locked {app}"))
        }
        AppsCmd::Unlock(a) => {
            let app = sel.app_or(a.app.as_deref())?;
            client.apps_unlock(&app).await?;
            done(ctx, "apps:unlock", &app, &format!("unlocked {app}"))
        }
    }
}

/// Dokku's `created-at` (seconds since the epoch) as a UTC date with the
/// raw value beside it; text that is not a number as it is (pure).
pub fn epoch_text(raw: &str) -> String {
    let date = raw
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok());
    match date {
        Some(d) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC ({raw})",
            d.year(),
            u8::from(d.month()),
            d.day(),
            d.hour(),
            d.minute(),
            d.second()
        ),
        None => raw.to_string(),
    }
}

/// `config:set`/`config:unset` options from `--no-restart`.
fn no_restart_if(no_restart: bool) -> ConfigSetOptions {
    let mut options = ConfigSetOptions::default();
    options.no_restart = no_restart;
    options
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn ps_rows(reports: &[PsReport]) -> Vec<Vec<String>> {
    reports
        .iter()
        .map(|r| {
            let statuses = r
                .statuses
                .iter()
                .map(|s| format!("{}:{}", s.process(), s.status))
                .collect::<Vec<_>>()
                .join(" ");
            vec![
                r.app.clone().unwrap_or_default(),
                yes_no_text(r.deployed.map(|b| b.to_string()).as_deref()),
                yes_no_text(r.running.as_deref()),
                r.processes.map(|n| n.to_string()).unwrap_or_default(),
                r.computed_restart_policy.clone().unwrap_or_default(),
                statuses,
            ]
        })
        .collect()
}

/// `pix ps ...`.
pub async fn ps(ctx: &Ctx, cmd: &PsCmd) -> Result<(), Failure> {
    // Usage errors before any connection.
    let scale = match cmd {
        PsCmd::Scale { words, .. } => {
            let (app, pairs) = split_app(words, ctx.g.app.is_some(), |w| w.contains('='));
            Some((app.map(str::to_string), parse_formation(pairs)?))
        }
        _ => None,
    };
    let (client, sel) = ctx.connect().await?;
    let headers = [
        "APP",
        "DEPLOYED",
        "RUNNING",
        "PROCESSES",
        "RESTART POLICY",
        "STATUS",
    ];
    match cmd {
        PsCmd::Report(a) => {
            let reports = match a.app.as_deref().or(sel.app.as_deref()) {
                Some(app) => vec![client.ps_report(app).await?],
                None => client.ps_reports().await?,
            };
            if ctx.out.json {
                return ctx.out.json(&reports);
            }
            ctx.out.table(&headers, &ps_rows(&reports))
        }
        PsCmd::Restart(a) => {
            let app = sel.app_or(a.app.as_deref())?;
            client.ps_restart(&app).await?;
            done(ctx, "ps:restart", &app, &format!("restarted {app}"))
        }
        PsCmd::Stop(a) => {
            let app = sel.app_or(a.app.as_deref())?;
            client.ps_stop(&app).await?;
            done(ctx, "ps:stop", &app, &format!("stopped {app}"))
        }
        PsCmd::Start(a) => {
            let app = sel.app_or(a.app.as_deref())?;
            client.ps_start(&app).await?;
            done(ctx, "ps:start", &app, &format!("started {app}"))
        }
        PsCmd::Rebuild(a) => {
            let app = sel.app_or(a.app.as_deref())?;
            if ctx.out.stdout_tty && !ctx.out.json {
                // On a terminal the build log is shown as it comes, as a
                // deploy's is (neutralised: it is the server's text).
                client
                    .ps_rebuild_streaming(&app, ctx.out.server_lines())
                    .await?;
            } else {
                client.ps_rebuild(&app).await?;
            }
            done(ctx, "ps:rebuild", &app, &format!("rebuilt {app}"))
        }
        PsCmd::Scale { skip_deploy, .. } => {
            let (app, set) = scale.unwrap_or_default();
            let app = sel.app_or(app.as_deref())?;
            if !set.is_empty() {
                let options = if *skip_deploy {
                    ScaleOptions::default().skip_deploy()
                } else {
                    ScaleOptions::default()
                };
                client.ps_scale_set(&app, &set, options).await?;
            }
            let formation = client.ps_scale_get(&app).await?;
            if ctx.out.json {
                return ctx.out.json(&formation);
            }
            let rows: Vec<Vec<String>> = formation
                .iter()
                .map(|(p, q)| vec![p.clone(), q.to_string()])
                .collect();
            ctx.out.table(&["PROCESS", "QUANTITY"], &rows)
        }
    }
}

/// `web=2 worker=1` → a formation (pure).
pub fn parse_formation(words: &[String]) -> Result<Formation, Failure> {
    let mut set = Formation::new();
    for w in words {
        let parsed = w
            .split_once('=')
            .and_then(|(p, q)| q.parse::<u32>().ok().map(|q| (p.to_string(), q)));
        match parsed {
            Some((p, q)) if !p.is_empty() => {
                set.insert(p, q);
            }
            _ => {
                return Err(Failure::usage(format!(
                    "{w:?} is not TYPE=N (for example web=2)"
                )))
            }
        }
    }
    Ok(set)
}

/// `pix config show --json`: the variables (masked unless `--reveal`).
#[derive(Debug, Serialize)]
pub struct ConfigShown {
    /// The app.
    pub app: String,
    /// True when secrets are shown.
    pub revealed: bool,
    /// The variables.
    pub vars: BTreeMap<String, String>,
}

/// `pix config ...`.
pub async fn config(ctx: &Ctx, cmd: &ConfigCmd) -> Result<(), Failure> {
    let (client, sel) = ctx.connect().await?;
    let app_flag = ctx.g.app.is_some();
    match cmd {
        ConfigCmd::Show { app, reveal } => {
            let app = sel.app_or(app.app.as_deref())?;
            // Exact values (config:show trims them).
            let vars = client
                .config_export(app.as_str(), dokku_client::ExportFormat::Json)
                .await?;
            let vars: BTreeMap<String, String> = vars
                .0
                .into_iter()
                .map(|(k, v)| {
                    let shown = if *reveal { v } else { mask_value(&k, &v) };
                    (k, shown)
                })
                .collect();
            if ctx.out.json {
                return ctx.out.json(&ConfigShown {
                    app,
                    revealed: *reveal,
                    vars,
                });
            }
            let rows: Vec<Vec<String>> = vars.into_iter().map(|(k, v)| vec![k, v]).collect();
            ctx.out.table(&["KEY", "VALUE"], &rows)?;
            if !reveal && rows.iter().any(|r| r[1] == MASK || r[1].contains(":***@")) {
                ctx.out.note("(secrets masked: --reveal shows them)");
            }
            Ok(())
        }
        ConfigCmd::Get { words } => {
            let (app, key) = match words.as_slice() {
                [app, key] => (Some(app.as_str()), key),
                [key] => (None, key),
                _ => return Err(Failure::usage("config get takes [APP] KEY")),
            };
            let app = sel.app_or(app)?;
            let value = client.config_get(app.as_str(), key).await?;
            if ctx.out.json {
                return ctx.out.json(&value);
            }
            match value {
                Some(v) => ctx.out.line(&ctx.out.server_text(&v)),
                None => Err(Failure::NotFound(format!(
                    "{key} is not set on {app}; see `pix config show {app}`"
                ))),
            }
        }
        ConfigCmd::Set { words, no_restart } => {
            let (app, pairs) = split_app(words, app_flag, |w| w.contains('='));
            let app = sel.app_or(app)?;
            let vars: Vec<(&str, &str)> = pairs
                .iter()
                .map(|w| {
                    w.split_once('=')
                        .ok_or_else(|| Failure::usage(format!("{w:?} is not KEY=VALUE")))
                })
                .collect::<Result<_, _>>()?;
            if vars.is_empty() {
                return Err(Failure::usage("config set needs at least one KEY=VALUE"));
            }
            let result = client
                .config_set(app.as_str(), &vars, no_restart_if(*no_restart))
                .await?;
            if ctx.out.json {
                return ctx.out.json(&result);
            }
            let keys: Vec<&str> = vars.iter().map(|(k, _)| *k).collect();
            done(
                ctx,
                "config:set",
                &app,
                &format!("set {} on {app}", keys.join(", ")),
            )
        }
        ConfigCmd::Unset { words, no_restart } => {
            let (app, keys) = if words.len() > 1 {
                split_app(words, app_flag, |w| {
                    dokku_client::apps::validate_app_name(w).is_err()
                })
            } else {
                (None, words.as_slice())
            };
            let app = sel.app_or(app)?;
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            let result = client
                .config_unset(app.as_str(), &keys, no_restart_if(*no_restart))
                .await?;
            if ctx.out.json {
                return ctx.out.json(&result);
            }
            done(
                ctx,
                "config:unset",
                &app,
                &format!("unset {} on {app}", keys.join(", ")),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_at_is_a_date_with_the_raw_value() {
        assert_eq!(
            epoch_text("1796234502"),
            "2026-12-02 18:01:42 UTC (1796234502)"
        );
        assert_eq!(epoch_text("soon"), "soon");
        assert_eq!(yes_no_text(Some("true")), "yes");
        assert_eq!(yes_no_text(Some("mixed")), "mixed");
        assert_eq!(yes_no_text(None), "?");
    }

    fn w(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn app_then_data() {
        let words = w(&["api", "web=2"]);
        let (app, rest) = split_app(&words, false, |s| s.contains('='));
        assert_eq!(app, Some("api"));
        assert_eq!(rest, &words[1..]);
        let words = w(&["web=2"]);
        assert_eq!(split_app(&words, false, |s| s.contains('=')).0, None);
        let words = w(&["api", "web=2"]);
        assert_eq!(split_app(&words, true, |s| s.contains('=')).1.len(), 2);
    }

    #[test]
    fn formations() {
        let f = parse_formation(&w(&["web=2", "worker=0"])).unwrap();
        assert_eq!(f.get("web"), Some(&2));
        assert_eq!(f.get("worker"), Some(&0));
        for bad in ["web", "web=x", "=2", "web=-1"] {
            assert!(parse_formation(&w(&[bad])).is_err(), "{bad}");
        }
    }

    #[test]
    fn labels() {
        assert_eq!(label("deploy_source"), "Deploy source");
        assert_eq!(label(""), "");
    }
}
