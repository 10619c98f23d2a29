//! Instructions from Markdown to styled lines ([`FlowLine`]s, laid out by
//! [`super::flow`]): headings, paragraphs, bullet and numbered lists
//! (wrapped lines hang under the item's text, nested lists under their
//! parent's), emphasis, inline code, quotes (the bar repeats on wrapped
//! lines), tables (columns aligned under a header rule), and fenced code
//! blocks set apart — indented, never re-wrapped (a long line is cut at the
//! pane's edge and the pane scrolls sideways), nothing else on their lines,
//! so a command copies exactly as written.
//!
//! A table wider than the pane first wraps the text of its widest columns
//! inside their cells; when even that leaves a column too narrow for its
//! longest word, each row is shown as `header: value` lines instead.

use pulldown_cmark::{Alignment, CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::flow::FlowLine;
use super::theme::Theme;

/// Between table columns.
const COLUMN_SEP: &str = " │ ";
/// A table column narrower than this is unreadable: rows become records.
const MIN_COLUMN: usize = 6;
/// Spaces a tab in a code block stands for (to the next multiple).
const TAB: usize = 4;

/// A table being read: its column alignments, header cells and rows.
struct Table {
    aligns: Vec<Alignment>,
    head: Vec<Vec<Span<'static>>>,
    rows: Vec<Vec<Vec<Span<'static>>>>,
    row: Vec<Vec<Span<'static>>>,
}

struct Builder {
    theme: Theme,
    /// The pane's inner width (tables are fitted to it).
    width: usize,
    lines: Vec<FlowLine>,
    spans: Vec<Span<'static>>,
    styles: Vec<Style>,
    /// One entry per open list: the next number (`None`: bullets).
    lists: Vec<Option<u64>>,
    /// The column where the text of each open list item starts.
    items: Vec<usize>,
    /// The marker of a list item whose first line is not out yet.
    marker: Option<String>,
    quote: usize,
    /// The text of the code block being read.
    code: Option<String>,
    table: Option<Table>,
    no_color: bool,
}

fn spans_width(spans: &[Span<'_>]) -> usize {
    spans.iter().map(Span::width).sum()
}

fn spans_text(spans: &[Span<'_>]) -> String {
    spans.iter().map(|s| s.content.as_ref()).collect()
}

/// `line` with tabs expanded to the next multiple of [`TAB`] columns (a
/// terminal cell cannot hold a tab).
pub(crate) fn expand_tabs(line: &str) -> String {
    let mut out = String::new();
    let mut col = 0;
    for ch in line.chars() {
        if ch == '\t' {
            let n = TAB - col % TAB;
            out.extend(std::iter::repeat_n(' ', n));
            col += n;
        } else {
            out.push(ch);
            col += 1;
        }
    }
    out
}

/// The longest word of a cell, in columns.
fn longest_word(spans: &[Span<'_>]) -> usize {
    spans_text(spans)
        .split_whitespace()
        .map(|w| Span::raw(w).width())
        .max()
        .unwrap_or(0)
}

/// Column widths that fit `budget` columns: columns that need no more
/// than an equal share keep their width, the wider ones share the rest.
/// `None` when a column would be narrower than its longest word (or
/// [`MIN_COLUMN`]).
fn fit_columns(natural: &[usize], words: &[usize], budget: usize) -> Option<Vec<usize>> {
    let mut widths = vec![0; natural.len()];
    let mut order: Vec<usize> = (0..natural.len()).collect();
    order.sort_by_key(|&c| natural[c]);
    let mut left = budget;
    for (n, &c) in order.iter().enumerate() {
        let share = left / (natural.len() - n);
        widths[c] = natural[c].min(share);
        left -= widths[c];
    }
    let ok = widths
        .iter()
        .zip(natural)
        .zip(words)
        .all(|((&w, &n), &word)| w >= n.min(word.max(MIN_COLUMN)));
    ok.then_some(widths)
}

/// Spans padded to `width` columns as `align` says.
fn aligned(
    mut spans: Vec<Span<'static>>,
    width: usize,
    align: Alignment,
    last: bool,
) -> Vec<Span<'static>> {
    let pad = width.saturating_sub(spans_width(&spans));
    let (before, after) = match align {
        Alignment::Right => (pad, 0),
        Alignment::Center => (pad / 2, pad - pad / 2),
        Alignment::Left | Alignment::None => (0, pad),
    };
    if before > 0 {
        spans.insert(0, Span::raw(" ".repeat(before)));
    }
    // The last column needs no trailing spaces.
    if after > 0 && !last {
        spans.push(Span::raw(" ".repeat(after)));
    }
    spans
}

/// Drops the spaces at the end of a line (an empty last cell).
fn trim_end(spans: &mut Vec<Span<'static>>) {
    while let Some(last) = spans.last_mut() {
        let trimmed = last.content.trim_end().len();
        if trimmed > 0 {
            last.content.to_mut().truncate(trimmed);
            return;
        }
        spans.pop();
    }
}

/// A cell's text wrapped to `width` columns.
fn cell_lines(spans: &[Span<'static>], width: usize) -> Vec<Vec<Span<'static>>> {
    let line = FlowLine::plain(Line::from(spans.to_vec()));
    super::flow::lay_out(&[line], u16::try_from(width).unwrap_or(u16::MAX), 0)
        .lines
        .into_iter()
        .map(|l| l.spans)
        .collect()
}

impl Builder {
    fn style(&self) -> Style {
        self.styles
            .iter()
            .fold(Style::new(), |acc, s| acc.patch(*s))
    }

    /// The column where the current block's text starts (inside quotes).
    fn base(&self) -> usize {
        self.items.last().copied().unwrap_or(0)
    }

    fn quote_prefix(&self) -> Vec<Span<'static>> {
        if self.quote == 0 {
            Vec::new()
        } else {
            vec![Span::styled("│ ".repeat(self.quote), self.theme.dim())]
        }
    }

    /// The prefix of a line of the current block: quote bars, then the
    /// list item's marker on its first line, else its indent.
    fn lead(&mut self) -> Vec<Span<'static>> {
        let mut lead = self.quote_prefix();
        let indent = self
            .marker
            .take()
            .unwrap_or_else(|| " ".repeat(self.base()));
        if !indent.is_empty() {
            lead.push(Span::raw(indent));
        }
        lead
    }

    /// What continuation lines of the current block start with.
    fn cont(&self) -> Vec<Span<'static>> {
        let mut cont = self.quote_prefix();
        if self.base() > 0 {
            cont.push(Span::raw(" ".repeat(self.base())));
        }
        cont
    }

    fn flush(&mut self) {
        if !self.spans.is_empty() {
            let mut spans = self.lead();
            spans.append(&mut self.spans);
            let cont = self.cont();
            self.lines.push(FlowLine::hang_with(spans, cont));
        }
    }

    /// Puts out a list item's marker on a line of its own (an item that
    /// starts with a code block or a table, or is empty).
    fn flush_marker(&mut self) {
        if self.marker.is_some() {
            let spans = self.lead();
            self.lines.push(FlowLine::plain(spans));
        }
    }

    fn blank(&mut self) {
        self.flush();
        if self.lines.last().is_some_and(|l| !l.is_blank()) {
            self.lines.push(FlowLine::blank());
        }
    }

    fn text(&mut self, t: &str) {
        let style = self.style();
        self.spans.push(Span::styled(t.to_string(), style));
    }

    /// The code block's lines: indented, never re-wrapped.
    fn code_block(&mut self, text: &str) {
        let indent = (self.base() + 2).max(4);
        let quote = self.quote_prefix();
        let fixed = spans_width(&quote) + indent;
        for line in text.lines() {
            let mut spans = quote.clone();
            spans.push(Span::raw(" ".repeat(indent)));
            spans.push(Span::styled(expand_tabs(line), self.theme.code()));
            self.lines.push(FlowLine::cut(spans, fixed));
        }
    }

    fn table(&mut self, t: &Table) {
        let ncols = t
            .rows
            .iter()
            .map(Vec::len)
            .chain([t.head.len(), t.aligns.len()])
            .max()
            .unwrap_or(0);
        if ncols == 0 {
            return;
        }
        let cell = |row: &[Vec<Span<'static>>], c: usize| row.get(c).cloned().unwrap_or_default();
        let all_rows = || std::iter::once(&t.head).chain(&t.rows);
        let natural: Vec<usize> = (0..ncols)
            .map(|c| {
                all_rows()
                    .map(|r| r.get(c).map_or(0, |s| spans_width(s)))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let words: Vec<usize> = (0..ncols)
            .map(|c| {
                all_rows()
                    .map(|r| r.get(c).map_or(0, |s| longest_word(s)))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let quote = self.quote_prefix();
        let indent = self.base();
        let lead = {
            let mut l = quote.clone();
            if indent > 0 {
                l.push(Span::raw(" ".repeat(indent)));
            }
            l
        };
        let fixed = spans_width(&lead);
        let seps = Span::raw(COLUMN_SEP).width() * (ncols - 1);
        let budget = self.width.saturating_sub(fixed + seps);
        let widths = if natural.iter().sum::<usize>() <= budget {
            Some(natural.clone())
        } else {
            fit_columns(&natural, &words, budget)
        };
        let Some(widths) = widths else {
            self.table_records(t, ncols, &lead);
            return;
        };
        let align = |c: usize| t.aligns.get(c).copied().unwrap_or(Alignment::None);
        let dim = self.theme.dim();
        let grid_row = |lines: &mut Vec<FlowLine>, row: &[Vec<Span<'static>>]| {
            let parts: Vec<Vec<Vec<Span<'static>>>> = (0..ncols)
                .map(|c| cell_lines(&cell(row, c), widths[c]))
                .collect();
            let height = parts.iter().map(Vec::len).max().unwrap_or(1);
            for n in 0..height {
                let mut spans = lead.clone();
                for (c, part) in parts.iter().enumerate() {
                    if c > 0 {
                        spans.push(Span::styled(COLUMN_SEP, dim));
                    }
                    let text = part.get(n).cloned().unwrap_or_default();
                    spans.extend(aligned(text, widths[c], align(c), c + 1 == ncols));
                }
                trim_end(&mut spans);
                lines.push(FlowLine::cut(spans, fixed));
            }
            height
        };
        let rule = |cross: &str| {
            let mut spans = lead.clone();
            let text = widths
                .iter()
                .map(|w| "─".repeat(*w))
                .collect::<Vec<_>>()
                .join(cross);
            spans.push(Span::styled(text, dim));
            FlowLine::cut(spans, fixed)
        };
        let mut lines = Vec::new();
        grid_row(&mut lines, &t.head);
        lines.push(rule("─┼─"));
        let wrapped = widths != natural;
        for (i, row) in t.rows.iter().enumerate() {
            if wrapped && i > 0 {
                lines.push(rule("─┼─"));
            }
            grid_row(&mut lines, row);
        }
        self.lines.extend(lines);
    }

    /// A table too wide for the pane: each row as `header: value` lines,
    /// the values aligned and wrapped under themselves, rows apart.
    fn table_records(&mut self, t: &Table, ncols: usize, lead: &[Span<'static>]) {
        let fixed = spans_width(lead);
        let labels: Vec<String> = (0..ncols)
            .map(|c| t.head.get(c).map_or_else(String::new, |s| spans_text(s)))
            .collect();
        let label_w = labels
            .iter()
            .map(|l| Span::raw(l.as_str()).width())
            .max()
            .unwrap_or(0)
            + 2;
        let pad = label_w * 2 <= self.width.saturating_sub(fixed);
        let bold = Style::new().add_modifier(Modifier::BOLD);
        for (i, row) in t.rows.iter().enumerate() {
            if i > 0 {
                self.lines.push(FlowLine::blank());
            }
            for (c, label) in labels.iter().enumerate() {
                let mut spans = lead.to_vec();
                let mut hang = fixed + 2;
                if !label.is_empty() {
                    let head = format!("{label}: ");
                    let shown = if pad {
                        hang = fixed + label_w;
                        format!("{head:<label_w$}")
                    } else {
                        head
                    };
                    spans.push(Span::styled(shown, bold));
                }
                spans.extend(row.get(c).cloned().unwrap_or_default());
                self.lines.push(FlowLine::hang(spans, hang));
            }
        }
    }

    fn start(&mut self, tag: &Tag<'_>) {
        match tag {
            Tag::Heading { level, .. } => {
                self.blank();
                let mut s = self.theme.heading();
                if matches!(level, HeadingLevel::H1) {
                    s = s.add_modifier(Modifier::UNDERLINED);
                }
                self.styles.push(s);
            }
            // The first paragraph of a list item goes on the marker's line;
            // later ones are set apart.
            Tag::Paragraph if self.lists.is_empty() || self.marker.is_none() => self.blank(),
            Tag::BlockQuote(_) => {
                self.blank();
                self.quote += 1;
            }
            Tag::CodeBlock(kind) => {
                self.flush_marker();
                self.blank();
                self.code = Some(String::new());
                if let CodeBlockKind::Fenced(lang) = kind
                    && !lang.is_empty()
                {
                    let mut spans = self.quote_prefix();
                    let indent = (self.base() + 2).max(4) - 2;
                    spans.push(Span::styled(
                        format!("{}{lang}:", " ".repeat(indent)),
                        self.theme.dim(),
                    ));
                    self.lines.push(FlowLine::plain(spans));
                }
            }
            Tag::List(start) => {
                if self.lists.is_empty() {
                    self.blank();
                } else {
                    self.flush();
                }
                self.lists.push(*start);
            }
            Tag::Item => {
                self.flush();
                let indent = if self.items.is_empty() {
                    2
                } else {
                    self.base()
                };
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        let m = format!("{n}. ");
                        *n += 1;
                        m
                    }
                    _ => "• ".to_string(),
                };
                let marker = format!("{}{marker}", " ".repeat(indent));
                self.items.push(Span::raw(marker.as_str()).width());
                self.marker = Some(marker);
            }
            Tag::Emphasis => self
                .styles
                .push(Style::new().add_modifier(Modifier::ITALIC)),
            Tag::Strong | Tag::TableHead => {
                self.styles.push(Style::new().add_modifier(Modifier::BOLD));
            }
            Tag::Strikethrough => self
                .styles
                .push(Style::new().add_modifier(Modifier::CROSSED_OUT)),
            Tag::Link { .. } => self
                .styles
                .push(Style::new().add_modifier(Modifier::UNDERLINED)),
            Tag::Table(aligns) => {
                self.flush_marker();
                self.blank();
                self.table = Some(Table {
                    aligns: aligns.clone(),
                    head: Vec::new(),
                    rows: Vec::new(),
                    row: Vec::new(),
                });
            }
            Tag::TableCell => self.spans.clear(),
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Heading(_)
            | TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Link => {
                self.styles.pop();
                if matches!(tag, TagEnd::Heading(_)) {
                    self.flush();
                }
            }
            TagEnd::TableCell => {
                let cell = std::mem::take(&mut self.spans);
                if let Some(t) = &mut self.table {
                    t.row.push(cell);
                }
            }
            TagEnd::TableHead => {
                self.styles.pop();
                if let Some(t) = &mut self.table {
                    t.head = std::mem::take(&mut t.row);
                }
            }
            TagEnd::TableRow => {
                if let Some(t) = &mut self.table {
                    let row = std::mem::take(&mut t.row);
                    t.rows.push(row);
                }
            }
            TagEnd::Table => {
                if let Some(t) = self.table.take() {
                    self.table(&t);
                }
                self.blank();
            }
            TagEnd::Paragraph => self.flush(),
            TagEnd::Item => {
                self.flush();
                self.flush_marker();
                self.items.pop();
            }
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.quote = self.quote.saturating_sub(1);
            }
            TagEnd::CodeBlock => {
                if let Some(code) = self.code.take() {
                    self.code_block(&code);
                }
                self.lines.push(FlowLine::blank());
            }
            TagEnd::List(_) => {
                self.flush();
                self.lists.pop();
            }
            _ => {}
        }
    }
}

/// Renders Markdown to lines for a pane `width` columns wide (the lines
/// are laid out — wrapped or cut — by [`super::flow::lay_out`]).
pub fn render(markdown: &str, width: u16, theme: Theme, no_color: bool) -> Vec<FlowLine> {
    let mut b = Builder {
        theme,
        width: usize::from(width),
        lines: Vec::new(),
        spans: Vec::new(),
        styles: Vec::new(),
        lists: Vec::new(),
        items: Vec::new(),
        marker: None,
        quote: 0,
        code: None,
        table: None,
        no_color,
    };
    let opts = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    for event in Parser::new_ext(markdown, opts) {
        match event {
            Event::Start(tag) => b.start(&tag),
            Event::End(tag) => b.end(tag),
            Event::Text(t) if b.code.is_some() => {
                if let Some(code) = &mut b.code {
                    code.push_str(&t);
                }
            }
            Event::Text(t) | Event::Html(t) | Event::InlineHtml(t) => b.text(&t),
            Event::Code(t) => {
                let style = b.style().patch(b.theme.code());
                let shown = if b.no_color {
                    format!("`{t}`")
                } else {
                    t.to_string()
                };
                b.spans.push(Span::styled(shown, style));
            }
            Event::SoftBreak => b.text(" "),
            Event::HardBreak => b.flush(),
            Event::Rule => {
                b.blank();
                b.lines.push(FlowLine::plain(Span::styled(
                    "─".repeat(40.min(b.width.max(1))),
                    b.theme.dim(),
                )));
            }
            _ => {}
        }
    }
    b.flush();
    while b.lines.first().is_some_and(FlowLine::is_blank) {
        b.lines.remove(0);
    }
    while b.lines.last().is_some_and(FlowLine::is_blank) {
        b.lines.pop();
    }
    b.lines
}

#[cfg(test)]
mod tests {
    use super::super::flow::{Flow, lay_out};
    use super::*;

    fn plain(md: &str) -> Vec<String> {
        plain_at(md, 78)
    }

    /// The screen lines at `width` columns, no colour.
    fn plain_at(md: &str, width: u16) -> Vec<String> {
        let lines = render(md, width, Theme::new(true), true);
        lay_out(&lines, width, 0)
            .lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn lists_code_and_headings() {
        let out = plain(
            "# Title\n\nSome *text* with `code`.\n\n1. one\n2. two\n\n- a\n- b\n\n```sh\nseclab check x\n```\n",
        );
        assert_eq!(
            out,
            vec![
                "Title",
                "",
                "Some text with `code`.",
                "",
                "  1. one",
                "  2. two",
                "",
                "  • a",
                "  • b",
                "",
                "  sh:",
                "    seclab check x",
            ]
        );
    }

    #[test]
    fn wrapped_list_items_hang_under_their_text() {
        let md = "1. Cloud (or the data centre): accounts, networks, the machines.\n   - nested bullets hang under their own text too\n10. ten\n";
        assert_eq!(
            plain_at(md, 30),
            vec![
                "  1. Cloud (or the data",
                "     centre): accounts,",
                "     networks, the machines.",
                "     • nested bullets hang",
                "       under their own text",
                "       too",
                "  2. ten",
            ]
        );
    }

    #[test]
    fn later_paragraphs_of_an_item_and_quotes_keep_their_indent() {
        let md = "- first paragraph\n\n  second paragraph of the same item\n\n> quoted words that wrap onto a second line\n";
        assert_eq!(
            plain_at(md, 24),
            vec![
                "  • first paragraph",
                "",
                "    second paragraph of",
                "    the same item",
                "",
                "│ quoted words that wrap",
                "│ onto a second line",
            ]
        );
    }

    #[test]
    fn code_blocks_are_never_rewrapped() {
        let cmd = "kubectl -n three-pods exec a -- wget -q -T 1 -O- http://b:8080";
        let md = format!(
            "Run:\n\n```sh\n{cmd}\n\tindented\n```\n\n- in a list:\n\n  ```\n  {cmd}\n  ```\n"
        );
        let lines = render(&md, 40, Theme::new(true), true);
        let code: Vec<&FlowLine> = lines
            .iter()
            .filter(|l| matches!(l.flow, Flow::Cut { .. }))
            .collect();
        assert_eq!(code.len(), 3);
        // The exact command, after its indent, in one line.
        assert_eq!(code[0].plain_text(), format!("    {cmd}"));
        assert_eq!(code[1].plain_text(), "        indented");
        assert_eq!(code[2].plain_text(), format!("      {cmd}"));
        let shown = plain_at(&md, 40);
        assert!(
            shown.contains(&"    kubectl -n three-pods exec a -- wge→".to_string()),
            "{shown:#?}"
        );
        assert!(shown.iter().all(|l| !l.starts_with("-O-")), "{shown:#?}");
    }

    #[test]
    fn tables_are_aligned_under_a_header_rule() {
        let md = "| tool | checks | n |\n|---|---|--:|\n| trivy | images | 1 |\n| kube-bench | nodes, CIS | 12 |\n";
        assert_eq!(
            plain(md),
            vec![
                "tool       │ checks     │  n",
                "───────────┼────────────┼───",
                "trivy      │ images     │  1",
                "kube-bench │ nodes, CIS │ 12",
            ]
        );
    }

    #[test]
    fn a_wide_table_wraps_its_widest_column_inside_the_cells() {
        let md = "| threat | breaks |\n|---|---|\n| **R**epudiation — denying you did something, with no way to prove it | non-repudiation (audit) |\n| **S**poofing | authentication |\n";
        let out = plain_at(md, 60);
        assert_eq!(
            out,
            vec![
                "threat                             │ breaks",
                "───────────────────────────────────┼────────────────────────",
                "Repudiation — denying you did      │ non-repudiation (audit)",
                "something, with no way to prove it │",
                "───────────────────────────────────┼────────────────────────",
                "Spoofing                           │ authentication",
            ]
        );
        for line in &out {
            assert!(Line::raw(line.as_str()).width() <= 60, "{line}");
        }
    }

    #[test]
    fn a_table_too_wide_even_wrapped_becomes_records() {
        let md = "| threat | breaks |\n|---|---|\n| Repudiation, denying it | non-repudiation |\n| Spoofing | authentication |\n";
        assert_eq!(
            plain_at(md, 24),
            vec![
                "threat: Repudiation,",
                "        denying it",
                "breaks: non-repudiation",
                "",
                "threat: Spoofing",
                "breaks: authentication",
            ]
        );
    }
}
