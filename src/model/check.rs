//! What reading a report checks beyond its types: that it is what this version of charter-audit
//! writes. The verdicts are judged again from the report's own facts (the finding, its registry
//! facts, the recorded settings, exceptions and VEX statements, the evaluation time) by the policy's own
//! rules, and must be the ones recorded, word for word; so must the rule findings the report's
//! facts decide (database age, exceptions). The policy's digest must be its settings'. What the
//! report cannot decide alone (where packages come from, licences, the SBOM's completeness,
//! the registry facts themselves) rests on the run that wrote it.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::report::{Finding, Report, ReportError, Tool};
use crate::advisories::{self, FindingPackage};
use crate::inventory::purl::Ecosystem;
use crate::policy::assess::Judged;
use crate::policy::model::Policy;
use crate::policy::{Judgement, Rule, rules, vex};
use crate::registry::apply::FixFacts;

/// Checks that `report` is one this version writes.
pub(super) fn check(report: &Report) -> Result<(), ReportError> {
    if report.tool != Tool::this() {
        return Err(ReportError::Tool {
            name: report.tool.name.clone(),
            version: report.tool.version.clone(),
        });
    }
    let policy = Policy {
        base: report.policy.base.clone(),
        settings: report.policy.settings.clone(),
    };
    if crate::policy::digest(&policy) != report.policy.digest {
        return Err(ReportError::Digest);
    }
    let now = OffsetDateTime::parse(&report.evaluated_at, &Rfc3339)
        .map_err(|_| ReportError::Time(report.evaluated_at.clone()))?;
    let exceptions = &report.policy.exceptions;
    let statements = vex::Index::new(&report.policy.vex, report.product.purl.as_deref());
    let mut judged = Vec::with_capacity(report.findings.len());
    for recorded in &report.findings {
        let (finding, fix) = facts(recorded);
        let judgement = rules::judge(&finding, &fix, &policy, exceptions, now);
        let judgement = statements.apply(&finding, judgement, &policy, now);
        if judgement != judgement_of(recorded) {
            return Err(ReportError::Verdict {
                id: recorded.id.clone(),
                package: format!("{} {}", recorded.package.name, recorded.package.version),
            });
        }
        judged.push(Judged {
            finding,
            fix,
            judgement,
        });
    }
    let decided = |rule: Rule| {
        matches!(
            rule,
            Rule::AdvisoryDbAge | Rule::ExceptionUnused | Rule::ExceptionExpiry | Rule::VexUnused
        )
    };
    let mut expected = rules::rule_findings(&judged, &report.sources, &policy, exceptions, now);
    expected.extend(statements.unused(&judged));
    let recorded: Vec<_> = report
        .rule_findings
        .iter()
        .filter(|r| decided(r.rule))
        .cloned()
        .collect();
    if expected != recorded {
        return Err(ReportError::RuleFindings);
    }
    Ok(())
}

/// The advisory's facts and the registry's, as the policy judged them.
fn facts(recorded: &Finding) -> (advisories::Finding, FixFacts) {
    let finding = advisories::Finding {
        id: recorded.id.clone(),
        aliases: recorded.aliases.clone(),
        kind: recorded.kind,
        package: FindingPackage::clone(&recorded.package),
        // The rules do not read it.
        ecosystem: Ecosystem::CratesIo,
        title: recorded.title.clone(),
        severity: recorded.severity,
        severities: recorded.severities.clone(),
        vector: recorded.vector.clone(),
        date: recorded.date.clone(),
        patched: recorded.patched.clone(),
        references: recorded.references.clone(),
        sources: recorded.sources.clone(),
        functions: recorded.functions.clone(),
        not_applicable: recorded.not_applicable.clone(),
        affected: None,
        scopes: Vec::new(),
    };
    let fix = FixFacts {
        fix_version: recorded.fix_version.clone(),
        fix_published_at: recorded.fix_published_at.clone(),
        upgrade_to: recorded.upgrade_to.clone(),
        registry_note: recorded.registry_note.clone(),
    };
    (finding, fix)
}

/// The verdict as the report records it.
fn judgement_of(recorded: &Finding) -> Judgement {
    Judgement {
        verdict: recorded.verdict,
        rule: recorded.rule,
        message: recorded.message.clone(),
        exposure_days: recorded.exposure_days,
        window_days: recorded.window_days,
        clock_start: recorded.clock_start.clone(),
        clock_start_from: recorded.clock_start_from,
        exception: recorded.exception.clone(),
        vex: recorded.vex.clone(),
    }
}
