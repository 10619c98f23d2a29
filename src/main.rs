//! The `seclab` binary: parse the command line, run one command, exit with
//! its code (0 all good, 1 checks failed or findings, 2 usage or input
//! error). No logic lives here.

use std::process::ExitCode;

use clap::Parser as _;
use seclab::cli::Cli;
use seclab::error::EXIT_USAGE;

/// Exit code when the reader of our output went away (`seclab list | head`),
/// as a shell reports a process ended by SIGPIPE.
const EXIT_BROKEN_PIPE: i32 = 141;

fn main() -> ExitCode {
    // `println!` panics when stdout is a closed pipe; that is not a bug to
    // report but the reader being done. Any other panic keeps the default
    // report (the TUI installs its own hook that restores the terminal).
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(EXIT_BROKEN_PIPE);
        }
        default_hook(info);
    }));
    let cli = Cli::parse();
    match seclab::commands::run(cli) {
        Ok(outcome) => outcome.into(),
        Err(e) => {
            // Located input errors read `path:line:col: what is wrong`, bare.
            match e.downcast_ref::<seclab::error::InputError>() {
                Some(located) => {
                    eprintln!("{located}");
                    if let Some(snippet) = located.snippet() {
                        eprint!("{snippet}");
                    }
                }
                None => eprintln!("error: {e:#}"),
            }
            ExitCode::from(EXIT_USAGE)
        }
    }
}
