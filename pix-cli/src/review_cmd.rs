//! `pix review-app up|down|prune|list` over `pix_ops::review`.

use pix_ops::confirm::ConfirmFlags;
use pix_ops::deploy::{branch_settings, DeployOptions};
use pix_ops::git::Git;
use pix_ops::review::{self, PrunePlan, Removed, ReviewApp, UpOptions, UpReport};
use serde::Serialize;

use crate::cli::ReviewCmd;
use crate::context::{interruptible, Ctx, TerminalPrompter};
use crate::exit::{self, exit_with, interrupted, Failure};
use crate::output::neutralise;
use crate::render::{render_outcome, short, DeployDisplay};

/// `--json` of `prune`: the plan and what was removed.
#[derive(Debug, Serialize)]
pub struct PruneResult<'a> {
    /// What was found.
    pub plan: &'a PrunePlan,
    /// What was removed (empty with `--dry-run`).
    pub removed: &'a [Removed],
}

/// The table rows of review apps (pure).
pub fn app_rows(apps: &[ReviewApp]) -> Vec<Vec<String>> {
    apps.iter()
        .map(|a| {
            vec![
                a.app.clone(),
                a.branch.clone(),
                a.service.clone().unwrap_or_default(),
                a.commit
                    .as_deref()
                    .map(|c| short(c).to_string())
                    .unwrap_or_else(|| "-".into()),
                a.source_commit
                    .as_deref()
                    .map(|c| short(c).to_string())
                    .unwrap_or_else(|| "-".into()),
                a.urls.join(" "),
            ]
        })
        .collect()
}

/// The headers of [`app_rows`].
pub const HEADERS: [&str; 6] = ["APP", "BRANCH", "DATABASE", "DEPLOYED", "SOURCE", "URL"];

/// What removing a review app did, in one line (pure).
pub fn removed_line(r: &Removed, mark: &str) -> String {
    let db = match (&r.service, r.service_destroyed) {
        (Some(s), true) => format!(" and its database {s}"),
        (Some(s), false) => format!("; kept database {s} (still linked elsewhere, or in pix.toml)"),
        (None, _) => String::new(),
    };
    format!(
        "{mark} destroyed review app {} of branch {}{db}",
        r.app, r.branch
    )
}

/// The summary line of `up` (pure).
pub fn up_line(r: &UpReport) -> String {
    let mut made = Vec::new();
    if r.created_app {
        made.push("app created");
    }
    if r.created_service {
        made.push("database created");
    }
    if r.linked {
        made.push("database linked");
    }
    format!(
        "review app {} of branch {}, database {}{}",
        r.mapping.app,
        r.mapping.branch,
        r.service,
        if made.is_empty() {
            String::new()
        } else {
            format!(" ({})", made.join(", "))
        }
    )
}

/// `pix review-app ...`.
pub async fn review(ctx: &Ctx, cmd: &ReviewCmd) -> Result<(), Failure> {
    let (config, overrides) = ctx.config_and_overrides()?;
    let mut settings = branch_settings(&config, &overrides)?;
    if let Some(user) = &ctx.g.user {
        settings.host.user = user.clone();
    }
    if matches!(cmd, ReviewCmd::Up { .. }) {
        pix_ops::deploy::refuse_local(&settings.host)?;
    }
    let repo = ctx.cwd()?;
    let git = Git::new(&repo);
    let client = ctx.connect_to(&settings.host).await?;
    let display = DeployDisplay::default();
    let mut prompter = TerminalPrompter;
    let result = match cmd {
        ReviewCmd::Up { branch } => {
            let options = UpOptions {
                branch: branch.clone(),
                deploy: DeployOptions {
                    repo: repo.clone(),
                    connect: ctx.connect_options(),
                    command: "pix review-app up".into(),
                    ..DeployOptions::default()
                },
            };
            let command = match branch {
                Some(b) => format!("pix review-app up {b}"),
                None => "pix review-app up".into(),
            };
            let run = review::up(
                &client,
                &config,
                &settings,
                &options,
                &mut prompter,
                &display,
            );
            match interruptible(run).await {
                None => Err(interrupted(&command, display.planned())),
                Some(Err(e)) => Err(e.into()),
                Some(Ok(report)) => {
                    let code = exit::deploy_code(&report.deploy.outcome);
                    if ctx.out.json {
                        ctx.out.json(&report)?;
                    } else {
                        ctx.out.line(&up_line(&report))?;
                        render_outcome(&report.deploy, &command, ctx.out.color).print(&ctx.out)?;
                    }
                    exit_with(code)
                }
            }
        }
        ReviewCmd::Down { branch, yes } => {
            let flags = ConfirmFlags {
                yes: *yes,
                confirm: None,
            };
            let run = review::down(&client, &config, branch, &flags, &mut prompter, &display);
            match interruptible(run).await {
                None => Err(Failure::Interrupted(format!(
                    "interrupted: run `pix review-app down {branch} --yes` again to finish"
                ))),
                Some(Err(e)) => Err(e.into()),
                Some(Ok(removed)) => {
                    if ctx.out.json {
                        ctx.out.json(&removed)
                    } else {
                        ctx.out.line(&removed_line(&removed, &ctx.out.ok_mark("✓")))
                    }
                }
            }
        }
        ReviewCmd::Prune {
            yes,
            dry_run,
            origin,
        } => prune(ctx, &client, &config, &git, origin, *yes, *dry_run).await,
        ReviewCmd::List => {
            let apps = review::list(&client, &config, Some(&git)).await;
            match apps {
                Err(e) => Err(e.into()),
                Ok(apps) if ctx.out.json => ctx.out.json(&apps),
                Ok(apps) => ctx.out.table(&HEADERS, &app_rows(&apps)),
            }
        }
    };
    let _ = client.close().await;
    result
}

async fn prune(
    ctx: &Ctx,
    client: &dokku_client::Client,
    config: &pix_ops::PixConfig,
    git: &Git,
    origin: &str,
    yes: bool,
    dry_run: bool,
) -> Result<(), Failure> {
    let plan = review::prune_plan(client, config, git, origin).await?;
    if !ctx.out.json {
        let kept = |ctx: &Ctx| -> Result<(), Failure> {
            for r in plan.reasons.iter().filter(|r| !r.remove) {
                ctx.out
                    .line(&format!("kept {}: {}", r.app, neutralise(&r.reason)))?;
            }
            Ok(())
        };
        if plan.remove.is_empty() {
            ctx.out.line(&format!(
                "nothing to prune: no review app's branch ({}) is provably gone from {origin}",
                plan.keep.len()
            ))?;
            return kept(ctx);
        }
        ctx.out.line(&format!(
            "review apps whose branch is gone from {origin} ({} kept):",
            plan.keep.len()
        ))?;
        ctx.out.table(&HEADERS, &app_rows(&plan.remove))?;
        kept(ctx)?;
    }
    if dry_run || plan.remove.is_empty() {
        if ctx.out.json {
            return ctx.out.json(&PruneResult {
                plan: &plan,
                removed: &[],
            });
        }
        return ctx
            .out
            .line("dry run: nothing was removed; run `pix review-app prune --yes` to remove them");
    }
    let flags = ConfirmFlags { yes, confirm: None };
    let display = DeployDisplay::default();
    let mut prompter = TerminalPrompter;
    let run = review::prune(client, config, &plan, &flags, &mut prompter, &display);
    let removed = match interruptible(run).await {
        None => {
            return Err(Failure::Interrupted(
                "interrupted: run `pix review-app prune` again to see what is left".into(),
            ))
        }
        Some(r) => r?,
    };
    if ctx.out.json {
        return ctx.out.json(&PruneResult {
            plan: &plan,
            removed: &removed,
        });
    }
    for r in &removed {
        ctx.out.line(&removed_line(r, &ctx.out.ok_mark("✓")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removals_say_what_happened_to_the_database() {
        let mut r = Removed {
            app: "feature-x".into(),
            branch: "feature/x".into(),
            service: Some("feature-x-db".into()),
            service_destroyed: true,
        };
        assert_eq!(
            removed_line(&r, "✓"),
            "✓ destroyed review app feature-x of branch feature/x and its database feature-x-db"
        );
        r.service_destroyed = false;
        assert!(removed_line(&r, "✓").contains("kept database feature-x-db"));
        r.service = None;
        assert_eq!(
            removed_line(&r, "✓"),
            "✓ destroyed review app feature-x of branch feature/x"
        );
    }

    #[test]
    fn rows_show_short_commits() {
        let rows = app_rows(&[ReviewApp {
            app: "a".into(),
            branch: "b".into(),
            service: None,
            commit: Some("0123456789abcdef".into()),
            source_commit: None,
            urls: vec!["http://a".into(), "http://b".into()],
        }]);
        assert_eq!(
            rows,
            [["a", "b", "", "0123456789ab", "-", "http://a http://b"]]
        );
    }
}
