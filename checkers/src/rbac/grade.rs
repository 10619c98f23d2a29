//! The lab-facing RBAC check: "can SUBJECT VERB RESOURCE (in NAMESPACE)?"
//! expected allowed or denied, graded with findings that name the grants —
//! or say that none exists and what the subject does have.

use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::error::RbacError;
use super::policy::{Grant, Policy};
use super::request::{Request, ResourceRef, SA_PREFIX};
use crate::{Finding, KubeObject, Verdict};

/// What the check expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// The request must be allowed.
    Allowed,
    /// The request must be denied.
    Denied,
}

/// A lab's RBAC question.
///
/// `subject` is a user name (`alice`), a service account
/// (`system:serviceaccount:<ns>:<name>` or `serviceaccount:<ns>/<name>`), or
/// `group:<name>` (an authenticated member of that group). `resource` is
/// `R[.GROUP]` (`secrets`, `deployments.apps`), `R/SUB` (`pods/exec`), or a
/// non-resource URL starting with `/` (`/healthz`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RbacCheck {
    /// Who asks.
    pub subject: String,
    /// The verb (`get`, `list`, `create`, ...).
    pub verb: String,
    /// `R[.GROUP]`, `R[.GROUP]/SUB` or a `/non-resource/url`.
    pub resource: String,
    /// Subresource, e.g. `exec`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
    /// Object name, for rules limited by resourceNames.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace; absent = a cluster-wide question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Allowed or denied.
    pub expect: Expect,
}

impl RbacCheck {
    /// The authorization request this check asks about; an error when the
    /// subject or the resource does not parse (for `seclab validate`).
    pub fn request(&self) -> Result<Request, RbacError> {
        request_of(self).map(|(req, _)| req)
    }
}

fn error_finding(e: &RbacError) -> Finding {
    let mut f = Finding::error(e.to_string());
    f.object = Some(e.object.clone());
    f.source.clone_from(&e.file);
    if !e.path.is_empty() {
        f.paths.push(e.path.clone());
    }
    f
}

/// The request a check asks about, plus info findings on how it was read.
fn request_of(check: &RbacCheck) -> Result<(Request, Vec<Finding>), RbacError> {
    let mut infos = Vec::new();
    let (user, group) = if let Some(g) = check.subject.strip_prefix("group:") {
        (String::new(), Some(g))
    } else if let Some(sa) = check.subject.strip_prefix("serviceaccount:") {
        let (ns, name) = sa.split_once('/').unwrap_or(("", sa));
        (format!("{SA_PREFIX}{ns}:{name}"), None)
    } else {
        (check.subject.clone(), None)
    };
    if user.is_empty() && group.is_none_or(str::is_empty) {
        return Err(RbacError::new(
            "check",
            None,
            "subject",
            super::Problem::Missing,
        ));
    }
    let res = check.resource.trim();
    let mut req = if res.starts_with('/') {
        Request::non_resource(&user, &check.verb, res)
    } else {
        let (base, sub) = match res.split_once('/') {
            Some((b, s)) if check.subresource.is_none() => (b, Some(s)),
            _ => (res, check.subresource.as_deref()),
        };
        let (rref, inferred) = ResourceRef::parse(base)?;
        if inferred {
            infos.push(Finding::info(format!(
                "resource `{base}` read as `{}` (its API group)",
                rref.display()
            )));
        }
        let mut r = Request::resource(&user, &check.verb, rref, check.namespace.as_deref());
        if let Some(s) = sub {
            r = r.with_subresource(s);
        }
        if let Some(n) = &check.name {
            r = r.with_name(n);
        }
        r
    };
    if let Some(g) = group {
        req = req.with_group(g);
    }
    Ok((req, infos))
}

/// `SUBJECT VERB RESOURCE[/SUB] [NAME] in NS` (or cluster-wide).
fn describe(check: &RbacCheck, req: &Request) -> String {
    use super::request::Action;
    match &req.action {
        Action::NonResource { path } => format!("{} {} {path}", check.subject, req.verb),
        Action::Resource {
            resource,
            subresource,
            name,
            namespace,
        } => {
            let mut s = format!("{} {} {}", check.subject, req.verb, resource.display());
            if let Some(sub) = subresource {
                s.push('/');
                s.push_str(sub);
            }
            if let Some(n) = name {
                let _ = write!(s, " named {n:?}");
            }
            match namespace {
                Some(ns) => {
                    let _ = write!(s, " in namespace {ns}");
                }
                None => s.push_str(" cluster-wide"),
            }
            s
        }
    }
}

fn grant_finding(policy: &Policy, g: &Grant, error: bool, lead: &str) -> Finding {
    let msg = format!("{lead}{g}");
    let mut f = if error {
        Finding::error(msg)
    } else {
        Finding::info(msg)
    };
    f.object = Some(g.binding.clone());
    f.source = policy.source_of(&g.binding);
    f
}

/// Grades `check` against the RBAC objects among `objects`.
pub fn grade(check: &RbacCheck, objects: &[KubeObject]) -> Verdict {
    let (policy, notes) = match Policy::from_objects(objects) {
        Ok(p) => p,
        Err(e) => return Verdict::from_findings(vec![error_finding(&e)]),
    };
    let (req, infos) = match request_of(check) {
        Ok(r) => r,
        Err(e) => return Verdict::fail(format!("invalid RBAC check: {e}")),
    };
    let mut findings: Vec<Finding> = notes.iter().map(super::Note::to_finding).collect();
    findings.extend(infos);
    let what = describe(check, &req);
    let decision = policy.can(&req);
    match (decision.allowed, check.expect) {
        (true, Expect::Allowed) => {
            findings.push(Finding::info(format!("allowed as expected: {what}")));
            for g in &decision.because {
                findings.push(grant_finding(&policy, g, false, "granted by "));
            }
        }
        (true, Expect::Denied) => {
            findings.push(Finding::info(format!(
                "expected denied, but allowed: {what}"
            )));
            for g in &decision.because {
                findings.push(grant_finding(
                    &policy,
                    g,
                    true,
                    "should not be allowed, but is granted by ",
                ));
            }
        }
        (false, Expect::Denied) => {
            findings.push(Finding::info(format!(
                "denied as expected: no binding grants {what}"
            )));
        }
        (false, Expect::Allowed) => {
            findings.push(Finding::error(format!(
                "expected allowed, but no binding grants {what}"
            )));
            let have = policy.bindings_of(&req);
            if have.is_empty() {
                findings.push(Finding::info(format!(
                    "{} has no binding that applies here",
                    check.subject
                )));
            }
            for (binding, role) in have {
                findings.push(Finding::info(format!(
                    "{} is bound by {binding} -> {role}, which does not allow it",
                    check.subject
                )));
            }
            for (ns, g) in policy.grants_elsewhere(&req) {
                findings.push(Finding::info(format!(
                    "it would be allowed in namespace {ns}: {g}"
                )));
            }
        }
    }
    Verdict::from_findings(findings)
}
