//! `domains:report`, `domains:add`, `domains:set`, `domains:remove`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::apps::{app_command, parse_bool};
use crate::command::{Command, Effect};
use crate::error::{Error, Result};
use crate::parse::report::ReportFields;
use crate::parse::report::ReportFormat;
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

fn domains_command(name: &str, app: &str, domains: &[&str]) -> Result<Command> {
    let mut cmd = app_command(name, app, Effect::Write)?;
    for d in domains {
        validate_domain(d)?;
        cmd = cmd.value(*d);
    }
    Ok(cmd)
}

/// `domains:add <app> <domain>...`.
pub fn add(app: &str, domains: &[&str]) -> Result<Command> {
    domains_command("domains:add", app, domains)
}

/// `domains:set <app> <domain>...`: replaces the app's domains.
pub fn set(app: &str, domains: &[&str]) -> Result<Command> {
    domains_command("domains:set", app, domains)
}

/// `domains:remove <app> <domain>...`.
pub fn remove(app: &str, domains: &[&str]) -> Result<Command> {
    domains_command("domains:remove", app, domains)
}

/// `domains:report [<app>] [--format json]` (every app when `app` is
/// `None`; JSON from 0.38.0).
pub fn report(app: Option<&str>, format: ReportFormat) -> Result<Command> {
    let cmd = match app {
        Some(app) => app_command("domains:report", app, Effect::Read)?,
        None => Command::read("domains:report"),
    };
    Ok(format.apply(cmd))
}

impl Client {
    /// Adds domains to an app.
    pub async fn domains_add(&self, app: &str, domains: &[&str]) -> Result<()> {
        self.run_ok(add(app, domains)?).await.map(drop)
    }

    /// Replaces an app's domains.
    pub async fn domains_set(&self, app: &str, domains: &[&str]) -> Result<()> {
        self.run_ok(set(app, domains)?).await.map(drop)
    }

    /// Removes domains from an app.
    pub async fn domains_remove(&self, app: &str, domains: &[&str]) -> Result<()> {
        self.run_ok(remove(app, domains)?).await.map(drop)
    }

    /// The domains report of one app (`--format json` from 0.38.0, text before).
    pub async fn domains_report(&self, app: &str) -> Result<DomainsReport> {
        let format = ReportFormat::when(self.capabilities().await?.bash_report_json);
        let (subject, fields) = self
            .single_report(report(Some(app), format)?, format, "domains", app)
            .await?;
        Ok(DomainsReport::from_fields(subject, fields))
    }

    /// The domains reports of every app, in one `domains:report` (text names each app).
    pub async fn domains_reports(&self) -> Result<Vec<DomainsReport>> {
        self.all_reports(report(None, ReportFormat::Text)?, "domains")
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_commands_validate_their_words() {
        let c = add("api", &["api.example.com", "www.example.com"]).unwrap();
        assert_eq!(
            c.argv(),
            vec!["domains:add", "api", "api.example.com", "www.example.com"]
        );
        assert!(add("api", &["a b"]).is_err());
        assert!(add("api", &["--force"]).is_err());
        assert!(add("Bad_App", &["a.example.com"]).is_err());
    }
}
