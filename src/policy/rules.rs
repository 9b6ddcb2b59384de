//! Verdicts: the policy applied to the findings, above all the patch-age rule of STANDARDS.md,
//! word for word: clock start = max(fix version's publication, advisory publication);
//! exposure = evaluation time − clock start; a violation when it exceeds the window.

use std::collections::HashMap;

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::assess::{Assessed, Judged};
use super::config::Exception;
use super::model::{Level, PatchAge, Policy};
use super::verdict::{AppliedException, ClockStart, Judgement, Rule, RuleFinding, Verdict};
use crate::advisories::{Finding, Kind, Severity, SourceRecord};
use crate::registry::apply::FixFacts;

/// Judges every finding, each against the exceptions that name its id or an alias: the
/// exceptions are indexed once, so many exceptions and many findings cost their sum, not their
/// product.
pub fn judge_all(
    findings: Vec<Assessed>,
    policy: &Policy,
    exceptions: &[Exception],
    now: OffsetDateTime,
) -> Vec<Judged> {
    let by_id = exceptions_by_id(exceptions);
    findings
        .into_iter()
        .map(|Assessed { finding, fix }| {
            // In the file's order, as when every exception was tried in turn.
            let mut candidates: Vec<&Exception> = candidates(&by_id, &finding).collect();
            candidates.sort_by_key(|e| e.line);
            let judgement = judge_with(&finding, &fix, policy, &candidates, now);
            Judged {
                finding,
                fix,
                judgement,
            }
        })
        .collect()
}

/// The exceptions by the id they name.
fn exceptions_by_id(exceptions: &[Exception]) -> HashMap<&str, Vec<&Exception>> {
    let mut by_id: HashMap<&str, Vec<&Exception>> = HashMap::new();
    for exception in exceptions {
        by_id
            .entry(exception.id.as_str())
            .or_default()
            .push(exception);
    }
    by_id
}

/// The exceptions that name a finding's id or one of its aliases (each once).
fn candidates<'e>(
    by_id: &'e HashMap<&str, Vec<&'e Exception>>,
    finding: &'e Finding,
) -> impl Iterator<Item = &'e Exception> {
    let mut names: Vec<&str> = std::iter::once(finding.id.as_str())
        .chain(finding.aliases.iter().map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .filter_map(|name| by_id.get(name))
        .flatten()
        .copied()
}

/// Judges one advisory finding.
pub fn judge(
    finding: &Finding,
    fix: &FixFacts,
    policy: &Policy,
    exceptions: &[Exception],
    now: OffsetDateTime,
) -> Judgement {
    let exceptions: Vec<&Exception> = exceptions.iter().collect();
    judge_with(finding, fix, policy, &exceptions, now)
}

fn judge_with(
    finding: &Finding,
    fix: &FixFacts,
    policy: &Policy,
    exceptions: &[&Exception],
    now: OffsetDateTime,
) -> Judgement {
    if let Some(why) = &finding.not_applicable {
        // The advisory is limited to platforms the audited target is not: information, not a
        // patch-age question (and no exception is needed or used).
        return simple(Rule::NotApplicable, Level::Warning, why.clone())
            .with_verdict(Verdict::Info);
    }
    let mut judgement = rule_judgement(finding, fix, policy, now);
    if matches!(judgement.verdict, Verdict::Violation | Verdict::Warning)
        && let Some(exception) = exceptions
            .iter()
            .copied()
            .filter(|e| matches(e, finding))
            .min_by_key(|e| expired(e, now))
    {
        apply_exception(&mut judgement, exception, now);
    }
    judgement
}

/// What the rule for the finding's kind makes of it, before exceptions.
fn rule_judgement(
    finding: &Finding,
    fix: &FixFacts,
    policy: &Policy,
    now: OffsetDateTime,
) -> Judgement {
    let settings = &policy.settings;
    match finding.kind {
        Kind::Vulnerability => patch_age(finding, fix, policy, now),
        Kind::Yanked => simple(
            Rule::Yanked,
            settings.yanked.verdict,
            match &fix.upgrade_to {
                Some(to) => format!(
                    "upgrade {name} {version} → {to}: {version} was yanked from its registry",
                    name = finding.package.name,
                    version = finding.package.version
                ),
                None => format!(
                    "{} {} was yanked from its registry, and no later release is not: replace it",
                    finding.package.name, finding.package.version
                ),
            },
        ),
        Kind::Unmaintained => simple(
            Rule::Unmaintained,
            settings.informational.unmaintained,
            format!(
                "{} is unmaintained: plan a replacement",
                finding.package.name
            ),
        ),
        Kind::Unsound => simple(
            Rule::Unsound,
            settings.informational.unsound,
            format!(
                "{} {} has unsound API: check whether the product uses it",
                finding.package.name, finding.package.version
            ),
        ),
        Kind::Notice => simple(
            Rule::Notice,
            settings.informational.notice,
            format!("notice about {}: read it", finding.package.name),
        ),
    }
}

/// An exception that names the finding: in force, it excepts it; expired, it is noted.
fn apply_exception(judgement: &mut Judgement, exception: &Exception, now: OffsetDateTime) {
    let expired = expired(exception, now);
    if expired {
        judgement.message.push_str(&format!(
            "; exception for {} expired on {} (it was valid through that day)",
            exception.id, exception.expires
        ));
    } else {
        judgement.verdict = Verdict::Excepted;
        judgement.message.push_str(&format!(
            "; excepted until {} ({}; approved by {})",
            exception.expires, exception.reason, exception.approved_by
        ));
    }
    judgement.exception = Some(AppliedException {
        id: exception.id.clone(),
        reason: exception.reason.clone(),
        expires: exception.expires.clone(),
        approved_by: exception.approved_by.clone(),
        expired,
        justification: exception.justification,
    });
}

impl Judgement {
    fn with_verdict(mut self, verdict: Verdict) -> Judgement {
        self.verdict = verdict;
        self
    }
}

fn simple(rule: Rule, level: Level, message: String) -> Judgement {
    Judgement {
        verdict: level.into(),
        rule,
        message,
        exposure_days: None,
        window_days: None,
        clock_start: None,
        clock_start_from: None,
        exception: None,
        vex: None,
    }
}

/// The patch-age rule.
fn patch_age(finding: &Finding, fix: &FixFacts, policy: &Policy, now: OffsetDateTime) -> Judgement {
    let Some(published) = finding
        .date
        .as_deref()
        .and_then(crate::time::parse_day)
        .map(|d| d.midnight().assume_utc())
    else {
        return undated(finding);
    };
    let fix_time = fix
        .fix_published_at
        .as_deref()
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok());
    let (start, from) = match fix_time {
        Some(fix) if fix > published => (fix, ClockStart::FixPublished),
        Some(_) => (published, ClockStart::AdvisoryPublished),
        None => (published, ClockStart::AdvisoryPublished),
    };
    // An advisory or fix dated after the evaluation time (a database newer than `--now`) has
    // no exposure yet.
    let exposure = (now - start).max(Duration::ZERO);
    let patch_age = &policy.settings.patch_age;
    let window = if fix.fix_version.is_some() || fix_undated(finding, fix) {
        severity_window(patch_age, finding.severity)
    } else {
        patch_age.no_fix
    };
    let past = exposure > Duration::days(i64::from(window));
    Judgement {
        verdict: if past {
            Verdict::Violation
        } else {
            Verdict::Warning
        },
        rule: Rule::PatchAge,
        message: patch_age_message(finding, fix, window, exposure, past),
        exposure_days: Some(exposure.whole_days()),
        window_days: Some(window),
        clock_start: Some(crate::time::rfc3339(start)),
        clock_start_from: Some(from),
        exception: None,
        vex: None,
    }
}

/// A fix exists but the registry cannot say when it was published: the clock counts from the
/// advisory's publication, the earliest it can start, so that not knowing never shortens the
/// exposure.
fn fix_undated(finding: &Finding, fix: &FixFacts) -> bool {
    fix.fix_version.is_none() && fix.registry_note.is_some() && !finding.patched.is_empty()
}

/// A vulnerability whose record gives no date. Every advisory source dates its records, so
/// this is a record that did not say: its exposure has no lower bound, and not knowing never
/// shortens it.
fn undated(finding: &Finding) -> Judgement {
    Judgement {
        verdict: Verdict::Violation,
        rule: Rule::PatchAge,
        message: format!(
            "{} {}: the advisory gives no date, so how long it has been exposed is unknown; treated as past every window",
            finding.package.name, finding.package.version
        ),
        exposure_days: None,
        window_days: None,
        clock_start: None,
        clock_start_from: None,
        exception: None,
        vex: None,
    }
}

/// The days a fix for a vulnerability of `severity` may wait.
fn severity_window(patch_age: &PatchAge, severity: Severity) -> u32 {
    match severity {
        Severity::Critical => patch_age.critical,
        Severity::High => patch_age.high,
        Severity::Medium => patch_age.medium,
        Severity::Low => patch_age.low,
        Severity::Unscored => patch_age.unscored,
    }
}

/// What the patch-age rule says of a finding `exposure` into its `window` (`past` it or not).
fn patch_age_message(
    finding: &Finding,
    fix: &FixFacts,
    window: u32,
    exposure: Duration,
    past: bool,
) -> String {
    let name = &finding.package.name;
    let version = &finding.package.version;
    let shown = shown_days(exposure, window);
    if fix_undated(finding, fix) {
        let to = finding.patched.join(" or ");
        let note = fix.registry_note.as_deref().unwrap_or_default();
        return format!(
            "upgrade {name} {version} to a release {to}: the registry facts are unknown ({note}), so the clock counts from the advisory's publication: {shown} days, window {window}"
        );
    }
    let Some(fixed) = &fix.fix_version else {
        return format!(
            "{name} {version}: no fixed release yet; advisory published {shown} days ago (limit {window})"
        );
    };
    let to = fix.upgrade_to.as_deref().unwrap_or(fixed);
    let mut message = if past {
        format!("upgrade {name} {version} → {to}: fix available for {shown} days, window {window}")
    } else {
        let days = exposure.whole_days();
        let left = i64::from(window) - days;
        format!(
            "upgrade {name} {version} → {to}: fix available for {days} days, {left} day(s) left of the {window}-day window"
        )
    };
    if let Some(note) = &fix.registry_note {
        message.push_str(&format!(" ({note})"));
    }
    message
}

/// Whole days of exposure, as the reports show them; "more than N" when the exposure is past
/// an N-day limit by less than a day, which whole days alone would show as within it.
fn shown_days(exposure: Duration, limit: u32) -> String {
    let days = exposure.whole_days();
    if days == i64::from(limit) && exposure > Duration::days(days) {
        format!("more than {}", thousands(days))
    } else {
        thousands(days)
    }
}

fn thousands(n: i64) -> String {
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Whether an exception names this finding: its id or an alias, and the package and version
/// when the exception gives them.
fn matches(exception: &Exception, finding: &Finding) -> bool {
    let id = exception.id == finding.id || finding.aliases.contains(&exception.id);
    id && exception
        .package
        .as_ref()
        .is_none_or(|p| *p == finding.package.name)
        && exception
            .version
            .as_ref()
            .is_none_or(|v| *v == finding.package.version)
}

/// An exception is valid through its expiry day, UTC.
fn expired(exception: &Exception, now: OffsetDateTime) -> bool {
    match crate::time::parse_day(&exception.expires) {
        Some(day) => now.date() > day,
        None => true,
    }
}

/// Rules not about one package: database age, exceptions that match nothing or run too long.
pub fn rule_findings(
    findings: &[Judged],
    sources: &[SourceRecord],
    policy: &Policy,
    exceptions: &[Exception],
    now: OffsetDateTime,
) -> Vec<RuleFinding> {
    let mut out: Vec<RuleFinding> = sources
        .iter()
        .filter_map(|source| database_age(source, policy.settings.advisory_db.max_age_days, now))
        .collect();
    out.extend(exception_rules(findings, policy, exceptions, now));
    out
}

/// `advisory-db-age`: a database older than `max_age` days, updated after the evaluation
/// time, or of unknown age.
fn database_age(source: &SourceRecord, max_age: u32, now: OffsetDateTime) -> Option<RuleFinding> {
    let updated = source
        .last_updated
        .as_deref()
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok());
    let (verdict, message) = match updated {
        Some(updated) if now - updated > Duration::days(i64::from(max_age)) => (
            Verdict::Violation,
            format!(
                "the {} database was last updated {} days before the evaluation time (limit {max_age}): update it; stale evidence is not evidence",
                source.name,
                (now - updated).whole_days()
            ),
        ),
        Some(updated) if updated > now => (
            Verdict::Warning,
            format!(
                "the {} database was last updated at {}, after the evaluation time: what it says was not known then, and advisories dated after it have no exposure yet",
                source.name,
                crate::time::rfc3339(updated)
            ),
        ),
        Some(_) => return None,
        None => (
            Verdict::Violation,
            format!(
                "the {} database's last update is unknown: {}",
                source.name,
                if source.name == crate::advisories::OSV {
                    "its records carry no dates"
                } else {
                    "pass --advisory-db-date for a plain folder"
                }
            ),
        ),
    };
    Some(RuleFinding {
        rule: Rule::AdvisoryDbAge,
        verdict,
        subject: source.name.clone(),
        message,
        package: None,
    })
}

/// `exception-unused` and `exception-expiry`: exceptions that match no finding, or expire
/// further ahead than the policy's `exceptions.max-days-ahead`.
fn exception_rules(
    findings: &[Judged],
    policy: &Policy,
    exceptions: &[Exception],
    now: OffsetDateTime,
) -> Vec<RuleFinding> {
    let mut out = Vec::new();
    let limits = &policy.settings.exceptions;
    let horizon = limits.max_days_ahead;
    // Each finding under its id and aliases: an exception is checked against the findings it
    // names, not against every finding.
    let mut by_name: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for finding in findings.iter().map(|j| &j.finding) {
        for name in std::iter::once(&finding.id).chain(&finding.aliases) {
            by_name.entry(name.as_str()).or_default().push(finding);
        }
    }
    for exception in exceptions {
        let used = by_name
            .get(exception.id.as_str())
            .is_some_and(|named| named.iter().any(|f| matches(exception, f)));
        if !used {
            out.push(RuleFinding {
                rule: Rule::ExceptionUnused,
                verdict: Verdict::Warning,
                subject: exception.id.clone(),
                message: format!(
                    "the exception for {} (line {}) matches no finding: remove it",
                    exception.id, exception.line
                ),
                package: None,
            });
        }
        if let Some(day) = crate::time::parse_day(&exception.expires) {
            let ahead = (day - now.date()).whole_days();
            if ahead > i64::from(horizon) {
                out.push(RuleFinding {
                    rule: Rule::ExceptionExpiry,
                    verdict: limits.too_far_ahead.into(),
                    subject: exception.id.clone(),
                    message: format!(
                        "the exception for {} expires in {ahead} days, more than {horizon}: review exceptions more often",
                        exception.id
                    ),
                    package: None,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_undated_vulnerability_is_never_read_as_just_published() {
        let finding = Finding {
            id: "OSV-UNDATED".to_owned(),
            aliases: Vec::new(),
            kind: Kind::Vulnerability,
            package: crate::advisories::FindingPackage {
                name: "left-pad".to_owned(),
                version: "1.0.0".to_owned(),
                purl: "pkg:npm/left-pad@1.0.0".to_owned(),
            },
            ecosystem: crate::inventory::purl::Ecosystem::Npm,
            title: "undated".to_owned(),
            severity: Severity::High,
            severities: Vec::new(),
            vector: None,
            date: None,
            patched: vec![">=1.0.1".to_owned()],
            references: Vec::new(),
            sources: vec!["osv".to_owned()],
            functions: Vec::new(),
            not_applicable: None,
            affected: None,
            scopes: Vec::new(),
        };
        let policy = crate::policy::builtin("nhs-charter").unwrap();
        let now = time::macros::datetime!(2026-08-25 00:00 UTC);
        let fix = FixFacts::unknown("no registry facts".to_owned());
        let judgement = judge(&finding, &fix, &policy, &[], now);
        assert_eq!(judgement.verdict, Verdict::Violation);
        assert!(
            judgement.message.contains("no date"),
            "{}",
            judgement.message
        );
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(1630), "1,630");
        assert_eq!(thousands(14), "14");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
