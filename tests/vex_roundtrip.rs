//! The round trip of issue 17: the VEX a run writes (`audit --out-dir`), given back to a run
//! without the configuration's exceptions (`audit --vex`), excepts exactly the findings it
//! declared `not_affected` that the second run would otherwise hold against the product (a
//! violation or a warning), and changes no other verdict. For OpenVEX and CycloneDX VEX alike.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use util::DEMO_NOW;

const SUPPLIER: &str = "extends = \"nhs-charter\"\n\n[supplier]\nname = \"Example Health Ltd\"\n";

/// The configuration of the first run: the supplier, and an exception in force with a
/// justification.
fn with_exception() -> String {
    format!(
        "{SUPPLIER}\n[[exception]]\nid = \"CVE-2022-24713\"\npackage = \"regex\"\n\
         version = \"1.5.4\"\nreason = \"Only regexes from our own configuration are compiled\"\n\
         expires = 2026-09-30\napproved-by = \"CISO\"\n\
         justification = \"vulnerable_code_not_in_execute_path\"\n"
    )
}

/// `audit --out-dir OUT` of the demo workspace for Linux, with `config` and `extra` flags:
/// the report it wrote.
fn audit(out: &Path, config: &str, extra: &[&std::ffi::OsStr]) -> Value {
    util::demo_audit_into(out, DEMO_NOW, config, extra);
    serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap()
}

/// Each advisory finding's verdict, by (id, package name, version).
fn verdicts(report: &Value) -> BTreeMap<(String, String, String), String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                (
                    f["id"].as_str().unwrap().to_owned(),
                    f["package"]["name"].as_str().unwrap().to_owned(),
                    f["package"]["version"].as_str().unwrap().to_owned(),
                ),
                f["verdict"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The (vulnerability, purl) pairs a VEX document declares not affected.
fn not_affected(document: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(statements) = document["statements"].as_array() {
        for s in statements.iter().filter(|s| s["status"] == "not_affected") {
            for p in s["products"].as_array().unwrap() {
                let purl = p["subcomponents"]
                    .as_array()
                    .and_then(|c| c.first())
                    .map_or(&p["@id"], |c| &c["@id"]);
                out.push((
                    s["vulnerability"]["name"].as_str().unwrap().to_owned(),
                    purl.as_str().unwrap().to_owned(),
                ));
            }
        }
    }
    if let Some(vulnerabilities) = document["vulnerabilities"].as_array() {
        for v in vulnerabilities
            .iter()
            .filter(|v| v["analysis"]["state"] == "not_affected")
        {
            for a in v["affects"].as_array().unwrap() {
                let reference = a["ref"].as_str().unwrap();
                let purl = reference.rsplit_once('#').map_or(reference, |(_, r)| r);
                out.push((v["id"].as_str().unwrap().to_owned(), purl.to_owned()));
            }
        }
    }
    out
}

fn round_trip(file: &str) {
    let first_dir = tempfile::tempdir().unwrap();
    let first = audit(first_dir.path(), &with_exception(), &[]);
    let vex_path = first_dir.path().join(file);
    let vex: Value = serde_json::from_slice(&std::fs::read(&vex_path).unwrap()).unwrap();
    let declared = not_affected(&vex);
    assert!(
        declared.iter().any(|(id, _)| id == "RUSTSEC-2022-0013"),
        "{file}: the excepted finding is declared not affected: {declared:?}"
    );
    assert!(verdicts(&first).values().any(|v| v == "excepted"));

    let plain_dir = tempfile::tempdir().unwrap();
    let plain = verdicts(&audit(plain_dir.path(), SUPPLIER, &[]));
    let given_dir = tempfile::tempdir().unwrap();
    let given_report = audit(
        given_dir.path(),
        SUPPLIER,
        &["--vex".as_ref(), vex_path.as_os_str()],
    );
    let given = verdicts(&given_report);
    assert_eq!(
        plain.keys().collect::<Vec<_>>(),
        given.keys().collect::<Vec<_>>()
    );
    // What the VEX declared not affected, among the findings held against the product without
    // it; a declared id may be one of the finding's aliases.
    let findings = given_report["findings"].as_array().unwrap();
    let declared_of = |key: &(String, String, String)| {
        let finding = findings
            .iter()
            .find(|f| f["id"] == key.0.as_str() && f["package"]["name"] == key.1.as_str())
            .unwrap();
        let mut names = vec![key.0.clone()];
        names.extend(
            finding["aliases"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(str::to_owned)),
        );
        declared
            .iter()
            .any(|(id, purl)| names.contains(id) && purl.contains(&format!("/{}@{}", key.1, key.2)))
    };
    let mut excepted = 0;
    for (key, before) in &plain {
        let after = &given[key];
        let held = before == "violation" || before == "warning";
        if held && declared_of(key) {
            assert_eq!(
                after, "excepted",
                "{file}: {key:?} was declared not affected"
            );
            let vex = &findings
                .iter()
                .find(|f| f["id"] == key.0.as_str() && f["package"]["name"] == key.1.as_str())
                .unwrap()["vex"];
            assert_eq!(vex["document"], file, "{file}: {key:?} names the document");
            excepted += 1;
        } else {
            assert_eq!(after, before, "{file}: {key:?} changed without a statement");
        }
    }
    assert!(excepted >= 1, "{file}: nothing was excepted");
}

#[test]
fn our_openvex_given_back_excepts_exactly_what_it_declared_not_affected() {
    round_trip("vex.openvex.json");
}

#[test]
fn our_cyclonedx_vex_given_back_excepts_exactly_what_it_declared_not_affected() {
    round_trip("vex.cdx.json");
}

/// A vendor's statement passed on in the run's own VEX keeps the vendor's time: restated at
/// each run it would never grow older than the policy's `vex.max-age`.
#[test]
fn a_vendor_statement_passed_on_keeps_its_own_time() {
    let out = tempfile::tempdir().unwrap();
    let vendor = util::fixture("vex/vendor.openvex.json");
    util::demo_audit_into(
        out.path(),
        DEMO_NOW,
        SUPPLIER,
        &["--vex".as_ref(), vendor.as_os_str()],
    );
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    let regex = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "RUSTSEC-2022-0013")
        .unwrap();
    assert_eq!(regex["verdict"], "excepted");
    let time = regex["vex"]["time"].as_str().unwrap();
    assert_ne!(time, DEMO_NOW);
    let openvex: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("vex.openvex.json")).unwrap())
            .unwrap();
    let statement = openvex["statements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["vulnerability"]["name"] == "RUSTSEC-2022-0013")
        .unwrap();
    assert_eq!(statement["status"], "not_affected");
    assert_eq!(statement["timestamp"], time);
    let cdx: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("vex.cdx.json")).unwrap()).unwrap();
    let analysis = &cdx["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "RUSTSEC-2022-0013")
        .unwrap()["analysis"];
    assert_eq!(analysis["lastUpdated"], time);
}
