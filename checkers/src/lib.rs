//! `seclab-checkers`: the pure graders behind seclab.
//!
//! Kubernetes objects, reports and answers go in; a [`Verdict`] with
//! [`Finding`]s comes out. Nothing in this crate does I/O, spawns tasks,
//! reads a clock or draws random numbers, so every grader is a plain
//! function that a test can call with a YAML literal.
//!
//! Modules by concern:
//! - [`verdict`]: `Verdict`, `Finding`, `Status` — what every grader returns.
//! - [`object`]: `KubeObject` (a parsed manifest document and where it came
//!   from) and the pod-template extraction shared by the workload graders.
//! - [`target`]: `kind/name` targets as lab authors write them.
//! - [`container`]: how a container runs on Docker (Compose offline, inspect
//!   live), capabilities, and the `container`/`probe`/`drift` graders.
//! - [`image`]: facts about an image seclab built (id, user, layers).
//! - [`fields`]: typed field checks (unknown fields, wrong types) against
//!   the k8s-openapi types, as `kubectl apply` validates.
//! - [`pss`]: Pod Security Standards, exact to the upstream admission library.
//! - [`netpol`]: NetworkPolicy reachability.
//! - [`rbac`]: RBAC authorization questions over Role/Binding objects.
//! - [`runs`]: would a pod start and run, given facts about its images.
//! - [`secret_file`]: a Secret read from a mounted file, not the environment.
//! - [`supply`]: the `images_pinned` check (images pinned by digest).
//! - [`manifest`], [`quiz`], [`flag`]: field assertions, questions, flags.
//! - [`trivy`]: trivy's JSON report, its summary, and the `trivy_report`
//!   and `report_question` graders.
//! - [`cluster`]: facts gathered from a live cluster (`ClusterFacts`), what
//!   to ask it before grading (admission trials, connection probes,
//!   SubjectAccessReviews), and the settle grader.
//! - [`audit`]: audit policies (`audit.k8s.io/v1`): which level and stages
//!   the API server records for a request, exact to upstream.
//! - [`registry`]: `CheckSpec` (every checker a lab can name), the
//!   evidence each needs, and grading one check.

pub mod admission;
pub mod audit;
pub mod cluster;
pub mod container;
pub mod dockerfile;
pub mod fields;
pub mod flag;
pub mod image;
pub mod manifest;
pub mod netpol;
pub mod object;
pub mod pss;
pub mod quiz;
pub mod rbac;
pub mod registry;
pub mod runs;
pub mod secret_file;
pub mod secrets_at_rest;
pub mod supply;
pub mod target;
pub mod trivy;
pub mod verdict;

pub use object::{KubeObject, TextFile};
pub use registry::{CheckSpec, Evidence, Need, Reads};
pub use target::Target;
pub use verdict::{Finding, Severity, Status, Verdict};
