//! Benchmarks of the audit log reader on a generated 100,000-event log of
//! a kind cluster (`support/audit_gen.rs`: node leases, controllers,
//! probes, kubectl, an intruder): parsing every line, parsing plus a
//! selective filter (the intruder's secrets reads), and parsing plus a time
//! window (timestamps compared with jiff).

#[path = "support/audit_gen.rs"]
mod audit_gen;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use seclab_checkers::audit::Stage;
use seclab_checkers::audit::log::{Filter, ResourcePattern, events};

const EVENTS: usize = 100_000;

fn count(log: &str, filter: &Filter) -> usize {
    events(log)
        .filter(|e| e.as_ref().is_ok_and(|e| filter.matches(e)))
        .count()
}

fn bench(c: &mut Criterion) {
    let log = audit_gen::Generator::log(1, EVENTS);
    let mut g = c.benchmark_group("audit_log_100k");
    g.throughput(Throughput::Bytes(log.len() as u64))
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    let all = Filter::default();
    assert_eq!(count(&log, &all), EVENTS, "every generated line parses");
    g.bench_function("parse", |b| b.iter(|| count(black_box(&log), &all)));
    let intruder = Filter {
        users: vec![audit_gen::INTRUDER.into()],
        resources: vec![ResourcePattern::parse("secrets").expect("pattern")],
        stages: vec![Stage::ResponseComplete],
        ..Filter::default()
    };
    assert!(count(&log, &intruder) > 0, "the intruder is in the log");
    g.bench_function("parse+filter (user, resource, stage)", |b| {
        b.iter(|| count(black_box(&log), &intruder));
    });
    let window = Filter {
        since: Some("2026-12-03T09:05:00Z".parse().expect("time")),
        until: Some("2026-12-03T09:10:00Z".parse().expect("time")),
        ..Filter::default()
    };
    g.bench_function("parse+filter (since/until)", |b| {
        b.iter(|| count(black_box(&log), &window));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
