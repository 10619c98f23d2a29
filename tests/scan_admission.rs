//! `seclab scan admission` through the real binary: a
//! ValidatingAdmissionPolicy with Deny and Warn bindings, the implied
//! binding's note, a Kyverno ClusterPolicy reaching a Deployment through
//! autogen, namespace labels from Namespace objects, UPDATE, the JSON
//! shape, and bad input (a policy the API server would refuse, YAML that
//! does not parse) exiting 2 at `path:line:col` without a panic.

mod common;

use common::{Sandbox, write_files};
use serde_json::Value;

const VAP: &str = "apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: pinned-images
spec:
  matchConstraints:
    resourceRules:
    - apiGroups: [\"\"]
      apiVersions: [\"v1\"]
      operations: [\"CREATE\", \"UPDATE\"]
      resources: [\"pods\"]
  variables:
  - name: containers
    expression: \"object.spec.containers + object.spec.?initContainers.orValue([])\"
  validations:
  - expression: \"variables.containers.all(c, c.image.contains('@sha256:'))\"
    messageExpression: \"'not pinned by digest: ' + variables.containers.filter(c, !c.image.contains('@sha256:')).map(c, c.name).join(', ')\"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: pinned-images-labs
spec:
  policyName: pinned-images
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels:
        class: lab
";

const KYVERNO: &str = "apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: no-host-path
spec:
  validationFailureAction: Enforce
  rules:
  - name: host-path
    match:
      any:
      - resources:
          kinds: [Pod]
    validate:
      cel:
        expressions:
        - expression: \"!has(object.spec.volumes) || object.spec.volumes.all(v, !has(v.hostPath))\"
          message: hostPath volumes are not allowed
";

const TARGETS: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {class: lab}
---
apiVersion: v1
kind: Pod
metadata: {name: init-unpinned, namespace: shop}
spec:
  initContainers:
  - {name: setup, image: busybox:1.36}
  containers:
  - {name: app, image: \"reg.example/app@sha256:0000000000000000000000000000000000000000000000000000000000000000\"}
---
apiVersion: v1
kind: Pod
metadata: {name: pinned, namespace: shop}
spec:
  containers:
  - {name: app, image: \"reg.example/app@sha256:0000000000000000000000000000000000000000000000000000000000000000\"}
---
apiVersion: v1
kind: Pod
metadata: {name: elsewhere, namespace: other}
spec:
  containers:
  - {name: app, image: nginx}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: app, image: nginx}
      volumes:
      - {name: root, hostPath: {path: /}}
";

fn sandbox() -> Sandbox {
    let sb = Sandbox::new();
    write_files(
        &sb.work(),
        &[
            ("policies/vap.yaml", VAP),
            ("policies/kyverno.yaml", KYVERNO),
            ("targets.yaml", TARGETS),
        ],
    );
    sb
}

fn scan(sb: &Sandbox, extra: &[&str]) -> (i32, Vec<Value>, String) {
    let mut args = vec!["scan", "admission", "policies", "--against", "targets.yaml"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--output", "json"]);
    let r = sb.run(&args);
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {r:?}"));
    (r.code, v.as_array().unwrap().clone(), r.stderr)
}

fn find<'a>(rows: &'a [Value], object: &str, policy: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["object"] == object && r["policy"] == policy)
        .unwrap_or_else(|| panic!("no row {object} {policy}: {rows:#?}"))
}

#[test]
fn each_object_through_each_policy() {
    let sb = sandbox();
    let (code, rows, _) = scan(&sb, &[]);
    assert_eq!(code, 1, "a rejection exits 1");
    let init = find(&rows, "Pod shop/init-unpinned", "pinned-images");
    assert_eq!(init["result"], "reject");
    assert_eq!(
        init["message"],
        "ValidatingAdmissionPolicy 'pinned-images' with binding 'pinned-images-labs' denied request: not pinned by digest: setup"
    );
    assert_eq!(init["source"], "targets.yaml:8");
    assert_eq!(
        find(&rows, "Pod shop/pinned", "pinned-images")["result"],
        "admit"
    );
    // Namespace other has no label class=lab: the binding leaves it out.
    let other = find(&rows, "Pod other/elsewhere", "pinned-images");
    assert_eq!(other["result"], "skip");
    assert!(
        other["message"]
            .as_str()
            .unwrap()
            .contains("namespaceSelector")
    );
    // Kyverno's autogen rule reads the Deployment's pod template.
    let web = find(&rows, "Deployment shop/web", "no-host-path");
    assert_eq!(web["result"], "reject");
    assert_eq!(web["binding"], "autogen-host-path");
    assert!(
        web["message"]
            .as_str()
            .unwrap()
            .ends_with("hostPath volumes are not allowed")
    );
    assert_eq!(
        find(&rows, "Pod shop/pinned", "no-host-path")["result"],
        "admit"
    );
}

#[test]
fn warn_admits_with_the_warning_and_no_binding_is_noted() {
    let sb = sandbox();
    write_files(
        &sb.work(),
        &[("policies/vap.yaml", &VAP.replace("[Deny]", "[Warn]"))],
    );
    let (_, rows, _) = scan(&sb, &[]);
    let init = find(&rows, "Pod shop/init-unpinned", "pinned-images");
    assert_eq!(init["result"], "admit");
    assert_eq!(
        init["warnings"][0],
        "Validation failed for ValidatingAdmissionPolicy 'pinned-images' with binding 'pinned-images-labs': not pinned by digest: setup"
    );
    // Without its binding the policy is evaluated as bound to everything.
    let unbound = VAP.split("---").next().unwrap();
    write_files(&sb.work(), &[("policies/vap.yaml", unbound)]);
    let (_, rows, stderr) = scan(&sb, &[]);
    assert!(stderr.contains("has no binding"), "{stderr}");
    let other = find(&rows, "Pod other/elsewhere", "pinned-images");
    assert_eq!(other["result"], "reject");
    assert_eq!(other["binding"], Value::Null);
}

#[test]
fn update_and_text_output() {
    let sb = sandbox();
    let r = sb.run(&[
        "scan",
        "admission",
        "policies",
        "--against",
        "targets.yaml",
        "--operation",
        "update",
    ]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .contains("REJECT Pod shop/init-unpinned — pinned-images/pinned-images-labs"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("SKIP"), "skips only with --show-skipped");
    assert!(r.stderr.contains("5 objects:"), "{}", r.stderr);
}

#[test]
fn refused_policies_and_bad_files_exit_2_located() {
    let sb = sandbox();
    write_files(
        &sb.work(),
        &[(
            "policies/vap.yaml",
            &VAP.replace(
                "c.image.contains('@sha256:'))\"\n    messageExpression",
                "c.image.contains('@sha256:')\"\n    messageExpression",
            ),
        )],
    );
    let r = sb.run(&["scan", "admission", "policies", "--against", "targets.yaml"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.starts_with("policies/vap.yaml:16:17:")
            && r.stderr
                .contains("spec.validations[0].expression: compilation failed"),
        "{}",
        r.stderr
    );
    write_files(
        &sb.work(),
        &[(
            "policies/vap.yaml",
            &VAP.replace("validationActions: [Deny]", "validationActions: [Block]"),
        )],
    );
    let r = sb.run(&["scan", "admission", "policies", "--against", "targets.yaml"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("spec.validationActions[0]: Unsupported value"),
        "{}",
        r.stderr
    );
    write_files(&sb.work(), &[("policies/vap.yaml", "kind: [unclosed\n")]);
    let r = sb.run(&["scan", "admission", "policies", "--against", "targets.yaml"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.starts_with("policies/vap.yaml:"), "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"));
    write_files(&sb.work(), &[("policies/vap.yaml", "")]);
    std::fs::remove_file(sb.work().join("policies/kyverno.yaml")).unwrap();
    let r = sb.run(&["scan", "admission", "policies", "--against", "targets.yaml"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("no ValidatingAdmissionPolicy"),
        "{}",
        r.stderr
    );
}

#[test]
fn params_and_namespaces_from_either_set_of_files() {
    let sb = Sandbox::new();
    write_files(
        &sb.work(),
        &[
            (
                "policy.yaml",
                "apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replica-limit}
spec:
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  validations:
  - expression: \"object.spec.replicas <= int(params.data.max)\"
    messageExpression: \"'at most ' + params.data.max + ' replicas in ' + namespaceObject.metadata.labels['tier']\"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replica-limit}
spec:
  policyName: replica-limit
  validationActions: [Deny]
  paramRef: {name: limits, parameterNotFoundAction: Deny}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {tier: small}}
",
            ),
            (
                "targets.yaml",
                "apiVersion: v1
kind: ConfigMap
metadata: {name: limits, namespace: shop}
data: {max: \"3\"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: big, namespace: shop}
spec: {replicas: 5, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: a, image: a}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: big, namespace: elsewhere}
spec: {replicas: 5, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: a, image: a}]}}}
",
            ),
        ],
    );
    let r = sb.run(&[
        "scan",
        "admission",
        "policy.yaml",
        "--against",
        "targets.yaml",
        "-o",
        "json",
    ]);
    assert_eq!(r.code, 1, "{r:?}");
    let rows: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let shop = find(&rows, "Deployment shop/big", "replica-limit");
    assert_eq!(shop["result"], "reject");
    assert!(
        shop["message"]
            .as_str()
            .unwrap()
            .ends_with("at most 3 replicas in small"),
        "{shop}"
    );
    // No ConfigMap limits in namespace elsewhere: Deny on a missing param.
    let elsewhere = find(&rows, "Deployment elsewhere/big", "replica-limit");
    assert_eq!(elsewhere["result"], "reject");
    assert!(
        elsewhere["message"]
            .as_str()
            .unwrap()
            .contains("no params found"),
        "{elsewhere}"
    );
}
