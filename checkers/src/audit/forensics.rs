//! An attacker's trail hidden in a realistic kube-apiserver audit log, made
//! per student from a seed, and the `audit_question` check that asks about
//! it.
//!
//! [`incident`] is a pure function of its seed: the same seed gives the same
//! log, byte for byte; another seed another cluster, namespace, users, IP
//! addresses, times, Secret, pod and host path. [`story`] is the same
//! incident's truth and decoys without writing its log (what grading
//! needs): the story's decisions come from one generator, the noise
//! around them from another. The log is JSON lines of
//! `audit.k8s.io/v1` Events as the API server writes them (stage
//! `RequestReceived` omitted; long-running requests with `ResponseStarted`
//! and `ResponseComplete`), recorded under a policy like the one the lab
//! asks for: Secrets, ConfigMaps and token requests at `Metadata`, writes
//! of pods at `Request` (their spec is in the log), everything else at
//! `Metadata`.
//!
//! The story: a CI service account's token leaks from its runner pod. From
//! an outside address, with another kubectl, the attacker discovers the
//! API, asks what the token may do, is refused the Secrets of kube-system,
//! lists those of the app's namespace, reads one, creates a privileged pod
//! that mounts a host folder, execs into it and deletes it. Around it, the
//! noise of a cluster at work: kubelets, controllers, the scheduler,
//! kube-proxy, health probes, Prometheus, developers reading pods and logs,
//! and the same service account deploying with Helm from its runner, as
//! every day (same user, other address, other client).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{Finding, Verdict};

/// A small seeded PRNG (splitmix64): the same seed, the same numbers.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from the SHA-256 of `seed`.
    pub fn new(seed: &str) -> Self {
        let h = Sha256::digest(seed.as_bytes());
        let mut b = [0u8; 8];
        b.copy_from_slice(&h[..8]);
        Self(u64::from_le_bytes(b))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..hi` (`lo` when the range is empty).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            lo
        } else {
            lo + self.next_u64() % (hi - lo)
        }
    }

    /// One of `items` (which must not be empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let n = u64::try_from(items.len()).unwrap_or(u64::MAX);
        let i = usize::try_from(self.range(0, n)).unwrap_or(0);
        &items[i]
    }

    /// True with probability `num`/`den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.range(0, den) < num
    }

    /// `n` characters of the alphabet Kubernetes uses for generated name
    /// suffixes (`web-7d4b9c6f8-x2kqp`).
    pub fn suffix(&mut self, n: usize) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        (0..n).map(|_| char::from(*self.pick(ALPHABET))).collect()
    }

    /// A version-4 UUID.
    pub fn uuid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            8 + (b >> 62),
            (b >> 48) & 0xfff,
            b & 0xffff_ffff_ffff
        )
    }
}

/// What really happened, computed with the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Truth {
    /// The user name on the attacker's requests (the stolen token's
    /// service account).
    pub user: String,
    /// Where the attacker's requests came from.
    pub source_ip: String,
    /// The attacker's client (`userAgent`).
    pub user_agent: String,
    /// The namespace of the app.
    pub namespace: String,
    /// The Secret the attacker read by name.
    pub secret: String,
    /// The privileged pod the attacker created.
    pub pod: String,
    /// When the create request for that pod was received, to the second
    /// (`2026-03-14T09:26:53Z`).
    pub pod_created: String,
    /// The host folder the pod mounted (`hostPath.path`).
    pub host_path: String,
    /// The pod the stolen token was issued to (the user's
    /// `authentication.kubernetes.io/pod-name`).
    pub token_pod: String,
}

/// Plausible wrong answers, one per question: what a student who read the
/// log too quickly would answer (for lab authors' wrong cases, and for
/// telling the student what they found instead).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decoys {
    /// A developer who read pods at the time.
    pub user: String,
    /// The CI runner pod's address: the same service account, used as
    /// every day.
    pub source_ip: String,
    /// A Helm release Secret the service account read while deploying.
    pub secret: String,
    /// A pod the ReplicaSet controller created during a deploy.
    pub pod: String,
    /// When the attacker exec'd into the pod (not when it was created).
    pub pod_created: String,
    /// Where the container saw the host folder (`mountPath`).
    pub host_path: String,
    /// The attacker's pod (the token was not issued to it).
    pub token_pod: String,
}

/// A generated incident: the log and what it hides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Incident {
    /// JSON lines, one `audit.k8s.io/v1` Event each, in the order the API
    /// server wrote them.
    pub log: String,
    /// What happened.
    pub truth: Truth,
    /// Wrong answers that look right.
    pub decoys: Decoys,
}

/// The seed of incident `name` for a student: derived like the lab's
/// flags, so students of one class get different incidents.
pub fn student_seed(seed: &str, student: &str, name: &str) -> String {
    crate::flag::derive(seed, student, &format!("audit-incident:{name}"))
}

/// Microseconds since the Unix epoch as RFC 3339 UTC with six fraction
/// digits, as the API server writes its timestamps.
fn ts(micros: u64) -> String {
    let mut s = ts_second(micros);
    s.pop();
    let _ = write!(s, ".{:06}Z", micros % 1_000_000);
    s
}

/// The whole second of `micros`: `2026-03-14T09:26:53Z`.
fn ts_second(micros: u64) -> String {
    let secs = micros / 1_000_000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days, for days since 1970-01-01 >= 0.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

const SECOND: u64 = 1_000_000;
const MINUTE: u64 = 60 * SECOND;

/// Who sends a request.
#[derive(Debug, Clone)]
struct Actor {
    username: String,
    uid: Option<String>,
    groups: Vec<String>,
    extra: BTreeMap<String, Vec<String>>,
    ip: String,
    agent: String,
    /// What the RBAC authorizer says when it allows this actor.
    allowed_by: String,
}

/// One request.
#[derive(Debug, Clone, Default)]
struct Call {
    verb: String,
    group: String,
    version: String,
    resource: String,
    sub: String,
    ns: String,
    name: String,
    /// The URL path of a non-resource request.
    path: String,
    /// The query string, with its `?`.
    query: String,
    code: u16,
    body: Option<Value>,
    at: u64,
    took: u64,
    long_running: bool,
    annotations: Vec<(&'static str, String)>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserInfo<'a> {
    username: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<&'a str>,
    groups: &'a [String],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    extra: &'a BTreeMap<String, Vec<String>>,
}

#[derive(Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
struct ObjectRef<'a> {
    resource: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    namespace: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    api_group: &'a str,
    api_version: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    subresource: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Event<'a> {
    kind: &'static str,
    api_version: &'static str,
    level: &'static str,
    #[serde(rename = "auditID")]
    audit_id: &'a str,
    stage: &'static str,
    #[serde(rename = "requestURI")]
    request_uri: &'a str,
    verb: &'a str,
    user: UserInfo<'a>,
    #[serde(rename = "sourceIPs")]
    source_ips: [&'a str; 1],
    user_agent: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    object_ref: Option<ObjectRef<'a>>,
    response_status: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_object: Option<&'a Value>,
    request_received_timestamp: String,
    stage_timestamp: String,
    annotations: BTreeMap<&'static str, String>,
}

/// The level the incident's policy gives a request: Secrets, ConfigMaps
/// and token requests at Metadata, pod writes at Request, the rest at
/// Metadata.
fn level_of(c: &Call) -> &'static str {
    let pod_write = c.group.is_empty()
        && c.resource == "pods"
        && c.sub.is_empty()
        && matches!(c.verb.as_str(), "create" | "update" | "patch" | "delete");
    if pod_write { "Request" } else { "Metadata" }
}

fn uri(c: &Call) -> String {
    if c.resource.is_empty() {
        return format!("{}{}", c.path, c.query);
    }
    let mut s = if c.group.is_empty() {
        format!("/api/{}", c.version)
    } else {
        format!("/apis/{}/{}", c.group, c.version)
    };
    if !c.ns.is_empty() {
        let _ = write!(s, "/namespaces/{}", c.ns);
    }
    let _ = write!(s, "/{}", c.resource);
    // A create names the object in its body, not in the URL (unless it is
    // a subresource of an existing object).
    if !c.name.is_empty() && (c.verb != "create" || !c.sub.is_empty()) {
        let _ = write!(s, "/{}", c.name);
    }
    if !c.sub.is_empty() {
        let _ = write!(s, "/{}", c.sub);
    }
    s.push_str(&c.query);
    s
}

/// The log being written: (stage time, order, line).
struct Log {
    rng: Rng,
    lines: Vec<(u64, usize, String)>,
    /// The file's time span: lines outside it are in older or newer files.
    span: (u64, u64),
}

impl Log {
    fn emit(&mut self, who: &Actor, c: &Call) {
        let id = self.rng.uuid();
        let request_uri = uri(c);
        let code = if c.code == 0 { 200 } else { c.code };
        let status = if code >= 400 {
            json!({
                "metadata": {},
                "status": "Failure",
                "message": format!(
                    "{}{} is forbidden: User \"{}\" cannot {} resource \"{}\" in API group \"{}\"{}",
                    c.resource,
                    if c.name.is_empty() { String::new() } else { format!(" \"{}\"", c.name) },
                    who.username,
                    c.verb,
                    c.resource,
                    c.group,
                    if c.ns.is_empty() { String::new() } else { format!(" in the namespace \"{}\"", c.ns) }
                ),
                "reason": "Forbidden",
                "details": {"kind": c.resource},
                "code": code,
            })
        } else {
            json!({"metadata": {}, "code": code})
        };
        let mut annotations: BTreeMap<&'static str, String> = BTreeMap::new();
        if code == 403 {
            annotations.insert("authorization.k8s.io/decision", "forbid".into());
            annotations.insert("authorization.k8s.io/reason", String::new());
        } else {
            annotations.insert("authorization.k8s.io/decision", "allow".into());
            annotations.insert("authorization.k8s.io/reason", who.allowed_by.clone());
        }
        for (k, v) in &c.annotations {
            annotations.insert(k, v.clone());
        }
        let level = level_of(c);
        let object_ref = (!c.resource.is_empty()).then(|| ObjectRef {
            resource: &c.resource,
            namespace: &c.ns,
            name: &c.name,
            api_group: &c.group,
            api_version: &c.version,
            subresource: &c.sub,
        });
        let body = if level == "Request" {
            c.body.as_ref()
        } else {
            None
        };
        let mut stages = Vec::new();
        if c.long_running {
            stages.push(("ResponseStarted", c.at + self.rng.range(800, 9_000)));
        }
        stages.push(("ResponseComplete", c.at + c.took.max(200)));
        for (stage, at) in stages {
            let e = Event {
                kind: "Event",
                api_version: "audit.k8s.io/v1",
                level,
                audit_id: &id,
                stage,
                request_uri: &request_uri,
                verb: &c.verb,
                user: UserInfo {
                    username: &who.username,
                    uid: who.uid.as_deref(),
                    groups: &who.groups,
                    extra: &who.extra,
                },
                source_ips: [&who.ip],
                user_agent: &who.agent,
                object_ref,
                response_status: status.clone(),
                request_object: body,
                request_received_timestamp: ts(c.at),
                stage_timestamp: ts(at),
                annotations: annotations.clone(),
            };
            let line = serde_json::to_string(&e).unwrap_or_default();
            let n = self.lines.len();
            self.lines.push((at, n, line));
        }
    }

    fn finish(mut self) -> String {
        self.lines.sort_by_key(|(at, n, _)| (*at, *n));
        let (from, to) = self.span;
        let mut out = String::new();
        for (_, _, l) in self
            .lines
            .into_iter()
            .filter(|(at, _, _)| (from..=to).contains(at))
        {
            out.push_str(&l);
            out.push('\n');
        }
        out
    }
}

fn call(verb: &str, resource: &str, ns: &str, name: &str, at: u64) -> Call {
    Call {
        verb: verb.into(),
        version: "v1".into(),
        resource: resource.into(),
        ns: ns.into(),
        name: name.into(),
        at,
        took: 2_000,
        ..Call::default()
    }
}

fn url(path: &str, at: u64) -> Call {
    Call {
        verb: "get".into(),
        path: path.into(),
        at,
        took: 900,
        ..Call::default()
    }
}

fn in_group(mut c: Call, group: &str) -> Call {
    c.group = group.into();
    c
}

fn sub(mut c: Call, sub: &str) -> Call {
    c.sub = sub.into();
    c
}

fn with(mut c: Call, f: impl FnOnce(&mut Call)) -> Call {
    f(&mut c);
    c
}

fn sa_groups(ns: &str) -> Vec<String> {
    vec![
        "system:serviceaccounts".into(),
        format!("system:serviceaccounts:{ns}"),
        "system:authenticated".into(),
    ]
}

fn ip(rng: &mut Rng, prefix: &str) -> String {
    format!("{prefix}.{}", rng.range(2, 250))
}

const CLUSTERS: &[&str] = &[
    "prod",
    "shop-prod",
    "eu-west",
    "core",
    "main",
    "edge",
    "live",
];
const APP_NAMESPACES: &[&str] = &[
    "shop",
    "payments",
    "billing",
    "orders",
    "checkout",
    "inventory",
    "booking",
    "storefront",
];
const APPS: &[&str] = &[
    "web", "api", "cart", "search", "catalog", "gateway", "frontend",
];
const CI_ACCOUNTS: &[&str] = &[
    "ci-deployer",
    "gitlab-runner",
    "build-bot",
    "release-bot",
    "deploy-agent",
];
const CI_NAMESPACES: &[&str] = &["ci", "cicd", "build", "gitlab"];
const SECRETS: &[&str] = &[
    "db-credentials",
    "stripe-api-key",
    "smtp-password",
    "jwt-signing-key",
    "redis-auth",
    "s3-backup-keys",
    "oauth-client-secret",
    "payment-gateway-token",
    "postgres-superuser",
    "sentry-dsn",
];
const PEOPLE: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "oscar", "peggy", "trent", "victor", "wendy",
];
const DOMAINS: &[&str] = &["acme.example", "example.com", "corp.example"];
const DISGUISES: &[&str] = &[
    "node-debugger",
    "metrics-collector",
    "log-shipper",
    "cache-warmup",
    "kube-proxy-helper",
    "backup-agent",
];
const IMAGES: &[&str] = &[
    "alpine:3.20",
    "busybox:1.36",
    "ubuntu:24.04",
    "debian:12-slim",
];
const HOST_PATHS: &[&str] = &[
    "/",
    "/etc",
    "/root",
    "/var/lib/kubelet",
    "/var/run",
    "/home",
    "/var/log",
    "/etc/kubernetes",
];
const MOUNT_PATHS: &[&str] = &["/host", "/mnt/host", "/node", "/hostfs"];
const ATTACKER_NETS: &[&str] = &["203.0.113", "198.51.100", "192.0.2"];
const ATTACKER_AGENTS: &[&str] = &[
    "kubectl/v1.29.4 (darwin/arm64) kubernetes/55019c8",
    "kubectl/v1.28.9 (linux/amd64) kubernetes/587f5fe",
    "kubectl/v1.29.1 (windows/amd64) kubernetes/bc401b9",
];
const KUBECTL: &str = "kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46";
const KUBECTL_MAC: &str = "kubectl/v1.31.2 (darwin/arm64) kubernetes/5864a46";
const KUBELET: &str = "kubelet/v1.31.2 (linux/amd64) kubernetes/5864a46";
const HELM: &str = "Helm/3.15.2";

struct Node {
    name: String,
    actor: Actor,
}

/// The story's decisions, drawn from the seed before any line is written:
/// everything the truth and the decoys depend on. The noise around them is
/// drawn from a second generator, so the truth is known without writing
/// the log.
#[derive(Debug, Clone)]
struct Plan {
    start: u64,
    cluster: &'static str,
    ns: String,
    app: String,
    ci_ns: String,
    ci_sa: String,
    node_ips: Vec<String>,
    secrets: Vec<&'static str>,
    secret: String,
    release: u64,
    runner_node: usize,
    runner_pod: String,
    pod_net: String,
    runner_ip: String,
    token_ids: [String; 4],
    attacker_ip: String,
    attacker_agent: &'static str,
    domain: &'static str,
    /// (user, address, client)
    people: Vec<(String, String, &'static str)>,
    /// The app's pods before the first deploy.
    replicas: Vec<String>,
    /// Each deploy: when, the new ReplicaSet's hash, its pods.
    deploys: Vec<(u64, String, Vec<String>)>,
    attack: Attack,
}

/// The attacker's requests: when, and the pod.
#[derive(Debug, Clone)]
struct Attack {
    /// api, apis, rules review, list kube-system, list ns, get Secret, list pods.
    steps: [u64; 7],
    pod: String,
    container: &'static str,
    image: &'static str,
    host_path: &'static str,
    mount_path: &'static str,
    host_pid: bool,
    created: u64,
    polls: Vec<u64>,
    exec: u64,
    session: u64,
    delete: u64,
}

fn idx(rng: &mut Rng, lo: u64, hi: u64) -> usize {
    usize::try_from(rng.range(lo, hi)).unwrap_or(0)
}

fn plan(seed: &str) -> Plan {
    let mut rng = Rng::new(seed);
    // The day: somewhere in 2026, in working hours UTC.
    let day = rng.range(0, 330);
    let start = (1_767_225_600 + day * 86_400 + rng.range(7, 17) * 3600 + rng.range(0, 60) * 60)
        * SECOND
        + rng.range(0, SECOND);
    let cluster = *rng.pick(CLUSTERS);
    let ns = (*rng.pick(APP_NAMESPACES)).to_owned();
    let app = (*rng.pick(APPS)).to_owned();
    let ci_ns = (*rng.pick(CI_NAMESPACES)).to_owned();
    let ci_sa = (*rng.pick(CI_ACCOUNTS)).to_owned();
    let node_net = format!("10.0.{}", rng.range(1, 30));
    let node_ips = (0..3)
        .map(|i| format!("{node_net}.{}", 10 + i * 7 + rng.range(0, 6)))
        .collect();
    // The app's Secrets: the attacker reads one of them by name.
    let mut secrets: Vec<&'static str> = Vec::new();
    while secrets.len() < 4 {
        let s = *rng.pick(SECRETS);
        if !secrets.contains(&s) {
            secrets.push(s);
        }
    }
    let secret = secrets[idx(&mut rng, 0, 4)].to_owned();
    let release = rng.range(12, 180);
    // The CI runner pod whose token leaks.
    let runner_node = idx(&mut rng, 1, 3);
    let runner_pod = format!("{ci_sa}-runner-{}-{}", rng.suffix(9), rng.suffix(5));
    let pod_net = format!("10.244.{}", rng.range(1, 3));
    let runner_ip = ip(&mut rng, &pod_net);
    let token_ids = [rng.uuid(), rng.uuid(), rng.uuid(), rng.uuid()];
    let attacker_ip = format!("{}.{}", rng.pick(ATTACKER_NETS), rng.range(2, 254));
    let attacker_agent = *rng.pick(ATTACKER_AGENTS);
    let domain = *rng.pick(DOMAINS);
    let office = format!("10.{}.{}", rng.range(16, 31), rng.range(0, 255));
    let mut people: Vec<(String, String, &'static str)> = Vec::new();
    while people.len() < 3 {
        let who = format!("{}@{domain}", rng.pick(PEOPLE));
        if people.iter().any(|p| p.0 == who) {
            continue;
        }
        let at = ip(&mut rng, &office);
        let agent = if rng.chance(1, 2) {
            KUBECTL
        } else {
            KUBECTL_MAC
        };
        people.push((who, at, agent));
    }
    let replicas: Vec<String> = (0..3)
        .map(|_| format!("{app}-{}-{}", rng.suffix(10), rng.suffix(5)))
        .collect();
    let deploys = [
        start + rng.range(3 * MINUTE, 9 * MINUTE),
        start + rng.range(33 * MINUTE, 40 * MINUTE),
    ]
    .into_iter()
    .map(|at| {
        let rs = rng.suffix(10);
        let pods = (0..3)
            .map(|_| format!("{app}-{rs}-{}", rng.suffix(5)))
            .collect();
        (at, rs, pods)
    })
    .collect();
    // The attack, from outside, with the runner's token.
    let mut t = start + rng.range(14 * MINUTE, 24 * MINUTE);
    let mut steps = [0u64; 7];
    for (i, (lo, hi)) in [
        (0, 1),
        (20_000, 200_000),
        (3 * SECOND, 20 * SECOND),
        (5 * SECOND, 30 * SECOND),
        (4 * SECOND, 25 * SECOND),
        (10 * SECOND, 60 * SECOND),
        (20 * SECOND, 90 * SECOND),
    ]
    .into_iter()
    .enumerate()
    {
        t += rng.range(lo, hi);
        steps[i] = t;
    }
    t += rng.range(30 * SECOND, 120 * SECOND);
    // The create is received early in its second and done well within it:
    // the second is the same in requestReceivedTimestamp and stageTimestamp.
    let created = t / SECOND * SECOND + rng.range(0, 600_000);
    let pod = format!("{}-{}", rng.pick(DISGUISES), rng.suffix(5));
    let container = *rng.pick(&["shell", "debug", "main", "collector"]);
    let image = *rng.pick(IMAGES);
    let host_path = *rng.pick(HOST_PATHS);
    let mount_path = *rng.pick(MOUNT_PATHS);
    let host_pid = rng.chance(1, 2);
    let mut t = created + rng.range(2 * SECOND, 6 * SECOND);
    let mut polls = Vec::new();
    for _ in 0..rng.range(1, 4) {
        polls.push(t);
        t += rng.range(2 * SECOND, 5 * SECOND);
    }
    let exec = t + rng.range(5 * SECOND, 40 * SECOND);
    let session = rng.range(2 * MINUTE, 7 * MINUTE);
    let delete = exec + session + rng.range(10 * SECOND, 60 * SECOND);
    Plan {
        start,
        cluster,
        ns,
        app,
        ci_ns,
        ci_sa,
        node_ips,
        secrets,
        secret,
        release,
        runner_node,
        runner_pod,
        pod_net,
        runner_ip,
        token_ids,
        attacker_ip,
        attacker_agent,
        domain,
        people,
        replicas,
        deploys,
        attack: Attack {
            steps,
            pod,
            container,
            image,
            host_path,
            mount_path,
            host_pid,
            created,
            polls,
            exec,
            session,
            delete,
        },
    }
}

impl Plan {
    fn user(&self) -> String {
        format!("system:serviceaccount:{}:{}", self.ci_ns, self.ci_sa)
    }

    fn helm_secret(&self, v: u64) -> String {
        format!("sh.helm.release.v1.{}.v{v}", self.app)
    }

    fn truth(&self) -> Truth {
        let a = &self.attack;
        Truth {
            user: self.user(),
            source_ip: self.attacker_ip.clone(),
            user_agent: self.attacker_agent.to_owned(),
            namespace: self.ns.clone(),
            secret: self.secret.clone(),
            pod: a.pod.clone(),
            pod_created: ts_second(a.created),
            host_path: a.host_path.to_owned(),
            token_pod: self.runner_pod.clone(),
        }
    }

    fn decoys(&self) -> Decoys {
        let last = self.deploys.len().saturating_sub(1);
        Decoys {
            user: self.people[1].0.clone(),
            source_ip: self.runner_ip.clone(),
            // Each deploy reads the release before it.
            secret: self.helm_secret(self.release + u64::try_from(last).unwrap_or(0)),
            // The app's pods after the last deploy.
            pod: self.deploys[last].2[0].clone(),
            pod_created: ts_second(self.attack.exec),
            host_path: self.attack.mount_path.to_owned(),
            token_pod: self.attack.pod.clone(),
        }
    }
}

/// What an incident hides, without its log: enough to grade answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Story {
    /// What happened.
    pub truth: Truth,
    /// Wrong answers that look right.
    pub decoys: Decoys,
}

/// The truth and decoys of the incident for `seed`, without writing its
/// log (the same as [`incident`]'s).
pub fn story(seed: &str) -> Story {
    let p = plan(seed);
    Story {
        truth: p.truth(),
        decoys: p.decoys(),
    }
}

/// The incident for `seed` (see the module docs).
pub fn incident(seed: &str) -> Incident {
    let p = plan(seed);
    Incident {
        log: write_log(&p, seed),
        truth: p.truth(),
        decoys: p.decoys(),
    }
}

fn write_log(p: &Plan, seed: &str) -> String {
    let mut rng = Rng::new(&format!("{seed}/noise"));
    let (start, end) = (p.start, p.start + 45 * MINUTE);
    let (ns, app, domain) = (p.ns.as_str(), p.app.as_str(), p.domain);
    let nodes: Vec<Node> = ["control-plane", "worker", "worker2"]
        .iter()
        .zip(&p.node_ips)
        .map(|(role, ip)| {
            let name = format!("{}-{role}", p.cluster);
            Node {
                actor: Actor {
                    username: format!("system:node:{name}"),
                    uid: None,
                    groups: vec!["system:nodes".into(), "system:authenticated".into()],
                    extra: BTreeMap::new(),
                    ip: ip.clone(),
                    agent: KUBELET.into(),
                    allowed_by: String::new(),
                },
                name,
            }
        })
        .collect();
    let mut sa_extra = BTreeMap::new();
    for (key, value) in [
        ("credential-id", format!("JTI={}", p.token_ids[0])),
        ("node-name", nodes[p.runner_node].name.clone()),
        ("node-uid", p.token_ids[1].clone()),
        ("pod-name", p.runner_pod.clone()),
        ("pod-uid", p.token_ids[2].clone()),
    ] {
        sa_extra.insert(format!("authentication.kubernetes.io/{key}"), vec![value]);
    }
    let (ci_ns, ci_sa) = (&p.ci_ns, &p.ci_sa);
    let deployer = Actor {
        username: p.user(),
        uid: Some(p.token_ids[3].clone()),
        groups: sa_groups(ci_ns),
        extra: sa_extra,
        ip: p.runner_ip.clone(),
        agent: HELM.into(),
        allowed_by: format!(
            "RBAC: allowed by RoleBinding \"{ci_sa}/{ns}\" of Role \"deployer\" to ServiceAccount \"{ci_sa}/{ci_ns}\""
        ),
    };
    let attacker = Actor {
        ip: p.attacker_ip.clone(),
        agent: p.attacker_agent.to_owned(),
        ..deployer.clone()
    };
    let people: Vec<Actor> = p
        .people
        .iter()
        .map(|(who, at, agent)| Actor {
            username: who.clone(),
            uid: None,
            groups: vec!["oidc:developers".into(), "system:authenticated".into()],
            extra: BTreeMap::new(),
            ip: at.clone(),
            agent: (*agent).to_owned(),
            allowed_by: format!(
                "RBAC: allowed by RoleBinding \"developers/{ns}\" of ClusterRole \"view\" to Group \"oidc:developers\""
            ),
        })
        .collect();
    let system = |user: &str, ip: &str, agent: &str, reason: &str| Actor {
        username: user.to_owned(),
        uid: None,
        groups: vec!["system:authenticated".into()],
        extra: BTreeMap::new(),
        ip: ip.to_owned(),
        agent: agent.to_owned(),
        allowed_by: reason.to_owned(),
    };
    let cp_ip = nodes[0].actor.ip.clone();
    let scheduler = system(
        "system:kube-scheduler",
        &cp_ip,
        "kube-scheduler/v1.31.2 (linux/amd64) kubernetes/5864a46/scheduler",
        "RBAC: allowed by ClusterRoleBinding \"system:kube-scheduler\" of ClusterRole \"system:kube-scheduler\" to User \"system:kube-scheduler\"",
    );
    let controller = |name: &str, rng: &mut Rng| Actor {
        username: format!("system:serviceaccount:kube-system:{name}"),
        uid: Some(rng.uuid()),
        groups: sa_groups("kube-system"),
        extra: BTreeMap::new(),
        ip: cp_ip.clone(),
        agent: format!(
            "kube-controller-manager/v1.31.2 (linux/amd64) kubernetes/5864a46/system:serviceaccount:kube-system:{name}"
        ),
        allowed_by: format!(
            "RBAC: allowed by ClusterRoleBinding \"system:controller:{name}\" of ClusterRole \"system:controller:{name}\" to ServiceAccount \"{name}/kube-system\""
        ),
    };
    let rs_controller = controller("replicaset-controller", &mut rng);
    let eps_controller = controller("endpointslice-controller", &mut rng);
    let deploy_controller = controller("deployment-controller", &mut rng);
    let anonymous = Actor {
        username: "system:anonymous".into(),
        uid: None,
        groups: vec!["system:unauthenticated".into()],
        extra: BTreeMap::new(),
        ip: cp_ip.clone(),
        agent: "kube-probe/1.31".into(),
        allowed_by: "RBAC: allowed by ClusterRoleBinding \"system:public-info-viewer\" of ClusterRole \"system:public-info-viewer\" to Group \"system:unauthenticated\"".into(),
    };
    let prometheus = Actor {
        username: "system:serviceaccount:monitoring:prometheus".into(),
        uid: Some(rng.uuid()),
        groups: sa_groups("monitoring"),
        extra: BTreeMap::new(),
        ip: ip(&mut rng, &p.pod_net),
        agent: "Prometheus/2.53.0".into(),
        allowed_by: "RBAC: allowed by ClusterRoleBinding \"prometheus\" of ClusterRole \"prometheus\" to ServiceAccount \"prometheus/monitoring\"".into(),
    };

    let mut log = Log {
        rng: Rng::new(&format!("{seed}/ids")),
        lines: Vec::new(),
        span: (start, end),
    };

    // Health probes of the API server (the kubelet on the control plane)
    // and Prometheus scraping its metrics.
    let mut t = start + rng.range(0, 5 * SECOND);
    while t < end {
        log.emit(&anonymous, &url("/livez", t));
        log.emit(
            &anonymous,
            &url("/readyz", t + rng.range(SECOND, 9 * SECOND)),
        );
        t += 20 * SECOND + rng.range(0, 600_000);
    }
    let mut t = start + rng.range(0, 30 * SECOND);
    while t < end {
        log.emit(&prometheus, &with(url("/metrics", t), |c| c.took = 40_000));
        t += 30 * SECOND + rng.range(0, 300_000);
    }

    // Kubelets: node status, the ConfigMaps and Secrets their pods mount
    // (watched, one long request after another).
    for node in &nodes {
        let mut t = start + rng.range(0, 5 * MINUTE);
        while t < end {
            log.emit(
                &node.actor,
                &with(call("get", "nodes", "", &node.name, t), |c| {
                    c.query = "?resourceVersion=0&timeout=10s".into();
                }),
            );
            log.emit(
                &node.actor,
                &sub(
                    call(
                        "patch",
                        "nodes",
                        "",
                        &node.name,
                        t + rng.range(5_000, 40_000),
                    ),
                    "status",
                ),
            );
            t += 5 * MINUTE + rng.range(0, 10 * SECOND);
        }
        let tls = format!("{app}-tls");
        for (res, name) in [
            ("configmaps", "kube-root-ca.crt"),
            ("secrets", tls.as_str()),
        ] {
            let mut t = start - rng.range(0, 8 * MINUTE);
            while t < end {
                let took = rng.range(5 * MINUTE, 9 * MINUTE);
                if t + took > start {
                    log.emit(
                        &node.actor,
                        &with(call("watch", res, ns, "", t), |c| {
                            c.query = format!(
                                "?allowWatchBookmarks=true&fieldSelector=metadata.name%3D{name}&resourceVersion={}&timeout={}s&timeoutSeconds={}&watch=true",
                                rng.range(100_000, 999_999),
                                took / SECOND,
                                took / SECOND
                            );
                            c.took = took;
                            c.long_running = true;
                        }),
                    );
                }
                t += took + rng.range(1_000, 50_000);
            }
        }
    }

    // kube-proxy on every node watches Services and EndpointSlices.
    for node in &nodes {
        let proxy = system(
            "system:kube-proxy",
            &node.actor.ip,
            "kube-proxy/v1.31.2 (linux/amd64) kubernetes/5864a46",
            "RBAC: allowed by ClusterRoleBinding \"kubeadm:node-proxier\" of ClusterRole \"system:node-proxier\" to User \"system:kube-proxy\"",
        );
        for (res, group) in [("services", ""), ("endpointslices", "discovery.k8s.io")] {
            let mut t = start - rng.range(0, 9 * MINUTE);
            while t < end {
                let took = rng.range(6 * MINUTE, 10 * MINUTE);
                if t + took > start {
                    log.emit(
                        &proxy,
                        &in_group(
                            with(call("watch", res, "", "", t), |c| {
                                c.query = format!(
                                    "?allowWatchBookmarks=true&labelSelector=%21service.kubernetes.io%2Fheadless%2C%21service.kubernetes.io%2Fservice-proxy-name&resourceVersion={}&timeout={}s&timeoutSeconds={}&watch=true",
                                    rng.range(100_000, 999_999),
                                    took / SECOND,
                                    took / SECOND
                                );
                                c.took = took;
                                c.long_running = true;
                            }),
                            group,
                        ),
                    );
                }
                t += took + rng.range(1_000, 50_000);
            }
        }
    }

    // Developers reading the app: pods, logs, events, deployments; one of
    // them tries a Secret and is refused.
    let mut replica_pods = p.replicas.clone();
    for (i, person) in people.iter().enumerate() {
        let sessions = rng.range(2, 5);
        for _ in 0..sessions {
            let mut t = start + rng.range(0, 44 * MINUTE);
            if rng.chance(1, 3) {
                log.emit(person, &url("/api", t));
                log.emit(person, &url("/apis", t + rng.range(5_000, 30_000)));
                t += SECOND;
            }
            for _ in 0..rng.range(2, 7) {
                let pod = rng.pick(&replica_pods).clone();
                let c = match rng.range(0, 6) {
                    0 | 1 => call("list", "pods", ns, "", t),
                    2 => with(sub(call("get", "pods", ns, &pod, t), "log"), |c| {
                        c.query = "?container=app&tailLines=200".into();
                        c.took = rng.range(20_000, 900_000);
                    }),
                    3 => with(call("list", "events", ns, "", t), |c| {
                        c.query = format!("?fieldSelector=involvedObject.name%3D{pod}");
                    }),
                    4 => in_group(
                        with(call("get", "deployments", ns, app, t), |c| {
                            c.version = "v1".into();
                        }),
                        "apps",
                    ),
                    _ => call("get", "pods", ns, &pod, t),
                };
                log.emit(person, &c);
                t += rng.range(2 * SECOND, 40 * SECOND);
            }
            if i == 0 && rng.chance(1, 2) {
                let s = (*rng.pick(&p.secrets)).to_owned();
                log.emit(
                    person,
                    &with(call("get", "secrets", ns, &s, t), |c| c.code = 403),
                );
            }
        }
    }

    // The endpointslice controller keeps the app's Service up to date.
    let mut t = start + rng.range(0, 4 * MINUTE);
    while t < end {
        log.emit(
            &eps_controller,
            &in_group(
                call(
                    "update",
                    "endpointslices",
                    ns,
                    &format!("{app}-{}", rng.suffix(5)),
                    t,
                ),
                "discovery.k8s.io",
            ),
        );
        t += rng.range(3 * MINUTE, 8 * MINUTE);
    }

    // A Helm deploy by the CI service account from its runner: the same
    // user as the attacker, another address and client.
    let schedule = |log: &mut Log, rng: &mut Rng, pod: &str, at: u64| {
        let node = &nodes[usize::try_from(rng.range(1, 3)).unwrap_or(1)];
        let bound = at + rng.range(20_000, 300_000);
        log.emit(
            &scheduler,
            &with(
                sub(call("create", "pods", ns, pod, bound), "binding"),
                |c| c.code = 201,
            ),
        );
        let mut t = bound + rng.range(200_000, 900_000);
        for _ in 0..rng.range(2, 4) {
            log.emit(
                &node.actor,
                &sub(call("patch", "pods", ns, pod, t), "status"),
            );
            t += rng.range(SECOND, 6 * SECOND);
        }
    };
    for (n, (at, rs, pods)) in p.deploys.iter().enumerate() {
        let v = p.release + u64::try_from(n).unwrap_or(0);
        let mut t = *at;
        log.emit(&deployer, &url("/version", t));
        t += rng.range(50_000, 400_000);
        log.emit(
            &deployer,
            &with(call("list", "secrets", ns, "", t), |c| {
                c.query = format!("?labelSelector=name%3D{app}%2Cowner%3Dhelm");
            }),
        );
        t += rng.range(50_000, 400_000);
        log.emit(&deployer, &call("get", "secrets", ns, &p.helm_secret(v), t));
        t += rng.range(200_000, 900_000);
        log.emit(
            &deployer,
            &in_group(call("get", "deployments", ns, app, t), "apps"),
        );
        t += rng.range(50_000, 300_000);
        log.emit(
            &deployer,
            &with(
                call("create", "secrets", ns, &p.helm_secret(v + 1), t),
                |c| c.code = 201,
            ),
        );
        t += rng.range(50_000, 300_000);
        log.emit(
            &deployer,
            &with(
                in_group(call("patch", "deployments", ns, app, t), "apps"),
                |c| {
                    c.query = "?fieldManager=helm".into();
                },
            ),
        );
        t += rng.range(100_000, 600_000);
        log.emit(
            &deploy_controller,
            &sub(
                in_group(call("update", "deployments", ns, app, t), "apps"),
                "status",
            ),
        );
        // The ReplicaSet controller replaces the app's pods one by one.
        for (old, pod) in replica_pods.clone().into_iter().zip(pods) {
            t += rng.range(2 * SECOND, 12 * SECOND);
            let body = json!({
                "kind": "Pod", "apiVersion": "v1",
                "metadata": {
                    "generateName": format!("{app}-{rs}-"), "namespace": ns,
                    "labels": {"app": app, "pod-template-hash": rs},
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                        "name": format!("{app}-{rs}"), "uid": log.rng.uuid(),
                        "controller": true, "blockOwnerDeletion": true}],
                },
                "spec": {
                    "serviceAccountName": app,
                    "automountServiceAccountToken": false,
                    "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{
                        "name": "app",
                        "image": format!("registry.{domain}/{ns}/{app}:1.{v}.0"),
                        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                        "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                            "capabilities": {"drop": ["ALL"]}},
                        "volumeMounts": [{"name": "tls", "mountPath": "/etc/tls", "readOnly": true}],
                    }],
                    "volumes": [{"name": "tls", "secret": {"secretName": format!("{app}-tls")}}],
                },
            });
            log.emit(
                &rs_controller,
                &with(call("create", "pods", ns, "", t), |c| {
                    c.code = 201;
                    c.body = Some(body);
                    c.annotations.push((
                        "pod-security.kubernetes.io/enforce-policy",
                        "privileged:latest".into(),
                    ));
                }),
            );
            schedule(&mut log, &mut rng, pod, t);
            t += rng.range(5 * SECOND, 15 * SECOND);
            log.emit(&rs_controller, &call("delete", "pods", ns, &old, t));
            replica_pods.retain(|r| *r != old);
            replica_pods.push(pod.clone());
        }
    }

    let a = &p.attack;
    let [
        discovery,
        discovery_apis,
        review,
        refused,
        listed,
        read,
        pods_listed,
    ] = a.steps;
    log.emit(&attacker, &url("/api", discovery));
    log.emit(&attacker, &url("/apis", discovery_apis));
    log.emit(
        &attacker,
        &with(
            in_group(
                call("create", "selfsubjectrulesreviews", "", "", review),
                "authorization.k8s.io",
            ),
            |c| c.code = 201,
        ),
    );
    log.emit(
        &attacker,
        &with(call("list", "secrets", "kube-system", "", refused), |c| {
            c.code = 403;
            c.query = "?limit=500".into();
        }),
    );
    log.emit(
        &attacker,
        &with(call("list", "secrets", ns, "", listed), |c| {
            c.query = "?limit=500".into();
        }),
    );
    log.emit(&attacker, &call("get", "secrets", ns, &p.secret, read));
    log.emit(
        &attacker,
        &with(call("list", "pods", ns, "", pods_listed), |c| {
            c.query = "?limit=500".into();
        }),
    );
    let mut spec = json!({
        "containers": [{
            "name": a.container,
            "image": a.image,
            "command": ["sleep", "infinity"],
            "securityContext": {"privileged": true},
            "volumeMounts": [{"name": "host", "mountPath": a.mount_path}],
        }],
        "volumes": [{"name": "host", "hostPath": {"path": a.host_path}}],
        "tolerations": [{"operator": "Exists"}],
    });
    if a.host_pid {
        spec["hostPID"] = json!(true);
    }
    log.emit(
        &attacker,
        &with(call("create", "pods", ns, &a.pod, a.created), |c| {
            c.code = 201;
            c.took = rng.range(8_000, 90_000);
            c.query = "?fieldManager=kubectl-run".into();
            c.body = Some(json!({
                "kind": "Pod", "apiVersion": "v1",
                "metadata": {"name": a.pod, "namespace": ns, "labels": {"run": a.pod}},
                "spec": spec,
            }));
            c.annotations.push((
                "pod-security.kubernetes.io/enforce-policy",
                "privileged:latest".into(),
            ));
        }),
    );
    schedule(&mut log, &mut rng, &a.pod, a.created);
    for t in &a.polls {
        log.emit(&attacker, &call("get", "pods", ns, &a.pod, *t));
    }
    let command = if a.host_path == "/" {
        format!(
            "command=chroot&command={}&command=sh",
            a.mount_path.replace('/', "%2F")
        )
    } else {
        "command=sh".to_owned()
    };
    log.emit(
        &attacker,
        &with(
            sub(call("create", "pods", ns, &a.pod, a.exec), "exec"),
            |c| {
                c.code = 101;
                c.query = format!(
                    "?{command}&container={}&stdin=true&stdout=true&tty=true",
                    a.container
                );
                c.took = a.session;
                c.long_running = true;
            },
        ),
    );
    log.emit(&attacker, &call("delete", "pods", ns, &a.pod, a.delete));
    log.finish()
}

/// What an `audit_question` asks about the incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ask {
    /// The user name on the attacker's requests (exact: user names are
    /// case-sensitive).
    User,
    /// The attacker's source IP address (any spelling of the same address).
    SourceIp,
    /// The Secret read by name (`name` or `namespace/name`).
    Secret,
    /// The privileged pod created (`name` or `namespace/name`).
    Pod,
    /// When that pod's create request was received, to the second (any
    /// RFC 3339 spelling and offset).
    PodCreated,
    /// The host folder the pod mounted (a trailing `/` is the same path).
    HostPath,
    /// The pod the stolen token was issued to.
    TokenPod,
}

impl Ask {
    fn what(self) -> &'static str {
        match self {
            Ask::User => "user name",
            Ask::SourceIp => "source IP",
            Ask::Secret => "Secret",
            Ask::Pod => "pod",
            Ask::PodCreated => "creation time",
            Ask::HostPath => "host path",
            Ask::TokenPod => "token's pod",
        }
    }

    fn of(self, t: &Truth) -> &str {
        match self {
            Ask::User => &t.user,
            Ask::SourceIp => &t.source_ip,
            Ask::Secret => &t.secret,
            Ask::Pod => &t.pod,
            Ask::PodCreated => &t.pod_created,
            Ask::HostPath => &t.host_path,
            Ask::TokenPod => &t.token_pod,
        }
    }

    fn decoy(self, d: &Decoys) -> &str {
        match self {
            Ask::User => &d.user,
            Ask::SourceIp => &d.source_ip,
            Ask::Secret => &d.secret,
            Ask::Pod => &d.pod,
            Ask::PodCreated => &d.pod_created,
            Ask::HostPath => &d.host_path,
            Ask::TokenPod => &d.token_pod,
        }
    }

    /// What a student who answered the decoy found instead.
    fn decoy_hint(self) -> &'static str {
        match self {
            Ask::User => {
                "that developer only read pods and logs; whose requests read a Secret and created a privileged pod?"
            }
            Ask::SourceIp => {
                "that is the CI runner's own pod, where the token is used every day (the Helm client); the same user also came from somewhere else"
            }
            Ask::Secret => {
                "Helm reads its release Secret on every deploy, from the runner; which Secret was read from the other address?"
            }
            Ask::Pod => {
                "the ReplicaSet controller made that pod during a deploy; look for a pod with privileged: true and a hostPath volume"
            }
            Ask::PodCreated => {
                "that is when they exec'd into the pod; when was the create request received?"
            }
            Ask::HostPath => {
                "that is the mountPath, where the container sees the folder; which folder of the node is it (the volume's hostPath.path)?"
            }
            Ask::TokenPod => {
                "that is the pod the attacker created; which pod was the token issued to (user.extra)?"
            }
        }
    }
}

fn default_incident() -> String {
    "incident".into()
}

/// An `audit_question:` check as written in lab.yaml: a question about the
/// student's own incident (rendered into their workspace by the template
/// function `audit_log(name=...)`), graded against the truth computed from
/// the same seed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditQuestionCheck {
    /// The question id: its key in `answers.yaml` under the task.
    pub id: String,
    /// What the student is asked.
    pub question: String,
    /// The incident's name (`audit_log(name="...")`); `incident` when not
    /// given.
    #[serde(default = "default_incident")]
    pub incident: String,
    /// What the answer is.
    pub ask: Ask,
}

impl AuditQuestionCheck {
    /// A one-line description for listings.
    pub fn describe(&self) -> String {
        format!(
            "question `{}`: the {} in audit log `{}`",
            self.id,
            self.ask.what(),
            self.incident
        )
    }
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    for q in ['"', '\'', '`'] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner.trim();
        }
    }
    s
}

/// The answer in the form it is compared in; `Err` says why it is not an
/// answer of that kind at all.
fn normalise(ask: Ask, answer: &str, namespace: &str) -> Result<String, String> {
    let a = unquote(answer);
    match ask {
        Ask::User => Ok(a.to_owned()),
        Ask::SourceIp => a
            .parse::<IpAddr>()
            .map(|ip| ip.to_string())
            .map_err(|_| format!("`{a}` is not an IP address (like 203.0.113.7)")),
        Ask::Secret | Ask::Pod | Ask::TokenPod => {
            let mut name = a;
            for prefix in ["secrets/", "secret/", "pods/", "pod/"] {
                if let Some(rest) = name.strip_prefix(prefix) {
                    name = rest;
                }
            }
            if let Some(rest) = name.strip_prefix(&format!("{namespace}/")) {
                name = rest;
            }
            Ok(name.to_owned())
        }
        Ask::PodCreated => super::trail::to_second(a)
            .ok_or_else(|| format!("`{a}` is not an RFC 3339 time (like 2026-12-03T10:15:30Z)")),
        Ask::HostPath => {
            let trimmed = a.trim_end_matches('/');
            Ok(if trimmed.is_empty() && a.starts_with('/') {
                "/".to_owned()
            } else {
                trimmed.to_owned()
            })
        }
    }
}

/// Grades the student's `answer` against the incident.
pub fn grade(check: &AuditQuestionCheck, incident: &Story, answer: Option<&str>) -> Verdict {
    let Some(answer) = answer.map(str::trim).filter(|a| !a.is_empty()) else {
        return Verdict::fail(format!(
            "no answer to `{}` yet: {} (`seclab answer <lab> <task> --question {} <value>`)",
            check.id,
            check.question.trim(),
            check.id
        ));
    };
    let ns = &incident.truth.namespace;
    let given = match normalise(check.ask, answer, ns) {
        Ok(g) => g,
        Err(e) => return Verdict::fail(format!("`{}`: {e}", check.id)),
    };
    let truth = normalise(check.ask, check.ask.of(&incident.truth), ns).unwrap_or_default();
    if given == truth {
        return Verdict::from_findings(vec![Finding::info(format!(
            "`{}`: right, the {} is `{answer}`",
            check.id,
            check.ask.what()
        ))]);
    }
    let decoy = normalise(check.ask, check.ask.decoy(&incident.decoys), ns).unwrap_or_default();
    let mut msg = format!("`{}`: `{answer}` is not the {}", check.id, check.ask.what());
    if given == decoy {
        let _ = write!(msg, ": {}", check.ask.decoy_hint());
    }
    Verdict::from_findings(vec![Finding::error(msg)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        // 2026-01-01T00:00:00Z and a leap day.
        assert_eq!(ts(1_767_225_600 * SECOND), "2026-01-01T00:00:00.000000Z");
        assert_eq!(
            ts(1_709_164_800 * SECOND + 5 * 3600 * SECOND + 7 * SECOND + 42),
            "2024-02-29T05:00:07.000042Z"
        );
        assert_eq!(
            ts_second(1_767_225_600 * SECOND - 1),
            "2025-12-31T23:59:59Z"
        );
    }

    #[test]
    fn the_story_is_the_incidents_without_its_log() {
        for seed in ["a", "b", "test"] {
            let i = incident(seed);
            assert_eq!(
                story(seed),
                Story {
                    truth: i.truth,
                    decoys: i.decoys
                }
            );
        }
    }

    #[test]
    fn uuids_are_version_4() {
        let mut r = Rng::new("x");
        let u = r.uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
    }

    #[test]
    fn answers_are_compared_in_their_form() {
        let inc = story("test");
        let q = |ask| AuditQuestionCheck {
            id: "q".into(),
            question: "?".into(),
            incident: "incident".into(),
            ask,
        };
        let t = &inc.truth;
        let pass = |ask, a: &str| grade(&q(ask), &inc, Some(a)).passed();
        assert!(pass(Ask::User, &format!(" \"{}\" ", t.user)));
        assert!(!pass(Ask::User, &t.user.to_uppercase()));
        assert!(pass(Ask::Secret, &format!("{}/{}", t.namespace, t.secret)));
        assert!(pass(Ask::Secret, &format!("secret/{}", t.secret)));
        assert!(pass(Ask::Pod, &t.pod));
        assert!(pass(Ask::SourceIp, &t.source_ip));
        let created = t.pod_created.trim_end_matches('Z').to_owned() + ".9+00:00";
        assert!(pass(Ask::PodCreated, &created));
        assert!(!pass(Ask::PodCreated, "yesterday"));
        let host = if t.host_path == "/" {
            "/".to_owned()
        } else {
            format!("{}/", t.host_path)
        };
        assert!(pass(Ask::HostPath, &host));
        let v = grade(&q(Ask::SourceIp), &inc, Some(&inc.decoys.source_ip));
        assert!(!v.passed());
        assert!(v.findings[0].message.contains("CI runner"), "{v:?}");
        assert!(!grade(&q(Ask::Pod), &inc, None).passed());
    }
}
