//! The principle map's statuses, case by case: what a run evidences and what it never does.

use super::*;
use crate::advisories::Unchecked;
use crate::model::report::{sample, sample_finding};
use crate::policy::RuleFinding;

fn status(map: &[Principle], framework: Framework, id: &str) -> Status {
    map.iter()
        .find(|e| e.framework == framework && e.id == id)
        .map(|e| e.status)
        .unwrap()
}

fn with_windows(report: &mut Report, critical: u32) {
    let windows = &mut report.policy.settings.patch_age;
    (windows.critical, windows.high, windows.unscored) = (critical, 14, 14);
}

#[test]
fn a_violation_is_never_evidence_of_patching() {
    let mut report = sample();
    report.result = Outcome::Fail;
    let mut finding = sample_finding();
    finding.verdict = Verdict::Violation;
    report.findings.push(finding);
    report.product.commit = Some("abc".to_owned());
    with_windows(&mut report, 14);
    let map = map(&report, true, true);
    assert_eq!(status(&map, Framework::Charter, "1"), Status::NotEvidenced);
    assert_eq!(
        status(&map, Framework::CodeOfPractice, "3.5"),
        Status::NotEvidenced
    );
    assert_eq!(
        status(&map, Framework::CodeOfPractice, "3.1"),
        Status::Evidenced
    );
    assert_eq!(
        status(&map, Framework::Ssdf, "PW.4.4"),
        Status::NotEvidenced
    );
    for id in ["2", "3", "4", "5", "6", "7"] {
        assert_eq!(status(&map, Framework::Charter, id), Status::NotAssessed);
    }
    assert_eq!(status(&map, Framework::Charter, "8"), Status::Partial);
}

#[test]
fn windows_longer_than_cyber_essentials_never_evidence_patching() {
    let mut report = sample();
    with_windows(&mut report, 36500);
    let map = map(&report, true, true);
    assert_eq!(status(&map, Framework::Charter, "1"), Status::Partial);
    let evidence = &map.iter().find(|e| e.id == "3.5").unwrap().evidence;
    assert!(
        evidence.contains("longer than Cyber Essentials' 14 days (windows: critical 36500"),
        "{evidence}"
    );
}

#[test]
fn what_was_not_checked_makes_it_partial() {
    let mut report = sample();
    report.components.inventory = InventoryKind::CargoLock;
    report.coverage.unchecked.push(Unchecked {
        name: "x".to_owned(),
        version: "1.0.0".to_owned(),
        purl: "pkg:cargo/x@1.0.0?vcs_url=git%2Bhttps://example.org/x".to_owned(),
        reason: "git source".to_owned(),
        own_code: false,
    });
    with_windows(&mut report, 14);
    let map = map(&report, false, false);
    assert_eq!(status(&map, Framework::Charter, "1"), Status::Partial);
    assert_eq!(
        status(&map, Framework::CodeOfPractice, "1.2"),
        Status::Partial
    );
    assert_eq!(
        status(&map, Framework::CodeOfPractice, "1.3"),
        Status::Partial
    );
    assert_eq!(
        status(&map, Framework::CodeOfPractice, "3.1"),
        Status::NotEvidenced
    );
    assert_eq!(
        status(&map, Framework::CodeOfPractice, "3.3"),
        Status::Partial
    );
}

#[test]
fn a_lockfile_that_hides_a_dependency_evidences_neither_patching_nor_composition() {
    let mut report = sample();
    report.result = Outcome::Fail;
    report.components.inventory = InventoryKind::CargoLock;
    report.rule_findings.push(RuleFinding {
        rule: Rule::LockfileIncomplete,
        verdict: Verdict::Violation,
        subject: "mid 1.0.0 -> smallvec".to_owned(),
        message: String::new(),
        package: None,
    });
    with_windows(&mut report, 14);
    let map = map(&report, true, true);
    for (framework, id) in [
        (Framework::Charter, "1"),
        (Framework::CodeOfPractice, "3.5"),
        (Framework::CodeOfPractice, "1.2"),
        (Framework::Ssdf, "PS.3.2"),
    ] {
        assert_eq!(status(&map, framework, id), Status::NotEvidenced, "{id}");
    }
}

#[test]
fn a_run_in_ci_records_its_builder_but_not_control_of_it() {
    let mut report = sample();
    with_windows(&mut report, 14);
    assert_eq!(
        status(&map(&report, true, true), Framework::CodeOfPractice, "2.2"),
        Status::NotEvidenced
    );
    report.builder = Builder::from_env(&|name| {
        Some(match name {
            "GITHUB_ACTIONS" => "true".to_owned(),
            _ => "x".to_owned(),
        })
    });
    assert_eq!(
        status(&map(&report, true, true), Framework::CodeOfPractice, "2.2"),
        Status::Partial
    );
}

#[test]
fn an_incomplete_sbom_is_named_by_the_profile_it_was_judged_by() {
    use crate::sbom::profile::Profile;
    for (profile, words) in [
        (Profile::Ntia2021, "NTIA minimum elements"),
        (Profile::BsiTr03183_2, "fields BSI TR-03183-2 requires"),
        (Profile::Cisa2025Draft, "CISA's 2025 draft"),
    ] {
        let mut report = sample();
        report.policy.settings.sbom_completeness.profile = profile;
        report.rule_findings.push(RuleFinding {
            rule: Rule::SbomCompleteness,
            verdict: Verdict::Violation,
            subject: "sbom".to_owned(),
            message: String::new(),
            package: None,
        });
        let map = map(&report, true, true);
        let composition = map
            .iter()
            .find(|e| e.framework == Framework::CodeOfPractice && e.id == "1.2")
            .unwrap();
        assert_eq!(composition.status, Status::NotEvidenced);
        assert!(
            composition.evidence.contains(words),
            "{}",
            composition.evidence
        );
    }
}
