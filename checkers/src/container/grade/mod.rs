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

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

use super::compose::{self, ComposeFile, about_file, field_path, format_bytes};
use super::{LiveFacts, LiveService, ProbeCommand, caps};
use crate::runs::Images;
use crate::{Finding, KubeObject, Severity, Verdict};

mod live;
mod rules;
#[cfg(test)]
mod tests;

use live::pattern;
pub use live::{grade_drift, grade_probe, no_engine};
use rules::failures;
pub use rules::{allows_exec, no_new_privileges};

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
