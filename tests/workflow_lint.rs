//! The live content CI workflow (`.github/workflows/live-labs.yml`) cannot
//! run here, so it is kept correct two ways: `actionlint` lints it (syntax,
//! expressions, action inputs, and its `run:` scripts through shellcheck
//! when that is installed), and it is read to check it installs the kind
//! release seclab pins and does what lab authors rely on (`seclab up`,
//! `seclab test --live --junit`, the report uploaded whatever happened).
//!
//! actionlint is not installed by this test: when it is not on PATH the lint
//! is skipped with a notice, unless `SECLAB_REQUIRE_ACTIONLINT=1` (CI),
//! where a missing actionlint fails.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use seclab::shell::kind::{KIND_VERSION, find_on_path};

fn workflow() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/workflows/live-labs.yml")
}

#[test]
fn actionlint_finds_nothing_in_the_live_labs_workflow() {
    let required = std::env::var("SECLAB_REQUIRE_ACTIONLINT").as_deref() == Ok("1");
    let Some(actionlint) = find_on_path(
        OsStr::new("actionlint"),
        std::env::var_os("PATH").as_deref(),
    ) else {
        assert!(
            !required,
            "actionlint is required (SECLAB_REQUIRE_ACTIONLINT=1) but not on PATH"
        );
        eprintln!("SKIP: actionlint is not on PATH; the workflow is not linted");
        return;
    };
    let out = Command::new(&actionlint)
        .arg("-no-color")
        .arg(workflow())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("actionlint runs");
    assert!(
        out.status.success(),
        "actionlint ({}) found problems:\n{}{}",
        actionlint.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn steps() -> (serde_json::Value, Vec<serde_json::Value>) {
    let text = std::fs::read_to_string(workflow()).expect("the workflow exists");
    let doc: serde_json::Value = serde_saphyr::from_str(&text).expect("the workflow is YAML");
    let jobs = doc["jobs"].as_object().expect("jobs");
    assert_eq!(jobs.len(), 1, "one job");
    let steps = jobs.values().next().unwrap()["steps"]
        .as_array()
        .expect("steps")
        .clone();
    (doc, steps)
}

fn runs(step: &serde_json::Value) -> &str {
    step["run"].as_str().unwrap_or("")
}

#[test]
fn the_workflow_installs_the_kind_release_seclab_pins() {
    let (doc, steps) = steps();
    assert_eq!(
        doc["env"]["KIND_VERSION"], KIND_VERSION,
        "the workflow's kind is the one src/shell/kind.rs pins"
    );
    let install = steps
        .iter()
        .position(|s| {
            runs(s).contains("https://kind.sigs.k8s.io/dl/${KIND_VERSION}/kind-linux-amd64")
        })
        .expect("a step downloads the pinned kind release");
    assert!(
        runs(&steps[install]).contains("grep -F \"kind ${KIND_VERSION} \""),
        "and checks `kind version` says so"
    );
    let up = steps
        .iter()
        .position(|s| runs(s).contains("seclab up"))
        .expect("a step runs `seclab up`");
    assert!(install < up, "kind is installed before `seclab up`");
}

#[test]
fn the_workflow_tests_live_and_uploads_the_junit_whatever_happened() {
    let (_, steps) = steps();
    let pos = |pred: &dyn Fn(&serde_json::Value) -> bool| steps.iter().position(pred);
    let up = pos(&|s| runs(s).contains("seclab up")).expect("seclab up");
    let test = pos(&|s| runs(s).contains("seclab test --live --junit seclab-live.xml"))
        .expect("a step runs `seclab test --live --junit seclab-live.xml`");
    assert!(up < test, "the cluster is up before the live test");
    let upload = pos(&|s| {
        s["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("actions/upload-artifact@"))
            && s["with"]["path"] == "seclab-live.xml"
    })
    .expect("a step uploads seclab-live.xml");
    assert!(test < upload);
    assert_eq!(
        steps[upload]["if"], "always()",
        "the report is uploaded when tests fail too"
    );
    let down = pos(&|s| runs(s).contains("seclab down")).expect("seclab down");
    assert_eq!(
        steps[down]["if"], "always()",
        "the cluster is removed whatever happened"
    );
}
