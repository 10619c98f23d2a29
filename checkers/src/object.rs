//! A Kubernetes object as a grader sees it: the parsed document (any kind,
//! unknown fields kept) plus where it came from, and the one place that knows
//! where each workload kind keeps its pod template.

use serde_json::Value;

/// One text file of the workspace, as written (a Dockerfile, a saved
/// scanner report): for the graders that read files, not manifests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextFile {
    /// The workspace-relative path, with `/` separators.
    pub path: String,
    /// The file's text.
    pub text: String,
}

/// One manifest document.
#[derive(Debug, Clone, PartialEq)]
pub struct KubeObject {
    /// The file the document came from (as given by the shell), if any.
    pub source: Option<String>,
    /// Index of the document in that file (0-based; items of a `List` share
    /// their list's index).
    pub doc: usize,
    /// The object itself, as parsed from YAML or JSON.
    pub value: Value,
}

impl KubeObject {
    /// An object not tied to a file (tests, cluster reads).
    pub fn new(value: Value) -> Self {
        Self {
            source: None,
            doc: 0,
            value,
        }
    }

    /// `kind`, or `""` when missing.
    pub fn kind(&self) -> &str {
        self.value.get("kind").and_then(Value::as_str).unwrap_or("")
    }

    /// `apiVersion`, or `""` when missing.
    pub fn api_version(&self) -> &str {
        self.value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// `metadata.name`, or `""` when missing.
    pub fn name(&self) -> &str {
        self.value
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// `metadata.namespace`, if set.
    pub fn namespace(&self) -> Option<&str> {
        self.value
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
    }

    /// `Kind/name`, or `Kind ns/name` when the object names its namespace.
    pub fn display_name(&self) -> String {
        match self.namespace() {
            Some(ns) => format!("{} {ns}/{}", self.kind(), self.name()),
            None => format!("{}/{}", self.kind(), self.name()),
        }
    }

    /// The pod template of a workload, if this kind has one.
    pub fn pod_template(&self) -> Option<PodTemplate<'_>> {
        pod_template(&self.value)
    }
}

/// Where a workload keeps the pod it runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PodTemplate<'a> {
    /// The pod's metadata (labels, annotations); `Value::Null` when absent.
    pub metadata: &'a Value,
    /// The pod spec; `Value::Null` when absent.
    pub spec: &'a Value,
    /// Field path of the pod metadata inside the object, e.g.
    /// `spec.template.metadata`.
    pub metadata_path: &'static str,
    /// Field path of the pod spec inside the object, e.g.
    /// `spec.template.spec`.
    pub spec_path: &'static str,
}

static NULL: Value = Value::Null;

/// The kinds that carry a pod (template), as the API spells them.
pub const WORKLOAD_KINDS: [&str; 9] = [
    "Pod",
    "PodTemplate",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "DaemonSet",
    "StatefulSet",
    "Job",
    "CronJob",
];

/// The pod template of a workload document: Pod, PodTemplate,
/// ReplicationController, ReplicaSet, Deployment, DaemonSet, StatefulSet,
/// Job or CronJob. `None` for any other kind.
pub fn pod_template(value: &Value) -> Option<PodTemplate<'_>> {
    let kind = value.get("kind").and_then(Value::as_str)?;
    let (meta, spec, metadata_path, spec_path) = match kind {
        "Pod" => ("/metadata", "/spec", "metadata", "spec"),
        "PodTemplate" => (
            "/template/metadata",
            "/template/spec",
            "template.metadata",
            "template.spec",
        ),
        "ReplicationController"
        | "ReplicaSet"
        | "Deployment"
        | "DaemonSet"
        | "StatefulSet"
        | "Job" => (
            "/spec/template/metadata",
            "/spec/template/spec",
            "spec.template.metadata",
            "spec.template.spec",
        ),
        "CronJob" => (
            "/spec/jobTemplate/spec/template/metadata",
            "/spec/jobTemplate/spec/template/spec",
            "spec.jobTemplate.spec.template.metadata",
            "spec.jobTemplate.spec.template.spec",
        ),
        _ => return None,
    };
    Some(PodTemplate {
        metadata: value.pointer(meta).unwrap_or(&NULL),
        spec: value.pointer(spec).unwrap_or(&NULL),
        metadata_path,
        spec_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cronjob_template_is_two_levels_down() {
        let cj = json!({"kind": "CronJob", "metadata": {"name": "x"},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {"hostPID": true}}}}}});
        let t = pod_template(&cj).expect("cronjob has a template");
        assert_eq!(t.spec["hostPID"], json!(true));
        assert_eq!(t.spec_path, "spec.jobTemplate.spec.template.spec");
        assert!(t.metadata.is_null());
    }

    #[test]
    fn other_kinds_have_none() {
        assert!(pod_template(&json!({"kind": "Service"})).is_none());
        assert!(pod_template(&json!({"spec": {}})).is_none());
    }

    #[test]
    fn display_name_includes_namespace_when_set() {
        let o =
            KubeObject::new(json!({"kind": "Pod", "metadata": {"name": "a", "namespace": "n"}}));
        assert_eq!(o.display_name(), "Pod n/a");
        let o = KubeObject::new(json!({"kind": "Pod", "metadata": {"name": "a"}}));
        assert_eq!(o.display_name(), "Pod/a");
    }
}
