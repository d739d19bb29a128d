//! The hostile-word corpus (`tests/data/hostile_words.txt`), shared by the
//! security tests: one file, so every check reads the same words.

use std::path::{Path, PathBuf};

/// Where the corpus lives.
pub fn hostile_words_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/hostile_words.txt")
}

/// Every word of the corpus, in file order.
///
/// # Panics
/// When the file is missing or a line is malformed (a test fixture).
pub fn hostile_words() -> Vec<String> {
    let path = hostile_words_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    parse_corpus(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parses the corpus format (see the file's header).
pub fn parse_corpus(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(v) = line.strip_prefix("value: ") {
            words.push(unescape(v).map_err(|e| format!("line {n}: {e}"))?);
        } else if line == "value:" {
            words.push(String::new());
        } else if let Some(rest) = line.strip_prefix("repeat: ") {
            let (count, v) = rest
                .split_once(' ')
                .ok_or_else(|| format!("line {n}: `repeat: N TEXT`"))?;
            let count: usize = count
                .parse()
                .map_err(|e| format!("line {n}: count {count:?}: {e}"))?;
            words.push(
                unescape(v)
                    .map_err(|e| format!("line {n}: {e}"))?
                    .repeat(count),
            );
        } else {
            return Err(format!("line {n}: expected `value: ` or `repeat: `"));
        }
    }
    Ok(words)
}

fn unescape(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('e') => out.push('\u{1b}'),
            Some('\\') => out.push('\\'),
            Some('u') => {
                let rest: String = chars.by_ref().take_while(|&c| c != '}').collect();
                let hex = rest
                    .strip_prefix('{')
                    .ok_or_else(|| format!("`\\u{rest}`: write \\u{{HEX}}"))?;
                let code =
                    u32::from_str_radix(hex, 16).map_err(|e| format!("\\u{{{hex}}}: {e}"))?;
                out.push(char::from_u32(code).ok_or_else(|| format!("\\u{{{hex}}}: not a char"))?);
            }
            other => return Err(format!("unknown escape \\{}", other.unwrap_or(' '))),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_corpus_is_large_and_covers_the_issue_list() {
        let words = hostile_words();
        assert!(words.len() >= 60, "{}", words.len());
        for needle in [
            "$(id)",
            "`id`",
            "*",
            "'",
            "\"",
            "back\\slash",
            "tab\there",
            "a  two  spaces",
            "-n",
            "-e",
            "-E",
            "--help",
            "--version",
            " --app x ",
            " --force",
            " --trace",
            "ünïcödé ✓",
            "",
        ] {
            assert!(words.iter().any(|w| w == needle), "{needle:?} missing");
        }
        assert!(words.iter().any(|w| w.len() == 5000));
    }

    #[test]
    fn escapes_and_repeats() {
        let words = parse_corpus("# c\nvalue: a\\tb\\u{e9}\\0\nvalue:\nvalue:  x \nrepeat: 3 ab\n")
            .unwrap();
        assert_eq!(words, ["a\tbé\0", "", " x ", "ababab"]);
        assert!(parse_corpus("nope").is_err());
        assert!(parse_corpus("value: \\q").is_err());
    }
}
