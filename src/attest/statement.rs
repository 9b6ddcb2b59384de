//! The in-toto statements of an audit (Statement v1): ours, whose predicate says what was
//! checked, against what, with what result, and what that evidences; and two standard ones
//! for tools recipients already have, the SBOM (`https://cyclonedx.org/bom`) and the findings
//! (`https://in-toto.io/attestation/vulns/v0.2`). Built from the JSON report and the SBOM, so
//! that `attest` and `audit --sign-key` make the same statements.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sha2::{Digest, Sha256, Sha512};

use crate::advisories::Kind;
use crate::advisories::model::ScoreKind;
use crate::model::principles;
use crate::model::report::{self as model, Outcome, Report};
use crate::policy::{Rule, Verdict};

/// in-toto Statement v1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// Our predicate, documented in README.md and docs/predicate-v1.schema.json.
pub const PREDICATE_TYPE: &str = "https://charter-audit.org/attestation/audit/v1";
pub const CYCLONEDX_TYPE: &str = "https://cyclonedx.org/bom";
pub const VULNS_TYPE: &str = "https://in-toto.io/attestation/vulns/v0.2";

/// A file the statements are about: its name and digests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    pub name: String,
    pub sha256: String,
    pub sha512: String,
}

impl Subject {
    pub fn of(name: &str, bytes: &[u8]) -> Subject {
        Subject {
            name: name.to_owned(),
            sha256: hex::encode(Sha256::digest(bytes)),
            sha512: hex::encode(Sha512::digest(bytes)),
        }
    }

    /// The digests of what `reader` gives, read 64 KiB at a time: an artifact of any size
    /// is digested in constant memory.
    pub fn of_reader(name: &str, mut reader: impl std::io::Read) -> std::io::Result<Subject> {
        let mut sha256 = Sha256::new();
        let mut sha512 = Sha512::new();
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = match reader.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let chunk = buffer.get(..n).unwrap_or_default();
            sha256.update(chunk);
            sha512.update(chunk);
        }
        Ok(Subject {
            name: name.to_owned(),
            sha256: hex::encode(sha256.finalize()),
            sha512: hex::encode(sha512.finalize()),
        })
    }

    /// The digests of the file at `path`, streamed.
    /// The digests of a regular file (a link to one is followed): a FIFO or device such as
    /// `/dev/zero` is refused, never read without end (opened without blocking, so a FIFO
    /// with no writer cannot hold the run either).
    pub fn of_file(name: &str, path: &std::path::Path) -> std::io::Result<Subject> {
        let file = crate::regular_file::open_named(path).map_err(|e| match e {
            crate::regular_file::RegularFileError::Io(e) => e,
            other => std::io::Error::new(std::io::ErrorKind::InvalidInput, other.to_string()),
        })?;
        Subject::of_reader(name, file)
    }

    pub(crate) fn digest(&self) -> super::predicate::Digest {
        super::predicate::Digest {
            sha256: self.sha256.clone(),
            sha512: self.sha512.clone(),
        }
    }

    fn typed(&self) -> super::predicate::Subject {
        super::predicate::Subject {
            name: self.name.clone(),
            digest: self.digest(),
        }
    }

    fn json(&self) -> Value {
        json!({"name": self.name, "digest": {"sha256": self.sha256, "sha512": self.sha512}})
    }
}

/// What goes into the statements besides the report and the SBOM.
#[derive(Debug)]
pub struct Inputs<'a> {
    /// The report, read through the types that wrote it.
    pub report: &'a Report,
    pub sbom_name: &'a str,
    pub sbom: &'a [u8],
    /// The release artifacts (`--subject`).
    pub subjects: Vec<Subject>,
    /// Whether charter-audit signs the statement (else `--unsigned`, for keyless signing).
    pub signed: bool,
    /// The report files of the run (`report.json`, `report.html`), whose digests the
    /// predicate records so that a bundle's copies can be checked.
    pub reports: Vec<Subject>,
    /// The CycloneDX attestation of the run ([`super::cdx::of_run`]), by name and digest, when
    /// one was made.
    pub cyclonedx: Option<Subject>,
    /// The VEX documents of the run, by name and digest, when it wrote them.
    pub vex: Vec<Subject>,
    /// The subjects that carry a list embedded by `cargo auditable`, compared with the SBOM.
    pub binaries: Vec<crate::inventory::binary_match::BinaryMatch>,
}

/// Why the statements could not be made.
#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    #[error(
        "{0}: not a CycloneDX JSON SBOM: make one with `charter-audit sbom` or `audit --out-dir`"
    )]
    NotAnSbom(String),
    #[error(
        "{report} and {sbom} are not of one audit ({what}): give the files one `audit --out-dir` wrote"
    )]
    Mismatch {
        report: String,
        sbom: String,
        what: String,
    },
    #[error(
        "{file}: its {what} is not what an audit of this version writes ({why}): run the audit again"
    )]
    Field {
        file: String,
        what: String,
        why: String,
    },
    #[error(
        "{0}: a verifier would refuse the attestation it makes ({1}): run the audit again with this version"
    )]
    Refused(String, String),
}

/// The three statements: ours, the CycloneDX one, the vulnerabilities one.
pub fn statements(inputs: &Inputs<'_>, report_name: &str) -> Result<[Value; 3], StatementError> {
    let report = inputs.report;
    let sbom: Value = serde_json::from_slice(inputs.sbom)
        .ok()
        .filter(|s: &Value| s["bomFormat"] == "CycloneDX")
        .ok_or_else(|| StatementError::NotAnSbom(inputs.sbom_name.to_owned()))?;
    consistent(report, &sbom, report_name, inputs.sbom_name)?;
    let sbom_subject = Subject::of(inputs.sbom_name, inputs.sbom);
    let mut subjects: Vec<Value> = inputs.subjects.iter().map(Subject::json).collect();
    subjects.push(sbom_subject.json());
    // The standard statements are about the release artifacts (the SBOM itself when none).
    let artifacts: Vec<Value> = if inputs.subjects.is_empty() {
        vec![sbom_subject.json()]
    } else {
        inputs.subjects.iter().map(Subject::json).collect()
    };

    let ours = json!({
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": PREDICATE_TYPE,
        "predicate": predicate(inputs, &sbom, &sbom_subject, report_name)?,
    });
    let cyclonedx = json!({
        "_type": STATEMENT_TYPE,
        "subject": artifacts,
        "predicateType": CYCLONEDX_TYPE,
        "predicate": sbom,
    });
    let vulns = json!({
        "_type": STATEMENT_TYPE,
        "subject": artifacts,
        "predicateType": VULNS_TYPE,
        "predicate": vulns(report),
    });
    Ok([ours, cyclonedx, vulns])
}

/// The report and the SBOM must be of one run: a statement is never made of mismatched
/// evidence. (That the report agrees with itself, [`Report::from_json`] checked.)
fn consistent(
    report: &Report,
    sbom: &Value,
    report_name: &str,
    sbom_name: &str,
) -> Result<(), StatementError> {
    let mismatch = |what: String| {
        Err(StatementError::Mismatch {
            report: report_name.to_owned(),
            sbom: sbom_name.to_owned(),
            what,
        })
    };
    let subject = &sbom["metadata"]["component"];
    let product = &report.product;
    if subject["name"].as_str() != Some(product.name.as_str())
        || subject["version"].as_str() != product.version.as_deref()
    {
        return mismatch(format!(
            "the SBOM describes {} {}, the report {} {}",
            subject["name"],
            subject["version"],
            Value::from(product.name.as_str()),
            product.version.as_deref().map_or(Value::Null, Value::from)
        ));
    }
    // Nested components count too (a supplier's SBOM may nest them).
    fn count(components: &Value) -> u64 {
        components.as_array().map_or(0, |list| {
            list.iter().map(|c| 1 + count(&c["components"])).sum()
        })
    }
    // Components nested under the product (metadata.component) are the product's too.
    let components =
        count(&sbom["components"]) + count(&sbom["metadata"]["component"]["components"]);
    let total = report.components.total as u64;
    // The product is one of a Cargo inventory's packages, the SBOM's `metadata.component`
    // rather than one of its components; a supplier's SBOM is counted without its subject.
    let product_counted = product.purl.is_some()
        && report.components.inventory != model::InventoryKind::CyclonedxSbom;
    let expected = total - u64::from(product_counted && total > 0);
    if components != expected {
        return mismatch(format!(
            "the SBOM lists {components} components, the report {expected} besides the product"
        ));
    }
    Ok(())
}

/// Our predicate, typed: what a verifier reads is what this writes. A predicate its own
/// verifier would refuse (off the schema, or contradicting itself) is never made.
fn predicate(
    inputs: &Inputs<'_>,
    sbom: &Value,
    sbom_subject: &Subject,
    report_name: &str,
) -> Result<Value, StatementError> {
    use super::predicate as p;
    fn field<T: serde::de::DeserializeOwned>(
        value: &Value,
        what: &str,
        file: &str,
    ) -> Result<T, StatementError> {
        T::deserialize(value).map_err(|e| StatementError::Field {
            file: file.to_owned(),
            what: what.to_owned(),
            why: crate::text::clean(&e.to_string()),
        })
    }
    let report = inputs.report;
    // A supplier is an organisational entity with a name; anything else names none.
    let supplier = &sbom["metadata"]["supplier"];
    let typed = p::Predicate {
        product: product(&report.product),
        supplier: if supplier["name"].is_string() {
            Some(field(supplier, "metadata.supplier", inputs.sbom_name)?)
        } else {
            None
        },
        sbom: p::Sbom {
            name: sbom_subject.name.clone(),
            media_type: "application/vnd.cyclonedx+json".to_owned(),
            spec_version: field(&sbom["specVersion"], "specVersion", inputs.sbom_name)?,
            serial_number: field(&sbom["serialNumber"], "serialNumber", inputs.sbom_name)?,
            digest: sbom_subject.digest(),
            components: sbom["components"].as_array().map_or(0, Vec::len) as u64,
        },
        sources: report.sources.iter().map(source).collect(),
        registry: report.registry.as_ref().map(|r| p::Registry {
            uri: r.uri.clone(),
            looked_up_at: r.looked_up_at.clone(),
            crates: r.crates as u64,
            unknown: r.unknown as u64,
        }),
        coverage: coverage(&report.coverage),
        policy: policy(&report.policy).map_err(|e| StatementError::Field {
            file: report_name.to_owned(),
            what: "policy".to_owned(),
            why: e.to_string(),
        })?,
        evaluated_at: report.evaluated_at.clone(),
        result: match report.result {
            Outcome::Pass => p::Outcome::Pass,
            Outcome::Fail => p::Outcome::Fail,
        },
        findings: findings_summary(report),
        builder: builder(&report.builder).map_err(|e| StatementError::Field {
            file: report_name.to_owned(),
            what: "builder".to_owned(),
            why: e.to_string(),
        })?,
        principles: principles::map(report, !inputs.subjects.is_empty(), inputs.signed),
        reports: inputs.reports.iter().map(Subject::typed).collect(),
        cyclonedx_attestation: inputs.cyclonedx.as_ref().map(Subject::typed),
        vex_outputs: inputs.vex.iter().map(Subject::typed).collect(),
        // The target platform-specific advisories were judged for.
        target: Some(report.target.triple.clone()),
        binaries: inputs.binaries.clone(),
    };
    let value = serde_json::to_value(&typed).map_err(|e| StatementError::Field {
        file: report_name.to_owned(),
        what: "predicate".to_owned(),
        why: e.to_string(),
    })?;
    super::predicate::validate(&value)
        .map_err(|e| StatementError::Refused(report_name.to_owned(), e.to_string()))?;
    super::consistency::check(&typed)
        .map_err(|e| StatementError::Refused(report_name.to_owned(), e.to_string()))?;
    Ok(value)
}

fn product(product: &model::Product) -> super::predicate::Product {
    super::predicate::Product {
        name: product.name.clone(),
        version: product.version.clone(),
        purl: product.purl.clone(),
        repository: product.repository.clone(),
        commit: product.commit.clone(),
    }
}

fn source(source: &crate::advisories::SourceRecord) -> super::predicate::Source {
    super::predicate::Source {
        name: source.name.clone(),
        format: source.format.clone(),
        uri: source.uri.clone(),
        revision: source.revision.clone(),
        last_updated: source.last_updated.clone(),
        advisories: source.advisories as u64,
        skipped: source
            .skipped
            .iter()
            .map(|s| super::predicate::Skipped {
                file: s.file.clone(),
                reason: s.reason.clone(),
            })
            .collect(),
    }
}

fn coverage(coverage: &crate::advisories::Coverage) -> super::predicate::Coverage {
    super::predicate::Coverage {
        checked: coverage.checked as u64,
        unchecked: coverage
            .unchecked
            .iter()
            .map(|u| super::predicate::Unchecked {
                name: u.name.clone(),
                version: u.version.clone(),
                purl: u.purl.clone(),
                reason: u.reason.clone(),
                own_code: u.own_code,
            })
            .collect(),
    }
}

fn policy(policy: &model::PolicyRecord) -> Result<super::predicate::Policy, serde_json::Error> {
    use super::predicate as p;
    Ok(p::Policy {
        base: policy.base.clone(),
        digest: policy.digest.clone(),
        settings: policy
            .settings
            .to_record()
            .iter()
            .map(|(k, v)| Ok((k.clone(), serde_json::to_value(v)?)))
            .collect::<Result<_, serde_json::Error>>()?,
        overrides: policy
            .overrides
            .iter()
            .map(|o| {
                Ok(p::Override {
                    setting: o.setting.clone(),
                    base: serde_json::to_value(&o.base)?,
                    value: serde_json::to_value(&o.value)?,
                    direction: o.direction.as_str().to_owned(),
                })
            })
            .collect::<Result<_, serde_json::Error>>()?,
        exceptions: policy
            .exceptions
            .iter()
            .map(|e| p::Exception {
                id: e.id.clone(),
                package: e.package.clone(),
                version: e.version.clone(),
                reason: e.reason.clone(),
                expires: e.expires.clone(),
                approved_by: e.approved_by.clone(),
            })
            .collect(),
        vex: policy
            .vex
            .iter()
            .map(|d| p::VexDocument {
                name: d.name.clone(),
                digest: d.sha256.clone(),
                format: match d.format {
                    crate::vex::Format::Openvex => "openvex",
                    crate::vex::Format::Cyclonedx => "cyclonedx",
                }
                .to_owned(),
                author: d.author.clone(),
                signer: d.signer.clone(),
                statements: d.statements.len() as u64,
            })
            .collect(),
    })
}

/// The predicate's builder: its kind and tool, and the facts of that kind.
fn builder(builder: &model::Builder) -> Result<super::predicate::Builder, serde_json::Error> {
    serde_json::from_value(serde_json::to_value(builder)?)
}

/// The findings by verdict and severity, with their ids.
pub(crate) fn findings_summary(report: &Report) -> super::predicate::Findings {
    let mut counts: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for finding in &report.findings {
        let verdict = finding.verdict.as_str().to_owned();
        let severity = match finding.kind {
            // Limited to platforms other than the target: counted as that, not by severity.
            _ if finding.rule == Rule::NotApplicable => "not-applicable",
            Kind::Vulnerability => finding.severity.as_str(),
            other => other.as_str(),
        };
        *counts
            .entry(verdict.clone())
            .or_default()
            .entry(severity.to_owned())
            .or_default() += 1;
        ids.entry(verdict).or_default().push(format!(
            "{} {}@{}",
            finding.id, finding.package.name, finding.package.version
        ));
    }
    let summary = Verdict::ALL
        .into_iter()
        .map(|v| (v.as_str().to_owned(), report.summary.count(v) as u64))
        .filter(|(_, n)| *n > 0)
        .collect();
    let (vex_exceptions, excepted_by) = vex_exceptions(report);
    super::predicate::Findings {
        by_verdict_and_severity: counts,
        ids,
        summary,
        vex_exceptions,
        excepted_by,
        rule_findings: report
            .rule_findings
            .iter()
            .filter(|r| r.verdict != Verdict::Info)
            .map(|r| super::predicate::RuleFinding {
                rule: r.rule.as_str().to_owned(),
                verdict: r.verdict.as_str().to_owned(),
                subject: r.subject.clone(),
            })
            .collect(),
    }
}

/// The findings VEX excepted, and the excepted findings counted by what excepted them: only
/// for an audit given VEX, so that other predicates are what they always were.
fn vex_exceptions(
    report: &Report,
) -> (
    Vec<super::predicate::VexException>,
    Option<super::predicate::ExceptedBy>,
) {
    if report.policy.vex.is_empty() {
        return (Vec::new(), None);
    }
    let excepted: Vec<&model::Finding> = report
        .findings
        .iter()
        .filter(|f| f.verdict == Verdict::Excepted)
        .collect();
    let list: Vec<super::predicate::VexException> = excepted
        .iter()
        .filter_map(|f| {
            let v = f.vex.as_ref()?;
            Some(super::predicate::VexException {
                finding: format!("{} {}@{}", f.id, f.package.name, f.package.version),
                document: v.sha256.clone(),
                author: v.author.clone(),
                signer: v.signer.clone(),
                vulnerability: v.vulnerability.clone(),
                time: v.time.clone(),
                justification: v.justification.clone(),
                impact: v.impact.clone(),
            })
        })
        .collect();
    let by = super::predicate::ExceptedBy {
        configuration: (excepted.len() - list.len()) as u64,
        vex: list.len() as u64,
    };
    (list, Some(by))
}

/// The in-toto vulns v0.2 predicate: every vulnerability finding, with its scores.
fn vulns(report: &Report) -> Value {
    let result: Vec<Value> = report
        .findings
        .iter()
        .filter(|f| f.kind == Kind::Vulnerability)
        .map(|f| {
            let mut severity: Vec<Value> = f
                .severities
                .iter()
                .map(|s| {
                    let method = match s.kind {
                        ScoreKind::CvssV3 => "CVSSv3",
                        ScoreKind::CvssV4 => "CVSSv4",
                        ScoreKind::Rating => "rating",
                    };
                    let score = s.vector.as_deref().unwrap_or(s.severity.as_str());
                    json!({"method": method, "score": score})
                })
                .collect();
            if severity.is_empty() {
                severity.push(json!({"method": "charter-audit", "score": f.severity}));
            }
            json!({
                "id": f.id,
                "severity": severity,
                "annotations": [
                    {"package": f.package.purl},
                    {"aliases": f.aliases},
                    {"verdict": f.verdict},
                    {"fix_version": f.fix_version},
                    {"exposure_days": f.exposure_days},
                ],
            })
        })
        .collect();
    let db = report.sources.first();
    json!({
        "scanner": {
            "uri": "https://crates.io/crates/charter-audit",
            "version": report.tool.version,
            "db": {
                "uri": db.map(|d| &d.uri),
                "version": db.and_then(|d| d.revision.as_ref()),
                "lastUpdate": db.and_then(|d| d.last_updated.as_ref()),
            },
            "result": result,
        },
        "metadata": {
            "scanStartedOn": report.evaluated_at,
            "scanFinishedOn": report.evaluated_at,
        },
    })
}
