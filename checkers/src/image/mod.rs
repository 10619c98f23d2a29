//! Images seclab built for a lab, as the Docker shell found them: the
//! engine's image ID (`docker inspect .Id`), the config's user, its size,
//! history and layers. The image graders and the trivy report grader
//! (which ties a report to the image it scanned) read these facts.
//!
//! - [`inventory`]: each layer's files and deletions (whiteouts), and the
//!   filesystem they add up to.
//! - [`secret`]: what a secret search looks for, and where it was found.
//! - [`evidence`]: what a scanner reads (release files, package
//!   databases, metadata) and what a binary is (ELF, Go, packed).
//! - [`packages`]: the inventory: the scanner's view, what is really
//!   there, the blind spots between them; the `inventory:` check.
//! - [`grade`]: the `image:` check (non-root, no secret in any layer,
//!   smaller than the original, no shell, no package manager).

pub mod evidence;
pub mod grade;
pub mod inventory;
pub mod packages;
pub mod secret;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use inventory::{FileKind, Layer, LayerFile};
pub use secret::{Needle, SecretHit};

/// One image seclab built (or found) for a lab, by the name the lab gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BuiltImage {
    /// The lab's name for it (`menu-aggregator`).
    pub name: String,
    /// `docker inspect .Id` from the engine that built it (`sha256:…`).
    pub id: String,
    /// The tags it carries on that engine.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The config's `User` (empty: root).
    #[serde(default)]
    pub user: String,
    /// Its size in bytes, as the engine reports it.
    #[serde(default)]
    pub size: u64,
    /// The config's `Env` (`KEY=value`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// The build history, oldest first (`docker history`, reversed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryStep>,
    /// The layers, lowest first, with what each adds and deletes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<Layer>,
    /// Where the secrets the lab's checks look for were found (the shell
    /// searches every file of every layer, Env and history).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SecretHit>,
    /// The same image built from the lab's pristine start files, when the
    /// lab asks for it: its id and size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<Original>,
    /// Why the build failed (the engine's message and the last lines of
    /// output); the other fields are then empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One step of an image's build history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HistoryStep {
    /// The instruction (`/bin/sh -c #(nop)  USER 65532`).
    pub created_by: String,
    /// Whether the step made no layer (metadata only: ENV, USER, CMD).
    #[serde(default)]
    pub empty_layer: bool,
}

/// The image built from the lab's start files, for comparisons.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Original {
    /// Its `docker inspect .Id`.
    pub id: String,
    /// Its size in bytes.
    pub size: u64,
}

/// Built images by the lab's name for them.
pub type BuiltImages = BTreeMap<String, BuiltImage>;
