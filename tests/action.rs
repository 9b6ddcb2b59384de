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
/// attestation (and an OpenVEX document) as a signed run with findings would. Returns the recorded calls and GITHUB_OUTPUT.
fn run_audit_step(env: &[(&str, &str)], code: i32, attest: bool) -> (String, String, i32, String) {
    let (calls, outputs, code, key, _) = run_audit_step_logged(env, code, attest);
    (calls, outputs, code, key)
}

/// As [`run_audit_step`], also returning the step's log (standard output and error, in order).
/// The stand-in prints workflow commands on both, as a hostile SBOM or server could make
/// charter-audit print them.
fn run_audit_step_logged(
    env: &[(&str, &str)],
    code: i32,
    attest: bool,
) -> (String, String, i32, String, String) {
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
             echo '::error::pwned by the product name'; echo '  ::add-mask::pwned' >&2\n\
             echo '::stop-commands::guess'; echo '::set-output name=result::pwned'\n\
             if [ \"$1\" = audit ]; then printf '%s' \"${{CHARTER_AUDIT_SIGNING_KEY-}}\" > {calls:?}.key; fi\n\
             if [ \"$1\" = audit ] && [ {attest} = true ]; then mkdir -p \"$3\"; echo '{{}}' > \"$3/attestation.intoto.json\"; echo '{{}}' > \"$3/vex.openvex.json\"; fi\n\
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
    let log_file = dir.path().join("log");
    let log = std::fs::File::create(&log_file).unwrap();
    cmd.stdout(log.try_clone().unwrap()).stderr(log);
    let status = cmd.status().unwrap();
    (
        std::fs::read_to_string(&calls).unwrap_or_default(),
        std::fs::read_to_string(&output_file).unwrap(),
        status.code().unwrap(),
        std::fs::read_to_string(dir.path().join("calls.key")).unwrap_or_default(),
        std::fs::read_to_string(&log_file).unwrap(),
    )
}

/// The workflow commands the runner would act on in `log`, as it reads a step's log: a line
/// that begins (after blanks) with `::`, except between `::stop-commands::TOKEN` and `::TOKEN::`.
fn commands_run(log: &str) -> Vec<String> {
    let mut run = Vec::new();
    let mut stopped: Option<String> = None;
    for line in log.lines() {
        let line = line.trim_start();
        if let Some(token) = &stopped {
            if line == format!("::{token}::") {
                stopped = None;
            }
            continue;
        }
        if let Some(token) = line.strip_prefix("::stop-commands::") {
            stopped = Some(token.to_owned());
        } else if line.starts_with("::") {
            run.push(line.to_owned());
        }
    }
    run
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
        "attestation-cdx=evidence/attestation.cdx.json",
        "vex-cdx=evidence/vex.cdx.json",
        "vex-openvex=evidence/vex.openvex.json",
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
    // No OpenVEX written (a run without a finding writes none): its output is empty.
    assert!(outputs.lines().any(|l| l == "vex-openvex="), "{outputs}");

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

#[test]
fn workflow_commands_in_charter_audits_output_are_not_run() {
    let key = "-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----";
    let mut tokens = Vec::new();
    for (code, signed) in [(1, true), (0, false), (2, false)] {
        let env: &[(&str, &str)] = if signed {
            &[("CHARTER_AUDIT_SIGNING_KEY", key)]
        } else {
            &[]
        };
        let (calls, _, _, _, log) = run_audit_step_logged(env, code, signed);
        assert_eq!(calls.matches("@@end").count(), if signed { 2 } else { 1 });
        assert!(
            log.contains("::error::pwned"),
            "the stand-in printed: {log}"
        );
        let run = commands_run(&log);
        assert!(
            run.iter().all(|c| !c.contains("pwned")),
            "the runner would act on: {run:?}\n{log}"
        );
        if code == 2 {
            // The step's own message is still a command the runner acts on.
            assert_eq!(run, ["::error::charter-audit could not run (exit 2)"]);
        }
        for line in log.lines() {
            if let Some(token) = line.strip_prefix("::stop-commands::")
                && token != "guess"
            {
                tokens.push(token.to_owned());
            }
        }
    }
    // A fresh token each time, too long to guess.
    assert_eq!(tokens.len(), 4, "{tokens:?}");
    for token in &tokens {
        assert!(token.len() >= 32, "{token}");
    }
    let distinct: std::collections::BTreeSet<_> = tokens.iter().collect();
    assert_eq!(distinct.len(), tokens.len(), "{tokens:?}");
}

#[test]
fn an_out_dir_input_cannot_set_another_output() {
    for out_dir in [
        "evidence\nexit-code=0",
        "evidence\rresult=pass",
        "evidence\r\nbundle=x",
    ] {
        let (calls, outputs, code, _, log) =
            run_audit_step_logged(&[("INPUT_OUT_DIR", out_dir)], 1, false);
        assert_eq!(code, 2, "{log}");
        assert!(calls.is_empty(), "nothing runs: {calls}");
        assert_eq!(outputs, "", "no output is written");
        assert!(
            commands_run(&log)
                == ["::error::the out-dir input contains a line break: name a folder on one line"],
            "{log}"
        );
    }
    // An ordinary name with blanks and an equals sign is one line, and passes as it is.
    let (calls, outputs, code, _) =
        run_audit_step(&[("INPUT_OUT_DIR", "out dir=x/evidence")], 0, false);
    assert_eq!(code, 0, "{calls}");
    assert!(
        outputs.lines().any(|l| l == "out-dir=out dir=x/evidence"),
        "{outputs}"
    );
    assert!(outputs.lines().any(|l| l == "exit-code=0"), "{outputs}");
}

#[test]
fn the_binaries_cargo_auditable_built_are_attested_as_subjects() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("binaries.txt");
    std::fs::write(&list, "target/release/app\ntarget/release/app helper\n").unwrap();
    let key = "-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----";
    let (calls, _, code, _) = run_audit_step(
        &[
            ("INPUT_SUBJECTS", "dist/app.tar.gz"),
            ("BUILT_BINARIES", list.to_str().unwrap()),
            ("CHARTER_AUDIT_SIGNING_KEY", key),
        ],
        0,
        true,
    );
    assert_eq!(code, 0, "{calls}");
    let audit: Vec<&str> = calls.split("@@end\n").next().unwrap().lines().collect();
    assert_eq!(
        audit[3..],
        [
            "--subject",
            "dist/app.tar.gz",
            "--subject",
            "target/release/app",
            "--subject",
            "target/release/app helper",
            "--format",
            "human",
            "@@key=set"
        ]
    );
    // The build step's script asks cargo auditable for the release build, and cargo for the
    // executables it made.
    let build = step_script("Build with cargo auditable");
    assert!(
        build.contains("args=(auditable build --release --locked"),
        "{build}"
    );
    assert!(build.contains(".executable != null"), "{build}");
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml")).unwrap();
    assert!(text.contains("cargo install --locked cargo-auditable --version 0.7.7"));
    assert!(text.contains("        BUILT_BINARIES: ${{ steps.build.outputs.list }}\n"));
}
