//! # pix-ops
//!
//! PIX's Dokku workflows composed from [`dokku_client`]: the safe database
//! reset, backups and restores, deploys and review apps.

pub mod config;
pub mod error;

pub use config::{Environment, HostOverrides, PixConfig};
pub use error::{OpsError, Result};
pub mod backup;
pub mod journal;
