//! Conformance of the ValidatingAdmissionPolicy evaluator with the Kyverno
//! CLI's test cases (`vap/` of the conformance data: upstream
//! `test/cli/test-validating-admission-policy/`). Every `kyverno-test.yaml`
//! result must agree (pass = admitted, fail = rejected, skip = not
//! selected), and so must the `kyverno apply` summaries that upstream's Go
//! test expects for the three cases without one (transcribed in the data's
//! SOURCE.md). The cases run with the Kyverno CLI's semantics (CREATE, the
//! case's user info, namespaces and params); where the API server would
//! differ, a second assertion says so.

mod common;

use std::path::Path;

use seclab_checkers::admission::{
    Binding, Decision, Operation, Outcome, Request, Semantics, UserInfo, Vap, World, evaluate,
    is_binding, is_policy,
};
use serde_json::Value;

fn docs(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_multiple::<Value>(&text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_iter()
        .filter(|v| !v.is_null())
        .collect()
}

fn strings<'a>(v: &'a Value, key: &str) -> Vec<&'a str> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// A case folder's policies, bindings, world and user.
struct Case {
    policies: Vec<Vap>,
    bindings: Vec<Binding>,
    world: World,
    user: UserInfo,
}

impl Case {
    fn load(dir: &Path, policy_files: &[&str], test: Option<&Value>) -> Self {
        let mut policies = Vec::new();
        let mut bindings = Vec::new();
        for f in policy_files {
            for d in docs(&dir.join(f)) {
                if is_policy(&d) {
                    policies.push(Vap::parse(&d));
                } else if is_binding(&d) {
                    bindings.push(Binding::parse(&d));
                }
            }
        }
        let mut world = World::default();
        let mut user = UserInfo::default();
        if let Some(t) = test {
            if let Some(values) = t.get("variables").and_then(Value::as_str) {
                for v in docs(&dir.join(values)) {
                    for ns in v
                        .get("namespaceSelector")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let name = ns["name"].as_str().expect("a namespace name").to_owned();
                        let labels = ns
                            .get("labels")
                            .and_then(Value::as_object)
                            .map(|l| {
                                l.iter()
                                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                                    .collect()
                            })
                            .unwrap_or_default();
                        world.namespaces.insert(name, labels);
                    }
                }
            }
            for p in strings(t, "paramResources") {
                world.params.extend(docs(&dir.join(p)));
            }
            if let Some(u) = t.get("userinfo").and_then(Value::as_str) {
                let d = docs(&dir.join(u)).remove(0);
                user = serde_json::from_value(d["userInfo"].clone()).expect("a userInfo");
            }
        }
        Self {
            policies,
            bindings,
            world,
            user,
        }
    }

    fn decide(&self, policy: &Vap, object: &Value, semantics: Semantics) -> Vec<Decision> {
        let req = Request::for_object(Operation::Create, object.clone(), None, self.user.clone())
            .expect("a resource with kind and apiVersion");
        let bindings: Vec<&Binding> = self
            .bindings
            .iter()
            .filter(|b| b.policy_name == policy.name)
            .collect();
        evaluate(policy, &bindings, &req, &self.world, semantics)
    }

    /// `pass`, `fail` or `skip`, as the Kyverno CLI reports a resource.
    fn result(&self, policy: &Vap, object: &Value) -> &'static str {
        let ds = self.decide(policy, object, Semantics::KyvernoCli);
        if ds.iter().any(|d| d.outcome == Outcome::Reject) {
            "fail"
        } else if ds.iter().any(|d| d.outcome == Outcome::Error) {
            "error"
        } else if ds.iter().all(|d| d.outcome == Outcome::Skip) {
            "skip"
        } else {
            "pass"
        }
    }
}

fn name(v: &Value) -> &str {
    v["metadata"]["name"].as_str().unwrap_or_default()
}

#[test]
fn kyverno_cli_cases_agree() {
    let Some(dir) = common::conformance_dir("vap") else {
        return;
    };
    let mut cases = 0;
    let mut results = 0;
    let mut disagree = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("vap/")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.join("kyverno-test.yaml").is_file())
        .collect();
    entries.sort();
    for case_dir in entries {
        let test = docs(&case_dir.join("kyverno-test.yaml")).remove(0);
        let case = Case::load(&case_dir, &strings(&test, "policies"), Some(&test));
        let resources: Vec<Value> = strings(&test, "resources")
            .iter()
            .flat_map(|f| docs(&case_dir.join(f)))
            .collect();
        cases += 1;
        for r in test["results"].as_array().expect("results") {
            let policy_name = r["policy"].as_str().expect("policy");
            let kind = r["kind"].as_str().expect("kind");
            let want = r["result"].as_str().expect("result");
            let policy = case
                .policies
                .iter()
                .find(|p| p.name == policy_name)
                .unwrap_or_else(|| panic!("{}: no policy {policy_name}", case_dir.display()));
            for res_name in strings(r, "resources") {
                let object = resources
                    .iter()
                    .find(|o| name(o) == res_name && o["kind"] == kind)
                    .unwrap_or_else(|| panic!("{}: no {kind} {res_name}", case_dir.display()));
                results += 1;
                let got = case.result(policy, object);
                if got != want {
                    disagree.push(format!(
                        "{}: {policy_name} on {kind} {res_name}: kyverno {want}, seclab {got} ({:?})",
                        case_dir.file_name().unwrap().to_string_lossy(),
                        case.decide(policy, object, Semantics::KyvernoCli)
                    ));
                }
            }
        }
    }
    println!("vap conformance: {cases} kyverno-test cases, {results} results");
    assert!(
        disagree.is_empty(),
        "disagreements:\n{}",
        disagree.join("\n")
    );
    assert_eq!(
        cases, 7,
        "the data's SOURCE.md lists 7 cases with a kyverno-test.yaml"
    );
}

/// `kyverno apply` runs of upstream's Go test: (case, policy file,
/// resource files, expected pass count, expected fail count); skipped
/// resources are counted in neither.
const APPLY_RUNS: &[(&str, &[&str], usize, usize)] = &[
    ("check-deployments-replica", &["deployment1.yaml"], 1, 0),
    ("check-deployments-replica", &["deployment2.yaml"], 0, 1),
    ("disallow-host-path", &["pod1.yaml"], 1, 0),
    ("disallow-host-path", &["pod2.yaml"], 0, 1),
    ("check-deployment-labels", &["deployment1.yaml"], 1, 0),
    ("check-deployment-labels", &["deployment2.yaml"], 0, 1),
    (
        "with-bindings-1",
        &["deployment1.yaml", "deployment2.yaml"],
        0,
        1,
    ),
    (
        "with-bindings-2",
        &["deployment1.yaml", "deployment2.yaml"],
        0,
        1,
    ),
];

#[test]
fn kyverno_apply_summaries_agree() {
    let Some(dir) = common::conformance_dir("vap") else {
        return;
    };
    for (case_name, files, want_pass, want_fail) in APPLY_RUNS {
        let case_dir = dir.join(case_name);
        let case = Case::load(&case_dir, &["policy.yaml"], None);
        let (mut pass, mut fail) = (0, 0);
        for f in *files {
            for object in docs(&case_dir.join(f)) {
                for policy in &case.policies {
                    match case.result(policy, &object) {
                        "pass" => pass += 1,
                        "fail" => fail += 1,
                        "skip" => {}
                        other => panic!("{case_name}/{f}: {other}"),
                    }
                }
            }
        }
        assert_eq!(
            (pass, fail),
            (*want_pass, *want_fail),
            "{case_name} {files:?}: pass/fail"
        );
    }
    // check-user-info with its user: pass 1.
    let case_dir = dir.join("check-user-info");
    let test = docs(&case_dir.join("kyverno-test.yaml")).remove(0);
    let case = Case::load(&case_dir, &["policy.yaml"], Some(&test));
    let object = docs(&case_dir.join("deployment.yaml")).remove(0);
    assert_eq!(case.result(&case.policies[0], &object), "pass");
}

#[test]
fn where_the_api_server_differs_it_says_why() {
    let Some(dir) = common::conformance_dir("vap") else {
        return;
    };
    // match-namespaces: the policy's resourceRules have no operations.
    // The Kyverno CLI never reads the policy's constraints once a binding
    // exists; the API server refuses such a policy outright.
    let case_dir = dir.join("match-namespaces");
    let case = Case::load(&case_dir, &["policy.yaml"], None);
    let object = docs(&case_dir.join("resources.yaml")).remove(0);
    let ds = case.decide(&case.policies[0], &object, Semantics::ApiServer);
    assert_eq!(ds.len(), 1);
    assert_eq!(ds[0].outcome, Outcome::Error);
    assert!(
        ds[0]
            .message
            .contains("spec.matchConstraints.resourceRules[0].operations: Required value"),
        "{}",
        ds[0].message
    );
    // Everywhere else the API server agrees with the Kyverno CLI.
    for case_name in ["with-bindings-1", "with-bindings-2", "disallow-host-path"] {
        let case_dir = dir.join(case_name);
        let case = Case::load(&case_dir, &["policy.yaml"], None);
        for f in std::fs::read_dir(&case_dir).unwrap() {
            let f = f.unwrap().path();
            let fname = f.file_name().unwrap().to_string_lossy().into_owned();
            if fname == "policy.yaml" || fname == "kyverno-test.yaml" {
                continue;
            }
            for object in docs(&f) {
                for policy in &case.policies {
                    let kyverno = case.result(policy, &object);
                    let api: Vec<Outcome> = case
                        .decide(policy, &object, Semantics::ApiServer)
                        .iter()
                        .map(|d| d.outcome)
                        .collect();
                    let api = if api.contains(&Outcome::Reject) {
                        "fail"
                    } else if api.iter().all(|o| *o == Outcome::Skip) {
                        "skip"
                    } else {
                        "pass"
                    };
                    assert_eq!(api, kyverno, "{case_name}/{fname}");
                }
            }
        }
    }
}
