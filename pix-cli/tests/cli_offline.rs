//! What needs no server: help with examples, `pix help exit-codes`,
//! completions, the man page, usage errors and an unreachable host.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use common::run_pix;

fn pix(args: &[&str]) -> common::Run {
    let dir = tempfile::tempdir().unwrap();
    run_pix(dir.path(), args, &[], None)
}

#[test]
fn help_lists_commands_and_exit_codes() {
    let help = pix(&["help"]).expect(0);
    for cmd in [
        "apps",
        "ps",
        "config",
        "db",
        "run",
        "logs",
        "status",
        "ssh-keys",
        "storage",
        "dokku",
        "deploy",
        "review-app",
        "remote",
        "ssh",
        "parse",
        "completions",
        "man",
        "exit-codes",
    ] {
        assert!(help.stdout.contains(cmd), "{cmd} missing:\n{}", help.stdout);
    }
    let codes = pix(&["help", "exit-codes"]).expect(0);
    snap!("help_exit_codes", codes);
    let sub = pix(&["help", "db", "reset"]).expect(0);
    assert!(
        sub.stdout.contains("--resume") && sub.stdout.contains("Example"),
        "{}",
        sub.stdout
    );
    let unknown = pix(&["help", "nope"]).expect(2);
    assert!(unknown.stderr.contains("pix help"), "{}", unknown.render());
}

#[test]
fn every_command_help_has_an_example() {
    for args in [
        &["apps", "list"][..],
        &["apps", "destroy"],
        &["ps", "scale"],
        &["config", "set"],
        &["db", "backup"],
        &["db", "restore"],
        &["db", "reset"],
        &["run"],
        &["logs"],
        &["status"],
        &["ssh-keys", "add"],
        &["storage", "mount"],
        &["dokku"],
        &["completions"],
    ] {
        let mut a = args.to_vec();
        a.push("--help");
        let help = pix(&a).expect(0);
        assert!(
            help.stdout.contains("Example"),
            "{args:?}:\n{}",
            help.stdout
        );
    }
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        let c = pix(&["completions", shell]).expect(0);
        assert!(
            c.stdout.contains("ssh-keys") && c.stdout.contains("backups-dir"),
            "{shell}"
        );
    }
    let man = pix(&["man"]).expect(0);
    assert!(
        man.stdout.starts_with(".ie") || man.stdout.contains(".TH pix"),
        "{}",
        &man.stdout[..200]
    );
    // One page per command, and all of them into a folder.
    let page = pix(&["man", "db", "reset"]).expect(0);
    assert!(
        page.stdout.contains(".TH pix-db-reset 1"),
        "{}",
        page.render()
    );
    pix(&["man", "nope"]).expect(2);
    let dir = tempfile::tempdir().unwrap();
    pix(&["man", "--out-dir", dir.path().to_str().unwrap()]).expect(0);
    for page in ["pix.1", "pix-deploy.1", "pix-db-reset.1", "pix-run.1"] {
        assert!(dir.path().join(page).is_file(), "{page} missing");
    }
}

/// Completions offer the environments (and aliases) of the pix.toml found.
#[test]
fn completions_offer_the_environments_of_pix_toml() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pix.toml"),
        "[hosts.h]\naddress = \"h.example\"\n[environments.recette]\nhost = \"h\"\napp = \"api-recette\"\ndatabase = \"pg-recette\"\naliases = [\"rec\"]\n",
    )
    .unwrap();
    let bash = run_pix(dir.path(), &["completions", "bash"], &[], None).expect(0);
    assert!(
        bash.stdout.contains("recette") && bash.stdout.contains("rec"),
        "{}",
        bash.render()
    );
    let none = pix(&["completions", "bash"]).expect(0);
    assert!(!none.stdout.contains("recette"));
}

#[test]
fn usage_errors_and_transport_failures() {
    let bad = pix(&["apps", "frobnicate"]).expect(2);
    assert!(bad.stderr.contains("frobnicate"));
    // a bad formation is a usage error before any connection is tried
    let bad = pix(&[
        "--host",
        "127.0.0.1",
        "--port",
        "1",
        "ps",
        "scale",
        "a",
        "web=x",
    ])
    .expect(2);
    assert!(bad.stderr.contains("TYPE=N"), "{}", bad.render());
    // nothing listens on port 1: the transport code, and the message says what to check
    let dead = pix(&["--host", "127.0.0.1", "--port", "1", "apps", "list"]).expect(6);
    assert!(dead.stderr.contains("127.0.0.1"), "{}", dead.render());
    let dead = pix(&[
        "--host",
        "127.0.0.1",
        "--port",
        "1",
        "apps",
        "list",
        "--json",
    ])
    .expect(6);
    assert_eq!(dead.json()["error"]["exit_code"], 6);
    let bad_port = run_pix(
        tempfile::tempdir().unwrap().path(),
        &["apps", "list"],
        &[("DOKKU_HOST", "h"), ("DOKKU_PORT", "http")],
        None,
    )
    .expect(2);
    assert!(
        bad_port.stderr.contains("DOKKU_PORT"),
        "{}",
        bad_port.render()
    );
}

#[test]
fn deploy_remote_and_trust_host_refuse_bad_input_offline() {
    // no pix.toml: deploy and review apps say how to get one
    for args in [&["deploy", "development"][..], &["review-app", "list"]] {
        let r = pix(args).expect(2);
        assert!(r.stderr.contains("pix.toml"), "{}", r.render());
    }
    // `--host local` cannot receive a push
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pix.toml"),
        "[hosts.h]\naddress = \"h\"\n[environments.development]\nhost = \"h\"\napp = \"a\"\ndatabase = \"d\"\n",
    )
    .unwrap();
    let local = run_pix(
        dir.path(),
        &["--host", "local", "deploy", "development"],
        &[],
        None,
    )
    .expect(2);
    assert!(
        local.stderr.contains("git pushes over SSH"),
        "{}",
        local.render()
    );
    // remote status outside a repository: a usage error
    let outside = pix(&["remote", "status"]).expect(2);
    assert!(
        outside.stderr.contains("not inside a git repository"),
        "{}",
        outside.render()
    );
    // trust-host: bad ports and option-looking hosts are refused before
    // anything runs
    for args in [
        &["ssh", "trust-host", "h:x"][..],
        &["ssh", "trust-host", "[::1"],
        &["ssh", "trust-host", "--", "-oProxyCommand=touch"],
        &["ssh", "trust-host", "--host", "local"],
    ] {
        let r = pix(args).expect(2);
        assert!(r.stderr.starts_with("error: "), "{}", r.render());
    }
}

/// A TCP server on loopback that accepts and never says a word (no SSH
/// banner); it lets go of its connections after `for_at_most`.
fn silent_listener(for_at_most: std::time::Duration) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + for_at_most;
        let mut held = Vec::new();
        while std::time::Instant::now() < deadline {
            match listener.accept() {
                Ok((stream, _)) => held.push(stream),
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        }
    });
    port
}

#[test]
fn the_timeout_bounds_connecting_to_a_host_that_never_answers() {
    let port = silent_listener(std::time::Duration::from_secs(40));
    let port = port.to_string();
    let started = std::time::Instant::now();
    let run = pix(&[
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--known-hosts",
        "/dev/null",
        "--timeout",
        "2",
        "apps",
        "list",
    ]);
    let took = started.elapsed();
    assert_eq!(run.code, 6, "{}", run.render());
    assert!(
        took < std::time::Duration::from_secs(8),
        "connecting took {took:?} despite --timeout 2:\n{}",
        run.render()
    );
    assert!(
        run.stderr.contains("not set up within 2s") && run.stderr.contains("--timeout"),
        "the error says what timed out and what to do:\n{}",
        run.render()
    );
}

/// `pix db info` without a service: the environment of pix.toml when it has
/// one (here unreachable: it tries to connect, exit 6), a usage error that
/// lists them when it has several.
#[test]
fn db_commands_default_to_the_single_environment() {
    let dir = tempfile::tempdir().unwrap();
    let one = "[hosts.h]\naddress = \"127.0.0.1\"\nport = 1\n[environments.development]\nhost = \"h\"\napp = \"api-dev\"\ndatabase = \"pg-dev\"\n";
    std::fs::write(dir.path().join("pix.toml"), one).unwrap();
    let run = run_pix(dir.path(), &["--timeout", "3", "db", "info"], &[], None).expect(6);
    assert!(
        run.stderr
            .contains("could not reach Dokku at dokku@127.0.0.1:1"),
        "{}",
        run.render()
    );
    let two = format!(
        "{one}[environments.staging]\nhost = \"h\"\napp = \"api-st\"\ndatabase = \"pg-st\"\n"
    );
    std::fs::write(dir.path().join("pix.toml"), two).unwrap();
    let run = run_pix(dir.path(), &["db", "info"], &[], None).expect(2);
    assert!(
        run.stderr
            .contains("pass --env NAME (pix.toml defines: development, staging)"),
        "{}",
        run.render()
    );
}
