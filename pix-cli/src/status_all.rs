//! `pix status --all`: the status table of every host (which hosts:
//! [`crate::context::host_targets`]), one connection each, a host that
//! does not answer reported below the table while the others are still
//! shown.

use pix_ops::hosts::{for_each_host, PerHost};
use pix_ops::status::{status_rows, AppStatus};

use crate::context::{host_targets, Ctx};
use crate::exit::{first_failure_code, Failure};
use crate::render::{status_cells, STATUS_HEADERS};

/// The `status --all` table (pure): a HOST column before the status
/// columns, then one line per host that did not answer.
pub fn render_all(
    results: &[PerHost<Vec<AppStatus>>],
) -> (Vec<&'static str>, Vec<Vec<String>>, Vec<String>) {
    let headers: Vec<&'static str> = std::iter::once("HOST").chain(STATUS_HEADERS).collect();
    let mut rows = Vec::new();
    let mut unreachable = Vec::new();
    for r in results {
        match &r.result {
            Ok(apps) => rows.extend(apps.iter().map(|a| {
                let mut cells = vec![r.host.clone()];
                cells.extend(status_cells(a));
                cells
            })),
            Err(e) => {
                unreachable.push(format!("host {} ({}): not reached: {e}", r.host, r.address))
            }
        }
    }
    (headers, rows, unreachable)
}

/// `pix status --all`.
pub async fn status_all(ctx: &Ctx) -> Result<(), Failure> {
    let (_, list) = host_targets(ctx)?;
    let results = for_each_host(list, &ctx.connect_options(), |_target, client| async move {
        status_rows(&client).await
    })
    .await;
    if ctx.out.json {
        ctx.out.json(&results)?;
    } else {
        let (headers, rows, unreachable) = render_all(&results);
        ctx.out.table(&headers, &rows)?;
        for line in unreachable {
            ctx.out.line(&ctx.out.server_text(&line))?;
        }
    }
    match first_failure_code(&results) {
        Some(code) => Err(Failure::Exit(code)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_a_host_column_and_reports_unreachable_hosts() {
        let row = AppStatus {
            app: "api".into(),
            deployed: Some(true),
            running: Some("true".into()),
            processes: Some(1),
            locked: Some(false),
            databases: vec!["pg".into()],
            urls: vec![],
        };
        let results = vec![
            PerHost {
                host: "a".into(),
                address: "a.example".into(),
                result: Err(pix_ops::OpsError::Precondition {
                    message: "down".into(),
                }),
            },
            PerHost {
                host: "b".into(),
                address: "b.example".into(),
                result: Ok(vec![row]),
            },
        ];
        let (headers, rows, unreachable) = render_all(&results);
        assert_eq!(headers[0], "HOST");
        assert_eq!(headers.len(), STATUS_HEADERS.len() + 1);
        assert_eq!(
            rows,
            vec![vec!["b", "api", "yes", "yes", "1", "no", "pg", ""]]
        );
        assert_eq!(unreachable, vec!["host a (a.example): not reached: down"]);
        assert_eq!(first_failure_code(&results), Some(crate::exit::REMOTE));
    }
}
