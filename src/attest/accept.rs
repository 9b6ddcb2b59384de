//! What `verify` decides: whether evidence is authentic (an envelope, or a bundle around one),
//! and whether authentic evidence is acceptable to the recipient (the attested result, its age,
//! the policy they require, the advisory sources they accept). The answer is a
//! [`Verification`], which `report` renders and whose exit code `verify` returns.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::bundle::{self, Refused};
use super::keys::PublicKey;
use super::predicate::{self, Predicate};
use super::statement::Subject;
use super::verify::{self, Verified};
use crate::model::verification::{
    Attested, Authentic, BundleKey, Concern, Exception, Override, Policy, Product, Source,
    Unchecked, Verification, VexException,
};
use crate::policy::model::{self, Direction, SETTINGS};

/// How far past the evaluation an exception may run under a required policy.
pub const EXCEPTION_DAYS: i64 = 90;
/// Clocks differ: an evaluation this far after now is not yet a concern.
const GRACE_MINUTES: i64 = 5;

/// The evidence as read, through [`read_limit`]: a DSSE envelope, or a submission bundle.
#[derive(Debug, Clone, Copy)]
pub enum Evidence<'a> {
    /// An envelope, and the name it is shown by.
    Envelope {
        name: &'a str,
        bytes: &'a [u8],
    },
    Bundle(&'a [u8]),
}

/// The most of the evidence file worth reading: one byte more than is ever accepted, so that
/// a larger file is known to be one.
pub fn read_limit(bundle: bool) -> u64 {
    if bundle {
        bundle::MAX_COMPRESSED + 1
    } else {
        verify::MAX_ENVELOPE_BYTES + 1
    }
}

/// What the recipient brings: their trusted keys, their own files, their requirements.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub keys: &'a [PublicKey],
    /// How many distinct trusted keys must have signed.
    pub threshold: usize,
    /// Their copies of the release artifacts, each of which must be attested.
    pub subjects: &'a [Subject],
    /// Their copy of the SBOM, which must be the attested one.
    pub sbom: Option<&'a Subject>,
    /// Their copy of the CycloneDX attestation, which must be the one the predicate records.
    pub cyclonedx: Option<&'a Subject>,
    /// Their copies of the run's VEX documents, each of which must be one the predicate records.
    pub vex: &'a [Subject],
    /// The built-in policy the attested one must be no looser than.
    pub policy: Option<&'a str>,
    /// How many days old the evaluation may be.
    pub max_age: Option<u32>,
    /// The advisory source URIs they accept (any, when none).
    pub accept_source: &'a [String],
    pub now: OffsetDateTime,
}

/// Verifies `evidence` for the recipient, and judges it if it is authentic.
pub fn verify(evidence: Evidence<'_>, request: &Request<'_>) -> Verification {
    match authenticate(evidence, request) {
        Err(why) => Verification::NotAuthentic {
            reason: why.to_string(),
        },
        Ok((verified, bundle_key)) => Verification::Authentic(Box::new(Authentic {
            concerns: concerns(&verified.predicate, request),
            attested: {
                let mut attested = attested(&verified.predicate);
                // Checked when given, or when the bundle holds it: a bundle carries it only as
                // `attestation.cdx.json` (and must, when recorded under that name); one recorded
                // under another name (`attest --cyclonedx my.cdx.json`) a bundle cannot carry,
                // so it is recorded, not checked.
                if let Some((name, verified)) = &mut attested.cyclonedx {
                    *verified = request.cyclonedx.is_some()
                        || (bundle_key.is_some() && name == super::bundle_check::CYCLONEDX);
                }
                // Each recorded VEX document is checked when a copy given has its digest, or
                // when a bundle carries it (under the name the audit gives it, as it must).
                for ((name, checked), recorded) in
                    attested.vex.iter_mut().zip(&verified.predicate.vex_outputs)
                {
                    *checked = request
                        .vex
                        .iter()
                        .any(|own| verify::digest_is(&recorded.digest, own))
                        || (bundle_key.is_some()
                            && super::bundle_check::VEX.contains(&name.as_str()));
                }
                attested
            },
            signers: verified.signers,
            bundle_key,
            // Compared by the command, which reads the recipient's files.
            binaries: Vec::new(),
        })),
    }
}

/// Whether the evidence is authentic and about the recipient's files.
fn authenticate(
    evidence: Evidence<'_>,
    request: &Request<'_>,
) -> Result<(Verified, Option<BundleKey>), Refused> {
    let (verified, key) = authenticate_statement(evidence, request)?;
    // The recipient's own copy of the CycloneDX attestation, if given, must be the recorded one.
    if let Some(own) = request.cyclonedx {
        verify::check_cyclonedx(&verified.predicate, own)?;
    }
    for own in request.vex {
        verify::check_vex(&verified.predicate, own)?;
    }
    Ok((verified, key))
}

fn authenticate_statement(
    evidence: Evidence<'_>,
    request: &Request<'_>,
) -> Result<(Verified, Option<BundleKey>), Refused> {
    match evidence {
        Evidence::Bundle(bytes) if bytes.len() as u64 > bundle::MAX_COMPRESSED => {
            Err(Refused::Tampered(format!(
                "file is more than the {} MiB a bundle may be",
                bundle::MAX_COMPRESSED / (1024 * 1024)
            )))
        }
        Evidence::Bundle(bytes) => {
            let checked = bundle::check(bytes, request.keys, request.threshold, request.subjects)?;
            // The recipient's own copy of the SBOM, if given, must be the bundled one.
            match request.sbom {
                Some(own) if !verify::digest_is(&checked.verified.predicate.sbom.digest, own) => {
                    Err(Refused::Tampered(format!(
                        "sbom.cdx.json is not {}",
                        own.name
                    )))
                }
                _ => Ok((checked.verified, Some(checked.bundle_key))),
            }
        }
        Evidence::Envelope { name, bytes } => verify::verify(
            name,
            bytes,
            request.keys,
            request.threshold,
            request.subjects,
            request.sbom,
        )
        .map(|verified| (verified, None))
        .map_err(Refused::Envelope),
    }
}

/// Every reason authentic evidence is not acceptable to the recipient, in the order shown.
pub fn concerns(p: &Predicate, request: &Request<'_>) -> Vec<Concern> {
    let mut concerns = Vec::new();
    if p.result != predicate::Outcome::Pass {
        concerns.push(Concern::ResultFail);
    }
    // The predicate was read against the schema and its consistency checked: it has a time.
    let evaluated = OffsetDateTime::parse(&p.evaluated_at, &Rfc3339).ok();
    let now = request.now;
    match (evaluated, request.max_age) {
        (None, _) => concerns.push(Concern::NoEvaluationTime),
        (Some(at), _) if at - now > time::Duration::minutes(GRACE_MINUTES) => {
            concerns.push(Concern::EvaluatedAfterNow {
                at: crate::time::rfc3339(at),
                now: crate::time::rfc3339(now),
            });
        }
        (Some(at), Some(days)) if now - at > time::Duration::days(i64::from(days)) => {
            concerns.push(Concern::TooOld {
                days: (now - at).whole_days(),
                max_age: days,
            });
        }
        _ => {}
    }
    if let Some(required) = request.policy {
        concerns.extend(policy_concerns(p, required, evaluated));
    }
    concerns.extend(source_concerns(p, request.accept_source));
    concerns
}

/// The advisory sources the attestation cites that the recipient does not accept (none when
/// the recipient names none).
fn source_concerns(predicate: &Predicate, accepted: &[String]) -> Vec<Concern> {
    if accepted.is_empty() {
        return Vec::new();
    }
    predicate
        .sources
        .iter()
        .filter(|s| !accepted.iter().any(|a| a == &s.uri))
        .map(|s| Concern::UnacceptedSource {
            name: s.name.clone(),
            uri: s.uri.clone(),
        })
        .collect()
}

/// What makes the attested policy fall short of the one the recipient requires.
fn policy_concerns(
    predicate: &Predicate,
    required: &str,
    evaluated: Option<OffsetDateTime>,
) -> Vec<Concern> {
    let policy = &predicate.policy;
    // A setting this verifier cannot judge (unknown, missing, not of its kind) is never
    // read as a pass.
    let mut out = super::consistency::settings_problems(predicate);
    // Another base is fine if none of its settings is looser than the required policy's
    // (nhs-charter-strict satisfies nhs-charter); each setting is judged below, whatever the
    // attestation says of its own overrides.
    if let Some(builtin) = crate::policy::builtin(required).map(|p| p.settings.to_map()) {
        for (section, key, kind, _) in SETTINGS {
            let path = model::path(section, key);
            let Some(expected) = builtin.get(&path) else {
                continue;
            };
            // The `[vex]` settings decide nothing in a run given no VEX: a predicate made
            // before they existed (which records none) is not loosened by their defaults.
            if *section == "vex" && policy.vex.is_empty() {
                continue;
            }
            // A record leaves some settings out while they are their defaults (the profile
            // `ntia-2021`, the `vex.*` settings).
            let value = match policy.settings.get(&path) {
                Some(attested) => model::Value::from_json(*kind, attested),
                None => model::default_of(&path),
            };
            if let Some(value) = value
                && model::direction(*kind, expected, &value) == Direction::Loosening
            {
                out.push(Concern::Loosened {
                    value: value.display(),
                    setting: path,
                    required: required.to_owned(),
                    expected: expected.display(),
                });
            }
        }
    }
    // Every VEX exception is judged by the required policy's `[vex]` rules.
    if let (Some(rules), Some(at)) = (crate::policy::builtin(required), evaluated) {
        for e in &predicate.findings.vex_exceptions {
            if let Some(why) = super::consistency::vex_refusal(e, &rules.settings.vex, at) {
                out.push(Concern::VexException {
                    finding: e.finding.clone(),
                    author: e.author.clone(),
                    why,
                    required: required.to_owned(),
                });
            }
        }
    }
    // Every exception is judged.
    for e in &policy.exceptions {
        let expires = crate::time::parse_day(&e.expires);
        let too_long = match (expires, evaluated) {
            (Some(day), Some(at)) => (day - at.date()).whole_days() > EXCEPTION_DAYS,
            _ => true,
        };
        if too_long {
            out.push(Concern::LongException {
                id: e.id.clone(),
                expires: e.expires.clone(),
                most_days: EXCEPTION_DAYS,
            });
        }
    }
    out
}

/// What the predicate says, as `verify` shows it.
pub fn attested(p: &Predicate) -> Attested {
    let builder = &p.builder;
    Attested {
        product: Product {
            name: p.product.name.clone(),
            version: p.product.version.clone(),
            purl: p.product.purl.clone(),
            commit: p.product.commit.clone(),
        },
        supplier: p.supplier.as_ref().map(|s| s.name.clone()),
        passed: p.result == predicate::Outcome::Pass,
        evaluated_at: p.evaluated_at.clone(),
        built_by: builder
            .other
            .get("run_url")
            .and_then(serde_json::Value::as_str)
            .unwrap_or(&builder.kind)
            .to_owned(),
        findings: p.findings.ids.clone(),
        sources: p
            .sources
            .iter()
            .map(|s| Source {
                name: s.name.clone(),
                uri: s.uri.clone(),
                revision: s.revision.clone(),
                last_updated: s.last_updated.clone(),
                advisories: s.advisories,
            })
            .collect(),
        checked: p.coverage.checked,
        unchecked: p
            .coverage
            .unchecked
            .iter()
            .map(|u| Unchecked {
                name: u.name.clone(),
                version: u.version.clone(),
                reason: u.reason.clone(),
            })
            .collect(),
        policy: policy(&p.policy, &p.findings.vex_exceptions),
        principles: p.principles.clone(),
        cyclonedx: p
            .cyclonedx_attestation
            .as_ref()
            .map(|c| (c.name.clone(), false)),
        vex: p
            .vex_outputs
            .iter()
            .map(|v| (v.name.clone(), false))
            .collect(),
    }
}

fn policy(p: &predicate::Policy, vex: &[predicate::VexException]) -> Policy {
    Policy {
        base: p.base.clone(),
        digest: p.digest.clone(),
        overrides: p
            .overrides
            .iter()
            .map(|o| Override {
                setting: o.setting.clone(),
                base: o.base.clone(),
                value: o.value.clone(),
                direction: o.direction.clone(),
            })
            .collect(),
        exceptions: p
            .exceptions
            .iter()
            .map(|e| Exception {
                id: e.id.clone(),
                expires: e.expires.clone(),
                approved_by: e.approved_by.clone(),
                reason: e.reason.clone(),
            })
            .collect(),
        vex: vex
            .iter()
            .map(|e| VexException {
                finding: e.finding.clone(),
                author: e.author.clone(),
                signer: e.signer.clone(),
                time: e.time.clone(),
                justification: e.justification.clone().or_else(|| e.impact.clone()),
            })
            .collect(),
    }
}
