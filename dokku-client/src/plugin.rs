//! `plugin:list`.
//!
//! Each command has a pure builder here (no IO) that checks its arguments and
//! returns the [`Command`]; the [`Client`] methods
//! run them and parse the output.
//!
//! ```
//! use dokku_client::plugin;
//! assert_eq!(plugin::list().argv(), ["plugin:list"]);
//! assert_eq!(
//!     plugin::install("https://github.com/dokku/dokku-postgres.git", Some("postgres"))?.argv(),
//!     ["plugin:install", "https://github.com/dokku/dokku-postgres.git", "postgres"],
//! );
//! # Ok::<(), dokku_client::Error>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::command::Command;
use crate::error::Result;
use crate::parse;
use crate::parse::{is_warn_line, json_rows, lines_of, ParseError};
use crate::Client;

/// An installed plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
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

/// Parses `plugin:list`: `  name  version  enabled|disabled  description`.
pub fn parse_plugin_list(text: &str) -> Vec<PluginInfo> {
    lines_of(text)
        .into_iter()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("=====>") && !is_warn_line(l))
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let name = w.next()?.to_string();
            let version = w.next()?.to_string();
            let state = w.next()?;
            let enabled = match state {
                "enabled" => true,
                "disabled" => false,
                _ => return None,
            };
            Some(PluginInfo {
                name,
                version,
                enabled,
                description: w.collect::<Vec<_>>().join(" "),
            })
        })
        .collect()
}

/// One row of `plugin:list --format json` (Dokku 0.38's `PluginInfo`; its
/// `core`, `source_url`, `committish` and `branch` are not read).
#[derive(Deserialize)]
struct ListRow {
    name: String,
    version: String,
    enabled: bool,
    description: String,
}

/// Parses `plugin:list --format json` (Dokku 0.38+): one JSON array of
/// plugins, read into the same [`PluginInfo`] the text form gives.
///
/// ```
/// use dokku_client::plugin::parse_plugin_list_json;
/// let json = r#"[{"name":"postgres","version":"1.48.0","enabled":true,"core":false,"description":"dokku postgres service plugin","source_url":"","committish":"","branch":""}]"#;
/// let plugins = parse_plugin_list_json(json)?;
/// assert_eq!((plugins[0].name.as_str(), plugins[0].enabled), ("postgres", true));
/// assert!(parse_plugin_list_json("postgres 1.48.0 enabled x").is_err());
/// # Ok::<(), dokku_client::parse::ParseError>(())
/// ```
pub fn parse_plugin_list_json(text: &str) -> std::result::Result<Vec<PluginInfo>, ParseError> {
    let rows: Vec<ListRow> = json_rows(text, "plugin:list")?;
    Ok(rows
        .into_iter()
        .map(|r| PluginInfo {
            name: r.name,
            version: r.version,
            enabled: r.enabled,
            description: r.description,
        })
        .collect())
}

impl Client {
    /// Installs a plugin (root on a real server: shell-user login with `sudo`).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let url = "https://github.com/dokku/dokku-postgres.git";
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(
    ///         format!("plugin:install {url} postgres"),
    ///         Output::new(0, "-----> Cloning plugin repo https://github.com/dokku/dokku-postgres.git to /var/lib/dokku/plugins/available/postgres\n-----> Plugin postgres enabled\n", ""),
    ///     );
    /// let client = Client::new(transport.clone());
    /// client.plugin_install(url, Some("postgres")).await?;
    /// assert_eq!(transport.requests().last().unwrap().argv, ["plugin:install", url, "postgres"]);
    /// # Ok(()) }
    /// ```
    pub async fn plugin_install(&self, url: &str, name: Option<&str>) -> Result<()> {
        self.run_ok(install(url, name)?).await.map(drop)
    }

    /// The installed plugins (`plugin:list`).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(
    ///         "plugin:list",
    ///         Output::new(0, concat!(
    ///             "plugn: v0.17.1\n",
    ///             "  00_dokku-standard        0.38.27    enabled    dokku core standard plugin\n",
    ///             "  apps                     0.38.27    enabled    dokku core apps plugin\n",
    ///             "  postgres                 1.48.0     enabled    dokku postgres service plugin\n",
    ///         ), ""),
    ///     );
    /// let client = Client::new(transport);
    /// let plugins = client.plugin_list().await?;
    /// assert_eq!(plugins.len(), 3);
    /// let postgres = plugins.iter().find(|p| p.name == "postgres").unwrap();
    /// assert_eq!(postgres.version, "1.48.0");
    /// assert!(postgres.enabled);
    /// # Ok(()) }
    /// ```
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

    /// Dokku's `PluginInfo` JSON (plugins/plugin/plugin.go) reads as the
    /// `plugn list` text does.
    #[test]
    fn the_json_list_reads_as_the_text_list() {
        let text = "  00_dokku-standard    0.38.27 enabled    dokku core standard plugin\n  postgres             1.48.0 disabled   dokku postgres service plugin\n";
        let json = r#"[{"name":"00_dokku-standard","version":"0.38.27","enabled":true,"core":true,"description":"dokku core standard plugin","source_url":"","committish":"","branch":""},{"name":"postgres","version":"1.48.0","enabled":false,"core":false,"description":"dokku postgres service plugin","source_url":"https://github.com/dokku/dokku-postgres.git","committish":"1.48.0","branch":""}]"#;
        assert_eq!(
            parse_plugin_list_json(json).unwrap(),
            parse::parse_plugin_list(text)
        );
        for bad in ["", "postgres 1.48.0 enabled", r#"[{"name":"postgres"}]"#] {
            assert!(parse_plugin_list_json(bad).is_err(), "{bad:?}");
        }
    }
}
