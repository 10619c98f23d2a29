//! Check targets as lab authors write them: `kind/name`, the kind
//! case-insensitive and in any of the spellings kubectl accepts
//! (`deployment`, `deployments`, `deploy`), printed back as the API spells it.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::KubeObject;

/// Kinds seclab knows by name, with the short names and plurals kubectl
/// accepts for them.
const KINDS: &[(&str, &[&str])] = &[
    ("Pod", &["pod", "pods", "po"]),
    ("PodTemplate", &["podtemplate", "podtemplates"]),
    (
        "ReplicationController",
        &["replicationcontroller", "replicationcontrollers", "rc"],
    ),
    ("ReplicaSet", &["replicaset", "replicasets", "rs"]),
    ("Deployment", &["deployment", "deployments", "deploy"]),
    ("DaemonSet", &["daemonset", "daemonsets", "ds"]),
    ("StatefulSet", &["statefulset", "statefulsets", "sts"]),
    ("Job", &["job", "jobs"]),
    ("CronJob", &["cronjob", "cronjobs", "cj"]),
    ("Namespace", &["namespace", "namespaces", "ns"]),
    ("Service", &["service", "services", "svc"]),
    (
        "ServiceAccount",
        &["serviceaccount", "serviceaccounts", "sa"],
    ),
    ("ConfigMap", &["configmap", "configmaps", "cm"]),
    ("Secret", &["secret", "secrets"]),
    ("Role", &["role", "roles"]),
    ("ClusterRole", &["clusterrole", "clusterroles"]),
    ("RoleBinding", &["rolebinding", "rolebindings"]),
    (
        "ClusterRoleBinding",
        &["clusterrolebinding", "clusterrolebindings"],
    ),
    (
        "NetworkPolicy",
        &["networkpolicy", "networkpolicies", "netpol"],
    ),
];

/// The API spelling of a kind written any way kubectl accepts, or `None`
/// when seclab does not know the kind.
pub fn canonical_kind(kind: &str) -> Option<&'static str> {
    let lower = kind.to_ascii_lowercase();
    KINDS
        .iter()
        .find(|(_, names)| names.contains(&lower.as_str()))
        .map(|(canonical, _)| *canonical)
}

/// A `kind/name` reference to one object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// The kind as the API spells it (`Deployment`).
    pub kind: &'static str,
    /// `metadata.name`.
    pub name: String,
}

/// Why a target string is not a target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// No `/` between kind and name, or an empty side.
    #[error("target `{0}` is not of the form kind/name (e.g. deployment/scissors)")]
    Shape(String),
    /// The kind is not one seclab knows.
    #[error("unknown kind `{kind}` in target `{target}`; known kinds: {known}")]
    UnknownKind {
        /// The kind as written.
        kind: String,
        /// The whole target as written.
        target: String,
        /// The kinds seclab knows, comma separated.
        known: String,
    },
}

impl Target {
    /// Parses `kind/name`.
    pub fn parse(s: &str) -> Result<Self, TargetError> {
        let (kind, name) = s
            .split_once('/')
            .filter(|(k, n)| !k.is_empty() && !n.is_empty() && !n.contains('/'))
            .ok_or_else(|| TargetError::Shape(s.to_string()))?;
        let kind = canonical_kind(kind).ok_or_else(|| TargetError::UnknownKind {
            kind: kind.to_string(),
            target: s.to_string(),
            known: KINDS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", "),
        })?;
        Ok(Self {
            kind,
            name: name.to_string(),
        })
    }

    /// Whether `obj` is this target (namespace aside).
    pub fn matches(&self, obj: &KubeObject) -> bool {
        obj.kind() == self.kind && obj.name() == self.name
    }

    /// The objects that are this target, in `namespace` when given (an
    /// object without a namespace is in `default`).
    pub fn find_in<'a>(
        &self,
        namespace: Option<&str>,
        objects: &'a [KubeObject],
    ) -> Vec<&'a KubeObject> {
        objects
            .iter()
            .filter(|o| self.matches(o))
            .filter(|o| namespace.is_none_or(|ns| o.namespace().unwrap_or("default") == ns))
            .collect()
    }

    /// The failing verdict of a check whose target is not in `namespace`
    /// (or anywhere): when an object of that kind and name is in another
    /// namespace, it says where it was found and points at that object's
    /// `metadata.namespace` — the usual slip, a missing or wrong namespace.
    pub fn not_found(&self, namespace: Option<&str>, objects: &[KubeObject]) -> crate::Verdict {
        let elsewhere = namespace.and_then(|_| objects.iter().find(|o| self.matches(o)));
        let Some((ns, obj)) = namespace.zip(elsewhere) else {
            return crate::Verdict::fail(match namespace {
                Some(ns) => format!("{self} not found in namespace {ns}"),
                None => format!("{self} not found"),
            });
        };
        let found_in = match obj.namespace() {
            Some(other) => format!("in namespace {other}"),
            None => "without metadata.namespace, so in the context's namespace (graded as default)"
                .to_owned(),
        };
        crate::Verdict::from_findings(vec![
            crate::Finding::error(format!(
                "{self} not found in namespace {ns}: it is {found_in}; set metadata.namespace: {ns}"
            ))
            .about(obj)
            .at("metadata.namespace"),
        ])
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)
    }
}

impl Serialize for Target {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Target::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_spellings_map_to_api_kind() {
        for s in [
            "deployment/scissors",
            "Deployments/scissors",
            "deploy/scissors",
        ] {
            let t = Target::parse(s).expect(s);
            assert_eq!(t.to_string(), "Deployment/scissors");
        }
    }

    #[test]
    fn bad_targets_say_why() {
        assert!(matches!(
            Target::parse("scissors"),
            Err(TargetError::Shape(_))
        ));
        assert!(matches!(
            Target::parse("deployment/"),
            Err(TargetError::Shape(_))
        ));
        let err = Target::parse("deplyment/x").expect_err("typo");
        assert!(err.to_string().contains("known kinds: Pod"), "{err}");
    }
}

#[cfg(test)]
mod not_found_tests {
    use super::*;
    use serde_json::json;

    fn obj(ns: Option<&str>) -> KubeObject {
        let mut v = json!({"kind": "Deployment", "metadata": {"name": "web"}});
        if let Some(ns) = ns {
            v["metadata"]["namespace"] = json!(ns);
        }
        let mut o = KubeObject::new(v);
        o.source = Some("deployment.yaml".into());
        o
    }

    #[test]
    fn a_target_in_another_namespace_says_where_it_is() {
        let t = Target::parse("deployment/web").expect("target");
        let v = t.not_found(Some("sa-token"), &[obj(Some("default"))]);
        assert!(!v.passed());
        let f = &v.findings[0];
        assert_eq!(
            f.message,
            "Deployment/web not found in namespace sa-token: it is in namespace default; set metadata.namespace: sa-token"
        );
        assert_eq!(f.source.as_deref(), Some("deployment.yaml"));
        assert_eq!(f.paths, ["metadata.namespace"]);
        let v = t.not_found(Some("sa-token"), &[obj(None)]);
        assert!(
            v.findings[0].message.contains("without metadata.namespace"),
            "{v:?}"
        );
        // Nowhere at all: the plain message.
        let v = t.not_found(Some("sa-token"), &[]);
        assert_eq!(
            v.findings[0].message,
            "Deployment/web not found in namespace sa-token"
        );
        assert_eq!(
            t.not_found(None, &[]).findings[0].message,
            "Deployment/web not found"
        );
    }
}
