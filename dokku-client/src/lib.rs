//! # dokku-client
//!
//! A typed async client for [Dokku](https://dokku.com) over SSH.
//!
//! (Crate documentation is being written.)

pub mod client;
pub mod command;
pub mod error;
pub mod output;
pub mod parse;
pub mod transport;
pub mod version;

pub use client::{Client, ClientBuilder, RetryPolicy};
pub use command::{Arg, Command, Effect, SplitRule};
pub use error::{Error, ErrorSummary, Result};
pub use output::Output;
pub use transport::{Request, Stdin, Stdout, Transport};
pub use version::{Capabilities, DokkuVersion};
