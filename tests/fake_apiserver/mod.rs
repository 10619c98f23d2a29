//! An in-test Kubernetes API server: a real HTTP/1.1 server on 127.0.0.1
//! (plain http) that answers like kube-apiserver does, for tests of seclab's
//! kube-rs code and of the `seclab` binary (Kubernetes cannot run here).
//!
//! It owns: the server thread and its tokio runtime ([`FakeApiServer`]), the
//! request log ([`Recorded`]), kubeconfig files pointing at it
//! ([`kubeconfig`], [`write_kubeconfig`]), canned answers ([`Canned`],
//! [`FakeApiServer::respond`], [`FakeApiServer::fail_next`]) and realistic
//! objects for tests to seed ([`fixtures`]). The object store, discovery,
//! Status bodies, label selectors and the Pod Security admission simulation
//! live in the submodules.
//!
//! What it serves (everything else is `404 page not found`, like a real
//! server for an unknown path):
//! - `/version`, `/healthz`, `/readyz`, `/livez`;
//! - discovery: `/api`, `/api/v1`, `/apis`, `/apis/{apps,batch,networking.k8s.io,admissionregistration.k8s.io,apiextensions.k8s.io,
//!   rbac.authorization.k8s.io,authorization.k8s.io}/v1`, as
//!   APIVersions/APIGroupList/APIResourceList, or aggregated discovery
//!   (`APIGroupDiscoveryList`, apidiscovery.k8s.io/v2) when the Accept header
//!   asks for it;
//! - for Namespace, ConfigMap, Secret, ServiceAccount, Pod, Service,
//!   Deployment, ReplicaSet, StatefulSet, DaemonSet, NetworkPolicy, Role, RoleBinding, ClusterRole,
//!   ClusterRoleBinding: get, list (`XList`, list `metadata.resourceVersion`,
//!   items without kind/apiVersion as the real server sends them;
//!   `labelSelector` with `=`, `==`, `!=`, `in`, `notin`, exists, `!key`;
//!   `fieldSelector` on `metadata.name`/`metadata.namespace`; `limit` is
//!   ignored: everything comes in one page), watch, create (`dryRun=All`
//!   answered, not stored), server-side apply (`application/apply-patch+yaml`,
//!   `fieldManager`, `force`; 201 created / 200 updated; `managedFields`;
//!   409 on a field another manager owns unless `force=true`), JSON merge
//!   patch (strategic merge patch is treated as a merge patch), replace (PUT,
//!   resourceVersion checked), delete (a namespace takes everything in it
//!   along), deletecollection, and the `status` subresource (get, patch);
//! - `subjectaccessreviews`, `localsubjectaccessreviews` and
//!   `selfsubjectaccessreviews`, answered by [`FakeApiServer::set_access_review`];
//! - `pods/{exec,attach,portforward}`: a canned answer
//!   ([`FakeApiServer::set_exec_response`]); no websocket is ever opened.
//!
//! Admission it simulates: names are validated (422 Invalid), a namespaced
//! object needs its namespace (404), a second create of a name is 409
//! AlreadyExists, and Pod Security admission refuses pods that break the
//! namespace's `pod-security.kubernetes.io/enforce` level with the real
//! API server's 403 message (and sends `Warning` headers for `warn` and for
//! workload templates); a stored ValidatingAdmissionPolicy about
//! `privileged`, bound with `Deny`, refuses privileged pods and pod
//! templates with the real 422 message (a stand-in: no CEL is evaluated). There are no controllers: a Deployment makes no
//! ReplicaSet, a Pod stays as stored (seed running pods with
//! [`fixtures::running_pod`]), and nothing is garbage collected.
//!
//! A fresh server holds the namespaces a new cluster has: `default`,
//! `kube-system`, `kube-public`, `kube-node-lease`.

// Every integration test file is its own crate and uses only part of this
// module; unused helpers must not warn there.
#![allow(dead_code)]

mod discovery;
pub mod fixtures;
mod http;
mod kubelet;
mod psa;
mod selector;
pub mod status;
mod store;
mod vap;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use serde_json::Value;

use store::State;

/// One request the server received, in arrival order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// `GET`, `POST`, `PATCH`, ...
    pub method: String,
    /// The path without the query, e.g. `/api/v1/namespaces/default/configmaps/x`.
    pub path: String,
    /// The raw (still percent-encoded) query string, `""` when there is none.
    pub query: String,
    /// The request's `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The request's `Authorization` header, if any (`Bearer <token>`).
    pub authorization: Option<String>,
    /// The request body as text (lossy UTF-8); empty for most GETs.
    pub body: String,
    /// The HTTP status the server answered with (a watch: 200 once it started).
    pub status: u16,
}

impl Recorded {
    /// The decoded query parameters, in order.
    pub fn params(&self) -> Vec<(String, String)> {
        http::parse_query(&self.query)
    }

    /// The first value of query parameter `name`, decoded.
    pub fn param(&self, name: &str) -> Option<String> {
        self.params()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// Every value of query parameter `name` (exec sends `command` once per argument).
    pub fn param_all(&self, name: &str) -> Vec<String> {
        self.params()
            .into_iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v)
            .collect()
    }

    /// The body parsed as JSON, when it is JSON.
    pub fn body_json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// Whether this request could change the cluster: any method but GET/HEAD
    /// (a SubjectAccessReview is a POST and counts, as the guard treats it).
    pub fn is_write(&self) -> bool {
        self.method != "GET" && self.method != "HEAD"
    }
}

/// A canned HTTP answer: status code, JSON body and extra headers.
#[derive(Debug, Clone, PartialEq)]
pub struct Canned {
    /// The HTTP status code.
    pub status: u16,
    /// The JSON body (a Status for errors).
    pub body: Value,
    /// Extra response headers (`Content-Type: application/json` is always sent).
    pub headers: Vec<(String, String)>,
}

impl Canned {
    /// A JSON answer with the given status code.
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            body,
            headers: Vec::new(),
        }
    }

    /// A Status body answered with the code it names (`"code": 403` → HTTP 403).
    pub fn status(body: Value) -> Self {
        let code = body
            .get("code")
            .and_then(Value::as_u64)
            .map_or(500, |c| c as u16);
        Self::json(code, body)
    }

    /// The same answer with one more response header.
    #[must_use]
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// Decides a SubjectAccessReview: gets the request's `spec`, returns
/// (allowed, reason). The reason is left out of the answer when empty.
pub type AccessReviewFn = dyn Fn(&Value) -> (bool, String) + Send + Sync;

/// Picks the requests an override answers.
pub type Matcher = dyn Fn(&Recorded) -> bool + Send + Sync;

/// A running in-test API server; it stops (and every open watch ends) when dropped.
pub struct FakeApiServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FakeApiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeApiServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl FakeApiServer {
    /// Binds 127.0.0.1 on a free port and serves on a background thread with
    /// its own tokio runtime, so sync tests, async tests and tests that run
    /// the `seclab` binary can all use it.
    pub fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State::new()));
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let served = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name(format!("fake-apiserver-{}", addr.port()))
            .spawn(move || http::serve(listener, served, stopped))
            .expect("spawn the fake API server thread");
        Self {
            addr,
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The server URL for a kubeconfig, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every request so far, in arrival order (a watch is recorded when it starts).
    pub fn requests(&self) -> Vec<Recorded> {
        self.state().requests.clone()
    }

    /// The requests that could change the cluster ([`Recorded::is_write`]).
    pub fn writes(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(Recorded::is_write)
            .collect()
    }

    /// Forgets the requests recorded so far (e.g. after seeding through the API).
    pub fn clear_requests(&self) {
        self.state().requests.clear();
    }

    /// Stores `object` (full API JSON with `apiVersion`, `kind`,
    /// `metadata.name`, and `metadata.namespace` for namespaced kinds) as if
    /// it had been created or replaced: uid, creationTimestamp and a fresh
    /// resourceVersion are filled in when missing, watches see ADDED or
    /// MODIFIED. No admission, no namespace check. Returns the stored object.
    /// Panics on a kind the server does not serve.
    pub fn insert(&self, object: Value) -> Value {
        self.state()
            .insert(object)
            .unwrap_or_else(|e| panic!("FakeApiServer::insert: {e}"))
    }

    /// The stored object of `kind` (e.g. `"ConfigMap"`) named `name` in
    /// `namespace` (None for cluster-scoped kinds).
    pub fn get(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<Value> {
        self.state().get_by_kind(kind, namespace, name)
    }

    /// Every stored object of `kind`, all namespaces, ordered by namespace and name.
    pub fn list(&self, kind: &str) -> Vec<Value> {
        self.state().list_by_kind(kind)
    }

    /// Removes an object as if deleted (watches see DELETED; a Namespace takes
    /// its objects along). Returns what was removed.
    pub fn remove(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<Value> {
        self.state().remove_by_kind(kind, namespace, name)
    }

    /// The store's current resourceVersion (what a list would report).
    pub fn resource_version(&self) -> u64 {
        self.state().rv
    }

    /// Answers every request `matcher` picks with `response`, before any
    /// routing (first registered override wins). For RBAC 403s, apply
    /// conflicts, 422s, 5xx: see [`status`] for the bodies.
    pub fn respond(
        &self,
        matcher: impl Fn(&Recorded) -> bool + Send + Sync + 'static,
        response: Canned,
    ) {
        self.state().overrides.push(store::Override {
            matcher: Box::new(matcher),
            response,
            remaining: None,
        });
    }

    /// Answers the next request with `method` whose path starts with
    /// `path_prefix` with `status` and `body` (once).
    pub fn fail_next(&self, method: &str, path_prefix: &str, status: u16, body: Value) {
        let method = method.to_owned();
        let prefix = path_prefix.to_owned();
        self.state().overrides.push(store::Override {
            matcher: Box::new(move |r| r.method == method && r.path.starts_with(&prefix)),
            response: Canned::json(status, body),
            remaining: Some(1),
        });
    }

    /// Decides SubjectAccessReviews (subject, local and self): `decide` gets
    /// the request's `spec` and returns (allowed, reason). The default denies
    /// everything with no reason, as RBAC does with no matching rule.
    pub fn set_access_review(
        &self,
        decide: impl Fn(&Value) -> (bool, String) + Send + Sync + 'static,
    ) {
        self.state().access_review = Arc::new(decide);
    }

    /// Turns on the stand-in controllers and kubelet (kubelet.rs): Pods
    /// run, Deployments get a ReplicaSet and a Pod.
    pub fn simulate_workloads(&self) {
        self.state().simulate = true;
    }

    /// The answer to exec/attach/portforward on an existing pod (a missing pod
    /// is always 404). Without one the server answers 400 BadRequest saying
    /// no exec answer was set.
    pub fn set_exec_response(&self, response: Canned) {
        self.state().exec_response = Some(response);
    }
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A URL on 127.0.0.1 where nothing listens (a port just bound and freed):
/// for "the cluster is unreachable" tests.
pub fn closed_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    drop(listener);
    format!("http://{addr}")
}

/// The bearer token the kubeconfig gives context `context`'s user.
pub fn token_for(context: &str) -> String {
    format!("seclab-test-token-{context}")
}

/// A kubeconfig with one cluster, user and context per (context name,
/// server URL), each named after the context, token auth
/// ([`token_for`]), and `current-context: current`.
pub fn kubeconfig(contexts: &[(&str, &str)], current: &str) -> String {
    use std::fmt::Write as _;
    let mut clusters = String::new();
    let mut ctxs = String::new();
    let mut users = String::new();
    for (name, server) in contexts {
        let _ = write!(
            clusters,
            "- name: {name}\n  cluster:\n    server: {server}\n"
        );
        let _ = write!(
            ctxs,
            "- name: {name}\n  context:\n    cluster: {name}\n    user: {name}\n"
        );
        let _ = write!(
            users,
            "- name: {name}\n  user:\n    token: {}\n",
            token_for(name)
        );
    }
    format!(
        "apiVersion: v1\nkind: Config\npreferences: {{}}\nclusters:\n{clusters}contexts:\n{ctxs}\
         current-context: {current}\nusers:\n{users}"
    )
}

/// Writes [`kubeconfig`] to `dir/kubeconfig` and returns the path (for
/// `KUBECONFIG=...` when running the binary).
pub fn write_kubeconfig(dir: &Path, contexts: &[(&str, &str)], current: &str) -> PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(&path, kubeconfig(contexts, current)).expect("write kubeconfig");
    path
}
