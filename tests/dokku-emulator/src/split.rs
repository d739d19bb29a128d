//! How Dokku turns `SSH_ORIGINAL_COMMAND` into an argument vector, and how the
//! entry script's `parse_args` reads global flags (REFERENCE.md sections 1.3,
//! 3.1–3.4). Pure functions, written from the reference's rules (not shared
//! with the client, so the two are checked independently).

/// Which server-side split a modelled Dokku version applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitEra {
    /// 0.34.0 and later: `xargs -n 1` through `/bin/echo` for everything whose
    /// first word does not contain `git`.
    XargsEcho,
    /// Before 0.34.0: only commands whose first word contains `config` or
    /// `docker-options` go through `xargs $0`; everything else is split on
    /// whitespace.
    Legacy,
}

/// The result of splitting an SSH command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshSplit {
    /// The arguments Dokku's second pass sees.
    pub argv: Vec<String>,
    /// Text xargs printed on stderr (unmatched quote), if any.
    pub xargs_error: Option<String>,
    /// False when the command is never run (pre-0.34 `xargs $0` with an
    /// unmatched quote: xargs aborts before running anything).
    pub runs: bool,
    /// True when the command ran under `xargs $0` (pre-0.34 config): xargs
    /// maps child exit codes 1–125 to 123.
    pub through_xargs: bool,
}

/// Whitespace split as the shell does with `IFS` and globbing off (quotes are
/// literal).
pub fn whitespace_split(line: &str) -> Vec<String> {
    line.split([' ', '\t', '\n'])
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// GNU xargs' tokenizer (default mode: blanks and newlines separate, `'` and
/// `"` quote without escapes, `\` escapes outside quotes). Returns the words
/// read before an error and the error message, if any.
pub fn xargs_words(input: &str) -> (Vec<String>, Option<String>) {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut have = false; // a quoted (possibly empty) word is in progress
    let mut chars = input.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if have || !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                    have = false;
                }
            }
            '\'' | '"' => {
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
                    let kind = if c == '"' { "double" } else { "single" };
                    return (
                        words,
                        Some(format!(
                            "xargs: unmatched {kind} quote; by default quotes are special to xargs unless you use the -0 option\n"
                        )),
                    );
                }
                have = true;
            }
            '\\' => match chars.next() {
                Some(n) => cur.push(n),
                None => cur.push('\\'),
            },
            other => cur.push(other),
        }
    }
    // At end of input an empty (quoted) word is dropped.
    if !cur.is_empty() {
        words.push(cur);
    }
    (words, None)
}

/// GNU coreutils `echo WORD` (one word) as the lines it prints: `None` when it
/// prints nothing at all (`-n` clusters), otherwise the lines.
pub fn echo_lines(word: &str) -> Vec<String> {
    if word == "--help" {
        return ECHO_HELP.lines().map(str::to_owned).collect();
    }
    if word == "--version" {
        return ECHO_VERSION.lines().map(str::to_owned).collect();
    }
    if let Some(opts) = word.strip_prefix('-') {
        if !opts.is_empty() && opts.chars().all(|c| matches!(c, 'n' | 'e' | 'E')) {
            if opts.contains('n') {
                return Vec::new();
            }
            return vec![String::new()];
        }
    }
    vec![word.to_owned()]
}

const ECHO_VERSION: &str = "echo (GNU coreutils) 9.4
Copyright (C) 2023 Free Software Foundation, Inc.
License GPLv3+: GNU GPL version 3 or later <https://gnu.org/licenses/gpl.html>.
This is free software: you are free to change and redistribute it.
There is NO WARRANTY, to the extent permitted by law.

Written by Brian Fox and Chet Ramey.
";

const ECHO_HELP: &str = "Usage: /bin/echo [SHORT-OPTION]... [STRING]...
  or:  /bin/echo LONG-OPTION
Echo the STRING(s) to standard output.

  -n             do not output the trailing newline
  -e             enable interpretation of backslash escapes
  -E             disable interpretation of backslash escapes (default)
      --help        display this help and exit
      --version     output version information and exit
";

/// Drops the leading `--flags` (and `--app X`) as the entry script does when
/// the first argument starts with `--`.
pub fn strip_leading_flags(words: &[String]) -> &[String] {
    let mut i = 0;
    if words.first().is_some_and(|w| w.starts_with("--")) {
        while i < words.len() {
            if words[i] == "--app" {
                i += 2;
            } else if words[i].starts_with("--") {
                i += 1;
            } else {
                break;
            }
        }
    }
    &words[i.min(words.len())..]
}

/// Splits `SSH_ORIGINAL_COMMAND` as the modelled Dokku version does.
pub fn ssh_split(line: &str, era: SplitEra) -> SshSplit {
    let first_pass = whitespace_split(line);
    let first = strip_leading_flags(&first_pass)
        .first()
        .cloned()
        .unwrap_or_default();
    let plain = |argv| SshSplit {
        argv,
        xargs_error: None,
        runs: true,
        through_xargs: false,
    };
    match era {
        SplitEra::XargsEcho => {
            if first.contains("git") {
                return plain(first_pass);
            }
            let (words, err) = xargs_words(line);
            let argv = words.iter().flat_map(|w| echo_lines(w)).collect();
            SshSplit {
                argv,
                xargs_error: err,
                runs: true,
                through_xargs: false,
            }
        }
        SplitEra::Legacy => {
            if first.contains("config") || first.contains("docker-options") {
                let (words, err) = xargs_words(line);
                let runs = err.is_none();
                SshSplit {
                    argv: if runs { words } else { Vec::new() },
                    xargs_error: err,
                    runs,
                    through_xargs: true,
                }
            } else {
                plain(first_pass)
            }
        }
    }
}

/// GNU xargs' exit status for a child's exit status.
pub fn xargs_exit(child: i32) -> i32 {
    match child {
        0 => 0,
        1..=125 => 123,
        255 => 124,
        c => c,
    }
}

/// The global flags `parse_args` exports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GlobalFlags {
    /// `--quiet` seen.
    pub quiet: bool,
    /// `--trace` seen.
    pub trace: bool,
    /// `--force` seen.
    pub force: bool,
    /// `--app X` seen.
    pub app: Option<String>,
    /// Every `--x` seen (`DOKKU_GLOBAL_FLAGS`).
    pub all: Vec<String>,
}

impl GlobalFlags {
    /// Scans every argument, as `parse_args` does, and merges into `self`.
    pub fn scan(&mut self, words: &[String]) {
        let mut i = 0;
        while i < words.len() {
            let w = &words[i];
            match w.as_str() {
                "--quiet" => self.quiet = true,
                "--trace" => self.trace = true,
                "--force" => self.force = true,
                "--app" => {
                    if let Some(v) = words.get(i + 1) {
                        self.app = Some(v.clone());
                    }
                    i += 1;
                }
                _ => {}
            }
            if w.starts_with("--") {
                self.all.push(w.clone());
            }
            i += 1;
        }
    }

    /// True when `flag` was among the `--flags` seen anywhere.
    pub fn has(&self, flag: &str) -> bool {
        self.all.iter().any(|f| f == flag)
    }
}

/// Removes the global flags (`--quiet`, `--trace`, `--force`, `--app X`)
/// wherever they are, for fault matching.
pub fn without_global_flags(words: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        match words[i].as_str() {
            "--quiet" | "--trace" | "--force" => {}
            "--app" => i += 1,
            w => out.push(w.to_owned()),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn check(line: &str, era: SplitEra, argv: &[&str], err: bool) {
        let got = ssh_split(line, era);
        assert_eq!(got.argv, s(argv), "argv of {line:?}");
        assert_eq!(got.xargs_error.is_some(), err, "xargs error of {line:?}");
    }

    #[test]
    fn xargs_quotes_and_escapes() {
        let x = SplitEra::XargsEcho;
        check(
            "config:set app A='hello   world' B=\"x y\"",
            x,
            &["config:set", "app", "A=hello   world", "B=x y"],
            false,
        );
        check(
            "run app a\\ b 'it'\\''s'",
            x,
            &["run", "app", "a b", "it's"],
            false,
        );
        check(
            "config:set app A='x\"y'",
            x,
            &["config:set", "app", "A=x\"y"],
            false,
        );
        check(
            "config:set app ''  B",
            x,
            &["config:set", "app", "", "B"],
            false,
        );
        check("config:set app B ''", x, &["config:set", "app", "B"], false);
        check("a\\\\b", x, &["a\\b"], false);
    }

    #[test]
    fn echo_eats_option_words() {
        let x = SplitEra::XargsEcho;
        check("logs app -n 50", x, &["logs", "app", "50"], false);
        check("run -e K=V app", x, &["run", "", "K=V", "app"], false);
        check("run '-ne' -E app", x, &["run", "", "app"], false);
        check("run -x app -", x, &["run", "-x", "app", "-"], false);
        let got = ssh_split("--version", x);
        assert!(got.argv[0].starts_with("echo (GNU coreutils)"));
        let got = ssh_split("apps:list --help", x);
        assert_eq!(got.argv[0], "apps:list");
        assert!(got.argv[1].starts_with("Usage: /bin/echo"));
    }

    #[test]
    fn unmatched_quote_runs_words_before() {
        let got = ssh_split("config:set app A='oops", SplitEra::XargsEcho);
        assert_eq!(got.argv, s(&["config:set", "app"]));
        assert!(got.runs);
        assert_eq!(
            got.xargs_error.as_deref(),
            Some("xargs: unmatched single quote; by default quotes are special to xargs unless you use the -0 option\n")
        );
        let got = ssh_split("run app \"x", SplitEra::XargsEcho);
        assert!(got.xargs_error.unwrap_or_default().contains("double"));
        // a newline inside quotes is an unmatched quote too
        let got = ssh_split("run app 'a\nb'", SplitEra::XargsEcho);
        assert_eq!(got.argv, s(&["run", "app"]));
    }

    #[test]
    fn git_commands_split_on_whitespace() {
        check(
            "git-receive-pack 'myapp'",
            SplitEra::XargsEcho,
            &["git-receive-pack", "'myapp'"],
            false,
        );
        check(
            "--quiet git:report 'a b'",
            SplitEra::XargsEcho,
            &["--quiet", "git:report", "'a", "b'"],
            false,
        );
    }

    #[test]
    fn legacy_era() {
        let l = SplitEra::Legacy;
        check(
            "run app 'a b' -n",
            l,
            &["run", "app", "'a", "b'", "-n"],
            false,
        );
        let got = ssh_split("config:set app A='x y' -n", l);
        assert_eq!(got.argv, s(&["config:set", "app", "A=x y", "-n"]));
        assert!(got.through_xargs);
        let got = ssh_split("--quiet docker-options:add app 'x", l);
        assert!(!got.runs);
        assert!(got.argv.is_empty());
        assert!(got.xargs_error.is_some());
        assert_eq!(xargs_exit(1), 123);
        assert_eq!(xargs_exit(20), 123);
        assert_eq!(xargs_exit(0), 0);
    }

    #[test]
    fn parse_args_and_leading_flags() {
        let words = s(&["--quiet", "--app", "x", "config:show", "--force"]);
        assert_eq!(
            strip_leading_flags(&words),
            &s(&["config:show", "--force"])[..]
        );
        let mut g = GlobalFlags::default();
        g.scan(&words);
        assert!(g.quiet && g.force && !g.trace);
        assert_eq!(g.app.as_deref(), Some("x"));
        assert_eq!(g.all, s(&["--quiet", "--app", "--force"]));
        let words = s(&["apps:list", "--quiet"]);
        assert_eq!(strip_leading_flags(&words), &words[..]);
        assert_eq!(
            without_global_flags(&s(&["--force", "apps:destroy", "--app", "a", "x"])),
            s(&["apps:destroy", "x"])
        );
    }
}
