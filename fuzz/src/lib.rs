//! cargo-fuzz targets for dokku-client. Every target is a thin wrapper
//! around one function of [`harness`], which `tests/tests/security_fuzz_corpus.rs`
//! also compiles (`#[path]`) to replay the committed corpus in CI.

pub mod harness;
