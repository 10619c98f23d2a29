//! The `secrets-at-rest` lab: it validates and proves itself offline; each
//! known-wrong EncryptionConfiguration fails for its own reason, at the
//! `file:line:col` of the provider or key that decides; the solution and
//! the alternatives pass with no error.

mod common;

use common::{Sandbox, repo_root};

fn lab_dir() -> std::path::PathBuf {
    repo_root().join("labs/secrets-at-rest")
}

fn dirs(sub: &str) -> Vec<String> {
    common::lab_cases("secrets-at-rest", sub)
}

#[test]
fn validates_and_tests_green_offline() {
    let sb = Sandbox::new();
    let r = sb.run(&["validate"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = sb.run(&["test", "--offline", "secrets-at-rest"]);
    assert_eq!(r.code, 0, "{r:?}");
    // Two tasks per variant: start, solution, each wrong case and each
    // alternative.
    let variants = 2 + dirs("wrong").len() + dirs("alternatives").len();
    let want = format!("{} passed, 0 failed, 0 skipped\n", 2 * variants);
    assert!(r.stdout.ends_with(&want), "{want}: {}", r.stdout);
    assert!(dirs("wrong").len() >= 8 && dirs("alternatives").len() >= 4);
}

/// Each wrong case with a file: where its error is and what it says.
const WRONG: &[(&str, &str, &str)] = &[
    ("identity-first", "7:9", "nothing is encrypted"),
    (
        "secretbox-16-byte-key",
        "10:23",
        "got 16, expected one of [32]",
    ),
    ("key-not-base64", "10:23", "must be base64 encoded"),
    ("only-configmaps", "4:3", "secrets are in no resources list"),
    ("aesgcm-without-rotation", "7:9", "200k writes"),
    (
        "empty-providers",
        "6:16",
        "at least one resources[0].providers is required",
    ),
    ("duplicate-key-names", "11:21", "`key1` is used twice"),
    (
        "aescbc-20-byte-key",
        "10:23",
        "got 20, expected one of [16 24 32]",
    ),
    ("wrong-api-version", "2:7", "kind: EncryptionConfiguration"),
    ("no-identity", "7:7", "can no longer be read"),
    (
        "star-star-masks-secrets",
        "7:9",
        "identity is the first provider of resources[0]",
    ),
];

fn check_with(sb: &Sandbox, file: &std::path::Path) -> common::Run {
    let ws = sb.work().join("seclab/secrets-at-rest");
    std::fs::copy(file, ws.join("encryption-config.yaml")).expect("copy");
    sb.run(&["check", "secrets-at-rest", "encrypt"])
}

#[test]
fn each_wrong_file_fails_for_its_own_reason_at_its_line() {
    let sb = Sandbox::new();
    assert_eq!(sb.run(&["start", "secrets-at-rest"]).code, 0);
    let mut seen = 0;
    for case in dirs("wrong") {
        let file = lab_dir()
            .join("wrong")
            .join(&case)
            .join("encryption-config.yaml");
        if !file.exists() {
            continue;
        }
        seen += 1;
        let (_, at, text) = WRONG
            .iter()
            .find(|(c, _, _)| *c == case)
            .unwrap_or_else(|| panic!("{case}: add where it fails and why to the table"));
        let r = check_with(&sb, &file);
        assert_eq!(r.code, 1, "{case}: {r:?}");
        let errors: Vec<&str> = r
            .stdout
            .lines()
            .filter(|l| l.trim_start().starts_with("error:"))
            .collect();
        assert_eq!(
            errors.len(),
            1,
            "{case}: one error, for its own reason: {errors:?}"
        );
        let want = format!("encryption-config.yaml:{at}:");
        assert!(
            errors[0].contains(&want) && errors[0].contains(text),
            "{case}: `{want}` and `{text}` in: {}",
            errors[0]
        );
    }
    assert_eq!(seen, WRONG.len());
}

#[test]
fn solution_and_alternatives_pass_without_errors() {
    let sb = Sandbox::new();
    assert_eq!(sb.run(&["start", "secrets-at-rest"]).code, 0);
    for dir in std::iter::once("solution".to_owned()).chain(
        dirs("alternatives")
            .into_iter()
            .map(|a| format!("alternatives/{a}")),
    ) {
        let r = check_with(&sb, &lab_dir().join(&dir).join("encryption-config.yaml"));
        assert_eq!(r.code, 0, "{dir}: {r:?}");
        assert!(!r.stdout.contains("error:"), "{dir}: {}", r.stdout);
    }
}

#[test]
fn the_start_file_writes_plaintext() {
    let sb = Sandbox::new();
    assert_eq!(sb.run(&["start", "secrets-at-rest"]).code, 0);
    let r = sb.run(&["check", "secrets-at-rest", "encrypt"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains("encryption-config.yaml:11:9:")
            && r.stdout.contains("identity is the first provider"),
        "{}",
        r.stdout
    );
}

#[test]
fn validate_names_a_broken_encryption_config_check() {
    let sb = Sandbox::new();
    let r = sb.run(&["new", "demo", "--dir", "labs"]);
    assert_eq!(r.code, 0, "{r:?}");
    let yaml = sb.work().join("labs/demo/lab.yaml");
    let mut text = std::fs::read_to_string(&yaml).expect("lab.yaml");
    text.push_str(
        "      - encryption_config:\n          target: enc.yaml\n          resources: [\"*.*\"]\n          writers: [identity]\n",
    );
    std::fs::write(&yaml, text).expect("write");
    let r = sb.run(&["--labs", "labs", "validate"]);
    assert_eq!(r.code, 2, "{r:?}");
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(all.contains("resource `*.*`"), "{all}");
    assert!(all.contains("identity in writers"), "{all}");
}

#[test]
fn a_malformed_file_fails_located_and_never_panics() {
    let sb = Sandbox::new();
    assert_eq!(sb.run(&["start", "secrets-at-rest"]).code, 0);
    let file = sb
        .work()
        .join("seclab/secrets-at-rest/encryption-config.yaml");
    for text in [
        "apiVersion: apiserver.config.k8s.io/v1\nresources: [\n",
        "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources: 3\n",
        "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources: [secrets]\n    providers: [7, {aescbc: {keys: [{name: k}]}}]\n",
        "",
    ] {
        std::fs::write(&file, text).expect("write");
        let r = sb.run(&["check", "secrets-at-rest", "encrypt"]);
        assert_eq!(r.code, 1, "{text}: {r:?}");
        assert!(!r.stderr.contains("panicked"), "{text}: {}", r.stderr);
        assert!(
            r.stdout.contains("encryption-config.yaml"),
            "{text}: {}",
            r.stdout
        );
    }
}
