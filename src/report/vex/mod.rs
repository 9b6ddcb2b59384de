//! The run's decisions as VEX, in the two formats recipients' tools read (Dependency-Track,
//! trivy, grype, GUAC): OpenVEX 0.2.0 ([`openvex`]) and CycloneDX VEX ([`cyclonedx`]). Both are
//! drawn from the typed [`Report`] alone, through one [`Decision`] per finding, so that the two
//! documents can never say different things about the same finding.
//!
//! What each verdict becomes:
//! - a violation or warning: `affected`, with the action (the upgrade, and its deadline under
//!   the policy); an expired exception changes nothing here, as it changes nothing in the verdict;
//! - excepted by the configuration: `not_affected`, with the exception's reason, approver and
//!   expiry, and its justification when the configuration names one;
//! - an advisory limited to platforms other than the audited target: `not_affected`, because
//!   the code the advisory is about is not what is built for the target.
//!
//! `fixed` is never said: every finding is about a version the SBOM holds.
//!
//! Every time in both documents is the run's evaluation time (`--now`), and their identifiers
//! are derived from their content, so a run with a pinned `--now` writes the same bytes.

pub mod cyclonedx;
pub mod openvex;

use std::collections::BTreeMap;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::model::report::{Finding, Report};
use crate::policy::{Justification, Rule, Verdict};

/// The file names the run writes them under.
pub const OPENVEX_FILE: &str = "vex.openvex.json";
pub const CYCLONEDX_FILE: &str = "vex.cdx.json";

/// Why the VEX documents could not be made.
#[derive(Debug, thiserror::Error)]
pub enum VexError {
    #[error("could not read the SBOM this run made, to link the CycloneDX VEX to it: {0}")]
    Sbom(#[source] serde_json::Error),
    #[error("could not write the VEX document: {0}")]
    Json(#[source] serde_json::Error),
    #[error("the CycloneDX VEX this run made does not follow the CycloneDX 1.6 schema: {0}")]
    Schema(String),
}

/// What the run decided about one finding, in the terms both VEX formats share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The product is affected: `action` says what to do, and `update` whether that is an
    /// upgrade to a release the registry has.
    Affected { action: String, update: bool },
    /// The product is not affected: why, in words (`statement`), and as a justification when
    /// one is known.
    NotAffected {
        justification: Option<Justification>,
        statement: String,
    },
    /// Nothing the run decided says either way (a verdict of information from a rule other
    /// than the platform one: none today, and never read as `not_affected`).
    UnderInvestigation { note: String },
}

/// The decision on `finding` in `report`.
pub fn decision(report: &Report, finding: &Finding) -> Decision {
    match finding.verdict {
        Verdict::Violation | Verdict::Warning => Decision::Affected {
            action: action(report, finding),
            update: finding.upgrade_to.is_some(),
        },
        Verdict::Excepted => match &finding.exception {
            Some(e) => Decision::NotAffected {
                justification: e.justification,
                statement: format!(
                    "Excepted by {}'s configuration: {} (approved by {}; valid through {}, UTC)",
                    supplier_or(report, "the supplier"),
                    e.reason,
                    e.approved_by,
                    e.expires
                ),
            },
            // Excepted on a VEX statement the auditor was given (`audit --vex`): passed on
            // with whose word it is.
            None if finding.vex.is_some() => vex_decision(finding),
            // A report read back has been checked: an excepted finding has its exception.
            None => Decision::NotAffected {
                justification: None,
                statement: finding.message.clone(),
            },
        },
        // The advisory is limited (RustSec `affected.os`/`arch`) to platforms the audited
        // target is not: what is built for the target does not hold the vulnerable code, the
        // nearest of OpenVEX's terms (CycloneDX's, through the table, `code_not_present`).
        Verdict::Info if finding.rule == Rule::NotApplicable => Decision::NotAffected {
            justification: Some(Justification::VulnerableCodeNotPresent),
            statement: finding
                .not_applicable
                .clone()
                .unwrap_or_else(|| finding.message.clone()),
        },
        Verdict::Info => Decision::UnderInvestigation {
            note: finding.message.clone(),
        },
    }
}

/// When the statement about `finding` was made: the evaluation time, but for a finding a VEX
/// statement excepted, that statement's own time, so that passing it on never makes it newer
/// (an old vendor statement restated at each run would never grow older than `vex.max-age`).
pub fn statement_time(report: &Report, finding: &Finding) -> String {
    match (&finding.verdict, &finding.vex) {
        (Verdict::Excepted, Some(vex)) if finding.exception.is_none() => vex.time.clone(),
        _ => report.evaluated_at.clone(),
    }
}

/// The decision on a finding a VEX statement excepted: `not_affected`, its justification when
/// it is one of OpenVEX's terms (a CycloneDX one is kept in the words), and on whose word.
fn vex_decision(finding: &Finding) -> Decision {
    let Some(vex) = &finding.vex else {
        return Decision::NotAffected {
            justification: None,
            statement: finding.message.clone(),
        };
    };
    let signed = vex
        .signer
        .as_ref()
        .map_or_else(String::new, |k| format!(", signed by key {k}"));
    let why = [vex.justification.as_deref(), vex.impact.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(": ");
    Decision::NotAffected {
        justification: vex.justification.as_deref().and_then(Justification::parse),
        statement: format!(
            "Not affected on the word of {} (VEX document {}, {}{signed}, statement of {} about {}){}",
            vex.author,
            vex.document,
            vex.sha256,
            vex.time,
            vex.vulnerability,
            if why.is_empty() {
                String::new()
            } else {
                format!(": {why}")
            }
        ),
    }
}

/// What to do about an affected finding: the upgrade and its deadline under the policy, else
/// the rule's own words (a replacement to plan, an API to check).
fn action(report: &Report, finding: &Finding) -> String {
    let package = &finding.package;
    let mut text = match &finding.upgrade_to {
        Some(to) => {
            let mut text = format!("Upgrade {} {} to {to}", package.name, package.version);
            if !finding.patched.is_empty() {
                text.push_str(&format!(" (patched: {})", finding.patched.join(", ")));
            }
            text
        }
        None => finding.message.clone(),
    };
    if let Some(deadline) = deadline(finding) {
        let from = match finding.clock_start_from {
            Some(crate::policy::ClockStart::FixPublished) => "the fix's publication",
            _ => "the advisory's publication",
        };
        let overdue = if finding.verdict == Verdict::Violation {
            ", and is overdue"
        } else {
            ""
        };
        text.push_str(&format!(
            "; under the {} policy it is due by {deadline} ({} days from {from}){overdue}",
            report.policy.base,
            finding.window_days.unwrap_or_default()
        ));
    }
    if let Some(e) = finding.exception.as_ref().filter(|e| e.expired)
        && finding.upgrade_to.is_some()
    {
        text.push_str(&format!(
            "; the exception for {} (approved by {}) expired on {}",
            e.id, e.approved_by, e.expires
        ));
    }
    text
}

/// The day the patch-age window closes: the clock's start plus the window.
fn deadline(finding: &Finding) -> Option<String> {
    let start = OffsetDateTime::parse(finding.clock_start.as_deref()?, &Rfc3339).ok()?;
    let end = start.checked_add(time::Duration::days(i64::from(finding.window_days?)))?;
    Some(end.date().to_string())
}

/// Who makes the statements: the supplier the report names, else `fallback`.
fn supplier_or(report: &Report, fallback: &str) -> String {
    report
        .supplier
        .clone()
        .unwrap_or_else(|| fallback.to_owned())
}

/// The author of the documents: the product's supplier (`--supplier`, `[supplier] name`, or a
/// supplier's SBOM); without one, words that say it was not named rather than a name that is
/// not theirs.
fn author(report: &Report) -> String {
    report
        .supplier
        .clone()
        .unwrap_or_else(|| format!("the supplier of {} (not named)", report.product.name))
}

/// The finding's aliases, each once, without its own id: OpenVEX wants them unique.
fn aliases(finding: &Finding) -> Vec<String> {
    let mut out: Vec<String> = finding
        .aliases
        .iter()
        .filter(|a| **a != finding.id)
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}

/// What the CycloneDX VEX needs of the run's SBOM to link into it (BOM-Link,
/// `urn:cdx:serial/version#bom-ref`): its spec version, serial number and version, and the
/// bom-ref of each component by purl.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BomLink {
    pub spec_version: String,
    /// The serial number, without `urn:uuid:`: a BOM-Link needs one.
    pub serial: Option<String>,
    pub version: u64,
    pub refs: BTreeMap<String, String>,
}

/// Puts the components of `list` (when it is one) on `stack`, reversed, so that the first
/// listed is read first and keeps a purl two components share.
fn push<'a>(list: &'a Value, stack: &mut Vec<&'a Value>) {
    stack.extend(list.as_array().into_iter().flatten().rev());
}

impl BomLink {
    /// Reads the link from the run's SBOM: ours, or the supplier's it audited, which may give
    /// any field in any type; what is not as CycloneDX has it is left out of the link (a
    /// component without a string bom-ref and purl is named by its purl alone), never an error.
    pub fn of_sbom(bytes: &[u8]) -> Result<BomLink, VexError> {
        let sbom: Value = serde_json::from_slice(bytes).map_err(VexError::Sbom)?;
        let mut refs = BTreeMap::new();
        let mut stack: Vec<&Value> = Vec::new();
        push(&sbom["components"], &mut stack);
        stack.push(&sbom["metadata"]["component"]);
        while let Some(c) = stack.pop() {
            if let (Some(purl), Some(bom_ref)) = (c["purl"].as_str(), c["bom-ref"].as_str()) {
                refs.entry(purl.to_owned())
                    .or_insert_with(|| bom_ref.to_owned());
            }
            push(&c["components"], &mut stack);
        }
        Ok(BomLink {
            spec_version: sbom["specVersion"].as_str().unwrap_or_default().to_owned(),
            serial: sbom["serialNumber"]
                .as_str()
                .and_then(|s| s.strip_prefix("urn:uuid:"))
                // As a BOM-Link names it: hyphenated, lower case (what CycloneDX requires).
                .filter(|u| {
                    uuid::Uuid::parse_str(u).is_ok_and(|p| p.hyphenated().to_string() == *u)
                })
                .map(str::to_owned),
            version: sbom["version"].as_u64().filter(|v| *v >= 1).unwrap_or(1),
            refs,
        })
    }

    /// The reference to the component with `purl`: a BOM-Link into the SBOM when it has a
    /// serial number, else its bom-ref (or the purl, for a component it does not list).
    pub fn reference(&self, purl: &str) -> String {
        let bom_ref = self.refs.get(purl).map_or(purl, String::as_str);
        match &self.serial {
            Some(serial) => format!(
                "urn:cdx:{serial}/{}#{}",
                self.version,
                fragment_encoded(bom_ref)
            ),
            None => bom_ref.to_owned(),
        }
    }
}

/// `text` as an RFC 3986 fragment (what a BOM-Link's `#bom-ref` is): every character a fragment
/// may not hold percent-encoded (a purl's own `%xx` escapes are kept).
fn fragment_encoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    for (i, &b) in bytes.iter().enumerate() {
        let escape = b == b'%'
            && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?".contains(&b) || escape {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A `urn:uuid:` derived from `bytes` (a name-based, version 5 UUID of their SHA-256): the
/// same content always has the same identifier, and different content another.
fn content_uuid(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(bytes);
    format!(
        "urn:uuid:{}",
        uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, &digest)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::report::{sample, sample_finding};

    #[test]
    fn a_bom_link_names_the_sboms_serial_version_and_bom_ref() {
        let sbom = br#"{"specVersion":"1.5","serialNumber":"urn:uuid:1a71e5e1-07cd-5f3f-b4ee-c36375a75d77","version":1,
            "metadata":{"component":{"bom-ref":"app","purl":"pkg:cargo/app@1.0.0"}},
            "components":[{"bom-ref":"pkg:cargo/x@1.0.0 (2)","purl":"pkg:cargo/x@1.0.0","components":[{"bom-ref":"n","purl":"pkg:cargo/n@2.0.0"}]}]}"#;
        let link = BomLink::of_sbom(sbom).unwrap();
        assert_eq!(
            link.reference("pkg:cargo/x@1.0.0"),
            "urn:cdx:1a71e5e1-07cd-5f3f-b4ee-c36375a75d77/1#pkg:cargo/x@1.0.0%20(2)"
        );
        assert!(link.reference("pkg:cargo/n@2.0.0").ends_with("/1#n"));
        assert!(link.reference("pkg:cargo/app@1.0.0").ends_with("/1#app"));
        // A supplier's SBOM may give anything in any field: what is not CycloneDX is left out.
        let odd = BomLink::of_sbom(
            br#"{"specVersion":5,"serialNumber":"urn:uuid:1A71E5E1-07CD-5F3F-B4EE-C36375A75D77","version":"2",
            "metadata":"none","components":[{"bom-ref":{"a":1},"purl":"pkg:cargo/x@1.0.0"},{"purl":7},"text",
            {"bom-ref":"x2","purl":"pkg:cargo/x@1.0.0","components":{"not":"a list"}}]}"#,
        )
        .unwrap();
        assert_eq!(odd.spec_version, "");
        assert_eq!(odd.serial, None);
        assert_eq!(odd.version, 1);
        assert_eq!(odd.reference("pkg:cargo/x@1.0.0"), "x2");
        let no_serial = BomLink::of_sbom(br#"{"specVersion":"1.4","components":[]}"#).unwrap();
        assert_eq!(
            no_serial.reference("pkg:cargo/y@1.0.0"),
            "pkg:cargo/y@1.0.0"
        );
        assert_eq!(fragment_encoded("a%2Fb%zz#c d"), "a%2Fb%25zz%23c%20d");
    }

    #[test]
    fn each_verdict_has_its_decision() {
        let mut report = sample();
        report.supplier = Some("Example Health Ltd".to_owned());
        let mut finding = sample_finding();
        let Decision::Affected { action, update } = decision(&report, &finding) else {
            panic!("a warning is affected");
        };
        assert!(update);
        assert_eq!(
            action,
            "Upgrade regex 1.5.4 to 1.5.5 (patched: >=1.5.5); under the nhs-charter policy it is due by 2022-03-22 (14 days from the fix's publication)"
        );
        finding.verdict = Verdict::Excepted;
        finding.exception = Some(crate::policy::AppliedException {
            id: finding.id.clone(),
            reason: "Only trusted regexes are compiled".to_owned(),
            expires: "2026-09-30".to_owned(),
            approved_by: "CISO".to_owned(),
            expired: false,
            justification: Some(Justification::VulnerableCodeNotInExecutePath),
        });
        assert_eq!(
            decision(&report, &finding),
            Decision::NotAffected {
                justification: Some(Justification::VulnerableCodeNotInExecutePath),
                statement: "Excepted by Example Health Ltd's configuration: Only trusted regexes are compiled (approved by CISO; valid through 2026-09-30, UTC)".to_owned(),
            }
        );
        finding.verdict = Verdict::Info;
        finding.rule = Rule::NotApplicable;
        finding.exception = None;
        finding.not_applicable = Some("not applicable to x86_64-unknown-linux-gnu".to_owned());
        assert!(matches!(
            decision(&report, &finding),
            Decision::NotAffected {
                justification: Some(Justification::VulnerableCodeNotPresent),
                ..
            }
        ));
    }

    #[test]
    fn a_run_without_findings_has_no_openvex_and_an_empty_cyclonedx_vex() {
        // OpenVEX requires a statement; CycloneDX VEX may list no vulnerability.
        let report = sample();
        assert_eq!(openvex::render(&report).unwrap(), None);
        let link = BomLink {
            spec_version: "1.6".to_owned(),
            ..BomLink::default()
        };
        let cdx: Value = serde_json::from_str(&cyclonedx::render(&report, &link).unwrap()).unwrap();
        assert_eq!(cdx["vulnerabilities"], serde_json::json!([]));
        assert_eq!(cdx["specVersion"], "1.6");
    }

    #[test]
    fn without_a_justification_the_reason_alone_says_why() {
        let mut report = sample();
        let mut finding = sample_finding();
        finding.verdict = Verdict::Excepted;
        finding.exception = Some(crate::policy::AppliedException {
            id: finding.id.clone(),
            reason: "Reviewed".to_owned(),
            expires: "2026-09-30".to_owned(),
            approved_by: "CISO".to_owned(),
            expired: false,
            justification: None,
        });
        report.findings.push(finding);
        let openvex: Value =
            serde_json::from_str(&openvex::render(&report).unwrap().unwrap()).unwrap();
        let statement = &openvex["statements"][0];
        assert_eq!(statement["status"], "not_affected");
        assert!(statement.get("justification").is_none());
        assert_eq!(
            statement["impact_statement"],
            "Excepted by the supplier's configuration: Reviewed (approved by CISO; valid through 2026-09-30, UTC)"
        );
        // No supplier named: the author says so rather than name anyone.
        assert_eq!(openvex["author"], "the supplier of demo (not named)");
        let cdx: Value =
            serde_json::from_str(&cyclonedx::render(&report, &BomLink::default()).unwrap())
                .unwrap();
        let analysis = &cdx["vulnerabilities"][0]["analysis"];
        assert_eq!(analysis["state"], "not_affected");
        assert!(analysis.get("justification").is_none());
        assert_eq!(analysis["detail"], statement["impact_statement"]);
    }
}
