//! The fuzz targets' bodies: bytes in, properties checked, a panic on any
//! violation. Shared by the cargo-fuzz binaries (`fuzz/fuzz_targets/*.rs`)
//! and by the corpus replay test (`tests/tests/security_fuzz_corpus.rs`,
//! which includes this file with `#[path]`), so CI checks the committed
//! corpus with exactly the code the fuzzer ran.
//!
//! Inputs are decoded by hand (no `arbitrary`) so the replay test needs no
//! extra dependency: a leading selector byte or two, then fields separated by
//! [`SEP`] (0xFF never occurs in UTF-8, so splitting on it loses nothing once
//! the fields are decoded lossily).

use std::collections::BTreeMap;

use dokku_client::command::{
    checked_argv, escape_control, server_split, shell_line as client_shell_line,
    ssh_line as client_ssh_line, Arg, Command, SplitRule,
};
use dokku_client::parse;
use dokku_client::transport::LineSink;
use dokku_client::{DokkuVersion, Error};
use pix_sandbox::emulator::split::{ssh_split, whitespace_split, GlobalFlags, SplitEra};

/// Field separator in fuzz inputs.
pub const SEP: u8 = 0xFF;

/// A target's body.
pub type Target = fn(&[u8]);

/// Every target, by name (the corpus folders under `fuzz/corpus/`).
pub const TARGETS: &[(&str, Target)] = &[
    ("parse_case", parse_case),
    ("report", report),
    ("config", config),
    ("postgres", postgres),
    ("lines", lines),
    ("ssh_line", ssh_line),
    ("shell_line", shell_line),
];

/// Command lines `parse_case` is driven with (one per parser family): the
/// list the never-panic property test uses too.
fn commands() -> &'static [&'static str] {
    static COMMANDS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    COMMANDS.get_or_init(|| {
        include_str!("../../dokku-client/tests/data/invocations.txt")
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

const EXITS: &[i32] = &[0, 1, 2, 20, 123, 127, 255, -1];

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn fields(data: &[u8]) -> Vec<&[u8]> {
    data.split(|b| *b == SEP).collect()
}

fn byte(data: &[u8], i: usize) -> u8 {
    data.get(i).copied().unwrap_or(0)
}

fn rest(data: &[u8], from: usize) -> &[u8] {
    data.get(from..).unwrap_or(&[])
}

/// `parse::parse_case` on a chosen command line with fuzzed stdout, stderr
/// and exit code: never panics, keeps the exit code, never reports success
/// for a failed command, always serialises.
pub fn parse_case(data: &[u8]) {
    // Selector 0xFE: the whole command line is in the first field.
    let cmd = match byte(data, 0) {
        0xFE => "",
        sel => {
            let commands = commands();
            commands[usize::from(sel) % commands.len()]
        }
    };
    let exit = EXITS[usize::from(byte(data, 1)) % EXITS.len()];
    let parts = fields(rest(data, 2));
    let mut argv = parse::shell_split(cmd);
    let extra = parts.first().copied().unwrap_or(&[]);
    argv.extend(parse::shell_split(&text(extra)));
    let stdout = parts.get(1).copied().unwrap_or(&[]);
    let stderr = parts.get(2).copied().unwrap_or(&[]);
    let case = parse::parse_case(&argv, stdout, stderr, exit);
    assert_eq!(case.exit_code, exit);
    assert!(!(case.ok && exit != 0), "a failed command reported ok");
    assert!(serde_json::to_string(&case).is_ok());
}

/// Report parsers (text and JSON, every prefix) on any text.
pub fn report(data: &[u8]) {
    let json = byte(data, 0) & 1 == 1;
    let t = text(rest(data, 1));
    let blocks = parse::parse_report_text(&t, Some("app"));
    for b in &blocks {
        let _ = b.snake_fields("app");
    }
    let _ = parse::parse_report_json(
        &t,
        if json {
            parse::report::JsonReports::Many
        } else {
            parse::report::JsonReports::One
        },
    );
    let format = parse::report::ReportFormat::when(json);
    for prefix in ["app", "ps", "git", "domains", ""] {
        if let Ok(maps) = parse::report::report_maps(&t, format, prefix, None) {
            for (subject, fields) in maps {
                let _ = match prefix {
                    "app" => format!(
                        "{:?}",
                        dokku_client::AppReport::from_fields(subject, fields)
                    ),
                    "ps" => format!("{:?}", dokku_client::PsReport::from_fields(subject, fields)),
                    "git" => format!(
                        "{:?}",
                        dokku_client::GitReport::from_fields(subject, fields)
                    ),
                    _ => format!(
                        "{:?}",
                        dokku_client::DomainsReport::from_fields(subject, fields)
                    ),
                };
            }
        }
        let _ = parse::report::report_maps(&t, format, prefix, Some("subject"));
    }
}

const EXPORT_FORMATS: &[&str] = &[
    "exports",
    "envfile",
    "shell",
    "json",
    "json-list",
    "pretty",
    "docker-args",
    "docker-args-keys",
    "pack-keys",
];

/// Config parsers on any text, and the `config:export --format json` round
/// trip: any map of valid keys to any values, serialised as Dokku does, reads
/// back identical.
pub fn config(data: &[u8]) {
    let flag = byte(data, 0);
    let t = text(rest(data, 1));
    let _ = parse::parse_config_show(&t);
    for f in EXPORT_FORMATS {
        let _ = parse::parse_config_export(&t, Some(f));
    }
    let _ = parse::parse_config_export(&t, None);
    let _ = parse::parse_config_get(
        &t,
        i32::from(flag & 3),
        if flag & 4 == 4 {
            parse::config::ValueQuoting::Quoted
        } else {
            parse::config::ValueQuoting::Plain
        },
    );
    let _ = parse::parse_config_set(&t);
    let _ = parse::parse_config_unset(&t);
    // Round trip through JSON.
    let parts = fields(rest(data, 1));
    let mut vars = BTreeMap::new();
    for pair in parts.chunks(2) {
        let key = text(pair[0]);
        let value = pair.get(1).map(|v| text(v)).unwrap_or_default();
        if parse::config::is_config_key(&key) {
            vars.insert(key, value);
        }
    }
    if let Ok(json) = serde_json::to_string(&vars) {
        match parse::parse_config_export(&json, Some("json")) {
            Ok(back) => assert_eq!(back, vars, "config:export json round trip"),
            Err(e) => panic!("the JSON export {json:?} did not parse: {e}"),
        }
    }
}

/// Postgres parsers on any text, and the DSN secret rule: a password never
/// appears in a [`dokku_client::Dsn`]'s display, debug or JSON forms, nor in
/// a parsed `postgres:info`'s.
pub fn postgres(data: &[u8]) {
    let t = text(rest(data, 1));
    let rows = parse::parse_postgres_info(&t);
    let info = dokku_client::PostgresInfo::from_fields(None, &rows);
    let _ = format!("{info:?}");
    let _ = serde_json::to_string(&info);
    let _ = parse::parse_postgres_list(&t);
    let _ = parse::parse_exposed_ports(&t);
    let _ = parse::parse_backup_schedule(&t);
    let _ = dokku_client::Dsn::new(t.as_str()).to_string();

    // A DSN built from fuzzed parts.
    let parts = fields(rest(data, 1));
    let clean = |b: &[u8], bad: &[char]| -> String {
        text(b)
            .chars()
            .filter(|c| !bad.contains(c) && !c.is_whitespace())
            .collect()
    };
    let user = clean(
        parts.first().copied().unwrap_or(b"postgres"),
        &[':', '@', '/'],
    );
    let password = text(parts.get(1).copied().unwrap_or(b"secret"));
    let host = clean(parts.get(2).copied().unwrap_or(b"db"), &['@', '/', '?']);
    let database = clean(parts.get(3).copied().unwrap_or(b"db"), &['@', '/', '?']);
    if user.is_empty() || host.is_empty() || password.chars().count() < 3 {
        return;
    }
    let url = format!("postgres://{user}:{password}@{host}:5432/{database}");
    let masked = format!("postgres://{user}:***@{host}:5432/{database}");
    if masked.contains(&password) || password.contains('\n') || password.contains('\r') {
        return; // the password is also in the visible parts: nothing to check
    }
    let forms = |url: &str| {
        let dsn = dokku_client::Dsn::new(url);
        [
            dsn.to_string(),
            format!("{dsn:?}"),
            serde_json::to_string(&dsn).unwrap_or_default(),
            dsn.redacted(),
        ]
    };
    // A password that the same DSN without a password also shows (`"pos`
    // in the JSON quotes) proves nothing.
    let without = url.replace(&format!(":{password}@"), ":@");
    if forms(&without).iter().any(|f| f.contains(&password)) {
        return;
    }
    for shown in forms(&url) {
        assert!(!shown.contains(&password), "password shown in {shown:?}");
    }
    let shown = |url: &str| {
        let report = format!("=====> s postgres service information\n       Dsn:                 {url}\n       Status:              running\n");
        let info =
            dokku_client::PostgresInfo::from_fields(None, &parse::parse_postgres_info(&report));
        (
            serde_json::to_string(&info).unwrap_or_default(),
            format!("{info:?}"),
        )
    };
    // A password that is a substring of what is shown anyway (a field name,
    // the host) proves nothing: compare with the same info without it.
    let (json0, debug0) = shown(&url.replace(&format!(":{password}@"), ":@"));
    if json0.contains(&password) || debug0.contains(&password) {
        return;
    }
    let (json, debug) = shown(&url);
    assert!(
        !json.contains(&password),
        "password in postgres:info JSON {json}"
    );
    assert!(
        !debug.contains(&password),
        "password {password:?} in postgres:info Debug {debug:?}"
    );
}

/// Line parsers, `escape_control` (no control character survives) and
/// [`LineSink`] (bounded lines, nothing lost or invented).
pub fn lines(data: &[u8]) {
    let max = 1 + usize::from(byte(data, 0)) % 64;
    let chunk = 1 + usize::from(byte(data, 1)) % 97;
    let body = rest(data, 2);
    let t = text(body);
    let _ = parse::parse_apps_list(&t);
    let _ = parse::parse_version(&t);
    let _ = parse::parse_ps_scale(&t);
    let _ = parse::parse_logs(&t);
    let _ = parse::parse_ls(&t);
    let _ = parse::parse_remote_show(&t);
    let _ = parse::parse_plugin_list(&t);
    let _ = parse::parse_ssh_keys_list(&t);
    let _ = parse::parse_storage_list(&t);
    let _ = parse::parse_steps(&t);
    let _ = parse::parse_deployed_urls(&t);
    let _ = parse::shell_split(&t);
    let _ = parse::failure_message(&t, body);
    let _ = parse::stderr_messages(body);
    let _ = DokkuVersion::parse_output(&t);

    let escaped = escape_control(&t);
    assert!(
        !escaped.chars().any(char::is_control),
        "escape_control left a control character in {escaped:?}"
    );

    let mut got: Vec<Vec<u8>> = Vec::new();
    {
        let mut sink = LineSink::with_max_line(|l: &[u8]| got.push(l.to_vec()), max);
        for piece in body.chunks(chunk) {
            sink.push(piece);
        }
        sink.finish();
    }
    let mut expected: Vec<Vec<u8>> = body
        .split(|b| *b == b'\n')
        .map(|l| l[..l.len().min(max)].to_vec())
        .collect();
    if expected.last().is_some_and(Vec::is_empty) {
        expected.pop();
    }
    assert!(
        got.iter().all(|l| l.len() <= max),
        "a line over {max} bytes"
    );
    assert_eq!(
        got, expected,
        "LineSink lines (max {max}, chunks of {chunk})"
    );
}

const VERSIONS: &[Option<&str>] = &[
    None,
    Some("0.38.27"),
    Some("0.34.0"),
    Some("0.33.9"),
    Some("0.30.0"),
    Some("0.19.13"),
];

const NAMES: &[&str] = &[
    "config:set",
    "config:get",
    "config:export",
    "run",
    "apps:report",
    "apps:create",
    "git:report",
    "git:sync",
    "postgres:info",
    "postgres:create",
    "docker-options:add",
    "logs",
    "version",
];

const GLOBALS: &[&[&str]] = &[&[], &["--quiet"], &["--force"], &["--trace"]];

/// Builds a command from a fuzz input: selector bytes for the name, global
/// flags and the kind of the first argument, then the arguments.
fn fuzzed_command(data: &[u8]) -> (Command, Vec<String>) {
    let sel = byte(data, 1);
    let words: Vec<String> = fields(rest(data, 2)).into_iter().map(text).collect();
    if sel & 0x80 == 0x80 {
        // The raw escape hatch: leading `--words` become global flags.
        if let Ok(cmd) = Command::raw(words.clone()) {
            let argv = cmd.argv().into_iter().map(str::to_string).collect();
            return (cmd, argv);
        }
    }
    let name = NAMES[usize::from(sel & 0x0F) % NAMES.len()];
    let globals = GLOBALS[usize::from((sel >> 4) & 0x03)];
    let mut cmd = Command::write(name);
    for g in globals {
        cmd = cmd.global_flag(*g);
    }
    for (i, a) in words.iter().enumerate() {
        cmd = match (i, sel & 0x40 == 0x40) {
            (0, true) => cmd.flag(a.clone()),
            _ if i % 3 == 2 => cmd.secret(a.clone()),
            _ => cmd.value(a.clone()),
        };
    }
    let argv = cmd.argv().into_iter().map(str::to_string).collect();
    (cmd, argv)
}

/// [`ssh_line`](client_ssh_line): whatever it accepts, the server splits back
/// into exactly the argument list, both by the client's own reference split
/// and by the emulator's independent model of Dokku's entry script; what it
/// refuses is an `UnsafeArgument`.
pub fn ssh_line(data: &[u8]) {
    let version = VERSIONS[usize::from(byte(data, 0)) % VERSIONS.len()]
        .map(|v| DokkuVersion::parse_output(v).expect("a fixed version parses"));
    let (cmd, argv) = fuzzed_command(data);
    // A command name that is not a plain word is refused: Dokku's whitespace
    // first pass would see a quote fragment as `$1` (found by fuzzing).
    if !dokku_client::command::is_plain_word(cmd.name()) {
        assert!(
            client_ssh_line(&cmd, version.as_ref()).is_err(),
            "{:?} must be refused",
            cmd.name()
        );
        return;
    }
    // The split rule follows the command's name (Dokku shifts leading global
    // flags off first), and matches the reference's rule on every version.
    assert_eq!(
        SplitRule::for_command(version.as_ref(), cmd.name()),
        reference_rule(version.as_ref(), cmd.name()),
        "{:?}",
        cmd.name()
    );
    match client_ssh_line(&cmd, version.as_ref()) {
        Ok(line) => {
            assert!(!line.contains('\n') && !line.contains('\0'), "{line:?}");
            assert!(line.len() <= dokku_client::command::MAX_LINE_BYTES);
            // The emulator decides the rule from the first word after the
            // leading global flags, as Dokku's entry script does.
            let modern = version
                .as_ref()
                .map(|v| v.at_least(0, 34, 0))
                .unwrap_or(true);
            let era = if modern {
                SplitEra::XargsEcho
            } else {
                SplitEra::Legacy
            };
            let split = ssh_split(&line, era);
            assert!(
                split.runs && split.xargs_error.is_none(),
                "{line:?}: {split:?}"
            );
            // Dokku's first pass (whitespace pieces of the whole line, read
            // by `parse_args`) sees exactly the global flags the command
            // asked for: no value hides one.
            // The same command with every data word made plain is the
            // reference for what the first pass may read.
            let mut plain = Command::read(cmd.name());
            for g in cmd.global_flags() {
                plain = plain.global_flag(g.clone());
            }
            for a in cmd.args() {
                plain = match a {
                    Arg::Flag(f) => plain.flag(f.clone()),
                    // Data words: `Value`, `Secret`.
                    _ => plain.value("x"),
                };
            }
            let flags_of = |words: &[String]| {
                let mut f = GlobalFlags::default();
                f.scan(words);
                (f.quiet, f.trace, f.force, f.app.is_some())
            };
            let expected = flags_of(
                &plain
                    .argv()
                    .iter()
                    .map(|w| w.to_string())
                    .collect::<Vec<_>>(),
            );
            assert_eq!(
                flags_of(&whitespace_split(&line)),
                expected,
                "first pass of {line:?}"
            );
            assert_eq!(split.argv, argv, "emulator split of {line:?}");
            // The client's own reference split, with the rule of the name.
            let rule = SplitRule::for_command(version.as_ref(), cmd.name());
            let (words, err) = server_split(&line, rule);
            assert!(err.is_none(), "{line:?}: {err:?}");
            assert_eq!(words, argv, "reference split of {line:?}");
        }
        Err(Error::UnsafeArgument { argument, .. }) => {
            assert!(!argument.chars().any(char::is_control), "{argument:?}");
        }
        Err(other) => panic!("ssh_line failed with {other:?}"),
    }
}

/// The split rule of REFERENCE.md §3.1 for a first word: from 0.34.0 a word
/// containing `git` is split on whitespace and everything else goes through
/// `xargs -n 1` and echo; before, only words containing `config` or `docker-options` go through
/// xargs.
pub fn reference_rule(version: Option<&DokkuVersion>, first: &str) -> SplitRule {
    let modern = version.map(|v| v.at_least(0, 34, 0)).unwrap_or(true);
    if modern {
        if first.contains("git") {
            SplitRule::Whitespace
        } else {
            SplitRule::XargsEcho
        }
    } else if first.contains("config") || first.contains("docker-options") {
        SplitRule::Xargs
    } else {
        SplitRule::Whitespace
    }
}

/// [`shell_line`](client_shell_line): whatever it accepts, a POSIX shell
/// reads back as `[sudo -n --] PATH ARGV...` with no unquoted special
/// character.
pub fn shell_line(data: &[u8]) {
    let sudo = byte(data, 0) & 1 == 1;
    let (cmd, argv) = fuzzed_command(data);
    let path = if byte(data, 0) & 2 == 2 {
        "/usr/bin/dokku".to_string()
    } else {
        argv.last().cloned().unwrap_or_default()
    };
    let elevation = if sudo {
        dokku_client::command::Elevation::Sudo
    } else {
        dokku_client::command::Elevation::Direct
    };
    match client_shell_line(&cmd, &path, elevation) {
        Ok(line) => {
            let words = posix_words(&line);
            let mut expected: Vec<String> = Vec::new();
            if sudo {
                expected.extend(["sudo", "-n", "--"].map(String::from));
            }
            expected.push(path);
            expected.extend(argv);
            assert_eq!(words, expected, "{line:?}");
            assert_eq!(
                checked_argv(&cmd).ok(),
                Some(expected[usize::from(sudo) * 3 + 1..].to_vec())
            );
        }
        Err(Error::UnsafeArgument { .. } | Error::Config(_)) => {}
        Err(other) => panic!("shell_line failed with {other:?}"),
    }
}

/// Splits a line as a POSIX shell would, accepting only what `shell_line`
/// may produce: plain words, single-quoted text and `\'`. Panics on any
/// other character outside quotes (it would be a shell metacharacter).
pub fn posix_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                let mut closed = false;
                for q in chars.by_ref() {
                    if q == '\'' {
                        closed = true;
                        break;
                    }
                    cur.push(q);
                }
                assert!(closed, "unclosed quote in {line:?}");
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\'') => cur.push('\''),
                    other => panic!("unexpected escape {other:?} in {line:?}"),
                }
            }
            c if c.is_ascii_alphanumeric() || "-_/.:=@%+,".contains(c) => {
                in_word = true;
                cur.push(c);
            }
            other => panic!("unquoted {other:?} in {line:?}"),
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}
