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
    SbomInput(#[from] crate::inventory::cyclonedx::InputError),
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
    /// A signing or public key that cannot be read, encoded or used to sign.
    #[error(transparent)]
    Key(#[from] crate::attest::keys::KeyError),
    /// A report and SBOM that cannot be attested.
    #[error(transparent)]
    Statement(#[from] crate::attest::statement::StatementError),
    /// A CycloneDX attestation that cannot be made.
    #[error(transparent)]
    Cdx(#[from] crate::attest::cdx::CdxError),
    /// The run's VEX documents that cannot be made.
    #[error(transparent)]
    VexOut(#[from] crate::report::vex::VexError),
    /// Evidence that is not packed into a bundle.
    #[error(transparent)]
    Bundle(#[from] crate::attest::bundle::MakeError),
    /// A file the user named that cannot be read: `what` names it as they gave it (with its
    /// flag).
    #[error("{what}: cannot read it: {source}")]
    Unreadable {
        what: String,
        source: std::io::Error,
    },
    /// A file of the evidence folder `bundle` packs that cannot be read.
    #[error(
        "{}: cannot read it ({source}): give the folder of `charter-audit audit --out-dir DIR --sign-key KEY`",
        .path.display()
    )]
    EvidenceFolder {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    /// True when the only problem was a closed standard output (`| head`): exit quietly with 0.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Output(e) if e.is_broken_pipe())
    }

    /// A file named by `what` (its flag and path, as the user gave them) that cannot be read.
    pub fn unreadable(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.into();
        move |source| Error::Unreadable { what, source }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;
    use crate::attest::bundle::MakeError;
    use crate::attest::keys::KeyError;
    use crate::attest::verify::NotAuthentic;

    #[test]
    fn key_signing_and_file_errors_reach_main_typed_with_their_cause() {
        let key = Error::from(KeyError::NotPublic {
            what: "--key k.pub".to_owned(),
        });
        assert!(matches!(key, Error::Key(KeyError::NotPublic { .. })));
        assert!(
            key.to_string()
                .starts_with("--key k.pub: not an SPKI PEM public key")
        );

        let unread = Error::unreadable("--key k.pub")(std::io::ErrorKind::NotFound.into());
        assert_eq!(
            unread.to_string(),
            "--key k.pub: cannot read it: entity not found"
        );
        assert!(
            unread
                .source()
                .is_some_and(|cause| cause.downcast_ref::<std::io::Error>().is_some())
        );

        let bundle = Error::from(MakeError::NotVerified {
            dir: "evidence".into(),
            key_path: "k.pub".into(),
            why: NotAuthentic::PayloadEncoding,
        });
        assert_eq!(
            bundle.to_string(),
            "evidence: the attestation does not verify with k.pub: the payload is not base64"
        );
        assert_eq!(
            bundle
                .source()
                .and_then(|cause| cause.downcast_ref::<NotAuthentic>()),
            Some(&NotAuthentic::PayloadEncoding)
        );
    }
}
