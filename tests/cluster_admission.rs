//! The `admission_policy` check live, against the in-test API server: the
//! battery's requests sent as server-side dry runs into the lab's
//! namespace, each live outcome compared with the offline evaluation (a
//! policy in the files but not applied is found), the Kyverno task skipped
//! with the reason when Kyverno is not installed, and stop removing the
//! lab's policies and bindings (never others).

mod common;
mod fake_apiserver;

use std::path::Path;

use common::Sandbox;
use fake_apiserver::{FakeApiServer, fixtures, write_kubeconfig};
use serde_json::json;

const ID: &str = "0123456789abcdef";

fn marked() -> (FakeApiServer, Sandbox, std::path::PathBuf) {
    let server = FakeApiServer::start();
    server.insert(fixtures::namespace("seclab-system", &[]));
    server.insert(fixtures::marker(ID));
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.state()).unwrap();
    std::fs::write(
        sb.state().join("cluster.json"),
        json!({"clusters": {"kind-seclab": ID}}).to_string(),
    )
    .unwrap();
    let kc = write_kubeconfig(
        sb.dir.path(),
        &[("kind-seclab", &server.url())],
        "kind-seclab",
    );
    (server, sb, kc)
}

fn run(sb: &Sandbox, args: &[&str], kc: &Path) -> common::Run {
    sb.run_env(args, &[("KUBECONFIG", kc.to_str().unwrap())])
}

fn copy_solution(sb: &Sandbox, files: &[&str]) {
    let root = common::repo_root().join("labs/policy-as-code/solution");
    for f in files {
        let to = sb.work().join("seclab/policy-as-code").join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root.join(f), to).unwrap();
    }
}

/// The lines of `out` about one battery request's live trial.
fn live_line<'a>(out: &'a str, request: &str) -> Option<&'a str> {
    out.lines()
        .find(|l| l.contains(&format!("{request} (live, dry run)")))
}

#[test]
fn the_battery_is_sent_as_dry_runs_and_compared_with_the_offline_verdict() {
    let (server, sb, kc) = marked();
    let r = run(&sb, &["start", "policy-as-code"], &kc);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(server.get("Namespace", None, "shop").is_some());
    copy_solution(&sb, &["vap.yaml", "kyverno.yaml"]);

    // The files are right, but nothing is applied: the API server admits
    // what the files reject, and the finding says both.
    let r = run(&sb, &["check", "policy-as-code", "vap"], &kc);
    assert_eq!(r.code, 1, "{r:?}");
    let line = live_line(&r.stdout, "a privileged container").expect(&r.stdout);
    assert!(
        line.contains("must be rejected, but offline: rejected (ValidatingAdmissionPolicy")
            && line.contains("the API server admitted it"),
        "{line}"
    );
    // kubectl debug needs a pod that exists; the developer's UPDATE is not
    // sent as seclab.
    assert!(
        r.stdout.contains("pod shop/web does not exist"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("sent by dev@class.example"),
        "{}",
        r.stdout
    );
    let trials: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|q| q.method == "POST" && q.path.starts_with("/api"))
        .filter(|q| q.path.contains("/namespaces/shop/"))
        .collect();
    for kind in ["/pods", "/deployments", "/cronjobs", "/configmaps"] {
        assert!(
            trials.iter().any(|q| q.path.ends_with(kind)),
            "no dry-run create of {kind}: {trials:?}"
        );
    }
    assert!(
        trials
            .iter()
            .all(|q| q.param("dryRun").as_deref() == Some("All")),
        "{trials:?}"
    );
    assert!(server.list("Pod").is_empty(), "a dry run stores nothing");

    // Applied: the policy is labelled as the lab's; Kyverno's ClusterPolicy
    // cannot be (no CRD) and is skipped with the reason.
    let r = run(&sb, &["apply", "policy-as-code"], &kc);
    assert_eq!(r.code, 0, "{r:?}");
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(all.contains("Kyverno is not installed"), "{all}");
    let vaps = server.list("ValidatingAdmissionPolicy");
    assert_eq!(vaps.len(), 1, "{vaps:?}");
    assert_eq!(
        vaps[0]["metadata"]["labels"]["seclab.dev/lab"],
        "policy-as-code"
    );
    assert_eq!(server.list("ValidatingAdmissionPolicyBinding").len(), 1);

    // The stand-in API server enforces only the privileged rule: those
    // requests now agree with the files; the others still differ.
    let r = run(&sb, &["check", "policy-as-code", "vap"], &kc);
    assert_eq!(r.code, 1, "{r:?}");
    for agreed in [
        "a privileged container",
        "a privileged init container (the app container is fine)",
        "a Deployment whose pod template runs a privileged container",
        "a CronJob whose pods run a privileged container",
        "a minimal pod",
        "a ConfigMap (not a pod at all)",
    ] {
        assert!(
            live_line(&r.stdout, agreed).is_none(),
            "{agreed}: {}",
            r.stdout
        );
    }
    let line = live_line(&r.stdout, "a hostPath volume of the node's root").expect(&r.stdout);
    assert!(line.contains("the API server admitted it"), "{line}");
    assert!(
        r.stdout
            .contains("requests sent as dry runs were decided as expected"),
        "{}",
        r.stdout
    );

    // The Kyverno task: nothing to send to.
    let r = run(&sb, &["check", "policy-as-code", "kyverno"], &kc);
    assert!(
        r.stdout.contains("Kyverno is not installed on the cluster"),
        "{r:?}"
    );
    assert!(live_line(&r.stdout, "a privileged container").is_none());

    // stop removes the lab's policy and binding, not another one.
    server.insert(json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": "someone-elses"},
        "spec": {"validations": [{"expression": "true"}]}
    }));
    let r = run(&sb, &["stop", "policy-as-code"], &kc);
    assert_eq!(r.code, 0, "{r:?}");
    let left: Vec<_> = server
        .list("ValidatingAdmissionPolicy")
        .into_iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(left, ["someone-elses"]);
    assert!(server.list("ValidatingAdmissionPolicyBinding").is_empty());
}
