//! `cargo xtask sandbox`: the sandbox in the foreground until Ctrl-C.

use std::sync::mpsc;
use std::time::Duration;

use pix_sandbox::sandbox::{Sandbox, SandboxOptions};

/// Starts the sandbox, prints how to reach it, waits for Ctrl-C (or
/// SIGTERM), tears it down.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let args = crate::parse_sandbox_args(args, true)?;
    crate::test_cmd::ensure_prerequisites()?;
    crate::build_emulator()?;
    let (tx, rx) = mpsc::channel::<()>();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })
    .map_err(|e| format!("cannot handle Ctrl-C: {e}"))?;
    let mut options = SandboxOptions::profile(args.profile);
    options.proxy = args.proxy_delay_ms.is_some();
    if let Some(domain) = args.global_domain {
        options.global_vhost = domain;
    }
    let sandbox = Sandbox::start(options).map_err(|e| e.to_string())?;
    if let (Some(ms), Some(proxy)) = (args.proxy_delay_ms, sandbox.proxy()) {
        proxy.set_round_trip_delay(Duration::from_millis(ms));
    }
    let pix_toml = sandbox.dir().join("pix.toml");
    sandbox
        .write_pix_toml(&pix_toml)
        .map_err(|e| e.to_string())?;
    print!("{}", describe(&sandbox, &pix_toml, args.proxy_delay_ms));
    println!("Ctrl-C stops it.");
    let _ = rx.recv();
    println!("\nstopping the sandbox ...");
    drop(sandbox);
    println!("stopped; nothing left running.");
    Ok(())
}

/// What to print about a running sandbox.
pub(crate) fn describe(sb: &Sandbox, pix_toml: &std::path::Path, delay_ms: Option<u64>) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "Dokku sandbox running (profile {}, emulator {})\n",
        sb.profile().name(),
        sb.emulator_bin().display()
    ));
    out.push_str(&format!("  host:          {}\n", sb.host()));
    match delay_ms {
        Some(ms) => out.push_str(&format!(
            "  port:          {} (proxy adding {ms} ms per round trip; sshd itself: {})\n",
            sb.port(),
            sb.sshd_port()
        )),
        None => out.push_str(&format!("  port:          {}\n", sb.port())),
    }
    out.push_str(&format!("  user:          {}\n", sb.user()));
    out.push_str(&format!("  key:           {}\n", sb.key_path().display()));
    out.push_str(&format!(
        "  known_hosts:   {}\n",
        sb.known_hosts_path().display()
    ));
    out.push_str(&format!("  emulator root: {}\n", sb.root().display()));
    out.push_str(&format!(
        "  postgres:      127.0.0.1:{} (superuser postgres)\n",
        sb.pg_port()
    ));
    out.push_str(&format!("  pix.toml:      {}\n", pix_toml.display()));
    out.push_str(&format!("\n  {} version\n", sb.ssh_line()));
    out.push_str(&format!(
        "  GIT_SSH_COMMAND=\"{}\" git push {} HEAD:master\n\n",
        sb.git_ssh_command().replace('"', "\\\""),
        sb.git_remote("api-development")
    ));
    out
}
