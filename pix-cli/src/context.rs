//! Global flags, host selection and connection, and the terminal prompter.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::Args;
use dokku_client::Client;
use pix_ops::config::{HostConfig, HostOverrides};
use pix_ops::confirm::Prompter;
use pix_ops::connect::{connect, ConnectOptions};
use pix_ops::hosts::HostTarget;
use pix_ops::select::{select, Ambient, SelectArgs, Selection};
use pix_ops::{Environment, OpsError, PixConfig};

use crate::exit::Failure;
use crate::output::Out;

/// Flags every command accepts.
#[derive(Debug, Clone, Args, Default)]
pub struct Global {
    /// The Dokku host: an address, a host name of pix.toml, or `local` to run
    /// `dokku` on this machine [default: DOKKU_HOST, pix.toml, a git remote
    /// dokku@HOST:APP].
    #[arg(long, global = true, value_name = "HOST")]
    pub host: Option<String>,
    /// SSH port [env: DOKKU_PORT].
    #[arg(long, global = true, value_name = "PORT")]
    pub port: Option<u16>,
    /// SSH login user [default: dokku].
    #[arg(long, global = true, value_name = "USER")]
    pub user: Option<String>,
    /// SSH private key [env: PIX_SSH_KEY].
    #[arg(long, global = true, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// known_hosts file [env: PIX_KNOWN_HOSTS].
    #[arg(long, global = true, value_name = "FILE")]
    pub known_hosts: Option<PathBuf>,
    /// Accept and record an unknown host key (never a changed one).
    #[arg(long, global = true)]
    pub accept_new_host_key: bool,
    /// The pix.toml to use [env: PIX_CONFIG; default: found walking up from
    /// here].
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Per-command timeout in seconds [env: PIX_TIMEOUT].
    #[arg(long, global = true, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// The SSH transport [env: PIX_SSH; default: the pix.toml host's
    /// `transport`, else openssh].
    #[arg(long = "ssh", global = true, value_name = "TRANSPORT", value_parser = ssh_kinds())]
    pub ssh: Option<pix_ops::config::SshKind>,
    /// An environment of pix.toml: its host and app.
    #[arg(long = "env", global = true, value_name = "NAME")]
    pub environment: Option<String>,
    /// The app [default: the environment's, or the git remote's].
    #[arg(short = 'a', long, global = true, value_name = "APP")]
    pub app: Option<String>,
    /// The git remote `dokku@HOST:APP` to use, when the repository has
    /// several.
    #[arg(
        short = 'r',
        long = "remote",
        id = "dokku_remote",
        global = true,
        value_name = "NAME"
    )]
    pub remote: Option<String>,
    /// Print the result as JSON (the library's structures).
    #[arg(long, global = true)]
    pub json: bool,
    /// Log the Dokku commands sent and their timings on stderr (-vv: more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// Everything a command needs.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The global flags.
    pub g: Global,
    /// Where to print.
    pub out: Out,
}

/// Set when Ctrl-C was pressed (read by the prompter, which blocks).
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

impl Ctx {
    /// What the environment, pix.toml and git say.
    pub fn ambient(&self) -> Result<Ambient, Failure> {
        let cwd =
            std::env::current_dir().map_err(|e| Failure::io("reading the current directory", e))?;
        let from_env = std::env::var_os("PIX_CONFIG")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let config = self.g.config.clone().or(from_env);
        Ok(Ambient::discover(config.as_deref(), &cwd)?)
    }

    /// The selected host and app.
    pub fn selection(&self) -> Result<Selection, Failure> {
        let args = SelectArgs {
            host: self.g.host.clone(),
            port: self.g.port,
            user: self.g.user.clone(),
            env: self.g.environment.clone(),
            app: self.g.app.clone(),
            remote: self.g.remote.clone(),
        };
        Ok(select(&args, &self.ambient()?)?)
    }

    /// Connection options: the environment's, overridden by flags.
    pub fn connect_options(&self) -> ConnectOptions {
        let mut o = ConnectOptions::from_env();
        if let Some(k) = &self.g.key {
            o.key = Some(k.clone());
        }
        if let Some(k) = &self.g.known_hosts {
            o.known_hosts = Some(k.clone());
        }
        o.accept_new_host_key |= self.g.accept_new_host_key;
        if let Some(t) = self.g.timeout {
            o.timeout = Some(Duration::from_secs(t));
        }
        if let Some(kind) = self.g.ssh {
            o.transport = Some(kind);
        }
        o
    }

    /// How this `pix` was invoked, as the start of a command to print in a
    /// hint: `pix` and the global flags that choose the host, the pix.toml
    /// and the connection (`pix --config FILE --timeout 30`), shell-quoted.
    pub fn invocation(&self) -> String {
        let mut words = vec!["pix".to_string()];
        let mut flag = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                words.push(name.to_string());
                words.push(pix_ops::reset::shell_word(&v));
            }
        };
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.to_string_lossy().into_owned());
        flag("--config", path(&self.g.config));
        flag("--host", self.g.host.clone());
        flag("--port", self.g.port.map(|p| p.to_string()));
        flag("--user", self.g.user.clone());
        flag("--key", path(&self.g.key));
        flag("--known-hosts", path(&self.g.known_hosts));
        flag("--timeout", self.g.timeout.map(|t| t.to_string()));
        flag(
            "--ssh",
            self.g.ssh.map(|k| match k {
                pix_ops::config::SshKind::Native => "native".to_string(),
                pix_ops::config::SshKind::Openssh => "openssh".to_string(),
            }),
        );
        if self.g.accept_new_host_key {
            words.push("--accept-new-host-key".into());
        }
        words.join(" ")
    }

    /// Connects to `host`.
    pub async fn connect_to(&self, host: &HostConfig) -> Result<Client, Failure> {
        Ok(connect(host, &self.connect_options()).await?)
    }

    /// Connects to the selected host.
    pub async fn connect(&self) -> Result<(Client, Selection), Failure> {
        let sel = self.selection()?;
        let client = self.connect_to(&sel.host).await?;
        Ok((client, sel))
    }

    /// The environment `name` of pix.toml, when there is a pix.toml and it
    /// defines `name` (`Ok(None)` otherwise).
    pub fn find_environment(
        &self,
        name: &str,
    ) -> Result<Option<(Environment, PixConfig)>, Failure> {
        let ambient = self.ambient()?;
        let Some(config) = ambient.config else {
            return Ok(None);
        };
        let overrides = HostOverrides {
            host: self.g.host.clone().or(ambient.dokku_host),
            port: self.g.port.or(ambient.dokku_port),
        };
        match config.environment(name, &overrides) {
            Ok(mut env) => {
                if let Some(user) = &self.g.user {
                    env.host_config.user = user.clone();
                }
                Ok(Some((env, config)))
            }
            Err(OpsError::UnknownEnvironment { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The pix.toml (which must exist) and the host overrides of the flags
    /// and the environment (`--host`/`DOKKU_HOST`, `--port`/`DOKKU_PORT`).
    pub fn config_and_overrides(&self) -> Result<(PixConfig, HostOverrides), Failure> {
        let ambient = self.ambient()?;
        let overrides = HostOverrides {
            host: self.g.host.clone().or(ambient.dokku_host),
            port: self.g.port.or(ambient.dokku_port),
        };
        match ambient.config {
            Some(c) => Ok((c, overrides)),
            None => Err(OpsError::NoConfig {
                searched_from: std::env::current_dir()
                    .map_err(|e| Failure::io("reading the current directory", e))?,
            }
            .into()),
        }
    }

    /// The current directory.
    pub fn cwd(&self) -> Result<PathBuf, Failure> {
        std::env::current_dir().map_err(|e| Failure::io("reading the current directory", e))
    }

    /// The environment `name`, which must exist.
    pub fn environment(&self, name: &str) -> Result<(Environment, PixConfig), Failure> {
        let ambient = self.ambient()?;
        let config = match ambient.config {
            Some(c) => c,
            None => {
                let cwd = std::env::current_dir()
                    .map_err(|e| Failure::io("reading the current directory", e))?;
                return Err(OpsError::NoConfig { searched_from: cwd }.into());
            }
        };
        let overrides = HostOverrides {
            host: self.g.host.clone().or(ambient.dokku_host),
            port: self.g.port.or(ambient.dokku_port),
        };
        let mut env = config.environment(name, &overrides)?;
        if let Some(user) = &self.g.user {
            env.host_config.user = user.clone();
        }
        Ok((env, config))
    }
}

/// Runs `work` until it ends or Ctrl-C is pressed (`None`); a prompt
/// waiting for an answer sees the interruption through [`INTERRUPTED`].
pub async fn interruptible<T>(work: impl std::future::Future<Output = T>) -> Option<T> {
    let watcher = tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            INTERRUPTED.store(true, Ordering::SeqCst);
        }
    });
    let result = tokio::select! {
        biased;
        _ = tokio::signal::ctrl_c() => None,
        r = work => Some(r),
    };
    watcher.abort();
    result
}

/// Asks on the terminal: the prompt on stderr, the answer from stdin.
#[derive(Debug, Default, Clone, Copy)]
pub struct TerminalPrompter;

impl Prompter for TerminalPrompter {
    fn is_terminal(&self) -> bool {
        std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
    }

    fn ask(&mut self, prompt: &str) -> std::io::Result<String> {
        {
            let mut err = std::io::stderr().lock();
            err.write_all(prompt.as_bytes())?;
            err.flush()?;
        }
        // Read on a thread so Ctrl-C (which the runtime catches) stops the wait.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let r = std::io::stdin().lock().read_line(&mut line).map(|_| line);
            let _ = tx.send(r);
        });
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(r) => {
                    let line = r?;
                    return Ok(line.trim_end_matches(['\n', '\r']).to_string());
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if INTERRUPTED.load(Ordering::SeqCst) {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::Interrupted,
                            "interrupted at the prompt",
                        ));
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(std::io::Error::other("stdin closed"));
                }
            }
        }
    }
}

/// The typed confirmation of a destruction (`apps destroy`, `db destroy`):
/// `--confirm NAME` must match; without it, the name is typed at a terminal;
/// without a terminal, refused.
pub fn confirm_destroy(
    what: &str,
    name: &str,
    command: &str,
    confirm: Option<&str>,
    prompter: &mut dyn Prompter,
) -> Result<(), Failure> {
    let refused = |message: String| Failure::Ops(OpsError::Refused { message });
    if let Some(given) = confirm {
        if given == name {
            return Ok(());
        }
        return Err(refused(format!(
            "--confirm {given:?} does not match {what} {name}; nothing was done. To destroy it, run `{command} --confirm {name}`"
        )));
    }
    if !prompter.is_terminal() {
        return Err(refused(format!(
            "destroying {what} {name} needs a confirmation and there is no terminal to ask on; nothing was done. Run `{command} --confirm {name}`"
        )));
    }
    let answer = prompter
        .ask(&format!(
            "This destroys {what} {name} and its data, for good.\nType its name ({name}) to confirm: "
        ))
        .map_err(|e| Failure::io("reading the confirmation", e))?;
    if answer.trim() == name {
        Ok(())
    } else {
        Err(refused(format!(
            "confirmation did not match {name}; nothing was done"
        )))
    }
}

/// `--ssh`'s values, listed in `--help` and completions.
fn ssh_kinds() -> impl clap::builder::TypedValueParser<Value = pix_ops::config::SshKind> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new([
        PossibleValue::new("openssh").help("the system ssh with a ControlMaster (the default)"),
        PossibleValue::new("native").help("in-process (russh): one round trip per command"),
    ])
    .try_map(|s| s.parse::<pix_ops::config::SshKind>())
}

/// Splits `[APP] WORDS...`: a first word for which `is_data` is false is the
/// app, unless `--app` was given (pure).
pub fn split_app(
    words: &[String],
    app_flag: bool,
    is_data: impl Fn(&str) -> bool,
) -> (Option<&str>, &[String]) {
    match words.split_first() {
        Some((first, rest)) if !app_flag && !is_data(first) => (Some(first.as_str()), rest),
        _ => (None, words),
    }
}

/// The hosts of pix.toml a command that works on several hosts reaches
/// (`pix status --all`, `pix provision`), as the global flags select them
/// ([`pix_ops::select::select_hosts`]), and pix.toml.
pub fn host_targets(ctx: &Ctx) -> Result<(PixConfig, Vec<HostTarget>), Failure> {
    let (config, overrides) = ctx.config_and_overrides()?;
    let list = pix_ops::select::select_hosts(
        &config,
        ctx.g.host.as_deref(),
        &overrides,
        ctx.g.user.as_deref(),
    )?;
    Ok((config, list))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::{code, REFUSED};

    struct Scripted(bool, &'static str);

    impl Prompter for Scripted {
        fn is_terminal(&self) -> bool {
            self.0
        }
        fn ask(&mut self, _: &str) -> std::io::Result<String> {
            Ok(self.1.to_string())
        }
    }

    #[test]
    fn the_invocation_keeps_the_global_flags_that_matter() {
        let ctx = |g: Global| Ctx {
            g,
            out: Out::detect(false),
        };
        assert_eq!(ctx(Global::default()).invocation(), "pix");
        let g = Global {
            config: Some(PathBuf::from("/my dir/pix.toml")),
            port: Some(2222),
            timeout: Some(5),
            json: true,
            verbose: 2,
            ..Global::default()
        };
        assert_eq!(
            ctx(g).invocation(),
            "pix --config '/my dir/pix.toml' --port 2222 --timeout 5"
        );
    }

    #[test]
    fn destroy_needs_the_name() {
        let c = |confirm: Option<&str>, tty: bool, answer: &'static str| {
            confirm_destroy(
                "app",
                "myapp",
                "pix apps destroy myapp",
                confirm,
                &mut Scripted(tty, answer),
            )
        };
        assert!(c(Some("myapp"), false, "").is_ok());
        assert!(c(None, true, "myapp").is_ok());
        for (confirm, tty, answer) in [
            (Some("other"), true, "myapp"),
            (None, false, ""),
            (None, true, "yes"),
        ] {
            let e = c(confirm, tty, answer).unwrap_err();
            assert_eq!(code(&e), REFUSED);
        }
        let Err(Failure::Ops(e)) = c(None, false, "") else {
            panic!()
        };
        assert!(e.to_string().contains("--confirm myapp"), "{e}");
    }
}
