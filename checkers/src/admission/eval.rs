//! Evaluating a ValidatingAdmissionPolicy and its bindings for one request,
//! in the order the API server's validating admission plugin does: the
//! policy's `matchConstraints`, each binding's `matchResources`, the
//! binding's params, `matchConditions`, `variables`, `validations`, and
//! the binding's `validationActions`.

use std::collections::BTreeMap;

use kube_cel::cel::{Context, Value as Cel};
use serde_json::Value;

use super::expr::{self, Compiled};
use super::policy::{Action, Binding, FailurePolicy, MatchResources, Rule, Vap};
use super::request::Request;
use crate::netpol::selector::Labels;

/// Whose semantics to follow where the API server and the Kyverno CLI
/// (`kyverno apply` / `kyverno test`) differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Semantics {
    /// The API server's: a policy the API would refuse is an error; every
    /// matching binding is evaluated; the policy's `matchConstraints`
    /// always apply.
    #[default]
    ApiServer,
    /// The Kyverno CLI's: structural problems of the policy are not
    /// checked; with bindings, only the first binding whose
    /// `matchResources` match is evaluated and the policy's
    /// `matchConstraints` are not consulted; a binding without
    /// `validationActions` denies.
    KyvernoCli,
}

/// What the cluster around the request holds.
#[derive(Debug, Clone, Default)]
pub struct World {
    /// Labels of the namespaces (by name); a namespace not listed has none.
    pub namespaces: BTreeMap<String, Labels>,
    /// Objects that a binding's `paramRef` may name.
    pub params: Vec<Value>,
}

/// The outcome for one (policy, binding) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Admitted (perhaps with warnings).
    Admit,
    /// Rejected.
    Reject,
    /// Not selected: the constraints, the binding's match or a match
    /// condition left the request out.
    Skip,
    /// The policy or binding cannot be evaluated (the API would refuse
    /// it, or it needs what only a cluster has).
    Error,
}

impl Outcome {
    /// `admit`, `reject`, `skip`, `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admit => "admit",
            Self::Reject => "reject",
            Self::Skip => "skip",
            Self::Error => "error",
        }
    }
}

/// One validation that did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Index in `spec.validations`.
    pub index: usize,
    /// The message (messageExpression, message, or the expression).
    pub message: String,
    /// Whether it failed by an evaluation error rather than by `false`.
    pub error: bool,
}

/// The decision for one (policy, binding) pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The policy's name.
    pub policy: String,
    /// The binding's name (`""` for an implied binding).
    pub binding: String,
    /// Whether the binding was implied (the policy has none).
    pub implied: bool,
    /// The outcome.
    pub outcome: Outcome,
    /// Why: the rejection message, the skip reason or the error.
    pub message: String,
    /// Warnings returned to the client (`Warn`).
    pub warnings: Vec<String>,
    /// Audit annotations (`Audit`).
    pub audit: Vec<String>,
    /// The validations that did not pass.
    pub failures: Vec<Failure>,
    /// An error because only a live cluster can decide (the authorizer, a
    /// Kyverno rule that is not `validate.cel`): graded live, skipped
    /// offline.
    pub live_only: bool,
}

fn rule_matches(rule: &Rule, req: &Request) -> bool {
    let any = |list: &[String], want: &str| list.iter().any(|x| x == "*" || x == want);
    let namespaced = !req.namespace.is_empty();
    let scope = match rule.scope.as_str() {
        "Cluster" => !namespaced,
        "Namespaced" => namespaced,
        _ => true,
    };
    let resource = rule.resources.iter().any(|r| {
        let (res, sub) = r.split_once('/').unwrap_or((r, ""));
        (res == "*" || res == req.resource.name) && (sub == "*" || sub == req.sub_resource)
    });
    scope
        && any(&rule.operations, req.operation.as_str())
        && any(&rule.api_groups, &req.resource.group)
        && any(&rule.api_versions, &req.resource.version)
        && resource
        && (rule.resource_names.is_empty() || rule.resource_names.contains(&req.name))
}

/// Why the request is outside `m`, or None when `m` selects it.
fn unmatched(m: &MatchResources, req: &Request, world: &World, what: &str) -> Option<String> {
    if !m.namespace_selector.is_empty() {
        let labels = if req.resource.name == "namespaces" && req.resource.group.is_empty() {
            Some(req.labels(req.object.is_null()))
        } else if req.namespace.is_empty() {
            None
        } else {
            Some(
                world
                    .namespaces
                    .get(&req.namespace)
                    .cloned()
                    .unwrap_or_default(),
            )
        };
        if let Some(labels) = labels
            && !m.namespace_selector.matches(&labels)
        {
            return Some(format!(
                "{what}: the namespaceSelector does not select namespace {:?}",
                req.namespace
            ));
        }
    }
    if !m.object_selector.is_empty()
        && !m.object_selector.matches(&req.labels(false))
        && !m.object_selector.matches(&req.labels(true))
    {
        return Some(format!(
            "{what}: the objectSelector does not select the object's labels"
        ));
    }
    if m.exclude_resource_rules
        .iter()
        .any(|r| rule_matches(r, req))
    {
        return Some(format!("{what}: excluded by excludeResourceRules"));
    }
    if !m.resource_rules.is_empty() && !m.resource_rules.iter().any(|r| rule_matches(r, req)) {
        return Some(format!(
            "{what}: no resourceRule matches {} of {}{}",
            req.operation.as_str(),
            req.resource.name,
            if req.sub_resource.is_empty() {
                String::new()
            } else {
                format!("/{}", req.sub_resource)
            }
        ));
    }
    None
}

fn meta<'v>(v: &'v Value, field: &str) -> &'v str {
    v.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The param objects a binding names, or why there are none.
fn params<'w>(
    policy: &Vap,
    binding: &Binding,
    req: &Request,
    world: &'w World,
) -> Result<Vec<&'w Value>, String> {
    let Some((api_version, kind)) = &policy.param_kind else {
        return Ok(Vec::new());
    };
    let Some(pr) = &binding.param_ref else {
        return Err(format!(
            "the policy has paramKind {kind} but binding {:?} has no paramRef",
            binding.name
        ));
    };
    let namespace = pr
        .namespace
        .clone()
        .unwrap_or_else(|| req.namespace.clone());
    let found: Vec<&Value> = world
        .params
        .iter()
        .filter(|p| {
            p.get("apiVersion").and_then(Value::as_str) == Some(api_version)
                && p.get("kind").and_then(Value::as_str) == Some(kind)
                && meta(p, "namespace") == namespace
                && match (&pr.name, &pr.selector) {
                    (Some(n), _) => meta(p, "name") == n,
                    (None, Some(sel)) => {
                        let labels = p
                            .get("metadata")
                            .and_then(|m| m.get("labels"))
                            .and_then(Value::as_object)
                            .map(|l| {
                                l.iter()
                                    .filter_map(|(k, v)| {
                                        v.as_str().map(|v| (k.clone(), v.to_owned()))
                                    })
                                    .collect()
                            })
                            .unwrap_or_default();
                        sel.matches(&labels)
                    }
                    (None, None) => false,
                }
        })
        .collect();
    Ok(found)
}

/// Evaluates a compiled expression that must give a bool.
fn truth(c: &Compiled, ctx: &Context<'_>) -> Result<bool, String> {
    match c.eval(ctx)? {
        Cel::Bool(b) => Ok(b),
        other => Err(format!(
            "must evaluate to bool, got {}",
            expr::type_name(&other)
        )),
    }
}

/// The message of a failed validation, as the API server forms it.
fn message_of(v: &super::policy::Validation, ctx: &Context<'_>) -> String {
    if let Some(me) = &v.message_expr
        && let Ok(Cel::String(s)) = me.eval(ctx)
        && !s.trim().is_empty()
        && !s.contains('\n')
    {
        return s.trim().to_owned();
    }
    match &v.message {
        Some(m) if !m.trim().is_empty() => m.clone(),
        _ => format!("failed expression: {}", v.source.trim()),
    }
}

fn decision(policy: &Vap, binding: &Binding, outcome: Outcome, message: String) -> Decision {
    Decision {
        policy: policy.name.clone(),
        binding: binding.name.clone(),
        implied: binding.implied,
        outcome,
        message,
        warnings: Vec::new(),
        audit: Vec::new(),
        failures: Vec::new(),
        live_only: false,
    }
}

/// The decision of one binding with one param object (or none).
pub(crate) fn run(
    policy: &Vap,
    binding: &Binding,
    req: &Request,
    param: Option<&Value>,
    world: &World,
) -> Decision {
    let mut ctx = expr::context();
    expr::bind(&mut ctx, "object", &req.object);
    expr::bind(&mut ctx, "oldObject", &req.old_object);
    expr::bind(&mut ctx, "request", &req.cel_request());
    expr::bind(&mut ctx, "params", param.unwrap_or(&Value::Null));
    let ns = if req.namespace.is_empty() {
        Value::Null
    } else {
        let labels = world
            .namespaces
            .get(&req.namespace)
            .cloned()
            .unwrap_or_default();
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": req.namespace, "labels": labels}})
    };
    expr::bind(&mut ctx, "namespaceObject", &ns);
    let fail = policy.failure_policy == FailurePolicy::Fail;

    // matchConditions: any false skips; an error counts only if none is false.
    let mut condition_error = None;
    for mc in &policy.match_conditions {
        let Some(c) = &mc.expr else { continue };
        match truth(c, &ctx) {
            Ok(true) => {}
            Ok(false) => {
                return decision(
                    policy,
                    binding,
                    Outcome::Skip,
                    format!("matchCondition {:?} is false", mc.name),
                );
            }
            Err(e) => {
                condition_error.get_or_insert(format!("matchCondition {:?}: {e}", mc.name));
            }
        }
    }
    if let Some(e) = condition_error {
        return if fail {
            decision(policy, binding, Outcome::Reject, e)
        } else {
            decision(
                policy,
                binding,
                Outcome::Skip,
                format!("{e} (failurePolicy Ignore)"),
            )
        };
    }

    // variables: each sees the ones before; one that errors is left out,
    // and a validation that reads it gets its error.
    let mut var_errors: BTreeMap<&str, String> = BTreeMap::new();
    let mut var_values: Vec<(String, Cel)> = Vec::new();
    for v in &policy.variables {
        let Some(c) = &v.expr else { continue };
        let mut inner = ctx.new_inner_scope();
        inner.add_variable_from_value("variables", variables_map(&var_values));
        match c.eval(&inner) {
            Ok(val) => var_values.push((v.name.clone(), val)),
            Err(e) => {
                var_errors.insert(&v.name, e);
            }
        }
    }
    ctx.add_variable_from_value("variables", variables_map(&var_values));

    let mut d = decision(policy, binding, Outcome::Admit, String::new());
    for (index, v) in policy.validations.iter().enumerate() {
        let Some(c) = &v.expr else { continue };
        let failure = match truth(c, &ctx) {
            Ok(true) => continue,
            Ok(false) => Failure {
                index,
                message: message_of(v, &ctx),
                error: false,
            },
            Err(e) => {
                if !fail {
                    continue;
                }
                let e = var_errors
                    .iter()
                    .find(|(name, _)| e == format!("no such key: {name}"))
                    .map_or(e.clone(), |(name, ve)| {
                        format!("variable {name:?} resulted in error: {ve}")
                    });
                Failure {
                    index,
                    message: format!("expression '{}' resulted in error: {e}", v.source.trim()),
                    error: true,
                }
            }
        };
        d.failures.push(failure);
    }
    let who = who_of(policy, binding);
    for f in &d.failures {
        for a in &binding.actions {
            match a {
                Action::Deny => {
                    if d.outcome != Outcome::Reject {
                        d.outcome = Outcome::Reject;
                        d.message = format!("{who} denied request: {}", f.message);
                    }
                }
                Action::Warn => d
                    .warnings
                    .push(format!("Validation failed for {who}: {}", f.message)),
                Action::Audit => d.audit.push(format!(
                    "validation.policy.admission.k8s.io/validation_failure: {who}: {}",
                    f.message
                )),
            }
        }
    }
    d
}

/// Who decided, as the API server names it in messages.
fn who_of(policy: &Vap, binding: &Binding) -> String {
    if let Some(rule) = binding.name.strip_prefix(KYVERNO_RULE) {
        format!("ClusterPolicy '{}' rule '{rule}'", policy.name)
    } else if binding.implied {
        format!("ValidatingAdmissionPolicy '{}'", policy.name)
    } else {
        format!(
            "ValidatingAdmissionPolicy '{}' with binding '{}'",
            policy.name, binding.name
        )
    }
}

/// The prefix of the stand-in binding's name for a Kyverno rule.
pub(crate) const KYVERNO_RULE: &str = "kyverno-rule:";

fn variables_map(values: &[(String, Cel)]) -> Cel {
    let map: std::collections::HashMap<kube_cel::cel::objects::Key, Cel> = values
        .iter()
        .map(|(k, v)| {
            (
                kube_cel::cel::objects::Key::String(std::sync::Arc::new(k.clone())),
                v.clone(),
            )
        })
        .collect();
    Cel::Map(kube_cel::cel::objects::Map {
        map: std::sync::Arc::new(map),
    })
}

/// Evaluates one policy with its bindings (those whose `policyName` is
/// the policy's) for one request. No binding: the Kyverno CLI's implied
/// one (everything, Deny), marked `implied`. One decision per binding.
pub fn evaluate(
    policy: &Vap,
    bindings: &[&Binding],
    req: &Request,
    world: &World,
    semantics: Semantics,
) -> Vec<Decision> {
    let implied;
    let bindings: Vec<&Binding> = if bindings.is_empty() {
        implied = Binding::implied(&policy.name);
        vec![&implied]
    } else {
        bindings.to_vec()
    };
    let problems: Vec<String> = policy
        .problems
        .iter()
        .filter(|p| semantics == Semantics::ApiServer || !p.structural)
        .map(|p| format!("{}: {}", p.path, p.message))
        .collect();
    if !problems.is_empty() {
        return bindings
            .iter()
            .map(|b| {
                decision(
                    policy,
                    b,
                    Outcome::Error,
                    format!(
                        "the API server refuses this policy: {}",
                        problems.join("; ")
                    ),
                )
            })
            .collect();
    }
    if policy.uses_authorizer {
        return bindings
            .iter()
            .map(|b| Decision {
                live_only: true,
                ..decision(
                    policy,
                    b,
                    Outcome::Error,
                    "the policy asks the authorizer, which only a live API server can answer"
                        .into(),
                )
            })
            .collect();
    }
    let kyverno_bound = semantics == Semantics::KyvernoCli && !bindings[0].implied;
    if !kyverno_bound
        && let Some(why) = unmatched(&policy.match_constraints, req, world, "matchConstraints")
    {
        return bindings
            .iter()
            .map(|b| decision(policy, b, Outcome::Skip, why.clone()))
            .collect();
    }
    let mut out = Vec::new();
    for b in bindings {
        let problems: Vec<String> = b
            .problems
            .iter()
            .filter(|_| semantics == Semantics::ApiServer)
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect();
        if !problems.is_empty() {
            out.push(decision(
                policy,
                b,
                Outcome::Error,
                format!(
                    "the API server refuses binding {:?}: {}",
                    b.name,
                    problems.join("; ")
                ),
            ));
            continue;
        }
        // The Kyverno CLI denies on a failed validation whatever the
        // binding's actions; a binding with none (which the API would
        // refuse) is read as Deny.
        let defaulted;
        let b = if semantics == Semantics::KyvernoCli && b.actions.is_empty() {
            defaulted = Binding {
                actions: vec![Action::Deny],
                ..b.clone()
            };
            &defaulted
        } else {
            b
        };
        if let Some(m) = &b.match_resources
            && let Some(why) = unmatched(m, req, world, "the binding's matchResources")
        {
            out.push(decision(policy, b, Outcome::Skip, why));
            continue;
        }
        match params(policy, b, req, world) {
            Err(e) => out.push(decision(policy, b, Outcome::Error, e)),
            Ok(found) if found.is_empty() && policy.param_kind.is_some() => {
                let pr = b.param_ref.as_ref();
                if pr.is_some_and(|p| p.allow_not_found) {
                    out.push(decision(
                        policy,
                        b,
                        Outcome::Admit,
                        "no params found; parameterNotFoundAction Allow".into(),
                    ));
                } else {
                    out.push(decision(
                        policy,
                        b,
                        Outcome::Reject,
                        "no params found for policy binding with `Deny` parameterNotFoundAction"
                            .into(),
                    ));
                }
            }
            Ok(found) if found.is_empty() => out.push(run(policy, b, req, None, world)),
            Ok(found) => {
                // Each param object is evaluated; the request must pass all.
                let mut merged: Option<Decision> = None;
                for p in found {
                    let d = run(policy, b, req, Some(p), world);
                    merged = Some(match merged {
                        None => d,
                        Some(mut m) => {
                            if m.outcome != Outcome::Reject && d.outcome == Outcome::Reject {
                                m.outcome = d.outcome;
                                m.message.clone_from(&d.message);
                            }
                            m.warnings.extend(d.warnings);
                            m.audit.extend(d.audit);
                            m.failures.extend(d.failures);
                            m
                        }
                    });
                }
                out.extend(merged);
            }
        }
        if semantics == Semantics::KyvernoCli
            && out.last().is_some_and(|d| d.outcome != Outcome::Skip)
        {
            break;
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::needless_pass_by_value)] // literals handed to the helpers
mod tests {
    use super::{Outcome, Semantics, World, evaluate};
    use crate::admission::{Binding, Operation, Request, UserInfo, Vap};
    use serde_json::{Value, json};

    fn policy(spec: Value) -> Vap {
        Vap::parse(&json!({"apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy", "metadata": {"name": "p"}, "spec": spec}))
    }

    fn binding(spec: Value) -> Binding {
        let mut spec = spec;
        spec["policyName"] = json!("p");
        Binding::parse(&json!({"apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding", "metadata": {"name": "b"}, "spec": spec}))
    }

    fn pods() -> Value {
        json!({"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
            "operations": ["CREATE", "UPDATE"], "resources": ["pods"]}]})
    }

    fn pod(spec: Value) -> Request {
        Request::for_object(
            Operation::Create,
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "shop"}, "spec": spec}),
            None,
            UserInfo::default(),
        )
        .unwrap()
    }

    fn one(p: &Vap, b: &Binding, r: &Request) -> super::Decision {
        let mut ds = evaluate(p, &[b], r, &World::default(), Semantics::ApiServer);
        assert_eq!(ds.len(), 1);
        ds.remove(0)
    }

    #[test]
    fn deny_warn_and_audit() {
        let p = policy(json!({"matchConstraints": pods(), "validations": [
            {"expression": "object.spec.containers.all(c, !c.image.endsWith(':latest'))", "message": "no latest"}]}));
        let bad = pod(json!({"containers": [{"name": "a", "image": "nginx:latest"}]}));
        let d = one(&p, &binding(json!({"validationActions": ["Deny"]})), &bad);
        assert_eq!(d.outcome, Outcome::Reject);
        assert_eq!(
            d.message,
            "ValidatingAdmissionPolicy 'p' with binding 'b' denied request: no latest"
        );
        let d = one(
            &p,
            &binding(json!({"validationActions": ["Warn", "Audit"]})),
            &bad,
        );
        assert_eq!(d.outcome, Outcome::Admit);
        assert_eq!(
            d.warnings,
            ["Validation failed for ValidatingAdmissionPolicy 'p' with binding 'b': no latest"]
        );
        assert_eq!(d.audit.len(), 1);
        let good = pod(json!({"containers": [{"name": "a", "image": "nginx:1.27"}]}));
        let d = one(&p, &binding(json!({"validationActions": ["Deny"]})), &good);
        assert_eq!((d.outcome, d.failures.len()), (Outcome::Admit, 0));
    }

    #[test]
    fn a_missing_field_is_an_error_that_failure_policy_decides() {
        let spec = |fp: &str| {
            json!({"failurePolicy": fp, "matchConstraints": pods(), "validations": [
                {"expression": "object.spec.initContainers.all(c, c.name != 'x')"}]})
        };
        let r = pod(json!({"containers": [{"name": "a", "image": "a"}]}));
        let b = binding(json!({"validationActions": ["Deny"]}));
        let d = one(&policy(spec("Fail")), &b, &r);
        assert_eq!(d.outcome, Outcome::Reject);
        assert!(
            d.message
                .contains("resulted in error: no such key: initContainers"),
            "{}",
            d.message
        );
        let d = one(&policy(spec("Ignore")), &b, &r);
        assert_eq!(d.outcome, Outcome::Admit);
    }

    #[test]
    fn subresources_need_their_own_rule() {
        let p =
            policy(json!({"matchConstraints": pods(), "validations": [{"expression": "false"}]}));
        let mut r = pod(json!({"containers": []}));
        r.operation = Operation::Update;
        r.sub_resource = "ephemeralcontainers".into();
        let d = one(&p, &binding(json!({"validationActions": ["Deny"]})), &r);
        assert_eq!(d.outcome, Outcome::Skip);
        let mut rules = pods();
        rules["resourceRules"][0]["resources"] = json!(["pods", "pods/ephemeralcontainers"]);
        let p =
            policy(json!({"matchConstraints": rules, "validations": [{"expression": "false"}]}));
        let d = one(&p, &binding(json!({"validationActions": ["Deny"]})), &r);
        assert_eq!(d.outcome, Outcome::Reject);
        assert_eq!(
            d.message,
            "ValidatingAdmissionPolicy 'p' with binding 'b' denied request: failed expression: false"
        );
    }

    #[test]
    fn match_conditions_variables_and_message_expressions() {
        let p = policy(json!({"matchConstraints": pods(),
            "matchConditions": [{"name": "not-kube-system", "expression": "request.namespace != 'kube-system'"}],
            "variables": [{"name": "images", "expression": "object.spec.containers.map(c, c.image)"},
                          {"name": "broken", "expression": "object.spec.nothing"}],
            "validations": [
                {"expression": "variables.images.all(i, i.contains('@sha256:'))",
                 "messageExpression": "'unpinned: ' + variables.images.join(', ')"},
                {"expression": "variables.broken == 1"}]}));
        let b = binding(json!({"validationActions": ["Deny"]}));
        let r = pod(json!({"containers": [{"name": "a", "image": "a:1"}]}));
        let d = one(&p, &b, &r);
        assert_eq!(d.outcome, Outcome::Reject);
        assert_eq!(d.failures[0].message, "unpinned: a:1");
        assert!(
            d.failures[1]
                .message
                .contains("variable \"broken\" resulted in error: no such key: nothing"),
            "{:?}",
            d.failures[1]
        );
        let mut sys = r.clone();
        sys.namespace = "kube-system".into();
        let d = one(&p, &b, &sys);
        assert_eq!(d.outcome, Outcome::Skip);
        assert_eq!(d.message, "matchCondition \"not-kube-system\" is false");
    }

    #[test]
    fn params_bindings_and_refusals() {
        let p = policy(
            json!({"paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
            "matchConstraints": pods(),
            "validations": [{"expression": "size(object.spec.containers) <= int(params.data.max)"}]}),
        );
        let r =
            pod(json!({"containers": [{"name": "a", "image": "a"}, {"name": "b", "image": "b"}]}));
        let b = binding(
            json!({"validationActions": ["Deny"], "paramRef": {"name": "limits", "parameterNotFoundAction": "Deny"}}),
        );
        let none = evaluate(&p, &[&b], &r, &World::default(), Semantics::ApiServer);
        assert_eq!(none[0].outcome, Outcome::Reject);
        let world = World {
            params: vec![json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "limits", "namespace": "shop"}, "data": {"max": "1"}})],
            ..World::default()
        };
        let d = evaluate(&p, &[&b], &r, &world, Semantics::ApiServer);
        assert_eq!(d[0].outcome, Outcome::Reject);
        let unbound = binding(json!({"validationActions": ["Deny"]}));
        let d = evaluate(&p, &[&unbound], &r, &world, Semantics::ApiServer);
        assert_eq!(d[0].outcome, Outcome::Error);
        let no_actions = binding(json!({}));
        let d = evaluate(&p, &[&no_actions], &r, &world, Semantics::ApiServer);
        assert_eq!(d[0].outcome, Outcome::Error);
        assert!(
            d[0].message
                .contains("spec.validationActions: Required value")
        );
        // No binding at all: the implied one, marked.
        let d = evaluate(&p, &[], &r, &world, Semantics::ApiServer);
        assert!(d[0].implied);
    }

    #[test]
    fn namespace_and_object_selectors() {
        let mut mr = pods();
        mr["namespaceSelector"] = json!({"matchLabels": {"class": "lab"}});
        let p =
            policy(json!({"matchConstraints": pods(), "validations": [{"expression": "false"}]}));
        let b = binding(json!({"validationActions": ["Deny"], "matchResources": mr}));
        let r = pod(json!({"containers": []}));
        let mut world = World::default();
        let d = evaluate(&p, &[&b], &r, &world, Semantics::ApiServer);
        assert_eq!(d[0].outcome, Outcome::Skip);
        world.namespaces.insert(
            "shop".into(),
            [("class".to_owned(), "lab".to_owned())].into(),
        );
        let d = evaluate(&p, &[&b], &r, &world, Semantics::ApiServer);
        assert_eq!(d[0].outcome, Outcome::Reject);
        let auth = policy(
            json!({"matchConstraints": pods(), "validations": [{"expression": "authorizer.group('').resource('pods').check('create').allowed()"}]}),
        );
        let d = evaluate(&auth, &[&b], &r, &world, Semantics::ApiServer);
        assert_eq!(d[0].outcome, Outcome::Error);
    }
}
