//! The run as a CycloneDX 1.6 attestation (`attestation.cdx.json`): the principle map said the
//! CycloneDX way, for tools that read `definitions.standards` and `declarations` rather than
//! our predicate. It says exactly what the signed predicate says (the same map, made once): the
//! supplier assesses itself (`thirdParty: false`); each requirement the run speaks to has one
//! claim about the product, with the evidence behind it; each map entry has a conformance and a
//! confidence with their rationale, mapped openly from the map's status:
//!
//! | status | conformance | confidence |
//! | --- | --- | --- |
//! | `evidenced` | 1 | 1 |
//! | `partial` | 0.5 | 0.5 |
//! | `not-evidenced` | 0 | 1 |
//! | `not-assessed` | no score, no claim | no score |
//!
//! Each rationale starts with the status word, so the map reads back without the scores. The
//! document is deterministic (fixed order, every time the run's evaluation time, the serial
//! number derived from the content) and checked against the vendored 1.6 schema before it is
//! handed out.

mod evidence;
pub mod model;
pub mod standards;

use sha2::{Digest, Sha256};

use crate::model::principles::{Principle, Status};
use crate::model::report::Report;
use model::{
    Affirmation, Assessor, Attestation, Bom, Claim, Component, Declarations, Definitions,
    ExternalReference, MapEntry, Metadata, Organization, Score, Signatory, Targets, Tools,
};

/// The file name `audit --out-dir` writes and a bundle carries.
pub const FILE_NAME: &str = "attestation.cdx.json";
/// The product's `bom-ref`: the target of every claim.
const PRODUCT: &str = "product";
const ASSESSOR: &str = "assessor-supplier";
/// The serial number's stand-in while the content digest is computed.
const PLACEHOLDER: &str = "urn:uuid:00000000-0000-5000-8000-000000000000";

/// What the attestation is made of besides the report.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub report: &'a Report,
    /// The principle map, as the predicate records it.
    pub map: &'a [Principle],
    /// The SBOM, parsed, and its file name and digests.
    pub sbom: &'a serde_json::Value,
    pub sbom_subject: &'a super::statement::Subject,
    /// The in-toto statement (signed or for keyless signing) that records this document's
    /// digest, by the name it is handed out under; none when the run makes no statement.
    pub statement: Option<&'a str>,
}

/// Why the attestation could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CdxError {
    #[error(
        "{0}: not a CycloneDX JSON SBOM: make one with `charter-audit sbom` or `audit --out-dir`"
    )]
    NotAnSbom(String),
    #[error("the CycloneDX attestation could not be serialised: {0}")]
    Serialise(#[from] serde_json::Error),
    #[error("the CycloneDX attestation is not valid, so it is not written: {0}")]
    Invalid(#[from] crate::cdx16::Invalid),
}

/// The CycloneDX 1.6 value of one map status: conformance and confidence scores.
pub fn scores(status: Status) -> (Option<f64>, Option<f64>) {
    match status {
        Status::Evidenced => (Some(1.0), Some(1.0)),
        Status::Partial => (Some(0.5), Some(0.5)),
        Status::NotEvidenced => (Some(0.0), Some(1.0)),
        Status::NotAssessed => (None, None),
    }
}

/// Makes the attestation: its bytes (pretty JSON with a final newline), validated.
pub fn make(inputs: &Inputs<'_>) -> Result<Vec<u8>, CdxError> {
    let mut bom = document(inputs);
    bom.serial_number = PLACEHOLDER.to_owned();
    let draft = serde_json::to_vec(&bom)?;
    let uuid = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, &Sha256::digest(&draft));
    bom.serial_number = format!("urn:uuid:{uuid}");
    let value = serde_json::to_value(&bom)?;
    crate::cdx16::validate(&value)?;
    let mut bytes = serde_json::to_vec_pretty(&bom)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// The run whose attestation is made: the same facts the statements are made of, so the map
/// is the predicate's.
#[derive(Debug, Clone, Copy)]
pub struct Run<'a> {
    pub report: &'a Report,
    pub sbom_name: &'a str,
    pub sbom: &'a [u8],
    /// Whether the statement names release artifacts (`--subject`).
    pub artifacts: bool,
    /// Whether charter-audit signs the statement.
    pub signed: bool,
    /// The statement's file name, when the run makes one.
    pub statement: Option<&'a str>,
}

/// Makes the attestation of a run: the principle map as the predicate will record it.
pub fn of_run(run: &Run<'_>) -> Result<Vec<u8>, CdxError> {
    let sbom: serde_json::Value = serde_json::from_slice(run.sbom)
        .ok()
        .filter(|s: &serde_json::Value| s["bomFormat"] == "CycloneDX")
        .ok_or_else(|| CdxError::NotAnSbom(run.sbom_name.to_owned()))?;
    let map = crate::model::principles::map(run.report, run.artifacts, run.signed);
    let subject = super::statement::Subject::of(run.sbom_name, run.sbom);
    make(&Inputs {
        report: run.report,
        map: &map,
        sbom: &sbom,
        sbom_subject: &subject,
        statement: run.statement,
    })
}

/// The supplier as the SBOM names it (an organizational entity), if it does.
fn supplier(sbom: &serde_json::Value) -> Option<Organization> {
    let entity = &sbom["metadata"]["supplier"];
    let name = entity["name"].as_str().filter(|n| !n.trim().is_empty())?;
    // Only what the entity model holds; anything else of the SBOM's is left there.
    let url = entity["url"]
        .as_array()
        .map(|urls| {
            urls.iter()
                .filter_map(|u| u.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let contact = entity["contact"]
        .as_array()
        .map(|contacts| {
            contacts
                .iter()
                .filter_map(|c| serde_json::from_value(c.clone()).ok())
                .collect()
        })
        .unwrap_or_default();
    Some(Organization {
        name: name.to_owned(),
        url,
        contact,
    })
}

fn document(inputs: &Inputs<'_>) -> Bom {
    let report = inputs.report;
    let at = &report.evaluated_at;
    let supplier = supplier(inputs.sbom);
    let evidence = evidence::all(inputs);
    // Sorted: by framework, then by identifier within it (every identifier of the map has
    // one-digit parts, so the text order is the numbering's).
    let mut principles: Vec<&Principle> = inputs.map.iter().collect();
    principles.sort_by(|a, b| (a.framework, &a.id).cmp(&(b.framework, &b.id)));
    let mut claims = Vec::new();
    let mut map = Vec::new();
    for principle in principles.iter().copied() {
        let requirement = standards::requirement_ref(principle.framework, &principle.id);
        let refs = evidence::for_principle(principle, &evidence);
        let claim = (principle.status != Status::NotAssessed).then(|| Claim {
            bom_ref: format!("claim-{requirement}"),
            target: PRODUCT.to_owned(),
            predicate: format!(
                "{} {}: this release {}",
                principle.framework.title(),
                principle.id,
                principle.status.as_str()
            ),
            reasoning: principle.evidence.clone(),
            evidence: refs,
        });
        map.push(entry(principle, &requirement, claim.as_ref(), report));
        claims.extend(claim);
    }
    let product = &report.product;
    Bom {
        bom_format: "CycloneDX".to_owned(),
        spec_version: "1.6".to_owned(),
        serial_number: String::new(),
        version: 1,
        metadata: Metadata {
            timestamp: at.clone(),
            tools: Tools {
                components: vec![Component {
                    kind: "application".to_owned(),
                    bom_ref: None,
                    name: report.tool.name.clone(),
                    version: Some(report.tool.version.clone()),
                    purl: None,
                    external_references: Vec::new(),
                }],
            },
            supplier: supplier.clone(),
            properties: Vec::new(),
        },
        definitions: Definitions {
            standards: standards::standards(principles.iter().copied()),
        },
        declarations: Declarations {
            assessors: vec![Assessor {
                bom_ref: ASSESSOR.to_owned(),
                third_party: false,
                organization: supplier.clone(),
            }],
            attestations: vec![Attestation {
                summary: summary(report, supplier.is_some()),
                assessor: ASSESSOR.to_owned(),
                map,
            }],
            claims,
            evidence: evidence.into_iter().map(|(_, e)| e).collect(),
            targets: Targets {
                components: vec![Component {
                    kind: "application".to_owned(),
                    bom_ref: Some(PRODUCT.to_owned()),
                    name: product.name.clone(),
                    version: product.version.clone(),
                    purl: product.purl.clone(),
                    external_references: product
                        .repository
                        .iter()
                        .map(|url| ExternalReference {
                            kind: "vcs".to_owned(),
                            url: url.clone(),
                            comment: product.commit.as_ref().map(|c| format!("commit {c}")),
                        })
                        .collect(),
                }],
            },
            affirmation: affirmation(supplier, inputs.statement, at),
        },
    }
}

/// What the attestation is, in a sentence or two.
fn summary(report: &Report, named: bool) -> String {
    let product = match &report.product.version {
        Some(v) => format!("{} {v}", report.product.name),
        None => report.product.name.clone(),
    };
    let mut text = format!(
        "Self-assessment by the supplier, made by charter-audit at {}: what one audit of {product} evidences of each requirement (evidenced, partial, not-evidenced; not-assessed where a release pipeline cannot show it). Evidence, not certification.",
        report.evaluated_at
    );
    if !named {
        text.push_str(" The SBOM names no supplier, so the assessor is not named and nothing is affirmed: pass --supplier or [supplier] in charter-audit.toml.");
    }
    text
}

/// One map entry: the requirement, its claim, and the status as conformance and confidence.
fn entry(
    principle: &Principle,
    requirement: &str,
    claim: Option<&Claim>,
    report: &Report,
) -> MapEntry {
    let status = principle.status.as_str();
    let (conformance, confidence) = scores(principle.status);
    let confidence_rationale = match principle.status {
        Status::Evidenced => {
            "evidenced: computed by charter-audit from the facts in the evidence, on every component it lists"
        }
        Status::Partial => {
            "partial: the facts in the evidence support only part of the requirement, or leave part unchecked"
        }
        Status::NotEvidenced => {
            "not-evidenced: the facts in the evidence show this release does not meet what the run checks"
        }
        Status::NotAssessed => {
            "not-assessed: the run gathers no evidence for it; nothing is claimed"
        }
    };
    // Exceptions in force are how the supplier mitigates what waits past a window.
    let excepted = report
        .findings
        .iter()
        .any(|f| f.verdict == crate::policy::Verdict::Excepted);
    let mitigation = if excepted
        && claim.is_some_and(|c| c.evidence.iter().any(|e| e == evidence::EXCEPTIONS))
    {
        vec![evidence::EXCEPTIONS.to_owned()]
    } else {
        Vec::new()
    };
    MapEntry {
        requirement: requirement.to_owned(),
        claims: claim.map(|c| vec![c.bom_ref.clone()]).unwrap_or_default(),
        conformance: Score {
            score: conformance,
            rationale: format!("{status}: {}", principle.evidence),
            mitigation_strategies: mitigation,
        },
        confidence: Score {
            score: confidence,
            rationale: confidence_rationale.to_owned(),
            mitigation_strategies: Vec::new(),
        },
    }
}

/// The supplier's affirmation, when a statement covers this document and the supplier is
/// named: the schema asks a signatory without a JSF signature for the organisation and an
/// external reference, here the in-toto statement whose signature covers this document's digest.
fn affirmation(
    supplier: Option<Organization>,
    statement: Option<&str>,
    at: &str,
) -> Option<Affirmation> {
    let (organization, statement) = (supplier?, statement?);
    Some(Affirmation {
        statement: format!(
            "{} affirms that these claims are charter-audit's findings for this release, evaluated at {at}, as evidence toward each requirement and not a certification of it.",
            organization.name
        ),
        signatories: vec![Signatory {
            role: "supplier (self-assessment)".to_owned(),
            organization,
            external_reference: ExternalReference {
                kind: "attestation".to_owned(),
                url: statement.to_owned(),
                comment: Some(
                    "the in-toto statement whose predicate records this document's SHA-256; its DSSE signature, when signed, covers it"
                        .to_owned(),
                ),
            },
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::principles::map;
    use crate::model::report::{Outcome, sample, sample_finding};
    use crate::policy::Verdict;

    /// The attestation of `report`, from an SBOM naming `supplier` (if any), parsed back.
    fn attestation(report: &Report, supplier: Option<&str>, statement: Option<&str>) -> Bom {
        let mut sbom =
            serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []});
        if let Some(name) = supplier {
            sbom["metadata"] =
                serde_json::json!({"supplier": {"name": name, "url": ["https://example.org"]}});
        }
        let bytes = serde_json::to_vec(&sbom).unwrap();
        let bytes = of_run(&Run {
            report,
            sbom_name: "sbom.cdx.json",
            sbom: &bytes,
            artifacts: true,
            signed: true,
            statement,
        })
        .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn every_status_of_the_map_reads_back_from_the_attestation() {
        let mut failing = sample();
        failing.result = Outcome::Fail;
        let mut finding = sample_finding();
        finding.verdict = Verdict::Violation;
        failing.findings.push(finding);
        let mut excepted = sample();
        let mut finding = sample_finding();
        finding.verdict = Verdict::Excepted;
        excepted.findings.push(finding);
        for report in [sample(), failing, excepted] {
            let principles = map(&report, true, true);
            let bom = attestation(&report, Some("Example Health Ltd"), Some("a.intoto.json"));
            let entries = &bom.declarations.attestations[0].map;
            assert_eq!(entries.len(), principles.len());
            for principle in &principles {
                let reference = standards::requirement_ref(principle.framework, &principle.id);
                let entry = entries.iter().find(|e| e.requirement == reference).unwrap();
                let status = entry.conformance.rationale.split(':').next().unwrap();
                assert_eq!(status, principle.status.as_str());
                assert_eq!(
                    (entry.conformance.score, entry.confidence.score),
                    scores(principle.status)
                );
                assert_eq!(
                    entry.claims.is_empty(),
                    principle.status == Status::NotAssessed
                );
            }
        }
    }

    #[test]
    fn an_unnamed_supplier_is_neither_assessor_by_name_nor_affirms() {
        let report = sample();
        let bom = attestation(&report, None, Some("a.intoto.json"));
        assert!(bom.declarations.affirmation.is_none());
        assert!(bom.declarations.assessors[0].organization.is_none());
        assert!(!bom.declarations.assessors[0].third_party);
        assert!(
            bom.declarations.attestations[0]
                .summary
                .contains("names no supplier")
        );
        // Named, but no statement covers it: still nothing affirmed.
        let bom = attestation(&report, Some("Example Health Ltd"), None);
        assert!(bom.declarations.affirmation.is_none());
        let bom = attestation(&report, Some("Example Health Ltd"), Some("a.intoto.json"));
        let signatory = &bom.declarations.affirmation.unwrap().signatories[0];
        assert_eq!(signatory.organization.name, "Example Health Ltd");
        assert_eq!(signatory.organization.url, ["https://example.org"]);
        assert_eq!(signatory.external_reference.url, "a.intoto.json");
    }
}
