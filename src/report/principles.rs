//! "What this release evidences": the principle map as a table (framework, requirement,
//! status, the evidence behind it), so an assurance reader sees the claims without opening
//! JSON. The same section in the HTML report, the Markdown report and the page `verify` writes.

use crate::model::principles::{Framework, Principle, Status};

/// The claims a page shows: the principle map, and the CycloneDX attestation's file name when
/// one sits beside the page.
#[derive(Debug, Clone, Copy)]
pub struct Claims<'a> {
    pub map: &'a [Principle],
    pub cyclonedx: Option<&'a str>,
}

const HEADING: &str = "What this release evidences";
const INTRO: &str = "Evidence toward each requirement, never a certification: `evidenced`, `partial` or `not-evidenced` from what this run checked; `not-assessed` where a release pipeline cannot show it.";

/// The requirement as a reader names it: the framework's identifier and the short title.
fn requirement(p: &Principle) -> String {
    match p.framework {
        Framework::CodeOfPractice if p.title == "organisational" => {
            format!("{} (organisational)", p.id)
        }
        _ => format!("{}: {}", p.id, p.title),
    }
}

/// The status's CSS class in the HTML report (the verdict colours).
fn class(status: Status) -> &'static str {
    match status {
        Status::Evidenced => "evidenced",
        Status::Partial => "warning",
        Status::NotEvidenced => "violation",
        Status::NotAssessed => "info",
    }
}

/// The section as HTML; `esc` makes text inert.
pub fn html(claims: &Claims<'_>, esc: fn(&str) -> String) -> String {
    let mut out = format!(
        "<h2 id=\"evidences\">{HEADING}</h2>\n<p>{}</p>\n",
        esc(INTRO).replace('`', "")
    );
    if let Some(name) = claims.cyclonedx {
        out.push_str(&format!(
            "<p>The same claims as a CycloneDX 1.6 attestation: <a href=\"{0}\" id=\"cyclonedx-attestation\">{0}</a>.</p>\n",
            esc(name)
        ));
    }
    out.push_str("<table id=\"principles\"><thead><tr><th>Framework</th><th>Requirement</th><th>Status</th><th>Evidence</th></tr></thead><tbody>\n");
    for p in claims.map {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>\n",
            p.framework.title(),
            esc(&requirement(p)),
            class(p.status),
            p.status.as_str(),
            esc(&p.evidence)
        ));
    }
    out.push_str("</tbody></table>\n");
    out
}

/// The section as Markdown; `escape` makes text inert in a table cell.
pub fn markdown(claims: &Claims<'_>, escape: fn(&str) -> String) -> String {
    let mut out = format!("\n### {HEADING}\n\n{INTRO}");
    if let Some(name) = claims.cyclonedx {
        out.push_str(&format!(
            " The same claims as a CycloneDX 1.6 attestation: [{0}]({0}).",
            escape(name)
        ));
    }
    out.push_str(
        "\n\n| Framework | Requirement | Status | Evidence |\n| --- | --- | --- | --- |\n",
    );
    for p in claims.map {
        out.push_str(&format!(
            "| {} | {} | `{}` | {} |\n",
            p.framework.title(),
            escape(&requirement(p)),
            p.status.as_str(),
            escape(&p.evidence)
        ));
    }
    out
}
