//! Realistic objects for tests to seed the fake API server with (the JSON a
//! real cluster would return): namespaces with labels, the seclab marker,
//! ConfigMaps, Secrets, and Running+Ready pods with container statuses.

use serde_json::{Map, Value, json};

fn labels(pairs: &[(&str, &str)]) -> Value {
    let m: Map<String, Value> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    Value::Object(m)
}

/// A Namespace with `labels` (e.g. `pod-security.kubernetes.io/enforce`).
pub fn namespace(name: &str, label_pairs: &[(&str, &str)]) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels(label_pairs)}})
}

/// A ConfigMap with string `data`.
pub fn config_map(namespace: &str, name: &str, data: &[(&str, &str)]) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": labels(data)
    })
}

/// seclab's marker (`seclab-system/seclab-marker`, data `cluster-id`, label
/// `seclab.dev/marker=true`; see ../shared/docs/live.md). Insert
/// [`namespace`]`("seclab-system", &[])` too.
pub fn marker(cluster_id: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "seclab-marker",
            "namespace": "seclab-system",
            "labels": {"seclab.dev/marker": "true"}
        },
        "data": {"cluster-id": cluster_id}
    })
}

/// An Opaque Secret; `data` values are given in clear and stored base64
/// (`stringData` is converted by the store, as the real server does).
pub fn secret(namespace: &str, name: &str, data: &[(&str, &str)]) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": "Opaque",
        "stringData": labels(data)
    })
}

/// A Pod that is Running with every container Ready (one container `app`,
/// image `image`, on node `seclab-control-plane`, pod IP `ip`), with
/// `restartCount` restarts.
pub fn running_pod(
    namespace: &str,
    name: &str,
    pod_labels: &[(&str, &str)],
    ip: &str,
    restart_count: u32,
) -> Value {
    let started = "2026-09-01T10:00:00Z";
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(pod_labels)},
        "spec": {
            "containers": [{
                "name": "app",
                "image": "registry.k8s.io/e2e-test-images/agnhost:2.53",
                "imagePullPolicy": "IfNotPresent",
                "ports": [{"containerPort": 8080, "protocol": "TCP"}]
            }],
            "nodeName": "seclab-control-plane",
            "restartPolicy": "Always",
            "serviceAccountName": "default"
        },
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": "PodReadyToStartContainers", "status": "True", "lastTransitionTime": started},
                {"type": "Initialized", "status": "True", "lastTransitionTime": started},
                {"type": "Ready", "status": "True", "lastTransitionTime": started},
                {"type": "ContainersReady", "status": "True", "lastTransitionTime": started},
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": started}
            ],
            "hostIP": "172.18.0.2",
            "hostIPs": [{"ip": "172.18.0.2"}],
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "startTime": started,
            "qosClass": "BestEffort",
            "containerStatuses": [{
                "name": "app",
                "state": {"running": {"startedAt": started}},
                "lastState": {},
                "ready": true,
                "restartCount": restart_count,
                "image": "registry.k8s.io/e2e-test-images/agnhost:2.53",
                "imageID": "registry.k8s.io/e2e-test-images/agnhost@sha256:99c6b4bb4a1e1df3f0b3752168c89358794d02258ebebc26bf21c29399011a85",
                "containerID": "containerd://4f1c2d3e4a5b6c7d8e9f00112233445566778899aabbccddeeff001122334455",
                "started": true
            }]
        }
    })
}
