//! Dockerfile build hygiene: a parser ([`parse`]), build stages
//! ([`stages`]), and rules in three families, each finding a [`Hit`] with
//! a rule id, a level and the `line:col` of the instruction:
//! - hadolint's (`DL*`, same ids, levels and lines, see
//!   `benches/hadolint-compare.sh`): [`hadolint`] and [`packages`];
//! - trivy's DS checks where they differ from hadolint's (`DS-0001`
//!   resolves `ARG` defaults, `DS-0002` counts no `USER` at all as root,
//!   `DS-0031` secrets in the final image): [`secrets`] and [`hadolint`];
//! - seclab's own (`SL*`): a minimal final base, no build toolchain or
//!   shell in the final image, one stage or several, and a secret file
//!   copied then deleted in a later layer: [`seclab`] and [`secrets`].
//!
//! [`check`] is the lab's `dockerfile` check over these rules.

pub mod check;
pub mod hadolint;
pub mod packages;
pub mod parse;
pub mod seclab;
pub mod secrets;
pub mod shell;
pub mod stages;

use serde::Serialize;

pub use parse::{Dockerfile, Instruction, ParseError, parse};
pub use stages::{ImageRef, Stage, Stages};

/// How serious a rule hit is, in hadolint's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Wrong or unsafe.
    Error,
    /// Likely a problem.
    Warning,
    /// Worth knowing.
    Info,
    /// Style only.
    Style,
}

impl Level {
    /// The word for it (`error`, `warning`, `info`, `style`).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "info",
            Level::Style => "style",
        }
    }
}

/// One rule hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hit {
    /// The rule id (`DL3002`, `DS-0002`, `SL1001`).
    pub code: &'static str,
    /// How serious it is.
    pub level: Level,
    /// 1-based line of the instruction the hit is about.
    pub line: usize,
    /// 1-based column of that instruction.
    pub column: usize,
    /// What is wrong, for the student.
    pub message: String,
}

impl Hit {
    /// A hit at instruction `ins`.
    pub fn at(code: &'static str, level: Level, ins: &Instruction, message: String) -> Self {
        Self {
            code,
            level,
            line: ins.line,
            column: ins.col,
            message,
        }
    }
}

/// Every rule id this module implements, with its default level and a
/// one-line summary.
pub const RULES: &[(&str, Level, &str)] = &[
    ("DL3002", Level::Warning, "a stage's last USER is root"),
    ("DL3004", Level::Error, "sudo in RUN"),
    ("DL3006", Level::Warning, "FROM an image without a tag"),
    ("DL3007", Level::Warning, "FROM an image tagged latest"),
    (
        "DL3008",
        Level::Warning,
        "apt-get install without pkg=version",
    ),
    ("DL3013", Level::Warning, "pip install without a version"),
    ("DL3016", Level::Warning, "npm install without @version"),
    ("DL3018", Level::Warning, "apk add without pkg=version"),
    ("DL3020", Level::Error, "ADD of local files: use COPY"),
    ("DL3025", Level::Warning, "CMD/ENTRYPOINT in shell form"),
    ("DL3064", Level::Warning, "a secret-looking ARG/ENV name"),
    (
        "DS-0001",
        Level::Warning,
        "a base image untagged or latest, ARG defaults substituted",
    ),
    (
        "DS-0002",
        Level::Error,
        "the final image runs as root (no USER, or USER root)",
    ),
    (
        "DS-0031",
        Level::Error,
        "a secret in the final image: ARG/ENV name or a copied secret file",
    ),
    (
        "SL1001",
        Level::Warning,
        "the final stage is not on a minimal base",
    ),
    (
        "SL1002",
        Level::Warning,
        "build toolchain or sources left in the final stage",
    ),
    ("SL1003", Level::Warning, "the final image has a shell"),
    (
        "SL1004",
        Level::Error,
        "a file copied, then deleted in a later layer",
    ),
    ("SL1005", Level::Info, "a single-stage build"),
];

/// Whether `code` is a rule id this module implements.
pub fn is_rule(code: &str) -> bool {
    RULES.iter().any(|(c, _, _)| *c == code)
}

/// The commands a `RUN` runs: its shell form and heredoc bodies, or the
/// script of a JSON-form `["sh", "-c", "..."]`, or the JSON form as one
/// command.
pub fn run_commands(ins: &Instruction) -> Vec<shell::Command> {
    if let Some(json) = &ins.json {
        let shell_c = json.len() >= 3
            && json[0]
                .rsplit('/')
                .next()
                .is_some_and(|s| s.ends_with("sh"))
            && json[1] == "-c";
        if shell_c {
            return shell::commands(&json[2]);
        }
        let words = json
            .iter()
            .map(|t| shell::Word {
                text: t.clone(),
                offset: 0,
            })
            .collect::<Vec<_>>();
        return if words.is_empty() {
            Vec::new()
        } else {
            vec![shell::Command { words }]
        };
    }
    let mut out = shell::commands(ins.rest());
    for h in &ins.heredocs {
        out.extend(shell::commands(&h.body));
    }
    out
}

/// Lints a parsed Dockerfile with every rule; hits sorted by line, then
/// rule id, one per (line, rule).
pub fn lint(df: &Dockerfile) -> Vec<Hit> {
    let st = Stages::of(df);
    let mut hits = Vec::new();
    hits.extend(hadolint::rules(df, &st));
    hits.extend(packages::rules(df));
    hits.extend(secrets::rules(df, &st));
    hits.extend(seclab::rules(df, &st));
    hits.sort_by(|a, b| (a.line, a.code).cmp(&(b.line, b.code)));
    hits.dedup_by(|a, b| a.line == b.line && a.code == b.code);
    hits
}

/// Parses and lints a Dockerfile's text.
///
/// # Errors
/// The text does not parse.
pub fn lint_text(text: &str) -> Result<Vec<Hit>, ParseError> {
    parse(text).map(|df| lint(&df))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.0).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len());
    }

    #[test]
    fn exec_form_run_with_sh_c_is_read_as_a_script() {
        let df = parse("FROM a:1\nRUN [\"/bin/sh\", \"-c\", \"apt-get install -y x && ls\"]\n")
            .expect("parses");
        let cmds = run_commands(&df.instructions[1]);
        assert_eq!(cmds.len(), 2);
        assert_eq!(cmds[0].name(), "apt-get");
    }
}
