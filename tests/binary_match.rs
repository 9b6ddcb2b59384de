//! The SBOM checked against the binary it claims to describe: by the supplier (`audit` and
//! `attest` with `--subject` binaries that carry the list cargo auditable embeds; the rule
//! `sbom-binary-match`; the predicate's `binaries`) and by the recipient (`verify`, which
//! reads the binary itself, whatever the attestation says).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::path::{Path, PathBuf};

use util::{CargoHome, NOW, charter_audit, fixture, keygen};

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn binary(name: &str) -> PathBuf {
    fixture(&format!("binaries/{name}"))
}

/// One signed audit of the demo workspace (cargo metadata, host target) with `subject` as the
/// release artifact: its exit code, report and evidence folder.
struct Audited {
    home: CargoHome,
    dir: tempfile::TempDir,
    code: i32,
    stderr: String,
    report: serde_json::Value,
    public: PathBuf,
}

impl Audited {
    fn evidence(&self, name: &str) -> PathBuf {
        self.dir.path().join("out").join(name)
    }

    fn predicate(&self) -> serde_json::Value {
        let envelope: serde_json::Value = serde_json::from_slice(
            &std::fs::read(self.evidence("attestation.intoto.json")).unwrap(),
        )
        .unwrap();
        use base64::Engine as _;
        let payload = base64::engine::general_purpose::STANDARD
            .decode(envelope["payload"].as_str().unwrap())
            .unwrap();
        let statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        statement["predicate"].clone()
    }

    fn rule(&self, verdict: &str) -> Vec<String> {
        self.report["rule_findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["rule"] == "sbom-binary-match" && r["verdict"] == verdict)
            .map(|r| r["message"].as_str().unwrap().to_owned())
            .collect()
    }
}

fn audited(subject: &Path) -> Audited {
    let home = CargoHome::new();
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = keygen(&home, &dir.path().join("release"));
    let out = dir.path().join("out");
    let output = charter_audit(&home)
        .args(["audit", "--offline", "--format", "json", "--now", NOW])
        .args(["--manifest-path", s(&fixture("workspaces/demo/Cargo.toml"))])
        .args(["--registry-index", s(&fixture("registry-index"))])
        .args([
            "--advisory-db",
            s(&fixture("cargo-audit/advisory-db/rustsec")),
        ])
        .args(["--advisory-db-date", "2026-08-31"])
        .args(["--out-dir", s(&out), "--sign-key", s(&private)])
        .args(["--subject", s(subject)])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let code = output.status.code().unwrap();
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    Audited {
        report: serde_json::from_slice(&output.stdout).unwrap(),
        home,
        dir,
        code,
        stderr,
        public,
    }
}

#[test]
fn the_binary_built_from_the_workspace_matches_its_sbom_exactly() {
    let run = audited(&binary("demo-app.elf"));
    let recorded = &run.report["binaries"][0];
    assert_eq!(recorded["subject"], "demo-app.elf");
    assert_eq!(recorded["product"], "demo-app 0.3.1");
    assert_eq!(recorded["result"], "exact", "{recorded}");
    assert!(run.rule("violation").is_empty() && run.rule("warning").is_empty());
    assert_eq!(run.rule("info").len(), 1);
    // The predicate records the result for the subject.
    let predicate = run.predicate();
    assert_eq!(predicate["binaries"][0]["result"], "exact");
    assert_eq!(predicate["binaries"][0]["subject"], "demo-app.elf");
}

#[test]
fn a_tampered_binary_is_caught_by_the_audit() {
    let run = audited(&binary("demo-app-tampered.elf"));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.report["result"], "fail");
    let recorded = &run.report["binaries"][0];
    assert_eq!(recorded["result"], "differs");
    assert_eq!(
        recorded["normal"]["only_in_binary"],
        serde_json::json!(["smallvec 1.6.1 (crates.io)"])
    );
    assert_eq!(
        recorded["normal"]["only_in_sbom"],
        serde_json::json!(["smallvec 1.6.0 (crates.io)"])
    );
    assert_eq!(recorded["build"]["only_in_binary"], serde_json::json!([]));
    let violations = run.rule("violation");
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(
        violations[0].contains("smallvec 1.6.1 (crates.io)"),
        "{violations:?}"
    );
    assert_eq!(run.rule("warning").len(), 1);
    let predicate = run.predicate();
    assert_eq!(predicate["binaries"][0]["result"], "differs");
    assert_eq!(predicate["result"], "fail");
}

#[test]
fn another_products_binary_is_caught_by_the_audit() {
    let run = audited(&binary("other-product.elf"));
    let recorded = &run.report["binaries"][0];
    assert_eq!(recorded["product"], "other-product 1.0.0");
    assert_eq!(
        recorded["normal"]["only_in_binary"],
        serde_json::json!(["other-product 1.0.0 (path)"])
    );
    // What the demo's SBOM lists and the other product lacks, cc (build) among it.
    assert!(
        recorded["build"]["only_in_sbom"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("cc 1.0.72 (crates.io)"))
    );
    let violations = run.rule("violation");
    assert!(
        violations[0].contains("built as other-product 1.0.0"),
        "{violations:?}"
    );
    assert_eq!(run.report["result"], "fail");
}

#[test]
fn attest_refuses_a_binary_its_sbom_does_not_describe() {
    // The SBOM and report of the exact run, attested again with the tampered binary.
    let run = audited(&binary("demo-app.elf"));
    let dir = run.dir.path();
    let key = dir.join("release.key");
    let out = dir.join("again.intoto.json");
    let attest = |subject: &Path| {
        charter_audit(&run.home)
            .args(["attest", "--sign-key", s(&key)])
            .args(["--report", s(&run.evidence("report.json"))])
            .args(["--sbom", s(&run.evidence("sbom.cdx.json"))])
            .args(["--subject", s(subject), "-o", s(&out)])
            .output()
            .unwrap()
    };
    let output = attest(&binary("demo-app-tampered.elf"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("smallvec 1.6.1 (crates.io) (normal) is compiled in, but not in the SBOM"),
        "{stderr}"
    );
    assert!(stderr.contains("not attested"), "{stderr}");
    assert!(!out.exists(), "nothing is written");
    // The binary the SBOM describes is attested, with the result recorded.
    let output = attest(&binary("demo-app.elf"));
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(out.exists());
    // An executable larger than a binary is read is attested by its digests (streamed), and
    // said not to be compared.
    let huge = dir.join("huge-app");
    let file = std::fs::File::create(&huge).unwrap();
    std::io::Write::write_all(&mut &file, b"\x7fELF\x02\x01").unwrap();
    file.set_len(600 << 20).unwrap();
    drop(file);
    std::fs::remove_file(&out).unwrap();
    let output = attest(&huge);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("huge-app: cannot read it: larger than 536870912 bytes"),
        "{stderr}"
    );
    assert!(
        stderr.contains("was not compared with the SBOM"),
        "{stderr}"
    );
    assert!(out.exists());
}

impl Audited {
    /// `verify` of this run's attestation (or, with `bundle`, of a bundle of its evidence)
    /// with `subject` as the binary received: exit code and standard output.
    fn verify(&self, subject: &Path, bundle: bool) -> (i32, String) {
        let mut cmd = charter_audit(&self.home);
        cmd.args(["verify", "--key", s(&self.public), "--now", NOW]);
        if bundle {
            let packed = self.dir.path().join("submission.tar.gz");
            if !packed.exists() {
                let output = charter_audit(&self.home)
                    .args(["bundle", "--out-dir", s(&self.dir.path().join("out"))])
                    .args(["-o", s(&packed)])
                    .output()
                    .unwrap();
                assert!(output.status.success(), "{output:?}");
            }
            cmd.args(["--bundle", s(&packed)]);
        } else {
            cmd.arg(self.evidence("attestation.intoto.json"))
                .args(["--sbom", s(&self.evidence("sbom.cdx.json"))]);
        }
        let output = cmd.args(["--subject", s(subject)]).output().unwrap();
        (
            output.status.code().unwrap(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    }
}

#[test]
fn the_recipient_reads_the_binary_itself() {
    // Exact: said so, and nothing stands against it on that account.
    let run = audited(&binary("demo-app.elf"));
    for bundle in [false, true] {
        let (code, out) = run.verify(&binary("demo-app.elf"), bundle);
        assert_eq!(code, 1, "the demo's attested result is fail: {out}");
        assert!(
            out.contains("Binary demo-app.elf (its own embedded list, read here, built as demo-app 0.3.1): the attested SBOM lists exactly the packages compiled in"),
            "{out}"
        );
        assert!(!out.contains("does not list"), "{out}");
    }
    // Another product's binary, authentically attested with the demo's SBOM: whatever the
    // attestation records, the verifier reads the binary and names what the SBOM lacks.
    let run = audited(&binary("other-product.elf"));
    for bundle in [false, true] {
        let (code, out) = run.verify(&binary("other-product.elf"), bundle);
        assert_eq!(code, 1, "{out}");
        assert!(out.starts_with("AUTHENTIC"), "{out}");
        assert!(
            out.contains("other-product.elf holds 1 package(s) compiled in that the attested SBOM does not list: other-product 1.0.0 (path)"),
            "{out}"
        );
        assert!(
            out.contains("other-product.elf: cc 1.0.72 (crates.io) (build) is in the SBOM, but not compiled in"),
            "{out}"
        );
    }
    // The tampered binary is not the one attested: not authentic, before any comparison.
    let (code, out) = run.verify(&binary("demo-app-tampered.elf"), false);
    assert_eq!(code, 3, "{out}");
    // Attested as it is, the tampered binary is read and its edited version named.
    let run = audited(&binary("demo-app-tampered.elf"));
    for bundle in [false, true] {
        let (code, out) = run.verify(&binary("demo-app-tampered.elf"), bundle);
        assert_eq!(code, 1, "{out}");
        assert!(
            out.contains("demo-app-tampered.elf holds 1 package(s) compiled in that the attested SBOM does not list: smallvec 1.6.1 (crates.io)"),
            "{out}"
        );
    }
}

#[test]
fn verify_needs_the_sbom_to_compare_a_binary_with() {
    let run = audited(&binary("demo-app.elf"));
    let output = charter_audit(&run.home)
        .args(["verify", "--key", s(&run.public), "--now", NOW])
        .arg(run.evidence("attestation.intoto.json"))
        .args(["--subject", s(&binary("demo-app.elf"))])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("give the attested SBOM with --sbom FILE")
    );
}

#[test]
fn the_recipients_page_shows_what_the_binary_holds() {
    let run = audited(&binary("other-product.elf"));
    let page = run.dir.path().join("verified.html");
    let output = charter_audit(&run.home)
        .args(["verify", "--key", s(&run.public), "--now", NOW])
        .arg(run.evidence("attestation.intoto.json"))
        .args(["--sbom", s(&run.evidence("sbom.cdx.json"))])
        .args(["--subject", s(&binary("other-product.elf"))])
        .args(["--format", "html", "-o", s(&page)])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("<li>other-product.elf: other-product 1.0.0 (path) (normal) is compiled in, but not in the SBOM</li>"),
        "{html}"
    );
    assert!(html.contains("holds 1 package(s) compiled in that the attested SBOM does not list"));
}

/// A supplier's own SBOM cannot hide a shipped package behind a field the comparison would
/// read otherwise than the audit: a `version` field that is not the purl's version, a purl
/// whose qualifier makes the audit leave the package unjudged, a source property that is not
/// the purl's. Each makes the package compiled in "not listed": a violation, never `exact`.
#[test]
fn a_supplier_sbom_cannot_hide_a_shipped_package_behind_a_contradicting_field() {
    let home = CargoHome::new();
    let dir = tempfile::tempdir().unwrap();
    let output = charter_audit(&home)
        .args([
            "sbom",
            "--offline",
            "--supplier",
            "Example Health Ltd",
            "--binary",
        ])
        .arg(binary("demo-app.elf"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let honest: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, &str, Edit); 3] = [
        ("regex", "the version field", |c| {
            c["version"] = "1.9.9".into()
        }),
        ("smallvec", "a repository_url qualifier", |c| {
            c["purl"] = "pkg:cargo/smallvec@1.6.0?repository_url=https://example.org/x".into();
        }),
        ("memchr", "the source property", |c| {
            for p in c["properties"].as_array_mut().unwrap() {
                if p["name"] == "charter-audit:source" {
                    p["value"] = "path".into();
                }
            }
        }),
    ];
    for (name, what, edit) in edits {
        let mut sbom = honest.clone();
        let component = sbom["components"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|c| c["name"] == name)
            .unwrap();
        edit(component);
        let path = dir.path().join(format!("{name}.cdx.json"));
        std::fs::write(&path, serde_json::to_vec(&sbom).unwrap()).unwrap();
        let output = charter_audit(&home)
            .args([
                "audit",
                "--offline",
                "--format",
                "json",
                "--now",
                NOW,
                "--sbom",
            ])
            .arg(&path)
            .arg("--subject")
            .arg(binary("demo-app.elf"))
            .arg("--advisory-db")
            .arg(fixture("advisories/rustsec"))
            .args([
                "--advisory-db-date",
                "2026-08-21",
                "--unsigned",
                "--out-dir",
            ])
            .arg(dir.path().join(name))
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(1),
            "{what}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.path().join(name).join("report.json")).unwrap(),
        )
        .unwrap();
        let hidden: Vec<&str> = report["rule_findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["rule"] == "sbom-binary-match" && r["verdict"] == "violation")
            .filter_map(|r| r["message"].as_str())
            .collect();
        assert!(
            hidden.iter().any(|m| m.contains(name)),
            "{what}: {name} compiled in is not reported: {hidden:?}"
        );
    }
}
