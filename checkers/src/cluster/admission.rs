//! Does Pod Security admission really reject? For a `pss_namespace` check
//! that requires `enforce`, the shell makes a dry-run create of a pod that
//! violates the required level but passes the level below it (for
//! restricted: a baseline-clean pod; for baseline: a privileged one) in the
//! namespace, and records what the API server said. The labels can be right
//! on paper and still not enforce (a typo'd value the API server accepts on
//! an older cluster, an exemption, admission turned off): this is the proof.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::pss::Level;
use crate::pss::check::{Mode, PssNamespaceCheck};
use crate::{CheckSpec, Finding};

/// The name of the pod every trial creates (with `dryRun=All`, so nothing
/// is ever stored or run).
pub const TRIAL_POD: &str = "seclab-admission-trial";

/// The image of the trial pod; a dry run never pulls it.
pub const TRIAL_IMAGE: &str = "registry.k8s.io/pause:3.10";

/// One dry-run create the shell must make.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdmissionTrialSpec {
    /// The namespace to create the pod in.
    pub namespace: String,
    /// The level the namespace must enforce; the pod violates it.
    pub level: Level,
    /// The Pod object to create (API JSON, `metadata.namespace` set).
    pub pod: Value,
}

/// What the API server answered to a dry-run create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum AdmissionOutcome {
    /// The pod would have been created; any `Warning` headers the API
    /// server sent (Pod Security `warn` mode) are kept.
    Admitted {
        /// The warnings, as sent.
        #[serde(default)]
        warnings: Vec<String>,
    },
    /// The API server refused the pod (HTTP 403 Forbidden from admission).
    Rejected {
        /// The API server's message, e.g. `pods "x" is forbidden: violates
        /// PodSecurity "restricted:latest": ...`.
        message: String,
    },
    /// The request failed for another reason (no such namespace, the API
    /// server unreachable, ...).
    Error {
        /// What went wrong.
        message: String,
    },
}

/// The outcome of one trial the shell made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdmissionTrial {
    /// The namespace of the trial.
    pub namespace: String,
    /// The level of the trial ([`AdmissionTrialSpec::level`]).
    pub level: Level,
    /// What the API server said.
    #[serde(flatten)]
    pub outcome: AdmissionOutcome,
}

/// The trial pod for `level` in `namespace`: it violates `level` and
/// passes the level below (restricted: a plain pod, which is
/// baseline-clean but sets none of restricted's requirements; baseline: a
/// privileged container, which only the privileged level admits).
pub fn trial_pod(namespace: &str, level: Level) -> Value {
    let container = match level {
        Level::Restricted => json!({"name": "trial", "image": TRIAL_IMAGE}),
        Level::Baseline => json!({"name": "trial", "image": TRIAL_IMAGE,
            "securityContext": {"privileged": true}}),
    };
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": TRIAL_POD,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "seclab"},
        },
        "spec": {"containers": [container]},
    })
}

/// The dry-run creates the shell must make for `spec`: one for a
/// `pss_namespace` check whose modes include `enforce`, none otherwise
/// (`warn` and `audit` reject nothing).
pub fn admission_trials(spec: &CheckSpec) -> Vec<AdmissionTrialSpec> {
    match spec {
        CheckSpec::PssNamespace(n)
            if n.target.kind == "Namespace" && n.modes.contains(&Mode::Enforce) =>
        {
            vec![AdmissionTrialSpec {
                namespace: n.target.name.clone(),
                level: n.level,
                pod: trial_pod(&n.target.name, n.level),
            }]
        }
        _ => Vec::new(),
    }
}

/// The findings the live trial adds to a `pss_namespace` verdict: a
/// rejection by Pod Security passes (its message shown as info); an
/// admitted pod, a rejection for another reason, an error, or no trial at
/// all fails.
pub fn findings(check: &PssNamespaceCheck, trials: &[AdmissionTrial]) -> Vec<Finding> {
    if check.target.kind != "Namespace" || !check.modes.contains(&Mode::Enforce) {
        return Vec::new();
    }
    let ns = &check.target.name;
    let level = check.level;
    let Some(trial) = trials
        .iter()
        .find(|t| t.namespace == *ns && t.level == level)
    else {
        return vec![Finding::error(format!(
            "no admission trial was made in namespace {ns}: whether Pod Security admission enforces {level} there is unknown"
        ))];
    };
    let f = match &trial.outcome {
        AdmissionOutcome::Rejected { message } if message.contains("violates PodSecurity") => {
            Finding::info(format!(
                "Pod Security admission rejected a pod that violates {level} in {ns} (dry run): {message}"
            ))
        }
        AdmissionOutcome::Rejected { message } => Finding::error(format!(
            "a pod that violates {level} was rejected in {ns}, but not by Pod Security admission: {message}"
        )),
        AdmissionOutcome::Admitted { warnings } => {
            let warned = if warnings.is_empty() {
                String::new()
            } else {
                format!(" (it only warned: {})", warnings.join("; "))
            };
            Finding::error(format!(
                "Pod Security admission let a pod that violates {level} into {ns}{warned}"
            ))
        }
        AdmissionOutcome::Error { message } => {
            Finding::error(format!("the admission trial in {ns} failed: {message}"))
        }
    };
    vec![f]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::{Version, evaluate};
    use crate::{KubeObject, Status, Verdict};

    fn spec(yaml: &str) -> CheckSpec {
        serde_saphyr::from_str(yaml).expect("valid check")
    }

    #[test]
    fn the_trial_pod_violates_its_level_and_passes_the_one_below() {
        for version in [Version::Latest, Version::V1(25), Version::V1(0)] {
            let r = trial_pod("n", Level::Restricted);
            assert!(evaluate(&r, Level::Baseline, version).expect("pod").allowed);
            assert!(
                !evaluate(&r, Level::Restricted, version)
                    .expect("pod")
                    .allowed
            );
            // Baseline's trial is refused by baseline (and so by restricted);
            // the level below, privileged, has no checks.
            let b = trial_pod("n", Level::Baseline);
            assert!(!evaluate(&b, Level::Baseline, version).expect("pod").allowed);
            assert!(
                !evaluate(&b, Level::Restricted, version)
                    .expect("pod")
                    .allowed
            );
        }
        let pod = trial_pod("lab", Level::Restricted);
        assert!(crate::fields::problems(&pod).is_some_and(|p| p.is_empty()));
        assert_eq!(pod["metadata"]["namespace"], "lab");
    }

    #[test]
    fn only_checks_that_require_enforce_get_a_trial() {
        let t = admission_trials(&spec(
            "pss_namespace: {target: namespace/lab, level: restricted}",
        ));
        assert_eq!(t.len(), 1);
        assert_eq!(
            (t[0].namespace.as_str(), t[0].level),
            ("lab", Level::Restricted)
        );
        assert!(
            admission_trials(&spec(
                "pss_namespace: {target: namespace/lab, level: baseline, modes: [warn, audit]}"
            ))
            .is_empty()
        );
        assert!(admission_trials(&spec("quiz: {id: q, question: '?', answer: a}")).is_empty());
    }

    fn graded(outcome: AdmissionOutcome) -> Verdict {
        let CheckSpec::PssNamespace(c) =
            spec("pss_namespace: {target: namespace/lab, level: restricted}")
        else {
            unreachable!("a pss_namespace check")
        };
        let trial = AdmissionTrial {
            namespace: "lab".into(),
            level: Level::Restricted,
            outcome,
        };
        Verdict::from_findings(findings(&c, &[trial]))
    }

    #[test]
    fn rejection_by_pod_security_passes_and_admission_fails() {
        let msg = "pods \"seclab-admission-trial\" is forbidden: violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false";
        let v = graded(AdmissionOutcome::Rejected {
            message: msg.into(),
        });
        assert!(v.passed());
        assert!(v.findings[0].message.ends_with(msg));
        let v = graded(AdmissionOutcome::Admitted {
            warnings: vec!["would violate PodSecurity \"restricted:latest\"".into()],
        });
        assert_eq!(v.status, Status::Fail);
        assert!(
            v.findings[0]
                .message
                .starts_with("Pod Security admission let a pod that violates restricted into lab (it only warned:"),
            "{v:?}"
        );
        let v = graded(AdmissionOutcome::Rejected {
            message: "exceeded quota: pods".into(),
        });
        assert!(!v.passed());
        let v = graded(AdmissionOutcome::Error {
            message: "namespaces \"lab\" not found".into(),
        });
        assert!(!v.passed() && v.findings[0].message.contains("not found"));
    }

    #[test]
    fn a_missing_trial_fails_and_the_grader_uses_it_live() {
        let CheckSpec::PssNamespace(c) =
            spec("pss_namespace: {target: namespace/lab, level: baseline}")
        else {
            unreachable!("a pss_namespace check")
        };
        assert!(!Verdict::from_findings(findings(&c, &[])).passed());
        // Through the registry: labels right, admission let the pod in.
        let spec = CheckSpec::PssNamespace(c);
        let mut labels = serde_json::Map::new();
        for m in ["enforce", "warn", "audit"] {
            labels.insert(format!("pod-security.kubernetes.io/{m}"), "baseline".into());
        }
        let ns = KubeObject::new(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "lab", "labels": labels}}));
        let ws = [ns];
        let offline = crate::Evidence {
            workspace: &ws,
            ..crate::Evidence::default()
        };
        assert!(spec.grade(&offline).passed());
        let facts = crate::cluster::ClusterFacts {
            admission: vec![AdmissionTrial {
                namespace: "lab".into(),
                level: Level::Baseline,
                outcome: AdmissionOutcome::Admitted {
                    warnings: Vec::new(),
                },
            }],
            ..Default::default()
        };
        let live = crate::Evidence {
            kube: Some(&facts),
            ..offline
        };
        assert_eq!(spec.grade(&live).status, Status::Fail);
    }
}
