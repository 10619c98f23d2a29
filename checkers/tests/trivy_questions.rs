//! The `report_question` checker on every upstream trivy report of the
//! conformance data: for each question the right answer is computed here
//! from the report's raw JSON (independently of the crate), then graded
//! through `CheckSpec` as a student's answer would be — it must pass, and a
//! near miss must fail.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use seclab_checkers::{CheckSpec, Evidence, TextFile};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Every vulnerability object of a report (either shape).
fn vulns(report: &Value) -> Vec<&Value> {
    let results = match report {
        Value::Array(a) => a.as_slice(),
        _ => report
            .get("Results")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice),
    };
    results
        .iter()
        .flat_map(|r| {
            r.get("Vulnerabilities")
                .and_then(Value::as_array)
                .map_or(&[][..], Vec::as_slice)
        })
        .collect()
}

fn field<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn grade(text: &str, question: &str, seed: &str, answer: &Value) -> bool {
    let spec: CheckSpec = serde_json::from_value(json!({"report_question": {
        "id": "q", "path": "report.json", "question": question}}))
    .expect("spec");
    let texts = [TextFile {
        path: "report.json".into(),
        text: text.into(),
    }];
    let answers = json!({ "q": answer });
    let ev = Evidence {
        texts: &texts,
        answers: Some(&answers),
        question_seed: seed,
        ..Evidence::default()
    };
    spec.grade(&ev).passed()
}

#[test]
fn every_question_is_answered_right_from_each_upstream_report() {
    let Some(dir) = common::conformance_dir("trivy") else {
        return;
    };
    let mut asked = BTreeMap::<&str, usize>::new();
    for file in common::files_ending(&dir, ".json.golden") {
        let name = file.display().to_string();
        let text = std::fs::read_to_string(&file).expect("read");
        let report: Value = serde_json::from_str(&text).expect("JSON");
        let vs = vulns(&report);

        // critical_count
        let critical = vs
            .iter()
            .filter(|v| field(v, "Severity") == "CRITICAL")
            .count();
        assert!(
            grade(&text, "critical_count", "s", &json!(critical)),
            "{name}"
        );
        assert!(
            !grade(&text, "critical_count", "s", &json!(critical + 1)),
            "{name}"
        );
        *asked.entry("critical_count").or_default() += 1;
        if vs.is_empty() {
            continue;
        }

        // fixed_high_critical
        let fixed: BTreeSet<&str> = vs
            .iter()
            .filter(|v| matches!(field(v, "Severity"), "HIGH" | "CRITICAL"))
            .filter(|v| !field(v, "FixedVersion").is_empty())
            .map(|v| field(v, "VulnerabilityID"))
            .collect();
        if !fixed.is_empty() {
            let list: Vec<&str> = fixed.iter().rev().copied().collect();
            assert!(
                grade(&text, "fixed_high_critical", "s", &json!(list)),
                "{name}"
            );
            assert!(
                !grade(
                    &text,
                    "fixed_high_critical",
                    "s",
                    &json!(list[1..].to_vec())
                ),
                "{name}: one left out"
            );
            *asked.entry("fixed_high_critical").or_default() += 1;
        }

        // package_of_cve, for a few seeds: the sorted distinct CVE ids,
        // index = first 8 bytes of SHA-256(seed "/" id), big-endian, mod n.
        let ids: BTreeSet<&str> = vs.iter().map(|v| field(v, "VulnerabilityID")).collect();
        let cves: Vec<&str> = ids
            .iter()
            .copied()
            .filter(|i| i.starts_with("CVE-"))
            .collect();
        let pool = if cves.is_empty() {
            ids.into_iter().collect()
        } else {
            cves
        };
        for seed in ["alice", "bob", "class-1"] {
            let digest = Sha256::digest(format!("{seed}/q").as_bytes());
            let head = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
            let n = u64::try_from(pool.len()).expect("fits");
            let cve = pool[usize::try_from(head % n).expect("fits")];
            let pkgs: BTreeSet<&str> = vs
                .iter()
                .filter(|v| field(v, "VulnerabilityID") == cve)
                .map(|v| field(v, "PkgName"))
                .collect();
            let answer = pkgs.iter().copied().collect::<Vec<_>>().join(", ");
            assert!(
                grade(&text, "package_of_cve", seed, &json!(answer)),
                "{name} {seed}: {cve}"
            );
            assert!(
                !grade(&text, "package_of_cve", seed, &json!("no-such-package")),
                "{name}"
            );
        }
        *asked.entry("package_of_cve").or_default() += 1;

        // layer_most_findings
        let mut by_pkg: BTreeMap<&str, (usize, BTreeSet<&str>)> = BTreeMap::new();
        for v in &vs {
            let e = by_pkg.entry(field(v, "PkgName")).or_default();
            e.0 += 1;
            if let Some(d) = v.pointer("/Layer/DiffID").and_then(Value::as_str) {
                e.1.insert(d);
            }
        }
        let most = by_pkg
            .values()
            .filter(|(_, l)| !l.is_empty())
            .map(|(n, _)| *n)
            .max();
        let Some(most) = most else {
            continue;
        };
        let right: BTreeSet<&str> = by_pkg
            .values()
            .filter(|(n, l)| *n == most && !l.is_empty())
            .flat_map(|(_, l)| l.iter().copied())
            .collect();
        let all: BTreeSet<&str> = by_pkg
            .values()
            .flat_map(|(_, l)| l.iter().copied())
            .collect();
        for layer in &all {
            assert_eq!(
                grade(&text, "layer_most_findings", "s", &json!(layer)),
                right.contains(layer),
                "{name}: {layer}"
            );
        }
        *asked.entry("layer_most_findings").or_default() += 1;
    }
    // Each question was really asked of several reports.
    for q in [
        "critical_count",
        "fixed_high_critical",
        "package_of_cve",
        "layer_most_findings",
    ] {
        assert!(asked.get(q).copied().unwrap_or(0) >= 3, "{q}: {asked:?}");
    }
}
