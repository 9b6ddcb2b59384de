//! What a schema cannot say of a predicate: that it agrees with itself. An audit never writes
//! a predicate that fails these checks, so a signed one that does was made by hand, and is not
//! an attestation of ours (`verify` exit 3), whoever signed it: the result agrees with the
//! verdicts it counts and lists, the counts agree with the lists, every excepted finding has an
//! exception that was in force, every override is the setting it records, and each VEX
//! document is recorded once.
//!
//! The policy settings are a closed set per predicate version ([`settings_problems`]): a
//! setting this verifier does not know, or one it misses, cannot be judged, so a predicate
//! with either is never accepted under a required policy.

use std::collections::{BTreeMap, BTreeSet};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::predicate::{Findings, Outcome, Predicate};
use crate::model::verification::Concern;
use crate::policy::Verdict;
use crate::policy::model::{self, SETTINGS};
use crate::text::clean;

/// The verdicts a predicate counts.
/// The verdicts a predicate may name: the policy's, as reports write them.
const VERDICTS: [&str; 4] = [
    Verdict::ALL[0].as_str(),
    Verdict::ALL[1].as_str(),
    Verdict::ALL[2].as_str(),
    Verdict::ALL[3].as_str(),
];

/// How a predicate contradicts itself: every problem found, in one message.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.join("; "))]
pub struct Contradiction(pub Vec<String>);

/// Every way `p` contradicts itself.
pub fn check(p: &Predicate) -> Result<(), Contradiction> {
    let mut problems = Vec::new();
    verdict_problems(&p.findings, &mut problems);
    count_problems(&p.findings, &mut problems);
    result_problems(p, &mut problems);
    exception_problems(p, &mut problems);
    vex_problems(p, &mut problems);
    override_problems(p, &mut problems);
    vex_output_problems(p, &mut problems);
    binary_problems(p, &mut problems);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Contradiction(problems))
    }
}

/// A binary compared with the SBOM is `exact` exactly when no difference is listed, and one
/// that holds a package the SBOM does not list (a `sbom-binary-match` violation) fails the
/// audit.
fn binary_problems(p: &Predicate, problems: &mut Vec<String>) {
    use crate::inventory::binary_match::MatchResult;
    for b in &p.binaries {
        let differs = b.hidden().next().is_some() || b.overstated().next().is_some();
        if differs != (b.result == MatchResult::Differs) {
            problems.push(format!(
                "binaries: {} is `{}` but lists {} difference(s)",
                clean(&b.subject),
                if differs { "exact" } else { "differs" },
                b.hidden().count() + b.overstated().count()
            ));
        }
        if b.hidden().next().is_some() && p.result != Outcome::Fail {
            problems.push(format!(
                "binaries: {} holds packages the SBOM does not list, but the result is pass",
                clean(&b.subject)
            ));
        }
    }
}

/// Every verdict named is one a predicate counts; information is not a rule finding listed.
fn verdict_problems(findings: &Findings, problems: &mut Vec<String>) {
    for (what, verdicts) in [
        (
            "findings.by_verdict_and_severity",
            findings.by_verdict_and_severity.keys().collect::<Vec<_>>(),
        ),
        ("findings.ids", findings.ids.keys().collect()),
        ("findings.summary", findings.summary.keys().collect()),
        (
            "findings.rule_findings",
            findings.rule_findings.iter().map(|r| &r.verdict).collect(),
        ),
    ] {
        for verdict in verdicts {
            if !VERDICTS.contains(&verdict.as_str()) {
                problems.push(format!(
                    "{what} has the verdict `{}`, which is none of {}",
                    clean(verdict),
                    VERDICTS.join(", ")
                ));
            }
        }
    }
    if findings.rule_findings.iter().any(|r| r.verdict == "info") {
        problems.push("findings.rule_findings lists information, which it leaves out".to_owned());
    }
}

/// Counts agree with lists, verdict by verdict.
fn count_problems(findings: &Findings, problems: &mut Vec<String>) {
    let listed = |verdict: &str| findings.ids.get(verdict).map_or(0, Vec::len) as u64;
    let rules = |verdict: &str| {
        findings
            .rule_findings
            .iter()
            .filter(|r| r.verdict == verdict)
            .count() as u64
    };
    let verdicts: BTreeSet<&str> = findings
        .by_verdict_and_severity
        .keys()
        .chain(findings.ids.keys())
        .chain(findings.summary.keys())
        .map(String::as_str)
        .filter(|v| VERDICTS.contains(v))
        .collect();
    for verdict in verdicts {
        let by_severity: u64 = findings
            .by_verdict_and_severity
            .get(verdict)
            .map_or(0, |counts| {
                counts.values().fold(0u64, |a, n| a.saturating_add(*n))
            });
        if by_severity != listed(verdict) {
            problems.push(format!(
                "it counts {by_severity} {verdict} finding(s) by severity and lists {}",
                listed(verdict)
            ));
        }
        let summary = findings.summary.get(verdict).copied().unwrap_or(0);
        let expected = listed(verdict) + rules(verdict);
        // Rule findings of information are counted but not listed.
        let agrees = if verdict == "info" {
            summary >= expected
        } else {
            summary == expected
        };
        if !agrees {
            problems.push(format!(
                "its summary counts {summary} {verdict}(s) where it lists {expected}"
            ));
        }
    }
}

/// The result agrees with the violations.
fn result_problems(p: &Predicate, problems: &mut Vec<String>) {
    let violations = p.findings.summary.get("violation").copied().unwrap_or(0);
    match (p.result, violations) {
        (Outcome::Pass, 1..) => problems.push(format!(
            "its result is pass with {violations} violation(s) listed"
        )),
        (Outcome::Fail, 0) => {
            problems.push("its result is fail with no violation listed".to_owned());
        }
        _ => {}
    }
}

/// Every excepted finding has an exception in force at the evaluation that covers it.
fn exception_problems(p: &Predicate, problems: &mut Vec<String>) {
    let evaluated = OffsetDateTime::parse(&p.evaluated_at, &Rfc3339).ok();
    if evaluated.is_none() {
        problems.push("its evaluated_at is not an RFC 3339 time".to_owned());
    }
    for entry in p.findings.ids.get("excepted").into_iter().flatten() {
        let (package, version) = entry
            .split_once(' ')
            .and_then(|(_, at)| at.rsplit_once('@'))
            .unwrap_or(("", ""));
        // A VEX exception is judged on its own (`vex_problems`).
        if p.findings
            .vex_exceptions
            .iter()
            .any(|v| &v.finding == entry)
        {
            continue;
        }
        let covered = p.policy.exceptions.iter().any(|e| {
            let in_force = match (crate::time::parse_day(&e.expires), evaluated) {
                (Some(day), Some(at)) => day >= at.date(),
                _ => false,
            };
            in_force
                && e.package.as_deref().is_none_or(|p| p == package)
                && e.version.as_deref().is_none_or(|v| v == version)
        });
        if !covered {
            problems.push(format!(
                "the excepted finding `{}` has no exception in force that covers it",
                clean(entry)
            ));
        }
    }
}

/// Every VEX exception is of an excepted finding, by a document the predicate records, and
/// acceptable under the recorded `[vex]` settings at the evaluation; the counts by kind of
/// exception agree with the lists.
fn vex_problems(p: &Predicate, problems: &mut Vec<String>) {
    let excepted = p
        .findings
        .ids
        .get("excepted")
        .map_or(&[][..], Vec::as_slice);
    let evaluated = OffsetDateTime::parse(&p.evaluated_at, &Rfc3339).ok();
    let rules = recorded_vex(p);
    for e in &p.findings.vex_exceptions {
        let finding = clean(&e.finding);
        if !excepted.contains(&e.finding) {
            problems.push(format!(
                "the VEX exception of `{finding}` is not of an excepted finding"
            ));
        }
        if !p.policy.vex.iter().any(|d| d.digest == e.document) {
            problems.push(format!(
                "the VEX exception of `{finding}` names a document the predicate does not record"
            ));
        }
        if let Some(at) = evaluated
            && let Some(why) = vex_refusal(e, &rules, at)
        {
            problems.push(format!(
                "the VEX exception of `{finding}` does not follow its own policy: {why}"
            ));
        }
    }
    match &p.findings.excepted_by {
        Some(by)
            if by.vex != p.findings.vex_exceptions.len() as u64
                || by.configuration.saturating_add(by.vex) != excepted.len() as u64 =>
        {
            problems.push(
                "its excepted findings counted by kind of exception do not agree with its lists"
                    .to_owned(),
            );
        }
        None if !p.findings.vex_exceptions.is_empty() => {
            problems.push("it lists VEX exceptions without counting them apart".to_owned());
        }
        _ => {}
    }
}

/// The `[vex]` settings the predicate records (each left out is its default).
fn recorded_vex(p: &Predicate) -> model::Vex {
    let value = |name: &str, kind: model::Kind| {
        p.policy
            .settings
            .get(name)
            .and_then(|v| model::Value::from_json(kind, v))
            .or_else(|| model::default_of(name))
    };
    let mut rules = model::Vex::default();
    if let Some(model::Value::Days(days)) = value("vex.max-age", model::Kind::Days) {
        rules.max_age = days;
    }
    if let Some(model::Value::Flag(f)) = value("vex.require-justification", model::Kind::Flag) {
        rules.require_justification = f;
    }
    if let Some(model::Value::Flag(f)) = value("vex.require-signed", model::Kind::Flag) {
        rules.require_signed = f;
    }
    rules
}

/// Why a VEX exception does not stand under `rules` at `evaluated`: the same rules the audit
/// applies (`policy::vex`), judged again from what the predicate says of the statement.
pub(super) fn vex_refusal(
    e: &super::predicate::VexException,
    rules: &model::Vex,
    evaluated: OffsetDateTime,
) -> Option<String> {
    if rules.require_signed && e.signer.is_none() {
        return Some("its document is not signed, and signed VEX is required".to_owned());
    }
    let Ok(at) = OffsetDateTime::parse(&e.time, &Rfc3339) else {
        return Some("its time is not an RFC 3339 time".to_owned());
    };
    if at > evaluated {
        return Some("its statement is dated after the evaluation".to_owned());
    }
    let age = evaluated - at;
    if age > time::Duration::days(i64::from(rules.max_age)) {
        return Some(format!(
            "its statement was {} days old at the evaluation, more than {} (vex.max-age)",
            age.whole_days(),
            rules.max_age
        ));
    }
    if rules.require_justification && e.justification.is_none() && e.impact.is_none() {
        return Some("it gives no justification, and one is required".to_owned());
    }
    None
}

/// Each override is the setting as recorded.
fn override_problems(p: &Predicate, problems: &mut Vec<String>) {
    for o in &p.policy.overrides {
        if p.policy.settings.get(&o.setting) != Some(&o.value) {
            problems.push(format!(
                "the override of `{}` is not the value its settings record",
                clean(&o.setting)
            ));
        }
    }
}

/// Each VEX document is recorded once: a name given twice, with two digests, would let a
/// bundle or a recipient's copy match either.
fn vex_output_problems(p: &Predicate, problems: &mut Vec<String>) {
    let mut names = BTreeSet::new();
    for v in &p.vex_outputs {
        if !names.insert(v.name.as_str()) {
            problems.push(format!(
                "it records the VEX document `{}` twice",
                clean(&v.name)
            ));
        }
    }
}

/// The settings of `p` that this verifier cannot judge: unknown to predicate v1, missing, or
/// not a value of their kind.
pub fn settings_problems(p: &Predicate) -> Vec<Concern> {
    let known: BTreeMap<String, model::Kind> = SETTINGS
        .iter()
        .map(|(section, key, kind, _)| (model::path(section, key), *kind))
        .collect();
    let mut out = Vec::new();
    for name in p.policy.settings.keys() {
        if !known.contains_key(name) {
            out.push(Concern::UnknownSetting {
                setting: name.clone(),
            });
        }
    }
    for (name, kind) in &known {
        match p.policy.settings.get(name) {
            // Recorded only when not the default (`Settings::to_record`).
            None if model::default_of(name).is_some() => {}
            None => out.push(Concern::MissingSetting {
                setting: name.clone(),
            }),
            Some(value) if model::Value::from_json(*kind, value).is_none() => {
                out.push(Concern::NotASettingValue {
                    setting: name.clone(),
                    value: value.to_string(),
                });
            }
            Some(_) => {}
        }
    }
    out
}
