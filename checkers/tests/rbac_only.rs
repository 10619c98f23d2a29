//! The `only` form of the rbac check (the subject's complete allowed set),
//! the built-in roles every cluster has, workspace copies of built-in
//! objects, implied groups, and the risky paths — each case of issue 9 as
//! a YAML literal.

mod common;

use seclab_checkers::rbac::{Policy, RbacCheck, Request, ResourceRef, RiskKind, Subject, grade};
use seclab_checkers::{KubeObject, Severity, Status, Verdict};

fn objects(yaml: &str) -> Vec<KubeObject> {
    common::objects(yaml)
        .into_iter()
        .enumerate()
        .map(|(i, mut o)| {
            o.source = Some("rbac.yaml".into());
            o.doc = i;
            o
        })
        .collect()
}

fn check(yaml: &str) -> RbacCheck {
    serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("check spec: {e}"))
}

const WEB: &str = "system:serviceaccount:sa-token:web";

/// The sa-token lab's least-privilege check.
const ONLY: &str = "subject: system:serviceaccount:sa-token:web\nnamespace: sa-token\nonly:\n  - {verb: get, resource: configmaps, name: web-config}\n";

/// The right answer: a Role with one rule, bound to web.
fn with_rules(rules: &str) -> String {
    format!(
        "kind: ServiceAccount\nmetadata: {{name: web, namespace: sa-token}}\n---\nkind: Role\nmetadata: {{name: web, namespace: sa-token}}\nrules:\n{rules}---\nkind: RoleBinding\nmetadata: {{name: web, namespace: sa-token}}\nsubjects: [{{kind: ServiceAccount, name: web, namespace: sa-token}}]\nroleRef: {{kind: Role, name: web}}\n"
    )
}

const RIGHT: &str =
    "  - {apiGroups: [\"\"], resources: [configmaps], resourceNames: [web-config], verbs: [get]}\n";

fn only(yaml: &str) -> Verdict {
    grade(&check(ONLY), &objects(yaml))
}

fn errors(v: &Verdict) -> Vec<&str> {
    v.findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.message.as_str())
        .collect()
}

#[test]
fn the_right_answer_passes_and_lists_what_everyone_has_apart() {
    let v = only(&with_rules(RIGHT));
    assert_eq!(v.status, Status::Pass, "{:#?}", v.findings);
    let msgs: Vec<&str> = v.findings.iter().map(|f| f.message.as_str()).collect();
    assert!(
        msgs.iter()
            .any(|m| m
                .starts_with("every grant of system:serviceaccount:sa-token:web is within `only`")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("within `only`: RoleBinding sa-token/web -> Role sa-token/web"))
    );
    for everyone in [
        "system:basic-user",
        "system:discovery",
        "system:public-info-viewer",
        "system:service-account-issuer-discovery",
    ] {
        assert!(
            msgs.iter().any(|m| m.starts_with("everyone has these")
                && m.contains(&format!("ClusterRoleBinding/{everyone} ->"))),
            "{everyone}: {msgs:?}"
        );
    }
    assert!(
        msgs.iter()
            .any(|m| m.contains("through group system:serviceaccounts;"))
    );
}

#[test]
fn each_wrong_answer_of_the_issue_fails_naming_the_grant() {
    for (rules, beyond) in [
        // An extra get on one named Secret.
        (
            format!("{RIGHT}  - {{apiGroups: [\"\"], resources: [secrets], resourceNames: [api-key], verbs: [get]}}\n"),
            "grants get on secrets (named api-key) in namespace sa-token",
        ),
        // create pods.
        (
            format!("{RIGHT}  - {{apiGroups: [\"\"], resources: [pods], verbs: [create]}}\n"),
            "grants create on pods (every name) in namespace sa-token",
        ),
        // verbs: ["*"] on configmaps, limited to the right name.
        (
            "  - {apiGroups: [\"\"], resources: [configmaps], resourceNames: [web-config], verbs: [\"*\"]}\n".to_owned(),
            "grants * on configmaps (named web-config) in namespace sa-token",
        ),
        // get, list, watch on every ConfigMap.
        (
            "  - {apiGroups: [\"\"], resources: [configmaps], verbs: [get, list, watch]}\n".to_owned(),
            "grants get, list, watch on configmaps (every name) in namespace sa-token",
        ),
        // The misspelt resourceName: grants every ConfigMap.
        (
            "  - {apiGroups: [\"\"], resources: [configmaps], resourceName: [web-config], verbs: [get]}\n".to_owned(),
            "grants get on configmaps (every name) in namespace sa-token",
        ),
        // A wildcard group.
        (
            "  - {apiGroups: [\"*\"], resources: [configmaps], resourceNames: [web-config], verbs: [get]}\n".to_owned(),
            "grants get on configmaps.* (named web-config)",
        ),
    ] {
        let v = only(&with_rules(&rules));
        assert_eq!(v.status, Status::Fail, "{rules}: {:#?}", v.findings);
        let errs = errors(&v);
        assert!(
            errs[0].starts_with("system:serviceaccount:sa-token:web may do more than `only` allows (get configmaps named web-config): 1 grant beyond it"),
            "{errs:?}"
        );
        let e = v
            .findings
            .iter()
            .find(|f| f.message.starts_with("beyond `only`"))
            .unwrap_or_else(|| panic!("{errs:?}"));
        assert!(e.message.contains(beyond), "{rules}: {}", e.message);
        assert!(e.message.contains("RoleBinding sa-token/web -> Role sa-token/web, rule"));
        // At the rule in the file.
        assert_eq!(e.object.as_deref(), Some("Role sa-token/web"));
        assert_eq!(e.source.as_deref(), Some("rbac.yaml"));
        assert_eq!(e.doc, Some(1));
        assert_eq!(e.paths.len(), 1);
        assert!(e.paths[0].starts_with("rules["), "{:?}", e.paths);
    }
}

#[test]
fn the_misspelt_resource_name_also_warns() {
    let v = only(&with_rules(
        "  - {apiGroups: [\"\"], resources: [configmaps], resourceName: [web-config], verbs: [get]}\n",
    ));
    let w = v
        .findings
        .iter()
        .find(|f| f.severity == Severity::Warning)
        .unwrap_or_else(|| panic!("{:#?}", v.findings));
    assert!(
        w.message
            .contains("rules[0].resourceName is not a field of a PolicyRule"),
        "{}",
        w.message
    );
    assert!(
        w.message.contains("did you mean resourceNames?"),
        "{}",
        w.message
    );
    assert!(w.message.contains("grants every object"), "{}", w.message);
    assert_eq!(w.paths, ["rules[0].resourceName"]);
}

#[test]
fn bindings_to_edit_and_admin_fail() {
    for role in ["edit", "admin", "view", "cluster-admin"] {
        let yaml = format!(
            "kind: RoleBinding\nmetadata: {{name: web, namespace: sa-token}}\nsubjects: [{{kind: ServiceAccount, name: web, namespace: sa-token}}]\nroleRef: {{kind: ClusterRole, name: {role}}}\n"
        );
        let v = only(&yaml);
        assert_eq!(v.status, Status::Fail, "{role}");
        let e = v
            .findings
            .iter()
            .find(|f| f.message.starts_with("beyond `only`"))
            .unwrap_or_else(|| panic!("{role}: {:#?}", v.findings));
        // A built-in role has no rule in the files: the finding points at
        // the binding's roleRef.
        assert_eq!(
            e.object.as_deref(),
            Some("RoleBinding sa-token/web"),
            "{role}"
        );
        assert_eq!(e.paths, ["roleRef"], "{role}");
        assert!(
            e.message
                .contains(&format!("ClusterRole/{role} (built-in)")),
            "{}",
            e.message
        );
    }
    // edit reads Secrets; view does not.
    let p = |role: &str| {
        Policy::from_objects(&objects(&format!(
            "kind: RoleBinding\nmetadata: {{name: web, namespace: sa-token}}\nsubjects: [{{kind: ServiceAccount, name: web, namespace: sa-token}}]\nroleRef: {{kind: ClusterRole, name: {role}}}\n"
        )))
        .unwrap_or_else(|e| panic!("{e}"))
        .0
    };
    let secrets = Request::resource(WEB, "get", res("secrets"), Some("sa-token"));
    assert!(p("edit").can(&secrets).allowed);
    assert!(p("admin").can(&secrets).allowed);
    assert!(!p("view").can(&secrets).allowed);
    assert!(
        p("view")
            .can(&Request::resource(
                WEB,
                "list",
                res("pods"),
                Some("sa-token")
            ))
            .allowed
    );
    // admin manages Roles in the namespace; edit does not.
    let roles = Request::resource(WEB, "create", res("roles"), Some("sa-token"));
    assert!(p("admin").can(&roles).allowed);
    assert!(!p("edit").can(&roles).allowed);
    // Only in the RoleBinding's namespace.
    assert!(
        !p("edit")
            .can(&Request::resource(WEB, "get", res("secrets"), Some("prod")))
            .allowed
    );
}

#[test]
fn right_answers_written_differently_pass() {
    for yaml in [
        // The Role split in two files / objects: one rule each, two bindings.
        format!(
            "{}---\nkind: Role\nmetadata: {{name: extra, namespace: sa-token}}\nrules:\n{RIGHT}---\nkind: RoleBinding\nmetadata: {{name: extra, namespace: sa-token}}\nsubjects: [{{kind: ServiceAccount, name: web, namespace: sa-token}}]\nroleRef: {{kind: Role, name: extra}}\n",
            with_rules(RIGHT)
        ),
        // A ClusterRole with the one rule, bound by a RoleBinding in sa-token.
        format!(
            "kind: ClusterRole\nmetadata: {{name: web-config-reader}}\nrules:\n{RIGHT}---\nkind: RoleBinding\nmetadata: {{name: web, namespace: sa-token}}\nsubjects: [{{kind: ServiceAccount, name: web, namespace: sa-token}}]\nroleRef: {{kind: ClusterRole, name: web-config-reader}}\n"
        ),
        // The subject written without its namespace in a RoleBinding, and
        // the rule listing the verb twice.
        "kind: Role\nmetadata: {name: web, namespace: sa-token}\nrules:\n  - {apiGroups: [\"\"], resources: [configmaps], resourceNames: [web-config], verbs: [get, get]}\n---\nkind: RoleBinding\nmetadata: {name: web, namespace: sa-token}\nsubjects: [{kind: ServiceAccount, name: web}]\nroleRef: {kind: Role, name: web}\n".to_owned(),
        // No binding at all: nothing beyond.
        "kind: ServiceAccount\nmetadata: {name: web, namespace: sa-token}\n".to_owned(),
    ] {
        let v = only(&yaml);
        assert_eq!(v.status, Status::Pass, "{yaml}: {:#?}", v.findings);
    }
}

#[test]
fn grants_in_other_namespaces_and_cluster_wide_count() {
    // A RoleBinding elsewhere, a ClusterRoleBinding, and a group binding that
    // reaches web through the groups the API server adds.
    for extra in [
        "kind: RoleBinding\nmetadata: {name: x, namespace: other}\nsubjects: [{kind: ServiceAccount, name: web, namespace: sa-token}]\nroleRef: {kind: ClusterRole, name: view}\n",
        "kind: ClusterRoleBinding\nmetadata: {name: x}\nsubjects: [{kind: ServiceAccount, name: web, namespace: sa-token}]\nroleRef: {kind: ClusterRole, name: web-config-reader}\n---\nkind: ClusterRole\nmetadata: {name: web-config-reader}\nrules:\n  - {apiGroups: [\"\"], resources: [configmaps], resourceNames: [web-config], verbs: [get]}\n",
        "kind: RoleBinding\nmetadata: {name: x, namespace: sa-token}\nsubjects: [{kind: Group, name: \"system:serviceaccounts:sa-token\"}]\nroleRef: {kind: ClusterRole, name: view}\n",
        "kind: ClusterRoleBinding\nmetadata: {name: x}\nsubjects: [{kind: Group, name: \"system:authenticated\"}]\nroleRef: {kind: ClusterRole, name: secret-reader}\n---\nkind: ClusterRole\nmetadata: {name: secret-reader}\nrules: [{apiGroups: [\"\"], resources: [secrets], verbs: [get]}]\n",
    ] {
        let v = only(&format!("{}---\n{extra}", with_rules(RIGHT)));
        assert_eq!(v.status, Status::Fail, "{extra}");
    }
    // The cluster-wide grant of the very same rule is beyond a namespaced
    // `only`, and says where it holds.
    let v = only(&format!(
        "{}---\nkind: ClusterRoleBinding\nmetadata: {{name: x}}\nsubjects: [{{kind: ServiceAccount, name: web, namespace: sa-token}}]\nroleRef: {{kind: ClusterRole, name: r}}\n---\nkind: ClusterRole\nmetadata: {{name: r}}\nrules:\n{RIGHT}",
        with_rules(RIGHT)
    ));
    assert!(
        errors(&v)
            .iter()
            .any(|m| m.contains("(named web-config) in every namespace and cluster-wide")),
        "{:?}",
        errors(&v)
    );
}

#[test]
fn a_binding_to_an_unknown_role_cannot_be_checked() {
    let v = only(
        "kind: RoleBinding\nmetadata: {name: web, namespace: sa-token}\nsubjects: [{kind: ServiceAccount, name: web, namespace: sa-token}]\nroleRef: {kind: ClusterRole, name: \"system:controller:generic-garbage-collector\"}\n",
    );
    assert_eq!(v.status, Status::Fail);
    assert!(
        errors(&v)
            .iter()
            .any(|m| m.contains("cannot be checked against `only`")),
        "{:?}",
        errors(&v)
    );
    assert!(
        v.findings.iter().any(|f| f
            .message
            .contains("does not model the controller manager's")),
        "{:#?}",
        v.findings
    );
}

#[test]
fn only_entries_cover_what_they_say() {
    let yaml = format!(
        "{}---\nkind: ClusterRole\nmetadata: {{name: more}}\nrules:\n  - {{apiGroups: [apps], resources: [deployments, deployments/scale], verbs: [get, patch]}}\n  - {{nonResourceURLs: [/metrics, /healthz/*], verbs: [get]}}\n---\nkind: ClusterRoleBinding\nmetadata: {{name: more}}\nsubjects: [{{kind: ServiceAccount, name: web, namespace: sa-token}}]\nroleRef: {{kind: ClusterRole, name: more}}\n",
        with_rules(RIGHT)
    );
    let objs = objects(&yaml);
    let pass = |spec: &str| grade(&check(spec), &objs).status == Status::Pass;
    let base = "subject: serviceaccount:sa-token/web\nnamespace: sa-token\nonly:\n  - {verb: get, resource: configmaps, name: web-config}\n";
    assert!(!pass(base));
    // Cluster-wide grants need entries that hold everywhere (`*`).
    let everything = format!(
        "{base}  - {{verb: get, resource: deployments, namespace: '*'}}\n  - {{verb: patch, resource: deployments.apps, namespace: '*'}}\n  - {{verb: get, resource: deployments/scale, namespace: '*'}}\n  - {{verb: patch, resource: deployments.apps, subresource: scale, namespace: '*'}}\n  - {{verb: get, resource: /metrics}}\n  - {{verb: get, resource: /healthz*}}\n"
    );
    assert!(pass(&everything));
    // A verb wildcard entry covers them; the namespace alone does not.
    assert!(pass(&format!(
        "{base}  - {{verb: '*', resource: deployments, namespace: '*'}}\n  - {{verb: '*', resource: deployments/scale, namespace: '*'}}\n  - {{verb: get, resource: '/*'}}\n"
    )));
    assert!(!pass(&format!(
        "{base}  - {{verb: '*', resource: deployments}}\n  - {{verb: '*', resource: deployments/scale}}\n  - {{verb: get, resource: '/*'}}\n"
    )));
    // A prefix that does not cover the rule's pattern.
    assert!(!pass(&format!(
        "{base}  - {{verb: '*', resource: deployments, namespace: '*'}}\n  - {{verb: '*', resource: deployments/scale, namespace: '*'}}\n  - {{verb: get, resource: /metrics}}\n  - {{verb: get, resource: /healthz/ready}}\n"
    )));
}

#[test]
fn the_two_forms_are_alternatives() {
    for (spec, want) in [
        ("subject: a\nnamespace: x", "needs `expect`"),
        (
            "subject: a\nverb: get\nresource: pods\nexpect: denied\nonly: []",
            "`expect` and `only` are alternatives",
        ),
        (
            "subject: a\nverb: get\nonly: []",
            "`verb` belong to the `expect` form",
        ),
        ("subject: a\nexpect: denied", "needs `verb` and `resource`"),
        (
            "subject: a\nonly: [{verb: get, resource: pods, nam: x}]",
            "unknown field",
        ),
        ("subject: a\nonly: []\nextra: 1", "unknown field"),
    ] {
        let e = serde_saphyr::from_str::<RbacCheck>(spec).expect_err(spec);
        assert!(e.to_string().contains(want), "{spec}: {e}");
    }
    // Entries that do not read fail the check, and validation, by index.
    let bad = check(
        "subject: a\nonly: [{verb: get, resource: pods}, {verb: get, resource: '/x', name: y}]",
    );
    assert!(bad.request().is_err_and(|e| e.path.starts_with("only[1]")));
    let v = grade(&bad, &[]);
    assert_eq!(v.status, Status::Fail);
    assert!(
        errors(&v)[0].contains("only[1].resource"),
        "{:?}",
        errors(&v)
    );
    assert_eq!(check(ONLY).request().map(|r| r.len()).ok(), Some(1));
    assert_eq!(
        check(ONLY).describe(),
        "system:serviceaccount:sa-token:web may only: get configmaps named web-config (in sa-token)"
    );
}

fn res(s: &str) -> ResourceRef {
    ResourceRef::parse(s).unwrap_or_else(|e| panic!("{e}")).0
}

fn policy(yaml: &str) -> (Policy, Vec<String>) {
    let (p, notes) = Policy::from_objects(&objects(yaml)).unwrap_or_else(|e| panic!("{e}"));
    (
        p,
        notes
            .into_iter()
            .map(|n| format!("{}: {}", n.object, n.message))
            .collect(),
    )
}

#[test]
fn developers_bound_to_edit_read_secrets_everywhere() {
    let (p, _) = policy(
        "kind: ClusterRoleBinding\nmetadata: {name: devs}\nsubjects: [{kind: Group, name: developers}]\nroleRef: {kind: ClusterRole, name: edit}\n",
    );
    let d = p.can(
        &Request::resource("bob", "get", res("secrets"), Some("prod")).with_group("developers"),
    );
    assert!(d.allowed);
    assert_eq!(d.because[0].binding, "ClusterRoleBinding/devs");
    assert_eq!(d.because[0].role, "ClusterRole/edit");
    assert_eq!(
        d.because[0].aggregated_from.as_deref(),
        Some("ClusterRole/system:aggregate-to-edit")
    );
    let risks = p.risky();
    let kinds: Vec<RiskKind> = risks.iter().map(|r| r.what).collect();
    for k in [
        RiskKind::ReadSecrets,
        RiskKind::ExecAttach,
        RiskKind::CreateWorkloads,
        RiskKind::CreateTokens,
        RiskKind::Impersonate,
    ] {
        assert!(kinds.contains(&k), "{k:?}: {kinds:?}");
    }
    assert!(risks.iter().all(|r| r.subject
        == Subject::Group {
            name: "developers".into()
        }));
}

#[test]
fn a_custom_cluster_role_labelled_for_edit_adds_to_edit_and_admin() {
    let yaml = "kind: ClusterRole\nmetadata: {name: widgets, labels: {rbac.authorization.k8s.io/aggregate-to-edit: \"true\"}}\nrules: [{apiGroups: [example.com], resources: [widgets], verbs: [create]}]\n---\nkind: RoleBinding\nmetadata: {name: a, namespace: ns}\nsubjects: [{kind: User, name: ann}]\nroleRef: {kind: ClusterRole, name: admin}\n---\nkind: RoleBinding\nmetadata: {name: v, namespace: ns}\nsubjects: [{kind: User, name: val}]\nroleRef: {kind: ClusterRole, name: view}\n";
    let (p, _) = policy(yaml);
    let widgets = ResourceRef {
        group: "example.com".into(),
        resource: "widgets".into(),
    };
    let d = p.can(&Request::resource(
        "ann",
        "create",
        widgets.clone(),
        Some("ns"),
    ));
    assert!(d.allowed);
    assert_eq!(
        d.because[0].aggregated_from.as_deref(),
        Some("ClusterRole/widgets")
    );
    assert!(
        !p.can(&Request::resource("val", "create", widgets, Some("ns")))
            .allowed
    );
}

#[test]
fn a_manifest_redefining_a_built_in_role_warns_and_the_built_in_counts() {
    // edit "redefined" without Secrets: the aggregation controller and the
    // API server's reconciliation put them back.
    let (p, notes) = policy(
        "kind: ClusterRole\nmetadata: {name: edit}\nrules: [{apiGroups: [\"\"], resources: [configmaps], verbs: [get]}]\n---\nkind: RoleBinding\nmetadata: {name: b, namespace: ns}\nsubjects: [{kind: User, name: u}]\nroleRef: {kind: ClusterRole, name: edit}\n",
    );
    assert!(
        p.can(&Request::resource("u", "get", res("secrets"), Some("ns")))
            .allowed
    );
    assert!(
        notes.iter().any(|n| n
            .starts_with("ClusterRole/edit: redefines the built-in ClusterRole/edit")
            && n.contains("aggregation controller")),
        "{notes:?}"
    );
    // A non-aggregated built-in: its rules count, plus what the copy adds.
    let (p, notes) = policy(
        "kind: ClusterRole\nmetadata: {name: \"system:basic-user\"}\nrules: [{apiGroups: [\"\"], resources: [secrets], verbs: [list]}]\n",
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("plus any rule this definition adds")),
        "{notes:?}"
    );
    let everyone = Request::resource("anyone", "list", res("secrets"), Some("x"));
    assert!(
        p.can(&everyone).allowed,
        "every authenticated user gets the added rule"
    );
    let review = ResourceRef {
        group: "authorization.k8s.io".into(),
        resource: "selfsubjectaccessreviews".into(),
    };
    assert!(
        p.can(&Request::resource("anyone", "create", review, None))
            .allowed
    );
    // ...and `only` and `risky` see the added rule.
    let v = grade(
        &check("subject: anyone\nonly: []"),
        &objects(
            "kind: ClusterRole\nmetadata: {name: \"system:basic-user\"}\nrules: [{apiGroups: [\"\"], resources: [secrets], verbs: [list]}]\n",
        ),
    );
    assert_eq!(v.status, Status::Fail, "{:#?}", v.findings);
    assert!(p.risky().iter().any(|r| r.subject
        == Subject::Group {
            name: "system:authenticated".into()
        }
        && r.what == RiskKind::ReadSecrets));
    // autoupdate "false": the API server leaves it alone, it counts as written.
    let (p, notes) = policy(
        "kind: ClusterRole\nmetadata: {name: view, annotations: {rbac.authorization.kubernetes.io/autoupdate: \"false\"}}\nrules: [{apiGroups: [\"\"], resources: [pods], verbs: [get]}]\n---\nkind: RoleBinding\nmetadata: {name: b, namespace: ns}\nsubjects: [{kind: User, name: u}]\nroleRef: {kind: ClusterRole, name: view}\n",
    );
    assert!(
        notes.iter().any(|n| n.contains("leaves it as written")),
        "{notes:?}"
    );
    assert!(
        p.can(&Request::resource("u", "get", res("pods"), Some("ns")))
            .allowed
    );
    assert!(
        !p.can(&Request::resource("u", "list", res("pods"), Some("ns")))
            .allowed
    );
}

#[test]
fn a_manifest_redefining_a_built_in_binding_keeps_its_role_and_subjects() {
    let (p, notes) = policy(
        "kind: ClusterRoleBinding\nmetadata: {name: cluster-admin}\nsubjects: [{kind: User, name: mallory}]\nroleRef: {kind: ClusterRole, name: view}\n",
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("so it still binds ClusterRole/cluster-admin")),
        "{notes:?}"
    );
    let masters = Request::resource("x", "delete", res("nodes"), None).with_group("system:masters");
    assert!(p.can(&masters).allowed);
    assert!(
        p.can(&Request::resource("mallory", "delete", res("nodes"), None))
            .allowed
    );
    // risky names mallory (the manifests' doing), not system:masters.
    let risks = p.risky();
    assert!(risks.iter().any(|r| r.subject
        == Subject::User {
            name: "mallory".into()
        }));
    assert!(risks.iter().all(|r| r.subject
        != Subject::Group {
            name: "system:masters".into()
        }));
}

#[test]
fn implied_groups_cover_their_members() {
    let (p, _) = policy(
        "kind: ServiceAccount\nmetadata: {name: web, namespace: app}\n---\nkind: ServiceAccount\nmetadata: {name: job, namespace: batch}\n---\nkind: RoleBinding\nmetadata: {name: b, namespace: app}\nsubjects: [{kind: Group, name: \"system:serviceaccounts:app\"}, {kind: User, name: alice}]\nroleRef: {kind: ClusterRole, name: edit}\n",
    );
    let group = Subject::Group {
        name: "system:serviceaccounts:app".into(),
    };
    assert_eq!(
        Policy::covers(&group).as_deref(),
        Some("every service account in namespace app")
    );
    assert_eq!(
        p.members(&group),
        [Subject::ServiceAccount {
            namespace: "app".into(),
            name: "web".into()
        }]
    );
    let all = Subject::Group {
        name: "system:authenticated".into(),
    };
    assert_eq!(p.members(&all).len(), 3, "alice and both service accounts");
    assert!(
        Policy::covers(&Subject::Group {
            name: "devs".into()
        })
        .is_none()
    );
    let r = p
        .risky()
        .into_iter()
        .find(|r| r.subject == group)
        .unwrap_or_else(|| panic!("no risk for the group"));
    assert_eq!(
        r.covers.as_deref(),
        Some("every service account in namespace app")
    );
    assert_eq!(r.members.len(), 1);
    assert!(
        p.can(&Request::resource(
            "system:serviceaccount:app:web",
            "get",
            res("secrets"),
            Some("app")
        ))
        .allowed
    );
}

#[test]
fn risky_paths() {
    let yaml = "kind: ClusterRole\nmetadata: {name: r}\nrules:\n  - {apiGroups: [\"\"], resources: [serviceaccounts/token], verbs: [create]}\n  - {apiGroups: [\"\"], resources: [nodes/proxy], verbs: [get]}\n  - {apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests/approval], verbs: [update]}\n  - {apiGroups: [admissionregistration.k8s.io], resources: [mutatingwebhookconfigurations], verbs: [create]}\n  - {apiGroups: [\"\"], resources: [pods/ephemeralcontainers], verbs: [patch]}\n  - {apiGroups: [\"\"], resources: [persistentvolumes], verbs: [create]}\n  - {apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [escalate, bind]}\n  - {apiGroups: [\"\"], resources: [serviceaccounts], verbs: [impersonate]}\n  - {apiGroups: [apps], resources: [deployments], verbs: [patch]}\n---\nkind: ClusterRoleBinding\nmetadata: {name: r}\nsubjects: [{kind: User, name: u}]\nroleRef: {kind: ClusterRole, name: r}\n";
    let (p, _) = policy(yaml);
    let kinds: Vec<RiskKind> = p.risky().iter().map(|r| r.what).collect();
    assert_eq!(
        kinds,
        [
            RiskKind::EphemeralContainers,
            RiskKind::CreateWorkloads,
            RiskKind::CreateTokens,
            RiskKind::NodeProxy,
            RiskKind::ApproveCertificates,
            RiskKind::AdmissionWebhooks,
            RiskKind::CreatePersistentVolumes,
            RiskKind::Escalate,
            RiskKind::Bind,
            RiskKind::Impersonate,
        ]
    );
    // Harmless grants are not risks; the built-in bindings are not listed.
    let (p, _) = policy(
        "kind: ClusterRoleBinding\nmetadata: {name: v}\nsubjects: [{kind: User, name: u}]\nroleRef: {kind: ClusterRole, name: view}\n",
    );
    assert!(p.risky().is_empty(), "{:?}", p.risky());
    assert!(
        Policy::from_objects(&[])
            .unwrap_or_else(|e| panic!("{e}"))
            .0
            .risky()
            .is_empty()
    );
}

#[test]
fn reading_one_named_secret_says_which_and_whether_it_is_a_token() {
    let role = |name: &str| {
        format!(
            "kind: Role\nmetadata: {{name: r, namespace: ns}}\nrules: [{{apiGroups: [\"\"], resources: [secrets], resourceNames: [{name}], verbs: [get]}}]\n---\nkind: RoleBinding\nmetadata: {{name: r, namespace: ns}}\nsubjects: [{{kind: User, name: u}}]\nroleRef: {{kind: Role, name: r}}\n"
        )
    };
    let why = |yaml: &str| {
        let (p, _) = policy(yaml);
        let r = p
            .risky()
            .into_iter()
            .find(|r| r.what == RiskKind::ReadSecrets)
            .unwrap_or_else(|| panic!("no read-secrets risk"));
        r.why
    };
    let plain = why(&format!(
        "{}---\nkind: Secret\nmetadata: {{name: api-key, namespace: ns}}\ntype: Opaque\n",
        role("api-key")
    ));
    assert_eq!(
        plain,
        "can read the Secrets named ns/api-key (none of them a service-account token)"
    );
    let unknown = why(&role("api-key"));
    assert!(
        unknown.contains("only if that Secret is one; it is not among the objects"),
        "{unknown}"
    );
    let token = why(&format!(
        "{}---\nkind: Secret\nmetadata: {{name: ci-token, namespace: ns, annotations: {{kubernetes.io/service-account.name: ci}}}}\ntype: kubernetes.io/service-account-token\n",
        role("ci-token")
    ));
    assert!(
        token.contains("service-account token Secret ns/ci-token of ServiceAccount ns/ci"),
        "{token}"
    );
    // Every Secret: the general reason.
    let (p, _) = policy(
        "kind: Role\nmetadata: {name: r, namespace: ns}\nrules: [{apiGroups: [\"\"], resources: [secrets], verbs: [list]}]\n---\nkind: RoleBinding\nmetadata: {name: r, namespace: ns}\nsubjects: [{kind: User, name: u}]\nroleRef: {kind: Role, name: r}\n",
    );
    assert!(
        p.risky()[0]
            .why
            .contains("service account tokens of more privileged accounts")
    );
}
