//! The views: functions from the [`Model`] to a frame. They only read the
//! model. One pane per file: [`labs`] (the lab list), [`task`] (the
//! instructions), [`verdict`] (checks, findings, hints), [`status`] (the
//! status bar), [`overlay`] (help, confirm, answer form); [`markdown`]
//! turns instructions into styled lines and [`theme`] holds the styles
//! (NO_COLOR: modifiers only).

pub mod labs;
pub mod markdown;
pub mod overlay;
pub mod status;
pub mod task;
pub mod theme;
pub mod verdict;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Text;
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::{Model, Pane, Screen};

/// The areas of the task screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskAreas {
    /// The title line.
    pub header: Rect,
    /// The instructions pane (with its border).
    pub instructions: Rect,
    /// The verdict pane (with its border).
    pub verdict: Rect,
    /// The status bar.
    pub status: Rect,
}

/// Splits the screen for the task view.
pub fn task_areas(area: Rect) -> TaskAreas {
    let [header, instructions, verdict, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Percentage(55),
        Constraint::Min(5),
        Constraint::Length(2),
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
pub fn labs_areas(area: Rect) -> (Rect, Rect) {
    let [list, status] = Layout::vertical([Constraint::Min(3), Constraint::Length(2)]).areas(area);
    (list, status)
}

/// Draws the whole screen.
pub fn view(frame: &mut Frame<'_>, m: &Model) {
    let area = frame.area();
    match m.screen {
        Screen::Labs => {
            let (list, status) = labs_areas(area);
            labs::draw(frame, list, m);
            status::draw(frame, status, m);
        }
        Screen::Task => {
            let a = task_areas(area);
            task::draw_header(frame, a.header, m);
            task::draw(frame, a.instructions, m);
            verdict::draw(frame, a.verdict, m);
            status::draw(frame, a.status, m);
        }
    }
    overlay::draw(frame, area, m);
}

/// Lines `text` takes when wrapped to `width` columns.
pub fn wrapped_height(text: &Text<'_>, width: u16) -> usize {
    Paragraph::new(text.clone())
        .wrap(Wrap { trim: false })
        .line_count(width)
}

/// How far a pane of the task screen can scroll.
pub fn max_scroll(m: &Model, pane: Pane) -> u16 {
    let area = Rect::new(0, 0, m.size.0, m.size.1);
    let a = task_areas(area);
    let (rect, text) = match pane {
        Pane::Instructions => (
            a.instructions,
            task::text(m, a.instructions.width.saturating_sub(2)),
        ),
        Pane::Verdict => (a.verdict, verdict::text(m)),
    };
    let inner_w = rect.width.saturating_sub(2);
    let inner_h = usize::from(rect.height.saturating_sub(2));
    let lines = wrapped_height(&text, inner_w);
    u16::try_from(lines.saturating_sub(inner_h)).unwrap_or(u16::MAX)
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
