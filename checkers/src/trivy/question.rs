//! The questions of the `report_question` checker. Each right answer is
//! computed from the student's own report, because the counts depend on
//! the date of trivy's vulnerability database: there is no answer to hash
//! into lab.yaml.
//!
//! - `critical_count`: how many vulnerabilities are CRITICAL (every entry
//!   counts: a CVE in two packages is two findings, as trivy's table
//!   counts them).
//! - `package_of_cve`: which package carries a CVE. The CVE is picked per
//!   student: the report's distinct `CVE-…` ids (every id, when none is a
//!   CVE) sorted, index = SHA-256(seed, `/`, question id) mod their count
//!   — the same seed and report always give the same CVE. When several
//!   packages carry it (`musl` and `musl-utils`) the answer names them all.
//! - `fixed_high_critical`: the distinct `VulnerabilityID`s of the HIGH and
//!   CRITICAL findings that have a `FixedVersion` — ids, not package
//!   names, since one package can have a fixed and an unfixed CVE; order
//!   and case do not matter.
//! - `layer_most_findings`: the `Layer.DiffID` that added the package with
//!   the most findings (packages by `PkgName`; on a tie any of the tied
//!   packages' layers is right). `sha256:` may be left out, and a prefix
//!   of at least 12 hex digits is enough when no other layer starts so.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Report, Severity};

/// Which question a `report_question` check asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Question {
    /// How many CRITICAL vulnerabilities the report lists.
    CriticalCount,
    /// Which package carries a CVE picked from the report by the seed.
    PackageOfCve,
    /// The ids of the HIGH/CRITICAL vulnerabilities that have a fix.
    FixedHighCritical,
    /// The layer that added the package with the most findings.
    LayerMostFindings,
}

/// The right answer to a question about one report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Truth {
    /// A count.
    Count(usize),
    /// The package(s) carrying `cve` (one or more names).
    Packages {
        /// The CVE asked about.
        cve: String,
        /// Every package carrying it.
        names: BTreeSet<String>,
    },
    /// A set of vulnerability ids (upper case).
    Ids(BTreeSet<String>),
    /// The accepted layers (`sha256:…`), with every layer of the report
    /// (for resolving short prefixes), and the package(s) with the most
    /// findings and their count.
    Layers {
        /// The right layers.
        right: BTreeSet<String>,
        /// Every layer the report names.
        all: BTreeSet<String>,
        /// The package(s) with the most findings.
        packages: BTreeSet<String>,
        /// How many findings each of them has.
        findings: usize,
    },
}

/// Why a question cannot be asked of this report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unaskable {
    /// The report lists no vulnerability at all.
    #[error("the report lists no vulnerabilities, so there is nothing to ask about")]
    NoVulnerabilities,
    /// No finding says which layer added its package.
    #[error(
        "no vulnerability in the report has a Layer.DiffID (scan the image itself, e.g. `trivy image --input image.tar`)"
    )]
    NoLayers,
}

/// The index `seed` picks among `n` items for question `id`.
pub fn pick(seed: &str, id: &str, n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let digest = Sha256::new()
        .chain_update(seed.as_bytes())
        .chain_update(b"/")
        .chain_update(id.as_bytes())
        .finalize();
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    let n64 = u64::try_from(n).unwrap_or(u64::MAX);
    usize::try_from(u64::from_be_bytes(head) % n64).unwrap_or(0)
}

/// The CVE the seed picks for question `id` of this report.
pub fn picked_cve(report: &Report, seed: &str, id: &str) -> Option<String> {
    let ids: BTreeSet<&str> = report
        .vulnerabilities()
        .filter_map(|(_, v)| v.vulnerability_id.as_deref())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let cves: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|s| s.starts_with("CVE-"))
        .collect();
    let pool: Vec<&str> = if cves.is_empty() {
        ids.into_iter().collect()
    } else {
        cves
    };
    pool.get(pick(seed, id, pool.len()))
        .map(|s| (*s).to_string())
}

/// The right answer to `question` (asked as `id`, for the student with
/// `seed`) about `report`.
///
/// # Errors
/// When the report cannot answer it (no vulnerabilities, no layers).
pub fn truth(
    question: Question,
    report: &Report,
    seed: &str,
    id: &str,
) -> Result<Truth, Unaskable> {
    match question {
        Question::CriticalCount => Ok(Truth::Count(
            report
                .vulnerabilities()
                .filter(|(_, v)| v.severity() == Severity::Critical)
                .count(),
        )),
        Question::PackageOfCve => {
            let cve = picked_cve(report, seed, id).ok_or(Unaskable::NoVulnerabilities)?;
            let names = report
                .vulnerabilities()
                .filter(|(_, v)| v.vulnerability_id.as_deref().map(str::trim) == Some(cve.as_str()))
                .filter_map(|(_, v)| v.pkg_name.clone())
                .collect();
            Ok(Truth::Packages { cve, names })
        }
        Question::FixedHighCritical => Ok(Truth::Ids(
            report
                .vulnerabilities()
                .filter(|(_, v)| v.severity() >= Severity::High && v.has_fix())
                .filter_map(|(_, v)| v.vulnerability_id.as_deref())
                .map(|s| s.trim().to_uppercase())
                .collect(),
        )),
        Question::LayerMostFindings => layers(report),
    }
}

fn layers(report: &Report) -> Result<Truth, Unaskable> {
    // Package name → (findings, layers that added it).
    let mut by_pkg: BTreeMap<&str, (usize, BTreeSet<String>)> = BTreeMap::new();
    let mut all = BTreeSet::new();
    for (_, v) in report.vulnerabilities() {
        let layer = v
            .layer
            .as_ref()
            .and_then(|l| l.diff_id.as_deref())
            .map(normalise_digest);
        all.extend(layer.clone());
        let entry = by_pkg
            .entry(v.pkg_name.as_deref().unwrap_or(""))
            .or_default();
        entry.0 += 1;
        entry.1.extend(layer);
    }
    if by_pkg.is_empty() {
        return Err(Unaskable::NoVulnerabilities);
    }
    if all.is_empty() {
        return Err(Unaskable::NoLayers);
    }
    // Only packages whose layer is known can be the answer.
    let findings = by_pkg
        .values()
        .filter(|(_, l)| !l.is_empty())
        .map(|(n, _)| *n)
        .max()
        .unwrap_or(0);
    let mut right = BTreeSet::new();
    let mut packages = BTreeSet::new();
    for (name, (n, l)) in &by_pkg {
        if *n == findings && !l.is_empty() {
            packages.insert((*name).to_string());
            right.extend(l.iter().cloned());
        }
    }
    Ok(Truth::Layers {
        right,
        all,
        packages,
        findings,
    })
}

/// `sha256:<hex>` in lower case (the prefix added when left out).
fn normalise_digest(s: &str) -> String {
    let s = s.trim().to_lowercase();
    if s.contains(':') {
        s
    } else {
        format!("sha256:{s}")
    }
}

/// The question as the student reads it, rendered from the report.
pub fn text(question: Question, report: &Report, seed: &str, id: &str) -> String {
    match question {
        Question::CriticalCount => {
            "How many CRITICAL vulnerabilities does your trivy report list?".into()
        }
        Question::PackageOfCve => match truth(question, report, seed, id) {
            Ok(Truth::Packages { cve, names }) if names.len() > 1 => {
                format!("Which packages carry {cve}? Name each of them.")
            }
            Ok(Truth::Packages { cve, .. }) => format!("Which package carries {cve}?"),
            _ => text_without_report(question),
        },
        Question::FixedHighCritical => {
            "Which HIGH or CRITICAL vulnerabilities have a fixed version? List their IDs.".into()
        }
        Question::LayerMostFindings => {
            "Which layer (its DiffID) added the package with the most findings?".into()
        }
    }
}

/// The question's text before the report exists.
pub fn text_without_report(question: Question) -> String {
    match question {
        Question::PackageOfCve => {
            "Which package carries the CVE picked for you from your report? (Save the report first to see which CVE.)"
                .into()
        }
        q => text(q, &Report::default(), "", ""),
    }
}

/// The words of an answer: a list's items, or a text split at commas and
/// white space; trimmed, empty ones dropped.
fn words(answer: &Value) -> Vec<String> {
    let texts: Vec<String> = match answer {
        Value::Array(items) => items.iter().map(scalar).collect(),
        other => vec![scalar(other)],
    };
    texts
        .iter()
        .flat_map(|t| t.split(|c: char| c == ',' || c.is_whitespace()))
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Judges the student's answer; `Err` is the sentence saying why it is
/// wrong (without giving the right answer away).
///
/// # Errors
/// The answer is wrong or not of the question's form.
pub fn judge(truth: &Truth, answer: &Value) -> Result<(), String> {
    let given = words(answer);
    if given.is_empty() {
        return Err("the answer is empty".into());
    }
    match truth {
        Truth::Count(n) => {
            let [one] = given.as_slice() else {
                return Err(format!("expected one number, got {}", given.join(" ")));
            };
            let got: usize = one
                .parse()
                .map_err(|_| format!("`{one}` is not a number"))?;
            if got == *n {
                Ok(())
            } else {
                Err(format!("{got} is not the count in your report"))
            }
        }
        Truth::Packages { cve, names } => {
            let got: BTreeSet<String> = given.iter().map(|w| w.to_lowercase()).collect();
            let want: BTreeSet<String> = names.iter().map(|w| w.to_lowercase()).collect();
            if got == want {
                Ok(())
            } else if got.is_subset(&want) {
                Err(format!("more packages of your report carry {cve}"))
            } else {
                Err(format!("not the package(s) your report lists for {cve}"))
            }
        }
        Truth::Ids(want) => {
            let got: BTreeSet<String> = given.iter().map(|w| w.to_uppercase()).collect();
            let extra: Vec<&String> = got.difference(want).collect();
            let missing = want.difference(&got).count();
            match (extra.is_empty(), missing) {
                (true, 0) => Ok(()),
                (true, n) => Err(format!("{n} more of them have a fixed version")),
                (false, _) => Err(format!(
                    "not HIGH/CRITICAL with a fixed version in your report: {}",
                    extra
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        }
        Truth::Layers { right, all, .. } => {
            let [one] = given.as_slice() else {
                return Err("expected one layer DiffID".into());
            };
            let digest = normalise_digest(one);
            let hex_len = digest.rsplit(':').next().map_or(0, str::len);
            let matches: Vec<&String> = all
                .iter()
                .filter(|l| **l == digest || (hex_len >= 12 && l.starts_with(&digest)))
                .collect();
            match matches.as_slice() {
                [] if hex_len < 12 => Err(format!(
                    "`{one}` is too short to name a layer: give the DiffID (at least 12 hex digits)"
                )),
                [] => Err(format!("`{one}` is not a layer of your report")),
                [l] if right.contains(*l) => Ok(()),
                [_] => Err("that layer did not add the package with the most findings".into()),
                _ => Err(format!(
                    "`{one}` starts more than one layer: give more of it"
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trivy::parse;
    use serde_json::json;

    /// Hand-written: two OS packages, one language package.
    const REPORT: &str = r#"{"SchemaVersion": 2, "Results": [
      {"Class": "os-pkgs", "Type": "debian", "Vulnerabilities": [
        {"VulnerabilityID": "CVE-2024-0001", "PkgName": "libssl3", "Severity": "CRITICAL",
         "FixedVersion": "3.0.14-1", "Layer": {"DiffID": "sha256:aaaa1111aaaa1111"}},
        {"VulnerabilityID": "CVE-2024-0001", "PkgName": "openssl", "Severity": "CRITICAL",
         "FixedVersion": "3.0.14-1", "Layer": {"DiffID": "sha256:aaaa1111aaaa1111"}},
        {"VulnerabilityID": "CVE-2024-0002", "PkgName": "libssl3", "Severity": "HIGH",
         "Layer": {"DiffID": "sha256:aaaa1111aaaa1111"}},
        {"VulnerabilityID": "CVE-2024-0003", "PkgName": "libssl3", "Severity": "LOW",
         "Layer": {"DiffID": "sha256:aaaa1111aaaa1111"}}]},
      {"Class": "lang-pkgs", "Type": "python-pkg", "Vulnerabilities": [
        {"VulnerabilityID": "CVE-2023-0100", "PkgName": "Jinja2", "Severity": "MEDIUM",
         "FixedVersion": "3.1.3", "Layer": {"DiffID": "sha256:bbbb2222bbbb2222"}},
        {"VulnerabilityID": "GHSA-xxxx", "PkgName": "Flask", "Severity": "HIGH",
         "FixedVersion": "2.2.5, 2.3.2", "Layer": {"DiffID": "sha256:bbbb2222bbbb2222"}}]}
    ]}"#;

    fn report() -> Report {
        parse("r.json", REPORT).expect("parses")
    }

    #[test]
    fn critical_count_counts_every_entry() {
        let t = truth(Question::CriticalCount, &report(), "s", "q").expect("askable");
        assert_eq!(t, Truth::Count(2));
        assert!(judge(&t, &json!(2)).is_ok());
        assert!(judge(&t, &json!("2")).is_ok());
        assert!(judge(&t, &json!(1)).is_err());
        assert!(
            judge(&t, &json!("two"))
                .expect_err("nan")
                .contains("not a number")
        );
    }

    #[test]
    fn package_of_cve_is_picked_by_the_seed_among_sorted_cves() {
        let r = report();
        // The sorted CVEs (the GHSA id is not one).
        let cves = [
            "CVE-2023-0100",
            "CVE-2024-0001",
            "CVE-2024-0002",
            "CVE-2024-0003",
        ];
        let mut picks = BTreeSet::new();
        for seed in ["a", "b", "c", "d", "e", "f", "g", "h"] {
            let cve = picked_cve(&r, seed, "pkg").expect("some");
            assert_eq!(cve, cves[pick(seed, "pkg", 4)]);
            assert_eq!(
                picked_cve(&r, seed, "pkg"),
                Some(cve.clone()),
                "deterministic"
            );
            picks.insert(cve);
        }
        assert!(picks.len() > 1, "seeds pick different CVEs: {picks:?}");
        // A seed whose pick is CVE-2024-0001, carried by two packages.
        let seed = (0..100)
            .map(|i| format!("s{i}"))
            .find(|s| pick(s, "pkg", 4) == 1)
            .expect("some seed picks index 1");
        let t = truth(Question::PackageOfCve, &r, &seed, "pkg").expect("askable");
        assert!(judge(&t, &json!("openssl, libssl3")).is_ok());
        assert!(judge(&t, &json!(["libssl3", "OpenSSL"])).is_ok());
        assert!(
            judge(&t, &json!("libssl3"))
                .expect_err("one of two")
                .contains("more")
        );
        assert_eq!(
            text(Question::PackageOfCve, &r, &seed, "pkg"),
            "Which packages carry CVE-2024-0001? Name each of them."
        );
        let seed = (0..100)
            .map(|i| format!("s{i}"))
            .find(|s| pick(s, "pkg", 4) == 0)
            .expect("some seed picks index 0");
        assert_eq!(
            text(Question::PackageOfCve, &r, &seed, "pkg"),
            "Which package carries CVE-2023-0100?"
        );
        let t = truth(Question::PackageOfCve, &r, &seed, "pkg").expect("askable");
        assert!(judge(&t, &json!("jinja2")).is_ok());
        assert!(judge(&t, &json!("flask")).is_err());
    }

    #[test]
    fn fixed_high_critical_is_the_set_of_ids() {
        let t = truth(Question::FixedHighCritical, &report(), "", "").expect("askable");
        let want: BTreeSet<String> = ["CVE-2024-0001", "GHSA-XXXX"].map(String::from).into();
        assert_eq!(t, Truth::Ids(want));
        assert!(judge(&t, &json!("ghsa-xxxx cve-2024-0001")).is_ok());
        assert!(judge(&t, &json!(["CVE-2024-0001", "GHSA-xxxx", "CVE-2024-0001"])).is_ok());
        assert!(
            judge(&t, &json!("CVE-2024-0001"))
                .expect_err("missing")
                .contains("1 more")
        );
        // CVE-2024-0002 is HIGH but has no fix.
        let e = judge(&t, &json!("CVE-2024-0001 GHSA-xxxx CVE-2024-0002")).expect_err("extra");
        assert!(e.contains("CVE-2024-0002"), "{e}");
    }

    #[test]
    fn layer_most_findings_names_the_layer_of_the_busiest_package() {
        let t = truth(Question::LayerMostFindings, &report(), "", "").expect("askable");
        let Truth::Layers {
            packages, findings, ..
        } = &t
        else {
            panic!("{t:?}")
        };
        assert_eq!(
            (packages.iter().next().map(String::as_str), *findings),
            (Some("libssl3"), 3)
        );
        assert!(judge(&t, &json!("sha256:aaaa1111aaaa1111")).is_ok());
        assert!(judge(&t, &json!("AAAA1111AAAA1111")).is_ok());
        assert!(judge(&t, &json!("aaaa1111aaaa")).is_ok(), "12 hex digits");
        assert!(
            judge(&t, &json!("aaaa11"))
                .expect_err("short")
                .contains("too short")
        );
        assert!(judge(&t, &json!("sha256:bbbb2222bbbb2222")).is_err());
        assert!(
            judge(&t, &json!("sha256:cccc3333cccc3333"))
                .expect_err("x")
                .contains("not a layer")
        );
    }

    #[test]
    fn reports_that_cannot_answer_say_why() {
        let empty = parse("r.json", "{\"SchemaVersion\": 2}").expect("parses");
        assert_eq!(
            truth(Question::PackageOfCve, &empty, "s", "q"),
            Err(Unaskable::NoVulnerabilities)
        );
        assert_eq!(
            truth(Question::CriticalCount, &empty, "s", "q"),
            Ok(Truth::Count(0))
        );
        let no_layers = parse(
            "r.json",
            "[{\"Vulnerabilities\": [{\"VulnerabilityID\": \"CVE-1\", \"PkgName\": \"a\"}]}]",
        )
        .expect("parses");
        assert_eq!(
            truth(Question::LayerMostFindings, &no_layers, "s", "q"),
            Err(Unaskable::NoLayers)
        );
        assert!(text_without_report(Question::PackageOfCve).contains("Save the report"));
    }
}
