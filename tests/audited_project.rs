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

/// Every text a run wrote (standard output and error, each output file, and the statement
/// inside each DSSE envelope, which is base64).
fn written_texts(stdout: &[u8], stderr: &[u8], dir: Option<&Path>) -> Vec<(String, String)> {
    use base64::Engine;
    let mut texts = vec![
        (
            "stdout".to_owned(),
            String::from_utf8_lossy(stdout).into_owned(),
        ),
        (
            "stderr".to_owned(),
            String::from_utf8_lossy(stderr).into_owned(),
        ),
    ];
    for file in dir.map(util::files_under).unwrap_or_default() {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        for line in text.lines() {
            let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            if let Some(payload) = value["payload"].as_str() {
                let statement = base64::engine::general_purpose::STANDARD
                    .decode(payload)
                    .unwrap();
                texts.push((
                    format!("{} (statement)", file.display()),
                    String::from_utf8_lossy(&statement).into_owned(),
                ));
            }
        }
        texts.push((file.display().to_string(), text));
    }
    texts
}

#[test]
fn credentials_in_a_source_url_never_reach_the_sbom_reports_or_attestation() {
    let secrets = [
        "ghp_GitT0ken",
        "RegT0ken",
        "HomeT0ken",
        "ci-user",
        "reg-user",
    ];
    let home = util::CargoHome::new();
    let (_keep, key) = {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("release");
        util::success(
            util::charter_audit(&home)
                .args(["keygen", "--out"])
                .arg(&prefix),
        );
        (dir, prefix.with_extension("key"))
    };
    // A git dependency (cargo cannot reach it offline: the lockfile stands in) and a package
    // from a registry, each with a credential in its URL, and a manifest link with one.
    let ws = util::copy_workspace("with-git");
    let git = "https://github.com/example-health/nhs-number";
    let with_token = "https://ci-user:ghp_GitT0ken@github.com/example-health/nhs-number";
    for file in ["Cargo.toml", "Cargo.lock"] {
        let path = ws.path().join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace(git, with_token);
        std::fs::write(&path, text).unwrap();
    }
    let lock = ws.path().join("Cargo.lock");
    let text = std::fs::read_to_string(&lock).unwrap();
    std::fs::write(
        &lock,
        format!(
            "{text}\n[[package]]\nname = \"internal-lib\"\nversion = \"1.0.0\"\nsource = \"sparse+https://reg-user:RegT0ken@crates.example.org/index/\"\nchecksum = \"{}\"\n",
            "0".repeat(64)
        ),
    )
    .unwrap();
    let demo = util::copy_workspace("demo");
    let app = demo.path().join("app/Cargo.toml");
    let text = std::fs::read_to_string(&app).unwrap().replace(
        "https://example.org/demo-app.git",
        "https://deploy:HomeT0ken@example.org/demo-app.git",
    );
    std::fs::write(&app, text).unwrap();

    let mut runs = Vec::new();
    let signed = vec!["--sign-key", key.to_str().unwrap()];
    for (workspace, extra) in [(ws.path(), signed), (demo.path(), vec!["--unsigned"])] {
        let out = tempfile::tempdir().unwrap();
        let output = util::charter_audit(&home)
            .args(["audit", "--offline", "--now", util::NOW, "--manifest-path"])
            .arg(workspace.join("Cargo.toml"))
            .arg("--advisory-db")
            .arg(fixture("advisories/rustsec"))
            .args(["--advisory-db-date", "2026-08-21", "--registry-index"])
            .arg(fixture("registry-index"))
            .arg("--out-dir")
            .arg(out.path())
            .args(extra)
            .output()
            .unwrap();
        let code = output.status.code();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(matches!(code, Some(0 | 1)), "exit {code:?}: {stderr}");
        assert!(
            stderr.contains("carries a credential in a URL"),
            "no warning: {stderr}"
        );
        let texts = written_texts(&output.stdout, &output.stderr, Some(out.path()));
        assert!(texts.len() > 6, "{:?}", util::files_under(out.path()));
        runs.push(texts);
        // The SBOM on its own too.
        let output = util::charter_audit(&home)
            .args(["sbom", "--offline", "--manifest-path"])
            .arg(workspace.join("Cargo.toml"))
            .output()
            .unwrap();
        assert!(output.status.success());
        runs.push(written_texts(&output.stdout, &output.stderr, None));
    }
    for (name, text) in runs.iter().flatten() {
        for secret in secrets {
            assert!(!text.contains(secret), "{name} holds {secret}:\n{text}");
        }
    }
    // The stripped sources are still there, so the check above looked at the right texts.
    let all: String = runs.iter().flatten().map(|(_, t)| t.as_str()).collect();
    assert!(all.contains("github.com%2Fexample-health%2Fnhs-number"));
    assert!(all.contains("crates.example.org"));
    assert!(all.contains("example.org/demo-app.git"));
}

#[test]
fn a_pre_release_workspace_with_a_git_dependency_falls_back_to_its_lockfile() {
    // alacritty in 2020: members at 0.5.0-dev joined by a path dependency that names no
    // version, and a git dependency cargo cannot reach offline. cargo accepts the lockfile, so
    // the fallback must too, in `sbom` and in `audit --manifest-path`.
    let home = util::CargoHome::new();
    let ws = tempfile::tempdir().unwrap();
    util::copy_dir(&fixture("lockcheck/prerelease-path"), ws.path());
    let app = ws.path().join("app/Cargo.toml");
    let text = std::fs::read_to_string(&app).unwrap().replace(
        "[dependencies]\n",
        "[dependencies]\nnhs-number = { git = \"https://github.com/example-health/nhs-number\", rev = \"9f1c2e4\" }\n",
    );
    std::fs::write(&app, text).unwrap();
    let lock = ws.path().join("Cargo.lock");
    let text = std::fs::read_to_string(&lock).unwrap().replace(
        "dependencies = [\n \"term\",",
        "dependencies = [\n \"nhs-number\",\n \"term\",",
    );
    std::fs::write(
        &lock,
        format!(
            "{text}\n[[package]]\nname = \"nhs-number\"\nversion = \"0.2.0\"\nsource = \"git+https://github.com/example-health/nhs-number?rev=9f1c2e4#9f1c2e4b7a6d5c3e2f1a0b9c8d7e6f5a4b3c2d1e\"\n"
        ),
    )
    .unwrap();
    let manifest = ws.path().join("Cargo.toml");
    let (sbom, _, stderr) = util::json_of(
        util::charter_audit(&home)
            .args(["sbom", "--offline", "--manifest-path"])
            .arg(&manifest),
    );
    assert!(stderr.contains("the inventory was read from"), "{stderr}");
    assert_eq!(sbom["metadata"]["component"]["name"], "app");
    assert_eq!(sbom["metadata"]["component"]["version"], "0.5.0-dev");
    util::component(&sbom, "nhs-number");
    let output = util::charter_audit(&home)
        .args(["audit", "--offline", "--now", util::NOW, "--format", "json"])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .arg("--registry-index")
        .arg(fixture("registry-index"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{:?}: {stderr}",
        output.status.code()
    );
    assert!(!stderr.contains("out of date"), "{stderr}");
}

/// The home the password database records for this user (what cargo falls back to when `HOME`
/// is unset).
fn passwd_home() -> std::path::PathBuf {
    let uid = rustix::process::getuid().as_raw().to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let line = passwd
        .lines()
        .find(|line| line.split(':').nth(2) == Some(uid.as_str()))
        .expect("this user is in /etc/passwd");
    line.split(':').nth(5).unwrap().into()
}

/// With `HOME` and `CARGO_HOME` both unset, cargo still finds a home (the password database's)
/// and reads its credentials there. A test cannot write into that real home, so it checks the
/// seam: cargo (here a script that records its environment and configuration) is told, as an
/// absolute `CARGO_HOME`, exactly that home, the one whose registry names were read; which names
/// are dropped for a given home is `cargo_config`'s unit tests.
#[cfg(unix)]
#[test]
fn without_home_cargo_is_told_the_cargo_home_whose_registries_were_read() {
    use std::os::unix::fs::PermissionsExt;
    let (_evil, evil_index, sum) = registry();
    let ws = project(
        &evil_index,
        &sum,
        &format!("[registries.company]\nindex = {evil_index:?}\n"),
    );
    let record = tempfile::tempdir().unwrap();
    let script = record.path().join("cargo");
    let log = record.path().join("log");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n{{ echo \"CARGO_HOME=${{CARGO_HOME-unset}}\"; for a in \"$@\"; do case \"$a\" in *.toml) cat \"$a\";; esac; done; }} >> {:?}\nexit 1\n",
            log
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let output = assert_cmd::Command::cargo_bin("charter-audit")
        .unwrap()
        .env_remove("HOME")
        .env_remove("CARGO_HOME")
        .env("CARGO", &script)
        .env("SOURCE_DATE_EPOCH", util::EPOCH)
        .args(["sbom", "--manifest-path"])
        .arg(ws.path().join("Cargo.toml"))
        .output()
        .unwrap();
    let recorded = std::fs::read_to_string(&log).unwrap_or_else(|_| {
        panic!(
            "cargo was never started: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let expected = passwd_home().join(".cargo");
    assert!(
        recorded.contains(&format!("CARGO_HOME={}\n", expected.display())),
        "cargo was not told the password database's cargo home {expected:?}:\n{recorded}"
    );
    // Whatever that home names is the auditor's: a registry it names is not the project's.
    let mut names = Vec::new();
    for file in ["config.toml", "config", "credentials.toml", "credentials"] {
        let text = std::fs::read_to_string(expected.join(file)).unwrap_or_default();
        if let Ok(table) = text.parse::<toml::Table>()
            && let Some(registries) = table.get("registries").and_then(|r| r.as_table())
        {
            names.extend(registries.keys().cloned());
        }
    }
    for name in names {
        assert!(
            !recorded.contains(&format!("[registries.{name}]")),
            "the project defined the auditor's registry {name}:\n{recorded}"
        );
    }
}
