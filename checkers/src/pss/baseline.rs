//! The 12 baseline checks, each a transcription of the upstream check's
//! newest revision at the requested minor version, with upstream's exact
//! reason and detail text, plus the field paths that caused the violation.

use std::collections::BTreeSet;

use super::Violation;
use super::pod::{HOST_FIELDS, Pod};
use super::text::{
    containers_phrase, go_quote, join_quote, pluralize, pod_sc_path, sc_path, violation,
};

const APPARMOR_ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

/// `appArmorProfile` (1.0): profile types RuntimeDefault/Localhost only;
/// legacy annotations empty, `runtime/default` or `localhost/*`.
pub(crate) fn app_armor_profile(pod: &Pod<'_>) -> Option<Violation> {
    let allowed = |t: &str| t == "RuntimeDefault" || t == "Localhost";
    let mut setters = Vec::new();
    let mut values = BTreeSet::new();
    let mut paths = Vec::new();
    if let Some(t) = pod.sc.app_armor
        && !allowed(t)
    {
        setters.push("pod".to_owned());
        values.insert(t);
        paths.push(pod_sc_path(pod, "appArmorProfile.type"));
    }
    let mut bad = Vec::new();
    for c in &pod.containers {
        if let Some(t) = c.sc.app_armor
            && !allowed(t)
        {
            bad.push(c.name);
            values.insert(t);
            paths.push(sc_path(pod, c, "appArmorProfile.type"));
        }
    }
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    let mut value_list: Vec<String> = values.into_iter().map(str::to_owned).collect();
    let mut annotations = Vec::new();
    for (k, v) in pod.annotations.into_iter().flatten() {
        let v = v.as_str().unwrap_or("");
        if k.starts_with(APPARMOR_ANNOTATION_PREFIX)
            && !(v.is_empty() || v == "runtime/default" || v.starts_with("localhost/"))
        {
            annotations.push(format!("{k}={}", go_quote(v)));
            paths.push(format!("{}.annotations[{k}]", pod.metadata_path));
        }
    }
    if !annotations.is_empty() {
        annotations.sort();
        setters.push(pluralize("annotation", "annotations", annotations.len()).to_owned());
        value_list.extend(annotations);
    }
    if setters.is_empty() {
        return None;
    }
    violation(
        "appArmorProfile",
        pluralize(
            "forbidden AppArmor profile",
            "forbidden AppArmor profiles",
            value_list.len(),
        ),
        format!(
            "{} must not set AppArmor profile type to {}",
            setters.join(" and "),
            join_quote(&value_list)
        ),
        paths,
    )
}

const DEFAULT_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// `capabilities_baseline` (1.0): `add` only from the default set.
pub(crate) fn capabilities_baseline(pod: &Pod<'_>) -> Option<Violation> {
    let mut bad = Vec::new();
    let mut caps = BTreeSet::new();
    let mut paths = Vec::new();
    for c in &pod.containers {
        let Some(cc) = c.sc.caps else { continue };
        let mut valid = true;
        for (i, cap) in cc.add.iter().enumerate() {
            let cap = cap.as_str().unwrap_or("");
            if !DEFAULT_CAPABILITIES.contains(&cap) {
                valid = false;
                caps.insert(cap);
                paths.push(sc_path(pod, c, &format!("capabilities.add[{i}]")));
            }
        }
        if !valid {
            bad.push(c.name);
        }
    }
    if bad.is_empty() {
        return None;
    }
    violation(
        "capabilities_baseline",
        "non-default capabilities",
        format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&bad),
            join_quote(caps)
        ),
        paths,
    )
}

/// `hostNamespaces` (1.0): no hostNetwork/hostPID/hostIPC.
pub(crate) fn host_namespaces(pod: &Pod<'_>) -> Option<Violation> {
    let mut set = Vec::new();
    let mut paths = Vec::new();
    for (on, name) in [
        (pod.host_network, "hostNetwork"),
        (pod.host_pid, "hostPID"),
        (pod.host_ipc, "hostIPC"),
    ] {
        if on {
            set.push(format!("{name}=true"));
            paths.push(format!("{}.{name}", pod.spec_path));
        }
    }
    if set.is_empty() {
        return None;
    }
    violation("hostNamespaces", "host namespaces", set.join(", "), paths)
}

/// `hostPathVolumes` (1.0): no hostPath volumes.
pub(crate) fn host_path_volumes(pod: &Pod<'_>) -> Option<Violation> {
    let mut names = Vec::new();
    let mut paths = Vec::new();
    for (i, v) in pod.volumes.iter().enumerate() {
        if v.has_host_path {
            names.push(v.name);
            paths.push(format!("{}.volumes[{i}].hostPath", pod.spec_path));
        }
    }
    if names.is_empty() {
        return None;
    }
    violation(
        "hostPathVolumes",
        "hostPath volumes",
        format!(
            "{} {}",
            pluralize("volume", "volumes", names.len()),
            join_quote(&names)
        ),
        paths,
    )
}

/// `hostPorts` (1.0): no non-zero hostPort.
pub(crate) fn host_ports(pod: &Pod<'_>) -> Option<Violation> {
    let mut bad = Vec::new();
    let mut ports = BTreeSet::new();
    let mut paths = Vec::new();
    for c in &pod.containers {
        if c.host_ports.is_empty() {
            continue;
        }
        bad.push(c.name);
        for &(i, port) in &c.host_ports {
            ports.insert(port.to_string());
            paths.push(format!("{}.ports[{i}].hostPort", c.path(pod.spec_path)));
        }
    }
    if bad.is_empty() {
        return None;
    }
    let ports: Vec<String> = ports.into_iter().collect();
    violation(
        "hostPorts",
        "hostPort",
        format!(
            "{} {} {} {}",
            containers_phrase(&bad),
            pluralize("uses", "use", bad.len()),
            pluralize("hostPort", "hostPorts", ports.len()),
            ports.join(", ")
        ),
        paths,
    )
}

/// `hostProbesAndHostLifecycle` (1.34): no `host` in probes or lifecycle
/// handlers. Container names are a sorted set here, as upstream.
pub(crate) fn host_probes_and_host_lifecycle(pod: &Pod<'_>) -> Option<Violation> {
    let mut bad = BTreeSet::new();
    let mut hosts = BTreeSet::new();
    let mut paths = Vec::new();
    for c in &pod.containers {
        for (slot, (handler, kind)) in c.hosts.iter().zip(HOST_FIELDS) {
            if let Some(h) = slot {
                bad.insert(c.name);
                hosts.insert(*h);
                paths.push(format!("{}.{handler}.{kind}.host", c.path(pod.spec_path)));
            }
        }
    }
    if bad.is_empty() {
        return None;
    }
    violation(
        "hostProbesAndHostLifecycle",
        "probe or lifecycle host",
        format!(
            "{} {} {} {} {}",
            pluralize("container", "containers", bad.len()),
            join_quote(&bad),
            pluralize("uses", "use", bad.len()),
            pluralize(
                "probe or lifecycle host",
                "probe or lifecycle hosts",
                hosts.len()
            ),
            join_quote(&hosts)
        ),
        paths,
    )
}

/// `privileged` (1.0): no privileged containers.
pub(crate) fn privileged(pod: &Pod<'_>) -> Option<Violation> {
    let mut bad = Vec::new();
    let mut paths = Vec::new();
    for c in &pod.containers {
        if c.sc.privileged == Some(true) {
            bad.push(c.name);
            paths.push(sc_path(pod, c, "privileged"));
        }
    }
    if bad.is_empty() {
        return None;
    }
    violation(
        "privileged",
        "privileged",
        format!(
            "{} must not set securityContext.privileged=true",
            containers_phrase(&bad)
        ),
        paths,
    )
}

/// `procMount` (baseline; 1.0, 1.35 relaxed for `hostUsers: false`) and
/// `procMount_restricted` (1.35, never relaxed): unset or `Default`.
pub(crate) fn proc_mount(
    pod: &Pod<'_>,
    check: &'static str,
    relax_user_namespaces: bool,
) -> Option<Violation> {
    if relax_user_namespaces && pod.host_users == Some(false) {
        return None;
    }
    let mut bad = Vec::new();
    let mut types = BTreeSet::new();
    let mut paths = Vec::new();
    for c in &pod.containers {
        if let Some(pm) = c.sc.proc_mount
            && pm != "Default"
        {
            bad.push(c.name);
            types.insert(pm);
            paths.push(sc_path(pod, c, "procMount"));
        }
    }
    if bad.is_empty() {
        return None;
    }
    violation(
        check,
        "procMount",
        format!(
            "{} must not set securityContext.procMount to {}",
            containers_phrase(&bad),
            join_quote(types)
        ),
        paths,
    )
}

/// `seLinuxOptions` (1.0; 1.31 adds `container_engine_t`).
pub(crate) fn se_linux_options(pod: &Pod<'_>, minor: u32) -> Option<Violation> {
    let type_ok = |t: &str| {
        matches!(
            t,
            "" | "container_t" | "container_init_t" | "container_kvm_t"
        ) || (minor >= 31 && t == "container_engine_t")
    };
    let mut bad_types = BTreeSet::new();
    let (mut set_user, mut set_role) = (false, false);
    let mut paths = Vec::new();
    let mut check = |o: &super::pod::SeLinux<'_>, base: String| {
        let mut valid = true;
        if !type_ok(o.kind) {
            valid = false;
            bad_types.insert(o.kind.to_owned());
            paths.push(format!("{base}.type"));
        }
        if !o.user.is_empty() {
            valid = false;
            set_user = true;
            paths.push(format!("{base}.user"));
        }
        if !o.role.is_empty() {
            valid = false;
            set_role = true;
            paths.push(format!("{base}.role"));
        }
        valid
    };
    let mut setters = Vec::new();
    if let Some(o) = &pod.sc.se_linux
        && !check(o, pod_sc_path(pod, "seLinuxOptions"))
    {
        setters.push("pod".to_owned());
    }
    let mut bad = Vec::new();
    for c in &pod.containers {
        if let Some(o) = &c.sc.se_linux
            && !check(o, sc_path(pod, c, "seLinuxOptions"))
        {
            bad.push(c.name);
        }
    }
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    if setters.is_empty() {
        return None;
    }
    // Upstream only lists user/role when a type is also bad; kept as is.
    let mut data = Vec::new();
    if !bad_types.is_empty() {
        data.push(format!(
            "{} {}",
            pluralize("type", "types", bad_types.len()),
            join_quote(&bad_types)
        ));
        if set_user {
            data.push("user may not be set".to_owned());
        }
        if set_role {
            data.push("role may not be set".to_owned());
        }
    }
    violation(
        "seLinuxOptions",
        "seLinuxOptions",
        format!(
            "{} set forbidden securityContext.seLinuxOptions: {}",
            setters.join(" and "),
            data.join("; ")
        ),
        paths,
    )
}

const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

/// `seccompProfile_baseline` 1.0 revision: the alpha annotations must be
/// `runtime/default`, `docker/default` or `localhost/*`.
pub(crate) fn seccomp_baseline_annotations(pod: &Pod<'_>) -> Option<Violation> {
    let ok =
        |v: &str| v == "runtime/default" || v == "docker/default" || v.starts_with("localhost/");
    let mut forbidden = BTreeSet::new();
    let mut paths = Vec::new();
    let ann = pod.annotations?;
    let mut look = |key: &str| {
        if let Some(v) = ann.get(key) {
            let v = v.as_str().unwrap_or("");
            if !ok(v) {
                forbidden.insert(format!("{key}={}", go_quote(v)));
                paths.push(format!("{}.annotations[{key}]", pod.metadata_path));
            }
        }
    };
    look(SECCOMP_POD_ANNOTATION);
    for c in &pod.containers {
        look(&format!("{SECCOMP_CONTAINER_ANNOTATION_PREFIX}{}", c.name));
    }
    if forbidden.is_empty() {
        return None;
    }
    let list: Vec<String> = forbidden.into_iter().collect();
    violation(
        "seccompProfile_baseline",
        "seccompProfile",
        format!(
            "forbidden {} {}",
            pluralize("annotation", "annotations", list.len()),
            list.join(", ")
        ),
        paths,
    )
}

/// Whether a seccomp profile type is `RuntimeDefault` or `Localhost`.
pub(crate) fn valid_seccomp(t: &str) -> bool {
    t == "RuntimeDefault" || t == "Localhost"
}

/// `seccompProfile_baseline` 1.19 revision: a set type must not be
/// Unconfined (or anything but RuntimeDefault/Localhost).
pub(crate) fn seccomp_baseline_fields(pod: &Pod<'_>) -> Option<Violation> {
    let mut setters = Vec::new();
    let mut values = BTreeSet::new();
    let mut paths = Vec::new();
    if let Some(t) = pod.sc.seccomp
        && !valid_seccomp(t)
    {
        setters.push("pod".to_owned());
        values.insert(t);
        paths.push(pod_sc_path(pod, "seccompProfile.type"));
    }
    let mut bad = Vec::new();
    for c in &pod.containers {
        if let Some(t) = c.sc.seccomp
            && !valid_seccomp(t)
        {
            bad.push(c.name);
            values.insert(t);
            paths.push(sc_path(pod, c, "seccompProfile.type"));
        }
    }
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    if setters.is_empty() {
        return None;
    }
    violation(
        "seccompProfile_baseline",
        "seccompProfile",
        format!(
            "{} must not set securityContext.seccompProfile.type to {}",
            setters.join(" and "),
            join_quote(values)
        ),
        paths,
    )
}

/// The sysctls allowed at a minor version (1.0; 1.27; 1.29; 1.32; 1.37).
fn sysctl_allowed(name: &str, minor: u32) -> bool {
    match name {
        "kernel.shm_rmid_forced"
        | "net.ipv4.ip_local_port_range"
        | "net.ipv4.tcp_syncookies"
        | "net.ipv4.ping_group_range"
        | "net.ipv4.ip_unprivileged_port_start" => true,
        "net.ipv4.ip_local_reserved_ports" => minor >= 27,
        "net.ipv4.tcp_keepalive_time"
        | "net.ipv4.tcp_fin_timeout"
        | "net.ipv4.tcp_keepalive_intvl"
        | "net.ipv4.tcp_keepalive_probes" => minor >= 29,
        "net.ipv4.tcp_rmem" | "net.ipv4.tcp_wmem" => minor >= 32,
        "net.ipv4.tcp_slow_start_after_idle" | "net.ipv4.tcp_notsent_lowat" => minor >= 37,
        _ => false,
    }
}

/// `sysctls`: only the allow-listed sysctls of that version.
pub(crate) fn sysctls(pod: &Pod<'_>, minor: u32) -> Option<Violation> {
    let mut forbidden = BTreeSet::new();
    let mut paths = Vec::new();
    for (i, s) in pod.sc.sysctls.iter().enumerate() {
        let name = s
            .get("name")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("");
        if !sysctl_allowed(name, minor) {
            forbidden.insert(name);
            paths.push(pod_sc_path(pod, &format!("sysctls[{i}].name")));
        }
    }
    if forbidden.is_empty() {
        return None;
    }
    let list: Vec<&str> = forbidden.into_iter().collect();
    violation("sysctls", "forbidden sysctls", list.join(", "), paths)
}

/// `windowsHostProcess` (1.0): no `windowsOptions.hostProcess: true`.
pub(crate) fn windows_host_process(pod: &Pod<'_>) -> Option<Violation> {
    let mut setters = Vec::new();
    let mut paths = Vec::new();
    if pod.sc.host_process == Some(true) {
        setters.push("pod".to_owned());
        paths.push(pod_sc_path(pod, "windowsOptions.hostProcess"));
    }
    let mut bad = Vec::new();
    for c in &pod.containers {
        if c.sc.host_process == Some(true) {
            bad.push(c.name);
            paths.push(sc_path(pod, c, "windowsOptions.hostProcess"));
        }
    }
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    if setters.is_empty() {
        return None;
    }
    violation(
        "windowsHostProcess",
        "hostProcess",
        format!(
            "{} must not set securityContext.windowsOptions.hostProcess=true",
            setters.join(" and ")
        ),
        paths,
    )
}
