//! The `container` checker's rules, one function each: what a run config
//! must (not) do, each failure naming the field and what to write.

use std::collections::BTreeSet;

use super::super::compose::format_bytes;
use super::super::{Mount, MountKind, RunConfig, caps};
use super::{CapRule, ContainerCheck, Failure, HostPathMode, HostPaths, Size, fail};
use crate::runs::{ImageFacts, ImageUser, Images, facts_for};

pub(super) fn failures(check: &ContainerCheck, rc: &RunConfig, images: &Images) -> Vec<Failure> {
    let mut out = Vec::new();
    if let Some(want) = check.non_root {
        non_root(want, rc, images, &mut out);
    }
    if let Some(want) = check.privileged
        && rc.privileged != want
    {
        out.push(if want {
            fail("privileged", "privileged", "the container is not privileged; this task needs `privileged: true`")
        } else {
            fail(
                "privileged",
                "privileged",
                "`privileged: true` gives the container every capability and every host device, without seccomp or AppArmor confinement: root in it is root on the host; remove it",
            )
        });
    }
    if let Some(c) = &check.capabilities {
        capabilities(c, rc, &mut out);
    }
    if let Some(want) = check.no_new_privileges
        && no_new_privileges(rc) != want
    {
        out.push(if want {
            fail(
                "no_new_privileges",
                "security_opt",
                "no-new-privileges is not set, so a setuid program in the image can still gain privileges: add `security_opt: [\"no-new-privileges:true\"]`",
            )
        } else {
            fail("no_new_privileges", "security_opt", "no-new-privileges is set; this task needs it off: remove it from `security_opt`")
        });
    }
    if let Some(want) = check.read_only_root {
        read_only_root(want, rc, images, &mut out);
    }
    if let Some(want) = check.writable_noexec {
        writable_noexec(want, rc, &mut out);
    }
    if let Some(want) = check.host_namespaces {
        host_namespaces(want, rc, &mut out);
    }
    if let Some(want) = check.docker_socket {
        docker_socket(want, rc, &mut out);
    }
    if let Some(hp) = &check.host_paths {
        host_paths(hp, rc, &mut out);
    }
    if let Some(limit) = &check.memory_limit {
        memory(limit, rc, &mut out);
    }
    out
}

/// The uid the container runs as, and how it was found (for messages).
fn uid_of(rc: &RunConfig, images: &Images) -> Result<(u32, String), String> {
    let facts = || facts_for(images, &rc.image).map(|(_, f)| f);
    let no_facts = |why: &str| {
        format!(
            "the lab has no `images:` facts for {}: seclab cannot tell {why} (lab author: add it to lab.yaml `images:`)",
            rc.image
        )
    };
    let by_name = |name: &str, facts: &ImageFacts| {
        facts.users.get(name).copied().ok_or_else(|| {
            format!(
                "image {} has no user {name}, so Docker refuses to start the container (unable to find user {name}: no matching entries in passwd file); use a uid, e.g. `user: \"65534\"`",
                rc.image
            )
        })
    };
    let user = rc
        .user
        .as_deref()
        .map(|u| u.split(':').next().unwrap_or("").trim())
        .filter(|u| !u.is_empty());
    match user {
        Some(u) if u.chars().all(|c| c.is_ascii_digit()) => u
            .parse::<u32>()
            .map(|n| (n, format!("`user: {}`", quoted(rc))))
            .map_err(|_| format!("`user: {}` is not a valid uid", quoted(rc))),
        Some("root") => Ok((0, format!("`user: {}`", quoted(rc)))),
        Some(name) => {
            let f = facts().ok_or_else(|| no_facts(&format!("which uid user {name} is")))?;
            by_name(name, f).map(|n| {
                (
                    n,
                    format!("`user: {}` (uid {n} in {})", quoted(rc), rc.image),
                )
            })
        }
        None => {
            let f = facts().ok_or_else(|| no_facts("which user the image runs as"))?;
            let how = format!("`user` unset: {}'s own user, {}", rc.image, f.user);
            match &f.user {
                ImageUser::Uid(n) => Ok((*n, how)),
                ImageUser::Name(s) => match f.user.uid() {
                    Some(n) => Ok((n, how)),
                    None => by_name(s, f).map(|n| (n, how)),
                },
            }
        }
    }
}

fn quoted(rc: &RunConfig) -> String {
    rc.user
        .as_deref()
        .map(|u| format!("\"{u}\""))
        .unwrap_or_default()
}

fn non_root(want: bool, rc: &RunConfig, images: &Images, out: &mut Vec<Failure>) {
    match uid_of(rc, images) {
        Err(e) => out.push(fail("non_root", "user", e)),
        Ok((0, how)) if want => out.push(fail(
            "non_root",
            "user",
            format!(
                "the container runs as root (uid 0; {how}): set `user:` to a non-root uid, e.g. `user: \"65534\"` (nobody)"
            ),
        )),
        Ok((n, how)) if !want && n != 0 => out.push(fail(
            "non_root",
            "user",
            format!("the container runs as uid {n} ({how}); this task needs root: remove `user:`"),
        )),
        Ok(_) => {}
    }
}

/// Canonical names of a lab's list (`ALL` → every capability).
fn cap_set(names: &[String]) -> BTreeSet<&'static str> {
    if names.iter().any(|n| caps::is_all(n)) {
        return caps::NAMES.iter().copied().collect();
    }
    names.iter().filter_map(|n| caps::normalise(n)).collect()
}

fn list(set: &BTreeSet<&str>) -> String {
    set.iter().copied().collect::<Vec<_>>().join(", ")
}

fn capabilities(rule: &CapRule, rc: &RunConfig, out: &mut Vec<Failure>) {
    let eff = caps::effective(rc);
    if let Some(allowed) = &rule.allowed {
        let allowed = cap_set(allowed);
        let extra: BTreeSet<&str> = eff.difference(&allowed).copied().collect();
        if !extra.is_empty() {
            let added: BTreeSet<&str> = rc
                .cap_add
                .iter()
                .filter_map(|c| caps::normalise(c))
                .filter(|c| extra.contains(c))
                .collect();
            let (field, hint) = if rc.privileged {
                (
                    "privileged".to_string(),
                    "remove `privileged: true`, which grants every capability".to_string(),
                )
            } else if rc.cap_add.iter().any(|c| caps::is_all(c)) {
                let i = rc.cap_add.iter().position(|c| caps::is_all(c)).unwrap_or(0);
                (
                    format!("cap_add[{i}]"),
                    if allowed.is_empty() {
                        "do not add ALL; write `cap_drop: [ALL]`".to_string()
                    } else {
                        format!(
                            "do not add ALL; add only what it needs: `cap_add: [{}]`",
                            list(&allowed)
                        )
                    },
                )
            } else if !added.is_empty() {
                (
                    "cap_add".to_string(),
                    format!("remove {} from `cap_add`", list(&added)),
                )
            } else if allowed.is_empty() {
                (
                    "cap_drop".to_string(),
                    "drop them all: `cap_drop: [ALL]`".to_string(),
                )
            } else {
                (
                    "cap_drop".to_string(),
                    format!(
                        "drop Docker's defaults and add back only what it needs: `cap_drop: [ALL]` and `cap_add: [{}]`",
                        list(&allowed)
                    ),
                )
            };
            let what = if allowed.is_empty() {
                "and this task allows none".to_string()
            } else {
                format!("beyond what this task allows ({})", list(&allowed))
            };
            out.push(fail(
                "capabilities.allowed",
                field,
                format!(
                    "the container has {} {}: {what}; {hint}",
                    if extra.len() == 1 {
                        "capability"
                    } else {
                        "capabilities"
                    },
                    list(&extra)
                ),
            ));
        }
    }
    let required = cap_set(&rule.required);
    let missing: BTreeSet<&str> = required.difference(&eff).copied().collect();
    if !missing.is_empty() {
        let dropped: BTreeSet<&str> = rc
            .cap_drop
            .iter()
            .filter_map(|c| caps::normalise(c))
            .filter(|c| missing.contains(c))
            .collect();
        let note = if dropped.is_empty() {
            String::new()
        } else {
            format!(" (your `cap_drop` removes {})", list(&dropped))
        };
        out.push(fail(
            "capabilities.required",
            "cap_add",
            format!(
                "the container lacks {}{note}, so what the task needs fails: add `cap_add: [{}]`",
                list(&missing),
                list(&missing)
            ),
        ));
    }
}

/// Whether `security_opt` sets no-new-privileges (`no-new-privileges`,
/// `no-new-privileges:true`, `no-new-privileges=true`; the last one wins).
pub fn no_new_privileges(rc: &RunConfig) -> bool {
    let mut on = false;
    for o in &rc.security_opt {
        let o = o.trim().to_ascii_lowercase();
        let Some(rest) = o.strip_prefix("no-new-privileges") else {
            continue;
        };
        match rest {
            "" => on = true,
            r => {
                if let Some(v) = r.strip_prefix(':').or_else(|| r.strip_prefix('=')) {
                    on = v == "true";
                }
            }
        }
    }
    on
}

/// Normalised path components, and whether the path is absolute.
fn components(p: &str) -> (bool, Vec<&str>) {
    let abs = p.starts_with('/');
    let parts = p
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    (abs, parts)
}

/// Whether `outer` is `inner` or a folder holding it. A relative path
/// (as Compose writes a bind source) matched against an absolute one (as
/// the engine reports it) matches where its components appear in order.
pub(super) fn holds(outer: &str, inner: &str) -> bool {
    let (oa, o) = components(outer);
    let (ia, i) = components(inner);
    match (oa, ia) {
        _ if oa == ia => o.len() <= i.len() && o == i[..o.len()],
        (true, false) => o.is_empty(),
        _ => !o.is_empty() && i.windows(o.len()).any(|w| w == o.as_slice()),
    }
}

/// Whether `path` (in the container) is `target` or below it.
pub(super) fn under(path: &str, target: &str) -> bool {
    let (_, p) = components(path);
    let (_, t) = components(target);
    t.len() <= p.len() && t == p[..t.len()]
}

fn mount_field(rc: &RunConfig, i: usize, fallback: &str) -> String {
    if rc.paths.contains_key(&format!("mounts[{i}]")) {
        format!("mounts[{i}]")
    } else {
        fallback.to_string()
    }
}

fn describe_mount(m: &Mount) -> String {
    match (m.kind, &m.source) {
        (MountKind::Tmpfs, _) => format!("tmpfs {}", m.target),
        (MountKind::Bind, Some(s)) => format!("{s}:{}", m.target),
        (MountKind::Volume, Some(s)) => format!("volume {s} at {}", m.target),
        (_, None) => format!("volume at {}", m.target),
    }
}

fn read_only_root(want: bool, rc: &RunConfig, images: &Images, out: &mut Vec<Failure>) {
    if !want {
        if rc.read_only {
            out.push(fail(
                "read_only_root",
                "read_only",
                "the root filesystem is read-only; this task needs it writable: remove `read_only: true`",
            ));
        }
        return;
    }
    if !rc.read_only {
        out.push(fail(
            "read_only_root",
            "read_only",
            "the root filesystem is writable: set `read_only: true` (and a tmpfs for each path the app writes)",
        ));
        return;
    }
    let Some((_, facts)) = facts_for(images, &rc.image) else {
        out.push(fail(
            "read_only_root",
            "image",
            format!(
                "the lab has no `images:` facts for {}: seclab cannot tell which paths it writes (lab author: add it to lab.yaml `images:`)",
                rc.image
            ),
        ));
        return;
    };
    let unwritable: Vec<&str> = facts
        .writable_paths
        .iter()
        .filter(|wp| {
            !rc.mounts
                .iter()
                .any(|m| !m.read_only && under(wp, &m.target))
        })
        .map(String::as_str)
        .collect();
    if !unwritable.is_empty() {
        let tmpfs: Vec<String> = unwritable.iter().map(|p| format!("\"{p}\"")).collect();
        out.push(fail(
            "read_only_root",
            if rc.paths.contains_key("tmpfs") { "tmpfs" } else { "read_only" },
            format!(
                "with `read_only: true`, {} cannot write {}, and the app fails: mount a writable tmpfs there (`tmpfs: [{}]`)",
                rc.image,
                unwritable.join(", "),
                tmpfs.join(", ")
            ),
        ));
    }
}

/// Whether a mount lets programs on it run. Docker mounts a tmpfs
/// `noexec,nosuid,nodev` unless its options say `exec` (both `--tmpfs` and
/// `--mount type=tmpfs`; measured on Docker 20.10); binds and volumes allow
/// exec unless `noexec`.
pub fn allows_exec(m: &Mount) -> bool {
    let has = |o: &str| m.options.iter().any(|x| x == o);
    match m.kind {
        MountKind::Tmpfs => has("exec") && !has("noexec"),
        MountKind::Bind | MountKind::Volume => !has("noexec"),
    }
}

fn writable_noexec(want: bool, rc: &RunConfig, out: &mut Vec<Failure>) {
    let exec: Vec<(usize, &Mount)> = rc
        .mounts
        .iter()
        .enumerate()
        .filter(|(_, m)| !m.read_only && allows_exec(m))
        .collect();
    if want {
        let Some((first, _)) = exec.first() else {
            return;
        };
        let each: Vec<String> = exec
            .iter()
            .map(|(_, m)| match m.kind {
                MountKind::Tmpfs => format!(
                    "{}: drop `exec` (Docker mounts a tmpfs noexec by default; `tmpfs: [\"{}:noexec\"]`)",
                    describe_mount(m),
                    m.target
                ),
                _ => format!(
                    "{}: mount it read-only (`:ro`) or use a tmpfs with noexec instead (`tmpfs: [\"{}:noexec\"]`)",
                    describe_mount(m),
                    m.target
                ),
            })
            .collect();
        out.push(fail(
            "writable_noexec",
            mount_field(rc, *first, "tmpfs"),
            format!(
                "a writable mount lets a dropped binary run: {}",
                each.join("; ")
            ),
        ));
    } else if exec.is_empty() && rc.read_only {
        out.push(fail(
            "writable_noexec",
            "tmpfs",
            "nothing writable allows exec here; this task needs a writable place without noexec",
        ));
    }
}

fn host_namespaces(want: bool, rc: &RunConfig, out: &mut Vec<Failure>) {
    let shared: Vec<(&str, &str)> = [
        (
            "pid",
            &rc.pid,
            "the engine host's processes are visible and can be signalled",
        ),
        (
            "network_mode",
            &rc.network_mode,
            "the host's network interfaces and ports",
        ),
        ("ipc", &rc.ipc, "the host's shared memory"),
        ("uts", &rc.uts, "the host's hostname"),
        (
            "userns_mode",
            &rc.userns_mode,
            "no user-namespace remapping: root in the container is root on the host",
        ),
    ]
    .into_iter()
    .filter(|(_, v, _)| v.as_deref() == Some("host"))
    .map(|(f, _, why)| (f, why))
    .collect();
    if want {
        if shared.is_empty() {
            out.push(fail(
                "host_namespaces",
                "pid",
                "the container shares no namespace with the host; this task needs one (e.g. `pid: host`)",
            ));
        }
    } else if let Some((first, _)) = shared.first() {
        let each: Vec<String> = shared
            .iter()
            .map(|(f, why)| format!("`{f}: host` ({why})"))
            .collect();
        out.push(fail(
            "host_namespaces",
            *first,
            format!(
                "the container shares the host's namespaces: {}; remove {}",
                each.join(", "),
                if shared.len() == 1 { "it" } else { "them" }
            ),
        ));
    }
}

/// Host paths whose bind exposes the Docker socket.
const SOCKET_HOLDERS: [&str; 6] = [
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/",
    "/var",
    "/run",
    "/var/run",
];

fn is_socket_path(src: &str) -> bool {
    let (abs, c) = components(src);
    abs && SOCKET_HOLDERS.iter().any(|h| components(h).1 == c)
}

fn binds(rc: &RunConfig) -> impl Iterator<Item = (usize, &Mount, &str)> {
    rc.mounts
        .iter()
        .enumerate()
        .filter_map(|(i, m)| match (m.kind, &m.source) {
            (MountKind::Bind, Some(s)) => Some((i, m, s.as_str())),
            _ => None,
        })
}

fn docker_socket(want: bool, rc: &RunConfig, out: &mut Vec<Failure>) {
    let found: Vec<(usize, &str)> = binds(rc)
        .filter(|(_, _, s)| is_socket_path(s))
        .map(|(i, _, s)| (i, s))
        .collect();
    match (want, found.first()) {
        (false, Some((i, src))) => {
            let what = if src.ends_with("docker.sock") {
                "the Docker socket".to_string()
            } else {
                format!("{src}, which holds the Docker socket")
            };
            out.push(fail(
                "docker_socket",
                mount_field(rc, *i, "volumes"),
                format!(
                    "the container mounts {what}: whoever can reach the socket controls the engine, which is root on the host (`:ro` does not help: a read-only mount still lets a process connect to it); remove that volume"
                ),
            ));
        }
        (true, None) => out.push(fail(
            "docker_socket",
            "volumes",
            "the Docker socket is not mounted; this task needs `/var/run/docker.sock:/var/run/docker.sock`",
        )),
        _ => {}
    }
}

fn host_paths(rule: &HostPaths, rc: &RunConfig, out: &mut Vec<Failure>) {
    let mut bad: Vec<(usize, String)> = Vec::new();
    match rule {
        HostPaths::Mode(HostPathMode::Any) => {}
        HostPaths::Mode(HostPathMode::ReadOnly) => {
            for (i, m, s) in binds(rc).filter(|(_, m, _)| !m.read_only) {
                bad.push((
                    i,
                    format!(
                        "{s} is mounted writable: append `:ro` (`{s}:{}:ro`)",
                        m.target
                    ),
                ));
            }
        }
        HostPaths::Mode(HostPathMode::None) => {
            for (i, _, s) in binds(rc) {
                bad.push((
                    i,
                    format!(
                        "{s} is a host folder: this task allows none; use a tmpfs or a named volume"
                    ),
                ));
            }
        }
        HostPaths::Rules(r) => {
            for (i, m, s) in binds(rc) {
                if let Some(p) = r.forbidden.iter().find(|p| holds(s, p)) {
                    bad.push((
                        i,
                        format!("{s} exposes {p}, which must not be mounted: remove it"),
                    ));
                } else if !m.read_only
                    && let Some(p) = r.read_only.iter().find(|p| holds(s, p) || holds(p, s))
                {
                    bad.push((
                        i,
                        format!(
                            "{s} exposes {p} writable: mount it read-only (`{s}:{}:ro`)",
                            m.target
                        ),
                    ));
                }
            }
        }
    }
    if let Some((first, _)) = bad.first() {
        let msgs: Vec<&str> = bad.iter().map(|(_, m)| m.as_str()).collect();
        out.push(fail(
            "host_paths",
            mount_field(rc, *first, "volumes"),
            format!("host folders: {}", msgs.join("; ")),
        ));
    }
}

fn memory(limit: &Size, rc: &RunConfig, out: &mut Vec<Failure>) {
    let max = match limit.bytes() {
        Ok(b) => b,
        Err(e) => {
            out.push(fail(
                "memory_limit",
                "mem_limit",
                format!("the lab's memory_limit is wrong: {e}"),
            ));
            return;
        }
    };
    match rc.memory {
        None => out.push(fail(
            "memory_limit",
            "mem_limit",
            format!(
                "no memory limit is set, so the container may use all of the host's memory: add `mem_limit: {}`",
                format_bytes(max)
            ),
        )),
        Some(m) if m > max => out.push(fail(
            "memory_limit",
            "memory",
            format!(
                "the memory limit is {}, above {}: lower it to at most `mem_limit: {}`",
                format_bytes(m),
                format_bytes(max),
                format_bytes(max)
            ),
        )),
        Some(_) => {}
    }
}
