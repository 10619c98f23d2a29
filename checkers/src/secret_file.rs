//! The `secret_file:` checker: does the app read a Secret's value from a
//! file that comes from that Secret, with no container of the pod getting
//! the Secret from its environment?
//!
//! `{target: deployment/web, secret: db-credentials, key: password, path:
//! /etc/db/password}` passes when, in each app container (every entry of
//! `containers`, or the ones the check names):
//! - the deepest volume mount at or above `path` (the runtime mounts the
//!   deeper one over the shallower, whatever their order) is a volume that
//!   puts the key there: a `secret` volume of that Secret (every key as a
//!   file named after it, or `items` mapping key → path), or a `projected`
//!   volume whose `secret` source is that Secret (the last source writing
//!   the path wins, as in the kubelet); mount paths are compared normalised
//!   (`/etc/db/`, `//etc/db` and `/etc/db` are one path);
//! - a `subPath` mount (the mount *is* the file, or a folder inside the
//!   volume) counts too, with a warning: a subPath mount never sees an
//!   updated Secret;
//! - `optional: true` on the volume or source is a warning: a missing
//!   Secret or key then gives a pod without the file instead of a pod that
//!   waits for it;
//! - when the Secret itself is among the objects, it has the key;
//!
//! and when no container — init containers, app containers, and the
//! ephemeral containers of a bare Pod — takes anything from that Secret
//! through `env[*].valueFrom.secretKeyRef` or `envFrom[*].secretRef`. Every
//! key of the Secret counts (it holds the credentials as a whole); an
//! environment variable from a *different* Secret is a warning, not a
//! failure: it leaks the same way, but the task is about this Secret.
//!
//! A file that an init container copies out of the Secret into an
//! `emptyDir` does not count: the check follows volume → mount, and the
//! emptyDir is not the Secret.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Finding, KubeObject, Target, Verdict};

/// A `secret_file:` check as written in lab.yaml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretFileCheck {
    /// The workload, as `kind/name`.
    #[schemars(with = "String")]
    pub target: Target,
    /// The workload's namespace; any namespace when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The Secret's name (in the workload's namespace).
    pub secret: String,
    /// The key of the Secret whose value the app reads.
    pub key: String,
    /// The absolute path of the file the app reads the value from (what
    /// e.g. `DB_PASSWORD_FILE` points at).
    pub path: String,
    /// The containers that read the file (names of `containers` or
    /// `initContainers`); every entry of `containers` when unset.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<String>,
}

/// What is wrong with the check as written, if anything (for validation).
pub fn check_problem(check: &SecretFileCheck) -> Option<String> {
    if !check.path.starts_with('/') {
        return Some(format!(
            "secret_file check: path {:?} must be absolute",
            check.path
        ));
    }
    if components(&check.path).is_empty() {
        return Some("secret_file check: path must name a file, not /".into());
    }
    if check.secret.is_empty() {
        return Some("secret_file check: secret is empty".into());
    }
    let key_ok = !check.key.is_empty()
        && check
            .key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
    if !key_ok {
        return Some(format!(
            "secret_file check: key {:?} is not a valid Secret key (letters, digits, `-`, `_`, `.`)",
            check.key
        ));
    }
    None
}

/// The components of a path, `.` and empty ones dropped, `..` applied.
fn components(p: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

fn show(c: &[&str]) -> String {
    format!("/{}", c.join("/"))
}

/// Grades a `secret_file:` check.
pub fn grade(check: &SecretFileCheck, objects: &[KubeObject]) -> Verdict {
    let found = check.target.find_in(check.namespace.as_deref(), objects);
    if found.is_empty() {
        return check.target.not_found(check.namespace.as_deref(), objects);
    }
    let mut out = Vec::new();
    for obj in found {
        let Some(t) = obj.pod_template() else {
            out.push(
                Finding::error(format!(
                    "{} is not a workload: it runs no pod",
                    obj.display_name()
                ))
                .about(obj),
            );
            continue;
        };
        let pod = Pod {
            check,
            obj,
            spec: t.spec,
            spec_path: t.spec_path,
        };
        pod.readers(&mut out);
        pod.environment(&mut out);
        pod.secret_has_key(objects, &mut out);
    }
    Verdict::from_findings(out)
}

struct Pod<'a> {
    check: &'a SecretFileCheck,
    obj: &'a KubeObject,
    spec: &'a Value,
    spec_path: &'static str,
}

/// Who writes a path inside a volume.
enum Writer {
    /// The check's Secret, this key.
    Key(String),
    /// Something else, said in words.
    Other(String),
}

impl Pod<'_> {
    fn err(&self, msg: String, at: String) -> Finding {
        Finding::error(msg).about(self.obj).at(at)
    }

    fn warn(&self, msg: String, at: String) -> Finding {
        Finding::warning(msg).about(self.obj).at(at)
    }

    fn list(&self, name: &str) -> &[Value] {
        self.spec
            .get(name)
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
    }

    /// Every app container named by the check (or all of `containers`)
    /// reads the key at `path` from the Secret.
    fn readers(&self, out: &mut Vec<Finding>) {
        let mut readers: Vec<(&Value, String)> = Vec::new();
        if self.check.containers.is_empty() {
            for (i, c) in self.list("containers").iter().enumerate() {
                readers.push((c, format!("{}.containers[{i}]", self.spec_path)));
            }
            if readers.is_empty() {
                out.push(self.err(
                    "the pod has no containers: nothing reads the file".into(),
                    format!("{}.containers", self.spec_path),
                ));
            }
        }
        for want in &self.check.containers {
            let hit = ["containers", "initContainers"].into_iter().find_map(|l| {
                self.list(l).iter().enumerate().find_map(|(i, c)| {
                    (c.get("name").and_then(Value::as_str) == Some(want.as_str()))
                        .then(|| (c, format!("{}.{l}[{i}]", self.spec_path)))
                })
            });
            match hit {
                Some(r) => readers.push(r),
                None => out.push(self.err(
                    format!("the pod has no container named {want:?}, which must read the file"),
                    format!("{}.containers", self.spec_path),
                )),
            }
        }
        for (c, path) in readers {
            self.reader(c, &path, out);
        }
    }

    fn reader(&self, c: &Value, cpath: &str, out: &mut Vec<Finding>) {
        let check = self.check;
        let name = c.get("name").and_then(Value::as_str).unwrap_or("");
        let file = components(&check.path);
        let shown = show(&file);
        let from = format!("Secret {} key {}", check.secret, check.key);
        let mounts: Vec<(usize, &Value, Vec<&str>)> = c
            .get("volumeMounts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(i, m)| {
                let mp = components(m.get("mountPath")?.as_str()?);
                file.starts_with(&mp).then_some((i, m, mp))
            })
            .collect();
        // A volume from the Secret that this container does not mount at
        // all, said when the file turns out to come from elsewhere.
        let mounted: Vec<&str> = c
            .get("volumeMounts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|m| m.get("name").and_then(Value::as_str))
            .collect();
        let unmounted = self
            .secret_volumes()
            .find(|v| !mounted.contains(v))
            .map_or(String::new(), |v| {
                format!(
                    "; the pod defines volume {v:?} from the Secret, but container {name:?} does not mount it"
                )
            });
        let Some(depth) = mounts.iter().map(|(_, _, mp)| mp.len()).max() else {
            out.push(self.err(
                format!(
                    "container {name:?}: nothing is mounted at {shown} or a folder above it, so the file there comes from the image, not from {from}{unmounted}"
                ),
                format!("{cpath}.volumeMounts"),
            ));
            return;
        };
        let deepest: Vec<&(usize, &Value, Vec<&str>)> = mounts
            .iter()
            .filter(|(_, _, mp)| mp.len() == depth)
            .collect();
        let (mi, mount, mp) = deepest[0];
        let mpath = format!("{cpath}.volumeMounts[{mi}]");
        if let Some((j, _, _)) = deepest.get(1) {
            out.push(self.err(
                format!(
                    "container {name:?} mounts two volumes at {} (volumeMounts[{mi}] and [{j}]): which one it sees is up to the runtime",
                    show(mp)
                ),
                format!("{mpath}.mountPath"),
            ));
            return;
        }
        let rel = &file[mp.len()..];
        let vol_name = mount.get("name").and_then(Value::as_str).unwrap_or("");
        let Some((vi, volume)) = self
            .list("volumes")
            .iter()
            .enumerate()
            .find(|(_, v)| v.get("name").and_then(Value::as_str) == Some(vol_name))
        else {
            out.push(self.err(
                format!(
                    "container {name:?} mounts volume {vol_name:?}, which the pod does not define: the API server rejects the pod"
                ),
                format!("{mpath}.name"),
            ));
            return;
        };
        let vpath = format!("{}.volumes[{vi}]", self.spec_path);
        let sub = match (
            mount.get("subPath").and_then(Value::as_str),
            mount.get("subPathExpr").and_then(Value::as_str),
        ) {
            (Some(sp), _) if !sp.is_empty() => Some((sp, "subPath")),
            (_, Some(expr)) if !expr.is_empty() => {
                if expr.contains("$(") {
                    out.push(self.err(
                        format!(
                            "container {name:?} mounts {vol_name:?} with subPathExpr {expr:?}: which file that is depends on the environment, so seclab cannot tell it is {from}; use subPath or mount the volume's folder"
                        ),
                        format!("{mpath}.subPathExpr"),
                    ));
                    return;
                }
                Some((expr, "subPathExpr"))
            }
            _ => None,
        };
        let mut inner: Vec<&str> = sub.map(|(sp, _)| components(sp)).unwrap_or_default();
        inner.extend_from_slice(rel);
        if inner.is_empty() && !self.is_ours(volume) {
            out.push(self.err(
                format!(
                    "container {name:?}: {shown} is volume {vol_name:?}, which is {}, not {from}{unmounted}",
                    volume_words(volume)
                ),
                format!("{mpath}.name"),
            ));
            return;
        }
        if inner.is_empty() {
            out.push(self.err(
                format!(
                    "container {name:?} mounts the whole volume {vol_name:?} at {shown}, so {shown} is a folder holding the volume's files, not the file itself; mount it at the folder above, or use subPath: {}",
                    check.key
                ),
                format!("{mpath}.mountPath"),
            ));
            return;
        }
        let inner_s = inner.join("/");
        let writer = self.writer(volume, &vpath, &inner_s, out);
        let at_mount = show(mp);
        match writer {
            Some(Writer::Key(got)) if got == check.key => {
                if let Some((sp, field)) = sub {
                    out.push(self.warn(
                        format!(
                            "container {name:?} mounts {from} with {field} {sp:?}: the file is right, but a {field} mount never sees an updated Secret (the kubelet refreshes Secret volumes, not {field} mounts); mount the folder to get rotations"
                        ),
                        format!("{mpath}.{field}"),
                    ));
                }
            }
            Some(Writer::Key(got)) => out.push(self.err(
                format!(
                    "container {name:?}: {shown} holds key {got:?} of Secret {}, not {:?}",
                    check.secret, check.key
                ),
                format!("{vpath}.name"),
            )),
            Some(Writer::Other(what)) => out.push(self.err(
                format!(
                    "container {name:?}: {shown} comes from volume {vol_name:?} mounted at {at_mount}, which is {what}, not {from}{unmounted}"
                ),
                format!("{mpath}.name"),
            )),
            None => out.push(self.err(
                format!(
                    "container {name:?}: volume {vol_name:?} mounted at {at_mount} puts nothing at {shown} ({inner_s} inside the volume), so there is no file from {from} there"
                ),
                format!("{vpath}.name"),
            )),
        }
    }

    /// Volumes of the pod from the check's Secret, by name.
    fn secret_volumes(&self) -> impl Iterator<Item = &str> {
        let secret = self.check.secret.as_str();
        self.list("volumes").iter().filter_map(move |v| {
            let direct = v.pointer("/secret/secretName").and_then(Value::as_str) == Some(secret);
            let projected = v
                .pointer("/projected/sources")
                .and_then(Value::as_array)
                .is_some_and(|ss| {
                    ss.iter()
                        .any(|s| s.pointer("/secret/name").and_then(Value::as_str) == Some(secret))
                });
            (direct || projected)
                .then(|| v.get("name").and_then(Value::as_str))
                .flatten()
        })
    }

    /// Whether `volume` holds the check's Secret (directly or projected).
    fn is_ours(&self, volume: &Value) -> bool {
        let name = volume.get("name").and_then(Value::as_str);
        name.is_some() && self.secret_volumes().any(|n| Some(n) == name)
    }

    /// Who writes `inner` (a relative path) in `volume`, `None` when nobody.
    fn writer(
        &self,
        volume: &Value,
        vpath: &str,
        inner: &str,
        out: &mut Vec<Finding>,
    ) -> Option<Writer> {
        if let Some(s) = volume.get("secret") {
            let name = s.get("secretName").and_then(Value::as_str).unwrap_or("");
            return self.keyed(
                "Secret",
                name,
                s,
                &format!("{vpath}.secret"),
                inner,
                true,
                out,
            );
        }
        if let Some(p) = volume.get("projected") {
            let mut last = None;
            let sources = p
                .get("sources")
                .and_then(Value::as_array)
                .map_or(&[][..], Vec::as_slice);
            for (i, src) in sources.iter().enumerate() {
                let spath = format!("{vpath}.projected.sources[{i}]");
                let w = if let Some(s) = src.get("secret") {
                    let name = s.get("name").and_then(Value::as_str).unwrap_or("");
                    self.keyed(
                        "Secret",
                        name,
                        s,
                        &format!("{spath}.secret"),
                        inner,
                        true,
                        out,
                    )
                } else if let Some(cm) = src.get("configMap") {
                    let name = cm.get("name").and_then(Value::as_str).unwrap_or("");
                    self.keyed("ConfigMap", name, cm, &spath, inner, false, out)
                } else if let Some(d) = src.get("downwardAPI") {
                    items_path(d, inner)
                        .then(|| Writer::Other("a downwardAPI item (pod metadata)".into()))
                } else {
                    [
                        "serviceAccountToken",
                        "clusterTrustBundle",
                        "podCertificate",
                    ]
                    .into_iter()
                    .find(|k| {
                        src.get(*k)
                            .and_then(|x| x.get("path"))
                            .and_then(Value::as_str)
                            .is_some_and(|p| components(p).join("/") == inner)
                    })
                    .map(|k| Writer::Other(format!("a projected {k}")))
                };
                // The last source that writes the path wins.
                if w.is_some() {
                    last = w;
                }
            }
            return last;
        }
        Some(Writer::Other(volume_words(volume)))
    }

    /// Who writes `inner` in a Secret or ConfigMap source `s` (with or
    /// without `items`).
    #[allow(
        clippy::too_many_arguments,
        reason = "one source and where it sits, kept apart for the messages"
    )]
    fn keyed(
        &self,
        kind: &str,
        name: &str,
        s: &Value,
        spath: &str,
        inner: &str,
        is_secret: bool,
        out: &mut Vec<Finding>,
    ) -> Option<Writer> {
        let ours = is_secret && name == self.check.secret;
        let key = match s.get("items").and_then(Value::as_array) {
            Some(items) => items.iter().find_map(|it| {
                let p = it.get("path").and_then(Value::as_str)?;
                (components(p).join("/") == inner).then(|| {
                    it.get("key")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned()
                })
            })?,
            // Without items every key is a file named after it.
            None if !inner.contains('/') => {
                if !ours {
                    // Another source's keys are unknown: it writes the file
                    // only if it has such a key.
                    return None;
                }
                inner.to_owned()
            }
            None => return None,
        };
        if !ours {
            return Some(Writer::Other(format!("key {key:?} of {kind} {name}")));
        }
        if s.get("optional").and_then(Value::as_bool) == Some(true) {
            out.push(self.warn(
                format!(
                    "the Secret {name} is optional here: if it or its key {key} is missing, the pod starts without the file instead of waiting for it"
                ),
                format!("{spath}.optional"),
            ));
        }
        Some(Writer::Key(key))
    }

    /// No container gets the Secret from its environment.
    fn environment(&self, out: &mut Vec<Finding>) {
        let secret = self.check.secret.as_str();
        for (list, label) in [
            ("initContainers", "init container"),
            ("containers", "container"),
            ("ephemeralContainers", "ephemeral container"),
        ] {
            for (i, c) in self.list(list).iter().enumerate() {
                let cpath = format!("{}.{list}[{i}]", self.spec_path);
                let name = c.get("name").and_then(Value::as_str).unwrap_or("");
                for (j, e) in c
                    .get("env")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let Some(r) = e.pointer("/valueFrom/secretKeyRef") else {
                        continue;
                    };
                    let var = e.get("name").and_then(Value::as_str).unwrap_or("");
                    let s = r.get("name").and_then(Value::as_str).unwrap_or("");
                    let k = r.get("key").and_then(Value::as_str).unwrap_or("");
                    let at = format!("{cpath}.env[{j}].valueFrom.secretKeyRef.name");
                    if s == secret {
                        out.push(self.err(
                            format!(
                                "{label} {name:?} gets {var} from key {k} of Secret {secret} through its environment: every child process inherits it, /proc/<pid>/environ shows it, and it never changes when the Secret does; read it from the mounted file"
                            ),
                            at,
                        ));
                    } else {
                        out.push(self.warn(
                            format!(
                                "{label} {name:?} gets {var} from Secret {s} through its environment; that leaks the same way (not graded here: this check is about Secret {secret})"
                            ),
                            at,
                        ));
                    }
                }
                for (j, e) in c
                    .get("envFrom")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let Some(s) = e.pointer("/secretRef/name").and_then(Value::as_str) else {
                        continue;
                    };
                    let at = format!("{cpath}.envFrom[{j}].secretRef.name");
                    if s == secret {
                        out.push(self.err(
                            format!(
                                "{label} {name:?} gets every key of Secret {secret} as environment variables (envFrom): every child process inherits them and /proc/<pid>/environ shows them; read the mounted file instead"
                            ),
                            at,
                        ));
                    } else {
                        out.push(self.warn(
                            format!(
                                "{label} {name:?} gets Secret {s} as environment variables (envFrom); that leaks the same way (not graded here: this check is about Secret {secret})"
                            ),
                            at,
                        ));
                    }
                }
            }
        }
    }

    /// When the Secret is among the objects, it has the key.
    fn secret_has_key(&self, objects: &[KubeObject], out: &mut Vec<Finding>) {
        let ns = self.obj.namespace().unwrap_or("default");
        let key = self.check.key.as_str();
        for s in objects.iter().filter(|o| {
            o.kind() == "Secret"
                && o.name() == self.check.secret
                && o.namespace().unwrap_or("default") == ns
        }) {
            let has = ["data", "stringData"]
                .iter()
                .any(|f| s.value.get(*f).and_then(|d| d.get(key)).is_some());
            if !has {
                out.push(
                    Finding::error(format!(
                        "Secret {} has no key {key}: the file would not exist",
                        self.check.secret
                    ))
                    .about(s)
                    .at("data"),
                );
            }
        }
    }
}

/// What a volume is, in words.
fn volume_words(volume: &Value) -> String {
    if let Some(name) = volume.pointer("/secret/secretName").and_then(Value::as_str) {
        return format!("the Secret {name}");
    }
    if volume.get("projected").is_some() {
        return "a projected volume".to_owned();
    }
    let kind = [
        "emptyDir",
        "configMap",
        "downwardAPI",
        "hostPath",
        "persistentVolumeClaim",
        "ephemeral",
        "image",
        "csi",
        "nfs",
    ]
    .into_iter()
    .find(|k| volume.get(*k).is_some())
    .unwrap_or("emptyDir");
    match kind {
        "emptyDir" => "an emptyDir (an empty scratch folder)".to_owned(),
        k => format!("a {k} volume"),
    }
}

/// Whether a downwardAPI (or similar) source has an item at `inner`.
fn items_path(src: &Value, inner: &str) -> bool {
    src.get("items")
        .and_then(Value::as_array)
        .is_some_and(|items| {
            items.iter().any(|it| {
                it.get("path")
                    .and_then(Value::as_str)
                    .is_some_and(|p| components(p).join("/") == inner)
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Severity;
    use serde_json::json;

    fn check() -> SecretFileCheck {
        serde_json::from_value(
            json!({"target": "deployment/web", "secret": "db-credentials",
            "key": "password", "path": "/etc/db/password"}),
        )
        .expect("check")
    }

    fn web(spec: &Value) -> KubeObject {
        KubeObject::new(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "sa-token"},
            "spec": {"template": {"spec": spec}}}))
    }

    fn grade_spec(spec: &Value) -> Verdict {
        grade(&check(), &[web(spec)])
    }

    fn errors(v: &Verdict) -> Vec<&str> {
        v.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.message.as_str())
            .collect()
    }

    fn warnings(v: &Verdict) -> Vec<&str> {
        v.findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .map(|f| f.message.as_str())
            .collect()
    }

    /// One container `web` with these mounts, and these volumes.
    fn pod(mounts: &Value, volumes: &Value) -> Value {
        json!({"containers": [{"name": "web", "image": "app", "volumeMounts": mounts}],
            "volumes": volumes})
    }

    fn secret_volume() -> Value {
        json!([{"name": "db", "secret": {"secretName": "db-credentials"}}])
    }

    #[test]
    fn a_secret_volume_at_the_folder_passes_however_the_path_is_written() {
        for mp in ["/etc/db", "/etc/db/", "//etc//db", "/etc/./db", "/etc"] {
            let items = if mp == "/etc" {
                json!([{"name": "db", "secret": {"secretName": "db-credentials",
                    "items": [{"key": "password", "path": "db/password"}]}}])
            } else {
                secret_volume()
            };
            let v = grade_spec(&pod(&json!([{"name": "db", "mountPath": mp}]), &items));
            assert!(v.passed() && v.findings.is_empty(), "{mp}: {v:?}");
        }
    }

    #[test]
    fn items_and_projected_sources_pass_when_they_put_the_key_there() {
        let mounts = json!([{"name": "db", "mountPath": "/etc/db", "readOnly": true}]);
        let items = json!([{"name": "db", "secret": {"secretName": "db-credentials",
            "items": [{"key": "password", "path": "password"}]}}]);
        assert!(grade_spec(&pod(&mounts, &items)).passed());
        let projected = json!([{"name": "db", "projected": {"sources": [
            {"configMap": {"name": "web-config"}},
            {"secret": {"name": "db-credentials"}}]}}]);
        let v = grade_spec(&pod(&mounts, &projected));
        assert!(v.passed() && v.findings.is_empty(), "{v:?}");
        let projected_items = json!([{"name": "db", "projected": {"sources": [
            {"secret": {"name": "db-credentials", "items": [{"key": "password", "path": "password"}]}}]}}]);
        assert!(grade_spec(&pod(&mounts, &projected_items)).passed());
        // A later source that writes the same path wins.
        let overwritten = json!([{"name": "db", "projected": {"sources": [
            {"secret": {"name": "db-credentials"}},
            {"configMap": {"name": "web-config", "items": [{"key": "x", "path": "password"}]}}]}}]);
        let v = grade_spec(&pod(&mounts, &overwritten));
        assert!(errors(&v)[0].contains("ConfigMap web-config"), "{v:?}");
    }

    #[test]
    fn the_wrong_key_or_secret_or_no_such_file_fails() {
        let mounts = json!([{"name": "db", "mountPath": "/etc/db"}]);
        let wrong_key = json!([{"name": "db", "secret": {"secretName": "db-credentials",
            "items": [{"key": "username", "path": "password"}]}}]);
        assert!(
            errors(&grade_spec(&pod(&mounts, &wrong_key)))[0].contains("holds key \"username\"")
        );
        let elsewhere = json!([{"name": "db", "secret": {"secretName": "db-credentials",
            "items": [{"key": "password", "path": "pw"}]}}]);
        assert!(
            errors(&grade_spec(&pod(&mounts, &elsewhere)))[0]
                .contains("puts nothing at /etc/db/password")
        );
        let other = json!([{"name": "db", "secret": {"secretName": "web-tls"}}]);
        assert!(errors(&grade_spec(&pod(&mounts, &other)))[0].contains("puts nothing"));
        let other_items = json!([{"name": "db", "secret": {"secretName": "web-tls",
            "items": [{"key": "password", "path": "password"}]}}]);
        assert!(
            errors(&grade_spec(&pod(&mounts, &other_items)))[0]
                .contains("key \"password\" of Secret web-tls")
        );
        let v = grade_spec(&pod(
            &json!([{"name": "db", "mountPath": "/etc/secrets"}]),
            &secret_volume(),
        ));
        assert!(
            errors(&v)[0].contains("nothing is mounted at /etc/db/password"),
            "{v:?}"
        );
        // The whole volume at the file's own path makes it a folder.
        let v = grade_spec(&pod(
            &json!([{"name": "db", "mountPath": "/etc/db/password"}]),
            &secret_volume(),
        ));
        assert!(errors(&v)[0].contains("is a folder"), "{v:?}");
        // An undefined volume.
        let v = grade_spec(&pod(&mounts, &json!([])));
        assert!(errors(&v)[0].contains("does not define"), "{v:?}");
    }

    #[test]
    fn a_volume_never_mounted_plus_an_emptydir_fails() {
        let v = grade_spec(&pod(
            &json!([{"name": "scratch", "mountPath": "/etc/db"}]),
            &json!([{"name": "db-credentials", "secret": {"secretName": "db-credentials"}},
                {"name": "scratch", "emptyDir": {}}]),
        ));
        let e = errors(&v);
        assert_eq!(e.len(), 1, "{v:?}");
        assert!(
            e[0].contains("an emptyDir") && e[0].contains("not Secret db-credentials key password"),
            "{e:?}"
        );
        assert_eq!(
            v.findings[0].paths,
            ["spec.template.spec.containers[0].volumeMounts[0].name"]
        );
        // Not mounted at all, with the Secret volume defined: said so.
        let v = grade_spec(&pod(
            &json!([]),
            &json!([{"name": "db-credentials", "secret": {"secretName": "db-credentials"}}]),
        ));
        assert!(errors(&v)[0].contains("defines volume \"db-credentials\" from the Secret, but container \"web\" does not mount it"), "{v:?}");
    }

    #[test]
    fn the_deepest_mount_wins_whatever_the_order() {
        let volumes = json!([{"name": "db", "secret": {"secretName": "db-credentials"}},
            {"name": "scratch", "emptyDir": {}}]);
        // An emptyDir deeper than the Secret shadows it, listed before or after.
        for mounts in [
            json!([{"name": "db", "mountPath": "/etc/db"}, {"name": "scratch", "mountPath": "/etc/db/password"}]),
            json!([{"name": "scratch", "mountPath": "/etc/db/password"}, {"name": "db", "mountPath": "/etc/db"}]),
        ] {
            assert!(errors(&grade_spec(&pod(&mounts, &volumes)))[0].contains("emptyDir"));
        }
        // The Secret deeper than an emptyDir is what the container sees.
        let mounts = json!([{"name": "scratch", "mountPath": "/etc"}, {"name": "db", "mountPath": "/etc/db"}]);
        assert!(grade_spec(&pod(&mounts, &volumes)).passed());
        // Two mounts at one path (however written) are ambiguous.
        let mounts = json!([{"name": "db", "mountPath": "/etc/db"}, {"name": "scratch", "mountPath": "/etc/db/"}]);
        assert!(
            errors(&grade_spec(&pod(&mounts, &volumes)))[0]
                .contains("mounts two volumes at /etc/db")
        );
    }

    #[test]
    fn sub_path_mounts_pass_with_a_warning() {
        let mounts =
            json!([{"name": "db", "mountPath": "/etc/db/password", "subPath": "password"}]);
        let v = grade_spec(&pod(&mounts, &secret_volume()));
        assert!(v.passed(), "{v:?}");
        assert!(
            warnings(&v)[0].contains("never sees an updated Secret"),
            "{v:?}"
        );
        assert_eq!(
            v.findings[0].paths,
            ["spec.template.spec.containers[0].volumeMounts[0].subPath"]
        );
        // A subPath naming another key is another file.
        let mounts =
            json!([{"name": "db", "mountPath": "/etc/db/password", "subPath": "username"}]);
        assert!(!grade_spec(&pod(&mounts, &secret_volume())).passed());
        // A subPath folder inside a volume with items.
        let volumes = json!([{"name": "db", "secret": {"secretName": "db-credentials",
            "items": [{"key": "password", "path": "db/password"}]}}]);
        let mounts = json!([{"name": "db", "mountPath": "/etc/db", "subPath": "db"}]);
        assert!(grade_spec(&pod(&mounts, &volumes)).passed());
        // subPathExpr with a variable cannot be told.
        let mounts =
            json!([{"name": "db", "mountPath": "/etc/db/password", "subPathExpr": "$(KEY)"}]);
        assert!(errors(&grade_spec(&pod(&mounts, &secret_volume())))[0].contains("subPathExpr"));
    }

    #[test]
    fn optional_secrets_warn() {
        let volumes =
            json!([{"name": "db", "secret": {"secretName": "db-credentials", "optional": true}}]);
        let v = grade_spec(&pod(
            &json!([{"name": "db", "mountPath": "/etc/db"}]),
            &volumes,
        ));
        assert!(v.passed() && warnings(&v)[0].contains("optional"), "{v:?}");
    }

    #[test]
    fn no_container_may_get_the_secret_from_its_environment() {
        let good = pod(
            &json!([{"name": "db", "mountPath": "/etc/db"}]),
            &secret_volume(),
        );
        assert!(grade_spec(&good).passed());
        let from_secret = json!({"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db-credentials", "key": "password"}}});
        // In an init container.
        let mut s = good.clone();
        s["initContainers"] = json!([{"name": "migrate", "image": "app", "env": [from_secret]}]);
        let v = grade_spec(&s);
        assert!(
            errors(&v)[0].starts_with("init container \"migrate\" gets DB_PASSWORD"),
            "{v:?}"
        );
        assert_eq!(
            v.findings[0].paths,
            ["spec.template.spec.initContainers[0].env[0].valueFrom.secretKeyRef.name"]
        );
        // Any key of the Secret, and envFrom.
        let mut s = good.clone();
        s["containers"][0]["env"] = json!([{"name": "DB_USER", "valueFrom": {"secretKeyRef": {"name": "db-credentials", "key": "username"}}}]);
        s["containers"][0]["envFrom"] = json!([{"configMapRef": {"name": "web-config"}}, {"secretRef": {"name": "db-credentials"}}]);
        let v = grade_spec(&s);
        assert_eq!(errors(&v).len(), 2, "{v:?}");
        assert_eq!(
            v.findings[1].paths,
            ["spec.template.spec.containers[0].envFrom[1].secretRef.name"]
        );
        // Ephemeral containers of a bare Pod.
        let mut p = good.clone();
        p["ephemeralContainers"] = json!([{"name": "debug", "image": "busybox", "envFrom": [{"secretRef": {"name": "db-credentials"}}]}]);
        let pod_obj =
            KubeObject::new(json!({"kind": "Pod", "metadata": {"name": "web"}, "spec": p}));
        let mut c = check();
        c.target = Target::parse("pod/web").expect("target");
        let v = grade(&c, &[pod_obj]);
        assert!(
            errors(&v)[0].starts_with("ephemeral container \"debug\""),
            "{v:?}"
        );
        // Another Secret in the environment is a warning only.
        let mut s = good;
        s["containers"][0]["env"] = json!([{"name": "TLS", "valueFrom": {"secretKeyRef": {"name": "web-tls", "key": "k"}}}]);
        let v = grade_spec(&s);
        assert!(
            v.passed() && warnings(&v)[0].contains("Secret web-tls"),
            "{v:?}"
        );
    }

    #[test]
    fn named_readers_and_the_secret_object() {
        // Every app container reads the file unless the check names some.
        let mut two = pod(
            &json!([{"name": "db", "mountPath": "/etc/db"}]),
            &secret_volume(),
        );
        two["containers"]
            .as_array_mut()
            .expect("list")
            .push(json!({"name": "logs", "image": "shipper"}));
        assert!(errors(&grade_spec(&two))[0].starts_with("container \"logs\""));
        let mut c = check();
        c.containers = vec!["web".into()];
        assert!(grade(&c, &[web(&two)]).passed());
        c.containers = vec!["api".into()];
        assert!(errors(&grade(&c, &[web(&two)]))[0].contains("no container named \"api\""));
        // A Secret in the workspace must have the key.
        let good = pod(
            &json!([{"name": "db", "mountPath": "/etc/db"}]),
            &secret_volume(),
        );
        let secret = |data: Value| {
            KubeObject::new(
                json!({"kind": "Secret", "metadata": {"name": "db-credentials", "namespace": "sa-token"}, "stringData": data}),
            )
        };
        assert!(grade(&check(), &[web(&good), secret(json!({"password": "x"}))]).passed());
        let v = grade(&check(), &[web(&good), secret(json!({"pass": "x"}))]);
        assert!(errors(&v)[0].contains("has no key password"), "{v:?}");
        // A missing target.
        assert_eq!(errors(&grade(&check(), &[])), ["Deployment/web not found"]);
    }

    #[test]
    fn validation_of_the_check() {
        assert_eq!(check_problem(&check()), None);
        let mut c = check();
        c.path = "etc/db/password".into();
        assert!(check_problem(&c).is_some());
        c.path = "/".into();
        assert!(check_problem(&c).is_some());
        let mut c = check();
        c.key = "pass word".into();
        assert!(check_problem(&c).is_some());
    }
}
