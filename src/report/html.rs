//! The report as one self-contained HTML page, for assurance staff: the verdict first, then
//! what it rests on. No network fetch of any kind (a Content-Security-Policy forbids them), no
//! external fonts or scripts; one small inline script, allowed by its hash, sorts the findings
//! table, which reads as well with JavaScript off. Every string from the project or an advisory
//! is escaped.

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::advisories::{Kind, Severity};
use crate::model::report::{Finding, Outcome, Report};
use crate::policy::Verdict;
use crate::policy::model::Direction;
use crate::text::clean;

use super::principles::Claims;

/// Sorts the findings table by the column whose button is pressed (data-key values).
const SCRIPT: &str = r##"document.querySelectorAll("th button[data-key]").forEach(function (b) {
  b.addEventListener("click", function () {
    var key = b.getAttribute("data-key"), body = document.querySelector("#findings tbody");
    var rows = Array.prototype.slice.call(body.rows);
    var down = b.getAttribute("aria-sort") !== "descending";
    rows.sort(function (x, y) {
      var p = x.getAttribute("data-" + key), q = y.getAttribute("data-" + key);
      var a = Number(p), c = Number(q);
      var r = isNaN(a) || isNaN(c) ? p.localeCompare(q) : a - c;
      return down ? -r : r;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    document.querySelectorAll("th button").forEach(function (o) { o.removeAttribute("aria-sort"); });
    b.setAttribute("aria-sort", down ? "descending" : "ascending");
  });
});"##;

pub(super) const STYLE: &str = r##"
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #1d1d1f; }
h1 { font-size: 1.6rem; margin: 0 0 .3rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
.verdict { padding: 1rem 1.2rem; border-radius: 6px; margin-bottom: 1.5rem; }
.verdict.pass { background: #e3f4e8; border: 2px solid #1e7f3c; } .verdict.fail { background: #fdecea; border: 2px solid #b3261e; }
.verdict strong { font-size: 1.4rem; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #e5e5e5; vertical-align: top; }
th button { font: inherit; font-weight: 600; background: none; border: 0; padding: 0; cursor: pointer; }
.evidenced { color: #1e7f3c; font-weight: 600; } .violation { color: #b3261e; font-weight: 600; } .warning { color: #8a5a00; } .excepted { color: #1a5fb4; } .info { color: #555; }
.bar { width: 10rem; height: .7rem; background: #eee; border-radius: 3px; position: relative; overflow: hidden; }
.bar span { display: block; height: 100%; background: #1e7f3c; } .bar.over span { background: #b3261e; }
.flag { background: #fdecea; color: #b3261e; font-weight: 600; padding: 0 .3rem; border-radius: 3px; }
code { font-size: 13px; } .muted { color: #666; }
td, th, li, p, code, h1 { overflow-wrap: anywhere; }
"##;

/// Renders the report, with the claims it evidences.
pub fn render(report: &Report, claims: &Claims<'_>) -> String {
    let script_hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SCRIPT));
    let count = |verdict: Verdict| report.summary.count(verdict);
    let product = match &report.product.version {
        Some(v) => format!("{} {}", esc(&report.product.name), esc(v)),
        None => esc(&report.product.name),
    };
    let (class, word, why) = match report.result {
        Outcome::Pass => ("pass", "PASS", "nothing violates the policy"),
        Outcome::Fail => (
            "fail",
            "FAIL",
            "the policy is violated: the release should not ship as it is",
        ),
    };
    let mut out = String::new();
    out.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{script_hash}'; img-src data:\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>charter-audit: {word}: {product}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
    ));
    let loosened = report
        .policy
        .overrides
        .iter()
        .filter(|o| o.direction == Direction::Loosening)
        .count();
    let loosened = match loosened {
        0 => String::new(),
        n => format!(" <span class=\"flag\">{n} setting(s) loosened</span>"),
    };
    out.push_str(&format!(
        "<div class=\"verdict {class}\" id=\"verdict\"><strong>{word}</strong>: {why}.<br>\
         {} violation(s), {} warning(s), {} excepted{}, in {} components; policy <code>{}</code>{loosened}, evaluated at {}.</div>\n",
        count(Verdict::Violation),
        count(Verdict::Warning),
        count(Verdict::Excepted),
        super::vex_in::headline_note(report),
        report.components.total,
        esc(&report.policy.base),
        esc(&report.evaluated_at)
    ));
    out.push_str(&format!("<h1>{product}</h1>\n<p class=\"muted\">"));
    if let Some(supplier) = &report.supplier {
        out.push_str(&format!("supplied by {} · ", esc(supplier)));
    }
    if let Some(purl) = &report.product.purl {
        out.push_str(&format!("<code>{}</code> ", esc(purl)));
    }
    if let Some(commit) = &report.product.commit {
        out.push_str(&format!("commit <code>{}</code> ", esc(commit)));
    }
    out.push_str(&format!(
        "· report made {} by {} {}</p>\n",
        esc(&report.generated_at),
        report.tool.name,
        report.tool.version
    ));

    findings_table(&mut out, report);
    rule_findings(&mut out, report);
    out.push_str(&super::principles::html(claims, esc));
    policy(&mut out, report);
    out.push_str(&super::vex_in::html(report, esc));
    evidence(&mut out, report);
    out.push_str(&format!("<script>{SCRIPT}</script>\n</body>\n</html>\n"));
    out
}

/// How grave a finding is, for sorting: vulnerabilities by severity band, above every other
/// kind.
fn severity_rank(finding: &Finding) -> u8 {
    match finding.kind {
        Kind::Vulnerability => match finding.severity {
            Severity::Critical => 5,
            Severity::High | Severity::Unscored => 4,
            Severity::Medium => 3,
            Severity::Low => 2,
        },
        Kind::Yanked | Kind::Unmaintained | Kind::Unsound | Kind::Notice => 1,
    }
}

/// The severity column: a vulnerability's band, else what the advisory is about.
fn severity_label(finding: &Finding) -> &'static str {
    match finding.kind {
        Kind::Vulnerability => finding.severity.as_str(),
        Kind::Yanked | Kind::Unmaintained | Kind::Unsound | Kind::Notice => finding.kind.as_str(),
    }
}

/// The exposure against the window, with a bar that turns red past the window or on a
/// violation.
fn exposure_bar(finding: &Finding) -> String {
    match (finding.exposure_days, finding.window_days) {
        (Some(e), Some(w)) => {
            let share = if w == 0 {
                100
            } else {
                (e.max(0) * 100 / i64::from(w)).min(100)
            };
            let over = if e > i64::from(w) || finding.verdict == Verdict::Violation {
                " over"
            } else {
                ""
            };
            format!(
                "{e} / {w}<div class=\"bar{over}\" role=\"img\" aria-label=\"{e} of {w} days\"><span style=\"width:{share}%\"></span></div>"
            )
        }
        _ => "–".to_owned(),
    }
}

fn findings_table(out: &mut String, report: &Report) {
    out.push_str("<h2>Findings</h2>\n");
    if report.findings.is_empty() {
        out.push_str("<p>No advisory applies to any checked component.</p>\n");
        return;
    }
    let mut findings: Vec<&Finding> = report.findings.iter().collect();
    // Worst first: verdict, then severity, then exposure.
    findings.sort_by_key(|f| {
        (
            std::cmp::Reverse(f.verdict),
            std::cmp::Reverse(severity_rank(f)),
            std::cmp::Reverse(f.exposure_days),
        )
    });
    out.push_str(
        "<table id=\"findings\">\n<thead><tr>\
         <th><button type=\"button\" data-key=\"package\">Package</button></th>\
         <th>Advisory</th>\
         <th><button type=\"button\" data-key=\"severity\">Severity</button></th>\
         <th>Verdict</th>\
         <th><button type=\"button\" data-key=\"exposure\">Exposure / window (days)</button></th>\
         <th>What to do</th></tr></thead>\n<tbody>\n",
    );
    for f in findings {
        out.push_str(&format!(
            "<tr data-package=\"{}\" data-severity=\"{}\" data-exposure=\"{}\">\
             <td>{} {}</td><td>{} <br><span class=\"muted\">{}</span></td><td>{}</td>\
             <td class=\"{}\">{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&f.package.name),
            severity_rank(f),
            f.exposure_days.unwrap_or(-1),
            esc(&f.package.name),
            esc(&f.package.version),
            advisory(f),
            esc(&f.title),
            severity_label(f),
            f.verdict.as_str(),
            f.verdict.as_str(),
            exposure_bar(f),
            esc(&f.message) + &functions(f)
        ));
    }
    out.push_str("</tbody>\n</table>\n");
}

/// The functions at fault, when the advisory names them: the reviewer checks whether the
/// product calls them.
fn functions(finding: &Finding) -> String {
    if finding.functions.is_empty() {
        return String::new();
    }
    let names: Vec<String> = finding
        .functions
        .iter()
        .map(|f| format!("<code>{}</code>", esc(f)))
        .collect();
    format!(
        "<br><span class=\"muted\">functions at fault: {}</span>",
        names.join(", ")
    )
}

/// The advisory id, linked to its first plain https reference.
fn advisory(finding: &Finding) -> String {
    match finding
        .references
        .iter()
        .find_map(|r| crate::text::web_link(r))
    {
        Some(url) => format!(
            "<a href=\"{}\" rel=\"noreferrer\">{}</a>",
            esc(&url),
            esc(&finding.id)
        ),
        None => esc(&finding.id),
    }
}

/// Whether rule findings of a verdict are listed: informational ones are not.
fn listed(verdict: Verdict) -> bool {
    match verdict {
        Verdict::Violation | Verdict::Warning | Verdict::Excepted => true,
        Verdict::Info => false,
    }
}

fn rule_findings(out: &mut String, report: &Report) {
    let rules: Vec<_> = report
        .rule_findings
        .iter()
        .filter(|r| listed(r.verdict))
        .collect();
    if !rules.is_empty() {
        out.push_str("<h2>Other rules</h2>\n<ul>\n");
        for r in rules {
            out.push_str(&format!(
                "<li><span class=\"{}\">{}</span> <code>{}</code>: {}</li>\n",
                r.verdict.as_str(),
                r.verdict.as_str(),
                r.rule,
                esc(&r.message)
            ));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("<h2>Coverage</h2>\n");
    out.push_str(&format!(
        "<p>{} of {} components checked against the advisory databases.</p>\n",
        report.coverage.checked, report.components.total
    ));
    out.push_str(&format!(
        "<p>Target {}: {}.</p>\n",
        esc(&report.target.triple),
        esc(&report.target.note)
    ));
    if !report.coverage.unchecked.is_empty() {
        out.push_str(
            "<p>Not checked, so never to be read as clean:</p>\n<ul id=\"coverage-gaps\">\n",
        );
        for u in &report.coverage.unchecked {
            out.push_str(&format!(
                "<li>{} {}: {}</li>\n",
                esc(&u.name),
                esc(&u.version),
                esc(&u.reason)
            ));
        }
        out.push_str("</ul>\n");
    }
}

fn policy(out: &mut String, report: &Report) {
    let policy = &report.policy;
    out.push_str(&format!(
        "<h2>Policy</h2>\n<p><code>{}</code>, digest <code>{}</code>.</p>\n",
        esc(&policy.base),
        esc(&policy.digest)
    ));
    if policy.overrides.is_empty() {
        out.push_str("<p>Applied as built in, with no override.</p>\n");
    } else {
        out.push_str("<table id=\"overrides\"><thead><tr><th>Setting</th><th>Built in</th><th>Applied</th><th>Change</th></tr></thead><tbody>\n");
        for o in &policy.overrides {
            let change = match o.direction {
                Direction::Loosening => "<span class=\"flag\">loosened</span>",
                Direction::Tightening => "tightened",
                Direction::Unchanged => "unchanged",
            };
            out.push_str(&format!(
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{change}</td></tr>\n",
                esc(&o.setting),
                esc(&o.base.display()),
                esc(&o.value.display())
            ));
        }
        out.push_str("</tbody></table>\n");
    }
    if !policy.exceptions.is_empty() {
        out.push_str("<h3>Exceptions in force</h3>\n<table id=\"exceptions\"><thead><tr><th>Advisory</th><th>Package</th><th>Expires (through)</th><th>Approved by</th><th>Reason</th></tr></thead><tbody>\n");
        for e in &policy.exceptions {
            out.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                esc(&e.id),
                esc(&[e.package.as_deref(), e.version.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ")),
                esc(&e.expires),
                esc(&e.approved_by),
                esc(&e.reason)
            ));
        }
        out.push_str("</tbody></table>\n");
    }
}

fn evidence(out: &mut String, report: &Report) {
    out.push_str("<h2>Evidence</h2>\n<ul id=\"sources\">\n");
    for s in &report.sources {
        out.push_str(&format!(
            "<li>Advisory database <code>{}</code> ({}): {} advisories, last updated {}{}</li>\n",
            esc(&s.name),
            esc(&s.uri),
            s.advisories,
            esc(s.last_updated.as_deref().unwrap_or("unknown")),
            s.revision
                .as_deref()
                .map(|r| format!(", revision <code>{}</code>", esc(r)))
                .unwrap_or_default()
        ));
    }
    if let Some(r) = &report.registry {
        out.push_str(&format!(
            "<li>Registry index {}: {} crates looked up at {}, {} unknown</li>\n",
            esc(&r.uri),
            r.crates,
            esc(&r.looked_up_at),
            r.unknown
        ));
    }
    out.push_str(&format!(
        "<li>Inventory: {} ({} components)</li>\n</ul>\n",
        esc(report.components.inventory.as_str()),
        report.components.total
    ));
}

/// Text made inert in HTML (element content and quoted attributes), after control characters
/// and escape sequences are dropped.
pub fn esc(value: &str) -> String {
    let mut out = String::new();
    for c in clean(value).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_unbroken_strings_wrap_instead_of_widening_the_page() {
        // `anywhere` (unlike `break-word`) also lowers a table column's minimum width, so a
        // 500-character name wraps inside its cell rather than pushing columns off the page;
        // ci/check_html.py measures the rendered page.
        assert!(STYLE.contains("td, th, li, p, code, h1 { overflow-wrap: anywhere; }"));
    }

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
