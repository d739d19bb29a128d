//! The local Dokku sandbox and the Dokku emulator.

pub mod contract;
