//! Manifests named on the command line (`seclab scan ... PATH...`): files
//! or folders (recursive; `*.yaml`, `*.yml`, `*.json`), multi-document
//! YAML, JSON, and `List` kinds. Unlike a student's workspace, bad input
//! here is an error (`path:line:col: ...`, exit 2), never a guess.

use std::path::{Path, PathBuf};

use crate::error::InputError;
use crate::grade::Snapshot;
use crate::lab::LabFiles;

fn is_manifest_file(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
}

fn collect(p: &Path, out: &mut Vec<PathBuf>) -> Result<(), InputError> {
    if p.is_dir() {
        let entries = std::fs::read_dir(p).map_err(|e| {
            InputError::new(p.display().to_string(), format!("cannot read folder: {e}"))
        })?;
        let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        children.sort();
        for c in children {
            if c.is_dir() || is_manifest_file(&c) {
                collect(&c, out)?;
            }
        }
        Ok(())
    } else if p.is_file() {
        out.push(p.to_path_buf());
        Ok(())
    } else {
        Err(InputError::new(
            p.display().to_string(),
            "no such file or folder",
        ))
    }
}

/// The files `load_paths` reads: each path that is a file, and the
/// `*.yaml`, `*.yml` and `*.json` files below each folder (sorted).
pub fn manifest_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let mut files = Vec::new();
    for p in paths {
        collect(p, &mut files)?;
    }
    Ok(files)
}

/// Reads and parses every manifest below `paths`. Objects' `source` is the
/// file's path as the user would name it. Any file that does not parse is
/// an error.
pub fn load_paths(paths: &[PathBuf]) -> Result<Snapshot, InputError> {
    let files = manifest_files(paths)?;
    let mut tree = LabFiles::new();
    for f in files {
        let bytes = std::fs::read(&f)
            .map_err(|e| InputError::new(f.display().to_string(), format!("cannot read: {e}")))?;
        tree.insert(f.display().to_string(), bytes);
    }
    let mut snap = Snapshot::from_manifest_files(&tree);
    if !snap.problems.is_empty() {
        return Err(snap.problems.swap_remove(0));
    }
    Ok(snap)
}
