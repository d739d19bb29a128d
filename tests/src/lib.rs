//! The local Dokku sandbox and the Dokku emulator.

pub use dokku_emulator::contract;
pub mod corpus;
pub mod e2e;
/// The Dokku emulator (the `dokku-emulator` crate).
pub use dokku_emulator as emulator;
pub mod proxy;
pub mod sandbox;
pub mod scenario;
pub mod target;
