//! Judging and assembling: the policy joins the findings to the registry facts and judges
//! them, as new values; the rules about the product as a whole are added; one typed report
//! is made.

use super::gather::Gathered;
use super::{Audit, AuditError, Input, Options};
use crate::model::report::{self, Components, PolicyRecord, Report, Tool};
use crate::policy::assess::{self, Registry};
use crate::policy::{self, product, rules};
use crate::time::rfc3339;

/// Judges what was gathered and assembles the report.
pub(super) fn report(
    options: &Options,
    gathered: Gathered,
    vex: Vec<crate::vex::Document>,
) -> Result<Audit, AuditError> {
    let Gathered {
        findings,
        lookups,
        coverage,
        inventory,
        by_source,
        packages,
        product,
        supplier,
        sbom,
        completeness: (completeness, extra),
        sources,
        registry,
        warnings,
        lockfile_path,
        builder,
        rule_findings: gathered_rules,
        target,
    } = gathered;
    let config = &options.config;
    let now = options.now;
    let registry_facts = match &options.input {
        Input::Cargo { .. } => Registry::Index(lookups.as_ref()),
        // A supplier's SBOM has no registry facts at all: each finding says so.
        Input::Sbom { .. } => Registry::SbomAudit,
    };
    let assessed = assess::join(findings, &packages, registry_facts);
    let judged = rules::judge_all(assessed, &config.policy, &config.exceptions, now);
    let statements = policy::vex::Index::new(&vex, product.purl.as_deref());
    let judged = statements.apply_all(judged, &config.policy, now);
    let mut rule_findings =
        rules::rule_findings(&judged, &sources, &config.policy, &config.exceptions, now);
    rule_findings.extend(statements.unused(&judged));
    if let Input::Cargo {
        trusted_lockfile, ..
    } = &options.input
    {
        rule_findings.extend(product::registry_facts(&packages, *trusted_lockfile));
    }
    rule_findings.extend(gathered_rules);
    rule_findings.extend(product::completeness(&completeness, &extra, &config.policy));
    let binaries = match (&sbom, options.binaries.is_empty()) {
        (_, true) => Vec::new(),
        (None, false) => return Err(AuditError::SbomNotMade("comparing a binary with it")),
        (Some(bytes), false) => options
            .binaries
            .iter()
            .map(|binary| crate::inventory::binary_match::compare(binary, bytes))
            .collect::<Result<Vec<_>, _>>()?,
    };
    rule_findings.extend(product::sbom_binary_match(&binaries));
    let findings: Vec<report::Finding> = judged.into_iter().map(report::Finding::from).collect();
    let (summary, result) = Report::tally(&findings, &rule_findings);
    let report = Report {
        schema: report::SCHEMA.to_owned(),
        result,
        generated_at: rfc3339(options.stamp.time),
        evaluated_at: rfc3339(now),
        tool: Tool::this(),
        builder,
        product,
        target,
        supplier,
        sources,
        registry,
        policy: PolicyRecord {
            base: config.policy.base.clone(),
            digest: policy::digest(&config.policy),
            settings: config.policy.settings.clone(),
            overrides: config.overrides.clone(),
            exceptions: config.exceptions.clone(),
            vex,
        },
        coverage,
        components: Components {
            total: packages.len(),
            by_source,
            inventory,
            packages,
        },
        findings,
        rule_findings,
        summary,
        binaries,
    };
    Ok(Audit {
        report,
        sbom,
        lockfile_path,
        warnings,
    })
}
