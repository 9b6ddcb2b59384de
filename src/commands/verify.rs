//! `charter-audit verify`: is the evidence authentic, and what does it say?

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Outcome;
use crate::Error;
use crate::attest::bundle;
use crate::attest::consistency;
use crate::attest::keys::PublicKey;
use crate::attest::predicate::{self, Predicate};
use crate::attest::statement::Subject;
use crate::attest::verify::{self, MAX_ENVELOPE_BYTES};
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
    // The recipient's own files are digested as they stream: an artifact of any size.
    let digest = |path: &std::path::Path, flag: &str| {
        Subject::of_file(&path.display().to_string(), path)
            .map_err(|e| Error::Usage(format!("{flag} {}: cannot read it: {e}", path.display())))
    };
    let subjects: Vec<Subject> = args
        .subject
        .iter()
        .map(|p| digest(p, "--subject"))
        .collect::<Result<_, Error>>()?;
    let sbom = args
        .sbom
        .as_deref()
        .map(|p| digest(p, "--sbom"))
        .transpose()?;
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

    let checked = if bytes.len() as u64 > limit && args.bundle.is_some() {
        Err(bundle::Refused::Tampered(format!(
            "file is more than the {} MiB a bundle may be",
            bundle::MAX_COMPRESSED / (1024 * 1024)
        )))
    } else if bytes.len() as u64 > limit {
        Err(bundle::Refused::Envelope(verify::NotAuthentic::TooLarge(
            bytes.len() as u64,
        )))
    } else if args.bundle.is_some() {
        bundle::check(&bytes, &keys, usize::from(args.threshold), &subjects).and_then(|checked| {
            // The recipient's own copy of the SBOM, if given, must be the bundled one.
            match &sbom {
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
            &subjects,
            sbom.as_ref(),
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
    let typed = &verified.predicate;
    let mut concerns = Vec::new();
    if typed.result != predicate::Outcome::Pass {
        concerns.push("the attested result is fail".to_owned());
    }
    // The predicate was read against the schema and its consistency checked: it has a time.
    let evaluated = OffsetDateTime::parse(&typed.evaluated_at, &Rfc3339).ok();
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
        concerns.extend(policy_concerns(typed, required, evaluated));
    }
    concerns.extend(source_concerns(typed, &args.accept_source));

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
fn verify_sbom(verified: &verify::Verified, own: &Subject) -> bool {
    verify::digest_names(&verified.statement["predicate"]["sbom"]["digest"], own)
}

/// The advisory sources the attestation cites that the recipient does not accept (none when
/// the recipient names none).
fn source_concerns(predicate: &Predicate, accepted: &[String]) -> Vec<String> {
    if accepted.is_empty() {
        return Vec::new();
    }
    predicate
        .sources
        .iter()
        .filter(|s| !accepted.iter().any(|a| a == &s.uri))
        .map(|s| {
            format!(
                "it cites the advisory source {} ({}), which is not one you accept (--accept-source)",
                clean(&s.name),
                clean(&s.uri)
            )
        })
        .collect()
}

/// What makes the attested policy fall short of the one the recipient requires.
fn policy_concerns(
    predicate: &Predicate,
    required: &str,
    evaluated: Option<OffsetDateTime>,
) -> Vec<String> {
    let policy = &predicate.policy;
    // A setting this verifier cannot judge (unknown, missing, not of its kind) is never
    // read as a pass.
    let mut out = consistency::settings_problems(predicate);
    // Another base is fine if none of its settings is looser than the required policy's
    // (nhs-charter-strict satisfies nhs-charter); each setting is judged below, whatever the
    // attestation says of its own overrides.
    if let Some(builtin) = crate::policy::builtin(required) {
        for (section, key, kind, _) in SETTINGS {
            let path = model::path(section, key);
            let Some(expected) = builtin.settings.get(&path) else {
                continue;
            };
            let value = policy
                .settings
                .get(&path)
                .and_then(|attested| model::Value::from_json(*kind, attested));
            if let Some(value) = value
                && model::direction(*kind, expected, &value) == Direction::Loosening
            {
                out.push(format!(
                    "{path} is {} where {required} has {}: loosened",
                    clean(&value.display()),
                    expected.display()
                ));
            }
        }
    }
    // Every exception is judged.
    for e in &policy.exceptions {
        let expires = crate::time::parse_day(&e.expires);
        let too_long = match (expires, evaluated) {
            (Some(day), Some(at)) => (day - at.date()).whole_days() > EXCEPTION_DAYS,
            _ => true,
        };
        if too_long {
            out.push(format!(
                "the exception for {} runs until {}, more than {EXCEPTION_DAYS} days after the evaluation",
                clean(&e.id),
                clean(&e.expires)
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
