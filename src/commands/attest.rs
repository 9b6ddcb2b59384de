//! `charter-audit attest`: the in-toto statements of an audit, signed as DSSE envelopes.

use std::path::Path;

use super::Outcome;
use crate::Error;
use crate::attest::dsse::{self, IN_TOTO};
use crate::attest::keys::PrivateKey;
use crate::attest::statement::{self, Inputs, Subject};
use crate::cli::{AttestArgs, SigningArgs};
use crate::model::report::Report;
use crate::report::{self, Output};

pub use crate::process::KEY_VARIABLE;

/// What signing makes: our envelope (or, unsigned, our statement) and the JSON Lines file of
/// all three.
#[derive(Debug)]
pub(super) struct Signed {
    pub main: Vec<u8>,
    pub jsonl: Vec<u8>,
}

/// The key `--sign-key` or CHARTER_AUDIT_SIGNING_KEY gives, if any; `--unsigned` gives none.
pub(super) fn signing_key(args: &SigningArgs) -> Result<Option<PrivateKey>, Error> {
    if args.unsigned {
        return Ok(None);
    }
    if let Some(path) = &args.sign_key {
        let text = crate::regular_file::read_named_text(path, MAX_KEY_BYTES)
            .map_err(Error::unreadable(format!("--sign-key {}", path.display())))?;
        let text = zeroize::Zeroizing::new(text);
        return Ok(Some(PrivateKey::from_pem(
            &text,
            &format!("--sign-key {}", path.display()),
        )?));
    }
    match std::env::var(KEY_VARIABLE) {
        Ok(text) if !text.trim().is_empty() => {
            let text = zeroize::Zeroizing::new(text);
            Ok(Some(PrivateKey::from_pem(&text, KEY_VARIABLE)?))
        }
        _ => Ok(None),
    }
}

/// The lists `cargo auditable` embedded in the release artifacts that carry one, read from them,
/// and a warning for each executable too large to read (it is digested, not compared).
pub(super) fn binaries_of(
    paths: &[std::path::PathBuf],
) -> Result<(Vec<crate::inventory::binary::Embedded>, Vec<String>), Error> {
    use crate::inventory::binary::{self, BinaryError};
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for path in paths {
        match binary::read_subject(path) {
            Ok(Some(embedded)) => out.push(embedded),
            Ok(None) => {}
            Err(error @ BinaryError::TooLarge { .. }) => warnings.push(format!(
                "{error}: its embedded dependency list was not compared with the SBOM"
            )),
            Err(other) => return Err(Error::Inventory(other.into())),
        }
    }
    Ok((out, warnings))
}

/// The release artifacts' digests. At most one fewer than a verifier reads
/// ([`crate::attest::verify::MAX_SUBJECTS`]): the main statement names the SBOM too, and an
/// attestation its own verifier would refuse is never signed.
pub(super) fn subjects(paths: &[std::path::PathBuf]) -> Result<Vec<Subject>, Error> {
    let most = crate::attest::verify::MAX_SUBJECTS - 1;
    if paths.len() > most {
        return Err(Error::Usage(format!(
            "--subject is given {} times, more than the {most} artifacts an attestation holds (with the SBOM, the {} subjects a verifier reads): attest an archive or a checksum file of the artifacts instead",
            paths.len(),
            crate::attest::verify::MAX_SUBJECTS
        )));
    }
    paths
        .iter()
        .map(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string());
            // Streamed: an artifact larger than memory is digested all the same.
            Subject::of_file(&name, path)
                .map_err(Error::unreadable(format!("--subject {}", path.display())))
        })
        .collect()
}

/// Makes the statements and signs them with `key` (or leaves them unsigned).
pub(super) fn sign(
    inputs: &Inputs<'_>,
    report_name: &str,
    key: Option<&PrivateKey>,
) -> Result<Signed, Error> {
    let statements = statement::statements(inputs, report_name)?;
    let mut jsonl = Vec::new();
    let mut main = Vec::new();
    for (index, statement) in statements.iter().enumerate() {
        let payload = serde_json::to_vec(statement).map_err(Error::Json)?;
        let line = match key {
            Some(key) => {
                let envelope = dsse::sign(&payload, IN_TOTO, key)?;
                if index == 0 {
                    main = serde_json::to_vec_pretty(&envelope).map_err(Error::Json)?;
                    main.push(b'\n');
                }
                serde_json::to_vec(&envelope).map_err(Error::Json)?
            }
            None => {
                if index == 0 {
                    main = serde_json::to_vec_pretty(statement).map_err(Error::Json)?;
                    main.push(b'\n');
                }
                payload
            }
        };
        jsonl.extend_from_slice(&line);
        jsonl.push(b'\n');
    }
    Ok(Signed { main, jsonl })
}

/// The most bytes a PEM key file may have (an RSA key of 16,384 bits is under 13 KiB).
const MAX_KEY_BYTES: u64 = 64 * 1024;

pub(super) fn run(args: &AttestArgs) -> Result<Outcome, Error> {
    let output = Output::parse(&args.output);
    report::check_destination(&output)?;
    for path in args.jsonl.iter().chain(&args.cyclonedx) {
        report::check_destination(&Output::File(path.clone()))?;
    }
    let mut outputs: Vec<&Path> = args
        .jsonl
        .iter()
        .chain(&args.cyclonedx)
        .map(|p| p.as_path())
        .collect();
    if let Output::File(path) = &output {
        outputs.push(path);
    }
    let mut inputs: Vec<(&'static str, &Path)> =
        vec![("the --report", &args.report), ("the --sbom", &args.sbom)];
    inputs.extend(
        args.signing
            .subject
            .iter()
            .map(|s| ("a --subject", s.as_path())),
    );
    report::check_distinct(&outputs, &inputs)?;
    let key = signing_key(&args.signing)?;
    if key.is_none() && !args.signing.unsigned {
        return Err(Error::Usage(format!(
            "no signing key: pass --sign-key FILE (from `charter-audit keygen`), set {KEY_VARIABLE} to the key's PEM text, or pass --unsigned for keyless signing with actions/attest"
        )));
    }
    let report_bytes = read(&args.report, "--report")?;
    let report = Report::from_json(&report_bytes).map_err(|source| Error::Report {
        path: args.report.clone(),
        source,
    })?;
    let sbom = read(&args.sbom, "--sbom")?;
    let sbom_name = file_name(&args.sbom);
    let subjects = subjects(&args.signing.subject)?;
    // Each subject that carries cargo auditable's list, compared with the SBOM: one that holds
    // a package the SBOM does not list is not attested (exit 1), the differences said.
    let mut binaries = Vec::new();
    let (embedded_lists, mut lines) = binaries_of(&args.signing.subject)?;
    for embedded in embedded_lists {
        binaries.push(
            crate::inventory::binary_match::compare(&embedded, &sbom)
                .map_err(|e| Error::Usage(format!("--sbom {}: {e}", args.sbom.display())))?,
        );
    }
    lines.extend(binaries.iter().flat_map(|b| b.lines()));
    if binaries.iter().any(|b| b.hidden().next().is_some()) {
        let mut warnings = lines;
        warnings.push(format!(
            "not attested: a --subject holds packages {} does not list (sbom-binary-match); make the SBOM of what was built, or pass the binary the SBOM describes",
            args.sbom.display()
        ));
        return Ok(Outcome {
            code: 1,
            warnings,
            ..Outcome::default()
        });
    }
    // The statement, as the recipient receives it, is what the affirmation points at.
    let statement_name = match &output {
        Output::File(path) => file_name(path),
        Output::Stdout => "attestation.intoto.json".to_owned(),
    };
    let cyclonedx = match &args.cyclonedx {
        Some(path) => Some((
            path,
            crate::attest::cdx::of_run(&crate::attest::cdx::Run {
                report: &report,
                sbom_name: &sbom_name,
                sbom: &sbom,
                artifacts: !subjects.is_empty(),
                signed: key.is_some(),
                statement: Some(&statement_name),
            })?,
        )),
        None => None,
    };
    let inputs = Inputs {
        report: &report,
        sbom_name: &sbom_name,
        sbom: &sbom,
        subjects,
        signed: key.is_some(),
        reports: vec![Subject::of("report.json", &report_bytes)],
        cyclonedx: cyclonedx
            .as_ref()
            .map(|(path, bytes)| Subject::of(&file_name(path), bytes)),
        // `attest` makes its statements from a report alone: the VEX documents are the run's.
        vex: Vec::new(),
        binaries,
    };
    let signed = sign(&inputs, &args.report.display().to_string(), key.as_ref())?;
    if let Some(path) = &args.jsonl {
        report::emit(&Output::File(path.clone()), &signed.jsonl)?;
    }
    if let Some((path, bytes)) = &cyclonedx {
        report::emit(&Output::File((*path).clone()), bytes)?;
    }
    report::emit(&output, &signed.main)?;
    Ok(Outcome {
        warnings: lines,
        ..Outcome::default()
    })
}

/// Reads a file the user names, up to the size a supplier's SBOM may have: `/dev/zero` or a
/// runaway file is refused, never read until memory runs out.
fn read(path: &Path, flag: &str) -> Result<Vec<u8>, Error> {
    // A regular file (through a link) of at most the limit: a FIFO or device is refused, never
    // waited on.
    crate::regular_file::read_named(path, crate::inventory::cyclonedx::MAX_BYTES)
        .map_err(|e| std::io::Error::other(e.to_string()))
        .map_err(Error::unreadable(format!("{flag} {}", path.display())))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
