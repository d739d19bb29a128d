//! `domains:report`, `domains:add`, `domains:set`, `domains:remove`.
//!
//! Each command has a pure builder here (no IO) that checks its arguments and
//! returns the [`Command`]; the [`Client`] methods
//! run them and parse the output.
//!
//! ```
//! use dokku_client::{domains, ReportFormat};
//! assert_eq!(
//!     domains::add("myapp", &["www.example.com"])?.argv(),
//!     ["domains:add", "myapp", "www.example.com"],
//! );
//! assert_eq!(domains::report(None, ReportFormat::Text)?.argv(), ["domains:report"]);
//! assert!(domains::set("myapp", &["--force"]).is_err()); // not a host name
//! # Ok::<(), dokku_client::Error>(())
//! ```

use std::collections::BTreeMap;

use serde::Serialize;

use crate::command::{Command, Effect};
use crate::error::{Error, Result};
use crate::parse::report::parse_bool;
use crate::parse::report::ReportFields;
use crate::parse::report::ReportFormat;
use crate::resource::app_command;
use crate::Client;

/// `domains:report` for one app (or `--global`). Every field is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
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
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("domains:add myapp www.example.com", Output::new(0, "-----> Added www.example.com to myapp\n", ""));
    /// let client = Client::new(transport.clone());
    /// client.domains_add("myapp", &["www.example.com"]).await?;
    /// assert_eq!(transport.requests().last().unwrap().argv, ["domains:add", "myapp", "www.example.com"]);
    /// // A word that is not a host name is refused before anything is sent.
    /// assert!(client.domains_add("myapp", &["--force"]).await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn domains_add(&self, app: &str, domains: &[&str]) -> Result<()> {
        self.run_ok(add(app, domains)?).await.map(drop)
    }

    /// Replaces an app's domains.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(
    ///         "domains:set myapp myapp.example.com www.example.com",
    ///         Output::new(0, "-----> Set myapp.example.com www.example.com for myapp\n", ""),
    ///     );
    /// let client = Client::new(transport.clone());
    /// client.domains_set("myapp", &["myapp.example.com", "www.example.com"]).await?;
    /// assert_eq!(transport.requests().len(), 2); // version, domains:set
    /// # Ok(()) }
    /// ```
    pub async fn domains_set(&self, app: &str, domains: &[&str]) -> Result<()> {
        self.run_ok(set(app, domains)?).await.map(drop)
    }

    /// Removes domains from an app.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("domains:remove myapp www.example.com", Output::new(0, "-----> Removed www.example.com from myapp\n", ""));
    /// let client = Client::new(transport.clone());
    /// client.domains_remove("myapp", &["www.example.com"]).await?;
    /// assert_eq!(transport.requests().last().unwrap().argv, ["domains:remove", "myapp", "www.example.com"]);
    /// # Ok(()) }
    /// ```
    pub async fn domains_remove(&self, app: &str, domains: &[&str]) -> Result<()> {
        self.run_ok(remove(app, domains)?).await.map(drop)
    }

    /// The domains report of one app (`--format json` from 0.38.0, text before).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(
    ///         "domains:report myapp --format json",
    ///         Output::new(0, concat!(
    ///             r#"{"app-enabled":"true","app-vhosts":"myapp.dokku.example.com www.example.com","#,
    ///             r#""global-enabled":"true","global-vhosts":"dokku.example.com"}"#,
    ///             "\n",
    ///         ), ""),
    ///     );
    /// let client = Client::new(transport);
    /// let report = client.domains_report("myapp").await?;
    /// assert_eq!(report.app_enabled, Some(true));
    /// assert_eq!(report.app_vhosts, ["myapp.dokku.example.com", "www.example.com"]);
    /// assert_eq!(report.global_vhosts, ["dokku.example.com"]);
    /// # Ok(()) }
    /// ```
    pub async fn domains_report(&self, app: &str) -> Result<DomainsReport> {
        let format = ReportFormat::when(self.capabilities().await?.bash_report_json);
        let (subject, fields) = self
            .single_report(report(Some(app), format)?, format, "domains", app)
            .await?;
        Ok(DomainsReport::from_fields(subject, fields))
    }

    /// The domains reports of every app, in one `domains:report` (text names each app).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let text = concat!(
    ///     "=====> api domains information\n",
    ///     "       Domains app enabled:           false\n",
    ///     "       Domains app vhosts:            \n",
    ///     "       Domains global enabled:        true\n",
    ///     "       Domains global vhosts:         dokku.example.com\n",
    ///     "=====> myapp domains information\n",
    ///     "       Domains app enabled:           true\n",
    ///     "       Domains app vhosts:            myapp.dokku.example.com www.example.com\n",
    ///     "       Domains global enabled:        true\n",
    ///     "       Domains global vhosts:         dokku.example.com\n",
    /// );
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("domains:report", Output::new(0, text, ""));
    /// let client = Client::new(transport);
    /// let reports = client.domains_reports().await?;
    /// assert_eq!(reports.len(), 2);
    /// assert_eq!(reports[0].app.as_deref(), Some("api"));
    /// assert_eq!(reports[0].app_enabled, Some(false));
    /// assert_eq!(reports[1].app_vhosts, ["myapp.dokku.example.com", "www.example.com"]);
    /// # Ok(()) }
    /// ```
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
