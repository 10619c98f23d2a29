//! The `audit_policy` check: the student's `audit.k8s.io/v1` Policy has
//! the properties the lab states, tested over a whole space of requests,
//! not one example each.
//!
//! A lab states its properties in lab.yaml:
//!
//! ```yaml
//! - audit_policy:
//!     target: audit-policy.yaml          # the workspace file with the Policy
//!     exactly:                           # these requests at exactly this level
//!       - level: Metadata
//!         resources: [secrets, configmaps, serviceaccounts/token, tokenreviews]
//!     at_least:                          # these requests at this level or more
//!       - level: Request
//!         resources: [pods]
//!         verbs: [create, update, patch, delete]
//!       - level: Metadata
//!         except: {non_resource_urls: ["/healthz*", "/readyz*", "/livez*"]}
//!     omit_stages: [RequestReceived]     # for every request that is logged
//!     battery:                           # single requests, stated one by one
//!       - {user: "system:serviceaccount:audit-logs:web", verb: get,
//!          resource: secrets, namespace: audit-logs, name: db-credentials,
//!          level: Metadata, omitted: [RequestReceived]}
//! ```
//!
//! Each property is checked by counterexample search over
//! [`request_space`]: every user of a list (people, service accounts, the
//! nodes, kube-proxy, the control plane, anonymous) × every verb × a list
//! of resources and subresources (pods/exec, pods/attach, pods/portforward,
//! pods/log, secrets, configmaps, serviceaccounts/token, tokenreviews,
//! namespaces, ...) in a lab namespace, in kube-system and across all
//! namespaces, with and without an object name, plus non-resource URLs
//! (/healthz, /readyz, /livez, /version, /metrics, /api, ...). Requests are
//! evaluated with [`Policy::evaluate`], exact to the API server. A property
//! that does not hold fails with its counterexamples: one request for each
//! rule (or for "no rule matched") that lets such requests through, what
//! the policy did with it (level, and the rule by index and in words), and
//! how many requests of the space go the same way.

use std::fmt::Write as _;
use std::sync::LazyLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::policy::{Evaluation, Level, Policy, PolicyRule, Request, Stage, path_matches};
use crate::rbac::{ResourceRef, implied_groups};
use crate::{Finding, KubeObject, Severity, Verdict};

/// Which requests an exception covers (see [`LevelProperty::except`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// Resource requests, each `R[.GROUP][/SUB]` as in
    /// [`LevelProperty::resources`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// Non-resource URLs, exact or with a trailing `*` (`/healthz*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub non_resource_urls: Vec<String>,
}

/// One property: the requests it covers are logged at a level (exactly, or
/// at least, by where it is listed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelProperty {
    /// The level.
    pub level: Level,
    /// What the property is about, in words, for messages ("Secrets,
    /// ConfigMaps and token requests"); the resources and URLs when not
    /// given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    /// Resource requests, each `R[.GROUP][/SUB]`: `secrets`, `pods/exec`,
    /// `tokenreviews` (a well-known resource gets its group:
    /// `tokenreviews.authentication.k8s.io`), `leases.coordination.k8s.io`,
    /// `pods/*` (every subresource of pods, not pods itself), `*/exec`, `*`
    /// (every resource request). `pods` is the pods themselves, not their
    /// subresources, as in a policy rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// Non-resource URLs, exact or with a trailing `*`. With neither
    /// `resources` nor `non_resource_urls` the property covers every
    /// request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub non_resource_urls: Vec<String>,
    /// Only requests with these verbs (`create`, `patch`, ...); empty:
    /// every verb.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verbs: Vec<String>,
    /// Requests left out of the property.
    #[serde(default, skip_serializing_if = "is_empty_scope")]
    pub except: Scope,
}

fn is_empty_scope(s: &Scope) -> bool {
    s.resources.is_empty() && s.non_resource_urls.is_empty()
}

/// One request of the battery and what the policy must do with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatteryCase {
    /// What the case stands for, for messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    /// The user name; none: unauthenticated (`system:anonymous`). The
    /// groups the API server adds (`system:authenticated`, a service
    /// account's) are added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Groups besides the implied ones (`system:masters`, `system:nodes`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// The verb (`get`, `create`, ...; for a URL the lower-case HTTP method).
    pub verb: String,
    /// A resource request: `R[.GROUP][/SUB]` (`secrets`, `pods/exec`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Its namespace; none: cluster-scoped (or across all namespaces).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The object's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A non-resource request: its URL path (`/healthz`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The level it must be logged at, exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    /// The level it must be logged at, at least.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<Level>,
    /// Stages that must not be recorded for it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub omitted: Vec<Stage>,
}

/// An `audit_policy:` check as written in lab.yaml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditPolicyCheck {
    /// The workspace file that holds the `audit.k8s.io/v1` Policy.
    pub target: String,
    /// Requests that must be logged at exactly a level.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exactly: Vec<LevelProperty>,
    /// Requests that must be logged at least at a level.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub at_least: Vec<LevelProperty>,
    /// Stages that must be omitted for every request that is logged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub omit_stages: Vec<Stage>,
    /// Single requests and what the policy must do with each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub battery: Vec<BatteryCase>,
}

/// A resource pattern, compiled: `None` fields match anything.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ResourcePattern {
    group: Option<String>,
    resource: Option<String>,
    sub: SubPattern,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum SubPattern {
    /// The resource itself, no subresource.
    None,
    /// Any subresource (not the resource itself).
    Any,
    /// This subresource.
    Is(String),
    /// The resource or any of its subresources (`*`).
    Either,
}

impl ResourcePattern {
    fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s == "*" {
            return Ok(Self {
                group: None,
                resource: None,
                sub: SubPattern::Either,
            });
        }
        let (base, sub) = match s.split_once('/') {
            Some((b, sub)) => (b, Some(sub)),
            None => (s, None),
        };
        let sub = match sub {
            None => SubPattern::None,
            Some("*") => SubPattern::Any,
            Some(x)
                if x.is_empty() || x.contains(['/', '*']) || x.contains(char::is_whitespace) =>
            {
                return Err(format!(
                    "resource `{s}`: the subresource after `/` is one word (`pods/exec`) or `*`"
                ));
            }
            Some(x) => SubPattern::Is(x.to_owned()),
        };
        if base == "*" {
            return Ok(Self {
                group: None,
                resource: None,
                sub,
            });
        }
        let (r, _) = ResourceRef::parse(base).map_err(|e| {
            format!(
                "resource `{s}`: {}: write R[.GROUP][/SUB], like `secrets`, `pods/exec` or `leases.coordination.k8s.io`",
                e.problem
            )
        })?;
        Ok(Self {
            group: Some(r.group),
            resource: Some(r.resource),
            sub,
        })
    }

    fn matches(&self, req: &Request) -> bool {
        req.resource_request
            && self.group.as_ref().is_none_or(|g| *g == req.api_group)
            && self.resource.as_ref().is_none_or(|r| *r == req.resource)
            && match &self.sub {
                SubPattern::None => req.subresource.is_empty(),
                SubPattern::Any => !req.subresource.is_empty(),
                SubPattern::Is(s) => *s == req.subresource,
                SubPattern::Either => true,
            }
    }
}

fn url_problem(url: &str) -> Option<String> {
    if url == "*" {
        return None;
    }
    if !url.starts_with('/') {
        return Some(format!("non-resource URL `{url}` must start with `/`"));
    }
    if url.chars().rev().skip(1).any(|c| c == '*') {
        return Some(format!(
            "non-resource URL `{url}`: `*` may only be the last character"
        ));
    }
    None
}

/// A compiled set of requests.
#[derive(Debug, Clone)]
struct Selector {
    resources: Vec<ResourcePattern>,
    urls: Vec<String>,
}

impl Selector {
    fn compile(resources: &[String], urls: &[String]) -> Result<Self, String> {
        let resources = resources
            .iter()
            .map(|r| ResourcePattern::parse(r))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(p) = urls.iter().find_map(|u| url_problem(u)) {
            return Err(p);
        }
        Ok(Self {
            resources,
            urls: urls.to_vec(),
        })
    }

    fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.urls.is_empty()
    }

    fn matches(&self, req: &Request) -> bool {
        if req.resource_request {
            self.resources.iter().any(|p| p.matches(req))
        } else {
            self.urls.iter().any(|u| path_matches(&req.path, u))
        }
    }
}

impl LevelProperty {
    fn selectors(&self) -> Result<(Selector, Selector), String> {
        Ok((
            Selector::compile(&self.resources, &self.non_resource_urls)?,
            Selector::compile(&self.except.resources, &self.except.non_resource_urls)?,
        ))
    }

    /// What the property covers, in words.
    pub fn subject(&self) -> String {
        if let Some(a) = &self.about {
            return a.trim().to_owned();
        }
        let mut parts: Vec<String> = self
            .resources
            .iter()
            .chain(&self.non_resource_urls)
            .cloned()
            .collect();
        if parts.is_empty() {
            parts.push("every request".to_owned());
        }
        let mut s = parts.join(", ");
        if !self.verbs.is_empty() {
            let _ = write!(s, " ({})", self.verbs.join(", "));
        }
        let except: Vec<&String> = self
            .except
            .resources
            .iter()
            .chain(&self.except.non_resource_urls)
            .collect();
        if !except.is_empty() {
            let _ = write!(
                s,
                " but {}",
                except
                    .iter()
                    .map(|e| e.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        s
    }
}

impl BatteryCase {
    /// The request this case describes, or why it describes none.
    pub fn request(&self) -> Result<Request, String> {
        let user = self
            .user
            .clone()
            .unwrap_or_else(|| "system:anonymous".to_owned());
        let mut groups = self.groups.clone();
        for g in implied_groups(&user) {
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
        let verb = self.verb.trim().to_owned();
        if verb.is_empty() {
            return Err("battery: a case needs a verb".to_owned());
        }
        let mut req = Request {
            user: Some(user),
            groups,
            verb,
            ..Request::default()
        };
        match (&self.resource, &self.path) {
            (Some(r), None) => {
                let p = ResourcePattern::parse(r)?;
                let (Some(group), Some(resource)) = (p.group, p.resource) else {
                    return Err(format!(
                        "battery: resource `{r}` is a pattern; a case names one resource"
                    ));
                };
                req.subresource = match p.sub {
                    SubPattern::None => String::new(),
                    SubPattern::Is(s) => s,
                    SubPattern::Any | SubPattern::Either => {
                        return Err(format!(
                            "battery: resource `{r}` is a pattern; a case names one subresource"
                        ));
                    }
                };
                req.resource_request = true;
                req.api_group = group;
                req.resource = resource;
                req.namespace = self.namespace.clone().unwrap_or_default();
                req.name = self.name.clone().unwrap_or_default();
            }
            (None, Some(path)) => {
                if let Some(p) = url_problem(path).filter(|_| path != "*") {
                    return Err(format!("battery: {p}"));
                }
                if path.contains('*') {
                    return Err(format!(
                        "battery: path `{path}` is a pattern; a case names one URL"
                    ));
                }
                if self.namespace.is_some() || self.name.is_some() {
                    return Err(format!(
                        "battery: path `{path}` is a URL: it has no namespace or name"
                    ));
                }
                req.path.clone_from(path);
            }
            _ => {
                return Err(
                    "battery: a case names exactly one of resource (an API object) or path (a URL)"
                        .to_owned(),
                );
            }
        }
        Ok(req)
    }
}

impl AuditPolicyCheck {
    /// What is wrong with the check itself (for `seclab validate`).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.target.trim().is_empty() {
            out.push("audit_policy: target names the workspace file with the Policy".to_owned());
        }
        if self.exactly.is_empty()
            && self.at_least.is_empty()
            && self.omit_stages.is_empty()
            && self.battery.is_empty()
        {
            out.push(
                "audit_policy: states nothing (give exactly, at_least, omit_stages or battery)"
                    .to_owned(),
            );
        }
        for p in self.exactly.iter().chain(&self.at_least) {
            if let Err(e) = p.selectors() {
                out.push(format!("audit_policy: {e}"));
            }
        }
        for c in &self.battery {
            if let Err(e) = c.request() {
                out.push(format!("audit_policy: {e}"));
            }
            match (c.level, c.at_least) {
                (Some(_), Some(_)) => out.push(
                    "audit_policy: battery: a case gives level (exactly) or at_least, not both"
                        .to_owned(),
                ),
                (None, None) if c.omitted.is_empty() => out.push(
                    "audit_policy: battery: a case states a level, at_least or omitted stages"
                        .to_owned(),
                ),
                _ => {}
            }
        }
        out
    }

    /// A one-line description for listings.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for p in &self.exactly {
            parts.push(format!("{} at exactly {}", p.subject(), p.level));
        }
        for p in &self.at_least {
            parts.push(format!("{} at least at {}", p.subject(), p.level));
        }
        if !self.omit_stages.is_empty() {
            parts.push(format!(
                "{} omitted",
                self.omit_stages
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !self.battery.is_empty() {
            parts.push(format!("{} example requests", self.battery.len()));
        }
        format!("audit policy {}: {}", self.target, parts.join("; "))
    }
}

/// The users of the request space: name and the groups the authenticator
/// gives (the implied ones are added).
const USERS: &[(&str, &[&str])] = &[
    ("kubernetes-admin", &["system:masters"]),
    ("alice@example.com", &["developers"]),
    ("system:serviceaccount:audit-logs:web", &[]),
    (
        "system:serviceaccount:kube-system:replicaset-controller",
        &[],
    ),
    ("system:node:seclab-control-plane", &["system:nodes"]),
    ("system:kube-proxy", &[]),
    ("system:kube-controller-manager", &[]),
    ("system:kube-scheduler", &[]),
    ("system:apiserver", &["system:masters"]),
    ("system:anonymous", &[]),
];

/// Every verb of a resource request.
const VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

/// The verbs of non-resource requests (lower-case HTTP methods).
const URL_VERBS: &[&str] = &["get", "post", "put", "delete"];

/// Resources of the space: group, resource, subresource, namespaced.
const RESOURCES: &[(&str, &str, &str, bool)] = &[
    ("", "pods", "", true),
    ("", "pods", "exec", true),
    ("", "pods", "attach", true),
    ("", "pods", "portforward", true),
    ("", "pods", "log", true),
    ("", "pods", "status", true),
    ("", "pods", "binding", true),
    ("", "secrets", "", true),
    ("", "configmaps", "", true),
    ("", "serviceaccounts", "", true),
    ("", "serviceaccounts", "token", true),
    ("authentication.k8s.io", "tokenreviews", "", false),
    ("authorization.k8s.io", "subjectaccessreviews", "", false),
    ("authorization.k8s.io", "selfsubjectrulesreviews", "", false),
    ("", "namespaces", "", false),
    ("", "nodes", "", false),
    ("", "nodes", "status", false),
    ("", "services", "", true),
    ("", "events", "", true),
    ("events.k8s.io", "events", "", true),
    ("coordination.k8s.io", "leases", "", true),
    ("discovery.k8s.io", "endpointslices", "", true),
    ("apps", "deployments", "", true),
    ("apps", "deployments", "scale", true),
    ("rbac.authorization.k8s.io", "roles", "", true),
    ("rbac.authorization.k8s.io", "rolebindings", "", true),
    ("rbac.authorization.k8s.io", "clusterroles", "", false),
    (
        "rbac.authorization.k8s.io",
        "clusterrolebindings",
        "",
        false,
    ),
];

/// Namespaces of namespaced requests: the lab's, kube-system, and `""`
/// (across all namespaces: `kubectl get secrets -A`).
const NAMESPACES: &[&str] = &["audit-logs", "kube-system", ""];

/// Object names: none (a collection) and one.
const NAMES: &[&str] = &["", "db-credentials"];

/// Non-resource URLs of the space.
const URLS: &[&str] = &[
    "/healthz",
    "/healthz/etcd",
    "/readyz",
    "/readyz/ping",
    "/livez",
    "/livez/ping",
    "/version",
    "/metrics",
    "/api",
    "/api/v1",
    "/apis",
    "/openapi/v2",
    "/openapi/v3",
    "/logs",
];

static SPACE: LazyLock<Vec<Request>> = LazyLock::new(build_space);

fn build_space() -> Vec<Request> {
    let mut out = Vec::new();
    for (user, extra) in USERS {
        let mut groups: Vec<String> = extra.iter().map(|g| (*g).to_owned()).collect();
        groups.extend(implied_groups(user));
        for (group, resource, sub, namespaced) in RESOURCES {
            let namespaces: &[&str] = if *namespaced { NAMESPACES } else { &[""] };
            for verb in VERBS {
                for ns in namespaces {
                    for name in NAMES {
                        out.push(Request {
                            user: Some((*user).to_owned()),
                            groups: groups.clone(),
                            verb: (*verb).to_owned(),
                            namespace: (*ns).to_owned(),
                            api_group: (*group).to_owned(),
                            api_version: "v1".to_owned(),
                            resource: (*resource).to_owned(),
                            subresource: (*sub).to_owned(),
                            name: (*name).to_owned(),
                            path: String::new(),
                            resource_request: true,
                        });
                    }
                }
            }
        }
        for url in URLS {
            for verb in URL_VERBS {
                out.push(Request {
                    user: Some((*user).to_owned()),
                    groups: groups.clone(),
                    verb: (*verb).to_owned(),
                    path: (*url).to_owned(),
                    ..Request::default()
                });
            }
        }
    }
    out
}

/// The requests every property is checked over (see the module docs).
pub fn request_space() -> &'static [Request] {
    &SPACE
}

/// A property that does not hold, with one counterexample for one way it
/// fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// What was required, in words.
    pub required: String,
    /// The first request of the space that breaks it this way.
    pub request: Request,
    /// What the policy does with that request.
    pub evaluation: Evaluation,
    /// How many requests of the space break it the same way (same rule,
    /// same level).
    pub count: usize,
    /// How many requests the property covers.
    pub covered: usize,
    /// Why that level is a problem, for the student.
    pub why: String,
    /// It is a battery case of the check, not a property.
    pub example: bool,
}

#[derive(Clone, Copy)]
enum Bound {
    Exactly,
    AtLeast,
}

/// Failures grouped by (deciding rule, level): first request and count.
type Groups = Vec<((Option<usize>, Level), usize, usize)>;

fn add_to_group(groups: &mut Groups, key: (Option<usize>, Level), idx: usize) {
    match groups.iter_mut().find(|(k, _, _)| *k == key) {
        Some(g) => g.2 += 1,
        None => groups.push((key, idx, 1)),
    }
}

fn level_why(want: Level, bound: Bound, got: Level) -> String {
    match (bound, got) {
        (_, Level::None) => {
            "at None nothing is written: such a request leaves no trace in the log".to_owned()
        }
        (Bound::Exactly, got) if got > want && want == Level::Metadata => format!(
            "{got} writes the request{} body into the log: a Secret's value, a ConfigMap's data or a token, in clear text, for everyone who reads the log",
            if got == Level::RequestResponse {
                " and the response"
            } else {
                ""
            }
        ),
        (Bound::Exactly, got) if got > want => format!("{got} records more than {want}"),
        _ => format!("{got} records less than {want}"),
    }
}

/// Every way `policy` breaks the level properties and omitted stages of
/// `check` over the request space, then the battery cases it fails (as
/// violations with `count` 1 and `covered` 1). `Err`: the check itself is
/// broken (a pattern that does not parse).
pub fn violations(check: &AuditPolicyCheck, policy: &Policy) -> Result<Vec<Violation>, String> {
    let space = request_space();
    let evals: Vec<Evaluation> = space.iter().map(|r| policy.evaluate(r)).collect();
    let mut out = Vec::new();
    let props = check
        .exactly
        .iter()
        .map(|p| (p, Bound::Exactly))
        .chain(check.at_least.iter().map(|p| (p, Bound::AtLeast)));
    for (prop, bound) in props {
        let (sel, except) = prop.selectors()?;
        let mut covered = 0;
        let mut groups: Groups = Vec::new();
        for (i, req) in space.iter().enumerate() {
            if !(sel.is_empty() || sel.matches(req))
                || except.matches(req)
                || !(prop.verbs.is_empty() || prop.verbs.contains(&req.verb))
            {
                continue;
            }
            covered += 1;
            let got = evals[i].level;
            let ok = match bound {
                Bound::Exactly => got == prop.level,
                Bound::AtLeast => got >= prop.level,
            };
            if !ok {
                add_to_group(&mut groups, (evals[i].rule, got), i);
            }
        }
        let required = format!(
            "{} must be logged at {} {}",
            prop.subject(),
            match bound {
                Bound::Exactly => "exactly",
                Bound::AtLeast => "least at",
            },
            prop.level
        );
        for ((_, got), first, count) in groups {
            out.push(Violation {
                required: required.clone(),
                request: space[first].clone(),
                evaluation: evals[first].clone(),
                count,
                covered,
                why: level_why(prop.level, bound, got),
                example: false,
            });
        }
    }
    for stage in &check.omit_stages {
        let mut groups: Groups = Vec::new();
        let mut covered = 0;
        for (i, e) in evals.iter().enumerate() {
            if e.level == Level::None {
                continue;
            }
            covered += 1;
            if !e.omit_stages.contains(stage) {
                add_to_group(&mut groups, (e.rule, e.level), i);
            }
        }
        for (_, first, count) in groups {
            out.push(Violation {
                required: format!("stage {stage} must be omitted for every request that is logged"),
                request: space[first].clone(),
                evaluation: evals[first].clone(),
                count,
                covered,
                why: stage_why(*stage),
                example: false,
            });
        }
    }
    for case in &check.battery {
        let req = case.request()?;
        let e = policy.evaluate(&req);
        let mut wrong = Vec::new();
        if let Some(l) = case.level
            && e.level != l
        {
            wrong.push((
                format!("logged at exactly {l}"),
                level_why(l, Bound::Exactly, e.level),
            ));
        }
        if let Some(l) = case.at_least
            && e.level < l
        {
            wrong.push((
                format!("logged at least at {l}"),
                level_why(l, Bound::AtLeast, e.level),
            ));
        }
        if e.level != Level::None {
            for s in &case.omitted {
                if !e.omit_stages.contains(s) {
                    wrong.push((format!("logged without stage {s}"), stage_why(*s)));
                }
            }
        }
        for (what, why) in wrong {
            out.push(Violation {
                required: format!(
                    "{} must be {what}",
                    case.about
                        .as_deref()
                        .map_or_else(|| "this request".to_owned(), |a| a.trim().to_owned())
                ),
                request: req.clone(),
                evaluation: e.clone(),
                count: 1,
                covered: 1,
                why,
                example: true,
            });
        }
    }
    Ok(out)
}

fn stage_why(stage: Stage) -> String {
    match stage {
        Stage::RequestReceived => "RequestReceived writes a second event for every request, before it is even handled: the log doubles and says nothing the ResponseComplete event does not".to_owned(),
        other => format!("{other} is recorded"),
    }
}

/// A request in one line: `` `create secrets "db-credentials" in namespace
/// kube-system` by system:serviceaccount:audit-logs:web ``.
pub fn describe_request(req: &Request) -> String {
    let mut s = format!("`{}", req.verb);
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
        if !req.namespace.is_empty() {
            let _ = write!(s, " in namespace {}", req.namespace);
        }
    } else {
        let _ = write!(s, " {}", req.path);
    }
    let _ = write!(s, "` by {}", req.user.as_deref().unwrap_or("<no user>"));
    s
}

fn list(v: &[String]) -> String {
    v.join(", ")
}

/// A rule in words: `rules[2] (level None, nonResourceURLs /healthz*)`.
pub fn describe_rule(index: usize, rule: &PolicyRule) -> String {
    let mut parts = vec![format!("level {}", rule.level)];
    if !rule.users.is_empty() {
        parts.push(format!("users {}", list(&rule.users)));
    }
    if !rule.user_groups.is_empty() {
        parts.push(format!("userGroups {}", list(&rule.user_groups)));
    }
    if !rule.verbs.is_empty() {
        parts.push(format!("verbs {}", list(&rule.verbs)));
    }
    for gr in &rule.resources {
        let group = if gr.group.is_empty() {
            "core group".to_owned()
        } else {
            format!("group {}", gr.group)
        };
        let what = if gr.resources.is_empty() {
            "every resource".to_owned()
        } else {
            list(&gr.resources)
        };
        let mut p = format!("{what} ({group})");
        if !gr.resource_names.is_empty() {
            let _ = write!(p, " named {}", list(&gr.resource_names));
        }
        parts.push(p);
    }
    if !rule.namespaces.is_empty() {
        let ns: Vec<String> = rule
            .namespaces
            .iter()
            .map(|n| {
                if n.is_empty() {
                    "\"\" (cluster-scoped)".to_owned()
                } else {
                    n.clone()
                }
            })
            .collect();
        parts.push(format!("namespaces {}", ns.join(", ")));
    }
    if !rule.non_resource_urls.is_empty() {
        parts.push(format!("nonResourceURLs {}", list(&rule.non_resource_urls)));
    }
    if rule.users.is_empty()
        && rule.user_groups.is_empty()
        && rule.verbs.is_empty()
        && rule.resources.is_empty()
        && rule.namespaces.is_empty()
        && rule.non_resource_urls.is_empty()
    {
        parts.push("every request".to_owned());
    }
    if !rule.omit_stages.is_empty() {
        let st: Vec<&str> = rule.omit_stages.iter().map(|s| s.as_str()).collect();
        parts.push(format!("omitStages {}", st.join(", ")));
    }
    format!("rules[{index}] ({})", parts.join("; "))
}

fn is_policy_doc(o: &KubeObject) -> bool {
    o.kind() == "Policy" || o.api_version().starts_with("audit.k8s.io/")
}

/// The Policy objects of the check's file, as the workspace holds them.
pub fn targets<'a>(check: &AuditPolicyCheck, workspace: &'a [KubeObject]) -> Vec<&'a KubeObject> {
    workspace
        .iter()
        .filter(|o| o.source.as_deref() == Some(check.target.as_str()))
        .collect()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Grades the workspace's policy file against the check's properties.
pub fn grade(check: &AuditPolicyCheck, workspace: &[KubeObject]) -> Verdict {
    let in_file = targets(check, workspace);
    let Some(first) = in_file.first() else {
        return Verdict::fail(format!(
            "{} is not in the workspace (or holds no YAML document): it is the file with your audit.k8s.io/v1 Policy",
            check.target
        ));
    };
    if let Some(second) = in_file.get(1) {
        return Verdict::from_findings(vec![
            Finding::error(format!(
                "{} holds {} documents: the API server reads one Policy from its --audit-policy-file",
                check.target,
                in_file.len()
            ))
            .about(second)
            .at("kind"),
        ]);
    }
    if !is_policy_doc(first) {
        return Verdict::from_findings(vec![
            Finding::error(format!(
                "{} holds a {} ({}), not an audit policy: apiVersion: audit.k8s.io/v1, kind: Policy",
                check.target,
                if first.kind().is_empty() {
                    "document without kind"
                } else {
                    first.kind()
                },
                if first.api_version().is_empty() {
                    "no apiVersion"
                } else {
                    first.api_version()
                }
            ))
            .about(first)
            .at("kind"),
        ]);
    }
    let obj = *first;
    let policy = match Policy::parse(&obj.value) {
        Ok(p) => p,
        Err(e) => {
            let mut f = in_policy(
                Finding::error(format!(
                    "kube-apiserver would not start with this policy: {e}"
                )),
                obj,
            );
            if !e.path().starts_with('<') {
                f = f.at(e.path());
            }
            return Verdict::from_findings(vec![f]);
        }
    };
    let mut findings: Vec<Finding> = policy
        .unknown_fields
        .iter()
        .map(|field| {
            in_policy(
                Finding::warning(format!(
                    "unknown field `{field}`: the API server ignores it (a typo? what it was meant to say has no effect)"
                )),
                obj,
            )
            .at(field.clone())
        })
        .collect();
    let violations = match violations(check, &policy) {
        Ok(v) => v,
        Err(e) => return Verdict::fail(format!("the lab's audit_policy check is broken: {e}")),
    };
    // The examples of the battery are told one by one only when every
    // property holds; otherwise they mostly repeat a counterexample.
    let properties_fail = violations.iter().any(|v| !v.example);
    let mut examples_failed: Vec<&str> = Vec::new();
    for v in &violations {
        if v.example && properties_fail {
            let about = v.required.split(" must be ").next().unwrap_or_default();
            if !examples_failed.contains(&about) {
                examples_failed.push(about);
            }
            continue;
        }
        let (decided, at) = match v.evaluation.rule {
            Some(i) => (describe_rule(i, &policy.rules[i]), format!("rules[{i}]")),
            None => (
                "no rule: none matches it, so it gets level None".to_owned(),
                "rules".to_owned(),
            ),
        };
        let mut msg = format!(
            "{}: {} is logged at {}, decided by {decided}. {}",
            v.required,
            describe_request(&v.request),
            v.evaluation.level,
            capitalise(&v.why)
        );
        if v.count == v.covered && v.covered > 1 {
            let _ = write!(msg, " (all {} requests it covers go this way)", v.covered);
        } else if v.covered > 1 {
            let _ = write!(
                msg,
                " ({} of the {} it covers go this way)",
                plural(v.count, "request", "requests"),
                v.covered
            );
        }
        findings.push(in_policy(Finding::error(msg), obj).at(at));
    }
    if !examples_failed.is_empty() {
        findings.push(
            in_policy(
                Finding::error(format!(
                    "{} of the lab's {} fail as well: {}",
                    plural(examples_failed.len(), "example", "examples"),
                    plural(check.battery.len(), "example request", "example requests"),
                    examples_failed.join("; ")
                )),
                obj,
            )
            .at("rules"),
        );
    }
    if !findings.iter().any(|f| f.severity == Severity::Error) {
        let props = check.exactly.len() + check.at_least.len() + check.omit_stages.len();
        findings.push(Finding::info(format!(
            "{} hold for all {} requests tried ({} users × every verb × {} resources and {} URLs), and {} pass",
            plural(props, "property", "properties"),
            request_space().len(),
            USERS.len(),
            RESOURCES.len(),
            URLS.len(),
            plural(check.battery.len(), "example request", "example requests"),
        )));
    }
    Verdict::from_findings(findings)
}

/// A finding about the policy file (a Policy has no name to show).
fn in_policy(mut f: Finding, obj: &KubeObject) -> Finding {
    f.source.clone_from(&obj.source);
    f.doc = obj.source.as_ref().map(|_| obj.doc);
    f
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn check() -> AuditPolicyCheck {
        serde_json::from_value(json!({
            "target": "audit-policy.yaml",
            "exactly": [{"level": "Metadata", "about": "Secrets, ConfigMaps and token requests",
                "resources": ["secrets", "configmaps", "serviceaccounts/token", "tokenreviews"]}],
            "at_least": [{"level": "Metadata",
                "except": {"non_resource_urls": ["/healthz*", "/readyz*", "/livez*"]}}],
            "omit_stages": ["RequestReceived"],
            "battery": [{"user": "system:serviceaccount:audit-logs:web", "verb": "get",
                "resource": "secrets", "namespace": "audit-logs", "name": "db-credentials",
                "level": "Metadata", "omitted": ["RequestReceived"]}],
        }))
        .expect("a valid check")
    }

    fn policy_obj(rules: Value, omit: Value) -> KubeObject {
        let mut doc = json!({"apiVersion": "audit.k8s.io/v1", "kind": "Policy"});
        doc["omitStages"] = omit;
        doc["rules"] = rules;
        let mut o = KubeObject::new(doc);
        o.source = Some("audit-policy.yaml".into());
        o
    }

    fn good() -> KubeObject {
        policy_obj(
            json!([
                {"level": "Metadata", "resources": [
                    {"group": "", "resources": ["secrets", "configmaps", "serviceaccounts/token"]},
                    {"group": "authentication.k8s.io", "resources": ["tokenreviews"]}]},
                {"level": "None", "nonResourceURLs": ["/healthz*", "/readyz*", "/livez*"]},
                {"level": "Request", "resources": [{"group": "", "resources": ["pods/exec"]}]},
                {"level": "Metadata"},
            ]),
            json!(["RequestReceived"]),
        )
    }

    fn errors(v: &Verdict) -> Vec<&str> {
        v.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.message.as_str())
            .collect()
    }

    #[test]
    fn a_good_policy_holds_every_property() {
        let v = grade(&check(), &[good()]);
        assert!(v.passed(), "{:?}", v.findings);
        assert!(v.findings[0].message.contains("hold for all"), "{v:?}");
    }

    #[test]
    fn secrets_at_request_response_is_a_counterexample_at_its_rule() {
        let p = policy_obj(
            json!([
                {"level": "None", "nonResourceURLs": ["/healthz*", "/readyz*", "/livez*"]},
                {"level": "RequestResponse"},
            ]),
            json!(["RequestReceived"]),
        );
        let v = grade(&check(), &[p]);
        let errs = errors(&v);
        assert!(!errs.is_empty());
        assert!(
            errs[0].contains("at exactly Metadata")
                && errs[0].contains("`get secrets in namespace audit-logs` by kubernetes-admin")
                && errs[0].contains("(all 1600 requests it covers go this way)")
                && errs[0].contains("rules[1] (level RequestResponse; every request)")
                && errs[0].contains("clear text"),
            "{errs:?}"
        );
        assert_eq!(v.findings[0].paths, ["rules[1]"]);
    }

    #[test]
    fn a_rule_for_one_namespace_misses_the_others() {
        let p = policy_obj(
            json!([
                {"level": "Metadata", "namespaces": ["audit-logs"], "resources": [
                    {"group": "", "resources": ["secrets", "configmaps", "serviceaccounts/token"]}]},
                {"level": "Metadata", "resources": [{"group": "authentication.k8s.io", "resources": ["tokenreviews"]}]},
                {"level": "RequestResponse"},
            ]),
            json!(["RequestReceived"]),
        );
        let vs = violations(&check(), &Policy::parse(&p.value).expect("loads")).expect("check");
        assert_eq!(vs.len(), 1, "{vs:?}");
        assert_eq!(vs[0].request.namespace, "kube-system");
        assert_eq!(vs[0].evaluation.rule, Some(2));
    }

    #[test]
    fn no_match_is_none_at_the_rules_list() {
        let p = policy_obj(
            json!([{"level": "Metadata", "resources": [{"group": "", "resources": ["secrets"]}]}]),
            json!(["RequestReceived"]),
        );
        let v = grade(&check(), &[p]);
        let f = v
            .findings
            .iter()
            .find(|f| f.message.contains("no rule"))
            .expect("a no-match counterexample");
        assert_eq!(f.paths, ["rules"]);
        assert!(f.message.contains("leaves no trace"), "{}", f.message);
    }

    #[test]
    fn a_gap_for_one_group_or_verb_is_found() {
        // Nodes' reads of Secrets at RequestResponse: a rule for a group
        // before the Secrets rule.
        let mut p = good();
        p.value["rules"].as_array_mut().expect("rules").insert(
            0,
            json!({"level": "RequestResponse", "userGroups": ["system:nodes"], "verbs": ["watch"],
                    "resources": [{"group": "", "resources": ["secrets"]}]}),
        );
        let vs = violations(&check(), &Policy::parse(&p.value).expect("loads")).expect("check");
        assert_eq!(vs.len(), 1, "{vs:?}");
        let r = &vs[0].request;
        assert_eq!(
            (r.user.as_deref(), r.verb.as_str(), r.resource.as_str()),
            (Some("system:node:seclab-control-plane"), "watch", "secrets")
        );
        assert_eq!(vs[0].evaluation.rule, Some(0));
        // 3 namespaces × 2 names: every such request, no other.
        assert_eq!(vs[0].count, 6);
    }

    #[test]
    fn request_received_kept_by_one_rule() {
        let p = policy_obj(
            json!([
                {"level": "Metadata", "omitStages": ["RequestReceived"], "resources": [
                    {"group": "", "resources": ["secrets", "configmaps", "serviceaccounts/token"]},
                    {"group": "authentication.k8s.io", "resources": ["tokenreviews"]}]},
                {"level": "Metadata"},
            ]),
            json!([]),
        );
        let vs = violations(&check(), &Policy::parse(&p.value).expect("loads")).expect("check");
        assert_eq!(vs.len(), 1, "{vs:?}");
        assert!(vs[0].required.contains("RequestReceived"));
        assert_eq!(vs[0].evaluation.rule, Some(1));
    }

    #[test]
    fn load_errors_and_unknown_fields_point_at_the_field() {
        let p = policy_obj(json!([{"level": "Everything"}]), json!([]));
        let v = grade(&check(), &[p]);
        assert_eq!(v.findings[0].paths, ["rules[0].level"]);
        assert!(v.findings[0].message.contains("would not start"));
        let mut p = good();
        p.value["rules"][3]["verb"] = json!(["get"]);
        let v = grade(&check(), &[p]);
        assert!(v.passed());
        assert_eq!(v.findings[0].severity, Severity::Warning);
        assert_eq!(v.findings[0].paths, ["rules[3].verb"]);
    }

    #[test]
    fn the_file_must_hold_one_policy() {
        assert!(!grade(&check(), &[]).passed());
        let mut cm = KubeObject::new(json!({"apiVersion": "v1", "kind": "ConfigMap"}));
        cm.source = Some("audit-policy.yaml".into());
        let v = grade(&check(), std::slice::from_ref(&cm));
        assert!(
            v.findings[0].message.contains("not an audit policy"),
            "{v:?}"
        );
        let mut second = good();
        second.doc = 1;
        let v = grade(&check(), &[good(), second]);
        assert!(v.findings[0].message.contains("2 documents"), "{v:?}");
    }

    #[test]
    fn patterns_cover_what_they_say() {
        let req = |res: &str, sub: &str, group: &str| Request {
            resource_request: true,
            resource: res.into(),
            subresource: sub.into(),
            api_group: group.into(),
            ..Request::default()
        };
        let m = |pat: &str, r: &Request| ResourcePattern::parse(pat).expect("parses").matches(r);
        assert!(m("pods", &req("pods", "", "")));
        assert!(!m("pods", &req("pods", "exec", "")));
        assert!(m("pods/*", &req("pods", "exec", "")));
        assert!(!m("pods/*", &req("pods", "", "")));
        assert!(m("*/exec", &req("pods", "exec", "")));
        assert!(m("*", &req("pods", "exec", "")));
        assert!(m(
            "tokenreviews",
            &req("tokenreviews", "", "authentication.k8s.io")
        ));
        assert!(!m("secrets", &req("secrets", "", "apps")));
        assert!(ResourcePattern::parse("pods/").is_err());
        assert!(ResourcePattern::parse("pods/a/b").is_err());
        let mut c = check();
        c.at_least[0]
            .except
            .non_resource_urls
            .push("healthz".into());
        c.battery[0].resource = Some("pods/*".into());
        let p = c.problems();
        assert_eq!(p.len(), 2, "{p:?}");
    }

    #[test]
    fn the_space_has_what_the_properties_need() {
        let space = request_space();
        for (res, sub) in [
            ("pods", "exec"),
            ("pods", "attach"),
            ("pods", "portforward"),
            ("pods", "log"),
            ("secrets", ""),
            ("serviceaccounts", "token"),
            ("tokenreviews", ""),
            ("namespaces", ""),
        ] {
            assert!(
                space
                    .iter()
                    .any(|r| r.resource == res && r.subresource == sub),
                "{res}/{sub}"
            );
        }
        for u in [
            "/healthz", "/readyz", "/livez", "/version", "/metrics", "/api",
        ] {
            assert!(space.iter().any(|r| r.path == u), "{u}");
        }
        assert!(
            space
                .iter()
                .any(|r| r.user.as_deref() == Some("system:kube-proxy"))
        );
        assert!(
            space
                .iter()
                .any(|r| r.groups.iter().any(|g| g == "system:nodes"))
        );
    }
}
