//! End-to-end: CycloneDX 1.6, the default of `sbom`, checked against the official 1.6 JSON
//! schema (vendored in schemas/cyclonedx/); and the completeness profiles (`sbom --profile`,
//! and the policy's `sbom-completeness.profile` in `audit`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use charter_audit::sbom::schema::validate_1_6;
use serde_json::Value;
use sha2::{Digest, Sha512};
use util::{CargoHome, charter_audit, component, fixture, json_of, save_sample, success};

fn demo_manifest() -> String {
    fixture("workspaces/demo/Cargo.toml")
        .to_string_lossy()
        .into_owned()
}

/// The document, after checking it against the official CycloneDX 1.6 JSON schema.
fn valid_1_6(bytes: &[u8]) -> Value {
    let value: Value = serde_json::from_slice(bytes).unwrap();
    if let Err(problems) = validate_1_6(&value) {
        panic!("not valid CycloneDX 1.6:\n{}", problems.join("\n"));
    }
    assert_eq!(value["specVersion"], "1.6");
    value
}

const SUPPLIER: [&str; 6] = [
    "--supplier",
    "Example Health Ltd",
    "--supplier-url",
    "https://example.org",
    "--supplier-contact",
    "security@example.org",
];

/// The machine-dependent facts (toolchain, host, tool version) replaced, for snapshots.
fn redacted(mut sbom: Value) -> Value {
    for prop in sbom["metadata"]["properties"].as_array_mut().unwrap() {
        let name = prop["name"].as_str().unwrap().to_owned();
        if ["rustc", "host", "target"].contains(&name.trim_start_matches("charter-audit:")) {
            prop["value"] = format!("[{name}]").into();
        }
    }
    sbom["serialNumber"] = "[serial]".into();
    sbom["metadata"]["tools"]["components"][0]["version"] = "[version]".into();
    sbom
}

#[test]
fn the_default_is_1_6_and_follows_the_official_schema() {
    let home = CargoHome::new();
    let run = |extra: &[&str]| {
        success(
            charter_audit(&home)
                .args(["sbom", "--offline", "--manifest-path", &demo_manifest()])
                .args(SUPPLIER)
                .args(extra),
        )
        .0
    };
    let bytes = run(&[]);
    save_sample("demo-1.6.json", &bytes);
    assert_eq!(bytes, run(&["--spec-version", "1.6"]), "1.6 is the default");
    let sbom = valid_1_6(&bytes);

    let metadata = &sbom["metadata"];
    // TR-03183-2's SBOM creator, from the supplier flags; the generation context; the tool.
    assert_eq!(metadata["manufacturer"]["name"], "Example Health Ltd");
    assert_eq!(metadata["manufacturer"]["url"][0], "https://example.org");
    assert_eq!(
        metadata["manufacturer"]["contact"][0]["email"],
        "security@example.org"
    );
    assert_eq!(
        metadata["lifecycles"],
        serde_json::json!([{"phase": "pre-build"}])
    );
    assert_eq!(metadata["tools"]["components"][0]["name"], "charter-audit");
    // Licences as the manifests declare them.
    let smallvec = component(&sbom, "smallvec");
    assert_eq!(
        smallvec["licenses"],
        serde_json::json!([{"expression": "MIT OR Apache-2.0", "acknowledgement": "declared"}])
    );
    assert_eq!(
        component(&sbom, "demo-util")["licenses"][0]["license"]["acknowledgement"],
        "declared"
    );
    // The .crate's checksum is its source archive's hash, where cargo downloads it from.
    let source: Vec<&Value> = smallvec["externalReferences"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "source-distribution")
        .collect();
    assert_eq!(source.len(), 1);
    assert_eq!(
        source[0]["url"],
        "https://static.crates.io/crates/smallvec/smallvec-1.6.0.crate"
    );
    assert_eq!(source[0]["hashes"], smallvec["hashes"]);
    // A path dependency has no archive; without a profile, no BSI property is written.
    let util = component(&sbom, "demo-util");
    assert!(
        util["externalReferences"]
            .as_array()
            .is_none_or(|r| r.iter().all(|r| r["type"] != "source-distribution"))
    );
    assert!(!String::from_utf8_lossy(&bytes).contains("bsi:component"));
    insta::assert_json_snapshot!("demo_workspace_1_6", redacted(sbom));

    // The XML says the same, in the 1.6 namespace (validated against the XSD by .ci/run).
    let xml = String::from_utf8(run(&["--format", "xml"])).unwrap();
    save_sample("demo-1.6.xml", xml.as_bytes());
    assert!(xml.contains("<bom xmlns=\"http://cyclonedx.org/schema/bom/1.6\""));
    assert!(
        xml.contains("<expression acknowledgement=\"declared\">MIT OR Apache-2.0</expression>")
    );
    assert!(xml.contains("<reference type=\"source-distribution\">"));
    assert!(xml.contains("<manufacturer>\n      <name>Example Health Ltd</name>"));
    assert!(xml.contains("<phase>pre-build</phase>"));
}

#[test]
fn every_fixture_lockfile_and_workspace_gives_valid_1_6() {
    let home = CargoHome::new();
    let lockfiles = [
        "lockfiles/demo-v1.Cargo.lock",
        "lockfiles/demo-v2.Cargo.lock",
        "lockfiles/yanked.Cargo.lock",
        "lockfiles/real/nushell-2026-08.Cargo.lock",
        "lockfiles/real/meilisearch-2026-07.Cargo.lock",
        "workspaces/demo/Cargo.lock",
        "workspaces/with-git/Cargo.lock",
    ];
    for lockfile in lockfiles {
        let (stdout, _) = success(
            charter_audit(&home)
                .args(["sbom", "--lockfile"])
                .arg(fixture(lockfile))
                .args(SUPPLIER),
        );
        let sbom = valid_1_6(&stdout);
        assert!(
            !sbom["components"].as_array().unwrap().is_empty(),
            "{lockfile}"
        );
    }
    for workspace in ["demo", "with-git"] {
        let manifest = fixture(&format!("workspaces/{workspace}/Cargo.toml"));
        let (stdout, _) = success(
            charter_audit(&home)
                .args(["sbom", "--offline", "--include-dev", "--manifest-path"])
                .arg(&manifest)
                .args(["--profile", "bsi-tr-03183-2"]),
        );
        valid_1_6(&stdout);
    }
}

/// The lines `sbom --profile` writes on standard error about the profile.
fn gap_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('['))
        .collect()
}

#[test]
fn the_bsi_profile_writes_what_is_known_and_lists_what_is_not() {
    let home = CargoHome::new();
    let dir = tempfile::tempdir().unwrap();
    let artifact = dir.path().join("demo-app-0.3.1-x86_64-linux.tar.gz");
    std::fs::write(&artifact, b"the release archive").unwrap();
    let run = |extra: &[&str], with_subject: bool| {
        let mut cmd = charter_audit(&home);
        cmd.args(["sbom", "--offline", "--manifest-path", &demo_manifest()])
            .args(["--profile", "bsi-tr-03183-2"])
            .args(extra);
        if with_subject {
            cmd.arg("--subject").arg(&artifact);
        }
        json_of(&mut cmd)
    };
    let (sbom, bytes, stderr) = run(&SUPPLIER, true);
    save_sample("demo-bsi.json", &bytes);
    valid_1_6(&bytes);

    // The product's deployable form: the artifact's file name and SHA-512.
    let product = &sbom["metadata"]["component"];
    let distribution = &product["externalReferences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "distribution")
        .unwrap();
    assert_eq!(distribution["url"], "demo-app-0.3.1-x86_64-linux.tar.gz");
    assert_eq!(distribution["hashes"][0]["alg"], "SHA-512");
    assert_eq!(
        distribution["hashes"][0]["content"],
        hex::encode(Sha512::digest(b"the release archive"))
    );
    let property = |c: &Value, name: &str| -> Vec<String> {
        c["properties"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["name"] == name)
            .map(|p| p["value"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        property(product, "bsi:component:filename"),
        ["demo-app-0.3.1-x86_64-linux.tar.gz"]
    );
    // A registry crate is its .crate file; a path dependency a source tree; each property once.
    let smallvec = component(&sbom, "smallvec");
    assert_eq!(
        property(smallvec, "bsi:component:filename"),
        ["smallvec-1.6.0.crate"]
    );
    assert_eq!(
        property(smallvec, "bsi:component:executable"),
        ["non-executable"]
    );
    assert_eq!(property(smallvec, "bsi:component:archive"), ["archive"]);
    assert_eq!(
        property(smallvec, "bsi:component:structured"),
        ["structured"]
    );
    let util = component(&sbom, "demo-util");
    assert!(property(util, "bsi:component:filename").is_empty());
    assert_eq!(property(util, "bsi:component:archive"), ["no archive"]);

    // Standard error lists, field by field, what is missing and why: nothing is the
    // supplier's to give any more; the crates' deployable form is said not to exist.
    let lines = gap_lines(&stderr);
    assert!(stderr.contains("bsi-tr-03183-2: "), "{stderr}");
    assert!(
        !lines.iter().any(|l| l.contains("[yours to give]")),
        "{stderr}"
    );
    assert!(lines.iter().any(|l| l.contains(
        "SHA-512 hash of the deployable component (TR-03183-2 §5.2.2; components[].externalReferences[type=distribution].hashes)"
    ) && l.contains("statically linked")), "{stderr}");
    assert!(
        lines.iter().any(
            |l| l.starts_with("[not known, and not invented] distribution licence (concluded)")
        ),
        "{stderr}"
    );

    // Without the supplier's contact and the artifact, those are the supplier's to give.
    let (sbom, bytes, stderr) = run(&["--supplier", "Example Health Ltd"], false);
    valid_1_6(&bytes);
    assert!(sbom["metadata"]["manufacturer"]["contact"].is_null());
    let yours: Vec<&str> = gap_lines(&stderr)
        .into_iter()
        .filter(|l| l.starts_with("[yours to give]"))
        .collect();
    // (The product's own creator is named: its manifest's author gives an e-mail address.)
    assert_eq!(yours.len(), 3, "{stderr}");
    for element in [
        "creator of the SBOM (e-mail or URL) (TR-03183-2 §5.2.1;",
        "file name of the component (TR-03183-2 §5.2.2, BSI taxonomy;",
        "SHA-512 hash of the deployable component (TR-03183-2 §5.2.2;",
    ] {
        assert!(
            yours.iter().any(|l| l.contains(element)),
            "{element}: {stderr}"
        );
    }

    // The XML of the same SBOM (validated against the 1.6 XSD by .ci/run).
    let mut cmd = charter_audit(&home);
    cmd.args(["sbom", "--offline", "--manifest-path", &demo_manifest()])
        .args(["--profile", "bsi-tr-03183-2", "--format", "xml"])
        .args(SUPPLIER)
        .arg("--subject")
        .arg(&artifact);
    let (xml, _) = success(&mut cmd);
    save_sample("demo-bsi.xml", &xml);
    let xml = String::from_utf8(xml).unwrap();
    assert!(xml.contains("<property name=\"bsi:component:archive\">archive</property>"));
    assert!(xml.contains("<hash alg=\"SHA-512\">"));
}

#[test]
fn each_profile_lists_its_own_gaps_and_an_older_version_says_what_it_lacks() {
    let home = CargoHome::new();
    let lockfile = fixture("lockfiles/demo-v1.Cargo.lock");
    let stderr = |extra: &[&str]| {
        success(
            charter_audit(&home)
                .args(["sbom", "--lockfile"])
                .arg(&lockfile)
                .args(SUPPLIER)
                .args(extra),
        )
        .1
    };
    // Without --profile, nothing is listed.
    assert!(gap_lines(&stderr(&[])).is_empty());
    // NTIA: Cargo.lock alone names no component authors.
    let ntia = stderr(&["--profile", "ntia-2021"]);
    assert_eq!(gap_lines(&ntia).len(), 1, "{ntia}");
    assert!(ntia.contains("component supplier or author (NTIA minimum elements;"));
    // CISA's draft: no licences in a lockfile; all else is there in 1.6.
    let cisa = stderr(&["--profile", "cisa-2025-draft"]);
    let licence = gap_lines(&cisa)
        .into_iter()
        .find(|l| l.contains("] licence (CISA minimum elements, 2025 draft;"))
        .unwrap_or_else(|| panic!("{cisa}"));
    assert!(licence.contains("read from Cargo.lock alone"), "{licence}");
    assert!(!cisa.contains("generation context"), "{cisa}");
    // In 1.5 there is no generation context, and TR-03183-2 refuses the format.
    let old = stderr(&["--profile", "cisa-2025-draft", "--spec-version", "1.5"]);
    assert!(
        old.contains("generation context (CISA minimum elements, 2025 draft; metadata.lifecycles)"),
        "{old}"
    );
    let old = stderr(&["--profile", "bsi-tr-03183-2", "--spec-version", "1.5"]);
    assert!(
        old.contains("format (TR-03183-2 §4; specVersion): CycloneDX `1.5`"),
        "{old}"
    );
}

#[test]
fn a_policy_that_requires_the_bsi_profile_judges_the_audits_1_6_sbom_by_it() {
    let home = CargoHome::new();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("charter-audit.toml");
    std::fs::write(
        &config,
        "[supplier]\nname = \"Example Health Ltd\"\ncontact = \"security@example.org\"\n\n[sbom-completeness]\nprofile = \"bsi-tr-03183-2\"\n",
    )
    .unwrap();
    let artifact = dir.path().join("demo-app.tar.gz");
    std::fs::write(&artifact, b"release").unwrap();
    let out = dir.path().join("out");
    let output = charter_audit(&home)
        .args(["audit", "--offline", "--format", "json"])
        .args([
            "--now",
            "2026-08-25T00:00:00Z",
            "--advisory-db-date",
            "2026-08-21",
        ])
        .arg("--registry-index")
        .arg(fixture("registry-index"))
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .arg("--lockfile")
        .arg(fixture("lockfiles/demo-v1.Cargo.lock"))
        .arg("--config")
        .arg(&config)
        .arg("--out-dir")
        .arg(&out)
        .args(["--unsigned", "--subject"])
        .arg(&artifact)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.code().unwrap() <= 1, "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();

    // The profile is a setting of the policy, recorded as a tightening override.
    let policy = &report["policy"];
    assert_eq!(
        policy["settings"]["sbom-completeness.profile"],
        "bsi-tr-03183-2"
    );
    let overrides = policy["overrides"].as_array().unwrap();
    assert!(
        overrides
            .iter()
            .any(|o| o["setting"] == "sbom-completeness.profile"
                && o["base"] == "ntia-2021"
                && o["direction"] == "tightening")
    );

    // The rule judges the same list `sbom --profile` gives: what is not known is a warning
    // that says so, never a violation the supplier cannot fix, and the product's deployable
    // form is there (from --subject).
    let findings: Vec<(&str, &str)> = report["rule_findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["rule"] == "sbom-completeness")
        .map(|r| {
            (
                r["verdict"].as_str().unwrap(),
                r["message"].as_str().unwrap(),
            )
        })
        .collect();
    let deployable: Vec<&(&str, &str)> = findings
        .iter()
        .filter(|(_, m)| m.starts_with("the SBOM has no SHA-512 hash of the deployable component (TR-03183-2 §5.2.2, profile bsi-tr-03183-2)"))
        .collect();
    // Registry crates (their .crate hashes a source archive) and the path dependency.
    assert_eq!(deployable.len(), 2, "{findings:#?}");
    assert!(
        deployable
            .iter()
            .all(|(v, m)| *v == "warning" && m.contains("statically linked"))
    );
    assert!(
        deployable[0].1.contains("source-distribution"),
        "{}",
        deployable[0].1
    );
    assert!(
        !findings
            .iter()
            .any(|(_, m)| m.contains("for demo-app 0.3.1: pass each release artifact")),
        "{findings:#?}"
    );

    // The SBOM of the run is CycloneDX 1.6, with the artifact, and the statement says so.
    let sbom = valid_1_6(&std::fs::read(out.join("sbom.cdx.json")).unwrap());
    assert_eq!(
        sbom["metadata"]["manufacturer"]["contact"][0]["email"],
        "security@example.org"
    );
    assert!(
        String::from_utf8_lossy(&std::fs::read(out.join("sbom.cdx.json")).unwrap())
            .contains(&hex::encode(Sha512::digest(b"release")))
    );
    let statement: Value =
        serde_json::from_slice(&std::fs::read(out.join("attestation.intoto.json")).unwrap())
            .unwrap();
    assert_eq!(statement["predicate"]["sbom"]["specVersion"], "1.6");
}
