//! The read commands and `pix status` on every Dokku version the sandbox
//! models (their reports differ: Go or bash, JSON or text).

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use common::World;
use pix_sandbox::contract::Profile;
use pix_sandbox::scenario;

#[test]
fn reads_and_status_on_every_profile() {
    for profile in Profile::ALL {
        let w = World::with_profile(profile);
        for app in ["one", "two"] {
            scenario::dokku(&w.sb, &["apps:create", app]).unwrap();
        }
        scenario::dokku(&w.sb, &["postgres:create", "db-one"]).unwrap();
        scenario::dokku(&w.sb, &["postgres:link", "db-one", "one"]).unwrap();
        scenario::dokku(&w.sb, &["apps:lock", "two"]).unwrap();

        let status = w.pix(&["status", "--json"]).expect(0).json();
        let rows = status.as_array().unwrap();
        assert_eq!(rows.len(), 2, "{}: {status}", profile.name());
        assert_eq!(rows[0]["app"], "one");
        assert_eq!(rows[0]["databases"][0], "db-one", "{}", profile.name());
        assert_eq!(rows[1]["locked"], true, "{}: {status}", profile.name());
        assert_eq!(rows[0]["deployed"], false, "{}: {status}", profile.name());
        let table = w.pix(&["status"]).expect(0);
        assert!(table.stdout.starts_with("APP "), "{}", table.render());

        let apps = w.pix(&["apps", "list", "--json"]).expect(0).json();
        assert_eq!(
            apps,
            serde_json::json!(["one", "two"]),
            "{}",
            profile.name()
        );
        let info = w.pix(&["apps:info", "two", "--json"]).expect(0).json();
        assert_eq!(info["app"], "two", "{}", profile.name());
        let ps = w.pix(&["ps", "report", "--json"]).expect(0).json();
        assert_eq!(ps.as_array().unwrap().len(), 2, "{}: {ps}", profile.name());
        let db = w
            .pix(&["postgres:info", "db-one", "--json"])
            .expect(0)
            .json();
        assert_eq!(db["links"][0], "one", "{}", profile.name());
        let shown = w.pix(&["config", "show", "one", "--json"]).expect(0).json();
        let url = shown["vars"]["DATABASE_URL"].as_str().unwrap();
        assert!(url.contains(":***@"), "{}: {url}", profile.name());
    }
}
