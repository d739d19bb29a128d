//! `postgres:*` against a real, throwaway PostgreSQL cluster (started here:
//! `initdb` + `pg_ctl`, as the user `pixtest` when run as root). Skipped, with
//! a message, when no PostgreSQL server binaries are installed.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use pix_sandbox::contract::{EmulatorConfig, PostgresAdmin, Profile, CONFIG_FILE};

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
const ADMIN_PASSWORD: &str = "admin-secret";

fn pg_bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    dirs.sort();
    dirs.pop()
}

/// A private cluster; stopped on drop.
struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    user: Option<String>,
}

impl Cluster {
    fn as_owner(&self, program: &Path) -> Command {
        match &self.user {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--"]).arg(program);
                c
            }
            None => Command::new(program),
        }
    }

    fn start(bin: PathBuf) -> Cluster {
        let root = nix::unistd::Uid::effective().is_root();
        let user = root.then(|| "pixtest".to_owned());
        if let Some(u) = &user {
            if !Command::new("id").arg(u).output().unwrap().status.success() {
                let out = Command::new("useradd")
                    .args([
                        "--system",
                        "--no-create-home",
                        "--shell",
                        "/usr/sbin/nologin",
                        u,
                    ])
                    .output()
                    .unwrap();
                assert!(out.status.success(), "useradd {u}: {out:?}");
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = Cluster {
            dir,
            bin,
            port,
            user,
        };
        std::fs::write(c.dir.path().join("pw"), ADMIN_PASSWORD).unwrap();
        if let Some(u) = &c.user {
            let uid: u32 =
                String::from_utf8(Command::new("id").args(["-u", u]).output().unwrap().stdout)
                    .unwrap()
                    .trim()
                    .parse()
                    .unwrap();
            std::os::unix::fs::chown(c.dir.path(), Some(uid), None).unwrap();
            std::os::unix::fs::chown(c.dir.path().join("pw"), Some(uid), None).unwrap();
        }
        let data = c.dir.path().join("data");
        let out = c
            .as_owner(&c.bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
            ])
            .arg(format!("--pwfile={}", c.dir.path().join("pw").display()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = c
            .as_owner(&c.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(c.dir.path().join("log"))
            .arg("-o")
            .arg(format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
                c.port,
                c.dir.path().display()
            ))
            .args(["-w", "start"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        c
    }

    fn admin_query(&self, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-At",
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-c",
                sql,
            ])
            .env("PGPASSWORD", ADMIN_PASSWORD)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .as_owner(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

fn emu(root: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(emulator())
        .arg("--root")
        .arg(root)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn services_are_real_databases() {
    let Some(bin) = pg_bin_dir() else {
        eprintln!(
            "skipped: no PostgreSQL server binaries under /usr/lib/postgresql (install postgresql)"
        );
        return;
    };
    let cluster = Cluster::start(bin.clone());
    let root = tempfile::tempdir().unwrap();
    let cfg = EmulatorConfig {
        profile: Profile::V0_38,
        global_vhost: "sandbox.test".into(),
        postgres: PostgresAdmin {
            host: "127.0.0.1".into(),
            port: cluster.port,
            superuser: "postgres".into(),
            password: ADMIN_PASSWORD.into(),
            bin_dir: bin.clone(),
        },
        git_bin_dir: None,
        emulator_bin: PathBuf::from(emulator()),
    };
    std::fs::write(
        root.path().join(CONFIG_FILE),
        serde_json::to_vec(&cfg).unwrap(),
    )
    .unwrap();
    let r = root.path();

    let out = emu(r, &["postgres:create", "lolli-pop"], b"");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.starts_with(
        "       Waiting for container to be ready\n       Creating container database\n       Securing connection to database\n=====> Postgres container created: lolli-pop\n=====> lolli-pop postgres service information\n"
    ), "{stdout}");
    let dsn = text(&emu(r, &["postgres:info", "lolli-pop", "--dsn"], b"").stdout)
        .trim()
        .to_owned();
    let prefix = "postgres://lolli_pop:";
    let suffix = format!("@127.0.0.1:{}/lolli_pop", cluster.port);
    assert!(dsn.starts_with(prefix) && dsn.ends_with(&suffix), "{dsn}");
    let password = &dsn[prefix.len()..dsn.len() - suffix.len()];
    assert!(
        password.len() == 32 && password.chars().all(|c| c.is_ascii_hexdigit()),
        "{password}"
    );

    // the DSN works
    let out = Command::new(bin.join("psql"))
        .args([
            "-X",
            "-q",
            &dsn,
            "-c",
            "create table t(n int); insert into t values (1), (2);",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");

    // connect with SQL on stdin prints psql's aligned output
    let out = emu(
        r,
        &["postgres:connect", "lolli-pop"],
        b"select count(*) as n from t;\n",
    );
    assert_eq!(text(&out.stdout), " n \n---\n 2\n(1 row)\n\n");

    // link sets DATABASE_URL through config:set
    assert!(emu(r, &["apps:create", "myapp"], b"").status.success());
    let out = emu(r, &["postgres:link", "lolli-pop", "myapp"], b"");
    assert_eq!(
        text(&out.stdout),
        format!("-----> Setting config vars\n       DATABASE_URL:  {dsn}\n")
    );
    assert_eq!(
        text(&emu(r, &["config:get", "myapp", "DATABASE_URL"], b"").stdout),
        format!("{dsn}\n")
    );
    let out = emu(r, &["postgres:destroy", "lolli-pop", "--force"], b"");
    assert_eq!(
        (out.status.code(), text(&out.stderr)),
        (Some(1), " !     Cannot delete linked service\n".into())
    );

    // export / import round trip into a second service
    let dump = emu(r, &["postgres:export", "lolli-pop"], b"");
    assert!(dump.status.success(), "{}", text(&dump.stderr));
    assert!(dump.stdout.starts_with(b"PGDMP"));
    assert!(emu(r, &["postgres:create", "copy"], b"").status.success());
    let out = emu(r, &["postgres:import", "copy"], &dump.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = emu(
        r,
        &["postgres:connect", "copy"],
        b"select sum(n) as s from t;\n",
    );
    assert_eq!(text(&out.stdout), " s \n---\n 3\n(1 row)\n\n");

    // unlink, then destroy drops the database and the role
    let out = emu(r, &["postgres:unlink", "lolli-pop", "myapp"], b"");
    assert_eq!(text(&out.stdout), "-----> Unsetting DATABASE_URL\n");
    let out = emu(r, &["postgres:destroy", "lolli-pop"], b"lolli-pop\n");
    assert!(out.status.success(), "{out:?}");
    assert!(text(&out.stdout).ends_with("=====> Postgres container deleted: lolli-pop\n"));
    assert_eq!(
        cluster.admin_query("select count(*) from pg_database where datname = 'lolli_pop'"),
        "0"
    );
    assert_eq!(
        cluster.admin_query("select count(*) from pg_roles where rolname = 'lolli_pop'"),
        "0"
    );
    let out = emu(r, &["postgres:list"], b"");
    assert_eq!(text(&out.stdout), "=====> Postgres services\ncopy\n");
}
