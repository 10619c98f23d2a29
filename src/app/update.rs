//! `update`: the only function that changes the [`Model`]. A message goes
//! in; the model changes and the effects to perform come out, as data.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::keymap::{Action, Context, lookup};
use super::{AnswerForm, Effect, Model, Msg, Notice, Overlay, Pane, Row, Screen, tally};

/// Columns one press of `<` or `>` scrolls the cut lines sideways.
pub const HSCROLL_STEP: u16 = 8;

/// Applies `msg` to the model; returns the effects to perform, in order.
/// Afterwards the scroll offsets are within the content as it is now laid
/// out (a message can change the content, the layout or the terminal).
pub fn update(m: &mut Model, msg: Msg) -> Vec<Effect> {
    let effects = step(m, msg);
    clamp_scroll(m);
    effects
}

fn step(m: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => on_key(m, &key),
        Msg::Resize(w, h) => {
            m.size = (w, h);
            Vec::new()
        }
        Msg::Tick => {
            m.frame = m.frame.wrapping_add(1);
            Vec::new()
        }
        Msg::Probed(a) => {
            m.available = a;
            sync_cluster_watch(m)
        }
        Msg::Graded { lab, outcome } => {
            let again = m.regrade.remove(&lab);
            match outcome {
                Ok(g) => {
                    for r in &g.results {
                        m.running.remove(&(lab.clone(), r.task.clone()));
                    }
                    let (passed, failed, skipped) = tally(&g.results);
                    let text = match g.results.as_slice() {
                        [one] => format!("{}/{}: {}", lab, one.task, word(one.status)),
                        all => format!(
                            "checked {} task(s) of {lab}: {passed} passed, {failed} failed, {skipped} skipped",
                            all.len()
                        ),
                    };
                    for r in g.results {
                        m.results.insert((lab.clone(), r.task.clone()), r);
                    }
                    m.progress = g.progress;
                    m.answers.insert(lab.clone(), g.answers);
                    m.notice = Some(Notice { error: false, text });
                }
                Err(e) => {
                    m.running.retain(|(l, _)| *l != lab);
                    m.notice = Some(error(e));
                }
            }
            // The cluster changed while this grading ran: once more, on
            // what is there now.
            if again && m.cluster_watching.as_deref() == Some(lab.as_str()) {
                let tasks = all_tasks(m, &lab);
                return grade(m, &lab, tasks);
            }
            Vec::new()
        }
        Msg::AnswersLoaded {
            lab,
            answers,
            prompts,
        } => {
            m.answers.insert(lab.clone(), answers);
            m.prompts.insert(lab, prompts);
            Vec::new()
        }
        Msg::Started {
            lab,
            outcome,
            cluster,
        } => {
            done(m);
            match outcome {
                Ok((root, progress)) => {
                    m.progress = progress;
                    let mut text = format!(
                        "started {lab} in {}; edit the files there, or answer with a",
                        root.display()
                    );
                    for c in &cluster {
                        text.push_str("; ");
                        text.push_str(c);
                    }
                    m.notice = Some(info(text));
                    vec![Effect::LoadAnswers { lab }]
                }
                Err(e) => {
                    m.notice = Some(error(e));
                    Vec::new()
                }
            }
        }
        Msg::ResetDone {
            lab,
            task,
            outcome,
            cluster,
        } => {
            done(m);
            match outcome {
                Ok(backup) => {
                    let what = match &task {
                        // Only the task's files: the other tasks' results
                        // and every answer stay.
                        Some(t) => {
                            m.results.retain(|(l, tt), _| !(*l == lab && tt == t));
                            format!("reset the files of {lab}/{t}")
                        }
                        None => {
                            m.results.retain(|(l, _), _| *l != lab);
                            m.answers.remove(&lab);
                            format!("reset {lab}")
                        }
                    };
                    let mut text = format!(
                        "{what}; the old workspace is backed up in {}",
                        backup.display()
                    );
                    for c in &cluster {
                        text.push_str("; ");
                        text.push_str(c);
                    }
                    m.notice = Some(info(text));
                    vec![Effect::LoadAnswers { lab }]
                }
                Err(e) => {
                    m.notice = Some(error(e));
                    Vec::new()
                }
            }
        }
        Msg::HintRevealed { lab, task, outcome } => {
            done(m);
            match outcome {
                Ok(progress) => {
                    m.progress = progress;
                    let total = m
                        .catalog
                        .labs
                        .iter()
                        .find(|l| l.spec.id == lab)
                        .and_then(|l| l.spec.task(&task))
                        .map_or(0, |t| t.hints.len());
                    let n = m.progress.labs.get(&lab).map_or(0, |l| l.hints(&task));
                    m.notice = Some(info(format!(
                        "hint {n}/{total} revealed (in the verdict pane)"
                    )));
                    m.pane = Pane::Verdict;
                    m.scroll.1 = 0;
                }
                Err(e) => m.notice = Some(error(e)),
            }
            Vec::new()
        }
        Msg::AnswerSaved {
            lab,
            task,
            question,
            outcome,
        } => {
            done(m);
            match outcome {
                Ok(()) => {
                    m.notice = Some(info(format!("recorded the answer to `{question}`")));
                    if m.watching.as_deref() == Some(lab.as_str()) {
                        // The watcher sees the save and re-checks.
                        Vec::new()
                    } else {
                        grade(m, &lab, vec![task])
                    }
                }
                Err(e) => {
                    m.notice = Some(error(e));
                    Vec::new()
                }
            }
        }
        Msg::FilesChanged { lab } => {
            if m.watching.as_deref() != Some(lab.as_str()) {
                return Vec::new();
            }
            let tasks = all_tasks(m, &lab);
            grade(m, &lab, tasks)
        }
        Msg::ClusterChanged { lab } => {
            if m.cluster_watching.as_deref() != Some(lab.as_str()) {
                return Vec::new();
            }
            if m.running.iter().any(|(l, _)| *l == lab) {
                // Graded again when the grading in flight ends.
                m.notice = Some(info(format!(
                    "{lab} changed on the cluster: checking it again after this check"
                )));
                m.regrade.insert(lab);
                return Vec::new();
            }
            m.notice = Some(info(format!("{lab} changed on the cluster: checking it")));
            let tasks = all_tasks(m, &lab);
            grade(m, &lab, tasks)
        }
        Msg::ClusterWatchFailed { lab, error: e } => {
            if m.cluster_watching.as_deref() == Some(lab.as_str()) {
                m.notice = Some(error(format!(
                    "the cluster watch of {lab} could not look: {e} (it tries again)"
                )));
            }
            Vec::new()
        }
        Msg::Applied { lab, outcome } => {
            done(m);
            m.notice = Some(match outcome {
                Ok(a) => applied_notice(m, &lab, &a),
                Err(e) => error(format!("{lab}: applying failed: {e}")),
            });
            Vec::new()
        }
        Msg::Demo { lab, task, event } => super::demo::on_event(m, &lab, &task, event),
        Msg::Scanned { lab, outcome } => {
            done(m);
            m.notice = Some(match outcome {
                Ok(what) => info(format!("{lab}: {what}; c checks it")),
                Err(e) => error(format!("{lab}: the scan failed: {e}")),
            });
            Vec::new()
        }
        Msg::WatchFailed { lab, error: e } => {
            if m.watching.as_deref() == Some(lab.as_str()) {
                m.watching = None;
            }
            m.notice = Some(error(format!("watch is off: {e}")));
            sync_cluster_watch(m)
        }
    }
}

fn word(s: seclab_checkers::Status) -> &'static str {
    match s {
        seclab_checkers::Status::Pass => "passed",
        seclab_checkers::Status::Fail => "failed",
        seclab_checkers::Status::Skipped => "skipped",
    }
}

fn info(text: String) -> Notice {
    Notice { error: false, text }
}

fn error(text: String) -> Notice {
    Notice { error: true, text }
}

fn done(m: &mut Model) {
    m.busy = m.busy.saturating_sub(1);
}

fn all_tasks(m: &Model, lab: &str) -> Vec<String> {
    m.catalog
        .labs
        .iter()
        .find(|l| l.spec.id == lab)
        .map(|l| l.spec.tasks.iter().map(|t| t.id.clone()).collect())
        .unwrap_or_default()
}

/// Starts, moves or stops the cluster watch so that it watches the
/// watched lab exactly when that is a cluster lab and the cluster is at
/// hand (never otherwise: without a stored cluster id nothing is sent).
fn sync_cluster_watch(m: &mut Model) -> Vec<Effect> {
    let want = m
        .watching
        .clone()
        .filter(|l| m.available.cluster && m.is_cluster_lab(l));
    if want == m.cluster_watching {
        return Vec::new();
    }
    if let Some(old) = &m.cluster_watching {
        m.regrade.remove(old);
    }
    m.cluster_watching.clone_from(&want);
    vec![Effect::WatchCluster { lab: want }]
}

/// The notice after applying: how many objects went where, and each one
/// that did not, with the reason (an error when any did not).
fn applied_notice(m: &Model, lab: &str, a: &crate::cluster::Applied) -> Notice {
    let context = m
        .available
        .cluster_context
        .as_deref()
        .unwrap_or("the cluster");
    let mut parts = vec![if a.applied.is_empty() {
        format!("{lab}: applied nothing to {context}")
    } else {
        format!(
            "{lab}: applied {} object(s) to {context} ({})",
            a.applied.len(),
            a.applied.join(", ")
        )
    }];
    if !a.skipped.is_empty() {
        parts.push(format!("not applied: {}", a.skipped.join("; ")));
    }
    parts.push(if m.cluster_watching.as_deref() == Some(lab) {
        "the watch re-checks it once the cluster settles".to_string()
    } else {
        format!(
            "{} checks it",
            super::keymap::key_for(Context::Main, Action::Check)
        )
    });
    let text = parts.join("; ");
    Notice {
        error: !a.skipped.is_empty(),
        text,
    }
}

/// Marks tasks running and asks for their grading.
fn grade(m: &mut Model, lab: &str, tasks: Vec<String>) -> Vec<Effect> {
    for t in &tasks {
        m.running.insert((lab.to_string(), t.clone()));
    }
    vec![Effect::Grade {
        lab: lab.to_string(),
        tasks,
    }]
}

fn on_key(m: &mut Model, key: &KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    m.notice = None;
    match m.overlay.take() {
        None => on_main_key(m, key),
        Some(Overlay::Help) => match lookup(Context::Main, key) {
            Some(Action::Quit) if key.modifiers.contains(KeyModifiers::CONTROL) => {
                vec![Effect::Quit]
            }
            Some(Action::Help | Action::Back | Action::Quit) => Vec::new(),
            _ => {
                m.overlay = Some(Overlay::Help);
                Vec::new()
            }
        },
        Some(Overlay::ConfirmReset { lab, task }) => match lookup(Context::Confirm, key) {
            Some(Action::Quit) => vec![Effect::Quit],
            Some(Action::Yes) => {
                m.busy += 1;
                vec![Effect::Reset { lab, task }]
            }
            _ => {
                m.notice = Some(info("reset cancelled; nothing changed".into()));
                Vec::new()
            }
        },
        Some(Overlay::Answer(form)) => on_form_key(m, form, key),
        Some(Overlay::Demo) => {
            let page = crate::ui::demo_page(m);
            super::demo::on_key(m, key, page)
        }
    }
}

fn on_form_key(m: &mut Model, mut form: AnswerForm, key: &KeyEvent) -> Vec<Effect> {
    let mut effects = Vec::new();
    let mut keep = true;
    match lookup(Context::Form, key) {
        Some(Action::Quit) => return vec![Effect::Quit],
        Some(Action::Up) => form.move_cursor(-1),
        Some(Action::Down) => form.move_cursor(1),
        Some(Action::Next) => form.switch(true),
        Some(Action::Prev) => form.switch(false),
        Some(Action::Toggle) => {
            if form
                .question()
                .is_some_and(super::answer::Question::is_text)
            {
                form.type_char(' ');
            } else {
                form.toggle();
            }
        }
        Some(Action::Backspace) => form.backspace(),
        Some(Action::Back) => keep = false,
        Some(Action::Enter) => match form.question() {
            Some(q) => match q.value() {
                Some(value) => {
                    m.busy += 1;
                    effects.push(Effect::Answer {
                        lab: form.lab.clone(),
                        task: form.task.clone(),
                        question: q.id.clone(),
                        value,
                    });
                    form.problem = None;
                    if form.current + 1 < form.questions.len() {
                        form.current += 1;
                    } else {
                        keep = false;
                    }
                }
                None => {
                    form.problem = Some(if q.is_text() {
                        "type an answer first".into()
                    } else {
                        "pick at least one choice with Space first".into()
                    });
                }
            },
            None => keep = false,
        },
        _ => {
            if let KeyCode::Char(ch) = key.code
                && !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
            {
                form.type_char(ch);
            }
        }
    }
    if keep {
        m.overlay = Some(Overlay::Answer(form));
    }
    effects
}

fn open_task(m: &mut Model, lab: usize, task: usize) -> Vec<Effect> {
    m.screen = Screen::Task;
    m.open = (lab, task);
    m.scroll = (0, 0);
    m.hscroll = (0, 0);
    m.pane = Pane::Instructions;
    match m.catalog.labs.get(lab) {
        Some(l) if m.started(&l.spec.id) || m.workspace_override.is_some() => {
            vec![Effect::LoadAnswers {
                lab: l.spec.id.clone(),
            }]
        }
        _ => Vec::new(),
    }
}

/// Opens the selected task when the list is shown; `false` when a lab row
/// is selected (there is no task to act on).
fn ensure_task_open(m: &mut Model, effects: &mut Vec<Effect>) -> bool {
    match (m.screen, m.selected_row()) {
        (Screen::Task, _) => true,
        (Screen::Labs, Some(Row::Task(l, t))) => {
            effects.extend(open_task(m, l, t));
            true
        }
        _ => {
            m.notice = Some(info(
                "select a task first (↑/↓), or open the lab with Enter".into(),
            ));
            false
        }
    }
}

/// A page: on the task screen the focused pane's height less one line
/// (so a line of context stays), on the list half the screen.
fn page(m: &Model) -> u16 {
    match m.screen {
        Screen::Task => crate::ui::pane_height(m, m.pane).saturating_sub(1).max(1),
        Screen::Labs => m.size.1.saturating_sub(8).max(1) / 2,
    }
}

fn on_main_key(m: &mut Model, key: &KeyEvent) -> Vec<Effect> {
    let Some(action) = lookup(Context::Main, key) else {
        return Vec::new();
    };
    match action {
        Action::Up => move_by(m, -1),
        Action::Down => move_by(m, 1),
        Action::PageUp => move_by(m, -i32::from(page(m))),
        Action::PageDown => move_by(m, i32::from(page(m))),
        Action::Prev | Action::Next if m.screen == Screen::Task => {
            let (l, t) = m.open;
            let n = m.catalog.labs.get(l).map_or(0, |lab| lab.spec.tasks.len());
            let t = if action == Action::Next {
                (t + 1).min(n.saturating_sub(1))
            } else {
                t.saturating_sub(1)
            };
            if t != m.open.1 {
                return open_task(m, l, t);
            }
            Vec::new()
        }
        Action::Enter => match (m.screen, m.selected_row()) {
            (Screen::Labs, Some(Row::Task(l, t))) => open_task(m, l, t),
            (Screen::Labs, Some(Row::Lab(l))) => {
                let first_open = m.catalog.labs.get(l).and_then(|lab| {
                    lab.spec
                        .tasks
                        .iter()
                        .position(|t| m.badge(lab, t) != super::TaskBadge::Passed)
                });
                open_task(m, l, first_open.unwrap_or(0))
            }
            _ => Vec::new(),
        },
        Action::Back => {
            if m.screen == Screen::Task {
                m.screen = Screen::Labs;
                let open = Row::Task(m.open.0, m.open.1);
                if let Some(i) = m.rows().iter().position(|r| *r == open) {
                    m.cursor = i;
                }
            }
            Vec::new()
        }
        Action::Focus => {
            m.pane = match m.pane {
                Pane::Instructions => Pane::Verdict,
                Pane::Verdict => Pane::Instructions,
            };
            Vec::new()
        }
        Action::Zoom => {
            if m.screen == Screen::Task {
                m.zoom = !m.zoom;
            } else {
                m.notice = Some(info(
                    "z zooms a pane of a task: open one first (Enter)".into(),
                ));
            }
            Vec::new()
        }
        Action::ScrollLeft | Action::ScrollRight if m.screen == Screen::Task => {
            let max = crate::ui::max_hscroll(m, m.pane);
            if max == 0 {
                m.notice = Some(info(
                    "no line of this pane is cut: nothing to scroll sideways".into(),
                ));
                return Vec::new();
            }
            let h = match m.pane {
                Pane::Instructions => &mut m.hscroll.0,
                Pane::Verdict => &mut m.hscroll.1,
            };
            *h = if action == Action::ScrollRight {
                h.saturating_add(HSCROLL_STEP).min(max)
            } else {
                h.saturating_sub(HSCROLL_STEP)
            };
            Vec::new()
        }
        Action::Check => {
            let Some(lab) = m.current_lab().map(|l| l.spec.id.clone()) else {
                return Vec::new();
            };
            if !can_grade(m, &lab) {
                m.notice = Some(info(format!(
                    "{lab} is not started yet: press s to create its workspace"
                )));
                return Vec::new();
            }
            let tasks = match m.screen {
                Screen::Task => m
                    .current_task()
                    .map(|(_, t)| vec![t.id.clone()])
                    .unwrap_or_default(),
                Screen::Labs => all_tasks(m, &lab),
            };
            grade(m, &lab, tasks)
        }
        Action::Watch => {
            let Some(lab) = m.current_lab().map(|l| l.spec.id.clone()) else {
                return Vec::new();
            };
            if m.watching.as_deref() == Some(lab.as_str()) {
                m.watching = None;
                m.notice = Some(info("watch off".into()));
                let mut effects = vec![Effect::Watch { lab: None }];
                effects.extend(sync_cluster_watch(m));
                return effects;
            }
            if !can_grade(m, &lab) {
                m.notice = Some(info(format!(
                    "{lab} is not started yet: press s to create its workspace"
                )));
                return Vec::new();
            }
            m.watching = Some(lab.clone());
            let mut effects = vec![Effect::Watch {
                lab: Some(lab.clone()),
            }];
            effects.extend(sync_cluster_watch(m));
            let what = if m.cluster_watching.is_some() {
                format!(
                    "every save and every change of its objects on {} re-checks {lab}",
                    m.available
                        .cluster_context
                        .as_deref()
                        .unwrap_or("the cluster")
                )
            } else {
                format!("every save re-checks {lab}")
            };
            m.notice = Some(info(format!(
                "watching {}: {what}",
                m.workspace(&lab).display()
            )));
            let tasks = all_tasks(m, &lab);
            effects.extend(grade(m, &lab, tasks));
            effects
        }
        Action::Hint => {
            let mut effects = Vec::new();
            if !ensure_task_open(m, &mut effects) {
                return effects;
            }
            let Some((lab, task)) = m.current_task() else {
                return effects;
            };
            let (lab, task_id, total) = (lab.spec.id.clone(), task.id.clone(), task.hints.len());
            let shown = m.hints_revealed(&lab, task);
            m.pane = Pane::Verdict;
            m.scroll.1 = 0;
            if total == 0 {
                m.notice = Some(info("this task has no hints".into()));
            } else if shown >= total {
                m.notice = Some(info(format!("all {total} hint(s) are revealed")));
            } else {
                m.busy += 1;
                effects.push(Effect::RevealHint { lab, task: task_id });
            }
            effects
        }
        Action::Answer => {
            let mut effects = Vec::new();
            if !ensure_task_open(m, &mut effects) {
                return effects;
            }
            let Some((lab, task)) = m.current_task() else {
                return effects;
            };
            let lab_id = lab.spec.id.clone();
            let form = AnswerForm::with_prompts(
                &lab_id,
                task,
                m.answers.get(&lab_id).and_then(|a| a.get(&task.id)),
                &|id| m.prompt(&lab_id, task, id),
            );
            match form {
                None => {
                    m.notice = Some(info(
                        "this task asks no question: edit the files in the workspace, then c"
                            .into(),
                    ));
                }
                Some(_) if !can_grade(m, &lab_id) => {
                    m.notice = Some(info(format!(
                        "start {lab_id} first (s): answers are kept in its workspace"
                    )));
                }
                Some(form) => m.overlay = Some(Overlay::Answer(form)),
            }
            effects
        }
        Action::Start => {
            let Some(lab) = m.current_lab().map(|l| l.spec.id.clone()) else {
                return Vec::new();
            };
            m.busy += 1;
            vec![Effect::Start { lab }]
        }
        Action::Reset => {
            let Some(lab) = m.current_lab().map(|l| l.spec.id.clone()) else {
                return Vec::new();
            };
            if !can_grade(m, &lab) {
                m.notice = Some(info(format!("{lab} is not started: nothing to reset")));
                return Vec::new();
            }
            // In a task's view, `r` resets that task's files only; the
            // lab's other work and every quiz answer stay.
            let task = match (m.screen, m.current_task()) {
                (Screen::Task, Some((_, t))) if t.files.is_empty() => {
                    m.notice = Some(info(format!(
                        "task {} has no files to reset (its answers change with a); reset the whole lab from the list",
                        t.id
                    )));
                    return Vec::new();
                }
                (Screen::Task, Some((_, t))) => Some(t.id.clone()),
                _ => None,
            };
            m.overlay = Some(Overlay::ConfirmReset { lab, task });
            Vec::new()
        }
        Action::Help => {
            m.overlay = Some(Overlay::Help);
            Vec::new()
        }
        Action::Scan => {
            let Some(lab) = m.current_lab() else {
                return Vec::new();
            };
            let id = lab.spec.id.clone();
            let asks = lab
                .spec
                .tasks
                .iter()
                .flat_map(|t| &t.checks)
                .any(|c| matches!(c, seclab_checkers::CheckSpec::TrivyReport(_)));
            if !asks {
                m.notice = Some(info(format!(
                    "{id} asks for no trivy report: t scans the image of a lab that does"
                )));
                return Vec::new();
            }
            if !can_grade(m, &id) {
                m.notice = Some(info(format!(
                    "{id} is not started yet: press s to create its workspace"
                )));
                return Vec::new();
            }
            if !m.available.docker {
                m.notice = Some(m.available.docker_needed("the scan"));
                return Vec::new();
            }
            m.busy += 1;
            m.notice = Some(info(format!("scanning {id}'s image with trivy…")));
            vec![Effect::ScanImage { lab: id }]
        }
        Action::Apply => apply(m),
        Action::Demo => {
            let mut effects = Vec::new();
            if !ensure_task_open(m, &mut effects) {
                return effects;
            }
            effects.extend(super::demo::start(m));
            effects
        }
        Action::Quit => vec![Effect::Quit],
        Action::Prev
        | Action::Next
        | Action::ScrollLeft
        | Action::ScrollRight
        | Action::Yes
        | Action::No
        | Action::Toggle
        | Action::Backspace => Vec::new(),
    }
}

/// `p`: the current lab's workspace onto the cluster, when it is a
/// cluster lab, started, and the cluster is at hand; else why not, and no
/// request is sent.
fn apply(m: &mut Model) -> Vec<Effect> {
    let Some(lab) = m.current_lab().map(|l| l.spec.id.clone()) else {
        return Vec::new();
    };
    if !m.is_cluster_lab(&lab) {
        m.notice = Some(info(format!(
            "{lab} has no cluster part: nothing to apply (p applies the manifests of a cluster lab)"
        )));
        return Vec::new();
    }
    if !can_grade(m, &lab) {
        m.notice = Some(info(format!(
            "{lab} is not started yet: press s to create its workspace"
        )));
        return Vec::new();
    }
    if !m.available.cluster {
        m.notice = Some(m.available.cluster_needed(&format!("applying {lab}")));
        return Vec::new();
    }
    m.busy += 1;
    m.notice = Some(info(format!(
        "applying {}'s manifests to {}…",
        m.workspace(&lab).display(),
        m.available
            .cluster_context
            .as_deref()
            .unwrap_or("the cluster")
    )));
    vec![Effect::Apply { lab }]
}

fn can_grade(m: &Model, lab: &str) -> bool {
    m.started(lab) || m.workspace_override.is_some()
}

fn move_by(m: &mut Model, delta: i32) -> Vec<Effect> {
    match m.screen {
        Screen::Labs => {
            let n = m.rows().len();
            let target = i64::try_from(m.cursor).unwrap_or(0) + i64::from(delta);
            m.cursor = usize::try_from(target.max(0))
                .unwrap_or(0)
                .min(n.saturating_sub(1));
        }
        Screen::Task => {
            let s = match m.pane {
                Pane::Instructions => &mut m.scroll.0,
                Pane::Verdict => &mut m.scroll.1,
            };
            *s = u16::try_from((i32::from(*s) + delta).max(0)).unwrap_or(u16::MAX);
        }
    }
    Vec::new()
}

/// Keeps the scroll offsets (down and sideways) within their content.
fn clamp_scroll(m: &mut Model) {
    let max_d = crate::ui::demo_max_scroll(m);
    if let Some(d) = m.demo.as_mut()
        && (d.follow || d.scroll >= max_d)
    {
        d.scroll = max_d;
        d.follow = true;
    }
    if m.screen != Screen::Task {
        return;
    }
    let max_i = crate::ui::max_scroll(m, Pane::Instructions);
    let max_v = crate::ui::max_scroll(m, Pane::Verdict);
    m.scroll.0 = m.scroll.0.min(max_i);
    m.scroll.1 = m.scroll.1.min(max_v);
    m.hscroll.0 = m
        .hscroll
        .0
        .min(crate::ui::max_hscroll(m, Pane::Instructions));
    m.hscroll.1 = m.hscroll.1.min(crate::ui::max_hscroll(m, Pane::Verdict));
}
