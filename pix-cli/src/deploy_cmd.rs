//! `pix deploy <env>|branch`: the fast-forward deploy of `pix_ops::deploy`,
//! its output streamed as it comes, its outcome rendered with an exit code
//! CI can act on ([`crate::exit::deploy_code`]).

use pix_ops::confirm::ConfirmFlags;
use pix_ops::deploy::{self, DeployEvent, DeployOptions, DeployOutcome};
use pix_ops::git::Git;
use pix_ops::progress::Progress;

use crate::cli::DeployArgs;
use crate::context::{interruptible, Ctx, TerminalPrompter};
use crate::exit::{self, exit_with, interrupted, Failure};
use crate::render::{render_outcome, DeployDisplay};

/// `pix deploy`.
pub async fn deploy(ctx: &Ctx, args: &DeployArgs) -> Result<(), Failure> {
    let (config, overrides) = ctx.config_and_overrides()?;
    let repo = ctx.cwd()?;
    let git = Git::new(&repo);
    let name = deploy::environment_name(&config, &args.environment, &overrides);
    let mut target = deploy::resolve_target(&config, &name, &overrides, &git).await?;
    if let Some(user) = &ctx.g.user {
        target.host.user = user.clone();
    }
    deploy::refuse_local(&target.host)?;
    let command = format!("pix deploy {}", args.environment);
    let options = DeployOptions {
        repo,
        rev: args.rev.clone(),
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
    if let Some(branch) = &target.branch {
        // Shown before connecting, so it is there even if the host is not.
        display.event(DeployEvent::Mapped {
            branch: branch.clone(),
            app: target.app.clone(),
        });
    }
    let client = ctx.connect_to(&target.host).await?;
    let mut prompter = TerminalPrompter;
    let result = interruptible(deploy::deploy(
        &client,
        &target,
        &options,
        &mut prompter,
        &display,
    ))
    .await;
    let report = match result {
        None => {
            let _ = client.close().await;
            return Err(interrupted(&command, display.planned() && !args.dry_run));
        }
        Some(r) => r,
    };
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            let _ = client.close().await;
            let failure = Failure::from(e);
            // Ctrl-C at the confirmation prompt ends the prompt first.
            if exit::code(&failure) == exit::INTERRUPTED {
                return Err(interrupted(&command, display.planned() && !args.dry_run));
            }
            return Err(failure);
        }
    };
    let rebuild = args.rebuild
        && !args.dry_run
        && matches!(report.outcome, DeployOutcome::NothingToDeploy { .. });
    if rebuild {
        display.event(DeployEvent::Note(format!(
            "nothing new to deploy: rebuilding {} (ps:rebuild)",
            target.app
        )));
        let rebuilt = deploy::rebuild(&client, &target.app).await;
        let _ = client.close().await;
        rebuilt?;
    } else {
        let _ = client.close().await;
    }
    let code = exit::deploy_code(&report.outcome);
    if ctx.out.json {
        ctx.out.json(&report)?;
        return exit_with(code);
    }
    if rebuild {
        ctx.out.line(&format!(
            "{} rebuilt {} from the tree it already had",
            ctx.out.ok_mark("✓"),
            target.app
        ))?;
    } else {
        render_outcome(&report, &command, ctx.out.color).print(&ctx.out)?;
    }
    exit_with(code)
}
