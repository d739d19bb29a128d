//! `version`, `plugin:list`, `ssh-keys:*`.

use std::io::Read;
use std::process::{Command, Stdio};

use super::{Code, Ctx, ProfileExt};
use crate::contract::Profile;

pub(crate) fn version(ctx: &mut Ctx) -> Code {
    let v = ctx.profile.dokku_version();
    ctx.io.out(&format!("dokku version {v}\n"));
    0
}

pub(crate) fn plugin_list(ctx: &mut Ctx) -> Code {
    let v = ctx.profile.dokku_version();
    let pg = match ctx.profile {
        crate::contract::Profile::V0_38 => "1.48.0",
        crate::contract::Profile::V0_30 => "1.31.0",
        crate::contract::Profile::V0_19 => "1.9.4",
    };
    let core = [
        ("00_dokku-standard", "dokku core standard plugin"),
        ("apps", "dokku core apps plugin"),
        ("config", "dokku core config plugin"),
        ("domains", "dokku core domains plugin"),
        ("git", "dokku core git plugin"),
        ("logs", "dokku core logs plugin"),
        ("nginx-vhosts", "dokku core nginx-vhosts plugin"),
        ("plugin", "dokku core plugin plugin"),
        ("ps", "dokku core ps plugin"),
        ("run", "dokku core run plugin"),
        (
            "scheduler-docker-local",
            "dokku core scheduler-docker-local plugin",
        ),
        ("ssh-keys", "dokku core ssh-keys plugin"),
        ("storage", "dokku core storage plugin"),
    ];
    let mut text = String::from("plugn: v0.17.1\n");
    for (name, desc) in core {
        text.push_str(&format!(
            "  {} {} {}\n",
            super::render::pad_bytes(name, 24),
            super::render::pad_bytes(v, 10),
            super::render::pad_bytes("enabled", 10) + desc
        ));
    }
    text.push_str(&format!(
        "  {} {} {}\n",
        super::render::pad_bytes("postgres", 24),
        super::render::pad_bytes(pg, 10),
        super::render::pad_bytes("enabled", 10) + "dokku postgres service plugin"
    ));
    for name in super::plugin::installed(ctx) {
        text.push_str(&format!(
            "  {} {} {}\n",
            super::render::pad_bytes(&name, 24),
            super::render::pad_bytes("0.1.0", 10),
            super::render::pad_bytes("enabled", 10) + &format!("dokku {name} plugin")
        ));
    }
    ctx.io.out(&text);
    0
}

fn fingerprint(key: &str) -> String {
    let out = Command::new("ssh-keygen")
        .args(["-l", "-E", "sha256", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .and_then(|mut c| {
            if let Some(mut i) = c.stdin.take() {
                use std::io::Write;
                let _ = i.write_all(key.as_bytes());
            }
            c.wait_with_output()
        });
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    }
}

/// `(name, key)` of the keys in the `authorized_keys` files that let clients
/// reach this emulator: `<root>/../authorized_keys` (the sandbox's layout)
/// and `~/.ssh/authorized_keys`. The name is sshcommand's `NAME="..."`, else
/// the key comment, else `default`.
fn authorized_keys(ctx: &Ctx) -> Vec<(String, String)> {
    let mut files = Vec::new();
    if let Some(parent) = ctx.layout.root.parent() {
        files.push(parent.join("authorized_keys"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        let f = std::path::Path::new(&home)
            .join(".ssh")
            .join("authorized_keys");
        if !files.contains(&f) {
            files.push(f);
        }
    }
    let mut out = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(entry) = parse_authorized_line(line) {
                out.push(entry);
            }
        }
    }
    out
}

/// One `authorized_keys` line: `(name, "type base64")`.
pub(crate) fn parse_authorized_line(line: &str) -> Option<(String, String)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| w.starts_with("ssh-") || w.starts_with("ecdsa-") || w.starts_with("sk-"))?;
    let key = format!("{} {}", words[at], words.get(at + 1)?);
    let name = match line.find("NAME=") {
        Some(p) => line[p + 5..]
            .trim_start_matches(['\\', '"'])
            .split(['\\', '"', ' '])
            .next()
            .unwrap_or_default()
            .to_owned(),
        None => words.get(at + 2).map(|c| c.to_string()).unwrap_or_default(),
    };
    let name = if name.is_empty() {
        "default".to_owned()
    } else {
        name
    };
    Some((name, key))
}

/// The options sshcommand's `acl-add` writes before every key.
const ALLOWED_KEYS: &str = "no-agent-forwarding,no-user-rc,no-X11-forwarding,no-port-forwarding";

pub(crate) fn ssh_keys_list(ctx: &mut Ctx, args: &[String]) -> Code {
    // 0.19 (functions list_ssh_keys) reads no argument. From 0.30
    // (subcommands/list): `--format text|json` may come first, then an
    // optional key name that filters the list.
    let (json, name) = if ctx.profile == Profile::V0_19 {
        (false, None)
    } else {
        let (format, name) = if args.first().map(String::as_str) == Some("--format") {
            (
                args.get(1).map(String::as_str).unwrap_or_default(),
                args.get(2),
            )
        } else {
            ("text", args.first())
        };
        if format != "text" && format != "json" {
            return ctx.fail("Invalid output format specified, supported formats: json, text");
        }
        (format == "json", name.filter(|n| !n.is_empty()).cloned())
    };
    let mut keys = authorized_keys(ctx);
    let dir = ctx.layout.ssh_keys_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|e| {
            e.flatten()
                .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    for n in names {
        let key = std::fs::read_to_string(dir.join(&n)).unwrap_or_default();
        keys.push((n, key.trim().to_owned()));
    }
    if keys.is_empty() {
        return ctx.fail("No public keys found.");
    }
    let shown: Vec<(String, String, String)> = keys
        .into_iter()
        .filter(|(n, _)| name.as_ref().is_none_or(|want| n == want))
        .map(|(n, key)| (fingerprint(&key), n, key))
        .collect();
    if json {
        // sshcommand list's sed writes each row as `{ "fingerprint": .. }`
        // without escaping, joined by commas; with a name, Dokku pipes
        // that through `jq -cM`, which compacts (and escapes) it.
        let rows: Vec<String> = shown
            .iter()
            .map(|(fp, n, key)| match name {
                None => format!(
                    "{{ \"fingerprint\": \"{fp}\", \"name\": \"{n}\", \"SSHCOMMAND_ALLOWED_KEYS\": \"{ALLOWED_KEYS}\", \"public-key\": \"{key}\" }}"
                ),
                Some(_) => format!(
                    "{{\"fingerprint\":{},\"name\":{},\"SSHCOMMAND_ALLOWED_KEYS\":{},\"public-key\":{}}}",
                    serde_json::Value::from(fp.as_str()),
                    serde_json::Value::from(n.as_str()),
                    serde_json::Value::from(ALLOWED_KEYS),
                    serde_json::Value::from(key.as_str()),
                ),
            })
            .collect();
        ctx.io.out(&format!("[{}]\n", rows.join(",")));
        return 0;
    }
    if shown.is_empty() {
        // `echo "$OUTPUT" | grep "NAME=\"$NAME\""` finds nothing: grep's
        // exit 1 ends the script (set -eo pipefail), silently.
        return 1;
    }
    for (fp, n, _) in shown {
        ctx.io.out(&format!(
            "{fp} NAME=\"{n}\" SSHCOMMAND_ALLOWED_KEYS=\"{ALLOWED_KEYS}\"\n"
        ));
    }
    0
}

pub(crate) fn ssh_keys_add(ctx: &mut Ctx, args: &[String]) -> Code {
    let Some(name) = args.first() else {
        return ctx.fail("A name for the key must be specified");
    };
    if name.contains('/') || name.starts_with('.') {
        return ctx.fail("Invalid key name");
    }
    let key = match args.get(1) {
        Some(file) => std::fs::read_to_string(file).unwrap_or_default(),
        None => {
            let mut s = String::new();
            let _ = std::io::stdin().read_to_string(&mut s);
            s
        }
    };
    let key = key.trim().to_owned();
    if key.is_empty() || fingerprint(&key).is_empty() {
        return ctx.fail("Key specified in is not a valid ssh public key");
    }
    let path = ctx.layout.ssh_keys_dir().join(name);
    if path.exists() {
        return ctx.fail(&format!("Duplicate ssh key name: {name}"));
    }
    if let Err(e) = std::fs::create_dir_all(ctx.layout.ssh_keys_dir())
        .and_then(|_| std::fs::write(&path, format!("{key}\n")))
    {
        return ctx.fail(&format!("cannot store the key: {e}"));
    }
    let fp = fingerprint(&key);
    ctx.io.out(&format!("{fp}\n"));
    0
}

pub(crate) fn ssh_keys_remove(ctx: &mut Ctx, args: &[String]) -> Code {
    let Some(name) = args.first() else {
        return ctx.fail("A name for the key must be specified");
    };
    let path = ctx.layout.ssh_keys_dir().join(name);
    if name.contains('/') || !path.exists() {
        return ctx.fail(&format!("No matching keys found for name {name}"));
    }
    match std::fs::remove_file(path) {
        Ok(()) => 0,
        Err(e) => ctx.fail(&format!("cannot remove the key: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorized_key_lines() {
        let sshcommand = r#"command="FINGERPRINT=SHA256:abc NAME=\"admin\" `cat /home/dokku/.sshcommand` $SSH_ORIGINAL_COMMAND",no-agent-forwarding ssh-ed25519 AAAAC3 me@host"#;
        assert_eq!(
            parse_authorized_line(sshcommand),
            Some(("admin".to_owned(), "ssh-ed25519 AAAAC3".to_owned()))
        );
        let plain = r#"restrict,command="/bin/emu --root /r" ssh-rsa AAAAB3 ci-key"#;
        assert_eq!(
            parse_authorized_line(plain),
            Some(("ci-key".to_owned(), "ssh-rsa AAAAB3".to_owned()))
        );
        assert_eq!(
            parse_authorized_line("ssh-ed25519 AAAA"),
            Some(("default".to_owned(), "ssh-ed25519 AAAA".to_owned()))
        );
        assert_eq!(parse_authorized_line("garbage"), None);
    }
}
