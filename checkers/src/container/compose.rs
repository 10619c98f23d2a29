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

use serde_json::{Map, Value};

use super::{Mount, MountKind, RunConfig, caps};
use crate::{Finding, KubeObject};

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

/// Splits a command line into words as Compose does (shell quoting rules:
/// single quotes, double quotes, backslash escapes; no variables, no
/// globbing, no shell).
pub fn split_words(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err(format!("unterminated single quote in `{s}`")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => cur.push(c),
                            Some(c) => {
                                cur.push('\\');
                                cur.push(c);
                            }
                            None => return Err(format!("unterminated double quote in `{s}`")),
                        },
                        Some(c) => cur.push(c),
                        None => return Err(format!("unterminated double quote in `{s}`")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => cur.push(c),
                    None => return Err(format!("`{s}` ends with a lone backslash")),
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// A memory size as Docker reads it (`units.RAMInBytes`): bytes as a
/// number, or a string `64m`, `64M`, `64MB`, `64MiB`, `1g`, `1.5g`,
/// `1048576` (units are powers of 1024). Docker refuses a limit below
/// 6 MiB.
pub fn parse_memory(v: &Value) -> Result<u64, String> {
    const MIN: u64 = 6 * 1024 * 1024;
    let bytes = match v {
        Value::Number(n) => n.as_u64().ok_or_else(|| {
            format!("{n} is not a memory size: write a whole number of bytes or a size like 64m")
        })?,
        Value::String(s) => parse_size(s)?,
        other => {
            return Err(format!(
                "a memory size is a number of bytes or a string like 64m, not {}",
                kind_of(other)
            ));
        }
    };
    if bytes < MIN {
        return Err(format!(
            "{} is below Docker's minimum memory limit of 6m",
            format_bytes(bytes)
        ));
    }
    Ok(bytes)
}

fn parse_size(s: &str) -> Result<u64, String> {
    let bad =
        || format!("`{s}` is not a memory size: write it like 64m, 512k, 1g or 1048576 (bytes)");
    let t = s.trim();
    let num_end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, rest) = t.split_at(num_end);
    if num.is_empty() || num.starts_with('.') || num.ends_with('.') || num.matches('.').count() > 1
    {
        return Err(bad());
    }
    let rest = rest.strip_prefix(' ').unwrap_or(rest).to_ascii_lowercase();
    let mut unit = rest.as_str();
    let mult: u64 = match unit.chars().next() {
        Some('k') => 1 << 10,
        Some('m') => 1 << 20,
        Some('g') => 1 << 30,
        Some('t') => 1 << 40,
        Some('p') => 1 << 50,
        _ => 1,
    };
    if mult > 1 {
        unit = &unit[1..];
    }
    unit = unit.strip_prefix('i').unwrap_or(unit);
    unit = unit.strip_prefix('b').unwrap_or(unit);
    if !unit.is_empty() {
        return Err(bad());
    }
    let value: f64 = num.parse().map_err(|_| bad())?;
    let bytes = value * mult as f64;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(bad());
    }
    #[allow(clippy::cast_sign_loss)]
    Ok(bytes as u64)
}

/// Bytes as the shortest Docker size: `64m`, `1g`, `512k`, `1000`.
pub fn format_bytes(b: u64) -> String {
    for (unit, m) in [("g", 1u64 << 30), ("m", 1 << 20), ("k", 1 << 10)] {
        if b >= m && b % m == 0 {
            return format!("{}{unit}", b / m);
        }
    }
    b.to_string()
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

fn push_mount(rc: &mut RunConfig, m: Mount, path: String) {
    rc.paths
        .insert(format!("mounts[{}]", rc.mounts.len()), path);
    rc.mounts.push(m);
}

/// `tmpfs: /tmp` or `tmpfs: [/tmp:noexec,size=16m, /run]`.
fn tmpfs(v: &Value, path: &str, rc: &mut RunConfig, out: &mut Vec<Finding>) {
    let entries: Vec<(String, String)> = match v {
        Value::Null => Vec::new(),
        Value::String(s) => vec![(s.clone(), path.to_string())],
        Value::Array(_) => want_strings(v, path, out)
            .into_iter()
            .enumerate()
            .map(|(i, s)| (s, format!("{path}[{i}]")))
            .collect(),
        other => {
            out.push(
                Finding::error(format!(
                    "`{path}` must be a path or a list of paths (like `/tmp:noexec,size=16m`), not {}",
                    kind_of(other)
                ))
                .at(path),
            );
            Vec::new()
        }
    };
    for (entry, p) in entries {
        let (target, opts) = entry.split_once(':').unwrap_or((entry.as_str(), ""));
        if !target.starts_with('/') {
            out.push(
                Finding::error(format!(
                    "`{p}`: `{target}` is not an absolute path in the container (write `/tmp`)"
                ))
                .at(&p),
            );
            continue;
        }
        let options: Vec<String> = opts
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(String::from)
            .collect();
        let read_only = options.iter().any(|o| o == "ro");
        push_mount(
            rc,
            Mount {
                kind: MountKind::Tmpfs,
                source: None,
                target: target.to_string(),
                read_only,
                options: options
                    .into_iter()
                    .filter(|o| o != "ro" && o != "rw")
                    .collect(),
            },
            p,
        );
    }
}

/// `volumes:` entries, short and long syntax.
fn volumes(v: &Value, path: &str, rc: &mut RunConfig, out: &mut Vec<Finding>) {
    let items = match v {
        Value::Null => return,
        Value::Array(items) => items,
        other => {
            out.push(
                Finding::error(format!(
                    "`{path}` must be a list (like `- ./data:/data:ro`), not {}",
                    kind_of(other)
                ))
                .at(path),
            );
            return;
        }
    };
    for (i, item) in items.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let key = format!("volumes[{i}]");
        let parsed = match item {
            Value::String(s) => short_volume(s).map_err(|e| format!("`{p}`: {e}")),
            Value::Object(m) => long_volume(m, &p, out),
            other => Err(format!(
                "`{p}` must be `source:target[:ro]` or a mapping with `type`, `source` and `target`, not {}",
                kind_of(other)
            )),
        };
        match parsed {
            Ok(m) => {
                rc.paths.insert(key, p.clone());
                push_mount(rc, m, p);
            }
            Err(e) => out.push(Finding::error(e).at(&p)),
        }
    }
}

/// Whether a volume source is a host path (else a volume name).
fn is_host_path(s: &str) -> bool {
    s.starts_with('/') || s.starts_with('.') || s.starts_with('~')
}

/// `src:dst[:opts]`, or a bare `/path` (an anonymous volume).
pub fn short_volume(s: &str) -> Result<Mount, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [t] => (None, *t, None),
        [s, t] => (Some(*s), *t, None),
        [s, t, m] => (Some(*s), *t, Some(*m)),
        _ => {
            return Err(format!(
                "`{s}` has too many `:`: write `source:target` or `source:target:ro`"
            ));
        }
    };
    if !target.starts_with('/') {
        return Err(format!(
            "`{target}` in `{s}` is not an absolute path in the container: write `source:/path`"
        ));
    }
    if source.is_some_and(str::is_empty) {
        return Err(format!("`{s}` has an empty source"));
    }
    let mut read_only = false;
    let mut options = Vec::new();
    for o in mode.unwrap_or("").split(',').filter(|o| !o.is_empty()) {
        match o {
            "ro" => read_only = true,
            "rw" => read_only = false,
            "z" | "Z" | "nocopy" | "shared" | "rshared" | "slave" | "rslave" | "private"
            | "rprivate" | "cached" | "delegated" | "consistent" => options.push(o.to_string()),
            other => {
                return Err(format!(
                    "`{other}` in `{s}` is not a volume mode: write `ro` (read-only) or `rw`"
                ));
            }
        }
    }
    let kind = match source {
        Some(src) if is_host_path(src) => MountKind::Bind,
        Some(src) => {
            if !valid_volume_name(src) {
                return Err(format!(
                    "`{src}` in `{s}` is neither a host path (start it with `./` or `/`) nor a volume name"
                ));
            }
            MountKind::Volume
        }
        None => MountKind::Volume,
    };
    Ok(Mount {
        kind,
        source: source.map(String::from),
        target: target.to_string(),
        read_only,
        options,
    })
}

fn valid_volume_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// `{type: bind|volume|tmpfs, source, target, read_only, tmpfs: {size, mode}}`.
fn long_volume(m: &Map<String, Value>, p: &str, out: &mut Vec<Finding>) -> Result<Mount, String> {
    let mut errs = Vec::new();
    let kind = match m.get("type").and_then(Value::as_str) {
        Some("bind") => MountKind::Bind,
        Some("volume") => MountKind::Volume,
        Some("tmpfs") => MountKind::Tmpfs,
        Some(other) => {
            return Err(format!(
                "`{p}.type`: `{other}` is not supported; write bind, volume or tmpfs"
            ));
        }
        None => return Err(format!("`{p}` needs `type:` (bind, volume or tmpfs)")),
    };
    let source = match m.get("source") {
        None => None,
        Some(v) => want_string(v, &format!("{p}.source"), &mut errs),
    };
    let target = match m.get("target") {
        None => None,
        Some(v) => want_string(v, &format!("{p}.target"), &mut errs),
    };
    let read_only = m
        .get("read_only")
        .is_some_and(|v| want_bool(v, &format!("{p}.read_only"), &mut errs));
    let mut options = Vec::new();
    for (k, v) in m {
        match k.as_str() {
            "type" | "source" | "target" | "read_only" => {}
            "tmpfs" if kind == MountKind::Tmpfs => {
                let Some(t) = v.as_object() else {
                    return Err(format!("`{p}.tmpfs` must be a mapping, not {}", kind_of(v)));
                };
                for (tk, tv) in t {
                    let tp = format!("{p}.tmpfs.{tk}");
                    match tk.as_str() {
                        "size" => match tv {
                            Value::Number(_) | Value::String(_) => {
                                let size = match tv {
                                    Value::String(s) => parse_size(s),
                                    n => n.as_u64().ok_or_else(|| format!("{n} is not a size")),
                                };
                                match size {
                                    Ok(b) => options.push(format!("size={}", format_bytes(b))),
                                    Err(e) => return Err(format!("`{tp}`: {e}")),
                                }
                            }
                            other => {
                                return Err(format!(
                                    "`{tp}` must be a size, not {}",
                                    kind_of(other)
                                ));
                            }
                        },
                        "mode" => match tv.as_u64() {
                            Some(n) => options.push(format!("mode={n:o}")),
                            None => return Err(format!("`{tp}` must be a number (like 0o1777)")),
                        },
                        _ => out.push(unsupported(&tp)),
                    }
                }
            }
            _ => out.push(unsupported(&format!("{p}.{k}"))),
        }
    }
    if let Some(e) = errs.into_iter().next() {
        return Err(e.message);
    }
    let Some(target) = target.filter(|t| t.starts_with('/')) else {
        return Err(format!(
            "`{p}.target` must be an absolute path in the container (like /data)"
        ));
    };
    if kind == MountKind::Bind && source.is_none() {
        return Err(format!(
            "`{p}` is a bind mount and needs `source:` (a host path)"
        ));
    }
    if kind == MountKind::Tmpfs && source.is_some() {
        return Err(format!("`{p}`: a tmpfs has no `source`"));
    }
    Ok(Mount {
        kind,
        source,
        target,
        read_only,
        options,
    })
}

/// A word for a shell command line: quoted only when it needs to be.
fn sh_word(w: &str) -> String {
    if !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:=,@%+-".contains(c))
    {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

/// The `docker run --rm ...` command line that runs `rc` as seclab does,
/// for instructions and demos. Flags in a stable order: user, privileged,
/// capabilities (drops first), security options, read-only, tmpfs and
/// volumes (in file order), namespaces, devices, memory, environment,
/// working dir, entrypoint, then the image and its command.
pub fn docker_run(rc: &RunConfig) -> String {
    fn flag(words: &mut Vec<String>, f: &str, v: &str) {
        words.push(f.to_string());
        words.push(sh_word(v));
    }
    let mut w: Vec<String> = vec!["docker".into(), "run".into(), "--rm".into()];
    if let Some(u) = &rc.user {
        flag(&mut w, "--user", u);
    }
    if rc.privileged {
        w.push("--privileged".into());
    }
    for c in &rc.cap_drop {
        flag(&mut w, "--cap-drop", c);
    }
    for c in &rc.cap_add {
        flag(&mut w, "--cap-add", c);
    }
    for s in &rc.security_opt {
        flag(&mut w, "--security-opt", s);
    }
    if rc.read_only {
        w.push("--read-only".into());
    }
    for m in &rc.mounts {
        let mut opts = m.options.clone();
        if m.read_only {
            opts.insert(0, "ro".into());
        }
        let suffix = if opts.is_empty() {
            String::new()
        } else {
            format!(":{}", opts.join(","))
        };
        match m.kind {
            MountKind::Tmpfs => flag(&mut w, "--tmpfs", &format!("{}{suffix}", m.target)),
            MountKind::Bind | MountKind::Volume => {
                let spec = match &m.source {
                    Some(s) => format!("{s}:{}{suffix}", m.target),
                    None => format!("{}{suffix}", m.target),
                };
                flag(&mut w, "-v", &spec);
            }
        }
    }
    for (f, v) in [
        ("--pid", &rc.pid),
        ("--network", &rc.network_mode),
        ("--ipc", &rc.ipc),
        ("--uts", &rc.uts),
        ("--userns", &rc.userns_mode),
    ] {
        if let Some(v) = v {
            flag(&mut w, f, v);
        }
    }
    for d in &rc.devices {
        flag(&mut w, "--device", d);
    }
    if let Some(m) = rc.memory {
        flag(&mut w, "--memory", &format_bytes(m));
    }
    for e in &rc.environment {
        flag(&mut w, "-e", e);
    }
    if let Some(dir) = &rc.working_dir {
        flag(&mut w, "-w", dir);
    }
    let mut rest: Vec<String> = Vec::new();
    if let Some(ep) = &rc.entrypoint {
        match ep.split_first() {
            Some((first, more)) => {
                flag(&mut w, "--entrypoint", first);
                rest.extend(more.iter().cloned());
            }
            None => flag(&mut w, "--entrypoint", ""),
        }
    }
    w.push(sh_word(&rc.image));
    rest.extend(rc.command.iter().flatten().cloned());
    w.extend(rest.iter().map(|x| sh_word(x)));
    w.join(" ")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Severity::{Info, Warning};

    /// A mount as (kind, source, target, read-only, options).
    type MountRow<'a> = (MountKind, Option<&'a str>, &'a str, bool, Vec<&'a str>);

    fn file(yaml: &str) -> KubeObject {
        let value: Value = serde_saphyr::from_str(yaml).expect("test YAML parses");
        KubeObject {
            source: Some("compose.yaml".into()),
            doc: 0,
            value,
        }
    }

    fn errors(cf: &ComposeFile) -> Vec<(String, String)> {
        cf.findings
            .iter()
            .filter(|f| f.severity == crate::Severity::Error)
            .map(|f| {
                (
                    f.paths.first().cloned().unwrap_or_default(),
                    f.message.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn a_full_service_reads_every_supported_field() {
        let cf = parse(&file(
            r#"
name: lab
services:
  app:
    image: busybox:1.36
    user: 65534
    command: sh -c 'echo "hi there"; sleep 600'
    entrypoint: ["/bin/busybox"]
    environment: {MODE: prod, N: 3, EMPTY: null}
    working_dir: /work
    cap_drop: [ALL]
    cap_add: [CAP_NET_ADMIN, net_raw]
    security_opt: [no-new-privileges:true]
    read_only: true
    tmpfs: ["/tmp:noexec,size=16m", /run]
    volumes:
      - ./data:/data:ro
      - cache:/cache
      - /anon
      - {type: tmpfs, target: /scratch, tmpfs: {size: 1m}}
      - {type: bind, source: ./in, target: /in, read_only: true}
    pid: host
    network_mode: none
    ipc: private
    devices: ["/dev/fuse:/dev/fuse:rwm"]
    mem_limit: 64m
volumes:
  cache:
"#,
        ));
        assert!(cf.findings.is_empty(), "{:?}", cf.findings);
        assert_eq!(cf.name.as_deref(), Some("lab"));
        let rc = cf.service("app").expect("app");
        assert_eq!(rc.user.as_deref(), Some("65534"));
        assert_eq!(
            rc.command.as_deref(),
            Some(
                &[
                    "sh".to_string(),
                    "-c".into(),
                    "echo \"hi there\"; sleep 600".into()
                ][..]
            )
        );
        assert_eq!(
            rc.entrypoint.as_deref(),
            Some(&["/bin/busybox".to_string()][..])
        );
        let mut env = rc.environment.clone();
        env.sort();
        assert_eq!(env, ["EMPTY=", "MODE=prod", "N=3"]);
        assert_eq!(rc.cap_add, ["CAP_NET_ADMIN", "net_raw"]);
        assert_eq!(rc.memory, Some(64 << 20));
        assert_eq!(rc.pid.as_deref(), Some("host"));
        assert!(rc.read_only);
        let mounts: Vec<MountRow<'_>> = rc
            .mounts
            .iter()
            .map(|m| {
                (
                    m.kind,
                    m.source.as_deref(),
                    m.target.as_str(),
                    m.read_only,
                    m.options.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            mounts,
            [
                (
                    MountKind::Tmpfs,
                    None,
                    "/tmp",
                    false,
                    vec!["noexec", "size=16m"]
                ),
                (MountKind::Tmpfs, None, "/run", false, vec![]),
                (MountKind::Bind, Some("./data"), "/data", true, vec![]),
                (MountKind::Volume, Some("cache"), "/cache", false, vec![]),
                (MountKind::Volume, None, "/anon", false, vec![]),
                (MountKind::Tmpfs, None, "/scratch", false, vec!["size=1m"]),
                (MountKind::Bind, Some("./in"), "/in", true, vec![]),
            ]
        );
        assert_eq!(rc.paths["user"], "services.app.user");
        assert_eq!(rc.paths["volumes[1]"], "services.app.volumes[1]");
        assert_eq!(rc.paths["mounts[0]"], "services.app.tmpfs[0]");
        assert_eq!(rc.paths["mounts[3]"], "services.app.volumes[1]");
        assert_eq!(rc.paths["cap_add[0]"], "services.app.cap_add[0]");
        assert_eq!(rc.paths["memory"], "services.app.mem_limit");
        assert_eq!(field_path(rc, "privileged"), "services.app.privileged");
    }

    #[test]
    fn user_0_and_quoted_0_read_alike() {
        for (y, want) in [
            ("0", Some("0")),
            ("\"0\"", Some("0")),
            ("root:root", Some("root:root")),
            ("\"1000:1000\"", Some("1000:1000")),
            ("", None),
        ] {
            let cf = parse(&file(&format!(
                "services:\n  app:\n    image: x\n    user: {y}\n"
            )));
            assert!(errors(&cf).is_empty(), "{y}: {:?}", cf.findings);
            assert_eq!(cf.services[0].user.as_deref(), want, "{y}");
        }
    }

    #[test]
    fn malformed_files_are_errors_at_their_paths() {
        let cases: &[(&str, &str, &str)] = &[
            ("[1, 2]", "", "a Compose file is a mapping"),
            ("name: x\n", "", "has no `services:`"),
            (
                "services: [app]\n",
                "services",
                "must be a mapping of service names",
            ),
            ("services: {}\n", "services", "`services` is empty"),
            (
                "services:\n  app: busybox\n",
                "services.app",
                "must be a mapping with at least `image:`",
            ),
            (
                "services:\n  app: {user: 1}\n",
                "services.app",
                "has no `image`",
            ),
            (
                "services:\n  app: {build: .}\n",
                "services.app",
                "`build:` is not supported",
            ),
            (
                "services:\n  app: {image: x, user: [1]}\n",
                "services.app.user",
                "must be a user name or uid",
            ),
            (
                "services:\n  app: {image: x, user: -1}\n",
                "services.app.user",
                "negative",
            ),
            (
                "services:\n  app: {image: x, privileged: \"yes\"}\n",
                "services.app.privileged",
                "true or false",
            ),
            (
                "services:\n  app: {image: x, cap_add: NET_ADMIN}\n",
                "services.app.cap_add",
                "must be a list",
            ),
            (
                "services:\n  app: {image: x, cap_add: [NET_ADMINS]}\n",
                "services.app.cap_add[0]",
                "not a Linux capability",
            ),
            (
                "services:\n  app: {image: x, cap_drop: [1]}\n",
                "services.app.cap_drop[0]",
                "must be a string",
            ),
            (
                "services:\n  app: {image: x, command: [sleep, 600]}\n",
                "services.app.command[1]",
                "quote it (\"600\")",
            ),
            (
                "services:\n  app: {image: x, command: \"sh -c 'oops\"}\n",
                "services.app.command",
                "unterminated single quote",
            ),
            (
                "services:\n  app: {image: x, volumes: ./a:/a}\n",
                "services.app.volumes",
                "must be a list",
            ),
            (
                "services:\n  app: {image: x, volumes: [\"a:b:c:d\"]}\n",
                "services.app.volumes[0]",
                "too many `:`",
            ),
            (
                "services:\n  app: {image: x, volumes: [\"./a:data\"]}\n",
                "services.app.volumes[0]",
                "not an absolute path",
            ),
            (
                "services:\n  app: {image: x, volumes: [\"./a:/a:readonly\"]}\n",
                "services.app.volumes[0]",
                "not a volume mode",
            ),
            (
                "services:\n  app: {image: x, volumes: [\"da ta:/a\"]}\n",
                "services.app.volumes[0]",
                "neither a host path",
            ),
            (
                "services:\n  app: {image: x, volumes: [{source: ./a, target: /a}]}\n",
                "services.app.volumes[0]",
                "needs `type:`",
            ),
            (
                "services:\n  app: {image: x, volumes: [{type: bind, target: /a}]}\n",
                "services.app.volumes[0]",
                "needs `source:`",
            ),
            (
                "services:\n  app: {image: x, volumes: [{type: npipe, target: /a}]}\n",
                "services.app.volumes[0]",
                "not supported",
            ),
            (
                "services:\n  app: {image: x, volumes: [7]}\n",
                "services.app.volumes[0]",
                "not a number",
            ),
            (
                "services:\n  app: {image: x, volumes: [data:/data]}\n",
                "services.app.volumes[0]",
                "not declared",
            ),
            (
                "services:\n  app: {image: x, tmpfs: [tmp]}\n",
                "services.app.tmpfs[0]",
                "not an absolute path",
            ),
            (
                "services:\n  app: {image: x, mem_limit: lots}\n",
                "services.app.mem_limit",
                "`lots` is not a memory size",
            ),
            (
                "services:\n  app: {image: x, mem_limit: 1k}\n",
                "services.app.mem_limit",
                "below Docker's minimum",
            ),
            (
                "services:\n  app: {image: x, mem_limit: 1.5}\n",
                "services.app.mem_limit",
                "not a memory size",
            ),
            (
                "services:\n  app: {image: x, mem_limit: 64m, deploy: {resources: {limits: {memory: 128m}}}}\n",
                "services.app.mem_limit",
                "differ",
            ),
            (
                "services:\n  app: {image: x, deploy: {resources: {limits: {memory: [1]}}}}\n",
                "services.app.deploy.resources.limits.memory",
                "a memory size is",
            ),
            (
                "services:\n  app: {image: x, environment: 3}\n",
                "services.app.environment",
                "mapping (KEY: value) or a list",
            ),
            (
                "services:\n  \"-bad\": {image: x}\n",
                "services.-bad",
                "not valid",
            ),
            (
                "services:\n  app: {image: [x]}\n",
                "services.app.image",
                "must be a string",
            ),
        ];
        for (yaml, path, msg) in cases {
            let cf = parse(&file(yaml));
            let errs = errors(&cf);
            assert!(
                errs.iter().any(|(p, m)| p == path && m.contains(msg)),
                "{yaml}: want `{msg}` at `{path}`, got {errs:?}"
            );
            assert!(
                cf.findings
                    .iter()
                    .all(|f| f.source.as_deref() == Some("compose.yaml"))
            );
        }
    }

    #[test]
    fn any_value_in_any_field_is_a_finding_never_a_panic() {
        let values = [
            serde_json::json!(null),
            serde_json::json!(true),
            serde_json::json!(-3.5),
            serde_json::json!(u64::MAX),
            serde_json::json!(""),
            serde_json::json!(":::"),
            serde_json::json!("\u{e9}\u{301}:/\u{1F600}:ro"),
            serde_json::json!([null, [], {}]),
            serde_json::json!({"type": "tmpfs", "target": 1, "tmpfs": {"size": "x", "mode": "y"}}),
            serde_json::json!({"resources": {"limits": {"memory": "1.5.5g"}}}),
        ];
        for field in SUPPORTED
            .iter()
            .map(|f| f.split('.').next().unwrap_or(f))
            .chain(["container_name", "restart", "x"])
        {
            for v in &values {
                let obj = KubeObject::new(
                    serde_json::json!({"services": {"app": {"image": "x", field: v}}}),
                );
                let cf = parse(&obj);
                assert!(cf.findings.iter().all(|f| !f.message.is_empty()));
                let list = KubeObject::new(
                    serde_json::json!({"services": {"app": {"image": "x", field: [v]}}}),
                );
                let _ = parse(&list);
            }
        }
        for v in &values {
            let _ = parse(&KubeObject::new(v.clone()));
            let _ = parse(&KubeObject::new(
                serde_json::json!({"services": v, "volumes": v, "name": v}),
            ));
        }
    }

    #[test]
    fn unsupported_fields_are_warnings_named_by_path() {
        let cf = parse(&file(
            "version: \"3.8\"\nx-common: &c {a: 1}\nnetworks: {front: {}}\nservices:\n  app:\n    image: x\n    healthcheck: {test: [CMD, true]}\n    container_name: mine\n    restart: always\n    deploy: {replicas: 2, resources: {limits: {cpus: \"0.5\", memory: 64m}}}\n",
        ));
        let msgs: Vec<(crate::Severity, &str)> = cf
            .findings
            .iter()
            .map(|f| (f.severity, f.message.as_str()))
            .collect();
        assert!(
            msgs.contains(&(
                Warning,
                "`services.app.healthcheck` is not supported by seclab; it is ignored"
            )),
            "{msgs:?}"
        );
        assert!(msgs.contains(&(
            Warning,
            "`networks` is not supported by seclab; it is ignored"
        )));
        assert!(msgs.contains(&(
            Warning,
            "`services.app.deploy.replicas` is not supported by seclab; it is ignored"
        )));
        assert!(msgs.contains(&(
            Warning,
            "`services.app.deploy.resources.limits.cpus` is not supported by seclab; it is ignored"
        )));
        assert!(msgs.iter().any(|(s, m)| *s == Warning
            && m.contains("container_name")
            && m.contains("names its containers itself")));
        assert!(
            msgs.iter()
                .any(|(s, m)| *s == Info && m.contains("restart"))
        );
        assert!(
            msgs.iter()
                .any(|(s, m)| *s == Info && m.starts_with("`version` is obsolete"))
        );
        assert!(!msgs.iter().any(|(_, m)| m.contains("x-common")));
        assert!(!cf.has_errors());
        assert_eq!(cf.services[0].memory, Some(64 << 20));
        assert_eq!(
            cf.services[0].paths["memory"],
            "services.app.deploy.resources.limits.memory"
        );
    }

    #[test]
    fn memory_sizes_as_docker_reads_them() {
        for (v, want) in [
            (serde_json::json!("64m"), 64u64 << 20),
            (serde_json::json!("64M"), 64 << 20),
            (serde_json::json!("64MB"), 64 << 20),
            (serde_json::json!("64MiB"), 64 << 20),
            (serde_json::json!("64 m"), 64 << 20),
            (serde_json::json!("1g"), 1 << 30),
            (serde_json::json!("1.5g"), 3 << 29),
            (serde_json::json!("8192k"), 8 << 20),
            (serde_json::json!(67_108_864), 64 << 20),
            (serde_json::json!("67108864"), 64 << 20),
        ] {
            assert_eq!(parse_memory(&v), Ok(want), "{v}");
        }
        for bad in ["", "m", "64x", "64mm", "1..5g", ".5g", "-64m", "64 mb b"] {
            assert!(parse_memory(&serde_json::json!(bad)).is_err(), "{bad}");
        }
        assert_eq!(format_bytes(64 << 20), "64m");
        assert_eq!(format_bytes(1 << 30), "1g");
        assert_eq!(format_bytes(1000), "1000");
    }

    #[test]
    fn words_split_like_a_shell_without_one() {
        assert_eq!(
            split_words("ip addr add 192.0.2.1/32 dev lo")
                .expect("ok")
                .len(),
            6
        );
        assert_eq!(
            split_words(r#"sh -c "echo \"a b\" \$HOME" 'x y'\ z"#).expect("ok"),
            ["sh", "-c", "echo \"a b\" $HOME", "x y z"]
        );
        assert_eq!(split_words("  ").expect("ok"), Vec::<String>::new());
        assert_eq!(split_words("''").expect("ok"), [""]);
        assert!(split_words("a \"b").is_err());
        assert!(split_words("a \\").is_err());
    }

    #[test]
    fn docker_run_lists_flags_in_a_stable_order() {
        let cf = parse(&file(
            "services:\n  app:\n    image: busybox:1.36\n    user: \"65534\"\n    cap_drop: [ALL]\n    cap_add: [NET_ADMIN]\n    security_opt: [no-new-privileges]\n    read_only: true\n    tmpfs: [\"/tmp:noexec\"]\n    volumes: [\"./data:/data:ro\"]\n    mem_limit: 64m\n    environment: [\"GREETING=hello world\"]\n    command: [sleep, \"600\"]\n",
        ));
        assert_eq!(
            docker_run(&cf.services[0]),
            "docker run --rm --user 65534 --cap-drop ALL --cap-add NET_ADMIN --security-opt no-new-privileges --read-only --tmpfs /tmp:noexec -v ./data:/data:ro --memory 64m -e 'GREETING=hello world' busybox:1.36 sleep 600"
        );
        let priv_ = RunConfig {
            image: "busybox:1.36".into(),
            privileged: true,
            pid: Some("host".into()),
            entrypoint: Some(vec!["sh".into(), "-c".into()]),
            command: Some(vec!["echo it's".into()]),
            ..RunConfig::default()
        };
        assert_eq!(
            docker_run(&priv_),
            r"docker run --rm --privileged --pid host --entrypoint sh busybox:1.36 -c 'echo it'\''s'"
        );
    }

    #[test]
    fn a_demo_step_service_reads_at_its_own_path() {
        let v = serde_json::json!({"image": "busybox:1.36", "user": [0]});
        let (rc, f) = parse_service("demo", &v, "tasks[0].demo[1].run");
        assert!(rc.is_some());
        assert_eq!(f[0].paths, ["tasks[0].demo[1].run.user"]);
    }
}
