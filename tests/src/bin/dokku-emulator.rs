//! The Dokku emulator binary (the sandbox's forced command).

fn main() {
    std::process::exit(1);
}
