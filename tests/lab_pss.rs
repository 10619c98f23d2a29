//! The `pss-scissors` lab through the real binary: it validates, its
//! start/solution/wrong/alternative cases all hold offline, `seclab scan
//! pss` allows the solution at restricted and rejects the start, the
//! runAsNonRoot trap is reported by the `runs` check with the kubelet's
//! words, and each known-wrong attempt fails for its own reason (not
//! merely fails).

mod common;

use common::{Sandbox, repo_root};

#[test]
fn lab_validates_and_tests_green_offline() {
    let sb = Sandbox::new();
    let r = sb.run(&["validate"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = sb.run(&["test", "--offline", "pss-scissors"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("0 failed, 0 skipped"), "{}", r.stdout);
    for case in [
        "pss-scissors/start/attack",
        "pss-scissors/start/namespace",
        "pss-scissors/solution/restricted",
        "pss-scissors/wrong/run-as-non-root-on-root-image/restricted",
        "pss-scissors/wrong/drop-all-keep-privileged/baseline",
        "pss-scissors/wrong/warn-only/namespace",
        "pss-scissors/wrong/enforce-version-v1-0/namespace",
        "pss-scissors/wrong/enforce-version-v1-33/namespace",
        "pss-scissors/wrong/init-container-writable-root/restricted",
        "pss-scissors/wrong/init-container-never-exits/restricted",
        "pss-scissors/wrong/replicas-zero/restricted",
        "pss-scissors/wrong/paused-rollout/restricted",
        "pss-scissors/wrong/read-only-root-without-tmp/restricted",
        "pss-scissors/wrong/selector-mismatch/restricted",
        "pss-scissors/alternatives/digest-pinned-image/restricted",
        "pss-scissors/alternatives/patch-release-alpine/restricted",
        "pss-scissors/alternatives/container-level-security-context/restricted",
        "pss-scissors/alternatives/init-container-right/restricted",
        "pss-scissors/alternatives/named-port-probes/restricted",
    ] {
        assert!(
            r.stdout.contains(&format!("ok      {case}")),
            "{case}: {}",
            r.stdout
        );
    }
}

#[test]
fn scan_allows_the_solution_and_rejects_the_start() {
    let sb = Sandbox::new();
    let lab = repo_root().join("labs/pss-scissors");
    let solution = lab.join("solution");
    let start = lab.join("start");
    let r = sb.run(&[
        "scan",
        "pss",
        "--level",
        "restricted",
        solution.to_str().expect("utf-8"),
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.starts_with("PASS Deployment/scissors"),
        "{}",
        r.stdout
    );
    let r = sb.run(&["scan", "pss", start.to_str().expect("utf-8")]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.starts_with("FAIL Deployment/scissors"),
        "{}",
        r.stdout
    );
    // The trap passes admission: only the runs check catches it.
    let trap = lab.join("wrong/run-as-non-root-on-root-image/deployment.yaml");
    let r = sb.run(&["scan", "pss", trap.to_str().expect("utf-8")]);
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn check_explains_the_run_as_non_root_trap() {
    let sb = Sandbox::new();
    let r = sb.run(&["start", "pss-scissors"]);
    assert_eq!(r.code, 0, "{r:?}");
    let ws = sb.work().join("seclab/pss-scissors");
    std::fs::copy(
        repo_root().join("labs/pss-scissors/wrong/run-as-non-root-on-root-image/deployment.yaml"),
        ws.join("deployment.yaml"),
    )
    .expect("copy");
    let r = sb.run(&["check", "pss-scissors", "restricted"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .contains("container has runAsNonRoot and image will run as root"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("deployment.yaml:23:23"), "{}", r.stdout);
}

fn check_variant(variant: &str, task: &str) -> common::Run {
    common::check_variant("pss-scissors", variant, task)
}

#[test]
fn each_wrong_attempt_fails_for_its_own_reason() {
    for (variant, task, want, at) in [
        (
            "init-container-writable-root",
            "restricted",
            "init container \"config-test\" does not set securityContext.readOnlyRootFilesystem: true",
            "deployment.yaml:33:13",
        ),
        (
            "init-container-never-exits",
            "restricted",
            "which never exits: the pod stays in Init",
            "deployment.yaml:29:18",
        ),
        (
            "replicas-zero",
            "restricted",
            "has replicas: 0: the controller runs no pod",
            "deployment.yaml:11:13",
        ),
        (
            "paused-rollout",
            "restricted",
            "the Deployment is paused",
            "deployment.yaml:12:11",
        ),
        (
            "read-only-root-without-tmp",
            "restricted",
            "its root filesystem is read-only and nginxinc/nginx-unprivileged:1.27 writes /tmp",
            "deployment.yaml:",
        ),
        (
            "selector-mismatch",
            "restricted",
            "spec.selector wants label app=web",
            "deployment.yaml:14:5",
        ),
        (
            "enforce-version-v1-33",
            "namespace",
            "v1.33",
            "namespace.yaml:",
        ),
    ] {
        let r = check_variant(&format!("wrong/{variant}"), task);
        assert_eq!(r.code, 1, "{variant}: {r:?}");
        assert!(
            r.stdout.contains(want) && r.stdout.contains(at),
            "{variant}: {}",
            r.stdout
        );
    }
}

#[test]
fn an_unlisted_init_image_is_a_warning_and_a_digest_gets_its_tags_facts() {
    let r = check_variant("alternatives/init-container-right", "restricted");
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(
            "warning: deployment.yaml:30:11: Deployment scissors/scissors: init container \"wait-for-dns\": seclab has no facts about image busybox:1.37"
        ),
        "{}",
        r.stdout
    );
    let r = check_variant("alternatives/digest-pinned-image", "restricted");
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stdout.contains("no facts"), "{}", r.stdout);
}

#[test]
fn validate_rejects_bad_image_keys_and_secret_file_paths() {
    let sb = Sandbox::new();
    let r = sb.run(&["new", "demo", "--dir", "labs"]);
    assert_eq!(r.code, 0, "{r:?}");
    let yaml = sb.work().join("labs/demo/lab.yaml");
    let mut text = std::fs::read_to_string(&yaml).expect("lab.yaml");
    text.push_str(
        "      - secret_file: {target: deployment/app, secret: db, key: password, path: etc/db/password}\n      - runs: {target: deployment/app}\nimages:\n  \"ngin*:1.27\": {user: 0}\n  \"nginx:1.27*\": {user: 0}\n",
    );
    std::fs::write(&yaml, text).expect("write");
    let r = sb.run(&["--labs", "labs", "validate"]);
    assert_eq!(r.code, 2, "{r:?}");
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(all.contains("globs are allowed in the tag only"), "{all}");
    assert!(
        all.contains("path \"etc/db/password\" must be absolute"),
        "{all}"
    );
    // The glob in the tag is fine.
    assert!(!all.contains("\"nginx:1.27*\""), "{all}");
}
