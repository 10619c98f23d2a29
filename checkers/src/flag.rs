//! Per-student flags: `flag(name)` = the first 32 hex digits of
//! HMAC-SHA256(key = seed, message = student + "\n" + name), and the `flag`
//! checker that compares a submitted flag in constant time with the value
//! the lab's cluster holds.

use hmac::{Hmac, Mac};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::{Finding, Verdict};

/// The flag for `student` named `name` under `seed`.
pub fn derive(seed: &str, student: &str, name: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(seed.as_bytes()) else {
        unreachable!("HMAC takes keys of any length")
    };
    mac.update(student.as_bytes());
    mac.update(b"\n");
    mac.update(name.as_bytes());
    let mut hex = hex::encode(mac.finalize().into_bytes());
    hex.truncate(32);
    hex
}

/// Where the cluster keeps the flag's true value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretKey {
    /// The Secret's namespace.
    pub namespace: String,
    /// The Secret's name.
    pub name: String,
    /// The key inside `data`.
    pub key: String,
}

/// A `flag:` check as written in lab.yaml: the student submits a value
/// found in the lab (with `seclab answer`), graded against the live Secret
/// (`secret:`) or the lab's own flag for this student (`seed:`): exactly
/// one of the two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagCheck {
    /// The question id: its key in `answers.yaml` under the task.
    pub id: String,
    /// What the student is asked to find.
    pub question: String,
    /// The Secret whose value is the flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretKey>,
    /// The name of a flag the lab plants itself (`flag(name="...")` in a
    /// start template): its value for this student is the truth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<String>,
    /// With `seed`: the flag is one of these, picked for the student
    /// (`choose(name="...", from=[...])` in a start template renders the
    /// same pick). Answers compare case-insensitively, with `==`, `@`, a
    /// space or `:` between a package and its version alike
    /// (`urllib3 1.26.4` is `urllib3==1.26.4`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

/// Which of `choices` the flag `name` picks for `student` under `seed`
/// (`None` when there are none).
pub fn choose<'c>(seed: &str, student: &str, name: &str, choices: &'c [String]) -> Option<&'c str> {
    if choices.is_empty() {
        return None;
    }
    let hex = derive(seed, student, name);
    let n = u64::from_str_radix(&hex[..15], 16).unwrap_or(0);
    let len = u64::try_from(choices.len()).unwrap_or(u64::MAX);
    let i = usize::try_from(n % len).unwrap_or(0);
    choices.get(i).map(String::as_str)
}

/// A package answer in one spelling: lower case, `_` as `-`, the version
/// after `==` (`Jinja2 2.11.2`, `jinja2@2.11.2` → `jinja2==2.11.2`).
pub fn normalise_choice(answer: &str) -> String {
    let lower = answer.trim().to_lowercase();
    let parts: Vec<&str> = lower
        .split(|c: char| c == '=' || c == '@' || c == ':' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .collect();
    parts.join("==").replace('_', "-")
}

/// Who the flags are derived for: the class seed and the student id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seed<'a> {
    /// The class (or personal) seed.
    pub seed: &'a str,
    /// The student id.
    pub student: &'a str,
}

impl Seed<'_> {
    /// This student's flag `name`.
    pub fn flag(&self, name: &str) -> String {
        derive(self.seed, self.student, name)
    }

    /// The truth of a `seed:` flag check for this student: the derived
    /// flag, or the pick among its `choices`.
    pub fn truth(&self, check: &FlagCheck) -> Option<String> {
        let name = check.seed.as_deref()?;
        if check.choices.is_empty() {
            Some(self.flag(name))
        } else {
            choose(self.seed, self.student, name, &check.choices).map(str::to_string)
        }
    }
}

impl FlagCheck {
    /// What is wrong with the check itself: not exactly one of `secret`, `seed`.
    pub fn problem(&self) -> Option<String> {
        if self.secret.is_some() && !self.choices.is_empty() {
            return Some(format!(
                "flag `{}`: choices go with seed, not with secret",
                self.id
            ));
        }
        match (&self.secret, &self.seed) {
            (Some(_), None) | (None, Some(_)) => None,
            _ => Some(format!(
                "flag `{}` needs exactly one of secret (a Secret of the cluster) or seed (a flag the lab plants)",
                self.id
            )),
        }
    }

    /// Where the truth comes from, for messages.
    pub fn source(&self) -> String {
        match (&self.secret, &self.seed) {
            (Some(s), _) => format!("Secret {}/{} key {}", s.namespace, s.name, s.key),
            (None, Some(name)) => format!("the flag the lab planted ({name})"),
            (None, None) => "nothing".into(),
        }
    }
}

/// Compares a submitted flag with the true one in constant time.
pub fn grade(check: &FlagCheck, truth: &str, given: Option<&str>) -> Verdict {
    let Some(given) = given.map(str::trim) else {
        return Verdict::fail(format!("`{}` is not answered yet", check.id));
    };
    let (given, truth) = if check.choices.is_empty() {
        (given.to_string(), truth.to_string())
    } else {
        (normalise_choice(given), normalise_choice(truth))
    };
    if bool::from(given.as_bytes().ct_eq(truth.as_bytes())) {
        Verdict::pass()
    } else {
        Verdict::from_findings(vec![Finding::error(format!(
            "`{}`: that is not the value of {}",
            check.id,
            check.source()
        ))])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_are_picked_per_student_and_compared_loosely() {
        let choices: Vec<String> = ["urllib3==1.26.4", "Jinja2==2.11.2", "requests==2.25.1"]
            .map(String::from)
            .to_vec();
        let picks: std::collections::BTreeSet<&str> = (0..40)
            .filter_map(|i| choose("class", &format!("s{i}"), "hidden", &choices))
            .collect();
        assert_eq!(picks.len(), 3, "every choice is picked for someone");
        assert_eq!(
            choose("class", "alice", "hidden", &choices),
            choose("class", "alice", "hidden", &choices)
        );
        assert_eq!(choose("class", "alice", "hidden", &[]), None);
        assert_eq!(normalise_choice(" Jinja2 2.11.2 "), "jinja2==2.11.2");
        assert_eq!(normalise_choice("jinja2@2.11.2"), "jinja2==2.11.2");
        let check = FlagCheck {
            id: "pkg".into(),
            question: "q".into(),
            secret: None,
            seed: Some("hidden".into()),
            choices,
        };
        assert!(grade(&check, "Jinja2==2.11.2", Some("jinja2 2.11.2")).passed());
        assert!(!grade(&check, "Jinja2==2.11.2", Some("jinja2 2.11.3")).passed());
        assert!(!grade(&check, "Jinja2==2.11.2", Some("jinja2")).passed());
    }

    #[test]
    fn flags_are_stable_per_student_and_differ_between_students() {
        let a = derive("class-7", "alice", "db-credentials");
        assert_eq!(a, derive("class-7", "alice", "db-credentials"));
        assert_eq!(a.len(), 32);
        assert_ne!(a, derive("class-7", "bob", "db-credentials"));
        assert_ne!(a, derive("class-8", "alice", "db-credentials"));
        assert_ne!(a, derive("class-7", "alice", "other"));
    }

    #[test]
    fn known_vector() {
        // HMAC-SHA256(key="test", msg="test\nx"), computed independently with
        // `printf 'test\nx' | openssl dgst -sha256 -hmac test`.
        assert_eq!(
            derive("test", "test", "x"),
            "201c91fa8c1970528dcdb87ac19cff23"
        );
    }

    #[test]
    fn grading_trims_and_compares() {
        let c = FlagCheck {
            id: "password".into(),
            question: "?".into(),
            secret: Some(SecretKey {
                namespace: "n".into(),
                name: "s".into(),
                key: "k".into(),
            }),
            seed: None,
            choices: Vec::new(),
        };
        assert!(grade(&c, "abc", Some(" abc\n")).passed());
        assert!(!grade(&c, "abc", Some("abd")).passed());
        assert!(!grade(&c, "abc", None).passed());
    }
}
