//! JUnit XML for CI systems: one `<testsuite>` per lab (or per group), one
//! `<testcase>` per case, written with `quick-junit`.

use std::path::Path;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

/// One JUnit test case: its suite, name and outcome.
#[derive(Debug, Clone)]
pub struct JunitCase {
    /// The suite (e.g. the lab id).
    pub suite: String,
    /// The case name.
    pub name: String,
    /// `None` = passed; `Some((true, msg))` = failed; `Some((false, msg))` = skipped.
    pub problem: Option<(bool, String)>,
}

/// Writes the report to `path`.
pub fn write(path: &Path, report_name: &str, cases: &[JunitCase]) -> anyhow::Result<()> {
    let mut report = Report::new(report_name);
    let mut suites: Vec<TestSuite> = Vec::new();
    for c in cases {
        let status = match &c.problem {
            None => TestCaseStatus::success(),
            Some((true, msg)) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(msg.clone());
                s
            }
            Some((false, msg)) => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(msg.clone());
                s
            }
        };
        let case = TestCase::new(c.name.clone(), status);
        match suites
            .iter_mut()
            .find(|s| s.name.as_str() == c.suite.as_str())
        {
            Some(s) => {
                s.add_test_case(case);
            }
            None => {
                let mut s = TestSuite::new(c.suite.clone());
                s.add_test_case(case);
                suites.push(s);
            }
        }
    }
    report.add_test_suites(suites);
    let xml = report.to_string()?;
    std::fs::write(path, xml)
        .map_err(|e| anyhow::anyhow!("{}: cannot write JUnit report: {e}", path.display()))
}
