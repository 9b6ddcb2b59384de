use super::*;
use crate::advisories::{FindingPackage, Kind, Severity};
use crate::registry::apply::FixFacts;
use crate::vex::Format;

const NOW: OffsetDateTime = time::macros::datetime!(2026-08-25 00:00 UTC);

fn finding() -> Finding {
    Finding {
        id: "RUSTSEC-2022-0013".to_owned(),
        aliases: vec!["CVE-2022-24713".to_owned()],
        kind: Kind::Vulnerability,
        package: FindingPackage {
            name: "regex".to_owned(),
            version: "1.5.4".to_owned(),
            purl: "pkg:cargo/regex@1.5.4".to_owned(),
        },
        ecosystem: crate::inventory::purl::Ecosystem::CratesIo,
        title: "regex".to_owned(),
        severity: Severity::High,
        severities: Vec::new(),
        vector: None,
        date: Some("2022-03-08".to_owned()),
        patched: vec![">=1.5.5".to_owned()],
        references: Vec::new(),
        sources: vec!["rustsec".to_owned()],
        functions: Vec::new(),
        not_applicable: None,
        affected: None,
        scopes: Vec::new(),
    }
}

fn statement(status: Status, time: &str) -> Statement {
    Statement {
        vulnerability: "CVE-2022-24713".to_owned(),
        product: None,
        components: vec!["pkg:cargo/regex@1.5.4".to_owned()],
        status,
        justification: Some("vulnerable_code_not_present".to_owned()),
        impact: None,
        action: Some("upgrade".to_owned()),
        time: Some(time.to_owned()),
    }
}

fn document(statements: Vec<Statement>) -> Document {
    Document {
        name: "vendor.json".to_owned(),
        sha256: format!("sha256:{}", "0".repeat(64)),
        format: Format::Openvex,
        author: "Vendor".to_owned(),
        signer: None,
        statements,
    }
}

/// The judgement of the regex finding (a patch-age violation) with `documents` applied.
fn judged(documents: &[Document], product: Option<&str>) -> Judgement {
    let policy = crate::policy::builtin("nhs-charter").unwrap();
    let fix = FixFacts::unknown("no registry facts".to_owned());
    let before = super::super::rules::judge(&finding(), &fix, &policy, &[], NOW);
    assert_eq!(before.verdict, Verdict::Violation);
    Index::new(documents, product).apply(&finding(), before, &policy, NOW)
}

#[test]
fn the_latest_statement_decides_and_at_the_same_time_affected_wins() {
    let early = "2026-08-01T00:00:00Z";
    let late = "2026-08-10T00:00:00Z";
    // Not affected, then affected: affected.
    let j = judged(
        &[document(vec![
            statement(Status::NotAffected, early),
            statement(Status::Affected, late),
        ])],
        None,
    );
    assert_eq!(j.verdict, Verdict::Violation);
    assert!(
        j.message.contains("says affected: upgrade"),
        "{}",
        j.message
    );
    // Affected, then not affected (in another document): excepted.
    let j = judged(
        &[
            document(vec![statement(Status::Affected, early)]),
            document(vec![statement(Status::NotAffected, late)]),
        ],
        None,
    );
    assert_eq!(j.verdict, Verdict::Excepted);
    assert_eq!(j.vex.unwrap().time, late);
    // At the same time, in either order: affected.
    for statements in [
        vec![
            statement(Status::NotAffected, late),
            statement(Status::Affected, late),
        ],
        vec![
            statement(Status::Affected, late),
            statement(Status::NotAffected, late),
        ],
    ] {
        let j = judged(&[document(statements)], None);
        assert_eq!(j.verdict, Verdict::Violation, "{}", j.message);
    }
}

#[test]
fn subcomponents_count_only_inside_the_audited_product() {
    let mut inside = statement(Status::NotAffected, "2026-08-01T00:00:00Z");
    inside.product = Some("pkg:cargo/demo-app@0.3.1".to_owned());
    let documents = [document(vec![inside])];
    // The product's own qualifiers (how this run found it) do not matter; its version does.
    let ours = Some("pkg:cargo/demo-app@0.3.1?source=path");
    assert_eq!(judged(&documents, ours).verdict, Verdict::Excepted);
    for other in [
        Some("pkg:cargo/demo-app@0.3.2"),
        Some("pkg:cargo/other-app@0.3.1"),
        None,
    ] {
        assert_eq!(
            judged(&documents, other).verdict,
            Verdict::Violation,
            "{other:?}"
        );
    }
}

#[test]
fn a_statement_is_unused_only_when_it_matches_no_finding() {
    let used = statement(Status::UnderInvestigation, "2026-08-01T00:00:00Z");
    let mut other = used.clone();
    other.vulnerability = "CVE-2099-0001".to_owned();
    let documents = [document(vec![used, other.clone(), other])];
    let judged = vec![Judged {
        finding: finding(),
        fix: FixFacts::unknown(String::new()),
        judgement: judged(&[], None),
    }];
    let unused = Index::new(&documents, None).unused(&judged);
    // Once per vulnerability and document, however many statements repeat it.
    assert_eq!(unused.len(), 1);
    assert_eq!(unused[0].subject, "CVE-2099-0001 (vendor.json)");
    assert_eq!(unused[0].rule, Rule::VexUnused);
}
