//! Editing `answers.yaml` in place: `seclab answer` (and the TUI's answer
//! form) change one question's value and keep everything else of the
//! student's file as it was — comments, order, blank lines, quoting.
//!
//! serde-saphyr keeps no comments, so the edit is made on the text: the
//! parsed document says where the task's and the question's keys are, the
//! lines say how far a value reaches (block style: the lines indented
//! deeper than its key, and `- ` items at the key's own indentation). The
//! result is parsed again and must hold exactly the intended answers;
//! when it does not (a flow-style task mapping that spans lines, anchors,
//! several documents), [`set_answer`] returns `None` and the caller
//! rewrites the file from the parsed value.

use serde_json::Value;

/// `text` with `task.question` set to `value`, or `None` when the file
/// cannot be edited in place. `text` must parse (the caller has checked).
pub fn set_answer(text: &str, task: &str, question: &str, value: &Value) -> Option<String> {
    let docs = crate::yaml::parse_documents("answers.yaml", text).ok()?;
    if docs.len() > 1 {
        return None;
    }
    let doc = docs.into_iter().next();
    let current = doc.as_ref().map_or(Value::Null, |d| d.value.clone());
    if !(current.is_object() || current.is_null()) {
        return None;
    }
    let mut want = current.clone();
    merge(&mut want, task, question, value.clone());

    let lines: Vec<&str> = text.lines().collect();
    let rendered = render(value);
    let new_lines: Vec<String> = match doc.as_ref().and_then(|d| d.key_positions.get(task)) {
        None => {
            // A new task at the end of the file.
            let mut out: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
            while out.last().is_some_and(|l| l.trim() == "---") {
                out.pop();
            }
            out.push(format!("{}:", key(task)));
            out.push(format!("  {}: {rendered}", key(question)));
            out
        }
        Some(task_pos) => {
            let task_line = task_pos.line - 1;
            if task_pos.col != 1 {
                return None;
            }
            let block_end = block_end(&lines, task_line, 0);
            if !rest_is_empty(lines.get(task_line)?, 0) {
                // A flow mapping on the task's own line: write the task's
                // answers there again, in flow style, keeping its comment.
                if block_end != task_line + 1 {
                    return None;
                }
                let Value::Object(answers) = want.get(task)? else {
                    return None;
                };
                // In the order the student wrote them; a new one last.
                let at = |k: &str| {
                    doc.as_ref()
                        .and_then(|d| d.key_positions.get(&format!("{task}.{k}")))
                        .map_or((usize::MAX, usize::MAX), |p| (p.line, p.col))
                };
                let mut keys: Vec<&String> = answers.keys().collect();
                keys.sort_by_key(|k| at(k));
                let flow: Vec<String> = keys
                    .iter()
                    .map(|k| format!("{}: {}", key(k), render(&answers[k.as_str()])))
                    .collect();
                let comment = trailing_comment(lines[task_line]);
                let mut out: Vec<String> =
                    lines[..task_line].iter().map(|l| (*l).to_owned()).collect();
                out.push(format!(
                    "{}: {{{}}}{}",
                    key(task),
                    flow.join(", "),
                    comment.map(|c| format!("  {c}")).unwrap_or_default()
                ));
                out.extend(lines[task_line + 1..].iter().map(|l| (*l).to_owned()));
                return finish(&out, &want);
            }
            let qpath = format!("{task}.{question}");
            match doc.as_ref().and_then(|d| d.key_positions.get(&qpath)) {
                Some(qpos) => {
                    let q_line = qpos.line - 1;
                    let indent = qpos.col - 1;
                    let end = value_end(&lines, q_line, indent, block_end);
                    let comment = trailing_comment(lines[q_line]);
                    let mut out: Vec<String> =
                        lines[..q_line].iter().map(|l| (*l).to_owned()).collect();
                    out.push(format!(
                        "{}{}: {rendered}{}",
                        " ".repeat(indent),
                        key(question),
                        comment.map(|c| format!("  {c}")).unwrap_or_default()
                    ));
                    out.extend(lines[end..].iter().map(|l| (*l).to_owned()));
                    out
                }
                None => {
                    // A new question after the task's last line.
                    let last = last_content(&lines, task_line, block_end);
                    let indent = (task_line + 1..block_end)
                        .map(|i| lines[i])
                        .find(|l| !is_blank_or_comment(l))
                        .map_or(2, indentation);
                    let mut out: Vec<String> =
                        lines[..=last].iter().map(|l| (*l).to_owned()).collect();
                    out.push(format!(
                        "{}{}: {rendered}",
                        " ".repeat(indent),
                        key(question)
                    ));
                    out.extend(lines[last + 1..].iter().map(|l| (*l).to_owned()));
                    out
                }
            }
        }
    };
    finish(&new_lines, &want)
}

/// The lines as a file, when they mean exactly what was intended.
fn finish(lines: &[String], want: &Value) -> Option<String> {
    let mut out = lines.join("\n");
    out.push('\n');
    let check = crate::yaml::parse_documents("answers.yaml", &out).ok()?;
    (check.len() == 1 && &check[0].value == want).then_some(out)
}

/// Sets `task.question` in a parsed answers value (making maps as needed).
pub fn merge(all: &mut Value, task: &str, question: &str, value: Value) {
    if !all.is_object() {
        *all = Value::Object(serde_json::Map::new());
    }
    if let Some(map) = all.as_object_mut() {
        let t = map
            .entry(task.to_string())
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if !t.is_object() {
            *t = Value::Object(serde_json::Map::new());
        }
        if let Some(t) = t.as_object_mut() {
            t.insert(question.to_string(), value);
        }
    }
}

/// A mapping key as YAML: plain when it reads back as itself.
fn key(k: &str) -> String {
    scalar(k)
}

/// An answer value on one line: a scalar, or a flow list of scalars.
fn render(v: &Value) -> String {
    match v {
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(render).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::String(s) => scalar(s),
        other => other.to_string(),
    }
}

/// A string as a YAML scalar: plain when that reads back as the same
/// string (not a number, boolean or null, no special characters), else
/// double-quoted (JSON's escapes are YAML's).
fn scalar(s: &str) -> String {
    let plain_chars = !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | '/'))
        && !s.starts_with([' ', '-', '.'])
        && !s.ends_with(' ');
    if plain_chars {
        let probe = format!("k: {s}\n");
        if let Ok(d) = crate::yaml::parse_documents("probe", &probe)
            && d.first().and_then(|d| d.value.get("k")) == Some(&Value::from(s))
        {
            return s.to_owned();
        }
    }
    Value::from(s).to_string()
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim_start();
    t.is_empty() || t.starts_with('#')
}

/// Whether the line holds nothing but a comment after the key ending near
/// `from` (the key, `:`, spaces, an optional comment).
fn rest_is_empty(line: &str, from: usize) -> bool {
    let Some(rest) = line.get(from..) else {
        return false;
    };
    let Some(colon) = key_colon(rest) else {
        return false;
    };
    let after = rest[colon + 1..].trim_start();
    after.is_empty() || after.starts_with('#')
}

/// The position of the `:` that ends the key at the start of `s`.
fn key_colon(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, ':') => return Some(i),
            _ => {}
        }
    }
    None
}

/// The comment at the end of a `key: value` line, if any (a `#` after a
/// space, outside quotes).
fn trailing_comment(line: &str) -> Option<&str> {
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if prev == ' ' || prev == '\t' => return Some(&line[i..]),
            _ => {}
        }
        prev = c;
    }
    None
}

/// The first line after `start` that begins a new entry at `indent` or
/// less (the end of `start`'s block); `lines.len()` at the end.
fn block_end(lines: &[&str], start: usize, indent: usize) -> usize {
    (start + 1..lines.len())
        .find(|&i| {
            let l = lines[i];
            !is_blank_or_comment(l)
                && (indentation(l) <= indent || l.starts_with("---") || l.starts_with("..."))
        })
        .unwrap_or(lines.len())
}

/// The line after the value of the key on `key_line` (indented `indent`):
/// deeper lines, and `- ` items at the key's own indentation, belong to
/// it; comments and blank lines only when more of the value follows.
fn value_end(lines: &[&str], key_line: usize, indent: usize, limit: usize) -> usize {
    let mut end = key_line + 1;
    for (i, l) in lines.iter().enumerate().take(limit).skip(key_line + 1) {
        if is_blank_or_comment(l) {
            continue;
        }
        let ind = indentation(l);
        if ind > indent || (ind == indent && l.trim_start().starts_with("- ")) {
            end = i + 1;
        } else {
            break;
        }
    }
    end
}

/// The last non-blank, non-comment line of the block `start..end`.
fn last_content(lines: &[&str], start: usize, end: usize) -> usize {
    (start..end)
        .rev()
        .find(|&i| !is_blank_or_comment(lines[i]))
        .unwrap_or(start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[allow(clippy::needless_pass_by_value)] // `json!(...)` at every call
    fn set(text: &str, task: &str, q: &str, v: Value) -> Option<String> {
        set_answer(text, task, q, &v)
    }

    #[test]
    fn replaces_a_value_and_keeps_every_comment() {
        let text = "# my answers\nlayers:\n  # I think b and d\n  which-layer: [a]  # unsure\n  defence-in-depth: [a, b]\n\n# later\ntrust:\n  zero-trust: b\n";
        let out = set(text, "layers", "which-layer", json!(["b", "d"])).expect("in place");
        assert_eq!(
            out,
            "# my answers\nlayers:\n  # I think b and d\n  which-layer: [b, d]  # unsure\n  defence-in-depth: [a, b]\n\n# later\ntrust:\n  zero-trust: b\n"
        );
    }

    #[test]
    fn replaces_a_block_list_value() {
        let text = "layers:\n  which-layer:\n  - a\n  - c\n  # keep me\n  other: x\n";
        let out = set(text, "layers", "which-layer", json!(["b"])).expect("in place");
        assert_eq!(
            out,
            "layers:\n  which-layer: [b]\n  # keep me\n  other: x\n"
        );
        let text = "layers:\n  which-layer:\n    - a\n    - c\n";
        let out = set(text, "layers", "which-layer", json!(["b"])).expect("in place");
        assert_eq!(out, "layers:\n  which-layer: [b]\n");
    }

    #[test]
    fn adds_questions_and_tasks() {
        let text = "# answers\nlayers:\n    which-layer: [a]\n# end of layers\n\ntrust:\n  zero-trust: b\n";
        let out = set(text, "layers", "defence-in-depth", json!(["c"])).expect("in place");
        assert_eq!(
            out,
            "# answers\nlayers:\n    which-layer: [a]\n    defence-in-depth: [c]\n# end of layers\n\ntrust:\n  zero-trust: b\n"
        );
        let out = set(text, "duty", "two-person", json!("b")).expect("in place");
        assert!(
            out.ends_with("  zero-trust: b\nduty:\n  two-person: b\n"),
            "{out}"
        );
        assert!(out.starts_with("# answers\n"), "{out}");
        let out = set("", "duty", "two-person", json!("b")).expect("in place");
        assert_eq!(out, "duty:\n  two-person: b\n");
        let out = set("# nothing yet\n", "duty", "two-person", json!("b")).expect("in place");
        assert_eq!(out, "# nothing yet\nduty:\n  two-person: b\n");
    }

    #[test]
    fn quotes_what_would_read_back_otherwise() {
        let text = "trust:\n  name-it: x\n";
        for (v, written) in [
            ("least privilege", "least privilege"),
            ("yes", "\"yes\""),
            ("123", "\"123\""),
            ("a: b", "\"a: b\""),
            ("# hash", "\"# hash\""),
            ("null", "\"null\""),
        ] {
            let out = set(text, "trust", "name-it", json!(v)).expect("in place");
            assert_eq!(out, format!("trust:\n  name-it: {written}\n"), "{v}");
        }
    }

    #[test]
    fn a_one_line_flow_mapping_is_rewritten_on_its_line() {
        let text = "# mine\nlayers: {which-layer: a, defence-in-depth: [a, b]}  # first go\ntrust:\n  zero-trust: b\n";
        let out = set(text, "layers", "which-layer", json!(["b", "d"])).expect("in place");
        assert_eq!(
            out,
            "# mine\nlayers: {which-layer: [b, d], defence-in-depth: [a, b]}  # first go\ntrust:\n  zero-trust: b\n"
        );
    }

    #[test]
    fn what_cannot_be_edited_in_place_falls_back() {
        // A flow mapping over several lines.
        assert_eq!(
            set(
                "layers: {which-layer: a,\n  x: b}\n",
                "layers",
                "which-layer",
                json!("b")
            ),
            None
        );
        // Several documents: not ours to edit.
        assert_eq!(set("a: {}\n---\nb: {}\n", "a", "q", json!("b")), None);
    }
}
