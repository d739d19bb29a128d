//! The end-to-end suite's view of a Dokku host: the sandbox or a real
//! server, reached the same way ([`TestTarget`]: host, port, user, key,
//! known_hosts) and offering only what a real host offers: Dokku over SSH,
//! git over SSH, and the database through `postgres:connect` and
//! `postgres:export`. Nothing here reads the emulator's files, so a test
//! written against [`Host`] runs on either.
//!
//! **Scratch names.** Everything the suite creates is named
//! `pix-e2e-<run id>-<test>-...`, where the run id is
//! `<unix seconds at start>-<4 hex digits>` ([`RunId`]): the creation time
//! is in the name, so a later run can tell a leftover of a dead run (older
//! than [`MAX_AGE`]) from the work of a run still going. A [`Scratch`]
//! removes its test's apps and services on drop, also when the test panics;
//! [`sweep`] removes what a run killed outright left.
//!
//! ```no_run
//! use pix_sandbox::e2e::{Host, Scratch};
//! let Some(host) = Host::from_env_or_skip() else { return };
//! let scratch = Scratch::new(&host, "doc");
//! let app = scratch.name("app");
//! host.dokku(&["apps:create", &app]).unwrap();
//! // dropped: the app is destroyed
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::sandbox::pix_toml::toml_string;
use crate::target::{self, TestTarget};

/// The prefix of every app and service the suite creates.
pub const PREFIX: &str = "pix-e2e-";
/// The variable naming the run id (set by `cargo xtask e2e`; a test process
/// without it makes its own).
pub const RUN_ID_ENV: &str = "PIX_E2E_RUN_ID";
/// Leftovers older than this (seconds) belong to a dead run and are swept.
pub const MAX_AGE: u64 = 24 * 60 * 60;

/// The seconds since the epoch, now.
pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// One run of the suite: its start time and a random nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunId {
    /// Unix seconds when the run started.
    pub created: u64,
    /// 4 lowercase hex digits.
    pub nonce: String,
}

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.created, self.nonce)
    }
}

impl RunId {
    /// A new run id, started now.
    pub fn new() -> RunId {
        RunId::at(now_unix())
    }

    /// A new run id started at `created` (a random nonce).
    pub fn at(created: u64) -> RunId {
        let nonce = crate::sandbox::random_hex(2)
            .unwrap_or_else(|_| format!("{:04x}", std::process::id() & 0xffff));
        RunId { created, nonce }
    }

    /// Parses `<10 digits>-<4 hex digits>` (what [`RunId`] displays as).
    pub fn parse(text: &str) -> Option<RunId> {
        let (secs, nonce) = text.split_once('-')?;
        let digits = secs.len() == 10 && secs.bytes().all(|b| b.is_ascii_digit());
        let hex = nonce.len() == 4
            && nonce
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        (digits && hex).then(|| RunId {
            created: secs.parse().unwrap_or(0),
            nonce: nonce.to_string(),
        })
    }

    /// The run of a scratch name (`pix-e2e-<run id>-...`), if it is one.
    pub fn of_name(name: &str) -> Option<RunId> {
        let rest = name.strip_prefix(PREFIX)?;
        // <10 digits>-<4 hex>-...
        let id = rest.get(..15)?;
        if rest.as_bytes().get(15) != Some(&b'-') {
            return None;
        }
        RunId::parse(id)
    }

    /// The run of this process: `PIX_E2E_RUN_ID` when set (and valid), else
    /// one made at the first call.
    pub fn current() -> &'static RunId {
        static CURRENT: OnceLock<RunId> = OnceLock::new();
        CURRENT.get_or_init(|| match std::env::var(RUN_ID_ENV) {
            Ok(text) if !text.is_empty() => RunId::parse(&text).unwrap_or_else(|| {
                panic!("{RUN_ID_ENV}={text:?} is not a run id (<unix seconds>-<4 hex digits>)")
            }),
            _ => RunId::new(),
        })
    }

    /// `pix-e2e-<run id>-`: the start of every name of this run.
    pub fn prefix(&self) -> String {
        format!("{PREFIX}{self}-")
    }
}

impl Default for RunId {
    fn default() -> Self {
        RunId::new()
    }
}

/// True when `name` is a scratch name of a run started more than `max_age`
/// seconds before `now` (a run from the future is not stale).
pub fn is_stale(name: &str, now: u64, max_age: u64) -> bool {
    RunId::of_name(name).is_some_and(|r| r.created < now && now - r.created > max_age)
}

/// What a cleanup removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removed {
    /// Apps destroyed.
    pub apps: Vec<String>,
    /// Postgres services destroyed.
    pub services: Vec<String>,
    /// What could not be removed, with why.
    pub failures: Vec<String>,
}

/// A Dokku host as a real one is reached. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Host {
    target: TestTarget,
}

impl Host {
    /// The host `target` names.
    pub fn new(target: TestTarget) -> Host {
        Host { target }
    }

    /// The host of `DOKKU_TEST_*`, or `None` after printing why the test is
    /// skipped ([`target::SKIP_MESSAGE`]).
    pub fn from_env_or_skip() -> Option<Host> {
        target::real_host_or_skip().map(Host::new)
    }

    /// How it is reached.
    pub fn target(&self) -> &TestTarget {
        &self.target
    }

    /// `ssh ... -- USER@HOST ARGS...` with `stdin`; the raw output.
    pub fn dokku_output(&self, args: &[&str], stdin: Option<&[u8]>) -> Result<Output, String> {
        let mut cmd = self.target.ssh_command();
        cmd.args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        let mut child = cmd.spawn().map_err(|e| format!("cannot run ssh: {e}"))?;
        if let Some(bytes) = stdin {
            if let Some(mut pipe) = child.stdin.take() {
                pipe.write_all(bytes)
                    .map_err(|e| format!("writing ssh's stdin: {e}"))?;
            }
        }
        child
            .wait_with_output()
            .map_err(|e| format!("waiting for ssh: {e}"))
    }

    /// A Dokku command over raw `ssh`: its stdout, or an error with the exit
    /// status and both streams.
    pub fn dokku(&self, args: &[&str]) -> Result<String, String> {
        let out = self.dokku_output(args, None)?;
        checked(&format!("dokku {}", args.join(" ")), out)
    }

    /// The exit code of a Dokku command (a yes/no question such as
    /// `apps:exists`).
    pub fn dokku_code(&self, args: &[&str]) -> Result<i32, String> {
        Ok(self.dokku_output(args, None)?.status.code().unwrap_or(-1))
    }

    /// `apps:list`: every app's name.
    pub fn apps(&self) -> Result<Vec<String>, String> {
        Ok(names(&self.dokku(&["apps:list"])?))
    }

    /// `postgres:list`: every service's name (any Dokku version's layout).
    pub fn services(&self) -> Result<Vec<String>, String> {
        let out = self.dokku_output(&["postgres:list"], None)?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            // No postgres plugin, or no service yet on an old version.
            let all = format!("{text}{}", String::from_utf8_lossy(&out.stderr));
            if all.contains("There are no") {
                return Ok(Vec::new());
            }
            return Err(format!("postgres:list exited with {}:\n{all}", out.status));
        }
        Ok(names(&text))
    }

    /// True when the app exists (`apps:exists`).
    pub fn app_exists(&self, app: &str) -> Result<bool, String> {
        Ok(self.dokku_code(&["apps:exists", app])? == 0)
    }

    /// True when the service exists (`postgres:exists`).
    pub fn service_exists(&self, service: &str) -> Result<bool, String> {
        Ok(self.dokku_code(&["postgres:exists", service])? == 0)
    }

    /// Runs SQL through `postgres:connect` (psql reading stdin); its stdout.
    /// `COPY (select ...) TO STDOUT` gives bare values.
    pub fn sql(&self, service: &str, sql: &str) -> Result<String, String> {
        let out = self.dokku_output(&["postgres:connect", service], Some(sql.as_bytes()))?;
        checked(&format!("postgres:connect {service} <<< {sql:?}"), out)
    }

    /// One value of a query (`COPY (QUERY) TO STDOUT`), trimmed.
    pub fn query(&self, service: &str, query: &str) -> Result<String, String> {
        let sql = format!("\\set ON_ERROR_STOP 1\nCOPY ({query}) TO STDOUT;\n");
        Ok(self.sql(service, &sql)?.trim().to_string())
    }

    /// The rows of `table` in the service's database, or `None` when there is
    /// no such table.
    pub fn count_rows(&self, service: &str, table: &str) -> Result<Option<u64>, String> {
        let exists = self.query(
            service,
            &format!("select count(*) from information_schema.tables where table_schema = 'public' and table_name = '{table}'"),
        )?;
        if exists == "0" {
            return Ok(None);
        }
        let n = self.query(service, &format!("select count(*) from {table}"))?;
        n.parse()
            .map(Some)
            .map_err(|_| format!("unexpected count {n:?}"))
    }

    /// `postgres:export`: the database as a pg_dump custom-format archive.
    pub fn export(&self, service: &str) -> Result<Vec<u8>, String> {
        let out = self.dokku_output(&["postgres:export", service], None)?;
        if !out.status.success() {
            return Err(format!(
                "postgres:export {service} exited with {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(out.stdout)
    }

    /// The git remote of an app: `USER@HOST:APP` (the port is in
    /// [`Host::git_ssh_command`]).
    pub fn git_remote(&self, app: &str) -> String {
        format!("{}:{app}", self.target.destination())
    }

    /// A value for `GIT_SSH_COMMAND`.
    pub fn git_ssh_command(&self) -> String {
        self.target.git_ssh_command()
    }

    /// git in `repo` with a fixed identity, over this host's SSH; stdout and
    /// stderr together, or an error with both.
    pub fn git(&self, repo: &Path, args: &[&str]) -> Result<String, String> {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=pix-e2e",
                "-c",
                "user.email=pix-e2e@example.test",
            ])
            .args([
                "-c",
                "init.defaultBranch=main",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(repo)
            .env("GIT_SSH_COMMAND", self.git_ssh_command())
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() {
            Ok(all)
        } else {
            Err(format!(
                "git {} exited with {}:\n{all}",
                args.join(" "),
                out.status
            ))
        }
    }

    /// `git push USER@HOST:APP HEAD:master` from `repo`.
    pub fn push(&self, repo: &Path, app: &str) -> Result<String, String> {
        self.git(repo, &["push", &self.git_remote(app), "HEAD:master"])
    }

    /// The commit the app's deploy branch holds (`git ls-remote`), if any.
    /// (Never on a missing app: Dokku would create it.)
    pub fn deployed_commit(&self, repo: &Path, app: &str) -> Result<Option<String>, String> {
        let out = self.git(
            repo,
            &["ls-remote", &self.git_remote(app), "refs/heads/master"],
        )?;
        Ok(out.split_whitespace().next().map(str::to_string))
    }

    /// The `[hosts.target]` table of a `pix.toml` for this host.
    pub fn pix_toml_host(&self) -> String {
        let t = &self.target;
        let mut text = format!(
            "[hosts.target]\naddress = {}\nport = {}\nuser = {}\n",
            toml_string(&t.host),
            t.port,
            toml_string(&t.user)
        );
        if let Some(key) = &t.key {
            text.push_str(&format!("key = {}\n", toml_string(&key.to_string_lossy())));
        }
        if let Some(kh) = &t.known_hosts {
            text.push_str(&format!(
                "known_hosts = {}\n",
                toml_string(&kh.to_string_lossy())
            ));
        }
        text.push_str("login = \"dokku\"\n");
        text
    }

    /// Removes every app and Postgres service whose name `matches`: links
    /// first, then apps, then services. Goes on after a failure and reports
    /// it in [`Removed::failures`].
    pub fn remove_matching(&self, matches: impl Fn(&str) -> bool) -> Result<Removed, String> {
        let mut removed = Removed::default();
        let services: Vec<String> = self
            .services()?
            .into_iter()
            .filter(|s| matches(s))
            .collect();
        let apps: Vec<String> = self.apps()?.into_iter().filter(|a| matches(a)).collect();
        for service in &services {
            if let Ok(links) = self.dokku(&["postgres:links", service]) {
                for app in names(&links) {
                    if let Err(e) = self.dokku(&["postgres:unlink", service, &app]) {
                        removed.failures.push(e);
                    }
                }
            }
        }
        for app in apps {
            // The global --force works on every version (0.19 wants `force`
            // after the app; newer ones `--force` anywhere).
            match self.dokku(&["--force", "apps:destroy", &app]) {
                Ok(_) => removed.apps.push(app),
                Err(e) => removed.failures.push(e),
            }
        }
        for service in services {
            match self.dokku(&["--force", "postgres:destroy", &service, "-f"]) {
                Ok(_) => removed.services.push(service),
                Err(e) => removed.failures.push(e),
            }
        }
        Ok(removed)
    }
}

/// Removes the leftovers of dead runs: every `pix-e2e-<run id>-*` app and
/// service whose run started more than [`MAX_AGE`] before `now`.
pub fn sweep(host: &Host, now: u64) -> Result<Removed, String> {
    host.remove_matching(|name| is_stale(name, now, MAX_AGE))
}

/// [`sweep`] once per process, before the first test uses the host.
pub fn sweep_once(host: &Host) {
    static SWEPT: OnceLock<()> = OnceLock::new();
    SWEPT.get_or_init(|| match sweep(host, now_unix()) {
        Ok(r) if r.apps.is_empty() && r.services.is_empty() && r.failures.is_empty() => {}
        Ok(r) => eprintln!(
            "e2e: swept leftovers of dead runs: apps {:?}, services {:?}{}",
            r.apps,
            r.services,
            if r.failures.is_empty() {
                String::new()
            } else {
                format!("; could not remove: {:?}", r.failures)
            }
        ),
        Err(e) => eprintln!("e2e: could not sweep leftovers: {e}"),
    });
}

/// One test's scratch space on the host: names under
/// `pix-e2e-<run id>-<tag>-`, all removed when dropped (panicking or not).
#[derive(Debug)]
pub struct Scratch {
    host: Host,
    prefix: String,
}

impl Scratch {
    /// The scratch space `tag` (lowercase letters, digits, `-`) of this run.
    pub fn new(host: &Host, tag: &str) -> Scratch {
        Scratch::with_prefix(host, format!("{}{tag}-", RunId::current().prefix()))
    }

    /// A scratch space with an explicit prefix (sweep tests).
    pub fn with_prefix(host: &Host, prefix: String) -> Scratch {
        Scratch {
            host: host.clone(),
            prefix,
        }
    }

    /// `<prefix><what>`.
    pub fn name(&self, what: &str) -> String {
        format!("{}{what}", self.prefix)
    }

    /// The prefix of every name here.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Removes every app and service named under the prefix.
    pub fn remove_all(&self) -> Result<Removed, String> {
        let prefix = self.prefix.clone();
        self.host.remove_matching(move |n| n.starts_with(&prefix))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        match self.remove_all() {
            Ok(r) if r.failures.is_empty() => {}
            Ok(r) => eprintln!("e2e: cleanup of {}* left: {:?}", self.prefix, r.failures),
            Err(e) => eprintln!("e2e: cleanup of {}* failed: {e}", self.prefix),
        }
    }
}

/// The sample app's files (`tests/sample-app`).
pub fn sample_app_dir() -> PathBuf {
    crate::scenario::sample_app_dir()
}

/// The names of a Dokku list (`apps:list`, `postgres:list`, `postgres:links`
/// on any version): the first word of each line that is not a header.
pub fn names(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("=====>") && !l.starts_with("NAME "))
        .filter(|l| !l.starts_with("!") && !l.starts_with("There are no"))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

fn checked(what: &str, out: Output) -> Result<String, String> {
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`{what}` exited with {}:\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_round_trip_and_are_found_in_names() {
        let id = RunId {
            created: 1_767_225_600,
            nonce: "a3f9".into(),
        };
        assert_eq!(id.to_string(), "1767225600-a3f9");
        assert_eq!(RunId::parse("1767225600-a3f9"), Some(id.clone()));
        assert_eq!(id.prefix(), "pix-e2e-1767225600-a3f9-");
        assert_eq!(
            RunId::of_name("pix-e2e-1767225600-a3f9-deploy-app"),
            Some(id)
        );
        for not in [
            "pix-e2e-12345",
            "pix-e2e-1767225600-a3f9",
            "pix-e2e-1767225600-A3F9-x",
            "pix-e2e-176722560-a3f9-x",
            "api-development",
            "pix-e2e-1767225600-a3f9x-y",
        ] {
            assert_eq!(RunId::of_name(not), None, "{not}");
        }
        assert!(RunId::parse(&RunId::new().to_string()).is_some());
    }

    #[test]
    fn only_names_of_runs_older_than_a_day_are_stale() {
        let now = 1_767_225_600 + 2 * MAX_AGE;
        let old = format!("pix-e2e-{}-0000-x", now - MAX_AGE - 1);
        let fresh = format!("pix-e2e-{}-0000-x", now - 60);
        let future = format!("pix-e2e-{}-0000-x", now + 60);
        assert!(is_stale(&old, now, MAX_AGE));
        assert!(!is_stale(&fresh, now, MAX_AGE));
        assert!(!is_stale(&future, now, MAX_AGE));
        assert!(!is_stale("pix-e2e-12345", now, MAX_AGE));
        assert!(!is_stale("production-api", now, MAX_AGE));
    }

    #[test]
    fn lists_of_every_version_give_names() {
        assert_eq!(names("=====> My Apps\na\nb\n"), ["a", "b"]);
        assert_eq!(
            names("NAME  VERSION  STATUS\npg-1  postgres:11.6  running\n"),
            ["pg-1"]
        );
        assert_eq!(names("=====> Postgres services\npg-1\n"), ["pg-1"]);
        assert!(names(" !     There are no Postgres services\n").is_empty());
    }
}
