//! The `trivy_report` and `report_question` checkers, over the student's
//! saved trivy JSON report (a workspace text file).
//!
//! `trivy_report` says the report is for the image seclab built: schema
//! version 2, an image scan with an OS result and a language result —
//! graded from the file alone, so a wrong report fails offline too — and
//! `Metadata.ImageID` equal to the engine's `docker inspect .Id` of that
//! image, which needs the Docker engine (skipped offline, with the reason).
//!
//! `report_question` asks one of [`Question`]'s questions; the right
//! answer is computed from the report (see [`super::question`]) and
//! compared with the student's answer in answers.yaml.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::question::{self, Question};
use super::{Report, parse};
use crate::container::LiveFacts;
use crate::{Finding, TextFile, Verdict};

/// A `trivy_report:` check as written in lab.yaml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrivyReportCheck {
    /// The report's workspace-relative path (`report.json`).
    pub path: String,
    /// The lab's name for the image the report must be of
    /// (`menu-aggregator`).
    pub image: String,
    /// The report must be of that image as built from the lab's start
    /// files (its `build:` entry has `original: true`), not as the
    /// workspace builds it now: a scan done before the student changed the
    /// Dockerfile stays right after they harden it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub original: bool,
}

/// A `report_question:` check as written in lab.yaml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportQuestionCheck {
    /// The question's id: its key in `answers.yaml` under the task.
    pub id: String,
    /// The report's workspace-relative path (`report.json`).
    pub path: String,
    /// Which question.
    pub question: Question,
}

impl TrivyReportCheck {
    /// A one-line description for listings.
    pub fn describe(&self) -> String {
        format!(
            "{} is trivy's JSON report of image `{}` as seclab built it",
            self.path, self.image
        )
    }

    /// What is wrong with the check as written, if anything.
    pub fn problem(&self) -> Option<String> {
        blank_path(&self.path, "trivy_report").or_else(|| {
            self.image
                .trim()
                .is_empty()
                .then(|| format!("trivy_report check on {}: image is empty", self.path))
        })
    }
}

impl ReportQuestionCheck {
    /// A one-line description for listings.
    pub fn describe(&self) -> String {
        format!("question `{}` about {}", self.id, self.path)
    }

    /// The question as the student reads it: rendered from the report when
    /// the workspace has it (and it parses), else a general form.
    pub fn text(&self, texts: &[TextFile], seed: &str) -> String {
        match load(texts, &self.path) {
            Ok(report) => question::text(self.question, &report, seed, &self.id),
            Err(_) => question::text_without_report(self.question),
        }
    }

    /// What is wrong with the check as written, if anything.
    pub fn problem(&self) -> Option<String> {
        blank_path(&self.path, "report_question")
    }
}

fn blank_path(path: &str, checker: &str) -> Option<String> {
    let p = path.trim();
    (p.is_empty() || p.starts_with('/') || p.split('/').any(|c| c == ".."))
        .then(|| format!("{checker} check: path `{path}` must be a workspace-relative file"))
}

/// The report at `path` among the workspace's text files, parsed; a
/// finding (located where the parser says) when it is missing or broken.
///
/// # Errors
/// The file is not there, or is not a trivy report.
pub fn load(texts: &[TextFile], path: &str) -> Result<Report, Box<Finding>> {
    let want = path.trim().trim_start_matches("./");
    let Some(file) = texts.iter().find(|t| t.path == want) else {
        return Err(Box::new(Finding::error(format!(
            "no report at {want}: save trivy's JSON there (`trivy image --format json -o {want} IMAGE`, or `seclab scan-image`)"
        ))));
    };
    parse(&file.path, &file.text).map_err(|e| {
        let mut f = Finding::error(e.message);
        f.source = Some(file.path.clone());
        f.line = e.line;
        f.col = e.col;
        Box::new(f)
    })
}

/// The reason `trivy_report` gives offline.
pub const NO_ENGINE: &str = "needs the Docker engine: the ID of the image seclab built exists only there; offline it cannot be graded";

/// `sha256:<hex>` lower-cased (the prefix added when left out).
fn image_id(s: &str) -> String {
    let s = s.trim().to_lowercase();
    if s.contains(':') {
        s
    } else {
        format!("sha256:{s}")
    }
}

/// Grades a `trivy_report` check.
pub fn grade_report(
    check: &TrivyReportCheck,
    texts: &[TextFile],
    live: Option<&LiveFacts>,
) -> Verdict {
    let report = match load(texts, &check.path) {
        Ok(r) => r,
        Err(f) => return Verdict::from_findings(vec![*f]),
    };
    let at = |msg: String| {
        let mut f = Finding::error(msg);
        f.source = Some(check.path.clone());
        f
    };
    let mut findings = Vec::new();
    match report.schema_version {
        Some(2) => {}
        Some(1) => findings.push(at(
            "schema version 1 (a bare array of results, trivy 0.19 or older): scan again with a current trivy, which writes SchemaVersion 2".into(),
        )),
        Some(n) => findings.push(at(format!("schema version {n}: seclab reads trivy's SchemaVersion 2"))),
        None => findings.push(at("no SchemaVersion: is this trivy's `--format json` output?".into())),
    }
    if let Some(kind) = report
        .artifact_type
        .as_deref()
        .filter(|k| *k != "container_image")
    {
        findings.push(at(format!(
            "the report is of a {kind}, not of an image: scan the image (`trivy image`)"
        )));
    }
    let has = |class: &str| report.results.iter().any(|r| r.class() == class);
    if !has("os-pkgs") {
        findings.push(at(
            "the report has no OS result (Class os-pkgs): trivy found no OS packages to scan — were the package database or /etc release files removed, or the scan limited (--pkg-types library, --skip-dirs)?".into(),
        ));
    }
    if !has("lang-pkgs") {
        findings.push(at(
            "the report has no language result (Class lang-pkgs): trivy found no installed Python packages — were the *.dist-info folders removed, or the scan limited (--pkg-types os)?".into(),
        ));
    }
    if !findings.is_empty() {
        return Verdict::from_findings(findings);
    }
    let Some(live) = live else {
        return Verdict::skipped(NO_ENGINE);
    };
    let Some(built) = live.images.get(&check.image) else {
        return Verdict::fail(format!(
            "seclab has not built image `{}` on this engine yet: build it, then scan it",
            check.image
        ));
    };
    let (want, what) = if check.original {
        match &built.original {
            Some(o) => (o.id.as_str(), "from the lab's start files"),
            None => {
                return Verdict::fail(format!(
                    "seclab has not built `{}` from the lab's start files on this engine yet",
                    check.image
                ));
            }
        }
    } else {
        (built.id.as_str(), "from your workspace")
    };
    match report.image_id() {
        None => Verdict::from_findings(vec![at(format!(
            "the report has no Metadata.ImageID: scan the image itself (`trivy image`), {} {what} is `{want}`",
            check.image
        ))]),
        Some(id) if image_id(id) == image_id(want) => Verdict::pass(),
        Some(id) => Verdict::from_findings(vec![at(format!(
            "the report is of image {id}, but `{}` as seclab built it {what} is {want}: scan that image",
            check.image
        ))]),
    }
}

/// Grades a `report_question` check against the student's answer.
pub fn grade_question(
    check: &ReportQuestionCheck,
    texts: &[TextFile],
    seed: &str,
    answer: Option<&Value>,
) -> Verdict {
    let report = match load(texts, &check.path) {
        Ok(r) => r,
        Err(f) => return Verdict::from_findings(vec![*f]),
    };
    let truth = match question::truth(check.question, &report, seed, &check.id) {
        Ok(t) => t,
        Err(e) => {
            let mut f = Finding::error(format!("{}: {e}", check.path));
            f.source = Some(check.path.clone());
            return Verdict::from_findings(vec![f]);
        }
    };
    let Some(answer) = answer else {
        return Verdict::fail(format!("question `{}` is not answered yet", check.id));
    };
    match question::judge(&truth, answer) {
        Ok(()) => Verdict::pass(),
        Err(why) => Verdict::fail(format!("question `{}`: {why}", check.id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::BuiltImage;
    use serde_json::json;

    const ID: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    fn report(image_id: &str, classes: &[&str]) -> String {
        let results: Vec<Value> = classes
            .iter()
            .map(|c| {
                json!({"Target": "t", "Class": c, "Vulnerabilities": [
                {"VulnerabilityID": "CVE-2024-1", "PkgName": "p", "Severity": "CRITICAL"}]})
            })
            .collect();
        json!({"SchemaVersion": 2, "ArtifactType": "container_image",
            "Metadata": {"ImageID": image_id}, "Results": results})
        .to_string()
    }

    fn texts(text: String) -> Vec<TextFile> {
        vec![TextFile {
            path: "report.json".into(),
            text,
        }]
    }

    fn live(id: &str) -> LiveFacts {
        let img = BuiltImage {
            name: "menu-aggregator".into(),
            id: id.into(),
            ..BuiltImage::default()
        };
        LiveFacts {
            images: [("menu-aggregator".to_string(), img)].into(),
            ..LiveFacts::default()
        }
    }

    fn check() -> TrivyReportCheck {
        TrivyReportCheck {
            path: "report.json".into(),
            image: "menu-aggregator".into(),
            original: false,
        }
    }

    #[test]
    fn with_original_the_report_must_be_of_the_start_files_build() {
        let start = "sha256:3333333333333333333333333333333333333333333333333333333333333333";
        let mut facts = live(ID);
        let check = TrivyReportCheck {
            original: true,
            ..check()
        };
        let of_start = texts(report(start, &["os-pkgs", "lang-pkgs"]));
        // Not built from the start files yet: a failure that says so.
        let v = grade_report(&check, &of_start, Some(&facts));
        assert!(messages(&v).contains("start files"), "{v:?}");
        if let Some(img) = facts.images.get_mut("menu-aggregator") {
            img.original = Some(crate::image::Original {
                id: start.into(),
                size: 1,
            });
        }
        assert!(grade_report(&check, &of_start, Some(&facts)).passed());
        // The workspace's (hardened) image is not the one asked about.
        let of_workspace = texts(report(ID, &["os-pkgs", "lang-pkgs"]));
        let v = grade_report(&check, &of_workspace, Some(&facts));
        let m = messages(&v);
        assert!(
            !v.passed() && m.contains(start) && m.contains("start files"),
            "{m}"
        );
    }

    fn messages(v: &Verdict) -> String {
        v.findings
            .iter()
            .map(|f| f.message.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_report_of_the_built_image_passes_and_needs_the_engine() {
        let t = texts(report(ID, &["os-pkgs", "lang-pkgs"]));
        assert!(grade_report(&check(), &t, Some(&live(ID))).passed());
        let v = grade_report(&check(), &t, None);
        assert_eq!(v.reason.as_deref(), Some(NO_ENGINE));
        // The ID without its prefix, in upper case, is the same image.
        let bare = ID.trim_start_matches("sha256:").to_uppercase();
        assert!(
            grade_report(
                &check(),
                &texts(report(&bare, &["os-pkgs", "lang-pkgs"])),
                Some(&live(ID))
            )
            .passed()
        );
    }

    #[test]
    fn a_report_of_another_image_names_both_ids() {
        let other = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
        let v = grade_report(
            &check(),
            &texts(report(other, &["os-pkgs", "lang-pkgs"])),
            Some(&live(ID)),
        );
        let m = messages(&v);
        assert!(!v.passed() && m.contains(other) && m.contains(ID), "{m}");
        let v = grade_report(
            &check(),
            &texts(report(ID, &["os-pkgs", "lang-pkgs"])),
            Some(&LiveFacts::default()),
        );
        assert!(messages(&v).contains("not built"), "{v:?}");
    }

    #[test]
    fn missing_results_say_which_even_offline() {
        let v = grade_report(&check(), &texts(report(ID, &["lang-pkgs"])), None);
        let m = messages(&v);
        assert!(
            m.contains("no OS result") && !m.contains("no language result"),
            "{m}"
        );
        let v = grade_report(&check(), &texts(report(ID, &["os-pkgs", "config"])), None);
        let m = messages(&v);
        assert!(
            m.contains("no language result") && !m.contains("no OS result"),
            "{m}"
        );
    }

    #[test]
    fn old_shapes_missing_and_broken_reports_fail_located() {
        let v1 = texts("[{\"Class\": \"os-pkgs\"}, {\"Class\": \"lang-pkgs\"}]".into());
        assert!(messages(&grade_report(&check(), &v1, None)).contains("schema version 1"));
        let v = grade_report(&check(), &[], None);
        assert!(messages(&v).contains("no report at report.json"), "{v:?}");
        let v = grade_report(&check(), &texts("{\n\"SchemaVersion\": 2,\n".into()), None);
        assert_eq!(
            (v.findings[0].line, v.findings[0].source.as_deref()),
            (Some(3), Some("report.json"))
        );
    }

    #[test]
    fn a_question_grades_the_answer_against_the_report() {
        let q = ReportQuestionCheck {
            id: "criticals".into(),
            path: "report.json".into(),
            question: Question::CriticalCount,
        };
        let t = texts(report(ID, &["os-pkgs", "lang-pkgs"]));
        assert!(grade_question(&q, &t, "s", Some(&json!(2))).passed());
        assert!(!grade_question(&q, &t, "s", Some(&json!(1))).passed());
        let v = grade_question(&q, &t, "s", None);
        assert!(messages(&v).contains("not answered"), "{v:?}");
        let v = grade_question(&q, &[], "s", Some(&json!(2)));
        assert!(messages(&v).contains("no report"), "{v:?}");
        assert_eq!(
            q.text(&t, "s"),
            "How many CRITICAL vulnerabilities does your trivy report list?"
        );
        let p = ReportQuestionCheck {
            question: Question::PackageOfCve,
            ..q
        };
        assert_eq!(p.text(&t, "s"), "Which package carries CVE-2024-1?");
        assert!(p.text(&[], "s").contains("Save the report"));
    }
}
