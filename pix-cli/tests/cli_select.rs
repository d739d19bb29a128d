//! Host and app detection through the binary, in a scratch repository:
//! a git remote `dokku@HOST:APP` (ssh:// form with a port), `DOKKU_HOST`,
//! `pix.toml` found from a subfolder, `--env`, and the error without any.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use common::{run_pix, World};
use pix_sandbox::scenario;

#[test]
fn host_and_app_from_remote_env_and_pix_toml() {
    let w = World::start();
    scenario::dokku(&w.sb, &["apps:create", "from-remote"]).unwrap();
    scenario::dokku(&w.sb, &["apps:create", "api-development"]).unwrap();
    let key = w.sb.key_path();
    let known = w.sb.known_hosts_path();
    let creds = [
        ("PIX_SSH_KEY", key.to_str().unwrap()),
        ("PIX_KNOWN_HOSTS", known.to_str().unwrap()),
    ];

    // A scratch repository whose second remote points at the sandbox.
    let repo = tempfile::tempdir().unwrap();
    scenario::git(repo.path(), &["init", "-q"]).unwrap();
    scenario::git(
        repo.path(),
        &["remote", "add", "origin", "git@github.com:1024pix/pix.git"],
    )
    .unwrap();
    let url = format!(
        "ssh://{}@127.0.0.1:{}/from-remote",
        w.sb.user(),
        w.sb.port()
    );
    scenario::git(repo.path(), &["remote", "add", "dokku", &url]).unwrap();
    let sub = repo.path().join("api/src");
    std::fs::create_dir_all(&sub).unwrap();

    // host and app from the remote, from a subfolder
    let info = run_pix(&sub, &["apps", "info", "--json"], &creds, None).expect(0);
    assert_eq!(info.json()["app"], "from-remote");
    // --app beats the remote's app
    let info = run_pix(
        &sub,
        &["--app", "api-development", "apps", "info", "--json"],
        &creds,
        None,
    )
    .expect(0);
    assert_eq!(info.json()["app"], "api-development");

    // DOKKU_HOST / DOKKU_PORT, no repository, no pix.toml
    let bare = tempfile::tempdir().unwrap();
    let port = w.sb.port().to_string();
    let mut env = creds.to_vec();
    env.push(("DOKKU_HOST", "127.0.0.1"));
    env.push(("DOKKU_PORT", &port));
    let list = run_pix(bare.path(), &["apps", "list", "--json"], &env, None).expect(0);
    assert!(list.json().as_array().unwrap().len() >= 2);
    // with no app anywhere, an app command says how to name one
    let none = run_pix(bare.path(), &["apps", "info"], &env, None).expect(2);
    assert!(none.stderr.contains("--app"), "{}", none.render());
    // --host beats DOKKU_HOST
    let mut wrong = env.clone();
    wrong.push(("DOKKU_HOST", "192.0.2.1"));
    run_pix(
        bare.path(),
        &["--host", "127.0.0.1", "apps", "list"],
        &wrong,
        None,
    )
    .expect(0);

    // pix.toml found walking up; its single host; --env picks the app
    std::fs::copy(&w.toml, repo.path().join("pix.toml")).unwrap();
    scenario::git(repo.path(), &["remote", "remove", "dokku"]).unwrap();
    run_pix(&sub, &["apps", "list"], &[], None).expect(0);
    let env_info = run_pix(
        &sub,
        &["--env", "development", "apps", "info", "--json"],
        &[],
        None,
    )
    .expect(0);
    assert_eq!(env_info.json()["app"], "api-development");
    let prod = run_pix(&sub, &["--env", "prod", "apps", "info"], &[], None).expect(3);
    assert!(prod.stderr.contains("api-prod"), "{}", prod.render());

    // --host local: `dokku` on this machine (here the emulator behind a
    // `dokku` on PATH, as on the server itself)
    let bin = tempfile::tempdir().unwrap();
    let wrapper = bin.path().join("dokku");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec '{}' \"$@\"\n",
            w.sb.emulator_bin().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap()
    );
    let root = w.sb.root().to_str().unwrap().to_string();
    let local_env = [
        ("PATH", path.as_str()),
        ("DOKKU_EMULATOR_ROOT", root.as_str()),
    ];
    let local = run_pix(
        bare.path(),
        &["--host", "local", "apps", "list", "--json"],
        &local_env,
        None,
    )
    .expect(0);
    let apps = local.json();
    assert!(
        apps.as_array().unwrap().iter().any(|a| a == "from-remote"),
        "{apps}"
    );

    // nothing at all: a usage error that lists the ways
    let nothing = run_pix(bare.path(), &["apps", "list"], &[], None).expect(2);
    snap!("select_no_host", nothing);
}
