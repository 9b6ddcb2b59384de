//! The OSV API, opt-in, against a real HTTP server on 127.0.0.1: batches with pagination,
//! each record fetched once, the failures a user would meet, and proof that private names and
//! components without a public identity are never sent.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::time::Duration;

use serde_json::{Value, json};
use util::http::{Reply, Server, refused_port};
use util::{CargoHome, charter_audit, finding, fixture};

/// Answers as the OSV API does, from the fixture records: lodash's record comes on a second
/// page; Django's on the first.
fn osv(path: &str, body: &[u8]) -> Reply {
    if path == "/v1/querybatch" {
        let request: Value = serde_json::from_slice(body).unwrap();
        let results: Vec<Value> = request["queries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| match (q["package"]["name"].as_str(), q["page_token"].as_str()) {
                (Some("lodash"), None) => json!({"vulns": [], "next_page_token": "page-2"}),
                (Some("lodash"), Some("page-2")) => {
                    json!({"vulns": [{"id": "GHSA-35jh-r3h4-6jhm", "modified": "2024-02-16T08:06:42Z"}]})
                }
                (Some("django"), None) => {
                    json!({"vulns": [{"id": "GHSA-qm57-vhq3-3fwf", "modified": "2024-10-21T05:27:05Z"}]})
                }
                _ => json!({}),
            })
            .collect();
        return Reply::Body(
            200,
            serde_json::to_vec(&json!({ "results": results })).unwrap(),
        );
    }
    if let Some(id) = path.strip_prefix("/v1/vulns/") {
        let file = fixture("advisories/osv-ecosystems").join(format!("{id}.json"));
        return match std::fs::read(file) {
            Ok(bytes) => Reply::Body(200, bytes),
            Err(_) => Reply::Body(404, b"{}".to_vec()),
        };
    }
    Reply::Body(404, Vec::new())
}

/// `audit --sbom SBOM --osv-api API` with the fixture RustSec database, JSON to stdout.
fn osv_audit(home: &CargoHome, sbom: &std::path::Path, api: &str) -> assert_cmd::Command {
    let mut cmd = charter_audit(home);
    cmd.args(["audit", "--now", "2026-08-25T00:00:00Z", "--format", "json"])
        .arg("--sbom")
        .arg(sbom)
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .args(["--advisory-db-date", "2026-08-21", "--osv-api", api]);
    cmd
}

/// Everything the server was sent, as text.
fn sent(server: &Server) -> String {
    server
        .bodies()
        .iter()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect()
}

fn audit(api: &str, extra: &[&str]) -> (Value, i32, String) {
    let home = CargoHome::new();
    let output = osv_audit(&home, &fixture("sboms/portal.cdx.json"), api)
        .args(["--http-timeout", "2"])
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
fn pages_are_followed_and_each_record_fetched_once() {
    let server = Server::start_with_body(|path, _, body| osv(path, body));
    let (report, code, stderr) = audit(&server.url(""), &[]);
    assert_eq!(code, 1, "{stderr}");
    let lodash = finding(&report, "GHSA-35jh-r3h4-6jhm");
    assert_eq!(lodash["sources"], json!(["osv-api"]));
    assert_eq!(lodash["exposure_days"], 1937);
    assert_eq!(finding(&report, "GHSA-qm57-vhq3-3fwf")["window_days"], 30);
    let source = report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "osv-api")
        .unwrap();
    assert_eq!(source["advisories"], 2);
    let paths = server.paths();
    assert_eq!(
        paths.iter().filter(|p| *p == "/v1/querybatch").count(),
        2,
        "{paths:?}"
    );
    for id in ["GHSA-35jh-r3h4-6jhm", "GHSA-qm57-vhq3-3fwf"] {
        let path = format!("/v1/vulns/{id}");
        assert_eq!(
            paths.iter().filter(|p| **p == path).count(),
            1,
            "{id} once: {paths:?}"
        );
    }
    // The second call asked only the query that had a page token, with it.
    let second: Value = serde_json::from_slice(&server.bodies()[1]).unwrap();
    assert_eq!(
        second["queries"],
        json!([{"version": "4.17.20", "package": {"name": "lodash", "ecosystem": "npm"}, "page_token": "page-2"}])
    );
}

#[test]
fn private_and_unidentified_components_are_never_sent() {
    let server = Server::start_with_body(|path, _, body| osv(path, body));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("charter-audit.toml");
    std::fs::write(
        &config,
        "private = [\"djan*\"]\n\n[supplier]\nname = \"Example Health Ltd\"\n",
    )
    .unwrap();
    let (report, _, stderr) = audit(&server.url(""), &["--config", config.to_str().unwrap()]);
    assert!(report.is_object(), "{stderr}");
    let sent = sent(&server);
    assert!(sent.contains("lodash"), "{sent}");
    for never in ["django", "nhs-login", "example-health", "vendored-widget"] {
        assert!(
            !sent.to_lowercase().contains(never),
            "{never} was sent: {sent}"
        );
    }
}

#[test]
fn offline_sends_nothing() {
    let server = Server::start_with_body(|path, _, body| osv(path, body));
    let (_, code, stderr) = audit(&server.url(""), &["--offline"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--offline"), "{stderr}");
    assert_eq!(server.connections(), 0);
}

#[test]
fn failures_are_exit_2_and_a_busy_server_is_retried() {
    // 429, then the answer.
    let server = Server::start_with_body(|path, nth, body| {
        if path == "/v1/querybatch" && nth == 1 {
            Reply::RetryAfter(429)
        } else {
            osv(path, body)
        }
    });
    let (_, code, stderr) = audit(&server.url(""), &[]);
    assert_eq!(code, 1, "{stderr}");

    // Always 500: an audit never passes on a partial answer.
    let server = Server::start_with_body(|_, _, _| Reply::RetryAfter(500));
    let (report, code, stderr) = audit(&server.url(""), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(report, Value::Null);

    // A stall, an oversized answer, a refused connection.
    let server = Server::start_with_body(|_, _, _| Reply::Stall(Duration::from_secs(4)));
    let (_, code, stderr) = audit(&server.url(""), &[]);
    assert_eq!(code, 2, "stall: {stderr}");
    let server = Server::start_with_body(|_, _, _| Reply::Claims(64 * 1024 * 1024));
    let (_, code, stderr) = audit(&server.url(""), &[]);
    assert_eq!(code, 2, "oversized: {stderr}");
    let (_, code, stderr) = audit(&format!("http://127.0.0.1:{}", refused_port()), &[]);
    assert_eq!(code, 2, "refused: {stderr}");

    // A record the batch named but that is not there.
    let server = Server::start_with_body(|path, _, body| {
        if path.starts_with("/v1/vulns/") {
            Reply::Body(404, Vec::new())
        } else {
            osv(path, body)
        }
    });
    let (_, code, stderr) = audit(&server.url(""), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");
}

#[test]
fn local_sources_and_private_names_in_any_case_are_never_sent() {
    let server = Server::start_with_body(|path, _, body| osv(path, body));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("charter-audit.toml");
    std::fs::write(&config, "private = [\"LEFT_PAD\"]\n").unwrap();
    let home = CargoHome::new();
    let output = osv_audit(&home, &fixture("sboms/edge.cdx.json"), &server.url(""))
        .args(["--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.code().unwrap() < 2, "{output:?}");
    let sent = sent(&server);
    assert!(sent.contains("requests"), "{sent}");
    for never in ["left-pad", "local-lib", "file:"] {
        assert!(!sent.contains(never), "{never} was sent: {sent}");
    }
    // What was not sent, with no offline source for its ecosystem, is not clean.
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let unchecked = report["coverage"]["unchecked"].to_string();
    assert!(
        unchecked.contains("left-pad") && unchecked.contains("not sent to the OSV API"),
        "{unchecked}"
    );
}

#[test]
fn the_configuration_beside_the_sbom_keeps_its_private_names_wherever_the_audit_runs() {
    let server = Server::start_with_body(|path, _, body| osv(path, body));
    // The supplier's repository: its SBOM and configuration; the audit runs from elsewhere.
    let repository = tempfile::tempdir().unwrap();
    let build = repository.path().join("build");
    std::fs::create_dir(&build).unwrap();
    std::fs::create_dir(repository.path().join(".git")).unwrap();
    std::fs::copy(fixture("sboms/portal.cdx.json"), build.join("bom.json")).unwrap();
    std::fs::write(
        repository.path().join("charter-audit.toml"),
        "private = [\"djan*\"]\n",
    )
    .unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let home = CargoHome::new();
    let output = osv_audit(&home, &build.join("bom.json"), &server.url(""))
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.code() == Some(0) || output.status.code() == Some(1),
        "{stderr}"
    );
    assert!(stderr.contains("using the configuration in"), "{stderr}");
    let sent = sent(&server);
    assert!(sent.contains("lodash"), "{sent}");
    assert!(
        !sent.to_lowercase().contains("django"),
        "django was sent: {sent}"
    );
    assert!(!stderr.contains("no `private` patterns"), "{stderr}");
}

#[test]
fn sending_with_no_private_patterns_says_so() {
    let server = Server::start_with_body(|path, _, body| osv(path, body));
    let (report, _, stderr) = audit(&server.url(""), &[]);
    assert!(report.is_object(), "{stderr}");
    assert!(
        stderr.contains("no `private` patterns are configured"),
        "{stderr}"
    );
}

#[test]
fn an_audit_that_asked_the_api_is_attested_with_the_api_as_a_source() {
    let server = Server::start_with_body(|path, _, body| osv(path, body));
    let dir = tempfile::tempdir().unwrap();
    let home = CargoHome::new();
    let prefix = dir.path().join("release");
    let keygen = charter_audit(&home)
        .args(["keygen", "--out"])
        .arg(&prefix)
        .output()
        .unwrap();
    assert!(keygen.status.success(), "{keygen:?}");
    let out = dir.path().join("evidence");
    let (_, code, stderr) = audit(
        &server.url(""),
        &[
            "--out-dir",
            out.to_str().unwrap(),
            "--sign-key",
            prefix.with_extension("key").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    let envelope = out.join("attestation.intoto.json");
    let verified = charter_audit(&home)
        .arg("verify")
        .arg(&envelope)
        .arg("--key")
        .arg(prefix.with_extension("pub"))
        .args(["--now", "2026-08-26T00:00:00Z"])
        .output()
        .unwrap();
    assert_eq!(verified.status.code(), Some(1), "{verified:?}");
    let envelope_json: Value = serde_json::from_slice(&std::fs::read(&envelope).unwrap()).unwrap();
    use base64::Engine;
    let statement: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(envelope_json["payload"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let sources = statement["predicate"]["sources"].as_array().unwrap();
    assert!(
        sources
            .iter()
            .any(|s| s["name"] == "osv-api" && s["advisories"] == 2),
        "{sources:?}"
    );
    // Kept for .ci/run, which validates every predicate against docs/predicate-v1.schema.json.
    let samples = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("dsse-samples");
    std::fs::create_dir_all(&samples).unwrap();
    std::fs::copy(&envelope, samples.join("sbom-osv-api.intoto.json")).unwrap();
}

#[test]
fn a_record_naming_many_packages_is_held_once_in_bounded_memory() {
    // 1 MiB of answer: 20,000 packages and 2,000 long references. Copied for each package,
    // its references alone would be 10 GB; held once, the audit runs in a 512 MiB address
    // space.
    let mut affected: Vec<Value> = (0..20_000)
        .map(|i| json!({"package": {"ecosystem": "npm", "name": format!("p{i}")}}))
        .collect();
    affected.push(json!({
        "package": {"ecosystem": "npm", "name": "lodash"},
        "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}],
    }));
    let references: Vec<Value> = (0..2_000)
        .map(|i| json!({"type": "WEB", "url": format!("https://example.org/{i:0>240}")}))
        .collect();
    let record = serde_json::to_vec(&json!({
        "id": "GHSA-35jh-r3h4-6jhm", "modified": "2024-02-16T08:06:42Z",
        "published": "2021-02-15T20:00:00Z", "summary": "Command injection in lodash",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": affected, "references": references,
    }))
    .unwrap();
    assert!(record.len() > 1_000_000, "{}", record.len());
    let server = Server::start_with_body(move |path, _, body| {
        if path == "/v1/vulns/GHSA-35jh-r3h4-6jhm" {
            Reply::Body(200, record.clone())
        } else {
            osv(path, body)
        }
    });
    let home = CargoHome::new();
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "ulimit -v 524288; exec {:?} audit --now 2026-08-25T00:00:00Z --format json --sbom {:?} --advisory-db {:?} --advisory-db-date 2026-08-21 --osv-api {:?}",
            env!("CARGO_BIN_EXE_charter-audit"),
            fixture("sboms/portal.cdx.json"),
            fixture("advisories/rustsec"),
            server.url(""),
        ))
        .env("CARGO_HOME", home.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let lodash = finding(&report, "GHSA-35jh-r3h4-6jhm");
    assert_eq!(lodash["references"].as_array().unwrap().len(), 2_000);
}

#[test]
fn the_osv_records_fetched_in_a_run_are_capped() {
    let server = Server::start_with_body(|path, _, body| {
        if path != "/v1/querybatch" {
            return osv(path, body);
        }
        let request: Value = serde_json::from_slice(body).unwrap();
        let results: Vec<Value> = request["queries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|_| {
                let vulns: Vec<Value> = (0..5_001)
                    .map(|i| json!({"id": format!("GHSA-{i}")}))
                    .collect();
                json!({ "vulns": vulns })
            })
            .collect();
        Reply::Body(
            200,
            serde_json::to_vec(&json!({ "results": results })).unwrap(),
        )
    });
    let (report, code, stderr) = audit(&server.url(""), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(report, Value::Null);
    assert!(stderr.contains("over the limit of 5000 a run"), "{stderr}");
    let fetched = server
        .paths()
        .iter()
        .filter(|p| p.starts_with("/v1/vulns/"))
        .count();
    assert_eq!(fetched, 0, "no record fetched");
}

/// The OSV API is asked once the SBOM of a Cargo audit is made: a run that stops at its SBOM
/// (here a supplier URL that is no URL) sends nothing and says why it stopped.
#[test]
fn a_cargo_audit_that_stops_at_its_sbom_sends_nothing() {
    let server = Server::start_with_body(|path, _, body| osv(path, body));
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .args(["audit", "--now", "2026-08-25T00:00:00Z", "--lockfile"])
        .arg(fixture("workspaces/demo/Cargo.lock"))
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .arg("--registry-index")
        .arg(fixture("registry-index"))
        .args(["--osv-api", &server.url(""), "--http-timeout", "2"])
        .args(["--supplier", "Example Ltd", "--supplier-url", "notaurl"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("notaurl"), "{stderr}");
    assert_eq!(server.connections(), 0, "{stderr}");
}
