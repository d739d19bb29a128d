//! What the resource modules share: one-app commands, `*:report` runs and
//! yes/no commands. Crate-private: each resource exposes its own builders and
//! typed methods.

use std::collections::BTreeMap;

use crate::command::{Command, Effect};
use crate::error::{Error, Result};
use crate::names::validate_app_name;
use crate::parse::report::{report_maps, typed_reports, ReportFields, ReportFormat};
use crate::Client;

/// A one-app command (`ps:stop <app>`, ...) after validating the name.
pub(crate) fn app_command(name: &str, app: &str, effect: Effect) -> Result<Command> {
    validate_app_name(app)?;
    let cmd = match effect {
        Effect::Read => Command::read(name),
        Effect::Write => Command::write(name),
    };
    Ok(cmd.value(app))
}

/// Which "does not exist" of a yes/no command is its "no" rather than an
/// error (`apps:exists`: a missing app; `postgres:exists`: a missing service).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MissingIsNo {
    /// A missing app is the answer (`apps:exists`).
    App,
    /// A missing service is the answer (`postgres:exists`).
    Service,
    /// Neither: a missing app or service is an error (`apps:locked`,
    /// `postgres:linked`).
    Neither,
}

impl Client {
    /// Runs a one-app `*:report` command and returns its one report's subject
    /// and snake_case fields (`kind` is the report's type: `app`, `ps`...).
    pub(crate) async fn single_report(
        &self,
        cmd: Command,
        format: ReportFormat,
        kind: &str,
        app: &str,
    ) -> Result<(Option<String>, BTreeMap<String, String>)> {
        let out = self.run_ok(cmd.clone()).await?;
        report_maps(&out.stdout_text(), format, kind, Some(app))
            .map_err(|e| e.into_error(cmd.name()))?
            .into_iter()
            .next()
            .ok_or_else(|| Error::Parse {
                command: cmd.display(),
                message: "no report in the output".into(),
                text: out.stdout_text().chars().take(200).collect(),
            })
    }

    /// Runs an every-app `*:report` (text: it names each app) and types its
    /// reports (`kind` is the report's prefix: `app`, `ps`, `domains`).
    pub(crate) async fn all_reports<T: ReportFields>(
        &self,
        cmd: Command,
        kind: &str,
    ) -> Result<Vec<T>> {
        let out = self.run_ok(cmd.clone()).await?;
        typed_reports(&out.stdout_text(), ReportFormat::Text, kind, None)
            .map_err(|e| e.into_error(cmd.name()))
    }

    /// Runs a yes/no command: exit 0 is `true`, an exit code in `no` is
    /// `false` (unless it is a missing app or service that `missing` does not
    /// name as the answer), anything else an error.
    pub(crate) async fn yes_no(
        &self,
        cmd: Command,
        no: &[i32],
        missing: MissingIsNo,
    ) -> Result<bool> {
        let out = self.run(cmd.clone()).await?;
        if out.success() {
            return Ok(true);
        }
        if no.contains(&out.exit_code) {
            let err = self.classify(&cmd, &out);
            if matches!(err, Error::AppNotFound { .. }) && missing != MissingIsNo::App {
                return Err(err);
            }
            if matches!(err, Error::ServiceNotFound { .. }) && missing != MissingIsNo::Service {
                return Err(err);
            }
            return Ok(false);
        }
        Err(self.classify(&cmd, &out))
    }
}
