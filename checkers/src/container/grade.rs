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
        _ => o.is_empty() || i.windows(o.len()).any(|w| w == o.as_slice()),
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

fn writable_noexec(want: bool, rc: &RunConfig, out: &mut Vec<Failure>) {
    let exec: Vec<(usize, &Mount)> = rc
        .mounts
        .iter()
        .enumerate()
        .filter(|(_, m)| !m.read_only && !m.options.iter().any(|o| o == "noexec"))
        .collect();
    if want {
        let Some((first, _)) = exec.first() else {
            return;
        };
        let each: Vec<String> = exec
            .iter()
            .map(|(_, m)| match m.kind {
                MountKind::Tmpfs => format!(
                    "{}: add noexec (`tmpfs: [\"{}:noexec\"]`)",
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
