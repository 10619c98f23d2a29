//! The student's progress: per lab and task — status, attempts, hints
//! revealed, first-pass time — plus the student id and each lab's content
//! hash, so progress recorded against a changed lab shows as stale instead
//! of lying. Transitions are plain methods; the file is format-versioned
//! JSON written atomically (temp file, fsync, rename); a corrupt file is
//! moved aside with a message, never a crash.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use seclab_checkers::Status;
use serde::{Deserialize, Serialize};

/// The progress file format this seclab writes.
pub const PROGRESS_VERSION: u32 = 1;

/// What is known about one task.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// Never graded.
    #[default]
    NotTried,
    /// Last grading passed.
    Passed,
    /// Last grading failed.
    Failed,
    /// Last grading could not decide (evidence missing).
    Skipped,
}

impl From<Status> for TaskState {
    fn from(s: Status) -> Self {
        match s {
            Status::Pass => TaskState::Passed,
            Status::Fail => TaskState::Failed,
            Status::Skipped => TaskState::Skipped,
        }
    }
}

/// One task's progress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskProgress {
    /// The last grading's outcome.
    pub state: TaskState,
    /// How many times it was graded.
    pub attempts: u32,
    /// How many hints were revealed.
    pub hints_revealed: u32,
    /// When it first passed (seconds since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_passed_unix: Option<u64>,
    /// Recorded against an older version of the lab.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stale: bool,
    /// A digest of the inputs the last grading read (the task's answers and
    /// files): a grading of the same inputs is not another attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<String>,
}

/// One lab's progress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabProgress {
    /// The lab content hash the progress was recorded against.
    pub content_hash: String,
    /// The workspace's absolute path, once started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<PathBuf>,
    /// Per task.
    #[serde(default)]
    pub tasks: BTreeMap<String, TaskProgress>,
}

/// All progress of one student.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Always [`PROGRESS_VERSION`].
    pub format_version: u32,
    /// The student id the progress belongs to.
    pub student: String,
    /// Per lab.
    #[serde(default)]
    pub labs: BTreeMap<String, LabProgress>,
}

impl Progress {
    /// Empty progress for a student.
    pub fn new(student: &str) -> Self {
        Self {
            format_version: PROGRESS_VERSION,
            student: student.to_string(),
            labs: BTreeMap::new(),
        }
    }

    /// The lab's entry, created when missing; when the lab's content changed
    /// since, every task is marked stale and the hash moves on.
    pub fn lab_mut(&mut self, lab: &str, content_hash: &str) -> &mut LabProgress {
        let entry = self
            .labs
            .entry(lab.to_string())
            .or_insert_with(|| LabProgress {
                content_hash: content_hash.to_string(),
                ..LabProgress::default()
            });
        if entry.content_hash != content_hash {
            for t in entry.tasks.values_mut() {
                t.stale = true;
            }
            entry.content_hash = content_hash.to_string();
        }
        entry
    }

    /// Whether recorded progress for this lab predates its current content.
    pub fn is_stale(&self, lab: &str, content_hash: &str) -> bool {
        self.labs
            .get(lab)
            .is_some_and(|l| l.content_hash != content_hash || l.tasks.values().any(|t| t.stale))
    }
}

impl LabProgress {
    /// Records a grading of `task` at `now` (Unix seconds).
    pub fn record(&mut self, task: &str, status: Status, now: u64) {
        self.record_inputs(task, status, now, None);
    }

    /// Records a grading of `task` whose inputs have the digest `inputs`:
    /// an attempt is counted only when they differ from the last grading's
    /// (a watch re-grading every task at every save counts only the tasks
    /// whose answers or files changed). `None` always counts.
    pub fn record_inputs(&mut self, task: &str, status: Status, now: u64, inputs: Option<&str>) {
        let t = self.tasks.entry(task.to_string()).or_default();
        let same = inputs.is_some() && t.inputs.as_deref() == inputs;
        if !same {
            t.attempts += 1;
        }
        if let Some(i) = inputs {
            t.inputs = Some(i.to_owned());
        }
        t.state = status.into();
        t.stale = false;
        if status == Status::Pass && t.first_passed_unix.is_none() {
            t.first_passed_unix = Some(now);
        }
    }

    /// Reveals the next hint of `task` (of `total`); returns its index, or
    /// `None` when all are revealed.
    pub fn reveal_hint(&mut self, task: &str, total: usize) -> Option<usize> {
        let t = self.tasks.entry(task.to_string()).or_default();
        let next = t.hints_revealed as usize;
        if next >= total {
            return None;
        }
        t.hints_revealed += 1;
        Some(next)
    }

    /// How many hints of `task` are revealed.
    pub fn hints(&self, task: &str) -> usize {
        self.tasks
            .get(task)
            .map_or(0, |t| t.hints_revealed as usize)
    }

    /// The state of `task`.
    pub fn state(&self, task: &str) -> TaskState {
        self.tasks
            .get(task)
            .map_or(TaskState::NotTried, |t| t.state)
    }
}

/// The progress file in a state dir.
pub fn progress_path(state: &Path) -> PathBuf {
    state.join("progress.json")
}

/// Loads progress. A missing file is empty progress; a corrupt one is
/// moved aside (`progress.json.corrupt-<unix time>`) with a message on
/// stderr, and empty progress is returned.
pub fn load(state: &Path, student: &str, now: u64) -> anyhow::Result<Progress> {
    let path = progress_path(state);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Progress::new(student)),
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read", path.display())),
    };
    match serde_json::from_str::<Progress>(&text) {
        Ok(p) if p.format_version == PROGRESS_VERSION => Ok(p),
        Ok(p) => anyhow::bail!(
            "{}: progress format_version {} is newer than this seclab reads ({PROGRESS_VERSION}); upgrade seclab",
            path.display(),
            p.format_version
        ),
        Err(e) => {
            let aside = path.with_extension(format!("json.corrupt-{now}"));
            std::fs::rename(&path, &aside).with_context(|| {
                format!("{}: corrupt, and cannot be moved aside", path.display())
            })?;
            eprintln!(
                "warning: {} was corrupt ({e}); moved it to {} and started fresh",
                path.display(),
                aside.display()
            );
            Ok(Progress::new(student))
        }
    }
}

/// Saves progress atomically.
pub fn save(state: &Path, progress: &Progress) -> anyhow::Result<()> {
    std::fs::create_dir_all(state)
        .with_context(|| format!("{}: cannot create", state.display()))?;
    let mut json = serde_json::to_vec_pretty(progress)?;
    json.push(b'\n');
    write_atomic(&progress_path(state), &json)
}

/// Writes `bytes` to `path` so that a reader sees the old file or the new
/// one, never a mix: temp file in the same folder, fsync, rename, fsync
/// the folder.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(dir) {
            // Not all platforms can fsync a directory; the rename stands.
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("{}: cannot write", path.display()))
}

/// Seconds since the Unix epoch, now.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_pass_time_sticks_and_attempts_count() {
        let mut p = Progress::new("s");
        let lab = p.lab_mut("l", "h1");
        lab.record("t", Status::Fail, 10);
        lab.record("t", Status::Pass, 20);
        lab.record("t", Status::Fail, 30);
        lab.record("t", Status::Pass, 40);
        let t = &lab.tasks["t"];
        assert_eq!(
            (t.attempts, t.first_passed_unix, t.state),
            (4, Some(20), TaskState::Passed)
        );
    }

    #[test]
    fn changed_lab_marks_progress_stale_until_regraded() {
        let mut p = Progress::new("s");
        p.lab_mut("l", "h1").record("t", Status::Pass, 1);
        assert!(!p.is_stale("l", "h1"));
        assert!(p.is_stale("l", "h2"));
        p.lab_mut("l", "h2");
        assert!(p.labs["l"].tasks["t"].stale);
        assert!(p.is_stale("l", "h2"));
        p.lab_mut("l", "h2").record("t", Status::Pass, 2);
        assert!(!p.is_stale("l", "h2"));
    }

    #[test]
    fn hints_reveal_in_order_and_stop() {
        let mut p = Progress::new("s");
        let lab = p.lab_mut("l", "h");
        assert_eq!(lab.reveal_hint("t", 2), Some(0));
        assert_eq!(lab.reveal_hint("t", 2), Some(1));
        assert_eq!(lab.reveal_hint("t", 2), None);
        assert_eq!(lab.hints("t"), 2);
    }

    #[test]
    fn corrupt_file_is_moved_aside() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(progress_path(dir.path()), "{ not json").expect("write");
        let p = load(dir.path(), "s", 99).expect("recovers");
        assert!(p.labs.is_empty());
        assert!(dir.path().join("progress.json.corrupt-99").is_file());
        assert!(!progress_path(dir.path()).exists());
    }

    #[test]
    fn save_then_load_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut p = Progress::new("s");
        p.lab_mut("l", "h").record("t", Status::Pass, 5);
        save(dir.path(), &p).expect("save");
        assert_eq!(load(dir.path(), "s", 0).expect("load"), p);
    }
}
