//! The errors that stop a run (exit code 2). Findings are never errors.

use crate::advisories::AdvisoryError;
use crate::inventory::InventoryError;
use crate::report::OutputError;
use crate::sbom::SbomError;
use crate::time::TimeError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    #[error(transparent)]
    Sbom(#[from] SbomError),
    #[error(transparent)]
    SbomInput(#[from] crate::sbom::input::InputError),
    #[error(transparent)]
    Time(#[from] TimeError),
    #[error(transparent)]
    Now(#[from] crate::time::NowError),
    #[error(transparent)]
    Advisories(#[from] AdvisoryError),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Policy(#[from] crate::policy::PolicyError),
    #[error("could not serialise the report: {0}")]
    Json(serde_json::Error),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("--report {}: {source}: give the report of `charter-audit audit --format json`", .path.display())]
    Report {
        path: std::path::PathBuf,
        #[source]
        source: crate::model::report::ReportError,
    },
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    #[error(transparent)]
    Http(#[from] crate::net::HttpError),
    #[error(transparent)]
    Key(#[from] crate::attest::keys::KeyError),
}

impl Error {
    /// True when the only problem was a closed standard output (`| head`): exit quietly with 0.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Output(e) if e.is_broken_pipe())
    }
}
