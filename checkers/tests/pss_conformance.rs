//! Conformance of the PSS grader with upstream Pod Security Admission's
//! generated fixtures: every `<level>/<version>/{pass,fail}/*.yaml` pod must
//! be allowed (pass) or denied with the check's expected substring (fail),
//! both as a Pod and wrapped into a Deployment's `spec.template` (as
//! upstream's `test/run.go` does). The fixtures are also free of unknown
//! fields.

mod common;

use std::fs;
use std::path::Path;

use seclab_checkers::pss::{Level, Version, evaluate, unknown_fields};
use serde_json::{Value, json};

/// The expected message substring for a fail fixture stem (pss.md §1/§3):
/// the stem minus its index is the lowercased check ID.
fn expected_substring(stem: &str) -> Option<&'static str> {
    let check = stem.trim_end_matches(|c: char| c.is_ascii_digit());
    Some(match check {
        "allowprivilegeescalation" => "allowPrivilegeEscalation",
        "apparmorprofile" => "forbidden AppArmor profile",
        "capabilities_baseline" => "capabilities",
        "capabilities_restricted" => "unrestricted capabilities",
        "hostnamespaces" => "host namespaces",
        "hostpathvolumes" => "hostPath",
        "hostports" => "hostPort",
        "hostprobesandhostlifecycle" => "probe or lifecycle host",
        "privileged" => "privileged",
        "procmount" | "procmount_restricted" => "procMount",
        "restrictedvolumes" => "restricted volume types",
        "runasnonroot" => "runAsNonRoot",
        "runasuser" => "runAsUser",
        "seccompprofile_baseline" | "seccompprofile_restricted" => "seccompProfile",
        "selinuxoptions" => "seLinuxOptions",
        "sysctls" => "forbidden sysctl",
        "windowshostprocess" => "hostProcess",
        _ => return None,
    })
}

fn as_deployment(pod: &Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": pod.pointer("/metadata/name").cloned().unwrap_or(Value::Null)},
        "spec": {
            "selector": {"matchLabels": {"app": "fixture"}},
            "template": {
                "metadata": pod.get("metadata").cloned().unwrap_or(Value::Null),
                "spec": pod.get("spec").cloned().unwrap_or(Value::Null),
            }
        }
    })
}

fn yaml_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
    files.sort();
    files
}

#[test]
fn upstream_fixtures_agree() {
    let Some(root) = common::conformance_dir("pss") else {
        return;
    };
    let (mut passes, mut fails) = (0usize, 0usize);
    let mut problems = Vec::new();
    for level_name in ["baseline", "restricted"] {
        let level: Level = level_name.parse().expect("level");
        let Ok(versions) = fs::read_dir(root.join(level_name)) else {
            continue;
        };
        let mut versions: Vec<_> = versions.filter_map(Result::ok).map(|e| e.path()).collect();
        versions.sort();
        for vdir in versions {
            let vname = vdir
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_owned();
            let version: Version = vname.parse().expect("version directory name");
            for outcome in ["pass", "fail"] {
                for file in yaml_files(&vdir.join(outcome)) {
                    let stem = file
                        .file_stem()
                        .and_then(|s| s.to_str())
                        .unwrap_or("")
                        .to_owned();
                    let label = format!("{level_name}/{vname}/{outcome}/{stem}");
                    let text = fs::read_to_string(&file).expect("read fixture");
                    let pod: Value = serde_saphyr::from_str(&text).expect("parse fixture");
                    let r = match evaluate(&pod, level, version) {
                        Ok(r) => r,
                        Err(e) => {
                            problems.push(format!("{label}: error {e}"));
                            continue;
                        }
                    };
                    let msg = r.message();
                    if outcome == "pass" {
                        passes += 1;
                        if !r.allowed {
                            problems.push(format!("{label}: denied: {msg}"));
                        }
                    } else {
                        fails += 1;
                        let want = expected_substring(&stem).unwrap_or("<unknown stem>");
                        if r.allowed || !msg.contains(want) {
                            problems.push(format!("{label}: want {want:?}, got {msg:?}"));
                        }
                    }
                    match evaluate(&as_deployment(&pod), level, version) {
                        Ok(d) if d.allowed == r.allowed && d.message() == msg => {}
                        other => {
                            problems.push(format!("{label}: as Deployment differs: {other:?}"));
                        }
                    }
                    let unknown = unknown_fields(&pod);
                    if !unknown.is_empty() {
                        problems.push(format!("{label}: unknown fields {unknown:?}"));
                    }
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} disagreements:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(
        passes + fails > 0,
        "no fixtures found under {}",
        root.display()
    );
    println!("pss conformance: {passes} pass files, {fails} fail files, all agree");
}
