//! The `pix` command.

use clap::{Parser, Subcommand};

mod parse_cmd;

/// PIX's Dokku operations, for people and for scripts.
#[derive(Debug, Parser)]
#[command(name = "pix", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Debug, Subcommand)]
enum Commands {
    /// Parse a Dokku command's output (stdout on stdin) into JSON.
    ///
    /// Example: `dokku apps:report myapp | pix parse -- apps:report myapp`
    Parse(parse_cmd::ParseArgs),
}

fn main() {
    let cli = Cli::parse();
    let code = match &cli.command {
        Commands::Parse(args) => match parse_cmd::run(args) {
            Ok(code) => code,
            Err(message) => {
                eprintln!("pix parse: {message}");
                1
            }
        },
    };
    std::process::exit(code);
}
