//! The `pix` command.

fn main() {
    println!("pix {}", env!("CARGO_PKG_VERSION"));
}
