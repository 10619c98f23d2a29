//! `seclab scan pss [--level L] [--version V] [--output text|json] PATH...`:
//! every workload in the manifests named on the command line, evaluated
//! against a Pod Security Standards level exactly as the admission
//! controller would, with unknown-field warnings and `file:line:col` for
//! each violation and warning.
//!
//! Exit codes: 0 every workload allowed, 1 some violation, 2 bad input (a
//! file that does not parse, or a field of a type the API server would
//! reject, located as `path:line:col: ...`).

use std::fmt::Write as _;

use seclab_checkers::KubeObject;
use seclab_checkers::pss::{self, FieldWarning, Level, PssError, PssResult, Version, Violation};
use serde::Serialize;

use crate::cli::{Output, PssArgs};
use crate::error::{EXIT_FINDINGS, EXIT_OK, InputError, Outcome};
use crate::grade::Snapshot;
use crate::shell::manifests::load_paths;

/// One evaluated object, as the JSON output has it.
#[derive(Debug, Serialize)]
pub struct ObjectReport<'a> {
    /// The file the object came from.
    pub source: Option<&'a str>,
    /// Index of the document in that file (items of a List share it).
    pub doc: usize,
    /// The object's kind.
    pub kind: &'a str,
    /// `metadata.namespace`, when set.
    pub namespace: Option<&'a str>,
    /// `metadata.name`.
    pub name: &'a str,
    /// The level evaluated.
    pub level: Level,
    /// The version as requested (`latest` or `v1.N`).
    pub version: Version,
    /// The `v1.N` whose policy applied.
    pub resolved_version: Version,
    /// No check failed.
    pub allowed: bool,
    /// Upstream's aggregate message (without the `violates PodSecurity`
    /// prefix); empty when allowed.
    pub message: String,
    /// The failing checks, in upstream order.
    pub violations: Vec<LocatedViolation>,
    /// Unknown fields (and values whose type stopped that scan).
    pub warnings: Vec<LocatedWarning>,
}

/// A [`Violation`] with the position of its first path.
#[derive(Debug, Serialize)]
pub struct LocatedViolation {
    /// The upstream violation.
    #[serde(flatten)]
    pub violation: Violation,
    /// 1-based line of the first path (or its nearest existing parent).
    pub line: Option<usize>,
    /// 1-based column.
    pub col: Option<usize>,
}

/// A [`FieldWarning`] with its position.
#[derive(Debug, Serialize)]
pub struct LocatedWarning {
    /// The warning.
    #[serde(flatten)]
    pub warning: FieldWarning,
    /// 1-based line.
    pub line: Option<usize>,
    /// 1-based column.
    pub col: Option<usize>,
}

fn position(snap: &Snapshot, obj: &KubeObject, path: &str) -> (Option<usize>, Option<usize>) {
    match snap.position(obj, path) {
        Some(p) => (Some(p.line), Some(p.col)),
        None => (None, None),
    }
}

fn report<'a>(
    snap: &Snapshot,
    obj: &'a KubeObject,
    result: PssResult,
    level: Level,
    version: Version,
) -> ObjectReport<'a> {
    let message = result.message();
    let violations = result
        .violations
        .into_iter()
        .map(|v| {
            let (line, col) = v
                .paths
                .first()
                .map_or((None, None), |p| position(snap, obj, p));
            LocatedViolation {
                violation: v,
                line,
                col,
            }
        })
        .collect();
    let warnings = result
        .warnings
        .into_iter()
        .map(|w| {
            // An unknown field is about its name: point at the key.
            let (line, col) = snap
                .key_position(obj, &w.path)
                .map_or((None, None), |p| (Some(p.line), Some(p.col)));
            LocatedWarning {
                warning: w,
                line,
                col,
            }
        })
        .collect();
    ObjectReport {
        source: obj.source.as_deref(),
        doc: obj.doc,
        kind: obj.kind(),
        namespace: obj.namespace(),
        name: obj.name(),
        level,
        version,
        resolved_version: version.resolved(),
        allowed: result.allowed,
        message,
        violations,
        warnings,
    }
}

/// Evaluates every workload in `snap`. A document the API server would
/// reject is an input error located at the offending field.
pub fn evaluate_all(
    snap: &Snapshot,
    level: Level,
    version: Version,
) -> Result<Vec<ObjectReport<'_>>, InputError> {
    let mut out = Vec::new();
    for obj in &snap.objects {
        if obj.pod_template().is_none() {
            continue;
        }
        match pss::evaluate_with_warnings(&obj.value, level, version) {
            Ok(result) => out.push(report(snap, obj, result, level, version)),
            Err(e) => {
                let path = match &e {
                    PssError::Invalid { path, .. } => path.as_str(),
                    PssError::NotAWorkload { .. } => "kind",
                };
                let (line, col) = position(snap, obj, path);
                return Err(InputError {
                    path: obj.source.clone().unwrap_or_default(),
                    line,
                    col,
                    message: format!("{}/{}: {e}", obj.kind(), obj.name()),
                });
            }
        }
    }
    Ok(out)
}

fn at(source: Option<&str>, line: Option<usize>, col: Option<usize>) -> String {
    match (source, line, col) {
        (Some(s), Some(l), Some(c)) => format!("{s}:{l}:{c}"),
        (Some(s), _, _) => s.to_owned(),
        _ => String::from("?"),
    }
}

/// The text rendering: `PASS|FAIL Kind/name: message`, then one indented
/// line per violation and per warning with its `file:line:col`.
pub fn render_text(reports: &[ObjectReport<'_>]) -> String {
    let mut s = String::new();
    for r in reports {
        if r.allowed {
            let _ = writeln!(
                s,
                "PASS {}/{}: allowed by {}:{}",
                r.kind, r.name, r.level, r.version
            );
        } else {
            let _ = writeln!(s, "FAIL {}/{}: {}", r.kind, r.name, r.message);
            for v in &r.violations {
                let _ = writeln!(
                    s,
                    "  {}: {}",
                    at(r.source, v.line, v.col),
                    v.violation.message()
                );
            }
        }
        for w in &r.warnings {
            let _ = writeln!(
                s,
                "  warning: {}: {}",
                at(r.source, w.line, w.col),
                w.warning.message
            );
        }
    }
    s
}

/// `seclab scan pss`.
pub fn run(args: &PssArgs) -> anyhow::Result<Outcome> {
    let snap = load_paths(&args.paths)?;
    let reports = evaluate_all(&snap, args.level, args.version)?;
    match args.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&reports)?),
        Output::Text => print!("{}", render_text(&reports)),
    }
    let skipped = snap.objects.len() - reports.len();
    let failing = reports.iter().filter(|r| !r.allowed).count();
    if reports.is_empty() {
        eprintln!("no workloads found ({skipped} other objects skipped)");
    } else if args.output == Output::Text {
        eprintln!(
            "{} workloads at {}:{} (policy {}): {} allowed, {failing} violating; {skipped} other objects skipped",
            reports.len(),
            args.level,
            args.version,
            args.version.resolved(),
            reports.len() - failing,
        );
    }
    Ok(Outcome(if failing == 0 { EXIT_OK } else { EXIT_FINDINGS }))
}
