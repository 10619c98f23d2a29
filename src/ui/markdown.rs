//! Instructions from Markdown to styled lines: headings, paragraphs,
//! bullet and numbered lists, emphasis, inline code, tables, quotes, and
//! fenced code blocks set apart (a blank line around, indented, no border
//! characters on the code lines, so a command copies cleanly).

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::theme::Theme;

struct Builder {
    theme: Theme,
    lines: Vec<Line<'static>>,
    spans: Vec<Span<'static>>,
    styles: Vec<Style>,
    /// One entry per open list: the next number (`None`: bullets).
    lists: Vec<Option<u64>>,
    quote: usize,
    in_code: bool,
    no_color: bool,
}

impl Builder {
    fn style(&self) -> Style {
        self.styles
            .iter()
            .fold(Style::new(), |acc, s| acc.patch(*s))
    }

    fn flush(&mut self) {
        if !self.spans.is_empty() {
            let mut spans = Vec::new();
            if self.quote > 0 {
                spans.push(Span::styled("│ ".repeat(self.quote), self.theme.dim()));
            }
            spans.append(&mut self.spans);
            self.lines.push(Line::from(spans));
        }
    }

    fn blank(&mut self) {
        self.flush();
        if self.lines.last().is_some_and(|l| l.width() > 0) {
            self.lines.push(Line::default());
        }
    }

    fn text(&mut self, t: &str) {
        let style = self.style();
        self.spans.push(Span::styled(t.to_string(), style));
    }

    fn code_block(&mut self, t: &str) {
        for line in t.lines() {
            self.lines.push(Line::from(Span::styled(
                format!("    {line}"),
                self.theme.code(),
            )));
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
            Tag::Paragraph if self.lists.is_empty() => self.blank(),
            Tag::BlockQuote(_) => {
                self.blank();
                self.quote += 1;
            }
            Tag::CodeBlock(kind) => {
                self.blank();
                self.in_code = true;
                if let CodeBlockKind::Fenced(lang) = kind {
                    if !lang.is_empty() {
                        self.lines.push(Line::from(Span::styled(
                            format!("  {lang}:"),
                            self.theme.dim(),
                        )));
                    }
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
                let depth = self.lists.len().saturating_sub(1);
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        let m = format!("{n}. ");
                        *n += 1;
                        m
                    }
                    _ => "• ".to_string(),
                };
                self.spans
                    .push(Span::raw(format!("{}{marker}", "  ".repeat(depth + 1))));
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
            Tag::Table(_) => self.blank(),
            Tag::TableRow => self.flush(),
            Tag::TableCell if !self.spans.is_empty() => {
                self.spans.push(Span::styled(" │ ", self.theme.dim()));
            }
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
            TagEnd::TableHead => {
                self.styles.pop();
                self.flush();
                self.lines
                    .push(Line::from(Span::styled("─".repeat(20), self.theme.dim())));
            }
            TagEnd::Paragraph | TagEnd::TableRow | TagEnd::Item => self.flush(),
            TagEnd::Table => self.blank(),
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.quote = self.quote.saturating_sub(1);
            }
            TagEnd::CodeBlock => {
                self.in_code = false;
                self.lines.push(Line::default());
            }
            TagEnd::List(_) => {
                self.flush();
                self.lists.pop();
            }
            _ => {}
        }
    }
}

/// Renders Markdown to lines (not wrapped: the paragraph widget wraps).
pub fn render(markdown: &str, theme: Theme, no_color: bool) -> Vec<Line<'static>> {
    let mut b = Builder {
        theme,
        lines: Vec::new(),
        spans: Vec::new(),
        styles: Vec::new(),
        lists: Vec::new(),
        quote: 0,
        in_code: false,
        no_color,
    };
    let opts = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    for event in Parser::new_ext(markdown, opts) {
        match event {
            Event::Start(tag) => b.start(&tag),
            Event::End(tag) => b.end(tag),
            Event::Text(t) if b.in_code => b.code_block(&t),
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
                b.lines
                    .push(Line::from(Span::styled("─".repeat(40), b.theme.dim())));
            }
            _ => {}
        }
    }
    b.flush();
    while b.lines.first().is_some_and(|l| l.width() == 0) {
        b.lines.remove(0);
    }
    while b.lines.last().is_some_and(|l| l.width() == 0) {
        b.lines.pop();
    }
    b.lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(md: &str) -> Vec<String> {
        render(md, Theme::new(true), true)
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
    fn tables_keep_their_cells_apart() {
        let out = plain("| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert_eq!(out[0], "a │ b");
        assert_eq!(out[2], "1 │ 2");
    }
}
