//! Kubernetes audit logging: which audit level and stages the API server
//! applies to a request under an `audit.k8s.io/v1` Policy.
//!
//! - [`policy`]: the Policy parsed from a manifest (with upstream's load-time
//!   validation) and its rule evaluation, exact to k8s.io/apiserver
//!   `pkg/audit/policy/checker.go` as of Kubernetes v1.36 (the `"*"` API
//!   group wildcard included).
//! - [`log`]: the API server's audit log (JSON lines of `audit.k8s.io/v1`
//!   Events) read with borrowed strings, and a [`log::Filter`] over it.
//! - [`trail`]: the `audit_event` check: a request of the student's own,
//!   found in the live cluster's audit log.
//! - [`grade`]: the `audit_policy` check: properties of the student's
//!   policy, tested by counterexample search over a space of requests.
//! - [`forensics`]: a seeded generator of an attacker's trail hidden in a
//!   realistic audit log, and the `audit_question` check that asks about it.

pub mod forensics;
pub mod grade;
pub mod log;
pub mod policy;
pub mod trail;

pub use policy::{
    Evaluation, GroupResources, Level, Policy, PolicyError, PolicyRule, Request, Stage,
    union_stages,
};
