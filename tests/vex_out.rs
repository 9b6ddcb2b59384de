//! The run's decisions as VEX (issue 17, "VEX out"): `audit --out-dir` writes vex.openvex.json
//! (OpenVEX 0.2.0, checked against its published schema) and vex.cdx.json (CycloneDX VEX linked
//! to the run's SBOM, checked against the official 1.6 schema here and by cyclonedx-python-lib in
//! `.ci/run`); every finding has a statement that follows from its verdict; a pinned `--now`
//! gives the same bytes; the signed predicate records both, and `verify --vex` refuses a copy
//! that is not the one signed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::path::Path;

use serde_json::Value;
use sha2::Digest as _;
use util::{CargoHome, DEMO_NOW, charter_audit, fixture};

/// The supplier's configuration: one exception in force with a justification (regex), one
/// expired (atty's unmaintained notice); `extra` adds settings.
fn config(extra: &str) -> String {
    format!(
        "extends = \"nhs-charter\"\n{extra}\n[supplier]\nname = \"Example Health Ltd\"\n\n\
         [[exception]]\nid = \"CVE-2022-24713\"\npackage = \"regex\"\nversion = \"1.5.4\"\n\
         reason = \"Only regexes from our own configuration are compiled\"\nexpires = 2026-09-30\n\
         approved-by = \"CISO\"\njustification = \"vulnerable_code_not_in_execute_path\"\n\n\
         [[exception]]\nid = \"RUSTSEC-2024-0375\"\nreason = \"Replacement planned\"\n\
         expires = 2026-08-01\napproved-by = \"CTO\"\n"
    )
}

/// `audit --out-dir` of the demo workspace for Linux at `now`, with `config`, plus `extra`.
fn audit_into(out: &Path, now: &str, config_text: &str, extra: &[&str]) -> i32 {
    util::demo_audit_into(out, now, config_text, extra)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Keeps a VEX document a test produced (and the SBOM beside it, `NAME.sbom.cdx.json`, for
/// the join), for the validators in `.ci/run` (ci/validate_vex.py).
fn save_vex_sample(name: &str, bytes: &[u8]) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("vex-samples");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// Where `document` departs from the vendored OpenVEX 0.2.0 schema, formats asserted.
fn openvex_errors(document: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/openvex/openvex_json_schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    validator
        .iter_errors(document)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn check_openvex(document: &Value) {
    let errors = openvex_errors(document);
    assert!(errors.is_empty(), "{errors:#?}");
}

/// The OpenVEX statement and the CycloneDX vulnerability about `id`.
fn about<'a>(openvex: &'a Value, cdx: &'a Value, id: &str) -> (&'a Value, &'a Value) {
    let statement = openvex["statements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["vulnerability"]["name"] == id)
        .unwrap_or_else(|| panic!("no statement on {id}"));
    let vulnerability = cdx["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("no vulnerability {id}"));
    (statement, vulnerability)
}

#[test]
fn every_finding_has_the_statement_its_verdict_gives_in_both_formats() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("evidence");
    assert_eq!(audit_into(&out, DEMO_NOW, &config(""), &[]), 1);
    let report = read_json(&out.join("report.json"));
    let sbom = read_json(&out.join("sbom.cdx.json"));
    let openvex_bytes = std::fs::read(out.join("vex.openvex.json")).unwrap();
    let cdx_bytes = std::fs::read(out.join("vex.cdx.json")).unwrap();
    save_vex_sample("demo-1.5.openvex.json", &openvex_bytes);
    save_vex_sample("demo-1.5.vex.cdx.json", &cdx_bytes);
    save_vex_sample(
        "demo-1.5.sbom.cdx.json",
        &std::fs::read(out.join("sbom.cdx.json")).unwrap(),
    );
    let openvex: Value = serde_json::from_slice(&openvex_bytes).unwrap();
    let cdx: Value = serde_json::from_slice(&cdx_bytes).unwrap();
    check_openvex(&openvex);

    // The document: ours, of the run's time, by the supplier.
    assert_eq!(openvex["@context"], "https://openvex.dev/ns/v0.2.0");
    assert!(openvex["@id"].as_str().unwrap().starts_with("urn:uuid:"));
    assert_eq!(openvex["author"], "Example Health Ltd");
    assert_eq!(openvex["timestamp"], DEMO_NOW);
    assert_eq!(openvex["version"], 1);
    // The CycloneDX VEX is of the SBOM's spec version (1.5 under the default profile).
    assert_eq!(sbom["specVersion"], "1.5");
    assert_eq!(cdx["specVersion"], "1.5");
    assert_eq!(cdx["metadata"]["authors"][0]["name"], "Example Health Ltd");

    // One statement per finding, and each finding has one.
    let findings = report["findings"].as_array().unwrap();
    // On Linux: smallvec's violation, regex's exception, atty's expired one and its Windows-only
    // advisory (ansi_term is a Windows dependency).
    assert_eq!(findings.len(), 4, "{report}");
    let product = report["product"]["purl"].as_str().unwrap();
    assert_eq!(
        openvex["statements"].as_array().unwrap().len(),
        findings.len()
    );
    assert_eq!(
        cdx["vulnerabilities"].as_array().unwrap().len(),
        findings.len()
    );
    let serial = sbom["serialNumber"]
        .as_str()
        .unwrap()
        .strip_prefix("urn:uuid:")
        .unwrap();
    let bom_refs: Vec<&str> = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    for finding in findings {
        let id = finding["id"].as_str().unwrap();
        let purl = finding["package"]["purl"].as_str().unwrap();
        let (statement, vulnerability) = about(&openvex, &cdx, id);
        assert_eq!(statement["timestamp"], DEMO_NOW);
        // Named by the finding's id, with its aliases (left out when it has none).
        let aliases = &finding["aliases"];
        if aliases.as_array().unwrap().is_empty() {
            assert!(statement["vulnerability"].get("aliases").is_none());
        } else {
            assert_eq!(&statement["vulnerability"]["aliases"], aliases);
        }
        assert_eq!(
            statement["products"],
            serde_json::json!([{"@id": product, "subcomponents": [{"@id": purl}]}])
        );
        // The CycloneDX VEX joins the SBOM: its serial, version and the component's bom-ref.
        let reference = vulnerability["affects"][0]["ref"].as_str().unwrap();
        assert_eq!(reference, format!("urn:cdx:{serial}/1#{purl}"));
        assert!(bom_refs.contains(&purl), "{purl} is no bom-ref of the SBOM");
        let references: Vec<&str> = vulnerability["references"]
            .as_array()
            .map(|r| r.iter().map(|r| r["id"].as_str().unwrap()).collect())
            .unwrap_or_default();
        let aliases: Vec<&str> = finding["aliases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(references, aliases);
        assert_eq!(vulnerability["analysis"]["firstIssued"], DEMO_NOW);
        assert_eq!(vulnerability["analysis"]["lastUpdated"], DEMO_NOW);
        // Every finding is about a version the SBOM holds: never fixed.
        assert_ne!(statement["status"], "fixed");
        assert!(
            !["resolved", "resolved_with_pedigree"]
                .contains(&vulnerability["analysis"]["state"].as_str().unwrap())
        );
        let (status, state) = match finding["verdict"].as_str().unwrap() {
            "violation" | "warning" => ("affected", "exploitable"),
            "excepted" | "info" => ("not_affected", "not_affected"),
            other => panic!("verdict {other}"),
        };
        assert_eq!(statement["status"], status, "{id}");
        assert_eq!(vulnerability["analysis"]["state"], state, "{id}");
    }

    // A violation: the upgrade, and its deadline under the policy.
    let (smallvec, smallvec_cdx) = about(&openvex, &cdx, "RUSTSEC-2021-0003");
    let action = "Upgrade smallvec 1.6.0 to 1.6.1 (patched: >=0.6.14, <1.0.0, >=1.6.1); under the nhs-charter policy it is due by 2021-01-22 (14 days from the fix's publication), and is overdue";
    assert_eq!(smallvec["action_statement"], action);
    assert_eq!(smallvec["action_statement_timestamp"], DEMO_NOW);
    assert_eq!(smallvec_cdx["analysis"]["detail"], action);
    assert_eq!(
        smallvec_cdx["analysis"]["response"],
        serde_json::json!(["update"])
    );
    assert_eq!(smallvec_cdx["source"]["name"], "RustSec");

    // Excepted by the configuration (by its alias): its reason, approver, expiry, justification.
    let (regex, regex_cdx) = about(&openvex, &cdx, "RUSTSEC-2022-0013");
    let why = "Excepted by Example Health Ltd's configuration: Only regexes from our own configuration are compiled (approved by CISO; valid through 2026-09-30, UTC)";
    assert_eq!(
        regex["justification"],
        "vulnerable_code_not_in_execute_path"
    );
    assert_eq!(regex["impact_statement"], why);
    assert_eq!(regex_cdx["analysis"]["justification"], "code_not_reachable");
    assert_eq!(regex_cdx["analysis"]["detail"], why);
    assert!(regex_cdx["analysis"].get("response").is_none());

    // An expired exception excepts nothing: affected, with the rule's action and the expiry.
    let (expired, expired_cdx) = about(&openvex, &cdx, "RUSTSEC-2024-0375");
    let action = expired["action_statement"].as_str().unwrap();
    assert!(
        action.starts_with("atty is unmaintained: plan a replacement"),
        "{action}"
    );
    assert!(action.contains("expired on 2026-08-01"), "{action}");
    assert!(expired_cdx["analysis"].get("response").is_none());

    // Ruled out by the target: the vulnerable code is not what is built for Linux.
    let (windows, windows_cdx) = about(&openvex, &cdx, "RUSTSEC-2021-0145");
    assert_eq!(windows["justification"], "vulnerable_code_not_present");
    assert_eq!(
        windows["impact_statement"],
        "not applicable to x86_64-unknown-linux-gnu: affects windows only"
    );
    assert_eq!(windows_cdx["analysis"]["justification"], "code_not_present");
}

#[test]
fn the_cyclonedx_vex_is_1_6_beside_a_1_6_sbom_and_follows_the_official_schema() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("evidence");
    let profile = "\n[sbom-completeness]\nprofile = \"bsi-tr-03183-2\"\n";
    audit_into(&out, DEMO_NOW, &config(profile), &[]);
    let sbom = read_json(&out.join("sbom.cdx.json"));
    let bytes = std::fs::read(out.join("vex.cdx.json")).unwrap();
    save_vex_sample("demo-1.6.vex.cdx.json", &bytes);
    save_vex_sample(
        "demo-1.6.sbom.cdx.json",
        &std::fs::read(out.join("sbom.cdx.json")).unwrap(),
    );
    save_vex_sample(
        "demo-1.6.openvex.json",
        &std::fs::read(out.join("vex.openvex.json")).unwrap(),
    );
    let cdx: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(sbom["specVersion"], "1.6");
    assert_eq!(cdx["specVersion"], "1.6");
    charter_audit::cdx16::validate(&cdx).unwrap();
    let serial = sbom["serialNumber"]
        .as_str()
        .unwrap()
        .strip_prefix("urn:uuid:")
        .unwrap();
    for vulnerability in cdx["vulnerabilities"].as_array().unwrap() {
        let reference = vulnerability["affects"][0]["ref"].as_str().unwrap();
        assert!(
            reference.starts_with(&format!("urn:cdx:{serial}/1#pkg:cargo/")),
            "{reference}"
        );
    }
    // The schema is a real check: a state CycloneDX does not know is refused.
    let mut wrong = cdx.clone();
    wrong["vulnerabilities"][0]["analysis"]["state"] = Value::from("affected");
    assert!(charter_audit::cdx16::validate(&wrong).is_err());
    // And so is the OpenVEX one: `affected` needs an action statement.
    let mut openvex = read_json(&out.join("vex.openvex.json"));
    check_openvex(&openvex);
    let statement = openvex["statements"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["status"] == "affected")
        .unwrap();
    statement
        .as_object_mut()
        .unwrap()
        .remove("action_statement");
    assert!(!openvex_errors(&openvex).is_empty());
}

#[test]
fn a_pinned_now_gives_the_same_bytes_and_another_now_other_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let runs: Vec<_> = ["one", "two", "later"]
        .iter()
        .map(|name| {
            let out = dir.path().join(name);
            let now = if *name == "later" {
                "2026-08-26T00:00:00Z"
            } else {
                DEMO_NOW
            };
            audit_into(&out, now, &config(""), &[]);
            (
                std::fs::read(out.join("vex.openvex.json")).unwrap(),
                std::fs::read(out.join("vex.cdx.json")).unwrap(),
            )
        })
        .collect();
    assert_eq!(runs[0], runs[1]);
    assert_ne!(runs[0].0, runs[2].0);
    assert_ne!(runs[0].1, runs[2].1);
    let later: Value = serde_json::from_slice(&runs[2].0).unwrap();
    let first: Value = serde_json::from_slice(&runs[0].0).unwrap();
    // The identifier is of the content: another document, another @id.
    assert_ne!(later["@id"], first["@id"]);
}

fn sha256(path: &Path) -> String {
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

#[test]
fn the_signature_covers_both_and_verify_refuses_a_changed_copy() {
    let dir = tempfile::tempdir().unwrap();
    let home = CargoHome::new();
    let (key, public) = util::keygen(&home, &dir.path().join("release"));
    let out = dir.path().join("evidence");
    audit_into(
        &out,
        DEMO_NOW,
        &config(""),
        &["--sign-key", key.to_str().unwrap()],
    );
    let envelope = read_json(&out.join("attestation.intoto.json"));
    use base64::Engine as _;
    let payload = base64::engine::general_purpose::STANDARD
        .decode(envelope["payload"].as_str().unwrap())
        .unwrap();
    let predicate = serde_json::from_slice::<Value>(&payload).unwrap()["predicate"].clone();
    let recorded: Vec<(String, String)> = predicate["vex_outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["digest"]["sha256"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        recorded,
        vec![
            (
                "vex.openvex.json".to_owned(),
                sha256(&out.join("vex.openvex.json"))
            ),
            ("vex.cdx.json".to_owned(), sha256(&out.join("vex.cdx.json"))),
        ]
    );
    let verify = |extra: &[&Path]| {
        let mut cmd = charter_audit(&home);
        cmd.arg("verify")
            .arg(out.join("attestation.intoto.json"))
            .arg("--key")
            .arg(&public)
            .args(["--now", DEMO_NOW]);
        for file in extra {
            cmd.arg("--vex").arg(file);
        }
        cmd.output().unwrap()
    };
    // Authentic (the attested result is fail: exit 1, not 3), both copies the signed ones.
    let output = verify(&[&out.join("vex.openvex.json"), &out.join("vex.cdx.json")]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    for name in ["vex.openvex.json", "vex.cdx.json"] {
        assert!(
            stdout.contains(&format!(
                "VEX: {name}, its digest one the signed predicate records"
            )),
            "{stdout}"
        );
    }
    // One given, one not: verify says which it vouches for.
    let output = verify(&[&out.join("vex.cdx.json")]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("VEX: vex.openvex.json is recorded; give it with --vex FILE to check it"),
        "{stdout}"
    );
    assert!(
        stdout.contains("VEX: vex.cdx.json, its digest one the signed predicate records"),
        "{stdout}"
    );
    // One changed byte, and the evidence is not authentic.
    let changed = dir.path().join("vex.cdx.json");
    let text = std::fs::read_to_string(out.join("vex.cdx.json")).unwrap();
    std::fs::write(&changed, text.replacen("exploitable", "not_affected", 1)).unwrap();
    let output = verify(&[&out.join("vex.openvex.json"), &changed]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("its digest is none of the VEX documents' the predicate records"),
        "{stdout}"
    );
}

#[test]
fn a_predicate_without_vex_accepts_no_vex_copy() {
    // `attest` makes its statements from a report alone, and records no VEX document: a VEX
    // file given to verify is then not attested.
    let dir = tempfile::tempdir().unwrap();
    let home = CargoHome::new();
    let out = dir.path().join("evidence");
    audit_into(&out, DEMO_NOW, &config(""), &[]);
    let (key, public) = util::keygen(&home, &dir.path().join("release"));
    // The report holds the exception's justification, and attest reads it back (with unknown
    // fields refused) and re-judges it.
    let report = read_json(&out.join("report.json"));
    assert_eq!(
        report["policy"]["exceptions"][0]["justification"],
        "vulnerable_code_not_in_execute_path"
    );
    let envelope = dir.path().join("attestation.intoto.json");
    let output = charter_audit(&home)
        .args(["attest", "--report"])
        .arg(out.join("report.json"))
        .arg("--sbom")
        .arg(out.join("sbom.cdx.json"))
        .arg("--sign-key")
        .arg(&key)
        .arg("-o")
        .arg(&envelope)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let output = charter_audit(&home)
        .arg("verify")
        .arg(&envelope)
        .arg("--key")
        .arg(&public)
        .args(["--now", DEMO_NOW, "--vex"])
        .arg(out.join("vex.cdx.json"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("records no VEX document"),
        "{output:?}"
    );
}

#[test]
fn a_run_without_findings_writes_an_empty_cyclonedx_vex_and_leaves_no_earlier_openvex() {
    // An advisory database whose one advisory is about a crate the product does not have.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db/crates/not-in-the-product");
    std::fs::create_dir_all(&db).unwrap();
    let advisory = std::fs::read_to_string(fixture(
        "advisories/rustsec/crates/regex/RUSTSEC-2022-0013.md",
    ))
    .unwrap()
    .replacen("package = \"regex\"", "package = \"not-in-the-product\"", 1);
    std::fs::write(db.join("RUSTSEC-2022-0013.md"), advisory).unwrap();
    let out = dir.path().join("evidence");
    // An earlier run with findings left its OpenVEX here.
    assert_eq!(audit_into(&out, DEMO_NOW, &config(""), &[]), 1);
    assert!(out.join("vex.openvex.json").is_file());
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .args(["audit", "--offline", "--now", DEMO_NOW, "--lockfile"])
        .arg(fixture("workspaces/demo/Cargo.lock"))
        .arg("--advisory-db")
        .arg(dir.path().join("db"))
        .args(["--advisory-db-date", "2026-08-21", "--registry-index"])
        .arg(fixture("registry-index"))
        .args(["--supplier", "Example Health Ltd", "--out-dir"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report = read_json(&out.join("report.json"));
    assert_eq!(report["findings"], serde_json::json!([]));
    // OpenVEX needs a statement: none is written, and the earlier one is gone.
    assert!(!out.join("vex.openvex.json").exists());
    let cdx = read_json(&out.join("vex.cdx.json"));
    assert_eq!(cdx["vulnerabilities"], serde_json::json!([]));
    assert_eq!(cdx["specVersion"], "1.5");
}
