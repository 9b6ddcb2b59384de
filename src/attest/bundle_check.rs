//! What each file of a bundle must be, checked as it streams out of the archive: only the
//! README, the key, the attestation, one line of the JSON Lines file and the SBOM are held while
//! they are checked (each bounded); reports are hashed as they pass, never held.
//!
//! Every file must be byte for byte what `charter-audit` writes for it. The envelopes are
//! re-serialised and compared, since DSSE tells verifiers to ignore fields they do not know: a
//! field, a space or an escape `charter-audit` would not write could carry what no signature
//! covers (HTML, for a person who opens the file).

use std::io::{BufRead, BufReader, Read};

use base64::Engine;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256, Sha512};

use super::bundle::{BundleError, Checked, Refused, mtime_of, product_of, readme};
use super::dsse::{self, Envelope, IN_TOTO};
use super::keys::PublicKey;
use super::predicate;
use super::statement::Subject;
use super::statement::{CYCLONEDX_TYPE, STATEMENT_TYPE, VULNS_TYPE};
use super::verify::{self, NotAuthentic, Verified};
use crate::model::verification::BundleKey;

/// The longest key id a signature in a bundle may give, of ASCII letters, digits and `._:-`.
pub const MAX_KEYID: usize = 128;
const JSONL: &str = "attestations.intoto.jsonl";
/// The one name under which a bundle carries (and must carry) a CycloneDX attestation.
pub(super) const CYCLONEDX: &str = "attestation.cdx.json";
/// The names under which a bundle carries the run's VEX documents.
const VEX_OPENVEX: &str = "vex.openvex.json";
const VEX_CYCLONEDX: &str = "vex.cdx.json";
pub(super) const VEX: [&str; 2] = [VEX_OPENVEX, VEX_CYCLONEDX];

/// The verified attestation, and what of it the later files are checked against.
#[derive(Debug)]
struct Attestation {
    verified: Verified,
    envelope: Envelope,
    payload: Vec<u8>,
}

/// The state of a bundle's check, file by file.
#[derive(Debug)]
pub(super) struct Contents<'k, 's> {
    keys: &'k [PublicKey],
    threshold: usize,
    subjects: &'s [Subject],
    readme: Option<Vec<u8>>,
    attestation: Option<Attestation>,
    /// The SBOM statement of the JSON Lines: SHA-256 of its predicate serialised (keys sorted),
    /// and its subject.
    sbom_statement: Option<([u8; 32], Value)>,
    reports: Vec<&'static str>,
    key: Option<PublicKey>,
}

impl<'k, 's> Contents<'k, 's> {
    pub(super) fn new(
        keys: &'k [PublicKey],
        threshold: usize,
        subjects: &'s [Subject],
    ) -> Contents<'k, 's> {
        Contents {
            keys,
            threshold: threshold.max(1),
            subjects,
            readme: None,
            attestation: None,
            sbom_statement: None,
            reports: Vec::new(),
            key: None,
        }
    }

    fn attestation(&self) -> Result<&Attestation, Refused> {
        self.attestation
            .as_ref()
            .ok_or_else(|| BundleError::Missing("attestation.intoto.json".to_owned()).into())
    }

    /// Judges a file by its name, before its content is read: a report must be one the
    /// attestation (read before it) records.
    pub(super) fn admit(&self, name: &str) -> Result<(), Refused> {
        if (name.starts_with("report.") || name.starts_with("vex.") || name == CYCLONEDX)
            && recorded(self.attestation()?, name).is_none()
        {
            return Err(Refused::Tampered(format!(
                "{name} is not one the attestation records"
            )));
        }
        Ok(())
    }

    /// Reads and checks one file from `reader`, which ends where the file does.
    pub(super) fn read(
        &mut self,
        name: &'static str,
        reader: &mut impl Read,
    ) -> Result<(), Refused> {
        match name {
            "README.txt" => self.readme = Some(read_all(reader)?),
            "attestation.intoto.json" => {
                let bytes = read_all(reader)?;
                let (envelope, payload) = canonical_envelope(name, &bytes, true)?;
                let verified =
                    verify::verify(name, &bytes, self.keys, self.threshold, self.subjects, None)?;
                self.attestation = Some(Attestation {
                    verified,
                    envelope,
                    payload,
                });
            }
            JSONL => self.lines(reader)?,
            "sbom.cdx.json" => self.sbom(reader)?,
            "report.json" | "report.html" | CYCLONEDX | VEX_OPENVEX | VEX_CYCLONEDX => {
                let mut hashing = Hashing::new(reader);
                std::io::copy(&mut hashing, &mut std::io::sink()).map_err(io)?;
                let (sha256, sha512) = hashing.hex();
                let attestation = self.attestation()?;
                if !recorded(attestation, name)
                    .is_some_and(|digest| verify::digest_matches(digest, &sha256, &sha512))
                {
                    return Err(Refused::Tampered(format!("{name} is not the one attested")));
                }
                self.reports.push(name);
            }
            "signing-key.pub" => {
                let bytes = read_all(reader)?;
                let not_key =
                    || Refused::Tampered("signing-key.pub is not a public key".to_owned());
                let text = std::str::from_utf8(&bytes).map_err(|_| not_key())?;
                let key = PublicKey::from_pem(text, name).map_err(|_| not_key())?;
                if key.to_pem().ok().as_deref() != Some(text) {
                    return Err(Refused::Tampered(
                        "signing-key.pub is not the PEM charter-audit writes for its key"
                            .to_owned(),
                    ));
                }
                self.key = Some(key);
            }
            _ => return Err(BundleError::Unexpected(name.to_owned()).into()),
        }
        Ok(())
    }

    /// The JSON Lines file, line by line: only the bytes its compact envelopes are made of,
    /// refused at the first other byte; three lines, each a canonical envelope signed by the
    /// trusted keys: this attestation, then the SBOM and the findings of the same run.
    fn lines(&mut self, reader: &mut impl Read) -> Result<(), Refused> {
        let not_same_run = || {
            Refused::Tampered(format!(
                "{JSONL} is not the statements of this attestation's run"
            ))
        };
        let mut reader = BufReader::with_capacity(64 * 1024, reader);
        let mut line = Vec::new();
        let mut index = 0;
        loop {
            let buf = reader.fill_buf().map_err(io)?;
            if buf.is_empty() {
                break;
            }
            let end = buf.iter().position(|b| *b == b'\n');
            let chunk = &buf[..end.unwrap_or(buf.len())];
            if !chunk.iter().all(|b| envelope_byte(*b)) {
                return Err(Refused::Tampered(format!(
                    "{JSONL} holds bytes charter-audit never writes in it"
                )));
            }
            line.extend_from_slice(chunk);
            let used = chunk.len() + usize::from(end.is_some());
            reader.consume(used);
            if end.is_some() {
                if index >= 3 {
                    return Err(not_same_run());
                }
                self.line(index, &line)?;
                index += 1;
                line.clear();
            }
        }
        if !line.is_empty() || index != 3 {
            return Err(not_same_run());
        }
        Ok(())
    }

    fn line(&mut self, index: usize, bytes: &[u8]) -> Result<(), Refused> {
        let not_same_run = || {
            Refused::Tampered(format!(
                "{JSONL} is not the statements of this attestation's run"
            ))
        };
        let (envelope, payload) = canonical_envelope(JSONL, bytes, false)?;
        let attestation = self.attestation()?;
        if index == 0 {
            // The attestation itself, signatures and all.
            return if envelope == attestation.envelope {
                Ok(())
            } else {
                Err(not_same_run())
            };
        }
        let signed = dsse::signers(&envelope, &payload, self.keys).len() >= self.threshold;
        let statement = (envelope.payload_type == IN_TOTO && signed)
            .then(|| verify::strict_json(&payload).ok())
            .flatten()
            .ok_or_else(|| {
                Refused::Tampered(format!(
                    "{JSONL} holds a line that is not a statement signed by the trusted key(s)"
                ))
            })?;
        if statement["_type"] != STATEMENT_TYPE {
            return Err(not_same_run());
        }
        if index == 1 && statement["predicateType"] == CYCLONEDX_TYPE {
            let predicate =
                serde_json::to_vec(&statement["predicate"]).map_err(|_| not_same_run())?;
            self.sbom_statement = Some((
                Sha256::digest(&predicate).into(),
                statement["subject"].clone(),
            ));
            return Ok(());
        }
        let evaluated_at = &attestation.verified.predicate.evaluated_at;
        let same = index == 2
            && statement["predicateType"] == VULNS_TYPE
            && statement["predicate"]["metadata"]["scanFinishedOn"].as_str()
                == Some(evaluated_at.as_str())
            && self
                .sbom_statement
                .as_ref()
                .is_some_and(|(_, subject)| *subject == statement["subject"]);
        if same { Ok(()) } else { Err(not_same_run()) }
    }

    /// The SBOM: parsed as it streams (so junk is refused at its first byte), its digest the
    /// attested one, and the same document as the JSON Lines' SBOM statement.
    fn sbom(&mut self, reader: &mut impl Read) -> Result<(), Refused> {
        let name = "sbom.cdx.json";
        let mut hashing = Hashing::new(reader);
        let value = {
            let mut de = serde_json::Deserializer::from_reader(BufReader::new(&mut hashing));
            let value = Value::deserialize(&mut de).and_then(|v| de.end().map(|()| v));
            value.map_err(|e| Refused::Tampered(format!("{name} is not JSON: {e}")))?
        };
        let (sha256, sha512) = hashing.hex();
        let attestation = self.attestation()?;
        let digest = &attestation.verified.predicate.sbom.digest;
        if !verify::digest_matches(digest, &sha256, &sha512) {
            return Err(NotAuthentic::SbomMismatch(name.to_owned()).into());
        }
        let canonical = serde_json::to_vec(&value).map_err(|e| Refused::Tampered(e.to_string()))?;
        let digest: [u8; 32] = Sha256::digest(&canonical).into();
        if self.sbom_statement.as_ref().map(|(d, _)| d) != Some(&digest) {
            return Err(Refused::Tampered(format!(
                "{JSONL} is not the statements of this attestation's run"
            )));
        }
        Ok(())
    }

    /// The checks across files, once all are read: the reports the attestation records are
    /// all there, the bundled key signed the attestation, the README is the one `bundle` writes
    /// for this product and key, and the entries' time is the evaluation time.
    pub(super) fn finish(self, mtime: u64) -> Result<Checked, Refused> {
        let missing = |name: &str| Refused::from(BundleError::Missing(name.to_owned()));
        let attestation = self
            .attestation
            .ok_or_else(|| missing("attestation.intoto.json"))?;
        let predicate = &attestation.verified.predicate;
        for report in predicate
            .reports
            .iter()
            .chain(&predicate.cyclonedx_attestation)
            .chain(&predicate.vex_outputs)
        {
            let name = report.name.as_str();
            if [
                "report.json",
                "report.html",
                CYCLONEDX,
                VEX_OPENVEX,
                VEX_CYCLONEDX,
            ]
            .contains(&name)
                && !self.reports.contains(&name)
            {
                return Err(missing(name));
            }
        }
        let key = self.key.ok_or_else(|| missing("signing-key.pub"))?;
        // The bundled key: it must be one that signed the attestation, though it is never what
        // makes it authentic.
        if dsse::signers(
            &attestation.envelope,
            &attestation.payload,
            std::slice::from_ref(&key),
        )
        .is_empty()
        {
            return Err(Refused::Tampered(
                "signing-key.pub did not sign its attestation".to_owned(),
            ));
        }
        let keyid = key.keyid().unwrap_or_default();
        let fingerprint = key.fingerprint().unwrap_or_default();
        let expected = readme(&product_of(predicate), &keyid, &fingerprint);
        if self.readme.as_deref() != Some(expected.as_bytes()) {
            return Err(Refused::Tampered(
                "README.txt is not the one charter-audit writes".to_owned(),
            ));
        }
        if mtime != mtime_of(predicate) {
            return Err(BundleError::Time.into());
        }
        let trusted = self.keys.contains(&key);
        Ok(Checked {
            verified: attestation.verified,
            bundle_key: BundleKey {
                keyid,
                fingerprint,
                trusted,
            },
        })
    }
}

/// The digest the attestation records for a report, the CycloneDX attestation or a VEX
/// document.
fn recorded<'a>(attestation: &'a Attestation, name: &str) -> Option<&'a predicate::Digest> {
    let predicate = &attestation.verified.predicate;
    predicate
        .reports
        .iter()
        .chain(&predicate.cyclonedx_attestation)
        .chain(&predicate.vex_outputs)
        .find(|r| r.name == name)
        .map(|r| &r.digest)
}

fn io(error: std::io::Error) -> Refused {
    BundleError::NotAnArchive(crate::text::clean(&error.to_string())).into()
}

fn read_all(reader: &mut impl Read) -> Result<Vec<u8>, Refused> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}

/// The bytes a compact envelope of ours is made of: JSON punctuation, base64, the payload type
/// and plain key ids.
fn envelope_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"{}[]\":,+/=._-".contains(&b)
}

/// A key id as a bundle may give it: bounded and plain (it is printed, and only ever a hint).
pub fn plain_keyid(keyid: &str) -> bool {
    keyid.len() <= MAX_KEYID
        && keyid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b))
}

/// An envelope exactly as `charter-audit` writes it (pretty with a final newline for the
/// attestation, compact for a line): no field, space, escape or base64 variant of its own.
pub fn canonical_envelope(
    name: &str,
    bytes: &[u8],
    pretty: bool,
) -> Result<(Envelope, Vec<u8>), Refused> {
    let envelope: Envelope = serde_json::from_slice(bytes)
        .map_err(|e| NotAuthentic::NotAnEnvelope(name.to_owned(), e.to_string()))?;
    if envelope.signatures.len() > verify::MAX_SIGNATURES {
        return Err(NotAuthentic::TooManySignatures(envelope.signatures.len()).into());
    }
    if let Some(bad) = envelope.signatures.iter().find(|s| !plain_keyid(&s.keyid)) {
        return Err(Refused::Tampered(format!(
            "{name} gives the key id `{}`, not a plain one (at most {MAX_KEYID} ASCII letters, digits and `._:-`)",
            crate::text::clean(&bad.keyid.chars().take(MAX_KEYID).collect::<String>())
        )));
    }
    let engine = base64::engine::general_purpose::STANDARD;
    let canonical_base64 = |text: &str| {
        engine
            .decode(text)
            .ok()
            .filter(|bytes| engine.encode(bytes) == text)
    };
    let payload = canonical_base64(&envelope.payload);
    let sigs = envelope
        .signatures
        .iter()
        .all(|s| canonical_base64(&s.sig).is_some());
    let mut canonical = if pretty {
        serde_json::to_vec_pretty(&envelope)
    } else {
        serde_json::to_vec(&envelope)
    }
    .unwrap_or_default();
    if pretty {
        canonical.push(b'\n');
    }
    match payload {
        Some(payload) if sigs && canonical == bytes => Ok((envelope, payload)),
        _ => Err(Refused::Tampered(format!(
            "{name} is not byte for byte the envelope charter-audit writes (another field, spacing, escape or base64 form)"
        ))),
    }
}

/// A reader that hashes what passes through it.
struct Hashing<R> {
    inner: R,
    sha256: Sha256,
    sha512: Sha512,
}

impl<R: Read> Hashing<R> {
    fn new(inner: R) -> Hashing<R> {
        Hashing {
            inner,
            sha256: Sha256::new(),
            sha512: Sha512::new(),
        }
    }

    fn hex(self) -> (String, String) {
        (
            hex::encode(self.sha256.finalize()),
            hex::encode(self.sha512.finalize()),
        )
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sha256.update(&buf[..n]);
        self.sha512.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attest::keys::{Algorithm, PrivateKey};

    #[test]
    fn only_the_envelope_charter_audit_writes_is_canonical() {
        let key = PrivateKey::generate(Algorithm::Ed25519);
        let envelope = dsse::sign(b"{}", IN_TOTO, &key).unwrap();
        let compact = serde_json::to_vec(&envelope).unwrap();
        assert!(canonical_envelope("x", &compact, false).is_ok());
        let mut pretty = serde_json::to_vec_pretty(&envelope).unwrap();
        assert!(
            canonical_envelope("x", &pretty, true).is_err(),
            "no newline"
        );
        pretty.push(b'\n');
        assert!(canonical_envelope("x", &pretty, true).is_ok());
        let text = String::from_utf8(compact).unwrap();
        for variant in [
            text.replacen("\"sig\"", "\"note\":\"<h1>PASS</h1>\",\"sig\"", 1),
            text.replacen(':', ": ", 1),
            text.replacen("{\"", "{ \"", 1),
            text.replacen("\"payload\":\"", "\"payload\":\" ", 1),
            text.replacen("application", "\\u0061pplication", 1),
        ] {
            assert!(
                canonical_envelope("x", variant.as_bytes(), false).is_err(),
                "{variant}"
            );
        }
        assert!(plain_keyid(&"a".repeat(MAX_KEYID)));
        assert!(!plain_keyid(&"a".repeat(MAX_KEYID + 1)));
        assert!(!plain_keyid("<b>"));
    }
}
