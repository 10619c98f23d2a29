//! The lab list: each lab with a progress gauge, then its tasks with a
//! status glyph and word. The selected row is marked `▶` and reversed.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::theme::{Theme, spinner};
use super::truncate;
use crate::app::{Model, Row, TaskBadge};

/// Width of the gauge bar, in cells.
const GAUGE: usize = 20;

/// A text gauge: `████░░░░ 2/5 passed`.
pub fn gauge(passed: usize, total: usize) -> String {
    let filled = (passed * GAUGE).checked_div(total).unwrap_or(0);
    format!(
        "{}{} {passed}/{total} passed",
        "█".repeat(filled),
        "░".repeat(GAUGE - filled)
    )
}

/// The badge as shown: glyph (animated when running) and word.
pub fn badge_text(b: TaskBadge, frame: usize) -> String {
    let glyph = if b == TaskBadge::Running {
        spinner(frame)
    } else {
        b.glyph()
    };
    format!("{glyph} {}", b.word())
}

/// Draws the list into `area`.
pub fn draw(frame: &mut Frame<'_>, area: Rect, m: &Model) {
    let theme = Theme::new(m.no_color);
    let width = usize::from(area.width.saturating_sub(2));
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut cursor_line = 0;
    for (i, row) in m.rows().into_iter().enumerate() {
        let selected = i == m.cursor;
        if selected {
            cursor_line = lines.len();
        }
        let mark = if selected { "▶ " } else { "  " };
        let mut line = match row {
            Row::Lab(l) => {
                let Some(lab) = m.catalog.labs.get(l) else {
                    continue;
                };
                if !lines.is_empty() {
                    lines.push(Line::default());
                    if selected {
                        cursor_line += 1;
                    }
                }
                let needs = lab
                    .spec
                    .needs()
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                let ext = if lab.origin == crate::lab::Origin::BuiltIn {
                    ""
                } else {
                    " (external)"
                };
                let head = format!("{mark}{}{ext} — {}", lab.spec.id, lab.spec.title);
                let line = Line::from(vec![Span::styled(truncate(&head, width), theme.heading())]);
                let (passed, total) = m.lab_progress(lab);
                let watch = if m.watching.as_deref() == Some(lab.spec.id.as_str()) {
                    " · watching"
                } else {
                    ""
                };
                let gauge_line = Line::from(vec![
                    Span::raw("    "),
                    Span::styled(gauge(passed, total), theme.pass()),
                    Span::styled(
                        truncate(
                            &format!(" · needs: {needs}{watch}"),
                            width.saturating_sub(GAUGE + 20),
                        ),
                        theme.dim(),
                    ),
                ]);
                let line = if selected {
                    line.patch_style(theme.selected())
                } else {
                    line
                };
                lines.push(line);
                lines.push(gauge_line);
                continue;
            }
            Row::Task(l, t) => {
                let Some(lab) = m.catalog.labs.get(l) else {
                    continue;
                };
                let Some(task) = lab.spec.tasks.get(t) else {
                    continue;
                };
                let b = m.badge(lab, task);
                let text = format!("{:<15}", badge_text(b, m.frame));
                // Align titles within a lab: its longest task id sets the column.
                let id_width = lab
                    .spec
                    .tasks
                    .iter()
                    .map(|t| t.id.chars().count())
                    .max()
                    .unwrap_or(0);
                let rest = format!("{:<id_width$} {}", task.id, task.title);
                let used = 4 + 15 + 1;
                Line::from(vec![
                    Span::raw(format!("  {mark}")),
                    Span::styled(text, theme.badge(b)),
                    Span::raw(" "),
                    Span::raw(truncate(&rest, width.saturating_sub(used))),
                ])
            }
        };
        if selected {
            line = line.patch_style(theme.selected());
        }
        lines.push(line);
    }
    let inner_h = usize::from(area.height.saturating_sub(2));
    // Keep the selected row (and, for a lab, its gauge) in view.
    let offset = (cursor_line + 2).saturating_sub(inner_h);
    let title = format!(" seclab — {} lab(s) ", m.catalog.labs.len());
    let block = Block::default().borders(Borders::ALL).title(title);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((u16::try_from(offset).unwrap_or(0), 0)),
        area,
    );
}
