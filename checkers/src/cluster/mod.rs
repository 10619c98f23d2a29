//! Facts about a live Kubernetes cluster, gathered by the shell, and the
//! pure functions around them: what to ask the cluster before grading
//! ([`admission::admission_trials`], [`probes::probe_plan`],
//! [`reviews::access_reviews`]) and how to grade what it answered
//! ([`settle::grade`], and the live parts of the `pss_namespace`, `netpol`
//! and `rbac` graders, which [`crate::CheckSpec::grade`] adds when
//! [`crate::Evidence::kube`] is set).
//!
//! Nothing here talks to a cluster: the shell makes the dry-run creates,
//! the connection attempts and the SubjectAccessReviews, and records their
//! outcomes in [`ClusterFacts`]. [`plan`] gathers everything to ask for a
//! set of checks.

pub mod admission;
pub mod policies;
pub mod probes;
pub mod reviews;
pub mod settle;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::KubeObject;

pub use admission::{AdmissionOutcome, AdmissionTrial, AdmissionTrialSpec, admission_trials};
pub use policies::{PolicyOutcome, PolicyTrial, PolicyTrialSpec, policy_trials};
pub use probes::{ProbeResult, ProbeSpec, probe_plan};
pub use reviews::{AccessReviewResult, AccessReviewSpec, access_reviews};

/// What the shell gathered from the lab's live cluster for one grading
/// run. Objects serialize as the API JSON they are (their `source`/`doc`
/// are not kept: live objects come from no file).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ClusterFacts {
    /// The kube context graded (`kind-seclab` by default).
    pub context: String,
    /// Live objects of the lab's namespaces, plus the cluster-scoped RBAC
    /// objects that are not bootstrap policy.
    #[serde(with = "objects", default)]
    pub objects: Vec<KubeObject>,
    /// The lab's Pod objects (API JSON, status included) at the start of
    /// the settle window.
    #[serde(with = "objects", default)]
    pub pods_first: Vec<KubeObject>,
    /// The lab's Pod objects at the end of the settle window.
    #[serde(with = "objects", default)]
    pub pods_last: Vec<KubeObject>,
    /// Length of the settle window, in seconds.
    #[serde(default)]
    pub settle_seconds: u64,
    /// The dry-run pod creates the shell made ([`admission_trials`]).
    #[serde(default)]
    pub admission: Vec<AdmissionTrial>,
    /// The dry-run admission requests of `admission_policy` batteries the
    /// shell sent ([`policy_trials`]).
    #[serde(default)]
    pub policies: Vec<PolicyTrial>,
    /// The connection attempts the shell made ([`probe_plan`]).
    #[serde(default)]
    pub probes: Vec<ProbeResult>,
    /// The SubjectAccessReviews the shell made ([`access_reviews`]).
    #[serde(default)]
    pub reviews: Vec<AccessReviewResult>,
    /// The audit events of the control-plane node's log that the lab's
    /// `audit_event` checks select ([`crate::audit::trail::keep`]); empty
    /// when none asks.
    #[serde(default)]
    pub audit_events: Vec<Value>,
}

/// Everything the shell must ask the cluster for a set of checks (a task,
/// or a whole lab), without duplicates: the union of
/// [`admission_trials`], [`probe_plan`] and [`access_reviews`].
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Plan {
    /// Dry-run pod creates.
    pub admission: Vec<AdmissionTrialSpec>,
    /// Battery requests of `admission_policy` checks.
    pub policies: Vec<PolicyTrialSpec>,
    /// Connection attempts.
    pub probes: Vec<ProbeSpec>,
    /// SubjectAccessReviews.
    pub reviews: Vec<AccessReviewSpec>,
    /// What the `audit_event` checks look for in the audit log (the shell
    /// reads the log only when this is not empty).
    pub audit_events: Vec<crate::audit::trail::EventMatch>,
}

/// The [`Plan`] for `checks`, given the live objects of the lab (for the
/// probes: its Pods with their status, and the ReplicaSets and Jobs that
/// own them).
pub fn plan<'a>(
    checks: impl IntoIterator<Item = &'a crate::CheckSpec>,
    objects: &[KubeObject],
) -> Plan {
    let mut out = Plan::default();
    for spec in checks {
        for t in admission_trials(spec) {
            if !out.admission.contains(&t) {
                out.admission.push(t);
            }
        }
        match spec {
            crate::CheckSpec::Netpol(n) => {
                for p in probe_plan(n, objects) {
                    if !out.probes.contains(&p) {
                        out.probes.push(p);
                    }
                }
            }
            crate::CheckSpec::AdmissionPolicy(a) => {
                for t in policy_trials(a, objects) {
                    if !out
                        .policies
                        .iter()
                        .any(|p| p.engine == t.engine && p.request == t.request)
                    {
                        out.policies.push(t);
                    }
                }
            }
            crate::CheckSpec::AuditEvent(a) if !out.audit_events.contains(&a.matches) => {
                out.audit_events.push(a.matches.clone());
            }
            crate::CheckSpec::Rbac(r) => {
                for a in access_reviews(r) {
                    if !out.reviews.contains(&a) {
                        out.reviews.push(a);
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// `Vec<KubeObject>` as a list of plain API objects.
mod objects {
    use super::{Deserialize, Deserializer, KubeObject, Serialize, Serializer, Value};

    pub(super) fn serialize<S: Serializer>(objs: &[KubeObject], s: S) -> Result<S::Ok, S::Error> {
        let values: Vec<&Value> = objs.iter().map(|o| &o.value).collect();
        values.serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<KubeObject>, D::Error> {
        let values = Vec::<Value>::deserialize(d)?;
        Ok(values.into_iter().map(KubeObject::new).collect())
    }
}

/// A string field of a JSON value at a pointer, or `""`.
pub(crate) fn str_at<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_round_trip_as_plain_api_objects() {
        let facts: ClusterFacts = serde_saphyr::from_str(
            "
context: kind-seclab
objects:
  - {apiVersion: v1, kind: Secret, metadata: {name: db, namespace: lab}, data: {k: dg==}}
settle_seconds: 5
",
        )
        .expect("valid facts");
        assert_eq!(facts.objects.len(), 1);
        assert_eq!(facts.objects[0].display_name(), "Secret lab/db");
        assert!(facts.pods_first.is_empty());
        let json = serde_json::to_value(&facts).expect("serializes");
        assert_eq!(json["objects"][0]["kind"], "Secret");
        assert!(json["objects"][0].get("value").is_none());
        let back: ClusterFacts = serde_json::from_value(json).expect("round trip");
        assert_eq!(back, facts);
    }

    #[test]
    fn a_plan_gathers_every_check_once() {
        let checks: Vec<crate::CheckSpec> = serde_saphyr::from_str(
            "
- pss_namespace: {target: namespace/lab, level: restricted}
- pss_namespace: {target: namespace/lab, level: restricted, modes: [enforce]}
- rbac: {subject: alice, verb: get, resource: secrets, namespace: lab, expect: denied}
- rbac: {subject: alice, verb: get, resource: secrets, namespace: lab, expect: denied}
- netpol: {expect: ''}
- flag: {id: f, question: '?', seed: s}
",
        )
        .expect("valid checks");
        let p = plan(&checks, &[]);
        assert_eq!(p.admission.len(), 1);
        assert_eq!(p.reviews.len(), 1);
        assert_eq!(p.reviews[0].user, "alice");
        assert!(p.probes.is_empty(), "no pods, no probes");
    }
}
