//! `run`: one-off commands in an app container, captured or interactive.
//!
//! # What the program receives
//!
//! Dokku does not hand `run`'s words to the program as an argument vector.
//! Over SSH they are split twice (reference §3.1: a whitespace first pass
//! whose `parse_args` reads `--app`, `--force`, `--quiet` and `--trace` from
//! every piece, then `xargs`), and in a container built by herokuish (Dokku's
//! default builder, and PIX's) the entry point `/exec` runs
//! `exec $(eval echo "$@")` (herokuish `include/procfile.bash`,
//! `procfile-exec`): the words are joined, evaluated by bash (so `$(...)`,
//! `;`, `>` and quotes act), echoed, then split on whitespace and globbed
//! again. Quoting each word cannot survive that last split.
//!
//! So [`RunCommand`] is never sent as typed. [`container_words`] turns it into
//! three words, `/bin/sh -c SCRIPT`, where `SCRIPT` is
//! `eval${IFS}"$(printf${IFS}%b${IFS}PAYLOAD)"` and `PAYLOAD` is the real
//! script (`exec 'PROG' 'ARG'...`, each word single-quoted for POSIX sh, or
//! the shell line as given) with every byte that is not an ASCII letter or
//! digit written as a `\0ooo` octal escape. That word has no whitespace, no
//! glob character, no quote Dokku's `xargs` would read and no `--` for its
//! `parse_args` to find, so it arrives intact under every split rule (0.19,
//! 0.30, 0.38); the container's `/bin/sh` decodes it with its own `printf`
//! builtin and evaluates it, and `exec` passes the program's exit code
//! through. For herokuish the script word is single-quoted once more for
//! `/exec`'s `eval` ([`ContainerEntry::Herokuish`]); an image that runs its
//! arguments directly (a Dockerfile build without an `ENTRYPOINT`) takes it
//! bare ([`ContainerEntry::Direct`]).
//!
//! ```
//! use dokku_client::run::{run_command, RunCommand, RunOptions};
//! let cmd = run_command("api", &RunCommand::argv(["echo", "it's $(id)"]), &RunOptions::default())?;
//! let argv = cmd.argv();
//! assert_eq!(argv[..4], ["run", "api", "/bin/sh", "-c"]);
//! // Nothing of the value is left for Dokku or a shell to read on the way.
//! assert!(!argv[4].contains(' ') && !argv[4].contains("$(id)"));
//! # Ok::<(), dokku_client::Error>(())
//! ```

use crate::command::{escape_control, single_quote, Command};
use crate::error::{Error, Result};
use crate::names::validate_app_name;
use crate::output::Output;
use crate::transport::{Request, Stdin, Stdout};
use crate::Client;

/// What to run in the container.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunCommand {
    /// A program and its arguments: the program receives exactly these
    /// words, byte for byte (`pix run APP -- PROG ARG...`).
    Argv(Vec<String>),
    /// A line for the container's POSIX shell, which interprets it
    /// (`$VAR`, pipes, `&&`), as `heroku run 'LINE'` does
    /// (`pix run APP --shell 'LINE'`).
    Shell(String),
}

impl RunCommand {
    /// A program and its arguments, received byte for byte.
    pub fn argv<I, S>(words: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        RunCommand::Argv(words.into_iter().map(Into::into).collect())
    }

    /// A line the container's shell interprets.
    pub fn shell(line: impl Into<String>) -> Self {
        RunCommand::Shell(line.into())
    }

    /// The command as a person would type it in the container, for
    /// messages: argv words single-quoted where needed, control characters
    /// escaped.
    pub fn display(&self) -> String {
        match self {
            RunCommand::Argv(words) => words
                .iter()
                .map(|w| {
                    if crate::command::is_plain_word(w) {
                        w.clone()
                    } else {
                        escape_control(&single_quote(w))
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
            RunCommand::Shell(line) => escape_control(line),
        }
    }
}

/// How the app's container starts the command it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ContainerEntry {
    /// herokuish's `/exec` (`exec $(eval echo "$@")`): images built from
    /// buildpacks by Dokku's default builder. The default.
    #[default]
    Herokuish,
    /// The arguments are the process's argv (a Dockerfile image without an
    /// `ENTRYPOINT`, or one whose entry point execs `"$@"`).
    Direct,
}

/// Options of `run`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunOptions {
    /// Environment variables for the command, set by the container's shell
    /// before it runs (so their values arrive byte for byte too).
    pub env: Vec<(String, String)>,
    /// How the container starts the command.
    pub entry: ContainerEntry,
}

impl RunOptions {
    /// Adds an environment variable.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Sets how the container starts the command.
    pub fn entry(mut self, entry: ContainerEntry) -> Self {
        self.entry = entry;
        self
    }
}

/// The script the container's `/bin/sh` evaluates for `command` (pure):
/// `K='v'; export K;` for each variable, then `exec 'PROG' 'ARG'...` or the
/// shell line.
pub fn container_script(command: &RunCommand, options: &RunOptions) -> Result<String> {
    let mut script = String::new();
    for (k, v) in &options.env {
        crate::config::validate_config_key(k)?;
        refuse_nul(v, "an environment value")?;
        script.push_str(&format!("{k}={}; export {k}; ", single_quote(v)));
    }
    match command {
        RunCommand::Argv(words) => {
            if words.is_empty() {
                return Err(Error::Config(
                    "run needs a program to run (RunCommand::Argv was empty)".into(),
                ));
            }
            script.push_str("exec");
            for w in words {
                refuse_nul(w, "a word")?;
                script.push(' ');
                script.push_str(&single_quote(w));
            }
        }
        RunCommand::Shell(line) => {
            if line.trim().is_empty() {
                return Err(Error::Config(
                    "run needs a shell line to run (RunCommand::Shell was empty)".into(),
                ));
            }
            refuse_nul(line, "the shell line")?;
            script.push_str(line);
        }
    }
    Ok(script)
}

fn refuse_nul(text: &str, what: &str) -> Result<()> {
    if text.contains('\0') {
        return Err(Error::UnsafeArgument {
            argument: escape_control(text),
            reason: format!(
                "{what} contains a NUL byte, which no program can receive in its arguments or environment; remove it (pass binary data on stdin instead)"
            ),
        });
    }
    Ok(())
}

/// The words `run` sends after the app for `command` (pure): `/bin/sh`,
/// `-c` and the encoded script word (see the module docs).
pub fn container_words(command: &RunCommand, options: &RunOptions) -> Result<[String; 3]> {
    let script = container_script(command, options)?;
    let mut payload = String::with_capacity(script.len() * 2);
    for b in script.bytes() {
        if b.is_ascii_alphanumeric() {
            payload.push(char::from(b));
        } else {
            // `\\` in the sh source is one backslash for printf's %b: `\0ooo`.
            payload.push_str(&format!("\\\\0{b:03o}"));
        }
    }
    let word = format!("eval${{IFS}}\"$(printf${{IFS}}%b${{IFS}}{payload})\"");
    let word = match options.entry {
        // `/exec` evaluates its words once before running them.
        ContainerEntry::Herokuish => format!("'{word}'"),
        ContainerEntry::Direct => word,
    };
    Ok(["/bin/sh".to_string(), "-c".to_string(), word])
}

/// `run <app> /bin/sh -c SCRIPT` for `command` (pure; see the module docs).
/// It displays as typed: `run APP -- PROG ARG...` or `run APP --shell
/// 'LINE'`, environment values masked.
pub fn run_command(app: &str, command: &RunCommand, options: &RunOptions) -> Result<Command> {
    validate_app_name(app)?;
    let [sh, c, script] = container_words(command, options)?;
    let cmd = Command::write("run").value(app).value(sh).value(c);
    // The script carries the environment's values: never printed.
    let cmd = if options.env.is_empty() {
        cmd.value(script)
    } else {
        cmd.secret(script)
    };
    Ok(cmd.shown_as(shown("run", app, command, options)))
}

/// `VERB APP [-e K=***]... -- PROG ARG...` or `... --shell 'LINE'`.
fn shown(verb: &str, app: &str, command: &RunCommand, options: &RunOptions) -> String {
    let mut text = format!("{verb} {app}");
    for (k, _) in &options.env {
        text.push_str(&format!(" -e {k}=***"));
    }
    match command {
        RunCommand::Argv(_) => text.push_str(&format!(" -- {}", command.display())),
        RunCommand::Shell(line) => text.push_str(&format!(" --shell {}", single_quote(line))),
    }
    text
}

impl Client {
    /// Runs a command in a new container and returns its output and exit
    /// code (the container's), whatever the exit code.
    ///
    /// The words reach the program byte for byte, whatever they hold; the
    /// command sent is [`run_command`]'s (see the module docs), so a scripted
    /// case is keyed by its words:
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use dokku_client::run::{run_command, RunCommand, RunOptions};
    /// let command = RunCommand::argv(["printf", "%s", "a  b"]);
    /// let options = RunOptions::default();
    /// let sent = run_command("api", &command, &options)?.argv().join(" ");
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(sent, Output::new(0, "a  b", ""));
    /// let client = Client::new(transport);
    /// let out = client.run_in_app("api", &command, &options).await?;
    /// assert_eq!(out.exit_code, 0); // the container's exit code
    /// assert_eq!(out.stdout, b"a  b");
    /// # Ok(()) }
    /// ```
    pub async fn run_in_app(
        &self,
        app: &str,
        command: &RunCommand,
        options: &RunOptions,
    ) -> Result<Output> {
        self.run(run_command(app, command, options)?).await
    }

    /// Runs a command without a terminal, with this process's stdin and
    /// stdout: input is streamed to the command and its output written as it
    /// comes. The returned [`Output`] has the exit code and the captured
    /// stderr (its stdout is empty: it went to this process's stdout).
    ///
    /// The scripted transport gives the command an empty stdin and writes its
    /// output to this process's stdout, as a real run would.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use dokku_client::run::{run_command, RunCommand, RunOptions};
    /// let command = RunCommand::shell("wc -l");
    /// let options = RunOptions::default();
    /// let sent = run_command("api", &command, &options)?.argv().join(" ");
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(sent, Output::new(0, "0\n", ""));
    /// let client = Client::new(transport.clone());
    /// let out = client.run_streaming("api", &command, &options).await?;
    /// assert_eq!(out.exit_code, 0);
    /// assert!(out.stdout.is_empty()); // it went to this process's stdout
    /// assert!(!transport.requests().last().unwrap().tty);
    /// # Ok(()) }
    /// ```
    pub async fn run_streaming(
        &self,
        app: &str,
        command: &RunCommand,
        options: &RunOptions,
    ) -> Result<Output> {
        let req = Request::new(run_command(app, command, options)?)
            .stdin(Stdin::Inherit)
            .stdout(Stdout::Inherit);
        self.execute(req).await
    }

    /// Runs a command interactively, with a terminal and this process's
    /// stdin and stdout. Returns the exit code.
    ///
    /// The session uses this process's terminal; the scripted transport records
    /// that a terminal was asked for and answers with the exit code.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use dokku_client::run::{run_command, RunCommand, RunOptions};
    /// let command = RunCommand::argv(["bash"]);
    /// let options = RunOptions::default();
    /// let sent = run_command("api", &command, &options)?.argv().join(" ");
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(sent, Output::new(130, "", "")); // the user pressed Ctrl-C
    /// let client = Client::new(transport.clone());
    /// assert_eq!(client.run_interactive("api", &command, &options).await?, 130);
    /// assert!(transport.requests().last().unwrap().tty);
    /// # Ok(()) }
    /// ```
    pub async fn run_interactive(
        &self,
        app: &str,
        command: &RunCommand,
        options: &RunOptions,
    ) -> Result<i32> {
        let req = Request::new(run_command(app, command, options)?)
            .tty()
            .stdin(Stdin::Inherit)
            .stdout(Stdout::Inherit);
        Ok(self.execute(req).await?.exit_code)
    }
}

/// `run:detached <app> /bin/sh -c SCRIPT` (pure; encoded as [`run_command`]).
pub fn run_detached_command(
    app: &str,
    command: &RunCommand,
    options: &RunOptions,
) -> Result<Command> {
    validate_app_name(app)?;
    let words = container_words(command, options)?;
    Ok(Command::write("run:detached")
        .value(app)
        .values(words)
        .shown_as(shown("run:detached", app, command, options)))
}

impl Client {
    /// Starts a command in a detached container; returns its name
    /// (`<app>.run.<n>`).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// use dokku_client::run::{run_detached_command, RunCommand, RunOptions};
    /// let command = RunCommand::argv(["sleep", "60"]);
    /// let options = RunOptions::default();
    /// let sent = run_detached_command("myapp", &command, &options)?.argv().join(" ");
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(sent, Output::new(0, "myapp.run.21873\n", ""));
    /// let client = Client::new(transport);
    /// assert_eq!(client.run_detached("myapp", &command, &options).await?, "myapp.run.21873");
    /// # Ok(()) }
    /// ```
    pub async fn run_detached(
        &self,
        app: &str,
        command: &RunCommand,
        options: &RunOptions,
    ) -> Result<String> {
        let out = self
            .run_ok(run_detached_command(app, command, options)?)
            .await?;
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

    /// Runs `words` as herokuish's `/exec` does (`exec $(eval echo "$@")`)
    /// in real bash, with a program that prints its argv NUL-separated.
    fn through_herokuish(words: &[String]) -> Vec<u8> {
        let out = std::process::Command::new("/bin/bash")
            .arg("-c")
            .arg("exec $(eval echo \"$@\")")
            .arg("/exec")
            .args(words)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        out.stdout
    }

    fn direct(words: &[String]) -> Vec<u8> {
        let out = std::process::Command::new(&words[0])
            .args(&words[1..])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        out.stdout
    }

    #[test]
    fn the_program_receives_the_exact_words_through_herokuish_and_directly() {
        let values = [
            "a  b",
            "it's",
            "$(id)",
            "`id`",
            "a>b",
            "*",
            "x --app other y",
            "-n",
            "--help",
            "multi\nline",
            "tab\tx",
            "ünï ✓",
            "back\\slash",
            "\"",
            "",
        ];
        for v in values {
            let cmd = RunCommand::argv(["printf", "%s\\0", v]);
            let mut expected = v.as_bytes().to_vec();
            expected.push(0);
            for (entry, run) in [
                (
                    ContainerEntry::Herokuish,
                    through_herokuish as fn(&[String]) -> Vec<u8>,
                ),
                (ContainerEntry::Direct, direct),
            ] {
                let words = container_words(&cmd, &RunOptions::default().entry(entry)).unwrap();
                assert_eq!(run(&words), expected, "{v:?} {entry:?}");
            }
        }
    }

    #[test]
    fn shell_lines_are_interpreted_and_env_values_are_exact() {
        let opts = RunOptions::default().env("GREETING", "it's  $(not run)");
        let cmd = RunCommand::shell("printf '%s|' \"$GREETING\" $((6*7))");
        let words = container_words(&cmd, &opts).unwrap();
        assert_eq!(through_herokuish(&words), b"it's  $(not run)|42|");
    }

    #[test]
    fn the_script_word_is_opaque_to_dokku() {
        let cmd = RunCommand::argv(["echo", "x --app other --force --trace y"]);
        let words = container_words(&cmd, &RunOptions::default()).unwrap();
        assert_eq!(words[..2], ["/bin/sh", "-c"]);
        let w = &words[2];
        assert!(!w.contains(char::is_whitespace) && !w.contains("--"));
        assert!(!w.contains(['*', '?', '[']));
        let run = run_command("api", &cmd, &RunOptions::default()).unwrap();
        assert_eq!(run.argv()[..2], ["run", "api"]);
    }

    #[test]
    fn what_cannot_be_received_is_refused() {
        let nul = RunCommand::argv(["printf", "a\0b"]);
        match container_words(&nul, &RunOptions::default()) {
            Err(Error::UnsafeArgument { argument, reason }) => {
                assert_eq!(argument, "a\\u{0}b");
                assert!(reason.contains("NUL"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(container_words(
            &RunCommand::argv(Vec::<String>::new()),
            &RunOptions::default()
        )
        .is_err());
        assert!(container_words(&RunCommand::shell("  "), &RunOptions::default()).is_err());
        let bad_key = RunOptions::default().env("A B", "v");
        assert!(container_words(&RunCommand::shell("true"), &bad_key).is_err());
        assert!(run_command("-x", &RunCommand::shell("true"), &RunOptions::default()).is_err());
    }

    #[test]
    fn the_command_displays_as_typed_with_env_values_hidden() {
        let opts = RunOptions::default().env("TOKEN", "s3cret");
        let cmd = run_command("api", &RunCommand::shell("npm run db:migrate"), &opts).unwrap();
        assert_eq!(
            cmd.display(),
            "run api -e TOKEN=*** --shell 'npm run db:migrate'"
        );
        let cmd = run_command(
            "api",
            &RunCommand::argv(["ls", "a b"]),
            &RunOptions::default(),
        );
        assert_eq!(cmd.unwrap().display(), "run api -- ls 'a b'");
    }

    #[test]
    fn display_shows_what_the_program_gets() {
        assert_eq!(
            RunCommand::argv(["echo", "a b", "it's"]).display(),
            "echo 'a b' 'it'\\''s'"
        );
        assert_eq!(RunCommand::shell("ls | wc -l").display(), "ls | wc -l");
    }
}
