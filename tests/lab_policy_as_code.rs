//! The `policy-as-code` lab through the real binary: it validates, its
//! start/solution/wrong/alternative cases all hold offline, each
//! known-wrong attempt fails for its own reason (the request it lets
//! through or wrongly stops, and why), and `seclab scan admission` on the
//! solution rejects a privileged Deployment and admits a clean one.

mod common;

use common::{Sandbox, repo_root, write_files};

#[test]
fn lab_validates_and_tests_green_offline() {
    let sb = Sandbox::new();
    let r = sb.run(&["validate"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = sb.run(&["test", "--offline", "policy-as-code"]);
    assert_eq!(r.code, 0, "{r:?}");
    // One skip: the Kyverno validate.pattern attempt, graded live only.
    assert!(r.stdout.contains(" 0 failed, 1 skipped"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("skipped policy-as-code/wrong/kyverno-pattern/kyverno: graded live only"),
        "{}",
        r.stdout
    );
    let lab = repo_root().join("labs/policy-as-code");
    for kind in ["wrong", "alternatives"] {
        for entry in std::fs::read_dir(lab.join(kind)).expect("cases") {
            let name = entry.expect("entry").file_name();
            let name = name.to_string_lossy();
            assert!(
                r.stdout
                    .contains(&format!("ok      policy-as-code/{kind}/{name}/"))
                    || r.stdout
                        .contains(&format!("skipped policy-as-code/{kind}/{name}/")),
                "{kind}/{name} not tested: {}",
                r.stdout
            );
        }
    }
}

fn check_variant(variant: &str, task: &str) -> common::Run {
    common::check_variant("policy-as-code", variant, task)
}

#[test]
fn each_wrong_attempt_fails_for_its_own_reason() {
    for (variant, task, want) in [
        (
            "vap-containers-only",
            "vap",
            "a privileged init container (the app container is fine) (Pod shop/privileged-init, CREATE) must be rejected, but is admitted",
        ),
        (
            "vap-no-binding",
            "vap",
            "ValidatingAdmissionPolicy \"pod-rules\" has no ValidatingAdmissionPolicyBinding",
        ),
        (
            "vap-warn-binding",
            "vap",
            "with a warning only: a Warn binding admits",
        ),
        (
            "vap-binding-names-another-policy",
            "vap",
            "names policy \"pod-rule\", which is not in your files",
        ),
        (
            "vap-no-ephemeral-subresource",
            "vap",
            "no resourceRule matches UPDATE of pods/ephemeralcontainers",
        ),
        (
            "vap-pods-only",
            "vap",
            "no resourceRule matches CREATE of deployments",
        ),
        (
            "vap-registry-prefix-without-slash",
            "vap",
            "(Pod shop/look-alike, CREATE) must be rejected, but is admitted",
        ),
        (
            "vap-digest-anywhere",
            "vap",
            "(Pod shop/short-digest, CREATE) must be rejected, but is admitted",
        ),
        (
            "vap-optional-fields-read-directly",
            "vap",
            "resulted in error: no such key: initContainers",
        ),
        (
            "vap-failure-policy-ignore",
            "vap",
            "(Pod shop/privileged, CREATE) must be rejected, but is admitted",
        ),
        (
            "kyverno-audit-mode",
            "kyverno",
            "failed in Audit mode (admitted, reported)",
        ),
        (
            "kyverno-autogen-off",
            "kyverno",
            "(Deployment shop/privileged-deploy, CREATE) must be rejected, but is admitted — pod-rules: skip (no rule matches the request)",
        ),
    ] {
        let r = check_variant(&format!("wrong/{variant}"), task);
        assert_eq!(r.code, 1, "{variant}: {r:?}");
        assert!(r.stdout.contains(want), "{variant}: {}", r.stdout);
    }
}

#[test]
fn kyverno_pattern_rules_are_graded_live_only() {
    // Offline the check cannot decide a validate.pattern rule: it says so
    // and skips; on the kind cluster the battery's dry runs decide.
    let r = check_variant("wrong/kyverno-pattern", "kyverno");
    assert!(
        r.stdout.contains(
            "graded live only: pod-rules/no-privileged: validate.pattern is not evaluated offline"
        ),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("PASS"), "{}", r.stdout);
}

#[test]
fn scan_admission_agrees_with_the_check_on_the_solution() {
    let sb = Sandbox::new();
    let solution = repo_root().join("labs/policy-as-code/solution");
    write_files(
        &sb.work(),
        &[(
            "deploy.yaml",
            "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: registry.class.example/shop/web@sha256:bd9c46eaf10c9ec5c68adb2217c4c8d69ca1c7cd6d42139ddb34cb598dea7ae4
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: root, namespace: shop}
spec:
  selector: {matchLabels: {app: root}}
  template:
    metadata: {labels: {app: root}}
    spec:
      containers:
      - name: web
        image: registry.class.example/shop/web@sha256:bd9c46eaf10c9ec5c68adb2217c4c8d69ca1c7cd6d42139ddb34cb598dea7ae4
        securityContext: {privileged: true}
",
        )],
    );
    for file in ["vap.yaml", "kyverno.yaml"] {
        let policy = solution.join(file);
        let r = sb.run(&[
            "scan",
            "admission",
            policy.to_str().expect("utf-8"),
            "--against",
            "deploy.yaml",
        ]);
        assert_eq!(r.code, 1, "{file}: {r:?}");
        assert!(
            r.stdout.contains("ADMIT  Deployment shop/web")
                && r.stdout.contains("REJECT Deployment shop/root")
                && r.stdout.contains("privileged containers are not allowed"),
            "{file}: {}",
            r.stdout
        );
    }
}
