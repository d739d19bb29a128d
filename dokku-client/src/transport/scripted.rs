//! Scripted transport: answers from recorded cases, for downstream tests.
//!
//! Cases use the fixture format of `shared/dokku/fixtures/`: one folder per
//! case holding `cmd` (the arguments on one line), `stdout`, `stderr` (exact
//! bytes, optional) and `exit_code` (a decimal number, optional: 0).
//!
//! A request matches a case when its argv joined with single spaces equals the
//! case's `cmd`, or when the `cmd` text split like a shell (quotes and
//! backslashes honoured, so `config:set app K="a   b"`) equals the argv.
//! Several cases with the same command are answered in the order they were
//! added, the last one repeating. Every request is recorded for assertions.
//!
//! Requests go through the same argument checks as SSH
//! ([`crate::command::ssh_line`]), so a test sees the refusals a real server
//! connection would give.
//!
//! ```
//! use dokku_client::{Client, Command, Output};
//! use dokku_client::transport::ScriptedTransport;
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let transport = ScriptedTransport::new()
//!     .version("0.38.27")
//!     .case("apps:list", Output::new(0, "=====> My Apps\nweb\n", ""));
//! let client = Client::new(transport.clone());
//! let out = client.run_ok(Command::read("apps:list")).await.unwrap();
//! assert_eq!(out.stdout_text(), "=====> My Apps\nweb\n");
//! assert_eq!(transport.requests().len(), 2); // version, apps:list
//! # });
//! ```

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::command::{escape_control, ssh_line};
use crate::error::{Error, Result};
use crate::output::Output;
use crate::transport::{Request, Stdin, Stdout, Transport};
use crate::version::DokkuVersion;

/// One recorded case: the command line and its output.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScriptedCase {
    /// The `cmd` text.
    pub cmd: String,
    /// The output.
    pub output: Output,
    /// The case's folder name, when loaded from a directory.
    pub name: Option<String>,
}

impl ScriptedCase {
    /// Loads one case folder (`cmd`, `stdout`, `stderr`, `exit_code`).
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let read = |file: &str, required: bool| -> Result<Vec<u8>> {
            match std::fs::read(dir.join(file)) {
                Ok(b) => Ok(b),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(Vec::new()),
                Err(e) => Err(Error::io(
                    format!("reading {}", dir.join(file).display()),
                    e,
                )),
            }
        };
        let cmd_bytes = read("cmd", true)?;
        let cmd = String::from_utf8(cmd_bytes).map_err(|_| {
            Error::Config(format!("{} is not UTF-8 text", dir.join("cmd").display()))
        })?;
        let cmd = cmd.strip_suffix('\n').unwrap_or(&cmd);
        let cmd = cmd.strip_suffix('\r').unwrap_or(cmd).to_string();
        let code_text = String::from_utf8_lossy(&read("exit_code", false)?)
            .trim()
            .to_string();
        let exit_code = if code_text.is_empty() {
            0
        } else {
            code_text.parse::<i32>().map_err(|_| {
                Error::Config(format!(
                    "{} holds {code_text:?}, not a decimal exit code",
                    dir.join("exit_code").display()
                ))
            })?
        };
        Ok(ScriptedCase {
            cmd,
            output: Output {
                exit_code,
                stdout: read("stdout", false)?,
                stderr: read("stderr", false)?,
            },
            name: dir.file_name().map(|n| n.to_string_lossy().into_owned()),
        })
    }

    /// True when `argv` is this case's command.
    pub fn matches(&self, argv: &[&str]) -> bool {
        if argv.join(" ") == self.cmd {
            return true;
        }
        match shell_words(&self.cmd) {
            Some(words) => words.len() == argv.len() && words.iter().zip(argv).all(|(a, b)| a == b),
            None => false,
        }
    }
}

pub use crate::parse::shell_words;

/// A request as the scripted transport received it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// Every word: global flags, name, arguments (secrets included).
    pub argv: Vec<String>,
    /// The command for display (secrets hidden).
    pub display: String,
    /// The stdin bytes sent (streams are read to their end).
    pub stdin: Vec<u8>,
    /// Whether a terminal was asked for.
    pub tty: bool,
    /// The server version the request was quoted for.
    pub version: Option<DokkuVersion>,
}

#[derive(Debug, Default)]
struct Log {
    requests: Vec<RecordedRequest>,
    /// How many times each case index answered.
    answered: HashMap<String, usize>,
}

/// Answers commands from recorded cases. Clones share the cases and the log.
#[derive(Debug, Clone, Default)]
pub struct ScriptedTransport {
    cases: Arc<Vec<ScriptedCase>>,
    version: Option<String>,
    log: Arc<Mutex<Log>>,
}

impl ScriptedTransport {
    /// No cases.
    pub fn new() -> Self {
        ScriptedTransport::default()
    }

    /// Loads every case folder (a folder holding a `cmd` file) under `dir`,
    /// in name order. Other files (a README) are ignored.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let entries = std::fs::read_dir(dir)
            .map_err(|e| Error::io(format!("reading the cases folder {}", dir.display()), e))?;
        let mut folders: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("cmd").is_file())
            .collect();
        folders.sort();
        let mut transport = ScriptedTransport::new();
        let cases = Arc::make_mut(&mut transport.cases);
        for folder in folders {
            cases.push(ScriptedCase::from_dir(&folder)?);
        }
        Ok(transport)
    }

    /// Adds a case by hand.
    pub fn case(mut self, cmd: impl Into<String>, output: Output) -> Self {
        Arc::make_mut(&mut self.cases).push(ScriptedCase {
            cmd: cmd.into(),
            output,
            name: None,
        });
        self
    }

    /// Answers `version` with `dokku version <version>` (wins over a
    /// `version` case).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// The loaded cases.
    pub fn cases(&self) -> &[ScriptedCase] {
        &self.cases
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.log
            .lock()
            .map(|l| l.requests.clone())
            .unwrap_or_default()
    }

    /// The answer for `argv`, advancing through repeated cases.
    fn answer(&self, argv: &[&str]) -> Result<Output> {
        if argv == ["version"] {
            if let Some(v) = &self.version {
                return Ok(Output::new(0, format!("dokku version {v}\n"), ""));
            }
        }
        let matching: Vec<usize> = self
            .cases
            .iter()
            .enumerate()
            .filter(|(_, c)| c.matches(argv))
            .map(|(i, _)| i)
            .collect();
        if matching.is_empty() {
            return Err(self.unmatched(argv));
        }
        let key = argv.join("\u{0}");
        let mut log = self
            .log
            .lock()
            .map_err(|_| Error::Config("the scripted transport's log is poisoned".into()))?;
        let count = log.answered.entry(key).or_insert(0);
        let index = matching[(*count).min(matching.len() - 1)];
        *count += 1;
        Ok(self.cases[index].output.clone())
    }

    fn unmatched(&self, argv: &[&str]) -> Error {
        let wanted = argv.join(" ");
        let mut known: Vec<(usize, &str)> = self
            .cases
            .iter()
            .map(|c| (distance(&wanted, &c.cmd), c.cmd.as_str()))
            .collect();
        known.sort();
        known.dedup_by(|a, b| a.1 == b.1);
        let nearest: Vec<String> = known
            .iter()
            .take(3)
            .map(|(_, c)| format!("`{}`", escape_control(c)))
            .collect();
        Error::Config(format!(
            "the scripted transport has no case for `{}` ({} cases loaded{}); add one with ScriptedTransport::case or a fixture folder",
            escape_control(&wanted),
            self.cases.len(),
            if nearest.is_empty() {
                String::new()
            } else {
                format!("; nearest: {}", nearest.join(", "))
            }
        ))
    }
}

/// Levenshtein distance over chars (inputs are short command lines).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().take(500).collect();
    let b: Vec<char> = b.chars().take(500).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[async_trait::async_trait]
impl Transport for ScriptedTransport {
    async fn execute(&self, request: Request) -> Result<Output> {
        // Same refusals as a real SSH connection.
        ssh_line(&request.command, request.version.as_ref())?;
        let argv: Vec<&str> = request.command.argv();
        let stdin = match request.stdin {
            Stdin::Null | Stdin::Inherit => Vec::new(),
            Stdin::Bytes(b) => b,
            Stdin::Reader(mut r) => {
                let mut buf = Vec::new();
                r.read_to_end(&mut buf)
                    .await
                    .map_err(|e| Error::io("reading the data to send on stdin", e))?;
                buf
            }
        };
        if let Ok(mut log) = self.log.lock() {
            log.requests.push(RecordedRequest {
                argv: argv.iter().map(|s| s.to_string()).collect(),
                display: request.command.display(),
                stdin,
                tty: request.tty,
                version: request.version.clone(),
            });
        }
        let mut output = self.answer(&argv)?;
        match request.stdout {
            Stdout::Capture => {}
            Stdout::Writer(mut w) => {
                w.write_all(&output.stdout)
                    .await
                    .map_err(|e| Error::io("writing the command's output", e))?;
                w.shutdown()
                    .await
                    .map_err(|e| Error::io("finishing the command's output", e))?;
                output.stdout.clear();
            }
            Stdout::Inherit => {
                let mut out = tokio::io::stdout();
                out.write_all(&output.stdout)
                    .await
                    .map_err(|e| Error::io("writing to stdout", e))?;
                out.flush()
                    .await
                    .map_err(|e| Error::io("writing to stdout", e))?;
                output.stdout.clear();
            }
        }
        Ok(output)
    }

    fn target(&self) -> String {
        "scripted".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_follow_sh_quoting() {
        assert_eq!(
            shell_words(r#"config:set app GREETING="hello   world" B='x y' c\ d"#).unwrap(),
            vec![
                "config:set",
                "app",
                "GREETING=hello   world",
                "B=x y",
                "c d"
            ]
        );
        assert_eq!(
            shell_words(r#"a "b\"c\\d\x""#).unwrap(),
            vec!["a", r#"b"c\d\x"#]
        );
        assert_eq!(shell_words("a ''").unwrap(), vec!["a", ""]);
        assert!(shell_words("a 'open").is_none());
        assert_eq!(shell_words("  ").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn matches_joined_or_unquoted_form() {
        let case = ScriptedCase {
            cmd: r#"config:set --no-restart myapp MESSAGE="hello   world""#.into(),
            output: Output::default(),
            name: None,
        };
        assert!(case.matches(&[
            "config:set",
            "--no-restart",
            "myapp",
            "MESSAGE=hello   world"
        ]));
        assert!(!case.matches(&["config:set", "--no-restart", "myapp", "MESSAGE=hello world"]));
        let plain = ScriptedCase {
            cmd: "run myapp echo hello".into(),
            output: Output::default(),
            name: None,
        };
        assert!(plain.matches(&["run", "myapp", "echo", "hello"]));
    }

    #[test]
    fn distance_is_levenshtein() {
        assert_eq!(distance("apps:list", "apps:list"), 0);
        assert_eq!(distance("apps:lst", "apps:list"), 1);
        assert_eq!(distance("", "abc"), 3);
    }
}
