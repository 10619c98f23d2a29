//! Input handling that must not mislead, through the real binary on a small
//! lab: a file that does not parse fails exactly the tasks that read it,
//! each with one finding (the file, its line:col and the parser's message);
//! a field `kubectl apply` rejects (an unknown field, a wrong type) in an
//! object a check reads fails that check with a "did you mean" at the key.
//! The lab's `wrong/` and `alternatives/` variants prove the per-task
//! statuses through `seclab test --offline`; `seclab check --output json`
//! proves the findings.

mod common;

use std::path::Path;

use common::{Sandbox, write_files};
use serde_json::Value;

const LAB: &str = "\
format_version: 1
id: inputs
title: Inputs
summary: Broken files and unknown fields.
tasks:
  - id: quiz
    title: Name the image
    instructions: t.md
    hints: [\"look at web.yaml\"]
    checks:
      - quiz: {id: image, question: \"Which image does web run?\", answer: \"sha256:s1:f70cf545dbd72f545406ed548a7b81caef26207842c8df4b798b6fe9ceb0bc26\"}
  - id: replicas
    title: Two replicas
    instructions: t.md
    hints: [\"spec.replicas\"]
    checks:
      - manifest: {target: deployment/web, path: spec.replicas, op: equals, value: 2}
  - id: token
    title: No token
    instructions: t.md
    hints: [\"automountServiceAccountToken\"]
    checks:
      - service_account_token: {target: deployment/web, mounted: false}
  - id: policy
    title: Default deny
    instructions: t.md
    hints: [\"podSelector: {}\"]
    checks:
      - netpol: {from: [lab/*], to: [lab/*], expect: \"\"}
  - id: rbac
    title: Read one secret
    instructions: t.md
    hints: [\"resourceNames\"]
    checks:
      - rbac: {subject: \"system:serviceaccount:lab:web\", verb: get, resource: secrets, name: db, namespace: lab, expect: allowed}
      - rbac: {subject: \"system:serviceaccount:lab:web\", verb: delete, resource: secrets, name: db, namespace: lab, expect: denied}
";

const WEB: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: lab
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      serviceAccountName: web
      containers:
        - name: web
          image: nginx:1.27
";

const SA: &str = "\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: web
  namespace: lab
automountServiceAccountToken: false
";

const NETPOL: &str = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny
  namespace: lab
spec:
  podSelector: {}
  policyTypes: [Ingress]
";

const RBAC: &str = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: reader
  namespace: lab
rules:
  - apiGroups: [\"\"]
    resources: [secrets]
    resourceNames: [db]
    verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: reader
  namespace: lab
subjects:
  - kind: ServiceAccount
    name: web
    namespace: lab
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: reader
";

const CLIENT: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: client
  namespace: lab
  labels: {app: client}
spec:
  containers:
    - name: client
      image: curlimages/curl:8.8.0
";

/// `text` with the first `from` replaced by `to` (which must be there).
fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} not in {text}");
    text.replacen(from, to, 1)
}

/// The solution, each wrong attempt and an alternative, as
/// (variant folder, file, text, expect.yaml or about.yaml).
fn variants() -> Vec<(&'static str, &'static str, String, &'static str)> {
    let broken = "kind: [\n".to_owned();
    vec![
        // Broken files fail only the tasks that read them.
        (
            "wrong/netpol-broken",
            "netpol.yaml",
            broken.clone(),
            "fail: [policy, rbac]\n",
        ),
        (
            "wrong/web-broken",
            "web.yaml",
            broken.clone(),
            "fail: [replicas, token, policy, rbac]\n",
        ),
        (
            "wrong/sa-broken",
            "sa.yaml",
            broken.clone(),
            "fail: [token, policy, rbac]\n",
        ),
        (
            "wrong/answers-broken",
            "answers.yaml",
            "quiz: [\n".to_owned(),
            "fail: [quiz]\n",
        ),
        // Unknown fields in the objects a check reads.
        (
            "wrong/podselecter",
            "netpol.yaml",
            edit(NETPOL, "podSelector", "podSelecter"),
            "fail: [policy]\n",
        ),
        (
            "wrong/pod-automount-typo",
            "web.yaml",
            edit(
                WEB,
                "      serviceAccountName: web\n",
                "      serviceAccountName: web\n      automountServiceAcountToken: false\n",
            ),
            "fail: [replicas, token, policy]\n",
        ),
        (
            "wrong/sa-automount-typo",
            "sa.yaml",
            edit(
                SA,
                "automountServiceAccountToken",
                "automountServiceAcountToken",
            ),
            "fail: [token, rbac]\n",
        ),
        (
            "wrong/rolebinding-subject",
            "rbac.yaml",
            edit(RBAC, "subjects:", "subject:"),
            "fail: [rbac]\n",
        ),
        (
            "wrong/rule-resourcename",
            "rbac.yaml",
            edit(RBAC, "resourceNames:", "resourceName:"),
            "fail: [rbac]\n",
        ),
        (
            "wrong/replicas-string",
            "web.yaml",
            edit(WEB, "replicas: 2", "replicas: \"2\""),
            "fail: [replicas, token, policy]\n",
        ),
        // Kinds seclab cannot type (a CRD) are not judged; a Deployment
        // without apiVersion is read as its kind.
        (
            "alternatives/with-crd",
            "widget.yaml",
            "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: lab}\nspec: {anything: [1, 2]}\n".to_owned(),
            "about: a custom resource next to the manifests\n",
        ),
        (
            "alternatives/no-api-version",
            "web.yaml",
            edit(WEB, "apiVersion: apps/v1\n", ""),
            "about: the Deployment without apiVersion, read by its kind\n",
        ),
    ]
}

fn inputs_lab(root: &Path) {
    let start_web = edit(WEB, "replicas: 2", "replicas: 1");
    let start_sa = edit(SA, "automountServiceAccountToken: false\n", "");
    let start_rbac = edit(
        RBAC,
        "    resourceNames: [db]\n    verbs: [get]\n",
        "    verbs: [list]\n",
    );
    let mut files: Vec<(String, String)> = vec![
        ("lab.yaml".into(), LAB.into()),
        ("t.md".into(), "# Task\n".into()),
        ("start/web.yaml".into(), start_web),
        ("start/sa.yaml".into(), start_sa),
        ("start/client.yaml".into(), CLIENT.into()),
        ("start/rbac.yaml".into(), start_rbac),
        ("solution/web.yaml".into(), WEB.into()),
        ("solution/sa.yaml".into(), SA.into()),
        ("solution/netpol.yaml".into(), NETPOL.into()),
        ("solution/rbac.yaml".into(), RBAC.into()),
        (
            "solution/answers.yaml".into(),
            "quiz: {image: nginx}\n".into(),
        ),
    ];
    for (dir, file, text, meta) in variants() {
        files.push((format!("{dir}/{file}"), text));
        let meta_file = if dir.starts_with("wrong/") {
            "expect.yaml"
        } else {
            "about.yaml"
        };
        files.push((format!("{dir}/{meta_file}"), meta.to_owned()));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    write_files(&root.join("inputs"), &refs);
}

/// A sandbox with the lab and its workspace holding the solution.
fn solved() -> Sandbox {
    let sb = Sandbox::new();
    inputs_lab(&sb.work().join("labs"));
    assert_eq!(sb.run(&["--labs", "labs", "start", "inputs"]).code, 0);
    let ws = sb.work().join("seclab/inputs");
    for (file, text) in [
        ("web.yaml", WEB),
        ("sa.yaml", SA),
        ("netpol.yaml", NETPOL),
        ("rbac.yaml", RBAC),
        ("answers.yaml", "quiz: {image: nginx}\n"),
    ] {
        std::fs::write(ws.join(file), text).expect("write");
    }
    sb
}

/// `seclab check inputs --output json` after writing `file`: task id →
/// (status, findings of all its checks).
fn check_with(sb: &Sandbox, file: &str, text: &str) -> Vec<(String, String, Vec<Value>)> {
    std::fs::write(sb.work().join("seclab/inputs").join(file), text).expect("write");
    let r = sb.run(&["--labs", "labs", "check", "inputs", "--output", "json"]);
    assert!(r.code == 0 || r.code == 1, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).expect("json");
    v.as_array()
        .expect("tasks")
        .iter()
        .map(|t| {
            let findings = t["checks"]
                .as_array()
                .expect("checks")
                .iter()
                .flat_map(|c| c["findings"].as_array().cloned().unwrap_or_default())
                .collect();
            (
                t["task"].as_str().expect("id").to_owned(),
                t["status"].as_str().expect("status").to_owned(),
                findings,
            )
        })
        .collect()
}

fn task<'a>(
    results: &'a [(String, String, Vec<Value>)],
    id: &str,
) -> &'a (String, String, Vec<Value>) {
    results.iter().find(|(t, ..)| t == id).expect("task graded")
}

/// Every task passes or fails as the lab's variants say: the broken-file
/// rule and the typed field checks, per task, through `seclab test`.
#[test]
fn every_variant_fails_exactly_the_tasks_that_read_the_bad_file() {
    let sb = Sandbox::new();
    inputs_lab(&sb.work().join("labs"));
    // (`seclab validate` would reject the broken files of the wrong/
    // variants, as it should for a lab it ships; `seclab test` grades them.)
    let r = sb.run(&["--labs", "labs", "test", "--offline", "inputs"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    for (dir, ..) in variants() {
        assert!(
            r.stdout.contains(&format!("ok      inputs/{dir}/quiz")),
            "{dir}: {}",
            r.stdout
        );
    }
    let cases = 5 * (2 + variants().len());
    assert!(
        r.stdout
            .trim_end()
            .ends_with(&format!("{cases} passed, 0 failed, 0 skipped")),
        "{}",
        r.stdout
    );
}

#[test]
fn a_broken_manifest_fails_its_readers_with_one_finding_and_no_quiz() {
    let sb = solved();
    let all = check_with(&sb, "sa.yaml", SA);
    assert!(all.iter().all(|(_, s, _)| s == "pass"), "{all:?}");
    // Line 3 opens a flow sequence that never closes.
    let results = check_with(
        &sb,
        "netpol.yaml",
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nspec: [\n",
    );
    for id in ["policy", "rbac"] {
        let (_, status, findings) = task(&results, id);
        assert_eq!(status, "fail", "{id}");
        assert_eq!(findings.len(), 1, "{id}: {findings:?}");
        let f = &findings[0];
        assert_eq!(f["source"], "netpol.yaml", "{f}");
        assert_eq!(f["severity"], "error");
        assert!(
            f["line"].as_u64().is_some() && f["col"].as_u64().is_some(),
            "{f}"
        );
        assert!(f.get("object").is_none(), "{f}");
    }
    // The quiz, and the checks whose targets are in intact files, are
    // graded as usual.
    for id in ["quiz", "replicas", "token"] {
        let (_, status, findings) = task(&results, id);
        assert_eq!(status, "pass", "{id}: {findings:?}");
    }
    // The same through the text output: one error line, no matrix.
    let r = sb.run(&["--labs", "labs", "check", "inputs", "policy"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(r.stdout.matches("error:").count(), 1, "{}", r.stdout);
    assert!(r.stdout.contains("error: netpol.yaml:"), "{}", r.stdout);
    assert!(!r.stdout.contains("=>"), "{}", r.stdout);
    let r = sb.run(&["--labs", "labs", "check", "inputs", "quiz"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("ok   quiz"), "{}", r.stdout);
}

#[test]
fn a_target_or_account_not_found_blames_the_broken_file() {
    let sb = solved();
    let results = check_with(&sb, "web.yaml", "kind: Deployment\nmetadata: {name: [\n");
    for id in ["replicas", "token", "policy", "rbac"] {
        let (_, status, findings) = task(&results, id);
        assert_eq!(status, "fail", "{id}");
        assert_eq!(findings.len(), 1, "{id}: {findings:?}");
        assert_eq!(findings[0]["source"], "web.yaml");
        assert!(
            !findings[0]["message"]
                .as_str()
                .unwrap_or("")
                .contains("not found"),
            "{id}: {findings:?}"
        );
    }
    assert_eq!(task(&results, "quiz").1, "pass");
    // The Deployment back, its ServiceAccount's file broken: the token
    // check cannot know the account, the manifest check needs none.
    std::fs::write(sb.work().join("seclab/inputs/web.yaml"), WEB).expect("write");
    let results = check_with(&sb, "sa.yaml", "kind: ServiceAccount\n  bad indent: [\n");
    let (_, status, findings) = task(&results, "token");
    assert_eq!(status, "fail");
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["source"], "sa.yaml");
    assert_eq!(task(&results, "replicas").1, "pass");
    assert_eq!(task(&results, "quiz").1, "pass");
}

#[test]
fn a_broken_answers_file_fails_only_the_quiz() {
    let sb = solved();
    let results = check_with(&sb, "answers.yaml", "quiz: {image: [\n");
    let (_, status, findings) = task(&results, "quiz");
    assert_eq!(status, "fail");
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["source"], "answers.yaml");
    assert!(findings[0]["line"].is_u64(), "{findings:?}");
    for id in ["replicas", "token", "policy", "rbac"] {
        assert_eq!(task(&results, id).1, "pass", "{id}");
    }
}

/// The one finding of an unknown field: its message and `line:col`.
fn unknown_field(results: &[(String, String, Vec<Value>)], id: &str) -> (String, u64, u64) {
    let (_, status, findings) = task(results, id);
    assert_eq!(status, "fail", "{id}");
    assert_eq!(findings.len(), 1, "{id}: {findings:?}");
    let f = &findings[0];
    (
        f["message"].as_str().expect("message").to_owned(),
        f["line"].as_u64().expect("line"),
        f["col"].as_u64().expect("col"),
    )
}

#[test]
fn network_policy_typo_fails_at_the_key_with_did_you_mean() {
    let sb = solved();
    let results = check_with(
        &sb,
        "netpol.yaml",
        &edit(NETPOL, "podSelector", "podSelecter"),
    );
    // `podSelecter:` is line 7, column 3; before, it passed: a policy with
    // no podSelector selects every pod.
    assert_eq!(
        unknown_field(&results, "policy"),
        (
            "kubectl apply rejects it: unknown field `podSelecter` (did you mean `podSelector`?)"
                .to_owned(),
            7,
            3
        )
    );
    for id in ["quiz", "replicas", "token", "rbac"] {
        assert_eq!(task(&results, id).1, "pass", "{id}");
    }
}

#[test]
fn automount_typo_fails_the_token_check_in_the_pod_and_in_the_account() {
    let sb = solved();
    let web = edit(
        WEB,
        "      serviceAccountName: web\n",
        "      serviceAccountName: web\n      automountServiceAcountToken: false\n",
    );
    let results = check_with(&sb, "web.yaml", &web);
    let (message, line, col) = unknown_field(&results, "token");
    assert!(
        message.contains("did you mean `automountServiceAccountToken`"),
        "{message}"
    );
    assert_eq!((line, col), (15, 7));
    // The manifest check reads the same Deployment, which kubectl rejects.
    assert_eq!(unknown_field(&results, "replicas").1, 15);
    std::fs::write(sb.work().join("seclab/inputs/web.yaml"), WEB).expect("write");
    let results = check_with(
        &sb,
        "sa.yaml",
        &edit(
            SA,
            "automountServiceAccountToken",
            "automountServiceAcountToken",
        ),
    );
    let (message, line, col) = unknown_field(&results, "token");
    assert!(
        message.contains("did you mean `automountServiceAccountToken`"),
        "{message}"
    );
    assert_eq!((line, col), (6, 1));
    assert_eq!(task(&results, "replicas").1, "pass");
}

#[test]
fn rbac_typos_in_a_binding_and_a_rule_fail_the_rbac_check() {
    let sb = solved();
    let results = check_with(&sb, "rbac.yaml", &edit(RBAC, "subjects:", "subject:"));
    let (_, status, findings) = task(&results, "rbac");
    assert_eq!(status, "fail");
    // Both rbac checks of the task read the RoleBinding.
    assert_eq!(findings.len(), 2, "{findings:?}");
    for f in findings {
        assert!(
            f["message"]
                .as_str()
                .unwrap_or("")
                .ends_with("unknown field `subject` (did you mean `subjects`?)"),
            "{f}"
        );
        assert_eq!(
            (f["line"].as_u64(), f["col"].as_u64()),
            (Some(17), Some(1)),
            "{f}"
        );
        assert_eq!(f["object"], "RoleBinding lab/reader");
    }
    // Without the typo `resourceName:` widens the rule to every secret, and
    // the task passed; kubectl rejects the Role.
    let results = check_with(
        &sb,
        "rbac.yaml",
        &edit(RBAC, "resourceNames:", "resourceName:"),
    );
    let (_, status, findings) = task(&results, "rbac");
    assert_eq!(status, "fail");
    let f = &findings[0];
    assert!(
        f["message"]
            .as_str()
            .unwrap_or("")
            .ends_with("unknown field `resourceName` (did you mean `resourceNames`?)"),
        "{f}"
    );
    assert_eq!(f["paths"][0], "rules[0].resourceName");
    assert_eq!(
        (f["line"].as_u64(), f["col"].as_u64()),
        (Some(9), Some(5)),
        "{f}"
    );
}

#[test]
fn a_wrong_type_fails_at_the_value() {
    let sb = solved();
    let results = check_with(
        &sb,
        "web.yaml",
        &edit(WEB, "replicas: 2", "replicas: \"2\""),
    );
    let (message, line, col) = unknown_field(&results, "replicas");
    assert!(
        message.starts_with("kubectl apply rejects it: spec.replicas: invalid type: string"),
        "{message}"
    );
    assert_eq!((line, col), (7, 13));
}
