//! Errors a user can act on: `path:line:col: what is wrong`, and the exit
//! codes every command shares.

use std::fmt;
use std::process::ExitCode;

/// Everything passed, nothing found.
pub const EXIT_OK: u8 = 0;
/// Checks failed or findings were reported.
pub const EXIT_FINDINGS: u8 = 1;
/// Usage or input error.
pub const EXIT_USAGE: u8 = 2;

/// A problem with a file the user gave us, located where possible.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InputError {
    /// The file (as the user would name it).
    pub path: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub col: Option<usize>,
    /// What is wrong, and where possible what to do.
    pub message: String,
}

impl InputError {
    /// An error about a whole file.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            line: None,
            col: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.col) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.path, self.message),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.path, self.message),
            _ => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// The outcome of a command: an exit code (0, 1 or 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome(pub u8);

impl Outcome {
    /// 0 when `ok`, else 1.
    pub fn from_ok(ok: bool) -> Self {
        Self(if ok { EXIT_OK } else { EXIT_FINDINGS })
    }
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> Self {
        ExitCode::from(o.0)
    }
}

impl InputError {
    /// The offending line with a caret under the column, when the file can
    /// be read here (built-in labs are embedded, so their files may not be
    /// on disk).
    pub fn snippet(&self) -> Option<String> {
        use std::io::BufRead as _;
        let (line, col) = (self.line?, self.col?);
        // A line at a time: the file may be a large log.
        let file = std::fs::File::open(&self.path).ok()?;
        let src = std::io::BufReader::new(file)
            .lines()
            .nth(line.checked_sub(1)?)?
            .ok()?;
        let src = src.strip_suffix('\r').unwrap_or(&src);
        let gutter = line.to_string();
        let pad = " ".repeat(gutter.len());
        let caret = " ".repeat(col.saturating_sub(1));
        Some(format!("{pad} |\n{gutter} | {src}\n{pad} | {caret}^\n"))
    }
}
