//! Conformance of the Dockerfile rules with trivy's own examples: for each
//! DS check seclab implements (listed in [`IMPLEMENTED`], with the seclab
//! rule that implements it), every `bad` sample of trivy-checks must fire
//! that rule and every `good` one must not; and on trivy's Dockerfile input
//! the DS rules seclab implements fire exactly as trivy's golden report
//! says. The data is found through `SECLAB_CONFORMANCE_DATA`.

mod common;

use std::collections::BTreeSet;
use std::fs;

use seclab_checkers::dockerfile::lint_text;
use serde_json::Value;

/// trivy check id → the seclab rule that implements it (the same id where
/// seclab's rule follows trivy, hadolint's where the two agree).
const IMPLEMENTED: &[(&str, &str)] = &[
    ("DS-0001", "DS-0001"),
    ("DS-0002", "DS-0002"),
    ("DS-0005", "DL3020"),
    ("DS-0010", "DL3004"),
];

/// The check id of each examples file, from `index.tsv`.
fn index(dir: &std::path::Path) -> Vec<(String, String)> {
    let text = fs::read_to_string(dir.join("index.tsv")).expect("index.tsv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).expect(n);
    let (kind, file, id) = (col("kind"), col("file"), col("id"));
    lines
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|c| c.get(kind) == Some(&"docker"))
        .map(|c| (c[file].to_string(), c[id].to_string()))
        .collect()
}

fn codes(text: &str) -> BTreeSet<&'static str> {
    lint_text(text)
        .unwrap_or_else(|e| panic!("sample does not parse: {e}\n{text}"))
        .into_iter()
        .map(|h| h.code)
        .collect()
}

#[test]
fn trivy_good_and_bad_samples() {
    let Some(base) = common::conformance_dir("trivy-checks") else {
        return;
    };
    let mut checked = 0;
    for (file, id) in index(&base) {
        let Some((_, rule)) = IMPLEMENTED.iter().find(|(ds, _)| *ds == id) else {
            continue;
        };
        let text = fs::read_to_string(base.join(&file)).expect("examples file");
        let doc: Value = serde_saphyr::from_str(&text).expect("examples YAML");
        for (kind, must_fire) in [("good", false), ("bad", true)] {
            let samples = doc
                .pointer(&format!("/dockerfile/{kind}"))
                .and_then(Value::as_array)
                .unwrap_or_else(|| panic!("{file}: no {kind} samples"));
            for (n, s) in samples.iter().enumerate() {
                let s = s.as_str().expect("sample text");
                let fired = codes(s).contains(rule);
                assert_eq!(
                    fired, must_fire,
                    "{file} {kind}[{n}]: {rule} (for {id}) fired = {fired}\n{s}"
                );
                checked += 1;
            }
        }
    }
    let files = IMPLEMENTED.len();
    assert!(checked >= 2 * files, "only {checked} samples checked");
}

#[test]
fn trivy_golden_report_on_its_dockerfile_input() {
    let Some(base) = common::conformance_dir("trivy") else {
        return;
    };
    let text = fs::read_to_string(base.join("inputs/dockerfile/Dockerfile")).expect("input");
    let golden: Value = serde_json::from_str(
        &fs::read_to_string(base.join("dockerfile.json.golden")).expect("golden"),
    )
    .expect("golden JSON");
    let failed: BTreeSet<&str> = golden["Results"]
        .as_array()
        .expect("Results")
        .iter()
        .flat_map(|r| {
            r["Misconfigurations"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|m| m["Status"] == "FAIL")
        .filter_map(|m| {
            let id = m["ID"].as_str()?;
            IMPLEMENTED
                .iter()
                .find(|(ds, _)| *ds == id)
                .map(|(_, rule)| *rule)
        })
        .collect();
    let ours: BTreeSet<&str> = codes(&text)
        .into_iter()
        .filter(|c| IMPLEMENTED.iter().any(|(_, rule)| rule == c))
        .collect();
    assert!(
        !failed.is_empty(),
        "the golden report fails none of our rules"
    );
    assert_eq!(ours, failed);
}
