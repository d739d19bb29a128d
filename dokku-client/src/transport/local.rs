//! Local transport: runs `dokku` on this machine. (Being implemented.)

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::output::Output;
use crate::transport::{Request, Transport};

/// Runs the `dokku` binary locally (on the server itself).
#[derive(Debug, Clone)]
pub struct LocalTransport {
    /// Path of the `dokku` binary.
    pub dokku_path: PathBuf,
}

#[async_trait::async_trait]
impl Transport for LocalTransport {
    async fn execute(&self, _request: Request) -> Result<Output> {
        Err(Error::Config("local transport not implemented yet".into()))
    }

    fn target(&self) -> String {
        "local".into()
    }
}
