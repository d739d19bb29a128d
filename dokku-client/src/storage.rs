//! `storage:*`: persistent bind mounts.
//!
//! Each command has a pure builder here (no IO) that checks its arguments and
//! returns the [`Command`]; the [`Client`] methods
//! run them and parse the output.
//!
//! ```
//! use dokku_client::storage;
//! assert_eq!(
//!     storage::mount("myapp", "/var/lib/dokku/data/storage/myapp:/app/storage")?.argv(),
//!     ["storage:mount", "myapp", "/var/lib/dokku/data/storage/myapp:/app/storage"],
//! );
//! assert_eq!(storage::list("myapp")?.argv(), ["storage:list", "myapp"]);
//! assert!(storage::unmount("myapp", "/app/storage").is_err()); // `host:container`
//! # Ok::<(), dokku_client::Error>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::command::Command;
use crate::error::{Error, Result};
use crate::names::validate_app_name;
use crate::parse;
use crate::parse::{is_warn_line, json_rows, lines_of, ParseError};
use crate::Client;

/// A bind mount `host:container[:options]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Mount {
    /// The host path.
    pub host_path: String,
    /// The container path (with `:ro` or other options, if any).
    pub container_path: String,
}

fn mount_command(name: &str, app: &str, mount: &str) -> Result<Command> {
    validate_app_name(app)?;
    if !mount.contains(':') || mount.chars().any(char::is_whitespace) {
        return Err(Error::InvalidName {
            name: mount.into(),
            message: "a mount is `/host/path:/container/path` without spaces".into(),
        });
    }
    Ok(Command::write(name).value(app).value(mount))
}

/// `storage:mount <app> <host-path:container-path>`.
pub fn mount(app: &str, mount: &str) -> Result<Command> {
    mount_command("storage:mount", app, mount)
}

/// `storage:unmount <app> <host-path:container-path>`.
pub fn unmount(app: &str, mount: &str) -> Result<Command> {
    mount_command("storage:unmount", app, mount)
}

/// `storage:list <app>`.
pub fn list(app: &str) -> Result<Command> {
    validate_app_name(app)?;
    Ok(Command::read("storage:list").value(app))
}

/// Parses `storage:list`: indented `host:container[:options]` lines under an
/// optional header.
pub fn parse_storage_list(text: &str) -> Vec<Mount> {
    lines_of(text)
        .into_iter()
        .filter(|l| !l.starts_with("=====>") && !l.starts_with("----->") && !is_warn_line(l))
        .filter_map(|l| {
            let l = l.trim();
            let (host, container) = l.split_once(':')?;
            Some(Mount {
                host_path: host.to_string(),
                container_path: container.to_string(),
            })
        })
        .collect()
}

/// One row of `storage:list --format json`, as Dokku's `StorageListEntry`
/// serialises it (`readonly` and `volume_options` are left out when unset).
#[derive(Deserialize)]
struct ListEntry {
    host_path: String,
    container_path: String,
    #[serde(default)]
    readonly: bool,
    #[serde(default)]
    volume_options: String,
}

/// Parses `storage:list <app> --format json` (Dokku 0.38+): a JSON array of
/// mounts. Each becomes the same [`Mount`] the text form gives: the options
/// follow the container path as Dokku prints them (`ro`, then the volume
/// options), so both forms of one app's list are equal.
///
/// ```
/// use dokku_client::storage::parse_storage_list_json;
/// let json = r#"[{"entry_name":"data","host_path":"/srv/data","container_path":"/data","readonly":true,"volume_options":"Z"}]"#;
/// assert_eq!(parse_storage_list_json(json)?[0].container_path, "/data:ro,Z");
/// assert!(parse_storage_list_json("/srv/data:/data").is_err());
/// # Ok::<(), dokku_client::parse::ParseError>(())
/// ```
pub fn parse_storage_list_json(text: &str) -> std::result::Result<Vec<Mount>, ParseError> {
    let rows: Vec<ListEntry> = json_rows(text, "storage:list")?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let options = match (r.readonly, r.volume_options.as_str()) {
                (true, "") => "ro".to_string(),
                (true, o) => format!("ro,{o}"),
                (false, o) => o.to_string(),
            };
            let container_path = if options.is_empty() {
                r.container_path
            } else {
                format!("{}:{options}", r.container_path)
            };
            Mount {
                host_path: r.host_path,
                container_path,
            }
        })
        .collect())
}

impl Client {
    /// Mounts `host:container` into the app (`storage:mount`).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("storage:mount myapp /var/lib/dokku/data/storage/myapp:/app/storage", Output::new(0, "", ""));
    /// let client = Client::new(transport.clone());
    /// client.storage_mount("myapp", "/var/lib/dokku/data/storage/myapp:/app/storage").await?;
    /// assert_eq!(transport.requests().last().unwrap().argv[0], "storage:mount");
    /// // A mount is `host:container`.
    /// assert!(client.storage_mount("myapp", "/app/storage").await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn storage_mount(&self, app: &str, mount: &str) -> Result<()> {
        self.run_ok(self::mount(app, mount)?).await.map(drop)
    }

    /// Removes a mount (`storage:unmount`).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("storage:unmount myapp /var/lib/dokku/data/storage/myapp:/app/storage", Output::new(0, "", ""));
    /// let client = Client::new(transport.clone());
    /// client.storage_unmount("myapp", "/var/lib/dokku/data/storage/myapp:/app/storage").await?;
    /// assert_eq!(transport.requests().last().unwrap().argv[0], "storage:unmount");
    /// # Ok(()) }
    /// ```
    pub async fn storage_unmount(&self, app: &str, mount: &str) -> Result<()> {
        self.run_ok(unmount(app, mount)?).await.map(drop)
    }

    /// The app's mounts (`storage:list`).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(
    ///         "storage:list myapp",
    ///         Output::new(0, "=====> myapp volume bind-mounts:\n       /var/lib/dokku/data/storage/myapp:/app/storage\n       /var/log/myapp:/app/log:ro\n", ""),
    ///     );
    /// let client = Client::new(transport);
    /// let mounts = client.storage_list("myapp").await?;
    /// assert_eq!(mounts[0].host_path, "/var/lib/dokku/data/storage/myapp");
    /// assert_eq!(mounts[0].container_path, "/app/storage");
    /// assert_eq!(mounts[1].container_path, "/app/log:ro");
    /// # Ok(()) }
    /// ```
    pub async fn storage_list(&self, app: &str) -> Result<Vec<Mount>> {
        let out = self.run_ok(list(app)?).await?;
        Ok(parse::parse_storage_list(&out.stdout_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_are_checked() {
        assert!(mount_command("storage:mount", "a", "/h:/c").is_ok());
        assert!(mount_command("storage:mount", "a", "/h").is_err());
        assert_eq!(
            parse::parse_storage_list("=====> a volume bind-mounts:\n       /h:/c:ro\n")[0]
                .container_path,
            "/c:ro"
        );
    }

    /// The two forms Dokku prints for one list (`formatStorageListEntry` and
    /// `StorageListEntry`'s JSON) give the same mounts.
    #[test]
    fn the_json_list_reads_as_the_text_list() {
        let text = "=====> app1 volume bind-mounts:\n       /srv/x:/x\n       /var/lib/dokku/data/storage/data:/data:ro,Z\n       /h:/o:noexec\n";
        let json = r#"[{"entry_name":"legacy-1","host_path":"/srv/x","container_path":"/x"},
            {"entry_name":"data","host_path":"/var/lib/dokku/data/storage/data","container_path":"/data","readonly":true,"volume_options":"Z"},
            {"host_path":"/h","container_path":"/o","volume_options":"noexec"}]"#;
        assert_eq!(
            parse_storage_list_json(json).unwrap(),
            parse_storage_list(text)
        );
        assert_eq!(parse_storage_list_json("[]\n").unwrap(), vec![]);
        for bad in ["", "x", "{}", r#"[{"host_path":"/h"}]"#] {
            assert!(parse_storage_list_json(bad).is_err(), "{bad:?}");
        }
    }
}
