//! The `quiz` checker: single choice, multiple choice, or a short answer.
//!
//! Answers are kept in lab.yaml as salted SHA-256 hashes
//! (`sha256:<salt>:<hex>`), an anti-spoiler for students who read the lab
//! files, not a secret. Before hashing an answer is normalised: choice
//! letters trimmed and lower-cased, multiple choices de-duplicated, sorted
//! and joined by `,`; short answers trimmed, case-folded and with inner
//! white space collapsed to one space.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{Finding, Verdict};

/// A `quiz:` check as written in lab.yaml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuizCheck {
    /// The question's id: its key in `answers.yaml` under the task.
    pub id: String,
    /// The question, as the student reads it.
    pub question: String,
    /// The choices, labelled `a`, `b`, `c`, ... in order. Empty for a short
    /// answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// Whether several choices make up the answer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multiple: bool,
    /// The salted hash of the normalised answer (`seclab lab hash-answer`).
    pub answer: String,
    /// Other accepted answers, each a salted hash like `answer`: the forms
    /// a right short answer may take ("least privilege",
    /// "least-privilege", "principle of least privilege").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accept: Vec<String>,
}

/// The label of choice number `i` (`a`, `b`, ...; `aa`... past `z` is not
/// supported: a question with more than 26 choices is rejected by validate).
pub fn label(i: usize) -> String {
    u8::try_from(i)
        .ok()
        .filter(|i| *i < 26)
        .map_or_else(|| format!("#{i}"), |i| char::from(b'a' + i).to_string())
}

/// Why an answer or a hash is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuizError {
    /// The answer names a choice the question does not have.
    #[error("`{given}` is not a choice here (choices: {valid}){}", hint.as_deref().map(|h| format!("; {h}")).unwrap_or_default())]
    NoSuchChoice {
        /// What was given.
        given: String,
        /// The valid labels.
        valid: String,
        /// How to write what was probably meant, e.g. `abc` as `a b c`.
        hint: Option<String>,
    },
    /// Several values for a single-choice question.
    #[error("this question takes one choice, got {0}")]
    TooMany(usize),
    /// No value at all.
    #[error("the answer is empty")]
    Empty,
    /// The stored hash is not `sha256:<salt>:<64 hex>`.
    #[error("answer hash `{0}` is not of the form sha256:<salt>:<64 hex digits>")]
    BadHash(String),
}

impl QuizCheck {
    /// Every accepted hash: `answer`, then `accept`.
    pub fn hashes(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.answer.as_str()).chain(self.accept.iter().map(String::as_str))
    }

    /// Normalises the given values (one or several strings) for this
    /// question.
    pub fn normalise(&self, given: &[String]) -> Result<String, QuizError> {
        normalise(&self.choices, self.multiple, given)
    }
}

/// Normalises an answer for a question with these choices.
pub fn normalise(
    choices: &[String],
    multiple: bool,
    given: &[String],
) -> Result<String, QuizError> {
    let parts: Vec<String> = given
        .iter()
        .flat_map(|g| {
            if choices.is_empty() {
                vec![g.clone()]
            } else {
                g.split(',').map(str::to_string).collect()
            }
        })
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return Err(QuizError::Empty);
    }
    if choices.is_empty() {
        let joined = parts.join(" ");
        return Ok(joined
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase());
    }
    let valid: Vec<String> = (0..choices.len()).map(label).collect();
    let mut picked: Vec<String> = Vec::new();
    for p in parts {
        let p = p.to_lowercase();
        if !valid.contains(&p) {
            // `abc` for letters a, b and c: say how to give several.
            let letters: Vec<String> = p.chars().map(String::from).collect();
            let hint =
                (letters.len() > 1 && letters.iter().all(|l| valid.contains(l))).then(|| {
                    if multiple {
                        format!(
                            "did you mean `{}` (one letter each, space- or comma-separated)?",
                            letters.join(" ")
                        )
                    } else {
                        "this question takes one letter".to_owned()
                    }
                });
            return Err(QuizError::NoSuchChoice {
                given: p,
                valid: valid.join(", "),
                hint,
            });
        }
        if !picked.contains(&p) {
            picked.push(p);
        }
    }
    if !multiple && picked.len() > 1 {
        return Err(QuizError::TooMany(picked.len()));
    }
    picked.sort();
    Ok(picked.join(","))
}

/// The stored form of a normalised answer with this salt.
pub fn hash_answer(salt: &str, normalised: &str) -> String {
    format!("sha256:{salt}:{}", digest(salt, normalised))
}

fn digest(salt: &str, normalised: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(b":");
    h.update(normalised.as_bytes());
    hex::encode(h.finalize())
}

/// Splits and checks a stored hash; `(salt, hex)`.
pub fn parse_hash(stored: &str) -> Result<(&str, &str), QuizError> {
    let bad = || QuizError::BadHash(stored.to_string());
    let rest = stored.strip_prefix("sha256:").ok_or_else(bad)?;
    let (salt, hex) = rest.rsplit_once(':').ok_or_else(bad)?;
    if salt.is_empty() || hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    Ok((salt, hex))
}

/// The strings of an answer value: a string, a number, or a list of them.
pub fn answer_strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().flat_map(answer_strings).collect(),
        Value::Null => Vec::new(),
        other => vec![other.to_string()],
    }
}

/// Grades the student's answer (`None` when not answered yet).
pub fn grade(check: &QuizCheck, given: Option<&Value>) -> Verdict {
    let Some(given) = given else {
        return Verdict::fail(format!("question `{}` is not answered yet", check.id));
    };
    let normalised = match check.normalise(&answer_strings(given)) {
        Ok(n) => n,
        Err(e) => return Verdict::fail(format!("question `{}`: {e}", check.id)),
    };
    let mut right = false;
    for stored in check.hashes() {
        let (salt, want) = match parse_hash(stored) {
            Ok(parts) => parts,
            Err(e) => return Verdict::fail(e.to_string()),
        };
        let got = digest(salt, &normalised);
        // Every hash is compared (no early exit), each in constant time.
        right |= bool::from(got.as_bytes().ct_eq(want.as_bytes()));
    }
    if right {
        Verdict::pass()
    } else {
        let what = if check.multiple {
            "is not the right set of choices (all the right ones, none of the wrong ones)"
        } else {
            "is not right"
        };
        Verdict::from_findings(vec![Finding::error(format!(
            "question `{}`: the answer {what}",
            check.id
        ))])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(multiple: bool, answer: &str) -> QuizCheck {
        let choices: Vec<String> = ["w", "x", "y", "z"].map(String::from).to_vec();
        let n = normalise(&choices, multiple, &[answer.to_string()]).expect("valid");
        QuizCheck {
            id: "q".into(),
            question: "?".into(),
            choices,
            multiple,
            answer: hash_answer("salt", &n),
            accept: Vec::new(),
        }
    }

    #[test]
    fn single_choice_is_case_and_space_insensitive() {
        let c = q(false, "b");
        assert!(grade(&c, Some(&json!(" B "))).passed());
        assert!(!grade(&c, Some(&json!("a"))).passed());
        assert!(!grade(&c, None).passed());
        let v = grade(&c, Some(&json!("e")));
        assert!(v.findings[0].message.contains("not a choice"), "{v:?}");
        assert!(!grade(&c, Some(&json!(["a", "b"]))).passed());
    }

    #[test]
    fn multiple_choice_is_an_exact_set_in_any_order() {
        let c = q(true, "a,c");
        assert!(grade(&c, Some(&json!(["c", "a"]))).passed());
        assert!(grade(&c, Some(&json!("C, a, a"))).passed());
        assert!(!grade(&c, Some(&json!(["a"]))).passed());
        assert!(!grade(&c, Some(&json!(["a", "c", "d"]))).passed());
    }

    #[test]
    fn short_answers_fold_case_and_space() {
        let n = normalise(&[], false, &["  Least   Privilege ".into()]).expect("ok");
        assert_eq!(n, "least privilege");
        let c = QuizCheck {
            id: "s".into(),
            question: "?".into(),
            choices: vec![],
            multiple: false,
            answer: hash_answer("x", &n),
            accept: Vec::new(),
        };
        assert!(grade(&c, Some(&json!("least privilege"))).passed());
        assert!(!grade(&c, Some(&json!("least-privilege"))).passed());
    }

    #[test]
    fn short_answers_accept_every_listed_form() {
        let hash = |s: &str| hash_answer("k", &normalise(&[], false, &[s.into()]).expect("ok"));
        let c = QuizCheck {
            id: "s".into(),
            question: "?".into(),
            choices: vec![],
            multiple: false,
            answer: hash("least privilege"),
            accept: vec![
                hash("least-privilege"),
                hash("principle of least privilege"),
            ],
        };
        for right in [
            "Least Privilege",
            "least-privilege",
            "Principle of  least privilege",
        ] {
            assert!(grade(&c, Some(&json!(right))).passed(), "{right}");
        }
        assert!(!grade(&c, Some(&json!("least"))).passed());
        // A malformed extra hash is reported, not skipped.
        let mut bad = c.clone();
        bad.accept.push("sha256:x:zz".into());
        assert!(!grade(&bad, Some(&json!("least privilege"))).passed());
    }

    #[test]
    fn letters_run_together_get_a_suggestion() {
        let c = q(true, "a,c");
        let v = grade(&c, Some(&json!("abc")));
        assert!(
            v.findings[0].message.contains("did you mean `a b c`"),
            "{v:?}"
        );
        let single = q(false, "a");
        let v = grade(&single, Some(&json!("ab")));
        assert!(v.findings[0].message.contains("takes one letter"), "{v:?}");
        // Not letters of this question: no suggestion.
        let v = grade(&c, Some(&json!("xyz")));
        assert!(!v.findings[0].message.contains("did you mean"), "{v:?}");
    }

    #[test]
    fn malformed_hashes_are_rejected() {
        for h in ["", "md5:a:b", "sha256::abc", "sha256:s:zz"] {
            assert!(parse_hash(h).is_err(), "{h}");
        }
    }
}
