//! `charter-audit verify`: is the evidence authentic, and what does it say?

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Outcome;
use crate::Error;
use crate::attest::bundle;
use crate::attest::keys::PublicKey;
use crate::attest::verify::{self, File, MAX_ENVELOPE_BYTES};
use crate::cli::VerifyArgs;
use crate::policy::model::{self, Direction, SETTINGS};
use crate::report::{self, Output};
use crate::text::clean;

/// Exit code for evidence that is not authentic.
const NOT_AUTHENTIC: u8 = 3;
/// How far past the evaluation an exception may run under a required policy.
const EXCEPTION_DAYS: i64 = 90;

pub(super) fn run(args: &VerifyArgs) -> Result<Outcome, Error> {
    // The verifier's own inputs: any problem here is exit 2.
    let now = crate::time::evaluation_time(args.now.as_deref())?;
    if let Some(name) = &args.policy
        && crate::policy::builtin(name).is_none()
    {
        return Err(crate::policy::PolicyError::Unknown { name: name.clone() }.into());
    }
    let mut keys = Vec::new();
    for path in &args.key {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Usage(format!("--key {}: cannot read it: {e}", path.display())))?;
        let key = PublicKey::from_pem(&text, &format!("--key {}", path.display()))
            .map_err(|e| Error::Usage(e.to_string()))?;
        // A key given twice (or two copies of one) is one key: it cannot make a threshold.
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    if usize::from(args.threshold) > keys.len() {
        return Err(Error::Usage(format!(
            "--threshold {} is more than the {} distinct key(s) given with --key",
            args.threshold,
            keys.len()
        )));
    }
    let read = |path: &std::path::Path, flag: &str| {
        std::fs::read(path)
            .map_err(|e| Error::Usage(format!("{flag}{}: cannot read it: {e}", path.display())))
    };
    let subjects: Vec<(String, Vec<u8>)> = args
        .subject
        .iter()
        .map(|p| Ok((p.display().to_string(), read(p, "--subject ")?)))
        .collect::<Result<_, Error>>()?;
    let sbom = match &args.sbom {
        Some(p) => Some((p.display().to_string(), read(p, "--sbom ")?)),
        None => None,
    };
    let path = args
        .bundle
        .as_ref()
        .or(args.envelope.as_ref())
        .ok_or_else(|| Error::Usage("give an ENVELOPE or --bundle FILE".to_owned()))?;
    let name = path.display().to_string();
    let limit = if args.bundle.is_some() {
        bundle::MAX_COMPRESSED
    } else {
        MAX_ENVELOPE_BYTES
    };
    // Read through a limit whatever the file is (a pipe or a device has no length).
    let bytes = {
        use std::io::Read;
        let file = std::fs::File::open(path)
            .map_err(|e| Error::Usage(format!("{name}: cannot read it: {e}")))?;
        let mut bytes = Vec::new();
        file.take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::Usage(format!("{name}: cannot read it: {e}")))?;
        bytes
    };

    let files: Vec<File<'_>> = subjects
        .iter()
        .map(|(name, bytes)| File { name, bytes })
        .collect();
    let sbom_file = sbom.as_ref().map(|(name, bytes)| File { name, bytes });
    let checked = if bytes.len() as u64 > limit {
        Err(bundle::Refused::Envelope(verify::NotAuthentic::TooLarge(
            bytes.len() as u64,
        )))
    } else if args.bundle.is_some() {
        bundle::check(&bytes, &keys, usize::from(args.threshold), &files).and_then(|checked| {
            // The recipient's own copy of the SBOM, if given, must be the bundled one.
            match &sbom_file {
                Some(own) if !verify_sbom(&checked.verified, own) => Err(
                    bundle::Refused::Tampered(format!("sbom.cdx.json is not {}", own.name)),
                ),
                _ => Ok((checked.verified, Some(checked.bundle_key))),
            }
        })
    } else {
        verify::verify(
            &name,
            &bytes,
            &keys,
            usize::from(args.threshold),
            &files,
            sbom_file.as_ref(),
        )
        .map(|verified| (verified, None))
        .map_err(bundle::Refused::Envelope)
    };
    let (verified, bundle_key) = match checked {
        Ok(verified) => verified,
        Err(why) => {
            // The verdict stands even if it cannot be printed.
            let _ = report::emit(
                &Output::Stdout,
                format!("NOT AUTHENTIC: {}\n", clean(&why.to_string())).as_bytes(),
            );
            return Ok(Outcome {
                code: NOT_AUTHENTIC,
                ..Outcome::default()
            });
        }
    };

    let predicate = &verified.statement["predicate"];
    // A signed statement that is not a whole predicate of ours fails a check on the statement.
    let malformed = if !matches!(predicate["result"].as_str(), Some("pass" | "fail")) {
        Some("its predicate's `result` is not `pass` or `fail`")
    } else if predicate["evaluated_at"]
        .as_str()
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
        .is_none()
    {
        Some("its predicate's `evaluated_at` is not an RFC 3339 time")
    } else {
        None
    };
    if let Some(why) = malformed {
        let _ = report::emit(
            &Output::Stdout,
            format!("NOT AUTHENTIC: the statement does not parse: {why}\n").as_bytes(),
        );
        return Ok(Outcome {
            code: NOT_AUTHENTIC,
            ..Outcome::default()
        });
    }
    let mut concerns = Vec::new();
    let result = predicate["result"].as_str().unwrap_or("unknown");
    if result != "pass" {
        concerns.push(format!("the attested result is {}", clean(result)));
    }
    let evaluated = predicate["evaluated_at"]
        .as_str()
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok());
    match (evaluated, args.max_age) {
        (None, _) => concerns.push("the attestation gives no evaluation time".to_owned()),
        // Five minutes' grace for clocks that differ.
        (Some(at), _) if at - now > time::Duration::minutes(5) => concerns.push(format!(
            "it claims to be evaluated at {}, after now ({})",
            crate::time::rfc3339(at),
            crate::time::rfc3339(now)
        )),
        (Some(at), Some(days)) if now - at > time::Duration::days(i64::from(days)) => {
            concerns.push(format!(
                "it was evaluated {} days ago, more than --max-age {days}",
                (now - at).whole_days()
            ));
        }
        _ => {}
    }
    if let Some(required) = &args.policy {
        concerns.extend(policy_concerns(predicate, required, evaluated));
    }

    let mut out = summary(&verified.signers, predicate);
    if let Some((keyid, fingerprint, trusted)) = &bundle_key {
        out.push_str(&format!(
            "The bundle's own public key (never trusted for being there): SHA-256 fingerprint {fingerprint}, key id {keyid}: {}\n",
            if *trusted {
                "it is one of the keys you gave"
            } else {
                "it is NOT one of the keys you gave; compare it with the supplier's key you received by another route"
            }
        ));
        out.push_str("Every file of the bundle matches the attestation.\n");
    }
    if concerns.is_empty() {
        out.push_str("\nACCEPTED: authentic, and the attested result is pass.\n");
    } else {
        out.push_str("\nAUTHENTIC, BUT NOT ACCEPTED:\n");
        for concern in &concerns {
            out.push_str(&format!("  - {concern}\n"));
        }
    }
    report::emit(&Output::Stdout, out.as_bytes())?;
    Ok(Outcome {
        code: u8::from(!concerns.is_empty()),
        ..Outcome::default()
    })
}

/// Whether the recipient's copy of the SBOM is the attested one.
fn verify_sbom(verified: &verify::Verified, own: &File<'_>) -> bool {
    verify::digest_matches(
        &verified.statement["predicate"]["sbom"]["digest"],
        own.bytes,
    )
}

/// What makes the attested policy fall short of the one the recipient requires.
fn policy_concerns(
    predicate: &Value,
    required: &str,
    evaluated: Option<OffsetDateTime>,
) -> Vec<String> {
    let policy = &predicate["policy"];
    let mut out = Vec::new();
    // Another base is fine if none of its settings is looser than the required policy's
    // (nhs-charter-strict satisfies nhs-charter); each setting is judged below.
    // Every setting is judged against the required policy here, whatever the attestation
    // says of its own overrides.
    if let Some(builtin) = crate::policy::builtin(required) {
        for (section, key, kind, _) in SETTINGS {
            let path = model::path(section, key);
            let Some(expected) = builtin.settings.get(&path) else {
                continue;
            };
            let attested = &policy["settings"][&path];
            match model::Value::from_json(*kind, attested) {
                Some(value)
                    if model::direction(*kind, expected, &value) == Direction::Loosening =>
                {
                    out.push(format!(
                        "{path} is {} where {required} has {}: loosened",
                        clean(&value.display()),
                        expected.display()
                    ));
                }
                Some(_) => {}
                None => out.push(format!(
                    "{path} is {} in the attestation, which is not a value of that setting",
                    clean(&attested.to_string())
                )),
            }
        }
    }
    for e in policy["exceptions"].as_array().into_iter().flatten() {
        let expires = e["expires"].as_str().and_then(crate::time::parse_day);
        let too_long = match (expires, evaluated) {
            (Some(day), Some(at)) => (day - at.date()).whole_days() > EXCEPTION_DAYS,
            _ => true,
        };
        if too_long {
            out.push(format!(
                "the exception for {} runs until {}, more than {EXCEPTION_DAYS} days after the evaluation",
                clean(e["id"].as_str().unwrap_or("?")),
                clean(e["expires"].as_str().unwrap_or("?"))
            ));
        }
    }
    out
}

/// What the attestation says, every string from it cleaned, and every line begun with text
/// of ours (none of it can be a workflow command in a CI log).
fn summary(signers: &[String], p: &Value) -> String {
    let text = |v: &Value| clean(v.as_str().unwrap_or("unknown"));
    let mut out = format!(
        "AUTHENTIC: signed by {} trusted key(s): {}\n",
        signers.len(),
        signers.join(", ")
    );
    out.push_str(&format!(
        "Product: {} {} ({}), commit {}\n",
        text(&p["product"]["name"]),
        text(&p["product"]["version"]),
        text(&p["product"]["purl"]),
        text(&p["product"]["commit"])
    ));
    out.push_str(&format!("Supplier: {}\n", text(&p["supplier"]["name"])));
    out.push_str(&format!(
        "Result: {}, evaluated at {} by {}\n",
        text(&p["result"]).to_uppercase(),
        text(&p["evaluated_at"]),
        text(
            &p["builder"]["run_url"]
                .as_str()
                .map_or(p["builder"]["kind"].clone(), Value::from)
        )
    ));
    for (verdict, ids) in p["findings"]["ids"].as_object().into_iter().flatten() {
        let ids: Vec<String> = ids
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| clean(i.as_str().unwrap_or("?")))
            .collect();
        out.push_str(&format!(
            "  - {} ({}): {}\n",
            clean(verdict),
            ids.len(),
            ids.join(", ")
        ));
    }
    out.push_str("Advisory databases:\n");
    for s in p["sources"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  - {} ({}), revision {}, last updated {}, {} advisories\n",
            text(&s["name"]),
            text(&s["uri"]),
            text(&s["revision"]),
            text(&s["last_updated"]),
            s["advisories"]
        ));
    }
    let unchecked = p["coverage"]["unchecked"].as_array().map_or(0, Vec::len);
    out.push_str(&format!(
        "Coverage: {} component(s) checked, {unchecked} not checked\n",
        p["coverage"]["checked"]
    ));
    for u in p["coverage"]["unchecked"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  not checked: {} {}: {}\n",
            text(&u["name"]),
            text(&u["version"]),
            text(&u["reason"])
        ));
    }
    let policy = &p["policy"];
    out.push_str(&format!(
        "Policy: {} ({})\n",
        text(&policy["base"]),
        text(&policy["digest"])
    ));
    for o in policy["overrides"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  - {}: {} -> {} ({})\n",
            text(&o["setting"]),
            clean(&o["base"].to_string()),
            clean(&o["value"].to_string()),
            text(&o["direction"])
        ));
    }
    for e in policy["exceptions"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  exception {} until {} (approved by {}): {}\n",
            text(&e["id"]),
            text(&e["expires"]),
            text(&e["approved_by"]),
            text(&e["reason"])
        ));
    }
    out
}
