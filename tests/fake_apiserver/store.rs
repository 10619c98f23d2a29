//! The fake API server's state: the object store (resourceVersion, uid,
//! creationTimestamp, managedFields, defaults a real server fills in), the
//! event history watches replay and follow, the request log, overrides, and
//! the verbs (get, list, create, apply, patch, replace, delete,
//! deletecollection) with the admission the fake simulates.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use tokio::sync::broadcast;

use super::discovery::{self, ResourceType};
use super::selector::{FieldSelector, LabelSelector};
use super::{AccessReviewFn, Canned, Matcher, Recorded, psa, status};

/// An answer registered by `respond`/`fail_next`.
pub struct Override {
    pub matcher: Box<Matcher>,
    pub response: Canned,
    /// None: every time; Some(n): n more times.
    pub remaining: Option<usize>,
}

/// One change of the store, as a watch reports it.
#[derive(Debug, Clone)]
pub struct Event {
    pub rv: u64,
    pub rt: &'static ResourceType,
    pub namespace: String,
    /// ADDED, MODIFIED or DELETED.
    pub kind: &'static str,
    pub object: Value,
    /// The object before a MODIFIED (so a selector watch can turn it into ADDED/DELETED).
    pub old: Option<Value>,
}

type Key = (&'static str, &'static str, String, String);

/// A successful answer: HTTP status, body, `Warning` header values.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub warnings: Vec<String>,
}

/// An answer or a Status body (whose `code` is the HTTP status).
pub type Res = Result<Reply, Value>;

#[allow(clippy::unnecessary_wraps)] // every verb answers a Res
fn ok(status: u16, body: Value) -> Res {
    Ok(Reply {
        status,
        body,
        warnings: Vec::new(),
    })
}

/// Options of a write request.
#[derive(Debug, Default)]
pub struct WriteOpts {
    pub dry_run: bool,
    pub field_manager: Option<String>,
    pub force: bool,
    /// The manager recorded for non-apply writes without `fieldManager`
    /// (the real server uses the User-Agent's first word).
    pub user_agent: String,
}

impl WriteOpts {
    fn update_manager(&self) -> String {
        self.field_manager.clone().unwrap_or_else(|| {
            let ua = self.user_agent.split('/').next().unwrap_or("").trim();
            if ua.is_empty() {
                "unknown".to_owned()
            } else {
                ua.to_owned()
            }
        })
    }
}

/// Everything the server knows.
pub struct State {
    objects: BTreeMap<Key, Value>,
    pub rv: u64,
    uid_seed: u64,
    uid_seq: u64,
    ip_seq: u32,
    pub history: Vec<Event>,
    pub events: broadcast::Sender<Event>,
    pub requests: Vec<Recorded>,
    pub overrides: Vec<Override>,
    pub access_review: Arc<AccessReviewFn>,
    pub exec_response: Option<Canned>,
    /// Whether the stand-in controllers and kubelet run (kubelet.rs).
    pub simulate: bool,
    /// Pods the stand-in kubelet started (for their IPs).
    pub pod_seq: u32,
}

/// RFC 3339 UTC, seconds precision, as metadata timestamps are written.
#[allow(clippy::cast_possible_wrap, clippy::many_single_char_names)]
pub fn now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub(super) fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn meta(v: &mut Value) -> &mut Map<String, Value> {
    if !v.get("metadata").is_some_and(Value::is_object) {
        v["metadata"] = json!({});
    }
    v["metadata"]
        .as_object_mut()
        .expect("metadata is an object")
}

/// RFC 7386 JSON merge patch.
pub fn merge(target: &mut Value, patch: &Value) {
    if let Value::Object(p) = patch {
        if !target.is_object() {
            *target = json!({});
        }
        let t = target.as_object_mut().expect("object");
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    } else {
        *target = patch.clone();
    }
}

/// The `fieldsV1` set of an applied object: `f:` for map keys, `k:{"name":..}`
/// for list items with a name, other lists atomic.
fn fields_v1(v: &Value, top: bool) -> Value {
    let mut m = Map::new();
    match v {
        Value::Object(o) => {
            for (k, child) in o {
                if top && matches!(k.as_str(), "apiVersion" | "kind" | "status") {
                    continue;
                }
                if top && k == "metadata" {
                    let mut md = Map::new();
                    for sub in ["labels", "annotations"] {
                        if let Some(x) = child.get(sub) {
                            md.insert(format!("f:{sub}"), fields_v1(x, false));
                        }
                    }
                    if !md.is_empty() {
                        m.insert("f:metadata".into(), Value::Object(md));
                    }
                    continue;
                }
                m.insert(format!("f:{k}"), fields_v1(child, false));
            }
        }
        Value::Array(items)
            if items
                .iter()
                .all(|i| i.get("name").and_then(Value::as_str).is_some()) =>
        {
            for i in items {
                let mut entry = fields_v1(i, false);
                entry
                    .as_object_mut()
                    .expect("object")
                    .insert(".".into(), json!({}));
                let key = format!("k:{}", json!({"name": i["name"]}));
                m.insert(key, entry);
            }
        }
        _ => {}
    }
    Value::Object(m)
}

/// Leaf paths (lists count as leaves) of an applied object, without
/// apiVersion/kind/status and metadata other than labels/annotations.
fn leaf_paths(v: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(o) if !o.is_empty() => {
            for (k, child) in o {
                if path.is_empty() && matches!(k.as_str(), "apiVersion" | "kind" | "status") {
                    continue;
                }
                if path.len() == 1 && path[0] == "metadata" && k != "labels" && k != "annotations" {
                    continue;
                }
                path.push(k.clone());
                leaf_paths(child, path, out);
                path.pop();
            }
        }
        _ => out.push(path.clone()),
    }
}

fn at<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, seg| cur.get(seg))
}

fn owns(fields: &Value, path: &[String]) -> bool {
    let mut cur = fields;
    for seg in path {
        match cur.get(format!("f:{seg}")) {
            Some(next) => cur = next,
            None => return false,
        }
        if cur
            .as_object()
            .is_some_and(|o| o.keys().any(|k| k.starts_with("k:")))
        {
            return true;
        }
    }
    true
}

/// The first other manager that owns a field `applied` changes: (manager, apiVersion, fields).
fn conflicts(
    stored: &Value,
    applied: &Value,
    manager: &str,
) -> Option<(String, String, Vec<String>)> {
    let mut paths = Vec::new();
    leaf_paths(applied, &mut Vec::new(), &mut paths);
    let entries = stored
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)?;
    for e in entries {
        let other = e.get("manager").and_then(Value::as_str).unwrap_or("");
        if other == manager {
            continue;
        }
        let fields = e.get("fieldsV1").cloned().unwrap_or(Value::Null);
        let clashing: Vec<String> = paths
            .iter()
            .filter(|p| {
                at(stored, p).is_some_and(|old| Some(old) != at(applied, p)) && owns(&fields, p)
            })
            .map(|p| format!(".{}", p.join(".")))
            .collect();
        if !clashing.is_empty() {
            let api_version = e
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or("v1")
                .to_owned();
            return Some((other.to_owned(), api_version, clashing));
        }
    }
    None
}

/// Whether `name` is a DNS-1123 subdomain (`label`: a DNS-1123 label).
fn valid_name(name: &str, label: bool) -> bool {
    let part_ok = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !p.starts_with('-')
            && !p.ends_with('-')
    };
    let max = if label { 63 } else { 253 };
    name.len() <= max
        && if label {
            part_ok(name)
        } else {
            name.split('.').all(part_ok)
        }
}

/// What a workload carries as its pod spec.
fn pod_spec(rt: &ResourceType, obj: &Value) -> Option<(Value, bool)> {
    match rt.kind {
        "Pod" => Some((obj.get("spec").cloned().unwrap_or(json!({})), false)),
        "Deployment" | "ReplicaSet" => obj
            .pointer("/spec/template/spec")
            .cloned()
            .map(|s| (s, true)),
        _ => None,
    }
}

impl State {
    pub fn new() -> Self {
        let (events, _) = broadcast::channel(4096);
        let uid_seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos().into());
        let mut s = Self {
            objects: BTreeMap::new(),
            rv: 1000,
            uid_seed,
            uid_seq: 0,
            ip_seq: 0,
            simulate: false,
            pod_seq: 0,
            history: Vec::new(),
            events,
            requests: Vec::new(),
            overrides: Vec::new(),
            access_review: Arc::new(|_| (false, String::new())),
            exec_response: None,
        };
        for ns in ["default", "kube-node-lease", "kube-public", "kube-system"] {
            s.insert(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
                .expect("seed namespace");
        }
        s
    }

    fn uid(&mut self) -> String {
        self.uid_seq += 1;
        let n = self
            .uid_seed
            .wrapping_mul(1_000_003)
            .wrapping_add(self.uid_seq);
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            (n >> 32) as u32,
            (n >> 16) & 0xffff,
            n & 0xfff,
            (n >> 12) & 0xfff,
            self.uid_seq
        )
    }

    fn key(rt: &'static ResourceType, ns: Option<&str>, name: &str) -> Key {
        let ns = if rt.namespaced {
            ns.unwrap_or("").to_owned()
        } else {
            String::new()
        };
        (rt.group, rt.plural, ns, name.to_owned())
    }

    fn emit(
        &mut self,
        kind: &'static str,
        rt: &'static ResourceType,
        object: Value,
        old: Option<Value>,
    ) {
        let event = Event {
            rv: self.rv,
            rt,
            namespace: str_at(&object, "/metadata/namespace")
                .unwrap_or("")
                .to_owned(),
            kind,
            object,
            old,
        };
        self.history.push(event.clone());
        let _ = self.events.send(event);
    }

    fn namespace_exists(&self, ns: &str) -> bool {
        self.objects
            .contains_key(&("", "namespaces", String::new(), ns.to_owned()))
    }

    fn namespace(&self, ns: &str) -> Option<&Value> {
        self.objects
            .get(&("", "namespaces", String::new(), ns.to_owned()))
    }

    /// The defaults and conversions a real server applies on write.
    fn defaults(&mut self, rt: &ResourceType, obj: &mut Value, old: Option<&Value>) {
        obj["apiVersion"] = json!(rt.api_version());
        obj["kind"] = json!(rt.kind);
        let name = str_at(obj, "/metadata/name").unwrap_or("").to_owned();
        match rt.kind {
            "Namespace" => {
                let md = meta(obj);
                let labels = md.entry("labels").or_insert_with(|| json!({}));
                labels["kubernetes.io/metadata.name"] = json!(name);
                if obj.pointer("/spec/finalizers").is_none() {
                    obj["spec"] = json!({"finalizers": ["kubernetes"]});
                }
                if obj.pointer("/status/phase").is_none() {
                    obj["status"] = json!({"phase": "Active"});
                }
            }
            "Secret" => {
                if obj.get("type").is_none() {
                    obj["type"] = json!("Opaque");
                }
                if let Some(Value::Object(sd)) =
                    obj.as_object_mut().and_then(|o| o.remove("stringData"))
                {
                    for (k, v) in sd {
                        obj["data"][k] = json!(base64(v.as_str().unwrap_or("").as_bytes()));
                    }
                }
            }
            "Service" => {
                let spec = obj.get("spec").cloned().unwrap_or(json!({}));
                let mut spec = spec;
                if spec.get("type").is_none() {
                    spec["type"] = json!("ClusterIP");
                }
                if spec.get("clusterIP").is_none() {
                    let ip = old
                        .and_then(|o| o.pointer("/spec/clusterIP").cloned())
                        .unwrap_or_else(|| {
                            self.ip_seq += 1;
                            json!(format!(
                                "10.96.{}.{}",
                                self.ip_seq / 250,
                                self.ip_seq % 250 + 2
                            ))
                        });
                    spec["clusterIPs"] = json!([ip.clone()]);
                    spec["clusterIP"] = ip;
                }
                if spec.get("sessionAffinity").is_none() {
                    spec["sessionAffinity"] = json!("None");
                }
                obj["spec"] = spec;
            }
            "Pod" => {
                let spec = obj["spec"]
                    .as_object_mut()
                    .map(std::mem::take)
                    .unwrap_or_default();
                let mut spec = Value::Object(spec);
                for (k, v) in [
                    ("restartPolicy", "Always"),
                    ("dnsPolicy", "ClusterFirst"),
                    ("serviceAccountName", "default"),
                    ("schedulerName", "default-scheduler"),
                ] {
                    if spec.get(k).is_none() {
                        spec[k] = json!(v);
                    }
                }
                if spec.get("terminationGracePeriodSeconds").is_none() {
                    spec["terminationGracePeriodSeconds"] = json!(30);
                }
                obj["spec"] = spec;
                if obj.get("status").is_none() {
                    obj["status"] = old
                        .and_then(|o| o.get("status").cloned())
                        .unwrap_or_else(|| json!({"phase": "Pending", "qosClass": "BestEffort"}));
                }
            }
            "Deployment" | "ReplicaSet"
                if obj.pointer("/spec/replicas").is_none()
                    && obj.get("spec").is_some_and(Value::is_object) =>
            {
                obj["spec"]["replicas"] = json!(1);
            }
            _ => {}
        }
        if matches!(
            rt.kind,
            "Pod" | "Deployment" | "ReplicaSet" | "NetworkPolicy"
        ) {
            let generation = match old {
                None => 1,
                Some(o) => {
                    let g = o
                        .pointer("/metadata/generation")
                        .and_then(Value::as_i64)
                        .unwrap_or(1);
                    if o.get("spec") == obj.get("spec") {
                        g
                    } else {
                        g + 1
                    }
                }
            };
            meta(obj).insert("generation".into(), json!(generation));
        }
    }

    /// Fills uid/creationTimestamp (kept from `old`) and a new resourceVersion.
    fn stamp(&mut self, obj: &mut Value, old: Option<&Value>, dry_run: bool) {
        let uid = old
            .and_then(|o| str_at(o, "/metadata/uid"))
            .map(str::to_owned);
        let created = old
            .and_then(|o| str_at(o, "/metadata/creationTimestamp"))
            .map(str::to_owned);
        let new_uid = uid.unwrap_or_else(|| self.uid());
        let rv = if dry_run {
            None
        } else {
            Some((self.rv + 1).to_string())
        };
        let md = meta(obj);
        md.entry("uid").or_insert(json!(new_uid));
        md.entry("creationTimestamp")
            .or_insert(json!(created.unwrap_or_else(now)));
        match rv {
            Some(rv) => {
                md.insert("resourceVersion".into(), json!(rv));
            }
            None => {
                md.remove("resourceVersion");
            }
        }
    }

    fn store(&mut self, rt: &'static ResourceType, obj: Value, old: Option<Value>) {
        self.rv += 1;
        let ns = str_at(&obj, "/metadata/namespace").map(str::to_owned);
        let name = str_at(&obj, "/metadata/name").unwrap_or("").to_owned();
        self.objects
            .insert(Self::key(rt, ns.as_deref(), &name), obj.clone());
        let kind = if old.is_some() { "MODIFIED" } else { "ADDED" };
        let after = self.simulate.then(|| obj.clone());
        self.emit(kind, rt, obj, old);
        if let Some(obj) = after {
            self.simulate_after(rt.kind, &obj);
        }
    }

    // ---- test-facing helpers -------------------------------------------

    pub fn insert(&mut self, mut obj: Value) -> Result<Value, String> {
        let kind = str_at(&obj, "/kind")
            .ok_or("object without kind")?
            .to_owned();
        let rt = discovery::by_kind(&kind)
            .filter(|t| t.stored)
            .ok_or(format!("kind {kind} is not served"))?;
        let name = str_at(&obj, "/metadata/name")
            .ok_or("object without metadata.name")?
            .to_owned();
        let ns = str_at(&obj, "/metadata/namespace").map(str::to_owned);
        if rt.namespaced && ns.is_none() {
            return Err(format!("{kind} {name} needs metadata.namespace"));
        }
        let old = self
            .objects
            .get(&Self::key(rt, ns.as_deref(), &name))
            .cloned();
        self.defaults(rt, &mut obj, old.as_ref());
        self.stamp(&mut obj, old.as_ref(), false);
        self.store(rt, obj.clone(), old);
        Ok(obj)
    }

    pub fn get_by_kind(&self, kind: &str, ns: Option<&str>, name: &str) -> Option<Value> {
        let rt = discovery::by_kind(kind)?;
        self.objects.get(&Self::key(rt, ns, name)).cloned()
    }

    pub fn list_by_kind(&self, kind: &str) -> Vec<Value> {
        let Some(rt) = discovery::by_kind(kind) else {
            return Vec::new();
        };
        self.objects
            .iter()
            .filter(|((g, p, _, _), _)| *g == rt.group && *p == rt.plural)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn remove_by_kind(&mut self, kind: &str, ns: Option<&str>, name: &str) -> Option<Value> {
        let rt = discovery::by_kind(kind)?;
        let before = self.objects.get(&Self::key(rt, ns, name)).cloned()?;
        self.delete(rt, ns, name, false).ok()?;
        Some(before)
    }

    // ---- verbs -----------------------------------------------------------

    fn missing_namespace(ns: &str) -> Value {
        status::not_found("", "namespaces", ns)
    }

    pub fn get(&self, rt: &'static ResourceType, ns: Option<&str>, name: &str) -> Res {
        match self.objects.get(&Self::key(rt, ns, name)) {
            Some(o) => ok(200, o.clone()),
            None => Err(status::not_found(rt.group, rt.plural, name)),
        }
    }

    /// The objects of `rt` in `ns` (None: all namespaces) matching the selectors.
    pub fn select(
        &self,
        rt: &'static ResourceType,
        ns: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
    ) -> Vec<Value> {
        self.objects
            .iter()
            .filter(|((g, p, n, _), _)| {
                *g == rt.group && *p == rt.plural && ns.is_none_or(|ns| ns == n)
            })
            .filter(|(_, v)| labels.matches(v) && fields.matches(v))
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn list(
        &self,
        rt: &'static ResourceType,
        ns: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
    ) -> Res {
        let items: Vec<Value> = self
            .select(rt, ns, labels, fields)
            .into_iter()
            .map(|mut v| {
                // The real server leaves kind/apiVersion out of list items.
                let o = v.as_object_mut().expect("object");
                o.remove("kind");
                o.remove("apiVersion");
                v
            })
            .collect();
        ok(
            200,
            json!({
                "kind": format!("{}List", rt.kind),
                "apiVersion": rt.api_version(),
                "metadata": {"resourceVersion": self.rv.to_string()},
                "items": items
            }),
        )
    }

    /// Name checks, namespace existence and Pod Security admission for a new
    /// or changed object; returns the warnings.
    fn admit(
        &self,
        rt: &'static ResourceType,
        ns: Option<&str>,
        name: &str,
        obj: &Value,
    ) -> Result<Vec<String>, Value> {
        let label = rt.kind == "Namespace";
        if !valid_name(name, label) {
            let what = if label {
                format!(
                    "Invalid value: \"{name}\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
                )
            } else {
                format!(
                    "Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
                )
            };
            return Err(status::invalid(
                rt.group,
                rt.kind,
                name,
                "metadata.name",
                "FieldValueInvalid",
                &what,
            ));
        }
        let Some(ns) = ns.filter(|_| rt.namespaced) else {
            return Ok(Vec::new());
        };
        let Some(ns_obj) = self.namespace(ns) else {
            return Err(Self::missing_namespace(ns));
        };
        if ns_obj.pointer("/metadata/deletionTimestamp").is_some() {
            return Err(status::failure(
                403,
                "Forbidden",
                &format!(
                    "{} \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                    rt.qualified()
                ),
                status::details(rt.group, rt.plural, name),
            ));
        }
        let stored: Vec<&Value> = self.objects.values().collect();
        if let Some(refused) = super::vap::refuse(&stored, rt, name, obj) {
            return Err(refused);
        }
        let Some((spec, workload)) = pod_spec(rt, obj) else {
            return Ok(Vec::new());
        };
        let verdict = psa::admit(ns_obj, &spec, workload);
        if let Some((policy, reasons)) = verdict.refused {
            return Err(status::pod_security(name, &policy, &reasons));
        }
        Ok(verdict.warnings)
    }

    fn check_namespace(
        rt: &ResourceType,
        url_ns: Option<&str>,
        obj: &mut Value,
    ) -> Result<(), Value> {
        if !rt.namespaced {
            meta(obj).remove("namespace");
            return Ok(());
        }
        let url_ns = url_ns.unwrap_or("");
        match str_at(obj, "/metadata/namespace") {
            Some(n) if n != url_ns => Err(status::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            )),
            _ => {
                meta(obj).insert("namespace".into(), json!(url_ns));
                Ok(())
            }
        }
    }

    pub fn create(
        &mut self,
        rt: &'static ResourceType,
        ns: Option<&str>,
        mut obj: Value,
        opts: &WriteOpts,
    ) -> Res {
        if !obj.is_object() {
            return Err(status::bad_request(
                "the body of the request is not a JSON object",
            ));
        }
        Self::check_namespace(rt, ns, &mut obj)?;
        let name = match str_at(&obj, "/metadata/name") {
            Some(n) => n.to_owned(),
            None => match str_at(&obj, "/metadata/generateName") {
                Some(prefix) => {
                    let suffix: String = self
                        .uid()
                        .chars()
                        .rev()
                        .filter(char::is_ascii_alphanumeric)
                        .take(5)
                        .collect();
                    let n = format!("{prefix}{suffix}");
                    meta(&mut obj).insert("name".into(), json!(n));
                    n
                }
                None => {
                    return Err(status::invalid(
                        rt.group,
                        rt.kind,
                        "",
                        "metadata.name",
                        "FieldValueRequired",
                        "Required value: name or generateName is required",
                    ));
                }
            },
        };
        let warnings = self.admit(rt, ns, &name, &obj)?;
        if self.objects.contains_key(&Self::key(rt, ns, &name)) {
            return Err(status::already_exists(rt.group, rt.plural, &name));
        }
        self.defaults(rt, &mut obj, None);
        let entry = json!({
            "manager": opts.update_manager(),
            "operation": "Update",
            "apiVersion": rt.api_version(),
            "time": now(),
            "fieldsType": "FieldsV1",
            "fieldsV1": fields_v1(&obj, true)
        });
        meta(&mut obj).insert("managedFields".into(), json!([entry]));
        self.stamp(&mut obj, None, opts.dry_run);
        if !opts.dry_run {
            self.store(rt, obj.clone(), None);
        }
        Ok(Reply {
            status: 201,
            body: obj,
            warnings,
        })
    }

    pub fn apply(
        &mut self,
        rt: &'static ResourceType,
        ns: Option<&str>,
        name: &str,
        mut applied: Value,
        opts: &WriteOpts,
    ) -> Res {
        let Some(manager) = opts.field_manager.clone() else {
            return Err(status::invalid(
                "meta.k8s.io",
                "PatchOptions",
                "",
                "fieldManager",
                "FieldValueRequired",
                "Required value: is required for apply patch",
            ));
        };
        if !applied.is_object() {
            return Err(status::bad_request(
                "error decoding YAML: the applied configuration is not an object",
            ));
        }
        if let Some(n) = str_at(&applied, "/metadata/name").filter(|n| *n != name) {
            return Err(status::bad_request(&format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )));
        }
        meta(&mut applied).insert("name".into(), json!(name));
        Self::check_namespace(rt, ns, &mut applied)?;
        let old = self.objects.get(&Self::key(rt, ns, name)).cloned();
        let warnings = self.admit(rt, ns, name, &applied)?;
        let entry = |time: String| {
            json!({
                "manager": manager,
                "operation": "Apply",
                "apiVersion": rt.api_version(),
                "time": time,
                "fieldsType": "FieldsV1",
                "fieldsV1": fields_v1(&applied, true)
            })
        };
        let Some(old) = old else {
            let mut obj = applied.clone();
            self.defaults(rt, &mut obj, None);
            meta(&mut obj).insert("managedFields".into(), json!([entry(now())]));
            self.stamp(&mut obj, None, opts.dry_run);
            if !opts.dry_run {
                self.store(rt, obj.clone(), None);
            }
            return Ok(Reply {
                status: 201,
                body: obj,
                warnings,
            });
        };
        if !opts.force
            && let Some((other, api_version, fields)) = conflicts(&old, &applied, &manager)
        {
            return Err(status::apply_conflict(
                rt.group,
                rt.plural,
                name,
                &other,
                &api_version,
                &fields,
            ));
        }
        let mut entries: Vec<Value> = old
            .pointer("/metadata/managedFields")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        // Only this manager so far: the applied config is the object (fields it
        // dropped go away). Otherwise (other managers, or none recorded, as
        // for `insert`ed objects) the applied config is merged in.
        let sole = !entries.is_empty()
            && entries
                .iter()
                .all(|e| e.get("manager").and_then(Value::as_str) == Some(manager.as_str()));
        let mut obj = if sole {
            let mut obj = applied.clone();
            if let Some(s) = old.get("status") {
                obj["status"] = s.clone();
            }
            obj
        } else {
            let mut obj = old.clone();
            merge(&mut obj, &applied);
            obj
        };
        for k in [
            "uid",
            "creationTimestamp",
            "resourceVersion",
            "generation",
            "deletionTimestamp",
        ] {
            if let Some(v) = old.pointer(&format!("/metadata/{k}")) {
                meta(&mut obj).insert(k.into(), v.clone());
            }
        }
        self.defaults(rt, &mut obj, Some(&old));
        // No change at all (same content, same field set): a no-op, no new resourceVersion.
        let mine = entries.iter().position(|e| {
            e.get("manager").and_then(Value::as_str) == Some(manager.as_str())
                && e.get("operation").and_then(Value::as_str) == Some("Apply")
        });
        let same_fields =
            mine.is_some_and(|i| entries[i].get("fieldsV1") == Some(&fields_v1(&applied, true)));
        let strip = |v: &Value| {
            let mut v = v.clone();
            meta(&mut v).remove("managedFields");
            v
        };
        if same_fields && strip(&obj) == strip(&old) {
            return Ok(Reply {
                status: 200,
                body: old,
                warnings,
            });
        }
        match mine {
            Some(i) => entries[i] = entry(now()),
            None => entries.push(entry(now())),
        }
        meta(&mut obj).insert("managedFields".into(), json!(entries));
        self.stamp(&mut obj, Some(&old), false);
        if opts.dry_run {
            return Ok(Reply {
                status: 200,
                body: obj,
                warnings,
            });
        }
        self.store(rt, obj.clone(), Some(old));
        Ok(Reply {
            status: 200,
            body: obj,
            warnings,
        })
    }

    /// A merge patch (or, with `status_only`, a patch of `.status` alone).
    pub fn patch(
        &mut self,
        rt: &'static ResourceType,
        ns: Option<&str>,
        name: &str,
        patch: &Value,
        status_only: bool,
        opts: &WriteOpts,
    ) -> Res {
        let Some(old) = self.objects.get(&Self::key(rt, ns, name)).cloned() else {
            return Err(status::not_found(rt.group, rt.plural, name));
        };
        let mut obj = old.clone();
        let mut warnings = Vec::new();
        if status_only {
            if let Some(s) = patch.get("status") {
                merge(&mut obj["status"], s);
            }
        } else {
            merge(&mut obj, patch);
            warnings = self.admit(rt, ns, name, &obj)?;
        }
        self.finish_update(rt, obj, old, opts, warnings)
    }

    /// A replace (PUT): the resourceVersion in the body, when set, must be current.
    pub fn replace(
        &mut self,
        rt: &'static ResourceType,
        ns: Option<&str>,
        name: &str,
        mut obj: Value,
        status_only: bool,
        opts: &WriteOpts,
    ) -> Res {
        let Some(old) = self.objects.get(&Self::key(rt, ns, name)).cloned() else {
            return Err(status::not_found(rt.group, rt.plural, name));
        };
        if let Some(rv) = str_at(&obj, "/metadata/resourceVersion")
            && Some(rv) != str_at(&old, "/metadata/resourceVersion")
        {
            return Err(status::modified(rt.group, rt.plural, name));
        }
        Self::check_namespace(rt, ns, &mut obj)?;
        let mut warnings = Vec::new();
        if status_only {
            let mut new = old.clone();
            new["status"] = obj.get("status").cloned().unwrap_or(Value::Null);
            obj = new;
        } else {
            warnings = self.admit(rt, ns, name, &obj)?;
            if let Some(mf) = old.pointer("/metadata/managedFields") {
                meta(&mut obj).entry("managedFields").or_insert(mf.clone());
            }
        }
        self.finish_update(rt, obj, old, opts, warnings)
    }

    #[allow(clippy::unnecessary_wraps)] // one shape for every verb
    fn finish_update(
        &mut self,
        rt: &'static ResourceType,
        mut obj: Value,
        old: Value,
        opts: &WriteOpts,
        warnings: Vec<String>,
    ) -> Res {
        self.defaults(rt, &mut obj, Some(&old));
        self.stamp(&mut obj, Some(&old), true);
        let mut unchanged = obj.clone();
        if let Some(rv) = old.pointer("/metadata/resourceVersion") {
            meta(&mut unchanged).insert("resourceVersion".into(), rv.clone());
        }
        if unchanged == old {
            return Ok(Reply {
                status: 200,
                body: old,
                warnings,
            });
        }
        if !opts.dry_run {
            self.stamp(&mut obj, Some(&old), false);
            self.store(rt, obj.clone(), Some(old));
        }
        Ok(Reply {
            status: 200,
            body: obj,
            warnings,
        })
    }

    pub fn delete(
        &mut self,
        rt: &'static ResourceType,
        ns: Option<&str>,
        name: &str,
        dry_run: bool,
    ) -> Res {
        let key = Self::key(rt, ns, name);
        let Some(old) = self.objects.get(&key).cloned() else {
            return Err(status::not_found(rt.group, rt.plural, name));
        };
        let mut gone = old.clone();
        let md = meta(&mut gone);
        md.insert("deletionTimestamp".into(), json!(now()));
        if rt.kind == "Pod" {
            md.insert("deletionGracePeriodSeconds".into(), json!(30));
        }
        if rt.kind == "Namespace" {
            gone["status"] = json!({"phase": "Terminating"});
        }
        if dry_run {
            return match rt.kind {
                "Namespace" | "Pod" => ok(200, gone),
                _ => ok(
                    200,
                    status::success(
                        rt.group,
                        rt.plural,
                        name,
                        str_at(&old, "/metadata/uid").unwrap_or(""),
                    ),
                ),
            };
        }
        if rt.kind == "Namespace" {
            self.rv += 1;
            meta(&mut gone).insert("resourceVersion".into(), json!(self.rv.to_string()));
            self.objects.insert(key.clone(), gone.clone());
            self.emit("MODIFIED", rt, gone.clone(), Some(old.clone()));
            let inside: Vec<Key> = self
                .objects
                .keys()
                .filter(|(_, _, n, _)| n == name)
                .cloned()
                .collect();
            for k in inside {
                let obj = self.objects.remove(&k).expect("listed");
                let t = discovery::find(k.0, "v1", k.1).expect("served type");
                self.rv += 1;
                self.emit("DELETED", t, obj, None);
            }
        }
        self.objects.remove(&key);
        self.rv += 1;
        let mut last = gone.clone();
        meta(&mut last).insert("resourceVersion".into(), json!(self.rv.to_string()));
        self.emit("DELETED", rt, last, None);
        match rt.kind {
            "Namespace" | "Pod" => ok(200, gone),
            _ => ok(
                200,
                status::success(
                    rt.group,
                    rt.plural,
                    name,
                    str_at(&old, "/metadata/uid").unwrap_or(""),
                ),
            ),
        }
    }

    pub fn delete_collection(
        &mut self,
        rt: &'static ResourceType,
        ns: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
        dry_run: bool,
    ) -> Res {
        let victims = self.select(rt, ns, labels, fields);
        let mut items = Vec::new();
        for v in victims {
            let name = str_at(&v, "/metadata/name").unwrap_or("").to_owned();
            let vns = str_at(&v, "/metadata/namespace").map(str::to_owned);
            self.delete(rt, vns.as_deref(), &name, dry_run)?;
            let mut v = v;
            meta(&mut v).insert("deletionTimestamp".into(), json!(now()));
            items.push(v);
        }
        ok(
            200,
            json!({
                "kind": format!("{}List", rt.kind),
                "apiVersion": rt.api_version(),
                "metadata": {"resourceVersion": self.rv.to_string()},
                "items": items
            }),
        )
    }

    /// A SubjectAccessReview (any of the three kinds): the request echoed with `status`.
    pub fn review(&self, rt: &'static ResourceType, ns: Option<&str>, mut body: Value) -> Res {
        if !body.is_object() {
            return Err(status::bad_request(
                "the body of the request is not a JSON object",
            ));
        }
        let spec = body.get("spec").cloned().unwrap_or(json!({}));
        if rt.kind == "LocalSubjectAccessReview" {
            let asked = str_at(&spec, "/resourceAttributes/namespace").unwrap_or("");
            if Some(asked) != ns {
                return Err(status::bad_request(&format!(
                    "spec.resourceAttributes.namespace must match namespace: {}",
                    ns.unwrap_or("")
                )));
            }
        }
        if rt.kind != "SelfSubjectAccessReview"
            && str_at(&spec, "/user").is_none_or(str::is_empty)
            && spec
                .get("groups")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty)
        {
            return Err(status::invalid(
                rt.group,
                rt.kind,
                "",
                "spec.user",
                "FieldValueRequired",
                "Invalid value: \"\": at least one of user or group must be specified",
            ));
        }
        let (allowed, reason) = (self.access_review)(&spec);
        body["apiVersion"] = json!(rt.api_version());
        body["kind"] = json!(rt.kind);
        body["metadata"] = json!({"creationTimestamp": null});
        let mut st = json!({"allowed": allowed});
        if !reason.is_empty() {
            st["reason"] = json!(reason);
        }
        body["status"] = st;
        ok(201, body)
    }
}
