//! VEX documents the auditor brings (`audit --vex FILE`): a supplier's or vendor's word that a
//! vulnerability does or does not affect a component, read into typed [`Statement`]s. This is
//! fact-finding, like the advisories: nothing here is judged. Whether a statement is trusted
//! enough to except a finding (its age, its justification, its signature) is the policy's
//! question (`policy::vex`), and checking a signed document's signature is the audit's, which
//! holds the keys; this module only unwraps the envelope and hands its parts on.
//!
//! Every document is hostile: bounded in bytes and statements, read as JSON that names no key
//! twice, its status and justification checked against its format's own vocabulary, its
//! times RFC 3339. A document that is not one of the formats, or breaks them, is refused whole:
//! a half-read VEX could except what its author never said.

mod cyclonedx;
mod openvex;
mod purl;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use purl::same_package;

/// The most bytes a VEX document may have.
pub const MAX_BYTES: u64 = 16 * 1024 * 1024;
/// The most statements (OpenVEX statements, CycloneDX vulnerabilities) one document may hold.
pub const MAX_STATEMENTS: usize = 10_000;
/// The most product and component references one document may hold, all statements together.
pub const MAX_REFERENCES: usize = 100_000;
/// The most characters a name, justification or statement text may have.
pub const MAX_TEXT: usize = 4_096;

/// Which VEX format a document is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// OpenVEX 0.2.0 (plain, or the predicate of a DSSE-signed in-toto statement).
    Openvex,
    /// CycloneDX `vulnerabilities[].analysis`.
    Cyclonedx,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Openvex => "OpenVEX",
            Format::Cyclonedx => "CycloneDX VEX",
        }
    }
}

/// What a statement says of the vulnerability in its components, in OpenVEX's words (the
/// CycloneDX states map onto them: `not_affected` and `false_positive` are not affected,
/// `exploitable` affected, `in_triage` under investigation, `resolved` fixed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    NotAffected,
    Affected,
    Fixed,
    UnderInvestigation,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotAffected => "not_affected",
            Status::Affected => "affected",
            Status::Fixed => "fixed",
            Status::UnderInvestigation => "under_investigation",
        }
    }
}

/// One statement: a vulnerability, by the one name its author gives it (its `aliases` are the
/// author's claim, never matched: a statement that lists the finding's id among the aliases
/// of another vulnerability must not except it), the components it is about, and what it says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    pub vulnerability: String,
    /// The product the components are part of, when the statement names them as its
    /// subcomponents: then it speaks of them only inside that product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// The components it is about, by purl (or whatever identifier it gave, kept to be shown).
    pub components: Vec<String>,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    /// OpenVEX's `impact_statement`, CycloneDX's `detail`: why, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<String>,
    /// OpenVEX's `action_statement`, CycloneDX's `response`: what to do, for `affected`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// When the statement was last made (RFC 3339, UTC): its last update, else its issue,
    /// else the document's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
}

/// One VEX document as the report records it: which file, its digest, who wrote it, who
/// signed it, and every statement in it (so that a report's verdicts can be judged again).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// The file's name, without its folder (no path of the auditor's machine is written).
    pub name: String,
    /// `sha256:` and the hex SHA-256 of the file's bytes.
    pub sha256: String,
    pub format: Format,
    pub author: String,
    /// The id of the `--vex-key` key whose signature verified, for a DSSE-signed document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    pub statements: Vec<Statement>,
}

/// A DSSE envelope's parts, for the audit to check against its keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub payload_type: String,
    /// The payload, decoded.
    pub payload: Vec<u8>,
    /// Each signature's key id hint and base64 signature.
    pub signatures: Vec<(String, String)>,
}

/// A document read: the document (not yet labelled with a signer) and, when it came in a DSSE
/// envelope, the envelope whose signature must be checked before it is believed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub document: Document,
    pub envelope: Option<Envelope>,
}

/// Why a VEX document was refused. The caller names the file.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum VexError {
    #[error("it is larger than {} MiB, the most a VEX document may be", MAX_BYTES / (1024 * 1024))]
    TooLarge,
    #[error("it is not JSON (or names a key twice): {0}")]
    Json(String),
    #[error(
        "it is not a VEX document charter-audit reads: give OpenVEX (an `@context` of https://openvex.dev/ns/...), CycloneDX with `vulnerabilities`, or a DSSE envelope of an in-toto statement with an OpenVEX predicate"
    )]
    Unknown,
    #[error("it holds more than {MAX_STATEMENTS} statements: split it")]
    TooManyStatements,
    #[error("it names more than {MAX_REFERENCES} products and components: split it")]
    TooManyReferences,
    #[error("{0}")]
    Invalid(String),
}

/// Reads a VEX document, whichever format its content says it is.
pub fn parse(name: &str, bytes: &[u8]) -> Result<Parsed, VexError> {
    if bytes.len() as u64 > MAX_BYTES {
        return Err(VexError::TooLarge);
    }
    let value = crate::json::strict(bytes).map_err(|e| VexError::Json(clip(&e)))?;
    let sha256 = {
        use sha2::Digest;
        format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
    };
    let (format, author, statements, envelope) = if is_envelope(&value) {
        let envelope = envelope(&value)?;
        let predicate = openvex_predicate(&envelope.payload)?;
        let (author, statements) = openvex::read(&predicate)?;
        (Format::Openvex, author, statements, Some(envelope))
    } else if openvex::is_openvex(&value) {
        let (author, statements) = openvex::read(&value)?;
        (Format::Openvex, author, statements, None)
    } else if cyclonedx::is_cyclonedx(&value) {
        let (author, statements) = cyclonedx::read(&value)?;
        (Format::Cyclonedx, author, statements, None)
    } else {
        return Err(VexError::Unknown);
    };
    Ok(Parsed {
        document: Document {
            name: name.to_owned(),
            sha256,
            format,
            author,
            signer: None,
            statements,
        },
        envelope,
    })
}

/// A DSSE envelope: an object with a payload type, a payload and signatures.
fn is_envelope(value: &Value) -> bool {
    ["payloadType", "payload", "signatures"]
        .iter()
        .all(|key| value.get(key).is_some())
}

/// The envelope's parts; its payload must be an in-toto statement.
fn envelope(value: &Value) -> Result<Envelope, VexError> {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let payload_type = string(value, "payloadType", "the envelope")?;
    if payload_type != "application/vnd.in-toto+json" {
        return Err(invalid(format!(
            "the envelope's payloadType is `{}`, not application/vnd.in-toto+json",
            clip(&payload_type)
        )));
    }
    let payload = string(value, "payload", "the envelope")?;
    let payload = [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(payload.trim()).ok())
        .ok_or_else(|| invalid("the envelope's payload is not base64".to_owned()))?;
    let signatures = value
        .get("signatures")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("the envelope's `signatures` is not a list".to_owned()))?;
    if signatures.is_empty() || signatures.len() > 64 {
        return Err(invalid(
            "the envelope has no signature, or more than 64".to_owned(),
        ));
    }
    let signatures = signatures
        .iter()
        .map(|s| {
            let keyid = s.get("keyid").and_then(Value::as_str).unwrap_or_default();
            let sig = string(s, "sig", "a signature")?;
            Ok((clip(keyid), sig))
        })
        .collect::<Result<Vec<_>, VexError>>()?;
    Ok(Envelope {
        payload_type,
        payload,
        signatures,
    })
}

/// The OpenVEX predicate of an in-toto statement.
fn openvex_predicate(payload: &[u8]) -> Result<Value, VexError> {
    let statement = crate::json::strict(payload)
        .map_err(|e| invalid(format!("the envelope's payload is not JSON: {}", clip(&e))))?;
    let kind = string(&statement, "_type", "the in-toto statement")?;
    if !kind.starts_with("https://in-toto.io/Statement/") {
        return Err(invalid(format!(
            "the envelope's payload is not an in-toto statement (its _type is `{}`)",
            clip(&kind)
        )));
    }
    let predicate_type = string(&statement, "predicateType", "the in-toto statement")?;
    if !predicate_type.starts_with("https://openvex.dev/ns") {
        return Err(invalid(format!(
            "the in-toto statement's predicateType is `{}`, not OpenVEX (https://openvex.dev/ns/v0.2.0)",
            clip(&predicate_type)
        )));
    }
    statement
        .get("predicate")
        .filter(|p| p.is_object())
        .cloned()
        .ok_or_else(|| invalid("the in-toto statement has no predicate object".to_owned()))
}

fn invalid(message: String) -> VexError {
    VexError::Invalid(message)
}

/// A required string field of `value`.
fn string(value: &Value, key: &str, of: &str) -> Result<String, VexError> {
    match value.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(invalid(format!("{of}'s `{key}` is not a string"))),
        None => Err(invalid(format!("{of} has no `{key}`"))),
    }
}

/// An optional text field of `value`, at most [`MAX_TEXT`] characters; empty is absent.
fn text(value: &Value, key: &str, of: &str) -> Result<Option<String>, VexError> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() > MAX_TEXT => Err(invalid(format!(
            "{of}'s `{key}` is longer than {MAX_TEXT} characters"
        ))),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!("{of}'s `{key}` is not a string"))),
    }
}

/// An optional RFC 3339 time field of `value`, as UTC RFC 3339.
fn time(value: &Value, key: &str, of: &str) -> Result<Option<String>, VexError> {
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;
    let Some(text) = text(value, key, of)? else {
        return Ok(None);
    };
    // A time whose offset carries it past the year 9999 in UTC is as unreadable as bad text.
    OffsetDateTime::parse(&text, &Rfc3339)
        .ok()
        .and_then(|t| t.checked_to_offset(time::UtcOffset::UTC))
        .map(|t| Some(crate::time::rfc3339(t)))
        .ok_or_else(|| {
            invalid(format!(
                "{of}'s `{key}` `{}` is not an RFC 3339 time such as 2026-09-01T00:00:00Z",
                clip(&text)
            ))
        })
}

/// The later of two RFC 3339 times (compared as times, not as text: fractions of a second).
fn later(a: Option<String>, b: Option<String>) -> Option<String> {
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;
    let at = |t: &str| OffsetDateTime::parse(t, &Rfc3339).ok();
    match (a, b) {
        (Some(a), Some(b)) => Some(if at(&b) > at(&a) { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// Text from a document, cut short for a message.
fn clip(text: &str) -> String {
    crate::text::clean(&text.chars().take(200).collect::<String>())
}

#[cfg(test)]
mod tests;
