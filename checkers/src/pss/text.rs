//! Text and path helpers shared by the checks: upstream's `pluralize` and
//! `joinQuote`, Go's `%q`, and the field paths of security-context settings.

use std::fmt::Write as _;

use super::Violation;
use super::pod::{Container, Pod};

/// `one` when `n == 1`, else `many` (upstream `pluralize`).
pub(crate) fn pluralize<'s>(one: &'s str, many: &'s str, n: usize) -> &'s str {
    if n == 1 { one } else { many }
}

/// `"a", "b"` (upstream `joinQuote`: no escaping).
pub(crate) fn join_quote<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let mut out = String::new();
    for (i, s) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('"');
        out.push_str(s.as_ref());
        out.push('"');
    }
    out
}

/// `container "a"` / `containers "a", "b"`.
pub(crate) fn containers_phrase(names: &[&str]) -> String {
    format!(
        "{} {}",
        pluralize("container", "containers", names.len()),
        join_quote(names)
    )
}

#[allow(
    clippy::unnecessary_wraps,
    reason = "every check returns Option<Violation>; this builds the Some"
)]
pub(crate) fn violation(
    check: &'static str,
    reason: impl Into<String>,
    detail: String,
    paths: Vec<String>,
) -> Option<Violation> {
    Some(Violation {
        check,
        reason: reason.into(),
        detail,
        paths,
    })
}

/// A container's `securityContext.<field>` path.
pub(crate) fn sc_path(pod: &Pod<'_>, c: &Container<'_>, field: &str) -> String {
    format!("{}.securityContext.{field}", c.path(pod.spec_path))
}

/// The pod's `spec.securityContext.<field>` path.
pub(crate) fn pod_sc_path(pod: &Pod<'_>, field: &str) -> String {
    format!("{}.securityContext.{field}", pod.spec_path)
}

/// Go's `%q` for the strings annotations hold: quotes and backslash
/// escapes, non-printable characters as `\u` escapes.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
