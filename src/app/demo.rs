//! The demo window (`d`): a task's "show me" steps run on the student's
//! Docker engine, their commands and output streaming into a scrollable
//! window. One demo runs at a time; closing the window does not stop it,
//! and `d` on the same task shows it again.

use ratatui::crossterm::event::{KeyEvent, KeyModifiers};

use super::keymap::{Action, Context, lookup};
use super::{DemoEvent, DemoRun, Effect, Model, Notice, Overlay};

/// `d`: starts the current task's demo, or shows the one that runs (or
/// last ran) for it.
pub fn start(m: &mut Model) -> Vec<Effect> {
    let Some((lab, task)) = m.current_task() else {
        m.notice = Some(Notice {
            error: false,
            text: "select a task first (↑/↓): d runs a task's demo".into(),
        });
        return Vec::new();
    };
    let (lab_id, task_id, steps) = (lab.spec.id.clone(), task.id.clone(), task.demo.len());
    if steps == 0 {
        m.notice = Some(Notice {
            error: false,
            text: format!("{lab_id}/{task_id} has no demo; the tasks that have one say so"),
        });
        return Vec::new();
    }
    if let Some(d) = &m.demo {
        let same = d.lab == lab_id && d.task == task_id;
        if same && d.running {
            m.overlay = Some(Overlay::Demo);
            return Vec::new();
        }
        if d.running {
            m.notice = Some(Notice {
                error: false,
                text: format!(
                    "the demo of {}/{} still runs; d shows it again when it is done",
                    d.lab, d.task
                ),
            });
            return Vec::new();
        }
    }
    if !m.available.docker {
        m.notice = Some(m.available.docker_needed("the demo"));
        return Vec::new();
    }
    m.demo = Some(DemoRun::new(&lab_id, &task_id));
    m.overlay = Some(Overlay::Demo);
    m.busy += 1;
    vec![Effect::Demo {
        lab: lab_id,
        task: task_id,
    }]
}

/// A line of the demo, or its end.
pub fn on_event(m: &mut Model, lab: &str, task: &str, event: DemoEvent) -> Vec<Effect> {
    let Some(d) = m.demo.as_mut().filter(|d| d.lab == lab && d.task == task) else {
        return Vec::new();
    };
    match event {
        DemoEvent::Line(line) => d.lines.push(line),
        DemoEvent::Done(outcome) => {
            d.running = false;
            m.busy = m.busy.saturating_sub(1);
            m.notice = Some(match outcome {
                Ok(()) => Notice {
                    error: false,
                    text: format!("demo of {lab}/{task} done; its containers are removed"),
                },
                Err(e) => {
                    d.error = Some(e.clone());
                    Notice {
                        error: true,
                        text: format!("demo of {lab}/{task} stopped: {e}"),
                    }
                }
            });
        }
    }
    Vec::new()
}

/// Keys while the demo window is open: scroll, close (Esc, `d`, `q`), or
/// quit (Ctrl-C).
pub fn on_key(m: &mut Model, key: &KeyEvent, page: u16) -> Vec<Effect> {
    let action = lookup(Context::Main, key);
    if action == Some(Action::Quit) && key.modifiers.contains(KeyModifiers::CONTROL) {
        return vec![Effect::Quit];
    }
    let mut keep = true;
    if let Some(d) = m.demo.as_mut() {
        match action {
            Some(Action::Up) => scroll(d, -1),
            Some(Action::Down) => scroll(d, 1),
            Some(Action::PageUp) => scroll(d, -i32::from(page)),
            Some(Action::PageDown) => scroll(d, i32::from(page)),
            Some(Action::Back | Action::Demo | Action::Quit | Action::Help) => keep = false,
            _ => {}
        }
    } else {
        keep = false;
    }
    if keep {
        m.overlay = Some(Overlay::Demo);
    }
    Vec::new()
}

fn scroll(d: &mut DemoRun, by: i32) {
    let to = i32::from(d.scroll).saturating_add(by).max(0);
    d.scroll = u16::try_from(to).unwrap_or(u16::MAX);
    // Scrolling up leaves the tail; the view follows again once the
    // student scrolls back to the end (`update` clamps and sets `follow`).
    if by < 0 {
        d.follow = false;
    }
}
