//! `dokku help [--all]`, `dokku <topic>:help` and the bare `dokku <topic>`
//! of the plugins whose default subcommand is their help, rendered from
//! [`super::help_data`] as Dokku's two renderers do:
//!
//! - bash plugins (`help-functions`): `sort | column -c2 -t -s,` (every
//!   comma starts a column, cells padded to the widest plus two spaces, the
//!   space after the comma kept, the last column not padded);
//! - Go plugins (`common.CommandUsage`): `columnize` with `,` as delimiter,
//!   cells trimmed, glued by two spaces, a prefix of four spaces, in the
//!   source's order.
//!
//! `dokku help` (the `dokku` script) collects each core plugin's one-line
//! `help` output and the standard plugin's commands, sorts them (`LC_ALL=C`),
//! drops lines with a `:`, cuts the arguments (`s/\s[\[\<\-\(].*,/,/`) and
//! columns them; community plugins (dokku-postgres) follow under their own
//! heading.

use super::help_data::{Style, Topic, STANDARD, TOPICS};
use super::{Code, Ctx};

/// The plugin whose help is `name:help`.
pub(crate) fn topic(name: &str) -> Option<&'static Topic> {
    TOPICS.iter().find(|t| t.name == name)
}

/// Topics whose bare name prints their help (their `subcommands/default`
/// or Go `case "<topic>"` is the help). `apps`, `config`, `logs`, `run`,
/// `events`, `enter`, `shell` are commands of their own.
pub(crate) fn bare_is_help(name: &str) -> bool {
    !matches!(
        name,
        "apps" | "config" | "logs" | "run" | "events" | "enter" | "shell"
    ) && topic(name).is_some()
}

/// util-linux `column -t -s,` over lines (empty lines are skipped).
pub(crate) fn column_t(lines: &[String]) -> String {
    let rows: Vec<Vec<&str>> = lines
        .iter()
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').collect())
        .collect();
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; cols];
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in &rows {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            line.push_str(c);
            if i + 1 < r.len() {
                let pad = widths[i] - c.chars().count() + 2;
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// `columnize` with Dokku's config (delimiter `,`, prefix four spaces,
/// glue two spaces, cells trimmed).
pub(crate) fn columnize(lines: &[&str]) -> String {
    let rows: Vec<Vec<&str>> = lines
        .iter()
        .map(|l| l.split(',').map(str::trim).collect())
        .collect();
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; cols];
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in &rows {
        let mut line = String::from("    ");
        for (i, c) in r.iter().enumerate() {
            line.push_str(c);
            if i + 1 < r.len() {
                line.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// What `dokku <topic>:help` prints.
pub(crate) fn topic_help(t: &Topic) -> String {
    let mut out = format!("Usage: dokku {}[:COMMAND]\n\n{}\n\n", t.name, t.description);
    if t.commands.is_empty() {
        return out;
    }
    out.push_str("Additional commands:\n");
    match t.style {
        Style::Bash => {
            let mut lines: Vec<String> = t.commands.iter().map(|c| format!("    {c}")).collect();
            lines.sort();
            out.push_str(&column_t(&lines));
        }
        Style::Go => out.push_str(&columnize(t.commands)),
    }
    out
}

/// What `dokku cleanup:help` (and the other standard commands) print: the
/// standard plugin's line for that command, columned.
pub(crate) fn standard_help(cmd: &str) -> Option<String> {
    let lines: Vec<String> = STANDARD
        .iter()
        .filter(|l| l.split_whitespace().next() == Some(cmd))
        .map(|l| format!("    {l}"))
        .collect();
    (!lines.is_empty()).then(|| column_t(&lines))
}

/// Cuts the arguments out of a help line (`s/\s[\[\<\-\(].*,/,/`: from the
/// first blank followed by `[`, `<`, `-` or `(` to the last comma).
fn cut_arguments(line: &str) -> String {
    let b = line.as_bytes();
    let start = (0..b.len().saturating_sub(1))
        .find(|&i| b[i].is_ascii_whitespace() && matches!(b[i + 1], b'[' | b'<' | b'-' | b'('));
    match (start, line.rfind(',')) {
        (Some(s), Some(c)) if c > s => format!("{}{}", &line[..s], &line[c..]),
        _ => line.to_string(),
    }
}

/// `dokku help` (`all`: `dokku help --all`).
pub(crate) fn dokku_help(ctx: &mut Ctx, all: bool) -> Code {
    for l in [
        "Usage: dokku [--quiet|--trace|--force] COMMAND <app> [command-specific-options]",
        "",
        "Primary help options, type \"dokku COMMAND:help\" for more details, or dokku help --all to see all commands.",
        "",
        "Commands:",
        "",
    ] {
        ctx.log_quiet(l);
    }
    let mut lines: Vec<String> = Vec::new();
    if all {
        for t in TOPICS {
            lines.extend(t.commands.iter().map(|c| format!("    {c}")));
        }
        lines.extend(STANDARD.iter().map(|c| format!("    {c}")));
    } else {
        for t in TOPICS {
            lines.push(format!(
                "    {}, {}",
                t.name,
                t.summary.unwrap_or(t.description)
            ));
        }
        lines.extend(STANDARD.iter().map(|c| format!("    {c}")));
        lines.retain(|l| !l.contains(':'));
        lines = lines.iter().map(|l| cut_arguments(l)).collect();
    }
    lines.sort();
    let text = column_t(&lines);
    ctx.io.out(&text);
    ctx.log_quiet("");
    ctx.log_quiet("Community plugin commands:");
    ctx.log_quiet("");
    // dokku-postgres's one-line help (its `--all` list is not modelled).
    let community = vec!["    postgres, Manage postgres services".to_string()];
    ctx.io.out(&column_t(&community));
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bash_topics_sort_and_column_their_commands() {
        let t = topic("domains").unwrap();
        let text = topic_help(t);
        assert!(text.starts_with(
            "Usage: dokku domains[:COMMAND]\n\nManage domains used by the proxy\n\nAdditional commands:\n"
        ));
        let lines: Vec<&str> = text.lines().skip(5).collect();
        assert_eq!(lines.len(), t.commands.len());
        // sorted, and every description starts in the same column
        let mut sorted = lines.clone();
        sorted.sort();
        assert_eq!(lines, sorted);
        let col = lines[0].find("  Add domains to app").unwrap();
        assert!(lines[1].starts_with("    domains:add-global"));
        assert_eq!(lines[1].find("  Add global").unwrap(), col);
    }

    #[test]
    fn go_topics_keep_their_order_and_trim_cells() {
        let text = topic_help(topic("ps").unwrap());
        assert!(text.contains("\nManage app processes\n"));
        let first = text.lines().nth(5).unwrap();
        assert!(first.starts_with("    ps:inspect <app>  "), "{first}");
        assert!(first.ends_with("Displays a sanitized version of docker inspect for an app"));
    }

    #[test]
    fn the_command_list_cuts_arguments_and_drops_subcommands() {
        assert_eq!(
            cut_arguments("    cleanup [<app>], Cleans up"),
            "    cleanup, Cleans up"
        );
        assert_eq!(
            cut_arguments("    ps, Manage app processes"),
            "    ps, Manage app processes"
        );
        assert_eq!(
            standard_help("cleanup").unwrap(),
            "    cleanup [<app>]   Cleans up exited/dead Docker containers and removes dangling images\n"
        );
        assert!(bare_is_help("storage") && bare_is_help("plugin"));
        assert!(!bare_is_help("apps") && !bare_is_help("nope"));
    }
}
