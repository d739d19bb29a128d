//! Connects to a Dokku host over SSH and prints its version and apps.
//!
//! ```text
//! cargo run -p dokku-client --example list_apps -- HOST [PORT] [KEY] [KNOWN_HOSTS]
//! ```
//!
//! Each value can also come from the environment: `DOKKU_HOST`, `DOKKU_PORT`,
//! `DOKKU_SSH_KEY`, `DOKKU_KNOWN_HOSTS`, `DOKKU_USER` (default `dokku`).
//! Host keys are checked strictly: an unknown host is refused with its
//! fingerprint, never trusted silently.
//!
//! Against the sandbox: `cargo xtask sandbox` prints the values to use.

use std::process::ExitCode;

use dokku_client::transport::{SshConfig, SshTransport};
use dokku_client::{Client, Command};

fn arg_or_env(args: &[String], index: usize, var: &str) -> Option<String> {
    args.get(index)
        .cloned()
        .or_else(|| std::env::var(var).ok())
        .filter(|v| !v.is_empty())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(host) = arg_or_env(&args, 0, "DOKKU_HOST") else {
        eprintln!("usage: list_apps HOST [PORT] [KEY] [KNOWN_HOSTS] (or DOKKU_HOST, DOKKU_PORT, DOKKU_SSH_KEY, DOKKU_KNOWN_HOSTS)");
        return ExitCode::from(2);
    };
    let mut config = SshConfig::new(host);
    if let Some(port) = arg_or_env(&args, 1, "DOKKU_PORT") {
        match port.parse() {
            Ok(p) => config = config.port(p),
            Err(_) => {
                eprintln!("the port {port:?} is not a number");
                return ExitCode::from(2);
            }
        }
    }
    if let Some(key) = arg_or_env(&args, 2, "DOKKU_SSH_KEY") {
        config = config.key(key);
    }
    if let Some(known_hosts) = arg_or_env(&args, 3, "DOKKU_KNOWN_HOSTS") {
        config = config.known_hosts(known_hosts);
    }
    if let Ok(user) = std::env::var("DOKKU_USER") {
        if !user.is_empty() {
            config = config.user(user);
        }
    }

    let transport = match SshTransport::connect(config).await {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let client = Client::new(transport);
    let result = async {
        let version = client.version().await?.clone();
        println!("Dokku {} at {}", version.raw, client.target());
        let out = client.run_ok(Command::read("apps:list")).await?;
        for line in out.stdout_text().lines() {
            if !line.starts_with("=====>") && !line.trim().is_empty() {
                println!("{}", dokku_client::command::escape_control(line));
            }
        }
        Ok::<_, dokku_client::Error>(())
    }
    .await;
    let _ = client.close().await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
