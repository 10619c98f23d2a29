//! Putting the two views together, and the blind spots between them.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    BlindSpot, Dist, Ecosystem, Fs, Inventory, KNOWN_OS, Package, Seen, Technique, Texts, dists,
    import_roots, module_version, modules, os_of, os_packages, show_os, soname_version,
};
use crate::image::BuiltImage;
use crate::image::evidence::{self, Binary, RELEASE_FILES};
use crate::image::inventory::{FileKind, final_fs, resolve};

/// The most paths a blind spot lists.
const SHOWN: usize = 6;

/// The inventory of `img`: both views and the blind spots.
pub fn inventory(img: &BuiltImage) -> Inventory {
    let fs = final_fs(&img.layers);
    let texts = Texts::new(img, &fs);
    let mut inv = Inventory {
        layers: img.layers.len(),
        ..Inventory::default()
    };
    os_views(&fs, &texts, &mut inv);
    python_views(&fs, &texts, &img.env, &mut inv);
    node_views(&fs, &texts, &mut inv);
    binary_views(&fs, &mut inv);
    // One entry a package, the one that names its version when any does.
    for v in [&mut inv.scanner, &mut inv.real] {
        v.packages.sort_by(|a, b| {
            (a.ecosystem, &a.name, a.version.is_none()).cmp(&(
                b.ecosystem,
                &b.name,
                b.version.is_none(),
            ))
        });
        v.packages
            .dedup_by(|b, a| a.ecosystem == b.ecosystem && a.name == b.name);
    }
    inv
}

fn os_views(fs: &Fs, texts: &Texts<'_>, inv: &mut Inventory) {
    // The scanner: the first release file that is a regular file.
    let scanner_os = RELEASE_FILES
        .iter()
        .find_map(|p| texts.scanner(p).and_then(|t| os_of(p, t)));
    // Really: what the release files said before a later layer deleted or
    // replaced them, then what they say through symlinks; a distribution
    // the scanner knows wins over a made-up ID.
    let mut candidates: Vec<(String, String)> = Vec::new();
    for p in RELEASE_FILES {
        if let Some(t) = texts.removed.get(p) {
            candidates.extend(os_of(p, t));
        }
    }
    for p in RELEASE_FILES {
        if let Some(t) = texts.real(p) {
            candidates.extend(os_of(p, t));
        }
    }
    // No release file tells the truth: the login banner, or the package
    // manager the image carries.
    if !candidates
        .iter()
        .any(|(id, _)| KNOWN_OS.contains(&id.as_str()))
    {
        candidates.extend(texts.real(evidence::ISSUE).and_then(os_of_issue));
        for (bin, id) in [("usr/bin/dpkg", "debian"), ("sbin/apk", "alpine")] {
            if resolve(fs, bin).is_some() {
                candidates.push((id.to_string(), String::new()));
            }
        }
    }
    let real_os = candidates
        .iter()
        .find(|(id, _)| KNOWN_OS.contains(&id.as_str()))
        .or(candidates.first())
        .cloned();
    inv.scanner.os = scanner_os.as_ref().map(show_os);
    inv.real.os = real_os.as_ref().map(show_os);
    match (&scanner_os, &real_os) {
        (None, Some(real)) => inv.blind_spots.push(BlindSpot {
            technique: Technique::OsIdentity,
            what: format!(
                "the OS is {}, but no release file a scanner reads says so: it cannot match OS packages to advisories",
                show_os(real)
            ),
            paths: vec!["/etc/os-release".into(), "/usr/lib/os-release".into()],
        }),
        (Some(seen), Some(real))
            if seen.0 != real.0 && KNOWN_OS.contains(&real.0.as_str()) =>
        {
            inv.blind_spots.push(BlindSpot {
                technique: Technique::OsIdentity,
                what: format!(
                    "the release file says `{}`, but the OS is {}: a scanner looks up the wrong (or no) advisories",
                    show_os(seen),
                    show_os(real)
                ),
                paths: vec!["/etc/os-release".into()],
            });
        }
        _ => {}
    }

    let scanner_text = |p: &str| texts.scanner(p).map(str::to_string);
    let seen = os_packages(fs, &scanner_text, &[]);
    let real_text = |p: &str| texts.real(p).map(str::to_string);
    let removed: Vec<(&str, &str)> = texts.removed.iter().map(|(p, t)| (*p, *t)).collect();
    let mut real = os_packages(fs, &real_text, &removed);
    // dpkg's file lists, one per package, whatever the status file says.
    for (p, f) in fs.range(evidence::DPKG_INFO.to_string()..) {
        let Some(name) = p.strip_prefix(evidence::DPKG_INFO) else {
            break;
        };
        if let (Some(name), FileKind::File) = (name.strip_suffix(".list"), &f.kind) {
            real.push(os_package(name.split(':').next().unwrap_or(name), p));
        }
    }
    // With no database at all, Debian's per-package doc folders still
    // name what was installed.
    if seen.is_empty() {
        for p in fs.keys() {
            if let Some(name) = p
                .strip_prefix("usr/share/doc/")
                .and_then(|r| r.strip_suffix("/copyright"))
                .filter(|n| !n.contains('/'))
            {
                real.push(os_package(name, p));
            }
        }
    }
    let seen_names: BTreeSet<&str> = seen.iter().map(|p| p.name.as_str()).collect();
    let mut missing: BTreeMap<&str, &Package> = BTreeMap::new();
    for p in &real {
        if !seen_names.contains(p.name.as_str()) {
            missing.entry(p.name.as_str()).or_insert(p);
        }
    }
    if !missing.is_empty() {
        let names: Vec<String> = missing
            .values()
            .take(SHOWN)
            .map(|p| match &p.version {
                Some(v) => format!("{} {v}", p.name),
                None => p.name.clone(),
            })
            .collect();
        let sources: BTreeSet<String> = missing.values().map(|p| source_of(&p.evidence)).collect();
        inv.blind_spots.push(BlindSpot {
            technique: Technique::OsPackageDb,
            what: format!(
                "{} OS packages are installed that no package database a scanner reads lists ({}{}); found by {}",
                missing.len(),
                names.join(", "),
                if missing.len() > SHOWN { ", ..." } else { "" },
                sources.into_iter().collect::<Vec<_>>().join(", ")
            ),
            paths: vec![format!("/{}", evidence::DPKG_STATUS)],
        });
    }
    inv.scanner.packages.extend(seen);
    inv.real.packages.extend(real);
}

/// The OS a login banner names (`Debian GNU/Linux 12 \n \l`,
/// `Welcome to Alpine Linux 3.18`, `Ubuntu 22.04.3 LTS \n \l`).
fn os_of_issue(text: &str) -> Option<(String, String)> {
    let line = text.lines().find(|l| !l.trim().is_empty())?.to_lowercase();
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|w| KNOWN_OS.contains(w))?;
    let version = words[at + 1..]
        .iter()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(|w| (*w).to_string())
        .unwrap_or_default();
    Some((words[at].to_string(), version))
}

fn os_package(name: &str, path: &str) -> Package {
    Package {
        ecosystem: Ecosystem::Os,
        name: name.to_string(),
        version: None,
        evidence: format!("/{path}"),
    }
}

/// How a missing package was found, for the message.
fn source_of(evidence: &str) -> String {
    if evidence.starts_with("/var/lib/dpkg/info/") {
        "dpkg's file lists".into()
    } else if evidence.starts_with("/usr/share/doc/") {
        "their /usr/share/doc folders".into()
    } else {
        format!("a database a later layer deleted ({evidence})")
    }
}

/// The files dpkg's lists give to the packages the scanner sees, and
/// whether any list is there at all.
fn owned_by_seen(fs: &Fs, texts: &Texts<'_>, inv: &Inventory) -> (BTreeSet<String>, bool) {
    let seen: BTreeSet<&str> = inv
        .scanner
        .packages
        .iter()
        .filter(|p| p.ecosystem == Ecosystem::Os)
        .map(|p| p.name.as_str())
        .collect();
    let mut owned = BTreeSet::new();
    let mut any = false;
    for (p, _) in fs.range(evidence::DPKG_INFO.to_string()..) {
        let Some(name) = p.strip_prefix(evidence::DPKG_INFO) else {
            break;
        };
        let Some(name) = name.strip_suffix(".list") else {
            continue;
        };
        any = true;
        if !seen.contains(name.split(':').next().unwrap_or(name)) {
            continue;
        }
        if let Some(t) = texts.scanner(p) {
            owned.extend(t.lines().map(|l| l.trim_start_matches('/').to_string()));
        }
    }
    (owned, any)
}

fn python_views(fs: &Fs, texts: &Texts<'_>, env: &[String], inv: &mut Inventory) {
    let all = dists(fs, texts);
    for d in &all {
        let p = Package {
            ecosystem: Ecosystem::Python,
            name: d.name.clone(),
            version: d.version.clone(),
            evidence: d.evidence.clone(),
        };
        if d.how == Seen::Regular {
            inv.scanner.packages.push(p.clone());
        }
        inv.real.packages.push(p);
    }
    let (owned, lists) = owned_by_seen(fs, texts, inv);
    let os_db = inv.scanner.count(Ecosystem::Os) > 0;
    let roots = import_roots(fs, env);
    for ((root, module), file) in modules(fs, &roots) {
        let covering: Vec<&Dist> = all
            .iter()
            .filter(|d| d.root == root && d.covers.contains(&module))
            .collect();
        if covering.iter().any(|d| d.how == Seen::Regular) {
            continue;
        }
        // Code an OS package installed is the OS package's.
        let distro_dir = root.starts_with("usr/lib/python3") && !root.starts_with("usr/local/");
        if owned.contains(&file) || (os_db && !lists && distro_dir) {
            continue;
        }
        let real = covering.first();
        let version = real
            .and_then(|d| d.version.clone())
            .or_else(|| module_version(texts, &root, &module));
        let name = real.map_or(module.clone(), |d| d.name.clone());
        let shown = match &version {
            Some(v) => format!("{name} {v}"),
            None => name.clone(),
        };
        let (technique, why) = match real.map(|d| d.how) {
            Some(Seen::Symlinked) => (
                Technique::SymlinkedManifest,
                format!(
                    "its metadata {} is reached only through a symlink, which scanners skip",
                    real.map(|d| d.evidence.as_str()).unwrap_or_default()
                ),
            ),
            Some(_) => (
                Technique::LanguageMetadata,
                format!(
                    "its metadata {} was deleted by a later layer",
                    real.map(|d| d.evidence.as_str()).unwrap_or_default()
                ),
            ),
            None => (
                Technique::LanguageMetadata,
                "no *.dist-info or *.egg-info names it".to_string(),
            ),
        };
        if real.is_none() {
            inv.real.packages.push(Package {
                ecosystem: Ecosystem::Python,
                name: name.clone(),
                version: version.clone(),
                evidence: format!("/{root}/{module}"),
            });
        }
        inv.blind_spots.push(BlindSpot {
            technique,
            what: format!("Python package {shown} is importable from /{root}, but {why}"),
            paths: vec![format!("/{file}")],
        });
    }
}

fn node_views(fs: &Fs, texts: &Texts<'_>, inv: &mut Inventory) {
    let mut dirs: BTreeSet<String> = BTreeSet::new();
    for p in fs.keys() {
        let Some(i) = p.rfind("node_modules/") else {
            continue;
        };
        let rest = &p[i + "node_modules/".len()..];
        let mut parts = rest.split('/');
        let first = parts.next().unwrap_or_default();
        let pkg = if first.starts_with('@') {
            match parts.next() {
                Some(second) => format!("{first}/{second}"),
                None => continue,
            }
        } else {
            first.to_string()
        };
        if pkg.is_empty() || pkg.starts_with('.') {
            continue;
        }
        dirs.insert(format!("{}{pkg}", &p[..i + "node_modules/".len()]));
    }
    for dir in dirs {
        let manifest = format!("{dir}/package.json");
        let parse = |t: &str| -> (Option<String>, Option<String>) {
            let v: serde_json::Value = serde_json::from_str(t).unwrap_or_default();
            let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
            (s("name"), s("version"))
        };
        let fallback = dir
            .rsplit("node_modules/")
            .next()
            .unwrap_or(&dir)
            .to_string();
        if let Some(t) = texts.scanner(&manifest) {
            let (name, version) = parse(t);
            let p = Package {
                ecosystem: Ecosystem::Node,
                name: name.unwrap_or(fallback),
                version,
                evidence: format!("/{manifest}"),
            };
            inv.scanner.packages.push(p.clone());
            inv.real.packages.push(p);
            continue;
        }
        let linked = texts.real(&manifest);
        let (name, version) = linked.map(parse).unwrap_or_default();
        let name = name.unwrap_or(fallback);
        let shown = version
            .as_ref()
            .map_or(name.clone(), |v| format!("{name} {v}"));
        inv.real.packages.push(Package {
            ecosystem: Ecosystem::Node,
            name,
            version,
            evidence: format!("/{dir}"),
        });
        let (technique, why) = if linked.is_some() {
            (
                Technique::SymlinkedManifest,
                "its package.json is a symlink, which scanners skip",
            )
        } else {
            (Technique::LanguageMetadata, "it has no package.json")
        };
        inv.blind_spots.push(BlindSpot {
            technique,
            what: format!("Node package {shown} is in /{dir}, but {why}"),
            paths: vec![format!("/{manifest}")],
        });
    }
}

fn describe_inside(inside: Option<&Binary>) -> String {
    match inside {
        Some(b) if b.go.is_some() => {
            let go = b.go.as_deref().unwrap_or_default();
            match b.go_modules.len() {
                0 => format!("a Go binary built with {go}"),
                n => format!("a Go binary built with {go} and {n} modules"),
            }
        }
        Some(b) if b.elf => "a native (ELF) executable".into(),
        Some(_) => "content it could not tell".into(),
        None => "content the shell did not unpack".into(),
    }
}

fn binary_views(fs: &Fs, inv: &mut Inventory) {
    let os_db = inv.scanner.count(Ecosystem::Os) > 0;
    let mut unlisted: Vec<String> = Vec::new();
    for (path, f) in fs {
        let Some(bin) = &f.binary else { continue };
        let regular = f.kind == FileKind::File;
        if let Some(packer) = &bin.packed {
            inv.blind_spots.push(BlindSpot {
                technique: Technique::PackedBinary,
                what: format!(
                    "/{path} is packed with {packer}: a scanner sees the stub, not what it holds ({})",
                    describe_inside(bin.inside.as_deref())
                ),
                paths: vec![format!("/{path}")],
            });
            continue;
        }
        if bin.elf {
            inv.real.native_files += 1;
            if regular && os_db {
                inv.scanner.native_files += 1;
            }
        }
        if let Some(go) = &bin.go {
            let p = Package {
                ecosystem: Ecosystem::Go,
                name: format!("/{path}"),
                version: Some(go.clone()),
                evidence: format!("/{path} (Go build info, {} modules)", bin.go_modules.len()),
            };
            if regular {
                inv.scanner.packages.push(p.clone());
            }
            inv.real.packages.push(p);
            continue;
        }
        if bin.elf && !os_db {
            unlisted.push(match soname_version(path) {
                Some(v) => format!("/{path} ({v})"),
                None => format!("/{path}"),
            });
        }
    }
    // A flattened or stripped image: native code and nothing to say what.
    if !unlisted.is_empty() {
        let n = unlisted.len();
        unlisted.truncate(SHOWN);
        inv.blind_spots.push(BlindSpot {
            technique: Technique::UnlistedNativeCode,
            what: format!(
                "{n} native executables and libraries, and no package database to say what they are: a scanner reports none of them"
            ),
            paths: unlisted,
        });
    }
}
