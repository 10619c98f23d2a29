//! The kind cluster's audit policy and log, live: on the real Docker engine,
//! a stand-in control-plane node (busybox, kind's labels, the config folder
//! mounted at /etc/kubernetes/seclab as `seclab up` mounts it, a `crictl`
//! stand-in that plays the kubelet restarting kube-apiserver) and the
//! in-test API server for `/readyz` and the marker.
//!
//! Without an engine each test prints `SKIP: <why>` and passes, unless
//! `SECLAB_REQUIRE_DOCKER=1`. A real kind cluster named `seclab` on the
//! engine makes them skip too: they must not touch it.

mod fake_apiserver;
mod stand_ins;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use fake_apiserver::{FakeApiServer, fixtures, write_kubeconfig};
use seclab::shell::docker::Engine;
use seclab::shell::kind::audit::{self, ControlPlane, Installed};
use seclab::shell::kube::guard::{self, Known, Owned};
use seclab::shell::kube::{Cluster, Target};

const ID: &str = "0123456789abcdef";

/// `crictl` as the node's kubelet would make it look: `ps` prints the
/// running kube-apiserver container's id (from /tmp/apiserver-id), `stop`
/// records the id and "restarts" it with a new id — unless /tmp/stuck
/// exists, when no kube-apiserver comes back.
const CRICTL: &str = r#"#!/bin/sh
st=/tmp/apiserver-id
case "$1" in
  ps) cat "$st" 2>/dev/null ;;
  stop)
    echo "$2" >> /tmp/stopped
    if [ -e /tmp/stuck ]; then : > "$st"; else
      n=$(cat /tmp/n 2>/dev/null || echo 0); n=$((n+1)); echo "$n" > /tmp/n
      echo "apiserver-$n" > "$st"
    fi ;;
  *) echo "crictl stand-in: $*" >&2; exit 1 ;;
esac
"#;

struct Node {
    name: String,
    dir: tempfile::TempDir,
    // One stand-in node at a time: seclab finds the node by kind's label.
    _one: std::sync::MutexGuard<'static, ()>,
}

static ONE_NODE: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Drop for Node {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-f", &self.name])
            .output();
    }
}

impl Node {
    fn config(&self) -> std::path::PathBuf {
        self.dir.path().join("config")
    }
    fn exec(&self, script: &str) -> String {
        let out = Command::new("docker")
            .args(["exec", &self.name, "sh", "-c", script])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// The stand-in node, or why the test skips.
fn node(test: &str) -> Option<Node> {
    let map = match stand_ins::setup() {
        Ok(map) => map.clone(),
        Err(why) => {
            assert!(
                std::env::var("SECLAB_REQUIRE_DOCKER").as_deref() != Ok("1"),
                "Docker is required (SECLAB_REQUIRE_DOCKER=1): {why}"
            );
            println!("SKIP: {test}: {why}");
            return None;
        }
    };
    let one = ONE_NODE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let others = Command::new("docker")
        .args([
            "ps",
            "-aq",
            "--filter",
            "label=io.x-k8s.kind.cluster=seclab",
        ])
        .output()
        .unwrap();
    if !String::from_utf8_lossy(&others.stdout).trim().is_empty() {
        println!(
            "SKIP: {test}: a kind cluster `seclab` is on this engine; this test must not touch it"
        );
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let bin = dir.path().join("bin");
    let log = dir.path().join("log");
    for d in [&config, &bin, &log] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(
        config.join("audit-policy.yaml"),
        seclab::shell::kind::AUDIT_POLICY,
    )
    .unwrap();
    std::fs::write(bin.join("crictl"), CRICTL).unwrap();
    std::fs::set_permissions(bin.join("crictl"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        log.join("audit.log"),
        concat!(
            r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"5e1f0c3a-1","stage":"ResponseComplete","verb":"get","user":{"username":"system:serviceaccount:audit-logs:web"},"sourceIPs":["10.244.0.7"],"objectRef":{"resource":"secrets","namespace":"audit-logs","name":"db-credentials","apiVersion":"v1"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2026-12-03T10:15:30.123456Z"}"#,
            "\n",
            r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"5e1f0c3a-2","stage":"ResponseComplete","verb":"list","user":{"username":"kubernetes-admin"},"sourceIPs":["172.18.0.1"],"objectRef":{"resource":"pods","namespace":"audit-logs","apiVersion":"v1"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2026-12-03T10:16:00Z"}"#,
            "\n",
        ),
    )
    .unwrap();
    let name = format!("seclab-t{}-{test}-control-plane", std::process::id());
    let mount = |host: &Path, at: &str, ro: bool| {
        format!("{}:{at}{}", host.display(), if ro { ":ro" } else { "" })
    };
    let out = Command::new("docker")
        .args(["run", "-d", "--name", &name])
        .args(["--label", "io.x-k8s.kind.cluster=seclab"])
        .args(["--label", "io.x-k8s.kind.role=control-plane"])
        .args([
            "--label",
            &format!("seclab.dev/lab=t{}-{test}", std::process::id()),
        ])
        .args(["-v", &mount(&config, audit::NODE_CONFIG_DIR, true)])
        .args(["-v", &mount(&bin, "/usr/local/bin", true)])
        .args(["-v", &mount(&log, "/var/log/kubernetes/audit", false)])
        .arg(map.map("busybox:1.36"))
        .args([
            "sh",
            "-c",
            "echo apiserver-0 > /tmp/apiserver-id; exec sleep 600",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let node = Node {
        name,
        dir,
        _one: one,
    };
    // The first command of the container has run once the id is there.
    for _ in 0..50 {
        if node.exec("cat /tmp/apiserver-id").trim() == "apiserver-0" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(node)
}

/// A marked in-test API server and seclab's owned handle on it.
async fn owned(server: &FakeApiServer, dir: &Path) -> Owned {
    server.insert(fixtures::namespace("seclab-system", &[]));
    server.insert(fixtures::marker(ID));
    let kc = write_kubeconfig(dir, &[("kind-seclab", &server.url())], "kind-seclab");
    let target = Target {
        context: "kind-seclab".into(),
        kubeconfig: Some(kc),
    };
    let cluster = Cluster::connect(&target).await.unwrap();
    let mut known = Known::default();
    known.clusters.insert("kind-seclab".into(), ID.into());
    guard::own(cluster, &known).await.unwrap()
}

const POLICY: &str = "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n  - level: Metadata\n";

#[test]
fn a_policy_is_installed_and_the_api_server_restarted_with_it() {
    let Some(node) = node("install") else { return };
    let server = FakeApiServer::start();
    seclab::shell::kube::block_on(async {
        let owned = owned(&server, node.dir.path()).await;
        let engine = Engine::connect().await.unwrap();
        let cp = audit::control_plane(&engine).await.unwrap();
        assert_eq!(
            cp,
            ControlPlane {
                container: node.name.clone(),
                config_dir: node.config(),
            }
        );
        let t = Duration::from_secs(20);
        let got = audit::install_policy(&owned, &engine, &cp, "audit-policy.yaml", POLICY, t).await;
        assert_eq!(got.unwrap(), Installed::Restarted);
        assert_eq!(std::fs::read_to_string(cp.policy_path()).unwrap(), POLICY);
        assert_eq!(node.exec("cat /tmp/stopped"), "apiserver-0\n");
        assert_eq!(node.exec("cat /tmp/apiserver-id"), "apiserver-1\n");
        // The same policy again: no restart.
        let got = audit::install_policy(&owned, &engine, &cp, "audit-policy.yaml", POLICY, t).await;
        assert_eq!(got.unwrap(), Installed::Unchanged);
        assert_eq!(node.exec("cat /tmp/stopped"), "apiserver-0\n");
        // A policy the API server would not start with is never written.
        let bad = "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Everything\n";
        let e = audit::install_policy(&owned, &engine, &cp, "audit-policy.yaml", bad, t)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("would not start"), "{e}");
        assert_eq!(std::fs::read_to_string(cp.policy_path()).unwrap(), POLICY);
        // seclab's own policy back.
        let got = audit::restore_default(&owned, &engine, &cp, t)
            .await
            .unwrap();
        assert_eq!(got, Installed::Restarted);
        assert_eq!(
            std::fs::read_to_string(cp.policy_path()).unwrap(),
            seclab::shell::kind::AUDIT_POLICY
        );
    })
    .unwrap();
}

#[test]
fn an_api_server_that_does_not_come_back_gets_the_previous_policy() {
    let Some(node) = node("stuck") else { return };
    let server = FakeApiServer::start();
    seclab::shell::kube::block_on(async {
        let owned = owned(&server, node.dir.path()).await;
        let engine = Engine::connect().await.unwrap();
        let cp = audit::control_plane(&engine).await.unwrap();
        node.exec("touch /tmp/stuck");
        let e = audit::install_policy(
            &owned,
            &engine,
            &cp,
            "audit-policy.yaml",
            POLICY,
            Duration::from_secs(2),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(e.contains("did not come back"), "{e}");
        assert!(e.contains("the previous policy is back"), "{e}");
        assert_eq!(
            std::fs::read_to_string(cp.policy_path()).unwrap(),
            seclab::shell::kind::AUDIT_POLICY
        );
    })
    .unwrap();
}

#[test]
fn the_log_is_read_from_the_node_and_filtered_for_the_checks() {
    let Some(node) = node("log") else { return };
    seclab::shell::kube::block_on(async {
        let engine = Engine::connect().await.unwrap();
        let cp = audit::control_plane(&engine).await.unwrap();
        let log = audit::read_log(&engine, &cp).await.unwrap();
        assert_eq!(log.lines().count(), 2);
        let m = seclab_checkers::audit::trail::EventMatch {
            user: Some("system:serviceaccount:audit-logs:web".into()),
            resource: Some("secrets".into()),
            ..Default::default()
        };
        let kept = seclab_checkers::audit::trail::keep(&log, &[&m]);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0]["auditID"], "5e1f0c3a-1");
        node.exec("rm /var/log/kubernetes/audit/audit.log");
        let e = audit::read_log(&engine, &cp).await.unwrap_err().to_string();
        assert!(
            e.contains("cannot read /var/log/kubernetes/audit/audit.log"),
            "{e}"
        );
    })
    .unwrap();
}
