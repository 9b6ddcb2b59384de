//! Verifying an attestation, for the NHS organisation that receives it: the envelope, its
//! signatures by trusted keys, the statement, the artifacts and SBOM it names; then what it
//! says. Every failed check is a reason the evidence is not authentic; none is skipped.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::dsse::{self, Envelope, IN_TOTO};
use super::keys::PublicKey;
use super::predicate::{self, Predicate};
use super::statement::{PREDICATE_TYPE, STATEMENT_TYPE, Subject};

/// Limits on what is read, so that hostile evidence cannot exhaust the verifier.
pub const MAX_ENVELOPE_BYTES: u64 = 64 * 1024 * 1024;
pub const MAX_SIGNATURES: usize = 64;
pub const MAX_SUBJECTS: usize = 1_000;

/// Why the evidence is not authentic (exit 3).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotAuthentic {
    #[error("the statement's policy settings do not have the digest it records")]
    PolicyDigest,
    #[error("{0} is not a DSSE envelope: {1}")]
    NotAnEnvelope(String, String),
    #[error("the envelope is {0} bytes, more than the {MAX_ENVELOPE_BYTES} this verifier reads")]
    TooLarge(u64),
    #[error("the envelope has {0} signatures, more than the {MAX_SIGNATURES} this verifier reads")]
    TooManySignatures(usize),
    #[error("the payload type is `{0}`, not {IN_TOTO}")]
    PayloadType(String),
    #[error("the payload is not base64")]
    PayloadEncoding,
    #[error(
        "{signed} trusted key(s) signed it, {threshold} needed (signatures are checked against the given --key files; key ids are only hints)"
    )]
    Signatures { signed: usize, threshold: usize },
    #[error("the signed payload is not an in-toto statement: {0}")]
    NotAStatement(String),
    #[error("the statement's predicate type is `{0}`, not {PREDICATE_TYPE}")]
    PredicateType(String),
    #[error("the statement has {0} subjects, more than the {MAX_SUBJECTS} this verifier reads")]
    TooManySubjects(usize),
    #[error("{0}: its digest is not a subject of the attestation (a different artifact)")]
    SubjectMismatch(String),
    #[error("{0}: its digest is not the attested SBOM's")]
    SbomMismatch(String),
    #[error("{0}: its digest is not the CycloneDX attestation's the predicate records")]
    CyclonedxMismatch(String),
    #[error("{0}: the predicate records no CycloneDX attestation, so this one is not attested")]
    CyclonedxNotRecorded(String),
    #[error("{0}: its digest is none of the VEX documents' the predicate records")]
    VexMismatch(String),
    #[error("{0}: the predicate records no VEX document, so this one is not attested")]
    VexNotRecorded(String),
    #[error("the statement does not parse as our predicate: {0}")]
    Predicate(#[from] predicate::Invalid),
    #[error("the predicate contradicts itself, which an audit never writes: {0}")]
    Contradiction(#[from] super::consistency::Contradiction),
}

/// A verified attestation: who signed, and what it says.
#[derive(Debug)]
pub struct Verified {
    /// The statement's predicate, read as the types `attest` writes.
    pub predicate: Predicate,
    /// The key ids of the trusted keys that signed.
    pub signers: Vec<String>,
}

/// Checks an envelope: its form, payload type, signatures by at least `threshold` distinct
/// trusted keys, the statement and its predicate (schema and consistency), and that every
/// `subjects` file and the `sbom` are the ones attested (by their digests, so that artifacts
/// of any size are streamed, never held).
pub fn verify(
    name: &str,
    bytes: &[u8],
    keys: &[PublicKey],
    threshold: usize,
    subjects: &[Subject],
    sbom: Option<&Subject>,
) -> Result<Verified, NotAuthentic> {
    let (payload, signers) = open(name, bytes, keys, threshold)?;
    // Only now, signed, is the payload read: strictly, since a payload that two parsers read
    // differently (a key given twice) is not evidence.
    let statement: Value = strict_json(&payload).map_err(NotAuthentic::NotAStatement)?;
    let attested = statement_subjects(&statement)?;
    let predicate = read_predicate(&statement["predicate"])?;
    for file in subjects {
        if !attested.iter().any(|s| digest_names(&s["digest"], file)) {
            return Err(NotAuthentic::SubjectMismatch(file.name.clone()));
        }
    }
    if let Some(file) = sbom
        && !digest_is(&predicate.sbom.digest, file)
    {
        return Err(NotAuthentic::SbomMismatch(file.name.clone()));
    }
    let signers = signers
        .iter()
        .map(|k| k.keyid().unwrap_or_default())
        .collect();
    Ok(Verified { predicate, signers })
}

/// The envelope's payload, and the trusted keys that signed it (at least `threshold`).
fn open<'k>(
    name: &str,
    bytes: &[u8],
    keys: &'k [PublicKey],
    threshold: usize,
) -> Result<(Vec<u8>, Vec<&'k PublicKey>), NotAuthentic> {
    if bytes.len() as u64 > MAX_ENVELOPE_BYTES {
        return Err(NotAuthentic::TooLarge(bytes.len() as u64));
    }
    let envelope: Envelope = serde_json::from_slice(bytes)
        .map_err(|e| NotAuthentic::NotAnEnvelope(name.to_owned(), e.to_string()))?;
    if envelope.signatures.len() > MAX_SIGNATURES {
        return Err(NotAuthentic::TooManySignatures(envelope.signatures.len()));
    }
    if envelope.payload_type != IN_TOTO {
        return Err(NotAuthentic::PayloadType(crate::text::clean(
            &envelope.payload_type,
        )));
    }
    let payload = dsse::decode_base64(&envelope.payload).ok_or(NotAuthentic::PayloadEncoding)?;
    let signers = dsse::signers(&envelope, &payload, keys);
    if signers.len() < threshold.max(1) {
        return Err(NotAuthentic::Signatures {
            signed: signers.len(),
            threshold: threshold.max(1),
        });
    }
    Ok((payload, signers))
}

/// The statement's subject list, once its type, predicate type and bounds are ours.
fn statement_subjects(statement: &Value) -> Result<&Vec<Value>, NotAuthentic> {
    if statement["_type"] != STATEMENT_TYPE {
        return Err(NotAuthentic::NotAStatement(format!(
            "`_type` is not {STATEMENT_TYPE}"
        )));
    }
    if statement["predicateType"] != PREDICATE_TYPE {
        return Err(NotAuthentic::PredicateType(crate::text::clean(
            statement["predicateType"].as_str().unwrap_or("(none)"),
        )));
    }
    let attested = statement["subject"]
        .as_array()
        .ok_or_else(|| NotAuthentic::NotAStatement("no `subject` list".to_owned()))?;
    if attested.len() > MAX_SUBJECTS {
        return Err(NotAuthentic::TooManySubjects(attested.len()));
    }
    if !statement["predicate"].is_object() {
        return Err(NotAuthentic::NotAStatement("no `predicate`".to_owned()));
    }
    Ok(attested)
}

/// The predicate as the types `attest` writes: its settings the ones its digest names (checked
/// on the bytes as signed), then the schema, then its consistency.
fn read_predicate(value: &Value) -> Result<Predicate, NotAuthentic> {
    let policy = &value["policy"];
    let digest = serde_json::to_vec(&policy["settings"])
        .map(|json| format!("sha256:{}", hex::encode(Sha256::digest(&json))))
        .unwrap_or_default();
    if !policy["settings"].is_object() || policy["digest"] != digest.as_str() {
        return Err(NotAuthentic::PolicyDigest);
    }
    // What it says must be our predicate, as `attest` writes it, and agree with itself.
    let predicate = predicate::read(value)?;
    super::consistency::check(&predicate)?;
    Ok(predicate)
}

pub use crate::json::strict as strict_json;

/// Whether an in-toto digest set names the file whose digests are `file`'s: every algorithm it
/// gives that this verifier knows matches, and it gives at least one.
pub(crate) fn digest_names(digest: &Value, file: &Subject) -> bool {
    let mut known = 0;
    for (algorithm, expected) in [("sha256", &file.sha256), ("sha512", &file.sha512)] {
        match digest.get(algorithm).and_then(Value::as_str) {
            Some(value) if value.eq_ignore_ascii_case(expected) => known += 1,
            Some(_) => return false,
            None => {}
        }
    }
    known > 0
}

/// Whether `file` is the CycloneDX attestation the predicate records.
pub fn check_cyclonedx(predicate: &Predicate, file: &Subject) -> Result<(), NotAuthentic> {
    match &predicate.cyclonedx_attestation {
        None => Err(NotAuthentic::CyclonedxNotRecorded(file.name.clone())),
        Some(recorded) if !digest_is(&recorded.digest, file) => {
            Err(NotAuthentic::CyclonedxMismatch(file.name.clone()))
        }
        Some(_) => Ok(()),
    }
}

/// Whether `file` is one of the VEX documents the predicate records (by digest: the recipient
/// may have renamed it).
pub fn check_vex(predicate: &Predicate, file: &Subject) -> Result<(), NotAuthentic> {
    if predicate.vex_outputs.is_empty() {
        return Err(NotAuthentic::VexNotRecorded(file.name.clone()));
    }
    if predicate
        .vex_outputs
        .iter()
        .any(|recorded| digest_is(&recorded.digest, file))
    {
        Ok(())
    } else {
        Err(NotAuthentic::VexMismatch(file.name.clone()))
    }
}

/// Whether a digest our predicate records (both algorithms, as its schema requires) is the
/// file's.
pub(crate) fn digest_is(digest: &predicate::Digest, file: &Subject) -> bool {
    digest_matches(digest, &file.sha256, &file.sha512)
}

/// Whether a digest our predicate records is of the bytes whose digests are `sha256` and
/// `sha512`.
pub(crate) fn digest_matches(digest: &predicate::Digest, sha256: &str, sha512: &str) -> bool {
    digest.sha256.eq_ignore_ascii_case(sha256) && digest.sha512.eq_ignore_ascii_case(sha512)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_given_twice_is_refused() {
        assert!(strict_json(br#"{"result":"fail","result":"pass"}"#).is_err());
        assert!(strict_json(br#"{"a":{"b":1,"b":2}}"#).is_err());
        assert_eq!(
            strict_json(br#"{"a":[1,{"b":null}],"c":"d"}"#).unwrap(),
            serde_json::json!({"a":[1,{"b":null}],"c":"d"})
        );
        assert!(strict_json(br#"{"a":1} trailing"#).is_err());
    }
}
