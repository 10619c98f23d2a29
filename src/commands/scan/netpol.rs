//! `seclab scan netpol [--output matrix|connlist|json] [--expect FILE]
//! PATH...`: which workloads the NetworkPolicies in the manifests let
//! connect to which, drawn as a matrix, listed as np-guard's connlist, or
//! as JSON; compared with an expected connection list when one is given.
//!
//! Exit 0 when the manifests match the expectation (or none was given), 1
//! when they differ, 2 on bad input (`path:line:col: NetworkPolicy
//! ns/name: ...`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use seclab_checkers::KubeObject;
use serde_json::Value;

use seclab_checkers::netpol::{
    Cluster, ConnList, Diff, Expectation, NetpolError, Note, diff, matrix, parse_connlist,
};

use crate::cli::{NetpolArgs, NetpolOutput};
use crate::error::{InputError, Outcome};
use crate::grade::Snapshot;
use crate::shell::manifests::{load_paths, manifest_files};

/// What a scan printed and whether it matched.
#[derive(Debug)]
struct Scan {
    /// For stdout.
    out: String,
    /// For stderr: notes and an account of the differences.
    err: String,
    /// No expectation, or the manifests match it.
    ok: bool,
}

/// Runs `scan netpol`: prints the result, returns the exit code.
pub fn run(args: &NetpolArgs) -> anyhow::Result<Outcome> {
    match scan(args) {
        Ok(s) => {
            print!("{}", s.out);
            eprint!("{}", s.err);
            Ok(Outcome::from_ok(s.ok))
        }
        // Located: main prints `path:line:col: ...` and exits 2.
        Err(e) => Err(e.into()),
    }
}

fn read_expectation(path: &Path) -> Result<Expectation, InputError> {
    let name = path.display().to_string();
    let bytes =
        std::fs::read(path).map_err(|e| InputError::new(&name, format!("cannot read: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|_| InputError::new(&name, "not UTF-8 text"))?;
    parse_connlist(&text).map_err(|e| match e {
        NetpolError::Connlist { line, message } => InputError {
            path: name.clone(),
            line: Some(line),
            col: None,
            message,
        },
        other @ NetpolError::Invalid { .. } => InputError::new(&name, other.to_string()),
    })
}

/// A malformed policy (or workload port), located in its file.
fn locate(snap: &Snapshot, e: &NetpolError) -> InputError {
    let NetpolError::Invalid {
        object,
        file: Some(file),
        doc,
        path,
        message,
    } = e
    else {
        return InputError::new("<input>", e.to_string());
    };
    // `Kind ns/name`: a NetworkPolicy, or a workload with a bad port name.
    let same = |o: &&KubeObject| {
        o.source.as_deref() == Some(file.as_str())
            && format!(
                "{} {}/{}",
                o.kind(),
                o.namespace().unwrap_or("default"),
                o.name()
            ) == *object
    };
    // The document the engine named, else the first of that name.
    let obj = snap
        .objects
        .iter()
        .filter(same)
        .find(|o| doc.is_none_or(|d| d == o.doc))
        .or_else(|| snap.objects.iter().find(same));
    let pos = obj.and_then(|o| snap.position(o, path));
    InputError {
        path: file.clone(),
        line: pos.map(|p| p.line),
        col: pos.map(|p| p.col),
        message: format!("{object}: {message} in {path}"),
    }
}

/// Notes for people: kinds that play no part are counted, not listed.
fn notes_text(notes: &[Note]) -> String {
    let mut s = String::new();
    let mut ignored: Vec<&str> = Vec::new();
    for n in notes {
        if n.message
            .contains("does not affect NetworkPolicy reachability")
        {
            ignored.push(n.object.split(' ').next().unwrap_or(""));
        } else {
            let _ = writeln!(s, "note: {}: {}", n.object, n.message);
        }
    }
    if !ignored.is_empty() {
        let count = ignored.len();
        ignored.sort_unstable();
        ignored.dedup();
        let _ = writeln!(
            s,
            "note: ignored {count} object(s) of kinds that do not affect reachability ({})",
            ignored.join(", ")
        );
    }
    s
}

fn diff_text(file: &Path, diffs: &[Diff]) -> String {
    let mut s = String::new();
    let spell = |c: &seclab_checkers::netpol::ConnSet| {
        if c.is_empty() {
            "no connection".to_owned()
        } else {
            c.to_string()
        }
    };
    let _ = writeln!(s, "{} pair(s) differ from {}:", diffs.len(), file.display());
    for d in diffs {
        let _ = writeln!(
            s,
            "  {} => {}: expected {}, got {}",
            d.src,
            d.dst,
            spell(&d.expected),
            spell(&d.actual)
        );
    }
    s
}

fn render(args: &NetpolArgs, list: &ConnList, expected: Option<&Expectation>) -> String {
    match args.output {
        NetpolOutput::Matrix => matrix::render(&matrix::build(list, expected), args.width),
        NetpolOutput::Connlist => list.to_connlist_text(),
        NetpolOutput::Json => {
            let report = matrix::Report::new(list, expected);
            let mut s = serde_json::to_string_pretty(&report).unwrap_or_default();
            s.push('\n');
            s
        }
    }
}

/// Reads the manifests without field positions: JSON with serde_json,
/// YAML into plain values (`List` kinds are left to the engine, which
/// expands them). `None` when a file does not parse — the strict loader
/// then says where. Positions are only worth their cost for an error.
fn quick_load(paths: &[PathBuf]) -> Result<Option<Vec<KubeObject>>, InputError> {
    let mut objects = Vec::new();
    for f in manifest_files(paths)? {
        let name = f.display().to_string();
        let text = std::fs::read_to_string(&f)
            .map_err(|e| InputError::new(&name, format!("cannot read: {e}")))?;
        let is_json = f.extension().is_some_and(|e| e == "json");
        let docs: Vec<Value> = if is_json {
            match serde_json::from_str(&text) {
                Ok(v) => vec![v],
                Err(_) => return Ok(None),
            }
        } else {
            match serde_saphyr::from_multiple::<Option<Value>>(&text) {
                Ok(docs) => docs.into_iter().flatten().collect(),
                Err(_) => return Ok(None),
            }
        };
        // Numbered as the strict loader numbers them: empty documents skipped.
        for (doc, value) in docs.into_iter().filter(|v| !v.is_null()).enumerate() {
            if !value.is_object() {
                return Ok(None);
            }
            objects.push(KubeObject {
                source: Some(name.clone()),
                doc,
                value,
            });
        }
    }
    Ok(Some(objects))
}

fn scan(args: &NetpolArgs) -> Result<Scan, InputError> {
    let expected = args.expect.as_deref().map(read_expectation).transpose()?;
    let objects = match quick_load(&args.paths)? {
        Some(objects) => objects,
        None => load_paths(&args.paths)?.objects,
    };
    let (cluster, notes) = match Cluster::from_objects(&objects) {
        Ok(x) => x,
        Err(e) => return Err(locate(&load_paths(&args.paths)?, &e)),
    };
    let list = cluster.connections();
    let out = render(args, &list, expected.as_ref());
    let mut err = String::new();
    if args.output == NetpolOutput::Matrix {
        err.push_str(&notes_text(&notes));
    }
    let mut ok = true;
    if let (Some(e), Some(file)) = (&expected, &args.expect) {
        let diffs = diff(e, &list.to_expectation());
        ok = diffs.is_empty();
        // The matrix and JSON show the differences themselves.
        if !ok && args.output == NetpolOutput::Connlist {
            err.push_str(&diff_text(file, &diffs));
        }
    }
    Ok(Scan { out, err, ok })
}
