//! dokku-postgres: create, destroy, info, list, exists, link, unlink,
//! linked, links, export (streamed), import (streamed), connect, logs.
//!
//! ```no_run
//! # async fn demo(client: dokku_client::Client) -> dokku_client::Result<()> {
//! let info = client.postgres_info("lollipop").await?;
//! if let Some(dsn) = &info.dsn {
//!     println!("{dsn}"); // postgres://postgres:***@dokku-postgres-lollipop:5432/lollipop
//! }
//! let file = tokio::fs::File::create("lollipop.dump").await.map_err(|e| dokku_client::Error::io("create dump", e))?;
//! client.postgres_export("lollipop", file).await?;
//! # Ok(()) }
//! ```
//!
//! Each command has a pure builder here (no IO) that checks its arguments and
//! returns the [`Command`]; the [`Client`] methods
//! run them and parse the output.
//!
//! ```
//! use dokku_client::postgres::{self, UnlinkOptions};
//! assert_eq!(postgres::dsn("lollipop")?.argv(), ["postgres:info", "lollipop", "--dsn"]);
//! assert_eq!(
//!     postgres::unlink("lollipop", "myapp", UnlinkOptions::default().no_restart())?.argv(),
//!     ["postgres:unlink", "lollipop", "myapp", "--no-restart"],
//! );
//! let dsn = postgres::parse_dsn("postgres://postgres:6f1d2c3b@dokku-postgres-lollipop:5432/lollipop\n").unwrap();
//! assert_eq!(dsn.to_string(), "postgres://postgres:***@dokku-postgres-lollipop:5432/lollipop");
//! assert!(postgres::create("-p").is_err()); // dokku-postgres would read it as a flag
//! # Ok::<(), dokku_client::Error>(())
//! ```

/// The parsers of dokku-postgres output (pure, also reachable as
/// [`crate::parse::postgres`]).
pub mod parse;

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::command::{Command, Effect};
use crate::error::{Error, Result};
use crate::names::validate_app_name;
use crate::resource::MissingIsNo;
use crate::transport::{Request, Stdin, Stdout};
use crate::Client;
/// A backup schedule and a `postgres:list` row.
pub use parse::{BackupSchedule, PostgresListEntry};

/// A published port `container->host`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExposedPort {
    /// The port inside the container (5432).
    pub container: u16,
    /// The port on the host.
    pub host: u16,
}

/// A database URL. `Display`, `Debug` and `Serialize` hide the password
/// (`postgres://user:***@host:port/db`); [`Dsn::expose_secret`] gives it.
#[derive(Clone, PartialEq, Eq)]
pub struct Dsn(String);

impl Dsn {
    /// Wraps a URL.
    pub fn new(url: impl Into<String>) -> Self {
        Dsn(url.into())
    }

    /// The full URL, password included: the one way to the password (named
    /// as in the `secrecy` crate, so a search for `expose_secret` finds every
    /// use). Only call this to hand it to a program that needs it; never log it.
    ///
    /// ```
    /// use dokku_client::Dsn;
    /// let dsn = Dsn::new("postgres://postgres:s3cret@db:5432/app");
    /// assert_eq!(dsn.to_string(), "postgres://postgres:***@db:5432/app");
    /// assert_eq!(dsn.expose_secret(), "postgres://postgres:s3cret@db:5432/app");
    /// ```
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    fn parts(&self) -> Option<(&str, &str, &str)> {
        let (scheme, rest) = self.0.split_once("://")?;
        let (creds, host) = rest.rsplit_once('@')?;
        Some((scheme, creds, host))
    }

    /// The scheme (`postgres`, `postgis`, ...).
    pub fn scheme(&self) -> Option<&str> {
        self.parts().map(|p| p.0)
    }

    /// The user.
    pub fn user(&self) -> Option<&str> {
        self.parts()
            .map(|(_, c, _)| c.split(':').next().unwrap_or(c))
    }

    /// The host.
    pub fn host(&self) -> Option<&str> {
        let (_, _, h) = self.parts()?;
        let hp = h.split(['/', '?']).next()?;
        Some(hp.rsplit_once(':').map(|(h, _)| h).unwrap_or(hp))
    }

    /// The port.
    pub fn port(&self) -> Option<u16> {
        let (_, _, h) = self.parts()?;
        let hp = h.split(['/', '?']).next()?;
        hp.rsplit_once(':')?.1.parse().ok()
    }

    /// The database name.
    pub fn database(&self) -> Option<&str> {
        let (_, _, h) = self.parts()?;
        let (_, db) = h.split_once('/')?;
        Some(db.split('?').next().unwrap_or(db))
    }

    /// The URL with the password replaced by `***`.
    pub fn redacted(&self) -> String {
        match self.parts() {
            Some((scheme, creds, host)) => match creds.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
                None => self.0.clone(),
            },
            None => "***".to_string(),
        }
    }
}

impl fmt::Display for Dsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for Dsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Dsn({})",
            crate::command::escape_control(&self.redacted())
        )
    }
}

impl Serialize for Dsn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.redacted())
    }
}

/// `postgres:info` in every historical form. Every row is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PostgresInfo {
    /// The service.
    pub service: Option<String>,
    /// `Config dir`.
    pub config_dir: Option<String>,
    /// `Config options` (1.14.0+).
    pub config_options: Option<String>,
    /// `Data dir`.
    pub data_dir: Option<String>,
    /// `Dsn` (`DSN` in 1.0.0); the password is hidden when displayed.
    pub dsn: Option<Dsn>,
    /// `Exposed ports` (`-` is none).
    pub exposed_ports: Vec<ExposedPort>,
    /// `Id`: the container ID.
    pub id: Option<String>,
    /// `Internal ip`.
    pub internal_ip: Option<String>,
    /// `Initial network` (1.28.0+).
    pub initial_network: Option<String>,
    /// `Links`: linked apps.
    pub links: Vec<String>,
    /// `Post create network` (1.28.0+).
    pub post_create_network: Option<String>,
    /// `Post start network` (1.28.0+).
    pub post_start_network: Option<String>,
    /// `Service root`.
    pub service_root: Option<String>,
    /// `Status`: Docker's state or `missing`.
    pub status: Option<String>,
    /// `Version`: the image (`postgres:18.4`).
    pub version: Option<String>,
    /// Rows this client does not know, by snake_case label.
    #[serde(flatten)]
    pub other: BTreeMap<String, String>,
}

impl PostgresInfo {
    /// Builds the info from parsed rows (label, value).
    pub fn from_fields(service: Option<String>, fields: &[(String, String)]) -> Self {
        let mut info = PostgresInfo {
            service,
            ..Default::default()
        };
        for (label, value) in fields {
            let key = crate::parse::snake_label(label, "");
            let v = Some(value.clone());
            match key.as_str() {
                "config_dir" => info.config_dir = v,
                "config_options" => info.config_options = v,
                "data_dir" => info.data_dir = v,
                "dsn" => info.dsn = Some(Dsn::new(value.clone())),
                "exposed_ports" => info.exposed_ports = parse::parse_exposed_ports(value),
                "id" => info.id = v,
                "internal_ip" => info.internal_ip = v,
                "initial_network" => info.initial_network = v,
                "links" => info.links = parse::parse_info_links(value),
                "post_create_network" => info.post_create_network = v,
                "post_start_network" => info.post_start_network = v,
                "service_root" => info.service_root = v,
                "status" => info.status = v,
                "version" => info.version = v,
                _ => {
                    info.other.insert(key, value.clone());
                }
            }
        }
        info
    }
}

/// Checks a service name (`[A-Za-z0-9_-]+`).
pub fn validate_service_name(service: &str) -> Result<()> {
    if !service.is_empty()
        && !service.starts_with('-')
        && service
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        Ok(())
    } else {
        Err(Error::InvalidName {
            name: crate::command::escape_control(service),
            message: "service names contain only letters, digits, `_` and `-`, and do not start with `-` (dokku-postgres would read it as one of its flags)".into(),
        })
    }
}

/// Options of `postgres:link`: [`Default`] (`DATABASE_URL`, no query
/// string, the app restarted) and the setters below.
///
/// ```
/// use dokku_client::postgres::{self, LinkOptions};
/// let options = LinkOptions::default().alias("REPORTING").no_restart();
/// assert_eq!(
///     postgres::link("pg-main", "myapp", &options)?.argv(),
///     ["postgres:link", "pg-main", "myapp", "--alias", "REPORTING", "--no-restart"]
/// );
/// # Ok::<(), dokku_client::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinkOptions {
    /// `--alias`: the config var is `<ALIAS>_URL` (default `DATABASE_URL`).
    pub alias: Option<String>,
    /// `--querystring`: appended to the URL as `?Q`.
    pub querystring: Option<String>,
    /// `--no-restart`.
    pub no_restart: bool,
}

impl LinkOptions {
    /// `--alias ALIAS`: the config var is `<ALIAS>_URL`.
    pub fn alias(mut self, alias: impl Into<String>) -> Self {
        self.alias = Some(alias.into());
        self
    }

    /// `--querystring Q`: appended to the URL as `?Q`.
    pub fn querystring(mut self, querystring: impl Into<String>) -> Self {
        self.querystring = Some(querystring.into());
        self
    }

    /// With `--no-restart`: do not restart the app.
    pub fn no_restart(mut self) -> Self {
        self.no_restart = true;
        self
    }
}

/// A service command `<name> <svc> [app]` after validation.
fn service_command(
    name: &str,
    service: &str,
    app: Option<&str>,
    effect: Effect,
) -> Result<Command> {
    validate_service_name(service)?;
    let mut cmd = match effect {
        Effect::Read => Command::read(name),
        Effect::Write => Command::write(name),
    };
    cmd = cmd.value(service);
    if let Some(app) = app {
        validate_app_name(app)?;
        cmd = cmd.value(app);
    }
    Ok(cmd)
}

/// `postgres:create <svc>`.
pub fn create(service: &str) -> Result<Command> {
    service_command("postgres:create", service, None, Effect::Write)
}

/// `postgres:destroy <svc> --force`: dokku-postgres's own confirmation
/// cannot be given through this client, so the caller confirms first.
pub fn destroy(service: &str) -> Result<Command> {
    Ok(service_command("postgres:destroy", service, None, Effect::Write)?.flag("--force"))
}

/// `postgres:info <svc>`.
pub fn info(service: &str) -> Result<Command> {
    service_command("postgres:info", service, None, Effect::Read)
}

/// `postgres:info <svc> --dsn`: the DSN alone.
pub fn dsn(service: &str) -> Result<Command> {
    Ok(info(service)?.flag("--dsn"))
}

/// Parses what [`dsn`] prints (`None` when it printed nothing).
pub fn parse_dsn(stdout: &str) -> Option<Dsn> {
    let line = stdout.trim();
    (!line.is_empty()).then(|| Dsn::new(line))
}

/// `postgres:list`.
pub fn list() -> Command {
    Command::read("postgres:list")
}

/// `postgres:exists <svc>`: exit 0 when it exists, 1 when not.
pub fn exists(service: &str) -> Result<Command> {
    service_command("postgres:exists", service, None, Effect::Read)
}

/// `postgres:link <svc> <app> [--alias A] [--querystring Q] [--no-restart]`.
pub fn link(service: &str, app: &str, options: &LinkOptions) -> Result<Command> {
    let mut cmd = service_command("postgres:link", service, Some(app), Effect::Write)?;
    if let Some(a) = &options.alias {
        if !crate::config::parse::is_config_key(a) {
            return Err(Error::InvalidName {
                name: a.clone(),
                message: "an alias becomes a config key: letters, digits and `_`".into(),
            });
        }
        cmd = cmd.flag("--alias").value(a.clone());
    }
    if let Some(q) = &options.querystring {
        cmd = cmd.flag("--querystring").value(q.clone());
    }
    if options.no_restart {
        cmd = cmd.flag("--no-restart");
    }
    Ok(cmd)
}

/// Options of `postgres:unlink`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnlinkOptions {
    /// `--no-restart`: do not restart the app.
    pub no_restart: bool,
}

impl UnlinkOptions {
    /// With `--no-restart`.
    pub fn no_restart(mut self) -> Self {
        self.no_restart = true;
        self
    }
}

/// `postgres:unlink <svc> <app> [--no-restart]`.
pub fn unlink(service: &str, app: &str, options: UnlinkOptions) -> Result<Command> {
    let cmd = service_command("postgres:unlink", service, Some(app), Effect::Write)?;
    Ok(if options.no_restart {
        cmd.flag("--no-restart")
    } else {
        cmd
    })
}

/// `postgres:linked <svc> <app>`: exit 0 when linked, 1 when not.
pub fn linked(service: &str, app: &str) -> Result<Command> {
    service_command("postgres:linked", service, Some(app), Effect::Read)
}

/// `postgres:links <svc>`.
pub fn links(service: &str) -> Result<Command> {
    service_command("postgres:links", service, None, Effect::Read)
}

/// Parses what [`links`] prints: one app a line.
pub fn parse_links(stdout: &str) -> Vec<String> {
    crate::parse::word_lines(stdout)
}

/// `postgres:export <svc>`: a `pg_dump -Fc` archive on stdout.
pub fn export(service: &str) -> Result<Command> {
    service_command("postgres:export", service, None, Effect::Read)
}

/// `postgres:import <svc>`: restores an archive read on stdin.
pub fn import(service: &str) -> Result<Command> {
    service_command("postgres:import", service, None, Effect::Write)
}

/// `postgres:connect <svc>`: psql, on a terminal or reading SQL on stdin.
pub fn connect(service: &str) -> Result<Command> {
    service_command("postgres:connect", service, None, Effect::Write)
}

/// `postgres:logs <svc> [--num N]`.
pub fn logs(service: &str, num: Option<u32>) -> Result<Command> {
    let cmd = service_command("postgres:logs", service, None, Effect::Read)?;
    Ok(match num {
        Some(n) => cmd.flag("--num").flag(n.to_string()),
        None => cmd,
    })
}

/// Options of `postgres:backup-schedule`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackupScheduleOptions {
    /// `--use-iam`: the server's IAM role instead of stored credentials.
    pub use_iam: bool,
}

impl BackupScheduleOptions {
    /// With `--use-iam`.
    pub fn use_iam(mut self) -> Self {
        self.use_iam = true;
        self
    }
}

/// `postgres:backup-schedule <svc> "<cron>" <bucket> [--use-iam]`; the
/// schedule must have cron's five fields.
pub fn backup_schedule(
    service: &str,
    schedule: &str,
    bucket: &str,
    options: BackupScheduleOptions,
) -> Result<Command> {
    if schedule.split_whitespace().count() != 5 {
        return Err(Error::Config(format!(
            "{schedule:?} is not a cron schedule: give five fields, like \"0 3 * * *\""
        )));
    }
    let cmd = service_command("postgres:backup-schedule", service, None, Effect::Write)?
        .value(schedule)
        .value(bucket);
    Ok(if options.use_iam {
        cmd.flag("--use-iam")
    } else {
        cmd
    })
}

/// `postgres:backup-schedule-cat <svc>`.
pub fn backup_schedule_cat(service: &str) -> Result<Command> {
    service_command("postgres:backup-schedule-cat", service, None, Effect::Read)
}

/// `postgres:backup-unschedule <svc>`.
pub fn backup_unschedule(service: &str) -> Result<Command> {
    service_command("postgres:backup-unschedule", service, None, Effect::Write)
}

impl Client {
    /// Creates a service and returns its info.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let created = concat!(
    ///     "       Waiting for container to be ready\n",
    ///     "       Creating container database\n",
    ///     "       Securing connection to database\n",
    ///     "=====> Postgres container created: lollipop\n",
    /// );
    /// let info = concat!(
    ///     "=====> lollipop postgres service information\n",
    /// #   "       Config dir:          /var/lib/dokku/services/postgres/lollipop/data\n",
    /// #   "       Config options:                               \n",
    /// #   "       Data dir:            /var/lib/dokku/services/postgres/lollipop/data\n",
    ///     "       Dsn:                 postgres://postgres:6f1d2c3b4a5e6f708192a3b4c5d6e7f8@dokku-postgres-lollipop:5432/lollipop\n",
    /// #   "       Exposed ports:       -                        \n",
    /// #   "       Id:                  9c1e5a7b3d2f4e6a8b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a\n",
    /// #   "       Internal ip:         172.17.0.3               \n",
    /// #   "       Initial network:                              \n",
    ///     "       Links:               myapp                    \n",
    /// #   "       Post create network:                          \n",
    /// #   "       Post start network:                           \n",
    /// #   "       Service root:        /var/lib/dokku/services/postgres/lollipop\n",
    ///     "       Status:              running                  \n",
    ///     "       Version:             postgres:18.4            \n",
    ///     // (the other ten rows are left out here)
    /// );
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("postgres:create lollipop", Output::new(0, format!("{created}{info}"), ""))
    ///     .case("postgres:create orders", Output::new(1, "", " !     Postgres service orders already exists\n"));
    /// let client = Client::new(transport);
    /// let info = client.postgres_create("lollipop").await?;
    /// assert_eq!(info.status.as_deref(), Some("running"));
    /// assert_eq!(info.version.as_deref(), Some("postgres:18.4"));
    /// assert!(client.postgres_create("orders").await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn postgres_create(&self, service: &str) -> Result<PostgresInfo> {
        let out = self.run_ok(create(service)?).await?;
        Ok(PostgresInfo::from_fields(
            Some(service.into()),
            &parse::parse_postgres_info(&out.stdout_text()),
        ))
    }

    /// Destroys a service and its data, without dokku-postgres's prompt
    /// (`postgres:destroy --force`): ask the user first.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(
    ///         "postgres:destroy lollipop --force",
    ///         Output::new(0, concat!(
    ///             "=====> Deleting lollipop\n",
    ///             "=====> Pausing container\n",
    ///             "       Container paused\n",
    ///             "       Removing container\n",
    ///             "       Removing data\n",
    ///             "=====> Postgres container deleted: lollipop\n",
    ///         ), ""),
    ///     )
    ///     .case("postgres:destroy orders --force", Output::new(1, "", " !     Cannot delete linked service\n"));
    /// let client = Client::new(transport);
    /// client.postgres_destroy("lollipop").await?;
    /// assert!(client.postgres_destroy("orders").await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn postgres_destroy(&self, service: &str) -> Result<()> {
        self.run_ok(destroy(service)?).await.map(drop)
    }

    /// The service's info.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let info = concat!(
    ///     "=====> lollipop postgres service information\n",
    /// #   "       Config dir:          /var/lib/dokku/services/postgres/lollipop/data\n",
    /// #   "       Config options:                               \n",
    /// #   "       Data dir:            /var/lib/dokku/services/postgres/lollipop/data\n",
    ///     "       Dsn:                 postgres://postgres:6f1d2c3b4a5e6f708192a3b4c5d6e7f8@dokku-postgres-lollipop:5432/lollipop\n",
    /// #   "       Exposed ports:       -                        \n",
    /// #   "       Id:                  9c1e5a7b3d2f4e6a8b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a\n",
    /// #   "       Internal ip:         172.17.0.3               \n",
    /// #   "       Initial network:                              \n",
    ///     "       Links:               myapp                    \n",
    /// #   "       Post create network:                          \n",
    /// #   "       Post start network:                           \n",
    /// #   "       Service root:        /var/lib/dokku/services/postgres/lollipop\n",
    ///     "       Status:              running                  \n",
    ///     "       Version:             postgres:18.4            \n",
    ///     // (the other ten rows are left out here)
    /// );
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("postgres:info lollipop", Output::new(0, info, ""));
    /// let client = Client::new(transport);
    /// let info = client.postgres_info("lollipop").await?;
    /// assert_eq!(info.status.as_deref(), Some("running"));
    /// assert_eq!(info.links, ["myapp"]);
    /// assert!(info.exposed_ports.is_empty()); // `-`
    /// let dsn = info.dsn.unwrap();
    /// assert_eq!(dsn.to_string(), "postgres://postgres:***@dokku-postgres-lollipop:5432/lollipop");
    /// # Ok(()) }
    /// ```
    pub async fn postgres_info(&self, service: &str) -> Result<PostgresInfo> {
        let out = self.run_ok(info(service)?).await?;
        Ok(PostgresInfo::from_fields(
            Some(service.into()),
            &parse::parse_postgres_info(&out.stdout_text()),
        ))
    }

    /// The service's DSN alone (`postgres:info <svc> --dsn`), password
    /// included (hidden when displayed); `None` when it printed nothing.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(
    ///         "postgres:info lollipop --dsn",
    ///         Output::new(0, "postgres://postgres:6f1d2c3b4a5e6f708192a3b4c5d6e7f8@dokku-postgres-lollipop:5432/lollipop\n", ""),
    ///     );
    /// let client = Client::new(transport);
    /// let dsn = client.postgres_dsn("lollipop").await?.unwrap();
    /// assert_eq!(dsn.host(), Some("dokku-postgres-lollipop"));
    /// assert_eq!(dsn.port(), Some(5432));
    /// assert_eq!(dsn.database(), Some("lollipop"));
    /// assert!(!dsn.to_string().contains("6f1d2c3b")); // hidden when displayed
    /// assert!(dsn.expose_secret().contains("6f1d2c3b")); // for the program that connects
    /// # Ok(()) }
    /// ```
    pub async fn postgres_dsn(&self, service: &str) -> Result<Option<Dsn>> {
        Ok(parse_dsn(&self.run_ok(dsn(service)?).await?.stdout_text()))
    }

    /// The services' names.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("postgres:list", Output::new(0, "=====> Postgres services\nanalytics\nlollipop\norders-db\n", ""));
    /// let client = Client::new(transport);
    /// assert_eq!(client.postgres_list().await?, ["analytics", "lollipop", "orders-db"]);
    /// # Ok(()) }
    /// ```
    pub async fn postgres_list(&self) -> Result<Vec<String>> {
        let out = self.run_ok(list()).await?;
        Ok(parse::parse_postgres_list(&out.stdout_text())
            .0
            .into_iter()
            .map(|e| e.name)
            .collect())
    }

    /// True when the service exists.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("postgres:exists lollipop", Output::new(0, "-----> Service lollipop exists\n", ""))
    ///     .case("postgres:exists nope", Output::new(1, "", " !     Postgres service nope does not exist\n"));
    /// let client = Client::new(transport);
    /// assert!(client.postgres_exists("lollipop").await?);
    /// assert!(!client.postgres_exists("nope").await?);
    /// # Ok(()) }
    /// ```
    pub async fn postgres_exists(&self, service: &str) -> Result<bool> {
        self.yes_no(exists(service)?, &[1], MissingIsNo::Service)
            .await
    }

    /// Links the service to an app (sets `DATABASE_URL` or `<ALIAS>_URL`).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use dokku_client::postgres::LinkOptions;
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(
    ///         "postgres:link lollipop reporting --alias reporting_db --querystring sslmode=require",
    ///         Output::new(0, "-----> Setting config vars\n       REPORTING_DB_URL:  postgres://postgres:6f1d2c3b4a5e6f708192a3b4c5d6e7f8@dokku-postgres-lollipop:5432/lollipop?sslmode=require\n", ""),
    ///     );
    /// let client = Client::new(transport.clone());
    /// let mut options = LinkOptions::default();
    /// options.alias = Some("reporting_db".into()); // the app gets REPORTING_DB_URL
    /// options.querystring = Some("sslmode=require".into());
    /// client.postgres_link("lollipop", "reporting", &options).await?;
    /// assert_eq!(transport.requests().last().unwrap().argv[..3], ["postgres:link", "lollipop", "reporting"]);
    /// # Ok(()) }
    /// ```
    pub async fn postgres_link(
        &self,
        service: &str,
        app: &str,
        options: &LinkOptions,
    ) -> Result<()> {
        self.run_ok(link(service, app, options)?).await.map(drop)
    }

    /// Unlinks the service from an app.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use dokku_client::postgres::UnlinkOptions;
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("postgres:unlink lollipop myapp --no-restart", Output::new(0, "-----> Unsetting DATABASE_URL\n", ""));
    /// let client = Client::new(transport.clone());
    /// client.postgres_unlink("lollipop", "myapp", UnlinkOptions::default().no_restart()).await?;
    /// assert_eq!(
    ///     transport.requests().last().unwrap().argv,
    ///     ["postgres:unlink", "lollipop", "myapp", "--no-restart"],
    /// );
    /// # Ok(()) }
    /// ```
    pub async fn postgres_unlink(
        &self,
        service: &str,
        app: &str,
        options: UnlinkOptions,
    ) -> Result<()> {
        self.run_ok(unlink(service, app, options)?).await.map(drop)
    }

    /// True when the service is linked to the app.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("postgres:linked lollipop myapp", Output::new(0, "-----> Service lollipop is linked to myapp\n", ""))
    ///     .case("postgres:linked lollipop api", Output::new(1, "", " !     Service lollipop is not linked to api\n"));
    /// let client = Client::new(transport);
    /// assert!(client.postgres_linked("lollipop", "myapp").await?);
    /// assert!(!client.postgres_linked("lollipop", "api").await?);
    /// # Ok(()) }
    /// ```
    pub async fn postgres_linked(&self, service: &str, app: &str) -> Result<bool> {
        self.yes_no(linked(service, app)?, &[1], MissingIsNo::Neither)
            .await
    }

    /// The apps linked to the service.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("postgres:links lollipop", Output::new(0, "api-server\nworker-app\n", ""));
    /// let client = Client::new(transport);
    /// assert_eq!(client.postgres_links("lollipop").await?, ["api-server", "worker-app"]);
    /// # Ok(()) }
    /// ```
    pub async fn postgres_links(&self, service: &str) -> Result<Vec<String>> {
        let out = self.run_ok(links(service)?).await?;
        Ok(parse_links(&out.stdout_text()))
    }

    /// Streams a `pg_dump -Fc` archive into `sink` in constant memory.
    ///
    /// Any `AsyncWrite` will do: a `tokio::fs::File` in real use, the reading end of
    /// a pipe here.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use tokio::io::AsyncReadExt;
    /// let archive: &[u8] = b"PGDMP\x01\x10\x00\x04\x08\x01\x00"; // the start of a `pg_dump -Fc` archive
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("postgres:export lollipop", Output::new(0, archive, ""));
    /// let client = Client::new(transport);
    /// let (sink, mut received) = tokio::io::duplex(64 * 1024);
    /// client.postgres_export("lollipop", sink).await?;
    /// let mut bytes = Vec::new();
    /// received.read_to_end(&mut bytes).await?;
    /// assert_eq!(bytes, archive);
    /// # Ok(()) }
    /// ```
    pub async fn postgres_export(
        &self,
        service: &str,
        sink: impl AsyncWrite + Send + Unpin + 'static,
    ) -> Result<()> {
        self.execute_ok(
            Request::new(export(service)?)
                .stdout(Stdout::Writer(Box::new(sink)))
                .timeout(self.stream_timeout()),
        )
        .await
        .map(drop)
    }

    /// Restores an archive read from `source` in constant memory.
    ///
    /// Any `AsyncRead` will do: a `tokio::fs::File` in real use, bytes here.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let archive: &'static [u8] = b"PGDMP\x01\x10\x00\x04\x08\x01\x00";
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("postgres:import lollipop", Output::new(0, "", ""));
    /// let client = Client::new(transport.clone());
    /// client.postgres_import("lollipop", archive).await?;
    /// // The scripted transport records what was streamed on stdin.
    /// assert_eq!(transport.requests().last().unwrap().stdin, archive);
    /// # Ok(()) }
    /// ```
    pub async fn postgres_import(
        &self,
        service: &str,
        source: impl AsyncRead + Send + Unpin + 'static,
    ) -> Result<()> {
        self.execute_ok(
            Request::new(import(service)?)
                .stdin(Stdin::Reader(Box::new(source)))
                .timeout(self.stream_timeout()),
        )
        .await
        .map(drop)
    }

    /// Opens psql interactively (terminal, inherited stdin/stdout); returns the exit code.
    ///
    /// The session uses this process's terminal; the scripted transport records
    /// that a terminal was asked for and answers with the exit code.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("postgres:connect lollipop", Output::new(0, "", ""));
    /// let client = Client::new(transport.clone());
    /// let exit_code = client.postgres_connect("lollipop").await?;
    /// assert_eq!(exit_code, 0);
    /// assert!(transport.requests().last().unwrap().tty);
    /// # Ok(()) }
    /// ```
    pub async fn postgres_connect(&self, service: &str) -> Result<i32> {
        let req = Request::new(connect(service)?)
            .tty()
            .stdin(Stdin::Inherit)
            .stdout(Stdout::Inherit);
        Ok(self.execute(req).await?.exit_code)
    }

    /// The service container's recent logs, as text.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(
    ///         "postgres:logs lollipop --num 2",
    ///         Output::new(0, concat!(
    ///             "2026-08-21 10:15:01.123 UTC [1] LOG:  database system is ready to accept connections\n",
    ///             "2026-08-21 10:20:01.456 UTC [27] LOG:  checkpoint starting: time\n",
    ///         ), ""),
    ///     );
    /// let client = Client::new(transport);
    /// let logs = client.postgres_logs("lollipop", Some(2)).await?;
    /// assert_eq!(logs.lines().count(), 2);
    /// assert!(logs.contains("ready to accept connections"));
    /// # Ok(()) }
    /// ```
    pub async fn postgres_logs(&self, service: &str, num: Option<u32>) -> Result<String> {
        Ok(self
            .run_ok(logs(service, num)?)
            .await?
            .stdout_text()
            .into_owned())
    }
}

impl Client {
    /// Schedules backups (`postgres:backup-schedule <svc> "<cron>" <bucket> [--use-iam]`).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use dokku_client::postgres::BackupScheduleOptions;
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(
    ///         "postgres:backup-schedule lollipop '0 3 * * *' my-backups",
    ///         Output::new(0, "=====> Scheduling backup for lollipop\n", ""),
    ///     );
    /// let client = Client::new(transport.clone());
    /// client
    ///     .postgres_backup_schedule("lollipop", "0 3 * * *", "my-backups", BackupScheduleOptions::default())
    ///     .await?;
    /// assert_eq!(transport.requests().last().unwrap().argv[2], "0 3 * * *"); // one word
    /// // Five cron fields or nothing is sent.
    /// assert!(client
    ///     .postgres_backup_schedule("lollipop", "daily", "my-backups", BackupScheduleOptions::default())
    ///     .await
    ///     .is_err());
    /// # Ok(()) }
    /// ```
    pub async fn postgres_backup_schedule(
        &self,
        service: &str,
        schedule: &str,
        bucket: &str,
        options: BackupScheduleOptions,
    ) -> Result<()> {
        self.run_ok(backup_schedule(service, schedule, bucket, options)?)
            .await
            .map(drop)
    }

    /// The backup schedule, or `None` when there is none.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(
    ///         "postgres:backup-schedule-cat lollipop",
    ///         Output::new(0, "0 3 * * * dokku /usr/bin/dokku postgres:backup lollipop my-backups \n", ""),
    ///     )
    ///     .case(
    ///         "postgres:backup-schedule-cat orders",
    ///         Output::new(1, "", " !     There is no scheduled backup for orders.\n"),
    ///     );
    /// let client = Client::new(transport);
    /// let schedule = client.postgres_backup_schedule_cat("lollipop").await?.unwrap();
    /// assert_eq!(schedule.schedule, "0 3 * * *");
    /// assert_eq!(schedule.bucket.as_deref(), Some("my-backups"));
    /// assert!(!schedule.use_iam);
    /// assert_eq!(client.postgres_backup_schedule_cat("orders").await?, None);
    /// # Ok(()) }
    /// ```
    pub async fn postgres_backup_schedule_cat(
        &self,
        service: &str,
    ) -> Result<Option<BackupSchedule>> {
        let cmd = backup_schedule_cat(service)?;
        let out = self.run(cmd.clone()).await?;
        if !out.success() {
            if out.stderr_text().contains("There is no scheduled backup") {
                return Ok(None);
            }
            return Err(self.classify(&cmd, &out));
        }
        parse::parse_backup_schedule(&out.stdout_text())
            .map(Some)
            .ok_or_else(|| Error::Parse {
                command: cmd.display(),
                message: "expected a cron line `<m h dom mon dow> <user> <command>`".into(),
                text: out.stdout_text().chars().take(200).collect(),
            })
    }

    /// Removes the backup schedule (`postgres:backup-unschedule`).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(
    ///         "postgres:backup-unschedule lollipop",
    ///         Output::new(0, "=====> Removing scheduled backup for lollipop\n", ""),
    ///     );
    /// let client = Client::new(transport.clone());
    /// client.postgres_backup_unschedule("lollipop").await?;
    /// assert_eq!(transport.requests().last().unwrap().argv, ["postgres:backup-unschedule", "lollipop"]);
    /// # Ok(()) }
    /// ```
    pub async fn postgres_backup_unschedule(&self, service: &str) -> Result<()> {
        self.run_ok(backup_unschedule(service)?).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsn_hides_the_password() {
        let d = Dsn::new("postgres://postgres:secret@dokku-postgres-db:5432/db?sslmode=require");
        assert_eq!(
            d.to_string(),
            "postgres://postgres:***@dokku-postgres-db:5432/db?sslmode=require"
        );
        assert!(!format!("{d:?}").contains("secret"));
        assert!(!serde_json::to_string(&d).unwrap().contains("secret"));
        assert!(d.expose_secret().contains("secret"));
        assert_eq!(d.host(), Some("dokku-postgres-db"));
        assert_eq!(d.port(), Some(5432));
        assert_eq!(d.database(), Some("db"));
        assert_eq!(d.user(), Some("postgres"));
    }

    #[test]
    fn commands() {
        let c = link(
            "db",
            "app",
            &LinkOptions {
                alias: Some("REPORTING".into()),
                querystring: Some("sslmode=require".into()),
                no_restart: true,
            },
        )
        .unwrap();
        assert_eq!(
            c.argv(),
            vec![
                "postgres:link",
                "db",
                "app",
                "--alias",
                "REPORTING",
                "--querystring",
                "sslmode=require",
                "--no-restart"
            ]
        );
        assert_eq!(
            destroy("db").unwrap().argv(),
            vec!["postgres:destroy", "db", "--force"]
        );
        assert!(validate_service_name("bad name").is_err());
        assert!(validate_service_name("orders-db_1").is_ok());
        assert!(
            validate_service_name("-p").is_err(),
            "read as a dokku-postgres flag"
        );
    }

    #[test]
    fn info_from_every_form() {
        let i = PostgresInfo::from_fields(
            Some("db".into()),
            &parse::parse_postgres_info(
                "       DSN: postgres://postgres:p@dokku-postgres-db:5432/db\n",
            ),
        );
        assert_eq!(
            i.dsn.as_ref().map(|d| d.expose_secret()),
            Some("postgres://postgres:p@dokku-postgres-db:5432/db")
        );
        let i = PostgresInfo::from_fields(None, &parse::parse_postgres_info("=====> Container Information\n       Links:               a b \n       Exposed ports:       5432->1234 \n       Brand new:           x\n"));
        assert_eq!(i.links, vec!["a", "b"]);
        assert_eq!(i.exposed_ports[0].host, 1234);
        assert_eq!(i.other["brand_new"], "x");
    }

    use crate::transport::ScriptedTransport;
    use crate::Output;

    #[tokio::test]
    async fn typed_postgres_methods() {
        let t = ScriptedTransport::new()
            .version("0.38.27")
            .case(
                "postgres:info db",
                Output::new(0, "=====> db postgres service information\n       Dsn:                 postgres://postgres:pw@dokku-postgres-db:5432/db\n       Links:               a                        \n       Status:              running                  \n", ""),
            )
            .case("postgres:exists nope", Output::new(1, "", " !     Postgres service nope does not exist\n"))
            .case("postgres:linked db b", Output::new(1, "", " !     Service db is not linked to b\n"))
            .case("postgres:list", Output::new(0, "=====> Postgres services\ndb\n", ""))
            .case("postgres:destroy db --force", Output::new(1, "", " !     Cannot delete linked service\n"));
        let c = Client::new(t);
        let info = c.postgres_info("db").await.unwrap();
        assert_eq!(info.status.as_deref(), Some("running"));
        assert_eq!(info.links, vec!["a"]);
        assert!(!info.dsn.as_ref().unwrap().to_string().contains("pw"));
        assert!(!c.postgres_exists("nope").await.unwrap());
        assert!(!c.postgres_linked("db", "b").await.unwrap());
        assert_eq!(c.postgres_list().await.unwrap(), vec!["db"]);
        assert!(c.postgres_destroy("db").await.is_err());
        assert!(matches!(
            c.postgres_info("bad name").await,
            Err(Error::InvalidName { .. })
        ));
    }
}
