//! Do the student's admission policies decide on the cluster as they do
//! offline? For an `admission_policy` check, the shell sends each battery
//! request that can be sent as a server-side dry run — a CREATE of the
//! object into one of the lab's namespaces, or `kubectl debug`'s write of
//! `pods/ephemeralcontainers` on a pod that exists — and records what the
//! API server said. [`findings`] compares each live outcome with the
//! request's `expect` and with the offline evaluation: a difference says
//! both (the files differ from what is applied, or the cluster's
//! Kubernetes lacks a feature).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::str_at;
use crate::admission::check::{AdmissionPolicyCheck, BatteryRequest, Engine, Expect};
use crate::admission::request::Operation;
use crate::{Finding, KubeObject};

/// How a trial is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "send", rename_all = "snake_case")]
pub enum Send {
    /// A dry-run create of `object` (its `metadata.namespace` set).
    Create {
        /// The object (API JSON).
        object: Value,
    },
    /// A dry-run patch of the `ephemeralcontainers` subresource of an
    /// existing pod: what `kubectl debug` writes.
    EphemeralContainers {
        /// The pod's name.
        pod: String,
        /// The ephemeral containers the request adds (API JSON list).
        containers: Value,
    },
    /// Not sent, and why.
    Skip {
        /// Why the request cannot be sent as a dry run.
        reason: String,
    },
}

/// One battery request to send (or not) to the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyTrialSpec {
    /// The check's engine (the same battery may be graded for both).
    pub engine: Engine,
    /// The battery request's name.
    pub request: String,
    /// What the request must get (the shell retries a disagreeing trial
    /// while the API server's policy cache catches up).
    pub expect: Expect,
    /// The namespace the request is in (`""` for none).
    pub namespace: String,
    /// How it is sent.
    #[serde(flatten)]
    pub send: Send,
}

/// What the API server answered to one trial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum PolicyOutcome {
    /// Admitted, with any warnings the API server sent.
    Admitted {
        /// The `Warning` headers.
        #[serde(default)]
        warnings: Vec<String>,
    },
    /// Rejected by admission: the API server's message.
    Rejected {
        /// e.g. `ValidatingAdmissionPolicy 'p' with binding 'b' denied request: ...`.
        message: String,
    },
    /// The request failed for another reason.
    Error {
        /// What went wrong.
        message: String,
    },
    /// Not sent.
    Skipped {
        /// Why.
        reason: String,
    },
}

/// The outcome of one trial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyTrial {
    /// The check's engine.
    pub engine: Engine,
    /// The battery request's name.
    pub request: String,
    /// What the API server said.
    #[serde(flatten)]
    pub outcome: PolicyOutcome,
}

fn exists(objects: &[KubeObject], kind: &str, namespace: &str, name: &str) -> bool {
    objects.iter().any(|o| {
        o.kind() == kind
            && str_at(&o.value, "/metadata/name") == name
            && str_at(&o.value, "/metadata/namespace") == namespace
    })
}

/// How one battery request is sent, given the lab's live objects (its
/// Namespaces and Pods).
fn send_of(r: &BatteryRequest, objects: &[KubeObject]) -> (String, Send) {
    let ns = str_at(&r.object, "/metadata/namespace").to_owned();
    let name = str_at(&r.object, "/metadata/name").to_owned();
    let skip = |reason: String| Send::Skip { reason };
    if let Some(u) = &r.user {
        return (
            ns,
            skip(format!(
                "it is sent by {}: seclab sends its trials as itself",
                if u.username.is_empty() {
                    "another user"
                } else {
                    &u.username
                }
            )),
        );
    }
    if ns.is_empty() {
        return (
            ns,
            skip("the object has no metadata.namespace: seclab sends trials only into the lab's namespaces".into()),
        );
    }
    if !exists(objects, "Namespace", "", &ns) {
        return (
            ns.clone(),
            skip(format!(
                "namespace {ns} is not one of the lab's namespaces on the cluster"
            )),
        );
    }
    let send = match (r.operation, r.sub_resource.as_deref()) {
        (Operation::Create, None) => {
            let mut object = r.object.clone();
            if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("resourceVersion");
                meta.remove("uid");
            }
            Send::Create { object }
        }
        (Operation::Update, Some("ephemeralcontainers"))
            if r.object.get("kind").and_then(Value::as_str) == Some("Pod") =>
        {
            if exists(objects, "Pod", &ns, &name) {
                Send::EphemeralContainers {
                    pod: name,
                    containers: r
                        .object
                        .pointer("/spec/ephemeralContainers")
                        .cloned()
                        .unwrap_or_else(|| Value::Array(Vec::new())),
                }
            } else {
                skip(format!(
                    "pod {ns}/{name} does not exist on the cluster: kubectl debug writes the ephemeral containers of a pod that exists"
                ))
            }
        }
        (op, sub) => skip(format!(
            "an {}{} of an existing object is not sent live (only CREATEs and kubectl debug's ephemeral containers are)",
            op.as_str(),
            sub.map(|s| format!(" of {s}")).unwrap_or_default()
        )),
    };
    (ns, send)
}

/// The trials for an `admission_policy` check, one per battery request.
pub fn policy_trials(check: &AdmissionPolicyCheck, objects: &[KubeObject]) -> Vec<PolicyTrialSpec> {
    check
        .requests
        .iter()
        .map(|r| {
            let (namespace, send) = send_of(r, objects);
            PolicyTrialSpec {
                engine: check.engine,
                request: r.name.clone(),
                expect: r.expect,
                namespace,
                send,
            }
        })
        .collect()
}

/// Whether a live rejection came from the check's engine: the API
/// server's message for a ValidatingAdmissionPolicy, Kyverno's webhook's.
fn rejected_by(engine: Engine, message: &str) -> bool {
    match engine {
        Engine::Vap => message.contains("ValidatingAdmissionPolicy"),
        Engine::Kyverno => message.to_ascii_lowercase().contains("kyverno"),
    }
}

/// The battery requests the cluster did not decide: not sent, failed, or
/// rejected by some other admission check before the student's policy.
pub fn undecided<'c>(check: &'c AdmissionPolicyCheck, trials: &[PolicyTrial]) -> Vec<&'c str> {
    check
        .requests
        .iter()
        .filter(|r| {
            !trials.iter().any(|t| {
                t.engine == check.engine
                    && t.request == r.name
                    && match &t.outcome {
                        PolicyOutcome::Admitted { .. } => true,
                        PolicyOutcome::Rejected { message } => rejected_by(check.engine, message),
                        PolicyOutcome::Error { .. } | PolicyOutcome::Skipped { .. } => false,
                    }
            })
        })
        .map(|r| r.name.as_str())
        .collect()
}

/// The offline result of one request, from the check's verdict detail
/// (`admission` rows): `admit`/`reject`/`error`, and who rejected and why.
fn offline_of(detail: Option<&Value>, request: &str) -> Option<(String, String)> {
    let row = detail?
        .get("admission")?
        .as_array()?
        .iter()
        .find(|r| r.get("request").and_then(Value::as_str) == Some(request))?;
    let result = row.get("result")?.as_str()?.to_owned();
    let mut said = String::new();
    for d in row
        .get("decisions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|d| d.get("result").and_then(Value::as_str) == Some(result.as_str()))
    {
        if !said.is_empty() {
            said.push_str("; ");
        }
        // The evaluator's messages name the policy and binding as the API
        // server does; `by` is for those that do not.
        let msg = str_at(d, "/message");
        if msg.is_empty() {
            said.push_str(str_at(d, "/by"));
        } else {
            said.push_str(msg);
        }
    }
    Some((result, said))
}

fn offline_words(result: &str, said: &str) -> String {
    let verb = match result {
        "reject" => "rejected",
        "admit" => "admitted",
        _ => "an error",
    };
    if said.is_empty() || result == "admit" {
        format!("offline: {verb}")
    } else {
        format!("offline: {verb} ({said})")
    }
}

/// The findings the live trials add to an `admission_policy` verdict.
/// `offline` is the offline verdict's detail (its `admission` rows), when
/// the offline grade got that far.
pub fn findings(
    check: &AdmissionPolicyCheck,
    offline: Option<&Value>,
    trials: &[PolicyTrial],
) -> Vec<Finding> {
    let mut out = Vec::new();
    let (mut agreed, mut skipped) = (0usize, Vec::new());
    for r in &check.requests {
        let Some(t) = trials
            .iter()
            .find(|t| t.engine == check.engine && t.request == r.name)
        else {
            out.push(Finding::error(format!(
                "{}: no live trial was made: what the cluster decides is unknown",
                r.name
            )));
            continue;
        };
        let (live, message) = match &t.outcome {
            PolicyOutcome::Skipped { reason } => {
                skipped.push(format!("{} ({reason})", r.name));
                continue;
            }
            PolicyOutcome::Error { message } => {
                out.push(Finding::error(format!(
                    "{}: the live dry run failed: {message}",
                    r.name
                )));
                continue;
            }
            PolicyOutcome::Rejected { message } if !rejected_by(check.engine, message) => {
                out.push(Finding::info(format!(
                    "{}: on the cluster, another admission check rejected it first ({message}); whether your policy rejects it was not seen live",
                    r.name
                )));
                continue;
            }
            PolicyOutcome::Rejected { message } => (Expect::Reject, message.as_str()),
            PolicyOutcome::Admitted { .. } => (Expect::Admit, ""),
        };
        let said_live = match live {
            Expect::Reject => format!("the API server rejected it: {message}"),
            Expect::Admit => "the API server admitted it".to_owned(),
        };
        let off = offline_of(offline, &r.name);
        let off_result = off.as_ref().map(|(res, _)| match res.as_str() {
            "reject" => Some(Expect::Reject),
            "admit" => Some(Expect::Admit),
            _ => None,
        });
        let differs = matches!(off_result, Some(Some(o)) if o != live);
        let wrong = live != r.expect;
        if !differs && !wrong {
            agreed += 1;
            continue;
        }
        let mut msg = format!("{} (live, dry run): ", r.name);
        if wrong {
            let _ = write!(
                msg,
                "must be {}, but ",
                match r.expect {
                    Expect::Reject => "rejected",
                    Expect::Admit => "admitted",
                }
            );
        }
        if differs && let Some((res, said)) = &off {
            let _ = write!(msg, "{}; ", offline_words(res, said));
        }
        msg.push_str(&said_live);
        if differs {
            msg.push_str(
                " — what the cluster has differs from your files (apply them: `seclab apply`), or its Kubernetes lacks a feature the policy uses",
            );
        }
        out.push(Finding::error(msg));
    }
    if agreed > 0 {
        out.push(Finding::info(format!(
            "on the cluster, {agreed} of {} requests sent as dry runs were decided as expected",
            check.requests.len()
        )));
    }
    if !skipped.is_empty() {
        out.push(Finding::info(format!(
            "not sent to the cluster: {}",
            skipped.join("; ")
        )));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CheckSpec, Status, Verdict};
    use serde_json::json;

    fn check() -> AdmissionPolicyCheck {
        serde_json::from_value(json!({
            "engine": "vap",
            "requests": [
                {"name": "privileged", "expect": "reject", "object": {"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": "p", "namespace": "shop"},
                    "spec": {"containers": [{"name": "a", "image": "a", "securityContext": {"privileged": true}}]}}},
                {"name": "plain", "expect": "admit", "object": {"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": "q", "namespace": "shop"}, "spec": {"containers": [{"name": "a", "image": "a"}]}}},
                {"name": "debug", "expect": "reject", "operation": "UPDATE", "sub_resource": "ephemeralcontainers",
                    "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "shop"},
                    "spec": {"containers": [{"name": "a", "image": "a"}], "ephemeralContainers": [{"name": "d", "image": "busybox"}]}}},
                {"name": "elsewhere", "expect": "admit", "object": {"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "c", "namespace": "prod"}}},
                {"name": "as dev", "expect": "admit", "operation": "UPDATE", "user": {"username": "dev"},
                    "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "q", "namespace": "shop"}, "spec": {"containers": [{"name": "a", "image": "a"}]}}},
            ]
        }))
        .expect("valid check")
    }

    fn ns(name: &str) -> KubeObject {
        KubeObject::new(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
        )
    }

    fn policy() -> Vec<KubeObject> {
        [
            json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": "p"}, "spec": {
                "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}]},
                "validations": [{"expression": "object.spec.containers.all(c, !c.?securityContext.?privileged.orValue(false))", "message": "no privileged"}]}}),
            json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
                "metadata": {"name": "b"}, "spec": {"policyName": "p", "validationActions": ["Deny"]}}),
        ]
        .into_iter()
        .map(KubeObject::new)
        .collect()
    }

    #[test]
    fn creates_into_lab_namespaces_and_debug_only_on_an_existing_pod() {
        let c = check();
        let t = policy_trials(&c, &[ns("shop")]);
        assert_eq!(t.len(), 5);
        assert!(
            matches!(&t[0].send, Send::Create { object } if object["metadata"]["namespace"] == "shop")
        );
        let Send::Skip { reason } = &t[2].send else {
            panic!("no pod, no debug: {:?}", t[2])
        };
        assert!(reason.contains("pod shop/web does not exist"), "{reason}");
        assert!(
            matches!(&t[3].send, Send::Skip { reason } if reason.contains("namespace prod is not one of the lab's"))
        );
        assert!(matches!(&t[4].send, Send::Skip { reason } if reason.contains("sent by dev")));
        let pod = KubeObject::new(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "shop"}}),
        );
        let t = policy_trials(&c, &[ns("shop"), pod]);
        let Send::EphemeralContainers { pod, containers } = &t[2].send else {
            panic!("a pod: {:?}", t[2])
        };
        assert_eq!(
            (pod.as_str(), containers[0]["image"].as_str()),
            ("web", Some("busybox"))
        );
        // Nothing is sent when the namespace is not there.
        assert!(
            policy_trials(&c, &[])
                .iter()
                .all(|t| matches!(t.send, Send::Skip { .. }))
        );
    }

    fn trial(request: &str, outcome: PolicyOutcome) -> PolicyTrial {
        PolicyTrial {
            engine: Engine::Vap,
            request: request.into(),
            outcome,
        }
    }

    fn live(privileged: PolicyOutcome) -> crate::cluster::ClusterFacts {
        crate::cluster::ClusterFacts {
            policies: vec![
                trial("privileged", privileged),
                trial(
                    "plain",
                    PolicyOutcome::Admitted {
                        warnings: Vec::new(),
                    },
                ),
                trial(
                    "debug",
                    PolicyOutcome::Skipped {
                        reason: "no pod".into(),
                    },
                ),
                trial(
                    "elsewhere",
                    PolicyOutcome::Skipped {
                        reason: "prod".into(),
                    },
                ),
                trial(
                    "as dev",
                    PolicyOutcome::Skipped {
                        reason: "dev".into(),
                    },
                ),
            ],
            ..Default::default()
        }
    }

    fn graded(facts: &crate::cluster::ClusterFacts) -> Verdict {
        // The check minus the request the offline policy cannot reject.
        let mut c = check();
        c.requests.remove(2);
        let spec = CheckSpec::AdmissionPolicy(c);
        let ws = policy();
        spec.grade(&crate::Evidence {
            workspace: &ws,
            kube: Some(facts),
            ..crate::Evidence::default()
        })
    }

    #[test]
    fn agreement_passes_and_a_difference_says_both() {
        let msg = "pods \"p\" is forbidden: ValidatingAdmissionPolicy 'p' with binding 'b' denied request: no privileged";
        let v = graded(&live(PolicyOutcome::Rejected {
            message: msg.into(),
        }));
        assert!(v.passed(), "{v:?}");
        assert!(
            v.findings
                .iter()
                .any(|f| f.message.contains("2 of 4 requests")),
            "{v:?}"
        );
        assert!(v.findings.iter().any(|f| {
            f.message
                .contains("not sent to the cluster: elsewhere (prod)")
        }));
        let v = graded(&live(PolicyOutcome::Admitted {
            warnings: Vec::new(),
        }));
        assert_eq!(v.status, Status::Fail);
        let f = v
            .findings
            .iter()
            .find(|f| f.message.starts_with("privileged"))
            .expect("a finding");
        assert!(
            f.message.contains("must be rejected, but offline: rejected (ValidatingAdmissionPolicy 'p' with binding 'b' denied request: no privileged); the API server admitted it"),
            "{}",
            f.message
        );
        // A rejection by something else is not the policy's.
        let v = graded(&live(PolicyOutcome::Rejected {
            message: "pods \"p\" is forbidden: violates PodSecurity \"baseline:latest\"".into(),
        }));
        assert!(v.passed());
        assert!(
            v.findings
                .iter()
                .any(|f| f.message.contains("another admission check"))
        );
        let v = graded(&live(PolicyOutcome::Error {
            message: "boom".into(),
        }));
        assert!(!v.passed());
    }

    #[test]
    fn a_missing_trial_fails_and_offline_failures_stay() {
        let facts = crate::cluster::ClusterFacts::default();
        let v = graded(&facts);
        assert!(!v.passed());
        assert!(
            v.findings
                .iter()
                .any(|f| f.message.contains("no live trial was made"))
        );
        // The offline wrong answer is found live too, without offline rows.
        let c = check();
        let f = findings(
            &c,
            None,
            &live(PolicyOutcome::Admitted {
                warnings: Vec::new(),
            })
            .policies,
        );
        assert!(
            f.iter().any(|f| f.message.starts_with(
                "privileged (live, dry run): must be rejected, but the API server admitted it"
            )),
            "{f:?}"
        );
    }

    #[test]
    fn live_only_rules_pass_only_when_the_cluster_decided_every_request() {
        // A VAP that asks the authorizer: offline it cannot be decided.
        let ws: Vec<KubeObject> = [
            json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
                "metadata": {"name": "p"}, "spec": {
                    "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}]},
                    "validations": [{"expression": "authorizer.group('').resource('pods').check('create').allowed()"}]}}),
            json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
                "metadata": {"name": "b"}, "spec": {"policyName": "p", "validationActions": ["Deny"]}}),
        ]
        .into_iter()
        .map(KubeObject::new)
        .collect();
        let mut c = check();
        c.requests.truncate(2);
        let spec = CheckSpec::AdmissionPolicy(c);
        let grade = |facts: Option<&crate::cluster::ClusterFacts>| {
            spec.grade(&crate::Evidence {
                workspace: &ws,
                kube: facts,
                ..crate::Evidence::default()
            })
        };
        let offline = grade(None);
        assert_eq!(offline.status, Status::Skipped, "{offline:?}");
        assert!(
            offline
                .reason
                .as_deref()
                .unwrap()
                .starts_with("graded live only: p/b:")
        );
        let rejected = PolicyOutcome::Rejected {
            message: "ValidatingAdmissionPolicy 'p' with binding 'b' denied request: no".into(),
        };
        let admitted = PolicyOutcome::Admitted {
            warnings: Vec::new(),
        };
        let both = crate::cluster::ClusterFacts {
            policies: vec![
                trial("privileged", rejected.clone()),
                trial("plain", admitted.clone()),
            ],
            ..Default::default()
        };
        assert!(grade(Some(&both)).passed());
        let one = crate::cluster::ClusterFacts {
            policies: vec![
                trial("privileged", rejected),
                trial(
                    "plain",
                    PolicyOutcome::Skipped {
                        reason: "no namespace".into(),
                    },
                ),
            ],
            ..Default::default()
        };
        let v = grade(Some(&one));
        assert_eq!(v.status, Status::Skipped, "{v:?}");
        assert!(
            v.reason
                .as_deref()
                .unwrap()
                .contains("did not decide 1 of the 2 requests (plain)")
        );
        let wrong = crate::cluster::ClusterFacts {
            policies: vec![
                trial("privileged", admitted.clone()),
                trial("plain", admitted),
            ],
            ..Default::default()
        };
        assert_eq!(grade(Some(&wrong)).status, Status::Fail);
    }
}
