//! `pix status`: one row per app of a host, joined from every app's
//! reports, the Postgres links and, where an old Dokku leaves it out, the
//! lock.

use std::collections::BTreeMap;

use dokku_client::{AppReport, Client, DomainsReport, PsReport};
use serde::Serialize;

use crate::error::{OpsError, Result};

/// One row of `pix status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppStatus {
    /// The app.
    pub app: String,
    /// Deployed at least once.
    pub deployed: Option<bool>,
    /// `true`, `false` or `mixed`.
    pub running: Option<String>,
    /// Process containers.
    pub processes: Option<u32>,
    /// The deploy lock.
    pub locked: Option<bool>,
    /// Linked Postgres services.
    pub databases: Vec<String>,
    /// The app's URLs (from its domains).
    pub urls: Vec<String>,
}

/// Joins the reports of every app into status rows (pure).
pub fn build_status(
    apps: &[AppReport],
    ps: &[PsReport],
    domains: &[DomainsReport],
    links: &[(String, Vec<String>)],
) -> Vec<AppStatus> {
    let mut rows: BTreeMap<String, AppStatus> = BTreeMap::new();
    let names = apps
        .iter()
        .filter_map(|a| a.app.clone())
        .chain(ps.iter().filter_map(|p| p.app.clone()))
        .filter(|n| n != "--global");
    for name in names {
        rows.entry(name.clone()).or_insert_with(|| AppStatus {
            app: name,
            deployed: None,
            running: None,
            processes: None,
            locked: None,
            databases: Vec::new(),
            urls: Vec::new(),
        });
    }
    for a in apps {
        if let Some(r) = a.app.as_ref().and_then(|n| rows.get_mut(n)) {
            r.locked = a.locked;
        }
    }
    for p in ps {
        if let Some(r) = p.app.as_ref().and_then(|n| rows.get_mut(n)) {
            r.deployed = p.deployed;
            r.running = p.running.clone();
            r.processes = p.processes;
        }
    }
    for d in domains {
        if let Some(r) = d.app.as_ref().and_then(|n| rows.get_mut(n)) {
            if d.app_enabled != Some(false) {
                r.urls = d.app_vhosts.iter().map(|v| format!("http://{v}")).collect();
            }
        }
    }
    for (service, apps) in links {
        for app in apps {
            if let Some(r) = rows.get_mut(app) {
                r.databases.push(service.clone());
            }
        }
    }
    rows.into_values().collect()
}

/// Every service and the apps linked to it (`postgres:info` per service,
/// concurrently). No postgres plugin: none.
async fn service_links(client: &Client) -> Result<Vec<(String, Vec<String>)>> {
    let services = match client.postgres_list().await {
        Ok(s) => s,
        Err(dokku_client::Error::CommandFailed { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut set = tokio::task::JoinSet::new();
    for (i, s) in services.into_iter().enumerate() {
        let client = client.clone();
        set.spawn(async move {
            let info = client.postgres_info(&s).await;
            (i, s, info)
        });
    }
    let mut links = Vec::new();
    while let Some(joined) = set.join_next().await {
        let (i, s, info) =
            joined.map_err(|e| OpsError::io("a postgres:info task", std::io::Error::other(e)))?;
        links.push((i, s, info?.links));
    }
    links.sort();
    Ok(links.into_iter().map(|(_, s, l)| (s, l)).collect())
}

/// Old versions' `apps:report` has no lock row for an undeployed app (0.19
/// prints `not deployed`): ask `apps:locked` for those apps, concurrently.
async fn fill_locks(client: &Client, rows: &mut [AppStatus]) -> Result<()> {
    let mut set = tokio::task::JoinSet::new();
    for (i, row) in rows.iter().enumerate().filter(|(_, r)| r.locked.is_none()) {
        let client = client.clone();
        let app = row.app.clone();
        set.spawn(async move { (i, client.apps_locked(&app).await) });
    }
    while let Some(joined) = set.join_next().await {
        let (i, locked) =
            joined.map_err(|e| OpsError::io("an apps:locked task", std::io::Error::other(e)))?;
        if let Some(row) = rows.get_mut(i) {
            row.locked = Some(locked?);
        }
    }
    Ok(())
}

/// The status rows of the host `client` is connected to: every app, joined
/// from the reports (what `pix status` and `pix status --all` show).
///
/// Every report is asked for in text form, which reads the same on every
/// version, so nothing waits for version detection: the `version` probe goes
/// out with the first reads, and the whole table costs two dependent stages
/// (the reports and `postgres:list`, then `postgres:info` per service).
pub async fn status_rows(client: &Client) -> Result<Vec<AppStatus>> {
    let (apps, ps, domains, links) = tokio::join!(
        client.apps_reports(),
        client.ps_reports(),
        client.domains_reports(),
        service_links(client),
    );
    let mut rows = build_status(&apps?, &ps?, &domains?, &links?);
    fill_locks(client, &mut rows).await?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn status_joins_the_reports() {
        let apps = vec![
            AppReport::from_fields(Some("a".into()), fields(&[("locked", "true")])),
            AppReport::from_fields(Some("b".into()), fields(&[("locked", "false")])),
        ];
        let ps = vec![PsReport::from_fields(
            Some("a".into()),
            fields(&[
                ("deployed", "true"),
                ("running", "true"),
                ("processes", "2"),
            ]),
        )];
        let domains = vec![DomainsReport::from_fields(
            Some("a".into()),
            fields(&[("app_enabled", "true"), ("app_vhosts", "a.example a.test")]),
        )];
        let links = vec![(
            "pg-a".to_string(),
            vec!["a".to_string(), "gone".to_string()],
        )];
        let rows = build_status(&apps, &ps, &domains, &links);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].app, "a");
        assert_eq!(rows[0].locked, Some(true));
        assert_eq!(rows[0].processes, Some(2));
        assert_eq!(rows[0].databases, vec!["pg-a"]);
        assert_eq!(rows[0].urls, vec!["http://a.example", "http://a.test"]);
        assert_eq!(rows[1].deployed, None);
        assert!(rows[1].urls.is_empty());
    }
}
