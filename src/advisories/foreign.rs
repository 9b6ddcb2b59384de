//! Components of a supplier's own SBOM, of any ecosystem, matched against OSV records with
//! each ecosystem's own version order: semver for crates.io, npm and Go, PEP 440 for PyPI
//! (names normalised per PEP 503), Maven's ComparableVersion for Maven. Elsewhere a range is matched only through its `versions`
//! list; whatever cannot be decided is listed as not checked, never clean.

use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;

use super::matching::{Coverage, Finding, FindingPackage, Unchecked, finding, merge};
use super::model::{Advisory, Affected, RawRange};
use crate::inventory::purl::{Component, Ecosystem};

/// A name as the ecosystem compares names: PEP 503 for PyPI, lower case for NuGet and
/// Packagist, as written elsewhere.
fn normal_name(ecosystem: &Ecosystem, name: &str) -> String {
    match ecosystem {
        Ecosystem::PyPi => {
            let mut out = String::new();
            let mut dash = false;
            for c in name.chars() {
                if matches!(c, '-' | '_' | '.') {
                    dash = true;
                } else {
                    if dash && !out.is_empty() {
                        out.push('-');
                    }
                    dash = false;
                    out.push(c.to_ascii_lowercase());
                }
            }
            out
        }
        Ecosystem::NuGet | Ecosystem::Packagist => name.to_ascii_lowercase(),
        Ecosystem::CratesIo
        | Ecosystem::Npm
        | Ecosystem::Maven
        | Ecosystem::Go
        | Ecosystem::RubyGems
        | Ecosystem::Hex
        | Ecosystem::Pub
        | Ecosystem::Other(_) => name.to_owned(),
    }
}

/// A version in an ecosystem's order, when this tool knows that order.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Ordered {
    Semver(semver::Version),
    Pep440(pep440_rs::Version),
    Maven(super::maven::MavenVersion),
}

impl Ordered {
    /// Another version in the same order as this one (a range's events are read in the order
    /// of the version they are compared with, whatever the range's type says).
    fn parse_like(&self, text: &str) -> Option<Ordered> {
        match self {
            Ordered::Semver(_) => semver::Version::parse(text.strip_prefix('v').unwrap_or(text))
                .ok()
                .map(Ordered::Semver),
            Ordered::Pep440(_) => pep440_rs::Version::from_str(text).ok().map(Ordered::Pep440),
            Ordered::Maven(_) => Some(Ordered::Maven(super::maven::MavenVersion::parse(text))),
        }
    }

    /// The order of two versions of one kind; `None` across kinds (never compared).
    fn compare(&self, other: &Ordered) -> Option<std::cmp::Ordering> {
        match (self, other) {
            (Ordered::Semver(a), Ordered::Semver(b)) => Some(a.cmp(b)),
            (Ordered::Pep440(a), Ordered::Pep440(b)) => Some(a.cmp(b)),
            (Ordered::Maven(a), Ordered::Maven(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

fn ordered(ecosystem: &Ecosystem, version: &str) -> Option<Ordered> {
    match ecosystem {
        Ecosystem::CratesIo | Ecosystem::Npm => {
            semver::Version::parse(version).ok().map(Ordered::Semver)
        }
        Ecosystem::Go => semver::Version::parse(version.strip_prefix('v').unwrap_or(version))
            .ok()
            .map(Ordered::Semver),
        Ecosystem::PyPi => pep440_rs::Version::from_str(version)
            .ok()
            .map(Ordered::Pep440),
        Ecosystem::Maven => Some(Ordered::Maven(super::maven::MavenVersion::parse(version))),
        // No version order this tool knows: only a record's `versions` list can place it.
        Ecosystem::RubyGems
        | Ecosystem::NuGet
        | Ecosystem::Packagist
        | Ecosystem::Hex
        | Ecosystem::Pub
        | Ecosystem::Other(_) => None,
    }
}

/// Whether `version` is affected by one range, as OSV evaluates events in order; `None` when
/// the range cannot be decided (an event this tool cannot read in the version's order).
fn in_range(range: &RawRange, version: &Ordered) -> Option<bool> {
    if range.kind != "SEMVER" && range.kind != "ECOSYSTEM" {
        // GIT ranges name commits, which a released package does not have.
        return Some(false);
    }
    let mut events: Vec<(Option<Ordered>, &str)> = Vec::new();
    for (kind, value) in &range.events {
        match kind.as_str() {
            "introduced" if value == "0" => events.push((None, "introduced")),
            "introduced" | "fixed" | "last_affected" => {
                events.push((Some(version.parse_like(value)?), kind.as_str()));
            }
            _ => {}
        }
    }
    let mut failed = false;
    events.sort_by(|a, b| match (&a.0, &b.0) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, Some(_)) => std::cmp::Ordering::Less,
        (Some(_), None) => std::cmp::Ordering::Greater,
        (Some(x), Some(y)) => x.compare(y).unwrap_or_else(|| {
            failed = true;
            std::cmp::Ordering::Equal
        }),
    });
    let mut affected = false;
    for (at, kind) in events {
        let order = at.as_ref().and_then(|v| version.compare(v));
        match (kind, at.is_none(), order) {
            ("introduced", true, _) => affected = true,
            ("introduced", false, Some(o)) if o.is_ge() => affected = true,
            ("fixed", false, Some(o)) if o.is_ge() => affected = false,
            ("last_affected", false, Some(o)) if o.is_gt() => affected = false,
            (_, false, None) => failed = true,
            _ => {}
        }
    }
    (!failed).then_some(affected)
}

/// The fix that ends the affected stretch a version is in: the lowest `fixed` event above it
/// in that range, as written. A range with fixes on several release lines (`3.1.12`, `3.2.4`)
/// fixes a version of one line only by the fix on its own line.
fn fix_above(range: &RawRange, version: &Ordered) -> Option<String> {
    let mut best: Option<(Ordered, &str)> = None;
    for (kind, value) in &range.events {
        if kind != "fixed" {
            continue;
        }
        let Some(fixed) = version.parse_like(value) else {
            continue;
        };
        if fixed.compare(version) != Some(std::cmp::Ordering::Greater) {
            continue;
        }
        let lower = best
            .as_ref()
            .is_none_or(|(b, _)| fixed.compare(b) == Some(std::cmp::Ordering::Less));
        if lower {
            best = Some((fixed, value));
        }
    }
    best.map(|(_, value)| value.to_owned())
}

/// Matches the components against the advisories of their ecosystems.
pub(crate) fn check(
    components: &[Component],
    advisories: &[Advisory],
    native_ids: &BTreeSet<String>,
    uncovered: &dyn Fn(&Component) -> Option<String>,
) -> (Vec<Finding>, Coverage) {
    let by_package = by_package(advisories);
    let mut findings = Vec::new();
    let mut coverage = Coverage::default();
    for component in components {
        let ecosystem = match checkable(component, uncovered) {
            Ok(ecosystem) => ecosystem,
            Err(reason) => {
                coverage.unchecked.push(unchecked(component, reason));
                continue;
            }
        };
        let candidates = by_package
            .get(&(ecosystem.clone(), normal_name(ecosystem, &component.name)))
            .cloned()
            .unwrap_or_default();
        let own = ordered(ecosystem, &component.version);
        let mut applying = Vec::new();
        let mut undecided = Vec::new();
        for advisory in candidates {
            match decide(advisory, component, own.as_ref()) {
                Some(true) => applying.push(advisory),
                Some(false) => {}
                None => undecided.push(advisory.id.clone()),
            }
        }
        // Every advisory that could not be decided is listed, even beside ones that apply.
        if !undecided.is_empty() {
            coverage.unchecked.push(unchecked(component, format!(
                "{ecosystem} version `{}` cannot be placed in the ranges of {} (this tool does not know that version order, or cannot read the version)",
                component.version,
                undecided.join(", ")
            )));
        } else {
            coverage.checked += 1;
        }
        for group in merge(&applying) {
            findings.push(finding_of(
                component,
                &group,
                native_ids,
                own.as_ref(),
                ecosystem,
            ));
        }
    }
    findings.sort_by(|a, b| {
        (&a.package.purl, &a.package.version, &a.id).cmp(&(
            &b.package.purl,
            &b.package.version,
            &b.id,
        ))
    });
    (findings, coverage)
}

/// The advisories still in force, by ecosystem and name as the ecosystem compares names.
fn by_package(advisories: &[Advisory]) -> HashMap<(Ecosystem, String), Vec<&Advisory>> {
    let mut by_package: HashMap<(Ecosystem, String), Vec<&Advisory>> = HashMap::new();
    for advisory in advisories.iter().filter(|a| !a.withdrawn) {
        let key = (
            advisory.ecosystem.clone(),
            normal_name(&advisory.ecosystem, &advisory.package),
        );
        by_package.entry(key).or_default().push(advisory);
    }
    by_package
}

/// The ecosystem a component is checked in, or why it is not checked at all.
fn checkable<'c>(
    component: &'c Component,
    uncovered: &dyn Fn(&Component) -> Option<String>,
) -> Result<&'c Ecosystem, String> {
    if let Some(reason) = &component.private {
        return Err(reason.clone());
    }
    let Some(ecosystem) = &component.ecosystem else {
        return Err(match &component.purl {
            None => "no purl: nothing identifies it to an advisory database".to_owned(),
            Some(_) => "its purl type names no ecosystem of the advisory databases".to_owned(),
        });
    };
    // An ecosystem no source covers is not checked, whatever else is known.
    match uncovered(component) {
        Some(reason) => Err(reason),
        None => Ok(ecosystem),
    }
}

fn unchecked(component: &Component, reason: String) -> Unchecked {
    Unchecked {
        name: component.name.clone(),
        version: component.version.clone(),
        purl: component.purl.clone().unwrap_or_default(),
        reason,
        own_code: false,
    }
}

/// Whether an advisory applies to the component (whose version is `own` in its ecosystem's
/// order, when this tool knows that order); `None` when that cannot be decided.
fn decide(advisory: &Advisory, component: &Component, own: Option<&Ordered>) -> Option<bool> {
    match &advisory.affected {
        Affected::Foreign { versions, .. } if versions.iter().any(|v| v == &component.version) => {
            Some(true)
        }
        Affected::Foreign { ranges, .. } => {
            let results: Vec<Option<bool>> = ranges
                .iter()
                .map(|range| {
                    // A SEMVER range can be read for a version of an ecosystem whose
                    // order this tool does not know, when the version is semver.
                    let version = own.cloned().or_else(|| {
                        (range.kind == "SEMVER")
                            .then(|| {
                                ordered(&Ecosystem::Npm, component.version.trim_start_matches('v'))
                            })
                            .flatten()
                    });
                    match version {
                        Some(version) => in_range(range, &version),
                        None if range.kind == "GIT" => Some(false),
                        None => None,
                    }
                })
                .collect();
            if results.contains(&Some(true)) {
                Some(true)
            } else if results.contains(&None) {
                None
            } else {
                Some(false)
            }
        }
        // crates.io advisories (RustSec native, or OSV read as semver).
        affected => match own {
            Some(Ordered::Semver(v)) => Some(affected.affects(v)),
            _ => None,
        },
    }
}

/// The finding for one group of records that apply to the component.
fn finding_of(
    component: &Component,
    group: &[&Advisory],
    native_ids: &BTreeSet<String>,
    own: Option<&Ordered>,
    ecosystem: &Ecosystem,
) -> Finding {
    let package = FindingPackage {
        name: component.name.clone(),
        version: component.version.clone(),
        purl: component.purl.clone().unwrap_or_default(),
    };
    let mut f = finding(package, group, native_ids);
    // Named by one of its records' own ids (not an alias such as a CVE) unless RustSec's.
    if !group.iter().any(|a| a.id == f.id)
        && let Some(own) = group.iter().map(|a| a.id.clone()).min()
    {
        f.aliases.retain(|a| *a != own);
        f.aliases.push(std::mem::replace(&mut f.id, own));
        f.aliases.sort();
    }
    if let Some(patched) = own.and_then(|own| fixes_on_its_line(group, own)) {
        f.patched = patched;
    }
    f.ecosystem = ecosystem.clone();
    f
}

/// The fixes that apply to this version, not every fix of every release line. Only when a
/// range placed the version (not its `versions` list alone), and every record is another
/// ecosystem's: no fix above it in those ranges is no fix at all.
fn fixes_on_its_line(group: &[&Advisory], own: &Ordered) -> Option<Vec<String>> {
    if !group
        .iter()
        .all(|a| matches!(a.affected, Affected::Foreign { .. }))
    {
        return None;
    }
    let placing: Vec<&RawRange> = group
        .iter()
        .filter_map(|a| match &a.affected {
            Affected::Foreign { ranges, .. } => Some(ranges),
            _ => None,
        })
        .flatten()
        .filter(|range| in_range(range, own) == Some(true))
        .collect();
    if placing.is_empty() {
        return None;
    }
    let fixes: BTreeSet<String> = placing.iter().filter_map(|r| fix_above(r, own)).collect();
    Some(fixes.into_iter().map(|v| format!(">={v}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(kind: &str, events: &[(&str, &str)]) -> RawRange {
        RawRange {
            kind: kind.to_owned(),
            events: events
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn the_fix_is_the_one_on_the_versions_own_line() {
        let r = range(
            "ECOSYSTEM",
            &[
                ("introduced", "0"),
                ("fixed", "3.1.12"),
                ("introduced", "3.2"),
                ("fixed", "3.2.4"),
            ],
        );
        let v = |s: &str| ordered(&Ecosystem::PyPi, s).unwrap();
        assert_eq!(fix_above(&r, &v("3.2.1")).as_deref(), Some("3.2.4"));
        assert_eq!(fix_above(&r, &v("3.0")).as_deref(), Some("3.1.12"));
        assert_eq!(fix_above(&r, &v("3.2.4")), None);
    }

    #[test]
    fn pep440_orders_what_semver_cannot() {
        let r = range("ECOSYSTEM", &[("introduced", "0"), ("fixed", "2.0.post1")]);
        let v = |s: &str| ordered(&Ecosystem::PyPi, s).unwrap();
        assert_eq!(in_range(&r, &v("2.0")), Some(true));
        assert_eq!(in_range(&r, &v("2.0rc1")), Some(true));
        assert_eq!(in_range(&r, &v("2.0.post1")), Some(false));
        assert_eq!(in_range(&r, &v("10.0")), Some(false));
        // A SEMVER range on a PyPI package is read in PEP 440 order, not skipped.
        let semver = range("SEMVER", &[("introduced", "0"), ("fixed", "2.31.0")]);
        assert_eq!(in_range(&semver, &v("2.0.0")), Some(true));
        assert_eq!(in_range(&semver, &v("2.31.0")), Some(false));
    }

    #[test]
    fn unknown_orders_are_undecided_not_clean() {
        let r = range("ECOSYSTEM", &[("introduced", "1.0"), ("fixed", "1.2")]);
        assert_eq!(ordered(&Ecosystem::RubyGems, "1.1"), None);
        let maven = ordered(&Ecosystem::Maven, "1.2-rc1").unwrap();
        assert_eq!(in_range(&r, &maven), Some(true));
        // Semver ordering of an npm range, with last_affected inclusive.
        let r2 = range(
            "SEMVER",
            &[("introduced", "1.0.0"), ("last_affected", "1.2.0")],
        );
        let v = ordered(&Ecosystem::Npm, "1.2.0").unwrap();
        assert_eq!(in_range(&r2, &v), Some(true));
        let v = ordered(&Ecosystem::Npm, "1.2.1").unwrap();
        assert_eq!(in_range(&r2, &v), Some(false));
        let _ = r;
    }

    #[test]
    fn pypi_names_are_normalised() {
        assert_eq!(
            normal_name(&Ecosystem::PyPi, "Django_REST.framework"),
            "django-rest-framework"
        );
        assert_eq!(normal_name(&Ecosystem::Npm, "@Scope/Name"), "@Scope/Name");
    }
}
