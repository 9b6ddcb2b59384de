//! The audit report for a terminal. The report itself is [`crate::model::report::Report`],
//! whose JSON is the `--format json` output; this and the other formats only render it.

use anstyle::{AnsiColor, Style};

use crate::advisories::{Kind, SourceRecord};
use crate::model::report::{Finding, Outcome, Report};
use crate::policy::{RuleFinding, Verdict};
use crate::text::clean;

/// The human-readable report, for a terminal: grouped by verdict, each with what to do; every
/// string from outside cleaned ([`clean`]: one line, no escapes), and every line begun with
/// text of ours, so that nothing from a project, SBOM or database can begin a line (GitHub
/// Actions runs a log line beginning `::` as a workflow command); coloured headings when
/// `colour`.
pub fn human(report: &Report, colour: bool) -> String {
    let paint = Paint { colour };
    let mut out = headline(report, paint);
    for verdict in Verdict::ALL {
        let (findings, rules) = report.of_verdict(verdict);
        if findings.is_empty() && rules.is_empty() {
            continue;
        }
        verdict_section(&mut out, verdict, &findings, &rules, paint);
    }
    coverage(&mut out, report);
    evidence(&mut out, report);
    out
}

/// Headings in colour on a terminal, plain text otherwise.
#[derive(Clone, Copy)]
struct Paint {
    colour: bool,
}

impl Paint {
    fn apply(self, style: Style, text: &str) -> String {
        if self.colour {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_owned()
        }
    }
}

fn red() -> Style {
    Style::new().bold().fg_color(Some(AnsiColor::Red.into()))
}

fn green() -> Style {
    Style::new().bold().fg_color(Some(AnsiColor::Green.into()))
}

/// The colour of a verdict's heading.
fn verdict_style(verdict: Verdict) -> Style {
    match verdict {
        Verdict::Violation => red(),
        Verdict::Warning => Style::new().fg_color(Some(AnsiColor::Yellow.into())),
        Verdict::Excepted => Style::new().fg_color(Some(AnsiColor::Cyan.into())),
        Verdict::Info => Style::new(),
    }
}

/// The first line: the result, the product, the counts and the policy.
fn headline(report: &Report, paint: Paint) -> String {
    let product = match &report.product.version {
        Some(v) => format!("{} {}", clean(&report.product.name), clean(v)),
        None => clean(&report.product.name),
    };
    let verdict = match report.result {
        Outcome::Pass => paint.apply(green(), "PASS"),
        Outcome::Fail => paint.apply(red(), "FAIL"),
    };
    format!(
        "{verdict}: {product}: {} violation(s), {} warning(s), {} excepted, in {} components; policy {}, evaluated at {}\n",
        report.summary.violation,
        report.summary.warning,
        report.summary.excepted,
        report.components.total,
        clean(&report.policy.base),
        report.evaluated_at
    )
}

/// The findings and rule findings that got one verdict, under its heading.
fn verdict_section(
    out: &mut String,
    verdict: Verdict,
    findings: &[&Finding],
    rules: &[&RuleFinding],
    paint: Paint,
) {
    out.push_str(&format!(
        "\n{} ({}):\n",
        paint.apply(verdict_style(verdict), verdict_heading(verdict)),
        findings.len() + rules.len()
    ));
    for f in findings {
        out.push_str(&format!(
            "  - {} {}  {}  {}  {}\n",
            clean(&f.package.name),
            clean(&f.package.version),
            clean(&f.id),
            kind_label(f),
            clean(&f.title)
        ));
        out.push_str(&format!("      {}: {}\n", f.rule, clean(&f.message)));
    }
    for r in rules {
        out.push_str(&format!("  {}: {}\n", r.rule, clean(&r.message)));
    }
}

/// What the advisory is about; a vulnerability with its severity. Informational advisories
/// are not scored for patch age, whatever their CVSS.
fn kind_label(finding: &Finding) -> String {
    match finding.kind {
        Kind::Vulnerability => format!("vulnerability [{}]", finding.severity.as_str()),
        Kind::Yanked | Kind::Unsound | Kind::Unmaintained | Kind::Notice => {
            finding.kind.as_str().to_owned()
        }
    }
}

/// How many components were checked, and the target when none was judged for.
fn coverage(out: &mut String, report: &Report) {
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
}

/// What the verdicts rest on: the registry index and every advisory source.
fn evidence(out: &mut String, report: &Report) {
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
        advisory_source(out, s);
    }
}

/// One advisory source, and the files of it that were skipped.
fn advisory_source(out: &mut String, s: &SourceRecord) {
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

fn verdict_heading(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Violation => "Violations",
        Verdict::Warning => "Warnings",
        Verdict::Excepted => "Excepted",
        Verdict::Info => "Information",
    }
}
