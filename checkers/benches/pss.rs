//! Benchmarks of the PSS grader on a realistic Deployment (two containers,
//! an init container, probes, ports, volumes) that passes restricted/latest:
//! evaluation of the already-parsed document, YAML parse + evaluation, and
//! the separate unknown-field scan.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use seclab_checkers::pss::{Level, Version, evaluate, unknown_fields};
use serde_json::Value;

const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web, tier: frontend}
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web, tier: frontend}
      annotations:
        prometheus.io/scrape: "true"
    spec:
      serviceAccountName: web
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        fsGroup: 10001
        seccompProfile: {type: RuntimeDefault}
      initContainers:
      - name: migrate
        image: registry.example/web:1.4.2
        command: ["/app/migrate", "--once"]
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL]}
      containers:
      - name: web
        image: registry.example/web:1.4.2
        ports:
        - {name: http, containerPort: 8080}
        env:
        - {name: LOG_LEVEL, value: info}
        resources:
          requests: {cpu: 100m, memory: 128Mi}
          limits: {memory: 256Mi}
        livenessProbe:
          httpGet: {path: /healthz, port: http}
        readinessProbe:
          httpGet: {path: /ready, port: http}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
        volumeMounts:
        - {name: tmp, mountPath: /tmp}
        - {name: config, mountPath: /etc/web}
      - name: proxy
        image: registry.example/proxy:2.0
        ports:
        - {name: metrics, containerPort: 9090}
        securityContext:
          allowPrivilegeEscalation: false
          capabilities: {drop: [ALL]}
      volumes:
      - name: tmp
        emptyDir: {}
      - name: config
        configMap: {name: web-config}
"#;

fn benches(c: &mut Criterion) {
    let doc: Value = serde_saphyr::from_str(DEPLOYMENT).expect("bench document parses");
    let r = evaluate(&doc, Level::Restricted, Version::Latest).expect("evaluates");
    assert!(r.allowed, "bench document must pass: {}", r.message());
    assert!(
        unknown_fields(&doc).is_empty(),
        "bench document has no unknown fields"
    );

    let mut g = c.benchmark_group("pss");
    g.throughput(Throughput::Elements(1));
    g.bench_function("evaluate restricted/latest (parsed Deployment)", |b| {
        b.iter(|| evaluate(black_box(&doc), Level::Restricted, Version::Latest));
    });
    g.bench_function("parse YAML + evaluate restricted/latest", |b| {
        b.iter(|| {
            let v: Value = serde_saphyr::from_str(black_box(DEPLOYMENT)).expect("parses");
            evaluate(&v, Level::Restricted, Version::Latest).map(|r| r.allowed)
        });
    });
    g.bench_function("unknown_fields (parsed Deployment)", |b| {
        b.iter(|| unknown_fields(black_box(&doc)));
    });
    g.finish();
}

criterion_group! {
    name = pss;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(pss);
