//! Compose `tmpfs` and `volumes` (short and long syntax) to mounts.

use serde_json::{Map, Value};

use super::super::{Mount, MountKind, RunConfig};
use super::values::{format_bytes, parse_size};
use super::{kind_of, unsupported, want_bool, want_string, want_strings};
use crate::Finding;

fn push_mount(rc: &mut RunConfig, m: Mount, path: String) {
    rc.paths
        .insert(format!("mounts[{}]", rc.mounts.len()), path);
    rc.mounts.push(m);
}

/// `tmpfs: /tmp` or `tmpfs: [/tmp:noexec,size=16m, /run]`.
pub(super) fn tmpfs(v: &Value, path: &str, rc: &mut RunConfig, out: &mut Vec<Finding>) {
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
pub(super) fn volumes(v: &Value, path: &str, rc: &mut RunConfig, out: &mut Vec<Finding>) {
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
