//! Name rules checked before anything is sent.
//!
//! Every resource module validates the names it puts on a command line with
//! these checks, so a bad name is an [`Error::InvalidName`] on this side,
//! never a command the server reads differently.
//!
//! ```
//! use dokku_client::names::validate_app_name;
//! assert!(validate_app_name("staging.web-1").is_ok());
//! assert!(validate_app_name("My_App").is_err());
//! ```

use crate::error::{Error, Result};

/// Checks an app name against Dokku's rule `^[a-z0-9][a-z0-9.-]*$`.
pub fn validate_app_name(app: &str) -> Result<()> {
    let mut chars = app.chars();
    let ok = matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidName {
            name: app.to_string(),
            message: "app names must start with a lowercase letter or digit and contain only lowercase letters, digits, dots and hyphens (^[a-z0-9][a-z0-9.-]*$)".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        assert!(validate_app_name("my-app.1").is_ok());
        for bad in ["", "My_App", "-x", "a b", "a;b", ".a"] {
            assert!(
                matches!(validate_app_name(bad), Err(Error::InvalidName { .. })),
                "{bad}"
            );
        }
    }
}
