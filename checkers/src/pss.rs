//! Pod Security Standards (baseline, restricted), exact to the upstream
//! Pod Security Admission library (`k8s.io/pod-security-admission/policy`).
//!
//! [`evaluate`] takes a workload document of any of the nine pod-carrying
//! kinds, extracts the pod template (its metadata and spec), and runs the 19
//! upstream checks at the requested [`Level`] and [`Version`]:
//! - each check runs its newest revision whose minimum version is at most the
//!   requested one (`latest` and newer versions clamp to v1.37);
//! - restricted runs every baseline check except those a restricted check
//!   overrides at that version, then the restricted checks;
//! - violations come out in upstream order (baseline IDs sorted, then
//!   restricted IDs sorted) with upstream's reason and detail text, so
//!   [`PssResult::message`] is byte-identical to the admission message.
//!
//! The evaluation works on the defaulted pod, as the API server would see it
//! (a volume with no source is an `emptyDir`). Shapes the API server would
//! reject (e.g. `containers` not a list) are a [`PssError`] naming the field.
//!
//! Unknown fields are found by a separate, slower pass, [`unknown_fields`]
//! (see the `unknown` submodule), so [`evaluate`] stays a pure, allocation-light walk.
//! `seclab scan pss` reports them as warnings; a lab's `pss:` check is
//! graded through [`crate::fields::grade`], where an unknown field in the
//! target is an error (kubectl rejects the object).
//!
//! Submodules: `version` (levels, versions), `pod` (the typed borrowed view
//! of the pod, shape validation, defaulting), `baseline` and `restricted`
//! (the checks), `text` and `path` (message and path helpers), `unknown`
//! (unknown-field warnings from the typed check of [`crate::fields`]), `check` (the lab
//! checkers `pss:` and `pss_namespace:`).

mod baseline;
pub mod check;
mod path;
mod pod;
mod restricted;
mod text;
mod unknown;
mod version;

use serde::Serialize;
use serde_json::Value;

use crate::{Finding, KubeObject, Verdict};

pub use unknown::unknown_fields;
pub use version::{Level, MAX_MINOR, Version, VersionError};

/// Why a document could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PssError {
    /// The document is not one of the nine kinds that carry a pod.
    #[error(
        "{kind:?} is not a workload: Pod Security applies to Pod, PodTemplate, ReplicationController, ReplicaSet, Deployment, DaemonSet, StatefulSet, Job and CronJob"
    )]
    NotAWorkload {
        /// The document's `kind` (`""` when missing).
        kind: String,
    },
    /// A field has a JSON type the API server would reject.
    #[error("invalid {path}: must be {expected}")]
    Invalid {
        /// Full field path, e.g. `spec.template.spec.containers`.
        path: String,
        /// What the API expects there, e.g. `a list`.
        expected: &'static str,
    },
}

/// One failing upstream check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Upstream check ID, e.g. `allowPrivilegeEscalation`.
    pub check: &'static str,
    /// Upstream `ForbiddenReason`, e.g. `allowPrivilegeEscalation != false`.
    pub reason: String,
    /// Upstream `ForbiddenDetail`, e.g.
    /// `container "web" must set securityContext.allowPrivilegeEscalation=false`.
    pub detail: String,
    /// Full field paths in the object that cause the violation. For a
    /// required setting that is missing, the path where it must be set.
    pub paths: Vec<String>,
}

impl Violation {
    /// `reason (detail)`, or just `reason` when the detail is empty.
    pub fn message(&self) -> String {
        let reason = if self.reason.is_empty() {
            "unknown forbidden reason"
        } else {
            &self.reason
        };
        if self.detail.is_empty() {
            reason.to_owned()
        } else {
            format!("{reason} ({})", self.detail)
        }
    }
}

/// A field the Kubernetes API does not know (it would be dropped), or a
/// value whose type stopped the unknown-field scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldWarning {
    /// Full path of the field, e.g. `spec.containers[0].securityContext.runAsNonroot`.
    pub path: String,
    /// The unknown key (`""` for a type problem).
    pub field: String,
    /// The closest valid key at that place, when one is close enough.
    pub suggestion: Option<String>,
    /// The sentence a student reads.
    pub message: String,
}

/// The outcome of evaluating one pod (template).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PssResult {
    /// No check failed.
    pub allowed: bool,
    /// The failing checks, in upstream order.
    pub violations: Vec<Violation>,
    /// Unknown-field warnings ([`evaluate`] leaves this empty;
    /// [`evaluate_with_warnings`] fills it).
    pub warnings: Vec<FieldWarning>,
}

impl PssResult {
    /// The upstream aggregate: `reason (detail)` per failing check joined by
    /// `, `, e.g. `allowPrivilegeEscalation != false (container "web" must set
    /// securityContext.allowPrivilegeEscalation=false), ...`. Empty when allowed.
    pub fn message(&self) -> String {
        let parts: Vec<String> = self.violations.iter().map(Violation::message).collect();
        parts.join(", ")
    }
}

/// Evaluates the pod (template) of `obj` at `level` and `version`.
pub fn evaluate(obj: &Value, level: Level, version: Version) -> Result<PssResult, PssError> {
    let Some((metadata, spec, metadata_path, spec_path)) = template(obj) else {
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
        return Err(PssError::NotAWorkload {
            kind: kind.to_owned(),
        });
    };
    if spec.is_null() {
        holders_are_objects(obj, spec_path)?;
    }
    let pod = pod::Pod::parse(metadata, spec, metadata_path, spec_path)?;
    let violations = run_checks(&pod, level, version.minor());
    Ok(PssResult {
        allowed: violations.is_empty(),
        violations,
        warnings: Vec::new(),
    })
}

/// [`evaluate`] plus [`unknown_fields`] in `warnings`.
pub fn evaluate_with_warnings(
    obj: &Value,
    level: Level,
    version: Version,
) -> Result<PssResult, PssError> {
    let mut result = evaluate(obj, level, version)?;
    result.warnings = unknown_fields(obj);
    Ok(result)
}

static NULL: Value = Value::Null;

/// The pod metadata and spec of a workload with their paths: the same kinds
/// and places as [`crate::object::pod_template`] (which the tests hold it
/// to), read with `get` chains because `Value::pointer` allocates per
/// segment and this is the hot path.
fn template(obj: &Value) -> Option<(&Value, &Value, &'static str, &'static str)> {
    let kind = obj.get("kind").and_then(Value::as_str)?;
    let (holder, prefix_meta, prefix_spec) = match kind {
        "Pod" => (Some(obj), "metadata", "spec"),
        "PodTemplate" => (obj.get("template"), "template.metadata", "template.spec"),
        "ReplicationController"
        | "ReplicaSet"
        | "Deployment"
        | "DaemonSet"
        | "StatefulSet"
        | "Job" => (
            obj.get("spec").and_then(|s| s.get("template")),
            "spec.template.metadata",
            "spec.template.spec",
        ),
        "CronJob" => (
            obj.get("spec")
                .and_then(|s| s.get("jobTemplate"))
                .and_then(|j| j.get("spec"))
                .and_then(|s| s.get("template")),
            "spec.jobTemplate.spec.template.metadata",
            "spec.jobTemplate.spec.template.spec",
        ),
        _ => return None,
    };
    let get = |key: &str| holder.and_then(|h| h.get(key)).unwrap_or(&NULL);
    Some((get("metadata"), get("spec"), prefix_meta, prefix_spec))
}

/// When no pod spec was found: an error if a step on the way to it
/// (`spec`, `template`, ...) is present but not an object, as the API server
/// would reject that document.
fn holders_are_objects(obj: &Value, spec_path: &str) -> Result<(), PssError> {
    let mut cur = obj;
    let mut walked = String::new();
    for key in spec_path.split('.') {
        match cur {
            Value::Object(m) => match m.get(key) {
                Some(next) => cur = next,
                None => return Ok(()),
            },
            Value::Null => return Ok(()),
            _ => {
                return Err(PssError::Invalid {
                    path: if walked.is_empty() {
                        "(document)".to_owned()
                    } else {
                        walked
                    },
                    expected: "an object",
                });
            }
        }
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(key);
    }
    Ok(())
}

fn run_checks(pod: &pod::Pod<'_>, level: Level, minor: u32) -> Vec<Violation> {
    let restricted = level == Level::Restricted;
    let mut out = Vec::new();
    let mut push = |v: Option<Violation>| {
        if let Some(v) = v {
            out.push(v);
        }
    };
    // Baseline checks, sorted by ID; skipped when overridden in restricted.
    push(baseline::app_armor_profile(pod));
    if !(restricted && minor >= 22) {
        push(baseline::capabilities_baseline(pod));
    }
    push(baseline::host_namespaces(pod));
    if !restricted {
        // restrictedVolumes overrides hostPathVolumes from 1.0.
        push(baseline::host_path_volumes(pod));
    }
    push(baseline::host_ports(pod));
    if minor >= 34 {
        push(baseline::host_probes_and_host_lifecycle(pod));
    }
    push(baseline::privileged(pod));
    if !(restricted && minor >= 35) {
        push(baseline::proc_mount(pod, "procMount", minor >= 35));
    }
    push(baseline::se_linux_options(pod, minor));
    if minor < 19 {
        push(baseline::seccomp_baseline_annotations(pod));
    } else if !restricted {
        push(baseline::seccomp_baseline_fields(pod));
    }
    push(baseline::sysctls(pod, minor));
    push(baseline::windows_host_process(pod));
    if !restricted {
        return out;
    }
    // Restricted checks, sorted by ID.
    if minor >= 8 {
        push(restricted::allow_privilege_escalation(pod, minor));
    }
    if minor >= 22 {
        push(restricted::capabilities_restricted(pod, minor));
    }
    if minor >= 35 {
        push(baseline::proc_mount(pod, "procMount_restricted", false));
    }
    push(restricted::restricted_volumes(pod));
    push(restricted::run_as_non_root(pod, minor));
    if minor >= 23 {
        push(restricted::run_as_user(pod, minor));
    }
    if minor >= 19 {
        push(restricted::seccomp_restricted(pod, minor));
    }
    out
}

/// A [`Verdict`] for `obj` from its [`PssResult`]: one error finding per
/// violation (message `reason (detail)`, with its paths), one warning per
/// field warning.
pub fn verdict(obj: &KubeObject, result: &PssResult) -> Verdict {
    let mut findings = Vec::with_capacity(result.violations.len() + result.warnings.len());
    for v in &result.violations {
        let mut f = Finding::error(v.message()).about(obj);
        f.paths.clone_from(&v.paths);
        findings.push(f);
    }
    for w in &result.warnings {
        findings.push(
            Finding::warning(w.message.clone())
                .about(obj)
                .at(w.path.clone()),
        );
    }
    Verdict::from_findings(findings)
}

/// Evaluates `obj` (with unknown-field warnings) and grades it: pass when
/// allowed, fail with one finding per violation, or fail with the
/// [`PssError`] as the single finding.
pub fn grade(obj: &KubeObject, level: Level, version: Version) -> Verdict {
    match evaluate_with_warnings(&obj.value, level, version) {
        Ok(result) => verdict(obj, &result),
        Err(e) => Verdict::from_findings(vec![Finding::error(e.to_string()).about(obj)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{WORKLOAD_KINDS, pod_template};
    use serde_json::json;

    #[test]
    fn template_agrees_with_object_pod_template() {
        let inner = json!({"metadata": {"annotations": {"a": "b"}}, "spec": {"hostPID": true}});
        for kind in WORKLOAD_KINDS {
            let doc = match kind {
                "Pod" => {
                    json!({"kind": kind, "metadata": inner["metadata"], "spec": inner["spec"]})
                }
                "PodTemplate" => json!({"kind": kind, "template": inner}),
                "CronJob" => {
                    json!({"kind": kind, "spec": {"jobTemplate": {"spec": {"template": inner}}}})
                }
                _ => json!({"kind": kind, "spec": {"template": inner}}),
            };
            let t = pod_template(&doc).expect("workload");
            let (m, s, mp, sp) = template(&doc).expect("workload");
            assert_eq!(
                (m, s, mp, sp),
                (t.metadata, t.spec, t.metadata_path, t.spec_path),
                "{kind}"
            );
            let empty = json!({"kind": kind});
            let t = pod_template(&empty).expect("workload");
            let (m, s, ..) = template(&empty).expect("workload");
            assert_eq!((m, s), (t.metadata, t.spec), "{kind}");
        }
        assert!(template(&json!({"kind": "Service"})).is_none());
    }
}
