//! Reading an image from `docker save` (the engine's image export): the
//! archive's `manifest.json` and config, then each layer tar, into the
//! checkers' layer inventory ([`Layer`]: files added with path, size, mode
//! and owner; whiteouts as deletions) plus history, Env and User. While
//! reading, every regular file — and each member of a gzip or tar file,
//! one level deep — is searched for the lab's secrets ([`Needle`]), and
//! what the inventory needs is kept: the text of evidence files and what
//! each binary is ([`evidence`]).

use std::collections::HashMap;
use std::io::Read;

use seclab_checkers::image::evidence;
use seclab_checkers::image::inventory::{Entry, classify};
use seclab_checkers::image::secret::search_config;
use seclab_checkers::image::{FileKind, HistoryStep, Layer, LayerFile, Needle, SecretHit};
use serde_json::Value;

/// The largest file (or gunzipped member) searched for a secret, in bytes.
const MAX_SEARCHED: u64 = 256 * 1024 * 1024;

/// What `docker save` of one image holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Saved {
    /// The config's `User`.
    pub user: String,
    /// The config's `Env`.
    pub env: Vec<String>,
    /// The history, oldest first.
    pub history: Vec<HistoryStep>,
    /// The layers, lowest first.
    pub layers: Vec<Layer>,
    /// Where the needles were found.
    pub secrets: Vec<SecretHit>,
}

impl Saved {
    /// The image these layers make, by the name `name`, for graders that
    /// read any image (`seclab scan image`): no id, size or tags.
    pub fn into_image(self, name: &str) -> seclab_checkers::image::BuiltImage {
        seclab_checkers::image::BuiltImage {
            name: name.to_owned(),
            user: self.user,
            env: self.env,
            history: self.history,
            layers: self.layers,
            secrets: self.secrets,
            ..seclab_checkers::image::BuiltImage::default()
        }
    }
}

/// Reads a `docker save` archive of one image (the legacy layout Docker
/// 20.10 writes, `<id>/layer.tar`, and the OCI layout's blobs alike: both
/// are named by `manifest.json`). Layers may be plain or gzip tars.
pub fn read_saved(archive: &[u8], needles: &[Needle]) -> Result<Saved, String> {
    let mut members: HashMap<String, Vec<u8>> = HashMap::new();
    let mut outer = tar::Archive::new(archive);
    for entry in outer.entries().map_err(|e| format!("image archive: {e}"))? {
        let mut entry = entry.map_err(|e| format!("image archive: {e}"))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry
            .path()
            .map_err(|e| format!("image archive: {e}"))?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_string();
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| format!("image archive: {name}: {e}"))?;
        members.insert(name, bytes);
    }
    let manifest: Value = serde_json::from_slice(
        members
            .get("manifest.json")
            .ok_or("image archive: no manifest.json")?,
    )
    .map_err(|e| format!("image archive: manifest.json: {e}"))?;
    let first = manifest
        .get(0)
        .ok_or("image archive: manifest.json names no image")?;
    let config_name = first
        .get("Config")
        .and_then(Value::as_str)
        .ok_or("image archive: manifest.json has no Config")?;
    let config: Value = serde_json::from_slice(
        members
            .get(config_name)
            .ok_or_else(|| format!("image archive: no {config_name}"))?,
    )
    .map_err(|e| format!("image archive: {config_name}: {e}"))?;
    let mut saved = Saved {
        user: config
            .pointer("/config/User")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        env: config
            .pointer("/config/Env")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        history: config
            .get("history")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|h| HistoryStep {
                        created_by: h
                            .get("created_by")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                        empty_layer: h
                            .get("empty_layer")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        ..Saved::default()
    };
    let diff_ids: Vec<String> = config
        .pointer("/rootfs/diff_ids")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    // Each step that made a layer, in order (an imported image has none).
    let mut steps = saved
        .history
        .iter()
        .filter(|h| !h.empty_layer)
        .map(|h| h.created_by.clone());
    let layer_names: Vec<&str> = first
        .get("Layers")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (index, name) in layer_names.iter().enumerate() {
        let bytes = members
            .get(*name)
            .ok_or_else(|| format!("image archive: no layer {name}"))?;
        let mut layer = Layer {
            index,
            diff_id: diff_ids.get(index).cloned().unwrap_or_default(),
            created_by: steps.next().unwrap_or_default(),
            ..Layer::default()
        };
        read_layer(bytes, &mut layer, needles, &mut saved.secrets)
            .map_err(|e| format!("image archive: layer {index} ({name}): {e}"))?;
        saved.layers.push(layer);
    }
    saved
        .secrets
        .extend(search_config(needles, &saved.env, &saved.history));
    Ok(saved)
}

fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

fn is_tar(bytes: &[u8]) -> bool {
    bytes.get(257..262) == Some(b"ustar")
}

fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(MAX_SEARCHED)
        .read_to_end(&mut out)
        .map_err(|e| format!("gzip: {e}"))?;
    Ok(out)
}

fn read_layer(
    bytes: &[u8],
    layer: &mut Layer,
    needles: &[Needle],
    hits: &mut Vec<SecretHit>,
) -> Result<(), String> {
    let plain;
    let bytes = if is_gzip(bytes) {
        plain = gunzip(bytes)?;
        plain.as_slice()
    } else {
        bytes
    };
    let mut archive = tar::Archive::new(bytes);
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        let raw = entry
            .path()
            .map_err(|e| e.to_string())?
            .to_string_lossy()
            .into_owned();
        let path = match classify(&raw) {
            Entry::Deleted(p) => {
                layer.deleted.push(p);
                continue;
            }
            Entry::Opaque(d) => {
                layer.opaque.push(d);
                continue;
            }
            Entry::Path(p) if p.is_empty() => continue,
            Entry::Path(p) => p,
        };
        let header = entry.header();
        let link = || {
            header
                .link_name()
                .ok()
                .flatten()
                .map(|l| l.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        let kind = match header.entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => FileKind::File,
            tar::EntryType::Directory => FileKind::Dir,
            tar::EntryType::Symlink => FileKind::Symlink(link()),
            tar::EntryType::Link => FileKind::Hardlink(link().trim_start_matches('/').to_string()),
            _ => FileKind::Other,
        };
        let mut file = LayerFile {
            path: path.clone(),
            size: if kind == FileKind::File {
                header.size().unwrap_or(0)
            } else {
                0
            },
            mode: header.mode().unwrap_or(0) & 0o7777,
            uid: header.uid().unwrap_or(0),
            gid: header.gid().unwrap_or(0),
            kind,
            text: None,
            binary: None,
        };
        if file.kind == FileKind::File && file.size <= MAX_SEARCHED {
            let mut content = Vec::new();
            entry
                .read_to_end(&mut content)
                .map_err(|e| format!("{path}: {e}"))?;
            if !needles.is_empty() {
                search_file(&content, &path, layer.index, needles, hits);
            }
            // What the inventory needs: evidence text, what a binary is.
            if let Some(max) = evidence::text_wanted(&path) {
                let cut = &content[..content.len().min(max)];
                file.text = Some(String::from_utf8_lossy(cut).into_owned());
            }
            file.binary = evidence::binary(&content, &|b| gunzip(b).ok());
        }
        layer.files.push(file);
    }
    Ok(())
}

/// Searches a file, and the members of a gzip or tar file one level deep.
fn search_file(
    content: &[u8],
    path: &str,
    layer: usize,
    needles: &[Needle],
    hits: &mut Vec<SecretHit>,
) {
    let mut hit = |n: &Needle, member: Option<String>| {
        hits.push(SecretHit {
            key: n.key.clone(),
            layer: Some(layer),
            path: format!("/{path}"),
            member,
        });
    };
    for n in needles.iter().filter(|n| n.found_in(content)) {
        hit(n, None);
    }
    let gunzipped = if is_gzip(content) {
        gunzip(content).ok()
    } else {
        None
    };
    if let Some(g) = &gunzipped
        && !is_tar(g)
    {
        for n in needles.iter().filter(|n| n.found_in(g)) {
            hit(n, Some("(gunzipped)".into()));
        }
    }
    let inner = gunzipped.as_deref().unwrap_or(content);
    if !is_tar(inner) {
        return;
    }
    let mut archive = tar::Archive::new(inner);
    let Ok(entries) = archive.entries() else {
        return;
    };
    for entry in entries {
        let Ok(mut entry) = entry else { return };
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut bytes = Vec::new();
        if (&mut entry)
            .take(MAX_SEARCHED)
            .read_to_end(&mut bytes)
            .is_err()
        {
            return;
        }
        for n in needles.iter().filter(|n| n.found_in(&bytes)) {
            hit(n, Some(name.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seclab_checkers::image::secret::SecretSpec;

    fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut h = tar::Header::new_ustar();
            h.set_size(data.len() as u64);
            h.set_mode(0o640);
            h.set_uid(1000);
            h.set_cksum();
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut e, bytes).unwrap();
        e.finish().unwrap()
    }

    fn needle() -> Needle {
        SecretSpec {
            literal: Some("TOPSECRET".into()),
            ..SecretSpec::default()
        }
        .needle(&|_| String::new())
        .unwrap()
    }

    #[test]
    fn reads_a_saved_image_with_a_deleted_secret() {
        let l0 = tar_of(&[("tmp/token", b"x TOPSECRET y"), ("app/run.py", b"print()")]);
        let l1 = tar_of(&[("tmp/.wh.token", b""), ("srv/.wh..wh..opq", b"")]);
        let inner = tar_of(&[("deep/key.txt", b"TOPSECRET")]);
        let l2 = gzip(&tar_of(&[
            ("backup.tgz", &gzip(&inner)),
            ("note.gz", &gzip(b"TOPSECRET")),
        ]));
        let config = serde_json::json!({
            "config": {"User": "65532", "Env": ["PATH=/bin", "T=TOPSECRET"]},
            "history": [
                {"created_by": "COPY token /tmp/token"},
                {"created_by": "ENV X=1", "empty_layer": true},
                {"created_by": "RUN rm /tmp/token"},
                {"created_by": "COPY backup.tgz note.gz /"}
            ],
            "rootfs": {"diff_ids": ["sha256:a", "sha256:b", "sha256:c"]}
        });
        let manifest = serde_json::json!([{
            "Config": "cfg.json", "Layers": ["0/layer.tar", "1/layer.tar", "2/layer.tar"]}]);
        let archive = tar_of(&[
            ("manifest.json", manifest.to_string().as_bytes()),
            ("cfg.json", config.to_string().as_bytes()),
            ("0/layer.tar", &l0),
            ("1/layer.tar", &l1),
            ("2/layer.tar", &l2),
        ]);
        let saved = read_saved(&archive, &[needle()]).unwrap();
        assert_eq!(saved.user, "65532");
        assert_eq!(saved.layers.len(), 3);
        assert_eq!(saved.layers[1].created_by, "RUN rm /tmp/token");
        assert_eq!(saved.layers[1].deleted, ["tmp/token"]);
        assert_eq!(saved.layers[1].opaque, ["srv"]);
        let f = &saved.layers[0].files[0];
        assert_eq!(
            (f.path.as_str(), f.size, f.mode, f.uid),
            ("tmp/token", 13, 0o640, 1000)
        );
        let hits: Vec<(Option<usize>, &str, Option<&str>)> = saved
            .secrets
            .iter()
            .map(|h| (h.layer, h.path.as_str(), h.member.as_deref()))
            .collect();
        assert_eq!(
            hits,
            [
                (Some(0), "/tmp/token", None),
                (Some(2), "/backup.tgz", Some("deep/key.txt")),
                (Some(2), "/note.gz", Some("(gunzipped)")),
                (None, "Env T", None),
            ]
        );
    }

    #[test]
    fn a_broken_archive_is_an_error() {
        assert!(read_saved(b"not a tar", &[]).is_err());
        let no_manifest = tar_of(&[("x", b"y")]);
        assert!(
            read_saved(&no_manifest, &[])
                .unwrap_err()
                .contains("manifest.json")
        );
    }
}
