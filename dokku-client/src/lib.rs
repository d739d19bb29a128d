//! # dokku-client
//!
//! A typed async client for [Dokku](https://dokku.com) over SSH: safe
//! quoting for every server version, typed reports, streamed exports and
//! typed errors.
//!
//! - [`Client`] runs commands through a [`Transport`] (SSH, local, scripted).
//! - Typed methods live in one module per resource: [`apps`], [`ps`],
//!   [`config`], [`domains`], [`git`], [`logs`], [`run`], [`storage`],
//!   [`ssh_keys`], [`plugin`], [`postgres`].
//! - [`parse`] holds the pure parsers (no IO), usable on recorded output.
//! - [`Client::run`] is the raw escape hatch: any command, typed [`Output`].
//!
//! Crate feature `cases` (off by default): `parse::cases` (`parse_case`,
//! `Invocation`, `ParsedCase`, `CaseError`), a recorded command line and its
//! output to the JSON `pix parse` prints. It exists for `pix parse`, the
//! fixture tests and the fuzz targets and is not part of the stable API.
//!
//! ```no_run
//! use dokku_client::transport::{SshConfig, SshTransport};
//! use dokku_client::Client;
//!
//! # async fn demo() -> dokku_client::Result<()> {
//! let transport = SshTransport::connect(SshConfig::new("dokku.example.com")).await?;
//! let client = Client::new(transport);
//! // Every app's report in one command (not one `apps:report` per app).
//! for report in client.apps_reports().await? {
//!     let app = report.app.as_deref().unwrap_or("?");
//!     println!("{app}: deployed from {:?}, locked: {:?}", report.deploy_source, report.locked);
//! }
//! # Ok(()) }
//! ```

pub mod apps;
pub mod client;
pub mod command;
pub mod config;
pub mod domains;
pub mod error;
pub mod git;
pub mod logs;
pub mod names;
pub mod output;
pub mod parse;
pub mod plugin;
pub mod postgres;
pub mod ps;
mod resource;
pub mod run;
pub mod ssh_keys;
pub mod storage;
pub mod transport;
pub mod version;

pub use apps::AppReport;
pub use client::{Client, ClientBuilder, RetryPolicy};
pub use command::{Arg, Command, Effect, SplitRule};
pub use config::{ConfigVars, ExportFormat};
pub use domains::DomainsReport;
pub use error::{Error, ErrorKind, ErrorSummary, Existing, Result};
pub use git::GitReport;
pub use output::Output;
pub use parse::report::{ReportFields, ReportFormat};
pub use postgres::{Dsn, PostgresInfo};
pub use ps::{ProcessStatus, PsReport};
pub use transport::{Request, Stdin, Stdout, Transport};
pub use version::{Capabilities, DokkuVersion};

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
