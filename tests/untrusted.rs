//! The audited project is untrusted input: nothing of it runs beyond `cargo metadata`, with the
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report
//! compiler wrappers and any compiler the project configures overridden.

mod util;

use std::path::Path;

use util::{CargoHome, charter_audit, copy_workspace, json_of, success};

/// A script that leaves a marker file when anything runs it.
fn tripwire(dir: &Path, marker: &Path) -> std::path::PathBuf {
    let script = dir.join("tripwire.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\ntouch '{}'\nexit 1\n", marker.display()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    script
}

#[test]
fn project_config_cannot_run_a_wrapper_or_compiler() {
    let home = CargoHome::new();
    let ws = copy_workspace("demo");
    let marker = ws.path().join("ran");
    let script = tripwire(ws.path(), &marker);
    std::fs::create_dir_all(ws.path().join(".cargo")).unwrap();
    std::fs::write(
        ws.path().join(".cargo/config.toml"),
        format!(
            "[build]\nrustc-wrapper = {s:?}\nrustc-workspace-wrapper = {s:?}\nrustc = {s:?}\n",
            s = script.to_str().unwrap()
        ),
    )
    .unwrap();
    let (sbom, _, _) = json_of(
        charter_audit(&home)
            .args(["sbom", "--offline", "--manifest-path"])
            .arg(ws.path().join("Cargo.toml")),
    );
    assert_eq!(sbom["metadata"]["component"]["name"], "demo-app");
    assert!(!marker.exists(), "the project's configured program ran");
}

#[test]
fn wrapper_in_the_environment_is_not_run() {
    let home = CargoHome::new();
    let ws = copy_workspace("demo");
    let marker = ws.path().join("ran");
    let script = tripwire(ws.path(), &marker);
    json_of(
        charter_audit(&home)
            .env("RUSTC_WRAPPER", &script)
            .env("RUSTC_WORKSPACE_WRAPPER", &script)
            .args(["sbom", "--offline", "--manifest-path"])
            .arg(ws.path().join("Cargo.toml")),
    );
    assert!(!marker.exists(), "a compiler wrapper ran");
}

#[test]
fn manifest_strings_cannot_break_the_document() {
    // Control characters and markup in a package's description reach the SBOM as text only.
    let home = CargoHome::new();
    let ws = copy_workspace("demo");
    let app = ws.path().join("app/Cargo.toml");
    let text = std::fs::read_to_string(&app).unwrap();
    std::fs::write(
        &app,
        text.replace(
            "description = \"Appointment reminder service (charter-audit demo product)\"",
            "description = \"<script>alert(1)</script>\\u001b[31m red\\nline\"",
        ),
    )
    .unwrap();
    let (stdout, _) = success(
        charter_audit(&home)
            .args(["sbom", "--offline", "--format", "xml", "--manifest-path"])
            .arg(ws.path().join("Cargo.toml")),
    );
    let xml = String::from_utf8(stdout).unwrap();
    assert!(
        xml.contains("&lt;script&gt;alert(1)&lt;/script&gt;[31m red line"),
        "{xml}"
    );
    assert!(!xml.contains('\u{1b}'));
    util::save_sample("hostile-description.xml", xml.as_bytes());
}

#[test]
fn project_registry_cannot_run_a_credential_provider() {
    // A project whose config names a credential provider for its own registry (and a global
    // one), and a registry that asks for authentication: the provider must never run.
    use util::http::{Reply, Server};
    let ws = copy_workspace("demo");
    let marker = ws.path().join("ran");
    let script = tripwire(ws.path(), &marker);
    let server = Server::start(|path, _| match path {
        "/index/config.json" => Reply::Body(
            200,
            b"{\"dl\": \"http://127.0.0.1:1/dl\", \"auth-required\": true}".to_vec(),
        ),
        _ => Reply::Body(401, Vec::new()),
    });
    let index = format!("sparse+{}", server.url("/index/"));
    std::fs::create_dir_all(ws.path().join(".cargo")).unwrap();
    std::fs::write(
        ws.path().join(".cargo/config.toml"),
        format!(
            "[registries.evil]\nindex = {index:?}\ncredential-provider = [{s:?}]\n\n[registry]\nglobal-credential-providers = [{s:?}]\n",
            s = script.to_str().unwrap()
        ),
    )
    .unwrap();
    let app = ws.path().join("app/Cargo.toml");
    let text = std::fs::read_to_string(&app).unwrap();
    std::fs::write(
        &app,
        text.replace(
            "[dependencies]\n",
            "[dependencies]\nevil-crate = { version = \"1.0\", registry = \"evil\" }\n",
        ),
    )
    .unwrap();
    let lock = ws.path().join("Cargo.lock");
    let text = std::fs::read_to_string(&lock).unwrap();
    let text = text.replace(
        "name = \"demo-app\"\nversion = \"0.3.1\"\ndependencies = [\n",
        "name = \"demo-app\"\nversion = \"0.3.1\"\ndependencies = [\n \"evil-crate\",\n",
    );
    std::fs::write(
        &lock,
        format!(
            "{text}\n[[package]]\nname = \"evil-crate\"\nversion = \"1.0.0\"\nsource = {index:?}\nchecksum = \"{}\"\n",
            "0".repeat(64)
        ),
    )
    .unwrap();
    // A cargo home that is not offline, so that cargo does reach the registry.
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "[source.crates-io]\nreplace-with = \"v\"\n[source.v]\ndirectory = {:?}\n",
            util::fixture("vendor").to_str().unwrap()
        ),
    )
    .unwrap();
    let _ = assert_cmd::Command::cargo_bin("charter-audit")
        .unwrap()
        .env("CARGO_HOME", home.path())
        .env("SOURCE_DATE_EPOCH", util::EPOCH)
        .args(["sbom", "--manifest-path"])
        .arg(ws.path().join("Cargo.toml"))
        .output()
        .unwrap();
    assert!(
        !server.paths().is_empty(),
        "cargo never reached the registry: the test did not exercise the provider"
    );
    assert!(!marker.exists(), "the project's credential provider ran");
}
