//! `charter-audit verify`: is the evidence authentic, and what does it say? The flags and the
//! recipient's files are read here; `attest::accept` decides, `report::verify` words it.

use std::path::{Path, PathBuf};

use super::Outcome;
use crate::Error;
use crate::attest::accept::{self, Evidence, Request};
use crate::attest::keys::PublicKey;
use crate::attest::statement::Subject;
use crate::cli::{VerifyArgs, VerifyFormat};
use crate::model::verification::Verification;
use crate::report::{self, Output};

/// The most bytes a PEM key file may have (an RSA key of 16,384 bits is under 13 KiB).
const MAX_KEY_BYTES: u64 = 64 * 1024;

pub(super) fn run(args: &VerifyArgs) -> Result<Outcome, Error> {
    // The verifier's own inputs: any problem here is exit 2.
    let output = Output::parse(&args.output);
    report::check_destination(&output)?;
    if let Output::File(path) = &output {
        let mut inputs: Vec<(&'static str, &Path)> = Vec::new();
        inputs.extend(args.envelope.iter().map(|p| ("the evidence", p.as_path())));
        inputs.extend(args.bundle.iter().map(|p| ("the --bundle", p.as_path())));
        inputs.extend(args.key.iter().map(|p| ("a --key", p.as_path())));
        inputs.extend(args.subject.iter().map(|p| ("a --subject", p.as_path())));
        inputs.extend(args.sbom.iter().map(|p| ("the --sbom", p.as_path())));
        inputs.extend(
            args.cyclonedx
                .iter()
                .map(|p| ("the --cyclonedx", p.as_path())),
        );
        inputs.extend(args.vex.iter().map(|p| ("a --vex", p.as_path())));
        report::check_distinct(&[path.as_path()], &inputs)?;
    }
    let now = crate::time::evaluation_time(args.now.as_deref())?;
    if let Some(name) = &args.policy
        && crate::policy::builtin(name).is_none()
    {
        return Err(crate::policy::PolicyError::Unknown { name: name.clone() }.into());
    }
    let keys = read_keys(&args.key)?;
    if usize::from(args.threshold) > keys.len() {
        return Err(Error::Usage(format!(
            "--threshold {} is more than the {} distinct key(s) given with --key",
            args.threshold,
            keys.len()
        )));
    }
    // The recipient's own files are digested as they stream: an artifact of any size.
    let subjects: Vec<Subject> = args
        .subject
        .iter()
        .map(|p| digest(p, "--subject"))
        .collect::<Result<_, Error>>()?;
    let sbom = args
        .sbom
        .as_deref()
        .map(|p| digest(p, "--sbom"))
        .transpose()?;
    let cyclonedx = args
        .cyclonedx
        .as_deref()
        .map(|p| digest(p, "--cyclonedx"))
        .transpose()?;
    let vex: Vec<Subject> = args
        .vex
        .iter()
        .map(|p| digest(p, "--vex"))
        .collect::<Result<_, Error>>()?;
    let path = args
        .bundle
        .as_ref()
        .or(args.envelope.as_ref())
        .ok_or_else(|| Error::Usage("give an ENVELOPE or --bundle FILE".to_owned()))?;
    let name = path.display().to_string();
    let bytes = read_evidence(path, &name, accept::read_limit(args.bundle.is_some()))?;
    let evidence = if args.bundle.is_some() {
        Evidence::Bundle(&bytes)
    } else {
        Evidence::Envelope {
            name: &name,
            bytes: &bytes,
        }
    };
    let verification = accept::verify(
        evidence,
        &Request {
            keys: &keys,
            threshold: usize::from(args.threshold),
            subjects: &subjects,
            sbom: sbom.as_ref(),
            cyclonedx: cyclonedx.as_ref(),
            vex: &vex,
            policy: args.policy.as_deref(),
            max_age: args.max_age,
            accept_source: &args.accept_source,
            now,
        },
    );
    let mut verification = verification;
    let mut warnings = Vec::new();
    if let Verification::Authentic(authentic) = &mut verification {
        warnings = compare_binaries(args, &bytes, authentic)?;
    }
    let text = report::verify::render(&verification);
    let page = match args.format {
        VerifyFormat::Text => None,
        VerifyFormat::Html => Some(report::verify_html::render(&verification)),
    };
    // To a file: the page (or text) there, and the text verdict on standard output as ever.
    let (stdout, file) = match (&output, page) {
        (Output::Stdout, Some(page)) => (page, None),
        (Output::Stdout, None) => (text, None),
        (Output::File(_), Some(page)) => (text, Some(page)),
        (Output::File(_), None) => (text.clone(), Some(text)),
    };
    if let Some(bytes) = file {
        report::emit(&output, bytes.as_bytes())?;
    }
    if let Verification::NotAuthentic { .. } = verification {
        // The verdict stands even if it cannot be printed.
        let _ = report::emit(&Output::Stdout, stdout.as_bytes());
    } else {
        report::emit(&Output::Stdout, stdout.as_bytes())?;
    }
    Ok(Outcome {
        code: verification.code(),
        warnings,
        ..Outcome::default()
    })
}

/// Each `--subject` that carries a list embedded by `cargo auditable`, read here from the file
/// and compared with the attested SBOM (the `--sbom` checked against the attestation, or the
/// bundle's): whatever the attestation claims, a package compiled in that the SBOM does not
/// list makes the evidence not acceptable (exit 1).
fn compare_binaries(
    args: &VerifyArgs,
    evidence: &[u8],
    authentic: &mut crate::model::verification::Authentic,
) -> Result<Vec<String>, Error> {
    let (binaries, warnings) = super::attest::binaries_of(&args.subject)?;
    if binaries.is_empty() {
        return Ok(warnings);
    }
    let limit = crate::inventory::cyclonedx::MAX_BYTES;
    let sbom = match (&args.sbom, &args.bundle) {
        (Some(path), _) => crate::regular_file::read_named(path, limit)
            .map_err(|e| std::io::Error::other(e.to_string()))
            .map_err(Error::unreadable(format!("--sbom {}", path.display())))?,
        (None, Some(_)) => crate::attest::bundle::sbom_of(evidence, limit).ok_or_else(|| {
            Error::Usage("the bundle's sbom.cdx.json could not be read again".to_owned())
        })?,
        (None, None) => {
            return Err(Error::Usage(
                "a --subject carries the dependency list cargo auditable embeds: give the attested SBOM with --sbom FILE (or verify the --bundle) so that it is compared with the binary".to_owned(),
            ));
        }
    };
    for binary in &binaries {
        let compared = crate::inventory::binary_match::compare(binary, &sbom)
            .map_err(|e| Error::Usage(format!("the attested SBOM: {e}")))?;
        let hidden: Vec<String> = compared.hidden().cloned().collect();
        if !hidden.is_empty() {
            authentic
                .concerns
                .push(crate::model::verification::Concern::BinaryNotInSbom {
                    subject: compared.subject.clone(),
                    packages: hidden,
                });
        }
        authentic.binaries.push(compared);
    }
    Ok(warnings)
}

/// The recipient's trusted keys; a key given twice (or two copies of one) is one key: it cannot
/// make a threshold.
fn read_keys(paths: &[PathBuf]) -> Result<Vec<PublicKey>, Error> {
    let mut keys = Vec::new();
    for path in paths {
        let text = crate::regular_file::read_named_text(path, MAX_KEY_BYTES)
            .map_err(Error::unreadable(format!("--key {}", path.display())))?;
        let key = PublicKey::from_pem(&text, &format!("--key {}", path.display()))?;
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(keys)
}

fn digest(path: &Path, flag: &str) -> Result<Subject, Error> {
    Subject::of_file(&path.display().to_string(), path)
        .map_err(Error::unreadable(format!("{flag} {}", path.display())))
}

/// The evidence file, read through `limit` whatever it is (a pipe or a device has no length).
fn read_evidence(path: &Path, name: &str, limit: u64) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(Error::unreadable(name))?;
    let mut bytes = Vec::new();
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(Error::unreadable(name))?;
    Ok(bytes)
}
