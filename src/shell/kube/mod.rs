//! The Kubernetes shell (kube-rs): the only code that talks to a cluster.
//!
//! Every call names its context: `kind-seclab` by default, `--context X`
//! (or `SECLAB_CONTEXT`) otherwise. The kubeconfig's current-context is
//! never read for a connection and gets no request. A [`Cluster`] can only
//! read (GET); writes live on [`guard::Owned`], which exists only after the
//! cluster's marker matched the id in seclab's state dir
//! (`../shared/docs/live.md`: "a cluster that carries its marker").
//!
//! - [`resources`]: which API path an object's `apiVersion`/`kind` lives at.
//! - [`guard`]: the marker, the stored cluster id, the owned handle and its
//!   writes (server-side apply, namespaces, dry-run, access reviews, exec).
//! - [`read`]: the live snapshot of a lab (its namespaces and the
//!   cluster-scoped RBAC that is not built in).
//! - [`exec`]: running a command in a pod, behind a trait so probes can be
//!   tested without a cluster.

pub mod exec;
pub mod guard;
pub mod read;
pub mod resources;

use std::path::PathBuf;

use kube::config::{KubeConfigOptions, Kubeconfig};

/// The context seclab uses when none is given: the one kind writes for the
/// cluster `seclab`.
pub const DEFAULT_CONTEXT: &str = "kind-seclab";
/// The kind cluster's name.
pub const KIND_CLUSTER: &str = "seclab";
/// seclab's field manager for server-side apply.
pub const FIELD_MANAGER: &str = "seclab";
/// The label on every namespace of a lab (`seclab.dev/lab=<lab id>`).
pub const LAB_LABEL: &str = "seclab.dev/lab";

/// Which cluster to talk to: a context of a kubeconfig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The context's name (never the kubeconfig's current-context unless
    /// the user names it).
    pub context: String,
    /// The kubeconfig file; `None` is `KUBECONFIG` (its files merged, as
    /// kubectl does) or `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
}

impl Target {
    /// `context` when given, else `SECLAB_CONTEXT`, else `kind-seclab`.
    pub fn new(context: Option<&str>) -> Self {
        let context = context
            .map(str::to_string)
            .or_else(|| {
                std::env::var("SECLAB_CONTEXT")
                    .ok()
                    .filter(|c| !c.is_empty())
            })
            .unwrap_or_else(|| DEFAULT_CONTEXT.to_string());
        Self {
            context,
            kubeconfig: None,
        }
    }

    /// Where the kubeconfig is read from, for messages.
    pub fn kubeconfig_shown(&self) -> String {
        match &self.kubeconfig {
            Some(p) => p.display().to_string(),
            None => match std::env::var("KUBECONFIG") {
                Ok(k) if !k.is_empty() => k,
                _ => "~/.kube/config".to_string(),
            },
        }
    }

    fn read_kubeconfig(&self) -> Result<Kubeconfig, ClusterError> {
        let read = match &self.kubeconfig {
            Some(p) => Kubeconfig::read_from(p),
            None => Kubeconfig::read(),
        };
        read.map_err(|e| ClusterError::Kubeconfig {
            path: self.kubeconfig_shown(),
            message: e.to_string(),
        })
    }

    /// Whether the kubeconfig has this context (reads the file; sends no
    /// request).
    pub fn exists(&self) -> bool {
        self.read_kubeconfig()
            .is_ok_and(|k| k.contexts.iter().any(|c| c.name == self.context))
    }

    /// The server URL of the context's cluster, from the kubeconfig.
    pub fn server(&self) -> Option<String> {
        let k = self.read_kubeconfig().ok()?;
        let ctx = k.contexts.iter().find(|c| c.name == self.context)?;
        let cluster_name = &ctx.context.as_ref()?.cluster;
        let cluster = k.clusters.iter().find(|c| &c.name == cluster_name)?;
        cluster.cluster.as_ref()?.server.clone()
    }
}

/// Why a cluster could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The kubeconfig could not be read.
    #[error("kubeconfig {path}: {message}")]
    Kubeconfig {
        /// Where it was looked for.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The kubeconfig has no such context.
    #[error(
        "context `{context}` is not in the kubeconfig ({path}); `seclab up` creates the kind cluster and its context kind-seclab, or name another with --context"
    )]
    NoContext {
        /// The context asked for.
        context: String,
        /// The kubeconfig.
        path: String,
    },
    /// The context's configuration is unusable (certificates, auth).
    #[error("context `{context}`: {message}")]
    Config {
        /// The context.
        context: String,
        /// What kube-rs said.
        message: String,
    },
    /// The API server did not answer.
    #[error("context `{context}`: the API server {server} does not answer: {message}")]
    Unreachable {
        /// The context.
        context: String,
        /// Its server URL.
        server: String,
        /// What failed.
        message: String,
    },
    /// The API server answered with an error status.
    #[error("context `{context}`: {message} (HTTP {code} {reason})")]
    Api {
        /// The context.
        context: String,
        /// HTTP status.
        code: u16,
        /// The Status reason (`NotFound`, `Forbidden`, `Invalid`, ...).
        reason: String,
        /// The Status message.
        message: String,
    },
    /// The guard refused a write: the cluster is not seclab's.
    #[error(
        "refusing to change the cluster of context `{context}` ({server}): {why}. seclab only writes to a cluster that carries its marker (ConfigMap seclab-marker in namespace seclab-system with the id stored by `seclab up`)"
    )]
    NotOurs {
        /// The context.
        context: String,
        /// Its server URL.
        server: String,
        /// Why: no marker, another id, no id stored here.
        why: String,
    },
    /// Something else (I/O of the state dir, a request that could not be
    /// built).
    #[error("context `{context}`: {message}")]
    Other {
        /// The context.
        context: String,
        /// What failed.
        message: String,
    },
}

impl ClusterError {
    /// The HTTP status, for API errors.
    pub fn code(&self) -> Option<u16> {
        match self {
            ClusterError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// A connection to one context's cluster, read-only.
#[derive(Clone)]
pub struct Cluster {
    client: kube::Client,
    /// The context.
    pub context: String,
    /// Its API server URL.
    pub server: String,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("context", &self.context)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// A client for `target`'s context. Reads the kubeconfig and sends no
    /// request; a context that is not there is an error (never a fallback
    /// to the current-context).
    pub async fn connect(target: &Target) -> Result<Self, ClusterError> {
        let kubeconfig = target.read_kubeconfig()?;
        if !kubeconfig.contexts.iter().any(|c| c.name == target.context) {
            return Err(ClusterError::NoContext {
                context: target.context.clone(),
                path: target.kubeconfig_shown(),
            });
        }
        let options = KubeConfigOptions {
            context: Some(target.context.clone()),
            cluster: None,
            user: None,
        };
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| ClusterError::Config {
                context: target.context.clone(),
                message: e.to_string(),
            })?;
        let server = config.cluster_url.to_string();
        let client = kube::Client::try_from(config).map_err(|e| ClusterError::Config {
            context: target.context.clone(),
            message: e.to_string(),
        })?;
        Ok(Self {
            client,
            context: target.context.clone(),
            server,
        })
    }

    /// The kube-rs client, for reads in this module tree.
    pub(crate) fn client(&self) -> kube::Client {
        self.client.clone()
    }

    /// Turns a kube-rs error into one that names this context.
    pub(crate) fn error(&self, e: kube::Error) -> ClusterError {
        match e {
            kube::Error::Api(s) => ClusterError::Api {
                context: self.context.clone(),
                code: s.code,
                reason: s.reason.clone(),
                message: s.message.clone(),
            },
            kube::Error::HyperError(_) | kube::Error::Service(_) => ClusterError::Unreachable {
                context: self.context.clone(),
                server: self.server.clone(),
                message: error_chain(&e),
            },
            other => ClusterError::Other {
                context: self.context.clone(),
                message: error_chain(&other),
            },
        }
    }

    /// Whether the API server says it is ready (`GET /readyz` answers
    /// `ok`); an unreachable server is `Ok(false)`, not an error.
    pub async fn ready(&self) -> bool {
        let req = http::Request::get("/readyz").body(Vec::new());
        match req {
            Ok(req) => self
                .client
                .request_text(req)
                .await
                .is_ok_and(|t| t.trim() == "ok"),
            Err(_) => false,
        }
    }

    /// The API server's version (`/version`): whether it answers at all.
    pub async fn version(&self) -> Result<String, ClusterError> {
        let v = self
            .client
            .apiserver_version()
            .await
            .map_err(|e| self.error(e))?;
        Ok(v.git_version)
    }
}

/// An error and its sources, one line.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

/// Runs `fut` from sync code on the shell's shared runtime.
pub fn block_on<F: Future>(fut: F) -> anyhow::Result<F::Output> {
    crate::shell::docker::block_on(fut).map_err(|e| anyhow::anyhow!("{e}"))
}
