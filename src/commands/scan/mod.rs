//! `seclab scan <what> PATH...`: scanners over manifests named on the
//! command line; no lab and no workspace needed. One module per scanner;
//! this file only dispatches.

pub mod admission;
pub mod audit;
pub mod audit_policy;
pub mod dockerfile;
pub mod image;
pub mod netpol;
pub mod pss;
pub mod rbac;
pub mod trivy;

use crate::cli::ScanCommand;
use crate::error::Outcome;

/// Runs one scanner.
pub fn run(command: &ScanCommand) -> anyhow::Result<Outcome> {
    match command {
        ScanCommand::Rbac(args) => rbac::run(args),
        ScanCommand::Pss(args) => pss::run(args),
        ScanCommand::Netpol(args) => netpol::run(args),
        ScanCommand::Trivy(args) => trivy::run(args),
        ScanCommand::Dockerfile(args) => dockerfile::run(args),
        ScanCommand::Image(args) => image::run(args),
        ScanCommand::AuditPolicy(args) => audit_policy::run(args),
        ScanCommand::Admission(args) => admission::run(args),
        ScanCommand::Audit(args) => audit::run(args),
    }
}
