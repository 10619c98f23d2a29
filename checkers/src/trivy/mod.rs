//! Trivy's JSON report (`trivy ... --format json`), read tolerantly.
//!
//! Two shapes exist: the schema-v2 object (`{"SchemaVersion": 2,
//! "ArtifactName", "Metadata", "Results"}`, trivy 0.20 and later) and the
//! legacy bare array of results (trivy 0.19 and before), which this model
//! calls schema version 1. Every key is optional, as trivy writes them
//! with `omitempty`: a report without `Results` is a clean report, not an
//! error; `null` is read as absent. Only the fields seclab grades on are
//! modelled; any other key (and there are many, changing with trivy's
//! version) is ignored.
//!
//! [`parse`] gives a located [`ParseError`] for text that is not JSON (the
//! line and column serde_json reports) and for JSON of the wrong shape (a
//! string where a list of results belongs, a YAML file, an empty file).
//! [`summary`] counts findings by severity exactly as `seclab scan trivy`
//! prints them; [`question`] holds the questions the `report_question`
//! checker asks about a report, and [`check`] the two checkers.

pub mod check;
pub mod question;
pub mod summary;

use std::fmt;

use serde::{Deserialize, Deserializer};

pub use summary::{ResultSummary, Summary, Totals};

/// A finding's severity, ordered from least to most severe. Any severity
/// string trivy does not define counts as `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Severity {
    /// `UNKNOWN` (or a value trivy does not define, or none).
    #[default]
    Unknown,
    /// `LOW`.
    Low,
    /// `MEDIUM`.
    Medium,
    /// `HIGH`.
    High,
    /// `CRITICAL`.
    Critical,
}

impl Severity {
    /// Every severity, most severe first (the order reports list them).
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Unknown,
    ];

    /// The name trivy writes: `CRITICAL`, `HIGH`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "UNKNOWN",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }

    /// Reads trivy's name (any case); anything else is `None`.
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// The severity of a finding's `Severity` field: unknown values and
    /// absence are `Unknown`, as trivy treats them.
    fn of(field: Option<&str>) -> Self {
        field.and_then(Self::from_name).unwrap_or_default()
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| {
            format!("unknown severity `{s}`: one of CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN")
        })
    }
}

/// `null` reads as the type's default (trivy's Go code may write `null`
/// for an empty list).
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A whole report.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Report {
    /// `SchemaVersion`: 2 for the object shape; 1 stands for the legacy
    /// bare array (which has no such key); `None` when an object leaves it
    /// out.
    #[serde(default)]
    pub schema_version: Option<u64>,
    /// `ArtifactName`: the image reference, the `--input` path or the
    /// folder scanned (absent in schema v1).
    #[serde(default)]
    pub artifact_name: Option<String>,
    /// `ArtifactType`: `container_image`, `filesystem`, `repository`, ...
    #[serde(default)]
    pub artifact_type: Option<String>,
    /// `Metadata` (images: OS, image ID, layers).
    #[serde(default)]
    pub metadata: Option<Metadata>,
    /// `Results`: one per target (the OS packages, a lock file, ...).
    #[serde(default, deserialize_with = "nullable")]
    pub results: Vec<TrivyResult>,
}

/// `Metadata` of a report.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Metadata {
    /// `OS`: absent when no OS was detected.
    #[serde(default, rename = "OS")]
    pub os: Option<Os>,
    /// `ImageID`: the image config's digest (`docker inspect .Id`).
    #[serde(default, rename = "ImageID")]
    pub image_id: Option<String>,
    /// `DiffIDs`: the layers' uncompressed digests, bottom first.
    #[serde(default, rename = "DiffIDs", deserialize_with = "nullable")]
    pub diff_ids: Vec<String>,
    /// `RepoTags`.
    #[serde(default, deserialize_with = "nullable")]
    pub repo_tags: Vec<String>,
}

/// `Metadata.OS`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Os {
    /// `Family`: `debian`, `alpine`, ... (`none` when only packages were
    /// found).
    #[serde(default)]
    pub family: Option<String>,
    /// `Name`: the version (`12.5`, `3.9.4`).
    #[serde(default)]
    pub name: Option<String>,
}

/// One entry of `Results`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrivyResult {
    /// `Target`: `"<artifact> (debian 12.5)"`, `requirements.txt`, `Python`.
    #[serde(default)]
    pub target: Option<String>,
    /// `Class`: `os-pkgs`, `lang-pkgs`, `config`, `secret`, `license`, ...
    #[serde(default)]
    pub class: Option<String>,
    /// `Type`: the OS family, the language package type, the config type;
    /// absent for secrets.
    #[serde(default)]
    pub r#type: Option<String>,
    /// `Vulnerabilities`.
    #[serde(default, deserialize_with = "nullable")]
    pub vulnerabilities: Vec<Vulnerability>,
    /// `Misconfigurations` (by default only failures are listed).
    #[serde(default, deserialize_with = "nullable")]
    pub misconfigurations: Vec<Misconfiguration>,
    /// `Secrets`.
    #[serde(default, deserialize_with = "nullable")]
    pub secrets: Vec<Secret>,
}

impl TrivyResult {
    /// The `Class`, empty when absent.
    pub fn class(&self) -> &str {
        self.class.as_deref().unwrap_or("")
    }

    /// The misconfigurations that count as findings: `Status` `FAIL`, or
    /// no status at all (trivy lists only failures unless asked for
    /// `--include-non-failures`); `PASS` and `EXCEPTION` do not count.
    pub fn failed_misconfigurations(&self) -> impl Iterator<Item = &Misconfiguration> {
        self.misconfigurations.iter().filter(|m| m.failed())
    }
}

/// One vulnerability of a package.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Vulnerability {
    /// `VulnerabilityID`: `CVE-…`, `GHSA-…`, ...
    #[serde(default, rename = "VulnerabilityID")]
    pub vulnerability_id: Option<String>,
    /// `PkgName`.
    #[serde(default)]
    pub pkg_name: Option<String>,
    /// `InstalledVersion`.
    #[serde(default)]
    pub installed_version: Option<String>,
    /// `FixedVersion`: absent when no fix exists; may list several
    /// versions, comma-separated.
    #[serde(default)]
    pub fixed_version: Option<String>,
    /// `Status`: `fixed`, `affected`, ... (trivy 0.44 and later).
    #[serde(default)]
    pub status: Option<String>,
    /// `Severity` as written.
    #[serde(default)]
    pub severity: Option<String>,
    /// `Layer`: which layer added the package.
    #[serde(default)]
    pub layer: Option<Layer>,
}

impl Vulnerability {
    /// The severity (unknown values count as `UNKNOWN`).
    pub fn severity(&self) -> Severity {
        Severity::of(self.severity.as_deref())
    }

    /// Whether trivy knows a fixed version (a non-empty `FixedVersion`).
    pub fn has_fix(&self) -> bool {
        self.fixed_version
            .as_deref()
            .is_some_and(|v| !v.trim().is_empty())
    }
}

/// `Layer` of a finding.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Layer {
    /// `Digest`: the compressed layer's digest (absent for `docker save`
    /// tars).
    #[serde(default)]
    pub digest: Option<String>,
    /// `DiffID`: the uncompressed layer's digest.
    #[serde(default, rename = "DiffID")]
    pub diff_id: Option<String>,
}

/// One misconfiguration.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Misconfiguration {
    /// `ID`: `DS-0002` (trivy 0.69+) or `DS002` (before).
    #[serde(default, rename = "ID")]
    pub id: Option<String>,
    /// `Severity` as written.
    #[serde(default)]
    pub severity: Option<String>,
    /// `Status`: `FAIL`, `PASS` or `EXCEPTION`.
    #[serde(default)]
    pub status: Option<String>,
}

impl Misconfiguration {
    /// The severity (unknown values count as `UNKNOWN`).
    pub fn severity(&self) -> Severity {
        Severity::of(self.severity.as_deref())
    }

    /// A failure: `Status` `FAIL` or absent.
    pub fn failed(&self) -> bool {
        self.status
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case("FAIL"))
    }
}

/// One secret found.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Secret {
    /// `RuleID`: `aws-access-key-id`, ...
    #[serde(default, rename = "RuleID")]
    pub rule_id: Option<String>,
    /// `Severity` as written.
    #[serde(default)]
    pub severity: Option<String>,
}

impl Secret {
    /// The severity (unknown values count as `UNKNOWN`).
    pub fn severity(&self) -> Severity {
        Severity::of(self.severity.as_deref())
    }
}

impl Report {
    /// Every vulnerability with the result it is in.
    pub fn vulnerabilities(&self) -> impl Iterator<Item = (&TrivyResult, &Vulnerability)> {
        self.results
            .iter()
            .flat_map(|r| r.vulnerabilities.iter().map(move |v| (r, v)))
    }

    /// `Metadata.ImageID`, when the report has one.
    pub fn image_id(&self) -> Option<&str> {
        self.metadata.as_ref()?.image_id.as_deref()
    }
}

/// Why a text is not a trivy report, with the 1-based position when one
/// is known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// The file, as the caller named it.
    pub path: String,
    /// 1-based line.
    pub line: Option<usize>,
    /// 1-based column.
    pub col: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.col) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.path, self.message),
            _ => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// The keys of which a schema-v2 report has at least one.
const REPORT_KEYS: [&str; 5] = [
    "SchemaVersion",
    "ArtifactName",
    "ArtifactType",
    "Metadata",
    "Results",
];

/// Parses a report: the schema-v2 object or the legacy array of results.
///
/// # Errors
/// Text that is not JSON (located where serde_json says), an empty file,
/// JSON that is neither an object nor an array, an object with none of a
/// report's keys, or a key of the wrong type (located at the value).
pub fn parse(path: &str, text: &str) -> Result<Report, ParseError> {
    let err = |line, col, message: String| ParseError {
        path: path.to_string(),
        line,
        col,
        message,
    };
    let located = |e: &serde_json::Error, what: &str| {
        // serde_json's message ends in " at line L column C"; we say where
        // in front instead.
        let msg = e.to_string();
        let msg = msg
            .rfind(" at line ")
            .map_or(msg.as_str(), |i| &msg[..i])
            .to_string();
        // serde_json counts an error at a line's start as column 0.
        err(
            Some(e.line()),
            Some(e.column().max(1)),
            format!("{what}: {msg}"),
        )
    };
    let body = text.trim_start_matches('\u{feff}');
    let Some((offset, first)) = body.char_indices().find(|(_, c)| !c.is_whitespace()) else {
        return Err(err(
            None,
            None,
            "empty file: not a trivy JSON report (save one with `trivy image --format json -o FILE`)"
                .into(),
        ));
    };
    let (line, col) = position(body, offset);
    match first {
        '[' => {
            let results: Vec<TrivyResult> = serde_json::from_str(body)
                .map_err(|e| located(&e, "not a trivy report (schema v1 array of results)"))?;
            Ok(Report {
                schema_version: Some(1),
                results,
                ..Report::default()
            })
        }
        '{' => {
            let value: serde_json::Value =
                serde_json::from_str(body).map_err(|e| located(&e, "not valid JSON"))?;
            if !REPORT_KEYS.iter().any(|k| value.get(k).is_some()) {
                return Err(err(
                    Some(line),
                    Some(col),
                    format!(
                        "not a trivy report: the object has none of {}",
                        REPORT_KEYS.join(", ")
                    ),
                ));
            }
            // Typed a second time from the text, so a wrong type is located.
            serde_json::from_str(body).map_err(|e| located(&e, "not a trivy report"))
        }
        _ => {
            // serde_json locates a syntax error; valid JSON of another kind
            // (a number, a string) is a shape error at its start.
            if let Err(e) = serde_json::from_str::<serde_json::Value>(body) {
                return Err(located(
                    &e,
                    "not JSON (a trivy report is `--format json` output)",
                ));
            }
            Err(err(
                Some(line),
                Some(col),
                "not a trivy report: expected a JSON object (schema v2) or an array of results (schema v1)".into(),
            ))
        }
    }
}

/// The 1-based line and column (in characters) of byte `offset`.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes_parse_and_every_key_is_optional() {
        let r = parse("r.json", "{\"SchemaVersion\": 2}").expect("v2");
        assert_eq!(r.schema_version, Some(2));
        assert!(r.results.is_empty());
        let r = parse("r.json", "[{\"Target\": \"x\", \"Vulnerabilities\": null}]").expect("v1");
        assert_eq!(r.schema_version, Some(1));
        assert_eq!(r.results.len(), 1);
        assert!(r.results[0].vulnerabilities.is_empty());
        let r = parse("r.json", "{\"Results\": [{\"Unknown\": {\"deep\": [1]}}]}").expect("extra");
        assert_eq!(r.schema_version, None);
    }

    #[test]
    fn syntax_errors_are_located() {
        let e = parse("r.json", "{\n  \"SchemaVersion\": 2,\n  \"Results\": [\n").expect_err("cut");
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.to_string().starts_with("r.json:4:"), "{e}");
    }

    #[test]
    fn wrong_types_are_located_at_the_value() {
        let e = parse(
            "r.json",
            "{\n\"SchemaVersion\": 2,\n\"Results\": \"none\"\n}",
        )
        .expect_err("type");
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.contains("invalid type"), "{e}");
        let e = parse(
            "r.json",
            "{\"Results\": [{\"Vulnerabilities\": [{\"Severity\": 3}]}]}",
        )
        .expect_err("type");
        assert_eq!((e.line, e.col.is_some()), (Some(1), true), "{e}");
    }

    #[test]
    fn other_documents_are_shape_errors() {
        assert!(
            parse("e.json", " \n")
                .expect_err("empty")
                .message
                .contains("empty")
        );
        let e = parse("c.yaml", "SchemaVersion: 2\nResults: []\n").expect_err("yaml");
        assert_eq!((e.line, e.col), (Some(1), Some(1)), "{e}");
        let e = parse("n.json", "\n  42").expect_err("number");
        assert_eq!((e.line, e.col), (Some(2), Some(3)), "{e}");
        let e = parse("o.json", "{\"kind\": \"Pod\"}").expect_err("not trivy");
        assert!(e.message.contains("SchemaVersion"), "{e}");
    }

    #[test]
    fn severities_order_and_unknown_values() {
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Unknown);
        assert_eq!(Severity::of(Some("high")), Severity::High);
        assert_eq!(Severity::of(Some("SEVERE")), Severity::Unknown);
        assert_eq!(Severity::of(None), Severity::Unknown);
        assert!("bad".parse::<Severity>().is_err());
    }
}
