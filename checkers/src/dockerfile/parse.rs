//! The Dockerfile parser: physical lines in, [`Instruction`]s out, each
//! with the `line:col` of its keyword and a map from any byte of its
//! arguments back to the physical `line:col` it came from.
//!
//! What it understands, as the Docker builder does: parser directives at
//! the top (`# escape=`` ` ``, `# syntax=`), comments, line continuations
//! with the escape character (comment and empty lines inside a
//! continuation are dropped), leading `--flag[=value]` words of `FROM`,
//! `RUN`, `COPY`, `ADD` and `HEALTHCHECK`, the JSON (exec) form, and
//! heredocs (`<<EOF`, `<<-EOF`, `<<"EOF"`) after `RUN`, `COPY` and `ADD`.
//! Anything it cannot make sense of is a [`ParseError`] with a position;
//! it never panics.

use std::fmt;

/// The instructions a Dockerfile may hold.
const KEYWORDS: &[&str] = &[
    "FROM",
    "RUN",
    "CMD",
    "LABEL",
    "MAINTAINER",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "ENTRYPOINT",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ARG",
    "ONBUILD",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
];

/// Instructions whose leading `--name[=value]` words are flags.
const FLAGGED: &[&str] = &["FROM", "RUN", "COPY", "ADD", "HEALTHCHECK"];

/// Instructions that may be followed by heredocs.
const HEREDOC: &[&str] = &["RUN", "COPY", "ADD"];

/// A Dockerfile that does not parse, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.col, self.message)
    }
}

impl std::error::Error for ParseError {}

/// A leading `--name[=value]` word of an instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// The name without the dashes, lowercased (`from`, `chown`, `mount`).
    pub name: String,
    /// The value after `=`, if any.
    pub value: Option<String>,
    /// 1-based line of the flag.
    pub line: usize,
    /// 1-based column of the flag.
    pub col: usize,
}

/// A heredoc body following an instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter word (`EOF`).
    pub delimiter: String,
    /// The lines between the instruction and the delimiter, joined by `\n`.
    pub body: String,
    /// 1-based line of the body's first line.
    pub line: usize,
}

/// One instruction, continuations joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// The keyword, uppercased (`FROM`, `RUN`).
    pub keyword: String,
    /// 1-based line of the keyword.
    pub line: usize,
    /// 1-based column of the keyword.
    pub col: usize,
    /// 1-based line of the instruction's last physical line (heredocs
    /// included).
    pub end_line: usize,
    /// Everything after the keyword, continuations joined, trimmed.
    pub args: String,
    /// The leading flags (only for `FROM`, `RUN`, `COPY`, `ADD`,
    /// `HEALTHCHECK`).
    pub flags: Vec<Flag>,
    /// Byte offset in `args` where the arguments after the flags start.
    pub rest_start: usize,
    /// The JSON (exec) form's strings, when the arguments are a JSON array
    /// of strings.
    pub json: Option<Vec<String>>,
    /// Heredoc bodies, in the order their `<<WORD` appear.
    pub heredocs: Vec<Heredoc>,
    /// `(byte offset in args, line, col)` where each physical piece starts.
    segments: Vec<(usize, usize, usize)>,
}

impl Instruction {
    /// The arguments after the flags.
    pub fn rest(&self) -> &str {
        self.args.get(self.rest_start..).unwrap_or("").trim()
    }

    /// The flag `name` (lowercase, without dashes), if given.
    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().find(|f| f.name == name)
    }

    /// The physical `(line, col)` of byte `offset` of [`Self::args`].
    pub fn pos(&self, offset: usize) -> (usize, usize) {
        let seg = self
            .segments
            .iter()
            .rev()
            .find(|(o, _, _)| *o <= offset)
            .copied()
            .unwrap_or((0, self.line, self.col));
        let chars = self
            .args
            .get(seg.0..offset)
            .map_or(0, |s| s.chars().count());
        (seg.1, seg.2 + chars)
    }
}

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// The instructions in order.
    pub instructions: Vec<Instruction>,
    /// The escape character (`\` unless `# escape=` says otherwise).
    pub escape: char,
}

/// Parses a Dockerfile's text.
///
/// # Errors
/// An unknown instruction, an instruction without its arguments, a bad
/// `escape` directive, an instruction other than `ARG` before the first
/// `FROM`, no `FROM` at all, a malformed `FROM`, or an unterminated heredoc.
pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let (escape, mut i) = directives(&lines)?;
    let mut instructions = Vec::new();
    while i < lines.len() {
        let raw = lines[i];
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let (ins, next) = instruction(&lines, i, escape)?;
        instructions.push(ins);
        i = next;
    }
    validate(&instructions)?;
    Ok(Dockerfile {
        instructions,
        escape,
    })
}

/// Reads the parser directives; returns the escape character and the index
/// of the first line after them.
fn directives(lines: &[&str]) -> Result<(char, usize), ParseError> {
    let mut escape = '\\';
    let mut seen = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(body) = line.trim().strip_prefix('#') else {
            return Ok((escape, i));
        };
        let Some((name, value)) = body.split_once('=') else {
            return Ok((escape, i));
        };
        let name = name.trim().to_ascii_lowercase();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Ok((escape, i));
        }
        if seen.contains(&name) {
            return Err(ParseError {
                line: i + 1,
                col: 1,
                message: format!("the parser directive `{name}` is given twice"),
            });
        }
        if name == "escape" {
            escape = match value.trim() {
                "\\" => '\\',
                "`" => '`',
                other => {
                    return Err(ParseError {
                        line: i + 1,
                        col: 1,
                        message: format!("invalid escape character `{other}`: it must be ` or \\"),
                    });
                }
            };
        }
        seen.push(name);
    }
    Ok((escape, lines.len()))
}

/// The piece of a physical line before a trailing escape character, when
/// the line continues.
fn continued(line: &str, escape: char) -> Option<&str> {
    line.trim_end().strip_suffix(escape)
}

/// Parses the instruction starting at line index `start`; returns it and
/// the index of the first line after it.
fn instruction(
    lines: &[&str],
    start: usize,
    escape: char,
) -> Result<(Instruction, usize), ParseError> {
    let raw = lines[start];
    let lead = raw.len() - raw.trim_start().len();
    let col = raw[..lead].chars().count() + 1;
    let after_lead = &raw[lead..];
    let kw_len = after_lead
        .find(char::is_whitespace)
        .unwrap_or(after_lead.len());
    let word = &after_lead[..kw_len];
    // `RUN\` continues right after the keyword.
    let word = word.strip_suffix(escape).unwrap_or(word);
    let keyword = word.to_ascii_uppercase();
    if !KEYWORDS.contains(&keyword.as_str()) {
        return Err(ParseError {
            line: start + 1,
            col,
            message: format!("unknown instruction `{word}`"),
        });
    }
    let mut args = String::new();
    let mut segments = Vec::new();
    let mut piece_start = lead + word.len();
    let mut i = start;
    loop {
        let line = lines[i];
        let piece = line.get(piece_start..).unwrap_or("");
        let (text, more) = match continued(piece, escape) {
            Some(t) => (t, true),
            None => (piece, false),
        };
        let col0 = line.get(..piece_start).map_or(0, |s| s.chars().count()) + 1;
        segments.push((args.len(), i + 1, col0));
        args.push_str(text);
        i += 1;
        if !more {
            break;
        }
        // Skip comment and empty lines inside a continuation.
        while i < lines.len() {
            let t = lines[i].trim_start();
            if t.is_empty() || t.starts_with('#') {
                i += 1;
            } else {
                break;
            }
        }
        if i >= lines.len() {
            break;
        }
        piece_start = 0;
    }
    // Trim the joined arguments, keeping the segment offsets right.
    let leading = args.len() - args.trim_start().len();
    let args_trimmed = args.trim().to_string();
    let segments: Vec<(usize, usize, usize)> = segments
        .into_iter()
        .map(|(o, l, c)| {
            if o < leading {
                let skipped = args.get(o..leading).map_or(0, |s| s.chars().count());
                (0, l, c + skipped)
            } else {
                (o - leading, l, c)
            }
        })
        .collect();
    let mut ins = Instruction {
        keyword,
        line: start + 1,
        col,
        end_line: i,
        args: args_trimmed,
        flags: Vec::new(),
        rest_start: 0,
        json: None,
        heredocs: Vec::new(),
        segments,
    };
    if FLAGGED.contains(&ins.keyword.as_str()) {
        take_flags(&mut ins);
    }
    let rest = ins.rest();
    if rest.starts_with('[') {
        ins.json = serde_json::from_str::<Vec<String>>(rest).ok();
    }
    if HEREDOC.contains(&ins.keyword.as_str()) && ins.json.is_none() {
        i = take_heredocs(&mut ins, lines, i)?;
        ins.end_line = i;
    }
    Ok((ins, i))
}

/// Splits the leading `--name[=value]` words off the arguments.
fn take_flags(ins: &mut Instruction) {
    let mut off = 0;
    let mut flags = Vec::new();
    loop {
        let rest = ins.args.get(off..).unwrap_or("");
        let ws = rest.len() - rest.trim_start().len();
        let word_start = off + ws;
        let word_rest = ins.args.get(word_start..).unwrap_or("");
        let Some(body) = word_rest.strip_prefix("--") else {
            break;
        };
        let len = word_rest
            .find(char::is_whitespace)
            .unwrap_or(word_rest.len());
        let body = &body[..len - 2];
        if body.is_empty() {
            break;
        }
        let (name, value) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.trim_matches('"').to_string())),
            None => (body, None),
        };
        let (line, col) = ins.pos(word_start);
        flags.push(Flag {
            name: name.to_ascii_lowercase(),
            value,
            line,
            col,
        });
        off = word_start + len;
    }
    let rest = ins.args.get(off..).unwrap_or("");
    ins.rest_start = off + (rest.len() - rest.trim_start().len());
    ins.flags = flags;
}

/// The heredoc words (`<<EOF`, `<<-EOF`, `<<'EOF'`) in `args`:
/// `(delimiter, strip leading tabs)`.
fn heredoc_words(args: &str) -> Vec<(String, bool)> {
    let bytes = args.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 2 < bytes.len() {
        if bytes[i] == b'<' && bytes[i + 1] == b'<' && (i == 0 || bytes[i - 1] != b'<') {
            let mut j = i + 2;
            if bytes.get(j) == Some(&b'<') {
                i += 3;
                continue;
            }
            let strip = bytes.get(j) == Some(&b'-');
            if strip {
                j += 1;
            }
            let quote = match bytes.get(j) {
                Some(q @ (b'"' | b'\'')) => {
                    j += 1;
                    Some(*q)
                }
                _ => None,
            };
            let begin = j;
            while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                j += 1;
            }
            let word_ok = j > begin && !bytes[begin].is_ascii_digit();
            let quote_ok = quote.is_none_or(|q| bytes.get(j) == Some(&q));
            if word_ok && quote_ok {
                out.push((args[begin..j].to_string(), strip));
            }
            i = j.max(i + 2);
        } else {
            i += 1;
        }
    }
    out
}

/// Reads the bodies of the heredocs the instruction opens, from line index
/// `i`; returns the index of the first line after them.
fn take_heredocs(ins: &mut Instruction, lines: &[&str], mut i: usize) -> Result<usize, ParseError> {
    for (delimiter, strip) in heredoc_words(ins.rest()) {
        let first = i;
        let mut body = Vec::new();
        loop {
            let Some(line) = lines.get(i) else {
                return Err(ParseError {
                    line: ins.line,
                    col: ins.col,
                    message: format!(
                        "the heredoc <<{delimiter} is not closed: no line `{delimiter}` follows"
                    ),
                });
            };
            i += 1;
            let line = if strip {
                line.trim_start_matches('\t')
            } else {
                line
            };
            if line == delimiter {
                break;
            }
            body.push(line);
        }
        ins.heredocs.push(Heredoc {
            delimiter,
            body: body.join("\n"),
            line: first + 1,
        });
    }
    Ok(i)
}

/// The checks the builder makes before it runs anything.
fn validate(instructions: &[Instruction]) -> Result<(), ParseError> {
    let err = |ins: &Instruction, message: String| ParseError {
        line: ins.line,
        col: ins.col,
        message,
    };
    let mut seen_from = false;
    for ins in instructions {
        let kw = ins.keyword.as_str();
        if ins.args.is_empty() {
            return Err(err(ins, format!("{kw} needs arguments")));
        }
        if kw == "FROM" {
            seen_from = true;
            let words: Vec<&str> = ins.rest().split_whitespace().collect();
            match words.as_slice() {
                [_] => {}
                [_, as_kw, _] if as_kw.eq_ignore_ascii_case("as") => {}
                [] => return Err(err(ins, "FROM needs an image".into())),
                _ => {
                    return Err(err(
                        ins,
                        format!(
                            "FROM takes an image and optionally `AS name`, not `{}`",
                            ins.rest()
                        ),
                    ));
                }
            }
        } else if !seen_from && kw != "ARG" {
            return Err(err(
                ins,
                format!("{kw} before the first FROM: only ARG may come before FROM"),
            ));
        }
    }
    if !seen_from {
        return Err(ParseError {
            line: instructions.last().map_or(1, |i| i.end_line.max(1)),
            col: 1,
            message: "no FROM instruction: a Dockerfile must start a stage with FROM".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Instruction {
        let df = parse(&format!("FROM a:1\n{text}")).expect("parses");
        df.instructions[1].clone()
    }

    #[test]
    fn continuations_join_and_keep_positions() {
        let ins = one("RUN apt-get update \\\n  # a comment\n\n    && apt-get install -y gcc\n");
        assert_eq!(ins.keyword, "RUN");
        assert_eq!((ins.line, ins.col, ins.end_line), (2, 1, 5));
        let off = ins.args.find("gcc").expect("gcc");
        assert_eq!(ins.pos(off), (5, 27));
        assert_eq!(ins.pos(0), (2, 5));
    }

    #[test]
    fn escape_directive_changes_the_continuation() {
        let df = parse("# escape=`\nFROM a:1\nRUN dir C:\\ `\n  && echo hi\n").expect("parses");
        assert_eq!(df.escape, '`');
        assert_eq!(df.instructions[1].args, "dir C:\\   && echo hi");
        assert!(parse("# escape=x\nFROM a\n").is_err());
    }

    #[test]
    fn flags_json_and_heredocs() {
        let ins = one("COPY --from=build --chown=app:app /out /app");
        assert_eq!(
            ins.flag("from").and_then(|f| f.value.as_deref()),
            Some("build")
        );
        assert_eq!(ins.flag("chown").map(|f| (f.line, f.col)), Some((2, 19)));
        assert_eq!(ins.rest(), "/out /app");
        let ins = one("CMD [\"python\", \"app.py\"]");
        assert_eq!(ins.json, Some(vec!["python".into(), "app.py".into()]));
        let df = parse("FROM a:1\nRUN <<-EOF\n\techo hi\n\tEOF\nUSER app\n").expect("parses");
        assert_eq!(df.instructions[1].heredocs[0].body, "echo hi");
        assert_eq!(df.instructions[2].keyword, "USER");
        assert_eq!(df.instructions[2].line, 5);
    }

    #[test]
    fn errors_are_located() {
        let e = parse("FROM a:1\nRUNN ls\n").expect_err("unknown");
        assert_eq!((e.line, e.col), (2, 1));
        let e = parse("USER app\nFROM a:1\n").expect_err("before FROM");
        assert_eq!(e.line, 1);
        let e = parse("ARG X=1\n").expect_err("no FROM");
        assert!(e.message.contains("no FROM"), "{e}");
        let e = parse("FROM a:1\nRUN <<EOF\necho\n").expect_err("heredoc");
        assert_eq!(e.line, 2);
        let e = parse("FROM a:1 b\n").expect_err("bad FROM");
        assert_eq!(e.line, 1);
        let e = parse("FROM a:1\n  USER\n").expect_err("no args");
        assert_eq!((e.line, e.col), (2, 3));
    }
}
