//! `seclab scan pss` through the real binary, on files in a temp dir: the
//! text and JSON shapes, exit codes (0 allowed, 1 violations, 2 bad input
//! with `path:line:col`), List kinds, folders, unknown-field warnings, and
//! that malformed input never panics.

mod common;

use common::{Sandbox, write_files};
use serde_json::Value;

const GOOD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: good
  namespace: shop
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: app
    image: registry.example/app:1
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
";

const PRIVILEGED: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: scissors
spec:
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.27
        securityContext:
          privileged: true
";

fn json(stdout: &str) -> Vec<Value> {
    serde_json::from_str::<Value>(stdout)
        .expect("json output")
        .as_array()
        .expect("an array")
        .clone()
}

#[test]
fn allowed_workload_exits_0_and_prints_pass() {
    let sb = Sandbox::new();
    write_files(&sb.work(), &[("good.yaml", GOOD)]);
    let r = sb.run(&["scan", "pss", "good.yaml"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout.trim(),
        "PASS Pod/good: allowed by restricted:latest"
    );
}

#[test]
fn violations_exit_1_with_upstream_message_and_positions() {
    let sb = Sandbox::new();
    write_files(&sb.work(), &[("d.yaml", PRIVILEGED)]);
    let r = sb.run(&["scan", "pss", "--level", "baseline", "d.yaml"]);
    assert_eq!(r.code, 1, "{r:?}");
    let mut lines = r.stdout.lines();
    assert_eq!(
        lines.next(),
        Some(
            "FAIL Deployment/scissors: privileged (container \"web\" must not set securityContext.privileged=true)"
        )
    );
    assert_eq!(
        lines.next(),
        Some(
            "  d.yaml:12:23: privileged (container \"web\" must not set securityContext.privileged=true)"
        )
    );
}

#[test]
fn json_has_one_element_per_workload_with_the_documented_fields() {
    let sb = Sandbox::new();
    write_files(
        &sb.work(),
        &[(
            "all.yaml",
            &format!(
                "{GOOD}---\napiVersion: v1\nkind: Service\nmetadata: {{name: svc}}\n---\n{PRIVILEGED}"
            ),
        )],
    );
    let r = sb.run(&[
        "scan",
        "pss",
        "-o",
        "json",
        "--version",
        "v1.30",
        "all.yaml",
    ]);
    assert_eq!(r.code, 1, "{r:?}");
    let items = json(&r.stdout);
    assert_eq!(items.len(), 2, "the Service is skipped: {items:?}");
    let good = &items[0];
    assert_eq!(good["source"], "all.yaml");
    assert_eq!(good["doc"], 0);
    assert_eq!(good["kind"], "Pod");
    assert_eq!(good["namespace"], "shop");
    assert_eq!(good["name"], "good");
    assert_eq!(good["level"], "restricted");
    assert_eq!(good["version"], "v1.30");
    assert_eq!(good["resolved_version"], "v1.30");
    assert_eq!(good["allowed"], true);
    assert_eq!(good["message"], "");
    assert_eq!(good["violations"], serde_json::json!([]));
    assert_eq!(good["warnings"], serde_json::json!([]));
    let bad = &items[1];
    assert_eq!(bad["doc"], 2);
    assert_eq!(bad["namespace"], Value::Null);
    assert_eq!(bad["allowed"], false);
    let msg = bad["message"].as_str().expect("message");
    assert!(msg.starts_with("privileged (container \"web\""), "{msg}");
    assert!(!msg.contains("violates PodSecurity"), "{msg}");
    let v = &bad["violations"][0];
    assert_eq!(v["check"], "privileged");
    assert_eq!(v["reason"], "privileged");
    assert_eq!(
        v["paths"][0],
        "spec.template.spec.containers[0].securityContext.privileged"
    );
    // Line of `privileged: true` (line 12 of PRIVILEGED) in the third
    // document, after GOOD, `---`, three Service lines and `---`.
    let first_line_of_doc = GOOD.lines().count() + 6;
    assert_eq!(v["line"], first_line_of_doc + 11);
    assert_eq!(v["col"], 23);
}

#[test]
fn latest_resolves_to_the_newest_policy() {
    let sb = Sandbox::new();
    write_files(&sb.work(), &[("good.yaml", GOOD)]);
    let r = sb.run(&["scan", "pss", "--output", "json", "good.yaml"]);
    let items = json(&r.stdout);
    assert_eq!(items[0]["version"], "latest");
    assert_eq!(
        items[0]["resolved_version"],
        format!("v1.{}", seclab_checkers::pss::MAX_MINOR)
    );
}

#[test]
fn list_kinds_and_folders_are_read() {
    let sb = Sandbox::new();
    let indented: String = GOOD
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("- {l}\n")
            } else {
                format!("  {l}\n")
            }
        })
        .collect();
    write_files(
        &sb.work(),
        &[
            ("m/a/list.yaml", &format!("apiVersion: v1\nkind: PodList\nitems:\n{indented}")),
            ("m/b/deploy.json", &serde_json::to_string(&serde_json::json!({
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "j"},
                "spec": {"template": {"spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "x"}]}}}
            })).expect("json")),
            ("m/notes.txt", "not a manifest: ["),
        ],
    );
    let r = sb.run(&["scan", "pss", "--level", "baseline", "-o", "json", "m"]);
    assert_eq!(r.code, 1, "{r:?}");
    let items = json(&r.stdout);
    let names: Vec<&str> = items.iter().filter_map(|i| i["name"].as_str()).collect();
    assert_eq!(names, ["good", "j"]);
    assert_eq!(items[0]["source"], "m/a/list.yaml");
    assert_eq!(items[1]["message"], "host namespaces (hostNetwork=true)");
}

#[test]
fn unknown_field_warning_names_the_field_and_suggestion() {
    let sb = Sandbox::new();
    let typo = GOOD.replace("runAsNonRoot: true", "runAsNonroot: true");
    write_files(&sb.work(), &[("typo.yaml", &typo)]);
    let r = sb.run(&["scan", "pss", "typo.yaml"]);
    assert_eq!(r.code, 1, "the typo leaves runAsNonRoot unset: {r:?}");
    assert!(
        r.stdout.contains("  warning: typo.yaml:8:5: unknown field \"spec.securityContext.runAsNonroot\"; did you mean \"runAsNonRoot\"?"),
        "{}",
        r.stdout
    );
    let r = sb.run(&["scan", "pss", "-o", "json", "typo.yaml"]);
    let w = &json(&r.stdout)[0]["warnings"][0];
    assert_eq!(w["field"], "runAsNonroot");
    assert_eq!(w["suggestion"], "runAsNonRoot");
    // The key of the unknown field, not its value.
    assert_eq!((w["line"].as_u64(), w["col"].as_u64()), (Some(8), Some(5)));
}

#[test]
fn bad_input_exits_2_with_position_never_a_panic() {
    let sb = Sandbox::new();
    write_files(
        &sb.work(),
        &[
            ("broken.yaml", "kind: Pod\nmetadata: [\n"),
            (
                "shape.yaml",
                "kind: Pod\nmetadata: {name: p}\nspec:\n  containers: 3\n",
            ),
            (
                "holder.yaml",
                "kind: Deployment\nmetadata: {name: d}\nspec:\n  template: x\n",
            ),
            (
                "caps.yaml",
                "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    securityContext:\n      capabilities: {add: [1]}\n",
            ),
        ],
    );
    let r = sb.run(&["scan", "pss", "broken.yaml"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.starts_with("broken.yaml:"), "{}", r.stderr);
    let r = sb.run(&["scan", "pss", "shape.yaml"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(
        r.stderr.lines().next(),
        Some("shape.yaml:4:15: Pod/p: invalid spec.containers: must be a list")
    );
    for f in ["holder.yaml", "caps.yaml"] {
        let r = sb.run(&["scan", "pss", f]);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.starts_with(&format!("{f}:")), "{}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }
    let r = sb.run(&["scan", "pss", "missing.yaml"]);
    assert_eq!(r.code, 2, "{r:?}");
    let r = sb.run(&["scan", "pss", "--level", "privileged", "shape.yaml"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("baseline"), "{}", r.stderr);
}

#[test]
fn no_workloads_is_success_with_a_note() {
    let sb = Sandbox::new();
    write_files(
        &sb.work(),
        &[(
            "svc.yaml",
            "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n",
        )],
    );
    let r = sb.run(&["scan", "pss", "svc.yaml"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("no workloads"), "{}", r.stderr);
}
