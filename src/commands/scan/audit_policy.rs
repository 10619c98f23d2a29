//! `seclab scan audit-policy POLICY --verb V (--resource R[.GROUP] | --path P)
//! [--user U [--group G]...] ...`: what an audit policy file (the one
//! kube-apiserver's `--audit-policy-file` names) records for one request —
//! the level, the omitted stages and the rule that decided, evaluated by
//! `seclab_checkers::audit` exactly as the API server does.
//!
//! The request is described as the API server's audit event records it:
//! without `--user` it is unauthenticated (`system:anonymous`, group
//! `system:unauthenticated`); with `--user` the groups are the `--group`s
//! plus those the API server adds (`system:authenticated`, and for a
//! service account `system:serviceaccounts` and
//! `system:serviceaccounts:<ns>`).
//!
//! Exit codes: 0 evaluated, 2 bad input (flags, or a policy file that does
//! not load, at `path:line:col`).

use std::fmt::Write as _;

use anyhow::{anyhow, bail};
use seclab_checkers::audit::{Evaluation, Policy, Request};
use seclab_checkers::rbac::{ResourceRef, implied_groups};
use serde_json::json;

use crate::cli::{AuditPolicyArgs, Output};
use crate::error::{EXIT_OK, InputError, Outcome};
use crate::yaml::{self, Document, Pos};

/// The user name the API server gives an unauthenticated request.
pub const ANONYMOUS: &str = "system:anonymous";

/// The request the flags describe, plus whether the resource's group was
/// inferred (`deployments` read as `deployments.apps`).
pub fn request_of(args: &AuditPolicyArgs) -> anyhow::Result<(Request, Option<String>)> {
    let (user, groups) = match &args.user {
        None => (ANONYMOUS.to_owned(), implied_groups(ANONYMOUS)),
        Some(u) if u.trim().is_empty() => bail!("--user: the user name is empty"),
        Some(u) => {
            let mut groups = args.groups.clone();
            for g in implied_groups(u) {
                if !groups.contains(&g) {
                    groups.push(g);
                }
            }
            (u.clone(), groups)
        }
    };
    let mut req = Request {
        user: Some(user),
        groups,
        verb: args.verb.trim().to_owned(),
        ..Request::default()
    };
    if req.verb.is_empty() {
        bail!("--verb: the verb is empty");
    }
    let mut note = None;
    match (&args.resource, &args.path) {
        (Some(resource), None) => {
            let resource = resource.trim();
            if resource.starts_with('/') {
                bail!("--resource {resource:?} is a URL: give a non-resource URL with --path");
            }
            let (base, sub) = match resource.split_once('/') {
                Some(_) if args.subresource.is_some() => bail!(
                    "--resource {resource:?}: give the subresource either after `/` or with --subresource, not both"
                ),
                Some((b, s)) => (b, Some(s.to_owned())),
                None => (resource, args.subresource.clone()),
            };
            if sub
                .as_deref()
                .is_some_and(|s| s.is_empty() || s.contains('/'))
            {
                bail!("--resource {resource:?}: the subresource must be one word, e.g. pods/log");
            }
            let (rref, inferred) = ResourceRef::parse(base)
                .map_err(|e| anyhow!("--resource {resource:?}: {}", e.problem))?;
            if inferred {
                note = Some(format!(
                    "note: resource `{base}` read as `{}.{}` (its API group)",
                    rref.resource, rref.group
                ));
            }
            req.resource_request = true;
            req.api_group = rref.group;
            req.resource = rref.resource;
            req.subresource = sub.unwrap_or_default();
            req.namespace = args.namespace.clone().unwrap_or_default();
            req.name = args.name.clone().unwrap_or_default();
        }
        (None, Some(path)) => {
            if !path.starts_with('/') {
                bail!("--path {path:?}: a non-resource URL starts with `/` (/healthz, /metrics)");
            }
            req.path.clone_from(path);
        }
        _ => bail!("give the request's --resource R[.GROUP] or a non-resource --path URL"),
    }
    Ok((req, note))
}

/// Where a problem at field `path` sits: the field (or its nearest
/// parent), else the document's first key.
fn position(doc: &Document, path: &str) -> Pos {
    doc.locate(path)
        .or_else(|| {
            doc.key_positions
                .values()
                .min_by_key(|p| (p.line, p.col))
                .copied()
        })
        .unwrap_or(Pos { line: 1, col: 1 })
}

fn located(file: &str, pos: Pos, message: String) -> InputError {
    InputError {
        path: file.to_owned(),
        line: Some(pos.line),
        col: Some(pos.col),
        message,
    }
}

/// Reads and loads the policy file; warnings (fields the API server
/// ignores) come back as located lines.
pub fn load_policy(file: &str, text: &str) -> Result<(Policy, Vec<String>), InputError> {
    let docs = yaml::parse_documents(file, text)?;
    let doc = match docs.as_slice() {
        [doc] => doc,
        [] => {
            return Err(located(
                file,
                Pos { line: 1, col: 1 },
                "no policy in the file: expected one audit.k8s.io/v1 Policy".to_owned(),
            ));
        }
        [_, second, ..] => {
            return Err(located(
                file,
                position(second, ""),
                format!(
                    "{} documents: a policy file holds one audit.k8s.io/v1 Policy",
                    docs.len()
                ),
            ));
        }
    };
    let policy = Policy::parse(&doc.value)
        .map_err(|e| located(file, position(doc, e.path()), e.to_string()))?;
    let warnings = policy
        .unknown_fields
        .iter()
        .map(|f| {
            let p = doc.locate_key(f).unwrap_or(Pos { line: 1, col: 1 });
            format!(
                "warning: {file}:{}:{}: unknown field {f} (the API server ignores it)",
                p.line, p.col
            )
        })
        .collect();
    Ok((policy, warnings))
}

fn describe(req: &Request) -> String {
    let mut s = format!(
        "{} (groups {})",
        req.user.as_deref().unwrap_or("<none>"),
        req.groups.join(", ")
    );
    let _ = write!(s, ": {}", req.verb);
    if req.resource_request {
        let _ = write!(s, " {}", req.resource);
        if !req.api_group.is_empty() {
            let _ = write!(s, ".{}", req.api_group);
        }
        if !req.subresource.is_empty() {
            let _ = write!(s, "/{}", req.subresource);
        }
        if !req.name.is_empty() {
            let _ = write!(s, " {:?}", req.name);
        }
        if req.namespace.is_empty() {
            s.push_str(" (cluster-scoped)");
        } else {
            let _ = write!(s, " in namespace {}", req.namespace);
        }
    } else {
        let _ = write!(s, " {}", req.path);
    }
    s
}

/// The text rendering of an evaluation.
pub fn render_text(req: &Request, e: &Evaluation) -> String {
    let stages = if e.omit_stages.is_empty() {
        "none".to_owned()
    } else {
        e.omit_stages
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let rule = match e.rule {
        Some(i) => format!("rules[{i}]"),
        None => "no rule matched (the default level None)".to_owned(),
    };
    format!(
        "request: {}\nlevel: {}\nomit stages: {stages}\nrule: {rule}\nomit managed fields: {}\n",
        describe(req),
        e.level,
        e.omit_managed_fields
    )
}

/// The JSON rendering: `{"level", "omit_stages", "rule"}`.
pub fn render_json(e: &Evaluation) -> serde_json::Value {
    json!({
        "level": e.level,
        "omit_stages": e.omit_stages,
        "rule": e.rule,
    })
}

/// `seclab scan audit-policy`.
pub fn run(args: &AuditPolicyArgs) -> anyhow::Result<Outcome> {
    // Flags are checked before the file is read.
    let (req, note) = request_of(args)?;
    let file = args.policy.display().to_string();
    let text = std::fs::read_to_string(&args.policy)
        .map_err(|e| InputError::new(file.clone(), format!("cannot read: {e}")))?;
    let (policy, warnings) = load_policy(&file, &text)?;
    if let Some(n) = note {
        eprintln!("{n}");
    }
    for w in warnings {
        eprintln!("{w}");
    }
    let e = policy.evaluate(&req);
    match args.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&render_json(&e))?),
        Output::Text => print!("{}", render_text(&req, &e)),
    }
    Ok(Outcome(EXIT_OK))
}
