//! Our predicate (`https://charter-audit.org/attestation/audit/v1`) as types: `attest` writes
//! these and `verify` reads these, so that what a verifier judges is exactly what an audit
//! can say. The JSON Schema (docs/predicate-v1.schema.json) is the published form of the same
//! shape and is checked too ([`validate`]); the types add what a schema cannot say (see
//! [`super::consistency`]).
//!
//! Fields a later minor version adds are ignored when read (serde's default), never read as a
//! pass; where the schema refuses additions, so does [`validate`].

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The published schema, embedded so the verifier checks against the one it ships with.
pub const SCHEMA: &str = include_str!("../../docs/predicate-v1.schema.json");

/// The most schema errors a message names.
const MAX_ERRORS: usize = 5;
/// The most characters of each error a message keeps.
const MAX_ERROR_CHARS: usize = 240;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Predicate {
    pub product: Product,
    /// The SBOM's supplier (an organizational entity), when it names one.
    pub supplier: Option<Supplier>,
    pub sbom: Sbom,
    pub sources: Vec<Source>,
    pub registry: Option<Registry>,
    pub coverage: Coverage,
    pub policy: Policy,
    pub evaluated_at: String,
    pub result: Outcome,
    pub findings: Findings,
    pub builder: Builder,
    pub principles: Vec<Principle>,
    #[serde(default)]
    pub reports: Vec<Subject>,
    /// The CycloneDX 1.6 attestation of the run (`attestation.cdx.json`), when one was made: an
    /// evidence file the signature covers through this digest, never a subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cyclonedx_attestation: Option<Subject>,
    /// The VEX documents of the run (`vex.openvex.json`, `vex.cdx.json`), when it wrote them:
    /// evidence files the signature covers through these digests, never subjects. Absent from a
    /// predicate made before they were written, or by `attest`, which writes none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vex_outputs: Vec<Subject>,
    /// The target triple the audit judged for, or `all`; absent when the audit did not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Each subject that carries a list embedded by `cargo auditable`, compared with the SBOM:
    /// `exact`, or the differences (`sbom-binary-match`). A verifier reads the binary again
    /// itself rather than trust this.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub binaries: Vec<crate::inventory::binary_match::BinaryMatch>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Pass,
    Fail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub name: String,
    pub version: Option<String>,
    pub purl: Option<String>,
    pub repository: Option<String>,
    pub commit: Option<String>,
}

/// A CycloneDX organizational entity: its name, and whatever else the SBOM gives of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Supplier {
    pub name: String,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    pub sha256: String,
    pub sha512: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    pub name: String,
    pub digest: Digest,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sbom {
    pub name: String,
    pub media_type: String,
    pub spec_version: String,
    pub serial_number: Option<String>,
    pub digest: Digest,
    pub components: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub name: String,
    pub format: String,
    pub uri: String,
    pub revision: Option<String>,
    pub last_updated: Option<String>,
    pub advisories: u64,
    #[serde(default)]
    pub skipped: Vec<Skipped>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub file: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    pub uri: String,
    pub looked_up_at: String,
    pub crates: u64,
    pub unknown: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    pub checked: u64,
    pub unchecked: Vec<Unchecked>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unchecked {
    pub name: String,
    pub version: String,
    pub purl: String,
    pub reason: String,
    #[serde(default)]
    pub own_code: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    pub base: String,
    /// `sha256:` and the digest of `settings` as serialised here.
    pub digest: String,
    /// `section.key` -> value, as the report records them; their kinds are
    /// [`crate::policy::model::SETTINGS`]'.
    pub settings: BTreeMap<String, Value>,
    pub overrides: Vec<Override>,
    pub exceptions: Vec<Exception>,
    /// The VEX documents the audit was given (`audit --vex`): who wrote and who signed each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vex: Vec<VexDocument>,
}

/// A VEX document an audit was given, by its digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VexDocument {
    pub name: String,
    /// `sha256:` and the hex SHA-256 of the file.
    pub digest: String,
    /// `openvex` or `cyclonedx`.
    pub format: String,
    pub author: String,
    /// The key id of the `--vex-key` key whose signature verified, for a signed document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    pub statements: u64,
}

/// A finding a VEX `not_affected` statement excepted: on whose word, when, why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VexException {
    /// `ID package@version`, as `findings.ids` lists it.
    pub finding: String,
    /// The digest of the VEX document (one of `policy.vex`).
    pub document: String,
    pub author: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    pub vulnerability: String,
    /// The statement's time, RFC 3339.
    pub time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<String>,
}

/// How many excepted findings each kind of exception excepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptedBy {
    /// By the supplier's configuration (`[[exception]]`).
    pub configuration: u64,
    /// By VEX statements.
    pub vex: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Override {
    pub setting: String,
    pub base: Value,
    pub value: Value,
    pub direction: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exception {
    pub id: String,
    pub package: Option<String>,
    pub version: Option<String>,
    pub reason: String,
    /// The last day it is valid (UTC), `YYYY-MM-DD`.
    pub expires: String,
    pub approved_by: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Findings {
    /// verdict -> severity (or kind) -> how many findings.
    pub by_verdict_and_severity: BTreeMap<String, BTreeMap<String, u64>>,
    /// verdict -> `ID package@version` of each finding.
    pub ids: BTreeMap<String, Vec<String>>,
    /// verdict -> how many findings and rule findings.
    pub summary: BTreeMap<String, u64>,
    /// The rule findings that are not information.
    pub rule_findings: Vec<RuleFinding>,
    /// The findings VEX statements excepted (present when the audit was given VEX).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vex_exceptions: Vec<VexException>,
    /// The excepted findings counted by what excepted them (present when the audit was given
    /// VEX).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excepted_by: Option<ExceptedBy>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleFinding {
    pub rule: String,
    pub verdict: String,
    pub subject: String,
}

/// Where the audit ran: its kind and tool, and the facts of that kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Builder {
    pub kind: String,
    pub tool: Tool,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

/// One principle and what the audit evidences of it: the evidence model's own type.
pub use crate::model::principles::Principle;

/// Why a predicate is not one of ours.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("it does not follow docs/predicate-v1.schema.json: {0}")]
    Schema(String),
    #[error("it does not read as our predicate: {0}")]
    Shape(String),
}

/// Checks `value` against the published schema, then reads it into the types.
pub fn read(value: &Value) -> Result<Predicate, Invalid> {
    validate(value)?;
    Predicate::deserialize(value).map_err(|e| Invalid::Shape(crate::text::clean(&e.to_string())))
}

/// Checks `value` against docs/predicate-v1.schema.json (formats asserted), naming the first
/// few places it departs.
pub fn validate(value: &Value) -> Result<(), Invalid> {
    static VALIDATOR: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    let validator = VALIDATOR
        .get_or_init(|| {
            let schema: Value = serde_json::from_str(SCHEMA).map_err(|e| e.to_string())?;
            jsonschema::draft202012::options()
                .should_validate_formats(true)
                .build(&schema)
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Invalid::Schema(format!("the schema itself does not load: {e}")))?;
    let errors: Vec<String> = validator
        .iter_errors(value)
        .take(MAX_ERRORS)
        .map(|e| {
            // The message quotes the value, which may be large: a line's worth is enough.
            let text: String = format!("at `{}`: {e}", e.instance_path())
                .chars()
                .take(MAX_ERROR_CHARS)
                .collect();
            crate::text::clean(&text)
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Invalid::Schema(errors.join("; ")))
    }
}
