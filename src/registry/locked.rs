//! Whether a lockfile the project controls locks everything its registry packages need.
//!
//! When the inventory comes from `Cargo.lock` (`--lockfile`, or the fallback when cargo cannot
//! reach a source), no cargo resolved it: a project could delete a vulnerable package and the
//! edge that leads to it, lock a version its dependent does not accept, or relabel a registry
//! package as a path or git one, and the audit would never see the real one. The registry index
//! says what each published version depends on; Cargo.lock locks every target's dependencies,
//! so every dependency the index lists as neither optional nor a dev-dependency must be among
//! the locked dependencies of that package, by its real name, at a version that meets the
//! index's requirement (cargo's rule: a pre-release only where the requirement names one), and
//! from the registry the index names (crates.io when it names none). Where one is missing the
//! lockfile is incomplete and the inventory cannot be trusted.
//!
//! A crates.io package the index does not list at its locked version cannot be checked. In the
//! fallback (the project's state forced it; the auditor asked for cargo) that is a gap too: the
//! project must not escape the check by locking a version, or build metadata, the index does
//! not have. With `--lockfile` the auditor chose to trust the lockfile, and such packages stay
//! `registry-facts` warnings.

use serde::Serialize;

use super::Lookups;
use super::index::Required;
use crate::inventory::lockfile::requirement_matches;
use crate::inventory::{Inventory, Origin, Package, PackageSource};

/// A locked package whose needs Cargo.lock does not meet, or that cannot be checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub name: String,
    pub version: String,
    pub purl: String,
    /// The real name of the dependency the lockfile leaves out; `None` when the package itself
    /// cannot be checked (the index does not list it).
    pub missing: Option<String>,
    /// What is wrong, as a clause following `NAME VERSION` (no final full stop).
    pub detail: String,
}

/// Every gap of an inventory read from Cargo.lock, by package then missing name; none when
/// cargo resolved the graph (cargo itself then followed the index). `lookups` is `None` when
/// no registry index was available.
pub fn gaps(inventory: &Inventory, lookups: Option<&Lookups>) -> Vec<Gap> {
    let fallback = match &inventory.origin {
        // Cargo resolved the graph, or built the binary whose list this is.
        Origin::CargoMetadata { .. } | Origin::Binary(_) => return Vec::new(),
        Origin::Lockfile {
            fallback_reason, ..
        } => fallback_reason.is_some(),
    };
    let mut out = Vec::new();
    for package in &inventory.packages {
        if package.source != PackageSource::CratesIo {
            continue;
        }
        let gap = |missing: Option<&str>, detail: String| Gap {
            name: package.name.clone(),
            version: package.version.to_string(),
            purl: package.purl(),
            missing: missing.map(str::to_owned),
            detail,
        };
        let Some(this) = lookups
            .and_then(|l| l.all_versions(&package.name))
            .and_then(|versions| versions.iter().find(|v| v.version == package.version))
        else {
            if fallback {
                let why = if lookups.is_some() {
                    "is not listed by the registry index at this version"
                } else {
                    "is not listed by any registry index (none was available)"
                };
                out.push(gap(
                    None,
                    format!("{why}, so what it needs cannot be checked"),
                ));
            }
            continue;
        };
        // The audit asks for the dependencies of every locked version; were they missing,
        // the package could not be checked, which is a gap, never a pass.
        let Some(requires) = &this.requires else {
            out.push(gap(
                None,
                "was looked up without its dependencies, so what it needs cannot be checked"
                    .to_owned(),
            ));
            continue;
        };
        for needed in requires {
            if !is_locked(inventory, package, needed) {
                let from = needed
                    .registry
                    .as_deref()
                    .map_or_else(|| "crates.io".to_owned(), |r| r.to_owned());
                out.push(gap(
                    Some(&needed.name),
                    format!(
                        "depends on {} {} from {from} (per the registry index) but Cargo.lock \
                         locks no {} matching {} from {from} for it",
                        needed.name, needed.req_text, needed.name, needed.req_text
                    ),
                ));
            }
        }
    }
    out.sort_by(|a, b| {
        (&a.name, &a.version, &a.missing, &a.detail)
            .cmp(&(&b.name, &b.version, &b.missing, &b.detail))
    });
    out.dedup();
    out
}

/// Whether one of `package`'s locked dependencies is `needed`: its name, a version meeting the
/// requirement, from the registry the index names.
fn is_locked(inventory: &Inventory, package: &Package, needed: &Required) -> bool {
    let Some(req) = &needed.req else {
        return false;
    };
    let source = registry_source(needed.registry.as_deref());
    package.dependencies.iter().any(|&i| {
        inventory.packages.get(i).is_some_and(|dep| {
            dep.name == needed.name
                && requirement_matches(req, &dep.version)
                && dep.source == source
        })
    })
}

/// The source a dependency from `registry` (an index URL; `None` is crates.io) is locked as.
fn registry_source(registry: Option<&str>) -> PackageSource {
    match registry {
        None => PackageSource::CratesIo,
        Some(url) if url.starts_with("sparse+") => PackageSource::parse(Some(url)),
        Some(url) => PackageSource::parse(Some(&format!("registry+{url}"))),
    }
}
