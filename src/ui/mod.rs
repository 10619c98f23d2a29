//! The views: functions from the [`Model`] to a frame. They only read the
//! model. One pane per file: [`labs`] (the lab list), [`task`] (the
//! instructions), [`verdict`] (checks, findings, hints), [`status`] (the
//! status bar), [`overlay`] (help, confirm, answer form); [`markdown`]
//! turns instructions into styled lines, [`flow`] lays lines out (wrapped
//! with a hanging indent, or cut and scrolled sideways) and [`theme`]
//! holds the styles (NO_COLOR: modifiers only).

pub mod demo;
pub mod flow;
pub mod labs;
pub mod markdown;
pub mod overlay;
pub mod status;
pub mod task;
pub mod theme;
pub mod verdict;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

use crate::app::{Model, Pane, Screen};
use flow::FlowLine;

/// The areas of the task screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskAreas {
    /// The title line.
    pub header: Rect,
    /// The instructions pane (with its border; no height when the verdict
    /// is zoomed).
    pub instructions: Rect,
    /// The verdict pane (with its border; no height when the instructions
    /// are zoomed).
    pub verdict: Rect,
    /// The status bar.
    pub status: Rect,
}

/// Splits the screen for the task view: the title line, the two panes
/// (or, zoomed, the focused one over the whole body), the status bar as
/// high as its message needs.
pub fn task_areas(area: Rect, m: &Model) -> TaskAreas {
    let status_h = status::height(m, area);
    if m.zoom {
        let [header, body, status] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(0),
            Constraint::Length(status_h),
        ])
        .areas(area);
        let hidden = Rect::new(body.x, body.y, body.width, 0);
        let (instructions, verdict) = match m.pane {
            Pane::Instructions => (body, hidden),
            Pane::Verdict => (hidden, body),
        };
        return TaskAreas {
            header,
            instructions,
            verdict,
            status,
        };
    }
    let [header, instructions, verdict, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Percentage(55),
        Constraint::Min(5),
        Constraint::Length(status_h),
    ])
    .areas(area);
    TaskAreas {
        header,
        instructions,
        verdict,
        status,
    }
}

/// Splits the screen for the lab list: list and status bar.
pub fn labs_areas(area: Rect, m: &Model) -> (Rect, Rect) {
    let [list, status] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(status::height(m, area)),
    ])
    .areas(area);
    (list, status)
}

/// Draws the whole screen.
pub fn view(frame: &mut Frame<'_>, m: &Model) {
    let area = frame.area();
    match m.screen {
        Screen::Labs => {
            let (list, status) = labs_areas(area, m);
            labs::draw(frame, list, m);
            status::draw(frame, status, m);
        }
        Screen::Task => {
            let a = task_areas(area, m);
            task::draw_header(frame, a.header, m);
            if a.instructions.height > 0 {
                task::draw(frame, a.instructions, m);
            }
            if a.verdict.height > 0 {
                verdict::draw(frame, a.verdict, m);
            }
            status::draw(frame, a.status, m);
        }
    }
    overlay::draw(frame, area, m);
}

/// A pane's rectangle (with its border) at the model's terminal size.
fn pane_rect(m: &Model, pane: Pane) -> Rect {
    let a = task_areas(Rect::new(0, 0, m.size.0, m.size.1), m);
    match pane {
        Pane::Instructions => a.instructions,
        Pane::Verdict => a.verdict,
    }
}

/// A pane's lines for its inner width.
fn pane_lines(m: &Model, pane: Pane, width: u16) -> Vec<FlowLine> {
    match pane {
        Pane::Instructions => task::lines(m, width),
        Pane::Verdict => verdict::lines(m),
    }
}

/// The lines a pane shows at once (inside its border).
pub fn pane_height(m: &Model, pane: Pane) -> u16 {
    pane_rect(m, pane).height.saturating_sub(2)
}

/// How far a pane of the task screen can scroll down.
pub fn max_scroll(m: &Model, pane: Pane) -> u16 {
    let rect = pane_rect(m, pane);
    let inner_w = rect.width.saturating_sub(2);
    let inner_h = usize::from(rect.height.saturating_sub(2));
    let lines = flow::height(&pane_lines(m, pane, inner_w), inner_w);
    u16::try_from(lines.saturating_sub(inner_h)).unwrap_or(u16::MAX)
}

/// How far a pane's cut lines (code, tables, the matrix) can scroll
/// sideways: 0 when every line fits.
pub fn max_hscroll(m: &Model, pane: Pane) -> u16 {
    let inner_w = pane_rect(m, pane).width.saturating_sub(2);
    flow::lay_out(&pane_lines(m, pane, inner_w), inner_w, 0).max_hscroll
}

/// A page of the demo window (for PgUp/PgDn).
pub fn demo_page(m: &Model) -> u16 {
    demo::page(m).saturating_sub(1).max(1)
}

/// How far the demo window can scroll down.
pub fn demo_max_scroll(m: &Model) -> u16 {
    demo::max_scroll(m)
}

/// `text` cut to `width` characters, with `…` when cut.
pub fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// `text` cut from the left to `width` characters (paths keep their end).
pub fn truncate_left(text: &str, width: usize) -> String {
    let n = text.chars().count();
    if n <= width {
        return text.to_string();
    }
    let mut s = String::from("…");
    s.extend(text.chars().skip(n - width.saturating_sub(1)));
    s
}
