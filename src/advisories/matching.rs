//! Which advisories apply to which packages, merged into one finding per vulnerability.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::model::{Advisory, Kind, Score, ScoreKind, Severity, overall};
use crate::inventory::{Inventory, Package, PackageSource};

/// One advisory that applies to one package version, from every source that reported it: what
/// the advisory stage knows, and no more. The registry's facts about a way out and the
/// policy's verdict are joined to it later, as new values (`policy::Assessed`, then the
/// report's `model::report::Finding`).
#[derive(Clone, Debug)]
pub struct Finding {
    /// The leading id: RUSTSEC (the native database's first), else GHSA, else CVE, else the
    /// lowest of another database. Every other id of every record is in `aliases`.
    pub id: String,
    pub aliases: Vec<String>,
    /// The gravest kind any of the merged records gives.
    pub kind: Kind,
    pub package: FindingPackage,
    /// The OSV ecosystem of the package (`crates.io` for a Rust crate).
    pub ecosystem: crate::inventory::purl::Ecosystem,
    pub title: String,
    pub severity: Severity,
    /// Every score and rating, from every source.
    pub severities: Vec<Score>,
    /// The CVSS vector behind `severity`, when a CVSS score decided it.
    pub vector: Option<String>,
    /// The advisory's date (its publication).
    /// Null for a yanked version (the index does not say when it was yanked).
    pub date: Option<String>,
    pub patched: Vec<String>,
    pub references: Vec<String>,
    pub sources: Vec<String>,
    /// The functions at fault, as the advisories name them (`crate::module::function`): the
    /// reviewer can check whether the product calls them.
    pub functions: Vec<String>,
    /// Why the advisory cannot apply to the audited target (`not applicable to
    /// x86_64-unknown-linux-gnu: affects windows only`): then it is information.
    pub not_applicable: Option<String>,
    /// Which versions the advisory affects (for the registry facts); `None` for a yanked
    /// version and for another ecosystem's records.
    pub affected: Option<super::model::Affected>,
    /// The platform limits of each merged record (for the target).
    pub(crate) scopes: Vec<super::platform::Scope>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingPackage {
    pub name: String,
    pub version: String,
    pub purl: String,
}

/// What was checked, and what was not and why: nothing unchecked reads as clean.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coverage {
    /// How many packages were checked against the advisory sources.
    pub checked: usize,
    pub unchecked: Vec<Unchecked>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unchecked {
    pub name: String,
    pub version: String,
    pub purl: String,
    pub reason: String,
    /// A workspace member as cargo metadata names it: the product's own code. False for
    /// everything else, and for path packages of a lockfile, which does not say.
    pub own_code: bool,
}

/// Matches every crates.io package against the advisories.
pub(crate) fn check(
    inventory: &Inventory,
    advisories: &[Advisory],
    native_ids: &BTreeSet<String>,
) -> (Vec<Finding>, Coverage) {
    let mut by_package: HashMap<String, Vec<&Advisory>> = HashMap::new();
    for advisory in advisories {
        if advisory.crates_io && !advisory.withdrawn {
            by_package
                .entry(crates_io_key(&advisory.package))
                .or_default()
                .push(advisory);
        }
    }
    let mut findings = Vec::new();
    let mut coverage = Coverage::default();
    for package in &inventory.packages {
        if let Some(reason) = unchecked_reason(package) {
            coverage.unchecked.push(Unchecked {
                name: package.name.clone(),
                version: package.version.to_string(),
                purl: package.purl(),
                reason,
                own_code: package.workspace_member
                    && matches!(package.source, PackageSource::Path { path: Some(_) }),
            });
            continue;
        }
        coverage.checked += 1;
        let applying: Vec<&Advisory> = by_package
            .get(&crates_io_key(&package.name))
            .map(|list| {
                list.iter()
                    .copied()
                    .filter(|a| a.affected.affects(&package.version))
                    .collect()
            })
            .unwrap_or_default();
        for group in merge(&applying) {
            let package = FindingPackage {
                name: package.name.clone(),
                version: package.version.to_string(),
                purl: package.purl(),
            };
            findings.push(finding(package, &group, native_ids));
        }
    }
    findings.sort_by(|a, b| {
        (&a.package.name, &a.package.version, &a.id).cmp(&(
            &b.package.name,
            &b.package.version,
            &b.id,
        ))
    });
    (findings, coverage)
}

/// A crate name as crates.io tells crates apart: case and `-`/`_` make no difference there, so
/// a lockfile spelling `SmallVec` or `small_vec` still meets the advisories for `smallvec`.
fn crates_io_key(name: &str) -> String {
    name.to_ascii_lowercase().replace('-', "_")
}

fn unchecked_reason(package: &Package) -> Option<String> {
    match &package.source {
        PackageSource::CratesIo => None,
        PackageSource::Path { path: None } => Some(
            "path package (the workspace's own code, or a path dependency): not covered by advisory databases"
                .to_owned(),
        ),
        PackageSource::Path { .. } if package.workspace_member => Some(
            "workspace package: the product's own code, not covered by advisory databases"
                .to_owned(),
        ),
        PackageSource::Path { .. } => {
            Some("path dependency: no advisory database covers local code".to_owned())
        }
        PackageSource::Git { .. } => {
            Some("git source: advisories are matched against crates.io releases only".to_owned())
        }
        PackageSource::Registry { index } => Some(format!(
            "registry {index}: no advisory source for packages of this registry"
        )),
        PackageSource::Other { repr } => Some(format!("source {repr}: not one this tool checks")),
        PackageSource::Unlocated(crate::inventory::Unlocated::Git) => Some(
            "git source (a binary's list names no repository): advisories are matched against crates.io releases only"
                .to_owned(),
        ),
        PackageSource::Unlocated(crate::inventory::Unlocated::Registry) => Some(
            "a registry other than crates.io, which a binary's list does not name: no advisory source for it"
                .to_owned(),
        ),
    }
}

/// Groups the advisories that describe one vulnerability: the same id in several sources,
/// or ids linked through aliases (RUSTSEC ↔ GHSA ↔ CVE...), also within one source (osv.dev's
/// `crates.io/all.zip` holds both the RUSTSEC and the GHSA record of a vulnerability). Two
/// different ids of the same database (`RUSTSEC-…` and `RUSTSEC-…`, say) are never merged,
/// whichever sources hold them: RustSec has distinct advisories that share aliases (an unsound
/// one and an unmaintained one of the same crate, say).
pub(crate) fn merge<'a>(advisories: &[&'a Advisory]) -> Vec<Vec<&'a Advisory>> {
    /// The database an id belongs to: its prefix (`RUSTSEC`, `GHSA`, `CVE`...).
    fn database(id: &str) -> &str {
        id.split_once('-').map_or(id, |(prefix, _)| prefix)
    }
    let n = advisories.len();
    let mut parent: Vec<usize> = (0..n).collect();
    // Per group root: the primary ids it holds, by the database they belong to.
    let mut members: Vec<BTreeSet<(&str, &str)>> = advisories
        .iter()
        .map(|a| BTreeSet::from([(database(&a.id), a.id.as_str())]))
        .collect();
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut union = |parent: &mut Vec<usize>, i: usize, j: usize| {
        let (a, b) = (find(parent, i), find(parent, j));
        if a == b {
            return;
        }
        let clash = members[a].iter().any(|(database, id)| {
            members[b]
                .iter()
                .any(|(other_database, other_id)| database == other_database && id != other_id)
        });
        if !clash {
            let moved = std::mem::take(&mut members[a]);
            members[b].extend(moved);
            parent[a] = b;
        }
    };
    // The same id first, then aliases, so that an alias never splits what an id joins.
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    for (i, advisory) in advisories.iter().enumerate() {
        match by_id.get(advisory.id.as_str()) {
            Some(&j) => union(&mut parent, i, j),
            None => {
                by_id.insert(advisory.id.as_str(), i);
            }
        }
    }
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, advisory) in advisories.iter().enumerate() {
        for name in std::iter::once(&advisory.id).chain(&advisory.aliases) {
            by_name.entry(name.as_str()).or_default().push(i);
        }
    }
    let mut names: Vec<&&str> = by_name.keys().collect();
    names.sort();
    for name in names {
        let linked = &by_name[*name];
        for &other in &linked[1..] {
            union(&mut parent, linked[0], other);
        }
    }
    let mut groups: BTreeMap<usize, Vec<&Advisory>> = BTreeMap::new();
    for (i, advisory) in advisories.iter().enumerate() {
        let root = find(&mut parent, i);
        groups.entry(root).or_default().push(advisory);
    }
    groups.into_values().collect()
}

pub(crate) fn finding(
    package: FindingPackage,
    group: &[&Advisory],
    native_ids: &BTreeSet<String>,
) -> Finding {
    let ids: BTreeSet<&str> = group
        .iter()
        .flat_map(|a| std::iter::once(a.id.as_str()).chain(a.aliases.iter().map(String::as_str)))
        .collect();
    let id = leading_id(&ids, native_ids);
    let lead = lead_record(group, &id, native_ids);
    // The gravest kind any record gives: one record calling a vulnerability "unmaintained"
    // must not make it a warning.
    let kind = group
        .iter()
        .map(|a| a.kind)
        .min_by_key(|kind| gravity(*kind))
        .unwrap_or(lead.kind);
    let (severities, severity, vector) = scores(group);
    let mut patched: Vec<String> = lead.affected.patched();
    patched.dedup();
    let references: BTreeSet<String> = group.iter().flat_map(|a| a.references.clone()).collect();
    let sources: BTreeSet<String> = group.iter().map(|a| a.source.clone()).collect();
    let date = group.iter().map(|a| a.date).min().unwrap_or(lead.date);
    let functions: BTreeSet<String> = group
        .iter()
        .flat_map(|a| a.scope.functions.iter().cloned())
        .collect();
    let functions: Vec<String> = functions.into_iter().collect();
    Finding {
        aliases: ids
            .iter()
            .filter(|a| **a != id)
            .map(|a| (*a).to_owned())
            .collect(),
        id,
        kind,
        package,
        ecosystem: lead.ecosystem.clone(),
        title: lead.title.to_string(),
        severity: if kind == Kind::Vulnerability {
            severity
        } else {
            // Informational advisories carry no severity of their own.
            severities.first().map_or(Severity::Unscored, |_| severity)
        },
        severities,
        vector,
        date: Some(date.to_string()),
        patched,
        references: references.into_iter().collect(),
        sources: sources.into_iter().collect(),
        functions,
        not_applicable: None,
        affected: Some(lead.affected.clone()),
        scopes: group.iter().map(|a| a.scope.clone()).collect(),
    }
}

/// The id by a fixed order of databases (RUSTSEC, GHSA, CVE, then others), never by sort order
/// alone: the RUSTSEC id of the native database first, else any RUSTSEC id (RustSec's own OSV
/// export names its records so, and the two forms must name a finding alike).
fn leading_id(ids: &BTreeSet<&str>, native_ids: &BTreeSet<String>) -> String {
    ids.iter()
        .min_by_key(|id| (lead_rank(id, native_ids), **id))
        .map(|id| (*id).to_owned())
        .unwrap_or_default()
}

/// The record that speaks for the title and the versions: the one with the leading id (the
/// native RustSec entry first), else the record whose own id ranks first.
fn lead_record<'a>(
    group: &[&'a Advisory],
    id: &str,
    native_ids: &BTreeSet<String>,
) -> &'a Advisory {
    group
        .iter()
        .find(|a| a.id == id && a.source == super::RUSTSEC)
        .or_else(|| group.iter().find(|a| a.id == id))
        .or_else(|| {
            group.iter().min_by_key(|a| {
                (
                    lead_rank(&a.id, native_ids),
                    a.source != super::RUSTSEC,
                    &a.id,
                )
            })
        })
        .unwrap_or(&group[0])
}

/// Every score of the group (each once), the severity they give, and the CVSS vector behind
/// it when a CVSS score decided it.
fn scores(group: &[&Advisory]) -> (Vec<Score>, Severity, Option<String>) {
    let mut severities: Vec<Score> = group.iter().flat_map(|a| a.scores.clone()).collect();
    severities.sort_by(|a, b| {
        (&a.source, a.kind, &a.vector)
            .partial_cmp(&(&b.source, b.kind, &b.vector))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    severities.dedup();
    let severity = overall(&severities);
    let vector = [ScoreKind::CvssV3, ScoreKind::CvssV4]
        .iter()
        .find_map(|kind| {
            severities
                .iter()
                .filter(|s| s.kind == *kind)
                .max_by(|a, b| {
                    a.score
                        .partial_cmp(&b.score)
                        .unwrap_or(std::cmp::Ordering::Equal)
                })
        })
        .and_then(|s| s.vector.clone());
    (severities, severity, vector)
}

/// Which id leads a merged finding: RUSTSEC (of the native database, then any), GHSA, CVE,
/// then any other database; lower leads.
fn lead_rank(id: &str, native_ids: &BTreeSet<String>) -> u8 {
    match id.split_once('-').map_or(id, |(prefix, _)| prefix) {
        "RUSTSEC" if native_ids.contains(id) => 0,
        "RUSTSEC" => 1,
        "GHSA" => 2,
        "CVE" => 3,
        _ => 4,
    }
}

/// How grave a kind of advisory is, gravest first: vulnerability, unsound, unmaintained,
/// notice (a yanked version is no advisory's kind, and comes last).
fn gravity(kind: Kind) -> u8 {
    match kind {
        Kind::Vulnerability => 0,
        Kind::Unsound => 1,
        Kind::Unmaintained => 2,
        Kind::Notice => 3,
        Kind::Yanked => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisories::model::Affected;

    fn advisory(source: &str, id: &str, aliases: &[&str]) -> Advisory {
        Advisory {
            id: id.to_owned(),
            aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
            package: "smallvec".to_owned(),
            ecosystem: crate::inventory::purl::Ecosystem::CratesIo,
            crates_io: true,
            kind: Kind::Vulnerability,
            title: id.into(),
            date: time::macros::date!(2021 - 01 - 08),
            withdrawn: false,
            affected: Affected::Osv {
                ranges: Vec::new(),
                versions: Vec::new(),
            },
            scores: Default::default(),
            references: Default::default(),
            source: source.to_owned(),
            scope: Default::default(),
        }
    }

    fn grouped(advisories: &[Advisory]) -> Vec<Vec<String>> {
        let refs: Vec<&Advisory> = advisories.iter().collect();
        let mut groups: Vec<Vec<String>> = merge(&refs)
            .into_iter()
            .map(|g| {
                let mut ids: Vec<String> =
                    g.iter().map(|a| format!("{}:{}", a.source, a.id)).collect();
                ids.sort();
                ids
            })
            .collect();
        groups.sort();
        groups
    }

    #[test]
    fn one_export_holding_the_rustsec_and_ghsa_records_gives_one_group() {
        let groups = grouped(&[
            advisory(
                "osv",
                "RUSTSEC-2021-0003",
                &["CVE-2021-25900", "GHSA-43w2-9j62-hq99"],
            ),
            advisory("osv", "GHSA-43w2-9j62-hq99", &["CVE-2021-25900"]),
            advisory("rustsec", "RUSTSEC-2021-0003", &["CVE-2021-25900"]),
        ]);
        assert_eq!(
            groups,
            [[
                "osv:GHSA-43w2-9j62-hq99",
                "osv:RUSTSEC-2021-0003",
                "rustsec:RUSTSEC-2021-0003"
            ]]
        );
    }

    #[test]
    fn two_ids_of_one_database_never_merge_whatever_links_them() {
        // Two RustSec advisories sharing a CVE, in one source and across sources; and a GHSA
        // record linked to both, which joins only one of them.
        let groups = grouped(&[
            advisory("rustsec", "RUSTSEC-2020-0001", &["CVE-2020-1"]),
            advisory("rustsec", "RUSTSEC-2020-0002", &["CVE-2020-1"]),
            advisory("osv", "RUSTSEC-2020-0002", &["CVE-2020-1"]),
            advisory("osv", "GHSA-aaaa-bbbb-cccc", &["CVE-2020-1"]),
        ]);
        assert_eq!(groups.len(), 2, "{groups:?}");
        let second = groups
            .iter()
            .find(|g| g.contains(&"rustsec:RUSTSEC-2020-0002".to_owned()))
            .unwrap();
        assert!(
            second.contains(&"osv:RUSTSEC-2020-0002".to_owned()),
            "{groups:?}"
        );
        for group in &groups {
            let rustsec_ids: BTreeSet<&str> = group
                .iter()
                .filter_map(|m| m.split_once(':').map(|(_, id)| id))
                .filter(|id| id.starts_with("RUSTSEC-"))
                .collect();
            assert_eq!(rustsec_ids.len(), 1, "{groups:?}");
        }
    }

    #[test]
    fn a_merged_finding_is_led_by_rustsec_then_ghsa_then_cve_never_by_sort_order() {
        let package = || FindingPackage {
            name: "smallvec".to_owned(),
            version: "1.6.0".to_owned(),
            purl: "pkg:cargo/smallvec@1.6.0".to_owned(),
        };
        let lead = |records: &[Advisory], native: &[&str]| {
            let refs: Vec<&Advisory> = records.iter().collect();
            let native: BTreeSet<String> = native.iter().map(|id| (*id).to_owned()).collect();
            let f = finding(package(), &refs, &native);
            (f.id, f.aliases)
        };
        let (id, aliases) = lead(
            &[advisory(
                "osv",
                "A-0001",
                &["CVE-2021-1", "GHSA-zzzz-zzzz-zzzz"],
            )],
            &[],
        );
        assert_eq!(id, "GHSA-zzzz-zzzz-zzzz");
        assert_eq!(aliases, ["A-0001", "CVE-2021-1"]);
        assert_eq!(
            lead(&[advisory("osv", "A-0001", &["CVE-2021-1"])], &[]).0,
            "CVE-2021-1"
        );
        assert_eq!(
            lead(&[advisory("osv", "A-0001", &["ZZ-1"])], &[]).0,
            "A-0001"
        );
        // A RUSTSEC id leads, the native database's first.
        let (id, _) = lead(
            &[advisory(
                "osv",
                "GHSA-aaaa-aaaa-aaaa",
                &["RUSTSEC-2021-0003", "CVE-2021-1"],
            )],
            &[],
        );
        assert_eq!(id, "RUSTSEC-2021-0003");
    }

    #[test]
    fn the_kind_of_a_merged_finding_is_the_gravest_of_its_records() {
        let package = FindingPackage {
            name: "smallvec".to_owned(),
            version: "1.6.0".to_owned(),
            purl: "pkg:cargo/smallvec@1.6.0".to_owned(),
        };
        let mut notice = advisory("rustsec", "RUSTSEC-2021-0003", &["CVE-2021-1"]);
        notice.kind = Kind::Notice;
        let mut unmaintained = advisory("osv", "GHSA-aaaa-aaaa-aaaa", &["CVE-2021-1"]);
        unmaintained.kind = Kind::Unmaintained;
        let vulnerability = advisory("osv", "CVE-2021-1", &[]);
        let native = BTreeSet::from(["RUSTSEC-2021-0003".to_owned()]);
        let all = [&notice, &unmaintained, &vulnerability];
        let f = finding(package.clone(), &all, &native);
        assert_eq!(f.id, "RUSTSEC-2021-0003", "the native record still leads");
        assert_eq!(f.kind, Kind::Vulnerability);
        let f = finding(package, &all[..2], &native);
        assert_eq!(f.kind, Kind::Unmaintained);
    }
}
