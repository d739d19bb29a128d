//! The plugin plugin's `plugin:install` (recorded in
//! `global/settings.json`, shown by `plugin:list`).
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
    }
}
