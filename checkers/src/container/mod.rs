//! Containers on a Docker engine: how a container runs ([`RunConfig`]),
//! read from the student's Compose file offline and from the engine's
//! inspect output live, and the graders over it.
//!
//! - [`caps`]: Linux capabilities — the kernel's numbering, `CapEff` hex
//!   to names, Docker's default set, the effective set of a run config.
//! - [`compose`]: a Compose file (as a parsed YAML value) to run configs,
//!   with field paths for findings and a warning per unsupported field.
//! - [`inspect`]: the engine's container inspect JSON to a run config.
//! - [`grade`]: the `container`, `probe` and `drift` checkers.
//!
//! Offline, a `container` check grades the run config from `compose.yaml`;
//! live, it grades the running container's inspect output too, so offline
//! and live verdicts agree. `probe` (a command exec'd in a service's
//! container) and `drift` (`docker diff`) need the engine: offline they
//! are skipped with the reason.

pub mod caps;
pub mod compose;
pub mod grade;
pub mod inspect;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How one service's container runs: what the graders judge and what the
/// Docker shell creates. Values are kept as written (`user: "root:root"`,
/// `cap_add: [CAP_NET_ADMIN]`); the graders know their semantics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RunConfig {
    /// The Compose service name.
    pub service: String,
    /// The image reference as written (before any image map).
    pub image: String,
    /// `user` as written (`0`, `root`, `1000:1000`, `nobody`); `None`: the
    /// image's user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `entrypoint`, split into words; `None`: the image's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// `command`, split into words; `None`: the image's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// `environment` as `KEY=value` (a key without value: taken as empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environment: Vec<String>,
    /// `working_dir`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// `privileged: true`.
    #[serde(default)]
    pub privileged: bool,
    /// `cap_add` as written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cap_add: Vec<String>,
    /// `cap_drop` as written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cap_drop: Vec<String>,
    /// `security_opt` as written (`no-new-privileges`,
    /// `no-new-privileges:true`, `seccomp=unconfined`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_opt: Vec<String>,
    /// `read_only: true`: the root filesystem is read-only.
    #[serde(default)]
    pub read_only: bool,
    /// Mounts: `volumes` (bind and named) and `tmpfs`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<Mount>,
    /// `pid` (`host` shares the engine host's process table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    /// `network_mode` (`host`, `none`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_mode: Option<String>,
    /// `ipc` (`host`, `private`, `shareable`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipc: Option<String>,
    /// `uts` (`host`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uts: Option<String>,
    /// `userns_mode` (`host` opts out of a remapped engine's user namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userns_mode: Option<String>,
    /// `devices` as written (`/dev/fuse:/dev/fuse:rwm`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<String>,
    /// The memory limit in bytes (`mem_limit` or
    /// `deploy.resources.limits.memory`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<u64>,
    /// Where each field came from in the Compose file (`user` →
    /// `services.app.user`), for findings; empty for a live config.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub paths: BTreeMap<String, String>,
}

/// One mount of a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Mount {
    /// Bind, named volume or tmpfs.
    pub kind: MountKind,
    /// The host path (bind, as written: `./data`, `/var/run/docker.sock`)
    /// or the volume name; `None` for tmpfs and anonymous volumes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The path in the container.
    pub target: String,
    /// Mounted read-only.
    #[serde(default)]
    pub read_only: bool,
    /// Mount options as written (tmpfs `noexec`, `nosuid`, `size=64m`,
    /// `mode=1777`; bind propagation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

/// The kind of a mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    /// A host path (`./data:/data`, `/var/run/docker.sock:/var/run/docker.sock`).
    Bind,
    /// A named or anonymous volume.
    Volume,
    /// A tmpfs (memory-backed, gone when the container stops).
    Tmpfs,
}

/// What the engine is, as `docker info` / `docker version` tell.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EngineFacts {
    /// Engine version (`20.10.24`).
    pub version: String,
    /// Its API version (`1.41`).
    pub api_version: String,
    /// The engine host's kernel (`docker info` KernelVersion).
    pub kernel: String,
    /// `1` or `2`.
    pub cgroup_version: String,
    /// The engine runs rootless (security option `name=rootless`).
    #[serde(default)]
    pub rootless: bool,
    /// The engine remaps users into a user namespace (`name=userns`).
    #[serde(default)]
    pub userns: bool,
    /// The engine refused a privileged container, with its message; `None`
    /// when it accepts one or it was not tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privileged_refused: Option<String>,
}

/// The outcome of one command exec'd in a service's container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ProbeResult {
    /// The service whose container ran it.
    pub service: String,
    /// The command as the probe check wrote it (the key to find it by).
    pub run: ProbeCommand,
    /// The user it ran as, when the probe names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Its exit code; `None` when it could not run (see `error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<i64>,
    /// Captured stdout.
    #[serde(default)]
    pub stdout: String,
    /// Captured stderr.
    #[serde(default)]
    pub stderr: String,
    /// Why it could not run (the container is not running, exec failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A probe's command: a string runs with `sh -c`; a list is exec'd as is
/// (for images without a shell).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ProbeCommand {
    /// Run with `sh -c`.
    Shell(String),
    /// Exec'd as is.
    Exec(Vec<String>),
}

impl ProbeCommand {
    /// The argv to exec.
    pub fn argv(&self) -> Vec<String> {
        match self {
            Self::Shell(s) => vec!["sh".into(), "-c".into(), s.clone()],
            Self::Exec(v) => v.clone(),
        }
    }
}

/// One entry of a container's changes (`docker diff`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Change {
    /// Added, changed or deleted.
    pub kind: ChangeKind,
    /// The path in the container.
    pub path: String,
}

/// The kind of a change (`docker diff`'s A, C, D).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// `A`.
    Added,
    /// `C`.
    Changed,
    /// `D`.
    Deleted,
}

/// One service as it is live on the engine.
// A refusal is rare and a map of a few services is small: boxing the
// config would only make every match on it noisier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum LiveService {
    /// Created and started: its config read back from inspect, whether it
    /// is still running, and its changes after the probes ran.
    Running {
        /// From the container's inspect output.
        config: RunConfig,
        /// Still running after the settle period (`false`: it exited).
        running: bool,
        /// Its exit code, when it exited.
        exit_code: Option<i64>,
        /// `docker diff` after the probes ran.
        changes: Vec<Change>,
    },
    /// The engine refused to create or start it (its message).
    Refused(String),
}

/// Everything the Docker shell found live for one lab's workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LiveFacts {
    /// The engine.
    pub engine: EngineFacts,
    /// Each service of the Compose file, by name.
    pub services: BTreeMap<String, LiveService>,
    /// Every probe the lab's checks name, in lab order.
    pub probes: Vec<ProbeResult>,
    /// The images seclab built for the lab, by the lab's name for them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub images: crate::image::BuiltImages,
    /// The engine's `RepoDigests` of each image an `images_pinned` check
    /// names, by the reference as the workspace writes it (empty: the image
    /// has no registry digest, imported or loaded locally; absent: not on
    /// the engine).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub repo_digests: BTreeMap<String, Vec<String>>,
}
