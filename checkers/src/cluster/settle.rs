//! Has the lab settled? Two observations of the lab's pods, taken at the
//! start and at the end of a settle window, must show every pod Running
//! with all its containers Ready, the same pod (uid) both times, and no
//! container restarted in between. A pod that crash-loops, was replaced,
//! is Pending, Terminating or not Ready fails the verdict with a finding
//! naming it and why.
//!
//! A pod of a Job that has Succeeded is settled too (it ran to completion;
//! it will never be Running again).

use std::collections::BTreeMap;

use serde_json::Value;

use super::str_at;
use crate::{Finding, KubeObject, Verdict};

/// Whether the lab's workspace runs any pods, i.e. whether an empty pod
/// list after applying it means something went wrong: it has an object of
/// a kind that runs pods (Pod, Deployment, Job, ...; not a bare
/// PodTemplate).
pub fn expects_pods(workspace: &[KubeObject]) -> bool {
    workspace
        .iter()
        .any(|o| o.kind() != "PodTemplate" && crate::object::WORKLOAD_KINDS.contains(&o.kind()))
}

/// A pod in the first and in the last observation, by namespace and name.
type Seen<'a> = (Option<&'a KubeObject>, Option<&'a KubeObject>);

/// Grades the settle window: `first` and `last` are the lab's Pod objects
/// (API JSON, with `status`) at its start and end, `seconds` its length.
/// Passes when both observations hold the same pods (by uid), each Running
/// with every container Ready (or a Job's pod Succeeded), and no
/// container's `restartCount` grew. No pods at all fails: call it only for
/// a lab whose workspace runs pods ([`expects_pods`]).
pub fn grade(first: &[KubeObject], last: &[KubeObject], seconds: u64) -> Verdict {
    let pods = |objs: &[KubeObject]| -> Vec<KubeObject> {
        objs.iter().filter(|o| o.kind() == "Pod").cloned().collect()
    };
    let (first, last) = (pods(first), pods(last));
    if first.is_empty() && last.is_empty() {
        return Verdict::fail(
            "no pod of the lab is running: the lab's workloads made no pods (see `kubectl get events` in its namespaces)",
        );
    }
    let key = |o: &KubeObject| {
        (
            o.namespace().unwrap_or("default").to_owned(),
            o.name().to_owned(),
        )
    };
    let mut by_name: BTreeMap<(String, String), Seen<'_>> = BTreeMap::new();
    for p in &first {
        by_name.entry(key(p)).or_default().0 = Some(p);
    }
    for p in &last {
        by_name.entry(key(p)).or_default().1 = Some(p);
    }
    let mut findings = Vec::new();
    let mut settled = 0usize;
    for (a, b) in by_name.values() {
        let problems = match (a, b) {
            (Some(_), None) => vec![format!(
                "was there at the start of the {seconds}s settle window and is gone at its end (deleted or replaced)"
            )],
            (None, Some(_)) => vec![format!(
                "appeared during the {seconds}s settle window (a replacement, or created late)"
            )],
            (Some(a), Some(b)) => compare(a, b, seconds),
            (None, None) => Vec::new(),
        };
        let Some(pod) = b.or(*a) else { continue };
        if problems.is_empty() {
            settled += 1;
        }
        for p in problems {
            findings.push(
                Finding::error(format!(
                    "pod {}/{} {p}",
                    pod.namespace().unwrap_or("default"),
                    pod.name()
                ))
                .about(pod),
            );
        }
    }
    if findings.is_empty() {
        findings.push(Finding::info(format!(
            "{settled} pod{} Running and Ready through a {seconds}s settle window, none restarted",
            if settled == 1 { "" } else { "s" }
        )));
    }
    Verdict::from_findings(findings)
}

/// What is wrong with one pod across the two observations.
fn compare(a: &KubeObject, b: &KubeObject, seconds: u64) -> Vec<String> {
    let (ua, ub) = (
        str_at(&a.value, "/metadata/uid"),
        str_at(&b.value, "/metadata/uid"),
    );
    if ua != ub {
        return vec![format!(
            "was replaced during the {seconds}s settle window (uid {ua} became {ub})"
        )];
    }
    let mut out = Vec::new();
    for (when, pod) in [("at the start", a), ("at the end", b)] {
        if let Some(p) = unsettled(&pod.value) {
            let p = format!("{p} {when} of the settle window");
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    for (name, before) in restarts(&a.value) {
        let after = restarts(&b.value)
            .into_iter()
            .find(|(n, _)| *n == name)
            .map_or(before, |(_, c)| c);
        if after > before {
            out.push(format!(
                "container {name} restarted {} time{} during the {seconds}s settle window (restartCount {before} -> {after}){}",
                after - before,
                if after - before == 1 { "" } else { "s" },
                last_exit(&b.value, name)
            ));
        }
    }
    out
}

/// `(container name, restartCount)` of every container status.
fn restarts(pod: &Value) -> Vec<(&str, u64)> {
    container_statuses(pod)
        .map(|s| {
            (
                str_at(s, "/name"),
                s.get("restartCount").and_then(Value::as_u64).unwrap_or(0),
            )
        })
        .collect()
}

fn container_statuses(pod: &Value) -> impl Iterator<Item = &Value> {
    pod.pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// `: last exit: Error (exit code 1)`, from a container's lastState.
fn last_exit(pod: &Value, name: &str) -> String {
    let Some(t) = container_statuses(pod)
        .find(|s| str_at(s, "/name") == name)
        .and_then(|s| s.pointer("/lastState/terminated"))
    else {
        return String::new();
    };
    let reason = str_at(t, "/reason");
    match t.get("exitCode").and_then(Value::as_i64) {
        Some(code) => format!("; last exit: {reason} (exit code {code})"),
        None if !reason.is_empty() => format!("; last exit: {reason}"),
        None => String::new(),
    }
}

fn owned_by_job(pod: &Value) -> bool {
    pod.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| refs.iter().any(|r| str_at(r, "/kind") == "Job"))
}

/// Whether one observation of a pod (API JSON) is settled: Running with
/// every container Ready, or a Job's pod that Succeeded, and not
/// Terminating — what [`grade`] requires of each observation.
pub fn is_settled(pod: &Value) -> bool {
    unsettled(pod).is_none()
}

/// Why one observation of a pod is not settled, if it is not.
fn unsettled(pod: &Value) -> Option<String> {
    if pod
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
    {
        return Some("is Terminating".to_owned());
    }
    let phase = match str_at(pod, "/status/phase") {
        "" => "Pending",
        p => p,
    };
    if phase == "Succeeded" && owned_by_job(pod) {
        return None;
    }
    if phase != "Running" {
        let why = waiting_reasons(pod);
        let reason = str_at(pod, "/status/reason");
        let detail = match (reason.is_empty(), why.is_empty()) {
            (true, true) => String::new(),
            (false, true) => format!(" ({reason})"),
            (true, false) => format!(" ({why})"),
            (false, false) => format!(" ({reason}; {why})"),
        };
        return Some(format!("is {phase}{detail}"));
    }
    let declared: Vec<&str> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| str_at(c, "/name"))
        .collect();
    let mut not_ready = Vec::new();
    for name in &declared {
        match container_statuses(pod).find(|s| str_at(s, "/name") == *name) {
            None => not_ready.push(format!("{name} (no status)")),
            Some(s) if s.get("ready").and_then(Value::as_bool) != Some(true) => {
                let waiting = str_at(s, "/state/waiting/reason");
                not_ready.push(if waiting.is_empty() {
                    (*name).to_owned()
                } else {
                    format!("{name} ({waiting})")
                });
            }
            Some(_) => {}
        }
    }
    if declared.is_empty() && container_statuses(pod).next().is_none() {
        not_ready.push("(no container status)".to_owned());
    }
    (!not_ready.is_empty()).then(|| {
        format!(
            "is Running but not Ready: container{} {} not ready",
            if not_ready.len() == 1 { "" } else { "s" },
            not_ready.join(", ")
        )
    })
}

/// `web: ImagePullBackOff`, for each container waiting with a reason.
fn waiting_reasons(pod: &Value) -> String {
    container_statuses(pod)
        .filter_map(|s| {
            let r = str_at(s, "/state/waiting/reason");
            (!r.is_empty()).then(|| format!("{}: {r}", str_at(s, "/name")))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    fn pods(yaml: &str) -> Vec<KubeObject> {
        serde_saphyr::from_multiple::<Value>(yaml)
            .expect("valid yaml")
            .into_iter()
            .map(KubeObject::new)
            .collect()
    }

    /// A Running pod as the API returns it; `ready`, `restarts` and `uid`
    /// vary.
    fn pod(name: &str, uid: &str, ready: bool, restarts: u32) -> String {
        format!(
            "
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: lab, uid: {uid}}}
spec:
  containers: [{{name: app, image: nginx:1.27}}]
status:
  phase: Running
  podIP: 10.244.0.7
  conditions: [{{type: Ready, status: '{}'}}]
  containerStatuses:
    - name: app
      ready: {ready}
      restartCount: {restarts}
      started: true
      state: {{running: {{startedAt: '2025-01-01T00:00:00Z'}}}}
      lastState: {{terminated: {{exitCode: 1, reason: Error}}}}
",
            if ready { "True" } else { "False" }
        )
    }

    #[test]
    fn running_ready_unchanged_pods_pass() {
        let a = pods(&pod("web", "u1", true, 0));
        let v = grade(&a, &a, 10);
        assert!(v.passed(), "{v:?}");
        assert!(v.findings[0].message.starts_with("1 pod Running and Ready"));
    }

    #[test]
    fn a_restart_during_the_window_fails_naming_the_container() {
        let v = grade(
            &pods(&pod("web", "u1", true, 0)),
            &pods(&pod("web", "u1", true, 1)),
            10,
        );
        assert_eq!(v.status, Status::Fail);
        assert_eq!(
            v.findings[0].message,
            "pod lab/web container app restarted 1 time during the 10s settle window (restartCount 0 -> 1); last exit: Error (exit code 1)"
        );
        assert_eq!(v.findings[0].object.as_deref(), Some("Pod lab/web"));
    }

    #[test]
    fn replaced_missing_and_new_pods_fail() {
        let v = grade(
            &pods(&pod("web", "u1", true, 0)),
            &pods(&pod("web", "u2", true, 0)),
            5,
        );
        assert!(v.findings[0].message.contains("was replaced"), "{v:?}");
        let v = grade(
            &pods(&pod("web", "u1", true, 0)),
            &pods(&pod("other", "u3", true, 0)),
            5,
        );
        let msgs: Vec<&str> = v.findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(msgs.iter().any(|m| m.starts_with("pod lab/web was there")));
        assert!(msgs.iter().any(|m| m.starts_with("pod lab/other appeared")));
    }

    #[test]
    fn not_ready_pending_and_terminating_fail() {
        let v = grade(
            &pods(&pod("web", "u1", false, 0)),
            &pods(&pod("web", "u1", false, 0)),
            5,
        );
        assert_eq!(v.status, Status::Fail);
        assert!(
            v.findings[0]
                .message
                .contains("is Running but not Ready: container app not ready")
        );
        let pending = pods(
            "
kind: Pod
metadata: {name: web, namespace: lab, uid: u1}
spec: {containers: [{name: app, image: nginx:does-not-exist}]}
status:
  phase: Pending
  containerStatuses:
    - {name: app, ready: false, restartCount: 0, state: {waiting: {reason: ImagePullBackOff}}}
",
        );
        let v = grade(&pending, &pending, 5);
        assert!(
            v.findings[0]
                .message
                .contains("is Pending (app: ImagePullBackOff)"),
            "{v:?}"
        );
        let mut gone = pods(&pod("web", "u1", true, 0));
        gone[0].value["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:09Z".into();
        let v = grade(&pods(&pod("web", "u1", true, 0)), &gone, 5);
        assert!(
            v.findings[0].message.contains("is Terminating at the end"),
            "{v:?}"
        );
    }

    #[test]
    fn a_finished_job_pod_is_settled_and_no_pods_fail() {
        let done = pods(
            "
kind: Pod
metadata:
  name: migrate-x1
  namespace: lab
  uid: u9
  ownerReferences: [{kind: Job, name: migrate, controller: true}]
spec: {containers: [{name: m, image: busybox}]}
status: {phase: Succeeded, containerStatuses: [{name: m, ready: false, restartCount: 0}]}
",
        );
        assert!(grade(&done, &done, 5).passed());
        let mut bare = done.clone();
        bare[0].value["metadata"]
            .as_object_mut()
            .expect("metadata")
            .remove("ownerReferences");
        assert!(!grade(&bare, &bare, 5).passed());
        assert!(!grade(&[], &[], 5).passed());
    }

    #[test]
    fn workspaces_with_workloads_expect_pods() {
        assert!(expects_pods(&pods(
            "kind: Deployment\nmetadata: {name: w}\n"
        )));
        assert!(!expects_pods(&pods("kind: Service\nmetadata: {name: s}\n")));
    }
}
