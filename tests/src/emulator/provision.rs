//! What provisioning needs beyond the other modules: `plugin:install`
//! (recorded in `global/settings.json`, shown by `plugin:list`), and
//! `domains:add`, `domains:set`, `domains:remove` (the app's vhost list).
//!
//! Root: Dokku runs `plugin:install` and `ssh-keys:add` only as root. The
//! emulator does not model users (its `ssh-keys:add` already answers over
//! the forced command), so these run over the sandbox's one login; the
//! provisioning tests check that the plan marks them as needing root.

use super::{state, Code, Ctx};

/// The name `plugin:install` gives a URL without a custom name: the last
/// path part without `.git` and a leading `dokku-`.
pub(crate) fn plugin_name(url: &str) -> String {
    let last = url.rsplit('/').next().unwrap_or_default();
    let last = last.replace(".git", "");
    last.strip_prefix("dokku-").unwrap_or(&last).to_owned()
}

/// Names `plugin:list` shows besides the core plugins.
pub(crate) fn installed(ctx: &Ctx) -> Vec<String> {
    ctx.settings().plugins.keys().cloned().collect()
}

pub(crate) fn plugin_install(ctx: &mut Ctx, args: &[String]) -> Code {
    let words: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let Some(url) = words.first() else {
        return ctx.fail("Please specify a plugin to install");
    };
    let name = words
        .get(1)
        .map(|s| s.to_string())
        .unwrap_or_else(|| plugin_name(url));
    ctx.info1_quiet(&format!(
        "Cloning plugin repo {url} to /var/lib/dokku/plugins/available/{name}"
    ));
    let mut settings = ctx.settings();
    if name == "postgres" || settings.plugins.contains_key(&name) {
        return ctx.fail("Plugin already enabled");
    }
    settings.plugins.insert(name.clone(), url.to_string());
    if let Err(e) = state::write_json(&ctx.layout.global_settings_file(), &settings) {
        return ctx.fail(&format!("cannot record the plugin: {e}"));
    }
    ctx.info1_quiet(&format!("Plugin {name} enabled"));
    0
}

fn valid_hostname(domain: &str) -> bool {
    let d = domain.to_ascii_lowercase();
    !d.is_empty()
        && d.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '*' | '-'))
        && !d.ends_with('.')
}

enum DomainsOp {
    Add,
    Set,
    Remove,
}

fn domains(ctx: &mut Ctx, args: &[String], op: DomainsOp) -> Code {
    let Some(app) = args.first() else {
        return ctx.fail("Please specify an app to run the command on");
    };
    let mut st = match ctx.load_app(app) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let given = &args[1..];
    if given.is_empty() && !matches!(op, DomainsOp::Set) {
        return ctx.fail("Please specify a domain name");
    }
    if !matches!(op, DomainsOp::Remove) {
        if let Some(bad) = given.iter().find(|d| !valid_hostname(d)) {
            return ctx.fail(&format!("{bad} is invalid. exiting..."));
        }
    }
    let mut vhosts = ctx.app_vhosts(app, &st);
    match op {
        DomainsOp::Add => {
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
        DomainsOp::Set => {
            vhosts = given.to_vec();
            ctx.info1(&format!("Set {} for {app}", given.join(" ")));
        }
        DomainsOp::Remove => {
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

pub(crate) fn domains_add(ctx: &mut Ctx, args: &[String]) -> Code {
    domains(ctx, args, DomainsOp::Add)
}

pub(crate) fn domains_set(ctx: &mut Ctx, args: &[String]) -> Code {
    domains(ctx, args, DomainsOp::Set)
}

pub(crate) fn domains_remove(ctx: &mut Ctx, args: &[String]) -> Code {
    domains(ctx, args, DomainsOp::Remove)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_names_from_urls() {
        assert_eq!(
            plugin_name("https://github.com/dokku/dokku-postgres.git"),
            "postgres"
        );
        assert_eq!(plugin_name("https://example.org/x/thing"), "thing");
        assert!(valid_hostname("api.pix.fr"));
        assert!(!valid_hostname("a b"));
        assert!(!valid_hostname("x."));
    }
}
