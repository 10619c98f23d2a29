//! Reading RBAC objects: Role, `ClusterRole`, `RoleBinding`, `ClusterRoleBinding`
//! (and `List`s of them) from [`KubeObject`]s into typed definitions,
//! validated the way the API server validates them, so that a malformed
//! object is an [`RbacError`] naming the field and never a panic.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::error::{Problem, RbacError, short};
use super::rule::{Rule, RuleAt};
use super::selector::{Selector, parse_selector};
use crate::KubeObject;

/// The API group of the RBAC kinds.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// Who a binding grants to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind")]
pub enum Subject {
    /// A user name, as the authenticator reports it.
    User {
        /// The user name.
        name: String,
    },
    /// A group name (every member gets the grant).
    Group {
        /// The group name.
        name: String,
    },
    /// A service account, i.e. the user
    /// `system:serviceaccount:<namespace>:<name>`.
    ServiceAccount {
        /// The service account's namespace.
        namespace: String,
        /// The service account's name.
        name: String,
    },
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::User { name } => write!(f, "User {name}"),
            Self::Group { name } => write!(f, "Group {name}"),
            Self::ServiceAccount { namespace, name } => {
                write!(f, "ServiceAccount {namespace}/{name}")
            }
        }
    }
}

/// Something worth telling about the objects that is not an error, e.g. a
/// binding whose role is not among the objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// The object, as `Kind/name` or `Kind ns/name`.
    pub object: String,
    /// The file it came from, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Field path inside the object (may be empty).
    pub path: String,
    /// What to tell.
    pub message: String,
}

impl Note {
    /// The note as a warning [`crate::Finding`].
    pub fn to_finding(&self) -> crate::Finding {
        let mut f = crate::Finding::warning(format!("{}: {}", self.object, self.message));
        f.object = Some(self.object.clone());
        f.source.clone_from(&self.source);
        if !self.path.is_empty() {
            f.paths.push(self.path.clone());
        }
        f
    }
}

/// A Role or `ClusterRole` as written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RoleDef {
    /// `None` for a `ClusterRole`.
    pub(crate) namespace: Option<String>,
    pub(crate) name: String,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) rules: Vec<Rule>,
    /// `aggregationRule.clusterRoleSelectors` of a `ClusterRole`.
    pub(crate) aggregation: Option<Vec<Selector>>,
    /// One of the roles every cluster has (see `bootstrap.rs`).
    pub(crate) builtin: bool,
    /// The annotation `rbac.authorization.kubernetes.io/autoupdate` is
    /// `"false"`: the API server leaves the object as written.
    pub(crate) autoupdate_off: bool,
    /// The file and document it came from, when known.
    pub(crate) source: Option<String>,
    pub(crate) doc: usize,
}

impl RoleDef {
    /// `Role ns/name` or `ClusterRole/name`.
    pub(crate) fn display(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("Role {ns}/{}", self.name),
            None => format!("ClusterRole/{}", self.name),
        }
    }
}

/// A `RoleBinding` or `ClusterRoleBinding` as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BindingDef {
    /// `None` for a `ClusterRoleBinding`.
    pub(crate) namespace: Option<String>,
    pub(crate) name: String,
    /// `true` when roleRef.kind is `ClusterRole`.
    pub(crate) ref_cluster_role: bool,
    pub(crate) ref_name: String,
    pub(crate) subjects: Vec<Subject>,
    pub(crate) source: Option<String>,
    pub(crate) doc: usize,
    /// One of the bindings every cluster has (see `bootstrap.rs`).
    pub(crate) builtin: bool,
    /// The annotation `rbac.authorization.kubernetes.io/autoupdate` is
    /// `"false"`.
    pub(crate) autoupdate_off: bool,
}

impl BindingDef {
    /// `RoleBinding ns/name` or `ClusterRoleBinding/name`.
    pub(crate) fn display(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("RoleBinding {ns}/{}", self.name),
            None => format!("ClusterRoleBinding/{}", self.name),
        }
    }
}

/// Everything read from the objects.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub(crate) roles: Vec<RoleDef>,
    pub(crate) bindings: Vec<BindingDef>,
    /// `ServiceAccount` objects seen, as (namespace, name).
    pub(crate) service_accounts: Vec<(String, String)>,
    /// `Secret` objects seen.
    pub(crate) secrets: Vec<SecretInfo>,
    pub(crate) notes: Vec<Note>,
}

/// What RBAC analysis needs to know of a `Secret`: whether it holds a
/// service-account token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SecretInfo {
    pub(crate) namespace: String,
    pub(crate) name: String,
    /// `type: kubernetes.io/service-account-token`, with the account named by
    /// the `kubernetes.io/service-account.name` annotation (may be empty).
    pub(crate) token_of: Option<String>,
}

/// The `type` of a Secret holding a service-account token.
pub(crate) const TOKEN_SECRET_TYPE: &str = "kubernetes.io/service-account-token";

/// Whether the object's `rbac.authorization.kubernetes.io/autoupdate`
/// annotation is `"false"`.
fn autoupdate_off(obj: &KubeObject) -> bool {
    obj.value
        .pointer("/metadata/annotations/rbac.authorization.kubernetes.io~1autoupdate")
        .and_then(Value::as_str)
        == Some("false")
}

/// The object being read, for error messages.
pub(crate) struct Ctx<'a> {
    object: String,
    source: Option<&'a str>,
}

impl Ctx<'_> {
    pub(crate) fn err(&self, path: impl Into<String>, problem: Problem) -> RbacError {
        RbacError::new(&self.object, self.source, path, problem)
    }

    pub(crate) fn note(&self, path: &str, message: String) -> Note {
        Note {
            object: self.object.clone(),
            source: self.source.map(str::to_owned),
            path: path.to_owned(),
            message,
        }
    }

    pub(crate) fn wrong_type(
        &self,
        path: impl Into<String>,
        expected: &'static str,
        got: &Value,
    ) -> RbacError {
        self.err(
            path,
            Problem::WrongType {
                expected,
                got: short(got),
            },
        )
    }

    /// An optional list of strings (absent or null = empty).
    pub(crate) fn strings(&self, v: Option<&Value>, path: &str) -> Result<Vec<String>, RbacError> {
        match v {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(self.wrong_type(format!("{path}[{i}]"), "a string", other)),
                })
                .collect(),
            Some(other) => Err(self.wrong_type(path, "a list of strings", other)),
        }
    }

    /// An optional string (absent or null = `None`).
    pub(crate) fn opt_str<'v>(
        &self,
        v: Option<&'v Value>,
        path: &str,
    ) -> Result<Option<&'v str>, RbacError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(self.wrong_type(path, "a string", other)),
        }
    }

    /// A required, non-empty string.
    pub(crate) fn req_str<'v>(
        &self,
        v: Option<&'v Value>,
        path: &str,
    ) -> Result<&'v str, RbacError> {
        match self.opt_str(v, path)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(self.err(path, Problem::Missing)),
        }
    }

    /// An optional list of objects (absent or null = empty).
    pub(crate) fn objects<'v>(
        &self,
        v: Option<&'v Value>,
        path: &str,
    ) -> Result<&'v [Value], RbacError> {
        match v {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(self.wrong_type(path, "a list", other)),
        }
    }
}

/// Reads every RBAC object (and `ServiceAccount`) among `objects`, flattening
/// `List` kinds; other kinds are ignored.
pub(crate) fn parse(objects: &[KubeObject]) -> Result<Parsed, RbacError> {
    let mut out = Parsed::default();
    for obj in objects {
        parse_one(obj, &mut out)?;
    }
    Ok(out)
}

fn parse_one(obj: &KubeObject, out: &mut Parsed) -> Result<(), RbacError> {
    let kind = obj.kind();
    if kind == "List" || (kind.ends_with("List") && obj.value.get("items").is_some()) {
        let ctx = Ctx {
            object: obj.display_name(),
            source: obj.source.as_deref(),
        };
        for item in ctx.objects(obj.value.get("items"), "items")? {
            let item = KubeObject {
                source: obj.source.clone(),
                doc: obj.doc,
                value: item.clone(),
            };
            parse_one(&item, out)?;
        }
        return Ok(());
    }
    if kind == "Secret" {
        // Read leniently: a malformed Secret is not an RBAC problem.
        let s = |p: &str| obj.value.pointer(p).and_then(Value::as_str);
        if let Some(name) = s("/metadata/name") {
            let token = s("/type") == Some(TOKEN_SECRET_TYPE);
            out.secrets.push(SecretInfo {
                namespace: s("/metadata/namespace").unwrap_or("default").to_owned(),
                name: name.to_owned(),
                token_of: token.then(|| {
                    s("/metadata/annotations/kubernetes.io~1service-account.name")
                        .unwrap_or("")
                        .to_owned()
                }),
            });
        }
        return Ok(());
    }
    if !matches!(
        kind,
        "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" | "ServiceAccount"
    ) {
        return Ok(());
    }
    let ctx = Ctx {
        object: obj.display_name(),
        source: obj.source.as_deref(),
    };
    if !obj.value.is_object() {
        return Err(ctx.wrong_type("", "an object", &obj.value));
    }
    let name = ctx.req_str(obj.value.pointer("/metadata/name"), "metadata.name")?;
    let namespaced = matches!(kind, "Role" | "RoleBinding" | "ServiceAccount");
    let namespace = if namespaced {
        match ctx.opt_str(
            obj.value.pointer("/metadata/namespace"),
            "metadata.namespace",
        )? {
            Some(ns) if !ns.is_empty() => Some(ns.to_owned()),
            _ => {
                out.notes.push(ctx.note(
                    "metadata.namespace",
                    "has no namespace; assuming \"default\" as kubectl would".to_owned(),
                ));
                Some("default".to_owned())
            }
        }
    } else {
        None
    };
    match kind {
        "ServiceAccount" => {
            if let Some(ns) = namespace {
                out.service_accounts.push((ns, name.to_owned()));
            }
        }
        "Role" | "ClusterRole" => {
            let r = parse_role(&ctx, obj, name, namespace, &mut out.notes)?;
            out.roles.push(r);
        }
        _ => {
            let b = parse_binding(&ctx, obj, name, namespace, &mut out.notes)?;
            out.bindings.push(b);
        }
    }
    Ok(())
}

fn parse_role(
    ctx: &Ctx<'_>,
    obj: &KubeObject,
    name: &str,
    namespace: Option<String>,
    notes: &mut Vec<Note>,
) -> Result<RoleDef, RbacError> {
    let mut labels = BTreeMap::new();
    match obj.value.pointer("/metadata/labels") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (k, v) in map {
                match v {
                    Value::String(s) => {
                        labels.insert(k.clone(), s.clone());
                    }
                    other => {
                        return Err(ctx.wrong_type(
                            format!("metadata.labels.{k}"),
                            "a string",
                            other,
                        ));
                    }
                }
            }
        }
        Some(other) => return Err(ctx.wrong_type("metadata.labels", "a map of strings", other)),
    }
    let namespaced = namespace.is_some();
    let mut rules = ctx
        .objects(obj.value.get("rules"), "rules")?
        .iter()
        .enumerate()
        .map(|(i, r)| parse_rule(ctx, r, &format!("rules[{i}]"), namespaced, notes))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(source) = &obj.source {
        for (i, r) in rules.iter_mut().enumerate() {
            r.at = Some(RuleAt {
                object: ctx.object.clone(),
                source: source.clone(),
                doc: obj.doc,
                path: format!("rules[{i}]"),
            });
        }
    }
    let aggregation = if namespaced {
        None
    } else {
        match obj.value.get("aggregationRule") {
            None | Some(Value::Null) => None,
            Some(agg) => {
                let sels = ctx.objects(
                    agg.get("clusterRoleSelectors"),
                    "aggregationRule.clusterRoleSelectors",
                )?;
                let mut out = Vec::new();
                for (i, s) in sels.iter().enumerate() {
                    let path = format!("aggregationRule.clusterRoleSelectors[{i}]");
                    // A null selector selects nothing; skip it.
                    if !s.is_null() {
                        out.push(parse_selector(ctx, s, &path)?);
                    }
                }
                Some(out)
            }
        }
    };
    Ok(RoleDef {
        namespace,
        name: name.to_owned(),
        labels,
        rules,
        aggregation,
        builtin: false,
        autoupdate_off: autoupdate_off(obj),
        source: obj.source.clone(),
        doc: obj.doc,
    })
}

/// The fields of a `PolicyRule`.
const RULE_FIELDS: &[&str] = &[
    "apiGroups",
    "resources",
    "resourceNames",
    "nonResourceURLs",
    "verbs",
];

fn parse_rule(
    ctx: &Ctx<'_>,
    r: &Value,
    path: &str,
    namespaced: bool,
    notes: &mut Vec<Note>,
) -> Result<Rule, RbacError> {
    let Some(fields) = r.as_object() else {
        return Err(ctx.wrong_type(path, "an object", r));
    };
    for key in fields.keys().filter(|k| !RULE_FIELDS.contains(&k.as_str())) {
        let near = RULE_FIELDS.iter().find(|f| {
            f.eq_ignore_ascii_case(key) || f.trim_end_matches('s').eq_ignore_ascii_case(key)
        });
        let hint = near.map_or_else(String::new, |f| format!("; did you mean {f}?"));
        let names =
            if fields.get("resourceNames").is_none() && fields.get("nonResourceURLs").is_none() {
                " Without resourceNames the rule grants every object of its resources."
            } else {
                ""
            };
        notes.push(ctx.note(
            &format!("{path}.{key}"),
            format!(
                "{path}.{key} is not a field of a PolicyRule (kubectl and the API server reject it{hint}); it is ignored.{names}"
            ),
        ));
    }
    let verbs = ctx.strings(r.get("verbs"), &format!("{path}.verbs"))?;
    if verbs.is_empty() {
        return Err(ctx.err(format!("{path}.verbs"), Problem::Missing));
    }
    let rule = Rule {
        verbs,
        api_groups: ctx.strings(r.get("apiGroups"), &format!("{path}.apiGroups"))?,
        resources: ctx.strings(r.get("resources"), &format!("{path}.resources"))?,
        resource_names: ctx.strings(r.get("resourceNames"), &format!("{path}.resourceNames"))?,
        non_resource_urls: ctx
            .strings(r.get("nonResourceURLs"), &format!("{path}.nonResourceURLs"))?,
        raw: r.clone(),
        at: None,
        builtin: false,
    };
    if rule.non_resource_urls.is_empty() {
        if rule.resources.is_empty() {
            return Err(ctx.err(format!("{path}.resources"), Problem::Missing));
        }
        if rule.api_groups.is_empty() {
            return Err(ctx.err(format!("{path}.apiGroups"), Problem::Missing));
        }
    } else {
        if namespaced {
            return Err(ctx.err(
                format!("{path}.nonResourceURLs"),
                Problem::Conflict("is not allowed in a namespaced Role (only in a ClusterRole)"),
            ));
        }
        if !rule.api_groups.is_empty()
            || !rule.resources.is_empty()
            || !rule.resource_names.is_empty()
        {
            return Err(ctx.err(
                format!("{path}.nonResourceURLs"),
                Problem::Conflict(
                    "cannot be combined with apiGroups, resources or resourceNames in one rule",
                ),
            ));
        }
    }
    Ok(rule)
}

fn parse_binding(
    ctx: &Ctx<'_>,
    obj: &KubeObject,
    name: &str,
    namespace: Option<String>,
    notes: &mut Vec<Note>,
) -> Result<BindingDef, RbacError> {
    let rr = match obj.value.get("roleRef") {
        None | Some(Value::Null) => return Err(ctx.err("roleRef", Problem::Missing)),
        Some(v @ Value::Object(_)) => v,
        Some(other) => return Err(ctx.wrong_type("roleRef", "an object", other)),
    };
    if let Some(g) = ctx.opt_str(rr.get("apiGroup"), "roleRef.apiGroup")?
        && !g.is_empty()
        && g != RBAC_GROUP
    {
        return Err(ctx.err(
            "roleRef.apiGroup",
            Problem::NotSupported {
                expected: "rbac.authorization.k8s.io",
                got: g.to_owned(),
            },
        ));
    }
    let kind = ctx.req_str(rr.get("kind"), "roleRef.kind")?;
    let ref_cluster_role = match (kind, namespace.is_some()) {
        ("ClusterRole", _) => true,
        ("Role", true) => false,
        (other, true) => {
            return Err(ctx.err(
                "roleRef.kind",
                Problem::NotSupported {
                    expected: "Role or ClusterRole",
                    got: other.to_owned(),
                },
            ));
        }
        (other, false) => {
            return Err(ctx.err(
                "roleRef.kind",
                Problem::NotSupported {
                    expected: "ClusterRole",
                    got: other.to_owned(),
                },
            ));
        }
    };
    let ref_name = ctx.req_str(rr.get("name"), "roleRef.name")?.to_owned();
    let mut subjects = Vec::new();
    for (i, s) in ctx
        .objects(obj.value.get("subjects"), "subjects")?
        .iter()
        .enumerate()
    {
        let path = format!("subjects[{i}]");
        subjects.push(parse_subject(ctx, s, &path, namespace.as_deref(), notes)?);
    }
    Ok(BindingDef {
        namespace,
        name: name.to_owned(),
        ref_cluster_role,
        ref_name,
        subjects,
        source: obj.source.clone(),
        doc: obj.doc,
        builtin: false,
        autoupdate_off: autoupdate_off(obj),
    })
}

fn parse_subject(
    ctx: &Ctx<'_>,
    s: &Value,
    path: &str,
    binding_ns: Option<&str>,
    notes: &mut Vec<Note>,
) -> Result<Subject, RbacError> {
    if !s.is_object() {
        return Err(ctx.wrong_type(path, "an object", s));
    }
    let kind = ctx.req_str(s.get("kind"), &format!("{path}.kind"))?;
    let name = ctx
        .req_str(s.get("name"), &format!("{path}.name"))?
        .to_owned();
    let group = ctx
        .opt_str(s.get("apiGroup"), &format!("{path}.apiGroup"))?
        .unwrap_or("");
    let bad_group = |expected| {
        ctx.err(
            format!("{path}.apiGroup"),
            Problem::NotSupported {
                expected,
                got: group.to_owned(),
            },
        )
    };
    match kind {
        "User" | "Group" => {
            if !group.is_empty() && group != RBAC_GROUP {
                return Err(bad_group("rbac.authorization.k8s.io"));
            }
            Ok(if kind == "User" {
                Subject::User { name }
            } else {
                Subject::Group { name }
            })
        }
        "ServiceAccount" => {
            if !group.is_empty() {
                return Err(bad_group("\"\" (the core group)"));
            }
            let ns_path = format!("{path}.namespace");
            let namespace = match (ctx.opt_str(s.get("namespace"), &ns_path)?, binding_ns) {
                (Some(ns), _) if !ns.is_empty() => ns.to_owned(),
                // Upstream validation requires the namespace only in a
                // ClusterRoleBinding; in a RoleBinding the authorizer
                // defaults it to the binding's namespace.
                (_, Some(ns)) => {
                    notes.push(ctx.note(
                        &ns_path,
                        format!("{ns_path} is not set; the service account is taken from the binding's namespace {ns}"),
                    ));
                    ns.to_owned()
                }
                (_, None) => return Err(ctx.err(ns_path, Problem::Missing)),
            };
            Ok(Subject::ServiceAccount { namespace, name })
        }
        other => Err(ctx.err(
            format!("{path}.kind"),
            Problem::NotSupported {
                expected: "User, Group or ServiceAccount",
                got: other.to_owned(),
            },
        )),
    }
}
