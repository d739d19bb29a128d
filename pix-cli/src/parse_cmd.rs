//! `pix parse`: turn a Dokku command's recorded output into JSON.
//!
//! stdout comes on stdin; stderr from `--stderr FILE`; the exit code from
//! `--exit-code N`. The command line is the words after `--`, or one quoted
//! string split with shell-like quoting (as in the fixtures' `cmd` files).

use std::io::{Read, Write};
use std::path::PathBuf;

use clap::Args;
use dokku_client::parse::{parse_case, shell_split, ParsedCase};

/// Arguments of `pix parse`.
#[derive(Debug, Args)]
pub struct ParseArgs {
    /// A file holding the command's stderr (default: none).
    #[arg(long, value_name = "FILE")]
    pub stderr: Option<PathBuf>,
    /// The command's exit code.
    #[arg(
        long,
        default_value_t = 0,
        allow_negative_numbers = true,
        value_name = "N"
    )]
    pub exit_code: i32,
    /// The Dokku arguments (without `dokku`), after `--`; one argument is
    /// split with shell-like quoting.
    #[arg(
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "DOKKU ARGS"
    )]
    pub command: Vec<String>,
}

/// The argument list: the words as given, or one string split like a shell.
pub fn argv(words: &[String]) -> Vec<String> {
    match words {
        [one] if one.contains(char::is_whitespace) => shell_split(one),
        _ => words.to_vec(),
    }
}

/// Parses with the given streams (pure, for tests).
pub fn run_parse(words: &[String], stdout: &[u8], stderr: &[u8], exit_code: i32) -> ParsedCase {
    parse_case(&argv(words), stdout, stderr, exit_code)
}

/// Runs `pix parse`: reads stdin and the stderr file, prints the JSON.
/// Returns the process exit code (0 when the JSON was printed).
pub fn run(args: &ParseArgs) -> Result<i32, String> {
    let mut stdout = Vec::new();
    std::io::stdin()
        .read_to_end(&mut stdout)
        .map_err(|e| format!("could not read the command's stdout from stdin: {e}"))?;
    let stderr = match &args.stderr {
        Some(path) => std::fs::read(path).map_err(|e| {
            format!(
                "could not read --stderr {}: {e}; give the file holding the command's stderr",
                path.display()
            )
        })?,
        None => Vec::new(),
    };
    let case = run_parse(&args.command, &stdout, &stderr, args.exit_code);
    let json = serde_json::to_string_pretty(&case)
        .map_err(|e| format!("could not serialize the result: {e}"))?;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{json}") {
        // The reader went away (`| head`): nothing left to do.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.map_err(|e| format!("could not write the result: {e}"))?,
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_string_is_split_like_a_shell() {
        let words = vec!["config:set myapp GREETING=\"hello   world\"".to_string()];
        assert_eq!(
            argv(&words),
            vec!["config:set", "myapp", "GREETING=hello   world"]
        );
        let words = vec!["apps:list".to_string()];
        assert_eq!(argv(&words), vec!["apps:list"]);
    }

    #[test]
    fn parses_a_report() {
        let case = run_parse(
            &["apps:report".into(), "myapp".into()],
            b"=====> myapp app information\n       App dir:  /home/dokku/myapp\n",
            b"",
            0,
        );
        assert!(case.ok);
        assert_eq!(case.command, "apps:report");
        assert_eq!(
            case.result["reports"][0]["fields"]["App dir"],
            "/home/dokku/myapp"
        );
        assert_eq!(case.typed["dir"], "/home/dokku/myapp");
    }

    #[test]
    fn failure_carries_the_message() {
        let case = run_parse(
            &["apps:exists nope".into()],
            b"",
            b" !     App nope does not exist\n",
            20,
        );
        assert!(!case.ok);
        let err = case.error.unwrap();
        assert_eq!(err.kind, "app_not_found");
        assert_eq!(err.message.as_deref(), Some("App nope does not exist"));
        assert_eq!(case.result["exists"], false);
    }
}
