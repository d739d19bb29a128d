//! Prerequisites: which programs the sandbox needs and which Debian package
//! brings each one.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where the OpenSSH server is expected (sshd must be started by absolute path).
pub const SSHD: &str = "/usr/sbin/sshd";
/// Where Debian installs PostgreSQL's versioned binaries.
pub const POSTGRES_LIB_DIR: &str = "/usr/lib/postgresql";
/// The PostgreSQL major version named when none is installed.
pub const DEFAULT_POSTGRES_MAJOR: u32 = 15;

/// PostgreSQL programs the sandbox and the emulator call.
const POSTGRES_PROGRAMS: [&str; 6] = [
    "initdb",
    "pg_ctl",
    "postgres",
    "psql",
    "pg_dump",
    "pg_restore",
];

/// The programs the sandbox runs, found on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tools {
    /// `/usr/sbin/sshd`.
    pub sshd: PathBuf,
    /// The `ssh` client.
    pub ssh: PathBuf,
    /// `ssh-keygen`.
    pub ssh_keygen: PathBuf,
    /// `git`.
    pub git: PathBuf,
    /// `/usr/lib/postgresql/<newest>/bin`.
    pub postgres_bin: PathBuf,
}

/// One missing program and the package that provides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// The program (`sshd`, `initdb`...).
    pub program: String,
    /// The Debian package to install (`openssh-server`, `postgresql-15`...).
    pub package: String,
}

/// Everything that is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingPrerequisites {
    /// The missing programs.
    pub missing: Vec<Missing>,
}

impl MissingPrerequisites {
    /// The packages to install, deduplicated, in order.
    pub fn packages(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for m in &self.missing {
            if !out.contains(&m.package) {
                out.push(m.package.clone());
            }
        }
        out
    }
}

impl fmt::Display for MissingPrerequisites {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let programs: Vec<&str> = self.missing.iter().map(|m| m.program.as_str()).collect();
        write!(
            f,
            "the sandbox needs {} which {} not installed; install the package(s): \
             apt-get update && apt-get install -y {} (as root, `cargo xtask test` does it)",
            programs.join(", "),
            if programs.len() == 1 { "is" } else { "are" },
            self.packages().join(" ")
        )
    }
}

impl std::error::Error for MissingPrerequisites {}

/// Checks every program the sandbox needs; names the package of each one
/// that is missing.
pub fn check_prerequisites() -> Result<Tools, MissingPrerequisites> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    check_with(Path::new(SSHD), &dirs, Path::new(POSTGRES_LIB_DIR))
}

/// [`check_prerequisites`] with every location given (pure apart from
/// looking at files; tested without touching the machine's state).
pub fn check_with(
    sshd: &Path,
    path_dirs: &[PathBuf],
    postgres_lib: &Path,
) -> Result<Tools, MissingPrerequisites> {
    let mut missing = Vec::new();
    let mut need = |program: &str, package: &str, found: Option<PathBuf>| -> PathBuf {
        match found {
            Some(p) => p,
            None => {
                missing.push(Missing {
                    program: program.to_string(),
                    package: package.to_string(),
                });
                PathBuf::new()
            }
        }
    };
    let sshd = need(
        "sshd",
        "openssh-server",
        is_executable(sshd).then(|| sshd.to_path_buf()),
    );
    let ssh = need("ssh", "openssh-client", find_in(path_dirs, "ssh"));
    let ssh_keygen = need(
        "ssh-keygen",
        "openssh-client",
        find_in(path_dirs, "ssh-keygen"),
    );
    let git = need("git", "git", find_in(path_dirs, "git"));
    let (postgres_bin, major) = newest_postgres(postgres_lib);
    let pg_package = format!("postgresql-{}", major.unwrap_or(DEFAULT_POSTGRES_MAJOR));
    let mut postgres_ok = postgres_bin.is_some();
    for program in POSTGRES_PROGRAMS {
        let found = postgres_bin
            .as_ref()
            .map(|d| d.join(program))
            .filter(|p| is_executable(p));
        if found.is_none() {
            postgres_ok = false;
            need(program, &pg_package, None);
        }
    }
    if !missing.is_empty() {
        return Err(MissingPrerequisites { missing });
    }
    let postgres_bin = match (postgres_ok, postgres_bin) {
        (true, Some(d)) => d,
        _ => {
            return Err(MissingPrerequisites {
                missing: vec![Missing {
                    program: "postgres".into(),
                    package: pg_package,
                }],
            })
        }
    };
    Ok(Tools {
        sshd,
        ssh,
        ssh_keygen,
        git,
        postgres_bin,
    })
}

/// `<lib>/<newest major>/bin` and that major, when any version is installed.
pub fn newest_postgres(lib: &Path) -> (Option<PathBuf>, Option<u32>) {
    let Ok(entries) = std::fs::read_dir(lib) else {
        return (None, None);
    };
    let newest = entries
        .flatten()
        .filter_map(|e| {
            let major: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((major, bin))
        })
        .max_by_key(|(major, _)| *major);
    match newest {
        Some((major, bin)) => (Some(bin), Some(major)),
        None => (None, None),
    }
}

/// The first executable `name` in `dirs`.
pub fn find_in(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    dirs.iter().map(|d| d.join(name)).find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exe(path: &Path) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn names_the_package_of_each_missing_program() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        exe(&bin.join("ssh"));
        exe(&bin.join("ssh-keygen"));
        exe(&bin.join("git"));
        let err = check_with(&dir.path().join("sshd"), &[bin], &dir.path().join("pg")).unwrap_err();
        assert_eq!(err.packages(), vec!["openssh-server", "postgresql-15"]);
        let text = err.to_string();
        assert!(text.contains("sshd"), "{text}");
        assert!(
            text.contains("apt-get install -y openssh-server postgresql-15"),
            "{text}"
        );
    }

    #[test]
    fn finds_the_newest_postgres_and_everything_else() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        for p in ["ssh", "ssh-keygen", "git", "sshd"] {
            exe(&bin.join(p));
        }
        for major in ["13", "15"] {
            for p in POSTGRES_PROGRAMS {
                exe(&dir.path().join("pg").join(major).join("bin").join(p));
            }
        }
        let tools = check_with(
            &bin.join("sshd"),
            std::slice::from_ref(&bin),
            &dir.path().join("pg"),
        )
        .unwrap();
        assert_eq!(tools.postgres_bin, dir.path().join("pg/15/bin"));
        assert_eq!(tools.git, bin.join("git"));
    }

    #[test]
    fn a_partial_postgres_install_is_missing_its_package() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        for p in ["ssh", "ssh-keygen", "git", "sshd"] {
            exe(&bin.join(p));
        }
        exe(&dir.path().join("pg/16/bin/initdb"));
        let err = check_with(
            &bin.join("sshd"),
            std::slice::from_ref(&bin),
            &dir.path().join("pg"),
        )
        .unwrap_err();
        assert_eq!(err.packages(), vec!["postgresql-16"]);
        assert!(err.missing.iter().any(|m| m.program == "pg_dump"));
    }
}
