use super::*;
use crate::image::evidence::Binary;
use crate::image::{BuiltImage, Layer};

fn file(path: &str, text: Option<&str>) -> LayerFile {
    LayerFile {
        path: path.into(),
        kind: FileKind::File,
        size: 1,
        mode: 0o644,
        uid: 0,
        gid: 0,
        text: text.map(str::to_string),
        binary: None,
    }
}

fn elf(path: &str) -> LayerFile {
    LayerFile {
        binary: Some(Binary {
            elf: true,
            ..Binary::default()
        }),
        ..file(path, None)
    }
}

fn link(path: &str, to: &str) -> LayerFile {
    LayerFile {
        kind: FileKind::Symlink(to.into()),
        ..file(path, None)
    }
}

const STATUS: &str = "Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n\nPackage: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13\n";

/// A small Debian image with a Python package and its metadata: clean.
fn clean() -> Vec<LayerFile> {
    vec![
        file("usr/lib/os-release", Some("ID=debian\nVERSION_ID=\"12\"\n")),
        link("etc/os-release", "../usr/lib/os-release"),
        file("etc/debian_version", Some("12.5\n")),
        file("var/lib/dpkg/status", Some(STATUS)),
        file(
            "var/lib/dpkg/info/libc6:amd64.list",
            Some("/usr/lib/x86_64-linux-gnu/libc.so.6\n"),
        ),
        file(
            "var/lib/dpkg/info/zlib1g:amd64.list",
            Some("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13\n"),
        ),
        file("usr/share/doc/libc6/copyright", None),
        file("usr/share/doc/zlib1g/copyright", None),
        elf("usr/lib/x86_64-linux-gnu/libc.so.6"),
        elf("usr/lib/x86_64-linux-gnu/libz.so.1.2.13"),
        file(
            "app/lib/urllib3/__init__.py",
            Some("from ._version import __version__\n"),
        ),
        file(
            "app/lib/urllib3/_version.py",
            Some("__version__ = \"1.26.4\"\n"),
        ),
        file(
            "app/lib/urllib3-1.26.4.dist-info/METADATA",
            Some("Metadata-Version: 2.1\nName: urllib3\nVersion: 1.26.4\n\nbody"),
        ),
        file(
            "app/lib/urllib3-1.26.4.dist-info/RECORD",
            Some("urllib3/__init__.py,sha256=x,1\n"),
        ),
        file("app/lib/six.py", Some("__version__ = \"1.16.0\"\n")),
        file(
            "app/lib/six-1.16.0.dist-info/METADATA",
            Some("Name: six\nVersion: 1.16.0\n"),
        ),
        file("app/node_modules/left-pad/index.js", None),
        file(
            "app/node_modules/left-pad/package.json",
            Some(r#"{"name": "left-pad", "version": "1.3.0"}"#),
        ),
    ]
}

fn image(layers: Vec<Vec<LayerFile>>, deleted: &[&[&str]]) -> BuiltImage {
    BuiltImage {
        env: vec!["PYTHONPATH=/app/lib".into()],
        layers: layers
            .into_iter()
            .enumerate()
            .map(|(index, files)| Layer {
                index,
                files,
                deleted: deleted
                    .get(index)
                    .map(|d| d.iter().map(|s| (*s).to_string()).collect())
                    .unwrap_or_default(),
                ..Layer::default()
            })
            .collect(),
        ..BuiltImage::default()
    }
}

fn techniques(inv: &Inventory) -> Vec<Technique> {
    inv.blind_spots.iter().map(|b| b.technique).collect()
}

fn without(files: Vec<LayerFile>, gone: &[&str]) -> Vec<LayerFile> {
    files
        .into_iter()
        .filter(|f| !gone.iter().any(|g| f.path.starts_with(g)))
        .collect()
}

#[test]
fn a_clean_image_has_no_blind_spot() {
    let inv = inventory(&image(vec![clean()], &[]));
    assert_eq!(inv.blind_spots, []);
    assert_eq!(inv.scanner.os.as_deref(), Some("debian 12"));
    assert_eq!(
        inv.scanner.count(Ecosystem::Os),
        2,
        "config-files is not installed"
    );
    assert_eq!(inv.scanner.count(Ecosystem::Python), 2);
    assert_eq!(inv.scanner.count(Ecosystem::Node), 1);
    assert_eq!(inv.real.count(Ecosystem::Os), 2, "one entry a package");
}

#[test]
fn deleted_metadata_is_caught_with_the_version_from_the_code() {
    let files = without(clean(), &["app/lib/urllib3-1.26.4.dist-info"]);
    let inv = inventory(&image(vec![files], &[]));
    assert_eq!(techniques(&inv), [Technique::LanguageMetadata]);
    assert!(
        inv.blind_spots[0].what.contains("urllib3 1.26.4"),
        "{:?}",
        inv.blind_spots
    );
    // Deleted by a later layer: the lower layer still names it.
    let inv = inventory(&image(
        vec![clean(), vec![]],
        &[&[], &["app/lib/urllib3-1.26.4.dist-info"]],
    ));
    assert_eq!(techniques(&inv), [Technique::LanguageMetadata]);
    assert!(inv.blind_spots[0].what.contains("deleted by a later layer"));
}

#[test]
fn symlinked_metadata_is_unseen() {
    let mut files = without(clean(), &["app/lib/six-1.16.0.dist-info"]);
    files.push(file(
        "app/.meta/six/METADATA",
        Some("Name: six\nVersion: 1.16.0\n"),
    ));
    files.push(link("app/lib/six-1.16.0.dist-info", "/app/.meta/six"));
    // A Node manifest as a symlink too.
    files.retain(|f| f.path != "app/node_modules/left-pad/package.json");
    files.push(file(
        "app/.meta/lp.json",
        Some(r#"{"name": "left-pad", "version": "1.3.0"}"#),
    ));
    files.push(link(
        "app/node_modules/left-pad/package.json",
        "../../.meta/lp.json",
    ));
    let inv = inventory(&image(vec![files], &[]));
    assert_eq!(
        techniques(&inv),
        [Technique::SymlinkedManifest, Technique::SymlinkedManifest]
    );
    assert!(
        inv.blind_spots
            .iter()
            .any(|b| b.what.contains("six 1.16.0"))
    );
    assert!(
        inv.blind_spots
            .iter()
            .any(|b| b.what.contains("left-pad 1.3.0"))
    );
    assert_eq!(inv.scanner.count(Ecosystem::Node), 0);
}

#[test]
fn os_identity_and_database_removal_are_caught() {
    // The release files rewritten: the banner still says Debian.
    let mut files = without(
        clean(),
        &["usr/lib/os-release", "etc/os-release", "etc/debian_version"],
    );
    files.push(file("etc/os-release", Some("ID=linux\nVERSION_ID=99\n")));
    files.push(file("etc/issue", Some("Debian GNU/Linux 12 \\n \\l\n")));
    let inv = inventory(&image(vec![files.clone()], &[]));
    assert_eq!(techniques(&inv), [Technique::OsIdentity]);
    assert_eq!(inv.real.os.as_deref(), Some("debian 12"));
    // Deleted: no OS for the scanner.
    files.retain(|f| f.path != "etc/os-release");
    assert_eq!(
        techniques(&inventory(&image(vec![files], &[]))),
        [Technique::OsIdentity]
    );

    // The status file gone: dpkg's lists still name both packages.
    let inv = inventory(&image(
        vec![without(clean(), &["var/lib/dpkg/status"])],
        &[],
    ));
    assert_eq!(
        techniques(&inv),
        [Technique::OsPackageDb, Technique::UnlistedNativeCode]
    );
    assert!(inv.blind_spots[0].what.starts_with("2 OS packages"));
    assert!(
        inv.blind_spots[1]
            .paths
            .iter()
            .any(|p| p.ends_with("libz.so.1.2.13 (1.2.13)"))
    );
    // All of dpkg gone, flattened: the doc folders name them.
    let inv = inventory(&image(vec![without(clean(), &["var/lib/dpkg"])], &[]));
    assert!(inv.blind_spots[0].what.contains("/usr/share/doc"));
}

#[test]
fn packed_binaries_are_caught_and_go_binaries_are_seen() {
    let mut files = clean();
    files.push(LayerFile {
        binary: Some(Binary {
            elf: true,
            go: Some("go1.19.8".into()),
            ..Binary::default()
        }),
        ..file("usr/local/bin/age", None)
    });
    let inv = inventory(&image(vec![files.clone()], &[]));
    assert_eq!(inv.blind_spots, []);
    assert_eq!(inv.scanner.count(Ecosystem::Go), 1);
    files.push(LayerFile {
        binary: Some(Binary {
            packed: Some("gzexe".into()),
            ..Binary::default()
        }),
        ..file("app/bin/age", None)
    });
    let inv = inventory(&image(vec![files], &[]));
    assert_eq!(techniques(&inv), [Technique::PackedBinary]);
}

#[test]
fn os_owned_modules_and_distro_dirs_are_the_os_packages() {
    // debconf.py in Debian's own folder, listed by dpkg: not a blind spot.
    let mut files = clean();
    files.push(file("usr/lib/python3/dist-packages/debconf.py", None));
    files.push(file(
        "var/lib/dpkg/info/libc6:amd64.list",
        Some("/usr/lib/x86_64-linux-gnu/libc.so.6\n/usr/lib/python3/dist-packages/debconf.py\n"),
    ));
    assert_eq!(inventory(&image(vec![files.clone()], &[])).blind_spots, []);
    // The same file, listed by no package: unseen.
    files.push(file(
        "var/lib/dpkg/info/libc6:amd64.list",
        Some("/usr/lib/x86_64-linux-gnu/libc.so.6\n"),
    ));
    let inv = inventory(&image(vec![files], &[]));
    assert_eq!(techniques(&inv), [Technique::LanguageMetadata]);
}

#[test]
fn the_check_grades_blind_spots() {
    use super::check::{InventoryCheck, grade};
    let check = InventoryCheck {
        image: "app".into(),
        no_blind_spot: true,
        os_packages_seen: true,
    };
    let imgs =
        |files| crate::image::BuiltImages::from([("app".to_string(), image(vec![files], &[]))]);
    assert!(grade(&check, Some(&imgs(clean()))).passed());
    let v = grade(&check, Some(&imgs(without(clean(), &["var/lib/dpkg"]))));
    assert!(!v.passed());
    assert!(grade(&check, None).reason.is_some());
    assert!(!grade(&check, Some(&crate::image::BuiltImages::new())).passed());
    assert!(
        InventoryCheck {
            image: "x".into(),
            ..InventoryCheck::default()
        }
        .problem()
        .is_some()
    );
}
