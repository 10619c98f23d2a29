//! Typed field checks: would the API server accept every field of an
//! object? A key the API type does not have (`podSelecter:`), or a value of
//! the wrong JSON type (`replicas: two`), is rejected by `kubectl apply`:
//! its default `--validate=true` is `strict` field validation, which fails
//! the request on an unknown field instead of dropping it (Kubernetes docs,
//! "Server side field validation", every cluster from v1.27). An object
//! kubectl rejects never exists, so a check must not grade it as written.
//!
//! Approach: the document is deserialized into the matching `k8s-openapi`
//! type, chosen by `apiVersion` and `kind` (`networking.k8s.io/v1`
//! `NetworkPolicy`), through [`ValueDe`], a `serde::Deserializer` over
//! `&serde_json::Value` that tracks the field path. k8s-openapi's generated
//! `Deserialize` impls call `deserialize_struct(NAME, FIELDS, ..)` with the
//! exact JSON field names of each API type and read a key they do not know
//! as `serde::de::IgnoredAny`, i.e. through `deserialize_ignored_any`. The
//! wrapper remembers the `FIELDS` of the struct being read and records each
//! ignored key with its path and its nearest `FIELDS` entry (edit distance)
//! as the "did you mean". The field lists come from the generated bindings
//! of the newest Kubernetes version (k8s-openapi feature `latest`); nothing
//! is hand-maintained here but the list of types in [`TYPES`].
//!
//! A value of the wrong type (or a required field left out) ends the scan,
//! since serde cannot resume: it is one [`FieldProblem::Invalid`] at its
//! path, and keys after it are not checked.
//!
//! Kinds k8s-openapi does not know (CRDs), and known kinds at an
//! `apiVersion` that is not theirs, get no verdict at all ([`problems`] is
//! `None`): nothing is claimed about what seclab cannot check. An object
//! that leaves out `apiVersion` is read as the type of its kind.
//!
//! [`grade`] is how a lab's check is graded: the objects the check reads
//! ([`CheckSpec::reads`]) are checked first, and any problem fails the check
//! with one error finding per problem, in place of the check's own findings
//! (which would describe an object kubectl never creates).

use std::cell::{Cell, RefCell};

use k8s_openapi::Resource;
use k8s_openapi::api::{
    apps::v1 as apps, batch::v1 as batch, core::v1 as core, networking::v1 as networking,
    rbac::v1 as rbac,
};
use serde::Serialize;
use serde::de::value::BorrowedStrDeserializer;
use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Error, Value};

use crate::{CheckSpec, Evidence, Finding, KubeObject, Verdict};

/// Something in an object the API server would reject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "lowercase")]
pub enum FieldProblem {
    /// A key the API type does not have.
    Unknown {
        /// Full path of the field, e.g. `spec.podSelecter`.
        path: String,
        /// The key as written, e.g. `podSelecter`.
        field: String,
        /// The closest valid key at that place, when one is close enough.
        suggestion: Option<&'static str>,
    },
    /// A value of the wrong JSON type, or a required field missing; the
    /// scan stops here.
    Invalid {
        /// Full path of the value (`""` for the whole document).
        path: String,
        /// serde's message, e.g. `invalid type: string "two", expected i32`.
        message: String,
    },
}

impl FieldProblem {
    /// The field path the problem is at.
    pub fn path(&self) -> &str {
        match self {
            Self::Unknown { path, .. } | Self::Invalid { path, .. } => path,
        }
    }

    /// The sentence a student reads, e.g. ``kubectl apply rejects it:
    /// unknown field `podSelecter` (did you mean `podSelector`?)``.
    pub fn message(&self) -> String {
        match self {
            Self::Unknown {
                field,
                suggestion: Some(s),
                ..
            } => format!("kubectl apply rejects it: unknown field `{field}` (did you mean `{s}`?)"),
            Self::Unknown { field, .. } => {
                format!("kubectl apply rejects it: unknown field `{field}`")
            }
            Self::Invalid { path, message } if path.is_empty() => {
                format!("kubectl apply rejects it: {message}")
            }
            Self::Invalid { path, message } => {
                format!("kubectl apply rejects it: {path}: {message}")
            }
        }
    }

    /// This problem as an error finding about `obj`: at the key of an
    /// unknown field, at the value of an invalid one.
    pub fn to_finding(&self, obj: &KubeObject) -> Finding {
        let mut f = Finding::error(self.message()).about(obj);
        if !self.path().is_empty() {
            f = f.at(self.path());
        }
        f.at_key = matches!(self, Self::Unknown { .. });
        f
    }
}

type Scan = for<'de, 's> fn(ValueDe<'de, 's>) -> Result<(), Error>;

fn scan<T: DeserializeOwned>(de: ValueDe<'_, '_>) -> Result<(), Error> {
    T::deserialize(de).map(drop)
}

macro_rules! types {
    ($($t:ty),* $(,)?) => {
        &[$((<$t as Resource>::API_VERSION, <$t as Resource>::KIND, scan::<$t> as Scan)),*]
    };
}

/// The API types seclab checks: every kind a lab's checks read. Each entry
/// is (`apiVersion`, `kind`, its scan); kinds are unique.
const TYPES: &[(&str, &str, Scan)] = types![
    core::Pod,
    core::PodTemplate,
    core::ReplicationController,
    apps::ReplicaSet,
    apps::Deployment,
    apps::DaemonSet,
    apps::StatefulSet,
    batch::Job,
    batch::CronJob,
    core::Namespace,
    core::ServiceAccount,
    core::Secret,
    core::ConfigMap,
    core::Service,
    networking::NetworkPolicy,
    rbac::Role,
    rbac::ClusterRole,
    rbac::RoleBinding,
    rbac::ClusterRoleBinding,
];

/// The `(apiVersion, kind)` pairs [`problems`] knows.
pub fn known_types() -> impl Iterator<Item = (&'static str, &'static str)> {
    TYPES.iter().map(|(a, k, _)| (*a, *k))
}

/// Everything the API server would reject in `obj`, in document order;
/// `None` when `obj`'s `apiVersion` and `kind` are not a type seclab knows
/// (see [`known_types`]). An object without a (string) `apiVersion` is
/// read as the type of its `kind`.
pub fn problems(obj: &Value) -> Option<Vec<FieldProblem>> {
    let api_version = obj.get("apiVersion").and_then(Value::as_str);
    let kind = obj.get("kind").and_then(Value::as_str)?;
    let (.., scan) = TYPES
        .iter()
        .find(|(a, k, _)| *k == kind && api_version.is_none_or(|v| v == *a))?;
    Some(run(*scan, obj))
}

/// Like [`problems`], choosing the type by `kind` alone (a wrong or missing
/// `apiVersion` is then one of the problems); `None` for kinds not in
/// [`known_types`].
pub fn problems_by_kind(obj: &Value) -> Option<Vec<FieldProblem>> {
    let kind = obj.get("kind").and_then(Value::as_str)?;
    let (.., scan) = TYPES.iter().find(|(_, k, _)| *k == kind)?;
    Some(run(*scan, obj))
}

fn run(scan: Scan, obj: &Value) -> Vec<FieldProblem> {
    let sink = Sink::default();
    // Errors are recorded in the sink; the typed value is unused.
    let _ = scan(ValueDe::new(obj, &sink));
    sink.problems.into_inner()
}

/// Error findings for everything the API server would reject in `obj`
/// (none for kinds seclab does not know).
pub fn findings(obj: &KubeObject) -> Vec<Finding> {
    problems(&obj.value)
        .unwrap_or_default()
        .iter()
        .map(|p| p.to_finding(obj))
        .collect()
}

/// Grades a check as the cluster would see its objects: when an object the
/// check reads ([`CheckSpec::reads`]) has a field `kubectl apply` rejects,
/// the check fails with one error finding per such field and nothing else;
/// otherwise it is [`CheckSpec::grade`].
pub fn grade(spec: &CheckSpec, ev: &Evidence<'_>) -> Verdict {
    let reads = spec.reads(ev.workspace);
    let rejected: Vec<Finding> = reads.objects.iter().flat_map(|o| findings(o)).collect();
    if rejected.is_empty() {
        spec.grade(ev)
    } else {
        Verdict::from_findings(rejected)
    }
}

#[derive(Default)]
struct Sink {
    problems: RefCell<Vec<FieldProblem>>,
    errored: Cell<bool>,
}

/// Levenshtein distance over chars, case-insensitive.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().flat_map(char::to_lowercase).collect();
    let b: Vec<char> = b.chars().flat_map(char::to_lowercase).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The valid field closest to `key`, if close enough to be a likely typo
/// (distance at most 2, or at most a third of the key's length).
fn closest(key: &str, fields: &[&'static str]) -> Option<&'static str> {
    let (best, d) = fields
        .iter()
        .map(|f| (*f, distance(key, f)))
        .min_by_key(|(_, d)| *d)?;
    let limit = (key.chars().count() / 3).max(2);
    (d <= limit).then_some(best)
}

/// The path of `key` inside `parent`: dotted, for struct fields and map
/// keys alike, as the workspace snapshot records positions.
fn child_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// A deserializer over one JSON value at a known path.
struct ValueDe<'de, 's> {
    v: &'de Value,
    path: String,
    sink: &'s Sink,
    /// The key and sibling field list when this value is a struct field.
    field: Option<(&'de str, &'static [&'static str])>,
}

impl<'de, 's> ValueDe<'de, 's> {
    fn new(v: &'de Value, sink: &'s Sink) -> Self {
        Self {
            v,
            path: String::new(),
            sink,
            field: None,
        }
    }

    fn track<T>(path: &str, sink: &Sink, r: Result<T, Error>) -> Result<T, Error> {
        if let Err(e) = &r
            && !sink.errored.replace(true)
        {
            sink.problems.borrow_mut().push(FieldProblem::Invalid {
                path: path.to_owned(),
                message: e.to_string(),
            });
        }
        r
    }

    fn any<V: Visitor<'de>>(
        self,
        visitor: V,
        fields: Option<&'static [&'static str]>,
    ) -> Result<V::Value, Error> {
        let (path, sink) = (self.path, self.sink);
        let r = match self.v {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => visitor.visit_seq(Seq {
                iter: items.iter().enumerate(),
                path: &path,
                sink,
            }),
            Value::Object(m) => visitor.visit_map(StructMap {
                iter: m.iter(),
                pending: None,
                path: &path,
                sink,
                fields,
            }),
        };
        Self::track(&path, sink, r)
    }
}

impl<'de> Deserializer<'de> for ValueDe<'de, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.any(visitor, None)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.any(visitor, Some(fields))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.v.is_null() {
            visitor.visit_none()
        } else {
            let (path, sink) = (self.path.clone(), self.sink);
            Self::track(&path, sink, visitor.visit_some(self))
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        let (path, sink) = (self.path.clone(), self.sink);
        Self::track(&path, sink, visitor.visit_newtype_struct(self))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        Self::track(
            &self.path,
            self.sink,
            self.v.deserialize_enum(name, variants, visitor),
        )
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if let Some((key, fields)) = self.field {
            self.sink.problems.borrow_mut().push(FieldProblem::Unknown {
                path: self.path,
                field: key.to_owned(),
                suggestion: closest(key, fields),
            });
        }
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier
    }
}

/// Map access that knows whether its map is an API struct (`fields`).
struct StructMap<'de, 'p, 's> {
    iter: serde_json::map::Iter<'de>,
    pending: Option<(&'de str, &'de Value)>,
    path: &'p str,
    sink: &'s Sink,
    fields: Option<&'static [&'static str]>,
}

impl<'de> MapAccess<'de> for StructMap<'de, '_, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((k, v)) = self.iter.next() else {
            return Ok(None);
        };
        self.pending = Some((k, v));
        seed.deserialize(BorrowedStrDeserializer::new(k)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let Some((k, v)) = self.pending.take() else {
            return Err(serde::de::Error::custom("value requested before key"));
        };
        seed.deserialize(ValueDe {
            v,
            path: child_path(self.path, k),
            sink: self.sink,
            field: self.fields.map(|f| (k, f)),
        })
    }
}

struct Seq<'de, 'p, 's> {
    iter: std::iter::Enumerate<std::slice::Iter<'de, Value>>,
    path: &'p str,
    sink: &'s Sink,
}

impl<'de> SeqAccess<'de> for Seq<'de, '_, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let Some((i, v)) = self.iter.next() else {
            return Ok(None);
        };
        seed.deserialize(ValueDe {
            v,
            path: format!("{}[{i}]", self.path),
            sink: self.sink,
            field: None,
        })
        .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn edit_distance() {
        assert_eq!(distance("runAsNonroot", "runAsNonRoot"), 0);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(
            closest("privilegd", &["privileged", "procMount"]),
            Some("privileged")
        );
        assert_eq!(closest("zzzzzz", &["privileged"]), None);
    }

    #[test]
    fn every_kind_a_check_reads_is_known_once() {
        let kinds: Vec<&str> = known_types().map(|(_, k)| k).collect();
        for k in crate::object::WORKLOAD_KINDS {
            assert!(kinds.contains(&k), "{k}");
        }
        for k in [
            "Namespace",
            "ServiceAccount",
            "Secret",
            "ConfigMap",
            "Service",
            "NetworkPolicy",
            "Role",
            "ClusterRole",
            "RoleBinding",
            "ClusterRoleBinding",
        ] {
            assert!(kinds.contains(&k), "{k}");
        }
        let mut unique = kinds.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), kinds.len());
        assert!(known_types().any(|t| t == ("networking.k8s.io/v1", "NetworkPolicy")));
        assert!(known_types().any(|t| t == ("rbac.authorization.k8s.io/v1", "RoleBinding")));
    }

    #[test]
    fn network_policy_typo_suggests_the_field() {
        let np = json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "deny", "namespace": "n"},
            "spec": {"podSelecter": {"matchLabels": {"app": "a"}}, "policyTypes": ["Ingress"]}});
        let p = problems(&np).expect("a known type");
        assert_eq!(
            p,
            [FieldProblem::Unknown {
                path: "spec.podSelecter".into(),
                field: "podSelecter".into(),
                suggestion: Some("podSelector"),
            }]
        );
        assert_eq!(
            p[0].message(),
            "kubectl apply rejects it: unknown field `podSelecter` (did you mean `podSelector`?)"
        );
        let f = p[0].to_finding(&KubeObject::new(np));
        assert!(f.at_key);
        assert_eq!(f.paths, ["spec.podSelecter"]);
        assert_eq!(f.object.as_deref(), Some("NetworkPolicy n/deny"));
    }

    #[test]
    fn rbac_and_service_account_typos() {
        let rb = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "b", "namespace": "n"},
            "subject": [{"kind": "ServiceAccount", "name": "web", "namespace": "n"}],
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"}});
        let p = problems(&rb).expect("known");
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path(), "subject");
        assert!(p[0].message().contains("did you mean `subjects`"), "{p:?}");
        let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "r", "namespace": "n"},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "resourceName": ["db"],
                "verbs": ["get"]}]});
        let p = problems(&role).expect("known");
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path(), "rules[0].resourceName");
        assert!(p[0].message().contains("did you mean `resourceNames`"));
        let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "web"},
            "automountServiceAcountToken": false});
        let p = problems(&sa).expect("known");
        assert!(
            p[0].message()
                .contains("did you mean `automountServiceAccountToken`"),
            "{p:?}"
        );
    }

    #[test]
    fn wrong_types_are_problems_at_their_path() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"replicas": "two", "selector": {}, "template": {}}});
        let p = problems(&d).expect("known");
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path(), "spec.replicas");
        assert!(
            p[0].message()
                .starts_with("kubectl apply rejects it: spec.replicas: invalid type")
        );
        assert!(!p[0].to_finding(&KubeObject::new(d)).at_key);
        // A label value must be a string; map keys get dotted paths.
        let ns = json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "n", "labels": {"team": 7}}});
        let p = problems(&ns).expect("known");
        assert_eq!(p[0].path(), "metadata.labels.team");
    }

    #[test]
    fn clean_objects_have_none_and_free_form_maps_are_free() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {
                "metadata": {"labels": {"a": "b"}, "annotations": {"x.io/y": "z"}},
                "spec": {"containers": [{"name": "c", "image": "i",
                    "ports": [{"containerPort": 80}],
                    "resources": {"limits": {"cpu": "1", "memory": 64}}}]}}}});
        assert_eq!(problems(&d), Some(Vec::new()));
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
            "data": {"anything": "goes"}});
        assert_eq!(problems(&cm), Some(Vec::new()));
    }

    #[test]
    fn unknown_kinds_and_versions_say_nothing() {
        let crd = json!({"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"x": 1}});
        assert_eq!(problems(&crd), None);
        let old = json!({"apiVersion": "extensions/v1beta1", "kind": "Deployment", "spek": {}});
        assert_eq!(problems(&old), None);
        // Without an apiVersion the kind decides.
        let p = problems(&json!({"kind": "Pod", "spek": {}})).expect("Pod");
        assert!(p[0].message().contains("did you mean `spec`"), "{p:?}");
        // By kind alone, a wrong apiVersion is itself the problem.
        let p = problems_by_kind(&json!({"apiVersion": "v2", "kind": "Pod"})).expect("Pod");
        assert!(
            matches!(&p[..], [FieldProblem::Invalid { path, .. }] if path.is_empty()),
            "{p:?}"
        );
        assert_eq!(problems_by_kind(&json!({"kind": "Widget"})), None);
    }
}
