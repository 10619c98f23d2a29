//! Malformed admission policies never panic the evaluator: every prefix
//! of real CEL expressions (cut at each character), expressions spliced
//! with garbage, and policy documents with each field of the wrong type
//! all end in a verdict or a located problem.

use seclab_checkers::admission::{
    Binding, KyvernoPolicy, Operation, Request, Semantics, UserInfo, Vap, World, evaluate,
};
use serde_json::{Value, json};

const EXPRESSIONS: &[&str] = &[
    "object.spec.containers.all(c, !c.?securityContext.?privileged.orValue(false))",
    "variables.pod.?volumes.orValue([]).all(v, !has(v.hostPath))",
    "variables.containers.all(c, c.image.startsWith('registry.class.example/') && c.image.matches('@sha256:[0-9a-f]{64}$'))",
    "object.kind == 'Pod' ? object.spec : object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.spec : object.spec.template.spec",
    "'privileged: ' + variables.containers.filter(c, c.?securityContext.?privileged.orValue(false)).map(c, c.name).join(', ')",
    "object.spec.replicas <= int(params.data.maxReplicas)",
    "has(object.metadata.labels) && 'env' in object.metadata.labels && object.metadata.labels['env'] == 'prod'",
    "quantity(object.spec.containers[0].resources.limits.memory).isLessThan(quantity('1Gi'))",
    "object.spec.containers.exists_one(c, c.name == 'web') && size(object.spec.containers) > 0",
    "[1, 2, 3].map(x, x * 2).filter(y, y > 2)[0] / 0",
];

fn pod() -> Request {
    Request::for_object(
        Operation::Create,
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "n", "labels": {"env": "prod"}},
               "spec": {"containers": [{"name": "web", "image": "nginx", "resources": {"limits": {"memory": "64Mi"}}}]}}),
        None,
        UserInfo::default(),
    )
    .expect("a pod")
}

fn policy(expr: &Value) -> Value {
    json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": "p"},
        "spec": {"matchConstraints": {"resourceRules": [{"apiGroups": ["*"], "apiVersions": ["*"],
                  "operations": ["*"], "resources": ["*"]}]},
                 "variables": [{"name": "pod", "expression": "object.spec"},
                               {"name": "containers", "expression": expr}],
                 "validations": [{"expression": expr, "messageExpression": expr}]}})
}

fn run(doc: &Value) {
    let p = Vap::parse(doc);
    let b = Binding::implied(&p.name);
    let _ = evaluate(&p, &[&b], &pod(), &World::default(), Semantics::ApiServer);
    let _ = evaluate(&p, &[], &pod(), &World::default(), Semantics::KyvernoCli);
}

#[test]
fn every_prefix_of_real_expressions() {
    let mut n = 0;
    for e in EXPRESSIONS {
        for (i, _) in e.char_indices().chain(std::iter::once((e.len(), ' '))) {
            run(&policy(&json!(&e[..i])));
            run(&policy(&json!(format!("{}){}", &e[..i], &e[i..]))));
            n += 2;
        }
    }
    assert!(n > 1000, "{n} expressions");
}

/// Sets the field at `path`, adding it to its parent object when missing.
fn set(doc: &mut Value, path: &str, v: &Value) {
    if let Some(slot) = doc.pointer_mut(path) {
        *slot = v.clone();
        return;
    }
    let (parent, key) = path.rsplit_once('/').expect("a path");
    if let Some(Value::Object(m)) = doc.pointer_mut(parent) {
        m.insert(key.to_owned(), v.clone());
    }
}

#[test]
fn fields_of_the_wrong_type() {
    let base = policy(&json!(EXPRESSIONS[0]));
    let wrong = [
        json!(null),
        json!(7),
        json!("x"),
        json!([]),
        json!({}),
        json!([1, {"a": 2}]),
    ];
    let paths = [
        "/spec",
        "/spec/matchConstraints",
        "/spec/matchConstraints/resourceRules",
        "/spec/matchConstraints/resourceRules/0",
        "/spec/matchConstraints/resourceRules/0/operations",
        "/spec/variables",
        "/spec/variables/0",
        "/spec/variables/0/name",
        "/spec/validations",
        "/spec/validations/0",
        "/spec/validations/0/expression",
        "/metadata",
        "/metadata/name",
        "/spec/failurePolicy",
        "/spec/paramKind",
        "/spec/matchConditions",
    ];
    for path in paths {
        for w in &wrong {
            let mut doc = base.clone();
            set(&mut doc, path, w);
            run(&doc);
            let mut b = json!({"kind": "ValidatingAdmissionPolicyBinding", "metadata": {"name": "b"},
                "spec": {"policyName": "p", "validationActions": ["Deny"], "paramRef": {"name": "x"},
                         "matchResources": {"namespaceSelector": {"matchLabels": {"a": "b"}}}}});
            let bp = path.replace("/spec/matchConstraints", "/spec/matchResources");
            set(&mut b, &bp, w);
            let _ = Binding::parse(&b);
            let k = json!({"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "k"},
                "spec": {"rules": [{"name": "r", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                                    "validate": {"cel": {"expressions": [{"expression": w}]}}}]}});
            let _ = KyvernoPolicy::parse(&k).evaluate(&pod(), &World::default());
        }
    }
}
