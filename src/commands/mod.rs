//! The subcommands: each wires the stages together and returns an [`Outcome`]; none prints.

mod attest;
mod audit;
mod bundle;
mod keygen;
mod policy;
mod sbom;
mod verify;

use crate::Error;

use crate::cli::Command;
pub use attest::KEY_VARIABLE;

/// What a successful run ends with.
#[derive(Debug, Default)]
pub struct Outcome {
    /// 0 pass, 1 policy violated.
    pub code: u8,
    /// What the user should know (printed to standard error as `warning: ...`).
    pub warnings: Vec<String>,
    /// Something done, worth a line on standard error (`wrote charter-audit.toml`).
    pub notes: Vec<String>,
}

/// Runs one subcommand.
pub fn run(command: &Command) -> Result<Outcome, Error> {
    match command {
        Command::Sbom(args) => sbom::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Attest(args) => attest::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Keygen(args) => keygen::run(args),
        Command::Bundle(args) => bundle::run(args),
        Command::Policy(args) => policy::run(&args.action),
    }
}
