//! Apps: list, exists, create, destroy, report, lock, unlock, locked.
//!
//! ```
//! # use dokku_client::{Client, Output, transport::ScriptedTransport};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> dokku_client::Result<()> {
//! # let client = Client::new(ScriptedTransport::new()
//! #     .version("0.38.27")
//! #     .case("apps:exists myapp", Output::new(20, "", " !     App myapp does not exist\n"))
//! #     .case("apps:create myapp", Output::new(0, "-----> Creating myapp...\n", ""))
//! #     .case("apps:report myapp --format json", Output::new(0, r#"{"deploy-source":"","locked":"false"}"#, "")));
//! if !client.apps_exists("myapp").await? {
//!     client.apps_create("myapp").await?;
//! }
//! let report = client.apps_report("myapp").await?;
//! println!("deployed from {:?}", report.deploy_source);
//! # Ok(()) }
//! ```
//!
//! Each command has a pure builder here (no IO) that checks its arguments and
//! returns the [`Command`]; the [`Client`] methods
//! run them and parse the output.
//!
//! ```
//! use dokku_client::{apps, DokkuVersion};
//! assert_eq!(apps::lock("myapp")?.argv(), ["apps:lock", "myapp"]);
//! assert_eq!(apps::destroy("myapp")?.argv(), ["apps:destroy", "--force", "myapp"]);
//! let caps = DokkuVersion::new(0, 38, 27).capabilities();
//! assert_eq!(apps::list(&caps).argv(), ["apps:list", "--format", "json"]);
//! // Dokku's name rule is checked before anything is sent.
//! assert!(apps::create("My_App").is_err());
//! # Ok::<(), dokku_client::Error>(())
//! ```

use std::collections::BTreeMap;

use serde::Serialize;

use crate::command::{Command, Effect};
use crate::error::Result;
use crate::parse::report::{parse_bool, ReportFields, ReportFormat};
use crate::parse::{self};
use crate::parse::{lines_of, ParseError};
use crate::resource::{app_command, MissingIsNo};
use crate::version::Capabilities;
use crate::Client;

/// Dokku's app name rule, checked by every builder that takes an app (its
/// home is [`crate::names`]; this path is kept for existing callers).
pub use crate::names::validate_app_name;

/// `apps:report` for one app. Every field is kept: known ones typed, the
/// others in `other` under their snake_case name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AppReport {
    /// The app (from the header, or the name asked for).
    pub app: Option<String>,
    /// `--app-created-at`: Unix seconds (0.26.2+).
    pub created_at: Option<String>,
    /// `--app-deploy-source`: `git-push`, `git-sync`, `docker-image`, ... (`git` in 0.19).
    pub deploy_source: Option<String>,
    /// `--app-deploy-source-metadata`: commit SHA, image or `url#ref`.
    pub deploy_source_metadata: Option<String>,
    /// `--app-dir`.
    pub dir: Option<String>,
    /// `--app-global-disable-autocreation`.
    pub global_disable_autocreation: Option<String>,
    /// `--app-locked`.
    pub locked: Option<bool>,
    /// Fields this version of the client does not know, by snake_case label.
    #[serde(flatten)]
    pub other: BTreeMap<String, String>,
}

impl AppReport {
    /// Builds a report from snake_case fields (prefix `app` removed).
    pub fn from_fields(app: Option<String>, fields: BTreeMap<String, String>) -> Self {
        Self::from_map(app, fields)
    }
}

impl ReportFields for AppReport {
    fn set_subject(&mut self, subject: Option<String>) {
        self.app = subject;
    }

    fn set_field(&mut self, name: &str, value: String) {
        match name {
            "created_at" => self.created_at = Some(value),
            "deploy_source" => self.deploy_source = Some(value),
            "deploy_source_metadata" => self.deploy_source_metadata = Some(value),
            "dir" => self.dir = Some(value),
            "global_disable_autocreation" => self.global_disable_autocreation = Some(value),
            "locked" => self.locked = parse_bool(&value),
            _ => {
                self.other.insert(name.to_string(), value);
            }
        }
    }
}

/// `apps:list`, as the server's version has it: `--format json` where it
/// exists (0.38.21+), bare `apps` before 0.8.1.
pub fn list(caps: &Capabilities) -> Command {
    let cmd = Command::read(if caps.apps_list_command {
        "apps:list"
    } else {
        "apps"
    });
    if caps.apps_list_json {
        cmd.flag("--format").flag("json")
    } else {
        cmd
    }
}

/// `apps:exists <app>`.
pub fn exists(app: &str) -> Result<Command> {
    app_command("apps:exists", app, Effect::Read)
}

/// `apps:create <app>`.
pub fn create(app: &str) -> Result<Command> {
    app_command("apps:create", app, Effect::Write)
}

/// `apps:destroy --force <app>`: Dokku's own confirmation (typing the name
/// on its terminal) cannot be given through this client, so the caller
/// confirms before sending it.
pub fn destroy(app: &str) -> Result<Command> {
    validate_app_name(app)?;
    Ok(Command::write("apps:destroy").flag("--force").value(app))
}

/// `apps:report [<app>] [--format json]` (every app when `app` is `None`).
pub fn report(app: Option<&str>, format: ReportFormat) -> Result<Command> {
    let mut cmd = Command::read("apps:report");
    if let Some(app) = app {
        validate_app_name(app)?;
        cmd = cmd.value(app);
    }
    Ok(format.apply(cmd))
}

/// `apps:lock <app>`: creates the deploy lock.
pub fn lock(app: &str) -> Result<Command> {
    app_command("apps:lock", app, Effect::Write)
}

/// `apps:unlock <app>`: removes the deploy lock.
pub fn unlock(app: &str) -> Result<Command> {
    app_command("apps:unlock", app, Effect::Write)
}

/// `apps:locked <app>`: exit 0 when locked, 1 when not.
pub fn locked(app: &str) -> Result<Command> {
    app_command("apps:locked", app, Effect::Read)
}

/// Parses `apps:list` / `apps` output: the `=====> My Apps` header
/// (absent with `--quiet`), one name per line; `--format json` (`["a"]`).
/// Warning lines (stdout before 0.8.1) and names Dokku itself skips (a
/// leading `.` or upper-case letter) are left out.
pub fn parse_apps_list(text: &str) -> Result<Vec<String>, ParseError> {
    let trimmed = text.trim();
    if trimmed.starts_with('[') {
        let v: serde_json::Value = serde_json::from_str(trimmed)
            .map_err(|e| ParseError::new(format!("invalid JSON app list: {e}"), text))?;
        return match v {
            serde_json::Value::Array(items) => Ok(items
                .into_iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect()),
            _ => Err(ParseError::new("expected a JSON list of names", text)),
        };
    }
    Ok(lines_of(text)
        .into_iter()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("=====>") && !l.starts_with("----->"))
        .filter(|l| !l.starts_with('!'))
        .filter(|l| !l.starts_with('.') && !l.starts_with(|c: char| c.is_ascii_uppercase()))
        .filter(|l| !l.contains(' '))
        .map(str::to_string)
        .collect())
}

impl Client {
    /// Lists apps (`apps:list`, JSON where the server has it).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27") // 0.38.21+: `apps:list --format json`
    ///     .case("apps:list --format json", Output::new(0, "[\"api\",\"myapp\",\"staging.web\"]\n", ""));
    /// let client = Client::new(transport);
    /// assert_eq!(client.apps_list().await?, ["api", "myapp", "staging.web"]);
    /// # Ok(()) }
    /// ```
    pub async fn apps_list(&self) -> Result<Vec<String>> {
        let cmd = list(&self.capabilities().await?);
        let out = self.run_ok(cmd.clone()).await?;
        parse::parse_apps_list(&out.stdout_text()).map_err(|e| e.into_error(cmd.name()))
    }

    /// True when the app exists (`apps:exists`: exit 20, or 1 before 0.24, means no).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("apps:exists myapp", Output::new(0, "", ""))
    ///     .case("apps:exists nope", Output::new(20, "", " !     App nope does not exist\n"));
    /// let client = Client::new(transport);
    /// assert!(client.apps_exists("myapp").await?);
    /// assert!(!client.apps_exists("nope").await?);
    /// # Ok(()) }
    /// ```
    pub async fn apps_exists(&self, app: &str) -> Result<bool> {
        self.yes_no(exists(app)?, &[1, 20], MissingIsNo::App).await
    }

    /// Creates an app (`apps:create`); [`Error::AlreadyExists`](crate::Error::AlreadyExists) if taken.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use dokku_client::Error;
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("apps:create myapp", Output::new(0, "-----> Creating myapp...\n-----> Creating new app virtual host file...\n", ""))
    ///     .case("apps:create api", Output::new(1, "", " !     Name is already taken\n"));
    /// let client = Client::new(transport);
    /// client.apps_create("myapp").await?;
    /// assert!(matches!(client.apps_create("api").await, Err(Error::AlreadyExists { .. })));
    /// // Names are checked before anything is sent.
    /// assert!(matches!(client.apps_create("My_App").await, Err(Error::InvalidName { .. })));
    /// # Ok(()) }
    /// ```
    pub async fn apps_create(&self, app: &str) -> Result<()> {
        self.run_ok(create(app)?).await?;
        Ok(())
    }

    /// Destroys an app and everything in it, without Dokku's prompt
    /// (`apps:destroy --force`): ask the user first.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(
    ///         "apps:destroy --force myapp",
    ///         Output::new(0, "-----> Destroying myapp (including all add-ons)\n-----> Cleaning up...\n-----> Retiring old containers and images\n", ""),
    ///     );
    /// let client = Client::new(transport.clone());
    /// client.apps_destroy("myapp").await?;
    /// assert_eq!(transport.requests().last().unwrap().argv, ["apps:destroy", "--force", "myapp"]);
    /// # Ok(()) }
    /// ```
    pub async fn apps_destroy(&self, app: &str) -> Result<()> {
        self.run_ok(destroy(app)?).await?;
        Ok(())
    }

    /// The report of one app.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27") // `--format json` from 0.23.1
    ///     .case(
    ///         "apps:report myapp --format json",
    ///         Output::new(0, concat!(
    ///             r#"{"app-created-at":"1717171717","app-deploy-source":"git-push","app-deploy-source-metadata":"2f6d3c9a8b7e4f1d0c5b6a7e8f9d0c1b2a3e4f5d","app-dir":"/home/dokku/myapp","app-global-disable-autocreation":"","app-locked":"false","#,
    ///             r#""created-at":"1717171717","deploy-source":"git-push","deploy-source-metadata":"2f6d3c9a8b7e4f1d0c5b6a7e8f9d0c1b2a3e4f5d","dir":"/home/dokku/myapp","global-disable-autocreation":"","locked":"false"}"#,
    ///             "\n",
    ///         ), ""),
    ///     );
    /// let client = Client::new(transport);
    /// let report = client.apps_report("myapp").await?;
    /// assert_eq!(report.deploy_source.as_deref(), Some("git-push"));
    /// assert_eq!(report.dir.as_deref(), Some("/home/dokku/myapp"));
    /// assert_eq!(report.locked, Some(false));
    /// # Ok(()) }
    /// ```
    pub async fn apps_report(&self, app: &str) -> Result<AppReport> {
        let format = ReportFormat::when(self.capabilities().await?.report_json);
        let (subject, fields) = self
            .single_report(report(Some(app), format)?, format, "app", app)
            .await?;
        Ok(AppReport::from_fields(subject, fields))
    }

    /// The reports of every app, in one call (text output, which names each app).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let text = concat!(
    ///     "=====> api app information\n",
    ///     "       App created at:                  1717000000\n",
    ///     "       App deploy source:               docker-image\n",
    ///     "       App deploy source metadata:      registry.example.com/api:1.4.2\n",
    ///     "       App dir:                         /home/dokku/api\n",
    ///     "       App global disable autocreation: \n",
    ///     "       App locked:                      true\n",
    ///     "=====> myapp app information\n",
    ///     "       App created at:                  1717171717\n",
    ///     "       App deploy source:               git-push\n",
    ///     "       App deploy source metadata:      2f6d3c9a8b7e4f1d0c5b6a7e8f9d0c1b2a3e4f5d\n",
    ///     "       App dir:                         /home/dokku/myapp\n",
    ///     "       App global disable autocreation: \n",
    ///     "       App locked:                      false\n",
    /// );
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("apps:report", Output::new(0, text, ""));
    /// let client = Client::new(transport);
    /// let reports = client.apps_reports().await?;
    /// let apps: Vec<_> = reports.iter().map(|r| r.app.as_deref().unwrap()).collect();
    /// assert_eq!(apps, ["api", "myapp"]);
    /// assert_eq!(reports[0].locked, Some(true));
    /// assert_eq!(reports[1].deploy_source.as_deref(), Some("git-push"));
    /// # Ok(()) }
    /// ```
    pub async fn apps_reports(&self) -> Result<Vec<AppReport>> {
        self.all_reports(report(None, ReportFormat::Text)?, "app")
            .await
    }

    /// Creates the deploy lock file (`apps:lock`).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("apps:lock myapp", Output::new(0, "-----> Deploy lock created\n", ""));
    /// let client = Client::new(transport.clone());
    /// client.apps_lock("myapp").await?;
    /// assert_eq!(transport.requests().last().unwrap().argv, ["apps:lock", "myapp"]);
    /// # Ok(()) }
    /// ```
    pub async fn apps_lock(&self, app: &str) -> Result<()> {
        self.run_ok(lock(app)?).await?;
        Ok(())
    }

    /// Removes the deploy lock (`apps:unlock`).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(
    ///         "apps:unlock myapp",
    ///         Output::new(
    ///             0,
    ///             "-----> Deploy lock removed\n",
    ///             " !     A deploy may be in progress.\n !     Removing the app lock will not stop in progress deploys.\n",
    ///         ),
    ///     );
    /// let client = Client::new(transport.clone());
    /// client.apps_unlock("myapp").await?; // the warnings on stderr are not an error
    /// assert_eq!(transport.requests().last().unwrap().argv, ["apps:unlock", "myapp"]);
    /// # Ok(()) }
    /// ```
    pub async fn apps_unlock(&self, app: &str) -> Result<()> {
        self.run_ok(unlock(app)?).await?;
        Ok(())
    }

    /// True when the app has a deploy lock (`apps:locked`; exit 1 means no).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("apps:locked myapp", Output::new(0, "Deploy lock exists\n", ""))
    ///     .case("apps:locked api", Output::new(1, "", " !     Deploy lock does not exist\n"));
    /// let client = Client::new(transport);
    /// assert!(client.apps_locked("myapp").await?);
    /// assert!(!client.apps_locked("api").await?);
    /// # Ok(()) }
    /// ```
    pub async fn apps_locked(&self, app: &str) -> Result<bool> {
        self.yes_no(locked(app)?, &[1], MissingIsNo::Neither).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::parse::report::report_maps;

    #[test]
    fn commands() {
        assert_eq!(
            report(Some("a"), ReportFormat::Json).unwrap().argv(),
            vec!["apps:report", "a", "--format", "json"]
        );
        assert_eq!(
            report(None, ReportFormat::Text).unwrap().argv(),
            vec!["apps:report"]
        );
        let old = crate::DokkuVersion::new(0, 8, 0).capabilities();
        assert_eq!(list(&old).argv(), vec!["apps"]);
        let new = crate::DokkuVersion::new(0, 38, 27).capabilities();
        assert_eq!(list(&new).argv(), vec!["apps:list", "--format", "json"]);
        assert_eq!(
            destroy("a").unwrap().argv(),
            vec!["apps:destroy", "--force", "a"]
        );
        assert!(destroy("A").is_err());
        assert_eq!(lock("a").unwrap().argv(), vec!["apps:lock", "a"]);
        assert_eq!(locked("a").unwrap().effect(), Effect::Read);
        assert_eq!(unlock("a").unwrap().effect(), Effect::Write);
        assert!(create("-a").is_err() && exists("a b").is_err());
    }

    #[test]
    fn report_keeps_unknown_fields() {
        let maps = report_maps("=====> a app information\n       App dir:  /a\n       App shiny:  yes\n       App locked: true\n", ReportFormat::Text, "app", None).unwrap();
        let r = AppReport::from_fields(maps[0].0.clone(), maps[0].1.clone());
        assert_eq!(r.app.as_deref(), Some("a"));
        assert_eq!(r.locked, Some(true));
        assert_eq!(r.other["shiny"], "yes");
        let maps = report_maps(
            "{\"app-dir\":\"/a\",\"dir\":\"/a\",\"new-thing\":\"1\"}\n",
            ReportFormat::Json,
            "app",
            Some("a"),
        )
        .unwrap();
        let r = AppReport::from_fields(maps[0].0.clone(), maps[0].1.clone());
        assert_eq!(r.dir.as_deref(), Some("/a"));
        assert_eq!(r.other["new_thing"], "1");
    }

    use crate::transport::ScriptedTransport;
    use crate::Output;

    fn client(t: ScriptedTransport) -> Client {
        Client::new(t)
    }

    #[tokio::test]
    async fn typed_apps_methods_per_version() {
        let new = client(
            ScriptedTransport::new()
                .version("0.38.27")
                .case(
                    "apps:list --format json",
                    Output::new(0, "[\"a\",\"b\"]\n", ""),
                )
                .case(
                    "apps:exists nope",
                    Output::new(20, "", " !     App nope does not exist\n"),
                )
                .case(
                    "apps:locked a",
                    Output::new(1, "", " !     Deploy lock does not exist\n"),
                )
                .case(
                    "apps:report a --format json",
                    Output::new(
                        0,
                        "{\"app-locked\":\"true\",\"locked\":\"true\",\"dir\":\"/a\"}\n",
                        "",
                    ),
                ),
        );
        assert_eq!(new.apps_list().await.unwrap(), vec!["a", "b"]);
        assert!(!new.apps_exists("nope").await.unwrap());
        assert!(!new.apps_locked("a").await.unwrap());
        let r = new.apps_report("a").await.unwrap();
        assert_eq!(r.locked, Some(true));
        assert_eq!(r.dir.as_deref(), Some("/a"));
        assert!(matches!(
            new.apps_exists("Bad").await,
            Err(Error::InvalidName { .. })
        ));

        let old = client(
            ScriptedTransport::new()
                .version("0.19.13")
                .case("apps:list", Output::new(0, "=====> My Apps\nx\n", ""))
                .case(
                    "apps:report x",
                    Output::new(0, "=====> x app information\n       App dir:                       /home/dokku/x            \n       Locked:                        false                    \n", ""),
                ),
        );
        assert_eq!(old.apps_list().await.unwrap(), vec!["x"]);
        let r = old.apps_report("x").await.unwrap();
        assert_eq!(r.dir.as_deref(), Some("/home/dokku/x"));
        assert_eq!(r.locked, Some(false));
    }

    #[test]
    fn apps_list_forms() {
        assert_eq!(
            parse_apps_list("=====> My Apps\r\na\r\n.hidden\nB\n").unwrap(),
            vec!["a"]
        );
        assert_eq!(parse_apps_list("[]\n").unwrap(), Vec::<String>::new());
        assert_eq!(
            parse_apps_list("=====> My Apps\n !     You haven't deployed any applications yet\n")
                .unwrap(),
            Vec::<String>::new()
        );
        assert!(parse_apps_list("[1").is_err());
    }
}
