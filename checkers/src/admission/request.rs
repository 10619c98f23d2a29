//! An admission request: what the API server asks admission plugins about
//! (`admission.k8s.io/v1` `AdmissionRequest`), built from an object and an
//! operation, or written out in full by a lab's battery.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operation {
    /// A new object.
    Create,
    /// A change of an existing object (also every subresource write).
    Update,
    /// A deletion.
    Delete,
    /// A connection: `pods/exec`, `pods/attach`, `pods/portforward`, proxies.
    Connect,
}

impl Operation {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "CREATE",
            Self::Update => "UPDATE",
            Self::Delete => "DELETE",
            Self::Connect => "CONNECT",
        }
    }
}

/// Who sends the request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInfo {
    /// The user name.
    #[serde(default)]
    pub username: String,
    /// The user's UID.
    #[serde(default)]
    pub uid: String,
    /// The groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Extra attributes.
    #[serde(default)]
    pub extra: BTreeMap<String, Vec<String>>,
}

/// Group, version and kind or resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupVersion {
    /// API group, `""` for core.
    pub group: String,
    /// Version.
    pub version: String,
    /// Kind (`Deployment`) or resource (`deployments`).
    pub name: String,
}

/// One admission request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The operation.
    pub operation: Operation,
    /// The object's kind.
    pub kind: GroupVersion,
    /// The resource the request is for.
    pub resource: GroupVersion,
    /// The subresource, `""` for none.
    pub sub_resource: String,
    /// The object's name.
    pub name: String,
    /// The namespace, `""` for a cluster-scoped object.
    pub namespace: String,
    /// The new object (`null` for DELETE).
    pub object: Value,
    /// The object before (UPDATE, DELETE), else `null`.
    pub old_object: Value,
    /// Who asks.
    pub user: UserInfo,
    /// Whether it is a dry run.
    pub dry_run: bool,
}

/// Kinds whose resource is not the lowercased kind plus `s`.
const IRREGULAR: &[(&str, &str)] = &[
    ("Endpoints", "endpoints"),
    ("PodSecurityPolicy", "podsecuritypolicies"),
    ("Ingress", "ingresses"),
    ("IngressClass", "ingressclasses"),
    ("StorageClass", "storageclasses"),
    ("PriorityClass", "priorityclasses"),
    ("RuntimeClass", "runtimeclasses"),
];

/// The resource (plural, lowercase) of a kind, as the API's REST mapping
/// names it.
pub fn resource_of(kind: &str) -> String {
    if let Some((_, r)) = IRREGULAR.iter().find(|(k, _)| *k == kind) {
        return (*r).to_owned();
    }
    let lower = kind.to_ascii_lowercase();
    if let Some(stem) = lower.strip_suffix('y') {
        format!("{stem}ies")
    } else if lower.ends_with('s') {
        format!("{lower}es")
    } else {
        format!("{lower}s")
    }
}

/// `group/version` split; `v1` is the core group.
pub fn split_api_version(api_version: &str) -> (String, String) {
    match api_version.split_once('/') {
        Some((g, v)) => (g.to_owned(), v.to_owned()),
        None => (String::new(), api_version.to_owned()),
    }
}

impl Request {
    /// The request that writes `object` (CREATE or UPDATE of the object
    /// itself; `old` is the object before an UPDATE). The namespace of a
    /// Namespace object is empty (as the Kyverno CLI and the API server's
    /// matching treat it: a Namespace is cluster-scoped).
    pub fn for_object(
        operation: Operation,
        object: Value,
        old: Option<Value>,
        user: UserInfo,
    ) -> Result<Self, String> {
        let kind = object
            .get("kind")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
            .ok_or("the object has no kind")?
            .to_owned();
        let api_version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
            .ok_or("the object has no apiVersion")?;
        let (group, version) = split_api_version(api_version);
        let meta = |f: &str| {
            object
                .get("metadata")
                .and_then(|m| m.get(f))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let name = meta("name");
        let namespace = if kind == "Namespace" && group.is_empty() {
            String::new()
        } else {
            meta("namespace")
        };
        Ok(Self {
            operation,
            resource: GroupVersion {
                group: group.clone(),
                version: version.clone(),
                name: resource_of(&kind),
            },
            kind: GroupVersion {
                group,
                version,
                name: kind,
            },
            sub_resource: String::new(),
            name,
            namespace,
            old_object: old.unwrap_or(Value::Null),
            object,
            user,
            dry_run: false,
        })
    }

    /// The object's labels (of the old object when there is no new one).
    pub fn labels(&self, old: bool) -> BTreeMap<String, String> {
        let obj = if old { &self.old_object } else { &self.object };
        obj.get("metadata")
            .and_then(|m| m.get("labels"))
            .and_then(Value::as_object)
            .map(|l| {
                l.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `"<Kind> ns/name"` (or `"<Kind> name"`), with the subresource.
    pub fn describe(&self) -> String {
        let mut s = self.kind.name.clone();
        s.push(' ');
        if !self.namespace.is_empty() {
            s.push_str(&self.namespace);
            s.push('/');
        }
        s.push_str(&self.name);
        if !self.sub_resource.is_empty() {
            s.push_str(" (");
            s.push_str(&self.resource.name);
            s.push('/');
            s.push_str(&self.sub_resource);
            s.push(')');
        }
        s
    }

    /// The CEL variable `request`, with the fields of an
    /// `AdmissionRequest` (`kind`, `resource`, `subResource`,
    /// `requestKind`, `requestResource`, `name`, `namespace`, `operation`,
    /// `userInfo`, `dryRun`, `options`).
    pub fn cel_request(&self) -> Value {
        let gvk =
            json!({"group": self.kind.group, "version": self.kind.version, "kind": self.kind.name});
        let gvr = json!({"group": self.resource.group, "version": self.resource.version, "resource": self.resource.name});
        let mut user = json!({"username": self.user.username, "groups": self.user.groups});
        if !self.user.uid.is_empty() {
            user["uid"] = json!(self.user.uid);
        }
        if !self.user.extra.is_empty() {
            user["extra"] = json!(self.user.extra);
        }
        json!({
            "uid": "",
            "kind": gvk,
            "resource": gvr,
            "subResource": self.sub_resource,
            "requestKind": gvk,
            "requestResource": gvr,
            "requestSubResource": self.sub_resource,
            "name": self.name,
            "namespace": self.namespace,
            "operation": self.operation.as_str(),
            "userInfo": user,
            "dryRun": self.dry_run,
            "options": {},
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{Operation, Request, UserInfo, resource_of};
    use serde_json::json;

    #[test]
    fn resources_of_kinds() {
        assert_eq!(resource_of("Pod"), "pods");
        assert_eq!(resource_of("NetworkPolicy"), "networkpolicies");
        assert_eq!(resource_of("Ingress"), "ingresses");
        assert_eq!(resource_of("Endpoints"), "endpoints");
        assert_eq!(resource_of("ConfigMap"), "configmaps");
    }

    #[test]
    fn a_request_for_an_object() {
        let r = Request::for_object(
            Operation::Create,
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"}}),
            None,
            UserInfo::default(),
        )
        .unwrap();
        assert_eq!(r.resource.group, "apps");
        assert_eq!(r.resource.name, "deployments");
        assert_eq!(r.describe(), "Deployment shop/web");
        assert_eq!(r.cel_request()["operation"], "CREATE");
        let ns = Request::for_object(
            Operation::Create,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "namespace": "x"}}),
            None,
            UserInfo::default(),
        )
        .unwrap();
        assert_eq!(ns.namespace, "");
        assert!(
            Request::for_object(
                Operation::Create,
                json!({"kind": "Pod"}),
                None,
                UserInfo::default()
            )
            .is_err()
        );
    }
}
