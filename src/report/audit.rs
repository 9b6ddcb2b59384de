//! The audit report for a terminal. The report itself is [`crate::model::report::Report`],
//! whose JSON is the `--format json` output; this and the other formats only render it.

use crate::advisories::Kind;
use crate::model::report::{Outcome, Report};
use crate::policy::Verdict;
use crate::text::clean;

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
        report.summary.violation,
        report.summary.warning,
        report.summary.excepted,
        report.components.total,
        clean(&report.policy.base),
        report.evaluated_at
    ));
    for verdict in Verdict::ALL {
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
            out.push_str(&format!("      {}: {}\n", f.rule, clean(&f.message)));
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
