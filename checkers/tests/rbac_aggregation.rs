//! Aggregated ClusterRoles: `aggregationRule.clusterRoleSelectors` with
//! `matchLabels` and `matchExpressions`, transitive aggregation, cycles, and
//! the controller replacing the aggregated role's own rules — as the
//! Kubernetes docs and the clusterrole-aggregation controller describe.

mod common;

use seclab_checkers::rbac::{Policy, Request, ResourceRef};

fn policy(yaml: &str) -> Policy {
    Policy::from_objects(&common::objects(yaml))
        .unwrap_or_else(|e| panic!("policy: {e}"))
        .0
}

fn res(s: &str) -> ResourceRef {
    ResourceRef::parse(s).unwrap_or_else(|e| panic!("{e}")).0
}

fn can(p: &Policy, user: &str, verb: &str, resource: &str, ns: Option<&str>) -> bool {
    p.can(&Request::resource(user, verb, res(resource), ns))
        .allowed
}

const AGGREGATED: &str = r#"
kind: ClusterRole
metadata: {name: monitoring}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {rbac.example.com/aggregate-to-monitoring: "true"}
rules: []
---
kind: ClusterRole
metadata:
  name: monitoring-endpoints
  labels: {rbac.example.com/aggregate-to-monitoring: "true"}
rules:
- apiGroups: [""]
  resources: ["services", "endpointslices", "pods"]
  verbs: ["get", "list", "watch"]
---
kind: ClusterRole
metadata:
  name: not-selected
  labels: {rbac.example.com/aggregate-to-monitoring: "false"}
rules: [{apiGroups: [""], resources: ["secrets"], verbs: ["get"]}]
---
kind: ClusterRole
metadata: {name: expr}
aggregationRule:
  clusterRoleSelectors:
  - matchExpressions:
    - {key: tier, operator: In, values: [a, b]}
    - {key: legacy, operator: DoesNotExist}
  - matchExpressions:
    - {key: special, operator: Exists}
rules: [{apiGroups: [""], resources: ["nodes"], verbs: ["delete"]}]
---
kind: ClusterRole
metadata: {name: tier-a, labels: {tier: a}}
rules: [{apiGroups: ["apps"], resources: ["deployments"], verbs: ["get"]}]
---
kind: ClusterRole
metadata: {name: tier-a-legacy, labels: {tier: a, legacy: "yes"}}
rules: [{apiGroups: ["batch"], resources: ["jobs"], verbs: ["get"]}]
---
kind: ClusterRole
metadata: {name: special, labels: {special: "", rbac.example.com/aggregate-to-monitoring: "true"}}
aggregationRule:
  clusterRoleSelectors: [{matchLabels: {tier: c}}]
---
kind: ClusterRole
metadata: {name: tier-c, labels: {tier: c}}
rules: [{apiGroups: [""], resources: ["events"], verbs: ["get"]}]
---
kind: ClusterRoleBinding
metadata: {name: mon}
subjects: [{kind: User, name: mon}]
roleRef: {kind: ClusterRole, name: monitoring}
---
kind: ClusterRoleBinding
metadata: {name: expr}
subjects: [{kind: User, name: ex}]
roleRef: {kind: ClusterRole, name: expr}
"#;

#[test]
fn aggregated_cluster_roles() {
    let (p, notes) =
        Policy::from_objects(&common::objects(AGGREGATED)).unwrap_or_else(|e| panic!("{e}"));
    let d = p.can(&Request::resource(
        "mon",
        "list",
        res("endpointslices"),
        Some("x"),
    ));
    assert!(d.allowed);
    assert_eq!(d.because[0].role, "ClusterRole/monitoring");
    assert_eq!(
        d.because[0].aggregated_from.as_deref(),
        Some("ClusterRole/monitoring-endpoints")
    );
    assert!(
        !can(&p, "mon", "get", "secrets", Some("x")),
        "label value false is not selected"
    );
    // `special` is selected by its label and itself aggregates tier-c.
    let d = p.can(&Request::resource("mon", "get", res("events"), None));
    assert_eq!(
        d.because[0].aggregated_from.as_deref(),
        Some("ClusterRole/tier-c")
    );

    assert!(
        can(&p, "ex", "get", "deployments.apps", None),
        "In matches tier=a"
    );
    assert!(
        !can(&p, "ex", "get", "jobs.batch", None),
        "DoesNotExist excludes legacy"
    );
    assert!(
        can(&p, "ex", "get", "events", None),
        "Exists selects special, transitively"
    );
    assert!(
        !can(&p, "ex", "delete", "nodes", None),
        "own rules are replaced by the controller"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.object == "ClusterRole/expr" && n.path == "rules")
    );
}

#[test]
fn aggregation_cycles_terminate() {
    let p = policy(
        r#"
kind: ClusterRole
metadata: {name: a, labels: {x: "1"}}
aggregationRule: {clusterRoleSelectors: [{matchLabels: {y: "1"}}]}
---
kind: ClusterRole
metadata: {name: b, labels: {y: "1"}}
aggregationRule: {clusterRoleSelectors: [{matchLabels: {x: "1"}}]}
---
kind: ClusterRole
metadata: {name: everything}
aggregationRule: {clusterRoleSelectors: [{}]}
---
kind: ClusterRole
metadata: {name: leaf, labels: {y: "1"}}
rules: [{apiGroups: [""], resources: ["pods"], verbs: ["get"]}]
---
kind: ClusterRoleBinding
metadata: {name: a}
subjects: [{kind: User, name: u}]
roleRef: {kind: ClusterRole, name: a}
---
kind: ClusterRoleBinding
metadata: {name: e}
subjects: [{kind: User, name: e}]
roleRef: {kind: ClusterRole, name: everything}
"#,
    );
    assert!(can(&p, "u", "get", "pods", None));
    assert!(
        can(&p, "e", "get", "pods", None),
        "an empty selector selects every ClusterRole"
    );
}
