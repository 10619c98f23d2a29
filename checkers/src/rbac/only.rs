//! The `only` form of the rbac check: the subject's complete allowed set.
//!
//! Every rule of every binding that reaches the subject (by name, through a
//! group the check names, or through the groups the API server adds —
//! `system:authenticated`, `system:serviceaccounts[:<ns>]`), built-in roles
//! and bindings included, grants a cross product: verbs × API groups ×
//! resources (with subresources) × names (every name when the rule has no
//! resourceNames), in the binding's namespace (a `RoleBinding`) or
//! everywhere (a `ClusterRoleBinding`); a non-resource rule grants verbs ×
//! URLs, and only through a `ClusterRoleBinding`. Each element of that
//! product must be covered by an entry of `only`; a wildcard in a rule is
//! covered only by the same wildcard in an entry. The check fails listing
//! every grant with something beyond, with its binding, role and rule, at
//! the rule's place in the file.
//!
//! The grants every identity has from the built-in bindings to the implied
//! groups (`system:basic-user`, `system:discovery`,
//! `system:public-info-viewer`, `system:service-account-issuer-discovery`)
//! are listed apart as "everyone has these" and do not count.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::error::{Problem, RbacError};
use super::grade::{Allowed, RbacCheck, subject_of};
use super::model::{Note, Subject};
use super::policy::{Bound, EffectiveRule, Policy, Via, reaches};
use super::request::{Action, Request, ResourceRef};
use super::rule::ALL;
use crate::{Finding, Verdict};

/// Where a grant holds, or where an entry allows.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Scope {
    /// In one namespace.
    Namespace(String),
    /// In every namespace and cluster-wide.
    Everywhere,
}

impl Scope {
    fn covers(&self, other: &Scope) -> bool {
        match (self, other) {
            (Scope::Everywhere, _) => true,
            (Scope::Namespace(a), Scope::Namespace(b)) => a == b,
            (Scope::Namespace(_), Scope::Everywhere) => false,
        }
    }

    fn describe(&self) -> String {
        match self {
            Scope::Namespace(ns) => format!("in namespace {ns}"),
            Scope::Everywhere => "in every namespace and cluster-wide".to_owned(),
        }
    }
}

/// An entry of `only`, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pattern {
    Resource {
        verb: String,
        group: String,
        /// `resource` or `resource/subresource`.
        resource: String,
        name: Option<String>,
        scope: Scope,
    },
    Url {
        verb: String,
        url: String,
    },
}

fn bad(path: &str, problem: Problem) -> RbacError {
    RbacError::new("check", None, path, problem)
}

/// Reads one entry; `default_ns` is the check's namespace.
pub(crate) fn pattern(e: &Allowed, default_ns: Option<&str>) -> Result<Pattern, RbacError> {
    let verb = e.verb.trim();
    if verb.is_empty() {
        return Err(bad("verb", Problem::Missing));
    }
    let res = e.resource.trim();
    if res.is_empty() {
        return Err(bad("resource", Problem::Missing));
    }
    if res.starts_with('/') {
        if e.subresource.is_some() || e.name.is_some() || e.namespace.is_some() {
            return Err(bad(
                "resource",
                Problem::Conflict(
                    "is a non-resource URL, which has no subresource, name or namespace",
                ),
            ));
        }
        return Ok(Pattern::Url {
            verb: verb.to_owned(),
            url: res.to_owned(),
        });
    }
    let (base, sub) = match res.split_once('/') {
        Some(_) if e.subresource.is_some() => {
            return Err(bad(
                "subresource",
                Problem::Conflict("is given twice: after `/` in resource and as subresource"),
            ));
        }
        Some((b, s)) => (b, Some(s)),
        None => (res, e.subresource.as_deref()),
    };
    if sub.is_some_and(|s| s.is_empty() || s.contains('/')) {
        return Err(bad(
            "resource",
            Problem::NotSupported {
                expected: "R[.GROUP]/SUB with one subresource word",
                got: res.to_owned(),
            },
        ));
    }
    let (rref, _) = ResourceRef::parse(base)?;
    let resource = match sub {
        Some(s) => format!("{}/{s}", rref.resource),
        None => rref.resource,
    };
    let scope = match e.namespace.as_deref().or(default_ns) {
        None | Some(ALL) => Scope::Everywhere,
        Some("") => return Err(bad("namespace", Problem::Missing)),
        Some(ns) => Scope::Namespace(ns.to_owned()),
    };
    Ok(Pattern::Resource {
        verb: verb.to_owned(),
        group: rref.group,
        resource,
        name: e.name.clone().filter(|n| !n.is_empty()),
        scope,
    })
}

/// One element of what a rule grants.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Atom<'a> {
    Resource {
        verb: &'a str,
        group: &'a str,
        resource: &'a str,
        /// `None`: every name.
        name: Option<&'a str>,
    },
    Url {
        verb: &'a str,
        url: &'a str,
    },
}

/// `pat` is `*` or `value`: a wildcard in a grant is covered only by a
/// wildcard in an entry.
fn eq(pat: &str, value: &str) -> bool {
    pat == ALL || pat == value
}

/// `pat` covers the URL (or URL pattern) `url`: equal, `*` or `/*` (every
/// path starts with `/`), or a `prefix*` that `url` starts with.
fn url_covers(pat: &str, url: &str) -> bool {
    pat == ALL
        || pat == "/*"
        || pat == url
        || pat
            .strip_suffix('*')
            .is_some_and(|prefix| url.starts_with(prefix))
}

fn covered(patterns: &[Pattern], atom: &Atom<'_>, scope: &Scope) -> bool {
    patterns.iter().any(|p| match (p, atom) {
        (
            Pattern::Resource {
                verb,
                group,
                resource,
                name,
                scope: allowed_in,
            },
            Atom::Resource {
                verb: granted_verb,
                group: granted_group,
                resource: granted_resource,
                name: granted_name,
            },
        ) => {
            eq(verb, granted_verb)
                && eq(group, granted_group)
                && eq(resource, granted_resource)
                && name
                    .as_deref()
                    .is_none_or(|want| Some(want) == *granted_name)
                && allowed_in.covers(scope)
        }
        (
            Pattern::Url { verb, url },
            Atom::Url {
                verb: granted_verb,
                url: granted_url,
            },
        ) => eq(verb, granted_verb) && url_covers(url, granted_url),
        _ => false,
    })
}

/// Whether the entries of `check`'s `only` list cover `req` (a resource
/// request: its verb, group, resource with subresource, name and
/// namespace; a non-resource request: its verb and URL). A wildcard in the
/// request is covered only by the same wildcard in an entry. `false` for a
/// check without `only`, or with an entry that does not parse.
pub(crate) fn lists(check: &RbacCheck, req: &Request) -> bool {
    let Some(entries) = &check.only else {
        return false;
    };
    let Ok(patterns) = entries
        .iter()
        .map(|e| pattern(e, check.namespace.as_deref()))
        .collect::<Result<Vec<_>, _>>()
    else {
        return false;
    };
    match &req.action {
        Action::NonResource { path } => covered(
            &patterns,
            &Atom::Url {
                verb: &req.verb,
                url: path,
            },
            &Scope::Everywhere,
        ),
        Action::Resource {
            resource,
            subresource,
            name,
            namespace,
        } => {
            let res = match subresource {
                Some(s) => format!("{}/{s}", resource.resource),
                None => resource.resource.clone(),
            };
            let scope = namespace
                .clone()
                .map_or(Scope::Everywhere, Scope::Namespace);
            covered(
                &patterns,
                &Atom::Resource {
                    verb: &req.verb,
                    group: &resource.group,
                    resource: &res,
                    name: name.as_deref(),
                },
                &scope,
            )
        }
    }
}

/// What one rule grants through one binding, as atoms; `None` when it
/// grants nothing there (a non-resource rule through a `RoleBinding`).
fn atoms<'a>(r: &'a EffectiveRule, b: &Bound) -> Option<(Vec<Atom<'a>>, Scope)> {
    let rule = &r.rule;
    if !rule.non_resource_urls.is_empty() {
        if b.namespace.is_some() {
            return None;
        }
        let mut out = Vec::new();
        for verb in &rule.verbs {
            for url in &rule.non_resource_urls {
                out.push(Atom::Url { verb, url });
            }
        }
        return Some((out, Scope::Everywhere));
    }
    let scope = b
        .namespace
        .clone()
        .map_or(Scope::Everywhere, Scope::Namespace);
    let names: Vec<Option<&str>> = if rule.resource_names.is_empty() {
        vec![None]
    } else {
        rule.resource_names
            .iter()
            .map(|n| Some(n.as_str()))
            .collect()
    };
    let mut out = Vec::new();
    for verb in &rule.verbs {
        for group in &rule.api_groups {
            for resource in &rule.resources {
                for name in &names {
                    out.push(Atom::Resource {
                        verb,
                        group,
                        resource,
                        name: *name,
                    });
                }
            }
        }
    }
    Some((out, scope))
}

/// `get, list on configmaps, secrets (every name) in namespace x`.
fn summary(atoms: &[Atom<'_>], scope: &Scope) -> String {
    let mut verbs = BTreeSet::new();
    let mut resources = BTreeSet::new();
    let mut names = BTreeSet::new();
    let mut every = false;
    let mut urls = BTreeSet::new();
    for a in atoms {
        match a {
            Atom::Resource {
                verb,
                group,
                resource,
                name,
            } => {
                verbs.insert(*verb);
                resources.insert(if group.is_empty() {
                    (*resource).to_owned()
                } else {
                    format!("{resource}.{group}")
                });
                match name {
                    Some(n) => {
                        names.insert(*n);
                    }
                    None => every = true,
                }
            }
            Atom::Url { verb, url } => {
                verbs.insert(*verb);
                urls.insert(*url);
            }
        }
    }
    let join = |s: &BTreeSet<&str>| s.iter().copied().collect::<Vec<_>>().join(", ");
    let verbs = join(&verbs);
    if !urls.is_empty() {
        return format!("{verbs} on {}", join(&urls));
    }
    let resources = resources.into_iter().collect::<Vec<_>>().join(", ");
    let which = if every {
        "every name".to_owned()
    } else {
        format!("named {}", join(&names))
    };
    format!("{verbs} on {resources} ({which}) {}", scope.describe())
}

/// The entries as one line, for messages.
pub(crate) fn entries_text(entries: &[Allowed]) -> String {
    if entries.is_empty() {
        return "nothing".to_owned();
    }
    entries
        .iter()
        .map(|e| {
            let mut s = format!("{} {}", e.verb, e.resource);
            if let Some(sub) = &e.subresource {
                let _ = write!(s, "/{sub}");
            }
            if let Some(n) = &e.name {
                let _ = write!(s, " named {n}");
            }
            if let Some(ns) = &e.namespace {
                let _ = write!(s, " in {ns}");
            }
            s
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A finding at the rule's place: the role's `rules[i]` when the rule is
/// written in a file, else the binding's `roleRef` (a built-in role bound
/// by the workspace), else the binding.
fn at_rule(mut f: Finding, b: &Bound, r: &EffectiveRule) -> Finding {
    if let Some(at) = &r.rule.at {
        f.object = Some(at.object.clone());
        f.source = Some(at.source.clone());
        f.doc = Some(at.doc);
        f.paths.push(at.path.clone());
    } else {
        at_binding(&mut f, b, "roleRef");
    }
    f
}

fn at_binding(f: &mut Finding, b: &Bound, path: &str) {
    f.object = Some(b.display.clone());
    if let Some(src) = &b.source {
        f.source = Some(src.clone());
        f.doc = Some(b.doc);
        f.paths.push(path.to_owned());
    }
}

/// Grades an `only` check against `policy`.
pub(crate) fn grade(check: &RbacCheck, policy: &Policy, notes: &[Note]) -> Verdict {
    let entries = check.only.as_deref().unwrap_or_default();
    let mut patterns = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        match pattern(e, check.namespace.as_deref()) {
            Ok(p) => patterns.push(p),
            Err(err) => {
                return Verdict::fail(format!(
                    "invalid RBAC check: only[{i}].{} {}",
                    err.path, err.problem
                ));
            }
        }
    }
    let (user, group) = match subject_of(&check.subject) {
        Ok(s) => s,
        Err(e) => return Verdict::fail(format!("invalid RBAC check: {e}")),
    };
    let req = Request {
        user,
        groups: group.map(str::to_owned).into_iter().collect(),
        verb: String::new(),
        action: Action::NonResource {
            path: String::new(),
        },
    };
    let implied = req.effective_groups();
    let allowed = entries_text(entries);
    let subject = &check.subject;

    let mut findings: Vec<Finding> = notes.iter().map(Note::to_finding).collect();
    let mut beyond = Vec::new();
    let mut within = Vec::new();
    let mut everyone = Vec::new();
    for b in &policy.bindings {
        let Some(via) = reaches(&b.subjects, &req) else {
            continue;
        };
        let everyones = b.builtin && via == Via::Implied;
        if everyones {
            let through = b
                .subjects
                .iter()
                .find_map(|s| match s {
                    Subject::Group { name } if implied.contains(name) => Some(name.as_str()),
                    _ => None,
                })
                .unwrap_or("system:authenticated");
            everyone.push(Finding::info(format!(
                "everyone has these (built-in, through group {through}; they do not count \
                 against `only`): {} -> {}",
                b.display, b.role
            )));
        }
        if b.role_missing {
            let mut f = Finding::error(format!(
                "{subject} is bound by {} to {}, which is neither among the objects nor a \
                 built-in role: what it grants cannot be checked against `only`",
                b.display, b.role
            ));
            at_binding(&mut f, b, "roleRef");
            beyond.push(f);
            continue;
        }
        for r in &b.rules {
            // A rule the workspace adds to a built-in role every identity
            // is bound to counts like any other.
            if everyones && r.rule.builtin {
                continue;
            }
            let Some((granted, scope)) = atoms(r, b) else {
                continue;
            };
            let outside: Vec<Atom<'_>> = granted
                .into_iter()
                .filter(|a| !covered(&patterns, a, &scope))
                .collect();
            let g = b.grant(r);
            if outside.is_empty() {
                within.push(Finding::info(format!("within `only`: {g}")));
            } else {
                beyond.push(at_rule(
                    Finding::error(format!(
                        "beyond `only`: {g}: grants {}",
                        summary(&outside, &scope)
                    )),
                    b,
                    r,
                ));
            }
        }
    }
    if beyond.is_empty() {
        findings.push(Finding::info(format!(
            "every grant of {subject} is within `only` ({allowed})"
        )));
    } else {
        findings.push(Finding::error(format!(
            "{subject} may do more than `only` allows ({allowed}): {} grant{} beyond it",
            beyond.len(),
            if beyond.len() == 1 { "" } else { "s" }
        )));
    }
    findings.extend(beyond);
    findings.extend(within);
    findings.extend(everyone);
    Verdict::from_findings(findings)
}
