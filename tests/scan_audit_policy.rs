//! `seclab scan audit-policy` through the real binary: which rule, level
//! and omitted stages a policy gives a few requests (resource, subresource,
//! group wildcard, non-resource, unauthenticated, service account), the
//! JSON shape, and that malformed policy files exit 2 at `path:line:col`
//! without a panic.

mod common;

use common::{Run, Sandbox, write_files};
use serde_json::{Value, json};

const POLICY: &str = "apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    userGroups: [system:unauthenticated]
    nonResourceURLs: [/healthz*]
  - level: Metadata
    resources:
      - group: \"\"
        resources: [secrets]
  - level: RequestResponse
    users: [alice]
    verbs: [update]
    resources:
      - group: \"*\"
        resources: [\"*/status\"]
    omitStages: [ResponseStarted]
  - level: Request
    userGroups: [system:serviceaccounts:shop]
    resources:
      - resources: [pods/*]
  - level: Request
    namespaces: [\"\"]
    resources:
      - group: rbac.authorization.k8s.io
        resources: [clusterroles]
        resourceNames: [edit]
  - level: Metadata
    userGroups: [system:unauthenticated]
";

fn scan(sb: &Sandbox, args: &[&str]) -> Run {
    let mut all = vec!["scan", "audit-policy", "policy.yaml"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--output", "json"]);
    sb.run(&all)
}

fn verdict(sb: &Sandbox, args: &[&str]) -> Value {
    let r = scan(sb, args);
    assert_eq!(r.code, 0, "{args:?}: {r:?}");
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {}", r.stdout))
}

fn sandbox() -> Sandbox {
    let sb = Sandbox::new();
    write_files(&sb.work(), &[("policy.yaml", POLICY)]);
    sb
}

#[test]
fn requests_get_the_first_matching_rule() {
    let sb = sandbox();
    // Core-group secrets: rule 1, the policy-wide stage only.
    assert_eq!(
        verdict(
            &sb,
            &[
                "--user",
                "bob",
                "--verb",
                "get",
                "--resource",
                "secrets",
                "-n",
                "shop"
            ]
        ),
        json!({"level": "Metadata", "omit_stages": ["RequestReceived"], "rule": 1})
    );
    // group "*" and "*/status" match any group's status; stages are unioned.
    assert_eq!(
        verdict(
            &sb,
            &[
                "--user",
                "alice",
                "--verb",
                "update",
                "--resource",
                "deployments.apps/status",
                "-n",
                "shop"
            ]
        ),
        json!({"level": "RequestResponse", "omit_stages": ["RequestReceived", "ResponseStarted"], "rule": 2})
    );
    // The same request by someone else matches nothing: level None and the
    // policy-wide stages.
    assert_eq!(
        verdict(
            &sb,
            &[
                "--user",
                "bob",
                "--verb",
                "update",
                "--resource",
                "deployments.apps",
                "--subresource",
                "status",
                "-n",
                "shop"
            ]
        ),
        json!({"level": "None", "omit_stages": ["RequestReceived"], "rule": null})
    );
    // resourceNames and the cluster scope ("").
    assert_eq!(
        verdict(
            &sb,
            &[
                "--user",
                "bob",
                "--verb",
                "get",
                "--resource",
                "clusterroles.rbac.authorization.k8s.io",
                "--name",
                "edit"
            ]
        )["rule"],
        json!(4)
    );
    assert_eq!(
        verdict(
            &sb,
            &[
                "--user",
                "bob",
                "--verb",
                "get",
                "--resource",
                "clusterroles.rbac.authorization.k8s.io",
                "--name",
                "view"
            ]
        )["rule"],
        json!(null)
    );
}

#[test]
fn implied_groups_are_the_api_servers() {
    let sb = sandbox();
    // A service account of namespace shop is in system:serviceaccounts:shop.
    assert_eq!(
        verdict(
            &sb,
            &[
                "--user",
                "system:serviceaccount:shop:web",
                "--verb",
                "get",
                "--resource",
                "pods/log",
                "-n",
                "shop"
            ]
        )["rule"],
        json!(3)
    );
    assert_eq!(
        verdict(
            &sb,
            &[
                "--user",
                "system:serviceaccount:other:web",
                "--verb",
                "get",
                "--resource",
                "pods/log",
                "-n",
                "shop"
            ]
        )["rule"],
        json!(null)
    );
    // No --user: system:anonymous in system:unauthenticated.
    assert_eq!(
        verdict(&sb, &["--verb", "get", "--path", "/healthz/etcd"]),
        json!({"level": "None", "omit_stages": ["RequestReceived"], "rule": 0})
    );
    assert_eq!(
        verdict(&sb, &["--verb", "get", "--resource", "pods", "-n", "shop"])["rule"],
        json!(5)
    );
    // An authenticated user is not in system:unauthenticated, and a
    // non-resource URL does not match resource rules.
    assert_eq!(
        verdict(
            &sb,
            &[
                "--user", "bob", "--group", "devs", "--verb", "get", "--path", "/healthz"
            ]
        )["rule"],
        json!(null)
    );
}

#[test]
fn text_output_names_the_request_and_rule() {
    let sb = sandbox();
    let r = sb.run(&[
        "scan",
        "audit-policy",
        "policy.yaml",
        "--verb",
        "get",
        "--resource",
        "secrets",
        "-n",
        "shop",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(
            "system:anonymous (groups system:unauthenticated): get secrets in namespace shop"
        ),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("level: Metadata\n"), "{}", r.stdout);
    assert!(r.stdout.contains("rule: rules[1]\n"), "{}", r.stdout);
}

#[test]
fn unknown_fields_warn_but_load() {
    let sb = Sandbox::new();
    write_files(
        &sb.work(),
        &[(
            "policy.yaml",
            "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Request\n    omitStage: [RequestReceived]\n",
        )],
    );
    let r = scan(&sb, &["--verb", "get", "--path", "/metrics"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr
            .contains("policy.yaml:5:5: unknown field rules[0].omitStage"),
        "{}",
        r.stderr
    );
    assert_eq!(
        serde_json::from_str::<Value>(&r.stdout).expect("json"),
        json!({"level": "Request", "omit_stages": [], "rule": 0})
    );
}

#[test]
fn malformed_policies_exit_2_at_their_position() {
    let head = "apiVersion: audit.k8s.io/v1\nkind: Policy\n";
    let cases: Vec<(String, &str)> = vec![
        (
            format!("{head}rules:\n  - level: Everything\n"),
            "policy.yaml:4:12: rules[0].level",
        ),
        (
            format!("{head}rules:\n  - verbs: [get]\n"),
            "policy.yaml:4:5: rules[0].level",
        ),
        (
            format!("{head}rules:\n  - level: None\n    verbs: [get\n"),
            "policy.yaml:5:",
        ),
        (format!("{head}rules: []\n"), "policy.yaml:3:8: rules"),
        (
            format!("{head}rules:\n  - level: None\n    omitStages: [Done]\n"),
            "policy.yaml:5:18: rules[0].omitStages[0]",
        ),
        (
            format!("{head}rules:\n  - level: None\n    nonResourceURLs: [healthz]\n"),
            "policy.yaml:5:23: rules[0].nonResourceURLs[0]",
        ),
        (
            format!("{head}rules:\n  - level: None\n    resources:\n    - group: apps/v1\n"),
            "policy.yaml:6:14: rules[0].resources[0].group",
        ),
        (
            format!("{head}rules:\n  - level: None\n    users: tim\n"),
            "policy.yaml:5:12: rules[0].users",
        ),
        (
            "apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules: [{level: None}]\n".to_owned(),
            "policy.yaml:1:13: apiVersion",
        ),
        (
            format!("{head}rules: [{{level: None}}]\n---\n{head}"),
            "policy.yaml:5:1: 2 documents",
        ),
        ("- just\n- a list\n".to_owned(), "policy.yaml:1:1:"),
        (String::new(), "policy.yaml:1:1: no policy"),
    ];
    for (text, want) in cases {
        let sb = Sandbox::new();
        write_files(&sb.work(), &[("policy.yaml", &text)]);
        let r = scan(&sb, &["--verb", "get", "--path", "/x"]);
        assert_eq!(r.code, 2, "{text}: {r:?}");
        assert!(
            r.stderr.starts_with(want),
            "{text}: want {want:?}, got {}",
            r.stderr
        );
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        assert!(r.stdout.is_empty(), "{}", r.stdout);
    }
}

#[test]
fn bad_flags_exit_2() {
    let sb = sandbox();
    for args in [
        &["--verb", "get"][..],
        &["--verb", "get", "--resource", "pods", "--path", "/x"],
        &["--verb", "get", "--resource", "/healthz"],
        &["--verb", "get", "--path", "healthz"],
        &["--verb", "get", "--group", "devs", "--path", "/x"],
        &[
            "--verb",
            "get",
            "--resource",
            "pods/log",
            "--subresource",
            "exec",
        ],
    ] {
        let r = scan(&sb, args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }
    let r = sb.run(&[
        "scan",
        "audit-policy",
        "missing.yaml",
        "--verb",
        "get",
        "--path",
        "/x",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.starts_with("missing.yaml: cannot read"),
        "{}",
        r.stderr
    );
}
