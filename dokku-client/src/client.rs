//! The [`Client`]: one per host, shared, cheap to clone.
//!
//! It detects the server version once, applies the timeout to every call
//! (a followed log has none unless one is set, a terminal session none),
//! retries reads (never writes) after transport failures, and classifies
//! failures into [`Error`]. Typed methods live in one file per resource
//! (`apps.rs`, `ps.rs`, `postgres.rs`, ...).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::OnceCell;

use crate::command::{Command, Effect};
use crate::error::{classify, Error, Result};
use crate::output::Output;
use crate::transport::{Request, Stdin, Stdout, Transport, DEFAULT_TIMEOUT};

/// Default time limit of streamed transfers (`postgres:export`/`import`).
pub const DEFAULT_STREAM_TIMEOUT: Duration = Duration::from_secs(6 * 3600);
use crate::version::{Capabilities, DokkuVersion};

/// How reads are retried after a transport failure: [`Default`] (2 retries,
/// 200 ms then 400 ms) and the setters below.
///
/// ```
/// use std::time::Duration;
/// use dokku_client::RetryPolicy;
/// let retry = RetryPolicy::default().retries(5).backoff(Duration::from_millis(500));
/// assert_eq!((retry.retries, retry.backoff), (5, Duration::from_millis(500)));
/// let never = RetryPolicy::none();
/// assert_eq!(never.retries, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts after the first one.
    pub retries: u32,
    /// Wait before the first retry; doubled each time.
    pub backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 2,
            backoff: Duration::from_millis(200),
        }
    }
}

impl RetryPolicy {
    /// No retries: every read is tried once.
    pub fn none() -> Self {
        RetryPolicy::default().retries(0)
    }

    /// Sets the attempts after the first one.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// Sets the wait before the first retry (doubled each time).
    pub fn backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }
}

/// Which time limit a request without its own gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limit {
    /// The client's per-call timeout.
    Call,
    /// A followed stream (`logs --tail`): the follow timeout, none by default.
    Follow,
}

/// A Dokku client. Clones share the connection and the detected version.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    transport: Box<dyn Transport>,
    version: OnceCell<DokkuVersion>,
    timeout: Duration,
    stream_timeout: Duration,
    follow_timeout: Option<Duration>,
    retry: RetryPolicy,
}

impl Client {
    /// A client over any transport, with the default timeout and retry policy.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("apps:exists myapp", Output::new(0, "", ""));
    /// let client = Client::new(transport);
    /// assert!(client.apps_exists("myapp").await?);
    /// # Ok(()) }
    /// ```
    pub fn new(transport: impl Transport + 'static) -> Self {
        Client::builder(transport).build()
    }

    /// A builder to set the timeout and retry policy.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use std::time::Duration;
    /// use dokku_client::{DokkuVersion, RetryPolicy};
    /// let transport = ScriptedTransport::new().case("apps:exists myapp", Output::new(0, "", ""));
    /// let client = Client::builder(transport.clone())
    ///     .timeout(Duration::from_secs(30))
    ///     .retry(RetryPolicy::default())
    ///     .version(DokkuVersion::new(0, 38, 27)) // no `version` probe
    ///     .build();
    /// assert_eq!(client.timeout(), Duration::from_secs(30));
    /// assert!(client.apps_exists("myapp").await?);
    /// assert_eq!(transport.requests().len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn builder(transport: impl Transport + 'static) -> ClientBuilder {
        ClientBuilder {
            transport: Box::new(transport),
            timeout: DEFAULT_TIMEOUT,
            stream_timeout: DEFAULT_STREAM_TIMEOUT,
            follow_timeout: None,
            retry: RetryPolicy::default(),
            version: None,
        }
    }

    /// The transport's target, for messages.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let client = Client::new(ScriptedTransport::new());
    /// assert_eq!(client.target(), "scripted"); // an SSH transport gives `dokku@host`
    /// # Ok(()) }
    /// ```
    pub fn target(&self) -> String {
        self.inner.transport.target()
    }

    /// The per-call timeout.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use dokku_client::transport::DEFAULT_TIMEOUT;
    /// let client = Client::new(ScriptedTransport::new());
    /// assert_eq!(client.timeout(), DEFAULT_TIMEOUT);
    /// assert_eq!(DEFAULT_TIMEOUT.as_secs(), 120);
    /// # Ok(()) }
    /// ```
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// The time limit of streamed transfers (export and import).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use std::time::Duration;
    /// let client = Client::builder(ScriptedTransport::new())
    ///     .stream_timeout(Duration::from_secs(2 * 3600))
    ///     .build();
    /// assert_eq!(client.stream_timeout(), Duration::from_secs(7200));
    /// assert_eq!(
    ///     Client::new(ScriptedTransport::new()).stream_timeout(),
    ///     dokku_client::client::DEFAULT_STREAM_TIMEOUT,
    /// );
    /// # Ok(()) }
    /// ```
    pub fn stream_timeout(&self) -> Duration {
        self.inner.stream_timeout
    }

    /// The time limit of a followed log ([`Client::logs_tail`]): `None`, no
    /// limit, unless [`ClientBuilder::follow_timeout`] set one. The per-call
    /// timeout never applies to a follow.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use std::time::Duration;
    /// assert_eq!(Client::new(ScriptedTransport::new()).follow_timeout(), None);
    /// let client = Client::builder(ScriptedTransport::new())
    ///     .follow_timeout(Duration::from_secs(3600))
    ///     .build();
    /// assert_eq!(client.follow_timeout(), Some(Duration::from_secs(3600)));
    /// # Ok(()) }
    /// ```
    pub fn follow_timeout(&self) -> Option<Duration> {
        self.inner.follow_timeout
    }

    /// The server's version, detected with `version` on first use and cached.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .case("version", Output::new(0, "dokku version 0.38.27\n", ""));
    /// let client = Client::new(transport.clone());
    /// let version = client.version().await?;
    /// assert_eq!((version.major, version.minor, version.patch), (0, 38, 27));
    /// assert!(version.at_least(0, 34, 0));
    /// client.version().await?; // cached: asked once
    /// assert_eq!(transport.requests().len(), 1);
    /// # Ok(()) }
    /// ```
    pub async fn version(&self) -> Result<&DokkuVersion> {
        self.inner
            .version
            .get_or_try_init(|| async {
                let out = self
                    .execute_with_version(
                        Request::new(crate::version::command()),
                        None,
                        Limit::Call,
                    )
                    .await?;
                if !out.success() {
                    return Err(self.classify(&crate::version::command(), &out));
                }
                DokkuVersion::parse_output(&out.stdout_text())
            })
            .await
    }

    /// The capabilities of the server's version.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let old = Client::new(ScriptedTransport::new().version("0.19.13"));
    /// let new = Client::new(ScriptedTransport::new().version("0.38.27"));
    /// assert!(!old.capabilities().await?.apps_list_json);
    /// assert!(new.capabilities().await?.apps_list_json);
    /// # Ok(()) }
    /// ```
    pub async fn capabilities(&self) -> Result<Capabilities> {
        Ok(self.version().await?.capabilities())
    }

    /// Runs a request as-is and returns its [`Output`] whatever the exit code
    /// (the raw escape hatch). Applies the timeout, and retries reads after
    /// transport failures when stdin and stdout are not streams.
    ///
    /// The first command of a connection does not wait for version
    /// detection when every word is plain (`[A-Za-z0-9_:./=@%+,-]`): such a
    /// line is the same under every split rule, so the `version` probe goes
    /// out alongside it, saving a round trip. Quoting then assumes the most
    /// demanding rule (0.34.0+), which can only refuse more, never mis-send.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use std::time::Duration;
    /// use dokku_client::{Command, Request, Stdin};
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("postgres:connect lollipop", Output::new(0, " n \n---\n 1\n(1 row)\n\n", ""));
    /// let client = Client::new(transport.clone());
    /// let request = Request::new(Command::write("postgres:connect").value("lollipop"))
    ///     .stdin(Stdin::Bytes(b"SELECT 1 AS n;\n".to_vec()))
    ///     .timeout(Duration::from_secs(10));
    /// let out = client.execute(request).await?;
    /// assert_eq!(out.exit_code, 0);
    /// assert!(out.stdout_text().contains("(1 row)"));
    /// assert_eq!(transport.requests().last().unwrap().stdin, b"SELECT 1 AS n;\n");
    /// # Ok(()) }
    /// ```
    pub async fn execute(&self, request: Request) -> Result<Output> {
        self.execute_under(request, Limit::Call).await
    }

    /// [`Client::execute`] for a followed stream: without its own
    /// [`Request::timeout`](crate::Request), the follow timeout applies
    /// (none by default), not the per-call one.
    pub(crate) async fn execute_follow(&self, request: Request) -> Result<Output> {
        self.execute_under(request, Limit::Follow).await
    }

    async fn execute_under(&self, request: Request, rule: Limit) -> Result<Output> {
        if let Some(version) = self.inner.version.get() {
            return self
                .execute_with_version(request, Some(version.clone()), rule)
                .await;
        }
        let plain = request
            .command
            .argv()
            .iter()
            .all(|w| crate::command::is_plain_word(w));
        if plain {
            let (_detected, output) = tokio::join!(
                self.version(),
                self.execute_with_version(request, None, rule)
            );
            // A failed detection is tried again by the next command that
            // needs it; this command's own result stands.
            return output;
        }
        let version = self.version().await?.clone();
        self.execute_with_version(request, Some(version), rule)
            .await
    }

    async fn execute_with_version(
        &self,
        mut request: Request,
        version: Option<DokkuVersion>,
        rule: Limit,
    ) -> Result<Output> {
        request.version = version;
        // Only reads whose input and output can be replayed are retried: a
        // stream may be half consumed, and a write may have happened.
        let retryable = request.command.effect() == Effect::Read
            && matches!(request.stdin, Stdin::Null | Stdin::Bytes(_))
            && matches!(request.stdout, Stdout::Capture)
            && !request.tty;
        if !retryable {
            return self.once(request, rule).await;
        }
        let mut attempt = 0;
        let mut wait = self.inner.retry.backoff;
        loop {
            let again = Request {
                command: request.command.clone(),
                version: request.version.clone(),
                stdin: match &request.stdin {
                    Stdin::Bytes(b) => Stdin::Bytes(b.clone()),
                    _ => Stdin::Null,
                },
                stdout: Stdout::Capture,
                tty: false,
                timeout: request.timeout,
            };
            match self.once(again, rule).await {
                Err(e) if e.is_transport() && attempt < self.inner.retry.retries => {
                    tracing::debug!(command = %request.command, error = %e, attempt, "retrying read after a transport failure");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                    wait = wait.saturating_mul(2);
                }
                other => return other,
            }
        }
    }

    /// One attempt, under the time limit: the request's own, else none for a
    /// terminal session, else the follow timeout for a follow (`rule`), else
    /// the per-call timeout. Dropping the transport's future on timeout is
    /// what stops the command (each transport documents how).
    async fn once(&self, request: Request, rule: Limit) -> Result<Output> {
        let shown = request.command.display();
        let started = std::time::Instant::now();
        let limit = match (request.timeout, request.tty, rule) {
            (Some(t), _, _) => Some(t),
            (None, true, _) => None,
            (None, false, Limit::Follow) => self.inner.follow_timeout,
            (None, false, Limit::Call) => Some(self.inner.timeout),
        };
        let run = self.inner.transport.execute(request);
        let result = match limit {
            Some(limit) => tokio::time::timeout(limit, run)
                .await
                .map_err(|_| Error::Timeout {
                    command: shown.clone(),
                    waited: limit,
                })?,
            None => run.await,
        };
        tracing::debug!(command = %shown, elapsed_ms = started.elapsed().as_millis() as u64, "dokku");
        result
    }

    /// Runs a command with closed stdin and captured output, whatever its exit code.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use dokku_client::Command;
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("apps:report myapp --app-dir", Output::new(0, "/home/dokku/myapp\n", ""))
    ///     .case("config:show ghost", Output::new(20, "", " !     App ghost does not exist\n"));
    /// let client = Client::new(transport);
    /// let out = client.run(Command::read("apps:report").value("myapp").flag("--app-dir")).await?;
    /// assert_eq!(out.stdout_text().trim_end(), "/home/dokku/myapp");
    /// // A failure is an `Output` too: `run` never looks at the exit code.
    /// let out = client.run(Command::read("config:show").value("ghost")).await?;
    /// assert_eq!(out.exit_code, 20);
    /// # Ok(()) }
    /// ```
    pub async fn run(&self, command: Command) -> Result<Output> {
        self.execute(Request::new(command)).await
    }

    /// Runs a command and turns a non-zero exit into a classified [`Error`].
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use dokku_client::{Command, Error};
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("apps:report myapp --app-dir", Output::new(0, "/home/dokku/myapp\n", ""))
    ///     .case("config:show ghost", Output::new(20, "", " !     App ghost does not exist\n"));
    /// let client = Client::new(transport);
    /// let out = client.run_ok(Command::read("apps:report").value("myapp").flag("--app-dir")).await?;
    /// assert_eq!(out.stdout_text().trim_end(), "/home/dokku/myapp");
    /// let err = client.run_ok(Command::read("config:show").value("ghost")).await.unwrap_err();
    /// assert!(matches!(err, Error::AppNotFound { .. }));
    /// # Ok(()) }
    /// ```
    pub async fn run_ok(&self, command: Command) -> Result<Output> {
        let out = self.run(command.clone()).await?;
        if out.success() {
            Ok(out)
        } else {
            Err(self.classify(&command, &out))
        }
    }

    /// Runs a request (streams included) and turns a non-zero exit into a
    /// classified [`Error`].
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use dokku_client::{Command, Request, Stdin};
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("postgres:connect lollipop", Output::new(0, " n \n---\n 1\n(1 row)\n\n", ""))
    ///     .case("postgres:connect ghost", Output::new(1, "", " !     Postgres service ghost does not exist\n"));
    /// let client = Client::new(transport);
    /// let sql = |service: &str| {
    ///     Request::new(Command::write("postgres:connect").value(service))
    ///         .stdin(Stdin::Bytes(b"SELECT 1 AS n;\n".to_vec()))
    /// };
    /// let out = client.execute_ok(sql("lollipop")).await?;
    /// assert!(out.stdout_text().contains("(1 row)"));
    /// assert!(client.execute_ok(sql("ghost")).await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn execute_ok(&self, request: Request) -> Result<Output> {
        let command = request.command.clone();
        let out = self.execute(request).await?;
        if out.success() {
            Ok(out)
        } else {
            Err(self.classify(&command, &out))
        }
    }

    /// Classifies a failed output of `command`.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use dokku_client::{Command, Error};
    /// let client = Client::new(ScriptedTransport::new());
    /// let command = Command::read("config:show").value("ghost");
    /// let output = Output::new(20, "", " !     App ghost does not exist\n");
    /// assert!(matches!(client.classify(&command, &output), Error::AppNotFound { .. }));
    /// # Ok(()) }
    /// ```
    pub fn classify(&self, command: &Command, output: &Output) -> Error {
        match classify(&command.display(), &command.words(), output) {
            Error::NotDokku { message, .. } => Error::NotDokku {
                host: self.target(),
                message,
            },
            other => other,
        }
    }

    /// Closes the transport (connections, control sockets).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("apps:exists myapp", Output::new(0, "", ""));
    /// let client = Client::new(transport);
    /// assert!(client.apps_exists("myapp").await?);
    /// client.close().await?; // ends the SSH master connection, for an SSH transport
    /// # Ok(()) }
    /// ```
    pub async fn close(&self) -> Result<()> {
        self.inner.transport.close().await
    }
}

/// Builds a [`Client`].
#[derive(Debug)]
pub struct ClientBuilder {
    transport: Box<dyn Transport>,
    timeout: Duration,
    stream_timeout: Duration,
    follow_timeout: Option<Duration>,
    retry: RetryPolicy,
    version: Option<DokkuVersion>,
}

impl ClientBuilder {
    /// Sets the per-call timeout (default 120 s).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use std::time::Duration;
    /// let client = Client::builder(ScriptedTransport::new())
    ///     .timeout(Duration::from_secs(30))
    ///     .build();
    /// assert_eq!(client.timeout(), Duration::from_secs(30));
    /// # Ok(()) }
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the time limit of streamed transfers (`postgres:export` to a
    /// file, `postgres:import` from one), which grow with the database
    /// (default 6 hours).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use std::time::Duration;
    /// let client = Client::builder(ScriptedTransport::new())
    ///     .stream_timeout(Duration::from_secs(12 * 3600)) // a large database
    ///     .build();
    /// assert_eq!(client.stream_timeout(), Duration::from_secs(43200));
    /// # Ok(()) }
    /// ```
    pub fn stream_timeout(mut self, timeout: Duration) -> Self {
        self.stream_timeout = timeout;
        self
    }

    /// Sets a time limit on followed logs ([`Client::logs_tail`]), which
    /// otherwise run until the command ends or the call is dropped: a
    /// follow is not bound by the per-call timeout (default: none).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use std::time::Duration;
    /// let client = Client::builder(ScriptedTransport::new())
    ///     .follow_timeout(Duration::from_secs(8 * 3600)) // a work day of logs
    ///     .build();
    /// assert_eq!(client.follow_timeout(), Some(Duration::from_secs(28800)));
    /// # Ok(()) }
    /// ```
    pub fn follow_timeout(mut self, timeout: Duration) -> Self {
        self.follow_timeout = Some(timeout);
        self
    }

    /// Sets the retry policy for reads.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use std::time::Duration;
    /// use dokku_client::RetryPolicy;
    /// // 2 retries by default, 200 ms then 400 ms.
    /// let retry = RetryPolicy::default().retries(5).backoff(Duration::from_millis(500));
    /// // Reads only: writes and streams are never retried.
    /// let client = Client::builder(ScriptedTransport::new()).retry(retry).build();
    /// # let _ = client;
    /// # Ok(()) }
    /// ```
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Skips version detection by stating the version.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use dokku_client::DokkuVersion;
    /// let transport = ScriptedTransport::new().case("apps:exists myapp", Output::new(0, "", ""));
    /// let client = Client::builder(transport.clone())
    ///     .version(DokkuVersion::new(0, 38, 27))
    ///     .build();
    /// assert!(client.apps_exists("myapp").await?);
    /// assert_eq!(transport.requests().len(), 1); // no `version` request
    /// # Ok(()) }
    /// ```
    pub fn version(mut self, version: DokkuVersion) -> Self {
        self.version = Some(version);
        self
    }

    /// Builds the client.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let client = Client::builder(ScriptedTransport::new()).build();
    /// assert_eq!(client.target(), "scripted");
    /// # Ok(()) }
    /// ```
    pub fn build(self) -> Client {
        let version = OnceCell::new_with(self.version);
        Client {
            inner: Arc::new(Inner {
                transport: self.transport,
                version,
                timeout: self.timeout,
                stream_timeout: self.stream_timeout,
                follow_timeout: self.follow_timeout,
                retry: self.retry,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// Fails with a transport error `failures` times, then answers; sleeps
    /// `delay` per call.
    #[derive(Debug)]
    struct Flaky {
        failures: u32,
        calls: Arc<AtomicU32>,
        delay: Duration,
    }

    #[async_trait::async_trait]
    impl Transport for Flaky {
        async fn execute(&self, _request: Request) -> Result<Output> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.delay).await;
            if n < self.failures {
                return Err(Error::Transport {
                    host: "flaky".into(),
                    message: "cut".into(),
                });
            }
            Ok(Output::new(0, "ok", ""))
        }
        fn target(&self) -> String {
            "flaky".into()
        }
    }

    fn flaky(failures: u32, delay: Duration) -> (Client, Arc<AtomicU32>) {
        let calls = Arc::new(AtomicU32::new(0));
        let client = Client::builder(Flaky {
            failures,
            calls: calls.clone(),
            delay,
        })
        .version(DokkuVersion::new(0, 38, 27))
        .retry(RetryPolicy {
            retries: 2,
            backoff: Duration::from_millis(1),
        })
        .timeout(Duration::from_millis(200))
        .build();
        (client, calls)
    }

    #[tokio::test]
    async fn reads_are_retried_after_transport_failures() {
        let (client, calls) = flaky(2, Duration::ZERO);
        assert!(client.run(Command::read("apps:list")).await.is_ok());
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        let (client, calls) = flaky(3, Duration::ZERO);
        assert!(client
            .run(Command::read("apps:list"))
            .await
            .unwrap_err()
            .is_transport());
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_plain_first_command_goes_out_with_the_version_probe() {
        use crate::transport::ScriptedTransport;
        let transport = ScriptedTransport::new()
            .version("0.30.0")
            .case("apps:list", Output::new(0, "=====> My Apps\nweb\n", ""))
            .case("config:get web 'a b'", Output::new(1, "", ""));
        let client = Client::new(transport.clone());
        let out = client.run(Command::read("apps:list")).await.unwrap();
        assert!(out.success());
        let first = transport.requests();
        let names: Vec<&str> = first.iter().map(|r| r.argv[0].as_str()).collect();
        assert!(
            names.contains(&"version") && names.contains(&"apps:list"),
            "{names:?}"
        );
        let list = first.iter().find(|r| r.argv[0] == "apps:list").unwrap();
        assert_eq!(list.version, None, "sent without waiting for the version");
        // A word that needs quoting waits for the version (0.30: quoted for xargs).
        let _ = client
            .run(Command::read("config:get").value("web").value("a b"))
            .await;
        let last = transport.requests().pop().unwrap();
        assert_eq!(last.version.map(|v| v.minor), Some(30));
    }

    #[tokio::test]
    async fn writes_and_streams_are_never_retried() {
        let (client, calls) = flaky(1, Duration::ZERO);
        assert!(client
            .run(Command::write("apps:create").value("a"))
            .await
            .is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let (client, calls) = flaky(1, Duration::ZERO);
        let request = Request::new(Command::read("postgres:export").value("db"))
            .stdout(Stdout::Writer(Box::new(tokio::io::sink())));
        assert!(client.execute(request).await.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn timeouts_apply_per_call_and_can_be_overridden() {
        let (client, _) = flaky(0, Duration::from_millis(400));
        let err = client.run(Command::read("apps:list")).await.unwrap_err();
        match err {
            Error::Timeout { command, waited } => {
                assert_eq!(command, "apps:list");
                assert_eq!(waited, Duration::from_millis(200));
            }
            other => panic!("{other:?}"),
        }
        let request = Request::new(Command::read("apps:list")).timeout(Duration::from_secs(2));
        assert!(client.execute(request).await.is_ok());
        // A terminal session has no limit unless one is given.
        let request = Request::new(Command::write("run").value("a").value("bash")).tty();
        assert!(client.execute(request).await.is_ok());
    }

    #[tokio::test]
    async fn a_followed_log_outlives_the_call_timeout_unless_a_follow_timeout_is_set() {
        // The call timeout is 200 ms; the follow takes 400 ms.
        let (client, calls) = flaky(0, Duration::from_millis(400));
        let options = crate::logs::LogsOptions::default();
        client
            .logs_tail("a", &options, tokio::io::sink())
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // The same stream through `execute` is bound by the call timeout.
        let request = Request::new(crate::logs::logs("a", &options.clone().tail()).unwrap())
            .stdout(Stdout::Writer(Box::new(tokio::io::sink())));
        assert!(matches!(
            client.execute(request).await,
            Err(Error::Timeout { .. })
        ));
        // A follow timeout bounds it.
        let calls = Arc::new(AtomicU32::new(0));
        let bounded = Client::builder(Flaky {
            failures: 0,
            calls,
            delay: Duration::from_millis(400),
        })
        .version(DokkuVersion::new(0, 38, 27))
        .timeout(Duration::from_secs(60))
        .follow_timeout(Duration::from_millis(100))
        .build();
        match bounded.logs_tail("a", &options, tokio::io::sink()).await {
            Err(Error::Timeout { command, waited }) => {
                assert_eq!(command, "logs a --tail");
                assert_eq!(waited, Duration::from_millis(100));
            }
            other => panic!("{other:?}"),
        }
    }
}
