//! The status bar: what grading can use (offline / docker / cluster), the
//! workspace of the current lab, watch on/off; below it the last message
//! or the main keys, with a spinner while work is in flight.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme::{Theme, spinner};
use super::{truncate, truncate_left};
use crate::app::keymap::{Action, Context, key_for};
use crate::app::{Model, Screen};

/// Draws the two status lines.
pub fn draw(frame: &mut Frame<'_>, area: Rect, m: &Model) {
    let theme = Theme::new(m.no_color);
    let width = usize::from(area.width);
    let yes_no = |b: bool| if b { "✓" } else { "✗" };
    let avail = format!(
        " offline ✓ docker {} cluster {} ",
        yes_no(m.available.docker),
        yes_no(m.available.cluster)
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
    let first = Line::from(vec![
        Span::raw(avail),
        Span::raw(watch),
        Span::raw("│ "),
        Span::raw(truncate_left(&ws, room)),
    ]);
    let lead = if m.animating() {
        format!(" {} ", spinner(m.frame))
    } else {
        " ".to_string()
    };
    let second = match &m.notice {
        // The notice takes the line; the keys stay one `?` away.
        Some(n) => {
            let style = if n.error {
                theme.fail()
            } else {
                Style::default()
            };
            Line::from(vec![
                Span::raw(lead.clone()),
                Span::styled(truncate(&n.text, width.saturating_sub(3)), style),
            ])
        }
        None => {
            let k = |a| key_for(Context::Main, a);
            let keys = match m.screen {
                Screen::Labs => format!(
                    "↑↓ move · Enter open · {} start · {} check · {} watch · ? keys · {} quit",
                    k(Action::Start),
                    k(Action::Check),
                    k(Action::Watch),
                    k(Action::Quit)
                ),
                Screen::Task => format!(
                    "↑↓ scroll · ←→ task · {} check · {} watch · {} hint · {} answer · ? keys",
                    k(Action::Check),
                    k(Action::Watch),
                    k(Action::Hint),
                    k(Action::Answer)
                ),
            };
            Line::from(vec![
                Span::raw(lead),
                Span::styled(truncate(&keys, width.saturating_sub(3)), theme.dim()),
            ])
        }
    };
    frame.render_widget(Paragraph::new(vec![first, second]), area);
}
