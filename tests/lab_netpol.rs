//! The `netpol-three-pods` lab: its content validates and proves itself
//! offline (start fails every task, the solution passes, each wrong case
//! fails what it says), its pods pass Pod Security Standards `restricted`,
//! and `seclab check` shows a failing task's matrix.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const LAB: &str = "netpol-three-pods";

fn seclab(state: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seclab"))
        .args(args)
        .env("SECLAB_STATE_DIR", state)
        .env("SECLAB_STUDENT", "test")
        .env("SECLAB_SEED", "test")
        .env_remove("SECLAB_LABS")
        .env_remove("SECLAB_WORKSPACE")
        .output()
        .expect("seclab runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn validate_and_offline_test_pass() {
    let state = tempfile::tempdir().expect("tempdir");
    let o = seclab(state.path(), &["validate"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    let o = seclab(state.path(), &["test", "--offline", LAB]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", text(&o.stderr));
    // start + solution + 13 wrong cases + 5 alternatives, 3 tasks each.
    assert!(out.contains("60 passed, 0 failed, 0 skipped"), "{out}");
    for case in WRONG
        .iter()
        .map(|(c, _)| format!("wrong/{c}"))
        .chain(ALTERNATIVES.iter().map(|c| format!("alternatives/{c}")))
    {
        for task in ["default-deny", "a-to-b", "b-to-c"] {
            assert!(
                out.contains(&format!("ok      {LAB}/{case}/{task}")),
                "{case}/{task}: {out}"
            );
        }
    }
}

/// Every wrong case, and an error the grader must give for it: the case
/// fails for its own reason, not by accident.
const WRONG: &[(&str, &str)] = &[
    (
        "allow-all-from-namespace",
        "three-pods/c[Pod] => three-pods/a[Pod]: expected no connection, got All Connections",
    ),
    (
        "ingress-without-egress",
        "three-pods/a[Pod] => three-pods/b[Pod]: expected TCP 8080, got no connection",
    ),
    (
        "named-port-b-lacks",
        "three-pods/a[Pod] => three-pods/b[Pod]: expected TCP 8080, got no connection",
    ),
    (
        "policy-in-wrong-namespace",
        "kube-system/kube-apiserver-seclab-control-plane[Pod] => three-pods/a[Pod]: expected no connection, got All Connections",
    ),
    (
        "dns-to-everywhere",
        "three-pods/a[Pod] => 0.0.0.0-255.255.255.255[External]: expected no connection, got TCP 53,UDP 53",
    ),
    // A namespace-only peer reaches the control plane, not just CoreDNS.
    (
        "dns-namespace-only",
        "three-pods/a[Pod] => kube-system/etcd-seclab-control-plane[Pod]: expected no connection, got TCP 53,UDP 53",
    ),
    (
        "dns-selectors-or",
        "three-pods/b[Pod] => kube-system/kube-apiserver-seclab-control-plane[Pod]: expected no connection, got TCP 53,UDP 53",
    ),
    (
        "dns-pod-selector-only",
        "three-pods/a[Pod] => kube-system/coredns[Deployment]: expected TCP 53,UDP 53, got no connection",
    ),
    (
        "dns-namespace-name-label",
        "three-pods/c[Pod] => kube-system/coredns[Deployment]: expected TCP 53,UDP 53, got no connection",
    ),
    (
        "dns-udp-only",
        "three-pods/a[Pod] => kube-system/coredns[Deployment]: expected TCP 53,UDP 53, got UDP 53",
    ),
    (
        "dns-all-ports",
        "three-pods/a[Pod] => kube-system/coredns[Deployment]: expected TCP 53,UDP 53, got All Connections",
    ),
    (
        "dns-named-port-wrong-protocol",
        "three-pods/b[Pod] => kube-system/coredns[Deployment]: expected TCP 53,UDP 53, got UDP 53",
    ),
    (
        "port-number-quoted",
        "port \"8080\" is a string, so a port name, and the API server rejects it",
    ),
];

const ALTERNATIVES: &[&str] = &[
    "match-expressions",
    "ports-named-and-default-protocol",
    "one-policy-per-pod",
    "combined-default-deny-and-list",
    "dns-by-port-name",
];

/// Copies every file under `from` to the same place under `to`, except
/// `skip` (a file name).
fn copy_tree(from: &Path, to: &Path, skip: &str) {
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            std::fs::create_dir_all(&dst).expect("mkdir");
            copy_tree(&src, &dst, skip);
        } else if e.file_name() != skip {
            std::fs::copy(&src, &dst).expect("copy");
        }
    }
}

/// The workspace of a wrong case as `seclab test` builds it: start, then
/// solution, then the case, minus its `remove` paths.
fn wrong_workspace(case: &str, ws: &Path) {
    let lab = root().join("labs").join(LAB);
    for part in ["start", "solution"] {
        copy_tree(&lab.join(part), ws, "");
    }
    let dir = lab.join("wrong").join(case);
    copy_tree(&dir, ws, "expect.yaml");
    let expect: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(dir.join("expect.yaml")).expect("expect.yaml"),
    )
    .expect("yaml");
    for r in expect["remove"].as_array().into_iter().flatten() {
        std::fs::remove_file(ws.join(r.as_str().expect("path"))).expect("remove");
    }
}

#[test]
fn each_wrong_case_fails_for_its_reason() {
    let state = tempfile::tempdir().expect("tempdir");
    for (case, reason) in WRONG {
        let ws = state.path().join(case);
        wrong_workspace(case, &ws);
        let o = Command::new(env!("CARGO_BIN_EXE_seclab"))
            .args(["check", LAB, "--output", "json"])
            .env("SECLAB_STATE_DIR", state.path())
            .env("SECLAB_WORKSPACE", &ws)
            .output()
            .expect("runs");
        assert_eq!(o.status.code(), Some(1), "{case}: {}", text(&o.stderr));
        let v: serde_json::Value = serde_json::from_str(&text(&o.stdout)).expect("json");
        let messages: Vec<&str> = v
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|t| t["checks"].as_array().into_iter().flatten())
            .flat_map(|c| c["findings"].as_array().into_iter().flatten())
            .filter(|f| f["severity"] == "error")
            .filter_map(|f| f["message"].as_str())
            .collect();
        assert!(
            messages.iter().any(|m| m.contains(reason)),
            "{case}: no error says {reason:?}:\n{}",
            messages.join("\n")
        );
    }
}

/// The lesson "DNS to kube-dns only" needs kube-system as kind runs it: if
/// the model held only CoreDNS, a namespace-only DNS rule would pass.
#[test]
fn kube_system_is_modelled_as_kind_runs_it() {
    let file = root()
        .join("labs")
        .join(LAB)
        .join("start/cluster/kube-system.yaml");
    let docs: Vec<serde_json::Value> =
        serde_saphyr::from_multiple(&std::fs::read_to_string(file).expect("read")).expect("yaml");
    let find = |kind: &str, name: &str| {
        docs.iter()
            .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("{kind} {name} is missing"))
    };
    for c in [
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
    ] {
        let pod = find("Pod", &format!("{c}-seclab-control-plane"));
        assert_eq!(pod["metadata"]["namespace"], "kube-system");
        assert_eq!(pod["metadata"]["labels"]["component"], c);
        assert_eq!(pod["metadata"]["labels"]["tier"], "control-plane");
        assert_eq!(pod["spec"]["hostNetwork"], true, "{c}");
    }
    for (ds, label) in [("kube-proxy", "kube-proxy"), ("kindnet", "kindnet")] {
        let d = find("DaemonSet", ds);
        let t = &d["spec"]["template"];
        assert_eq!(t["metadata"]["labels"]["k8s-app"], label);
        assert_eq!(t["spec"]["hostNetwork"], true, "{ds}");
    }
    let dns = find("Deployment", "coredns");
    assert_eq!(
        dns["spec"]["template"]["metadata"]["labels"]["k8s-app"],
        "kube-dns"
    );
    assert!(
        docs.iter()
            .all(|d| d["kind"] == "Namespace" || d["metadata"]["namespace"] == "kube-system")
    );
}

fn pods(file: &Path) -> Vec<serde_json::Value> {
    let yaml = std::fs::read_to_string(file).expect("read");
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&yaml).expect("yaml");
    docs.into_iter().filter(|d| d["kind"] == "Pod").collect()
}

// Practise what the course teaches: the lab's pods meet PSS restricted.
#[test]
fn pods_pass_pss_restricted() {
    for file in [
        root().join("labs").join(LAB).join("start/pods.yaml"),
        root().join("manifests").join(LAB).join("pods.yaml"),
    ] {
        let pods = pods(&file);
        assert_eq!(pods.len(), 3, "{}", file.display());
        for p in pods {
            let name = p["metadata"]["name"].as_str().unwrap_or("?");
            let psc = &p["spec"]["securityContext"];
            assert_eq!(psc["runAsNonRoot"], true, "{name}");
            assert!(psc["runAsUser"].as_u64().is_some_and(|u| u > 0), "{name}");
            assert_eq!(psc["seccompProfile"]["type"], "RuntimeDefault", "{name}");
            for c in p["spec"]["containers"].as_array().expect("containers") {
                let sc = &c["securityContext"];
                assert_eq!(sc["allowPrivilegeEscalation"], false, "{name}");
                assert_eq!(
                    sc["capabilities"]["drop"],
                    serde_json::json!(["ALL"]),
                    "{name}"
                );
                assert!(sc.get("privileged").is_none_or(|v| v == false), "{name}");
                assert_eq!(c["ports"][0]["name"], "http", "{name}");
                assert_eq!(c["ports"][0]["containerPort"], 8080, "{name}");
            }
            assert!(p["spec"].get("hostNetwork").is_none(), "{name}");
        }
    }
}

#[test]
fn check_shows_the_matrix_of_a_failing_task() {
    let state = tempfile::tempdir().expect("tempdir");
    let ws = state.path().join("ws");
    let ws_arg = ws.to_str().expect("utf-8");
    let o = seclab(state.path(), &["start", LAB, "--workspace", ws_arg]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // Task 1 half done: the default deny without DNS.
    std::fs::copy(
        root()
            .join("labs")
            .join(LAB)
            .join("solution/policies/default-deny.yaml"),
        ws.join("policies/default-deny.yaml"),
    )
    .expect("copy");
    let o = Command::new(env!("CARGO_BIN_EXE_seclab"))
        .args(["check", LAB, "default-deny"])
        .env("SECLAB_STATE_DIR", state.path())
        .env("SECLAB_WORKSPACE", &ws)
        .output()
        .expect("runs");
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}{}", text(&o.stderr));
    assert!(
        out.contains("error: three-pods/a[Pod] => kube-system/coredns[Deployment]: expected TCP 53,UDP 53, got no connection"),
        "{out}"
    );
    assert!(
        out.contains("3 cells differ from the expectation:"),
        "{out}"
    );
    assert!(
        out.contains("         9 -> 1: expected T53 U53, got -"),
        "{out}"
    );
    // The matrix, indented under its check, still fits 80 columns.
    let matrix: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.contains("from\\to"))
        .take_while(|l| !l.contains("cells differ"))
        .collect();
    assert!(matrix.len() > 10, "{out}");
    assert!(matrix.iter().all(|l| l.chars().count() <= 80), "{out}");

    let o = Command::new(env!("CARGO_BIN_EXE_seclab"))
        .args(["check", LAB, "default-deny", "--output", "json"])
        .env("SECLAB_STATE_DIR", state.path())
        .env("SECLAB_WORKSPACE", &ws)
        .output()
        .expect("runs");
    let v: serde_json::Value = serde_json::from_str(&text(&o.stdout)).expect("json");
    let first = &v[0]["checks"][0];
    assert_eq!(first["checker"], "netpol", "{v}");
    assert_eq!(first["detail"]["matrix"]["differing"], 3, "{v}");
    assert_eq!(
        first["detail"]["matrix"]["rows"][0],
        "kube-system/coredns[Deployment]"
    );
}
