//! The server's Dokku version and the capabilities that follow from it.
//!
//! The version probe is a pure builder like every command:
//!
//! ```
//! use dokku_client::{version, DokkuVersion};
//! assert_eq!(version::command().argv(), ["version"]);
//! let v = DokkuVersion::parse_output("dokku version 0.38.27\n")?;
//! assert!(v.at_least(0, 38, 21) && v.capabilities().apps_list_json);
//! # Ok::<(), dokku_client::Error>(())
//! ```

use std::fmt;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::parse::ParseError;

/// A Dokku version as printed by `dokku version`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[non_exhaustive]
pub struct DokkuVersion {
    /// Major number (0 for every Dokku so far).
    pub major: u32,
    /// Minor number.
    pub minor: u32,
    /// Patch number.
    pub patch: u32,
    /// The text as printed (`0.38.27`, `v0.38.27-33-g33896f5d7`, `1760000000:0.38.27`).
    pub raw: String,
}

/// `version`: Dokku's version line (`dokku version 0.38.27`).
pub fn command() -> crate::Command {
    crate::Command::read("version")
}

impl DokkuVersion {
    /// Builds a version from numbers.
    pub fn new(major: u32, minor: u32, patch: u32) -> Self {
        DokkuVersion {
            major,
            minor,
            patch,
            raw: format!("{major}.{minor}.{patch}"),
        }
    }

    /// Parses the output of `dokku version`, in every historical form:
    /// `dokku version 0.38.27` (0.15.0+), a bare `0.4.14` or `v0.4.14`, a
    /// nightly `dokku version 1760000000:0.38.27`, or a `git describe` value
    /// `v0.38.27-33-g33896f5d7`. Trailing `\r` and blank lines are ignored.
    pub fn parse_output(text: &str) -> Result<Self> {
        let line = text
            .lines()
            .map(|l| l.trim_end_matches('\r').trim())
            .find(|l| !l.is_empty())
            .unwrap_or("");
        let raw = line.strip_prefix("dokku version ").unwrap_or(line).trim();
        let number = raw.rsplit(':').next().unwrap_or(raw);
        let number = number.strip_prefix('v').unwrap_or(number);
        let core = number.split(['-', '+', ' ']).next().unwrap_or("");
        let mut parts = core.split('.');
        let mut next = || parts.next().and_then(|p| p.parse::<u32>().ok());
        match (next(), next(), next()) {
            (Some(major), Some(minor), Some(patch)) if !raw.is_empty() => Ok(DokkuVersion {
                major,
                minor,
                patch,
                raw: raw.to_string(),
            }),
            _ => Err(Error::Parse {
                command: "version".into(),
                message: "expected `dokku version X.Y.Z` or `X.Y.Z`".into(),
                text: text.chars().take(200).collect(),
            }),
        }
    }

    /// True when this version is `major.minor.patch` or later.
    pub fn at_least(&self, major: u32, minor: u32, patch: u32) -> bool {
        (self.major, self.minor, self.patch) >= (major, minor, patch)
    }

    /// What this version can do.
    pub fn capabilities(&self) -> Capabilities {
        Capabilities {
            report_json: self.at_least(0, 23, 1),
            report_json_stripped_keys: self.at_least(0, 38, 8),
            bash_report_json: self.at_least(0, 38, 0),
            apps_list_json: self.at_least(0, 38, 21),
            ps_scale_json: self.at_least(0, 38, 21),
            go_git_domains_reports: self.at_least(0, 38, 22),
            app_missing_exit_20: self.at_least(0, 24, 0),
            fail_prefix: self.at_least(0, 22, 0),
            xargs_resplit: self.at_least(0, 34, 0),
            build_capture: self.at_least(0, 38, 0),
            config_encoded: self.at_least(0, 11, 0),
            apps_list_command: self.at_least(0, 8, 1),
        }
    }
}

impl fmt::Display for DokkuVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Features of a Dokku version that change what the client sends or parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Capabilities {
    /// Go `:report --format json` (0.23.1+; apps and ps).
    pub report_json: bool,
    /// JSON report keys without the plugin prefix, plus legacy keys (0.38.8+).
    pub report_json_stripped_keys: bool,
    /// Bash reports (git, domains) accept `--format json` (0.38.0+).
    pub bash_report_json: bool,
    /// `apps:list --format json` (0.38.21+).
    pub apps_list_json: bool,
    /// `ps:scale --format json` (0.38.21+).
    pub ps_scale_json: bool,
    /// git and domains reports are Go reports (0.38.22+).
    pub go_git_domains_reports: bool,
    /// A missing app exits 20 (0.24.0+), not 1.
    pub app_missing_exit_20: bool,
    /// Failures carry the ` !     ` prefix (0.22.0+).
    pub fail_prefix: bool,
    /// SSH commands are re-split with `xargs -n 1` (0.34.0+).
    pub xargs_resplit: bool,
    /// Deploy output (stderr too) arrives on stdout (0.38.0+).
    pub build_capture: bool,
    /// `config:set --encoded` (Go config plugin, 0.11.0+).
    pub config_encoded: bool,
    /// `apps:list` exists (0.8.1+); before, only `apps`.
    pub apps_list_command: bool,
}

/// Parses `version` output in every form (see [`DokkuVersion::parse_output`]).
pub fn parse_version(text: &str) -> Result<DokkuVersion, ParseError> {
    DokkuVersion::parse_output(text)
        .map_err(|_| ParseError::new("expected `dokku version X.Y.Z`, `X.Y.Z` or `vX.Y.Z`", text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_historical_form() {
        for (text, expect) in [
            ("dokku version 0.38.27\n", (0, 38, 27)),
            ("0.4.14\n", (0, 4, 14)),
            ("v0.4.14\n", (0, 4, 14)),
            ("dokku version 1760000000:0.38.27\n", (0, 38, 27)),
            ("dokku version v0.38.27-33-g33896f5d7\r\n", (0, 38, 27)),
            ("\ndokku version 0.19.13\n", (0, 19, 13)),
        ] {
            let v = DokkuVersion::parse_output(text).unwrap();
            assert_eq!((v.major, v.minor, v.patch), expect, "{text:?}");
        }
        for bad in ["", "dokku version", "hello", "1.2"] {
            assert!(DokkuVersion::parse_output(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn capabilities_follow_the_reference() {
        let c = DokkuVersion::new(0, 30, 0).capabilities();
        assert!(c.report_json && !c.report_json_stripped_keys && !c.apps_list_json);
        assert!(c.app_missing_exit_20 && !c.xargs_resplit);
        let c = DokkuVersion::new(0, 19, 13).capabilities();
        assert!(!c.report_json && !c.app_missing_exit_20 && !c.fail_prefix);
        let c = DokkuVersion::new(0, 38, 27).capabilities();
        assert!(c.apps_list_json && c.report_json_stripped_keys && c.xargs_resplit);
    }
}
