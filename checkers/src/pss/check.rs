//! The lab checkers built on the PSS grader: `pss:` (one workload passes a
//! level at a version) and `pss_namespace:` (a namespace enforces, warns and
//! audits at a level through the `pod-security.kubernetes.io/*` labels, at
//! `latest` or at least a minimum version).
//!
//! Both are pure: the objects come from the caller (the workspace).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Level, Version};
use crate::{Finding, KubeObject, Target, Verdict};

/// A `pss:` check: the target workload's pod (template) passes `level` at
/// `version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PssCheck {
    /// The workload, as `kind/name` (e.g. `deployment/scissors`).
    #[schemars(with = "String")]
    pub target: Target,
    /// The object's namespace; any namespace when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `baseline` or `restricted`.
    pub level: Level,
    /// The policy version, as in the `enforce-version` label; default
    /// `latest`.
    #[serde(default = "latest", skip_serializing_if = "is_latest")]
    pub version: Version,
}

fn latest() -> Version {
    Version::Latest
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_latest(v: &Version) -> bool {
    *v == Version::Latest
}

/// The Pod Security admission modes a namespace label can set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Reject violating pods.
    Enforce,
    /// Warn the client (kubectl) about violations.
    Warn,
    /// Record violations in the audit log.
    Audit,
}

impl Mode {
    /// The label suffix: `enforce`, `warn` or `audit`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enforce => "enforce",
            Self::Warn => "warn",
            Self::Audit => "audit",
        }
    }

    /// What happens when this mode falls back to the cluster default
    /// (`privileged`, i.e. nothing).
    fn without(self) -> &'static str {
        match self {
            Self::Enforce => "violating pods are admitted",
            Self::Warn => "`kubectl apply` prints no warning about violations",
            Self::Audit => "the audit log records no violations",
        }
    }
}

fn all_modes() -> Vec<Mode> {
    vec![Mode::Enforce, Mode::Warn, Mode::Audit]
}

/// A `pss_namespace:` check: the namespace sets
/// `pod-security.kubernetes.io/<mode>` to `level` (or stricter) for every
/// listed mode, and each `<mode>-version` is `latest` (or unset, which
/// means latest) or at least `min_version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PssNamespaceCheck {
    /// The namespace, as `namespace/name`.
    #[schemars(with = "String")]
    pub target: Target,
    /// The level each mode must set (or a stricter one).
    pub level: Level,
    /// The oldest acceptable policy version; any version when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_version: Option<Version>,
    /// The modes that must be set; default all three (enforce, warn, audit).
    #[serde(default = "all_modes")]
    pub modes: Vec<Mode>,
}

/// The namespace label prefix.
pub const LABEL_PREFIX: &str = "pod-security.kubernetes.io/";

/// Grades a `pss:` check: every matching object must pass; none matching
/// is a failure naming the target. Unknown fields are not this function's
/// business: a lab's check is graded through [`crate::fields::grade`],
/// which fails it on any field `kubectl apply` rejects before the levels
/// are evaluated.
pub fn grade_pss(check: &PssCheck, objects: &[KubeObject]) -> Verdict {
    let found = check.target.find_in(check.namespace.as_deref(), objects);
    if found.is_empty() {
        return check.target.not_found(check.namespace.as_deref(), objects);
    }
    let mut findings = Vec::new();
    for obj in found {
        let v = match super::evaluate(&obj.value, check.level, check.version) {
            Ok(result) => super::verdict(obj, &result),
            Err(e) => Verdict::from_findings(vec![Finding::error(e.to_string()).about(obj)]),
        };
        findings.extend(v.findings);
    }
    Verdict::from_findings(findings)
}

/// Grades a `pss_namespace:` check.
pub fn grade_namespace(check: &PssNamespaceCheck, objects: &[KubeObject]) -> Verdict {
    if check.target.kind != "Namespace" {
        return Verdict::fail(format!(
            "pss_namespace needs a namespace target, not {}",
            check.target
        ));
    }
    let found = check.target.find_in(None, objects);
    let Some(ns) = found.first() else {
        return Verdict::fail(format!("{} not found", check.target));
    };
    let labels = ns.value.pointer("/metadata/labels");
    let label = |key: &str| labels.and_then(|l| l.get(key));
    let mut findings = Vec::new();
    // `key` is a label's key, or a whole field path from `metadata.`.
    let mut error = |key: &str, message: String| {
        let at = if key.starts_with("metadata.") {
            key.to_owned()
        } else {
            format!("metadata.labels.{key}")
        };
        findings.push(Finding::error(message).about(ns).at(at));
    };
    for &mode in &check.modes {
        let key = format!("{LABEL_PREFIX}{}", mode.as_str());
        match label(&key) {
            None | Some(Value::Null) => {
                // The usual slip: the right key under annotations, which
                // Pod Security admission never reads.
                let annotated = ns
                    .value
                    .pointer("/metadata/annotations")
                    .and_then(|a| a.get(&key))
                    .is_some();
                let why = if annotated {
                    format!(
                        "{key} is under metadata.annotations, which Pod Security admission does not read: it must be a label (metadata.labels)"
                    )
                } else {
                    format!("label {key} is not set")
                };
                let message = format!(
                    "{why}: the namespace falls back to the cluster default (privileged), so {}; set it to {}",
                    mode.without(),
                    check.level
                );
                if annotated {
                    error(&format!("metadata.annotations.{key}"), message);
                } else {
                    error(&key, message);
                }
            }
            Some(Value::String(s)) if s == "privileged" => error(
                &key,
                format!(
                    "label {key} is privileged, which checks nothing; set it to {}",
                    check.level
                ),
            ),
            Some(Value::String(s)) => match s.parse::<Level>() {
                Ok(l) if l >= check.level => {}
                Ok(l) => error(
                    &key,
                    format!("label {key} is {l}, weaker than {}", check.level),
                ),
                Err(_) => error(
                    &key,
                    format!(
                        "label {key} is {s:?}, not a level (privileged, baseline or restricted): the API server rejects it"
                    ),
                ),
            },
            Some(other) => error(
                &key,
                format!("label {key} is {other}, not a string: labels are strings"),
            ),
        }
        let vkey = format!("{key}-version");
        let version = match label(&vkey) {
            None | Some(Value::Null) => Version::Latest,
            Some(Value::String(s)) => match s.parse::<Version>() {
                Ok(v) => v,
                Err(e) => {
                    error(&vkey, format!("label {vkey}: {e}"));
                    continue;
                }
            },
            Some(other) => {
                error(
                    &vkey,
                    format!(
                        "label {vkey} is {other}, not a string: quote it, e.g. \"v1.33\" or \"latest\""
                    ),
                );
                continue;
            }
        };
        if let Some(min) = check.min_version {
            let ok = match (version, min) {
                (Version::Latest, _) => true,
                (Version::V1(_), Version::Latest) => false,
                (Version::V1(have), Version::V1(want)) => have >= want,
            };
            if !ok {
                error(
                    &vkey,
                    format!(
                        "label {vkey} pins policy {version}: the checks added or tightened since then do not apply; use latest or at least {min}"
                    ),
                );
            }
        }
    }
    Verdict::from_findings(findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ns(labels: &Value) -> KubeObject {
        KubeObject::new(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "scissors", "labels": labels}}))
    }

    fn check(min: Option<&str>) -> PssNamespaceCheck {
        let mut v = json!({"target": "namespace/scissors", "level": "restricted"});
        if let Some(m) = min {
            v["min_version"] = json!(m);
        }
        serde_json::from_value(v).expect("valid check")
    }

    fn all_three(version: Option<&str>) -> Value {
        let mut l = json!({});
        for mode in ["enforce", "warn", "audit"] {
            l[format!("{LABEL_PREFIX}{mode}")] = json!("restricted");
            if let Some(v) = version {
                l[format!("{LABEL_PREFIX}{mode}-version")] = json!(v);
            }
        }
        l
    }

    #[test]
    fn all_three_modes_at_latest_pass() {
        let c = check(Some("v1.33"));
        assert!(grade_namespace(&c, &[ns(&all_three(None))]).passed());
        assert!(grade_namespace(&c, &[ns(&all_three(Some("latest")))]).passed());
        assert!(grade_namespace(&c, &[ns(&all_three(Some("v1.33")))]).passed());
        assert!(grade_namespace(&c, &[ns(&all_three(Some("v1.35")))]).passed());
    }

    #[test]
    fn labels_written_as_annotations_say_so() {
        let mut n = ns(&json!({}));
        n.value["metadata"]["annotations"] = all_three(None);
        let v = grade_namespace(&check(None), &[n]);
        assert!(!v.passed());
        assert_eq!(v.findings.len(), 3, "{v:?}");
        let f = &v.findings[0];
        assert!(
            f.message.contains("is under metadata.annotations")
                && f.message.contains("must be a label"),
            "{f:?}"
        );
        assert_eq!(
            f.paths,
            [format!("metadata.annotations.{LABEL_PREFIX}enforce")]
        );
    }

    #[test]
    fn old_pinned_version_fails_naming_the_label() {
        let mut labels = all_three(Some("latest"));
        labels[format!("{LABEL_PREFIX}enforce-version")] = json!("v1.0");
        let v = grade_namespace(&check(Some("v1.33")), &[ns(&labels)]);
        assert!(!v.passed());
        assert_eq!(v.findings.len(), 1);
        assert!(
            v.findings[0]
                .message
                .contains("enforce-version pins policy v1.0")
        );
        assert_eq!(
            v.findings[0].paths,
            [format!("metadata.labels.{LABEL_PREFIX}enforce-version")]
        );
        // Without a minimum any valid version passes.
        assert!(grade_namespace(&check(None), &[ns(&labels)]).passed());
    }

    #[test]
    fn warn_only_fails_enforce_and_audit() {
        let labels = json!({"pod-security.kubernetes.io/warn": "restricted"});
        let v = grade_namespace(&check(None), &[ns(&labels)]);
        let msgs: Vec<&str> = v.findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(msgs[0].contains("enforce is not set") && msgs[0].contains("admitted"));
        assert!(msgs[1].contains("audit is not set"));
    }

    #[test]
    fn weaker_privileged_and_bad_values_fail() {
        let mut labels = all_three(None);
        labels[format!("{LABEL_PREFIX}enforce")] = json!("baseline");
        labels[format!("{LABEL_PREFIX}warn")] = json!("privileged");
        labels[format!("{LABEL_PREFIX}audit")] = json!("Restricted");
        labels[format!("{LABEL_PREFIX}audit-version")] = json!("1.33");
        let v = grade_namespace(&check(None), &[ns(&labels)]);
        let msgs: Vec<&str> = v.findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(msgs.len(), 4, "{msgs:?}");
        assert!(msgs[0].contains("baseline, weaker than restricted"));
        assert!(msgs[1].contains("privileged, which checks nothing"));
        assert!(msgs[2].contains("not a level"));
        assert!(msgs[3].contains("invalid Pod Security version"));
        // restricted satisfies a baseline requirement.
        let mut c = check(None);
        c.level = Level::Baseline;
        assert!(grade_namespace(&c, &[ns(&all_three(None))]).passed());
    }

    #[test]
    fn missing_namespace_and_wrong_kind_fail_with_the_reason() {
        let v = grade_namespace(&check(None), &[]);
        assert_eq!(v.findings[0].message, "Namespace/scissors not found");
        let mut c = check(None);
        c.target = Target::parse("deployment/scissors").expect("target");
        assert!(
            grade_namespace(&c, &[ns(&all_three(None))]).findings[0]
                .message
                .contains("needs a namespace target")
        );
    }

    #[test]
    fn pss_check_grades_the_target_and_names_a_missing_one() {
        let c: PssCheck =
            serde_json::from_value(json!({"target": "deployment/scissors", "level": "baseline"}))
                .expect("valid");
        assert_eq!(c.version, Version::Latest);
        let v = grade_pss(&c, &[]);
        assert_eq!(v.findings[0].message, "Deployment/scissors not found");
        let d = KubeObject::new(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "scissors"},
            "spec": {"template": {"spec": {"hostPID": true,
                "containers": [{"name": "c", "image": "nginx:1.27"}]}}}}));
        let v = grade_pss(&c, std::slice::from_ref(&d));
        assert!(!v.passed());
        assert!(v.findings[0].message.starts_with("host namespaces"));
        assert_eq!(v.findings[0].paths, ["spec.template.spec.hostPID"]);
        let bad: Result<PssCheck, _> = serde_json::from_value(
            json!({"target": "deployment/x", "level": "baseline", "version": "1.33"}),
        );
        assert!(bad.is_err());
    }
}
