//! seclab: hands-on container and Kubernetes security labs, graded by pure
//! checkers (the `seclab-checkers` crate), offline first.
//!
//! Modules by concern:
//! - [`cli`]: the command line (clap types; their docs are the `--help`).
//! - [`commands`]: one function per command, printing and exit codes.
//! - [`lab`]: the lab format (`lab.yaml`), loading built-in and external
//!   labs, validation, templates and per-student flags.
//! - [`grade`]: grading a task from evidence (workspace objects, answers).
//! - [`labtest`]: `seclab test`, proving start fails, solution passes and
//!   wrong attempts fail.
//! - [`session`]: the student's operations (start, reset, grade and
//!   record, hints, answers), shared by the CLI and the TUI.
//! - [`progress`], [`config`]: the student's state on disk.
//! - [`doctor_cluster`]: `seclab doctor`'s kind, kubectl, trivy, disk,
//!   inotify and kubeconfig-context lines.
//! - [`shell`]: the thin layers that touch the world (workspace files,
//!   Docker, the kind CLI).
//! - [`yaml`]: YAML/JSON documents with field positions; [`answers`]:
//!   editing `answers.yaml` in place, comments kept.
//! - [`error`]: located input errors and exit codes.
//! - [`junit`]: JUnit XML reports.
//! - [`app`], [`ui`], [`runtime`]: the terminal UI (`seclab` with no
//!   arguments): model/update/effects, the panes, the tokio loop.

pub mod answers;
pub mod app;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod doctor_cluster;
pub mod error;
pub mod grade;
pub mod junit;
pub mod lab;
pub mod labtest;
pub mod live;
pub mod progress;
pub mod runtime;
pub mod session;
pub mod shell;
pub mod ui;
pub mod yaml;
