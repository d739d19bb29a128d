//! `builder-herokuish:set` (Dokku's `plugins/builder-herokuish`,
//! `subcommands/set`): the `allowed` property, app or `--global`. Its one
//! reader, the `builder-herokuish-allowed` trigger, matters on arm64 hosts
//! only; the emulator keeps it as state.

use super::{properties, Code, Ctx};

/// `builder-herokuish:set <app>|--global <key> [<value>]`.
pub(crate) fn set(ctx: &mut Ctx, args: &[String]) -> Code {
    const VALID: &[&str] = &["allowed"];
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    let (app, key, value) = (arg(0), arg(1), arg(2));
    if app != "--global" {
        if let Err(c) = ctx.load_app(&app) {
            return c;
        }
    }
    if let Err(c) = properties::check_bash_set(ctx, VALID, &key, &value) {
        return c;
    }
    match properties::write(ctx, "builder-herokuish", &app, &key, &value) {
        Ok(()) => 0,
        Err(c) => c,
    }
}
