//! RBAC evaluation cases taken from the Kubernetes RBAC documentation
//! (<https://kubernetes.io/docs/reference/access-authn-authz/rbac/>) and the
//! upstream authorizer's rules, each as a YAML literal.

mod common;

use seclab_checkers::rbac::{Policy, Request, ResourceRef, RiskKind, Subject};
use serde_json::json;

fn policy(yaml: &str) -> Policy {
    Policy::from_objects(&common::objects(yaml))
        .unwrap_or_else(|e| panic!("policy: {e}"))
        .0
}

/// `who_can`, without the grants of the built-in bindings (which every
/// cluster has: system:masters, the control plane).
fn workspace_who_can(
    p: &Policy,
    verb: &str,
    resource: &str,
    ns: Option<&str>,
) -> Vec<(Subject, Vec<seclab_checkers::rbac::Grant>)> {
    p.who_can(verb, &res(resource), None, ns)
        .into_iter()
        .filter_map(|(s, g)| {
            let g: Vec<_> = g.into_iter().filter(|g| !g.builtin_binding).collect();
            (!g.is_empty()).then_some((s, g))
        })
        .collect()
}

fn res(s: &str) -> ResourceRef {
    ResourceRef::parse(s).unwrap_or_else(|e| panic!("{e}")).0
}

fn can(p: &Policy, user: &str, verb: &str, resource: &str, ns: Option<&str>) -> bool {
    p.can(&Request::resource(user, verb, res(resource), ns))
        .allowed
}

// From the docs: Role pod-reader + RoleBinding read-pods for jane in default.
const POD_READER: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {namespace: default, name: pod-reader}
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "watch", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read-pods, namespace: default}
subjects:
- kind: User
  name: jane
  apiGroup: rbac.authorization.k8s.io
roleRef: {kind: Role, name: pod-reader, apiGroup: rbac.authorization.k8s.io}
"#;

#[test]
fn role_binding_grants_in_its_namespace_only() {
    let p = policy(POD_READER);
    assert!(can(&p, "jane", "get", "pods", Some("default")));
    assert!(can(&p, "jane", "list", "pods", Some("default")));
    assert!(!can(&p, "jane", "delete", "pods", Some("default")));
    assert!(!can(&p, "jane", "get", "pods", Some("kube-system")));
    assert!(
        !can(&p, "jane", "get", "pods", None),
        "cluster-wide needs a ClusterRoleBinding"
    );
    assert!(!can(&p, "bob", "get", "pods", Some("default")));
    assert!(!can(&p, "jane", "get", "secrets", Some("default")));
    assert!(
        !can(&p, "jane", "get", "pods.apps", Some("default")),
        "group must match"
    );
}

#[test]
fn decision_names_binding_role_and_rule() {
    let p = policy(POD_READER);
    let d = p.can(&Request::resource(
        "jane",
        "get",
        res("pods"),
        Some("default"),
    ));
    assert_eq!(
        serde_json::to_value(&d).unwrap_or_default(),
        json!({"allowed": true, "because": [{
            "binding": "RoleBinding default/read-pods",
            "role": "Role default/pod-reader",
            "aggregated_from": null,
            "rule": {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "watch", "list"]}
        }]})
    );
    let d = p.can(&Request::resource(
        "jane",
        "delete",
        res("pods"),
        Some("default"),
    ));
    assert_eq!(
        serde_json::to_value(&d).unwrap_or_default(),
        json!({"allowed": false, "because": []})
    );
}

// From the docs: a RoleBinding to a ClusterRole grants only in its namespace.
const SECRET_READER: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: secret-reader}
rules:
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "watch", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read-secrets, namespace: development}
subjects:
- {kind: User, name: dave, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: secret-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: read-secrets-global}
subjects:
- {kind: Group, name: manager, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: secret-reader, apiGroup: rbac.authorization.k8s.io}
"#;

#[test]
fn role_binding_to_cluster_role_is_scoped() {
    let p = policy(SECRET_READER);
    assert!(can(&p, "dave", "get", "secrets", Some("development")));
    assert!(!can(&p, "dave", "get", "secrets", Some("default")));
    assert!(!can(&p, "dave", "list", "secrets", None));
    let d = p.can(&Request::resource(
        "dave",
        "get",
        res("secrets"),
        Some("development"),
    ));
    assert_eq!(d.because[0].role, "ClusterRole/secret-reader");
    assert_eq!(d.because[0].binding, "RoleBinding development/read-secrets");
}

#[test]
fn cluster_role_binding_grants_everywhere_to_group_members() {
    let p = policy(SECRET_READER);
    let req = |ns| Request::resource("carol", "list", res("secrets"), ns).with_group("manager");
    assert!(p.can(&req(Some("default"))).allowed);
    assert!(p.can(&req(Some("anything"))).allowed);
    assert!(p.can(&req(None)).allowed);
    assert!(
        !can(&p, "carol", "list", "secrets", None),
        "not without the group"
    );
    assert!(
        !can(&p, "manager", "list", "secrets", None),
        "a user named like the group is not in it"
    );
}

#[test]
fn subresources_and_wildcards() {
    let p = policy(
        r#"
kind: ClusterRole
metadata: {name: logs}
rules:
- {apiGroups: [""], resources: ["pods", "pods/log"], verbs: ["get", "list"]}
- {apiGroups: ["*"], resources: ["*/scale"], verbs: ["update"]}
---
kind: ClusterRole
metadata: {name: all-core}
rules:
- {apiGroups: [""], resources: ["*"], verbs: ["get"]}
---
kind: ClusterRoleBinding
metadata: {name: logs}
subjects: [{kind: User, name: u1}]
roleRef: {kind: ClusterRole, name: logs}
---
kind: ClusterRoleBinding
metadata: {name: all-core}
subjects: [{kind: User, name: u2}]
roleRef: {kind: ClusterRole, name: all-core}
"#,
    );
    let sub = |user: &str, verb: &str, r: &str, s: &str| {
        p.can(&Request::resource(user, verb, res(r), Some("ns")).with_subresource(s))
            .allowed
    };
    assert!(sub("u1", "get", "pods", "log"));
    assert!(!sub("u1", "get", "pods", "exec"));
    assert!(!sub("u1", "create", "pods", "log"));
    assert!(sub("u1", "update", "deployments.apps", "scale"));
    assert!(!can(&p, "u1", "update", "deployments.apps", Some("ns")));
    assert!(sub("u2", "get", "pods", "exec"), "`*` covers subresources");
    assert!(sub("u2", "get", "nodes", "proxy"));
    assert!(
        !sub("u2", "get", "deployments.apps", "scale"),
        "but only in its groups"
    );
}

#[test]
fn resource_names_need_a_name() {
    // From the docs: configmap-updater limited to my-configmap.
    let p = policy(
        r#"
kind: Role
metadata: {namespace: default, name: configmap-updater}
rules:
- apiGroups: [""]
  resources: ["configmaps"]
  resourceNames: ["my-configmap"]
  verbs: ["update", "get"]
---
kind: RoleBinding
metadata: {namespace: default, name: b}
subjects: [{kind: User, name: jane}]
roleRef: {kind: Role, name: configmap-updater}
"#,
    );
    let req = Request::resource("jane", "get", res("configmaps"), Some("default"));
    assert!(p.can(&req.clone().with_name("my-configmap")).allowed);
    assert!(!p.can(&req.clone().with_name("other")).allowed);
    assert!(
        !p.can(&req).allowed,
        "a request without a name never matches resourceNames"
    );
    assert!(
        workspace_who_can(&p, "get", "configmaps", Some("default")).is_empty(),
        "rules limited to names do not count for who-can"
    );
}

const HEALTHZ: &str = r#"
kind: ClusterRole
metadata: {name: healthz}
rules:
- nonResourceURLs: ["/healthz", "/healthz/*"]
  verbs: ["get", "post"]
---
kind: ClusterRoleBinding
metadata: {name: healthz}
subjects: [{kind: Group, name: "system:authenticated"}]
roleRef: {kind: ClusterRole, name: healthz}
---
kind: RoleBinding
metadata: {name: healthz, namespace: ns}
subjects: [{kind: User, name: "system:anonymous"}]
roleRef: {kind: ClusterRole, name: healthz}
"#;

#[test]
fn non_resource_urls() {
    let p = policy(HEALTHZ);
    assert!(
        p.can(&Request::non_resource("anyone", "get", "/healthz"))
            .allowed
    );
    assert!(
        p.can(&Request::non_resource("anyone", "get", "/healthz/etcd"))
            .allowed
    );
    assert!(
        !p.can(&Request::non_resource("anyone", "get", "/metrics"))
            .allowed
    );
    assert!(
        !p.can(&Request::non_resource("anyone", "delete", "/healthz"))
            .allowed
    );
    // system:anonymous is not authenticated, and a RoleBinding never
    // grants non-resource URLs...
    assert!(
        !p.can(&Request::non_resource(
            "system:anonymous",
            "get",
            "/healthz/etcd"
        ))
        .allowed
    );
    // ...but the built-in system:public-info-viewer lets everyone, anonymous
    // requests included, read /healthz.
    let d = p.can(&Request::non_resource(
        "system:anonymous",
        "get",
        "/healthz",
    ));
    assert!(d.allowed);
    assert_eq!(d.because.len(), 1);
    assert_eq!(
        d.because[0].binding,
        "ClusterRoleBinding/system:public-info-viewer"
    );
    assert!(d.because[0].builtin_binding && d.because[0].builtin_role);
}

const SERVICE_ACCOUNTS: &str = r#"
kind: Role
metadata: {namespace: app, name: cm-reader}
rules: [{apiGroups: [""], resources: ["configmaps"], verbs: ["get"]}]
---
kind: RoleBinding
metadata: {namespace: app, name: other-ns-sa}
subjects: [{kind: ServiceAccount, name: builder, namespace: ci}]
roleRef: {kind: Role, name: cm-reader}
---
kind: RoleBinding
metadata: {namespace: app, name: qa-sas}
subjects: [{kind: Group, name: "system:serviceaccounts:qa", apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: Role, name: cm-reader, apiGroup: rbac.authorization.k8s.io}
---
kind: ClusterRole
metadata: {name: node-viewer}
rules: [{apiGroups: [""], resources: ["nodes"], verbs: ["list"]}]
---
kind: ClusterRoleBinding
metadata: {name: all-sas}
subjects: [{kind: Group, name: "system:serviceaccounts"}]
roleRef: {kind: ClusterRole, name: node-viewer}
"#;

#[test]
fn service_account_subjects_and_implied_groups() {
    let p = policy(SERVICE_ACCOUNTS);
    let sa = |ns: &str, n: &str| format!("system:serviceaccount:{ns}:{n}");
    assert!(can(
        &p,
        &sa("ci", "builder"),
        "get",
        "configmaps",
        Some("app")
    ));
    assert!(
        !can(&p, &sa("app", "builder"), "get", "configmaps", Some("app")),
        "namespace matters"
    );
    assert!(!can(
        &p,
        &sa("ci", "builder"),
        "get",
        "configmaps",
        Some("ci")
    ));
    assert!(
        can(&p, &sa("qa", "anything"), "get", "configmaps", Some("app")),
        "system:serviceaccounts:qa"
    );
    assert!(!can(&p, &sa("dev", "x"), "get", "configmaps", Some("app")));
    assert!(
        can(&p, &sa("dev", "x"), "list", "nodes", None),
        "system:serviceaccounts"
    );
    assert!(
        !can(&p, "alice", "list", "nodes", None),
        "users are not service accounts"
    );
    assert!(
        !can(&p, "system:serviceaccount:ci", "list", "nodes", None),
        "malformed SA name"
    );
}

#[test]
fn role_binding_service_account_defaults_to_binding_namespace() {
    // Upstream appliesToUser: a RoleBinding's ServiceAccount subject without
    // a namespace means the binding's namespace.
    let (p, notes) = Policy::from_objects(&common::objects(
        r#"
kind: Role
metadata: {namespace: app, name: r}
rules: [{apiGroups: [""], resources: ["services"], verbs: ["get"]}]
---
kind: RoleBinding
metadata: {namespace: app, name: b}
subjects: [{kind: ServiceAccount, name: web}]
roleRef: {kind: Role, name: r}
"#,
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(can(
        &p,
        "system:serviceaccount:app:web",
        "get",
        "services",
        Some("app")
    ));
    assert!(notes.iter().any(|n| n.path == "subjects[0].namespace"));
}

#[test]
fn missing_roles_grant_nothing_but_cluster_admin_is_built_in() {
    let (p, notes) = Policy::from_objects(&common::objects(
        r#"
kind: Role
metadata: {namespace: other, name: r}
rules: [{apiGroups: [""], resources: ["pods"], verbs: ["get"]}]
---
kind: RoleBinding
metadata: {namespace: ns, name: wrong-ns}
subjects: [{kind: User, name: u}]
roleRef: {kind: Role, name: r}
---
kind: ClusterRoleBinding
metadata: {name: admins}
subjects: [{kind: Group, name: admins}]
roleRef: {kind: ClusterRole, name: cluster-admin}
"#,
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !can(&p, "u", "get", "pods", Some("ns")),
        "a Role resolves in the binding's namespace"
    );
    assert!(notes.iter().any(|n| n.message.contains("Role ns/r")));
    let admin = |r: Request| p.can(&r.with_group("admins")).allowed;
    assert!(admin(Request::resource("x", "delete", res("nodes"), None)));
    assert!(admin(Request::non_resource("x", "get", "/metrics")));
}

#[test]
fn lists_are_flattened_and_other_kinds_ignored() {
    let p = policy(
        r#"
apiVersion: v1
kind: List
items:
- kind: ClusterRole
  metadata: {name: r}
  rules: [{apiGroups: [""], resources: ["pods"], verbs: ["get"]}]
- kind: ClusterRoleBinding
  metadata: {name: b}
  subjects: [{kind: User, name: u}]
  roleRef: {kind: ClusterRole, name: r}
- kind: ConfigMap
  metadata: {name: c}
  data: {roleRef: "nonsense"}
---
kind: Deployment
metadata: {name: d}
"#,
    );
    assert!(can(&p, "u", "get", "pods", None));
}

#[test]
fn who_can_lists_subjects_with_grants() {
    let p = policy(SECRET_READER);
    let w = workspace_who_can(&p, "get", "secrets", Some("development"));
    let subjects: Vec<_> = w.iter().map(|(s, _)| s.to_string()).collect();
    assert_eq!(subjects, ["User dave", "Group manager"]);
    let w = workspace_who_can(&p, "get", "secrets", None);
    assert_eq!(w.len(), 1);
    assert_eq!(
        w[0].0,
        Subject::Group {
            name: "manager".into()
        }
    );
    assert_eq!(w[0].1[0].binding, "ClusterRoleBinding/read-secrets-global");
}

#[test]
fn risky_finds_escalation_paths() {
    let p = policy(
        r#"
kind: Role
metadata: {namespace: ns, name: dev}
rules:
- {apiGroups: [""], resources: ["pods/exec"], verbs: ["create"]}
- {apiGroups: ["apps"], resources: ["deployments"], verbs: ["create", "update"]}
- {apiGroups: [""], resources: ["secrets"], resourceNames: ["one"], verbs: ["get"]}
---
kind: RoleBinding
metadata: {namespace: ns, name: dev}
subjects: [{kind: ServiceAccount, name: ci, namespace: ns}]
roleRef: {kind: Role, name: dev}
---
kind: ClusterRole
metadata: {name: rbac-manager}
rules:
- {apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterroles"], verbs: ["bind", "escalate"]}
- {apiGroups: [""], resources: ["users", "groups"], verbs: ["impersonate"]}
- {apiGroups: ["*"], resources: ["configmaps"], verbs: ["get"]}
---
kind: ClusterRoleBinding
metadata: {name: rbac-manager}
subjects: [{kind: User, name: boss}]
roleRef: {kind: ClusterRole, name: rbac-manager}
---
kind: ClusterRole
metadata: {name: harmless}
rules: [{apiGroups: [""], resources: ["configmaps", "pods/log"], verbs: ["get", "list"]}]
---
kind: ClusterRoleBinding
metadata: {name: harmless}
subjects: [{kind: User, name: meek}]
roleRef: {kind: ClusterRole, name: harmless}
"#,
    );
    let risks = p.risky();
    let of = |s: &str| -> Vec<RiskKind> {
        risks
            .iter()
            .filter(|r| r.subject.to_string() == s)
            .map(|r| r.what)
            .collect()
    };
    assert_eq!(
        of("ServiceAccount ns/ci"),
        [
            RiskKind::ReadSecrets,
            RiskKind::ExecAttach,
            RiskKind::CreateWorkloads
        ]
    );
    assert_eq!(
        of("User boss"),
        [
            RiskKind::Escalate,
            RiskKind::Bind,
            RiskKind::Impersonate,
            RiskKind::Wildcard
        ]
    );
    assert!(of("User meek").is_empty());
    let r = risks
        .iter()
        .find(|r| r.what == RiskKind::ExecAttach)
        .unwrap_or_else(|| panic!("exec risk"));
    assert_eq!(
        r.because[0].rule,
        json!({"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]})
    );
    assert!(!r.why.is_empty());
}
