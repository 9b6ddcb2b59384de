//! `audit --sbom`: a supplier's own CycloneDX SBOM of any ecosystem, matched offline against
//! OSV records with each ecosystem's version order, exposure counted from the advisory's
//! publication (no registry facts), and whatever cannot be decided listed, never clean.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use serde_json::Value;
use util::{CargoHome, charter_audit, finding, fixture};

fn audit(sbom: &std::path::Path, extra: &[&str]) -> (Value, i32, String) {
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .args([
            "audit",
            "--offline",
            "--now",
            "2026-08-25T00:00:00Z",
            "--format",
            "json",
        ])
        .arg("--sbom")
        .arg(sbom)
        .arg("--osv-db")
        .arg(fixture("advisories/osv-ecosystems"))
        .args(extra)
        .output()
        .unwrap();
    (
        serde_json::from_slice(&output.stdout).unwrap_or(Value::Null),
        output.status.code().unwrap(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn every_ecosystem_by_its_own_version_order() {
    let (report, code, stderr) = audit(&fixture("sboms/portal.cdx.json"), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(report["components"]["inventory"], "cyclonedx-sbom");
    assert_eq!(report["product"]["name"], "patient-portal");
    assert_eq!(report["supplier"], "Example Health Ltd");
    // Exposure from the advisory's publication (00:00 UTC of its date) to 2026-08-25, worked
    // out by hand: 2021-05-06 + 1,826 days (five years with 2024's 29 February) is 2026-05-06,
    // then 25 + 30 + 31 + 25 days to 25 August: 1,937.
    for (id, purl, days, window) in [
        ("GHSA-35jh-r3h4-6jhm", "pkg:npm/lodash@4.17.20", 1937, 14),
        // PEP 440: 3.2.1 is in [3.2, 3.2.4); medium (CVSS 4.2), 30 days. 2021-06-10: 1,826 + 76.
        ("GHSA-qm57-vhq3-3fwf", "pkg:pypi/django@3.2.1", 1902, 30),
        // Go's versions are semver with a `v`: v0.3.2 < 0.3.3. 2021-04-14: 1,826 + 133.
        (
            "GO-2020-0015",
            "pkg:golang/golang.org/x/text@v0.3.2",
            1959,
            14,
        ),
        // crates.io from the same SBOM. 2021-01-08: 1,826 + 229.
        ("RUSTSEC-2021-0003", "pkg:cargo/smallvec@1.6.0", 2055, 14),
        // Maven's order: 30.0-jre is in [1.0, 32.0.0-android); CVSS 7.1, high.
        // 2023-06-14: 2023-06-14 → 2026-06-14 is 1,096 days (2024's 29 February), then 72.
        (
            "GHSA-7g45-4rm6-3mm3",
            "pkg:maven/com.google.guava/guava@30.0-jre",
            1168,
            14,
        ),
    ] {
        let f = finding(&report, id);
        assert_eq!(f["package"]["purl"], purl);
        assert_eq!(f["exposure_days"], days, "{id}");
        assert_eq!(f["window_days"], window, "{id}");
        assert_eq!(f["verdict"], "violation", "{id}");
        assert_eq!(f["clock_start_from"], "advisory-published", "{id}");
        assert_eq!(f["fix_version"], Value::Null, "no registry facts: {id}");
        assert!(
            f["registry_note"]
                .as_str()
                .unwrap()
                .starts_with("no registry facts"),
            "{id}"
        );
    }
    // The fix on the version's own release line: 3.2.1 needs 3.2.4, not 3.1.12 (which it
    // already passes, vulnerable).
    let django = finding(&report, "GHSA-qm57-vhq3-3fwf");
    assert_eq!(django["patched"], serde_json::json!([">=3.2.4"]));
    assert!(
        django["message"]
            .as_str()
            .unwrap()
            .starts_with("upgrade django 3.2.1 to a release >=3.2.4:"),
        "{django}"
    );
    assert_eq!(
        finding(&report, "GO-2020-0015")["aliases"],
        serde_json::json!(["CVE-2020-14040", "GHSA-5rcv-m4m3-hfh7"])
    );
    // Never clean: a private package; no purl.
    let unchecked: Vec<(String, String)> = report["coverage"]["unchecked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["name"].as_str().unwrap().to_owned(),
                u["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(unchecked.len(), 2, "{unchecked:?}");
    assert!(
        unchecked[0]
            .1
            .contains("its purl names its own source (repository_url)")
    );
    assert!(unchecked[1].1.starts_with("no purl"));
    assert_eq!(report["coverage"]["checked"], 5);
}

#[test]
fn the_suppliers_sbom_is_the_evidence() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("evidence");
    let (_, code, stderr) = audit(
        &fixture("sboms/portal.cdx.json"),
        &["--out-dir", dir.to_str().unwrap()],
    );
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        std::fs::read(dir.join("sbom.cdx.json")).unwrap(),
        std::fs::read(fixture("sboms/portal.cdx.json")).unwrap()
    );
    let sarif: Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.sarif")).unwrap()).unwrap();
    assert_eq!(
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "fixtures/sboms/portal.cdx.json"
    );
}

/// The user + system CPU seconds of a shell's waited-for children, from the second line of
/// bash's `times` output (`0m0.004s 0m0.001s` for the shell, then the same for its children).
fn child_cpu_seconds(times: &str) -> f64 {
    let children = times
        .lines()
        .last()
        .unwrap_or_else(|| panic!("no `times` output: {times:?}"));
    children
        .split_whitespace()
        .map(|field| {
            let (minutes, seconds) = field
                .trim_end_matches('s')
                .split_once('m')
                .unwrap_or_else(|| panic!("not a bash time: {field:?}"));
            minutes.parse::<f64>().unwrap() * 60.0 + seconds.parse::<f64>().unwrap()
        })
        .sum()
}

#[test]
fn bad_sboms_are_exit_2_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let check = |name: &str, expect: &str| {
        let path = dir.path().join(name);
        let (report, code, stderr) = audit(&path, &[]);
        assert_eq!(code, 2, "{name}: {stderr}");
        assert_eq!(report, Value::Null);
        assert!(stderr.contains(expect), "{name}: {stderr}");
        // Refused before any real work, and in bounded memory: the same refusal with the
        // address space capped at 256 MiB (an allocation past it would abort the process
        // instead of exiting 2), timed by the CPU the process used (user + system, all its
        // threads, as getrusage reports for a waited-for child: bash's `times`), so a machine
        // busy with other work does not decide it. The widest refusal takes 0.4 s of CPU in a
        // debug build; 2 s leaves room for a slower machine and still fails a refusal that
        // parses the whole document first.
        let started = std::time::Instant::now();
        let capped = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "ulimit -v 262144; {:?} audit --offline --sbom {:?} --osv-db {:?} >/dev/null; \
                 status=$?; times; exit $status",
                env!("CARGO_BIN_EXE_charter-audit"),
                path,
                fixture("advisories/osv-ecosystems")
            ))
            .output()
            .unwrap();
        let wall = started.elapsed();
        assert_eq!(
            capped.status.code(),
            Some(2),
            "{name} under 256 MiB: {capped:?}"
        );
        assert!(
            String::from_utf8_lossy(&capped.stderr).contains(expect),
            "{name}"
        );
        let cpu = child_cpu_seconds(&String::from_utf8_lossy(&capped.stdout));
        assert!(cpu < 2.0, "{name}: {cpu} s of CPU");
        // A hang would use no CPU: the wall clock still bounds it, generously.
        assert!(
            wall < std::time::Duration::from_secs(60),
            "{name}: {wall:?}"
        );
    };
    std::fs::write(dir.path().join("text.json"), "this is not JSON").unwrap();
    check("text.json", "text.json: not a CycloneDX JSON SBOM");
    let deep = format!(
        "{{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"components\":{}[]{}}}",
        "[{\"name\":\"x\",\"components\":".repeat(100_000),
        "}]".repeat(100_000)
    );
    std::fs::write(dir.path().join("deep.json"), deep).unwrap();
    check(
        "deep.json",
        "deep.json: not a CycloneDX JSON SBOM: recursion limit exceeded",
    );
    // 200 MB (sparse: nothing is written to disk).
    let big = std::fs::File::create(dir.path().join("big.json")).unwrap();
    big.set_len(200 * 1024 * 1024).unwrap();
    check("big.json", "big.json: more than 67108864 bytes");
    // Breadth: more than 2.5 million objects, under the size cap.
    let wide = format!(
        "{{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"components\":[{}{{}}]}}",
        "{\"name\":\"a\"},".repeat(2_600_000)
    );
    std::fs::write(dir.path().join("wide.json"), wide).unwrap();
    check("wide.json", "JSON objects, more than the 2500000");
    // More components than one audit takes, in fewer objects than that.
    let many = format!(
        "{{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"components\":[{}{{\"name\":\"b\"}}]}}",
        "{\"name\":\"a\"},".repeat(200_000)
    );
    std::fs::write(dir.path().join("many.json"), many).unwrap();
    check("many.json", "more than 200000 components");
    std::fs::write(
        dir.path().join("spdx.json"),
        r#"{"bomFormat":"SPDX","specVersion":"2.3"}"#,
    )
    .unwrap();
    check("spdx.json", "bomFormat is `SPDX`");
}

#[test]
fn a_suppliers_sbom_is_attested_and_bundled_like_any_audit() {
    let dir = tempfile::tempdir().unwrap();
    let home = CargoHome::new();
    let key = dir.path().join("k");
    assert!(
        charter_audit(&home)
            .args(["keygen", "--out", key.to_str().unwrap()])
            .output()
            .unwrap()
            .status
            .success()
    );
    let evidence = dir.path().join("evidence");
    let (_, code, stderr) = audit(
        &fixture("sboms/portal.cdx.json"),
        &[
            "--out-dir",
            evidence.to_str().unwrap(),
            "--sign-key",
            key.with_extension("key").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    let bundle = dir.path().join("submission.tar.gz");
    let output = charter_audit(&home)
        .args(["bundle", "--out-dir", evidence.to_str().unwrap()])
        .args(["-o", bundle.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let output = charter_audit(&home)
        .args(["verify", "--bundle", bundle.to_str().unwrap()])
        .args(["--key", key.with_extension("pub").to_str().unwrap()])
        .args(["--now", "2026-08-26T00:00:00Z"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "authentic; the result is fail: {out}"
    );
    assert!(out.contains("Product: patient-portal 2.1.0"), "{out}");
}

#[test]
fn nothing_undecided_or_uncovered_reads_as_clean() {
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .args([
            "audit",
            "--offline",
            "--now",
            "2026-08-25T00:00:00Z",
            "--format",
            "json",
        ])
        .arg("--sbom")
        .arg(fixture("sboms/edge.cdx.json"))
        .arg("--osv-db")
        .arg(fixture("advisories/osv-edge"))
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    // A SEMVER range on a PyPI package is read in PEP 440 order.
    assert_eq!(
        finding(&report, "CHARTER-TEST-0001")["package"]["name"],
        "requests"
    );
    // A package nested under the SBOM's subject is audited.
    assert_eq!(
        finding(&report, "CHARTER-TEST-0004")["package"]["name"],
        "left-pad"
    );
    // rack: one record applies through its versions list; the other cannot be decided, and
    // is listed all the same.
    assert_eq!(
        finding(&report, "CHARTER-TEST-0002")["package"]["name"],
        "rack"
    );
    let unchecked: Vec<String> = report["coverage"]["unchecked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            format!(
                "{}: {}",
                u["name"].as_str().unwrap(),
                u["reason"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(unchecked.len(), 3, "{unchecked:#?}");
    assert!(
        unchecked
            .iter()
            .any(|u| u.starts_with("rack: ") && u.contains("CHARTER-TEST-0003")),
        "{unchecked:#?}"
    );
    assert!(
        unchecked
            .iter()
            .any(|u| u.starts_with("local-lib: its version names a local or private source")),
        "{unchecked:#?}"
    );
    // No NuGet records were given: not checked, never clean.
    assert!(
        unchecked
            .iter()
            .any(|u| u.starts_with("Newtonsoft.Json: no advisory source for NuGet")),
        "{unchecked:#?}"
    );
    assert_eq!(report["coverage"]["checked"], 2, "requests and left-pad");
}

#[test]
fn the_size_cap_is_64_mib_unless_raised() {
    // The portal SBOM padded past 1 MiB: refused under a 1 MiB cap, read under 2 MiB.
    let dir = tempfile::tempdir().unwrap();
    let padded = dir.path().join("padded.cdx.json");
    let mut bytes = std::fs::read(fixture("sboms/portal.cdx.json")).unwrap();
    bytes.extend(std::iter::repeat_n(b' ', 1_100_000));
    std::fs::write(&padded, &bytes).unwrap();
    let (report, code, stderr) = audit(&padded, &["--max-sbom-size", "1"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(report, Value::Null);
    assert!(
        stderr.contains("padded.cdx.json: more than 1048576 bytes, the most this audit reads")
            && stderr.contains("--max-sbom-size"),
        "{stderr}"
    );
    let (report, code, stderr) = audit(&padded, &["--max-sbom-size", "2"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(report["result"], "fail");
    // And the flag means nothing without --sbom.
    let (_, code, stderr) = {
        let home = CargoHome::new();
        let output = charter_audit(&home)
            .args(["audit", "--offline", "--max-sbom-size", "2", "--lockfile"])
            .arg(fixture("workspaces/demo/Cargo.lock"))
            .output()
            .unwrap();
        (
            (),
            output.status.code().unwrap(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--max-sbom-size limits the SBOM that --sbom FILE reads"),
        "{stderr}"
    );
}

#[test]
fn an_sbom_that_is_not_utf8_is_refused_naming_the_file() {
    // Invalid UTF-8 where this audit reads (a name) and where it does not (an unknown field,
    // which the evidence and the completeness check still hold).
    let text = std::fs::read(fixture("sboms/portal.cdx.json")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, from, to) in [
        (
            "in-name.cdx.json",
            &b"patient-portal"[..],
            &b"patient-\xffportal"[..],
        ),
        (
            "in-unknown-field.cdx.json",
            &b"\"timestamp\""[..],
            &b"\"x-note\": \"\xfe\xff\", \"timestamp\""[..],
        ),
    ] {
        let at = text.windows(from.len()).position(|w| w == from).unwrap();
        let mut bytes = text[..at].to_vec();
        bytes.extend_from_slice(to);
        bytes.extend_from_slice(&text[at + from.len()..]);
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = dir.path().join(format!("{name}-evidence"));
        let (report, code, stderr) = audit(&path, &["--out-dir", out.to_str().unwrap()]);
        assert_eq!(code, 2, "{name}: {stderr}");
        assert_eq!(report, Value::Null);
        assert!(
            stderr.contains(&format!(
                "{}: not a CycloneDX JSON SBOM: not UTF-8 at line ",
                path.display()
            )),
            "{name}: {stderr}"
        );
        assert!(!stderr.contains("serialise"), "{stderr}");
        assert!(!out.exists(), "{name}: no half-written evidence");
    }
}
