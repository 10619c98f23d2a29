//! The 7 restricted checks (allowPrivilegeEscalation, capabilities,
//! procMount, volumes, runAsNonRoot, runAsUser, seccompProfile), each at the
//! newest upstream revision for the minor version, with upstream's exact
//! text. `procMount_restricted` shares its logic with baseline `procMount`.

use std::collections::BTreeSet;

use super::Violation;
use super::baseline::valid_seccomp;
use super::pod::Pod;
use super::text::{containers_phrase, join_quote, pluralize, pod_sc_path, sc_path, violation};

/// From 1.25, Windows pods are exempt from allowPrivilegeEscalation,
/// `capabilities_restricted` and `seccompProfile_restricted`.
fn windows_exempt(pod: &Pod<'_>, minor: u32) -> bool {
    minor >= 25 && pod.windows
}

/// From 1.35, `hostUsers: false` relaxes runAsNonRoot and runAsUser.
fn user_namespace_relaxed(pod: &Pod<'_>, minor: u32) -> bool {
    minor >= 35 && pod.host_users == Some(false)
}

/// `allowPrivilegeEscalation` (1.8; 1.25): every container sets it false.
pub(crate) fn allow_privilege_escalation(pod: &Pod<'_>, minor: u32) -> Option<Violation> {
    if windows_exempt(pod, minor) {
        return None;
    }
    let mut bad = Vec::new();
    let mut paths = Vec::new();
    for c in &pod.containers {
        if c.sc.allow_privilege_escalation != Some(false) {
            bad.push(c.name);
            paths.push(sc_path(pod, c, "allowPrivilegeEscalation"));
        }
    }
    if bad.is_empty() {
        return None;
    }
    violation(
        "allowPrivilegeEscalation",
        "allowPrivilegeEscalation != false",
        format!(
            "{} must set securityContext.allowPrivilegeEscalation=false",
            containers_phrase(&bad)
        ),
        paths,
    )
}

/// `capabilities_restricted` (1.22; 1.25): drop ALL, add at most
/// `NET_BIND_SERVICE`.
pub(crate) fn capabilities_restricted(pod: &Pod<'_>, minor: u32) -> Option<Violation> {
    if windows_exempt(pod, minor) {
        return None;
    }
    let mut missing_drop = Vec::new();
    let mut adding = Vec::new();
    let mut forbidden = BTreeSet::new();
    let mut paths = Vec::new();
    for c in &pod.containers {
        let Some(caps) = c.sc.caps else {
            missing_drop.push(c.name);
            paths.push(sc_path(pod, c, "capabilities.drop"));
            continue;
        };
        if !caps.drop.iter().any(|d| d.as_str() == Some("ALL")) {
            missing_drop.push(c.name);
            paths.push(sc_path(pod, c, "capabilities.drop"));
        }
        let mut added_forbidden = false;
        for (i, a) in caps.add.iter().enumerate() {
            let a = a.as_str().unwrap_or("");
            if a != "NET_BIND_SERVICE" {
                added_forbidden = true;
                forbidden.insert(a);
                paths.push(sc_path(pod, c, &format!("capabilities.add[{i}]")));
            }
        }
        if added_forbidden {
            adding.push(c.name);
        }
    }
    let mut details = Vec::new();
    if !missing_drop.is_empty() {
        details.push(format!(
            "{} must set securityContext.capabilities.drop=[\"ALL\"]",
            containers_phrase(&missing_drop)
        ));
    }
    if !adding.is_empty() {
        details.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&adding),
            join_quote(forbidden)
        ));
    }
    if details.is_empty() {
        return None;
    }
    violation(
        "capabilities_restricted",
        "unrestricted capabilities",
        details.join("; "),
        paths,
    )
}

/// `restrictedVolumes` (1.0): only configMap, csi, downwardAPI, emptyDir,
/// ephemeral, image, persistentVolumeClaim, projected, secret.
pub(crate) fn restricted_volumes(pod: &Pod<'_>) -> Option<Violation> {
    let mut names = Vec::new();
    let mut types = BTreeSet::new();
    let mut paths = Vec::new();
    for (i, v) in pod.volumes.iter().enumerate() {
        if let Some((key, kind)) = v.restricted_type {
            names.push(v.name);
            types.insert(kind);
            paths.push(format!("{}.volumes[{i}].{key}", pod.spec_path));
        }
    }
    if names.is_empty() {
        return None;
    }
    violation(
        "restrictedVolumes",
        "restricted volume types",
        format!(
            "{} {} {} {} {}",
            pluralize("volume", "volumes", names.len()),
            join_quote(&names),
            pluralize("uses", "use", names.len()),
            pluralize(
                "restricted volume type",
                "restricted volume types",
                types.len()
            ),
            join_quote(types)
        ),
        paths,
    )
}

/// `runAsNonRoot` (1.0; 1.35): pod-level true or true on every container
/// that does not inherit it; an explicit false anywhere fails.
pub(crate) fn run_as_non_root(pod: &Pod<'_>, minor: u32) -> Option<Violation> {
    if user_namespace_relaxed(pod, minor) {
        return None;
    }
    let mut setters = Vec::new();
    let mut explicit_paths = Vec::new();
    let pod_ok = match pod.sc.run_as_non_root {
        Some(false) => {
            setters.push("pod".to_owned());
            explicit_paths.push(pod_sc_path(pod, "runAsNonRoot"));
            false
        }
        Some(true) => true,
        None => false,
    };
    let mut explicit = Vec::new();
    let mut implicit = Vec::new();
    let mut implicit_paths = Vec::new();
    for c in &pod.containers {
        match c.sc.run_as_non_root {
            Some(false) => {
                explicit.push(c.name);
                explicit_paths.push(sc_path(pod, c, "runAsNonRoot"));
            }
            None if !pod_ok => {
                implicit.push(c.name);
                implicit_paths.push(sc_path(pod, c, "runAsNonRoot"));
            }
            _ => {}
        }
    }
    if !explicit.is_empty() {
        setters.push(containers_phrase(&explicit));
    }
    if !setters.is_empty() {
        return violation(
            "runAsNonRoot",
            "runAsNonRoot != true",
            format!(
                "{} must not set securityContext.runAsNonRoot=false",
                setters.join(" and ")
            ),
            explicit_paths,
        );
    }
    if implicit.is_empty() {
        return None;
    }
    implicit_paths.insert(0, pod_sc_path(pod, "runAsNonRoot"));
    violation(
        "runAsNonRoot",
        "runAsNonRoot != true",
        format!(
            "pod or {} must set securityContext.runAsNonRoot=true",
            containers_phrase(&implicit)
        ),
        implicit_paths,
    )
}

/// `runAsUser` (1.23; 1.35): no pod- or container-level `runAsUser: 0`.
pub(crate) fn run_as_user(pod: &Pod<'_>, minor: u32) -> Option<Violation> {
    if user_namespace_relaxed(pod, minor) {
        return None;
    }
    let mut setters = Vec::new();
    let mut paths = Vec::new();
    if pod.sc.run_as_user == Some(0) {
        setters.push("pod".to_owned());
        paths.push(pod_sc_path(pod, "runAsUser"));
    }
    let mut bad = Vec::new();
    for c in &pod.containers {
        if c.sc.run_as_user == Some(0) {
            bad.push(c.name);
            paths.push(sc_path(pod, c, "runAsUser"));
        }
    }
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    if setters.is_empty() {
        return None;
    }
    violation(
        "runAsUser",
        "runAsUser=0",
        format!("{} must not set runAsUser=0", setters.join(" and ")),
        paths,
    )
}

/// `seccompProfile_restricted` (1.19; 1.25): `RuntimeDefault` or `Localhost`
/// required at pod level or on every container lacking it.
pub(crate) fn seccomp_restricted(pod: &Pod<'_>, minor: u32) -> Option<Violation> {
    if windows_exempt(pod, minor) {
        return None;
    }
    let mut setters = Vec::new();
    let mut values = BTreeSet::new();
    let mut explicit_paths = Vec::new();
    let mut pod_set = false;
    if let Some(t) = pod.sc.seccomp {
        if valid_seccomp(t) {
            pod_set = true;
        } else {
            setters.push("pod".to_owned());
            values.insert(t);
            explicit_paths.push(pod_sc_path(pod, "seccompProfile.type"));
        }
    }
    let mut explicit = Vec::new();
    let mut implicit = Vec::new();
    let mut implicit_paths = Vec::new();
    for c in &pod.containers {
        match c.sc.seccomp {
            Some(t) if !valid_seccomp(t) => {
                explicit.push(c.name);
                values.insert(t);
                explicit_paths.push(sc_path(pod, c, "seccompProfile.type"));
            }
            None if !pod_set => {
                implicit.push(c.name);
                implicit_paths.push(sc_path(pod, c, "seccompProfile.type"));
            }
            _ => {}
        }
    }
    if !explicit.is_empty() {
        setters.push(containers_phrase(&explicit));
    }
    if !setters.is_empty() {
        return violation(
            "seccompProfile_restricted",
            "seccompProfile",
            format!(
                "{} must not set securityContext.seccompProfile.type to {}",
                setters.join(" and "),
                join_quote(values)
            ),
            explicit_paths,
        );
    }
    if implicit.is_empty() {
        return None;
    }
    implicit_paths.insert(0, pod_sc_path(pod, "seccompProfile.type"));
    violation(
        "seccompProfile_restricted",
        "seccompProfile",
        format!(
            "pod or {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
            containers_phrase(&implicit)
        ),
        implicit_paths,
    )
}
