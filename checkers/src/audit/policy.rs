//! The `audit.k8s.io/v1` Policy and its rule evaluation, with the semantics
//! of k8s.io/apiserver `pkg/audit/policy` (`checker.go`, `reader.go`) and
//! `pkg/apis/audit/validation`:
//!
//! - loading: `apiVersion: audit.k8s.io/v1`, `kind: Policy`, at least one
//!   rule; every rule has a valid `level`; `omitStages` name real stages;
//!   non-resource URLs start with `/` (or are `*`) and hold `*` only last;
//!   a rule names resources/namespaces or non-resource URLs, not both;
//!   `resourceNames` needs `resources`; groups are DNS subdomains, `""`
//!   (core) or `"*"` (every group, v1.36+). Unknown fields are ignored, as
//!   the API server's (non-strict) decoder does, and listed as warnings.
//! - evaluation: the first rule that matches wins; no match is level
//!   `None` with the policy-wide `omitStages`. A rule's omitted stages are
//!   the union of the policy's and its own; its `omitManagedFields`, when
//!   set, overrides the policy's.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The API version a policy file must declare.
pub const API_VERSION: &str = "audit.k8s.io/v1";

/// How much of a request the API server records.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Level {
    /// Nothing is logged.
    None,
    /// Request metadata (user, timestamp, resource, verb), no bodies.
    Metadata,
    /// Metadata and the request body.
    Request,
    /// Metadata, request and response bodies.
    RequestResponse,
}

impl Level {
    /// Every level, in upstream's order.
    pub const ALL: [Level; 4] = [
        Level::None,
        Level::Metadata,
        Level::Request,
        Level::RequestResponse,
    ];

    /// The name as written in a policy.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::None => "None",
            Level::Metadata => "Metadata",
            Level::Request => "Request",
            Level::RequestResponse => "RequestResponse",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| format!("unknown audit level {s:?}"))
    }
}

/// A stage of request handling at which an audit event can be recorded,
/// ordered as a request goes through them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Stage {
    /// As soon as the handler receives the request.
    RequestReceived,
    /// Response headers sent, body not yet (long-running requests: watch).
    ResponseStarted,
    /// The response body is complete.
    ResponseComplete,
    /// A panic occurred.
    Panic,
}

impl Stage {
    /// Every stage, in order.
    pub const ALL: [Stage; 4] = [
        Stage::RequestReceived,
        Stage::ResponseStarted,
        Stage::ResponseComplete,
        Stage::Panic,
    ];

    /// The name as written in a policy.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::RequestReceived => "RequestReceived",
            Stage::ResponseStarted => "ResponseStarted",
            Stage::ResponseComplete => "ResponseComplete",
            Stage::Panic => "Panic",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Stage {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Stage::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown audit stage {s:?}"))
    }
}

/// Why a policy does not load, with the field path (`rules[2].level`) of
/// the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A required field is absent (or empty).
    #[error("{path}: Required value{}", detail_suffix(.detail))]
    Missing {
        /// Field path.
        path: String,
        /// What is expected there, when worth saying.
        detail: String,
    },
    /// The value has the wrong JSON type.
    #[error("{path}: expected {expected}, got {got}")]
    WrongType {
        /// Field path.
        path: String,
        /// The type the field takes.
        expected: &'static str,
        /// The type found.
        got: &'static str,
    },
    /// A value outside the allowed set.
    #[error("{path}: Unsupported value: {got:?}: supported values: {}", supported.join(", "))]
    NotSupported {
        /// Field path.
        path: String,
        /// The value found.
        got: String,
        /// The values allowed.
        supported: Vec<&'static str>,
    },
    /// A value the API server rejects for the reason given.
    #[error("{path}: Invalid value: {value}: {reason}")]
    Invalid {
        /// Field path.
        path: String,
        /// The value, as JSON.
        value: String,
        /// Upstream's reason.
        reason: String,
    },
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

impl PolicyError {
    /// The field path of the offending value (`rules[0].omitStages[1]`).
    pub fn path(&self) -> &str {
        match self {
            PolicyError::Missing { path, .. }
            | PolicyError::WrongType { path, .. }
            | PolicyError::NotSupported { path, .. }
            | PolicyError::Invalid { path, .. } => path,
        }
    }
}

/// `resources[i]` of a rule: resources of one API group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupResources {
    /// The API group: `""` the core group, `"*"` every group.
    pub group: String,
    /// Resources (`pods`, `pods/log`, `*`, `pods/*`, `*/scale`); empty = all
    /// of the group.
    pub resources: Vec<String>,
    /// Object names; empty = any.
    pub resource_names: Vec<String>,
}

/// One rule of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRule {
    /// The level of requests this rule matches.
    pub level: Level,
    /// User names; empty = every user.
    pub users: Vec<String>,
    /// Groups, any of which matches; empty = every group.
    pub user_groups: Vec<String>,
    /// Verbs; empty = every verb.
    pub verbs: Vec<String>,
    /// Resources; empty (with no namespaces) = resource and non-resource
    /// requests alike.
    pub resources: Vec<GroupResources>,
    /// Namespaces; `""` is cluster-scoped resources.
    pub namespaces: Vec<String>,
    /// Non-resource URL paths, exact or with a trailing `*`.
    pub non_resource_urls: Vec<String>,
    /// Stages not recorded, besides the policy's.
    pub omit_stages: Vec<Stage>,
    /// Overrides the policy's `omitManagedFields` when set.
    pub omit_managed_fields: Option<bool>,
}

/// A loaded `audit.k8s.io/v1` Policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// The rules, in evaluation order.
    pub rules: Vec<PolicyRule>,
    /// Stages not recorded for any request.
    pub omit_stages: Vec<Stage>,
    /// Drop `managedFields` from logged bodies, unless a rule says otherwise.
    pub omit_managed_fields: bool,
    /// Field paths the API server's decoder ignores (unknown fields).
    #[serde(skip)]
    pub unknown_fields: Vec<String>,
}

/// A request as the API server's authorizer attributes describe it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Request {
    /// The user name; `None` = no user info at all (rules with users or
    /// userGroups never match). The API server records an unauthenticated
    /// request as `system:anonymous`, not as `None`.
    pub user: Option<String>,
    /// The user's groups (ignored when `user` is `None`).
    pub groups: Vec<String>,
    /// The verb (`get`, `list`, `create`, ...; HTTP-derived for non-resource
    /// requests).
    pub verb: String,
    /// The namespace; `""` for cluster-scoped resources.
    pub namespace: String,
    /// The API group; `""` = core.
    pub api_group: String,
    /// The API version (not used in matching).
    pub api_version: String,
    /// The resource (`pods`).
    pub resource: String,
    /// The subresource (`log`), or `""`.
    pub subresource: String,
    /// The object name, or `""`.
    pub name: String,
    /// The URL path (what non-resource rules match).
    pub path: String,
    /// A resource request (API object), not a non-resource URL.
    pub resource_request: bool,
}

/// What a policy decides for one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    /// The audit level.
    pub level: Level,
    /// Stages not recorded (a set; in stage order).
    pub omit_stages: BTreeSet<Stage>,
    /// Index of the rule that matched; `None` when none did.
    pub rule: Option<usize>,
    /// Whether `managedFields` are dropped from logged bodies.
    pub omit_managed_fields: bool,
}

/// The union of stage lists, without duplicates (upstream `unionStages`).
pub fn union_stages(lists: &[&[Stage]]) -> BTreeSet<Stage> {
    lists.iter().flat_map(|l| l.iter().copied()).collect()
}

impl Policy {
    /// Loads a policy document as the API server does at start-up
    /// (`--audit-policy-file`): decoding, then validation.
    pub fn parse(doc: &Value) -> Result<Policy, PolicyError> {
        let obj = as_object(doc, "")?;
        let mut unknown = Vec::new();
        for key in obj.keys() {
            if !matches!(
                key.as_str(),
                "apiVersion" | "kind" | "metadata" | "rules" | "omitStages" | "omitManagedFields"
            ) {
                unknown.push(key.clone());
            }
        }
        match obj.get("apiVersion") {
            None | Some(Value::Null) => {
                return Err(PolicyError::Missing {
                    path: "apiVersion".into(),
                    detail: format!("a policy file declares apiVersion: {API_VERSION}"),
                });
            }
            Some(Value::String(v)) if v == API_VERSION => {}
            Some(Value::String(v)) => {
                return Err(PolicyError::NotSupported {
                    path: "apiVersion".into(),
                    got: v.clone(),
                    supported: vec![API_VERSION],
                });
            }
            Some(other) => return Err(wrong_type("apiVersion", "a string", other)),
        }
        match obj.get("kind") {
            None | Some(Value::Null) => {
                return Err(PolicyError::Missing {
                    path: "kind".into(),
                    detail: "kind: Policy".into(),
                });
            }
            Some(Value::String(k)) if k == "Policy" => {}
            Some(Value::String(k)) => {
                return Err(PolicyError::NotSupported {
                    path: "kind".into(),
                    got: k.clone(),
                    supported: vec!["Policy"],
                });
            }
            Some(other) => return Err(wrong_type("kind", "a string", other)),
        }
        if let Some(m) = obj.get("metadata")
            && !m.is_null()
        {
            as_object(m, "metadata")?;
        }
        let omit_stages = stages(obj.get("omitStages"), "omitStages")?;
        let omit_managed_fields =
            opt_bool(obj.get("omitManagedFields"), "omitManagedFields")?.unwrap_or(false);
        let mut rules = Vec::new();
        for (i, r) in array(obj.get("rules"), "rules")?.iter().enumerate() {
            rules.push(parse_rule(r, &format!("rules[{i}]"), &mut unknown)?);
        }
        if rules.is_empty() {
            return Err(PolicyError::Missing {
                path: "rules".into(),
                detail:
                    "a policy needs at least one rule (the API server refuses one with 0 rules)"
                        .into(),
            });
        }
        Ok(Policy {
            rules,
            omit_stages,
            omit_managed_fields,
            unknown_fields: unknown,
        })
    }

    /// The audit configuration for `req`: the first matching rule's level,
    /// the union of the policy's and that rule's omitted stages, and the
    /// rule's `omitManagedFields` (else the policy's). No match: level
    /// `None`, the policy's stages and `omitManagedFields`.
    pub fn evaluate(&self, req: &Request) -> Evaluation {
        for (i, rule) in self.rules.iter().enumerate() {
            if rule.matches(req) {
                return Evaluation {
                    level: rule.level,
                    omit_stages: union_stages(&[&self.omit_stages, &rule.omit_stages]),
                    rule: Some(i),
                    omit_managed_fields: rule
                        .omit_managed_fields
                        .unwrap_or(self.omit_managed_fields),
                };
            }
        }
        Evaluation {
            level: Level::None,
            omit_stages: union_stages(&[&self.omit_stages]),
            rule: None,
            omit_managed_fields: self.omit_managed_fields,
        }
    }
}

impl PolicyRule {
    /// Whether this rule matches `req` (upstream `ruleMatches`).
    pub fn matches(&self, req: &Request) -> bool {
        if !self.users.is_empty() {
            match &req.user {
                Some(u) if self.users.contains(u) => {}
                _ => return false,
            }
        }
        if !self.user_groups.is_empty()
            && (req.user.is_none() || !req.groups.iter().any(|g| self.user_groups.contains(g)))
        {
            return false;
        }
        if !self.verbs.is_empty() && !self.verbs.contains(&req.verb) {
            return false;
        }
        if !self.namespaces.is_empty() || !self.resources.is_empty() {
            return self.matches_resource(req);
        }
        if !self.non_resource_urls.is_empty() {
            return self.matches_non_resource(req);
        }
        true
    }

    fn matches_non_resource(&self, req: &Request) -> bool {
        !req.resource_request
            && self
                .non_resource_urls
                .iter()
                .any(|spec| path_matches(&req.path, spec))
    }

    fn matches_resource(&self, req: &Request) -> bool {
        if !req.resource_request {
            return false;
        }
        // Cluster-scoped resources have the namespace "".
        if !self.namespaces.is_empty() && !self.namespaces.contains(&req.namespace) {
            return false;
        }
        if self.resources.is_empty() {
            return true;
        }
        let combined = if req.subresource.is_empty() {
            req.resource.clone()
        } else {
            format!("{}/{}", req.resource, req.subresource)
        };
        self.resources.iter().any(|gr| {
            if gr.group != req.api_group && gr.group != "*" {
                return false;
            }
            if gr.resources.is_empty() {
                return true;
            }
            if !gr.resource_names.is_empty() && !gr.resource_names.contains(&req.name) {
                return false;
            }
            gr.resources.iter().any(|res| {
                res == &combined
                    || res == "*"
                    || (!req.subresource.is_empty()
                        && res.strip_prefix("*/") == Some(req.subresource.as_str()))
                    || res.strip_suffix("/*") == Some(req.resource.as_str())
            })
        })
    }
}

/// Upstream `pathMatches`: `*`, exact, or a trailing-`*` prefix.
pub fn path_matches(path: &str, spec: &str) -> bool {
    if spec == "*" || spec == path {
        return true;
    }
    // Go's TrimRight strips every trailing `*`.
    spec.ends_with('*') && path.starts_with(spec.trim_end_matches('*'))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn wrong_type(path: &str, expected: &'static str, got: &Value) -> PolicyError {
    PolicyError::WrongType {
        path: path.to_owned(),
        expected,
        got: kind_of(got),
    }
}

fn as_object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, PolicyError> {
    v.as_object().ok_or_else(|| {
        wrong_type(
            if path.is_empty() { "<document>" } else { path },
            "a mapping",
            v,
        )
    })
}

/// A list field; absent or null = empty (as Go decodes a nil slice).
fn array<'a>(v: Option<&'a Value>, path: &str) -> Result<&'a [Value], PolicyError> {
    match v {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(other) => Err(wrong_type(path, "a list", other)),
    }
}

fn strings(v: Option<&Value>, path: &str) -> Result<Vec<String>, PolicyError> {
    array(v, path)?
        .iter()
        .enumerate()
        .map(|(i, s)| match s {
            Value::String(s) => Ok(s.clone()),
            other => Err(wrong_type(&format!("{path}[{i}]"), "a string", other)),
        })
        .collect()
}

fn opt_string(v: Option<&Value>, path: &str) -> Result<Option<String>, PolicyError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(wrong_type(path, "a string", other)),
    }
}

fn opt_bool(v: Option<&Value>, path: &str) -> Result<Option<bool>, PolicyError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(wrong_type(path, "a boolean", other)),
    }
}

fn stages(v: Option<&Value>, path: &str) -> Result<Vec<Stage>, PolicyError> {
    strings(v, path)?
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            s.parse().map_err(|_| PolicyError::Invalid {
                path: format!("{path}[{i}]"),
                value: format!("{s:?}"),
                reason: format!(
                    "allowed stages are {}",
                    Stage::ALL.map(Stage::as_str).join(",")
                ),
            })
        })
        .collect()
}

fn note_unknown(obj: &Map<String, Value>, known: &[&str], prefix: &str, unknown: &mut Vec<String>) {
    for key in obj.keys() {
        if !known.contains(&key.as_str()) {
            unknown.push(format!("{prefix}.{key}"));
        }
    }
}

fn parse_rule(v: &Value, path: &str, unknown: &mut Vec<String>) -> Result<PolicyRule, PolicyError> {
    let obj = as_object(v, path)?;
    note_unknown(
        obj,
        &[
            "level",
            "users",
            "userGroups",
            "verbs",
            "resources",
            "namespaces",
            "nonResourceURLs",
            "omitStages",
            "omitManagedFields",
        ],
        path,
        unknown,
    );
    let level_path = format!("{path}.level");
    let level = match opt_string(obj.get("level"), &level_path)?.as_deref() {
        None | Some("") => {
            return Err(PolicyError::Missing {
                path: level_path,
                detail: String::new(),
            });
        }
        Some(l) => l.parse().map_err(|_| PolicyError::NotSupported {
            path: level_path.clone(),
            got: l.to_owned(),
            supported: Level::ALL.map(Level::as_str).to_vec(),
        })?,
    };
    let users = strings(obj.get("users"), &format!("{path}.users"))?;
    let user_groups = strings(obj.get("userGroups"), &format!("{path}.userGroups"))?;
    let verbs = strings(obj.get("verbs"), &format!("{path}.verbs"))?;
    let namespaces = strings(obj.get("namespaces"), &format!("{path}.namespaces"))?;
    let urls_path = format!("{path}.nonResourceURLs");
    let non_resource_urls = strings(obj.get("nonResourceURLs"), &urls_path)?;
    for (i, url) in non_resource_urls.iter().enumerate() {
        if url == "*" {
            continue;
        }
        let invalid = |reason: &str| PolicyError::Invalid {
            path: format!("{urls_path}[{i}]"),
            value: format!("{url:?}"),
            reason: reason.to_owned(),
        };
        if !url.starts_with('/') {
            return Err(invalid(
                "non-resource URL rules must begin with a '/' character",
            ));
        }
        if url.chars().rev().skip(1).any(|c| c == '*') {
            return Err(invalid(
                "non-resource URL wildcards '*' must be the final character of the rule",
            ));
        }
    }
    let res_path = format!("{path}.resources");
    let mut resources = Vec::new();
    for (i, gr) in array(obj.get("resources"), &res_path)?.iter().enumerate() {
        resources.push(parse_group_resources(
            gr,
            &format!("{res_path}[{i}]"),
            unknown,
        )?);
    }
    let omit_stages = stages(obj.get("omitStages"), &format!("{path}.omitStages"))?;
    let omit_managed_fields = opt_bool(
        obj.get("omitManagedFields"),
        &format!("{path}.omitManagedFields"),
    )?;
    if !non_resource_urls.is_empty() && (!resources.is_empty() || !namespaces.is_empty()) {
        return Err(PolicyError::Invalid {
            path: urls_path,
            value: format!("{non_resource_urls:?}"),
            reason: "rules cannot apply to both regular resources and non-resource URLs".into(),
        });
    }
    Ok(PolicyRule {
        level,
        users,
        user_groups,
        verbs,
        resources,
        namespaces,
        non_resource_urls,
        omit_stages,
        omit_managed_fields,
    })
}

static DNS_SUBDOMAIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
        .expect("valid regex")
});

fn parse_group_resources(
    v: &Value,
    path: &str,
    unknown: &mut Vec<String>,
) -> Result<GroupResources, PolicyError> {
    let obj = as_object(v, path)?;
    note_unknown(obj, &["group", "resources", "resourceNames"], path, unknown);
    let group_path = format!("{path}.group");
    let group = opt_string(obj.get("group"), &group_path)?.unwrap_or_default();
    // "" is the core group; "*" every group (Kubernetes v1.36+).
    if !group.is_empty() && group != "*" && (group.len() > 253 || !DNS_SUBDOMAIN.is_match(&group)) {
        return Err(PolicyError::Invalid {
            path: group_path,
            value: format!("{group:?}"),
            reason: "a group is a lowercase DNS subdomain (rbac.authorization.k8s.io, no version), \"\" for the core group or \"*\" for every group".into(),
        });
    }
    let resources = strings(obj.get("resources"), &format!("{path}.resources"))?;
    let names_path = format!("{path}.resourceNames");
    let resource_names = strings(obj.get("resourceNames"), &names_path)?;
    if !resource_names.is_empty() && resources.is_empty() {
        return Err(PolicyError::Invalid {
            path: names_path,
            value: format!("{resource_names:?}"),
            reason: "using resourceNames requires at least one resource".into(),
        });
    }
    Ok(GroupResources {
        group,
        resources,
        resource_names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(rules: Value) -> Policy {
        let mut doc = json!({"apiVersion": API_VERSION, "kind": "Policy"});
        doc["rules"] = rules;
        Policy::parse(&doc).unwrap_or_else(|e| panic!("{e}"))
    }

    fn pod_log(user: &str) -> Request {
        Request {
            user: Some(user.into()),
            groups: vec!["devs".into()],
            verb: "get".into(),
            namespace: "shop".into(),
            resource: "pods".into(),
            subresource: "log".into(),
            name: "web-1".into(),
            resource_request: true,
            ..Request::default()
        }
    }

    #[test]
    fn first_matching_rule_wins_and_reports_its_index() {
        let p = policy(json!([
            {"level": "None", "users": ["bob"]},
            {"level": "Request", "resources": [{"resources": ["*/log"]}]},
            {"level": "Metadata"},
        ]));
        let e = p.evaluate(&pod_log("alice"));
        assert_eq!((e.level, e.rule), (Level::Request, Some(1)));
        let e = p.evaluate(&pod_log("bob"));
        assert_eq!((e.level, e.rule), (Level::None, Some(0)));
    }

    #[test]
    fn subresource_wildcards() {
        for (res, want) in [
            ("*/log", true),
            ("pods/*", true),
            ("pods/log", true),
            ("*", true),
            ("pods", false),
            ("*/exec", false),
            ("secrets/*", false),
        ] {
            let p = policy(json!([{"level": "Request", "resources": [{"resources": [res]}]}]));
            assert_eq!(p.evaluate(&pod_log("a")).rule.is_some(), want, "{res}");
        }
        // `*/sub` needs a subresource.
        let p = policy(json!([{"level": "Request", "resources": [{"resources": ["*/"]}]}]));
        let mut r = pod_log("a");
        r.subresource.clear();
        assert_eq!(p.evaluate(&r).rule, None);
    }

    #[test]
    fn group_wildcard_and_core_group() {
        let mut r = pod_log("a");
        let core = policy(json!([{"level": "Metadata", "resources": [{"group": ""}]}]));
        let star = policy(json!([{"level": "Metadata", "resources": [{"group": "*"}]}]));
        let apps = policy(json!([{"level": "Metadata", "resources": [{"group": "apps"}]}]));
        assert!(core.evaluate(&r).rule.is_some());
        assert!(star.evaluate(&r).rule.is_some());
        assert!(apps.evaluate(&r).rule.is_none());
        r.api_group = "apps".into();
        assert!(core.evaluate(&r).rule.is_none());
        assert!(star.evaluate(&r).rule.is_some());
        assert!(apps.evaluate(&r).rule.is_some());
    }

    #[test]
    fn resource_names_and_namespaces() {
        let p = policy(json!([{
            "level": "Request", "namespaces": [""],
            "resources": [{"group": "rbac.authorization.k8s.io", "resources": ["clusterroles"], "resourceNames": ["edit"]}],
        }]));
        let mut r = Request {
            user: Some("a".into()),
            verb: "update".into(),
            api_group: "rbac.authorization.k8s.io".into(),
            resource: "clusterroles".into(),
            name: "edit".into(),
            resource_request: true,
            ..Request::default()
        };
        assert_eq!(p.evaluate(&r).level, Level::Request);
        r.name = "view".into();
        assert_eq!(p.evaluate(&r).level, Level::None);
        r.name = "edit".into();
        r.namespace = "shop".into();
        assert_eq!(p.evaluate(&r).level, Level::None);
    }

    #[test]
    fn resource_and_non_resource_rules_do_not_cross() {
        let p = policy(json!([
            {"level": "Request", "nonResourceURLs": ["/healthz*"]},
            {"level": "Metadata", "namespaces": ["shop"]},
        ]));
        let url = Request {
            user: Some("a".into()),
            verb: "get".into(),
            path: "/healthz/etcd".into(),
            ..Request::default()
        };
        assert_eq!(p.evaluate(&url).rule, Some(0));
        let mut res = pod_log("a");
        res.path = "/healthz".into();
        assert_eq!(p.evaluate(&res).rule, Some(1));
        let other = Request {
            path: "/metrics".into(),
            ..url
        };
        assert_eq!(p.evaluate(&other).rule, None);
    }

    #[test]
    fn no_user_matches_no_user_or_group_rule() {
        let p = policy(json!([
            {"level": "Request", "userGroups": ["devs"]},
            {"level": "Metadata"},
        ]));
        let mut r = pod_log("a");
        assert_eq!(p.evaluate(&r).rule, Some(0));
        r.user = None;
        assert_eq!(p.evaluate(&r).rule, Some(1));
    }

    #[test]
    fn stages_union_and_managed_fields_override() {
        let p = Policy::parse(&json!({
            "apiVersion": API_VERSION, "kind": "Policy",
            "omitStages": ["RequestReceived"], "omitManagedFields": false,
            "rules": [
                {"level": "Request", "verbs": ["get"], "omitStages": ["Panic", "RequestReceived"], "omitManagedFields": true},
                {"level": "Metadata", "verbs": ["list"]},
            ],
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let e = p.evaluate(&pod_log("a"));
        assert_eq!(
            e.omit_stages.into_iter().collect::<Vec<_>>(),
            [Stage::RequestReceived, Stage::Panic]
        );
        assert!(e.omit_managed_fields);
        let mut r = pod_log("a");
        r.verb = "list".into();
        assert!(!p.evaluate(&r).omit_managed_fields);
        r.verb = "watch".into();
        let e = p.evaluate(&r);
        assert_eq!((e.level, e.rule), (Level::None, None));
        assert_eq!(e.omit_stages.len(), 1);
    }

    #[test]
    fn load_errors_name_the_field() {
        let base =
            |rules: Value| json!({"apiVersion": API_VERSION, "kind": "Policy", "rules": rules});
        for (doc, path) in [
            (
                json!({"kind": "Policy", "rules": [{"level": "None"}]}),
                "apiVersion",
            ),
            (
                json!({"apiVersion": "audit.k8s.io/v1beta1", "kind": "Policy"}),
                "apiVersion",
            ),
            (json!({"apiVersion": API_VERSION, "kind": "Pod"}), "kind"),
            (base(json!([])), "rules"),
            (base(json!({"level": "None"})), "rules"),
            (base(json!([{"verbs": ["get"]}])), "rules[0].level"),
            (base(json!([{"level": "Everything"}])), "rules[0].level"),
            (
                base(json!([{"level": "None", "verbs": "get"}])),
                "rules[0].verbs",
            ),
            (
                base(json!([{"level": "None", "omitStages": ["Done"]}])),
                "rules[0].omitStages[0]",
            ),
            (
                base(json!([{"level": "None", "nonResourceURLs": ["healthz"]}])),
                "rules[0].nonResourceURLs[0]",
            ),
            (
                base(json!([{"level": "None", "nonResourceURLs": ["/a*/b"]}])),
                "rules[0].nonResourceURLs[0]",
            ),
            (
                base(json!([{"level": "None", "nonResourceURLs": ["/a"], "namespaces": ["x"]}])),
                "rules[0].nonResourceURLs",
            ),
            (
                base(json!([{"level": "None", "resources": [{"group": "apps/v1"}]}])),
                "rules[0].resources[0].group",
            ),
            (
                base(json!([{"level": "None", "resources": [{"resourceNames": ["x"]}]}])),
                "rules[0].resources[0].resourceNames",
            ),
            (
                base(json!([{"level": "None", "omitManagedFields": "yes"}])),
                "rules[0].omitManagedFields",
            ),
        ] {
            match Policy::parse(&doc) {
                Err(e) => assert_eq!(e.path(), path, "{e}"),
                Ok(p) => panic!("{doc} loaded: {p:?}"),
            }
        }
    }

    #[test]
    fn unknown_fields_are_ignored_and_listed() {
        let p = Policy::parse(&json!({
            "apiVersion": API_VERSION, "kind": "Policy", "omitStage": ["Panic"],
            "rules": [{"level": "Metadata", "resource": [{"group": ""}]}],
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.unknown_fields, ["omitStage", "rules[0].resource"]);
        assert!(p.omit_stages.is_empty());
    }
}
