//! A report's counts, exactly as `seclab scan trivy --output json` prints
//! them: vulnerabilities by severity (for the whole report and per
//! result), failed misconfigurations and secrets.

use serde::Serialize;

use super::{Report, Severity};

/// Vulnerabilities by severity; serialised as `{"CRITICAL": n, "HIGH": n,
/// "MEDIUM": n, "LOW": n, "UNKNOWN": n}` in that order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub struct Totals {
    /// `CRITICAL`.
    pub critical: usize,
    /// `HIGH`.
    pub high: usize,
    /// `MEDIUM`.
    pub medium: usize,
    /// `LOW`.
    pub low: usize,
    /// `UNKNOWN` (and severities trivy does not define).
    pub unknown: usize,
}

impl Totals {
    /// Counts one finding of `severity`.
    pub fn add(&mut self, severity: Severity) {
        *self.get_mut(severity) += 1;
    }

    /// The count of `severity`.
    pub fn get(&self, severity: Severity) -> usize {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Unknown => self.unknown,
        }
    }

    fn get_mut(&mut self, severity: Severity) -> &mut usize {
        match severity {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
            Severity::Unknown => &mut self.unknown,
        }
    }

    /// All counts added up.
    pub fn total(&self) -> usize {
        Severity::ALL.iter().map(|s| self.get(*s)).sum()
    }
}

/// One result's line of the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResultSummary {
    /// `Target`.
    pub target: Option<String>,
    /// `Class`.
    pub class: Option<String>,
    /// `Type`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Its vulnerabilities by severity.
    pub totals: Totals,
}

/// The summary of one report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// The report file, as named on the command line.
    pub source: String,
    /// `ArtifactName` (`null` for schema v1, which has none).
    pub artifact: Option<String>,
    /// `SchemaVersion` (1 for the legacy array shape).
    pub schema_version: Option<u64>,
    /// Vulnerabilities by severity, over every result.
    pub totals: Totals,
    /// Failed misconfigurations (`Status` `FAIL` or none).
    pub misconfigurations: usize,
    /// Secrets found.
    pub secrets: usize,
    /// One line per result, in report order.
    pub results: Vec<ResultSummary>,
}

impl Summary {
    /// Summarises `report`, read from `source`.
    pub fn of(source: &str, report: &Report) -> Self {
        let mut totals = Totals::default();
        let mut results = Vec::with_capacity(report.results.len());
        let (mut misconfigurations, mut secrets) = (0, 0);
        for r in &report.results {
            let mut t = Totals::default();
            for v in &r.vulnerabilities {
                t.add(v.severity());
                totals.add(v.severity());
            }
            misconfigurations += r.failed_misconfigurations().count();
            secrets += r.secrets.len();
            results.push(ResultSummary {
                target: r.target.clone(),
                class: r.class.clone(),
                kind: r.r#type.clone(),
                totals: t,
            });
        }
        Self {
            source: source.to_string(),
            artifact: report.artifact_name.clone(),
            schema_version: report.schema_version,
            totals,
            misconfigurations,
            secrets,
            results,
        }
    }
}

/// Whether `report` has a finding — a vulnerability, a failed
/// misconfiguration or a secret — at `threshold` or above.
pub fn any_at_or_above(report: &Report, threshold: Severity) -> bool {
    report.results.iter().any(|r| {
        r.vulnerabilities.iter().any(|v| v.severity() >= threshold)
            || r.failed_misconfigurations()
                .any(|m| m.severity() >= threshold)
            || r.secrets.iter().any(|s| s.severity() >= threshold)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trivy::parse;

    const REPORT: &str = r#"{"SchemaVersion": 2, "ArtifactName": "app:1", "Results": [
      {"Target": "app:1 (debian 12.5)", "Class": "os-pkgs", "Type": "debian",
       "Vulnerabilities": [{"Severity": "CRITICAL"}, {"Severity": "LOW"}, {"Severity": "odd"}]},
      {"Target": "Dockerfile", "Class": "config", "Type": "dockerfile",
       "Misconfigurations": [{"Severity": "HIGH", "Status": "FAIL"}, {"Severity": "CRITICAL", "Status": "PASS"}]},
      {"Target": "app/.env", "Class": "secret", "Secrets": [{"Severity": "MEDIUM"}]}
    ]}"#;

    #[test]
    fn counts_by_severity_and_kind() {
        let r = parse("r.json", REPORT).expect("parses");
        let s = Summary::of("r.json", &r);
        assert_eq!(
            (
                s.totals.critical,
                s.totals.low,
                s.totals.unknown,
                s.totals.total()
            ),
            (1, 1, 1, 3)
        );
        assert_eq!((s.misconfigurations, s.secrets), (1, 1));
        assert_eq!(s.results[2].kind, None);
        let json = serde_json::to_value(&s).expect("json");
        assert_eq!(
            json["results"][0]["totals"],
            serde_json::json!({"CRITICAL": 1, "HIGH": 0, "MEDIUM": 0, "LOW": 1, "UNKNOWN": 1})
        );
    }

    #[test]
    fn thresholds_count_vulns_failed_misconfigurations_and_secrets() {
        let r = parse("r.json", REPORT).expect("parses");
        assert!(any_at_or_above(&r, Severity::Critical));
        let no_vulns = Report {
            results: r.results[1..].to_vec(),
            ..r.clone()
        };
        // The CRITICAL misconfiguration passed: it is no finding.
        assert!(!any_at_or_above(&no_vulns, Severity::Critical));
        assert!(any_at_or_above(&no_vulns, Severity::High));
        let secrets_only = Report {
            results: r.results[2..].to_vec(),
            ..r
        };
        assert!(!any_at_or_above(&secrets_only, Severity::High));
        assert!(any_at_or_above(&secrets_only, Severity::Medium));
    }
}
