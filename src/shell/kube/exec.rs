//! Running a command in a pod's container (the probes of NetworkPolicy
//! labs). Behind the [`Exec`] trait so the probe logic is tested with a
//! fake; [`KubeExec`] is the real one, over the API server's exec
//! subresource (a websocket), on an [`Owned`](super::guard::Owned) cluster
//! only — exec is a write (`create pods/exec`).

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::{Api, AttachParams};
use tokio::io::AsyncReadExt as _;

use super::ClusterError;
use super::guard::Owned;

/// What a command printed and how it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// The exit code (0 on success); `None` when the API server did not
    /// say.
    pub exit: Option<i32>,
}

/// Runs commands in pods.
pub trait Exec {
    /// Runs `command` in `container` of `namespace/pod`, waiting at most
    /// `timeout` for it to end.
    fn exec(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        command: &[String],
        timeout: Duration,
    ) -> impl Future<Output = Result<ExecOutput, ClusterError>>;
}

/// Exec through the API server.
#[derive(Debug, Clone)]
pub struct KubeExec<'a> {
    /// The cluster (owned: exec is a write).
    pub owned: &'a Owned,
}

/// The exit code in an exec's final Status: `Success` is 0, a failure
/// carries the code as a cause with reason `ExitCode`.
pub fn exit_code(status: &Status) -> Option<i32> {
    if status.status.as_deref() == Some("Success") {
        return Some(0);
    }
    status
        .details
        .as_ref()?
        .causes
        .as_ref()?
        .iter()
        .find(|c| c.reason.as_deref() == Some("ExitCode"))
        .and_then(|c| c.message.as_deref()?.parse().ok())
}

impl Exec for KubeExec<'_> {
    async fn exec(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        command: &[String],
        timeout: Duration,
    ) -> Result<ExecOutput, ClusterError> {
        let cluster = self.owned.cluster();
        let api: Api<Pod> = Api::namespaced(cluster.client(), namespace);
        let ap = AttachParams::default()
            .container(container)
            .stdin(false)
            .stdout(true)
            .stderr(true);
        let run = async {
            let mut proc = api
                .exec(pod, command.to_vec(), &ap)
                .await
                .map_err(|e| cluster.error(e))?;
            let mut out = ExecOutput::default();
            if let Some(mut r) = proc.stdout() {
                let mut b = Vec::new();
                let _ = r.read_to_end(&mut b).await;
                out.stdout = String::from_utf8_lossy(&b).into_owned();
            }
            if let Some(mut r) = proc.stderr() {
                let mut b = Vec::new();
                let _ = r.read_to_end(&mut b).await;
                out.stderr = String::from_utf8_lossy(&b).into_owned();
            }
            if let Some(status) = proc.take_status() {
                out.exit = status.await.as_ref().and_then(exit_code);
            }
            Ok(out)
        };
        match tokio::time::timeout(timeout, run).await {
            Ok(r) => r,
            Err(_) => Err(ClusterError::Other {
                context: cluster.context.clone(),
                message: format!(
                    "exec in {namespace}/{pod} ({container}) did not end within {}s",
                    timeout.as_secs()
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(json: serde_json::Value) -> Status {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn exit_codes_come_from_the_final_status() {
        // The shapes the kubelet sends on the exec error channel.
        assert_eq!(
            exit_code(&status(
                serde_json::json!({"status": "Success", "metadata": {}})
            )),
            Some(0)
        );
        let failed = status(serde_json::json!({
            "status": "Failure", "metadata": {},
            "message": "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": "3"}]}
        }));
        assert_eq!(exit_code(&failed), Some(3));
        let unknown =
            status(serde_json::json!({"status": "Failure", "metadata": {}, "message": "boom"}));
        assert_eq!(exit_code(&unknown), None);
    }
}
