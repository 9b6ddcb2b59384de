//! The `charter-audit` binary: parse arguments, run, map the result to an exit code.
#![forbid(unsafe_code)]
// The binary is the one place that prints (warnings and errors, to standard error).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use charter_audit::cli::{Cli, Command};
use charter_audit::text;

/// mimalloc instead of the system allocator: an audit makes and drops hundreds of thousands of
/// small strings and vectors (advisories, index versions, the SBOM's components), and glibc's
/// malloc, free and consolidation were about a tenth of a warm offline audit (`perf`); with
/// mimalloc a warm audit of nushell's lockfile took 250 M instructions instead of 280 M
/// (callgrind). Built without transparent huge pages (`no_thp`): with them the peak resident
/// memory was 48 MiB instead of 29 MiB.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        // A reader that stops early (`| head`) is no failure of a listing; but a report or a
        // verdict that was not read whole must never read as a pass, so everything else that
        // lost its output is exit 2.
        Err(error) if error.is_broken_pipe() && matches!(cli.command, Command::Policy(_)) => {
            ExitCode::SUCCESS
        }
        Err(error) if error.is_broken_pipe() => {
            say(
                "error: standard output was closed before the whole output was written; nothing was judged by its reader: write it to a file with -o or --out-dir",
            );
            ExitCode::from(2)
        }
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
