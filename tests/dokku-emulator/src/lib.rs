//! The Dokku emulator: a program that behaves as Dokku does over SSH (or
//! when called with argv), keeping its state under a root directory.
//!
//! Modelled versions ([`Profile`]):
//!
//! | profile | dokku | dokku-postgres | why this plugin version |
//! |---|---|---|---|
//! | `0.38` | 0.38.27 | 1.48.0 (image `postgres:18.4`) | the reference's main target |
//! | `0.30` | 0.30.0 | 1.31.0 (image `postgres:14.5`) | released the same month (Feb 2023): 14-row info (≥ 1.28.0), quiet-aware header (≥ 1.16.0), names-only list (≥ 1.10.0) |
//! | `0.19` | 0.19.13 | 1.9.4 (image `postgres:11.6`, Dec 2019) | the fixtures' 0.19.13 pairing: `=====> Container Information` 10-row info, `column -t` table list, `/config` config dir |
//!
//! The pieces: [`split`] (the server-side split of `SSH_ORIGINAL_COMMAND` and
//! `parse_args`), [`render`] (output formats), [`state`] (the state layout
//! under the root, beside the contract's `emulator.json`, `faults/`,
//! `received.jsonl` and `run/`), and the command implementations.
//!
//! One invocation: read `emulator.json` (missing: profile 0.38, no vhost);
//! with no arguments split `SSH_ORIGINAL_COMMAND` as the profile's Dokku
//! does; append the argv to `received.jsonl`; apply the first matching
//! fault; run `parse_args`, drop leading `--flags`, insert `--app X` for
//! core commands; dispatch. App processes run under a hidden
//! `__supervise <app> <instance> <command>` mode of the same binary (a
//! session leader that timestamps the output into `logs/`), whose process
//! group id is the pid file in `run/`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::contract::{EmulatorConfig, Fault, FaultAction, PostgresAdmin, Profile};

pub mod contract;
mod procs;

mod apps;
mod builder_herokuish;
mod config;
pub mod container;
mod deploy;
mod docker_options;
mod domains;
mod events;
mod faults;
mod git;
mod help;
mod help_data;
mod logs;
mod misc;
mod plugin;
mod postgres;
pub mod properties;
mod ps;
pub mod render;
mod repo;
mod reports;
mod run;
pub mod split;
pub mod state;
pub mod storage;

use split::{GlobalFlags, SplitEra};
use state::Layout;

/// Version facts of a profile.
pub trait ProfileExt {
    /// The dokku version string (`0.38.27`).
    fn dokku_version(self) -> &'static str;
    /// The SSH split era.
    fn era(self) -> SplitEra;
    /// The exit code for a missing app.
    fn missing_app_exit(self) -> i32;
    /// The default postgres image of the modelled dokku-postgres.
    fn postgres_image(self) -> &'static str;
}

impl ProfileExt for Profile {
    fn dokku_version(self) -> &'static str {
        match self {
            Profile::V0_38 => "0.38.27",
            Profile::V0_30 => "0.30.0",
            Profile::V0_19 => "0.19.13",
        }
    }
    fn era(self) -> SplitEra {
        match self {
            Profile::V0_38 => SplitEra::XargsEcho,
            _ => SplitEra::Legacy,
        }
    }
    fn missing_app_exit(self) -> i32 {
        match self {
            Profile::V0_19 => 1,
            _ => 20,
        }
    }
    fn postgres_image(self) -> &'static str {
        match self {
            Profile::V0_38 => "postgres:18.4",
            Profile::V0_30 => "postgres:14.5",
            Profile::V0_19 => "postgres:11.6",
        }
    }
}

/// Output streams of one invocation: stdout with a byte counter (for the
/// drop fault) and stderr, which build capture redirects into stdout.
pub(crate) struct Io {
    capture: bool,
    written: u64,
    drop_after: Option<u64>,
}

impl Io {
    fn new() -> Io {
        Io {
            capture: false,
            written: 0,
            drop_after: None,
        }
    }

    /// Writes bytes to stdout (honouring the drop fault).
    pub(crate) fn out_bytes(&mut self, bytes: &[u8]) {
        let mut stdout = std::io::stdout().lock();
        if let Some(limit) = self.drop_after {
            let room = limit.saturating_sub(self.written) as usize;
            if bytes.len() >= room {
                let _ = stdout.write_all(&bytes[..room]);
                let _ = stdout.flush();
                drop(stdout);
                // give sshd time to forward what was written before the cut
                std::thread::sleep(std::time::Duration::from_millis(500));
                faults::drop_connection();
            }
        }
        if stdout
            .write_all(bytes)
            .and_then(|_| stdout.flush())
            .is_err()
        {
            // The reader is gone (SIGPIPE is ignored by Rust programs).
            std::process::exit(141);
        }
        self.written += bytes.len() as u64;
    }

    /// Writes text to stdout.
    pub(crate) fn out(&mut self, text: &str) {
        self.out_bytes(text.as_bytes());
    }

    /// Writes text to stderr (stdout under build capture).
    pub(crate) fn err(&mut self, text: &str) {
        if self.capture {
            self.out(text);
        } else {
            let mut stderr = std::io::stderr().lock();
            let _ = stderr.write_all(text.as_bytes());
            let _ = stderr.flush();
        }
    }
}

/// Everything a command needs.
pub(crate) struct Ctx {
    pub(crate) layout: Layout,
    pub(crate) config: EmulatorConfig,
    pub(crate) profile: Profile,
    pub(crate) flags: GlobalFlags,
    pub(crate) io: Io,
    /// `--quiet` (`DOKKU_QUIET_OUTPUT`).
    pub(crate) quiet: bool,
    /// The command runs in a Go plugin of 0.11–0.21 (`FAILED: ` prefix).
    pub(crate) go_failed_prefix: bool,
}

/// The result of a command: its exit code.
pub(crate) type Code = i32;

impl Ctx {
    /// `-----> text` (stdout).
    pub(crate) fn info1(&mut self, text: &str) {
        self.io.out(&format!("-----> {text}\n"));
    }
    /// `-----> text` unless quiet.
    pub(crate) fn info1_quiet(&mut self, text: &str) {
        if !self.quiet {
            self.info1(text);
        }
    }
    /// `=====> text` (stdout).
    pub(crate) fn info2(&mut self, text: &str) {
        self.io.out(&format!("=====> {text}\n"));
    }
    /// `=====> text` unless quiet.
    pub(crate) fn info2_quiet(&mut self, text: &str) {
        if !self.quiet {
            self.info2(text);
        }
    }
    /// 7 spaces and text (stdout).
    pub(crate) fn verbose(&mut self, text: &str) {
        self.io.out(&format!("       {text}\n"));
    }
    /// Plain text unless quiet.
    pub(crate) fn log_quiet(&mut self, text: &str) {
        if !self.quiet {
            self.io.out(&format!("{text}\n"));
        }
    }
    /// ` !     text` on stderr.
    pub(crate) fn warn(&mut self, text: &str) {
        self.io.err(&format!(" !     {text}\n"));
    }
    /// The failure line (prefix per profile and plugin language) on stderr;
    /// returns exit code 1.
    pub(crate) fn fail(&mut self, text: &str) -> Code {
        self.fail_code(text, 1)
    }
    /// The failure line with a given exit code.
    pub(crate) fn fail_code(&mut self, text: &str, code: Code) -> Code {
        let line = if self.profile == Profile::V0_19 {
            if self.go_failed_prefix {
                format!("FAILED: {text}\n")
            } else {
                format!("{text}\n")
            }
        } else {
            format!(" !     {text}\n")
        };
        self.io.err(&line);
        code
    }
    /// ` !     App <app> does not exist` with the profile's exit code.
    pub(crate) fn app_missing(&mut self, app: &str) -> Code {
        let code = self.profile.missing_app_exit();
        self.fail_code(&format!("App {app} does not exist"), code)
    }
    /// Loads an app or reports it missing.
    pub(crate) fn load_app(&mut self, app: &str) -> Result<state::AppState, Code> {
        if app.is_empty() {
            return Err(self.fail("Please specify an app to run the command on"));
        }
        let old_rule = app.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && app.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_')
            });
        if !valid_app_name(app) && !old_rule {
            return Err(self.fail("App name must begin with lowercase alphanumeric character, and may only contain lowercase alphanumerics, dots, and hyphens"));
        }
        if !self.layout.app_file(app).exists() {
            return Err(self.app_missing(app));
        }
        match state::read_json(&self.layout.app_file(app)) {
            Ok(a) => Ok(a),
            Err(e) => Err(self.fail(&e.to_string())),
        }
    }
    /// Saves an app.
    pub(crate) fn save_app(&mut self, app: &str, st: &state::AppState) -> Result<(), Code> {
        state::write_json(&self.layout.app_file(app), st)
            .map_err(|e| self.fail(&format!("cannot save state of app {app}: {e}")))
    }
    /// The global vhosts (settings override, else the config's vhost).
    pub(crate) fn global_vhosts(&self) -> Vec<String> {
        let settings: state::GlobalSettings =
            state::read_json(&self.layout.global_settings_file()).unwrap_or_default();
        match settings.vhosts {
            Some(v) => v,
            None if self.config.global_vhost.is_empty() => Vec::new(),
            None => vec![self.config.global_vhost.clone()],
        }
    }
    /// The app's vhosts.
    pub(crate) fn app_vhosts(&self, app: &str, st: &state::AppState) -> Vec<String> {
        match &st.vhosts {
            Some(v) => v.clone(),
            None => domains::default_vhosts(app, &self.global_vhosts()),
        }
    }
    /// Reads the global settings.
    pub(crate) fn settings(&self) -> state::GlobalSettings {
        state::read_json(&self.layout.global_settings_file()).unwrap_or_default()
    }
}

/// Random bytes from `/dev/urandom`, as lowercase hex.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    let ok = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .is_ok();
    if !ok {
        // Fall back to time and pid; only uniqueness matters here.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
            ^ u128::from(std::process::id());
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (seed >> ((i % 16) * 8)) as u8 ^ (i as u8).wrapping_mul(31);
        }
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Unix seconds now.
pub(crate) fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Dokku app names: `^[a-z0-9][a-z0-9.-]*$`.
pub(crate) fn valid_app_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
}

fn default_config(root: &Path) -> EmulatorConfig {
    EmulatorConfig {
        profile: Profile::default(),
        global_vhost: String::new(),
        postgres: PostgresAdmin {
            host: "127.0.0.1".into(),
            port: 5432,
            superuser: "postgres".into(),
            password: String::new(),
            bin_dir: PathBuf::from("/usr/bin"),
        },
        git_bin_dir: None,
        emulator_bin: std::env::current_exe().unwrap_or_else(|_| root.join("dokku-emulator")),
    }
}

/// Runs the emulator with the process's arguments and environment; returns
/// the exit code.
pub fn main_from_env() -> i32 {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let root = if args.first().map(String::as_str) == Some("--root") && args.len() >= 2 {
        let r = PathBuf::from(&args[1]);
        args.drain(..2);
        r
    } else if let Some(r) = std::env::var_os(contract::ROOT_ENV) {
        PathBuf::from(r)
    } else {
        eprintln!(
            " !     dokku-emulator: no state directory; pass --root DIR first or set {}",
            contract::ROOT_ENV
        );
        return 1;
    };
    let ssh = if args.is_empty() {
        std::env::var_os("SSH_ORIGINAL_COMMAND")
    } else {
        None
    };
    run(&root, args, ssh.map(|s| s.to_string_lossy().into_owned()))
}

/// Runs one invocation: `argv` (direct) or `ssh_command` (forced command).
pub fn run(root: &Path, argv: Vec<String>, ssh_command: Option<String>) -> i32 {
    if ssh_command.is_none() && argv.first().map(String::as_str) == Some(container::MODE) {
        return container::main(&argv[1..]);
    }
    let layout = Layout::new(root);
    let config: EmulatorConfig = match std::fs::read(root.join(contract::CONFIG_FILE)) {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(c) => c,
            Err(e) => {
                eprintln!(
                    " !     dokku-emulator: {} is invalid ({e}); rewrite it",
                    root.join(contract::CONFIG_FILE).display()
                );
                return 1;
            }
        },
        Err(_) => default_config(root),
    };
    let profile = config.profile;
    let mut io = Io::new();
    let mut flags = GlobalFlags::default();
    let mut through_xargs = false;
    if ssh_command.is_none() && argv.first().map(String::as_str) == Some("__supervise") {
        let mut ctx = Ctx {
            layout,
            config,
            profile,
            quiet: false,
            flags,
            io,
            go_failed_prefix: false,
        };
        return ps::supervise(&mut ctx, &argv[1..]);
    }
    let argv = match &ssh_command {
        Some(line) => {
            flags.scan(&split::whitespace_split(line));
            let s = split::ssh_split(line, profile.era());
            if let Some(e) = &s.xargs_error {
                io.err(e);
            }
            faults::record(root, Some(line.as_bytes().to_vec()), &s.argv);
            if !s.runs {
                return 1;
            }
            through_xargs = s.through_xargs;
            s.argv
        }
        None => {
            faults::record(root, None, &argv);
            argv
        }
    };
    flags.scan(&argv);
    if let Some(fault) = faults::claim(root, &split::without_global_flags(&argv)) {
        if let Some(code) = apply_fault(&fault, &mut io) {
            return code;
        }
    }
    let mut rest: Vec<String> = split::strip_leading_flags(&argv).to_vec();
    if rest.is_empty() {
        rest.push("help".into());
    }
    let mut ctx = Ctx {
        layout,
        config,
        profile,
        quiet: flags.quiet,
        flags,
        io,
        go_failed_prefix: false,
    };
    let code = dispatch(&mut ctx, rest);
    if through_xargs {
        split::xargs_exit(code)
    } else {
        code
    }
}

fn apply_fault(fault: &Fault, io: &mut Io) -> Option<i32> {
    match &fault.action {
        FaultAction::Exit { code, stderr } => {
            io.err(stderr);
            Some(*code)
        }
        FaultAction::Hang { seconds } => {
            faults::hang(*seconds);
            Some(1)
        }
        FaultAction::DropAfterBytes { bytes } => {
            io.drop_after = Some(*bytes);
            if *bytes == 0 {
                faults::drop_connection();
            }
            None
        }
        FaultAction::Respond {
            stdout_b64,
            stderr_b64,
            code,
            repeat,
        } => Some(faults::respond(io, stdout_b64, stderr_b64, *code, *repeat)),
    }
}

/// Core plugins get `--app X` inserted as their first argument.
fn is_core(cmd: &str) -> bool {
    !(cmd.starts_with("postgres")
        || matches!(cmd, "version" | "-v" | "--version" | "help" | "--help")
        || cmd.starts_with("git-"))
}

fn dispatch(ctx: &mut Ctx, mut argv: Vec<String>) -> Code {
    let cmd = argv.remove(0);
    if let Some(app) = ctx.flags.app.clone() {
        if is_core(&cmd) {
            argv.insert(0, app);
        }
    }
    let a = argv;
    match cmd.as_str() {
        "version" | "-v" | "--version" => misc::version(ctx),
        "help" | "--help" => help::dokku_help(ctx, a.iter().any(|x| x == "--all")),
        "apps" | "apps:list" => apps::list(ctx, &a),
        "apps:create" => apps::create(ctx, &a),
        "apps:destroy" => apps::destroy(ctx, &a),
        "apps:exists" => apps::exists(ctx, &a),
        "apps:lock" => apps::lock(ctx, &a),
        "apps:unlock" => apps::unlock(ctx, &a),
        "apps:set" => apps::set(ctx, &a),
        "apps:rename" => apps::rename(ctx, &a),
        "apps:clone" => apps::clone(ctx, &a),
        "apps:locked" => apps::locked(ctx, &a),
        "apps:report" => reports::report(ctx, reports::Kind::Apps, &a),
        "ps:report" => reports::report(ctx, reports::Kind::Ps, &a),
        "domains:report" => reports::report(ctx, reports::Kind::Domains, &a),
        "domains:add" => domains::add(ctx, &a),
        "urls" => domains::urls(ctx, &a, false),
        "url" => domains::urls(ctx, &a, true),
        "domains:set" => domains::set(ctx, &a),
        "domains:remove" => domains::remove(ctx, &a),
        "domains:clear" => domains::clear(ctx, &a),
        "domains:reset" => domains::reset(ctx, &a),
        "domains:add-global" => domains::add_global(ctx, &a),
        "domains:set-global" => domains::set_global(ctx, &a),
        "domains:remove-global" => domains::remove_global(ctx, &a),
        "domains:clear-global" => domains::clear_global(ctx, &a),
        "plugin:install" => plugin::plugin_install(ctx, &a),
        "git:report" => reports::report(ctx, reports::Kind::Git, &a),
        "git:set" => git::set(ctx, &a),
        "git:auth" => git::auth(ctx, &a),
        "git:auth-status" => git::auth_status(ctx, &a),
        "ps:scale" => ps::scale(ctx, &a),
        "ps:start" => ps::start(ctx, &a),
        "ps:stop" => ps::stop(ctx, &a),
        "ps:restart" => ps::restart(ctx, &a),
        "ps:rebuild" => ps::rebuild(ctx, &a),
        "ps:set" => ps::set(ctx, &a),
        "repo:gc" => repo::gc(ctx, &a),
        "docker-options:add" => docker_options::add(ctx, &a),
        "docker-options:remove" => docker_options::remove(ctx, &a),
        "docker-options:clear" => docker_options::clear(ctx, &a),
        "docker-options:list" => docker_options::list(ctx, &a),
        "docker-options:report" => docker_options::report(ctx, &a),
        "events" => events::show(ctx, &a),
        "events:on" => events::on(ctx),
        "events:off" => events::off(ctx),
        "events:list" => events::list(ctx),
        "builder-herokuish:set" => builder_herokuish::set(ctx, &a),
        "run" => run::run_cmd(ctx, &a),
        "run:detached" => run::run_detached(ctx, &a),
        "logs" => logs::logs(ctx, &a),
        "logs:set" => logs::set(ctx, &a),
        "logs:report" => logs::report(ctx, &a),
        "config" | "config:show" => config::show(ctx, &a),
        "config:get" => config::get(ctx, &a),
        "config:set" => config::set(ctx, &a),
        "config:unset" => config::unset(ctx, &a),
        "config:export" => config::export(ctx, &a),
        "config:keys" => config::keys(ctx, &a),
        "config:clear" => config::clear(ctx, &a),
        "config:import" => config::import(ctx, &a),
        "storage:mount" => storage::mount(ctx, &a),
        "storage:unmount" => storage::unmount(ctx, &a),
        "storage:list" => storage::list(ctx, &a),
        c if c.starts_with("storage:") && ctx.profile == Profile::V0_38 && storage_v38(c) => {
            storage_dispatch(ctx, c, &a)
        }
        "ssh-keys:list" => misc::ssh_keys_list(ctx, &a),
        "ssh-keys:add" => misc::ssh_keys_add(ctx, &a),
        "ssh-keys:remove" => misc::ssh_keys_remove(ctx, &a),
        "plugin" if ctx.profile == Profile::V0_19 => {
            ctx.warn("Deprecated: Please use plugin:list");
            misc::plugin_list(ctx)
        }
        "plugin:list" => misc::plugin_list(ctx),
        "git-receive-pack" => git::receive_pack(ctx, &a, true),
        "git-upload-pack" => git::receive_pack(ctx, &a, false),
        "git-hook" => git::hook(ctx, &a),
        c if c.starts_with("postgres:") => postgres::dispatch(ctx, &c["postgres:".len()..], &a),
        c if help::bare_is_help(c) => {
            let text = help::topic_help(help::topic(c).expect("a topic"));
            ctx.io.out(&text);
            0
        }
        c if c.ends_with(":help") && help::topic(&c[..c.len() - 5]).is_some() => {
            let text = help::topic_help(help::topic(&c[..c.len() - 5]).expect("a topic"));
            ctx.io.out(&text);
            0
        }
        c if c.ends_with(":help") && help::standard_help(&c[..c.len() - 5]).is_some() => {
            let text = help::standard_help(&c[..c.len() - 5]).unwrap_or_default();
            ctx.io.out(&text);
            0
        }
        _ => {
            let mut all = vec![cmd.clone()];
            all.extend(a.iter().cloned());
            ctx.warn(&format!("`{}` is not a dokku command.", all.join(" ")));
            ctx.warn("See `dokku help` for a list of available commands.");
            1
        }
    }
}

fn storage_v38(cmd: &str) -> bool {
    matches!(
        cmd,
        "storage:create"
            | "storage:destroy"
            | "storage:info"
            | "storage:set"
            | "storage:list-entries"
            | "storage:report"
            | "storage:ensure-directory"
            | "storage:annotations:set"
            | "storage:annotations:report"
            | "storage:labels:set"
            | "storage:labels:report"
    )
}

fn storage_dispatch(ctx: &mut Ctx, cmd: &str, a: &[String]) -> Code {
    use storage::MapField;
    match cmd {
        "storage:create" => storage::create(ctx, a),
        "storage:destroy" => storage::destroy(ctx, a),
        "storage:info" => storage::info(ctx, a),
        "storage:set" => storage::set(ctx, a),
        "storage:list-entries" => storage::list_entries_cmd(ctx, a),
        "storage:report" => storage::report(ctx, a),
        "storage:ensure-directory" => storage::ensure_directory(ctx, a),
        "storage:annotations:set" => storage::map_set(ctx, MapField::Annotations, a),
        "storage:annotations:report" => storage::map_report(ctx, MapField::Annotations, a),
        "storage:labels:set" => storage::map_set(ctx, MapField::Labels, a),
        _ => storage::map_report(ctx, MapField::Labels, a),
    }
}

/// A flag a Go subcommand accepts (pflag).
pub(crate) struct GoFlag {
    pub(crate) name: &'static str,
    pub(crate) value: Option<&'static str>,
    pub(crate) usage: &'static str,
}

/// Parsed Go subcommand arguments.
#[derive(Default)]
pub(crate) struct GoArgs {
    pub(crate) flags: std::collections::BTreeMap<String, String>,
    /// Every value of each flag, in order (pflag's `StringSlice`).
    pub(crate) all: std::collections::BTreeMap<String, Vec<String>>,
    pub(crate) positional: Vec<String>,
}

impl GoArgs {
    pub(crate) fn has(&self, name: &str) -> bool {
        self.flags.contains_key(name)
    }
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.flags.get(name).map(String::as_str)
    }
    /// pflag `StringSlice`: every value given, each split on commas.
    pub(crate) fn slice(&self, name: &str) -> Vec<String> {
        self.all
            .get(name)
            .map(|vs| {
                vs.iter()
                    .flat_map(|v| v.split(',').map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// pflag-style parsing: flags and positionals mixed, `--` ends flags, an
/// unknown `--flag` prints the usage and exits 2.
pub(crate) fn go_parse(
    ctx: &mut Ctx,
    cmd: &str,
    args: &[String],
    spec: &[GoFlag],
) -> Result<GoArgs, Code> {
    if ctx.profile == Profile::V0_19 {
        return stdlib_parse(ctx, cmd, args, spec);
    }
    let mut out = GoArgs::default();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            out.positional.extend(args[i + 1..].iter().cloned());
            break;
        }
        if a == "--help" || a == "-h" {
            pflag_usage(ctx, cmd, spec, None);
            return Err(0);
        }
        if a.len() > 1 && a.starts_with('-') && !a.starts_with("--") {
            let c = a.chars().nth(1).unwrap_or('-');
            return Err(pflag_error(
                ctx,
                cmd,
                spec,
                &format!("unknown shorthand flag: '{c}' in {a}"),
            ));
        }
        if let Some(body) = a.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (body, None),
            };
            let Some(f) = spec.iter().find(|f| f.name == name) else {
                return Err(pflag_error(
                    ctx,
                    cmd,
                    spec,
                    &format!("unknown flag: --{name}"),
                ));
            };
            let value = match (f.value, inline) {
                (None, Some(v)) => v,
                (None, None) => "true".to_owned(),
                (Some(_), Some(v)) => v,
                (Some(_), None) => match args.get(i + 1) {
                    Some(v) => {
                        i += 1;
                        v.clone()
                    }
                    None => {
                        return Err(pflag_error(
                            ctx,
                            cmd,
                            spec,
                            &format!("flag needs an argument: --{name}"),
                        ))
                    }
                },
            };
            out.all
                .entry(name.to_owned())
                .or_default()
                .push(value.clone());
            out.flags.insert(name.to_owned(), value);
        } else {
            out.positional.push(a.clone());
        }
        i += 1;
    }
    Ok(out)
}

/// Go's standard `flag` package (the Go plugins of 0.11–0.21): flags end at
/// the first non-flag argument, `-x` and `--x` are the same, an unknown flag
/// prints the error, then the usage, and exits 2.
fn stdlib_parse(
    ctx: &mut Ctx,
    cmd: &str,
    args: &[String],
    spec: &[GoFlag],
) -> Result<GoArgs, Code> {
    let mut out = GoArgs::default();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a.len() < 2 || !a.starts_with('-') {
            break;
        }
        if a == "--" {
            i += 1;
            break;
        }
        let body = a.strip_prefix("--").unwrap_or(&a[1..]);
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (body, None),
        };
        if name == "help" || name == "h" {
            stdlib_usage(ctx, cmd, spec, None);
            return Err(0);
        }
        let Some(f) = spec.iter().find(|f| f.name == name) else {
            stdlib_usage(
                ctx,
                cmd,
                spec,
                Some(&format!("flag provided but not defined: -{name}")),
            );
            return Err(2);
        };
        let value = match (f.value, inline) {
            (_, Some(v)) => v,
            (None, None) => "true".to_owned(),
            (Some(_), None) => match args.get(i + 1) {
                Some(v) => {
                    i += 1;
                    v.clone()
                }
                None => {
                    stdlib_usage(
                        ctx,
                        cmd,
                        spec,
                        Some(&format!("flag needs an argument: -{name}")),
                    );
                    return Err(2);
                }
            },
        };
        out.flags.insert(name.to_owned(), value);
        i += 1;
    }
    out.positional = args[i.min(args.len())..].to_vec();
    Ok(out)
}

fn stdlib_usage(ctx: &mut Ctx, cmd: &str, spec: &[GoFlag], msg: Option<&str>) {
    let text = stdlib_usage_text(cmd, spec, msg);
    ctx.io.err(&text);
}

/// Go `flag`'s error and usage text (`  -name type` then a tab-indented
/// usage line).
pub(crate) fn stdlib_usage_text(cmd: &str, spec: &[GoFlag], msg: Option<&str>) -> String {
    let mut text = String::new();
    if let Some(m) = msg {
        text.push_str(m);
        text.push('\n');
    }
    text.push_str(&format!("Usage of {cmd}:\n"));
    let mut flags: Vec<&GoFlag> = spec.iter().collect();
    flags.sort_by_key(|f| f.name);
    for f in flags {
        let mut line = format!("  -{}", f.name);
        if let Some(t) = f.value {
            line.push(' ');
            line.push_str(t);
        }
        if line.len() <= 4 {
            line.push('\t');
        } else {
            line.push_str("\n    \t");
        }
        line.push_str(f.usage);
        text.push_str(&line);
        text.push('\n');
    }
    text
}

fn pflag_error(ctx: &mut Ctx, cmd: &str, spec: &[GoFlag], msg: &str) -> Code {
    pflag_usage(ctx, cmd, spec, Some(msg));
    2
}

/// pflag's default usage (`Usage of <cmd>:` and the aligned flag list), then
/// the error line when there is one.
fn pflag_usage(ctx: &mut Ctx, cmd: &str, spec: &[GoFlag], msg: Option<&str>) {
    let text = pflag_usage_text(ctx.profile, cmd, spec, msg);
    ctx.io.err(&text);
}

/// pflag's usage text: 1.0.10 (0.38) prints the error after the usage,
/// 1.0.5 (0.30) before it; flags sorted, usage column at the longest flag
/// line plus three spaces.
pub(crate) fn pflag_usage_text(
    profile: Profile,
    cmd: &str,
    spec: &[GoFlag],
    msg: Option<&str>,
) -> String {
    let mut lines: Vec<(String, &str)> = spec
        .iter()
        .map(|f| {
            let mut l = format!("      --{}", f.name);
            if let Some(t) = f.value {
                l.push(' ');
                l.push_str(t);
            }
            (l, f.usage)
        })
        .collect();
    lines.sort();
    let width = lines.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    let mut text = String::new();
    if profile == Profile::V0_30 {
        if let Some(m) = msg {
            text.push_str(m);
            text.push('\n');
        }
    }
    text.push_str(&format!("Usage of {cmd}:\n"));
    for (l, u) in lines {
        text.push_str(&render::pad_bytes(&l, width));
        text.push_str("   ");
        text.push_str(u);
        text.push('\n');
    }
    if profile != Profile::V0_30 {
        if let Some(m) = msg {
            text.push_str(m);
            text.push('\n');
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: [GoFlag; 2] = [
        GoFlag {
            name: "no-restart",
            value: None,
            usage: "--no-restart: no restart",
        },
        GoFlag {
            name: "format",
            value: Some("string"),
            usage: "format: [ stdout | json ] (default \"stdout\")",
        },
    ];

    #[test]
    fn pflag_usage_layouts() {
        let body = "Usage of x:\n      --format string   format: [ stdout | json ] (default \"stdout\")\n      --no-restart      --no-restart: no restart\n";
        assert_eq!(
            pflag_usage_text(Profile::V0_38, "x", &SPEC, Some("unknown flag: --y")),
            format!("{body}unknown flag: --y\n")
        );
        assert_eq!(
            pflag_usage_text(Profile::V0_30, "x", &SPEC, Some("unknown flag: --y")),
            format!("unknown flag: --y\n{body}")
        );
        assert_eq!(
            stdlib_usage_text("x", &SPEC, Some("flag provided but not defined: -y")),
            "flag provided but not defined: -y\nUsage of x:\n  -format string\n    \tformat: [ stdout | json ] (default \"stdout\")\n  -no-restart\n    \t--no-restart: no restart\n"
        );
    }

    #[test]
    fn app_names() {
        assert!(valid_app_name("staging.web"));
        assert!(valid_app_name("0app-1"));
        assert!(!valid_app_name("My_App"));
        assert!(!valid_app_name("-x"));
        assert!(!valid_app_name(""));
    }
}
