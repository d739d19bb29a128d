//! Building a Dokku command, and the one function that turns it into the line
//! sent over SSH.
//!
//! Every command is an argument list ([`Command`]). [`ssh_line`] is the only
//! place that quotes: it knows how the server re-splits `SSH_ORIGINAL_COMMAND`
//! ([`SplitRule`], reference section 3) and refuses what cannot arrive intact.

use std::fmt;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::version::DokkuVersion;

/// Global flags understood by Dokku's `parse_args` wherever they appear
/// (0.30.0 and later; `plugins/common/functions`).
///
/// A *value* equal to one of these would be taken as the flag by the server
/// (`run app cmd --app other` runs in `other`), so values may not be one, and
/// over SSH no whitespace-separated piece of a value may be one either
/// (Dokku's first pass reads the line split on whitespace, quotes and all).
pub const PARSE_ARGS_FLAGS: &[&str] = &["--app", "--force", "--quiet", "--trace"];

/// The global flags of `parse_args` before 0.30.0, which also knew
/// `--detach` (`DOKKU_DETACH_CONTAINER`) and `--rm`/`--rm-container`
/// (`DOKKU_RM_CONTAINER`).
pub const PARSE_ARGS_FLAGS_BEFORE_0_30: &[&str] = &[
    "--app",
    "--force",
    "--quiet",
    "--trace",
    "--detach",
    "--rm",
    "--rm-container",
];

/// The `parse_args` flags of a server version (`None`: not detected yet,
/// which assumes the larger, older set so that nothing slips through).
pub fn parse_args_flags(version: Option<&DokkuVersion>) -> &'static [&'static str] {
    match version {
        Some(v) if v.at_least(0, 30, 0) => PARSE_ARGS_FLAGS,
        _ => PARSE_ARGS_FLAGS_BEFORE_0_30,
    }
}

/// A piece of `text` (split on whitespace, as Dokku's first pass splits the
/// SSH line) that Dokku would take as a global flag: one of `flags`, or a
/// `--label...` word, which `parse_args` keeps in `DOKKU_GLOBAL_FLAGS` and
/// `scheduler-run` adds to `docker run`'s arguments.
pub fn hidden_global_flag<'a>(text: &'a str, flags: &[&str]) -> Option<&'a str> {
    text.split([' ', '\t', '\n'])
        .find(|piece| flags.contains(piece) || piece.starts_with("--label"))
}

/// Longest command line the client sends (GNU xargs' own limit is larger).
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// One argument: a flag the client chose, or a value that came from a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum Arg {
    /// A flag or keyword the typed API put there on purpose (`--force`, `--format`).
    Flag(String),
    /// Data: a name, a key, a value, a command word. Never interpreted as a flag.
    Value(String),
    /// Data that must not be printed (a config value, even encoded).
    Secret(String),
}

impl Arg {
    /// The argument's text.
    pub fn as_str(&self) -> &str {
        match self {
            Arg::Flag(s) | Arg::Value(s) | Arg::Secret(s) => s,
        }
    }
}

/// Whether a command only reads (safe to retry) or changes the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Effect {
    /// Reads state; may be retried after a transport failure.
    Read,
    /// Changes state; never retried blindly.
    Write,
}

/// A Dokku command as an argument list: global flags, the command name, its
/// arguments.
///
/// ```
/// use dokku_client::Command;
/// let cmd = Command::read("apps:report").value("myapp").flag("--format").flag("json");
/// assert_eq!(cmd.argv(), vec!["apps:report", "myapp", "--format", "json"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Command {
    global: Vec<String>,
    name: String,
    args: Vec<Arg>,
    effect: Effect,
    /// What [`Command::display`] shows instead of the words, for commands
    /// whose words are an encoding (`run`'s script word).
    #[serde(skip)]
    shown: Option<String>,
}

impl Command {
    /// A command that changes state.
    pub fn write(name: impl Into<String>) -> Self {
        Command {
            global: Vec::new(),
            name: name.into(),
            args: Vec::new(),
            effect: Effect::Write,
            shown: None,
        }
    }

    /// A command that only reads.
    pub fn read(name: impl Into<String>) -> Self {
        Command {
            effect: Effect::Read,
            ..Command::write(name)
        }
    }

    /// Builds a command from raw words (the escape hatch): the first word is
    /// the command, the rest are values; leading `--flags` become global flags.
    /// Treated as a write.
    pub fn raw<I, S>(words: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut words = words.into_iter().map(Into::into).peekable();
        let mut global = Vec::new();
        while let Some(w) = words.peek() {
            if w.starts_with("--") {
                global.push(words.next().unwrap_or_default());
                if global.last().map(String::as_str) == Some("--app") {
                    if let Some(app) = words.next() {
                        global.push(app);
                    }
                }
            } else {
                break;
            }
        }
        let name = words
            .next()
            .ok_or_else(|| Error::Config("no Dokku command given".into()))?;
        let mut cmd = Command::write(name);
        cmd.global = global;
        for w in words {
            // In a raw command the user chose every word, flags included.
            cmd.args.push(Arg::Flag(w));
        }
        Ok(cmd)
    }

    /// Adds a global flag (`--quiet`, `--force`), sent before the command.
    pub fn global_flag(mut self, flag: impl Into<String>) -> Self {
        self.global.push(flag.into());
        self
    }

    /// Adds a flag chosen by the caller.
    pub fn flag(mut self, flag: impl Into<String>) -> Self {
        self.args.push(Arg::Flag(flag.into()));
        self
    }

    /// Adds a data argument.
    pub fn value(mut self, value: impl Into<String>) -> Self {
        self.args.push(Arg::Value(value.into()));
        self
    }

    /// Adds several data arguments.
    pub fn values<I, S>(mut self, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args
            .extend(values.into_iter().map(|v| Arg::Value(v.into())));
        self
    }

    /// Adds a data argument that must never be printed.
    pub fn secret(mut self, value: impl Into<String>) -> Self {
        self.args.push(Arg::Secret(value.into()));
        self
    }

    /// The command name (`apps:report`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The arguments after the name.
    pub fn args(&self) -> &[Arg] {
        &self.args
    }

    /// The global flags.
    pub fn global_flags(&self) -> &[String] {
        &self.global
    }

    /// Read or write.
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// Every word in order: global flags, name, arguments.
    pub fn argv(&self) -> Vec<&str> {
        self.global
            .iter()
            .map(String::as_str)
            .chain(std::iter::once(self.name.as_str()))
            .chain(self.args.iter().map(Arg::as_str))
            .collect()
    }

    /// The name followed by the arguments (no global flags), owned; what the
    /// error classifier and parsers look at.
    pub fn words(&self) -> Vec<String> {
        std::iter::once(self.name.clone())
            .chain(self.args.iter().map(|a| a.as_str().to_string()))
            .collect()
    }

    /// The command for logs and error messages: secrets replaced by `***`.
    pub fn display(&self) -> String {
        self.to_string()
    }

    /// Shows `text` instead of the words wherever the command is displayed
    /// (plans, logs, errors), for a command whose words are an encoding of
    /// something a person typed (`run`). `text` must hide secrets itself.
    pub fn shown_as(mut self, text: impl Into<String>) -> Self {
        self.shown = Some(text.into());
        self
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.shown {
            Some(text) => f.write_str(&escape_control(text)),
            None => self.fmt_words(f),
        }
    }
}

impl Command {
    fn fmt_words(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut word = |f: &mut fmt::Formatter<'_>, w: &str| -> fmt::Result {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            if w.is_empty()
                || w.chars()
                    .any(|c| c.is_whitespace() || c == '\'' || c == '"')
            {
                write!(f, "{}", single_quote(w))
            } else {
                f.write_str(&escape_control(w))
            }
        };
        for g in &self.global {
            word(f, g)?;
        }
        word(f, &self.name)?;
        for a in &self.args {
            match a {
                Arg::Secret(_) => word(f, "***")?,
                other => word(f, other.as_str())?,
            }
        }
        Ok(())
    }
}

/// How the server turns the received command line back into arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SplitRule {
    /// Dokku 0.34.0+, command not containing `git`: `printf '%s' | xargs -n 1`
    /// through `/bin/echo`. Quotes are honoured; echo eats `-n`/`-e`/`-E`
    /// clusters and replaces `--help`/`--version`.
    XargsEcho,
    /// Dokku before 0.34.0, `config*`/`docker-options*` commands: `xargs $0`.
    /// Quotes are honoured; nothing is eaten.
    Xargs,
    /// Plain whitespace splitting, quote characters literal: `git*` commands
    /// on every version, and every other command before 0.34.0.
    Whitespace,
}

impl SplitRule {
    /// The rule the given server version applies to a command named `name`
    /// (the first word after the global flags).
    pub fn for_command(version: Option<&DokkuVersion>, first_word: &str) -> SplitRule {
        let modern = version.map(|v| v.at_least(0, 34, 0)).unwrap_or(true);
        if modern {
            // 0.34.0+: `git` words are whitespace-split, the rest via xargs -n 1.
            if first_word.contains("git") {
                SplitRule::Whitespace
            } else {
                SplitRule::XargsEcho
            }
        } else if first_word.contains("config") || first_word.contains("docker-options") {
            // Before 0.34.0 only these went through `xargs $0`, `git` or not.
            SplitRule::Xargs
        } else {
            SplitRule::Whitespace
        }
    }
}

/// THE choke point: the line to send over SSH for `command`, quoted for the
/// server's split rule, or an [`Error::UnsafeArgument`] naming the argument
/// that cannot arrive byte-exact.
///
/// `version` is the detected server version (`None` before detection, which
/// assumes a current server).
pub fn ssh_line(command: &Command, version: Option<&DokkuVersion>) -> Result<String> {
    let argv = command.argv();
    // Dokku's entry script shifts leading `--flags` off before it looks at
    // `$1`: the rule follows the command's name, not a global flag.
    let rule = SplitRule::for_command(version, command.name());
    let flags = parse_args_flags(version);
    check_values(command, flags)?;
    // The first, whitespace-only pass must see global flags (and `--app`'s
    // value) and the command's name as the plain words they are: quoting
    // would hide them and change the split rule Dokku picks.
    if !is_plain_word(command.name()) {
        return Err(unsafe_arg(
            command.name(),
            "a Dokku command name is a plain word (letters, digits and `_:./=@%+,-`)",
        ));
    }
    for word in command.global_flags() {
        if !is_plain_word(word) {
            return Err(unsafe_arg(
                word,
                "global flags and the app after `--app` must be plain words (letters, digits and `_:./=@%+,-`): Dokku reads them before any unquoting",
            ));
        }
    }
    let mut line = String::new();
    let first_value = argv.len() - command.args().len();
    for (i, word) in argv.iter().enumerate() {
        let quoted = quote_word(word, rule, i + 1 == argv.len())?;
        // Dokku's first pass splits the line on whitespace, quotes and all,
        // and `parse_args` reads every piece: a data word may hide no flag.
        let data = i >= first_value && !matches!(command.args()[i - first_value], Arg::Flag(_));
        if data {
            if let Some(flag) = hidden_global_flag(&quoted, flags) {
                return Err(unsafe_arg(
                    word,
                    &format!(
                        "Dokku splits the SSH command line on whitespace before anything else, and its parse_args would read `{flag}` in this value as a global flag (acting on another app, forcing, or tracing); it cannot be sent as typed: send config values with `config:set --encoded` (ConfigSet), `run` commands as a RunCommand (encoded), and reword other values"
                    ),
                ));
            }
        }
        if i > 0 {
            line.push(' ');
        }
        line.push_str(&quoted);
    }
    if line.len() > MAX_LINE_BYTES {
        return Err(Error::UnsafeArgument {
            argument: format!("{}...", escape_control(&line[..60.min(line.len())])),
            reason: format!(
                "the command line is {} bytes, more than the {} the client sends; send large data on stdin (config:import, postgres:import)",
                line.len(),
                MAX_LINE_BYTES
            ),
        });
    }
    Ok(line)
}

/// The argument vector for transports that start `dokku` without any
/// re-splitting (the local transport, the shell-user login mode): every word
/// arrives as-is, so only what no argv can carry (a NUL byte) and what Dokku's
/// own `parse_args` would misread (a value equal to a global flag) is refused.
pub fn checked_argv(command: &Command) -> Result<Vec<String>> {
    check_values(command, PARSE_ARGS_FLAGS_BEFORE_0_30)?;
    let argv: Vec<String> = command.argv().into_iter().map(str::to_string).collect();
    for word in &argv {
        if word.contains('\0') {
            return Err(unsafe_arg(
                word,
                "it contains a NUL byte, which no command line can carry",
            ));
        }
    }
    let total: usize = argv.iter().map(|w| w.len() + 1).sum();
    if total > MAX_LINE_BYTES {
        return Err(Error::UnsafeArgument {
            argument: format!("{}...", escape_control(&argv.join(" ").chars().take(60).collect::<String>())),
            reason: format!(
                "the command line is {total} bytes, more than the {MAX_LINE_BYTES} the client sends; send large data on stdin (config:import, postgres:import)"
            ),
        });
    }
    Ok(argv)
}

/// The line sent over SSH in the shell-user login mode (PIX's `ubuntu@HOST`):
/// the login user's shell runs `[sudo -n --] <dokku_path> <args>`.
///
/// There is no forced command and no `SSH_ORIGINAL_COMMAND` re-split here:
/// sshd hands the line to the user's shell (`$SHELL -c LINE`), so POSIX
/// single-quoting of every word is exact. Newlines, empty strings, `-n` and
/// `--help` all arrive intact. The login shell must be POSIX-like (sh, dash,
/// bash, ksh, zsh); csh and fish interpret backslashes or `!` inside single
/// quotes and are not supported.
///
/// ```
/// use dokku_client::command::{shell_line, Command, Elevation};
/// let cmd = Command::read("config:get").value("my app").value("it's");
/// assert_eq!(
///     shell_line(&cmd, "/usr/bin/dokku", Elevation::Sudo).unwrap(),
///     "sudo -n -- '/usr/bin/dokku' 'config:get' 'my app' 'it'\\''s'"
/// );
/// assert_eq!(
///     shell_line(&cmd, "dokku", Elevation::Direct).unwrap(),
///     "'dokku' 'config:get' 'my app' 'it'\\''s'"
/// );
/// ```
pub fn shell_line(command: &Command, dokku_path: &str, elevation: Elevation) -> Result<String> {
    if dokku_path.is_empty() || dokku_path.contains('\0') {
        return Err(Error::Config(
            "the dokku path for the shell-user login mode is empty or contains a NUL byte".into(),
        ));
    }
    let argv = checked_argv(command)?;
    let mut line = String::new();
    if elevation == Elevation::Sudo {
        line.push_str("sudo -n -- ");
    }
    line.push_str(&single_quote(dokku_path));
    for word in &argv {
        line.push(' ');
        line.push_str(&single_quote(word));
    }
    Ok(line)
}

/// How a shell-user login runs `dokku` ([`shell_line`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Elevation {
    /// `dokku ...` as the login user.
    #[default]
    Direct,
    /// `sudo -n -- dokku ...` (never a password prompt: `-n`).
    Sudo,
}

impl Elevation {
    /// `Sudo` when `sudo` is set ([`LoginMode::ShellUser`](crate::transport::LoginMode::ShellUser)'s field).
    pub(crate) fn when_sudo(sudo: bool) -> Self {
        if sudo {
            Elevation::Sudo
        } else {
            Elevation::Direct
        }
    }
}

/// Values may never be one of the words `parse_args` takes as a global flag.
fn check_values(command: &Command, flags: &[&str]) -> Result<()> {
    for a in command.args() {
        if let Arg::Value(v) | Arg::Secret(v) = a {
            if flags.contains(&v.as_str()) {
                return Err(unsafe_arg(
                    v,
                    "Dokku's parse_args takes this word as a global flag wherever it appears, so it cannot be sent as data",
                ));
            }
        }
    }
    Ok(())
}

fn unsafe_arg(word: &str, reason: &str) -> Error {
    Error::UnsafeArgument {
        argument: escape_control(word),
        reason: reason.to_string(),
    }
}

/// Quotes one word for `rule`; `last` tells whether it ends the line.
fn quote_word(word: &str, rule: SplitRule, last: bool) -> Result<String> {
    if word.contains('\0') {
        return Err(unsafe_arg(
            word,
            "it contains a NUL byte, which no command line can carry",
        ));
    }
    if word.contains('\n') || word.contains('\r') {
        return Err(unsafe_arg(
            word,
            "it contains a line break, which the server splits into separate arguments; use `config:set --encoded` (ConfigSet) for multi-line values",
        ));
    }
    match rule {
        SplitRule::Whitespace => {
            if word.is_empty() {
                return Err(unsafe_arg(
                    word,
                    "an empty argument vanishes when this server splits the line on whitespace",
                ));
            }
            if word.chars().any(char::is_whitespace) {
                return Err(unsafe_arg(
                    word,
                    "this server splits this command on whitespace and honours no quoting, so the argument would arrive as several",
                ));
            }
            Ok(word.to_string())
        }
        SplitRule::Xargs | SplitRule::XargsEcho => {
            if rule == SplitRule::XargsEcho {
                if is_echo_option(word) {
                    return Err(unsafe_arg(
                        word,
                        "Dokku re-splits SSH commands through `xargs -n 1` and `/bin/echo`, which eats this word; use the long form of the option (`--num`, `--env`)",
                    ));
                }
                if word == "--help" || word == "--version" {
                    return Err(unsafe_arg(
                        word,
                        "Dokku re-splits SSH commands through `/bin/echo`, which replaces this word with its own help or version text; use `help` or `version`",
                    ));
                }
            }
            if word.is_empty() && last {
                return Err(unsafe_arg(
                    word,
                    "xargs drops an empty argument at the end of the line",
                ));
            }
            // A word of plain characters splits the same under every rule, so
            // it is sent bare: the line then also works on a server whose
            // version is not known yet (the `version` probe itself, which an
            // old server would receive as the literal `'version'`).
            if is_plain_word(word) {
                Ok(word.to_string())
            } else {
                Ok(single_quote(word))
            }
        }
    }
}

/// True for a non-empty word made only of characters that no split rule
/// (whitespace, xargs, sh) treats specially: ASCII letters, digits and
/// `_ : . / = @ % + , -`.
pub fn is_plain_word(word: &str) -> bool {
    !word.is_empty()
        && word.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'_' | b':' | b'.' | b'/' | b'=' | b'@' | b'%' | b'+' | b',' | b'-'
                )
        })
}

/// A word GNU echo takes as its own options (`-n`, `-e`, `-E`, `-neE`...).
pub fn is_echo_option(word: &str) -> bool {
    word.strip_prefix('-')
        .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| matches!(c, 'n' | 'e' | 'E')))
}

/// Wraps a word in single quotes, writing `'` as `'\''` (safe for POSIX sh and
/// GNU xargs alike).
pub fn single_quote(word: &str) -> String {
    let mut out = String::with_capacity(word.len() + 2);
    out.push('\'');
    for c in word.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Replaces control characters with visible escapes, so a hostile value cannot
/// drive a terminal when printed.
pub fn escape_control(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits a line the way the server does under `rule` (the emulator's and the
/// tests' reference implementation of the server side of [`ssh_line`]).
///
/// Returns the arguments, and for the xargs rules an error message when a
/// quote is unbalanced (the server still runs the words before it).
pub fn server_split(line: &str, rule: SplitRule) -> (Vec<String>, Option<String>) {
    match rule {
        SplitRule::Whitespace => (
            line.split([' ', '\t', '\n'])
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect(),
            None,
        ),
        SplitRule::Xargs | SplitRule::XargsEcho => {
            let (words, err) = xargs_split(line);
            if rule == SplitRule::Xargs {
                return (words, err);
            }
            let words = words.into_iter().filter_map(|w| echo_word(&w)).collect();
            (words, err)
        }
    }
}

/// What `/bin/echo WORD` prints for one word, as xargs -n 1 reads it back.
fn echo_word(word: &str) -> Option<String> {
    if is_echo_option(word) {
        // `echo -n` prints nothing: no line, the word disappears.
        // `echo -e` / `-E` print an empty line: an empty argument.
        return if word.contains('n') {
            None
        } else {
            Some(String::new())
        };
    }
    Some(word.to_string())
}

/// GNU xargs' default (non `-0`, non `-d`) tokenizer.
fn xargs_split(line: &str) -> (Vec<String>, Option<String>) {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' | '"' => {
                in_word = true;
                let mut closed = false;
                for q in chars.by_ref() {
                    if q == c {
                        closed = true;
                        break;
                    }
                    if q == '\n' {
                        break;
                    }
                    cur.push(q);
                }
                if !closed {
                    let kind = if c == '\'' { "single" } else { "double" };
                    return (
                        words,
                        Some(format!(
                            "xargs: unmatched {kind} quote; by default quotes are special to xargs unless you use the -0 option"
                        )),
                    );
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            other => {
                in_word = true;
                cur.push(other);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    // A trailing empty quoted argument at the very end is dropped.
    if words.last().is_some_and(String::is_empty) {
        words.pop();
    }
    (words, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> DokkuVersion {
        DokkuVersion::parse_output(s).unwrap()
    }

    /// Sends `value` as the argument of `config:get` (xargs) and checks it
    /// arrives intact after the server's split.
    fn roundtrip(value: &str, version: &DokkuVersion, name: &str) -> Result<Vec<String>> {
        let cmd = Command::read(name).value("app").value(value);
        let line = ssh_line(&cmd, Some(version))?;
        let rule = SplitRule::for_command(Some(version), name);
        Ok(server_split(&line, rule).0)
    }

    #[test]
    fn hostile_values_arrive_byte_exact_or_are_refused() {
        let modern = v("dokku version 0.38.27");
        let old = v("dokku version 0.30.0");
        let corpus = [
            "plain",
            "with space",
            "it's",
            "\"double\"",
            "$(reboot)",
            "`id`",
            "a;b",
            "a|b",
            "a && b",
            "back\\slash",
            "ünïcödé ✓",
            "-leading-dash",
            "--no-restart-smuggled=1",
            "tab\there",
            "*",
            "",
            "'",
            "''",
        ];
        for version in [&modern, &old] {
            for name in ["config:get", "run"] {
                for value in corpus {
                    match roundtrip(value, version, name) {
                        Ok(words) => assert_eq!(
                            words,
                            vec![name.to_string(), "app".to_string(), value.to_string()],
                            "{value:?} on {version} {name}"
                        ),
                        Err(Error::UnsafeArgument { .. }) => {
                            // Refusal is allowed only where the server cannot carry it.
                            let whitespace = SplitRule::for_command(Some(version), name)
                                == SplitRule::Whitespace;
                            assert!(
                                whitespace || value.is_empty(),
                                "{value:?} refused on {version} {name}"
                            );
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
            }
        }
    }

    #[test]
    fn refuses_what_cannot_be_sent() {
        let modern = v("dokku version 0.38.27");
        for bad in [
            "-n",
            "-e",
            "-E",
            "-neE",
            "--help",
            "--version",
            "a\nb",
            "a\0b",
            "--app",
            "--force",
        ] {
            let cmd = Command::read("run").value("app").value(bad);
            assert!(
                matches!(
                    ssh_line(&cmd, Some(&modern)),
                    Err(Error::UnsafeArgument { .. })
                ),
                "{bad:?}"
            );
        }
        // A flag chosen by the API is fine.
        let cmd = Command::write("postgres:destroy")
            .value("db")
            .flag("--force");
        assert_eq!(
            ssh_line(&cmd, Some(&modern)).unwrap(),
            "postgres:destroy db --force"
        );
        let cmd = Command::read("config:get").value("my app").value("K");
        assert_eq!(
            ssh_line(&cmd, Some(&modern)).unwrap(),
            "config:get 'my app' K"
        );
        let long = "x".repeat(MAX_LINE_BYTES + 1);
        let cmd = Command::read("run").value("app").value(long);
        assert!(ssh_line(&cmd, Some(&modern)).is_err());
    }

    /// Dokku's first pass (whitespace split of the whole line, quotes and
    /// all) must find no global flag in a data word on any version.
    #[test]
    fn no_flag_hides_inside_a_value() {
        for version in ["0.38.27", "0.30.0", "0.19.13"] {
            let version = v(&format!("dokku version {version}"));
            for value in [
                "x --app other y",
                "x --force y",
                "a\t--trace\tb",
                "a --quiet b",
                "l --label=com.example=1",
            ] {
                let cmd = Command::read("logs").value("app").flag("--ps").value(value);
                match ssh_line(&cmd, Some(&version)) {
                    Err(Error::UnsafeArgument { argument, reason }) => {
                        assert_eq!(argument, escape_control(value));
                        // (A whitespace-split server refuses any space first.)
                        let whitespace =
                            SplitRule::for_command(Some(&version), "logs") == SplitRule::Whitespace;
                        assert!(whitespace || reason.contains("global flag"), "{reason}");
                    }
                    other => panic!("{value:?} on {version}: {other:?}"),
                }
            }
            // Quoting glues a flag at the edge of a value to the quote: the
            // first pass sees `'--app`, not `--app`, and xargs keeps one word.
            if SplitRule::for_command(Some(&version), "config:get") != SplitRule::Whitespace {
                for value in ["--app x", "x --force", "\t--trace"] {
                    let cmd = Command::read("config:get").value("app").value(value);
                    let line = ssh_line(&cmd, Some(&version)).unwrap();
                    assert!(
                        hidden_global_flag(&line, PARSE_ARGS_FLAGS_BEFORE_0_30).is_none(),
                        "{line}"
                    );
                }
            }
        }
        // Before 0.30, `--rm` and `--detach` were global flags too.
        let old = v("dokku version 0.19.13");
        let cmd = Command::read("config:get").value("app").value("x --rm y");
        assert!(ssh_line(&cmd, Some(&old)).is_err());
        let cmd = Command::read("config:get").value("app").value("--detach");
        assert!(ssh_line(&cmd, Some(&old)).is_err());
        let new = v("dokku version 0.38.27");
        assert!(ssh_line(&cmd, Some(&new)).is_ok());
        // A flag the API chose is not data.
        let cmd = Command::write("apps:destroy").value("app").flag("--force");
        assert!(ssh_line(&cmd, Some(&new)).is_ok());
    }

    #[test]
    fn git_commands_are_whitespace_split() {
        let modern = v("dokku version 0.38.27");
        let cmd = Command::read("git:report").value("myapp");
        assert_eq!(ssh_line(&cmd, Some(&modern)).unwrap(), "git:report myapp");
        let cmd = Command::read("git:report").value("my app");
        assert!(ssh_line(&cmd, Some(&modern)).is_err());
    }

    #[test]
    fn the_split_rule_follows_the_command_not_a_global_flag() {
        let old = v("dokku version 0.30.0");
        // config:* went through xargs before 0.34: quotes are honoured.
        let cmd = Command::write("config:set")
            .global_flag("--quiet")
            .value("app")
            .value("K=a b");
        let line = ssh_line(&cmd, Some(&old)).unwrap();
        assert_eq!(
            server_split(&line, SplitRule::Xargs).0,
            vec!["--quiet", "config:set", "app", "K=a b"]
        );
        // a git command after a global flag is still whitespace-split
        let cmd = Command::read("git:report")
            .global_flag("--quiet")
            .value("my app");
        assert!(ssh_line(&cmd, Some(&v("dokku version 0.38.27"))).is_err());
        // before 0.34, a config word goes through xargs even if it says git
        assert_eq!(
            SplitRule::for_command(Some(&old), "git-config:x"),
            SplitRule::Xargs
        );
        assert_eq!(
            SplitRule::for_command(Some(&v("dokku version 0.38.27")), "git-config:x"),
            SplitRule::Whitespace
        );
        // a command name that is not a plain word is refused
        assert!(matches!(
            ssh_line(&Command::read(" apps:list"), None),
            Err(Error::UnsafeArgument { .. })
        ));
        // a global flag word that is not plain is refused
        let cmd = Command::read("config:show")
            .global_flag("--app")
            .global_flag("a b");
        assert!(matches!(
            ssh_line(&cmd, None),
            Err(Error::UnsafeArgument { .. })
        ));
    }

    #[test]
    fn global_flags_go_first() {
        let cmd = Command::write("apps:destroy")
            .global_flag("--force")
            .value("myapp");
        assert_eq!(cmd.argv(), vec!["--force", "apps:destroy", "myapp"]);
    }

    #[test]
    fn display_hides_secrets_and_control_characters() {
        let cmd = Command::write("config:set")
            .flag("--encoded")
            .value("app")
            .secret("K=c2VjcmV0");
        assert_eq!(cmd.to_string(), "config:set --encoded app ***");
        let cmd = Command::read("apps:report").value("\u{1b}[31mred");
        assert_eq!(cmd.to_string(), "apps:report \\u{1b}[31mred");
    }

    #[test]
    fn raw_commands_keep_leading_global_flags() {
        let cmd = Command::raw(["--quiet", "--app", "x", "config:show"]).unwrap();
        assert_eq!(cmd.global_flags(), ["--quiet", "--app", "x"]);
        assert_eq!(cmd.name(), "config:show");
        assert!(Command::raw(Vec::<String>::new()).is_err());
    }

    #[test]
    fn xargs_split_matches_gnu_rules() {
        assert_eq!(
            server_split("a 'b c' \"d e\" f\\ g", SplitRule::Xargs).0,
            vec!["a", "b c", "d e", "f g"]
        );
        let (words, err) = server_split("a 'b", SplitRule::Xargs);
        assert_eq!(words, vec!["a"]);
        assert!(err.is_some());
        assert_eq!(
            server_split("logs app -n 50", SplitRule::XargsEcho).0,
            vec!["logs", "app", "50"]
        );
        assert_eq!(
            server_split("run -e K=V", SplitRule::XargsEcho).0,
            vec!["run", "", "K=V"]
        );
        assert_eq!(server_split("a ''", SplitRule::Xargs).0, vec!["a"]);
    }

    /// The shell-user line, run by a real POSIX shell, must hand the exact
    /// argv to the program (hostile corpus, including what ssh_line refuses).
    #[test]
    fn shell_line_reaches_the_program_byte_exact() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("fake dokku's");
        std::fs::write(&script, "#!/bin/sh\nprintf '%s\\0' \"$@\"\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let corpus = [
            "plain",
            "with space",
            "it's",
            "\"double\"",
            "$(reboot)",
            "`id`",
            "a;b",
            "a|b",
            "a && b",
            "back\\slash",
            "ünïcödé ✓",
            "-n",
            "-e",
            "--help",
            "multi\nline",
            "tab\there",
            "*",
            "",
            "'",
            "''",
            "$HOME",
            "!",
        ];
        for value in corpus {
            let cmd = Command::read("config:get").value("app").value(value);
            let line = shell_line(&cmd, script.to_str().unwrap(), Elevation::Direct).unwrap();
            let out = std::process::Command::new("/bin/sh")
                .arg("-c")
                .arg(&line)
                .output()
                .unwrap();
            assert!(out.status.success(), "{line}");
            let words: Vec<&[u8]> = out.stdout.split(|b| *b == 0).collect();
            assert_eq!(
                words,
                vec![&b"config:get"[..], b"app", value.as_bytes(), b""],
                "{value:?} via {line}"
            );
        }
        let cmd = Command::read("run").value("app").value("--app");
        assert!(shell_line(&cmd, "dokku", Elevation::Sudo).is_err());
        let cmd = Command::read("run").value("app").value("a\0b");
        assert!(shell_line(&cmd, "dokku", Elevation::Sudo).is_err());
        assert!(shell_line(&Command::read("version"), "", Elevation::Direct).is_err());
    }

    /// The version probe is sent before the version is known: it must read
    /// `version` under every split rule, old servers included.
    #[test]
    fn the_version_probe_works_on_every_server() {
        let cmd = Command::read("version");
        assert_eq!(ssh_line(&cmd, None).unwrap(), "version");
        for rule in [
            SplitRule::Whitespace,
            SplitRule::Xargs,
            SplitRule::XargsEcho,
        ] {
            assert_eq!(server_split("version", rule).0, vec!["version"]);
        }
        // Plain words are sent bare, everything else quoted.
        assert!(is_plain_word("apps:report"));
        assert!(is_plain_word("--format"));
        assert!(is_plain_word("KEY=dmFsdWU="));
        for w in ["", "a b", "it's", "$x", "a*", "ü", "a\\b", "\"q\""] {
            assert!(!is_plain_word(w), "{w:?}");
        }
    }
}
