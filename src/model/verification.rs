//! What `verify` found: whether the evidence is authentic, what it attests, and every reason
//! it is not acceptable to the recipient. `attest` decides it; `report` renders it; the exit
//! code follows from it alone ([`Verification::code`]).
//!
//! Strings here are as the evidence gives them (the renderer cleans what came from it).

use std::collections::BTreeMap;

/// What `verify` found.
#[derive(Debug, Clone, PartialEq)]
pub enum Verification {
    /// The evidence is not authentic, or not about the recipient's files (exit 3): why.
    NotAuthentic { reason: String },
    /// Signed by enough trusted keys, and of our predicate: what it says, and what the
    /// recipient's requirements make of it.
    Authentic(Box<Authentic>),
}

/// How a verification ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Authentic, and nothing stands against it (exit 0).
    Accepted,
    /// Authentic, but not acceptable (exit 1).
    NotAccepted,
    /// Not authentic (exit 3).
    NotAuthentic,
}

impl Outcome {
    /// The exit code of `verify` for this outcome.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Accepted => 0,
            Outcome::NotAccepted => 1,
            Outcome::NotAuthentic => 3,
        }
    }
}

impl Verification {
    pub fn outcome(&self) -> Outcome {
        match self {
            Verification::NotAuthentic { .. } => Outcome::NotAuthentic,
            Verification::Authentic(a) if a.concerns.is_empty() => Outcome::Accepted,
            Verification::Authentic(_) => Outcome::NotAccepted,
        }
    }

    /// The exit code of `verify`: 0 accepted, 1 not accepted, 3 not authentic.
    pub fn code(&self) -> u8 {
        self.outcome().code()
    }
}

/// Authentic evidence: who signed, what it says, and what stands against accepting it.
#[derive(Debug, Clone, PartialEq)]
pub struct Authentic {
    /// The key ids of the trusted keys that signed.
    pub signers: Vec<String>,
    pub attested: Attested,
    /// For a bundle: the public key packed in it.
    pub bundle_key: Option<BundleKey>,
    /// Why it is not accepted; none when it is.
    pub concerns: Vec<Concern>,
    /// Each `--subject` that carries a list embedded by `cargo auditable`, read from the file
    /// by the verifier itself and compared with the attested SBOM, whatever the attestation
    /// claims of it.
    pub binaries: Vec<crate::inventory::binary_match::BinaryMatch>,
}

/// The public key a bundle holds: shown for comparison, never trusted for being there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleKey {
    pub keyid: String,
    /// SHA-256 of the DER public key.
    pub fingerprint: String,
    /// Whether it is one of the keys the recipient gave.
    pub trusted: bool,
}

/// What an authentic attestation says, as `verify` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Attested {
    pub product: Product,
    pub supplier: Option<String>,
    /// Whether the attested result is pass.
    pub passed: bool,
    pub evaluated_at: String,
    /// Where the audit ran: the run's URL, or the builder's kind.
    pub built_by: String,
    /// verdict -> `ID package@version` of each finding.
    pub findings: BTreeMap<String, Vec<String>>,
    pub sources: Vec<Source>,
    /// How many components were checked.
    pub checked: u64,
    pub unchecked: Vec<Unchecked>,
    pub policy: Policy,
    /// What the release evidences, as the signed predicate says.
    pub principles: Vec<crate::model::principles::Principle>,
    /// The CycloneDX attestation the predicate records, by name, and whether the recipient's
    /// copy (or the bundle's) was checked against its digest.
    pub cyclonedx: Option<(String, bool)>,
    /// The VEX documents the predicate records, by name, and whether the recipient gave a copy
    /// (`verify --vex`) whose digest is the recorded one.
    pub vex: Vec<(String, bool)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub name: String,
    pub version: Option<String>,
    pub purl: Option<String>,
    pub commit: Option<String>,
}

/// An advisory database the audit read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub name: String,
    pub uri: String,
    pub revision: Option<String>,
    pub last_updated: Option<String>,
    pub advisories: u64,
}

/// A component the audit could not check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unchecked {
    pub name: String,
    pub version: String,
    pub reason: String,
}

/// The attested policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub base: String,
    pub digest: String,
    pub overrides: Vec<Override>,
    pub exceptions: Vec<Exception>,
    /// The findings VEX statements excepted, on whose word.
    pub vex: Vec<VexException>,
}

/// A finding a VEX statement excepted: on whose word (and whose key signed it), when, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexException {
    pub finding: String,
    pub author: String,
    pub signer: Option<String>,
    pub time: String,
    pub justification: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub setting: String,
    pub base: serde_json::Value,
    pub value: serde_json::Value,
    pub direction: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    pub id: String,
    pub expires: String,
    pub approved_by: String,
    pub reason: String,
}

/// A reason authentic evidence is not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Concern {
    /// The attested result is fail.
    ResultFail,
    /// The attestation gives no evaluation time.
    NoEvaluationTime,
    /// It claims an evaluation after now (beyond the grace for clocks that differ).
    EvaluatedAfterNow { at: String, now: String },
    /// It is older than `--max-age` allows.
    TooOld { days: i64, max_age: u32 },
    /// A policy setting predicate v1 does not have: it cannot be judged.
    UnknownSetting { setting: String },
    /// A policy setting predicate v1 has and the attestation lacks: it cannot be judged.
    MissingSetting { setting: String },
    /// A policy setting whose value is not one of its kind (`value` as JSON).
    NotASettingValue { setting: String, value: String },
    /// A setting looser than the required policy's.
    Loosened {
        setting: String,
        value: String,
        required: String,
        expected: String,
    },
    /// An exception that runs too long after the evaluation under a required policy.
    LongException {
        id: String,
        expires: String,
        most_days: i64,
    },
    /// An advisory source the recipient does not accept (`--accept-source`).
    UnacceptedSource { name: String, uri: String },
    /// A binary the recipient holds has packages compiled in that the attested SBOM does not
    /// list (read from the binary's own embedded list).
    BinaryNotInSbom {
        subject: String,
        packages: Vec<String>,
    },
    /// A VEX exception the required policy's `[vex]` rules do not accept (too old, dated
    /// after the evaluation, without justification, unsigned).
    VexException {
        finding: String,
        author: String,
        why: String,
        required: String,
    },
}
