//! The lab-facing RBAC check: spec parsing and verdicts with explanations.

use seclab_checkers::rbac::{Expect, RbacCheck, grade};
use seclab_checkers::{KubeObject, Severity, Status};

fn objects(yaml: &str) -> Vec<KubeObject> {
    serde_saphyr::from_multiple::<serde_json::Value>(yaml)
        .unwrap_or_else(|e| panic!("test YAML: {e}"))
        .into_iter()
        .filter(|v| !v.is_null())
        .map(|value| KubeObject {
            source: Some("lab/rbac.yaml".into()),
            doc: 0,
            value,
        })
        .collect()
}

fn check(yaml: &str) -> RbacCheck {
    serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("check spec: {e}"))
}

const LAB: &str = r#"
kind: Role
metadata: {namespace: shop, name: deployer}
rules:
- {apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "create", "update"]}
- {apiGroups: [""], resources: ["pods/exec"], verbs: ["create"]}
---
kind: RoleBinding
metadata: {namespace: shop, name: ci-deployer}
subjects: [{kind: ServiceAccount, name: ci, namespace: build}]
roleRef: {kind: Role, name: deployer}
---
kind: Role
metadata: {namespace: staging, name: reader}
rules: [{apiGroups: [""], resources: ["secrets"], verbs: ["get"]}]
---
kind: RoleBinding
metadata: {namespace: staging, name: reader}
subjects: [{kind: Group, name: devs}]
roleRef: {kind: Role, name: reader}
"#;

#[test]
fn allowed_as_expected_lists_the_grant() {
    let v = grade(
        &check(
            "subject: system:serviceaccount:build:ci\nverb: create\nresource: deployments.apps\nnamespace: shop\nexpect: allowed",
        ),
        &objects(LAB),
    );
    assert_eq!(v.status, Status::Pass, "{v:?}");
    let grant = v
        .findings
        .iter()
        .find(|f| f.message.starts_with("granted by"))
        .unwrap_or_else(|| panic!("{v:?}"));
    assert!(
        grant
            .message
            .contains("RoleBinding shop/ci-deployer -> Role shop/deployer")
    );
    assert_eq!(grant.source.as_deref(), Some("lab/rbac.yaml"));
}

#[test]
fn subject_and_resource_spellings() {
    let objs = objects(LAB);
    let pass = |spec: &str| grade(&check(spec), &objs).status == Status::Pass;
    assert!(pass(
        "subject: serviceaccount:build/ci\nverb: create\nresource: pods/exec\nnamespace: shop\nexpect: allowed"
    ));
    assert!(pass(
        "subject: serviceaccount:build/ci\nverb: create\nresource: pods\nsubresource: exec\nnamespace: shop\nexpect: allowed"
    ));
    assert!(pass(
        "subject: serviceaccount:build/ci\nverb: create\nresource: pods\nnamespace: shop\nexpect: denied"
    ));
    // `deployments` without a group is read as deployments.apps, with a note.
    let v = grade(
        &check(
            "subject: serviceaccount:build/ci\nverb: update\nresource: deployments\nnamespace: shop\nexpect: allowed",
        ),
        &objs,
    );
    assert_eq!(v.status, Status::Pass);
    assert!(
        v.findings
            .iter()
            .any(|f| f.message.contains("read as `deployments.apps`"))
    );
    assert!(pass(
        "subject: group:devs\nverb: get\nresource: secrets\nnamespace: staging\nexpect: allowed"
    ));
    assert!(pass(
        "subject: alice\nverb: get\nresource: secrets\nnamespace: staging\nexpect: denied"
    ));
    assert!(pass(
        "subject: alice\nverb: get\nresource: /metrics\nexpect: denied"
    ));
    // Every authenticated user may read /healthz: the built-in
    // system:public-info-viewer binding says so.
    assert!(pass(
        "subject: alice\nverb: get\nresource: /healthz\nexpect: allowed"
    ));
}

#[test]
fn unexpectedly_allowed_fails_naming_the_binding() {
    let v = grade(
        &check(
            "subject: system:serviceaccount:build:ci\nverb: create\nresource: pods\nsubresource: exec\nnamespace: shop\nexpect: denied",
        ),
        &objects(LAB),
    );
    assert_eq!(v.status, Status::Fail);
    let e = v
        .findings
        .iter()
        .find(|f| f.severity == Severity::Error)
        .unwrap_or_else(|| panic!("{v:?}"));
    assert!(e.message.contains("pods/exec"), "{}", e.message);
    assert_eq!(e.object.as_deref(), Some("RoleBinding shop/ci-deployer"));
}

#[test]
fn unexpectedly_denied_explains_what_exists() {
    let v = grade(
        &check(
            "subject: group:devs\nverb: get\nresource: secrets\nnamespace: prod\nexpect: allowed",
        ),
        &objects(LAB),
    );
    assert_eq!(v.status, Status::Fail);
    let text: Vec<&str> = v.findings.iter().map(|f| f.message.as_str()).collect();
    assert!(
        text.iter().any(|m| m.starts_with(
            "expected allowed, but no binding grants group:devs get secrets in namespace prod"
        )),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|m| m.contains("would be allowed in namespace staging")),
        "{text:?}"
    );
    let v = grade(
        &check(
            "subject: serviceaccount:build/ci\nverb: delete\nresource: deployments.apps\nnamespace: shop\nexpect: allowed",
        ),
        &objects(LAB),
    );
    assert!(
        v.findings.iter().any(|f| f
            .message
            .contains("is bound by RoleBinding shop/ci-deployer -> Role shop/deployer")),
        "{v:?}"
    );
}

#[test]
fn malformed_objects_and_specs_fail_cleanly() {
    let v = grade(
        &check("subject: a\nverb: get\nresource: pods\nexpect: denied"),
        &objects(
            "kind: RoleBinding\nmetadata: {name: b, namespace: ns}\nroleRef: {kind: Rol, name: r}",
        ),
    );
    assert_eq!(v.status, Status::Fail);
    assert_eq!(v.findings[0].paths, ["roleRef.kind"]);
    assert_eq!(v.findings[0].source.as_deref(), Some("lab/rbac.yaml"));
    let v = grade(
        &check("subject: a\nverb: get\nresource: ''\nexpect: denied"),
        &[],
    );
    assert_eq!(v.status, Status::Fail);
    let v = grade(
        &check("subject: ''\nverb: get\nresource: pods\nexpect: denied"),
        &[],
    );
    assert_eq!(v.status, Status::Fail);
    let unknown = serde_saphyr::from_str::<RbacCheck>(
        "subject: a\nverb: get\nresource: pods\nexpect: denied\nnamspace: x",
    );
    assert!(unknown.is_err(), "unknown fields are rejected");
    let bad =
        serde_saphyr::from_str::<RbacCheck>("subject: a\nverb: get\nresource: pods\nexpect: maybe");
    assert!(bad.is_err());
    assert_eq!(
        check("subject: a\nverb: get\nresource: pods\nexpect: allowed").expect,
        Some(Expect::Allowed)
    );
}
