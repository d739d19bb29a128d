//! The `pix` command.
//!
//! Thin over `pix-ops` and `dokku-client`: parse the command line, choose
//! the host, call the library, print (tables or `--json`), map errors to the
//! exit codes of `pix help exit-codes`.

// clap turns the doc comments of the command-line definition into `--help`
// text, whose conventions (`[default: ...]`, `<version>`) are not rustdoc
// links or HTML.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]

use clap::{CommandFactory, Parser};

mod apps;
mod cli;
mod context;
mod db;
mod deploy_cmd;
mod exit;
mod misc;
mod output;
mod parse_cmd;
mod provision_cmd;
mod release_cmd;
mod releases_cmd;
mod remote_cmd;
mod render;
mod reset_cmd;
mod review_cmd;
mod spinner;
mod status_all;
mod trust_cmd;

use cli::{Cli, Commands};
use context::Ctx;
use exit::Failure;
use output::{neutralise, paint, Out};

fn init_tracing(verbose: u8) {
    let filter = match verbose {
        0 => None,
        1 => Some("warn,dokku_client=debug,pix_ops=debug"),
        _ => Some("debug"),
    };
    let filter = match (std::env::var("RUST_LOG"), filter) {
        (Ok(env), _) if !env.is_empty() => tracing_subscriber::EnvFilter::new(env),
        (_, Some(f)) => tracing_subscriber::EnvFilter::new(f),
        (_, None) => tracing_subscriber::EnvFilter::new("warn"),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(!output::no_color_env() && std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

/// `pix help [COMMAND...|exit-codes]`.
fn help(out: &Out, topic: &[String]) -> Result<(), Failure> {
    if topic.len() == 1 && topic[0] == "exit-codes" {
        return out.raw(exit::HELP.as_bytes());
    }
    let mut cmd = Cli::command();
    let mut current = &mut cmd;
    for word in topic {
        current = match current.find_subcommand_mut(word) {
            Some(c) => c,
            None => {
                return Err(Failure::usage(format!(
                    "no command or help topic {word:?}; run `pix help` for the list (topics: exit-codes)"
                )))
            }
        };
    }
    let text = current.render_long_help().to_string();
    out.raw(text.as_bytes())?;
    if topic.is_empty() {
        out.raw(
            b"\nHelp topics:\n  exit-codes  what each exit code means (`pix help exit-codes`)\n",
        )?;
    }
    Ok(())
}

async fn dispatch(ctx: &Ctx, command: &Commands) -> Result<(), Failure> {
    match command {
        Commands::Apps(c) => apps::apps(ctx, c).await,
        Commands::Ps(c) => apps::ps(ctx, c).await,
        Commands::Config(c) => apps::config(ctx, c).await,
        Commands::Db(c) => db::db(ctx, c).await,
        Commands::Run(a) => misc::run(ctx, a).await,
        Commands::Logs(a) => misc::logs(ctx, a).await,
        Commands::Status(a) if a.all => status_all::status_all(ctx).await,
        Commands::Status(_) => misc::status(ctx).await,
        Commands::SshKeys(c) => misc::ssh_keys(ctx, c).await,
        Commands::Storage(c) => misc::storage(ctx, c).await,
        Commands::Dokku(a) => misc::dokku(ctx, a).await,
        Commands::Deploy(a) => deploy_cmd::deploy(ctx, a).await,
        Commands::Releases(a) => releases_cmd::releases(ctx, a).await,
        Commands::Rollback(a) => releases_cmd::rollback(ctx, a).await,
        Commands::ReviewApp(c) => review_cmd::review(ctx, c).await,
        Commands::Remote(c) => remote_cmd::remote(ctx, c).await,
        Commands::Ssh(c) => trust_cmd::ssh(ctx, c).await,
        Commands::Provision(a) => provision_cmd::provision(ctx, a).await,
        Commands::Release(a) => release_cmd::release(ctx, a).await,
        Commands::Parse(_) | Commands::Completions(_) | Commands::Man(_) | Commands::Help(_) => {
            Ok(())
        }
    }
}

/// The environment names (and aliases) of the pix.toml found from here
/// (`PIX_CONFIG` or walking up), for completions; none without one.
fn environment_names() -> Vec<String> {
    let from_env = std::env::var_os("PIX_CONFIG")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from);
    let Ok(cwd) = std::env::current_dir() else {
        return Vec::new();
    };
    let Ok(ambient) = pix_ops::select::Ambient::discover(from_env.as_deref(), &cwd) else {
        return Vec::new();
    };
    let mut names: Vec<String> = ambient
        .config
        .iter()
        .flat_map(|c| {
            c.environments.iter().flat_map(|(name, e)| {
                std::iter::once(name.clone()).chain(e.aliases.iter().cloned())
            })
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The command definition with `names` offered wherever an environment is
/// asked for (`--env`, `deploy`, `db reset`, `remote repair`), so the
/// generated completions complete them; values are still free text.
fn with_environment_names(cmd: clap::Command, names: &[String]) -> clap::Command {
    if names.is_empty() {
        return cmd;
    }
    let offer = |arg: clap::Arg| {
        arg.value_parser(clap::builder::PossibleValuesParser::new(
            names
                .iter()
                .map(|n| clap::builder::PossibleValue::new(n.clone())),
        ))
    };
    let mut cmd = cmd.mut_arg("environment", offer);
    for path in [&["deploy"][..], &["db", "reset"], &["remote", "repair"]] {
        cmd = mut_path(cmd, path, &|c: clap::Command| {
            let arg = if c.get_arguments().any(|a| a.get_id() == "environment") {
                "environment"
            } else {
                "remote"
            };
            c.mut_arg(arg, offer)
        });
    }
    cmd
}

fn mut_path(
    cmd: clap::Command,
    path: &[&str],
    f: &dyn Fn(clap::Command) -> clap::Command,
) -> clap::Command {
    match path.split_first() {
        None => f(cmd),
        Some((first, rest)) => cmd.mut_subcommand(*first, |sub| mut_path(sub, rest, f)),
    }
}

/// `pix man [COMMAND...] [--out-dir DIR]`.
fn man(out: &Out, args: &cli::ManArgs) -> Result<(), Failure> {
    let mut root = Cli::command().disable_help_subcommand(true);
    root.build();
    if let Some(dir) = &args.out_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::io(format!("creating {}", dir.display()), e))?;
        clap_mangen::generate_to(Cli::command(), dir)
            .map_err(|e| Failure::io(format!("writing the man pages into {}", dir.display()), e))?;
        out.note(&format!("man pages written to {}", dir.display()));
        return Ok(());
    }
    let mut page = &root;
    for word in &args.command {
        page = page.find_subcommand(word).ok_or_else(|| {
            Failure::usage(format!(
                "no command {word:?} under `{}`; run `pix help` for the list",
                page.get_display_name().unwrap_or("pix").replace('-', " ")
            ))
        })?;
    }
    let mut buf = Vec::new();
    clap_mangen::Man::new(page.clone())
        .render(&mut buf)
        .map_err(|e| Failure::io("rendering the man page", e))?;
    out.raw(&buf)
}

/// Runs the offline commands (no runtime needed); `None` for the others.
fn offline(out: &Out, command: &Commands) -> Option<Result<(), Failure>> {
    Some(match command {
        Commands::Parse(args) => match parse_cmd::run(args) {
            Ok(0) => Ok(()),
            Ok(code) => Err(Failure::Exit(code)),
            Err(message) => {
                eprintln!("pix parse: {message}");
                Err(Failure::Exit(exit::FAILURE))
            }
        },
        Commands::Completions(a) => {
            let mut buf = Vec::new();
            let mut cmd = with_environment_names(Cli::command(), &environment_names());
            clap_complete::generate(a.shell, &mut cmd, "pix", &mut buf);
            out.raw(&buf)
        }
        Commands::Man(a) => man(out, a),
        Commands::Help(h) => help(out, &h.topic),
        _ => return None,
    })
}

/// Prints a failure on stderr (and as JSON on stdout with `--json`).
fn report(out: &Out, global: &context::Global, failure: &Failure, code: i32) {
    if matches!(failure, Failure::Exit(_)) {
        return;
    }
    let mut message = failure.message();
    if let Some(hint) = exit::hint(failure, &hint_globals(global)) {
        message = format!("{message}; {hint}");
    }
    // Always neutralised: an error message may quote what a hostile server
    // printed, and a script's log is often shown on a terminal later.
    let shown = neutralise(&message);
    eprintln!("{} {shown}", paint("error:", "1;31", out.color_err));
    if out.json {
        let kind = match failure {
            Failure::Ops(pix_ops::OpsError::Dokku(d)) => d.kind().to_string(),
            Failure::Interrupted(_) => "interrupted".into(),
            Failure::NotFound(_) => "not_found".into(),
            _ => "error".into(),
        };
        let _ = out.json(&serde_json::json!({
            "error": { "kind": kind, "message": message, "exit_code": code }
        }));
    }
}

/// The global flags a hint's `pix` command must repeat to act on the same
/// files (shell-quoted).
fn hint_globals(global: &context::Global) -> Vec<String> {
    let mut words = Vec::new();
    let quote = |p: &std::path::Path| shell_word(&p.display().to_string());
    if let Some(c) = &global.config {
        words.push(format!("--config {}", quote(c)));
    }
    if let Some(k) = &global.known_hosts {
        words.push(format!("--known-hosts {}", quote(k)));
    }
    words
}

/// POSIX single quotes, only where needed.
fn shell_word(word: &str) -> String {
    if dokku_client::command::is_plain_word(word) {
        word.to_string()
    } else {
        dokku_client::command::single_quote(word)
    }
}

/// Accepts Dokku's colon names as PIX typed them (`pix apps:info app`,
/// `pix postgres:connect db`, `pix ps:restart app`): the command word
/// `group:command` becomes `group command` (pure).
fn colon_form(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    const GROUPS: &[(&str, &str)] = &[
        ("apps", "apps"),
        ("ps", "ps"),
        ("config", "config"),
        ("postgres", "db"),
        ("db", "db"),
        ("ssh-keys", "ssh-keys"),
        ("storage", "storage"),
    ];
    // Global flags that take a separate value.
    const VALUED: &[&str] = &[
        "--host",
        "--port",
        "--user",
        "--key",
        "--known-hosts",
        "--config",
        "--timeout",
        "--env",
        "--app",
    ];
    let mut i = 1;
    while let Some(arg) = args.get(i).and_then(|a| a.to_str()) {
        if VALUED.contains(&arg) {
            i += 2;
            continue;
        }
        if arg.starts_with('-') {
            i += 1;
            continue;
        }
        let split = arg.split_once(':').and_then(|(group, command)| {
            let (_, ours) = GROUPS.iter().find(|(g, _)| *g == group)?;
            Some((ours.to_string(), command.to_string()))
        });
        if let Some((group, command)) = split {
            args.splice(i..i + 1, [group.into(), command.into()]);
        }
        break;
    }
    args
}

fn main() {
    let cli = Cli::parse_from(colon_form(std::env::args_os().collect()));
    let out = Out::detect(cli.global.json);
    init_tracing(cli.global.verbose);
    let result = match offline(&out, &cli.command) {
        Some(r) => r,
        None => match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(rt) => {
                let ctx = Ctx {
                    g: cli.global.clone(),
                    out,
                };
                rt.block_on(dispatch(&ctx, &cli.command))
            }
            Err(e) => Err(Failure::io("starting the async runtime", e)),
        },
    };
    let code = match result {
        Ok(()) => exit::OK,
        Err(f) if exit::is_broken_pipe(&f) => exit::OK,
        Err(f) => {
            let code = exit::code(&f);
            report(&out, &cli.global, &f, code);
            code
        }
    };
    std::process::exit(code);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn ssh_lists_its_transports_and_refuses_others() {
        let help = Cli::command().render_long_help().to_string();
        let at = help.find("--ssh <TRANSPORT>").expect("--ssh in --help");
        let section = &help[at..];
        assert!(
            section.contains("openssh:") && section.contains("native:"),
            "{section}"
        );
        let cli = Cli::try_parse_from(["pix", "--ssh", "native", "apps", "list"]).unwrap();
        assert_eq!(cli.global.ssh, Some(pix_ops::config::SshKind::Native));
        let e = Cli::try_parse_from(["pix", "--ssh", "putty", "apps", "list"]).unwrap_err();
        assert!(
            e.to_string().contains("possible values: openssh, native"),
            "{e}"
        );
    }

    #[test]
    fn every_command_has_an_example() {
        fn walk(cmd: &clap::Command, path: &str) {
            for sub in cmd.get_subcommands() {
                let name = format!("{path} {}", sub.get_name());
                let help = sub
                    .get_after_help()
                    .map(|h| h.to_string())
                    .or_else(|| sub.get_long_about().map(|h| h.to_string()))
                    .unwrap_or_default();
                assert!(help.contains("Example"), "{name} has no example");
                walk(sub, &name);
            }
        }
        walk(&Cli::command(), "pix");
    }

    #[test]
    fn colon_names_are_accepted() {
        let os = |v: &[&str]| v.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert_eq!(
            colon_form(os(&["pix", "apps:info", "a"])),
            os(&["pix", "apps", "info", "a"])
        );
        assert_eq!(
            colon_form(os(&["pix", "postgres:connect", "db"])),
            os(&["pix", "db", "connect", "db"])
        );
        assert_eq!(
            colon_form(os(&["pix", "dokku", "apps:list"])),
            os(&["pix", "dokku", "apps:list"])
        );
        assert_eq!(colon_form(os(&["pix", "x:y"])), os(&["pix", "x:y"]));
        assert_eq!(
            colon_form(os(&["pix", "--config", "a:b", "-v", "apps:list"])),
            os(&["pix", "--config", "a:b", "-v", "apps", "list"])
        );
        Cli::try_parse_from(colon_form(os(&["pix", "ps:restart", "a"]))).unwrap();
    }

    #[test]
    fn parses_the_documented_forms() {
        for argv in [
            vec!["pix", "apps", "list", "--json"],
            vec!["pix", "--host", "h", "apps", "info", "a"],
            vec!["pix", "ps", "scale", "a", "web=2", "worker=1"],
            vec!["pix", "config", "set", "a", "K=v w", "--no-restart"],
            vec![
                "pix",
                "db",
                "reset",
                "development",
                "--dry-run",
                "--resume",
                "--no-backup",
                "--yes",
                "--confirm",
                "pg",
                "--in-place",
                "--json",
                "--backups-dir",
                "/b",
            ],
            vec!["pix", "run", "a", "--", "ls", "-la"],
            vec!["pix", "logs", "a", "-f", "--num", "5"],
            vec!["pix", "dokku", "--", "apps:list", "--quiet"],
            vec!["pix", "dokku", "version"],
            vec!["pix", "help", "exit-codes"],
            vec!["pix", "-vv", "status"],
            vec!["pix", "parse", "--", "apps:list"],
            vec![
                "pix",
                "deploy",
                "prod",
                "--dry-run",
                "--confirm",
                "pg-prod",
                "--rev",
                "v1",
                "--rebuild",
                "--json",
            ],
            vec![
                "pix",
                "deploy",
                "branch",
                "--yes",
                "--key",
                "k",
                "--known-hosts",
                "kh",
            ],
            vec!["pix", "review-app", "up"],
            vec!["pix", "review-app", "up", "feature/x"],
            vec!["pix", "review-app", "down", "feature/x", "--yes"],
            vec![
                "pix",
                "review-app",
                "prune",
                "--dry-run",
                "--origin",
                "upstream",
            ],
            vec!["pix", "review-app", "list", "--json"],
            vec!["pix", "remote", "status"],
            vec!["pix", "remote", "repair", "dokku", "--merge"],
            vec!["pix", "remote", "repair", "dokku", "--force", "--yes"],
            vec!["pix", "ssh", "trust-host"],
            vec!["pix", "status", "--all", "--json"],
            vec![
                "pix",
                "--host",
                "prod-host",
                "provision",
                "--plan",
                "--prune",
                "--yes",
                "--confirm",
                "pg-old",
            ],
            vec![
                "pix",
                "release",
                "1.2.3",
                "--dry-run",
                "--no-deploy",
                "--yes",
                "--confirm",
                "pg-prod",
                "--origin",
                "origin",
                "--json",
            ],
            vec![
                "pix",
                "ssh",
                "trust-host",
                "127.0.0.1:2222",
                "--port",
                "22",
                "--known-hosts",
                "f",
                "--yes",
                "--replace",
            ],
        ] {
            if let Err(e) = Cli::try_parse_from(&argv) {
                panic!("{argv:?}: {e}");
            }
        }
        let e = Cli::try_parse_from(["pix", "apps", "nope"]).unwrap_err();
        assert_eq!(e.exit_code(), exit::USAGE);
        for argv in [
            &["pix", "remote", "repair", "dokku"][..],
            &["pix", "remote", "repair", "dokku", "--merge", "--force"],
            &["pix", "deploy"],
        ] {
            let e = Cli::try_parse_from(argv).unwrap_err();
            assert_eq!(e.exit_code(), exit::USAGE, "{argv:?}");
        }
    }
}
