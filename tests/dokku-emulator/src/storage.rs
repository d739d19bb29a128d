//! The storage plugin (`plugins/storage/*.go` of 0.38): named storage
//! entries (`storage:create|destroy|set|info|list-entries`, annotations and
//! labels), attachments of entries to apps (`storage:mount|unmount|list`,
//! `storage:report`), and the deprecated `storage:ensure-directory`.
//!
//! As Dokku 0.38 does, a legacy `host:container[:options]` mount is a
//! synthesized `legacy-<sha1(host)[..10]>` entry plus an attachment; the
//! older profiles (bash plugin) keep only the colon form, listed in mount
//! order. Entries live in `data/storage-registry/entries/<name>.json` under
//! the emulator's root, in Dokku's JSON shape; attachments in the app's state.
//!
//! Where it knowingly differs: the default host path is reported as
//! `/var/lib/dokku/data/storage/<name>` (Dokku's) while the directory is
//! made under the root's `data/storage/<name>`; `--chown` ownership is
//! logged but not applied (the emulator runs unprivileged, Docker user
//! namespaces count as off); there is no Kubernetes, so the k3s scheduler
//! refuses to provision entries.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{apps, render, reports, state, Code, Ctx, GoArgs, GoFlag};
use crate::contract::Profile;

/// Dokku's storage directory (`$DOKKU_LIB_ROOT/data/storage`).
pub(crate) const DOKKU_STORAGE_DIR: &str = "/var/lib/dokku/data/storage";
const DOCKER_LOCAL: &str = "docker-local";
const K3S: &str = "k3s";
const LEGACY_PREFIX: &str = "legacy-";
const DEFAULT_PROCESS_TYPE: &str = "_default_";
/// `storage:set`'s properties, sorted as its error lists them.
const SETTABLE: [&str; 7] = [
    "access-mode",
    "chown",
    "mode",
    "namespace",
    "reclaim-policy",
    "size",
    "storage-class-name",
];

fn is_empty_str(s: &str) -> bool {
    s.is_empty()
}

/// A storage entry, as `plugins/storage/entry.go` writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Entry {
    /// The entry name (a DNS-1123 label).
    pub name: String,
    /// `docker-local` or `k3s`.
    pub scheduler: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    /// The host directory (or a docker named volume).
    pub host_path: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    /// PVC size (k3s).
    pub size: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    /// PVC access mode (k3s).
    pub access_mode: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    /// PVC storage class (k3s).
    pub storage_class: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    /// PVC namespace (k3s).
    pub namespace: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    /// `--chown` option.
    pub chown: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    /// Directory mode, 4 octal digits.
    pub mode: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    /// `Retain` or `Delete`.
    pub reclaim_policy: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    /// PVC annotations.
    pub annotations: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    /// PVC labels.
    pub labels: BTreeMap<String, String>,
    /// On-disk schema version (1).
    pub schema_version: i64,
}

/// How an app uses an entry (`plugins/storage/attachment.go`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Attachment {
    /// The mounted entry.
    pub entry_name: String,
    /// Where it is mounted.
    pub container_path: String,
    /// `deploy` and/or `run`.
    pub phases: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    /// Process type (`_default_`: all).
    pub process_type: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    /// Subpath within the entry.
    pub subpath: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    /// Read-only mount.
    pub readonly: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    /// Comma-separated mount options.
    pub volume_options: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    /// Chown option at mount time.
    pub volume_chown: String,
}

/// A `storage:list` row (`StorageListEntry`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
struct ListRow {
    #[serde(skip_serializing_if = "is_empty_str")]
    entry_name: String,
    host_path: String,
    container_path: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    readonly: bool,
    #[serde(skip_serializing_if = "is_empty_str")]
    volume_options: String,
}

impl ListRow {
    /// The colon form `host:container[:ro,opts]`.
    fn colon(&self) -> String {
        let opts = match (self.readonly, self.volume_options.is_empty()) {
            (true, false) => format!("ro,{}", self.volume_options),
            (true, true) => "ro".to_owned(),
            (false, false) => self.volume_options.clone(),
            (false, true) => String::new(),
        };
        if opts.is_empty() {
            format!("{}:{}", self.host_path, self.container_path)
        } else {
            format!("{}:{}:{opts}", self.host_path, self.container_path)
        }
    }
}

fn entries_dir(ctx: &Ctx) -> PathBuf {
    ctx.layout
        .root
        .join("data")
        .join("storage-registry")
        .join("entries")
}

fn entry_file(ctx: &Ctx, name: &str) -> PathBuf {
    entries_dir(ctx).join(format!("{name}.json"))
}

/// The default host path of an entry, as Dokku reports it.
fn default_host_path(name: &str) -> String {
    format!("{DOKKU_STORAGE_DIR}/{name}")
}

/// Where a host path is on this machine: Dokku's storage directory maps to
/// the root's `data/storage`.
fn real_path(ctx: &Ctx, host: &str) -> PathBuf {
    match host.strip_prefix(DOKKU_STORAGE_DIR) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => ctx
            .layout
            .root
            .join("data")
            .join("storage")
            .join(rest.trim_start_matches('/')),
        _ => PathBuf::from(host),
    }
}

fn entry_exists(ctx: &Ctx, name: &str) -> bool {
    !name.is_empty() && !name.contains('/') && entry_file(ctx, name).is_file()
}

fn load_entry(ctx: &Ctx, name: &str) -> Result<Entry, String> {
    let path = entry_file(ctx, name);
    let bytes = std::fs::read(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!("storage entry \"{name}\" does not exist")
        } else {
            format!("unable to read storage entry \"{name}\": {e}")
        }
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| format!("unable to parse storage entry \"{name}\": {e}"))
}

/// Go's `json.MarshalIndent(v, "", "  ")`.
fn go_pretty<T: Serialize>(v: &T) -> String {
    render::go_json_escape(&serde_json::to_string_pretty(v).unwrap_or_default())
}

/// Go's `json.Marshal(v)`.
fn go_compact<T: Serialize>(v: &T) -> String {
    render::go_json_escape(&serde_json::to_string(v).unwrap_or_default())
}

fn save_entry(ctx: &Ctx, entry: &mut Entry) -> Result<(), String> {
    if entry.schema_version == 0 {
        entry.schema_version = 1;
    }
    let dir = entries_dir(ctx);
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("unable to create storage entries directory: {e}"))?;
    std::fs::write(entry_file(ctx, &entry.name), go_pretty(entry))
        .map_err(|e| format!("unable to write storage entry \"{}\": {e}", entry.name))
}

fn delete_entry(ctx: &Ctx, name: &str) {
    let _ = std::fs::remove_file(entry_file(ctx, name));
}

fn list_entries(ctx: &Ctx) -> Result<Vec<Entry>, String> {
    let Ok(dir) = std::fs::read_dir(entries_dir(ctx)) else {
        return Ok(Vec::new());
    };
    let mut names: Vec<String> = dir
        .flatten()
        .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".json"))
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    names.iter().map(|n| load_entry(ctx, n)).collect()
}

/// `ValidateEntryName`.
pub(crate) fn validate_entry_name(name: &str, allow_legacy: bool) -> Result<(), String> {
    if name.is_empty() {
        return Err("storage entry name is required".into());
    }
    if name.len() > 45 {
        return Err(format!("storage entry name \"{name}\" is too long (max 45 characters); helm release names cap our budget"));
    }
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let dns = name.chars().all(|c| ok_char(c) || c == '-')
        && name.starts_with(ok_char)
        && name.ends_with(ok_char);
    if !dns {
        return Err(format!("storage entry name \"{name}\" must be a DNS-1123 label (lowercase letters, digits, and dashes; cannot start or end with a dash)"));
    }
    if !allow_legacy && name.starts_with(LEGACY_PREFIX) {
        return Err(format!(
            "storage entry name \"{name}\" must not start with reserved prefix \"{LEGACY_PREFIX}\""
        ));
    }
    Ok(())
}

/// `NormalizeDirectoryMode`: 3 or 4 octal digits, stored as 4.
pub(crate) fn normalize_mode(mode: &str) -> Result<String, String> {
    if mode.is_empty() {
        return Ok(String::new());
    }
    if !(3..=4).contains(&mode.len()) || !mode.chars().all(|c| ('0'..='7').contains(&c)) {
        return Err(format!("Unsupported directory mode \"{mode}\". Value must be a 3 or 4 digit octal mode, such as 0755"));
    }
    Ok(if mode.len() == 3 {
        format!("0{mode}")
    } else {
        mode.to_owned()
    })
}

/// Docker's named-volume token `^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`.
fn named_volume(s: &str) -> bool {
    s.len() >= 2
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// `Entry.Validate`.
pub(crate) fn validate_entry(e: &Entry) -> Result<(), String> {
    validate_entry_name(&e.name, e.name.starts_with(LEGACY_PREFIX))?;
    let n = &e.name;
    if e.scheduler != DOCKER_LOCAL && e.scheduler != K3S {
        return Err(format!(
            "storage entry \"{n}\" has unsupported scheduler \"{}\" (supported: docker-local, k3s)",
            e.scheduler
        ));
    }
    if !e.reclaim_policy.is_empty() && e.reclaim_policy != "Retain" && e.reclaim_policy != "Delete"
    {
        return Err(format!(
            "storage entry \"{n}\" has unsupported reclaim policy \"{}\"",
            e.reclaim_policy
        ));
    }
    if e.scheduler == DOCKER_LOCAL {
        if e.host_path.is_empty() {
            return Err(format!(
                "storage entry \"{n}\" (docker-local) is missing host_path"
            ));
        }
        if !e.host_path.starts_with('/') && !named_volume(&e.host_path) {
            return Err(format!("storage entry \"{n}\" host_path must be an absolute path or a docker named volume token, got \"{}\"", e.host_path));
        }
        for (v, flag) in [
            (&e.size, "--size"),
            (&e.storage_class, "--storage-class-name"),
            (&e.access_mode, "--access-mode"),
        ] {
            if !v.is_empty() {
                return Err(format!(
                    "storage entry \"{n}\" (docker-local) does not accept {flag}"
                ));
            }
        }
        normalize_mode(&e.mode)?;
        let default = default_host_path(n);
        if e.reclaim_policy == "Delete" && e.host_path != default {
            return Err(format!("storage entry \"{n}\" (docker-local) only accepts --reclaim-policy Delete on the default host path ({default})"));
        }
    } else {
        if e.size.is_empty() {
            return Err(format!("storage entry \"{n}\" (k3s) requires --size"));
        }
        if !e.storage_class.is_empty() && !e.host_path.is_empty() {
            return Err(format!("storage entry \"{n}\" (k3s) cannot set both --storage-class-name and a host path; the cluster provisions class-backed volumes"));
        }
        let modes = [
            "ReadWriteOnce",
            "ReadOnlyMany",
            "ReadWriteMany",
            "ReadWriteOncePod",
        ];
        if !e.access_mode.is_empty() && !modes.contains(&e.access_mode.as_str()) {
            return Err(format!(
                "storage entry \"{n}\" has unsupported access mode \"{}\"",
                e.access_mode
            ));
        }
        if !e.host_path.is_empty() && !e.host_path.starts_with('/') {
            return Err(format!(
                "storage entry \"{n}\" host_path must be absolute, got \"{}\"",
                e.host_path
            ));
        }
        if !e.mode.is_empty() {
            return Err(format!(
                "storage entry \"{n}\" (k3s) does not accept --mode"
            ));
        }
    }
    Ok(())
}

/// `ResolveChownID` (Docker user namespaces off): a named image user or a
/// 16-bit uid.
pub(crate) fn resolve_chown_id(ctx: &mut Ctx, flag: &str) -> Result<String, String> {
    Ok(match flag {
        "herokuish" => "32767".into(),
        "heroku" => "1000".into(),
        "packeto" => {
            ctx.verbose("Detected deprecated chown flag 'packeto'. Using 'paketo' instead. Please update your configuration.");
            "2000".into()
        }
        "paketo" => "2000".into(),
        "root" => "0".into(),
        "false" => "false".into(),
        other => match other.parse::<u16>() {
            Ok(id) if !other.starts_with('+') => id.to_string(),
            _ => return Err("Unsupported chown permissions".into()),
        },
    })
}

fn require_default_host_path(e: &Entry, flag: &str) -> Result<(), String> {
    let default = default_host_path(&e.name);
    if e.host_path == default {
        return Ok(());
    }
    Err(format!("{flag} is only supported when the storage entry uses the default host path ({default}); omit {flag} and manage {} manually", e.host_path))
}

/// `ensureDockerLocalPath`: make the directory, apply mode and ownership.
fn ensure_docker_local_path(ctx: &mut Ctx, e: &Entry) -> Result<(), String> {
    let wants_chown = !e.chown.is_empty() && e.chown != "false";
    if wants_chown {
        require_default_host_path(e, "--chown")?;
    }
    if !e.mode.is_empty() {
        require_default_host_path(e, "--mode")?;
    }
    if !e.host_path.starts_with('/') {
        return Ok(());
    }
    let real = real_path(ctx, &e.host_path);
    match std::fs::metadata(&real) {
        Ok(m) if !m.is_dir() => {
            return Err(format!(
                "storage entry path {} exists but is not a directory",
                e.host_path
            ))
        }
        Ok(_) => {}
        Err(_) => {
            std::fs::create_dir_all(&real)
                .map_err(|err| format!("unable to create {}: {err}", e.host_path))?;
            ctx.verbose(&format!("Created {}", e.host_path));
        }
    }
    if !e.mode.is_empty() {
        ctx.verbose(&format!("Setting directory mode to {}", e.mode));
        use std::os::unix::fs::PermissionsExt;
        let bits = u32::from_str_radix(&e.mode, 8).unwrap_or(0o755);
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(bits))
            .map_err(|err| format!("unable to chmod {}: {err}", e.host_path))?;
    }
    if wants_chown {
        let id = resolve_chown_id(ctx, &e.chown)?;
        if id != "false" {
            ctx.verbose(&format!("Setting directory ownership to {id}:{id}"));
        }
    }
    Ok(())
}

/// SHA-1 (FIPS 180-1), for the legacy entry names.
fn sha1_hex(data: &[u8]) -> String {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut msg = data.to_vec();
    let bits = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bits.to_be_bytes());
    for chunk in msg.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in chunk.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}

/// `ParseMountPath`: host, container, `ro` hoisted out of the options.
fn parse_mount_path(mount: &str) -> ListRow {
    let mut parts = mount.splitn(3, ':');
    let mut row = ListRow {
        host_path: parts.next().unwrap_or_default().to_owned(),
        container_path: parts.next().unwrap_or_default().to_owned(),
        ..ListRow::default()
    };
    if let Some(opts) = parts.next().filter(|o| !o.is_empty()) {
        let rest: Vec<&str> = opts
            .split(',')
            .filter(|t| {
                if *t == "ro" {
                    row.readonly = true;
                    false
                } else {
                    true
                }
            })
            .collect();
        row.volume_options = rest.join(",");
    }
    row
}

/// `LegacyMountToEntry`: the deterministic entry of a colon-form mount.
pub(crate) fn legacy_entry_name(host: &str) -> String {
    let input = if host.starts_with('/') {
        host.to_owned()
    } else {
        format!("vol:{host}")
    };
    format!("{LEGACY_PREFIX}{}", &sha1_hex(input.as_bytes())[..10])
}

/// `VerifyPaths`.
fn verify_paths(mount: &str) -> Result<(), String> {
    if let Some(rest) = mount.strip_prefix('/') {
        if rest.contains(":/") {
            return Ok(());
        }
        return Err("Storage path must be two valid paths divided by colon.".into());
    }
    let ok = mount
        .split_once(":/")
        .is_some_and(|(name, _)| named_volume(name));
    if ok {
        Ok(())
    } else {
        Err("Volume name must be two characters or more. Volume name must not contain invalid characters. Storage path must be two valid paths divided by colon.".into())
    }
}

fn fail_with(ctx: &mut Ctx, r: Result<(), String>) -> Code {
    match r {
        Ok(()) => 0,
        Err(e) => ctx.fail(&e),
    }
}

fn parse(ctx: &mut Ctx, cmd: &str, args: &[String], spec: &[GoFlag]) -> Result<GoArgs, Code> {
    super::go_parse(ctx, cmd, args, spec)
}

fn arg(a: &GoArgs, i: usize) -> String {
    a.positional.get(i).cloned().unwrap_or_default()
}

const fn flag(name: &'static str, usage: &'static str) -> GoFlag {
    GoFlag {
        name,
        value: Some("string"),
        usage,
    }
}

const fn bool_flag(name: &'static str, usage: &'static str) -> GoFlag {
    GoFlag {
        name,
        value: None,
        usage,
    }
}

/// `key=value` pairs of `--annotation` / `--label`.
fn kv_pairs(pairs: &[String]) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for p in pairs {
        match p.find('=') {
            Some(i) if i > 0 => {
                out.insert(p[..i].to_owned(), p[i + 1..].to_owned());
            }
            _ => return Err(format!("expected key=value, got \"{p}\"")),
        }
    }
    Ok(out)
}

/// `storage:create <name> [<path>] [flags]`.
pub(crate) fn create(ctx: &mut Ctx, args: &[String]) -> Code {
    let spec = [
        flag(
            "scheduler",
            "--scheduler: target scheduler (docker-local, k3s)",
        ),
        flag("size", "--size: PVC size (k3s only, e.g. 2Gi)"),
        flag("access-mode", "--access-mode: PVC access mode (k3s only)"),
        flag(
            "storage-class-name",
            "--storage-class-name: PVC storage class (k3s only)",
        ),
        flag("namespace", "--namespace: PVC namespace (k3s only)"),
        flag("chown", "--chown: chown option (docker-local only)"),
        flag(
            "mode",
            "--mode: octal permissions for the host directory, such as 0755 (docker-local only)",
        ),
        flag(
            "reclaim-policy",
            "--reclaim-policy: reclaim policy for the underlying volume (Retain or Delete)",
        ),
        GoFlag {
            name: "annotation",
            value: Some("strings"),
            usage: "--annotation key=value: PVC annotation (repeatable)",
        },
        GoFlag {
            name: "label",
            value: Some("strings"),
            usage: "--label key=value: PVC label (repeatable)",
        },
    ];
    let a = match parse(ctx, "storage:create", args, &spec) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let r = create_entry(ctx, &a);
    fail_with(ctx, r)
}

fn create_entry(ctx: &mut Ctx, a: &GoArgs) -> Result<(), String> {
    let annotations = kv_pairs(&a.slice("annotation"))?;
    let labels = kv_pairs(&a.slice("label"))?;
    let name = arg(a, 0);
    validate_entry_name(&name, false)?;
    let scheduler = a
        .get("scheduler")
        .filter(|s| !s.is_empty())
        .unwrap_or(DOCKER_LOCAL)
        .to_owned();
    let mut host_path = arg(a, 1);
    if scheduler == DOCKER_LOCAL && host_path.is_empty() {
        host_path = default_host_path(&name);
    }
    let get = |k: &str| a.get(k).unwrap_or_default().to_owned();
    let mut entry = Entry {
        name: name.clone(),
        scheduler: scheduler.clone(),
        host_path,
        size: get("size"),
        access_mode: get("access-mode"),
        storage_class: get("storage-class-name"),
        namespace: get("namespace"),
        chown: get("chown"),
        mode: normalize_mode(&get("mode"))?,
        reclaim_policy: get("reclaim-policy"),
        annotations,
        labels,
        schema_version: 1,
    };
    validate_entry(&entry)?;
    if entry_exists(ctx, &name) {
        let existing = load_entry(ctx, &name)?;
        if existing.scheduler != scheduler {
            return Err(format!("storage entry \"{name}\" already exists with scheduler \"{}\"; refusing to redefine", existing.scheduler));
        }
        ctx.info1_quiet(&format!(
            "Storage entry {name} already exists, leaving in place"
        ));
    }
    if scheduler == DOCKER_LOCAL {
        ensure_docker_local_path(ctx, &entry)?;
    }
    if scheduler == K3S {
        // no cluster here: the scheduler's storage-create trigger fails
        return Err(format!(
            "scheduler refused storage entry \"{name}\": kubernetes not available"
        ));
    }
    save_entry(ctx, &mut entry)?;
    ctx.info1(&format!("Storage entry {name} created"));
    Ok(())
}

/// Apps with an attachment of the entry, sorted.
fn apps_using(ctx: &Ctx, name: &str) -> Vec<String> {
    state::list_apps(&ctx.layout)
        .unwrap_or_default()
        .into_iter()
        .filter(|app| {
            state::read_json::<state::AppState>(&ctx.layout.app_file(app))
                .map(|st| st.attachments.iter().any(|x| x.entry_name == name))
                .unwrap_or(false)
        })
        .collect()
}

/// `storage:destroy <name> [--force] [--destroy-host-dir]`.
pub(crate) fn destroy(ctx: &mut Ctx, args: &[String]) -> Code {
    let spec = [
        bool_flag("force", "--force: force destroy without confirmation"),
        bool_flag("destroy-host-dir", "--destroy-host-dir: also remove the host directory and its contents (docker-local only)"),
    ];
    let a = match parse(ctx, "storage:destroy", args, &spec) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let name = arg(&a, 0);
    let force = a.get("force") == Some("true") || ctx.flags.force;
    let destroy_dir = a.get("destroy-host-dir") == Some("true");
    if name.is_empty() {
        return ctx.fail("storage entry name is required");
    }
    if !entry_exists(ctx, &name) {
        return ctx.fail(&format!("storage entry \"{name}\" does not exist"));
    }
    let using = apps_using(ctx, &name);
    if !using.is_empty() {
        return ctx.fail(&format!(
            "storage entry \"{name}\" is still mounted by app(s): {}",
            using.join(", ")
        ));
    }
    let entry = match load_entry(ctx, &name) {
        Ok(e) => e,
        Err(e) => return ctx.fail(&e),
    };
    if destroy_dir && entry.scheduler != DOCKER_LOCAL {
        return ctx.fail(&format!("--destroy-host-dir only applies to docker-local storage entries; \"{name}\" is scheduler \"{}\" and follows --reclaim-policy", entry.scheduler));
    }
    let mut remove_dir = false;
    if entry.scheduler == DOCKER_LOCAL && (destroy_dir || entry.reclaim_policy == "Delete") {
        match require_default_host_path(&entry, "--destroy-host-dir") {
            Ok(()) => remove_dir = true,
            Err(e) if destroy_dir => return ctx.fail(&e),
            Err(_) => ctx.warn(&format!(
                "Leaving {} in place; reclaim policy Delete only removes the default host path",
                entry.host_path
            )),
        }
    }
    if !force {
        if remove_dir {
            ctx.warn(&format!(
                "Storage entry {name} is backed by {}, which will be removed along with its contents.",
                entry.host_path
            ));
        }
        if let Err(c) = confirm(ctx, &name, "storage entry") {
            return c;
        }
    }
    if entry.scheduler == K3S {
        return ctx.fail(&format!(
            "scheduler refused to remove storage entry \"{name}\": kubernetes not available"
        ));
    }
    if remove_dir {
        let real = real_path(ctx, &entry.host_path);
        if let Err(e) = std::fs::remove_dir_all(&real) {
            if e.kind() != std::io::ErrorKind::NotFound {
                return ctx.fail(&format!("unable to remove {}: {e}", entry.host_path));
            }
        }
        ctx.verbose(&format!("Removed {}", entry.host_path));
    }
    delete_entry(ctx, &name);
    ctx.info1(&format!("Storage entry {name} destroyed"));
    0
}

/// `common.AskForDestructiveConfirmation`.
fn confirm(ctx: &mut Ctx, name: &str, kind: &str) -> Result<(), Code> {
    ctx.warn("WARNING: Potentially Destructive Action");
    ctx.warn(&format!("This command will destroy {kind} {name}."));
    ctx.warn(&format!("To proceed, type \"{name}\""));
    ctx.io.out("> ");
    match apps::scanln() {
        Err(e) => Err(ctx.fail(e)),
        Ok(word) if word != name => {
            ctx.io.err("Confirmation did not match test. Aborted.\n");
            Err(1)
        }
        Ok(_) => Ok(()),
    }
}

/// `storage:info <name> [--format text|json]`.
pub(crate) fn info(ctx: &mut Ctx, args: &[String]) -> Code {
    let spec = [flag("format", "--format: output format (text, json)")];
    let a = match parse(ctx, "storage:info", args, &spec) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let name = arg(&a, 0);
    if name.is_empty() {
        return ctx.fail("storage entry name is required");
    }
    if !entry_exists(ctx, &name) {
        return ctx.fail(&format!("storage entry \"{name}\" does not exist"));
    }
    let e = match load_entry(ctx, &name) {
        Ok(e) => e,
        Err(e) => return ctx.fail(&e),
    };
    if a.get("format") == Some("json") {
        ctx.io.out(&format!("{}\n", go_pretty(&e)));
        return 0;
    }
    ctx.info1_quiet(&format!("Storage entry {}", e.name));
    ctx.verbose(&format!("Scheduler:        {}", e.scheduler));
    for (label, v) in [
        ("Host path:        ", &e.host_path),
        ("Size:             ", &e.size),
        ("Access mode:      ", &e.access_mode),
        ("Storage class:    ", &e.storage_class),
        ("Namespace:        ", &e.namespace),
        ("Chown:            ", &e.chown),
        ("Mode:             ", &e.mode),
        ("Reclaim policy:   ", &e.reclaim_policy),
    ] {
        if !v.is_empty() {
            ctx.verbose(&format!("{label}{v}"));
        }
    }
    0
}

/// `storage:list-entries [--scheduler s] [--format text|json]`.
pub(crate) fn list_entries_cmd(ctx: &mut Ctx, args: &[String]) -> Code {
    let spec = [
        flag("scheduler", "--scheduler: filter to a single scheduler"),
        flag("format", "--format: output format (text, json)"),
    ];
    let a = match parse(ctx, "storage:list-entries", args, &spec) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let entries = match list_entries(ctx) {
        Ok(e) => e,
        Err(e) => return ctx.fail(&e),
    };
    let scheduler = a.get("scheduler").unwrap_or_default();
    let filtered: Vec<Entry> = entries
        .into_iter()
        .filter(|e| scheduler.is_empty() || e.scheduler == scheduler)
        .collect();
    if a.get("format") == Some("json") {
        ctx.io.out(&format!("{}\n", go_pretty(&filtered)));
        return 0;
    }
    if filtered.is_empty() {
        ctx.info1_quiet("No storage entries registered");
        return 0;
    }
    ctx.info1_quiet("Storage entries:");
    for e in &filtered {
        ctx.verbose(&format!("{}\t{}\t{}", e.name, e.scheduler, e.host_path));
    }
    0
}

/// `storage:set <name> <property> [<value>]` (and the deprecated flags).
pub(crate) fn set(ctx: &mut Ctx, args: &[String]) -> Code {
    let dep = "[DEPRECATED] use 'storage:set <name> <property> <value>'";
    let mut spec: Vec<GoFlag> = SETTABLE
        .iter()
        .map(|p| GoFlag {
            name: p,
            value: Some("string"),
            usage: dep,
        })
        .collect();
    spec.push(GoFlag {
        name: "annotation",
        value: Some("strings"),
        usage: "--annotation key=value: [DEPRECATED] use 'storage:annotations:set'",
    });
    spec.push(GoFlag {
        name: "label",
        value: Some("strings"),
        usage: "--label key=value: [DEPRECATED] use 'storage:labels:set'",
    });
    let a = match parse(ctx, "storage:set", args, &spec) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let r = set_entry(ctx, &a);
    fail_with(ctx, r)
}

fn set_entry(ctx: &mut Ctx, a: &GoArgs) -> Result<(), String> {
    let name = arg(a, 0);
    let property = arg(a, 1);
    let mut changes: Vec<(String, String)> = SETTABLE
        .iter()
        .filter(|p| a.has(p))
        .map(|p| ((*p).to_owned(), a.get(p).unwrap_or_default().to_owned()))
        .collect();
    let map_flags = a.has("annotation") || a.has("label");
    let (mut annotations, mut labels) = (None, None);
    if map_flags {
        annotations = Some(kv_pairs(&a.slice("annotation"))?);
        labels = Some(kv_pairs(&a.slice("label"))?);
    }
    let used_flags = !changes.is_empty() || map_flags;
    if !property.is_empty() && used_flags {
        return Err("storage:set accepts either a property and a value or flags, not both".into());
    }
    if property.is_empty() && !used_flags {
        return Err("No property specified".into());
    }
    if used_flags {
        if !changes.is_empty() {
            ctx.warn(
                "Deprecated: please use 'storage:set <name> <property> [<value>]' instead of flags",
            );
        }
        if map_flags {
            ctx.warn("Deprecated: please use 'storage:annotations:set' and 'storage:labels:set' instead of --annotation and --label");
        }
    } else {
        changes.push((property, arg(a, 2)));
    }
    if !entry_exists(ctx, &name) {
        return Err(format!("storage entry \"{name}\" does not exist"));
    }
    let mut e = load_entry(ctx, &name)?;
    let mut touches_dir = false;
    for (p, v) in changes {
        match p.as_str() {
            "access-mode" if v != e.access_mode => {
                return Err(
                    "storage:set cannot change access-mode in place; recreate the entry".into(),
                )
            }
            "storage-class-name" if v != e.storage_class => {
                return Err(
                    "storage:set cannot change storage-class-name in place; recreate the entry"
                        .into(),
                )
            }
            "access-mode" | "storage-class-name" => {}
            "size" => e.size = v,
            "namespace" => e.namespace = v,
            "chown" => e.chown = v,
            "mode" => e.mode = normalize_mode(&v)?,
            "reclaim-policy" => e.reclaim_policy = v,
            "" => return Err("No property specified".into()),
            _ => {
                return Err(format!(
                    "Invalid property specified, valid properties include: {}",
                    SETTABLE.join(", ")
                ))
            }
        }
        touches_dir |= p == "chown" || p == "mode";
    }
    if let Some(m) = annotations {
        e.annotations = m;
    }
    if let Some(m) = labels {
        e.labels = m;
    }
    validate_entry(&e)?;
    save_entry(ctx, &mut e)?;
    if e.scheduler == DOCKER_LOCAL && touches_dir {
        ensure_docker_local_path(ctx, &e)?;
    }
    if e.scheduler == K3S {
        return Err(format!(
            "scheduler refused storage:set for \"{name}\": kubernetes not available"
        ));
    }
    ctx.info1(&format!("Storage entry {name} updated"));
    Ok(())
}

/// Annotations or labels.
#[derive(Clone, Copy)]
pub(crate) enum MapField {
    Annotations,
    Labels,
}

impl MapField {
    fn name(self) -> &'static str {
        match self {
            MapField::Annotations => "annotations",
            MapField::Labels => "labels",
        }
    }
    fn singular(self) -> &'static str {
        match self {
            MapField::Annotations => "annotation",
            MapField::Labels => "label",
        }
    }
    fn row_label(self) -> &'static str {
        match self {
            MapField::Annotations => "Annotation",
            MapField::Labels => "Label",
        }
    }
    fn get(self, e: &mut Entry) -> &mut BTreeMap<String, String> {
        match self {
            MapField::Annotations => &mut e.annotations,
            MapField::Labels => &mut e.labels,
        }
    }
}

/// `storage:annotations:set|labels:set <name> <key> [<value>]`.
pub(crate) fn map_set(ctx: &mut Ctx, field: MapField, args: &[String]) -> Code {
    let cmd = format!("storage:{}:set", field.name());
    let a = match parse(ctx, &cmd, args, &[]) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let (name, key, value) = (arg(&a, 0), arg(&a, 1), arg(&a, 2));
    if name.is_empty() {
        return ctx.fail("storage entry name is required");
    }
    if key.is_empty() {
        return ctx.fail(&format!("No {} key specified", field.singular()));
    }
    if !entry_exists(ctx, &name) {
        return ctx.fail(&format!("storage entry \"{name}\" does not exist"));
    }
    let mut e = match load_entry(ctx, &name) {
        Ok(e) => e,
        Err(e) => return ctx.fail(&e),
    };
    if value.is_empty() {
        field.get(&mut e).remove(&key);
        ctx.info2_quiet(&format!("Unsetting {} {key}", field.singular()));
    } else {
        field.get(&mut e).insert(key.clone(), value.clone());
        ctx.info2_quiet(&format!("Setting {} {key} to {value}", field.singular()));
    }
    let r = validate_entry(&e).and_then(|()| save_entry(ctx, &mut e));
    if let Err(err) = r {
        return ctx.fail(&err);
    }
    if e.scheduler == K3S {
        return ctx.fail(&format!(
            "scheduler refused {} change for \"{name}\": kubernetes not available",
            field.name()
        ));
    }
    0
}

/// `storage:annotations:report|labels:report [<name>] [--format] [<flag>]`.
pub(crate) fn map_report(ctx: &mut Ctx, field: MapField, args: &[String]) -> Code {
    let (rest, info) = match report_args(ctx, args) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let cmd = format!("storage:{}:report", field.name());
    let spec = [flag("format", "format: [ stdout | json ]")];
    let a = match parse(ctx, &cmd, &rest, &spec) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let format = a.get("format").unwrap_or("stdout").to_owned();
    let name = arg(&a, 0);
    if !matches!(format.as_str(), "stdout" | "text" | "json") {
        return ctx.fail(&format!("Invalid format: {format}"));
    }
    if format == "json" && !info.is_empty() {
        return ctx.fail("--format flag cannot be specified when specifying an info flag");
    }
    if !name.is_empty() {
        if !entry_exists(ctx, &name) {
            return ctx.fail(&format!("storage entry \"{name}\" does not exist"));
        }
        let mut e = match load_entry(ctx, &name) {
            Ok(e) => e,
            Err(e) => return ctx.fail(&e),
        };
        return render_map(ctx, field, &mut e, &format, &info);
    }
    if !info.is_empty() {
        return ctx.fail(&format!(
            "storage:{}:report requires a storage entry name when an info flag is specified",
            field.name()
        ));
    }
    let entries = match list_entries(ctx) {
        Ok(e) => e,
        Err(e) => return ctx.fail(&e),
    };
    if entries.is_empty() {
        ctx.info1_quiet("No storage entries registered");
        return 0;
    }
    for mut e in entries {
        let c = render_map(ctx, field, &mut e, &format, "");
        if c != 0 {
            return c;
        }
    }
    0
}

fn render_map(ctx: &mut Ctx, field: MapField, e: &mut Entry, format: &str, info: &str) -> Code {
    let name = e.name.clone();
    let values = field.get(e).clone();
    if !info.is_empty() {
        let prefix = format!("--storage-{}.", field.name());
        if let Some((_, v)) = values.iter().find(|(k, _)| format!("{prefix}{k}") == info) {
            ctx.io.out(&format!("{v}\n"));
            return 0;
        }
        let valid: Vec<String> = values.keys().map(|k| format!("{prefix}{k}")).collect();
        return ctx.fail(&format!(
            "Invalid flag passed, valid flags: {}",
            valid.join(", ")
        ));
    }
    if format == "json" {
        ctx.io.out(&format!("{}\n", go_compact(&values)));
        return 0;
    }
    ctx.info2_quiet(&format!("{name} {} information", field.name()));
    let label = |k: &str| format!("{} {k}:", field.row_label());
    let width = values
        .keys()
        .map(|k| label(k).chars().count())
        .max()
        .unwrap_or(0)
        .max(31);
    for (k, v) in &values {
        ctx.verbose(&format!("{}{v}", render::pad_chars(&label(k), width)));
    }
    0
}

/// `common.ParseReportArgs`: the arguments without `--<flag>`s, and the one
/// info flag (an error for two or more).
fn report_args(ctx: &mut Ctx, args: &[String]) -> Result<(Vec<String>, String), Code> {
    let mut rest = Vec::new();
    let mut info = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--format" {
            rest.push(a.clone());
            if let Some(v) = args.get(i + 1) {
                rest.push(v.clone());
            }
            i += 2;
            continue;
        }
        if a == "--global" {
            rest.push(a.clone());
        } else if a.starts_with("--") {
            info.push(a.clone());
        } else {
            rest.push(a.clone());
        }
        i += 1;
    }
    if info.len() > 1 {
        return Err(ctx.fail("storage:report command allows only a single flag"));
    }
    Ok((rest, info.pop().unwrap_or_default()))
}

/// `storage:ensure-directory [--chown option] <directory>`.
pub(crate) fn ensure_directory(ctx: &mut Ctx, args: &[String]) -> Code {
    let spec = [flag(
        "chown",
        "--chown: chown option (herokuish, heroku, paketo, root, false)",
    )];
    let a = match parse(ctx, "storage:ensure-directory", args, &spec) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let dir = arg(&a, 0);
    let chown = a.get("chown").unwrap_or("herokuish").to_owned();
    ctx.warn("Deprecated: please use 'storage:create' instead of 'storage:ensure-directory'");
    if dir.is_empty() {
        return ctx.fail("Please specify a directory to create");
    }
    if !dir
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return ctx
            .fail("Directory can only contain the following set of characters: [A-Za-z0-9_-]");
    }
    let id = match resolve_chown_id(ctx, &chown) {
        Ok(id) => id,
        Err(e) => return ctx.fail(&e),
    };
    let shown = default_host_path(&dir);
    ctx.info1(&format!("Ensuring {shown} exists"));
    if let Err(e) = std::fs::create_dir_all(real_path(ctx, &shown)) {
        return ctx.fail(&format!("Unable to create directory: {e}"));
    }
    if id != "false" && !ctx.quiet {
        ctx.verbose(&format!("Setting directory ownership to {id}:{id}"));
    }
    if !ctx.quiet {
        ctx.verbose("Directory ready for mounting");
    }
    0
}

/// The app's attachments for a phase: sorted by entry and container path
/// in 0.38, in mount order before.
fn attachments_for_phase(ctx: &Ctx, st: &state::AppState, phase: &str) -> Vec<Attachment> {
    let mut out: Vec<Attachment> = st
        .attachments
        .iter()
        .filter(|a| a.phases.iter().any(|p| p == phase))
        .cloned()
        .collect();
    if ctx.profile == Profile::V0_38 {
        out.sort_by(|a, b| {
            (a.entry_name.as_str(), a.container_path.as_str())
                .cmp(&(b.entry_name.as_str(), b.container_path.as_str()))
        });
    }
    out
}

/// `ListAppMountEntries`.
fn list_rows(
    ctx: &Ctx,
    app: &str,
    st: &state::AppState,
    phase: &str,
) -> Result<Vec<ListRow>, String> {
    attachments_for_phase(ctx, st, phase)
        .into_iter()
        .map(|a| {
            let e = load_entry(ctx, &a.entry_name).map_err(|err| {
                format!(
                    "attachment on \"{app}\" references missing entry \"{}\": {err}",
                    a.entry_name
                )
            })?;
            Ok(ListRow {
                entry_name: e.name.clone(),
                host_path: if e.host_path.is_empty() {
                    e.name.clone()
                } else {
                    e.host_path.clone()
                },
                container_path: a.container_path.clone(),
                readonly: a.readonly,
                volume_options: a.volume_options.clone(),
            })
        })
        .collect()
}

/// `storage:mount <app> <host:container[:opts]> | <entry> --container-dir D [flags]`.
pub(crate) fn mount(ctx: &mut Ctx, args: &[String]) -> Code {
    let spec = [
        flag(
            "container-dir",
            "--container-dir: container path (named-entry form)",
        ),
        GoFlag {
            name: "phase",
            value: Some("strings"),
            usage: "--phase: phase to mount in (deploy, run; default both)",
        },
        flag("process-type", "--process-type: process type to mount for"),
        flag(
            "volume-subpath",
            "--volume-subpath: subpath within the entry",
        ),
        bool_flag(
            "volume-readonly",
            "--volume-readonly: mount the volume read-only",
        ),
        flag(
            "volume-chown",
            "--volume-chown: chown option applied at mount time",
        ),
        flag(
            "volume-options",
            "--volume-options: comma-separated mount options (e.g. Z, noexec,nosuid)",
        ),
    ];
    let a = if ctx.profile == Profile::V0_38 {
        match parse(ctx, "storage:mount", args, &spec) {
            Ok(a) => a,
            Err(c) => return c,
        }
    } else {
        GoArgs {
            positional: args.to_vec(),
            ..GoArgs::default()
        }
    };
    let (app, target) = (arg(&a, 0), arg(&a, 1));
    if ctx.profile != Profile::V0_38 && (app.is_empty() || target.is_empty()) {
        return ctx.fail("Please specify an app and a mount path (host-path:container-path)");
    }
    let mut st = match ctx.load_app(&app) {
        Ok(s) => s,
        Err(c) => return c,
    };
    if target.contains(':') || ctx.profile != Profile::V0_38 {
        if let Err(e) = verify_paths(&target) {
            return ctx.fail(&e);
        }
        let parsed = parse_mount_path(&target);
        if parsed.container_path.is_empty() {
            return ctx.fail("Storage path must be two valid paths divided by colon.");
        }
        let name = legacy_entry_name(&parsed.host_path);
        if !entry_exists(ctx, &name) {
            let mut e = Entry {
                name: name.clone(),
                scheduler: DOCKER_LOCAL.into(),
                host_path: parsed.host_path.clone(),
                schema_version: 1,
                ..Entry::default()
            };
            if let Err(e) = save_entry(ctx, &mut e) {
                return ctx.fail(&e);
            }
        }
        let att = Attachment {
            entry_name: name,
            container_path: parsed.container_path.clone(),
            phases: vec!["deploy".into(), "run".into()],
            process_type: DEFAULT_PROCESS_TYPE.into(),
            readonly: parsed.readonly,
            volume_options: parsed.volume_options.clone(),
            ..Attachment::default()
        };
        if st.attachments.iter().any(|x| same_slot(x, &att)) {
            return ctx.fail("Mount path already exists.");
        }
        st.attachments.push(att);
        return match ctx.save_app(&app, &st) {
            Ok(()) => 0,
            Err(c) => c,
        };
    }
    if !entry_exists(ctx, &target) {
        return ctx.fail(&format!("storage entry \"{target}\" does not exist; create it first with `dokku storage:create`"));
    }
    let container_dir = a.get("container-dir").unwrap_or_default().to_owned();
    if container_dir.is_empty() {
        return ctx.fail("--container-dir is required when mounting a named storage entry");
    }
    let mut phases = a.slice("phase");
    if phases.is_empty() {
        phases = vec!["deploy".into(), "run".into()];
    }
    let process_type = a
        .get("process-type")
        .filter(|p| !p.is_empty())
        .unwrap_or(DEFAULT_PROCESS_TYPE)
        .to_owned();
    let att = Attachment {
        entry_name: target.clone(),
        container_path: container_dir.clone(),
        phases,
        process_type,
        subpath: a.get("volume-subpath").unwrap_or_default().to_owned(),
        readonly: a.get("volume-readonly") == Some("true"),
        volume_options: a.get("volume-options").unwrap_or_default().to_owned(),
        volume_chown: a.get("volume-chown").unwrap_or_default().to_owned(),
    };
    if let Err(e) = validate_attachment(&att) {
        return ctx.fail(&e);
    }
    let created = match st.attachments.iter_mut().find(|x| same_slot(x, &att)) {
        Some(existing) => {
            *existing = att;
            false
        }
        None => {
            st.attachments.push(att);
            true
        }
    };
    if let Err(c) = ctx.save_app(&app, &st) {
        return c;
    }
    if created {
        ctx.info1(&format!(
            "Storage entry {target} mounted at {container_dir} on {app}"
        ));
    } else {
        ctx.info1(&format!(
            "Storage entry {target} mount at {container_dir} on {app} updated"
        ));
    }
    0
}

fn same_slot(a: &Attachment, b: &Attachment) -> bool {
    a.entry_name == b.entry_name
        && a.container_path == b.container_path
        && a.process_type == b.process_type
}

/// `Attachment.Validate`.
fn validate_attachment(a: &Attachment) -> Result<(), String> {
    if !a.container_path.starts_with('/') {
        return Err(format!(
            "attachment container path \"{}\" must be absolute",
            a.container_path
        ));
    }
    for p in &a.phases {
        if p != "deploy" && p != "run" {
            return Err(format!(
                "attachment phase \"{p}\" is not supported (must be \"deploy\" or \"run\")"
            ));
        }
    }
    Ok(())
}

/// `storage:unmount <app> <host:container> | <entry> [--container-dir D]`.
pub(crate) fn unmount(ctx: &mut Ctx, args: &[String]) -> Code {
    let spec = [flag(
        "container-dir",
        "--container-dir: container path (named-entry form, disambiguates duplicates)",
    )];
    let a = if ctx.profile == Profile::V0_38 {
        match parse(ctx, "storage:unmount", args, &spec) {
            Ok(a) => a,
            Err(c) => return c,
        }
    } else {
        GoArgs {
            positional: args.to_vec(),
            ..GoArgs::default()
        }
    };
    let (app, target) = (arg(&a, 0), arg(&a, 1));
    if ctx.profile != Profile::V0_38 && (app.is_empty() || target.is_empty()) {
        return ctx.fail("Please specify an app and a mount path (host-path:container-path)");
    }
    let mut st = match ctx.load_app(&app) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let legacy = target.contains(':') || ctx.profile != Profile::V0_38;
    let (entry, dir) = if legacy {
        if let Err(e) = verify_paths(&target) {
            return ctx.fail(&e);
        }
        let parsed = parse_mount_path(&target);
        if parsed.container_path.is_empty() {
            return ctx.fail("Storage path must be two valid paths divided by colon.");
        }
        (legacy_entry_name(&parsed.host_path), parsed.container_path)
    } else {
        (
            target.clone(),
            a.get("container-dir").unwrap_or_default().to_owned(),
        )
    };
    let matches =
        |x: &Attachment| x.entry_name == entry && (dir.is_empty() || x.container_path == dir);
    let mut found: Vec<String> = st
        .attachments
        .iter()
        .filter(|x| matches(x))
        .map(|x| x.container_path.clone())
        .collect();
    if found.is_empty() {
        if legacy {
            return ctx.fail("Mount path does not exist.");
        }
        return if dir.is_empty() {
            ctx.fail(&format!(
                "storage entry \"{entry}\" is not mounted on app \"{app}\""
            ))
        } else {
            ctx.fail(&format!(
                "storage entry \"{entry}\" is not mounted at \"{dir}\" on app \"{app}\""
            ))
        };
    }
    if found.len() > 1 && dir.is_empty() {
        found.sort();
        return ctx.fail(&format!("storage entry \"{entry}\" is mounted at multiple paths on app \"{app}\" ({}); pass --container-dir to disambiguate", found.join(", ")));
    }
    st.attachments.retain(|x| !matches(x));
    match ctx.save_app(&app, &st) {
        Ok(()) => 0,
        Err(c) => c,
    }
}

/// `storage:list <app> [--format text|json]`.
pub(crate) fn list(ctx: &mut Ctx, args: &[String]) -> Code {
    let spec = [flag("format", "--format: output format (text, json)")];
    let (app, format) = if ctx.profile == Profile::V0_38 {
        let a = match parse(ctx, "storage:list", args, &spec) {
            Ok(a) => a,
            Err(c) => return c,
        };
        (arg(&a, 0), a.get("format").unwrap_or("text").to_owned())
    } else {
        let json = args
            .windows(2)
            .any(|w| w[0] == "--format" && w[1] == "json");
        let app = args.iter().find(|a| !a.starts_with("--")).cloned();
        (
            app.unwrap_or_default(),
            if json { "json" } else { "text" }.to_owned(),
        )
    };
    let st = match ctx.load_app(&app) {
        Ok(s) => s,
        Err(c) => return c,
    };
    if format != "text" && format != "json" {
        return ctx.fail("Invalid --format value specified");
    }
    let rows = match list_rows(ctx, &app, &st, "deploy") {
        Ok(r) => r,
        Err(e) => return ctx.fail(&e),
    };
    if format == "json" {
        let text = if ctx.profile == Profile::V0_38 {
            go_compact(&rows)
        } else {
            let list: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    let c = r.colon();
                    let opts = c.splitn(3, ':').nth(2).unwrap_or_default().to_owned();
                    serde_json::json!({
                        "host_path": r.host_path,
                        "container_path": r.container_path,
                        "volume_options": opts,
                    })
                })
                .collect();
            serde_json::Value::from(list).to_string()
        };
        ctx.io.out(&format!("{text}\n"));
        return 0;
    }
    ctx.info1_quiet(&format!("{app} volume bind-mounts:"));
    for r in &rows {
        if ctx.quiet {
            ctx.io.out(&format!("{}\n", r.colon()));
        } else {
            ctx.verbose(&r.colon());
        }
    }
    0
}

/// `-v host:container[:opts]` of a phase, space-joined.
fn display_mounts(ctx: &Ctx, app: &str, st: &state::AppState, phase: &str) -> String {
    list_rows(ctx, app, st, phase)
        .map(|rows| {
            rows.iter()
                .map(|r| format!("-v {}", r.colon()))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// `storage:report [<app>|--global] [--format stdout|json] [<flag>]`.
pub(crate) fn report(ctx: &mut Ctx, args: &[String]) -> Code {
    if args.iter().any(|a| a == "--global") {
        let (rest, _) = match report_args(ctx, args) {
            Ok(x) => x,
            Err(c) => return c,
        };
        let json = rest
            .windows(2)
            .any(|w| w[0] == "--format" && w[1] == "json");
        return report_global(ctx, json);
    }
    reports::go_report_with(
        ctx,
        args,
        "storage",
        (Some("storage"), true),
        &mut |ctx, app| match app {
            Some((name, st)) => report_rows(ctx, name, st),
            None => Vec::new(),
        },
    )
}

/// The rows of an app's storage report (`ReportSingleApp`).
pub(crate) fn report_rows(ctx: &mut Ctx, app: &str, st: &state::AppState) -> Vec<(String, String)> {
    let mut rows = vec![
        (
            "--storage-build-mounts".to_owned(),
            display_mounts(ctx, app, st, "build"),
        ),
        (
            "--storage-deploy-mounts".to_owned(),
            display_mounts(ctx, app, st, "deploy"),
        ),
        (
            "--storage-run-mounts".to_owned(),
            display_mounts(ctx, app, st, "run"),
        ),
    ];
    let mut index = 0;
    for att in &st.attachments {
        let e = match load_entry(ctx, &att.entry_name) {
            Ok(e) => e,
            Err(err) => {
                ctx.warn(&format!(
                    "Skipping attachment on \"{app}\": missing entry \"{}\" ({err})",
                    att.entry_name
                ));
                continue;
            }
        };
        index += 1;
        let p = format!("--storage-attachment.{index}.");
        let host = if e.host_path.is_empty() {
            e.name.clone()
        } else {
            e.host_path.clone()
        };
        for (k, v) in [
            ("entry-name", att.entry_name.clone()),
            ("host-path", host),
            ("container-path", att.container_path.clone()),
            ("phases", att.phases.join(",")),
            ("process-type", att.process_type.clone()),
            ("subpath", att.subpath.clone()),
            ("readonly", att.readonly.to_string()),
            ("volume-options", att.volume_options.clone()),
            ("volume-chown", att.volume_chown.clone()),
        ] {
            rows.push((format!("{p}{k}"), v));
        }
    }
    rows
}

/// `CommandReportGlobal`: every entry and the apps that mount it.
fn report_global(ctx: &mut Ctx, json: bool) -> Code {
    let entries = match list_entries(ctx) {
        Ok(e) => e,
        Err(e) => return ctx.fail(&e),
    };
    #[derive(Serialize)]
    struct Row {
        entry: Entry,
        mounted_by: Vec<String>,
    }
    let rows: Vec<Row> = entries
        .into_iter()
        .map(|e| {
            let mounted_by = apps_using(ctx, &e.name);
            Row {
                entry: e,
                mounted_by,
            }
        })
        .collect();
    if json {
        ctx.io.out(&format!("{}\n", go_pretty(&rows)));
        return 0;
    }
    if rows.is_empty() {
        ctx.info1_quiet("No storage entries registered");
        return 0;
    }
    ctx.info1_quiet("Storage report (global):");
    for r in &rows {
        let by = if r.mounted_by.is_empty() {
            "—".to_owned()
        } else {
            r.mounted_by.join(", ")
        };
        ctx.verbose(&format!(
            "{}\t{}\tmounted by: {by}",
            r.entry.name, r.entry.scheduler
        ));
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_and_legacy_names() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        let n = legacy_entry_name("/tmp/mount");
        assert!(n.starts_with("legacy-") && n.len() == 17, "{n}");
        assert_ne!(legacy_entry_name("vol"), legacy_entry_name("/vol"));
    }

    #[test]
    fn entry_names_and_modes() {
        assert!(validate_entry_name("rdmtest-entry", false).is_ok());
        for bad in ["rdm_x", "Rdm", "-a", "a-", "legacy-foo", &"a".repeat(46)] {
            assert!(validate_entry_name(bad, false).is_err(), "{bad}");
        }
        assert!(validate_entry_name("legacy-foo", true).is_ok());
        assert_eq!(normalize_mode("755").unwrap(), "0755");
        assert_eq!(normalize_mode("0770").unwrap(), "0770");
        assert!(normalize_mode("0888")
            .unwrap_err()
            .starts_with("Unsupported directory mode"));
        assert!(normalize_mode("u+rwx").is_err());
    }

    #[test]
    fn entry_rules_per_scheduler() {
        let e = Entry {
            name: "x".into(),
            scheduler: K3S.into(),
            size: "1Gi".into(),
            mode: "0777".into(),
            ..Entry::default()
        };
        assert!(validate_entry(&e)
            .unwrap_err()
            .contains("does not accept --mode"));
        let e = Entry {
            name: "x".into(),
            scheduler: DOCKER_LOCAL.into(),
            host_path: "/tmp/x".into(),
            reclaim_policy: "Delete".into(),
            ..Entry::default()
        };
        assert!(validate_entry(&e)
            .unwrap_err()
            .contains("default host path"));
        let ok = Entry {
            host_path: default_host_path("x"),
            ..e
        };
        assert!(validate_entry(&ok).is_ok());
    }

    #[test]
    fn mount_paths_and_json_shapes() {
        assert!(verify_paths("/tmp/a:/b").is_ok());
        assert!(verify_paths("vol_1:/b").is_ok());
        assert!(verify_paths("/tmp/a").is_err());
        assert!(verify_paths("v:/b").unwrap_err().starts_with("Volume name"));
        let r = parse_mount_path("/a:/b:ro,Z");
        assert!(r.readonly);
        assert_eq!(
            (r.volume_options.as_str(), r.colon()),
            ("Z", "/a:/b:ro,Z".into())
        );
        let plain = parse_mount_path("/a:/b");
        assert_eq!(
            go_compact(&plain),
            r#"{"host_path":"/a","container_path":"/b"}"#
        );
        let e = Entry {
            name: "n".into(),
            scheduler: DOCKER_LOCAL.into(),
            host_path: "/p".into(),
            schema_version: 1,
            ..Entry::default()
        };
        assert_eq!(
            go_pretty(&e),
            "{\n  \"name\": \"n\",\n  \"scheduler\": \"docker-local\",\n  \"host_path\": \"/p\",\n  \"schema_version\": 1\n}"
        );
    }
}
