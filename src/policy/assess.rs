//! The join of the two fact-finding stages: each advisory finding with what the registry says
//! of its way out, and a finding for each yanked version, as new values for the rules to
//! judge. Neither the advisories nor the registry stage knows of the other; this is where they
//! meet.

use super::verdict::Judgement;
use crate::advisories::model::named_fix;
use crate::advisories::{Finding, FindingPackage, Kind, Severity};
use crate::registry::Lookups;
use crate::registry::apply::{self, ComponentFacts, FixFacts};

/// A finding with the registry's facts about its way out: what the rules judge.
#[derive(Clone, Debug)]
pub struct Assessed {
    pub finding: Finding,
    pub fix: FixFacts,
}

/// A finding, its registry facts, and the policy's verdict on it: what the report holds.
#[derive(Clone, Debug)]
pub struct Judged {
    pub finding: Finding,
    pub fix: FixFacts,
    pub judgement: Judgement,
}

/// Where the registry facts come from.
#[derive(Clone, Copy, Debug)]
pub enum Registry<'a> {
    /// A registry index (sparse, a folder, cargo's cache), or none consulted.
    Index(Option<&'a Lookups>),
    /// A supplier's SBOM: there are no registry facts, and each finding says so.
    SbomAudit,
}

/// Joins each finding to its registry facts; with an index, adds a finding per yanked
/// component and sorts by name, then version in semver order (1.10.0 after 1.9.0), then id.
pub fn join(
    findings: Vec<Finding>,
    components: &[ComponentFacts],
    registry: Registry<'_>,
) -> Vec<Assessed> {
    let lookups = match registry {
        Registry::SbomAudit => {
            return findings
                .into_iter()
                .map(|finding| Assessed {
                    fix: FixFacts::unknown(format!(
                        "no registry facts for {} in an SBOM audit",
                        finding.ecosystem
                    )),
                    finding,
                })
                .collect();
        }
        Registry::Index(lookups) => lookups,
    };
    let mut out: Vec<Assessed> = findings
        .into_iter()
        .map(|finding| {
            let fix = match &finding.affected {
                Some(affected) => apply::fix(
                    lookups,
                    &finding.package.name,
                    &finding.package.version,
                    &|v| affected.affects(v),
                    &|in_use| named_fix(affected, in_use),
                ),
                None => FixFacts::default(),
            };
            Assessed { finding, fix }
        })
        .collect();
    for component in components.iter().filter(|c| c.yanked == Some(true)) {
        out.push(Assessed {
            fix: apply::replacement(lookups, &component.name, &component.version),
            finding: yanked(component),
        });
    }
    out.sort_by_cached_key(|a| {
        let package = &a.finding.package;
        (
            package.name.clone(),
            semver::Version::parse(&package.version).ok(),
            package.version.clone(),
            a.finding.id.clone(),
        )
    });
    out
}

/// The finding a yanked version makes.
fn yanked(component: &ComponentFacts) -> Finding {
    let (name, version) = (&component.name, &component.version);
    Finding {
        id: format!("yanked:{name}@{version}"),
        aliases: Vec::new(),
        kind: Kind::Yanked,
        package: FindingPackage {
            name: name.clone(),
            version: version.clone(),
            purl: component.purl.clone(),
        },
        ecosystem: crate::inventory::purl::Ecosystem::CratesIo,
        title: format!("{name} {version} was yanked from crates.io"),
        severity: Severity::Unscored,
        severities: Vec::new(),
        vector: None,
        date: None,
        patched: Vec::new(),
        references: vec![format!("https://crates.io/crates/{name}/{version}")],
        sources: vec!["registry-index".to_owned()],
        functions: Vec::new(),
        not_applicable: None,
        affected: None,
        scopes: Vec::new(),
    }
}
