//! `seclab scan trivy [--output text|json] [--fail-on SEVERITY] REPORT...`:
//! trivy JSON reports summarised — vulnerabilities by severity for each
//! report and each of its results, failed misconfigurations, secrets.
//!
//! The JSON output is always an array, one
//! [`seclab_checkers::trivy::Summary`] per report, in the order given.
//! Exit codes: 0 every report parsed (1 with `--fail-on` when some finding
//! is at or above it), 2 a report that does not parse: every such report
//! is named on stderr as `path:line:col: ...` and nothing is printed on
//! stdout.

use std::fmt::Write as _;

use seclab_checkers::trivy::{self, Report, Severity, Summary, Totals};

use crate::cli::{Output, TrivyArgs};
use crate::error::{EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, InputError, Outcome};

/// Reads and parses one report file; `name` is how errors name it.
///
/// # Errors
/// The file cannot be read, is not UTF-8, or is not a trivy report.
pub fn load(path: &std::path::Path) -> Result<Report, InputError> {
    let name = path.display().to_string();
    let bytes =
        std::fs::read(path).map_err(|e| InputError::new(&name, format!("cannot read: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|_| InputError::new(&name, "not UTF-8 text"))?;
    trivy::parse(&name, &text).map_err(|e| InputError {
        path: e.path,
        line: e.line,
        col: e.col,
        message: e.message,
    })
}

/// The severity columns of the text table, most severe first.
fn counts(t: &Totals) -> String {
    let mut s = String::new();
    for sev in Severity::ALL {
        let _ = write!(s, "{:>10}", t.get(sev));
    }
    s
}

/// The text rendering: per report a heading, its totals, then one row per
/// result (target, class, type, counts by severity).
pub fn render_text(summaries: &[Summary]) -> String {
    let mut s = String::new();
    for (i, sum) in summaries.iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        let schema = sum.schema_version.map_or_else(
            || "no schema version".to_string(),
            |v| format!("schema v{v}"),
        );
        let _ = writeln!(
            s,
            "{}: {} ({schema})",
            sum.source,
            sum.artifact.as_deref().unwrap_or("(no artifact name)")
        );
        let rows: Vec<[String; 3]> = sum
            .results
            .iter()
            .map(|r| {
                [
                    r.target.clone().unwrap_or_else(|| "-".into()),
                    r.class.clone().unwrap_or_else(|| "-".into()),
                    r.kind.clone().unwrap_or_else(|| "-".into()),
                ]
            })
            .collect();
        let width = |i: usize, head: &str| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([head.len(), "total".len()])
                .max()
                .unwrap_or(0)
        };
        let (wt, wc, wk) = (width(0, "TARGET"), width(1, "CLASS"), width(2, "TYPE"));
        let mut heads = String::new();
        for sev in Severity::ALL {
            let _ = write!(heads, "{:>10}", sev.as_str());
        }
        let _ = writeln!(
            s,
            "  {:wt$}  {:wc$}  {:wk$}{heads}",
            "TARGET", "CLASS", "TYPE"
        );
        for (row, r) in rows.iter().zip(&sum.results) {
            let _ = writeln!(
                s,
                "  {:wt$}  {:wc$}  {:wk$}{}",
                row[0],
                row[1],
                row[2],
                counts(&r.totals)
            );
        }
        let _ = writeln!(
            s,
            "  {:wt$}  {:wc$}  {:wk$}{}",
            "total",
            "",
            "",
            counts(&sum.totals)
        );
        let _ = writeln!(
            s,
            "  {} vulnerabilities, {} failed misconfigurations, {} secrets",
            sum.totals.total(),
            sum.misconfigurations,
            sum.secrets
        );
    }
    s
}

/// `seclab scan trivy`.
pub fn run(args: &TrivyArgs) -> anyhow::Result<Outcome> {
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    for path in &args.reports {
        match load(path) {
            Ok(r) => reports.push((path.display().to_string(), r)),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        for e in &errors {
            eprintln!("{e}");
            if let Some(snippet) = e.snippet() {
                eprint!("{snippet}");
            }
        }
        return Ok(Outcome(EXIT_USAGE));
    }
    let summaries: Vec<Summary> = reports
        .iter()
        .map(|(source, r)| Summary::of(source, r))
        .collect();
    match args.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&summaries)?),
        Output::Text => print!("{}", render_text(&summaries)),
    }
    let failing = args.fail_on.is_some_and(|threshold| {
        reports
            .iter()
            .any(|(_, r)| trivy::summary::any_at_or_above(r, threshold))
    });
    Ok(Outcome(if failing { EXIT_FINDINGS } else { EXIT_OK }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lists_every_result_and_the_totals() {
        let r = trivy::parse(
            "r.json",
            r#"{"SchemaVersion": 2, "ArtifactName": "app:1", "Results": [
              {"Target": "app:1 (debian 12.5)", "Class": "os-pkgs", "Type": "debian",
               "Vulnerabilities": [{"Severity": "HIGH"}, {"Severity": "HIGH"}]},
              {"Target": "x/.env", "Class": "secret", "Secrets": [{"Severity": "HIGH"}]}]}"#,
        )
        .expect("parses");
        let text = render_text(&[Summary::of("r.json", &r)]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "r.json: app:1 (schema v2)");
        assert!(
            lines[1].contains("TARGET") && lines[1].contains("CRITICAL"),
            "{text}"
        );
        let os: Vec<&str> = lines[2].split_whitespace().collect();
        assert_eq!(os[..4], ["app:1", "(debian", "12.5)", "os-pkgs"], "{text}");
        assert_eq!(os[5..], ["0", "2", "0", "0", "0"], "{text}");
        assert!(
            lines[3].contains("secret") && lines[3].contains(" - "),
            "{text}"
        );
        assert!(lines[4].trim_start().starts_with("total"), "{text}");
        assert_eq!(
            lines[5].trim(),
            "2 vulnerabilities, 0 failed misconfigurations, 1 secrets"
        );
    }
}
