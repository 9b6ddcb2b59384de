//! OpenVEX 0.2.0 (<https://github.com/openvex/spec>): one statement per finding, about the
//! product (by purl) and, as its subcomponent, the component the advisory is about.

use serde::Serialize;

use super::{Decision, VexError, aliases, author, content_uuid, decision};
use crate::model::report::{Finding, Report};

/// The context every OpenVEX 0.2.0 document names.
pub const CONTEXT: &str = "https://openvex.dev/ns/v0.2.0";

/// What we write: the fields of the OpenVEX JSON schema we fill, in its order.
#[derive(Debug, Serialize)]
struct Document {
    #[serde(rename = "@context")]
    context: &'static str,
    /// `urn:uuid:` of the document's own content (see [`render`]).
    #[serde(rename = "@id")]
    id: String,
    author: String,
    timestamp: String,
    version: u32,
    tooling: String,
    statements: Vec<Statement>,
}

#[derive(Debug, Serialize)]
struct Statement {
    vulnerability: Vulnerability,
    timestamp: String,
    products: Vec<Product>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    impact_statement: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    action_statement: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    action_statement_timestamp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_notes: Option<String>,
}

#[derive(Debug, Serialize)]
struct Vulnerability {
    name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    aliases: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Product {
    #[serde(rename = "@id")]
    id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    subcomponents: Vec<Subcomponent>,
}

#[derive(Debug, Serialize)]
struct Subcomponent {
    #[serde(rename = "@id")]
    id: String,
}

/// The OpenVEX document of the run, pretty JSON and a newline; `None` when the run has no
/// finding, since OpenVEX requires at least one statement.
///
/// Its `@id` must identify this document and no other, and be the same whenever the run is:
/// a `urn:uuid:` (a name-based UUID of the SHA-256 of the document written with an empty
/// `@id`) says exactly that, needs no domain of ours, and unlike a random one keeps runs with a
/// pinned `--now` byte-identical.
pub fn render(report: &Report) -> Result<Option<String>, VexError> {
    if report.findings.is_empty() {
        return Ok(None);
    }
    let mut document = Document {
        context: CONTEXT,
        id: String::new(),
        author: author(report),
        timestamp: report.evaluated_at.clone(),
        version: 1,
        tooling: format!("{} {}", report.tool.name, report.tool.version),
        statements: report
            .findings
            .iter()
            .map(|f| statement(report, f))
            .collect(),
    };
    let unnamed = serde_json::to_vec(&document).map_err(VexError::Json)?;
    document.id = content_uuid(&unnamed);
    let mut text = serde_json::to_string_pretty(&document).map_err(VexError::Json)?;
    text.push('\n');
    Ok(Some(text))
}

fn statement(report: &Report, finding: &Finding) -> Statement {
    let component = finding.package.purl.clone();
    let product = match &report.product.purl {
        Some(product) if *product != component => Product {
            id: product.clone(),
            subcomponents: vec![Subcomponent { id: component }],
        },
        _ => Product {
            id: component,
            subcomponents: Vec::new(),
        },
    };
    let mut out = Statement {
        vulnerability: Vulnerability {
            name: finding.id.clone(),
            aliases: aliases(finding),
        },
        timestamp: super::statement_time(report, finding),
        products: vec![product],
        status: "",
        justification: None,
        impact_statement: None,
        action_statement: None,
        action_statement_timestamp: None,
        status_notes: None,
    };
    match decision(report, finding) {
        Decision::Affected { action, .. } => {
            out.status = "affected";
            out.action_statement = Some(action);
            out.action_statement_timestamp = Some(report.evaluated_at.clone());
        }
        Decision::NotAffected {
            justification,
            statement,
        } => {
            out.status = "not_affected";
            out.justification = justification.map(crate::policy::Justification::openvex);
            out.impact_statement = Some(statement);
        }
        Decision::UnderInvestigation { note } => {
            out.status = "under_investigation";
            out.status_notes = Some(note);
        }
    }
    out
}
