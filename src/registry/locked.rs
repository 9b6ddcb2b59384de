//! Whether a lockfile the project controls locks everything its registry packages need.
//!
//! When the inventory comes from `Cargo.lock` (`--lockfile`, or the fallback when cargo cannot
//! reach a source), no cargo resolved it: a project could delete a vulnerable package and the
//! edge that leads to it, and the audit would never see it. The registry index says what each
//! published version depends on; Cargo.lock locks every target's dependencies, so every
//! dependency the index lists as neither optional nor a dev-dependency must be among the
//! locked dependencies of that package. Where one is missing the lockfile is incomplete and
//! the inventory cannot be trusted. The check holds for the packages the index knows; the
//! others are already `registry-facts` findings.

use serde::Serialize;

use super::Lookups;
use crate::inventory::{Inventory, PackageSource};

/// A dependency the index says a locked package needs and Cargo.lock does not lock for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub name: String,
    pub version: String,
    pub purl: String,
    /// The real name of the dependency the lockfile leaves out.
    pub missing: String,
}

/// Every gap of an inventory read from Cargo.lock, by package then missing name; none when
/// cargo resolved the graph (cargo itself then followed the index).
pub fn gaps(inventory: &Inventory, lookups: &Lookups) -> Vec<Gap> {
    if inventory.origin.is_resolved() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for package in &inventory.packages {
        if package.source != PackageSource::CratesIo {
            continue;
        }
        let Some(this) = lookups
            .all_versions(&package.name)
            .and_then(|versions| versions.iter().find(|v| v.version == package.version))
        else {
            continue;
        };
        for needed in &this.requires {
            let locked = package.dependencies.iter().any(|&i| {
                inventory
                    .packages
                    .get(i)
                    .is_some_and(|dep| dep.name == *needed)
            });
            if !locked {
                out.push(Gap {
                    name: package.name.clone(),
                    version: package.version.to_string(),
                    purl: package.purl(),
                    missing: needed.clone(),
                });
            }
        }
    }
    out.sort_by(|a, b| (&a.name, &a.version, &a.missing).cmp(&(&b.name, &b.version, &b.missing)));
    out
}
