//! A small Pod Security admission: the namespace's
//! `pod-security.kubernetes.io/{enforce,warn}` labels against a pod spec,
//! with the checks and wording of the real PodSecurity plugin (in its order):
//! baseline — non-default capabilities, host namespaces, hostPath volumes,
//! privileged; restricted adds allowPrivilegeEscalation != false,
//! unrestricted capabilities, runAsNonRoot != true, seccompProfile.
//! It is a fake: other baseline checks (hostPorts, AppArmor, SELinux, /proc
//! mount, sysctls) and restricted volume types are not modelled.

use serde_json::Value;

const BASELINE_CAPS: &[&str] = &[
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

/// The level and version a namespace label pair asks for, e.g.
/// ("restricted", "latest"); None for privileged or no label.
fn policy(ns: &Value, mode: &str) -> Option<(String, String)> {
    let labels = ns.pointer("/metadata/labels")?;
    let level = labels
        .get(format!("pod-security.kubernetes.io/{mode}"))?
        .as_str()?;
    if level != "baseline" && level != "restricted" {
        return None;
    }
    let version = labels
        .get(format!("pod-security.kubernetes.io/{mode}-version"))
        .and_then(Value::as_str)
        .unwrap_or("latest");
    Some((level.to_owned(), version.to_owned()))
}

fn containers(spec: &Value) -> Vec<&Value> {
    ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .filter_map(|k| spec.get(*k).and_then(Value::as_array))
        .flatten()
        .collect()
}

fn name(c: &Value) -> String {
    c.get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

/// `container "a"` or `containers "a", "b"`.
fn who(prefix: &str, names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    let noun = if names.len() == 1 {
        "container"
    } else {
        "containers"
    };
    format!("{prefix}{noun} {}", quoted.join(", "))
}

/// The reasons `spec` (a PodSpec) breaks `level`, in the plugin's order.
pub fn violations(level: &str, spec: &Value) -> Vec<String> {
    let cs = containers(spec);
    let sc = |c: &Value, k: &str| c.pointer(&format!("/securityContext/{k}")).cloned();
    let mut out = Vec::new();

    let mut caps = Vec::new();
    for c in &cs {
        if let Some(add) = c
            .pointer("/securityContext/capabilities/add")
            .and_then(Value::as_array)
        {
            for cap in add.iter().filter_map(Value::as_str) {
                if !BASELINE_CAPS.contains(&cap) {
                    caps.push(format!("container \"{}\" must not include \"{cap}\" in securityContext.capabilities.add", name(c)));
                }
            }
        }
    }
    if !caps.is_empty() {
        out.push(format!("non-default capabilities ({})", caps.join("; ")));
    }

    let hosts: Vec<String> = ["hostNetwork", "hostPID", "hostIPC"]
        .iter()
        .filter(|k| spec.get(**k).and_then(Value::as_bool) == Some(true))
        .map(|k| format!("{k}=true"))
        .collect();
    if !hosts.is_empty() {
        out.push(format!("host namespaces ({})", hosts.join(", ")));
    }

    let host_paths: Vec<String> = spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.get("hostPath").is_some())
        .map(name)
        .collect();
    if !host_paths.is_empty() {
        let quoted: Vec<String> = host_paths.iter().map(|n| format!("\"{n}\"")).collect();
        let noun = if host_paths.len() == 1 {
            "volume"
        } else {
            "volumes"
        };
        out.push(format!("hostPath volumes ({noun} {})", quoted.join(", ")));
    }

    let privileged: Vec<String> = cs
        .iter()
        .filter(|c| sc(c, "privileged") == Some(Value::Bool(true)))
        .map(|c| name(c))
        .collect();
    if !privileged.is_empty() {
        out.push(format!(
            "privileged ({} must not set securityContext.privileged=true)",
            who("", &privileged)
        ));
    }

    if level != "restricted" {
        return out;
    }

    let escalation: Vec<String> = cs
        .iter()
        .filter(|c| sc(c, "allowPrivilegeEscalation") != Some(Value::Bool(false)))
        .map(|c| name(c))
        .collect();
    if !escalation.is_empty() {
        out.push(format!(
            "allowPrivilegeEscalation != false ({} must set securityContext.allowPrivilegeEscalation=false)",
            who("", &escalation)
        ));
    }

    let undropped: Vec<String> = cs
        .iter()
        .filter(|c| {
            !c.pointer("/securityContext/capabilities/drop")
                .and_then(Value::as_array)
                .is_some_and(|d| d.iter().any(|x| x.as_str() == Some("ALL")))
        })
        .map(|c| name(c))
        .collect();
    if !undropped.is_empty() {
        out.push(format!(
            "unrestricted capabilities ({} must set securityContext.capabilities.drop=[\"ALL\"])",
            who("", &undropped)
        ));
    }

    let pod_non_root = spec
        .pointer("/securityContext/runAsNonRoot")
        .and_then(Value::as_bool);
    let root: Vec<String> = cs
        .iter()
        .filter(|c| {
            sc(c, "runAsNonRoot")
                .and_then(|v| v.as_bool())
                .or(pod_non_root)
                != Some(true)
        })
        .map(|c| name(c))
        .collect();
    if !root.is_empty() {
        out.push(format!(
            "runAsNonRoot != true ({} must set securityContext.runAsNonRoot=true)",
            who("pod or ", &root)
        ));
    }

    let good_seccomp = |v: Option<&Value>| {
        matches!(
            v.and_then(Value::as_str),
            Some("RuntimeDefault" | "Localhost")
        )
    };
    let pod_seccomp = good_seccomp(spec.pointer("/securityContext/seccompProfile/type"));
    let no_seccomp: Vec<String> = cs
        .iter()
        .filter(|c| {
            let own = c.pointer("/securityContext/seccompProfile/type");
            if own.is_some() {
                !good_seccomp(own)
            } else {
                !pod_seccomp
            }
        })
        .map(|c| name(c))
        .collect();
    if !no_seccomp.is_empty() {
        out.push(format!(
            "seccompProfile ({} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")",
            who("pod or ", &no_seccomp)
        ));
    }
    out
}

/// The outcome of admitting a pod spec into a namespace.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Refused: (policy like `restricted:latest`, reasons).
    pub refused: Option<(String, Vec<String>)>,
    /// `Warning` header values (`299 - "..."`).
    pub warnings: Vec<String>,
}

fn warning(text: &str) -> String {
    format!(
        "299 - \"{}\"",
        text.replace('\\', "\\\\").replace('"', "\\\"")
    )
}

/// Admits a Pod (`workload = false`: enforce refuses, warn warns) or a
/// workload's pod template (`workload = true`: enforce and warn only warn,
/// as the real plugin does for Deployments and ReplicaSets).
pub fn admit(ns: &Value, spec: &Value, workload: bool) -> Verdict {
    let mut verdict = Verdict::default();
    if let Some((level, version)) = policy(ns, "enforce") {
        let reasons = violations(&level, spec);
        if !reasons.is_empty() {
            let policy = format!("{level}:{version}");
            if workload {
                verdict.warnings.push(warning(&format!(
                    "would violate PodSecurity \"{policy}\": {}",
                    reasons.join(", ")
                )));
            } else {
                verdict.refused = Some((policy, reasons));
                return verdict;
            }
        }
    }
    if let Some((level, version)) = policy(ns, "warn") {
        let reasons = violations(&level, spec);
        let text = format!(
            "would violate PodSecurity \"{level}:{version}\": {}",
            reasons.join(", ")
        );
        if !reasons.is_empty() && !verdict.warnings.iter().any(|w| *w == warning(&text)) {
            verdict.warnings.push(warning(&text));
        }
    }
    verdict
}
