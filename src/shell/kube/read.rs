//! The live snapshot of a lab: the namespaces labelled with its id, the
//! objects in them that graders read, and the cluster-scoped RBAC objects
//! that are not Kubernetes' own bootstrap roles (those the RBAC engine
//! knows already). GETs only: this works on any reachable cluster, marked
//! or not.

use kube::api::{Api, DynamicObject, ListParams};
use seclab_checkers::KubeObject;
use serde_json::Value;

use super::resources::{Resource, builtin};
use super::{Cluster, ClusterError, LAB_LABEL};

/// The namespaced kinds a snapshot lists in each lab namespace.
const NAMESPACED: &[(&str, &str)] = &[
    ("v1", "Pod"),
    ("v1", "Service"),
    ("v1", "ServiceAccount"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "ReplicaSet"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "DaemonSet"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
];

/// The cluster-scoped kinds a snapshot lists (without the bootstrap ones).
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
];

/// The label Kubernetes puts on the roles and bindings it bootstraps.
const BOOTSTRAP_LABEL: &str = "kubernetes.io/bootstrapping";

fn resource(api_version: &str, kind: &str) -> Resource {
    builtin(api_version, kind).unwrap_or_else(|| unreachable!("{kind} is a built-in kind"))
}

/// An object as graders see it: `apiVersion` and `kind` set (list items
/// may lack them), `managedFields` dropped, `source` naming the context.
fn to_object(
    cluster: &Cluster,
    res: &Resource,
    obj: DynamicObject,
) -> Result<KubeObject, ClusterError> {
    let mut v = serde_json::to_value(obj).map_err(|e| ClusterError::Other {
        context: cluster.context.clone(),
        message: e.to_string(),
    })?;
    if let Some(m) = v.as_object_mut() {
        m.insert(
            "apiVersion".into(),
            Value::String(res.api.api_version.clone()),
        );
        m.insert("kind".into(), Value::String(res.api.kind.clone()));
        if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("managedFields");
        }
    }
    let mut o = KubeObject::new(v);
    o.source = Some(format!("cluster {}", cluster.context));
    Ok(o)
}

async fn list(
    cluster: &Cluster,
    res: &Resource,
    namespace: Option<&str>,
    lp: &ListParams,
) -> Result<Vec<KubeObject>, ClusterError> {
    let api: Api<DynamicObject> = match namespace {
        Some(ns) => Api::namespaced_with(cluster.client(), ns, &res.api),
        None => Api::all_with(cluster.client(), &res.api),
    };
    let items = api.list(lp).await.map_err(|e| cluster.error(e))?;
    items
        .items
        .into_iter()
        .map(|o| to_object(cluster, res, o))
        .collect()
}

/// The namespaces labelled `seclab.dev/lab=<lab>` (Namespace objects).
pub async fn lab_namespaces(cluster: &Cluster, lab: &str) -> Result<Vec<KubeObject>, ClusterError> {
    let lp = ListParams::default().labels(&format!("{LAB_LABEL}={lab}"));
    list(cluster, &resource("v1", "Namespace"), None, &lp).await
}

/// The name of an object.
pub fn name_of(o: &KubeObject) -> &str {
    o.value
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The namespaces labelled with `lab`, and in them every object of `kinds`
/// (`(apiVersion, kind)`, built-in kinds): (namespaces, objects).
pub async fn in_lab_namespaces(
    cluster: &Cluster,
    lab: &str,
    kinds: &[(&str, &str)],
) -> Result<(Vec<KubeObject>, Vec<KubeObject>), ClusterError> {
    let namespaces = lab_namespaces(cluster, lab).await?;
    let mut out = Vec::new();
    for ns in &namespaces {
        for (v, k) in kinds {
            out.extend(
                list(
                    cluster,
                    &resource(v, k),
                    Some(name_of(ns)),
                    &ListParams::default(),
                )
                .await?,
            );
        }
    }
    Ok((namespaces, out))
}

/// Everything a lab's graders may read live: its namespaces, their objects
/// of the kinds above, and the non-bootstrap cluster RBAC objects.
pub async fn snapshot(cluster: &Cluster, lab: &str) -> Result<Vec<KubeObject>, ClusterError> {
    let (namespaces, mut out) = in_lab_namespaces(cluster, lab, NAMESPACED).await?;
    out.extend(namespaces);
    for (v, k) in CLUSTER_SCOPED {
        let all = list(cluster, &resource(v, k), None, &ListParams::default()).await?;
        out.extend(all.into_iter().filter(|o| {
            o.value
                .pointer("/metadata/labels")
                .and_then(|l| l.get(BOOTSTRAP_LABEL))
                .is_none()
        }));
    }
    Ok(out)
}

/// The pods of the lab's namespaces (for the settle window and probes).
pub async fn pods(cluster: &Cluster, lab: &str) -> Result<Vec<KubeObject>, ClusterError> {
    let mut out = Vec::new();
    for ns in lab_namespaces(cluster, lab).await? {
        out.extend(
            list(
                cluster,
                &resource("v1", "Pod"),
                Some(name_of(&ns)),
                &ListParams::default(),
            )
            .await?,
        );
    }
    Ok(out)
}

/// Nodes whose Ready condition is True, and all nodes.
pub async fn nodes_ready(cluster: &Cluster) -> Result<(usize, usize), ClusterError> {
    let api: Api<k8s_openapi::api::core::v1::Node> = Api::all(cluster.client());
    let nodes = api
        .list(&ListParams::default())
        .await
        .map_err(|e| cluster.error(e))?;
    let ready = nodes
        .items
        .iter()
        .filter(|n| {
            n.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        })
        .count();
    Ok((ready, nodes.items.len()))
}

/// Whether kube-system/coredns has an available replica.
pub async fn coredns_available(cluster: &Cluster) -> Result<bool, ClusterError> {
    let api: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(cluster.client(), "kube-system");
    let d = api.get_opt("coredns").await.map_err(|e| cluster.error(e))?;
    Ok(d.and_then(|d| d.status)
        .and_then(|s| s.available_replicas)
        .is_some_and(|n| n > 0))
}
