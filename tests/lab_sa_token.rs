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
use seclab_checkers::rbac::{RbacCheck, TokenCheck, grade, token};
use seclab_checkers::{Severity, Status};
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

/// The least-privilege task's `only` check, as lab.yaml writes it.
fn only_check() -> RbacCheck {
    let text = std::fs::read_to_string(root().join("labs/sa-token/lab.yaml")).expect("lab.yaml");
    let lab: Value = serde_saphyr::from_str(&text).expect("lab.yaml parses");
    let task = lab["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["id"] == "least-privilege")
        .expect("least-privilege task");
    let spec = task["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find_map(|c| c.get("rbac").filter(|r| r.get("only").is_some()))
        .expect("an rbac check with only");
    serde_json::from_value(spec.clone()).expect("the only check reads")
}

/// The objects of start/ + solution/ + a variant folder (files replace
/// files of the same name), each with its file name.
fn workspace(variant: &str) -> Vec<KubeObject> {
    let mut files = std::collections::BTreeMap::new();
    for dir in ["start", "solution", variant] {
        let d = root().join("labs/sa-token").join(dir);
        for e in std::fs::read_dir(&d)
            .expect("folder")
            .filter_map(Result::ok)
        {
            let name = e.file_name().to_string_lossy().into_owned();
            let yaml = e.path().extension().is_some_and(|x| x == "yaml");
            if yaml && name != "expect.yaml" && name != "about.yaml" {
                files.insert(name, std::fs::read_to_string(e.path()).expect("file"));
            }
        }
    }
    files
        .iter()
        .filter(|(name, _)| !name.starts_with("answers"))
        .flat_map(|(name, text)| {
            yaml_docs(text)
                .into_iter()
                .filter(|v| !v.is_null())
                .enumerate()
                .map(|(i, value)| KubeObject {
                    source: Some(name.clone()),
                    doc: i,
                    value,
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn least_privilege_fails_each_wrong_answer_of_issue_9_for_its_grant() {
    let only = only_check();
    for (case, beyond) in [
        (
            "secret-by-name",
            "grants get on secrets (named api-key) in namespace sa-token",
        ),
        (
            "create-pods",
            "grants create on pods (every name) in namespace sa-token",
        ),
        (
            "configmap-any-verb",
            "grants * on configmaps (named web-config) in namespace sa-token",
        ),
        (
            "every-configmap",
            "grants get, list, watch on configmaps (every name) in namespace sa-token",
        ),
        (
            "misspelt-resource-names",
            "grants get on configmaps (every name) in namespace sa-token",
        ),
        (
            "bound-to-edit",
            "RoleBinding sa-token/web -> ClusterRole/edit (built-in)",
        ),
        (
            "bound-to-admin",
            "RoleBinding sa-token/web -> ClusterRole/admin (built-in)",
        ),
        (
            "wildcard-elsewhere",
            "ClusterRoleBinding/web-everything -> ClusterRole/web-everything",
        ),
    ] {
        let v = grade(&only, &workspace(&format!("wrong/{case}")));
        assert_eq!(v.status, Status::Fail, "{case}");
        assert!(
            v.findings
                .iter()
                .any(|f| f.severity == Severity::Error && f.message.contains(beyond)),
            "{case}: {:#?}",
            v.findings
        );
    }
    // The misspelling warns too.
    let v = grade(&only, &workspace("wrong/misspelt-resource-names"));
    assert!(v.findings.iter().any(|f| {
        f.severity == Severity::Warning
            && f.message
                .contains("rules[0].resourceName is not a field of a PolicyRule")
    }));
}

#[test]
fn least_privilege_passes_right_answers_written_differently() {
    let only = only_check();
    for case in [
        "solution",
        "alternatives/role-in-its-own-file",
        "alternatives/cluster-role-bound-in-namespace",
        "alternatives/automount-off-on-the-pod-only",
        "alternatives/automount-off-on-the-account-only",
    ] {
        let v = grade(&only, &workspace(case));
        assert_eq!(v.status, Status::Pass, "{case}: {:#?}", v.findings);
        assert!(
            v.findings
                .iter()
                .any(|f| f.message.starts_with("everyone has these")),
            "{case}"
        );
    }
    assert_eq!(grade(&only, &workspace("start")).status, Status::Fail);
}

fn text(file: &str) -> String {
    std::fs::read_to_string(root().join("labs/sa-token").join(file)).expect("lab text")
}

#[test]
fn the_texts_say_what_happens_to_a_token() {
    let lp = text("least-privilege.md");
    assert!(
        !lp.contains("the old one would get a 403"),
        "the corrected claim"
    );
    assert!(lp.contains("**401 Unauthorized**") && lp.contains("**403 Forbidden**"));
    assert!(lp.contains("keeps its token until it is re-created"));
    let tr = text("token-risks.md");
    for fact in [
        "--service-account-extend-token-expiration",
        "default `true`",
        "**one year**",
        "bound to the pod",
        "3607 seconds",
    ] {
        assert!(tr.contains(fact), "token-risks.md teaches {fact}");
    }
}

#[test]
fn the_watch_question_is_not_answered_by_its_own_text() {
    // The scenario's answer (a watch replays every Secret with its data)
    // is in neither the instructions nor the first hint.
    let tr = text("token-risks.md").replace("get-list-watch", "");
    assert!(
        !tr.contains("watch"),
        "token-risks.md must not explain watch"
    );
    let lab = text("lab.yaml");
    let lab: Value = serde_saphyr::from_str(&lab).expect("lab.yaml");
    let task = lab["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["id"] == "token-risks")
        .expect("task")
        .clone();
    let first_hint = task["hints"][0].as_str().expect("hint");
    assert!(!first_hint.contains("watch"), "{first_hint}");
    let q = task["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find_map(|c| c.get("quiz").filter(|q| q["id"] == "get-list-watch"))
        .expect("question")
        .clone();
    let question = q["question"].as_str().expect("text");
    assert!(
        !question.contains("every Secret") && !question.contains("replay"),
        "{question}"
    );
}
