//! `ssh-keys:*`: who may push and run commands.
//!
//! Each command has a pure builder here (no IO) that checks its arguments and
//! returns the [`Command`]; the [`Client`] methods
//! run them and parse the output.
//!
//! ```
//! use dokku_client::ssh_keys;
//! assert_eq!(ssh_keys::add("ci")?.argv(), ["ssh-keys:add", "ci"]); // the key goes on stdin
//! assert_eq!(ssh_keys::list().argv(), ["ssh-keys:list"]);
//! assert!(ssh_keys::remove("a b").is_err());
//! # Ok::<(), dokku_client::Error>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::command::Command;
use crate::error::{Error, Result};
use crate::parse;
use crate::parse::{is_warn_line, json_rows, lines_of, shell_split, ParseError};
use crate::transport::{Request, Stdin};
use crate::Client;

/// An authorised key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SshKey {
    /// `SHA256:...`.
    pub fingerprint: String,
    /// The key's name.
    pub name: String,
}

fn check_key_name(name: &str) -> Result<()> {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
    {
        Ok(())
    } else {
        Err(Error::InvalidName {
            name: name.into(),
            message: "key names contain only letters, digits, `-`, `_`, `.` and `@`".into(),
        })
    }
}

/// `ssh-keys:list`.
pub fn list() -> Command {
    Command::read("ssh-keys:list")
}

/// `ssh-keys:add <name>`: the public key goes on its stdin (see
/// [`Client::ssh_keys_add`]), never on the command line.
pub fn add(name: &str) -> Result<Command> {
    check_key_name(name)?;
    Ok(Command::write("ssh-keys:add").value(name))
}

/// What [`add`] reads on its stdin: the public key line, trimmed.
pub fn add_stdin(public_key: &str) -> Vec<u8> {
    public_key.trim().as_bytes().to_vec()
}

/// `ssh-keys:remove <name>`.
pub fn remove(name: &str) -> Result<Command> {
    check_key_name(name)?;
    Ok(Command::write("ssh-keys:remove").value(name))
}

/// Parses `ssh-keys:list`: `SHA256:... NAME="admin" SSHCOMMAND_ALLOWED_KEYS="none"`.
pub fn parse_ssh_keys_list(text: &str) -> Vec<SshKey> {
    lines_of(text)
        .into_iter()
        .filter(|l| !l.trim().is_empty() && !is_warn_line(l) && !l.starts_with("=====>"))
        .filter_map(|l| {
            let words = shell_split(l);
            let fingerprint = words.first()?.clone();
            let name = words
                .iter()
                .find_map(|w| w.strip_prefix("NAME=").map(str::to_string))
                .unwrap_or_default();
            Some(SshKey { fingerprint, name })
        })
        .collect()
}

/// One row of `ssh-keys:list --format json`, as sshcommand's `list` writes
/// it (its `SSHCOMMAND_ALLOWED_KEYS` and `public-key` are not read).
#[derive(Deserialize)]
struct ListRow {
    fingerprint: String,
    name: String,
}

/// Parses `ssh-keys:list --format json` (Dokku 0.30+): one JSON array of
/// keys, read into the same [`SshKey`] the text form gives.
///
/// ```
/// use dokku_client::ssh_keys::parse_ssh_keys_list_json;
/// let json = r#"[{ "fingerprint": "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", "name": "admin", "SSHCOMMAND_ALLOWED_KEYS": "no-agent-forwarding,no-user-rc,no-X11-forwarding,no-port-forwarding", "public-key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB admin@laptop" }]"#;
/// assert_eq!(parse_ssh_keys_list_json(json)?[0].name, "admin");
/// assert!(parse_ssh_keys_list_json("No public keys found.").is_err());
/// # Ok::<(), dokku_client::parse::ParseError>(())
/// ```
pub fn parse_ssh_keys_list_json(text: &str) -> std::result::Result<Vec<SshKey>, ParseError> {
    let rows: Vec<ListRow> = json_rows(text, "ssh-keys:list")?;
    Ok(rows
        .into_iter()
        .map(|r| SshKey {
            fingerprint: r.fingerprint,
            name: r.name,
        })
        .collect())
}

impl Client {
    /// The authorised keys (`ssh-keys:list`).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case(
    ///         "ssh-keys:list",
    ///         Output::new(0, concat!(
    ///             "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU NAME=\"admin\" SSHCOMMAND_ALLOWED_KEYS=\"no-agent-forwarding,no-user-rc,no-X11-forwarding,no-port-forwarding\"\n",
    ///             "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s NAME=\"ci\" SSHCOMMAND_ALLOWED_KEYS=\"no-agent-forwarding,no-user-rc,no-X11-forwarding,no-port-forwarding\"\n",
    ///         ), ""),
    ///     );
    /// let client = Client::new(transport);
    /// let keys = client.ssh_keys_list().await?;
    /// let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
    /// assert_eq!(names, ["admin", "ci"]);
    /// assert!(keys[0].fingerprint.starts_with("SHA256:"));
    /// # Ok(()) }
    /// ```
    pub async fn ssh_keys_list(&self) -> Result<Vec<SshKey>> {
        let out = self.run_ok(list()).await?;
        Ok(parse::parse_ssh_keys_list(&out.stdout_text()))
    }

    /// Adds a public key under `name` (sent on stdin).
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ci@example.com";
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("ssh-keys:add ci", Output::new(0, "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s\n", ""));
    /// let client = Client::new(transport.clone());
    /// client.ssh_keys_add("ci", key).await?;
    /// let sent = transport.requests().pop().unwrap();
    /// assert_eq!(sent.argv, ["ssh-keys:add", "ci"]); // the key is not on the command line
    /// assert_eq!(sent.stdin, key.as_bytes()); // but on stdin
    /// # Ok(()) }
    /// ```
    pub async fn ssh_keys_add(&self, name: &str, public_key: &str) -> Result<()> {
        let cmd = add(name)?;
        let out = self
            .execute(Request::new(cmd.clone()).stdin(Stdin::Bytes(add_stdin(public_key))))
            .await?;
        if out.success() {
            Ok(())
        } else {
            Err(self.classify(&cmd, &out))
        }
    }

    /// Removes the key named `name`.
    ///
    /// ```
    /// # use dokku_client::{Client, Output, transport::ScriptedTransport};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dokku_client::Result<()> {
    /// let transport = ScriptedTransport::new()
    ///     .version("0.38.27")
    ///     .case("ssh-keys:remove ci", Output::new(0, "", ""))
    ///     .case("ssh-keys:remove nobody", Output::new(1, "", " !     No matching keys found for name nobody\n"));
    /// let client = Client::new(transport);
    /// client.ssh_keys_remove("ci").await?;
    /// assert!(client.ssh_keys_remove("nobody").await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn ssh_keys_remove(&self, name: &str) -> Result<()> {
        self.run_ok(remove(name)?).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_keys() {
        let k = parse::parse_ssh_keys_list(
            "SHA256:abc NAME=\"admin\" SSHCOMMAND_ALLOWED_KEYS=\"none\"\n",
        );
        assert_eq!(k[0].name, "admin");
        assert_eq!(k[0].fingerprint, "SHA256:abc");
        assert!(check_key_name("a b").is_err());
    }

    /// sshcommand's `list` rows (sed, spaced) and Dokku's `jq -cM` filtered
    /// rows (compact) read as the text form does.
    #[test]
    fn the_json_list_reads_as_the_text_list() {
        let text = "SHA256:abc NAME=\"admin\" SSHCOMMAND_ALLOWED_KEYS=\"no-agent-forwarding\"\nSHA256:def NAME=\"ci\" SSHCOMMAND_ALLOWED_KEYS=\"no-agent-forwarding\"\n";
        let spaced = r#"[{ "fingerprint": "SHA256:abc", "name": "admin", "SSHCOMMAND_ALLOWED_KEYS": "no-agent-forwarding", "public-key": "ssh-ed25519 AAAA a@b" },{ "fingerprint": "SHA256:def", "name": "ci", "SSHCOMMAND_ALLOWED_KEYS": "no-agent-forwarding", "public-key": "ssh-ed25519 BBBB" }]"#;
        assert_eq!(
            parse_ssh_keys_list_json(spaced).unwrap(),
            parse_ssh_keys_list(text)
        );
        let compact = r#"[{"fingerprint":"SHA256:def","name":"ci","SSHCOMMAND_ALLOWED_KEYS":"no-agent-forwarding","public-key":"ssh-ed25519 BBBB"}]"#;
        assert_eq!(
            parse_ssh_keys_list_json(compact).unwrap(),
            parse_ssh_keys_list(text)[1..]
        );
        assert_eq!(parse_ssh_keys_list_json("[]\n").unwrap(), vec![]);
        for bad in ["", "SHA256:abc NAME=\"admin\"", r#"[{"name":"a"}]"#] {
            assert!(parse_ssh_keys_list_json(bad).is_err(), "{bad:?}");
        }
    }
}
