//! `cargo xtask`: the project's automation.

fn main() {
    eprintln!("xtask: not yet");
}
