//! `audit --vex FILE`: a supplier's or vendor's VEX changes verdicts only within the policy's
//! `[vex]` trust rules, visibly. Each hostile VEX does the safe thing: a statement about
//! another product, component, version or vulnerability excepts nothing (and is listed as
//! unused); one too old, dated after the evaluation, without justification, unsigned where
//! signing is required, or under investigation does not except (and the finding says why); a
//! huge document, a broken one, or a signed one that no given key verifies stops the run
//! (exit 2), naming the file. What the recipient is shown of them: tests/vex_shown.rs.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::path::{Path, PathBuf};

use charter_audit::attest::dsse::{self, IN_TOTO};
use charter_audit::attest::keys::PrivateKey;
use serde_json::{Value, json};
use util::{CargoHome, charter_audit, demo_audit, fixture, keygen};

const REGEX: &str = "RUSTSEC-2022-0013";
const SMALLVEC: &str = "RUSTSEC-2021-0003";

/// A folder for the VEX documents and configurations of one test.
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new() -> Scratch {
        Scratch(tempfile::tempdir().unwrap())
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn json(&self, name: &str, value: &Value) -> PathBuf {
        self.write(name, &serde_json::to_vec_pretty(value).unwrap())
    }

    /// A charter-audit.toml of the demo's supplier with `extra` added.
    fn config(&self, extra: &str) -> PathBuf {
        self.write(
            "charter-audit.toml",
            format!("[supplier]\nname = \"Example Health Ltd\"\n\n{extra}").as_bytes(),
        )
    }
}

/// An OpenVEX 0.2.0 document by "Vendor Security" of 2026-08-01 with `statements`.
fn openvex(statements: Value) -> Value {
    json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.org/vex/demo-1",
        "author": "Vendor Security",
        "timestamp": "2026-08-01T00:00:00Z",
        "version": 1,
        "statements": statements,
    })
}

/// A justified `not_affected` statement of `vulnerability` for the component `purl`.
fn not_affected(vulnerability: &str, purl: &str) -> Value {
    json!({
        "vulnerability": {"name": vulnerability},
        "products": [{"@id": purl}],
        "status": "not_affected",
        "justification": "vulnerable_code_not_in_execute_path",
    })
}

/// The demo audit at DEMO_NOW as JSON, with `args`: exit code, report, stderr.
fn audit(args: &[&Path], flags: &[&str]) -> (i32, Value, String) {
    let home = CargoHome::new();
    let mut cmd = demo_audit(&home);
    cmd.arg("--registry-index")
        .arg(fixture("registry-index"))
        .args(["--format", "json"])
        .args(flags);
    for path in args {
        cmd.arg("--vex").arg(path);
    }
    let output = cmd.output().unwrap();
    (
        output.status.code().unwrap(),
        serde_json::from_slice(&output.stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A finding's verdict and message.
fn judged(report: &Value, id: &str) -> (String, String) {
    let f = util::finding(report, id);
    (
        f["verdict"].as_str().unwrap().to_owned(),
        f["message"].as_str().unwrap().to_owned(),
    )
}

/// The subjects of the `vex-unused` rule findings.
fn unused(report: &Value) -> Vec<String> {
    report["rule_findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["rule"] == "vex-unused")
        .map(|r| r["subject"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_vendors_not_affected_excepts_the_finding_on_its_word_and_the_report_reads_back() {
    let (code, report, stderr) = audit(
        &[
            &fixture("vex/vendor.openvex.json"),
            &fixture("vex/vendor.cdx.json"),
        ],
        &[],
    );
    // Both violations excepted: the run passes.
    assert_eq!(code, 0, "{stderr}");
    let (verdict, message) = judged(&report, REGEX);
    assert_eq!(verdict, "excepted");
    assert!(
        message.contains("not affected on the word of Example Health Ltd security team"),
        "{message}"
    );
    let vex = &util::finding(&report, REGEX)["vex"];
    assert_eq!(vex["document"], "vendor.openvex.json");
    assert_eq!(
        vex["vulnerability"], "CVE-2022-24713",
        "matched by the finding's alias"
    );
    assert_eq!(vex["justification"], "vulnerable_code_not_in_execute_path");
    assert_eq!(vex["time"], "2026-08-01T09:00:00Z");
    assert!(vex["sha256"].as_str().unwrap().starts_with("sha256:"));
    assert!(vex.get("signer").is_none(), "unsigned");
    // CycloneDX, through a BOM-Link whose serial is not this run's.
    assert_eq!(judged(&report, SMALLVEC).0, "excepted");
    assert_eq!(
        util::finding(&report, SMALLVEC)["vex"]["author"],
        "smallvec downstream maintainers"
    );
    // A statement about a vulnerability the run did not find is listed, like an unused
    // exception.
    assert_eq!(unused(&report), ["CVE-2099-0001 (vendor.openvex.json)"]);
    // The report records the documents, so `attest --report` judges every verdict again.
    let documents = report["policy"]["vex"].as_array().unwrap();
    assert_eq!(documents.len(), 2);
    assert_eq!(documents[1]["format"], "cyclonedx");
    let dir = Scratch::new();
    let out = dir.0.path().join("out");
    let (_, written, stderr) = audit(
        &[
            &fixture("vex/vendor.openvex.json"),
            &fixture("vex/vendor.cdx.json"),
        ],
        &["--out-dir", out.to_str().unwrap()],
    );
    assert!(written["findings"] == report["findings"], "{stderr}");
    let home = CargoHome::new();
    let sbom = out.join("sbom.cdx.json");
    let output = charter_audit(&home)
        .args(["attest", "--unsigned", "--report"])
        .arg(out.join("report.json"))
        .arg("--sbom")
        .arg(&sbom)
        .arg("-o")
        .arg(dir.0.path().join("statement.json"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    // A report claiming a VEX exception its statements do not give is refused.
    let mut forged = report.clone();
    forged["policy"]["vex"][0]["statements"][0]["time"] = json!("2025-01-01T00:00:00Z");
    let path = dir.json("forged.json", &forged);
    let output = charter_audit(&home)
        .args(["attest", "--unsigned", "--report"])
        .arg(&path)
        .arg("--sbom")
        .arg(&sbom)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("not the one its own facts"),
        "{output:?}"
    );
}

#[test]
fn statements_about_another_product_component_version_or_vulnerability_except_nothing() {
    let dir = Scratch::new();
    let cases = [
        // Another product's subcomponent: said of regex inside other-app, not inside demo-app.
        json!({
            "vulnerability": {"name": "CVE-2022-24713"},
            "products": [{"@id": "pkg:cargo/other-app@0.3.1",
                          "subcomponents": [{"@id": "pkg:cargo/regex@1.5.4"}]}],
            "status": "not_affected",
            "justification": "vulnerable_code_not_present",
        }),
        // Another component of the same version.
        not_affected("CVE-2022-24713", "pkg:cargo/regex-lite@1.5.4"),
        // Another version.
        not_affected("CVE-2022-24713", "pkg:cargo/regex@1.5.5"),
        // No version, and a range where the version goes.
        not_affected("CVE-2022-24713", "pkg:cargo/regex"),
        not_affected("CVE-2022-24713", "pkg:cargo/regex@%3E%3D1.0.0"),
        // Another registry's regex.
        not_affected(
            "CVE-2022-24713",
            "pkg:cargo/regex@1.5.4?repository_url=https://registry.example.com/",
        ),
        // Another type.
        not_affected("CVE-2022-24713", "pkg:npm/regex@1.5.4"),
        // An alias of another vulnerability (smallvec's CVE) said of regex.
        not_affected("CVE-2021-25900", "pkg:cargo/regex@1.5.4"),
        // Another vulnerability that lists regex's CVE among its own aliases.
        json!({
            "vulnerability": {"name": "CVE-2099-0002", "aliases": ["CVE-2022-24713", REGEX]},
            "products": [{"@id": "pkg:cargo/regex@1.5.4"}],
            "status": "not_affected",
            "justification": "vulnerable_code_not_present",
        }),
    ];
    for (index, statement) in cases.iter().enumerate() {
        let path = dir.json(&format!("case-{index}.json"), &openvex(json!([statement])));
        let (code, report, stderr) = audit(&[&path], &[]);
        assert_eq!(code, 1, "case {index}: {stderr}");
        let (verdict, message) = judged(&report, REGEX);
        assert_eq!(verdict, "violation", "case {index}: {message}");
        assert!(!message.contains("VEX"), "case {index}: {message}");
        assert_eq!(unused(&report).len(), 1, "case {index}: listed as unused");
    }
    // CycloneDX: an `affects` narrowed to a range of versions is not this version.
    let cdx = json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "metadata": {"timestamp": "2026-08-20T00:00:00Z", "authors": [{"name": "Vendor"}]},
        "vulnerabilities": [{
            "id": REGEX,
            "analysis": {"state": "not_affected", "justification": "code_not_reachable"},
            "affects": [{"ref": "pkg:cargo/regex@1.5.4",
                         "versions": [{"range": "vers:cargo/>=1.0.0|<1.5.5", "status": "unaffected"}]}]
        }]
    });
    let path = dir.json("range.cdx.json", &cdx);
    let (_, report, _) = audit(&[&path], &[]);
    assert_eq!(judged(&report, REGEX).0, "violation");
    // CycloneDX about another product (its subject, metadata.component): what it says of
    // regex inside other-product is not said of regex inside demo-app; about demo-app, it is;
    // and a vendor's VEX about its own library (the subject is regex) speaks of regex anywhere.
    for (subject, expected) in [
        ("pkg:cargo/other-product@9.9.9", "violation"),
        ("pkg:cargo/demo-app@0.3.1", "excepted"),
        ("pkg:cargo/regex@1.5.4", "excepted"),
    ] {
        let cdx = json!({
            "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
            "metadata": {"timestamp": "2026-08-20T00:00:00Z", "authors": [{"name": "Vendor"}],
                         "component": {"type": "application", "name": "x", "purl": subject}},
            "vulnerabilities": [{
                "id": REGEX,
                "analysis": {"state": "not_affected", "justification": "code_not_reachable"},
                "affects": [{"ref": "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#pkg:cargo/regex@1.5.4"}]
            }]
        });
        let path = dir.json("subject.cdx.json", &cdx);
        let (_, report, stderr) = audit(&[&path], &[]);
        assert_eq!(judged(&report, REGEX).0, expected, "{subject}: {stderr}");
    }
}

#[test]
fn statements_the_policy_does_not_trust_do_not_except_and_say_why() {
    let dir = Scratch::new();
    let with_time = |time: &str| {
        let mut s = not_affected(REGEX, "pkg:cargo/regex@1.5.4");
        s["timestamp"] = json!(time);
        openvex(json!([s]))
    };
    let unjustified = {
        let mut s = not_affected(REGEX, "pkg:cargo/regex@1.5.4");
        s.as_object_mut().unwrap().remove("justification");
        openvex(json!([s]))
    };
    let status = |status: &str, action: Option<&str>| {
        let mut s = not_affected(REGEX, "pkg:cargo/regex@1.5.4");
        s["status"] = json!(status);
        s.as_object_mut().unwrap().remove("justification");
        if let Some(a) = action {
            s["action_statement"] = json!(a);
        }
        openvex(json!([s]))
    };
    let cases: [(&str, Value, &[&str], &str); 6] = [
        (
            "future",
            with_time("2026-09-01T00:00:00Z"),
            &[],
            "after the evaluation time",
        ),
        (
            "old",
            with_time("2026-01-01T00:00:00Z"),
            &[],
            "more than the policy's 90 (vex.max-age)",
        ),
        (
            "unjustified",
            unjustified.clone(),
            &[],
            "vex.require-justification",
        ),
        (
            "unsigned",
            openvex(json!([not_affected(REGEX, "pkg:cargo/regex@1.5.4")])),
            &["--policy", "nhs-charter-strict"],
            "vex.require-signed",
        ),
        (
            "investigating",
            status("under_investigation", None),
            &[],
            "under investigation, which does not except it",
        ),
        (
            "affected",
            status("affected", Some("upgrade regex to 1.5.5 by Friday")),
            &[],
            "says affected: upgrade regex to 1.5.5 by Friday",
        ),
    ];
    for (name, document, flags, says) in cases {
        let path = dir.json(&format!("{name}.json"), &document);
        let (code, report, stderr) = audit(&[&path], flags);
        assert_eq!(code, 1, "{name}: {stderr}");
        let (verdict, message) = judged(&report, REGEX);
        assert_eq!(verdict, "violation", "{name}: {message}");
        assert!(message.contains(says), "{name}: {message}");
        assert!(util::finding(&report, REGEX).get("vex").is_none(), "{name}");
        assert!(unused(&report).is_empty(), "{name}: it is about a finding");
    }
    // The policy decides: a longer max-age, or no justification required, and they except.
    for (document, setting) in [
        (with_time("2026-01-01T00:00:00Z"), "max-age = 365"),
        (unjustified, "require-justification = false"),
    ] {
        let path = dir.json("loosened.json", &document);
        let config = dir.config(&format!("[vex]\n{setting}\n"));
        let (_, report, stderr) = audit(&[&path], &["--config", config.to_str().unwrap()]);
        assert_eq!(judged(&report, REGEX).0, "excepted", "{setting}: {stderr}");
    }
}

/// `document` as the OpenVEX predicate of an in-toto statement in a DSSE envelope signed by
/// the key at `private`.
fn signed(document: &Value, private: &Path) -> Vec<u8> {
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "demo-app", "digest": {"sha256": "00".repeat(32)}}],
        "predicateType": "https://openvex.dev/ns/v0.2.0",
        "predicate": document,
    });
    let key = PrivateKey::from_pem(&std::fs::read_to_string(private).unwrap(), "test").unwrap();
    let envelope = dsse::sign(&serde_json::to_vec(&statement).unwrap(), IN_TOTO, &key).unwrap();
    serde_json::to_vec(&envelope).unwrap()
}

#[test]
fn a_signed_vex_is_believed_only_with_the_signers_key_and_labelled_with_it() {
    let dir = Scratch::new();
    let home = CargoHome::new();
    let (vendor, vendor_pub) = keygen(&home, &dir.0.path().join("vendor"));
    let (_, other_pub) = keygen(&home, &dir.0.path().join("other"));
    let document = openvex(json!([not_affected(REGEX, "pkg:cargo/regex@1.5.4")]));
    let path = dir.write("vendor.intoto.json", &signed(&document, &vendor));
    // With the signer's key, under the strict policy that requires signed VEX: excepted, and
    // labelled with the key.
    let (code, report, stderr) = audit(
        &[&path],
        &[
            "--policy",
            "nhs-charter-strict",
            "--vex-key",
            vendor_pub.to_str().unwrap(),
        ],
    );
    assert_eq!(
        judged(&report, REGEX).0,
        "excepted",
        "exit {code}: {stderr}"
    );
    let signer = util::finding(&report, REGEX)["vex"]["signer"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(signer.len(), 64, "a key id: {signer}");
    assert_eq!(report["policy"]["vex"][0]["signer"], signer.as_str());
    // With another key, or none: refused, never read as unsigned.
    for flags in [vec!["--vex-key", other_pub.to_str().unwrap()], vec![]] {
        let (code, report, stderr) = audit(&[&path], &flags);
        assert_eq!(code, 2, "{flags:?}: {stderr}");
        assert_eq!(report, Value::Null, "no report");
        assert!(stderr.contains("vendor.intoto.json"), "{stderr}");
        assert!(
            stderr.contains("does not verify") || stderr.contains("no --vex-key"),
            "{stderr}"
        );
    }
    // A key with no VEX document to check is a mistake, said before any work.
    let (code, _, stderr) = audit(&[], &["--vex-key", vendor_pub.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--vex <FILE>"), "{stderr}");
    // A payload changed after signing does not verify.
    let mut envelope: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let mut forged = document.clone();
    forged["author"] = json!("Somebody Else");
    let statement = json!({"_type": "https://in-toto.io/Statement/v1", "subject": [],
        "predicateType": "https://openvex.dev/ns/v0.2.0", "predicate": forged});
    use base64::Engine;
    envelope["payload"] = json!(
        base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(&statement).unwrap())
    );
    let path = dir.json("forged.intoto.json", &envelope);
    let (code, _, stderr) = audit(&[&path], &["--vex-key", vendor_pub.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("does not verify"), "{stderr}");
}

#[test]
fn a_huge_or_broken_vex_stops_the_run_naming_the_file() {
    let dir = Scratch::new();
    let mut huge = br#"{"@context": "https://openvex.dev/ns/v0.2.0", "pad": ""#.to_vec();
    huge.resize(16 * 1024 * 1024 + 1, b' ');
    let many: Vec<Value> = (0..10_001)
        .map(|i| not_affected(&format!("CVE-2099-{i}"), "pkg:cargo/regex@1.5.4"))
        .collect();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("huge.json", huge, "larger than 16 MiB"),
        (
            "many.json",
            serde_json::to_vec(&openvex(json!(many))).unwrap(),
            "more than 10000 statements",
        ),
        ("text.json", b"not affected, trust me".to_vec(), "not JSON"),
        (
            "sbom.json",
            br#"{"bomFormat": "CycloneDX"}"#.to_vec(),
            "not a VEX document",
        ),
        (
            "twice.json",
            br#"{"@context": "https://openvex.dev/ns/v0.2.0", "author": "a", "author": "b"}"#
                .to_vec(),
            "twice",
        ),
        (
            "status.json",
            serde_json::to_vec(&openvex(json!([{
                "vulnerability": {"name": REGEX},
                "products": [{"@id": "pkg:cargo/regex@1.5.4"}],
                "status": "fine"
            }])))
            .unwrap(),
            "status `fine`",
        ),
    ];
    for (name, bytes, says) in cases {
        let path = dir.write(name, &bytes);
        let (code, report, stderr) = audit(&[&path], &[]);
        assert_eq!(code, 2, "{name}: {stderr}");
        assert_eq!(report, Value::Null, "{name}");
        assert!(
            stderr.contains(&format!("--vex {}", path.display())),
            "{name}: {stderr}"
        );
        assert!(stderr.contains(says), "{name}: {stderr}");
    }
}

/// A VEX given back from the folder the run writes into is refused before anything is
/// written, never replaced by the run's own VEX.
#[test]
fn a_vex_in_the_out_dir_is_never_replaced_by_the_runs_own() {
    let dir = Scratch::new();
    let out = dir.0.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let path = out.join("vex.openvex.json");
    let bytes = serde_json::to_vec(&openvex(json!([not_affected(
        "CVE-2022-24713",
        "pkg:cargo/regex@1.5.4"
    )])))
    .unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let (code, _, stderr) = audit(&[&path], &["--out-dir", out.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("vex.openvex.json"), "{stderr}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "the input is unchanged"
    );
    assert!(!out.join("report.json").exists(), "nothing written");
}
