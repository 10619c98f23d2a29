//! `seclab scan trivy` through the real binary: on every upstream trivy
//! report of the conformance data (legacy shapes included) the JSON output
//! equals a summary this test computes itself from `serde_json::Value`;
//! `--fail-on` agrees with the findings the test finds; malformed reports
//! (truncated, wrong types, empty, YAML) exit 2 with located errors.

#[path = "../checkers/tests/common/mod.rs"]
mod conformance;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

fn seclab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seclab"))
        .args(args)
        .env(
            "SECLAB_STATE_DIR",
            std::env::temp_dir().join("seclab-trivy-conformance-state"),
        )
        .output()
        .expect("seclab runs")
}

const SEVERITIES: [&str; 5] = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"];

/// A severity field as a bucket name: trivy's five, anything else UNKNOWN.
fn bucket(finding: &Value) -> &'static str {
    let s = finding
        .get("Severity")
        .and_then(Value::as_str)
        .unwrap_or("");
    SEVERITIES
        .into_iter()
        .find(|k| k.eq_ignore_ascii_case(s))
        .unwrap_or("UNKNOWN")
}

fn rank(severity: &str) -> usize {
    SEVERITIES.len()
        - SEVERITIES
            .iter()
            .position(|s| *s == severity)
            .expect("known")
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn failed(m: &Value) -> bool {
    m.get("Status")
        .and_then(Value::as_str)
        .is_none_or(|s| s == "FAIL")
}

/// The summary of one report, computed here from the raw JSON.
fn expected(source: &str, report: &Value) -> Value {
    let (results, artifact, schema) = match report {
        Value::Array(a) => (a.as_slice(), Value::Null, json!(1)),
        _ => (
            list(report, "Results"),
            report.get("ArtifactName").cloned().unwrap_or(Value::Null),
            report.get("SchemaVersion").cloned().unwrap_or(Value::Null),
        ),
    };
    let zero = || {
        SEVERITIES
            .iter()
            .map(|s| ((*s).to_string(), json!(0)))
            .collect::<serde_json::Map<_, _>>()
    };
    let mut totals = zero();
    let (mut misconf, mut secrets) = (0, 0);
    let mut rows = Vec::new();
    for r in results {
        let mut t = zero();
        for v in list(r, "Vulnerabilities") {
            for map in [&mut t, &mut totals] {
                let n = map[bucket(v)].as_u64().expect("count");
                map.insert(bucket(v).into(), json!(n + 1));
            }
        }
        misconf += list(r, "Misconfigurations")
            .iter()
            .filter(|m| failed(m))
            .count();
        secrets += list(r, "Secrets").len();
        let field = |k: &str| r.get(k).cloned().unwrap_or(Value::Null);
        rows.push(json!({"target": field("Target"), "class": field("Class"),
            "type": field("Type"), "totals": t}));
    }
    json!({"source": source, "artifact": artifact, "schema_version": schema,
        "totals": totals, "misconfigurations": misconf, "secrets": secrets, "results": rows})
}

/// The most severe finding of a report (vulnerability, failed
/// misconfiguration or secret), as a rank (UNKNOWN 1 .. CRITICAL 5; 0
/// none).
fn worst(report: &Value) -> usize {
    let results = match report {
        Value::Array(a) => a.as_slice(),
        _ => list(report, "Results"),
    };
    results
        .iter()
        .flat_map(|r| {
            list(r, "Vulnerabilities")
                .iter()
                .chain(list(r, "Misconfigurations").iter().filter(|m| failed(m)))
                .chain(list(r, "Secrets"))
        })
        .map(|f| rank(bucket(f)))
        .max()
        .unwrap_or(0)
}

fn load(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("fixture is JSON")
}

#[test]
fn every_upstream_report_summarises_as_computed_from_its_json() {
    let Some(dir) = conformance::conformance_dir("trivy") else {
        return;
    };
    let files = conformance::files_ending(&dir, ".json.golden");
    assert!(files.len() >= 20, "expected the whole trivy set: {files:?}");
    assert!(
        files.iter().any(|f| f.to_string_lossy().contains("legacy")),
        "legacy shapes included"
    );
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let mut args = vec!["scan", "trivy", "--output", "json"];
    args.extend(names.iter().map(String::as_str));
    let out = seclab(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let got = got.as_array().expect("an array");
    assert_eq!(got.len(), files.len());
    let mut vulns = 0;
    for ((file, name), summary) in files.iter().zip(&names).zip(got) {
        let want = expected(name, &load(file));
        vulns += want["totals"]
            .as_object()
            .expect("totals")
            .values()
            .filter_map(Value::as_u64)
            .sum::<u64>();
        assert_eq!(summary, &want, "{name}");
    }
    // The set really has findings to count (the test would pass on zeros).
    assert!(vulns > 30, "{vulns}");
}

#[test]
fn fail_on_agrees_with_the_worst_finding_of_each_report() {
    let Some(dir) = conformance::conformance_dir("trivy") else {
        return;
    };
    let mut seen = [false; 2];
    for file in conformance::files_ending(&dir, ".json.golden") {
        let worst = worst(&load(&file));
        let name = file.display().to_string();
        for threshold in ["CRITICAL", "HIGH", "low"] {
            let want = i32::from(worst >= rank(&threshold.to_uppercase()));
            seen[usize::try_from(want).expect("0 or 1")] = true;
            let out = seclab(&["scan", "trivy", "--fail-on", threshold, &name]);
            assert_eq!(
                out.status.code(),
                Some(want),
                "{name} --fail-on {threshold}"
            );
        }
    }
    assert_eq!(seen, [true, true], "both outcomes occur");
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p.display().to_string()
}

/// Runs `scan trivy` on one file; (exit code, stderr).
fn scan_one(path: &str) -> (Option<i32>, String) {
    let out = seclab(&["scan", "trivy", "-o", "json", path]);
    assert!(out.stdout.is_empty(), "nothing on stdout for bad input");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_truncated_report_is_located_at_its_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "{\n  \"SchemaVersion\": 2,\n  \"ArtifactName\": \"app:1\",\n  \"Results\": [\n    {\"Target\": \"x\", \"Vulnerabilities\": [\n";
    let path = write(dir.path(), "cut.json", text);
    let (code, err) = scan_one(&path);
    assert_eq!(code, Some(2), "{err}");
    // Five lines and a final newline: the end of input is line 6.
    assert!(err.starts_with(&format!("{path}:6:")), "{err}");
    assert!(err.contains("EOF"), "{err}");
}

#[test]
fn a_truncated_upstream_report_is_located_too() {
    let Some(dir) = conformance::conformance_dir("trivy") else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("alpine-39.json.golden")).expect("fixture");
    let cut = &text[..text.len() / 2];
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = write(tmp.path(), "half.json", cut);
    let (code, err) = scan_one(&path);
    assert_eq!(code, Some(2), "{err}");
    let last_line = cut.matches('\n').count() + 1;
    assert!(err.starts_with(&format!("{path}:{last_line}:")), "{err}");
}

#[test]
fn wrong_types_are_located_at_the_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            "results.json",
            "{\n  \"SchemaVersion\": 2,\n  \"Results\": \"none\"\n}\n",
            3,
        ),
        (
            "vulns.json",
            "{\"SchemaVersion\": 2,\n \"Results\": [\n  {\"Vulnerabilities\": {\"a\": 1}}\n ]}\n",
            3,
        ),
        (
            "severity.json",
            "[\n {\"Secrets\": [\n  {\"Severity\": 4}\n ]}\n]\n",
            3,
        ),
        ("schema.json", "{\n\"SchemaVersion\": \"two\"\n}\n", 2),
    ];
    for (name, text, line) in cases {
        let path = write(dir.path(), name, text);
        let (code, err) = scan_one(&path);
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(err.starts_with(&format!("{path}:{line}:")), "{name}: {err}");
        assert!(err.contains("invalid type"), "{name}: {err}");
    }
}

#[test]
fn empty_files_yaml_and_other_json_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = write(dir.path(), "empty.json", "");
    let (code, err) = scan_one(&empty);
    assert_eq!(code, Some(2));
    assert!(err.starts_with(&format!("{empty}: empty file")), "{err}");

    let yaml = write(
        dir.path(),
        "report.yaml",
        "SchemaVersion: 2\nArtifactName: app:1\nResults: []\n",
    );
    let (code, err) = scan_one(&yaml);
    assert_eq!(code, Some(2));
    assert!(err.starts_with(&format!("{yaml}:1:1: not JSON")), "{err}");

    let pod = write(
        dir.path(),
        "pod.json",
        "{\"kind\": \"Pod\", \"metadata\": {}}",
    );
    let (code, err) = scan_one(&pod);
    assert_eq!(code, Some(2));
    assert!(err.contains("not a trivy report"), "{err}");

    let missing = dir.path().join("nope.json").display().to_string();
    let (code, err) = scan_one(&missing);
    assert_eq!(code, Some(2));
    assert!(err.contains("cannot read"), "{err}");
}

#[test]
fn one_bad_report_among_good_ones_is_exit_2_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = write(dir.path(), "good.json", "{\"SchemaVersion\": 2}");
    let bad = write(dir.path(), "bad.json", "{\"SchemaVersion\": 2,");
    let out = seclab(&["scan", "trivy", &good, &bad]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&bad) && !err.contains(&good), "{err}");
}

#[test]
fn a_clean_report_is_exit_0_even_with_fail_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clean = write(
        dir.path(),
        "clean.json",
        "{\"SchemaVersion\": 2, \"ArtifactName\": \"app:1\"}",
    );
    let out = seclab(&[
        "scan",
        "trivy",
        "--fail-on",
        "UNKNOWN",
        "-o",
        "json",
        &clean,
    ]);
    assert_eq!(out.status.code(), Some(0));
    let got: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(got[0]["results"], json!([]));
    assert_eq!(got[0]["artifact"], json!("app:1"));
    let out = seclab(&["scan", "trivy", "--fail-on", "SEVERE", &clean]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a bad severity is a usage error"
    );
}
