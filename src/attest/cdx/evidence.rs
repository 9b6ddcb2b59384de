//! The evidence behind the attestation's claims: the run's facts, each a JSON attachment with a
//! `created` (the evaluation time) and an `expires`. Evidence about advisories is as fresh as the
//! databases it was read from, so it expires when the policy would call them stale (the
//! evaluation time plus `advisory-db.max-age-days`); the exceptions' evidence expires no later
//! than the first exception does.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Inputs;
use super::model::{Attachment, Contents, Data, Evidence};
use crate::model::principles::{Framework, Principle};

pub const SBOM: &str = "evidence-sbom";
pub const DATABASES: &str = "evidence-advisory-databases";
pub const REGISTRY: &str = "evidence-registry-index";
pub const VERDICTS: &str = "evidence-verdicts";
pub const COVERAGE: &str = "evidence-coverage";
pub const POLICY: &str = "evidence-policy";
pub const EXCEPTIONS: &str = "evidence-exceptions";
pub const RUN: &str = "evidence-run";

/// `at` plus `days`, as RFC 3339; `at` itself when it does not parse (the report was read
/// through types that checked it, so it does).
fn plus_days(at: &str, days: u32) -> String {
    OffsetDateTime::parse(at, &Rfc3339)
        .ok()
        .and_then(|t| t.checked_add(time::Duration::days(i64::from(days))))
        .map_or_else(|| at.to_owned(), crate::time::rfc3339)
}

/// The end of an exception's last day (it is valid through it, UTC).
fn end_of_day(day: &str) -> Option<String> {
    let date = crate::time::parse_day(day)?;
    let end = date.with_hms(23, 59, 59).ok()?.assume_utc();
    Some(crate::time::rfc3339(end))
}

fn item(
    reference: &str,
    description: &str,
    value: &Value,
    created: &str,
    expires: &str,
) -> Evidence {
    Evidence {
        bom_ref: reference.to_owned(),
        description: description.to_owned(),
        data: vec![Data {
            name: reference.trim_start_matches("evidence-").to_owned(),
            contents: Contents {
                attachment: Attachment {
                    content_type: "application/json".to_owned(),
                    content: value.to_string(),
                },
            },
        }],
        created: created.to_owned(),
        expires: expires.to_owned(),
    }
}

/// Every piece of evidence of the run, by `bom-ref`, in a fixed order.
pub fn all(inputs: &Inputs<'_>) -> Vec<(&'static str, Evidence)> {
    let report = inputs.report;
    let at = report.evaluated_at.as_str();
    let expires = plus_days(at, report.policy.settings.advisory_db.max_age_days);
    let sbom = inputs.sbom_subject;
    let mut out = vec![(
        SBOM,
        item(
            SBOM,
            "The SBOM of the release the claims are about: its file name, digests, spec version, serial number and number of components",
            &json!({
                "name": sbom.name,
                "sha256": sbom.sha256,
                "sha512": sbom.sha512,
                "specVersion": inputs.sbom["specVersion"],
                "serialNumber": inputs.sbom["serialNumber"],
                "components": inputs.sbom["components"].as_array().map_or(0, Vec::len),
            }),
            at,
            &expires,
        ),
    )];
    let sources: Vec<Value> = report
        .sources
        .iter()
        .map(|s| {
            json!({"name": s.name, "uri": s.uri, "revision": s.revision, "last_updated": s.last_updated, "advisories": s.advisories, "skipped_files": s.skipped.len()})
        })
        .collect();
    out.push((
        DATABASES,
        item(
            DATABASES,
            "The advisory databases every component was checked against: name, URI, revision, last update and number of advisories",
            &Value::Array(sources),
            at,
            &expires,
        ),
    ));
    if let Some(r) = &report.registry {
        out.push((
            REGISTRY,
            item(
                REGISTRY,
                "The registry index behind fix versions, publication times and yanked versions",
                &json!({"uri": r.uri, "looked_up_at": r.looked_up_at, "crates": r.crates, "unknown": r.unknown}),
                at,
                &expires,
            ),
        ));
    }
    let findings = super::super::statement::findings_summary(report);
    out.push((
        VERDICTS,
        item(
            VERDICTS,
            "The result and the verdicts under the policy: counts by verdict and severity, the findings' ids, and the rule findings that are not information",
            &json!({"result": report.result, "findings": findings}),
            at,
            &expires,
        ),
    ));
    let unchecked: Vec<Value> = report
        .coverage
        .unchecked
        .iter()
        .map(|u| json!({"name": u.name, "version": u.version, "reason": u.reason, "own_code": u.own_code}))
        .collect();
    out.push((
        COVERAGE,
        item(
            COVERAGE,
            "How many components were checked, and each one that was not, with the reason",
            &json!({"components": report.components.total, "checked": report.coverage.checked, "unchecked": unchecked, "inventory": report.components.inventory.as_str(), "target": report.target.triple}),
            at,
            &expires,
        ),
    ));
    let policy = &report.policy;
    let overrides: Vec<Value> = policy
        .overrides
        .iter()
        .map(|o| json!({"setting": o.setting, "direction": o.direction.as_str()}))
        .collect();
    out.push((
        POLICY,
        item(
            POLICY,
            "The policy the verdicts were made under: its base, the digest of its settings, and every override, marked tightening or loosening",
            &json!({"base": policy.base, "digest": policy.digest, "overrides": overrides, "settings": policy.settings.to_map()}),
            at,
            &expires,
        ),
    ));
    if !policy.exceptions.is_empty() {
        let exceptions: Vec<Value> = policy
            .exceptions
            .iter()
            .map(|e| json!({"id": e.id, "package": e.package, "version": e.version, "reason": e.reason, "expires": e.expires, "approved_by": e.approved_by}))
            .collect();
        let first = policy
            .exceptions
            .iter()
            .filter_map(|e| end_of_day(&e.expires))
            .min()
            .map_or(expires.clone(), |day| day.min(expires.clone()));
        out.push((
            EXCEPTIONS,
            item(
                EXCEPTIONS,
                "The documented exceptions in force: each advisory excepted, why, who approved it and the last day it holds",
                &Value::Array(exceptions),
                at,
                &first,
            ),
        ));
    }
    out.push((
        RUN,
        item(
            RUN,
            "The run: when it was evaluated, the commit audited, where it ran (the CI run or local) and the tool",
            &json!({"evaluated_at": at, "commit": report.product.commit, "builder": report.builder}),
            at,
            &expires,
        ),
    ));
    out
}

/// The evidence each requirement's claim rests on (those the run has).
pub fn for_principle(principle: &Principle, evidence: &[(&'static str, Evidence)]) -> Vec<String> {
    let patching = [
        SBOM, DATABASES, REGISTRY, VERDICTS, COVERAGE, POLICY, EXCEPTIONS,
    ];
    let detection = [DATABASES, COVERAGE, VERDICTS];
    let wanted: &[&str] = match (principle.framework, principle.id.as_str()) {
        (Framework::Charter, "1") | (Framework::CodeOfPractice, "3.5") | (Framework::Dspt, _) => {
            &patching
        }
        (Framework::CodeOfPractice, "1.2") | (Framework::Ssdf, "PS.3.2") => &[SBOM, COVERAGE, RUN],
        (Framework::CodeOfPractice, "3.3") | (Framework::Ssdf, "RV.1.1") => &detection,
        (Framework::CodeOfPractice, "3.1") => &[SBOM, RUN],
        (Framework::Ssdf, "PW.4.1") => &[POLICY, COVERAGE, DATABASES],
        (Framework::Ssdf, "PW.4.4") => &[VERDICTS, POLICY, EXCEPTIONS],
        _ => &[RUN],
    };
    evidence
        .iter()
        .filter(|(reference, _)| wanted.contains(reference))
        .map(|(reference, _)| (*reference).to_owned())
        .collect()
}
