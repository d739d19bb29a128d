//! `cargo xtask e2e`: the end-to-end suite (`pix-cli/tests/e2e.rs` and
//! `tests/tests/real_host.rs`) against a real Dokku host, or against a
//! sandbox posing as one.
//!
//! - With a host (`--host H [--port P] [--user U] [--key K] [--known-hosts
//!   F]`, each also from `DOKKU_TEST_HOST`, `DOKKU_TEST_PORT`, ...): says
//!   what it will create, asks before touching a host that has apps other
//!   than `pix-e2e-*` (unless `--yes`), runs the suite, then checks that
//!   nothing of this run is left (and removes what is).
//! - Without one: starts a sandbox and hands its coordinates to the test
//!   binaries through the same `DOKKU_TEST_*` variables, so the tests take
//!   the real-host path (ssh, git, `postgres:connect`; never the emulator's
//!   files).
//!
//! The suite runs once per SSH transport (`PIX_SSH=openssh`, then
//! `PIX_SSH=native`, which every `pix` the tests start and the typed client of
//! `real_host` honour); `--ssh openssh|native` runs one pass only.
//!
//! The run id (`<unix seconds>-<4 hex>`, one per pass) goes to the tests as
//! `PIX_E2E_RUN_ID`: every app and service of the run is
//! `pix-e2e-<run id>-*`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use pix_sandbox::contract::Profile;
use pix_sandbox::e2e::{self, Host, RunId};
use pix_sandbox::sandbox::{Sandbox, SandboxOptions};
use pix_sandbox::target::{shell_quote, TestTarget};

/// What `cargo xtask e2e` was asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct E2eArgs {
    pub host: Option<String>,
    pub port: Option<String>,
    pub user: Option<String>,
    pub key: Option<String>,
    pub known_hosts: Option<String>,
    pub yes: bool,
    pub profile: Option<Profile>,
    /// The SSH transports to run the suite on (`--ssh`; default both).
    pub transports: Vec<Transport>,
    /// Arguments for the test binaries (after `--`).
    pub test_args: Vec<String>,
}

pub(crate) const E2E_USAGE: &str = "\
usage: cargo xtask e2e [--host H] [--port P] [--user U] [--key FILE] [--known-hosts FILE]
                       [--yes] [--profile 0.38|0.30|0.19] [--ssh openssh|native|both]
                       [-- TEST ARGS...]

Runs the end-to-end suite against the Dokku host given (or DOKKU_TEST_HOST, DOKKU_TEST_PORT,
DOKKU_TEST_USER, DOKKU_TEST_KEY, DOKKU_TEST_KNOWN_HOSTS); without one, against a local
sandbox posing as a remote host (--profile picks its Dokku version). The suite runs once per
SSH transport (PIX_SSH=openssh, then PIX_SSH=native); --ssh picks one.
";

/// An SSH transport of `pix` (the value of `PIX_SSH` for a pass).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    /// The system `ssh` with a ControlMaster.
    OpenSsh,
    /// The in-process russh transport.
    Native,
}

impl Transport {
    /// Both, in the order the suite runs them.
    pub(crate) const ALL: [Transport; 2] = [Transport::OpenSsh, Transport::Native];

    /// `PIX_SSH`'s value.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Transport::OpenSsh => "openssh",
            Transport::Native => "native",
        }
    }
}

/// Parses the flags (also `--flag=value`).
pub(crate) fn parse_args(args: &[String]) -> Result<E2eArgs, String> {
    let mut out = E2eArgs::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--" {
            out.test_args = it.cloned().collect();
            break;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{name} needs a value\n\n{E2E_USAGE}"))
        };
        match flag {
            "--host" => out.host = Some(value("--host")?),
            "--port" => out.port = Some(value("--port")?),
            "--user" => out.user = Some(value("--user")?),
            "--key" => out.key = Some(value("--key")?),
            "--known-hosts" => out.known_hosts = Some(value("--known-hosts")?),
            "--profile" => {
                let v = value("--profile")?;
                out.profile = Some(Profile::parse(&v).ok_or_else(|| {
                    format!("unknown profile `{v}`: use 0.38 (default), 0.30 or 0.19")
                })?);
            }
            "--ssh" => {
                out.transports = match value("--ssh")?.as_str() {
                    "openssh" => vec![Transport::OpenSsh],
                    "native" => vec![Transport::Native],
                    "both" => Transport::ALL.to_vec(),
                    other => {
                        return Err(format!(
                            "unknown transport `{other}`: use openssh, native or both"
                        ))
                    }
                }
            }
            "--yes" | "-y" => out.yes = true,
            "--help" | "-h" => return Err(E2E_USAGE.to_string()),
            other => return Err(format!("unknown argument `{other}`\n\n{E2E_USAGE}")),
        }
    }
    Ok(out)
}

/// The host the flags name, each flag falling back to its `DOKKU_TEST_*`
/// variable (`get`); `None` without a host.
pub(crate) fn target_of(
    args: &E2eArgs,
    get: impl Fn(&str) -> Option<String>,
) -> Result<Option<TestTarget>, String> {
    let flag = |name: &str| -> Option<String> {
        match name {
            "DOKKU_TEST_HOST" => args.host.clone(),
            "DOKKU_TEST_PORT" => args.port.clone(),
            "DOKKU_TEST_USER" => args.user.clone(),
            "DOKKU_TEST_KEY" => args.key.clone(),
            "DOKKU_TEST_KNOWN_HOSTS" => args.known_hosts.clone(),
            _ => None,
        }
    };
    TestTarget::from_vars(|name| flag(name).or_else(|| get(name))).map_err(|e| e.to_string())
}

/// The `DOKKU_TEST_*` variables that name `target` for the test binaries.
pub(crate) fn target_env(target: &TestTarget) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("DOKKU_TEST_HOST", target.host.clone()),
        ("DOKKU_TEST_PORT", target.port.to_string()),
        ("DOKKU_TEST_USER", target.user.clone()),
    ];
    let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
    vars.push(("DOKKU_TEST_KEY", path(&target.key).unwrap_or_default()));
    vars.push((
        "DOKKU_TEST_KNOWN_HOSTS",
        path(&target.known_hosts).unwrap_or_default(),
    ));
    vars
}

/// The apps of a host that the suite did not make.
pub(crate) fn foreign_apps(apps: &[String]) -> Vec<String> {
    apps.iter()
        .filter(|a| !a.starts_with(e2e::PREFIX))
        .cloned()
        .collect()
}

/// The command line that re-runs this one with `--yes` (shell-quoted).
pub(crate) fn again_with_yes(args: &[String]) -> String {
    let (ours, tests) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], &args[i..]),
        None => (args, &[][..]),
    };
    let mut words = vec!["cargo".to_string(), "xtask".into(), "e2e".into()];
    words.extend(ours.iter().map(|w| shell_quote(w)));
    words.push("--yes".into());
    words.extend(tests.iter().map(|w| shell_quote(w)));
    words.join(" ")
}

/// `cargo xtask e2e ARGS`.
pub(crate) fn run(raw: &[String]) -> Result<(), String> {
    let args = parse_args(raw)?;
    match target_of(&args, |name| std::env::var(name).ok())? {
        Some(target) => run_against_host(&args, raw, target),
        None => run_on_sandbox(
            args.profile.unwrap_or_default(),
            &args.transports,
            &args.test_args,
        ),
    }
}

/// The suite on a fresh sandbox posing as a remote host (`cargo xtask
/// test` runs this too), once per transport of `transports` (empty: both).
pub(crate) fn run_on_sandbox(
    profile: Profile,
    transports: &[Transport],
    test_args: &[String],
) -> Result<(), String> {
    crate::test_cmd::ensure_prerequisites()?;
    crate::build_emulator()?;
    let sandbox = Sandbox::start(SandboxOptions::profile(profile)).map_err(|e| e.to_string())?;
    let target = sandbox.target();
    println!(
        "xtask e2e: no host given (--host or DOKKU_TEST_HOST): a sandbox (Dokku {} emulated) poses as one at {}:{}",
        profile.name(),
        target.host,
        target.port
    );
    let result = run_passes(&Host::new(target), transports, test_args, false);
    drop(sandbox);
    result
}

/// One pass of the suite per transport (empty: both); every pass runs even
/// when one fails, and the failures are reported together.
fn run_passes(
    host: &Host,
    transports: &[Transport],
    test_args: &[String],
    clean_hint: bool,
) -> Result<(), String> {
    let transports = if transports.is_empty() {
        &Transport::ALL[..]
    } else {
        transports
    };
    let mut failures = Vec::new();
    for (i, transport) in transports.iter().enumerate() {
        // The first pass takes the process's run id (PIX_E2E_RUN_ID when
        // set); each later one a new one, so no pass sees another's names.
        let run_id = if i == 0 {
            RunId::current().clone()
        } else {
            RunId::new()
        };
        if let Err(e) = run_suite(host, *transport, &run_id, test_args, clean_hint) {
            failures.push(format!("{}: {e}", transport.name()));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}

fn run_against_host(args: &E2eArgs, raw: &[String], target: TestTarget) -> Result<(), String> {
    let host = Host::new(target.clone());
    let version = host.dokku(&["version"]).map_err(|e| {
        format!(
            "cannot reach Dokku at {}@{}:{}: {e}",
            target.user, target.host, target.port
        )
    })?;
    println!(
        "xtask e2e: host {}@{}:{} runs {}",
        target.user,
        target.host,
        target.port,
        version.trim()
    );
    let apps = host.apps()?;
    let foreign = foreign_apps(&apps);
    if !foreign.is_empty() && !args.yes {
        let shown: Vec<&str> = foreign.iter().take(8).map(String::as_str).collect();
        let more = if foreign.len() > shown.len() {
            format!(" and {} more", foreign.len() - shown.len())
        } else {
            String::new()
        };
        println!(
            "xtask e2e: this host also runs {} other app(s): {}{more}. The suite touches only pix-e2e-* names.",
            foreign.len(),
            shown.join(", ")
        );
        describe_plan(&RunId::current().prefix());
        if !std::io::stdin().is_terminal() {
            return Err(format!(
                "not confirmed (no terminal to ask on); to proceed run: {}",
                again_with_yes(raw)
            ));
        }
        print!("Proceed? [y/N] ");
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map_err(|e| format!("reading the answer: {e}"))?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            return Err("not confirmed; nothing was done".into());
        }
    }
    run_passes(&host, &args.transports, &args.test_args, true)
}

fn describe_plan(prefix: &str) {
    println!(
        "xtask e2e: it will create, and remove when each test ends, apps and Postgres services named {prefix}* \
         (about 30 apps and 25 services, a few at a time; deploys of tests/sample-app; review apps {prefix}<test>-rv-*), \
         backups in a temporary folder here, and first remove pix-e2e-<time>-* leftovers of runs started over 24 h ago."
    );
}

fn run_suite(
    host: &Host,
    transport: Transport,
    run_id: &RunId,
    test_args: &[String],
    clean_hint: bool,
) -> Result<(), String> {
    let prefix = run_id.prefix();
    describe_plan(&prefix);
    if clean_hint {
        println!(
            "xtask e2e: if this run dies, remove what it left with: cargo xtask e2e-clean {run_id}{}",
            clean_flags(host.target())
        );
    }
    let started = Instant::now();
    let mut cmd = crate::cargo();
    cmd.args([
        "test",
        "--no-fail-fast",
        "-p",
        "pix-cli",
        "--test",
        "e2e",
        "-p",
        "pix-sandbox",
        "--test",
        "real_host",
        "--",
    ])
    .args(test_args)
    .env(e2e::RUN_ID_ENV, run_id.to_string())
    .env("PIX_SSH", transport.name());
    for (name, value) in target_env(host.target()) {
        cmd.env(name, value);
    }
    println!(
        "xtask e2e: PIX_SSH={} cargo test -p pix-cli --test e2e -p pix-sandbox --test real_host -- {} (run id {run_id})",
        transport.name(),
        test_args.join(" ")
    );
    let status = cmd.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    let elapsed = started.elapsed();
    let left = host.remove_matching(|n| n.starts_with(&prefix))?;
    println!(
        "xtask e2e: {} on the {} transport in {:.0} s",
        if status.success() { "passed" } else { "FAILED" },
        transport.name(),
        elapsed.as_secs_f64()
    );
    if !left.apps.is_empty() || !left.services.is_empty() || !left.failures.is_empty() {
        return Err(format!(
            "the suite left apps {:?} and services {:?} behind (removed now){}",
            left.apps,
            left.services,
            if left.failures.is_empty() {
                String::new()
            } else {
                format!("; could not remove: {:?}", left.failures)
            }
        ));
    }
    if status.success() {
        Ok(())
    } else {
        Err(format!("the end-to-end suite failed ({status})"))
    }
}

/// The flags of `e2e-clean` that name `target` (empty for defaults).
fn clean_flags(t: &TestTarget) -> String {
    let mut words = vec![
        "--host".to_string(),
        shell_quote(&t.host),
        "--port".into(),
        t.port.to_string(),
        "--user".into(),
        shell_quote(&t.user),
    ];
    if let Some(k) = &t.key {
        words.push("--key".into());
        words.push(shell_quote(&k.to_string_lossy()));
    }
    if let Some(k) = &t.known_hosts {
        words.push("--known-hosts".into());
        words.push(shell_quote(&k.to_string_lossy()));
    }
    format!(" {}", words.join(" "))
}

/// `cargo xtask e2e-clean [RUN_ID | --all-stale] [host flags]`: removes the
/// apps and services of one run (or of every run older than a day).
pub(crate) fn clean(raw: &[String]) -> Result<(), String> {
    let (which, rest): (Option<&String>, &[String]) = match raw.split_first() {
        Some((first, rest)) if !first.starts_with("--") || first == "--all-stale" => {
            (Some(first), rest)
        }
        _ => (None, raw),
    };
    let args = parse_args(rest)?;
    let target = target_of(&args, |name| std::env::var(name).ok())?.ok_or_else(|| {
        "e2e-clean needs a host: --host H (or DOKKU_TEST_HOST) and the flags `cargo xtask e2e` printed".to_string()
    })?;
    let host = Host::new(target);
    let removed = match which.map(String::as_str) {
        None | Some("--all-stale") => e2e::sweep(&host, e2e::now_unix())?,
        Some(id) => {
            let run = RunId::parse(id).ok_or_else(|| {
                format!("`{id}` is not a run id (<unix seconds>-<4 hex digits>, as `cargo xtask e2e` printed)")
            })?;
            let prefix = run.prefix();
            host.remove_matching(|n| n.starts_with(&prefix))?
        }
    };
    println!(
        "removed apps {:?} and services {:?}",
        removed.apps, removed.services
    );
    if removed.failures.is_empty() {
        Ok(())
    } else {
        Err(format!("could not remove: {:?}", removed.failures))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags_then_variables_name_the_host() {
        let a = parse_args(&args(&[
            "--host",
            "h",
            "--port=2222",
            "--yes",
            "--",
            "run_",
        ]))
        .unwrap();
        assert!(a.yes);
        assert_eq!(a.test_args, ["run_"]);
        assert!(a.transports.is_empty(), "both by default");
        assert_eq!(
            parse_args(&args(&["--ssh", "native"])).unwrap().transports,
            [Transport::Native]
        );
        assert_eq!(
            parse_args(&args(&["--ssh=both"])).unwrap().transports,
            Transport::ALL
        );
        assert!(parse_args(&args(&["--ssh", "putty"])).is_err());
        let env = |name: &str| match name {
            "DOKKU_TEST_HOST" => Some("env-host".to_string()),
            "DOKKU_TEST_USER" => Some("deploy".to_string()),
            _ => None,
        };
        let t = target_of(&a, env).unwrap().unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.user.as_str()),
            ("h", 2222, "deploy")
        );
        let none = target_of(&E2eArgs::default(), |_| None).unwrap();
        assert_eq!(none, None);
        assert!(parse_args(&args(&["--nope"])).is_err());
        assert!(parse_args(&args(&["--host"]))
            .unwrap_err()
            .contains("needs a value"));
    }

    #[test]
    fn the_target_goes_to_the_tests_as_dokku_test_variables() {
        let t = TestTarget {
            host: "127.0.0.1".into(),
            port: 40123,
            user: "dokku".into(),
            key: Some("/k/id".into()),
            known_hosts: None,
        };
        let vars = target_env(&t);
        let back =
            TestTarget::from_vars(|n| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone()))
                .unwrap()
                .unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn only_pix_e2e_apps_are_ours() {
        let apps = args(&["pix-e2e-1767225600-a3f9-x-app", "api-production"]);
        assert_eq!(foreign_apps(&apps), ["api-production"]);
    }

    #[test]
    fn the_confirming_command_is_the_same_with_yes() {
        assert_eq!(
            again_with_yes(&args(&["--host", "my host", "--", "run_"])),
            "cargo xtask e2e --host 'my host' --yes -- run_"
        );
        assert_eq!(again_with_yes(&[]), "cargo xtask e2e --yes");
    }
}
