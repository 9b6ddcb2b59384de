//! The page `verify --format html -o FILE` writes for the recipient: the verdict on the
//! evidence, then what it attests, with the section "What this release evidences". Built only
//! from what was verified (the signed predicate, and the files checked against it): evidence
//! that is not authentic gets a page that says so and shows nothing it claims. Self-contained,
//! no script, every string from the evidence escaped.

use super::html::{STYLE, esc};
use super::principles::{self, Claims};
use super::verify::concern_text;
use crate::model::verification::{Attested, Authentic, Verification};

/// The page for `verification`.
pub fn render(verification: &Verification) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
    );
    match verification {
        Verification::NotAuthentic { reason } => {
            out.push_str(&format!(
                "<title>charter-audit verify: NOT AUTHENTIC</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
                 <div class=\"verdict fail\" id=\"verdict\"><strong>NOT AUTHENTIC</strong>: {}.<br>\
                 Nothing it claims is shown: it is not evidence.</div>\n",
                esc(reason)
            ));
        }
        Verification::Authentic(authentic) => authentic_page(&mut out, authentic),
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn authentic_page(out: &mut String, authentic: &Authentic) {
    let a = &authentic.attested;
    let product = match &a.product.version {
        Some(v) => format!("{} {}", esc(&a.product.name), esc(v)),
        None => esc(&a.product.name),
    };
    let (class, word) = if authentic.concerns.is_empty() {
        ("pass", "ACCEPTED")
    } else {
        ("fail", "AUTHENTIC, BUT NOT ACCEPTED")
    };
    out.push_str(&format!(
        "<title>charter-audit verify: {word}: {product}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <div class=\"verdict {class}\" id=\"verdict\"><strong>{word}</strong>: signed by {} trusted key(s); the attested result is {}, evaluated at {}.",
        authentic.signers.len(),
        if a.passed { "pass" } else { "fail" },
        esc(&a.evaluated_at)
    ));
    if !authentic.concerns.is_empty() {
        out.push_str("<ul id=\"concerns\">");
        for concern in &authentic.concerns {
            out.push_str(&format!("<li>{}</li>", esc(&concern_text(concern))));
        }
        out.push_str("</ul>");
    }
    out.push_str("</div>\n");
    out.push_str(&format!("<h1>{product}</h1>\n<p class=\"muted\">"));
    if let Some(supplier) = &a.supplier {
        out.push_str(&format!("supplied by {} · ", esc(supplier)));
    }
    if let Some(purl) = &a.product.purl {
        out.push_str(&format!("<code>{}</code> ", esc(purl)));
    }
    out.push_str(&format!(
        "commit <code>{}</code> · audited by {} · signed by <code>{}</code></p>\n",
        esc(a.product.commit.as_deref().unwrap_or("unknown")),
        esc(&a.built_by),
        esc(&authentic.signers.join(", "))
    ));
    for binary in &authentic.binaries {
        out.push_str(&format!(
            "<p class=\"binary\">Binary <code>{}</code>, its own embedded list read here (built as {}): {}</p>\n",
            esc(&binary.subject),
            esc(binary.product.as_deref().unwrap_or("unknown")),
            match binary.result {
                crate::inventory::binary_match::MatchResult::Exact =>
                    "the attested SBOM lists exactly the packages compiled in",
                crate::inventory::binary_match::MatchResult::Differs =>
                    "the attested SBOM differs from what was compiled in",
            }
        ));
        let lines = binary.lines();
        if !lines.is_empty() {
            out.push_str("<ul class=\"binary\">");
            for line in lines {
                out.push_str(&format!("<li>{}</li>", esc(&line)));
            }
            out.push_str("</ul>\n");
        }
    }
    if let Some(key) = &authentic.bundle_key {
        out.push_str(&format!(
            "<p>The bundle's own public key (never trusted for being there): SHA-256 fingerprint <code>{}</code>, {}. Every file of the bundle matches the attestation.</p>\n",
            esc(&key.fingerprint),
            if key.trusted {
                "one of the keys you gave"
            } else {
                "<span class=\"flag\">NOT one of the keys you gave</span>"
            }
        ));
    }
    out.push_str(&principles::html(
        &Claims {
            map: &a.principles,
            cyclonedx: None,
        },
        esc,
    ));
    out.push_str(&cyclonedx(a));
    out.push_str(&vex(a));
    attested_facts(out, a);
}

/// What the page says of the CycloneDX attestation: checked or not, never linked (the page
/// may be read far from the files).
fn cyclonedx(a: &Attested) -> String {
    match &a.cyclonedx {
        Some((name, true)) => format!(
            "<p id=\"cyclonedx\">The CycloneDX 1.6 attestation {} was checked: its digest is the one the signed predicate records.</p>\n",
            esc(name)
        ),
        Some((name, false)) => format!(
            "<p id=\"cyclonedx\">The signed predicate records a CycloneDX 1.6 attestation, {}, which was not given to verify (<code>--cyclonedx FILE</code>) and is not vouched for here.</p>\n",
            esc(name)
        ),
        None => String::new(),
    }
}

/// What the page says of the run's VEX documents: each checked or not, never linked.
fn vex(a: &Attested) -> String {
    if a.vex.is_empty() {
        return String::new();
    }
    let mut out = String::from("<ul id=\"vex\">\n");
    for (name, checked) in &a.vex {
        out.push_str(&if *checked {
            format!(
                "<li>The VEX document {} was checked: its digest is one the signed predicate records.</li>\n",
                esc(name)
            )
        } else {
            format!(
                "<li>The signed predicate records a VEX document, {}, which was not given to verify (<code>--vex FILE</code>) and is not vouched for here.</li>\n",
                esc(name)
            )
        });
    }
    out.push_str("</ul>\n");
    out
}

fn attested_facts(out: &mut String, a: &Attested) {
    out.push_str("<h2>Findings</h2>\n<ul id=\"findings\">\n");
    if a.findings.is_empty() {
        out.push_str("<li>none</li>\n");
    }
    for (verdict, ids) in &a.findings {
        let ids: Vec<String> = ids.iter().map(|i| esc(i)).collect();
        out.push_str(&format!(
            "<li>{} ({}): {}</li>\n",
            esc(verdict),
            ids.len(),
            ids.join(", ")
        ));
    }
    out.push_str("</ul>\n<h2>Evidence</h2>\n<ul id=\"sources\">\n");
    for s in &a.sources {
        out.push_str(&format!(
            "<li>Advisory database <code>{}</code> ({}): {} advisories, last updated {}, revision <code>{}</code></li>\n",
            esc(&s.name),
            esc(&s.uri),
            s.advisories,
            esc(s.last_updated.as_deref().unwrap_or("unknown")),
            esc(s.revision.as_deref().unwrap_or("unknown"))
        ));
    }
    out.push_str(&format!(
        "<li>Coverage: {} component(s) checked, {} not checked</li>\n</ul>\n",
        a.checked,
        a.unchecked.len()
    ));
    if !a.unchecked.is_empty() {
        out.push_str("<ul id=\"coverage-gaps\">\n");
        for u in &a.unchecked {
            out.push_str(&format!(
                "<li>{} {}: {}</li>\n",
                esc(&u.name),
                esc(&u.version),
                esc(&u.reason)
            ));
        }
        out.push_str("</ul>\n");
    }
    let policy = &a.policy;
    out.push_str(&format!(
        "<h2>Policy</h2>\n<p><code>{}</code>, digest <code>{}</code>.</p>\n<ul id=\"overrides\">\n",
        esc(&policy.base),
        esc(&policy.digest)
    ));
    for o in &policy.overrides {
        out.push_str(&format!(
            "<li><code>{}</code>: {} → {} ({})</li>\n",
            esc(&o.setting),
            esc(&o.base.to_string()),
            esc(&o.value.to_string()),
            esc(&o.direction)
        ));
    }
    for e in &policy.exceptions {
        out.push_str(&format!(
            "<li>exception {} until {} (approved by {}): {}</li>\n",
            esc(&e.id),
            esc(&e.expires),
            esc(&e.approved_by),
            esc(&e.reason)
        ));
    }
    for v in &policy.vex {
        out.push_str(&format!("<li>{}</li>\n", super::verify::vex_text(v, esc)));
    }
    out.push_str("</ul>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::principles::{Framework, Principle, Status};
    use crate::model::verification::{Concern, Policy, Product};

    const HOSTILE: &str = "<script>alert(1)</script>\"'&";

    fn authentic() -> Verification {
        let text = || HOSTILE.to_owned();
        Verification::Authentic(Box::new(Authentic {
            signers: vec![text()],
            attested: Attested {
                product: Product {
                    name: text(),
                    version: Some(text()),
                    purl: Some(text()),
                    commit: Some(text()),
                },
                supplier: Some(text()),
                passed: true,
                evaluated_at: text(),
                built_by: text(),
                findings: [(text(), vec![text()])].into_iter().collect(),
                sources: Vec::new(),
                checked: 0,
                unchecked: Vec::new(),
                policy: Policy {
                    base: text(),
                    digest: text(),
                    overrides: Vec::new(),
                    exceptions: Vec::new(),
                    vex: Vec::new(),
                },
                principles: vec![Principle {
                    framework: Framework::Dspt,
                    id: text(),
                    title: text(),
                    status: Status::Partial,
                    evidence: text(),
                }],
                cyclonedx: Some((text(), true)),
                vex: vec![(text(), true), (text(), false)],
            },
            bundle_key: None,
            concerns: vec![Concern::UnacceptedSource {
                name: text(),
                uri: text(),
            }],
            binaries: Vec::new(),
        }))
    }

    #[test]
    fn text_from_the_evidence_stays_text() {
        let page = render(&authentic());
        assert!(!page.contains("<script"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"));
        assert!(page.contains("<td class=\"warning\">partial</td>"));
        let refused = render(&Verification::NotAuthentic {
            reason: HOSTILE.to_owned(),
        });
        assert!(!refused.contains("<script"), "{refused}");
        assert!(!refused.contains("What this release evidences"));
    }
}
