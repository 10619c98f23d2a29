//! `seclab scan rbac PATH...`: RBAC questions over manifests, answered by
//! the pure authorizer in `seclab_checkers::rbac`.
//!
//! - can-i (default): `--as SUBJECT --verb V --resource R[.GROUP]` — like
//!   `kubectl auth can-i`; exit 0 allowed, 1 denied.
//! - `--who-can --verb V --resource R`: every subject allowed, through the
//!   manifests' bindings and then through the built-in ones; exit 0.
//! - `--risky`: subjects of the manifests' bindings holding the usual
//!   privilege-escalation paths; exit 1 when any, 0 when none.
//!
//! The default policy every cluster has (`cluster-admin`, `admin`, `edit`,
//! `view`, the `system:` roles and bindings) counts in every answer. A group
//! the API server fills by itself (`system:authenticated`,
//! `system:serviceaccounts[:<ns>]`) is shown with who it covers and the
//! service accounts of the manifests it covers. Every answer names its
//! grants (binding, role, aggregated-from, rule). A malformed object is an
//! input error at its `file:line:col` (exit 2).

use std::collections::BTreeMap;

use anyhow::{Context as _, anyhow, bail};
use seclab_checkers::KubeObject;
use seclab_checkers::rbac::{
    Grant, Note, Policy, RbacError, Request, ResourceRef, Risk, SA_PREFIX, Subject,
    service_account_of,
};
use serde_json::json;

use crate::cli::{Output, RbacArgs};
use crate::error::{EXIT_FINDINGS, EXIT_OK, InputError, Outcome};
use crate::grade::Snapshot;
use crate::shell::manifests::load_paths;

/// What a question is about: a resource (with subresource) or a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Resource {
        resource: ResourceRef,
        subresource: Option<String>,
    },
    Url(String),
}

/// Runs `seclab scan rbac`.
pub fn run(args: &RbacArgs) -> anyhow::Result<Outcome> {
    // Flags are checked before any file is read.
    let question = if args.risky {
        None
    } else {
        let verb = args.verb.as_deref().context("--verb is required")?;
        let resource = args.resource.as_deref().context("--resource is required")?;
        let (target, inferred) = parse_target(resource, args.subresource.as_deref())?;
        if args.who_can && matches!(target, Target::Url(_)) {
            bail!("--who-can asks about a resource, not a URL");
        }
        if inferred && let Target::Resource { resource: r, .. } = &target {
            eprintln!(
                "note: resource `{resource}` read as `{}` (its API group)",
                r.display()
            );
        }
        Some((verb, target))
    };
    if let Some(subject) = &args.as_subject {
        check_subject(subject)?;
    }
    let snap = load_paths(&args.paths)?;
    let (policy, notes) =
        Policy::from_objects(&snap.objects).map_err(|e| locate_error(&snap, &e))?;
    for n in &notes {
        eprintln!("warning: {}", note_text(&snap, n));
    }
    match question {
        None => Ok(risky(&policy, args.output)),
        Some((verb, target)) if args.who_can => {
            let Target::Resource {
                resource,
                subresource,
            } = target
            else {
                bail!("--who-can asks about a resource, not a URL");
            };
            Ok(who_can(
                &policy,
                verb,
                &resource,
                subresource.as_deref(),
                args.namespace.as_deref(),
                args.output,
            ))
        }
        Some((verb, target)) => {
            let subject = args
                .as_subject
                .as_deref()
                .context("--as SUBJECT is required (or --who-can, or --risky)")?;
            let mut req = match target {
                Target::Url(path) => {
                    if args.namespace.is_some() {
                        bail!("a non-resource URL has no namespace; leave out -n");
                    }
                    Request::non_resource(subject, verb, &path)
                }
                Target::Resource {
                    resource,
                    subresource,
                } => {
                    let mut r =
                        Request::resource(subject, verb, resource, args.namespace.as_deref());
                    if let Some(s) = &subresource {
                        r = r.with_subresource(s);
                    }
                    if let Some(n) = &args.name {
                        r = r.with_name(n);
                    }
                    r
                }
            };
            for g in &args.as_group {
                req = req.with_group(g);
            }
            Ok(can_i(&policy, &req, args.output))
        }
    }
}

/// `R[.GROUP]`, `R[.GROUP]/SUB` or `/url`, plus whether the group was
/// inferred.
fn parse_target(resource: &str, subresource: Option<&str>) -> anyhow::Result<(Target, bool)> {
    let resource = resource.trim();
    if resource.starts_with('/') {
        if subresource.is_some() {
            bail!("--subresource does not go with a non-resource URL");
        }
        return Ok((Target::Url(resource.to_owned()), false));
    }
    let (base, sub) = match resource.split_once('/') {
        Some((_, _)) if subresource.is_some() => {
            bail!(
                "--resource {resource:?}: give the subresource either after `/` or with --subresource, not both"
            )
        }
        Some((b, s)) => (b, Some(s)),
        None => (resource, subresource),
    };
    if sub.is_some_and(|s| s.is_empty() || s.contains('/')) {
        bail!("--resource {resource:?}: the subresource must be one word, e.g. pods/exec");
    }
    let (rref, inferred) =
        ResourceRef::parse(base).map_err(|e| anyhow!("--resource {resource:?}: {}", e.problem))?;
    Ok((
        Target::Resource {
            resource: rref,
            subresource: sub.map(str::to_owned),
        },
        inferred,
    ))
}

/// A subject that claims to be a service account must be a well-formed
/// one, or it silently matches nothing.
fn check_subject(subject: &str) -> anyhow::Result<()> {
    if subject.trim().is_empty() {
        bail!("--as: the subject is empty");
    }
    if subject.starts_with(SA_PREFIX) && service_account_of(subject).is_none() {
        bail!("--as {subject:?}: a service account is written {SA_PREFIX}<namespace>:<name>");
    }
    Ok(())
}

/// The object a message names (`Kind/name` or `Kind ns/name`) among the
/// objects from `file`.
fn find_object<'a>(snap: &'a Snapshot, file: Option<&str>, object: &str) -> Option<&'a KubeObject> {
    let kind = object.split([' ', '/']).next()?;
    let name = object.rsplit('/').next()?;
    let candidates = snap
        .objects
        .iter()
        .filter(|o| file.is_none_or(|f| o.source.as_deref() == Some(f)));
    let mut fallback = None;
    for o in candidates {
        if o.display_name() == object {
            return Some(o);
        }
        if fallback.is_none() && o.kind() == kind && o.name() == name {
            fallback = Some(o);
        }
    }
    fallback
}

/// An RBAC error as `file:line:col: Kind ns/name: path problem`.
fn locate_error(snap: &Snapshot, e: &RbacError) -> InputError {
    let file = e.file.clone().unwrap_or_else(|| "<input>".to_owned());
    let mut err = InputError::new(file, e.to_string());
    if let Some(pos) =
        find_object(snap, e.file.as_deref(), &e.object).and_then(|o| snap.position(o, &e.path))
    {
        err.line = Some(pos.line);
        err.col = Some(pos.col);
    }
    err
}

/// A note with its place: `file:line:col: Kind ns/name: message`.
fn note_text(snap: &Snapshot, n: &Note) -> String {
    let text = format!("{}: {}", n.object, n.message);
    let Some(file) = &n.source else {
        return text;
    };
    let mut err = InputError::new(file.clone(), text);
    if let Some(pos) =
        find_object(snap, Some(file), &n.object).and_then(|o| snap.position(o, &n.path))
    {
        err.line = Some(pos.line);
        err.col = Some(pos.col);
    }
    err.to_string()
}

fn print_json(v: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
    );
}

/// can-i: `yes`/`no` and the grants; exit 0 allowed, 1 denied.
fn can_i(policy: &Policy, req: &Request, output: Output) -> Outcome {
    let decision = policy.can(req);
    match output {
        Output::Json => print_json(&json!(decision)),
        Output::Text => {
            println!("{}", if decision.allowed { "yes" } else { "no" });
            for g in &decision.because {
                println!("  because {g}");
            }
        }
    }
    Outcome(if decision.allowed {
        EXIT_OK
    } else {
        EXIT_FINDINGS
    })
}

/// `Subject` and, for a group the API server fills by itself, who it
/// covers and the members seen: `Group system:serviceaccounts:app (every
/// service account in namespace app; seen: ServiceAccount app/web)`.
fn subject_line(policy: &Policy, s: &Subject) -> String {
    let Some(covers) = Policy::covers(s) else {
        return s.to_string();
    };
    let members = policy.members(s);
    if members.is_empty() {
        format!("{s} ({covers})")
    } else {
        let seen: Vec<String> = members.iter().map(ToString::to_string).collect();
        format!("{s} ({covers}; seen: {})", seen.join(", "))
    }
}

/// A subject with its grants, as JSON, with `covers` and `members` for the
/// implied groups.
fn subject_json(policy: &Policy, s: &Subject, because: &[Grant]) -> serde_json::Value {
    let mut v = json!({"subject": s, "because": because});
    if let Some(c) = Policy::covers(s) {
        v["covers"] = json!(c);
        v["members"] = json!(policy.members(s));
    }
    v
}

/// who-can: every subject allowed, with the grants — first through the
/// manifests' bindings, then through the built-in bindings every cluster
/// has; exit 0.
fn who_can(
    policy: &Policy,
    verb: &str,
    resource: &ResourceRef,
    subresource: Option<&str>,
    namespace: Option<&str>,
    output: Output,
) -> Outcome {
    let mut manifests: Vec<(Subject, Vec<Grant>)> = Vec::new();
    let mut builtin: Vec<(Subject, Vec<Grant>)> = Vec::new();
    for (s, grants) in policy.who_can(verb, resource, subresource, namespace) {
        let (b, m): (Vec<Grant>, Vec<Grant>) = grants.into_iter().partition(|g| g.builtin_binding);
        if !m.is_empty() {
            manifests.push((s.clone(), m));
        }
        if !b.is_empty() {
            builtin.push((s, b));
        }
    }
    match output {
        Output::Json => {
            let list = |xs: &[(Subject, Vec<Grant>)]| -> Vec<serde_json::Value> {
                xs.iter().map(|(s, g)| subject_json(policy, s, g)).collect()
            };
            print_json(&json!({ "subjects": list(&manifests), "builtin": list(&builtin) }));
        }
        Output::Text => {
            if manifests.is_empty() {
                let sub = subresource.map(|s| format!("/{s}")).unwrap_or_default();
                let place = namespace.map_or_else(
                    || "cluster-wide".to_owned(),
                    |ns| format!("in namespace {ns}"),
                );
                println!(
                    "no subject of the manifests' bindings may {verb} {}{sub} {place}",
                    resource.display()
                );
            }
            let print = |xs: &[(Subject, Vec<Grant>)]| {
                for (s, because) in xs {
                    println!("{}", subject_line(policy, s));
                    for g in because {
                        println!("  because {g}");
                    }
                }
            };
            print(&manifests);
            if !builtin.is_empty() {
                println!("through the built-in bindings every cluster has:");
                print(&builtin);
            }
        }
    }
    Outcome(EXIT_OK)
}

/// risky: subjects with dangerous permissions; exit 1 when any.
fn risky(policy: &Policy, output: Output) -> Outcome {
    let risks = policy.risky();
    match output {
        Output::Json => print_json(&json!({ "risks": risks })),
        Output::Text => {
            if risks.is_empty() {
                println!("no subject holds a risky permission");
            }
            let mut by_subject: BTreeMap<&Subject, Vec<&Risk>> = BTreeMap::new();
            for r in &risks {
                by_subject.entry(&r.subject).or_default().push(r);
            }
            for (s, list) in by_subject {
                println!("{}", subject_line(policy, s));
                for r in list {
                    let what = serde_json::to_value(r.what)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    println!("  {what}: {}", r.why);
                    for g in &r.because {
                        println!("    because {g}");
                    }
                }
            }
        }
    }
    Outcome(if risks.is_empty() {
        EXIT_OK
    } else {
        EXIT_FINDINGS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_like_kubectl() {
        let (t, inferred) = parse_target("deployments", None).expect("ok");
        assert!(inferred);
        assert!(
            matches!(t, Target::Resource { resource, subresource: None } if resource.group == "apps")
        );
        let (t, _) = parse_target("pods/exec", None).expect("ok");
        assert!(matches!(t, Target::Resource { subresource: Some(s), .. } if s == "exec"));
        let (t, _) = parse_target("pods", Some("log")).expect("ok");
        assert!(matches!(t, Target::Resource { subresource: Some(s), .. } if s == "log"));
        assert_eq!(
            parse_target("/healthz", None).expect("ok").0,
            Target::Url("/healthz".into())
        );
        assert!(parse_target("pods/exec", Some("log")).is_err());
        assert!(parse_target("pods/", None).is_err());
        assert!(parse_target("", None).is_err());
        assert!(parse_target("/healthz", Some("x")).is_err());
    }

    #[test]
    fn service_account_subjects_must_be_well_formed() {
        assert!(check_subject("alice").is_ok());
        assert!(check_subject("system:serviceaccount:ns:web").is_ok());
        assert!(check_subject("system:serviceaccount:web").is_err());
        assert!(check_subject(" ").is_err());
    }
}
