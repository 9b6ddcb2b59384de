//! Attestation end to end: keygen, `audit --out-dir --sign-key`, `attest`, and `verify` with
//! its exit codes, including every kind of tampering the issue lists. Envelopes for the tamper
//! cases are signed with the library's own DSSE code and real keys.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::path::{Path, PathBuf};

use base64::Engine;
use charter_audit::attest::dsse::{self, Envelope, IN_TOTO};
use charter_audit::attest::keys::PrivateKey;
use serde_json::{Value, json};
use sha2::Digest as _;
use util::{CargoHome, charter_audit, fixture};

const NOW: &str = "2026-08-25T00:00:00Z";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A key pair on disk, from `charter-audit keygen`.
fn keygen(dir: &Path, name: &str, algorithm: &str) -> (PathBuf, PathBuf) {
    let home = CargoHome::new();
    let prefix = dir.join(name);
    let output = charter_audit(&home)
        .args(["keygen", "--algorithm", algorithm, "--out"])
        .arg(&prefix)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    (prefix.with_extension("key"), prefix.with_extension("pub"))
}

/// `audit --out-dir DIR` of the demo lockfile at NOW, plus `extra`.
fn audit_into(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let home = CargoHome::new();
    let mut cmd = charter_audit(&home);
    cmd.args(["audit", "--offline", "--now", NOW, "--lockfile"])
        .arg(fixture("workspaces/demo/Cargo.lock"))
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .args(["--advisory-db-date", "2026-08-21", "--registry-index"])
        .arg(fixture("registry-index"))
        .arg("--out-dir")
        .arg(dir)
        .args(extra);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// `verify` with `args`; returns the exit code and standard output.
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

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A signed demo audit: its folder, the artifact, and the key pair.
struct Signed {
    dir: tempfile::TempDir,
    artifact: PathBuf,
    private: PathBuf,
    public: PathBuf,
}

fn signed(algorithm: &str, extra: &[&str]) -> Signed {
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = keygen(dir.path(), "release", algorithm);
    let artifact = dir.path().join("app-0.3.1.tar.gz");
    std::fs::write(&artifact, b"the release artifact").unwrap();
    let mut args = vec!["--sign-key", s(&private), "--subject", s(&artifact)];
    args.extend(extra);
    let output = audit_into(&dir.path().join("evidence"), &args, &[]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    Signed {
        dir,
        artifact,
        private,
        public,
    }
}

impl Signed {
    fn envelope(&self) -> PathBuf {
        self.dir.path().join("evidence/attestation.intoto.json")
    }
    fn sbom(&self) -> PathBuf {
        self.dir.path().join("evidence/sbom.cdx.json")
    }
    fn key(&self) -> PrivateKey {
        PrivateKey::from_pem(&std::fs::read_to_string(&self.private).unwrap(), "test").unwrap()
    }
    fn statement(&self) -> Value {
        let envelope: Envelope =
            serde_json::from_slice(&std::fs::read(self.envelope()).unwrap()).unwrap();
        serde_json::from_slice(&B64.decode(envelope.payload).unwrap()).unwrap()
    }
    /// Writes an envelope to a new file and verifies it with this key.
    fn verify_envelope(&self, envelope: &Envelope, extra: &[&str]) -> (i32, String) {
        let path = self.dir.path().join("tampered.json");
        std::fs::write(&path, serde_json::to_vec(envelope).unwrap()).unwrap();
        let mut args = vec![s(&path), "--key", s(&self.public)];
        args.extend(extra);
        verify(&args)
    }
}

#[test]
fn keygen_writes_a_private_key_only_its_owner_reads_and_never_replaces_one() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = keygen(dir.path(), "k", "ed25519");
    assert_eq!(
        std::fs::metadata(&private).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(&public).unwrap().permissions().mode() & 0o777,
        0o644
    );
    assert!(
        std::fs::read_to_string(&private)
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    let before = std::fs::read(&private).unwrap();
    let home = CargoHome::new();
    let again = charter_audit(&home)
        .args(["keygen", "--out"])
        .arg(dir.path().join("k"))
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    assert_eq!(std::fs::read(&private).unwrap(), before);
}

#[test]
fn a_signed_audit_verifies_with_both_algorithms() {
    for algorithm in ["ed25519", "ecdsa-p256"] {
        let run = signed(algorithm, &[]);
        let (code, out) = verify(&[
            s(&run.envelope()),
            "--key",
            s(&run.public),
            "--subject",
            s(&run.artifact),
            "--sbom",
            s(&run.sbom()),
        ]);
        // Authentic, but the demo's attested result is fail: exit 1.
        assert_eq!(code, 1, "{algorithm}: {out}");
        // Kept for securesystemslib's interoperability check in .ci/run.
        let samples = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dsse-samples");
        std::fs::create_dir_all(&samples).unwrap();
        std::fs::copy(
            run.envelope(),
            samples.join(format!("{algorithm}.intoto.json")),
        )
        .unwrap();
        std::fs::copy(&run.public, samples.join(format!("{algorithm}.pub"))).unwrap();
        // A throwaway test key: securesystemslib must be able to load what keygen writes.
        std::fs::copy(&run.private, samples.join(format!("{algorithm}.key"))).unwrap();
        assert!(
            out.starts_with("AUTHENTIC: signed by 1 trusted key(s)"),
            "{out}"
        );
        assert!(
            out.contains("Result: FAIL, evaluated at 2026-08-25T00:00:00Z"),
            "{out}"
        );
        assert!(
            out.contains(
                "violation (2): RUSTSEC-2022-0013 regex@1.5.4, RUSTSEC-2021-0003 smallvec@1.6.0"
            ),
            "{out}"
        );
        assert!(out.contains("  - the attested result is fail"), "{out}");

        // The statement: subjects with both digests, our predicate, the principle map.
        let statement = run.statement();
        assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
        assert_eq!(
            statement["predicateType"],
            "https://charter-audit.org/attestation/audit/v1"
        );
        let subjects = statement["subject"].as_array().unwrap();
        assert_eq!(subjects[0]["name"], "app-0.3.1.tar.gz");
        assert_eq!(subjects[0]["digest"]["sha256"].as_str().unwrap().len(), 64);
        assert_eq!(subjects[0]["digest"]["sha512"].as_str().unwrap().len(), 128);
        assert_eq!(subjects[1]["name"], "sbom.cdx.json");
        let principles = statement["predicate"]["principles"].as_array().unwrap();
        let charter_1 = principles
            .iter()
            .find(|p| p["framework"] == "nhs-cyber-security-charter" && p["id"] == "1")
            .unwrap();
        assert_eq!(
            charter_1["status"], "not-evidenced",
            "two fixes waited too long"
        );

        // The JSON Lines file: ours, the CycloneDX SBOM and the vulns findings, each signed.
        let jsonl =
            std::fs::read_to_string(run.dir.path().join("evidence/attestations.intoto.jsonl"))
                .unwrap();
        let types: Vec<String> = jsonl
            .lines()
            .map(|line| {
                let envelope: Envelope = serde_json::from_str(line).unwrap();
                let statement: Value =
                    serde_json::from_slice(&B64.decode(&envelope.payload).unwrap()).unwrap();
                statement["predicateType"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(
            types,
            [
                "https://charter-audit.org/attestation/audit/v1",
                "https://cyclonedx.org/bom",
                "https://in-toto.io/attestation/vulns/v0.2"
            ]
        );
    }
}

#[test]
fn a_passing_attestation_is_accepted_and_policy_checks_apply() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("charter-audit.toml");
    let write = |expires: &str, extra: &str| {
        std::fs::write(
            &config,
            format!(
                "[supplier]\nname = \"Example Health Ltd\"\n{extra}\n\
                 [[exception]]\nid = \"RUSTSEC-2022-0013\"\nreason = \"trusted input only\"\nexpires = {expires}\napproved-by = \"CISO\"\n\n\
                 [[exception]]\nid = \"RUSTSEC-2021-0003\"\nreason = \"patched in our fork\"\nexpires = 2026-09-30\napproved-by = \"CISO\"\n"
            ),
        )
        .unwrap();
    };
    let (private, public) = keygen(dir.path(), "k", "ed25519");
    let run = |name: &str| {
        let out = dir.path().join(name);
        let output = audit_into(
            &out,
            &["--config", s(&config), "--sign-key", s(&private)],
            &[],
        );
        (output, out.join("attestation.intoto.json"))
    };
    write("2026-09-30", "");
    let (output, envelope) = run("pass");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let (code, out) = verify(&[s(&envelope), "--key", s(&public), "--policy", "nhs-charter"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ACCEPTED: authentic, and the attested result is pass."));
    assert!(out.contains(
        "exception RUSTSEC-2022-0013 until 2026-09-30 (approved by CISO): trusted input only"
    ));
    // Too old for the recipient.
    let (code, out) = verify(&[s(&envelope), "--key", s(&public), "--max-age", "0"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("more than --max-age 0"), "{out}");
    // Another base than the one required.
    let (code, out) = verify(&[
        s(&envelope),
        "--key",
        s(&public),
        "--policy",
        "nhs-charter-strict",
    ]);
    assert_eq!(code, 1, "{out}");

    // A loosened window, and an exception running far ahead: authentic, not accepted.
    write("2027-06-30", "\n[patch-age]\nmedium = 60\n");
    let (_, envelope) = run("loosened");
    let (code, out) = verify(&[s(&envelope), "--key", s(&public), "--policy", "nhs-charter"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("patch-age.medium is 60 where nhs-charter has 30: loosened"),
        "{out}"
    );
    assert!(
        out.contains("the exception for RUSTSEC-2022-0013 runs until 2027-06-30, more than 90 days after the evaluation"),
        "{out}"
    );
}

#[test]
fn tampering_of_any_kind_is_exit_3() {
    let run = signed("ed25519", &[]);
    let original: Envelope =
        serde_json::from_slice(&std::fs::read(run.envelope()).unwrap()).unwrap();
    let payload = B64.decode(&original.payload).unwrap();
    let not_authentic = |envelope: &Envelope, extra: &[&str], why: &str| {
        let (code, out) = run.verify_envelope(envelope, extra);
        assert_eq!(code, 3, "{why}: {out}");
        assert!(out.starts_with("NOT AUTHENTIC: "), "{why}: {out}");
    };

    // One flipped bit in the payload.
    let mut flipped = payload.clone();
    flipped[40] ^= 1;
    let mut e = original.clone();
    e.payload = B64.encode(&flipped);
    not_authentic(&e, &[], "payload bit");
    // The payload type.
    let mut e = original.clone();
    e.payload_type = "application/json".to_owned();
    not_authentic(&e, &[], "payload type");
    // One flipped bit in the signature.
    let mut sig = B64.decode(&original.signatures[0].sig).unwrap();
    sig[10] ^= 1;
    let mut e = original.clone();
    e.signatures[0].sig = B64.encode(&sig);
    not_authentic(&e, &[], "signature bit");
    // The wrong key.
    let other = tempfile::tempdir().unwrap();
    let (_, wrong) = keygen(other.path(), "other", "ecdsa-p256");
    let (code, _) = verify(&[s(&run.envelope()), "--key", s(&wrong)]);
    assert_eq!(code, 3, "wrong key");
    // A different artifact.
    let (code, out) = verify(&[
        s(&run.envelope()),
        "--key",
        s(&run.public),
        "--subject",
        s(&run.public),
    ]);
    assert_eq!(code, 3, "different artifact: {out}");
    assert!(out.contains("a different artifact"));
    // A different SBOM.
    let (code, _) = verify(&[
        s(&run.envelope()),
        "--key",
        s(&run.public),
        "--sbom",
        s(&run.artifact),
    ]);
    assert_eq!(code, 3, "different SBOM");
    // Two signatures by one key do not make a threshold of two, with two trusted keys given.
    let mut e = original.clone();
    let mut second = original.signatures[0].clone();
    second.keyid = "another-key".to_owned();
    e.signatures.push(second);
    not_authentic(&e, &["--key", s(&wrong), "--threshold", "2"], "threshold");
    // The same key twice is one key: a threshold of two cannot be met, a mistake of the
    // verifier's own flags (exit 2).
    let (code, out) = run.verify_envelope(&e, &["--key", s(&run.public), "--threshold", "2"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("more than the 1 distinct key(s)"), "{out}");
    // 1,000 signatures.
    let mut e = original.clone();
    e.signatures = vec![original.signatures[0].clone(); 1_000];
    not_authentic(&e, &[], "1,000 signatures");
    // Endless input (a device has no length): read to the limit, then refused.
    let (code, out) = verify(&["/dev/zero", "--key", s(&run.public)]);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains("more than the 67108864 this verifier reads"),
        "{out}"
    );
    // Not an envelope at all.
    let path = run.dir.path().join("garbage.json");
    std::fs::write(&path, "not json").unwrap();
    let (code, _) = verify(&[s(&path), "--key", s(&run.public)]);
    assert_eq!(code, 3, "garbage");

    // Validly signed, but wrong inside: not JSON, the wrong predicate type, 10,000 subjects.
    let key = run.key();
    let sign = |payload: &[u8]| dsse::sign(payload, IN_TOTO, &key).unwrap();
    not_authentic(&sign(b"this is not JSON"), &[], "non-JSON payload");
    // A payload that reads differently to different parsers: a key given twice.
    let text = serde_json::to_string(&run.statement()).unwrap();
    let twice = text.replacen(
        "\"result\":\"fail\"",
        "\"result\":\"fail\",\"result\":\"pass\"",
        1,
    );
    assert_ne!(twice, text);
    not_authentic(&sign(twice.as_bytes()), &[], "duplicate keys");
    // Evaluated in the future: authentic, but not acceptable.
    let mut statement = run.statement();
    statement["predicate"]["evaluated_at"] = json!("2099-01-01T00:00:00Z");
    let (code, out) = run.verify_envelope(&sign(&serde_json::to_vec(&statement).unwrap()), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("claims to be evaluated at 2099-01-01T00:00:00Z, after now"),
        "{out}"
    );
    // Settings that are not the ones the recorded digest names.
    let mut statement = run.statement();
    statement["predicate"]["policy"]["settings"]["patch-age.critical"] = json!(400);
    not_authentic(
        &sign(&serde_json::to_vec(&statement).unwrap()),
        &[],
        "policy settings edited",
    );
    // A predicate without its result or evaluation time does not parse as ours.
    for (field, value) in [
        ("result", Value::Null),
        ("result", json!("maybe")),
        ("evaluated_at", Value::Null),
        ("evaluated_at", json!("last tuesday")),
    ] {
        let mut statement = run.statement();
        statement["predicate"][field] = value.clone();
        let (code, out) = run.verify_envelope(&sign(&serde_json::to_vec(&statement).unwrap()), &[]);
        assert_eq!(code, 3, "{field} = {value}: {out}");
        assert!(out.contains("the statement does not parse"), "{out}");
    }
    let mut statement = run.statement();
    statement["predicateType"] = json!("https://slsa.dev/provenance/v1");
    not_authentic(
        &sign(&serde_json::to_vec(&statement).unwrap()),
        &[],
        "predicate type",
    );
    let mut statement = run.statement();
    statement["subject"] = json!(
        (0..10_000)
            .map(|i| json!({"name": format!("f{i}"), "digest": {"sha256": format!("{i:064x}")}}))
            .collect::<Vec<_>>()
    );
    not_authentic(
        &sign(&serde_json::to_vec(&statement).unwrap()),
        &[],
        "10,000 subjects",
    );
}

#[test]
fn key_ids_are_hints_and_url_safe_base64_reads() {
    let run = signed("ecdsa-p256", &[]);
    let mut e: Envelope = serde_json::from_slice(&std::fs::read(run.envelope()).unwrap()).unwrap();
    // A good signature under a wrong key id still verifies: the id never decides trust.
    e.signatures[0].keyid = "0000".to_owned();
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    e.payload = url.encode(B64.decode(&e.payload).unwrap());
    e.signatures[0].sig = url.encode(B64.decode(&e.signatures[0].sig).unwrap());
    let (code, out) = run.verify_envelope(&e, &[]);
    assert_eq!(code, 1, "authentic (its result is fail): {out}");
    assert!(out.starts_with("AUTHENTIC"), "{out}");
}

#[test]
fn the_signing_key_never_appears_in_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let (private, _) = keygen(dir.path(), "k", "ed25519");
    let pem = std::fs::read_to_string(&private).unwrap();
    let body = pem.lines().nth(1).unwrap().to_owned();
    let out = dir.path().join("evidence");
    let output = audit_into(&out, &[], &[("CHARTER_AUDIT_SIGNING_KEY", &pem)]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        out.join("attestation.intoto.json").exists(),
        "signed from the variable"
    );
    let mut everything = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    for entry in std::fs::read_dir(&out).unwrap() {
        everything += &std::fs::read_to_string(entry.unwrap().path()).unwrap();
    }
    assert!(!everything.contains(&body));
    // A broken key: the error names where it came from, never what is in it.
    let broken = pem.replace(&body[..8], "AAAAAAAA");
    let output = audit_into(
        &dir.path().join("broken"),
        &[],
        &[("CHARTER_AUDIT_SIGNING_KEY", &broken)],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("CHARTER_AUDIT_SIGNING_KEY: not a PKCS#8 PEM private key"),
        "{stderr}"
    );
    assert!(!stderr.contains(&body[8..]));
    assert!(!dir.path().join("broken").exists(), "nothing written");
}

fn signed_statement_cyclonedx_name(statement: &Value) -> &str {
    statement["predicate"]["cyclonedx_attestation"]["name"]
        .as_str()
        .unwrap()
}

#[test]
fn attest_makes_the_same_statement_from_the_files_and_unsigned_for_keyless_signing() {
    let run = signed("ed25519", &[]);
    let evidence = run.dir.path().join("evidence");
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .args(["attest", "--unsigned", "--report"])
        .arg(evidence.join("report.json"))
        .arg("--sbom")
        .arg(evidence.join("sbom.cdx.json"))
        .arg("--subject")
        .arg(&run.artifact)
        .arg("--cyclonedx")
        .arg(run.dir.path().join("keyless.cdx.json"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let mut unsigned: Value = serde_json::from_slice(&output.stdout).unwrap();
    // attest writes the CycloneDX attestation where it is told, and records it by that name.
    let cyclonedx = std::fs::read(run.dir.path().join("keyless.cdx.json")).unwrap();
    let recorded = &unsigned["predicate"]["cyclonedx_attestation"];
    assert_eq!(recorded["name"], "keyless.cdx.json");
    assert_eq!(
        recorded["digest"]["sha256"],
        hex::encode(sha2::Sha256::digest(&cyclonedx)).as_str()
    );
    assert_eq!(
        signed_statement_cyclonedx_name(&run.statement()),
        "attestation.cdx.json"
    );
    let mut signed = run.statement();
    // The same statement, but for provision 3.1: unsigned, it is only partly evidenced.
    let status_of_3_1 = |statement: &Value| {
        statement["predicate"]["principles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == "3.1")
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status_of_3_1(&signed), "evidenced");
    assert_eq!(status_of_3_1(&unsigned), "partial");
    unsigned["predicate"]["principles"] = Value::Null;
    signed["predicate"]["principles"] = Value::Null;
    // attest has report.json to record, not the HTML.
    assert_eq!(
        unsigned["predicate"]["reports"].as_array().unwrap().len(),
        1
    );
    assert_eq!(signed["predicate"]["reports"].as_array().unwrap().len(), 2);
    unsigned["predicate"]["reports"] = Value::Null;
    signed["predicate"]["reports"] = Value::Null;
    // The CycloneDX attestations differ as the maps do (3.1), and name their statements.
    unsigned["predicate"]["cyclonedx_attestation"] = Value::Null;
    signed["predicate"]["cyclonedx_attestation"] = Value::Null;
    // The audit records the VEX documents it wrote; attest, from a report alone, none.
    assert!(unsigned["predicate"].get("vex_outputs").is_none());
    assert_eq!(
        signed["predicate"]["vex_outputs"].as_array().unwrap().len(),
        2
    );
    signed.as_object_mut().unwrap()["predicate"]
        .as_object_mut()
        .unwrap()
        .remove("vex_outputs");
    assert_eq!(unsigned, signed);

    // Without a key, attest says how to give one.
    let output = charter_audit(&home)
        .args(["attest", "--report"])
        .arg(evidence.join("report.json"))
        .arg("--sbom")
        .arg(evidence.join("sbom.cdx.json"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("no signing key: pass --sign-key FILE")
    );
}

#[test]
fn subjects_without_a_key_are_refused_rather_than_left_unattested() {
    let dir = tempfile::tempdir().unwrap();
    let artifact = dir.path().join("app");
    std::fs::write(&artifact, b"x").unwrap();
    let out = dir.path().join("evidence");
    let output = audit_into(&out, &["--subject", s(&artifact)], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("there is no signing key"),
        "{output:?}"
    );
    assert!(!out.exists(), "nothing written");
}

#[test]
fn as_many_subjects_as_a_verifier_reads_and_never_more() {
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = keygen(dir.path(), "release", "ed25519");
    let artifacts = dir.path().join("artifacts");
    std::fs::create_dir(&artifacts).unwrap();
    let paths: Vec<String> = (0..1000)
        .map(|i| {
            let path = artifacts.join(format!("part-{i:04}"));
            std::fs::write(&path, i.to_string()).unwrap();
            path.to_string_lossy().into_owned()
        })
        .collect();
    let args = |count: usize| {
        let mut args = vec!["--sign-key", s(&private)];
        for path in &paths[..count] {
            args.extend(["--subject", path.as_str()]);
        }
        args
    };
    // 999 artifacts and the SBOM: what the verifier reads, so it is signed and verifies.
    let fits = dir.path().join("fits");
    let output = audit_into(&fits, &args(999), &[]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let (code, out) = verify(&[
        s(&fits.join("attestation.intoto.json")),
        "--key",
        s(&public),
    ]);
    assert_eq!(code, 1, "{out}");
    // One more would make an attestation its own verifier refuses: refused before any work.
    let over = dir.path().join("over");
    let output = audit_into(&over, &args(1000), &[]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("--subject is given 1000 times, more than the 999"),
        "{output:?}"
    );
    assert!(!over.exists(), "nothing written");
}

#[test]
fn a_key_in_the_environment_leaves_a_plain_audit_alone() {
    // CI exports the secret to the whole job; a SARIF step with no --out-dir must still run.
    let dir = tempfile::tempdir().unwrap();
    let (private, _) = keygen(dir.path(), "release", "ed25519");
    let pem = std::fs::read_to_string(&private).unwrap();
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .current_dir(dir.path())
        .args(["audit", "--offline", "--now", NOW, "--format", "sarif"])
        .arg("--lockfile")
        .arg(fixture("workspaces/demo/Cargo.lock"))
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .args(["--advisory-db-date", "2026-08-21", "--registry-index"])
        .arg(fixture("registry-index"))
        .env("CHARTER_AUDIT_SIGNING_KEY", &pem)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let sarif: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .contains("CHARTER_AUDIT_SIGNING_KEY is set, but nothing is signed without --out-dir"),
        "{stderr}"
    );
    assert!(!stderr.contains(pem.trim()), "the key is never shown");
    let written: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(written.len(), 2, "only the key pair: {written:?}");
}

/// Every line `verify` prints, whole: the summary of what is attested (supplier, verdicts,
/// sources, coverage, overrides, exceptions), the bundle's own key, and each concern in order,
/// so that moving the decisions and the wording apart changes no byte of it.
#[test]
fn verify_words_what_it_found_line_for_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("charter-audit.toml");
    std::fs::write(
        &config,
        "[supplier]\nname = \"Example Health Ltd\"\n\n[patch-age]\nmedium = 60\n\n\
         [[exception]]\nid = \"RUSTSEC-2022-0013\"\nreason = \"trusted input only\"\nexpires = 2027-06-30\napproved-by = \"CISO\"\n\n\
         [[exception]]\nid = \"RUSTSEC-2021-0003\"\nreason = \"patched in our fork\"\nexpires = 2026-09-30\napproved-by = \"CISO\"\n",
    )
    .unwrap();
    let (private, public) = keygen(dir.path(), "k", "ed25519");
    let (_, other) = keygen(dir.path(), "other", "ed25519");
    let evidence = dir.path().join("evidence");
    let output = audit_into(
        &evidence,
        &["--config", s(&config), "--sign-key", s(&private)],
        &[],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let bundle = dir.path().join("submission.tar.gz");
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .args(["bundle", "--out-dir", s(&evidence), "-o", s(&bundle)])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let envelope = evidence.join("attestation.intoto.json");
    let (envelope, public, other) = (s(&envelope), s(&public), s(&other));
    let now = "2026-08-26T00:00:00Z";
    let mut text = String::new();
    for (what, args) in [
        (
            "a bundle, under a required policy, from a source not accepted",
            vec![
                "--bundle",
                s(&bundle),
                "--key",
                public,
                "--now",
                now,
                "--policy",
                "nhs-charter",
                "--accept-source",
                "https://example.org/advisory-db",
            ],
        ),
        (
            "too old",
            vec![
                envelope,
                "--key",
                public,
                "--now",
                "2026-09-30T00:00:00Z",
                "--max-age",
                "0",
            ],
        ),
        (
            "evaluated after now",
            vec![envelope, "--key", public, "--now", "2026-08-01T00:00:00Z"],
        ),
        ("another key", vec![envelope, "--key", other, "--now", now]),
    ] {
        let output = charter_audit(&home)
            .arg("verify")
            .args(&args)
            .output()
            .unwrap();
        text.push_str(&format!(
            "== {what}: exit {}\n{}{}",
            output.status.code().unwrap(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    insta::with_settings!({filters => vec![
        (r"[0-9a-f]{64}", "[HEX64]"),
    ]}, {
        insta::assert_snapshot!("verify_words_what_it_found", text);
    });
}
