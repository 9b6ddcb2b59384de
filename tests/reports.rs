//! The reports of one audit: `--out-dir`, SARIF located in Cargo.lock, Markdown in the job
//! summary, colour only for a terminal. The SARIF logs are kept for the multitool in `.ci/run`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::path::Path;

use util::{
    CargoHome, charter_audit, finding, fixture, save_html_sample, save_sample, save_sarif_sample,
    without_lookup_time,
};

const NOW: &str = "2026-08-25T00:00:00Z";

/// `audit` of the demo lockfile with the fixture data, plus `extra`; returns stdout, the exit
/// code and stderr.
fn audit(home: &CargoHome, extra: &[&str]) -> (Vec<u8>, i32, String) {
    let output = charter_audit(home)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["audit", "--offline", "--now", NOW, "--lockfile"])
        .arg("fixtures/workspaces/demo/Cargo.lock")
        .args(["--advisory-db", "fixtures/advisories/rustsec"])
        .args(["--advisory-db-date", "2026-08-21"])
        .args(["--registry-index", "fixtures/registry-index"])
        .args(extra)
        .output()
        .unwrap();
    (
        output.stdout,
        output.status.code().unwrap(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The line of `name = "NAME"` in a lockfile.
fn lockfile_line(lockfile: &Path, name: &str) -> u64 {
    let text = std::fs::read_to_string(lockfile).unwrap();
    let at = text
        .lines()
        .position(|l| l == format!("name = \"{name}\""))
        .unwrap();
    at as u64 + 1
}

fn sarif_result<'a>(sarif: &'a serde_json::Value, rule: &str) -> &'a serde_json::Value {
    sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == rule)
        .unwrap_or_else(|| panic!("no result for {rule}"))
}

#[test]
fn out_dir_writes_every_output_of_one_run() {
    let home = CargoHome::new();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("evidence/v0.3.1");
    let (stdout, code, stderr) = audit(
        &home,
        &["--format", "json", "--out-dir", dir.to_str().unwrap()],
    );
    assert_eq!(code, 1, "{stderr}");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "attestation.cdx.json",
            "report.html",
            "report.json",
            "report.md",
            "report.sarif",
            "sbom.cdx.json",
            "vex.cdx.json",
            "vex.openvex.json"
        ]
    );
    let html = std::fs::read(dir.join("report.html")).unwrap();
    save_html_sample("demo.html", &html);
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains("<div class=\"verdict fail\" id=\"verdict\"><strong>FAIL</strong>"));
    // Self-contained: nothing is fetched, and the one script runs only by its hash.
    assert!(html.contains("default-src 'none'"));
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http://"));
    assert_eq!(html.matches("<script").count(), 1);
    // Exposure drawn against its window.
    assert!(html.contains("2054 / 14<div class=\"bar over\""), "{html}");
    // The same report as standard output, from the same run.
    assert_eq!(std::fs::read(dir.join("report.json")).unwrap(), stdout);

    let sbom_bytes = std::fs::read(dir.join("sbom.cdx.json")).unwrap();
    save_sample("audit-out-dir.cdx.json", &sbom_bytes);
    let sbom: serde_json::Value = serde_json::from_slice(&sbom_bytes).unwrap();
    assert_eq!(sbom["specVersion"], "1.5");
    assert_eq!(sbom["metadata"]["supplier"]["name"], "Example Health Ltd");
    // Every package of the lockfile but the product itself.
    assert_eq!(sbom["components"].as_array().unwrap().len(), 11);

    let sarif_bytes = std::fs::read(dir.join("report.sarif")).unwrap();
    save_sarif_sample("out-dir.sarif", &sarif_bytes);
    let sarif: serde_json::Value = serde_json::from_slice(&sarif_bytes).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "charter-audit");
    // One rule per advisory or rule code, each result pointing at its rule.
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for id in [
        "RUSTSEC-2022-0013",
        "RUSTSEC-2021-0003",
        "RUSTSEC-2021-0145",
        "RUSTSEC-2024-0375",
    ] {
        assert!(rules.contains(&id), "{rules:?}");
    }
    for result in run["results"].as_array().unwrap() {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index], result["ruleId"]);
    }
    // Located at the package's entry in Cargo.lock, relative to the repository root.
    let regex = sarif_result(&sarif, "RUSTSEC-2022-0013");
    assert_eq!(regex["level"], "error");
    let location = &regex["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"],
        "fixtures/workspaces/demo/Cargo.lock"
    );
    assert_eq!(
        location["region"]["startLine"],
        lockfile_line(&fixture("workspaces/demo/Cargo.lock"), "regex")
    );
    assert!(
        regex["message"]["text"]
            .as_str()
            .unwrap()
            .contains("upgrade regex 1.5.4 → 1.5.5: fix available for 1,630 days, window 14")
    );
    assert_eq!(
        sarif_result(&sarif, "RUSTSEC-2024-0375")["level"],
        "warning"
    );
    // GitHub ranks security results by this property.
    let regex_rule = &run["tool"]["driver"]["rules"][rules
        .iter()
        .position(|r| *r == "RUSTSEC-2022-0013")
        .unwrap()];
    assert_eq!(regex_rule["properties"]["security-severity"], "7.5");

    let markdown = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        markdown.starts_with("## ❌ charter-audit: FAIL: "),
        "{markdown}"
    );
}

#[test]
fn sarif_on_standard_output_suppresses_excepted_findings() {
    let home = CargoHome::new();
    let config = tempfile::tempdir().unwrap();
    let path = config.path().join("charter-audit.toml");
    std::fs::write(
        &path,
        "[supplier]\nname = \"Example Health Ltd\"\n\n[[exception]]\nid = \"CVE-2022-24713\"\npackage = \"regex\"\nreason = \"Only regexes from our own configuration are compiled\"\nexpires = 2026-09-30\napproved-by = \"Head of Information Security\"\n",
    )
    .unwrap();
    let (stdout, code, stderr) = audit(
        &home,
        &["--format", "sarif", "--config", path.to_str().unwrap()],
    );
    assert_eq!(code, 1, "smallvec still violates: {stderr}");
    save_sarif_sample("excepted.sarif", &stdout);
    let sarif: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
    let regex = sarif_result(&sarif, "RUSTSEC-2022-0013");
    assert_eq!(regex["level"], "note");
    assert_eq!(regex["properties"]["verdict"], "excepted");
    let suppression = &regex["suppressions"][0];
    assert_eq!(suppression["kind"], "external");
    assert_eq!(suppression["status"], "accepted");
    assert_eq!(
        suppression["justification"],
        "Only regexes from our own configuration are compiled (approved by Head of Information Security, until 2026-09-30)"
    );
    let smallvec = sarif_result(&sarif, "RUSTSEC-2021-0003");
    assert_eq!(smallvec["level"], "error");
    assert!(smallvec.get("suppressions").is_none());
}

#[test]
fn markdown_is_appended_to_the_job_summary() {
    let home = CargoHome::new();
    let summary = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(summary.path(), "## the build step\n").unwrap();
    let markdown = {
        let (stdout, code, _) = audit(&home, &["--format", "markdown"]);
        assert_eq!(code, 1);
        String::from_utf8(stdout).unwrap()
    };
    let output = charter_audit(&home)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("GITHUB_STEP_SUMMARY", summary.path())
        .args(["audit", "--offline", "--now", NOW, "--lockfile"])
        .arg("fixtures/workspaces/demo/Cargo.lock")
        .args(["--advisory-db", "fixtures/advisories/rustsec"])
        .args(["--advisory-db-date", "2026-08-21"])
        .args(["--registry-index", "fixtures/registry-index"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    // Human output on the terminal, Markdown in the summary, after what was there.
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("FAIL: demo-app"));
    let written = std::fs::read_to_string(summary.path()).unwrap();
    // Two runs: only the wall-clock time of the registry lookup may differ.
    assert!(written.starts_with("## the build step\n## "), "{written}");
    assert_eq!(
        without_lookup_time(&written),
        without_lookup_time(&format!("## the build step\n{markdown}"))
    );
    assert!(markdown.contains("### Violations: these block the release (2)"));
    assert!(
        markdown.contains(
            "| regex 1.5.4 | [RUSTSEC-2022-0013](https://groups.google.com/g/rustlang-security-announcements/c/NcNNL1Jq7Yw) Regexes with large repetitions on empty sub-expressions take a very long time to parse | high | 1630 / 14 | upgrade regex 1.5.4 → 1.5.5: fix available for 1,630 days, window 14 |"
        ),
        "{markdown}"
    );
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let home = CargoHome::new();
    // Piped, with NO_COLOR unset: plain.
    let output = charter_audit(&home)
        .env_remove("NO_COLOR")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["audit", "--offline", "--now", NOW, "--lockfile"])
        .arg("fixtures/workspaces/demo/Cargo.lock")
        .args(["--advisory-db", "fixtures/advisories/rustsec"])
        .args(["--advisory-db-date", "2026-08-21"])
        .args(["--registry-index", "fixtures/registry-index"])
        .output()
        .unwrap();
    assert!(!output.stdout.contains(&0x1b));
    assert!(!output.stderr.contains(&0x1b));
    // No progress bar when standard error is not a terminal either.
    assert!(!String::from_utf8_lossy(&output.stderr).contains("looking up"));

    // On a terminal (util-linux `script` gives the command a pseudo-terminal).
    let binary = env!("CARGO_BIN_EXE_charter-audit");
    let command = format!(
        "{binary} audit --offline --now {NOW} --lockfile fixtures/workspaces/demo/Cargo.lock --advisory-db fixtures/advisories/rustsec --advisory-db-date 2026-08-21 --registry-index fixtures/registry-index"
    );
    let on_terminal = |no_color: Option<&str>, command: &str| {
        let mut script = std::process::Command::new("script");
        script
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("CARGO_HOME", home.path())
            .args(["-qec", command, "/dev/null"]);
        match no_color {
            Some(value) => script.env("NO_COLOR", value),
            None => script.env_remove("NO_COLOR"),
        };
        let output = script.output().expect("util-linux `script` runs the test");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    // Standard error is left out here: it is a terminal too, and shows a progress bar.
    let stdout_only = format!("{command} 2>/dev/null");
    let coloured = on_terminal(None, &stdout_only);
    assert!(coloured.contains("FAIL"), "{coloured}");
    assert!(
        coloured.contains("\u{1b}[1m\u{1b}[31mFAIL\u{1b}[0m")
            || coloured.contains("\u{1b}[1;31mFAIL\u{1b}[0m"),
        "{coloured:?}"
    );
    let plain = on_terminal(Some("1"), &stdout_only);
    assert!(plain.contains("FAIL: demo-app"), "{plain}");
    assert!(!plain.contains('\u{1b}'), "{plain:?}");
    // With standard error a terminal, the index lookups show a progress bar there.
    let with_progress = on_terminal(Some("1"), &format!("{command} >/dev/null"));
    assert!(
        with_progress.contains("looking up the registry index ["),
        "{with_progress:?}"
    );
}

#[test]
fn out_dir_that_is_a_file_is_refused_before_any_work() {
    let home = CargoHome::new();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), "keep me").unwrap();
    let (stdout, code, stderr) = audit(&home, &["--out-dir", file.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("it is a file, not a folder; name a folder"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(file.path()).unwrap(), "keep me");
}

#[test]
fn report_json_records_the_new_rules() {
    let home = CargoHome::new();
    let (stdout, _, _) = audit(&home, &["--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
    // The product's own packages are listed under `sources` as not checked, never as clean.
    let unchecked: Vec<&serde_json::Value> = report["rule_findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["rule"] == "sources")
        .collect();
    assert_eq!(unchecked.len(), 2, "{unchecked:?}");
    assert!(unchecked.iter().all(|r| r["verdict"] == "info"));
    assert_eq!(
        finding(&report, "RUSTSEC-2022-0013")["verdict"],
        "violation"
    );
}

#[test]
fn out_dir_writes_all_or_nothing() {
    let home = CargoHome::new();
    let out = tempfile::tempdir().unwrap();
    std::fs::create_dir(out.path().join("report.sarif")).unwrap();
    let (_, code, stderr) = audit(&home, &["--out-dir", out.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("report.sarif: a folder of that name is in the way"),
        "{stderr}"
    );
    let left: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["report.sarif"], "no partial set of evidence");
}

#[test]
fn sarif_names_a_lockfile_outside_any_repository_by_its_own_file_name() {
    let home = CargoHome::new();
    let outside = tempfile::tempdir().unwrap();
    assert!(
        !outside.path().ancestors().any(|d| d.join(".git").exists()),
        "the temporary folder must be outside any repository"
    );
    let lockfile = outside.path().join("portal-2.4.Cargo.lock");
    std::fs::copy(fixture("workspaces/demo/Cargo.lock"), &lockfile).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let output = charter_audit(&home)
        .current_dir(elsewhere.path())
        .args(["audit", "--offline", "--now", NOW, "--format", "sarif"])
        .arg("--lockfile")
        .arg(&lockfile)
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .args(["--advisory-db-date", "2026-08-21", "--registry-index"])
        .arg(fixture("registry-index"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let sarif: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let regex = sarif_result(&sarif, "RUSTSEC-2022-0013");
    assert_eq!(
        regex["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "portal-2.4.Cargo.lock"
    );
}

#[test]
fn html_flags_loosened_settings_and_lists_exceptions_with_their_expiry() {
    let home = CargoHome::new();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("charter-audit.toml");
    std::fs::write(
        &config,
        r#"extends = "nhs-charter"

[patch-age]
high = 30
medium = 21

[[exception]]
id = "RUSTSEC-2022-0013"
package = "regex"
reason = "Only <b>our own</b> regexes are compiled"
expires = 2026-09-30
approved-by = "Head of Information Security"
"#,
    )
    .unwrap();
    let (stdout, code, stderr) = audit(
        &home,
        &["--format", "html", "--config", config.to_str().unwrap()],
    );
    assert_eq!(code, 1, "{stderr}");
    let html = String::from_utf8(stdout).unwrap();
    // At the top: how many settings were loosened.
    assert!(
        html.contains("<span class=\"flag\">1 setting(s) loosened</span>"),
        "{html}"
    );
    // The policy table: each override with its direction.
    let overrides = &html[html
        .find("<table id=\"overrides\"")
        .expect("overrides table")..];
    let overrides = &overrides[..overrides.find("</table>").unwrap()];
    assert!(
        overrides.contains(
            "<tr><td><code>patch-age.high</code></td><td>14</td><td>30</td><td><span class=\"flag\">loosened</span></td></tr>"
        ),
        "{overrides}"
    );
    assert!(
        overrides.contains(
            "<td><code>patch-age.medium</code></td><td>30</td><td>21</td><td>tightened</td>"
        ),
        "{overrides}"
    );
    // The exceptions in force, with expiry and approver, their text escaped.
    let exceptions = &html[html
        .find("<table id=\"exceptions\"")
        .expect("exceptions table")..];
    let exceptions = &exceptions[..exceptions.find("</table>").unwrap()];
    assert!(
        exceptions.contains(
            "<tr><td>RUSTSEC-2022-0013</td><td>regex</td><td>2026-09-30</td><td>Head of Information Security</td><td>Only &lt;b&gt;our own&lt;/b&gt; regexes are compiled</td></tr>"
        ),
        "{exceptions}"
    );
}

#[test]
fn an_sbom_audit_lists_what_it_did_not_check_where_its_summary_says() {
    let home = CargoHome::new();
    let dir = tempfile::tempdir().unwrap();
    let output = charter_audit(&home)
        .args(["audit", "--now", NOW, "--sbom"])
        .arg(fixture("sboms/portal.cdx.json"))
        .args(["--advisory-db"])
        .arg(fixture("advisories/rustsec"))
        .args(["--advisory-db-date", "2026-08-21", "--out-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let human = String::from_utf8(output.stdout).unwrap();
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    let unchecked = report["coverage"]["unchecked"].as_array().unwrap();
    assert!(unchecked.len() >= 2, "{report}");
    // The summary line names a number and a place; the place holds exactly that many.
    let count = unchecked.len();
    assert!(
        human.contains(&format!(
            "; {count} not checked, listed under Information: never read them as clean."
        )),
        "{human}"
    );
    let information = human
        .split("\nInformation (")
        .nth(1)
        .unwrap_or_else(|| panic!("no Information section: {human}"));
    let information = information.split("\n\n").next().unwrap();
    let markdown = charter_audit(&home)
        .args(["audit", "--now", NOW, "--format", "markdown", "--sbom"])
        .arg(fixture("sboms/portal.cdx.json"))
        .args(["--advisory-db"])
        .arg(fixture("advisories/rustsec"))
        .args(["--advisory-db-date", "2026-08-21"])
        .output()
        .unwrap();
    let markdown = String::from_utf8(markdown.stdout).unwrap();
    for u in unchecked {
        let (name, version) = (u["name"].as_str().unwrap(), u["version"].as_str().unwrap());
        assert!(
            information.contains(&format!(
                "  sources: {name} {version} was not checked against the advisory databases: "
            )),
            "{name} {version} is not under Information: {human}"
        );
        let escaped = name.replace('@', "\\@");
        assert!(
            markdown.contains(&format!("\n- {escaped} {version}: ")),
            "{name} {version} is not listed in the Markdown: {markdown}"
        );
    }
    assert_eq!(
        information.matches("was not checked").count(),
        count,
        "{information}"
    );
    // The Markdown points to nothing it does not hold: it renders no `sources` findings.
    assert!(
        !markdown.contains("see the `sources` findings"),
        "{markdown}"
    );
    assert!(
        markdown.contains(&format!(
            "<summary>{count} component(s) were not checked against the advisory databases"
        )),
        "{markdown}"
    );
}
