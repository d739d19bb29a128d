//! The one error type of the crate, and the classification of a failed command.
//!
//! Classification follows the reference's rule: **exit code first, then stderr**.
//! `exists`/`locked`/`linked` style questions never reach this module with a
//! "no" answer: their typed methods turn exit 1 (or 20) into `Ok(false)`.

use std::time::Duration;

use serde::Serialize;

use crate::output::Output;

/// Everything that can go wrong talking to Dokku.
///
/// Every variant carries the data needed to act on it, and its `Display`
/// text says what to do next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The SSH transport failed (ssh exited 255, the connection dropped, the
    /// mux master died).
    #[error(
        "could not reach Dokku at {host}: {message}. Check that the host is up and that `{}` works",
        ssh_probe(host)
    )]
    Transport {
        /// `user@host:port` as the client was configured.
        host: String,
        /// What ssh or the socket said.
        message: String,
    },
    /// The server's host key is not in the known_hosts file.
    #[error("the host key of {host} is not known{}. Verify it out of band, then record it in the known_hosts file on purpose", fingerprint.as_deref().map(|f| format!(" (it presents {f})")).unwrap_or_default())]
    HostKeyUnknown {
        /// The host.
        host: String,
        /// The fingerprint the server presented, when known.
        fingerprint: Option<String>,
    },
    /// The server presented a host key that differs from the pinned or known one.
    #[error("the host key of {host} does not match the one on record{}. This may be an attack or a rebuilt server: verify the new key out of band before replacing the recorded one", fingerprint.as_deref().map(|f| format!(" (it presents {f})")).unwrap_or_default())]
    HostKeyMismatch {
        /// The host.
        host: String,
        /// The fingerprint the server presented, when known.
        fingerprint: Option<String>,
    },
    /// The server refused our key.
    #[error("{user}@{host} refused the SSH key. Check the key the client was given and that it was added on the server with `dokku ssh-keys:add`")]
    Authentication {
        /// The host.
        host: String,
        /// The login user.
        user: String,
    },
    /// The login user does not run Dokku (exit 127 from the forced command or shell).
    #[error("{host} did not run Dokku: {message}. Log in as the `dokku` user, or use the shell-user mode with the right `dokku` path")]
    NotDokku {
        /// The host.
        host: String,
        /// What the server printed.
        message: String,
    },
    /// The app does not exist (Dokku exits 20 since 0.24.0, 1 before).
    #[error("app {app} does not exist on this Dokku host")]
    AppNotFound {
        /// The app name.
        app: String,
        /// The command that said so (secrets redacted), when one did.
        command: Option<String>,
        /// Its exit code, when a command said so.
        exit_code: Option<i32>,
    },
    /// A service (e.g. a Postgres service) does not exist.
    #[error("{plugin} service {service} does not exist on this Dokku host")]
    ServiceNotFound {
        /// The plugin (`Postgres`).
        plugin: String,
        /// The service name.
        service: String,
        /// The command that said so (secrets redacted), when one did.
        command: Option<String>,
        /// Its exit code, when a command said so.
        exit_code: Option<i32>,
    },
    /// The thing to create already exists.
    #[error("{what} {name} already exists: {message}")]
    AlreadyExists {
        /// What kind of thing.
        what: Existing,
        /// Its name.
        name: String,
        /// Dokku's message.
        message: String,
        /// The command (secrets redacted).
        command: String,
        /// Its exit code.
        exit_code: i32,
    },
    /// The app is locked (a deploy lock, or `apps:lock`).
    #[error("app {app} is locked: {message}. Wait for the running deploy, or release the lock (`dokku apps:unlock {app}`) if you are sure none runs")]
    Locked {
        /// The app.
        app: String,
        /// Dokku's message.
        message: String,
        /// The command (secrets redacted).
        command: String,
        /// Its exit code.
        exit_code: i32,
    },
    /// A name (app, service, config key) is not valid.
    #[error("invalid name {name:?}: {message}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// Why it is invalid and what is allowed.
        message: String,
    },
    /// An argument cannot be sent safely to this server.
    #[error("refusing to send argument {argument:?}: {reason}")]
    UnsafeArgument {
        /// The argument, with control characters escaped.
        argument: String,
        /// Why, and what to do instead.
        reason: String,
    },
    /// The command did not finish in time; the remote process was stopped.
    #[error("`{command}` did not finish within {waited:?}; the remote command was stopped. Raise the client's timeout if the server is just slow")]
    Timeout {
        /// The command (secrets redacted).
        command: String,
        /// How long the client waited.
        waited: Duration,
    },
    /// The server's Dokku version cannot do what was asked.
    #[error("Dokku {version} does not support {feature} (needs {required}). Upgrade Dokku or avoid this command")]
    UnsupportedVersion {
        /// The server version.
        version: String,
        /// What was asked.
        feature: String,
        /// The version that has it.
        required: String,
    },
    /// The output did not have the shape the parser expects.
    #[error("could not parse the output of `{command}`: {message}")]
    Parse {
        /// The command.
        command: String,
        /// What was wrong.
        message: String,
        /// The text that did not parse (truncated).
        text: String,
    },
    /// The command ran and failed.
    #[error("`{command}` failed with exit code {exit_code}{}", if messages.is_empty() { String::new() } else { format!(": {}", messages.join(" / ")) })]
    CommandFailed {
        /// The command (secrets redacted).
        command: String,
        /// Its exit code.
        exit_code: i32,
        /// Its stderr lines without the ` !     ` prefix.
        messages: Vec<String>,
    },
    /// A local I/O operation failed (a backup file, a pipe).
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The client was configured wrongly.
    #[error("invalid client configuration: {0}")]
    Config(String),
}

impl Error {
    /// What kind of error this is (stable; its `Display` is the snake_case
    /// name used in JSON output).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Transport { .. } => ErrorKind::Transport,
            Error::HostKeyUnknown { .. } => ErrorKind::HostKeyUnknown,
            Error::HostKeyMismatch { .. } => ErrorKind::HostKeyMismatch,
            Error::Authentication { .. } => ErrorKind::Authentication,
            Error::NotDokku { .. } => ErrorKind::NotDokku,
            Error::AppNotFound { .. } => ErrorKind::AppNotFound,
            Error::ServiceNotFound { .. } => ErrorKind::ServiceNotFound,
            Error::AlreadyExists { .. } => ErrorKind::AlreadyExists,
            Error::Locked { .. } => ErrorKind::Locked,
            Error::InvalidName { .. } => ErrorKind::InvalidName,
            Error::UnsafeArgument { .. } => ErrorKind::UnsafeArgument,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::UnsupportedVersion { .. } => ErrorKind::UnsupportedVersion,
            Error::Parse { .. } => ErrorKind::Parse,
            Error::CommandFailed { .. } => ErrorKind::CommandFailed,
            Error::Io { .. } => ErrorKind::Io,
            Error::Config(_) => ErrorKind::Config,
        }
    }

    /// The remote exit code, when the error comes from a command that ran
    /// (the server's own: an app missing on 0.19 is 1, on 0.38 20).
    pub fn exit_code(&self) -> Option<i32> {
        match self {
            Error::AppNotFound { exit_code, .. } | Error::ServiceNotFound { exit_code, .. } => {
                *exit_code
            }
            Error::AlreadyExists { exit_code, .. }
            | Error::Locked { exit_code, .. }
            | Error::CommandFailed { exit_code, .. } => Some(*exit_code),
            _ => None,
        }
    }

    /// The command that failed (secrets redacted), when one ran.
    pub fn command(&self) -> Option<&str> {
        match self {
            Error::AppNotFound { command, .. } | Error::ServiceNotFound { command, .. } => {
                command.as_deref()
            }
            Error::AlreadyExists { command, .. }
            | Error::Locked { command, .. }
            | Error::CommandFailed { command, .. }
            | Error::Timeout { command, .. }
            | Error::Parse { command, .. } => Some(command),
            _ => None,
        }
    }

    /// An app that does not exist, found out without a failed command (an
    /// `apps:exists` that said no).
    pub fn app_not_found(app: impl Into<String>) -> Self {
        Error::AppNotFound {
            app: app.into(),
            command: None,
            exit_code: None,
        }
    }

    /// A service that does not exist, found out without a failed command.
    pub fn service_not_found(plugin: impl Into<String>, service: impl Into<String>) -> Self {
        Error::ServiceNotFound {
            plugin: plugin.into(),
            service: service.into(),
            command: None,
            exit_code: None,
        }
    }

    /// True for failures of the connection itself, which are safe to retry
    /// for reads (never for writes).
    pub fn is_transport(&self) -> bool {
        matches!(self, Error::Transport { .. })
    }

    /// Wraps an I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// A serializable summary `{kind, message, exit_code}`.
    pub fn summary(&self) -> ErrorSummary {
        ErrorSummary {
            kind: self.kind(),
            message: self.to_string(),
            exit_code: self.exit_code(),
        }
    }
}

/// What kind of error an [`Error`] is: one per variant, for callers that
/// branch on it or report it (`Display` and JSON: the snake_case name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`Error::Transport`].
    Transport,
    /// [`Error::HostKeyUnknown`].
    HostKeyUnknown,
    /// [`Error::HostKeyMismatch`].
    HostKeyMismatch,
    /// [`Error::Authentication`].
    Authentication,
    /// [`Error::NotDokku`].
    NotDokku,
    /// [`Error::AppNotFound`].
    AppNotFound,
    /// [`Error::ServiceNotFound`].
    ServiceNotFound,
    /// [`Error::AlreadyExists`].
    AlreadyExists,
    /// [`Error::Locked`].
    Locked,
    /// [`Error::InvalidName`].
    InvalidName,
    /// [`Error::UnsafeArgument`].
    UnsafeArgument,
    /// [`Error::Timeout`].
    Timeout,
    /// [`Error::UnsupportedVersion`].
    UnsupportedVersion,
    /// [`Error::Parse`].
    Parse,
    /// [`Error::CommandFailed`].
    CommandFailed,
    /// [`Error::Io`].
    Io,
    /// [`Error::Config`].
    Config,
}

impl ErrorKind {
    /// The snake_case name (`app_not_found`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Transport => "transport",
            ErrorKind::HostKeyUnknown => "host_key_unknown",
            ErrorKind::HostKeyMismatch => "host_key_mismatch",
            ErrorKind::Authentication => "authentication",
            ErrorKind::NotDokku => "not_dokku",
            ErrorKind::AppNotFound => "app_not_found",
            ErrorKind::ServiceNotFound => "service_not_found",
            ErrorKind::AlreadyExists => "already_exists",
            ErrorKind::Locked => "locked",
            ErrorKind::InvalidName => "invalid_name",
            ErrorKind::UnsafeArgument => "unsafe_argument",
            ErrorKind::Timeout => "timeout",
            ErrorKind::UnsupportedVersion => "unsupported_version",
            ErrorKind::Parse => "parse",
            ErrorKind::CommandFailed => "command_failed",
            ErrorKind::Io => "io",
            ErrorKind::Config => "config",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// What already exists, in an [`Error::AlreadyExists`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Existing {
    /// An app (`apps:create`: "Name is already taken").
    App,
    /// A service (`postgres:create`).
    Service,
    /// A link between a service and an app (`postgres:link`).
    Link,
}

impl std::fmt::Display for Existing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Existing::App => "app",
            Existing::Service => "service",
            Existing::Link => "link",
        })
    }
}

/// The JSON shape of an error: `{"kind", "message", "exit_code"}`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorSummary {
    /// [`Error::kind`].
    pub kind: ErrorKind,
    /// The `Display` text.
    pub message: String,
    /// The remote exit code, if any.
    pub exit_code: Option<i32>,
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Classifies a failed command: exit code first, then stderr.
///
/// `command` is the display form of the command (secrets redacted), `args` its
/// argument list (`name` first) used to recover the app or service name.
pub fn classify(command: &str, args: &[String], output: &Output) -> Error {
    let messages = output.stderr_messages();
    // Deploy output is captured onto stdout under build capture: look there too.
    let stdout_messages = output.stdout_messages();
    let all = || messages.iter().chain(stdout_messages.iter());
    let first_word = args.first().map(String::as_str).unwrap_or("");

    if output.exit_code == 20 {
        if let Some(app) = all().find_map(|m| app_from_missing(m)) {
            return Error::AppNotFound {
                app,
                command: Some(command.to_string()),
                exit_code: Some(output.exit_code),
            };
        }
    }
    if output.exit_code == 127 {
        return Error::NotDokku {
            host: String::new(),
            message: messages.join(" / "),
        };
    }
    for m in all() {
        if let Some(app) = app_from_missing(m) {
            return Error::AppNotFound {
                app,
                command: Some(command.to_string()),
                exit_code: Some(output.exit_code),
            };
        }
        if let Some((plugin, service)) = service_from_missing(m) {
            return Error::ServiceNotFound {
                plugin,
                service,
                command: Some(command.to_string()),
                exit_code: Some(output.exit_code),
            };
        }
        if m.contains("currently has a deploy lock in place") {
            let app = m
                .split_whitespace()
                .find(|w| !w.is_empty() && *w != "!")
                .unwrap_or_default()
                .to_string();
            return Error::Locked {
                app,
                message: m.trim().to_string(),
                command: command.to_string(),
                exit_code: output.exit_code,
            };
        }
        if m == "Name is already taken" {
            return Error::AlreadyExists {
                what: Existing::App,
                name: args.get(1).cloned().unwrap_or_default(),
                message: m.clone(),
                command: command.to_string(),
                exit_code: output.exit_code,
            };
        }
        if m.ends_with("already exists") && m.contains("service") {
            return Error::AlreadyExists {
                what: Existing::Service,
                name: args.get(1).cloned().unwrap_or_default(),
                message: m.clone(),
                command: command.to_string(),
                exit_code: output.exit_code,
            };
        }
        if m.starts_with("Already linked as") {
            return Error::AlreadyExists {
                what: Existing::Link,
                name: args.get(1).cloned().unwrap_or_default(),
                message: m.clone(),
                command: command.to_string(),
                exit_code: output.exit_code,
            };
        }
        if m.starts_with("App name must begin with")
            || m.starts_with("Invalid key name")
            || m.starts_with("Please specify a valid name")
        {
            let name = if first_word.starts_with("config") {
                m.split('\'').nth(1).unwrap_or_default().to_string()
            } else {
                args.get(1).cloned().unwrap_or_default()
            };
            return Error::InvalidName {
                name,
                message: m.clone(),
            };
        }
    }
    Error::CommandFailed {
        command: command.to_string(),
        exit_code: output.exit_code,
        messages,
    }
}

/// `ssh -p PORT USER@HOST version` for a `user@host[:port]` target, the
/// command that shows whether the host answers (pure).
fn ssh_probe(target: &str) -> String {
    match target.rsplit_once(':') {
        Some((login, port))
            if !login.contains(':')
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            format!("ssh -p {port} {login} version")
        }
        _ => format!("ssh {target} version"),
    }
}

/// `App <app> does not exist` → `<app>`; also the Go plugins' form before
/// 0.22 (`FAILED: app <app> does not exist`, `plugins/common/common.go`
/// `VerifyAppName` at v0.19.13).
fn app_from_missing(message: &str) -> Option<String> {
    let message = message.trim();
    let message = message.strip_prefix("FAILED: ").unwrap_or(message);
    let rest = message
        .strip_prefix("App ")
        .or_else(|| message.strip_prefix("app "))?;
    let app = rest.strip_suffix(" does not exist")?;
    // What a server wrote is shown to people: no control characters.
    (!app.is_empty() && !app.contains(' ')).then(|| crate::command::escape_control(app))
}

/// `Postgres service <svc> does not exist` → `("Postgres", svc)`.
fn service_from_missing(message: &str) -> Option<(String, String)> {
    let rest = message.trim().strip_suffix(" does not exist")?;
    let (plugin, service) = rest.split_once(" service ")?;
    (!plugin.contains(' ') && !service.contains(' ')).then(|| {
        (
            crate::command::escape_control(plugin),
            crate::command::escape_control(service),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(code: i32, stderr: &str) -> Output {
        Output {
            exit_code: code,
            stdout: Vec::new(),
            stderr: stderr.as_bytes().to_vec(),
        }
    }

    fn check(code: i32, stderr: &str, args: &[&str], kind: &str) {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let err = classify("cmd", &args, &out(code, stderr));
        assert_eq!(err.kind(), kind, "{err}");
    }

    #[test]
    fn the_transport_hint_names_the_real_host() {
        let e = Error::Transport {
            host: "dokku@10.0.0.5:2222".into(),
            message: "Connection refused".into(),
        };
        assert!(
            e.to_string()
                .ends_with("`ssh -p 2222 dokku@10.0.0.5 version` works"),
            "{e}"
        );
        assert_eq!(
            ssh_probe("dokku@example.com"),
            "ssh dokku@example.com version"
        );
    }

    #[test]
    fn classifies_by_exit_code_then_stderr() {
        check(
            20,
            " !     App nope does not exist\n",
            &["apps:exists", "nope"],
            "app_not_found",
        );
        check(
            1,
            "App nope does not exist\n",
            &["apps:exists", "nope"],
            "app_not_found",
        );
        // 0.19's Go config plugin through `xargs $0` (exit 123).
        check(
            123,
            "FAILED: app nope does not exist\n",
            &["config:get", "nope", "K"],
            "app_not_found",
        );
        check(
            1,
            " !     Postgres service db does not exist\n",
            &["postgres:info", "db"],
            "service_not_found",
        );
        check(
            1,
            " !     Name is already taken\n",
            &["apps:create", "a"],
            "already_exists",
        );
        check(
            1,
            " !     Postgres service db already exists\n",
            &["postgres:create", "db"],
            "already_exists",
        );
        check(
            1,
            " !     Invalid key name: 'FOO-BAR'\n",
            &["config:set", "a", "FOO-BAR=1"],
            "invalid_name",
        );
        check(
            1,
            " !     myapp currently has a deploy lock in place. Exiting...\n",
            &["ps:rebuild", "myapp"],
            "locked",
        );
        check(127, "sh: 1: dokku: not found\n", &["version"], "not_dokku");
        check(1, " !     something else\n", &["x"], "command_failed");
    }

    #[test]
    fn command_failed_keeps_messages_without_prefix() {
        let err = classify("x", &["x".into()], &out(3, " !     one\ntwo\n"));
        match err {
            Error::CommandFailed {
                exit_code,
                messages,
                ..
            } => {
                assert_eq!(exit_code, 3);
                assert_eq!(messages, vec!["one".to_string(), "two".to_string()]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
