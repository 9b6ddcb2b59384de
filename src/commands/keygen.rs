//! `charter-audit keygen`: a new signing key pair.

use std::path::PathBuf;

use super::Outcome;
use crate::Error;
use crate::attest::keys::{Algorithm, PrivateKey};
use crate::cli::{AlgorithmArg, KeygenArgs};
use crate::report;

pub(super) fn run(args: &KeygenArgs) -> Result<Outcome, Error> {
    let algorithm = match args.algorithm {
        AlgorithmArg::Ed25519 => Algorithm::Ed25519,
        AlgorithmArg::EcdsaP256 => Algorithm::EcdsaP256,
    };
    // PREFIX names the pair's files: a folder (`keys/`, `.`, `..`) would make a hidden
    // `keys/.key` that no one looks for, so it is refused with the form to use.
    let prefix = std::path::Path::new(&args.out);
    // The last segment as written (Path drops a trailing `.`, which names the folder).
    let last = args
        .out
        .rsplit(['/', std::path::MAIN_SEPARATOR])
        .next()
        .unwrap_or_default();
    if matches!(last, "" | "." | "..") {
        let example = prefix.join("release-signing");
        return Err(Error::Usage(format!(
            "--out {}: names a folder, not a prefix for the two files: give one such as {} (writes {}.key and {}.pub)",
            crate::text::clean(&args.out),
            example.display(),
            example.display(),
            example.display()
        )));
    }
    let private_path = PathBuf::from(format!("{}.key", args.out));
    let public_path = PathBuf::from(format!("{}.pub", args.out));
    // Both are checked before either is written: a pair is made whole or not at all.
    for path in [&private_path, &public_path] {
        if std::fs::symlink_metadata(path).is_ok() {
            return Err(report::OutputError::Exists(path.clone()).into());
        }
        report::check_destination(&report::Output::File(path.clone()))?;
    }
    let key = PrivateKey::generate(algorithm);
    let private_pem = key.to_pem()?;
    let public = key.public();
    let public_pem = public.to_pem()?;
    let keyid = public.keyid()?;
    let fingerprint = public.fingerprint()?;
    report::create_new(&private_path, private_pem.as_bytes(), true)?;
    if let Err(error) = report::create_new(&public_path, public_pem.as_bytes(), false) {
        // Not half a pair.
        let _ = std::fs::remove_file(&private_path);
        return Err(error.into());
    }
    Ok(Outcome {
        notes: vec![format!(
            "wrote {} (secret: keep it out of the repository) and {} ({}, SHA-256 fingerprint {fingerprint}, key id {keyid})",
            private_path.display(),
            public_path.display(),
            algorithm.as_str()
        )],
        ..Outcome::default()
    })
}
