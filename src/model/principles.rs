//! What one audit evidences of the NHS England Cyber Security Charter, the DSIT/NCSC Software
//! Security Code of Practice, NIST SSDF and the NHS Data Security and Protection Toolkit
//! (STANDARDS.md): `evidenced`, `partial`, `not-evidenced` or `not-assessed`, each with the
//! evidence behind it. A pipeline evidences, never certifies, and nothing the run did not check
//! is claimed.

mod dspt;

use serde::{Deserialize, Serialize};

use super::report::{Builder, InventoryKind, Outcome, Report};
use crate::policy::{Rule, Verdict};

/// What one audit evidences of one principle or provision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Evidenced,
    Partial,
    NotEvidenced,
    NotAssessed,
}

/// The frameworks the map speaks of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Framework {
    #[serde(rename = "nhs-cyber-security-charter")]
    Charter,
    #[serde(rename = "software-security-code-of-practice")]
    CodeOfPractice,
    #[serde(rename = "nist-ssdf-sp-800-218")]
    Ssdf,
    /// The NHS Data Security and Protection Toolkit: its non-CAF-aligned edition's standard 8
    /// and its CAF-aligned edition's outcome B4.d (the edition is named in each title).
    #[serde(rename = "nhs-data-security-and-protection-toolkit")]
    Dspt,
}

impl Framework {
    /// Every framework, in the order the map lists them.
    pub const ALL: [Framework; 4] = [
        Framework::Charter,
        Framework::CodeOfPractice,
        Framework::Ssdf,
        Framework::Dspt,
    ];

    /// The name people read.
    pub fn title(self) -> &'static str {
        match self {
            Framework::Charter => "NHS England Cyber Security Charter",
            Framework::CodeOfPractice => "Software Security Code of Practice",
            Framework::Ssdf => "NIST SSDF (SP 800-218)",
            Framework::Dspt => "Data Security and Protection Toolkit",
        }
    }
}

impl Status {
    /// As the predicate writes it (`not-evidenced`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Evidenced => "evidenced",
            Status::Partial => "partial",
            Status::NotEvidenced => "not-evidenced",
            Status::NotAssessed => "not-assessed",
        }
    }
}

/// One principle or provision, what the audit evidences of it, and the evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Principle {
    pub framework: Framework,
    pub id: String,
    pub title: String,
    pub status: Status,
    pub evidence: String,
}

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
    /// What the SBOM is judged complete by (`sbom-completeness.profile`).
    profile: crate::sbom::profile::Profile,
    complete_graph: bool,
    /// The inventory is the list `cargo auditable` embedded in the built binary.
    binary: bool,
    /// A release binary holds packages the SBOM does not list (`sbom-binary-match`).
    binary_hidden: usize,
    /// Release binaries compared with the SBOM, and found exact.
    binaries_exact: usize,
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
    ci: bool,
}

fn facts(report: &Report) -> Facts {
    let patch_age = |verdict: Verdict| {
        report
            .findings
            .iter()
            .filter(|f| f.rule == Rule::PatchAge && f.verdict == verdict)
            .count()
    };
    let rule_count = |rule: Rule, verdict: Verdict| {
        report
            .rule_findings
            .iter()
            .filter(|r| r.rule == rule && r.verdict == verdict)
            .count()
    };
    let window = &report.policy.settings.patch_age;
    Facts {
        patch_age_violations: patch_age(Verdict::Violation),
        patch_age_excepted: patch_age(Verdict::Excepted),
        unchecked_third_party: report
            .coverage
            .unchecked
            .iter()
            .filter(|u| !u.own_code)
            .count(),
        source_warnings: rule_count(Rule::Sources, Verdict::Warning),
        windows: [window.critical, window.high, window.unscored]
            .map(u64::from)
            .to_vec(),
        registry_unknown: rule_count(Rule::RegistryFacts, Verdict::Warning) > 0,
        stale_database: rule_count(Rule::AdvisoryDbAge, Verdict::Violation) > 0,
        skipped_files: report.sources.iter().any(|s| !s.skipped.is_empty()),
        completeness_violations: rule_count(Rule::SbomCompleteness, Verdict::Violation),
        profile: report.policy.settings.sbom_completeness.profile,
        complete_graph: matches!(
            report.components.inventory,
            InventoryKind::CargoMetadata | InventoryKind::CargoAuditable
        ),
        binary: report.components.inventory == InventoryKind::CargoAuditable,
        binary_hidden: rule_count(Rule::SbomBinaryMatch, Verdict::Violation),
        binaries_exact: report
            .binaries
            .iter()
            .filter(|b| b.result == crate::inventory::binary_match::MatchResult::Exact)
            .count(),
        lockfile_incomplete: rule_count(Rule::LockfileIncomplete, Verdict::Violation) > 0,
        suppliers_sbom: report.components.inventory == InventoryKind::CyclonedxSbom,
        source_violations: rule_count(Rule::Sources, Verdict::Violation),
        pass: report.result == Outcome::Pass,
        commit: report.product.commit.is_some(),
        ci: matches!(report.builder, Builder::GithubActions(_)),
    }
}

fn entry(
    framework: Framework,
    id: &str,
    title: &str,
    status: Status,
    evidence: String,
) -> Principle {
    Principle {
        framework,
        id: id.to_owned(),
        title: title.to_owned(),
        status,
        evidence,
    }
}

/// The principle map of one audit.
pub fn map(report: &Report, artifacts: bool, signed: bool) -> Vec<Principle> {
    let f = facts(report);
    let patched = patching(&f);
    let composition = composition(&f);
    let detect = detection(&f);
    let mut out = charter(&patched);
    out.extend(code_of_practice(
        &f,
        &patched,
        &composition,
        distribution(signed, artifacts),
        detect,
    ));
    out.extend(ssdf(&f, composition, detect));
    out.extend(dspt::entries(&patched, detect));
    out
}

/// Patch age of the product's dependencies: Charter 1, Code of Practice 3.5. Cyber Essentials
/// asks for 14 days; a policy whose windows are longer cannot evidence it.
fn patching(f: &Facts) -> (Status, String) {
    // Patch age of the product's dependencies: Charter 1, Code of Practice 3.5. Cyber
    // Essentials asks for 14 days; a policy whose windows are longer cannot evidence it.
    let windows = format!(
        "windows: critical {}, high {}, unscored {} days",
        f.windows[0], f.windows[1], f.windows[2]
    );
    let within_cyber_essentials = f.windows.iter().all(|w| *w <= 14);
    if f.lockfile_incomplete {
        (
            Status::NotEvidenced,
            "Cargo.lock leaves out dependencies the registry index lists (lockfile-incomplete): what was checked is not the whole product".to_owned(),
        )
    } else if f.patch_age_violations > 0 {
        (
            Status::NotEvidenced,
            format!(
                "{} known fix(es) waited longer than the policy's window (patch-age violations; {windows})",
                f.patch_age_violations
            ),
        )
    } else if !within_cyber_essentials {
        (
            Status::Partial,
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
            Status::Partial,
            format!(
                "no known fix waited past its window among what was checked ({windows}), but some components or facts were not checked (see coverage, registry-facts, advisory-db-age)"
            ),
        )
    } else if f.patch_age_excepted > 0 {
        (
            Status::Partial,
            format!(
                "no fix waited past its window but {} excepted under documented, expiring exceptions ({windows})",
                f.patch_age_excepted
            ),
        )
    } else {
        (
            Status::Evidenced,
            format!(
                "no known fix for a checked component waited longer than the policy's windows, within Cyber Essentials' 14 days ({windows})"
            ),
        )
    }
}

/// Composition: Code of Practice 1.2 and SSDF PS.3.2.
fn composition(f: &Facts) -> (Status, String) {
    if f.lockfile_incomplete {
        (
            Status::NotEvidenced,
            "Cargo.lock leaves out dependencies the registry index lists (lockfile-incomplete), so the SBOM read from it is not the product".to_owned(),
        )
    } else if f.binary_hidden > 0 {
        (
            Status::NotEvidenced,
            format!(
                "{} release binary(ies) hold packages the SBOM does not list (sbom-binary-match): the SBOM does not describe what ships",
                f.binary_hidden
            ),
        )
    } else if f.completeness_violations > 0 {
        (
            Status::NotEvidenced,
            format!(
                "the SBOM lacks {} (sbom-completeness violations)",
                elements(f.profile)
            ),
        )
    } else if f.suppliers_sbom {
        (
            Status::Partial,
            format!(
                "the supplier's own SBOM, as its tool wrote it, with the {}: how complete its inventory is, charter-audit cannot tell",
                elements(f.profile)
            ),
        )
    } else if !f.complete_graph {
        (
            Status::Partial,
            "an SBOM of every locked package, read from Cargo.lock: its dependency graph is not the one cargo resolved".to_owned(),
        )
    } else if f.binary {
        (
            Status::Evidenced,
            format!(
                "a CycloneDX SBOM of the built binary: every Rust crate compiled in, as cargo auditable embedded the list (dependency kinds and edges; sources by kind only; the standard library and native code of -sys crates are not listed), with the binary's own digests and the {}",
                elements(f.profile)
            ),
        )
    } else {
        (
            Status::Evidenced,
            format!(
                "a CycloneDX SBOM of the dependency graph cargo resolved (every component with version, purl and dependency edges; hashes where the lockfile has them; the toolchain), with the {}{}",
                elements(f.profile),
                if f.binaries_exact > 0 {
                    format!(
                        "; {} release binary(ies) checked against it, each holding exactly the packages it lists",
                        f.binaries_exact
                    )
                } else {
                    String::new()
                }
            ),
        )
    }
}

/// What the completeness profile asks an SBOM to hold, in the map's words.
fn elements(profile: crate::sbom::profile::Profile) -> &'static str {
    use crate::sbom::profile::Profile;
    match profile {
        Profile::Ntia2021 => "NTIA minimum elements",
        Profile::Cisa2025Draft => "minimum elements of CISA's 2025 draft",
        Profile::BsiTr03183_2 => "fields BSI TR-03183-2 requires",
    }
}

/// Secure distribution: Code of Practice 3.1.
fn distribution(signed: bool, artifacts: bool) -> (Status, &'static str) {
    match (signed, artifacts) {
        (true, true) => (
            Status::Evidenced,
            "the attestation is signed over the release artifacts' SHA-256 and SHA-512 digests",
        ),
        (true, false) => (
            Status::Partial,
            "the attestation is signed, but names no release artifact (only the SBOM)",
        ),
        (false, true) => (
            Status::Partial,
            "the statement names the release artifacts' digests; it is signed outside charter-audit (keyless), if at all",
        ),
        (false, false) => (
            Status::NotEvidenced,
            "neither signed nor about release artifacts",
        ),
    }
}

/// Detecting vulnerabilities in components: Code of Practice 3.3.
fn detection(f: &Facts) -> (Status, &'static str) {
    if f.stale_database || f.skipped_files {
        (
            Status::Partial,
            "the check ran, but against an advisory database that was stale or not fully loaded",
        )
    } else if f.unchecked_third_party > 0 {
        (
            Status::Partial,
            "the check ran against named, dated databases, but some third-party components could not be checked (see coverage)",
        )
    } else {
        (
            Status::Evidenced,
            "every third-party component checked against named, dated advisory databases, with verdicts under the recorded policy",
        )
    }
}

/// The Charter's principles: 1 from the patch age, 2 to 7 outside a pipeline, 8 in part.
fn charter(patched: &(Status, String)) -> Vec<Principle> {
    let (patched, patched_why) = patched.clone();
    let mut out = Vec::new();
    let charter = Framework::Charter;
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
            Status::NotAssessed,
            "outside what a release pipeline can show".to_owned(),
        ));
    }
    out.push(entry(
        charter,
        "8",
        "Develop software in line with the Software Security Code of Practice",
        Status::Partial,
        "only the Code of Practice provisions mapped below (1.2, 1.3, 2.2, 3.1, 3.3, 3.5); the others are organisational".to_owned(),
    ));

    out
}

/// The Code of Practice's provisions a release pipeline can evidence, and the others.
fn code_of_practice(
    f: &Facts,
    patched: &(Status, String),
    composition: &(Status, String),
    (distribution, distribution_why): (Status, &str),
    (detect, detect_why): (Status, &str),
) -> Vec<Principle> {
    let (patched, patched_why) = patched.clone();
    let (composition, composition_why) = composition.clone();
    let mut out = Vec::new();
    let cop = Framework::CodeOfPractice;
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
        if f.commit {
            Status::Evidenced
        } else {
            Status::Partial
        },
        if f.commit {
            "the audit ran on this release's commit, at the recorded evaluation time".to_owned()
        } else {
            "the audit ran at the recorded evaluation time; the commit is not recorded".to_owned()
        },
    ));
    let ci = f.ci;
    out.push(entry(
        cop,
        "2.2",
        "Control and log changes to the build environment",
        if ci { Status::Partial } else { Status::NotEvidenced },
        if ci {
            "the builder's identity (CI run, workflow, runner) is recorded; control of changes to it is not assessed".to_owned()
        } else {
            "run locally: no build environment identity to record".to_owned()
        },
    ));
    out.push(entry(
        cop,
        "3.1",
        "Distribute software securely so that customers can verify its integrity",
        distribution,
        distribution_why.to_owned(),
    ));
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
            Status::NotAssessed,
            "organisational: outside what a release pipeline can show".to_owned(),
        ));
    }

    out
}

/// The NIST SSDF practices the audit evidences.
fn ssdf(
    f: &Facts,
    (composition, composition_why): (Status, String),
    (detect, detect_why): (Status, &str),
) -> Vec<Principle> {
    let mut out = Vec::new();
    let ssdf = Framework::Ssdf;
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
            (0, 0, Status::Evidenced) => Status::Evidenced,
            (0, _, _) => Status::Partial,
            _ => Status::NotEvidenced,
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
        if f.pass { detect } else { Status::NotEvidenced },
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
            Status::Partial
        } else {
            Status::Evidenced
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
mod tests;
