//! `charter-audit bundle`: one submission file of a release's evidence.

use std::path::Path;

use super::Outcome;
use crate::Error;
use crate::attest::bundle::{self, FILES};
use crate::attest::keys::PublicKey;
use crate::cli::BundleArgs;
use crate::report::{self, Output};

pub(super) fn run(args: &BundleArgs) -> Result<Outcome, Error> {
    let output = Output::File(args.output.clone());
    report::check_destination(&output)?;
    let dir = &args.out_dir;
    let key_path = args
        .key
        .clone()
        .unwrap_or_else(|| dir.join("signing-key.pub"));
    let key_pem = read(&key_path)?;
    let key = PublicKey::from_pem(
        &String::from_utf8_lossy(&key_pem),
        &key_path.display().to_string(),
    )?;
    let files = read_evidence(dir)?;
    let made = bundle::make(&bundle::Folder {
        dir,
        key_path: &key_path,
        key: &key,
        files: &files,
    })?;
    report::emit(&output, &made.bytes)?;
    Ok(Outcome {
        notes: vec![format!(
            "wrote {} ({} files; key fingerprint {}, key id {})",
            args.output.display(),
            made.entries,
            made.fingerprint,
            made.keyid
        )],
        ..Outcome::default()
    })
}

/// The files of the evidence folder a bundle holds (the README and the key are made anew).
fn read_evidence(dir: &Path) -> Result<Vec<(&'static str, Vec<u8>)>, Error> {
    let mut files = Vec::new();
    for name in &FILES[1..FILES.len() - 1] {
        // A report, CycloneDX attestation or VEX document is packed only if the attestation
        // records it (checked when packing).
        match read(&dir.join(name)) {
            Ok(bytes) => files.push((*name, bytes)),
            Err(_)
                if name.starts_with("report.")
                    || name.starts_with("vex.")
                    || *name == "attestation.cdx.json" => {}
            Err(error) => return Err(error),
        }
    }
    Ok(files)
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::EvidenceFolder {
        path: path.to_owned(),
        source,
    })
}
