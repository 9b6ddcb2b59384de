//! Time as this tool records it: RFC 3339 in UTC, and `SOURCE_DATE_EPOCH` for reproducible
//! documents.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Why a time could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TimeError {
    #[error(
        "SOURCE_DATE_EPOCH is `{0}`, which is not a whole number of seconds since 1970-01-01 UTC: unset it, or set it to e.g. the commit time (`git log -1 --format=%ct`)"
    )]
    SourceDateEpoch(String),
}

/// The time a document is stamped with, and whether it came from `SOURCE_DATE_EPOCH`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    pub time: OffsetDateTime,
    /// True when `SOURCE_DATE_EPOCH` set it: the output must then be reproducible.
    pub reproducible: bool,
}

impl Stamp {
    /// `SOURCE_DATE_EPOCH` when set (it must be a number), else the clock.
    pub fn from_env() -> Result<Stamp, TimeError> {
        match std::env::var("SOURCE_DATE_EPOCH") {
            Ok(value) => Ok(Stamp {
                time: parse_epoch(&value)?,
                reproducible: true,
            }),
            Err(_) => Ok(Stamp {
                time: OffsetDateTime::now_utc()
                    .replace_nanosecond(0)
                    .unwrap_or_else(|_| OffsetDateTime::now_utc()),
                reproducible: false,
            }),
        }
    }
}

fn parse_epoch(value: &str) -> Result<OffsetDateTime, TimeError> {
    let seconds: i64 = value
        .trim()
        .parse()
        .map_err(|_| TimeError::SourceDateEpoch(value.to_owned()))?;
    OffsetDateTime::from_unix_timestamp(seconds)
        .map_err(|_| TimeError::SourceDateEpoch(value.to_owned()))
}

/// `2026-11-22T07:33:10Z`: RFC 3339, UTC, whole seconds.
pub fn rfc3339(time: OffsetDateTime) -> String {
    // Fractional seconds are kept when there are any (a `--now` that gives them), so that the
    // time recorded is the time used.
    let utc = time.to_offset(time::UtcOffset::UTC);
    utc.format(&Rfc3339)
        .unwrap_or_else(|_| utc.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_rfc3339_in_utc() {
        let t = evaluation_time(Some("2026-09-01T02:00:00+02:00")).unwrap();
        assert_eq!(rfc3339(t), "2026-09-01T00:00:00Z");
        assert!(
            evaluation_time(Some("yesterday"))
                .unwrap_err()
                .to_string()
                .contains("`yesterday`")
        );
        // In range with its offset, in the year 10000 in UTC: refused, never a panic.
        assert!(evaluation_time(Some("9999-12-31T23:59:59-23:59")).is_err());
        assert_eq!(parse_day("2026-08-21").unwrap().to_string(), "2026-08-21");
    }

    #[test]
    fn epoch_is_formatted_in_utc() {
        let time = parse_epoch("1700000000").unwrap();
        assert_eq!(rfc3339(time), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn epoch_must_be_a_number() {
        let err = parse_epoch("yesterday").unwrap_err();
        assert!(err.to_string().contains("`yesterday`"));
    }
}

/// Why `--now` could not be read.
#[derive(Debug, thiserror::Error)]
#[error("--now `{0}` is not an RFC 3339 time: give one such as 2026-09-01T00:00:00Z")]
pub struct NowError(pub String);

/// The evaluation time: `--now` when given, else the clock. `SOURCE_DATE_EPOCH` never sets it:
/// a commit time would understate how long a fix has waited.
pub fn evaluation_time(now: Option<&str>) -> Result<OffsetDateTime, NowError> {
    match now {
        // Past the year 9999 in UTC (9999-12-31T23:59:59-23:59) is no time either.
        Some(text) => OffsetDateTime::parse(text.trim(), &Rfc3339)
            .ok()
            .and_then(|t| t.checked_to_offset(time::UtcOffset::UTC))
            .ok_or_else(|| NowError(text.to_owned())),
        None => Ok(clock()),
    }
}

/// The clock, to the second: what the reports record is exactly what was used.
pub fn clock() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

/// A `YYYY-MM-DD` date (`--advisory-db-date`).
pub fn parse_day(text: &str) -> Option<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.trim(), &format).ok()
}
