//! `seclab scan netpol`: the three outputs, `--expect` and the exit codes
//! (0 as expected, 1 different, 2 bad input with `file:line:col` and the
//! object named), a matrix snapshot at 80 columns, and — when the
//! conformance data is at hand — np-guard's golden connlists reproduced
//! through the command line (file loading, lists, JSON).

#[path = "../checkers/tests/common/mod.rs"]
mod conformance;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn seclab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seclab"))
        .args(args)
        .env(
            "SECLAB_STATE_DIR",
            std::env::temp_dir().join("seclab-scan-netpol-state"),
        )
        .output()
        .expect("seclab runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&p, text).expect("write");
    p
}

const PODS: &str = "\
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: c, image: x, ports: [{name: grpc, containerPort: 9090}]}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop}
spec:
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, image: x, ports: [{name: pg, containerPort: 5432}]}]}
";

// Kept in a sub-folder: folders are read recursively.
const POLICIES: &str = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress, Egress]
  ingress: [{from: [{ipBlock: {cidr: 0.0.0.0/0}}], ports: [{port: 8080}]}]
  egress: [{to: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: grpc}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress, Egress]
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]
  egress: [{to: [{podSelector: {matchLabels: {app: db}}}], ports: [{port: 5432}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from:
    - podSelector: {matchExpressions: [{key: app, operator: In, values: [api, web]}]}
    ports: [{port: 5432}, {port: 5433, protocol: UDP}]
";

const CONNLIST: &str = "\
0.0.0.0-255.255.255.255[External] => shop/web[Deployment] : TCP 8080
shop/api[Deployment] => shop/db[StatefulSet] : TCP 5432
shop/web[Deployment] => shop/api[Deployment] : TCP 9090
";

fn shop() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "pods.yaml", PODS);
    write(dir.path(), "policies/all.yaml", POLICIES);
    write(
        dir.path(),
        "notes.txt",
        "not a manifest: skipped in folders\n",
    );
    dir
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn connlist_output_is_np_guard_text() {
    let dir = shop();
    let o = seclab(&["scan", "netpol", "--output", "connlist", path(dir.path())]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), CONNLIST);
}

#[test]
fn matching_expectation_exits_0_and_differing_exits_1() {
    let dir = shop();
    let exp = write(
        dir.path(),
        "expected.txt",
        &format!("# the shop\n\n{CONNLIST}"),
    );
    let o = seclab(&[
        "scan",
        "netpol",
        "-o",
        "connlist",
        "--expect",
        path(&exp),
        path(&dir.path().join("pods.yaml")),
        path(&dir.path().join("policies")),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The expectation compares by meaning: one range may cover two atoms.
    let exp = write(
        dir.path(),
        "expected.txt",
        "0.0.0.0-255.255.255.255[External] => shop/web[Deployment] : TCP 8080\n\
         shop/web[Deployment] => shop/api[Deployment] : TCP 9090\n\
         shop/api[Deployment] => shop/db[StatefulSet] : TCP 5432,UDP 5433\n",
    );
    let o = seclab(&[
        "scan",
        "netpol",
        "-o",
        "connlist",
        "--expect",
        path(&exp),
        path(&dir.path().join("pods.yaml")),
        path(&dir.path().join("policies")),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), CONNLIST);
    assert!(
        stderr(&o).contains(
            "1 pair(s) differ from"
        ) && stderr(&o).contains(
            "  shop/api[Deployment] => shop/db[StatefulSet]: expected TCP 5432,UDP 5433, got TCP 5432\n"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn json_output_has_workloads_connections_and_diff_with_expect() {
    let dir = shop();
    let o = seclab(&["scan", "netpol", "--output", "json", path(dir.path())]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(
        v["workloads"][0],
        serde_json::json!({"namespace": "shop", "name": "api", "kind": "Deployment"})
    );
    assert_eq!(v["workloads"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        v["connections"][1],
        serde_json::json!({"src": "shop/api[Deployment]", "dst": "shop/db[StatefulSet]", "conns": "TCP 5432"})
    );
    assert!(v.get("diff").is_none(), "no diff without --expect");

    let exp = write(
        dir.path(),
        "expected.conn",
        "shop/web[Deployment] => shop/api[Deployment] : All Connections\n",
    );
    let o = seclab(&[
        "scan",
        "netpol",
        "-o",
        "json",
        "--expect",
        path(&exp),
        path(&dir.path().join("pods.yaml")),
        path(&dir.path().join("policies")),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    let diff = v["diff"].as_array().expect("diff");
    assert_eq!(diff.len(), 3);
    assert_eq!(
        diff[2],
        serde_json::json!({"src": "shop/web[Deployment]", "dst": "shop/api[Deployment]",
            "expected": "All Connections", "actual": "TCP 9090"})
    );
}

#[test]
fn matrix_snapshot_at_80_columns() {
    let dir = shop();
    let exp = write(
        dir.path(),
        "expected.txt",
        "0.0.0.0-255.255.255.255[External] => shop/web[Deployment] : TCP 8080\n\
         shop/web[Deployment] => shop/api[Deployment] : TCP 9090\n",
    );
    let o = seclab(&[
        "scan",
        "netpol",
        "--expect",
        path(&exp),
        path(&dir.path().join("pods.yaml")),
        path(&dir.path().join("policies")),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let expected = "\
from\\to      1      2      3    ext
1            . T5432!      -      -
2            -      .      -      -
3        T9090      -      .      -
ext          -      -  T8080

Rows are sources, columns destinations. all = every protocol and port,
- = denied, . = self (not analysed), T/U/S = TCP/UDP/SCTP ports (T* = all
of TCP), ~ = only part of the external IPs, *N = see note N,
! = differs from the expectation.
  1 = shop/api[Deployment]
  2 = shop/db[StatefulSet]
  3 = shop/web[Deployment]
ext = IPs outside the cluster
1 cell differs from the expectation:
  1 -> 2: expected -, got T5432
";
    assert_eq!(stdout(&o), expected);
    assert!(stdout(&o).lines().all(|l| l.chars().count() <= 80));
    // The matrix is the default output; without --expect nothing is marked.
    let o = seclab(&["scan", "netpol", path(dir.path())]);
    assert_eq!(o.status.code(), Some(0));
    assert!(!stdout(&o).contains('!') && !stdout(&o).contains("expectation"));
}

/// Runs a scan of one bad policy and returns (exit code, stderr).
fn bad_policy(spec: &str) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(
        dir.path(),
        "bad.yaml",
        &format!(
            "kind: Pod\nmetadata: {{name: p, namespace: x}}\n---\n\
             apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: broken\n  namespace: x\nspec:\n{spec}"
        ),
    );
    let o = seclab(&["scan", "netpol", path(dir.path())]);
    (
        o.status.code(),
        first_line(&stderr(&o)),
        path(&file).to_owned(),
    )
}

/// The located message: the first line of stderr (a snippet of the
/// offending line follows it).
fn first_line(err: &str) -> String {
    err.lines()
        .next()
        .map(|l| format!("{l}\n"))
        .unwrap_or_default()
}

#[test]
fn bad_cidr_is_exit_2_located_and_named() {
    let (code, err, file) = bad_policy(
        "  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock:\n        cidr: 10.0.0.0/33\n",
    );
    assert_eq!(code, Some(2));
    assert_eq!(
        err,
        format!(
            "{file}:14:15: NetworkPolicy x/broken: bad CIDR \"10.0.0.0/33\" (prefix length above 32) in spec.ingress[0].from[0].ipBlock.cidr\n"
        )
    );
}

#[test]
fn unknown_operator_is_exit_2_located_and_named() {
    let (code, err, file) = bad_policy(
        "  podSelector:\n    matchExpressions:\n    - key: app\n      operator: Maybe\n      values: [a]\n",
    );
    assert_eq!(code, Some(2));
    assert!(
        err.starts_with(&format!(
            "{file}:13:17: NetworkPolicy x/broken: unknown operator \"Maybe\""
        )),
        "{err}"
    );
    assert!(
        err.contains("in spec.podSelector.matchExpressions[0].operator"),
        "{err}"
    );
}

#[test]
fn port_out_of_range_is_exit_2_located_and_named() {
    for (port, col) in [("0", 13), ("65536", 13), ("-1", 13)] {
        let (code, err, file) = bad_policy(&format!(
            "  podSelector: {{}}\n  egress:\n  - ports:\n    - port: {port}\n"
        ));
        assert_eq!(code, Some(2), "port {port}");
        assert_eq!(
            err,
            format!(
                "{file}:13:{col}: NetworkPolicy x/broken: port {port} is outside 1-65535 in spec.egress[0].ports[0].port\n"
            )
        );
    }
    let (code, err, file) = bad_policy(
        "  podSelector: {}\n  egress:\n  - ports:\n    - port: 80\n      endPort: 70000\n",
    );
    assert_eq!(code, Some(2));
    assert!(
        err.starts_with(&format!("{file}:14:16: NetworkPolicy x/broken: port 70000")),
        "{err}"
    );
}

/// `port: "8080"` is a port name to the API server, which rejects it: exit
/// 2 at the value, with the hint to write the number unquoted — not a scan
/// that reads it as 8080.
#[test]
fn quoted_port_number_is_exit_2_located_with_the_fix() {
    for quoted in ["\"8080\"", "'8080'"] {
        let (code, err, file) = bad_policy(&format!(
            "  podSelector: {{}}\n  egress:\n  - ports:\n    - port: {quoted}\n      protocol: TCP\n"
        ));
        assert_eq!(code, Some(2), "{err}");
        assert_eq!(
            err,
            format!(
                "{file}:13:13: NetworkPolicy x/broken: port \"8080\" is a string, so a port name, and the API server rejects it (a port name must contain at least one letter (a-z)); write the number unquoted: `port: 8080` in spec.egress[0].ports[0].port\n"
            )
        );
    }
    let (code, err, file) =
        bad_policy("  podSelector: {}\n  ingress:\n  - ports:\n    - port: Web_UI\n");
    assert_eq!(code, Some(2));
    assert!(
        err.starts_with(&format!(
            "{file}:13:13: NetworkPolicy x/broken: bad port name \"Web_UI\" (a port name may contain only"
        )),
        "{err}"
    );
}

/// A container port name the API server would reject is located in its
/// workload, like a broken policy.
#[test]
fn bad_container_port_name_is_exit_2_located() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(
        dir.path(),
        "pods.yaml",
        "kind: Namespace\nmetadata: {name: x}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: x\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - name: c\n        image: nginx\n        ports:\n        - containerPort: 8080\n          name: http_alt\n",
    );
    let o = seclab(&["scan", "netpol", path(dir.path())]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        first_line(&stderr(&o)),
        format!(
            "{}:18:17: Deployment x/web: bad port name \"http_alt\" (a port name may contain only lowercase letters (a-z), digits (0-9) and '-') in spec.template.spec.containers[0].ports[0].name\n",
            path(&file)
        )
    );
}

#[test]
fn policies_in_a_typed_list_are_read_and_located() {
    let dir = tempfile::tempdir().expect("tempdir");
    // np-guard's fixtures write list items without `kind`.
    let file = write(
        dir.path(),
        "list.json",
        r#"{"kind": "NetworkPolicyList", "items": [
  {"metadata": {"name": "ok", "namespace": "x"}, "spec": {"podSelector": {}}},
  {"metadata": {"name": "bad", "namespace": "x"},
   "spec": {"podSelector": {}, "policyTypes": ["Sideways"]}}]}
"#,
    );
    write(
        dir.path(),
        "pods.yaml",
        "kind: PodList\nitems:\n- metadata: {name: p, namespace: x}\n- metadata: {name: q, namespace: x}\n",
    );
    let o = seclab(&["scan", "netpol", "-o", "connlist", path(dir.path())]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        first_line(&stderr(&o)),
        format!(
            "{}:4:48: NetworkPolicy x/bad: unknown policy type \"Sideways\" (want Ingress or Egress) in spec.policyTypes[0]\n",
            path(&file)
        )
    );
    write(
        dir.path(),
        "list.json",
        r#"{"kind": "NetworkPolicyList", "items": [
  {"metadata": {"name": "ok", "namespace": "x"}, "spec": {"podSelector": {"matchLabels": {"a": "b"}}}}]}"#,
    );
    let o = seclab(&["scan", "netpol", "-o", "connlist", path(dir.path())]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("x/p[Pod] => x/q[Pod] : All Connections"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn bad_files_and_expectations_are_exit_2() {
    let dir = shop();
    let o = seclab(&["scan", "netpol", path(&dir.path().join("missing"))]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("missing: no such file or folder"),
        "{}",
        stderr(&o)
    );

    write(dir.path(), "broken/x.yaml", "kind: [\n");
    let o = seclab(&["scan", "netpol", path(&dir.path().join("broken"))]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("x.yaml:"), "{}", stderr(&o));

    let exp = write(
        dir.path(),
        "exp.txt",
        "# ok\nshop/web[Deployment] -> shop/api[Deployment] : TCP 1\n",
    );
    let o = seclab(&[
        "scan",
        "netpol",
        "--expect",
        path(&exp),
        path(&dir.path().join("pods.yaml")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with(&format!("{}:2: expected `SRC => DST : CONNS`", path(&exp))),
        "{}",
        stderr(&o)
    );
    let exp = write(
        dir.path(),
        "exp.txt",
        "shop/web[Deployment] => shop/api[Deployment] : TCP 0\n",
    );
    let o = seclab(&[
        "scan",
        "netpol",
        "--expect",
        path(&exp),
        path(&dir.path().join("pods.yaml")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(":1: "), "{}", stderr(&o));

    let o = seclab(&["scan", "netpol"]);
    assert_eq!(o.status.code(), Some(2), "PATH is required");
}

// np-guard's golden files (core scenarios without a tagged quirk) through
// the command line: the strict file loader, lists, JSON and folders must
// give the engine what the conformance test gives it.
#[test]
fn np_guard_golden_connlists_through_the_cli() {
    let Some(dir) = conformance::conformance_dir("netpol") else {
        return;
    };
    let (mut total, mut failures) = (0, Vec::new());
    for row in conformance::netpol_scenarios(&dir) {
        if !row.gated() {
            continue;
        }
        total += 1;
        let sdir = dir.join(&row.name);
        let expected = sdir.join("expected_connlist.txt");
        let o = seclab(&[
            "scan",
            "netpol",
            "-o",
            "connlist",
            "--expect",
            path(&expected),
            path(&sdir.join("manifests")),
        ]);
        let want = std::fs::read_to_string(&expected).expect("golden file");
        if o.status.code() != Some(0) || !want.lines().eq(stdout(&o).lines()) {
            failures.push(format!(
                "{}: exit {:?}: {}",
                row.name,
                o.status.code(),
                stderr(&o)
            ));
        }
    }
    eprintln!(
        "scan netpol: {} of {total} golden connlists reproduced",
        total - failures.len()
    );
    assert!(total > 0);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
