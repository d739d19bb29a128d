//! Release (in progress).
