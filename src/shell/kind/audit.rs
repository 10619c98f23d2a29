//! The kind cluster's audit log, live: installing a lab's audit policy into
//! the API server and reading the log it writes.
//!
//! `seclab up` mounts a host folder of its state dir into the control-plane
//! node at [`NODE_CONFIG_DIR`] and points kube-apiserver's
//! `--audit-policy-file` at the policy there (manifests/kind/cluster.yaml.tera).
//! The API server reads the policy only when it starts, so installing one
//! is: check that it loads (a policy the API server cannot read would keep
//! it from starting), replace the file in the host folder (found from the
//! node container's mounts, so an adopted cluster works too), stop the
//! kube-apiserver container in the node (`crictl stop`; the kubelet starts
//! its static pod again) and wait until a new kube-apiserver container runs
//! and `/readyz` answers `ok`. When it does not come back in time, the
//! previous policy is put back and the API server restarted again.
//!
//! The log is read with `cat` in the node container ([`NODE_AUDIT_LOG`]).
//! Every call here acts on the node containers of the kind cluster
//! `seclab` (kind's label), and only after the caller proved the cluster
//! seclab's own by its marker (an [`Owned`]).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use seclab_checkers::audit::Policy;
use serde_json::Value;

use super::{AUDIT_POLICY, AUDIT_POLICY_FILE, CLUSTER_NAME};
use crate::shell::docker::{Engine, KindNode};
use crate::shell::kube::guard::Owned;

/// Where the node sees seclab's config folder (the policy's folder).
pub const NODE_CONFIG_DIR: &str = "/etc/kubernetes/seclab";
/// The audit log in the control-plane node.
pub const NODE_AUDIT_LOG: &str = "/var/log/kubernetes/audit/audit.log";
/// How long the API server may take to come back with a new policy.
pub const RESTART_TIMEOUT: Duration = Duration::from_secs(180);
/// How often the restart is looked at.
const POLL: Duration = Duration::from_millis(500);

/// The control-plane node of seclab's kind cluster and the host folder
/// mounted at [`NODE_CONFIG_DIR`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlPlane {
    /// The node container's name.
    pub container: String,
    /// The host folder that holds `audit-policy.yaml`.
    pub config_dir: PathBuf,
}

impl ControlPlane {
    /// The host path of the audit policy the API server reads.
    pub fn policy_path(&self) -> PathBuf {
        self.config_dir.join(AUDIT_POLICY_FILE)
    }
}

/// The running control-plane node of kind cluster `seclab` among `nodes`,
/// with its config mount.
pub fn control_plane_of(nodes: &[KindNode]) -> anyhow::Result<ControlPlane> {
    let Some(node) = nodes.iter().find(|n| n.role == "control-plane") else {
        bail!(
            "kind cluster {CLUSTER_NAME} has no control-plane node container (label io.x-k8s.kind.role=control-plane): is it up? `seclab up` creates it"
        );
    };
    if !node.running {
        bail!(
            "the control-plane node {} is not running: `docker start {}` or `seclab up`",
            node.name,
            node.name
        );
    }
    let Some((source, _)) = node.mounts.iter().find(|(_, dest)| dest == NODE_CONFIG_DIR) else {
        bail!(
            "the control-plane node {} has no folder mounted at {NODE_CONFIG_DIR}: the cluster was not made by `seclab up` with audit logging; `seclab down` and `seclab up` make it anew",
            node.name
        );
    };
    Ok(ControlPlane {
        container: node.name.clone(),
        config_dir: PathBuf::from(source),
    })
}

/// Finds the control-plane node of seclab's kind cluster on `engine`.
pub async fn control_plane(engine: &Engine) -> anyhow::Result<ControlPlane> {
    let nodes = engine
        .kind_nodes(CLUSTER_NAME)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    control_plane_of(&nodes)
}

/// Checks that `text` is an audit policy the API server loads; `name` is
/// used in the error (`path:line:col`-style where the YAML says where).
pub fn check_policy(name: &str, text: &str) -> anyhow::Result<()> {
    let value: Value = serde_saphyr::from_str(text)
        .map_err(|e| anyhow::anyhow!("{name}: not YAML the API server can read: {e}"))?;
    Policy::parse(&value).map_err(|e| {
        anyhow::anyhow!(
            "{name}: the API server would not start with this audit policy: {e}; seclab does not install it"
        )
    })?;
    Ok(())
}

/// What installing a policy did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installed {
    /// The API server already had this policy: nothing was restarted.
    Unchanged,
    /// The policy was replaced and the API server restarted with it.
    Restarted,
}

/// Installs `text` (the file `name`) as the API server's audit policy and
/// restarts the API server, waiting up to `timeout` until it is ready
/// again. See the module docs.
pub async fn install_policy(
    owned: &Owned,
    engine: &Engine,
    cp: &ControlPlane,
    name: &str,
    text: &str,
    timeout: Duration,
) -> anyhow::Result<Installed> {
    check_policy(name, text)?;
    let path = cp.policy_path();
    let previous = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{}: cannot read the audit policy the cluster's API server uses (is seclab running on the Docker host?)",
            path.display()
        )
    })?;
    if previous == text {
        return Ok(Installed::Unchanged);
    }
    write_policy(&path, text)?;
    match restart_apiserver(owned, engine, cp, timeout).await {
        Ok(()) => Ok(Installed::Restarted),
        Err(e) => {
            write_policy(&path, &previous)?;
            let back = restart_apiserver(owned, engine, cp, timeout).await;
            bail!(
                "the API server did not come back with {name} ({e}); the previous policy is back{}",
                match back {
                    Ok(()) => " and the API server is ready".to_string(),
                    Err(e) => format!(", but the API server is not ready either: {e}"),
                }
            )
        }
    }
}

/// Puts seclab's own audit policy back (manifests/kind/audit-policy.yaml).
pub async fn restore_default(
    owned: &Owned,
    engine: &Engine,
    cp: &ControlPlane,
    timeout: Duration,
) -> anyhow::Result<Installed> {
    install_policy(
        owned,
        engine,
        cp,
        "seclab's audit policy",
        AUDIT_POLICY,
        timeout,
    )
    .await
}

fn write_policy(path: &Path, text: &str) -> anyhow::Result<()> {
    crate::progress::write_atomic(path, text.as_bytes())
        .with_context(|| format!("{}: cannot write the audit policy", path.display()))
}

/// The id of the running kube-apiserver container in the node, if any.
async fn apiserver_container(engine: &Engine, cp: &ControlPlane) -> anyhow::Result<String> {
    let argv: Vec<String> = [
        "crictl",
        "ps",
        "-q",
        "--name",
        "kube-apiserver",
        "--state",
        "running",
    ]
    .map(String::from)
    .into();
    let out = engine
        .exec(&cp.container, &argv, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if out.exit != Some(0) {
        bail!(
            "`crictl ps` in {} failed: {}",
            cp.container,
            out.stderr.trim()
        );
    }
    Ok(out.stdout.lines().next().unwrap_or("").trim().to_string())
}

/// Stops the kube-apiserver container in the node and waits until the
/// kubelet runs a new one and `/readyz` answers `ok`.
pub async fn restart_apiserver(
    owned: &Owned,
    engine: &Engine,
    cp: &ControlPlane,
    timeout: Duration,
) -> anyhow::Result<()> {
    let old = apiserver_container(engine, cp).await?;
    if !old.is_empty() {
        let argv: Vec<String> = vec!["crictl".into(), "stop".into(), old.clone()];
        let out = engine
            .exec(&cp.container, &argv, None)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if out.exit != Some(0) {
            bail!(
                "`crictl stop {old}` in {} failed: {}",
                cp.container,
                out.stderr.trim()
            );
        }
    }
    let start = Instant::now();
    loop {
        let now = apiserver_container(engine, cp).await.unwrap_or_default();
        if !now.is_empty() && now != old && owned.cluster().ready().await {
            return Ok(());
        }
        if start.elapsed() >= timeout {
            bail!(
                "no ready kube-apiserver within {} s (`docker exec {} crictl ps -a --name kube-apiserver` and `crictl logs` tell why)",
                timeout.as_secs(),
                cp.container
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The audit log as the control-plane node holds it (JSON lines).
pub async fn read_log(engine: &Engine, cp: &ControlPlane) -> anyhow::Result<String> {
    let argv: Vec<String> = vec!["cat".into(), NODE_AUDIT_LOG.into()];
    let out = engine
        .exec(&cp.container, &argv, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if out.exit != Some(0) {
        bail!(
            "cannot read {NODE_AUDIT_LOG} in {}: {}",
            cp.container,
            out.stderr.trim()
        );
    }
    Ok(out.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(role: &str, running: bool, mounts: &[(&str, &str)]) -> KindNode {
        KindNode {
            id: "abc".into(),
            name: format!("seclab-{role}"),
            role: role.into(),
            running,
            mounts: mounts
                .iter()
                .map(|(s, d)| ((*s).to_string(), (*d).to_string()))
                .collect(),
        }
    }

    #[test]
    fn control_plane_needs_its_config_mount() {
        let ok = control_plane_of(&[
            node("worker", true, &[]),
            node("control-plane", true, &[("/st/kind", NODE_CONFIG_DIR)]),
        ])
        .unwrap();
        assert_eq!(ok.container, "seclab-control-plane");
        assert_eq!(
            ok.policy_path(),
            PathBuf::from("/st/kind/audit-policy.yaml")
        );
        let e = control_plane_of(&[node("control-plane", true, &[("/x", "/y")])]).unwrap_err();
        assert!(e.to_string().contains("no folder mounted"), "{e}");
        let e = control_plane_of(&[node("control-plane", false, &[])]).unwrap_err();
        assert!(e.to_string().contains("not running"), "{e}");
        let e = control_plane_of(&[node("worker", true, &[])]).unwrap_err();
        assert!(e.to_string().contains("no control-plane"), "{e}");
    }

    #[test]
    fn a_policy_the_api_server_would_refuse_is_not_installed() {
        check_policy("p.yaml", AUDIT_POLICY).unwrap();
        let e = check_policy(
            "p.yaml",
            "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Everything\n",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("p.yaml: the API server would not start"),
            "{e}"
        );
        let e = check_policy("p.yaml", "rules: [").unwrap_err();
        assert!(e.to_string().contains("not YAML"), "{e}");
    }
}
