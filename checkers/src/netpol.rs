//! `NetworkPolicy` reachability: which workloads may connect to which, on
//! which ports, from manifests alone.
//!
//! The semantics follow Kubernetes and the conventions of np-guard's
//! `netpol-analyzer` (whose `list -o txt` output [`ConnList`] reproduces):
//! a connection needs the source's egress and the destination's ingress;
//! pods are isolated in a direction only when some policy selects them for
//! it; policies are unioned; pods owned by a controller are folded into it;
//! host-network pods are ordinary pods; IPs outside the cluster are cut into
//! atoms by the ipBlocks of the policies.
//!
//! - [`Cluster::from_objects`] reads manifests, [`Cluster::connections`]
//!   runs the engine and gives a [`ConnList`];
//! - [`parse_connlist`], [`diff`] and [`grade`] compare with an
//!   [`Expectation`];
//! - [`matrix`] draws the result as a terminal grid.

mod connlist;
mod engine;
pub mod ip;
pub mod matrix;
mod model;
pub mod ports;
pub mod selector;

pub use connlist::{ConnList, Connection, Diff, Expectation, Peer, diff, parse_connlist};
pub use engine::{Cluster, Reachability};
pub use ip::IpRange;
pub use model::WorkloadId;
pub use ports::{ConnSet, PortSet, Protocol};

use serde::Serialize;

use crate::{Finding, KubeObject, Verdict};

/// Why manifests or an expectation could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetpolError {
    /// A malformed object: `NetworkPolicy ns/name: bad CIDR "10.0.0.0/33"
    /// (prefix length above 32) in spec.ingress[0].from[1].ipBlock.cidr`.
    #[error("{object}: {message} in {path}")]
    Invalid {
        /// `Kind ns/name`.
        object: String,
        /// The file the object came from, if known.
        file: Option<String>,
        /// Field path inside the object.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A malformed line of a connlist expectation.
    #[error("connlist line {line}: {message}")]
    Connlist {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Something the reader skipped or assumed, worth telling the student.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// The object, e.g. `Service default/web`.
    pub object: String,
    /// What happened.
    pub message: String,
}

impl Note {
    pub(crate) fn new(object: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            object: object.into(),
            message: message.into(),
        }
    }
}

impl NetpolError {
    /// This error as a finding (object, file and field path filled in).
    pub fn to_finding(&self) -> Finding {
        let mut f = Finding::error(self.to_string());
        if let NetpolError::Invalid {
            object, file, path, ..
        } = self
        {
            f.object = Some(object.clone());
            f.source.clone_from(file);
            f.paths.push(path.clone());
        }
        f
    }
}

/// Grades manifests against an expectation: passes when the allowed
/// connections are exactly the expected ones; otherwise one error finding
/// per differing pair.
pub fn grade(objects: &[KubeObject], expectation: &Expectation) -> Verdict {
    let (cluster, notes) = match Cluster::from_objects(objects) {
        Ok(x) => x,
        Err(e) => return Verdict::from_findings(vec![e.to_finding()]),
    };
    let actual = cluster.connections().to_expectation();
    let mut findings: Vec<Finding> = diff(expectation, &actual)
        .into_iter()
        .map(|d| {
            let msg = match (d.expected.is_empty(), d.actual.is_empty()) {
                (true, _) => format!(
                    "{} => {} is allowed ({}) but should be denied",
                    d.src, d.dst, d.actual
                ),
                (_, true) => format!(
                    "{} => {} is denied but should allow {}",
                    d.src, d.dst, d.expected
                ),
                _ => format!(
                    "{} => {} allows {} but should allow {}",
                    d.src, d.dst, d.actual, d.expected
                ),
            };
            Finding::error(msg)
        })
        .collect();
    findings.extend(
        notes
            .into_iter()
            .map(|n| Finding::info(format!("{}: {}", n.object, n.message))),
    );
    Verdict::from_findings(findings)
}
