//! The status bar: what grading can use (offline / docker / cluster, the
//! cluster's context named when it is at hand), the workspace of the
//! current lab, watch on/off; below it the last message or the main keys,
//! with a spinner while work is in flight. A message
//! longer than a line wraps onto more lines (the bar grows, up to a
//! quarter of the screen), so it is read whole and not cut at the edge.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::flow::{self, FlowLine};
use super::theme::{Theme, spinner};
use super::truncate_left;
use crate::app::keymap::{Action, Context, key_for};
use crate::app::{Model, Screen};

/// The most lines a message may take: a quarter of the screen (at 80×24,
/// six lines, some 470 characters), at least one.
fn max_message_lines(area: Rect) -> usize {
    usize::from(area.height / 4).max(1)
}

/// What leads the second line: a spinner while work is in flight.
fn lead(m: &Model) -> String {
    if m.animating() {
        format!(" {} ", spinner(m.frame))
    } else {
        " ".to_string()
    }
}

/// The message's lines for `width` columns, hanging under its first
/// word; cut with `…` only past the most lines it may take.
fn message_lines(m: &Model, area: Rect) -> Option<Vec<Line<'static>>> {
    let n = m.notice.as_ref()?;
    let theme = Theme::new(m.no_color);
    let style = if n.error {
        theme.fail()
    } else {
        Style::default()
    };
    let lead = lead(m);
    let hang = lead.chars().count();
    let line = FlowLine::hang(
        vec![Span::raw(lead), Span::styled(n.text.clone(), style)],
        hang,
    );
    let mut lines = flow::lay_out(&[line], area.width, 0).lines;
    let max = max_message_lines(area);
    if lines.len() > max {
        lines.truncate(max);
        if let Some(last) = lines.last_mut() {
            let text: String = last.spans.iter().map(|s| s.content.as_ref()).collect();
            let keep = text
                .chars()
                .count()
                .min(usize::from(area.width).saturating_sub(1));
            let cut: String = text.chars().take(keep).collect();
            *last = Line::from(vec![Span::styled(format!("{cut}…"), style)]);
        }
    }
    Some(lines)
}

/// The status bar's height in `area`: the first line and the message (or
/// the keys).
pub fn height(m: &Model, area: Rect) -> u16 {
    let message = message_lines(m, area).map_or(1, |l| l.len().max(1));
    u16::try_from(1 + message).unwrap_or(u16::MAX)
}

/// The key hints, each with its weight: when they do not fit, the
/// lightest go first (`? keys`, which leads to all of them, stays).
fn key_hints(m: &Model) -> Vec<(u8, String)> {
    let k = |a| key_for(Context::Main, a);
    let hints = match m.screen {
        Screen::Labs => vec![
            (2, "↑↓ move".to_string()),
            (6, "Enter open".to_string()),
            (5, format!("{} start", k(Action::Start))),
            (4, format!("{} check", k(Action::Check))),
            (3, format!("{} watch", k(Action::Watch))),
            (9, "? keys".to_string()),
            (1, format!("{} quit", k(Action::Quit))),
        ],
        Screen::Task => vec![
            (1, "↑↓ scroll".to_string()),
            (2, "←→ task".to_string()),
            (8, format!("{} check", k(Action::Check))),
            (3, format!("{} watch", k(Action::Watch))),
            (6, format!("{} hint", k(Action::Hint))),
            (7, format!("{} answer", k(Action::Answer))),
            (
                if m.current_task().is_some_and(|(_, t)| !t.demo.is_empty()) {
                    4
                } else {
                    0
                },
                format!("{} demo", k(Action::Demo)),
            ),
            (
                if m.current_lab().is_some_and(crate::cluster::is_cluster_lab) {
                    4
                } else {
                    0
                },
                format!("{} apply", k(Action::Apply)),
            ),
            (
                5,
                format!(
                    "{} {}",
                    k(Action::Zoom),
                    if m.zoom { "unzoom" } else { "zoom" }
                ),
            ),
            (9, "? keys".to_string()),
        ],
    };
    // Weight 0: not for this task (`d` where there is no demo, `p` where
    // the lab has no cluster part).
    hints.into_iter().filter(|(w, _)| *w > 0).collect()
}

/// The hints that fit in `room` columns, joined.
fn fit_hints(mut hints: Vec<(u8, String)>, room: usize) -> String {
    loop {
        let text = hints
            .iter()
            .map(|(_, h)| h.as_str())
            .collect::<Vec<_>>()
            .join(" · ");
        if text.chars().count() <= room || hints.len() <= 1 {
            return super::truncate(&text, room);
        }
        let lightest = hints
            .iter()
            .enumerate()
            .min_by_key(|(_, (w, _))| *w)
            .map_or(0, |(i, _)| i);
        hints.remove(lightest);
    }
}

/// The cluster's part of the first line: `cluster kind-seclab ✓` when
/// seclab's cluster is at hand (its context named), else `cluster ✗`.
fn cluster_label(m: &Model) -> String {
    match (m.available.cluster, &m.available.cluster_context) {
        (true, Some(c)) => format!("cluster {c} ✓"),
        (true, None) => "cluster ✓".to_string(),
        (false, _) => "cluster ✗".to_string(),
    }
}

/// Draws the status lines.
pub fn draw(frame: &mut Frame<'_>, area: Rect, m: &Model) {
    let theme = Theme::new(m.no_color);
    let width = usize::from(area.width);
    let yes_no = |b: bool| if b { "✓" } else { "✗" };
    let avail = format!(
        " offline ✓ docker {} {} ",
        yes_no(m.available.docker),
        cluster_label(m)
    );
    let lab = m.current_lab().map(|l| l.spec.id.clone());
    let watch = match (&m.watching, &lab) {
        (Some(w), Some(l)) if w == l => "│ watch on ".to_string(),
        (Some(w), _) => format!("│ watch on ({w}) "),
        (None, _) => "│ watch off ".to_string(),
    };
    let ws = lab.as_deref().map_or_else(String::new, |l| {
        let started = m.started(l) || m.workspace_override.is_some();
        let path = m.workspace(l).display().to_string();
        let path = match &m.home {
            Some(h) if path.starts_with(h.as_str()) && !h.is_empty() => {
                format!("~{}", &path[h.len()..])
            }
            _ => path,
        };
        if started {
            path
        } else {
            format!("{path} (not started)")
        }
    });
    let room = width.saturating_sub(avail.chars().count() + watch.chars().count() + 2);
    let mut lines = vec![Line::from(vec![
        Span::raw(avail),
        Span::raw(watch),
        Span::raw("│ "),
        Span::raw(truncate_left(&ws, room)),
    ])];
    let screen = Rect::new(0, 0, area.width, frame.area().height);
    match message_lines(m, screen) {
        // The message takes the lines; the keys stay one `?` away.
        Some(message) => lines.extend(message),
        None => {
            let lead = lead(m);
            let room = width.saturating_sub(lead.chars().count());
            lines.push(Line::from(vec![
                Span::raw(lead),
                Span::styled(fit_hints(key_hints(m), room), theme.dim()),
            ]));
        }
    }
    frame.render_widget(Paragraph::new(lines), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_that_do_not_fit_go_lightest_first() {
        let hints = vec![
            (1, "aaaa".to_string()),
            (9, "? keys".to_string()),
            (5, "bbbb".to_string()),
        ];
        assert_eq!(fit_hints(hints.clone(), 80), "aaaa · ? keys · bbbb");
        assert_eq!(fit_hints(hints.clone(), 15), "? keys · bbbb");
        assert_eq!(fit_hints(hints, 6), "? keys");
    }
}
