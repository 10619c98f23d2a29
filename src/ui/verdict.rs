//! The verdict pane: the hints revealed so far, then each check with
//! pass/fail/skipped and its findings (severity, `file:line:col`, object,
//! message, field path), warnings included. Checks whose verdict carries a
//! structured detail get it drawn by [`check_detail`] — the hook for the
//! netpol connection matrix.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Span;
use seclab_checkers::{Finding, Severity, Status};

use super::flow::FlowLine;
use super::theme::Theme;
use crate::app::keymap::{Action, Context, key_for};
use crate::app::{Model, Pane, TaskBadge};
use crate::grade::CheckResult;
use crate::progress::TaskState;

/// Extra lines for a check whose verdict carries structured detail: the
/// `netpol` checker's connection matrix (its `detail.text`, drawn by the
/// checker with differing cells marked `!` — a glyph, not colour alone).
/// The matrix is a fixed layout: never re-wrapped, cut at the pane's edge
/// and scrolled sideways when wider.
pub fn check_detail(check: &CheckResult, theme: Theme) -> Option<Vec<FlowLine>> {
    let text = check.verdict.detail.as_ref()?.get("text")?.as_str()?;
    let mut out = vec![FlowLine::blank()];
    out.extend(text.lines().map(|l| {
        let style = if l.contains('!') {
            theme.fail()
        } else {
            Style::new()
        };
        FlowLine::cut(Span::styled(format!("    {l}"), style), 4)
    }));
    Some(out)
}

/// A finding: its message hangs under the text after `error: `, its
/// field paths under theirs.
fn finding_lines(f: &Finding, theme: Theme) -> Vec<FlowLine> {
    let (word, style) = match f.severity {
        Severity::Error => ("error", theme.fail()),
        Severity::Warning => ("warning", theme.warn()),
        Severity::Info => ("info", theme.dim()),
    };
    let at = match (&f.source, f.line, f.col) {
        (Some(src), Some(l), Some(c)) => format!("{src}:{l}:{c}: "),
        (Some(src), Some(l), None) => format!("{src}:{l}: "),
        (Some(src), None, _) => format!("{src}: "),
        _ => String::new(),
    };
    let obj = f
        .object
        .as_ref()
        .map_or(String::new(), |o| format!("{o}: "));
    let hang = 4 + word.len() + 2;
    let mut out = vec![FlowLine::hang(
        vec![
            Span::raw("    "),
            Span::styled(format!("{word}: "), style),
            Span::styled(at, theme.code()),
            Span::raw(format!("{obj}{}", f.message)),
        ],
        hang,
    )];
    for p in &f.paths {
        out.push(FlowLine::hang(
            vec![
                Span::raw("      field: "),
                Span::styled(p.clone(), theme.code()),
            ],
            "      field: ".len(),
        ));
    }
    out
}

/// The pane's content: hints and each check's line hang under their
/// text, findings under their message.
pub fn lines(m: &Model) -> Vec<FlowLine> {
    let theme = Theme::new(m.no_color);
    let Some((lab, task)) = m.current_task() else {
        return Vec::new();
    };
    let mut lines: Vec<FlowLine> = Vec::new();
    let shown = m.hints_revealed(&lab.spec.id, task);
    for (i, h) in task.hints.iter().take(shown).enumerate() {
        let head = format!("Hint {}/{}: ", i + 1, task.hints.len());
        let hang = head.len();
        lines.push(FlowLine::hang(
            vec![
                Span::styled(head, theme.hint().add_modifier(Modifier::BOLD)),
                Span::styled(h.clone(), theme.hint()),
            ],
            hang,
        ));
    }
    if shown > 0 {
        lines.push(FlowLine::blank());
    }
    match m.result(&lab.spec.id, &task.id) {
        Some(r) => {
            for c in &r.checks {
                let (word, style) = match c.verdict.status {
                    Status::Pass => ("✓ pass", theme.pass()),
                    Status::Fail => ("✗ fail", theme.fail()),
                    Status::Skipped => ("– skip", theme.warn()),
                };
                lines.push(FlowLine::hang(
                    vec![
                        Span::styled(format!("{word}  "), style),
                        Span::styled(
                            format!("{}: ", c.checker),
                            Style::new().add_modifier(Modifier::BOLD),
                        ),
                        Span::raw(c.description.clone()),
                    ],
                    Span::raw(word).width() + 2,
                ));
                if let Some(reason) = &c.verdict.reason {
                    lines.push(FlowLine::hang(
                        Span::styled(format!("    skipped: {reason}"), theme.warn()),
                        "    skipped: ".len(),
                    ));
                }
                for f in &c.verdict.findings {
                    lines.extend(finding_lines(f, theme));
                }
                if let Some(detail) = check_detail(c, theme) {
                    lines.extend(detail);
                }
            }
        }
        None => {
            // What the task needs and is not at hand, and why not.
            let b = m.badge(lab, task);
            let needs = match b {
                TaskBadge::NeedsCluster => Some(("cluster", m.available.cluster_why())),
                TaskBadge::NeedsDocker => Some(("docker", m.available.docker_why())),
                _ => None,
            };
            if let Some((what, why)) = needs {
                let head = format!("{} needs {what}: ", b.glyph());
                let hang = Span::raw(head.as_str()).width();
                lines.push(FlowLine::hang(
                    vec![
                        Span::styled(head, theme.warn()),
                        Span::styled(why.to_string(), theme.warn()),
                    ],
                    hang,
                ));
            }
            let started = m.started(&lab.spec.id) || m.workspace_override.is_some();
            let recorded = m
                .progress
                .labs
                .get(&lab.spec.id)
                .and_then(|l| l.tasks.get(&task.id));
            if started {
                lines.push(FlowLine::plain(format!(
                    "Not checked in this session. Press {} to check, {} to re-check on every save.",
                    key_for(Context::Main, Action::Check),
                    key_for(Context::Main, Action::Watch)
                )));
            } else {
                lines.push(FlowLine::plain(format!(
                    "Not started. Press {} to create the workspace at {}.",
                    key_for(Context::Main, Action::Start),
                    m.workspace(&lab.spec.id).display()
                )));
            }
            if let Some(t) = recorded.filter(|t| t.state != TaskState::NotTried) {
                lines.push(FlowLine::plain(Span::styled(
                    format!(
                        "Last recorded: {} after {} attempt(s).",
                        m.badge(lab, task).word(),
                        t.attempts
                    ),
                    theme.dim(),
                )));
            }
        }
    }
    if shown < task.hints.len() {
        lines.push(FlowLine::plain(Span::styled(
            format!(
                "{} more hint(s): press {}.",
                task.hints.len() - shown,
                key_for(Context::Main, Action::Hint)
            ),
            theme.dim(),
        )));
    }
    lines
}

/// Draws the verdict pane.
pub fn draw(frame: &mut Frame<'_>, area: Rect, m: &Model) {
    super::task::draw_pane(frame, area, m, (" Verdict ", Pane::Verdict), &lines(m));
}
