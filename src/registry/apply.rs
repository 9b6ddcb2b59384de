//! Registry facts as new values: per component (yanked, published, newest) and per advisory
//! finding (fix version, its publication, upgrade to). This stage knows nothing of advisories:
//! the caller says which versions an advisory affects.

use serde::{Deserialize, Serialize};

use super::{Lookups, facts};
use crate::inventory::{Inventory, Package, PackageSource};
use crate::time::rfc3339;

/// One component of the product, with what the registry says of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// The registry facts of every component (yanked, published, newest), as of the evaluation
/// time the look-ups were made for.
pub fn components(inventory: &Inventory, lookups: Option<&Lookups>) -> Vec<ComponentFacts> {
    inventory
        .packages
        .iter()
        .map(|package| component(package, lookups))
        .collect()
}

fn component(package: &Package, lookups: Option<&Lookups>) -> ComponentFacts {
    let mut facts = ComponentFacts {
        name: package.name.clone(),
        version: crate::text::version(&package.version),
        purl: package.purl(),
        source: package.source.kind().to_owned(),
        yanked: None,
        published_at: None,
        newest: None,
        registry_note: None,
    };
    if package.source != PackageSource::CratesIo {
        return facts;
    }
    match lookups.map(|l| l.versions(&package.name)) {
        None => facts.registry_note = Some(NOT_CONSULTED.to_owned()),
        Some(Err(why)) => facts.registry_note = Some(why),
        Some(Ok(existing)) => {
            match existing.iter().find(|v| v.version == package.version) {
                Some(this) => {
                    facts.yanked = Some(this.yanked);
                    facts.published_at = this.pubtime.map(rfc3339);
                }
                None => {
                    facts.registry_note = Some(
                        "the registry index does not list this version as published by the evaluation time"
                            .to_owned(),
                    );
                }
            }
            facts.newest = facts::newest(&existing).map(|v| crate::text::version(&v.version));
        }
    }
    facts
}

const NOT_CONSULTED: &str = "no registry index was consulted";

/// What the registry says of the way out of one advisory: the fix version and its publication,
/// what to upgrade to, and why these are unknown when they are. A new value of the registry
/// stage; the policy stage joins it to the finding it is about.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FixFacts {
    pub fix_version: Option<String>,
    pub fix_published_at: Option<String>,
    pub upgrade_to: Option<String>,
    pub registry_note: Option<String>,
}

impl FixFacts {
    /// Facts that are unknown, and why.
    pub fn unknown(note: String) -> FixFacts {
        FixFacts {
            registry_note: Some(note),
            ..FixFacts::default()
        }
    }
}

/// The fix facts for a version of `name` that an advisory affects: `affects` says which
/// versions it affects, `named_fix` the lowest release the advisory itself names as fixed
/// above a version in use (an index with no candidate fix then contradicts it). As of the
/// evaluation time the look-ups were made for.
pub fn fix(
    lookups: Option<&Lookups>,
    name: &str,
    version: &str,
    affects: &dyn Fn(&semver::Version) -> bool,
    named_fix: &dyn Fn(&semver::Version) -> Option<semver::Version>,
) -> FixFacts {
    let Some(lookups) = lookups else {
        return FixFacts::unknown(NOT_CONSULTED.to_owned());
    };
    // The evaluation time the look-ups kept their versions for: another would need versions
    // they did not keep.
    let now = lookups.now();
    let versions = match lookups.versions(name) {
        Ok(versions) => versions,
        Err(why) => return FixFacts::unknown(why),
    };
    let Ok(in_use) = semver::Version::parse(version) else {
        return FixFacts::default();
    };
    let mut out = FixFacts::default();
    let fix = facts::fix_version(&versions, &in_use, affects);
    if let Some(fix) = fix {
        out.fix_version = Some(crate::text::version(&fix.version));
        out.fix_published_at = fix.pubtime.map(rfc3339);
        if fix.pubtime.is_none() {
            out.registry_note = Some(format!(
                "the registry index gives no publication time for {name} {}, so the clock counts from the advisory's publication",
                fix.version
            ));
        }
    }
    out.upgrade_to =
        facts::upgrade_to(&versions, &in_use, affects).map(|v| crate::text::version(&v.version));
    if fix.is_none()
        && let Some(named) = named_fix(&in_use)
    {
        // The advisory says a fixed release exists; an index with none contradicts it, so
        // its facts are unknown (the clock from the advisory), never "no fix yet".
        let all = lookups.all_versions(name).unwrap_or_default();
        out.registry_note = Some(format!(
            "the advisory names fixed releases ({named} or later) but {}, which cannot be right",
            facts::contradiction(all, &in_use, affects, now)
        ));
    }
    out
}

/// What to move to from a yanked version: the lowest release above it that is not yanked,
/// compatible if there is one.
pub fn replacement(lookups: Option<&Lookups>, name: &str, version: &str) -> FixFacts {
    let upgrade_to = match (
        lookups.map(|l| l.versions(name)),
        semver::Version::parse(version),
    ) {
        (Some(Ok(versions)), Ok(in_use)) => facts::upgrade_to(&versions, &in_use, &|_| false)
            .map(|v| crate::text::version(&v.version)),
        _ => None,
    };
    FixFacts {
        upgrade_to,
        ..FixFacts::default()
    }
}
