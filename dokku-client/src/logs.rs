//! `logs`: recent lines, or a tail streamed to a writer.
//!
//! Each command has a pure builder here (no IO) that checks its arguments and
//! returns the [`Command`]; the [`Client`] methods
//! run them and parse the output.
//!
//! ```
//! use dokku_client::logs::{self, LogsOptions};
//! let options = LogsOptions::default().num(50).tail();
//! assert_eq!(logs::logs("myapp", &options)?.argv(), ["logs", "myapp", "--num", "50", "--tail"]);
//! # Ok::<(), dokku_client::Error>(())
//! ```

use crate::parse::lines_of;
use serde::Serialize;
use tokio::io::AsyncWrite;

use crate::command::Command;
use crate::error::{Error, Result};
use crate::names::validate_app_name;
use crate::parse;
use crate::transport::{Request, Stdout};
use crate::Client;

/// One `logs` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LogLine {
    /// Docker's timestamp (`2026-08-21T10:15:01.123456789Z`), absent with `-q`.
    pub timestamp: Option<String>,
    /// The process (`web.1`), absent with `-q`.
    pub process: Option<String>,
    /// The message, as the app wrote it (its own ANSI codes kept).
    pub message: String,
}

impl LogLine {
    /// A line with only a message (what `--quiet` gives); set `timestamp` and
    /// `process` on it for a full one.
    ///
    /// ```
    /// use dokku_client::logs::LogLine;
    /// let mut line = LogLine::new("GET / 200 12ms");
    /// line.process = Some("web.1".into());
    /// assert_eq!(line.timestamp, None);
    /// ```
    pub fn new(message: impl Into<String>) -> Self {
        LogLine {
            timestamp: None,
            process: None,
            message: message.into(),
        }
    }
}

/// Options of `logs`: [`Default`] (Dokku's own: 100 lines per container,
/// every process, colours, no follow) and the setters below.
///
/// ```
/// use dokku_client::logs::LogsOptions;
/// let options = LogsOptions::default().num(20).process("web").quiet();
/// assert_eq!((options.num, options.quiet, options.tail), (Some(20), true, false));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogsOptions {
    /// `--num N` lines per container (`-n` is eaten over SSH, never used);
    /// `None`: Dokku's default, 100.
    pub num: Option<u32>,
    /// `--ps <process type>`.
    pub process: Option<String>,
    /// `--quiet`: raw messages only.
    pub quiet: bool,
    /// `--tail` (Dokku's `-t`): keep streaming new lines, i.e. follow.
    /// [`Client::logs_tail`] sets it; [`Client::logs`] refuses it.
    pub tail: bool,
}

impl LogsOptions {
    /// `--num N`: the last `n` lines of each container.
    pub fn num(mut self, n: u32) -> Self {
        self.num = Some(n);
        self
    }

    /// `--ps TYPE`: only this process type's containers.
    pub fn process(mut self, process: impl Into<String>) -> Self {
        self.process = Some(process.into());
        self
    }

    /// `--quiet`: raw messages, without timestamps, process names and colours.
    pub fn quiet(mut self) -> Self {
        self.quiet = true;
        self
    }

    /// `--tail`: follow (what [`Client::logs_tail`] sends).
    pub fn tail(mut self) -> Self {
        self.tail = true;
        self
    }
}

/// `logs <app> [--num N] [--ps P] [--quiet] [--tail]`: every option is sent
/// with Dokku's long flag (`logs` takes `-n|--num`, `-p|--ps`, `-q|--quiet`,
/// `-t|--tail`).
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

/// Removes one ANSI SGR sequence (`\e[..m`) at the start of `s`.
fn strip_sgr(s: &str) -> &str {
    if let Some(rest) = s.strip_prefix("\u{1b}[") {
        if let Some(end) = rest.find('m') {
            if rest[..end].chars().all(|c| c.is_ascii_digit() || c == ';') {
                return &rest[end + 1..];
            }
        }
    }
    s
}

/// Parses one `logs` line: `\e[36m<timestamp> app[web.1]:\e[0m <message>`.
/// Lines of another shape (`-q` output, app output without a prefix) keep
/// their text as the message with no timestamp or process.
pub fn parse_log_line(line: &str) -> LogLine {
    let raw = LogLine {
        timestamp: None,
        process: None,
        message: line.to_string(),
    };
    let s = strip_sgr(line);
    let Some((ts, rest)) = s.split_once(' ') else {
        return raw;
    };
    if !ts.starts_with(|c: char| c.is_ascii_digit()) || !ts.contains('T') {
        return raw;
    }
    let Some(close) = rest.find("]:") else {
        return raw;
    };
    let source = &rest[..close];
    let Some(open) = source.find('[') else {
        return raw;
    };
    if source[..open].contains(' ') {
        return raw;
    }
    let process = &source[open + 1..];
    let message = &rest[close + 2..];
    let message = message.strip_prefix("\u{1b}[0m").unwrap_or(message);
    let message = message.strip_prefix(' ').unwrap_or(message);
    LogLine {
        timestamp: Some(ts.to_string()),
        process: Some(process.to_string()),
        message: message.to_string(),
    }
}

/// Parses `logs` output line by line (see [`parse_log_line`]).
pub fn parse_logs(text: &str) -> Vec<LogLine> {
    lines_of(text).into_iter().map(parse_log_line).collect()
}

impl Client {
    /// Recent log lines. It never follows: `options.tail` is refused with
    /// [`Error::Config`] (use [`Client::logs_tail`] to follow).
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
    /// let options = LogsOptions::default().num(1); // per container
    /// let lines = client.logs("myapp", &options).await?;
    /// assert_eq!(lines[0].process.as_deref(), Some("web.1"));
    /// assert_eq!(lines[0].timestamp.as_deref(), Some("2026-08-21T10:15:01.123456789Z"));
    /// assert_eq!(lines[1].message, "job 42: done (took 1.2s)");
    /// // Following is `logs_tail`'s job: asked here, it is refused, not dropped.
    /// assert!(client.logs("myapp", &options.tail()).await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn logs(&self, app: &str, options: &LogsOptions) -> Result<Vec<LogLine>> {
        if options.tail {
            return Err(Error::Config(
                "`logs` returns recent lines and cannot follow them: use `logs_tail` (LogsOptions::tail) to follow".into(),
            ));
        }
        let out = self.run_ok(logs(app, options)?).await?;
        Ok(parse::parse_logs(&out.stdout_text()))
    }

    /// Follows the logs (`logs --tail`), writing raw bytes to `sink` until
    /// the command ends or the future is dropped.
    ///
    /// A follow has no time limit by default: the client's per-call timeout
    /// ([`ClientBuilder::timeout`](crate::ClientBuilder::timeout)) does not
    /// apply; [`ClientBuilder::follow_timeout`](crate::ClientBuilder::follow_timeout)
    /// sets one. The scripted transport answers at once, so the "follow" ends
    /// with its output; over SSH the call returns when the command ends.
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
    /// let options = LogsOptions::default().process("web");
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
        let options = options.clone().tail();
        let cmd = logs(app, &options)?;
        let out = self
            .execute_follow(Request::new(cmd.clone()).stdout(Stdout::Writer(Box::new(sink))))
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

    /// Every option reaches the command (Dokku's `logs` flags: `-n|--num`,
    /// `-p|--ps`, `-q|--quiet`, `-t|--tail`), each alone, and the defaults
    /// send none.
    #[test]
    fn each_option_is_sent_and_the_defaults_send_nothing() {
        let argv = |o: LogsOptions| -> Vec<String> {
            let cmd = logs("a", &o).unwrap();
            cmd.argv().into_iter().map(String::from).collect()
        };
        assert_eq!(argv(LogsOptions::default()), ["logs", "a"]);
        assert_eq!(argv(LogsOptions::default().tail()), ["logs", "a", "--tail"]);
        assert_eq!(
            argv(LogsOptions::default().num(100)),
            ["logs", "a", "--num", "100"]
        );
        assert_eq!(
            argv(LogsOptions::default().quiet()),
            ["logs", "a", "--quiet"]
        );
        assert_eq!(
            argv(LogsOptions::default().process("worker")),
            ["logs", "a", "--ps", "worker"]
        );
        assert_eq!(
            argv(LogsOptions::default().num(3).tail()),
            ["logs", "a", "--num", "3", "--tail"]
        );
        assert!(logs("Bad", &LogsOptions::default()).is_err());
    }

    use crate::transport::ScriptedTransport;
    use crate::Output;

    #[tokio::test]
    async fn recent_lines_refuse_to_follow_and_the_tail_follows() {
        let transport = ScriptedTransport::new()
            .version("0.38.27")
            .case("logs a --num 2", Output::new(0, "x\n", ""))
            .case("logs a --num 2 --tail", Output::new(0, "y\n", ""));
        let client = Client::new(transport.clone());
        let options = LogsOptions::default().num(2);
        assert_eq!(client.logs("a", &options).await.unwrap().len(), 1);
        assert!(matches!(
            client.logs("a", &options.clone().tail()).await,
            Err(Error::Config(_))
        ));
        client
            .logs_tail("a", &options, tokio::io::sink())
            .await
            .unwrap();
        let sent: Vec<Vec<String>> = transport.requests().into_iter().map(|r| r.argv).collect();
        assert_eq!(
            sent.iter().filter(|a| a[0] == "logs").collect::<Vec<_>>(),
            [
                &vec!["logs", "a", "--num", "2"],
                &vec!["logs", "a", "--num", "2", "--tail"]
            ]
        );
    }

    #[test]
    fn log_lines() {
        let l = parse_log_line(
            "\u{1b}[36m2026-08-21T10:15:01.123456789Z app[web.1]:\u{1b}[0m GET / 200",
        );
        assert_eq!(l.process.as_deref(), Some("web.1"));
        assert_eq!(l.message, "GET / 200");
        let l = parse_log_line("raw message");
        assert_eq!(l.timestamp, None);
        assert_eq!(l.message, "raw message");
    }
}
