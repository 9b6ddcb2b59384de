//! End-to-end: `charter-audit sbom` on fixture workspaces, with real `cargo metadata` offline.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use util::{
    CargoHome, charter_audit, component, component_names, copy_workspace, depends_on, fixture,
    json_of, property, save_sample, success,
};

fn demo_manifest() -> String {
    fixture("workspaces/demo/Cargo.toml")
        .to_string_lossy()
        .into_owned()
}

/// `sbom --offline` on the demo workspace (in place) with extra flags; expects success.
fn demo_sbom(home: &CargoHome, extra: &[&str]) -> (serde_json::Value, Vec<u8>, String) {
    json_of(
        charter_audit(home)
            .args(["sbom", "--offline", "--manifest-path", &demo_manifest()])
            .args(extra),
    )
}

/// The machine-dependent facts (toolchain, host) replaced, for snapshots.
fn redact_toolchain(mut sbom: serde_json::Value) -> serde_json::Value {
    for prop in sbom["metadata"]["properties"].as_array_mut().unwrap() {
        let name = prop["name"].as_str().unwrap().to_owned();
        if [
            "charter-audit:rustc",
            "charter-audit:host",
            "charter-audit:target",
        ]
        .contains(&name.as_str())
        {
            prop["value"] = format!("[{name}]").into();
        }
    }
    sbom["serialNumber"] = "[serial]".into();
    sbom["metadata"]["tools"][0]["version"] = "[version]".into();
    sbom
}

#[test]
fn demo_workspace_sbom() {
    let home = CargoHome::new();
    let (sbom, bytes, stderr) = json_of(charter_audit(&home).args([
        "sbom",
        "--manifest-path",
        &demo_manifest(),
        "--offline",
        "--supplier",
        "Example Health Ltd",
        "--supplier-url",
        "https://example.org",
        "--supplier-contact",
        "security@example.org",
        // 1.5 as it always was (1.6, the default since, is in tests/sbom_1_6.rs).
        "--spec-version",
        "1.5",
    ]));
    save_sample("demo-1.5.json", &bytes);

    // Normal and build dependencies of the host; no dev-dependency, no Windows-only crate.
    assert_eq!(
        component_names(&sbom),
        [
            "aho-corasick 0.7.18",
            "atty 0.2.14",
            "cc 1.0.72",
            "demo-util 0.3.1",
            "libc 0.2.112",
            "memchr 2.4.1",
            "regex 1.5.4",
            "regex-syntax 0.6.25",
            "smallvec 1.6.0",
        ]
    );
    let product = &sbom["metadata"]["component"];
    assert_eq!(product["name"], "demo-app");
    assert_eq!(product["type"], "application");
    assert_eq!(product["supplier"]["name"], "Example Health Ltd");
    assert_eq!(sbom["metadata"]["authors"][0]["name"], "Example Health Ltd");
    assert_eq!(sbom["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
    assert_eq!(
        property(&sbom, "charter-audit:inventory"),
        Some("cargo-metadata")
    );
    assert!(
        property(&sbom, "charter-audit:rustc")
            .unwrap()
            .starts_with("rustc ")
    );
    assert_eq!(sbom["compositions"][0]["aggregate"], "complete");

    // The build dependency has its own scope; the graph is the resolved one.
    assert_eq!(component(&sbom, "cc")["scope"], "excluded");
    assert_eq!(component(&sbom, "regex")["scope"], "required");
    assert_eq!(
        depends_on(&sbom, "demo-app"),
        [
            "pkg:cargo/cc@1.0.72",
            "pkg:cargo/demo-util@0.3.1?download_url=file:util",
            "pkg:cargo/regex@1.5.4",
        ]
    );
    assert_eq!(
        depends_on(&sbom, "regex"),
        [
            "pkg:cargo/aho-corasick@0.7.18",
            "pkg:cargo/memchr@2.4.1",
            "pkg:cargo/regex-syntax@0.6.25",
        ]
    );

    // Hash from Cargo.lock, licences as SPDX expressions, references from the manifest.
    let smallvec = component(&sbom, "smallvec");
    assert_eq!(smallvec["purl"], "pkg:cargo/smallvec@1.6.0");
    assert_eq!(
        smallvec["hashes"][0]["content"],
        "1a55ca5f3b68e41c979bf8c46a6f1da892ca4db8f94023ce0bd32407573b1ac0"
    );
    assert_eq!(smallvec["licenses"][0]["expression"], "MIT OR Apache-2.0");
    assert_eq!(smallvec["author"], "The Servo Project Developers");
    // A non-SPDX licence is kept as a named licence, with a warning.
    let util = component(&sbom, "demo-util");
    assert_eq!(
        util["licenses"][0]["license"]["name"],
        "Example Health Proprietary Licence"
    );
    assert!(stderr.contains("demo-util 0.3.1: licence `Example Health Proprietary Licence` is not an SPDX expression"), "{stderr}");

    // No absolute path of this machine anywhere.
    let text = String::from_utf8(bytes).unwrap();
    assert!(
        !text.contains(env!("CARGO_MANIFEST_DIR")),
        "absolute path leaked"
    );

    insta::assert_json_snapshot!("demo_workspace", redact_toolchain(sbom));
}

#[test]
fn byte_identical_across_runs_and_folders() {
    let home = CargoHome::new();
    let run = |dir: &std::path::Path| {
        let manifest = dir.join("Cargo.toml");
        let (stdout, _) = success(
            charter_audit(&home)
                .args(["sbom", "--offline", "--manifest-path"])
                .arg(&manifest),
        );
        stdout
    };
    let first = copy_workspace("demo");
    let second = copy_workspace("demo");
    let a = run(first.path());
    let b = run(first.path());
    let c = run(second.path());
    assert_eq!(a, b, "two runs differ");
    assert_eq!(a, c, "two folders differ");
    // The serial number is derived from the content when SOURCE_DATE_EPOCH is set.
    let sbom: serde_json::Value = serde_json::from_slice(&a).unwrap();
    assert!(
        sbom["serialNumber"]
            .as_str()
            .unwrap()
            .starts_with("urn:uuid:")
    );
}

#[test]
fn serial_number_is_random_without_source_date_epoch() {
    let home = CargoHome::new();
    let serial = || {
        let (sbom, _, _) = json_of(charter_audit(&home).env_remove("SOURCE_DATE_EPOCH").args([
            "sbom",
            "--offline",
            "--manifest-path",
            &demo_manifest(),
        ]));
        sbom["serialNumber"].as_str().unwrap().to_owned()
    };
    assert_ne!(serial(), serial());
}

#[test]
fn dev_dependencies_and_targets_on_request() {
    let home = CargoHome::new();
    let (with_dev, _, _) = demo_sbom(&home, &["--include-dev"]);
    assert_eq!(component(&with_dev, "ansi_term")["scope"], "excluded");
    assert_eq!(
        property(&with_dev, "charter-audit:dependency-kinds"),
        Some("normal,build,dev")
    );

    let (all, bytes, _) = demo_sbom(&home, &["--target", "all"]);
    save_sample("demo-all-targets.json", &bytes);
    assert_eq!(component(&all, "winapi")["version"], "0.3.9");
    assert_eq!(property(&all, "charter-audit:target"), Some("all"));

    let (windows, _, _) = demo_sbom(&home, &["--target", "x86_64-pc-windows-msvc"]);
    let names = component_names(&windows);
    assert!(names.contains(&"winapi 0.3.9".to_owned()), "{names:?}");
    assert!(
        !names.contains(&"libc 0.2.112".to_owned()),
        "libc is cfg(unix): {names:?}"
    );
}

#[test]
fn features_change_the_graph() {
    let home = CargoHome::new();
    let (plain, _, _) = demo_sbom(&home, &[]);
    assert!(!depends_on(&plain, "demo-util").contains(&"pkg:cargo/memchr@2.4.1".to_owned()));
    for flags in [
        vec!["--features", "demo-util/fast-search"],
        vec!["--all-features"],
    ] {
        let (featured, _, _) = demo_sbom(&home, &flags);
        assert!(
            depends_on(&featured, "demo-util").contains(&"pkg:cargo/memchr@2.4.1".to_owned()),
            "{flags:?}"
        );
    }
}

#[test]
fn xml_and_spec_1_4() {
    let home = CargoHome::new();
    for (format, spec, name) in [
        ("xml", "1.5", "demo-1.5.xml"),
        ("json", "1.4", "demo-1.4.json"),
        ("xml", "1.4", "demo-1.4.xml"),
    ] {
        let (stdout, _) = success(
            charter_audit(&home)
                .args(["sbom", "--offline", "--manifest-path", &demo_manifest()])
                .args(["--format", format, "--spec-version", spec]),
        );
        save_sample(name, &stdout);
        let text = String::from_utf8(stdout).unwrap();
        let bom = if format == "xml" {
            assert!(text.contains(&format!("http://cyclonedx.org/schema/bom/{spec}")));
            cyclonedx_bom::models::bom::Bom::parse_from_xml_with_version(
                text.as_bytes(),
                if spec == "1.4" {
                    cyclonedx_bom::models::bom::SpecVersion::V1_4
                } else {
                    cyclonedx_bom::models::bom::SpecVersion::V1_5
                },
            )
            .unwrap()
        } else {
            assert!(text.contains("\"specVersion\": \"1.4\""));
            cyclonedx_bom::models::bom::Bom::parse_from_json(text.as_bytes()).unwrap()
        };
        assert_eq!(bom.components.unwrap().0.len(), 9, "{name}");
    }
}

#[test]
fn output_file_is_written() {
    let home = CargoHome::new();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sbom.cdx.json");
    charter_audit(&home)
        .args([
            "sbom",
            "--offline",
            "--manifest-path",
            &demo_manifest(),
            "-o",
        ])
        .arg(&out)
        .assert()
        .success()
        .stdout("");
    let sbom: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(sbom["metadata"]["component"]["name"], "demo-app");
}

#[test]
fn product_can_be_named() {
    let home = CargoHome::new();
    // The SBOM of a member is that member and what it reaches, not the rest of the workspace.
    let (member, _, _) = demo_sbom(&home, &["--product", "demo-util"]);
    assert_eq!(member["metadata"]["component"]["name"], "demo-util");
    assert_eq!(
        component_names(&member),
        ["atty 0.2.14", "libc 0.2.112", "smallvec 1.6.0"]
    );

    // A member's own manifest names that member as the product.
    let (util, _, _) = json_of(
        charter_audit(&home)
            .args(["sbom", "--offline", "--manifest-path"])
            .arg(fixture("workspaces/demo/util/Cargo.toml")),
    );
    assert_eq!(util["metadata"]["component"]["name"], "demo-util");

    let (suite, bytes, stderr) = demo_sbom(&home, &["--product", "reminder-suite"]);
    assert!(
        stderr.contains("--product `reminder-suite` is not a package of the workspace (its packages: demo-app, demo-util)"),
        "{stderr}"
    );
    save_sample("demo-synthetic-product.json", &bytes);
    let product = &suite["metadata"]["component"];
    assert_eq!(product["name"], "reminder-suite");
    let entry = suite["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["ref"] == product["bom-ref"])
        .unwrap();
    assert_eq!(
        entry["dependsOn"].as_array().unwrap().len(),
        2,
        "both members"
    );
}

#[test]
fn every_lockfile_format_gives_the_same_components() {
    let home = CargoHome::new();
    let mut seen = Vec::new();
    for path in [
        "lockfiles/demo-v1.Cargo.lock",
        "lockfiles/demo-v2.Cargo.lock",
        "workspaces/demo/Cargo.lock",
    ] {
        let (sbom, bytes, _) = json_of(
            charter_audit(&home)
                .args(["sbom", "--lockfile"])
                .arg(fixture(path)),
        );
        save_sample(&format!("lockfile-{}.json", path.replace('/', "-")), &bytes);
        assert_eq!(sbom["compositions"][0]["aggregate"], "unknown");
        assert_eq!(
            property(&sbom, "charter-audit:inventory"),
            Some("cargo-lock")
        );
        assert_eq!(sbom["metadata"]["component"]["name"], "demo-app");
        let summary: Vec<(String, String)> = sbom["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["purl"].as_str().unwrap().to_owned(),
                    c["hashes"][0]["content"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        // Every package is included, dev and Windows-only ones too, with no scope.
        assert!(
            summary
                .iter()
                .any(|(p, _)| p == "pkg:cargo/ansi_term@0.12.1")
        );
        assert!(summary.iter().any(|(p, _)| p == "pkg:cargo/winapi@0.3.9"));
        assert!(sbom["components"][0].get("scope").is_none());
        seen.push((summary, depends_on(&sbom, "regex")));
    }
    assert_eq!(seen[0], seen[1], "v1 and v2 differ");
    assert_eq!(seen[1], seen[2], "v2 and v4 differ");
    assert_eq!(
        property_of_lockfile_version(&fixture("lockfiles/demo-v1.Cargo.lock"), &home),
        "1"
    );
}

fn property_of_lockfile_version(path: &std::path::Path, home: &CargoHome) -> String {
    let (sbom, _, _) = json_of(charter_audit(home).args(["sbom", "--lockfile"]).arg(path));
    property(&sbom, "charter-audit:lockfile-version")
        .unwrap()
        .to_owned()
}

#[test]
fn lockfile_mode_refuses_cargo_only_flags() {
    let home = CargoHome::new();
    for flag in [
        &["--features", "x"][..],
        &["--target", "all"][..],
        &["--include-dev"][..],
        &["--all-features"][..],
    ] {
        let output = charter_audit(&home)
            .args(["sbom", "--lockfile"])
            .arg(fixture("workspaces/demo/Cargo.lock"))
            .args(flag)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{flag:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("cannot be used with"), "{stderr}");
    }
}

#[test]
fn git_dependency_falls_back_to_the_lockfile_offline() {
    let home = CargoHome::new();
    let (sbom, bytes, stderr) = json_of(
        charter_audit(&home)
            .args(["sbom", "--offline", "--manifest-path"])
            .arg(fixture("workspaces/with-git/Cargo.toml")),
    );
    save_sample("with-git-fallback.json", &bytes);
    assert!(
        stderr.contains("warning: cargo metadata could not reach a source"),
        "{stderr}"
    );
    assert!(stderr.contains("the inventory was read from"), "{stderr}");
    assert_eq!(
        property(&sbom, "charter-audit:inventory"),
        Some("cargo-lock")
    );
    assert_eq!(property(&sbom, "charter-audit:lockfile-version"), Some("3"));
    assert_eq!(
        property(&sbom, "charter-audit:lockfile-fallback"),
        Some("cargo metadata could not reach a source")
    );
    assert_eq!(sbom["compositions"][0]["aggregate"], "unknown");
    let git = component(&sbom, "nhs-number");
    assert_eq!(
        git["purl"],
        "pkg:cargo/nhs-number@0.2.0?vcs_url=git%2Bhttps:%2F%2Fgithub.com%2Fexample-health%2Fnhs-number%409f1c2e4b7a6d5c3e2f1a0b9c8d7e6f5a4b3c2d1e"
    );
    assert!(
        git.get("hashes").is_none(),
        "git packages have no registry checksum"
    );
    assert_eq!(sbom["metadata"]["component"]["name"], "referral-gateway");
    let text = String::from_utf8(bytes).unwrap();
    assert!(
        !text.contains(env!("CARGO_MANIFEST_DIR")),
        "absolute path leaked"
    );
}

#[test]
fn real_lockfiles_with_git_dependencies() {
    // Real projects' lockfiles (copies of ../shared/lockfiles; .ci/run checks all of those).
    let home = CargoHome::new();
    for (file, packages) in [
        ("nushell-2026-08.Cargo.lock", 1035),
        ("meilisearch-2026-07.Cargo.lock", 830),
    ] {
        let (sbom, bytes, _) = json_of(
            charter_audit(&home)
                .args(["sbom", "--lockfile"])
                .arg(fixture(&format!("lockfiles/real/{file}"))),
        );
        save_sample(&format!("real-{file}.json"), &bytes);
        let components = sbom["components"].as_array().unwrap();
        let product_is_member = sbom["metadata"]["component"]["purl"].is_string();
        let expected = if product_is_member {
            packages - 1
        } else {
            packages
        };
        assert_eq!(components.len(), expected, "{file}");
        let git: Vec<_> = components
            .iter()
            .filter(|c| c["purl"].as_str().unwrap().contains("vcs_url=git"))
            .collect();
        assert!(!git.is_empty(), "{file} has git dependencies");
        // Every registry package has its checksum.
        for c in components {
            if c["purl"].as_str().unwrap().contains('?') {
                continue;
            }
            if c["properties"][0]["value"] == "crates.io" {
                assert!(
                    c["hashes"][0]["content"].is_string(),
                    "{file}: {}",
                    c["name"]
                );
            }
        }
        // The same package twice (two versions) keeps two distinct bom-refs.
        let mut refs: Vec<&str> = components
            .iter()
            .map(|c| c["bom-ref"].as_str().unwrap())
            .collect();
        refs.sort_unstable();
        let before = refs.len();
        refs.dedup();
        assert_eq!(before, refs.len(), "{file}: duplicate bom-refs");
    }
}

#[test]
fn a_workspace_of_two_binaries_is_named_alike_wherever_it_is() {
    let home = CargoHome::new();
    let make = |folder: &str| {
        let root = tempfile::tempdir().unwrap();
        let ws = root.path().join(folder);
        for member in ["portal", "worker"] {
            std::fs::create_dir_all(ws.join(member).join("src")).unwrap();
            std::fs::write(
                ws.join(member).join("Cargo.toml"),
                format!(
                    "[package]\nname = \"{member}\"\nversion = \"1.0.0\"\nedition = \"2021\"\n"
                ),
            )
            .unwrap();
            std::fs::write(ws.join(member).join("src/main.rs"), "fn main() {}\n").unwrap();
        }
        std::fs::write(
            ws.join("Cargo.toml"),
            "[workspace]\nmembers = [\"portal\", \"worker\"]\nresolver = \"2\"\n",
        )
        .unwrap();
        std::fs::write(
            ws.join("Cargo.lock"),
            "version = 4\n\n[[package]]\nname = \"portal\"\nversion = \"1.0.0\"\n\n[[package]]\nname = \"worker\"\nversion = \"1.0.0\"\n",
        )
        .unwrap();
        (root, ws)
    };
    let (_a, first) = make("checkout-one");
    let (_b, second) = make("somewhere-else");
    let run = |ws: &std::path::Path| {
        success(
            charter_audit(&home)
                .args(["sbom", "--offline", "--manifest-path"])
                .arg(ws.join("Cargo.toml")),
        )
    };
    let (one, stderr) = run(&first);
    let (two, _) = run(&second);
    assert_eq!(one, two, "the folder name leaked into the SBOM");
    assert!(stderr.contains("`portal-workspace`"), "{stderr}");
}

#[test]
fn supplier_comes_from_the_configuration_when_no_flag_gives_it() {
    let home = CargoHome::new();
    let ws = copy_workspace("demo");
    std::fs::write(
        ws.path().join("charter-audit.toml"),
        "[supplier]\nname = \"Example Health Ltd\"\nurl = \"https://example.org\"\ncontact = \"security@example.org\"\n",
    )
    .unwrap();
    let (sbom, _, _) = json_of(
        charter_audit(&home)
            .args(["sbom", "--offline", "--manifest-path"])
            .arg(ws.path().join("Cargo.toml")),
    );
    assert_eq!(sbom["metadata"]["supplier"]["name"], "Example Health Ltd");
    assert_eq!(
        sbom["metadata"]["supplier"]["url"][0],
        "https://example.org"
    );
    assert_eq!(sbom["metadata"]["authors"][0]["name"], "Example Health Ltd");
    // A flag wins over the file.
    let (flagged, _, _) = json_of(
        charter_audit(&home)
            .args([
                "sbom",
                "--offline",
                "--supplier",
                "Other Ltd",
                "--manifest-path",
            ])
            .arg(ws.path().join("Cargo.toml")),
    );
    assert_eq!(flagged["metadata"]["supplier"]["name"], "Other Ltd");
}

#[test]
fn a_lockfile_with_no_workspace_package_is_described_by_its_roots() {
    let home = CargoHome::new();
    let dir = tempfile::tempdir().unwrap();
    let lockfile = dir.path().join("vendored.Cargo.lock");
    let checksum = "0".repeat(64);
    std::fs::write(
        &lockfile,
        format!(
            "version = 3\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n\
             source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\
             checksum = \"{checksum}\"\ndependencies = [\"b\"]\n\n[[package]]\nname = \"b\"\n\
             version = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\
             checksum = \"{checksum}\"\n"
        ),
    )
    .unwrap();
    let (sbom, _, stderr) = json_of(
        charter_audit(&home)
            .arg("sbom")
            .arg("--lockfile")
            .arg(&lockfile),
    );
    assert!(
        stderr.contains("no workspace package in it")
            && stderr.contains("made of the 1 package(s)"),
        "{stderr}"
    );
    assert_eq!(sbom["metadata"]["component"]["name"], "vendored");
    let product = &sbom["metadata"]["component"]["bom-ref"];
    let entry = sbom["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| &d["ref"] == product)
        .unwrap();
    assert_eq!(entry["dependsOn"], serde_json::json!(["pkg:cargo/a@1.0.0"]));
    assert_eq!(depends_on(&sbom, "a"), ["pkg:cargo/b@1.0.0"]);
}

#[test]
fn a_supplier_or_author_with_a_control_character_is_refused_and_nothing_is_written() {
    let home = CargoHome::new();
    let dir = tempfile::tempdir().unwrap();
    for (flag, value) in [("--supplier", "Ev\u{1}il Ltd"), ("--author", "Tab\tbed")] {
        let out = dir.path().join("sbom.xml");
        let output = charter_audit(&home)
            .args(["sbom", "--lockfile"])
            .arg(fixture("workspaces/demo/Cargo.lock"))
            .args([
                "--spec-version",
                "1.6",
                "--format",
                "xml",
                flag,
                value,
                "-o",
            ])
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{flag}: {output:?}");
        let message = String::from_utf8_lossy(&output.stderr);
        assert!(message.contains("control character"), "{message}");
        assert!(!out.exists(), "{flag}: written");
    }
}
