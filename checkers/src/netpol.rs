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
//! - [`matrix`] draws the result as a terminal grid;
//! - [`check`] is the `netpol:` check of a lab (an expectation within a
//!   scope).
//!
//! Where seclab is stricter than np-guard, it follows the API server: a
//! policy port given as a string is a port *name* and must be an
//! `IANA_SVC_NAME` ([`ports::port_name_problems`]), so `port: "8080"` is an
//! input error with the hint to write the number unquoted (np-guard reads it
//! as a name no container declares, which allows nothing on that entry); a
//! container port's `name` is checked by the same rule, and for duplicates
//! within a container. No np-guard fixture relies on either: every one
//! still loads and matches (`tests/netpol_conformance.rs`).

pub mod check;
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
pub(crate) use model::reads_kind;
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
        /// Index of the document in `file` (for mapping `path` to a
        /// position), if known.
        doc: Option<usize>,
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
    /// This error as a finding (object, file and field path filled in;
    /// the message says what is wrong, without repeating them).
    pub fn to_finding(&self) -> Finding {
        let mut f = Finding::error(self.to_string());
        if let NetpolError::Invalid {
            object,
            file,
            doc,
            path,
            message,
        } = self
        {
            f.message.clone_from(message);
            f.object = Some(object.clone());
            f.source.clone_from(file);
            f.doc = file.as_ref().and(*doc);
            f.paths.push(path.clone());
        }
        f
    }
}

/// Grades manifests against an expectation: passes when the allowed
/// connections are exactly the expected ones; otherwise one error finding
/// per differing pair (see [`check::grade_in`]).
pub fn grade(objects: &[KubeObject], expectation: &Expectation) -> Verdict {
    check::grade_in(objects, expectation, &check::Scope::default())
}
