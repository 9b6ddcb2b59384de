//! Registry facts as STANDARDS.md defines them, word for word: the fix version, the version to
//! upgrade to, and the newest version, as of an evaluation time.

use std::cmp::Ordering;

use time::OffsetDateTime;

use super::index::IndexVersion;

/// The versions that exist at `now`: those published at or before it (or of unknown time).
pub fn as_of(versions: &[IndexVersion], now: OffsetDateTime) -> Vec<&IndexVersion> {
    versions.iter().filter(|v| exists_at(v, now)).collect()
}

/// Whether a version exists at `now`: published at or before it, or at an unknown time.
fn exists_at(version: &IndexVersion, now: OffsetDateTime) -> bool {
    version.pubtime.is_none_or(|t| t <= now)
}

/// Whether a version is a release [`newest`] can name: neither yanked nor a pre-release.
fn is_release(version: &IndexVersion) -> bool {
    !version.yanked && version.version.pre.is_empty()
}

/// Which versions of an index entry a run keeps: only those that can bear on a fact about the
/// locked versions `wanted`, as of `now`. Every fact but the newest release looks at the
/// version in use or above it (the fix version, the version to upgrade to, the releases that
/// contradict an advisory, the locked version's own flags and dependencies), so every version
/// at or above the lowest wanted one is kept; below it, only the one [`newest`] would name
/// among them (every release above the version in use can be yanked or not yet published).
/// The facts of the kept versions are those of the whole entry (the property test in
/// `registry::tests` holds them to it); most of an entry is older releases, and keeping them
/// was a tenth of a warm offline audit's time (decoding, allocating, scanning them again).
#[derive(Clone, Debug)]
pub struct Keep {
    lowest: Option<semver::Version>,
    now: OffsetDateTime,
}

impl Keep {
    /// What to keep for the locked versions `wanted` (none: everything) as of `now`.
    pub fn new<'v>(
        wanted: impl IntoIterator<Item = &'v semver::Version>,
        now: OffsetDateTime,
    ) -> Keep {
        Keep {
            lowest: wanted.into_iter().min().cloned(),
            now,
        }
    }

    /// The lowest wanted version: every version at or above it is kept.
    pub fn lowest(&self) -> Option<&semver::Version> {
        self.lowest.as_ref()
    }

    /// The evaluation time.
    pub fn now(&self) -> OffsetDateTime {
        self.now
    }

    /// The versions kept of `versions`, in their order.
    pub fn prune(&self, versions: Vec<IndexVersion>) -> Vec<IndexVersion> {
        let mut kept = self.start(versions.len());
        for version in versions {
            kept.offer(version);
        }
        kept.finish()
    }

    /// Versions kept one at a time, as they are read: see [`Kept::offer`].
    pub fn start(&self, hint: usize) -> Kept<'_> {
        Kept {
            keep: self,
            // A hint read from a file is bounded: the versions kept are usually a few.
            out: Vec::with_capacity(hint.min(if self.lowest.is_none() { 1024 } else { 16 })),
            below: None,
        }
    }
}

/// The versions a [`Keep`] keeps, gathered as they come.
#[derive(Debug)]
pub struct Kept<'a> {
    keep: &'a Keep,
    out: Vec<IndexVersion>,
    /// The newest release below the lowest wanted version so far, and where it goes.
    below: Option<(usize, IndexVersion)>,
}

impl Kept<'_> {
    /// Offers the next version of the entry.
    pub fn offer(&mut self, version: IndexVersion) {
        match &self.keep.lowest {
            Some(lowest) if version.version < *lowest => {
                // The last of equal versions, as `newest` (`max_by`) takes the last maximum.
                if exists_at(&version, self.keep.now)
                    && is_release(&version)
                    && self
                        .below
                        .as_ref()
                        .is_none_or(|(_, best)| version.version >= best.version)
                {
                    self.below = Some((self.out.len(), version));
                }
            }
            _ => self.out.push(version),
        }
    }

    /// The versions kept, in the entry's order.
    pub fn finish(mut self) -> Vec<IndexVersion> {
        if let Some((at, version)) = self.below.take() {
            self.out.insert(at, version);
        }
        self.out
    }
}

/// Candidate fixes: above the version in use, not affected, not yanked, and not a pre-release
/// unless the version in use is one.
fn candidates<'a>(
    existing: &[&'a IndexVersion],
    in_use: &semver::Version,
    affects: &dyn Fn(&semver::Version) -> bool,
) -> Vec<&'a IndexVersion> {
    existing
        .iter()
        .copied()
        .filter(|v| v.version > *in_use)
        .filter(|v| !v.yanked)
        .filter(|v| !in_use.pre.is_empty() || v.version.pre.is_empty())
        .filter(|v| !affects(&v.version))
        .collect()
}

/// The **fix version**: among the candidates, the one published earliest (ties by version).
/// A candidate whose publication time the index does not give could be the earliest, so it
/// wins (the lowest such version): its clock then starts at the advisory's publication, and
/// not knowing never shortens the exposure.
pub fn fix_version<'a>(
    existing: &[&'a IndexVersion],
    in_use: &semver::Version,
    affects: &dyn Fn(&semver::Version) -> bool,
) -> Option<&'a IndexVersion> {
    candidates(existing, in_use, affects)
        .into_iter()
        .min_by(|a, b| match (a.pubtime, b.pubtime) {
            (Some(x), Some(y)) => x.cmp(&y).then(a.version.cmp(&b.version)),
            (Some(_), None) => Ordering::Greater,
            (None, Some(_)) => Ordering::Less,
            (None, None) => a.version.cmp(&b.version),
        })
}

/// **Upgrade to**: the lowest candidate that is semver-compatible with the version in use,
/// else the lowest candidate.
pub fn upgrade_to<'a>(
    existing: &[&'a IndexVersion],
    in_use: &semver::Version,
    affects: &dyn Fn(&semver::Version) -> bool,
) -> Option<&'a IndexVersion> {
    let all = candidates(existing, in_use, affects);
    let compatible = all
        .iter()
        .copied()
        .filter(|v| compatible(in_use, &v.version))
        .min_by(|a, b| a.version.cmp(&b.version));
    compatible.or_else(|| all.into_iter().min_by(|a, b| a.version.cmp(&b.version)))
}

/// Why the index has no candidate fix although the advisory names one: what it says of the
/// releases above the version in use that the advisory does not call affected.
pub fn contradiction(
    all: &[IndexVersion],
    in_use: &semver::Version,
    affects: &dyn Fn(&semver::Version) -> bool,
    now: OffsetDateTime,
) -> &'static str {
    let fixes: Vec<&IndexVersion> = all
        .iter()
        .filter(|v| v.version > *in_use)
        .filter(|v| !in_use.pre.is_empty() || v.version.pre.is_empty())
        .filter(|v| !affects(&v.version))
        .collect();
    let later = |v: &&IndexVersion| v.pubtime.is_some_and(|t| t > now);
    if fixes.is_empty() {
        "the index lists none of them"
    } else if fixes.iter().all(|v| v.yanked) {
        "the index marks every one of them yanked"
    } else if fixes.iter().all(later) {
        "the index has every one of them published after the evaluation time"
    } else {
        "the index has every one of them yanked or published after the evaluation time"
    }
}

/// The newest release that exists at the evaluation time (not yanked, not a pre-release).
pub fn newest<'a>(existing: &[&'a IndexVersion]) -> Option<&'a IndexVersion> {
    existing
        .iter()
        .copied()
        .filter(|v| is_release(v))
        .max_by(|a, b| a.version.cmp(&b.version))
}

/// Cargo's compatibility: same major, or for 0.x the same minor, or for 0.0.x the same patch.
fn compatible(a: &semver::Version, b: &semver::Version) -> bool {
    if a.major != b.major {
        return false;
    }
    if a.major > 0 {
        return true;
    }
    if a.minor != b.minor {
        return false;
    }
    a.minor > 0 || a.patch == b.patch
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use time::macros::datetime;

    fn iv(v: &str, yanked: bool, t: Option<OffsetDateTime>) -> IndexVersion {
        IndexVersion {
            version: semver::Version::parse(v).unwrap(),
            yanked,
            pubtime: t,
            requires: None,
        }
    }

    #[test]
    fn fix_is_earliest_published_and_upgrade_is_lowest_compatible() {
        // 1.5.4 affected; 2.0.0 published before 1.5.5 (a backport came later).
        let versions = vec![
            iv("1.5.4", false, Some(datetime!(2021-05-06 0:00 UTC))),
            iv("2.0.0", false, Some(datetime!(2022-01-01 0:00 UTC))),
            iv("1.5.5", false, Some(datetime!(2022-03-08 0:00 UTC))),
            iv("1.5.6", true, Some(datetime!(2022-03-09 0:00 UTC))),
            iv("2.1.0-rc.1", false, Some(datetime!(2022-04-01 0:00 UTC))),
            iv("3.0.0", false, Some(datetime!(2030-01-01 0:00 UTC))),
        ];
        let now = datetime!(2026-09-01 0:00 UTC);
        let existing = as_of(&versions, now);
        assert_eq!(existing.len(), 5, "3.0.0 does not exist yet");
        let in_use = semver::Version::parse("1.5.4").unwrap();
        let affects = |v: &semver::Version| *v < semver::Version::parse("1.5.5").unwrap();
        assert_eq!(
            fix_version(&existing, &in_use, &affects)
                .unwrap()
                .version
                .to_string(),
            "2.0.0"
        );
        assert_eq!(
            upgrade_to(&existing, &in_use, &affects)
                .unwrap()
                .version
                .to_string(),
            "1.5.5"
        );
        assert_eq!(newest(&existing).unwrap().version.to_string(), "2.0.0");
    }

    #[test]
    fn no_fix_when_every_later_version_is_affected_yanked_or_unpublished() {
        let versions = vec![
            iv("0.1.0", false, Some(datetime!(2020-01-01 0:00 UTC))),
            iv("0.1.1", true, Some(datetime!(2020-02-01 0:00 UTC))),
            iv("0.1.2", false, Some(datetime!(2027-01-01 0:00 UTC))),
        ];
        let existing = as_of(&versions, datetime!(2026-09-01 0:00 UTC));
        let in_use = semver::Version::parse("0.1.0").unwrap();
        assert!(fix_version(&existing, &in_use, &|_| false).is_none());
    }

    #[test]
    fn pre_releases_only_for_pre_releases() {
        let versions = vec![
            iv("1.0.0-beta.1", false, Some(datetime!(2020-01-01 0:00 UTC))),
            iv("1.0.0-beta.2", false, Some(datetime!(2020-02-01 0:00 UTC))),
        ];
        let existing = as_of(&versions, datetime!(2026-09-01 0:00 UTC));
        let stable = semver::Version::parse("0.9.0").unwrap();
        assert!(fix_version(&existing, &stable, &|_| false).is_none());
        let beta = semver::Version::parse("1.0.0-beta.1").unwrap();
        assert_eq!(
            fix_version(&existing, &beta, &|_| false)
                .unwrap()
                .version
                .to_string(),
            "1.0.0-beta.2"
        );
    }

    #[test]
    fn compatibility_follows_cargo() {
        let v = |s: &str| semver::Version::parse(s).unwrap();
        assert!(compatible(&v("1.2.3"), &v("1.9.0")));
        assert!(!compatible(&v("1.2.3"), &v("2.0.0")));
        assert!(compatible(&v("0.3.1"), &v("0.3.9")));
        assert!(!compatible(&v("0.3.1"), &v("0.4.0")));
        assert!(!compatible(&v("0.0.3"), &v("0.0.4")));
    }

    #[test]
    fn a_candidate_of_unknown_time_could_be_the_earliest_so_it_wins() {
        let versions = vec![
            iv("1.5.4", false, Some(datetime!(2021-05-06 0:00 UTC))),
            iv("1.5.5", false, None),
            iv("1.5.6", false, Some(datetime!(2022-05-20 0:00 UTC))),
        ];
        let existing = as_of(&versions, datetime!(2026-09-01 0:00 UTC));
        let in_use = semver::Version::parse("1.5.4").unwrap();
        let affects = |v: &semver::Version| *v < semver::Version::parse("1.5.5").unwrap();
        let fix = fix_version(&existing, &in_use, &affects).unwrap();
        assert_eq!(fix.version.to_string(), "1.5.5");
        assert_eq!(fix.pubtime, None);
    }

    /// A version of a small space (so that lists share versions), sometimes a pre-release,
    /// yanked, of unknown time, or published after the evaluation time (2026-09-01).
    pub(crate) fn arb_version() -> impl proptest::strategy::Strategy<Value = IndexVersion> {
        use proptest::prelude::*;
        (
            0u64..3,
            0u64..3,
            0u64..3,
            proptest::option::weighted(0.2, proptest::sample::select(vec!["rc.1", "alpha"])),
            proptest::bool::weighted(0.3),
            proptest::option::weighted(0.8, 0i64..6),
        )
            .prop_map(|(major, minor, patch, pre, yanked, day)| IndexVersion {
                version: semver::Version {
                    major,
                    minor,
                    patch,
                    pre: pre.map_or(semver::Prerelease::EMPTY, |p| {
                        semver::Prerelease::new(p).unwrap()
                    }),
                    build: semver::BuildMetadata::EMPTY,
                },
                yanked,
                pubtime: day.map(|d| datetime!(2026-08-29 0:00 UTC) + time::Duration::days(d)),
                requires: None,
            })
    }

    /// Every fact this stage gives about the version in use, from `versions`, as text.
    fn every_fact(
        versions: &[IndexVersion],
        in_use: &semver::Version,
        affects: &dyn Fn(&semver::Version) -> bool,
        now: OffsetDateTime,
    ) -> String {
        let show =
            |v: Option<&IndexVersion>| v.map(|v| (v.version.to_string(), v.yanked, v.pubtime));
        let existing = as_of(versions, now);
        format!(
            "{:?}",
            (
                show(existing.iter().copied().find(|v| v.version == *in_use)),
                show(versions.iter().find(|v| v.version == *in_use)),
                show(newest(&existing)),
                show(fix_version(&existing, in_use, affects)),
                show(upgrade_to(&existing, in_use, affects)),
                show(upgrade_to(&existing, in_use, &|_| false)),
                contradiction(versions, in_use, affects, now),
            )
        )
    }

    proptest::proptest! {
        /// The versions a run keeps give every fact about each locked version that the whole
        /// entry gives: in use or not, yanked, published, newest, fix, upgrade, replacement,
        /// and why there is no fix.
        #[test]
        fn the_versions_kept_give_the_facts_of_the_whole_entry(
            versions in proptest::collection::vec(arb_version(), 0..12),
            wanted in proptest::collection::vec(arb_version(), 1..4),
            bound in arb_version(),
            day in 0i64..6,
        ) {
            let now = datetime!(2026-08-29 0:00 UTC) + time::Duration::days(day);
            let wanted: Vec<semver::Version> = wanted.into_iter().map(|v| v.version).collect();
            let keep = Keep::new(&wanted, now);
            let kept = keep.prune(versions.clone());
            proptest::prop_assert!(kept.len() <= versions.len());
            let affects = |v: &semver::Version| *v < bound.version;
            for in_use in &wanted {
                proptest::prop_assert_eq!(
                    every_fact(&kept, in_use, &affects, now),
                    every_fact(&versions, in_use, &affects, now)
                );
            }
            // Nothing wanted: everything kept.
            proptest::prop_assert_eq!(Keep::new([], now).prune(versions.clone()), versions);
        }
    }
}
