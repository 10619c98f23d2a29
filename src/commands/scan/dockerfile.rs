//! `seclab scan dockerfile [--output text|json] PATH...`: lints
//! Dockerfiles with [`seclab_checkers::dockerfile`]'s rules.
//!
//! Text: one `path:line:col: RULE level: message` line per hit. JSON: an
//! array of `{file, line, column, code, level, message}` objects, the shape
//! of hadolint's `-f json`, so the two can be compared. Exit codes: 0 no
//! hit, 1 some hit, 2 bad input (unreadable, not UTF-8, or a parse error at
//! `path:line:col`).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use seclab_checkers::dockerfile::{Hit, Level, lint_text};
use serde::Serialize;

use crate::cli::{DockerfileArgs, Output};
use crate::error::{EXIT_FINDINGS, EXIT_OK, InputError, Outcome};

/// One hit in the JSON output.
#[derive(Debug, Serialize)]
pub struct JsonHit<'a> {
    /// The file, as named on the command line (or found in a folder).
    pub file: &'a str,
    /// 1-based line of the instruction.
    pub line: usize,
    /// 1-based column of the instruction.
    pub column: usize,
    /// The rule id.
    pub code: &'a str,
    /// `error`, `warning`, `info` or `style`.
    pub level: Level,
    /// What is wrong.
    pub message: &'a str,
}

/// Whether a file name is a Dockerfile's.
pub fn is_dockerfile_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "dockerfile"
        || lower.starts_with("dockerfile.")
        || lower.ends_with(".dockerfile")
        || lower == "containerfile"
}

/// The files to lint: each file path as given, and the Dockerfiles found
/// in each folder (recursive, sorted).
fn files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("{}: cannot read the folder", dir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out)?;
            } else if p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(is_dockerfile_name)
            {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Lints one file: its hits, or a located input error.
pub fn lint_file(path: &Path) -> Result<Vec<Hit>, InputError> {
    let name = path.display().to_string();
    let bytes =
        std::fs::read(path).map_err(|e| InputError::new(&name, format!("cannot read: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| InputError::new(&name, "not UTF-8 text, so not a Dockerfile"))?;
    lint_text(&text).map_err(|e| InputError {
        path: name.clone(),
        line: Some(e.line),
        col: Some(e.col),
        message: e.message,
    })
}

/// `seclab scan dockerfile`.
pub fn run(args: &DockerfileArgs) -> anyhow::Result<Outcome> {
    let mut all: Vec<(String, Vec<Hit>)> = Vec::new();
    let files = files(&args.paths)?;
    if files.is_empty() {
        return Err(InputError::new(
            args.paths
                .first()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            "no Dockerfile found (looked for Dockerfile, Dockerfile.*, *.Dockerfile)",
        )
        .into());
    }
    for f in &files {
        let hits = lint_file(f)?;
        all.push((f.display().to_string(), hits));
    }
    let count: usize = all.iter().map(|(_, h)| h.len()).sum();
    match args.output {
        Output::Json => {
            let rows: Vec<JsonHit<'_>> = all
                .iter()
                .flat_map(|(file, hits)| {
                    hits.iter().map(move |h| JsonHit {
                        file,
                        line: h.line,
                        column: h.column,
                        code: h.code,
                        level: h.level,
                        message: &h.message,
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&rows)?);
        }
        Output::Text => {
            for (file, hits) in &all {
                for h in hits {
                    println!(
                        "{file}:{}:{}: {} {}: {}",
                        h.line,
                        h.column,
                        h.code,
                        h.level.as_str(),
                        h.message
                    );
                }
            }
            eprintln!("{} Dockerfiles, {count} findings", files.len());
        }
    }
    Ok(Outcome(if count == 0 { EXIT_OK } else { EXIT_FINDINGS }))
}
