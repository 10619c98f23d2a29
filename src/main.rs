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
                    if let Some(snippet) = snippet(located) {
                        eprint!("{snippet}");
                    }
                }
                None => eprintln!("error: {e:#}"),
            }
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// The offending line of a located error with a caret under the column,
/// when the file can be read here (built-in labs are embedded, so their
/// files may not be on disk).
fn snippet(e: &seclab::error::InputError) -> Option<String> {
    let (line, col) = (e.line?, e.col?);
    let text = std::fs::read_to_string(&e.path).ok()?;
    let src = text.lines().nth(line.checked_sub(1)?)?;
    let gutter = line.to_string();
    let pad = " ".repeat(gutter.len());
    let caret = " ".repeat(col.saturating_sub(1));
    Some(format!("{pad} |\n{gutter} | {src}\n{pad} | {caret}^\n"))
}
