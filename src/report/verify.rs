//! What `verify` prints: the verdict on the evidence and what it attests, every string from the
//! evidence cleaned, and every line begun with text of ours (none of it can be a workflow
//! command in a CI log).

use std::fmt::Write as _;

use crate::model::verification::{Attested, Authentic, BundleKey, Concern, Verification};
use crate::text::clean;

/// The text `verify` writes to standard output for `verification`.
pub fn render(verification: &Verification) -> String {
    match verification {
        Verification::NotAuthentic { reason } => format!("NOT AUTHENTIC: {}\n", clean(reason)),
        Verification::Authentic(authentic) => authentic_text(authentic),
    }
}

fn authentic_text(authentic: &Authentic) -> String {
    let mut out = summary(&authentic.signers, &authentic.attested);
    if let Some(key) = &authentic.bundle_key {
        out.push_str(&bundle_key(key));
    }
    for binary in &authentic.binaries {
        let _ = writeln!(
            out,
            "Binary {} (its own embedded list, read here, built as {}): {}",
            clean(&binary.subject),
            clean(binary.product.as_deref().unwrap_or("unknown")),
            match binary.result {
                crate::inventory::binary_match::MatchResult::Exact =>
                    "the attested SBOM lists exactly the packages compiled in",
                crate::inventory::binary_match::MatchResult::Differs =>
                    "the attested SBOM differs from what was compiled in",
            }
        );
        for line in binary.lines() {
            let _ = writeln!(out, "  - {}", clean(&line));
        }
    }
    if authentic.concerns.is_empty() {
        out.push_str("\nACCEPTED: authentic, and the attested result is pass.\n");
    } else {
        out.push_str("\nAUTHENTIC, BUT NOT ACCEPTED:\n");
        for concern in &authentic.concerns {
            let _ = writeln!(out, "  - {}", concern_text(concern));
        }
    }
    out
}

fn bundle_key(key: &BundleKey) -> String {
    format!(
        "The bundle's own public key (never trusted for being there): SHA-256 fingerprint {}, key id {}: {}\nEvery file of the bundle matches the attestation.\n",
        key.fingerprint,
        key.keyid,
        if key.trusted {
            "it is one of the keys you gave"
        } else {
            "it is NOT one of the keys you gave; compare it with the supplier's key you received by another route"
        }
    )
}

/// One reason the evidence is not accepted, as a sentence.
pub fn concern_text(concern: &Concern) -> String {
    match concern {
        Concern::ResultFail => "the attested result is fail".to_owned(),
        Concern::NoEvaluationTime => "the attestation gives no evaluation time".to_owned(),
        Concern::EvaluatedAfterNow { at, now } => {
            format!("it claims to be evaluated at {at}, after now ({now})")
        }
        Concern::TooOld { days, max_age } => {
            format!("it was evaluated {days} days ago, more than --max-age {max_age}")
        }
        Concern::UnknownSetting { setting } => format!(
            "the attested policy has a setting `{}` that predicate v1 does not have: it cannot be judged",
            clean(setting)
        ),
        Concern::MissingSetting { setting } => {
            format!("the attested policy lacks the setting `{setting}`: it cannot be judged")
        }
        Concern::NotASettingValue { setting, value } => format!(
            "{setting} is {} in the attestation, which is not a value of that setting",
            clean(value)
        ),
        Concern::Loosened {
            setting,
            value,
            required,
            expected,
        } => format!(
            "{setting} is {} where {required} has {expected}: loosened",
            clean(value)
        ),
        Concern::LongException {
            id,
            expires,
            most_days,
        } => format!(
            "the exception for {} runs until {}, more than {most_days} days after the evaluation",
            clean(id),
            clean(expires)
        ),
        Concern::VexException {
            finding,
            author,
            why,
            required,
        } => format!(
            "{} is excepted on the word of a VEX statement by {}, which {required} does not accept: {}",
            clean(finding),
            clean(author),
            clean(why)
        ),
        Concern::UnacceptedSource { name, uri } => format!(
            "it cites the advisory source {} ({}), which is not one you accept (--accept-source)",
            clean(name),
            clean(uri)
        ),
        Concern::BinaryNotInSbom { subject, packages } => format!(
            "{} holds {} package(s) compiled in that the attested SBOM does not list: {} (sbom-binary-match, read from the binary itself)",
            clean(subject),
            packages.len(),
            clean(&packages.join(", "))
        ),
    }
}

/// What the attestation says.
fn summary(signers: &[String], p: &Attested) -> String {
    let text = |v: Option<&String>| clean(v.map_or("unknown", String::as_str));
    let mut out = format!(
        "AUTHENTIC: signed by {} trusted key(s): {}\n",
        signers.len(),
        signers.join(", ")
    );
    let product = &p.product;
    let _ = writeln!(
        out,
        "Product: {} {} ({}), commit {}",
        clean(&product.name),
        text(product.version.as_ref()),
        text(product.purl.as_ref()),
        text(product.commit.as_ref())
    );
    let _ = writeln!(out, "Supplier: {}", text(p.supplier.as_ref()));
    let _ = writeln!(
        out,
        "Result: {}, evaluated at {} by {}",
        if p.passed { "PASS" } else { "FAIL" },
        clean(&p.evaluated_at),
        clean(&p.built_by)
    );
    for (verdict, ids) in &p.findings {
        let ids: Vec<String> = ids.iter().map(|i| clean(i)).collect();
        let _ = writeln!(
            out,
            "  - {} ({}): {}",
            clean(verdict),
            ids.len(),
            ids.join(", ")
        );
    }
    out.push_str("Advisory databases:\n");
    for s in &p.sources {
        let _ = writeln!(
            out,
            "  - {} ({}), revision {}, last updated {}, {} advisories",
            clean(&s.name),
            clean(&s.uri),
            text(s.revision.as_ref()),
            text(s.last_updated.as_ref()),
            s.advisories
        );
    }
    let _ = writeln!(
        out,
        "Coverage: {} component(s) checked, {} not checked",
        p.checked,
        p.unchecked.len()
    );
    for u in &p.unchecked {
        let _ = writeln!(
            out,
            "  not checked: {} {}: {}",
            clean(&u.name),
            clean(&u.version),
            clean(&u.reason)
        );
    }
    policy(&mut out, p);
    match &p.cyclonedx {
        Some((name, true)) => {
            let _ = writeln!(
                out,
                "CycloneDX attestation: {}, its digest the one the signed predicate records",
                clean(name)
            );
        }
        Some((name, false)) => {
            let _ = writeln!(
                out,
                "CycloneDX attestation: {} is recorded; give it with --cyclonedx FILE to check it",
                clean(name)
            );
        }
        None => {}
    }
    for (name, checked) in &p.vex {
        let _ = if *checked {
            writeln!(
                out,
                "VEX: {}, its digest one the signed predicate records",
                clean(name)
            )
        } else {
            writeln!(
                out,
                "VEX: {} is recorded; give it with --vex FILE to check it",
                clean(name)
            )
        };
    }
    out
}

fn policy(out: &mut String, p: &Attested) {
    let policy = &p.policy;
    let _ = writeln!(
        out,
        "Policy: {} ({})",
        clean(&policy.base),
        clean(&policy.digest)
    );
    for o in &policy.overrides {
        let _ = writeln!(
            out,
            "  - {}: {} -> {} ({})",
            clean(&o.setting),
            clean(&o.base.to_string()),
            clean(&o.value.to_string()),
            clean(&o.direction)
        );
    }
    for e in &policy.exceptions {
        let _ = writeln!(
            out,
            "  exception {} until {} (approved by {}): {}",
            clean(&e.id),
            clean(&e.expires),
            clean(&e.approved_by),
            clean(&e.reason)
        );
    }
    for v in &policy.vex {
        let _ = writeln!(out, "  {}", vex_text(v, clean));
    }
}

/// A VEX exception, on whose word, as a line of text (`text` cleans or escapes each string).
pub fn vex_text(v: &crate::model::verification::VexException, text: fn(&str) -> String) -> String {
    format!(
        "VEX: {} not affected on the word of {} ({}, statement of {}): {}",
        text(&v.finding),
        text(&v.author),
        match &v.signer {
            Some(key) => format!("signed, key {}", text(key)),
            None => "unsigned".to_owned(),
        },
        text(&v.time),
        v.justification
            .as_deref()
            .map_or_else(|| "no justification".to_owned(), text)
    )
}
