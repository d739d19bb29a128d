//! git push deploys: `git-receive-pack`/`git-upload-pack`, the pre-receive
//! hook (`git-hook`), deploy locks and `git:set`.

use std::fs::File;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use nix::fcntl::{Flock, FlockArg};

use super::{apps, now_secs, properties, ps, state, valid_app_name, Code, Ctx};

/// The `\e[1G\e[K` prefix of Dokku's git-hook lines.
const HOOK_PREFIX: &str = "\x1b[1G\x1b[K";

pub(crate) fn git_bin(ctx: &Ctx, name: &str) -> PathBuf {
    match &ctx.config.git_bin_dir {
        Some(d) => d.join(name),
        None => PathBuf::from(name),
    }
}

/// Takes the deploy flock on `<app>/.deploy.lock` (non-blocking) or prints
/// the reference's error.
pub(crate) fn acquire_deploy_lock(ctx: &mut Ctx, app: &str) -> Result<Flock<File>, Code> {
    let path = ctx.layout.lock_file(app);
    let file = match std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
    {
        Ok(f) => f,
        Err(e) => return Err(ctx.fail(&format!("cannot open {}: {e}", path.display()))),
    };
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(mut lock) => {
            let _ = lock.set_len(0);
            let _ = writeln!(lock, "{}", super::random_hex(8));
            Ok(lock)
        }
        Err(_) => {
            ctx.warn(&format!(
                "{app} currently has a deploy lock in place. Exiting..."
            ));
            ctx.warn("Run 'apps:unlock' to release the existing deploy lock");
            Err(1)
        }
    }
}

/// Deletes the lock file at the end of a deploy (as Dokku does).
pub(crate) fn release_deploy_lock(ctx: &Ctx, app: &str) {
    let _ = std::fs::remove_file(ctx.layout.lock_file(app));
}

/// `git-receive-pack 'APP'` / `git-upload-pack 'APP'`.
pub(crate) fn receive_pack(ctx: &mut Ctx, args: &[String], receive: bool) -> Code {
    let raw = args.join(" ");
    let app = raw
        .trim_matches(|c| c == '\'' || c == '"')
        .trim_start_matches('/')
        .to_owned();
    if !valid_app_name(&app) {
        return ctx.fail("App name must begin with lowercase alphanumeric character, and may only contain lowercase alphanumerics, dots, and hyphens");
    }
    if !ctx.layout.app_file(&app).exists() {
        // app-maybe-create (both for receive-pack and upload-pack), silently
        if ctx.settings().disable_autocreation == "true" {
            ctx.warn("App auto-creation disabled.");
            return ctx.fail(&format!(
                "Re-enable app auto-creation or create an app with 'dokku apps:create {app}'"
            ));
        }
        if let Err(c) = apps::create_app_state(ctx, &app) {
            return c;
        }
    }
    if let Err(msg) = create_hook(ctx, &app) {
        return ctx.fail(&msg);
    }
    let repo = ctx.layout.repo_dir(&app);
    let sub = if receive {
        "receive-pack"
    } else {
        "upload-pack"
    };
    let status = Command::new(git_bin(ctx, "git"))
        .arg(sub)
        .arg(&repo)
        .env_remove("SSH_ORIGINAL_COMMAND")
        .status();
    ps::exit_code(status)
}

/// `fn-git-create-hook`: a bare repository (made when missing) whose
/// pre-receive hook runs `git-hook <app>`.
pub(crate) fn create_hook(ctx: &Ctx, app: &str) -> Result<(), String> {
    let repo = ctx.layout.repo_dir(app);
    if !repo.join("HEAD").exists() {
        let out = Command::new(git_bin(ctx, "git"))
            .args(["init", "--quiet", "--bare"])
            .arg(&repo)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .output();
        match out {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                return Err(format!(
                    "git init failed: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                ))
            }
            Err(e) => return Err(format!("cannot run git: {e}")),
        }
    }
    let hook = repo.join("hooks").join("pre-receive");
    let script = format!(
        "#!/bin/sh\nexec '{}' --root '{}' git-hook '{}'\n",
        ctx.config.emulator_bin.display(),
        ctx.layout.root.display(),
        app
    );
    std::fs::create_dir_all(repo.join("hooks"))
        .and_then(|_| std::fs::write(&hook, script))
        .and_then(|_| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))
        })
        .map_err(|_| "cannot write the pre-receive hook".to_owned())
}

/// `git-hook <app>`: reads `<old> <new> <ref>` lines and deploys the deploy
/// branch.
pub(crate) fn hook(ctx: &mut Ctx, args: &[String]) -> Code {
    let Some(app) = args.first().cloned() else {
        return ctx.fail("Please specify an app to run the command on");
    };
    let mut st = match ctx.load_app(&app) {
        Ok(s) => s,
        Err(c) => return c,
    };
    ctx.io.capture = true;
    let mut lines = Vec::new();
    for line in std::io::stdin().lock().lines() {
        match line {
            Ok(l) => lines.push(l),
            Err(_) => break,
        }
    }
    let mut code = 0;
    for line in lines {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [_old, new, refname] = parts.as_slice() else {
            continue;
        };
        if new.chars().all(|c| c == '0') {
            continue; // deletion
        }
        let branch = refname
            .strip_prefix("refs/heads/")
            .or_else(|| refname.strip_prefix("refs/tags/"))
            .unwrap_or(refname)
            .to_owned();
        let global = ctx.settings().deploy_branch;
        let computed = computed_deploy_branch(ctx, &st);
        let matches = *refname == format!("refs/heads/{computed}")
            || *refname == format!("refs/tags/{computed}");
        if !matches {
            if st.deploy_branch.is_empty() && global.is_empty() {
                ctx.io.out(&format!(
                    "{HOOK_PREFIX}-----> Set {branch} as deploy-branch\n"
                ));
                st.deploy_branch = branch.clone();
                if let Err(c) = ctx.save_app(&app, &st) {
                    return c;
                }
            } else {
                ctx.io.out(&format!(
                    "{HOOK_PREFIX}-----> WARNING: deploy did not complete, you must push to {computed}.\n"
                ));
                ctx.io.out(&format!(
                    "{HOOK_PREFIX}-----> for example, try 'git push <dokku> {}:{computed}'\n",
                    refname.strip_prefix("refs/heads/").unwrap_or(refname)
                ));
                continue;
            }
        }
        code = deploy_sha(ctx, &app, new);
        if code != 0 {
            break;
        }
        st = match ctx.load_app(&app) {
            Ok(s) => s,
            Err(c) => return c,
        };
    }
    code
}

/// `fn-git-computed-deploy-branch`: the app's deploy-branch, else the
/// global one, else `master`.
pub(crate) fn computed_deploy_branch(ctx: &Ctx, st: &state::AppState) -> String {
    let global = ctx.settings().deploy_branch;
    if !st.deploy_branch.is_empty() {
        st.deploy_branch.clone()
    } else if !global.is_empty() {
        global
    } else {
        "master".to_owned()
    }
}

/// The `receive-app` trigger without a rev, as `ps:rebuild` calls it
/// (`git_receive_app` → `git_build`, the caller holding the deploy lock):
/// the commit stored at the computed deploy branch (the loose
/// `refs/heads/<branch>` file) is built and deployed as a push would be,
/// without setting the rev variable; no such file is
/// `WARNING: Cannot build from '<branch>' ...` and exit 1.
///
/// Dokku's git `post-create` makes the (empty) repository at `apps:create`;
/// the emulator makes it at the first push, so a missing repository is that
/// empty one, except for a state seeded as deployed without a repository,
/// which is rebuilt from its deployed tree.
pub(crate) fn receive_app(ctx: &mut Ctx, app: &str) -> Code {
    let st = match ctx.load_app(app) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let repo = ctx.layout.repo_dir(app);
    if !repo.join("refs").is_dir() && st.deployed {
        return super::deploy::release_and_deploy(ctx, app, true);
    }
    let branch = computed_deploy_branch(ctx, &st);
    let head = repo.join("refs").join("heads").join(&branch);
    let sha = std::fs::read_to_string(&head)
        .map(|t| t.trim().to_owned())
        .unwrap_or_default();
    if sha.is_empty() {
        ctx.io.out(&format!(
            "{HOOK_PREFIX}-----> WARNING: Cannot build from '{branch}' as there are no commits stored at that branch.\n"
        ));
        return 1;
    }
    deploy_locked(ctx, app, &sha, false)
}

/// Checks out `sha` into a fresh tree and runs a full deploy under the lock.
fn deploy_sha(ctx: &mut Ctx, app: &str, sha: &str) -> Code {
    let lock = match acquire_deploy_lock(ctx, app) {
        Ok(l) => l,
        Err(c) => return c,
    };
    let code = deploy_locked(ctx, app, sha, true);
    drop(lock);
    release_deploy_lock(ctx, app);
    code
}

/// The build and deploy of `sha` (`git_build_app_repo`); `rev` is whether
/// the rev variable is set (a push's `git_build` with a rev).
fn deploy_locked(ctx: &mut Ctx, app: &str, sha: &str, rev: bool) -> Code {
    ctx.info1("Cleaning up...");
    ctx.info1(&format!("Building {app} from Procfile..."));
    let new_tree = ctx
        .layout
        .app_dir(app)
        .join(format!("tree.new.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&new_tree);
    if let Err(e) = std::fs::create_dir_all(&new_tree) {
        return ctx.fail(&format!("cannot create {}: {e}", new_tree.display()));
    }
    if let Err(msg) = checkout(ctx, app, sha, &new_tree)
        .and_then(|()| super::deploy::extract_procfile(ctx, app, &new_tree))
    {
        let _ = std::fs::remove_dir_all(&new_tree);
        return ctx.fail(&msg);
    }
    // predeploy runs in the new tree before anything is replaced
    let mut st = match ctx.load_app(app) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let old_tree = ctx.layout.tree_dir(app);
    let backup = ctx
        .layout
        .app_dir(app)
        .join(format!("tree.old.{}", std::process::id()));
    let had_old = old_tree.exists();
    if had_old {
        let _ = std::fs::rename(&old_tree, &backup);
    }
    if let Err(e) = std::fs::rename(&new_tree, &old_tree) {
        if had_old {
            let _ = std::fs::rename(&backup, &old_tree);
        }
        return ctx.fail(&format!("cannot install the new tree: {e}"));
    }
    ctx.info1(&format!("Releasing {app}..."));
    if !super::deploy::run_script(ctx, app, "predeploy") {
        // leave the running version alone
        let _ = std::fs::remove_dir_all(&old_tree);
        if had_old {
            let _ = std::fs::rename(&backup, &old_tree);
        }
        return 1;
    }
    let _ = std::fs::remove_dir_all(&backup);
    let mut vars = super::config::read_env(ctx, &super::config::Target::App(app.to_owned()))
        .unwrap_or_default();
    // git_build: the rev goes into the var `git:set rev-env-var` names
    // (never set: GIT_REV; set empty: none)
    let rev_var = super::properties::get_default(ctx, "git", app, "rev-env-var", "GIT_REV");
    if rev && !rev_var.is_empty() {
        vars.insert(rev_var, sha.to_owned());
    }
    if let Err(e) = state::write_json(&ctx.layout.env_file(app), &vars) {
        return ctx.fail(&format!("cannot save config: {e}"));
    }
    st.git_sha = sha.to_owned();
    st.deploy_source = "git-push".into();
    st.deploy_source_metadata = sha.to_owned();
    st.git_last_updated_at = now_secs().to_string();
    // a new build: its tree alone says which process types there are
    st.procfile.clear();
    super::deploy::load_procfile(ctx, app, &mut st);
    super::deploy::prune_formation(&mut st);
    if let Err(c) = ctx.save_app(app, &st) {
        return c;
    }
    ctx.info1(&format!(
        "Deploying {app} via the docker-local scheduler..."
    ));
    let code = super::deploy::deploy_body(ctx, app, true);
    if code != 0 {
        return code;
    }
    let st = match ctx.load_app(app) {
        Ok(s) => s,
        Err(c) => return c,
    };
    ctx.info2("Application deployed:");
    for v in ctx.app_vhosts(app, &st) {
        let scheme = if st.tls_vhosts.contains(&v) {
            "https"
        } else {
            "http"
        };
        ctx.verbose(&format!("{scheme}://{v}"));
    }
    ctx.io.out("\n");
    0
}

/// `git archive <sha> | tar -x -C dir` (works inside the pre-receive
/// quarantine, whose environment the hook inherits).
fn checkout(ctx: &Ctx, app: &str, sha: &str, dir: &std::path::Path) -> Result<(), String> {
    let mut archive = Command::new(git_bin(ctx, "git"))
        .arg("--git-dir")
        .arg(ctx.layout.repo_dir(app))
        .args(["archive", "--format=tar", sha])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git archive: {e}"))?;
    let Some(out) = archive.stdout.take() else {
        return Err("git archive has no output".into());
    };
    let tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(dir)
        .stdin(out)
        .output()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    let a = archive
        .wait_with_output()
        .map_err(|e| format!("git archive failed: {e}"))?;
    if !a.status.success() {
        return Err(format!(
            "git archive failed: {}",
            String::from_utf8_lossy(&a.stderr).trim()
        ));
    }
    if !tar.status.success() {
        return Err(format!(
            "tar failed: {}",
            String::from_utf8_lossy(&tar.stderr).trim()
        ));
    }
    Ok(())
}

/// `git:set <app>|--global <key> [<value>]` (`plugins/git/subcommands/set`):
/// every valid key, app or global; an empty value deletes the property,
/// except `rev-env-var`, whose empty value is written (the report then
/// shows it empty rather than `GIT_REV`). `deploy-branch` and
/// `keep-git-dir` of an app live in the app's state (the deploy reads them).
pub(crate) fn set(ctx: &mut Ctx, args: &[String]) -> Code {
    const VALID: &[&str] = &[
        "archive-max-files",
        "archive-max-size",
        "deploy-branch",
        "keep-git-dir",
        "rev-env-var",
        "source-image",
    ];
    let app = args.first().cloned().unwrap_or_default();
    let key = args.get(1).cloned().unwrap_or_default();
    let value = args.get(2).cloned().unwrap_or_default();
    let global = app == "--global";
    let mut st = None;
    if !global {
        match ctx.load_app(&app) {
            Ok(s) => st = Some(s),
            Err(c) => return c,
        }
    }
    if let Err(c) = properties::check_bash_set(ctx, VALID, &key, &value) {
        return c;
    }
    let saved = match (st, key.as_str()) {
        (None, "deploy-branch") => {
            let mut s = ctx.settings();
            s.deploy_branch = value.clone();
            state::write_json(&ctx.layout.global_settings_file(), &s)
                .map_err(|e| ctx.fail(&format!("cannot save settings: {e}")))
        }
        (Some(mut st), "deploy-branch" | "keep-git-dir") => {
            if key == "deploy-branch" {
                st.deploy_branch = value.clone();
            } else {
                st.keep_git_dir = value.clone();
            }
            ctx.save_app(&app, &st)
        }
        (_, "rev-env-var") => super::properties::write_kept(ctx, "git", &app, &key, &value),
        _ => super::properties::write(ctx, "git", &app, &key, &value),
    };
    match saved {
        Ok(()) => 0,
        Err(c) => c,
    }
}

/// `fn-git-auth-read-password`: with a username and no password, one line
/// of stdin when stdin is a pipe.
fn auth_password(user: &str, password: &str) -> String {
    use std::os::unix::fs::FileTypeExt;
    if user.is_empty() || !password.is_empty() {
        return password.to_owned();
    }
    let piped = std::fs::metadata("/dev/stdin")
        .map(|m| m.file_type().is_fifo())
        .unwrap_or(false);
    if !piped {
        return String::new();
    }
    let mut line = String::new();
    let _ = std::io::BufRead::read_line(&mut std::io::stdin().lock(), &mut line);
    line.trim_end_matches('\n').to_owned()
}

/// The netrc entry of a host (`user:password`), kept as a global property.
fn netrc_get(ctx: &Ctx, host: &str) -> String {
    super::properties::get(ctx, "netrc", "--global", host)
}

/// `git:auth <host> [<username> <password>]`: sets or removes the host's
/// netrc entry.
pub(crate) fn auth(ctx: &mut Ctx, args: &[String]) -> Code {
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    let (host, user) = (arg(0), arg(1));
    if host.is_empty() {
        return ctx.fail("Please supply a git host");
    }
    let password = auth_password(&user, &arg(2));
    if !user.is_empty() && password.is_empty() {
        return ctx.fail("Missing password for netrc auth entry");
    }
    let value = if user.is_empty() {
        ctx.info1(&format!("Removing netrc auth entry for host {host}"));
        String::new()
    } else {
        ctx.info1(&format!("Setting netrc auth entry for host {host}"));
        format!("{user}:{password}")
    };
    match super::properties::write(ctx, "netrc", "--global", &host, &value) {
        Ok(()) => 0,
        Err(c) => c,
    }
}

/// `git:auth-status <host> [<username> <password>]`: exit 0 when the
/// host's entry is as given (none given: no entry).
pub(crate) fn auth_status(ctx: &mut Ctx, args: &[String]) -> Code {
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    let (host, user) = (arg(0), arg(1));
    if host.is_empty() {
        return ctx.fail("Please supply a git host");
    }
    let password = auth_password(&user, &arg(2));
    if !user.is_empty() && password.is_empty() {
        return ctx.fail("Missing password for netrc auth entry");
    }
    let current = netrc_get(ctx, &host);
    let wanted = if user.is_empty() {
        String::new()
    } else {
        format!("{user}:{password}")
    };
    i32::from(current != wanted)
}
