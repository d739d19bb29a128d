//! `docker-options:add|remove|clear|list|report` (Dokku's
//! `plugins/docker-options`, Go: `functions.go`, `dockeroptions.go`,
//! `internal-functions.go`, `report.go`) as state.
//!
//! Options live in the `docker-options` properties `<process>.<phase>`
//! (`_default_` for every container of the app), one option a line, sorted.
//! An option string given to `add`/`remove` is split into shell words
//! without expansion (quotes delimit words and are removed, `$(...)`,
//! `${...}`, backticks and `$name` stay as written), grouped on flag
//! boundaries (a word starting with `-`), each group stored as one option
//! with its words single-quoted where the shell would read them
//! (`quoteShellArg`); a `--process` inside the string is lifted into the
//! process scopes. The emulator runs no containers, so the options are
//! stored and reported, never applied.
//!
//! Where it differs: Dokku splits with mvdan.cc/sh's parser, whose messages
//! for malformed input (an unclosed quote, an operator such as `;`) the
//! emulator does not reproduce word for word.

use super::reports::{go_report_with_lists, ListsFn, RowsFn};
use super::{go_parse, properties, Code, Ctx, GoFlag};

/// `DefaultProcessType`.
const DEFAULT_PROCESS: &str = "_default_";
/// `availablePhases`.
const PHASES: [&str; 3] = ["build", "deploy", "run"];
const PLUGIN: &str = "docker-options";

fn process_flag() -> [GoFlag; 1] {
    [GoFlag {
        name: "process",
        value: Some("strings"),
        usage: "process types to scope this option to (deploy phase only)",
    }]
}

/// pflag with `SetInterspersed(false)`: the leading flags, then every word
/// after the first positional as given.
fn parse_leading(
    ctx: &mut Ctx,
    cmd: &str,
    args: &[String],
) -> Result<(Vec<String>, Vec<String>), Code> {
    let mut end = 0;
    while end < args.len() {
        let a = args[end].as_str();
        if a == "--" {
            break;
        }
        if !(a.len() > 1 && a.starts_with('-')) {
            break;
        }
        end += if a == "--process" { 2 } else { 1 };
    }
    let end = end.min(args.len());
    let g = go_parse(ctx, cmd, &args[..end], &process_flag())?;
    let mut rest: Vec<String> = g.positional.clone();
    let tail = match args.get(end).map(String::as_str) {
        Some("--") => &args[end + 1..],
        _ => &args[end..],
    };
    rest.extend(tail.iter().cloned());
    Ok((g.slice("process"), rest))
}

/// `docker-options:add [--process P] <app> <phases> <option...>`.
pub(crate) fn add(ctx: &mut Ctx, args: &[String]) -> Code {
    change(ctx, "docker-options:add", args, true)
}

/// `docker-options:remove [--process P] <app> <phases> <option...>`.
pub(crate) fn remove(ctx: &mut Ctx, args: &[String]) -> Code {
    change(ctx, "docker-options:remove", args, false)
}

fn change(ctx: &mut Ctx, cmd: &str, args: &[String], adding: bool) -> Code {
    let (processes, pos) = match parse_leading(ctx, cmd, args) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let app = pos.first().cloned().unwrap_or_default();
    let phases_arg = pos.get(1).cloned().unwrap_or_default();
    let option = pos.get(2..).map(|p| p.join(" ")).unwrap_or_default();
    if let Err(c) = ctx.load_app(&app) {
        return c;
    }
    let phases = match parse_phases(&phases_arg) {
        Ok(p) => p,
        Err(e) => return ctx.fail(&e),
    };
    let (options, lifted) = match split_option_string(&option) {
        Ok(x) => x,
        Err(e) => return ctx.fail(&e),
    };
    if options.is_empty() {
        return ctx.fail(if adding {
            "Please specify docker options to add to the phase"
        } else {
            "Please specify docker options to remove from the phase"
        });
    }
    let mut all = processes;
    all.extend(lifted);
    let processes = dedupe(all);
    if let Err(e) = validate_process_flag(&processes, &phases) {
        return ctx.fail(&e);
    }
    if adding {
        for p in &processes {
            let declared = ctx.load_app(&app).map(|st| st.procfile.contains_key(p));
            if declared.is_ok_and(|d| !d) && !procfile_missing(ctx, &app) {
                ctx.warn(&format!(
                    "Process type \"{p}\" is not declared in the Procfile for {app}"
                ));
            }
        }
    }
    let scopes = if processes.is_empty() {
        vec![DEFAULT_PROCESS.to_owned()]
    } else {
        processes
    };
    for opt in &options {
        for scope in &scopes {
            for phase in &phases {
                let mut list = read(ctx, &app, scope, phase);
                if adding {
                    list.push(opt.clone());
                } else {
                    list.retain(|stored| !options_equal(stored, opt));
                }
                list.sort();
                if let Err(c) = write(ctx, &app, scope, phase, &list) {
                    return c;
                }
            }
        }
    }
    0
}

/// `WarnIfProcessNotInProcfile` returns silently without a Procfile.
fn procfile_missing(ctx: &Ctx, app: &str) -> bool {
    !ctx.layout.tree_dir(app).join("Procfile").is_file()
}

/// `docker-options:clear [--process P] <app> [<phases>]`.
pub(crate) fn clear(ctx: &mut Ctx, args: &[String]) -> Code {
    let (processes, pos) = match parse_leading(ctx, "docker-options:clear", args) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let app = pos.first().cloned().unwrap_or_default();
    let phases_arg = pos.get(1).cloned().unwrap_or_default();
    if let Err(c) = ctx.load_app(&app) {
        return c;
    }
    if processes.is_empty() {
        let phases: Vec<String> = if phases_arg.is_empty() {
            ctx.info1(&format!("Clearing docker-options for {app} on all phases"));
            PHASES.iter().map(|p| (*p).to_owned()).collect()
        } else {
            match parse_phases(&phases_arg) {
                Ok(p) => p,
                Err(e) => return ctx.fail(&e),
            }
        };
        for phase in &phases {
            if !phases_arg.is_empty() {
                ctx.info1(&format!(
                    "Clearing docker-options for {app} on phase {phase}"
                ));
            }
            if let Err(c) = properties::write(ctx, PLUGIN, &app, &key(DEFAULT_PROCESS, phase), "") {
                return c;
            }
        }
        return 0;
    }
    let mut phases = match parse_phases(&phases_arg) {
        Ok(p) => p,
        Err(e) => return ctx.fail(&e),
    };
    if phases.is_empty() {
        phases = vec!["deploy".into()];
    }
    if let Err(e) = validate_process_flag(&processes, &phases) {
        return ctx.fail(&e);
    }
    for p in &processes {
        for phase in &phases {
            ctx.info1(&format!(
                "Clearing docker-options for {app} on phase {phase} for process {p}"
            ));
            if let Err(c) = properties::write(ctx, PLUGIN, &app, &key(p, phase), "") {
                return c;
            }
        }
    }
    0
}

/// `docker-options:list [--process P] --phase PHASE <app>`.
pub(crate) fn list(ctx: &mut Ctx, args: &[String]) -> Code {
    let spec = [
        GoFlag {
            name: "process",
            value: Some("string"),
            usage: "process type to query (omit for the default scope)",
        },
        GoFlag {
            name: "phase",
            value: Some("string"),
            usage: "phase to query [build|deploy|run] (required)",
        },
    ];
    let g = match go_parse(ctx, "docker-options:list", args, &spec) {
        Ok(g) => g,
        Err(c) => return c,
    };
    let app = g.positional.first().cloned().unwrap_or_default();
    if let Err(c) = ctx.load_app(&app) {
        return c;
    }
    let phase = g.get("phase").unwrap_or_default().to_owned();
    let process = g.get("process").unwrap_or_default().to_owned();
    if phase.is_empty() {
        return ctx.fail("--phase is required");
    }
    if !PHASES.contains(&phase.as_str()) {
        return ctx.fail(&format!("Phase must be one of [{}]", PHASES.join(" ")));
    }
    if !process.is_empty() {
        if process == DEFAULT_PROCESS {
            return ctx.fail(&format!(
                "\"{DEFAULT_PROCESS}\" is reserved and cannot be used as a --process value"
            ));
        }
        if phase != "deploy" {
            return ctx.fail(&format!(
                "--process is only supported for the deploy phase, got \"{phase}\""
            ));
        }
    }
    let scope = if process.is_empty() {
        DEFAULT_PROCESS
    } else {
        &process
    };
    for option in read(ctx, &app, scope, &phase) {
        ctx.io.out(&format!("{option}\n"));
    }
    0
}

/// `docker-options:report [<app>|--global] [--format F] [<flag>]`.
pub(crate) fn report(ctx: &mut Ctx, args: &[String]) -> Code {
    let rows: &mut RowsFn<'_> = &mut |ctx, subject| {
        let app = subject.map_or("--global", |(a, _)| a);
        let mut rows = Vec::new();
        if subject.is_some() {
            for phase in PHASES {
                rows.push((
                    format!("--docker-options-{phase}"),
                    read(ctx, app, DEFAULT_PROCESS, phase).join(" "),
                ));
            }
        }
        for p in process_types(ctx, app) {
            rows.push((
                format!("--docker-options-deploy.{p}"),
                read(ctx, app, &p, "deploy").join(" "),
            ));
        }
        rows
    };
    let lists: &mut ListsFn<'_> = &mut |ctx, subject| {
        let Some(app) = subject else {
            return Vec::new();
        };
        let mut lists: Vec<(String, Vec<String>)> = PHASES
            .iter()
            .map(|phase| {
                (
                    format!("{phase}-list"),
                    read(ctx, app, DEFAULT_PROCESS, phase),
                )
            })
            .collect();
        for p in process_types(ctx, app) {
            lists.push((format!("deploy.{p}-list"), read(ctx, app, &p, "deploy")));
        }
        lists
    };
    go_report_with_lists(
        ctx,
        args,
        "docker-options",
        (Some("docker-options"), true),
        rows,
        lists,
    )
}

/// `ListProcessTypesWithOptions`: the process types with a property
/// (other than the default scope), sorted.
fn process_types(ctx: &Ctx, app: &str) -> Vec<String> {
    let mut types: Vec<String> = properties::all(ctx, PLUGIN, app)
        .keys()
        .filter_map(|k| {
            let (p, phase) = k.rsplit_once('.')?;
            (!p.is_empty() && PHASES.contains(&phase) && p != DEFAULT_PROCESS).then(|| p.to_owned())
        })
        .collect();
    types.sort();
    types.dedup();
    types
}

fn key(process: &str, phase: &str) -> String {
    format!("{process}.{phase}")
}

/// `GetDockerOptionsForProcessPhase`: the stored lines, trimmed, none empty.
fn read(ctx: &Ctx, app: &str, process: &str, phase: &str) -> Vec<String> {
    properties::get(ctx, PLUGIN, app, &key(process, phase))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `PropertyListWrite` (an empty list is an empty property, still present).
fn write(
    ctx: &mut Ctx,
    app: &str,
    process: &str,
    phase: &str,
    list: &[String],
) -> Result<(), Code> {
    properties::write_kept(ctx, PLUGIN, app, &key(process, phase), &list.join("\n"))
}

/// `parsePhases`: comma-separated, each one of the phases; none for "".
fn parse_phases(arg: &str) -> Result<Vec<String>, String> {
    if arg.is_empty() {
        return Ok(Vec::new());
    }
    let phases: Vec<String> = arg.split(',').map(str::to_owned).collect();
    if phases.iter().any(|p| !PHASES.contains(&p.as_str())) {
        return Err(format!("Phase(s) must be one of [{}]", PHASES.join(" ")));
    }
    Ok(phases)
}

/// `ValidateProcessFlag`.
fn validate_process_flag(processes: &[String], phases: &[String]) -> Result<(), String> {
    if processes.is_empty() {
        return Ok(());
    }
    for p in processes {
        if p.is_empty() {
            return Err("--process value must not be empty".into());
        }
        if p == DEFAULT_PROCESS {
            return Err(format!(
                "\"{DEFAULT_PROCESS}\" is reserved and cannot be used as a --process value"
            ));
        }
    }
    if let Some(phase) = phases.iter().find(|p| *p != "deploy") {
        return Err(format!(
            "--process is only supported for the deploy phase, got \"{phase}\""
        ));
    }
    Ok(())
}

fn dedupe(list: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in list {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// `SplitOptionString`: the options (one per flag group, re-quoted) and the
/// `--process` values found inside.
fn split_option_string(input: &str) -> Result<(Vec<String>, Vec<String>), String> {
    if input.trim().is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let fields =
        literal_fields(input).map_err(|e| format!("Unable to parse docker option: {e}"))?;
    let mut options = Vec::new();
    let mut processes = Vec::new();
    for group in group_tokens(fields) {
        let head = group[0].as_str();
        if head == "--process" {
            match group.len() {
                1 => return Err("--process requires a value".into()),
                2 => processes.push(group[1].clone()),
                n => return Err(format!("--process accepts a single value, got {}", n - 1)),
            }
            continue;
        }
        if let Some(v) = head.strip_prefix("--process=") {
            if group.len() > 1 {
                return Err("--process=value cannot be followed by additional tokens".into());
            }
            processes.push(v.to_owned());
            continue;
        }
        options.push(
            group
                .iter()
                .map(|t| quote_shell_arg(t))
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    Ok((options, processes))
}

/// `groupOptionTokens`: a new group at every flag-looking word.
fn group_tokens(fields: Vec<String>) -> Vec<Vec<String>> {
    let mut groups: Vec<Vec<String>> = Vec::new();
    let mut current: Vec<String> = Vec::new();
    for tok in fields {
        if tok.len() > 1 && tok.starts_with('-') && !current.is_empty() {
            groups.push(std::mem::take(&mut current));
        }
        current.push(tok);
    }
    if !current.is_empty() {
        groups.push(current);
    }
    groups
}

/// `optionsEqual`: equal strings, or equal shell words.
fn options_equal(stored: &str, option: &str) -> bool {
    stored == option
        || matches!((literal_fields(stored), literal_fields(option)), (Ok(a), Ok(b)) if a == b)
}

/// `quoteShellArg`.
fn quote_shell_arg(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    let needs = s.chars().any(|c| {
        matches!(
            c,
            ' ' | '\t'
                | '\n'
                | '"'
                | '\''
                | '$'
                | '`'
                | '\\'
                | '*'
                | '?'
                | '['
                | ']'
                | '<'
                | '>'
                | '|'
                | '&'
                | ';'
                | '('
                | ')'
                | '{'
                | '}'
                | '!'
                | '#'
                | '~'
        )
    });
    if !needs {
        return s.to_owned();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// `literalFields`: shell words without expansion. Quotes delimit and are
/// removed, backslashes are removed as the shell's quote removal does,
/// `$(...)`, `$((...))`, `${...}`, backticks and `$name` keep their source
/// text; a word starting with `#` begins a comment. Shell operators outside
/// quotes are not words (an error, as the parser's).
fn literal_fields(input: &str) -> Result<Vec<String>, String> {
    let chars: Vec<char> = input.chars().collect();
    let mut fields = Vec::new();
    let mut i = 0;
    loop {
        while i < chars.len() && matches!(chars[i], ' ' | '\t' | '\n') {
            i += 1;
        }
        if i >= chars.len() || chars[i] == '#' {
            break;
        }
        let mut word = String::new();
        while i < chars.len() && !matches!(chars[i], ' ' | '\t' | '\n') {
            let c = chars[i];
            match c {
                '\'' => {
                    let close = find_from(&chars, i + 1, '\'')
                        .ok_or("reached EOF without closing quote '")?;
                    word.extend(&chars[i + 1..close]);
                    i = close + 1;
                }
                '"' => {
                    i += 1;
                    loop {
                        let Some(&d) = chars.get(i) else {
                            return Err("reached EOF without closing quote \"".into());
                        };
                        match d {
                            '"' => {
                                i += 1;
                                break;
                            }
                            '\\' => {
                                match chars.get(i + 1) {
                                    Some('\n') => {}
                                    Some(&n @ ('$' | '`' | '"' | '\\')) => word.push(n),
                                    Some(&n) => {
                                        word.push('\\');
                                        word.push(n);
                                    }
                                    None => word.push('\\'),
                                }
                                i += 2;
                            }
                            '$' | '`' => {
                                let end = substitution_end(&chars, i)?;
                                word.extend(&chars[i..end]);
                                i = end;
                            }
                            _ => {
                                word.push(d);
                                i += 1;
                            }
                        }
                    }
                }
                '\\' => {
                    match chars.get(i + 1) {
                        Some('\n') => {}
                        Some(&n) => word.push(n),
                        None => word.push('\\'),
                    }
                    i += 2;
                }
                '$' | '`' => {
                    let end = substitution_end(&chars, i)?;
                    word.extend(&chars[i..end]);
                    i = end;
                }
                ';' | '&' | '|' | '<' | '>' | '(' | ')' => {
                    return Err(format!("{c} is not a word"));
                }
                _ => {
                    word.push(c);
                    i += 1;
                }
            }
        }
        fields.push(word);
    }
    Ok(fields)
}

fn find_from(chars: &[char], from: usize, c: char) -> Option<usize> {
    chars
        .get(from..)?
        .iter()
        .position(|x| *x == c)
        .map(|p| p + from)
}

/// The end (exclusive) of the expansion starting at `start` (`$` or a
/// backtick); a `$` that starts none is one character.
fn substitution_end(chars: &[char], start: usize) -> Result<usize, String> {
    if chars[start] == '`' {
        let mut i = start + 1;
        while i < chars.len() {
            match chars[i] {
                '\\' => i += 2,
                '`' => return Ok(i + 1),
                _ => i += 1,
            }
        }
        return Err("reached EOF without closing quote `".into());
    }
    let (open, close) = match chars.get(start + 1) {
        Some('(') => ('(', ')'),
        Some('{') => ('{', '}'),
        _ => return Ok(start + 1),
    };
    let mut depth = 0usize;
    let mut i = start + 1;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            i += 2;
            continue;
        }
        if c == '\'' && open == '(' {
            i = find_from(chars, i + 1, '\'').ok_or("reached EOF without closing quote '")? + 1;
            continue;
        }
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                return Ok(i + 1);
            }
        }
        i += 1;
    }
    Err(format!("reached EOF without matching {open} with {close}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<String> {
        literal_fields(s).unwrap_or_else(|e| vec![format!("error: {e}")])
    }

    #[test]
    fn words_keep_expansions_and_lose_quotes() {
        assert_eq!(split("--label=x=$(id)"), ["--label=x=$(id)"]);
        assert_eq!(
            split("-v '/a b:/c' \"$HOME/x\""),
            ["-v", "/a b:/c", "$HOME/x"]
        );
        assert_eq!(split(r#"a\ b "c\"d" 'e\f'"#), ["a b", "c\"d", r"e\f"]);
        assert_eq!(
            split("--x=$(echo $(id) ')') y"),
            ["--x=$(echo $(id) ')')", "y"]
        );
        assert_eq!(split("a `id` ${X:-y} # c"), ["a", "`id`", "${X:-y}"]);
        assert!(literal_fields("a; b").is_err());
        assert!(literal_fields("'open").is_err());
    }

    #[test]
    fn options_group_on_flags_and_are_requoted() {
        let (opts, procs) =
            split_option_string("--build-arg X=Y --link a --process web --label=x=$(id)")
                .unwrap_or_default();
        assert_eq!(opts, ["--build-arg X=Y", "--link a", "'--label=x=$(id)'"]);
        assert_eq!(procs, ["web"]);
        assert_eq!(quote_shell_arg("it's"), r"'it'\''s'");
        assert_eq!(quote_shell_arg(""), "''");
        assert!(options_equal("'--label=x=$(id)'", "--label=x=$(id)"));
        assert!(split_option_string("--process").is_err());
    }

    #[test]
    fn phases_and_process_scopes() {
        assert_eq!(
            parse_phases("build,run").unwrap_or_default(),
            ["build", "run"]
        );
        assert_eq!(
            parse_phases("nope").unwrap_err(),
            "Phase(s) must be one of [build deploy run]"
        );
        assert!(validate_process_flag(&["web".into()], &["deploy".into()]).is_ok());
        assert_eq!(
            validate_process_flag(&["web".into()], &["run".into()]).unwrap_err(),
            "--process is only supported for the deploy phase, got \"run\""
        );
    }
}
