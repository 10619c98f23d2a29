//! Questions about the student's own trivy report through the real binary:
//! `show` renders the question from the report in the workspace (the CVE
//! picked by the student's seed), `answer` records it, `check` grades it
//! against the report; `trivy_report` is skipped offline with the reason.

mod common;

use common::{Sandbox, write_files};
use serde_json::Value;
use sha2::{Digest, Sha256};

const LAB: &str = "format_version: 1
id: reportq
title: Report questions
summary: A test lab.
tasks:
  - id: read
    title: Read the report
    instructions: read.md
    hints: [\"open report.json\"]
    checks:
      - report_question: {id: criticals, path: report.json, question: critical_count}
      - report_question: {id: which-package, path: report.json, question: package_of_cve}
  - id: scan
    title: Scan the image
    instructions: read.md
    hints: [\"trivy image\"]
    checks:
      - trivy_report: {path: report.json, image: app}
";

const REPORT: &str = r#"{
  "SchemaVersion": 2,
  "ArtifactName": "app:1",
  "ArtifactType": "container_image",
  "Metadata": {"ImageID": "sha256:abc"},
  "Results": [
    {"Target": "app:1 (debian 12.5)", "Class": "os-pkgs", "Type": "debian",
     "Vulnerabilities": [
       {"VulnerabilityID": "CVE-2024-1111", "PkgName": "libexpat1", "Severity": "CRITICAL"},
       {"VulnerabilityID": "CVE-2024-2222", "PkgName": "zlib1g", "Severity": "HIGH"},
       {"VulnerabilityID": "CVE-2024-3333", "PkgName": "perl-base", "Severity": "CRITICAL"}]},
    {"Target": "Python", "Class": "lang-pkgs", "Type": "python-pkg",
     "Vulnerabilities": [
       {"VulnerabilityID": "CVE-2023-4444", "PkgName": "requests", "Severity": "MEDIUM"}]}
  ]
}
"#;

/// The CVE the sandbox's student (`alice`, seed `class-1`) gets for
/// question `which-package`, computed here: sorted CVE ids, SHA-256 of
/// `seed/student/id`, the first 8 bytes big-endian modulo their count.
fn picked() -> (&'static str, &'static str) {
    let sorted = [
        ("CVE-2023-4444", "requests"),
        ("CVE-2024-1111", "libexpat1"),
        ("CVE-2024-2222", "zlib1g"),
        ("CVE-2024-3333", "perl-base"),
    ];
    let digest = Sha256::digest(b"class-1/alice/which-package");
    let head = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    sorted[usize::try_from(head % 4).expect("small")]
}

fn sandbox() -> Sandbox {
    let sb = Sandbox::new();
    write_files(
        &sb.work().join("labs/reportq"),
        &[
            ("lab.yaml", LAB),
            ("read.md", "# Read\nRead your report.\n"),
            ("start/notes.txt", "save report.json here\n"),
        ],
    );
    assert_eq!(sb.run(&["--labs", "labs", "start", "reportq"]).code, 0);
    sb
}

#[test]
fn show_renders_the_question_from_the_workspace_report() {
    let sb = sandbox();
    let r = sb.run(&["--labs", "labs", "show", "reportq", "read"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("Save the report first"), "{}", r.stdout);
    write_files(
        &sb.work().join("seclab/reportq"),
        &[("report.json", REPORT)],
    );
    let (cve, _) = picked();
    let r = sb.run(&["--labs", "labs", "show", "reportq", "read", "-o", "json"]);
    let v: Value = serde_json::from_str(&r.stdout).expect("json");
    let qs = v["tasks"][0]["questions"].as_array().expect("questions");
    assert_eq!(qs[1]["kind"], "report");
    assert_eq!(qs[1]["question"], format!("Which package carries {cve}?"));
    assert!(
        qs[0]["question"]
            .as_str()
            .is_some_and(|q| q.contains("CRITICAL"))
    );
}

#[test]
fn answers_are_graded_against_the_report() {
    let sb = sandbox();
    write_files(
        &sb.work().join("seclab/reportq"),
        &[("report.json", REPORT)],
    );
    let (_, package) = picked();
    let answer = |q: &str, v: &str| {
        let r = sb.run(&["--labs", "labs", "answer", "reportq", "read", "-q", q, v]);
        assert_eq!(r.code, 0, "{r:?}");
    };
    answer("criticals", "3");
    answer("which-package", package);
    let r = sb.run(&["--labs", "labs", "check", "reportq", "read"]);
    assert_eq!(r.code, 1, "3 is not the CRITICAL count: {r:?}");
    assert!(r.stdout.contains("is not the count"), "{}", r.stdout);
    answer("criticals", "2");
    let r = sb.run(&["--labs", "labs", "check", "reportq", "read"]);
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn the_report_check_is_skipped_offline_with_the_reason() {
    let sb = sandbox();
    write_files(
        &sb.work().join("seclab/reportq"),
        &[("report.json", REPORT)],
    );
    // No engine at this address: graded offline.
    let offline = [("DOCKER_HOST", "unix:///nonexistent/seclab-test.sock")];
    let r = sb.run_env(
        &["--labs", "labs", "check", "reportq", "scan", "-o", "json"],
        &offline,
    );
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {r:?}"));
    let text = v.to_string();
    assert!(
        text.contains("skipped") && text.contains("Docker engine"),
        "{text}"
    );
    // A report without a language result fails even offline, saying so.
    let no_lang = REPORT.replace("lang-pkgs", "config");
    write_files(
        &sb.work().join("seclab/reportq"),
        &[("report.json", &no_lang)],
    );
    let r = sb.run_env(&["--labs", "labs", "check", "reportq", "scan"], &offline);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("no language result"), "{}", r.stdout);
}
