//! The sa-token lab (issue 5): it validates and proves itself offline, its
//! flag differs per student and is stable per student, `scan rbac --risky`
//! finds the seeded mistake in start/ and nothing in the solution, and the
//! solution's Deployment practises what the course teaches.

mod common;

use std::path::Path;

use seclab::lab::Student;
use seclab::lab::template::render;
use seclab_checkers::KubeObject;
use seclab_checkers::manifest::{self, ManifestCheck, Op, Source};
use seclab_checkers::rbac::{TokenCheck, token};
use serde_json::{Value, json};

fn seclab(args: &[&str]) -> (i32, String, String) {
    common::seclab(args)
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn yaml_docs(text: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(text).expect("YAML")
}

#[test]
fn validates_and_tests_green_offline() {
    let (code, out, err) = seclab(&["validate"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = seclab(&["test", "--offline", "sa-token"]);
    assert_eq!(code, 0, "{out}{err}");
    // Every task of every variant (start, solution, each wrong/ and
    // alternatives/ case) is a case; the flag task is skipped offline in
    // each variant.
    let cases = |dir: &str| {
        std::fs::read_dir(root().join("labs/sa-token").join(dir)).map_or(0, |d| {
            d.filter(|e| e.as_ref().is_ok_and(|e| e.path().is_dir()))
                .count()
        })
    };
    let variants = 2 + cases("wrong") + cases("alternatives");
    let want = format!("{} passed, 0 failed, {variants} skipped\n", 3 * variants);
    assert!(out.ends_with(&want), "{want}: {out}");
}

fn rendered_secret(student: &Student) -> Value {
    let path = root().join("manifests/sa-token/secret.yaml.tera");
    let text = std::fs::read_to_string(&path).expect("template");
    let out = render("secret.yaml.tera", &text, student).expect("renders");
    yaml_docs(&out).pop().expect("one document")
}

#[test]
fn the_flag_differs_per_student_and_is_stable() {
    let alice = Student {
        id: "alice".into(),
        seed: "class-7".into(),
    };
    let bob = Student {
        id: "bob".into(),
        ..alice.clone()
    };
    let a = rendered_secret(&alice);
    let b = rendered_secret(&bob);
    let password = |s: &Value| s["stringData"]["password"].as_str().map(str::to_owned);
    assert_eq!(password(&a), Some(alice.flag("db-credentials")));
    assert_eq!(password(&b), Some(bob.flag("db-credentials")));
    assert_ne!(password(&a), password(&b));
    assert_eq!(a, rendered_secret(&alice));
    assert_eq!(
        a["metadata"],
        json!({"name": "db-credentials", "namespace": "sa-token"})
    );
}

#[test]
fn risky_finds_the_seeded_mistake_only_in_start() {
    let start = root().join("labs/sa-token/start").display().to_string();
    let solution = root().join("labs/sa-token/solution").display().to_string();
    let (code, out, _) = seclab(&["scan", "rbac", &start, "--risky"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("ServiceAccount sa-token/web"), "{out}");
    assert!(out.contains("read-secrets"), "{out}");
    let (code, out, _) = seclab(&["scan", "rbac", &solution, "--risky"]);
    assert_eq!(code, 0, "{out}");
}

fn solution_deployment() -> KubeObject {
    let text = std::fs::read_to_string(root().join("labs/sa-token/solution/deployment.yaml"))
        .expect("solution deployment");
    KubeObject::new(yaml_docs(&text).pop().expect("one document"))
}

fn check(path: &str, op: Op, value: Value) -> ManifestCheck {
    ManifestCheck {
        target: seclab_checkers::Target::parse("deployment/web").expect("target"),
        namespace: Some("sa-token".into()),
        path: path.into(),
        op,
        value: Some(value),
        source: Source::Workspace,
        message: None,
    }
}

#[test]
fn the_solution_meets_pss_restricted_essentials() {
    // The fields Pod Security Standards "restricted" requires of this pod
    // (no volumes of forbidden types, no host namespaces, as written).
    let objs = [solution_deployment()];
    let pod = "spec.template.spec";
    let container = "spec.template.spec.containers[*]";
    for (path, op, value) in [
        (
            format!("{pod}.securityContext.runAsNonRoot"),
            Op::Equals,
            json!(true),
        ),
        (
            format!("{pod}.securityContext.seccompProfile.type"),
            Op::Equals,
            json!("RuntimeDefault"),
        ),
        (
            format!("{container}.securityContext.allowPrivilegeEscalation"),
            Op::Equals,
            json!(false),
        ),
        (
            format!("{container}.securityContext.capabilities.drop[*]"),
            Op::Some,
            json!("ALL"),
        ),
        (format!("{pod}.hostNetwork"), Op::None, json!(true)),
        (format!("{pod}.hostPID"), Op::None, json!(true)),
    ] {
        let v = manifest::grade(&check(&path, op, value), &objs);
        assert!(v.passed(), "{path}: {:?}", v.findings);
    }
    let no_token = TokenCheck {
        target: seclab_checkers::Target::parse("deployment/web").expect("target"),
        namespace: None,
        mounted: false,
    };
    assert!(token::grade(&no_token, &objs).passed());
}
