use super::*;

const OPENVEX: &str = r#"{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://example.com/vex/1",
  "author": "Example Vendor Ltd",
  "timestamp": "2026-08-01T00:00:00Z",
  "version": 1,
  "statements": [
    {
      "vulnerability": {"name": "CVE-2022-24713", "aliases": ["GHSA-m5pq-gvj9-9vr8"]},
      "products": [
        {"@id": "pkg:cargo/demo@1.0.0", "subcomponents": [{"@id": "pkg:cargo/regex@1.5.4"}]},
        {"@id": "pkg:cargo/regex@1.5.4"}
      ],
      "status": "not_affected",
      "justification": "vulnerable_code_not_in_execute_path",
      "last_updated": "2026-08-10T12:00:00+02:00"
    }
  ]
}"#;

#[test]
fn openvex_reads_products_alone_and_with_subcomponents() {
    let parsed = parse("vendor.openvex.json", OPENVEX.as_bytes()).unwrap();
    let doc = parsed.document;
    assert_eq!(doc.format, Format::Openvex);
    assert_eq!(doc.author, "Example Vendor Ltd");
    assert!(doc.sha256.starts_with("sha256:"));
    assert_eq!(doc.statements.len(), 2);
    assert_eq!(doc.statements[0].product, None);
    assert_eq!(doc.statements[0].components, ["pkg:cargo/regex@1.5.4"]);
    assert_eq!(
        doc.statements[1].product.as_deref(),
        Some("pkg:cargo/demo@1.0.0")
    );
    // The statement's own last update, in UTC.
    assert_eq!(
        doc.statements[0].time.as_deref(),
        Some("2026-08-10T10:00:00Z")
    );
    assert!(parsed.envelope.is_none());
}

#[test]
fn cyclonedx_reads_bom_links_and_maps_states() {
    let text = r#"{
      "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
      "metadata": {"timestamp": "2026-08-01T00:00:00Z", "authors": [{"name": "Vendor"}]},
      "vulnerabilities": [
        {"id": "CVE-2022-24713",
         "analysis": {"state": "not_affected", "justification": "code_not_reachable",
                      "detail": "not called", "lastUpdated": "2026-08-02T00:00:00Z"},
         "affects": [{"ref": "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#pkg:cargo/regex%401.5.4"}]},
        {"id": "CVE-2000-0001", "analysis": {"state": "in_triage"},
         "affects": [{"ref": "pkg:cargo/regex@1.5.4", "versions": [{"range": "vers:cargo/>=1.0"}]}]},
        {"id": "NOT-ANALYSED", "affects": []}
      ]
    }"#;
    let doc = parse("vex.cdx.json", text.as_bytes()).unwrap().document;
    assert_eq!(doc.format, Format::Cyclonedx);
    assert_eq!(doc.statements.len(), 2);
    assert_eq!(doc.statements[0].components, ["pkg:cargo/regex@1.5.4"]);
    assert_eq!(doc.statements[0].status, Status::NotAffected);
    assert_eq!(doc.statements[0].impact.as_deref(), Some("not called"));
    assert_eq!(doc.statements[1].status, Status::UnderInvestigation);
    // A range is kept as written, so it matches no purl.
    assert!(!same_package(
        &doc.statements[1].components[0],
        "pkg:cargo/regex@1.5.4"
    ));
}

#[test]
fn what_is_not_vex_or_breaks_its_format_is_refused() {
    for (text, says) in [
        ("{}", "not a VEX document"),
        ("[1, 2]", "not a VEX document"),
        ("{\"a\": 1, \"a\": 2}", "twice"),
        (
            &OPENVEX.replace("not_affected", "not_bothered"),
            "status `not_bothered`",
        ),
        (
            &OPENVEX.replace("vulnerable_code_not_in_execute_path", "trust_me"),
            "justification `trust_me`",
        ),
        (
            &OPENVEX.replace("2026-08-10T12:00:00+02:00", "last tuesday"),
            "RFC 3339",
        ),
        // A time in the year 10000 in UTC once panicked here.
        (
            &OPENVEX.replace("2026-08-10T12:00:00+02:00", "9999-12-31T23:59:59-23:59"),
            "RFC 3339",
        ),
        (
            &OPENVEX.replace("\"author\": \"Example Vendor Ltd\",", ""),
            "no `author`",
        ),
    ] {
        let error = parse("x.json", text.as_bytes()).unwrap_err().to_string();
        assert!(error.contains(says), "{text}: {error}");
    }
}

#[test]
fn purls_match_strictly() {
    let p = "pkg:cargo/regex@1.5.4";
    assert!(same_package("pkg:cargo/regex@1.5.4", p));
    assert!(!same_package("pkg:cargo/regex", p), "no version");
    assert!(!same_package("pkg:cargo/regex@1.5.5", p));
    assert!(!same_package("pkg:cargo/regex@%3E%3D1.0", p), "a range");
    assert!(!same_package("pkg:npm/regex@1.5.4", p), "another type");
    assert!(!same_package("regex 1.5.4", p), "not a purl");
    assert!(!same_package(
        "pkg:cargo/regex@1.5.4?repository_url=https://example.com",
        p
    ));
}

#[test]
fn a_cyclonedx_bom_ref_naming_two_components_is_refused() {
    let doc = r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
      "metadata": {"timestamp": "2026-08-20T00:00:00Z", "authors": [{"name": "Vendor"}]},
      "components": [
        {"type": "library", "name": "regex", "bom-ref": "r", "purl": "pkg:cargo/regex@1.5.4"},
        {"type": "library", "name": "other", "bom-ref": "r", "purl": "pkg:cargo/other@1.0.0"}],
      "vulnerabilities": [{"id": "RUSTSEC-2022-0013",
        "analysis": {"state": "not_affected", "justification": "code_not_reachable"},
        "affects": [{"ref": "r"}]}]}"#;
    let error = parse("dup.cdx.json", doc.as_bytes())
        .unwrap_err()
        .to_string();
    assert!(error.contains("names two components"), "{error}");
    // The same component twice under one reference is no ambiguity.
    let same = doc.replace("pkg:cargo/other@1.0.0", "pkg:cargo/regex@1.5.4");
    assert!(parse("same.cdx.json", same.as_bytes()).is_ok());
}
