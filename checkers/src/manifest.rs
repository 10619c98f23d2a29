//! The `manifest` checker: one structured assertion about one field of one
//! object, e.g. "no container of Deployment/web may take an env var from a
//! Secret" = `{target: deployment/web, path:
//! spec.template.spec.containers[*].env[*].valueFrom.secretKeyRef, op: none}`.
//!
//! Paths are dotted field names with `[i]` for a list index and `[*]` for
//! every element. A path expands to a set of concrete leaves (wildcards fan
//! out over the lists that exist); each leaf has a value or is missing.
//!
//! | op | passes when |
//! |---|---|
//! | `equals` | there is at least one leaf and every leaf equals `value` |
//! | `in` | there is at least one leaf and every leaf is one of `value` (a list) |
//! | `exists` | there is at least one leaf and every leaf is present |
//! | `absent` | no leaf is present |
//! | `none` | no leaf matches: with `value`, no leaf equals it; without, no leaf is present |
//! | `some` | at least one leaf matches: with `value`, equals it; without, is present |
//!
//! `none` and `some` are each other's opposites: "no container takes an env
//! var from a Secret" is `none`, "some volume is the Secret `db`" is `some`
//! on `spec.template.spec.volumes[*].secret.secretName` with `value: db`.

use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Finding, KubeObject, Target, Verdict};

/// Where the object under test is read from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The student's workspace files (graded offline).
    #[default]
    Workspace,
    /// The live object in the lab's cluster (needs the cluster).
    Cluster,
}

/// The comparison a `manifest` check makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// Every leaf equals `value`.
    Equals,
    /// Every leaf is present.
    Exists,
    /// No leaf is present.
    Absent,
    /// Every leaf is one of the values in the list `value`.
    In,
    /// No leaf matches (equals `value`, or is present when `value` is unset).
    None,
    /// At least one leaf matches (equals `value`, or is present when
    /// `value` is unset).
    Some,
}

/// A `manifest:` check as written in lab.yaml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManifestCheck {
    /// The object, as `kind/name`.
    #[schemars(with = "String")]
    pub target: Target,
    /// The object's namespace; any namespace when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Field path, e.g. `spec.template.spec.containers[*].securityContext.privileged`.
    pub path: String,
    /// The comparison.
    pub op: Op,
    /// The value to compare with (`equals`, `in`, optionally `none`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// Where to read the object from; default `workspace`.
    #[serde(default)]
    pub source: Source,
    /// What to tell the student when the check fails, instead of the
    /// generated sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A malformed path or check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// The path does not parse.
    #[error("bad field path `{path}`: {why}")]
    Path {
        /// The path as written.
        path: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The op needs a value and has none, or the value has the wrong shape.
    #[error("op `{op}` {why}")]
    Value {
        /// The op.
        op: &'static str,
        /// What is wrong.
        why: &'static str,
    },
}

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A map key.
    Key(String),
    /// A list index.
    Index(usize),
    /// Every element of a list.
    Every,
}

/// Parses `a.b[0].c[*]` into segments.
pub fn parse_path(path: &str) -> Result<Vec<Segment>, ManifestError> {
    let bad = |why| ManifestError::Path {
        path: path.to_string(),
        why,
    };
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if key.is_empty() && (out.is_empty() || rest.is_empty()) {
            return Err(bad("empty field name"));
        }
        if !key.is_empty() {
            out.push(Segment::Key(key.to_string()));
        }
        while !rest.is_empty() {
            let end = rest.find(']').ok_or_else(|| bad("`[` without `]`"))?;
            let inner = &rest[1..end];
            out.push(if inner == "*" {
                Segment::Every
            } else {
                Segment::Index(
                    inner
                        .parse()
                        .map_err(|_| bad("index must be a number or *"))?,
                )
            });
            rest = &rest[end + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return Err(bad("text after `]`"));
            }
        }
    }
    Ok(out)
}

/// Every concrete leaf a path reaches: its concrete path and value (or
/// `None` when missing).
pub fn expand<'a>(root: &'a Value, segments: &[Segment]) -> Vec<(String, Option<&'a Value>)> {
    let mut out = Vec::new();
    walk(root, segments, String::new(), &mut out);
    out
}

fn walk<'a>(
    v: &'a Value,
    segments: &[Segment],
    here: String,
    out: &mut Vec<(String, Option<&'a Value>)>,
) {
    let Some((first, rest)) = segments.split_first() else {
        out.push((here, Some(v)));
        return;
    };
    let join_key = |k: &str| {
        if here.is_empty() {
            k.to_string()
        } else {
            format!("{here}.{k}")
        }
    };
    match first {
        Segment::Key(k) => match v.get(k) {
            Some(child) if !child.is_null() => walk(child, rest, join_key(k), out),
            _ => out.push((missing_path(join_key(k), rest), None)),
        },
        Segment::Index(i) => match v.get(i) {
            Some(child) => walk(child, rest, format!("{here}[{i}]"), out),
            None => out.push((missing_path(format!("{here}[{i}]"), rest), None)),
        },
        Segment::Every => {
            if let Some(items) = v.as_array() {
                for (i, child) in items.iter().enumerate() {
                    walk(child, rest, format!("{here}[{i}]"), out);
                }
            }
        }
    }
}

/// The path of a missing leaf: the concrete prefix, then the rest as written.
fn missing_path(mut here: String, rest: &[Segment]) -> String {
    for s in rest {
        match s {
            Segment::Key(k) => {
                here.push('.');
                here.push_str(k);
            }
            Segment::Index(i) => {
                let _ = write!(here, "[{i}]");
            }
            Segment::Every => here.push_str("[*]"),
        }
    }
    here
}

/// Grades one manifest check against the objects at hand (already chosen
/// from the workspace or the cluster by the caller).
pub fn grade(check: &ManifestCheck, objects: &[KubeObject]) -> Verdict {
    let segments = match parse_path(&check.path) {
        Ok(s) => s,
        Err(e) => return Verdict::fail(e.to_string()),
    };
    let found = check.target.find_in(check.namespace.as_deref(), objects);
    if found.is_empty() {
        return check.target.not_found(check.namespace.as_deref(), objects);
    }
    let mut findings = Vec::new();
    for obj in found {
        let leaves = expand(&obj.value, &segments);
        for (path, why) in failures(check, &leaves) {
            let message = match &check.message {
                Some(m) => format!("{m} ({path} {why})"),
                None => format!("{path} {why}"),
            };
            findings.push(Finding::error(message).about(obj).at(path));
        }
    }
    Verdict::from_findings(findings)
}

/// The leaves that break the check, each with why.
fn failures(check: &ManifestCheck, leaves: &[(String, Option<&Value>)]) -> Vec<(String, String)> {
    let show = |v: &Value| v.to_string();
    let want = check.value.as_ref();
    let mut out = Vec::new();
    if check.op == Op::Some {
        return some_failure(check, leaves).into_iter().collect();
    }
    let needs_leaf = matches!(check.op, Op::Equals | Op::In | Op::Exists);
    if needs_leaf && leaves.is_empty() {
        out.push((check.path.clone(), "has no elements".to_string()));
        return out;
    }
    for (path, got) in leaves {
        let why = match (check.op, got, want) {
            (Op::Equals | Op::In, _, None) => Some("(check has no value)".to_string()),
            (Op::Equals, None, Some(w)) => Some(format!("is missing, must be {}", show(w))),
            (Op::Equals, Some(g), Some(w)) if !loose_eq(g, w) => {
                Some(format!("is {}, must be {}", show(g), show(w)))
            }
            (Op::In, None, Some(w)) => Some(format!("is missing, must be one of {}", show(w))),
            (Op::In, Some(g), Some(w)) => {
                let allowed = w
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| loose_eq(g, x)));
                (!allowed).then(|| format!("is {}, must be one of {}", show(g), show(w)))
            }
            (Op::Exists, None, _) => Some("is missing".to_string()),
            (Op::Absent | Op::None, Some(g), None) => {
                Some(format!("is set ({}), must be absent", show(g)))
            }
            (Op::None, Some(g), Some(w)) if loose_eq(g, w) => {
                Some(format!("is {}, which is not allowed", show(g)))
            }
            (Op::Absent, Some(g), Some(_)) => Some(format!("is set ({}), must be absent", show(g))),
            // `some` is decided over all leaves at once (`some_failure`).
            _ => None,
        };
        if let Some(why) = why {
            out.push((path.clone(), why));
        }
    }
    out
}

/// `some`: nothing when a leaf matches; else the path as written and why.
fn some_failure(
    check: &ManifestCheck,
    leaves: &[(String, Option<&Value>)],
) -> Option<(String, String)> {
    let present: Vec<&Value> = leaves.iter().filter_map(|(_, v)| *v).collect();
    let hit = match &check.value {
        Some(w) => present.iter().any(|g| loose_eq(g, w)),
        None => !present.is_empty(),
    };
    if hit {
        return None;
    }
    let why = match &check.value {
        Some(w) if !present.is_empty() => {
            let seen: Vec<String> = present.iter().map(ToString::to_string).collect();
            format!("has no element equal to {w} (found {})", seen.join(", "))
        }
        _ => "has no element that is set".to_string(),
    };
    Some((check.path.clone(), why))
}

/// Equality that treats a number and its string spelling alike only for
/// numbers (YAML `1` vs `1.0`), nothing else.
fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() < f64::EPSILON,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deploy() -> KubeObject {
        KubeObject::new(json!({
            "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"template": {"spec": {
                "automountServiceAccountToken": false,
                "containers": [
                    {"name": "a", "env": [{"name": "X", "value": "1"}]},
                    {"name": "b", "env": [{"name": "P", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}
                ]}}}
        }))
    }

    fn check(path: &str, op: Op, value: Option<Value>) -> ManifestCheck {
        ManifestCheck {
            target: Target::parse("deployment/web").expect("target"),
            namespace: None,
            path: path.into(),
            op,
            value,
            source: Source::Workspace,
            message: None,
        }
    }

    #[test]
    fn none_finds_the_one_env_from_a_secret() {
        let v = grade(
            &check(
                "spec.template.spec.containers[*].env[*].valueFrom.secretKeyRef",
                Op::None,
                None,
            ),
            &[deploy()],
        );
        assert!(!v.passed());
        assert_eq!(v.findings.len(), 1);
        assert_eq!(
            v.findings[0].paths,
            ["spec.template.spec.containers[1].env[0].valueFrom.secretKeyRef"]
        );
    }

    #[test]
    fn equals_and_in_and_exists() {
        let objs = [deploy()];
        assert!(
            grade(
                &check(
                    "spec.template.spec.automountServiceAccountToken",
                    Op::Equals,
                    Some(json!(false))
                ),
                &objs
            )
            .passed()
        );
        assert!(
            !grade(
                &check(
                    "spec.template.spec.automountServiceAccountToken",
                    Op::Equals,
                    Some(json!(true))
                ),
                &objs
            )
            .passed()
        );
        assert!(
            grade(
                &check(
                    "spec.template.spec.containers[*].name",
                    Op::In,
                    Some(json!(["a", "b"]))
                ),
                &objs
            )
            .passed()
        );
        assert!(
            !grade(
                &check(
                    "spec.template.spec.containers[*].name",
                    Op::In,
                    Some(json!(["a"]))
                ),
                &objs
            )
            .passed()
        );
        assert!(
            !grade(
                &check(
                    "spec.template.spec.containers[*].securityContext",
                    Op::Exists,
                    None
                ),
                &objs
            )
            .passed()
        );
        assert!(
            grade(
                &check("spec.template.spec.hostPID", Op::Absent, None),
                &objs
            )
            .passed()
        );
        assert!(
            !grade(
                &check("spec.template.spec.containers[0].name", Op::Absent, None),
                &objs
            )
            .passed()
        );
    }

    #[test]
    fn missing_target_fails_with_its_name() {
        let mut c = check("spec", Op::Exists, None);
        c.target = Target::parse("deploy/other").expect("target");
        let v = grade(&c, &[deploy()]);
        assert_eq!(v.findings[0].message, "Deployment/other not found");
    }

    #[test]
    fn empty_wildcard_fails_equals_but_passes_none() {
        let obj = KubeObject::new(
            json!({"kind": "Deployment", "metadata": {"name": "web"}, "spec": {"template": {"spec": {"containers": []}}}}),
        );
        assert!(
            !grade(
                &check(
                    "spec.template.spec.containers[*].name",
                    Op::Equals,
                    Some(json!("x"))
                ),
                std::slice::from_ref(&obj)
            )
            .passed()
        );
        assert!(
            grade(
                &check("spec.template.spec.containers[*].name", Op::None, None),
                &[obj]
            )
            .passed()
        );
    }

    #[test]
    fn some_needs_one_matching_element() {
        let objs = [deploy()];
        let env_name = "spec.template.spec.containers[*].env[*].name";
        assert!(grade(&check(env_name, Op::Some, Some(json!("P"))), &objs).passed());
        let v = grade(&check(env_name, Op::Some, Some(json!("Q"))), &objs);
        assert!(!v.passed());
        assert_eq!(v.findings.len(), 1);
        assert_eq!(v.findings[0].paths, [env_name]);
        assert!(
            v.findings[0].message.contains(r#"found "X", "P""#),
            "{}",
            v.findings[0].message
        );
        // Without a value: some leaf is present.
        let secret_ref = "spec.template.spec.containers[*].env[*].valueFrom.secretKeyRef";
        assert!(grade(&check(secret_ref, Op::Some, None), &objs).passed());
        let volumes = "spec.template.spec.volumes[*].secret.secretName";
        let v = grade(&check(volumes, Op::Some, None), &objs);
        assert!(!v.passed());
        assert!(
            v.findings[0]
                .message
                .ends_with("has no element that is set")
        );
        // Numbers compare loosely, as with equals.
        let obj = KubeObject::new(json!({"kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"ports": [80, 443.0]}}));
        assert!(grade(&check("spec.ports[*]", Op::Some, Some(json!(443))), &[obj]).passed());
    }

    #[test]
    fn bad_paths_are_errors() {
        for p in ["", "a..b", "a[", "a[x]", "a[0]b"] {
            assert!(parse_path(p).is_err(), "{p}");
        }
        assert_eq!(
            parse_path("a.b[0][*]").expect("ok"),
            [
                Segment::Key("a".into()),
                Segment::Key("b".into()),
                Segment::Index(0),
                Segment::Every
            ]
        );
    }
}
