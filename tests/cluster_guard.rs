//! The wrong-cluster guard, end to end: the real `seclab` binary against
//! in-test API servers (tests/fake_apiserver). A kubeconfig's
//! current-context is never used; nothing is sent where no cluster id is
//! stored; a write needs the marker with the stored id; `up` without kind
//! exits 2 naming kind.

mod common;
mod fake_apiserver;

use common::Sandbox;
use fake_apiserver::{FakeApiServer, fixtures, write_kubeconfig};

/// Stores `id` as seclab's cluster id for `context` in the sandbox.
fn store_id(sb: &Sandbox, context: &str, id: &str) {
    std::fs::create_dir_all(sb.state()).unwrap();
    std::fs::write(
        sb.state().join("cluster.json"),
        serde_json::json!({"clusters": {context: id}}).to_string(),
    )
    .unwrap();
}

fn env(kubeconfig: &std::path::Path) -> Vec<(&'static str, String)> {
    vec![("KUBECONFIG", kubeconfig.display().to_string())]
}

fn run(sb: &Sandbox, args: &[&str], kubeconfig: &std::path::Path) -> common::Run {
    let e = env(kubeconfig);
    let pairs: Vec<(&str, &str)> = e.iter().map(|(k, v)| (*k, v.as_str())).collect();
    sb.run_env(args, &pairs)
}

#[test]
fn a_foreign_current_context_gets_no_request_at_all() {
    let prod = FakeApiServer::start();
    let sb = Sandbox::new();
    let kc = write_kubeconfig(sb.dir.path(), &[("prod", &prod.url())], "prod");
    let r = run(&sb, &["start", "sa-token"], &kc);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("no seclab cluster"), "{}", r.stdout);
    assert!(r.stdout.contains("seclab up"), "{}", r.stdout);
    assert!(sb.work().join("seclab/sa-token/deployment.yaml").is_file());
    // Check, status and stop do not reach it either.
    let r = run(&sb, &["check", "sa-token", "steal-secret"], &kc);
    assert_ne!(r.code, 2, "{r:?}");
    let r = run(&sb, &["status"], &kc);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("no context kind-seclab"), "{}", r.stdout);
    let r = run(&sb, &["stop", "sa-token"], &kc);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(prod.requests().len(), 0, "{:?}", prod.requests());
}

#[test]
fn context_to_a_cluster_without_a_stored_id_sends_nothing_and_exits_2() {
    let prod = FakeApiServer::start();
    let sb = Sandbox::new();
    let kc = write_kubeconfig(sb.dir.path(), &[("prod", &prod.url())], "prod");
    run(&sb, &["start", "sa-token"], &kc);
    let r = run(&sb, &["--context", "prod", "apply", "sa-token"], &kc);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("context `prod`"), "{}", r.stderr);
    assert!(r.stderr.contains("nothing was sent"), "{}", r.stderr);
    assert_eq!(prod.requests().len(), 0);
}

#[test]
fn an_unmarked_cluster_gets_gets_only_and_exit_2_naming_the_context() {
    let prod = FakeApiServer::start();
    let sb = Sandbox::new();
    let kc = write_kubeconfig(sb.dir.path(), &[("prod", &prod.url())], "prod");
    store_id(&sb, "prod", "0123456789abcdef");
    let r = run(&sb, &["--context", "prod", "start", "sa-token"], &kc);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("context `prod`"), "{}", r.stderr);
    assert!(r.stderr.contains("no seclab marker"), "{}", r.stderr);
    assert!(!prod.requests().is_empty(), "the marker is read");
    assert!(prod.writes().is_empty(), "{:?}", prod.writes());
    assert!(prod.get("Namespace", None, "sa-token").is_none());
}

#[test]
fn a_marker_with_another_id_is_refused() {
    let other = FakeApiServer::start();
    other.insert(fixtures::namespace("seclab-system", &[]));
    other.insert(fixtures::marker("ffffffffffffffff"));
    let sb = Sandbox::new();
    let kc = write_kubeconfig(
        sb.dir.path(),
        &[("kind-seclab", &other.url())],
        "kind-seclab",
    );
    store_id(&sb, "kind-seclab", "0123456789abcdef");
    run(&sb, &["start", "sa-token"], &kc);
    let r = run(&sb, &["apply", "sa-token"], &kc);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("kind-seclab"), "{}", r.stderr);
    assert!(r.stderr.contains("ffffffffffffffff"), "{}", r.stderr);
    assert!(other.writes().is_empty(), "{:?}", other.writes());
}

#[test]
fn writes_go_only_to_the_marked_cluster_never_to_the_current_context() {
    let prod = FakeApiServer::start();
    let ours = FakeApiServer::start();
    ours.insert(fixtures::namespace("seclab-system", &[]));
    ours.insert(fixtures::marker("0123456789abcdef"));
    let sb = Sandbox::new();
    let kc = write_kubeconfig(
        sb.dir.path(),
        &[("prod", &prod.url()), ("kind-seclab", &ours.url())],
        "prod",
    );
    store_id(&sb, "kind-seclab", "0123456789abcdef");
    let r = run(&sb, &["start", "sa-token"], &kc);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("set sa-token up on context kind-seclab"),
        "{}",
        r.stdout
    );
    assert_eq!(prod.requests().len(), 0, "{:?}", prod.requests());
    // The lab's namespace, labelled, and its Secret with this student's flag.
    let ns = ours
        .get("Namespace", None, "sa-token")
        .expect("namespace applied");
    assert_eq!(ns["metadata"]["labels"]["seclab.dev/lab"], "sa-token");
    let secret = ours
        .get("Secret", Some("sa-token"), "db-credentials")
        .expect("secret");
    assert_eq!(secret["metadata"]["labels"]["seclab.dev/lab"], "sa-token");
    // Every write is a server-side apply by field manager seclab.
    for w in ours.writes() {
        assert_eq!(w.method, "PATCH", "{w:?}");
        assert_eq!(w.param("fieldManager").as_deref(), Some("seclab"), "{w:?}");
        assert_eq!(
            w.content_type.as_deref(),
            Some("application/apply-patch+yaml"),
            "{w:?}"
        );
    }
}

#[test]
fn the_workspace_is_applied_only_into_the_labs_namespaces() {
    let ours = FakeApiServer::start();
    ours.insert(fixtures::namespace("seclab-system", &[]));
    ours.insert(fixtures::marker("0123456789abcdef"));
    let sb = Sandbox::new();
    let kc = write_kubeconfig(
        sb.dir.path(),
        &[("kind-seclab", &ours.url())],
        "kind-seclab",
    );
    store_id(&sb, "kind-seclab", "0123456789abcdef");
    assert_eq!(run(&sb, &["start", "netpol-three-pods"], &kc).code, 0);
    // A policy without a namespace, one in kube-system, one right.
    common::write_files(
        &sb.work().join("seclab/netpol-three-pods/policies"),
        &[(
            "mine.yaml",
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: no-ns}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: elsewhere, namespace: kube-system}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: three-pods}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n",
        )],
    );
    let r = run(&sb, &["apply", "netpol-three-pods"], &kc);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        ours.get("NetworkPolicy", Some("three-pods"), "deny")
            .is_some()
    );
    assert!(
        ours.get("NetworkPolicy", Some("default"), "no-ns")
            .is_none()
    );
    assert!(
        ours.get("NetworkPolicy", Some("kube-system"), "elsewhere")
            .is_none()
    );
    assert!(
        r.stdout
            .contains("no-ns: namespace default is not one of the lab's"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("has no metadata.namespace"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("elsewhere: namespace kube-system"),
        "{}",
        r.stdout
    );
    // The start state's kube-system model (cluster/) was not applied either.
    assert!(
        ours.list("Deployment")
            .iter()
            .all(|d| d["metadata"]["namespace"] != "kube-system")
    );
}

#[test]
fn reset_recreates_the_namespaces_and_stop_removes_them() {
    let ours = FakeApiServer::start();
    ours.insert(fixtures::namespace("seclab-system", &[]));
    ours.insert(fixtures::marker("0123456789abcdef"));
    // Another lab's and an unlabelled namespace stay.
    ours.insert(fixtures::namespace("team-a", &[]));
    let sb = Sandbox::new();
    let kc = write_kubeconfig(
        sb.dir.path(),
        &[("kind-seclab", &ours.url())],
        "kind-seclab",
    );
    store_id(&sb, "kind-seclab", "0123456789abcdef");
    assert_eq!(run(&sb, &["start", "sa-token"], &kc).code, 0);
    ours.insert(fixtures::config_map(
        "sa-token",
        "student-made",
        &[("a", "b")],
    ));
    let r = run(&sb, &["reset", "sa-token"], &kc);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("removed namespace sa-token"),
        "{}",
        r.stdout
    );
    assert!(
        ours.get("ConfigMap", Some("sa-token"), "student-made")
            .is_none()
    );
    assert!(
        ours.get("Secret", Some("sa-token"), "db-credentials")
            .is_some()
    );
    let r = run(&sb, &["stop", "sa-token"], &kc);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(ours.get("Namespace", None, "sa-token").is_none());
    assert!(ours.get("Namespace", None, "team-a").is_some());
    assert!(
        ours.get("ConfigMap", Some("seclab-system"), "seclab-marker")
            .is_some()
    );
}

#[test]
fn up_without_kind_exits_2_and_names_kind() {
    let sb = Sandbox::new();
    let empty = sb.dir.path().join("bin");
    std::fs::create_dir_all(&empty).unwrap();
    let r = sb.run_env(
        &["up"],
        &[("PATH", empty.to_str().unwrap()), ("SECLAB_KIND", "")],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("kind"), "{}", r.stderr);
    assert!(r.stderr.contains("v0.33.0"), "{}", r.stderr);
}
