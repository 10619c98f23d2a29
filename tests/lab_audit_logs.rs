//! The `audit-logs` lab: it validates and proves itself offline; its
//! incident generator is a function of the seed (the same seed the same
//! log, other seeds other incidents); the truth it claims is in the log,
//! found again here by scanning the log the way a student would, not by
//! reading `truth`; the `audit_policy` property check finds a
//! counterexample in every known-wrong policy, of the kind the case is
//! about, and none in the solution or the alternatives; and a policy that
//! does not load fails at its `file:line:col`.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{Sandbox, repo_root};
use seclab::lab::Catalog;
use seclab_checkers::CheckSpec;
use seclab_checkers::audit::forensics::{self, Incident};
use seclab_checkers::audit::grade::{AuditPolicyCheck, describe_request, violations};
use seclab_checkers::audit::{Level, Policy};
use serde_json::Value;

fn lab_dir() -> std::path::PathBuf {
    repo_root().join("labs/audit-logs")
}

fn dirs(sub: &str) -> Vec<String> {
    common::lab_cases("audit-logs", sub)
}

#[test]
fn validates_and_tests_green_offline() {
    let sb = Sandbox::new();
    let r = sb.run(&["validate"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = sb.run(&["test", "--offline", "audit-logs"]);
    assert_eq!(r.code, 0, "{r:?}");
    // Four tasks per variant; the live one is skipped offline in each.
    let variants = 2 + dirs("wrong").len() + dirs("alternatives").len();
    let want = format!("{} passed, 0 failed, {variants} skipped\n", 3 * variants);
    assert!(r.stdout.ends_with(&want), "{want}: {}", r.stdout);
    assert!(dirs("wrong").len() >= 8 && dirs("alternatives").len() >= 3);
}

// ---------------------------------------------------------------------
// The generator.

#[test]
fn the_same_seed_gives_the_same_incident_and_other_seeds_others() {
    let a = forensics::incident("class-1/alice");
    assert_eq!(a, forensics::incident("class-1/alice"));
    let b = forensics::incident("class-1/bob");
    assert_ne!(a.log, b.log);
    assert_ne!(
        forensics::student_seed("class-1", "alice", "incident"),
        forensics::student_seed("class-1", "bob", "incident")
    );
    assert_ne!(
        forensics::student_seed("class-1", "alice", "incident"),
        forensics::student_seed("class-2", "alice", "incident")
    );
    // Every part of the story differs between students.
    let many: Vec<Incident> = (0..40)
        .map(|i| {
            forensics::incident(&forensics::student_seed(
                "class-1",
                &format!("s{i}"),
                "incident",
            ))
        })
        .collect();
    let distinct =
        |f: &dyn Fn(&Incident) -> &str| many.iter().map(f).collect::<BTreeSet<&str>>().len();
    for (what, n) in [
        ("user", distinct(&|i| &i.truth.user)),
        ("source_ip", distinct(&|i| &i.truth.source_ip)),
        ("namespace", distinct(&|i| &i.truth.namespace)),
        ("secret", distinct(&|i| &i.truth.secret)),
        ("pod", distinct(&|i| &i.truth.pod)),
        ("pod_created", distinct(&|i| &i.truth.pod_created)),
        ("host_path", distinct(&|i| &i.truth.host_path)),
        ("token_pod", distinct(&|i| &i.truth.token_pod)),
    ] {
        assert!(n >= 4, "{what}: only {n} distinct values in 40 incidents");
    }
}

/// What a student finds by reading the log: the privileged pod's create,
/// then what its source address did.
#[derive(Debug, PartialEq, Eq)]
struct Found {
    user: String,
    source_ip: String,
    secret: String,
    pod: String,
    pod_created: String,
    host_path: String,
    token_pod: String,
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn scan(log: &str) -> Found {
    let events: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is one JSON event"))
        .collect();
    let privileged: Vec<&Value> = events
        .iter()
        .filter(|e| {
            e["stage"] == "ResponseComplete"
                && e["verb"] == "create"
                && e["objectRef"]["resource"] == "pods"
                && e["objectRef"].get("subresource").is_none()
                && e["requestObject"]["spec"]["containers"]
                    .as_array()
                    .is_some_and(|cs| {
                        cs.iter()
                            .any(|c| c["securityContext"]["privileged"] == true)
                    })
        })
        .collect();
    assert_eq!(privileged.len(), 1, "one privileged pod is created");
    let c = privileged[0];
    let ip = s(&c["sourceIPs"][0]);
    let host_paths: Vec<String> = c["requestObject"]["spec"]["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["hostPath"]["path"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(host_paths.len(), 1, "one hostPath volume");
    let reads: BTreeSet<String> = events
        .iter()
        .filter(|e| {
            e["sourceIPs"][0] == ip.as_str()
                && e["verb"] == "get"
                && e["objectRef"]["resource"] == "secrets"
                && e["responseStatus"]["code"] == 200
        })
        .map(|e| s(&e["objectRef"]["name"]))
        .collect();
    assert_eq!(
        reads.len(),
        1,
        "one Secret read by name from {ip}: {reads:?}"
    );
    let received = s(&c["requestReceivedTimestamp"]);
    Found {
        user: s(&c["user"]["username"]),
        source_ip: ip,
        secret: reads.into_iter().next().unwrap_or_default(),
        pod: s(&c["requestObject"]["metadata"]["name"]),
        pod_created: format!("{}Z", &received[..19]),
        host_path: host_paths[0].clone(),
        token_pod: s(&c["user"]["extra"]["authentication.kubernetes.io/pod-name"][0]),
    }
}

#[test]
fn the_truth_is_in_the_log() {
    for i in 0..25 {
        let inc = forensics::incident(&format!("seed-{i}"));
        let found = scan(&inc.log);
        let t = &inc.truth;
        assert_eq!(
            found,
            Found {
                user: t.user.clone(),
                source_ip: t.source_ip.clone(),
                secret: t.secret.clone(),
                pod: t.pod.clone(),
                pod_created: t.pod_created.clone(),
                host_path: t.host_path.clone(),
                token_pod: t.token_pod.clone(),
            },
            "seed-{i}"
        );
        // The decoys are in the log too, and are not the truth.
        assert!(
            inc.log
                .contains(&format!("\"sourceIPs\":[\"{}\"]", inc.decoys.source_ip))
        );
        assert!(
            inc.log
                .contains(&format!("/secrets/{}\"", inc.decoys.secret))
        );
        assert_ne!(inc.decoys.source_ip, t.source_ip);
        assert_ne!(inc.decoys.secret, t.secret);
        assert_ne!(inc.decoys.pod_created, t.pod_created);
    }
}

#[test]
fn the_log_is_a_log_of_audit_events() {
    let inc = forensics::incident("shape");
    let mut last = String::new();
    let mut users = BTreeSet::new();
    for line in inc.log.lines() {
        let e: Value = serde_json::from_str(line).expect("JSON");
        assert_eq!(e["kind"], "Event");
        assert_eq!(e["apiVersion"], "audit.k8s.io/v1");
        let stage = s(&e["stage"]);
        assert!(
            stage == "ResponseComplete" || stage == "ResponseStarted",
            "RequestReceived is omitted: {stage}"
        );
        let level: Level = serde_json::from_value(e["level"].clone()).expect("a level");
        assert!(level >= Level::Metadata);
        let (received, at) = (s(&e["requestReceivedTimestamp"]), s(&e["stageTimestamp"]));
        assert!(received <= at, "{line}");
        assert!(last <= at, "lines in stage order: {line}");
        last = at;
        assert_eq!(e["auditID"].as_str().map(str::len), Some(36));
        // Secrets at Metadata: no value in the log.
        if e["objectRef"]["resource"] == "secrets" {
            assert_eq!(e["level"], "Metadata", "{line}");
            assert!(e.get("requestObject").is_none() && e.get("responseObject").is_none());
        }
        users.insert(s(&e["user"]["username"]));
    }
    // The noise is there: nodes, kube-proxy, controllers, probes, people.
    for prefix in [
        "system:node:",
        "system:kube-proxy",
        "system:kube-scheduler",
        "system:serviceaccount:kube-system:",
        "system:anonymous",
        "system:serviceaccount:monitoring:prometheus",
    ] {
        assert!(
            users.iter().any(|u| u.starts_with(prefix)),
            "{prefix}: {users:?}"
        );
    }
    assert!(
        users.iter().filter(|u| u.contains('@')).count() >= 3,
        "{users:?}"
    );
    assert!(inc.log.lines().count() > 300);
}

#[test]
fn a_student_answers_from_their_own_log_and_passes() {
    let sb = Sandbox::new();
    let r = sb.run(&["start", "audit-logs"]);
    assert_eq!(r.code, 0, "{r:?}");
    let ws = sb.work().join("seclab/audit-logs");
    let log = std::fs::read_to_string(ws.join("audit.log")).expect("the rendered log");
    let found = scan(&log);
    for (q, a) in [
        ("user", found.user.as_str()),
        ("source-ip", &found.source_ip),
        ("secret", &found.secret),
        ("pod", &found.pod),
        ("created", &found.pod_created),
        ("host-path", &found.host_path),
        ("token-pod", &found.token_pod),
        ("listed", "d"),
    ] {
        let r = sb.run(&["answer", "audit-logs", "forensics", "--question", q, a]);
        assert_eq!(r.code, 0, "{q}: {r:?}");
    }
    let r = sb.run(&["check", "audit-logs", "forensics"]);
    assert_eq!(r.code, 0, "{r:?}");
    // Another student's log is another incident: alice's answers are not
    // bob's.
    let r = sb.run_env(
        &["check", "audit-logs", "forensics"],
        &[("SECLAB_STUDENT", "bob")],
    );
    assert_eq!(r.code, 1, "{r:?}");
}

// ---------------------------------------------------------------------
// The policy check.

fn policy_check() -> AuditPolicyCheck {
    let catalog = Catalog::load(None).expect("labs");
    let lab = catalog.get("audit-logs").expect("the lab");
    let task = lab.spec.task("policy").expect("task policy");
    task.checks
        .iter()
        .find_map(|c| match c {
            CheckSpec::AuditPolicy(a) => Some(a.clone()),
            _ => None,
        })
        .expect("an audit_policy check")
}

fn load(path: &Path) -> Result<Policy, String> {
    let text = std::fs::read_to_string(path).expect("policy file");
    let doc: Value = serde_saphyr::from_str(&text).expect("YAML");
    Policy::parse(&doc).map_err(|e| e.to_string())
}

#[test]
fn every_wrong_policy_has_a_counterexample_of_its_kind() {
    let check = policy_check();
    // case -> what the first counterexample must say.
    let expected: &[(&str, &[&str])] = &[
        (
            "catch-all-none-first",
            &["logged at None", "rules[0] (level None; every request)"],
        ),
        (
            "configmaps-missed",
            &["`get configmaps", "logged at Request"],
        ),
        ("exec-dropped", &["pods/exec", "logged at None"]),
        (
            "health-glob-too-wide",
            &["`get /version`", "nonResourceURLs /*"],
        ),
        (
            "kind-default-copied",
            &["`create pods", "at least at Request"],
        ),
        ("omit-stages-on-one-rule", &["stage RequestReceived"]),
        (
            "pod-writes-at-metadata",
            &["`create pods", "logged at Metadata"],
        ),
        ("request-received-kept", &["stage RequestReceived"]),
        ("secrets-at-none", &["`get secrets", "logged at None"]),
        (
            "secrets-at-request-response",
            &["`get secrets", "logged at RequestResponse"],
        ),
        (
            "secrets-by-name",
            &["`get secrets", "logged at RequestResponse"],
        ),
        (
            "secrets-in-apps-group",
            &["`get secrets", "logged at RequestResponse"],
        ),
        (
            "secrets-one-namespace",
            &["in namespace kube-system", "logged at RequestResponse"],
        ),
        (
            "secrets-read-verbs-only",
            &["`create secrets", "logged at Request"],
        ),
        (
            "tokenreviews-missed",
            &["tokenreviews.authentication.k8s.io", "logged at Request"],
        ),
    ];
    let mut seen = 0;
    for case in dirs("wrong") {
        let file = lab_dir()
            .join("wrong")
            .join(&case)
            .join("audit-policy.yaml");
        if !file.exists() {
            continue;
        }
        seen += 1;
        if case == "wrong-api-version" {
            let e = load(&file).expect_err("v1beta1 does not load");
            assert!(e.starts_with("apiVersion: Unsupported value"), "{e}");
            continue;
        }
        let policy = load(&file).unwrap_or_else(|e| panic!("{case}: {e}"));
        let v = violations(&check, &policy).expect("the check is sound");
        let first = v
            .first()
            .unwrap_or_else(|| panic!("{case}: no counterexample"));
        let level = first.evaluation.level;
        let said = format!(
            "{}: {} is logged at {level}, decided by {}",
            first.required,
            describe_request(&first.request),
            first.evaluation.rule.map_or_else(
                || "no rule".to_owned(),
                |i| { seclab_checkers::audit::grade::describe_rule(i, &policy.rules[i]) }
            )
        );
        let (_, want) = expected
            .iter()
            .find(|(c, _)| *c == case)
            .unwrap_or_else(|| panic!("{case}: add what its counterexample says to the table"));
        for w in *want {
            assert!(said.contains(w), "{case}: `{w}` not in: {said}");
        }
        // The counterexample is real: evaluating it again gives the same.
        assert_eq!(policy.evaluate(&first.request), first.evaluation);
    }
    assert_eq!(seen, expected.len() + 1);
    for dir in std::iter::once("solution".to_owned()).chain(
        dirs("alternatives")
            .into_iter()
            .map(|a| format!("alternatives/{a}")),
    ) {
        let file = lab_dir().join(&dir).join("audit-policy.yaml");
        if file.exists() {
            let policy = load(&file).unwrap_or_else(|e| panic!("{dir}: {e}"));
            let v = violations(&check, &policy).expect("sound");
            assert!(v.is_empty(), "{dir}: {:?}", v.first());
        }
    }
}

#[test]
fn a_policy_that_does_not_load_fails_at_its_line() {
    let sb = Sandbox::new();
    assert_eq!(sb.run(&["start", "audit-logs"]).code, 0);
    let ws = sb.work().join("seclab/audit-logs");
    let policy = ws.join("audit-policy.yaml");
    std::fs::write(
        &policy,
        "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n  - level: Everything\n",
    )
    .expect("write");
    let r = sb.run(&["check", "audit-logs", "policy"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains("audit-policy.yaml:5:12")
            && r.stdout.contains("would not start")
            && r.stdout.contains("Unsupported value: \"Everything\""),
        "{}",
        r.stdout
    );
    // A YAML error is the parser's, located.
    std::fs::write(&policy, "apiVersion: audit.k8s.io/v1\nrules: [\n").expect("write");
    let r = sb.run(&["check", "audit-logs", "policy"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("audit-policy.yaml:"), "{}", r.stdout);
    // A field the API server ignores is a located warning; the rest holds.
    let solution =
        std::fs::read_to_string(lab_dir().join("solution/audit-policy.yaml")).expect("solution");
    std::fs::write(&policy, format!("{solution}    omitStage: [Panic]\n")).expect("write");
    let r = sb.run(&["check", "audit-logs", "policy"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("unknown field `rules[3].omitStage`"),
        "{}",
        r.stdout
    );
}

#[test]
fn validate_names_a_broken_audit_policy_check() {
    let sb = Sandbox::new();
    let r = sb.run(&["new", "demo", "--dir", "labs"]);
    assert_eq!(r.code, 0, "{r:?}");
    let yaml = sb.work().join("labs/demo/lab.yaml");
    let mut text = std::fs::read_to_string(&yaml).expect("lab.yaml");
    text.push_str(
        "      - audit_policy:\n          target: audit-policy.yaml\n          exactly: [{level: Metadata, resources: [\"pods/\"]}]\n          battery: [{verb: get, path: healthz, level: None}]\n",
    );
    std::fs::write(&yaml, text).expect("write");
    let r = sb.run(&["--labs", "labs", "validate"]);
    assert_eq!(r.code, 2, "{r:?}");
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(all.contains("resource `pods/`"), "{all}");
    assert!(all.contains("`healthz` must start with `/`"), "{all}");
}
