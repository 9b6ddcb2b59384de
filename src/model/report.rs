//! The audit report as one typed value: this struct *is* the JSON output (schema
//! `charter-audit/report/v1`, documented in docs/report.md), written by `audit --format json`
//! and read back, through the same types, by `attest --report`. Every renderer (human,
//! SARIF, Markdown, HTML) reads it; `attest` makes its predicate from it.
//!
//! Reading refuses what we never write: an unknown field anywhere, another schema, a verdict
//! or rule this version does not know.

use serde::{Deserialize, Serialize};

use crate::advisories::platform::TargetRecord;
use crate::advisories::{Coverage, FindingPackage, Kind, Severity, SourceRecord, model::Score};
use crate::policy::assess::Judged;
use crate::policy::model::Settings;
use crate::policy::{
    AppliedException, AppliedVex, ClockStart, Exception, Override, Rule, RuleFinding, Verdict,
};
use crate::registry::RegistryRecord;
use crate::registry::apply::ComponentFacts;

/// The schema identifier; bumped on any change that is not an addition.
pub const SCHEMA: &str = "charter-audit/report/v1";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub schema: String,
    /// `pass` or `fail`.
    pub result: Outcome,
    /// When the report was made (`SOURCE_DATE_EPOCH` when set).
    pub generated_at: String,
    /// The time every age is computed at (`--now`, else the clock).
    pub evaluated_at: String,
    pub tool: Tool,
    /// Where the audit ran: the GitHub Actions run (from `GITHUB_*`), or `local`.
    pub builder: Builder,
    pub product: Product,
    /// The target platform-specific advisories were judged for.
    pub target: TargetRecord,
    /// Who supplies the product (the SBOM's supplier), when it is known.
    pub supplier: Option<String>,
    pub sources: Vec<SourceRecord>,
    /// The registry index behind the registry facts, when one was consulted.
    pub registry: Option<RegistryRecord>,
    pub policy: PolicyRecord,
    pub coverage: Coverage,
    pub components: Components,
    pub findings: Vec<Finding>,
    /// Verdicts of rules that are not about one advisory (database age, exceptions).
    pub rule_findings: Vec<RuleFinding>,
    /// How many findings and rule findings got each verdict.
    pub summary: Summary,
    /// Each release artifact that carries a list embedded by `cargo auditable`, compared with
    /// the SBOM (`sbom-binary-match`): `exact`, or the differences.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub binaries: Vec<crate::inventory::binary_match::BinaryMatch>,
}

/// The policy applied: its base, the digest of the effective settings, every override (marked
/// tightening or loosening) and the exceptions in force.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRecord {
    pub base: String,
    pub digest: String,
    /// Every setting, written as one object of `section.key` → value.
    #[serde(with = "flat_settings")]
    pub settings: Settings,
    pub overrides: Vec<Override>,
    pub exceptions: Vec<Exception>,
    /// The VEX documents given with `--vex`, every statement in them, so that the verdicts
    /// they changed can be judged again from the report alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vex: Vec<crate::vex::Document>,
}

/// The settings as reports write them: one flat object of `section.key` → value, read back
/// only when it holds every setting of this version and nothing else.
mod flat_settings {
    use std::collections::BTreeMap;

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::policy::model::{Settings, Value};

    pub fn serialize<S: Serializer>(settings: &Settings, serializer: S) -> Result<S::Ok, S::Error> {
        settings.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Settings, D::Error> {
        let map = BTreeMap::<String, Value>::deserialize(deserializer)?;
        Settings::from_map(&map).ok_or_else(|| {
            D::Error::custom(
                "policy.settings does not hold every setting of this version, each once and of its type, and nothing else",
            )
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Pass,
    Fail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl InventoryKind {
    /// As the report writes it (`cargo-metadata`).
    pub fn as_str(self) -> &'static str {
        match self {
            InventoryKind::CargoMetadata => "cargo-metadata",
            InventoryKind::CargoLock => "cargo-lock",
            InventoryKind::CyclonedxSbom => "cyclonedx-sbom",
            InventoryKind::CargoAuditable => "cargo-auditable",
            InventoryKind::BinaryPanicMessages => "binary-panic-messages",
        }
    }
}

impl Tool {
    /// This build of charter-audit.
    pub fn this() -> Tool {
        Tool {
            name: "charter-audit".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// Where the audit ran. Its fields are written in the order of their names, as the report
/// has always written them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Builder {
    GithubActions(GithubActions),
    Local(Local),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GithubActionsKind {
    #[serde(rename = "github-actions")]
    GithubActions,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LocalKind {
    #[serde(rename = "local")]
    Local,
}

/// A GitHub Actions run, from the `GITHUB_*` variables.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubActions {
    pub commit: Option<String>,
    pub kind: GithubActionsKind,
    pub repository: String,
    pub run_url: String,
    pub runner_environment: Option<String>,
    pub runner_os: Option<String>,
    /// The toolchain that resolved the graph, when cargo did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rustc: Option<String>,
    pub tool: Tool,
    pub workflow_ref: Option<String>,
}

/// A run anywhere else: the operating system and architecture only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Local {
    pub arch: String,
    pub kind: LocalKind,
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rustc: Option<String>,
    pub tool: Tool,
}

impl Builder {
    /// The builder of this run, from its environment.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Builder {
        let var = |name: &str| env(name).filter(|v| !v.is_empty());
        match (
            var("GITHUB_ACTIONS"),
            var("GITHUB_SERVER_URL"),
            var("GITHUB_REPOSITORY"),
            var("GITHUB_RUN_ID"),
        ) {
            (Some(actions), Some(server), Some(repository), Some(run)) if actions == "true" => {
                let attempt = var("GITHUB_RUN_ATTEMPT")
                    .map(|a| format!("/attempts/{a}"))
                    .unwrap_or_default();
                Builder::GithubActions(GithubActions {
                    commit: var("GITHUB_SHA"),
                    kind: GithubActionsKind::GithubActions,
                    repository: format!("{server}/{repository}"),
                    run_url: format!("{server}/{repository}/actions/runs/{run}{attempt}"),
                    runner_environment: var("RUNNER_ENVIRONMENT"),
                    runner_os: var("RUNNER_OS"),
                    rustc: None,
                    tool: Tool::this(),
                    workflow_ref: var("GITHUB_WORKFLOW_REF"),
                })
            }
            _ => Builder::Local(Local {
                arch: std::env::consts::ARCH.to_owned(),
                kind: LocalKind::Local,
                os: std::env::consts::OS.to_owned(),
                rustc: None,
                tool: Tool::this(),
            }),
        }
    }

    /// With the toolchain that resolved the graph.
    pub fn with_rustc(mut self, version: String) -> Builder {
        match &mut self {
            Builder::GithubActions(b) => b.rustc = Some(version),
            Builder::Local(b) => b.rustc = Some(version),
        }
        self
    }

    /// `github-actions` or `local`.
    pub fn kind(&self) -> &'static str {
        match self {
            Builder::GithubActions(_) => "github-actions",
            Builder::Local(_) => "local",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub name: String,
    pub version: Option<String>,
    pub purl: Option<String>,
    /// The product's repository, as its manifest gives it.
    pub repository: Option<String>,
    /// The commit audited: `GITHUB_SHA` in GitHub Actions, else the workspace's git `HEAD`.
    pub commit: Option<String>,
}

/// How the inventory was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InventoryKind {
    /// `cargo metadata`: the complete resolved graph.
    CargoMetadata,
    /// Cargo.lock read without cargo.
    CargoLock,
    /// A supplier's own CycloneDX SBOM.
    CyclonedxSbom,
    /// The dependency list `cargo auditable` embedded in a built binary: every Rust crate
    /// compiled in, with its dependency kind, its source by kind only.
    CargoAuditable,
    /// A binary without that list, read with `--allow-incomplete`: the crates its panic
    /// messages name, an incomplete inventory.
    BinaryPanicMessages,
}

/// How many components the product has, by source kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Components {
    pub total: usize,
    pub by_source: std::collections::BTreeMap<String, usize>,
    pub inventory: InventoryKind,
    /// Every component, with its registry facts.
    pub packages: Vec<ComponentFacts>,
}

/// One finding as the report holds it: the advisory's facts, the registry's facts about a way
/// out, and the policy's verdict, in that order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    pub id: String,
    pub aliases: Vec<String>,
    pub kind: Kind,
    pub package: FindingPackage,
    pub title: String,
    pub severity: Severity,
    pub severities: Vec<Score>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<String>,
    pub date: Option<String>,
    pub patched: Vec<String>,
    pub references: Vec<String>,
    pub sources: Vec<String>,
    pub fix_version: Option<String>,
    pub fix_published_at: Option<String>,
    pub upgrade_to: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_applicable: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_note: Option<String>,
    pub verdict: Verdict,
    pub rule: Rule,
    pub message: String,
    pub exposure_days: Option<i64>,
    pub window_days: Option<u32>,
    pub clock_start: Option<String>,
    pub clock_start_from: Option<ClockStart>,
    pub exception: Option<AppliedException>,
    /// The VEX statement that excepted it, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vex: Option<AppliedVex>,
}

impl From<Judged> for Finding {
    fn from(judged: Judged) -> Finding {
        let Judged {
            finding: f,
            fix,
            judgement: j,
        } = judged;
        Finding {
            id: f.id,
            aliases: f.aliases,
            kind: f.kind,
            package: f.package,
            title: f.title,
            severity: f.severity,
            severities: f.severities,
            vector: f.vector,
            date: f.date,
            patched: f.patched,
            references: f.references,
            sources: f.sources,
            fix_version: fix.fix_version,
            fix_published_at: fix.fix_published_at,
            upgrade_to: fix.upgrade_to,
            functions: f.functions,
            not_applicable: f.not_applicable,
            registry_note: fix.registry_note,
            verdict: j.verdict,
            rule: j.rule,
            message: j.message,
            exposure_days: j.exposure_days,
            window_days: j.window_days,
            clock_start: j.clock_start,
            clock_start_from: j.clock_start_from,
            exception: j.exception,
            vex: j.vex,
        }
    }
}

/// How many findings and rule findings got each verdict; a verdict no finding got is left
/// out (read as 0). Written in the order of the verdicts' names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub excepted: usize,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub info: usize,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub violation: usize,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub warning: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Summary {
    /// Counts the verdicts.
    pub fn of(verdicts: impl IntoIterator<Item = Verdict>) -> Summary {
        let mut summary = Summary::default();
        for verdict in verdicts {
            *summary.count_mut(verdict) += 1;
        }
        summary
    }

    /// How many got `verdict`.
    pub fn count(&self, verdict: Verdict) -> usize {
        match verdict {
            Verdict::Excepted => self.excepted,
            Verdict::Info => self.info,
            Verdict::Violation => self.violation,
            Verdict::Warning => self.warning,
        }
    }

    fn count_mut(&mut self, verdict: Verdict) -> &mut usize {
        match verdict {
            Verdict::Excepted => &mut self.excepted,
            Verdict::Info => &mut self.info,
            Verdict::Violation => &mut self.violation,
            Verdict::Warning => &mut self.warning,
        }
    }
}

/// Why a report could not be read as one of ours.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("it is not a charter-audit report: {0}")]
    NotOurs(#[source] serde_json::Error),
    #[error("its schema is {found:?}, not {SCHEMA:?}: make it with this version of charter-audit")]
    Schema { found: String },
    #[error("its summary or result does not follow from its findings")]
    Inconsistent,
    #[error("it names a key twice: {0}")]
    Duplicate(String),
    #[error(
        "it was written by {name} {version}, not this charter-audit: make it with this version"
    )]
    Tool { name: String, version: String },
    #[error("its policy's settings do not have the digest it records")]
    Digest,
    #[error("its evaluation time `{0}` is not an RFC 3339 time")]
    Time(String),
    #[error(
        "the verdict it records on {id} ({package}) is not the one its own facts, settings and exceptions give"
    )]
    Verdict { id: String, package: String },
    #[error(
        "the database-age and exception findings it records are not the ones its own facts give"
    )]
    RuleFindings,
}

impl Report {
    /// The findings and rule findings that got `verdict`.
    pub fn of_verdict(&self, verdict: Verdict) -> (Vec<&Finding>, Vec<&RuleFinding>) {
        (
            self.findings
                .iter()
                .filter(|f| f.verdict == verdict)
                .collect(),
            self.rule_findings
                .iter()
                .filter(|r| r.verdict == verdict)
                .collect(),
        )
    }

    /// The summary and result the findings give.
    pub fn tally(findings: &[Finding], rule_findings: &[RuleFinding]) -> (Summary, Outcome) {
        let summary = Summary::of(
            findings
                .iter()
                .map(|f| f.verdict)
                .chain(rule_findings.iter().map(|r| r.verdict)),
        );
        let outcome = if summary.violation > 0 {
            Outcome::Fail
        } else {
            Outcome::Pass
        };
        (summary, outcome)
    }

    /// The report as `audit --format json` writes it: pretty JSON and a newline.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        // Room for the whole report from the start, by what its parts take written out
        // (nushell's 1,035 components: 318 KB): grown from serde_json's 128 bytes, the text
        // was copied about a dozen times, and the copies' page faults were a twentieth of a
        // warm audit's (`perf`). Only the bytes written are touched; a larger report grows.
        let room = 64 * 1024
            + 256 * self.components.packages.len()
            + 1024 * self.findings.len()
            + 512 * self.rule_findings.len();
        let mut bytes = Vec::with_capacity(room);
        serde_json::to_writer_pretty(&mut bytes, self)?;
        bytes.push(b'\n');
        // serde_json writes UTF-8 only; the check costs a pass over the text.
        String::from_utf8(bytes).map_err(|e| serde::ser::Error::custom(e.to_string()))
    }

    /// Reads a report through the same types that write it: unknown fields, another schema,
    /// or a summary and result that do not follow from the findings are refused.
    pub fn from_json(bytes: &[u8]) -> Result<Report, ReportError> {
        let report: Report = serde_json::from_slice(bytes).map_err(ReportError::NotOurs)?;
        // Two readers of the same bytes must see the same report: no key named twice in a map.
        crate::json::strict(bytes).map_err(ReportError::Duplicate)?;
        if report.schema != SCHEMA {
            return Err(ReportError::Schema {
                found: report.schema,
            });
        }
        if Report::tally(&report.findings, &report.rule_findings) != (report.summary, report.result)
        {
            return Err(ReportError::Inconsistent);
        }
        super::check::check(&report)?;
        Ok(report)
    }
}

/// A report of nothing: a passing local audit of one product with no components.
#[cfg(test)]
pub(crate) fn sample() -> Report {
    use crate::advisories::platform::TargetFrom;
    Report {
        schema: SCHEMA.to_owned(),
        result: Outcome::Pass,
        generated_at: "2026-08-25T00:00:00Z".to_owned(),
        evaluated_at: "2026-08-25T00:00:00Z".to_owned(),
        tool: Tool::this(),
        builder: Builder::from_env(&|_| None),
        product: Product {
            name: "demo".to_owned(),
            version: Some("1.0.0".to_owned()),
            purl: None,
            repository: None,
            commit: None,
        },
        target: TargetRecord {
            triple: "x86_64-unknown-linux-gnu".to_owned(),
            from: TargetFrom::Flag,
            binary_format: None,
            note: String::new(),
        },
        supplier: None,
        sources: Vec::new(),
        registry: None,
        policy: PolicyRecord {
            base: "nhs-charter".to_owned(),
            digest: String::new(),
            settings: crate::policy::builtin("nhs-charter")
                .map(|p| p.settings)
                .unwrap_or_else(|| unreachable!("a built-in policy")),
            overrides: Vec::new(),
            exceptions: Vec::new(),
            vex: Vec::new(),
        },
        coverage: Coverage::default(),
        components: Components {
            total: 0,
            by_source: std::collections::BTreeMap::new(),
            inventory: InventoryKind::CargoMetadata,
            packages: Vec::new(),
        },
        findings: Vec::new(),
        rule_findings: Vec::new(),
        summary: Summary::default(),
        binaries: Vec::new(),
    }
}

/// A patch-age finding, a warning, of regex 1.5.4.
#[cfg(test)]
pub(crate) fn sample_finding() -> Finding {
    Finding {
        id: "RUSTSEC-2022-0013".to_owned(),
        aliases: Vec::new(),
        kind: Kind::Vulnerability,
        package: FindingPackage {
            name: "regex".to_owned(),
            version: "1.5.4".to_owned(),
            purl: "pkg:cargo/regex@1.5.4".to_owned(),
        },
        title:
            "Regexes with large repetitions on empty sub-expressions take a very long time to parse"
                .to_owned(),
        severity: Severity::High,
        severities: Vec::new(),
        vector: None,
        date: Some("2022-03-08".to_owned()),
        patched: vec![">=1.5.5".to_owned()],
        references: Vec::new(),
        sources: vec!["rustsec".to_owned()],
        fix_version: Some("1.5.5".to_owned()),
        fix_published_at: Some("2022-03-08T00:00:00Z".to_owned()),
        upgrade_to: Some("1.5.5".to_owned()),
        functions: Vec::new(),
        not_applicable: None,
        registry_note: None,
        verdict: Verdict::Warning,
        rule: Rule::PatchAge,
        message: "upgrade regex 1.5.4 → 1.5.5".to_owned(),
        exposure_days: Some(3),
        window_days: Some(14),
        clock_start: Some("2022-03-08T00:00:00Z".to_owned()),
        clock_start_from: Some(ClockStart::FixPublished),
        exception: None,
        vex: None,
    }
}
