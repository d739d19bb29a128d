//! `pix remote status` and `pix remote repair <remote> --merge|--force` over
//! `pix_ops::remote`. Each remote's deploy branch is read from `git:report`
//! when its host answers (else `master`).

use pix_ops::config::PixConfig;
use pix_ops::confirm::ConfirmFlags;
use pix_ops::git::Git;
use pix_ops::remote::{
    self, parse_remote_list, DeployPrediction, Divergence, MergeOutcome, PushPrediction,
    RemoteOptions, RemoteSource, RemoteUrl,
};
use pix_ops::remote_hosts::{deployed_from, RemoteConnections};
use serde::Serialize;

use crate::cli::{RemoteCmd, RepairArgs};
use crate::context::{interruptible, Ctx, TerminalPrompter};
use crate::exit::{self, exit_with, Failure};
use crate::output::{neutralise, paint};
use crate::render::{render_outcome, render_push, short, DeployDisplay};

/// Prints the notes the connections gathered (a host that did not answer,
/// a deploy branch assumed), neutralised.
fn print_notes(ctx: &Ctx, connections: &mut RemoteConnections) {
    for note in connections.take_notes() {
        ctx.out
            .note(&ctx.out.server_text_err(&format!("note: {note}")));
    }
}

/// The push URL of environment `name` of pix.toml, parsed.
fn environment_remote_url(config: Option<&PixConfig>, name: &str) -> Option<RemoteUrl> {
    remote::environment_url(config?, name).and_then(|u| RemoteUrl::parse(&u))
}

/// What a push would do, as in `--json`'s `push` (pure).
pub fn prediction(p: &PushPrediction) -> &'static str {
    match p {
        PushPrediction::Create => "create",
        PushPrediction::UpToDate => "up_to_date",
        PushPrediction::FastForward => "fast_forward",
        PushPrediction::Rejected => "rejected",
    }
}

/// A `--json` value as the table shows it (pure): `up_to_date` → `up to
/// date`.
pub fn cell(value: &str) -> String {
    value.replace('_', " ")
}

/// The status table's rows (pure): the same values as `--json` (`push`:
/// what a plain push of the local ref would do; `deploy`: what a deploy
/// would do, the column `--exit-code` looks at), through [`cell`].
pub fn status_rows(divs: &[Divergence]) -> Vec<Vec<String>> {
    divs.iter()
        .map(|d| {
            vec![
                match d.source {
                    RemoteSource::GitRemote => d.remote.clone(),
                    RemoteSource::Environment => "-".to_string(),
                },
                d.app.clone(),
                d.deploy_branch.clone(),
                d.remote_sha
                    .as_deref()
                    .map(|s| short(s).to_string())
                    .unwrap_or_else(|| "-".into()),
                short(&d.local_sha).to_string(),
                d.ahead.to_string(),
                d.behind.to_string(),
                cell(prediction(&d.push)),
                cell(d.deploy.as_str()),
                d.environments.join(","),
            ]
        })
        .collect()
}

/// The status table's headers.
pub const STATUS_HEADERS: [&str; 10] = [
    "REMOTE",
    "APP",
    "BRANCH",
    "REMOTE SHA",
    "LOCAL SHA",
    "AHEAD",
    "BEHIND",
    "PUSH",
    "DEPLOY",
    "ENVIRONMENTS",
];

/// The exit code of `pix remote status --exit-code` (pure): a deploy that
/// would stop on foreign commits first, then a rejected push.
pub fn status_exit_code(divs: &[Divergence]) -> i32 {
    if divs
        .iter()
        .any(|d| d.deploy == DeployPrediction::BlockedForeignCommits)
    {
        exit::FOREIGN_COMMITS
    } else if divs.iter().any(|d| d.deploy == DeployPrediction::Rejected) {
        exit::REJECTED
    } else {
        exit::OK
    }
}

/// What to do about a remote (pure): for one `pix deploy` deployed (from
/// `source`), how it compares with the local commit; for one a deploy would
/// stop on, the foreign commits and the repairs; for one a plain push would
/// be rejected by, the repairs.
pub fn repair_hint(d: &Divergence, source: Option<&str>) -> Option<String> {
    if d.app_exists == Some(false) {
        let how = match d.environments.first() {
            Some(env) => format!(
                "create it with `pix --env {env} apps create {}`, then `pix deploy {env}`",
                d.app
            ),
            None => "a push creates it".to_string(),
        };
        return Some(format!(
            "{}: app {} does not exist on its host (nothing was fetched); {how}",
            d.remote, d.app
        ));
    }
    if d.push == PushPrediction::Rejected && !d.lineage {
        return Some(
        format!(
            "{}: holds {} commit(s) that {} lacks, so a push is rejected{}. Merge them: `pix remote repair {} --merge`; or replace them: `pix remote repair {} --force`",
            d.remote,
            d.behind,
            d.local_ref,
            if d.same_tree {
                " (the deployed tree is the same as yours)"
            } else {
                ""
            },
            d.remote,
            d.remote
        ));
    }

    if d.deploy == DeployPrediction::BlockedForeignCommits {
        let listed: Vec<String> = remote::foreign_lines(d)
            .iter()
            .map(|l| format!("\n  {}", neutralise(l)))
            .collect();
        return Some(format!(
            "{}: holds {} commit(s) that `pix deploy` did not make (pushed straight to Dokku); a deploy would undo them, so it stops:{}\nKeep them: `pix remote repair {} --merge`; or replace them: `pix remote repair {} --force`",
            d.remote,
            d.foreign_count,
            listed.concat(),
            d.remote,
            d.remote
        ));
    }
    if let Some(src) = source {
        let env = d
            .environments
            .first()
            .map(String::as_str)
            .unwrap_or("<env>");
        return Some(
            if d.deploy == DeployPrediction::UpToDate && src == d.local_sha {
                format!(
                    "{}: deployed by `pix deploy` from {} ({}): up to date",
                    d.remote,
                    short(src),
                    d.local_ref
                )
            } else if d.deploy == DeployPrediction::UpToDate {
                format!(
                "{}: deployed by `pix deploy` from {}, {} is {} with the same deploy folder: up to date (`pix deploy {env}` deploys it once the folder changes)",
                d.remote,
                short(src),
                d.local_ref,
                short(&d.local_sha)
            )
            } else {
                format!(
                "{}: deployed by `pix deploy` from {}, {} is {}: `pix deploy {env}` deploys it (a fast-forward; nothing to do if the folder did not change); git push and `pix remote repair` are for remotes pushed to directly",
                d.remote,
                short(src),
                d.local_ref,
                short(&d.local_sha)
            )
            },
        );
    }
    None
}

/// One line describing a divergence, for stderr before a repair (pure).
pub fn divergence_line(d: &Divergence) -> String {
    format!(
        "{} ({}, branch {}): remote {}, {} {}; {} ahead, {} behind",
        d.remote,
        neutralise(&d.url),
        d.deploy_branch,
        d.remote_sha.as_deref().map(short).unwrap_or("none"),
        d.local_ref,
        short(&d.local_sha),
        d.ahead,
        d.behind
    )
}

/// The conflict report of `repair --merge` (pure).
pub fn conflict_lines(
    d: &Divergence,
    files: &[String],
    steps: &[String],
    color: bool,
) -> Vec<String> {
    let mut lines = vec![format!(
        "{} merging {}'s {} into {} conflicts in: {}. The merge was aborted: your work tree is as it was.",
        paint("✗", "31", color),
        d.remote,
        d.deploy_branch,
        d.local_ref,
        files.iter().map(|f| neutralise(f)).collect::<Vec<_>>().join(", ")
    )];
    lines.push("To merge by hand:".into());
    lines.extend(steps.iter().map(|s| format!("  {}", neutralise(s))));
    lines.push(format!(
        "Or replace the remote's commits instead: `pix remote repair {} --force`",
        d.remote
    ));
    lines
}

/// `--json` of `repair`: the divergence read, then what was done.
#[derive(Debug, Serialize)]
pub struct RepairResult<'a, T: Serialize> {
    /// The divergence before the repair.
    pub before: &'a Divergence,
    /// What the repair did.
    pub result: &'a T,
}

/// `pix remote ...`.
pub async fn remote(ctx: &Ctx, cmd: &RemoteCmd) -> Result<(), Failure> {
    let ambient = ctx.ambient()?;
    let config = ambient.config.as_ref();
    let git = Git::new(ctx.cwd()?);
    let inside = git
        .query(&["rev-parse", "--git-dir"])
        .await
        .map_err(pix_ops::OpsError::from)?;
    if inside.is_none() {
        return Err(Failure::usage(format!(
            "{} is not inside a git repository: run `pix remote` in the repository whose remotes to check",
            git.dir().display()
        )));
    }
    let listed = git
        .capture(&["remote", "-v"])
        .await
        .map_err(pix_ops::OpsError::from)?;
    let remotes = parse_remote_list(&listed);
    match cmd {
        RemoteCmd::Status(status_args) => {
            // Each remote read on its own (as `remote::status` does), so one
            // unreachable host does not hide the others: its error is
            // reported and decides the exit code, after the table.
            let mut targets: Vec<(String, RemoteUrl)> = remotes
                .iter()
                .map(|(name, url, _)| (name.clone(), url.clone()))
                .collect();
            if let Some(config) = config {
                for env in remote::environments_without_remote(config, &remotes) {
                    if let Some(url) = environment_remote_url(Some(config), &env) {
                        targets.push((env, url));
                    }
                }
            }
            let mut divs = Vec::new();
            let mut failed: Option<Failure> = None;
            let mut connections = RemoteConnections::new(ctx.connect_options());
            for (name, url) in &targets {
                let options = connections.options_for(config, url, ctx.g.port).await;
                print_notes(ctx, &mut connections);
                match remote::read_divergence(&git, config, name, &options).await {
                    Ok(d) => divs.push(d),
                    Err(e) => {
                        let e = Failure::from(e);
                        ctx.out.note(&format!(
                            "{} {name}: {}",
                            paint("error:", "1;31", ctx.out.color_err),
                            ctx.out.server_text_err(&e.message())
                        ));
                        failed.get_or_insert(e);
                    }
                }
            }
            connections.close().await;
            if ctx.out.json {
                ctx.out.json(&divs)?;
            } else if divs.is_empty() && failed.is_none() {
                ctx.out.line(
                    "no Dokku remote (dokku@HOST:APP or ssh://dokku@HOST[:PORT]/APP) in `git remote -v`, and no environment in pix.toml",
                )?;
            } else if !divs.is_empty() {
                let sources = deployed_from(&git, &divs).await;
                ctx.out.table(&STATUS_HEADERS, &status_rows(&divs))?;
                for (d, s) in divs.iter().zip(&sources) {
                    if let Some(hint) = repair_hint(d, s.as_deref()) {
                        ctx.out.line(&hint)?;
                    }
                }
            }
            match failed {
                Some(e) => exit_with(exit::code(&e)),
                None if status_args.exit_code => exit_with(status_exit_code(&divs)),
                None => Ok(()),
            }
        }
        RemoteCmd::Repair(args) => {
            // A git remote, else an environment of pix.toml without one (a
            // name, an alias, or `branch`: the current branch's review app).
            let mut target = None;
            let url = match remotes.iter().find(|(n, _, _)| *n == args.remote) {
                Some((_, url, _)) => Some(url.clone()),
                None => match config {
                    Some(c) => {
                        let (_, overrides) = ctx.config_and_overrides()?;
                        let name = pix_ops::deploy::environment_name(c, &args.remote, &overrides);
                        match pix_ops::deploy::resolve_target(c, &name, &overrides, &git).await {
                            Ok(t) => {
                                let url =
                                    RemoteUrl::parse(&pix_ops::push::git_url(&t.host, &t.app));
                                target = Some(t);
                                url
                            }
                            Err(_) => environment_remote_url(config, &args.remote),
                        }
                    }
                    None => None,
                },
            };
            let mut connections = RemoteConnections::new(ctx.connect_options());
            let mut options = match url {
                Some(url) => connections.options_for(config, &url, ctx.g.port).await,
                None => RemoteOptions::default(),
            };
            print_notes(ctx, &mut connections);
            connections.close().await;
            options.deploy_target = target;
            repair(ctx, &git, config, args, &options).await
        }
    }
}

async fn repair(
    ctx: &Ctx,
    git: &Git,
    config: Option<&PixConfig>,
    args: &RepairArgs,
    options: &RemoteOptions,
) -> Result<(), Failure> {
    let read = remote::read_divergence(git, config, &args.remote, options).await?;
    let display = DeployDisplay::default();
    if read.lineage {
        return repair_lineage(ctx, git, config, args, options, &read).await;
    }
    if args.merge {
        if let Some(src) = deployed_from(git, std::slice::from_ref(&read))
            .await
            .pop()
            .flatten()
        {
            return Err(pix_ops::OpsError::Refused {
                message: format!(
                    "{}'s {} was deployed by `pix deploy` (from {}): its tree is the deploy folder, not your branch, so merging it would mix the two; nothing was done. Deploy with `pix deploy {}` instead (it builds on top of the remote's commit), or replace it with `pix remote repair {} --force`",
                    read.remote,
                    read.deploy_branch,
                    short(&src),
                    read.environments.first().map(String::as_str).unwrap_or("<env>"),
                    read.remote
                ),
            }
            .into());
        }
    }
    ctx.out.note(&divergence_line(&read));
    let what = format!(
        "{} to {}'s {}",
        read.local_ref, read.remote, read.deploy_branch
    );
    if args.merge {
        let command = format!("pix remote repair {} --merge", args.remote);
        let outcome = match interruptible(remote::repair_merge(git, &read, options, &display)).await
        {
            None => {
                return Err(Failure::Interrupted(format!(
                    "interrupted: check `git status` (a merge in progress ends with `git merge --abort`), then run `{command}` again"
                )))
            }
            Some(r) => r?,
        };
        let code = match &outcome {
            MergeOutcome::NothingToMerge { push: None } => exit::OK,
            MergeOutcome::NothingToMerge { push: Some(p) }
            | MergeOutcome::Merged { push: p, .. } => exit::push_code(p),
            MergeOutcome::Conflicts { .. } => exit::CONFLICT,
            MergeOutcome::Replayed { deploy, .. } => exit::deploy_code(&deploy.outcome),
        };
        if ctx.out.json {
            ctx.out.json(&RepairResult {
                before: &read,
                result: &outcome,
            })?;
            return exit_with(code);
        }
        match &outcome {
            MergeOutcome::NothingToMerge { push: None } => ctx.out.line(&format!(
                "nothing to repair: {} holds no commit {} lacks, and {} is already there",
                read.remote, read.local_ref, read.local_ref
            ))?,
            MergeOutcome::NothingToMerge { push: Some(p) } => {
                render_push(p, &read.app, &what, &command, ctx.out.color).print(&ctx.out)?
            }
            MergeOutcome::Merged { merge, push } => {
                ctx.out.line(&format!(
                    "{} merged {} commit(s) of {} into {} (merge {})",
                    ctx.out.ok_mark("✓"),
                    read.behind,
                    read.remote,
                    read.local_ref,
                    short(merge)
                ))?;
                render_push(push, &read.app, &what, &command, ctx.out.color).print(&ctx.out)?
            }
            MergeOutcome::Conflicts { files, next_steps } => {
                for line in conflict_lines(&read, files, next_steps, ctx.out.color_err) {
                    ctx.out.note(&line);
                }
            }
            MergeOutcome::Replayed { .. } => {}
        }
        return exit_with(code);
    }
    let command = format!("pix remote repair {} --force", args.remote);
    let flags = ConfirmFlags {
        yes: args.yes,
        confirm: args.confirm.clone(),
    };
    let mut prompter = TerminalPrompter;
    let run = remote::repair_force(git, &read, options, &flags, &mut prompter, &display);
    let pushed = match interruptible(run).await {
        None => {
            return Err(Failure::Interrupted(format!(
                "interrupted: see `pix remote status`, then run `{command}` again if needed"
            )))
        }
        Some(r) => r?,
    };
    let code = exit::push_code(&pushed);
    if ctx.out.json {
        ctx.out.json(&RepairResult {
            before: &read,
            result: &pushed,
        })?;
    } else {
        render_push(&pushed, &read.app, &what, &command, ctx.out.color).print(&ctx.out)?;
    }
    exit_with(code)
}

/// The deploy target a lineage repair deploys: the one resolved from the
/// name given, else the first environment of pix.toml deploying the app.
fn lineage_target(
    ctx: &Ctx,
    config: Option<&PixConfig>,
    options: &RemoteOptions,
    read: &Divergence,
) -> Result<pix_ops::deploy::DeployTarget, Failure> {
    if let Some(t) = &options.deploy_target {
        return Ok(t.clone());
    }
    let (Some(config), Some(env)) = (config, read.environments.first()) else {
        return Err(Failure::usage(format!(
            "{} holds commits made by `pix deploy` but no environment of pix.toml deploys app {}: add it to pix.toml, then run `pix remote repair ENV` with its name",
            read.remote, read.app
        )));
    };
    let (_, overrides) = ctx.config_and_overrides()?;
    let env = config.environment(env, &overrides)?;
    Ok(pix_ops::deploy::DeployTarget::from_environment(&env))
}

/// `pix remote repair` on a deploy lineage (see `pix_ops::remote`).
async fn repair_lineage(
    ctx: &Ctx,
    git: &Git,
    config: Option<&PixConfig>,
    args: &RepairArgs,
    options: &RemoteOptions,
    read: &Divergence,
) -> Result<(), Failure> {
    let mut target = lineage_target(ctx, config, options, read)?;
    if let Some(user) = &ctx.g.user {
        target.host.user = user.clone();
    }
    pix_ops::deploy::refuse_local(&target.host)?;
    let how = if args.merge { "--merge" } else { "--force" };
    let command = format!("pix remote repair {} {how}", args.remote);
    ctx.out.note(&format!(
        "{} ({}, branch {}): deployed by `pix deploy` from {}/ of your branch; {} commit(s) on it not made by `pix deploy`",
        read.remote,
        neutralise(&read.url),
        read.deploy_branch,
        target.deploy_dir.as_deref().unwrap_or("."),
        read.foreign_count
    ));
    for line in remote::foreign_lines(read) {
        ctx.out.note(&format!("  {}", neutralise(&line)));
    }
    let deploy_options = pix_ops::deploy::DeployOptions {
        repo: git.dir().to_path_buf(),
        connect: ctx.connect_options(),
        confirm: ConfirmFlags {
            yes: args.yes,
            confirm: args.confirm.clone(),
        },
        command: command.clone(),
        ..pix_ops::deploy::DeployOptions::default()
    };
    let client = ctx.connect_to(&target.host).await?;
    let display = DeployDisplay::default();
    let mut prompter = TerminalPrompter;
    let flags = ConfirmFlags {
        yes: args.yes,
        confirm: args.confirm.clone(),
    };
    let result = if args.merge {
        interruptible(remote::repair_lineage_merge(
            &client,
            git,
            read,
            &target,
            &deploy_options,
            &mut prompter,
            &display,
        ))
        .await
        .map(|r| r.map(Ok))
    } else {
        interruptible(remote::repair_lineage_force(
            &client,
            read,
            &target,
            &deploy_options,
            &flags,
            &mut prompter,
            &display,
        ))
        .await
        .map(|r| r.map(Err))
    };
    let _ = client.close().await;
    let done = match result {
        None => {
            return Err(Failure::Interrupted(format!(
                "interrupted: check `git status` (a cherry-pick in progress ends with `git cherry-pick --abort`) and `pix remote status`, then run `{command}` again"
            )))
        }
        Some(r) => r?,
    };
    let deploy_command = remote::deploy_command(&target);
    match done {
        Ok(MergeOutcome::Replayed { replay, deploy }) => {
            let code = exit::deploy_code(&deploy.outcome);
            if ctx.out.json {
                ctx.out.json(&RepairResult {
                    before: read,
                    result: &MergeOutcome::Replayed { replay, deploy },
                })?;
                return exit_with(code);
            }
            let branch = deploy
                .source_branch
                .clone()
                .unwrap_or_else(|| "HEAD".into());
            ctx.out.line(&format!(
                "{} brought {} commit(s) of {} into {} (commit {})",
                ctx.out.ok_mark("✓"),
                read.foreign_count,
                read.app,
                neutralise(&branch),
                short(&replay)
            ))?;
            render_outcome(&deploy, &deploy_command, ctx.out.color).print(&ctx.out)?;
            let upstream = git
                .query(&["rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}"])
                .await
                .ok()
                .flatten();
            if code == exit::OK {
                ctx.out.line(&match upstream {
                    Some(_) => "Share the commit with your team so the next deploy keeps it: `git push`"
                        .to_string(),
                    None => format!(
                        "Share commit {} with your team so the next deploy from another clone keeps it (push {} where your team pushes it)",
                        short(&replay),
                        neutralise(&branch)
                    ),
                })?;
            }
            exit_with(code)
        }
        Ok(MergeOutcome::Conflicts { files, next_steps }) => {
            if ctx.out.json {
                ctx.out.json(&RepairResult {
                    before: read,
                    result: &MergeOutcome::Conflicts { files, next_steps },
                })?;
                return exit_with(exit::CONFLICT);
            }
            let mut lines = vec![format!(
                "{} bringing {}'s commits into {} conflicts in: {}. The cherry-pick was aborted: your work tree is as it was.",
                paint("✗", "31", ctx.out.color_err),
                read.app,
                read.local_ref,
                files.iter().map(|f| neutralise(f)).collect::<Vec<_>>().join(", ")
            )];
            lines.push("To do it by hand:".into());
            lines.extend(next_steps.iter().map(|s| format!("  {}", neutralise(s))));
            lines.push(format!(
                "Or replace the remote's commits instead: `pix remote repair {} --force`",
                args.remote
            ));
            for line in lines {
                ctx.out.note(&line);
            }
            exit_with(exit::CONFLICT)
        }
        Ok(other) => {
            // The lineage merge returns only the two outcomes above.
            ctx.out.json(&other)?;
            Ok(())
        }
        Err(report) => {
            let code = exit::deploy_code(&report.outcome);
            if ctx.out.json {
                ctx.out.json(&RepairResult {
                    before: read,
                    result: &report,
                })?;
            } else {
                render_outcome(&report, &command, ctx.out.color).print(&ctx.out)?;
            }
            exit_with(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn div(push: PushPrediction) -> Divergence {
        Divergence {
            remote: "dokku".into(),
            source: RemoteSource::GitRemote,
            url: "dokku@h:a".into(),
            tracking: "refs/remotes/dokku/master".into(),
            protected: false,
            app: "a".into(),
            deploy_branch: "master".into(),
            remote_sha: Some("1111111111111111".into()),
            local_ref: "HEAD".into(),
            local_sha: "2222222222222222".into(),
            ahead: 1,
            behind: 2,
            push,
            environments: vec!["staging".into()],
            same_tree: false,
            app_exists: None,
            lineage: false,
            deploy: DeployPrediction::Rejected,
            foreign: vec![],
            foreign_count: 0,
        }
    }

    #[test]
    fn status_rows_and_hints() {
        let d = div(PushPrediction::Rejected);
        assert_eq!(
            status_rows(std::slice::from_ref(&d)),
            [[
                "dokku",
                "a",
                "master",
                "111111111111",
                "222222222222",
                "1",
                "2",
                "rejected",
                "rejected",
                "staging"
            ]]
        );
        assert_eq!(status_exit_code(std::slice::from_ref(&d)), exit::REJECTED);
        let hint = repair_hint(&d, None).unwrap();
        assert!(hint.contains("holds 2 commit(s) that HEAD lacks"), "{hint}");
        assert!(hint.contains("pix remote repair dokku --merge"), "{hint}");
        assert_eq!(repair_hint(&div(PushPrediction::FastForward), None), None);
        // deployed by pix deploy: no plain-push advice; the table says
        // what --json says
        let d = Divergence {
            lineage: true,
            deploy: DeployPrediction::FastForward,
            ..d
        };
        let rows = status_rows(std::slice::from_ref(&d));
        assert_eq!(
            (rows[0][7].as_str(), rows[0][8].as_str()),
            ("rejected", "fast forward")
        );
        assert_eq!(
            cell(
                serde_json::to_value(&d).unwrap()["deploy"]
                    .as_str()
                    .unwrap()
            ),
            rows[0][8]
        );
        assert_eq!(status_exit_code(std::slice::from_ref(&d)), exit::OK);
        let hint = repair_hint(&d, Some("3333333333333333")).unwrap();
        assert!(hint.contains("`pix deploy staging` deploys it"), "{hint}");
        let up = Divergence {
            deploy: DeployPrediction::UpToDate,
            ..d.clone()
        };
        let hint = repair_hint(&up, Some("2222222222222222")).unwrap();
        assert!(hint.ends_with("up to date"), "{hint}");
        // commits pushed straight to Dokku: listed, with both repairs
        let blocked = Divergence {
            deploy: DeployPrediction::BlockedForeignCommits,
            foreign: vec![pix_ops::lineage::ForeignCommit {
                sha: "4444444444444444".into(),
                author: "Jane <jane@example.test>".into(),
                subject: "hotfix".into(),
            }],
            foreign_count: 1,
            ..d
        };
        assert_eq!(
            status_exit_code(&[up, blocked.clone()]),
            exit::FOREIGN_COMMITS
        );
        let hint = repair_hint(&blocked, Some("3333333333333333")).unwrap();
        assert!(
            hint.contains("444444444444 hotfix (Jane <jane@example.test>)")
                && hint.contains("`pix remote repair dokku --merge`")
                && hint.contains("`pix remote repair dokku --force`"),
            "{hint}"
        );
    }

    #[test]
    fn environments_without_a_remote_have_no_remote_column_and_repair_by_name() {
        let d = Divergence {
            remote: "staging".into(),
            source: RemoteSource::Environment,
            url: "dokku@h:a".into(),
            tracking: "refs/pix/environments/staging/master".into(),
            ..div(PushPrediction::Rejected)
        };
        let rows = status_rows(std::slice::from_ref(&d));
        assert_eq!(rows[0][0], "-");
        assert_eq!(rows[0][9], "staging");
        let hint = repair_hint(&d, None).unwrap();
        assert!(hint.contains("pix remote repair staging --merge"), "{hint}");
        assert_eq!(d.push_target(), "dokku@h:a");
        let missing = Divergence {
            app_exists: Some(false),
            remote_sha: None,
            push: PushPrediction::Create,
            ..d
        };
        let hint = repair_hint(&missing, None).unwrap();
        assert!(
            hint.contains("app a does not exist")
                && hint.contains("`pix --env staging apps create a`, then `pix deploy staging`"),
            "{hint}"
        );
    }

    #[test]
    fn conflicts_list_the_steps() {
        let d = div(PushPrediction::Rejected);
        let lines = conflict_lines(
            &d,
            &["VERSION".into()],
            &["git merge refs/remotes/dokku/master".into()],
            false,
        );
        assert!(lines[0].contains("conflicts in: VERSION"), "{lines:?}");
        assert_eq!(lines[2], "  git merge refs/remotes/dokku/master");
        assert!(lines[3].contains("--force"));
    }
}
