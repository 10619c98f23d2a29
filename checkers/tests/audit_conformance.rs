//! Conformance of the audit policy evaluator with upstream's checker tests
//! (k8s.io/apiserver `pkg/audit/policy/checker_test.go`, transcribed in
//! `audit/cases.yaml` of the conformance data): every evaluation case
//! (level and omitted stages, the rule list loaded as an `audit.k8s.io/v1`
//! Policy, which must also equal the policy built from the file's `rules`
//! catalogue), every omitManagedFields case and every unionStages case
//! must agree.

mod common;

use std::collections::BTreeSet;

use seclab_checkers::audit::{Level, Policy, Request, Stage, union_stages};
use serde_json::{Value, json};

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().expect("a string").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn stage_list(v: Option<&Value>) -> Vec<Stage> {
    string_list(v)
        .iter()
        .map(|s| s.parse().expect("a stage"))
        .collect()
}

/// The request record as the case file writes it (upstream's
/// `authorizer.AttributesRecord`; `user: null` = no user).
fn request(r: &Value) -> Request {
    Request {
        user: r.get("user").and_then(Value::as_str).map(str::to_owned),
        groups: string_list(r.get("groups")),
        verb: text(r, "verb").to_owned(),
        namespace: text(r, "namespace").to_owned(),
        api_group: text(r, "apiGroup").to_owned(),
        api_version: text(r, "apiVersion").to_owned(),
        resource: text(r, "resource").to_owned(),
        subresource: text(r, "subresource").to_owned(),
        name: text(r, "name").to_owned(),
        path: text(r, "path").to_owned(),
        resource_request: r
            .get("resourceRequest")
            .and_then(Value::as_bool)
            .expect("resourceRequest"),
    }
}

fn load(policy: &Value, id: &str) -> Policy {
    Policy::parse(policy).unwrap_or_else(|e| panic!("{id}: the case's policy does not load: {e}"))
}

#[test]
fn upstream_cases_agree() {
    let Some(dir) = common::conformance_dir("audit") else {
        return;
    };
    let file = dir.join("cases.yaml");
    let raw = std::fs::read_to_string(&file).expect("read cases.yaml");
    let data: Value = serde_saphyr::from_str(&raw).expect("parse cases.yaml");
    let policies = data.get("policies").expect("policies");
    let catalogue = data.get("rules").expect("rules");
    let mut problems = Vec::new();
    let mut total = 0usize;

    let cases = data.get("cases").and_then(Value::as_array).expect("cases");
    assert!(
        !cases.is_empty(),
        "no evaluation cases in {}",
        file.display()
    );
    for case in cases {
        total += 1;
        let id = text(case, "id");
        let key = text(case, "policy");
        let policy = load(
            policies
                .get(key)
                .unwrap_or_else(|| panic!("{id}: no policy {key:?}")),
            id,
        );
        // The policy repeats the case's rule list and policy-wide stages:
        // built from the `rules` catalogue it must be the same policy.
        let built = load(
            &json!({
                "apiVersion": "audit.k8s.io/v1",
                "kind": "Policy",
                "omitStages": case.get("policyOmitStages").cloned().unwrap_or(Value::Null),
                "rules": string_list(case.get("rules"))
                    .iter()
                    .map(|name| catalogue.get(name).cloned().unwrap_or_else(|| panic!("{id}: no rule {name:?}")))
                    .collect::<Vec<_>>(),
            }),
            id,
        );
        if built != policy {
            problems.push(format!(
                "{id}: policy {key:?} is not its rules {:?}",
                case.get("rules")
            ));
        }
        let got = policy.evaluate(&request(&case["request"]));
        let expect = &case["expect"];
        let level: Level = text(expect, "level").parse().expect("a level");
        let stages: BTreeSet<Stage> = stage_list(expect.get("omitStages")).into_iter().collect();
        if got.level != level || got.omit_stages != stages {
            problems.push(format!(
                "{id}: want {level} {stages:?}, got {} {:?} (rule {:?})",
                got.level, got.omit_stages, got.rule
            ));
        }
    }

    let omf = data
        .get("omit_managed_fields_cases")
        .and_then(Value::as_array)
        .expect("omit_managed_fields_cases");
    assert!(!omf.is_empty(), "no omit_managed_fields_cases");
    for case in omf {
        total += 1;
        let id = text(case, "id");
        let got = load(&case["policy"], id).evaluate(&request(&case["request"]));
        let expect = &case["expect"];
        let want = expect
            .get("omitManagedFields")
            .and_then(Value::as_bool)
            .expect("omitManagedFields");
        let level: Level = text(expect, "level").parse().expect("a level");
        if got.omit_managed_fields != want || got.level != level {
            problems.push(format!(
                "{id}: want omitManagedFields {want} at {level}, got {} at {}",
                got.omit_managed_fields, got.level
            ));
        }
    }

    let unions = data
        .get("union_stages_cases")
        .and_then(Value::as_array)
        .expect("union_stages_cases");
    assert!(!unions.is_empty(), "no union_stages_cases");
    for (i, case) in unions.iter().enumerate() {
        total += 1;
        let (s1, s2) = (stage_list(case.get("s1")), stage_list(case.get("s2")));
        let want: BTreeSet<Stage> = stage_list(case.get("expect")).into_iter().collect();
        let got = union_stages(&[&s1, &s2]);
        if got != want {
            problems.push(format!(
                "union_stages_cases[{i}]: want {want:?}, got {got:?}"
            ));
        }
    }

    assert!(
        problems.is_empty(),
        "{} of {total} cases disagree:\n{}",
        problems.len(),
        problems.join("\n")
    );
    println!("audit conformance: {total} cases, all agree");
}
