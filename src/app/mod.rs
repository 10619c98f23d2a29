//! The TUI's state and its only mutator, after The Elm Architecture: one
//! [`Model`], one message enum [`Msg`], and [`update`] — the only place the
//! model changes — which returns side effects as data ([`Effect`]) for the
//! runtime (`crate::runtime`) to perform. The views (`crate::ui`) only read
//! the model.
//!
//! State on disk (progress, workspaces, answers) is the CLI's: every change
//! goes through the same functions as `seclab start/check/hint/answer`, so a
//! student can switch between the TUI and the CLI at any time.

pub mod answer;
pub mod demo;
pub mod keymap;
mod update;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use ratatui::crossterm::event::KeyEvent;
use seclab_checkers::{Need, Status};
use serde_json::Value;

use crate::grade::TaskResult;
use crate::lab::{Catalog, Lab, TaskSpec};
pub use crate::live::DemoLine;
use crate::progress::{Progress, TaskState};

pub use answer::AnswerForm;
pub use update::{HSCROLL_STEP, update};

/// What the machine offers for grading, besides the workspace files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Availability {
    /// A Docker engine answers (seclab connected and read its version).
    pub docker: bool,
    /// Why no engine answers, when none does (the connect error, with the
    /// fix); `None` before the probe or when one answers.
    pub docker_problem: Option<String>,
    /// seclab's cluster is at hand: a cluster id is stored for the context
    /// and the cluster's marker holds it (one GET). Cluster labs are then
    /// graded live, applied with `p`, and watched with `w`.
    pub cluster: bool,
    /// Why there is no cluster, when there is none (no id stored: nothing
    /// was sent; or the marker GET failed or did not match); `None` before
    /// the probe or when there is one.
    pub cluster_problem: Option<String>,
    /// The context the probe looked at (`kind-seclab`, or
    /// `SECLAB_CONTEXT`); `None` before the probe.
    pub cluster_context: Option<String>,
}

impl Availability {
    /// The notice for `what` (`the demo`, `the scan`) when no Docker engine
    /// answers: why not, with the fix, once the probe has said.
    pub fn docker_needed(&self, what: &str) -> Notice {
        Notice {
            error: true,
            text: format!("{what} needs a Docker engine: {}", self.docker_why()),
        }
    }

    /// Why no Docker engine answers, once the probe has said.
    pub fn docker_why(&self) -> &str {
        self.docker_problem
            .as_deref()
            .unwrap_or("no Docker engine answered yet")
    }

    /// Why no cluster is at hand, once the probe has said.
    pub fn cluster_why(&self) -> &str {
        self.cluster_problem
            .as_deref()
            .unwrap_or("seclab has not looked for its cluster yet")
    }

    /// The notice for `what` (`applying`) when no cluster is at hand: why
    /// not, with the fix.
    pub fn cluster_needed(&self, what: &str) -> Notice {
        Notice {
            error: true,
            text: format!("{what} needs seclab's cluster: {}", self.cluster_why()),
        }
    }
}

/// A task's demo (`d`): its lines as they stream from the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoRun {
    /// The lab.
    pub lab: String,
    /// The task whose demo steps run.
    pub task: String,
    /// What came so far: sentences, commands, output, notes, refusals.
    pub lines: Vec<DemoLine>,
    /// Whether it still runs.
    pub running: bool,
    /// What stopped it, when it failed.
    pub error: Option<String>,
    /// Lines scrolled past at the top of the window.
    pub scroll: u16,
    /// Whether the window keeps the newest line in view (until the student
    /// scrolls up).
    pub follow: bool,
}

impl DemoRun {
    /// A demo that is starting.
    pub fn new(lab: &str, task: &str) -> Self {
        Self {
            lab: lab.to_string(),
            task: task.to_string(),
            lines: Vec::new(),
            running: true,
            error: None,
            scroll: 0,
            follow: true,
        }
    }
}

/// What a running demo reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoEvent {
    /// One more line.
    Line(DemoLine),
    /// It ended: `Ok` when every step ran (or was refused and said so).
    Done(Result<(), String>),
}

/// The two screens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Screen {
    /// Every lab with its tasks.
    #[default]
    Labs,
    /// One task: instructions and verdict.
    Task,
}

/// Which pane of the task screen the scroll keys move.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Pane {
    /// The instructions.
    #[default]
    Instructions,
    /// The verdict and hints.
    Verdict,
}

/// A window over the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    /// The key table.
    Help,
    /// "Reset this lab (or this task's files)?", waiting for y/n.
    ConfirmReset {
        /// The lab to reset.
        lab: String,
        /// Only this task's files (in the task view), else the whole lab.
        task: Option<String>,
    },
    /// Answering a task's questions.
    Answer(AnswerForm),
    /// The output of a task's demo ([`Model::demo`]).
    Demo,
}

/// A one-line message in the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Whether it reports a failure.
    pub error: bool,
    /// The sentence.
    pub text: String,
}

/// A task's status as the lab list shows it: glyph and word, never colour
/// alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskBadge {
    /// Last grading passed.
    Passed,
    /// Last grading failed.
    Failed,
    /// Never graded.
    NotTried,
    /// Being graded now.
    Running,
    /// Needs a Docker engine, and none is at hand.
    NeedsDocker,
    /// Needs the lab's cluster, and none is at hand.
    NeedsCluster,
    /// Graded, but the evidence was missing.
    Skipped,
}

impl TaskBadge {
    /// The glyph (the running one is animated by the view).
    pub fn glyph(self) -> &'static str {
        match self {
            TaskBadge::Passed => "✓",
            TaskBadge::Failed => "✗",
            TaskBadge::NotTried => "·",
            TaskBadge::Running => "…",
            TaskBadge::NeedsDocker | TaskBadge::NeedsCluster => "◆",
            TaskBadge::Skipped => "–",
        }
    }

    /// The word.
    pub fn word(self) -> &'static str {
        match self {
            TaskBadge::Passed => "passed",
            TaskBadge::Failed => "failed",
            TaskBadge::NotTried => "not tried",
            TaskBadge::Running => "running",
            TaskBadge::NeedsDocker => "needs docker",
            TaskBadge::NeedsCluster => "needs cluster",
            TaskBadge::Skipped => "skipped",
        }
    }
}

/// One row of the lab list: a lab, or one of its tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// Lab number `0`.
    Lab(usize),
    /// Task `1` of lab `0`.
    Task(usize, usize),
}

/// What the runtime reports after grading.
#[derive(Debug, Clone)]
pub struct Graded {
    /// One result per graded task.
    pub results: Vec<TaskResult>,
    /// The workspace's `answers.yaml`.
    pub answers: Value,
    /// Progress after recording.
    pub progress: Progress,
}

/// Everything that can happen: keys, terminal changes, and the results of
/// effects, sent back by the runtime.
#[derive(Debug, Clone)]
pub enum Msg {
    /// A key press.
    Key(KeyEvent),
    /// The terminal's new size (columns, rows).
    Resize(u16, u16),
    /// Time passed while something animates.
    Tick,
    /// What the machine offers.
    Probed(Availability),
    /// A grading finished.
    Graded {
        /// The lab.
        lab: String,
        /// Results, or what went wrong.
        outcome: Result<Graded, String>,
    },
    /// `answers.yaml` of a lab was read.
    AnswersLoaded {
        /// The lab.
        lab: String,
        /// Its answers (null when there are none).
        answers: Value,
        /// Questions whose text is rendered from the workspace (a trivy
        /// report's CVE picked for the student), by (task, question).
        prompts: BTreeMap<(String, String), String>,
    },
    /// A workspace was created.
    Started {
        /// The lab.
        lab: String,
        /// The workspace and progress, or what went wrong.
        outcome: Result<(PathBuf, Progress), String>,
        /// What the cluster part said (a cluster lab: set up, or why not).
        cluster: Vec<String>,
    },
    /// A workspace was reset.
    ResetDone {
        /// The lab.
        lab: String,
        /// The task whose files were reset; `None`: the whole lab.
        task: Option<String>,
        /// The backup's path, or what went wrong.
        outcome: Result<PathBuf, String>,
        /// What the cluster part said (a cluster lab reset whole: the
        /// namespaces re-created, or why not).
        cluster: Vec<String>,
    },
    /// A hint was revealed (or all were already).
    HintRevealed {
        /// The lab.
        lab: String,
        /// The task.
        task: String,
        /// Progress after revealing, or what went wrong.
        outcome: Result<Progress, String>,
    },
    /// An answer was written to `answers.yaml`.
    AnswerSaved {
        /// The lab.
        lab: String,
        /// The task.
        task: String,
        /// The question.
        question: String,
        /// What went wrong, if anything.
        outcome: Result<(), String>,
    },
    /// Files changed in a watched workspace (debounced).
    FilesChanged {
        /// The lab whose workspace changed.
        lab: String,
    },
    /// The watched cluster lab's objects changed on the cluster (polled,
    /// debounced: reported once they held still).
    ClusterChanged {
        /// The lab.
        lab: String,
    },
    /// The cluster watch could not look at the cluster this time (it keeps
    /// trying).
    ClusterWatchFailed {
        /// The lab.
        lab: String,
        /// What went wrong.
        error: String,
    },
    /// Applying a lab's workspace to the cluster ended.
    Applied {
        /// The lab.
        lab: String,
        /// What was applied and what not (with reasons), or what went
        /// wrong.
        outcome: Result<crate::cluster::Applied, String>,
    },
    /// A trivy scan of the lab's image ended.
    Scanned {
        /// The lab.
        lab: String,
        /// What was scanned and where the report is, or what went wrong.
        outcome: Result<String, String>,
    },
    /// A line of a task's demo, or its end.
    Demo {
        /// The lab.
        lab: String,
        /// The task.
        task: String,
        /// What happened.
        event: DemoEvent,
    },
    /// The watcher could not start or reported an error.
    WatchFailed {
        /// The lab.
        lab: String,
        /// What went wrong.
        error: String,
    },
}

/// Side effects, as data: `update` returns them, the runtime performs them
/// off the UI thread and answers with a [`Msg`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Find out whether docker and a cluster are at hand.
    Probe,
    /// Grade these tasks of a lab and record them in progress.
    Grade {
        /// The lab.
        lab: String,
        /// Task ids, in lab order.
        tasks: Vec<String>,
    },
    /// Read a lab's `answers.yaml`.
    LoadAnswers {
        /// The lab.
        lab: String,
    },
    /// Create the lab's workspace from its start files.
    Start {
        /// The lab.
        lab: String,
    },
    /// Reset the lab's workspace, or one task's files (a backup is kept).
    Reset {
        /// The lab.
        lab: String,
        /// Only this task's files.
        task: Option<String>,
    },
    /// Reveal the next hint (counted in progress).
    RevealHint {
        /// The lab.
        lab: String,
        /// The task.
        task: String,
    },
    /// Write an answer to `answers.yaml`.
    Answer {
        /// The lab.
        lab: String,
        /// The task.
        task: String,
        /// The question id.
        question: String,
        /// Choice labels, or the words of a text answer.
        value: Vec<String>,
    },
    /// Run a task's demo steps on the Docker engine, streaming each line
    /// back as a [`Msg::Demo`].
    Demo {
        /// The lab.
        lab: String,
        /// The task.
        task: String,
    },
    /// Scan the lab's image with trivy into the workspace's `report.json`.
    ScanImage {
        /// The lab.
        lab: String,
    },
    /// Watch this lab's workspace (`None`: stop watching).
    Watch {
        /// The lab.
        lab: Option<String>,
    },
    /// Apply the lab's workspace (its manifests, images mapped) into the
    /// lab's namespaces on seclab's cluster, as `seclab apply` does.
    Apply {
        /// The lab.
        lab: String,
    },
    /// Watch this cluster lab's objects on seclab's cluster, reporting
    /// changes as [`Msg::ClusterChanged`] (`None`: stop watching).
    WatchCluster {
        /// The lab.
        lab: Option<String>,
    },
    /// Leave.
    Quit,
}

/// The whole TUI state. Only [`update`] changes it.
#[derive(Debug, Clone)]
pub struct Model {
    /// The labs.
    pub catalog: Arc<Catalog>,
    /// The student's progress, as last read from or written to disk.
    pub progress: Progress,
    /// `SECLAB_WORKSPACE`, when set: every lab's workspace.
    pub workspace_override: Option<PathBuf>,
    /// Draw without colours (NO_COLOR).
    pub no_color: bool,
    /// The home directory, shown as `~` in paths.
    pub home: Option<String>,
    /// What the machine offers.
    pub available: Availability,
    /// The current screen.
    pub screen: Screen,
    /// The selected row of the lab list.
    pub cursor: usize,
    /// The open task (lab index, task index) on the task screen.
    pub open: (usize, usize),
    /// The focused pane of the task screen.
    pub pane: Pane,
    /// Scroll offsets of the instructions and verdict panes.
    pub scroll: (u16, u16),
    /// Sideways scroll of the lines that are never re-wrapped (code
    /// blocks, tables, the connection matrix) in the instructions and
    /// verdict panes, in columns.
    pub hscroll: (u16, u16),
    /// Whether the focused pane takes the whole body of the task screen.
    pub zoom: bool,
    /// The last result of each task graded this session, by (lab, task).
    pub results: BTreeMap<(String, String), TaskResult>,
    /// The answers of each lab whose `answers.yaml` was read.
    pub answers: BTreeMap<String, Value>,
    /// Question texts rendered from a lab's workspace, by lab, then
    /// (task, question) (read with its answers).
    pub prompts: BTreeMap<String, BTreeMap<(String, String), String>>,
    /// Tasks being graded now, by (lab, task).
    pub running: BTreeSet<(String, String)>,
    /// Other work in flight (start, reset, hint, answer).
    pub busy: u32,
    /// The lab whose workspace is watched.
    pub watching: Option<String>,
    /// The lab whose objects on the cluster are watched: the watched lab,
    /// when it is a cluster lab and the cluster is at hand.
    pub cluster_watching: Option<String>,
    /// Labs whose objects changed on the cluster while they were being
    /// graded: graded once more when that grading ends (one re-grade
    /// however many changes came meanwhile).
    pub regrade: BTreeSet<String>,
    /// The window over the screen, if any.
    pub overlay: Option<Overlay>,
    /// The last demo started this session (shown by [`Overlay::Demo`]).
    pub demo: Option<DemoRun>,
    /// The status-bar message, if any.
    pub notice: Option<Notice>,
    /// The terminal's size (columns, rows).
    pub size: (u16, u16),
    /// The spinner's frame.
    pub frame: usize,
}

impl Model {
    /// A model on the labs of `catalog` with the student's progress.
    pub fn new(catalog: Arc<Catalog>, progress: Progress) -> Self {
        Self {
            catalog,
            progress,
            workspace_override: None,
            no_color: false,
            home: None,
            available: Availability::default(),
            screen: Screen::Labs,
            cursor: 0,
            open: (0, 0),
            pane: Pane::Instructions,
            scroll: (0, 0),
            hscroll: (0, 0),
            zoom: false,
            results: BTreeMap::new(),
            answers: BTreeMap::new(),
            prompts: BTreeMap::new(),
            running: BTreeSet::new(),
            busy: 0,
            watching: None,
            cluster_watching: None,
            regrade: BTreeSet::new(),
            overlay: None,
            demo: None,
            notice: None,
            size: (80, 24),
            frame: 0,
        }
    }

    /// The rows of the lab list: each lab, then its tasks.
    pub fn rows(&self) -> Vec<Row> {
        self.catalog
            .labs
            .iter()
            .enumerate()
            .flat_map(|(l, lab)| {
                std::iter::once(Row::Lab(l))
                    .chain((0..lab.spec.tasks.len()).map(move |t| Row::Task(l, t)))
            })
            .collect()
    }

    /// The selected row of the lab list.
    pub fn selected_row(&self) -> Option<Row> {
        self.rows().get(self.cursor).copied()
    }

    /// The lab keys act on: the open one on the task screen, the selected
    /// one on the list.
    pub fn current_lab(&self) -> Option<&Lab> {
        let index = match self.screen {
            Screen::Task => self.open.0,
            Screen::Labs => match self.selected_row()? {
                Row::Lab(l) | Row::Task(l, _) => l,
            },
        };
        self.catalog.labs.get(index)
    }

    /// The task keys act on: the open one, or the selected task row.
    pub fn current_task(&self) -> Option<(&Lab, &TaskSpec)> {
        let (l, t) = match self.screen {
            Screen::Task => self.open,
            Screen::Labs => match self.selected_row()? {
                Row::Task(l, t) => (l, t),
                Row::Lab(_) => return None,
            },
        };
        let lab = self.catalog.labs.get(l)?;
        Some((lab, lab.spec.tasks.get(t)?))
    }

    /// Where a lab's workspace is (or will be): `SECLAB_WORKSPACE`, else
    /// the one recorded at start, else `seclab/<lab>` (relative).
    pub fn workspace(&self, lab: &str) -> PathBuf {
        if let Some(w) = &self.workspace_override {
            return w.clone();
        }
        self.progress
            .labs
            .get(lab)
            .and_then(|l| l.workspace.clone())
            .unwrap_or_else(|| PathBuf::from("seclab").join(lab))
    }

    /// Whether lab `id` has a cluster part (Kubernetes manifests that
    /// `seclab apply` and `p` put on the cluster).
    pub fn is_cluster_lab(&self, id: &str) -> bool {
        self.catalog
            .labs
            .iter()
            .find(|l| l.spec.id == id)
            .is_some_and(crate::cluster::is_cluster_lab)
    }

    /// Whether a lab was started (its workspace recorded in progress).
    pub fn started(&self, lab: &str) -> bool {
        self.progress
            .labs
            .get(lab)
            .is_some_and(|l| l.workspace.is_some())
    }

    /// A task's badge: running, else the last verdict of this session,
    /// else the recorded state; tasks whose evidence is not at hand say
    /// what they need.
    pub fn badge(&self, lab: &Lab, task: &TaskSpec) -> TaskBadge {
        let key = (lab.spec.id.clone(), task.id.clone());
        if self.running.contains(&key) {
            return TaskBadge::Running;
        }
        let state = match self.results.get(&key) {
            Some(r) => TaskState::from(r.status),
            None => self
                .progress
                .labs
                .get(&lab.spec.id)
                .map_or(TaskState::NotTried, |l| l.state(&task.id)),
        };
        let needs = task.needs();
        let missing = if needs.contains(&Need::Cluster) && !self.available.cluster {
            Some(TaskBadge::NeedsCluster)
        } else if needs.contains(&Need::Docker) && !self.available.docker {
            Some(TaskBadge::NeedsDocker)
        } else {
            None
        };
        match state {
            TaskState::Passed => TaskBadge::Passed,
            TaskState::Failed => TaskBadge::Failed,
            TaskState::NotTried | TaskState::Skipped if missing.is_some() => {
                missing.unwrap_or(TaskBadge::Skipped)
            }
            TaskState::NotTried => TaskBadge::NotTried,
            TaskState::Skipped => TaskBadge::Skipped,
        }
    }

    /// Passed tasks and all tasks of a lab, for its gauge.
    pub fn lab_progress(&self, lab: &Lab) -> (usize, usize) {
        let passed = lab
            .spec
            .tasks
            .iter()
            .filter(|t| self.badge(lab, t) == TaskBadge::Passed)
            .count();
        (passed, lab.spec.tasks.len())
    }

    /// How many hints of a task are revealed.
    pub fn hints_revealed(&self, lab: &str, task: &TaskSpec) -> usize {
        self.progress
            .labs
            .get(lab)
            .map_or(0, |l| l.hints(&task.id))
            .min(task.hints.len())
    }

    /// The current answer to a question, as recorded in `answers.yaml`.
    pub fn answer(&self, lab: &str, task: &str, question: &str) -> Option<&Value> {
        self.answers
            .get(lab)?
            .get(task)?
            .get(question)
            .filter(|v| !v.is_null())
    }

    /// A question's text as the student reads it: a quiz's own, else the
    /// one rendered from the workspace (a report question), else the
    /// flag's or the report question's general form.
    pub fn prompt(&self, lab: &str, task: &TaskSpec, id: &str) -> String {
        if let Some((_, Some(q))) = crate::session::questions(task)
            .into_iter()
            .find(|(q, _)| *q == id)
        {
            return q.question.trim().to_string();
        }
        self.prompts
            .get(lab)
            .and_then(|p| p.get(&(task.id.clone(), id.to_string())))
            .cloned()
            .unwrap_or_else(|| answer::flag_prompt(task, id))
    }

    /// Whether something animates (the runtime ticks only then).
    pub fn animating(&self) -> bool {
        !self.running.is_empty() || self.busy > 0
    }

    /// The last result of a task graded this session.
    pub fn result(&self, lab: &str, task: &str) -> Option<&TaskResult> {
        self.results.get(&(lab.to_string(), task.to_string()))
    }
}

/// Counts of passed and failed results, for notices.
pub fn tally(results: &[TaskResult]) -> (usize, usize, usize) {
    let count = |s: Status| results.iter().filter(|r| r.status == s).count();
    (
        count(Status::Pass),
        count(Status::Fail),
        count(Status::Skipped),
    )
}
