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

impl Client {
    /// The installed plugins (`plugin:list`).
    pub async fn plugin_list(&self) -> Result<Vec<PluginInfo>> {
        let out = self.run_ok(Command::read("plugin:list")).await?;
        Ok(parse::parse_plugin_list(&out.stdout_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plugins() {
        let p = parse::parse_plugin_list("  00_dokku-standard    0.38.27 enabled    dokku core standard plugin\n  postgres             1.48.0 disabled   dokku postgres service plugin\n");
        assert_eq!(p.len(), 2);
        assert!(p[0].enabled && !p[1].enabled);
        assert_eq!(p[1].description, "dokku postgres service plugin");
    }
}
