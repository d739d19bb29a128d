//! The local Dokku sandbox and the Dokku emulator.
