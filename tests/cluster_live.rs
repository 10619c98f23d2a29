//! Live grading on a cluster, against the in-test API server: the flag
//! read from the cluster's Secret, Pod Security admission really
//! rejecting (a server-side dry-run), RBAC through SubjectAccessReview,
//! the settle window, NetworkPolicy probes through a fake exec, and the
//! real exec path's error handling.

mod common;
mod fake_apiserver;

use std::path::Path;
use std::time::Duration;

use common::Sandbox;
use fake_apiserver::{Canned, FakeApiServer, fixtures, write_kubeconfig};
use serde_json::{Value, json};

const ID: &str = "0123456789abcdef";

/// A marked cluster, a sandbox whose state stores its id, the kubeconfig.
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

fn copy_solution(sb: &Sandbox, lab: &str, files: &[&str]) {
    let root = common::repo_root().join("labs").join(lab).join("solution");
    for f in files {
        let to = sb.work().join("seclab").join(lab).join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root.join(f), to).unwrap();
    }
}

#[test]
fn the_flag_is_compared_with_the_secret_in_the_cluster() {
    let (server, sb, kc) = marked();
    assert_eq!(run(&sb, &["start", "sa-token"], &kc).code, 0);
    server.insert(fixtures::running_pod(
        "sa-token",
        "web-7d9f",
        &[("app", "web")],
        "10.244.0.7",
        0,
    ));
    // Offline it cannot be graded; live it can.
    let secret = server
        .get("Secret", Some("sa-token"), "db-credentials")
        .unwrap();
    let b64 = secret["data"]["password"].as_str().unwrap().to_string();
    let password = String::from_utf8(decode(&b64)).unwrap();
    run(
        &sb,
        &["answer", "sa-token", "steal-secret", "not-the-password"],
        &kc,
    );
    let r = run(&sb, &["check", "sa-token", "steal-secret"], &kc);
    assert_eq!(r.code, 1, "{r:?}");
    run(&sb, &["answer", "sa-token", "steal-secret", &password], &kc);
    let r = run(&sb, &["check", "sa-token", "steal-secret"], &kc);
    assert_eq!(r.code, 0, "{r:?}");
}

/// Base64 (standard alphabet, padded), without a crate for one test.
fn decode(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = A.iter().position(|a| *a == c).unwrap() as u32;
        buf = (buf << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

#[test]
fn pod_security_admission_must_really_reject_in_the_cluster() {
    let (server, sb, kc) = marked();
    assert_eq!(run(&sb, &["start", "pss-scissors"], &kc).code, 0);
    server.insert(fixtures::running_pod(
        "scissors",
        "scissors-5c8d",
        &[("app", "scissors")],
        "10.244.0.9",
        0,
    ));
    // The files say restricted, but the cluster's namespace has no label yet:
    // a violating pod is admitted, so the task fails live.
    copy_solution(&sb, "pss-scissors", &["namespace.yaml"]);
    let r = run(&sb, &["check", "pss-scissors", "namespace"], &kc);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("admission"), "{}", r.stdout);
    let trials: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|q| q.method == "POST" && q.path.ends_with("/pods"))
        .collect();
    assert!(!trials.is_empty());
    assert!(
        trials
            .iter()
            .all(|q| q.param("dryRun").as_deref() == Some("All")),
        "{trials:?}"
    );
    // Applied, the API server rejects it with its own message: pass.
    assert_eq!(run(&sb, &["apply", "pss-scissors"], &kc).code, 0);
    let r = run(&sb, &["check", "pss-scissors", "namespace"], &kc);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        server
            .get("Pod", Some("scissors"), "seclab-admission-trial")
            .is_none()
    );
}

#[test]
fn rbac_is_asked_of_the_cluster_and_compared() {
    let (server, sb, kc) = marked();
    assert_eq!(run(&sb, &["start", "sa-token"], &kc).code, 0);
    server.insert(fixtures::running_pod(
        "sa-token",
        "web-7d9f",
        &[("app", "web")],
        "10.244.0.7",
        0,
    ));
    copy_solution(&sb, "sa-token", &["rbac.yaml", "deployment.yaml"]);
    assert_eq!(run(&sb, &["apply", "sa-token"], &kc).code, 0);
    // A cluster that answers as the files say: pass.
    let exactly = |spec: &Value| {
        let a = &spec["resourceAttributes"];
        let ok = spec["user"] == "system:serviceaccount:sa-token:web"
            && a["verb"] == "get"
            && a["resource"] == "configmaps"
            && a["name"] == "web-config";
        (
            ok,
            if ok {
                "RBAC: allowed by RoleBinding web".to_string()
            } else {
                String::new()
            },
        )
    };
    server.set_access_review(exactly);
    let r = run(&sb, &["check", "sa-token", "least-privilege"], &kc);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        server
            .requests()
            .iter()
            .any(|q| q.path.ends_with("/subjectaccessreviews")),
        "reviews were asked"
    );
    // A cluster where web may still read Secrets (a binding the files do
    // not show): fail, whatever the files say.
    server.set_access_review(move |spec: &Value| {
        let a = &spec["resourceAttributes"];
        if a["resource"] == "secrets" {
            return (true, "RBAC: allowed by ClusterRoleBinding leftover".into());
        }
        exactly(spec)
    });
    let r = run(&sb, &["check", "sa-token", "least-privilege"], &kc);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("secrets"), "{}", r.stdout);
}

#[test]
fn a_pod_that_restarts_during_the_settle_window_does_not_pass() {
    let (server, sb, kc) = marked();
    assert_eq!(run(&sb, &["start", "sa-token"], &kc).code, 0);
    server.insert(fixtures::running_pod(
        "sa-token",
        "web-7d9f",
        &[("app", "web")],
        "10.244.0.7",
        0,
    ));
    let secret = server
        .get("Secret", Some("sa-token"), "db-credentials")
        .unwrap();
    let password = String::from_utf8(decode(secret["data"]["password"].as_str().unwrap())).unwrap();
    run(&sb, &["answer", "sa-token", "steal-secret", &password], &kc);
    // Two seconds into the five-second window the container restarts.
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_secs(2));
            let mut pod = server.get("Pod", Some("sa-token"), "web-7d9f").unwrap();
            pod["status"]["containerStatuses"][0]["restartCount"] = json!(1);
            server.insert(pod);
        });
        let r = run(&sb, &["check", "sa-token", "steal-secret"], &kc);
        assert_eq!(r.code, 1, "{r:?}");
        assert!(r.stdout.contains("restart"), "{}", r.stdout);
    });
    // Settled, the same answer passes.
    let r = run(&sb, &["check", "sa-token", "steal-secret"], &kc);
    assert_eq!(r.code, 0, "{r:?}");
}

/// A fake exec: a probe connects when (source pod, destination ip) is in
/// `open`.
struct FakeExec {
    open: Vec<(&'static str, &'static str)>,
    calls: std::sync::Mutex<Vec<String>>,
}

impl seclab::shell::kube::exec::Exec for FakeExec {
    async fn exec(
        &self,
        _namespace: &str,
        pod: &str,
        _container: &str,
        command: &[String],
        _timeout: Duration,
    ) -> Result<seclab::shell::kube::exec::ExecOutput, seclab::shell::kube::ClusterError> {
        let script = command.last().cloned().unwrap_or_default();
        self.calls.lock().unwrap().push(format!("{pod}: {script}"));
        let connected = self
            .open
            .iter()
            .any(|(from, ip)| *from == pod && script.contains(&format!(" {ip} ")));
        Ok(seclab::shell::kube::exec::ExecOutput {
            stdout: String::new(),
            stderr: String::new(),
            exit: Some(i32::from(!connected)),
        })
    }
}

fn netpol_facts(
    open: Vec<(&'static str, &'static str)>,
) -> (seclab_checkers::cluster::ClusterFacts, usize) {
    let (server, sb, kc) = marked();
    assert_eq!(run(&sb, &["start", "netpol-three-pods"], &kc).code, 0);
    for (name, ip) in [
        ("a", "10.244.0.11"),
        ("b", "10.244.0.12"),
        ("c", "10.244.0.13"),
    ] {
        let mut pod = fixtures::running_pod("three-pods", name, &[("app", name)], ip, 0);
        pod["spec"]["containers"][0]["name"] = json!("backend");
        pod["spec"]["containers"][0]["ports"] =
            json!([{"name": "http", "containerPort": 8080, "protocol": "TCP"}]);
        pod["status"]["containerStatuses"][0]["name"] = json!("backend");
        server.insert(pod);
    }
    let catalog = seclab::lab::Catalog::load(None).unwrap();
    let lab = catalog.get("netpol-three-pods").unwrap();
    let target = seclab::shell::kube::Target {
        context: "kind-seclab".into(),
        kubeconfig: Some(kc.clone()),
    };
    let exec = FakeExec {
        open,
        calls: std::sync::Mutex::new(Vec::new()),
    };
    let checks: Vec<&seclab_checkers::CheckSpec> =
        lab.spec.tasks.iter().flat_map(|t| &t.checks).collect();
    let facts = seclab::shell::kube::block_on(async {
        let owned = seclab::cluster::connect_owned(&target, &sb.state())
            .await
            .unwrap();
        seclab::cluster::gather(&owned, lab, &checks, &exec)
            .await
            .unwrap()
    })
    .unwrap();
    let calls = exec.calls.lock().unwrap().len();
    (facts, calls)
}

fn grade_b_to_c(facts: &seclab_checkers::cluster::ClusterFacts) -> seclab::grade::TaskResult {
    let catalog = seclab::lab::Catalog::load(None).unwrap();
    let lab = catalog.get("netpol-three-pods").unwrap();
    let mut files = lab.tree("start/");
    files.extend(lab.tree("solution/"));
    let snap = seclab::grade::Snapshot::from_files(&files);
    let task = lab.spec.task("b-to-c").unwrap();
    seclab::grade::grade_task_live(task, &snap, None, None, None, None, Some(facts))
}

#[test]
fn netpol_probes_agree_with_the_solution_and_catch_an_open_cell() {
    // The cluster lets through exactly a→b and b→c.
    let (facts, calls) = netpol_facts(vec![("a", "10.244.0.12"), ("b", "10.244.0.13")]);
    assert_eq!(calls, 6, "every ordered pair of a, b, c on 8080");
    let r = grade_b_to_c(&facts);
    assert_eq!(r.status, seclab_checkers::Status::Pass, "{r:#?}");
    // A cluster that also lets a reach c (the CNI does not enforce, say):
    // the observed matrix disagrees with the expectation and the files.
    let (facts, _) = netpol_facts(vec![
        ("a", "10.244.0.12"),
        ("b", "10.244.0.13"),
        ("a", "10.244.0.13"),
    ]);
    let r = grade_b_to_c(&facts);
    assert_eq!(r.status, seclab_checkers::Status::Fail, "{r:#?}");
    let text = format!("{r:?}");
    assert!(
        text.contains("three-pods/a") && text.contains("three-pods/c"),
        "{text}"
    );
}

#[test]
fn the_real_exec_path_reports_the_api_servers_refusal() {
    let (server, sb, kc) = marked();
    server.insert(fixtures::running_pod(
        "three-pods",
        "a",
        &[("app", "a")],
        "10.244.0.11",
        0,
    ));
    server.set_exec_response(Canned::status(json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "pods \"a\" is forbidden: User \"student\" cannot create resource \"pods/exec\" in API group \"\" in the namespace \"three-pods\"",
        "reason": "Forbidden", "code": 403
    })));
    let target = seclab::shell::kube::Target {
        context: "kind-seclab".into(),
        kubeconfig: Some(kc),
    };
    let err = seclab::shell::kube::block_on(async {
        let owned = seclab::cluster::connect_owned(&target, &sb.state())
            .await
            .unwrap();
        let exec = seclab::shell::kube::exec::KubeExec { owned: &owned };
        seclab::shell::kube::exec::Exec::exec(
            &exec,
            "three-pods",
            "a",
            "app",
            &seclab::cluster::probe_command("10.244.0.12", 8080),
            Duration::from_secs(5),
        )
        .await
    })
    .unwrap()
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("kind-seclab"), "{msg}");
    assert!(msg.contains("forbidden") || msg.contains("403"), "{msg}");
}

#[test]
fn test_live_runs_every_variant_of_a_cluster_lab_on_the_cluster() {
    // The stand-in controllers run the pods; Pod Security admission is the
    // fake's. Every variant of pss-scissors is set up, applied, settled
    // and graded live; the start state fails, the solution passes, each
    // wrong attempt fails what it must.
    let (server, sb, kc) = marked();
    server.simulate_workloads();
    let junit = sb.dir.path().join("live.xml");
    let r = run(
        &sb,
        &[
            "test",
            "--live",
            "pss-scissors",
            "--junit",
            junit.to_str().unwrap(),
        ],
        &kc,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("runs the cluster tasks live"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains(" 0 failed, 0 skipped"), "{}", r.stdout);
    // It really ran there: namespaces recreated per variant, admission
    // trials made, the lab's namespace gone at the end or set up anew.
    let reqs = server.requests();
    let deletes = reqs
        .iter()
        .filter(|q| q.method == "DELETE" && q.path.ends_with("/namespaces/scissors"))
        .count();
    assert!(deletes >= 10, "{deletes} namespace deletions");
    assert!(
        reqs.iter()
            .any(|q| q.method == "POST" && q.param("dryRun").as_deref() == Some("All"))
    );
    assert!(
        std::fs::read_to_string(&junit)
            .unwrap()
            .contains("pss-scissors/solution/namespace")
    );
    // Reset at the end: the lab is off the cluster, the marker stays.
    assert!(server.get("Namespace", None, "scissors").is_none());
    assert!(
        server
            .get("ConfigMap", Some("seclab-system"), "seclab-marker")
            .is_some()
    );
}

#[test]
fn test_live_without_a_cluster_fails_the_cluster_tasks() {
    let sb = Sandbox::new();
    let kc = write_kubeconfig(sb.dir.path(), &[("prod", "http://127.0.0.1:9")], "prod");
    let r = run(&sb, &["test", "--live", "sa-token"], &kc);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("cannot run live (--live): needs seclab's cluster"),
        "{}",
        r.stdout
    );
    // Without --live they are skipped, with the reason.
    let r = run(&sb, &["test", "sa-token"], &kc);
    assert!(
        r.stdout.contains("skipped sa-token/start/steal-secret"),
        "{}",
        r.stdout
    );
}

#[test]
fn check_watch_regrades_when_the_cluster_changes() {
    use std::io::BufRead as _;
    let (server, sb, kc) = marked();
    assert_eq!(run(&sb, &["start", "pss-scissors"], &kc).code, 0);
    server.insert(fixtures::running_pod(
        "scissors",
        "scissors-5c8d",
        &[("app", "scissors")],
        "10.244.0.9",
        0,
    ));
    copy_solution(&sb, "pss-scissors", &["namespace.yaml"]);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_seclab"))
        .args(["check", "pss-scissors", "namespace", "--watch"])
        .current_dir(sb.work())
        .env("SECLAB_STATE_DIR", sb.state())
        .env("SECLAB_STUDENT", "alice")
        .env("SECLAB_SEED", "class-1")
        .env("KUBECONFIG", &kc)
        .env_remove("SECLAB_WORKSPACE")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn watcher");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    let mut wait_for = |want: &str| {
        while std::time::Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
                let hit = line.contains(want);
                seen.push(line);
                if hit {
                    return true;
                }
            }
        }
        false
    };
    // The files say restricted, the cluster's namespace does not: fail.
    let first = wait_for("FAIL  pss-scissors/namespace");
    // The watch starts after the first grading; give its first look (the
    // baseline) time to happen.
    std::thread::sleep(Duration::from_secs(3));
    // Someone labels the namespace on the cluster (kubectl, say): the
    // watch sees it and grades again, now passing.
    let mut ns = server.get("Namespace", None, "scissors").unwrap();
    ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = json!("restricted");
    server.insert(ns);
    let regraded = wait_for("a change on the cluster, grading again");
    let passed = wait_for("PASS  pss-scissors/namespace");
    let _ = child.kill();
    let _ = child.wait();
    assert!(first && regraded && passed, "{seen:?}");
}
