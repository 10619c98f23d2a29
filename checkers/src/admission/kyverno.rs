//! Kyverno `ClusterPolicy` / `Policy` (`kyverno.io/v1`) rules written with
//! `validate.cel`, evaluated as Kyverno's admission webhook does: the
//! rule's `match` / `exclude` (`any` / `all` / `resources`: kinds with
//! subresources — `Pod` covering `pods/ephemeralcontainers` as Kyverno's
//! does —, names, namespaces, selectors, operations), the rules
//! Kyverno generates for pod controllers from a rule on Pods (autogen:
//! `object.spec` read as `object.spec.template.spec`, CronJob's
//! `object.spec.jobTemplate.spec.template.spec`), `celPreconditions`,
//! variables and expressions, and the failure action (`Enforce` rejects,
//! `Audit` — Kyverno's default — admits and reports).
//!
//! Rules written with `pattern`, `anyPattern`, `deny`, `foreach`,
//! `podSecurity` or `assert` are not evaluated offline: their decision is
//! `error` with that reason, so a grader never passes on them silently.

use serde_json::Value;

use super::eval::{Decision, KYVERNO_RULE, Outcome, World, run};
use super::expr::Compiled;
use super::policy::{
    Action, Binding, FailurePolicy, MatchResources, Named, Problem, Validation, Vap,
};
use super::request::Request;
use crate::netpol::selector::Selector;

/// Whether a manifest is a Kyverno ClusterPolicy or Policy.
pub fn is_kyverno_policy(v: &Value) -> bool {
    matches!(
        v.get("kind").and_then(Value::as_str),
        Some("ClusterPolicy" | "Policy")
    ) && v
        .get("apiVersion")
        .and_then(Value::as_str)
        .is_some_and(|a| a.starts_with("kyverno.io/"))
}

/// The pod controllers Kyverno generates rules for by default.
const CONTROLLERS: &[&str] = &[
    "DaemonSet",
    "Deployment",
    "Job",
    "StatefulSet",
    "ReplicaSet",
    "ReplicationController",
];

/// One `resources` filter of a `match` / `exclude`.
#[derive(Debug, Clone, Default)]
struct Filter {
    kinds: Vec<String>,
    names: Vec<String>,
    namespaces: Vec<String>,
    operations: Vec<String>,
    selector: Option<Selector>,
    namespace_selector: Option<Selector>,
}

/// `match` or `exclude`: any of, or all of, some filters.
#[derive(Debug, Clone, Default)]
struct Filters {
    any: Vec<Filter>,
    all: Vec<Filter>,
}

/// Where an autogen rule finds the pod template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shift {
    None,
    Template,
    CronJob,
}

/// One rule, as written or generated.
#[derive(Debug)]
struct KRule {
    name: String,
    match_: Filters,
    exclude: Filters,
    vap: Vap,
    enforce: bool,
    unsupported: Option<String>,
}

/// A Kyverno policy ready to evaluate.
#[derive(Debug)]
pub struct KyvernoPolicy {
    /// `metadata.name`.
    pub name: String,
    /// `ClusterPolicy` or `Policy` (a Policy applies in its namespace only).
    pub kind: String,
    namespace: String,
    rules: Vec<KRule>,
    /// What Kyverno would refuse.
    pub problems: Vec<Problem>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn wildcard(pattern: &str, s: &str) -> bool {
    // Kyverno's names/namespaces take `*` and `?` wildcards.
    fn go(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], s) || (!s.is_empty() && go(p, &s[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &s[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), s.as_bytes())
}

fn parse_filter(f: &Value, path: &str, problems: &mut Vec<Problem>) -> Filter {
    let r = f.get("resources").unwrap_or(f);
    let sel = |key: &str, problems: &mut Vec<Problem>| {
        r.get(key).map(|s| {
            Selector::parse(s, &format!("{path}.{key}")).unwrap_or_else(|(p, m)| {
                problems.push(Problem {
                    path: p,
                    message: m,
                    structural: false,
                });
                Selector::default()
            })
        })
    };
    if f.get("subjects").is_some() || f.get("roles").is_some() || f.get("clusterRoles").is_some() {
        problems.push(Problem {
            path: path.to_owned(),
            message: "subjects, roles and clusterRoles filters are not evaluated offline".into(),
            structural: false,
        });
    }
    Filter {
        kinds: strings(r.get("kinds")),
        names: {
            let mut n = strings(r.get("names"));
            n.extend(r.get("name").and_then(Value::as_str).map(str::to_owned));
            n
        },
        namespaces: strings(r.get("namespaces")),
        operations: strings(r.get("operations")),
        selector: sel("selector", problems),
        namespace_selector: sel("namespaceSelector", problems),
    }
}

fn parse_filters(v: Option<&Value>, path: &str, problems: &mut Vec<Problem>) -> Filters {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Filters::default();
    };
    let list = |key: &str, problems: &mut Vec<Problem>| -> Vec<Filter> {
        v.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .enumerate()
                    .map(|(i, f)| parse_filter(f, &format!("{path}.{key}[{i}]"), problems))
                    .collect()
            })
            .unwrap_or_default()
    };
    let any = list("any", problems);
    let all = list("all", problems);
    if any.is_empty() && all.is_empty() && v.get("resources").is_some() {
        return Filters {
            any: Vec::new(),
            all: vec![parse_filter(v, path, problems)],
        };
    }
    Filters { any, all }
}

/// Whether a kind entry (`Pod`, `v1/Pod`, `apps/v1/Deployment`,
/// `Pod/ephemeralcontainers`, `*`) names the request.
fn kind_matches(entry: &str, req: &Request) -> bool {
    if entry == "*" {
        return req.sub_resource.is_empty();
    }
    let parts: Vec<&str> = entry.split('/').collect();
    // Kind, Kind/sub, version/Kind, group/version/Kind[/sub].
    let (group, version, kind, sub) = match parts.as_slice() {
        [k] => (None, None, *k, ""),
        [a, b] if a.chars().next().is_some_and(char::is_uppercase) => (None, None, *a, *b),
        [v, k] => (None, Some(*v), *k, ""),
        [g, v, k] => (Some(*g), Some(*v), *k, ""),
        [g, v, k, s] => (Some(*g), Some(*v), *k, *s),
        _ => return false,
    };
    (kind == "*" || kind == req.kind.name)
        && group.is_none_or(|g| g == "*" || g == req.kind.group)
        && version.is_none_or(|v| v == "*" || v == req.kind.version)
        && (sub == "*"
            || sub == req.sub_resource
            // Kyverno reads a rule on Pods as covering the
            // ephemeralcontainers subresource too (`kubectl debug`).
            || (sub.is_empty() && kind == "Pod" && req.sub_resource == "ephemeralcontainers"))
}

fn filter_matches(f: &Filter, req: &Request, world: &World) -> bool {
    let ops_ok = if f.operations.is_empty() {
        matches!(
            req.operation,
            super::request::Operation::Create | super::request::Operation::Update
        )
    } else {
        f.operations.iter().any(|o| o == req.operation.as_str())
    };
    let ns_labels = || {
        world
            .namespaces
            .get(&req.namespace)
            .cloned()
            .unwrap_or_default()
    };
    ops_ok
        && (f.kinds.is_empty() || f.kinds.iter().any(|k| kind_matches(k, req)))
        && (f.names.is_empty() || f.names.iter().any(|n| wildcard(n, &req.name)))
        && (f.namespaces.is_empty() || f.namespaces.iter().any(|n| wildcard(n, &req.namespace)))
        && f.selector
            .as_ref()
            .is_none_or(|s| s.matches(&req.labels(false)))
        && f.namespace_selector
            .as_ref()
            .is_none_or(|s| req.namespace.is_empty() || s.matches(&ns_labels()))
}

fn filters_match(f: &Filters, req: &Request, world: &World) -> bool {
    (f.any.is_empty() || f.any.iter().any(|x| filter_matches(x, req, world)))
        && f.all.iter().all(|x| filter_matches(x, req, world))
}

fn has_filters(f: &Filters) -> bool {
    !f.any.is_empty() || !f.all.is_empty()
}

fn shift_text(src: &str, shift: Shift) -> String {
    let pairs: &[(&str, &str)] = match shift {
        Shift::None => return src.to_owned(),
        Shift::Template => &[
            ("object.spec", "object.spec.template.spec"),
            ("oldObject.spec", "oldObject.spec.template.spec"),
            ("object.metadata", "object.spec.template.metadata"),
            ("oldObject.metadata", "oldObject.spec.template.metadata"),
        ],
        Shift::CronJob => &[
            ("object.spec", "object.spec.jobTemplate.spec.template.spec"),
            (
                "oldObject.spec",
                "oldObject.spec.jobTemplate.spec.template.spec",
            ),
            (
                "object.metadata",
                "object.spec.jobTemplate.spec.template.metadata",
            ),
            (
                "oldObject.metadata",
                "oldObject.spec.jobTemplate.spec.template.metadata",
            ),
        ],
    };
    pairs
        .iter()
        .fold(src.to_owned(), |s, (from, to)| s.replace(from, to))
}

fn compile(src: &str, path: &str, problems: &mut Vec<Problem>) -> Option<Compiled> {
    Compiled::new(src)
        .map_err(|e| {
            problems.push(Problem {
                path: path.to_owned(),
                message: format!("compilation failed: {e}"),
                structural: false,
            });
        })
        .ok()
}

/// Builds the rule's CEL part, shifted for a pod controller.
fn cel_part(
    policy_name: &str,
    rule: &Value,
    path: &str,
    shift: Shift,
    failure_policy: FailurePolicy,
    problems: &mut Vec<Problem>,
) -> Vap {
    let null = Value::Null;
    let cel = rule
        .get("validate")
        .and_then(|v| v.get("cel"))
        .unwrap_or(&null);
    let named = |key: &str, list: &Value, problems: &mut Vec<Problem>| -> Vec<Named> {
        list.as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, n)| Named {
                name: n
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                expr: n.get("expression").and_then(Value::as_str).and_then(|e| {
                    compile(
                        &shift_text(e, shift),
                        &format!("{path}.{key}[{i}].expression"),
                        problems,
                    )
                }),
            })
            .collect()
    };
    let match_conditions = named(
        "celPreconditions",
        rule.get("celPreconditions").unwrap_or(&null),
        problems,
    );
    let variables = named(
        "validate.cel.variables",
        cel.get("variables").unwrap_or(&null),
        problems,
    );
    let mut validations = Vec::new();
    for (i, e) in cel
        .get("expressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let p = format!("{path}.validate.cel.expressions[{i}]");
        let source = shift_text(
            e.get("expression")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            shift,
        );
        let expr = compile(&source, &format!("{p}.expression"), problems);
        let message_expr = e
            .get("messageExpression")
            .and_then(Value::as_str)
            .and_then(|m| {
                compile(
                    &shift_text(m, shift),
                    &format!("{p}.messageExpression"),
                    problems,
                )
            });
        validations.push(Validation {
            expr,
            source,
            message: e.get("message").and_then(Value::as_str).map(str::to_owned),
            message_expr,
            reason: e
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or("Invalid")
                .to_owned(),
        });
    }
    let param_kind = cel.get("paramKind").map(|pk| {
        (
            pk.get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            pk.get("kind")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        )
    });
    let uses_authorizer = validations
        .iter()
        .filter_map(|v| v.expr.as_ref())
        .chain(variables.iter().filter_map(|v| v.expr.as_ref()))
        .any(|c| c.uses("authorizer"));
    Vap {
        name: policy_name.to_owned(),
        failure_policy,
        param_kind,
        match_constraints: MatchResources::default(),
        match_conditions,
        variables,
        validations,
        problems: Vec::new(),
        uses_authorizer,
    }
}

/// Why a rule cannot be evaluated offline, if it cannot.
fn unsupported(rule: &Value) -> Option<String> {
    let Some(v) = rule.get("validate") else {
        return Some("the rule does not validate (mutate, generate or verifyImages rules are not admission checks seclab evaluates)".into());
    };
    for key in [
        "pattern",
        "anyPattern",
        "deny",
        "foreach",
        "podSecurity",
        "assert",
        "manifests",
    ] {
        if v.get(key).is_some() {
            return Some(format!(
                "validate.{key} is not evaluated offline; write the rule with validate.cel"
            ));
        }
    }
    if v.get("cel").is_none() {
        return Some("the rule has no validate.cel".into());
    }
    if rule.get("context").is_some() || rule.get("preconditions").is_some() {
        return Some(
            "context and JMESPath preconditions are not evaluated offline; use celPreconditions"
                .into(),
        );
    }
    None
}

impl KyvernoPolicy {
    /// Reads a ClusterPolicy / Policy, with the autogen rules Kyverno adds.
    pub fn parse(v: &Value) -> Self {
        let mut problems = Vec::new();
        let meta = |f: &str| {
            v.get("metadata")
                .and_then(|m| m.get(f))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let name = meta("name");
        let namespace = meta("namespace");
        let kind = v
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let null = Value::Null;
        let spec = v.get("spec").unwrap_or(&null);
        let policy_enforce = spec
            .get("validationFailureAction")
            .and_then(Value::as_str)
            .is_some_and(|a| a.eq_ignore_ascii_case("enforce"));
        let failure_policy = match spec.get("failurePolicy").and_then(Value::as_str) {
            Some("Ignore") => FailurePolicy::Ignore,
            _ => FailurePolicy::Fail,
        };
        let controllers: Vec<String> = match v
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get("pod-policies.kyverno.io/autogen-controllers"))
            .and_then(Value::as_str)
        {
            None | Some("all") => CONTROLLERS
                .iter()
                .map(|s| (*s).to_owned())
                .chain(std::iter::once("CronJob".to_owned()))
                .collect(),
            Some("none") => Vec::new(),
            Some(list) => list.split(',').map(|s| s.trim().to_owned()).collect(),
        };
        let mut rules = Vec::new();
        let rule_values = spec.get("rules").and_then(Value::as_array);
        if rule_values.is_none_or(Vec::is_empty) {
            problems.push(Problem {
                path: "spec.rules".into(),
                message: "Required value".into(),
                structural: true,
            });
        }
        for (i, r) in rule_values.into_iter().flatten().enumerate() {
            let path = format!("spec.rules[{i}]");
            let rule_name = r
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let match_ = parse_filters(r.get("match"), &format!("{path}.match"), &mut problems);
            let exclude =
                parse_filters(r.get("exclude"), &format!("{path}.exclude"), &mut problems);
            if !has_filters(&match_) {
                problems.push(Problem {
                    path: format!("{path}.match"),
                    message: "Required value".into(),
                    structural: true,
                });
            }
            let enforce = r
                .get("validate")
                .and_then(|v| v.get("failureAction"))
                .and_then(Value::as_str)
                .map_or(policy_enforce, |a| a.eq_ignore_ascii_case("enforce"));
            let unsupported = unsupported(r);
            let on_pods = match_
                .any
                .iter()
                .chain(&match_.all)
                .any(|f| f.kinds.iter().any(|k| k == "Pod" || k == "v1/Pod"));
            let mut variants = vec![(rule_name.clone(), Shift::None, None)];
            if on_pods && !rule_name.starts_with("autogen-") {
                let ctl: Vec<String> = controllers
                    .iter()
                    .filter(|c| CONTROLLERS.contains(&c.as_str()))
                    .cloned()
                    .collect();
                if !ctl.is_empty() {
                    variants.push((format!("autogen-{rule_name}"), Shift::Template, Some(ctl)));
                }
                if controllers.iter().any(|c| c == "CronJob") {
                    variants.push((
                        format!("autogen-cronjob-{rule_name}"),
                        Shift::CronJob,
                        Some(vec!["CronJob".to_owned()]),
                    ));
                }
            }
            for (vname, shift, kinds) in variants {
                let mut vprobs = Vec::new();
                let vap = cel_part(&name, r, &path, shift, failure_policy, &mut vprobs);
                if shift == Shift::None {
                    problems.extend(vprobs);
                }
                let retarget = |f: &Filters| -> Filters {
                    let Some(kinds) = &kinds else {
                        return f.clone();
                    };
                    let fix = |x: &Filter| {
                        let mut x = x.clone();
                        if x.kinds.iter().any(|k| k == "Pod" || k == "v1/Pod") {
                            x.kinds.clone_from(kinds);
                        }
                        x
                    };
                    Filters {
                        any: f.any.iter().map(fix).collect(),
                        all: f.all.iter().map(fix).collect(),
                    }
                };
                rules.push(KRule {
                    name: vname.chars().take(63).collect(),
                    match_: retarget(&match_),
                    exclude: retarget(&exclude),
                    vap,
                    enforce,
                    unsupported: unsupported.clone(),
                });
            }
        }
        Self {
            name,
            kind,
            namespace,
            rules,
            problems,
        }
    }

    /// The names of the rules, generated ones included.
    pub fn rule_names(&self) -> Vec<&str> {
        self.rules.iter().map(|r| r.name.as_str()).collect()
    }

    /// One decision per rule that selects the request; none selected: one
    /// `skip` decision for the policy.
    pub fn evaluate(&self, req: &Request, world: &World) -> Vec<Decision> {
        let blank = |outcome: Outcome, binding: &str, message: String| Decision {
            policy: self.name.clone(),
            binding: binding.to_owned(),
            implied: false,
            outcome,
            message,
            warnings: Vec::new(),
            audit: Vec::new(),
            failures: Vec::new(),
            live_only: false,
        };
        if !self.problems.is_empty() {
            let text: Vec<String> = self
                .problems
                .iter()
                .map(|p| format!("{}: {}", p.path, p.message))
                .collect();
            return vec![blank(
                Outcome::Error,
                "",
                format!("Kyverno refuses this policy: {}", text.join("; ")),
            )];
        }
        if self.kind == "Policy" && req.namespace != self.namespace {
            return vec![blank(
                Outcome::Skip,
                "",
                format!(
                    "a Policy applies in its namespace {:?} only",
                    self.namespace
                ),
            )];
        }
        let mut out = Vec::new();
        for rule in &self.rules {
            if !filters_match(&rule.match_, req, world)
                || (has_filters(&rule.exclude) && filters_match(&rule.exclude, req, world))
            {
                continue;
            }
            if let Some(why) = &rule.unsupported {
                out.push(Decision {
                    live_only: true,
                    ..blank(Outcome::Error, &rule.name, why.clone())
                });
                continue;
            }
            if rule.vap.uses_authorizer {
                out.push(Decision {
                    live_only: true,
                    ..blank(
                        Outcome::Error,
                        &rule.name,
                        "the rule asks the authorizer, which only a live API server can answer"
                            .into(),
                    )
                });
                continue;
            }
            let binding = Binding {
                name: format!("{KYVERNO_RULE}{}", rule.name),
                policy_name: self.name.clone(),
                param_ref: None,
                match_resources: None,
                actions: vec![if rule.enforce {
                    Action::Deny
                } else {
                    Action::Audit
                }],
                problems: Vec::new(),
                implied: false,
            };
            let mut d = run(&rule.vap, &binding, req, None, world);
            rule.name.clone_into(&mut d.binding);
            if !rule.enforce && !d.failures.is_empty() {
                d.message = format!(
                    "rule {} failed in Audit mode (admitted, reported): {}",
                    rule.name, d.failures[0].message
                );
            }
            out.push(d);
        }
        if out.is_empty() {
            out.push(blank(
                Outcome::Skip,
                "",
                "no rule matches the request".into(),
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{KyvernoPolicy, wildcard};
    use crate::admission::{Operation, Outcome, Request, UserInfo, World};
    use serde_json::{Value, json};

    fn policy(action: &str) -> KyvernoPolicy {
        KyvernoPolicy::parse(&json!({
            "apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "no-privileged"},
            "spec": {"validationFailureAction": action, "rules": [{
                "name": "privileged",
                "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                "validate": {"cel": {"expressions": [{
                    "expression": "object.spec.containers.all(c, !c.?securityContext.?privileged.orValue(false))",
                    "message": "no privileged containers"}]}}}]}
        }))
    }

    fn req(obj: &Value) -> Request {
        Request::for_object(Operation::Create, obj.clone(), None, UserInfo::default()).unwrap()
    }

    #[test]
    fn autogen_reads_the_pod_template_of_controllers() {
        let p = policy("Enforce");
        assert_eq!(
            p.rule_names(),
            [
                "privileged",
                "autogen-privileged",
                "autogen-cronjob-privileged"
            ]
        );
        let priv_spec = json!({"containers": [{"name": "a", "image": "a", "securityContext": {"privileged": true}}]});
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "n"}, "spec": priv_spec});
        let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "n"},
            "spec": {"template": {"spec": priv_spec}}});
        let cron = json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c", "namespace": "n"},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": priv_spec}}}}});
        for (obj, rule) in [
            (&pod, "privileged"),
            (&deploy, "autogen-privileged"),
            (&cron, "autogen-cronjob-privileged"),
        ] {
            let ds = p.evaluate(&req(obj), &World::default());
            assert_eq!(ds.len(), 1, "{ds:?}");
            assert_eq!(ds[0].outcome, Outcome::Reject, "{ds:?}");
            assert_eq!(ds[0].binding, rule);
            assert!(ds[0].message.contains("no privileged containers"));
        }
        let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "n"}});
        assert_eq!(
            p.evaluate(&req(&svc), &World::default())[0].outcome,
            Outcome::Skip
        );
    }

    #[test]
    fn audit_mode_admits_and_unsupported_rules_say_so() {
        let p = policy("Audit");
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a", "image": "a", "securityContext": {"privileged": true}}]}});
        let d = &p.evaluate(&req(&pod), &World::default())[0];
        assert_eq!(d.outcome, Outcome::Admit);
        assert!(d.message.contains("Audit mode"));
        let pattern = KyvernoPolicy::parse(&json!({
            "apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "x"},
            "spec": {"rules": [{"name": "r", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                "validate": {"pattern": {"spec": {"containers": [{"image": "!*:latest"}]}}}}]}
        }));
        let d = &pattern.evaluate(&req(&pod), &World::default())[0];
        assert_eq!(d.outcome, Outcome::Error);
        assert!(d.message.contains("validate.pattern"));
    }

    #[test]
    fn subresource_kinds_and_wildcards() {
        let p = policy("Enforce");
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": []}});
        let mut r = req(&pod);
        r.operation = Operation::Update;
        r.sub_resource = "ephemeralcontainers".into();
        // A rule on Pods covers `kubectl debug` (pods/ephemeralcontainers).
        assert_eq!(p.evaluate(&r, &World::default())[0].outcome, Outcome::Admit);
        r.sub_resource = "status".into();
        assert_eq!(p.evaluate(&r, &World::default())[0].outcome, Outcome::Skip);
        assert!(wildcard("kube-*", "kube-system") && !wildcard("kube-?", "kube-system"));
    }
}
