//! The lab-facing RBAC check, in two forms: a question ("can SUBJECT VERB
//! RESOURCE (in NAMESPACE)?" expected allowed or denied, graded with
//! findings that name the grants — or say that none exists and what the
//! subject does have), and `only`, the subject's complete allowed set
//! (graded in `only.rs`).

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

/// A lab's RBAC check, in one of two forms.
///
/// - A question, with `expect`: may `subject` do `verb` on `resource` (in
///   `namespace`)? Expected allowed or denied.
/// - A complete allowed set, with `only`: every grant the subject has,
///   through any binding (the built-in roles and bindings included), must be
///   within the listed entries; the grants every authenticated identity has
///   from the built-in bindings (`system:basic-user`, `system:discovery`,
///   `system:public-info-viewer`, and for service accounts
///   `system:service-account-issuer-discovery`) are listed apart and do not
///   count.
///
/// `subject` is a user name (`alice`), a service account
/// (`system:serviceaccount:<ns>:<name>` or `serviceaccount:<ns>/<name>`), or
/// `group:<name>` (an authenticated member of that group). `resource` is
/// `R[.GROUP]` (`secrets`, `deployments.apps`), `R/SUB` (`pods/exec`), or a
/// non-resource URL starting with `/` (`/healthz`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RbacCheckFields")]
pub struct RbacCheck {
    /// Who asks.
    pub subject: String,
    /// The verb (`get`, `list`, `create`, ...); the question form only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verb: Option<String>,
    /// `R[.GROUP]`, `R[.GROUP]/SUB` or a `/non-resource/url`; the question
    /// form only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Subresource, e.g. `exec`; the question form only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
    /// Object name, for rules limited by resourceNames; the question form
    /// only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace; absent = a cluster-wide question. For `only`, the
    /// namespace of entries that do not name one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Allowed or denied: the question form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expect>,
    /// The subject's complete allowed set: the `only` form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only: Option<Vec<Allowed>>,
}

/// One entry of an `only` list: a verb on a resource (or URL), optionally
/// one object name, in a namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Allowed {
    /// The verb, or `*` for any.
    pub verb: String,
    /// `R[.GROUP]`, `R[.GROUP]/SUB` or a `/non-resource/url` (`prefix*`
    /// covers the URLs under it); `*` stands for any resource.
    pub resource: String,
    /// Subresource, e.g. `log`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
    /// One object name; absent = every name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The namespace; absent = the check's; `*` = every namespace and
    /// cluster-wide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// The fields of an `rbac:` check as written, before the two forms are told
/// apart.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "RbacCheck")]
struct RbacCheckFields {
    /// Who asks: a user name, `system:serviceaccount:<ns>:<name>`,
    /// `serviceaccount:<ns>/<name>` or `group:<name>`.
    subject: String,
    /// The verb (`get`, `list`, `create`, ...); with `expect` only.
    #[serde(default)]
    verb: Option<String>,
    /// `R[.GROUP]`, `R[.GROUP]/SUB` or a `/non-resource/url`; with `expect`
    /// only.
    #[serde(default)]
    resource: Option<String>,
    /// Subresource, e.g. `exec`; with `expect` only.
    #[serde(default)]
    subresource: Option<String>,
    /// Object name, for rules limited by resourceNames; with `expect` only.
    #[serde(default)]
    name: Option<String>,
    /// Namespace; absent = a cluster-wide question. With `only`, the
    /// namespace of entries that name none.
    #[serde(default)]
    namespace: Option<String>,
    /// Allowed or denied: one question (with `verb` and `resource`).
    #[serde(default)]
    expect: Option<Expect>,
    /// Everything the subject may do, through any binding; every grant
    /// beyond it fails the check. An alternative to `expect`.
    #[serde(default)]
    only: Option<Vec<Allowed>>,
}

impl TryFrom<RbacCheckFields> for RbacCheck {
    type Error = String;

    fn try_from(f: RbacCheckFields) -> Result<Self, String> {
        match (&f.expect, &f.only) {
            (None, None) => {
                return Err(
                    "an rbac check needs `expect` (allowed or denied, with `verb` and \
                     `resource`: one question) or `only` (the subject's complete allowed set)"
                        .to_owned(),
                );
            }
            (Some(_), Some(_)) => {
                return Err(
                    "`expect` and `only` are alternatives: `expect` answers one \
                     question, `only` lists everything the subject may do; give one of them"
                        .to_owned(),
                );
            }
            (Some(_), None) => {
                let missing: Vec<&str> = [("verb", &f.verb), ("resource", &f.resource)]
                    .iter()
                    .filter(|(_, v)| v.is_none())
                    .map(|(k, _)| *k)
                    .collect();
                if !missing.is_empty() {
                    return Err(format!(
                        "an rbac check with `expect` needs {}",
                        missing
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(" and ")
                    ));
                }
            }
            (None, Some(_)) => {
                let stray: Vec<&str> = [
                    ("verb", f.verb.is_some()),
                    ("resource", f.resource.is_some()),
                    ("subresource", f.subresource.is_some()),
                    ("name", f.name.is_some()),
                ]
                .iter()
                .filter(|(_, set)| *set)
                .map(|(k, _)| *k)
                .collect();
                if !stray.is_empty() {
                    return Err(format!(
                        "{} belong to the `expect` form; with `only`, write them in its entries",
                        stray
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
        Ok(Self {
            subject: f.subject,
            verb: f.verb,
            resource: f.resource,
            subresource: f.subresource,
            name: f.name,
            namespace: f.namespace,
            expect: f.expect,
            only: f.only,
        })
    }
}

impl JsonSchema for RbacCheck {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RbacCheck".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut schema = RbacCheckFields::json_schema(generator);
        schema.insert(
            "description".to_owned(),
            serde_json::json!(
                "An RBAC check: one question (`expect` with `verb` and `resource`), or the \
                 subject's complete allowed set (`only`). The two are alternatives."
            ),
        );
        schema.insert(
            "oneOf".to_owned(),
            serde_json::json!([
                {"required": ["verb", "resource", "expect"], "not": {"required": ["only"]}},
                {"required": ["only"], "not": {"anyOf": [
                    {"required": ["expect"]}, {"required": ["verb"]}, {"required": ["resource"]},
                    {"required": ["subresource"]}, {"required": ["name"]}
                ]}}
            ]),
        );
        schema
    }
}

impl RbacCheck {
    /// The authorization requests this check is about — one for a question,
    /// one per entry for `only` — or an error when the subject, a resource
    /// or the form does not hold (for `seclab validate`).
    pub fn request(&self) -> Result<Vec<Request>, RbacError> {
        if let Some(entries) = &self.only {
            let (user, group) = subject_of(&self.subject)?;
            return entries
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    super::only::pattern(e, self.namespace.as_deref())
                        .map(|_| entry_request(&user, group, e))
                        .map_err(|mut err| {
                            err.path = format!("only[{i}].{}", err.path);
                            err
                        })
                })
                .collect();
        }
        request_of(self).map(|(req, _)| vec![req])
    }

    /// One line for listings.
    pub fn describe(&self) -> String {
        if let Some(entries) = &self.only {
            let place = self
                .namespace
                .as_deref()
                .map_or_else(String::new, |ns| format!(" (in {ns})"));
            return format!(
                "{} may only: {}{place}",
                self.subject,
                super::only::entries_text(entries)
            );
        }
        format!(
            "{} {} {}{}{}{}: {}",
            self.subject,
            self.verb.as_deref().unwrap_or_default(),
            self.resource.as_deref().unwrap_or_default(),
            self.subresource
                .as_deref()
                .map(|s| format!("/{s}"))
                .unwrap_or_default(),
            self.name
                .as_deref()
                .map(|n| format!(" named {n}"))
                .unwrap_or_default(),
            self.namespace
                .as_deref()
                .map_or_else(|| " cluster-wide".to_owned(), |ns| format!(" in {ns}")),
            match self.expect {
                Some(Expect::Allowed) => "allowed",
                Some(Expect::Denied) | None => "denied",
            }
        )
    }
}

/// The request an `only` entry describes, for validation.
pub(crate) fn entry_request(user: &str, group: Option<&str>, e: &Allowed) -> Request {
    let mut r = if e.resource.starts_with('/') {
        Request::non_resource(user, &e.verb, &e.resource)
    } else {
        let (base, sub) = match e.resource.split_once('/') {
            Some((b, s)) if e.subresource.is_none() => (b, Some(s)),
            _ => (e.resource.as_str(), e.subresource.as_deref()),
        };
        let rref = ResourceRef::parse(base).map_or_else(
            |_| ResourceRef {
                group: String::new(),
                resource: base.to_owned(),
            },
            |(r, _)| r,
        );
        let mut r = Request::resource(user, &e.verb, rref, e.namespace.as_deref());
        if let Some(s) = sub {
            r = r.with_subresource(s);
        }
        if let Some(n) = &e.name {
            r = r.with_name(n);
        }
        r
    };
    if let Some(g) = group {
        r = r.with_group(g);
    }
    r
}

/// `(user, group)` of a check's subject.
pub(crate) fn subject_of(subject: &str) -> Result<(String, Option<&str>), RbacError> {
    let (user, group) = if let Some(g) = subject.strip_prefix("group:") {
        (String::new(), Some(g))
    } else if let Some(sa) = subject.strip_prefix("serviceaccount:") {
        let (ns, name) = sa.split_once('/').unwrap_or(("", sa));
        (format!("{SA_PREFIX}{ns}:{name}"), None)
    } else {
        (subject.to_owned(), None)
    };
    if user.is_empty() && group.is_none_or(str::is_empty) {
        return Err(RbacError::new(
            "check",
            None,
            "subject",
            super::Problem::Missing,
        ));
    }
    Ok((user, group))
}

pub(crate) fn error_finding(e: &RbacError) -> Finding {
    let mut f = Finding::error(e.to_string());
    f.object = Some(e.object.clone());
    f.source.clone_from(&e.file);
    if !e.path.is_empty() {
        f.paths.push(e.path.clone());
    }
    f
}

/// The request a question asks about, plus info findings on how it was read.
pub(crate) fn request_of(check: &RbacCheck) -> Result<(Request, Vec<Finding>), RbacError> {
    let mut infos = Vec::new();
    let (user, group) = subject_of(&check.subject)?;
    let verb = check.verb.as_deref().unwrap_or_default();
    let res = check.resource.as_deref().unwrap_or_default().trim();
    let mut req = if res.starts_with('/') {
        Request::non_resource(&user, verb, res)
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
        let mut r = Request::resource(&user, verb, rref, check.namespace.as_deref());
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
    if let Some((source, doc)) = policy.place_of(&g.binding) {
        f.source = Some(source);
        f.doc = Some(doc);
    }
    f
}

/// Grades `check` against the RBAC objects among `objects` (and the
/// built-in roles and bindings every cluster has).
pub fn grade(check: &RbacCheck, objects: &[KubeObject]) -> Verdict {
    let (policy, notes) = match Policy::from_objects(objects) {
        Ok(p) => p,
        Err(e) => return Verdict::from_findings(vec![error_finding(&e)]),
    };
    let Some(expect) = check.expect else {
        return super::only::grade(check, &policy, &notes);
    };
    let (req, infos) = match request_of(check) {
        Ok(r) => r,
        Err(e) => return Verdict::fail(format!("invalid RBAC check: {e}")),
    };
    let mut findings: Vec<Finding> = notes.iter().map(super::Note::to_finding).collect();
    findings.extend(infos);
    let what = describe(check, &req);
    let decision = policy.can(&req);
    match (decision.allowed, expect) {
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
