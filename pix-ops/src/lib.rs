//! # pix-ops
//!
//! PIX's Dokku workflows composed from [`dokku_client`].
