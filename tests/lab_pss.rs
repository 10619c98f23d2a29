//! The `pss-scissors` lab through the real binary: it validates, its
//! start/solution/wrong cases all hold offline, `seclab scan pss` allows the
//! solution at restricted and rejects the start, and the runAsNonRoot trap
//! is reported by the `runs` check with the kubelet's words.

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
