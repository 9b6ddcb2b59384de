//! The audited project chooses URLs (its `.cargo/config.toml` names registries and where they
//! are): no credential of the auditor ever goes to a URL the project chose, and the auditor's own
//! private registry keeps working. Registries here are servers on 127.0.0.1 that log headers.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::path::Path;

use sha2::Digest;
use util::fixture;
use util::http::{Reply, Server};

const TOKEN: &str = "auditor-secret-token-7f3a";
const CRATE: &str = "private-crate";

/// `private-crate 1.0.0` as a `.crate` file (a gzip'd tar of its manifest and source).
fn crate_file() -> Vec<u8> {
    let mut archive = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    for (path, text) in [
        (
            "Cargo.toml",
            "[package]\nname = \"private-crate\"\nversion = \"1.0.0\"\nedition = \"2021\"\n",
        ),
        ("src/lib.rs", "pub fn private() {}\n"),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        archive
            .append_data(
                &mut header,
                format!("{CRATE}-1.0.0/{path}"),
                text.as_bytes(),
            )
            .unwrap();
    }
    archive.into_inner().unwrap().finish().unwrap()
}

/// A sparse registry asking for authentication, serving `private-crate 1.0.0`.
fn registry() -> (Server, String, String) {
    let file = crate_file();
    let sum = hex::encode(sha2::Sha256::digest(&file));
    let line = format!(
        "{{\"name\":\"{CRATE}\",\"vers\":\"1.0.0\",\"deps\":[],\"cksum\":\"{sum}\",\"features\":{{}},\"yanked\":false}}\n"
    );
    let port = std::sync::Arc::new(std::sync::OnceLock::<u16>::new());
    let p = port.clone();
    let server = Server::start(move |path, _| match path {
        "/index/config.json" => Reply::Body(
            200,
            format!(
                "{{\"dl\": \"http://127.0.0.1:{}/dl\", \"auth-required\": true}}",
                p.get().unwrap()
            )
            .into_bytes(),
        ),
        "/index/pr/iv/private-crate" => Reply::Body(200, line.clone().into_bytes()),
        "/dl/private-crate/1.0.0/download" => Reply::Body(200, file.clone()),
        _ => Reply::Body(404, Vec::new()),
    });
    port.set(server.port).unwrap();
    let index = format!("sparse+{}", server.url("/index/"));
    (server, index, sum)
}

/// A copy of the demo workspace whose app depends on `private-crate` from registry `company`,
/// locked from `locked_index`, with the project's own `.cargo/config.toml` text.
fn project(locked_index: &str, sum: &str, config: &str) -> tempfile::TempDir {
    let ws = util::copy_workspace("demo");
    std::fs::create_dir_all(ws.path().join(".cargo")).unwrap();
    std::fs::write(ws.path().join(".cargo/config.toml"), config).unwrap();
    let app = ws.path().join("app/Cargo.toml");
    let text = std::fs::read_to_string(&app).unwrap().replace(
        "[dependencies]\n",
        "[dependencies]\nprivate-crate = { version = \"1.0\", registry = \"company\" }\n",
    );
    std::fs::write(&app, text).unwrap();
    let lock = ws.path().join("Cargo.lock");
    let text = std::fs::read_to_string(&lock).unwrap().replace(
        "name = \"demo-app\"\nversion = \"0.3.1\"\ndependencies = [\n",
        "name = \"demo-app\"\nversion = \"0.3.1\"\ndependencies = [\n \"private-crate\",\n",
    );
    std::fs::write(
        &lock,
        format!(
            "{text}\n[[package]]\nname = \"{CRATE}\"\nversion = \"1.0.0\"\nsource = {locked_index:?}\nchecksum = \"{sum}\"\n"
        ),
    )
    .unwrap();
    ws
}

/// An auditor's cargo home (not offline: cargo does reach registries; crates.io stands in from
/// `fixtures/vendor`) with `config` added and a token for `company` in `credentials.toml`.
fn auditor_home(config: &str, token_in_credentials: bool) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "[source.crates-io]\nreplace-with = \"v\"\n[source.v]\ndirectory = {:?}\n{config}",
            fixture("vendor").to_str().unwrap()
        ),
    )
    .unwrap();
    if token_in_credentials {
        std::fs::write(
            home.path().join("credentials.toml"),
            format!("[registries.company]\ntoken = {TOKEN:?}\n"),
        )
        .unwrap();
    }
    home
}

fn sbom(home: &Path, ws: &Path, env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = assert_cmd::Command::cargo_bin("charter-audit").unwrap();
    cmd.env("CARGO_HOME", home)
        .env("SOURCE_DATE_EPOCH", util::EPOCH)
        .env_remove("CARGO_REGISTRY_GLOBAL_CREDENTIAL_PROVIDERS")
        .args(["sbom", "--manifest-path"])
        .arg(ws.join("Cargo.toml"));
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.output().unwrap()
}

/// No request the server received carried the token or any `Authorization` header.
fn assert_no_credential(server: &Server, case: &str) {
    for head in server.heads() {
        assert!(!head.contains(TOKEN), "{case}: the token was sent:\n{head}");
        assert!(
            !head.to_ascii_lowercase().contains("\nauthorization:"),
            "{case}: a credential was sent:\n{head}"
        );
    }
}

#[test]
fn audited_project_cannot_receive_the_auditors_registry_token() {
    let providers = "[registry]\nglobal-credential-providers = [\"cargo:token\"]\n";
    // (case, auditor's configuration, token in credentials.toml, extra environment)
    type Case<'a> = (&'a str, String, bool, Vec<(&'a str, &'a str)>);
    let cases: [Case; 4] = [
        // cargo's defaults: a token for `company`, and its index.
        ("defaults", String::new(), true, vec![]),
        (
            "index",
            "[registries.company]\nindex = \"AUDITOR\"\n".into(),
            true,
            vec![],
        ),
        // The auditor opted in to cargo's token provider, as its own private registry needs.
        (
            "provider",
            format!("{providers}[registries.company]\nindex = \"AUDITOR\"\n"),
            true,
            vec![],
        ),
        // A token for `company` in the environment only, no index of the auditor's.
        (
            "variable",
            providers.to_owned(),
            false,
            vec![("CARGO_REGISTRIES_COMPANY_TOKEN", TOKEN)],
        ),
    ];
    for (case, config, in_credentials, env) in cases {
        let (auditor, auditor_index, _) = registry();
        let (evil, evil_index, sum) = registry();
        let home = auditor_home(&config.replace("AUDITOR", &auditor_index), in_credentials);
        let ws = project(
            &evil_index,
            &sum,
            &format!("[registries.company]\nindex = {evil_index:?}\n"),
        );
        let _ = sbom(home.path(), ws.path(), &env);
        assert_no_credential(&evil, case);
        // Whatever the outcome, the project's server learned nothing it could use.
        drop(auditor);
    }
}

#[test]
fn a_registry_the_auditor_does_not_know_is_used_without_credentials() {
    // The project's own registry under a name the auditor holds nothing for still works, and
    // proves cargo does reach the servers these tests set up.
    let (evil, evil_index, sum) = registry();
    let home = auditor_home(
        "[registry]\nglobal-credential-providers = [\"cargo:token\"]\n",
        true,
    );
    let ws = project(
        &evil_index,
        &sum,
        &format!("[registries.company-own]\nindex = {evil_index:?}\n"),
    );
    let app = ws.path().join("app/Cargo.toml");
    let text = std::fs::read_to_string(&app).unwrap();
    std::fs::write(&app, text.replace("\"company\"", "\"company-own\"")).unwrap();
    let _ = sbom(home.path(), ws.path(), &[]);
    assert!(
        evil.paths().iter().any(|p| p.starts_with("/index/")),
        "cargo never reached the project's registry: {:?}",
        evil.paths()
    );
    assert_no_credential(&evil, "unknown name");
}

#[test]
fn auditors_own_private_registry_still_receives_its_token() {
    let (auditor, auditor_index, sum) = registry();
    let (evil, evil_index, _) = registry();
    let home = auditor_home(
        &format!(
            "[registry]\nglobal-credential-providers = [\"cargo:token\"]\n[registries.company]\nindex = {auditor_index:?}\n"
        ),
        true,
    );
    // The project tries to move `company` elsewhere: the auditor's definition stands.
    let ws = project(
        &auditor_index,
        &sum,
        &format!("[registries.company]\nindex = {evil_index:?}\n"),
    );
    let output = sbom(home.path(), ws.path(), &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let sbom: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let component = util::component(&sbom, CRATE);
    assert_eq!(component["version"], "1.0.0");
    assert!(
        auditor
            .heads()
            .iter()
            .any(|head| head.contains(&format!("uthorization: {TOKEN}"))),
        "the auditor's registry never received its token: {:?}",
        auditor.heads()
    );
    assert!(evil.heads().is_empty(), "{:?}", evil.paths());
}
