//! Advisories as this tool sees them, whichever database they came from.

use serde::{Deserialize, Serialize};

/// What an advisory is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A security vulnerability: the only kind the patch-age rule applies to.
    Vulnerability,
    /// RustSec informational: the crate is no longer maintained.
    Unmaintained,
    /// RustSec informational: unsound API.
    Unsound,
    /// RustSec informational: a notice.
    Notice,
    /// The version in use was yanked from its registry.
    Yanked,
}

impl Kind {
    /// The kind as reports write it (`vulnerability`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Vulnerability => "vulnerability",
            Kind::Unmaintained => "unmaintained",
            Kind::Unsound => "unsound",
            Kind::Notice => "notice",
            Kind::Yanked => "yanked",
        }
    }
}

/// Which versions an advisory affects, in the form its database gave.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Affected {
    /// RustSec's native `patched` and `unaffected` requirements.
    Requirements(rustsec::advisory::Versions),
    /// OSV `SEMVER` ranges (each a list of events) and explicit `versions`.
    Osv {
        ranges: Vec<Vec<Event>>,
        versions: Vec<semver::Version>,
    },
    /// An OSV record of another ecosystem, as written: its ranges are evaluated by the
    /// ecosystem's own version order (see `foreign`), or not at all.
    Foreign {
        ranges: Vec<RawRange>,
        versions: Vec<String>,
    },
}

/// An OSV range as written: its `type` and its events (`introduced`, `fixed`,
/// `last_affected`, `limit`) in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawRange {
    pub kind: String,
    pub events: Vec<(String, String)>,
}

/// One event of an OSV range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// `introduced`; `None` is OSV's `"0"`, before every version.
    Introduced(Option<semver::Version>),
    Fixed(semver::Version),
    LastAffected(semver::Version),
}

impl Event {
    fn version(&self) -> Option<&semver::Version> {
        match self {
            Event::Introduced(v) => v.as_ref(),
            Event::Fixed(v) | Event::LastAffected(v) => Some(v),
        }
    }
}

impl Affected {
    /// Whether `version` is affected.
    pub fn affects(&self, version: &semver::Version) -> bool {
        match self {
            Affected::Requirements(versions) => versions.is_vulnerable(version),
            Affected::Osv { ranges, versions } => {
                versions.contains(version) || ranges.iter().any(|events| in_range(events, version))
            }
            // Not a crates.io advisory: never matched against a Cargo package.
            Affected::Foreign { .. } => false,
        }
    }

    /// The patched ranges, as requirement strings (`>= 1.5.5`).
    pub fn patched(&self) -> Vec<String> {
        match self {
            Affected::Requirements(versions) => {
                versions.patched().iter().map(ToString::to_string).collect()
            }
            Affected::Osv { ranges, .. } => ranges.iter().flat_map(|r| patched_of(r)).collect(),
            Affected::Foreign { ranges, .. } => ranges
                .iter()
                .flat_map(|r| r.events.iter())
                .filter(|(kind, _)| kind == "fixed")
                .map(|(_, version)| format!(">={version}"))
                .collect(),
        }
    }
}

/// The patched windows of one OSV range, written as RustSec writes them: from each `fixed`
/// up to the next `introduced` (`>=0.6.14, <1.0.0`). RustSec's export writes a fix that also
/// covers pre-releases as `X.Y.Z-0`; that is RustSec's `>= X.Y.Z`, so it is written so.
fn patched_of(events: &[Event]) -> Vec<String> {
    let mut sorted: Vec<&Event> = events.iter().collect();
    sorted.sort_by(|a, b| a.version().cmp(&b.version()));
    let mut out = Vec::new();
    for (i, event) in sorted.iter().enumerate() {
        let Event::Fixed(fixed) = event else { continue };
        let next = sorted[i + 1..].iter().find_map(|e| match e {
            Event::Introduced(Some(v)) => Some(v),
            _ => None,
        });
        let fixed = export_bound(fixed);
        out.push(match next {
            Some(next) => format!(">={fixed}, <{}", export_bound(next)),
            None => format!(">={fixed}"),
        });
    }
    out
}

/// `X.Y.Z-0` (the lowest pre-release of X.Y.Z) as `X.Y.Z`, the bound RustSec meant.
fn export_bound(version: &semver::Version) -> semver::Version {
    let mut v = version.clone();
    if v.pre.as_str() == "0" {
        v.pre = semver::Prerelease::EMPTY;
    }
    v
}

/// The OSV evaluation of one range: walk the events in version order; `introduced` at or
/// below the version turns it affected, `fixed` at or below (or `last_affected` below) turns it
/// back. See <https://ossf.github.io/osv-schema/#evaluation>.
fn in_range(events: &[Event], version: &semver::Version) -> bool {
    let mut sorted: Vec<&Event> = events.iter().collect();
    // `introduced: "0"` sorts first; at equal versions keep introduced before fixed.
    sorted.sort_by(|a, b| match (a.version(), b.version()) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, Some(_)) => std::cmp::Ordering::Less,
        (Some(_), None) => std::cmp::Ordering::Greater,
        (Some(x), Some(y)) => x.cmp(y),
    });
    let mut affected = false;
    for event in sorted {
        match event {
            Event::Introduced(None) => affected = true,
            Event::Introduced(Some(v)) if version >= v => affected = true,
            Event::Fixed(v) if version >= v => affected = false,
            Event::LastAffected(v) if version > v => affected = false,
            _ => {}
        }
    }
    affected
}

/// A score or rating from one source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Score {
    /// `CVSS_V3`, `CVSS_V4` or `rating` (a database's own word, e.g. GHSA's `MODERATE`).
    #[serde(rename = "type")]
    pub kind: ScoreKind,
    /// The CVSS vector, for CVSS scores.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector: Option<String>,
    /// The CVSS base score, for CVSS scores.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The band this score or rating gives.
    pub severity: Severity,
    /// The database that gave it.
    pub source: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ScoreKind {
    #[serde(rename = "CVSS_V3")]
    CvssV3,
    #[serde(rename = "CVSS_V4")]
    CvssV4,
    #[serde(rename = "rating")]
    Rating,
}

/// Severity bands (STANDARDS.md): critical 9.0–10, high 7.0–8.9, medium 4.0–6.9, low 0.0–3.9;
/// `unscored` when no source scores it, which Cyber Essentials treats like high.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
    Unscored,
}

impl Severity {
    /// The band of a CVSS base score.
    pub fn from_score(score: f64) -> Severity {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else {
            Severity::Low
        }
    }

    /// A database's own rating word (GHSA `MODERATE` is medium).
    pub fn from_rating(rating: &str) -> Option<Severity> {
        match rating.trim().to_ascii_lowercase().as_str() {
            "critical" => Some(Severity::Critical),
            "high" => Some(Severity::High),
            "moderate" | "medium" => Some(Severity::Medium),
            "low" => Some(Severity::Low),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
            Severity::Unscored => "unscored",
        }
    }
}

/// One severity from all the scores (STANDARDS.md): a CVSS v3.x base score if any source gives
/// one, else v4, else the sources' own ratings, else unscored; the highest when they disagree.
pub fn overall(scores: &[Score]) -> Severity {
    for kind in [ScoreKind::CvssV3, ScoreKind::CvssV4, ScoreKind::Rating] {
        let best = scores
            .iter()
            .filter(|s| s.kind == kind)
            .map(|s| s.severity)
            .max();
        if let Some(best) = best {
            return best;
        }
    }
    Severity::Unscored
}

/// Parses a CVSS vector (v3.0, v3.1 or v4.0) into a score from `source`. A vector that does
/// not parse is kept, unscored: read as no score it could let a lower rating decide, so it
/// counts as Cyber Essentials counts a vulnerability without a severity (like high).
pub fn cvss_score(vector: &str, source: &str) -> Score {
    let vector = vector.trim();
    match vector.parse::<cvss::Cvss>() {
        Ok(parsed) => {
            let kind = match parsed {
                cvss::Cvss::CvssV40(_) => ScoreKind::CvssV4,
                _ => ScoreKind::CvssV3,
            };
            let score = parsed.score();
            Score {
                kind,
                vector: Some(vector.to_owned()),
                score: Some(score),
                severity: Severity::from_score(score),
                source: source.to_owned(),
            }
        }
        Err(_) => Score {
            kind: if vector.starts_with("CVSS:4") {
                ScoreKind::CvssV4
            } else {
                ScoreKind::CvssV3
            },
            vector: Some(vector.to_owned()),
            score: None,
            severity: Severity::Unscored,
            source: source.to_owned(),
        },
    }
}

/// A list that the advisories of one record share: an OSV record names many packages, and is
/// one advisory for each, so what the record says once (aliases, references, scores) is held
/// once, not copied for every package (a 1 MiB record of many packages would otherwise take
/// gigabytes). Read as a slice; iterated by value it yields clones of its items.
#[derive(Debug)]
pub struct Shared<T>(std::sync::Arc<[T]>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<T> Default for Shared<T> {
    fn default() -> Self {
        Shared(std::sync::Arc::from(Vec::new()))
    }
}

impl<T> std::ops::Deref for Shared<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T> From<Vec<T>> for Shared<T> {
    fn from(items: Vec<T>) -> Self {
        Shared(items.into())
    }
}

impl<T> FromIterator<T> for Shared<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        Shared(items.into_iter().collect())
    }
}

impl<'a, T> IntoIterator for &'a Shared<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<T: Serialize> Serialize for Shared<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Shared<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<T>::deserialize(deserializer).map(Shared::from)
    }
}

/// Scores with every field written: the compiled database's format (postcard) has no field
/// names, so a field skipped when empty (as the report's JSON skips them) cannot be read back.
mod scores_in_full {
    use super::{Score, ScoreKind, Severity, Shared};
    use serde::{Deserialize, Deserializer, Serializer};

    type Full = (ScoreKind, Option<String>, Option<f64>, Severity, String);

    pub(super) fn serialize<S: Serializer>(
        scores: &Shared<Score>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            scores
                .iter()
                .map(|sc| (sc.kind, &sc.vector, sc.score, sc.severity, &sc.source)),
        )
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Shared<Score>, D::Error> {
        let full = Vec::<Full>::deserialize(d)?;
        Ok(full
            .into_iter()
            .map(|(kind, vector, score, severity, source)| Score {
                kind,
                vector,
                score,
                severity,
                source,
            })
            .collect())
    }
}

/// A date as its Julian day number: the compiled database's form (`time` has no serde here).
mod julian_day {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(date: &time::Date, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i32(date.to_julian_day())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<time::Date, D::Error> {
        let day = i32::deserialize(d)?;
        time::Date::from_julian_day(day).map_err(serde::de::Error::custom)
    }
}

impl<T: Clone> IntoIterator for Shared<T> {
    type Item = T;
    type IntoIter = SharedIter<T>;
    fn into_iter(self) -> SharedIter<T> {
        SharedIter {
            list: self,
            next: 0,
        }
    }
}

/// The items of a [`Shared`] list, cloned one at a time.
#[derive(Debug)]
pub struct SharedIter<T> {
    list: Shared<T>,
    next: usize,
}

impl<T: Clone> Iterator for SharedIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        let item = self.list.0.get(self.next)?.clone();
        self.next += 1;
        Some(item)
    }
}

/// An advisory, normalised. Serialised only into the compiled database (`compiled`), which
/// this version of the tool alone reads back.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Advisory {
    pub id: String,
    pub aliases: Shared<String>,
    /// The package it is about (a crate, or a package of `ecosystem`).
    pub package: String,
    /// The OSV ecosystem (`crates.io`, `npm`, `PyPI`, `Maven`, `Go`...).
    pub ecosystem: crate::inventory::purl::Ecosystem,
    /// True for crates.io advisories, which match only crates.io packages.
    pub crates_io: bool,
    pub kind: Kind,
    pub title: std::sync::Arc<str>,
    /// The advisory's date: its publication, 00:00 UTC of this day.
    #[serde(with = "julian_day")]
    pub date: time::Date,
    pub withdrawn: bool,
    pub affected: Affected,
    #[serde(with = "scores_in_full")]
    pub scores: Shared<Score>,
    pub references: Shared<String>,
    /// The database it came from (`rustsec`, `osv`).
    pub source: String,
    /// The platforms and functions it is limited to.
    pub scope: super::platform::Scope,
}

/// The lowest release the advisory itself names as fixed for a version in use: the lower bound
/// of a `patched` requirement (RustSec) or a `fixed` event (OSV), above the version in use, not
/// affected, and not a pre-release unless the version in use is one. When it names one and the
/// index has no candidate fix, the index contradicts the advisory (every such release yanked,
/// published after the evaluation time, or missing): its facts are then unknown, never
/// read as "no fixed release yet".
pub fn named_fix(affected: &Affected, in_use: &semver::Version) -> Option<semver::Version> {
    let bounds: Vec<semver::Version> = match affected {
        Affected::Requirements(versions) => versions
            .patched()
            .iter()
            .filter_map(|req| {
                let bound = req.comparators.iter().filter_map(lower_bound).max()?;
                req.matches(&bound).then_some(bound)
            })
            .collect(),
        Affected::Osv { ranges, .. } => ranges
            .iter()
            .flatten()
            .filter_map(|event| match event {
                Event::Fixed(v) => {
                    // RustSec's export writes `>= X.Y.Z` as a fix at `X.Y.Z-0`.
                    let mut v = v.clone();
                    if v.pre.as_str() == "0" {
                        v.pre = semver::Prerelease::EMPTY;
                    }
                    Some(v)
                }
                _ => None,
            })
            .collect(),
        Affected::Foreign { .. } => Vec::new(),
    };
    bounds
        .into_iter()
        .filter(|v| v > in_use)
        .filter(|v| !in_use.pre.is_empty() || v.pre.is_empty())
        .filter(|v| !affected.affects(v))
        .min()
}

/// The lowest version a comparator admits, where it has one.
fn lower_bound(comparator: &semver::Comparator) -> Option<semver::Version> {
    use semver::Op;
    let mut version = semver::Version {
        major: comparator.major,
        minor: comparator.minor.unwrap_or(0),
        patch: comparator.patch.unwrap_or(0),
        pre: comparator.pre.clone(),
        build: semver::BuildMetadata::EMPTY,
    };
    match comparator.op {
        Op::Exact | Op::GreaterEq | Op::Tilde | Op::Caret | Op::Wildcard => Some(version),
        Op::Greater => {
            // The next release after the bound, at the precision it was written.
            if comparator.patch.is_some() {
                version.patch += 1;
            } else if comparator.minor.is_some() {
                version.minor += 1;
                version.patch = 0;
            } else {
                version.major += 1;
                version.minor = 0;
                version.patch = 0;
            }
            version.pre = semver::Prerelease::EMPTY;
            Some(version)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
