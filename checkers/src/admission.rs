//! Admission policies as the API server runs them, offline: the
//! `ValidatingAdmissionPolicy` + binding of `admissionregistration.k8s.io`
//! (CEL, on `kube-cel`), evaluated for admission requests — which
//! validation admitted or rejected a request, with the message, the
//! warnings of a `Warn` binding, and why a request was skipped — and
//! Kyverno policies written with `validate.cel`, autogen included.

pub mod check;
pub mod eval;
pub mod expr;
pub mod kyverno;
pub mod policy;
pub mod request;
pub mod set;

pub use eval::{Decision, Failure, Outcome, Semantics, World, evaluate};
pub use kyverno::{KyvernoPolicy, is_kyverno_policy};
pub use policy::{Action, Binding, FailurePolicy, Vap, is_binding, is_policy};
pub use request::{Operation, Request, UserInfo};
pub use set::{Located, Origin, PolicySet};
