//! Windows over the screen: the key table (`?`, drawn from
//! `app::keymap::BINDINGS`), the reset confirmation, and the answer form
//! (a choice list for quizzes, a text input for short answers and flags).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use seclab_checkers::quiz::label;

use super::flow::{self, FlowLine};
use super::theme::Theme;
use crate::app::AnswerForm;
use crate::app::keymap::{BINDINGS, Context, keys_label};
use crate::app::{Model, Overlay};

/// A `w`×`h` rectangle centred in `area` (clipped to it).
pub fn centred(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// Draws the open window, if any.
pub fn draw(frame: &mut Frame<'_>, area: Rect, m: &Model) {
    let theme = Theme::new(m.no_color);
    match &m.overlay {
        None => {}
        Some(Overlay::Help) => help(frame, area, theme),
        Some(Overlay::ConfirmReset { lab, task }) => {
            let rect = centred(area, 60, 7);
            let (title, body) = match task {
                Some(t) => (
                    format!("Reset the files of {lab}/{t}?"),
                    "They go back to the start files; the other tasks' work and your answers stay. A backup is kept in the state dir.".to_owned(),
                ),
                None => (
                    format!("Reset {lab}?"),
                    "Its workspace goes back to the start files, answers included; a backup is kept in the state dir.".to_owned(),
                ),
            };
            let text = vec![
                Line::from(title),
                Line::from(body),
                Line::default(),
                Line::from(Span::styled("y: reset   n / Esc: keep it", theme.dim())),
            ];
            frame.render_widget(Clear, rect);
            frame.render_widget(
                Paragraph::new(text)
                    .wrap(Wrap { trim: false })
                    .block(Block::default().borders(Borders::ALL).title(" Reset ")),
                rect,
            );
        }
        Some(Overlay::Answer(form)) => answer(frame, area, form, theme),
        Some(Overlay::Demo) => super::demo::draw(frame, area, m),
    }
}

fn context_title(c: Context) -> &'static str {
    match c {
        Context::Global => "Everywhere",
        Context::Main => "Lab list and task",
        Context::Confirm => "Yes/no questions",
        Context::Form => "Answer form",
    }
}

fn section(c: Context, theme: Theme, lines: &mut Vec<Line<'static>>) {
    if !lines.is_empty() {
        lines.push(Line::default());
    }
    lines.push(Line::from(Span::styled(context_title(c), theme.heading())));
    for b in BINDINGS.iter().filter(|b| b.context == c) {
        lines.push(Line::from(vec![
            Span::styled(
                format!(" {:<12}", keys_label(b)),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(b.help),
        ]));
    }
}

fn help(frame: &mut Frame<'_>, area: Rect, theme: Theme) {
    let rect = centred(area, 80, 24);
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Keys — ? or Esc closes ");
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(52), Constraint::Percentage(48)]).areas(inner);
    let mut l = Vec::new();
    section(Context::Main, theme, &mut l);
    let mut r = Vec::new();
    // Rows of the main keys that do not fit on the left continue at the
    // top of the right column.
    let room = usize::from(left.height);
    if l.len() > room {
        r = l.split_off(room);
        r.push(Line::default());
    }
    let mut others = Vec::new();
    for c in [Context::Form, Context::Confirm, Context::Global] {
        section(c, theme, &mut others);
    }
    r.extend(others);
    frame.render_widget(Paragraph::new(l), left);
    frame.render_widget(Paragraph::new(r), right);
}

fn answer(frame: &mut Frame<'_>, area: Rect, form: &AnswerForm, theme: Theme) {
    let Some(q) = form.question() else { return };
    let width = 74.min(area.width);
    let title = format!(
        " Answer {}/{}: {} — question {}/{} ",
        form.lab,
        form.task,
        q.id,
        form.current + 1,
        form.questions.len()
    );
    let block = Block::default().borders(Borders::ALL).title(title);
    let mut lines = vec![FlowLine::plain(q.prompt.clone()), FlowLine::blank()];
    if q.is_text() {
        lines.push(FlowLine::hang(
            vec![
                Span::raw("> "),
                Span::styled(q.text.clone(), theme.code()),
                Span::styled("█", Style::new().add_modifier(Modifier::SLOW_BLINK)),
            ],
            2,
        ));
    } else {
        for (i, c) in q.choices.iter().enumerate() {
            let on = if q.multiple {
                if q.picked.contains(&i) { "[x]" } else { "[ ]" }
            } else if i == q.cursor {
                "(•)"
            } else {
                "( )"
            };
            let here = if i == q.cursor { "▶" } else { " " };
            let head = format!("{here} {on} {}) ", label(i));
            let hang = Span::raw(head.as_str()).width();
            let mut line = Line::from(format!("{head}{c}"));
            if i == q.cursor {
                line = line.patch_style(theme.selected());
            }
            // A long choice continues under its text, not under `▶ [x]`.
            lines.push(FlowLine::hang(line, hang));
        }
    }
    lines.push(FlowLine::blank());
    if let Some(p) = &form.problem {
        lines.push(FlowLine::plain(Span::styled(p.clone(), theme.fail())));
    }
    let keys = if q.is_text() {
        "type the answer · Enter record · Tab next question · Esc close"
    } else if q.multiple {
        "↑↓ move · Space or letter pick · Enter record · Tab next question · Esc close"
    } else {
        "↑↓ or letter choose · Enter record · Tab next question · Esc close"
    };
    lines.push(FlowLine::plain(Span::styled(keys, theme.dim())));
    let laid = flow::lay_out(&lines, width.saturating_sub(2), 0);
    let height = laid.lines.len() + 2;
    let rect = centred(area, width, u16::try_from(height).unwrap_or(u16::MAX));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(laid.lines).block(block), rect);
}
