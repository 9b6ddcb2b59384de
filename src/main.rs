//! The `charter-audit` binary: parse arguments, run, map the result to an exit code.
#![forbid(unsafe_code)]
// The binary is the one place that prints (warnings and errors, to standard error).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use charter_audit::cli::Cli;
use charter_audit::text;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match charter_audit::commands::run(&cli.command) {
        Ok(outcome) => {
            for warning in &outcome.warnings {
                say(&text::for_log("warning: ", warning));
            }
            for note in &outcome.notes {
                say(&text::for_log("", note));
            }
            ExitCode::from(outcome.code)
        }
        Err(error) if error.is_broken_pipe() => ExitCode::SUCCESS,
        Err(error) => {
            say(&text::for_log("error: ", &error.to_string()));
            ExitCode::from(2)
        }
    }
}

/// One line to standard error. A closed standard error (`2>&1 | head`) loses the line, never
/// the exit code: `eprintln!` would panic with exit 101.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
