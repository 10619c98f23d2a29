//! A Compose file (`compose.yaml`, as a parsed YAML value) to one
//! [`RunConfig`] per service, for the graders and the Docker shell.
//!
//! seclab supports the subset of the Compose spec that decides how a
//! container runs (see [`parse_service`] for the fields); every other
//! field is a warning naming it, never a silent drop. Values that Docker
//! would refuse (a field of the wrong type, a volume that does not parse,
//! a capability that does not exist, a memory size that is no size) are
//! errors with the field's path, so a finding gets its `line:col` back
//! from the file.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{MountKind, RunConfig, caps};
use crate::{Finding, KubeObject};

mod mounts;
mod run;
#[cfg(test)]
mod tests;
mod values;

pub use mounts::short_volume;
use mounts::{tmpfs, volumes};
pub use run::docker_run;
pub use values::{format_bytes, parse_memory, split_words};

/// A Compose file as seclab reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComposeFile {
    /// Top-level `name`, if set.
    pub name: Option<String>,
    /// Every service that has at least an image, in file order.
    pub services: Vec<RunConfig>,
    /// Errors (the file cannot run as written), warnings (fields seclab
    /// ignores) and infos, each about the file and at its field path.
    pub findings: Vec<Finding>,
}

impl ComposeFile {
    /// The service named `name`.
    pub fn service(&self, name: &str) -> Option<&RunConfig> {
        self.services.iter().find(|s| s.service == name)
    }

    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity == crate::Severity::Error)
    }
}

/// The finding, about the file `obj` came from (its source and document),
/// not about a Kubernetes object.
pub(crate) fn about_file(f: Finding, obj: &KubeObject) -> Finding {
    let mut f = f.about(obj);
    f.object = None;
    f
}

/// Reads a Compose file: `obj.value` is the parsed YAML of compose.yaml.
/// Supported top level: `name`, `services`, `volumes` (names only);
/// `version` is obsolete (an info); `x-*` extensions are ignored as
/// Compose ignores them; anything else is a warning.
pub fn parse(obj: &KubeObject) -> ComposeFile {
    let mut out = ComposeFile::default();
    let mut findings = Vec::new();
    let Some(top) = obj.value.as_object() else {
        findings.push(Finding::error(format!(
            "a Compose file is a mapping with `services:` at the top, not {}",
            kind_of(&obj.value)
        )));
        out.findings = findings.into_iter().map(|f| about_file(f, obj)).collect();
        return out;
    };
    let mut declared: Option<BTreeSet<String>> = None;
    for (key, v) in top {
        match key.as_str() {
            "name" => out.name = want_string(v, "name", &mut findings),
            "services" => {}
            "version" => findings.push(
                Finding::info(
                    "`version` is obsolete in the Compose spec and ignored; you may remove it",
                )
                .at("version"),
            ),
            "volumes" => declared = Some(top_volumes(v, &mut findings)),
            k if k.starts_with("x-") => {}
            k => findings.push(unsupported(k)),
        }
    }
    match top.get("services") {
        None | Some(Value::Null) => findings.push(Finding::error(
            "the Compose file has no `services:`: write the service under `services:` (e.g. `services: {app: {image: busybox:1.36}}`)",
        )),
        Some(Value::Object(services)) => {
            if services.is_empty() {
                findings.push(Finding::error("`services` is empty: define a service").at("services"));
            }
            for (name, v) in services {
                let (rc, f) = parse_service(name, v, &format!("services.{name}"));
                findings.extend(f);
                if let Some(rc) = rc {
                    undeclared_volumes(&rc, declared.as_ref(), &mut findings);
                    out.services.push(rc);
                }
            }
        }
        Some(other) => findings.push(
            Finding::error(format!(
                "`services` must be a mapping of service names to services, not {}",
                kind_of(other)
            ))
            .at("services"),
        ),
    }
    out.findings = findings.into_iter().map(|f| about_file(f, obj)).collect();
    out
}

/// The names under top-level `volumes:` (options are warnings).
fn top_volumes(v: &Value, out: &mut Vec<Finding>) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    match v {
        Value::Null => {}
        Value::Object(m) => {
            for (name, opts) in m {
                names.insert(name.clone());
                match opts {
                    Value::Null => {}
                    Value::Object(o) => {
                        for k in o.keys() {
                            out.push(unsupported(&format!("volumes.{name}.{k}")));
                        }
                    }
                    other => out.push(
                        Finding::error(format!(
                            "`volumes.{name}` must be empty or a mapping, not {}",
                            kind_of(other)
                        ))
                        .at(format!("volumes.{name}")),
                    ),
                }
            }
        }
        other => out.push(
            Finding::error(format!(
                "`volumes` must be a mapping of volume names, not {}",
                kind_of(other)
            ))
            .at("volumes"),
        ),
    }
    names
}

/// A named volume a service uses must be declared at the top level, as
/// `docker compose` requires.
fn undeclared_volumes(rc: &RunConfig, declared: Option<&BTreeSet<String>>, out: &mut Vec<Finding>) {
    for (i, m) in rc.mounts.iter().enumerate() {
        let (MountKind::Volume, Some(name)) = (m.kind, &m.source) else {
            continue;
        };
        if declared.is_some_and(|d| d.contains(name)) {
            continue;
        }
        let path = rc
            .paths
            .get(&format!("mounts[{i}]"))
            .cloned()
            .unwrap_or_default();
        out.push(
            Finding::error(format!(
                "`{path}` uses the named volume `{name}`, which is not declared: add `volumes: {{{name}: {{}}}}` at the top level of the file (or mount a path: `./{name}:{}`)",
                m.target
            ))
            .at(path),
        );
    }
}

fn unsupported(path: &str) -> Finding {
    Finding::warning(format!(
        "`{path}` is not supported by seclab; it is ignored"
    ))
    .at(path)
}

/// What a JSON value is, for messages.
fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "empty",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn want_string(v: &Value, path: &str, out: &mut Vec<Finding>) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => {
            out.push(
                Finding::error(format!("`{path}` must be a string, not {}", kind_of(other)))
                    .at(path),
            );
            None
        }
    }
}

fn want_bool(v: &Value, path: &str, out: &mut Vec<Finding>) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        other => {
            out.push(
                Finding::error(format!(
                    "`{path}` must be true or false, not {}{}",
                    kind_of(other),
                    if other.is_string() {
                        " (write it without quotes)"
                    } else {
                        ""
                    }
                ))
                .at(path),
            );
            false
        }
    }
}

/// A list of strings (each entry checked).
fn want_strings(v: &Value, path: &str, out: &mut Vec<Finding>) -> Vec<String> {
    match v {
        Value::Null => Vec::new(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| match item {
                Value::String(s) => Some(s.clone()),
                other => {
                    out.push(
                        Finding::error(format!(
                            "`{path}[{i}]` must be a string, not {}{}",
                            kind_of(other),
                            if other.is_number() || other.is_boolean() {
                                format!(": quote it (\"{other}\")")
                            } else {
                                String::new()
                            }
                        ))
                        .at(format!("{path}[{i}]")),
                    );
                    None
                }
            })
            .collect(),
        other => {
            out.push(
                Finding::error(format!(
                    "`{path}` must be a list, not {}{}",
                    kind_of(other),
                    match other {
                        Value::String(s) => format!(" (write `[{s}]`)"),
                        _ => String::new(),
                    }
                ))
                .at(path),
            );
            Vec::new()
        }
    }
}

/// `command`/`entrypoint`: a string split like shell words (no shell
/// runs it), or a list of strings.
fn want_words(v: &Value, path: &str, out: &mut Vec<Finding>) -> Option<Vec<String>> {
    match v {
        Value::Null => None,
        Value::String(s) => match split_words(s) {
            Ok(words) => Some(words),
            Err(e) => {
                out.push(Finding::error(format!("`{path}`: {e}")).at(path));
                None
            }
        },
        Value::Array(_) => Some(want_strings(v, path, out)),
        other => {
            out.push(
                Finding::error(format!(
                    "`{path}` must be a string or a list of strings, not {}",
                    kind_of(other)
                ))
                .at(path),
            );
            None
        }
    }
}

/// Reads one service. `base_path` is where it sits (`services.app`, or a
/// lab.yaml demo step's path); every finding is at a path below it, and
/// `RunConfig.paths` maps each field read (`user`, `volumes[1]`,
/// `mounts[0]`, `cap_add[0]`, ...) to its full path, with `service` the
/// service's own path. `None` when the service is not a mapping or has no
/// image.
///
/// Supported: `image`, `user` (a number or a string), `command` and
/// `entrypoint`, `environment` (map or list), `working_dir`, `privileged`,
/// `cap_add`, `cap_drop`, `security_opt`, `read_only`, `tmpfs`, `volumes`,
/// `pid`, `network_mode`, `ipc`, `uts`, `userns_mode`, `devices`,
/// `mem_limit`, `deploy.resources.limits.memory`; `container_name` is a
/// warning (seclab names containers itself) and `restart` an info
/// (ignored). Any other field is a warning naming it.
pub fn parse_service(
    name: &str,
    value: &Value,
    base_path: &str,
) -> (Option<RunConfig>, Vec<Finding>) {
    let mut out = Vec::new();
    let at = |k: &str| format!("{base_path}.{k}");
    if !valid_service_name(name) {
        out.push(
            Finding::error(format!(
                "service name `{name}` is not valid: use letters, digits, `_`, `.` and `-`, starting with a letter or digit"
            ))
            .at(base_path),
        );
    }
    let Some(map) = value.as_object() else {
        out.push(
            Finding::error(format!(
                "`{base_path}` must be a mapping with at least `image:`, not {}",
                kind_of(value)
            ))
            .at(base_path),
        );
        return (None, out);
    };
    let mut rc = RunConfig {
        service: name.to_string(),
        ..RunConfig::default()
    };
    rc.paths.insert("service".into(), base_path.to_string());
    let mut mem_limit: Option<(u64, String)> = None;
    let mut deploy_mem: Option<(u64, String)> = None;
    for (key, v) in map {
        let path = at(key);
        let mut record = true;
        match key.as_str() {
            "image" => rc.image = want_string(v, &path, &mut out).unwrap_or_default(),
            "user" => rc.user = user(v, &path, &mut out),
            "command" => rc.command = want_words(v, &path, &mut out),
            "entrypoint" => rc.entrypoint = want_words(v, &path, &mut out),
            "environment" => rc.environment = environment(v, &path, &mut out),
            "working_dir" => rc.working_dir = want_string(v, &path, &mut out),
            "privileged" => rc.privileged = want_bool(v, &path, &mut out),
            "cap_add" | "cap_drop" => {
                let list = want_strings(v, &path, &mut out);
                for (i, c) in list.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    if caps::normalise(c).is_none() && !caps::is_all(c) {
                        out.push(
                            Finding::error(format!(
                                "`{p}`: `{c}` is not a Linux capability, and Docker refuses to create the container; write a name like NET_ADMIN (CAP_ prefix and case do not matter) or ALL"
                            ))
                            .at(&p),
                        );
                    }
                    rc.paths.insert(format!("{key}[{i}]"), p);
                }
                if key == "cap_add" {
                    rc.cap_add = list;
                } else {
                    rc.cap_drop = list;
                }
            }
            "security_opt" => rc.security_opt = want_strings(v, &path, &mut out),
            "read_only" => rc.read_only = want_bool(v, &path, &mut out),
            "tmpfs" => tmpfs(v, &path, &mut rc, &mut out),
            "volumes" => volumes(v, &path, &mut rc, &mut out),
            "pid" => rc.pid = want_string(v, &path, &mut out),
            "network_mode" => rc.network_mode = want_string(v, &path, &mut out),
            "ipc" => rc.ipc = want_string(v, &path, &mut out),
            "uts" => rc.uts = want_string(v, &path, &mut out),
            "userns_mode" => rc.userns_mode = want_string(v, &path, &mut out),
            "devices" => rc.devices = want_strings(v, &path, &mut out),
            "mem_limit" => {
                if !v.is_null() {
                    match parse_memory(v) {
                        Ok(b) => mem_limit = Some((b, path.clone())),
                        Err(e) => out.push(Finding::error(format!("`{path}`: {e}")).at(&path)),
                    }
                }
            }
            "deploy" => {
                record = false;
                deploy_mem = deploy(v, &path, &mut out);
            }
            "container_name" => {
                record = false;
                out.push(
                    Finding::warning(format!(
                        "`{path}` is ignored: seclab names its containers itself (seclab-<lab>-<service>)"
                    ))
                    .at(&path),
                );
            }
            "restart" => {
                record = false;
                out.push(
                    Finding::info(format!(
                        "`{path}` is ignored: seclab starts the container for each check"
                    ))
                    .at(&path),
                );
            }
            _ => {
                record = false;
                out.push(unsupported(&path));
            }
        }
        if record {
            rc.paths.insert(key.clone(), path);
        }
    }
    match (mem_limit, deploy_mem) {
        (Some((a, pa)), Some((b, _))) if a != b => out.push(
            Finding::error(format!(
                "`{pa}` ({}) and `{}` ({}) differ: set the memory limit once",
                format_bytes(a),
                at("deploy.resources.limits.memory"),
                format_bytes(b)
            ))
            .at(&pa),
        ),
        (Some((b, p)), _) | (None, Some((b, p))) => {
            rc.memory = Some(b);
            rc.paths.insert("memory".into(), p);
        }
        (None, None) => {}
    }
    if rc.image.trim().is_empty() {
        let why = if map.contains_key("build") {
            " (seclab runs images; `build:` is not supported)"
        } else {
            ""
        };
        out.push(
            Finding::error(format!(
                "`{base_path}` has no `image`{why}: write the image it runs, e.g. `image: busybox:1.36`"
            ))
            .at(base_path),
        );
        return (None, out);
    }
    (Some(rc), out)
}

fn valid_service_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// `user`: `0` and `"0"` alike; `root`, `1000:1000`, `nobody`.
fn user(v: &Value, path: &str, out: &mut Vec<Finding>) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) if n.as_u64().is_some_and(|n| u32::try_from(n).is_ok()) => {
            Some(n.to_string())
        }
        other => {
            out.push(
                Finding::error(format!(
                    "`{path}` must be a user name or uid (like `65534`, `nobody` or `1000:1000`), not {}",
                    if other.is_number() {
                        "a negative or fractional number"
                    } else {
                        kind_of(other)
                    }
                ))
                .at(path),
            );
            None
        }
    }
}

fn environment(v: &Value, path: &str, out: &mut Vec<Finding>) -> Vec<String> {
    match v {
        Value::Null => Vec::new(),
        Value::Object(m) => m
            .iter()
            .filter_map(|(k, val)| match val {
                Value::Null => Some(format!("{k}=")),
                Value::String(s) => Some(format!("{k}={s}")),
                Value::Number(_) | Value::Bool(_) => Some(format!("{k}={val}")),
                other => {
                    out.push(
                        Finding::error(format!(
                            "`{path}.{k}` must be a string, a number or a boolean, not {}",
                            kind_of(other)
                        ))
                        .at(format!("{path}.{k}")),
                    );
                    None
                }
            })
            .collect(),
        Value::Array(_) => want_strings(v, path, out)
            .into_iter()
            .map(|s| if s.contains('=') { s } else { format!("{s}=") })
            .collect(),
        other => {
            out.push(
                Finding::error(format!(
                    "`{path}` must be a mapping (KEY: value) or a list (KEY=value), not {}",
                    kind_of(other)
                ))
                .at(path),
            );
            Vec::new()
        }
    }
}

/// `deploy`: only `resources.limits.memory` is read; the rest is warned.
fn deploy(v: &Value, path: &str, out: &mut Vec<Finding>) -> Option<(u64, String)> {
    let mut found = None;
    let Some(m) = v.as_object() else {
        if !v.is_null() {
            out.push(
                Finding::error(format!("`{path}` must be a mapping, not {}", kind_of(v))).at(path),
            );
        }
        return None;
    };
    for (k, v) in m {
        let p = format!("{path}.{k}");
        if k != "resources" {
            out.push(unsupported(&p));
            continue;
        }
        let Some(res) = v.as_object() else {
            out.push(Finding::error(format!("`{p}` must be a mapping, not {}", kind_of(v))).at(&p));
            continue;
        };
        for (k, v) in res {
            let p = format!("{p}.{k}");
            if k != "limits" {
                out.push(unsupported(&p));
                continue;
            }
            let Some(lim) = v.as_object() else {
                out.push(
                    Finding::error(format!("`{p}` must be a mapping, not {}", kind_of(v))).at(&p),
                );
                continue;
            };
            for (k, v) in lim {
                let p = format!("{p}.{k}");
                if k != "memory" {
                    out.push(unsupported(&p));
                    continue;
                }
                match parse_memory(v) {
                    Ok(b) => found = Some((b, p)),
                    Err(e) => out.push(Finding::error(format!("`{p}`: {e}")).at(&p)),
                }
            }
        }
    }
    found
}

/// The path of `field` of a service read from a file (`services.app.user`);
/// for a field the file leaves out, where it would be; for a live config
/// (no paths), the field's name.
pub fn field_path(rc: &RunConfig, field: &str) -> String {
    rc.paths
        .get(field)
        .cloned()
        .or_else(|| rc.paths.get("service").map(|s| format!("{s}.{field}")))
        .unwrap_or_else(|| field.to_string())
}

/// Every field of a service `docker compose` knows but seclab does not
/// read would be warned by [`parse_service`]; this is the list seclab
/// reads, for docs and `lab validate`.
pub const SUPPORTED: &[&str] = &[
    "image",
    "user",
    "command",
    "entrypoint",
    "environment",
    "working_dir",
    "privileged",
    "cap_add",
    "cap_drop",
    "security_opt",
    "read_only",
    "tmpfs",
    "volumes",
    "pid",
    "network_mode",
    "ipc",
    "uts",
    "userns_mode",
    "devices",
    "mem_limit",
    "deploy.resources.limits.memory",
];
