//! The `seclab` binary: parse the command line, run one command, exit with
//! its code (0 all good, 1 checks failed or findings, 2 usage or input
//! error). No logic lives here.

use std::process::ExitCode;

use clap::Parser as _;
use seclab::cli::Cli;
use seclab::error::EXIT_USAGE;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match seclab::commands::run(cli) {
        Ok(outcome) => outcome.into(),
        Err(e) => {
            // Located input errors read `path:line:col: what is wrong`, bare.
            match e.downcast_ref::<seclab::error::InputError>() {
                Some(located) => eprintln!("{located}"),
                None => eprintln!("error: {e:#}"),
            }
            ExitCode::from(EXIT_USAGE)
        }
    }
}
