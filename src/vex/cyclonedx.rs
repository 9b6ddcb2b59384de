//! CycloneDX VEX (1.4 to 1.6): `vulnerabilities[]` with an `analysis` (`state`,
//! `justification`, `response`, `detail`, `firstIssued`, `lastUpdated`) and `affects[].ref`,
//! a `bom-ref` of the document itself or a BOM-Link (`urn:cdx:serial/version#ref`) into the
//! SBOM it describes, whose serial need not be this run's: the ref is matched by the purl it
//! names.

use std::collections::HashMap;

use serde_json::Value;

use super::{
    MAX_REFERENCES, MAX_STATEMENTS, Statement, Status, VexError, clip, invalid, later, string,
    text, time,
};

/// CycloneDX's justifications (`analysis.justification`).
pub const JUSTIFICATIONS: [&str; 9] = [
    "code_not_present",
    "code_not_reachable",
    "requires_configuration",
    "requires_dependency",
    "requires_environment",
    "protected_by_compiler",
    "protected_at_runtime",
    "protected_at_perimeter",
    "protected_by_mitigating_control",
];

/// CycloneDX's responses (`analysis.response[]`).
const RESPONSES: [&str; 5] = [
    "can_not_fix",
    "will_not_fix",
    "update",
    "rollback",
    "workaround_available",
];

/// A CycloneDX document with vulnerabilities.
pub(super) fn is_cyclonedx(value: &Value) -> bool {
    value.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX")
        && value.get("vulnerabilities").is_some_and(Value::is_array)
}

/// The document's author and statements: one per vulnerability with an analysis state.
pub(super) fn read(doc: &Value) -> Result<(String, Vec<Statement>), VexError> {
    let metadata = doc.get("metadata").cloned().unwrap_or(Value::Null);
    let author = author(&metadata).ok_or_else(|| {
        invalid(
            "the CycloneDX document names no author: give metadata.authors[].name (or metadata.supplier.name)"
                .to_owned(),
        )
    })?;
    let issued = time(&metadata, "timestamp", "the document's metadata")?;
    // The product the document is about (its subject, `metadata.component`): its statements
    // speak of their components inside that product only, as an OpenVEX statement about a
    // product's subcomponents does.
    let product = metadata
        .get("component")
        .and_then(|c| c.get("purl"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let purls = bom_refs(doc)?;
    let vulnerabilities = doc
        .get("vulnerabilities")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("`vulnerabilities` is not a list".to_owned()))?;
    if vulnerabilities.len() > MAX_STATEMENTS {
        return Err(VexError::TooManyStatements);
    }
    let mut references = 0usize;
    let mut out = Vec::new();
    for (index, vulnerability) in vulnerabilities.iter().enumerate() {
        let of = format!("vulnerability {}", index + 1);
        let Some(mut statement) = read_vulnerability(vulnerability, &of, issued.as_ref(), &purls)?
        else {
            continue;
        };
        references = references.saturating_add(statement.components.len());
        if references > MAX_REFERENCES {
            return Err(VexError::TooManyReferences);
        }
        // What it says of the subject itself (a vendor's VEX about its own library) is said
        // of that package wherever it is; what it says of the subject's components, only
        // inside the subject.
        let (own, inside): (Vec<String>, Vec<String>) =
            statement.components.drain(..).partition(|c| {
                product
                    .as_deref()
                    .is_none_or(|subject| super::same_package(c, subject))
            });
        if !inside.is_empty() {
            out.push(Statement {
                product: product.clone(),
                components: inside,
                ..statement.clone()
            });
        }
        if !own.is_empty() {
            out.push(Statement {
                product: None,
                components: own,
                ..statement
            });
        }
    }
    Ok((author, out))
}

/// `metadata.authors[].name`, else the supplier's or manufacturer's name.
fn author(metadata: &Value) -> Option<String> {
    let authors: Vec<&str> = metadata
        .get("authors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| a.get("name").and_then(Value::as_str))
        .filter(|n| !n.trim().is_empty())
        .collect();
    if !authors.is_empty() {
        return Some(clip_long(&authors.join(", ")));
    }
    ["supplier", "manufacturer", "manufacture"]
        .iter()
        .find_map(|key| metadata.get(key)?.get("name")?.as_str())
        .filter(|n| !n.trim().is_empty())
        .map(clip_long)
}

fn clip_long(text: &str) -> String {
    text.chars().take(super::MAX_TEXT).collect()
}

/// Each component's `bom-ref` → its purl, nested components too.
fn bom_refs(doc: &Value) -> Result<HashMap<String, String>, VexError> {
    let mut out = HashMap::new();
    let mut stack: Vec<&Value> = doc
        .get("components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    while let Some(component) = stack.pop() {
        if let (Some(r), Some(purl)) = (
            component.get("bom-ref").and_then(Value::as_str),
            component.get("purl").and_then(Value::as_str),
        ) {
            // A reference must name one component (CycloneDX requires bom-refs to be
            // unique): which of two it meant would be a guess.
            if out
                .insert(r.to_owned(), purl.to_owned())
                .is_some_and(|before| before != purl)
            {
                return Err(invalid(format!(
                    "the bom-ref `{}` names two components with different purls",
                    clip(r)
                )));
            }
        }
        stack.extend(
            component
                .get("components")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
    }
    Ok(out)
}

fn read_vulnerability(
    vulnerability: &Value,
    of: &str,
    issued: Option<&String>,
    purls: &HashMap<String, String>,
) -> Result<Option<Statement>, VexError> {
    let Some(analysis) = vulnerability.get("analysis") else {
        // A vulnerability without an analysis is a finding, not a statement about it.
        return Ok(None);
    };
    let Some(state) = text(analysis, "state", of)? else {
        return Ok(None);
    };
    let id = string(vulnerability, "id", of)?;
    if id.trim().is_empty() || id.chars().count() > super::MAX_TEXT {
        return Err(invalid(format!("{of}'s id is empty or too long")));
    }
    let status = match state.as_str() {
        "not_affected" | "false_positive" => Status::NotAffected,
        "exploitable" => Status::Affected,
        "in_triage" => Status::UnderInvestigation,
        "resolved" | "resolved_with_pedigree" => Status::Fixed,
        other => {
            return Err(invalid(format!(
                "{of}'s analysis state `{}` is not one of CycloneDX's: resolved, resolved_with_pedigree, exploitable, in_triage, false_positive, not_affected",
                clip(other)
            )));
        }
    };
    let justification = text(analysis, "justification", of)?;
    if let Some(j) = &justification
        && !JUSTIFICATIONS.contains(&j.as_str())
    {
        return Err(invalid(format!(
            "{of}'s justification `{}` is not one of CycloneDX's: {}",
            clip(j),
            JUSTIFICATIONS.join(", ")
        )));
    }
    let action = responses(analysis, of)?;
    let own = later(
        time(analysis, "firstIssued", of)?,
        time(analysis, "lastUpdated", of)?,
    );
    let affects = vulnerability
        .get("affects")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid(format!("{of} has no `affects` list")))?;
    let components = affects
        .iter()
        .map(|a| affected(a, of, purls))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(Statement {
        vulnerability: id,
        product: None,
        components,
        status,
        justification,
        impact: text(analysis, "detail", of)?,
        action,
        time: own.or_else(|| issued.cloned()),
    }))
}

/// `analysis.response`, each one of CycloneDX's words, joined.
fn responses(analysis: &Value, of: &str) -> Result<Option<String>, VexError> {
    let Some(list) = analysis.get("response") else {
        return Ok(None);
    };
    let list = list
        .as_array()
        .ok_or_else(|| invalid(format!("{of}'s analysis response is not a list")))?;
    let mut words = Vec::new();
    for word in list {
        match word.as_str() {
            Some(w) if RESPONSES.contains(&w) => words.push(w),
            _ => {
                return Err(invalid(format!(
                    "{of}'s analysis response holds something other than {}",
                    RESPONSES.join(", ")
                )));
            }
        }
    }
    Ok((!words.is_empty()).then(|| words.join(", ")))
}

/// What an `affects` entry names: the purl of its ref. An entry that narrows the ref to
/// `versions` (or ranges) is kept as written, so that it matches no purl: which versions it
/// means is not a question a strict reader guesses at.
fn affected(entry: &Value, of: &str, purls: &HashMap<String, String>) -> Result<String, VexError> {
    let reference = string(entry, "ref", &format!("{of}'s affects entry"))?;
    if reference.chars().count() > super::MAX_TEXT {
        return Err(invalid(format!("{of}'s affects ref is too long")));
    }
    let bom_ref = match reference.strip_prefix("urn:cdx:") {
        Some(link) => match link.split_once('#') {
            Some((_, fragment)) => percent_decode(fragment),
            None => {
                return Err(invalid(format!(
                    "{of}'s affects ref `{}` is a BOM-Link to a whole BOM, not to a component",
                    clip(&reference)
                )));
            }
        },
        None => reference.clone(),
    };
    let purl = purls.get(&bom_ref).cloned().unwrap_or(bom_ref);
    Ok(match entry.get("versions") {
        Some(versions) => format!("{purl} (versions {})", clip(&versions.to_string())),
        None => purl,
    })
}

/// `%XX` escapes decoded (as a BOM-Link's fragment writes a purl's `@` and `/`); anything
/// else kept as it is.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let value = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(value as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
