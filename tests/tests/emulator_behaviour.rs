//! The emulator's real parts without sshd: git push deploys through the
//! forced-command path (a stand-in `ssh` that sets `SSH_ORIGINAL_COMMAND`),
//! real processes, `run`, `logs`, deploy locks and faults.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use pix_sandbox::contract::{
    read_received, EmulatorConfig, Fault, FaultAction, PostgresAdmin, Profile, CONFIG_FILE,
    FAULTS_DIR, RUN_DIR,
};

/// The emulator binary (built by cargo for this test run).
static EMULATOR_BIN: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    pix_sandbox::sandbox::find_emulator_bin()
        .expect("the dokku-emulator binary")
        .to_string_lossy()
        .into_owned()
});

fn emulator() -> &'static str {
    EMULATOR_BIN.as_str()
}

/// An emulator state directory; kills recorded processes on drop.
struct Emu {
    root: tempfile::TempDir,
}

impl Emu {
    fn new(profile: Profile) -> Emu {
        let root = tempfile::tempdir().unwrap();
        let cfg = EmulatorConfig {
            profile,
            global_vhost: "sandbox.test".into(),
            postgres: PostgresAdmin {
                host: "127.0.0.1".into(),
                port: 1,
                superuser: "postgres".into(),
                password: String::new(),
                bin_dir: PathBuf::from("/usr/bin"),
            },
            git_bin_dir: None,
            emulator_bin: PathBuf::from(emulator()),
        };
        std::fs::write(
            root.path().join(CONFIG_FILE),
            serde_json::to_vec(&cfg).unwrap(),
        )
        .unwrap();
        Emu { root }
    }

    fn path(&self) -> &Path {
        self.root.path()
    }

    fn cmd(&self, args: &[&str]) -> Output {
        Command::new(emulator())
            .arg("--root")
            .arg(self.path())
            .args(args)
            .env("HOME", self.path())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn ssh(&self, line: &str, stdin: &[u8]) -> Output {
        let mut child = Command::new(emulator())
            .arg("--root")
            .arg(self.path())
            .env("HOME", self.path())
            .env("SSH_ORIGINAL_COMMAND", line)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        child.wait_with_output().unwrap()
    }

    /// A stand-in for `ssh`: runs the emulator as sshd's forced command would.
    fn fake_ssh(&self) -> PathBuf {
        let path = self.path().join("fake-ssh");
        let script = format!(
            "#!/bin/sh\nfor a; do last=$a; done\nSSH_ORIGINAL_COMMAND=\"$last\" exec '{}' --root '{}'\n",
            emulator(),
            self.path().display()
        );
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        if let Ok(entries) = std::fs::read_dir(self.path().join(RUN_DIR)) {
            for e in entries.flatten() {
                if let Ok(pgid) = std::fs::read_to_string(e.path())
                    .unwrap_or_default()
                    .trim()
                    .parse::<i32>()
                {
                    let _ = nix::sys::signal::killpg(
                        nix::unistd::Pid::from_raw(pgid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
            }
        }
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A git work tree with a small app.
struct Work {
    dir: tempfile::TempDir,
}

impl Work {
    fn new(predeploy: &str) -> Work {
        let dir = tempfile::tempdir().unwrap();
        let w = Work { dir };
        w.git(&["init", "-q", "-b", "main"]);
        std::fs::write(
            w.dir.path().join("Procfile"),
            "web: while true; do echo \"tick $GREETING port=$PORT\"; sleep 0.1; done\nhello: echo \"hi from $GREETING\"\n",
        )
        .unwrap();
        let app_json = serde_json::json!({
            "scripts": {"dokku": {"predeploy": predeploy, "postdeploy": "echo postdeploy-ran"}}
        });
        std::fs::write(w.dir.path().join("app.json"), app_json.to_string()).unwrap();
        w.commit("first");
        w
    }

    fn git(&self, args: &[&str]) -> Output {
        let out = Command::new("git")
            .args(args)
            .current_dir(self.dir.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@t")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@t")
            .output()
            .unwrap();
        out
    }

    fn commit(&self, msg: &str) {
        assert!(self.git(&["add", "-A"]).status.success());
        let out = self.git(&["commit", "-q", "-m", msg]);
        assert!(out.status.success(), "{out:?}");
    }

    fn push(&self, emu: &Emu, app: &str, refspec: &str) -> Output {
        Command::new("git")
            .args(["push", &format!("dokku@sandbox:{app}"), refspec])
            .current_dir(self.dir.path())
            .env("GIT_SSH", emu.fake_ssh())
            .env("GIT_SSH_VARIANT", "simple")
            .output()
            .unwrap()
    }
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn git_push_deploys_runs_processes_and_scripts() {
    let emu = Emu::new(Profile::V0_38);
    let work = Work::new("echo \"predeploy with $GREETING\" && touch predeploy-marker");
    // first push creates the app
    let out = work.push(&emu, "demo", "main");
    let err = text(&out.stderr);
    assert!(out.status.success(), "push failed: {err}");
    assert!(
        err.contains("\x1b[1G\x1b[K-----> Set main as deploy-branch"),
        "{err}"
    );
    assert!(err.contains("-----> Checking for predeploy task"), "{err}");
    assert!(
        err.contains("Executing predeploy task from app.json"),
        "{err}"
    );
    assert!(err.contains("postdeploy-ran"), "{err}");
    assert!(err.contains("=====> Application deployed:"), "{err}");
    assert!(err.contains("       http://demo.sandbox.test"), "{err}");
    assert!(emu.path().join("apps/demo/tree/predeploy-marker").exists());

    let sha = text(&work.git(&["rev-parse", "HEAD"]).stdout)
        .trim()
        .to_owned();
    // the rev lands in the app's config, as git_build does
    let out = emu.cmd(&["config:get", "demo", "GIT_REV"]);
    assert_eq!(text(&out.stdout), format!("{sha}\n"));
    let out = emu.cmd(&["git:report", "demo", "--git-sha"]);
    assert_eq!(text(&out.stdout), format!("{sha}\n"));
    let out = emu.cmd(&["apps:report", "demo", "--app-deploy-source"]);
    assert_eq!(text(&out.stdout), "git-push\n");

    // the web process is real and sees the config
    let out = emu.cmd(&["ps:report", "demo", "--running"]);
    assert_eq!(text(&out.stdout), "true\n");
    let out = emu.cmd(&["config:set", "demo", "GREETING=bonjour"]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("-----> Restarting app demo"), "{stdout}");
    assert!(
        stdout.ends_with("=====> Application deployed:\n       http://demo.sandbox.test\n\n"),
        "{stdout}"
    );
    wait_for("the web log", || {
        text(&emu.cmd(&["logs", "demo", "--num", "5", "-q"]).stdout).contains("tick bonjour")
    });
    let logs = text(&emu.cmd(&["logs", "demo", "--num", "1"]).stdout);
    assert!(logs.starts_with("\x1b[36m20"), "{logs}");
    assert!(logs.contains(" app[web.1]:\x1b[0m tick "), "{logs}");

    // run: Procfile key, exit code, environment
    let out = emu.ssh("run demo hello", b"");
    assert_eq!(
        text(&out.stdout),
        "-----> Found 'hello' in Procfile, running that command\nhi from bonjour\n"
    );
    // The container's exit code; herokuish's `/exec` execs the words, so a
    // shell builtin given as one quoted word is "not found" (127), as on a
    // real Dokku.
    let out = emu.ssh("run demo false", b"");
    assert_eq!(out.status.code(), Some(1));
    let out = emu.ssh("run demo 'exit 7'", b"");
    assert_eq!(out.status.code(), Some(127));
    // `/exec` evaluates the words (`$GREETING`, `&&`) before running what
    // they print: the marker exists, the app's config is the environment.
    let out = emu.ssh("run demo echo $GREETING && echo x", b"");
    assert_eq!(text(&out.stdout), "bonjour x\n");
    let out = emu.ssh("run demo ls predeploy-marker", b"");
    assert_eq!(text(&out.stdout), "predeploy-marker\n");
    let out = emu.ssh("run demo printenv GREETING", b"");
    assert_eq!(text(&out.stdout), "bonjour\n");

    // stop and start
    let out = emu.cmd(&["ps:stop", "demo"]);
    assert_eq!(text(&out.stdout), "-----> Stopping demo\n");
    let out = emu.cmd(&["ps:report", "demo", "--status-web.1"]);
    assert!(text(&out.stdout).starts_with("exited (CID: "), "{out:?}");
    let out = emu.cmd(&["ps:start", "demo"]);
    assert_eq!(
        text(&out.stderr),
        " !     App has been detected as not running, releasing\n"
    );
    assert!(text(&out.stdout).starts_with("-----> Releasing demo...\n"));
    let out = emu.cmd(&["ps:report", "demo", "--running"]);
    assert_eq!(text(&out.stdout), "true\n");

    // scale: a second web process
    let out = emu.cmd(&["ps:scale", "demo", "web=2"]);
    assert!(out.status.success(), "{out:?}");
    let out = emu.cmd(&["ps:report", "demo", "--processes"]);
    assert_eq!(text(&out.stdout), "2\n");

    // push to another branch: warning only
    let out = work.push(&emu, "demo", "main:other");
    assert!(text(&out.stderr).contains("-----> for example, try 'git push <dokku> other:main'"));
    assert!(text(&out.stderr)
        .contains("-----> WARNING: deploy did not complete, you must push to main."));

    // a failing predeploy rejects the push and leaves the running version alone
    std::fs::write(
        work.dir.path().join("app.json"),
        r#"{"scripts":{"dokku":{"predeploy":"echo migrating; exit 3"}}}"#,
    )
    .unwrap();
    work.commit("broken");
    let out = work.push(&emu, "demo", "main");
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("pre-receive hook declined"), "{err}");
    assert!(err.contains("migrating"), "{err}");
    let out = emu.cmd(&["git:report", "demo", "--git-sha"]);
    assert_eq!(text(&out.stdout), format!("{sha}\n"));
    assert!(emu.path().join("apps/demo/tree/predeploy-marker").exists());
    let out = emu.cmd(&["ps:report", "demo", "--running"]);
    assert_eq!(text(&out.stdout), "true\n");

    // destroy stops the processes
    let pids: Vec<PathBuf> = std::fs::read_dir(emu.path().join(RUN_DIR))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(!pids.is_empty());
    let out = emu.cmd(&["--force", "apps:destroy", "demo"]);
    assert!(out.status.success(), "{out:?}");
    for p in pids {
        assert!(!p.exists(), "{} left behind", p.display());
    }
}

#[test]
fn a_held_deploy_lock_refuses_the_deploy() {
    let emu = Emu::new(Profile::V0_38);
    let work = Work::new("true");
    assert!(work.push(&emu, "locked", "main:master").status.success());
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(emu.path().join("apps/locked/.deploy.lock"))
        .unwrap();
    let held = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusiveNonblock).unwrap();
    let out = emu.cmd(&["ps:rebuild", "locked"]);
    assert_eq!(
        text(&out.stdout),
        " !     locked currently has a deploy lock in place. Exiting...\n !     Run 'apps:unlock' to release the existing deploy lock\n !      !     locked currently has a deploy lock in place. Exiting...\n !     Run 'apps:unlock' to release the existing deploy lock\n\n"
    );
    assert_eq!(out.status.code(), Some(1));
    drop(held);
    // apps:lock only creates the file: it does not block a deploy
    assert!(emu.cmd(&["apps:lock", "locked"]).status.success());
    let out = emu.cmd(&["ps:rebuild", "locked"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(emu.cmd(&["apps:locked", "locked"]).status.code(), Some(1));
}

fn arm(emu: &Emu, name: &str, fault: &Fault) {
    let dir = emu.path().join(FAULTS_DIR);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("{name}.json")),
        serde_json::to_vec(fault).unwrap(),
    )
    .unwrap();
}

#[test]
fn faults_fire_as_asked_and_commands_are_recorded() {
    let emu = Emu::new(Profile::V0_38);
    arm(
        &emu,
        "a",
        &Fault {
            matches: "apps:list".into(),
            action: FaultAction::Exit {
                code: 42,
                stderr: "injected\n".into(),
            },
            times: 1,
        },
    );
    let out = emu.ssh("--quiet apps:list", b"");
    assert_eq!(out.status.code(), Some(42));
    assert_eq!(text(&out.stderr), "injected\n");
    assert_eq!(emu.ssh("apps:list", b"").status.code(), Some(0));

    // hang: ends early once the client is gone (stdout closed)
    arm(
        &emu,
        "b",
        &Fault {
            matches: "version".into(),
            action: FaultAction::Hang { seconds: 30 },
            times: 1,
        },
    );
    let start = Instant::now();
    let mut child = Command::new(emulator())
        .arg("--root")
        .arg(emu.path())
        .arg("version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "should still hang");
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    assert!(start.elapsed() < Duration::from_secs(5));

    // drop after bytes: output is cut (no sshd here, so the emulator exits 255)
    arm(
        &emu,
        "c",
        &Fault {
            matches: "help".into(),
            action: FaultAction::DropAfterBytes { bytes: 10 },
            times: 1,
        },
    );
    let out = emu.cmd(&["help"]);
    assert_eq!(out.stdout, b"Usage: dok");
    assert_eq!(out.status.code(), Some(255));

    let received = read_received(emu.path()).unwrap();
    assert_eq!(
        received[0].ssh_original_command.as_deref(),
        Some(&b"--quiet apps:list"[..])
    );
    assert_eq!(received[0].argv_lossy(), vec!["--quiet", "apps:list"]);
    assert_eq!(received.last().unwrap().argv_lossy(), vec!["help"]);
}

#[test]
fn profiles_differ_as_the_reference_says() {
    let e19 = Emu::new(Profile::V0_19);
    let out = e19.cmd(&["apps:report", "ghost"]);
    assert_eq!(
        (out.status.code(), text(&out.stderr)),
        (Some(1), "App ghost does not exist\n".into())
    );
    assert!(e19.cmd(&["apps:create", "myapp"]).status.success());
    // bash apps:report of an undeployed app: header, then `not deployed` (exit 0)
    let out = e19.cmd(&["apps:report", "myapp"]);
    assert_eq!(text(&out.stdout), "=====> myapp app information\n");
    assert_eq!(
        (out.status.code(), text(&out.stderr)),
        (Some(0), "not deployed\n".into())
    );
    let out = e19.cmd(&["apps:report", "myapp", "--app-dir"]);
    assert_eq!(text(&out.stdout), "/home/dokku/myapp\n");
    let out = e19.cmd(&["apps:report", "myapp", "--git-sha"]);
    assert_eq!(
        (out.status.code(), text(&out.stderr)),
        (Some(1), "not deployed\n".into())
    );
    let out = e19.cmd(&["domains:report", "myapp"]);
    assert_eq!(
        text(&out.stdout),
        format!(
            "=====> myapp domains information\n       {:<30} {:<25}\n       {:<30} {:<25}\n       {:<30} {:<25}\n       {:<30} {:<25}\n",
            "Domains app enabled:", "true", "Domains app vhosts:", "myapp.sandbox.test", "Domains global enabled:", "true", "Domains global vhosts:", "sandbox.test"
        )
    );
    let out = e19.cmd(&["apps:report", "myapp", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    // pre-0.34 config over SSH goes through `xargs $0`: 1 becomes 123
    let out = e19.ssh("config:get myapp NOPE", b"");
    assert_eq!(out.status.code(), Some(123));
    let out = e19.ssh("config:set --no-restart myapp A='x  y'", b"");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        text(&e19.cmd(&["config:get", "myapp", "A"]).stdout),
        "x  y\n"
    );

    let e30 = Emu::new(Profile::V0_30);
    assert!(e30.cmd(&["apps:create", "myapp"]).status.success());
    let out = e30.cmd(&["apps:report", "myapp", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        json.get("app-dir").is_some() && json.get("dir").is_none(),
        "{json}"
    );
    let out = e30.cmd(&["apps:exists", "ghost"]);
    assert_eq!(out.status.code(), Some(20));
    // no xargs re-split outside config: quotes stay literal
    let out = e30.ssh("apps:create 'quoted'", b"");
    assert_eq!(out.status.code(), Some(1));

    let e38 = Emu::new(Profile::V0_38);
    assert!(e38.cmd(&["apps:create", "myapp"]).status.success());
    let out = e38.ssh("apps:list --quiet", b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).ends_with("unknown flag: --quiet\n"));
    // `--app` is inserted as the first argument of core commands
    let out = e38.ssh("--app myapp config:show", b"");
    assert_eq!(text(&out.stdout), "=====> myapp env vars\n\n");
    // two info flags: nothing, exit 0
    let out = e38.cmd(&["apps:report", "myapp", "--app-dir", "--app-locked"]);
    assert_eq!((out.status.code(), out.stdout.len()), (Some(0), 0));
}

#[test]
fn storage_ssh_keys_plugins_and_help() {
    let emu = Emu::new(Profile::V0_38);
    assert!(emu.cmd(&["apps:create", "myapp"]).status.success());
    assert!(emu
        .cmd(&["storage:mount", "myapp", "/srv/data:/app/data"])
        .status
        .success());
    let out = emu.cmd(&["storage:mount", "myapp", "/srv/data:/app/data"]);
    assert_eq!(
        (out.status.code(), text(&out.stderr)),
        (Some(1), " !     Mount path already exists.\n".into())
    );
    let out = emu.cmd(&["storage:list", "myapp"]);
    assert_eq!(
        text(&out.stdout),
        "-----> myapp volume bind-mounts:\n       /srv/data:/app/data\n"
    );
    assert!(emu
        .cmd(&["storage:unmount", "myapp", "/srv/data:/app/data"])
        .status
        .success());
    assert_eq!(
        text(&emu.cmd(&["storage:list", "myapp"]).stdout),
        "-----> myapp volume bind-mounts:\n"
    );

    let out = emu.cmd(&["ssh-keys:list"]);
    assert_eq!(out.status.code(), Some(1));
    let keydir = tempfile::tempdir().unwrap();
    let key = keydir.path().join("k");
    let gen = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .output();
    if gen.is_ok_and(|g| g.status.success()) {
        let public = std::fs::read(key.with_extension("pub")).unwrap();
        let out = emu.ssh("ssh-keys:add admin", &public);
        assert!(out.status.success(), "{out:?}");
        let fp = text(&out.stdout).trim().to_owned();
        assert!(fp.starts_with("SHA256:"), "{fp}");
        let out = emu.cmd(&["ssh-keys:list"]);
        assert_eq!(
            text(&out.stdout),
            format!("{fp} NAME=\"admin\" SSHCOMMAND_ALLOWED_KEYS=\"no-agent-forwarding,no-user-rc,no-X11-forwarding,no-port-forwarding\"\n")
        );
        let allowed = "no-agent-forwarding,no-user-rc,no-X11-forwarding,no-port-forwarding";
        let public_key = text(&public).trim().to_owned();
        // sshcommand list's sed rows, unescaped and spaced
        let out = emu.cmd(&["ssh-keys:list", "--format", "json"]);
        assert_eq!(
            text(&out.stdout),
            format!("[{{ \"fingerprint\": \"{fp}\", \"name\": \"admin\", \"SSHCOMMAND_ALLOWED_KEYS\": \"{allowed}\", \"public-key\": \"{public_key}\" }}]\n")
        );
        let listed = dokku_client::ssh_keys::parse_ssh_keys_list_json(&text(&out.stdout)).unwrap();
        let as_text =
            dokku_client::ssh_keys::parse_ssh_keys_list(&text(&emu.cmd(&["ssh-keys:list"]).stdout));
        assert_eq!((listed.len(), &listed), (1, &as_text));
        // a name: subcommands/list pipes the rows through `jq -cM`
        let out = emu.cmd(&["ssh-keys:list", "--format", "json", "admin"]);
        assert_eq!(
            text(&out.stdout),
            format!("[{{\"fingerprint\":\"{fp}\",\"name\":\"admin\",\"SSHCOMMAND_ALLOWED_KEYS\":\"{allowed}\",\"public-key\":\"{public_key}\"}}]\n")
        );
        assert_eq!(
            text(
                &emu.cmd(&["ssh-keys:list", "--format", "json", "ghost"])
                    .stdout
            ),
            "[]\n"
        );
        // text with a name: sshcommand greps for it, and finds it or fails silently
        assert_eq!(
            text(&emu.cmd(&["ssh-keys:list", "admin"]).stdout),
            format!("{fp} NAME=\"admin\" SSHCOMMAND_ALLOWED_KEYS=\"{allowed}\"\n")
        );
        let out = emu.cmd(&["ssh-keys:list", "ghost"]);
        assert_eq!(
            (out.status.code(), out.stdout.len(), out.stderr.len()),
            (Some(1), 0, 0)
        );
        assert_eq!(
            emu.ssh("ssh-keys:add admin", &public).status.code(),
            Some(1)
        );
        assert!(emu.cmd(&["ssh-keys:remove", "admin"]).status.success());
    } else {
        eprintln!("ssh-keygen not available: ssh-keys:add not checked");
    }

    let out = emu.cmd(&["plugin:list"]);
    let listing = text(&out.stdout);
    assert!(listing.starts_with("plugn: "), "{listing}");
    assert!(listing
        .lines()
        .any(|l| l.split_whitespace().collect::<Vec<_>>()[..2] == ["postgres", "1.48.0"]));
    let out = emu.ssh("help", b"");
    assert!(out.status.success() && text(&out.stdout).contains("postgres"));
    // over SSH `--version` alone is replaced by echo's version text
    let out = emu.ssh("--version", b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with(" !     `echo (GNU coreutils)"),
        "{out:?}"
    );
    assert_eq!(
        text(&emu.ssh("version", b"").stdout),
        "dokku version 0.38.27\n"
    );
}

/// `plugins/domains`: global domains (`VHOST`) feed the vhosts an app gets
/// when it is created (one per global domain) and on `domains:reset`;
/// `_` is a name Dokku accepts; the `*-global` usage error.
#[test]
fn global_domains_seed_new_apps_and_reset() {
    let emu = Emu::new(Profile::V0_38);
    let ok = |args: &[&str]| {
        let out = emu.cmd(args);
        assert!(out.status.success(), "{args:?}: {out:?}");
        text(&out.stdout)
    };
    assert_eq!(
        ok(&["domains:set-global", "one.me", "two.me"]),
        "-----> Set one.me two.me\n"
    );
    ok(&["apps:create", "api"]);
    assert_eq!(
        ok(&["domains:report", "api", "--domains-app-vhosts"]),
        "api.one.me api.two.me\n"
    );
    // set later, the global list does not change an existing app's list
    ok(&["domains:add-global", "three.me"]);
    assert_eq!(
        ok(&["domains:report", "api", "--domains-app-vhosts"]),
        "api.one.me api.two.me\n"
    );
    ok(&["domains:add", "api", "_"]);
    ok(&["domains:reset", "api"]);
    assert_eq!(
        ok(&["domains:report", "api", "--domains-app-vhosts"]),
        "api.one.me api.two.me api.three.me\n"
    );
    ok(&["domains:remove-global", "one.me"]);
    assert_eq!(
        ok(&["domains:report", "--global", "--domains-global-vhosts"]),
        "two.me three.me\n"
    );
    ok(&["domains:clear", "api"]);
    assert_eq!(ok(&["domains:report", "api", "--domains-app-vhosts"]), "\n");
    ok(&["domains:clear-global"]);
    assert_eq!(
        ok(&["domains:report", "--global", "--domains-global-enabled"]),
        "false\n"
    );
    let out = emu.cmd(&["domains:add-global"]);
    assert_eq!(
        (out.status.code(), text(&out.stderr)),
        (
            Some(1),
            " !     Please specify a domain name. Usage: dokku  <domain> [<domain> ...]\n".into()
        )
    );
    let out = emu.cmd(&["domains:set-global", "bad_name"]);
    assert_eq!(
        text(&out.stderr),
        " !     bad_name is invalid. exiting...\n"
    );
}

/// `<topic>:help` and the bare topic print the plugin's help (`plugin` is
/// help, not `plugin:list`, since 0.30); `dokku help` lists every core
/// plugin of 0.38.27 with its one-line summary.
#[test]
fn topic_help_and_the_command_list() {
    let emu = Emu::new(Profile::V0_38);
    for (topic, desc) in [
        ("domains", "Manage domains used by the proxy"),
        ("ps", "Manage app processes"),
        ("storage", "Manage mounted volumes"),
        ("plugin", "Manage installed plugins"),
        ("ssh-keys", "Manage public ssh keys used for deployment"),
    ] {
        let bare = text(&emu.cmd(&[topic]).stdout);
        let help = text(&emu.cmd(&[&format!("{topic}:help")]).stdout);
        assert_eq!(bare, help, "{topic}");
        assert!(
            help.starts_with(&format!(
                "Usage: dokku {topic}[:COMMAND]\n\n{desc}\n\nAdditional commands:\n"
            )),
            "{help}"
        );
    }
    let logs = text(&emu.cmd(&["logs:help"]).stdout);
    assert!(logs.contains("Manage log integration for an app"), "{logs}");
    let list = text(&emu.cmd(&["help"]).stdout);
    assert!(list.contains("    buildpacks  "), "{list}");
    assert!(list.contains("Manage buildpack settings for an app"));
    assert!(list.contains("    cleanup "));
    assert!(!list.contains("ps:scale"));
    assert!(text(&emu.cmd(&["help", "--all"]).stdout).contains("    ps:scale "));
    let old = Emu::new(Profile::V0_19);
    let out = old.cmd(&["plugin"]);
    assert!(text(&out.stdout).starts_with("plugn: "));
}

/// `ps:set` (`ps.CommandSet` over `common.CommandPropertySet`): app and
/// global properties, the computed value (app, else global, else default),
/// a restart policy checked, a property that cannot be global refused.
#[test]
fn ps_set_properties_raw_global_and_computed() {
    let emu = Emu::new(Profile::V0_38);
    assert!(emu.cmd(&["apps:create", "api"]).status.success());
    let report = |flag: &str| text(&emu.cmd(&["ps:report", "api", flag]).stdout);
    let out = emu.cmd(&["ps:set", "--global", "stop-timeout-seconds", "90"]);
    assert_eq!(
        text(&out.stdout),
        "=====> Setting stop-timeout-seconds to 90\n"
    );
    assert_eq!(report("--ps-computed-stop-timeout-seconds"), "90\n");
    assert!(emu
        .cmd(&["ps:set", "api", "stop-timeout-seconds", "45"])
        .status
        .success());
    assert_eq!(report("--ps-stop-timeout-seconds"), "45\n");
    assert_eq!(report("--ps-global-stop-timeout-seconds"), "90\n");
    assert_eq!(report("--ps-computed-stop-timeout-seconds"), "45\n");
    let out = emu.cmd(&["ps:set", "api", "stop-timeout-seconds"]);
    assert_eq!(text(&out.stdout), "=====> Unsetting stop-timeout-seconds\n");
    assert_eq!(report("--ps-computed-stop-timeout-seconds"), "90\n");
    assert!(emu
        .cmd(&["ps:set", "--global", "procfile-path", ".dokku/Procfile"])
        .status
        .success());
    assert_eq!(report("--ps-computed-procfile-path"), ".dokku/Procfile\n");
    assert_eq!(report("--ps-procfile-path"), "\n");

    assert!(emu
        .cmd(&["ps:set", "api", "restart-policy", "on-failure:20"])
        .status
        .success());
    assert_eq!(report("--ps-computed-restart-policy"), "on-failure:20\n");
    let out = emu.cmd(&["ps:set", "api", "restart-policy", "sometimes"]);
    assert_eq!(
        (out.status.code(), text(&out.stderr)),
        (Some(1), " !     Invalid restart-policy specified\n".into())
    );
    let out = emu.cmd(&["ps:set", "--global", "start-cmd", "x"]);
    assert_eq!(
        text(&out.stderr),
        " !     Property cannot be specified globally\n"
    );
    let out = emu.cmd(&["ps:set", "api", "nope", "x"]);
    assert_eq!(
        text(&out.stderr),
        " !     Invalid property specified, valid properties include: dockerfile-start-cmd, procfile-path, restart-policy, restore, skip-deploy, start-cmd, stop-timeout-seconds\n"
    );
}

/// `git:set` (`plugins/git/subcommands/set`): every key, app or global; an
/// unset `rev-env-var` is written empty (so the report shows no `GIT_REV`).
#[test]
fn git_set_every_key_app_and_global() {
    let emu = Emu::new(Profile::V0_38);
    assert!(emu.cmd(&["apps:create", "api"]).status.success());
    let report = |flag: &str| text(&emu.cmd(&["git:report", "api", flag]).stdout);
    assert_eq!(report("--git-rev-env-var"), "GIT_REV\n");
    let out = emu.cmd(&["git:set", "api", "rev-env-var", "COMMIT_SHA"]);
    assert_eq!(
        text(&out.stdout),
        "=====> Setting rev-env-var to COMMIT_SHA\n"
    );
    assert_eq!(report("--git-rev-env-var"), "COMMIT_SHA\n");
    assert!(emu.cmd(&["git:set", "api", "rev-env-var"]).status.success());
    assert_eq!(report("--git-rev-env-var"), "\n");
    assert!(emu
        .cmd(&["git:set", "api", "source-image", "alpine:3.20"])
        .status
        .success());
    assert_eq!(report("--git-source-image"), "alpine:3.20\n");
    assert!(emu
        .cmd(&["git:set", "--global", "keep-git-dir", "true"])
        .status
        .success());
    assert_eq!(report("--git-computed-keep-git-dir"), "true\n");
    assert!(emu
        .cmd(&["git:set", "api", "keep-git-dir", "false"])
        .status
        .success());
    assert_eq!(report("--git-computed-keep-git-dir"), "false\n");
    assert_eq!(report("--git-global-keep-git-dir"), "true\n");
    assert!(emu
        .cmd(&["git:set", "--global", "archive-max-files", "5"])
        .status
        .success());
    assert_eq!(report("--git-computed-archive-max-files"), "5\n");
    let out = emu.cmd(&["git:set", "api", "nope", "x"]);
    assert_eq!(
        text(&out.stderr),
        " !     Invalid key specified, valid keys include: archive-max-files, archive-max-size, deploy-branch, keep-git-dir, rev-env-var, source-image\n"
    );
    assert_eq!(
        text(&emu.cmd(&["git:set", "api"]).stderr),
        " !     No key specified\n"
    );
}

/// The 0.38 storage plugin (plugins/storage/*.go): named entries, their
/// attachments, legacy colon mounts as `legacy-<sha1>` entries, the
/// per-attachment report keys and the destroy rules.
#[test]
fn storage_entries_attachments_and_reports() {
    let emu = Emu::new(Profile::V0_38);
    assert!(emu.cmd(&["apps:create", "app1"]).status.success());
    let out = emu.cmd(&["storage:create", "data"]);
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (
            Some(0),
            "       Created /var/lib/dokku/data/storage/data\n-----> Storage entry data created\n"
                .into()
        )
    );
    assert!(emu.path().join("data/storage/data").is_dir());
    for (args, err) in [
        (&["storage:create", "legacy-x"][..], "reserved prefix"),
        (&["storage:create", "--chown", "65536", "x"], "Unsupported chown permissions"),
        (&["storage:create", "--mode", "0777", "x", "/tmp/x"], "--mode is only supported when the storage entry uses the default host path"),
        (&["storage:create", "--scheduler", "k3s", "--size", "1Gi", "--mode", "0777", "x"], "(k3s) does not accept --mode"),
        (&["storage:set", "data", "bogus", "v"], "Invalid property specified, valid properties include: access-mode, chown, mode, namespace, reclaim-policy, size, storage-class-name"),
        (&["storage:set", "data", "mode", "0770", "--chown", "heroku"], "either a property and a value or flags, not both"),
        (&["storage:set", "data", "access-mode", "ReadWriteMany"], "cannot change access-mode in place"),
        (&["storage:annotations:set", "data"], "No annotation key specified"),
    ] {
        let out = emu.cmd(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(text(&out.stderr).contains(err), "{args:?}: {}", text(&out.stderr));
    }
    assert!(emu
        .cmd(&["storage:set", "data", "chown", "herokuish"])
        .status
        .success());
    assert!(emu
        .cmd(&[
            "storage:labels:set",
            "data",
            "app.kubernetes.io/part-of",
            "billing"
        ])
        .status
        .success());
    let info = text(
        &emu.cmd(&["storage:info", "data", "--format", "json"])
            .stdout,
    );
    assert_eq!(
        info,
        "{\n  \"name\": \"data\",\n  \"scheduler\": \"docker-local\",\n  \"host_path\": \"/var/lib/dokku/data/storage/data\",\n  \"chown\": \"herokuish\",\n  \"labels\": {\n    \"app.kubernetes.io/part-of\": \"billing\"\n  },\n  \"schema_version\": 1\n}\n"
    );
    let out = emu.cmd(&[
        "storage:labels:report",
        "data",
        "--storage-labels.app.kubernetes.io/part-of",
    ]);
    assert_eq!(text(&out.stdout), "billing\n");

    // a named mount, re-mounted in place, and a legacy colon mount
    let mount = [
        "storage:mount",
        "app1",
        "data",
        "--container-dir",
        "/data",
        "--volume-options",
        "Z",
    ];
    assert_eq!(
        text(&emu.cmd(&mount).stdout),
        "-----> Storage entry data mounted at /data on app1\n"
    );
    let mut again = mount.to_vec();
    again.push("--volume-readonly");
    assert_eq!(
        text(&emu.cmd(&again).stdout),
        "-----> Storage entry data mount at /data on app1 updated\n"
    );
    assert!(emu
        .cmd(&["storage:mount", "app1", "/srv/x:/x"])
        .status
        .success());
    let out = emu.cmd(&["storage:list", "app1", "--format", "json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let legacy = rows.iter().find(|r| r["container_path"] == "/x").unwrap();
    assert!(legacy["entry_name"]
        .as_str()
        .unwrap()
        .starts_with("legacy-"));
    assert!(legacy.get("readonly").is_none() && legacy.get("volume_options").is_none());
    let named = rows
        .iter()
        .find(|r| r["container_path"] == "/data")
        .unwrap();
    assert_eq!(
        (&named["readonly"], &named["volume_options"]),
        (&true.into(), &"Z".into())
    );
    let out = emu.cmd(&["storage:report", "app1", "--storage-deploy-mounts"]);
    assert!(text(&out.stdout).contains("-v /var/lib/dokku/data/storage/data:/data:ro,Z"));
    let out = emu.cmd(&["storage:report", "app1", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["attachment.1.entry-name"], "data");
    assert_eq!(report["storage-attachment.1.phases"], "deploy,run");
    assert_eq!(report["attachment.1.process-type"], "_default_");
    assert_eq!(report["build-mounts"], "");
    let out = emu.cmd(&["storage:report", "app1"]);
    assert!(text(&out.stdout).contains("Storage attachment 1 volume options:"));

    // destroy: refused while mounted, confirmation without --force
    let out = emu.cmd(&["storage:destroy", "data", "--force"]);
    assert!(text(&out.stderr).contains("is still mounted by app(s): app1"));
    assert!(emu
        .cmd(&["storage:unmount", "app1", "data"])
        .status
        .success());
    let out = emu.cmd(&["storage:unmount", "app1", "/srv/x:/y"]);
    assert_eq!(text(&out.stderr), " !     Mount path does not exist.\n");
    let out = emu.ssh("storage:destroy data --destroy-host-dir", b"nope\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("which will be removed along with its contents"));
    let out = emu.ssh("storage:destroy data --destroy-host-dir", b"data\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!emu.path().join("data/storage/data").exists());
    let out = emu.cmd(&["storage:ensure-directory", "--chown", "heroku", "d1"]);
    assert!(text(&out.stderr).contains("Deprecated: please use 'storage:create'"));
    assert!(text(&out.stdout).contains("Setting directory ownership to 1000:1000"));
}

/// logs:set / logs:report (plugins/logs/set.go, report.go): validation before
/// the property store, computed values, sinks redacted to their type in a
/// stdout report unless their own flag is asked for.
#[test]
fn logs_properties_validation_and_redaction() {
    let emu = Emu::new(Profile::V0_38);
    assert!(emu.cmd(&["apps:create", "app1"]).status.success());
    let out = emu.cmd(&[
        "logs:set",
        "app1",
        "vector-sink",
        "datadog_logs://?api_key=abc",
    ]);
    assert_eq!(
        text(&out.stdout),
        "=====> Setting vector-sink to datadog_logs://?api_key=abc\n       Writing updated vector config to /var/lib/dokku/data/logs/vector.json\n"
    );
    for (args, err) in [
        (&["logs:set", "app1", "vector-image", "x"][..], "vector-image may only be set globally with --global"),
        (&["logs:set", "app1", "max-size", "20"], "Invalid max-size unit measure"),
        (&["logs:set", "app1", "bogus"], "Invalid property specified, valid properties include: app-label-alias, max-size, vector-cron-sink, vector-image, vector-networks, vector-sink"),
        (&["logs:set", "--global", "vector-sink", "console://?sinks=x"], "Invalid option sinks"),
    ] {
        let out = emu.cmd(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(text(&out.stderr).contains(err), "{args:?}: {}", text(&out.stderr));
    }
    assert!(emu
        .cmd(&["logs:set", "--global", "max-size", "20m"])
        .status
        .success());
    let get = |flag: &str| text(&emu.cmd(&["logs:report", "app1", flag]).stdout);
    assert_eq!(get("--logs-vector-sink"), "datadog_logs://?api_key=abc\n");
    assert_eq!(
        get("--logs-computed-vector-sink"),
        "datadog_logs://redacted\n"
    );
    assert_eq!(get("--logs-computed-max-size"), "20m\n");
    assert_eq!(
        get("--logs-computed-vector-image"),
        "timberio/vector:0.57.0-debian\n"
    );
    let out = emu.cmd(&["logs:report", "app1", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["computed-vector-sink"], "datadog_logs://?api_key=abc");
    assert_eq!(json["logs-global-max-size"], "20m");
    let out = emu.cmd(&["logs:report", "--global", "--logs-max-size"]);
    assert!(text(&out.stderr)
        .starts_with(" !     Invalid flag passed, valid flags: --logs-computed-app-label-alias,"));
}

/// apps:set and apps:rename (plugins/apps), config:import (plugins/config
/// SubImport), git:auth / git:auth-status (plugins/git), urls, and
/// ssh-keys:list's format check, each as its Dokku source does.
#[test]
fn apps_set_rename_import_auth_and_urls() {
    let emu = Emu::new(Profile::V0_38);
    assert!(emu.cmd(&["apps:create", "app1"]).status.success());
    let out = emu.cmd(&["apps:set", "app1", "disable-autocreation", "true"]);
    assert_eq!(
        text(&out.stderr),
        " !     Property can only be specified globally\n"
    );
    let out = emu.cmd(&["apps:set", "--global", "deploy-source", "git"]);
    assert_eq!(
        text(&out.stderr),
        " !     Property cannot be specified globally\n"
    );
    let out = emu.cmd(&["apps:set", "--global", "disable-autocreation", "true"]);
    assert_eq!(
        text(&out.stdout),
        "=====> Setting disable-autocreation to true\n"
    );
    let out = emu.cmd(&["apps:report", "--global", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["global-disable-autocreation"], "true");

    // rename keeps custom domains and renames those under a global vhost
    assert!(emu
        .cmd(&[
            "domains:set",
            "app1",
            "app1.sandbox.test",
            "app1.other.test"
        ])
        .status
        .success());
    assert!(emu.cmd(&["config:set", "app1", "A=1"]).status.success());
    let out = emu.cmd(&["apps:rename", "app1", "app2"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("-----> Renaming app1 to app2\n"));
    let out = emu.cmd(&["domains:report", "app2", "--domains-app-vhosts"]);
    assert_eq!(text(&out.stdout), "app2.sandbox.test app1.other.test\n");
    assert_eq!(text(&emu.cmd(&["config:get", "app2", "A"]).stdout), "1\n");
    assert_eq!(emu.cmd(&["apps:exists", "app1"]).status.code(), Some(20));
    assert_eq!(
        text(&emu.cmd(&["urls", "app2"]).stdout),
        "http://app1.other.test\nhttp://app2.sandbox.test\n"
    );
    assert_eq!(
        text(&emu.cmd(&["url", "app2"]).stdout),
        "http://app2.sandbox.test\n"
    );

    let out = emu.ssh("config:import app2 -", b"export B='two'\n# note\nC=3\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with(
        "-----> Reading config vars from stdin\n-----> Setting config var B=two\n-----> Setting config var C=3\n-----> Setting config vars\n"
    ));
    let out = emu.ssh("config:import --replace app2 -", b"D=4\n");
    assert!(out.status.success());
    assert_eq!(text(&emu.cmd(&["config:keys", "app2"]).stdout), "D\n");

    assert_eq!(emu.cmd(&["git:auth-status"]).status.code(), Some(1));
    assert_eq!(
        emu.cmd(&["git:auth-status", "h.test"]).status.code(),
        Some(0)
    );
    assert!(emu.cmd(&["git:auth", "h.test", "u", "p"]).status.success());
    assert_eq!(
        emu.cmd(&["git:auth-status", "h.test"]).status.code(),
        Some(1)
    );
    assert_eq!(
        emu.cmd(&["git:auth-status", "h.test", "u", "p"])
            .status
            .code(),
        Some(0)
    );
    let out = emu.cmd(&["git:auth-status", "h.test", "u"]);
    assert_eq!(
        text(&out.stderr),
        " !     Missing password for netrc auth entry\n"
    );
    assert_eq!(
        emu.ssh("git:auth-status h.test u", b"p").status.code(),
        Some(0)
    );
    assert_eq!(
        emu.ssh("git:auth-status h.test u", b"x").status.code(),
        Some(1)
    );

    let out = emu.cmd(&["ssh-keys:list", "--format", "yaml"]);
    assert_eq!(
        text(&out.stderr),
        " !     Invalid output format specified, supported formats: json, text\n"
    );
}

/// git_build (plugins/git/functions): the pushed rev goes into the config
/// var `git:set rev-env-var` names; never set, GIT_REV; set empty, none.
#[test]
fn git_rev_env_var_names_the_deployed_rev() {
    let emu = Emu::new(Profile::V0_38);
    let work = Work::new("true");
    for (app, var) in [("alt", Some("GIT_REV_ALT")), ("off", None)] {
        assert!(emu.cmd(&["apps:create", app]).status.success());
        let mut args = vec!["git:set", app, "rev-env-var"];
        args.extend(var);
        assert!(emu.cmd(&args).status.success());
        let out = work.push(&emu, app, "main:master");
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let sha = text(&work.git(&["rev-parse", "HEAD"]).stdout);
    assert_eq!(
        text(&emu.cmd(&["config:get", "alt", "GIT_REV_ALT"]).stdout),
        sha
    );
    assert_eq!(
        emu.cmd(&["config:get", "alt", "GIT_REV"]).status.code(),
        Some(1)
    );
    assert_eq!(emu.cmd(&["config:keys", "off"]).stdout.len(), 0);
    for app in ["alt", "off"] {
        emu.cmd(&["ps:stop", app]);
    }
}

/// Dokku's containers see the deployed tree at `/app` (herokuish's
/// `procfile-exec`: `cd "$app_path"`, `HOME` set to it): the app.json
/// predeploy task writes there and the file is in what is deployed, and
/// `run` starts in `/app`. Skipped where the kernel refuses the mount
/// namespace the emulator uses for it.
#[test]
fn tasks_and_run_see_the_tree_at_app() {
    let scratch = tempfile::tempdir().unwrap();
    if !pix_sandbox::emulator::container::app_view_available(Path::new(emulator()), scratch.path())
    {
        eprintln!("skipped: no private mount namespace here (user namespaces refused)");
        return;
    }
    let emu = Emu::new(Profile::V0_38);
    let work = Work::new("touch /app/predeploy.test && test \"$PWD\" = /app");
    let out = work.push(&emu, "viewed", "main:master");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(emu.path().join("apps/viewed/tree/predeploy.test").is_file());
    let out = emu.cmd(&["run", "viewed", "ls", "/app/predeploy.test"]);
    assert_eq!(text(&out.stdout), "/app/predeploy.test\n", "{out:?}");
    let out = emu.cmd(&["run", "viewed", "pwd"]);
    assert_eq!(text(&out.stdout), "/app\n", "{out:?}");
    let out = emu.cmd(&["run", "viewed", "printenv", "HOME"]);
    assert_eq!(text(&out.stdout), "/app\n", "{out:?}");
    let out = emu.cmd(&["run", "viewed", "ls", "/app/missing"]);
    assert!(!out.status.success());
    let out = emu.cmd(&["--force", "apps:destroy", "viewed"]);
    assert!(out.status.success(), "{out:?}");
}

/// `repo:gc` (plugins/repo `RepoGc`): `git gc --aggressive` in the app's
/// repository with its loose heads written back, so a deploy branch is still
/// a file under `refs/heads` afterwards; an app that does not exist is
/// `VerifyAppName`'s error.
#[test]
fn repo_gc_keeps_the_heads() {
    let emu = Emu::new(Profile::V0_38);
    let work = Work::new("true");
    assert!(work.push(&emu, "gcd", "main:master").status.success());
    let head = emu.path().join("apps/gcd/repo/refs/heads/master");
    let before = std::fs::read_to_string(&head).unwrap();
    let out = emu.cmd(&["repo:gc", "gcd"]);
    assert!(out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert_eq!(std::fs::read_to_string(&head).unwrap(), before);
    assert!(emu.path().join("apps/gcd/repo/packed-refs").is_file());
    let out = emu.cmd(&["repo:gc", "nope"]);
    assert!(!out.status.success());
    assert_eq!(text(&out.stderr), " !     App nope does not exist\n");
    let out = emu.cmd(&["--force", "apps:destroy", "gcd"]);
    assert!(out.status.success(), "{out:?}");
}

/// `ps:rebuild` is the `receive-app` trigger without a rev (plugins/ps
/// `Rebuild`, plugins/git `git_build`): it builds the commit stored at the
/// computed deploy branch, and a branch with no commits is a warning and
/// exit 1. A created app that was never pushed has no commits either.
#[test]
fn rebuild_builds_the_deploy_branch() {
    let emu = Emu::new(Profile::V0_38);
    let out = emu.cmd(&["git:set", "rb", "deploy-branch", "custom-branch"]);
    assert!(!out.status.success(), "no app yet: {out:?}");
    assert!(emu.cmd(&["apps:create", "rb"]).status.success());
    let out = emu.cmd(&["ps:rebuild", "rb"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "\x1b[1G\x1b[K-----> WARNING: Cannot build from 'master' as there are no commits stored at that branch.\n"
    );
    assert!(emu
        .cmd(&["git:set", "rb", "deploy-branch", "custom-branch"])
        .status
        .success());
    let work = Work::new("true");
    assert!(work.push(&emu, "rb", "main:custom-branch").status.success());
    let out = emu.cmd(&["ps:rebuild", "rb"]);
    assert!(out.status.success(), "{out:?}");
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("-----> Cleaning up...\n-----> Building rb from Procfile...\n"),
        "{stdout}"
    );
    assert!(stdout.contains("=====> Application deployed:"), "{stdout}");
    assert!(emu
        .cmd(&["git:set", "rb", "deploy-branch", "non-existing-branch"])
        .status
        .success());
    let out = emu.cmd(&["ps:rebuild", "rb"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "\x1b[1G\x1b[K-----> WARNING: Cannot build from 'non-existing-branch' as there are no commits stored at that branch.\n"
    );
    assert!(emu.cmd(&["--force", "apps:destroy", "rb"]).status.success());
}

/// ps's `core-post-extract` and `updateScale` at a build: `procfile-path`
/// names the Procfile the build uses, and process types scaled to zero that
/// the new Procfile lacks leave the formation (those scaled up stay).
#[test]
fn procfile_path_and_zeroed_types_at_a_build() {
    let emu = Emu::new(Profile::V0_38);
    let work = Work::new("true");
    std::fs::write(work.dir.path().join("second.Procfile"), "web: sleep 30\n").unwrap();
    work.commit("second");
    assert!(work.push(&emu, "pp", "main:master").status.success());
    let out = emu.cmd(&["builder-herokuish:set", "pp", "allowed", "true"]);
    assert_eq!(text(&out.stdout), "=====> Setting allowed to true\n");
    let out = emu.cmd(&["builder-herokuish:set", "pp", "nope", "true"]);
    assert_eq!(
        text(&out.stderr),
        " !     Invalid key specified, valid keys include: allowed\n"
    );
    assert!(emu.cmd(&["ps:scale", "pp", "hello=0"]).status.success());
    let out = emu.cmd(&["--quiet", "ps:scale", "pp"]);
    assert_eq!(text(&out.stdout), "hello: 0\nweb:  1\n");
    let out = emu.cmd(&["ps:set", "pp", "procfile-path", "second.Procfile"]);
    assert!(out.status.success(), "{out:?}");
    let out = emu.cmd(&["ps:rebuild", "pp"]);
    assert!(out.status.success(), "{out:?}");
    let out = emu.cmd(&["--quiet", "ps:scale", "pp"]);
    assert_eq!(text(&out.stdout), "web:  1\n");
    assert_eq!(
        std::fs::read_to_string(emu.path().join("apps/pp/tree/Procfile")).unwrap(),
        "web: sleep 30\n"
    );
    assert!(emu.cmd(&["--force", "apps:destroy", "pp"]).status.success());
}

/// `apps:clone` (plugins/apps `CommandClone` and the modelled plugins'
/// post-app-clone-setup): the new app gets the config, the repository and
/// the properties, its own default domain, and is rebuilt from the deploy
/// branch unless `--skip-deploy`; an existing name is refused, or a warning
/// with `--ignore-existing`.
#[test]
fn apps_clone_copies_and_rebuilds() {
    let emu = Emu::new(Profile::V0_38);
    let work = Work::new("true");
    assert!(work.push(&emu, "orig", "main:master").status.success());
    assert!(emu
        .cmd(&["config:set", "--no-restart", "orig", "GREETING=cloned"])
        .status
        .success());
    let out = emu.cmd(&["apps:clone", "orig", "copy"]);
    assert!(out.status.success(), "{out:?}");
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with(
            "-----> Cloning orig to copy\n-----> Creating copy...\n-----> Creating new app virtual host file...\n-----> Cleaning up...\n-----> Building copy from Procfile...\n"
        ),
        "{stdout}"
    );
    let out = emu.cmd(&["config:get", "copy", "GREETING"]);
    assert_eq!(text(&out.stdout), "cloned\n");
    let out = emu.cmd(&["ps:report", "copy", "--deployed"]);
    assert_eq!(text(&out.stdout), "true\n");
    let out = emu.cmd(&["domains:report", "copy", "--domains-app-vhosts"]);
    assert_eq!(text(&out.stdout), "copy.sandbox.test\n");
    let out = emu.cmd(&["apps:clone", "orig", "copy"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), " !     Name is already taken\n");
    let out = emu.cmd(&["apps:clone", "--ignore-existing", "orig", "copy"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(text(&out.stderr), " !     Name is already taken\n");
    let out = emu.cmd(&["apps:clone", "--skip-deploy", "orig", "quiet"]);
    assert!(out.status.success(), "{out:?}");
    let out = emu.cmd(&["ps:report", "quiet", "--deployed"]);
    assert_eq!(text(&out.stdout), "false\n");
    for app in ["orig", "copy", "quiet"] {
        assert!(emu.cmd(&["--force", "apps:destroy", app]).status.success());
    }
}

/// `events:on|off|list` and `events` (plugins/20_events): the logger's
/// switch, the hooks it logs, and the log of the trigger calls the emulator
/// makes as Dokku does (`post-create` of `createApp` here), in rsyslog's
/// traditional format with `dokku_log_plugn_trigger_call`'s message.
#[test]
fn events_log_trigger_calls_while_on() {
    let emu = Emu::new(Profile::V0_38);
    let out = emu.cmd(&["events:list"]);
    assert_eq!(text(&out.stderr), " !     Events logger disabled\n");
    assert!(emu.cmd(&["apps:create", "before"]).status.success());
    let out = emu.cmd(&["events"]);
    assert!(out.status.success() && out.stdout.is_empty(), "{out:?}");
    let out = emu.cmd(&["events:on"]);
    assert_eq!(text(&out.stdout), "Enabling dokku events logger\n");
    let out = emu.cmd(&["events:list"]);
    let listed = text(&out.stdout);
    let mut lines = listed.lines();
    assert_eq!(
        lines.next().map(str::trim_end),
        Some("=====> Events currently logged")
    );
    assert_eq!(lines.next().map(str::trim_end), Some("app-create"));
    assert_eq!(listed.lines().count(), 161);
    let out = Command::new(emulator())
        .arg("--root")
        .arg(emu.path())
        .args(["apps:create", "logged"])
        .env("NAME", "admin")
        .env("FINGERPRINT", "SHA256:abc")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let out = emu.cmd(&["events"]);
    let log = text(&out.stdout);
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(
        log.contains(" dokku-event[")
            && log.contains(
                "]: INVOKED: post-create( logged ) NAME=admin FINGERPRINT=SHA256:abc DOKKU_PID="
            ),
        "{log}"
    );
    let out = emu.cmd(&["events:off"]);
    assert_eq!(text(&out.stdout), "Disabling dokku events logger\n");
    assert!(emu.cmd(&["apps:create", "after"]).status.success());
    assert_eq!(text(&emu.cmd(&["events"]).stdout), log);
}

/// `docker-options` as state (plugins/docker-options): an option string is
/// split into shell words without expansion, grouped on flags and stored
/// re-quoted, per phase and process scope; the report and list read it back.
#[test]
fn docker_options_are_stored_verbatim() {
    let emu = Emu::new(Profile::V0_38);
    assert!(emu.cmd(&["apps:create", "dopt"]).status.success());
    let out = emu.cmd(&["docker-options:add", "dopt", "run", "--label=x=$(id)"]);
    assert!(out.status.success(), "{out:?}");
    let out = emu.cmd(&["docker-options:report", "dopt", "--docker-options-run"]);
    assert_eq!(text(&out.stdout), "'--label=x=$(id)'\n");
    let out = emu.cmd(&[
        "docker-options:add",
        "dopt",
        "build,deploy",
        "--build-arg",
        "X=Y",
        "--link",
        "a",
    ]);
    assert!(out.status.success(), "{out:?}");
    let out = emu.cmd(&["docker-options:list", "dopt", "--phase", "deploy"]);
    assert_eq!(text(&out.stdout), "--build-arg X=Y\n--link a\n");
    let out = emu.cmd(&[
        "docker-options:add",
        "--process",
        "web",
        "dopt",
        "run",
        "-m",
        "5m",
    ]);
    assert_eq!(
        text(&out.stderr),
        " !     --process is only supported for the deploy phase, got \"run\"\n"
    );
    let out = emu.cmd(&["docker-options:remove", "dopt", "deploy", "--link a"]);
    assert!(out.status.success(), "{out:?}");
    let out = emu.cmd(&["--quiet", "docker-options:report", "dopt"]);
    assert_eq!(
        text(&out.stdout),
        "       Docker options build:          --build-arg X=Y --link a\n       Docker options deploy:         --build-arg X=Y\n       Docker options run:            '--label=x=$(id)'\n"
    );
    let out = emu.cmd(&["docker-options:clear", "dopt"]);
    assert_eq!(
        text(&out.stdout),
        "-----> Clearing docker-options for dopt on all phases\n"
    );
    let out = emu.cmd(&["docker-options:report", "dopt", "--format", "json"]);
    assert_eq!(
        text(&out.stdout),
        "{\"build\":\"\",\"build-list\":[],\"deploy\":\"\",\"deploy-list\":[],\"docker-options-build\":\"\",\"docker-options-deploy\":\"\",\"docker-options-run\":\"\",\"run\":\"\",\"run-list\":[]}\n"
    );
}
