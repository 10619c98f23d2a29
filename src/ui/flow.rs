//! Laying out a pane's text ourselves, line by line, instead of letting the
//! paragraph widget wrap everything alike:
//!
//! - prose ([`Flow::Wrap`]) is word-wrapped, and its continuation lines
//!   start with a *hanging indent* — a list item's text, a quiz choice's
//!   text after `a) `, a finding's message after `error: ` continue under
//!   the text, not at column 0;
//! - code and other fixed layouts ([`Flow::Cut`]) are never re-wrapped: a
//!   line longer than the pane is cut at its edge with [`CUT_RIGHT`], and
//!   the pane scrolls sideways (the part after the line's fixed indent
//!   moves; [`CUT_LEFT`] marks what is hidden to the left), so what a
//!   student copies from a code line is the command as written.
//!
//! The views draw the result with an unwrapped `Paragraph`; the same
//! layout gives the scroll limits, so they always agree with the screen.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// Marks a cut line's end when more of it is to the right.
pub const CUT_RIGHT: &str = "→";
/// Marks a cut line's start when part of it is scrolled out to the left.
pub const CUT_LEFT: &str = "←";

/// Continuation lines keep their hanging indent only if at least this many
/// columns are left for the text; narrower panes wrap to the left edge.
const MIN_TEXT: usize = 10;

/// How a line is laid into a pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    /// Word-wrapped; every continuation line starts with `cont` (spaces
    /// for a hanging indent, or a quote bar and spaces).
    Wrap {
        /// The continuation prefix.
        cont: Vec<Span<'static>>,
    },
    /// Never re-wrapped: cut at the pane's edge and scrolled sideways; the
    /// first `fixed` columns (the indent) stay in place.
    Cut {
        /// Columns that do not scroll.
        fixed: usize,
    },
}

/// One logical line and how it flows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowLine {
    /// The text.
    pub line: Line<'static>,
    /// How it is laid out.
    pub flow: Flow,
}

impl FlowLine {
    /// Prose that wraps back to column 0.
    pub fn plain(line: impl Into<Line<'static>>) -> Self {
        Self::hang(line, 0)
    }

    /// Prose whose continuation lines start at column `indent`.
    pub fn hang(line: impl Into<Line<'static>>, indent: usize) -> Self {
        let cont = if indent == 0 {
            Vec::new()
        } else {
            vec![Span::raw(" ".repeat(indent))]
        };
        Self::hang_with(line, cont)
    }

    /// Prose whose continuation lines start with `cont`.
    pub fn hang_with(line: impl Into<Line<'static>>, cont: Vec<Span<'static>>) -> Self {
        Self {
            line: line.into(),
            flow: Flow::Wrap { cont },
        }
    }

    /// A line that is never re-wrapped; `fixed` columns do not scroll.
    pub fn cut(line: impl Into<Line<'static>>, fixed: usize) -> Self {
        Self {
            line: line.into(),
            flow: Flow::Cut { fixed },
        }
    }

    /// An empty line.
    pub fn blank() -> Self {
        Self::plain(Line::default())
    }

    /// Whether the line shows nothing.
    pub fn is_blank(&self) -> bool {
        self.line.width() == 0
    }

    /// The line's text without styles (for tests and measuring).
    pub fn plain_text(&self) -> String {
        self.line.spans.iter().map(|s| s.content.as_ref()).collect()
    }
}

/// Lines laid out for one width and sideways offset.
#[derive(Debug, Clone, Default)]
pub struct Laid {
    /// The screen lines, none wider than the width.
    pub lines: Vec<Line<'static>>,
    /// How far the cut lines can scroll sideways (0: nothing is cut).
    pub max_hscroll: u16,
}

#[derive(Debug, Clone, Copy)]
struct Cell<'a> {
    sym: &'a str,
    style: Style,
    width: usize,
}

impl Cell<'_> {
    fn is_space(&self) -> bool {
        self.sym == " "
    }
}

fn cells<'a>(line: &'a Line<'a>) -> Vec<Cell<'a>> {
    line.styled_graphemes(Style::default())
        .map(|g| Cell {
            sym: g.symbol,
            style: g.style,
            width: Span::raw(g.symbol).width(),
        })
        .collect()
}

fn width_of(cells: &[Cell<'_>]) -> usize {
    cells.iter().map(|c| c.width).sum()
}

/// Cells back to spans, one per run of equal style.
fn to_spans(cells: &[Cell<'_>]) -> Vec<Span<'static>> {
    let mut out: Vec<Span<'static>> = Vec::new();
    for c in cells {
        match out.last_mut() {
            Some(last) if last.style == c.style => last.content.to_mut().push_str(c.sym),
            _ => out.push(Span::styled(c.sym.to_string(), c.style)),
        }
    }
    out
}

/// Word-wraps `cells` into lines of at most `width` columns; lines after
/// the first have `avail_cont` columns. Leading spaces of the first line
/// are kept (they are indentation); the spaces at a break are dropped. A
/// word longer than a whole line is broken, starting on the current line.
fn wrap_cells<'a>(cells: &[Cell<'a>], width: usize, avail_cont: usize) -> Vec<Vec<Cell<'a>>> {
    let mut out: Vec<Vec<Cell<'a>>> = Vec::new();
    let mut cur: Vec<Cell<'a>> = Vec::new();
    let mut cur_w = 0;
    let mut avail = width;
    let mut pending: Vec<Cell<'a>> = Vec::new();
    let mut i = 0;
    while i < cells.len() && cells[i].is_space() {
        if cur_w + cells[i].width <= avail {
            cur_w += cells[i].width;
            cur.push(cells[i]);
        }
        i += 1;
    }
    while i < cells.len() {
        if cells[i].is_space() {
            while i < cells.len() && cells[i].is_space() {
                pending.push(cells[i]);
                i += 1;
            }
            continue;
        }
        let start = i;
        while i < cells.len() && !cells[i].is_space() {
            i += 1;
        }
        let word = &cells[start..i];
        let word_w = width_of(word);
        let pending_w = width_of(&pending);
        if cur_w + pending_w + word_w <= avail {
            cur.append(&mut pending);
            cur.extend_from_slice(word);
            cur_w += pending_w + word_w;
            continue;
        }
        if cur_w > 0 && word_w <= avail_cont {
            // On the next line.
            pending.clear();
            out.push(std::mem::take(&mut cur));
            cur.extend_from_slice(word);
            cur_w = word_w;
            avail = avail_cont;
            continue;
        }
        // The word fits no line: break it, starting on this one.
        if cur_w > 0 && cur_w + pending_w < avail {
            cur.append(&mut pending);
            cur_w += pending_w;
        } else if cur_w > 0 {
            out.push(std::mem::take(&mut cur));
            cur_w = 0;
            avail = avail_cont;
        }
        pending.clear();
        for c in word {
            if cur_w + c.width > avail && cur_w > 0 {
                out.push(std::mem::take(&mut cur));
                cur_w = 0;
                avail = avail_cont;
            }
            cur.push(*c);
            cur_w += c.width;
        }
    }
    out.push(cur);
    out
}

/// A cut line's visible part: the fixed indent, then the rest shifted by
/// `hscroll` columns and cut to the width, with markers where hidden.
fn cut_line(cells: &[Cell<'_>], width: usize, fixed: usize, hscroll: usize) -> Line<'static> {
    let mut split = 0;
    let mut fixed_w = 0;
    while split < cells.len() && fixed_w + cells[split].width <= fixed {
        fixed_w += cells[split].width;
        split += 1;
    }
    let (head, rest) = cells.split_at(split);
    if fixed_w >= width {
        let mut shown = Vec::new();
        let mut w = 0;
        for c in head {
            if w + c.width > width {
                break;
            }
            w += c.width;
            shown.push(*c);
        }
        return Line::from(to_spans(&shown));
    }
    let view = width - fixed_w;
    let marker_style = rest.first().map_or_else(Style::default, |c| c.style);
    // Skip `hscroll` columns (a wide character cut in half becomes spaces).
    let mut skipped = 0;
    let mut j = 0;
    let mut pad = 0;
    while j < rest.len() && skipped < hscroll {
        skipped += rest[j].width;
        j += 1;
    }
    if skipped > hscroll {
        pad = skipped - hscroll;
    }
    let mut shown: Vec<Cell<'_>> = Vec::new();
    let mut w = 0;
    for _ in 0..pad.min(view) {
        shown.push(Cell {
            sym: " ",
            style: marker_style,
            width: 1,
        });
        w += 1;
    }
    let mut k = j;
    while k < rest.len() && w + rest[k].width <= view {
        w += rest[k].width;
        shown.push(rest[k]);
        k += 1;
    }
    if k < rest.len() {
        while w + 1 > view {
            match shown.pop() {
                Some(c) => w -= c.width,
                None => break,
            }
        }
        if w < view {
            shown.push(Cell {
                sym: CUT_RIGHT,
                style: marker_style,
                width: 1,
            });
        }
    }
    let mut head: Vec<Cell<'_>> = head.to_vec();
    if hscroll > 0 && !rest.is_empty() {
        let left = Cell {
            sym: CUT_LEFT,
            style: marker_style,
            width: 1,
        };
        // In the indent, one space before the text where there is room.
        if head.len() >= 2 && head[head.len() - 2].is_space() && head[head.len() - 1].is_space() {
            let at = head.len() - 2;
            head[at] = left;
        } else if let Some(last) = head.last_mut().filter(|c| c.is_space()) {
            *last = left;
        } else if let Some(first) = shown.first_mut() {
            *first = left;
        }
    }
    head.extend(shown);
    Line::from(to_spans(&head))
}

fn cont_width(cont: &[Span<'static>]) -> usize {
    cont.iter().map(Span::width).sum()
}

/// Lays `lines` out for a pane `width` columns wide, the cut lines
/// scrolled sideways by `hscroll` (clamped to what they need).
pub fn lay_out(lines: &[FlowLine], width: u16, hscroll: u16) -> Laid {
    let width = usize::from(width);
    let max_h = max_hscroll(lines, width);
    let h = usize::from(hscroll).min(max_h);
    let mut out = Vec::new();
    for fl in lines {
        if width == 0 {
            out.push(Line::default());
            continue;
        }
        let cs = cells(&fl.line);
        match &fl.flow {
            Flow::Cut { fixed } => out.push(cut_line(&cs, width, *fixed, h)),
            Flow::Wrap { cont } => {
                let cw = cont_width(cont);
                let (cont, avail) = if width >= cw + MIN_TEXT {
                    (cont.as_slice(), width - cw)
                } else {
                    (&[][..], width)
                };
                for (n, part) in wrap_cells(&cs, width, avail).iter().enumerate() {
                    let mut spans = if n == 0 { Vec::new() } else { cont.to_vec() };
                    spans.extend(to_spans(part));
                    let mut line = Line::from(spans);
                    line.style = fl.line.style;
                    out.push(line);
                }
            }
        }
    }
    Laid {
        lines: out,
        max_hscroll: u16::try_from(max_h).unwrap_or(u16::MAX),
    }
}

/// How far the cut lines of `lines` can scroll sideways in `width` columns.
fn max_hscroll(lines: &[FlowLine], width: usize) -> usize {
    lines
        .iter()
        .filter_map(|fl| match fl.flow {
            Flow::Cut { fixed } => {
                let total = fl.line.width();
                let fixed = fixed.min(total);
                let view = width.saturating_sub(fixed);
                Some((total - fixed).saturating_sub(view))
            }
            Flow::Wrap { .. } => None,
        })
        .max()
        .unwrap_or(0)
}

/// Screen lines `lines` take in `width` columns.
pub fn height(lines: &[FlowLine], width: u16) -> usize {
    lay_out(lines, width, 0).lines.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(lines: &[FlowLine], width: u16, h: u16) -> Vec<String> {
        lay_out(lines, width, h)
            .lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn continuation_lines_hang_under_the_text() {
        let l = FlowLine::hang("  1. the quick brown fox jumps over the lazy dog", 5);
        assert_eq!(
            shown(&[l], 20, 0),
            vec![
                "  1. the quick brown",
                "     fox jumps over",
                "     the lazy dog"
            ]
        );
    }

    #[test]
    fn every_line_fits_and_no_word_is_lost() {
        let text = "error: question `which-layer`: the answer is not the right set of choices (all the right ones, none of the wrong ones) — averyveryverylongwordthatcannotfitanywhere";
        for width in 1..=40u16 {
            let l = FlowLine::hang(format!("    {text}"), 11);
            let out = shown(&[l], width, 0);
            for line in &out {
                assert!(
                    Line::raw(line.as_str()).width() <= usize::from(width),
                    "{width}: {line:?}"
                );
            }
            let words: Vec<&str> = out.iter().flat_map(|l| l.split_whitespace()).collect();
            assert_eq!(words.concat(), text.split_whitespace().collect::<String>());
        }
    }

    #[test]
    fn a_word_longer_than_a_line_starts_where_it_is() {
        let l = FlowLine::hang("field: spec.template.spec.containers", 7);
        assert_eq!(
            shown(&[l], 20, 0),
            vec!["field: spec.template", "       .spec.contain", "       ers"]
        );
    }

    #[test]
    fn a_narrow_pane_drops_the_hanging_indent() {
        let l = FlowLine::hang("    error: one two three four five", 11);
        let out = shown(&[l], 16, 0);
        assert_eq!(out[0], "    error: one");
        assert!(out[1].starts_with("two"), "{out:?}");
    }

    #[test]
    fn quote_bars_continue_on_every_line() {
        let l = FlowLine::hang_with("│ one two three four", vec![Span::raw("│ ")]);
        assert_eq!(shown(&[l], 12, 0), vec!["│ one two", "│ three four"]);
    }

    #[test]
    fn cut_lines_are_cut_with_a_marker_and_scroll_sideways() {
        let code = FlowLine::cut("    kubectl get pods -A", 4);
        let prose = FlowLine::plain("words wrap here");
        let lines = [code, prose];
        let laid = lay_out(&lines, 14, 0);
        assert_eq!(laid.max_hscroll, 23 - 14);
        assert_eq!(shown(&lines, 14, 0)[0], "    kubectl g→");
        assert_eq!(shown(&lines, 14, 8)[0], "  ← get pods →");
        assert_eq!(shown(&lines, 14, 9)[0], "  ← et pods -A");
        // Past the end is the end; prose is not shifted.
        assert_eq!(shown(&lines, 14, 50), shown(&lines, 14, 9));
        assert_eq!(shown(&lines, 14, 9)[1], "words wrap");
    }

    #[test]
    fn a_line_that_fits_is_never_marked() {
        let lines = [FlowLine::cut("    seclab check x", 4)];
        assert_eq!(lay_out(&lines, 18, 3).max_hscroll, 0);
        assert_eq!(shown(&lines, 18, 3), vec!["    seclab check x"]);
    }

    #[test]
    fn wide_characters_count_two_columns() {
        let lines = [FlowLine::cut("    日本語のコマンド", 4)];
        for line in shown(&lines, 9, 1) {
            assert!(Line::raw(line.as_str()).width() <= 9, "{line}");
        }
        let wrapped = shown(&[FlowLine::hang("• 日本語 のコマンド です", 2)], 10, 0);
        for line in wrapped {
            assert!(Line::raw(line.as_str()).width() <= 10, "{line}");
        }
    }
}
