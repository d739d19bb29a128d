//! Environment variables: show, get, set (always `--encoded`), unset, export.
//!
//! ```
//! # use dokku_client::{Client, Output, transport::ScriptedTransport};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> dokku_client::Result<()> {
//! # let client = Client::new(ScriptedTransport::new()
//! #     .version("0.38.27")
//! #     .case(
//! #         "config:set --encoded --no-restart myapp GREETING=aGVsbG8gICB3b3JsZA==",
//! #         Output::new(0, "-----> Setting config vars\n       GREETING:  hello   world\n", ""),
//! #     )
//! #     .case("config:get myapp GREETING", Output::new(0, "hello   world\n", "")));
//! use dokku_client::config::ConfigSetOptions;
//! let mut options = ConfigSetOptions::default();
//! options.no_restart = true;
//! client.config_set("myapp", &[("GREETING", "hello   world")], options).await?;
//! assert_eq!(client.config_get("myapp", "GREETING").await?.as_deref(), Some("hello   world"));
//! # Ok(()) }
//! ```
//!
//! Each command has a pure builder here (no IO) that checks its arguments and
//! returns the [`Command`]; the [`Client`] methods
//! run them and parse the output.
//!
//! ```
//! use dokku_client::config::{self, ConfigScope, ConfigSetOptions, ExportFormat};
//! let set = config::set("myapp".into(), &[("SECRET", "s3cr3t value")], ConfigSetOptions::default())?;
//! assert_eq!(set.argv(), ["config:set", "--encoded", "myapp", "SECRET=czNjcjN0IHZhbHVl"]);
//! assert!(!set.display().contains("czNjcjN0")); // values are secret
//! assert_eq!(config::keys(ConfigScope::Global)?.argv(), ["config:keys", "--global"]);
//! assert_eq!(
//!     config::export("myapp".into(), ExportFormat::Json)?.argv(),
//!     ["config:export", "--format", "json", "myapp"],
//! );
//! assert!(config::get("myapp".into(), "FOO-BAR").is_err()); // not a config key
//! # Ok::<(), dokku_client::Error>(())
//! ```

/// The parsers of `config:*` output (pure, also reachable as
/// [`crate::parse::config`]).
pub mod parse;

use std::collections::BTreeMap;

use base64::Engine;
use serde::Serialize;

use crate::names::validate_app_name;

use crate::command::Command;
use crate::error::{Error, Result};
/// What `config:set` and `config:unset` report (parsed in [`crate::parse::config`]).
pub use crate::parse::{ConfigSetResult, ConfigUnsetResult, ValueQuoting};
use crate::Client;

/// Config variables, by key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ConfigVars(pub BTreeMap<String, String>);

impl From<BTreeMap<String, String>> for ConfigVars {
    fn from(m: BTreeMap<String, String>) -> Self {
        ConfigVars(m)
    }
}

impl ConfigVars {
    /// The value of a key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
}

/// Where config commands act: one app or the global environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigScope<'a> {
    /// An app.
    App(&'a str),
    /// `--global`.
    Global,
}

impl<'a> From<&'a str> for ConfigScope<'a> {
    fn from(app: &'a str) -> Self {
        ConfigScope::App(app)
    }
}

/// Checks a config key against `^[a-zA-Z_][a-zA-Z0-9_]*$`.
pub fn validate_config_key(key: &str) -> Result<()> {
    if parse::is_config_key(key) {
        Ok(())
    } else {
        Err(Error::InvalidName {
            name: key.to_string(),
            message: "config keys start with a letter or `_` and contain only letters, digits and `_` (^[a-zA-Z_][a-zA-Z0-9_]*$)".into(),
        })
    }
}

/// `config:export` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ExportFormat {
    /// `export K='v'` lines (the default).
    #[default]
    Exports,
    /// `K="escaped"` lines; integer-looking values are written bare.
    Envfile,
    /// `--env=K='v' ...`.
    DockerArgs,
    /// `--env=K ...`.
    DockerArgsKeys,
    /// `--env K ...`.
    PackKeys,
    /// `K='v' K2='v2' ` (no newline).
    Shell,
    /// `{"K":"v"}`: exact values.
    Json,
    /// `[{"name":"K","value":"v"}]`, or `null`.
    JsonList,
    /// The `config:show` block.
    Pretty,
}

impl ExportFormat {
    /// The name Dokku expects after `--format`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Exports => "exports",
            ExportFormat::Envfile => "envfile",
            ExportFormat::DockerArgs => "docker-args",
            ExportFormat::DockerArgsKeys => "docker-args-keys",
            ExportFormat::PackKeys => "pack-keys",
            ExportFormat::Shell => "shell",
            ExportFormat::Json => "json",
            ExportFormat::JsonList => "json-list",
            ExportFormat::Pretty => "pretty",
        }
    }
}

/// Options of `config:set` / `config:unset`: [`Default`] (restart a
/// deployed app, as Dokku does) and the setter below.
///
/// ```
/// use dokku_client::config::ConfigSetOptions;
/// assert!(ConfigSetOptions::default().no_restart().no_restart);
/// assert!(!ConfigSetOptions::default().no_restart);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigSetOptions {
    /// `--no-restart`: do not restart a deployed app.
    pub no_restart: bool,
}

impl ConfigSetOptions {
    /// With `--no-restart`.
    pub fn no_restart(mut self) -> Self {
        self.no_restart = true;
        self
    }
}

fn scoped(cmd: Command, scope: ConfigScope<'_>) -> Result<Command> {
    match scope {
        ConfigScope::App(app) => {
            validate_app_name(app)?;
            Ok(cmd.value(app))
        }
        ConfigScope::Global => Ok(cmd.flag("--global")),
    }
}

/// `config:show <app>|--global`.
pub fn show(scope: ConfigScope<'_>) -> Result<Command> {
    scoped(Command::read("config:show"), scope)
}

/// `config:get <app>|--global KEY`.
pub fn get(scope: ConfigScope<'_>, key: &str) -> Result<Command> {
    validate_config_key(key)?;
    Ok(scoped(Command::read("config:get"), scope)?.value(key))
}

/// `config:set --encoded [--no-restart] <app>|--global K=base64(v)...`: values
/// are base64-encoded (so spaces, quotes and newlines arrive intact) and
/// marked secret (never printed).
pub fn set(
    scope: ConfigScope<'_>,
    vars: &[(&str, &str)],
    options: ConfigSetOptions,
) -> Result<Command> {
    if vars.is_empty() {
        return Err(Error::Config(
            "config:set needs at least one KEY=value".into(),
        ));
    }
    let mut cmd = Command::write("config:set").flag("--encoded");
    if options.no_restart {
        cmd = cmd.flag("--no-restart");
    }
    cmd = scoped(cmd, scope)?;
    for (k, v) in vars {
        validate_config_key(k)?;
        if v.contains('\0') {
            // Dokku would store it, but no process can receive it: the
            // app's environment ends a value at the first NUL.
            return Err(Error::UnsafeArgument {
                argument: format!("{k}=***"),
                reason: "the value contains a NUL byte, which no environment variable can hold (the app would never see what follows it); remove it, or store the data base64-encoded".into(),
            });
        }
        let encoded = base64::engine::general_purpose::STANDARD.encode(v.as_bytes());
        cmd = cmd.secret(format!("{k}={encoded}"));
    }
    Ok(cmd)
}

/// `config:unset [--no-restart] <app>|--global KEY...`.
pub fn unset(scope: ConfigScope<'_>, keys: &[&str], options: ConfigSetOptions) -> Result<Command> {
    if keys.is_empty() {
        return Err(Error::Config("config:unset needs at least one key".into()));
    }
    let mut cmd = Command::write("config:unset");
    if options.no_restart {
        cmd = cmd.flag("--no-restart");
    }
    cmd = scoped(cmd, scope)?;
    for k in keys {
        validate_config_key(k)?;
        cmd = cmd.value(*k);
    }
    Ok(cmd)
}

/// `config:export --format F <app>|--global`.
pub fn export(scope: ConfigScope<'_>, format: ExportFormat) -> Result<Command> {
    scoped(
        Command::read("config:export")
            .flag("--format")
            .flag(format.as_str()),
        scope,
    )
}

/// `config:keys <app>|--global`.
pub fn keys(scope: ConfigScope<'_>) -> Result<Command> {
    scoped(Command::read("config:keys"), scope)
}

/// Parses what [`keys`] prints: one key a line.
pub fn parse_keys(stdout: &str) -> Vec<String> {
    crate::parse::word_lines(stdout)
}

/// `config:clear [--no-restart] <app>|--global`.
pub fn clear(scope: ConfigScope<'_>, options: ConfigSetOptions) -> Result<Command> {
    let cmd = Command::write("config:clear");
    let cmd = if options.no_restart {
        cmd.flag("--no-restart")
    } else {
        cmd
    };
    scoped(cmd, scope)
}

/// What a [`get`] printed: `Some(Some(value))`, exactly; `Some(None)` for
/// an unset key (exit 1, or 123 through old xargs, and no output at all);
/// `None` when it failed otherwise (classify it with [`Client::classify`]).
pub fn parse_get(out: &crate::Output) -> Option<Option<String>> {
    if out.success() {
        return Some(parse::parse_config_get(
            &out.stdout_text(),
            0,
            parse::ValueQuoting::Plain,
        ));
    }
    if matches!(out.exit_code, 1 | 123) && out.stdout.is_empty() && out.stderr.is_empty() {
        return Some(None);
    }
    None
}

impl Client {
    /// The vars as `config:show` displays them (trimmed; use
    /// [`Client::config_export`] with [`ExportFormat::Json`] for exact values).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use dokku_client::config::ConfigScope;
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("config:show myapp", Output::new(0, "=====> myapp env vars\nDEBUG:     true\nGREETING:  hello\n", ""))
    ///     .case(
    ///         "config:show --global",
    ///         Output::new(0, "=====> global env vars\nCURL_TIMEOUT:        60\nDOKKU_RM_CONTAINER:  1\n", ""),
    ///     );
    /// let client = Client::new(transport);
    /// let vars = client.config_show("myapp").await?;
    /// assert_eq!(vars.get("GREETING"), Some("hello"));
    /// let global = client.config_show(ConfigScope::Global).await?;
    /// assert_eq!(global.get("CURL_TIMEOUT"), Some("60"));
    /// # Ok(()) }
    /// ```
    pub async fn config_show<'a>(&self, scope: impl Into<ConfigScope<'a>>) -> Result<ConfigVars> {
        let out = self.run_ok(show(scope.into())?).await?;
        Ok(ConfigVars(parse::parse_config_show(&out.stdout_text())))
    }

    /// One value, exactly; `None` when the key is unset.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("config:get myapp PADDED", Output::new(0, "  padded  \n", ""))
    ///     .case("config:get myapp NOPE", Output::new(1, "", ""));
    /// let client = Client::new(transport);
    /// assert_eq!(client.config_get("myapp", "PADDED").await?.as_deref(), Some("  padded  "));
    /// assert_eq!(client.config_get("myapp", "NOPE").await?, None);
    /// # Ok(()) }
    /// ```
    pub async fn config_get<'a>(
        &self,
        scope: impl Into<ConfigScope<'a>>,
        key: &str,
    ) -> Result<Option<String>> {
        let cmd = get(scope.into(), key)?;
        let out = self.run(cmd.clone()).await?;
        parse_get(&out).ok_or_else(|| self.classify(&cmd, &out))
    }

    /// Sets vars (always `--encoded`).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use dokku_client::config::ConfigSetOptions;
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     // The value goes base64-encoded: "s3cr3t value" is czNjcjN0IHZhbHVl.
    ///     .case(
    ///         "config:set --encoded --no-restart myapp SECRET=czNjcjN0IHZhbHVl",
    ///         Output::new(0, "-----> Setting config vars\n       SECRET:  s3cr3t value\n", ""),
    ///     );
    /// let client = Client::new(transport.clone());
    /// let mut options = ConfigSetOptions::default();
    /// options.no_restart = true;
    /// let result = client.config_set("myapp", &[("SECRET", "s3cr3t value")], options).await?;
    /// assert_eq!(result.set["SECRET"], "s3cr3t value");
    /// assert!(!result.restarted);
    /// // The value never shows in the command's display form.
    /// assert!(!transport.requests().last().unwrap().display.contains("czNjcjN0"));
    /// # Ok(()) }
    /// ```
    pub async fn config_set<'a>(
        &self,
        scope: impl Into<ConfigScope<'a>>,
        vars: &[(&str, &str)],
        options: ConfigSetOptions,
    ) -> Result<ConfigSetResult> {
        let out = self.run_ok(set(scope.into(), vars, options)?).await?;
        Ok(parse::parse_config_set(&out.stdout_text()))
    }

    /// Unsets vars.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use dokku_client::config::ConfigSetOptions;
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(
    ///         "config:unset --no-restart myapp DEBUG NOT_THERE",
    ///         Output::new(0, "-----> Unsetting DEBUG\n-----> Skipping NOT_THERE, it is not set in the environment\n", ""),
    ///     );
    /// let client = Client::new(transport);
    /// let mut options = ConfigSetOptions::default();
    /// options.no_restart = true;
    /// let result = client.config_unset("myapp", &["DEBUG", "NOT_THERE"], options).await?;
    /// assert_eq!(result.unset, ["DEBUG"]);
    /// assert_eq!(result.skipped, ["NOT_THERE"]);
    /// # Ok(()) }
    /// ```
    pub async fn config_unset<'a>(
        &self,
        scope: impl Into<ConfigScope<'a>>,
        keys: &[&str],
        options: ConfigSetOptions,
    ) -> Result<ConfigUnsetResult> {
        let out = self.run_ok(unset(scope.into(), keys, options)?).await?;
        Ok(parse::parse_config_unset(&out.stdout_text()))
    }

    /// Exports vars in `format`, parsed back into a map.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use dokku_client::ExportFormat;
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(
    ///         "config:export --format json myapp",
    ///         Output::new(0, "{\"MOTTO\":\"it's fine\",\"PADDED\":\"  padded  \",\"PORT\":\"5000\"}\n", ""),
    ///     );
    /// let client = Client::new(transport);
    /// let vars = client.config_export("myapp", ExportFormat::Json).await?;
    /// assert_eq!(vars.get("PADDED"), Some("  padded  ")); // exact, unlike config:show
    /// assert_eq!(vars.get("MOTTO"), Some("it's fine"));
    /// # Ok(()) }
    /// ```
    pub async fn config_export<'a>(
        &self,
        scope: impl Into<ConfigScope<'a>>,
        format: ExportFormat,
    ) -> Result<ConfigVars> {
        let cmd = export(scope.into(), format)?;
        let out = self.run_ok(cmd.clone()).await?;
        parse::parse_config_export(&out.stdout_text(), Some(format.as_str()))
            .map(ConfigVars)
            .map_err(|e| e.into_error(cmd.name()))
    }
}

impl Client {
    /// The keys set (`config:keys`), sorted.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("config:keys myapp", Output::new(0, "DATABASE_URL\nDEBUG\nGREETING\n", ""));
    /// let client = Client::new(transport);
    /// assert_eq!(client.config_keys("myapp").await?, ["DATABASE_URL", "DEBUG", "GREETING"]);
    /// # Ok(()) }
    /// ```
    pub async fn config_keys<'a>(&self, scope: impl Into<ConfigScope<'a>>) -> Result<Vec<String>> {
        let out = self.run_ok(keys(scope.into())?).await?;
        Ok(parse_keys(&out.stdout_text()))
    }

    /// Removes every var (`config:clear`).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use dokku_client::config::ConfigSetOptions;
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("config:clear --no-restart myapp", Output::new(0, "-----> Unsetting DEBUG\n-----> Unsetting GREETING\n", ""));
    /// let client = Client::new(transport.clone());
    /// let mut options = ConfigSetOptions::default();
    /// options.no_restart = true;
    /// client.config_clear("myapp", options).await?;
    /// assert_eq!(transport.requests().last().unwrap().argv, ["config:clear", "--no-restart", "myapp"]);
    /// # Ok(()) }
    /// ```
    pub async fn config_clear<'a>(
        &self,
        scope: impl Into<ConfigScope<'a>>,
        options: ConfigSetOptions,
    ) -> Result<()> {
        self.run_ok(clear(scope.into(), options)?).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_is_encoded_and_secret() {
        let cmd = set(
            ConfigScope::App("a"),
            &[("K", "it's  a\nvalue")],
            ConfigSetOptions { no_restart: true },
        )
        .unwrap();
        let argv = cmd.argv();
        assert_eq!(
            &argv[..4],
            &["config:set", "--encoded", "--no-restart", "a"]
        );
        let enc = argv[4].strip_prefix("K=").unwrap();
        let dec = base64::engine::general_purpose::STANDARD
            .decode(enc)
            .unwrap();
        assert_eq!(dec, b"it's  a\nvalue");
        assert!(!cmd.display().contains(enc));
        assert!(matches!(
            set(
                ConfigScope::Global,
                &[("FOO-BAR", "1")],
                ConfigSetOptions::default()
            ),
            Err(Error::InvalidName { .. })
        ));
    }

    #[test]
    fn other_commands() {
        assert_eq!(
            export(ConfigScope::Global, ExportFormat::JsonList)
                .unwrap()
                .argv(),
            vec!["config:export", "--format", "json-list", "--global"]
        );
        assert_eq!(
            get("a".into(), "K").unwrap().argv(),
            vec!["config:get", "a", "K"]
        );
        assert!(unset("a".into(), &[], ConfigSetOptions::default()).is_err());
    }

    use crate::transport::ScriptedTransport;
    use crate::Output;

    #[tokio::test]
    async fn typed_config_methods() {
        let t = ScriptedTransport::new()
            .version("0.38.27")
            .case("config:get a NOPE", Output::new(1, "", ""))
            .case("config:get a K", Output::new(0, "  v  \n", ""))
            .case(
                "config:get ghost K",
                Output::new(20, "", " !     App ghost does not exist\n"),
            )
            .case(
                "config:set --encoded --no-restart a K=dHdvICB3b3Jkcw==",
                Output::new(0, "-----> Setting config vars\n       K:  two  words\n", ""),
            )
            .case(
                "config:export --format json a",
                Output::new(0, "{\"K\":\"two  words\"}\n", ""),
            );
        let c = Client::new(t.clone());
        assert_eq!(c.config_get("a", "NOPE").await.unwrap(), None);
        assert_eq!(
            c.config_get("a", "K").await.unwrap().as_deref(),
            Some("  v  ")
        );
        assert!(matches!(
            c.config_get("ghost", "K").await,
            Err(Error::AppNotFound { .. })
        ));
        let r = c
            .config_set(
                "a",
                &[("K", "two  words")],
                ConfigSetOptions { no_restart: true },
            )
            .await
            .unwrap();
        assert_eq!(r.set["K"], "two  words");
        assert!(!r.restarted);
        let v = c.config_export("a", ExportFormat::Json).await.unwrap();
        assert_eq!(v.get("K"), Some("two  words"));
        // The encoded value never shows in the display form of what was sent.
        assert!(t
            .requests()
            .iter()
            .all(|r| !r.display.contains("dHdvICB3b3Jkcw")));
    }
}
