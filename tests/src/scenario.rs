//! Ready-made situations on a sandbox, shared by the end-to-end tests and
//! `cargo xtask demo`: the sample app deployed on a linked, seeded database.
//!
//! Everything here goes through the real `ssh` and `git` binaries, not through
//! `dokku-client`, so the client and the workflows are tested against a state
//! they did not build themselves.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::sandbox::Sandbox;

/// The sample app's source folder (`tests/sample-app`).
pub fn sample_app_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-app")
}

/// Runs a Dokku command over raw `ssh`; returns stdout, or an error with
/// the exit code and both streams.
pub fn dokku(sb: &Sandbox, args: &[&str]) -> Result<String, String> {
    let out = sb
        .ssh_command()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run ssh: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`{}` exited with {}:\n{}{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Commits a copy of the sample app in `work/<app>` (a fresh repository on
/// branch `main`) and returns the repository's path.
pub fn sample_app_repo(work: &Path, name: &str) -> Result<PathBuf, String> {
    let repo = work.join(name);
    std::fs::create_dir_all(&repo).map_err(|e| format!("creating {}: {e}", repo.display()))?;
    let source = sample_app_dir();
    let entries =
        std::fs::read_dir(&source).map_err(|e| format!("reading {}: {e}", source.display()))?;
    for entry in entries.flatten() {
        std::fs::copy(entry.path(), repo.join(entry.file_name()))
            .map_err(|e| format!("copying {}: {e}", entry.path().display()))?;
    }
    git(&repo, &["init", "-q", "-b", "main"])?;
    git(&repo, &["add", "."])?;
    git(&repo, &["commit", "-q", "-m", "sample app"])?;
    Ok(repo)
}

/// Runs git in `repo` with a fixed identity; an error carries git's output.
pub fn git(repo: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .args(["-c", "user.name=pix", "-c", "user.email=pix@sandbox.test"])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(repo)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git {} exited with {}:\n{}{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Pushes `repo`'s HEAD to the app's deploy branch; returns git's output.
pub fn push(sb: &Sandbox, repo: &Path, app: &str) -> Result<String, String> {
    let out = Command::new("git")
        .args(["push", &sb.git_remote(app), "HEAD:master"])
        .env("GIT_SSH_COMMAND", sb.git_ssh_command())
        .current_dir(repo)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        return Err(format!("git push exited with {}:\n{all}", out.status));
    }
    Ok(all)
}

/// Creates `app` and the Postgres service `database`, links them, deploys the
/// sample app (its predeploy migrations create the tables) and seeds `users`
/// rows. Returns the push's output.
pub fn deploy_sample_app(
    sb: &Sandbox,
    work: &Path,
    app: &str,
    database: &str,
    users: u32,
) -> Result<String, String> {
    dokku(sb, &["apps:create", app])?;
    dokku(sb, &["postgres:create", database])?;
    dokku(sb, &["postgres:link", database, app])?;
    let repo = sample_app_repo(work, app)?;
    let pushed = push(sb, &repo, app)?;
    seed(sb, app, users)?;
    Ok(pushed)
}

/// Seeds `users` users (and their courses) through `dokku run`.
pub fn seed(sb: &Sandbox, app: &str, users: u32) -> Result<String, String> {
    dokku(sb, &["run", app, "sh", "seed.sh", &users.to_string()])
}

/// The service's DSN (`postgres:info --dsn`).
pub fn dsn(sb: &Sandbox, database: &str) -> Result<String, String> {
    Ok(dokku(sb, &["postgres:info", database, "--dsn"])?
        .trim_end()
        .to_string())
}

/// Runs one SQL query with `psql` against a DSN and returns its unaligned,
/// tuples-only output, trimmed.
pub fn query(sb: &Sandbox, dsn: &str, sql: &str) -> Result<String, String> {
    let psql = sb.postgres_admin().bin_dir.join("psql");
    let out = Command::new(psql)
        .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql, dsn])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run psql: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "psql `{sql}` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The number of rows of `table` in the database behind `dsn`, or `None` when
/// the table does not exist.
pub fn count_rows(sb: &Sandbox, dsn: &str, table: &str) -> Result<Option<u64>, String> {
    let exists = query(
        sb,
        dsn,
        &format!("select count(*) from information_schema.tables where table_schema = 'public' and table_name = '{table}'"),
    )?;
    if exists == "0" {
        return Ok(None);
    }
    let n = query(sb, dsn, &format!("select count(*) from {table}"))?;
    n.parse()
        .map(Some)
        .map_err(|_| format!("unexpected count {n:?}"))
}

/// Restores a custom-format archive into a new scratch database of the
/// sandbox's cluster and returns that database's name.
pub fn restore_into_scratch(sb: &Sandbox, archive: &Path, name: &str) -> Result<String, String> {
    let out = sb
        .psql("postgres")
        .args(["-c", &format!("create database \"{name}\"")])
        .output()
        .map_err(|e| format!("cannot run psql: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let admin = sb.postgres_admin();
    let out = Command::new(admin.bin_dir.join("pg_restore"))
        .env("PGPASSWORD", &admin.password)
        .args(["--no-owner", "--no-privileges", "-h", "127.0.0.1", "-p"])
        .arg(admin.port.to_string())
        .args(["-U", &admin.superuser, "-d", name])
        .arg(archive)
        .output()
        .map_err(|e| format!("cannot run pg_restore: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "pg_restore failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(name.to_string())
}

/// The superuser DSN of a database in the sandbox's cluster.
pub fn admin_dsn(sb: &Sandbox, database: &str) -> String {
    let a = sb.postgres_admin();
    format!(
        "postgres://{}:{}@{}:{}/{}",
        a.superuser, a.password, a.host, a.port, database
    )
}
