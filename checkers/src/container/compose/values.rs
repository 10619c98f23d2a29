//! Compose values: command words, memory sizes, byte counts.

use serde_json::Value;

use super::kind_of;

/// Splits a command line into words as Compose does (shell quoting rules:
/// single quotes, double quotes, backslash escapes; no variables, no
/// globbing, no shell).
pub fn split_words(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err(format!("unterminated single quote in `{s}`")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => cur.push(c),
                            Some(c) => {
                                cur.push('\\');
                                cur.push(c);
                            }
                            None => return Err(format!("unterminated double quote in `{s}`")),
                        },
                        Some(c) => cur.push(c),
                        None => return Err(format!("unterminated double quote in `{s}`")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => cur.push(c),
                    None => return Err(format!("`{s}` ends with a lone backslash")),
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// A memory size as Docker reads it (`units.RAMInBytes`): bytes as a
/// number, or a string `64m`, `64M`, `64MB`, `64MiB`, `1g`, `1.5g`,
/// `1048576` (units are powers of 1024). Docker refuses a limit below
/// 6 MiB.
pub fn parse_memory(v: &Value) -> Result<u64, String> {
    const MIN: u64 = 6 * 1024 * 1024;
    let bytes = match v {
        Value::Number(n) => n.as_u64().ok_or_else(|| {
            format!("{n} is not a memory size: write a whole number of bytes or a size like 64m")
        })?,
        Value::String(s) => parse_size(s)?,
        other => {
            return Err(format!(
                "a memory size is a number of bytes or a string like 64m, not {}",
                kind_of(other)
            ));
        }
    };
    if bytes < MIN {
        return Err(format!(
            "{} is below Docker's minimum memory limit of 6m",
            format_bytes(bytes)
        ));
    }
    Ok(bytes)
}

pub(super) fn parse_size(s: &str) -> Result<u64, String> {
    let bad =
        || format!("`{s}` is not a memory size: write it like 64m, 512k, 1g or 1048576 (bytes)");
    let t = s.trim();
    let num_end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, rest) = t.split_at(num_end);
    if num.is_empty() || num.starts_with('.') || num.ends_with('.') || num.matches('.').count() > 1
    {
        return Err(bad());
    }
    let rest = rest.strip_prefix(' ').unwrap_or(rest).to_ascii_lowercase();
    let mut unit = rest.as_str();
    let mult: u64 = match unit.chars().next() {
        Some('k') => 1 << 10,
        Some('m') => 1 << 20,
        Some('g') => 1 << 30,
        Some('t') => 1 << 40,
        Some('p') => 1 << 50,
        _ => 1,
    };
    if mult > 1 {
        unit = &unit[1..];
    }
    unit = unit.strip_prefix('i').unwrap_or(unit);
    unit = unit.strip_prefix('b').unwrap_or(unit);
    if !unit.is_empty() {
        return Err(bad());
    }
    let value: f64 = num.parse().map_err(|_| bad())?;
    let bytes = value * mult as f64;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(bad());
    }
    #[allow(clippy::cast_sign_loss)]
    Ok(bytes as u64)
}

/// Bytes as the shortest Docker size: `64m`, `1g`, `512k`, `1000`.
pub fn format_bytes(b: u64) -> String {
    for (unit, m) in [("g", 1u64 << 30), ("m", 1 << 20), ("k", 1 << 10)] {
        if b >= m && b.is_multiple_of(m) {
            return format!("{}{unit}", b / m);
        }
    }
    b.to_string()
}
