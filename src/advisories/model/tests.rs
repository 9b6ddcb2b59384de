//! Tests of the advisory model.
use super::*;

fn v(s: &str) -> semver::Version {
    semver::Version::parse(s).unwrap()
}

#[test]
fn osv_ranges_as_the_spec_evaluates_them() {
    // RustSec's export: introduced 0.0.0-0, fixed 1.5.5.
    let r = vec![
        Event::Introduced(Some(v("0.0.0-0"))),
        Event::Fixed(v("1.5.5")),
    ];
    assert!(in_range(&r, &v("1.5.4")));
    assert!(in_range(&r, &v("0.1.0")));
    assert!(!in_range(&r, &v("1.5.5")));
    assert!(!in_range(&r, &v("2.0.0")));
    // Two windows: [0, 0.3.1-0) and [0.4.0, 0.4.2).
    let r = vec![
        Event::Introduced(None),
        Event::Fixed(v("0.3.1-0")),
        Event::Introduced(Some(v("0.4.0"))),
        Event::Fixed(v("0.4.2")),
    ];
    assert!(in_range(&r, &v("0.3.0")));
    assert!(!in_range(&r, &v("0.3.1")));
    assert!(!in_range(&r, &v("0.3.9")));
    assert!(in_range(&r, &v("0.4.1")));
    assert!(!in_range(&r, &v("0.4.2")));
    // last_affected is inclusive.
    let r = vec![
        Event::Introduced(Some(v("1.0.0"))),
        Event::LastAffected(v("1.2.0")),
    ];
    assert!(in_range(&r, &v("1.2.0")));
    assert!(!in_range(&r, &v("1.2.1")));
    assert!(!in_range(&r, &v("0.9.0")));
}

#[test]
fn severity_prefers_v3_then_v4_then_ratings() {
    let v3 = cvss_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", "rustsec");
    assert_eq!(v3.score, Some(7.5));
    assert_eq!(v3.severity, Severity::High);
    let rating = Score {
        kind: ScoreKind::Rating,
        vector: None,
        score: None,
        severity: Severity::Critical,
        source: "osv".into(),
    };
    // A v3 score decides even when a rating says more.
    assert_eq!(overall(&[rating.clone(), v3.clone()]), Severity::High);
    assert_eq!(overall(&[rating]), Severity::Critical);
    assert_eq!(overall(&[]), Severity::Unscored);
    assert_eq!(Severity::from_rating("MODERATE"), Some(Severity::Medium));
    assert_eq!(Severity::from_score(0.0), Severity::Low);
    assert_eq!(Severity::from_score(9.0), Severity::Critical);
    assert_eq!(Severity::from_score(6.9), Severity::Medium);
}

#[test]
fn a_vector_that_does_not_parse_is_unscored_not_dropped() {
    let broken = cvss_score("CVSS:3.1/AV:N/AC:Q", "osv");
    assert_eq!(broken.kind, ScoreKind::CvssV3);
    assert_eq!(broken.score, None);
    assert_eq!(broken.severity, Severity::Unscored);
    let low = Score {
        kind: ScoreKind::Rating,
        vector: None,
        score: None,
        severity: Severity::Low,
        source: "osv".into(),
    };
    // A LOW rating does not shorten the window of a vector nobody could read.
    assert_eq!(overall(&[low, broken]), Severity::Unscored);
}

#[test]
fn the_fix_an_advisory_names_is_the_lowest_patched_bound_above_the_version_in_use() {
    let v = |s: &str| semver::Version::parse(s).unwrap();
    let req = |s: &str| semver::VersionReq::parse(s).unwrap();
    let rustsec = |patched: &[&str]| {
        Affected::Requirements(
            rustsec::advisory::Versions::new(patched.iter().map(|p| req(p)).collect(), vec![])
                .unwrap(),
        )
    };
    let two_lines = rustsec(&[">= 0.6.14, < 0.7.0", ">= 0.7.2"]);
    assert_eq!(named_fix(&two_lines, &v("0.6.10")), Some(v("0.6.14")));
    assert_eq!(named_fix(&two_lines, &v("0.7.0")), Some(v("0.7.2")));
    // Nothing above the version in use: no fix is named (not a contradiction).
    assert_eq!(named_fix(&rustsec(&["^0.3.24"]), &v("1.2.0")), None);
    assert_eq!(
        named_fix(&rustsec(&["> 1.5"]), &v("1.5.4")),
        Some(v("1.6.0"))
    );
    // A pre-release fix is no fix for a release.
    assert_eq!(named_fix(&rustsec(&[">= 2.0.0-rc.1"]), &v("1.0.0")), None);
    let osv = Affected::Osv {
        ranges: vec![vec![
            Event::Introduced(Some(v("0.0.0-0"))),
            Event::Fixed(v("1.5.5-0")),
        ]],
        versions: Vec::new(),
    };
    assert_eq!(named_fix(&osv, &v("1.5.4")), Some(v("1.5.5")));
    assert_eq!(named_fix(&osv, &v("1.5.5")), None);
}
