//! The authorizer: bindings resolved to their roles' effective rules
//! (aggregated `ClusterRole`s included), and the questions asked of them —
//! [`Policy::can`] and [`Policy::who_can`].

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::bootstrap::{self, AUTOUPDATE};
use super::error::RbacError;
use super::model::{self, BindingDef, Note, RoleDef, SecretInfo, Subject};
use super::request::{Action, Request, ResourceRef};
use super::rule::Rule;
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
    /// The binding is one every cluster has (a bootstrap binding).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub builtin_binding: bool,
    /// The role is one every cluster has (a bootstrap role).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub builtin_role: bool,
}

impl std::fmt::Display for Grant {
    /// `binding -> role (aggregated from X), rule {...}`, for people.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mark = |b: bool| if b { " (built-in)" } else { "" };
        write!(
            f,
            "{}{} -> {}{}",
            self.binding,
            mark(self.builtin_binding),
            self.role,
            mark(self.builtin_role)
        )?;
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
    pub(crate) doc: usize,
    /// A bootstrap binding (possibly reconciled with a workspace copy).
    pub(crate) builtin: bool,
    /// The subjects the workspace's objects write for this binding: all of
    /// them for a workspace binding, none for a built-in one, the ones its
    /// copy adds for a reconciled built-in binding.
    pub(crate) workspace_subjects: Vec<Subject>,
    /// The role is a bootstrap role.
    pub(crate) role_builtin: bool,
    /// The role is neither among the objects nor built in.
    pub(crate) role_missing: bool,
}

impl Bound {
    pub(crate) fn grant(&self, r: &EffectiveRule) -> Grant {
        Grant {
            binding: self.display.clone(),
            role: self.role.clone(),
            aggregated_from: r.from.clone(),
            rule: r.rule.raw.clone(),
            builtin_binding: self.builtin,
            builtin_role: self.role_builtin,
        }
    }

    /// Whether the binding counts for a request in `namespace` (`None` =
    /// cluster-wide: only `ClusterRoleBinding`s count).
    pub(crate) fn in_scope(&self, namespace: Option<&str>) -> bool {
        match (&self.namespace, namespace) {
            (None, _) => true,
            (Some(b), Some(r)) => b == r,
            (Some(_), None) => false,
        }
    }
}

/// All RBAC bindings of a set of objects and of the default policy every
/// cluster has, resolved and ready for questions.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The workspace's bindings in object order, then the built-in ones.
    pub(crate) bindings: Vec<Bound>,
    /// `ServiceAccount` objects seen, as (namespace, name).
    pub(crate) service_accounts: Vec<(String, String)>,
    /// `Secret` objects seen.
    pub(crate) secrets: Vec<SecretInfo>,
}

type Key = (Option<String>, String);

fn role_key(r: &RoleDef) -> Key {
    (r.namespace.clone(), r.name.clone())
}

fn binding_key(b: &BindingDef) -> Key {
    (b.namespace.clone(), b.name.clone())
}

/// A note on a workspace object that redefines a built-in one.
fn redefinition_note(object: &str, source: Option<&String>, message: String) -> Note {
    Note {
        object: object.to_owned(),
        source: source.cloned(),
        path: "metadata.name".to_owned(),
        message,
    }
}

/// Why a redefinition with reconciliation turned off counts as written.
fn autoupdate_off_message(builtin: &str) -> String {
    format!(
        "redefines the built-in {builtin} with the annotation {AUTOUPDATE}: \"false\", so the API \
         server leaves it as written; this definition counts"
    )
}

/// A workspace role laid over the built-in role of the same name, as the API
/// server's reconciliation leaves it (`ReconcileRole` at every start, extra
/// permissions kept): the built-in rules, labels and aggregation selectors,
/// plus what the workspace's copy adds — unless that copy turns
/// reconciliation off with `autoupdate: "false"`.
fn reconcile_role(builtin: &RoleDef, ws: &RoleDef, notes: &mut Vec<Note>) -> RoleDef {
    let note = |message: String| redefinition_note(&ws.display(), ws.source.as_ref(), message);
    if ws.autoupdate_off {
        notes.push(note(autoupdate_off_message(&builtin.display())));
        return ws.clone();
    }
    let mut merged = builtin.clone();
    if let Some(sels) = &builtin.aggregation {
        let label = sels
            .iter()
            .flat_map(|s| s.labels.iter().map(|(k, v)| format!("{k}={v}")))
            .collect::<Vec<_>>()
            .join(", ");
        notes.push(note(format!(
            "redefines the built-in {}: the API server reconciles it back \
             ({AUTOUPDATE}) and the aggregation controller fills its rules from the \
             ClusterRoles labelled {label}, so the rules written here do not count; \
             the built-in definition does, plus any ClusterRole labelled for it",
            builtin.display()
        )));
    } else {
        notes.push(note(format!(
            "redefines the built-in {}: the API server reconciles built-in roles back at \
             every start ({AUTOUPDATE}), so the built-in rules count, plus any rule \
             this definition adds",
            builtin.display()
        )));
        for r in &ws.rules {
            if !merged.rules.iter().any(|b| same_rule(b, r)) {
                merged.rules.push(r.clone());
            }
        }
    }
    // Labels: the union, the existing object's values winning.
    for (k, v) in &ws.labels {
        merged.labels.insert(k.clone(), v.clone());
    }
    if let (Some(mine), Some(theirs)) = (&mut merged.aggregation, &ws.aggregation) {
        for s in theirs {
            if !mine.contains(s) {
                mine.push(s.clone());
            }
        }
    }
    merged.source.clone_from(&ws.source);
    merged.doc = ws.doc;
    merged
}

fn same_rule(a: &Rule, b: &Rule) -> bool {
    a.verbs == b.verbs
        && a.api_groups == b.api_groups
        && a.resources == b.resources
        && a.resource_names == b.resource_names
        && a.non_resource_urls == b.non_resource_urls
}

/// A workspace binding laid over the built-in binding of the same name:
/// reconciliation keeps the built-in roleRef and adds the built-in subjects
/// to the ones written (unless `autoupdate: "false"`).
fn reconcile_binding(builtin: &BindingDef, ws: &BindingDef, notes: &mut Vec<Note>) -> BindingDef {
    let note = |message: String| redefinition_note(&ws.display(), ws.source.as_ref(), message);
    if ws.autoupdate_off {
        notes.push(note(autoupdate_off_message(&builtin.display())));
        return ws.clone();
    }
    let role_changed =
        ws.ref_cluster_role != builtin.ref_cluster_role || ws.ref_name != builtin.ref_name;
    notes.push(note(format!(
        "redefines the built-in {}: the API server reconciles it back at every start \
         ({AUTOUPDATE}){}, and its subjects are the built-in ones plus the ones written here",
        builtin.display(),
        if role_changed {
            format!(", so it still binds ClusterRole/{}", builtin.ref_name)
        } else {
            String::new()
        }
    )));
    let mut merged = builtin.clone();
    for s in &ws.subjects {
        if !merged.subjects.contains(s) {
            merged.subjects.push(s.clone());
        }
    }
    merged.source.clone_from(&ws.source);
    merged.doc = ws.doc;
    merged
}

impl Policy {
    /// Reads Role, `ClusterRole`, `RoleBinding`, `ClusterRoleBinding`,
    /// `ServiceAccount` and `Secret` objects (other kinds are ignored,
    /// `List`s are flattened) and resolves every binding to its role, the
    /// default policy every cluster has included (`cluster-admin`, `admin`,
    /// `edit`, `view`, the `system:` roles and bindings). Notes tell about
    /// bindings to roles that exist nowhere (they grant nothing), objects
    /// that redefine a built-in one (the built-in definition counts, as the
    /// API server reconciles it back), duplicate objects (the last wins, as
    /// with `kubectl apply`) and the like.
    pub fn from_objects(objects: &[KubeObject]) -> Result<(Policy, Vec<Note>), RbacError> {
        let parsed = model::parse(objects)?;
        let boot = bootstrap::parsed();
        let mut notes = parsed.notes;

        // Last workspace definition of each role wins.
        let mut ws_roles: BTreeMap<Key, &RoleDef> = BTreeMap::new();
        for r in &parsed.roles {
            if ws_roles.insert(role_key(r), r).is_some() {
                notes.push(Note {
                    object: r.display(),
                    source: r.source.clone(),
                    path: String::new(),
                    message: "is defined more than once; the last definition counts".to_owned(),
                });
            }
        }
        let mut role_defs: BTreeMap<Key, RoleDef> = boot
            .roles
            .iter()
            .map(|r| (role_key(r), r.clone()))
            .collect();
        for (key, r) in ws_roles {
            if let Some(b) = role_defs.get(&key) {
                let merged = reconcile_role(b, r, &mut notes);
                role_defs.insert(key, merged);
                continue;
            }
            if r.aggregation.is_some() && !r.rules.is_empty() {
                notes.push(Note {
                    object: r.display(),
                    source: r.source.clone(),
                    path: "rules".to_owned(),
                    message: "has an aggregationRule, so the controller replaces its own rules \
                              with the aggregated ones; its own rules are ignored"
                        .to_owned(),
                });
            }
            role_defs.insert(key, r.clone());
        }
        let cluster_roles: Vec<&RoleDef> = role_defs
            .values()
            .filter(|r| r.namespace.is_none())
            .collect();

        // Last workspace definition of each binding wins; a workspace copy
        // of a built-in binding is reconciled into it.
        let mut seen = BTreeSet::new();
        let mut ws_bindings = Vec::new();
        for b in parsed.bindings.iter().rev() {
            if !seen.insert(binding_key(b)) {
                notes.push(Note {
                    object: b.display(),
                    source: b.source.clone(),
                    path: String::new(),
                    message: "is defined more than once; the last definition counts".to_owned(),
                });
                continue;
            }
            ws_bindings.push(b);
        }
        ws_bindings.reverse();
        let mut builtin_bindings: Vec<(BindingDef, Vec<Subject>)> = boot
            .bindings
            .iter()
            .map(|b| (b.clone(), Vec::new()))
            .collect();
        let mut defs: Vec<(BindingDef, Vec<Subject>)> = Vec::new();
        for b in ws_bindings {
            match builtin_bindings
                .iter_mut()
                .find(|(x, _)| binding_key(x) == binding_key(b))
            {
                Some((x, written)) => {
                    *x = reconcile_binding(x, b, &mut notes);
                    written.clone_from(&b.subjects);
                }
                None => defs.push((b.clone(), b.subjects.clone())),
            }
        }
        defs.extend(builtin_bindings);

        let mut bindings = Vec::with_capacity(defs.len());
        for (b, workspace_subjects) in defs {
            let key = if b.ref_cluster_role {
                (None, b.ref_name.clone())
            } else {
                (b.namespace.clone(), b.ref_name.clone())
            };
            let (role, rules, role_builtin, role_missing) = if let Some(role) = role_defs.get(&key)
            {
                let rules = effective_rules(role, &cluster_roles, &mut Vec::new());
                (role.display(), rules, role.builtin, false)
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
                let unmodelled =
                    if b.ref_cluster_role && b.ref_name.starts_with("system:controller:") {
                        " (seclab does not model the controller manager's system:controller:* \
                     ClusterRoles, which a cluster has)"
                    } else {
                        ""
                    };
                notes.push(Note {
                    object: b.display(),
                    source: b.source.clone(),
                    path: "roleRef".to_owned(),
                    message: format!(
                        "refers to {missing}, which is neither among the objects nor a built-in \
                         role; it grants nothing{unmodelled}"
                    ),
                });
                (missing, Vec::new(), false, true)
            };
            bindings.push(Bound {
                display: b.display(),
                namespace: b.namespace.clone(),
                subjects: b.subjects.clone(),
                role,
                rules,
                source: b.source.clone(),
                doc: b.doc,
                builtin: b.builtin,
                workspace_subjects,
                role_builtin,
                role_missing,
            });
        }
        Ok((
            Policy {
                bindings,
                service_accounts: parsed.service_accounts,
                secrets: parsed.secrets,
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
    /// with the grants, sorted by subject. Subjects are reported as bound,
    /// the built-in bindings' included (their grants say so); for a group,
    /// [`Policy::covers`] and [`Policy::members`] tell who is in it.
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

    /// The workspace's bindings whose subjects include the request's user or
    /// groups, in scope for `namespace`, as (binding, role) display names:
    /// what the user does have, to explain a denial. (The built-in bindings
    /// every identity has are left out.)
    pub fn bindings_of(&self, req: &Request) -> Vec<(String, String)> {
        let groups = req.effective_groups();
        let namespace = match &req.action {
            Action::Resource { namespace, .. } => namespace.as_deref(),
            Action::NonResource { .. } => None,
        };
        self.bindings
            .iter()
            .filter(|b| {
                !b.builtin
                    && b.in_scope(namespace)
                    && b.subjects.iter().any(|s| applies(s, &req.user, &groups))
            })
            .map(|b| (b.display.clone(), b.role.clone()))
            .collect()
    }

    /// The file a binding (by display name) came from, when known.
    pub fn source_of(&self, binding: &str) -> Option<String> {
        self.place_of(binding).map(|(source, _)| source)
    }

    /// The file and document a binding (by display name) came from, when
    /// known.
    pub fn place_of(&self, binding: &str) -> Option<(String, usize)> {
        self.bindings
            .iter()
            .find(|b| b.display == binding)
            .and_then(|b| b.source.clone().map(|s| (s, b.doc)))
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

    /// Who a group the API server fills by itself covers, in words:
    /// `system:authenticated`, `system:unauthenticated`,
    /// `system:serviceaccounts` and `system:serviceaccounts:<ns>`. `None`
    /// for other subjects (a group from the authenticator is whoever it
    /// says).
    pub fn covers(subject: &Subject) -> Option<String> {
        let Subject::Group { name } = subject else {
            return None;
        };
        match name.as_str() {
            "system:authenticated" => {
                Some("every authenticated user and service account".to_owned())
            }
            "system:unauthenticated" => Some("every anonymous request".to_owned()),
            "system:serviceaccounts" => Some("every service account in every namespace".to_owned()),
            _ => name
                .strip_prefix("system:serviceaccounts:")
                .filter(|ns| !ns.is_empty())
                .map(|ns| format!("every service account in namespace {ns}")),
        }
    }

    /// The users and service accounts seen in the workspace (`ServiceAccount`
    /// objects, and the subjects of its bindings) that an implied group
    /// covers; empty for other subjects.
    pub fn members(&self, subject: &Subject) -> Vec<Subject> {
        let Subject::Group { name } = subject else {
            return Vec::new();
        };
        let mut seen: BTreeSet<Subject> = self
            .service_accounts
            .iter()
            .map(|(namespace, name)| Subject::ServiceAccount {
                namespace: namespace.clone(),
                name: name.clone(),
            })
            .collect();
        for b in self.bindings.iter().filter(|b| !b.builtin) {
            for s in &b.subjects {
                if !matches!(s, Subject::Group { .. }) {
                    seen.insert(s.clone());
                }
            }
        }
        seen.into_iter()
            .filter(|s| match s {
                Subject::ServiceAccount { namespace, .. } => {
                    name == "system:authenticated"
                        || name == "system:serviceaccounts"
                        || name.strip_prefix("system:serviceaccounts:") == Some(namespace.as_str())
                }
                Subject::User { name: user } => {
                    name == "system:authenticated" && user != "system:anonymous"
                }
                Subject::Group { .. } => false,
            })
            .collect()
    }
}

/// How a binding subject reaches a request's user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    /// By name, or through a group the request names.
    Direct,
    /// Only through a group the API server adds by itself
    /// (`system:authenticated`, `system:serviceaccounts[:<ns>]`).
    Implied,
}

/// Whether (and how) any of `subjects` covers the request's user.
pub(crate) fn reaches(subjects: &[Subject], req: &Request) -> Option<Via> {
    if subjects.iter().any(|s| applies(s, &req.user, &req.groups)) {
        return Some(Via::Direct);
    }
    let groups = req.effective_groups();
    subjects
        .iter()
        .any(|s| applies(s, &req.user, &groups))
        .then_some(Via::Implied)
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
