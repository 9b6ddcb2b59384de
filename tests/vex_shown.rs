//! What the recipient is shown of the VEX exceptions an audit made (`audit --vex`): every
//! rendering names the document and on whose word; the signed predicate records each document
//! and counts VEX exceptions apart; a predicate is held to its own `[vex]` rules (else not
//! authentic) and `verify --policy` to the recipient's.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::path::{Path, PathBuf};

use charter_audit::attest::dsse::{self, IN_TOTO};
use charter_audit::attest::keys::PrivateKey;
use serde_json::{Value, json};
use util::{CargoHome, charter_audit, demo_audit, fixture, keygen};

const REGEX: &str = "RUSTSEC-2022-0013";

/// A scratch folder.
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new() -> Scratch {
        Scratch(tempfile::tempdir().unwrap())
    }

    fn json(&self, name: &str, value: &Value) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
        path
    }
}

/// The demo audit with both fixture VEX documents, signed with `private`, into `out`.
fn audit_with_vex(home: &CargoHome, private: &Path, out: &Path) {
    let output = demo_audit(home)
        .arg("--registry-index")
        .arg(fixture("registry-index"))
        .arg("--vex")
        .arg(fixture("vex/vendor.openvex.json"))
        .arg("--vex")
        .arg(fixture("vex/vendor.cdx.json"))
        .arg("--sign-key")
        .arg(private)
        .arg("--out-dir")
        .arg(out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
}

#[test]
fn the_recipient_sees_vex_exceptions_in_every_rendering_and_the_signed_predicate() {
    let dir = Scratch::new();
    let home = CargoHome::new();
    let (private, public) = keygen(&home, &dir.0.path().join("supplier"));
    let out = dir.0.path().join("evidence");
    audit_with_vex(&home, &private, &out);
    let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap();
    let markdown = read("report.md");
    assert!(
        markdown.contains("2 excepted (2 on VEX statements)"),
        "{markdown}"
    );
    assert!(markdown.contains("### VEX: on whose word"), "{markdown}");
    let html = read("report.html");
    assert!(html.contains("<table id=\"vex\">"), "{html}");
    assert!(html.contains("<table id=\"vex-excepted\">"), "{html}");
    let sarif: Value = serde_json::from_str(&read("report.sarif")).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let regex = results.iter().find(|r| r["ruleId"] == REGEX).unwrap();
    let justification = regex["suppressions"][0]["justification"].as_str().unwrap();
    assert!(
        justification.starts_with("not affected on the word of Example Health Ltd security team"),
        "{justification}"
    );
    assert_eq!(
        regex["properties"]["vex"]["document"],
        "vendor.openvex.json"
    );
    // The predicate records each document and counts VEX exceptions apart.
    let envelope: dsse::Envelope = serde_json::from_str(&read("attestation.intoto.json")).unwrap();
    let payload = dsse::decode_base64(&envelope.payload).unwrap();
    let statement: Value = serde_json::from_slice(&payload).unwrap();
    let predicate = &statement["predicate"];
    assert_eq!(predicate["policy"]["vex"].as_array().unwrap().len(), 2);
    assert_eq!(
        predicate["findings"]["excepted_by"],
        json!({"configuration": 0, "vex": 2})
    );
    let exceptions = predicate["findings"]["vex_exceptions"].as_array().unwrap();
    assert_eq!(exceptions.len(), 2);
    assert_eq!(exceptions[0]["author"], "Example Health Ltd security team");
    // `verify --policy` judges them by the required policy's rules: nhs-charter accepts them;
    // nhs-charter-strict requires signed VEX.
    let verify = |policy: &str| {
        charter_audit(&home)
            .args([
                "verify",
                "--now",
                "2026-08-26T00:00:00Z",
                "--policy",
                policy,
                "--key",
            ])
            .arg(&public)
            .arg(out.join("attestation.intoto.json"))
            .output()
            .unwrap()
    };
    let accepted = verify("nhs-charter");
    assert_eq!(accepted.status.code(), Some(0), "{accepted:?}");
    // And shows on whose word each finding was excepted.
    let said = String::from_utf8_lossy(&accepted.stdout);
    assert!(
        said.contains("VEX: RUSTSEC-2022-0013 regex@1.5.4 not affected on the word of Example Health Ltd security team (unsigned, statement of 2026-08-01T09:00:00Z): vulnerable_code_not_in_execute_path"),
        "{said}"
    );
    let strict = verify("nhs-charter-strict");
    assert_eq!(strict.status.code(), Some(1), "{strict:?}");
    let said = String::from_utf8_lossy(&strict.stdout);
    assert!(
        said.contains("is excepted on the word of a VEX statement by Example Health Ltd security team, which nhs-charter-strict does not accept: its document is not signed"),
        "{said}"
    );
}

#[test]
fn a_signed_predicate_is_held_to_its_own_vex_rules_and_verify_to_the_recipients() {
    let dir = Scratch::new();
    let home = CargoHome::new();
    let (private, public) = keygen(&home, &dir.0.path().join("supplier"));
    let out = dir.0.path().join("evidence");
    audit_with_vex(&home, &private, &out);
    let envelope: dsse::Envelope =
        serde_json::from_slice(&std::fs::read(out.join("attestation.intoto.json")).unwrap())
            .unwrap();
    let statement: Value =
        serde_json::from_slice(&dsse::decode_base64(&envelope.payload).unwrap()).unwrap();
    let key = PrivateKey::from_pem(&std::fs::read_to_string(&private).unwrap(), "test").unwrap();
    // `statement` edited, signed with the supplier's own key, verified under `policy`.
    let verify = |edit: &dyn Fn(&mut Value), policy: &str| {
        let mut edited = statement.clone();
        edit(&mut edited["predicate"]);
        let settings = serde_json::to_vec(&edited["predicate"]["policy"]["settings"]).unwrap();
        use sha2::Digest;
        edited["predicate"]["policy"]["digest"] = json!(format!(
            "sha256:{}",
            hex::encode(sha2::Sha256::digest(&settings))
        ));
        let envelope = dsse::sign(&serde_json::to_vec(&edited).unwrap(), IN_TOTO, &key).unwrap();
        let path = dir.json(
            "edited.intoto.json",
            &serde_json::to_value(&envelope).unwrap(),
        );
        let output = charter_audit(&home)
            .args([
                "verify",
                "--now",
                "2026-08-26T00:00:00Z",
                "--policy",
                policy,
                "--key",
            ])
            .arg(&public)
            .arg(&path)
            .output()
            .unwrap();
        (
            output.status.code().unwrap(),
            String::from_utf8_lossy(&output.stdout).into_owned()
                + &String::from_utf8_lossy(&output.stderr),
        )
    };
    let (code, said) = verify(&|_| {}, "nhs-charter");
    assert_eq!(code, 0, "untouched: {said}");
    // Contradicting itself: not authentic (3), whoever signed it.
    let old =
        |p: &mut Value| p["findings"]["vex_exceptions"][0]["time"] = json!("2026-01-01T00:00:00Z");
    let unjustified = |p: &mut Value| {
        let e = p["findings"]["vex_exceptions"][0].as_object_mut().unwrap();
        e.remove("justification");
        e.remove("impact");
    };
    let hidden = |p: &mut Value| {
        p["findings"]
            .as_object_mut()
            .unwrap()
            .remove("vex_exceptions");
    };
    let miscounted = |p: &mut Value| p["findings"]["excepted_by"]["configuration"] = json!(1);
    let unknown_document = |p: &mut Value| {
        p["findings"]["vex_exceptions"][0]["document"] = json!(format!("sha256:{}", "0".repeat(64)))
    };
    for (name, edit, says) in [
        (
            "old",
            &old as &dyn Fn(&mut Value),
            "more than 90 (vex.max-age)",
        ),
        ("unjustified", &unjustified, "gives no justification"),
        ("hidden", &hidden, "has no exception in force"),
        ("miscounted", &miscounted, "counted by kind of exception"),
        (
            "unknown document",
            &unknown_document,
            "a document the predicate does not record",
        ),
    ] {
        let (code, said) = verify(edit, "nhs-charter");
        assert_eq!(code, 3, "{name}: {said}");
        assert!(said.contains(says), "{name}: {said}");
    }
    // Consistent with its own looser policy, but not with the recipient's: not accepted (1).
    let own_year = |p: &mut Value| {
        p["policy"]["settings"]["vex.max-age"] = json!(365);
        p["findings"]["vex_exceptions"][0]["time"] = json!("2026-01-01T00:00:00Z");
    };
    let (code, said) = verify(&own_year, "nhs-charter");
    assert_eq!(code, 1, "{said}");
    assert!(
        said.contains("which nhs-charter does not accept: its statement was 236 days old at the evaluation, more than 90 (vex.max-age)"),
        "{said}"
    );
}

#[test]
fn a_predicate_made_before_vex_is_not_judged_by_the_vex_settings_it_could_not_record() {
    let dir = Scratch::new();
    let home = CargoHome::new();
    let (private, public) = keygen(&home, &dir.0.path().join("supplier"));
    let config = dir.0.path().join("charter-audit.toml");
    std::fs::write(
        &config,
        "[supplier]\nname = \"Example Health Ltd\"\n\n\
         [[exception]]\nid = \"RUSTSEC-2022-0013\"\nreason = \"trusted input only\"\nexpires = 2026-09-30\napproved-by = \"CISO\"\n\n\
         [[exception]]\nid = \"RUSTSEC-2021-0003\"\nreason = \"patched in our fork\"\nexpires = 2026-09-30\napproved-by = \"CISO\"\n",
    )
    .unwrap();
    let out = dir.0.path().join("evidence");
    let output = charter_audit(&home)
        .args([
            "audit",
            "--offline",
            "--now",
            "2026-08-25T00:00:00Z",
            "--lockfile",
        ])
        .arg(fixture("workspaces/demo/Cargo.lock"))
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .args(["--advisory-db-date", "2026-08-24", "--registry-index"])
        .arg(fixture("registry-index"))
        .args(["--policy", "nhs-charter-strict", "--config"])
        .arg(&config)
        .arg("--sign-key")
        .arg(&private)
        .arg("--out-dir")
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let envelope: dsse::Envelope =
        serde_json::from_slice(&std::fs::read(out.join("attestation.intoto.json")).unwrap())
            .unwrap();
    let mut statement: Value =
        serde_json::from_slice(&dsse::decode_base64(&envelope.payload).unwrap()).unwrap();
    // As an nhs-charter-strict predicate made before `[vex]` existed: no vex.* settings.
    let policy = &mut statement["predicate"]["policy"];
    let settings = policy["settings"].as_object_mut().unwrap();
    assert_eq!(settings.remove("vex.max-age"), Some(json!(30)));
    assert_eq!(settings.remove("vex.require-signed"), Some(json!(true)));
    use sha2::Digest;
    let digest = sha2::Sha256::digest(serde_json::to_vec(&policy["settings"]).unwrap());
    policy["digest"] = json!(format!("sha256:{}", hex::encode(digest)));
    let key = PrivateKey::from_pem(&std::fs::read_to_string(&private).unwrap(), "test").unwrap();
    let signed = dsse::sign(&serde_json::to_vec(&statement).unwrap(), IN_TOTO, &key).unwrap();
    let path = dir.json(
        "before-vex.intoto.json",
        &serde_json::to_value(&signed).unwrap(),
    );
    let output = charter_audit(&home)
        .args([
            "verify",
            "--now",
            "2026-08-26T00:00:00Z",
            "--policy",
            "nhs-charter-strict",
        ])
        .arg("--key")
        .arg(&public)
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}
