//! `git:report`.
//!
//! Each command has a pure builder here (no IO) that checks its arguments and
//! returns the [`Command`]; the [`Client`] methods
//! run them and parse the output.
//!
//! ```
//! use dokku_client::{git, ReportFormat};
//! assert_eq!(
//!     git::set("myapp", "deploy-branch", Some("main"))?.argv(),
//!     ["git:set", "myapp", "deploy-branch", "main"],
//! );
//! assert_eq!(git::report("myapp", ReportFormat::Json)?.argv(), ["git:report", "myapp", "--format", "json"]);
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

/// `git:report` for one app. Every field is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct GitReport {
    /// The app.
    pub app: Option<String>,
    /// `--git-deploy-branch` (app setting).
    pub deploy_branch: Option<String>,
    /// `--git-computed-deploy-branch` (what applies).
    pub computed_deploy_branch: Option<String>,
    /// `--git-global-deploy-branch`.
    pub global_deploy_branch: Option<String>,
    /// `--git-keep-git-dir`.
    pub keep_git_dir: Option<String>,
    /// `--git-rev-env-var`.
    pub rev_env_var: Option<String>,
    /// `--git-sha` (40 hex characters).
    pub sha: Option<String>,
    /// `--git-source-image`.
    pub source_image: Option<String>,
    /// `--git-last-updated-at` (Unix seconds).
    pub last_updated_at: Option<String>,
    /// `--git-computed-keep-git-dir`.
    pub computed_keep_git_dir: Option<bool>,
    /// Every other field, by snake_case label.
    #[serde(flatten)]
    pub other: BTreeMap<String, String>,
}

impl GitReport {
    /// Builds a report from snake_case fields (prefix `git` removed).
    pub fn from_fields(app: Option<String>, fields: BTreeMap<String, String>) -> Self {
        Self::from_map(app, fields)
    }
}

impl ReportFields for GitReport {
    fn set_subject(&mut self, subject: Option<String>) {
        self.app = subject;
    }

    fn set_field(&mut self, name: &str, value: String) {
        match name {
            "deploy_branch" => self.deploy_branch = Some(value),
            "computed_deploy_branch" => self.computed_deploy_branch = Some(value),
            "global_deploy_branch" => self.global_deploy_branch = Some(value),
            "keep_git_dir" => self.keep_git_dir = Some(value),
            "rev_env_var" => self.rev_env_var = Some(value),
            "sha" => self.sha = Some(value),
            "source_image" => self.source_image = Some(value),
            "last_updated_at" => self.last_updated_at = Some(value),
            "computed_keep_git_dir" => self.computed_keep_git_dir = parse_bool(&value),
            _ => {
                self.other.insert(name.to_string(), value);
            }
        }
    }
}

/// `git:set <app> <key> [value]` (no value unsets). Keys are Dokku's
/// property names (`deploy-branch`, `keep-git-dir`, `rev-env-var`, ...).
pub fn set(app: &str, key: &str, value: Option<&str>) -> Result<Command> {
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
        return Err(Error::InvalidName {
            name: key.into(),
            message: "git properties are lowercase words joined by `-` (deploy-branch)".into(),
        });
    }
    let cmd = app_command("git:set", app, Effect::Write)?.value(key);
    Ok(match value {
        Some(v) => cmd.value(v),
        None => cmd,
    })
}

/// `git:report <app> [--format json]` (JSON from 0.38.0).
pub fn report(app: &str, format: ReportFormat) -> Result<Command> {
    Ok(format.apply(app_command("git:report", app, Effect::Read)?))
}

impl Client {
    /// Sets (or with `None` unsets) a git property (`git:set`).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("git:set myapp deploy-branch main", Output::new(0, "=====> Setting deploy-branch to main\n", ""))
    ///     .case("git:set myapp deploy-branch", Output::new(0, "=====> Unsetting deploy-branch\n", ""));
    /// let client = Client::new(transport.clone());
    /// client.git_set("myapp", "deploy-branch", Some("main")).await?;
    /// client.git_set("myapp", "deploy-branch", None).await?; // back to the global or default branch
    /// assert_eq!(transport.requests().last().unwrap().argv, ["git:set", "myapp", "deploy-branch"]);
    /// # Ok(()) }
    /// ```
    pub async fn git_set(&self, app: &str, key: &str, value: Option<&str>) -> Result<()> {
        self.run_ok(set(app, key, value)?).await.map(drop)
    }

    /// The git report of one app (`--format json` from 0.38.0, text before).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.37.10") // text before 0.38.0
    ///     .case(
    ///         "git:report myapp",
    ///         Output::new(0, concat!(
    ///             "=====> myapp git information\n",
    ///             "       Git deploy branch:             main                     \n",
    ///             "       Git global deploy branch:      master                   \n",
    ///             "       Git keep git dir:              false                    \n",
    ///             "       Git rev env var:               GIT_REV                  \n",
    ///             "       Git sha:                       2f6d3c9a8b7e4f1d0c5b6a7e8f9d0c1b2a3e4f5d\n",
    ///             "       Git source image:                                       \n",
    ///             "       Git last updated at:           1718123456               \n",
    ///         ), ""),
    ///     );
    /// let client = Client::new(transport);
    /// let report = client.git_report("myapp").await?;
    /// assert_eq!(report.deploy_branch.as_deref(), Some("main"));
    /// assert_eq!(report.sha.as_deref(), Some("2f6d3c9a8b7e4f1d0c5b6a7e8f9d0c1b2a3e4f5d"));
    /// assert_eq!(report.last_updated_at.as_deref(), Some("1718123456"));
    /// # Ok(()) }
    /// ```
    pub async fn git_report(&self, app: &str) -> Result<GitReport> {
        let format = ReportFormat::when(self.capabilities().await?.bash_report_json);
        let (subject, fields) = self
            .single_report(report(app, format)?, format, "git", app)
            .await?;
        Ok(GitReport::from_fields(subject, fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::ScriptedTransport;
    use crate::Output;

    #[test]
    fn set_command() {
        assert_eq!(
            set("a", "deploy-branch", Some("main")).unwrap().argv(),
            vec!["git:set", "a", "deploy-branch", "main"]
        );
        assert!(set("a", "Bad key", None).is_err());
    }

    #[tokio::test]
    async fn report_text_on_0_37_and_json_on_0_38() {
        let old = Client::new(ScriptedTransport::new().version("0.37.10").case(
            "git:report a",
            Output::new(0, "=====> a git information\n       Git deploy branch:             master                   \n       Git sha:                       abc                      \n", ""),
        ));
        let r = old.git_report("a").await.unwrap();
        assert_eq!(r.deploy_branch.as_deref(), Some("master"));
        assert_eq!(r.sha.as_deref(), Some("abc"));
        let new = Client::new(ScriptedTransport::new().version("0.38.27").case(
            "git:report a --format json",
            Output::new(0, "{\"deploy-branch\":\"main\",\"sha\":\"def\"}\n", ""),
        ));
        let r = new.git_report("a").await.unwrap();
        assert_eq!(r.deploy_branch.as_deref(), Some("main"));
    }
}
