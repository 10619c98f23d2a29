//! The wrong-cluster guard. seclab writes only to a cluster that carries
//! its marker — ConfigMap `seclab-marker` in namespace `seclab-system`
//! holding a random cluster id — when the same id is stored in seclab's
//! state dir (`cluster.json`, per context). [`Owned`] is the only type
//! with write methods, and [`own`] (marker checked) and [`claim`] (for
//! `seclab up`, right after it created the cluster) are the only ways to
//! get one. An unmarked cluster gets GETs only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Cluster, ClusterError, FIELD_MANAGER, LAB_LABEL};

/// The marker's namespace.
pub const MARKER_NAMESPACE: &str = "seclab-system";
/// The marker ConfigMap's name.
pub const MARKER_NAME: &str = "seclab-marker";
/// The marker's data key for the cluster id.
pub const MARKER_KEY: &str = "cluster-id";

/// The cluster-scoped kinds a lab may own, deleted on stop and reset
/// (bindings before what they bind).
pub const CLUSTER_SCOPED_KINDS: [(&str, &str); 5] = [
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingAdmissionPolicyBinding",
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingAdmissionPolicy",
    ),
    ("kyverno.io/v1", "ClusterPolicy"),
];

/// The cluster ids seclab created or adopted, per context
/// (`<state>/cluster.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Known {
    /// Context name to the id its marker must hold.
    pub clusters: BTreeMap<String, String>,
}

/// Where [`Known`] is stored.
pub fn known_path(state: &Path) -> PathBuf {
    state.join("cluster.json")
}

impl Known {
    /// Reads the state dir's ids (none stored: empty).
    pub fn load(state: &Path) -> anyhow::Result<Self> {
        let p = known_path(state);
        match std::fs::read_to_string(&p) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                anyhow::anyhow!(
                    "{}: {e}; remove it and run `seclab up --adopt`",
                    p.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(anyhow::anyhow!("{}: {e}", p.display())),
        }
    }

    /// Stores the ids (atomically: a temp file renamed over the old one).
    pub fn save(&self, state: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(state)?;
        let p = known_path(state);
        let tmp = p.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(self)? + "\n")?;
        std::fs::rename(&tmp, &p)?;
        Ok(())
    }
}

/// A new random cluster id (128 bits, hex).
pub fn new_id() -> anyhow::Result<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no randomness for a cluster id: {e}"))?;
    Ok(hex::encode(b))
}

/// The cluster id in the marker, if the cluster has one (a GET).
pub async fn read_marker(cluster: &Cluster) -> Result<Option<String>, ClusterError> {
    let api: Api<ConfigMap> = Api::namespaced(cluster.client(), MARKER_NAMESPACE);
    match api.get_opt(MARKER_NAME).await {
        Ok(Some(cm)) => Ok(cm.data.and_then(|d| d.get(MARKER_KEY).cloned())),
        Ok(None) => Ok(None),
        Err(e) => Err(cluster.error(e)),
    }
}

/// What the guard found on a cluster, for `status` and `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ownership {
    /// The marker holds the id stored here.
    Ours(String),
    /// No marker.
    Unmarked,
    /// A marker with an id this state dir does not have.
    Foreign {
        /// The marker's id.
        marker: String,
        /// The id stored here, if any.
        stored: Option<String>,
    },
}

impl Ownership {
    /// Why a write is refused (None: it is not).
    pub fn refusal(&self, context: &str) -> Option<String> {
        match self {
            Ownership::Ours(_) => None,
            Ownership::Unmarked => Some("it has no seclab marker".into()),
            Ownership::Foreign { stored: None, .. } => Some(format!(
                "it carries a seclab marker, but this state dir stores no cluster id for context {context} (a lost state dir: `seclab up --adopt`)"
            )),
            Ownership::Foreign {
                marker,
                stored: Some(s),
            } => Some(format!(
                "its marker holds cluster id {marker}, not {s} stored here: it is another seclab cluster (or was re-created)"
            )),
        }
    }
}

/// Reads the marker and compares it with the stored id (GETs only).
pub async fn ownership(cluster: &Cluster, known: &Known) -> Result<Ownership, ClusterError> {
    let stored = known.clusters.get(&cluster.context).cloned();
    Ok(match read_marker(cluster).await? {
        None => Ownership::Unmarked,
        Some(m) if stored.as_deref() == Some(m.as_str()) => Ownership::Ours(m),
        Some(m) => Ownership::Foreign { marker: m, stored },
    })
}

/// A cluster seclab owns: the only handle with write methods.
#[derive(Debug, Clone)]
pub struct Owned {
    cluster: Cluster,
    /// The marker's id.
    pub id: String,
}

/// Checks the marker against `known` and hands out the writable handle;
/// no marker, another id, or an unreachable cluster is an error naming
/// the context (exit 2).
pub async fn own(cluster: Cluster, known: &Known) -> Result<Owned, ClusterError> {
    match ownership(&cluster, known).await {
        Ok(Ownership::Ours(id)) => Ok(Owned { cluster, id }),
        Ok(o) => Err(ClusterError::NotOurs {
            why: o.refusal(&cluster.context).unwrap_or_default(),
            context: cluster.context,
            server: cluster.server,
        }),
        Err(ClusterError::Api { code, message, .. }) => Err(ClusterError::NotOurs {
            why: format!("its marker cannot be read (HTTP {code}: {message})"),
            context: cluster.context,
            server: cluster.server,
        }),
        Err(e) => Err(e),
    }
}

/// Writes a new marker on a cluster `seclab up` has just created (kind
/// said so): the namespace, the ConfigMap with a new id. Returns the id;
/// the caller stores it. Refuses when the cluster has a marker already.
pub async fn claim(cluster: Cluster) -> Result<Owned, ClusterError> {
    if let Some(m) = read_marker(&cluster).await? {
        return Err(ClusterError::NotOurs {
            why: format!(
                "it carries a seclab marker already ({m}); `seclab up --adopt` takes it over"
            ),
            context: cluster.context,
            server: cluster.server,
        });
    }
    let id = new_id().map_err(|e| ClusterError::Other {
        context: cluster.context.clone(),
        message: e.to_string(),
    })?;
    let owned = Owned { cluster, id };
    owned.write_marker().await?;
    Ok(owned)
}

/// A dry-run write's answer: admitted, or refused by admission (403
/// Forbidden; 422 from a ValidatingAdmissionPolicy; 400 from a webhook),
/// or another error.
fn dry_run_answer(c: &Cluster, r: Result<(), kube::Error>) -> Result<DryRun, ClusterError> {
    match r {
        Ok(()) => Ok(DryRun::Admitted),
        Err(kube::Error::Api(s)) if matches!(s.code, 400 | 403 | 422) => {
            Ok(DryRun::Rejected(s.message.clone()))
        }
        Err(e) => Err(c.error(e)),
    }
}

/// The outcome of a dry-run create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DryRun {
    /// The API server would create it (with its warnings, if any).
    Admitted,
    /// Admission refused it: the API server's message.
    Rejected(String),
}

impl Owned {
    /// The read-only connection under this handle.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    async fn write_marker(&self) -> Result<(), ClusterError> {
        let c = &self.cluster;
        let pp = PatchParams::apply(FIELD_MANAGER).force();
        let ns: Api<Namespace> = Api::all(c.client());
        let body = json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": MARKER_NAMESPACE, "labels": {"seclab.dev/marker": "true"}},
        });
        ns.patch(MARKER_NAMESPACE, &pp, &Patch::Apply(&body))
            .await
            .map_err(|e| c.error(e))?;
        let cms: Api<ConfigMap> = Api::namespaced(c.client(), MARKER_NAMESPACE);
        let body = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": MARKER_NAME, "namespace": MARKER_NAMESPACE,
                         "labels": {"seclab.dev/marker": "true"}},
            "data": {MARKER_KEY: self.id},
        });
        cms.patch(MARKER_NAME, &pp, &Patch::Apply(&body))
            .await
            .map_err(|e| c.error(e))?;
        Ok(())
    }

    /// Server-side applies `obj` (field manager `seclab`, forced), after
    /// adding the lab's label; a namespaced object without a namespace goes
    /// to `default_ns`. Returns the object as stored.
    pub async fn apply(
        &self,
        lab: &str,
        obj: &Value,
        default_ns: Option<&str>,
    ) -> Result<Value, ClusterError> {
        let c = &self.cluster;
        let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        if api_version.is_empty() || kind.is_empty() || name.is_empty() {
            return Err(ClusterError::Other {
                context: c.context.clone(),
                message: "an object without apiVersion, kind or metadata.name cannot be applied"
                    .into(),
            });
        }
        let res = super::resources::resolve(c, api_version, kind).await?;
        let mut body = obj.clone();
        if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
            let labels = meta.entry("labels").or_insert_with(|| json!({}));
            if let Some(l) = labels.as_object_mut() {
                l.insert(LAB_LABEL.into(), Value::String(lab.into()));
            }
        }
        let api: Api<DynamicObject> = if res.namespaced {
            let ns = obj
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .or(default_ns)
                .ok_or_else(|| ClusterError::Other {
                    context: c.context.clone(),
                    message: format!("{kind} {name} has no metadata.namespace"),
                })?
                .to_string();
            if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.insert("namespace".into(), Value::String(ns.clone()));
            }
            Api::namespaced_with(c.client(), &ns, &res.api)
        } else {
            Api::all_with(c.client(), &res.api)
        };
        let pp = PatchParams::apply(FIELD_MANAGER).force();
        let stored = api
            .patch(name, &pp, &Patch::Apply(&body))
            .await
            .map_err(|e| c.error(e))?;
        serde_json::to_value(stored).map_err(|e| ClusterError::Other {
            context: c.context.clone(),
            message: e.to_string(),
        })
    }

    /// Creates (or updates) a lab namespace with the lab's label and any
    /// extra labels.
    pub async fn ensure_namespace(
        &self,
        lab: &str,
        name: &str,
        labels: &BTreeMap<String, String>,
    ) -> Result<(), ClusterError> {
        let mut l: serde_json::Map<String, Value> = labels
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        l.insert(LAB_LABEL.into(), Value::String(lab.into()));
        let body = json!({"apiVersion": "v1", "kind": "Namespace",
                          "metadata": {"name": name, "labels": l}});
        self.apply(lab, &body, None).await.map(|_| ())
    }

    /// Deletes a namespace of `lab` (only one carrying the lab's label),
    /// then waits until it is gone (up to `timeout`).
    pub async fn delete_namespace(
        &self,
        lab: &str,
        name: &str,
        timeout: std::time::Duration,
    ) -> Result<(), ClusterError> {
        let c = &self.cluster;
        let api: Api<Namespace> = Api::all(c.client());
        let Some(ns) = api.get_opt(name).await.map_err(|e| c.error(e))? else {
            return Ok(());
        };
        let label = ns
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(LAB_LABEL))
            .map(String::as_str);
        if label != Some(lab) {
            return Err(ClusterError::NotOurs {
                context: c.context.clone(),
                server: c.server.clone(),
                why: format!("namespace {name} does not carry {LAB_LABEL}={lab}"),
            });
        }
        match api.delete(name, &DeleteParams::foreground()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(()),
            Err(e) => return Err(c.error(e)),
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if api.get_opt(name).await.map_err(|e| c.error(e))?.is_none() {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ClusterError::Other {
                    context: c.context.clone(),
                    message: format!(
                        "namespace {name} is still terminating after {}s",
                        timeout.as_secs()
                    ),
                });
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }

    /// Deletes the cluster-scoped objects labelled with the lab's id
    /// ([`CLUSTER_SCOPED_KINDS`]: ClusterRoleBindings, ClusterRoles,
    /// ValidatingAdmissionPolicyBindings, ValidatingAdmissionPolicies and,
    /// when Kyverno's CRD is installed, Kyverno ClusterPolicies); returns
    /// what went. Objects without the label are never touched.
    pub async fn delete_cluster_scoped(&self, lab: &str) -> Result<Vec<String>, ClusterError> {
        use kube::api::ListParams;
        let c = &self.cluster;
        let mut gone = Vec::new();
        for (api_version, kind) in CLUSTER_SCOPED_KINDS {
            let res = match super::resources::builtin(api_version, kind) {
                Some(r) => r,
                None => match super::resources::resolve(c, api_version, kind).await {
                    Ok(r) => r,
                    // Kyverno not installed (or an API server without
                    // VAPs): there is nothing of that kind to delete.
                    Err(ClusterError::Other { .. }) => continue,
                    Err(e) => return Err(e),
                },
            };
            let api: Api<DynamicObject> = Api::all_with(c.client(), &res.api);
            let lp = ListParams::default().labels(&format!("{LAB_LABEL}={lab}"));
            for o in api.list(&lp).await.map_err(|e| c.error(e))?.items {
                let name = o.metadata.name.clone().unwrap_or_default();
                match api.delete(&name, &DeleteParams::default()).await {
                    Ok(_) => gone.push(format!("{kind} {name}")),
                    Err(kube::Error::Api(s)) if s.code == 404 => {}
                    Err(e) => return Err(c.error(e)),
                }
            }
        }
        Ok(gone)
    }

    /// A server-side dry-run create of `pod` in `namespace`: what admission
    /// (Pod Security among it) says, nothing stored.
    pub async fn dry_run_pod(&self, namespace: &str, pod: &Value) -> Result<DryRun, ClusterError> {
        let c = &self.cluster;
        let pod: k8s_openapi::api::core::v1::Pod =
            serde_json::from_value(pod.clone()).map_err(|e| ClusterError::Other {
                context: c.context.clone(),
                message: format!("not a Pod: {e}"),
            })?;
        let api: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(c.client(), namespace);
        let pp = PostParams {
            dry_run: true,
            field_manager: Some(FIELD_MANAGER.into()),
        };
        match api.create(&pp, &pod).await {
            Ok(_) => Ok(DryRun::Admitted),
            // Pod Security admission answers 403 Forbidden "violates
            // PodSecurity"; a webhook or validation may answer 422.
            Err(kube::Error::Api(s)) if s.code == 403 || s.code == 422 => {
                Ok(DryRun::Rejected(s.message.clone()))
            }
            Err(e) => Err(c.error(e)),
        }
    }

    /// A server-side dry-run create of any namespaced object `obj` in
    /// `namespace` (its resource resolved from apiVersion/kind): what
    /// admission says, nothing stored. A refusal by admission (403, or a
    /// ValidatingAdmissionPolicy's 422, or a webhook's 400) is
    /// [`DryRun::Rejected`].
    pub async fn dry_run_create(
        &self,
        namespace: &str,
        obj: &Value,
    ) -> Result<DryRun, ClusterError> {
        let c = &self.cluster;
        let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
        let res = super::resources::resolve(c, api_version, kind).await?;
        if !res.namespaced {
            return Err(ClusterError::Other {
                context: c.context.clone(),
                message: format!(
                    "{kind} is cluster-scoped: seclab dry-runs only namespaced objects"
                ),
            });
        }
        let mut body = obj.clone();
        if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("namespace".into(), Value::String(namespace.into()));
        }
        let dynamic: DynamicObject =
            serde_json::from_value(body).map_err(|e| ClusterError::Other {
                context: c.context.clone(),
                message: format!("not an object: {e}"),
            })?;
        let api: Api<DynamicObject> = Api::namespaced_with(c.client(), namespace, &res.api);
        let pp = PostParams {
            dry_run: true,
            field_manager: Some(FIELD_MANAGER.into()),
        };
        dry_run_answer(c, api.create(&pp, &dynamic).await.map(|_| ()))
    }

    /// A server-side dry-run write of the `ephemeralcontainers` subresource
    /// of pod `namespace/pod` (what `kubectl debug` does): the pod's
    /// ephemeral containers plus `containers`, nothing stored. The pod
    /// must exist.
    pub async fn dry_run_ephemeral(
        &self,
        namespace: &str,
        pod: &str,
        containers: &Value,
    ) -> Result<DryRun, ClusterError> {
        let c = &self.cluster;
        let api: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(c.client(), namespace);
        let live = api.get(pod).await.map_err(|e| c.error(e))?;
        let mut all: Vec<Value> = live
            .spec
            .as_ref()
            .and_then(|s| s.ephemeral_containers.as_ref())
            .map(|e| {
                e.iter()
                    .filter_map(|x| serde_json::to_value(x).ok())
                    .collect()
            })
            .unwrap_or_default();
        all.extend(containers.as_array().cloned().unwrap_or_default());
        let patch = json!({"spec": {"ephemeralContainers": all}});
        let pp = PatchParams {
            dry_run: true,
            field_manager: Some(FIELD_MANAGER.into()),
            ..PatchParams::default()
        };
        let r = api
            .patch_subresource("ephemeralcontainers", pod, &pp, &Patch::Strategic(&patch))
            .await;
        dry_run_answer(c, r.map(|_| ()))
    }

    /// Asks the API server whether `user` (in `groups`) may do a request:
    /// a SubjectAccessReview. Returns (allowed, reason).
    pub async fn access_review(&self, spec: &Value) -> Result<(bool, String), ClusterError> {
        use k8s_openapi::api::authorization::v1::SubjectAccessReview;
        let c = &self.cluster;
        let review: SubjectAccessReview = serde_json::from_value(json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": spec,
        }))
        .map_err(|e| ClusterError::Other {
            context: c.context.clone(),
            message: format!("not a SubjectAccessReview spec: {e}"),
        })?;
        let api: Api<SubjectAccessReview> = Api::all(c.client());
        let answer = api
            .create(&PostParams::default(), &review)
            .await
            .map_err(|e| c.error(e))?;
        let status = answer.status.unwrap_or_default();
        Ok((status.allowed, status.reason.unwrap_or_default()))
    }
}
