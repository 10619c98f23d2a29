//! Unknown-field warnings for `seclab scan pss`: keys the Kubernetes API
//! does not know anywhere in a workload document, each with the closest
//! valid key at that place, from the typed check in [`crate::fields`].
//!
//! The scan reads any of the nine workload kinds by `kind` alone (a wrong
//! `apiVersion` is one more warning), and words its findings as warnings,
//! the format `seclab scan pss` has always printed. A value of the wrong
//! JSON type ends the scan (serde cannot resume); it is one warning at its
//! path, and keys after it are not checked.

use serde_json::Value;

use super::FieldWarning;
use crate::fields::{FieldProblem, problems_by_kind};
use crate::object::WORKLOAD_KINDS;

/// Unknown fields anywhere in a workload document (any of the nine kinds
/// [`super::evaluate`] accepts), in document order. Other kinds give none.
pub fn unknown_fields(obj: &Value) -> Vec<FieldWarning> {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    if !WORKLOAD_KINDS.contains(&kind) {
        return Vec::new();
    }
    problems_by_kind(obj)
        .unwrap_or_default()
        .into_iter()
        .map(warning)
        .collect()
}

fn warning(p: FieldProblem) -> FieldWarning {
    match p {
        FieldProblem::Unknown {
            path,
            field,
            suggestion,
        } => FieldWarning {
            message: match suggestion {
                Some(s) => format!("unknown field \"{path}\"; did you mean \"{s}\"?"),
                None => format!("unknown field \"{path}\""),
            },
            path,
            field,
            suggestion: suggestion.map(str::to_owned),
        },
        FieldProblem::Invalid { path, message } => {
            let at = if path.is_empty() { "(document)" } else { &path };
            FieldWarning {
                message: format!("{at}: {message}; fields after it were not checked for typos"),
                path,
                field: String::new(),
                suggestion: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_typo_in_container_security_context() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "i",
                "securityContext": {"runAsNonroot": true}}]}});
        let w = unknown_fields(&pod);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].path, "spec.containers[0].securityContext.runAsNonroot");
        assert_eq!(w[0].suggestion.as_deref(), Some("runAsNonRoot"));
        assert_eq!(
            w[0].message,
            "unknown field \"spec.containers[0].securityContext.runAsNonroot\"; did you mean \"runAsNonRoot\"?"
        );
    }

    #[test]
    fn only_workloads_and_type_errors_stop_the_scan() {
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "spek": {}});
        assert_eq!(unknown_fields(&ns), Vec::new());
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "spec": {"hostPID": "yes", "volumez": []}});
        let w = unknown_fields(&pod);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].path, "spec.hostPID");
        assert!(
            w[0].message
                .ends_with("; fields after it were not checked for typos"),
            "{}",
            w[0].message
        );
    }
}
