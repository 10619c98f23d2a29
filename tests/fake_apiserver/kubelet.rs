//! A stand-in for the controllers and the kubelet, off unless a test turns
//! it on (`FakeApiServer::simulate_workloads`): a stored Pod that is not
//! Running becomes Running with every container Ready and a pod IP; a
//! stored Deployment gets a ReplicaSet named after its template's hash and
//! one Pod owned by it (a new template replaces both), unless the
//! namespace's Pod Security `enforce` level refuses the pod — then there is
//! no pod, as the ReplicaSet controller's create fails on a real cluster.
//! It does not know what images do: a pod that would crash runs here.

use std::hash::{Hash as _, Hasher as _};

use serde_json::{Value, json};

use super::store::{State, now, str_at};

/// The template hash a Deployment's ReplicaSet and pods carry.
fn template_hash(template: &Value) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    template.to_string().hash(&mut h);
    format!("{:x}", h.finish())[..10].to_string()
}

/// Running status for a pod spec, with `ip`.
pub fn running_status(spec: &Value, ip: &str) -> Value {
    let t = now();
    let statuses: Vec<Value> = spec
        .get("containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            json!({
                "name": c.get("name").cloned().unwrap_or(json!("")),
                "image": c.get("image").cloned().unwrap_or(json!("")),
                "imageID": "",
                "containerID": "containerd://0000",
                "ready": true, "started": true, "restartCount": 0,
                "state": {"running": {"startedAt": t}}
            })
        })
        .collect();
    json!({
        "phase": "Running",
        "conditions": [
            {"type": "Initialized", "status": "True", "lastTransitionTime": t},
            {"type": "Ready", "status": "True", "lastTransitionTime": t},
            {"type": "ContainersReady", "status": "True", "lastTransitionTime": t},
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": t}
        ],
        "hostIP": "172.18.0.2", "podIP": ip, "podIPs": [{"ip": ip}],
        "startTime": t, "qosClass": "BestEffort",
        "containerStatuses": statuses
    })
}

impl State {
    /// Runs the stand-in after `obj` (of `kind`) was stored.
    pub fn simulate_after(&mut self, kind: &str, obj: &Value) {
        match kind {
            "Pod"
                if str_at(obj, "/status/phase") != Some("Running")
                    && obj.pointer("/metadata/deletionTimestamp").is_none() =>
            {
                self.pod_seq += 1;
                let ip = format!("10.244.0.{}", self.pod_seq % 250 + 2);
                let mut pod = obj.clone();
                pod["status"] = running_status(obj.get("spec").unwrap_or(&Value::Null), &ip);
                let _ = self.insert(pod);
            }
            "Deployment" => self.reconcile_deployment(obj),
            _ => {}
        }
    }

    fn reconcile_deployment(&mut self, dep: &Value) {
        let (Some(ns), Some(name)) = (
            str_at(dep, "/metadata/namespace"),
            str_at(dep, "/metadata/name"),
        ) else {
            return;
        };
        let (ns, name) = (ns.to_string(), name.to_string());
        let template = dep.pointer("/spec/template").cloned().unwrap_or(json!({}));
        let hash = template_hash(&template);
        let rs_name = format!("{name}-{hash}");
        // Replace the ReplicaSets (and their pods) of an older template.
        for rs in self.list_by_kind("ReplicaSet") {
            let owned_by_dep = rs
                .pointer("/metadata/ownerReferences/0/name")
                .and_then(Value::as_str)
                == Some(name.as_str());
            let rs_n = str_at(&rs, "/metadata/name").unwrap_or("").to_string();
            if str_at(&rs, "/metadata/namespace") == Some(ns.as_str())
                && owned_by_dep
                && rs_n != rs_name
            {
                self.remove_by_kind("ReplicaSet", Some(&ns), &rs_n);
                for p in self.list_by_kind("Pod") {
                    if p.pointer("/metadata/ownerReferences/0/name")
                        .and_then(Value::as_str)
                        == Some(rs_n.as_str())
                    {
                        let pn = str_at(&p, "/metadata/name").unwrap_or("").to_string();
                        self.remove_by_kind("Pod", Some(&ns), &pn);
                    }
                }
            }
        }
        if self
            .get_by_kind("ReplicaSet", Some(&ns), &rs_name)
            .is_some()
        {
            return;
        }
        let mut labels = template
            .pointer("/metadata/labels")
            .cloned()
            .unwrap_or(json!({}));
        labels["pod-template-hash"] = json!(hash);
        let dep_uid = str_at(dep, "/metadata/uid").unwrap_or("").to_string();
        let _ = self.insert(json!({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": rs_name, "namespace": ns, "labels": labels,
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                                     "uid": dep_uid, "controller": true}]},
            "spec": {"replicas": 1, "template": template}
        }));
        let spec = template.get("spec").cloned().unwrap_or(json!({}));
        let ns_obj = self
            .get_by_kind("Namespace", None, &ns)
            .unwrap_or(json!({}));
        let mut dep = dep.clone();
        if let Some((policy, reasons)) = super::psa::admit(&ns_obj, &spec, false).refused {
            // As the deployment controller reports the ReplicaSet's failure.
            dep["status"] = json!({"replicas": 0, "readyReplicas": 0, "conditions": [{
                "type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
                "message": format!("pods \"{rs_name}-x\" is forbidden: violates PodSecurity \"{policy}\": {}", reasons.join(", "))
            }]});
            let _ = self.insert(dep);
            return;
        }
        dep["status"] = json!({"replicas": 1, "readyReplicas": 1, "availableReplicas": 1});
        let _ = self.insert(dep);
        let rs_uid = self
            .get_by_kind("ReplicaSet", Some(&ns), &rs_name)
            .and_then(|r| str_at(&r, "/metadata/uid").map(str::to_string))
            .unwrap_or_default();
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("{rs_name}-{}", &hash[..5]), "namespace": ns, "labels": labels,
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name,
                                     "uid": rs_uid, "controller": true}]},
            "spec": spec
        });
        let _ = self.insert(pod);
    }
}
