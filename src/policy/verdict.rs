//! What the policy makes of the facts, as typed values: the verdict, the rule that gave it, and
//! why. These are written into the report and read back from it (`attest --report`), so they
//! serialise and deserialise, and refuse what the report never holds.

use serde::{Deserialize, Serialize};

use super::model::Level;
use crate::advisories::FindingPackage;

/// What the policy makes of a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Info,
    Warning,
    Excepted,
    Violation,
}

impl Verdict {
    /// Every verdict, from the gravest.
    pub const ALL: [Verdict; 4] = [
        Verdict::Violation,
        Verdict::Warning,
        Verdict::Excepted,
        Verdict::Info,
    ];

    /// The verdict as reports write it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Verdict::Info => "info",
            Verdict::Warning => "warning",
            Verdict::Excepted => "excepted",
            Verdict::Violation => "violation",
        }
    }
}

impl From<Level> for Verdict {
    fn from(level: Level) -> Verdict {
        match level {
            Level::Warning => Verdict::Warning,
            Level::Violation => Verdict::Violation,
        }
    }
}

/// Every rule, by its stable code. A new rule is a compile error until every renderer and the
/// principle map say what it means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// A vulnerability's exposure against the policy's window for its severity.
    PatchAge,
    /// A version yanked from its registry.
    Yanked,
    Unmaintained,
    Unsound,
    Notice,
    /// An advisory limited to platforms other than the audited target.
    NotApplicable,
    /// An advisory source older than the policy allows.
    AdvisoryDbAge,
    /// An exception that matches no finding.
    ExceptionUnused,
    /// An exception that runs further ahead than the policy allows.
    ExceptionExpiry,
    /// A VEX statement (`--vex`) about no component and vulnerability of the run.
    VexUnused,
    /// Where packages come from.
    Sources,
    /// Under which licences.
    Licenses,
    /// Whether the SBOM holds the minimum elements.
    SbomCompleteness,
    /// Whether the registry facts behind the patch-age rule are known.
    RegistryFacts,
    /// Whether a lockfile read without cargo locks everything the registry says it must.
    LockfileIncomplete,
    /// Whether the SBOM lists what a release binary's embedded list says was compiled in.
    SbomBinaryMatch,
}

impl Rule {
    /// The rule's code as reports write it (`patch-age`).
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::PatchAge => "patch-age",
            Rule::Yanked => "yanked",
            Rule::Unmaintained => "unmaintained",
            Rule::Unsound => "unsound",
            Rule::Notice => "notice",
            Rule::NotApplicable => "not-applicable",
            Rule::AdvisoryDbAge => "advisory-db-age",
            Rule::ExceptionUnused => "exception-unused",
            Rule::ExceptionExpiry => "exception-expiry",
            Rule::VexUnused => "vex-unused",
            Rule::Sources => "sources",
            Rule::Licenses => "licenses",
            Rule::SbomCompleteness => "sbom-completeness",
            Rule::RegistryFacts => "registry-facts",
            Rule::LockfileIncomplete => "lockfile-incomplete",
            Rule::SbomBinaryMatch => "sbom-binary-match",
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the patch-age clock started from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClockStart {
    FixPublished,
    AdvisoryPublished,
}

/// The verdict on one finding, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Judgement {
    pub verdict: Verdict,
    /// The rule that judged it: `patch-age`, `yanked`, `unmaintained`, `unsound`, `notice`,
    /// `not-applicable` (an advisory limited to platforms other than the audited target).
    pub rule: Rule,
    pub message: String,
    pub exposure_days: Option<i64>,
    pub window_days: Option<u32>,
    /// When the clock started, and from what (`fix-published` or `advisory-published`).
    pub clock_start: Option<String>,
    pub clock_start_from: Option<ClockStart>,
    /// The exception that applied (or expired), by id.
    pub exception: Option<AppliedException>,
    /// The VEX statement that excepted it, when one did (on whose word, when, and why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vex: Option<AppliedVex>,
}

/// A VEX `not_affected` statement that excepted a finding: which document (by file name and
/// digest), whose word (its author, and its signer's key id when it was signed), the
/// statement's time and its reasons. Kept apart from configuration exceptions so that reports
/// and predicates count them apart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppliedVex {
    pub document: String,
    pub sha256: String,
    pub author: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// The vulnerability as the statement names it (the finding's id or one of its aliases).
    pub vulnerability: String,
    pub time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppliedException {
    pub id: String,
    pub reason: String,
    pub expires: String,
    pub approved_by: String,
    pub expired: bool,
    /// The exception's OpenVEX justification, when its configuration names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<super::Justification>,
}

/// A finding of a rule that is not about one advisory (database age, exceptions, sources...).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFinding {
    pub rule: Rule,
    pub verdict: Verdict,
    pub subject: String,
    pub message: String,
    /// The package it is about, for the rules that judge one (`sources`, `licenses`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<FindingPackage>,
}
