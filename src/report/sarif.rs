//! The report as SARIF 2.1.0, for GitHub code scanning: one rule per advisory or rule code,
//! each result located at its package's entry in Cargo.lock.
//! <https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html>

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::advisories::{FindingPackage, Kind, Severity};
use crate::model::report::{Finding, Report};
use crate::policy::{Rule as Code, RuleFinding, Verdict};
use crate::text::clean;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Where Cargo.lock is, for the results' locations.
#[derive(Clone, Debug)]
pub struct LockfileLocation {
    /// Its path relative to the repository root (the current directory), `/`-separated.
    pub uri: String,
    /// The line of each package's `name = ...` in it, by name and version.
    pub lines: BTreeMap<(String, String), usize>,
}

impl LockfileLocation {
    /// Finds each `[[package]]` entry's `name` line in the lockfile's text.
    pub fn new(uri: String, text: &str) -> LockfileLocation {
        let mut lines = BTreeMap::new();
        let mut name: Option<(String, usize)> = None;
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line == "[[package]]" {
                name = None;
            } else if let Some(value) = quoted(line, "name") {
                name = Some((value, index + 1));
            } else if let (Some(version), Some((n, at))) = (quoted(line, "version"), &name) {
                lines.entry((n.clone(), version)).or_insert(*at);
            }
        }
        LockfileLocation { uri, lines }
    }
}

/// The string value of `key = "value"`.
fn quoted(line: &str, key: &str) -> Option<String> {
    let rest = line
        .strip_prefix(key)?
        .trim_start()
        .strip_prefix('=')?
        .trim();
    Some(rest.strip_prefix('"')?.strip_suffix('"')?.to_owned())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    /// A readable name, different from the id (SARIF1001), for the rule codes.
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    short_description: Text,
    full_description: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    help: Text,
    default_configuration: Configuration,
    properties: Value,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

fn text(value: impl Into<String>) -> Text {
    Text { text: value.into() }
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

/// SARIF's level for a verdict: violations are errors; excepted findings stay visible as
/// notes, suppressed with the exception's justification.
fn level(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Violation => "error",
        Verdict::Warning => "warning",
        Verdict::Excepted | Verdict::Info => "note",
    }
}

/// The rule codes, for results that are not about one advisory: a readable name (unlike the
/// id, SARIF1001) and what the rule asks.
fn rule_code(code: Code) -> (&'static str, &'static str) {
    match code {
        Code::AdvisoryDbAge => (
            "StaleAdvisoryDatabase",
            "The advisory database must have been updated recently",
        ),
        Code::ExceptionUnused => ("UnusedException", "An exception matches no finding"),
        Code::ExceptionExpiry => ("LongLivedException", "An exception expires too far ahead"),
        Code::VexUnused => (
            "UnusedVexStatement",
            "A VEX statement is about a component and vulnerability of this run",
        ),
        Code::Sources => (
            "PackageSources",
            "Packages come only from allowed registries",
        ),
        Code::SbomCompleteness => (
            "SbomMinimumElements",
            "The SBOM has the NTIA minimum elements",
        ),
        Code::Licenses => (
            "ComponentLicences",
            "Component licences are allowed by the policy",
        ),
        Code::RegistryFacts => (
            "UnknownRegistryFacts",
            "Registry facts (yanked, fix dates) are known",
        ),
        Code::LockfileIncomplete => (
            "IncompleteLockfile",
            "Cargo.lock locks every dependency the registry index lists",
        ),
        Code::SbomBinaryMatch => (
            "SbomMatchesBinary",
            "The SBOM lists every package compiled into the release binary",
        ),
        // The rules about one advisory never judge a rule finding.
        Code::PatchAge
        | Code::Yanked
        | Code::Unmaintained
        | Code::Unsound
        | Code::Notice
        | Code::NotApplicable => ("PolicyRule", "A charter-audit policy rule"),
    }
}

/// Renders the report as a SARIF log.
pub fn render(report: &Report, lockfile: &LockfileLocation) -> String {
    let mut rules = RuleTable::default();
    let mut results = Vec::new();
    for finding in &report.findings {
        let rule_index = rules.index_of(&finding.id, || advisory_rule(finding));
        results.push(advisory_result(finding, rule_index, lockfile));
    }
    for finding in &report.rule_findings {
        let rule_index = rules.index_of(finding.rule.as_str(), || code_rule(finding));
        results.push(rule_result(finding, rule_index, lockfile));
    }
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": report.tool.name,
                "version": report.tool.version,
                "semanticVersion": report.tool.version,
                "rules": rules.rules,
            }},
            "automationDetails": {"id": format!("charter-audit/{}/", clean(&report.product.name))},
            "invocations": [{
                "executionSuccessful": true,
                "endTimeUtc": report.generated_at,
            }],
            "results": results,
            "properties": {
                "result": report.result,
                "policy": report.policy.base,
                "policy_digest": report.policy.digest,
                "evaluated_at": report.evaluated_at,
            },
        }],
    });
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

/// The run's rules, each once, in the order first referred to: an advisory's by its id, a
/// rule code's by its code.
#[derive(Default)]
struct RuleTable {
    rules: Vec<Rule>,
    index: BTreeMap<String, usize>,
}

impl RuleTable {
    /// The index of the rule `id`, made by `make` when it is not there yet.
    fn index_of(&mut self, id: &str, make: impl FnOnce() -> Rule) -> usize {
        if let Some(index) = self.index.get(id) {
            return *index;
        }
        self.rules.push(make());
        let index = self.rules.len() - 1;
        self.index.insert(id.to_owned(), index);
        index
    }
}

/// The result for one advisory finding, at its package's entry in the lockfile; an excepted
/// finding is suppressed with the exception's justification.
fn advisory_result(finding: &Finding, rule_index: usize, lockfile: &LockfileLocation) -> Value {
    let mut result = json!({
        "ruleId": clean(&finding.id),
        "ruleIndex": rule_index,
        "level": level(finding.verdict),
        "message": {"text": format!("{}: {}", clean(&finding.title), clean(&finding.message))},
        "locations": [location(lockfile, Some(&finding.package))],
        "partialFingerprints": {"charterAudit/v1": fingerprint(&[&finding.id, &finding.package.purl])},
        "properties": {
            "verdict": finding.verdict,
            "rule": finding.rule,
            "package": clean(&finding.package.purl),
            "exposure_days": finding.exposure_days,
            "window_days": finding.window_days,
            "fix_version": finding.fix_version.as_deref().map(clean),
            "upgrade_to": finding.upgrade_to.as_deref().map(clean),
        },
    });
    // The functions at fault, so a reviewer can check whether the product calls them.
    if !finding.functions.is_empty() {
        result["properties"]["functions"] = json!(
            finding
                .functions
                .iter()
                .map(|f| clean(f))
                .collect::<Vec<_>>()
        );
    }
    if let (Verdict::Excepted, Some(vex)) = (finding.verdict, &finding.vex) {
        result["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": super::vex_in::suppression(vex),
        }]);
        result["properties"]["vex"] = json!({
            "document": clean(&vex.document),
            "sha256": vex.sha256,
            "author": clean(&vex.author),
            "signer": vex.signer.as_deref().map(clean),
            "time": clean(&vex.time),
            "justification": vex.justification.as_deref().map(clean),
        });
    } else if let (Verdict::Excepted, Some(exception)) = (finding.verdict, &finding.exception) {
        result["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": format!(
                "{} (approved by {}, until {})",
                clean(&exception.reason),
                clean(&exception.approved_by),
                exception.expires
            ),
        }]);
    }
    result
}

/// The result for one rule finding, at its package's entry or else the lockfile's first line.
fn rule_result(finding: &RuleFinding, rule_index: usize, lockfile: &LockfileLocation) -> Value {
    json!({
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": level(finding.verdict),
        "message": {"text": clean(&finding.message)},
        "locations": [location(lockfile, finding.package.as_ref())],
        "partialFingerprints": {"charterAudit/v1": fingerprint(&[finding.rule.as_str(), &finding.subject])},
        "properties": {"verdict": finding.verdict},
    })
}

/// The rule for one advisory, from the first finding of it.
fn advisory_rule(finding: &Finding) -> Rule {
    let title = clean(&finding.title);
    let short = if title.is_empty() {
        clean(&finding.id)
    } else {
        title.clone()
    };
    Rule {
        id: clean(&finding.id),
        name: None,
        short_description: text(short.clone()),
        full_description: text(full_description(finding, &short)),
        help_uri: finding
            .references
            .iter()
            .find_map(|r| crate::text::web_link(r)),
        help: text(match &finding.upgrade_to {
            Some(to) => format!("Upgrade {} to {}.", clean(&finding.package.name), clean(to)),
            None => format!("Read the advisory {} and act on it.", clean(&finding.id)),
        }),
        default_configuration: Configuration {
            level: match finding.kind {
                Kind::Vulnerability => "error",
                Kind::Yanked | Kind::Unmaintained | Kind::Unsound | Kind::Notice => "warning",
            },
        },
        properties: advisory_properties(finding),
    }
}

/// The advisory's title, package, patched versions and aliases.
fn full_description(finding: &Finding, short: &str) -> String {
    let mut parts = vec![format!(
        "{short}. Package: {}",
        clean(&finding.package.name)
    )];
    if !finding.patched.is_empty() {
        parts.push(format!("patched: {}", clean(&finding.patched.join(" or "))));
    }
    if !finding.aliases.is_empty() {
        let aliases: Vec<String> = finding.aliases.iter().map(|a| clean(a)).collect();
        parts.push(format!("aliases: {}", aliases.join(", ")));
    }
    parts.join("; ")
}

/// The advisory rule's tags and kind; for a vulnerability also its severity, and the
/// `security-severity` score GitHub ranks security results by.
fn advisory_properties(finding: &Finding) -> Value {
    let kind = finding.kind.as_str();
    let mut properties = json!({
        "tags": ["security", "supply-chain", kind],
        "kind": kind,
    });
    match finding.kind {
        Kind::Vulnerability => {
            properties["security-severity"] = json!(format!("{:.1}", security_severity(finding)));
            properties["severity"] = json!(finding.severity.as_str());
        }
        Kind::Yanked | Kind::Unmaintained | Kind::Unsound | Kind::Notice => {}
    }
    properties
}

/// A CVSS-like score: the highest score of any source, else one for the severity band.
fn security_severity(finding: &Finding) -> f64 {
    let score = finding
        .severities
        .iter()
        .filter_map(|s| s.score)
        .fold(None, |best: Option<f64>, s| {
            Some(best.map_or(s, |b| b.max(s)))
        });
    score.unwrap_or(match finding.severity {
        Severity::Low => 3.0,
        Severity::Medium => 5.5,
        Severity::High | Severity::Unscored => 8.0,
        Severity::Critical => 9.5,
    })
}

fn code_rule(finding: &RuleFinding) -> Rule {
    let (name, description) = rule_code(finding.rule);
    Rule {
        id: finding.rule.as_str().to_owned(),
        name: Some(name.to_owned()),
        short_description: text(description),
        full_description: text(format!(
            "{description} (charter-audit rule `{}`, see docs/report.md)",
            finding.rule
        )),
        help_uri: None,
        help: text(description),
        default_configuration: Configuration { level: "warning" },
        properties: json!({"tags": ["supply-chain", "policy"]}),
    }
}

/// The package's entry in Cargo.lock, or the lockfile itself for what is not about a package.
fn location(lockfile: &LockfileLocation, package: Option<&FindingPackage>) -> Value {
    let line = package
        .and_then(|p| lockfile.lines.get(&(p.name.clone(), p.version.clone())))
        .copied()
        .unwrap_or(1);
    json!({"physicalLocation": {
        "artifactLocation": {"uri": lockfile.uri},
        "region": {"startLine": line},
    }})
}

fn fingerprint(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(&hasher.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_are_located_at_their_lockfile_entry() {
        let text = "version = 4\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n\n[[package]]\nname = \"b\"\nversion = \"2.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
        let at = LockfileLocation::new("Cargo.lock".into(), text);
        assert_eq!(at.lines.get(&("a".into(), "1.0.0".into())), Some(&4));
        assert_eq!(at.lines.get(&("b".into(), "2.0.0".into())), Some(&8));
        // The lockfile's own `version = 4` is not a package's.
        assert_eq!(at.lines.len(), 2);
    }
}
