//! What the recipient is shown of the VEX documents an audit was given (`audit --vex`): each
//! document by name and digest, whose word it is (its author, and the key that signed it, or
//! that nobody did), and which findings it excepted, when and why. Rendered only for a report
//! with VEX, so that other reports read as they always did.

use crate::model::report::{Finding, Report};
use crate::policy::{AppliedVex, Verdict};
use crate::text::clean;
use crate::vex::Document;

/// The findings VEX excepted.
fn excepted(report: &Report) -> Vec<(&Finding, &AppliedVex)> {
    report
        .findings
        .iter()
        .filter(|f| f.verdict == Verdict::Excepted)
        .filter_map(|f| f.vex.as_ref().map(|v| (f, v)))
        .collect()
}

/// `, N of them on VEX statements` for a headline's count of excepted findings, when the
/// audit was given VEX.
pub fn headline_note(report: &Report) -> String {
    if report.policy.vex.is_empty() {
        return String::new();
    }
    format!(" ({} on VEX statements)", excepted(report).len())
}

fn signed(document: &Document) -> String {
    match &document.signer {
        Some(key) => format!("signed, key {}", clean(key)),
        None => "unsigned".to_owned(),
    }
}

/// Why, in the statement's words: its justification and impact statement.
fn why(v: &AppliedVex) -> String {
    let reasons: Vec<String> = [v.justification.as_deref(), v.impact.as_deref()]
        .into_iter()
        .flatten()
        .map(clean)
        .collect();
    if reasons.is_empty() {
        "no justification given".to_owned()
    } else {
        reasons.join("; ")
    }
}

/// The justification a SARIF suppression of a VEX-excepted finding carries.
pub fn suppression(v: &AppliedVex) -> String {
    format!(
        "not affected on the word of {} ({} {}, {}, statement of {}): {}",
        clean(&v.author),
        clean(&v.document),
        v.sha256,
        match &v.signer {
            Some(key) => format!("signed, key {}", clean(key)),
            None => "unsigned".to_owned(),
        },
        clean(&v.time),
        why(v)
    )
}

/// The Markdown section, with `escape` for the text of the documents.
pub fn markdown(report: &Report, escape: fn(&str) -> String) -> String {
    if report.policy.vex.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n### VEX: on whose word\n\n");
    out.push_str("| document | author | signature | statements | SHA-256 |\n");
    out.push_str("| --- | --- | --- | --- | --- |\n");
    for d in &report.policy.vex {
        out.push_str(&format!(
            "| {} ({}) | {} | {} | {} | `{}` |\n",
            escape(&d.name),
            d.format.as_str(),
            escape(&d.author),
            escape(&signed(d)),
            d.statements.len(),
            d.sha256
        ));
    }
    let excepted = excepted(report);
    if !excepted.is_empty() {
        out.push_str("\nExcepted on VEX statements:\n\n");
    }
    for (f, v) in excepted {
        out.push_str(&format!(
            "- {} {} {}: not affected on the word of {} ({}, statement of {}): {}\n",
            escape(&f.id),
            escape(&f.package.name),
            escape(&f.package.version),
            escape(&v.author),
            escape(&v.document),
            escape(&v.time),
            escape(&why(v))
        ));
    }
    out
}

/// The HTML section, with `esc` for the text of the documents.
pub fn html(report: &Report, esc: fn(&str) -> String) -> String {
    if report.policy.vex.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<h2>VEX: on whose word</h2>\n<table id=\"vex\"><thead><tr><th>Document</th><th>Author</th><th>Signature</th><th>Statements</th><th>SHA-256</th></tr></thead><tbody>\n",
    );
    for d in &report.policy.vex {
        out.push_str(&format!(
            "<tr><td>{} ({})</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>\n",
            esc(&d.name),
            d.format.as_str(),
            esc(&d.author),
            esc(&signed(d)),
            d.statements.len(),
            esc(&d.sha256)
        ));
    }
    out.push_str("</tbody></table>\n");
    let excepted = excepted(report);
    if !excepted.is_empty() {
        out.push_str("<h3>Excepted on VEX statements</h3>\n<table id=\"vex-excepted\"><thead><tr><th>Advisory</th><th>Package</th><th>On the word of</th><th>Document</th><th>Statement of</th><th>Why</th></tr></thead><tbody>\n");
        for (f, v) in excepted {
            out.push_str(&format!(
                "<tr><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                esc(&f.id),
                esc(&f.package.name),
                esc(&f.package.version),
                esc(&v.author),
                esc(&v.document),
                esc(&v.time),
                esc(&why(v))
            ));
        }
        out.push_str("</tbody></table>\n");
    }
    out
}
