//! What a grader returns: a [`Verdict`] (pass, fail or skipped) and the
//! [`Finding`]s that explain it, each pointing at the object and field it is
//! about so the shell can add `file:line:col`.

use serde::Serialize;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every condition of the check holds.
    Pass,
    /// At least one condition does not hold; the findings say which.
    Fail,
    /// The check could not be graded with the evidence at hand (for example a
    /// cluster-only check run offline); `Verdict::reason` says why.
    Skipped,
}

/// How serious a finding is. Only errors make a check fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A violation: the check fails.
    Error,
    /// Worth telling the student (an unknown field, a likely typo) but not a
    /// failure by itself.
    Warning,
    /// Context, e.g. what was evaluated.
    Info,
}

/// One thing a grader has to say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Error, warning or info.
    pub severity: Severity,
    /// The sentence a student reads.
    pub message: String,
    /// The object the finding is about, as `Kind/name` or `Kind ns/name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The file the object came from, when it came from a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Index of the document in `source` (for mapping paths to positions).
    #[serde(skip)]
    pub doc: Option<usize>,
    /// Field paths inside the object, e.g.
    /// `spec.template.spec.containers[0].securityContext.privileged`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// 1-based line of the first path in `source`, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column of the first path in `source`, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub col: Option<usize>,
    /// The finding is about the *name* of the field at its first path (an
    /// unknown field), so its position is the key's, not the value's.
    #[serde(skip)]
    pub at_key: bool,
}

impl Finding {
    /// An error finding with just a message.
    pub fn error(message: impl Into<String>) -> Self {
        Self::new(Severity::Error, message)
    }

    /// A warning finding with just a message.
    pub fn warning(message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, message)
    }

    /// An informational finding with just a message.
    pub fn info(message: impl Into<String>) -> Self {
        Self::new(Severity::Info, message)
    }

    fn new(severity: Severity, message: impl Into<String>) -> Self {
        Self {
            severity,
            message: message.into(),
            object: None,
            source: None,
            doc: None,
            paths: Vec::new(),
            line: None,
            col: None,
            at_key: false,
        }
    }

    /// The same finding, about `obj` (its display name and source file).
    #[must_use]
    pub fn about(mut self, obj: &crate::KubeObject) -> Self {
        self.object = Some(obj.display_name());
        self.source.clone_from(&obj.source);
        self.doc = obj.source.as_ref().map(|_| obj.doc);
        self
    }

    /// The same finding with a field path added.
    #[must_use]
    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.paths.push(path.into());
        self
    }
}

/// The outcome of one check with its explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Pass, fail or skipped.
    pub status: Status,
    /// Why the check was skipped (only for `Status::Skipped`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What the grader found; errors explain a failure, warnings and infos
    /// may accompany any status.
    pub findings: Vec<Finding>,
    /// Data for a richer display than findings, when a checker has some:
    /// a `netpol` check puts its reachability matrix here
    /// (`{"matrix": <netpol::matrix::Matrix>, "text": <rendered>}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

impl Verdict {
    /// A verdict from findings: it fails when any finding is an error.
    pub fn from_findings(findings: Vec<Finding>) -> Self {
        let failed = findings.iter().any(|f| f.severity == Severity::Error);
        Self {
            status: if failed { Status::Fail } else { Status::Pass },
            reason: None,
            findings,
            detail: None,
        }
    }

    /// A passing verdict with no findings.
    pub fn pass() -> Self {
        Self::from_findings(Vec::new())
    }

    /// A failing verdict with one error finding.
    pub fn fail(message: impl Into<String>) -> Self {
        Self::from_findings(vec![Finding::error(message)])
    }

    /// A skipped verdict and why.
    pub fn skipped(reason: impl Into<String>) -> Self {
        Self {
            status: Status::Skipped,
            reason: Some(reason.into()),
            findings: Vec::new(),
            detail: None,
        }
    }

    /// The same verdict carrying `detail` for a richer display.
    #[must_use]
    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }

    /// Whether the check passed.
    pub fn passed(&self) -> bool {
        self.status == Status::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_fail_warnings_do_not() {
        assert_eq!(
            Verdict::from_findings(vec![Finding::warning("typo?")]).status,
            Status::Pass
        );
        assert_eq!(
            Verdict::from_findings(vec![Finding::warning("w"), Finding::error("e")]).status,
            Status::Fail
        );
        assert_eq!(Verdict::skipped("offline").status, Status::Skipped);
    }
}
