//! `domains:report`, `domains:add`, `domains:set`, `domains:remove`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::apps::{app_command, parse_bool};
use crate::error::{Error, Result};
use crate::parse::report::ReportFields;
use crate::Client;

/// `domains:report` for one app (or `--global`). Every field is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DomainsReport {
    /// The app, or `--global`.
    pub app: Option<String>,
    /// `--domains-app-enabled`.
    pub app_enabled: Option<bool>,
    /// `--domains-app-vhosts`, split.
    pub app_vhosts: Vec<String>,
    /// `--domains-global-enabled`.
    pub global_enabled: Option<bool>,
    /// `--domains-global-vhosts`, split.
    pub global_vhosts: Vec<String>,
    /// Every other field, by snake_case label.
    #[serde(flatten)]
    pub other: BTreeMap<String, String>,
}

impl DomainsReport {
    /// Builds a report from snake_case fields (prefix `domains` removed).
    pub fn from_fields(app: Option<String>, fields: BTreeMap<String, String>) -> Self {
        Self::from_map(app, fields)
    }
}

impl ReportFields for DomainsReport {
    fn set_subject(&mut self, subject: Option<String>) {
        self.app = subject;
    }

    fn set_field(&mut self, name: &str, value: String) {
        let split = |v: &str| v.split_whitespace().map(str::to_string).collect();
        match name {
            "app_enabled" => self.app_enabled = parse_bool(&value),
            "app_vhosts" => self.app_vhosts = split(&value),
            "global_enabled" => self.global_enabled = parse_bool(&value),
            "global_vhosts" => self.global_vhosts = split(&value),
            _ => {
                self.other.insert(name.to_string(), value);
            }
        }
    }
}

/// Refuses a domain that is empty, has whitespace or starts with `-`.
fn validate_domain(domain: &str) -> Result<()> {
    if domain.is_empty()
        || domain.starts_with('-')
        || domain.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(Error::InvalidName {
            name: domain.to_string(),
            message: "a domain is a host name such as `api.example.com` (no spaces, not starting with `-`)".into(),
        });
    }
    Ok(())
}

/// `domains:<verb> <app> <domain>...` (`verb` is `add`, `set` or `remove`).
pub fn domains_command(verb: &str, app: &str, domains: &[&str]) -> Result<crate::Command> {
    let mut cmd = app_command(&format!("domains:{verb}"), app, false)?;
    for d in domains {
        validate_domain(d)?;
        cmd = cmd.value(*d);
    }
    Ok(cmd)
}

impl Client {
    /// Adds domains to an app.
    pub async fn domains_add(&self, app: &str, domains: &[&str]) -> Result<()> {
        self.run_ok(domains_command("add", app, domains)?)
            .await
            .map(drop)
    }

    /// Replaces an app's domains.
    pub async fn domains_set(&self, app: &str, domains: &[&str]) -> Result<()> {
        self.run_ok(domains_command("set", app, domains)?)
            .await
            .map(drop)
    }

    /// Removes domains from an app.
    pub async fn domains_remove(&self, app: &str, domains: &[&str]) -> Result<()> {
        self.run_ok(domains_command("remove", app, domains)?)
            .await
            .map(drop)
    }

    /// The domains report of one app (`--format json` from 0.38.0, text before).
    pub async fn domains_report(&self, app: &str) -> Result<DomainsReport> {
        let json = self.capabilities().await?.bash_report_json;
        let mut cmd = app_command("domains:report", app, true)?;
        if json {
            cmd = cmd.flag("--format").flag("json");
        }
        let (subject, fields) = self.single_report(cmd, json, "domains", app).await?;
        Ok(DomainsReport::from_fields(subject, fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_commands_validate_their_words() {
        let c = domains_command("add", "api", &["api.example.com", "www.example.com"]).unwrap();
        assert_eq!(
            c.argv(),
            vec!["domains:add", "api", "api.example.com", "www.example.com"]
        );
        assert!(domains_command("add", "api", &["a b"]).is_err());
        assert!(domains_command("add", "api", &["--force"]).is_err());
        assert!(domains_command("add", "Bad_App", &["a.example.com"]).is_err());
    }
}
