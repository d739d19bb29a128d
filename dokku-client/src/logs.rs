//! `logs`: recent lines, or a tail streamed to a writer.
//!
//! Each command has a pure builder here (no IO) that checks its arguments and
//! returns the [`Command`]; the [`Client`] methods
//! run them and parse the output.
//!
//! ```
//! use dokku_client::logs::{self, LogsOptions};
//! let mut options = LogsOptions::default();
//! options.num = Some(50);
//! options.tail = true;
//! assert_eq!(logs::logs("myapp", &options)?.argv(), ["logs", "myapp", "--num", "50", "--tail"]);
//! # Ok::<(), dokku_client::Error>(())
//! ```

use serde::Serialize;
use tokio::io::AsyncWrite;

use crate::apps::validate_app_name;
use crate::command::Command;
use crate::error::Result;
use crate::parse;
use crate::transport::{Request, Stdout};
use crate::Client;

/// One `logs` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    /// Docker's timestamp (`2026-08-21T10:15:01.123456789Z`), absent with `-q`.
    pub timestamp: Option<String>,
    /// The process (`web.1`), absent with `-q`.
    pub process: Option<String>,
    /// The message, as the app wrote it (its own ANSI codes kept).
    pub message: String,
}

/// Options of `logs`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogsOptions {
    /// `--num N` lines per container (`-n` is eaten over SSH, never used).
    pub num: Option<u32>,
    /// `--ps <process type>`.
    pub process: Option<String>,
    /// `--quiet`: raw messages only.
    pub quiet: bool,
    /// `--tail`: follow.
    pub tail: bool,
}

/// `logs <app> [--num N] [--ps P] [--quiet] [--tail]`.
pub fn logs(app: &str, options: &LogsOptions) -> Result<Command> {
    validate_app_name(app)?;
    let mut cmd = Command::read("logs").value(app);
    if let Some(n) = options.num {
        cmd = cmd.flag("--num").flag(n.to_string());
    }
    if let Some(p) = &options.process {
        cmd = cmd.flag("--ps").value(p.clone());
    }
    if options.quiet {
        cmd = cmd.flag("--quiet");
    }
    if options.tail {
        cmd = cmd.flag("--tail");
    }
    Ok(cmd)
}

impl Client {
    /// Recent log lines (never follows; `options.tail` is ignored).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use dokku_client::logs::LogsOptions;
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(
    ///         "logs myapp --num 1",
    ///         Output::new(0, concat!(
    ///             "\x1b[36m2026-08-21T10:15:01.123456789Z app[web.1]:\x1b[0m GET / 200 12ms\n",
    ///             "\x1b[33m2026-08-21T10:15:01.200000000Z app[worker.1]:\x1b[0m job 42: done (took 1.2s)\n",
    ///         ), ""),
    ///     );
    /// let client = Client::new(transport);
    /// let mut options = LogsOptions::default();
    /// options.num = Some(1); // per container
    /// let lines = client.logs("myapp", &options).await?;
    /// assert_eq!(lines[0].process.as_deref(), Some("web.1"));
    /// assert_eq!(lines[0].timestamp.as_deref(), Some("2026-08-21T10:15:01.123456789Z"));
    /// assert_eq!(lines[1].message, "job 42: done (took 1.2s)");
    /// # Ok(()) }
    /// ```
    pub async fn logs(&self, app: &str, options: &LogsOptions) -> Result<Vec<LogLine>> {
        let options = LogsOptions {
            tail: false,
            ..options.clone()
        };
        let out = self.run_ok(logs(app, &options)?).await?;
        Ok(parse::parse_logs(&out.stdout_text()))
    }

    /// Follows the logs, writing raw bytes to `sink` until the command ends
    /// or the timeout fires.
    ///
    /// The scripted transport answers at once, so the "follow" ends with its
    /// output; over SSH the call returns when the command ends or times out.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use dokku_client::logs::LogsOptions;
    /// use tokio::io::AsyncReadExt;
    /// let line = "\x1b[36m2026-08-21T10:15:01.123456789Z app[web.1]:\x1b[0m GET / 200 12ms\n";
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("logs myapp --ps web --tail", Output::new(0, line, ""));
    /// let client = Client::new(transport);
    /// let mut options = LogsOptions::default();
    /// options.process = Some("web".into());
    /// let (sink, mut received) = tokio::io::duplex(64 * 1024);
    /// client.logs_tail("myapp", &options, sink).await?;
    /// let mut text = String::new();
    /// received.read_to_string(&mut text).await?;
    /// assert_eq!(text, line); // raw bytes, colours included
    /// # Ok(()) }
    /// ```
    pub async fn logs_tail(
        &self,
        app: &str,
        options: &LogsOptions,
        sink: impl AsyncWrite + Send + Unpin + 'static,
    ) -> Result<()> {
        let options = LogsOptions {
            tail: true,
            ..options.clone()
        };
        let cmd = logs(app, &options)?;
        let out = self
            .execute(Request::new(cmd.clone()).stdout(Stdout::Writer(Box::new(sink))))
            .await?;
        if out.success() {
            Ok(())
        } else {
            Err(self.classify(&cmd, &out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_use_long_flags() {
        let cmd = logs(
            "a",
            &LogsOptions {
                num: Some(5),
                process: Some("web".into()),
                quiet: true,
                tail: true,
            },
        )
        .unwrap();
        assert_eq!(
            cmd.argv(),
            vec!["logs", "a", "--num", "5", "--ps", "web", "--quiet", "--tail"]
        );
    }
}
