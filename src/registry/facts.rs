//! Registry facts as STANDARDS.md defines them, word for word: the fix version, the version to
//! upgrade to, and the newest version, as of an evaluation time.

use time::OffsetDateTime;

use super::index::IndexVersion;

/// The versions that exist at `now`: those published at or before it (or of unknown time).
pub fn as_of(versions: &[IndexVersion], now: OffsetDateTime) -> Vec<&IndexVersion> {
    versions
        .iter()
        .filter(|v| v.pubtime.is_none_or(|t| t <= now))
        .collect()
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
            (Some(_), None) => std::cmp::Ordering::Greater,
            (None, Some(_)) => std::cmp::Ordering::Less,
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
        .filter(|v| !v.yanked && v.version.pre.is_empty())
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
mod tests {
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
}
