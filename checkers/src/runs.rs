//! The `runs:` checker: would the target workload's pod start and keep
//! running, given what the lab knows about its images ([`ImageFacts`]: the
//! user an image runs as, the port it listens on, the paths it writes)?
//!
//! Pod Security admission only reads the pod spec, so a pod can pass
//! `restricted` and still never run. This checker catches, offline:
//! - a workload that runs no pod: `replicas: 0`, a paused Deployment (its
//!   template is never rolled out), a suspended Job or CronJob, a Job with
//!   `parallelism: 0` or `completions: 0`;
//! - a workload the API server rejects: a selector that does not match the
//!   template's labels (or none, for apps/v1 kinds), a `restartPolicy` the
//!   kind does not allow, no containers, a mount of an undefined volume;
//! - `runAsNonRoot: true` on an image that runs as root: the kubelet refuses
//!   it (`container has runAsNonRoot and image will run as root`), or on an
//!   image whose user is a name, not a uid (`image has non-numeric user`),
//!   or with `runAsUser: 0` (`container's runAsUser breaks non-root policy`);
//! - a path the image writes that is not writable: under
//!   `readOnlyRootFilesystem: true` it needs a writable mount (an
//!   `emptyDir`), and on a writable root filesystem a user other than the
//!   image's own (or root) does not own it;
//! - ports: declared `containerPort`s and probes aimed at a port the image
//!   does not listen on (app containers and sidecars);
//! - an init container that runs a server image's own program: it never
//!   exits, so the pod never gets past `Init`.
//!
//! With `read_only_root: true` the check also requires
//! `readOnlyRootFilesystem: true` on every container: init containers,
//! sidecars, app containers and ephemeral containers.
//!
//! Image facts are looked up by reference (see [`image_ref`]: Docker Hub
//! names normalised, `repo:tag@digest` gets the tag's facts, lab.yaml keys
//! may glob the tag, the most specific key wins). An app container whose
//! image has no facts fails, with the list of images the lab knows: seclab
//! cannot tell offline whether it runs, and the app is what the task is
//! about. An init container (or sidecar) without facts is a warning naming
//! the image: its user, ports and writable paths go unchecked, what needs
//! no facts is still checked, and the rest of the pod is graded as usual.
//! Ephemeral containers are debugging aids added to a running pod: only
//! the read-only root applies to them.

pub mod image_ref;
mod workload;

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Finding, KubeObject, Target, Verdict};

/// The user an image runs as (its `USER`): a uid, or a user name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ImageUser {
    /// A numeric uid (`0` is root).
    Uid(u32),
    /// A user name from the image's `/etc/passwd` (digits only are read as
    /// a uid).
    Name(String),
}

impl ImageUser {
    /// The uid, when known: a number, a name of digits, or `root`.
    pub fn uid(&self) -> Option<u32> {
        match self {
            Self::Uid(n) => Some(*n),
            Self::Name(s) if s == "root" => Some(0),
            Self::Name(s) => s.parse().ok(),
        }
    }
}

impl fmt::Display for ImageUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Uid(n) => write!(f, "uid {n}"),
            Self::Name(s) => write!(f, "user {s}"),
        }
    }
}

/// What a lab knows about one image: who it runs as, where it listens, what
/// it writes. Written in lab.yaml under `images:`, keyed by image reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageFacts {
    /// The user the image runs as when the pod does not set `runAsUser`
    /// (its Dockerfile `USER`; no `USER` means `0`, root).
    pub user: ImageUser,
    /// The port the image's program listens on, if it serves one (a server
    /// never exits, so it cannot be an init container's program).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Paths the image's program must be able to write (directories or
    /// files), e.g. `/var/cache/nginx`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub writable_paths: Vec<String>,
    /// The users of the image's `/etc/passwd` by name, with their uids
    /// (`{root: 0, nobody: 65534}`): how a container's `user: nobody` is
    /// resolved to a uid offline.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub users: BTreeMap<String, u32>,
}

/// Image facts keyed by image reference: `nginx:1.27`, a glob tag
/// `nginxinc/nginx-unprivileged:1.27*`, or a digest `repo@sha256:…`.
pub type Images = BTreeMap<String, ImageFacts>;

/// A `runs:` check: the target workload's pod would start and run with the
/// lab's image facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunsCheck {
    /// The workload, as `kind/name`.
    #[schemars(with = "String")]
    pub target: Target,
    /// The object's namespace; any namespace when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Also require `securityContext.readOnlyRootFilesystem: true` on every
    /// container of the pod: init containers, sidecars, app containers and
    /// ephemeral containers (an immutable pod, and one that still runs).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only_root: bool,
}

/// What is wrong with an `images:` key of lab.yaml, if anything.
pub fn image_key_problem(key: &str) -> Option<String> {
    image_ref::parse(key, true).err()
}

/// The facts that describe `image`, with the key they are written under:
/// the most specific matching key (see [`image_ref`]).
pub fn facts_for<'a>(images: &'a Images, image: &str) -> Option<(&'a str, &'a ImageFacts)> {
    let wanted = image_ref::parse(image, false).ok()?;
    let mut best: Option<((u8, usize), &str, &ImageFacts)> = None;
    for (key, facts) in images {
        let Ok(k) = image_ref::parse(key, true) else {
            continue;
        };
        if let Some(score) = image_ref::specificity(&k, &wanted) {
            // Strictly greater: on a tie the key that sorts first stays.
            if best.is_none_or(|(b, _, _)| score > b) {
                best = Some((score, key.as_str(), facts));
            }
        }
    }
    best.map(|(_, k, f)| (k, f))
}

/// Grades a `runs:` check against the objects at hand and the lab's images.
pub fn grade(check: &RunsCheck, objects: &[KubeObject], images: Option<&Images>) -> Verdict {
    let found = check.target.find_in(check.namespace.as_deref(), objects);
    if found.is_empty() {
        return check.target.not_found(check.namespace.as_deref(), objects);
    }
    let empty = Images::new();
    let images = images.unwrap_or(&empty);
    let mut findings = Vec::new();
    for obj in found {
        findings.extend(pod_findings(obj, images, check.read_only_root));
    }
    Verdict::from_findings(findings)
}

/// The settings of one pod that decide whether its containers run.
struct Ctx<'a> {
    obj: &'a KubeObject,
    spec: &'a Value,
    spec_path: &'static str,
    images: &'a Images,
}

/// What a container is to its pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// An init container: runs to completion before the app starts.
    Init,
    /// An init container with `restartPolicy: Always`: runs beside the app.
    Sidecar,
    /// One of `containers`.
    App,
    /// One of `ephemeralContainers`, added to a running pod for debugging.
    Ephemeral,
}

impl Role {
    fn label(self) -> &'static str {
        match self {
            Role::Init => "init container",
            Role::Sidecar => "sidecar container",
            Role::App => "container",
            Role::Ephemeral => "ephemeral container",
        }
    }
}

fn pod_findings(obj: &KubeObject, images: &Images, read_only_root: bool) -> Vec<Finding> {
    let Some(t) = obj.pod_template() else {
        return vec![
            Finding::error(format!(
                "{} is not a workload: it runs no pod",
                obj.display_name()
            ))
            .about(obj),
        ];
    };
    let ctx = Ctx {
        obj,
        spec: t.spec,
        spec_path: t.spec_path,
        images,
    };
    let mut out = Vec::new();
    workload::check(obj, &t, &mut out);
    if t.spec
        .get("containers")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
    {
        out.push(
            Finding::error("the pod has no containers: nothing would run (and the API server rejects a pod without any)")
                .about(obj)
                .at(format!("{}.containers", t.spec_path)),
        );
    }
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        let Some(items) = t.spec.get(list).and_then(Value::as_array) else {
            continue;
        };
        for (i, c) in items.iter().enumerate() {
            let path = format!("{}.{list}[{i}]", t.spec_path);
            let role = match list {
                "initContainers" => {
                    if c.get("restartPolicy").and_then(Value::as_str) == Some("Always") {
                        Role::Sidecar
                    } else {
                        Role::Init
                    }
                }
                "containers" => Role::App,
                _ => Role::Ephemeral,
            };
            if read_only_root {
                read_only(&ctx, c, &path, role, &mut out);
            }
            if role != Role::Ephemeral {
                container(&ctx, c, &path, role, &mut out);
            }
        }
    }
    out
}

/// `readOnlyRootFilesystem: true` on one container.
fn read_only(ctx: &Ctx<'_>, c: &Value, path: &str, role: Role, out: &mut Vec<Finding>) {
    let name = c.get("name").and_then(Value::as_str).unwrap_or("");
    let setting = c.pointer("/securityContext/readOnlyRootFilesystem");
    if setting.and_then(Value::as_bool) != Some(true) {
        let how = match setting {
            None | Some(Value::Null) => "does not set",
            Some(_) => "does not have",
        };
        out.push(
            Finding::error(format!(
                "{} {name:?} {how} securityContext.readOnlyRootFilesystem: true: its root filesystem is writable, so whoever runs code in it can drop tools or change the program; every container of the pod needs a read-only root filesystem",
                role.label()
            ))
            .about(ctx.obj)
            .at(format!("{path}.securityContext.readOnlyRootFilesystem")),
        );
    }
}

fn container(ctx: &Ctx<'_>, c: &Value, path: &str, role: Role, out: &mut Vec<Finding>) {
    let name = c.get("name").and_then(Value::as_str).unwrap_or("");
    let label = role.label();
    let err = |msg: String, at: String| Finding::error(msg).about(ctx.obj).at(at);
    let volumes = ctx
        .spec
        .get("volumes")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    for (i, m) in c
        .get("volumeMounts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let vol = m.get("name").and_then(Value::as_str).unwrap_or("");
        if !volumes
            .iter()
            .any(|v| v.get("name").and_then(Value::as_str) == Some(vol))
        {
            out.push(err(
                format!(
                    "{label} {name:?} mounts volume {vol:?}, which the pod does not define in volumes: the API server rejects the pod"
                ),
                format!("{path}.volumeMounts[{i}].name"),
            ));
        }
    }
    let Some(image) = c.get("image").and_then(Value::as_str) else {
        out.push(err(
            format!("{label} {name:?} names no image"),
            format!("{path}.image"),
        ));
        return;
    };
    let facts = facts_for(ctx.images, image).map(|(_, f)| f);
    if facts.is_none() {
        let known: Vec<&str> = ctx.images.keys().map(String::as_str).collect();
        let digest_only = image_ref::parse(image, false).is_ok_and(|r| r.tag.is_none());
        let known = if known.is_empty() {
            "no images".to_owned()
        } else {
            known.join(", ")
        };
        let digest_note = if digest_only {
            " (a digest alone does not say which tag it is: write repo:tag@sha256:…)"
        } else {
            ""
        };
        if role == Role::App {
            out.push(err(
                format!(
                    "{label} {name:?}: seclab has no facts about image {image}{digest_note} (its user, port and writable paths), so it cannot tell offline whether it runs; this lab knows: {known}"
                ),
                format!("{path}.image"),
            ));
            return;
        }
        out.push(
            Finding::warning(format!(
                "{label} {name:?}: seclab has no facts about image {image}{digest_note}, so its user, ports and writable paths go unchecked (this lab knows: {known}); the rest of the pod is graded"
            ))
            .about(ctx.obj)
            .at(format!("{path}.image")),
        );
    }
    let pod_sc = |f: &str| ctx.spec.get("securityContext").and_then(|s| s.get(f));
    let own_sc = |f: &str| c.get("securityContext").and_then(|s| s.get(f));
    // Container settings win over the pod's.
    let setting = |f: &str| -> Option<(&Value, String)> {
        match own_sc(f).filter(|v| !v.is_null()) {
            Some(v) => Some((v, format!("{path}.securityContext.{f}"))),
            None => pod_sc(f)
                .filter(|v| !v.is_null())
                .map(|v| (v, format!("{}.securityContext.{f}", ctx.spec_path))),
        }
    };
    let run_as_user = setting("runAsUser").and_then(|(v, p)| v.as_u64().map(|n| (n, p)));
    let non_root = setting("runAsNonRoot").filter(|(v, _)| v.as_bool() == Some(true));
    if let Some((_, nr_path)) = &non_root {
        match (&run_as_user, facts) {
            (Some((0, p)), _) => out.push(err(
                format!(
                    "{label} {name:?} would never start: the kubelet refuses it with \"container's runAsUser breaks non-root policy\" (runAsNonRoot is true and runAsUser is 0)"
                ),
                p.clone(),
            )),
            (Some(_), _) | (None, None) => {}
            (None, Some(facts)) => match facts.user.uid() {
                Some(0) => out.push(err(
                    format!(
                        "{label} {name:?} would never start: {image} runs as root, and with runAsNonRoot: true the kubelet refuses it (\"container has runAsNonRoot and image will run as root\", CreateContainerConfigError). Use an image built to run as a non-root user"
                    ),
                    nr_path.clone(),
                )),
                Some(_) => {}
                None => out.push(err(
                    format!(
                        "{label} {name:?} would never start: {image} runs as {}, a name, and with runAsNonRoot: true the kubelet refuses it (\"image has non-numeric user ({}), cannot verify user is non-root\"); set runAsUser to its uid",
                        facts.user,
                        match &facts.user { ImageUser::Name(s) => s.as_str(), ImageUser::Uid(_) => "" },
                    ),
                    nr_path.clone(),
                )),
            },
        }
    }
    let Some(facts) = facts else {
        return;
    };
    let c_ctx = One {
        ctx,
        c,
        path,
        name,
        label,
        image,
        facts,
    };
    if role == Role::Init
        && facts.port.is_some()
        && c.get("command").is_none()
        && c.get("args").is_none()
    {
        out.push(err(
            format!(
                "init container {name:?} runs {image}'s own program, a server listening on port {}, which never exits: the pod stays in Init and its containers never start. An init container must finish: give it a command that does its job and exits (or make it a sidecar with restartPolicy: Always)",
                facts.port.unwrap_or_default()
            ),
            format!("{path}.image"),
        ));
    }
    writable(&c_ctx, run_as_user.as_ref().map(|(n, _)| *n), volumes, out);
    if matches!(role, Role::App | Role::Sidecar) {
        ports(&c_ctx, out);
    }
}

/// One container with its image facts.
struct One<'a> {
    ctx: &'a Ctx<'a>,
    c: &'a Value,
    path: &'a str,
    name: &'a str,
    label: &'static str,
    image: &'a str,
    facts: &'a ImageFacts,
}

impl One<'_> {
    fn err(&self, msg: String, at: String) -> Finding {
        Finding::error(msg).about(self.ctx.obj).at(at)
    }
}

fn writable(one: &One<'_>, run_as_user: Option<u64>, volumes: &[Value], out: &mut Vec<Finding>) {
    let One {
        c,
        path,
        name,
        label,
        image,
        facts,
        ..
    } = *one;
    let read_only_root = c
        .pointer("/securityContext/readOnlyRootFilesystem")
        .and_then(Value::as_bool)
        == Some(true);
    let mounts = c
        .get("volumeMounts")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    for wp in &facts.writable_paths {
        let wp = wp.trim_end_matches('/');
        // The deepest mount covering the path.
        let covering = mounts
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                let mp = m.get("mountPath")?.as_str()?.trim_end_matches('/');
                let covers = mp.is_empty()
                    || wp == mp
                    || wp
                        .strip_prefix(mp)
                        .is_some_and(|rest| rest.starts_with('/'));
                covers.then_some((i, m, mp.len()))
            })
            .max_by_key(|(_, _, len)| *len);
        match covering {
            Some((i, m, _)) => {
                let mpath = format!("{path}.volumeMounts[{i}]");
                let vol_name = m.get("name").and_then(Value::as_str).unwrap_or("");
                if m.get("readOnly").and_then(Value::as_bool) == Some(true) {
                    out.push(one.err(
                        format!(
                            "{label} {name:?}: {image} writes {wp}, but the volume {vol_name:?} is mounted there read-only"
                        ),
                        format!("{mpath}.readOnly"),
                    ));
                    continue;
                }
                // A mount of an undefined volume is reported once, above.
                let volume = volumes
                    .iter()
                    .find(|v| v.get("name").and_then(Value::as_str) == Some(vol_name));
                if let Some(kind) = volume.and_then(|v| {
                    ["configMap", "secret", "downwardAPI", "projected", "image"]
                        .into_iter()
                        .find(|k| v.get(*k).is_some())
                }) {
                    out.push(one.err(
                        format!(
                            "{label} {name:?}: {image} writes {wp}, but volume {vol_name:?} is a {kind} volume, which is always read-only; use an emptyDir"
                        ),
                        format!("{mpath}.name"),
                    ));
                }
            }
            None if read_only_root => out.push(one.err(
                format!(
                    "{label} {name:?} would fail: its root filesystem is read-only and {image} writes {wp}; mount a writable volume there (an emptyDir)"
                ),
                format!("{path}.volumeMounts"),
            )),
            None => {
                let own = facts.user.uid();
                let runs_as = run_as_user.map(|n| u32::try_from(n).unwrap_or(u32::MAX));
                if let (Some(want), Some(have)) = (own, runs_as)
                    && have != want && have != 0 {
                        out.push(one.err(
                            format!(
                                "{label} {name:?} would fail: it runs as uid {have}, but {wp} in {image} belongs to the image's user ({}); mount an emptyDir at {wp} or use an image built for that user",
                                facts.user
                            ),
                            format!("{path}.volumeMounts"),
                        ));
                    }
            }
        }
    }
}

fn ports(one: &One<'_>, out: &mut Vec<Finding>) {
    let One {
        c,
        path,
        name,
        label,
        image,
        facts,
        ..
    } = *one;
    let Some(listen) = facts.port else {
        return;
    };
    let declared: Vec<(Option<&str>, u64)> = c
        .get("ports")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter_map(|p| {
                    let n = p.get("containerPort")?.as_u64()?;
                    Some((p.get("name").and_then(Value::as_str), n))
                })
                .collect()
        })
        .unwrap_or_default();
    if !declared.is_empty() && !declared.iter().any(|(_, n)| *n == u64::from(listen)) {
        let list: Vec<String> = declared.iter().map(|(_, n)| n.to_string()).collect();
        out.push(one.err(
            format!(
                "{label} {name:?}: {image} listens on port {listen}, but the container declares containerPort {}: Services aimed at it reach nothing",
                list.join(", ")
            ),
            format!("{path}.ports"),
        ));
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        for handler in ["httpGet", "tcpSocket"] {
            let Some(port) = c
                .get(probe)
                .and_then(|p| p.get(handler))
                .and_then(|h| h.get("port"))
            else {
                continue;
            };
            let resolved = match port {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.parse().ok().or_else(|| {
                    declared
                        .iter()
                        .find(|(pn, _)| *pn == Some(s.as_str()))
                        .map(|(_, n)| *n)
                }),
                _ => None,
            };
            if let Some(p) = resolved.filter(|p| *p != u64::from(listen)) {
                let effect = if probe == "readinessProbe" {
                    "the pod never becomes Ready"
                } else {
                    "the kubelet kills and restarts the container, over and over"
                };
                out.push(one.err(
                    format!(
                        "{label} {name:?}: {probe} checks port {p}, but {image} listens on {listen}: {effect}"
                    ),
                    format!("{path}.{probe}.{handler}.port"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn images() -> Images {
        serde_json::from_value(json!({
            "nginx:1.27": {"user": 0, "port": 80, "writable_paths": ["/var/cache/nginx", "/var/run"]},
            "nginxinc/nginx-unprivileged:1.27": {"user": 101, "port": 8080, "writable_paths": ["/tmp"]},
            "named:1": {"user": "app"}
        }))
        .expect("facts")
    }

    fn deploy(spec: &Value) -> KubeObject {
        KubeObject::new(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "scissors"}, "spec": {
                "selector": {"matchLabels": {"app": "scissors"}},
                "template": {"metadata": {"labels": {"app": "scissors"}}, "spec": spec}}}))
    }

    fn run(spec: &Value) -> Verdict {
        run_obj(&deploy(spec), false)
    }

    fn run_obj(obj: &KubeObject, read_only_root: bool) -> Verdict {
        let check: RunsCheck = serde_json::from_value(
            json!({"target": format!("{}/{}", obj.kind(), obj.name()), "read_only_root": read_only_root}),
        )
        .expect("check");
        grade(&check, std::slice::from_ref(obj), Some(&images()))
    }

    /// The scissors solution's pod spec: restricted, read-only root, runs.
    fn good() -> Value {
        json!({"securityContext": {"runAsNonRoot": true},
            "containers": [{"name": "web", "image": "nginxinc/nginx-unprivileged:1.27",
                "ports": [{"containerPort": 8080}],
                "securityContext": {"readOnlyRootFilesystem": true},
                "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}]}],
            "volumes": [{"name": "tmp", "emptyDir": {}}]})
    }

    fn errors(v: &Verdict) -> Vec<&str> {
        v.findings
            .iter()
            .filter(|f| f.severity == crate::Severity::Error)
            .map(|f| f.message.as_str())
            .collect()
    }

    fn messages(v: &Verdict) -> Vec<&str> {
        v.findings.iter().map(|f| f.message.as_str()).collect()
    }

    #[test]
    fn root_image_with_run_as_non_root_never_starts() {
        let v = run(&json!({"securityContext": {"runAsNonRoot": true},
            "containers": [{"name": "web", "image": "nginx:1.27"}]}));
        assert!(!v.passed());
        assert!(messages(&v)[0].contains("image will run as root"), "{v:?}");
        assert_eq!(
            v.findings[0].paths,
            ["spec.template.spec.securityContext.runAsNonRoot"]
        );
        // An explicit non-root runAsUser satisfies the kubelet's check (the
        // writable paths then fail instead: nginx's cache belongs to root).
        let v = run(
            &json!({"securityContext": {"runAsNonRoot": true, "runAsUser": 101},
            "containers": [{"name": "web", "image": "nginx:1.27"}]}),
        );
        let m = messages(&v);
        assert!(
            m.iter().all(|m| !m.contains("image will run as root")),
            "{m:?}"
        );
        assert!(
            m[0].contains("runs as uid 101") && m[0].contains("/var/cache/nginx"),
            "{m:?}"
        );
        // runAsUser: 0 with runAsNonRoot.
        let v = run(
            &json!({"containers": [{"name": "web", "image": "nginxinc/nginx-unprivileged:1.27",
            "securityContext": {"runAsNonRoot": true, "runAsUser": 0}}]}),
        );
        assert!(messages(&v)[0].contains("runAsUser breaks non-root policy"));
    }

    #[test]
    fn named_image_user_cannot_be_verified() {
        let v = run(&json!({"containers": [{"name": "a", "image": "named:1",
            "securityContext": {"runAsNonRoot": true}}]}));
        assert!(messages(&v)[0].contains("non-numeric user (app)"), "{v:?}");
    }

    #[test]
    fn read_only_root_needs_writable_mounts_for_image_paths() {
        let base = json!({"containers": [{"name": "web", "image": "nginxinc/nginx-unprivileged:1.27",
            "ports": [{"containerPort": 8080}],
            "securityContext": {"runAsNonRoot": true, "readOnlyRootFilesystem": true}}]});
        let v = run(&base);
        assert!(messages(&v)[0].contains("writes /tmp"), "{v:?}");
        assert_eq!(
            v.findings[0].paths,
            ["spec.template.spec.containers[0].volumeMounts"]
        );
        let mut ok = base.clone();
        ok["containers"][0]["volumeMounts"] = json!([{"name": "tmp", "mountPath": "/tmp"}]);
        ok["volumes"] = json!([{"name": "tmp", "emptyDir": {}}]);
        assert!(run(&ok).passed(), "{:?}", run(&ok));
        // A parent mount covers the path; a read-only or configMap mount does not.
        let mut cm = ok.clone();
        cm["volumes"] = json!([{"name": "tmp", "configMap": {"name": "x"}}]);
        assert!(messages(&run(&cm))[0].contains("always read-only"));
        let mut ro = ok.clone();
        ro["containers"][0]["volumeMounts"][0]["readOnly"] = json!(true);
        assert!(messages(&run(&ro))[0].contains("read-only"));
        let mut missing = ok;
        missing["volumes"] = json!([]);
        assert!(messages(&run(&missing))[0].contains("does not define"));
    }

    #[test]
    fn ports_and_probes_must_match_the_image() {
        let v = run(
            &json!({"containers": [{"name": "web", "image": "nginxinc/nginx-unprivileged:1.27",
            "ports": [{"name": "http", "containerPort": 80}],
            "readinessProbe": {"httpGet": {"path": "/", "port": "http"}},
            "livenessProbe": {"tcpSocket": {"port": 8080}}}]}),
        );
        let m = messages(&v);
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(m[0].contains("listens on port 8080") && m[0].contains("containerPort 80"));
        assert!(
            m[1].contains("readinessProbe checks port 80") && m[1].contains("never becomes Ready")
        );
    }

    #[test]
    fn root_image_as_is_runs_and_unknown_images_fail() {
        let v = run(
            &json!({"containers": [{"name": "web", "image": "docker.io/library/nginx:1.27",
            "ports": [{"containerPort": 80}]}]}),
        );
        assert!(v.passed(), "{v:?}");
        let v = run(&json!({"containers": [{"name": "web", "image": "busybox"}]}));
        assert!(messages(&v)[0].contains("no facts about image busybox"));
        assert!(messages(&v)[0].contains("nginx:1.27"));
        let check: RunsCheck =
            serde_json::from_value(json!({"target": "deployment/other"})).expect("check");
        assert_eq!(
            grade(&check, &[], None).findings[0].message,
            "Deployment/other not found"
        );
    }

    #[test]
    fn facts_reject_unknown_fields() {
        let bad: Result<ImageFacts, _> =
            serde_json::from_value(json!({"user": 0, "writeable_paths": []}));
        assert!(bad.is_err());
        let f: ImageFacts = serde_json::from_value(json!({"user": "101"})).expect("facts");
        assert_eq!(f.user.uid(), Some(101));
    }

    #[test]
    fn every_container_needs_a_read_only_root_when_asked() {
        let mut spec = good();
        assert!(run_obj(&deploy(&spec), true).passed());
        // An init container with a writable root passes without the option,
        // and fails with it, at its own field.
        spec["initContainers"] = json!([{"name": "init", "image": "nginxinc/nginx-unprivileged:1.27",
            "command": ["sh", "-c", "true"]}]);
        assert!(run_obj(&deploy(&spec), false).passed());
        let v = run_obj(&deploy(&spec), true);
        assert_eq!(errors(&v).len(), 1, "{v:?}");
        assert!(
            errors(&v)[0].starts_with("init container \"init\" does not set"),
            "{v:?}"
        );
        assert_eq!(
            v.findings[0].paths,
            ["spec.template.spec.initContainers[0].securityContext.readOnlyRootFilesystem"]
        );
        // false is as bad as unset; a sidecar counts too.
        spec["initContainers"][0]["securityContext"] = json!({"readOnlyRootFilesystem": false});
        spec["initContainers"][0]["restartPolicy"] = json!("Always");
        let v = run_obj(&deploy(&spec), true);
        assert!(
            errors(&v)[0].starts_with("sidecar container \"init\" does not have"),
            "{v:?}"
        );
        // Ephemeral containers of a bare Pod count as well.
        let mut pod_spec = good();
        pod_spec["ephemeralContainers"] = json!([{"name": "debug", "image": "busybox:1.37"}]);
        let pod = KubeObject::new(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p"}, "spec": pod_spec}));
        let v = run_obj(&pod, true);
        assert_eq!(errors(&v).len(), 1, "{v:?}");
        assert!(
            errors(&v)[0].starts_with("ephemeral container \"debug\""),
            "{v:?}"
        );
        assert_eq!(
            v.findings[0].paths,
            ["spec.ephemeralContainers[0].securityContext.readOnlyRootFilesystem"]
        );
        // Without the option an ephemeral container is not graded at all
        // (it has no facts, and it is not part of what runs).
        assert!(run_obj(&pod, false).findings.is_empty());
    }

    #[test]
    fn a_workload_that_runs_no_pod_fails() {
        let d = |patch: Value| {
            let mut o = deploy(&good());
            for (k, v) in patch.as_object().expect("object") {
                o.value["spec"][k] = v.clone();
            }
            o
        };
        assert!(run_obj(&d(json!({"replicas": 1})), true).passed());
        let v = run_obj(&d(json!({"replicas": 0})), true);
        assert!(errors(&v)[0].contains("replicas: 0"), "{v:?}");
        assert_eq!(v.findings[0].paths, ["spec.replicas"]);
        let v = run_obj(&d(json!({"paused": true})), true);
        assert!(errors(&v)[0].contains("paused"), "{v:?}");
        assert!(run_obj(&d(json!({"paused": false})), true).passed());
        // StatefulSet and ReplicaSet replicas too.
        for kind in ["StatefulSet", "ReplicaSet"] {
            let mut o = d(json!({"replicas": 0}));
            o.value["kind"] = json!(kind);
            let v = run_obj(&o, false);
            assert!(errors(&v)[0].contains("replicas: 0"), "{kind}: {v:?}");
        }
        // Jobs: suspended, parallelism 0, completions 0, a restartPolicy the
        // Job does not allow (unset means Always).
        let job = |spec: Value| {
            let mut template = good();
            template["restartPolicy"] = json!("Never");
            let mut o = KubeObject::new(json!({"apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": "j"}, "spec": {"template": {"spec": template}}}));
            for (k, v) in spec.as_object().expect("object") {
                o.value["spec"][k] = v.clone();
            }
            o
        };
        assert!(run_obj(&job(json!({})), false).passed());
        for (patch, want) in [
            (json!({"suspend": true}), "suspended"),
            (json!({"parallelism": 0}), "parallelism: 0"),
            (json!({"completions": 0}), "completions: 0"),
        ] {
            let v = run_obj(&job(patch.clone()), false);
            assert!(errors(&v)[0].contains(want), "{patch}: {v:?}");
        }
        let mut always = job(json!({}));
        always.value["spec"]["template"]["spec"]["restartPolicy"] = json!(null);
        assert!(errors(&run_obj(&always, false))[0].contains("unset (it defaults to Always)"));
        let cron = KubeObject::new(json!({"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "c"}, "spec": {"suspend": true, "jobTemplate": {"spec": job(json!({})).value["spec"].clone()}}}));
        let v = run_obj(&cron, false);
        assert_eq!(
            errors(&v),
            ["the CronJob is suspended: it schedules no Job, so nothing runs"]
        );
        // A Deployment whose pods may not restart is rejected.
        let mut never = deploy(&good());
        never.value["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
        assert!(errors(&run_obj(&never, false))[0].contains("accepts only Always"));
    }

    #[test]
    fn the_selector_must_select_the_template() {
        let with = |sel: Value| {
            let mut o = deploy(&good());
            o.value["spec"]["selector"] = sel;
            run_obj(&o, false)
        };
        assert!(with(json!({"matchLabels": {"app": "scissors"}})).passed());
        assert!(errors(&with(json!({"matchLabels": {"app": "web"}})))[0].contains("app=web"));
        assert!(errors(&with(json!({})))[0].contains("is empty"));
        assert!(errors(&with(json!(null)))[0].contains("no spec.selector"));
        assert!(with(json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["a", "scissors"]}]})).passed());
        assert!(
            with(json!({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}))
                .passed()
        );
        assert!(!with(json!({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["scissors"]}]})).passed());
        assert!(
            !with(json!({"matchExpressions": [{"key": "tier", "operator": "Exists"}]})).passed()
        );
        assert!(errors(&with(json!({"matchExpressions": [{"key": "app", "operator": "in", "values": ["scissors"]}]})))[0].contains("operator \"in\""));
        // A ReplicationController's selector is optional, but must match.
        let mut rc = deploy(&good());
        rc.value["kind"] = json!("ReplicationController");
        rc.value["spec"]["selector"] = json!(null);
        assert!(run_obj(&rc, false).passed());
        rc.value["spec"]["selector"] = json!({"app": "other"});
        assert!(!run_obj(&rc, false).passed());
    }

    #[test]
    fn facts_match_digests_globs_and_docker_hub_names() {
        let images: Images = serde_json::from_value(json!({
            "nginxinc/nginx-unprivileged:1.27*": {"user": 101, "port": 8080},
            "nginxinc/nginx-unprivileged:1.27-alpine": {"user": 101, "port": 8081},
            "nginxinc/nginx-unprivileged:*": {"user": 101, "port": 9},
            "docker.io/library/nginx:1.27": {"user": 0, "port": 80},
            format!("example.com/app@sha256:{}", "d".repeat(64)): {"user": 5},
        }))
        .expect("facts");
        let port = |image: &str| facts_for(&images, image).and_then(|(_, f)| f.port);
        let digest = format!("sha256:{}", "a".repeat(64));
        assert_eq!(port("nginxinc/nginx-unprivileged:1.27"), Some(8080));
        assert_eq!(port("nginxinc/nginx-unprivileged:1.27.5"), Some(8080));
        assert_eq!(
            port(&format!("nginxinc/nginx-unprivileged:1.27@{digest}")),
            Some(8080)
        );
        assert_eq!(
            port(&format!(
                "docker.io/nginxinc/nginx-unprivileged:1.27@{digest}"
            )),
            Some(8080)
        );
        // The exact tag beats the glob that also matches it.
        assert_eq!(port("nginxinc/nginx-unprivileged:1.27-alpine"), Some(8081));
        assert_eq!(port("nginxinc/nginx-unprivileged:1.28"), Some(9));
        assert_eq!(port("nginx:1.27"), Some(80));
        assert_eq!(port(&format!("nginx:1.27@{digest}")), Some(80));
        assert_eq!(port("nginx:1.27-alpine"), None);
        assert_eq!(port("nginx"), None);
        // A digest alone matches a digest key, and nothing by tag.
        assert_eq!(port(&format!("nginxinc/nginx-unprivileged@{digest}")), None);
        let by_digest = format!("example.com/app@sha256:{}", "d".repeat(64));
        assert_eq!(
            facts_for(&images, &by_digest).map(|(k, _)| k),
            Some(by_digest.as_str())
        );
        assert_eq!(facts_for(&images, "example.com/app:1"), None);
        // The failure says why a digest-only reference has no facts.
        let v = run(&json!({"containers": [{"name": "web", "image": format!("nginx@{digest}")}]}));
        assert!(
            errors(&v)[0].contains("a digest alone does not say which tag"),
            "{v:?}"
        );
        // Bad keys are reported for validation.
        assert!(image_key_problem("nginx:1.27*").is_none());
        assert!(image_key_problem("ngin*:1").is_some());
        assert!(image_key_problem("nginx:").is_some());
    }

    #[test]
    fn an_init_container_without_facts_is_a_warning() {
        let mut spec = good();
        spec["initContainers"] = json!([{"name": "setup", "image": "busybox:1.37",
            "command": ["sh", "-c", "true"],
            "securityContext": {"runAsUser": 65534, "readOnlyRootFilesystem": true}}]);
        let v = run_obj(&deploy(&spec), true);
        assert!(v.passed(), "{v:?}");
        assert_eq!(v.findings.len(), 1, "{v:?}");
        assert_eq!(v.findings[0].severity, crate::Severity::Warning);
        assert!(
            v.findings[0]
                .message
                .contains("init container \"setup\": seclab has no facts about image busybox:1.37")
        );
        assert_eq!(
            v.findings[0].paths,
            ["spec.template.spec.initContainers[0].image"]
        );
        // What needs no facts is still checked: runAsUser 0 with runAsNonRoot.
        spec["initContainers"][0]["securityContext"]["runAsUser"] = json!(0);
        assert!(
            errors(&run_obj(&deploy(&spec), true))[0].contains("runAsUser breaks non-root policy")
        );
        // The rest of the pod is graded as usual.
        let mut broken = good();
        broken["initContainers"] = json!([{"name": "setup", "image": "busybox:1.37"}]);
        broken["containers"][0]["ports"] = json!([{"containerPort": 80}]);
        assert!(errors(&run_obj(&deploy(&broken), false))[0].contains("listens on port 8080"));
        // An app container without facts still fails.
        let mut app = good();
        app["containers"][0]["image"] = json!("busybox:1.37");
        assert!(
            errors(&run_obj(&deploy(&app), false))[0]
                .contains("cannot tell offline whether it runs")
        );
    }

    #[test]
    fn an_init_container_must_finish() {
        let mut spec = good();
        spec["initContainers"] = json!([{"name": "warm", "image": "nginxinc/nginx-unprivileged:1.27",
            "securityContext": {"readOnlyRootFilesystem": true},
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}]}]);
        let v = run_obj(&deploy(&spec), true);
        assert_eq!(errors(&v).len(), 1, "{v:?}");
        assert!(errors(&v)[0].contains("never exits"), "{v:?}");
        // With a command of its own it may finish.
        spec["initContainers"][0]["command"] = json!(["nginx", "-t"]);
        assert!(run_obj(&deploy(&spec), true).passed());
        // A sidecar keeps running by design, and its ports are checked.
        spec["initContainers"][0]["command"] = json!(null);
        spec["initContainers"][0]["restartPolicy"] = json!("Always");
        spec["initContainers"][0]["ports"] = json!([{"containerPort": 80}]);
        assert!(errors(&run_obj(&deploy(&spec), true))[0].starts_with(
            "sidecar container \"warm\": nginxinc/nginx-unprivileged:1.27 listens on port 8080"
        ));
        // A pod of init containers only is no pod.
        let only = json!({"initContainers": [{"name": "a", "image": "busybox:1.37"}]});
        assert!(errors(&run(&only))[0].contains("no containers"));
    }
}
