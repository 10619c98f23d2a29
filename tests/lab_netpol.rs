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
    // start + solution + 5 wrong cases, 3 tasks each.
    assert!(out.contains("21 passed, 0 failed, 0 skipped"), "{out}");
    for case in [
        "allow-all-from-namespace",
        "ingress-without-egress",
        "named-port-b-lacks",
        "policy-in-wrong-namespace",
        "dns-to-everywhere",
    ] {
        assert!(
            out.contains(&format!("{LAB}/wrong/{case}/")),
            "{case}: {out}"
        );
    }
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
        out.contains("         2 -> 1: expected T53 U53, got -"),
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
