//! RBAC asked of the live API server: the SubjectAccessReviews an `rbac`
//! check needs, and how the answers grade.
//!
//! [`access_reviews`] lists the questions: for an `expect:` check its one
//! question; for an `only:` check each listed permission, plus
//! [`SENSITIVE`] requests (in the check's namespace, and a few
//! cluster-wide) that must be denied unless `only` lists them. Groups are
//! sent in full, the ones the API server implies included
//! (`system:authenticated`, `system:serviceaccounts[:<ns>]`): a
//! SubjectAccessReview is authorized with exactly the groups it names.
//!
//! [`findings`] compares each answer with the expectation (a mismatch
//! fails) and with the static engine's answer over the workspace (a
//! disagreement is a warning). A permission `only` lists has no expected
//! answer (`only` is an upper bound): it is compared with the static
//! engine only.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::ClusterFacts;
use crate::rbac::{Action, Expect, Policy, RbacCheck, Request, ResourceRef};
use crate::{Finding, KubeObject};

/// One SubjectAccessReview the shell must make
/// (`authorization.k8s.io/v1`): `spec.user`, `spec.groups`, and
/// `spec.resourceAttributes` (verb, group, resource, subresource,
/// namespace, name) or, when `path` is set, `spec.nonResourceAttributes`
/// (path, verb).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AccessReviewSpec {
    /// The user name (`""` for a group-only subject).
    pub user: String,
    /// Every group of the subject, implied ones included.
    pub groups: Vec<String>,
    /// The verb (`*` asks for a wildcard grant).
    pub verb: String,
    /// The API group (`""` = core); empty for a non-resource request.
    pub group: String,
    /// The resource (plural); empty for a non-resource request.
    pub resource: String,
    /// The subresource, e.g. `exec`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
    /// The namespace; `None` = cluster-wide (all namespaces).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The object name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A non-resource URL (`/healthz`); the resource fields are then empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// The API server's answer to one review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessReviewResult {
    /// The review, as planned.
    pub spec: AccessReviewSpec,
    /// `status.allowed`.
    pub allowed: bool,
    /// `status.reason` (which binding allowed it), or `status.evaluationError`.
    #[serde(default)]
    pub reason: String,
}

/// The requests an `only` check must see denied unless `only` lists them:
/// `(verb, group, resource, subresource, cluster_wide)`. Those with
/// `cluster_wide` are asked across all namespaces, the rest in the
/// check's namespace (or cluster-wide when it names none).
pub const SENSITIVE: &[(&str, &str, &str, Option<&str>, bool)] = &[
    ("get", "", "secrets", None, false),
    ("list", "", "secrets", None, false),
    ("watch", "", "secrets", None, false),
    ("create", "", "pods", None, false),
    ("create", "", "pods", Some("exec"), false),
    ("create", "", "pods", Some("attach"), false),
    ("create", "", "serviceaccounts", Some("token"), false),
    (
        "create",
        "rbac.authorization.k8s.io",
        "rolebindings",
        None,
        false,
    ),
    (
        "escalate",
        "rbac.authorization.k8s.io",
        "roles",
        None,
        false,
    ),
    ("bind", "rbac.authorization.k8s.io", "roles", None, false),
    ("impersonate", "", "serviceaccounts", None, false),
    ("*", "*", "*", None, false),
    ("list", "", "secrets", None, true),
    (
        "create",
        "rbac.authorization.k8s.io",
        "clusterrolebindings",
        None,
        true,
    ),
    ("impersonate", "", "users", None, true),
    ("*", "*", "*", None, true),
];

/// A review with what it is for.
struct Planned {
    spec: AccessReviewSpec,
    request: Request,
    /// The answer the check requires, if it requires one.
    expect: Option<bool>,
}

fn spec_of(req: &Request) -> AccessReviewSpec {
    let mut spec = AccessReviewSpec {
        user: req.user.clone(),
        groups: req.effective_groups(),
        verb: req.verb.clone(),
        group: String::new(),
        resource: String::new(),
        subresource: None,
        namespace: None,
        name: None,
        path: None,
    };
    match &req.action {
        Action::NonResource { path } => spec.path = Some(path.clone()),
        Action::Resource {
            resource,
            subresource,
            name,
            namespace,
        } => {
            spec.group.clone_from(&resource.group);
            spec.resource.clone_from(&resource.resource);
            spec.subresource.clone_from(subresource);
            spec.name.clone_from(name);
            spec.namespace.clone_from(namespace);
        }
    }
    spec
}

fn planned(check: &RbacCheck) -> Vec<Planned> {
    let mut out: Vec<Planned> = Vec::new();
    let mut push = |request: Request, expect: Option<bool>| {
        let spec = spec_of(&request);
        if !out.iter().any(|p| p.spec == spec) {
            out.push(Planned {
                spec,
                request,
                expect,
            });
        }
    };
    let Some(entries) = &check.only else {
        if let (Ok((req, _)), Some(e)) = (crate::rbac::request_of(check), check.expect) {
            push(req, Some(e == Expect::Allowed));
        }
        return out;
    };
    let Ok((user, group)) = crate::rbac::subject_of(&check.subject) else {
        return out;
    };
    for e in entries {
        let mut e = e.clone();
        if e.namespace.is_none() {
            e.namespace.clone_from(&check.namespace);
        }
        if e.namespace.as_deref() == Some(crate::rbac::ALL) {
            e.namespace = None;
        }
        push(crate::rbac::entry_request(&user, group, &e), None);
    }
    for &(verb, api_group, resource, sub, cluster_wide) in SENSITIVE {
        // `*` (every namespace) is asked cluster-wide, as SubjectAccessReview
        // spells all namespaces.
        let ns = if cluster_wide {
            None
        } else {
            check
                .namespace
                .as_deref()
                .filter(|n| *n != crate::rbac::ALL)
        };
        let rref = ResourceRef {
            group: api_group.to_owned(),
            resource: resource.to_owned(),
        };
        let mut req = Request::resource(&user, verb, rref, ns);
        if let Some(s) = sub {
            req = req.with_subresource(s);
        }
        if let Some(g) = group {
            req = req.with_group(g);
        }
        if !crate::rbac::lists(check, &req) {
            push(req, Some(false));
        }
    }
    out
}

/// The SubjectAccessReviews the shell must make for `check` (none when
/// the check itself does not parse: its static verdict says why).
pub fn access_reviews(check: &RbacCheck) -> Vec<AccessReviewSpec> {
    planned(check).into_iter().map(|p| p.spec).collect()
}

/// `verb resource[.group][/sub] [named n] in namespace ns` (or
/// cluster-wide), or `verb /url`.
pub fn describe(spec: &AccessReviewSpec) -> String {
    if let Some(path) = &spec.path {
        return format!("{} {path}", spec.verb);
    }
    let mut s = format!("{} {}", spec.verb, spec.resource);
    if !spec.group.is_empty() {
        s.push('.');
        s.push_str(&spec.group);
    }
    if let Some(sub) = &spec.subresource {
        s.push('/');
        s.push_str(sub);
    }
    if let Some(n) = &spec.name {
        let _ = write!(s, " named {n:?}");
    }
    match &spec.namespace {
        Some(ns) => {
            let _ = write!(s, " in namespace {ns}");
        }
        None => s.push_str(" cluster-wide"),
    }
    s
}

fn word(allowed: bool) -> &'static str {
    if allowed { "allowed" } else { "denied" }
}

/// What the live answers add to an `rbac` verdict: an error for each
/// answer that is not the required one (or a review not made), a warning
/// for each answer the static engine over `workspace` gives differently,
/// and an info on how many were asked.
pub fn findings(check: &RbacCheck, workspace: &[KubeObject], facts: &ClusterFacts) -> Vec<Finding> {
    let policy = Policy::from_objects(workspace).ok().map(|(p, _)| p);
    let subject = &check.subject;
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let plan = planned(check);
    for p in &plan {
        let what = format!("{subject} {}", describe(&p.spec));
        let Some(r) = facts.reviews.iter().find(|r| r.spec == p.spec) else {
            errors.push(Finding::error(format!(
                "{what}: no SubjectAccessReview was made: the cluster's answer is unknown"
            )));
            continue;
        };
        let reason = if r.reason.is_empty() {
            String::new()
        } else {
            format!(" ({})", r.reason)
        };
        if let Some(want) = p.expect
            && r.allowed != want
        {
            errors.push(Finding::error(format!(
                "the cluster {} {what}{reason}, expected {}",
                if r.allowed { "allows" } else { "denies" },
                word(want)
            )));
        }
        if let Some(policy) = &policy {
            let analysed = policy.can(&p.request).allowed;
            if analysed != r.allowed {
                warnings.push(Finding::warning(format!(
                    "{what}: seclab's analysis of the workspace says {}, but the cluster's SubjectAccessReview says {}{reason}: the live RBAC objects differ from the workspace",
                    word(analysed),
                    word(r.allowed)
                )));
            }
        }
    }
    let asked = plan.len();
    let mut out = errors;
    out.extend(warnings);
    if asked > 0 {
        out.push(Finding::info(format!(
            "asked the cluster {asked} SubjectAccessReview{} for {subject}",
            if asked == 1 { "" } else { "s" }
        )));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CheckSpec, Evidence, Severity, Status};
    use serde_json::Value;

    fn rbac(yaml: &str) -> RbacCheck {
        match serde_saphyr::from_str::<CheckSpec>(yaml).expect("valid check") {
            CheckSpec::Rbac(r) => r,
            other => unreachable!("not an rbac check: {other:?}"),
        }
    }

    fn objects(yaml: &str) -> Vec<KubeObject> {
        serde_saphyr::from_multiple::<Value>(yaml)
            .expect("valid yaml")
            .into_iter()
            .map(KubeObject::new)
            .collect()
    }

    /// A service account that may read pods in lab.
    const WORKSPACE: &str = "
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: lab}
rules: [{apiGroups: [''], resources: [pods], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: lab}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: ServiceAccount, name: app, namespace: lab}]
";

    fn answer(
        specs: &[AccessReviewSpec],
        allow: impl Fn(&AccessReviewSpec) -> bool,
    ) -> ClusterFacts {
        ClusterFacts {
            reviews: specs
                .iter()
                .map(|s| AccessReviewResult {
                    spec: s.clone(),
                    allowed: allow(s),
                    reason: if allow(s) {
                        "RBAC: allowed by RoleBinding \"reader/lab\"".into()
                    } else {
                        String::new()
                    },
                })
                .collect(),
            ..ClusterFacts::default()
        }
    }

    fn grade(check: &RbacCheck, facts: &ClusterFacts) -> crate::Verdict {
        let ws = objects(WORKSPACE);
        CheckSpec::Rbac(check.clone()).grade(&Evidence {
            workspace: &ws,
            kube: Some(facts),
            ..Evidence::default()
        })
    }

    #[test]
    fn an_expect_check_asks_one_question_with_the_implied_groups() {
        let c = rbac(
            "rbac: {subject: 'serviceaccount:lab/app', verb: get, resource: pods, namespace: lab, expect: allowed}",
        );
        let specs = access_reviews(&c);
        assert_eq!(specs.len(), 1);
        let s = &specs[0];
        assert_eq!(s.user, "system:serviceaccount:lab:app");
        assert_eq!(
            s.groups,
            [
                "system:serviceaccounts",
                "system:serviceaccounts:lab",
                "system:authenticated"
            ]
        );
        assert_eq!((s.verb.as_str(), s.resource.as_str()), ("get", "pods"));
        assert_eq!(s.namespace.as_deref(), Some("lab"));
        assert!(grade(&c, &answer(&specs, |_| true)).passed());
        let v = grade(&c, &answer(&specs, |_| false));
        assert_eq!(v.status, Status::Fail);
        assert!(v.findings.iter().any(|f| f.severity == Severity::Error
            && f.message == "the cluster denies serviceaccount:lab/app get pods in namespace lab, expected allowed"));
        assert!(v.findings.iter().any(|f| {
            f.severity == Severity::Warning
                && f.message
                    .contains("says allowed, but the cluster's SubjectAccessReview says denied")
        }));
        // No review made: fail.
        assert_eq!(grade(&c, &ClusterFacts::default()).status, Status::Fail);
    }

    #[test]
    fn an_only_check_asks_its_entries_and_the_sensitive_requests() {
        let c = rbac(
            "rbac: {subject: 'serviceaccount:lab/app', namespace: lab, only: [{verb: get, resource: pods}, {verb: list, resource: pods}, {verb: get, resource: secrets}]}",
        );
        let specs = access_reviews(&c);
        let said: Vec<String> = specs.iter().map(describe).collect();
        assert!(
            said.contains(&"get pods in namespace lab".to_owned()),
            "{said:?}"
        );
        assert!(
            said.contains(&"create pods/exec in namespace lab".to_owned()),
            "{said:?}"
        );
        assert!(
            said.contains(&"list secrets cluster-wide".to_owned()),
            "{said:?}"
        );
        assert!(
            said.contains(&"* *.* in namespace lab".to_owned()),
            "{said:?}"
        );
        // `only` lists get secrets in lab: not asked as a sensitive one,
        // and with no expected answer.
        assert_eq!(
            said.iter()
                .filter(|s| *s == "get secrets in namespace lab")
                .count(),
            1
        );
        // The cluster agrees with the workspace: pass.
        let as_workspace = |s: &AccessReviewSpec| {
            s.resource == "pods"
                && (s.verb == "get" || s.verb == "list")
                && s.subresource.is_none()
                && s.namespace.as_deref() == Some("lab")
        };
        let v = grade(&c, &answer(&specs, as_workspace));
        assert!(v.passed(), "{v:?}");
        // The live cluster lets it exec into pods: fail naming it.
        let v = grade(
            &c,
            &answer(&specs, |s| {
                as_workspace(s) || s.subresource.as_deref() == Some("exec")
            }),
        );
        assert_eq!(v.status, Status::Fail);
        assert!(v.findings.iter().any(|f| f.severity == Severity::Error
            && f.message.starts_with(
                "the cluster allows serviceaccount:lab/app create pods/exec in namespace lab"
            )));
    }
}
