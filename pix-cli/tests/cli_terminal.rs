//! `pix` on a real terminal, driven through tmux: `run` and `db connect` are
//! interactive (a prompt appears, input reaches the remote, the exit code
//! comes back), confirmations are typed, colour is on unless `NO_COLOR`;
//! on the native transport too (its own `pty-req`, raw mode restored,
//! window changes forwarded).

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::World;
use pix_sandbox::scenario;

const APP: &str = "api-development";
const DB: &str = "pg-development";

/// A private tmux server (its own socket), killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn new() -> Tmux {
        // One server per test: tests of this file run in parallel and each
        // kills its server when done.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let socket = format!("pix-cli-test-{}-{n}", std::process::id());
        Tmux { socket }
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux is installed");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Starts `command` (a shell line) in a new session; the shell then
    /// prints `EXIT=<code>` and stays so the pane can be read.
    fn start(&self, session: &str, cwd: &Path, command: &str) {
        let line = format!("{command}; echo EXIT=$?; sleep 600");
        self.tmux(&[
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            "160",
            "-y",
            "50",
            "-c",
            cwd.to_str().unwrap(),
            &line,
        ]);
    }

    fn capture(&self, session: &str, escapes: bool) -> String {
        let mut args = vec!["capture-pane", "-p", "-J", "-t", session, "-S", "-200"];
        if escapes {
            args.push("-e");
        }
        self.tmux(&args)
    }

    fn wait_for(&self, session: &str, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let pane = self.capture(session, false);
            if pane.contains(needle) {
                return pane;
            }
            assert!(
                Instant::now() < deadline,
                "{needle:?} never appeared:\n{pane}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn type_line(&self, session: &str, text: &str) {
        self.tmux(&["send-keys", "-t", session, "-l", text]);
        self.tmux(&["send-keys", "-t", session, "Enter"]);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}

fn pix_line(w: &World, args: &str) -> String {
    format!(
        "{} --config {} {args}",
        common::pix_bin().display(),
        w.toml.display()
    )
}

#[test]
fn interactive_run_connect_confirm_and_colour() {
    let w = World::start();
    scenario::deploy_sample_app(&w.sb, w.dir.path(), APP, DB, 3).expect("deploy");
    let t = Tmux::new();
    let cwd = w.dir.path();

    // pix run APP -- sh: a shell prompt, input reaches it, its exit code is pix's
    t.start("run", cwd, &pix_line(&w, &format!("run {APP} -- sh")));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let pane = t.capture("run", false);
        if pane
            .lines()
            .any(|l| l.trim_end().ends_with('$') || l.trim_end().ends_with('#'))
        {
            break;
        }
        assert!(Instant::now() < deadline, "no shell prompt:\n{pane}");
        std::thread::sleep(Duration::from_millis(100));
    }
    t.type_line("run", "echo hello-$((6*7)) $DATABASE_URL | cut -c1-20");
    t.wait_for("run", "hello-42 postgres://");
    t.type_line("run", "exit 7");
    t.wait_for("run", "EXIT=7");

    // pix db connect: psql's prompt, a query, \q and psql's exit code
    t.start("psql", cwd, &pix_line(&w, &format!("db connect {DB}")));
    t.wait_for("psql", "=>");
    t.type_line("psql", "select 6*7 as answer \\g");
    let pane = t.wait_for("psql", "(1 row)");
    assert!(pane.contains("42"), "{pane}");
    // Ctrl-C during a long query reaches psql: the query is cancelled and
    // the session goes on.
    t.type_line("psql", "select pg_sleep(60) \\g");
    std::thread::sleep(Duration::from_millis(700));
    t.tmux(&["send-keys", "-t", "psql", "C-c"]);
    t.wait_for("psql", "canceling statement due to user request");
    t.type_line("psql", "select 'still' || 'here' as session \\g");
    t.wait_for("psql", "stillhere");
    t.type_line("psql", "\\q");
    let pane = t.wait_for("psql", "EXIT=0");
    assert!(!pane.contains("Shared connection to"), "{pane}");

    // ps rebuild on a terminal shows the build as it runs, then its result
    t.start("rebuild", cwd, &pix_line(&w, &format!("ps rebuild {APP}")));
    let pane = t.wait_for("rebuild", "EXIT=0");
    assert!(
        pane.contains("Checking for predeploy task") && pane.contains("rebuilt"),
        "{pane}"
    );

    // a destruction confirmed by typing the name at the prompt
    scenario::dokku(&w.sb, &["apps:create", "doomed"]).unwrap();
    t.start("destroy", cwd, &pix_line(&w, "apps destroy doomed"));
    t.wait_for("destroy", "Type its name (doomed) to confirm:");
    t.type_line("destroy", "doomed");
    t.wait_for("destroy", "EXIT=0");
    assert!(scenario::dokku(&w.sb, &["apps:exists", "doomed"]).is_err());
    // a wrong answer is refused with the "refused" code
    scenario::dokku(&w.sb, &["apps:create", "kept"]).unwrap();
    t.start("keep", cwd, &pix_line(&w, "apps destroy kept"));
    t.wait_for("keep", "to confirm:");
    t.type_line("keep", "yes");
    t.wait_for("keep", "EXIT=4");
    assert!(scenario::dokku(&w.sb, &["apps:exists", "kept"]).is_ok());

    // a backup at a terminal: progress, then the verified file
    t.start("backup", cwd, &pix_line(&w, "db backup development"));
    let pane = t.wait_for("backup", "EXIT=");
    assert!(
        pane.contains("EXIT=0") && pane.contains("✓ backup of pg-development"),
        "{pane}"
    );

    // the reset at a terminal: asked y/N, then each step as it goes
    t.start("reset", cwd, &pix_line(&w, "db reset development"));
    t.wait_for("reset", "Continue? [y/N]");
    t.type_line("reset", "y");
    let pane = t.wait_for("reset", "EXIT=");
    assert!(
        pane.contains("EXIT=0") && pane.contains("✓ unlock") && pane.contains("completed"),
        "{pane}"
    );
    // a protected environment wants the database's name; another is refused
    scenario::dokku(&w.sb, &["apps:create", "api-prod"]).unwrap();
    scenario::dokku(&w.sb, &["postgres:create", "pg-prod"]).unwrap();
    scenario::dokku(&w.sb, &["postgres:link", "pg-prod", "api-prod"]).unwrap();
    t.start("prod", cwd, &pix_line(&w, "db reset production"));
    t.wait_for("prod", "Type pg-prod to confirm:");
    t.type_line("prod", "pg-development");
    t.wait_for("prod", "EXIT=4");
    // Ctrl-C at the prompt stops at once
    t.start("intr", cwd, &pix_line(&w, "db reset production"));
    t.wait_for("intr", "to confirm:");
    t.tmux(&["send-keys", "-t", "intr", "C-c"]);
    let pane = t.wait_for("intr", "EXIT=");
    assert!(
        pane.contains("EXIT=130") && pane.contains("interrupted"),
        "{pane}"
    );
    assert!(scenario::dokku(&w.sb, &["postgres:exists", "pg-prod"]).is_ok());

    // colour on a terminal; none with NO_COLOR
    t.start("color", cwd, &pix_line(&w, "apps list"));
    t.wait_for("color", "EXIT=0");
    let pane = t.capture("color", true);
    assert!(pane.contains("\x1b[1mAPP"), "{pane:?}");
    t.start(
        "nocolor",
        cwd,
        &format!("NO_COLOR=1 {}", pix_line(&w, "apps list")),
    );
    t.wait_for("nocolor", "EXIT=0");
    let pane = t.capture("nocolor", true);
    let table: String = pane
        .lines()
        .take_while(|l| !l.starts_with("EXIT="))
        .collect();
    assert!(table.contains("APP") && !table.contains('\x1b'), "{pane:?}");
}

/// Waits for a shell prompt (a line ending in `$` or `#`) in `session`.
fn wait_for_prompt(t: &Tmux, session: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let pane = t.capture(session, false);
        if pane
            .lines()
            .any(|l| l.trim_end().ends_with('$') || l.trim_end().ends_with('#'))
        {
            return;
        }
        assert!(Instant::now() < deadline, "no shell prompt:\n{pane}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The native transport's own terminal: the remote gets a pty of the local
/// window's size and follows a resize (SIGWINCH → `window-change`), input and
/// output go through, the exit code comes back, and the local terminal is
/// back in cooked mode (canonical, echoing) once pix has exited.
#[test]
fn interactive_sessions_on_the_native_transport() {
    let w = World::start();
    scenario::deploy_sample_app(&w.sb, w.dir.path(), APP, DB, 3).expect("deploy");
    let t = Tmux::new();
    let cwd = w.dir.path();
    let after = "stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '; echo LOCAL-END";

    t.start(
        "run",
        cwd,
        &format!(
            "{}; echo EXIT=$?; {after}",
            pix_line(&w, &format!("--ssh native run {APP} -- sh"))
        ),
    );
    wait_for_prompt(&t, "run");
    // `tty` names the remote pty; `stty size` is the local window's (160x50)
    // (the markers are computed remotely, so the echoed input never matches)
    t.type_line("run", "echo TTY-$((1+1))=$(tty) SIZE-$((2+2))=$(stty size)");
    let pane = t.wait_for("run", "SIZE-4=");
    assert!(pane.contains("TTY-2=/dev/pts/"), "{pane}");
    assert!(pane.contains("SIZE-4=50 160"), "{pane}");
    t.tmux(&["resize-window", "-t", "run", "-x", "100", "-y", "30"]);
    std::thread::sleep(Duration::from_millis(500));
    t.type_line("run", "echo RESIZED-$((3+3))=$(stty size)");
    let pane = t.wait_for("run", "RESIZED-6=");
    assert!(pane.contains("RESIZED-6=30 100"), "{pane}");
    // Bytes the remote writes come through as written (an escape sequence
    // for bold, read back by the pane with -e), and what is typed arrives.
    t.type_line(
        "run",
        "printf 'A\\033[1mBOLD\\033[0m\\n'; echo hello-$((6*7))",
    );
    t.wait_for("run", "hello-42");
    assert!(
        t.capture("run", true).contains("\x1b[1mBOLD"),
        "no escape kept"
    );
    t.type_line("run", "exit 7");
    let pane = t.wait_for("run", "LOCAL-END");
    assert!(pane.contains("EXIT=7"), "{pane}");
    assert!(
        pane.contains("icanon echo") && !pane.contains("-icanon") && !pane.contains("-echo "),
        "the local terminal was not restored:\n{pane}"
    );

    // psql through postgres:connect: a query, Ctrl-C cancels a long one
    // (the byte reaches the remote pty, whose line discipline signals psql),
    // \\q ends it with psql's exit code.
    t.start(
        "psql",
        cwd,
        &format!(
            "{}; echo EXIT=$?; {after}",
            pix_line(&w, &format!("--ssh native db connect {DB}"))
        ),
    );
    t.wait_for("psql", "=>");
    t.type_line("psql", "select 6*7 as answer \\g");
    let pane = t.wait_for("psql", "(1 row)");
    assert!(pane.contains("42"), "{pane}");
    t.type_line("psql", "select pg_sleep(60) \\g");
    std::thread::sleep(Duration::from_millis(700));
    t.tmux(&["send-keys", "-t", "psql", "C-c"]);
    t.wait_for("psql", "canceling statement due to user request");
    t.type_line("psql", "\\q");
    let pane = t.wait_for("psql", "LOCAL-END");
    assert!(pane.contains("EXIT=0"), "{pane}");
    assert!(pane.contains("icanon echo"), "{pane}");

    // A SIGINT from elsewhere (Ctrl-C itself is a byte for the remote in raw
    // mode) ends the session as SIGTERM does: pix says so, exits, and the
    // local terminal is back in cooked mode, not left raw.
    t.start(
        "int",
        cwd,
        &format!(
            "{}; echo EXIT=$?; {after}",
            pix_line(&w, &format!("--ssh native run {APP} -- sh -i"))
        ),
    );
    wait_for_prompt(&t, "int");
    t.type_line("int", "echo waiting-$((2+3))");
    t.wait_for("int", "waiting-5");
    let pattern = format!(
        "^{} .*--ssh native run {APP} -- sh -i",
        common::pix_bin().display()
    );
    let sent = Command::new("pkill")
        .args(["-INT", "-f", &pattern])
        .status()
        .unwrap();
    assert!(sent.success(), "no pix to send SIGINT to");
    let pane = t.wait_for("int", "LOCAL-END");
    assert!(
        pane.contains("pix received SIGINT; the session was closed") && pane.contains("EXIT=130"),
        "{pane}"
    );
    assert!(
        pane.contains("icanon echo") && !pane.contains("-icanon") && !pane.contains("-echo "),
        "the local terminal was left raw after SIGINT:\n{pane}"
    );

    // A hang-up of the local terminal (tmux kills the session: SIGHUP) ends
    // the session, and pix exits.
    t.start(
        "hup",
        cwd,
        &pix_line(&w, &format!("--ssh native run {APP} -- sh")),
    );
    wait_for_prompt(&t, "hup");
    t.type_line("hup", "echo started-$((1+1))");
    t.wait_for("hup", "started-2");
    t.tmux(&["kill-session", "-t", "hup"]);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        // pix itself (its argv starts with the binary), not the shells of
        // the earlier sessions, whose command lines name it too.
        let pattern = format!("^{} .*--ssh native run", common::pix_bin().display());
        let left = Command::new("pgrep")
            .args(["-f", &pattern])
            .output()
            .unwrap();
        if left.stdout.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "pix still runs after SIGHUP: {}",
            String::from_utf8_lossy(&left.stdout)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn deploy_and_trust_host_confirmed_at_a_terminal() {
    let w = World::start();
    let text = std::fs::read_to_string(&w.toml).unwrap().replace(
        "protected = true\n",
        "protected = true\ndeploy_dir = \"api\"\n",
    );
    std::fs::write(&w.toml, text).unwrap();
    scenario::dokku(&w.sb, &["apps:create", "api-prod"]).unwrap();
    scenario::dokku(&w.sb, &["postgres:create", "pg-prod"]).unwrap();
    scenario::dokku(&w.sb, &["postgres:link", "pg-prod", "api-prod"]).unwrap();
    let repo = common::monorepo(w.dir.path());
    let t = Tmux::new();

    // Ctrl-C at the confirmation: nothing was pushed, and it says so
    t.start("intr", &repo, &pix_line(&w, "deploy prod"));
    t.wait_for("intr", "to confirm:");
    t.tmux(&["send-keys", "-t", "intr", "C-c"]);
    let pane = t.wait_for("intr", "EXIT=");
    assert!(
        pane.contains("EXIT=130") && pane.contains("interrupted before anything was pushed"),
        "{pane}"
    );
    // a protected deploy wants the database's name typed; a wrong one is refused
    t.start("wrong", &repo, &pix_line(&w, "deploy prod"));
    t.wait_for("wrong", "Type pg-prod to confirm:");
    t.type_line("wrong", "api-prod");
    t.wait_for("wrong", "EXIT=4");
    t.start("prod", &repo, &pix_line(&w, "deploy production"));
    t.wait_for("prod", "Type pg-prod to confirm:");
    t.type_line("prod", "pg-prod");
    let pane = t.wait_for("prod", "EXIT=");
    assert!(
        pane.contains("EXIT=0") && pane.contains("✓ deployed"),
        "{pane}"
    );

    // trust-host: the fingerprint shown, asked y/N; `n` writes nothing
    let kh = w.dir.path().join("known_hosts");
    std::fs::write(&kh, "").unwrap();
    let line = pix_line(
        &w,
        &format!(
            "--known-hosts {} ssh trust-host 127.0.0.1:{}",
            kh.display(),
            w.sb.port()
        ),
    );
    t.start("no", w.dir.path(), &line);
    let pane = t.wait_for("no", "[y/N]");
    assert!(pane.contains("SHA256:"), "{pane}");
    t.type_line("no", "n");
    t.wait_for("no", "EXIT=4");
    assert_eq!(std::fs::read_to_string(&kh).unwrap(), "");
    t.start("yes", w.dir.path(), &line);
    t.wait_for("yes", "[y/N]");
    t.type_line("yes", "y");
    t.wait_for("yes", "EXIT=0");
    let trusted = pix_ops::trust::known_keys(&kh, "127.0.0.1", w.sb.port()).unwrap();
    let pinned =
        pix_ops::trust::known_keys(&w.sb.known_hosts_path(), "127.0.0.1", w.sb.port()).unwrap();
    assert_eq!(trusted, pinned);
}
