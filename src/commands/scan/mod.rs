//! `seclab scan ...`: analyses of manifests named on the command line,
//! outside any lab; one submodule per analysis.

pub mod netpol;

use crate::cli::ScanCommand;
use crate::error::Outcome;

/// Runs one `scan` subcommand.
pub fn run(command: &ScanCommand) -> anyhow::Result<Outcome> {
    match command {
        ScanCommand::Netpol(args) => netpol::run(args),
    }
}
