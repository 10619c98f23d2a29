//! The borrowed, typed view of a pod that the checks read: one pass over the
//! raw JSON pulls out only the fields some check looks at, validates their
//! JSON types (a shape the API server would reject becomes a
//! [`PssError::Invalid`] naming the field) and applies the API-server
//! defaulting that matters (a volume with no source is an `emptyDir`).
//!
//! Missing and `null` are both "unset", as they are after Go decoding.
//! Keys the API does not know are ignored here, as the API server drops them;
//! `unknown.rs` reports them separately.

use serde_json::{Map, Value};

use super::PssError;
pub(crate) use super::path::Path;

fn invalid(path: &Path<'_>, expected: &'static str) -> PssError {
    PssError::Invalid {
        path: path.render(),
        expected,
    }
}

/// `Some(map)` for an object, `None` for missing/null, an error otherwise.
fn object<'a>(
    v: Option<&'a Value>,
    path: &Path<'_>,
) -> Result<Option<&'a Map<String, Value>>, PssError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(invalid(path, "an object")),
    }
}

fn list<'a>(v: Option<&'a Value>, path: &Path<'_>) -> Result<&'a [Value], PssError> {
    match v {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(invalid(path, "a list")),
    }
}

fn boolean(v: &Value, path: &Path<'_>) -> Result<Option<bool>, PssError> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        _ => Err(invalid(path, "a boolean")),
    }
}

fn string<'a>(v: &'a Value, path: &Path<'_>) -> Result<Option<&'a str>, PssError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        _ => Err(invalid(path, "a string")),
    }
}

fn integer(v: &Value, path: &Path<'_>) -> Result<Option<i64>, PssError> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| invalid(path, "an integer")),
        _ => Err(invalid(path, "an integer")),
    }
}

/// A list whose items must all be strings (capabilities).
fn string_list<'a>(v: Option<&'a Value>, path: &Path<'_>) -> Result<&'a [Value], PssError> {
    let items = list(v, path)?;
    for (i, item) in items.iter().enumerate() {
        if !item.is_string() {
            return Err(invalid(&path.index(i), "a string"));
        }
    }
    Ok(items)
}

/// The string field `key` of `m` (`""` when unset).
fn str_field<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    path: &Path<'_>,
) -> Result<&'a str, PssError> {
    match m.get(key) {
        None => Ok(""),
        Some(v) => Ok(string(v, &path.key(key))?.unwrap_or("")),
    }
}

/// Which container list a container is in, in visit order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListKind {
    /// `initContainers`.
    Init,
    /// `containers`.
    Main,
    /// `ephemeralContainers`.
    Ephemeral,
}

impl ListKind {
    /// The pod-spec key of the list.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Self::Init => "initContainers",
            Self::Main => "containers",
            Self::Ephemeral => "ephemeralContainers",
        }
    }
}

/// `seLinuxOptions` (only the fields the policy reads).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SeLinux<'a> {
    pub(crate) kind: &'a str,
    pub(crate) user: &'a str,
    pub(crate) role: &'a str,
}

/// `capabilities`: both lists hold only strings (validated).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caps<'a> {
    pub(crate) add: &'a [Value],
    pub(crate) drop: &'a [Value],
}

/// A pod- or container-level `securityContext` (container-only fields stay
/// `None` at pod level). `Some("")` for a profile object without `type`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SecCtx<'a> {
    pub(crate) run_as_non_root: Option<bool>,
    pub(crate) run_as_user: Option<i64>,
    pub(crate) seccomp: Option<&'a str>,
    pub(crate) se_linux: Option<SeLinux<'a>>,
    pub(crate) app_armor: Option<&'a str>,
    pub(crate) host_process: Option<bool>,
    pub(crate) privileged: Option<bool>,
    pub(crate) allow_privilege_escalation: Option<bool>,
    pub(crate) caps: Option<Caps<'a>>,
    pub(crate) proc_mount: Option<&'a str>,
    /// Pod level only; every item is an object (validated).
    pub(crate) sysctls: &'a [Value],
}

/// The probe and lifecycle handlers whose `host` the policy reads, as
/// (handler path under the container, `httpGet`/`tcpSocket`).
pub(crate) const HOST_FIELDS: [(&str, &str); 10] = [
    ("livenessProbe", "httpGet"),
    ("livenessProbe", "tcpSocket"),
    ("readinessProbe", "httpGet"),
    ("readinessProbe", "tcpSocket"),
    ("startupProbe", "httpGet"),
    ("startupProbe", "tcpSocket"),
    ("lifecycle.postStart", "httpGet"),
    ("lifecycle.postStart", "tcpSocket"),
    ("lifecycle.preStop", "httpGet"),
    ("lifecycle.preStop", "tcpSocket"),
];

/// One container of any of the three lists.
#[derive(Debug, Clone)]
pub(crate) struct Container<'a> {
    pub(crate) list: ListKind,
    pub(crate) index: usize,
    pub(crate) name: &'a str,
    pub(crate) sc: SecCtx<'a>,
    /// Non-zero `hostPort`s as (index in `ports`, value).
    pub(crate) host_ports: Vec<(usize, i64)>,
    /// Non-empty hosts, by position in [`HOST_FIELDS`].
    pub(crate) hosts: [Option<&'a str>; 10],
}

impl Container<'_> {
    /// The container's path, e.g. `spec.containers[0]`.
    pub(crate) fn path(&self, spec_path: &str) -> String {
        format!("{spec_path}.{}[{}]", self.list.key(), self.index)
    }
}

/// A volume: its name and the JSON key of its source (defaulted to
/// `emptyDir` when it has none).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Volume<'a> {
    pub(crate) name: &'a str,
    pub(crate) has_host_path: bool,
    /// `None` when an allowed restricted source is present; otherwise the
    /// restricted type name as upstream reports it.
    pub(crate) restricted_type: Option<(&'static str, &'static str)>,
}

/// Volume sources the restricted policy allows (JSON keys).
const ALLOWED_SOURCES: [&str; 9] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// Restricted volume sources in upstream's switch order:
/// (JSON key, type name in messages).
const RESTRICTED_SOURCES: [(&str, &str); 21] = [
    ("hostPath", "hostPath"),
    ("gcePersistentDisk", "gcePersistentDisk"),
    ("awsElasticBlockStore", "awsElasticBlockStore"),
    ("gitRepo", "gitRepo"),
    ("nfs", "nfs"),
    ("iscsi", "iscsi"),
    ("glusterfs", "glusterfs"),
    ("rbd", "rbd"),
    ("flexVolume", "flexVolume"),
    ("cinder", "cinder"),
    ("cephfs", "cephfs"),
    ("flocker", "flocker"),
    ("fc", "fc"),
    ("azureFile", "azureFile"),
    ("vsphereVolume", "vsphereVolume"),
    ("quobyte", "quobyte"),
    ("azureDisk", "azureDisk"),
    ("photonPersistentDisk", "photonPersistentDisk"),
    ("portworxVolume", "portworxVolume"),
    ("scaleIO", "scaleIO"),
    ("storageos", "storageos"),
];

/// The pod as the checks see it.
#[derive(Debug, Clone)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "mirrors the pod spec's boolean fields"
)]
pub(crate) struct Pod<'a> {
    pub(crate) spec_path: &'static str,
    pub(crate) metadata_path: &'static str,
    /// `metadata.annotations`; every value is a string (validated).
    pub(crate) annotations: Option<&'a Map<String, Value>>,
    pub(crate) host_network: bool,
    pub(crate) host_pid: bool,
    pub(crate) host_ipc: bool,
    pub(crate) host_users: Option<bool>,
    /// `spec.os.name == "windows"`.
    pub(crate) windows: bool,
    pub(crate) sc: SecCtx<'a>,
    pub(crate) volumes: Vec<Volume<'a>>,
    pub(crate) containers: Vec<Container<'a>>,
}

impl<'a> Pod<'a> {
    /// Reads and validates the pod from its metadata and spec.
    pub(crate) fn parse(
        metadata: &'a Value,
        spec: &'a Value,
        metadata_path: &'static str,
        spec_path: &'static str,
    ) -> Result<Self, PssError> {
        let mut pod = Pod {
            spec_path,
            metadata_path,
            annotations: None,
            host_network: false,
            host_pid: false,
            host_ipc: false,
            host_users: None,
            windows: false,
            sc: SecCtx::default(),
            volumes: Vec::new(),
            containers: Vec::new(),
        };
        let mp = Path::root(metadata_path);
        if let Some(meta) = object(Some(metadata), &mp)? {
            let ap = mp.key("annotations");
            if let Some(ann) = object(meta.get("annotations"), &ap)? {
                for (k, v) in ann {
                    if !v.is_string() {
                        return Err(invalid(&ap.key(k), "a string"));
                    }
                }
                pod.annotations = Some(ann);
            }
        }
        let sp = Path::root(spec_path);
        let Some(spec) = object(Some(spec), &sp)? else {
            return Ok(pod);
        };
        for (key, v) in spec {
            let p = sp.key(key);
            match key.as_str() {
                "hostNetwork" => pod.host_network = boolean(v, &p)?.unwrap_or(false),
                "hostPID" => pod.host_pid = boolean(v, &p)?.unwrap_or(false),
                "hostIPC" => pod.host_ipc = boolean(v, &p)?.unwrap_or(false),
                "hostUsers" => pod.host_users = boolean(v, &p)?,
                "os" => {
                    if let Some(os) = object(Some(v), &p)? {
                        pod.windows = str_field(os, "name", &p)? == "windows";
                    }
                }
                "securityContext" => {
                    if let Some(m) = object(Some(v), &p)? {
                        pod.sc = sec_ctx(m, &p, true)?;
                    }
                }
                "volumes" => {
                    let items = list(Some(v), &p)?;
                    pod.volumes.reserve(items.len());
                    for (i, item) in items.iter().enumerate() {
                        pod.volumes.push(volume(item, &p.index(i))?);
                    }
                }
                "initContainers" => containers(&mut pod.containers, v, &p, ListKind::Init)?,
                "containers" => containers(&mut pod.containers, v, &p, ListKind::Main)?,
                "ephemeralContainers" => {
                    containers(&mut pod.containers, v, &p, ListKind::Ephemeral)?;
                }
                _ => {}
            }
        }
        // Visit order is init, regular, ephemeral whatever the key order.
        if !pod.containers.is_sorted_by_key(|c| c.list as u8) {
            pod.containers.sort_by_key(|c| c.list as u8);
        }
        Ok(pod)
    }
}

fn containers<'a>(
    out: &mut Vec<Container<'a>>,
    v: &'a Value,
    path: &Path<'_>,
    list_kind: ListKind,
) -> Result<(), PssError> {
    let items = list(Some(v), path)?;
    out.reserve(items.len());
    for (index, item) in items.iter().enumerate() {
        let cp = path.index(index);
        let Some(m) = object(Some(item), &cp)? else {
            return Err(invalid(&cp, "an object"));
        };
        let mut c = Container {
            list: list_kind,
            index,
            name: "",
            sc: SecCtx::default(),
            host_ports: Vec::new(),
            hosts: [None; 10],
        };
        for (key, v) in m {
            let p = cp.key(key);
            match key.as_str() {
                "name" => c.name = string(v, &p)?.unwrap_or(""),
                "securityContext" => {
                    if let Some(sc) = object(Some(v), &p)? {
                        c.sc = sec_ctx(sc, &p, false)?;
                    }
                }
                "ports" => {
                    for (i, port) in list(Some(v), &p)?.iter().enumerate() {
                        let pp = p.index(i);
                        let Some(pm) = object(Some(port), &pp)? else {
                            return Err(invalid(&pp, "an object"));
                        };
                        if let Some(hp) = pm.get("hostPort") {
                            let hp = integer(hp, &pp.key("hostPort"))?.unwrap_or(0);
                            if hp != 0 {
                                c.host_ports.push((i, hp));
                            }
                        }
                    }
                }
                "livenessProbe" | "readinessProbe" | "startupProbe" => {
                    let base = match key.as_str() {
                        "livenessProbe" => 0,
                        "readinessProbe" => 2,
                        _ => 4,
                    };
                    if let Some(probe) = object(Some(v), &p)? {
                        handler_hosts(probe, &p, &mut c.hosts[base..base + 2])?;
                    }
                }
                "lifecycle" => {
                    if let Some(lc) = object(Some(v), &p)? {
                        for (name, base) in [("postStart", 6), ("preStop", 8)] {
                            let hp = p.key(name);
                            if let Some(h) = object(lc.get(name), &hp)? {
                                handler_hosts(h, &hp, &mut c.hosts[base..base + 2])?;
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        out.push(c);
    }
    Ok(())
}

/// Fills `out[0]` with `httpGet.host` and `out[1]` with `tcpSocket.host`
/// when set and non-empty.
fn handler_hosts<'a>(
    handler: &'a Map<String, Value>,
    path: &Path<'_>,
    out: &mut [Option<&'a str>],
) -> Result<(), PssError> {
    for (slot, key) in out.iter_mut().zip(["httpGet", "tcpSocket"]) {
        let p = path.key(key);
        if let Some(h) = object(handler.get(key), &p)? {
            let host = str_field(h, "host", &p)?;
            if !host.is_empty() {
                *slot = Some(host);
            }
        }
    }
    Ok(())
}

fn volume<'a>(v: &'a Value, path: &Path<'_>) -> Result<Volume<'a>, PssError> {
    let Some(m) = object(Some(v), path)? else {
        return Err(invalid(path, "an object"));
    };
    // One pass over the keys: an allowed source wins; otherwise the first
    // restricted source in upstream's switch order; no source at all is
    // defaulted to emptyDir by the API server.
    let mut allowed = false;
    let mut has_host_path = false;
    let mut restricted: Option<usize> = None;
    for (key, value) in m {
        if value.is_null() {
            continue;
        }
        if ALLOWED_SOURCES.contains(&key.as_str()) {
            allowed = true;
        } else if let Some(i) = RESTRICTED_SOURCES.iter().position(|(k, _)| *k == key) {
            has_host_path |= i == 0;
            restricted = Some(restricted.map_or(i, |r| r.min(i)));
        }
    }
    let restricted_type = if allowed {
        None
    } else {
        restricted.and_then(|i| RESTRICTED_SOURCES.get(i).copied())
    };
    Ok(Volume {
        name: str_field(m, "name", path)?,
        has_host_path,
        restricted_type,
    })
}

fn sec_ctx<'a>(
    m: &'a Map<String, Value>,
    path: &Path<'_>,
    pod: bool,
) -> Result<SecCtx<'a>, PssError> {
    let mut sc = SecCtx::default();
    for (key, v) in m {
        let p = path.key(key);
        match (key.as_str(), pod) {
            ("runAsNonRoot", _) => sc.run_as_non_root = boolean(v, &p)?,
            ("runAsUser", _) => sc.run_as_user = integer(v, &p)?,
            ("seccompProfile", _) => {
                if let Some(o) = object(Some(v), &p)? {
                    sc.seccomp = Some(str_field(o, "type", &p)?);
                }
            }
            ("appArmorProfile", _) => {
                if let Some(o) = object(Some(v), &p)? {
                    sc.app_armor = Some(str_field(o, "type", &p)?);
                }
            }
            ("seLinuxOptions", _) => {
                if let Some(o) = object(Some(v), &p)? {
                    sc.se_linux = Some(SeLinux {
                        kind: str_field(o, "type", &p)?,
                        user: str_field(o, "user", &p)?,
                        role: str_field(o, "role", &p)?,
                    });
                }
            }
            ("windowsOptions", _) => {
                if let Some(o) = object(Some(v), &p)?
                    && let Some(hp) = o.get("hostProcess")
                {
                    sc.host_process = boolean(hp, &p.key("hostProcess"))?;
                }
            }
            ("sysctls", true) => {
                let items = list(Some(v), &p)?;
                for (i, item) in items.iter().enumerate() {
                    let ip = p.index(i);
                    let Some(s) = object(Some(item), &ip)? else {
                        return Err(invalid(&ip, "an object"));
                    };
                    str_field(s, "name", &ip)?;
                }
                sc.sysctls = items;
            }
            ("privileged", false) => sc.privileged = boolean(v, &p)?,
            ("allowPrivilegeEscalation", false) => sc.allow_privilege_escalation = boolean(v, &p)?,
            ("procMount", false) => sc.proc_mount = string(v, &p)?,
            ("capabilities", false) => {
                if let Some(o) = object(Some(v), &p)? {
                    sc.caps = Some(Caps {
                        add: string_list(o.get("add"), &p.key("add"))?,
                        drop: string_list(o.get("drop"), &p.key("drop"))?,
                    });
                }
            }
            _ => {}
        }
    }
    Ok(sc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sourceless_volume_defaults_to_empty_dir() {
        let v = json!({"name": "v"});
        let vol = volume(&v, &Path::root("spec.volumes[0]")).expect("volume");
        assert!(vol.restricted_type.is_none());
        let v = json!({"name": "v", "hostPath": {"path": "/"}});
        let vol = volume(&v, &Path::root("spec.volumes[0]")).expect("volume");
        assert_eq!(vol.restricted_type, Some(("hostPath", "hostPath")));
    }

    #[test]
    fn wrong_shapes_name_the_field() {
        let spec = json!({"containers": {"name": "x"}});
        let err = Pod::parse(&Value::Null, &spec, "metadata", "spec").expect_err("not a list");
        assert_eq!(err.to_string(), "invalid spec.containers: must be a list");
    }
}
