//! The GitHub Action's wiring: its audit step's script, run with bash as the runner would,
//! passes each input to the right flag, the signing key by environment only, and writes the
//! outputs. charter-audit itself is stood in for by a script that records how it was called
//! (the real binary is tested everywhere else; here what is tested is the action's shell).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

use std::path::Path;

/// The `run:` script of the action step named `name`.
fn step_script(name: &str) -> String {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml")).unwrap();
    let start = text
        .find(&format!("    - name: {name}\n"))
        .unwrap_or_else(|| panic!("no step {name}"));
    let rest = &text[start..];
    let run = rest.find("      run: |\n").unwrap() + "      run: |\n".len();
    rest[run..]
        .lines()
        .take_while(|l| l.starts_with("        ") || l.is_empty())
        .map(|l| l.strip_prefix("        ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs the audit step with `env`; the stand-in exits with `code` and, when `attest`, writes an
/// attestation as a signed run would. Returns the recorded calls and GITHUB_OUTPUT.
fn run_audit_step(env: &[(&str, &str)], code: i32, attest: bool) -> (String, String, i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("root/bin");
    std::fs::create_dir_all(&bin).unwrap();
    let calls = dir.path().join("calls");
    let stand_in = bin.join("charter-audit");
    std::fs::write(
        &stand_in,
        format!(
            "#!/usr/bin/env bash\n\
             {{ printf '%s\\n' \"$@\"; echo \"@@key=${{CHARTER_AUDIT_SIGNING_KEY+set}}\"; echo @@end; }} >> {calls:?}\n\
             if [ \"$1\" = audit ]; then printf '%s' \"${{CHARTER_AUDIT_SIGNING_KEY-}}\" > {calls:?}.key; fi\n\
             if [ \"$1\" = audit ] && [ {attest} = true ]; then mkdir -p \"$3\"; echo '{{}}' > \"$3/attestation.intoto.json\"; fi\n\
             if [ \"$1\" = audit ]; then exit {code}; fi\n",
            attest = attest
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&stand_in, std::fs::Permissions::from_mode(0o755)).unwrap();
    let output_file = dir.path().join("github_output");
    std::fs::write(&output_file, "").unwrap();
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("-c")
        .arg(step_script("Audit"))
        .current_dir(dir.path())
        .env("ROOT", dir.path().join("root"))
        .env("GITHUB_OUTPUT", &output_file)
        .env("INPUT_MANIFEST_PATH", "")
        .env("INPUT_POLICY", "")
        .env("INPUT_CONFIG", "")
        .env("INPUT_SBOM", "")
        .env("INPUT_OSV_DB", "")
        .env("INPUT_OSV_API", "")
        .env("INPUT_SUBJECTS", "")
        .env("INPUT_OUT_DIR", "evidence")
        .env("CHARTER_AUDIT_SIGNING_KEY", "");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let status = cmd.status().unwrap();
    (
        std::fs::read_to_string(&calls).unwrap_or_default(),
        std::fs::read_to_string(&output_file).unwrap(),
        status.code().unwrap(),
        std::fs::read_to_string(dir.path().join("calls.key")).unwrap_or_default(),
    )
}

#[test]
fn inputs_reach_the_right_flags_and_the_key_only_the_environment() {
    let key = "-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----";
    let (calls, outputs, code, seen_key) = run_audit_step(
        &[
            ("INPUT_MANIFEST_PATH", "service/Cargo.toml"),
            ("INPUT_POLICY", "nhs-charter-strict"),
            ("INPUT_CONFIG", "ci/charter-audit.toml"),
            (
                "INPUT_SUBJECTS",
                "dist/app.tar.gz\n\ndist/app with space.zip\n",
            ),
            ("CHARTER_AUDIT_SIGNING_KEY", key),
        ],
        1,
        true,
    );
    // A violation does not stop the step: the gate is a later step, after SARIF is uploaded.
    assert_eq!(code, 0, "{calls}");
    let audit: Vec<&str> = calls.split("@@end\n").next().unwrap().lines().collect();
    assert_eq!(
        audit,
        [
            "audit",
            "--out-dir",
            "evidence",
            "--manifest-path",
            "service/Cargo.toml",
            "--policy",
            "nhs-charter-strict",
            "--config",
            "ci/charter-audit.toml",
            "--subject",
            "dist/app.tar.gz",
            "--subject",
            "dist/app with space.zip",
            "--format",
            "human",
            "@@key=set",
        ]
    );
    // The key is in the child's environment, whole, and never among its arguments.
    assert_eq!(seen_key, key);
    assert!(!calls.contains("secret"));
    // A signed run is packed into a bundle.
    let bundle: Vec<&str> = calls.split("@@end\n").nth(1).unwrap().lines().collect();
    // ...without the key, which bundling does not need.
    assert_eq!(bundle.last(), Some(&"@@key="));
    assert_eq!(
        &bundle[..5],
        [
            "bundle",
            "--out-dir",
            "evidence",
            "-o",
            "evidence/submission.tar.gz"
        ]
    );
    for line in [
        "exit-code=1",
        "result=fail",
        "out-dir=evidence",
        "report-sarif=evidence/report.sarif",
        "report-html=evidence/report.html",
        "attestation=evidence/attestation.intoto.json",
        "bundle=evidence/submission.tar.gz",
    ] {
        assert!(outputs.lines().any(|l| l == line), "{line} in {outputs}");
    }
}

#[test]
fn without_a_key_nothing_is_signed_and_a_failure_to_run_fails_the_step() {
    let (calls, outputs, code, _) = run_audit_step(&[], 0, false);
    assert_eq!(code, 0);
    assert!(
        calls.contains("@@key=\n"),
        "an empty secret is no key: {calls}"
    );
    assert_eq!(
        calls.matches("@@end\n").count(),
        1,
        "no bundle without a key"
    );
    assert!(outputs.lines().any(|l| l == "result=pass"));
    assert!(outputs.lines().any(|l| l == "bundle="));

    // Subjects without a key: not attested (a fork, or before the secret exists), with a
    // warning, rather than a step that cannot run.
    let (calls, _, code, _) = run_audit_step(&[("INPUT_SUBJECTS", "dist/app.tar.gz")], 0, false);
    assert_eq!(code, 0);
    assert!(!calls.contains("--subject"), "{calls}");

    let (_, outputs, code, _) = run_audit_step(&[], 2, false);
    assert_eq!(code, 2, "could not run: the step fails");
    assert!(outputs.lines().any(|l| l == "exit-code=2"));
    // No report paths when it could not run: nothing for the SARIF upload to trip on.
    assert!(!outputs.contains("report-sarif="), "{outputs}");
}

#[test]
fn a_suppliers_own_sbom_is_audited_through_osv() {
    let (calls, outputs, code, _) = run_audit_step(
        &[
            ("INPUT_SBOM", "dist/portal.cdx.json"),
            ("INPUT_OSV_DB", "osv/npm-all.zip"),
            ("INPUT_OSV_API", "https://api.osv.dev"),
        ],
        0,
        false,
    );
    assert_eq!(code, 0, "{calls}");
    let audit: Vec<&str> = calls.split("@@end\n").next().unwrap().lines().collect();
    assert_eq!(
        audit,
        [
            "audit",
            "--out-dir",
            "evidence",
            "--sbom",
            "dist/portal.cdx.json",
            "--osv-db",
            "osv/npm-all.zip",
            "--osv-api",
            "https://api.osv.dev",
            "--format",
            "human",
            "@@key=",
        ]
    );
    assert!(outputs.lines().any(|l| l == "result=pass"), "{outputs}");
}

#[test]
fn every_input_the_audit_step_reads_is_mapped_from_its_own_input() {
    // The runner hands inputs to the script only through the step's `env:`: a missing or
    // swapped line there would pass every test that sets INPUT_* directly.
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml")).unwrap();
    let inputs_block = &text[text.find("\ninputs:\n").unwrap()..text.find("\noutputs:\n").unwrap()];
    let inputs: Vec<&str> = inputs_block
        .lines()
        .filter_map(|l| l.strip_prefix("  ")?.strip_suffix(':'))
        .filter(|l| !l.starts_with(' '))
        .collect();
    assert!(
        inputs.contains(&"sbom") && inputs.contains(&"manifest-path"),
        "{inputs:?}"
    );
    let script = step_script("Audit");
    let audit_step = &text[text.find("    - name: Audit\n").unwrap()..];
    let audit_env = &audit_step[..audit_step.find("      run: |").unwrap()];
    for &input in &inputs {
        let variable = format!("INPUT_{}", input.to_uppercase().replace('-', "_"));
        if script.contains(&format!("${variable}")) {
            assert!(
                audit_env.contains(&format!("        {variable}: ${{{{ inputs.{input} }}}}\n")),
                "{variable} is read by the script but not mapped from inputs.{input}"
            );
        }
    }
    // And the other way: every input declared is used by some step.
    let steps = &text[text.find("\nruns:\n").unwrap()..];
    for input in &inputs {
        assert!(
            steps.contains(&format!("inputs.{input} ")),
            "input {input} is declared but no step uses it"
        );
    }
    // The key is mapped to the one variable charter-audit reads, not to an INPUT_ one.
    assert!(audit_env.contains("        CHARTER_AUDIT_SIGNING_KEY: ${{ inputs.sign-key }}\n"));
    // And the later steps' conditions name the right inputs and outputs.
    assert!(text.contains(
        "if: always() && inputs.upload-sarif == 'true' && steps.audit.outputs.report-sarif != ''"
    ));
    assert!(text.contains(
        "if: inputs.fail-on-violation == 'true' && steps.audit.outputs.exit-code == '1'"
    ));
}
