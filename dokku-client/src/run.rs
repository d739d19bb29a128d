//! `run`: one-off commands in an app container, captured or interactive.

use crate::apps::validate_app_name;
use crate::command::Command;
use crate::error::{Error, Result};
use crate::output::Output;
use crate::transport::{Request, Stdin, Stdout};
use crate::Client;

/// Options of `run`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// `--env K=V` pairs (never `-e`, which echo eats over SSH).
    pub env: Vec<(String, String)>,
}

/// `run [--env K=V]... <app> <cmd...>`.
pub fn run_command(app: &str, command: &[&str], options: &RunOptions) -> Result<Command> {
    validate_app_name(app)?;
    if command.is_empty() {
        return Err(Error::Config("run needs a command to run".into()));
    }
    let mut cmd = Command::write("run");
    for (k, v) in &options.env {
        crate::config::validate_config_key(k)?;
        cmd = cmd.flag("--env").secret(format!("{k}={v}"));
    }
    Ok(cmd.value(app).values(command.iter().copied()))
}

impl Client {
    /// Runs a command in a new container and returns its output and exit
    /// code (the container's), whatever the exit code.
    pub async fn run_in_app(
        &self,
        app: &str,
        command: &[&str],
        options: &RunOptions,
    ) -> Result<Output> {
        self.run(run_command(app, command, options)?).await
    }

    /// Runs a command interactively, with a terminal and this process's
    /// stdin and stdout. Returns the exit code.
    pub async fn run_interactive(
        &self,
        app: &str,
        command: &[&str],
        options: &RunOptions,
    ) -> Result<i32> {
        let req = Request::new(run_command(app, command, options)?)
            .tty(true)
            .stdin(Stdin::Inherit)
            .stdout(Stdout::Inherit);
        Ok(self.execute(req).await?.exit_code)
    }
}

/// `run:detached <app> <cmd...>`.
pub fn run_detached_command(app: &str, command: &[&str]) -> Result<Command> {
    validate_app_name(app)?;
    if command.is_empty() {
        return Err(Error::Config("run:detached needs a command to run".into()));
    }
    Ok(Command::write("run:detached")
        .value(app)
        .values(command.iter().copied()))
}

impl Client {
    /// Starts a command in a detached container; returns its name
    /// (`<app>.run.<n>`).
    pub async fn run_detached(&self, app: &str, command: &[&str]) -> Result<String> {
        let out = self.run_ok(run_detached_command(app, command)?).await?;
        Ok(crate::parse::lines_of(&out.stdout_text())
            .into_iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_command_keeps_words() {
        let cmd = run_command(
            "a",
            &["echo", "two words", "-n"],
            &RunOptions {
                env: vec![("K".into(), "v".into())],
            },
        )
        .unwrap();
        assert_eq!(
            cmd.argv(),
            vec!["run", "--env", "K=v", "a", "echo", "two words", "-n"]
        );
        assert!(cmd.display().contains("***"));
        assert!(run_command("a", &[], &RunOptions::default()).is_err());
    }
}
