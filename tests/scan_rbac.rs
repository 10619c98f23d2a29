//! `seclab scan rbac` from the outside: the built binary on YAML written to
//! a temporary folder — exit codes, text and JSON output, who-can, risky on
//! the sa-token lab's start/ and solution/, and located input errors.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Runs `seclab scan rbac ARGS...`; (exit code, stdout, stderr).
fn scan(args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["scan", "rbac"];
    all.extend_from_slice(args);
    common::seclab(&all)
}

const POLICY: &str = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: read-secrets
  namespace: app
rules:
  - apiGroups: [\"\"]
    resources: [\"secrets\"]
    verbs: [\"get\", \"list\"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: read-secrets
  namespace: app
subjects:
  - kind: ServiceAccount
    name: web
    namespace: app
  - kind: User
    name: alice
    apiGroup: rbac.authorization.k8s.io
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: read-secrets
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: pod-reader
rules:
  - apiGroups: [\"\"]
    resources: [\"pods\", \"pods/log\"]
    verbs: [\"get\", \"list\"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ops-pod-reader
subjects:
  - kind: Group
    name: ops
    apiGroup: rbac.authorization.k8s.io
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: pod-reader
";

/// A temporary folder holding `policy.yaml`.
fn policy_dir() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("policy.yaml"), POLICY).expect("write");
    let p = dir.path().display().to_string();
    (dir, p)
}

fn lab_dir(sub: &str) -> String {
    let p: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("labs/sa-token")
        .join(sub);
    p.display().to_string()
}

const WEB: &str = "system:serviceaccount:app:web";

#[test]
fn allowed_is_exit_0_with_the_grant() {
    let (_d, dir) = policy_dir();
    let (code, out, err) = scan(&[
        &dir,
        "--as",
        WEB,
        "--verb",
        "get",
        "--resource",
        "secrets",
        "-n",
        "app",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("yes\n"), "{out}");
    assert!(
        out.contains("because RoleBinding app/read-secrets -> Role app/read-secrets, rule"),
        "{out}"
    );
}

#[test]
fn denied_is_exit_1() {
    let (_d, dir) = policy_dir();
    for args in [
        // A verb the Role does not have.
        vec![
            "--as",
            WEB,
            "--verb",
            "delete",
            "--resource",
            "secrets",
            "-n",
            "app",
        ],
        // Another namespace.
        vec![
            "--as",
            WEB,
            "--verb",
            "get",
            "--resource",
            "secrets",
            "-n",
            "other",
        ],
        // Cluster-wide: only ClusterRoleBindings count.
        vec!["--as", WEB, "--verb", "get", "--resource", "secrets"],
        // Someone else.
        vec![
            "--as",
            "bob",
            "--verb",
            "get",
            "--resource",
            "secrets",
            "-n",
            "app",
        ],
    ] {
        let mut all = vec![dir.as_str()];
        all.extend(args.iter().copied());
        let (code, out, err) = scan(&all);
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        assert_eq!(out, "no\n", "{args:?}");
    }
}

#[test]
fn groups_and_subresources_count() {
    let (_d, dir) = policy_dir();
    let (code, out, _) = scan(&[
        &dir,
        "--as",
        "bob",
        "--as-group",
        "ops",
        "--verb",
        "get",
        "--resource",
        "pods/log",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ClusterRoleBinding/ops-pod-reader"), "{out}");
    let (code, _, _) = scan(&[
        &dir,
        "--as",
        "bob",
        "--as-group",
        "ops",
        "--verb",
        "create",
        "--resource",
        "pods",
        "--subresource",
        "exec",
    ]);
    assert_eq!(code, 1);
}

#[test]
fn json_has_allowed_and_because_with_the_rule_object() {
    let (_d, dir) = policy_dir();
    let (code, out, err) = scan(&[
        &dir,
        "--as",
        "alice",
        "--verb",
        "list",
        "--resource",
        "secrets",
        "-n",
        "app",
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("JSON");
    let keys: Vec<&String> = v.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["allowed", "because"]);
    assert_eq!(v["allowed"], Value::Bool(true));
    let g = &v["because"][0];
    assert_eq!(g["binding"], "RoleBinding app/read-secrets");
    assert_eq!(g["role"], "Role app/read-secrets");
    assert_eq!(g["aggregated_from"], Value::Null);
    assert_eq!(g["rule"]["verbs"], serde_json::json!(["get", "list"]));

    let (code, out, _) = scan(&[
        &dir,
        "--as",
        "alice",
        "--verb",
        "delete",
        "--resource",
        "secrets",
        "-n",
        "app",
        "-o",
        "json",
    ]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v, serde_json::json!({"allowed": false, "because": []}));
}

#[test]
fn who_can_lists_every_subject() {
    let (_d, dir) = policy_dir();
    let (code, out, err) = scan(&[
        &dir,
        "--who-can",
        "--verb",
        "get",
        "--resource",
        "secrets",
        "-n",
        "app",
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("JSON");
    let subjects: Vec<String> = v["subjects"]
        .as_array()
        .expect("list")
        .iter()
        .map(|s| format!("{} {}", s["subject"]["kind"], s["subject"]["name"]))
        .collect();
    assert_eq!(subjects, [r#""User" "alice""#, r#""ServiceAccount" "web""#]);
    assert_eq!(
        v["subjects"][0]["because"][0]["binding"],
        "RoleBinding app/read-secrets"
    );
    // The built-in bindings come apart: system:masters, and the controller
    // manager (get secrets).
    let builtin: Vec<String> = v["builtin"]
        .as_array()
        .expect("list")
        .iter()
        .map(|s| format!("{} {}", s["subject"]["kind"], s["subject"]["name"]))
        .collect();
    assert!(
        builtin.contains(&r#""Group" "system:masters""#.to_owned()),
        "{builtin:?}"
    );
    assert!(
        builtin.contains(&r#""User" "system:kube-controller-manager""#.to_owned()),
        "{builtin:?}"
    );
    // Text, and no subject of the manifests: still exit 0.
    let (code, out, _) = scan(&[&dir, "--who-can", "--verb", "delete", "--resource", "nodes"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with(
            "no subject of the manifests' bindings may delete nodes cluster-wide\n\
             through the built-in bindings every cluster has:\n\
             Group system:masters\n  because ClusterRoleBinding/cluster-admin (built-in) -> \
             ClusterRole/cluster-admin (built-in), rule"
        ),
        "{out}"
    );
}

const DEVELOPERS: &str = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: developers
subjects:
  - kind: Group
    name: developers
    apiGroup: rbac.authorization.k8s.io
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: edit
";

#[test]
fn the_built_in_edit_role_counts() {
    // Issue 9: group developers bound to the built-in ClusterRole edit.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("devs.yaml"), DEVELOPERS).expect("write");
    let d = dir.path().display().to_string();
    let (code, out, err) = scan(&[
        &d,
        "--as",
        "bob",
        "--as-group",
        "developers",
        "--verb",
        "get",
        "--resource",
        "secrets",
        "-n",
        "prod",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("yes\n  because ClusterRoleBinding/developers -> ClusterRole/edit (built-in) (aggregated from ClusterRole/system:aggregate-to-edit), rule"), "{out}");
    assert!(
        err.is_empty(),
        "binding a built-in role is no warning: {err}"
    );
    // Without the group, bob has nothing of the kind.
    let (code, out, _) = scan(&[
        &d,
        "--as",
        "bob",
        "--verb",
        "get",
        "--resource",
        "secrets",
        "-n",
        "prod",
    ]);
    assert_eq!((code, out.as_str()), (1, "no\n"));
    let (code, out, _) = scan(&[&d, "--risky"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("Group developers\n  read-secrets: "),
        "{out}"
    );
    for what in [
        "exec-attach:",
        "create-workloads:",
        "create-tokens:",
        "impersonate:",
    ] {
        assert!(out.contains(what), "{what}: {out}");
    }
}

#[test]
fn implied_groups_say_who_they_cover() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("sas.yaml"),
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: app}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: sas, namespace: app}\nsubjects: [{kind: Group, name: \"system:serviceaccounts:app\", apiGroup: rbac.authorization.k8s.io}]\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}\n",
    )
    .expect("write");
    let d = dir.path().display().to_string();
    let (code, out, _) = scan(&[&d, "--risky"]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with("Group system:serviceaccounts:app (every service account in namespace app; seen: ServiceAccount app/web)\n"),
        "{out}"
    );
    let (code, out, _) = scan(&[
        &d,
        "--who-can",
        "--verb",
        "get",
        "--resource",
        "secrets",
        "-n",
        "app",
        "-o",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        v["subjects"][0]["covers"],
        "every service account in namespace app"
    );
    assert_eq!(v["subjects"][0]["members"][0]["name"], "web");
    // And the service account itself is allowed through the group.
    let (code, _, _) = scan(&[
        &d,
        "--as",
        "system:serviceaccount:app:web",
        "--verb",
        "get",
        "--resource",
        "secrets",
        "-n",
        "app",
    ]);
    assert_eq!(code, 0);
}

#[test]
fn redefining_a_built_in_role_warns_at_its_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("edit.yaml");
    std::fs::write(
        &f,
        format!("{DEVELOPERS}---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: edit\nrules:\n  - apiGroups: [\"\"]\n    resources: [configmaps]\n    verbs: [get]\n"),
    )
    .expect("write");
    let path = f.display().to_string();
    let (code, out, err) = scan(&[
        &path,
        "--as",
        "bob",
        "--as-group",
        "developers",
        "--verb",
        "get",
        "--resource",
        "secrets",
        "-n",
        "prod",
    ]);
    assert_eq!(code, 0, "the built-in edit counts: {out}{err}");
    assert!(
        err.contains(&format!(
            "warning: {path}:17:9: ClusterRole/edit: redefines the built-in ClusterRole/edit"
        )),
        "{err}"
    );
}

#[test]
fn risky_lists_the_seeded_mistake_in_start_and_nothing_in_solution() {
    let (code, out, err) = scan(&[&lab_dir("start"), "--risky"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.starts_with("ServiceAccount sa-token/web\n  read-secrets: "),
        "{out}"
    );
    assert!(
        out.contains("because RoleBinding sa-token/web -> Role sa-token/web"),
        "{out}"
    );
    let (code, out, err) = scan(&[&lab_dir("solution"), "--risky"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out, "no subject holds a risky permission\n");
    let (code, out, _) = scan(&[&lab_dir("start"), "--risky", "-o", "json"]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["risks"][0]["what"], "read-secrets");
    assert_eq!(v["risks"][0]["subject"]["name"], "web");
}

#[test]
fn non_resource_urls_and_notes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("n.yaml");
    std::fs::write(
        &f,
        "kind: ClusterRole\napiVersion: rbac.authorization.k8s.io/v1\nmetadata: {name: health}\nrules: [{nonResourceURLs: [/healthz], verbs: [get]}]\n---\nkind: ClusterRoleBinding\napiVersion: rbac.authorization.k8s.io/v1\nmetadata: {name: health}\nsubjects: [{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}]\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: health}\n---\nkind: ClusterRoleBinding\napiVersion: rbac.authorization.k8s.io/v1\nmetadata: {name: gone}\nsubjects: [{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}]\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: missing}\n",
    )
    .expect("write");
    let path = f.display().to_string();
    let (code, out, err) = scan(&[
        &path,
        "--as",
        "alice",
        "--verb",
        "get",
        "--resource",
        "/healthz",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with("yes\n  because ClusterRoleBinding/health -> ClusterRole/health"),
        "{out}"
    );
    // The binding to a missing role is a located warning, not an error.
    assert!(
        err.contains(&format!(
            "warning: {path}:16:10: ClusterRoleBinding/gone: refers to ClusterRole/missing"
        )),
        "{err}"
    );
}

#[test]
fn malformed_objects_are_exit_2_at_file_line_col() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "kind: RoleBinding\napiVersion: rbac.authorization.k8s.io/v1\nmetadata:\n  name: x\n  namespace: app\nsubjects: []\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Rol\n  name: r\n",
    )
    .expect("write");
    let (code, out, err) = scan(&[&bad.display().to_string(), "--risky"]);
    assert_eq!(code, 2, "{out}");
    let want = format!("{}:9:9: RoleBinding app/x: roleRef.kind", bad.display());
    assert!(err.contains(&want), "{err}");

    // YAML that does not parse.
    std::fs::write(&bad, "kind: Role\nrules: [\n").expect("write");
    let (code, _, err) = scan(&[&bad.display().to_string(), "--risky"]);
    assert_eq!(code, 2);
    assert!(err.contains(&format!("{}:", bad.display())), "{err}");

    // No such file.
    let (code, _, err) = scan(&["/no/such/file.yaml", "--risky"]);
    assert_eq!(code, 2);
    assert!(err.contains("/no/such/file.yaml: no such file"), "{err}");
}

#[test]
fn bad_flags_are_usage_errors() {
    let (_d, dir) = policy_dir();
    for args in [
        vec!["--verb", "get", "--resource", "secrets"], // can-i without --as
        vec!["--as", "alice", "--resource", "secrets"], // no --verb
        vec!["--who-can", "--verb", "get"],             // no --resource
        vec!["--risky", "--who-can"],
        vec![
            "--as",
            "system:serviceaccount:web",
            "--verb",
            "get",
            "--resource",
            "secrets",
        ],
        vec![
            "--as",
            "alice",
            "--verb",
            "get",
            "--resource",
            "pods/exec/x",
        ],
    ] {
        let mut all = vec![dir.as_str()];
        all.extend(args.iter().copied());
        let (code, out, err) = scan(&all);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(!err.is_empty());
    }
    let (code, _, _) = scan(&["--risky"]);
    assert_eq!(code, 2, "a PATH is required");
}
