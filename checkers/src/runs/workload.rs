//! The `runs:` checks on the workload object itself: does it run its pod
//! at all (`replicas: 0`, a paused rollout, a suspended Job), and does the
//! API server accept it (a selector that selects the template, a
//! `restartPolicy` the kind allows, containers to run)?

use serde_json::Value;

use crate::{Finding, KubeObject};

/// Whether the workload object runs its pod at all, and whether the API
/// server accepts it.
pub(super) fn check(obj: &KubeObject, t: &crate::object::PodTemplate<'_>, out: &mut Vec<Finding>) {
    let v = &obj.value;
    let err = |msg: String, at: &str| Finding::error(msg).about(obj).at(at);
    let kind = obj.kind();
    let int = |p: &str| v.pointer(p).and_then(Value::as_i64);
    let yes = |p: &str| v.pointer(p).and_then(Value::as_bool) == Some(true);
    if matches!(
        kind,
        "Deployment" | "ReplicaSet" | "StatefulSet" | "ReplicationController"
    ) && int("/spec/replicas").is_some_and(|n| n <= 0)
    {
        out.push(err(
            format!(
                "{kind} {} has replicas: {}: the controller runs no pod, so nothing runs",
                obj.name(),
                int("/spec/replicas").unwrap_or(0)
            ),
            "spec.replicas",
        ));
    }
    if kind == "Deployment" && yes("/spec/paused") {
        out.push(err(
            "the Deployment is paused: its controller does not roll out this template (a new Deployment starts no pod, an existing one keeps its old pods); remove paused: true".to_owned(),
            "spec.paused",
        ));
    }
    let job = match kind {
        "Job" => Some(("/spec", "spec")),
        "CronJob" => {
            if yes("/spec/suspend") {
                out.push(err(
                    "the CronJob is suspended: it schedules no Job, so nothing runs".to_owned(),
                    "spec.suspend",
                ));
            }
            Some(("/spec/jobTemplate/spec", "spec.jobTemplate.spec"))
        }
        _ => None,
    };
    if let Some((ptr, at)) = job {
        if yes(&format!("{ptr}/suspend")) {
            out.push(err(
                "the Job is suspended: it creates no pod until it is resumed".to_owned(),
                &format!("{at}.suspend"),
            ));
        }
        for field in ["parallelism", "completions"] {
            if int(&format!("{ptr}/{field}")).is_some_and(|n| n <= 0) {
                out.push(err(
                    format!("the Job has {field}: 0: it runs no pod"),
                    &format!("{at}.{field}"),
                ));
            }
        }
    }
    let restart = t.spec.get("restartPolicy").and_then(Value::as_str);
    let restart_at = format!("{}.restartPolicy", t.spec_path);
    match kind {
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" | "ReplicationController"
            if restart.is_some_and(|r| r != "Always") =>
        {
            out.push(err(
                format!(
                    "restartPolicy {:?}: a {kind} keeps its pods running, so the API server accepts only Always",
                    restart.unwrap_or_default()
                ),
                &restart_at,
            ));
        }
        "Job" | "CronJob" if !matches!(restart, Some("OnFailure" | "Never")) => {
            out.push(err(
                format!(
                    "restartPolicy {}: a Job's pods must finish, so the API server accepts only OnFailure or Never",
                    restart.map_or_else(|| "unset (it defaults to Always)".to_owned(), |r| format!("{r:?}"))
                ),
                &restart_at,
            ));
        }
        _ => {}
    }
    let labels = t.metadata.get("labels");
    match kind {
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" => {
            match v.pointer("/spec/selector") {
                None | Some(Value::Null) => out.push(err(
                    format!("the {kind} has no spec.selector: the API server rejects it (apps/v1 requires one matching the template's labels)"),
                    "spec",
                )),
                Some(sel) => {
                    if let Err(why) = selector_matches(sel, labels) {
                        out.push(err(
                            format!("spec.selector {why}: the API server rejects the {kind} (\"selector does not match template labels\")"),
                            "spec.selector",
                        ));
                    }
                }
            }
        }
        "ReplicationController" => {
            if let Some(sel) = v.pointer("/spec/selector").and_then(Value::as_object) {
                let wanted = serde_json::json!({ "matchLabels": sel });
                if let Err(why) = selector_matches(&wanted, labels) {
                    out.push(err(
                        format!(
                            "spec.selector {why}: the API server rejects the ReplicationController"
                        ),
                        "spec.selector",
                    ));
                }
            }
        }
        _ => {}
    }
}

/// Whether a label selector selects a pod with these labels; the error
/// says why not.
fn selector_matches(sel: &Value, labels: Option<&Value>) -> Result<(), String> {
    let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    let match_labels = sel.get("matchLabels").and_then(Value::as_object);
    let exprs = sel.get("matchExpressions").and_then(Value::as_array);
    if match_labels.is_none_or(serde_json::Map::is_empty) && exprs.is_none_or(Vec::is_empty) {
        return Err("is empty".into());
    }
    for (k, want) in match_labels.into_iter().flatten() {
        let want = want.as_str().unwrap_or_default();
        if label(k) != Some(want) {
            return Err(format!(
                "wants label {k}={want}, which the pod template does not have"
            ));
        }
    }
    for e in exprs.into_iter().flatten() {
        let key = e.get("key").and_then(Value::as_str).unwrap_or_default();
        let op = e
            .get("operator")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let values: Vec<&str> = e
            .get("values")
            .and_then(Value::as_array)
            .map(|vs| vs.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let have = label(key);
        let ok = match op {
            "In" => have.is_some_and(|h| values.contains(&h)),
            "NotIn" => have.is_none_or(|h| !values.contains(&h)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            other => {
                return Err(format!(
                    "has operator {other:?}, which is not In, NotIn, Exists or DoesNotExist"
                ));
            }
        };
        if !ok {
            return Err(format!(
                "wants {key} {op}{}, which the pod template's labels do not satisfy",
                if values.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", values.join(", "))
                }
            ));
        }
    }
    Ok(())
}
