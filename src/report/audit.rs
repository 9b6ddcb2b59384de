//! The audit report: this struct *is* the JSON output (schema `charter-audit/report/v1`,
//! documented in docs/report.md); the other formats only render it.

use serde::Serialize;

use crate::advisories::{Coverage, Finding, Kind, SourceRecord};
use crate::registry::RegistryRecord;
use crate::registry::apply::ComponentFacts;
use crate::text::clean;

/// The schema identifier; bumped on any change that is not an addition.
pub const SCHEMA: &str = "charter-audit/report/v1";

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema: &'static str,
    /// `pass` or `fail`.
    pub result: Outcome,
    /// When the report was made (`SOURCE_DATE_EPOCH` when set).
    pub generated_at: String,
    /// The time every age is computed at (`--now`, else the clock).
    pub evaluated_at: String,
    pub tool: Tool,
    pub product: Product,
    pub sources: Vec<SourceRecord>,
    /// The registry index behind the registry facts, when one was consulted.
    pub registry: Option<RegistryRecord>,
    pub coverage: Coverage,
    pub components: Components,
    pub findings: Vec<Finding>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Pass,
    Fail,
}

#[derive(Clone, Debug, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct Product {
    pub name: String,
    pub version: Option<String>,
    pub purl: Option<String>,
}

/// How many components the product has, by source kind.
#[derive(Clone, Debug, Serialize)]
pub struct Components {
    pub total: usize,
    pub by_source: std::collections::BTreeMap<String, usize>,
    /// How the inventory was taken (`cargo-metadata` or `cargo-lock`).
    pub inventory: String,
    /// Every component, with its registry facts.
    pub packages: Vec<ComponentFacts>,
}

/// The human-readable report, for a terminal: no colour, every advisory string cleaned.
pub fn human(report: &Report) -> String {
    let mut out = String::new();
    let product = match &report.product.version {
        Some(v) => format!("{} {v}", clean(&report.product.name)),
        None => clean(&report.product.name),
    };
    let verdict = match report.result {
        Outcome::Pass => "PASS",
        Outcome::Fail => "FAIL",
    };
    out.push_str(&format!(
        "{verdict}: {product}: {} finding(s) in {} components, evaluated at {}\n",
        report.findings.len(),
        report.components.total,
        report.evaluated_at
    ));
    for kind in [
        Kind::Vulnerability,
        Kind::Yanked,
        Kind::Unsound,
        Kind::Unmaintained,
        Kind::Notice,
    ] {
        let of_kind: Vec<&Finding> = report.findings.iter().filter(|f| f.kind == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        out.push_str(&format!("\n{} ({}):\n", heading(kind), of_kind.len()));
        for f in of_kind {
            out.push_str(&format!(
                "  {} {}  {}  [{}]  {}\n",
                clean(&f.package.name),
                clean(&f.package.version),
                clean(&f.id),
                f.severity.as_str(),
                clean(&f.title)
            ));
            match (&f.upgrade_to, &f.fix_version) {
                (Some(to), _) => out.push_str(&format!(
                    "      upgrade {} {} → {}{}\n",
                    clean(&f.package.name),
                    clean(&f.package.version),
                    clean(to),
                    f.fix_published_at
                        .as_deref()
                        .map(|t| format!(
                            " (first fix {} published {t})",
                            f.fix_version.as_deref().unwrap_or("?")
                        ))
                        .unwrap_or_default()
                )),
                (None, None) if f.kind == Kind::Vulnerability && f.registry_note.is_none() => {
                    out.push_str("      no fixed release yet\n")
                }
                _ => {}
            }
            if !f.patched.is_empty() {
                out.push_str(&format!(
                    "      patched: {}\n",
                    f.patched
                        .iter()
                        .map(|p| clean(p))
                        .collect::<Vec<_>>()
                        .join("; ")
                ));
            }
        }
    }
    out.push_str(&format!(
        "\nChecked {} of {} components.",
        report.coverage.checked, report.components.total
    ));
    if report.coverage.unchecked.is_empty() {
        out.push('\n');
    } else {
        out.push_str(" Not checked (never read these as clean):\n");
        for u in &report.coverage.unchecked {
            out.push_str(&format!(
                "  {} {}: {}\n",
                clean(&u.name),
                clean(&u.version),
                clean(&u.reason)
            ));
        }
    }
    if let Some(registry) = &report.registry {
        out.push_str(&format!(
            "\nRegistry index: {} ({} crates looked up at {}, {} unknown)\n",
            clean(&registry.uri),
            registry.crates,
            registry.looked_up_at,
            registry.unknown
        ));
    }
    out.push_str("\nAdvisory sources:\n");
    for s in &report.sources {
        out.push_str(&format!(
            "  {} ({}), {} advisories, last updated {}{}\n",
            s.name,
            clean(&s.uri),
            s.advisories,
            s.last_updated.as_deref().unwrap_or("unknown"),
            s.revision
                .as_deref()
                .map(|r| format!(", revision {}", clean(r)))
                .unwrap_or_default()
        ));
        for skipped in &s.skipped {
            out.push_str(&format!(
                "    skipped {}: {}\n",
                clean(&skipped.file),
                clean(&skipped.reason)
            ));
        }
    }
    out
}

fn heading(kind: Kind) -> &'static str {
    match kind {
        Kind::Vulnerability => "Vulnerabilities",
        Kind::Yanked => "Yanked versions",
        Kind::Unsound => "Unsound",
        Kind::Unmaintained => "Unmaintained",
        Kind::Notice => "Notices",
    }
}
