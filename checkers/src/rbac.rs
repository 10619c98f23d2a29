//! Kubernetes RBAC: who may do what, and which binding, role and rule say so.
//!
//! [`Policy::from_objects`] reads Role, `ClusterRole`, `RoleBinding`,
//! `ClusterRoleBinding`, `ServiceAccount` and `Secret` objects (and `List`s
//! of them), adds the default policy every cluster has ([`bootstrap_objects`]:
//! `cluster-admin`, `admin`, `edit`, `view` with their aggregation labels,
//! the `system:` roles and bindings), and resolves each binding to its
//! role's rules, aggregated `ClusterRole`s included. Then:
//! - [`Policy::can`] answers one [`Request`] with a [`Decision`] listing the
//!   [`Grant`]s (binding, role, rule) that allow it;
//! - [`Policy::who_can`] lists the subjects that may do something;
//! - [`Policy::risky`] lists the usual privilege-escalation paths;
//! - [`grade`] grades a lab's [`RbacCheck`]: one question (`expect`), or
//!   the subject's complete allowed set (`only`);
//! - [`token::grade`] grades a [`TokenCheck`]: whether a workload's pod gets
//!   a service-account token mounted.
//!
//! Matching follows the upstream authorizer (`RuleAllows` and the
//! `rbac/v1/helpers` matchers); RBAC has no deny rules, so a request is
//! allowed when any rule of any binding in scope allows it.

mod bootstrap;
mod error;
mod grade;
mod model;
mod only;
mod policy;
mod request;
mod risk;
mod rule;
mod selector;
pub mod token;

pub use bootstrap::{AUTOUPDATE, bootstrap_objects};
pub use error::{Problem, RbacError};
pub use grade::{Allowed, Expect, RbacCheck, grade};
pub(crate) use grade::{entry_request, request_of, subject_of};
pub use model::{Note, RBAC_GROUP, Subject};
pub(crate) use only::lists;
pub use policy::{Decision, Grant, Policy};
pub use request::{Action, Request, ResourceRef, SA_PREFIX, implied_groups, service_account_of};
pub use risk::{Risk, RiskKind};
pub use rule::ALL;
pub use token::TokenCheck;
