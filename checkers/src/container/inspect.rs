//! The engine's container inspect JSON (`docker container inspect`, API
//! 1.41) to a [`RunConfig`], and `docker diff` to [`Change`]s, so the live
//! container is graded by the same rules as the Compose file.
//!
//! Mounts come from the top-level `Mounts` (what the container really has:
//! binds with their host path, volumes by name), with `HostConfig.Binds`
//! and `HostConfig.Mounts` as a fallback when it is absent; tmpfs mounts
//! from `HostConfig.Tmpfs` (`--tmpfs`, a map of target to options) and
//! `HostConfig.Mounts` entries of type tmpfs (their options from
//! `TmpfsOptions`), since the top-level list carries no tmpfs options.

use serde_json::Value;

use super::{Change, ChangeKind, Mount, MountKind, RunConfig};

/// The label the Docker shell puts on a container: the image reference as
/// the Compose file wrote it, before any image map.
pub const IMAGE_LABEL: &str = "seclab.dev/image";

fn s<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr).and_then(Value::as_str)
}

/// A non-empty string at `ptr`.
fn set(v: &Value, ptr: &str) -> Option<String> {
    s(v, ptr).filter(|x| !x.is_empty()).map(String::from)
}

fn strings(v: &Value, ptr: &str) -> Vec<String> {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

fn words(v: &Value, ptr: &str) -> Option<Vec<String>> {
    match v.pointer(ptr)? {
        Value::Array(_) => Some(strings(v, ptr)),
        Value::String(x) => Some(vec![x.clone()]),
        _ => None,
    }
}

/// How service `service` runs, from its container's inspect JSON. Fields
/// Docker reports as empty (`""`, `null`, `0`) are unset; `NetworkMode`
/// `default` is unset too. `paths` stays empty (nothing to point at).
pub fn run_config(service: &str, inspect: &Value) -> RunConfig {
    let image = set(
        inspect,
        &format!("/Config/Labels/{}", IMAGE_LABEL.replace('/', "~1")),
    )
    .or_else(|| set(inspect, "/Config/Image"))
    .unwrap_or_default();
    let hc = |k: &str| format!("/HostConfig/{k}");
    let mut mounts = Vec::new();
    match inspect.get("Mounts").and_then(Value::as_array) {
        Some(list) => mounts.extend(list.iter().filter_map(top_mount)),
        None => {
            for b in strings(inspect, &hc("Binds")) {
                if let Ok(m) = super::compose::short_volume(&b) {
                    mounts.push(m);
                }
            }
            if let Some(list) = inspect.pointer(&hc("Mounts")).and_then(Value::as_array) {
                mounts.extend(
                    list.iter()
                        .filter(|m| s(m, "/Type") != Some("tmpfs"))
                        .filter_map(host_mount),
                );
            }
        }
    }
    if let Some(map) = inspect.pointer(&hc("Tmpfs")).and_then(Value::as_object) {
        for (target, opts) in map {
            let options: Vec<String> = opts
                .as_str()
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(String::from)
                .collect();
            mounts.push(Mount {
                kind: MountKind::Tmpfs,
                source: None,
                target: target.clone(),
                read_only: options.iter().any(|o| o == "ro"),
                options: options
                    .into_iter()
                    .filter(|o| o != "ro" && o != "rw")
                    .collect(),
            });
        }
    }
    if let Some(list) = inspect.pointer(&hc("Mounts")).and_then(Value::as_array) {
        for m in list.iter().filter(|m| s(m, "/Type") == Some("tmpfs")) {
            let Some(m) = host_mount(m) else { continue };
            if !mounts
                .iter()
                .any(|x| x.target == m.target && x.kind == MountKind::Tmpfs)
            {
                mounts.push(m);
            }
        }
    }
    let devices = inspect
        .pointer(&hc("Devices"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|d| {
                    let host = s(d, "/PathOnHost")?;
                    let cont = s(d, "/PathInContainer").unwrap_or(host);
                    Some(match s(d, "/CgroupPermissions").filter(|p| !p.is_empty()) {
                        Some(p) => format!("{host}:{cont}:{p}"),
                        None => format!("{host}:{cont}"),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    RunConfig {
        service: service.to_string(),
        image,
        user: set(inspect, "/Config/User"),
        entrypoint: words(inspect, "/Config/Entrypoint"),
        command: words(inspect, "/Config/Cmd"),
        environment: strings(inspect, "/Config/Env"),
        working_dir: set(inspect, "/Config/WorkingDir"),
        privileged: inspect
            .pointer(&hc("Privileged"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
        cap_add: strings(inspect, &hc("CapAdd")),
        cap_drop: strings(inspect, &hc("CapDrop")),
        security_opt: strings(inspect, &hc("SecurityOpt")),
        read_only: inspect
            .pointer(&hc("ReadonlyRootfs"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
        mounts,
        pid: set(inspect, &hc("PidMode")),
        network_mode: set(inspect, &hc("NetworkMode")).filter(|m| m != "default"),
        ipc: set(inspect, &hc("IpcMode")),
        uts: set(inspect, &hc("UTSMode")),
        userns_mode: set(inspect, &hc("UsernsMode")),
        devices,
        memory: inspect
            .pointer(&hc("Memory"))
            .and_then(Value::as_u64)
            .filter(|m| *m > 0),
        paths: std::collections::BTreeMap::new(),
    }
}

/// One entry of the top-level `Mounts` (bind or volume; tmpfs entries
/// come from `HostConfig`, which has their options).
fn top_mount(m: &Value) -> Option<Mount> {
    let kind = match s(m, "/Type")? {
        "bind" => MountKind::Bind,
        "volume" => MountKind::Volume,
        _ => return None,
    };
    let source = match kind {
        MountKind::Volume => set(m, "/Name"),
        _ => set(m, "/Source"),
    };
    let rw = m.get("RW").and_then(Value::as_bool).unwrap_or(true);
    let options = s(m, "/Mode")
        .unwrap_or("")
        .split(',')
        .filter(|o| !o.is_empty() && *o != "ro" && *o != "rw")
        .map(String::from)
        .collect();
    Some(Mount {
        kind,
        source,
        target: set(m, "/Destination")?,
        read_only: !rw,
        options,
    })
}

/// One entry of `HostConfig.Mounts` (`--mount`, the API's mount list).
fn host_mount(m: &Value) -> Option<Mount> {
    let kind = match s(m, "/Type")? {
        "bind" => MountKind::Bind,
        "volume" => MountKind::Volume,
        "tmpfs" => MountKind::Tmpfs,
        _ => return None,
    };
    let mut options = Vec::new();
    if kind == MountKind::Tmpfs {
        if let Some(size) = m.pointer("/TmpfsOptions/SizeBytes").and_then(Value::as_u64) {
            options.push(format!("size={}", super::compose::format_bytes(size)));
        }
        if let Some(mode) = m.pointer("/TmpfsOptions/Mode").and_then(Value::as_u64) {
            options.push(format!("mode={mode:o}"));
        }
    }
    Some(Mount {
        kind,
        source: if kind == MountKind::Tmpfs {
            None
        } else {
            set(m, "/Source")
        },
        target: set(m, "/Target")?,
        read_only: m.get("ReadOnly").and_then(Value::as_bool).unwrap_or(false),
        options,
    })
}

/// Bind sources below `workspace` (an absolute host path) written back
/// as the Compose file wrote them, relative (`/home/u/lab/data` →
/// `./data`), so live findings name the same paths as offline ones.
#[must_use]
pub fn relative_to(mut rc: RunConfig, workspace: &str) -> RunConfig {
    let ws = workspace.trim_end_matches('/');
    for m in &mut rc.mounts {
        if m.kind != MountKind::Bind {
            continue;
        }
        if let Some(src) = &m.source {
            if src == ws {
                m.source = Some(".".into());
            } else if let Some(rest) = src.strip_prefix(ws).and_then(|r| r.strip_prefix('/')) {
                m.source = Some(format!("./{rest}"));
            }
        }
    }
    rc
}

/// `docker diff` (the API's `[{"Kind": 0|1|2, "Path": ...}]`; 0 changed,
/// 1 added, 2 deleted) to changes. `null` (no change) is empty; entries
/// of another shape are left out.
pub fn changes(diff: &Value) -> Vec<Change> {
    diff.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| {
                    let kind = match c.get("Kind").and_then(Value::as_u64)? {
                        0 => ChangeKind::Changed,
                        1 => ChangeKind::Added,
                        2 => ChangeKind::Deleted,
                        _ => return None,
                    };
                    Some(Change {
                        kind,
                        path: c.get("Path").and_then(Value::as_str)?.to_string(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `docker container inspect` of a container created as
    /// `docker run -d --user 65534 --cap-drop ALL --security-opt
    /// no-new-privileges --read-only --tmpfs /tmp:noexec,size=16m
    /// -v /srv/lab/data:/data:ro -v cache:/cache --mount
    /// type=tmpfs,target=/run,tmpfs-size=1048576 --memory 64m
    /// --label seclab.dev/image=busybox:1.36 seclab-local/busybox:1.36
    /// sleep 600` on Docker 20.10 (trimmed of fields seclab does not read).
    fn inspect_20_10() -> Value {
        serde_json::from_str(
            r#"{
          "Id": "5b1f2c0d8e0e3f7a9c7d3c8b2a1e4f6d9b8c7a6e5d4c3b2a1f0e9d8c7b6a5f4e",
          "Created": "2024-05-02T09:14:07.123456789Z",
          "Path": "sleep",
          "Args": ["600"],
          "State": {"Status": "running", "Running": true, "Paused": false, "Restarting": false,
                    "OOMKilled": false, "Dead": false, "Pid": 4242, "ExitCode": 0, "Error": "",
                    "StartedAt": "2024-05-02T09:14:07.5Z", "FinishedAt": "0001-01-01T00:00:00Z"},
          "Image": "sha256:0d8e1c1f6b6a3f0a9a2e6ad3b8f7c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8",
          "ResolvConfPath": "/var/lib/docker/containers/5b1f/resolv.conf",
          "Name": "/seclab-container-privileges-app",
          "RestartCount": 0,
          "Driver": "overlay2",
          "Platform": "linux",
          "MountLabel": "",
          "ProcessLabel": "",
          "AppArmorProfile": "docker-default",
          "HostConfig": {
            "Binds": ["/srv/lab/data:/data:ro", "cache:/cache"],
            "ContainerIDFile": "",
            "LogConfig": {"Type": "json-file", "Config": {}},
            "NetworkMode": "default",
            "PortBindings": {},
            "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
            "AutoRemove": false,
            "VolumeDriver": "",
            "VolumesFrom": null,
            "CapAdd": null,
            "CapDrop": ["ALL"],
            "CgroupnsMode": "host",
            "Dns": [],
            "DnsOptions": [],
            "DnsSearch": [],
            "ExtraHosts": null,
            "GroupAdd": null,
            "IpcMode": "private",
            "Cgroup": "",
            "Links": null,
            "OomScoreAdj": 0,
            "PidMode": "",
            "Privileged": false,
            "PublishAllPorts": false,
            "ReadonlyRootfs": true,
            "SecurityOpt": ["no-new-privileges"],
            "Tmpfs": {"/tmp": "noexec,size=16m"},
            "UTSMode": "",
            "UsernsMode": "",
            "ShmSize": 67108864,
            "Runtime": "runc",
            "ConsoleSize": [0, 0],
            "Isolation": "",
            "CpuShares": 0,
            "Memory": 67108864,
            "NanoCpus": 0,
            "CgroupParent": "",
            "BlkioWeight": 0,
            "Devices": [],
            "MemoryReservation": 0,
            "MemorySwap": 134217728,
            "OomKillDisable": false,
            "PidsLimit": null,
            "Mounts": [{"Type": "tmpfs", "Target": "/run", "TmpfsOptions": {"SizeBytes": 1048576}}],
            "MaskedPaths": ["/proc/asound", "/proc/acpi", "/proc/kcore"],
            "ReadonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
          },
          "GraphDriver": {"Name": "overlay2", "Data": {"MergedDir": "/var/lib/docker/overlay2/ab/merged"}},
          "Mounts": [
            {"Type": "bind", "Source": "/srv/lab/data", "Destination": "/data",
             "Mode": "ro", "RW": false, "Propagation": "rprivate"},
            {"Type": "volume", "Name": "cache",
             "Source": "/var/lib/docker/volumes/cache/_data", "Destination": "/cache",
             "Driver": "local", "Mode": "z", "RW": true, "Propagation": ""},
            {"Type": "tmpfs", "Source": "", "Destination": "/run", "Mode": "", "RW": true,
             "Propagation": ""}
          ],
          "Config": {
            "Hostname": "5b1f2c0d8e0e",
            "Domainname": "",
            "User": "65534",
            "AttachStdin": false,
            "AttachStdout": false,
            "AttachStderr": false,
            "Tty": false,
            "OpenStdin": false,
            "StdinOnce": false,
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["sleep", "600"],
            "Image": "seclab-local/busybox:1.36",
            "Volumes": null,
            "WorkingDir": "",
            "Entrypoint": null,
            "OnBuild": null,
            "Labels": {"seclab.dev/image": "busybox:1.36", "seclab.dev/lab": "container-privileges",
                       "seclab.dev/service": "app", "seclab.dev/student": "s-1"}
          },
          "NetworkSettings": {"Bridge": "", "SandboxID": "9f", "Networks": {"bridge": {"IPAddress": "172.17.0.2"}}}
        }"#,
        )
        .expect("valid JSON")
    }

    #[test]
    fn a_docker_20_10_inspect_reads_back_the_run_flags() {
        let rc = run_config("app", &inspect_20_10());
        assert_eq!(rc.service, "app");
        assert_eq!(rc.image, "busybox:1.36", "the label, not the mapped image");
        assert_eq!(rc.user.as_deref(), Some("65534"));
        assert_eq!(
            rc.command,
            Some(vec!["sleep".to_string(), "600".to_string()])
        );
        assert_eq!(rc.entrypoint, None);
        assert!(!rc.privileged);
        assert!(rc.cap_add.is_empty(), "CapAdd null is no capability added");
        assert_eq!(rc.cap_drop, ["ALL"]);
        assert_eq!(rc.security_opt, ["no-new-privileges"]);
        assert!(rc.read_only);
        assert_eq!(rc.memory, Some(64 * 1024 * 1024));
        assert_eq!(rc.pid, None);
        assert_eq!(rc.network_mode, None);
        assert_eq!(rc.ipc.as_deref(), Some("private"));
        assert!(rc.paths.is_empty());
        assert_eq!(
            rc.mounts,
            vec![
                Mount {
                    kind: MountKind::Bind,
                    source: Some("/srv/lab/data".into()),
                    target: "/data".into(),
                    read_only: true,
                    options: vec![],
                },
                Mount {
                    kind: MountKind::Volume,
                    source: Some("cache".into()),
                    target: "/cache".into(),
                    read_only: false,
                    options: vec!["z".into()],
                },
                Mount {
                    kind: MountKind::Tmpfs,
                    source: None,
                    target: "/tmp".into(),
                    read_only: false,
                    options: vec!["noexec".into(), "size=16m".into()],
                },
                Mount {
                    kind: MountKind::Tmpfs,
                    source: None,
                    target: "/run".into(),
                    read_only: false,
                    options: vec!["size=1m".into()],
                },
            ]
        );
        let rel = relative_to(rc, "/srv/lab/");
        assert_eq!(rel.mounts[0].source.as_deref(), Some("./data"));
        assert_eq!(
            rel.mounts[1].source.as_deref(),
            Some("cache"),
            "volumes untouched"
        );
    }

    #[test]
    fn host_namespaces_devices_and_fallbacks() {
        let mut v = inspect_20_10();
        v["HostConfig"]["PidMode"] = json!("host");
        v["HostConfig"]["NetworkMode"] = json!("host");
        v["HostConfig"]["IpcMode"] = json!("host");
        v["HostConfig"]["Privileged"] = json!(true);
        v["HostConfig"]["CapAdd"] = json!(["CAP_NET_ADMIN"]);
        v["HostConfig"]["Devices"] = json!([{"PathOnHost": "/dev/fuse",
            "PathInContainer": "/dev/fuse", "CgroupPermissions": "rwm"}]);
        v["HostConfig"]["Memory"] = json!(0);
        v["Config"]["User"] = json!("");
        v["Config"]["Labels"] = json!(null);
        // No top-level Mounts: the binds and HostConfig.Mounts are read.
        v.as_object_mut().map(|o| o.remove("Mounts"));
        let rc = run_config("app", &v);
        assert_eq!(rc.image, "seclab-local/busybox:1.36");
        assert_eq!(rc.user, None);
        assert_eq!(rc.pid.as_deref(), Some("host"));
        assert_eq!(rc.network_mode.as_deref(), Some("host"));
        assert_eq!(rc.ipc.as_deref(), Some("host"));
        assert!(rc.privileged);
        assert_eq!(rc.cap_add, ["CAP_NET_ADMIN"]);
        assert_eq!(rc.devices, ["/dev/fuse:/dev/fuse:rwm"]);
        assert_eq!(rc.memory, None);
        let targets: Vec<(&str, MountKind, bool)> = rc
            .mounts
            .iter()
            .map(|m| (m.target.as_str(), m.kind, m.read_only))
            .collect();
        assert_eq!(
            targets,
            [
                ("/data", MountKind::Bind, true),
                ("/cache", MountKind::Volume, false),
                ("/tmp", MountKind::Tmpfs, false),
                ("/run", MountKind::Tmpfs, false),
            ]
        );
        // Nothing at all: an empty config, no panic.
        let empty = run_config("x", &json!({}));
        assert_eq!(empty.service, "x");
        assert!(empty.image.is_empty() && empty.mounts.is_empty());
        let _ = run_config("x", &json!([1, 2, {"HostConfig": 3}]));
    }

    #[test]
    fn diff_kinds_map_to_changes() {
        let diff = json!([
            {"Kind": 0, "Path": "/usr"},
            {"Kind": 0, "Path": "/usr/local/bin"},
            {"Kind": 1, "Path": "/usr/local/bin/evil"},
            {"Kind": 2, "Path": "/etc/motd"},
            {"Kind": 7, "Path": "/odd"},
            {"Path": "/no-kind"}
        ]);
        let c = changes(&diff);
        assert_eq!(c.len(), 4);
        assert_eq!(c[0].kind, ChangeKind::Changed);
        assert_eq!(
            c[2],
            Change {
                kind: ChangeKind::Added,
                path: "/usr/local/bin/evil".into()
            }
        );
        assert_eq!(c[3].kind, ChangeKind::Deleted);
        assert!(changes(&Value::Null).is_empty());
    }
}
