//! The `image:` check: what an image seclab built from the workspace must
//! be — run as a non-root user, hold no secret in any layer (a file a
//! later layer deleted is still in the image), be smaller than the image
//! built from the lab's start files, have no shell, no package manager.
//! Graded from the [`BuiltImage`] facts the Docker shell gathered.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::inventory::{PACKAGE_MANAGERS, SHELLS, final_fs, programs};
use super::secret::SecretSpec;
use super::{BuiltImage, BuiltImages};
use crate::{Finding, Verdict};

/// An `image:` check as written in lab.yaml.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
// Each bool is one independent property a lab author switches on in YAML.
#[allow(clippy::struct_excessive_bools)]
pub struct ImageCheck {
    /// The image, by the name the lab's `build:` gives it.
    pub image: String,
    /// Its config's user is not root (not empty, `root`, `0`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub non_root: bool,
    /// No file of any layer, no Env value and no history step holds this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_secret: Option<SecretSpec>,
    /// Smaller than the same image built from the lab's start files.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub smaller_than_original: bool,
    /// No shell (sh, bash, dash, ash, busybox, ...) in a bin folder.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_shell: bool,
    /// No OS package manager (apt, apt-get, dpkg, apk, rpm, ...).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_package_manager: bool,
}

impl ImageCheck {
    /// A one-line description for listings.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.non_root {
            parts.push("runs as a non-root user".to_string());
        }
        if let Some(s) = &self.no_secret {
            parts.push(format!("holds {} in no layer", s.describe()));
        }
        if self.smaller_than_original {
            parts.push("is smaller than the original".into());
        }
        if self.no_shell {
            parts.push("has no shell".into());
        }
        if self.no_package_manager {
            parts.push("has no package manager".into());
        }
        format!("image {}: {}", self.image, parts.join(", "))
    }

    /// What is wrong with the check itself (for `lab validate`).
    pub fn problem(&self) -> Option<String> {
        if let Some(p) = self.no_secret.as_ref().and_then(SecretSpec::problem) {
            return Some(p);
        }
        let any = self.non_root
            || self.no_secret.is_some()
            || self.smaller_than_original
            || self.no_shell
            || self.no_package_manager;
        (!any).then(|| "an image check needs at least one of non_root, no_secret, smaller_than_original, no_shell, no_package_manager".into())
    }
}

/// Whether a config `User` is root: empty, `root`, `0`, with any group.
pub fn is_root_user(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or_default().trim();
    name.is_empty() || name == "root" || name.parse::<u64>() == Ok(0)
}

fn mib(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)] // sizes are far below 2^52
    let m = bytes as f64 / (1024.0 * 1024.0);
    format!("{m:.1} MiB")
}

/// Grades the check against the images seclab built (`None`: no engine).
pub fn grade_image(check: &ImageCheck, images: Option<&BuiltImages>) -> Verdict {
    let Some(images) = images else {
        return Verdict::skipped(NO_ENGINE);
    };
    let Some(img) = images.get(&check.image) else {
        return Verdict::fail(format!("image {} was not built", check.image));
    };
    if let Some(err) = &img.error {
        return Verdict::fail(format!("image {} does not build: {err}", check.image));
    }
    let mut findings = Vec::new();
    if check.non_root && is_root_user(&img.user) {
        findings.push(Finding::error(if img.user.is_empty() {
            format!(
                "image {} runs as root: its config sets no USER",
                check.image
            )
        } else {
            format!("image {} runs as root: USER is `{}`", check.image, img.user)
        }));
    }
    if let Some(spec) = &check.no_secret {
        findings.extend(secret_findings(check, spec, img));
    }
    if check.smaller_than_original {
        match &img.original {
            Some(o) if img.size < o.size => {}
            Some(o) => findings.push(Finding::error(format!(
                "image {} is {}, not smaller than the original's {}",
                check.image,
                mib(img.size),
                mib(o.size)
            ))),
            None => findings.push(Finding::error(format!(
                "image {}: the original (built from the start files) is not at hand to compare",
                check.image
            ))),
        }
    }
    if check.no_shell || check.no_package_manager {
        let fs = final_fs(&img.layers);
        if check.no_shell {
            let found = programs(&fs, SHELLS);
            if !found.is_empty() {
                findings.push(Finding::error(format!(
                    "image {} has a shell: {}",
                    check.image,
                    found.join(", ")
                )));
            }
        }
        if check.no_package_manager {
            let found = programs(&fs, PACKAGE_MANAGERS);
            if !found.is_empty() {
                findings.push(Finding::error(format!(
                    "image {} has a package manager: {}",
                    check.image,
                    found.join(", ")
                )));
            }
        }
    }
    Verdict::from_findings(findings)
}

fn secret_findings(check: &ImageCheck, spec: &SecretSpec, img: &BuiltImage) -> Vec<Finding> {
    let key = spec.key();
    let fs = final_fs(&img.layers);
    img.secrets
        .iter()
        .filter(|h| h.key == key)
        .map(|h| {
            let inside = h
                .member
                .as_ref()
                .map(|m| format!(" (in its member {m})"))
                .unwrap_or_default();
            let msg = match h.layer {
                Some(layer) => {
                    let step = img
                        .layers
                        .get(layer)
                        .map(|l| format!(", made by `{}`", l.created_by.trim()))
                        .unwrap_or_default();
                    let still = if fs.contains_key(h.path.trim_start_matches('/')) {
                        ""
                    } else {
                        "; a later layer deletes it, but the layer still holds it for anyone with the image"
                    };
                    format!(
                        "image {} holds {} in layer {layer}{step}: {}{inside}{still}",
                        check.image,
                        spec.describe(),
                        h.path
                    )
                }
                None => format!(
                    "image {} holds {} in its config: {}",
                    check.image,
                    spec.describe(),
                    h.path
                ),
            };
            Finding::error(msg)
        })
        .collect()
}

/// The reason image checks give without a Docker engine.
pub const NO_ENGINE: &str = "needs a Docker engine to build the image; offline it cannot be graded";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;
    use crate::image::{FileKind, Layer, LayerFile, Original, SecretHit};

    fn check() -> ImageCheck {
        ImageCheck {
            image: "app".into(),
            non_root: true,
            no_secret: Some(SecretSpec {
                flag: Some("layer-secret".into()),
                ..SecretSpec::default()
            }),
            smaller_than_original: true,
            no_shell: true,
            no_package_manager: true,
        }
    }

    fn file(path: &str) -> LayerFile {
        LayerFile {
            path: path.into(),
            kind: FileKind::File,
            size: 3,
            mode: 0o644,
            uid: 0,
            gid: 0,
            text: None,
            binary: None,
        }
    }

    fn images(img: BuiltImage) -> BuiltImages {
        BuiltImages::from([("app".to_string(), img)])
    }

    #[test]
    fn root_users() {
        for u in ["", "root", "0", "0:0", "root:app", " 0 "] {
            assert!(is_root_user(u), "{u:?}");
        }
        for u in ["65532", "nonroot", "1000:0", "app"] {
            assert!(!is_root_user(u), "{u:?}");
        }
    }

    #[test]
    fn a_hardened_image_passes_and_offline_skips() {
        let img = BuiltImage {
            name: "app".into(),
            user: "65532".into(),
            size: 10,
            original: Some(Original {
                id: "sha256:o".into(),
                size: 20,
            }),
            layers: vec![Layer {
                files: vec![file("usr/bin/python3")],
                ..Layer::default()
            }],
            ..BuiltImage::default()
        };
        assert!(grade_image(&check(), Some(&images(img))).passed());
        assert_eq!(grade_image(&check(), None).status, Status::Skipped);
    }

    #[test]
    fn every_failure_is_told() {
        let img = BuiltImage {
            name: "app".into(),
            user: "root".into(),
            size: 30 * 1024 * 1024,
            original: Some(Original {
                id: "sha256:o".into(),
                size: 20 * 1024 * 1024,
            }),
            layers: vec![
                Layer {
                    files: vec![file("usr/bin/dash"), file("usr/bin/apt-get"), file("tmp/t")],
                    created_by: "COPY file:abc in /tmp/t ".into(),
                    ..Layer::default()
                },
                Layer {
                    index: 1,
                    deleted: vec!["tmp/t".into()],
                    ..Layer::default()
                },
            ],
            secrets: vec![SecretHit {
                key: "flag:layer-secret".into(),
                layer: Some(0),
                path: "/tmp/t".into(),
                member: None,
            }],
            ..BuiltImage::default()
        };
        let v = grade_image(&check(), Some(&images(img)));
        let msgs: Vec<&str> = v.findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(msgs.len(), 5, "{msgs:#?}");
        assert_eq!(msgs[0], "image app runs as root: USER is `root`");
        assert!(
            msgs[1].contains("layer 0, made by `COPY file:abc in /tmp/t`: /tmp/t"),
            "{}",
            msgs[1]
        );
        assert!(msgs[1].contains("a later layer deletes it"), "{}", msgs[1]);
        assert_eq!(
            msgs[2],
            "image app is 30.0 MiB, not smaller than the original's 20.0 MiB"
        );
        assert_eq!(msgs[3], "image app has a shell: /usr/bin/dash");
        assert_eq!(msgs[4], "image app has a package manager: /usr/bin/apt-get");
    }

    #[test]
    fn a_failed_build_or_a_missing_image_fails() {
        let v = grade_image(&check(), Some(&BuiltImages::new()));
        assert_eq!(v.findings[0].message, "image app was not built");
        let img = BuiltImage {
            error: Some("step 3: exit code 1".into()),
            ..BuiltImage::default()
        };
        let v = grade_image(&check(), Some(&images(img)));
        assert_eq!(
            v.findings[0].message,
            "image app does not build: step 3: exit code 1"
        );
    }
}
