//! Policies end to end: the built-ins, `policy list|show|init`, the patch-age clock at its
//! boundaries, exceptions and configuration mistakes, with pinned evaluation times.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use util::{CargoHome, charter_audit, finding, fixture};

/// `audit --format json` of the demo lockfile with the fixture data at `now`, plus `extra`.
fn audit(now: &str, extra: &[&str]) -> (serde_json::Value, i32, String) {
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .args([
            "audit",
            "--offline",
            "--format",
            "json",
            "--now",
            now,
            "--lockfile",
        ])
        .arg(fixture("workspaces/demo/Cargo.lock"))
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .arg("--registry-index")
        .arg(fixture("registry-index"))
        .args(extra)
        .output()
        .unwrap();
    let code = output.status.code().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report = serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null);
    (report, code, stderr)
}

#[test]
fn patch_age_window_boundary_is_exact() {
    // regex 1.5.5 (the fix) was published 2022-03-08T13:59:00Z, after the advisory's date: the
    // clock starts then. Exactly 14 days later is inside the window; one second more is not.
    let (at_limit, _, _) = audit("2022-03-22T13:59:00Z", &[]);
    let regex = finding(&at_limit, "RUSTSEC-2022-0013");
    assert_eq!(regex["verdict"], "warning", "{regex}");
    assert_eq!(regex["exposure_days"], 14);
    assert_eq!(regex["window_days"], 14);
    assert_eq!(regex["clock_start"], "2022-03-08T13:59:00Z");
    assert_eq!(regex["clock_start_from"], "fix-published");
    assert!(
        regex["message"].as_str().unwrap().contains("0 day(s) left"),
        "{regex}"
    );

    let (past, _, _) = audit("2022-03-22T13:59:01Z", &[]);
    let regex = finding(&past, "RUSTSEC-2022-0013");
    assert_eq!(regex["verdict"], "violation");
    assert_eq!(regex["exposure_days"], 14);
    assert_eq!(
        regex["message"],
        "upgrade regex 1.5.4 → 1.5.5: fix available for more than 14 days, window 14"
    );
    // A day later, whole days say it.
    let (day_later, _, _) = audit("2022-03-23T13:59:01Z", &[]);
    assert_eq!(
        finding(&day_later, "RUSTSEC-2022-0013")["message"],
        "upgrade regex 1.5.4 → 1.5.5: fix available for 15 days, window 14"
    );
}

#[test]
fn exposure_days_worked_out_by_hand() {
    // smallvec: advisory 2021-01-08, fix 1.6.1 published 2021-01-08T17:34:20Z. To
    // 2026-09-01T00:00:00Z: 2021-01-08 → 2026-01-08 is 1,826 days (2024 is a leap year), then
    // 2026-01-08 → 2026-09-01 is 236 days: 2,062 days from midnight, less 17h34m20s: 2,061.
    let (report, code, _) = audit("2026-09-01T00:00:00Z", &[]);
    assert_eq!(code, 1);
    let smallvec = finding(&report, "RUSTSEC-2021-0003");
    assert_eq!(smallvec["exposure_days"], 2061);
    assert_eq!(smallvec["window_days"], 14, "critical");
    assert_eq!(smallvec["verdict"], "violation");
}

#[test]
fn strict_policy_halves_the_window() {
    // Eight days after the fix: inside nhs-charter's 14, outside nhs-charter-strict's 7.
    let now = "2022-03-16T14:00:00Z";
    let (default, _, _) = audit(now, &[]);
    assert_eq!(finding(&default, "RUSTSEC-2022-0013")["verdict"], "warning");
    let (strict, _, _) = audit(now, &["--policy", "nhs-charter-strict"]);
    let regex = finding(&strict, "RUSTSEC-2022-0013");
    assert_eq!(regex["verdict"], "violation");
    assert_eq!(regex["window_days"], 7);
    assert_eq!(strict["policy"]["base"], "nhs-charter-strict");
}

#[test]
fn a_fix_published_after_the_evaluation_time_counts_from_the_advisory() {
    // Noon on the advisory's day: smallvec 1.6.1, which the advisory names as the fix, is not
    // out until 17:34. The index then contradicts the advisory, so the registry facts are
    // unknown: the clock counts from the advisory under the severity's window (critical, 14),
    // never the 90 days of "no fixed release yet".
    let (report, _, _) = audit("2021-01-08T12:00:00Z", &[]);
    let smallvec = finding(&report, "RUSTSEC-2021-0003");
    assert!(smallvec["fix_version"].is_null());
    assert_eq!(smallvec["verdict"], "warning");
    assert_eq!(smallvec["clock_start_from"], "advisory-published");
    assert_eq!(smallvec["window_days"], 14, "the severity's window");
    assert!(
        smallvec["message"].as_str().unwrap().contains(
            "the registry facts are unknown (the advisory names fixed releases (1.6.1 or later) but the index has every one of them published after the evaluation time, which cannot be right)"
        ),
        "{smallvec}"
    );
}

#[test]
fn exceptions_live_expired_unused_and_far_ahead() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("charter-audit.toml");
    std::fs::write(
        &config,
        r#"extends = "nhs-charter"

[supplier]
name = "Example Health Ltd"

[patch-age]
medium = 21

[[exception]]
id = "GHSA-m5pq-gvj9-9vr8"
package = "regex"
reason = "Only regexes from our own configuration are compiled"
expires = 2026-09-30
approved-by = "Head of Information Security"

[[exception]]
id = "RUSTSEC-2021-0003"
reason = "Patched in our fork"
expires = 2026-08-31
approved-by = "CISO"

[[exception]]
id = "RUSTSEC-2020-0001"
reason = "Old"
expires = 2027-06-30
approved-by = "CISO"
"#,
    )
    .unwrap();
    let (report, code, stderr) = audit(
        "2026-09-01T00:00:00Z",
        &[
            "--config",
            config.to_str().unwrap(),
            "--advisory-db-date",
            "2026-08-30",
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    // Live, matched through an alias: excepted.
    let regex = finding(&report, "RUSTSEC-2022-0013");
    assert_eq!(regex["verdict"], "excepted");
    assert_eq!(regex["exception"]["expired"], false);
    // Expired yesterday (valid through 2026-08-31): the violation stands, and says why.
    let smallvec = finding(&report, "RUSTSEC-2021-0003");
    assert_eq!(smallvec["verdict"], "violation");
    assert!(
        smallvec["message"]
            .as_str()
            .unwrap()
            .contains("exception for RUSTSEC-2021-0003 expired on 2026-08-31"),
        "{smallvec}"
    );
    let rules: Vec<(String, String)> = report["rule_findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["rule"].as_str().unwrap().to_owned(),
                r["verdict"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        rules.contains(&("exception-unused".into(), "warning".into())),
        "{rules:?}"
    );
    assert!(
        rules.contains(&("exception-expiry".into(), "warning".into())),
        "{rules:?}"
    );
    // The override is recorded as tightening.
    assert_eq!(
        report["policy"]["overrides"][0]["setting"],
        "patch-age.medium"
    );
    assert_eq!(report["policy"]["overrides"][0]["direction"], "tightening");
    assert_eq!(report["policy"]["exceptions"].as_array().unwrap().len(), 3);
    assert!(
        report["policy"]["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
}

#[test]
fn a_stale_database_is_a_violation() {
    let (report, code, _) = audit(
        "2026-09-01T00:00:00Z",
        &["--advisory-db-date", "2026-08-20"],
    );
    assert_eq!(code, 1);
    let rule = &report["rule_findings"][0];
    assert_eq!(rule["rule"], "advisory-db-age");
    assert_eq!(rule["verdict"], "violation");
    assert!(
        rule["message"].as_str().unwrap().contains("12 days"),
        "{rule}"
    );
}

#[test]
fn configuration_mistakes_are_exit_2_all_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("charter-audit.toml");
    std::fs::write(
        &config,
        "[patch-age]\ncritical = -1\nsevere = 3\n\n[[exception]]\nid = \"X\"\nexpires = \"soon\"\nreason = \"r\"\napproved-by = \"a\"\n",
    )
    .unwrap();
    let (_, code, stderr) = audit(
        "2026-09-01T00:00:00Z",
        &["--config", config.to_str().unwrap()],
    );
    assert_eq!(code, 2);
    insta::assert_snapshot!(stderr.replace(config.to_str().unwrap(), "charter-audit.toml"));
}

#[test]
fn policy_list_show_and_init() {
    let home = CargoHome::new();
    let list = charter_audit(&home)
        .args(["policy", "list"])
        .output()
        .unwrap();
    let text = String::from_utf8(list.stdout).unwrap();
    assert!(text.starts_with("nhs-charter (default)\n"), "{text}");
    assert!(text.contains("nhs-charter-strict\n"));
    let show = charter_audit(&home)
        .args(["policy", "show", "nhs-charter"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(show.stdout).unwrap(),
        std::fs::read_to_string(fixture("../policies/nhs-charter.toml")).unwrap()
    );
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("charter-audit.toml");
    let init = charter_audit(&home)
        .args(["policy", "init", "-o"])
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(init.status.code(), Some(0));
    let written = std::fs::read_to_string(&target).unwrap();
    assert!(written.contains("extends = \"nhs-charter\""));
    // Never over an existing file.
    let again = charter_audit(&home)
        .args(["policy", "init", "-o"])
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), written);
}
