//! What one audit evidences of the NHS England Cyber Security Charter, the DSIT/NCSC Software
//! Security Code of Practice and NIST SSDF (STANDARDS.md): `evidenced`, `partial`,
//! `not-evidenced` or `not-assessed`, each with the evidence behind it. A pipeline evidences,
//! never certifies, and nothing the run did not check is claimed.

use serde_json::{Value, json};

const EVIDENCED: &str = "evidenced";
const PARTIAL: &str = "partial";
const NOT_EVIDENCED: &str = "not-evidenced";
const NOT_ASSESSED: &str = "not-assessed";

/// Facts of the report the statuses rest on.
struct Facts {
    patch_age_violations: usize,
    patch_age_excepted: usize,
    /// Packages not checked that are not the product's own code.
    unchecked_third_party: usize,
    registry_unknown: bool,
    stale_database: bool,
    skipped_files: bool,
    completeness_violations: usize,
    complete_graph: bool,
    /// Cargo.lock leaves out dependencies the registry index lists (`lockfile-incomplete`).
    lockfile_incomplete: bool,
    /// The audit read the supplier's own SBOM (`--sbom`).
    suppliers_sbom: bool,
    source_violations: usize,
    source_warnings: usize,
    /// The policy's windows for critical, high and unscored vulnerabilities.
    windows: Vec<u64>,
    pass: bool,
    commit: bool,
}

fn facts(report: &Value) -> Facts {
    let findings: Vec<&Value> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let rules: Vec<&Value> = report["rule_findings"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let rule_count = |rule: &str, verdict: &str| {
        rules
            .iter()
            .filter(|r| r["rule"] == rule && r["verdict"] == verdict)
            .count()
    };
    Facts {
        patch_age_violations: findings
            .iter()
            .filter(|f| f["rule"] == "patch-age" && f["verdict"] == "violation")
            .count(),
        patch_age_excepted: findings
            .iter()
            .filter(|f| f["rule"] == "patch-age" && f["verdict"] == "excepted")
            .count(),
        unchecked_third_party: report["coverage"]["unchecked"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|u| u["own_code"] != true)
            .count(),
        source_warnings: rule_count("sources", "warning"),
        windows: ["critical", "high", "unscored"]
            .iter()
            .map(|s| {
                report["policy"]["settings"][format!("patch-age.{s}")]
                    .as_u64()
                    .unwrap_or(u64::MAX)
            })
            .collect(),
        registry_unknown: rule_count("registry-facts", "warning") > 0,
        stale_database: rule_count("advisory-db-age", "violation") > 0,
        skipped_files: report["sources"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["skipped"].as_array().is_some_and(|k| !k.is_empty())),
        completeness_violations: rule_count("sbom-completeness", "violation"),
        complete_graph: report["components"]["inventory"] == "cargo-metadata",
        lockfile_incomplete: rule_count("lockfile-incomplete", "violation") > 0,
        suppliers_sbom: report["components"]["inventory"] == "cyclonedx-sbom",
        source_violations: rule_count("sources", "violation"),
        pass: report["result"] == "pass",
        commit: report["product"]["commit"].is_string(),
    }
}

fn entry(framework: &str, id: &str, title: &str, status: &str, evidence: String) -> Value {
    json!({"framework": framework, "id": id, "title": title, "status": status, "evidence": evidence})
}

/// The principle map of one audit.
pub fn map(report: &Value, builder: &Value, artifacts: bool, signed: bool) -> Vec<Value> {
    let f = facts(report);
    let mut out = Vec::new();

    // Patch age of the product's dependencies: Charter 1, Code of Practice 3.5. Cyber
    // Essentials asks for 14 days; a policy whose windows are longer cannot evidence it.
    let windows = format!(
        "windows: critical {}, high {}, unscored {} days",
        f.windows[0], f.windows[1], f.windows[2]
    );
    let within_cyber_essentials = f.windows.iter().all(|w| *w <= 14);
    let (patched, patched_why) = if f.lockfile_incomplete {
        (
            NOT_EVIDENCED,
            "Cargo.lock leaves out dependencies the registry index lists (lockfile-incomplete): what was checked is not the whole product".to_owned(),
        )
    } else if f.patch_age_violations > 0 {
        (
            NOT_EVIDENCED,
            format!(
                "{} known fix(es) waited longer than the policy's window (patch-age violations; {windows})",
                f.patch_age_violations
            ),
        )
    } else if !within_cyber_essentials {
        (
            PARTIAL,
            format!(
                "no known fix waited past the policy's windows, but they are longer than Cyber Essentials' 14 days ({windows})"
            ),
        )
    } else if f.unchecked_third_party > 0
        || f.registry_unknown
        || f.stale_database
        || f.skipped_files
    {
        (
            PARTIAL,
            format!(
                "no known fix waited past its window among what was checked ({windows}), but some components or facts were not checked (see coverage, registry-facts, advisory-db-age)"
            ),
        )
    } else if f.patch_age_excepted > 0 {
        (
            PARTIAL,
            format!(
                "no fix waited past its window but {} excepted under documented, expiring exceptions ({windows})",
                f.patch_age_excepted
            ),
        )
    } else {
        (
            EVIDENCED,
            format!(
                "no known fix for a checked component waited longer than the policy's windows, within Cyber Essentials' 14 days ({windows})"
            ),
        )
    };
    let charter = "nhs-cyber-security-charter";
    out.push(entry(
        charter,
        "1",
        "Keep systems in support with the latest security patches",
        patched,
        format!("for the product's dependencies only: {patched_why}"),
    ));
    for (id, title) in [
        ("2", "Data Security and Protection Toolkit: Standards Met"),
        ("3", "Multi-factor authentication"),
        ("4", "24/7 monitoring and logging"),
        ("5", "Immutable, tested backups"),
        ("6", "Board-level cyber exercises"),
        ("7", "Timely incident reporting"),
    ] {
        out.push(entry(
            charter,
            id,
            title,
            NOT_ASSESSED,
            "outside what a release pipeline can show".to_owned(),
        ));
    }
    out.push(entry(
        charter,
        "8",
        "Develop software in line with the Software Security Code of Practice",
        PARTIAL,
        "only the Code of Practice provisions mapped below (1.2, 1.3, 2.2, 3.1, 3.3, 3.5); the others are organisational".to_owned(),
    ));

    let cop = "software-security-code-of-practice";
    let (composition, composition_why) = if f.lockfile_incomplete {
        (
            NOT_EVIDENCED,
            "Cargo.lock leaves out dependencies the registry index lists (lockfile-incomplete), so the SBOM read from it is not the product".to_owned(),
        )
    } else if f.completeness_violations > 0 {
        (
            NOT_EVIDENCED,
            "the SBOM lacks NTIA minimum elements (sbom-completeness violations)".to_owned(),
        )
    } else if f.suppliers_sbom {
        (
            PARTIAL,
            "the supplier's own SBOM, as its tool wrote it, with the NTIA minimum elements: how complete its inventory is, charter-audit cannot tell".to_owned(),
        )
    } else if !f.complete_graph {
        (
            PARTIAL,
            "an SBOM of every locked package, read from Cargo.lock: its dependency graph is not the one cargo resolved".to_owned(),
        )
    } else {
        (
            EVIDENCED,
            "a CycloneDX SBOM of the dependency graph cargo resolved (every component with version, purl and dependency edges; hashes where the lockfile has them; the toolchain), with the NTIA minimum elements".to_owned(),
        )
    };
    out.push(entry(
        cop,
        "1.2",
        "Understand the composition of the software and the risks of third-party components",
        composition,
        composition_why.clone(),
    ));
    out.push(entry(
        cop,
        "1.3",
        "Test software and updates before distribution",
        if f.commit { EVIDENCED } else { PARTIAL },
        if f.commit {
            "the audit ran on this release's commit, at the recorded evaluation time".to_owned()
        } else {
            "the audit ran at the recorded evaluation time; the commit is not recorded".to_owned()
        },
    ));
    let ci = builder["kind"] == "github-actions";
    out.push(entry(
        cop,
        "2.2",
        "Control and log changes to the build environment",
        if ci { PARTIAL } else { NOT_EVIDENCED },
        if ci {
            "the builder's identity (CI run, workflow, runner) is recorded; control of changes to it is not assessed".to_owned()
        } else {
            "run locally: no build environment identity to record".to_owned()
        },
    ));
    let (distribution, distribution_why) = match (signed, artifacts) {
        (true, true) => (
            EVIDENCED,
            "the attestation is signed over the release artifacts' SHA-256 and SHA-512 digests",
        ),
        (true, false) => (
            PARTIAL,
            "the attestation is signed, but names no release artifact (only the SBOM)",
        ),
        (false, true) => (
            PARTIAL,
            "the statement names the release artifacts' digests; it is signed outside charter-audit (keyless), if at all",
        ),
        (false, false) => (NOT_EVIDENCED, "neither signed nor about release artifacts"),
    };
    out.push(entry(
        cop,
        "3.1",
        "Distribute software securely so that customers can verify its integrity",
        distribution,
        distribution_why.to_owned(),
    ));
    let (detect, detect_why) = if f.stale_database || f.skipped_files {
        (
            PARTIAL,
            "the check ran, but against an advisory database that was stale or not fully loaded",
        )
    } else if f.unchecked_third_party > 0 {
        (
            PARTIAL,
            "the check ran against named, dated databases, but some third-party components could not be checked (see coverage)",
        )
    } else {
        (
            EVIDENCED,
            "every third-party component checked against named, dated advisory databases, with verdicts under the recorded policy",
        )
    };
    out.push(entry(
        cop,
        "3.3",
        "Detect, prioritise and manage vulnerabilities in components",
        detect,
        detect_why.to_owned(),
    ));
    out.push(entry(
        cop,
        "3.5",
        "Provide timely security updates and patches",
        patched,
        patched_why,
    ));
    for id in ["1.1", "1.4", "2.1", "3.2", "3.4", "4.1", "4.2", "4.3"] {
        out.push(entry(
            cop,
            id,
            "organisational",
            NOT_ASSESSED,
            "organisational: outside what a release pipeline can show".to_owned(),
        ));
    }

    let ssdf = "nist-ssdf-sp-800-218";
    out.push(entry(
        ssdf,
        "PS.3.2",
        "Collect, safeguard, maintain and share provenance data (an SBOM)",
        composition,
        composition_why,
    ));
    out.push(entry(
        ssdf,
        "PW.4.1",
        "Acquire and maintain well-secured components",
        match (f.source_violations, f.source_warnings, detect) {
            (0, 0, EVIDENCED) => EVIDENCED,
            (0, _, _) => PARTIAL,
            _ => NOT_EVIDENCED,
        },
        if f.source_violations > 0 {
            "components come from registries the policy does not allow".to_owned()
        } else if f.source_warnings > 0 {
            format!("some components come from git or other sources no registry vouches for; {detect_why}")
        } else {
            format!("components from allowed registries; {detect_why}")
        },
    ));
    out.push(entry(
        ssdf,
        "PW.4.4",
        "Verify that components remain compliant through their life cycle",
        if f.pass { detect } else { NOT_EVIDENCED },
        if f.pass {
            "the policy passed on this release".to_owned()
        } else {
            "the policy failed on this release".to_owned()
        },
    ));
    out.push(entry(
        ssdf,
        "RV.1.1",
        "Gather information from sources about potential vulnerabilities in components",
        if f.stale_database || f.skipped_files {
            PARTIAL
        } else {
            EVIDENCED
        },
        if f.stale_database || f.skipped_files {
            "advisory databases named, dated and counted, but stale or not fully loaded".to_owned()
        } else {
            "advisory databases named, dated and counted in the attestation, recent under the policy".to_owned()
        },
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status<'a>(map: &'a [Value], framework: &str, id: &str) -> &'a str {
        map.iter()
            .find(|e| e["framework"] == framework && e["id"] == id)
            .and_then(|e| e["status"].as_str())
            .unwrap()
    }

    #[test]
    fn a_violation_is_never_evidence_of_patching() {
        let report = json!({
            "result": "fail",
            "findings": [{"rule": "patch-age", "verdict": "violation"}],
            "rule_findings": [],
            "coverage": {"unchecked": []},
            "components": {"inventory": "cargo-metadata"},
            "sources": [],
            "product": {"commit": "abc"},
            "policy": {"settings": {"patch-age.critical": 14, "patch-age.high": 14, "patch-age.unscored": 14}},
        });
        let map = map(&report, &json!({"kind": "local"}), true, true);
        assert_eq!(
            status(&map, "nhs-cyber-security-charter", "1"),
            NOT_EVIDENCED
        );
        assert_eq!(
            status(&map, "software-security-code-of-practice", "3.5"),
            NOT_EVIDENCED
        );
        assert_eq!(
            status(&map, "software-security-code-of-practice", "3.1"),
            EVIDENCED
        );
        assert_eq!(
            status(&map, "nist-ssdf-sp-800-218", "PW.4.4"),
            NOT_EVIDENCED
        );
        for id in ["2", "3", "4", "5", "6", "7"] {
            assert_eq!(status(&map, "nhs-cyber-security-charter", id), NOT_ASSESSED);
        }
        assert_eq!(status(&map, "nhs-cyber-security-charter", "8"), PARTIAL);
    }

    #[test]
    fn windows_longer_than_cyber_essentials_never_evidence_patching() {
        let report = json!({
            "result": "pass",
            "findings": [],
            "rule_findings": [],
            "coverage": {"unchecked": []},
            "components": {"inventory": "cargo-metadata"},
            "sources": [],
            "product": {},
            "policy": {"settings": {"patch-age.critical": 36500, "patch-age.high": 14, "patch-age.unscored": 14}},
        });
        let map = map(&report, &json!({"kind": "local"}), true, true);
        assert_eq!(status(&map, "nhs-cyber-security-charter", "1"), PARTIAL);
        let evidence = map
            .iter()
            .find(|e| e["id"] == "3.5")
            .and_then(|e| e["evidence"].as_str())
            .unwrap();
        assert!(
            evidence.contains("longer than Cyber Essentials' 14 days (windows: critical 36500"),
            "{evidence}"
        );
    }

    #[test]
    fn what_was_not_checked_makes_it_partial() {
        let report = json!({
            "result": "pass",
            "findings": [],
            "rule_findings": [],
            "coverage": {"unchecked": [{"purl": "pkg:cargo/x@1.0.0?vcs_url=git%2Bhttps://example.org/x", "own_code": false}]},
            "components": {"inventory": "cargo-lock"},
            "sources": [],
            "product": {},
        });
        let map = map(&report, &json!({"kind": "local"}), false, false);
        assert_eq!(status(&map, "nhs-cyber-security-charter", "1"), PARTIAL);
        assert_eq!(
            status(&map, "software-security-code-of-practice", "1.2"),
            PARTIAL
        );
        assert_eq!(
            status(&map, "software-security-code-of-practice", "1.3"),
            PARTIAL
        );
        assert_eq!(
            status(&map, "software-security-code-of-practice", "3.1"),
            NOT_EVIDENCED
        );
        assert_eq!(
            status(&map, "software-security-code-of-practice", "3.3"),
            PARTIAL
        );
    }

    #[test]
    fn a_lockfile_that_hides_a_dependency_evidences_neither_patching_nor_composition() {
        let report = json!({
            "result": "fail",
            "findings": [],
            "rule_findings": [{"rule": "lockfile-incomplete", "verdict": "violation", "subject": "mid 1.0.0 -> smallvec"}],
            "coverage": {"unchecked": []},
            "components": {"inventory": "cargo-lock"},
            "sources": [],
            "product": {},
            "policy": {"settings": {"patch-age.critical": 14, "patch-age.high": 14, "patch-age.unscored": 14}},
        });
        let map = map(&report, &json!({"kind": "local"}), true, true);
        for (framework, id) in [
            ("nhs-cyber-security-charter", "1"),
            ("software-security-code-of-practice", "3.5"),
            ("software-security-code-of-practice", "1.2"),
            ("nist-ssdf-sp-800-218", "PS.3.2"),
        ] {
            assert_eq!(
                status(&map, framework, id),
                NOT_EVIDENCED,
                "{framework} {id}"
            );
        }
    }
}
