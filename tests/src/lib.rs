//! The local Dokku sandbox and the Dokku emulator.

pub mod contract;
pub mod corpus;
pub mod e2e;
pub mod emulator;
pub mod proxy;
pub mod sandbox;
pub mod scenario;
pub mod target;
