//! The `pix.toml` the sandbox writes for itself (format: `pix_ops::config`).
//!
//! ```toml
//! [hosts.sandbox]
//! address = "127.0.0.1"
//! port = 40123                  # the proxy's port when the proxy is on
//! user = "dokku"                # or the user running the sandbox when not root
//! key = "/tmp/pxs-.../ssh/id_ed25519"
//! known_hosts = "/tmp/pxs-.../ssh/known_hosts"
//! login = "dokku"
//!
//! [environments.development]
//! host = "sandbox"
//! app = "api-development"
//! database = "pg-development"
//! protected = false
//! post_link = ["sh migrate.sh"]
//! ```

use std::path::Path;

/// The sample app's name in the sandbox's `pix.toml`.
pub const APP: &str = "api-development";
/// The sample app's database service in the sandbox's `pix.toml`.
pub const DATABASE: &str = "pg-development";
/// The commands run after relinking (the sample app's migrations).
pub const POST_LINK: &[&str] = &["sh migrate.sh"];

/// What goes into the sandbox's `pix.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PixTomlHost<'a> {
    /// Address.
    pub address: &'a str,
    /// SSH port.
    pub port: u16,
    /// Login user.
    pub user: &'a str,
    /// Private key file.
    pub key: &'a Path,
    /// known_hosts file.
    pub known_hosts: &'a Path,
}

/// Renders the sandbox's `pix.toml`.
pub fn render(host: &PixTomlHost<'_>) -> String {
    let post_link: Vec<String> = POST_LINK.iter().map(|c| toml_string(c)).collect();
    format!(
        "# Written by the pix sandbox: a local Dokku stand-in (real sshd, PostgreSQL, git).\n\
         [hosts.sandbox]\n\
         address = {address}\n\
         port = {port}\n\
         user = {user}\n\
         key = {key}\n\
         known_hosts = {known_hosts}\n\
         login = \"dokku\"\n\
         \n\
         [environments.development]\n\
         host = \"sandbox\"\n\
         app = {app}\n\
         database = {database}\n\
         protected = false\n\
         post_link = [{post_link}]\n",
        address = toml_string(host.address),
        port = host.port,
        user = toml_string(host.user),
        key = toml_string(&host.key.to_string_lossy()),
        known_hosts = toml_string(&host.known_hosts.to_string_lossy()),
        app = toml_string(APP),
        database = toml_string(DATABASE),
        post_link = post_link.join(", "),
    )
}

/// A TOML basic string.
pub fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_sandbox_host_and_development_environment() {
        let text = render(&PixTomlHost {
            address: "127.0.0.1",
            port: 40123,
            user: "dokku",
            key: Path::new("/tmp/pxs-1/ssh/id_ed25519"),
            known_hosts: Path::new("/tmp/pxs-1/ssh/known_hosts"),
        });
        assert_eq!(
            text,
            "# Written by the pix sandbox: a local Dokku stand-in (real sshd, PostgreSQL, git).\n\
             [hosts.sandbox]\naddress = \"127.0.0.1\"\nport = 40123\nuser = \"dokku\"\n\
             key = \"/tmp/pxs-1/ssh/id_ed25519\"\nknown_hosts = \"/tmp/pxs-1/ssh/known_hosts\"\n\
             login = \"dokku\"\n\n[environments.development]\nhost = \"sandbox\"\n\
             app = \"api-development\"\ndatabase = \"pg-development\"\nprotected = false\n\
             post_link = [\"sh migrate.sh\"]\n"
        );
    }

    #[test]
    fn escapes_strings() {
        assert_eq!(toml_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(toml_string("x\ny\u{1}"), "\"x\\ny\\u0001\"");
    }
}
