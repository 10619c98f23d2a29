//! The task pane: a title line, then the instructions rendered from
//! Markdown and the task's questions with their choices and the current
//! answers, scrollable.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use seclab_checkers::quiz::label;
use serde_json::Value;

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

/// The pane's content: instructions, then questions.
pub fn text(m: &Model, _width: u16) -> Text<'static> {
    let theme = Theme::new(m.no_color);
    let Some((lab, task)) = m.current_task() else {
        return Text::default();
    };
    let mut lines = markdown::render(&lab.instructions(task), theme, m.no_color);
    let questions = crate::session::questions(task);
    if !questions.is_empty() {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled("Questions", theme.heading())));
        for (id, quiz) in questions {
            lines.push(Line::default());
            let prompt = quiz.map_or_else(String::new, |q| q.question.trim().to_string());
            lines.push(Line::from(vec![
                Span::styled(format!("{id}: "), Style::new().add_modifier(Modifier::BOLD)),
                Span::raw(prompt),
            ]));
            if let Some(q) = quiz {
                for (i, c) in q.choices.iter().enumerate() {
                    lines.push(Line::from(format!("  {}) {c}", label(i))));
                }
            }
            let current = m.answer(&lab.spec.id, &task.id, id).map(answer_text);
            lines.push(Line::from(match current {
                Some(a) => Span::styled(format!("  your answer: {a}"), theme.code()),
                None => Span::styled("  not answered yet".to_string(), theme.dim()),
            }));
        }
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            format!(
                "Press {} to answer, {} to check.",
                key_for(Context::Main, Action::Answer),
                key_for(Context::Main, Action::Check)
            ),
            theme.dim(),
        )));
    }
    Text::from(lines)
}

/// Draws the instructions pane.
pub fn draw(frame: &mut Frame<'_>, area: Rect, m: &Model) {
    let theme = Theme::new(m.no_color);
    let text = text(m, area.width.saturating_sub(2));
    let total = super::wrapped_height(&text, area.width.saturating_sub(2));
    let focused = m.pane == Pane::Instructions;
    let block = pane_block(" Instructions ", focused, theme, m.scroll.0, total, area);
    frame.render_widget(
        Paragraph::new(text)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((m.scroll.0, 0)),
        area,
    );
}

/// A pane's border: `▸` and bold when focused; the scroll position at the
/// bottom right when the content does not fit.
pub fn pane_block(
    title: &str,
    focused: bool,
    theme: Theme,
    scroll: u16,
    total: usize,
    area: Rect,
) -> Block<'static> {
    let inner = usize::from(area.height.saturating_sub(2));
    let (title, style) = if focused {
        (format!("▸{title}"), theme.focused())
    } else {
        (format!(" {title}"), Style::new())
    };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(style)
        .title(Span::styled(title, style));
    if total > inner {
        let first = usize::from(scroll) + 1;
        let last = (usize::from(scroll) + inner).min(total);
        block = block.title_bottom(Line::from(format!(" {first}-{last}/{total} ")).right_aligned());
    }
    block
}
