//! What charter-audit prints to a terminal or a CI log: text from an SBOM, a database or a
//! server is shown, never acted on. Nothing of it may move the cursor, rewrite a line or hide
//! (escape sequences, a lone carriage return, line separators, zero-width and bidi
//! characters), and none of it may begin a line, where GitHub Actions would run it as a
//! workflow command (`::error::`, `::add-mask::`, `::stop-commands::`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use serde_json::{Value, json};
use util::http::{Reply, Server};
use util::{CargoHome, charter_audit, fixture};

/// Text meant to take over a terminal and a CI log.
const HOSTILE: &str = "2.1.0\n::error::pwned\r::add-mask::secret\u{1b}]0;title\u{7}\u{1b}[2J\u{2028}::warning file=x::pwned\u{2029}##[error]pwned\u{200b}\u{202e}";

/// Fails unless `text` is inert in a terminal and in the GitHub Actions log.
fn assert_inert(what: &str, text: &str) {
    for c in [
        '\u{1b}', '\u{7}', '\r', '\u{9b}', '\u{2028}', '\u{2029}', '\u{200b}', '\u{202e}',
    ] {
        assert!(!text.contains(c), "{what} holds {c:?}: {text:?}");
    }
    for line in text.lines() {
        let line = line.trim_start();
        assert!(
            !line.starts_with("::") && !line.starts_with("##["),
            "{what} has a line the runner would act on: {line:?}\n{text}"
        );
    }
}

#[test]
fn workflow_commands_in_an_sbom_never_reach_the_ci_log() {
    let mut sbom: Value =
        serde_json::from_slice(&std::fs::read(fixture("sboms/portal.cdx.json")).unwrap()).unwrap();
    sbom["metadata"]["component"]["version"] = HOSTILE.into();
    sbom["metadata"]["supplier"]["name"] = HOSTILE.into();
    // A component no database can be asked about: it is listed as not checked, by name.
    sbom["components"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "library", "name": format!("left-pad\n::error::{HOSTILE}"), "version": HOSTILE}));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portal.cdx.json");
    std::fs::write(&path, serde_json::to_vec(&sbom).unwrap()).unwrap();
    let home = CargoHome::new();
    for format in ["human", "markdown"] {
        let output = charter_audit(&home)
            .args(["audit", "--now", "2026-08-25T00:00:00Z", "--format", format])
            .arg("--sbom")
            .arg(&path)
            .arg("--advisory-db")
            .arg(fixture("advisories/rustsec"))
            .args(["--advisory-db-date", "2026-08-21"])
            .output()
            .unwrap();
        assert!(output.status.code().unwrap() < 2, "{output:?}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(stdout.contains("pwned"), "the text is shown: {stdout}");
        assert_inert(&format!("--format {format}"), &stdout);
        assert_inert("standard error", &String::from_utf8_lossy(&output.stderr));
    }

    // Judged by the bsi-tr-03183-2 profile, whose findings name components: inert too.
    let config = dir.path().join("charter-audit.toml");
    std::fs::write(
        &config,
        "[sbom-completeness]\nprofile = \"bsi-tr-03183-2\"\n",
    )
    .unwrap();
    let output = charter_audit(&home)
        .args(["audit", "--now", "2026-08-25T00:00:00Z"])
        .arg("--sbom")
        .arg(&path)
        .arg("--config")
        .arg(&config)
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .args(["--advisory-db-date", "2026-08-21"])
        .output()
        .unwrap();
    assert!(output.status.code().unwrap() < 2, "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("TR-03183-2 §5.2.2"), "{stdout}");
    assert!(stdout.contains("pwned"), "the text is shown: {stdout}");
    assert_inert("--format human, bsi-tr-03183-2", &stdout);
    assert_inert("standard error", &String::from_utf8_lossy(&output.stderr));

    // The same text in an SBOM that cannot be read: the error names it, inert.
    sbom["specVersion"] = HOSTILE.into();
    std::fs::write(&path, serde_json::to_vec(&sbom).unwrap()).unwrap();
    let output = charter_audit(&home)
        .args(["audit", "--offline", "--sbom"])
        .arg(&path)
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("specVersion 2.1.0 ::error::pwned"),
        "{stderr}"
    );
    assert_inert("the error", &stderr);
}

#[test]
fn escape_sequences_from_a_server_never_reach_the_terminal() {
    // An OSV API whose answer is JSON of the wrong shape: the parser's message quotes it.
    let server = Server::start(|path, _| {
        if path == "/v1/querybatch" {
            Reply::Body(
                200,
                serde_json::to_vec(&json!({ "results": HOSTILE })).unwrap(),
            )
        } else {
            Reply::Body(404, Vec::new())
        }
    });
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .args([
            "audit",
            "--now",
            "2026-08-25T00:00:00Z",
            "--http-timeout",
            "5",
        ])
        .arg("--sbom")
        .arg(fixture("sboms/portal.cdx.json"))
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .args(["--advisory-db-date", "2026-08-21", "--osv-api"])
        .arg(server.url(""))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("pwned"),
        "the server's text is shown: {stderr}"
    );
    assert_inert("the error", &stderr);
}

#[test]
fn workflow_commands_in_a_signed_attestation_never_reach_the_ci_log() {
    use base64::Engine;
    use charter_audit::attest::dsse::{self, IN_TOTO};
    use charter_audit::attest::keys::PrivateKey;

    // The supplier's own key signs a predicate whose words are commands: `verify` shows them
    // to a recipient whose CI log must not run them.
    let home = CargoHome::new();
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("supplier");
    util::keygen(&home, &prefix);
    let evidence = dir.path().join("evidence");
    let audit = util::demo_audit(&home)
        .args(["--sign-key"])
        .arg(prefix.with_extension("key"))
        .arg("--out-dir")
        .arg(&evidence)
        .output()
        .unwrap();
    assert_eq!(audit.status.code(), Some(1), "{audit:?}");
    let envelope: dsse::Envelope =
        serde_json::from_slice(&std::fs::read(evidence.join("attestation.intoto.json")).unwrap())
            .unwrap();
    let mut statement: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(envelope.payload)
            .unwrap(),
    )
    .unwrap();
    let predicate = &mut statement["predicate"];
    predicate["product"]["version"] = HOSTILE.into();
    predicate["findings"]["ids"]["::error::pwned"] = json!([HOSTILE]);
    predicate["sources"][0]["name"] = "::error::pwned".into();
    let key = PrivateKey::from_pem(
        &std::fs::read_to_string(prefix.with_extension("key")).unwrap(),
        "test",
    )
    .unwrap();
    let signed = dsse::sign(&serde_json::to_vec(&statement).unwrap(), IN_TOTO, &key).unwrap();
    let path = dir.path().join("hostile.intoto.json");
    std::fs::write(&path, serde_json::to_vec(&signed).unwrap()).unwrap();
    let output = charter_audit(&home)
        .arg("verify")
        .arg(&path)
        .arg("--key")
        .arg(prefix.with_extension("pub"))
        .args(["--now", "2026-08-26T00:00:00Z"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    // Shown as text (authentic, not accepted), or refused as no predicate of ours (exit 3):
    // never acted on either way.
    match output.status.code() {
        Some(1) => assert!(stdout.contains("::error::pwned ("), "{stdout}"),
        Some(3) => assert!(stdout.starts_with("NOT AUTHENTIC: "), "{stdout}"),
        other => panic!("exit {other:?}: {stdout}"),
    }
    assert_inert("verify's output", &stdout);
    assert_inert("standard error", &String::from_utf8_lossy(&output.stderr));
}
