//! The CycloneDX 1.6 attestation of a run (attestation.cdx.json): it says what the signed
//! predicate says, requirement by requirement; it follows the official 1.6 schema; the signature
//! covers it through the predicate; `verify` checks it and `bundle` carries it; and the recipient's
//! HTML page is made only of what was verified.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::Value;
use sha2::Digest as _;
use util::{CargoHome, charter_audit, fixture};

const NOW: &str = "2026-08-25T00:00:00Z";

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Keeps an attestation a test produced, for cyclonedx-python-lib in `.ci/run`.
fn save_attestation_sample(name: &str, bytes: &[u8]) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("attestation-samples");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// `audit --out-dir DIR` of the demo lockfile at NOW, plus `extra`; its exit code.
fn audit_into(dir: &Path, extra: &[&str]) -> i32 {
    let home = CargoHome::new();
    // A reproducible SBOM (its serial number from its content), so equal runs are equal.
    let output = charter_audit(&home)
        .env("SOURCE_DATE_EPOCH", util::EPOCH)
        .args(["audit", "--offline", "--now", NOW, "--lockfile"])
        .arg(fixture("workspaces/demo/Cargo.lock"))
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .args(["--advisory-db-date", "2026-08-21", "--registry-index"])
        .arg(fixture("registry-index"))
        .arg("--out-dir")
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    output.status.code().unwrap()
}

/// A signed demo audit, with `extra` flags: its folder and public key.
fn signed(extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let home = CargoHome::new();
    let prefix = dir.path().join("release");
    let output = charter_audit(&home)
        .args(["keygen", "--out", s(&prefix)])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let artifact = dir.path().join("app-0.3.1.tar.gz");
    std::fs::write(&artifact, b"the release artifact").unwrap();
    let key = prefix.with_extension("key");
    let mut args = vec!["--sign-key", s(&key), "--subject", s(&artifact)];
    args.extend(extra);
    assert_eq!(audit_into(&dir.path().join("evidence"), &args), 1);
    (dir, prefix.with_extension("pub"))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The predicate of the signed statement in `evidence`.
fn predicate(evidence: &Path) -> Value {
    let envelope = read_json(&evidence.join("attestation.intoto.json"));
    let payload = base64::engine::general_purpose::STANDARD
        .decode(envelope["payload"].as_str().unwrap())
        .unwrap();
    serde_json::from_slice::<Value>(&payload).unwrap()["predicate"].clone()
}

/// The requirement's `bom-ref` for a principle of the predicate, as documented (CycloneDX's
/// own for SSDF).
fn requirement_ref(principle: &Value) -> String {
    let id = principle["id"].as_str().unwrap();
    let standard = match principle["framework"].as_str().unwrap() {
        "nhs-cyber-security-charter" => "nhs-cyber-security-charter-2025",
        "software-security-code-of-practice" => "software-security-code-of-practice-2025",
        "nist-ssdf-sp-800-218" => "ssdf-1.1",
        "nhs-data-security-and-protection-toolkit" if id.starts_with('B') => "nhs-dspt-caf-aligned",
        "nhs-data-security-and-protection-toolkit" => "nhs-dspt-non-caf-aligned",
        other => panic!("unknown framework {other}"),
    };
    format!("{standard}-{id}")
}

/// Checks that `cdx` says of every requirement what `predicate`'s principle map says, and
/// nothing more.
fn says_what_the_predicate_says(cdx: &Value, predicate: &Value) {
    let declarations = &cdx["declarations"];
    let map = declarations["attestations"][0]["map"].as_array().unwrap();
    let principles = predicate["principles"].as_array().unwrap();
    assert_eq!(map.len(), principles.len());
    let defined: Vec<&str> = cdx["definitions"]["standards"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["requirements"].as_array().unwrap())
        .map(|r| r["bom-ref"].as_str().unwrap())
        .collect();
    let evidence: Vec<&str> = declarations["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["bom-ref"].as_str().unwrap())
        .collect();
    let claims = declarations["claims"].as_array().unwrap();
    for principle in principles {
        let reference = requirement_ref(principle);
        assert!(defined.contains(&reference.as_str()), "{reference}");
        let entry = map
            .iter()
            .find(|e| e["requirement"] == reference.as_str())
            .unwrap_or_else(|| panic!("{reference} is not in the map"));
        let status = principle["status"].as_str().unwrap();
        // The status, read back from the rationale, with the documented scores.
        let rationale = entry["conformance"]["rationale"].as_str().unwrap();
        assert_eq!(rationale.split(':').next(), Some(status), "{reference}");
        assert!(rationale.ends_with(principle["evidence"].as_str().unwrap()));
        let (conformance, confidence) = match status {
            "evidenced" => (Some(1.0), Some(1.0)),
            "partial" => (Some(0.5), Some(0.5)),
            "not-evidenced" => (Some(0.0), Some(1.0)),
            "not-assessed" => (None, None),
            other => panic!("unknown status {other}"),
        };
        assert_eq!(
            entry["conformance"]["score"].as_f64(),
            conformance,
            "{reference}"
        );
        assert_eq!(
            entry["confidence"]["score"].as_f64(),
            confidence,
            "{reference}"
        );
        assert!(
            entry["confidence"]["rationale"]
                .as_str()
                .unwrap()
                .starts_with(status)
        );
        // One claim per requirement the run speaks to; none for what it does not assess.
        let entry_claims = entry["claims"].as_array().map_or(0, Vec::len);
        if status == "not-assessed" {
            assert_eq!(entry_claims, 0, "{reference}: nothing is claimed");
            continue;
        }
        assert_eq!(entry_claims, 1, "{reference}");
        let claim = claims
            .iter()
            .find(|c| c["bom-ref"] == entry["claims"][0])
            .unwrap();
        assert_eq!(claim["target"], "product");
        assert!(claim["predicate"].as_str().unwrap().ends_with(status));
        for e in claim["evidence"].as_array().unwrap() {
            assert!(evidence.contains(&e.as_str().unwrap()), "{e}");
        }
    }
    assert_eq!(
        claims.len(),
        principles
            .iter()
            .filter(|p| p["status"] != "not-assessed")
            .count()
    );
}

#[test]
fn the_attestation_says_what_the_signed_predicate_says_and_the_signature_covers_it() {
    let (dir, _) = signed(&[]);
    let evidence = dir.path().join("evidence");
    let bytes = std::fs::read(evidence.join("attestation.cdx.json")).unwrap();
    save_attestation_sample("signed.cdx.json", &bytes);
    let cdx: Value = serde_json::from_slice(&bytes).unwrap();
    let predicate = predicate(&evidence);
    says_what_the_predicate_says(&cdx, &predicate);
    charter_audit::cdx16::validate(&cdx).unwrap();
    // The signed predicate records its digests (an evidence file, never a subject).
    let recorded = &predicate["cyclonedx_attestation"];
    assert_eq!(recorded["name"], "attestation.cdx.json");
    assert_eq!(
        recorded["digest"]["sha256"],
        hex::encode(sha2::Sha256::digest(&bytes)).as_str()
    );
    assert_eq!(
        recorded["digest"]["sha512"],
        hex::encode(sha2::Sha512::digest(&bytes)).as_str()
    );
    // The DSPT items are there, and never claimed as more than part of what they ask.
    let dspt: Vec<&Value> = predicate["principles"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["framework"] == "nhs-data-security-and-protection-toolkit")
        .collect();
    let ids: Vec<&str> = dspt.iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["8.3", "8.4", "B4.d"]);
    assert!(dspt.iter().all(|p| p["status"] != "evidenced"));
    // SSDF joins on CycloneDX's published bom-refs.
    let ssdf = cdx["definitions"]["standards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["bom-ref"] == "ssdf-1.1")
        .unwrap();
    let refs: Vec<&str> = ssdf["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["bom-ref"].as_str().unwrap())
        .collect();
    assert_eq!(
        refs,
        [
            "ssdf-1.1-PS.3.2",
            "ssdf-1.1-PW.4.1",
            "ssdf-1.1-PW.4.4",
            "ssdf-1.1-RV.1.1"
        ]
    );
    // The supplier assesses itself and affirms, naming its organisation.
    let declarations = &cdx["declarations"];
    assert_eq!(declarations["assessors"][0]["thirdParty"], false);
    assert_eq!(
        declarations["assessors"][0]["organization"]["name"],
        "Example Health Ltd"
    );
    let signatory = &declarations["affirmation"]["signatories"][0];
    assert_eq!(signatory["organization"]["name"], "Example Health Ltd");
    assert_eq!(
        signatory["externalReference"]["url"],
        "attestation.intoto.json"
    );
    assert_eq!(
        declarations["targets"]["components"][0]["bom-ref"],
        "product"
    );
    // Every piece of evidence is dated by the run.
    for e in declarations["evidence"].as_array().unwrap() {
        assert_eq!(e["created"], NOW);
        assert!(e["expires"].as_str().unwrap() > NOW);
    }
    // The HTML report links it and shows the same map.
    let html = std::fs::read_to_string(evidence.join("report.html")).unwrap();
    assert!(html.contains("<a href=\"attestation.cdx.json\" id=\"cyclonedx-attestation\">"));
    assert!(html.contains("<h2 id=\"evidences\">What this release evidences</h2>"));
    let markdown = std::fs::read_to_string(evidence.join("report.md")).unwrap();
    assert!(markdown.contains("### What this release evidences"));
    assert!(markdown.contains(
        "| Data Security and Protection Toolkit | B4.d: CAF-aligned edition, objective B4 \\(system security\\): outcome B4.d, vulnerability management | `partial` |"
    ));
}

#[test]
fn an_unsigned_run_attests_without_affirming_and_equal_runs_give_equal_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    assert_eq!(audit_into(&one, &[]), 1);
    assert_eq!(audit_into(&two, &[]), 1);
    let bytes = std::fs::read(one.join("attestation.cdx.json")).unwrap();
    let again = std::fs::read(two.join("attestation.cdx.json")).unwrap();
    // Equal but for the one time that is the clock's, not the run's: when the registry index
    // was read (as report.json records it), and so the serial number derived from the content.
    let comparable = |bytes: &[u8]| {
        let mut cdx: Value = serde_json::from_slice(bytes).unwrap();
        cdx["serialNumber"] = Value::Null;
        for e in cdx["declarations"]["evidence"].as_array_mut().unwrap() {
            if e["bom-ref"] == "evidence-registry-index" {
                let content = &mut e["data"][0]["contents"]["attachment"]["content"];
                let mut facts: Value = serde_json::from_str(content.as_str().unwrap()).unwrap();
                facts["looked_up_at"] = Value::Null;
                *content = facts;
            }
        }
        cdx
    };
    assert!(
        comparable(&bytes) == comparable(&again),
        "two equal runs wrote different attestations"
    );
    save_attestation_sample("unsigned.cdx.json", &bytes);
    let cdx: Value = serde_json::from_slice(&bytes).unwrap();
    charter_audit::cdx16::validate(&cdx).unwrap();
    // No statement covers it, so nothing is affirmed; 3.1 is not evidenced.
    assert!(cdx["declarations"].get("affirmation").is_none());
    let entry = cdx["declarations"]["attestations"][0]["map"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["requirement"] == "software-security-code-of-practice-2025-3.1")
        .unwrap();
    assert_eq!(entry["conformance"]["score"], 0.0);
}

#[test]
fn exceptions_in_force_are_the_mitigation_of_what_they_except() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("charter-audit.toml");
    std::fs::write(
        &config,
        "extends = \"nhs-charter\"\n\n[supplier]\nname = \"Example Health Ltd\"\n\n[[exception]]\nid = \"RUSTSEC-2022-0013\"\npackage = \"regex\"\nversion = \"1.5.4\"\nreason = \"Only trusted regexes are compiled\"\nexpires = 2026-08-28\napproved-by = \"CISO\"\n",
    )
    .unwrap();
    let evidence = dir.path().join("evidence");
    audit_into(&evidence, &["--config", s(&config)]);
    let bytes = std::fs::read(evidence.join("attestation.cdx.json")).unwrap();
    save_attestation_sample("exceptions.cdx.json", &bytes);
    let cdx: Value = serde_json::from_slice(&bytes).unwrap();
    let declarations = &cdx["declarations"];
    let exceptions = declarations["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["bom-ref"] == "evidence-exceptions")
        .unwrap();
    // It holds no longer than the exception does (here sooner than the databases go stale).
    assert_eq!(exceptions["expires"], "2026-08-28T23:59:59Z");
    let charter_1 = declarations["attestations"][0]["map"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["requirement"] == "nhs-cyber-security-charter-2025-1")
        .unwrap();
    assert_eq!(
        charter_1["conformance"]["mitigationStrategies"],
        serde_json::json!(["evidence-exceptions"])
    );
}

/// `verify` with `args` at a fixed time: its exit code and everything it printed.
fn verify(args: &[&str]) -> (i32, String) {
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .arg("verify")
        .args(args)
        .args(["--now", "2026-08-26T00:00:00Z"])
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

#[test]
fn verify_checks_the_cyclonedx_attestation_and_writes_the_recipient_s_page() {
    let (dir, key) = signed(&[]);
    let evidence = dir.path().join("evidence");
    let envelope = evidence.join("attestation.intoto.json");
    let cdx = evidence.join("attestation.cdx.json");
    // The recorded one: authentic (the demo's result is fail, so not accepted).
    let (code, out) = verify(&[s(&envelope), "--key", s(&key), "--cyclonedx", s(&cdx)]);
    assert_eq!(code, 1, "{out}");
    // Any other file is not the one the signature covers.
    let other = dir.path().join("other.cdx.json");
    let mut bytes = std::fs::read(&cdx).unwrap();
    bytes.extend_from_slice(b" ");
    std::fs::write(&other, &bytes).unwrap();
    let (code, out) = verify(&[s(&envelope), "--key", s(&key), "--cyclonedx", s(&other)]);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains("its digest is not the CycloneDX attestation's the predicate records"),
        "{out}"
    );

    // The page: the verdict, what the release evidences, and the attestation checked.
    let page = dir.path().join("verified.html");
    let (code, out) = verify(&[
        s(&envelope),
        "--key",
        s(&key),
        "--cyclonedx",
        s(&cdx),
        "--format",
        "html",
        "-o",
        s(&page),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("AUTHENTIC"),
        "the text verdict is printed: {out}"
    );
    let html = std::fs::read_to_string(&page).unwrap();
    util::save_html_sample("verified.html", html.as_bytes());
    assert!(html.contains("<strong>AUTHENTIC, BUT NOT ACCEPTED</strong>"));
    assert!(html.contains("<li>the attested result is fail</li>"));
    assert!(html.contains("<h2 id=\"evidences\">What this release evidences</h2>"));
    assert!(html.contains("<td>8.3: Non-CAF-aligned edition, standard 8: Supported systems are kept up-to-date with the latest security patches</td><td class=\"violation\">not-evidenced</td>"));
    assert!(html.contains("attestation.cdx.json was checked"));
    assert!(html.contains("default-src 'none'") && !html.contains("<script"));
    // Without the file, the page says it was not checked.
    let (_, _) = verify(&[
        s(&envelope),
        "--key",
        s(&key),
        "--format",
        "html",
        "-o",
        s(&page),
    ]);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("which was not given to verify"), "{html}");

    // Evidence that is not authentic: a page that says so and shows nothing it claims.
    let (code, _) = verify(&[
        s(&envelope),
        "--key",
        s(&key),
        "--cyclonedx",
        s(&other),
        "--format",
        "html",
        "-o",
        s(&page),
    ]);
    assert_eq!(code, 3);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("<strong>NOT AUTHENTIC</strong>"));
    assert!(!html.contains("What this release evidences") && !html.contains("Example Health"));

    // A bundle carries it, and the bundle's copy is checked.
    let bundle = dir.path().join("submission.tar.gz");
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .args(["bundle", "--out-dir", s(&evidence), "-o", s(&bundle)])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let (code, _) = verify(&[
        "--bundle",
        s(&bundle),
        "--key",
        s(&key),
        "--format",
        "html",
        "-o",
        s(&page),
    ]);
    assert_eq!(code, 1);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("attestation.cdx.json was checked"), "{html}");
}

#[test]
fn a_statement_that_records_no_cyclonedx_attestation_attests_none() {
    let (dir, key) = signed(&[]);
    let evidence = dir.path().join("evidence");
    // attest without --cyclonedx records none; a file given to verify is then not attested.
    let home = CargoHome::new();
    let statement = dir.path().join("plain.intoto.json");
    let output = charter_audit(&home)
        .args(["attest", "--sign-key"])
        .arg(dir.path().join("release.key"))
        .args(["--report", s(&evidence.join("report.json"))])
        .args(["--sbom", s(&evidence.join("sbom.cdx.json"))])
        .args(["-o", s(&statement)])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let cdx = evidence.join("attestation.cdx.json");
    let (code, out) = verify(&[s(&statement), "--key", s(&key), "--cyclonedx", s(&cdx)]);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains("the predicate records no CycloneDX attestation"),
        "{out}"
    );
}

#[test]
fn a_bundle_never_claims_a_cyclonedx_attestation_it_cannot_carry_was_checked() {
    let (dir, key) = signed(&[]);
    let evidence = dir.path().join("evidence");
    // Recorded under another name than the bundle's `attestation.cdx.json`: the bundle cannot
    // carry it, so verify says it was recorded, not checked.
    let renamed = evidence.join("my.cdx.json");
    std::fs::rename(evidence.join("attestation.cdx.json"), &renamed).unwrap();
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .args(["attest", "--sign-key"])
        .arg(dir.path().join("release.key"))
        .args(["--report", s(&evidence.join("report.json"))])
        .args(["--sbom", s(&evidence.join("sbom.cdx.json"))])
        .args(["--cyclonedx", s(&renamed)])
        .args(["-o", s(&evidence.join("attestation.intoto.json"))])
        .args(["--jsonl", s(&evidence.join("attestations.intoto.jsonl"))])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let bundle = dir.path().join("submission.tar.gz");
    let output = charter_audit(&home)
        .args(["bundle", "--out-dir", s(&evidence), "-o", s(&bundle)])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let (code, out) = verify(&["--bundle", s(&bundle), "--key", s(&key)]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("my.cdx.json"), "{out}");
    assert!(
        !out.contains("its digest the one the signed predicate records"),
        "claimed checked: {out}"
    );
    // Given to verify, the same file is checked.
    let (_, out) = verify(&[
        "--bundle",
        s(&bundle),
        "--key",
        s(&key),
        "--cyclonedx",
        s(&renamed),
    ]);
    assert!(
        out.contains("its digest the one the signed predicate records"),
        "{out}"
    );
}

#[test]
fn no_output_is_written_over_an_input_or_another_output() {
    let (dir, key) = signed(&[]);
    let evidence = dir.path().join("evidence");
    let report = evidence.join("report.json");
    let before = std::fs::read(&report).unwrap();
    let home = CargoHome::new();
    let attest = |extra: &[&str]| {
        charter_audit(&home)
            .args(["attest", "--sign-key"])
            .arg(dir.path().join("release.key"))
            .args(["--report", s(&report)])
            .args(["--sbom", s(&evidence.join("sbom.cdx.json"))])
            .args(extra)
            .output()
            .unwrap()
    };
    let elsewhere = dir.path().join("a.json");
    for extra in [
        vec!["-o", s(&report)],
        vec!["--cyclonedx", s(&elsewhere), "-o", s(&elsewhere)],
        vec![
            "--jsonl",
            s(&evidence.join("sbom.cdx.json")),
            "-o",
            s(&elsewhere),
        ],
    ] {
        let output = attest(&extra);
        assert_eq!(output.status.code(), Some(2), "{extra:?}: {output:?}");
        let message = String::from_utf8_lossy(&output.stderr);
        assert!(message.contains("name another file"), "{message}");
    }
    assert_eq!(std::fs::read(&report).unwrap(), before);
    assert!(!elsewhere.exists());
    // verify's page never replaces the key or the evidence it reads.
    let envelope = evidence.join("attestation.intoto.json");
    let key_before = std::fs::read(&key).unwrap();
    for target in [&key, &envelope] {
        let (code, out) = verify(&[
            s(&envelope),
            "--key",
            s(&key),
            "--format",
            "html",
            "-o",
            s(target),
        ]);
        assert_eq!(code, 2, "{out}");
    }
    assert_eq!(std::fs::read(&key).unwrap(), key_before);
}
