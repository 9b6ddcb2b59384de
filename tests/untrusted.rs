//! The audited project is untrusted input: nothing of it runs beyond `cargo metadata`, with the
//! compiler wrappers and any compiler the project configures overridden. Advisory text is
//! untrusted too: it never reaches a terminal or a Markdown page as anything but text.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::path::Path;

use util::{CargoHome, charter_audit, copy_workspace, fixture, json_of, success};

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
        xml.contains("&lt;script&gt;alert(1)&lt;/script&gt; red line"),
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
            fixture("vendor").to_str().unwrap()
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

#[test]
fn advisory_text_cannot_drive_a_terminal_or_become_markup() {
    // An OSV record whose words are hostile: escape sequences (clear screen, a hyperlink), HTML
    // and Markdown links, and a javascript: reference.
    let db = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("advisories/osv/RUSTSEC-2022-0013.json")).unwrap();
    let mut record: serde_json::Value = serde_json::from_str(&text).unwrap();
    // And one long unbroken word, which the HTML page must wrap (ci/check_html.py measures it).
    record["summary"] = format!("\u{1b}[2J\u{1b}]8;;https://evil.example\u{7}click\u{1b}]8;;\u{7} <script>alert(1)</script> | [x](javascript:alert(1)) {}", "W".repeat(600)).into();
    record["references"] = serde_json::json!([{"type": "WEB", "url": "javascript:alert(1)"}]);
    std::fs::write(
        db.path().join("RUSTSEC-2022-0013.json"),
        serde_json::to_vec(&record).unwrap(),
    )
    .unwrap();
    let home = CargoHome::new();
    let run = |format: &str| {
        let output = charter_audit(&home)
            .args(["audit", "--offline", "--now", "2026-08-25T00:00:00Z"])
            .args(["--format", format, "--lockfile"])
            .arg(fixture("workspaces/demo/Cargo.lock"))
            .arg("--osv-db")
            .arg(db.path())
            .arg("--registry-index")
            .arg(fixture("registry-index"))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1));
        String::from_utf8(output.stdout).unwrap()
    };
    let human = run("human");
    assert!(
        !human.contains('\u{1b}') && !human.contains('\u{7}'),
        "{human:?}"
    );
    assert!(human.contains("click"), "{human}");

    let markdown = run("markdown");
    assert!(!markdown.contains('\u{1b}'), "{markdown:?}");
    assert!(!markdown.contains("<script>"), "{markdown}");
    assert!(markdown.contains("&lt;script&gt;"), "{markdown}");
    assert!(!markdown.contains("[x](javascript"), "{markdown}");
    assert!(!markdown.contains("](javascript:"), "{markdown}");

    let html = run("html");
    util::save_html_sample("hostile.html", html.as_bytes());
    assert!(!html.contains('\u{1b}'), "{html:?}");
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the report's own script"
    );
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    // The javascript: reference is no link; the words in the title stay words.
    assert!(!html.contains("href=\"javascript:"), "{html}");

    let sarif = run("sarif");
    let log: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    assert!(!sarif.contains("\\u001b"), "{sarif}");
    let rule = &log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "RUSTSEC-2022-0013")
        .cloned()
        .unwrap();
    // Only https references become links.
    assert_eq!(rule.get("helpUri"), None, "{rule}");
}

#[test]
fn a_temporary_folder_inside_the_project_is_not_where_cargo_starts() {
    // TMPDIR inside the project, whose `.cargo/config.toml` sets `[env]` and whose
    // `rust-toolchain.toml` names a toolchain of its own: a cargo or rustc started below the
    // project would run the project's programs.
    let home = CargoHome::new();
    let ws = copy_workspace("demo");
    let marker = ws.path().join("ran");
    let script = tripwire(ws.path(), &marker);
    let toolchain = ws.path().join("toolchain");
    std::fs::create_dir_all(toolchain.join("bin")).unwrap();
    for program in ["rustc", "cargo"] {
        std::fs::copy(&script, toolchain.join("bin").join(program)).unwrap();
    }
    std::fs::write(
        ws.path().join("rust-toolchain.toml"),
        format!("[toolchain]\npath = {:?}\n", toolchain.to_str().unwrap()),
    )
    .unwrap();
    std::fs::create_dir_all(ws.path().join(".cargo")).unwrap();
    std::fs::write(
        ws.path().join(".cargo/config.toml"),
        format!(
            "[env]\nLD_PRELOAD = {:?}\n",
            ws.path().join("preload.so").to_str().unwrap()
        ),
    )
    .unwrap();
    let tmp = ws.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let (sbom, _, stderr) = json_of(
        charter_audit(&home)
            .env("TMPDIR", &tmp)
            // cargo and rustc as a CI job finds them: rustup's proxies on PATH, which choose the
            // toolchain from the folder they start in (`cargo test` pins it for its children).
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("CARGO")
            .env_remove("RUSTC")
            .args(["sbom", "--offline", "--manifest-path"])
            .arg(ws.path().join("Cargo.toml")),
    );
    assert_eq!(sbom["metadata"]["component"]["name"], "demo-app");
    assert!(!marker.exists(), "the project's toolchain ran");
    assert!(!stderr.contains("preload"), "{stderr}");
    // Nothing was left in the project's temporary folder either.
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
}
