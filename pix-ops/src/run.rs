//! `pix run`: what a run's non-zero exit means.

use dokku_client::Client;

use crate::error::Result;

/// After `run APP ...` exited with `code`: a non-zero exit is the
/// command's own, or Dokku's for a missing app (20, or 1 before 0.24), which
/// the exit code alone cannot tell apart. Asks `apps:exists`, so a missing
/// app is the error it is ([`dokku_client::Error::app_not_found`]); `Ok`
/// otherwise (the exit code is the command's).
pub async fn check_app_after_exit(client: &Client, app: &str, code: i32) -> Result<()> {
    if code != 0 && !client.apps_exists(app).await? {
        return Err(dokku_client::Error::app_not_found(app).into());
    }
    Ok(())
}
