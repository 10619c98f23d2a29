//! What a scanner reads to decide what an image holds, and what the
//! Docker shell keeps of each layer file for the inventory: the text of
//! evidence files (OS release files, package databases, package file
//! lists, language package metadata, version files) and what a binary is
//! (ELF, a Go binary and its build info, packed by UPX or gzexe).
//!
//! Pure functions of a path or of a file's bytes: the shell calls them
//! while it reads a layer, the inventory ([`super::packages`]) reads the
//! facts they leave.

// Paths in a Linux image are case-sensitive: `.PY` is not Python.
#![allow(clippy::case_sensitive_file_extension_comparisons)]

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The most text kept of a package database or file list, in bytes.
pub const MAX_DB_TEXT: usize = 16 * 1024 * 1024;
/// The most text kept of a version file (`__init__.py`, ...), in bytes.
pub const MAX_VERSION_TEXT: usize = 8 * 1024;

/// OS release files, in the order a scanner tries them.
pub const RELEASE_FILES: &[&str] = &[
    "etc/os-release",
    "usr/lib/os-release",
    "etc/debian_version",
    "etc/alpine-release",
    "etc/lsb-release",
    "etc/redhat-release",
];

/// The login banner (`Debian GNU/Linux 12 \n \l`): no scanner reads it,
/// but it names the OS when the release files were removed.
pub const ISSUE: &str = "etc/issue";

/// The OS package databases a scanner reads (dpkg's status, distroless's
/// `status.d/` files, apk's installed list).
pub const DPKG_STATUS: &str = "var/lib/dpkg/status";
/// distroless keeps one status file per package here.
pub const DPKG_STATUS_D: &str = "var/lib/dpkg/status.d/";
/// The files of each dpkg package, one `<name>[:arch].list` each.
pub const DPKG_INFO: &str = "var/lib/dpkg/info/";
/// apk's database.
pub const APK_INSTALLED: &str = "lib/apk/db/installed";

/// Python files that often carry a module's version (`__version__ = ...`).
pub const VERSION_FILES: &[&str] = &[
    "__init__.py",
    "_version.py",
    "version.py",
    "__version__.py",
    "__about__.py",
];

/// How much of the file at `path` the inventory needs as text: `None` for
/// none, else the most bytes to keep.
pub fn text_wanted(path: &str) -> Option<usize> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let parent = path
        .rsplit_once('/')
        .map(|(d, _)| d.rsplit('/').next().unwrap_or(d))
        .unwrap_or_default();
    if RELEASE_FILES.contains(&path) || path == ISSUE {
        return Some(MAX_VERSION_TEXT);
    }
    if path == DPKG_STATUS
        || path == APK_INSTALLED
        || (path.starts_with(DPKG_STATUS_D) && !name.ends_with(".md5sums"))
        || (path.starts_with(DPKG_INFO) && name.ends_with(".list"))
    {
        return Some(MAX_DB_TEXT);
    }
    // Metadata files by name wherever they are: a build that renames the
    // folder and symlinks the old name to it keeps them elsewhere.
    if matches!(name, "METADATA" | "PKG-INFO" | "RECORD" | "top_level.txt")
        || name.ends_with(".egg-info")
        || (parent == "EGG-INFO" && name == "PKG-INFO")
    {
        return Some(MAX_DB_TEXT);
    }
    if name == "package.json" {
        return Some(MAX_VERSION_TEXT * 8);
    }
    if VERSION_FILES.contains(&name) {
        return Some(MAX_VERSION_TEXT);
    }
    None
}

/// What a binary file is, as far as a scanner can tell from its bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Binary {
    /// An ELF executable or library.
    #[serde(default)]
    pub elf: bool,
    /// The Go toolchain that built it (`go1.19.8`), from its build info: a
    /// scanner reads this and the modules below.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub go: Option<String>,
    /// The Go modules its build info names (`golang.org/x/crypto v0.1.0`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub go_modules: Vec<String>,
    /// The packer that hides its content (`UPX`, `gzexe`): a scanner sees
    /// only the packer's stub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packed: Option<String>,
    /// What the packed content is, when the shell could unpack it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inside: Option<Box<Binary>>,
}

const ELF_MAGIC: &[u8] = b"\x7fELF";
const GO_BUILDINFO: &[u8] = b"\xff Go buildinf:";
const UPX_MAGIC: &[u8] = b"UPX!";
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b, 0x08];

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads an unsigned LEB128 varint: its value and its length.
fn varint(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut value: usize = 0;
    for (i, b) in bytes.iter().enumerate().take(9) {
        value |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// The Go version and module lines of a Go binary's build info (Go 1.18
/// and later write it inline: magic, pointer size, flags, then two
/// length-prefixed strings). `None` when there is none or it is not inline.
pub fn go_buildinfo(bytes: &[u8]) -> Option<(String, Vec<String>)> {
    let at = find(bytes, GO_BUILDINFO)?;
    let head = bytes.get(at..at + 32)?;
    let flags = head[15];
    if flags & 2 == 0 {
        // Pre-1.18 layout: pointers into the data segment.
        return Some(("go (pre-1.18 build info)".into(), Vec::new()));
    }
    let rest = bytes.get(at + 32..)?;
    let (len, n) = varint(rest)?;
    let version = String::from_utf8_lossy(rest.get(n..n + len)?).into_owned();
    let rest = &rest[n + len..];
    let modules = varint(rest)
        .and_then(|(len, n)| rest.get(n..n + len))
        .map(|m| {
            String::from_utf8_lossy(m)
                .lines()
                .filter_map(|l| {
                    let mut parts = l.split('\t');
                    match (parts.next(), parts.next(), parts.next()) {
                        (Some("mod" | "dep"), Some(path), Some(v)) => Some(format!("{path} {v}")),
                        _ => None,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    Some((version, modules))
}

/// Where gzexe's compressed payload starts: its stub is a shell script
/// whose first line is `#!/bin/sh` and which names `skip=N` (the payload
/// begins after N lines).
fn gzexe_payload(bytes: &[u8]) -> Option<usize> {
    if !bytes.starts_with(b"#!") {
        return None;
    }
    let head = bytes.get(..bytes.len().min(4096))?;
    let text = String::from_utf8_lossy(head);
    let skip: usize = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("skip="))
        .and_then(|n| n.trim().parse().ok())?;
    let mut offset = 0;
    for _ in 1..skip {
        offset += find(&bytes[offset..], b"\n")? + 1;
    }
    bytes[offset..].starts_with(GZIP_MAGIC).then_some(offset)
}

/// What `bytes` is as a binary: `None` for a file that is none of ELF, a
/// Go binary or a packed executable. `gunzip` unpacks a gzexe payload
/// (the shell passes its decompressor; `None` from it: not unpacked).
pub fn binary(bytes: &[u8], gunzip: &dyn Fn(&[u8]) -> Option<Vec<u8>>) -> Option<Binary> {
    if let Some(at) = gzexe_payload(bytes) {
        let inside = gunzip(&bytes[at..]).and_then(|inner| binary(&inner, &|_| None));
        return Some(Binary {
            packed: Some("gzexe".into()),
            inside: inside.map(Box::new),
            ..Binary::default()
        });
    }
    if !bytes.starts_with(ELF_MAGIC) {
        return None;
    }
    let head = &bytes[..bytes.len().min(4096)];
    let packed = find(head, UPX_MAGIC).map(|_| "UPX".to_string());
    let (go, go_modules) = match go_buildinfo(bytes) {
        Some((v, m)) if packed.is_none() => (Some(v), m),
        _ => (None, Vec::new()),
    };
    Some(Binary {
        elf: true,
        go,
        go_modules,
        packed,
        inside: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buildinfo(version: &str, modinfo: &str) -> Vec<u8> {
        let mut b = b"\x7fELF\x02\x01\x01".to_vec();
        b.resize(64, 0);
        b.extend_from_slice(GO_BUILDINFO);
        b.push(8); // pointer size
        b.push(2); // inline strings
        b.resize(64 + 32, 0);
        b.push(u8::try_from(version.len()).unwrap());
        b.extend_from_slice(version.as_bytes());
        b.push(u8::try_from(modinfo.len()).unwrap());
        b.extend_from_slice(modinfo.as_bytes());
        b
    }

    #[test]
    fn evidence_paths() {
        assert!(text_wanted("var/lib/dpkg/status").is_some());
        assert!(text_wanted("var/lib/dpkg/status.d/libc6").is_some());
        assert!(text_wanted("var/lib/dpkg/status.d/libc6.md5sums").is_none());
        assert!(text_wanted("var/lib/dpkg/info/libc6:amd64.list").is_some());
        assert!(text_wanted("var/lib/dpkg/info/libc6:amd64.md5sums").is_none());
        assert!(text_wanted("app/lib/urllib3-1.26.4.dist-info/METADATA").is_some());
        assert!(text_wanted("app/lib/urllib3-1.26.4.dist-info/LICENSE").is_none());
        assert!(text_wanted("usr/lib/python3/dist-packages/six-1.16.0.egg-info").is_some());
        assert!(text_wanted("app/node_modules/left-pad/package.json").is_some());
        assert!(text_wanted("app/.meta/six/METADATA").is_some());
        assert!(text_wanted("app/lib/urllib3/_version.py").is_some());
        assert!(text_wanted("etc/passwd").is_none());
    }

    #[test]
    fn go_build_info_is_read() {
        let b = buildinfo(
            "go1.19.8",
            "path\tfilippo.io/age/cmd/age\nmod\tfilippo.io/age\tv1.1.1\th1:x\ndep\tgolang.org/x/crypto\tv0.4.0\th1:y\n",
        );
        let bin = binary(&b, &|_| None).unwrap();
        assert!(bin.elf);
        assert_eq!(bin.go.as_deref(), Some("go1.19.8"));
        assert_eq!(
            bin.go_modules,
            ["filippo.io/age v1.1.1", "golang.org/x/crypto v0.4.0"]
        );
        // Truncated build info: no panic, no modules.
        let cut = &b[..b.len() - 20];
        assert!(binary(cut, &|_| None).is_some());
    }

    #[test]
    fn packers_are_seen() {
        let mut upx = b"\x7fELF\x02\x01\x01".to_vec();
        upx.resize(200, 0);
        upx.extend_from_slice(b"UPX!");
        let bin = binary(&upx, &|_| None).unwrap();
        assert_eq!(bin.packed.as_deref(), Some("UPX"));

        let mut gz = b"#!/bin/sh\nskip=4\nexit 1\n".to_vec();
        gz.extend_from_slice(&[0x1f, 0x8b, 0x08, 0, 1, 2]);
        let inner = buildinfo("go1.19.8", "");
        let bin = binary(&gz, &|_| Some(inner.clone())).unwrap();
        assert_eq!(bin.packed.as_deref(), Some("gzexe"));
        assert_eq!(bin.inside.unwrap().go.as_deref(), Some("go1.19.8"));
        // A script that only says skip= is not packed.
        assert!(binary(b"#!/bin/sh\nskip=3\necho hi\n", &|_| None).is_none());
        assert!(binary(b"plain text", &|_| None).is_none());
    }
}
