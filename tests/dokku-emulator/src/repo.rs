//! `repo:gc` (Dokku's `plugins/repo`, Go: `subcommands.go`, `repo.go`).
//!
//! `RepoGc` reads every loose head under the app's bare repository's
//! `refs/heads`, runs `git gc --aggressive` with `GIT_DIR` set to the
//! repository (its stderr streamed to the caller, its stdout kept), and
//! writes the heads back afterwards whatever happened (a failed write is a
//! warning); a non-zero exit is `Unable to run git gc: <its stderr>`.

use std::path::Path;
use std::process::{Command, Stdio};

use super::{git, go_parse, Code, Ctx};

/// `repo:gc <app>`.
pub(crate) fn gc(ctx: &mut Ctx, args: &[String]) -> Code {
    let a = match go_parse(ctx, "repo:gc", args, &[]) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let app = a.positional.first().cloned().unwrap_or_default();
    if let Err(c) = ctx.load_app(&app) {
        return c;
    }
    let repo = ctx.layout.repo_dir(&app);
    let heads_dir = repo.join("refs").join("heads");
    let heads = match read_heads(&heads_dir) {
        Ok(h) => h,
        Err(e) => return ctx.fail(&format!("Unable to read heads directory: {e}")),
    };
    let out = Command::new(git::git_bin(ctx, "git"))
        .args(["gc", "--aggressive"])
        .env("GIT_DIR", &repo)
        .stdin(Stdio::null())
        .output();
    if let Ok(o) = &out {
        ctx.io.err(&String::from_utf8_lossy(&o.stderr));
    }
    for (name, contents) in &heads {
        if let Err(e) = std::fs::write(heads_dir.join(name), contents) {
            ctx.warn(&format!("Unable to write head file: {e}\n"));
        }
    }
    match out {
        Err(e) => ctx.fail(&format!("Unable to run git gc: {e}")),
        Ok(o) if !o.status.success() => ctx.fail(&format!(
            "Unable to run git gc: {}",
            String::from_utf8_lossy(&o.stderr)
        )),
        Ok(_) => 0,
    }
}

/// The loose heads (file name and contents); none when the directory does
/// not exist (`common.DirectoryExists`).
fn read_heads(dir: &Path) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut heads = Vec::new();
    if !dir.is_dir() {
        return Ok(heads);
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            continue;
        }
        let contents = std::fs::read(entry.path())?;
        heads.push((entry.file_name().to_string_lossy().into_owned(), contents));
    }
    Ok(heads)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_the_loose_files_only() {
        let dir = std::env::temp_dir().join(format!("repo-heads-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(read_heads(&dir).is_ok_and(|h| h.is_empty()));
        std::fs::create_dir_all(dir.join("feature")).unwrap_or_default();
        std::fs::write(dir.join("master"), "abc\n").unwrap_or_default();
        let heads = read_heads(&dir).unwrap_or_default();
        assert_eq!(heads, vec![("master".to_owned(), b"abc\n".to_vec())]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
