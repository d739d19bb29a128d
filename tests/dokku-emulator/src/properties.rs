//! Plugin properties, as Dokku's Go `common` package keeps them
//! (`PropertyGet`/`PropertyWrite`/`PropertyDelete` under
//! `/var/lib/dokku/config/<plugin>/<app|--global>/<property>`): here a
//! `plugin → property → value` map in the app's state and in the global
//! settings. [`command_property_set`] is `common.CommandPropertySet`: the
//! `<plugin>:set` of every Go plugin that has one.

use std::collections::BTreeMap;

use super::{state, Code, Ctx};

/// `plugin → property → value`.
pub type Properties = BTreeMap<String, BTreeMap<String, String>>;

/// Every property of an app (`--global`: the global ones).
fn of(ctx: &Ctx, app: &str) -> Properties {
    if app == "--global" {
        ctx.settings().properties
    } else {
        state::read_json::<state::AppState>(&ctx.layout.app_file(app))
            .map(|s| s.properties)
            .unwrap_or_default()
    }
}

/// The checks and the message of a bash plugin's `<plugin>:set <app> <key>
/// [<value>]` (as `plugins/git/subcommands/set` and
/// `plugins/builder-herokuish/subcommands/set` do): a key is required and
/// must be one of `valid`; then `Setting`/`Unsetting`.
pub(crate) fn check_bash_set(
    ctx: &mut Ctx,
    valid: &[&str],
    key: &str,
    value: &str,
) -> Result<(), Code> {
    if key.is_empty() {
        return Err(ctx.fail("No key specified"));
    }
    if !valid.contains(&key) {
        return Err(ctx.fail(&format!(
            "Invalid key specified, valid keys include: {}",
            valid.join(", ")
        )));
    }
    if value.is_empty() {
        ctx.info2_quiet(&format!("Unsetting {key}"));
    } else {
        ctx.info2_quiet(&format!("Setting {key} to {value}"));
    }
    Ok(())
}

/// The value of an app's property (`--global`: the global one); empty when
/// unset.
pub(crate) fn get(ctx: &Ctx, plugin: &str, app: &str, property: &str) -> String {
    let props = of(ctx, app);
    props
        .get(plugin)
        .and_then(|m| m.get(property))
        .cloned()
        .unwrap_or_default()
}

/// `PropertyGetDefault`: `default` only when the property was never
/// written (a written empty value stays empty).
pub(crate) fn get_default(
    ctx: &Ctx,
    plugin: &str,
    app: &str,
    property: &str,
    default: &str,
) -> String {
    let props = of(ctx, app);
    props
        .get(plugin)
        .and_then(|m| m.get(property))
        .cloned()
        .unwrap_or_else(|| default.to_string())
}

/// The app's value, else the global one, else `default`.
pub(crate) fn computed(
    ctx: &Ctx,
    plugin: &str,
    app: &str,
    property: &str,
    default: &str,
) -> String {
    let v = get(ctx, plugin, app, property);
    if !v.is_empty() {
        return v;
    }
    let g = get(ctx, plugin, "--global", property);
    if !g.is_empty() {
        return g;
    }
    default.to_string()
}

/// Writes (non-empty value) or deletes (empty) a property.
pub(crate) fn write(
    ctx: &mut Ctx,
    plugin: &str,
    app: &str,
    property: &str,
    value: &str,
) -> Result<(), Code> {
    store(ctx, plugin, app, property, value, value.is_empty())
}

/// `fn-plugin-property-write` of a possibly empty value (kept, not
/// deleted).
pub(crate) fn write_kept(
    ctx: &mut Ctx,
    plugin: &str,
    app: &str,
    property: &str,
    value: &str,
) -> Result<(), Code> {
    store(ctx, plugin, app, property, value, false)
}

fn store(
    ctx: &mut Ctx,
    plugin: &str,
    app: &str,
    property: &str,
    value: &str,
    delete: bool,
) -> Result<(), Code> {
    let apply = |props: &mut Properties| {
        let m = props.entry(plugin.to_string()).or_default();
        if delete {
            m.remove(property);
        } else {
            m.insert(property.to_string(), value.to_string());
        }
    };
    if app == "--global" {
        let mut s = ctx.settings();
        apply(&mut s.properties);
        state::write_json(&ctx.layout.global_settings_file(), &s)
            .map_err(|e| ctx.fail(&format!("cannot save the global properties: {e}")))
    } else {
        let mut st = ctx.load_app(app)?;
        apply(&mut st.properties);
        ctx.save_app(app, &st)
    }
}

/// `common.CommandPropertySet`: the app must exist (unless `--global`), a
/// global property must be one of `globals`, the property must be one of
/// `defaults` or `globals`; a value sets it (`=====> Setting P to V`), none
/// unsets it (`=====> Unsetting P`).
pub(crate) fn command_property_set(
    ctx: &mut Ctx,
    plugin: &str,
    app: &str,
    property: &str,
    value: &str,
    defaults: &[&str],
    globals: &[&str],
) -> Code {
    if app != "--global" {
        if let Err(c) = ctx.load_app(app) {
            return c;
        }
    }
    if app == "--global" && !globals.contains(&property) {
        return ctx.fail("Property cannot be specified globally");
    }
    if property.is_empty() {
        return ctx.fail("No property specified");
    }
    let mut valid: Vec<&str> = defaults.iter().chain(globals).copied().collect();
    valid.sort_unstable();
    valid.dedup();
    if !valid.contains(&property) {
        return ctx.fail(&format!(
            "Invalid property specified, valid properties include: {}",
            valid.join(", ")
        ));
    }
    if value.is_empty() {
        ctx.info2_quiet(&format!("Unsetting {property}"));
    } else {
        ctx.info2_quiet(&format!("Setting {property} to {value}"));
    }
    match write(ctx, plugin, app, property, value) {
        Ok(()) => 0,
        Err(c) => c,
    }
}

/// `PropertyGetAll`: every property of a plugin for an app (`--global`:
/// the global ones).
pub(crate) fn all(ctx: &Ctx, plugin: &str, app: &str) -> BTreeMap<String, String> {
    let props = of(ctx, app);
    props.get(plugin).cloned().unwrap_or_default()
}
