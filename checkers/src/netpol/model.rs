//! From manifests to the model the engine works on: namespaces with their
//! labels, workloads (pods folded into their controller), and
//! `NetworkPolicy` objects with parsed selectors, peers and ports. Every malformed
//! field is an error naming the object and the field path.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use super::ip::{self, IpRange};
use super::ports::{Protocol, port_name_problems};
use super::selector::{Labels, Selector};
use super::{NetpolError, Note};
use crate::KubeObject;

/// The label every namespace carries implicitly.
pub const NS_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Kinds that become a workload of their own: every kind that carries a
/// pod, except a bare `PodTemplate`, which runs nothing.
fn is_workload_kind(kind: &str) -> bool {
    kind != "PodTemplate" && crate::object::WORKLOAD_KINDS.contains(&kind)
}

/// Whether the engine reads objects of `kind`: namespaces, policies and
/// the workloads that run pods.
pub(crate) fn reads_kind(kind: &str) -> bool {
    matches!(kind, "Namespace" | "NetworkPolicy") || is_workload_kind(kind)
}

/// A workload as connlist names it: `ns/name[Kind]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct WorkloadId {
    /// Namespace (`default` when the manifest names none).
    pub namespace: String,
    /// Name of the workload (the controller's name for owned pods).
    pub name: String,
    /// Kind, e.g. `Deployment`, `ReplicaSet`, `Pod`.
    pub kind: String,
}

impl fmt::Display for WorkloadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}[{}]", self.namespace, self.name, self.kind)
    }
}

/// A named container port of a workload.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct NamedPort {
    pub name: String,
    pub proto: Protocol,
    pub port: u16,
}

/// One workload: its identity, pod labels and named ports.
#[derive(Debug, Clone)]
pub(crate) struct Workload {
    pub id: WorkloadId,
    pub labels: Labels,
    pub named_ports: Vec<NamedPort>,
}

/// The port part of a policy port entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum PortVal {
    All,
    Range(u16, u16),
    Named(String),
}

/// One entry of a rule's `ports`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PortSpec {
    pub proto: Protocol,
    pub val: PortVal,
}

/// One entry of a rule's `from`/`to`.
#[derive(Debug, Clone)]
pub(crate) enum PeerSpec {
    /// Pods: `ns` = `None` means the policy's own namespace; `pods` =
    /// `None` means every pod of the selected namespaces.
    Pods {
        ns: Option<Selector>,
        pods: Option<Selector>,
    },
    /// `cidr` minus `except`.
    Ip(Vec<IpRange>),
}

/// One ingress or egress rule. `None` peers/ports = all.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub peers: Option<Vec<PeerSpec>>,
    pub ports: Option<Vec<PortSpec>>,
}

/// A parsed `NetworkPolicy`. `None` for a direction the policy does not
/// affect; `Some(rules)` isolates the selected pods in that direction.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    pub namespace: String,
    pub selector: Selector,
    pub ingress: Option<Vec<Rule>>,
    pub egress: Option<Vec<Rule>>,
}

/// Everything the engine needs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Model {
    pub namespaces: BTreeMap<String, Labels>,
    pub workloads: Vec<Workload>,
    pub policies: Vec<Policy>,
}

/// A document with the kind it has or inherits from its list.
struct Doc<'a> {
    value: &'a Value,
    kind: &'a str,
    file: Option<&'a str>,
    /// Index of the document in `file`.
    index: usize,
}

fn flatten<'a>(objects: &'a [KubeObject], notes: &mut Vec<Note>) -> Vec<Doc<'a>> {
    let mut out = Vec::new();
    for o in objects {
        let kind = o.kind();
        let file = o.source.as_deref();
        match o.value.get("items").and_then(Value::as_array) {
            Some(items) if kind.ends_with("List") => {
                let item_kind = kind.strip_suffix("List").unwrap_or("");
                for item in items {
                    let k = item
                        .get("kind")
                        .and_then(Value::as_str)
                        .unwrap_or(item_kind);
                    out.push(Doc {
                        value: item,
                        kind: k,
                        file,
                        index: o.doc,
                    });
                }
            }
            _ if kind.is_empty() && o.value.is_null() => {}
            _ => out.push(Doc {
                value: &o.value,
                kind,
                file,
                index: o.doc,
            }),
        }
        if kind.ends_with("List") && o.value.get("items").is_none() {
            notes.push(Note::new(
                format!("{kind}/{}", o.name()),
                "list without items",
            ));
        }
    }
    out
}

fn str_at<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

fn labels_of(meta: &Value) -> Labels {
    meta.get("labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| match v {
                    Value::String(s) => Some((k.clone(), s.clone())),
                    Value::Number(n) => Some((k.clone(), n.to_string())),
                    Value::Bool(b) => Some((k.clone(), b.to_string())),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The named container ports of a pod spec at `spec_path`. A name the API
/// server would reject (not an `IANA_SVC_NAME`, not a string, or twice in
/// one container) is an error: it would never resolve a policy's port.
/// A port without a usable `containerPort` is skipped, as np-guard does.
fn named_ports(spec: &Value, spec_path: &str) -> Result<Vec<NamedPort>, FieldErr> {
    let mut out = Vec::new();
    let containers = spec.get("containers").and_then(Value::as_array);
    for (i, c) in containers.into_iter().flatten().enumerate() {
        let ports = c.get("ports").and_then(Value::as_array);
        let mut seen: Vec<&str> = Vec::new();
        for (j, p) in ports.into_iter().flatten().enumerate() {
            let at = format!("{spec_path}.containers[{i}].ports[{j}].name");
            let name = match p.get("name") {
                None | Some(Value::Null) => continue,
                Some(Value::String(name)) if name.is_empty() => continue,
                Some(Value::String(name)) => name.as_str(),
                Some(other) => {
                    return Err(err(
                        at,
                        format!(
                            "port name {other} is not a string (write it in quotes, or use a name like `http`)"
                        ),
                    ));
                }
            };
            let problems = port_name_problems(name);
            if !problems.is_empty() {
                return Err(err(
                    at,
                    format!("bad port name {name:?} ({})", problems.join("; ")),
                ));
            }
            if seen.contains(&name) {
                return Err(err(
                    at,
                    format!("duplicate port name {name:?} in one container"),
                ));
            }
            seen.push(name);
            let Some(port) = p
                .get("containerPort")
                .and_then(Value::as_u64)
                .and_then(|n| u16::try_from(n).ok())
                .filter(|n| *n > 0)
            else {
                continue;
            };
            let proto = p
                .get("protocol")
                .and_then(Value::as_str)
                .map_or(Some(Protocol::Tcp), Protocol::parse);
            if let Some(proto) = proto {
                out.push(NamedPort {
                    name: name.to_owned(),
                    proto,
                    port,
                });
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

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

impl Model {
    /// Reads namespaces, workloads and policies; notes what it ignores.
    pub(crate) fn from_objects(objects: &[KubeObject]) -> Result<(Model, Vec<Note>), NetpolError> {
        let mut notes = Vec::new();
        let docs = flatten(objects, &mut notes);
        let mut model = Model::default();
        let mut by_id: HashMap<WorkloadId, usize> = HashMap::new();
        for d in docs {
            let ns = match str_at(d.value, "/metadata/namespace") {
                "" => "default",
                ns => ns,
            };
            let name = str_at(d.value, "/metadata/name");
            match d.kind {
                "Namespace" => {
                    let mut labels = labels_of(d.value.get("metadata").unwrap_or(&Value::Null));
                    labels.insert(NS_NAME_LABEL.to_owned(), name.to_owned());
                    model.namespaces.insert(name.to_owned(), labels);
                }
                "NetworkPolicy" => {
                    let object = format!("NetworkPolicy {ns}/{name}");
                    let policy = parse_policy(d.value, ns).map_err(|(path, message)| {
                        NetpolError::Invalid {
                            object,
                            file: d.file.map(str::to_owned),
                            doc: d.file.map(|_| d.index),
                            path,
                            message,
                        }
                    })?;
                    model.policies.push(policy);
                }
                k if is_workload_kind(k) => {
                    let Some(t) = crate::object::pod_template(d.value).or_else(|| {
                        // Items of a PodList may lack `kind`; read them as pods.
                        (k == "Pod").then(|| crate::object::PodTemplate {
                            metadata: d.value.get("metadata").unwrap_or(&Value::Null),
                            spec: d.value.get("spec").unwrap_or(&Value::Null),
                            metadata_path: "metadata",
                            spec_path: "spec",
                        })
                    }) else {
                        continue;
                    };
                    let owner = if k == "Pod" {
                        controller_of(t.metadata)
                    } else {
                        None
                    };
                    let (kind, wname) = match owner {
                        Some(("", owner_name)) => (k, owner_name),
                        Some(o) => o,
                        None => (k, name),
                    };
                    let id = WorkloadId {
                        namespace: ns.to_owned(),
                        name: wname.to_owned(),
                        kind: kind.to_owned(),
                    };
                    let labels = labels_of(t.metadata);
                    let ports = named_ports(t.spec, t.spec_path).map_err(|(path, message)| {
                        NetpolError::Invalid {
                            object: format!("{k} {ns}/{name}"),
                            file: d.file.map(str::to_owned),
                            doc: d.file.map(|_| d.index),
                            path,
                            message,
                        }
                    })?;
                    if let Some(&i) = by_id.get(&id) {
                        if let Some(w) = model.workloads.get_mut(i) {
                            if w.labels != labels {
                                notes.push(Note::new(
                                    format!("{k} {ns}/{name}"),
                                    format!("labels differ from other pods of {id}; using the first pod's labels"),
                                ));
                            }
                            w.named_ports.extend(ports);
                            w.named_ports.sort();
                            w.named_ports.dedup();
                        }
                    } else {
                        by_id.insert(id.clone(), model.workloads.len());
                        model.workloads.push(Workload {
                            id,
                            labels,
                            named_ports: ports,
                        });
                    }
                }
                "" => notes.push(Note::new(
                    format!("document {name}"),
                    "document without kind ignored",
                )),
                other => notes.push(Note::new(
                    format!("{other} {ns}/{name}"),
                    format!("kind {other} does not affect NetworkPolicy reachability; ignored"),
                )),
            }
        }
        let extra: Vec<String> = model
            .workloads
            .iter()
            .map(|w| w.id.namespace.clone())
            .chain(model.policies.iter().map(|p| p.namespace.clone()))
            .collect();
        for ns in extra {
            model.namespaces.entry(ns.clone()).or_insert_with(|| {
                let mut l = Labels::new();
                l.insert(NS_NAME_LABEL.to_owned(), ns);
                l
            });
        }
        Ok((model, notes))
    }
}

type FieldErr = (String, String);

fn err(path: impl Into<String>, msg: impl Into<String>) -> FieldErr {
    (path.into(), msg.into())
}

fn parse_policy(v: &Value, ns: &str) -> Result<Policy, FieldErr> {
    let spec = v.get("spec").unwrap_or(&Value::Null);
    if !spec.is_null() && !spec.is_object() {
        return Err(err("spec", "spec must be a mapping"));
    }
    let selector = Selector::parse(
        spec.get("podSelector").unwrap_or(&Value::Null),
        "spec.podSelector",
    )?;
    let (mut has_ingress, mut has_egress) = (false, false);
    match spec.get("policyTypes") {
        None | Some(Value::Null) => {
            has_ingress = true;
            has_egress = spec
                .get("egress")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
        }
        Some(Value::Array(types)) => {
            for (i, t) in types.iter().enumerate() {
                match t.as_str() {
                    Some("Ingress") => has_ingress = true,
                    Some("Egress") => has_egress = true,
                    _ => {
                        return Err(err(
                            format!("spec.policyTypes[{i}]"),
                            format!("unknown policy type {t} (want Ingress or Egress)"),
                        ));
                    }
                }
            }
        }
        Some(_) => return Err(err("spec.policyTypes", "policyTypes must be a list")),
    }
    let ingress = parse_rules(spec, "ingress", "from")?;
    let egress = parse_rules(spec, "egress", "to")?;
    Ok(Policy {
        namespace: ns.to_owned(),
        selector,
        ingress: has_ingress.then_some(ingress),
        egress: has_egress.then_some(egress),
    })
}

fn parse_rules(spec: &Value, dir: &str, peers_key: &str) -> Result<Vec<Rule>, FieldErr> {
    let rules = match spec.get(dir) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(r)) => r,
        Some(_) => return Err(err(format!("spec.{dir}"), format!("{dir} must be a list"))),
    };
    let mut out = Vec::with_capacity(rules.len());
    for (i, r) in rules.iter().enumerate() {
        let at = format!("spec.{dir}[{i}]");
        if !r.is_null() && !r.is_object() {
            return Err(err(at, "a rule must be a mapping"));
        }
        let peers = match r.get(peers_key) {
            None | Some(Value::Null) => None,
            Some(Value::Array(ps)) if ps.is_empty() => None,
            Some(Value::Array(ps)) => {
                let mut out = Vec::with_capacity(ps.len());
                for (j, p) in ps.iter().enumerate() {
                    out.push(parse_peer(p, &format!("{at}.{peers_key}[{j}]"))?);
                }
                Some(out)
            }
            Some(_) => {
                return Err(err(
                    format!("{at}.{peers_key}"),
                    format!("{peers_key} must be a list"),
                ));
            }
        };
        let ports = match r.get("ports") {
            None | Some(Value::Null) => None,
            Some(Value::Array(ps)) if ps.is_empty() => None,
            Some(Value::Array(ps)) => {
                let mut out = Vec::with_capacity(ps.len());
                for (j, p) in ps.iter().enumerate() {
                    out.push(parse_port(p, &format!("{at}.ports[{j}]"))?);
                }
                Some(out)
            }
            Some(_) => return Err(err(format!("{at}.ports"), "ports must be a list")),
        };
        out.push(Rule { peers, ports });
    }
    Ok(out)
}

fn parse_peer(p: &Value, at: &str) -> Result<PeerSpec, FieldErr> {
    let get = |k: &str| p.get(k).filter(|v| !v.is_null());
    let (ipb, nss, pods) = (get("ipBlock"), get("namespaceSelector"), get("podSelector"));
    if let Some(ipb) = ipb {
        if nss.is_some() || pods.is_some() {
            return Err(err(
                at,
                "a peer may not combine ipBlock with podSelector or namespaceSelector",
            ));
        }
        let cidr_text = ipb
            .get("cidr")
            .and_then(Value::as_str)
            .ok_or_else(|| err(format!("{at}.ipBlock.cidr"), "ipBlock needs a cidr"))?;
        let cidr = ip::parse_cidr(cidr_text).map_err(|why| {
            err(
                format!("{at}.ipBlock.cidr"),
                format!("bad CIDR {cidr_text:?} ({why})"),
            )
        })?;
        let mut except = Vec::new();
        let list = ipb.get("except").and_then(Value::as_array);
        for (k, e) in list.into_iter().flatten().enumerate() {
            let path = format!("{at}.ipBlock.except[{k}]");
            let text = e
                .as_str()
                .ok_or_else(|| err(path.clone(), "except entries must be strings"))?;
            match ip::parse_cidr(text) {
                Ok(Some(r)) => except.push(r),
                Ok(None) => {}
                Err(why) => return Err(err(path, format!("bad CIDR {text:?} ({why})"))),
            }
        }
        return Ok(PeerSpec::Ip(
            cidr.map(|c| ip::subtract(c, &except)).unwrap_or_default(),
        ));
    }
    if nss.is_none() && pods.is_none() {
        return Err(err(
            at,
            "empty peer: give podSelector, namespaceSelector or ipBlock",
        ));
    }
    let ns = nss
        .map(|s| Selector::parse(s, &format!("{at}.namespaceSelector")))
        .transpose()?;
    let pods = pods
        .map(|s| Selector::parse(s, &format!("{at}.podSelector")))
        .transpose()?;
    Ok(PeerSpec::Pods { ns, pods })
}

fn port_number(v: &Value, path: &str) -> Result<u16, FieldErr> {
    let n = v
        .as_i64()
        .ok_or_else(|| err(path, format!("port {v} is not a number")))?;
    u16::try_from(n)
        .ok()
        .filter(|p| *p >= 1)
        .ok_or_else(|| err(path, format!("port {n} is outside 1-65535")))
}

/// A port name as the API server validates it (see
/// [`super::ports::port_name_problems`]); a quoted number gets the hint to
/// write it unquoted.
fn port_name(name: &str, path: &str) -> Result<(), FieldErr> {
    let problems = port_name_problems(name);
    if problems.is_empty() {
        return Ok(());
    }
    let numeric = !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit());
    let message = if numeric {
        format!(
            "port {name:?} is a string, so a port name, and the API server rejects it \
             ({}); write the number unquoted: `port: {name}`",
            problems.join("; ")
        )
    } else {
        format!("bad port name {name:?} ({})", problems.join("; "))
    };
    Err(err(path, message))
}

fn parse_port(p: &Value, at: &str) -> Result<PortSpec, FieldErr> {
    let proto = match p.get("protocol") {
        None | Some(Value::Null) => Protocol::Tcp,
        Some(v) => v.as_str().and_then(Protocol::parse).ok_or_else(|| {
            err(
                format!("{at}.protocol"),
                format!("unknown protocol {v} (want TCP, UDP or SCTP)"),
            )
        })?,
    };
    let end = match p.get("endPort") {
        None | Some(Value::Null) => None,
        Some(v) => Some(port_number(v, &format!("{at}.endPort"))?),
    };
    let val = match p.get("port") {
        None | Some(Value::Null) => {
            if end.is_some() {
                return Err(err(format!("{at}.endPort"), "endPort needs port"));
            }
            PortVal::All
        }
        // An IntOrString: a string is a port *name*, never a number — the
        // API server rejects `port: "8080"` (a name needs a letter).
        Some(Value::String(s)) => {
            port_name(s, &format!("{at}.port"))?;
            if end.is_some() {
                return Err(err(
                    format!("{at}.endPort"),
                    format!("endPort may not be used with the named port {s:?}"),
                ));
            }
            PortVal::Named(s.clone())
        }
        Some(v) => range(port_number(v, &format!("{at}.port"))?, end, at)?,
    };
    Ok(PortSpec { proto, val })
}

fn range(port: u16, end: Option<u16>, at: &str) -> Result<PortVal, FieldErr> {
    match end {
        Some(e) if e < port => Err(err(
            format!("{at}.endPort"),
            format!("endPort {e} is below port {port}"),
        )),
        Some(e) => Ok(PortVal::Range(port, e)),
        None => Ok(PortVal::Range(port, port)),
    }
}
