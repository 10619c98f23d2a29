//! The `runs:` checker: would the target workload's pod start and keep
//! running, given what the lab knows about its images ([`ImageFacts`]: the
//! user an image runs as, the port it listens on, the paths it writes)?
//!
//! Pod Security admission only reads the pod spec, so a pod can pass
//! `restricted` and still never run. This checker catches, offline:
//! - `runAsNonRoot: true` on an image that runs as root: the kubelet refuses
//!   it (`container has runAsNonRoot and image will run as root`), or on an
//!   image whose user is a name, not a uid (`image has non-numeric user`),
//!   or with `runAsUser: 0` (`container's runAsUser breaks non-root policy`);
//! - a path the image writes that is not writable: under
//!   `readOnlyRootFilesystem: true` it needs a writable mount (an
//!   `emptyDir`), and on a writable root filesystem a user other than the
//!   image's own (or root) does not own it;
//! - ports: declared `containerPort`s and probes aimed at a port the image
//!   does not listen on.
//!
//! Images without facts fail with the list of images the lab knows: seclab
//! cannot tell offline whether they would run.

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
    /// The port the image's program listens on, if it serves one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Paths the image's program must be able to write (directories or
    /// files), e.g. `/var/cache/nginx`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub writable_paths: Vec<String>,
}

/// Image facts by image reference (`nginx:1.27`).
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
}

/// `nginx:1.27`, `docker.io/nginx:1.27` and `docker.io/library/nginx:1.27`
/// name the same image.
fn normalize(image: &str) -> &str {
    let s = image.strip_prefix("docker.io/").unwrap_or(image);
    s.strip_prefix("library/").unwrap_or(s)
}

fn facts_for<'a>(images: &'a Images, image: &str) -> Option<&'a ImageFacts> {
    images.get(image).or_else(|| {
        images
            .iter()
            .find(|(k, _)| normalize(k) == normalize(image))
            .map(|(_, f)| f)
    })
}

/// Grades a `runs:` check against the objects at hand and the lab's images.
pub fn grade(check: &RunsCheck, objects: &[KubeObject], images: Option<&Images>) -> Verdict {
    let found = check.target.find_in(check.namespace.as_deref(), objects);
    if found.is_empty() {
        return Verdict::fail(format!("{} not found", check.target));
    }
    let empty = Images::new();
    let images = images.unwrap_or(&empty);
    let mut findings = Vec::new();
    for obj in found {
        findings.extend(pod_findings(obj, images));
    }
    Verdict::from_findings(findings)
}

/// The settings of one container that decide whether it runs.
struct Ctx<'a> {
    obj: &'a KubeObject,
    spec: &'a Value,
    spec_path: &'static str,
    images: &'a Images,
}

fn pod_findings(obj: &KubeObject, images: &Images) -> Vec<Finding> {
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
    let mut any = false;
    for list in ["initContainers", "containers"] {
        let Some(items) = t.spec.get(list).and_then(Value::as_array) else {
            continue;
        };
        for (i, c) in items.iter().enumerate() {
            any = true;
            let path = format!("{}.{list}[{i}]", t.spec_path);
            container(&ctx, c, &path, list == "containers", &mut out);
        }
    }
    if !any {
        out.push(
            Finding::error("the pod has no containers: nothing would run")
                .about(obj)
                .at(format!("{}.containers", t.spec_path)),
        );
    }
    out
}

fn container(ctx: &Ctx<'_>, c: &Value, path: &str, main: bool, out: &mut Vec<Finding>) {
    let name = c.get("name").and_then(Value::as_str).unwrap_or("");
    let err = |msg: String, at: String| Finding::error(msg).about(ctx.obj).at(at);
    let Some(image) = c.get("image").and_then(Value::as_str) else {
        out.push(err(
            format!("container {name:?} names no image"),
            format!("{path}.image"),
        ));
        return;
    };
    let Some(facts) = facts_for(ctx.images, image) else {
        let known: Vec<&str> = ctx.images.keys().map(String::as_str).collect();
        out.push(err(
            format!(
                "container {name:?}: seclab has no facts about image {image} (its user, port and writable paths), so it cannot tell offline whether it runs; this lab knows: {}",
                if known.is_empty() { "no images".to_owned() } else { known.join(", ") }
            ),
            format!("{path}.image"),
        ));
        return;
    };
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
        match &run_as_user {
            Some((0, p)) => out.push(err(
                format!(
                    "container {name:?} would never start: the kubelet refuses it with \"container's runAsUser breaks non-root policy\" (runAsNonRoot is true and runAsUser is 0)"
                ),
                p.clone(),
            )),
            Some(_) => {}
            None => match facts.user.uid() {
                Some(0) => out.push(err(
                    format!(
                        "container {name:?} would never start: {image} runs as root, and with runAsNonRoot: true the kubelet refuses it (\"container has runAsNonRoot and image will run as root\", CreateContainerConfigError). Use an image built to run as a non-root user"
                    ),
                    nr_path.clone(),
                )),
                Some(_) => {}
                None => out.push(err(
                    format!(
                        "container {name:?} would never start: {image} runs as {}, a name, and with runAsNonRoot: true the kubelet refuses it (\"image has non-numeric user ({}), cannot verify user is non-root\"); set runAsUser to its uid",
                        facts.user,
                        match &facts.user { ImageUser::Name(s) => s.as_str(), ImageUser::Uid(_) => "" },
                    ),
                    nr_path.clone(),
                )),
            },
        }
    }
    writable(
        ctx,
        c,
        path,
        name,
        image,
        facts,
        run_as_user.as_ref().map(|(n, _)| *n),
        out,
    );
    if main {
        ports(ctx, c, path, name, image, facts, out);
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "one container's facts, passed apart to keep the borrow simple"
)]
fn writable(
    ctx: &Ctx<'_>,
    c: &Value,
    path: &str,
    name: &str,
    image: &str,
    facts: &ImageFacts,
    run_as_user: Option<u64>,
    out: &mut Vec<Finding>,
) {
    let read_only_root = c
        .pointer("/securityContext/readOnlyRootFilesystem")
        .and_then(Value::as_bool)
        == Some(true);
    let mounts = c
        .get("volumeMounts")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let volumes = ctx
        .spec
        .get("volumes")
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
        let err = |msg: String, at: String| Finding::error(msg).about(ctx.obj).at(at);
        match covering {
            Some((i, m, _)) => {
                let mpath = format!("{path}.volumeMounts[{i}]");
                let vol_name = m.get("name").and_then(Value::as_str).unwrap_or("");
                if m.get("readOnly").and_then(Value::as_bool) == Some(true) {
                    out.push(err(
                        format!(
                            "container {name:?}: {image} writes {wp}, but the volume {vol_name:?} is mounted there read-only"
                        ),
                        format!("{mpath}.readOnly"),
                    ));
                    continue;
                }
                let volume = volumes
                    .iter()
                    .find(|v| v.get("name").and_then(Value::as_str) == Some(vol_name));
                match volume {
                    None => out.push(err(
                        format!(
                            "container {name:?} mounts volume {vol_name:?}, which the pod does not define in volumes: the API server rejects the pod"
                        ),
                        format!("{mpath}.name"),
                    )),
                    Some(v) => {
                        if let Some(kind) = ["configMap", "secret", "downwardAPI", "projected"]
                            .into_iter()
                            .find(|k| v.get(*k).is_some())
                        {
                            out.push(err(
                                format!(
                                    "container {name:?}: {image} writes {wp}, but volume {vol_name:?} is a {kind} volume, which is always read-only; use an emptyDir"
                                ),
                                format!("{mpath}.name"),
                            ));
                        }
                    }
                }
            }
            None if read_only_root => out.push(err(
                format!(
                    "container {name:?} would fail: its root filesystem is read-only and {image} writes {wp}; mount a writable volume there (an emptyDir)"
                ),
                format!("{path}.volumeMounts"),
            )),
            None => {
                let own = facts.user.uid();
                let runs_as = run_as_user.map(|n| u32::try_from(n).unwrap_or(u32::MAX));
                if let (Some(want), Some(have)) = (own, runs_as) {
                    if have != want && have != 0 {
                        out.push(err(
                            format!(
                                "container {name:?} would fail: it runs as uid {have}, but {wp} in {image} belongs to the image's user ({}); mount an emptyDir at {wp} or use an image built for that user",
                                facts.user
                            ),
                            format!("{path}.volumeMounts"),
                        ));
                    }
                }
            }
        }
    }
}

fn ports(
    ctx: &Ctx<'_>,
    c: &Value,
    path: &str,
    name: &str,
    image: &str,
    facts: &ImageFacts,
    out: &mut Vec<Finding>,
) {
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
    let err = |msg: String, at: String| Finding::error(msg).about(ctx.obj).at(at);
    if !declared.is_empty() && !declared.iter().any(|(_, n)| *n == u64::from(listen)) {
        let list: Vec<String> = declared.iter().map(|(_, n)| n.to_string()).collect();
        out.push(err(
            format!(
                "container {name:?}: {image} listens on port {listen}, but the container declares containerPort {}: Services aimed at it reach nothing",
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
                out.push(err(
                    format!(
                        "container {name:?}: {probe} checks port {p}, but {image} listens on {listen}: {effect}"
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
            "metadata": {"name": "scissors"}, "spec": {"template": {"spec": spec}}}))
    }

    fn run(spec: &Value) -> Verdict {
        let check: RunsCheck =
            serde_json::from_value(json!({"target": "deployment/scissors"})).expect("check");
        grade(&check, &[deploy(spec)], Some(&images()))
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
}
