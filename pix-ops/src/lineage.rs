//! The deploy lineage: the commits `pix deploy` pushes to an app, and the
//! commits someone pushed there without it.
//!
//! **How pix recognises its own commits.** A deploy commit's message ends
//! with trailers (see [`crate::deploy::deploy_message`]): `Source-Commit:`
//! (the source commit) and `Pix-Tree: <tree>` (the tree pix built). A commit
//! is pix's own when its message has `Source-Commit:` and its `Pix-Tree:`
//! equals its real tree (an amended deploy commit is not pix's any more);
//! deploy commits made before `Pix-Tree:` existed are recognised by
//! `Source-Commit:` alone.
//!
//! **Foreign commits** are the commits reachable from the remote's tip that
//! are none of: pix's own commits and their ancestors (pix saw them: a
//! replacing deploy builds on top of them), commits of the source's history
//! (the source already has them), and remote tips the source has brought in
//! (`Pix-Remote-Tip: <sha>` in a commit of the source's history: written by
//! `pix remote repair ENV --merge`). A deploy is **blocked** when foreign
//! commits exist and its new tree does not already contain their changes (a
//! three-way merge of base → remote tip into the new tree, base being the
//! newest own commit under the tip, else the merge base with the source, is
//! the new tree itself): pushing it would silently undo them.

use serde::Serialize;

use crate::error::Result;
use crate::git::Git;

/// The trailer naming the tree pix built.
pub const TREE_TRAILER: &str = "Pix-Tree:";
/// The trailer naming a remote tip whose commits the source brought in.
pub const REMOTE_TIP_TRAILER: &str = "Pix-Remote-Tip:";
/// How many commits under a foreign tip are searched for pix's own.
pub const SEARCH_DEPTH: usize = 1000;
/// How many foreign commits are listed (the others are counted).
pub const LISTED: usize = 20;

/// A commit on the remote that `pix deploy` did not make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForeignCommit {
    /// Its id.
    pub sha: String,
    /// `Name <email>`.
    pub author: String,
    /// Its first line.
    pub subject: String,
}

/// What the remote's deploy branch holds, seen from the lineage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lineage {
    /// The remote's tip.
    pub tip: String,
    /// Whether the tip is a commit pix made.
    pub tip_is_own: bool,
    /// Whether any commit pix made is under the tip (the app has been
    /// deployed by `pix deploy`).
    pub has_own: bool,
    /// The newest commit pix made under the tip.
    pub base: Option<String>,
    /// The foreign commits (newest first, at most [`LISTED`]).
    pub foreign: Vec<ForeignCommit>,
    /// How many foreign commits there are in all.
    pub foreign_count: usize,
    /// Whether deploying the tree asked about would undo their changes.
    pub undone: bool,
}

impl Lineage {
    /// True when a deploy must stop: foreign commits whose changes the new
    /// tree would undo.
    pub fn blocks(&self) -> bool {
        self.foreign_count > 0 && self.undone
    }
}

/// The value of trailer `key` (`Key:`) in a message (pure).
pub fn trailer(message: &str, key: &str) -> Option<String> {
    message
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Whether a commit with `message` and `tree` is pix's own (pure).
pub fn is_own(message: &str, tree: &str) -> bool {
    if trailer(message, "Source-Commit:").is_none() {
        return false;
    }
    match trailer(message, TREE_TRAILER) {
        Some(t) => t == tree,
        None => true,
    }
}

/// The remote tips named by `Pix-Remote-Tip:` in a message (pure).
pub fn remote_tips(message: &str) -> Vec<String> {
    message
        .lines()
        .filter_map(|l| l.strip_prefix(REMOTE_TIP_TRAILER))
        .map(|v| v.trim().to_string())
        .filter(|v| v.len() == 40 && v.chars().all(|c| c.is_ascii_hexdigit()))
        .collect()
}

async fn exists(git: &Git, sha: &str) -> Result<bool> {
    Ok(git
        .query(&["cat-file", "-e", &format!("{sha}^{{commit}}")])
        .await?
        .is_some())
}

/// Reads the lineage of `tip` (present locally) for a deploy of `tree` from
/// `source` (see the module documentation).
pub async fn read(git: &Git, tip: &str, source: &str, tree: &str) -> Result<Lineage> {
    let head = git
        .capture(&["log", "-1", "--format=%T%x00%B", tip])
        .await?;
    let (tip_tree, message) = head.split_once('\0').unwrap_or((&head, ""));
    if is_own(message, tip_tree) {
        return Ok(Lineage {
            tip: tip.to_string(),
            tip_is_own: true,
            has_own: true,
            base: Some(tip.to_string()),
            foreign: Vec::new(),
            foreign_count: 0,
            undone: false,
        });
    }
    let depth = format!("-n{SEARCH_DEPTH}");
    let log = git
        .capture(&[
            "log",
            "--topo-order",
            &depth,
            "--format=%H%x00%T%x00%B%x1e",
            tip,
        ])
        .await?;
    let own: Vec<String> = log
        .split('\x1e')
        .filter_map(|record| {
            let mut parts = record.trim_start_matches('\n').splitn(3, '\0');
            let (sha, t, msg) = (parts.next()?, parts.next()?, parts.next()?);
            (!sha.is_empty() && is_own(msg, t)).then(|| sha.to_string())
        })
        .collect();
    let mut covered = Vec::new();
    let marked = git
        .capture(&[
            "log",
            "--format=%B%x1e",
            "-F",
            &format!("--grep={REMOTE_TIP_TRAILER}"),
            source,
        ])
        .await?;
    for sha in remote_tips(&marked) {
        if exists(git, &sha).await? {
            covered.push(sha);
        }
    }
    let mut not: Vec<String> = vec!["--not".into(), source.to_string()];
    not.extend(own.iter().cloned());
    not.extend(covered.iter().cloned());
    let mut count_args: Vec<&str> = vec!["rev-list", "--count", tip];
    count_args.extend(not.iter().map(String::as_str));
    let foreign_count: usize = git.capture(&count_args).await?.trim().parse().unwrap_or(0);
    let listed = format!("-n{LISTED}");
    let mut log_args: Vec<&str> = vec!["log", &listed, "--format=%H%x00%an <%ae>%x00%s", tip];
    log_args.extend(not.iter().map(String::as_str));
    let foreign: Vec<ForeignCommit> = if foreign_count == 0 {
        Vec::new()
    } else {
        git.capture(&log_args)
            .await?
            .lines()
            .filter_map(|l| {
                let mut p = l.splitn(3, '\0');
                Some(ForeignCommit {
                    sha: p.next()?.to_string(),
                    author: p.next()?.to_string(),
                    subject: p.next().unwrap_or("").to_string(),
                })
            })
            .collect()
    };
    let base = match own.first() {
        Some(b) => Some(b.clone()),
        None => git.query(&["merge-base", tip, source]).await?,
    };
    let undone = foreign_count > 0 && !contains_changes(git, base.as_deref(), tip, tree).await?;
    Ok(Lineage {
        tip: tip.to_string(),
        tip_is_own: false,
        has_own: !own.is_empty(),
        base: own.first().cloned(),
        foreign,
        foreign_count,
        undone,
    })
}

/// Whether `tree` already holds the changes from `base` to `tip`: a
/// three-way merge of them into `tree` is clean and gives `tree` back.
async fn contains_changes(git: &Git, base: Option<&str>, tip: &str, tree: &str) -> Result<bool> {
    let Some(base) = base else {
        return Ok(false);
    };
    // `merge-tree` merges commits: a throwaway commit of `tree` on `base`.
    let ours = git
        .clone()
        .env("GIT_AUTHOR_NAME", "pix")
        .env("GIT_AUTHOR_EMAIL", "pix@localhost")
        .env("GIT_COMMITTER_NAME", "pix")
        .env("GIT_COMMITTER_EMAIL", "pix@localhost")
        .env("GIT_AUTHOR_DATE", "@0 +0000")
        .env("GIT_COMMITTER_DATE", "@0 +0000")
        .capture(&["commit-tree", tree, "-p", base, "-m", "pix: tree to deploy"])
        .await?;
    let out = git
        .output(&[
            "merge-tree",
            "--write-tree",
            &format!("--merge-base={base}"),
            &ours,
            tip,
        ])
        .await?;
    let merged = out.stdout.lines().next().unwrap_or("").trim();
    Ok(out.success() && merged == tree)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_commits_are_recognised_by_their_trailers() {
        let t = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
        let msg = format!("Deploy api/ from x\n\nSource-Commit: abc\nPix-Tree: {t}\n");
        assert!(is_own(&msg, t));
        assert!(!is_own(&msg, "other"), "an amended deploy commit");
        assert!(is_own("Deploy\n\nSource-Commit: abc\n", "any"), "older pix");
        assert!(!is_own("hotfix login\n", t));
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            remote_tips(&format!(
                "x\n\nPix-Remote-Tip: {sha}\nPix-Remote-Tip: short\n"
            )),
            [sha]
        );
    }
}
