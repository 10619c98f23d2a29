//! `seclab scan ...`: scanners over manifests named on the command line;
//! no lab and no workspace needed. One file per scanner; this module only
//! dispatches.

pub mod rbac;

use crate::cli::ScanCommand;
use crate::error::Outcome;

/// Runs one scanner.
pub fn run(command: &ScanCommand) -> anyhow::Result<Outcome> {
    match command {
        ScanCommand::Rbac(args) => rbac::run(args),
    }
}
