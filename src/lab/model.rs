//! The lab format: `labs/<id>/lab.yaml`, a documented serde struct with a
//! `format_version`; unknown fields are rejected so a typo is an error with
//! its `path:line:col`. `labs/lab.schema.json` is generated from these
//! types (`seclab lab schema`); a test fails when it is stale.
//!
//! ```yaml
//! format_version: 1
//! id: pss-scissors
//! title: Upgrade the scissors deployment to Pod Security Standards
//! summary: ...
//! tasks:
//!   - id: baseline
//!     title: Make scissors pass PSS baseline
//!     instructions: baseline.md       # Markdown next to lab.yaml
//!     files: [deployment.yaml]        # workspace files this task is about
//!     hints: ["...", "..."]           # revealed one at a time
//!     checks:                         # all must pass
//!       - manifest: { target: deployment/scissors, path: spec.replicas, op: exists }
//! ```

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use seclab_checkers::runs::ImageFacts;
use seclab_checkers::{CheckSpec, Need};
use serde::{Deserialize, Serialize};

/// The only format version this seclab reads. Additive changes keep it.
pub const FORMAT_VERSION: u32 = 1;

/// A lab, as written in `labs/<id>/lab.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LabSpec {
    /// Always 1 for this version of seclab.
    pub format_version: u32,
    /// The lab's id: lower-case letters, digits and `-`; equals its folder
    /// name.
    pub id: String,
    /// One line, shown in lists.
    pub title: String,
    /// A short paragraph: what the student learns.
    pub summary: String,
    /// The tasks, in the order a student does them.
    pub tasks: Vec<TaskSpec>,
    /// Facts about the images the lab's workloads may use, keyed by image
    /// reference (`nginx:1.27`): `{user: <uid or name>, port: <n>,
    /// writable_paths: [...]}`. The `runs:` checker reads them to tell,
    /// offline, whether a pod would start (e.g. `runAsNonRoot` on an image
    /// that runs as root) and keep running (a read-only root filesystem
    /// needs writable mounts for the paths the image writes). Cite where
    /// each fact comes from (the image's Dockerfile or docs) in a comment.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub images: BTreeMap<String, ImageFacts>,
    /// Images seclab builds from the workspace before grading (needs a
    /// Docker engine): each tagged per lab and student
    /// (`seclab-<lab>/<name>:<student>`), labelled as the lab's, FROM lines
    /// rewritten by the image map. `image:` checks name them; a Compose
    /// service runs one with `image: <name>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub build: Vec<BuildSpec>,
    /// On a cluster: how long (seconds) the lab's pods must stay Ready and
    /// unchanged (no restart, no replacement) before a task passes live;
    /// 5 when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settle_seconds: Option<u64>,
    /// On a cluster: the workspace file (an `audit.k8s.io/v1` Policy) that
    /// `seclab apply` installs as kube-apiserver's audit policy, after
    /// checking that it loads; the API server restarts with it (seclab
    /// waits until it is ready). `seclab stop` puts seclab's own policy
    /// back. Without it, an audit policy in the workspace is not applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_policy: Option<String>,
}

/// The settle period when a lab gives none.
pub const DEFAULT_SETTLE_SECONDS: u64 = 5;

/// An image seclab builds from the workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BuildSpec {
    /// The lab's name for the image (`menu-aggregator`): what `image:`
    /// checks and Compose services call it.
    pub name: String,
    /// The build context, a workspace folder (`.`: the workspace).
    #[serde(default = "default_context")]
    pub context: String,
    /// The Dockerfile, relative to the context.
    #[serde(default = "default_dockerfile")]
    pub dockerfile: String,
    /// Also build it from the lab's pristine start files, for comparisons
    /// (`smaller_than_original`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub original: bool,
}

fn default_context() -> String {
    ".".into()
}

fn default_dockerfile() -> String {
    "Dockerfile".into()
}

/// One task of a lab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// The task's id, unique in the lab.
    pub id: String,
    /// One line.
    pub title: String,
    /// The Markdown file with the instructions, next to lab.yaml.
    pub instructions: String,
    /// The workspace files this task is about (what `reset --task` restores).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// Hints, revealed one at a time; each should teach, not give away.
    #[serde(default)]
    pub hints: Vec<String>,
    /// The checks; all must pass for the task to pass.
    pub checks: Vec<CheckSpec>,
    /// "Show me" steps for instructor-led classes (`seclab demo`, the TUI's
    /// `d`): each runs a container on the Docker engine, execs commands in
    /// it and shows the `docker run` equivalent next to the output.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub demo: Vec<DemoStep>,
}

/// One demo step: a sentence, a container to run, commands to exec in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DemoStep {
    /// What the step shows, in one sentence.
    pub say: String,
    /// The container to run, written as a Compose service (`image`, `user`,
    /// `cap_add`, `privileged`, `volumes`, ...); none: the step only says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<serde_json::Value>,
    /// Commands to exec in the container, in order, each with `sh -c`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exec: Vec<String>,
    /// How to explain the output besides showing it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decode: Option<Decode>,
}

/// What a demo step decodes in its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decode {
    /// `CapInh`/`CapPrm`/`CapEff`/`CapBnd`/`CapAmb` hex lines of
    /// `/proc/<pid>/status`, as capability names.
    Capabilities,
}

impl TaskSpec {
    /// The evidence this task's checks need.
    pub fn needs(&self) -> BTreeSet<Need> {
        self.checks.iter().flat_map(CheckSpec::needs).collect()
    }
}

impl LabSpec {
    /// The evidence this lab's checks need, derived from its checks.
    pub fn needs(&self) -> BTreeSet<Need> {
        self.tasks.iter().flat_map(TaskSpec::needs).collect()
    }

    /// The task with this id.
    pub fn task(&self, id: &str) -> Option<&TaskSpec> {
        self.tasks.iter().find(|t| t.id == id)
    }
}

/// `wrong/<name>/expect.yaml`: which tasks this known-wrong attempt must
/// fail (every other task must still pass), and which files of the solution
/// it removes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WrongExpect {
    /// Task ids that must fail.
    pub fail: Vec<String>,
    /// Workspace paths removed from start+solution before grading.
    #[serde(default)]
    pub remove: Vec<String>,
    /// What mistake this case stands for (shown in test output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
}

/// `alternatives/<name>/about.yaml` (optional): a right answer written
/// differently. Laid over start+solution (after `remove`), every task must
/// pass.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlternativeAbout {
    /// Workspace paths removed from start+solution before grading.
    #[serde(default)]
    pub remove: Vec<String>,
    /// How this answer differs from the reference solution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
}

/// The JSON Schema of lab.yaml, pretty-printed, with a trailing newline.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(LabSpec);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}
