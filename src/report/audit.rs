//! The audit report: this struct *is* the JSON output (schema `charter-audit/report/v1`,
//! documented in docs/report.md); the other formats only render it.

use serde::Serialize;

use crate::advisories::{Coverage, Finding, Kind, SourceRecord};
use crate::policy::rules::{RuleFinding, Verdict};
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
    /// Where the audit ran: the GitHub Actions run (from `GITHUB_*`), or `local`.
    pub builder: serde_json::Value,
    pub product: Product,
    /// The target platform-specific advisories were judged for.
    pub target: crate::advisories::platform::TargetRecord,
    /// Who supplies the product (the SBOM's supplier), when it is known.
    pub supplier: Option<String>,
    pub sources: Vec<SourceRecord>,
    /// The registry index behind the registry facts, when one was consulted.
    pub registry: Option<RegistryRecord>,
    pub policy: PolicyRecord,
    pub coverage: Coverage,
    pub components: Components,
    pub findings: Vec<Finding>,
    /// Verdicts of rules that are not about one package (database age, exceptions).
    pub rule_findings: Vec<RuleFinding>,
    /// How many findings and rule findings got each verdict.
    pub summary: std::collections::BTreeMap<String, usize>,
}

/// The policy applied: its base, the digest of the effective settings, every override (marked
/// tightening or loosening) and the exceptions in force.
#[derive(Clone, Debug, Serialize)]
pub struct PolicyRecord {
    pub base: String,
    pub digest: String,
    pub settings: std::collections::BTreeMap<String, crate::policy::model::Value>,
    pub overrides: Vec<crate::policy::Override>,
    pub exceptions: Vec<crate::policy::Exception>,
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
    /// The product's repository, as its manifest gives it.
    pub repository: Option<String>,
    /// The commit audited: `GITHUB_SHA` in GitHub Actions, else the workspace's git `HEAD`.
    pub commit: Option<String>,
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

impl Report {
    /// The findings and rule findings that got `verdict`.
    pub fn of_verdict(&self, verdict: Verdict) -> (Vec<&Finding>, Vec<&RuleFinding>) {
        (
            self.findings
                .iter()
                .filter(|f| f.judgement.as_ref().map(|j| j.verdict) == Some(verdict))
                .collect(),
            self.rule_findings
                .iter()
                .filter(|r| r.verdict == verdict)
                .collect(),
        )
    }
}

/// The human-readable report, for a terminal: grouped by verdict, each with what to do; every
/// string from outside cleaned ([`clean`]: one line, no escapes), and every line begun with
/// text of ours, so that nothing from a project, SBOM or database can begin a line (GitHub
/// Actions runs a log line beginning `::` as a workflow command); coloured headings when
/// `colour`.
pub fn human(report: &Report, colour: bool) -> String {
    let paint = |style: anstyle::Style, text: &str| {
        if colour {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_owned()
        }
    };
    let red = anstyle::Style::new()
        .bold()
        .fg_color(Some(anstyle::AnsiColor::Red.into()));
    let yellow = anstyle::Style::new().fg_color(Some(anstyle::AnsiColor::Yellow.into()));
    let green = anstyle::Style::new()
        .bold()
        .fg_color(Some(anstyle::AnsiColor::Green.into()));
    let cyan = anstyle::Style::new().fg_color(Some(anstyle::AnsiColor::Cyan.into()));
    let mut out = String::new();
    let product = match &report.product.version {
        Some(v) => format!("{} {}", clean(&report.product.name), clean(v)),
        None => clean(&report.product.name),
    };
    let verdict = match report.result {
        Outcome::Pass => paint(green, "PASS"),
        Outcome::Fail => paint(red, "FAIL"),
    };
    out.push_str(&format!(
        "{verdict}: {product}: {} violation(s), {} warning(s), {} excepted, in {} components; policy {}, evaluated at {}\n",
        report.summary.get("violation").copied().unwrap_or(0),
        report.summary.get("warning").copied().unwrap_or(0),
        report.summary.get("excepted").copied().unwrap_or(0),
        report.components.total,
        clean(&report.policy.base),
        report.evaluated_at
    ));
    for verdict in [
        Verdict::Violation,
        Verdict::Warning,
        Verdict::Excepted,
        Verdict::Info,
    ] {
        let (of, rules) = report.of_verdict(verdict);
        if of.is_empty() && rules.is_empty() {
            continue;
        }
        let style = match verdict {
            Verdict::Violation => red,
            Verdict::Warning => yellow,
            Verdict::Excepted => cyan,
            Verdict::Info => anstyle::Style::new(),
        };
        out.push_str(&format!(
            "\n{} ({}):\n",
            paint(style, verdict_heading(verdict)),
            of.len() + rules.len()
        ));
        for f in of {
            // Informational advisories are not scored for patch age, whatever their CVSS.
            let kind = match f.kind {
                Kind::Vulnerability => format!("vulnerability [{}]", f.severity.as_str()),
                other => kind_word(other).to_owned(),
            };
            out.push_str(&format!(
                "  - {} {}  {}  {kind}  {}\n",
                clean(&f.package.name),
                clean(&f.package.version),
                clean(&f.id),
                clean(&f.title)
            ));
            if let Some(j) = &f.judgement {
                out.push_str(&format!("      {}: {}\n", j.rule, clean(&j.message)));
            }
        }
        for r in rules {
            out.push_str(&format!("  {}: {}\n", r.rule, clean(&r.message)));
        }
    }
    out.push_str(&format!(
        "\nChecked {} of {} components",
        report.coverage.checked, report.components.total
    ));
    match report.coverage.unchecked.len() {
        0 => out.push_str(".\n"),
        n => out.push_str(&format!(
            "; {n} not checked, listed under Information: never read them as clean.\n"
        )),
    }
    // Said when platform-limited advisories were all kept: no target was judged for.
    if report.target.triple().is_none() {
        out.push_str(&format!("Target: all ({}).\n", report.target.note));
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
            "  - {} ({}), {} advisories, last updated {}{}\n",
            clean(&s.name),
            clean(&s.uri),
            s.advisories,
            clean(s.last_updated.as_deref().unwrap_or("unknown")),
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

fn verdict_heading(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Violation => "Violations",
        Verdict::Warning => "Warnings",
        Verdict::Excepted => "Excepted",
        Verdict::Info => "Information",
    }
}

fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Vulnerability => "vulnerability",
        Kind::Yanked => "yanked",
        Kind::Unsound => "unsound",
        Kind::Unmaintained => "unmaintained",
        Kind::Notice => "notice",
    }
}
