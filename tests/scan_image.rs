//! `seclab scan image --input TAR` through the real binary, on `docker
//! save` archives made here: both views and the blind spots in text and
//! JSON, exit codes (0 no blind spot, 1 blind spots, 2 an archive that
//! does not read), and malformed archives: a clear error, never a panic.
//! (The same reader on real engine images: tests/images.rs.)

mod common;

use common::Sandbox;
use serde_json::Value;

fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// A saved image of two layers: a Debian-like base with a vendored Python
/// package, and a layer that deletes the package's metadata when `hide`.
fn archive(hide: bool) -> Vec<u8> {
    let base = tar_of(&[
        ("usr/lib/os-release", b"ID=debian\nVERSION_ID=\"12\"\n"),
        (
            "var/lib/dpkg/status",
            b"Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\n",
        ),
        ("app/lib/vendored/__init__.py", b"__version__ = \"0.4.2\"\n"),
        (
            "app/lib/vendored-0.4.2.dist-info/METADATA",
            b"Name: vendored\nVersion: 0.4.2\n",
        ),
    ]);
    let top: Vec<u8> = if hide {
        tar_of(&[("app/lib/.wh.vendored-0.4.2.dist-info", b"")])
    } else {
        tar_of(&[("app/README", b"hi")])
    };
    let config = serde_json::json!({
        "config": {"Env": ["PYTHONPATH=/app/lib"]},
        "rootfs": {"diff_ids": ["sha256:a", "sha256:b"]}
    });
    let manifest =
        serde_json::json!([{"Config": "c.json", "Layers": ["0/layer.tar", "1/layer.tar"]}]);
    tar_of(&[
        ("manifest.json", manifest.to_string().as_bytes()),
        ("c.json", config.to_string().as_bytes()),
        ("0/layer.tar", &base),
        ("1/layer.tar", &top),
    ])
}

fn scan(sb: &Sandbox, bytes: &[u8], extra: &[&str]) -> common::Run {
    std::fs::write(sb.work().join("image.tar"), bytes).unwrap();
    let mut args = vec!["scan", "image", "--input", "image.tar"];
    args.extend_from_slice(extra);
    sb.run(&args)
}

#[test]
fn a_clean_archive_exits_0_with_both_views() {
    let sb = Sandbox::new();
    let r = scan(&sb, &archive(false), &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("image image.tar: 2 layers"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("debian 12"), "{}", r.stdout);
    assert!(r.stdout.contains("seen   vendored 0.4.2"), "{}", r.stdout);
    assert!(r.stdout.contains("no blind spot"), "{}", r.stdout);
}

#[test]
fn deleted_metadata_is_a_blind_spot_in_text_and_json() {
    let sb = Sandbox::new();
    let r = scan(&sb, &archive(true), &[]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("UNSEEN vendored 0.4.2"), "{}", r.stdout);
    assert!(r.stdout.contains("[language-metadata]"), "{}", r.stdout);
    let r = scan(&sb, &archive(true), &["--output", "json"]);
    assert_eq!(r.code, 1);
    let v: Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(v["blind_spots"][0]["technique"], "language-metadata");
    assert_eq!(v["scanner"]["os"], "debian 12");
}

#[test]
fn malformed_archives_exit_2_with_the_reason() {
    let sb = Sandbox::new();
    let good = archive(false);
    let no_layer = tar_of(&[
        (
            "manifest.json",
            br#"[{"Config": "c.json", "Layers": ["0/layer.tar"]}]"#,
        ),
        ("c.json", b"{}"),
    ]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("not a tar", b"hello, not an archive".to_vec(), "image.tar:"),
        ("empty", Vec::new(), "manifest.json"),
        ("no manifest", tar_of(&[("x", b"y")]), "no manifest.json"),
        (
            "manifest not JSON",
            tar_of(&[("manifest.json", b"[{")]),
            "manifest.json",
        ),
        ("missing layer", no_layer, "no layer 0/layer.tar"),
        ("truncated", good[..good.len() / 2].to_vec(), "image.tar:"),
        (
            "broken gzip layer",
            tar_of(&[
                (
                    "manifest.json",
                    br#"[{"Config": "c.json", "Layers": ["l"]}]"#,
                ),
                ("c.json", b"{}"),
                ("l", &[0x1f, 0x8b, 0x08, 0, 0, 0]),
            ]),
            "layer 0",
        ),
    ];
    for (what, bytes, says) in cases {
        let r = scan(&sb, &bytes, &[]);
        assert_eq!(r.code, 2, "{what}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains(says), "{what}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{what}: {}", r.stderr);
    }
    let r = sb.run(&["scan", "image", "--input", "missing.tar"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("missing.tar: cannot read"),
        "{}",
        r.stderr
    );
}
