//! A [`RunConfig`] as the engine's container create body.

use std::collections::HashMap;
use std::path::Path;

use bollard::models::{ContainerCreateBody, DeviceMapping, HostConfig};
use seclab_checkers::container::{MountKind, RunConfig};

use super::ImageMap;
use super::labels;

/// Who a container belongs to: its labels and name.
#[derive(Debug, Clone)]
pub(super) struct Owner<'a> {
    pub lab: &'a str,
    pub student: &'a str,
}

impl Owner<'_> {
    /// The labels every container of this lab carries.
    pub fn labels(&self, rc: &RunConfig) -> HashMap<String, String> {
        HashMap::from([
            (labels::LAB.to_owned(), self.lab.to_owned()),
            (labels::STUDENT.to_owned(), self.student.to_owned()),
            (labels::SERVICE.to_owned(), rc.service.clone()),
            (labels::IMAGE.to_owned(), rc.image.clone()),
        ])
    }

    /// The name of a lab volume (`seclab-<lab>-<name>`).
    pub fn volume_name(&self, name: &str) -> String {
        format!("seclab-{}-{name}", self.lab)
    }
}

/// The create body for `rc`: the image mapped, binds relative to
/// `workspace`, named volumes as the lab's volumes.
pub(super) fn create_body(
    rc: &RunConfig,
    owner: &Owner<'_>,
    workspace: &Path,
    map: &ImageMap,
    extra_labels: &[(&str, &str)],
) -> ContainerCreateBody {
    let mut binds = Vec::new();
    let mut tmpfs = HashMap::new();
    for m in &rc.mounts {
        match m.kind {
            MountKind::Tmpfs => {
                let mut opts = m.options.clone();
                if m.read_only {
                    opts.push("ro".into());
                }
                tmpfs.insert(m.target.clone(), opts.join(","));
            }
            MountKind::Bind | MountKind::Volume => {
                let source = match (&m.kind, &m.source) {
                    (MountKind::Bind, Some(src)) => Some(bind_source(src, workspace)),
                    (MountKind::Volume, Some(name)) => Some(owner.volume_name(name)),
                    _ => None,
                };
                let mut opts = m.options.clone();
                if m.read_only {
                    opts.push("ro".into());
                }
                let mut spec = match source {
                    Some(src) => format!("{src}:{}", m.target),
                    None => m.target.clone(),
                };
                if !opts.is_empty() && spec.contains(':') {
                    spec.push(':');
                    spec.push_str(&opts.join(","));
                }
                binds.push(spec);
            }
        }
    }
    let devices: Vec<DeviceMapping> = rc.devices.iter().map(|d| device(d)).collect();
    let mut labels = owner.labels(rc);
    for (k, v) in extra_labels {
        labels.insert((*k).to_owned(), (*v).to_owned());
    }
    // Anonymous volumes (a bare target) are declared as volumes, not binds.
    let (anonymous, binds): (Vec<String>, Vec<String>) =
        binds.into_iter().partition(|b| !b.contains(':'));
    let host_config = HostConfig {
        privileged: Some(rc.privileged),
        cap_add: non_empty(&rc.cap_add),
        cap_drop: non_empty(&rc.cap_drop),
        security_opt: non_empty(&rc.security_opt),
        readonly_rootfs: Some(rc.read_only),
        binds: (!binds.is_empty()).then_some(binds),
        tmpfs: (!tmpfs.is_empty()).then_some(tmpfs),
        pid_mode: rc.pid.clone(),
        network_mode: rc.network_mode.clone(),
        ipc_mode: rc.ipc.clone(),
        uts_mode: rc.uts.clone(),
        userns_mode: rc.userns_mode.clone(),
        devices: (!devices.is_empty()).then_some(devices),
        memory: rc.memory.and_then(|m| i64::try_from(m).ok()),
        ..HostConfig::default()
    };
    ContainerCreateBody {
        image: Some(map.map(&rc.image)),
        user: rc.user.clone(),
        entrypoint: rc.entrypoint.clone(),
        cmd: rc.command.clone(),
        env: non_empty(&rc.environment),
        working_dir: rc.working_dir.clone(),
        labels: Some(labels),
        volumes: (!anonymous.is_empty()).then_some(anonymous),
        host_config: Some(host_config),
        ..ContainerCreateBody::default()
    }
}

/// A bind source as the engine needs it: absolute; `./x` and `x` are
/// relative to the workspace.
fn bind_source(src: &str, workspace: &Path) -> String {
    if Path::new(src).is_absolute() {
        return src.to_owned();
    }
    let rel = src.strip_prefix("./").unwrap_or(src);
    let joined = if rel.is_empty() || rel == "." {
        workspace.to_path_buf()
    } else {
        workspace.join(rel)
    };
    joined.to_string_lossy().into_owned()
}

/// `/dev/fuse`, `/dev/fuse:/dev/fuse`, `/dev/fuse:/dev/fuse:rwm`.
fn device(spec: &str) -> DeviceMapping {
    let mut parts = spec.splitn(3, ':');
    let host = parts.next().unwrap_or_default().to_owned();
    let container = parts.next().map_or_else(|| host.clone(), str::to_owned);
    let perms = parts.next().unwrap_or("rwm").to_owned();
    DeviceMapping {
        path_on_host: Some(host),
        path_in_container: Some(container),
        cgroup_permissions: Some(perms),
    }
}

fn non_empty(v: &[String]) -> Option<Vec<String>> {
    (!v.is_empty()).then(|| v.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use seclab_checkers::container::Mount;

    #[test]
    fn maps_every_field() {
        let rc = RunConfig {
            service: "app".into(),
            image: "busybox:1.36".into(),
            user: Some("65534".into()),
            command: Some(vec!["sleep".into(), "600".into()]),
            cap_drop: vec!["ALL".into()],
            cap_add: vec!["NET_ADMIN".into()],
            security_opt: vec!["no-new-privileges".into()],
            read_only: true,
            mounts: vec![
                Mount {
                    kind: MountKind::Tmpfs,
                    source: None,
                    target: "/tmp".into(),
                    read_only: false,
                    options: vec!["noexec".into(), "size=16m".into()],
                },
                Mount {
                    kind: MountKind::Bind,
                    source: Some("./data".into()),
                    target: "/data".into(),
                    read_only: true,
                    options: vec![],
                },
                Mount {
                    kind: MountKind::Volume,
                    source: Some("cache".into()),
                    target: "/cache".into(),
                    read_only: false,
                    options: vec![],
                },
                Mount {
                    kind: MountKind::Volume,
                    source: None,
                    target: "/anon".into(),
                    read_only: false,
                    options: vec![],
                },
            ],
            devices: vec!["/dev/fuse".into()],
            memory: Some(64 << 20),
            pid: Some("host".into()),
            ..RunConfig::default()
        };
        let map = ImageMap::parse("busybox:1.36=seclab-local/busybox:1.36").unwrap();
        let owner = Owner {
            lab: "l",
            student: "s",
        };
        let body = create_body(&rc, &owner, Path::new("/ws"), &map, &[]);
        assert_eq!(body.image.as_deref(), Some("seclab-local/busybox:1.36"));
        assert_eq!(body.user.as_deref(), Some("65534"));
        let labels = body.labels.unwrap();
        assert_eq!(labels[labels::LAB], "l");
        assert_eq!(labels[labels::IMAGE], "busybox:1.36");
        assert_eq!(body.volumes, Some(vec!["/anon".to_owned()]));
        let hc = body.host_config.unwrap();
        assert_eq!(hc.readonly_rootfs, Some(true));
        assert_eq!(hc.tmpfs.unwrap()["/tmp"], "noexec,size=16m");
        assert_eq!(
            hc.binds.unwrap(),
            vec![
                "/ws/data:/data:ro".to_owned(),
                "seclab-l-cache:/cache".to_owned()
            ]
        );
        assert_eq!(hc.memory, Some(64 << 20));
        assert_eq!(hc.pid_mode.as_deref(), Some("host"));
        let dev = &hc.devices.unwrap()[0];
        assert_eq!(dev.path_in_container.as_deref(), Some("/dev/fuse"));
        assert_eq!(dev.cgroup_permissions.as_deref(), Some("rwm"));
    }
}
