//! How the compiled registry facts write an index version: its version as numbers and texts,
//! its publication time as UTC parts, and the borrowed form a kept entry's versions are first
//! read as ([`RawVersion`]), so that a version the run does not keep costs no conversion.

use std::cmp::Ordering;

use serde::Deserialize;
use time::OffsetDateTime;

use super::index::{IndexVersion, Required};

/// An [`IndexVersion`] as the compiled facts write it, borrowed and not yet checked: read first,
/// so that a version a run does not keep costs no conversion (most of an entry's versions are
/// older releases no fact looks at). Its fields are `IndexVersion`'s, in its order, each as
/// its `serde(with)` module writes it.
#[derive(Clone, Deserialize)]
pub(crate) struct RawVersion<'a> {
    #[serde(borrow)]
    version: version_parts::Parts<'a>,
    yanked: bool,
    pubtime: Option<pubtime::Parts>,
    requires: Option<Vec<Required>>,
}

impl RawVersion<'_> {
    /// The version, checked.
    fn version(&self) -> Option<semver::Version> {
        version_parts::from_parts(self.version).ok()
    }

    /// Its major, minor and patch numbers.
    fn numbers(&self) -> (u64, u64, u64) {
        (self.version.0, self.version.1, self.version.2)
    }

    /// How it compares with `other`: by the numbers alone when they differ (most do), else as
    /// whole versions; a version that is not one sorts above anything (it is then kept, and
    /// fails its conversion).
    pub(crate) fn cmp_version(&self, other: &semver::Version) -> Ordering {
        self.numbers()
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| self.version().map_or(Ordering::Greater, |v| v.cmp(other)))
    }

    /// [`RawVersion::cmp_version`] with another raw version.
    pub(crate) fn cmp_raw(&self, other: &Self) -> Ordering {
        self.numbers()
            .cmp(&other.numbers())
            .then_with(|| match (self.version(), other.version()) {
                (Some(a), Some(b)) => a.cmp(&b),
                _ => Ordering::Greater,
            })
    }

    /// Whether it is a release (neither yanked nor a pre-release) that exists at `now`; `None`
    /// when its publication time is not one.
    pub(crate) fn release_at(&self, now: OffsetDateTime) -> Option<bool> {
        let exists = match self.pubtime {
            Some(parts) => pubtime::from_parts(parts).ok()? <= now,
            None => true,
        };
        Some(exists && !self.yanked && self.version.3.is_empty())
    }

    /// The version, checked.
    pub(crate) fn cook(self) -> Option<IndexVersion> {
        Some(IndexVersion {
            version: self.version()?,
            yanked: self.yanked,
            pubtime: self.pubtime.map(pubtime::from_parts).transpose().ok()?,
            requires: self.requires,
        })
    }
}

pub(crate) mod version_parts {
    //! A version in the compiled facts: its three numbers and its pre-release and build texts,
    //! read back with no parsing of the numbers (a version written as text was formatted twice
    //! on writing and parsed on reading: the most of a cold audit's time spent keeping the
    //! registry facts).
    use semver::{BuildMetadata, Prerelease, Version};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &Version, s: S) -> Result<S::Ok, S::Error> {
        (v.major, v.minor, v.patch, v.pre.as_str(), v.build.as_str()).serialize(s)
    }

    /// The three numbers, the pre-release and the build texts, as written.
    pub type Parts<'a> = (u64, u64, u64, &'a str, &'a str);

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Version, D::Error> {
        from_parts(<Parts<'de>>::deserialize(d)?).map_err(serde::de::Error::custom)
    }

    /// The version `parts` write, or why they are not one.
    pub fn from_parts(
        (major, minor, patch, pre, build): Parts<'_>,
    ) -> Result<Version, semver::Error> {
        // Most versions have neither: no parsing of an empty text.
        let pre = match pre {
            "" => Prerelease::EMPTY,
            pre => Prerelease::new(pre)?,
        };
        let build = match build {
            "" => BuildMetadata::EMPTY,
            build => BuildMetadata::new(build)?,
        };
        Ok(Version {
            major,
            minor,
            patch,
            pre,
            build,
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct V(#[serde(with = "super")] Version);

        #[test]
        fn a_version_reads_back_whole_and_a_bad_one_is_refused() {
            for text in [
                "0.0.0",
                "1.5.4",
                "2.0.0-rc.1+build.5",
                "18446744073709551615.1.2-a",
            ] {
                let v = Version::parse(text).unwrap();
                let bytes = postcard::to_allocvec(&V(v.clone())).unwrap();
                assert_eq!(postcard::from_bytes::<V>(&bytes).unwrap(), V(v));
            }
            for bad in [
                (1u64, 2u64, 3u64, "01", ""),
                (1, 2, 3, "", "a..b"),
                (1, 2, 3, "é", ""),
            ] {
                let bytes = postcard::to_allocvec(&bad).unwrap();
                assert!(postcard::from_bytes::<V>(&bytes).is_err(), "{bad:?}");
            }
        }
    }
}

pub(crate) mod pubtime {
    //! A publication time in the compiled facts: its UTC date as year and day of the year, and
    //! its time of day as hour, minute, second and nanosecond. Read back with range checks
    //! only: a count of nanoseconds since 1970 as an `i128` took an `i128` division per
    //! version (a twentieth of a warm audit of nushell's lockfile under callgrind), and
    //! nanoseconds into the day five `u64` divisions (a twentieth of decoding an entry).
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use time::{Date, OffsetDateTime, Time, UtcOffset};

    /// Year, day of the year, hour, minute, second, nanosecond (UTC).
    pub type Parts = (i32, u16, u8, u8, u8, u32);

    pub fn serialize<S: Serializer>(t: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
        // A time in range with its offset can be out of range in UTC (9999-12-31T23:59:59-23:59
        // is in the year 10000 there): such an entry is never kept (`Parsed::compilable`), and
        // this refuses it rather than panic.
        let utc = match t {
            Some(t) => Some(t.checked_to_offset(UtcOffset::UTC).ok_or_else(|| {
                serde::ser::Error::custom("a publication time out of range in UTC")
            })?),
            None => None,
        };
        utc.map(|t| {
            let (hour, minute, second, nano) = t.to_hms_nano();
            (t.year(), t.ordinal(), hour, minute, second, nano)
        })
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        Option::<Parts>::deserialize(d)?
            .map(from_parts)
            .transpose()
            .map_err(serde::de::Error::custom)
    }

    /// The time `parts` write, or why they are not one.
    pub fn from_parts(
        (year, ordinal, hour, minute, second, nano): Parts,
    ) -> Result<OffsetDateTime, time::error::ComponentRange> {
        let date = Date::from_ordinal_date(year, ordinal)?;
        let time = Time::from_hms_nano(hour, minute, second, nano)?;
        Ok(date.with_time(time).assume_utc())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct At(#[serde(with = "super")] Option<OffsetDateTime>);

        #[test]
        fn a_time_reads_back_as_the_same_instant_and_a_bad_one_is_refused() {
            for text in [
                "2021-01-08T17:34:20Z",
                "1970-01-01T00:00:00Z",
                "2024-12-31T23:59:59.999999999Z",
                "2025-03-01T01:02:03.5+05:30",
            ] {
                let t = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                    .unwrap();
                let bytes = postcard::to_allocvec(&At(Some(t))).unwrap();
                assert_eq!(postcard::from_bytes::<At>(&bytes).unwrap(), At(Some(t)));
            }
            let far = OffsetDateTime::parse(
                "9999-12-31T23:59:59-23:59",
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap();
            assert!(
                postcard::to_allocvec(&At(Some(far))).is_err(),
                "no panic, no value"
            );
            let none = postcard::to_allocvec(&At(None)).unwrap();
            assert_eq!(postcard::from_bytes::<At>(&none).unwrap(), At(None));
            for bad in [
                (2021, 0, 0, 0, 0, 0),
                (2021, 366, 0, 0, 0, 0),
                (2021, 1, 24, 0, 0, 0),
                (2021, 1, 0, 60, 0, 0),
                (2021, 1, 0, 0, 60, 0),
                (2021, 1, 0, 0, 0, 1_000_000_000u32),
            ] {
                let bytes = postcard::to_allocvec(&Some(bad)).unwrap();
                assert!(postcard::from_bytes::<At>(&bytes).is_err(), "{bad:?}");
            }
        }
    }
}
