//! Benchmarks of the NetworkPolicy engine: generated clusters (50, 500 and
//! 5,000 pods with 10, 100 and 1,000 policies; 2,000 standalone pods with
//! unique labels, one equivalence class each, and 200 policies) and, when
//! the conformance data is present, the largest upstream scenario
//! `ipblockstest_4`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use seclab_checkers::KubeObject;
use seclab_checkers::netpol::Cluster;
use serde_json::{Value, json};

/// A cluster of `pods` pods (10 replicas per ReplicaSet, one app label per
/// ReplicaSet, 250 pods per namespace) and `policies` NetworkPolicies plus a
/// default deny per namespace. With `standalone`, every pod is its own
/// workload with its own app label (as many classes as pods).
fn generate(pods: usize, policies: usize, standalone: bool) -> Vec<KubeObject> {
    let per_app = if standalone { 1 } else { 10 };
    let apps = (pods / per_app).max(1);
    let nss = (pods / 250).max(1);
    let mut out = Vec::new();
    for n in 0..nss {
        out.push(
            json!({"kind": "Namespace", "metadata": {"name": format!("ns{n}"),
            "labels": {"env": format!("e{}", n % 3)}}}),
        );
        out.push(json!({"kind": "NetworkPolicy", "metadata": {"name": "deny", "namespace": format!("ns{n}")},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}));
    }
    for p in 0..pods {
        let app = p / per_app;
        let mut pod = json!({"kind": "Pod", "metadata": {
            "name": format!("app{app}-{p}"), "namespace": format!("ns{}", app % nss),
            "labels": {"app": format!("app{app}"), "tier": format!("t{}", app % 5)},
            "ownerReferences": [{"kind": "ReplicaSet", "name": format!("app{app}-rs"), "controller": true}]},
            "spec": {"containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8080}]}]}});
        if standalone && let Some(meta) = pod["metadata"].as_object_mut() {
            meta.remove("ownerReferences");
        }
        out.push(pod);
    }
    for q in 0..policies {
        let app = q % apps;
        let mut spec = json!({
            "podSelector": {"matchLabels": {"app": format!("app{app}")}},
            "ingress": [{"from": [
                {"podSelector": {"matchExpressions": [{"key": "app", "operator": "In",
                    "values": [format!("app{}", (app + 1) % apps), format!("app{}", (app + 2) % apps)]}]},
                 "namespaceSelector": {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["e9"]}]}},
                {"podSelector": {"matchLabels": {"tier": format!("t{}", q % 5)}}}],
                "ports": [{"port": "http"}, {"port": 9000, "endPort": 9100}]}]});
        if q % 4 == 0 {
            spec["egress"] = json!([
                {"to": [{"ipBlock": {"cidr": format!("10.{}.0.0/16", q % 256), "except": [format!("10.{}.1.0/24", q % 256)]}}],
                 "ports": [{"port": 443}]},
                {"to": [{"namespaceSelector": {}}], "ports": [{"port": 53, "protocol": "UDP"}]}]);
        }
        out.push(
            json!({"kind": "NetworkPolicy", "metadata": {"name": format!("p{q}"),
            "namespace": format!("ns{}", app % nss)}, "spec": spec}),
        );
    }
    out.into_iter().map(KubeObject::new).collect()
}

fn manifest_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            manifest_files(&p, out);
        } else if p
            .extension()
            .is_some_and(|x| x == "yaml" || x == "yml" || x == "json")
        {
            out.push(p);
        }
    }
}

fn load_scenario(name: &str) -> Option<Vec<KubeObject>> {
    let base = std::env::var_os("SECLAB_CONFORMANCE_DATA").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata"),
        PathBuf::from,
    );
    let dir = base.join("netpol").join(name).join("manifests");
    if !dir.is_dir() {
        eprintln!(
            "NOTICE: {} not found; skipping its benchmark",
            dir.display()
        );
        return None;
    }
    let mut files = Vec::new();
    manifest_files(&dir, &mut files);
    files.sort();
    let mut objects = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).ok()?;
        let docs: Vec<Value> = if f.extension().is_some_and(|x| x == "json") {
            vec![serde_json::from_str(&text).ok()?]
        } else {
            serde_saphyr::from_multiple(&text).ok()?
        };
        objects.extend(
            docs.into_iter()
                .filter(|d| !d.is_null())
                .map(KubeObject::new),
        );
    }
    Some(objects)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("netpol");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    // Inputs are built on first use, so a filtered run (`-- distinct`)
    // only holds its own case in memory (for peak-RSS measurements).
    for (pods, policies, standalone) in [
        (50, 10, false),
        (500, 100, false),
        (5000, 1000, false),
        (2000, 200, true),
    ] {
        let kind = if standalone { "_distinct" } else { "" };
        let mut objects = None;
        g.bench_function(
            format!("connlist/{pods}pods{kind}_{policies}policies"),
            |b| {
                let objects = objects.get_or_insert_with(|| generate(pods, policies, standalone));
                b.iter(|| {
                    let (cluster, _) = Cluster::from_objects(black_box(&*objects)).expect("valid");
                    black_box(cluster.connections().connections.len())
                });
            },
        );
    }
    for (pods, policies, standalone) in [(5000, 1000, false), (2000, 200, true)] {
        let kind = if standalone { "_distinct" } else { "" };
        let mut cluster = None;
        g.bench_function(
            format!("engine_only/{pods}pods{kind}_{policies}policies"),
            |b| {
                let cluster = cluster.get_or_insert_with(|| {
                    Cluster::from_objects(&generate(pods, policies, standalone))
                        .expect("valid")
                        .0
                });
                b.iter(|| black_box(cluster.reachability().allowed_class_pairs()));
            },
        );
    }
    if let Some(objects) = load_scenario("ipblockstest_4") {
        g.bench_function("connlist_text/ipblockstest_4", |b| {
            b.iter(|| {
                let (cluster, _) = Cluster::from_objects(black_box(&objects)).expect("valid");
                black_box(cluster.connections().to_connlist_text().len())
            });
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
