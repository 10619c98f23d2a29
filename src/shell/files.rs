//! The student's workspace on disk: create it from a lab's rendered
//! `start/`, reset it (all of it, or one task's files) after a backup, read
//! it back for grading, and write `answers.yaml`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde_json::Value;

use crate::grade::ANSWERS_FILE;
use crate::lab::LabFiles;
use crate::lab::load::read_tree;

/// Writes `files` under `root`, creating folders.
pub fn write_tree(root: &Path, files: &LabFiles) -> anyhow::Result<()> {
    for (rel, bytes) in files {
        let p = root.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("{}: cannot create", parent.display()))?;
        }
        std::fs::write(&p, bytes).with_context(|| format!("{}: cannot write", p.display()))?;
    }
    Ok(())
}

/// Whether a folder exists and has anything in it.
pub fn non_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some())
}

/// Creates the workspace at `root` from `start`. Refuses to touch a
/// non-empty folder unless `force`, and then backs it up first (into
/// `backup_root`), returning the backup's path.
pub fn create(
    root: &Path,
    start: &LabFiles,
    force: bool,
    backup_root: &Path,
) -> anyhow::Result<Option<PathBuf>> {
    let mut backup = None;
    if non_empty(root) {
        if !force {
            anyhow::bail!(
                "{} already exists and has files; seclab never overwrites your edits. Use --force to start over (a backup is kept), or `seclab reset`.",
                root.display()
            );
        }
        backup = Some(backup_tree(root, backup_root)?);
        std::fs::remove_dir_all(root)
            .with_context(|| format!("{}: cannot clear", root.display()))?;
    }
    std::fs::create_dir_all(root).with_context(|| format!("{}: cannot create", root.display()))?;
    write_tree(root, start)?;
    Ok(backup)
}

/// Copies the workspace into a new, time-stamped folder under
/// `backup_root`; returns it.
pub fn backup_tree(root: &Path, backup_root: &Path) -> anyhow::Result<PathBuf> {
    let files = read_tree(root).map_err(|e| anyhow::anyhow!("{e}"))?;
    let stamp = crate::progress::now_unix();
    let mut dest = backup_root.join(stamp.to_string());
    let mut n = 1;
    while dest.exists() {
        dest = backup_root.join(format!("{stamp}-{n}"));
        n += 1;
    }
    std::fs::create_dir_all(&dest).with_context(|| format!("{}: cannot create", dest.display()))?;
    write_tree(&dest, &files)?;
    Ok(dest)
}

/// The newest backup under `backup_root` (folders named by their Unix
/// time, `-N` for a second one in the same second), if any.
pub fn latest_backup(backup_root: &Path) -> anyhow::Result<Option<PathBuf>> {
    let entries = match std::fs::read_dir(backup_root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read", backup_root.display())),
    };
    let order = |name: &str| -> Option<(u64, u64)> {
        let (stamp, n) = name.split_once('-').unwrap_or((name, "0"));
        Some((stamp.parse().ok()?, n.parse().ok()?))
    };
    let mut best: Option<((u64, u64), PathBuf)> = None;
    for e in entries {
        let e = e.with_context(|| format!("{}: cannot read", backup_root.display()))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(key) = order(&name).filter(|_| e.path().is_dir())
            && best.as_ref().is_none_or(|(k, _)| key > *k)
        {
            best = Some((key, e.path()));
        }
    }
    Ok(best.map(|(_, p)| p))
}

/// Replaces the workspace at `root` with the backup `from`, after backing
/// the workspace up (when it exists); returns that new backup.
pub fn restore(root: &Path, from: &Path, backup_root: &Path) -> anyhow::Result<PathBuf> {
    let files = read_tree(from).map_err(|e| anyhow::anyhow!("{e}"))?;
    let backup = if root.is_dir() {
        let b = backup_tree(root, backup_root)?;
        std::fs::remove_dir_all(root)
            .with_context(|| format!("{}: cannot clear", root.display()))?;
        b
    } else {
        from.to_path_buf()
    };
    std::fs::create_dir_all(root).with_context(|| format!("{}: cannot create", root.display()))?;
    write_tree(root, &files)?;
    Ok(backup)
}

/// Restores `paths` (or every start file when `None`) from `start`, after
/// backing the workspace up. Files the student added are kept, except on a
/// full reset, which removes them too. Returns the backup's path.
pub fn reset(
    root: &Path,
    start: &LabFiles,
    paths: Option<&[String]>,
    backup_root: &Path,
) -> anyhow::Result<PathBuf> {
    if !root.is_dir() {
        anyhow::bail!("{} does not exist; start the lab first", root.display());
    }
    let backup = backup_tree(root, backup_root)?;
    match paths {
        None => {
            std::fs::remove_dir_all(root)
                .with_context(|| format!("{}: cannot clear", root.display()))?;
            std::fs::create_dir_all(root)?;
            write_tree(root, start)?;
        }
        Some(paths) => {
            let subset: LabFiles = start
                .iter()
                .filter(|(p, _)| {
                    paths
                        .iter()
                        .any(|want| want == *p || p.starts_with(&format!("{want}/")))
                })
                .map(|(p, b)| (p.clone(), b.clone()))
                .collect();
            write_tree(root, &subset)?;
        }
    }
    Ok(backup)
}

/// Reads the workspace for grading.
pub fn read_workspace(root: &Path) -> anyhow::Result<LabFiles> {
    if !root.is_dir() {
        anyhow::bail!(
            "{} does not exist; run `seclab start <lab>` first",
            root.display()
        );
    }
    read_tree(root).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Sets `task`.`question` = `value` in the workspace's `answers.yaml`,
/// keeping the other answers.
pub fn write_answer(root: &Path, task: &str, question: &str, value: Value) -> anyhow::Result<()> {
    let path = root.join(ANSWERS_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read", path.display())),
    };
    let mut all = crate::yaml::parse_documents(&path.display().to_string(), &text)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .pop()
        .map_or(Value::Null, |d| d.value);
    // The student's file as they wrote it, comments and all, with one
    // value changed; only a layout that cannot be edited in place is
    // written anew from the parsed answers.
    let out = match crate::answers::set_answer(&text, task, question, &value) {
        Some(edited) => edited,
        None => {
            crate::answers::merge(&mut all, task, question, value);
            serde_saphyr::to_string(&all).context("cannot write answers as YAML")?
        }
    };
    crate::progress::write_atomic(&path, out.as_bytes())
}
