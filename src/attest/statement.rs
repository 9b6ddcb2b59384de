//! The in-toto statements of an audit (Statement v1): ours, whose predicate says what was
//! checked, against what, with what result, and what that evidences; and two standard ones
//! for tools recipients already have, the SBOM (`https://cyclonedx.org/bom`) and the findings
//! (`https://in-toto.io/attestation/vulns/v0.2`). Built from the JSON report and the SBOM, so
//! that `attest` and `audit --sign-key` make the same statements.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sha2::{Digest, Sha256, Sha512};

use super::principles;

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
    pub fn of_file(name: &str, path: &std::path::Path) -> std::io::Result<Subject> {
        Subject::of_reader(name, std::fs::File::open(path)?)
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

/// Who ran the audit: a GitHub Actions run, from its variables, or a local run.
pub fn builder(env: &dyn Fn(&str) -> Option<String>) -> Value {
    let var = |name: &str| env(name).filter(|v| !v.is_empty());
    match (
        var("GITHUB_ACTIONS"),
        var("GITHUB_SERVER_URL"),
        var("GITHUB_REPOSITORY"),
        var("GITHUB_RUN_ID"),
    ) {
        (Some(actions), Some(server), Some(repository), Some(run)) if actions == "true" => json!({
            "kind": "github-actions",
            "run_url": format!("{server}/{repository}/actions/runs/{run}{}",
                var("GITHUB_RUN_ATTEMPT").map(|a| format!("/attempts/{a}")).unwrap_or_default()),
            "workflow_ref": var("GITHUB_WORKFLOW_REF"),
            "runner_os": var("RUNNER_OS"),
            "runner_environment": var("RUNNER_ENVIRONMENT"),
            "repository": format!("{server}/{repository}"),
            "commit": var("GITHUB_SHA"),
            "tool": {"name": "charter-audit", "version": env!("CARGO_PKG_VERSION")},
        }),
        _ => json!({
            "kind": "local",
            "tool": {"name": "charter-audit", "version": env!("CARGO_PKG_VERSION")},
            "os": std::env::consts::OS,
            "arch": std::env::consts::ARCH,
        }),
    }
}

/// What goes into the statements besides the report and the SBOM.
#[derive(Debug)]
pub struct Inputs<'a> {
    pub report: &'a Value,
    pub sbom_name: &'a str,
    pub sbom: &'a [u8],
    /// The release artifacts (`--subject`).
    pub subjects: Vec<Subject>,
    pub builder: Value,
    /// Whether charter-audit signs the statement (else `--unsigned`, for keyless signing).
    pub signed: bool,
    /// The report files of the run (`report.json`, `report.html`), whose digests the
    /// predicate records so that a bundle's copies can be checked.
    pub reports: Vec<Subject>,
}

/// Why the statements could not be made.
#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    #[error(
        "{0}: not a charter-audit report (schema charter-audit/report/v1): make one with `charter-audit audit --format json`"
    )]
    NotAReport(String),
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
    #[error(
        "{0}: its result does not agree with its findings, or it lacks its builder: it was edited, or is not a report of this version; run the audit again"
    )]
    Edited(String),
}

/// The three statements: ours, the CycloneDX one, the vulnerabilities one.
pub fn statements(inputs: &Inputs<'_>, report_name: &str) -> Result<[Value; 3], StatementError> {
    let report = inputs.report;
    if report["schema"] != "charter-audit/report/v1" {
        return Err(StatementError::NotAReport(report_name.to_owned()));
    }
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

/// The report and the SBOM must be of one run, and the report must agree with itself: a
/// statement is never made of mismatched or edited evidence.
fn consistent(
    report: &Value,
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
    let product = &report["product"];
    if subject["name"] != product["name"] || subject["version"] != product["version"] {
        return mismatch(format!(
            "the SBOM describes {} {}, the report {} {}",
            subject["name"], subject["version"], product["name"], product["version"]
        ));
    }
    // Nested components count too (a supplier's SBOM may nest them).
    fn count(components: &Value) -> u64 {
        components.as_array().map_or(0, |list| {
            list.iter().map(|c| 1 + count(&c["components"])).sum()
        })
    }
    let components = count(&sbom["components"]);
    let total = report["components"]["total"].as_u64().unwrap_or(0);
    let expected = total - u64::from(product["purl"].is_string() && total > 0);
    if components != expected {
        return mismatch(format!(
            "the SBOM lists {components} components, the report {expected} besides the product"
        ));
    }
    let violations = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["verdict"] == "violation")
        .count()
        + report["rule_findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["verdict"] == "violation")
            .count();
    let fail = report["result"] == "fail";
    if fail != (violations > 0) || report["builder"]["kind"].as_str().is_none() {
        return Err(StatementError::Edited(report_name.to_owned()));
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
    let policy = &report["policy"];
    // A supplier is an organisational entity with a name; anything else names none.
    let supplier = &sbom["metadata"]["supplier"];
    let typed = p::Predicate {
        product: field(&report["product"], "product", report_name)?,
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
        sources: field(&report["sources"], "sources", report_name)?,
        registry: field(&report["registry"], "registry", report_name)?,
        coverage: field(&report["coverage"], "coverage", report_name)?,
        policy: p::Policy {
            base: field(&policy["base"], "policy.base", report_name)?,
            digest: field(&policy["digest"], "policy.digest", report_name)?,
            settings: field(&policy["settings"], "policy.settings", report_name)?,
            overrides: field(&policy["overrides"], "policy.overrides", report_name)?,
            exceptions: field(&policy["exceptions"], "policy.exceptions", report_name)?,
        },
        evaluated_at: field(&report["evaluated_at"], "evaluated_at", report_name)?,
        result: field(&report["result"], "result", report_name)?,
        findings: field(&findings_summary(report), "findings", report_name)?,
        builder: field(&inputs.builder, "builder", report_name)?,
        principles: field(
            &Value::Array(principles::map(
                report,
                &inputs.builder,
                !inputs.subjects.is_empty(),
                inputs.signed,
            )),
            "principles",
            report_name,
        )?,
        reports: inputs.reports.iter().map(Subject::typed).collect(),
        // The target platform-specific advisories were judged for (absent from a report made
        // before it was recorded).
        target: report["target"]["triple"].as_str().map(str::to_owned),
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

/// The findings by verdict and severity, with their ids.
fn findings_summary(report: &Value) -> Value {
    let mut counts: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for finding in report["findings"].as_array().into_iter().flatten() {
        let verdict = finding["verdict"].as_str().unwrap_or("unknown").to_owned();
        let severity = match finding["kind"].as_str() {
            // Limited to platforms other than the target: counted as that, not by severity.
            _ if finding["rule"] == "not-applicable" => "not-applicable",
            Some("vulnerability") => finding["severity"].as_str().unwrap_or("unscored"),
            Some(other) => other,
            None => "unknown",
        };
        *counts
            .entry(verdict.clone())
            .or_default()
            .entry(severity.to_owned())
            .or_default() += 1;
        ids.entry(verdict).or_default().push(format!(
            "{} {}@{}",
            finding["id"].as_str().unwrap_or_default(),
            finding["package"]["name"].as_str().unwrap_or_default(),
            finding["package"]["version"].as_str().unwrap_or_default()
        ));
    }
    let rules: Vec<Value> = report["rule_findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["verdict"] != "info")
        .map(|r| json!({"rule": r["rule"], "verdict": r["verdict"], "subject": r["subject"]}))
        .collect();
    json!({"by_verdict_and_severity": counts, "ids": ids, "summary": report["summary"], "rule_findings": rules})
}

/// The in-toto vulns v0.2 predicate: every vulnerability finding, with its scores.
fn vulns(report: &Value) -> Value {
    let result: Vec<Value> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["kind"] == "vulnerability")
        .map(|f| {
            let mut severity: Vec<Value> = f["severities"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| {
                    let method = match s["type"].as_str()? {
                        "CVSS_V3" => "CVSSv3",
                        "CVSS_V4" => "CVSSv4",
                        _ => "rating",
                    };
                    let score = s["vector"].as_str().or(s["severity"].as_str())?;
                    Some(json!({"method": method, "score": score}))
                })
                .collect();
            if severity.is_empty() {
                severity.push(json!({"method": "charter-audit", "score": f["severity"]}));
            }
            json!({
                "id": f["id"],
                "severity": severity,
                "annotations": [
                    {"package": f["package"]["purl"]},
                    {"aliases": f["aliases"]},
                    {"verdict": f["verdict"]},
                    {"fix_version": f["fix_version"]},
                    {"exposure_days": f["exposure_days"]},
                ],
            })
        })
        .collect();
    let db = report["sources"].as_array().and_then(|s| s.first());
    json!({
        "scanner": {
            "uri": "https://crates.io/crates/charter-audit",
            "version": report["tool"]["version"],
            "db": {
                "uri": db.map_or(Value::Null, |d| d["uri"].clone()),
                "version": db.map_or(Value::Null, |d| d["revision"].clone()),
                "lastUpdate": db.map_or(Value::Null, |d| d["last_updated"].clone()),
            },
            "result": result,
        },
        "metadata": {
            "scanStartedOn": report["evaluated_at"],
            "scanFinishedOn": report["evaluated_at"],
        },
    })
}
