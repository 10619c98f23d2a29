//! A generator of kube-apiserver audit logs shaped like a kind cluster's
//! (the log backend's JSON lines, `audit.k8s.io/v1` Events, Metadata level),
//! seeded, for the `audit_log` bench, the `audit_log_gen` example
//! (`benches/audit-log.sh`) and `tests/scan_audit.rs` (each includes this
//! file with `#[path]`).
//!
//! The mix is the background of an idle cluster — kubelets renewing their
//! node leases, controllers' leader-election leases and watches, node and
//! pod status patches, API server health probes — plus an operator using
//! kubectl (with one impersonation) and, rarely, an intruder holding the
//! `shop/web` service account's token: secrets listed (403 in kube-system,
//! 200 in shop), a `pods/exec`, a ClusterRoleBinding refused. Each request
//! gets a RequestReceived event half of the time (policies often omit that
//! stage), a watch a ResponseStarted and, some requests later, its
//! ResponseComplete; everything else a ResponseComplete. Strings carry the
//! escapes the API server writes (`\u0026` in query strings, `\"` in RBAC
//! reasons), so a reader meets owned strings too.

#![allow(dead_code)]

use serde_json::{Value, json};

/// The intruder's service account.
pub const INTRUDER: &str = "system:serviceaccount:shop:web";
/// The operator's kubectl identity on kind.
pub const ADMIN: &str = "kubernetes-admin";

/// A seeded stream of audit log lines.
#[derive(Debug)]
pub struct Generator {
    state: u64,
    /// The clock, in microseconds since the Unix epoch.
    micros: i64,
    requests: u64,
    /// Watches started, with how many requests later they complete.
    open_watches: Vec<(u32, Value)>,
}

/// kind's node names and their addresses.
const NODES: [(&str, &str); 3] = [
    ("kind-control-plane", "172.18.0.2"),
    ("kind-worker", "172.18.0.3"),
    ("kind-worker2", "172.18.0.4"),
];

const UA_KUBELET: &str = "kubelet/v1.34.0 (linux/amd64) kubernetes/1e8d1d7";
const UA_KUBECTL: &str = "kubectl/v1.34.1 (linux/amd64) kubernetes/93248f9";

impl Generator {
    pub fn new(seed: u64) -> Self {
        Self {
            state: seed ^ 0x9e37_79b9_7f4a_7c15,
            // 2026-12-03T09:00:00Z
            micros: 1_796_288_400_000_000,
            requests: 0,
            open_watches: Vec::new(),
        }
    }

    /// xorshift64*: a number below `n`.
    fn below(&mut self, n: u64) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        (self.state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) % n.max(1)
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }

    fn time(micros: i64) -> String {
        let t = seclab_checkers::audit::log::Timestamp::from_microsecond(micros).expect("in range");
        format!("{t:.6}")
    }

    fn uuid(&mut self) -> String {
        let parts = [
            self.below(1 << 32),
            self.below(1 << 16),
            self.below(1 << 12),
            self.below(1 << 14) | 0x8000,
            self.below(1 << 48),
        ];
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            parts[0], parts[1], parts[2], parts[3], parts[4]
        )
    }

    /// One request: (user, groups, source IP, user agent, verb, URI,
    /// objectRef or null, code, decision, reason, watch?, impersonated).
    fn request(&mut self) -> Req {
        let roll = self.below(1000);
        let (node, node_ip) = NODES[self.below(NODES.len() as u64) as usize];
        let node_user = format!("system:node:{node}");
        let node_groups = vec!["system:nodes", "system:authenticated"];
        match roll {
            0..300 => Req {
                user: node_user.clone(),
                groups: node_groups,
                ip: node_ip.into(),
                agent: UA_KUBELET.into(),
                verb: "update",
                uri: format!(
                    "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{node}?timeout=10s"
                ),
                object: Some(obj(
                    "leases",
                    "",
                    "kube-node-lease",
                    node,
                    "coordination.k8s.io",
                )),
                code: 200,
                decision: "allow",
                reason: String::new(),
                ..Req::default()
            },
            300..450 => {
                let who = self.pick(&["kube-controller-manager", "kube-scheduler"]);
                Req {
                    user: format!("system:{who}"),
                    groups: vec!["system:authenticated"],
                    ip: "172.18.0.2".into(),
                    agent: format!(
                        "{who}/v1.34.0 (linux/amd64) kubernetes/1e8d1d7/leader-election"
                    ),
                    verb: "get",
                    uri: format!(
                        "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/{who}?timeout=5s"
                    ),
                    object: Some(obj("leases", "", "kube-system", who, "coordination.k8s.io")),
                    code: 200,
                    decision: "allow",
                    reason: format!(
                        "RBAC: allowed by ClusterRoleBinding \"system:{who}\" of ClusterRole \"system:{who}\" to User \"system:{who}\""
                    ),
                    ..Req::default()
                }
            }
            450..550 => {
                let pod = format!("web-{:05x}", self.below(1 << 20));
                let ns = self.pick(&["shop", "kube-system", "default"]);
                Req {
                    user: node_user,
                    groups: node_groups,
                    ip: node_ip.into(),
                    agent: UA_KUBELET.into(),
                    verb: "patch",
                    uri: format!("/api/v1/namespaces/{ns}/pods/{pod}/status"),
                    object: Some(obj("pods", "status", ns, &pod, "")),
                    code: 200,
                    decision: "allow",
                    reason: String::new(),
                    ..Req::default()
                }
            }
            550..650 => {
                let (resource, group, path) = *[
                    ("pods", "", "/api/v1/pods"),
                    ("endpointslices", "discovery.k8s.io", "/apis/discovery.k8s.io/v1/endpointslices"),
                    ("deployments", "apps", "/apis/apps/v1/deployments"),
                    ("secrets", "", "/api/v1/secrets"),
                ]
                .get(self.below(4) as usize)
                .expect("in range");
                let rv = 10_000 + self.below(90_000);
                Req {
                    user: "system:kube-controller-manager".into(),
                    groups: vec!["system:authenticated"],
                    ip: "172.18.0.2".into(),
                    agent: "kube-controller-manager/v1.34.0 (linux/amd64) kubernetes/1e8d1d7/shared-informers".into(),
                    verb: "watch",
                    uri: format!(
                        "{path}?allowWatchBookmarks=true\u{26}resourceVersion={rv}\u{26}timeout=9m12s\u{26}timeoutSeconds=552\u{26}watch=true"
                    ),
                    object: Some(obj(resource, "", "", "", group)),
                    code: 200,
                    decision: "allow",
                    reason: "RBAC: allowed by ClusterRoleBinding \"system:kube-controller-manager\" of ClusterRole \"system:kube-controller-manager\" to User \"system:kube-controller-manager\"".into(),
                    watch: true,
                    ..Req::default()
                }
            }
            650..750 => {
                let path = self.pick(&["/healthz", "/readyz", "/livez"]);
                Req {
                    user: "system:anonymous".into(),
                    groups: vec!["system:unauthenticated"],
                    ip: "172.18.0.2".into(),
                    agent: "kube-probe/1.34".into(),
                    verb: "get",
                    uri: path.into(),
                    object: None,
                    code: 200,
                    decision: "allow",
                    reason: "RBAC: allowed by ClusterRoleBinding \"system:public-info-viewer\" of ClusterRole \"system:public-info-viewer\" to Group \"system:unauthenticated\"".into(),
                    ..Req::default()
                }
            }
            750..850 => {
                let pod = format!("web-{:05x}", self.below(1 << 20));
                Req {
                    user: node_user,
                    groups: node_groups,
                    ip: node_ip.into(),
                    agent: UA_KUBELET.into(),
                    verb: "get",
                    uri: format!("/api/v1/namespaces/shop/pods/{pod}"),
                    object: Some(obj("pods", "", "shop", &pod, "")),
                    code: if self.below(10) == 0 { 404 } else { 200 },
                    decision: "allow",
                    reason: String::new(),
                    ..Req::default()
                }
            }
            850..950 => {
                let (verb, resource, group, ns, name, uri) = match self.below(4) {
                    0 => ("list", "pods", "", "shop", "", "/api/v1/namespaces/shop/pods?limit=500"),
                    1 => ("get", "deployments", "apps", "shop", "web", "/apis/apps/v1/namespaces/shop/deployments/web"),
                    2 => ("list", "namespaces", "", "", "", "/api/v1/namespaces?limit=500"),
                    _ => ("get", "configmaps", "", "shop", "web-config", "/api/v1/namespaces/shop/configmaps/web-config"),
                };
                Req {
                    user: ADMIN.into(),
                    groups: vec!["kubeadm:cluster-admins", "system:authenticated"],
                    ip: "172.18.0.1".into(),
                    agent: UA_KUBECTL.into(),
                    verb,
                    uri: uri.into(),
                    object: Some(obj(resource, "", ns, name, group)),
                    code: 200,
                    decision: "allow",
                    reason: "RBAC: allowed by ClusterRoleBinding \"kubeadm:cluster-admins\" of ClusterRole \"cluster-admin\" to Group \"kubeadm:cluster-admins\"".into(),
                    ..Req::default()
                }
            }
            950..990 => Req {
                user: "system:serviceaccount:shop:web".into(),
                groups: vec![
                    "system:serviceaccounts",
                    "system:serviceaccounts:shop",
                    "system:authenticated",
                ],
                ip: "10.244.1.7".into(),
                agent: "web/1.4.2".into(),
                verb: "get",
                uri: "/api/v1/namespaces/shop/configmaps/web-config".into(),
                object: Some(obj("configmaps", "", "shop", "web-config", "")),
                code: 200,
                decision: "allow",
                reason: "RBAC: allowed by RoleBinding \"web/shop\" of Role \"web\" to ServiceAccount \"web/shop\"".into(),
                ..Req::default()
            },
            990..994 => Req {
                user: ADMIN.into(),
                groups: vec!["kubeadm:cluster-admins", "system:authenticated"],
                impersonated: Some(("bob".into(), vec!["dev", "system:authenticated"])),
                ip: "172.18.0.1".into(),
                agent: UA_KUBECTL.into(),
                verb: "delete",
                uri: "/api/v1/namespaces/shop/pods/debug".into(),
                object: Some(obj("pods", "", "shop", "debug", "")),
                code: 403,
                decision: "forbid",
                reason: String::new(),
                ..Req::default()
            },
            _ => self.intrusion(),
        }
    }

    fn intrusion(&mut self) -> Req {
        let base = Req {
            user: INTRUDER.into(),
            groups: vec![
                "system:serviceaccounts",
                "system:serviceaccounts:shop",
                "system:authenticated",
            ],
            ip: "203.0.113.45".into(),
            agent: "curl/8.5.0".into(),
            ..Req::default()
        };
        match self.below(4) {
            0 => Req {
                verb: "list",
                uri: "/api/v1/namespaces/kube-system/secrets".into(),
                object: Some(obj("secrets", "", "kube-system", "", "")),
                code: 403,
                decision: "forbid",
                ..base
            },
            1 => Req {
                verb: "get",
                uri: "/api/v1/namespaces/shop/secrets/db-credentials".into(),
                object: Some(obj("secrets", "", "shop", "db-credentials", "")),
                code: 200,
                decision: "allow",
                reason: "RBAC: allowed by RoleBinding \"web/shop\" of Role \"web\" to ServiceAccount \"web/shop\"".into(),
                ..base
            },
            2 => Req {
                verb: "create",
                uri: "/api/v1/namespaces/shop/pods/web-0/exec?command=sh\u{26}command=-c\u{26}command=cat+%2Fvar%2Frun%2Fsecrets%2Fkubernetes.io%2Fserviceaccount%2Ftoken\u{26}container=web\u{26}stdout=true".into(),
                object: Some(obj("pods", "exec", "shop", "web-0", "")),
                code: 101,
                decision: "allow",
                reason: "RBAC: allowed by RoleBinding \"web/shop\" of Role \"web\" to ServiceAccount \"web/shop\"".into(),
                ..base
            },
            _ => Req {
                verb: "create",
                uri: "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings".into(),
                object: Some(obj("clusterrolebindings", "", "", "", "rbac.authorization.k8s.io")),
                code: 403,
                decision: "forbid",
                ..base
            },
        }
    }

    /// Appends the next request's events (and watches that complete now)
    /// to `out`, one JSON line each (no line end).
    pub fn next_request(&mut self, out: &mut Vec<String>) {
        self.requests += 1;
        self.micros += 200 + self.below(20_000).cast_signed();
        let mut done = Vec::new();
        for w in &mut self.open_watches {
            w.0 = w.0.saturating_sub(1);
        }
        self.open_watches.retain(|(left, ev)| {
            if *left == 0 {
                done.push(ev.clone());
                false
            } else {
                true
            }
        });
        for mut ev in done {
            ev["stage"] = json!("ResponseComplete");
            ev["stageTimestamp"] = json!(Self::time(self.micros));
            out.push(go_json(&ev));
        }
        let r = self.request();
        let received = self.micros;
        let mut ev = json!({
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "level": "Metadata",
            "auditID": self.uuid(),
            "stage": "RequestReceived",
            "requestURI": r.uri,
            "verb": r.verb,
            "user": {"username": r.user, "groups": r.groups},
            "sourceIPs": [r.ip],
            "userAgent": r.agent,
            "requestReceivedTimestamp": Self::time(received),
            "stageTimestamp": Self::time(received),
        });
        if let Some(sa) = r.user.strip_prefix("system:serviceaccount:") {
            // A bound token: its uid and the pod it was issued for.
            let pod_uid = self.uuid();
            ev["user"]["uid"] = json!(self.uuid());
            ev["user"]["extra"] = json!({
                "authentication.kubernetes.io/credential-id": [format!("JTI={}", self.uuid())],
                "authentication.kubernetes.io/node-name": ["kind-worker"],
                "authentication.kubernetes.io/node-uid": ["6c1e2d8a-0b9f-4f0e-9a55-3d2f1b7c9e41"],
                "authentication.kubernetes.io/pod-name": [format!("{}-0", sa.rsplit(':').next().unwrap_or("pod"))],
                "authentication.kubernetes.io/pod-uid": [pod_uid],
            });
        }
        if let Some((name, groups)) = &r.impersonated {
            ev["impersonatedUser"] = json!({"username": name, "groups": groups});
        }
        if let Some(o) = r.object {
            ev["objectRef"] = o;
        }
        if self.below(2) == 0 {
            out.push(go_json(&ev));
        }
        let mut status = json!({"metadata": {}, "code": r.code});
        if r.code >= 400 {
            status["status"] = json!("Failure");
            status["reason"] = json!(if r.code == 403 {
                "Forbidden"
            } else {
                "NotFound"
            });
        }
        ev["responseStatus"] = status;
        let mut annotations = json!({"authorization.k8s.io/decision": r.decision});
        if !r.reason.is_empty() {
            annotations["authorization.k8s.io/reason"] = json!(r.reason);
        }
        ev["annotations"] = annotations;
        let took = 300 + self.below(8_000).cast_signed();
        ev["stageTimestamp"] = json!(Self::time(received + took));
        if r.watch {
            ev["stage"] = json!("ResponseStarted");
            out.push(go_json(&ev));
            let later = 5 + self.below(200) as u32;
            self.open_watches.push((later, ev));
        } else {
            ev["stage"] = json!("ResponseComplete");
            out.push(go_json(&ev));
        }
    }

    /// The first `events` lines of the log seeded `seed`, joined with `\n`
    /// (a trailing one too).
    pub fn log(seed: u64, events: usize) -> String {
        let mut g = Generator::new(seed);
        let mut lines = Vec::with_capacity(events + 4);
        while lines.len() < events {
            g.next_request(&mut lines);
        }
        lines.truncate(events);
        let mut text = lines.join("\n");
        text.push('\n');
        text
    }
}

/// The order Go's encoding/json writes an object's fields in: the struct's
/// (audit.Event, UserInfo, ObjectReference, metav1.Status).
fn field_order(key: &str) -> &'static [&'static str] {
    match key {
        "" => &[
            "kind",
            "apiVersion",
            "level",
            "auditID",
            "stage",
            "requestURI",
            "verb",
            "user",
            "impersonatedUser",
            "sourceIPs",
            "userAgent",
            "objectRef",
            "responseStatus",
            "requestReceivedTimestamp",
            "stageTimestamp",
            "annotations",
        ],
        "user" | "impersonatedUser" => &["username", "uid", "groups", "extra"],
        "objectRef" => &[
            "resource",
            "namespace",
            "name",
            "apiGroup",
            "apiVersion",
            "subresource",
        ],
        "responseStatus" => &["metadata", "status", "reason", "code"],
        _ => &[],
    }
}

fn write_go(out: &mut String, key: &str, v: &Value) {
    let order = field_order(key);
    match v {
        Value::Object(map) if !order.is_empty() => {
            out.push('{');
            let mut first = true;
            for k in order {
                if let Some(x) = map.get(*k) {
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    out.push_str(&Value::from(*k).to_string());
                    out.push(':');
                    write_go(out, k, x);
                }
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// `v` as Go's encoding/json writes it: fields in struct order, `&`, `<`
/// and `>` escaped (they only occur inside strings here, so replacing them
/// in the text is safe).
fn go_json(v: &Value) -> String {
    let mut out = String::with_capacity(1024);
    write_go(&mut out, "", v);
    out.replace('&', "\\u0026")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
}

/// `objectRef` as the API server writes it (empty fields left out).
fn obj(resource: &str, sub: &str, ns: &str, name: &str, group: &str) -> Value {
    let mut o = json!({"resource": resource});
    for (k, v) in [
        ("namespace", ns),
        ("name", name),
        ("apiGroup", group),
        ("subresource", sub),
    ] {
        if !v.is_empty() {
            o[k] = json!(v);
        }
    }
    o["apiVersion"] = json!("v1");
    o
}

#[derive(Debug, Default)]
struct Req {
    user: String,
    groups: Vec<&'static str>,
    impersonated: Option<(String, Vec<&'static str>)>,
    ip: String,
    agent: String,
    verb: &'static str,
    uri: String,
    object: Option<Value>,
    code: u16,
    decision: &'static str,
    reason: String,
    watch: bool,
}
