//! Processes: report (with per-process status), stop, start, restart,
//! rebuild, scale.
//!
//! ```
//! # use dokku_client::{Client, Output, transport::ScriptedTransport};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> dokku_client::Result<()> {
//! # let client = Client::new(ScriptedTransport::new().version("0.38.27").case(
//! #     "ps:report myapp --format json",
//! #     Output::new(0, r#"{"deployed":"true","processes":"1","running":"true","status-web.1":"running (CID: 5b0c2a1f9e3)"}"#, ""),
//! # ));
//! let report = client.ps_report("myapp").await?;
//! for p in &report.statuses {
//!     println!("{}.{}: {}", p.process_type, p.index, p.status);
//! }
//! # Ok(()) }
//! ```
//!
//! Each command has a pure builder here (no IO) that checks its arguments and
//! returns the [`Command`]; the [`Client`] methods
//! run them and parse the output.
//!
//! ```
//! use dokku_client::ps::{self, Formation, ScaleOptions};
//! assert_eq!(ps::running("myapp")?.argv(), ["ps:report", "myapp", "--running"]);
//! assert_eq!(ps::parse_running("true\n"), Some(true));
//! let formation = Formation::from([("web".to_string(), 2)]);
//! assert_eq!(
//!     ps::scale_set("myapp", &formation, ScaleOptions::default().skip_deploy())?.argv(),
//!     ["ps:scale", "--skip-deploy", "myapp", "web=2"],
//! );
//! assert_eq!(ps::report(None, dokku_client::ReportFormat::Text)?.argv(), ["ps:report"]);
//! # Ok::<(), dokku_client::Error>(())
//! ```

use std::collections::BTreeMap;

use serde::Serialize;

use crate::command::{Command, Effect};
use crate::error::{Error, Result};
use crate::names::validate_app_name;
use crate::parse;
use crate::parse::report::parse_bool;
use crate::parse::report::ReportFields;
use crate::parse::report::ReportFormat;
use crate::parse::{lines_of, ParseError};
use crate::resource::app_command;
use crate::Client;

/// The status of one process container (`--status-web.1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ProcessStatus {
    /// The process type (`web`).
    pub process_type: String,
    /// The container index (1-based).
    pub index: u32,
    /// Docker's state (`running`, `exited`, ...) or `missing`.
    pub status: String,
    /// The short container ID (11 characters in Go reports, 12 in bash ones).
    pub container_id: Option<String>,
}

impl ProcessStatus {
    /// `web.1`.
    pub fn process(&self) -> String {
        format!("{}.{}", self.process_type, self.index)
    }
}

/// Parses a status row: label `Status web 1` (Go), `Status web.1` (bash) or
/// a snake key `status_web_1`, value `running (CID: 5b0c2a1f9e3)`.
pub fn process_status(label: &str, value: &str) -> Option<ProcessStatus> {
    let rest = label
        .strip_prefix("Status ")
        .or_else(|| label.strip_prefix("status_"))
        .or_else(|| label.strip_prefix("status-"))?;
    let (ptype, index) = rest.rsplit_once(['.', ' ', '_'])?;
    let index: u32 = index.parse().ok()?;
    let process_type = ptype.trim().replace(' ', "-");
    if process_type.is_empty() {
        return None;
    }
    let (status, cid) = match value.split_once("(CID:") {
        Some((s, c)) => (
            s.trim().to_string(),
            Some(c.trim().trim_end_matches(')').trim().to_string()),
        ),
        None => (value.trim().to_string(), None),
    };
    Some(ProcessStatus {
        process_type,
        index,
        status,
        container_id: cid,
    })
}

/// `ps:report` for one app. Every field is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PsReport {
    /// The app.
    pub app: Option<String>,
    /// `--deployed`.
    pub deployed: Option<bool>,
    /// `--processes`: the number of process containers.
    pub processes: Option<u32>,
    /// `--running`: `true`, `false` or `mixed`.
    pub running: Option<String>,
    /// `--restore`.
    pub restore: Option<bool>,
    /// `--ps-can-scale`.
    pub can_scale: Option<bool>,
    /// `--ps-restart-policy`: the app's own setting. From 0.38.x on it is
    /// empty when the app sets none (the global or default one applies);
    /// before, Dokku stored a policy on every app, so it is also the one in
    /// effect.
    pub restart_policy: Option<String>,
    /// The restart policy in effect, on every version: 0.38.x's
    /// `--ps-computed-restart-policy` (the app's, else the global one, else
    /// `on-failure:10`), or on servers that report no computed value the
    /// app's `--ps-restart-policy`. This is the field to read.
    pub computed_restart_policy: Option<String>,
    /// Per-process status, in report order.
    pub statuses: Vec<ProcessStatus>,
    /// Every other field, by snake_case label.
    #[serde(flatten)]
    pub other: BTreeMap<String, String>,
}

impl PsReport {
    /// Builds a report from snake_case fields (prefix `ps` removed).
    pub fn from_fields(app: Option<String>, fields: BTreeMap<String, String>) -> Self {
        Self::from_map(app, fields)
    }
}

impl ReportFields for PsReport {
    fn set_subject(&mut self, subject: Option<String>) {
        self.app = subject;
    }

    /// `status_*` fields wait in `other` until [`ReportFields::finish`].
    fn set_field(&mut self, name: &str, value: String) {
        match name {
            "deployed" => self.deployed = parse_bool(&value),
            "processes" => self.processes = value.parse().ok(),
            "running" => self.running = Some(value),
            "restore" => self.restore = parse_bool(&value),
            "can_scale" => self.can_scale = parse_bool(&value),
            "restart_policy" => self.restart_policy = Some(value),
            "computed_restart_policy" => self.computed_restart_policy = Some(value),
            _ => {
                self.other.insert(name.to_string(), value);
            }
        }
    }

    /// Moves the `status_<type>_<index>` fields that parse into `statuses`,
    /// sorted by process type and index; the others stay in `other`.
    fn finish(&mut self) {
        let parsed: Vec<(String, ProcessStatus)> = self
            .other
            .iter()
            .filter(|(k, _)| k.starts_with("status_"))
            .filter_map(|(k, v)| process_status(k, v).map(|s| (k.clone(), s)))
            .collect();
        for (key, status) in parsed {
            if format!(
                "status_{}_{}",
                status.process_type.replace('-', "_"),
                status.index
            ) == key
            {
                self.other.remove(&key);
            }
            self.statuses.push(status);
        }
        self.statuses
            .sort_by(|a, b| (&a.process_type, a.index).cmp(&(&b.process_type, b.index)));
        // Before the computed value existed, the app's policy was the one in
        // effect (REFERENCE.md; `plugins/ps/report.go` at v0.30.0).
        if self.computed_restart_policy.is_none() {
            self.computed_restart_policy = self.restart_policy.clone().filter(|v| !v.is_empty());
        }
    }
}

/// How long a rebuild may take (a build, as a deploy's).
pub const REBUILD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3600);

/// `ps:rebuild <app>`.
pub fn rebuild(app: &str) -> Result<Command> {
    app_command("ps:rebuild", app, Effect::Write)
}

/// `ps:stop <app>`.
pub fn stop(app: &str) -> Result<Command> {
    app_command("ps:stop", app, Effect::Write)
}

/// `ps:start <app>`.
pub fn start(app: &str) -> Result<Command> {
    app_command("ps:start", app, Effect::Write)
}

/// `ps:restart <app>`.
pub fn restart(app: &str) -> Result<Command> {
    app_command("ps:restart", app, Effect::Write)
}

/// The formation: process type to quantity.
pub type Formation = BTreeMap<String, u32>;

/// `ps:report [<app>] [--format json]` (every app when `app` is `None`).
pub fn report(app: Option<&str>, format: ReportFormat) -> Result<Command> {
    let cmd = match app {
        Some(app) => app_command("ps:report", app, Effect::Read)?,
        None => Command::read("ps:report"),
    };
    Ok(format.apply(cmd))
}

/// `ps:report <app> --running`: prints `true` or `false` (every version).
pub fn running(app: &str) -> Result<Command> {
    Ok(app_command("ps:report", app, Effect::Read)?.flag("--running"))
}

/// Parses what [`running`] prints.
pub fn parse_running(stdout: &str) -> Option<bool> {
    parse_bool(stdout.trim())
}

/// `ps:scale <app>`: the formation query.
pub fn scale(app: &str) -> Result<Command> {
    app_command("ps:scale", app, Effect::Read)
}

/// Options of `ps:scale` when it sets quantities.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScaleOptions {
    /// `--skip-deploy`: record the formation, deploy nothing.
    pub skip_deploy: bool,
}

impl ScaleOptions {
    /// With `--skip-deploy`.
    pub fn skip_deploy(mut self) -> Self {
        self.skip_deploy = true;
        self
    }
}

/// `ps:scale [--skip-deploy] <app> proc=qty...` (at least one pair).
pub fn scale_set(app: &str, set: &Formation, options: ScaleOptions) -> Result<Command> {
    validate_app_name(app)?;
    if set.is_empty() {
        return Err(Error::Config(
            "ps:scale needs at least one process type to set (PROCESS=QUANTITY)".into(),
        ));
    }
    let mut cmd = Command::write("ps:scale");
    if options.skip_deploy {
        cmd = cmd.flag("--skip-deploy");
    }
    cmd = cmd.value(app);
    for (p, q) in set {
        if p.is_empty()
            || !p
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(Error::InvalidName {
                name: p.clone(),
                message: "process types contain only letters, digits, `-` and `_`".into(),
            });
        }
        cmd = cmd.value(format!("{p}={q}"));
    }
    Ok(cmd)
}

/// Parses `ps:scale <app>` output: `-----> Scaling for <app>` (absent with
/// `--quiet`), then `proc: qty` rows split at the first `:` (not aligned);
/// the 0.4.x `-----> web   1` rows; or `--format json`
/// (`[{"process_type":"web","quantity":1}]`). Returns the app named in the
/// header, if any, and the formation.
pub fn parse_ps_scale(text: &str) -> Result<(Option<String>, BTreeMap<String, u32>), ParseError> {
    let trimmed = text.trim();
    let mut formation = BTreeMap::new();
    if trimmed.starts_with('[') {
        let v: serde_json::Value = serde_json::from_str(trimmed)
            .map_err(|e| ParseError::new(format!("invalid JSON formation: {e}"), text))?;
        for item in v.as_array().into_iter().flatten() {
            let p = item.get("process_type").and_then(serde_json::Value::as_str);
            let q = item.get("quantity").and_then(|q| {
                q.as_u64()
                    .or_else(|| q.as_str().and_then(|s| s.parse().ok()))
            });
            if let (Some(p), Some(q)) = (p, q) {
                formation.insert(p.to_string(), u32::try_from(q).unwrap_or(u32::MAX));
            }
        }
        return Ok((None, formation));
    }
    let mut app = None;
    for l in lines_of(text) {
        if let Some(a) = l.strip_prefix("-----> Scaling for ") {
            app = Some(a.trim().to_string());
            continue;
        }
        let body = l.strip_prefix("----->").unwrap_or(l).trim();
        let (proc, qty) = match body.split_once(':') {
            Some((p, q)) => (p.trim(), q.trim()),
            None => {
                let mut w = body.split_whitespace();
                match (w.next(), w.next(), w.next()) {
                    (Some(p), Some(q), None) => (p, q),
                    _ => continue,
                }
            }
        };
        if proc.is_empty() || proc.contains(' ') {
            continue;
        }
        if let Ok(q) = qty.parse::<u32>() {
            formation.insert(proc.to_string(), q);
        }
    }
    Ok((app, formation))
}

impl Client {
    /// The process report of one app, with per-process status.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let json = concat!(
    ///     "{",
    /// #   r#""can-scale":"true","#,
    /// #   r#""computed-dockerfile-start-cmd":"","#,
    /// #   r#""computed-procfile-path":"Procfile","#,
    /// #   r#""computed-restart-policy":"on-failure:10","#,
    /// #   r#""computed-skip-deploy":"false","#,
    /// #   r#""computed-start-cmd":"","#,
    /// #   r#""computed-stop-timeout-seconds":"30","#,
    ///     r#""deployed":"true","#,
    /// #   r#""dockerfile-start-cmd":"","#,
    /// #   r#""global-procfile-path":"","#,
    /// #   r#""global-restart-policy":"","#,
    /// #   r#""global-skip-deploy":"","#,
    /// #   r#""global-stop-timeout-seconds":"","#,
    ///     r#""processes":"3","#,
    /// #   r#""procfile-path":"","#,
    /// #   r#""ps-can-scale":"true","#,
    /// #   r#""ps-computed-dockerfile-start-cmd":"","#,
    /// #   r#""ps-computed-procfile-path":"Procfile","#,
    ///     r#""ps-computed-restart-policy":"on-failure:10","#,
    /// #   r#""ps-computed-skip-deploy":"false","#,
    /// #   r#""ps-computed-start-cmd":"","#,
    /// #   r#""ps-computed-stop-timeout-seconds":"30","#,
    /// #   r#""ps-dockerfile-start-cmd":"","#,
    /// #   r#""ps-global-procfile-path":"","#,
    /// #   r#""ps-global-restart-policy":"","#,
    /// #   r#""ps-global-skip-deploy":"","#,
    /// #   r#""ps-global-stop-timeout-seconds":"","#,
    /// #   r#""ps-procfile-path":"","#,
    /// #   r#""ps-restart-policy":"","#,
    /// #   r#""ps-skip-deploy":"","#,
    /// #   r#""ps-start-cmd":"","#,
    /// #   r#""ps-stop-timeout-seconds":"","#,
    /// #   r#""restart-policy":"","#,
    /// #   r#""restore":"true","#,
    ///     r#""running":"true","#,
    /// #   r#""skip-deploy":"","#,
    /// #   r#""start-cmd":"","#,
    ///     r#""status-web.1":"running (CID: 5b0c2a1f9e3)","#,
    ///     r#""status-web.2":"running (CID: 8e1d4c7b2a6)","#,
    ///     r#""status-worker.1":"running (CID: c3f9a0b7d21)","#,
    /// #   r#""stop-timeout-seconds":"""#,
    ///     // (the other keys, with and without the `ps-` prefix, are left out here)
    ///     "}",
    /// );
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("ps:report myapp --format json", Output::new(0, format!("{json}\n"), ""));
    /// let client = Client::new(transport);
    /// let report = client.ps_report("myapp").await?;
    /// assert_eq!(report.running.as_deref(), Some("true"));
    /// assert_eq!(report.processes, Some(3));
    /// assert_eq!(report.computed_restart_policy.as_deref(), Some("on-failure:10"));
    /// let statuses: Vec<String> = report.statuses.iter().map(|s| format!("{} {}", s.process(), s.status)).collect();
    /// assert_eq!(statuses, ["web.1 running", "web.2 running", "worker.1 running"]);
    /// assert_eq!(report.statuses[0].container_id.as_deref(), Some("5b0c2a1f9e3"));
    /// # Ok(()) }
    /// ```
    pub async fn ps_report(&self, app: &str) -> Result<PsReport> {
        let format = ReportFormat::when(self.capabilities().await?.report_json);
        let (subject, fields) = self
            .single_report(report(Some(app), format)?, format, "ps", app)
            .await?;
        Ok(PsReport::from_fields(subject, fields))
    }

    /// The process reports of every app, in one `ps:report` (text names each app).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let text = concat!(
    ///     "=====> api ps information\n",
    ///     "       Deployed:                         false\n",
    ///     "       Processes:                        0\n",
    /// #   "       Ps can scale:                     true\n",
    /// #   "       Ps computed dockerfile start cmd: \n",
    /// #   "       Ps computed procfile path:        Procfile\n",
    /// #   "       Ps computed restart policy:       on-failure:10\n",
    /// #   "       Ps computed skip deploy:          false\n",
    /// #   "       Ps computed start cmd:            \n",
    /// #   "       Ps computed stop timeout seconds: 30\n",
    /// #   "       Ps dockerfile start cmd:          \n",
    /// #   "       Ps global procfile path:          \n",
    /// #   "       Ps global restart policy:         \n",
    /// #   "       Ps global skip deploy:            \n",
    /// #   "       Ps global stop timeout seconds:   \n",
    /// #   "       Ps procfile path:                 \n",
    /// #   "       Ps restart policy:                \n",
    /// #   "       Ps skip deploy:                   \n",
    /// #   "       Ps start cmd:                     \n",
    /// #   "       Ps stop timeout seconds:          \n",
    /// #   "       Restore:                          true\n",
    ///     "       Running:                          false\n",
    ///     "=====> myapp ps information\n",
    ///     "       Deployed:                         true\n",
    ///     "       Processes:                        2\n",
    /// #   "       Ps can scale:                     true\n",
    /// #   "       Ps computed dockerfile start cmd: \n",
    /// #   "       Ps computed procfile path:        Procfile\n",
    /// #   "       Ps computed restart policy:       on-failure:10\n",
    /// #   "       Ps computed skip deploy:          false\n",
    /// #   "       Ps computed start cmd:            \n",
    /// #   "       Ps computed stop timeout seconds: 30\n",
    /// #   "       Ps dockerfile start cmd:          \n",
    /// #   "       Ps global procfile path:          \n",
    /// #   "       Ps global restart policy:         \n",
    /// #   "       Ps global skip deploy:            \n",
    /// #   "       Ps global stop timeout seconds:   \n",
    /// #   "       Ps procfile path:                 \n",
    /// #   "       Ps restart policy:                \n",
    /// #   "       Ps skip deploy:                   \n",
    /// #   "       Ps start cmd:                     \n",
    /// #   "       Ps stop timeout seconds:          \n",
    /// #   "       Restore:                          true\n",
    ///     "       Running:                          true\n",
    ///     "       Status web 1:                     running (CID: 5b0c2a1f9e3)\n",
    ///     "       Status worker 1:                  exited (CID: c3f9a0b7d21)\n",
    ///     // (rows other than Deployed, Processes, Running and Status are left out here)
    /// );
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("ps:report", Output::new(0, text, ""));
    /// let client = Client::new(transport);
    /// let reports = client.ps_reports().await?;
    /// assert_eq!(reports.len(), 2);
    /// assert_eq!(reports[0].app.as_deref(), Some("api"));
    /// assert_eq!(reports[0].deployed, Some(false));
    /// assert_eq!(reports[1].statuses[1].process(), "worker.1");
    /// assert_eq!(reports[1].statuses[1].status, "exited");
    /// # Ok(()) }
    /// ```
    pub async fn ps_reports(&self) -> Result<Vec<PsReport>> {
        self.all_reports(report(None, ReportFormat::Text)?, "ps")
            .await
    }

    /// True when the app's processes are running (`ps:report <app> --running`).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("ps:report myapp --running", Output::new(0, "true\n", ""))
    ///     .case("ps:report api --running", Output::new(0, "false\n", ""));
    /// let client = Client::new(transport);
    /// assert!(client.ps_running("myapp").await?);
    /// assert!(!client.ps_running("api").await?);
    /// # Ok(()) }
    /// ```
    pub async fn ps_running(&self, app: &str) -> Result<bool> {
        let cmd = running(app)?;
        let out = self.run_ok(cmd.clone()).await?;
        parse_running(&out.stdout_text()).ok_or_else(|| Error::Parse {
            command: cmd.display(),
            message: "expected `true` or `false`".into(),
            text: out.stdout_text().chars().take(200).collect(),
        })
    }

    /// Stops the app's containers (`ps:stop`).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("ps:stop myapp", Output::new(0, "-----> Stopping myapp\n", ""));
    /// let client = Client::new(transport.clone());
    /// client.ps_stop("myapp").await?;
    /// assert_eq!(transport.requests().last().unwrap().argv, ["ps:stop", "myapp"]);
    /// # Ok(()) }
    /// ```
    pub async fn ps_stop(&self, app: &str) -> Result<()> {
        self.run_ok(stop(app)?).await.map(drop)
    }

    /// Starts the app (`ps:start`); already running is not an error.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(
    ///         "ps:start myapp",
    ///         Output::new(
    ///             0,
    ///             "-----> Configuring myapp.dokku.example.com...(using built-in template)\n-----> Creating http nginx.conf\n       Reloading nginx\n",
    ///             " !     App myapp already running\n",
    ///         ),
    ///     );
    /// let client = Client::new(transport);
    /// client.ps_start("myapp").await?; // already running: still Ok
    /// # Ok(()) }
    /// ```
    pub async fn ps_start(&self, app: &str) -> Result<()> {
        self.run_ok(start(app)?).await.map(drop)
    }

    /// Restarts the app (`ps:restart`).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(
    ///         "ps:restart myapp",
    ///         Output::new(0, concat!(
    ///             "-----> Deploying web (count=1)\n",
    ///             "       Attempting pre-flight checks (web.1)\n",
    ///             " !     No healthchecks found in app.json for web process type\n",
    ///             "       Scheduling old container shutdown in 60 seconds (web.1)\n",
    ///             "-----> Running post-deploy\n",
    ///             "-----> Configuring myapp.dokku.example.com...(using built-in template)\n",
    ///             "-----> Creating http nginx.conf\n",
    ///             "       Reloading nginx\n",
    ///         ), ""),
    ///     );
    /// let client = Client::new(transport.clone());
    /// client.ps_restart("myapp").await?;
    /// assert_eq!(transport.requests().last().unwrap().argv, ["ps:restart", "myapp"]);
    /// # Ok(()) }
    /// ```
    pub async fn ps_restart(&self, app: &str) -> Result<()> {
        self.run_ok(restart(app)?).await.map(drop)
    }

    /// Rebuilds and redeploys the app (`ps:rebuild`).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let deploy = concat!(
    ///     "-----> Cleaning up...\n",
    ///     "-----> Building myapp from herokuish\n",
    /// #   "-----> Releasing myapp...\n",
    /// #   "-----> Deploying myapp via the docker-local scheduler...\n",
    /// #   "-----> Deploying web (count=1)\n",
    /// #   "       Attempting pre-flight checks (web.1)\n",
    /// #   "-----> Running post-deploy\n",
    ///     "=====> Application deployed:\n",
    ///     "       http://myapp.dokku.example.com\n",
    ///     "\n",
    /// );
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("ps:rebuild myapp", Output::new(0, deploy, ""));
    /// let client = Client::new(transport.clone());
    /// client.ps_rebuild("myapp").await?;
    /// assert_eq!(transport.requests().last().unwrap().argv, ["ps:rebuild", "myapp"]);
    /// # Ok(()) }
    /// ```
    pub async fn ps_rebuild(&self, app: &str) -> Result<()> {
        self.run_ok(rebuild(app)?).await.map(drop)
    }

    /// Rebuilds the app, writing the build's output (stdout and, under
    /// Dokku's build capture, its stderr) to `output` as it comes.
    ///
    /// The build's lines arrive in `output` as the server prints them (here, the
    /// reading end of a pipe; `tokio::io::stdout()` in a CLI).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use tokio::io::AsyncReadExt;
    /// let deploy = concat!(
    ///     "-----> Cleaning up...\n",
    ///     "-----> Building myapp from herokuish\n",
    /// #   "-----> Releasing myapp...\n",
    /// #   "-----> Deploying myapp via the docker-local scheduler...\n",
    /// #   "-----> Deploying web (count=1)\n",
    /// #   "       Attempting pre-flight checks (web.1)\n",
    /// #   "-----> Running post-deploy\n",
    ///     "=====> Application deployed:\n",
    ///     "       http://myapp.dokku.example.com\n",
    ///     "\n",
    /// );
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("ps:rebuild myapp", Output::new(0, deploy, ""));
    /// let client = Client::new(transport);
    /// let (output, mut received) = tokio::io::duplex(64 * 1024);
    /// client.ps_rebuild_streaming("myapp", output).await?;
    /// let mut text = String::new();
    /// received.read_to_string(&mut text).await?;
    /// assert!(text.contains("=====> Application deployed:"));
    /// # Ok(()) }
    /// ```
    pub async fn ps_rebuild_streaming(
        &self,
        app: &str,
        output: impl tokio::io::AsyncWrite + Send + Unpin + 'static,
    ) -> Result<()> {
        let request = crate::Request::new(rebuild(app)?)
            .stdout(crate::Stdout::Writer(Box::new(output)))
            .timeout(REBUILD_TIMEOUT);
        self.execute_ok(request).await.map(drop)
    }

    /// The current formation (`ps:scale <app>`).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(
    ///         "ps:scale myapp",
    ///         Output::new(0, "-----> Scaling for myapp\nproctype: qty\n--------: ---\ncron-worker: 0\nweb:  2\nworker: 1\n", ""),
    ///     );
    /// let client = Client::new(transport);
    /// let formation = client.ps_scale_get("myapp").await?;
    /// assert_eq!(formation["web"], 2);
    /// assert_eq!(formation["worker"], 1);
    /// assert_eq!(formation["cron-worker"], 0);
    /// # Ok(()) }
    /// ```
    pub async fn ps_scale_get(&self, app: &str) -> Result<Formation> {
        let cmd = scale(app)?;
        let out = self.run_ok(cmd.clone()).await?;
        parse::parse_ps_scale(&out.stdout_text())
            .map(|(_, f)| f)
            .map_err(|e| e.into_error(cmd.name()))
    }

    /// Scales process types (`ps:scale <app> web=2`), deploying what changed
    /// unless `options` skip the deploy.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use dokku_client::ps::{Formation, ScaleOptions};
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(
    ///         "ps:scale --skip-deploy myapp web=2 worker=1",
    ///         Output::new(0, "-----> Scaling myapp processes: web=2 worker=1\n", ""),
    ///     );
    /// let client = Client::new(transport.clone());
    /// let formation = Formation::from([("web".to_string(), 2), ("worker".to_string(), 1)]);
    /// client.ps_scale_set("myapp", &formation, ScaleOptions::default().skip_deploy()).await?;
    /// assert_eq!(
    ///     transport.requests().last().unwrap().argv,
    ///     ["ps:scale", "--skip-deploy", "myapp", "web=2", "worker=1"],
    /// );
    /// # Ok(()) }
    /// ```
    pub async fn ps_scale_set(
        &self,
        app: &str,
        set: &Formation,
        options: ScaleOptions,
    ) -> Result<()> {
        self.run_ok(scale_set(app, set, options)?).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_from_every_form() {
        let s = process_status("Status web 1", "running (CID: 5b0c2a1f9e3)").unwrap();
        assert_eq!(
            (s.process_type.as_str(), s.index, s.status.as_str()),
            ("web", 1, "running")
        );
        assert_eq!(s.container_id.as_deref(), Some("5b0c2a1f9e3"));
        let s = process_status("Status worker.2", "exited     (CID: 0123456789ab)").unwrap();
        assert_eq!(s.process(), "worker.2");
        assert_eq!(s.status, "exited");
        let s = process_status("Status cron worker 10", "missing").unwrap();
        assert_eq!(s.process(), "cron-worker.10");
        assert!(process_status("Status", "x").is_none());
    }

    #[test]
    fn report_from_json_keys() {
        let maps = crate::parse::report::report_maps("{\"deployed\":\"true\",\"processes\":\"1\",\"ps-can-scale\":\"true\",\"can-scale\":\"true\",\"status-web.1\":\"running (CID: abc)\"}\n", crate::parse::report::ReportFormat::Json, "ps", Some("a")).unwrap();
        let r = PsReport::from_fields(maps[0].0.clone(), maps[0].1.clone());
        assert_eq!(r.deployed, Some(true));
        assert_eq!(r.processes, Some(1));
        assert_eq!(r.statuses.len(), 1);
        assert!(r.other.is_empty(), "{:?}", r.other);
    }

    #[test]
    fn scale_commands() {
        let mut f = Formation::new();
        f.insert("web".into(), 2);
        assert_eq!(
            scale_set("a", &f, ScaleOptions::default().skip_deploy())
                .unwrap()
                .argv(),
            vec!["ps:scale", "--skip-deploy", "a", "web=2"]
        );
        assert_eq!(scale("a").unwrap().argv(), vec!["ps:scale", "a"]);
        assert!(scale_set("a", &Formation::new(), ScaleOptions::default()).is_err());
        f.insert("bad type".into(), 1);
        assert!(scale_set("a", &f, ScaleOptions::default()).is_err());
        assert_eq!(
            running("a").unwrap().argv(),
            vec!["ps:report", "a", "--running"]
        );
        assert_eq!(parse_running("true\n"), Some(true));
        assert_eq!(parse_running("false"), Some(false));
        assert_eq!(parse_running(""), None);
        assert_eq!(
            report(None, ReportFormat::Text).unwrap().argv(),
            vec!["ps:report"]
        );
    }

    use crate::transport::ScriptedTransport;
    use crate::Output;

    #[tokio::test]
    async fn typed_ps_methods() {
        let t = ScriptedTransport::new()
            .version("0.30.0")
            .case(
                "ps:report a --format json",
                Output::new(0, "{\"deployed\":\"true\",\"processes\":\"2\",\"ps-restart-policy\":\"on-failure:10\",\"status-web.1\":\"running (CID: 5b0c2a1f9e3)\",\"status-web.2\":\"exited (CID: 8e1d4c7b2a6)\"}\n", ""),
            )
            .case("ps:scale a", Output::new(0, "-----> Scaling for a\nproctype: qty\n--------: ---\nweb:  2\n", ""));
        let c = Client::new(t);
        let r = c.ps_report("a").await.unwrap();
        assert_eq!(r.processes, Some(2));
        assert_eq!(r.restart_policy.as_deref(), Some("on-failure:10"));
        // No computed value on this version: the app's policy is in effect.
        assert_eq!(r.computed_restart_policy.as_deref(), Some("on-failure:10"));
        assert_eq!(r.statuses.len(), 2);
        assert_eq!(r.statuses[1].status, "exited");
        assert_eq!(c.ps_scale_get("a").await.unwrap()["web"], 2);
    }

    #[test]
    fn scale_forms() {
        let (app, f) = parse_ps_scale(
            "-----> Scaling for a\nproctype: qty\n--------: ---\nweb:  1\nworker: 2\n",
        )
        .unwrap();
        assert_eq!(app.as_deref(), Some("a"));
        assert_eq!(f["web"], 1);
        assert_eq!(f["worker"], 2);
        let (_, f) = parse_ps_scale("-----> proctype           qty   \n-----> --------           ---   \n-----> web                1                    \n").unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(f["web"], 1);
        let (_, f) = parse_ps_scale("[{\"process_type\":\"web\",\"quantity\":3}]\n").unwrap();
        assert_eq!(f["web"], 3);
    }
}
