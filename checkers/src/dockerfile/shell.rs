//! Just enough of the POSIX shell to read `RUN` lines: words (quotes and
//! backslashes removed, `$VAR` left as written), simple commands split at
//! `&&`, `||`, `;`, `|`, `&`, newlines and parentheses, redirections
//! dropped, and leading `VAR=value` assignments set aside.

/// One shell word, unquoted, with its byte offset in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word with quotes removed.
    pub text: String,
    /// Byte offset of the word's first character in the source.
    pub offset: usize,
}

/// One simple command: its words after the leading assignments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The words, the command name first.
    pub words: Vec<Word>,
}

impl Command {
    /// The command's name without its directory (`apt-get` for
    /// `/usr/bin/apt-get`).
    pub fn name(&self) -> &str {
        self.words
            .first()
            .map_or("", |w| w.text.rsplit('/').next().unwrap_or(""))
    }

    /// The words after the name.
    pub fn args(&self) -> &[Word] {
        self.words.get(1..).unwrap_or(&[])
    }
}

enum Token {
    Word(Word),
    Op,
}

fn tokens(src: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = src.char_indices().peekable();
    let mut cur: Option<Word> = None;
    let flush = |cur: &mut Option<Word>, out: &mut Vec<Token>| {
        if let Some(w) = cur.take() {
            out.push(Token::Word(w));
        }
    };
    while let Some((i, c)) = chars.next() {
        match c {
            ' ' | '\t' | '\r' => flush(&mut cur, &mut out),
            // `2>&1`, `<&3`: part of the redirection, not a background `&`.
            '&' if cur.as_ref().is_some_and(|w| w.text.ends_with(['>', '<'])) => {
                if let Some(w) = cur.as_mut() {
                    w.text.push(c);
                }
            }
            '\n' | ';' | '&' | '|' | '(' | ')' => {
                flush(&mut cur, &mut out);
                out.push(Token::Op);
            }
            '#' if cur.is_none() => {
                // A comment runs to the end of the line.
                while let Some((_, c)) = chars.peek() {
                    if *c == '\n' {
                        break;
                    }
                    chars.next();
                }
            }
            '\'' | '"' => {
                let w = cur.get_or_insert_with(|| Word {
                    text: String::new(),
                    offset: i,
                });
                while let Some((_, d)) = chars.next() {
                    if d == c {
                        break;
                    }
                    if c == '"' && d == '\\' {
                        if let Some((_, e)) = chars.next() {
                            w.text.push(e);
                        }
                        continue;
                    }
                    w.text.push(d);
                }
            }
            '\\' => {
                let w = cur.get_or_insert_with(|| Word {
                    text: String::new(),
                    offset: i,
                });
                match chars.next() {
                    Some((_, '\n')) | None => {}
                    Some((_, e)) => w.text.push(e),
                }
            }
            _ => {
                let w = cur.get_or_insert_with(|| Word {
                    text: String::new(),
                    offset: i,
                });
                w.text.push(c);
            }
        }
    }
    flush(&mut cur, &mut out);
    out
}

/// The words of `src`, quotes removed, operators ignored.
pub fn words(src: &str) -> Vec<Word> {
    tokens(src)
        .into_iter()
        .filter_map(|t| match t {
            Token::Word(w) => Some(w),
            Token::Op => None,
        })
        .collect()
}

/// Whether a word is a redirection (`>x`, `2>&1`, `<in`); a bare operator
/// (`>`) also takes the next word.
fn redirect(w: &str) -> Option<bool> {
    let digits = w.trim_start_matches(|c: char| c.is_ascii_digit());
    if digits.starts_with('>') || digits.starts_with('<') {
        let op_only = digits.trim_start_matches(['>', '<', '&']).is_empty();
        Some(op_only && !digits.ends_with('&'))
    } else {
        None
    }
}

/// The simple commands of a script.
pub fn commands(src: &str) -> Vec<Command> {
    let mut out = Vec::new();
    let mut cur: Vec<Word> = Vec::new();
    let mut skip_next = false;
    let mut finish = |cur: &mut Vec<Word>| {
        let start = cur
            .iter()
            .position(|w| !is_assignment(&w.text))
            .unwrap_or(cur.len());
        let words: Vec<Word> = cur.drain(..).skip(start).collect();
        if !words.is_empty() {
            out.push(Command { words });
        }
    };
    for t in tokens(src) {
        match t {
            Token::Op => {
                skip_next = false;
                finish(&mut cur);
            }
            Token::Word(w) => {
                if skip_next {
                    skip_next = false;
                    continue;
                }
                match redirect(&w.text) {
                    Some(takes_next) => skip_next = takes_next,
                    None => cur.push(w),
                }
            }
        }
    }
    finish(&mut cur);
    out
}

fn is_assignment(w: &str) -> bool {
    match w.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(src: &str) -> Vec<Vec<String>> {
        commands(src)
            .into_iter()
            .map(|c| c.words.into_iter().map(|w| w.text).collect())
            .collect()
    }

    #[test]
    fn commands_split_on_operators() {
        assert_eq!(
            names(
                "DEBIAN_FRONTEND=noninteractive apt-get install -y 'a b' && ls | sudo tee x >/dev/null 2>&1; echo \"q\\\"\" # c"
            ),
            vec![
                vec![
                    "apt-get".to_string(),
                    "install".into(),
                    "-y".into(),
                    "a b".into()
                ],
                vec!["ls".into()],
                vec!["sudo".into(), "tee".into(), "x".into()],
                vec!["echo".into(), "q\"".into()],
            ]
        );
        assert_eq!(names("apk add x > log"), vec![vec!["apk", "add", "x"]]);
        assert_eq!(commands("/usr/bin/pip install x")[0].name(), "pip");
        assert_eq!(words("a 'b c'")[1].offset, 2);
    }
}
