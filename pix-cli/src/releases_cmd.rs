//! `pix releases ENV` and `pix rollback ENV [RELEASE]`: what was deployed,
//! from the Dokku remote's history, and a rollback as a new fast-forward
//! deploy (pix_ops::releases).

use pix_ops::confirm::ConfirmFlags;
use pix_ops::deploy::{self, DeployOptions};
use pix_ops::git::Git;
use pix_ops::releases::{self, Release};

use crate::cli::{ReleasesArgs, RollbackArgs};
use crate::context::{interruptible, Ctx, TerminalPrompter};
use crate::exit::{self, exit_with, interrupted, Failure};
use crate::render::{render_outcome, DeployDisplay};

/// The table's rows (pure).
pub fn rows(releases: &[Release]) -> Vec<Vec<String>> {
    let short = |s: &str| s[..s.len().min(12)].to_string();
    releases
        .iter()
        .map(|r| {
            vec![
                format!("v{}{}", r.version, if r.current { " *" } else { "" }),
                short(&r.commit),
                r.source_commit
                    .as_deref()
                    .map(short)
                    .unwrap_or_else(|| "-".into()),
                r.source_branch.clone().unwrap_or_else(|| "-".into()),
                r.date.clone(),
                r.author.clone(),
                r.subject.clone(),
            ]
        })
        .collect()
}

async fn target_of(ctx: &Ctx, environment: &str) -> Result<deploy::DeployTarget, Failure> {
    let (config, overrides) = ctx.config_and_overrides()?;
    let git = Git::new(ctx.cwd()?);
    let name = deploy::environment_name(&config, environment, &overrides);
    let mut target = deploy::resolve_target(&config, &name, &overrides, &git).await?;
    if let Some(user) = &ctx.g.user {
        target.host.user = user.clone();
    }
    deploy::refuse_local(&target.host)?;
    Ok(target)
}

/// `pix releases ENV`.
pub async fn releases(ctx: &Ctx, args: &ReleasesArgs) -> Result<(), Failure> {
    let target = target_of(ctx, &args.environment).await?;
    let client = ctx.connect_to(&target.host).await?;
    let listed = releases::list(&client, &target, &ctx.cwd()?, &ctx.connect_options()).await;
    let _ = client.close().await;
    let listed = listed?;
    if ctx.out.json {
        return ctx.out.json(&listed);
    }
    if listed.is_empty() {
        ctx.out.note(&format!(
            "{} has no release yet; deploy it with `pix deploy {}`",
            target.app, args.environment
        ));
        return Ok(());
    }
    ctx.out.table(
        &[
            "RELEASE",
            "COMMIT",
            "SOURCE",
            "BRANCH",
            "DATE",
            "BY",
            "DESCRIPTION",
        ],
        &rows(&listed),
    )
}

/// `pix rollback ENV [RELEASE]`.
pub async fn rollback(ctx: &Ctx, args: &RollbackArgs) -> Result<(), Failure> {
    let target = target_of(ctx, &args.environment).await?;
    let command = match &args.release {
        Some(r) => format!("pix rollback {} {r}", args.environment),
        None => format!("pix rollback {}", args.environment),
    };
    let options = DeployOptions {
        repo: ctx.cwd()?,
        connect: ctx.connect_options(),
        confirm: ConfirmFlags {
            yes: args.yes,
            confirm: args.confirm.clone(),
        },
        command: command.clone(),
        dry_run: args.dry_run,
        ..DeployOptions::default()
    };
    let display = DeployDisplay::default();
    let client = ctx.connect_to(&target.host).await?;
    let mut prompter = TerminalPrompter;
    let result = interruptible(releases::rollback(
        &client,
        &target,
        args.release.as_deref(),
        &options,
        &mut prompter,
        &display,
    ))
    .await;
    let _ = client.close().await;
    let Some(result) = result else {
        return Err(interrupted(&command, display.planned() && !args.dry_run));
    };
    let (release, report) = result?;
    let code = exit::deploy_code(&report.outcome);
    if ctx.out.json {
        ctx.out
            .json(&serde_json::json!({ "release": release, "deploy": report }))?;
        return exit_with(code);
    }
    ctx.out.note(&format!(
        "rolling {} back to v{} ({})",
        target.app,
        release.version,
        &release.commit[..release.commit.len().min(12)]
    ));
    render_outcome(&report, &command, ctx.out.color).print(&ctx.out)?;
    exit_with(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_mark_the_current_release() {
        let r = Release {
            version: 2,
            commit: "0123456789abcdef".into(),
            source_commit: Some("fedcba9876543210".into()),
            source_branch: Some("main".into()),
            date: "2026-12-03T10:00:00+00:00".into(),
            author: "pix deploy <pix-deploy@localhost>".into(),
            subject: "Deploy api/ from fedcba987654 of main".into(),
            current: true,
        };
        let rows = rows(&[r]);
        assert_eq!(rows[0][0], "v2 *");
        assert_eq!(rows[0][1], "0123456789ab");
        assert_eq!(rows[0][2], "fedcba987654");
    }
}
