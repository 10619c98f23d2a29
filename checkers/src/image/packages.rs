//! The inventory: what an image holds, seen two ways side by side.
//!
//! - **The scanner's view**: what a scanner that reads package metadata
//!   finds in the final filesystem (whiteouts applied). Like trivy's
//!   layer walker it reads regular files only: a manifest reached through
//!   a symlink (or a hard link) is not seen. OS identity from the release
//!   files, OS packages from the package database, Python packages from
//!   `*.dist-info`/`*.egg-info` metadata, Node packages from
//!   `node_modules/**/package.json`, Go binaries from their build info.
//! - **What is really there**: the same filesystem read as the kernel
//!   would (symlinks followed), plus the evidence no database needs: dpkg's
//!   per-package file lists, `/usr/share/doc/<package>`, metadata a later
//!   layer deleted (still in a lower layer), importable Python modules and
//!   Node package folders whatever metadata they have, native code (ELF),
//!   packed executables.
//!
//! A **blind spot** is something really there that the scanner's view
//! misses, with the technique that hid it.

// Paths in a Linux image are case-sensitive: `.PY` is not Python.
#![allow(clippy::case_sensitive_file_extension_comparisons)]

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::BuiltImage;
use super::evidence;
use super::inventory::{FileKind, LayerFile, resolve};

/// The ecosystem a package belongs to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    /// An OS package (dpkg, apk).
    Os,
    /// A Python distribution or module.
    Python,
    /// A Node package.
    Node,
    /// A Go binary (its main module) or a module it was built with.
    Go,
}

/// One package as a view finds it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct Package {
    /// Its ecosystem.
    pub ecosystem: Ecosystem,
    /// Its name (`libc6`, `urllib3`).
    pub name: String,
    /// Its version, when the evidence names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The file that shows it (`/var/lib/dpkg/status`).
    pub evidence: String,
}

/// What one view finds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct View {
    /// The OS, as `id version` (`debian 12`), when identified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// The packages, by ecosystem then name.
    pub packages: Vec<Package>,
    /// Native executables and libraries (ELF files) it sees.
    pub native_files: usize,
}

impl View {
    /// How many packages of `eco` it lists.
    pub fn count(&self, eco: Ecosystem) -> usize {
        self.packages.iter().filter(|p| p.ecosystem == eco).count()
    }
}

/// How something was hidden from the scanner.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Technique {
    /// The OS release files are gone or say another OS.
    OsIdentity,
    /// The OS package database is gone (or lists less than is installed).
    OsPackageDb,
    /// Language package metadata is gone while the code stays.
    LanguageMetadata,
    /// The metadata is there only through a symlink, which scanners skip.
    SymlinkedManifest,
    /// An executable packed (UPX, gzexe): a scanner sees only the stub.
    PackedBinary,
    /// Native code no package database lists (a flattened or stripped image).
    UnlistedNativeCode,
}

impl Technique {
    /// The technique's name as lab.yaml and reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Technique::OsIdentity => "os-identity",
            Technique::OsPackageDb => "os-package-db",
            Technique::LanguageMetadata => "language-metadata",
            Technique::SymlinkedManifest => "symlinked-manifest",
            Technique::PackedBinary => "packed-binary",
            Technique::UnlistedNativeCode => "unlisted-native-code",
        }
    }
}

/// One thing really there that the scanner does not see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BlindSpot {
    /// How it was hidden.
    pub technique: Technique,
    /// What is there, in a sentence.
    pub what: String,
    /// Where (a few paths).
    pub paths: Vec<String>,
}

/// Both views of an image and what the scanner's misses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Inventory {
    /// What a scanner that reads package metadata sees.
    pub scanner: View,
    /// What is really there.
    pub real: View,
    /// What the scanner's view misses.
    pub blind_spots: Vec<BlindSpot>,
    /// The image's layers (one: flattened, or imported).
    pub layers: usize,
}

type Fs = BTreeMap<String, LayerFile>;

/// Text evidence by path: what the final filesystem holds, and what lower
/// layers held at paths the final filesystem no longer has.
struct Texts<'a> {
    fs: &'a Fs,
    removed: BTreeMap<&'a str, &'a str>,
}

impl<'a> Texts<'a> {
    fn new(img: &'a BuiltImage, fs: &'a Fs) -> Self {
        let mut removed = BTreeMap::new();
        for layer in &img.layers {
            for f in &layer.files {
                if let Some(t) = &f.text
                    && !fs.contains_key(&f.path)
                {
                    removed.insert(f.path.as_str(), t.as_str());
                }
            }
        }
        Texts { fs, removed }
    }

    /// The text at `path` as a scanner reads it: a regular file only.
    fn scanner(&self, path: &str) -> Option<&'a str> {
        self.fs
            .get(path)
            .filter(|f| f.kind == FileKind::File)
            .and_then(|f| f.text.as_deref())
    }

    /// The text at `path` as it really is: through symlinks.
    fn real(&self, path: &str) -> Option<&'a str> {
        resolve(self.fs, path).and_then(|f| f.text.as_deref())
    }
}

fn os_of(path: &str, text: &str) -> Option<(String, String)> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let first = text.lines().next().unwrap_or_default().trim().to_string();
    match name {
        "os-release" | "lsb-release" => {
            let mut id = None;
            let mut version = String::new();
            for line in text.lines() {
                let Some((k, v)) = line.split_once('=') else {
                    continue;
                };
                let v = v.trim().trim_matches('"').to_string();
                match k.trim() {
                    "ID" | "DISTRIB_ID" => id = Some(v.to_lowercase()),
                    "VERSION_ID" | "DISTRIB_RELEASE" => version = v,
                    _ => {}
                }
            }
            id.map(|id| (id, version))
        }
        "debian_version" => Some(("debian".into(), first)),
        "alpine-release" => Some(("alpine".into(), first)),
        "redhat-release" => Some(("rhel".into(), first)),
        _ => None,
    }
}

const KNOWN_OS: &[&str] = &[
    "debian",
    "ubuntu",
    "alpine",
    "rhel",
    "centos",
    "fedora",
    "rocky",
    "almalinux",
    "amzn",
    "opensuse-leap",
    "sles",
    "wolfi",
    "chainguard",
    "photon",
    "ol",
    "mariner",
    "azurelinux",
];

fn show_os(os: &(String, String)) -> String {
    if os.1.is_empty() {
        os.0.clone()
    } else {
        format!("{} {}", os.0, os.1)
    }
}

/// dpkg status paragraphs (or apk's `P:`/`V:` records): installed
/// packages with their versions.
fn db_packages(text: &str, evidence: &str, out: &mut Vec<Package>) {
    for para in text.split("\n\n") {
        let mut name = None;
        let mut version = None;
        let mut installed = true;
        for line in para.lines() {
            if let Some(v) = line
                .strip_prefix("Package:")
                .or_else(|| line.strip_prefix("P:"))
            {
                name = Some(v.trim().to_string());
            } else if let Some(v) = line
                .strip_prefix("Version:")
                .or_else(|| line.strip_prefix("V:"))
            {
                version = Some(v.trim().to_string());
            } else if let Some(v) = line.strip_prefix("Status:") {
                installed = v.trim().ends_with(" installed");
            }
        }
        if let (Some(name), true) = (name, installed) {
            out.push(Package {
                ecosystem: Ecosystem::Os,
                name,
                version,
                evidence: format!("/{evidence}"),
            });
        }
    }
}

/// The OS package databases in `fs` as `text` reads them.
fn os_packages(
    fs: &Fs,
    text: &dyn Fn(&str) -> Option<String>,
    extra: &[(&str, &str)],
) -> Vec<Package> {
    let mut out = Vec::new();
    let mut paths: Vec<&str> = vec![evidence::DPKG_STATUS, evidence::APK_INSTALLED];
    paths.extend(
        fs.keys()
            .filter(|p| p.starts_with(evidence::DPKG_STATUS_D) && !p.ends_with(".md5sums"))
            .map(String::as_str),
    );
    for p in paths {
        if let Some(t) = text(p) {
            db_packages(&t, p, &mut out);
        }
    }
    for (p, t) in extra {
        if *p == evidence::DPKG_STATUS
            || *p == evidence::APK_INSTALLED
            || p.starts_with(evidence::DPKG_STATUS_D)
        {
            db_packages(t, p, &mut out);
        }
    }
    out
}

/// A metadata file's `Name:` and `Version:` headers.
fn name_version(text: &str) -> (Option<String>, Option<String>) {
    let mut name = None;
    let mut version = None;
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Name:") {
            name.get_or_insert_with(|| v.trim().to_string());
        } else if let Some(v) = line.strip_prefix("Version:") {
            version.get_or_insert_with(|| v.trim().to_string());
        }
    }
    (name, version)
}

/// PEP 503 normalisation, with `-` as Python imports spell it (`_`).
fn module_name(name: &str) -> String {
    name.to_lowercase().replace(['-', '.'], "_")
}

/// One Python distribution's metadata: where, what it names, what it covers.
struct Dist {
    root: String,
    name: String,
    version: Option<String>,
    evidence: String,
    covers: BTreeSet<String>,
    how: Seen,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Seen {
    Regular,
    Symlinked,
    Removed,
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

fn first_component(rel: &str) -> &str {
    rel.split('/').next().unwrap_or(rel)
}

/// The module a top-level entry of an import root is (`urllib3`, `six.py`
/// → `six`, `_yaml.cpython-311-x86_64-linux-gnu.so` → `_yaml`).
fn module_of(entry: &str) -> Option<String> {
    if entry.starts_with('.')
        || entry == "__pycache__"
        || entry.ends_with(".dist-info")
        || entry.ends_with(".egg-info")
        || entry.ends_with(".pth")
        || entry.ends_with(".egg-link")
    {
        return None;
    }
    let stem = entry
        .strip_suffix(".py")
        .or_else(|| entry.strip_suffix(".so"))
        .map_or(entry, |s| s.split('.').next().unwrap_or(s));
    (!stem.is_empty() && !stem.contains('-') && !stem.contains('.')).then(|| stem.to_string())
}

fn dists(fs: &Fs, texts: &Texts<'_>) -> Vec<Dist> {
    // Every metadata folder (or egg-info file), whether or not it has an
    // entry of its own, and those a later layer deleted.
    let mut metas: BTreeSet<String> = BTreeSet::new();
    let mut note = |p: &str| {
        for marker in [".dist-info", ".egg-info"] {
            if let Some(i) = p.find(&format!("{marker}/")) {
                metas.insert(p[..i + marker.len()].to_string());
            } else if p.ends_with(marker) {
                metas.insert(p.to_string());
            }
        }
    };
    for p in fs.keys() {
        note(p);
    }
    for p in texts.removed.keys() {
        note(p);
    }
    let mut out = Vec::new();
    for meta in metas {
        let root = parent(&meta).to_string();
        let candidates = [
            format!("{meta}/METADATA"),
            format!("{meta}/PKG-INFO"),
            meta.clone(),
        ];
        let mut found = None;
        for c in &candidates {
            if let Some(t) = texts.scanner(c) {
                found = Some((t, Seen::Regular, c.clone()));
            } else if let Some(t) = texts.real(c) {
                found = Some((t, Seen::Symlinked, c.clone()));
            } else if let Some(t) = texts.removed.get(c.as_str()) {
                found = Some((*t, Seen::Removed, c.clone()));
            }
            if found.is_some() {
                break;
            }
        }
        let Some((text, how, evidence)) = found else {
            continue;
        };
        let (Some(name), version) = name_version(text) else {
            continue;
        };
        let mut covers = BTreeSet::from([module_name(&name)]);
        let read = |file: &str| {
            let p = format!("{meta}/{file}");
            match how {
                Seen::Regular => texts.scanner(&p),
                Seen::Symlinked => texts.real(&p),
                Seen::Removed => texts.removed.get(p.as_str()).copied(),
            }
        };
        if let Some(t) = read("top_level.txt") {
            covers.extend(
                t.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string),
            );
        }
        if let Some(t) = read("RECORD") {
            for line in t.lines() {
                let path = line.split(',').next().unwrap_or_default();
                if let Some(m) = module_of(first_component(path)) {
                    covers.insert(m);
                }
            }
        }
        out.push(Dist {
            root,
            name,
            version,
            evidence: format!("/{evidence}"),
            covers,
            how,
        });
    }
    out
}

/// `__version__ = "1.2.3"` in a version file.
fn dunder_version(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("__version__")?.trim_start();
        let rest = rest
            .strip_prefix(':')
            .map_or(rest, |r| r.split_once('=').map_or(r, |(_, v)| v));
        let v = rest.trim_start_matches('=').trim();
        let q = v.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let inner = &v[1..];
        inner.find(q).map(|end| inner[..end].to_string())
    })
}

/// Import roots: every `site-packages`/`dist-packages` folder, and the
/// image's `PYTHONPATH`.
fn import_roots(fs: &Fs, env: &[String]) -> BTreeSet<String> {
    let mut roots = BTreeSet::new();
    for p in fs.keys() {
        for marker in ["/site-packages", "/dist-packages"] {
            if let Some(i) = p.find(marker) {
                let end = i + marker.len();
                if p.len() == end || p[end..].starts_with('/') {
                    roots.insert(p[..end].to_string());
                }
            }
        }
    }
    for e in env {
        if let Some(paths) = e.strip_prefix("PYTHONPATH=") {
            roots.extend(
                paths
                    .split(':')
                    .map(|p| p.trim_matches('/').to_string())
                    .filter(|p| !p.is_empty()),
            );
        }
    }
    roots
}

/// Modules in each import root: (root, module) → a file of it.
fn modules(fs: &Fs, roots: &BTreeSet<String>) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for root in roots {
        let prefix = format!("{root}/");
        for (path, f) in fs.range(prefix.clone()..) {
            let Some(rel) = path.strip_prefix(&prefix) else {
                break;
            };
            let top = first_component(rel);
            let is_module = if rel.contains('/') {
                // A package folder: it has Python code right inside it.
                let inner = &rel[top.len() + 1..];
                !inner.contains('/')
                    && (inner.ends_with(".py") || inner.ends_with(".so"))
                    && f.kind != FileKind::Dir
            } else {
                f.kind != FileKind::Dir && (rel.ends_with(".py") || rel.ends_with(".so"))
            };
            if !is_module {
                continue;
            }
            if let Some(m) = module_of(top) {
                out.entry((root.clone(), m)).or_insert_with(|| path.clone());
            }
        }
    }
    out
}

/// The version a module's own files state.
fn module_version(texts: &Texts<'_>, root: &str, module: &str) -> Option<String> {
    evidence::VERSION_FILES.iter().find_map(|f| {
        texts
            .real(&format!("{root}/{module}/{f}"))
            .and_then(dunder_version)
    })
}

/// A library's version from its file name (`libz.so.1.2.13` → `1.2.13`).
fn soname_version(path: &str) -> Option<String> {
    let name = path.rsplit('/').next()?;
    let (_, v) = name.split_once(".so.")?;
    Some(v.to_string())
}

mod build;
pub mod check;
#[cfg(test)]
mod tests;

pub use build::inventory;
