//! CycloneDX VEX: a BOM of `vulnerabilities` only, each with its `analysis` and the components
//! it `affects`, named by BOM-Link into the SBOM of the same run, so that a tool holding both
//! joins them. Its spec version is the SBOM's (1.5 beside a 1.5 SBOM; 1.6 otherwise), and a 1.6
//! document is checked against the vendored official schema before it is written.

use serde::Serialize;

use super::{BomLink, Decision, VexError, aliases, content_uuid, decision};
use crate::model::report::{Finding, Report};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom {
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata,
    vulnerabilities: Vec<Vulnerability>,
}

#[derive(Debug, Serialize)]
struct Metadata {
    timestamp: String,
    tools: Tools,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<Named>,
    component: Component,
}

#[derive(Debug, Serialize)]
struct Tools {
    components: Vec<Component>,
}

#[derive(Debug, Serialize)]
struct Component {
    #[serde(rename = "type")]
    kind: &'static str,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
}

#[derive(Debug, Serialize)]
struct Named {
    name: String,
}

#[derive(Debug, Serialize)]
struct Vulnerability {
    id: String,
    source: Source,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    references: Vec<Reference>,
    description: String,
    analysis: Analysis,
    affects: Vec<Affects>,
}

#[derive(Debug, Serialize)]
struct Source {
    name: &'static str,
    url: String,
}

#[derive(Debug, Serialize)]
struct Reference {
    id: String,
    source: Source,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Analysis {
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    response: Vec<&'static str>,
    detail: String,
    first_issued: String,
    last_updated: String,
}

#[derive(Debug, Serialize)]
struct Affects {
    #[serde(rename = "ref")]
    reference: String,
}

/// The CycloneDX VEX of the run, linked to its SBOM (`link`), as pretty JSON and a newline. Its
/// serial number, like the OpenVEX document's `@id`, is derived from its content.
pub fn render(report: &Report, link: &BomLink) -> Result<String, VexError> {
    let spec_version = if link.spec_version == "1.5" {
        "1.5"
    } else {
        "1.6"
    };
    let product = &report.product;
    let mut bom = Bom {
        bom_format: "CycloneDX",
        spec_version,
        serial_number: String::new(),
        version: 1,
        metadata: Metadata {
            timestamp: report.evaluated_at.clone(),
            tools: Tools {
                components: vec![Component {
                    kind: "application",
                    name: report.tool.name.clone(),
                    version: Some(report.tool.version.clone()),
                    purl: None,
                }],
            },
            authors: report
                .supplier
                .iter()
                .map(|name| Named { name: name.clone() })
                .collect(),
            component: Component {
                kind: "application",
                name: product.name.clone(),
                version: product.version.clone(),
                purl: product.purl.clone(),
            },
        },
        vulnerabilities: report
            .findings
            .iter()
            .map(|f| vulnerability(report, f, link))
            .collect(),
    };
    let unnamed = serde_json::to_vec(&bom).map_err(VexError::Json)?;
    bom.serial_number = content_uuid(&unnamed);
    if spec_version == "1.6" {
        let value = serde_json::to_value(&bom).map_err(VexError::Json)?;
        crate::cdx16::validate(&value).map_err(|e| VexError::Schema(e.to_string()))?;
    }
    let mut text = serde_json::to_string_pretty(&bom).map_err(VexError::Json)?;
    text.push('\n');
    Ok(text)
}

fn vulnerability(report: &Report, finding: &Finding, link: &BomLink) -> Vulnerability {
    let at = super::statement_time(report, finding);
    let analysis = match decision(report, finding) {
        Decision::Affected { action, update } => Analysis {
            state: "exploitable",
            justification: None,
            response: if update { vec!["update"] } else { Vec::new() },
            detail: action,
            first_issued: at.clone(),
            last_updated: at,
        },
        Decision::NotAffected {
            justification,
            statement,
        } => Analysis {
            state: "not_affected",
            justification: justification.map(crate::policy::Justification::cyclonedx),
            response: Vec::new(),
            detail: statement,
            first_issued: at.clone(),
            last_updated: at,
        },
        Decision::UnderInvestigation { note } => Analysis {
            state: "in_triage",
            justification: None,
            response: Vec::new(),
            detail: note,
            first_issued: at.clone(),
            last_updated: at,
        },
    };
    Vulnerability {
        id: finding.id.clone(),
        source: source(&finding.id),
        references: aliases(finding)
            .into_iter()
            .map(|alias| Reference {
                source: source(&alias),
                id: alias,
            })
            .collect(),
        description: finding.title.clone(),
        analysis,
        affects: vec![Affects {
            reference: link.reference(&finding.package.purl),
        }],
    }
}

/// Where an advisory id is published, by its prefix; OSV, which mirrors them all, otherwise.
fn source(id: &str) -> Source {
    let escaped: String = id
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let (name, url) = if id.starts_with("RUSTSEC-") {
        (
            "RustSec",
            format!("https://rustsec.org/advisories/{escaped}.html"),
        )
    } else if id.starts_with("CVE-") {
        ("NVD", format!("https://nvd.nist.gov/vuln/detail/{escaped}"))
    } else if id.starts_with("GHSA-") {
        (
            "GitHub Advisory Database",
            format!("https://github.com/advisories/{escaped}"),
        )
    } else {
        ("OSV", format!("https://osv.dev/vulnerability/{escaped}"))
    };
    Source { name, url }
}
