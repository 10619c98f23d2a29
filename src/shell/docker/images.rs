//! Images seclab builds for a lab (lab.yaml `build:`): build from a
//! workspace folder with seclab's labels and a per-lab, per-student tag,
//! then read what the engine made — inspect (id, size, tags), `docker save`
//! (history, Env, User, each layer's files and deletions) and the secret
//! search over every layer — into the checkers' [`BuiltImage`].

use std::collections::BTreeMap;
use std::path::Path;

use futures_util::StreamExt;
use seclab_checkers::image::{BuiltImage, Needle};
use serde_json::Value;

use super::layers::read_saved;
use super::{Engine, EngineError, ImageMap, labels};

/// The tag seclab gives the image `name` of `lab` built for `student`
/// (`seclab-trivy-scan/menu-aggregator:alice`); `original` for the one
/// built from the lab's pristine start files. Characters Docker does not
/// take in a tag become `-`.
pub fn built_tag(lab: &str, name: &str, student: &str, original: bool) -> String {
    let clean = |s: &str, tag: bool| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_lowercase()
                    || c.is_ascii_digit()
                    || c == '-'
                    || c == '.'
                    || (tag && c == '_')
                    || (tag && c.is_ascii_uppercase())
                {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    let mut tag = clean(student, true);
    if original {
        tag.push_str("-original");
    }
    tag.truncate(128);
    format!("seclab-{}/{}:{tag}", clean(lab, false), clean(name, false))
}

/// A line of build output without terminal colour codes (`ESC[91m`).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl Engine {
    /// Builds `context` with the Dockerfile at `dockerfile` (relative to
    /// the context, its FROM lines mapped), tagged `tag`, labelled as the
    /// lab's (`seclab.dev/lab`, `seclab.dev/student`, `seclab.dev/image`).
    /// `Ok(Err(message))`: the build itself failed (the Dockerfile's
    /// fault), with its last lines of output.
    #[allow(clippy::too_many_arguments)]
    pub async fn build_for_lab(
        &self,
        lab: &str,
        student: &str,
        name: &str,
        context: &Path,
        dockerfile: &str,
        tag: &str,
        map: &ImageMap,
    ) -> Result<Result<String, String>, EngineError> {
        let labels = BTreeMap::from([
            (labels::LAB.to_owned(), lab.to_owned()),
            (labels::STUDENT.to_owned(), student.to_owned()),
            (labels::IMAGE.to_owned(), name.to_owned()),
        ]);
        let mut tail: Vec<String> = Vec::new();
        let built = self
            .build_file(context, dockerfile, tag, &labels, map, |line| {
                tail.push(strip_ansi(&line));
                if tail.len() > 8 {
                    tail.remove(0);
                }
            })
            .await;
        match built {
            Ok(id) => Ok(Ok(id)),
            Err(EngineError::Docker { message, .. }) => Ok(Err(format!(
                "{message}\n  last output:\n    {}",
                tail.join("\n    ")
            ))),
            Err(EngineError::Io { path, message }) => {
                Ok(Err(format!("{}: {message}", path.display())))
            }
            Err(e) => Err(e),
        }
    }

    /// What the engine holds of image `reference`, as the lab's image
    /// `name`: inspect, then `docker save` read layer by layer with the
    /// secret search for `needles`.
    pub async fn built_image(
        &self,
        name: &str,
        reference: &str,
        needles: &[Needle],
    ) -> Result<BuiltImage, EngineError> {
        let inspect = self
            .image_inspect(reference)
            .await?
            .ok_or_else(|| EngineError::Docker {
                what: format!("inspect image {reference}"),
                message: "no such image".into(),
            })?;
        let mut archive = Vec::new();
        let mut stream = self.docker.export_image(reference);
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|e| EngineError::docker(format!("save image {reference}"), &e))?;
            archive.extend_from_slice(&chunk);
        }
        let saved = read_saved(&archive, needles).map_err(|message| EngineError::Docker {
            what: format!("save image {reference}"),
            message,
        })?;
        Ok(BuiltImage {
            name: name.to_owned(),
            id: inspect
                .get("Id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            tags: inspect
                .get("RepoTags")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            user: saved.user,
            size: inspect
                .get("Size")
                .and_then(Value::as_u64)
                .unwrap_or_default(),
            env: saved.env,
            history: saved.history,
            layers: saved.layers,
            secrets: saved.secrets,
            original: None,
            error: None,
        })
    }

    /// The image's id and size; `None` when there is no such image.
    pub async fn image_id_size(
        &self,
        reference: &str,
    ) -> Result<Option<(String, u64)>, EngineError> {
        Ok(self.image_inspect(reference).await?.map(|i| {
            (
                i.get("Id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                i.get("Size").and_then(Value::as_u64).unwrap_or_default(),
            )
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_codes_are_stripped() {
        assert_eq!(strip_ansi("\u{1b}[91mTraceback\u{1b}[0m"), "Traceback");
    }

    #[test]
    fn tags_are_per_lab_and_student() {
        assert_eq!(
            built_tag("trivy-scan", "menu-aggregator", "alice", false),
            "seclab-trivy-scan/menu-aggregator:alice"
        );
        assert_eq!(
            built_tag("trivy-scan", "menu-aggregator", "Bob Smith", true),
            "seclab-trivy-scan/menu-aggregator:Bob-Smith-original"
        );
    }
}
