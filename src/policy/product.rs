//! Rules about the product as a whole rather than one advisory: where its packages come from
//! (`sources`), what its SBOM says (`sbom-completeness`), under which licences (`licenses`),
//! whether the registry facts behind the patch-age rule are known (`registry-facts`), and
//! whether a lockfile read without cargo locks everything the registry says it must
//! (`lockfile-incomplete`).

use spdx::{LicenseItem, ParseMode};

use super::model::{Level, Policy};
use super::verdict::{Rule, RuleFinding, Verdict};
use crate::advisories::{Coverage, FindingPackage};
use crate::inventory::{Inventory, Package, PackageSource};
use crate::registry::apply::ComponentFacts;
use crate::registry::locked::Gap;
use crate::sbom::ntia::Completeness;
use crate::sbom::profile::{Cause, Gap as ProfileGap};

fn package_of(package: &Package) -> FindingPackage {
    FindingPackage {
        name: package.name.clone(),
        version: crate::text::version(&package.version),
        purl: package.purl(),
    }
}

fn finding(
    rule: Rule,
    verdict: Verdict,
    subject: String,
    message: String,
    package: Option<FindingPackage>,
) -> RuleFinding {
    RuleFinding {
        rule,
        verdict,
        subject,
        message,
        package,
    }
}

/// `sources`: registries other than the allowed ones are violations, git dependencies get the
/// policy's `sources.git` level, and every package that was not checked is listed.
pub fn sources(inventory: &Inventory, coverage: &Coverage, policy: &Policy) -> Vec<RuleFinding> {
    let allowed = &policy.settings.sources.allowed_registries;
    // Asked once, not for each of a thousand crates.io packages, and a package's label made
    // only for a finding.
    let crates_io_allowed = registry_allowed(allowed, "crates.io");
    let mut out = Vec::new();
    for package in &inventory.packages {
        let passes = match &package.source {
            PackageSource::CratesIo => crates_io_allowed,
            PackageSource::Registry { index } => registry_allowed(allowed, index),
            _ => false,
        };
        if passes {
            continue;
        }
        let Some((verdict, message)) = source_finding(package, allowed, policy) else {
            continue;
        };
        out.push(finding(
            Rule::Sources,
            verdict,
            package.purl(),
            message,
            Some(package_of(package)),
        ));
    }
    out.extend(unchecked(coverage));
    out
}

/// The verdict and message of `sources` for a package whose registry, if it has one, the
/// policy does not allow (see [`sources`]); `None` for a path dependency, part of the product.
fn source_finding(
    package: &Package,
    allowed: &[String],
    policy: &Policy,
) -> Option<(Verdict, String)> {
    let label = package.display();
    Some(match &package.source {
        PackageSource::CratesIo => (
            Verdict::Violation,
            format!("{label} comes from crates.io, which the policy does not allow"),
        ),
        PackageSource::Registry { index } => (
            Verdict::Violation,
            format!(
                "{label} comes from the registry {index}, which the policy does not allow: add it to sources.allowed-registries if it is yours"
            ),
        ),
        PackageSource::Git { url, commit, .. } => (
            policy.settings.sources.git.into(),
            format!(
                "{label} is a git dependency ({url}{}): no registry vouches for it",
                commit
                    .as_deref()
                    .map(|c| format!(" at {c}"))
                    .unwrap_or_default()
            ),
        ),
        PackageSource::Path { .. } => return None,
        PackageSource::Unlocated(crate::inventory::Unlocated::Git) => (
            policy.settings.sources.git.into(),
            format!(
                "{label} is a git dependency (the binary's list names no repository or commit): no registry vouches for it"
            ),
        ),
        // The list does not say which registry: only a policy that allows some registry
        // besides crates.io may let it be, and then it cannot be told apart.
        PackageSource::Unlocated(crate::inventory::Unlocated::Registry) => (
            if allowed.iter().any(|a| a != "crates.io") {
                Verdict::Warning
            } else {
                Verdict::Violation
            },
            format!(
                "{label} comes from a registry other than crates.io, which the binary's list does not name: it cannot be checked against sources.allowed-registries"
            ),
        ),
        PackageSource::Other { repr } => (
            Verdict::Violation,
            format!("{label} comes from a source this tool does not know: {repr}"),
        ),
    })
}

/// Every component that was not checked against the advisory databases, as an Information
/// finding of `sources` (a Cargo audit and a supplier's SBOM alike): the report's summary
/// counts them and points to these.
pub fn unchecked(coverage: &Coverage) -> Vec<RuleFinding> {
    let mut out = Vec::new();
    for unchecked in &coverage.unchecked {
        out.push(finding(
            Rule::Sources,
            Verdict::Info,
            unchecked.purl.clone(),
            format!(
                "{} {} was not checked against the advisory databases: {}",
                unchecked.name, unchecked.version, unchecked.reason
            ),
            Some(FindingPackage {
                name: unchecked.name.clone(),
                version: unchecked.version.clone(),
                purl: unchecked.purl.clone(),
            }),
        ));
    }
    out
}

/// Whether a registry (`crates.io`, or an index URL as cargo writes it) is in the allowed list,
/// which names crates.io by name and other registries by index URL (with or without `sparse+`
/// and a trailing `/`).
fn registry_allowed(allowed: &[String], registry: &str) -> bool {
    fn normal(s: &str) -> &str {
        s.trim_start_matches("sparse+")
            .trim_start_matches("registry+")
            .trim_end_matches('/')
    }
    let registry = normal(registry);
    allowed.iter().any(|a| normal(a) == registry)
}

/// `sbom-binary-match`: for each release binary that carries the list `cargo auditable`
/// embeds, a package compiled in that the SBOM does not list is a violation (the SBOM hides
/// what ships); one the SBOM lists that is not compiled in, a warning (it over-states).
pub fn sbom_binary_match(
    matches: &[crate::inventory::binary_match::BinaryMatch],
) -> Vec<RuleFinding> {
    let mut out = Vec::new();
    for m in matches {
        let hidden: Vec<&String> = m.hidden().collect();
        let overstated: Vec<&String> = m.overstated().collect();
        let product = m
            .product
            .as_deref()
            .map(|p| format!(" (built as {p})"))
            .unwrap_or_default();
        if !hidden.is_empty() {
            out.push(finding(
                Rule::SbomBinaryMatch,
                Verdict::Violation,
                m.subject.clone(),
                format!(
                    "{}{product} holds {} package(s) the SBOM does not list: {}; the SBOM does not describe what ships",
                    m.subject,
                    hidden.len(),
                    join(&hidden)
                ),
                None,
            ));
        }
        if !overstated.is_empty() {
            out.push(finding(
                Rule::SbomBinaryMatch,
                Verdict::Warning,
                m.subject.clone(),
                format!(
                    "the SBOM lists {} package(s) not compiled into {}{product}: {}",
                    overstated.len(),
                    m.subject,
                    join(&overstated)
                ),
                None,
            ));
        }
        if hidden.is_empty() && overstated.is_empty() {
            out.push(finding(
                Rule::SbomBinaryMatch,
                Verdict::Info,
                m.subject.clone(),
                format!(
                    "{}{product}: the SBOM lists exactly the packages cargo auditable recorded as compiled in",
                    m.subject
                ),
                None,
            ));
        }
    }
    out
}

/// The first packages of a list, and how many more.
fn join(list: &[&String]) -> String {
    const SHOWN: usize = 10;
    let mut text = list
        .iter()
        .take(SHOWN)
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if list.len() > SHOWN {
        text.push_str(&format!(" and {} more", list.len() - SHOWN));
    }
    text
}

/// `sbom-completeness` of a binary read without the list `cargo auditable` embeds
/// (`--allow-incomplete`): the crates its panic messages name are some of those compiled in,
/// so the SBOM is incomplete, a violation whatever the policy's levels.
pub fn binary_incomplete(inventory: &Inventory) -> Option<RuleFinding> {
    match &inventory.origin {
        crate::inventory::Origin::Binary(file) if !file.complete => Some(finding(
            Rule::SbomCompleteness,
            Verdict::Violation,
            "embedded dependency list".to_owned(),
            format!(
                "{} carries no dependency list embedded by cargo auditable: the {} crate(s) its panic messages name are only some of those compiled in, so the SBOM is incomplete; build it with `{}`",
                file.file_name,
                inventory.packages.len(),
                crate::inventory::binary::FIX
            ),
            None,
        )),
        _ => None,
    }
}

/// `sbom-completeness`: the NTIA minimum elements of the SBOM this run made, then what the
/// policy's profile asks beyond them (`extra`, from [`crate::sbom::profile::extra_gaps`]):
/// a field the supplier can give (a flag, the configuration) at the level of
/// `missing-supplier-or-author`; a field the document lacks, a violation; a fact that does not
/// exist or is no tool's to know (the deployable form of a crate compiled into the product),
/// a warning, which says so: the policy cannot make it exist.
pub fn completeness(
    sbom: &Completeness,
    extra: &[ProfileGap],
    policy: &Policy,
) -> Vec<RuleFinding> {
    let mut out = ntia(sbom, policy);
    let settings = &policy.settings.sbom_completeness;
    for gap in extra {
        let verdict = match gap.cause {
            Cause::Supplier => settings.missing_supplier_or_author.into(),
            Cause::Absent => Verdict::Violation,
            Cause::Unknowable => Verdict::Warning,
        };
        let whom = match gap.components.as_slice() {
            [] => String::new(),
            [one] => format!(" for {one}"),
            [first, ..] => format!(" for {} component(s), first {first}", gap.components.len()),
        };
        out.push(finding(
            Rule::SbomCompleteness,
            verdict,
            gap.element.to_owned(),
            format!(
                "the SBOM has no {} ({}, profile {}){whom}: {}",
                gap.element,
                gap.source,
                settings.profile.as_str(),
                gap.why
            ),
            None,
        ));
    }
    out
}

/// The NTIA minimum elements, as every profile checks them.
fn ntia(sbom: &Completeness, policy: &Policy) -> Vec<RuleFinding> {
    let level: Verdict = policy
        .settings
        .sbom_completeness
        .missing_supplier_or_author
        .into();
    let mut out = Vec::new();
    let mut missing = |what: &str, how: &str| {
        out.push(finding(
            Rule::SbomCompleteness,
            level,
            what.to_owned(),
            format!("the SBOM has no {what} (an NTIA minimum element): {how}"),
            None,
        ));
    };
    if sbom.supplier.is_none() {
        missing(
            "supplier",
            "give it in charter-audit.toml's [supplier] table or with --supplier",
        );
    }
    if sbom.authors.is_empty() {
        missing(
            "author",
            "pass --author, or give a [supplier], which is the author by default",
        );
    }
    if sbom.timestamp.is_none() {
        missing("timestamp", "this is a bug of the SBOM's writer");
    }
    for (list, what) in [
        (&sbom.without_name_or_version, "a name or version"),
        (&sbom.without_identifier, "a purl or hash"),
        (&sbom.without_dependencies, "its dependency relationships"),
    ] {
        if let Some(first) = list.first() {
            out.push(finding(
                Rule::SbomCompleteness,
                Verdict::Violation,
                what.to_owned(),
                format!(
                    "{} component(s) lack {what} (an NTIA minimum element), first {first}",
                    list.len()
                ),
                None,
            ));
        }
    }
    if let Some(first) = sbom.without_author.first() {
        out.push(finding(
            Rule::SbomCompleteness,
            policy
                .settings
                .sbom_completeness
                .components_without_author
                .into(),
            "component authors".to_owned(),
            format!(
                "{} of {} component(s) name no author in their manifest (first {first})",
                sbom.without_author.len(),
                sbom.components
            ),
            None,
        ));
    }
    out
}

/// `licenses`: each component's licence expression evaluated against the allow and deny lists
/// (off while both are empty). The product's own workspace members are the supplier's to
/// licence, and are not judged.
pub fn licenses(inventory: &Inventory, policy: &Policy) -> Vec<RuleFinding> {
    let allow = &policy.settings.licenses.allow;
    let deny = &policy.settings.licenses.deny;
    if allow.is_empty() && deny.is_empty() {
        return Vec::new();
    }
    let level: Verdict = policy.settings.licenses.verdict.into();
    // A licence is named by its id and, for the deprecated GNU ids, by what they mean
    // (`GPL-3.0` is `GPL-3.0-only`, `GPL-3.0+` is `GPL-3.0-or-later`).
    let acceptable = |item: &LicenseItem| {
        let names = license_names(item);
        let listed = |list: &[String]| names.iter().any(|n| list.contains(n));
        (allow.is_empty() || listed(allow)) && !listed(deny)
    };
    let mut out = Vec::new();
    for package in &inventory.packages {
        if package.workspace_member || matches!(package.source, PackageSource::Path { .. }) {
            continue;
        }
        let label = package.display();
        let text = package.manifest.license.as_deref().map(str::trim);
        let expression = text.and_then(parse_expression);
        let (verdict, message) = match (text, expression) {
            (_, Some(expression)) => {
                if expression.evaluate(|req| acceptable(&req.license)) {
                    continue;
                }
                (
                    level,
                    format!(
                        "{label} is licensed `{}`, which the licence lists do not allow",
                        expression.as_ref()
                    ),
                )
            }
            (Some(text), None) if !text.is_empty() => (
                Verdict::Warning,
                format!(
                    "{label}: licence `{text}` is not an SPDX expression, so it could not be checked"
                ),
            ),
            _ => (
                Verdict::Warning,
                format!("{label} states no licence, so it could not be checked"),
            ),
        };
        out.push(finding(
            Rule::Licenses,
            verdict,
            package.purl(),
            message,
            Some(package_of(package)),
        ));
    }
    out
}

/// An SPDX expression as the SBOM reads it: strict, but with cargo's legacy `/` for OR and the
/// deprecated ids (`GPL-2.0`) still on crates.io; nothing guessed from imprecise names.
fn parse_expression(text: &str) -> Option<spdx::Expression> {
    let mode = ParseMode {
        allow_slash_as_or_operator: true,
        allow_deprecated: true,
        allow_postfix_plus_on_gpl: true,
        ..ParseMode::STRICT
    };
    spdx::Expression::parse_mode(text, mode).ok()
}

/// The names a licence is listed by: its id (or `LicenseRef-...`), and for a deprecated GNU id
/// the current one it stands for.
fn license_names(item: &LicenseItem) -> Vec<String> {
    match item {
        LicenseItem::Spdx { id, or_later } => {
            let mut names = vec![id.name.to_owned()];
            let gnu = ["GPL-", "LGPL-", "AGPL-", "GFDL-"]
                .iter()
                .any(|p| id.name.starts_with(p));
            if gnu
                && id.is_deprecated()
                && !id.name.ends_with("-only")
                && !id.name.ends_with("-or-later")
            {
                let base = id.name.trim_end_matches('+');
                names.push(format!(
                    "{base}-{}",
                    if *or_later || id.name.ends_with('+') {
                        "or-later"
                    } else {
                        "only"
                    }
                ));
            }
            names
        }
        LicenseItem::Other(other) => vec![format!("LicenseRef-{}", other.lic_ref)],
    }
}

/// `registry-facts`: crates.io components whose registry facts are unknown (yanked status, fix
/// versions and their dates), so that the gap is a finding and not silence. With
/// `trusted_lockfile` (`--lockfile`, the auditor's choice) the message also says that what those
/// components depend on was taken from the lockfile unchecked (`lockfile-incomplete` cannot
/// check a package the index does not list).
pub fn registry_facts(components: &[ComponentFacts], trusted_lockfile: bool) -> Vec<RuleFinding> {
    let unknown: Vec<&ComponentFacts> = components
        .iter()
        .filter(|c| c.source == "crates.io" && c.registry_note.is_some())
        .collect();
    let total = components
        .iter()
        .filter(|c| c.source == "crates.io")
        .count();
    let Some(first) = unknown.first() else {
        return Vec::new();
    };
    vec![finding(
        Rule::RegistryFacts,
        Level::Warning.into(),
        "registry index".to_owned(),
        format!(
            "the registry facts of {} of {total} crates.io component(s) are unknown (first {} {}: {}): their yanked status is unchecked, and the patch-age clock of their advisories counts from the advisory's publication{}; check --registry-index",
            unknown.len(),
            first.name,
            first.version,
            first.registry_note.as_deref().unwrap_or_default(),
            if trusted_lockfile {
                "; what they depend on is not checked either: with --lockfile the lockfile is trusted for them (`lockfile-incomplete` checks only the packages the index lists)"
            } else {
                ""
            }
        ),
        None,
    )]
}

/// `lockfile-incomplete`: a package read from Cargo.lock that the registry index says depends
/// on something the lockfile does not lock for it (by name, version requirement and registry),
/// or, in the fallback, that the index does not list so its needs cannot be checked. Always a
/// violation, under every policy: the inventory (and so every other finding) is then not the
/// product, and a hidden package could be a vulnerable one.
pub fn lockfile_incomplete(gaps: &[Gap]) -> Vec<RuleFinding> {
    gaps.iter()
        .map(|gap| {
            let subject = match &gap.missing {
                Some(missing) => format!("{} {} -> {missing}", gap.name, gap.version),
                None => format!("{} {}", gap.name, gap.version),
            };
            finding(
                Rule::LockfileIncomplete,
                Verdict::Violation,
                subject,
                format!(
                    "{} {} {}: the lockfile is incomplete, so the inventory cannot be trusted; regenerate Cargo.lock with cargo (`cargo update --workspace`) and commit it, and audit with a registry index that lists every locked crates.io package",
                    gap.name, gap.version, gap.detail
                ),
                Some(FindingPackage {
                    name: gap.name.clone(),
                    version: gap.version.clone(),
                    purl: gap.purl.clone(),
                }),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries_are_named_by_name_or_index_url() {
        let allowed = vec![
            "crates.io".to_owned(),
            "https://registry.example.org/index/".to_owned(),
        ];
        assert!(registry_allowed(&allowed, "crates.io"));
        assert!(registry_allowed(
            &allowed,
            "sparse+https://registry.example.org/index/"
        ));
        assert!(registry_allowed(
            &allowed,
            "https://registry.example.org/index"
        ));
        assert!(!registry_allowed(
            &allowed,
            "https://other.example.org/index"
        ));
    }

    #[test]
    fn expressions_are_evaluated_not_matched_as_text() {
        let e = parse_expression("MIT OR GPL-3.0-only").unwrap();
        let allow_mit = |item: &LicenseItem| license_names(item).contains(&"MIT".to_owned());
        assert!(e.evaluate(|r| allow_mit(&r.license)));
        let e = parse_expression("MIT AND GPL-3.0-only").unwrap();
        assert!(!e.evaluate(|r| allow_mit(&r.license)));
        let e = parse_expression("MIT/Apache-2.0").unwrap();
        assert!(e.evaluate(|r| allow_mit(&r.license)));
        let e = parse_expression("LicenseRef-Example-Proprietary").unwrap();
        assert!(e.evaluate(|r| license_names(&r.license) == ["LicenseRef-Example-Proprietary"]));
        assert!(parse_expression("Apache 2.0").is_none());
    }

    #[test]
    fn deprecated_gnu_ids_are_listed_by_what_they_mean() {
        let names = |text: &str| {
            let e = parse_expression(text).unwrap();
            let mut out = Vec::new();
            e.evaluate(|r| {
                out.extend(license_names(&r.license));
                true
            });
            out
        };
        assert_eq!(names("AGPL-3.0"), ["AGPL-3.0", "AGPL-3.0-only"]);
        assert_eq!(names("GPL-3.0+"), ["GPL-3.0-or-later"]);
        assert_eq!(names("GPL-2.0-only+"), ["GPL-2.0-or-later"]);
        assert_eq!(names("MIT"), ["MIT"]);
    }
}
