//! Releases: what was deployed to an environment, read from the Dokku
//! remote's history, and rollbacks to one of them (`pix releases ENV`,
//! `pix rollback ENV [RELEASE]`), as Heroku users know them.
//!
//! A release is a commit on the first-parent history of the app's deploy
//! branch, numbered from the oldest (`v1`). Its source revision comes from
//! the `Source-Commit:`/`Source-Branch:` trailers pix deploy writes (none for
//! commits pushed another way). A rollback deploys the chosen release's tree
//! as a new commit on top of what the remote holds, through
//! [`deploy::deploy`]: always a fast-forward, with a deploy's confirmation
//! rules, lock check and refusal of commits pix did not make.

use serde::Serialize;

use crate::confirm::Prompter;
use crate::connect::ConnectOptions;
use crate::deploy::{self, DeployEvent, DeployOptions, DeployReport, DeployTarget};
use crate::error::{OpsError, Result};
use crate::git::Git;
use crate::progress::Progress;
use crate::push;
use dokku_client::Client;

/// One deploy of an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Release {
    /// `1` for the oldest; shown as `v1`.
    pub version: usize,
    /// The commit on the Dokku remote.
    pub commit: String,
    /// The source revision it was built from (`Source-Commit:`), when pix
    /// deployed it.
    pub source_commit: Option<String>,
    /// The source branch (`Source-Branch:`).
    pub source_branch: Option<String>,
    /// When it was committed (ISO 8601).
    pub date: String,
    /// Who: the source commit's author as pix records it, else the commit's.
    pub author: String,
    /// The first line of its message.
    pub subject: String,
    /// True for the release the app runs (the branch's tip).
    pub current: bool,
}

/// Parses `git log --first-parent --format=%H%x1f%aI%x1f%an <%ae>%x1f%B%x1e`
/// output, newest first (pure).
pub fn parse_log(text: &str) -> Vec<Release> {
    let mut out: Vec<Release> = text
        .split('\u{1e}')
        .filter_map(|record| {
            let record = record.trim_start_matches('\n');
            let mut fields = record.splitn(4, '\u{1f}');
            let commit = fields.next()?.trim().to_string();
            if commit.is_empty() {
                return None;
            }
            let date = fields.next()?.trim().to_string();
            let author = fields.next()?.trim().to_string();
            let body = fields.next().unwrap_or("");
            let (source_commit, source_branch) = deploy::parse_message(body);
            Some(Release {
                version: 0,
                commit,
                source_commit,
                source_branch,
                date,
                author,
                subject: body.lines().next().unwrap_or("").trim().to_string(),
                current: false,
            })
        })
        .collect();
    let count = out.len();
    for (i, r) in out.iter_mut().enumerate() {
        r.version = count - i;
        r.current = i == 0;
    }
    out
}

/// The release `wanted` names (pure): `vN`/`N`, or a commit prefix (of the
/// deploy commit or of its source, 7 characters at least); none: the one
/// before the current release.
pub fn pick<'a>(releases: &'a [Release], wanted: Option<&str>) -> Result<&'a Release> {
    let listed = || {
        releases
            .iter()
            .take(5)
            .map(|r| format!("v{} {}", r.version, &r.commit[..r.commit.len().min(12)]))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(wanted) = wanted else {
        return releases.get(1).ok_or_else(|| OpsError::Precondition {
            message: format!(
                "there is no earlier release to roll back to ({} release(s): {})",
                releases.len(),
                listed()
            ),
        });
    };
    let number = wanted.strip_prefix('v').unwrap_or(wanted);
    if let Ok(n) = number.parse::<usize>() {
        if let Some(r) = releases.iter().find(|r| r.version == n) {
            return Ok(r);
        }
    }
    let hex = wanted.len() >= 7 && wanted.bytes().all(|b| b.is_ascii_hexdigit());
    let matches: Vec<&Release> = if hex {
        releases
            .iter()
            .filter(|r| {
                r.commit.starts_with(wanted)
                    || r.source_commit
                        .as_deref()
                        .is_some_and(|s| s.starts_with(wanted))
            })
            .collect()
    } else {
        Vec::new()
    };
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(OpsError::NotFound {
            message: format!(
                "no release {wanted:?}: name one as vN or by commit (latest: {})",
                listed()
            ),
        }),
        many => Err(OpsError::Usage {
            message: format!(
                "{wanted:?} names {} releases ({}); use vN",
                many.len(),
                many.iter()
                    .map(|r| format!("v{}", r.version))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// Fetches the app's deploy branch into pix's ref for it and lists its
/// releases, newest first. Read-only on the server (`apps:exists` first:
/// Dokku creates a missing app on `git-upload-pack`).
pub async fn list(
    client: &Client,
    target: &DeployTarget,
    repo: &std::path::Path,
    connect: &ConnectOptions,
) -> Result<Vec<Release>> {
    if !client.apps_exists(&target.app).await? {
        return Err(dokku_client::Error::app_not_found(&target.app).into());
    }
    let branch = deploy::deploy_branch(client, &target.app).await?;
    let git = Git::new(repo).ssh_command(&push::git_ssh_command(&target.host, connect));
    let url = push::git_url(&target.host, &target.app);
    let keep = deploy::deployed_ref(&target.host, &target.app);
    let listed = git
        .capture(&["ls-remote", &url, &format!("refs/heads/{branch}")])
        .await?;
    if listed.trim().is_empty() {
        return Ok(Vec::new());
    }
    git.capture(&[
        "fetch",
        "--no-tags",
        "--quiet",
        &url,
        &format!("+refs/heads/{branch}:{keep}"),
    ])
    .await?;
    let log = git
        .capture(&[
            "log",
            "--first-parent",
            "--format=%H%x1f%aI%x1f%an <%ae>%x1f%B%x1e",
            &keep,
        ])
        .await?;
    Ok(parse_log(&log))
}

/// Rolls `target` back to the release `wanted` names (default: the one
/// before the current): a deploy of that release's tree as a new commit on
/// top of the remote (see the module docs).
pub async fn rollback(
    client: &Client,
    target: &DeployTarget,
    wanted: Option<&str>,
    options: &DeployOptions,
    prompter: &mut dyn Prompter,
    progress: &dyn Progress<DeployEvent>,
) -> Result<(Release, DeployReport)> {
    let releases = list(client, target, &options.repo, &options.connect).await?;
    let release = pick(&releases, wanted)?.clone();
    // The release commit's tree is already the deployed folder's tree.
    let mut whole = target.clone();
    whole.deploy_dir = None;
    let options = DeployOptions {
        rev: Some(release.commit.clone()),
        ..options.clone()
    };
    let report = deploy::deploy(client, &whole, &options, prompter, progress).await?;
    Ok((release, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "c3\u{1f}2026-12-03T10:00:00+00:00\u{1f}pix deploy <pix-deploy@localhost>\u{1f}Deploy api/ from aaa333 of main\n\nSource-Commit: aaa3330000\nSource-Branch: main\n\u{1e}\nc2\u{1f}2026-12-02T10:00:00+00:00\u{1f}Alice <a@p>\u{1f}hotfix\n\u{1e}\nc1\u{1f}2026-12-01T10:00:00+00:00\u{1f}pix deploy <pix-deploy@localhost>\u{1f}Deploy api/ from aaa1110000\n\nSource-Commit: aaa1110000\n\u{1e}\n";

    fn releases() -> Vec<Release> {
        let mut r = parse_log(LOG);
        // (commit ids long enough to be named by prefix)
        for (x, id) in r.iter_mut().zip(["c3c3c3c3c3", "c2c2c2c2c2", "c1c1c1c1c1"]) {
            x.commit = id.into();
        }
        r
    }

    #[test]
    fn the_log_becomes_numbered_releases() {
        let r = parse_log(LOG);
        assert_eq!(r.len(), 3);
        assert_eq!((r[0].version, r[0].current), (3, true));
        assert_eq!(r[0].source_branch.as_deref(), Some("main"));
        assert_eq!(r[1].source_commit, None);
        assert_eq!(r[1].author, "Alice <a@p>");
        assert_eq!(
            (r[2].version, r[2].subject.as_str()),
            (1, "Deploy api/ from aaa1110000")
        );
        assert!(parse_log("").is_empty());
    }

    #[test]
    fn releases_are_named_by_version_or_commit() {
        let r = releases();
        assert_eq!(
            pick(&r, None).unwrap().version,
            2,
            "default: the previous one"
        );
        assert_eq!(pick(&r, Some("v1")).unwrap().version, 1);
        assert_eq!(pick(&r, Some("3")).unwrap().version, 3);
        assert_eq!(pick(&r, Some("c1c1c1c")).unwrap().version, 1);
        assert_eq!(
            pick(&r, Some("aaa3330")).unwrap().version,
            3,
            "by source commit"
        );
        assert!(matches!(
            pick(&r, Some("v9")),
            Err(OpsError::NotFound { .. })
        ));
        assert!(matches!(
            pick(&r[..1], None),
            Err(OpsError::Precondition { .. })
        ));
    }
}
