//! Why an RBAC object could not be read: each error names the object and the
//! field path, e.g. ``RoleBinding ns/name: roleRef.kind must be Role or
//! ClusterRole, got "Rol"``; the shell adds `file:line:col` from `file`.

use thiserror::Error;

/// A malformed RBAC object (or check spec), with where the problem is.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{object}: {path} {problem}")]
pub struct RbacError {
    /// The object, as `Kind/name` or `Kind ns/name`.
    pub object: String,
    /// The file the object came from, when known (`Finding::source`).
    pub file: Option<String>,
    /// Field path inside the object, e.g. `subjects[0].namespace`.
    pub path: String,
    /// What is wrong with that field.
    pub problem: Problem,
}

/// What is wrong with one field.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Problem {
    /// The field is required but absent (or empty).
    #[error("is required")]
    Missing,
    /// The field has the wrong JSON type, e.g. `verbs` given as a string.
    #[error("must be {expected}, got {got}")]
    WrongType {
        /// What the field must be (`a list of strings`).
        expected: &'static str,
        /// What it is, as a short JSON rendering.
        got: String,
    },
    /// The field holds a value the API does not accept.
    #[error("must be {expected}, got {got:?}")]
    NotSupported {
        /// The accepted values, in words.
        expected: &'static str,
        /// The value found.
        got: String,
    },
    /// The field is fine alone but contradicts another one, e.g. a rule with
    /// both `resources` and `nonResourceURLs`.
    #[error("{0}")]
    Conflict(&'static str),
}

impl RbacError {
    /// An error about `path` in the object `object` from `source`.
    pub fn new(
        object: &str,
        source: Option<&str>,
        path: impl Into<String>,
        problem: Problem,
    ) -> Self {
        Self {
            object: object.to_owned(),
            file: source.map(str::to_owned),
            path: path.into(),
            problem,
        }
    }
}

/// A short rendering of a JSON value for error messages (at most ~40 chars).
pub(crate) fn short(value: &serde_json::Value) -> String {
    let s = value.to_string();
    if s.chars().count() > 40 {
        let cut: String = s.chars().take(37).collect();
        format!("{cut}...")
    } else {
        s
    }
}
