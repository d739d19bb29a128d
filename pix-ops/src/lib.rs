//! # pix-ops
//!
//! PIX's Dokku workflows composed from [`dokku_client`]: the safe database
//! reset, backups and restores, deploys and review apps.

pub mod backup;
pub mod config;
pub mod confirm;
pub mod connect;
pub mod deploy;
pub mod error;
pub mod git;
pub mod hosts;
pub mod journal;
pub mod lineage;
pub mod logs;
pub mod progress;
pub mod provision;
pub mod push;
pub mod release;
pub mod releases;
pub mod remote;
pub mod remote_hosts;
pub mod reset;
pub mod review;
pub mod run;
pub mod select;
pub mod status;
pub mod trust;

pub use config::{Environment, HostOverrides, PixConfig};
pub use error::{OpsError, Result};
