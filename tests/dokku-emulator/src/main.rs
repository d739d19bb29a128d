//! The Dokku emulator binary (the sandbox's forced command).
//!
//! `dokku-emulator --root DIR [ARGS...]` (or `DOKKU_EMULATOR_ROOT`): with no
//! ARGS the command comes from `SSH_ORIGINAL_COMMAND`, split as the modelled
//! Dokku version does. See the `dokku_emulator` library.

fn main() {
    std::process::exit(dokku_emulator::main_from_env());
}
