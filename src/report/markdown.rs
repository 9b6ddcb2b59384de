//! The report as GitHub-flavoured Markdown, for a job summary (`$GITHUB_STEP_SUMMARY`) or a
//! pull request: the result, what to upgrade, and what the evidence rests on. Every string
//! from the project or an advisory is escaped, so that none of it becomes markup or HTML.

use crate::advisories::{Kind, Unchecked};
use crate::model::report::{Finding, Outcome, Report};
use crate::policy::{RuleFinding, Verdict};
use crate::text::clean;

use super::principles::Claims;

/// The most components listed as not checked (the rest are counted).
const MAX_LISTED: usize = 100;

/// Renders the report, with the claims it evidences.
pub fn render(report: &Report, claims: &Claims<'_>) -> String {
    let mut out = headline(report);
    for verdict in Verdict::ALL.into_iter().filter(|v| listed(*v)) {
        let (findings, rules) = report.of_verdict(verdict);
        if findings.is_empty() && rules.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "\n### {} ({})\n\n",
            heading(verdict),
            findings.len() + rules.len()
        ));
        findings_table(&mut out, &findings);
        rule_list(&mut out, &rules);
    }
    out.push_str(&super::vex_in::markdown(report, escape));
    unchecked(&mut out, &report.coverage.unchecked);
    out.push_str(&super::principles::markdown(claims, escape));
    evidence(&mut out, report);
    out
}

/// The result, the product, the counts and the policy.
fn headline(report: &Report) -> String {
    let product = match &report.product.version {
        Some(v) => format!("{} {}", escape(&report.product.name), escape(v)),
        None => escape(&report.product.name),
    };
    let (mark, word) = match report.result {
        Outcome::Pass => ("✅", "PASS"),
        Outcome::Fail => ("❌", "FAIL"),
    };
    let count = |verdict: Verdict| report.summary.count(verdict);
    format!(
        "## {mark} charter-audit: {word}: {product}\n\n\
         {} violation(s), {} warning(s), {} excepted{}, in {} components; policy `{}` ({}), evaluated at {}.\n",
        count(Verdict::Violation),
        count(Verdict::Warning),
        count(Verdict::Excepted),
        super::vex_in::headline_note(report),
        report.components.total,
        code_span(&report.policy.base),
        report.policy.digest,
        report.evaluated_at
    )
}

/// Whether a verdict gets a section: the Information findings are not rendered in Markdown
/// (the components not checked are listed on their own).
fn listed(verdict: Verdict) -> bool {
    match verdict {
        Verdict::Violation | Verdict::Warning | Verdict::Excepted => true,
        Verdict::Info => false,
    }
}

/// The findings of one verdict as a table, one row each.
fn findings_table(out: &mut String, findings: &[&Finding]) {
    if findings.is_empty() {
        return;
    }
    out.push_str("| package | advisory | severity | exposure / window (days) | what to do |\n");
    out.push_str("| --- | --- | --- | --- | --- |\n");
    for f in findings {
        let days = match (f.exposure_days, f.window_days) {
            (Some(e), Some(w)) => format!("{e} / {w}"),
            _ => "–".to_owned(),
        };
        out.push_str(&format!(
            "| {} {} | {} {} | {} | {} | {} |\n",
            escape(&f.package.name),
            escape(&f.package.version),
            advisory_link(f),
            escape(&f.title),
            severity(f),
            days,
            escape(&f.message)
        ));
    }
}

/// A vulnerability's severity; the other kinds are not scored.
fn severity(finding: &Finding) -> &'static str {
    match finding.kind {
        Kind::Vulnerability => finding.severity.as_str(),
        Kind::Yanked | Kind::Unsound | Kind::Unmaintained | Kind::Notice => "–",
    }
}

/// The rule findings of one verdict, as a list after the table.
fn rule_list(out: &mut String, rules: &[&RuleFinding]) {
    if rules.is_empty() {
        return;
    }
    out.push('\n');
    for r in rules {
        out.push_str(&format!("- `{}`: {}\n", r.rule, escape(&r.message)));
    }
}

/// The components not checked, folded away: listed here, as the summary says, since the
/// Information findings are not rendered in Markdown. A job summary is capped (1 MiB on
/// GitHub), so the list is too.
fn unchecked(out: &mut String, unchecked: &[Unchecked]) {
    if unchecked.is_empty() {
        return;
    }
    out.push_str(&format!(
        "\n<details><summary>{} component(s) were not checked against the advisory databases: never read them as clean</summary>\n\n",
        unchecked.len()
    ));
    for u in unchecked.iter().take(MAX_LISTED) {
        out.push_str(&format!(
            "- {} {}: {}\n",
            escape(&u.name),
            escape(&u.version),
            escape(&u.reason)
        ));
    }
    if unchecked.len() > MAX_LISTED {
        out.push_str(&format!(
            "- and {} more: report.json and report.html list every one\n",
            unchecked.len() - MAX_LISTED
        ));
    }
    out.push_str("\n</details>\n");
}

/// What the verdicts rest on, folded away: the advisory databases, the registry index, the
/// target and the coverage.
fn evidence(out: &mut String, report: &Report) {
    out.push_str("\n<details><summary>Evidence</summary>\n\n");
    for s in &report.sources {
        out.push_str(&format!(
            "- advisory database `{}` ({}): {} advisories, last updated {}{}\n",
            code_span(&s.name),
            escape(&s.uri),
            s.advisories,
            s.last_updated.as_deref().unwrap_or("unknown"),
            s.revision
                .as_deref()
                .map(|r| format!(", revision `{}`", code_span(r)))
                .unwrap_or_default()
        ));
    }
    if let Some(r) = &report.registry {
        out.push_str(&format!(
            "- registry index {}: {} crates looked up at {}, {} unknown\n",
            escape(&r.uri),
            r.crates,
            r.looked_up_at,
            r.unknown
        ));
    }
    out.push_str(&format!(
        "- target {}: {}\n",
        escape(&report.target.triple),
        escape(&report.target.note)
    ));
    out.push_str(&format!(
        "- checked {} of {} components ({})\n\n</details>\n",
        report.coverage.checked,
        report.components.total,
        report.components.inventory.as_str()
    ));
}

fn heading(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Violation => "Violations: these block the release",
        Verdict::Warning => "Warnings",
        Verdict::Excepted => "Excepted",
        Verdict::Info => "Information",
    }
}

/// The advisory's id, linked to its first https reference.
fn advisory_link(finding: &Finding) -> String {
    let id = escape(&finding.id);
    // Parentheses would end the link early: such a reference is shown as no link.
    match finding
        .references
        .iter()
        .filter_map(|r| crate::text::web_link(r))
        .find(|url| !url.contains(['(', ')']))
    {
        Some(url) => format!("[{id}]({url})"),
        None => id,
    }
}

/// Text for inside a code span, where nothing is markup and a backslash shows as itself: one
/// clean line with no backtick to end the span.
fn code_span(value: &str) -> String {
    clean(value).replace('`', "'")
}

/// Text made inert in Markdown (and the HTML GitHub allows in it): control characters
/// dropped, every punctuation character that could start markup backslash-escaped, and `<`,
/// `>`, `&` written as entities. GitHub also makes links of bare `http://...`, `www....` and
/// addresses: a `:` before `/`, every `@`, and the dot after `www` are escaped so that none
/// of the text becomes a link.
pub fn escape(value: &str) -> String {
    let mut out = String::new();
    let mut previous: [char; 3] = [' '; 3];
    let cleaned = clean(value);
    let mut chars = cleaned.chars().peekable();
    while let Some(c) = chars.next() {
        let after_www = previous.iter().all(|p| p.eq_ignore_ascii_case(&'w'));
        previous = [previous[1], previous[2], c];
        match c {
            ':' if chars.peek() == Some(&'/') => out.push_str("\\:"),
            '.' if after_www => out.push_str("\\."),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '!' | '|'
            | '~' | '@' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_from_an_advisory_stays_text() {
        assert_eq!(
            escape("<img src=x onerror=alert(1)> | [a](javascript:x) *b*"),
            "&lt;img src=x onerror=alert\\(1\\)&gt; \\| \\[a\\]\\(javascript:x\\) \\*b\\*"
        );
        assert_eq!(escape("line\nbreak\u{1b}[31m"), "line break");
    }

    #[test]
    fn text_in_markdown_never_becomes_an_autolink() {
        assert_eq!(
            escape("see http://evil.example or WWW.evil.example, me@evil.example"),
            "see http\\://evil.example or WWW\\.evil.example, me\\@evil.example"
        );
    }
}
