//! The `admission_policy` check: the student's admission policies (in the
//! workspace) against the lab's battery of admission requests, each
//! expected to be admitted or rejected. A request passes only when the
//! policies decide it as expected on a cluster: a Warn or Audit binding,
//! a Kyverno rule in Audit mode, or a policy with no binding admits; a
//! policy the API server would refuse, or one that cannot be evaluated
//! offline, fails the check with the reason.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::eval::{Decision, Outcome, Semantics, World};
use super::request::{Operation, Request, UserInfo};
use super::set::PolicySet;
use crate::{Finding, KubeObject, Verdict};

/// Which of the student's policies the check grades.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// ValidatingAdmissionPolicy + ValidatingAdmissionPolicyBinding.
    Vap,
    /// Kyverno ClusterPolicy / Policy (validate.cel).
    Kyverno,
}

/// What a request must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// Admitted (warnings allowed).
    Admit,
    /// Rejected.
    Reject,
}

/// One admission request of the battery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatteryRequest {
    /// What the request is, for the student (`a Deployment whose pod
    /// template runs a privileged container`).
    pub name: String,
    /// The object sent.
    pub object: Value,
    /// `CREATE` (default), `UPDATE`, `DELETE` or `CONNECT`.
    #[serde(default = "create")]
    pub operation: Operation,
    /// The subresource (`ephemeralcontainers`), default none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_resource: Option<String>,
    /// The object before an UPDATE (default: `object` itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_object: Option<Value>,
    /// Who sends it (default: kubernetes-admin, group system:masters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserInfo>,
    /// What it must get.
    pub expect: Expect,
}

fn create() -> Operation {
    Operation::Create
}

/// An `admission_policy:` check as written in lab.yaml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdmissionPolicyCheck {
    /// Which of the student's policies to grade.
    pub engine: Engine,
    /// Labels of the namespaces the requests are in (for
    /// namespaceSelector and namespaceObject).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub namespaces: BTreeMap<String, BTreeMap<String, String>>,
    /// The battery.
    pub requests: Vec<BatteryRequest>,
}

impl AdmissionPolicyCheck {
    /// A one-line description for listings.
    pub fn describe(&self) -> String {
        let rejects = self
            .requests
            .iter()
            .filter(|r| r.expect == Expect::Reject)
            .count();
        format!(
            "{} policies: {} requests rejected, {} admitted",
            match self.engine {
                Engine::Vap => "ValidatingAdmissionPolicy",
                Engine::Kyverno => "Kyverno",
            },
            rejects,
            self.requests.len() - rejects
        )
    }

    /// What is wrong with the check as written (for `seclab validate`): a
    /// request that is no object, a battery that expects only one outcome.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for r in &self.requests {
            if let Err(e) = request_of(r) {
                out.push(format!("admission_policy request {:?}: {e}", r.name));
            }
        }
        for (want, word) in [(Expect::Admit, "admitted"), (Expect::Reject, "rejected")] {
            if !self.requests.iter().any(|r| r.expect == want) {
                out.push(format!(
                    "admission_policy: no request is expected to be {word}: a policy that decides everything one way would pass"
                ));
            }
        }
        out
    }

    /// The kinds of the workspace objects the check reads.
    pub fn reads_kind(&self, kind: &str) -> bool {
        match self.engine {
            Engine::Vap => matches!(
                kind,
                "ValidatingAdmissionPolicy" | "ValidatingAdmissionPolicyBinding"
            ),
            Engine::Kyverno => matches!(kind, "ClusterPolicy" | "Policy"),
        }
    }
}

/// The user of a battery request that names none.
fn admin() -> UserInfo {
    UserInfo {
        username: "kubernetes-admin".into(),
        groups: vec!["system:masters".into(), "system:authenticated".into()],
        ..UserInfo::default()
    }
}

fn request_of(r: &BatteryRequest) -> Result<Request, String> {
    let old = match r.operation {
        Operation::Update => Some(r.old_object.clone().unwrap_or_else(|| r.object.clone())),
        Operation::Delete => Some(r.old_object.clone().unwrap_or_else(|| r.object.clone())),
        _ => r.old_object.clone(),
    };
    let mut req = Request::for_object(
        r.operation,
        r.object.clone(),
        old,
        r.user.clone().unwrap_or_else(admin),
    )?;
    if let Some(sub) = &r.sub_resource {
        req.sub_resource.clone_from(sub);
    }
    if r.operation == Operation::Delete {
        req.object = Value::Null;
    }
    Ok(req)
}

fn who(d: &Decision) -> String {
    if d.binding.is_empty() {
        d.policy.clone()
    } else {
        format!("{}/{}", d.policy, d.binding)
    }
}

/// Grades the check against the workspace objects.
pub fn grade(check: &AdmissionPolicyCheck, workspace: &[KubeObject]) -> Verdict {
    let mine: Vec<KubeObject> = workspace
        .iter()
        .filter(|o| check.reads_kind(o.kind()))
        .cloned()
        .collect();
    let set = PolicySet::from_objects(&mine);
    if set.is_empty() {
        return Verdict::fail(match check.engine {
            Engine::Vap => "no ValidatingAdmissionPolicy in your files",
            Engine::Kyverno => "no Kyverno ClusterPolicy or Policy in your files",
        });
    }
    let mut findings = Vec::new();
    for p in set.problems() {
        let mut f = Finding::error(format!(
            "{}: {}: {} — the API server would refuse it",
            p.what, p.problem.path, p.problem.message
        ))
        .at(p.problem.path.clone());
        f.source.clone_from(&p.origin.source);
        f.doc = Some(p.origin.doc);
        findings.push(f);
    }
    for b in set.orphan_bindings() {
        findings.push(Finding::error(format!(
            "ValidatingAdmissionPolicyBinding/{} names policy {:?}, which is not in your files",
            b.name, b.policy_name
        )));
    }
    if check.engine == Engine::Vap {
        for name in set.unbound() {
            findings.push(Finding::error(format!(
                "ValidatingAdmissionPolicy {name:?} has no ValidatingAdmissionPolicyBinding: on a cluster it checks nothing until a binding names it"
            )));
        }
    }
    if !findings.is_empty() {
        return Verdict::from_findings(findings);
    }
    let world = World {
        namespaces: check.namespaces.clone(),
        params: Vec::new(),
    };
    let mut rows = Vec::new();
    let mut live_only: Vec<String> = Vec::new();
    for r in &check.requests {
        let req = match request_of(r) {
            Ok(req) => req,
            Err(e) => {
                findings.push(Finding::error(format!("battery request {:?}: {e}", r.name)));
                continue;
            }
        };
        let decisions = set.decide(&req, &world, Semantics::ApiServer);
        let rejecting: Vec<&Decision> = decisions
            .iter()
            .filter(|d| d.outcome == Outcome::Reject)
            .collect();
        let errors: Vec<&Decision> = decisions
            .iter()
            .filter(|d| d.outcome == Outcome::Error)
            .collect();
        let result = if !errors.is_empty() {
            "error"
        } else if rejecting.is_empty() {
            "admit"
        } else {
            "reject"
        };
        rows.push(json!({
            "request": r.name,
            "object": req.describe(),
            "operation": req.operation.as_str(),
            "expect": r.expect,
            "result": result,
            "decisions": decisions.iter().map(|d| json!({
                "by": who(d), "result": d.outcome.as_str(), "message": d.message,
                "warnings": d.warnings,
            })).collect::<Vec<_>>(),
        }));
        if let Some(e) = errors.first() {
            if errors.iter().all(|d| d.live_only) {
                let why = format!("{}: {}", who(e), e.message);
                if !live_only.contains(&why) {
                    live_only.push(why);
                }
                continue;
            }
            findings.push(Finding::error(format!(
                "{} ({}): {} cannot be evaluated: {}",
                r.name,
                req.describe(),
                who(e),
                e.message
            )));
            continue;
        }
        match (r.expect, rejecting.first()) {
            (Expect::Admit, Some(d)) => findings.push(Finding::error(format!(
                "{} ({}, {}) must be admitted, but {} rejects it: {}",
                r.name,
                req.describe(),
                req.operation.as_str(),
                who(d),
                d.message
            ))),
            (Expect::Reject, None) => {
                let why: Vec<String> = decisions
                    .iter()
                    .map(|d| {
                        let mut s = format!("{}: {}", who(d), d.outcome.as_str());
                        if !d.message.is_empty() {
                            s.push_str(" (");
                            s.push_str(&d.message);
                            s.push(')');
                        }
                        if !d.warnings.is_empty() {
                            s.push_str(" with a warning only: a Warn binding admits");
                        }
                        s
                    })
                    .collect();
                findings.push(Finding::error(format!(
                    "{} ({}, {}) must be rejected, but is admitted — {}",
                    r.name,
                    req.describe(),
                    req.operation.as_str(),
                    if why.is_empty() {
                        "no policy decides it".to_owned()
                    } else {
                        why.join("; ")
                    }
                )));
            }
            _ => {}
        }
    }
    let detail = json!({ "admission": rows });
    if findings.is_empty() && !live_only.is_empty() {
        // Only the cluster can decide these: graded live (with Kyverno
        // installed by `seclab up --with kyverno`), skipped offline.
        return Verdict::skipped(format!(
            "{LIVE_ONLY}{} — on the kind cluster the battery is sent as dry runs",
            live_only.join("; ")
        ))
        .with_detail(detail);
    }
    Verdict::from_findings(findings).with_detail(detail)
}

/// How the reason of a verdict skipped for live-only rules begins.
const LIVE_ONLY: &str = "graded live only: ";

/// Whether a verdict of [`grade`] was skipped for decisions only a live
/// cluster can make (rather than for want of evidence).
pub fn live_only(v: &Verdict) -> bool {
    v.status == crate::Status::Skipped
        && v.reason
            .as_deref()
            .is_some_and(|r| r.starts_with(LIVE_ONLY))
}

#[cfg(test)]
mod tests {
    use super::{AdmissionPolicyCheck, grade};
    use crate::KubeObject;
    use serde_json::{Value, json};

    fn check() -> AdmissionPolicyCheck {
        serde_json::from_value(json!({
            "engine": "vap",
            "requests": [
                {"name": "privileged pod", "expect": "reject", "object": {"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": "p", "namespace": "n"},
                    "spec": {"containers": [{"name": "a", "image": "a", "securityContext": {"privileged": true}}]}}},
                {"name": "plain pod", "expect": "admit", "object": {"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": "q", "namespace": "n"}, "spec": {"containers": [{"name": "a", "image": "a"}]}}},
            ]
        }))
        .unwrap()
    }

    fn objects(actions: Option<&str>) -> Vec<KubeObject> {
        let mut v = vec![
            json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": "p"}, "spec": {
                "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}]},
                "validations": [{"expression": "object.spec.containers.all(c, !c.?securityContext.?privileged.orValue(false))", "message": "no"}]}}),
        ];
        if let Some(a) = actions {
            v.push(json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
                "metadata": {"name": "b"}, "spec": {"policyName": "p", "validationActions": [a]}}));
        }
        v.into_iter().map(KubeObject::new).collect()
    }

    fn messages(v: &crate::Verdict) -> Vec<String> {
        v.findings.iter().map(|f| f.message.clone()).collect()
    }

    #[test]
    fn deny_passes_warn_and_no_binding_fail() {
        let c = check();
        assert!(grade(&c, &objects(Some("Deny"))).passed());
        let warn = grade(&c, &objects(Some("Warn")));
        assert!(!warn.passed());
        assert!(
            messages(&warn)[0].contains("with a warning only"),
            "{warn:?}"
        );
        let none = grade(&c, &objects(None));
        assert!(messages(&none)[0].contains("has no ValidatingAdmissionPolicyBinding"));
        let empty: Vec<KubeObject> = Vec::new();
        assert!(!grade(&c, &empty).passed());
        let deny = grade(&c, &objects(Some("Deny")));
        let detail: &Value = deny.detail.as_ref().unwrap();
        assert_eq!(detail["admission"][0]["result"], "reject");
    }
}
