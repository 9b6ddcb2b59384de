//! Registry facts applied to the audit: per component (yanked, published, newest) and per
//! finding (fix version, its publication, upgrade to); yanked versions become findings.

use serde::Serialize;
use time::OffsetDateTime;

use super::{Lookups, facts};
use crate::advisories::{Finding, FindingPackage, Kind, Severity};
use crate::inventory::{Inventory, PackageSource};
use crate::time::rfc3339;

/// One component of the product, with what the registry says of it.
#[derive(Clone, Debug, Serialize)]
pub struct ComponentFacts {
    pub name: String,
    pub version: String,
    pub purl: String,
    pub source: String,
    /// As of the index lookup; `null` when the registry facts are unknown.
    pub yanked: Option<bool>,
    pub published_at: Option<String>,
    /// The newest release at the evaluation time.
    pub newest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry_note: Option<String>,
}

/// Fills in the registry facts; returns the components and adds a finding per yanked version.
pub fn apply(
    inventory: &Inventory,
    lookups: Option<&Lookups>,
    findings: &mut Vec<Finding>,
    now: OffsetDateTime,
) -> Vec<ComponentFacts> {
    let mut components = Vec::with_capacity(inventory.packages.len());
    for package in &inventory.packages {
        let mut facts = ComponentFacts {
            name: package.name.clone(),
            version: package.version.to_string(),
            purl: package.purl(),
            source: package.source.kind().to_owned(),
            yanked: None,
            published_at: None,
            newest: None,
            registry_note: None,
        };
        if package.source == PackageSource::CratesIo {
            match lookups.map(|l| l.versions(&package.name, now)) {
                None => facts.registry_note = Some("no registry index was consulted".to_owned()),
                Some(Err(why)) => facts.registry_note = Some(why),
                Some(Ok(existing)) => {
                    match existing.iter().find(|v| v.version == package.version) {
                        Some(this) => {
                            facts.yanked = Some(this.yanked);
                            facts.published_at = this.pubtime.map(rfc3339);
                            if this.yanked {
                                findings.push(yanked_finding(package));
                            }
                        }
                        None => {
                            facts.registry_note = Some(
                                "the registry index does not list this version as published by the evaluation time"
                                    .to_owned(),
                            );
                        }
                    }
                    facts.newest = facts::newest(&existing).map(|v| v.version.to_string());
                }
            }
        }
        components.push(facts);
    }
    for finding in findings.iter_mut() {
        if finding.kind == Kind::Yanked {
            // What to move to: the lowest release above it that is not yanked, compatible if
            // there is one.
            if let (Some(Ok(versions)), Ok(in_use)) = (
                lookups.map(|l| l.versions(&finding.package.name, now)),
                semver::Version::parse(&finding.package.version),
            ) {
                finding.upgrade_to = facts::upgrade_to(&versions, &in_use, &|_| false)
                    .map(|v| v.version.to_string());
            }
            continue;
        }
        let Some(affected) = finding.affected.clone() else {
            continue;
        };
        let versions = match lookups.map(|l| l.versions(&finding.package.name, now)) {
            Some(Ok(versions)) => versions,
            Some(Err(why)) => {
                finding.registry_note = Some(why);
                continue;
            }
            None => {
                finding.registry_note = Some("no registry index was consulted".to_owned());
                continue;
            }
        };
        let Ok(in_use) = semver::Version::parse(&finding.package.version) else {
            continue;
        };
        let affects = |v: &semver::Version| affected.affects(v);
        let fix = facts::fix_version(&versions, &in_use, &affects);
        if let Some(fix) = fix {
            finding.fix_version = Some(fix.version.to_string());
            finding.fix_published_at = fix.pubtime.map(rfc3339);
            if fix.pubtime.is_none() {
                finding.registry_note = Some(format!(
                    "the registry index gives no publication time for {} {}, so the clock counts from the advisory's publication",
                    finding.package.name, fix.version
                ));
            }
        }
        finding.upgrade_to =
            facts::upgrade_to(&versions, &in_use, &affects).map(|v| v.version.to_string());
        if fix.is_none()
            && let Some(named) = facts::named_fix(&affected, &in_use)
        {
            // The advisory says a fixed release exists; an index with none contradicts it, so
            // its facts are unknown (the clock from the advisory), never "no fix yet".
            let all = lookups
                .and_then(|l| l.all_versions(&finding.package.name))
                .unwrap_or_default();
            finding.registry_note = Some(format!(
                "the advisory names fixed releases ({named} or later) but {}, which cannot be right",
                facts::contradiction(all, &in_use, &affects, now)
            ));
        }
    }
    // By name, then version in semver order (1.10.0 after 1.9.0), then id.
    findings.sort_by_cached_key(|f| {
        (
            f.package.name.clone(),
            semver::Version::parse(&f.package.version).ok(),
            f.package.version.clone(),
            f.id.clone(),
        )
    });
    components
}

fn yanked_finding(package: &crate::inventory::Package) -> Finding {
    Finding {
        id: format!("yanked:{}@{}", package.name, package.version),
        aliases: Vec::new(),
        kind: Kind::Yanked,
        package: FindingPackage {
            name: package.name.clone(),
            version: package.version.to_string(),
            purl: package.purl(),
        },
        title: format!(
            "{} {} was yanked from crates.io",
            package.name, package.version
        ),
        severity: Severity::Unscored,
        severities: Vec::new(),
        vector: None,
        date: None,
        patched: Vec::new(),
        references: vec![format!(
            "https://crates.io/crates/{}/{}",
            package.name, package.version
        )],
        sources: vec!["registry-index".to_owned()],
        fix_version: None,
        fix_published_at: None,
        upgrade_to: None,
        functions: Vec::new(),
        not_applicable: None,
        registry_note: None,
        judgement: None,
        affected: None,
        scopes: Vec::new(),
    }
}
