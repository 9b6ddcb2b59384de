//! `charter-audit bundle`: one submission file of a release's evidence.

use super::Outcome;
use crate::Error;
use crate::attest::bundle::{self, FILES};
use crate::attest::keys::PublicKey;
use crate::attest::verify;
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
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|e| {
            Error::Usage(format!(
                "{}: cannot read it ({e}): give the folder of `charter-audit audit --out-dir DIR --sign-key KEY`",
                path.display()
            ))
        })
    };
    let key_pem = read(&key_path)?;
    let key = PublicKey::from_pem(
        &String::from_utf8_lossy(&key_pem),
        &key_path.display().to_string(),
    )
    .map_err(|e| Error::Usage(e.to_string()))?;
    let mut files: Vec<(&str, Vec<u8>)> = Vec::new();
    for name in &FILES[1..FILES.len() - 1] {
        // A report is packed only if the attestation records it (checked below).
        match read(&dir.join(name)) {
            Ok(bytes) => files.push((name, bytes)),
            Err(_) if name.starts_with("report.") => {}
            Err(error) => return Err(error),
        }
    }
    let file = |name: &str| {
        files
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| b.as_slice())
            .unwrap_or_default()
    };
    // Never pack evidence that does not verify with the key packed beside it.
    let verified = verify::verify(
        "attestation.intoto.json",
        file("attestation.intoto.json"),
        std::slice::from_ref(&key),
        1,
        &[],
        Some(&crate::attest::statement::Subject::of(
            "sbom.cdx.json",
            file("sbom.cdx.json"),
        )),
    )
    .map_err(|why| {
        Error::Usage(format!(
            "{}: the attestation does not verify with {}: {why}",
            dir.display(),
            key_path.display()
        ))
    })?;
    let predicate = &verified.statement["predicate"];
    let keyid = key.keyid().map_err(|e| Error::Usage(e.to_string()))?;
    let fingerprint = key.fingerprint().map_err(|e| Error::Usage(e.to_string()))?;
    let readme = bundle::readme(&bundle::product_of(predicate), &keyid, &fingerprint);
    // Only the reports the attestation records go in (`attest` records report.json alone).
    let recorded: Vec<String> = predicate["reports"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["name"].as_str().map(str::to_owned))
        .collect();
    let mut entries: Vec<(&str, &[u8])> = vec![("README.txt", readme.as_bytes())];
    entries.extend(
        files
            .iter()
            .filter(|(n, _)| !n.starts_with("report.") || recorded.iter().any(|r| r == n))
            .map(|(n, b)| (*n, b.as_slice())),
    );
    // The key as charter-audit writes it, whatever else its file held.
    let canonical_pem = key.to_pem().map_err(|e| Error::Usage(e.to_string()))?;
    entries.push(("signing-key.pub", canonical_pem.as_bytes()));
    // Entry times are the evaluation time: the same evidence packs to the same bytes.
    let mtime = bundle::mtime_of(predicate);
    let bytes = bundle::pack(&entries, mtime).map_err(|e| Error::Usage(e.to_string()))?;
    // Never write a bundle that would not verify: the same check the recipient runs.
    bundle::check(&bytes, std::slice::from_ref(&key), 1, &[]).map_err(|why| {
        Error::Usage(format!(
            "{}: the evidence is not consistent, so it is not packed: {why}; run the audit again with --out-dir",
            dir.display()
        ))
    })?;
    report::emit(&output, &bytes)?;
    Ok(Outcome {
        notes: vec![format!(
            "wrote {} ({} files; key fingerprint {fingerprint}, key id {keyid})",
            args.output.display(),
            entries.len()
        )],
        ..Outcome::default()
    })
}
