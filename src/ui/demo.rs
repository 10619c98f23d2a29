//! The demo window: a task's demo as it streams — each step's sentence,
//! the `docker run` and `docker exec` lines a student would type, their
//! output, what seclab makes of it (decoded capabilities) and what the
//! engine refused. Commands and output are never re-wrapped (they are cut
//! at the edge); sentences wrap.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::flow::{self, FlowLine};
use super::markdown::expand_tabs;
use super::theme::{Theme, spinner};
use crate::app::{DemoLine, DemoRun, Model};

/// The window's rectangle in a screen of `area`: all of it but a margin.
fn rect(area: Rect) -> Rect {
    let (mx, my) = (
        2.min(area.width.saturating_sub(20) / 2),
        1.min(area.height / 8),
    );
    Rect::new(
        area.x + mx,
        area.y + my,
        area.width.saturating_sub(2 * mx),
        area.height.saturating_sub(2 * my),
    )
}

fn screen(m: &Model) -> Rect {
    Rect::new(0, 0, m.size.0, m.size.1)
}

/// The lines the window shows at once (inside its border).
pub fn page(m: &Model) -> u16 {
    rect(screen(m)).height.saturating_sub(2)
}

/// The demo's lines for the window.
pub fn lines(d: &DemoRun, theme: Theme) -> Vec<FlowLine> {
    let mut out = Vec::new();
    for l in &d.lines {
        match l {
            DemoLine::Say(s) => {
                if !out.is_empty() {
                    out.push(FlowLine::blank());
                }
                out.push(FlowLine::plain(Span::styled(s.clone(), theme.heading())));
            }
            DemoLine::Command(c) => out.push(FlowLine::cut(
                Line::from(vec![Span::raw("$ "), Span::styled(c.clone(), theme.code())]),
                2,
            )),
            DemoLine::Output(o) => out.push(FlowLine::cut(format!("  {}", expand_tabs(o)), 2)),
            DemoLine::Note(n) => out.push(FlowLine::hang(
                Span::styled(format!("  → {n}"), theme.hint()),
                4,
            )),
            DemoLine::Refused(r) => out.push(FlowLine::hang(
                Span::styled(format!("  ✗ {r}"), theme.warn()),
                4,
            )),
        }
    }
    if let Some(e) = &d.error {
        out.push(FlowLine::blank());
        out.push(FlowLine::plain(Span::styled(
            format!("stopped: {e}"),
            theme.fail(),
        )));
    }
    if d.running && out.is_empty() {
        out.push(FlowLine::plain(Span::styled(
            "connecting to the engine…".to_string(),
            theme.dim(),
        )));
    }
    out
}

/// How far the window can scroll down.
pub fn max_scroll(m: &Model) -> u16 {
    let Some(d) = &m.demo else { return 0 };
    let r = rect(screen(m));
    let inner_w = r.width.saturating_sub(2);
    let n = flow::height(&lines(d, Theme::new(m.no_color)), inner_w);
    u16::try_from(n.saturating_sub(usize::from(r.height.saturating_sub(2)))).unwrap_or(u16::MAX)
}

/// Draws the window.
pub fn draw(frame: &mut Frame<'_>, area: Rect, m: &Model) {
    let Some(d) = &m.demo else { return };
    let theme = Theme::new(m.no_color);
    let r = rect(area);
    let state = if d.running {
        format!("{} running", spinner(m.frame))
    } else if d.error.is_some() {
        "stopped".to_string()
    } else {
        "done".to_string()
    };
    let title = format!(
        " Demo {}/{} — {state} · ↑↓ scroll · Esc closes ",
        d.lab, d.task
    );
    let block = Block::default().borders(Borders::ALL).title(title);
    let inner = block.inner(r);
    let laid = flow::lay_out(&lines(d, theme), inner.width, 0);
    frame.render_widget(Clear, r);
    frame.render_widget(
        Paragraph::new(laid.lines)
            .scroll((d.scroll, 0))
            .block(block),
        r,
    );
}
