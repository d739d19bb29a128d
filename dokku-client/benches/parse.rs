//! Pure-code benchmarks (criterion): the `apps:report` text parser on a host
//! with 10,000 apps, and the quoting choke point (`ssh_line`).
//!
//! `cargo bench -p dokku-client --bench parse`; `cargo xtask bench` runs it
//! and copies the figures into `BENCHMARKS.md`. Target (issue 7): parsing
//! 10,000 apps' reports at 200 MB/s or more, in under 100 ms.

// criterion_group! defines an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use dokku_client::command::ssh_line;
use dokku_client::parse::report::{parse_report_text, report_maps, typed_reports, ReportFormat};
use dokku_client::{AppReport, Command, DokkuVersion};

/// How many apps the big report has.
const APPS: usize = 10_000;

/// `apps:report` as Dokku 0.38 prints it for every app (one block per app,
/// labels padded to one column), `apps` blocks.
fn apps_report_text(apps: usize) -> String {
    let mut text = String::with_capacity(apps * 420);
    for i in 0..apps {
        let app = format!("app-{i:05}");
        text.push_str(&format!("=====> {app} app information\n"));
        let rows: [(&str, String); 6] = [
            ("App created at", format!("{}", 1_717_171_717 + i)),
            ("App deploy source", "git-push".to_string()),
            (
                "App deploy source metadata",
                format!("{:040x}", (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
            ),
            ("App dir", format!("/home/dokku/{app}")),
            ("App global disable autocreation", String::new()),
            ("App locked", (i % 7 == 0).to_string()),
        ];
        for (label, value) in rows {
            text.push_str(&format!("       {:<33}{value}\n", format!("{label}:")));
        }
    }
    text
}

/// The library's whole path from text to typed reports (what
/// `Client::apps_reports` does after the bytes arrived).
fn parse_apps(text: &str) -> Vec<AppReport> {
    match typed_reports(text, ReportFormat::Text, "app", None) {
        Ok(reports) => reports,
        Err(e) => panic!("the generated report did not parse: {e:?}"),
    }
}

fn bench_apps_report(c: &mut Criterion) {
    let text = apps_report_text(APPS);
    // The parser must see every app, with its fields, or the figure means nothing.
    let parsed = parse_apps(&text);
    assert_eq!(parsed.len(), APPS);
    assert_eq!(parsed[42].app.as_deref(), Some("app-00042"));
    assert_eq!(parsed[42].dir.as_deref(), Some("/home/dokku/app-00042"));
    assert_eq!(parsed[42].locked, Some(true));

    let mut group = c.benchmark_group("apps_report_text");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.measurement_time(Duration::from_secs(8));
    group.sample_size(20);
    group.bench_with_input(BenchmarkId::new("parse", APPS), &text, |b, text| {
        b.iter(|| parse_apps(black_box(text)))
    });
    // The first stage alone (blocks of label/value rows, no snake_case
    // names, maps or typed reports): where the time goes.
    group.bench_with_input(BenchmarkId::new("blocks", APPS), &text, |b, text| {
        b.iter(|| parse_report_text(black_box(text), Some("app")))
    });
    // The untyped path (`report_maps`: subject and snake_case field maps).
    group.bench_with_input(BenchmarkId::new("maps", APPS), &text, |b, text| {
        b.iter(|| report_maps(black_box(text), ReportFormat::Text, "app", None))
    });
    group.finish();
}

fn bench_ssh_line(c: &mut Criterion) {
    let version = DokkuVersion::new(0, 38, 27);
    let command = Command::write("config:set")
        .value("api-production")
        .flag("--no-restart")
        .value("DATABASE_URL=postgres://u:p@h:5432/db?sslmode=require")
        .value("GREETING=it's a \"quoted\" value; $(not run) `nor this`");
    let mut group = c.benchmark_group("quoting");
    group.bench_function("ssh_line config:set", |b| {
        b.iter(|| ssh_line(black_box(&command), Some(&version)))
    });
    group.finish();
}

criterion_group!(benches, bench_apps_report, bench_ssh_line);
criterion_main!(benches);
