//! Images seclab built for a lab, as the Docker shell found them: the
//! engine's image ID (`docker inspect .Id`), the config's user, its size,
//! history and layers. The image graders and the trivy report grader
//! (which ties a report to the image it scanned) read these facts.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
}

/// Built images by the lab's name for them.
pub type BuiltImages = BTreeMap<String, BuiltImage>;
