//! Exit codes, and the one function that maps an error to one.

use dokku_client::Error;
use pix_ops::deploy::DeployOutcome;
use pix_ops::hosts::PerHost;
use pix_ops::push::{PushFailure, PushOutcome};
use pix_ops::OpsError;

/// Success.
pub const OK: i32 = 0;
/// Anything not listed below (a local file that cannot be written, a backup
/// that fails verification).
pub const FAILURE: i32 = 1;
/// Bad usage: an unknown flag, a missing argument, an invalid name, a bad
/// `pix.toml` (clap uses 2 for its own usage errors too).
pub const USAGE: i32 = 2;
/// The app, service, review app or environment does not exist.
pub const NOT_FOUND: i32 = 3;
/// Refused: not confirmed, or a lock is held (app lock, a reset running).
pub const REFUSED: i32 = 4;
/// A Dokku command ran and failed, or the server is not in the state the
/// command needs.
pub const REMOTE: i32 = 5;
/// The server could not be reached (SSH, host key, authentication, timeout).
pub const TRANSPORT: i32 = 6;
/// A deploy's build or predeploy failed (the push was declined; the running
/// version is untouched).
pub const BUILD_FAILED: i32 = 7;
/// git refused a push: the remote branch holds commits the pushed one lacks,
/// or it moved after it was read (`--force-with-lease`).
pub const REJECTED: i32 = 8;
/// `pix remote repair --merge` met conflicts: the merge was aborted and the
/// next steps printed.
pub const CONFLICT: i32 = 9;
/// A deploy stopped before pushing: the remote holds commits `pix deploy`
/// did not make (pushed straight to Dokku) and the deploy would undo them;
/// also `pix remote status --exit-code` when a deploy would stop so.
pub const FOREIGN_COMMITS: i32 = 10;
/// Interrupted with Ctrl-C.
pub const INTERRUPTED: i32 = 130;

/// What went wrong in a command.
#[derive(Debug)]
pub enum Failure {
    /// A workflow or client error.
    Ops(OpsError),
    /// Ctrl-C; the message says how to continue.
    Interrupted(String),
    /// Something asked for is not there (an unset config key).
    NotFound(String),
    /// Already reported (a remote command's own exit code, passed through).
    Exit(i32),
}

impl From<OpsError> for Failure {
    fn from(e: OpsError) -> Self {
        Failure::Ops(e)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Ops(OpsError::Dokku(e))
    }
}

impl Failure {
    /// A local I/O failure while doing `context`.
    pub fn io(context: impl Into<String>, e: std::io::Error) -> Self {
        Failure::Ops(OpsError::io(context, e))
    }

    /// The message shown for this failure (empty for [`Failure::Exit`],
    /// whose reason was already printed).
    pub fn message(&self) -> String {
        match self {
            Failure::Exit(_) => String::new(),
            Failure::Interrupted(m) | Failure::NotFound(m) => m.clone(),
            Failure::Ops(e) => e.to_string(),
        }
    }

    /// A usage error.
    pub fn usage(message: impl Into<String>) -> Self {
        Failure::Ops(OpsError::Usage {
            message: message.into(),
        })
    }
}

/// pix's own next step for a failure, with the real values (the library's
/// messages speak of Dokku and SSH; the commands to type are pix's).
/// `globals` are the global flags the failing command was given that the
/// hint's command needs too (`--config FILE`, `--known-hosts FILE`).
pub fn hint(failure: &Failure, globals: &[String]) -> Option<String> {
    let pix = |rest: &str| {
        let mut words = vec!["pix".to_string()];
        words.extend(globals.iter().cloned());
        words.push(rest.to_string());
        words.join(" ")
    };
    let Failure::Ops(OpsError::Dokku(e)) = failure else {
        return None;
    };
    Some(match e {
        Error::HostKeyUnknown { host, .. } => format!(
            "after checking the fingerprint with the server's administrator, trust it with `{}`",
            pix(&format!("ssh trust-host {host}"))
        ),
        Error::HostKeyMismatch { host, .. } => format!(
            "when it is, run `{}`",
            pix(&format!("ssh trust-host {host} --replace"))
        ),
        Error::Authentication { .. } => {
            "pix uses --key, PIX_SSH_KEY or the host's `key` in pix.toml, else ssh's own keys and agent".into()
        }
        Error::AppNotFound { app, .. } => format!(
            "list apps with `{}`, or create it with `{}`",
            pix("apps list"),
            pix(&format!("apps create {app}"))
        ),
        Error::ServiceNotFound { .. } => format!("list services with `{}`", pix("db list")),
        Error::Locked { app, .. } => format!(
            "with pix: `{}`",
            pix(&format!("apps unlock {app}"))
        ),
        Error::Timeout { .. } => "pix's timeout is set with --timeout or PIX_TIMEOUT (seconds)".into(),
        _ => return None,
    })
}

/// True when the error is a closed stdout (`pix apps list | head -1`): not
/// an error, nothing to report.
pub fn is_broken_pipe(failure: &Failure) -> bool {
    let io = match failure {
        Failure::Ops(OpsError::Io { source, .. }) => source,
        Failure::Ops(OpsError::Dokku(Error::Io { source, .. })) => source,
        _ => return false,
    };
    io.kind() == std::io::ErrorKind::BrokenPipe
}

/// The exit code of a client error.
pub fn dokku_code(e: &Error) -> i32 {
    match e {
        Error::Transport { .. }
        | Error::HostKeyUnknown { .. }
        | Error::HostKeyMismatch { .. }
        | Error::Authentication { .. }
        | Error::NotDokku { .. }
        | Error::Timeout { .. } => TRANSPORT,
        Error::AppNotFound { .. } | Error::ServiceNotFound { .. } => NOT_FOUND,
        Error::Locked { .. } => REFUSED,
        Error::InvalidName { .. } | Error::UnsafeArgument { .. } | Error::Config(_) => USAGE,
        Error::AlreadyExists { .. }
        | Error::CommandFailed { .. }
        | Error::UnsupportedVersion { .. }
        | Error::Parse { .. } => REMOTE,
        Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe => OK,
        Error::Io { source, .. } if source.kind() == std::io::ErrorKind::Interrupted => INTERRUPTED,
        _ => FAILURE,
    }
}

/// The exit code of a deploy's outcome (this CLI's table, not
/// [`DeployOutcome::exit_code`], whose numbers mean other things here):
/// deployed, nothing to deploy and dry run 0, locked [`REFUSED`], build
/// failed [`BUILD_FAILED`], rejected [`REJECTED`].
pub fn deploy_code(outcome: &DeployOutcome) -> i32 {
    match outcome {
        DeployOutcome::Deployed { .. }
        | DeployOutcome::NothingToDeploy { .. }
        | DeployOutcome::DryRun { .. } => OK,
        DeployOutcome::Failed(failure) => push_failure_code(failure),
        DeployOutcome::ForeignCommits { .. } => FOREIGN_COMMITS,
    }
}

/// The exit code of a push's outcome (`pix remote repair`), as
/// [`deploy_code`].
pub fn push_code(outcome: &PushOutcome) -> i32 {
    match outcome {
        PushOutcome::Pushed { .. } | PushOutcome::UpToDate => OK,
        PushOutcome::Failed(failure) => push_failure_code(failure),
    }
}

/// The exit code of a push that did not deploy, a deploy's or a plain
/// push's: build failed [`BUILD_FAILED`], locked [`REFUSED`], rejected
/// [`REJECTED`].
pub fn push_failure_code(failure: &PushFailure) -> i32 {
    match failure {
        PushFailure::BuildFailed { .. } => BUILD_FAILED,
        PushFailure::Locked { .. } => REFUSED,
        PushFailure::Rejected { .. } => REJECTED,
    }
}

/// A non-zero exit code as a failure that was already reported.
pub fn exit_with(code: i32) -> Result<(), Failure> {
    if code == OK {
        Ok(())
    } else {
        Err(Failure::Exit(code))
    }
}

/// The message when Ctrl-C stops a deploy; `pushing`: the push had
/// started.
pub fn interrupted(command: &str, pushing: bool) -> Failure {
    Failure::Interrupted(if pushing {
        format!(
            "interrupted: the push may or may not have reached the server; check with `pix remote status` or run `{command}` again (a deploy always fast-forwards)"
        )
    } else {
        format!("interrupted before anything was pushed; run `{command}` again to deploy")
    })
}

/// The exit code of the first host that failed, if any.
pub fn first_failure_code<T>(results: &[PerHost<T>]) -> Option<i32> {
    results
        .iter()
        .find_map(|r| r.result.as_ref().err().map(ops_code))
}

/// The exit code of any failure.
pub fn code(failure: &Failure) -> i32 {
    match failure {
        Failure::Exit(code) => *code,
        Failure::Interrupted(_) => INTERRUPTED,
        Failure::NotFound(_) => NOT_FOUND,
        Failure::Ops(e) => ops_code(e),
    }
}

/// The exit code of a workflow or client error.
pub fn ops_code(e: &OpsError) -> i32 {
    match e {
        OpsError::Dokku(d) => dokku_code(d),
        OpsError::Config { .. } | OpsError::NoConfig { .. } | OpsError::Usage { .. } => USAGE,
        OpsError::UnknownEnvironment { .. } | OpsError::NotFound { .. } => NOT_FOUND,
        OpsError::Refused { .. } | OpsError::LockHeld { .. } => REFUSED,
        OpsError::Precondition { .. } | OpsError::StepFailed { .. } => REMOTE,
        OpsError::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe => OK,
        OpsError::Io { source, .. } if source.kind() == std::io::ErrorKind::Interrupted => {
            INTERRUPTED
        }
        _ => FAILURE,
    }
}

/// `pix help exit-codes`.
pub const HELP: &str = "\
Exit codes of pix

  0    success (also when the reader of the output went away: `pix apps list | head -1`)
  1    any other failure: a local file that cannot be read or written, a backup that
       fails verification
  2    usage: an unknown flag or command, a missing or invalid argument or name,
       an invalid or missing pix.toml
  3    not found: the app, the service or the review app does not exist on the
       host, the environment is not in pix.toml, or the config key is not set
  4    refused: the confirmation was not given or did not match, or a lock is
       held (the app is locked, another reset of the environment is running)
  5    a Dokku command ran and failed (its message and exit code are printed), or
       the server is not in the state the command needs
  6    the host could not be reached: SSH failed, unknown or changed host key,
       key refused, the login user does not run Dokku, or a command timed out
  7    deploy: the build or the predeploy step failed (the push was declined, the
       running version is untouched; the log tail is printed)
  8    deploy or remote repair: git refused the push (the remote branch holds
       commits yours lacks, or it moved after it was read); see `pix remote status`
  9    remote repair --merge: the merge has conflicts; it was aborted and the next
       steps are printed
  10   deploy (also its --dry-run): stopped before pushing, because the app's remote
       holds commits `pix deploy` did not make (pushed straight to Dokku) and the
       deploy would undo them; they are listed with `pix remote repair ENV --merge`
       (keep them) and `--force` (replace them). `pix remote status --exit-code`:
       a deploy would stop so
  130  interrupted with Ctrl-C (a reset says how to resume it)

`pix deploy` (and `review-app up`) exit 0 when deployed, when there is nothing new
to deploy and after --dry-run; 4 when the app is locked or the protected
environment was not confirmed; 7, 8 and 10 as above.

`pix remote status --exit-code` (for CI, like `git diff --exit-code`) exits 10
when a deploy would stop on foreign commits, else 8 when a push would be
rejected, after printing the table; without it, status exits 0 whatever it
shows.

`pix provision` exits 5 when a step failed (what was done and what was not is
printed; run it again to converge). `pix status --all` and `pix provision` show
every host that answered, then exit with the code of the first host that did
not (6 when it could not be reached). `pix release` exits 5 when a check, a
merge or the push fails, or when the deploy did not happen after the push (a
protected production not confirmed: the message says how to deploy), and as
`pix deploy` once it deploys.

`pix run` and `pix dokku` exit with the remote command's own exit code, and
`pix db connect` with psql's.
";

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::ErrorKind;
    use std::time::Duration;

    fn io(kind: ErrorKind) -> std::io::Error {
        std::io::Error::new(kind, "x")
    }

    /// Every variant of both error types, and the code it must give.
    fn table() -> Vec<(Failure, i32)> {
        let d = |e: Error| Failure::from(e);
        let s = String::new;
        vec![
            (
                d(Error::Transport {
                    host: s(),
                    message: s(),
                }),
                TRANSPORT,
            ),
            (
                d(Error::HostKeyUnknown {
                    host: s(),
                    fingerprint: None,
                }),
                TRANSPORT,
            ),
            (
                d(Error::HostKeyMismatch {
                    host: s(),
                    fingerprint: None,
                }),
                TRANSPORT,
            ),
            (
                d(Error::Authentication {
                    host: s(),
                    user: s(),
                }),
                TRANSPORT,
            ),
            (
                d(Error::NotDokku {
                    host: s(),
                    message: s(),
                }),
                TRANSPORT,
            ),
            (
                d(Error::Timeout {
                    command: s(),
                    waited: Duration::from_secs(1),
                }),
                TRANSPORT,
            ),
            (d(Error::app_not_found(s())), NOT_FOUND),
            (d(Error::service_not_found(s(), s())), NOT_FOUND),
            (
                d(Error::AlreadyExists {
                    what: dokku_client::Existing::App,
                    name: s(),
                    message: s(),
                    command: s(),
                    exit_code: 1,
                }),
                REMOTE,
            ),
            (
                d(Error::Locked {
                    app: s(),
                    message: s(),
                    command: s(),
                    exit_code: 1,
                }),
                REFUSED,
            ),
            (
                d(Error::InvalidName {
                    name: s(),
                    message: s(),
                }),
                USAGE,
            ),
            (
                d(Error::UnsafeArgument {
                    argument: s(),
                    reason: s(),
                }),
                USAGE,
            ),
            (
                d(Error::UnsupportedVersion {
                    version: s(),
                    feature: s(),
                    required: s(),
                }),
                REMOTE,
            ),
            (
                d(Error::Parse {
                    command: s(),
                    message: s(),
                    text: s(),
                }),
                REMOTE,
            ),
            (
                d(Error::CommandFailed {
                    command: s(),
                    exit_code: 1,
                    messages: vec![],
                }),
                REMOTE,
            ),
            (
                d(Error::Io {
                    context: s(),
                    source: io(ErrorKind::Other),
                }),
                FAILURE,
            ),
            (
                d(Error::Io {
                    context: s(),
                    source: io(ErrorKind::BrokenPipe),
                }),
                OK,
            ),
            (d(Error::Config(s())), USAGE),
            (
                OpsError::Config {
                    path: "p".into(),
                    message: s(),
                }
                .into(),
                USAGE,
            ),
            (
                OpsError::NoConfig {
                    searched_from: "/".into(),
                }
                .into(),
                USAGE,
            ),
            (
                OpsError::UnknownEnvironment {
                    name: s(),
                    known: vec![],
                }
                .into(),
                NOT_FOUND,
            ),
            (OpsError::NotFound { message: s() }.into(), NOT_FOUND),
            (OpsError::Refused { message: s() }.into(), REFUSED),
            (OpsError::LockHeld { message: s() }.into(), REFUSED),
            (OpsError::Precondition { message: s() }.into(), REMOTE),
            (OpsError::Backup { message: s() }.into(), FAILURE),
            (OpsError::StepFailed { message: s() }.into(), REMOTE),
            (OpsError::Usage { message: s() }.into(), USAGE),
            (OpsError::io("x", io(ErrorKind::Other)).into(), FAILURE),
            (OpsError::io("x", io(ErrorKind::BrokenPipe)).into(), OK),
            (
                OpsError::io("x", io(ErrorKind::Interrupted)).into(),
                INTERRUPTED,
            ),
            (Failure::Interrupted(s()), INTERRUPTED),
            (Failure::NotFound(s()), NOT_FOUND),
            (Failure::Exit(42), 42),
        ]
    }

    #[test]
    fn every_error_has_its_code() {
        for (failure, expected) in table() {
            assert_eq!(code(&failure), expected, "{failure:?}");
        }
    }

    #[test]
    fn broken_pipes_are_recognised() {
        assert!(is_broken_pipe(
            &OpsError::io("w", io(ErrorKind::BrokenPipe)).into()
        ));
        assert!(is_broken_pipe(&Failure::from(Error::Io {
            context: "w".into(),
            source: io(ErrorKind::BrokenPipe)
        })));
        assert!(!is_broken_pipe(
            &OpsError::io("w", io(ErrorKind::Other)).into()
        ));
    }

    #[test]
    fn the_help_lists_every_code() {
        for c in [
            OK,
            FAILURE,
            USAGE,
            NOT_FOUND,
            REFUSED,
            REMOTE,
            TRANSPORT,
            BUILD_FAILED,
            REJECTED,
            CONFLICT,
            FOREIGN_COMMITS,
            INTERRUPTED,
        ] {
            assert!(HELP.contains(&format!("\n  {c} ")), "{c}");
        }
    }

    #[test]
    fn deploy_and_push_outcomes_have_their_codes() {
        let s = String::new;
        for (outcome, want) in [
            (
                DeployOutcome::Deployed {
                    urls: vec![],
                    commit: s(),
                },
                OK,
            ),
            (DeployOutcome::NothingToDeploy { commit: s() }, OK),
            (DeployOutcome::DryRun { commit: s() }, OK),
            (
                DeployOutcome::Failed(PushFailure::BuildFailed { log_tail: vec![] }),
                BUILD_FAILED,
            ),
            (
                DeployOutcome::Failed(PushFailure::Locked { message: s() }),
                REFUSED,
            ),
            (
                DeployOutcome::Failed(PushFailure::Rejected { reason: s() }),
                REJECTED,
            ),
            (
                DeployOutcome::ForeignCommits {
                    remote_tip: s(),
                    commits: vec![],
                    count: 1,
                    repair: vec![],
                },
                FOREIGN_COMMITS,
            ),
        ] {
            assert_eq!(deploy_code(&outcome), want, "{outcome:?}");
        }
        for (outcome, want) in [
            (PushOutcome::Pushed { urls: vec![] }, OK),
            (PushOutcome::UpToDate, OK),
            (
                PushOutcome::Failed(PushFailure::BuildFailed { log_tail: vec![] }),
                BUILD_FAILED,
            ),
            (
                PushOutcome::Failed(PushFailure::Locked { message: s() }),
                REFUSED,
            ),
            (
                PushOutcome::Failed(PushFailure::Rejected { reason: s() }),
                REJECTED,
            ),
        ] {
            assert_eq!(push_code(&outcome), want, "{outcome:?}");
        }
        // No two meanings share a number.
        let mut all = vec![
            OK,
            FAILURE,
            USAGE,
            NOT_FOUND,
            REFUSED,
            REMOTE,
            TRANSPORT,
            BUILD_FAILED,
            REJECTED,
            CONFLICT,
            FOREIGN_COMMITS,
            INTERRUPTED,
        ];
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n);
    }
}
