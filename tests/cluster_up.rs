//! `seclab up` and `seclab down` end to end: a fake `kind` script on PATH
//! (it records its arguments and, on `create cluster`, writes the
//! kubeconfig kind would write, pointing at the in-test API server, which
//! plays the new cluster: one Ready node and CoreDNS).

mod common;
mod fake_apiserver;

use std::path::{Path, PathBuf};

use common::Sandbox;
use fake_apiserver::{FakeApiServer, fixtures, kubeconfig};
use serde_json::json;

/// A fake kind in `bin/`: `get clusters` reads `clusters` (one name a
/// line), `create cluster` copies `new-kubeconfig` over $KUBECONFIG and adds
/// `seclab` to `clusters`, `delete cluster` empties it; every call is
/// appended to `calls`.
fn fake_kind(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let d = dir.display();
    let script = format!(
        r#"#!/bin/sh
echo "$*" >> "{d}/calls"
case "$1 $2" in
  "version "*) echo "kind v0.33.0 go1.25.3 linux/amd64" ;;
  "get clusters")
    if [ -s "{d}/clusters" ]; then cat "{d}/clusters"; else echo "No kind clusters found." >&2; fi ;;
  "create cluster")
    echo "Creating cluster \"seclab\" ..."
    echo " ✓ Ensuring node image (kindest/node:v1.37.0) 🖼"
    cp "{d}/new-kubeconfig" "$KUBECONFIG"
    echo seclab > "{d}/clusters"
    echo "Set kubectl context to \"kind-seclab\"" ;;
  "delete cluster")
    echo "Deleting cluster \"seclab\" ..."
    : > "{d}/clusters" ;;
  "load "*) echo "loaded" ;;
  *) echo "fake kind: unexpected: $*" >&2; exit 1 ;;
esac
"#
    );
    let kind = bin.join("kind");
    std::fs::write(&kind, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&kind, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

/// The in-test server as a new kind cluster: a Ready node, CoreDNS up.
fn new_cluster() -> FakeApiServer {
    let s = FakeApiServer::start();
    s.insert(json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "seclab-control-plane", "labels": {"node-role.kubernetes.io/control-plane": ""}},
        "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]}
    }));
    s.insert(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"k8s-app": "kube-dns"}},
                 "template": {"metadata": {"labels": {"k8s-app": "kube-dns"}},
                              "spec": {"containers": [{"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.12.1"}]}}},
        "status": {"replicas": 2, "readyReplicas": 2, "availableReplicas": 2}
    }));
    s
}

struct Setup {
    sb: Sandbox,
    server: FakeApiServer,
    bin: PathBuf,
    kubeconfig: PathBuf,
}

fn setup() -> Setup {
    let sb = Sandbox::new();
    let server = new_cluster();
    let bin = fake_kind(sb.dir.path());
    std::fs::write(
        sb.dir.path().join("new-kubeconfig"),
        kubeconfig(&[("kind-seclab", &server.url())], "kind-seclab"),
    )
    .unwrap();
    let kubeconfig = sb.dir.path().join("kubeconfig");
    Setup {
        sb,
        server,
        bin,
        kubeconfig,
    }
}

fn run(s: &Setup, args: &[&str]) -> common::Run {
    let path = format!(
        "{}:{}",
        s.bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    s.sb.run_env(
        args,
        &[
            ("PATH", &path),
            ("SECLAB_KIND", ""),
            ("KUBECONFIG", s.kubeconfig.to_str().unwrap()),
        ],
    )
}

fn calls(s: &Setup) -> String {
    std::fs::read_to_string(s.sb.dir.path().join("calls")).unwrap_or_default()
}

#[test]
fn up_creates_waits_marks_and_down_deletes() {
    let s = setup();
    let r = run(&s, &["up"]);
    assert_eq!(r.code, 0, "{r:?}");
    // kind's own lines, streamed, then the wait.
    assert!(
        r.stdout.contains("Creating cluster \"seclab\""),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("nodes ready 1/1, CoreDNS available"),
        "{}",
        r.stdout
    );
    // The config it gave kind: rendered into the state dir with the
    // files it mounts.
    let kind_dir = s.sb.state().join("kind");
    let cfg = std::fs::read_to_string(kind_dir.join("cluster.yaml")).unwrap();
    assert!(
        cfg.contains("kindest/node:v1.37.0@sha256:a1ed56cf"),
        "{cfg}"
    );
    assert!(cfg.contains(kind_dir.to_str().unwrap()), "{cfg}");
    assert!(kind_dir.join("audit-policy.yaml").is_file());
    assert!(kind_dir.join("encryption-config.yaml").is_file());
    assert!(
        calls(&s).contains(&format!(
            "create cluster --name seclab --config {}",
            kind_dir.join("cluster.yaml").display()
        )),
        "{}",
        calls(&s)
    );
    // The marker holds the id the state dir stores.
    let marker = s
        .server
        .get("ConfigMap", Some("seclab-system"), "seclab-marker")
        .expect("marker");
    let id = marker["data"]["cluster-id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 32);
    let known: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.sb.state().join("cluster.json")).unwrap())
            .unwrap();
    assert_eq!(known["clusters"]["kind-seclab"], id.as_str());
    // Up again: it is up and ours, nothing re-created.
    let r = run(&s, &["up"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("is up and seclab's"), "{}", r.stdout);
    assert_eq!(calls(&s).matches("create cluster").count(), 1);
    // Status reads it.
    let r = run(&s, &["status"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(&format!("seclab's (cluster id {id})")),
        "{}",
        r.stdout
    );
    // Down deletes it and forgets the id.
    let r = run(&s, &["down", "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        calls(&s).contains("delete cluster --name seclab"),
        "{}",
        calls(&s)
    );
    let known: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.sb.state().join("cluster.json")).unwrap())
            .unwrap();
    assert!(known["clusters"].get("kind-seclab").is_none(), "{known}");
}

#[test]
fn up_refuses_a_kind_cluster_named_seclab_without_the_marker() {
    let s = setup();
    std::fs::write(s.sb.dir.path().join("clusters"), "seclab\n").unwrap();
    std::fs::copy(s.sb.dir.path().join("new-kubeconfig"), &s.kubeconfig).unwrap();
    let r = run(&s, &["up"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("carries no seclab marker"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("kind delete cluster --name seclab"),
        "{}",
        r.stderr
    );
    assert!(s.server.writes().is_empty(), "{:?}", s.server.writes());
    // And down will not delete it either.
    let r = run(&s, &["down", "--yes"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(!calls(&s).contains("delete cluster"), "{}", calls(&s));
}

#[test]
fn up_adopt_takes_over_a_marked_cluster_after_confirmation() {
    let s = setup();
    std::fs::write(s.sb.dir.path().join("clusters"), "seclab\n").unwrap();
    std::fs::copy(s.sb.dir.path().join("new-kubeconfig"), &s.kubeconfig).unwrap();
    s.server.insert(fixtures::namespace("seclab-system", &[]));
    s.server
        .insert(fixtures::marker("00112233445566778899aabbccddeeff"));
    // A lost state dir: plain up refuses and names --adopt.
    let r = run(&s, &["up"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--adopt"), "{}", r.stderr);
    // Without a terminal it must be told --yes.
    let r = run(&s, &["up", "--adopt"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--yes"), "{}", r.stderr);
    let r = run(&s, &["up", "--adopt", "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    let known = std::fs::read_to_string(s.sb.state().join("cluster.json")).unwrap();
    assert!(
        known.contains("00112233445566778899aabbccddeeff"),
        "{known}"
    );
    assert!(
        s.server.writes().is_empty(),
        "adopting writes nothing to the cluster"
    );
}

/// A stand-in for Kyverno's install.yaml: its namespace, a CRD, RBAC and
/// the admission controller Deployment.
const KYVERNO_STAND_IN: &str = r#"apiVersion: v1
kind: Namespace
metadata:
  name: kyverno
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: clusterpolicies.kyverno.io
spec:
  group: kyverno.io
  names: {kind: ClusterPolicy, plural: clusterpolicies, singular: clusterpolicy}
  scope: Cluster
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: kyverno-admission-controller
  namespace: kyverno
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: kyverno-admission-controller
rules:
  - apiGroups: ["kyverno.io"]
    resources: ["*"]
    verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: someone-elses
rules: []
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: kyverno-admission-controller
  namespace: kyverno
spec:
  replicas: 1
  selector: {matchLabels: {app.kubernetes.io/component: admission-controller}}
  template:
    metadata: {labels: {app.kubernetes.io/component: admission-controller}}
    spec:
      serviceAccountName: kyverno-admission-controller
      containers:
        - name: kyverno
          image: reg.kyverno.io/kyverno/kyverno:v1.15.2
"#;

#[test]
fn up_with_kyverno_applies_the_manifest_as_seclabs_and_waits_for_the_controller() {
    let s = setup();
    let manifest = s.sb.dir.path().join("kyverno-install.yaml");
    std::fs::write(&manifest, KYVERNO_STAND_IN).unwrap();
    // A ClusterRole of the same name that is not seclab's stays as it is.
    s.server.insert(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "someone-elses"}, "rules": []
    }));
    // The in-test server has no controllers: the Deployment is there and
    // available already (seclab's apply changes its spec, not its status).
    s.server.insert(fixtures::namespace("kyverno", &[]));
    s.server.insert(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "kyverno-admission-controller", "namespace": "kyverno"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/component": "admission-controller"}},
                 "template": {"metadata": {"labels": {"app.kubernetes.io/component": "admission-controller"}},
                              "spec": {"containers": [{"name": "kyverno", "image": "reg.kyverno.io/kyverno/kyverno:v1.15.2"}]}}},
        "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1}
    }));
    let r = run(
        &s,
        &[
            "up",
            "--with",
            "kyverno",
            "--kyverno-manifest",
            manifest.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("Kyverno is installed and its admission controller is available"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("ClusterRole someone-elses: exists in the cluster and is not this lab's"),
        "{}",
        r.stdout
    );
    let crd = s
        .server
        .get(
            "CustomResourceDefinition",
            None,
            "clusterpolicies.kyverno.io",
        )
        .expect("the CRD is applied");
    assert_eq!(
        crd["metadata"]["labels"]["seclab.dev/lab"],
        "seclab-kyverno"
    );
    let d = s
        .server
        .get(
            "Deployment",
            Some("kyverno"),
            "kyverno-admission-controller",
        )
        .unwrap();
    assert_eq!(d["metadata"]["labels"]["seclab.dev/lab"], "seclab-kyverno");
    let theirs = s.server.get("ClusterRole", None, "someone-elses").unwrap();
    assert!(theirs["metadata"].get("labels").is_none(), "{theirs}");
    // Server-side apply, as Kyverno's large CRDs need.
    let crd_write = s
        .server
        .requests()
        .into_iter()
        .find(|q| {
            q.method != "GET"
                && q.path
                    .contains("customresourcedefinitions/clusterpolicies.kyverno.io")
        })
        .unwrap();
    assert_eq!(crd_write.method, "PATCH");
    assert!(
        crd_write
            .content_type
            .as_deref()
            .unwrap_or("")
            .starts_with("application/apply-patch"),
        "{crd_write:?}"
    );
    // A manifest that is not Kyverno's is refused before anything is sent.
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: kyverno}\n",
    )
    .unwrap();
    let r = run(
        &s,
        &[
            "up",
            "--with",
            "kyverno",
            "--kyverno-manifest",
            manifest.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("not a Kyverno install manifest"), "{r:?}");
}
