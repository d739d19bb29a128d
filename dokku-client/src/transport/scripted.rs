//! Scripted transport: answers from recorded cases. (Being implemented.)

use crate::error::{Error, Result};
use crate::output::Output;
use crate::transport::{Request, Transport};

/// One recorded case: the command line and its output.
#[derive(Debug, Clone)]
pub struct ScriptedCase {
    /// The `cmd` text.
    pub cmd: String,
    /// The output.
    pub output: Output,
}

/// Answers commands from recorded cases.
#[derive(Debug, Default)]
pub struct ScriptedTransport {
    cases: Vec<ScriptedCase>,
}

#[async_trait::async_trait]
impl Transport for ScriptedTransport {
    async fn execute(&self, _request: Request) -> Result<Output> {
        Err(Error::Config(format!(
            "{} cases; not implemented yet",
            self.cases.len()
        )))
    }

    fn target(&self) -> String {
        "scripted".into()
    }
}
