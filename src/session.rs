//! The student's operations, shared by the CLI (`commands::student`) and
//! the TUI (`runtime`): load progress, find and create the workspace,
//! reset it, grade it and record the result, reveal hints, record answers.
//! Nothing here prints; callers decide how to tell the student.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde_json::Value;

use crate::config;
use crate::grade::{Snapshot, TaskResult};
use crate::lab::validate::rendered;
use crate::lab::{Lab, TaskSpec};
use crate::progress::{self, Progress, now_unix};
use crate::shell::files;

/// The state directory (see [`crate::config::state_dir`]).
pub fn state() -> anyhow::Result<PathBuf> {
    config::state_dir()
}

/// Loads the student's progress from the state dir, re-owned by the
/// current student id.
pub fn load_progress(state: &Path) -> anyhow::Result<(Progress, crate::lab::Student)> {
    let student = config::student(state)?;
    let mut p = progress::load(state, &student.id, now_unix())?;
    if p.student != student.id {
        // Progress belongs to one student; a new id starts a new record.
        eprintln!(
            "note: progress was recorded for `{}`; now recording for `{}`",
            p.student, student.id
        );
        p.student.clone_from(&student.id);
    }
    Ok((p, student))
}

/// The task `id` of `lab`, or an error listing the tasks there are.
pub fn task<'a>(lab: &'a Lab, id: &str) -> anyhow::Result<&'a TaskSpec> {
    lab.spec.task(id).ok_or_else(|| {
        anyhow::anyhow!(
            "lab `{}` has no task `{id}`; tasks: {}",
            lab.spec.id,
            lab.spec
                .tasks
                .iter()
                .map(|t| t.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// The task named, or every task of the lab when none is.
pub fn tasks_of<'a>(lab: &'a Lab, task_id: Option<&str>) -> anyhow::Result<Vec<&'a TaskSpec>> {
    Ok(match task_id {
        Some(t) => vec![task(lab, t)?],
        None => lab.spec.tasks.iter().collect(),
    })
}

/// A lab's workspace: `SECLAB_WORKSPACE`, else the one recorded at
/// `start`, else `./seclab/<lab>`.
pub fn workspace_of(p: &Progress, lab: &str) -> PathBuf {
    if let Some(ws) = std::env::var_os("SECLAB_WORKSPACE").filter(|w| !w.is_empty()) {
        return PathBuf::from(ws);
    }
    p.labs
        .get(lab)
        .and_then(|l| l.workspace.clone())
        .unwrap_or_else(|| PathBuf::from("seclab").join(lab))
}

/// `p`, made absolute against the current directory.
pub fn absolute(p: &Path) -> anyhow::Result<PathBuf> {
    if p.is_absolute() {
        Ok(p.to_path_buf())
    } else {
        Ok(std::env::current_dir()?.join(p))
    }
}

/// Creates `lab`'s workspace at `workspace` from its rendered start files
/// and records it in progress; returns the absolute root and the backup of
/// what `force` replaced.
pub fn start_workspace(
    lab: &Lab,
    workspace: &Path,
    force: bool,
) -> anyhow::Result<(PathBuf, Option<PathBuf>)> {
    let lab_id = &lab.spec.id;
    let st = state()?;
    let (mut p, student) = load_progress(&st)?;
    let root = absolute(workspace)?;
    let start_files = rendered(lab, "start/", &student)?;
    let backup = files::create(&root, &start_files, force, &st.join("backups").join(lab_id))?;
    let lp = p.lab_mut(lab_id, &lab.content_hash);
    lp.workspace = Some(root.clone());
    progress::save(&st, &p)?;
    Ok((root, backup))
}

/// Restores `lab`'s workspace (or one task's files) to the start state
/// after a backup; returns the root and the backup.
pub fn reset_workspace(lab: &Lab, task_id: Option<&str>) -> anyhow::Result<(PathBuf, PathBuf)> {
    let lab_id = &lab.spec.id;
    let st = state()?;
    let (p, student) = load_progress(&st)?;
    let root = absolute(&workspace_of(&p, lab_id))?;
    let start_files = rendered(lab, "start/", &student)?;
    let paths = match task_id {
        Some(t) => {
            let t = task(lab, t)?;
            if t.files.is_empty() {
                anyhow::bail!(
                    "task `{}` names no files to reset; reset the whole lab instead",
                    t.id
                );
            }
            Some(t.files.clone())
        }
        None => None,
    };
    let backup = files::reset(
        &root,
        &start_files,
        paths.as_deref(),
        &st.join("backups").join(lab_id),
    )?;
    Ok((root, backup))
}

/// Puts back the latest backup of `lab`'s workspace (made by a reset or a
/// `start --force`), after backing up the workspace as it is now; returns
/// the root, the backup restored and the new backup.
pub fn restore_workspace(lab: &Lab) -> anyhow::Result<(PathBuf, PathBuf, PathBuf)> {
    let lab_id = &lab.spec.id;
    let st = state()?;
    let (p, _) = load_progress(&st)?;
    let root = absolute(&workspace_of(&p, lab_id))?;
    let backups = st.join("backups").join(lab_id);
    let latest = files::latest_backup(&backups)?.ok_or_else(|| {
        anyhow::anyhow!("lab `{lab_id}` has no backup yet (reset and start --force make one)")
    })?;
    let now = files::restore(&root, &latest, &backups)?;
    Ok((root, latest, now))
}

/// Grades `tasks` of `lab` against the workspace at `root` (offline: no
/// cluster).
pub fn grade_once(lab: &Lab, tasks: &[&TaskSpec], root: &Path) -> anyhow::Result<Vec<TaskResult>> {
    Ok(grade_snapshot(lab, tasks, root)?.0)
}

/// Like [`grade_once`], also returning the snapshot (answers, objects).
pub fn grade_snapshot(
    lab: &Lab,
    tasks: &[&TaskSpec],
    root: &Path,
) -> anyhow::Result<(Vec<TaskResult>, Snapshot)> {
    grade_snapshot_live(lab, tasks, root, None, None)
}

/// [`grade_snapshot`], live on the Docker engine when one is given and the
/// lab has Docker tasks: the lab's containers are replaced by the
/// workspace's services, probed, and left running (`seclab stop` removes
/// them).
pub fn grade_snapshot_live(
    lab: &Lab,
    tasks: &[&TaskSpec],
    root: &Path,
    docker: Option<&crate::live::Docker>,
    cluster: Option<&crate::shell::kube::guard::Owned>,
) -> anyhow::Result<(Vec<TaskResult>, Snapshot)> {
    let ws = files::read_workspace(root)?;
    let mut snap = Snapshot::from_files(&ws);
    // The seed picks per-student questions (read only when a task asks
    // one: reading it may store a new seed); no known student, no seed.
    let per_student = tasks.iter().any(|t| {
        t.checks
            .iter()
            .any(|c| matches!(c, seclab_checkers::CheckSpec::ReportQuestion(_)))
    });
    if per_student && let Ok(student) = state().and_then(|s| crate::config::student(&s)) {
        snap.seed = student.pick_key();
    }
    let facts = match docker {
        Some(d)
            if tasks
                .iter()
                .any(|t| t.needs().contains(&seclab_checkers::Need::Docker)) =>
        {
            let (_, student) = load_progress(&state()?)?;
            Some(crate::live::run(d, lab, &student, &snap, root)?)
        }
        _ => None,
    };
    // On a seclab cluster: the lab's live objects, settle window, admission
    // trials, probes and access reviews.
    let kube = match cluster {
        Some(owned) if crate::cluster::is_cluster_lab(lab) => {
            let checks: Vec<&seclab_checkers::CheckSpec> =
                tasks.iter().flat_map(|t| &t.checks).collect();
            let exec = crate::shell::kube::exec::KubeExec { owned };
            Some(crate::shell::kube::block_on(crate::cluster::gather(
                owned, lab, &checks, &exec,
            ))??)
        }
        _ => None,
    };
    let kube = kube.as_ref();
    // Who the lab's own flags are derived for; none known, those skip.
    let who = load_progress(&state()?).ok().map(|(_, s)| s);
    let stray = ws
        .get(crate::grade::ANSWERS_FILE)
        .and_then(|b| std::str::from_utf8(b).ok())
        .map(|text| stray_answers(lab, text))
        .unwrap_or_default();
    let results = tasks
        .iter()
        .map(|t| {
            let mut r = crate::grade::grade_task_live(
                t,
                &snap,
                Some(&lab.spec.images),
                None,
                facts.as_ref(),
                who.as_ref().map(|s| seclab_checkers::flag::Seed {
                    seed: &s.seed,
                    student: &s.id,
                }),
                kube,
            );
            let mine: Vec<seclab_checkers::Finding> = stray
                .iter()
                .filter(|(task, _)| task == &t.id)
                .map(|(_, f)| f.clone())
                .collect();
            if !mine.is_empty() {
                r.checks.push(crate::grade::CheckResult {
                    checker: "answers".into(),
                    description: "answers.yaml names this lab's tasks and questions".into(),
                    verdict: seclab_checkers::Verdict::from_findings(mine),
                });
            }
            r
        })
        .collect();
    Ok((results, snap))
}

/// Keys of `answers.yaml` that name no task of the lab, or no question of
/// their task: a misspelt key's answer is never graded, so the student is
/// told, at the key's line and column. Each warning goes to the task it
/// most likely meant (the closest id, else every task that asks questions),
/// as `(task id, finding)`.
pub fn stray_answers(lab: &Lab, text: &str) -> Vec<(String, seclab_checkers::Finding)> {
    use seclab_checkers::Finding;
    let Ok(docs) = crate::yaml::parse_documents(crate::grade::ANSWERS_FILE, text) else {
        return Vec::new(); // a broken file is reported by grading
    };
    let Some(doc) = docs.first() else {
        return Vec::new();
    };
    let Some(tasks) = doc.value.as_object() else {
        return Vec::new();
    };
    let closest = |given: &str, ids: &[&str]| {
        ids.iter()
            .map(|id| (strsim::levenshtein(given, id), *id))
            .filter(|(d, id)| *d <= 2.max(id.len() / 3))
            .min()
            .map(|(_, id)| id.to_owned())
    };
    let located = |path: &str, message: String| {
        let mut f = Finding::warning(message);
        f.source = Some(crate::grade::ANSWERS_FILE.to_owned());
        if let Some(p) = doc.key_positions.get(path) {
            f.line = Some(p.line);
            f.col = Some(p.col);
        }
        f
    };
    let asking: Vec<&TaskSpec> = lab
        .spec
        .tasks
        .iter()
        .filter(|t| !questions(t).is_empty())
        .collect();
    let mut out = Vec::new();
    for (key, answers) in tasks {
        match lab.spec.task(key) {
            Some(t) => {
                let qids: Vec<&str> = questions(t).iter().map(|(id, _)| *id).collect();
                for q in answers.as_object().into_iter().flat_map(|m| m.keys()) {
                    if qids.contains(&q.as_str()) {
                        continue;
                    }
                    let guess = closest(q, &qids)
                        .map(|g| format!("; did you mean `{g}`?"))
                        .unwrap_or_default();
                    out.push((
                        t.id.clone(),
                        located(
                            &format!("{key}.{q}"),
                            format!(
                                "`{q}` is not a question of task `{key}` (questions: {}); \
                                 its answer is not graded{guess}",
                                qids.join(", ")
                            ),
                        ),
                    ));
                }
            }
            None => {
                let ids: Vec<&str> = lab.spec.tasks.iter().map(|t| t.id.as_str()).collect();
                let guess = closest(key, &ids);
                let message = format!(
                    "`{key}` is not a task of lab `{}` (tasks: {}); its answers are not graded{}",
                    lab.spec.id,
                    ids.join(", "),
                    guess
                        .as_deref()
                        .map(|g| format!("; did you mean `{g}`?"))
                        .unwrap_or_default()
                );
                let f = located(key, message);
                match guess {
                    Some(g) => out.push((g, f)),
                    None => out.extend(asking.iter().map(|t| (t.id.clone(), f.clone()))),
                }
            }
        }
    }
    out
}

/// Records gradings in the progress file of the state dir `st`. A task's
/// attempt counts only when its inputs (see [`task_inputs`]) changed since
/// its last grading.
pub fn record(st: &Path, lab: &Lab, results: &[TaskResult]) -> anyhow::Result<()> {
    let (mut p, _) = load_progress(st)?;
    let now = now_unix();
    let ws = absolute(&workspace_of(&p, &lab.spec.id))
        .ok()
        .and_then(|root| files::read_workspace(&root).ok());
    let lp = p.lab_mut(&lab.spec.id, &lab.content_hash);
    for r in results {
        let inputs = ws
            .as_ref()
            .zip(lab.spec.task(&r.task))
            .map(|(ws, t)| task_inputs(t, ws));
        lp.record_inputs(&r.task, r.status, now, inputs.as_deref());
    }
    progress::save(st, &p)
}

/// A digest of what grading `t` reads from the workspace: its answers (when
/// it asks questions) and its files (the task's `files:`, or every
/// manifest when it lists none). Equal digests: nothing the task is graded
/// on changed.
pub fn task_inputs(t: &TaskSpec, ws: &crate::lab::LabFiles) -> String {
    use seclab_checkers::Need;
    use sha2::{Digest as _, Sha256};
    let needs = t.needs();
    let mut h = Sha256::new();
    if needs.contains(&Need::Answers) {
        let answers = ws
            .get(crate::grade::ANSWERS_FILE)
            .and_then(|b| std::str::from_utf8(b).ok())
            .and_then(|text| crate::yaml::parse_documents("answers.yaml", text).ok())
            .and_then(|docs| docs.into_iter().next())
            .and_then(|d| d.value.get(&t.id).cloned())
            .unwrap_or(Value::Null);
        h.update(b"answers\0");
        h.update(answers.to_string().as_bytes());
    }
    if needs.contains(&Need::Workspace) {
        let read = |path: &str| {
            path != crate::grade::ANSWERS_FILE
                && (t.files.is_empty()
                    || t.files
                        .iter()
                        .any(|f| path == f || path.starts_with(&format!("{f}/"))))
        };
        for (path, bytes) in ws.iter().filter(|(p, _)| read(p)) {
            h.update(b"file\0");
            h.update(path.as_bytes());
            h.update(b"\0");
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        }
    }
    hex::encode(h.finalize())
}

/// Reveals the next hint of a task and saves progress; `None` when all
/// are revealed.
pub fn reveal_hint(lab: &Lab, t: &TaskSpec) -> anyhow::Result<Option<usize>> {
    let st = state()?;
    let (mut p, _) = load_progress(&st)?;
    let lp = p.lab_mut(&lab.spec.id, &lab.content_hash);
    let revealed = lp.reveal_hint(&t.id, t.hints.len());
    if revealed.is_some() {
        progress::save(&st, &p)?;
    }
    Ok(revealed)
}

/// The questions of a task a student answers: quizzes (with their
/// choices), flags and questions about a report (`None`: a free text), in
/// lab order.
pub fn questions(t: &TaskSpec) -> Vec<(&str, Option<&seclab_checkers::quiz::QuizCheck>)> {
    use seclab_checkers::CheckSpec;
    t.checks
        .iter()
        .filter_map(|c| match c {
            CheckSpec::Quiz(q) => Some((q.id.as_str(), Some(q))),
            CheckSpec::Flag(f) => Some((f.id.as_str(), None)),
            CheckSpec::ReportQuestion(q) => Some((q.id.as_str(), None)),
            CheckSpec::AuditEvent(a) => Some((a.id.as_str(), None)),
            CheckSpec::AuditQuestion(q) => Some((q.id.as_str(), None)),
            // Every other checker grades files, not answers.
            _ => None,
        })
        .collect()
}

/// Records an answer of task `t` in the workspace's `answers.yaml`,
/// checking its shape first; returns the question id and the workspace.
pub fn record_answer(
    lab: &Lab,
    t: &TaskSpec,
    question: Option<&str>,
    value: &[String],
) -> anyhow::Result<(String, PathBuf)> {
    let (lab_id, task_id) = (&lab.spec.id, &t.id);
    let questions = questions(t);
    let ids = || {
        questions
            .iter()
            .map(|(id, _)| *id)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (qid, quiz) = match question {
        Some(q) => *questions.iter().find(|(id, _)| *id == q).ok_or_else(|| {
            anyhow::anyhow!(
                "task `{task_id}` has no question `{q}`; questions: {}",
                ids()
            )
        })?,
        None if questions.len() == 1 => questions[0],
        None if questions.is_empty() => anyhow::bail!("task `{task_id}` asks no question"),
        None => anyhow::bail!(
            "task `{task_id}` asks several questions; pick one with --question ({})",
            ids()
        ),
    };
    let stored = match quiz {
        Some(q) => {
            // Validate the shape now, so a typo is caught before grading.
            q.normalise(value)
                .with_context(|| format!("question `{qid}`"))?;
            if q.multiple {
                Value::from(
                    value
                        .iter()
                        .flat_map(|v| v.split(','))
                        .map(|v| v.trim().to_string())
                        .collect::<Vec<_>>(),
                )
            } else {
                Value::from(value.join(" "))
            }
        }
        None => Value::from(value.join(" ")),
    };
    let st = state()?;
    let (p, _) = load_progress(&st)?;
    let root = absolute(&workspace_of(&p, lab_id))?;
    if !root.is_dir() {
        anyhow::bail!(
            "{} does not exist; run `seclab start {lab_id}` first",
            root.display()
        );
    }
    files::write_answer(&root, task_id, qid, stored)?;
    Ok((qid.to_string(), root))
}

/// The text of a `report_question` as the student reads it: rendered from
/// the report in the workspace at `root` when it is there and parses
/// ("Which package carries CVE-…?"), else the question's general form.
pub fn report_question_text(
    q: &seclab_checkers::trivy::check::ReportQuestionCheck,
    root: Option<&Path>,
    seed: &str,
) -> String {
    let texts: Vec<seclab_checkers::TextFile> = root
        .and_then(|r| std::fs::read_to_string(r.join(&q.path)).ok())
        .map(|text| seclab_checkers::TextFile {
            path: q.path.trim_start_matches("./").to_string(),
            text,
        })
        .into_iter()
        .collect();
    q.text(&texts, seed)
}
