//! Shared by the TUI tests: a catalog (the built-in labs plus a tiny
//! external lab with a manifest task, a cluster-only task and a task with
//! instructions wider than the screen), a model on
//! it, key messages, pure grading into `Msg::Graded`, and drawing a model
//! into a `TestBackend` as text.

#![allow(dead_code)]

use std::sync::Arc;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use seclab::app::{Graded, Model, Msg};
use seclab::grade::{Snapshot, grade_task};
use seclab::lab::{Catalog, LabFiles};
use seclab::progress::Progress;

/// A fixed workspace path, so snapshots hold no temp paths.
pub const WORKSPACE: &str = "/home/student/seclab/principles";

const TINY: &str = "format_version: 1
id: tiny
title: Tiny
summary: A test lab.
tasks:
  - id: fix
    title: Fix the replicas
    instructions: fix.md
    files: [app.yaml]
    hints: [\"look at replicas\", \"set it to 2\"]
    checks:
      - manifest: {target: deployment/app, path: spec.replicas, op: equals, value: 2}
  - id: live
    title: Live only
    instructions: fix.md
    checks:
      - manifest: {target: deployment/app, path: spec.replicas, op: equals, value: 2, source: cluster}
  - id: wide
    title: Wide things
    instructions: wide.md
    files: [app.yaml]
    hints: [\"scroll sideways\"]
    checks:
      - manifest: {target: deployment/app, path: spec.replicas, op: equals, value: 2}
";

/// Instructions wider than 80 columns: a long list item, a command longer
/// than the pane inside it, and a table whose first column holds a word
/// longer than any column could be (so its rows become records).
pub const WIDE_MD: &str = "# Wide things

1. Open a shell in pod a and try to reach b by its full service name, the way an attacker on the pod would:

   ```sh
   kubectl -n three-pods exec deploy/a -- wget -q -T 1 -O- http://b.three-pods.svc.cluster.local:8080/healthz
   ```

2. Then set the fields below.

| field | restricted needs |
|---|---|
| `spec.template.spec.containers[*].securityContext.allowPrivilegeEscalation` | false |
| `spec.template.spec.securityContext.runAsNonRoot` | true |
";

/// The command in [`WIDE_MD`].
pub const WIDE_COMMAND: &str = "kubectl -n three-pods exec deploy/a -- wget -q -T 1 -O- http://b.three-pods.svc.cluster.local:8080/healthz";

/// The built-in labs plus `tiny`.
pub fn catalog() -> Arc<Catalog> {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("tiny");
    std::fs::create_dir_all(root.join("start")).expect("mkdir");
    std::fs::write(root.join("lab.yaml"), TINY).expect("write");
    std::fs::write(root.join("fix.md"), "# Fix\n\nSet `replicas` to **2**.\n").expect("write");
    std::fs::write(root.join("wide.md"), WIDE_MD).expect("write");
    std::fs::write(
        root.join("start/app.yaml"),
        "kind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 1\n",
    )
    .expect("write");
    let mut catalog = Catalog::load(None).expect("built-in labs load");
    catalog
        .labs
        .extend(seclab::lab::load::load_dir(&root).expect("tiny loads"));
    Arc::new(catalog)
}

/// A model at 80×24, no colour, nothing started.
pub fn model() -> Model {
    let mut m = Model::new(catalog(), Progress::new("alice"));
    m.no_color = true;
    m.size = (80, 24);
    m
}

/// A model whose labs all use the fixed workspace (as with
/// `SECLAB_WORKSPACE`), so they count as started.
pub fn started() -> Model {
    let mut m = model();
    m.workspace_override = Some(WORKSPACE.into());
    m
}

/// A key press.
pub fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// A character key press.
pub fn ch(c: char) -> Msg {
    key(KeyCode::Char(c))
}

/// Ctrl + a character.
pub fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

/// Grades `tasks` of `lab` against in-memory workspace `files`, recording
/// into the model's progress, as the runtime would report it.
pub fn graded(m: &Model, lab: &str, tasks: &[&str], files: &[(&str, &str)]) -> Msg {
    let l = m.catalog.get(lab).expect("lab");
    let files: LabFiles = files
        .iter()
        .map(|(p, t)| ((*p).to_string(), t.as_bytes().to_vec()))
        .collect();
    let snap = Snapshot::from_files(&files);
    let results: Vec<_> = l
        .spec
        .tasks
        .iter()
        .filter(|t| tasks.contains(&t.id.as_str()))
        .map(|t| grade_task(t, &snap, None))
        .collect();
    let mut progress = m.progress.clone();
    let lp = progress.lab_mut(lab, &l.content_hash);
    for r in &results {
        lp.record(&r.task, r.status, 1);
    }
    Msg::Graded {
        lab: lab.to_string(),
        outcome: Ok(Graded {
            results,
            answers: snap.answers,
            progress,
        }),
    }
}

/// Opens task `task` of lab `lab` from the lab list.
pub fn open(m: &mut Model, lab: &str, task: usize) {
    m.cursor = task_row(m, lab, task);
    seclab::app::update(m, key(KeyCode::Enter));
}

/// Draws the model at its size and returns the screen as text.
pub fn render(m: &Model) -> String {
    let mut t = Terminal::new(TestBackend::new(m.size.0, m.size.1)).expect("terminal");
    t.draw(|f| seclab::ui::view(f, m)).expect("draw");
    t.backend().to_string()
}

/// The row of task `task` of lab `lab` in the lab list.
pub fn task_row(m: &Model, lab: &str, task: usize) -> usize {
    let l = m
        .catalog
        .labs
        .iter()
        .position(|l| l.spec.id == lab)
        .expect("lab in the catalog");
    m.rows()
        .iter()
        .position(|r| *r == seclab::app::Row::Task(l, task))
        .expect("task row")
}
