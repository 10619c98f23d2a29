//! NetworkPolicy probes: which connections the live cluster really lets
//! through, compared with what a `netpol` check expects and with what
//! seclab's own analysis of the workspace says.
//!
//! [`probe_plan`] lists the attempts the shell must make: every ordered
//! pair of Running pods of different workloads in the check's scope, on
//! each TCP port the destination pod declares (`containerPort`) or an
//! expected connection to its workload names (single ports and ranges of
//! at most [`MAX_RANGE`] ports; `All Connections` relies on the declared
//! ports). UDP and SCTP are not probed (a UDP "connection" cannot be told
//! from a dropped one without an application answering), and
//! host-network pods are left out (their address is the node's, which
//! NetworkPolicies do not govern the same way); the verdict says so.
//!
//! [`findings`] grades the results: a probed cell whose outcome differs
//! from the expectation fails naming the cell; one whose outcome differs
//! from the static analysis gets a warning even when the verdict passes.
//! Live pods are named by the workload the static engine would fold them
//! into (`lab/web[Deployment]` for a pod of a ReplicaSet of Deployment
//! `web`), so cells line up with the check's connlist.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{ClusterFacts, str_at};
use crate::netpol::check::NetpolCheck;
use crate::netpol::{Cluster, Expectation, Peer, Protocol, WorkloadId};
use crate::{Finding, KubeObject};

/// The largest port range of an expected connection that is probed port
/// by port.
pub const MAX_RANGE: u16 = 8;

/// One connection attempt the shell must make: from a container of one
/// pod to a pod's IP and port.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProbeSpec {
    /// The source pod's namespace.
    pub from_ns: String,
    /// The source pod's name.
    pub from_pod: String,
    /// The container of the source pod to exec the attempt in.
    pub container: String,
    /// The destination pod's namespace.
    pub to_ns: String,
    /// The destination pod's name.
    pub to_pod: String,
    /// The destination pod's IP (`status.podIP`).
    pub to_ip: String,
    /// The destination port.
    pub port: u16,
    /// `TCP` (the only protocol probed).
    pub protocol: String,
}

/// The outcome of one attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeResult {
    /// The attempt, as planned.
    pub spec: ProbeSpec,
    /// Whether a connection was established.
    pub connected: bool,
    /// What the attempt printed or why it failed (`connection refused`,
    /// `timed out after 2s`, an exec error).
    #[serde(default)]
    pub detail: String,
}

/// A pod that can be probed, with the workload it belongs to.
struct LivePod<'a> {
    obj: &'a KubeObject,
    id: WorkloadId,
    ip: &'a str,
}

/// The controller of an object's metadata: `(kind, name)`.
fn controller_of(meta: &Value) -> Option<(&str, &str)> {
    let refs = meta.get("ownerReferences")?.as_array()?;
    let usable = |r: &&Value| str_at(r, "/kind") != "Node" && !str_at(r, "/name").is_empty();
    let chosen = refs
        .iter()
        .filter(usable)
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        .or_else(|| refs.iter().find(usable))?;
    Some((str_at(chosen, "/kind"), str_at(chosen, "/name")))
}

/// The workload a live pod belongs to, as the static engine names the
/// object that made it: its controller, and the controller's controller
/// for a ReplicaSet (a Deployment) or a Job (a CronJob). A ReplicaSet not
/// among `objects` is read by its name: `<deployment>-<pod-template-hash>`.
pub fn workload_of(pod: &KubeObject, objects: &[KubeObject]) -> WorkloadId {
    let ns = pod.namespace().unwrap_or("default");
    let meta = pod.value.get("metadata").unwrap_or(&Value::Null);
    let id = |kind: &str, name: &str| WorkloadId {
        namespace: ns.to_owned(),
        name: name.to_owned(),
        kind: kind.to_owned(),
    };
    let Some((kind, name)) = controller_of(meta) else {
        return id("Pod", pod.name());
    };
    if !matches!(kind, "ReplicaSet" | "Job") {
        return id(kind, name);
    }
    let owner = objects
        .iter()
        .find(|o| o.kind() == kind && o.name() == name && o.namespace().unwrap_or("default") == ns);
    if let Some(owner) = owner {
        return match owner.value.get("metadata").and_then(controller_of) {
            Some((k, n)) => id(k, n),
            None => id(kind, name),
        };
    }
    let hash = str_at(meta, "/labels/pod-template-hash");
    match name.strip_suffix(hash).and_then(|n| n.strip_suffix('-')) {
        Some(deployment) if kind == "ReplicaSet" && !hash.is_empty() && !deployment.is_empty() => {
            id("Deployment", deployment)
        }
        _ => id(kind, name),
    }
}

/// The lab's pods that can be probed: Running, not terminating, not on
/// the host network, with a pod IP.
fn live_pods(objects: &[KubeObject]) -> Vec<LivePod<'_>> {
    objects
        .iter()
        .filter(|o| o.kind() == "Pod")
        .filter(|o| str_at(&o.value, "/status/phase") == "Running")
        .filter(|o| {
            o.value
                .pointer("/metadata/deletionTimestamp")
                .is_none_or(Value::is_null)
        })
        .filter(|o| {
            o.value
                .pointer("/spec/hostNetwork")
                .and_then(Value::as_bool)
                != Some(true)
        })
        .filter_map(|o| {
            let ip = str_at(&o.value, "/status/podIP");
            (!ip.is_empty()).then(|| LivePod {
                obj: o,
                id: workload_of(o, objects),
                ip,
            })
        })
        .collect()
}

/// The TCP ports a pod's containers declare.
fn declared_tcp_ports(pod: &Value) -> BTreeSet<u16> {
    let mut out = BTreeSet::new();
    for c in pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for p in c
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let tcp = p
                .get("protocol")
                .and_then(Value::as_str)
                .is_none_or(|s| s == "TCP");
            let port = p
                .get("containerPort")
                .and_then(Value::as_u64)
                .and_then(|n| u16::try_from(n).ok())
                .filter(|n| *n > 0);
            if let (true, Some(port)) = (tcp, port) {
                out.insert(port);
            }
        }
    }
    out
}

/// The TCP ports expected connections to `dst` name (small ranges
/// expanded).
fn expected_tcp_ports(e: &Expectation, dst: &WorkloadId) -> BTreeSet<u16> {
    let mut out = BTreeSet::new();
    for ((_, d), conns) in &e.pairs {
        if *d != Peer::Workload(dst.clone()) {
            continue;
        }
        for &(lo, hi) in conns.ports(Protocol::Tcp).ranges() {
            if hi - lo < MAX_RANGE {
                out.extend(lo..=hi);
            }
        }
    }
    out
}

/// The probes to make for `check`, given the live objects of the lab (its
/// Pod objects with their status, and the ReplicaSets and Jobs that own
/// them). Empty when the check itself does not parse (its static verdict
/// says why). Sorted, without duplicates.
pub fn probe_plan(check: &NetpolCheck, objects: &[KubeObject]) -> Vec<ProbeSpec> {
    let Ok((scope, expectation)) = check.expectation() else {
        return Vec::new();
    };
    let pods = live_pods(objects);
    let mut plan = BTreeSet::new();
    for src in &pods {
        let container = str_at(&src.obj.value, "/spec/containers/0/name");
        for dst in &pods {
            if src.id == dst.id
                || !scope.contains(
                    &Peer::Workload(src.id.clone()),
                    &Peer::Workload(dst.id.clone()),
                )
            {
                continue;
            }
            let mut ports = declared_tcp_ports(&dst.obj.value);
            ports.extend(expected_tcp_ports(&expectation, &dst.id));
            for port in ports {
                plan.insert(ProbeSpec {
                    from_ns: src.obj.namespace().unwrap_or("default").to_owned(),
                    from_pod: src.obj.name().to_owned(),
                    container: container.to_owned(),
                    to_ns: dst.obj.namespace().unwrap_or("default").to_owned(),
                    to_pod: dst.obj.name().to_owned(),
                    to_ip: dst.ip.to_owned(),
                    port,
                    protocol: Protocol::Tcp.as_str().to_owned(),
                });
            }
        }
    }
    plan.into_iter().collect()
}

/// Whether `e` allows TCP `port` from `src` to `dst`.
fn allows(e: &Expectation, src: &WorkloadId, dst: &WorkloadId, port: u16) -> bool {
    let (s, d) = (Peer::Workload(src.clone()), Peer::Workload(dst.clone()));
    e.pairs
        .iter()
        .any(|((ps, pd), c)| *ps == s && *pd == d && c.ports(Protocol::Tcp).contains(port))
}

fn word(allowed: bool) -> &'static str {
    if allowed { "allowed" } else { "denied" }
}

fn mark(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "allow",
        Some(false) => "deny",
        None => "?",
    }
}

/// What the live probes add to a `netpol` verdict: error findings for
/// cells whose outcome is not the expected one, warnings where the static
/// analysis of `workspace` disagrees with the cluster, an info on what was
/// probed; and the `live` part of the verdict's detail (`{"cells": [...],
/// "text": ...}`: per cell the workloads, pods, port, and the expected,
/// static and observed answers).
pub fn findings(
    check: &NetpolCheck,
    workspace: &[KubeObject],
    facts: &ClusterFacts,
) -> (Vec<Finding>, Value) {
    let Ok((scope, expectation)) = check.expectation() else {
        return (Vec::new(), Value::Null);
    };
    let expected = scope.filter(&expectation);
    let analysed = Cluster::from_objects(workspace)
        .ok()
        .map(|(c, _)| c.connections().to_expectation());
    let pods = live_pods(&facts.objects);
    let id_of = |ns: &str, name: &str| {
        pods.iter()
            .find(|p| p.obj.name() == name && p.obj.namespace().unwrap_or("default") == ns)
            .map(|p| p.id.clone())
    };
    let plan = probe_plan(check, &facts.objects);
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut cells = Vec::new();
    let mut text = String::from("live probes (TCP): expected / static / observed\n");
    for spec in &plan {
        let (Some(src), Some(dst)) = (
            id_of(&spec.from_ns, &spec.from_pod),
            id_of(&spec.to_ns, &spec.to_pod),
        ) else {
            continue;
        };
        let want = allows(&expected, &src, &dst, spec.port);
        let stat = analysed.as_ref().map(|a| allows(a, &src, &dst, spec.port));
        let result = facts.probes.iter().find(|r| r.spec == *spec);
        let seen = result.map(|r| r.connected);
        let cell = format!("{src} => {dst} TCP {}", spec.port);
        let pods_text = format!(
            "pod {}/{} -> pod {}/{} at {}:{}",
            spec.from_ns, spec.from_pod, spec.to_ns, spec.to_pod, spec.to_ip, spec.port
        );
        match result {
            None => errors.push(Finding::error(format!(
                "{cell}: not probed ({pods_text}): the live answer is unknown"
            ))),
            Some(r) if r.connected != want => errors.push(Finding::error(format!(
                "{cell}: expected {}, but the cluster {} ({pods_text}{})",
                word(want),
                if r.connected {
                    "connected"
                } else {
                    "did not connect"
                },
                if r.detail.is_empty() {
                    String::new()
                } else {
                    format!(": {}", r.detail)
                }
            ))),
            Some(_) => {}
        }
        if let (Some(s), Some(o)) = (stat, seen)
            && s != o
        {
            warnings.push(Finding::warning(format!(
                "{cell}: seclab's analysis of the workspace says {}, but the cluster {} ({pods_text}): the live objects differ from the workspace, or the network plugin enforces differently",
                word(s),
                if o { "connected" } else { "did not connect" }
            )));
        }
        let differs = seen != Some(want);
        let _ = writeln!(
            text,
            "  {cell}: {} / {} / {}{}",
            mark(Some(want)),
            mark(stat),
            mark(seen),
            if differs { "  <- differs" } else { "" }
        );
        cells.push(json!({
            "from": src.to_string(), "to": dst.to_string(),
            "from_pod": format!("{}/{}", spec.from_ns, spec.from_pod),
            "to_pod": format!("{}/{}", spec.to_ns, spec.to_pod),
            "port": spec.port, "protocol": spec.protocol,
            "expected": want, "static": stat, "observed": seen, "differs": differs,
        }));
    }
    let mut out = errors;
    out.extend(warnings);
    let probed = cells.len();
    if probed == 0 {
        out.push(Finding::warning(format!(
            "no pair of Running pods in the check's scope ({scope}) to probe on the live cluster"
        )));
    } else {
        out.push(Finding::info(format!(
            "probed {probed} TCP connection{} on the live cluster; UDP and SCTP connections are not probed",
            if probed == 1 { "" } else { "s" }
        )));
    }
    (out, json!({"cells": cells, "text": text}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CheckSpec, Evidence, Severity, Status};

    fn objects(yaml: &str) -> Vec<KubeObject> {
        serde_saphyr::from_multiple::<Value>(yaml)
            .expect("valid yaml")
            .into_iter()
            .map(KubeObject::new)
            .collect()
    }

    /// The workspace: web (a Deployment, port 8080) and client (a Pod);
    /// a policy lets only client reach web on 8080.
    const WORKSPACE: &str = "
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: lab}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: lab, labels: {app: client}}
spec: {containers: [{name: client, image: busybox}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: lab}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {matchLabels: {app: client}}}], ports: [{port: 8080}]}]
";

    /// The live objects: the ReplicaSet, its pod and the client pod, with
    /// status, as the API returns them.
    const LIVE: &str = "
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-5d8f7c
  namespace: lab
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d1, controller: true}]
---
apiVersion: v1
kind: Pod
metadata:
  name: web-5d8f7c-x2x9q
  namespace: lab
  labels: {app: web, pod-template-hash: 5d8f7c}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d8f7c, uid: r1, controller: true}]
spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 8080, protocol: TCP}]}]}
status: {phase: Running, podIP: 10.244.0.5}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: lab, labels: {app: client}}
spec: {containers: [{name: client, image: busybox}]}
status: {phase: Running, podIP: 10.244.0.6}
---
apiVersion: v1
kind: Pod
metadata: {name: pending, namespace: lab}
spec: {containers: [{name: p, image: busybox}]}
status: {phase: Pending}
";

    /// A check from `from` to `to`, expecting `expect`.
    fn scoped(expect: &str, from: &str, to: &str) -> NetpolCheck {
        NetpolCheck {
            expect: expect.to_owned(),
            namespace: None,
            from: vec![from.to_owned()],
            to: vec![to.to_owned()],
        }
    }

    /// The client's connections to lab's pods.
    fn check(expect: &str) -> NetpolCheck {
        scoped(expect, "lab/client", "lab/*")
    }

    const EXPECT: &str = "lab/client[Pod] => lab/web[Deployment] : TCP 8080\n";

    #[test]
    fn live_pods_are_named_by_their_workload() {
        let live = objects(LIVE);
        assert_eq!(
            workload_of(&live[1], &live).to_string(),
            "lab/web[Deployment]"
        );
        // Without the ReplicaSet, the name and pod-template-hash tell.
        assert_eq!(
            workload_of(&live[1], &live[1..]).to_string(),
            "lab/web[Deployment]"
        );
        assert_eq!(workload_of(&live[2], &live).to_string(), "lab/client[Pod]");
    }

    #[test]
    fn the_plan_covers_each_ordered_pair_on_its_ports() {
        let plan = probe_plan(&check(EXPECT), &objects(LIVE));
        let cells: Vec<String> = plan
            .iter()
            .map(|p| {
                format!(
                    "{}:{}->{}:{}:{}",
                    p.from_pod, p.container, p.to_pod, p.to_ip, p.port
                )
            })
            .collect();
        // client declares no port and nothing is expected to reach it: no
        // probe to it; the Pending pod is left out.
        assert_eq!(cells, ["client:client->web-5d8f7c-x2x9q:10.244.0.5:8080"]);
        // A port the expectation names is probed too.
        let plan = probe_plan(
            &scoped(
                "lab/web[Deployment] => lab/client[Pod] : TCP 9000-9001\n",
                "lab/*",
                "lab/*",
            ),
            &objects(LIVE),
        );
        let ports: Vec<u16> = plan.iter().map(|p| p.port).collect();
        assert_eq!(ports, [8080, 9000, 9001]);
        assert!(probe_plan(&check("bad line"), &objects(LIVE)).is_empty());
    }

    fn facts(connected: bool) -> ClusterFacts {
        let live = objects(LIVE);
        let probes = probe_plan(&check(EXPECT), &live)
            .into_iter()
            .map(|spec| ProbeResult {
                spec,
                connected,
                detail: if connected {
                    "open".into()
                } else {
                    "timed out after 2s".into()
                },
            })
            .collect();
        ClusterFacts {
            objects: live,
            probes,
            ..ClusterFacts::default()
        }
    }

    fn grade(expect: &str, facts: &ClusterFacts) -> crate::Verdict {
        let ws = objects(WORKSPACE);
        let spec = CheckSpec::Netpol(check(expect));
        spec.grade(&Evidence {
            workspace: &ws,
            kube: Some(facts),
            ..Evidence::default()
        })
    }

    #[test]
    fn observed_as_expected_passes_with_the_cells_in_the_detail() {
        let v = grade(EXPECT, &facts(true));
        assert!(v.passed(), "{v:?}");
        let live = &v.detail.as_ref().expect("detail")["live"];
        assert_eq!(live["cells"][0]["observed"], true);
        assert_eq!(live["cells"][0]["static"], true);
        assert!(v.findings.iter().any(|f| {
            f.message
                .contains("UDP and SCTP connections are not probed")
        }));
    }

    #[test]
    fn observed_not_expected_fails_naming_the_cell() {
        let v = grade(EXPECT, &facts(false));
        assert_eq!(v.status, Status::Fail);
        let e = v
            .findings
            .iter()
            .find(|f| f.severity == Severity::Error)
            .expect("an error");
        assert_eq!(
            e.message,
            "lab/client[Pod] => lab/web[Deployment] TCP 8080: expected allowed, but the cluster did not connect (pod lab/client -> pod lab/web-5d8f7c-x2x9q at 10.244.0.5:8080: timed out after 2s)"
        );
        // The static analysis allows it too: the disagreement is flagged.
        assert!(v.findings.iter().any(|f| {
            f.severity == Severity::Warning
                && f.message
                    .contains("seclab's analysis of the workspace says allowed")
        }));
    }

    #[test]
    fn a_static_disagreement_is_a_warning_even_when_passing() {
        // The static analysis denies client -> web on 8080 in this
        // workspace (no policy allows it); the cluster connected, as
        // expected: pass, with a warning.
        let mut ws = objects(WORKSPACE);
        ws[2].value["spec"]["ingress"] = json!([]);
        let facts = facts(true);
        let v = CheckSpec::Netpol(check(EXPECT)).grade(&Evidence {
            workspace: &ws,
            kube: Some(&facts),
            ..Evidence::default()
        });
        // The static part fails on the workspace; the live part adds only
        // the warning, not an error.
        let live_errors = v
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error && f.message.contains("TCP 8080:"))
            .count();
        assert_eq!(live_errors, 0, "{v:?}");
        assert!(v.findings.iter().any(|f| f.severity == Severity::Warning
            && f.message.contains("says denied, but the cluster connected")));
        let (fs, _) = findings(&check(EXPECT), &ws, &facts);
        assert!(!fs.iter().any(|f| f.severity == Severity::Error), "{fs:?}");
    }

    #[test]
    fn a_missing_probe_fails() {
        let mut f = facts(true);
        f.probes.clear();
        let v = grade(EXPECT, &f);
        assert!(v.findings.iter().any(|f| f.message.contains("not probed")));
        assert_eq!(v.status, Status::Fail);
    }
}
