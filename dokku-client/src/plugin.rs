//! `plugin:list`.

use serde::Serialize;

use crate::command::Command;
use crate::error::Result;
use crate::parse;
use crate::Client;

/// An installed plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginInfo {
    /// The plugin name (`postgres`, `00_dokku-standard`).
    pub name: String,
    /// Its version.
    pub version: String,
    /// Enabled or not.
    pub enabled: bool,
    /// Its description.
    pub description: String,
}

/// `plugin:install <url> [name]` (needs root: use the shell-user login with
/// `sudo` on a real server).
pub fn install(url: &str, name: Option<&str>) -> Result<Command> {
    if url.is_empty() || url.starts_with('-') || url.chars().any(char::is_whitespace) {
        return Err(crate::Error::InvalidName {
            name: url.to_string(),
            message: "a plugin is installed from a URL such as `https://github.com/dokku/dokku-postgres.git`".into(),
        });
    }
    let mut cmd = Command::write("plugin:install").value(url);
    if let Some(name) = name {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(crate::Error::InvalidName {
                name: name.to_string(),
                message: "a plugin name is letters, digits, `-` and `_`".into(),
            });
        }
        cmd = cmd.value(name);
    }
    Ok(cmd)
}

/// `plugin:list`.
pub fn list() -> Command {
    Command::read("plugin:list")
}

impl Client {
    /// Installs a plugin (root on a real server: shell-user login with `sudo`).
    pub async fn plugin_install(&self, url: &str, name: Option<&str>) -> Result<()> {
        self.run_ok(install(url, name)?).await.map(drop)
    }

    /// The installed plugins (`plugin:list`).
    pub async fn plugin_list(&self) -> Result<Vec<PluginInfo>> {
        let out = self.run_ok(list()).await?;
        Ok(parse::parse_plugin_list(&out.stdout_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_install_validates() {
        let c = install(
            "https://github.com/dokku/dokku-postgres.git",
            Some("postgres"),
        )
        .unwrap();
        assert_eq!(
            c.argv(),
            vec![
                "plugin:install",
                "https://github.com/dokku/dokku-postgres.git",
                "postgres"
            ]
        );
        assert!(install("--force", None).is_err());
        assert!(install("https://x", Some("a b")).is_err());
    }

    #[test]
    fn parses_plugins() {
        let p = parse::parse_plugin_list("  00_dokku-standard    0.38.27 enabled    dokku core standard plugin\n  postgres             1.48.0 disabled   dokku postgres service plugin\n");
        assert_eq!(p.len(), 2);
        assert!(p[0].enabled && !p[1].enabled);
        assert_eq!(p[1].description, "dokku postgres service plugin");
    }
}
