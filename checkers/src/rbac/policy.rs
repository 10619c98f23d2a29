//! The authorizer: bindings resolved to their roles' effective rules
//! (aggregated `ClusterRole`s included), and the questions asked of them —
//! [`Policy::can`] and [`Policy::who_can`].

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::error::RbacError;
use super::model::{self, Note, RoleDef, Subject};
use super::request::{Action, Request, ResourceRef};
use super::rule::{ALL, Rule};
use crate::KubeObject;

/// One reason a request is allowed: a binding, its role and the rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grant {
    /// `RoleBinding ns/name` or `ClusterRoleBinding/name`.
    pub binding: String,
    /// `Role ns/name` or `ClusterRole/name`.
    pub role: String,
    /// For an aggregated `ClusterRole`, the `ClusterRole` the rule came from
    /// (`ClusterRole/name`).
    pub aggregated_from: Option<String>,
    /// The `PolicyRule` object as written.
    pub rule: Value,
}

impl std::fmt::Display for Grant {
    /// `binding -> role (aggregated from X), rule {...}`, for people.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} -> {}", self.binding, self.role)?;
        if let Some(a) = &self.aggregated_from {
            write!(f, " (aggregated from {a})")?;
        }
        write!(f, ", rule {}", self.rule)
    }
}

/// The answer to [`Policy::can`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// Whether some rule allows the request (RBAC has no deny rules).
    pub allowed: bool,
    /// Every grant that allows it, in object order; empty when denied.
    pub because: Vec<Grant>,
}

/// A rule as a binding sees it: the rule and, when aggregated, its origin.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EffectiveRule {
    pub(crate) rule: Rule,
    pub(crate) from: Option<String>,
}

/// A binding with its role resolved.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bound {
    pub(crate) display: String,
    /// `None` for a `ClusterRoleBinding` (cluster-wide).
    pub(crate) namespace: Option<String>,
    pub(crate) subjects: Vec<Subject>,
    pub(crate) role: String,
    pub(crate) rules: Vec<EffectiveRule>,
    pub(crate) source: Option<String>,
}

impl Bound {
    pub(crate) fn grant(&self, r: &EffectiveRule) -> Grant {
        Grant {
            binding: self.display.clone(),
            role: self.role.clone(),
            aggregated_from: r.from.clone(),
            rule: r.rule.raw.clone(),
        }
    }

    /// Whether the binding counts for a request in `namespace` (`None` =
    /// cluster-wide: only `ClusterRoleBinding`s count).
    fn in_scope(&self, namespace: Option<&str>) -> bool {
        match (&self.namespace, namespace) {
            (None, _) => true,
            (Some(b), Some(r)) => b == r,
            (Some(_), None) => false,
        }
    }
}

/// All RBAC bindings of a set of objects, resolved and ready for questions.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub(crate) bindings: Vec<Bound>,
    /// `ServiceAccount` objects seen, as (namespace, name).
    pub(crate) service_accounts: Vec<(String, String)>,
}

/// The rules of the built-in `cluster-admin` `ClusterRole`, used when a
/// binding refers to it and the objects do not define it (every cluster
/// has it).
fn cluster_admin_rules() -> Vec<Rule> {
    let all = vec![ALL.to_owned()];
    vec![
        Rule {
            verbs: all.clone(),
            api_groups: all.clone(),
            resources: all.clone(),
            resource_names: Vec::new(),
            non_resource_urls: Vec::new(),
            raw: serde_json::json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}),
        },
        Rule {
            verbs: all.clone(),
            api_groups: Vec::new(),
            resources: Vec::new(),
            resource_names: Vec::new(),
            non_resource_urls: all,
            raw: serde_json::json!({"nonResourceURLs": ["*"], "verbs": ["*"]}),
        },
    ]
}

impl Policy {
    /// Reads Role, `ClusterRole`, `RoleBinding`, `ClusterRoleBinding` and
    /// `ServiceAccount` objects (other kinds are ignored, `List`s are
    /// flattened) and resolves every binding to its role. Notes tell about
    /// bindings to roles that are not among the objects (they grant nothing,
    /// except `cluster-admin`, which every cluster has), duplicate objects
    /// (the last wins, as with `kubectl apply`) and the like.
    pub fn from_objects(objects: &[KubeObject]) -> Result<(Policy, Vec<Note>), RbacError> {
        let parsed = model::parse(objects)?;
        let mut notes = parsed.notes;

        // Last definition of each role wins.
        let mut by_key: BTreeMap<(Option<String>, String), &RoleDef> = BTreeMap::new();
        for r in &parsed.roles {
            if by_key
                .insert((r.namespace.clone(), r.name.clone()), r)
                .is_some()
            {
                notes.push(Note {
                    object: r.display(),
                    source: None,
                    path: String::new(),
                    message: "is defined more than once; the last definition counts".to_owned(),
                });
            }
        }
        let cluster_roles: Vec<&RoleDef> = by_key
            .values()
            .copied()
            .filter(|r| r.namespace.is_none())
            .collect();
        for r in &cluster_roles {
            if r.aggregation.is_some() && !r.rules.is_empty() {
                notes.push(Note {
                    object: r.display(),
                    source: None,
                    path: "rules".to_owned(),
                    message: "has an aggregationRule, so the controller replaces its own rules \
                              with the aggregated ones; its own rules are ignored"
                        .to_owned(),
                });
            }
        }

        let mut seen = BTreeSet::new();
        let mut bindings = Vec::new();
        for b in parsed.bindings.iter().rev() {
            // Iterate backwards so the last definition of a binding wins.
            if !seen.insert((b.namespace.clone(), b.name.clone())) {
                notes.push(Note {
                    object: b.display(),
                    source: b.source.clone(),
                    path: String::new(),
                    message: "is defined more than once; the last definition counts".to_owned(),
                });
                continue;
            }
            let key = if b.ref_cluster_role {
                (None, b.ref_name.clone())
            } else {
                (b.namespace.clone(), b.ref_name.clone())
            };
            let (role, rules) = if let Some(role) = by_key.get(&key) {
                let rules = effective_rules(role, &cluster_roles, &mut Vec::new());
                (role.display(), rules)
            } else if b.ref_cluster_role && b.ref_name == "cluster-admin" {
                notes.push(Note {
                    object: b.display(),
                    source: b.source.clone(),
                    path: "roleRef".to_owned(),
                    message: "refers to the built-in ClusterRole cluster-admin (full access to \
                              everything)"
                        .to_owned(),
                });
                let rules = cluster_admin_rules()
                    .into_iter()
                    .map(|rule| EffectiveRule { rule, from: None })
                    .collect();
                ("ClusterRole/cluster-admin".to_owned(), rules)
            } else {
                let missing = if b.ref_cluster_role {
                    format!("ClusterRole/{}", b.ref_name)
                } else {
                    format!(
                        "Role {}/{}",
                        b.namespace.as_deref().unwrap_or_default(),
                        b.ref_name
                    )
                };
                notes.push(Note {
                    object: b.display(),
                    source: b.source.clone(),
                    path: "roleRef".to_owned(),
                    message: format!(
                        "refers to {missing}, which is not among the objects; it grants nothing"
                    ),
                });
                (missing, Vec::new())
            };
            bindings.push(Bound {
                display: b.display(),
                namespace: b.namespace.clone(),
                subjects: b.subjects.clone(),
                role,
                rules,
                source: b.source.clone(),
            });
        }
        bindings.reverse();
        Ok((
            Policy {
                bindings,
                service_accounts: parsed.service_accounts,
            },
            notes,
        ))
    }

    /// Whether `req` is allowed, and every binding/role/rule that allows it.
    pub fn can(&self, req: &Request) -> Decision {
        let groups = req.effective_groups();
        let namespace = match &req.action {
            Action::Resource { namespace, .. } => namespace.as_deref(),
            Action::NonResource { .. } => None,
        };
        let mut because = Vec::new();
        for b in &self.bindings {
            if !b.in_scope(namespace) || !b.subjects.iter().any(|s| applies(s, &req.user, &groups))
            {
                continue;
            }
            for r in &b.rules {
                let ok = match &req.action {
                    Action::Resource {
                        resource,
                        subresource,
                        name,
                        ..
                    } => r.rule.allows_resource(
                        &req.verb,
                        &resource.group,
                        &resource.resource,
                        subresource.as_deref(),
                        name.as_deref(),
                    ),
                    Action::NonResource { path } => r.rule.allows_url(&req.verb, path),
                };
                if ok {
                    because.push(b.grant(r));
                }
            }
        }
        Decision {
            allowed: !because.is_empty(),
            because,
        }
    }

    /// Every subject that may do `verb` on `resource[/subresource]` (any
    /// object name; rules restricted to resourceNames do not count) in
    /// `namespace` (`None` = cluster-wide, only `ClusterRoleBinding`s count),
    /// with the grants, sorted by subject. Subjects are reported as bound;
    /// groups are not expanded.
    pub fn who_can(
        &self,
        verb: &str,
        resource: &ResourceRef,
        subresource: Option<&str>,
        namespace: Option<&str>,
    ) -> Vec<(Subject, Vec<Grant>)> {
        let mut out: BTreeMap<Subject, Vec<Grant>> = BTreeMap::new();
        for b in self.bindings.iter().filter(|b| b.in_scope(namespace)) {
            for r in &b.rules {
                if r.rule.allows_resource(
                    verb,
                    &resource.group,
                    &resource.resource,
                    subresource,
                    None,
                ) {
                    for s in &b.subjects {
                        out.entry(s.clone()).or_default().push(b.grant(r));
                    }
                }
            }
        }
        out.into_iter().collect()
    }

    /// The bindings whose subjects include the request's user or groups, in
    /// scope for `namespace`, as (binding, role) display names: what the user
    /// does have, to explain a denial.
    pub fn bindings_of(&self, req: &Request) -> Vec<(String, String)> {
        let groups = req.effective_groups();
        let namespace = match &req.action {
            Action::Resource { namespace, .. } => namespace.as_deref(),
            Action::NonResource { .. } => None,
        };
        self.bindings
            .iter()
            .filter(|b| {
                b.in_scope(namespace) && b.subjects.iter().any(|s| applies(s, &req.user, &groups))
            })
            .map(|b| (b.display.clone(), b.role.clone()))
            .collect()
    }

    /// The file a binding (by display name) came from, when known.
    pub fn source_of(&self, binding: &str) -> Option<String> {
        self.bindings
            .iter()
            .find(|b| b.display == binding)
            .and_then(|b| b.source.clone())
    }

    /// For a denied namespaced request: the namespaces (other than the
    /// asked one) where `RoleBinding`s would allow it, with one grant each —
    /// the usual mistake of binding in the wrong namespace.
    pub fn grants_elsewhere(&self, req: &Request) -> Vec<(String, Grant)> {
        let Action::Resource {
            namespace: Some(asked),
            ..
        } = &req.action
        else {
            return Vec::new();
        };
        let others: BTreeSet<&str> = self
            .bindings
            .iter()
            .filter_map(|b| b.namespace.as_deref())
            .filter(|ns| ns != asked)
            .collect();
        let mut out = Vec::new();
        for ns in others {
            let mut r = req.clone();
            if let Action::Resource { namespace, .. } = &mut r.action {
                *namespace = Some(ns.to_owned());
            }
            if let Some(g) = self.can(&r).because.into_iter().next() {
                out.push((ns.to_owned(), g));
            }
        }
        out
    }

    /// Whether a `ServiceAccount` object `namespace/name` was among the objects.
    pub fn has_service_account(&self, namespace: &str, name: &str) -> bool {
        self.service_accounts
            .iter()
            .any(|(ns, n)| ns == namespace && n == name)
    }
}

/// Whether a binding subject covers the user (with its effective groups).
fn applies(s: &Subject, user: &str, groups: &[String]) -> bool {
    match s {
        Subject::User { name } => name == user,
        Subject::Group { name } => groups.iter().any(|g| g == name),
        Subject::ServiceAccount { namespace, name } => {
            super::request::service_account_of(user) == Some((namespace.as_str(), name.as_str()))
        }
    }
}

/// The rules of a role; for an aggregated `ClusterRole`, the union of the rules
/// of every other `ClusterRole` its selectors match (transitively, like the
/// aggregation controller converges; duplicates dropped).
fn effective_rules<'a>(
    role: &'a RoleDef,
    cluster_roles: &[&'a RoleDef],
    visiting: &mut Vec<&'a str>,
) -> Vec<EffectiveRule> {
    let Some(selectors) = &role.aggregation else {
        return role
            .rules
            .iter()
            .map(|rule| EffectiveRule {
                rule: rule.clone(),
                from: None,
            })
            .collect();
    };
    visiting.push(&role.name);
    let mut out: Vec<EffectiveRule> = Vec::new();
    for sel in selectors {
        for other in cluster_roles {
            if visiting.contains(&other.name.as_str()) || !sel.matches(&other.labels) {
                continue;
            }
            for r in effective_rules(other, cluster_roles, visiting) {
                if out.iter().any(|o| o.rule.raw == r.rule.raw) {
                    continue;
                }
                let from = r.from.or_else(|| Some(other.display()));
                out.push(EffectiveRule { rule: r.rule, from });
            }
        }
    }
    visiting.pop();
    out
}
