//! Styles. With NO_COLOR only modifiers (bold, italic, reverse, dim) are
//! used; meaning never rests on colour alone — every status also has a
//! glyph and a word.

use ratatui::style::{Color, Modifier, Style};

use crate::app::TaskBadge;

/// The styles of one session.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    no_color: bool,
}

impl Theme {
    /// Colours unless `no_color`.
    pub fn new(no_color: bool) -> Self {
        Self { no_color }
    }

    fn fg(self, c: Color) -> Style {
        if self.no_color {
            Style::new()
        } else {
            Style::new().fg(c)
        }
    }

    /// Headings in instructions.
    pub fn heading(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// Code, inline and in blocks.
    pub fn code(self) -> Style {
        self.fg(Color::Yellow)
    }

    /// Secondary text.
    pub fn dim(self) -> Style {
        if self.no_color {
            Style::new().add_modifier(Modifier::DIM)
        } else {
            Style::new().fg(Color::DarkGray)
        }
    }

    /// The selected row.
    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// A focused pane's border.
    pub fn focused(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// Good news.
    pub fn pass(self) -> Style {
        self.fg(Color::Green).add_modifier(Modifier::BOLD)
    }

    /// Bad news.
    pub fn fail(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    /// Neither: skipped, needs something, a warning.
    pub fn warn(self) -> Style {
        self.fg(Color::Yellow)
    }

    /// A hint.
    pub fn hint(self) -> Style {
        self.fg(Color::Magenta)
    }

    /// The style of a task badge.
    pub fn badge(self, b: TaskBadge) -> Style {
        match b {
            TaskBadge::Passed => self.pass(),
            TaskBadge::Failed => self.fail(),
            TaskBadge::NotTried => self.dim(),
            TaskBadge::Running => self.fg(Color::Cyan),
            TaskBadge::NeedsDocker | TaskBadge::NeedsCluster | TaskBadge::Skipped => self.warn(),
        }
    }
}

/// Spinner frames for work in flight.
pub const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// The spinner frame for tick `frame`.
pub fn spinner(frame: usize) -> &'static str {
    SPINNER[frame % SPINNER.len()]
}
