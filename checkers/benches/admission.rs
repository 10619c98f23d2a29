//! Benchmarks of the admission evaluator on the policy-as-code lab's
//! reference policies and battery: parsing (CEL compiled) the
//! ValidatingAdmissionPolicy + binding and the Kyverno ClusterPolicy, and
//! grading each against all 20 battery requests (the `admission_policy`
//! check as `seclab check` runs it).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use seclab_checkers::KubeObject;
use seclab_checkers::admission::check::{AdmissionPolicyCheck, grade};
use seclab_checkers::admission::{KyvernoPolicy, Vap};
use serde_json::Value;

const VAP: &str = include_str!("../../labs/policy-as-code/solution/vap.yaml");
const KYVERNO: &str = include_str!("../../labs/policy-as-code/solution/kyverno.yaml");
const LAB: &str = include_str!("../../labs/policy-as-code/lab.yaml");

fn docs(text: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(text)
        .expect("YAML")
        .into_iter()
        .filter(|v| !v.is_null())
        .collect()
}

/// The lab's `admission_policy` checks (vap, then kyverno).
fn checks() -> Vec<AdmissionPolicyCheck> {
    let lab: Value = serde_saphyr::from_str(LAB).expect("lab.yaml");
    lab["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .flat_map(|t| t["checks"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c.get("admission_policy").cloned())
        .map(|c| serde_json::from_value(c).expect("an admission_policy check"))
        .collect()
}

fn bench(c: &mut Criterion) {
    let vap_docs = docs(VAP);
    let ky_docs = docs(KYVERNO);
    c.bench_function(
        "parse + compile the VAP (3 validations, 2 variables)",
        |b| {
            b.iter(|| Vap::parse(black_box(&vap_docs[0])));
        },
    );
    c.bench_function(
        "parse + compile the Kyverno policy (3 rules after autogen)",
        |b| {
            b.iter(|| KyvernoPolicy::parse(black_box(&ky_docs[0])));
        },
    );
    let checks = checks();
    assert_eq!(checks.len(), 2);
    for (check, docs, name) in [
        (
            &checks[0],
            &vap_docs,
            "grade the VAP against the 20-request battery",
        ),
        (
            &checks[1],
            &ky_docs,
            "grade the Kyverno policy against the 20-request battery",
        ),
    ] {
        let objects: Vec<KubeObject> = docs.iter().cloned().map(KubeObject::new).collect();
        assert!(
            grade(check, &objects).passed(),
            "{name}: the solution passes"
        );
        c.bench_function(name, |b| {
            b.iter(|| grade(black_box(check), black_box(&objects)));
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
