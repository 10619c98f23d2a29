//! What an image's layers hold: each layer's files (path, size, mode,
//! owner) and deletions, as the Docker shell read them from `docker save`,
//! and the filesystem the stack adds up to (whiteouts applied, as overlayfs
//! does).
//!
//! A layer deletes a path with a whiteout entry `dir/.wh.<name>`, and
//! hides everything below a directory from lower layers with
//! `dir/.wh..wh..opq` (an opaque directory). [`classify`] turns a tar
//! entry's path into one of those.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The whiteout prefix of a deleted path's entry.
pub const WHITEOUT: &str = ".wh.";
/// The entry name that makes its directory opaque.
pub const OPAQUE: &str = ".wh..wh..opq";

/// The kind of a layer entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link to the target.
    Symlink(String),
    /// A hard link to another path of the same layer.
    Hardlink(String),
    /// Anything else (device, fifo).
    Other,
}

/// One entry a layer adds (or replaces).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LayerFile {
    /// The path, relative to `/`, without a leading `./` or `/`.
    pub path: String,
    /// Its kind.
    pub kind: FileKind,
    /// Its size in bytes (files only).
    pub size: u64,
    /// Its permission bits (`0o755`).
    pub mode: u32,
    /// Its owner's uid.
    pub uid: u64,
    /// Its group's gid.
    pub gid: u64,
    /// Its text, when it is evidence of what is installed (an OS release
    /// file, a package database, language metadata, a version file: see
    /// [`super::evidence::text_wanted`]); cut at that function's limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// What it is as a binary (ELF, Go, packed), when it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<super::evidence::Binary>,
}

/// One layer: what it adds and what it deletes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Layer {
    /// Its position, 0 the lowest.
    pub index: usize,
    /// Its uncompressed digest (the config's `rootfs.diff_ids`).
    pub diff_id: String,
    /// The history step that made it.
    pub created_by: String,
    /// The entries it adds, in archive order.
    pub files: Vec<LayerFile>,
    /// The paths it deletes (whiteouts).
    pub deleted: Vec<String>,
    /// The directories it makes opaque (lower layers' contents hidden).
    pub opaque: Vec<String>,
}

/// What a tar entry's path means in a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// An entry at this path.
    Path(String),
    /// A whiteout: this path is deleted.
    Deleted(String),
    /// This directory is opaque.
    Opaque(String),
}

/// Normalises a tar path (`./usr/bin/`, `/etc`) to `usr/bin`, `etc`.
pub fn normalise(path: &str) -> String {
    let mut p = path.trim_start_matches("./").trim_start_matches('/');
    p = p.trim_end_matches('/');
    if p == "." {
        String::new()
    } else {
        p.to_string()
    }
}

/// Reads a layer entry's path: a whiteout, an opaque marker or a path.
pub fn classify(path: &str) -> Entry {
    let p = normalise(path);
    let (dir, name) = match p.rsplit_once('/') {
        Some((d, n)) => (d.to_string(), n),
        None => (String::new(), p.as_str()),
    };
    if name == OPAQUE {
        return Entry::Opaque(dir);
    }
    if let Some(hidden) = name.strip_prefix(WHITEOUT) {
        return Entry::Deleted(if dir.is_empty() {
            hidden.to_string()
        } else {
            format!("{dir}/{hidden}")
        });
    }
    Entry::Path(p)
}

fn under(path: &str, dir: &str) -> bool {
    dir.is_empty() || path == dir || path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

/// The filesystem the layers add up to: every path a container sees, with
/// the entry of the highest layer that has it.
pub fn final_fs(layers: &[Layer]) -> BTreeMap<String, LayerFile> {
    let mut fs: BTreeMap<String, LayerFile> = BTreeMap::new();
    for layer in layers {
        for dir in &layer.opaque {
            fs.retain(|p, _| !(under(p, dir) && p != dir));
        }
        for gone in &layer.deleted {
            fs.retain(|p, _| !under(p, gone));
        }
        for f in &layer.files {
            // A file replacing a directory hides what was below it.
            if f.kind != FileKind::Dir {
                fs.retain(|p, _| !(under(p, &f.path) && p != &f.path));
            }
            fs.insert(f.path.clone(), f.clone());
        }
    }
    fs
}

/// Resolves `path` in `fs` through symlinks (of the path's directories
/// too, like `bin -> usr/bin`): the entry it names, if any.
pub fn resolve<'a>(fs: &'a BTreeMap<String, LayerFile>, path: &str) -> Option<&'a LayerFile> {
    let mut parts: Vec<String> = normalise(path).split('/').map(str::to_string).collect();
    let mut done: Vec<String> = Vec::new();
    let mut hops = 0;
    while !parts.is_empty() {
        let part = parts.remove(0);
        match part.as_str() {
            "" | "." => continue,
            ".." => {
                done.pop();
                continue;
            }
            _ => {}
        }
        done.push(part);
        let here = done.join("/");
        // A folder need not have its own entry (a layer may add only files).
        let Some(entry) = fs.get(&here) else {
            if parts.is_empty() {
                return None;
            }
            continue;
        };
        if let FileKind::Symlink(target) = &entry.kind {
            hops += 1;
            if hops > 16 {
                return None;
            }
            done.pop();
            if target.starts_with('/') {
                done.clear();
            }
            let mut rest: Vec<String> = target.split('/').map(str::to_string).collect();
            rest.append(&mut parts);
            parts = rest;
        }
    }
    fs.get(&done.join("/"))
}

/// The folders a shell or a package manager would be found in.
pub const BIN_DIRS: &[&str] = &[
    "bin",
    "sbin",
    "usr/bin",
    "usr/sbin",
    "usr/local/bin",
    "usr/local/sbin",
];

/// Shells (and busybox, which is one).
pub const SHELLS: &[&str] = &["sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "busybox"];

/// OS package managers.
pub const PACKAGE_MANAGERS: &[&str] = &[
    "apt", "apt-get", "dpkg", "apk", "yum", "dnf", "microdnf", "rpm", "zypper",
];

/// The programs named in `names` that the filesystem holds in a bin
/// folder (following symlinks to a regular file), as `/usr/bin/dash`.
pub fn programs(fs: &BTreeMap<String, LayerFile>, names: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for dir in BIN_DIRS {
        for name in names {
            let path = format!("{dir}/{name}");
            if resolve(fs, &path)
                .is_some_and(|f| matches!(f.kind, FileKind::File | FileKind::Hardlink(_)))
            {
                out.push(format!("/{path}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> LayerFile {
        LayerFile {
            path: path.into(),
            kind: FileKind::File,
            size: 1,
            mode: 0o755,
            uid: 0,
            gid: 0,
            text: None,
            binary: None,
        }
    }

    fn link(path: &str, to: &str) -> LayerFile {
        LayerFile {
            kind: FileKind::Symlink(to.into()),
            ..file(path)
        }
    }

    #[test]
    fn whiteouts_and_opaque_dirs() {
        assert_eq!(
            classify("./tmp/.wh.token"),
            Entry::Deleted("tmp/token".into())
        );
        assert_eq!(classify(".wh.etc"), Entry::Deleted("etc".into()));
        assert_eq!(classify("app/.wh..wh..opq"), Entry::Opaque("app".into()));
        assert_eq!(classify("/usr/bin/"), Entry::Path("usr/bin".into()));
    }

    #[test]
    fn deletions_hide_lower_layers() {
        let lower = Layer {
            files: vec![
                file("tmp/token"),
                file("app/a"),
                file("app/b"),
                file("keep"),
            ],
            ..Layer::default()
        };
        let upper = Layer {
            index: 1,
            deleted: vec!["tmp/token".into()],
            opaque: vec!["app".into()],
            files: vec![file("app/c")],
            ..Layer::default()
        };
        let fs = final_fs(&[lower, upper]);
        let paths: Vec<&str> = fs.keys().map(String::as_str).collect();
        assert_eq!(paths, ["app/c", "keep"]);
    }

    #[test]
    fn shells_through_merged_usr_links() {
        let layer = Layer {
            files: vec![
                link("bin", "usr/bin"),
                file("usr/bin/dash"),
                link("usr/bin/sh", "dash"),
            ],
            ..Layer::default()
        };
        let fs = final_fs(std::slice::from_ref(&layer));
        assert_eq!(
            programs(&fs, SHELLS),
            ["/bin/sh", "/bin/dash", "/usr/bin/sh", "/usr/bin/dash"]
        );
        // dash deleted: sh dangles, no shell is left.
        let rm = Layer {
            index: 1,
            deleted: vec!["usr/bin/dash".into()],
            ..Layer::default()
        };
        let fs = final_fs(&[layer, rm]);
        assert!(programs(&fs, SHELLS).is_empty());
    }
}
