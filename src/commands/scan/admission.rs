//! `seclab scan admission POLICY... --against MANIFEST... [--operation
//! create|update] [--user U --group G...] [--show-skipped] [--output
//! text|json]`: each object of the manifests, sent as an admission
//! request, through every admission policy of POLICY, evaluated by
//! `seclab_checkers::admission` as the API server (and Kyverno) would.
//!
//! Exit codes: 0 nothing rejected, 1 some request rejected or not
//! evaluable offline, 2 bad input (a file that does not parse, a policy or
//! binding the API server would refuse, at `path:line:col`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use seclab_checkers::admission::{
    Decision, Operation, Outcome, PolicySet, Request, Semantics, UserInfo, World,
};
use seclab_checkers::rbac::implied_groups;
use serde::Serialize;

use crate::cli::{AdmissionArgs, AdmissionOperation, Output};
use crate::error::{EXIT_FINDINGS, EXIT_OK, InputError, Outcome as Exit};
use crate::grade::Snapshot;
use crate::shell::manifests::load_paths;

/// The user a kind cluster's kubeconfig authenticates as.
pub const KIND_ADMIN: &str = "kubernetes-admin";

/// One (object, policy, binding) row of the JSON output.
#[derive(Debug, Serialize)]
pub struct Row {
    /// `"<Kind> ns/name"`.
    pub object: String,
    /// The manifest file and line of the object.
    pub source: Option<String>,
    /// The policy.
    pub policy: String,
    /// The binding (Kyverno: the rule); `null` for an implied binding.
    pub binding: Option<String>,
    /// `admit`, `reject`, `skip` or `error`.
    pub result: &'static str,
    /// The rejection message, the skip reason or the error.
    pub message: String,
    /// Warnings to the client (a Warn binding; Kyverno Audit).
    pub warnings: Vec<String>,
    /// The validations that did not pass: index and message.
    pub failures: Vec<FailureRow>,
}

/// One failed validation.
#[derive(Debug, Serialize)]
pub struct FailureRow {
    /// Index in the policy's validations (Kyverno: in the rule's
    /// `validate.cel.expressions`).
    pub validation: usize,
    /// The message.
    pub message: String,
}

fn located(snap: &Snapshot, source: Option<&str>, doc: usize, path: &str) -> InputError {
    let obj = snap
        .objects
        .iter()
        .find(|o| o.source.as_deref() == source && o.doc == doc);
    let pos = obj.and_then(|o| snap.position(o, path));
    InputError {
        path: source.unwrap_or_default().to_owned(),
        line: pos.as_ref().map(|p| p.line),
        col: pos.as_ref().map(|p| p.col),
        message: String::new(),
    }
}

/// The policies, refusing (exit 2) what the API server would refuse.
fn load_policies(args: &AdmissionArgs) -> Result<(Snapshot, PolicySet), InputError> {
    let snap = load_paths(&args.policies)?;
    let set = PolicySet::from_objects(&snap.objects);
    if let Some(p) = set.problems().first() {
        let mut e = located(
            &snap,
            p.origin.source.as_deref(),
            p.origin.doc,
            &p.problem.path,
        );
        e.message = format!(
            "{}: {}: {} (the API server would refuse it)",
            p.what, p.problem.path, p.problem.message
        );
        return Err(e);
    }
    if set.is_empty() {
        let where_ = args
            .policies
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        return Err(InputError::new(
            where_,
            "no ValidatingAdmissionPolicy and no Kyverno policy found",
        ));
    }
    if let Some(b) = set.orphan_bindings().first() {
        let (o, _) = set
            .bindings
            .iter()
            .find(|(_, x)| x.name == b.name)
            .expect("the orphan is in the set");
        let mut e = located(&snap, o.source.as_deref(), o.doc, "spec.policyName");
        e.message = format!(
            "ValidatingAdmissionPolicyBinding/{}: spec.policyName: no ValidatingAdmissionPolicy {:?} among the policies",
            b.name, b.policy_name
        );
        return Err(e);
    }
    Ok((snap, set))
}

fn user_of(args: &AdmissionArgs) -> UserInfo {
    let (username, mut groups) = match &args.user {
        Some(u) => (u.clone(), args.groups.clone()),
        None if args.groups.is_empty() => {
            (KIND_ADMIN.to_owned(), vec!["system:masters".to_owned()])
        }
        None => (KIND_ADMIN.to_owned(), args.groups.clone()),
    };
    for g in implied_groups(&username) {
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    UserInfo {
        username,
        groups,
        ..UserInfo::default()
    }
}

fn row(req: &Request, source: Option<String>, d: Decision) -> Row {
    Row {
        object: req.describe(),
        source,
        binding: (!d.implied && !d.binding.is_empty()).then_some(d.binding),
        policy: d.policy,
        result: d.outcome.as_str(),
        message: d.message,
        warnings: d.warnings,
        failures: d
            .failures
            .into_iter()
            .map(|f| FailureRow {
                validation: f.index,
                message: f.message,
            })
            .collect(),
    }
}

/// Every row for the objects of `targets`.
pub fn rows(
    set: &PolicySet,
    targets: &Snapshot,
    operation: Operation,
    user: &UserInfo,
) -> Result<Vec<Row>, InputError> {
    let mut world = World::default();
    // Namespaces and params may be in either set of files.
    world
        .params
        .extend(targets.objects.iter().map(|o| o.value.clone()));
    let namespaces = targets
        .objects
        .iter()
        .map(|o| &o.value)
        .chain(set.params.iter())
        .filter(|v| v.get("kind").and_then(serde_json::Value::as_str) == Some("Namespace"));
    for v in namespaces {
        let labels: BTreeMap<String, String> = v
            .pointer("/metadata/labels")
            .and_then(serde_json::Value::as_object)
            .map(|l| {
                l.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        let name = v
            .pointer("/metadata/name")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        world.namespaces.insert(name.to_owned(), labels);
    }
    let mut out = Vec::new();
    for o in &targets.objects {
        let old = (operation == Operation::Update).then(|| o.value.clone());
        let req =
            Request::for_object(operation, o.value.clone(), old, user.clone()).map_err(|e| {
                let mut err = located(targets, o.source.as_deref(), o.doc, "kind");
                err.message = e;
                err
            })?;
        let source = o.source.as_ref().map(|s| {
            targets
                .position(o, "kind")
                .map_or_else(|| s.clone(), |p| format!("{s}:{}", p.line))
        });
        for d in set.decide(&req, &world, Semantics::ApiServer) {
            out.push(row(&req, source.clone(), d));
        }
    }
    Ok(out)
}

/// The text rendering: one line per decision (skips only when asked),
/// each warning and failed validation indented under it.
pub fn render_text(rows: &[Row], show_skipped: bool) -> String {
    let mut s = String::new();
    for r in rows {
        if r.result == "skip" && !show_skipped {
            continue;
        }
        let by = match &r.binding {
            Some(b) => format!("{}/{b}", r.policy),
            None => r.policy.clone(),
        };
        let _ = write!(s, "{:<6} {} — {by}", r.result.to_uppercase(), r.object);
        if !r.message.is_empty() {
            let _ = write!(s, ": {}", r.message);
        }
        s.push('\n');
        for w in &r.warnings {
            let _ = writeln!(s, "       warning: {w}");
        }
        if r.warnings.is_empty() && (r.failures.len() > 1 || r.result != "reject") {
            for f in &r.failures {
                let _ = writeln!(s, "       validation {}: {}", f.validation, f.message);
            }
        }
    }
    s
}

/// `seclab scan admission`.
pub fn run(args: &AdmissionArgs) -> anyhow::Result<Exit> {
    let (_, set) = load_policies(args)?;
    let targets = load_paths(&args.against)?;
    let operation = match args.operation {
        AdmissionOperation::Create => Operation::Create,
        AdmissionOperation::Update => Operation::Update,
    };
    let rows = rows(&set, &targets, operation, &user_of(args))?;
    match args.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        Output::Text => print!("{}", render_text(&rows, args.show_skipped)),
    }
    for name in set.unbound() {
        eprintln!(
            "note: ValidatingAdmissionPolicy {name:?} has no binding: evaluated as if bound to everything with Deny (as the Kyverno CLI does); on a cluster it does nothing until a ValidatingAdmissionPolicyBinding names it"
        );
    }
    let count = |o: Outcome| rows.iter().filter(|r| r.result == o.as_str()).count();
    let (admit, reject, skip, error) = (
        count(Outcome::Admit),
        count(Outcome::Reject),
        count(Outcome::Skip),
        count(Outcome::Error),
    );
    if args.output == Output::Text {
        eprintln!(
            "{} objects: {admit} admitted, {reject} rejected, {skip} skipped, {error} not evaluable offline (pairs of object and policy binding)",
            targets.objects.len()
        );
    }
    Ok(Exit(if reject + error == 0 {
        EXIT_OK
    } else {
        EXIT_FINDINGS
    }))
}
