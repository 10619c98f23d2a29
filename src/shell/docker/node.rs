//! A kind cluster's node containers, found by kind's own label
//! (`io.x-k8s.kind.cluster=<name>`), never by name: seclab execs in a node
//! only after the cluster's marker proved the cluster its own.

use super::{Engine, EngineError, ListContainersOptionsBuilder, label_filter};

/// A kind node container as the engine lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindNode {
    /// The container id.
    pub id: String,
    /// The container name (`seclab-control-plane`).
    pub name: String,
    /// kind's role label (`control-plane`, `worker`).
    pub role: String,
    /// Whether it is running.
    pub running: bool,
    /// Its bind mounts: (host source, path in the node).
    pub mounts: Vec<(String, String)>,
}

impl Engine {
    /// The node containers of kind cluster `cluster`, running or not.
    pub async fn kind_nodes(&self, cluster: &str) -> Result<Vec<KindNode>, EngineError> {
        let filter = format!("{}={cluster}", crate::shell::kind::CLUSTER_LABEL);
        let opts = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&label_filter(filter))
            .build();
        let listed = self
            .docker
            .list_containers(Some(opts))
            .await
            .map_err(|e| EngineError::docker("list containers", &e))?;
        Ok(listed
            .into_iter()
            .filter(|c| {
                // The engine filtered by label; check again.
                c.labels
                    .as_ref()
                    .and_then(|l| l.get(crate::shell::kind::CLUSTER_LABEL))
                    .is_some_and(|v| v == cluster)
            })
            .map(|c| KindNode {
                id: c.id.unwrap_or_default(),
                name: c
                    .names
                    .unwrap_or_default()
                    .first()
                    .map(|n| n.trim_start_matches('/').to_owned())
                    .unwrap_or_default(),
                role: c
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(crate::shell::kind::ROLE_LABEL))
                    .cloned()
                    .unwrap_or_default(),
                running: c
                    .state
                    .is_some_and(|s| s == bollard::models::ContainerSummaryStateEnum::RUNNING),
                mounts: c
                    .mounts
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|m| Some((m.source?, m.destination?)))
                    .collect(),
            })
            .collect())
    }
}
