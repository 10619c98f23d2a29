//! `seclab test`: content CI for labs. For every lab it builds three kinds
//! of workspace in memory — `start` (as the student gets it), `solution`
//! (start with solution/ laid over it) and `wrong/<name>` (start+solution
//! with the case laid over it and its `remove` paths taken out) — grades
//! every task, and compares with the expectation: start fails, solution
//! passes, a wrong case fails exactly the tasks its `expect.yaml` lists,
//! and an `alternatives/<name>` case (a right answer written differently,
//! laid over start+solution after its `about.yaml` `remove` paths) passes
//! every task.
//! One test case per (lab, variant, task), named `lab/variant/task`.

use seclab_checkers::Status;
use serde::Serialize;

use crate::error::InputError;
use crate::grade::{Snapshot, TaskResult, grade_task_with_images};
use crate::lab::validate::{ABOUT_FILE, parse_about, parse_expect, rendered};
use crate::lab::{Lab, LabFiles, Student};

/// What a test case came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "detail", rename_all = "lowercase")]
pub enum CaseOutcome {
    /// The task did what was expected.
    Passed,
    /// It did not; why.
    Failed(String),
    /// It could not be decided here; why.
    Skipped(String),
}

/// One test case.
#[derive(Debug, Clone, Serialize)]
pub struct Case {
    /// `lab/variant/task`.
    pub name: String,
    /// The lab id.
    pub lab: String,
    /// The outcome.
    #[serde(flatten)]
    pub outcome: CaseOutcome,
}

/// A variant: its name, its files and the tasks expected to fail.
struct Variant {
    name: String,
    files: LabFiles,
    must_fail: Vec<String>,
    all_fail: bool,
}

fn overlay(base: &LabFiles, top: &LabFiles) -> LabFiles {
    let mut out = base.clone();
    out.extend(top.iter().map(|(k, v)| (k.clone(), v.clone())));
    out
}

fn variants(lab: &Lab, student: &Student) -> Result<Vec<Variant>, InputError> {
    let start = rendered(lab, "start/", student)?;
    let solution = overlay(&start, &rendered(lab, "solution/", student)?);
    let mut out = vec![
        Variant {
            name: "start".into(),
            files: start,
            must_fail: Vec::new(),
            all_fail: true,
        },
        Variant {
            name: "solution".into(),
            files: solution.clone(),
            must_fail: Vec::new(),
            all_fail: false,
        },
    ];
    for case in lab.wrong_cases() {
        let dir = format!("wrong/{case}/");
        let expect_name = lab.file_name(&format!("{dir}expect.yaml"));
        let bytes = lab
            .files
            .get(&format!("{dir}expect.yaml"))
            .ok_or_else(|| InputError::new(&expect_name, "missing"))?;
        let expect = parse_expect(&expect_name, bytes)?;
        let mut top = rendered(lab, &dir, student)?;
        top.remove("expect.yaml");
        let mut files = overlay(&solution, &top);
        for r in &expect.remove {
            if files.remove(r).is_none() {
                return Err(InputError::new(
                    &expect_name,
                    format!("remove: `{r}` is not a file of start/ + solution/"),
                ));
            }
        }
        out.push(Variant {
            name: format!("wrong/{case}"),
            files,
            must_fail: expect.fail,
            all_fail: false,
        });
    }
    for case in lab.alternative_cases() {
        let dir = format!("alternatives/{case}/");
        let mut top = rendered(lab, &dir, student)?;
        let about = match top.remove(ABOUT_FILE) {
            Some(bytes) => parse_about(&lab.file_name(&format!("{dir}{ABOUT_FILE}")), &bytes)?,
            None => crate::lab::AlternativeAbout::default(),
        };
        let mut files = solution.clone();
        for r in &about.remove {
            if files.remove(r).is_none() {
                return Err(InputError::new(
                    lab.file_name(&format!("{dir}{ABOUT_FILE}")),
                    format!("remove: `{r}` is not a file of start/ + solution/"),
                ));
            }
        }
        out.push(Variant {
            name: format!("alternatives/{case}"),
            files: overlay(&files, &top),
            must_fail: Vec::new(),
            all_fail: false,
        });
    }
    Ok(out)
}

/// A short account of why a task failed: its first error findings.
pub fn failure_summary(r: &TaskResult) -> String {
    let mut lines: Vec<String> = Vec::new();
    for c in &r.checks {
        if c.verdict.status != Status::Fail {
            continue;
        }
        for f in c
            .verdict
            .findings
            .iter()
            .filter(|f| f.severity == seclab_checkers::Severity::Error)
            .take(3)
        {
            let at = match (&f.source, f.line, f.col) {
                (Some(s), Some(l), Some(c)) => format!("{s}:{l}:{c}: "),
                (Some(s), _, _) => format!("{s}: "),
                _ => String::new(),
            };
            lines.push(format!("{}: {at}{}", c.checker, f.message));
        }
    }
    lines.join("; ")
}

/// Runs every case of one lab. An error means the lab's content is broken
/// (a template or expect.yaml), reported as input error.
pub fn run_lab(lab: &Lab) -> Result<Vec<Case>, InputError> {
    let student = Student::test();
    let mut cases = Vec::new();
    for v in variants(lab, &student)? {
        let snap = Snapshot::from_files(&v.files);
        for task in &lab.spec.tasks {
            let result = grade_task_with_images(task, &snap, None, Some(&lab.spec.images));
            let want_fail = v.all_fail || v.must_fail.contains(&task.id);
            let outcome = match (result.status, want_fail) {
                (Status::Fail, true) | (Status::Pass, false) => CaseOutcome::Passed,
                (Status::Skipped, _) => CaseOutcome::Skipped(result.skip_reasons().join("; ")),
                (Status::Pass, true) => CaseOutcome::Failed(if v.all_fail {
                    "passes in its start state: the student would get it for free".into()
                } else {
                    "passes, but this known-wrong attempt must fail it".into()
                }),
                (Status::Fail, false) => CaseOutcome::Failed(format!(
                    "fails but must pass: {}",
                    failure_summary(&result)
                )),
            };
            cases.push(Case {
                name: format!("{}/{}/{}", lab.spec.id, v.name, task.id),
                lab: lab.spec.id.clone(),
                outcome,
            });
        }
    }
    Ok(cases)
}

/// Counts of passed, failed and skipped cases.
pub fn counts(cases: &[Case]) -> (usize, usize, usize) {
    let mut c = (0, 0, 0);
    for case in cases {
        match case.outcome {
            CaseOutcome::Passed => c.0 += 1,
            CaseOutcome::Failed(_) => c.1 += 1,
            CaseOutcome::Skipped(_) => c.2 += 1,
        }
    }
    c
}
