//! Malformed RBAC objects: each gives an error naming the object and the
//! field path (as the API server's validation would reject them), never a
//! panic.

use seclab_checkers::KubeObject;
use seclab_checkers::rbac::{Policy, Problem};
use serde_json::{Value, json};

fn err(yaml: &str) -> String {
    let v: Value = serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("test YAML: {e}"));
    match Policy::from_objects(&[KubeObject::new(v)]) {
        Ok(_) => panic!("expected an error for {yaml}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn role_ref_kind_typo() {
    assert_eq!(
        err(
            "kind: RoleBinding\nmetadata: {name: name, namespace: ns}\nroleRef: {kind: Rol, name: r}"
        ),
        r#"RoleBinding ns/name: roleRef.kind must be Role or ClusterRole, got "Rol""#
    );
    assert_eq!(
        err("kind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {kind: Role, name: r}"),
        r#"ClusterRoleBinding/b: roleRef.kind must be ClusterRole, got "Role""#
    );
}

#[test]
fn role_ref_missing_or_incomplete() {
    assert_eq!(
        err("kind: RoleBinding\nmetadata: {name: b, namespace: ns}\nsubjects: []"),
        "RoleBinding ns/b: roleRef is required"
    );
    assert_eq!(
        err("kind: RoleBinding\nmetadata: {name: b, namespace: ns}\nroleRef: {kind: Role}"),
        "RoleBinding ns/b: roleRef.name is required"
    );
    assert_eq!(
        err("kind: RoleBinding\nmetadata: {name: b, namespace: ns}\nroleRef: r"),
        r#"RoleBinding ns/b: roleRef must be an object, got "r""#
    );
    assert!(
        err("kind: RoleBinding\nmetadata: {name: b, namespace: ns}\nroleRef: {kind: Role, name: r, apiGroup: rbac}")
            .contains("roleRef.apiGroup must be rbac.authorization.k8s.io")
    );
}

#[test]
fn verbs_must_be_a_list_of_strings() {
    let role =
        |rules: &str| format!("kind: Role\nmetadata: {{name: r, namespace: ns}}\nrules: {rules}");
    assert_eq!(
        err(&role(
            r#"[{apiGroups: [""], resources: [pods], verbs: get}]"#
        )),
        r#"Role ns/r: rules[0].verbs must be a list of strings, got "get""#
    );
    assert_eq!(
        err(&role(
            r#"[{apiGroups: [""], resources: [pods], verbs: [get, 3]}]"#
        )),
        "Role ns/r: rules[0].verbs[1] must be a string, got 3"
    );
    assert_eq!(
        err(&role(r#"[{apiGroups: [""], resources: [pods]}]"#)),
        "Role ns/r: rules[0].verbs is required"
    );
    assert_eq!(
        err(&role("rules")),
        r#"Role ns/r: rules must be a list, got "rules""#
    );
    assert_eq!(
        err(&role("[5]")),
        "Role ns/r: rules[0] must be an object, got 5"
    );
}

#[test]
fn rules_need_resources_and_groups_or_urls() {
    let role = |kind: &str, rule: &str| {
        format!("kind: {kind}\nmetadata: {{name: r, namespace: ns}}\nrules: [{rule}]")
    };
    assert_eq!(
        err(&role("Role", "{resources: [pods], verbs: [get]}")),
        "Role ns/r: rules[0].apiGroups is required"
    );
    assert_eq!(
        err(&role("Role", r#"{apiGroups: [""], verbs: [get]}"#)),
        "Role ns/r: rules[0].resources is required"
    );
    assert!(
        err(&role("Role", "{nonResourceURLs: [/healthz], verbs: [get]}"))
            .starts_with("Role ns/r: rules[0].nonResourceURLs is not allowed in a namespaced Role")
    );
    assert!(
        err(&role(
            "ClusterRole",
            r#"{nonResourceURLs: [/x], apiGroups: [""], resources: [pods], verbs: [get]}"#
        ))
        .contains("cannot be combined")
    );
}

#[test]
fn subjects() {
    let rb = |subject: &str| {
        format!(
            "kind: RoleBinding\nmetadata: {{name: b, namespace: ns}}\nroleRef: {{kind: Role, name: r}}\nsubjects: [{subject}]"
        )
    };
    assert_eq!(
        err(&rb("{kind: Robot, name: x}")),
        r#"RoleBinding ns/b: subjects[0].kind must be User, Group or ServiceAccount, got "Robot""#
    );
    // Upstream: the namespace is required in a ClusterRoleBinding; a
    // RoleBinding defaults it to its own namespace (see rbac_semantics).
    assert_eq!(
        err(
            "kind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {kind: ClusterRole, name: r}\nsubjects: [{kind: ServiceAccount, name: sa}]"
        ),
        "ClusterRoleBinding/b: subjects[0].namespace is required"
    );
    assert_eq!(
        err(&rb("{kind: User}")),
        "RoleBinding ns/b: subjects[0].name is required"
    );
    assert_eq!(
        err(&rb("{name: x}")),
        "RoleBinding ns/b: subjects[0].kind is required"
    );
    assert!(
        err(&rb(
            "{kind: ServiceAccount, name: sa, namespace: ns, apiGroup: rbac.authorization.k8s.io}"
        ))
        .contains("subjects[0].apiGroup")
    );
    assert!(err(&rb("{kind: User, name: u, apiGroup: v1}")).contains("subjects[0].apiGroup"));
}

#[test]
fn selectors_and_metadata() {
    let e = err(
        "kind: ClusterRole\nmetadata: {name: a}\naggregationRule: {clusterRoleSelectors: [{matchExpressions: [{key: k, operator: Like}]}]}",
    );
    assert_eq!(
        e,
        r#"ClusterRole/a: aggregationRule.clusterRoleSelectors[0].matchExpressions[0].operator must be In, NotIn, Exists or DoesNotExist, got "Like""#
    );
    assert!(err("kind: ClusterRole\nmetadata: {name: a}\naggregationRule: {clusterRoleSelectors: [{matchExpressions: [{key: k, operator: In}]}]}").ends_with("values is required"));
    assert_eq!(
        err("kind: ClusterRole\nmetadata: {}"),
        "ClusterRole/: metadata.name is required"
    );
    assert!(
        err("kind: ClusterRole\nmetadata: {name: a, labels: {x: 1}}")
            .contains("metadata.labels.x must be a string")
    );
}

#[test]
fn error_carries_object_file_and_path() {
    let obj = KubeObject {
        source: Some("rbac.yaml".into()),
        doc: 2,
        value: json!({"kind": "RoleBinding", "metadata": {"name": "b", "namespace": "ns"}}),
    };
    let e = Policy::from_objects(&[obj])
        .err()
        .unwrap_or_else(|| panic!("error expected"));
    assert_eq!(e.object, "RoleBinding ns/b");
    assert_eq!(e.file.as_deref(), Some("rbac.yaml"));
    assert_eq!(e.path, "roleRef");
    assert_eq!(e.problem, Problem::Missing);
}

/// Junk in every field of every RBAC kind: errors or results, never panics.
#[test]
fn junk_never_panics() {
    let junk = [
        json!(null),
        json!(1),
        json!("s"),
        json!([]),
        json!([null, 1, "x", {}]),
        json!({}),
        json!({"a": [1]}),
    ];
    let fields = [
        "metadata",
        "rules",
        "roleRef",
        "subjects",
        "aggregationRule",
        "items",
    ];
    for kind in [
        "Role",
        "ClusterRole",
        "RoleBinding",
        "ClusterRoleBinding",
        "ServiceAccount",
        "List",
        "RoleList",
    ] {
        for field in fields {
            for j in &junk {
                let mut v = json!({"kind": kind, "metadata": {"name": "n", "namespace": "ns"},
                    "roleRef": {"kind": "ClusterRole", "name": "r"},
                    "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]});
                v[field] = j.clone();
                let _ = Policy::from_objects(&[KubeObject::new(v)]);
                let nested = json!({"kind": kind, "metadata": {"name": "n"},
                    "rules": [{"verbs": j, "apiGroups": j, "resources": j}],
                    "subjects": [{"kind": j, "name": j, "namespace": j}],
                    "roleRef": {"kind": j, "name": j, "apiGroup": j},
                    "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": j, "matchExpressions": [j]}]}});
                let _ = Policy::from_objects(&[KubeObject::new(nested)]);
            }
        }
    }
    let _ = Policy::from_objects(&[KubeObject::new(json!("not an object"))]);
    let _ = Policy::from_objects(&[KubeObject::new(json!({"kind": 5}))]);
    let _ = Policy::from_objects(&[KubeObject::new(
        json!({"kind": "Role", "metadata": {"name": "x"}}),
    )]);
}
