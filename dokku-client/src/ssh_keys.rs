//! `ssh-keys:*`: who may push and run commands.

use serde::Serialize;

use crate::command::Command;
use crate::error::{Error, Result};
use crate::parse;
use crate::transport::{Request, Stdin};
use crate::Client;

/// An authorised key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// `ssh-keys:remove <name>`.
pub fn remove(name: &str) -> Result<Command> {
    check_key_name(name)?;
    Ok(Command::write("ssh-keys:remove").value(name))
}

impl Client {
    /// The authorised keys (`ssh-keys:list`).
    pub async fn ssh_keys_list(&self) -> Result<Vec<SshKey>> {
        let out = self.run_ok(list()).await?;
        Ok(parse::parse_ssh_keys_list(&out.stdout_text()))
    }

    /// Adds a public key under `name` (sent on stdin).
    pub async fn ssh_keys_add(&self, name: &str, public_key: &str) -> Result<()> {
        let cmd = add(name)?;
        let out = self
            .execute(
                Request::new(cmd.clone())
                    .stdin(Stdin::Bytes(public_key.trim().as_bytes().to_vec())),
            )
            .await?;
        if out.success() {
            Ok(())
        } else {
            Err(self.classify(&cmd, &out))
        }
    }

    /// Removes the key named `name`.
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
}
