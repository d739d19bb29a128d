//! The domains plugin (`plugins/domains`): the app's vhost list
//! (`domains:add|set|remove|clear|reset`) and the global one
//! (`domains:add-global|set-global|remove-global|clear-global`). An app's
//! list is written when it is created (`domains_setup`: one default vhost per
//! global domain); the global list lives in `global/settings.json` (`None`:
//! the sandbox's configured domain, as `$DOKKU_ROOT/VHOST` would hold it).

use super::{state, Code, Ctx};

/// `is_valid_hostname`: `_`, or `^[a-z0-9\.\*-]*[a-z0-9\*-]$` on the
/// lower-cased name.
pub(crate) fn valid_hostname(domain: &str) -> bool {
    let d = domain.to_ascii_lowercase();
    if d == "_" {
        return true;
    }
    let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '*' | '-');
    match d.chars().last() {
        Some(last) => ok(last) && d.chars().all(|c| ok(c) || c == '.'),
        None => false,
    }
}

fn is_ip(v: &str) -> bool {
    v.parse::<std::net::IpAddr>().is_ok()
}

/// `get_default_vhosts`: for each global domain that is no IP address,
/// the app's name when it holds a dot, else `<app>.<domain>` (`/` as `-`);
/// nothing when no global domain is a valid hostname.
pub(crate) fn default_vhosts(app: &str, globals: &[String]) -> Vec<String> {
    if !globals.iter().any(|g| valid_hostname(g)) {
        return Vec::new();
    }
    let name = app.replacen('/', "-", 1);
    globals
        .iter()
        .filter(|g| !is_ip(g))
        .map(|g| {
            if app.contains('.') {
                name.clone()
            } else {
                format!("{name}.{g}")
            }
        })
        .collect()
}

enum Op {
    Add,
    Set,
    Remove,
}

fn app_domains(ctx: &mut Ctx, args: &[String], op: Op) -> Code {
    let Some(app) = args.first() else {
        return ctx.fail("Please specify an app to run the command on");
    };
    let mut st = match ctx.load_app(app) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let given = &args[1..];
    if given.is_empty() && !matches!(op, Op::Set) {
        return ctx.fail("Please specify a domain name");
    }
    if !matches!(op, Op::Remove) {
        if let Some(bad) = given.iter().find(|d| !valid_hostname(d)) {
            return ctx.fail(&format!("{bad} is invalid. exiting..."));
        }
    }
    let mut vhosts = ctx.app_vhosts(app, &st);
    match op {
        Op::Add => {
            for d in given {
                if vhosts.contains(d) {
                    // grep without -q echoes the matching line.
                    ctx.io.out(&format!("{d}\n"));
                    ctx.info1(&format!("Skipping: {d} already added to {app}"));
                } else {
                    vhosts.push(d.clone());
                    ctx.info1(&format!("Added {d} to {app}"));
                }
            }
        }
        Op::Set => {
            vhosts = given.to_vec();
            ctx.info1(&format!("Set {} for {app}", given.join(" ")));
        }
        Op::Remove => {
            for d in given {
                vhosts.retain(|v| v != d);
                ctx.info1(&format!("Removed {d} from {app}"));
            }
        }
    }
    st.vhosts = Some(vhosts);
    match ctx.save_app(app, &st) {
        Ok(()) => 0,
        Err(c) => c,
    }
}

pub(crate) fn add(ctx: &mut Ctx, args: &[String]) -> Code {
    app_domains(ctx, args, Op::Add)
}

pub(crate) fn set(ctx: &mut Ctx, args: &[String]) -> Code {
    app_domains(ctx, args, Op::Set)
}

pub(crate) fn remove(ctx: &mut Ctx, args: &[String]) -> Code {
    app_domains(ctx, args, Op::Remove)
}

fn clear_app(ctx: &mut Ctx, app: &str) -> Code {
    let mut st = match ctx.load_app(app) {
        Ok(s) => s,
        Err(c) => return c,
    };
    st.vhosts = Some(Vec::new());
    if let Err(c) = ctx.save_app(app, &st) {
        return c;
    }
    ctx.info1(&format!("Cleared domains in {app}"));
    0
}

/// `domains:clear <app>|--all`: the app's VHOST file removed.
pub(crate) fn clear(ctx: &mut Ctx, args: &[String]) -> Code {
    let app = args.first().cloned().unwrap_or_default();
    if app == "--all" {
        for a in state::list_apps(&ctx.layout).unwrap_or_default() {
            let code = clear_app(ctx, &a);
            if code != 0 {
                return code;
            }
        }
        return 0;
    }
    if let Err(c) = ctx.load_app(&app) {
        return c;
    }
    clear_app(ctx, &app)
}

/// `domains:reset <app>`: cleared, then set up again from the global
/// domains (`domains_setup`).
pub(crate) fn reset(ctx: &mut Ctx, args: &[String]) -> Code {
    let app = args.first().cloned().unwrap_or_default();
    if let Err(c) = ctx.load_app(&app) {
        return c;
    }
    let code = clear_app(ctx, &app);
    if code != 0 {
        return code;
    }
    let code = setup(ctx, &app);
    if code != 0 {
        return code;
    }
    ctx.info1_quiet(&format!("Reset domains for {app}"));
    0
}

/// `domains_setup`: an app without a vhost list gets the default vhosts,
/// or (no global domain) vhost support disabled.
pub(crate) fn setup(ctx: &mut Ctx, app: &str) -> Code {
    let mut st = match ctx.load_app(app) {
        Ok(s) => s,
        Err(c) => return c,
    };
    if st.vhosts.as_ref().is_some_and(|v| !v.is_empty()) {
        return 0;
    }
    let defaults = default_vhosts(app, &ctx.global_vhosts());
    if defaults.is_empty() {
        ctx.info1_quiet("Global server virtual host not set, disabling app vhost...");
        st.vhosts = Some(Vec::new());
    } else {
        ctx.info1_quiet("Creating new app virtual host file...");
        st.vhosts = Some(defaults);
    }
    match ctx.save_app(app, &st) {
        Ok(()) => 0,
        Err(c) => c,
    }
}

fn save_globals(ctx: &mut Ctx, vhosts: Vec<String>) -> Code {
    let mut settings = ctx.settings();
    settings.vhosts = Some(vhosts);
    match state::write_json(&ctx.layout.global_settings_file(), &settings) {
        Ok(()) => 0,
        Err(e) => ctx.fail(&format!("cannot save the global domains: {e}")),
    }
}

/// The usage error of the `*-global` commands: `$1` after the shift is the
/// missing domain, so the command name is empty in Dokku's message.
fn need_domain(ctx: &mut Ctx, args: &[String]) -> Option<Code> {
    match args.first() {
        Some(d) if !d.is_empty() => None,
        _ => Some(ctx.fail("Please specify a domain name. Usage: dokku  <domain> [<domain> ...]")),
    }
}

fn check_valid(ctx: &mut Ctx, args: &[String]) -> Option<Code> {
    args.iter()
        .find(|d| !valid_hostname(d))
        .map(|bad| ctx.fail(&format!("{bad} is invalid. exiting...")))
}

pub(crate) fn add_global(ctx: &mut Ctx, args: &[String]) -> Code {
    if let Some(c) = need_domain(ctx, args).or_else(|| check_valid(ctx, args)) {
        return c;
    }
    let mut globals = ctx.global_vhosts();
    for d in args {
        if globals.contains(d) {
            ctx.info1(&format!("Skipping {d}: already added"));
        } else {
            globals.push(d.clone());
            ctx.info1(&format!("Added {d}"));
        }
    }
    save_globals(ctx, globals)
}

pub(crate) fn set_global(ctx: &mut Ctx, args: &[String]) -> Code {
    if let Some(c) = need_domain(ctx, args).or_else(|| check_valid(ctx, args)) {
        return c;
    }
    let code = save_globals(ctx, args.to_vec());
    if code == 0 {
        ctx.info1(&format!("Set {}", args.join(" ")));
    }
    code
}

pub(crate) fn remove_global(ctx: &mut Ctx, args: &[String]) -> Code {
    if let Some(c) = need_domain(ctx, args) {
        return c;
    }
    let mut globals = ctx.global_vhosts();
    for d in args {
        globals.retain(|g| g != d);
        ctx.info1(&format!("Removed {d}"));
    }
    save_globals(ctx, globals)
}

pub(crate) fn clear_global(ctx: &mut Ctx, _args: &[String]) -> Code {
    ctx.info1_quiet("Clearing global domains");
    save_globals(ctx, Vec::new())
}

/// `urls <app>` / `url <app>` (00_dokku-standard, the domains-urls
/// trigger): a URL per app vhost (else per global vhost, else for the
/// host name), `https` for vhosts with certificates; `urls` sorted and
/// unique, `url` the first of the default scheme (`https` once the app has
/// certificates).
pub(crate) fn urls(ctx: &mut Ctx, args: &[String], one: bool) -> Code {
    let app = args.first().cloned().unwrap_or_default();
    let st = match ctx.load_app(&app) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let mut vhosts = ctx.app_vhosts(&app, &st);
    if vhosts.is_empty() {
        vhosts = ctx.global_vhosts();
    }
    if vhosts.is_empty() {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        vhosts.push(host.trim().to_owned());
    }
    let certs = !st.tls_vhosts.is_empty();
    let mut lines: Vec<String> = vhosts
        .iter()
        .map(|v| {
            let scheme = if st.tls_vhosts.contains(v) {
                "https"
            } else {
                "http"
            };
            format!("{scheme}://{v}")
        })
        .collect();
    if one {
        let prefix = if certs { "https://" } else { "http://" };
        if let Some(u) = lines.iter().find(|l| l.contains(prefix)) {
            ctx.io.out(&format!("{u}\n"));
        }
        return 0;
    }
    lines.sort();
    lines.dedup();
    for l in lines {
        ctx.io.out(&format!("{l}\n"));
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_as_dokku_accepts_them() {
        for ok in [
            "api.pix.fr",
            "_",
            ".dokku.me",
            "a--b.c",
            "*.dokku.me",
            "UP.case",
        ] {
            assert!(valid_hostname(ok), "{ok}");
        }
        for bad in ["a b", "x.", "", "http://x.y", "a_b"] {
            assert!(!valid_hostname(bad), "{bad}");
        }
    }

    #[test]
    fn default_vhosts_one_per_global_domain() {
        let g = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            default_vhosts("api", &g(&["one.me", "two.me"])),
            ["api.one.me", "api.two.me"]
        );
        // a dotted app name is its own hostname; IP addresses give none
        assert_eq!(
            default_vhosts("test.dokku.test", &g(&["dokku.test"])),
            ["test.dokku.test"]
        );
        assert_eq!(
            default_vhosts("api", &g(&["10.0.0.1", "x.me"])),
            ["api.x.me"]
        );
        assert!(default_vhosts("api", &g(&[])).is_empty());
    }
}
