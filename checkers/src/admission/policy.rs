//! `ValidatingAdmissionPolicy` and `ValidatingAdmissionPolicyBinding`
//! (`admissionregistration.k8s.io/v1`, also `v1beta1`/`v1alpha1`), parsed
//! from their JSON. What the API server's validation would refuse (a
//! missing `operations`, no validations, an expression that does not
//! compile) is kept as the policy's problems, with the field path, so that
//! a grader can say why a policy would never be admitted itself.

use serde_json::Value;

use super::expr::Compiled;
use crate::netpol::selector::Selector;

/// A field path and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// JSON path, e.g. `spec.validations[0].expression`.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// Whether the problem is one the Kyverno CLI ignores too (structural
    /// API validation) rather than one no evaluator can get past.
    pub structural: bool,
}

/// One rule of `resourceRules` / `excludeResourceRules`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rule {
    /// `operations`.
    pub operations: Vec<String>,
    /// `apiGroups`.
    pub api_groups: Vec<String>,
    /// `apiVersions`.
    pub api_versions: Vec<String>,
    /// `resources` (`pods`, `pods/exec`, `pods/*`, `*`, `*/*`).
    pub resources: Vec<String>,
    /// `scope`: `*` (default), `Cluster` or `Namespaced`.
    pub scope: String,
    /// `resourceNames`.
    pub resource_names: Vec<String>,
}

/// `matchConstraints` / `matchResources`.
#[derive(Debug, Clone, Default)]
pub struct MatchResources {
    /// `namespaceSelector` (absent: everything).
    pub namespace_selector: Selector,
    /// `objectSelector` (absent: everything).
    pub object_selector: Selector,
    /// `resourceRules`.
    pub resource_rules: Vec<Rule>,
    /// `excludeResourceRules`.
    pub exclude_resource_rules: Vec<Rule>,
    /// `matchPolicy` (`Equivalent` by default).
    pub match_policy: String,
}

/// `failurePolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailurePolicy {
    /// An error rejects (the default).
    Fail,
    /// An error is ignored.
    Ignore,
}

/// A named expression (`variables`, `matchConditions`).
#[derive(Debug)]
pub struct Named {
    /// `name`.
    pub name: String,
    /// `expression`, compiled (None when it did not compile: a problem).
    pub expr: Option<Compiled>,
}

/// One of `validations`.
#[derive(Debug)]
pub struct Validation {
    /// `expression` (None when it did not compile).
    pub expr: Option<Compiled>,
    /// The expression's text.
    pub source: String,
    /// `message`.
    pub message: Option<String>,
    /// `messageExpression`.
    pub message_expr: Option<Compiled>,
    /// `reason` (`Invalid` by default).
    pub reason: String,
}

/// A `ValidatingAdmissionPolicy`.
#[derive(Debug)]
pub struct Vap {
    /// `metadata.name`.
    pub name: String,
    /// `spec.failurePolicy`.
    pub failure_policy: FailurePolicy,
    /// `spec.paramKind` as (apiVersion, kind).
    pub param_kind: Option<(String, String)>,
    /// `spec.matchConstraints`.
    pub match_constraints: MatchResources,
    /// `spec.matchConditions`.
    pub match_conditions: Vec<Named>,
    /// `spec.variables`.
    pub variables: Vec<Named>,
    /// `spec.validations`.
    pub validations: Vec<Validation>,
    /// What the API server would refuse.
    pub problems: Vec<Problem>,
    /// Whether some expression uses `authorizer`.
    pub uses_authorizer: bool,
}

/// `spec.paramRef` of a binding.
#[derive(Debug, Clone, Default)]
pub struct ParamRef {
    /// `name`.
    pub name: Option<String>,
    /// `namespace`.
    pub namespace: Option<String>,
    /// `selector`.
    pub selector: Option<Selector>,
    /// `parameterNotFoundAction` is `Allow`.
    pub allow_not_found: bool,
}

/// `validationActions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Reject the request.
    Deny,
    /// Admit with a warning to the client.
    Warn,
    /// Admit and record an audit annotation.
    Audit,
}

/// A `ValidatingAdmissionPolicyBinding`.
#[derive(Debug, Clone)]
pub struct Binding {
    /// `metadata.name`.
    pub name: String,
    /// `spec.policyName`.
    pub policy_name: String,
    /// `spec.paramRef`.
    pub param_ref: Option<ParamRef>,
    /// `spec.matchResources`.
    pub match_resources: Option<MatchResources>,
    /// `spec.validationActions`.
    pub actions: Vec<Action>,
    /// What the API server would refuse.
    pub problems: Vec<Problem>,
    /// Whether seclab made it up (a policy with no binding, evaluated as
    /// the Kyverno CLI does: bound to everything with Deny).
    pub implied: bool,
}

/// Whether a manifest is a ValidatingAdmissionPolicy.
pub fn is_policy(v: &Value) -> bool {
    is_kind(v, "ValidatingAdmissionPolicy")
}

/// Whether a manifest is a ValidatingAdmissionPolicyBinding.
pub fn is_binding(v: &Value) -> bool {
    is_kind(v, "ValidatingAdmissionPolicyBinding")
}

fn is_kind(v: &Value, kind: &str) -> bool {
    v.get("kind").and_then(Value::as_str) == Some(kind)
        && v.get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|a| a.starts_with("admissionregistration.k8s.io/"))
}

/// Collects problems while reading a document.
struct Reader {
    problems: Vec<Problem>,
    authorizer: bool,
}

impl Reader {
    fn refuse(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.to_owned(),
            message: message.into(),
            structural: true,
        });
    }

    fn strings(&mut self, v: Option<&Value>, path: &str) -> Vec<String> {
        match v {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, s)| {
                    let got = s.as_str().map(str::to_owned);
                    if got.is_none() {
                        self.refuse(&format!("{path}[{i}]"), "must be a string");
                    }
                    got
                })
                .collect(),
            Some(_) => {
                self.refuse(path, "must be a list of strings");
                Vec::new()
            }
        }
    }

    fn string(&mut self, v: Option<&Value>, path: &str) -> Option<String> {
        match v {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.refuse(path, "must be a string");
                None
            }
        }
    }

    fn items<'v>(&mut self, v: Option<&'v Value>, path: &str) -> &'v [Value] {
        match v {
            None | Some(Value::Null) => &[],
            Some(Value::Array(items)) => items,
            Some(_) => {
                self.refuse(path, "must be a list");
                &[]
            }
        }
    }

    fn compile(&mut self, src: Option<&Value>, path: &str) -> Option<Compiled> {
        let Some(src) = self.string(src, path) else {
            self.refuse(path, "Required value");
            return None;
        };
        if src.trim().is_empty() {
            self.refuse(path, "Required value");
            return None;
        }
        match Compiled::new(&src) {
            Ok(c) => {
                self.authorizer |= c.uses("authorizer");
                Some(c)
            }
            Err(e) => {
                self.problems.push(Problem {
                    path: path.to_owned(),
                    message: format!("compilation failed: {e}"),
                    structural: false,
                });
                None
            }
        }
    }

    fn selector(&mut self, v: Option<&Value>, path: &str) -> Selector {
        match v {
            None | Some(Value::Null) => Selector::default(),
            Some(v) => Selector::parse(v, path).unwrap_or_else(|(p, m)| {
                self.refuse(&p, m);
                Selector::default()
            }),
        }
    }

    fn rules(&mut self, v: Option<&Value>, path: &str) -> Vec<Rule> {
        let items = self.items(v, path);
        let mut rules = Vec::new();
        for (i, r) in items.iter().enumerate() {
            let p = format!("{path}[{i}]");
            let rule = Rule {
                operations: self.strings(r.get("operations"), &format!("{p}.operations")),
                api_groups: self.strings(r.get("apiGroups"), &format!("{p}.apiGroups")),
                api_versions: self.strings(r.get("apiVersions"), &format!("{p}.apiVersions")),
                resources: self.strings(r.get("resources"), &format!("{p}.resources")),
                scope: self
                    .string(r.get("scope"), &format!("{p}.scope"))
                    .unwrap_or_else(|| "*".to_owned()),
                resource_names: self.strings(r.get("resourceNames"), &format!("{p}.resourceNames")),
            };
            for (field, list) in [
                ("operations", &rule.operations),
                ("apiGroups", &rule.api_groups),
                ("apiVersions", &rule.api_versions),
                ("resources", &rule.resources),
            ] {
                if list.is_empty() {
                    self.refuse(&format!("{p}.{field}"), "Required value");
                }
            }
            for (j, op) in rule.operations.iter().enumerate() {
                if !["*", "CREATE", "UPDATE", "DELETE", "CONNECT"].contains(&op.as_str()) {
                    self.refuse(
                        &format!("{p}.operations[{j}]"),
                        format!(
                            "Unsupported value: {op:?}: supported values: \"*\", \"CONNECT\", \"CREATE\", \"DELETE\", \"UPDATE\""
                        ),
                    );
                }
            }
            if !["*", "Cluster", "Namespaced"].contains(&rule.scope.as_str()) {
                self.refuse(
                    &format!("{p}.scope"),
                    format!("Unsupported value: {:?}", rule.scope),
                );
            }
            rules.push(rule);
        }
        rules
    }

    fn match_resources(&mut self, v: &Value, path: &str) -> MatchResources {
        MatchResources {
            namespace_selector: self.selector(
                v.get("namespaceSelector"),
                &format!("{path}.namespaceSelector"),
            ),
            object_selector: self
                .selector(v.get("objectSelector"), &format!("{path}.objectSelector")),
            resource_rules: self.rules(v.get("resourceRules"), &format!("{path}.resourceRules")),
            exclude_resource_rules: self.rules(
                v.get("excludeResourceRules"),
                &format!("{path}.excludeResourceRules"),
            ),
            match_policy: self
                .string(v.get("matchPolicy"), &format!("{path}.matchPolicy"))
                .unwrap_or_else(|| "Equivalent".to_owned()),
        }
    }

    fn named(&mut self, v: Option<&Value>, path: &str) -> Vec<Named> {
        let items = self.items(v, path);
        let mut out: Vec<Named> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let p = format!("{path}[{i}]");
            let name = self.string(item.get("name"), &format!("{p}.name"));
            let name = name.unwrap_or_else(|| {
                self.refuse(&format!("{p}.name"), "Required value");
                String::new()
            });
            if !name.is_empty() && out.iter().any(|n| n.name == name) {
                self.refuse(&format!("{p}.name"), format!("Duplicate value: {name:?}"));
            }
            let expr = self.compile(item.get("expression"), &format!("{p}.expression"));
            out.push(Named { name, expr });
        }
        out
    }
}

fn name_of(v: &Value) -> String {
    v.get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

impl Vap {
    /// Reads a ValidatingAdmissionPolicy manifest.
    pub fn parse(v: &Value) -> Self {
        let mut r = Reader {
            problems: Vec::new(),
            authorizer: false,
        };
        let name = name_of(v);
        if name.is_empty() {
            r.refuse("metadata.name", "Required value");
        }
        let null = Value::Null;
        let spec = v.get("spec").unwrap_or(&null);
        let failure_policy = match r.string(spec.get("failurePolicy"), "spec.failurePolicy") {
            None => FailurePolicy::Fail,
            Some(f) if f == "Fail" => FailurePolicy::Fail,
            Some(f) if f == "Ignore" => FailurePolicy::Ignore,
            Some(f) => {
                r.refuse(
                    "spec.failurePolicy",
                    format!("Unsupported value: {f:?}: supported values: \"Fail\", \"Ignore\""),
                );
                FailurePolicy::Fail
            }
        };
        let param_kind = spec.get("paramKind").map(|pk| {
            let api = r
                .string(pk.get("apiVersion"), "spec.paramKind.apiVersion")
                .unwrap_or_default();
            let kind = r
                .string(pk.get("kind"), "spec.paramKind.kind")
                .unwrap_or_default();
            (api, kind)
        });
        let match_constraints = match spec.get("matchConstraints") {
            Some(mc) if !mc.is_null() => {
                let m = r.match_resources(mc, "spec.matchConstraints");
                if m.resource_rules.is_empty() {
                    r.refuse("spec.matchConstraints.resourceRules", "Required value");
                }
                m
            }
            _ => {
                r.refuse("spec.matchConstraints", "Required value");
                MatchResources::default()
            }
        };
        let match_conditions = r.named(spec.get("matchConditions"), "spec.matchConditions");
        let variables = r.named(spec.get("variables"), "spec.variables");
        let mut validations = Vec::new();
        for (i, val) in r
            .items(spec.get("validations"), "spec.validations")
            .iter()
            .enumerate()
        {
            let p = format!("spec.validations[{i}]");
            let source = val
                .get("expression")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let expr = r.compile(val.get("expression"), &format!("{p}.expression"));
            let message = r.string(val.get("message"), &format!("{p}.message"));
            if message.as_deref().is_some_and(|m| m.contains('\n')) {
                r.refuse(
                    &format!("{p}.message"),
                    "message must not contain line breaks",
                );
            }
            let message_expr = val
                .get("messageExpression")
                .filter(|m| !m.is_null())
                .and_then(|m| r.compile(Some(m), &format!("{p}.messageExpression")));
            let reason = r
                .string(val.get("reason"), &format!("{p}.reason"))
                .unwrap_or_else(|| "Invalid".to_owned());
            validations.push(Validation {
                expr,
                source,
                message,
                message_expr,
                reason,
            });
        }
        let audits = spec
            .get("auditAnnotations")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        if validations.is_empty() && !audits {
            r.refuse(
                "spec",
                "at least one of validations or auditAnnotations is required",
            );
        }
        Self {
            name,
            failure_policy,
            param_kind,
            match_constraints,
            match_conditions,
            variables,
            validations,
            problems: r.problems,
            uses_authorizer: r.authorizer,
        }
    }
}

impl Binding {
    /// Reads a ValidatingAdmissionPolicyBinding manifest.
    pub fn parse(v: &Value) -> Self {
        let mut r = Reader {
            problems: Vec::new(),
            authorizer: false,
        };
        let name = name_of(v);
        if name.is_empty() {
            r.refuse("metadata.name", "Required value");
        }
        let null = Value::Null;
        let spec = v.get("spec").unwrap_or(&null);
        let policy_name = r
            .string(spec.get("policyName"), "spec.policyName")
            .unwrap_or_default();
        if policy_name.is_empty() {
            r.refuse("spec.policyName", "Required value");
        }
        let param_ref = spec.get("paramRef").filter(|p| !p.is_null()).map(|p| {
            let name = r.string(p.get("name"), "spec.paramRef.name");
            let namespace = r.string(p.get("namespace"), "spec.paramRef.namespace");
            let selector = p
                .get("selector")
                .map(|s| r.selector(Some(s), "spec.paramRef.selector"));
            if name.is_some() == selector.is_some() {
                r.refuse(
                    "spec.paramRef",
                    "one of name or selector must be set, not both",
                );
            }
            let action = r.string(
                p.get("parameterNotFoundAction"),
                "spec.paramRef.parameterNotFoundAction",
            );
            ParamRef {
                name,
                namespace,
                selector,
                allow_not_found: action.as_deref() == Some("Allow"),
            }
        });
        let match_resources = spec
            .get("matchResources")
            .filter(|m| !m.is_null())
            .map(|m| r.match_resources(m, "spec.matchResources"));
        let mut actions = Vec::new();
        let listed = r.strings(spec.get("validationActions"), "spec.validationActions");
        for (i, a) in listed.iter().enumerate() {
            let action = match a.as_str() {
                "Deny" => Action::Deny,
                "Warn" => Action::Warn,
                "Audit" => Action::Audit,
                other => {
                    r.refuse(
                        &format!("spec.validationActions[{i}]"),
                        format!(
                            "Unsupported value: {other:?}: supported values: \"Audit\", \"Deny\", \"Warn\""
                        ),
                    );
                    continue;
                }
            };
            if actions.contains(&action) {
                r.refuse(
                    &format!("spec.validationActions[{i}]"),
                    format!("Duplicate value: {a:?}"),
                );
            } else {
                actions.push(action);
            }
        }
        if listed.is_empty() {
            r.refuse("spec.validationActions", "Required value");
        }
        if actions.contains(&Action::Deny) && actions.contains(&Action::Warn) {
            r.refuse(
                "spec.validationActions",
                "Deny and Warn may not be used together",
            );
        }
        Self {
            name,
            policy_name,
            param_ref,
            match_resources,
            actions,
            problems: r.problems,
            implied: false,
        }
    }

    /// The binding the Kyverno CLI assumes for a policy that has none:
    /// everything the policy matches, with `Deny`.
    pub fn implied(policy: &str) -> Self {
        Self {
            name: String::new(),
            policy_name: policy.to_owned(),
            param_ref: None,
            match_resources: None,
            actions: vec![Action::Deny],
            problems: Vec::new(),
            implied: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Action, Binding, FailurePolicy, Vap};
    use serde_json::json;

    #[test]
    fn a_policy_and_its_problems() {
        let p = Vap::parse(&json!({
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": "p"},
            "spec": {"failurePolicy": "Ignore",
                     "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}]},
                     "validations": [{"expression": "object.spec.(", "message": "m"}, {"expression": "true"}]}
        }));
        assert_eq!(p.failure_policy, FailurePolicy::Ignore);
        let paths: Vec<&str> = p.problems.iter().map(|x| x.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "spec.matchConstraints.resourceRules[0].operations",
                "spec.validations[0].expression"
            ]
        );
        assert!(p.problems[0].structural && !p.problems[1].structural);
        assert_eq!(p.validations.len(), 2);
    }

    #[test]
    fn a_binding_and_its_actions() {
        let b = Binding::parse(&json!({
            "kind": "ValidatingAdmissionPolicyBinding", "metadata": {"name": "b"},
            "spec": {"policyName": "p", "validationActions": ["Warn", "Audit"]}
        }));
        assert_eq!(b.actions, [Action::Warn, Action::Audit]);
        assert!(b.problems.is_empty());
        let bad = Binding::parse(&json!({"metadata": {"name": "b"}, "spec": {"policyName": "p"}}));
        assert_eq!(bad.problems[0].path, "spec.validationActions");
    }
}
