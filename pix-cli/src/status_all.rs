//! Several hosts at once: which hosts of pix.toml a command reaches
//! ([`host_targets`], shared with `pix provision`), and `pix status --all`:
//! the status table of every host, one connection each, a host that does
//! not answer reported below the table while the others are still shown.

use clap::Args;
use pix_ops::config::HostOverrides;
use pix_ops::hosts::{for_each_host, targets, HostTarget, PerHost};
use pix_ops::PixConfig;

use crate::context::Ctx;
use crate::exit::{self, Failure};
use crate::misc::{status_cells, STATUS_HEADERS};
use pix_ops::status::{status_rows, AppStatus};

/// `pix status`.
#[derive(Debug, Args, Clone, Default)]
pub struct StatusArgs {
    /// Every host of pix.toml at once (one connection each), with a HOST
    /// column.
    #[arg(long)]
    pub all: bool,
}

/// Which hosts of `config` the flags select (pure): `--host NAME` (a host
/// of pix.toml) picks that one; otherwise every host. An address given by
/// `--host`/`DOKKU_HOST` (or a port by `--port`/`DOKKU_PORT`) overrides
/// the host's only when one host is selected: several hosts cannot share
/// one address.
pub fn select_targets(
    config: &PixConfig,
    host_flag: Option<&str>,
    overrides: &HostOverrides,
    user: Option<&str>,
) -> Result<Vec<HostTarget>, Failure> {
    let named = host_flag.filter(|h| config.hosts.contains_key(*h));
    let (only, overrides) = match named {
        Some(name) => (
            vec![name.to_string()],
            HostOverrides {
                host: None,
                port: overrides.port,
            },
        ),
        None => (Vec::new(), overrides.clone()),
    };
    let mut list = targets(config, &HostOverrides::default(), &only)?;
    if list.is_empty() {
        return Err(Failure::usage(format!(
            "the pix.toml in {} names no host; add a [hosts.NAME] table",
            config.base_dir.display()
        )));
    }
    let overriding = overrides.host.is_some() || overrides.port.is_some();
    if overriding && list.len() > 1 {
        return Err(Failure::usage(format!(
            "--host/DOKKU_HOST or --port/DOKKU_PORT gives one address, but pix.toml names {} hosts ({}); pass --host NAME to pick one of them",
            list.len(),
            list.iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    for t in &mut list {
        if let Some(a) = &overrides.host {
            t.host.address = a.clone();
        }
        if let Some(p) = overrides.port {
            t.host.port = Some(p);
        }
        if let Some(u) = user {
            t.host.user = u.to_string();
        }
    }
    Ok(list)
}

/// The hosts the command line selects ([`select_targets`]) and pix.toml.
pub fn host_targets(ctx: &Ctx) -> Result<(PixConfig, Vec<HostTarget>), Failure> {
    let (config, overrides) = ctx.config_and_overrides()?;
    let list = select_targets(
        &config,
        ctx.g.host.as_deref(),
        &overrides,
        ctx.g.user.as_deref(),
    )?;
    Ok((config, list))
}

/// The exit code of the first host that failed, if any.
pub fn first_failure_code<T>(results: &[PerHost<T>]) -> Option<i32> {
    results
        .iter()
        .find_map(|r| r.result.as_ref().err().map(exit::ops_code))
}

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

    fn config(text: &str) -> PixConfig {
        PixConfig::parse(
            text,
            std::path::Path::new("/r"),
            std::path::Path::new("/r/pix.toml"),
        )
        .unwrap()
    }

    #[test]
    fn targets_follow_the_flags() {
        let two = config("[hosts.a]\naddress='a.example'\n[hosts.b]\naddress='b.example'\n");
        let none = HostOverrides::default();
        let names = |l: Vec<HostTarget>| l.into_iter().map(|t| t.name).collect::<Vec<_>>();
        assert_eq!(
            names(select_targets(&two, None, &none, None).unwrap()),
            ["a", "b"]
        );
        let one = select_targets(&two, Some("b"), &none, Some("admin")).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(
            (one[0].name.as_str(), one[0].host.user.as_str()),
            ("b", "admin")
        );
        // An address for several hosts is refused; for one it applies.
        let addr = HostOverrides {
            host: Some("10.0.0.1".into()),
            port: None,
        };
        let e = select_targets(&two, Some("10.0.0.1"), &addr, None).unwrap_err();
        assert_eq!(exit::code(&e), exit::USAGE);
        let single = config("[hosts.a]\naddress='a.example'\n");
        let t = select_targets(&single, Some("10.0.0.1"), &addr, None).unwrap();
        assert_eq!(t[0].host.address, "10.0.0.1");
        // Picking a host by name with a port override.
        let port = HostOverrides {
            host: Some("b".into()),
            port: Some(2222),
        };
        let t = select_targets(&two, Some("b"), &port, None).unwrap();
        assert_eq!(
            (t[0].host.address.as_str(), t[0].host.port),
            ("b.example", Some(2222))
        );
    }

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
        assert_eq!(first_failure_code(&results), Some(exit::REMOTE));
    }
}
