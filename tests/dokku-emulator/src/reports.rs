//! `apps:report`, `ps:report`, `domains:report`, `git:report` in their Go and
//! bash forms (REFERENCE.md 1.4–1.6, 2).

use std::collections::BTreeMap;

use super::{properties, ps, render, state, Code, Ctx};
use crate::contract::Profile;

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Apps,
    Ps,
    Domains,
    Git,
}

impl Kind {
    fn type_name(self) -> &'static str {
        match self {
            Kind::Apps => "app",
            Kind::Ps => "ps",
            Kind::Domains => "domains",
            Kind::Git => "git",
        }
    }
    fn prefix(self) -> &'static str {
        match self {
            Kind::Apps => "app",
            Kind::Ps => "ps",
            Kind::Domains => "domains",
            Kind::Git => "git",
        }
    }
    /// Go in this profile? (apps ≥ 0.20, ps ≥ 0.22, domains/git ≥ 0.38.22)
    fn is_go(self, p: Profile) -> bool {
        match self {
            Kind::Apps | Kind::Ps => p != Profile::V0_19,
            Kind::Domains | Kind::Git => p == Profile::V0_38,
        }
    }
    /// 0.38.8+: stripped keys, plus legacy keys for apps and ps.
    fn json_style(self, p: Profile) -> (Option<&'static str>, bool) {
        if p != Profile::V0_38 {
            return (None, false);
        }
        match self {
            Kind::Apps | Kind::Ps => (Some(self.prefix()), true),
            Kind::Domains | Kind::Git => (Some(self.prefix()), false),
        }
    }
}

/// `(flag, value)` rows of a Go report for an app (or `--global`).
fn go_rows(ctx: &Ctx, kind: Kind, app: Option<(&str, &state::AppState)>) -> Vec<(String, String)> {
    let settings = ctx.settings();
    let p = ctx.profile;
    let mut rows: Vec<(&str, String)> = Vec::new();
    let mut extra: Vec<(String, String)> = Vec::new();
    match (kind, app) {
        (Kind::Apps, None) => rows.push((
            "--app-global-disable-autocreation",
            settings.disable_autocreation.clone(),
        )),
        (Kind::Apps, Some((name, st))) => {
            rows.push(("--app-created-at", st.created_at.to_string()));
            rows.push(("--app-deploy-source", st.deploy_source.clone()));
            rows.push((
                "--app-deploy-source-metadata",
                st.deploy_source_metadata.clone(),
            ));
            rows.push(("--app-dir", format!("/home/dokku/{name}")));
            if p == Profile::V0_38 {
                rows.push((
                    "--app-global-disable-autocreation",
                    settings.disable_autocreation.clone(),
                ));
            }
            rows.push((
                "--app-locked",
                ctx.layout.lock_file(name).exists().to_string(),
            ));
        }
        (Kind::Ps, None) => {
            if p == Profile::V0_38 {
                let g = |k: &str| properties::get(ctx, "ps", "--global", k);
                let or = |v: String, d: &str| if v.is_empty() { d.to_string() } else { v };
                rows.push((
                    "--ps-computed-procfile-path",
                    or(g("procfile-path"), "Procfile"),
                ));
                rows.push((
                    "--ps-computed-restart-policy",
                    or(g("restart-policy"), "on-failure:10"),
                ));
                rows.push(("--ps-computed-skip-deploy", or(g("skip-deploy"), "false")));
                rows.push((
                    "--ps-computed-stop-timeout-seconds",
                    or(g("stop-timeout-seconds"), "30"),
                ));
                rows.push(("--ps-global-procfile-path", g("procfile-path")));
                rows.push(("--ps-global-restart-policy", g("restart-policy")));
                rows.push(("--ps-global-skip-deploy", g("skip-deploy")));
                rows.push((
                    "--ps-global-stop-timeout-seconds",
                    g("stop-timeout-seconds"),
                ));
            }
        }
        (Kind::Ps, Some((name, st))) => {
            rows.push(("--deployed", st.deployed.to_string()));
            rows.push(("--processes", st.containers.len().to_string()));
            rows.push(("--ps-can-scale", "true".into()));
            if p == Profile::V0_38 {
                let own = |k: &str| properties::get(ctx, "ps", name, k);
                let glob = |k: &str| properties::get(ctx, "ps", "--global", k);
                let comp = |k: &str, d: &str| properties::computed(ctx, "ps", name, k, d);
                let policy = if own("restart-policy").is_empty() && !st.restart_policy.is_empty() {
                    st.restart_policy.clone()
                } else {
                    comp("restart-policy", "on-failure:10")
                };
                rows.push((
                    "--ps-computed-dockerfile-start-cmd",
                    own("dockerfile-start-cmd"),
                ));
                rows.push((
                    "--ps-computed-procfile-path",
                    comp("procfile-path", "Procfile"),
                ));
                rows.push(("--ps-computed-restart-policy", policy));
                rows.push(("--ps-computed-skip-deploy", comp("skip-deploy", "false")));
                rows.push(("--ps-computed-start-cmd", own("start-cmd")));
                rows.push((
                    "--ps-computed-stop-timeout-seconds",
                    comp("stop-timeout-seconds", "30"),
                ));
                rows.push(("--ps-dockerfile-start-cmd", own("dockerfile-start-cmd")));
                rows.push(("--ps-global-procfile-path", glob("procfile-path")));
                rows.push(("--ps-global-restart-policy", glob("restart-policy")));
                rows.push(("--ps-global-skip-deploy", glob("skip-deploy")));
                rows.push((
                    "--ps-global-stop-timeout-seconds",
                    glob("stop-timeout-seconds"),
                ));
                rows.push(("--ps-procfile-path", own("procfile-path")));
                let raw_policy = own("restart-policy");
                rows.push((
                    "--ps-restart-policy",
                    if raw_policy.is_empty() {
                        st.restart_policy.clone()
                    } else {
                        raw_policy
                    },
                ));
                rows.push(("--ps-skip-deploy", own("skip-deploy")));
                rows.push(("--ps-start-cmd", own("start-cmd")));
                rows.push(("--ps-stop-timeout-seconds", own("stop-timeout-seconds")));
            } else {
                let policy = if st.restart_policy.is_empty() {
                    "on-failure:10".to_owned()
                } else {
                    st.restart_policy.clone()
                };
                rows.push(("--ps-restart-policy", policy));
                rows.push(("--ps-computed-procfile-path", "Procfile".into()));
                rows.push(("--ps-global-procfile-path", "Procfile".into()));
                rows.push(("--ps-procfile-path", String::new()));
            }
            let restore = properties::get(ctx, "ps", name, "restore");
            rows.push((
                "--restore",
                if restore.is_empty() {
                    (!st.restore_disabled).to_string()
                } else {
                    restore
                },
            ));
            rows.push(("--running", ps::running_summary(ctx, name, st).into()));
            for (instance, cid) in &st.containers {
                let status = ps::instance_status(ctx, name, instance);
                let short: String = cid.chars().take(11).collect();
                extra.push((
                    format!("--status-{instance}"),
                    format!("{status} (CID: {short})"),
                ));
            }
        }
        (Kind::Domains, app) => {
            let global = ctx.global_vhosts();
            if let Some((name, st)) = app {
                rows.push(("--domains-app-enabled", (!st.domains_disabled).to_string()));
                rows.push(("--domains-app-vhosts", ctx.app_vhosts(name, st).join(" ")));
            }
            rows.push(("--domains-global-enabled", (!global.is_empty()).to_string()));
            rows.push(("--domains-global-vhosts", global.join(" ")));
        }
        (Kind::Git, app) => {
            let gprop = |k: &str| properties::get(ctx, "git", "--global", k);
            if let Some((name, st)) = app {
                let branch = if !st.deploy_branch.is_empty() {
                    st.deploy_branch.clone()
                } else if !settings.deploy_branch.is_empty() {
                    settings.deploy_branch.clone()
                } else {
                    "master".into()
                };
                let keep = if !st.keep_git_dir.is_empty() {
                    st.keep_git_dir.clone()
                } else if !gprop("keep-git-dir").is_empty() {
                    gprop("keep-git-dir")
                } else {
                    "false".to_owned()
                };
                rows.push((
                    "--git-computed-archive-max-files",
                    properties::get_default(ctx, "git", "--global", "archive-max-files", "10000"),
                ));
                rows.push((
                    "--git-computed-archive-max-size",
                    properties::get_default(
                        ctx,
                        "git",
                        "--global",
                        "archive-max-size",
                        "1073741824",
                    ),
                ));
                rows.push(("--git-computed-deploy-branch", branch));
                rows.push(("--git-computed-keep-git-dir", keep));
                rows.push(("--git-deploy-branch", st.deploy_branch.clone()));
                rows.push(("--git-keep-git-dir", st.keep_git_dir.clone()));
                rows.push(("--git-last-updated-at", st.git_last_updated_at.clone()));
                rows.push((
                    "--git-rev-env-var",
                    properties::get_default(ctx, "git", name, "rev-env-var", "GIT_REV"),
                ));
                rows.push(("--git-sha", st.git_sha.clone()));
                let image = properties::get(ctx, "git", name, "source-image");
                rows.push((
                    "--git-source-image",
                    if image.is_empty() {
                        st.source_image.clone()
                    } else {
                        image
                    },
                ));
            }
            if app.is_none() {
                let branch = if settings.deploy_branch.is_empty() {
                    "master".to_owned()
                } else {
                    settings.deploy_branch.clone()
                };
                let keep = gprop("keep-git-dir");
                rows.push((
                    "--git-computed-archive-max-files",
                    properties::get_default(ctx, "git", "--global", "archive-max-files", "10000"),
                ));
                rows.push((
                    "--git-computed-archive-max-size",
                    properties::get_default(
                        ctx,
                        "git",
                        "--global",
                        "archive-max-size",
                        "1073741824",
                    ),
                ));
                rows.push(("--git-computed-deploy-branch", branch));
                rows.push((
                    "--git-computed-keep-git-dir",
                    if keep.is_empty() {
                        "false".into()
                    } else {
                        keep
                    },
                ));
            }
            rows.push(("--git-global-archive-max-files", gprop("archive-max-files")));
            rows.push(("--git-global-archive-max-size", gprop("archive-max-size")));
            rows.push(("--git-global-deploy-branch", settings.deploy_branch.clone()));
            rows.push(("--git-global-keep-git-dir", gprop("keep-git-dir")));
        }
    }
    let mut out: Vec<(String, String)> = rows.into_iter().map(|(f, v)| (f.to_owned(), v)).collect();
    out.extend(extra);
    out
}

/// The bash report label of a flag: drop `--`, `-` becomes a space, the
/// first character upper-cased, `:` appended (`${key^}`).
pub(crate) fn bash_label(flag: &str) -> String {
    let bare = flag.trim_start_matches("--").replace('-', " ");
    let mut chars = bare.chars();
    let mut out = match chars.next() {
        Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    };
    out.push(':');
    out
}

/// `(flag, value)` rows of a bash report, in code order (`app` is `None`
/// for `--global`).
fn bash_rows(
    ctx: &Ctx,
    kind: Kind,
    app: Option<(&str, &state::AppState)>,
) -> Vec<(String, String)> {
    let settings = ctx.settings();
    let row = |f: &str, v: String| (f.to_owned(), v);
    let mut rows = Vec::new();
    match (kind, app) {
        (Kind::Apps, Some((name, st))) => {
            rows.push(row("--app-dir", format!("/home/dokku/{name}")));
            rows.push(row("--git-sha", st.git_sha.chars().take(7).collect()));
            rows.push(row(
                "--deploy-source",
                if st.deployed {
                    "git".into()
                } else {
                    String::new()
                },
            ));
            rows.push(row(
                "--locked",
                ctx.layout.lock_file(name).exists().to_string(),
            ));
        }
        (Kind::Ps, Some((name, st))) => {
            let policy = if st.restart_policy.is_empty() {
                "on-failure:10".to_owned()
            } else {
                st.restart_policy.clone()
            };
            rows.push(row("--processes", st.containers.len().to_string()));
            rows.push(row("--deployed", st.deployed.to_string()));
            rows.push(row("--running", ps::running_summary(ctx, name, st).into()));
            rows.push(row("--restore", (!st.restore_disabled).to_string()));
            rows.push(row("--restart-policy", policy));
            rows.push(row("--ps-can-scale", "true".into()));
        }
        (Kind::Domains, app) => {
            let global = ctx.global_vhosts();
            if let Some((name, st)) = app {
                rows.push(row(
                    "--domains-app-enabled",
                    (!st.domains_disabled).to_string(),
                ));
                rows.push(row(
                    "--domains-app-vhosts",
                    ctx.app_vhosts(name, st).join(" "),
                ));
            }
            rows.push(row(
                "--domains-global-enabled",
                (!global.is_empty()).to_string(),
            ));
            rows.push(row("--domains-global-vhosts", global.join(" ")));
        }
        (Kind::Git, Some((_, st))) => {
            let or = |v: &str, d: &str| {
                if v.is_empty() {
                    d.to_owned()
                } else {
                    v.to_owned()
                }
            };
            rows.push(row("--git-deploy-branch", or(&st.deploy_branch, "master")));
            rows.push(row(
                "--git-global-deploy-branch",
                or(&settings.deploy_branch, "master"),
            ));
            rows.push(row("--git-keep-git-dir", or(&st.keep_git_dir, "false")));
            rows.push(row("--git-rev-env-var", "GIT_REV".into()));
            if ctx.profile != Profile::V0_19 {
                rows.push(row("--git-sha", st.git_sha.chars().take(7).collect()));
                rows.push(row("--git-source-image", st.source_image.clone()));
                rows.push(row("--git-last-updated-at", st.git_last_updated_at.clone()));
            }
        }
        _ => {}
    }
    rows
}

/// `<kind>:report [<app>|--global] [--format stdout|json] [--<flag>]`.
pub(crate) fn report(ctx: &mut Ctx, kind: Kind, args: &[String]) -> Code {
    if kind.is_go(ctx.profile) {
        go_report(ctx, kind, args)
    } else {
        bash_report(ctx, kind, args)
    }
}

fn go_report(ctx: &mut Ctx, kind: Kind, args: &[String]) -> Code {
    let (strip, legacy) = kind.json_style(ctx.profile);
    go_report_with(
        ctx,
        args,
        kind.type_name(),
        (strip, legacy),
        &mut |ctx, app| go_rows(ctx, kind, app),
    )
}

/// Rows of a Go report for an app (`None`: `--global`).
pub(crate) type RowsFn<'a> =
    dyn FnMut(&mut Ctx, Option<(&str, &state::AppState)>) -> Vec<(String, String)> + 'a;

/// `common.ReportSingleApp` over the subjects of the arguments (an app,
/// `--global`, or every app): `--format stdout|json`, one info flag, JSON keys
/// stripped of `json_style.0` (plus the legacy key when `json_style.1`).
pub(crate) fn go_report_with(
    ctx: &mut Ctx,
    args: &[String],
    type_name: &str,
    json_style: (Option<&str>, bool),
    rows_of: &mut RowsFn<'_>,
) -> Code {
    go_report_with_lists(ctx, args, type_name, json_style, rows_of, &mut |_, _| {
        Vec::new()
    })
}

/// Keys a Go report's JSON adds with lists of strings as values (an app's
/// name, `None` for `--global`).
pub(crate) type ListsFn<'a> = dyn FnMut(&mut Ctx, Option<&str>) -> Vec<(String, Vec<String>)> + 'a;

/// [`go_report_with`] whose JSON also holds the keys `lists_of` gives.
pub(crate) fn go_report_with_lists(
    ctx: &mut Ctx,
    args: &[String],
    type_name: &str,
    json_style: (Option<&str>, bool),
    rows_of: &mut RowsFn<'_>,
    lists_of: &mut ListsFn<'_>,
) -> Code {
    let mut app: Option<String> = None;
    let mut global = false;
    let mut format: Option<String> = None;
    let mut info: Vec<String> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--format" {
            match args.get(i + 1) {
                Some(f) => format = Some(f.clone()),
                None => {
                    ctx.io.err(&format!(
                        "panic: runtime error: index out of range [{}] with length {}\n\ngoroutine 1 [running]:\nmain.main()\n",
                        i + 1,
                        args.len()
                    ));
                    return 2;
                }
            }
            i += 2;
            continue;
        }
        if a == "--global" {
            global = true;
        } else if a.starts_with("--") {
            info.push(a.clone());
        } else if app.is_none() {
            app = Some(a.clone());
        }
        i += 1;
    }
    if info.len() > 1 {
        return 0; // the parse error is dropped
    }
    let format = format.unwrap_or_else(|| "stdout".into());
    let subjects: Vec<Option<String>> = if global {
        vec![None]
    } else if let Some(a) = app {
        vec![Some(a)]
    } else {
        match state::list_apps(&ctx.layout) {
            Ok(apps) if apps.is_empty() => {
                ctx.warn("You haven't deployed any applications yet");
                return 0;
            }
            Ok(apps) => apps.into_iter().map(Some).collect(),
            Err(e) => return ctx.fail(&format!("cannot list apps: {e}")),
        }
    };
    for subject in subjects {
        let st = match &subject {
            Some(a) => match ctx.load_app(a) {
                Ok(s) => Some(s),
                Err(c) => return c,
            },
            None => None,
        };
        if format != "stdout" && format != "json" {
            return ctx.fail(&format!(
                "Format must be \"stdout\" or \"json\": \"{format}\""
            ));
        }
        if format != "stdout" && !info.is_empty() {
            return ctx.fail("--format flag cannot be specified when specifying an info flag");
        }
        let rows = rows_of(ctx, subject.as_deref().zip(st.as_ref()));
        if let Some(flag) = info.first() {
            match rows.iter().find(|(f, _)| f == flag) {
                Some((_, v)) => ctx.io.out(&format!("{v}\n")),
                None => {
                    let mut flags: Vec<&str> = rows.iter().map(|(f, _)| f.as_str()).collect();
                    flags.sort_unstable();
                    return ctx.fail(&format!(
                        "Invalid flag passed, valid flags: {}",
                        flags.join(", ")
                    ));
                }
            }
            continue;
        }
        if format == "json" {
            let (strip, legacy) = json_style;
            let mut map = BTreeMap::new();
            for (f, v) in &rows {
                for k in render::json_keys(f, strip, legacy) {
                    map.insert(k, v.clone());
                }
            }
            let lists = lists_of(ctx, subject.as_deref());
            if lists.is_empty() {
                ctx.io.out(&format!("{}\n", render::go_json_object(&map)));
            } else {
                let mut all: serde_json::Map<String, serde_json::Value> = map
                    .into_iter()
                    .map(|(k, v)| (k, serde_json::Value::String(v)))
                    .collect();
                for (k, items) in lists {
                    all.insert(k, serde_json::Value::from(items));
                }
                let json = serde_json::Value::Object(all).to_string();
                ctx.io.out(&format!("{}\n", render::go_json_escape(&json)));
            }
        } else {
            let name = subject.clone().unwrap_or_else(|| "--global".into());
            let text = render::go_report(&name, type_name, &rows, ctx.quiet);
            ctx.io.out(&text);
        }
    }
    0
}

fn bash_report(ctx: &mut Ctx, kind: Kind, args: &[String]) -> Code {
    let mut app = args.first().cloned();
    let mut flag = args.get(1).cloned();
    if app.as_deref().is_some_and(|a| a.starts_with("--"))
        && !(kind == Kind::Domains && app.as_deref() == Some("--global"))
    {
        flag = app.take();
    }
    let subjects: Vec<Option<String>> = match app {
        Some(a) if a == "--global" => vec![None],
        Some(a) => vec![Some(a)],
        None => match state::list_apps(&ctx.layout) {
            Ok(apps) if apps.is_empty() => {
                // dokku_apps fails inside `$(...)`: 0.30 prints the error,
                // 0.19 prints nothing; the report itself exits 0
                if ctx.profile != Profile::V0_19 {
                    ctx.fail("You haven't deployed any applications yet");
                }
                return 0;
            }
            Ok(apps) => apps.into_iter().map(Some).collect(),
            Err(e) => return ctx.fail(&format!("cannot list apps: {e}")),
        },
    };
    let several = subjects.len() > 1;
    let mut code = 0;
    for subject in subjects {
        let c = bash_report_single(ctx, kind, subject.as_deref(), flag.as_deref());
        if !several {
            code = c;
        }
    }
    code
}

fn bash_report_single(
    ctx: &mut Ctx,
    kind: Kind,
    subject: Option<&str>,
    flag: Option<&str>,
) -> Code {
    let st = match subject {
        Some(a) => match ctx.load_app(a) {
            Ok(s) => Some(s),
            Err(c) => return c,
        },
        None => None,
    };
    let app = subject.zip(st.as_ref());
    let mut rows = bash_rows(ctx, kind, app);
    let statuses: Vec<(String, &'static str, String)> = match (kind, app) {
        (Kind::Ps, Some((name, st))) => st
            .containers
            .iter()
            .map(|(i, cid)| {
                (
                    i.clone(),
                    ps::instance_status(ctx, name, i),
                    cid.chars().take(12).collect(),
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    match flag {
        None => {
            let mut text = String::new();
            if !ctx.quiet {
                match subject {
                    Some(name) => {
                        text.push_str(&format!("=====> {name} {} information\n", kind.type_name()))
                    }
                    None => text.push_str("=====> Global domains information\n"),
                }
            }
            if kind == Kind::Apps && !st.as_ref().is_some_and(|s| s.deployed) {
                ctx.io.out(&text);
                ctx.io.err("not deployed\n");
                return 0;
            }
            for (f, v) in &rows {
                text.push_str(&render::bash_row(&bash_label(f), v));
            }
            for (instance, status, cid) in &statuses {
                text.push_str(&format!(
                    "       {} {} (CID: {cid})\n",
                    render::pad_bytes(&format!("Status {instance}:"), 30),
                    render::pad_bytes(status, 10)
                ));
            }
            ctx.io.out(&text);
            0
        }
        Some(f) => {
            for (instance, status, _) in &statuses {
                rows.push((format!("--status-{instance}"), (*status).to_owned()));
            }
            match rows.iter().find(|(fl, _)| fl == f) {
                Some((_, v)) if v.is_empty() => {
                    if kind == Kind::Domains {
                        0
                    } else {
                        ctx.fail("not deployed")
                    }
                }
                Some((_, v)) => {
                    ctx.io.out(&format!("{v}\n"));
                    0
                }
                None => {
                    let flags: Vec<&str> = rows.iter().map(|(f, _)| f.as_str()).collect();
                    ctx.fail(&format!(
                        "Invalid flag passed, valid flags: {}",
                        flags.join(" ")
                    ))
                }
            }
        }
    }
}
