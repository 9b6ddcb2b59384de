//! `verify` reads what a predicate says as the types `attest` writes, against the published
//! schema, and refuses one that contradicts itself (exit 3) even when the supplier's own key
//! signed it; under `--policy` a setting it cannot judge is never accepted; `--accept-source`
//! restricts the advisory sources a recipient trusts; artifacts are digested as they stream.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::path::{Path, PathBuf};

use base64::Engine;
use charter_audit::attest::dsse::{self, Envelope, IN_TOTO};
use charter_audit::attest::keys::PrivateKey;
use charter_audit::attest::predicate::{self, Predicate};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use util::{CargoHome, charter_audit, fixture};

const NOW: &str = "2026-08-25T00:00:00Z";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A signed audit of the demo lockfile, passing (both violations excepted) or failing.
struct Run {
    dir: tempfile::TempDir,
    private: PathBuf,
    public: PathBuf,
}

impl Run {
    fn new(passing: bool) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let home = CargoHome::new();
        let prefix = dir.path().join("k");
        let output = charter_audit(&home)
            .args(["keygen", "--algorithm", "ed25519", "--out"])
            .arg(&prefix)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let config = dir.path().join("charter-audit.toml");
        let exceptions = "[[exception]]\nid = \"RUSTSEC-2022-0013\"\nreason = \"trusted input only\"\nexpires = 2026-09-30\napproved-by = \"CISO\"\n\n\
             [[exception]]\nid = \"RUSTSEC-2021-0003\"\nreason = \"patched in our fork\"\nexpires = 2026-09-30\napproved-by = \"CISO\"\n";
        std::fs::write(
            &config,
            format!(
                "[supplier]\nname = \"Example Health Ltd\"\n{}",
                if passing { exceptions } else { "" }
            ),
        )
        .unwrap();
        let output = charter_audit(&home)
            .args(["audit", "--offline", "--now", NOW, "--lockfile"])
            .arg(fixture("workspaces/demo/Cargo.lock"))
            .arg("--advisory-db")
            .arg(fixture("advisories/rustsec"))
            .args(["--advisory-db-date", "2026-08-21", "--registry-index"])
            .arg(fixture("registry-index"))
            .arg("--config")
            .arg(&config)
            .arg("--sign-key")
            .arg(prefix.with_extension("key"))
            .arg("--out-dir")
            .arg(dir.path().join("evidence"))
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(if passing { 0 } else { 1 }),
            "{output:?}"
        );
        Run {
            private: prefix.with_extension("key"),
            public: prefix.with_extension("pub"),
            dir,
        }
    }

    fn evidence(&self, name: &str) -> PathBuf {
        self.dir.path().join("evidence").join(name)
    }

    fn payload(&self) -> Vec<u8> {
        let envelope: Envelope = serde_json::from_slice(
            &std::fs::read(self.evidence("attestation.intoto.json")).unwrap(),
        )
        .unwrap();
        B64.decode(envelope.payload).unwrap()
    }

    fn statement(&self) -> Value {
        serde_json::from_slice(&self.payload()).unwrap()
    }

    /// `statement` signed with the supplier's own key, then verified with `extra`.
    fn verify_signed(&self, statement: &Value, extra: &[&str]) -> (i32, String) {
        let key =
            PrivateKey::from_pem(&std::fs::read_to_string(&self.private).unwrap(), "test").unwrap();
        let envelope = dsse::sign(&serde_json::to_vec(statement).unwrap(), IN_TOTO, &key).unwrap();
        let path = self.dir.path().join("signed-by-hand.json");
        std::fs::write(&path, serde_json::to_vec(&envelope).unwrap()).unwrap();
        let mut args = vec![s(&path).to_owned()];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        self.verify(&args)
    }

    fn verify(&self, args: &[String]) -> (i32, String) {
        let home = CargoHome::new();
        let output = charter_audit(&home)
            .arg("verify")
            .args(args)
            .args(["--key", s(&self.public), "--now", "2026-08-26T00:00:00Z"])
            .output()
            .unwrap();
        (
            output.status.code().unwrap(),
            String::from_utf8_lossy(&output.stdout).into_owned()
                + &String::from_utf8_lossy(&output.stderr),
        )
    }
}

/// Records the digest of edited settings, as an audit would, so only the edit is judged.
fn redigest(statement: &mut Value) {
    let settings = serde_json::to_vec(&statement["predicate"]["policy"]["settings"]).unwrap();
    statement["predicate"]["policy"]["digest"] =
        json!(format!("sha256:{}", hex::encode(Sha256::digest(&settings))));
}

#[test]
fn the_typed_predicate_reads_back_exactly_what_attest_signs() {
    for passing in [true, false] {
        let run = Run::new(passing);
        let statement = run.statement();
        let signed = &statement["predicate"];
        predicate::validate(signed).unwrap();
        let typed: Predicate = predicate::read(signed).unwrap();
        // Written again, the types give the very bytes that were signed.
        let again = serde_json::to_value(&typed).unwrap();
        assert_eq!(
            serde_json::to_vec(&again).unwrap(),
            serde_json::to_vec(signed).unwrap()
        );
        let payload = String::from_utf8(run.payload()).unwrap();
        assert!(payload.contains(&serde_json::to_string(&again).unwrap()));
        // The audit says which target it judged (a lockfile: every one); a predicate made
        // before `target` was recorded still reads.
        assert_eq!(signed["target"], "all");
        let mut without_target = signed.clone();
        without_target.as_object_mut().unwrap().remove("target");
        assert_eq!(predicate::read(&without_target).unwrap().target, None);
        let mut with_target = signed.clone();
        with_target["target"] = json!("x86_64-unknown-linux-gnu");
        assert_eq!(
            predicate::read(&with_target).unwrap().target.as_deref(),
            Some("x86_64-unknown-linux-gnu")
        );
        with_target["target"] = json!("");
        assert!(predicate::read(&with_target).is_err());
    }
}

#[test]
fn a_signed_predicate_that_contradicts_itself_is_not_authentic() {
    let run = Run::new(true);
    let (code, out) = run.verify(&[
        s(&run.evidence("attestation.intoto.json")).to_owned(),
        "--policy".to_owned(),
        "nhs-charter".to_owned(),
    ]);
    assert_eq!(code, 0, "the untouched attestation is accepted: {out}");

    let far = json!({"id": "RUSTSEC-2022-0013", "package": null, "version": null,
        "reason": "r", "expires": "2099-12-31", "approved_by": "CISO"});
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "exceptions as an object",
            Box::new({
                let far = far.clone();
                move |p: &mut Value| p["policy"]["exceptions"] = json!({"RUSTSEC-2022-0013": far})
            }),
            "does not parse as our predicate",
        ),
        (
            "exceptions as null",
            Box::new(|p: &mut Value| p["policy"]["exceptions"] = Value::Null),
            "does not parse as our predicate",
        ),
        (
            "exceptions nested in a list",
            Box::new({
                let far = far.clone();
                move |p: &mut Value| p["policy"]["exceptions"] = json!([[far]])
            }),
            "does not parse as our predicate",
        ),
        (
            "exceptions emptied while findings are excepted",
            Box::new(|p: &mut Value| p["policy"]["exceptions"] = json!([])),
            "has no exception in force that covers it",
        ),
        (
            "an exception that is not a date",
            Box::new(|p: &mut Value| p["policy"]["exceptions"][0]["expires"] = json!("someday")),
            "does not parse as our predicate",
        ),
        (
            "pass with its own violations listed",
            Box::new(|p: &mut Value| {
                p["findings"]["ids"]["violation"] = json!(["RUSTSEC-2022-0013 regex@1.5.4"]);
                p["findings"]["by_verdict_and_severity"]["violation"] = json!({"critical": 1});
                p["findings"]["summary"]["violation"] = json!(1);
            }),
            "its result is pass with 1 violation(s) listed",
        ),
        (
            "pass with a violation counted but not listed",
            Box::new(|p: &mut Value| p["findings"]["summary"]["violation"] = json!(3)),
            "its result is pass with 3 violation(s) listed",
        ),
        (
            "counts that are not the list",
            Box::new(|p: &mut Value| {
                p["findings"]["by_verdict_and_severity"]["warning"]["unsound"] = json!(7)
            }),
            "by severity and lists",
        ),
        (
            "a verdict predicate v1 does not have",
            Box::new(|p: &mut Value| p["findings"]["ids"]["waived"] = json!(["X a@1"])),
            "does not parse as our predicate",
        ),
        (
            "a setting of the wrong kind",
            Box::new(|p: &mut Value| {
                p["policy"]["settings"]["patch-age.critical"] = json!("never")
            }),
            "does not parse as our predicate",
        ),
        (
            "an override that is not its setting",
            Box::new(|p: &mut Value| {
                p["policy"]["overrides"] = json!([{"setting": "patch-age.critical", "base": 14,
                    "value": 5, "direction": "tightening"}]);
            }),
            "is not the value its settings record",
        ),
        (
            "a VEX document recorded twice",
            Box::new(|p: &mut Value| {
                let first = p["vex_outputs"][0].clone();
                let mut other = first.clone();
                other["digest"]["sha256"] = json!("00".repeat(32));
                p["vex_outputs"] = json!([first, other]);
            }),
            "it records the VEX document `vex.openvex.json` twice",
        ),
        (
            "a binary holding a package its SBOM lacks, with the result pass",
            Box::new(|p: &mut Value| {
                p["binaries"] = json!([{"subject": "app", "product": "app 1.0.0",
                    "result": "differs",
                    "normal": {"only_in_binary": ["evil 1.0.0 (crates.io)"], "only_in_sbom": []},
                    "build": {"only_in_binary": [], "only_in_sbom": []}}]);
            }),
            "holds packages the SBOM does not list, but the result is pass",
        ),
        (
            "a binary recorded exact with differences listed",
            Box::new(|p: &mut Value| {
                p["binaries"] = json!([{"subject": "app", "product": null, "result": "exact",
                    "normal": {"only_in_binary": [], "only_in_sbom": ["old 1.0.0 (crates.io)"]},
                    "build": {"only_in_binary": [], "only_in_sbom": []}}]);
            }),
            "is `exact` but lists 1 difference(s)",
        ),
    ];
    for (what, edit, expect) in cases {
        let mut statement = run.statement();
        edit(&mut statement["predicate"]);
        redigest(&mut statement);
        for extra in [&[][..], &["--policy", "nhs-charter"][..]] {
            let (code, out) = run.verify_signed(&statement, extra);
            assert_eq!(code, 3, "{what} {extra:?}: {out}");
            assert!(out.starts_with("NOT AUTHENTIC: "), "{what}: {out}");
            assert!(out.contains(expect), "{what}: {out}");
        }
    }
}

#[test]
fn a_setting_the_verifier_cannot_judge_is_not_accepted_under_a_required_policy() {
    let run = Run::new(true);
    for (what, edit) in [
        (
            "unknown",
            Box::new(|s: &mut Value| s["patch-age.negligible"] = json!(10000))
                as Box<dyn Fn(&mut Value)>,
        ),
        (
            "missing",
            Box::new(|s: &mut Value| {
                s.as_object_mut().unwrap().remove("patch-age.critical");
            }),
        ),
    ] {
        let mut statement = run.statement();
        edit(&mut statement["predicate"]["policy"]["settings"]);
        redigest(&mut statement);
        // Authentic, and acceptable to a recipient who requires no policy...
        let (code, out) = run.verify_signed(&statement, &[]);
        assert_eq!(code, 0, "{what}: {out}");
        // ...but never read as a pass under one.
        let (code, out) = run.verify_signed(&statement, &["--policy", "nhs-charter"]);
        assert_eq!(code, 1, "{what}: {out}");
        assert!(out.contains("AUTHENTIC, BUT NOT ACCEPTED"), "{what}: {out}");
        assert!(out.contains("it cannot be judged"), "{what}: {out}");
    }
}

#[test]
fn a_later_versions_additions_are_ignored_and_never_read_as_a_pass() {
    let run = Run::new(false);
    let mut statement = run.statement();
    let p = &mut statement["predicate"];
    p["outcome"] = json!("pass");
    p["findings"]["verdict"] = json!("pass");
    p["policy"]["waivers"] = json!(["everything"]);
    let (code, out) = run.verify_signed(&statement, &["--policy", "nhs-charter"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("the attested result is fail"), "{out}");
}

#[test]
fn a_source_the_recipient_does_not_accept_is_authentic_but_not_accepted() {
    let run = Run::new(true);
    let envelope = s(&run.evidence("attestation.intoto.json")).to_owned();
    let cited = run.statement()["predicate"]["sources"][0]["uri"]
        .as_str()
        .unwrap()
        .to_owned();
    let args = |accepted: &[&str]| {
        let mut args = vec![envelope.clone()];
        for uri in accepted {
            args.extend(["--accept-source".to_owned(), (*uri).to_owned()]);
        }
        args
    };
    let (code, out) = run.verify(&args(&["https://api.osv.dev"]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("AUTHENTIC, BUT NOT ACCEPTED"), "{out}");
    assert!(
        out.contains(&format!(
            "it cites the advisory source rustsec ({cited}), which is not one you accept"
        )),
        "{out}"
    );
    let (code, out) = run.verify(&args(&["https://api.osv.dev", &cited]));
    assert_eq!(code, 0, "{out}");
    // No list: every source the audit named is accepted, as before.
    let (code, out) = run.verify(&args(&[]));
    assert_eq!(code, 0, "{out}");
}

/// Runs the binary under bash with the address space capped at `mib` MiB.
fn capped(mib: u64, args: &[&str]) -> std::process::Output {
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "ulimit -v {}; exec '{}' {}",
            mib * 1024,
            env!("CARGO_BIN_EXE_charter-audit"),
            quoted.join(" ")
        ))
        .env("HOME", std::env::temp_dir())
        .output()
        .unwrap()
}

#[test]
fn an_artifact_larger_than_the_memory_allowed_is_attested_and_verified() {
    let run = Run::new(true);
    let dir = run.dir.path();
    // 160 MiB, sparse (nothing written to disk), under a 128 MiB address space.
    let artifact = dir.join("app.img");
    let file = std::fs::File::create(&artifact).unwrap();
    file.set_len(160 << 20).unwrap();
    drop(file);
    let envelope = dir.join("attested.json");
    let output = capped(
        128,
        &[
            "attest",
            "--sign-key",
            s(&run.private),
            "--report",
            s(&run.evidence("report.json")),
            "--sbom",
            s(&run.evidence("sbom.cdx.json")),
            "--subject",
            s(&artifact),
            "-o",
            s(&envelope),
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let verify = |artifact: &Path| {
        capped(
            128,
            &[
                "verify",
                s(&envelope),
                "--key",
                s(&run.public),
                "--subject",
                s(artifact),
                "--now",
                "2026-08-26T00:00:00Z",
            ],
        )
    };
    let output = verify(&artifact);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    // One byte more is another artifact.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&artifact)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"x"))
        .unwrap();
    let output = verify(&artifact);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("a different artifact"));
}

/// Any JSON: the values a hostile predicate may hold where ours are.
fn any_json() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(vec![
            "pass",
            "fail",
            "violation",
            "warning",
            "excepted",
            "info",
            "2099-12-31",
            "2026-08-25T00:00:00Z",
            "",
            "RUSTSEC-2022-0013 regex@1.5.4",
        ])
        .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "id",
                    "expires",
                    "violation",
                    "excepted",
                    "warning",
                    "info",
                    "critical",
                    "name",
                    "uri",
                    "patch-age.critical",
                    "x",
                ])
                .prop_map(str::to_owned),
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn any_value_in_any_field_of_a_predicate_is_read_or_refused_never_a_panic_or_a_false_pass() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let run = Run::new(true);
    let original = run.statement()["predicate"].clone();
    let fields = vec![
        "/result",
        "/evaluated_at",
        "/target",
        "/product",
        "/supplier",
        "/sources",
        "/sources/0/uri",
        "/registry",
        "/coverage",
        "/coverage/unchecked",
        "/policy/settings",
        "/policy/settings/patch-age.critical",
        "/policy/overrides",
        "/policy/exceptions",
        "/policy/exceptions/0",
        "/policy/exceptions/0/expires",
        "/findings",
        "/findings/ids",
        "/findings/ids/excepted",
        "/findings/summary",
        "/findings/summary/violation",
        "/findings/by_verdict_and_severity",
        "/findings/rule_findings",
        "/builder",
        "/principles",
        "/reports",
    ];
    let mut runner = TestRunner::new(Config {
        cases: 512,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &(prop::collection::vec((prop::sample::select(fields), any_json()), 1..4)),
            |edits| {
                let mut p = original.clone();
                for (field, value) in edits {
                    if let Some(slot) = p.pointer_mut(field) {
                        *slot = value;
                    }
                }
                if let Ok(typed) = predicate::read(&p)
                    && charter_audit::attest::consistency::check(&typed).is_ok()
                    && typed.result == predicate::Outcome::Pass
                {
                    // What verify accepts as a pass lists no violation anywhere.
                    prop_assert_eq!(
                        typed
                            .findings
                            .summary
                            .get("violation")
                            .copied()
                            .unwrap_or(0),
                        0
                    );
                    prop_assert!(
                        !typed.findings.ids.contains_key("violation")
                            || typed.findings.ids["violation"].is_empty()
                    );
                    prop_assert!(
                        typed
                            .findings
                            .rule_findings
                            .iter()
                            .all(|r| r.verdict != "violation")
                    );
                }
                Ok(())
            },
        )
        .unwrap();
}
