//! The `container`, `probe` and `drift` checkers.
//!
//! - `container`: how a service runs, graded from the Compose file
//!   offline, and from the live container's inspect output too when the
//!   engine ran it. Each rule is unchecked unless written; each failing
//!   rule is one error naming the field and what to write.
//! - `probe`: a command exec'd in a service's container, its exit code
//!   and output compared with what the lab expects (needs the engine).
//! - `drift`: the container's changes (`docker diff`) outside the paths a
//!   lab allows (needs the engine).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

use super::compose::{self, ComposeFile, about_file, field_path, format_bytes};
use super::{
    ChangeKind, LiveFacts, LiveService, Mount, MountKind, ProbeCommand, ProbeResult, RunConfig,
    caps,
};
use crate::runs::{ImageFacts, ImageUser, Images, facts_for};
use crate::{Finding, KubeObject, Severity, Verdict};

/// The Compose file a check reads when it names none.
pub const DEFAULT_FILE: &str = "compose.yaml";

fn default_file() -> String {
    DEFAULT_FILE.to_string()
}

fn is_default_file(f: &str) -> bool {
    f == DEFAULT_FILE
}

/// A `container:` check: rules about how one Compose service runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContainerCheck {
    /// The Compose service.
    pub service: String,
    /// The Compose file in the workspace (`compose.yaml`).
    #[serde(default = "default_file", skip_serializing_if = "is_default_file")]
    pub file: String,
    /// `true`: the container runs as a uid other than 0 (`user` unset is
    /// the image's user, from the lab's `images:` facts; `0`, `root`,
    /// `root:root` and `"0:0"` are all root; a name is resolved by the
    /// image's `users:` facts). `false`: it runs as root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_root: Option<bool>,
    /// Whether the container is privileged (`false`: it must not be).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privileged: Option<bool>,
    /// The effective capability set ([`caps::effective`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<CapRule>,
    /// `true`: `security_opt` has `no-new-privileges` (`:true`, `=true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_new_privileges: Option<bool>,
    /// `true`: `read_only: true`, and every path the image writes (its
    /// `writable_paths` facts) is under a writable tmpfs or volume, else
    /// the app fails. `false`: the root filesystem is writable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_root: Option<bool>,
    /// `true`: every writable mount (tmpfs, volume, read-write bind) has
    /// `noexec`. `false`: some writable place allows exec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writable_noexec: Option<bool>,
    /// `false`: no `pid`, `network_mode`, `ipc`, `uts` or `userns_mode`
    /// is `host`. `true`: at least one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_namespaces: Option<bool>,
    /// `false`: no bind mount of the Docker socket or a folder holding it
    /// (`/var/run/docker.sock`, `/run/docker.sock`, `/`, `/var`, `/run`,
    /// `/var/run`). `true`: the socket is mounted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker_socket: Option<bool>,
    /// Bind mounts of host paths: `read_only`, `none`, `any` (default),
    /// or `{read_only: [paths], forbidden: [paths]}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_paths: Option<HostPaths>,
    /// A memory limit is set and at most this (`64m`, `1g`, bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<Size>,
}

/// The capabilities a container may and must have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CapRule {
    /// The effective set must be within these (any spelling; `[]`: no
    /// capability at all; `ALL`: anything).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
    /// The effective set must include these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required: Vec<String>,
}

/// A rule about bind mounts of host paths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum HostPaths {
    /// `read_only`, `none` or `any`.
    Mode(HostPathMode),
    /// Paths to mount read-only only, and paths never to mount.
    Rules(HostPathRules),
}

/// Every bind mount read-only, none at all, or unchecked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HostPathMode {
    /// Every bind mount is read-only.
    ReadOnly,
    /// No bind mount at all.
    None,
    /// Unchecked.
    Any,
}

/// Host paths by rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostPathRules {
    /// A bind of one of these, of a folder holding one, or of a path
    /// inside one, must be read-only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub read_only: Vec<String>,
    /// A bind of one of these or of a folder holding one is refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forbidden: Vec<String>,
}

/// A size: bytes, or Docker's `64m`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Size {
    /// Bytes.
    Bytes(u64),
    /// `64m`, `1g`, `512k`.
    Text(String),
}

impl Size {
    /// The size in bytes, or why it is not one.
    pub fn bytes(&self) -> Result<u64, String> {
        match self {
            Size::Bytes(b) => compose::parse_memory(&serde_json::json!(b)),
            Size::Text(s) => compose::parse_memory(&serde_json::json!(s)),
        }
    }
}

/// A `probe:` check: a command exec'd in a service's container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProbeCheck {
    /// The Compose service whose container runs it.
    pub service: String,
    /// What it proves, for messages ("adds an address on lo").
    pub says: String,
    /// A string runs with `sh -c`; a list is exec'd as is.
    pub run: ProbeCommand,
    /// The user to exec as (`"0"`, `nobody`); the container's when unset.
    #[serde(
        default,
        deserialize_with = "string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>")]
    pub user: Option<String>,
    /// The exit code: a number, or `nonzero`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<ExitRule>,
    /// A regex the trimmed stdout must match (`${kernel}`: the engine's
    /// kernel version, escaped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout: Option<String>,
    /// A regex the trimmed stdout must not match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout_not: Option<String>,
    /// The Compose file the service is in.
    #[serde(default = "default_file", skip_serializing_if = "is_default_file")]
    pub file: String,
}

/// The exit code a probe expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ExitRule {
    /// Exactly this code.
    Code(i64),
    /// Anything but 0 (`nonzero`).
    Word(ExitWord),
}

/// `nonzero`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExitWord {
    /// Any exit code but 0.
    Nonzero,
}

/// A `drift:` check: the container's changes stay within `allow`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DriftCheck {
    /// The Compose service.
    pub service: String,
    /// Paths (and everything below them) the container may change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// The Compose file the service is in.
    #[serde(default = "default_file", skip_serializing_if = "is_default_file")]
    pub file: String,
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum S {
        N(u64),
        S(String),
    }
    Ok(Option::<S>::deserialize(d)?.map(|s| match s {
        S::N(n) => n.to_string(),
        S::S(s) => s,
    }))
}

/// The Compose file `file` among the objects: the one whose source is
/// that file (or ends with `/file`); an object with no source (tests)
/// when none has.
pub fn find_compose<'a>(objs: &'a [KubeObject], file: &str) -> Option<&'a KubeObject> {
    let suffix = format!("/{file}");
    objs.iter()
        .find(|o| {
            o.source
                .as_deref()
                .is_some_and(|s| s == file || s.ends_with(&suffix))
        })
        .or_else(|| objs.iter().find(|o| o.source.is_none()))
}

/// One failing rule: which rule, the sentence, the field it is about.
struct Failure {
    rule: &'static str,
    message: String,
    field: String,
}

fn fail(rule: &'static str, field: impl Into<String>, message: impl Into<String>) -> Failure {
    Failure {
        rule,
        message: message.into(),
        field: field.into(),
    }
}

impl ContainerCheck {
    /// What is wrong with the check as a lab wrote it (capability names
    /// that are none, a memory size that is no size), if anything.
    pub fn problem(&self) -> Option<String> {
        let mut out = Vec::new();
        if let Some(c) = &self.capabilities {
            for n in c.allowed.iter().flatten().chain(&c.required) {
                if caps::normalise(n).is_none() && !caps::is_all(n) {
                    out.push(format!("`{n}` is not a capability"));
                }
            }
        }
        if let Some(Err(e)) = self.memory_limit.as_ref().map(Size::bytes) {
            out.push(format!("memory_limit: {e}"));
        }
        (!out.is_empty()).then(|| {
            format!(
                "container check on service {}: {}",
                self.service,
                out.join("; ")
            )
        })
    }

    /// A one-line description for listings.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let yes_no =
            |b: Option<bool>, yes: &str, no: &str| b.map(|b| if b { yes } else { no }.to_string());
        parts.extend(yes_no(self.non_root, "runs as non-root", "runs as root"));
        parts.extend(yes_no(self.privileged, "privileged", "not privileged"));
        if let Some(c) = &self.capabilities {
            if let Some(a) = &c.allowed {
                parts.push(if a.is_empty() {
                    "no capability".to_string()
                } else {
                    format!("capabilities within [{}]", a.join(", "))
                });
            }
            if !c.required.is_empty() {
                parts.push(format!("capabilities include [{}]", c.required.join(", ")));
            }
        }
        parts.extend(yes_no(
            self.no_new_privileges,
            "no-new-privileges",
            "new privileges allowed",
        ));
        parts.extend(yes_no(
            self.read_only_root,
            "read-only root with its writable paths mounted",
            "writable root",
        ));
        parts.extend(yes_no(
            self.writable_noexec,
            "writable mounts noexec",
            "a writable place allows exec",
        ));
        parts.extend(yes_no(
            self.host_namespaces,
            "shares a host namespace",
            "no host namespace",
        ));
        parts.extend(yes_no(
            self.docker_socket,
            "the Docker socket mounted",
            "no Docker socket",
        ));
        match &self.host_paths {
            Some(HostPaths::Mode(HostPathMode::ReadOnly)) => {
                parts.push("host paths read-only".into());
            }
            Some(HostPaths::Mode(HostPathMode::None)) => parts.push("no host path".into()),
            Some(HostPaths::Rules(r)) => {
                if !r.read_only.is_empty() {
                    parts.push(format!("{} only read-only", r.read_only.join(", ")));
                }
                if !r.forbidden.is_empty() {
                    parts.push(format!("{} not mounted", r.forbidden.join(", ")));
                }
            }
            Some(HostPaths::Mode(HostPathMode::Any)) | None => {}
        }
        if let Some(m) = &self.memory_limit {
            match m.bytes() {
                Ok(b) => parts.push(format!("memory limit at most {}", format_bytes(b))),
                Err(_) => parts.push("memory limit".into()),
            }
        }
        if parts.is_empty() {
            format!("service {} in {} runs", self.service, self.file)
        } else {
            format!(
                "service {} in {}: {}",
                self.service,
                self.file,
                parts.join(", ")
            )
        }
    }
}

impl ProbeCheck {
    /// What is wrong with the probe as a lab wrote it (a pattern that is
    /// no regex, nothing checked), if anything.
    pub fn problem(&self) -> Option<String> {
        let mut out = Vec::new();
        for p in self.stdout.iter().chain(&self.stdout_not) {
            if let Err(e) = pattern(p, "0.0.0") {
                out.push(format!("`{p}` is not a regex: {e}"));
            }
        }
        if self.exit.is_none() && self.stdout.is_none() && self.stdout_not.is_none() {
            out.push("it checks nothing: set exit, stdout or stdout_not".into());
        }
        (!out.is_empty()).then(|| {
            format!(
                "probe `{}` on service {}: {}",
                self.says,
                self.service,
                out.join("; ")
            )
        })
    }

    /// A one-line description for listings.
    pub fn describe(&self) -> String {
        let run = match &self.run {
            ProbeCommand::Shell(s) => s.clone(),
            ProbeCommand::Exec(v) => v.join(" "),
        };
        format!("service {}: {} (`{run}`)", self.service, self.says)
    }
}

impl DriftCheck {
    /// A one-line description for listings.
    pub fn describe(&self) -> String {
        if self.allow.is_empty() {
            format!("service {}: no change to its filesystem", self.service)
        } else {
            format!(
                "service {}: no change outside {}",
                self.service,
                self.allow.join(", ")
            )
        }
    }
}

/// Grades a `container:` check: the Compose service offline; with `live`,
/// the running container too (a failure not already found offline is
/// prefixed "live container: ").
pub fn grade_container(
    check: &ContainerCheck,
    compose: &[KubeObject],
    images: Option<&Images>,
    live: Option<&LiveFacts>,
) -> Verdict {
    let Some(obj) = find_compose(compose, &check.file) else {
        return Verdict::fail(format!(
            "there is no {} in the workspace: write service `{}` in it",
            check.file, check.service
        ));
    };
    let cf = compose::parse(obj);
    let mut findings = cf.findings.clone();
    let Some(rc) = cf.service(&check.service) else {
        findings.push(no_service(&cf, obj, check));
        return Verdict::from_findings(findings);
    };
    let empty = Images::new();
    let images = images.unwrap_or(&empty);
    let offline = failures(check, rc, images);
    let found: BTreeSet<&str> = offline.iter().map(|f| f.rule).collect();
    for f in &offline {
        findings.push(about_file(
            Finding::error(&f.message).at(field_path(rc, &f.field)),
            obj,
        ));
    }
    if let Some(live) = live {
        match live.services.get(&check.service) {
            Some(LiveService::Running {
                config,
                running,
                exit_code,
                ..
            }) => {
                for f in failures(check, config, images) {
                    if !found.contains(f.rule) {
                        findings.push(Finding::error(format!("live container: {}", f.message)));
                    }
                }
                if !running {
                    findings.push(Finding::info(format!(
                        "live container: service {} exited{}",
                        check.service,
                        exit_code.map_or(String::new(), |c| format!(" with code {c}"))
                    )));
                }
            }
            Some(LiveService::Refused(msg)) => findings.push(Finding::info(format!(
                "the engine refused to run service {}: {msg}; graded from {} only",
                check.service, check.file
            ))),
            None => findings.push(Finding::info(format!(
                "service {} was not started on the engine; graded from {} only",
                check.service, check.file
            ))),
        }
    }
    Verdict::from_findings(findings)
}

/// The finding for a service the file does not have (unless the file's
/// own findings already say why it could not be read).
fn no_service(cf: &ComposeFile, obj: &KubeObject, check: &ContainerCheck) -> Finding {
    let prefix = format!("services.{}", check.service);
    let names: Vec<&str> = cf.services.iter().map(|s| s.service.as_str()).collect();
    let explained = cf.findings.iter().any(|f| {
        f.severity == Severity::Error
            && f.paths
                .first()
                .is_some_and(|p| p == &prefix || p.starts_with(&format!("{prefix}.")))
    });
    let msg = if explained {
        format!(
            "service `{}` in {} cannot run as written (see above)",
            check.service, check.file
        )
    } else if names.is_empty() {
        format!("{} defines no service `{}`", check.file, check.service)
    } else {
        format!(
            "{} has no service `{}` (it has: {}); this task is about `{}`",
            check.file,
            check.service,
            names.join(", "),
            check.service
        )
    };
    about_file(Finding::error(msg).at("services"), obj)
}

fn failures(check: &ContainerCheck, rc: &RunConfig, images: &Images) -> Vec<Failure> {
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
fn holds(outer: &str, inner: &str) -> bool {
    let (oa, o) = components(outer);
    let (ia, i) = components(inner);
    match (oa, ia) {
        _ if oa == ia => o.len() <= i.len() && o == i[..o.len()],
        (true, false) => o.is_empty(),
        _ => !o.is_empty() && i.windows(o.len()).any(|w| w == o.as_slice()),
    }
}

/// Whether `path` (in the container) is `target` or below it.
fn under(path: &str, target: &str) -> bool {
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

/// The reason a probe or drift check cannot be graded when the engine
/// refused the service.
fn refused_reason(service: &str, msg: &str, file: &str, compose: &[KubeObject]) -> String {
    let privileged = find_compose(compose, file)
        .map(compose::parse)
        .and_then(|cf| cf.service(service).cloned())
        .is_some_and(|rc| rc.privileged || rc.cap_add.iter().any(|c| caps::is_all(c)));
    if privileged {
        format!("this engine cannot run privileged containers: {msg}")
    } else {
        format!("the engine refused service {service}: {msg}")
    }
}

/// The reason live checks give when there is no engine.
pub fn no_engine(what: &str) -> String {
    format!("needs a Docker engine: {what}")
}

fn pattern(p: &str, kernel: &str) -> Result<regex::Regex, regex::Error> {
    regex::Regex::new(&p.replace("${kernel}", &regex::escape(kernel)))
}

fn first_lines(s: &str) -> String {
    let t = s.trim();
    if t.is_empty() {
        return "(empty)".into();
    }
    let lines: Vec<&str> = t.lines().collect();
    let mut out = lines.iter().take(5).copied().collect::<Vec<_>>().join("\n");
    if lines.len() > 5 {
        let _ = write!(out, "\n... ({} more lines)", lines.len() - 5);
    }
    out
}

/// Grades a `probe:` check against the live facts: skipped offline, when
/// the service was refused, or when the probe did not run.
pub fn grade_probe(
    check: &ProbeCheck,
    compose: &[KubeObject],
    live: Option<&LiveFacts>,
) -> Verdict {
    let Some(live) = live else {
        return Verdict::skipped(no_engine(&check.says));
    };
    match live.services.get(&check.service) {
        Some(LiveService::Refused(msg)) => {
            return Verdict::skipped(refused_reason(&check.service, msg, &check.file, compose));
        }
        None => {
            return Verdict::skipped(format!(
                "service {} was not started on the engine: {}",
                check.service, check.says
            ));
        }
        Some(LiveService::Running { .. }) => {}
    }
    let Some(result) = live
        .probes
        .iter()
        .find(|p| p.service == check.service && p.run == check.run && p.user == check.user)
    else {
        return Verdict::skipped(format!("the probe was not run: {}", check.says));
    };
    probe_verdict(check, result, &live.engine.kernel)
}

fn probe_verdict(check: &ProbeCheck, r: &ProbeResult, kernel: &str) -> Verdict {
    let run = match &check.run {
        ProbeCommand::Shell(s) => s.clone(),
        ProbeCommand::Exec(v) => v.join(" "),
    };
    let head = format!(
        "service {}: `{run}` should prove it {}",
        check.service, check.says
    );
    if let Some(e) = &r.error {
        return Verdict::fail(format!("{head}, but it could not run: {e}"));
    }
    let mut why = Vec::new();
    match (check.exit, r.exit) {
        (Some(_), None) => why.push("it reported no exit code".to_string()),
        (Some(ExitRule::Code(want)), Some(got)) if want != got => {
            why.push(format!("it exited {got}, not {want}"));
        }
        (Some(ExitRule::Word(ExitWord::Nonzero)), Some(0)) => {
            why.push("it exited 0 (it succeeded), and it should fail".to_string());
        }
        _ => {}
    }
    let out = r.stdout.trim();
    for (p, must) in [(&check.stdout, true), (&check.stdout_not, false)] {
        let Some(p) = p else { continue };
        match pattern(p, kernel) {
            Err(e) => why.push(format!("the lab's pattern `{p}` is not a regex: {e}")),
            Ok(re) if re.is_match(out) != must => why.push(format!(
                "its output {} `{}`",
                if must { "does not match" } else { "matches" },
                re.as_str()
            )),
            Ok(_) => {}
        }
    }
    if why.is_empty() {
        return Verdict::pass();
    }
    Verdict::fail(format!(
        "{head}, but {} (exit code {}).\nstdout:\n{}\nstderr:\n{}",
        why.join("; "),
        r.exit.map_or("none".into(), |c| c.to_string()),
        first_lines(&r.stdout),
        first_lines(&r.stderr)
    ))
}

/// Grades a `drift:` check: every change of the service's container is
/// below an allowed path (a changed folder that holds an allowed path
/// counts as allowed: adding `/tmp/x` changes `/tmp`'s parent listing).
pub fn grade_drift(
    check: &DriftCheck,
    compose: &[KubeObject],
    live: Option<&LiveFacts>,
) -> Verdict {
    let what = format!("the changes of service {}'s container", check.service);
    let Some(live) = live else {
        return Verdict::skipped(no_engine(&what));
    };
    let changes = match live.services.get(&check.service) {
        None => {
            return Verdict::skipped(format!(
                "service {} was not started on the engine",
                check.service
            ));
        }
        Some(LiveService::Refused(msg)) => {
            return Verdict::skipped(refused_reason(&check.service, msg, &check.file, compose));
        }
        Some(LiveService::Running { changes, .. }) => changes,
    };
    let outside: Vec<String> = changes
        .iter()
        .filter(|c| {
            !check
                .allow
                .iter()
                .any(|a| under(&c.path, a) || (c.kind == ChangeKind::Changed && under(a, &c.path)))
        })
        .map(|c| {
            let k = match c.kind {
                ChangeKind::Added => "A",
                ChangeKind::Changed => "C",
                ChangeKind::Deleted => "D",
            };
            format!("{k} {}", c.path)
        })
        .collect();
    if outside.is_empty() {
        return Verdict::pass();
    }
    let shown: Vec<&str> = outside.iter().take(10).map(String::as_str).collect();
    let more = if outside.len() > 10 {
        format!(" (and {} more)", outside.len() - 10)
    } else {
        String::new()
    };
    Verdict::fail(format!(
        "service {}'s container changed its filesystem outside {}: {}{more}; make the root read-only (`read_only: true`) with tmpfs mounts for the paths it must write",
        check.service,
        if check.allow.is_empty() {
            "nothing allowed".to_string()
        } else {
            check.allow.join(", ")
        },
        shown.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::{Change, EngineFacts};
    use crate::{CheckSpec, Evidence, Status};
    use serde_json::Value;

    fn compose(yaml: &str) -> Vec<KubeObject> {
        let value: Value = serde_saphyr::from_str(yaml).expect("test YAML parses");
        vec![KubeObject {
            source: Some("compose.yaml".into()),
            doc: 0,
            value,
        }]
    }

    fn images() -> Images {
        serde_saphyr::from_str(
            "busybox:1.36: {user: 0, users: {root: 0, nobody: 65534}, writable_paths: [/tmp]}\nnamed:1: {user: app, users: {app: 1000}}\n",
        )
        .expect("facts")
    }

    fn check(rules: &str) -> ContainerCheck {
        serde_saphyr::from_str(&format!("{{service: app, {rules}}}")).expect("check parses")
    }

    /// Grades `rules` against service `app` with `fields`.
    fn grade(rules: &str, fields: &str) -> Verdict {
        let objs = compose(&format!(
            "services:\n  app:\n    image: busybox:1.36\n{fields}"
        ));
        grade_container(&check(rules), &objs, Some(&images()), None)
    }

    fn errors(v: &Verdict) -> Vec<(String, String)> {
        v.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| {
                (
                    f.paths.first().cloned().unwrap_or_default(),
                    f.message.clone(),
                )
            })
            .collect()
    }

    fn passes(rules: &str, fields: &str) {
        let v = grade(rules, fields);
        assert!(v.passed(), "{rules} / {fields}: {:?}", errors(&v));
    }

    fn fails(rules: &str, fields: &str, path: &str, msg: &str) {
        let v = grade(rules, fields);
        let e = errors(&v);
        assert_eq!(e.len(), 1, "{rules} / {fields}: one error, got {e:?}");
        assert!(
            e[0].0 == path && e[0].1.contains(msg),
            "{rules} / {fields}: want `{msg}` at {path}, got {e:?}"
        );
    }

    #[test]
    fn every_spelling_of_root_is_root() {
        for user in [
            "    user: 0\n",
            "    user: \"0\"\n",
            "    user: root\n",
            "    user: root:root\n",
            "    user: \"0:0\"\n",
        ] {
            fails(
                "non_root: true",
                user,
                "services.app.user",
                "runs as root (uid 0",
            );
        }
        // Unset on a root image: the image's user, root.
        fails(
            "non_root: true",
            "",
            "services.app.user",
            "`user` unset: busybox:1.36's own user, uid 0",
        );
        for user in [
            "    user: 65534\n",
            "    user: nobody\n",
            "    user: \"nobody:nogroup\"\n",
            "    user: \"1000:1000\"\n",
        ] {
            passes("non_root: true", user);
        }
        fails(
            "non_root: true",
            "    user: www\n",
            "services.app.user",
            "image busybox:1.36 has no user www",
        );
        fails(
            "non_root: false",
            "    user: 65534\n",
            "services.app.user",
            "this task needs root",
        );
        passes("non_root: false", "");
    }

    #[test]
    fn a_rule_that_needs_image_facts_names_the_image() {
        let objs = compose("services:\n  app:\n    image: unknown:1\n    read_only: true\n");
        for rule in ["non_root: true", "read_only_root: true"] {
            let v = grade_container(&check(rule), &objs, Some(&images()), None);
            let e = errors(&v);
            assert!(
                e.len() == 1 && e[0].1.contains("no `images:` facts for unknown:1"),
                "{e:?}"
            );
        }
        // A named image user resolved by the image's users.
        let objs = compose("services:\n  app:\n    image: named:1\n");
        assert!(grade_container(&check("non_root: true"), &objs, Some(&images()), None).passed());
        // A uid needs no facts.
        let objs = compose("services:\n  app:\n    image: unknown:1\n    user: \"10\"\n");
        assert!(grade_container(&check("non_root: true"), &objs, None, None).passed());
    }

    #[test]
    fn capabilities_in_every_spelling() {
        let rule = "capabilities: {allowed: [NET_ADMIN], required: [net_admin]}";
        passes(rule, "    cap_drop: [ALL]\n    cap_add: [CAP_NET_ADMIN]\n");
        passes(rule, "    cap_drop: [all]\n    cap_add: [net_admin]\n");
        // Defaults kept: beyond what is allowed.
        fails(
            rule,
            "    cap_add: [NET_ADMIN]\n",
            "services.app.cap_drop",
            "`cap_drop: [ALL]` and `cap_add: [NET_ADMIN]`",
        );
        // ALL added.
        fails(
            rule,
            "    cap_drop: [ALL]\n    cap_add: [ALL]\n",
            "services.app.cap_add[0]",
            "do not add ALL",
        );
        // The wrong capability: SYS_ADMIN instead of NET_ADMIN.
        let v = grade(rule, "    cap_drop: [ALL]\n    cap_add: [SYS_ADMIN]\n");
        let e = errors(&v);
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(
            e[0].1.contains("capability SYS_ADMIN")
                && e[0].1.contains("remove SYS_ADMIN from `cap_add`"),
            "{e:?}"
        );
        assert!(
            e[1].0 == "services.app.cap_add" && e[1].1.contains("lacks NET_ADMIN"),
            "{e:?}"
        );
        // Privileged has them all.
        fails(
            rule,
            "    privileged: true\n",
            "services.app.privileged",
            "remove `privileged: true`",
        );
        // No capability at all.
        passes("capabilities: {allowed: []}", "    cap_drop: [ALL]\n");
        fails(
            "capabilities: {allowed: []}",
            "",
            "services.app.cap_drop",
            "this task allows none; drop them all: `cap_drop: [ALL]`",
        );
        // Dropped explicitly, then required.
        fails(
            "capabilities: {required: [NET_RAW]}",
            "    cap_drop: [CAP_NET_RAW]\n",
            "services.app.cap_add",
            "your `cap_drop` removes NET_RAW",
        );
    }

    #[test]
    fn privileged_and_no_new_privileges() {
        fails(
            "privileged: false",
            "    privileged: true\n",
            "services.app.privileged",
            "every capability and every host device",
        );
        passes("privileged: false", "    privileged: false\n");
        passes("privileged: false", "");
        passes("privileged: true", "    privileged: true\n");
        for opt in [
            "no-new-privileges",
            "no-new-privileges:true",
            "no-new-privileges=true",
            "NO-NEW-PRIVILEGES:TRUE",
        ] {
            passes(
                "no_new_privileges: true",
                &format!("    security_opt: [\"{opt}\"]\n"),
            );
        }
        for fields in [
            "",
            "    security_opt: [\"no-new-privileges:false\"]\n",
            "    security_opt: [\"no-new-privileges\", \"no-new-privileges=false\"]\n",
            "    security_opt: [seccomp=unconfined]\n",
        ] {
            fails(
                "no_new_privileges: true",
                fields,
                "services.app.security_opt",
                "security_opt: [\"no-new-privileges:true\"]",
            );
        }
    }

    #[test]
    fn host_namespaces_each_fail() {
        for (field, value) in [
            ("pid", "host"),
            ("network_mode", "host"),
            ("ipc", "host"),
            ("uts", "host"),
            ("userns_mode", "host"),
        ] {
            fails(
                "host_namespaces: false",
                &format!("    {field}: {value}\n"),
                &format!("services.app.{field}"),
                &format!("`{field}: host`"),
            );
        }
        passes(
            "host_namespaces: false",
            "    ipc: private\n    network_mode: none\n",
        );
        let v = grade(
            "host_namespaces: false",
            "    pid: host\n    network_mode: host\n",
        );
        assert!(
            errors(&v)[0].1.contains("`pid: host`")
                && errors(&v)[0].1.contains("`network_mode: host`")
        );
        fails(
            "host_namespaces: true",
            "",
            "services.app.pid",
            "shares no namespace",
        );
    }

    #[test]
    fn the_docker_socket_and_every_folder_holding_it() {
        for src in [
            "/var/run/docker.sock",
            "/run/docker.sock",
            "/",
            "/var",
            "/run",
            "/var/run",
            "/var/run/",
            "//var//run",
        ] {
            fails(
                "docker_socket: false",
                &format!("    volumes: [\"./ok:/ok\", \"{src}:/host:ro\"]\n"),
                "services.app.volumes[1]",
                "root on the host",
            );
        }
        for src in ["/var/lib/app", "./var/run", "/srv"] {
            passes(
                "docker_socket: false",
                &format!("    volumes: [\"{src}:/host\"]\n"),
            );
        }
        passes(
            "docker_socket: true",
            "    volumes: [\"/var/run/docker.sock:/var/run/docker.sock\"]\n",
        );
        fails(
            "docker_socket: true",
            "",
            "services.app.volumes",
            "is not mounted",
        );
    }

    #[test]
    fn read_only_root_needs_the_written_paths_mounted() {
        passes(
            "read_only_root: true",
            "    read_only: true\n    tmpfs: [/tmp]\n",
        );
        passes(
            "read_only_root: true",
            "    read_only: true\n    volumes: [\"scratch:/tmp\"]\nvolumes: {scratch: }\n",
        );
        fails(
            "read_only_root: true",
            "    read_only: true\n",
            "services.app.read_only",
            "cannot write /tmp, and the app fails",
        );
        fails(
            "read_only_root: true",
            "    read_only: true\n    tmpfs: [\"/tmp:ro\"]\n",
            "services.app.tmpfs",
            "cannot write /tmp",
        );
        fails(
            "read_only_root: true",
            "    tmpfs: [/tmp]\n",
            "services.app.read_only",
            "set `read_only: true`",
        );
        fails(
            "read_only_root: false",
            "    read_only: true\n",
            "services.app.read_only",
            "needs it writable",
        );
    }

    #[test]
    fn writable_mounts_must_be_noexec() {
        passes(
            "writable_noexec: true",
            "    tmpfs: [\"/tmp:noexec,size=16m\"]\n    volumes: [\"./in:/in:ro\"]\n",
        );
        // Docker mounts a tmpfs noexec unless it says `exec`.
        passes("writable_noexec: true", "    tmpfs: [/tmp, /run]\n");
        fails(
            "writable_noexec: true",
            "    tmpfs: [\"/tmp:noexec\", \"/run:exec\"]\n",
            "services.app.tmpfs[1]",
            "tmpfs /run: drop `exec`",
        );
        fails(
            "writable_noexec: true",
            "    volumes: [\"./data:/data\"]\n",
            "services.app.volumes[0]",
            "./data:/data: mount it read-only",
        );
        fails(
            "writable_noexec: false",
            "    read_only: true\n    tmpfs: [\"/tmp:noexec\"]\n",
            "services.app.tmpfs",
            "nothing writable allows exec",
        );
        fails(
            "writable_noexec: false",
            "    read_only: true\n    tmpfs: [/tmp]\n",
            "services.app.tmpfs",
            "nothing writable allows exec",
        );
        passes(
            "writable_noexec: false",
            "    read_only: true\n    tmpfs: [\"/tmp:exec\"]\n",
        );
    }

    #[test]
    fn host_paths_modes_and_lists() {
        passes(
            "host_paths: read_only",
            "    volumes: [\"./data:/data:ro\", \"cache:/cache\"]\nvolumes: {cache: }\n",
        );
        fails(
            "host_paths: read_only",
            "    volumes: [\"./data:/data\"]\n",
            "services.app.volumes[0]",
            "append `:ro` (`./data:/data:ro`)",
        );
        fails(
            "host_paths: none",
            "    volumes: [\"./data:/data:ro\"]\n",
            "services.app.volumes[0]",
            "allows none",
        );
        passes("host_paths: none", "    volumes: [\"/anon\"]\n");
        passes("host_paths: any", "    volumes: [\"/:/host\"]\n");
        let rule = "host_paths: {read_only: [./secret], forbidden: [/etc/shadow]}";
        passes(
            rule,
            "    volumes: [\"./secret:/secret:ro\", \"./work:/work\"]\n",
        );
        fails(
            rule,
            "    volumes: [\"./secret:/secret\"]\n",
            "services.app.volumes[0]",
            "exposes ./secret writable",
        );
        fails(
            rule,
            "    volumes: [\"./secret/sub:/s\"]\n",
            "services.app.volumes[0]",
            "exposes ./secret writable",
        );
        fails(
            rule,
            "    volumes: [\"./:/ws\"]\n",
            "services.app.volumes[0]",
            "exposes ./secret writable",
        );
        fails(
            rule,
            "    volumes: [\"/etc:/etc2:ro\"]\n",
            "services.app.volumes[0]",
            "exposes /etc/shadow, which must not be mounted",
        );
        fails(
            "host_paths: {forbidden: [/]}",
            "    volumes: [\"/:/host:ro\"]\n",
            "services.app.volumes[0]",
            "must not be mounted",
        );
        passes(
            "host_paths: {forbidden: [/]}",
            "    volumes: [\"/srv:/srv\"]\n",
        );
        // A live source is absolute: a relative rule still matches it.
        assert!(holds("./secret", "/home/u/lab/secret/x"));
        assert!(!holds("./secret", "/home/u/lab/other"));
    }

    #[test]
    fn memory_limit() {
        passes("memory_limit: 64m", "    mem_limit: 32m\n");
        passes(
            "memory_limit: 67108864",
            "    deploy: {resources: {limits: {memory: 64M}}}\n",
        );
        fails(
            "memory_limit: 64m",
            "",
            "services.app.mem_limit",
            "add `mem_limit: 64m`",
        );
        fails(
            "memory_limit: 64m",
            "    mem_limit: 1g\n",
            "services.app.mem_limit",
            "is 1g, above 64m",
        );
    }

    #[test]
    fn compose_errors_fail_the_check_and_findings_point_into_the_file() {
        let objs = compose(
            "services:\n  app:\n    image: busybox:1.36\n    user: [1]\n    healthcheck: {}\n",
        );
        let v = grade_container(&check("privileged: false"), &objs, Some(&images()), None);
        assert_eq!(v.status, Status::Fail);
        let e = &v.findings[0];
        assert_eq!(e.source.as_deref(), Some("compose.yaml"));
        assert_eq!(e.object, None);
        assert!(v.findings.iter().any(|f| f.severity == Severity::Warning));
        // Another service, or none at all.
        let v = grade_container(
            &check("privileged: false"),
            &compose("services:\n  web: {image: x}\n"),
            None,
            None,
        );
        assert!(
            errors(&v)[0]
                .1
                .contains("has no service `app` (it has: web)"),
            "{:?}",
            errors(&v)
        );
        let v = grade_container(
            &check("privileged: false"),
            &compose("services:\n  app: {user: 1}\n"),
            None,
            None,
        );
        assert!(
            errors(&v)
                .iter()
                .any(|e| e.1.contains("cannot run as written")),
            "{:?}",
            errors(&v)
        );
        let v = grade_container(&check("privileged: false"), &[], None, None);
        assert!(errors(&v)[0].1.contains("there is no compose.yaml"));
    }

    fn running(config: RunConfig, changes: Vec<Change>) -> LiveService {
        LiveService::Running {
            config,
            running: true,
            exit_code: None,
            changes,
        }
    }

    fn live(service: LiveService, probes: Vec<ProbeResult>) -> LiveFacts {
        LiveFacts {
            engine: EngineFacts {
                kernel: "5.10.0-28-amd64".into(),
                ..EngineFacts::default()
            },
            services: [("app".to_string(), service)].into(),
            probes,
            ..LiveFacts::default()
        }
    }

    #[test]
    fn live_failures_not_found_offline_are_prefixed() {
        let objs = compose("services:\n  app:\n    image: busybox:1.36\n    user: \"0\"\n");
        let c = check("non_root: true, privileged: false");
        // Live differs from the file: privileged (not offline), root (also offline).
        let cfg = RunConfig {
            service: "app".into(),
            image: "busybox:1.36".into(),
            user: Some("0".into()),
            privileged: true,
            ..RunConfig::default()
        };
        let lf = live(running(cfg, vec![]), vec![]);
        let v = grade_container(&c, &objs, Some(&images()), Some(&lf));
        let e = errors(&v);
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].1.starts_with("the container runs as root"));
        assert!(
            e[1].1.starts_with("live container: `privileged: true`"),
            "{e:?}"
        );
        // Refused: still graded from the file; the refusal is an info.
        let lf = live(
            LiveService::Refused(
                "OCI runtime create failed: unable to apply caps: operation not permitted".into(),
            ),
            vec![],
        );
        let v = grade_container(&c, &objs, Some(&images()), Some(&lf));
        assert_eq!(errors(&v).len(), 1);
        assert!(v.findings.iter().any(|f| f.severity == Severity::Info && f.message.contains("unable to apply caps")));
    }

    fn probe(yaml: &str) -> ProbeCheck {
        serde_saphyr::from_str(yaml).expect("probe parses")
    }

    fn result(p: &ProbeCheck, exit: i64, stdout: &str, stderr: &str) -> ProbeResult {
        ProbeResult {
            service: p.service.clone(),
            run: p.run.clone(),
            user: p.user.clone(),
            exit: Some(exit),
            stdout: stdout.into(),
            stderr: stderr.into(),
            error: None,
        }
    }

    #[test]
    fn probes_grade_exit_codes_and_output() {
        let objs = compose("services:\n  app:\n    image: busybox:1.36\n");
        let p = probe(
            "{service: app, says: adds an address on lo, run: ip addr add 192.0.2.1/32 dev lo, exit: 0}",
        );
        let v = grade_probe(&p, &objs, None);
        assert_eq!(v.status, Status::Skipped);
        assert_eq!(
            v.reason.as_deref(),
            Some("needs a Docker engine: adds an address on lo")
        );
        let rc = RunConfig::default();
        let ok = live(running(rc.clone(), vec![]), vec![result(&p, 0, "", "")]);
        assert!(grade_probe(&p, &objs, Some(&ok)).passed());
        let many = (1..=8)
            .map(|i| format!("line {i}"))
            .collect::<Vec<_>>()
            .join("\n");
        let bad = live(
            running(rc.clone(), vec![]),
            vec![result(
                &p,
                2,
                "",
                &format!("ip: RTNETLINK answers: Operation not permitted\n{many}"),
            )],
        );
        let v = grade_probe(&p, &objs, Some(&bad));
        assert_eq!(v.status, Status::Fail);
        let m = &v.findings[0].message;
        assert!(
            m.contains("adds an address on lo")
                && m.contains("exited 2, not 0")
                && m.contains("Operation not permitted"),
            "{m}"
        );
        assert!(
            m.contains("line 4") && !m.contains("line 5") && m.contains("(4 more lines)"),
            "{m}"
        );
        // nonzero; a user given as a number.
        let p =
            probe("{service: app, says: cannot write /, run: touch /x, user: 0, exit: nonzero}");
        assert_eq!(p.user.as_deref(), Some("0"));
        let lf = live(
            running(rc.clone(), vec![]),
            vec![result(&p, 1, "", "Read-only file system")],
        );
        assert!(grade_probe(&p, &objs, Some(&lf)).passed());
        let lf = live(running(rc.clone(), vec![]), vec![result(&p, 0, "", "")]);
        assert!(
            grade_probe(&p, &objs, Some(&lf)).findings[0]
                .message
                .contains("it should fail")
        );
        // Same command, another user: not this probe's result.
        let other = ProbeResult {
            user: Some("65534".into()),
            ..result(&p, 1, "", "")
        };
        let lf = live(running(rc.clone(), vec![]), vec![other]);
        assert_eq!(grade_probe(&p, &objs, Some(&lf)).status, Status::Skipped);
        // stdout and stdout_not, with ${kernel}.
        let p = probe(
            "{service: app, says: shares the host kernel, run: [uname, -r], stdout: '^${kernel}$'}",
        );
        let lf = live(
            running(rc.clone(), vec![]),
            vec![result(&p, 0, "5.10.0-28-amd64\n", "")],
        );
        assert!(grade_probe(&p, &objs, Some(&lf)).passed());
        let lf = live(
            running(rc.clone(), vec![]),
            vec![result(&p, 0, "5.10.0x28-amd64\n", "")],
        );
        assert!(
            grade_probe(&p, &objs, Some(&lf)).findings[0]
                .message
                .contains("does not match `^5\\.10\\.0\\-28\\-amd64$`")
        );
        let p = probe(
            "{service: app, says: drops every capability, run: grep CapEff /proc/self/status, stdout_not: 'a80425fb'}",
        );
        let lf = live(
            running(rc.clone(), vec![]),
            vec![result(&p, 0, "CapEff:\t00000000a80425fb", "")],
        );
        assert!(
            grade_probe(&p, &objs, Some(&lf)).findings[0]
                .message
                .contains("matches `a80425fb`")
        );
        // Could not run at all.
        let lf = live(
            running(rc, vec![]),
            vec![ProbeResult {
                exit: None,
                error: Some("container is not running".into()),
                ..result(&p, 0, "", "")
            }],
        );
        assert!(
            grade_probe(&p, &objs, Some(&lf)).findings[0]
                .message
                .contains("could not run: container is not running")
        );
    }

    #[test]
    fn a_refused_service_skips_its_probes_with_the_engines_message() {
        let msg = "OCI runtime create failed: unable to apply caps: operation not permitted";
        let p = probe("{service: app, says: sees every device, run: ls /dev/sda, exit: 0}");
        for fields in ["    privileged: true\n", "    cap_add: [ALL]\n"] {
            let objs = compose(&format!(
                "services:\n  app:\n    image: busybox:1.36\n{fields}"
            ));
            let v = grade_probe(
                &p,
                &objs,
                Some(&live(LiveService::Refused(msg.into()), vec![])),
            );
            assert_eq!(v.status, Status::Skipped);
            assert_eq!(
                v.reason,
                Some(format!(
                    "this engine cannot run privileged containers: {msg}"
                ))
            );
        }
        let objs = compose("services:\n  app:\n    image: busybox:1.36\n");
        let v = grade_probe(
            &p,
            &objs,
            Some(&live(LiveService::Refused("no such image".into()), vec![])),
        );
        assert_eq!(
            v.reason.as_deref(),
            Some("the engine refused service app: no such image")
        );
        let d = DriftCheck {
            service: "app".into(),
            allow: vec![],
            file: DEFAULT_FILE.into(),
        };
        assert_eq!(
            grade_drift(
                &d,
                &objs,
                Some(&live(LiveService::Refused("x".into()), vec![]))
            )
            .status,
            Status::Skipped
        );
        // Not in the probes list: skipped.
        let v = grade_probe(
            &p,
            &objs,
            Some(&live(running(RunConfig::default(), vec![]), vec![])),
        );
        assert_eq!(
            v.reason.as_deref(),
            Some("the probe was not run: sees every device")
        );
    }

    #[test]
    fn drift_outside_the_allow_list_fails() {
        let d: DriftCheck =
            serde_saphyr::from_str("{service: app, allow: [/tmp, /run/app]}").expect("drift");
        let ch = |k, p: &str| Change {
            kind: k,
            path: p.into(),
        };
        let ok = vec![
            ch(ChangeKind::Changed, "/tmp"),
            ch(ChangeKind::Added, "/tmp/x"),
            ch(ChangeKind::Changed, "/run"),
            ch(ChangeKind::Added, "/run/app/pid"),
        ];
        assert!(
            grade_drift(
                &d,
                &[],
                Some(&live(running(RunConfig::default(), ok), vec![]))
            )
            .passed()
        );
        let bad = vec![
            ch(ChangeKind::Changed, "/usr"),
            ch(ChangeKind::Changed, "/usr/local/bin"),
            ch(ChangeKind::Added, "/usr/local/bin/evil"),
            ch(ChangeKind::Added, "/tmpx"),
            ch(ChangeKind::Deleted, "/run/other"),
        ];
        let v = grade_drift(
            &d,
            &[],
            Some(&live(running(RunConfig::default(), bad), vec![])),
        );
        let m = &v.findings[0].message;
        assert!(
            m.contains("C /usr, C /usr/local/bin, A /usr/local/bin/evil, A /tmpx, D /run/other"),
            "{m}"
        );
        assert_eq!(
            grade_drift(&d, &[], None).reason.as_deref(),
            Some("needs a Docker engine: the changes of service app's container")
        );
    }

    #[test]
    fn the_registry_knows_the_three_checkers() {
        let specs: Vec<CheckSpec> = serde_saphyr::from_str(
            "- container: {service: app, non_root: true, capabilities: {allowed: []}, host_paths: read_only, memory_limit: 64m}\n- probe: {service: app, says: runs as nobody, run: id -u, stdout: '^65534$'}\n- drift: {service: app, allow: [/tmp]}\n",
        )
        .expect("specs");
        let names: Vec<&str> = specs.iter().map(CheckSpec::name).collect();
        assert_eq!(names, ["container", "probe", "drift"]);
        assert_eq!(specs[0].needs(), [crate::Need::Workspace]);
        assert_eq!(specs[1].needs(), [crate::Need::Docker]);
        assert_eq!(specs[2].needs(), [crate::Need::Docker]);
        assert_eq!(
            specs[0].describe(),
            "service app in compose.yaml: runs as non-root, no capability, host paths read-only, memory limit at most 64m"
        );
        assert_eq!(specs[1].describe(), "service app: runs as nobody (`id -u`)");
        assert_eq!(specs[2].describe(), "service app: no change outside /tmp");
        // Unknown rule names are errors.
        assert!(
            serde_saphyr::from_str::<CheckSpec>("container: {service: app, nonroot: true}")
                .is_err()
        );
        assert!(
            serde_saphyr::from_str::<CheckSpec>(
                "probe: {service: app, says: x, run: id, exit: sometimes}"
            )
            .is_err()
        );
        // Reads: the compose file only.
        let mut objs = compose(
            "services:\n  app:\n    image: busybox:1.36\n    user: \"65534\"\n    cap_drop: [ALL]\n    volumes: [\"./d:/d:ro\"]\n    mem_limit: 64m\n",
        );
        objs.push(KubeObject {
            source: Some("deploy.yaml".into()),
            doc: 0,
            value: serde_json::json!({"kind": "Pod"}),
        });
        let r = specs[0].reads(&objs);
        assert_eq!(r.objects.len(), 1);
        assert!(!r.every_file && !r.answers);
        assert!(specs[0].reads(&objs[1..]).every_file);
        assert_eq!(specs[1].reads(&objs), crate::Reads::default());
        // Graded through the registry with the compose evidence.
        let imgs = images();
        let ev = Evidence {
            compose: &objs[..1],
            images: Some(&imgs),
            ..Evidence::default()
        };
        assert!(specs[0].grade(&ev).passed(), "{:?}", specs[0].grade(&ev));
        assert!(crate::fields::grade(&specs[0], &ev).passed());
        assert_eq!(specs[1].grade(&ev).status, Status::Skipped);
        // Lab validation.
        assert!(specs[1].clone().grade(&ev).reason.is_some());
        let bad = probe("{service: app, says: x, run: id, stdout: '(('}");
        assert!(bad.problem().is_some_and(|p| p.contains("is not a regex")));
        assert!(
            probe("{service: app, says: x, run: id}")
                .problem()
                .is_some_and(|p| p.contains("checks nothing"))
        );
        assert!(
            check("capabilities: {allowed: [NET_ADMINS]}, memory_limit: lots")
                .problem()
                .is_some_and(|p| p.contains("NET_ADMINS") && p.contains("lots"))
        );
        assert_eq!(
            check("capabilities: {allowed: [ALL, cap_chown]}, memory_limit: 1g").problem(),
            None
        );
    }
}
