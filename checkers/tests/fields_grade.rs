//! What each check reads ([`CheckSpec::reads`], every branch) and the typed
//! field check on those objects ([`fields::grade`]): an unknown field or a
//! wrong type in an object a check reads fails it with a "did you mean",
//! in place of the check's own findings; objects it does not read, and
//! kinds seclab cannot type, change nothing.

use seclab_checkers::{CheckSpec, Evidence, KubeObject, Status, Verdict, fields};
use serde_json::{Value, json};

fn spec(v: Value) -> CheckSpec {
    serde_json::from_value(v).expect("a valid check")
}

fn obj(v: Value) -> KubeObject {
    KubeObject::new(v)
}

fn web(pod_extra: Value) -> KubeObject {
    let mut pod = json!({"serviceAccountName": "web",
        "containers": [{"name": "web", "image": "nginx:1.27"}]});
    if let (Some(m), Value::Object(extra)) = (pod.as_object_mut(), pod_extra) {
        m.extend(extra);
    }
    obj(json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "lab"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod}}}))
}

fn account(extra: Value) -> KubeObject {
    let mut sa = json!({"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "web", "namespace": "lab"}});
    if let (Some(m), Value::Object(extra)) = (sa.as_object_mut(), extra) {
        m.extend(extra);
    }
    obj(sa)
}

fn deny_all(selector_key: &str) -> KubeObject {
    obj(
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "deny", "namespace": "lab"},
        "spec": {selector_key: {}, "policyTypes": ["Ingress"]}}),
    )
}

fn client() -> KubeObject {
    obj(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "client", "namespace": "lab", "labels": {"app": "client"}},
        "spec": {"containers": [{"name": "c", "image": "curl"}]}}))
}

fn role(rule_names_key: &str) -> KubeObject {
    obj(
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "reader", "namespace": "lab"},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], rule_names_key: ["db"],
            "verbs": ["get"]}]}),
    )
}

fn binding(subjects_key: &str) -> KubeObject {
    obj(
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "reader", "namespace": "lab"},
        subjects_key: [{"kind": "ServiceAccount", "name": "web", "namespace": "lab"}],
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"}}),
    )
}

fn grade(spec: &CheckSpec, workspace: &[KubeObject]) -> Verdict {
    fields::grade(
        spec,
        &Evidence {
            workspace,
            ..Evidence::default()
        },
    )
}

/// The names of the objects a check reads.
fn read_names(spec: &CheckSpec, workspace: &[KubeObject]) -> Vec<String> {
    spec.reads(workspace)
        .objects
        .iter()
        .map(|o| o.display_name())
        .collect()
}

fn one_error(v: &Verdict) -> &seclab_checkers::Finding {
    assert_eq!(v.status, Status::Fail, "{v:?}");
    assert_eq!(v.findings.len(), 1, "{v:?}");
    &v.findings[0]
}

#[test]
fn quiz_and_flag_read_only_the_answers() {
    let ws = [web(json!({}))];
    let quiz = spec(json!({"quiz": {"id": "q", "question": "?", "answer": "sha256:s:00"}}));
    let r = quiz.reads(&ws);
    assert!(r.answers && r.objects.is_empty() && !r.every_file, "{r:?}");
    let flag = spec(json!({"flag": {"id": "f", "question": "?",
        "secret": {"namespace": "lab", "name": "db", "key": "k"}}}));
    let r = flag.reads(&ws);
    assert!(r.answers && r.objects.is_empty() && !r.every_file, "{r:?}");
}

#[test]
fn target_checks_read_their_target_and_miss_it_openly() {
    let ws = [web(json!({})), client()];
    for check in [
        json!({"manifest": {"target": "deployment/web", "path": "spec.replicas", "op": "exists"}}),
        json!({"pss": {"target": "deployment/web", "level": "baseline"}}),
        json!({"runs": {"target": "deployment/web"}}),
    ] {
        let s = spec(check);
        let r = s.reads(&ws);
        assert!(!r.answers && !r.every_file, "{r:?}");
        assert_eq!(read_names(&s, &ws), ["Deployment lab/web"]);
        // Not found: the target may be in a file that did not parse.
        let r = s.reads(&ws[1..]);
        assert!(r.objects.is_empty() && r.every_file, "{r:?}");
    }
    // A namespace that does not hold the target is not found either.
    let s = spec(
        json!({"pss": {"target": "deployment/web", "namespace": "other", "level": "baseline"}}),
    );
    assert!(s.reads(&ws).every_file);
    // From the cluster: no file at all.
    let s = spec(
        json!({"manifest": {"target": "deployment/web", "path": "spec",
        "op": "exists", "source": "cluster"}}),
    );
    assert_eq!(s.reads(&ws), seclab_checkers::Reads::default());
}

#[test]
fn pss_namespace_reads_the_first_namespace_it_grades() {
    let ns = |label: &str| {
        obj(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "lab", "labels": {"x": label}}}))
    };
    let ws = [ns("first"), ns("second")];
    let s = spec(json!({"pss_namespace": {"target": "namespace/lab", "level": "baseline"}}));
    let r = s.reads(&ws);
    assert_eq!(r.objects.len(), 1);
    assert_eq!(r.objects[0].value["metadata"]["labels"]["x"], "first");
    assert!(!r.every_file);
    assert!(s.reads(&[]).every_file);
}

#[test]
fn token_check_reads_the_workload_and_its_account() {
    let s = spec(json!({"service_account_token": {"target": "deployment/web", "mounted": false}}));
    let ws = [
        web(json!({})),
        account(json!({"automountServiceAccountToken": false})),
    ];
    let r = s.reads(&ws);
    assert!(!r.every_file, "{r:?}");
    assert_eq!(
        read_names(&s, &ws),
        ["Deployment lab/web", "ServiceAccount lab/web"]
    );
    assert!(grade(&s, &ws).passed());
    // The account not among the objects: it may be in a broken file.
    let r = s.reads(&ws[..1]);
    assert!(r.every_file, "{r:?}");
    // Nor the workload.
    assert!(s.reads(&ws[1..]).every_file);
    // The account of the pod is the one read: `default` when unnamed.
    let unnamed = [
        obj(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "lab"},
            "spec": {"containers": [{"name": "c", "image": "i"}]}})),
        account(json!({})),
    ];
    let s = spec(json!({"service_account_token": {"target": "pod/p", "mounted": true}}));
    assert!(s.reads(&unnamed).every_file);
}

#[test]
fn netpol_and_rbac_read_every_object_of_their_kinds() {
    let ws = [
        web(json!({})),
        client(),
        deny_all("podSelector"),
        account(json!({})),
        role("resourceNames"),
        binding("subjects"),
        obj(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})),
    ];
    let np = spec(json!({"netpol": {"expect": "", "from": ["lab/*"], "to": ["lab/*"]}}));
    let r = np.reads(&ws);
    assert!(r.every_file && !r.answers);
    assert_eq!(
        read_names(&np, &ws),
        [
            "Deployment lab/web",
            "Pod lab/client",
            "NetworkPolicy lab/deny"
        ]
    );
    let rbac = spec(
        json!({"rbac": {"subject": "system:serviceaccount:lab:web", "verb": "get",
        "resource": "secrets", "name": "db", "namespace": "lab", "expect": "allowed"}}),
    );
    let r = rbac.reads(&ws);
    assert!(r.every_file);
    assert_eq!(
        read_names(&rbac, &ws),
        [
            "ServiceAccount lab/web",
            "Role lab/reader",
            "RoleBinding lab/reader"
        ]
    );
    // With nothing to read, they still depend on every file.
    assert!(np.reads(&[]).every_file && rbac.reads(&[]).every_file);
}

#[test]
fn network_policy_typo_fails_a_netpol_check_that_passed() {
    let np = spec(json!({"netpol": {"expect": "", "from": ["lab/*"], "to": ["lab/*"]}}));
    let ws = [web(json!({})), client(), deny_all("podSelector")];
    assert!(grade(&np, &ws).passed());
    // Without the policy, the pods reach each other: the check has teeth.
    assert!(!grade(&np, &ws[..2]).passed());
    // `podSelecter` leaves podSelector out, which selects every pod: the
    // engine alone passes it; kubectl rejects the policy.
    let typo = [web(json!({})), client(), deny_all("podSelecter")];
    assert!(
        np.grade(&Evidence {
            workspace: &typo,
            ..Evidence::default()
        })
        .passed()
    );
    let v = grade(&np, &typo);
    let f = one_error(&v);
    assert_eq!(
        f.message,
        "kubectl apply rejects it: unknown field `podSelecter` (did you mean `podSelector`?)"
    );
    assert_eq!(f.paths, ["spec.podSelecter"]);
    assert!(f.at_key);
    assert_eq!(f.object.as_deref(), Some("NetworkPolicy lab/deny"));
    // The matrix of a policy kubectl never creates is not shown.
    assert!(v.detail.is_none());
}

#[test]
fn automount_typo_fails_the_token_check_in_the_pod_and_the_account() {
    let s = spec(json!({"service_account_token": {"target": "deployment/web", "mounted": false}}));
    let good_sa = account(json!({"automountServiceAccountToken": false}));
    let pod_typo = [web(json!({"automountServiceAcountToken": false})), good_sa];
    let f = one_error(&grade(&s, &pod_typo)).clone();
    assert!(
        f.message
            .ends_with("unknown field `automountServiceAcountToken` (did you mean `automountServiceAccountToken`?)"),
        "{}",
        f.message
    );
    assert_eq!(f.paths, ["spec.template.spec.automountServiceAcountToken"]);
    let sa_typo = [
        web(json!({})),
        account(json!({"automountServiceAcountToken": false})),
    ];
    let f = one_error(&grade(&s, &sa_typo)).clone();
    assert!(
        f.message
            .contains("did you mean `automountServiceAccountToken`"),
        "{}",
        f.message
    );
    assert_eq!(f.object.as_deref(), Some("ServiceAccount lab/web"));
    assert_eq!(f.paths, ["automountServiceAcountToken"]);
    // A non-boolean automount is a wrong type, at its value.
    let wrong = [web(json!({"automountServiceAccountToken": "no"}))];
    let f = one_error(&grade(&s, &wrong)).clone();
    assert!(f.message.contains("invalid type"), "{}", f.message);
    assert!(!f.at_key);
}

#[test]
fn rbac_typos_in_binding_and_rule_fail_an_rbac_check_that_passed() {
    let allowed = spec(
        json!({"rbac": {"subject": "system:serviceaccount:lab:web", "verb": "get",
        "resource": "secrets", "name": "db", "namespace": "lab", "expect": "allowed"}}),
    );
    let ok = [role("resourceNames"), binding("subjects")];
    assert!(grade(&allowed, &ok).passed());
    // `resourceName` leaves the rule open to every secret: still allowed
    // to the engine alone, rejected by kubectl.
    let rule_typo = [role("resourceName"), binding("subjects")];
    assert!(
        allowed
            .grade(&Evidence {
                workspace: &rule_typo,
                ..Evidence::default()
            })
            .passed()
    );
    let f = one_error(&grade(&allowed, &rule_typo)).clone();
    assert!(
        f.message.ends_with("(did you mean `resourceNames`?)"),
        "{}",
        f.message
    );
    assert_eq!(f.paths, ["rules[0].resourceName"]);
    // `subject:` binds nobody: a denied check passed by accident.
    let denied = spec(
        json!({"rbac": {"subject": "system:serviceaccount:lab:web", "verb": "get",
        "resource": "secrets", "name": "db", "namespace": "lab", "expect": "denied"}}),
    );
    let binding_typo = [role("resourceNames"), binding("subject")];
    assert!(
        denied
            .grade(&Evidence {
                workspace: &binding_typo,
                ..Evidence::default()
            })
            .passed()
    );
    let f = one_error(&grade(&denied, &binding_typo)).clone();
    assert!(
        f.message.ends_with("(did you mean `subjects`?)"),
        "{}",
        f.message
    );
    assert_eq!(f.object.as_deref(), Some("RoleBinding lab/reader"));
}

#[test]
fn objects_a_check_does_not_read_and_untyped_kinds_change_nothing() {
    let manifest = spec(
        json!({"manifest": {"target": "deployment/web", "path": "spec.replicas",
        "op": "equals", "value": 2}}),
    );
    let ws = [
        web(json!({})),
        // Another object's typo is not this check's business.
        deny_all("podSelecter"),
        // A custom resource seclab cannot type.
        obj(json!({"apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "web"}, "spek": {"x": 1}})),
    ];
    assert!(grade(&manifest, &ws).passed());
    // The target's own typo fails it, and replaces its findings.
    let v = grade(&manifest, &[web(json!({"hostNetwrok": true}))]);
    let f = one_error(&v);
    assert!(
        f.message.ends_with("(did you mean `hostNetwork`?)"),
        "{}",
        f.message
    );
    // A pss check no longer passes with a typo that hid a setting.
    let pss = spec(json!({"pss": {"target": "deployment/web", "level": "baseline"}}));
    assert!(grade(&pss, &[web(json!({}))]).passed());
    let f = one_error(&grade(&pss, &[web(json!({"hostPid": true}))])).clone();
    assert!(
        f.message.ends_with("(did you mean `hostPID`?)"),
        "{}",
        f.message
    );
}
