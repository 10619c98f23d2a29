//! The `inventory:` check: the image a lab builds ships nothing a scanner
//! cannot see (no blind spot), graded from the inventory of its layers.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Technique, inventory};
use crate::image::BuiltImages;
use crate::image::grade::NO_ENGINE;
use crate::{Finding, Verdict};

/// An `inventory:` check as written in lab.yaml.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InventoryCheck {
    /// The image, by the name the lab's `build:` gives it.
    pub image: String,
    /// Everything really there is in the scanner's view: no blind spot of
    /// any technique.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_blind_spot: bool,
    /// The scanner's view identifies the OS and lists OS packages (an image
    /// with no OS at all, like a static binary on scratch, leaves this off).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub os_packages_seen: bool,
}

impl InventoryCheck {
    /// A one-line description for listings.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.no_blind_spot {
            parts.push("a scanner sees everything it ships (no blind spot)");
        }
        if self.os_packages_seen {
            parts.push("a scanner identifies its OS and its packages");
        }
        format!("image {}: {}", self.image, parts.join(", "))
    }

    /// What is wrong with the check itself (for `lab validate`).
    pub fn problem(&self) -> Option<String> {
        (!self.no_blind_spot && !self.os_packages_seen)
            .then(|| "an inventory check needs no_blind_spot or os_packages_seen".into())
    }
}

/// Grades the check against the images seclab built (`None`: no engine).
pub fn grade(check: &InventoryCheck, images: Option<&BuiltImages>) -> Verdict {
    let Some(images) = images else {
        return Verdict::skipped(NO_ENGINE);
    };
    let Some(img) = images.get(&check.image) else {
        return Verdict::fail(format!("image {} was not built", check.image));
    };
    if let Some(err) = &img.error {
        return Verdict::fail(format!("image {} does not build: {err}", check.image));
    }
    let inv = inventory(img);
    let mut findings = Vec::new();
    if check.no_blind_spot {
        for b in &inv.blind_spots {
            findings.push(Finding::error(format!(
                "image {}: {} [{}]",
                check.image,
                b.what,
                b.technique.as_str()
            )));
        }
    }
    if check.os_packages_seen {
        let os_hidden = inv
            .blind_spots
            .iter()
            .any(|b| b.technique == Technique::OsIdentity);
        if inv.scanner.os.is_none() || os_hidden {
            findings.push(Finding::error(format!(
                "image {}: a scanner cannot identify its OS",
                check.image
            )));
        }
        if inv.scanner.count(super::Ecosystem::Os) == 0 {
            findings.push(Finding::error(format!(
                "image {}: a scanner finds no OS package database",
                check.image
            )));
        }
    }
    Verdict::from_findings(findings)
}
