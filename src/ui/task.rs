//! The task pane: a title line, then the instructions rendered from
//! Markdown and the task's questions with their choices and the current
//! answers, scrollable (down, and sideways for code lines wider than the
//! pane), zoomable to the whole body.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use seclab_checkers::quiz::label;
use serde_json::Value;

use super::flow::{self, FlowLine};
use super::labs::badge_text;
use super::markdown;
use super::theme::Theme;
use super::truncate;
use crate::app::keymap::{Action, Context, key_for};
use crate::app::{Model, Pane};

/// The title line: lab › task, its badge, and where it is in the lab.
pub fn draw_header(frame: &mut Frame<'_>, area: Rect, m: &Model) {
    let theme = Theme::new(m.no_color);
    let Some((lab, task)) = m.current_task() else {
        return;
    };
    let b = m.badge(lab, task);
    let badge = format!(" {} ", badge_text(b, m.frame));
    let pos = format!(" task {}/{} ", m.open.1 + 1, lab.spec.tasks.len());
    let room = usize::from(area.width).saturating_sub(badge.chars().count() + pos.chars().count());
    let title = truncate(
        &format!(" {} › {}: {}", lab.spec.id, task.id, task.title),
        room,
    );
    let pad = room.saturating_sub(title.chars().count());
    let line = Line::from(vec![
        Span::styled(title, Style::new().add_modifier(Modifier::BOLD)),
        Span::raw(" ".repeat(pad)),
        Span::styled(badge, theme.badge(b)),
        Span::styled(pos, theme.dim()),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

fn answer_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// The pane's content for `width` columns: instructions, then questions
/// (a question's prompt, its choices and the answer hang under their text).
pub fn lines(m: &Model, width: u16) -> Vec<FlowLine> {
    let theme = Theme::new(m.no_color);
    let Some((lab, task)) = m.current_task() else {
        return Vec::new();
    };
    let mut lines = markdown::render(&lab.instructions(task), width, theme, m.no_color);
    if !task.demo.is_empty() {
        let steps = task.demo.len();
        lines.push(FlowLine::blank());
        lines.push(FlowLine::plain(Span::styled(
            format!(
                "Demo: press {} to run it on your Docker engine ({steps} step{}); it shows each command and its output.",
                key_for(Context::Main, Action::Demo),
                if steps == 1 { "" } else { "s" }
            ),
            theme.hint(),
        )));
    }
    let questions = crate::session::questions(task);
    if !questions.is_empty() {
        lines.push(FlowLine::blank());
        lines.push(FlowLine::plain(Span::styled("Questions", theme.heading())));
        for (id, quiz) in questions {
            lines.push(FlowLine::blank());
            let prompt = m.prompt(&lab.spec.id, task, id);
            let head = format!("{id}: ");
            let hang = Span::raw(head.as_str()).width();
            lines.push(FlowLine::hang(
                vec![
                    Span::styled(head, Style::new().add_modifier(Modifier::BOLD)),
                    Span::raw(prompt),
                ],
                hang,
            ));
            if let Some(q) = quiz {
                for (i, c) in q.choices.iter().enumerate() {
                    let head = format!("  {}) ", label(i));
                    let hang = Span::raw(head.as_str()).width();
                    lines.push(FlowLine::hang(format!("{head}{c}"), hang));
                }
            }
            let current = m.answer(&lab.spec.id, &task.id, id).map(answer_text);
            lines.push(match current {
                Some(a) => FlowLine::hang(
                    Span::styled(format!("  your answer: {a}"), theme.code()),
                    "  your answer: ".len(),
                ),
                None => {
                    FlowLine::plain(Span::styled("  not answered yet".to_string(), theme.dim()))
                }
            });
        }
        lines.push(FlowLine::blank());
        lines.push(FlowLine::plain(Span::styled(
            format!(
                "Press {} to answer, {} to check.",
                key_for(Context::Main, Action::Answer),
                key_for(Context::Main, Action::Check)
            ),
            theme.dim(),
        )));
    }
    lines
}

/// Draws the instructions pane.
pub fn draw(frame: &mut Frame<'_>, area: Rect, m: &Model) {
    let width = area.width.saturating_sub(2);
    draw_pane(
        frame,
        area,
        m,
        (" Instructions ", Pane::Instructions),
        &lines(m, width),
    );
}

/// Draws one of the two scrolling panes: its lines laid out at the pane's
/// width, scrolled down and sideways by the pane's own offsets, in a border
/// that says what is cut and where the view is.
pub fn draw_pane(
    frame: &mut Frame<'_>,
    area: Rect,
    m: &Model,
    (title, pane): (&'static str, Pane),
    content: &[FlowLine],
) {
    let theme = Theme::new(m.no_color);
    let width = area.width.saturating_sub(2);
    let (scroll, hscroll) = match pane {
        Pane::Instructions => (m.scroll.0, m.hscroll.0),
        Pane::Verdict => (m.scroll.1, m.hscroll.1),
    };
    let laid = flow::lay_out(content, width, hscroll);
    let view = PaneView {
        title,
        focused: m.pane == pane,
        zoomed: m.zoom,
        scroll,
        total: laid.lines.len(),
        hscroll: hscroll.min(laid.max_hscroll),
        max_hscroll: laid.max_hscroll,
    };
    let block = pane_block(&view, theme, area);
    frame.render_widget(
        Paragraph::new(laid.lines).block(block).scroll((scroll, 0)),
        area,
    );
}

/// What a pane's border shows.
#[derive(Debug, Clone, Copy)]
pub struct PaneView {
    /// The name, with a space either side.
    pub title: &'static str,
    /// Whether the scroll keys move this pane.
    pub focused: bool,
    /// Whether it takes the whole body.
    pub zoomed: bool,
    /// The first line shown.
    pub scroll: u16,
    /// All its lines, laid out.
    pub total: usize,
    /// The sideways offset of its cut lines.
    pub hscroll: u16,
    /// How far they can scroll sideways (0: nothing is cut).
    pub max_hscroll: u16,
}

/// A pane's border: `▸` and bold when focused, `zoomed` when it takes the
/// whole body; at the bottom, the sideways keys when some line is cut
/// (left) and the scroll position when the content does not fit (right).
pub fn pane_block(v: &PaneView, theme: Theme, area: Rect) -> Block<'static> {
    let inner = usize::from(area.height.saturating_sub(2));
    let zoom = if v.zoomed {
        format!(
            "— zoomed, {} for both panes ",
            key_for(Context::Main, Action::Zoom)
        )
    } else {
        String::new()
    };
    let (title, style) = if v.focused {
        (format!("▸{}{zoom}", v.title), theme.focused())
    } else {
        (format!(" {}{zoom}", v.title), Style::new())
    };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(style)
        .title(Span::styled(title, style));
    if v.total > inner {
        let first = usize::from(v.scroll) + 1;
        let last = (usize::from(v.scroll) + inner).min(v.total);
        block =
            block.title_bottom(Line::from(format!(" {first}-{last}/{} ", v.total)).right_aligned());
    }
    if v.max_hscroll > 0 {
        block = block.title_bottom(Line::from(format!(
            " wide lines cut {}: {}/{} sideways {}/{} ",
            flow::CUT_RIGHT,
            key_for(Context::Main, Action::ScrollLeft),
            key_for(Context::Main, Action::ScrollRight),
            v.hscroll,
            v.max_hscroll
        )));
    }
    block
}
