//! The workflows' error type.

use std::path::PathBuf;

/// Everything a workflow can fail with. Each message says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpsError {
    /// A Dokku command or the connection failed.
    #[error(transparent)]
    Dokku(#[from] dokku_client::Error),
    /// `pix.toml` is invalid.
    #[error("{}: {message}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// No `pix.toml` was found.
    #[error("no pix.toml found in {} or any parent folder; create one (see the repository's pix.toml) or pass --config", searched_from.display())]
    NoConfig {
        /// Where the search started.
        searched_from: PathBuf,
    },
    /// The environment is not in `pix.toml`.
    #[error("unknown environment `{name}`; pix.toml defines: {}", known.join(", "))]
    UnknownEnvironment {
        /// The name asked for.
        name: String,
        /// The names defined.
        known: Vec<String>,
    },
    /// The user did not confirm, or confirmation was impossible.
    #[error("{message}")]
    Refused {
        /// Why, and how to proceed.
        message: String,
    },
    /// Another operation holds the lock.
    #[error("{message}")]
    LockHeld {
        /// Who holds it and what to do.
        message: String,
    },
    /// What the command names (a review app, a release) is not there.
    #[error("{message}")]
    NotFound {
        /// What is missing and what to do.
        message: String,
    },
    /// The server is not in the state the workflow needs.
    #[error("{message}")]
    Precondition {
        /// What is wrong and what to do.
        message: String,
    },
    /// A backup could not be made or verified.
    #[error("backup failed: {message}")]
    Backup {
        /// What happened.
        message: String,
    },
    /// A step failed; the workflow restored what it could.
    #[error("{message}")]
    StepFailed {
        /// What failed, what was restored, where the backup is.
        message: String,
    },
    /// Bad usage.
    #[error("{message}")]
    Usage {
        /// What was wrong.
        message: String,
    },
    /// Local I/O.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl OpsError {
    /// Wraps an I/O error.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        OpsError::Io {
            context: context.into(),
            source,
        }
    }
}

/// Result alias.
pub type Result<T, E = OpsError> = std::result::Result<T, E>;
