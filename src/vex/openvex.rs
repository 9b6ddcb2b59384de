//! OpenVEX 0.2.0 (<https://github.com/openvex/spec>): a document with an author and a time,
//! and statements of a vulnerability (`{"name": ..., "aliases": [...]}`), products (each with
//! an `@id` or `identifiers.purl`, and optional `subcomponents`), a status and its reasons.
//! Earlier drafts' plain strings for the vulnerability and the products read too.

use serde_json::Value;

use super::{
    MAX_REFERENCES, MAX_STATEMENTS, Statement, Status, VexError, clip, invalid, later, string,
    text, time,
};

/// OpenVEX's justifications for `not_affected`.
pub const JUSTIFICATIONS: [&str; 5] = [
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
];

/// An OpenVEX document: its `@context` is OpenVEX's namespace.
pub(super) fn is_openvex(value: &Value) -> bool {
    value
        .get("@context")
        .and_then(Value::as_str)
        .is_some_and(|c| c.starts_with("https://openvex.dev/ns"))
}

/// The document's author and statements.
pub(super) fn read(doc: &Value) -> Result<(String, Vec<Statement>), VexError> {
    if !is_openvex(doc) {
        return Err(invalid(
            "the OpenVEX document's `@context` is not https://openvex.dev/ns/...".to_owned(),
        ));
    }
    let author = text(doc, "author", "the document")?
        .ok_or_else(|| invalid("the OpenVEX document names no `author`".to_owned()))?;
    let issued = time(doc, "timestamp", "the document")?
        .ok_or_else(|| invalid("the OpenVEX document has no `timestamp`".to_owned()))?;
    let statements = doc
        .get("statements")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("the OpenVEX document has no `statements` list".to_owned()))?;
    if statements.len() > MAX_STATEMENTS {
        return Err(VexError::TooManyStatements);
    }
    let mut references = 0usize;
    let mut out = Vec::new();
    for (index, statement) in statements.iter().enumerate() {
        let of = format!("statement {}", index + 1);
        out.extend(read_statement(statement, &of, &issued, &mut references)?);
    }
    Ok((author, out))
}

/// One OpenVEX statement, as one [`Statement`] for its products named alone and one for each
/// product that names subcomponents.
fn read_statement(
    statement: &Value,
    of: &str,
    issued: &str,
    references: &mut usize,
) -> Result<Vec<Statement>, VexError> {
    if !statement.is_object() {
        return Err(invalid(format!("{of} is not an object")));
    }
    let vulnerability = match statement.get("vulnerability") {
        Some(Value::String(name)) => name.clone(),
        Some(v @ Value::Object(_)) => string(v, "name", &format!("{of}'s vulnerability"))?,
        _ => return Err(invalid(format!("{of} names no vulnerability"))),
    };
    if vulnerability.trim().is_empty() || vulnerability.chars().count() > super::MAX_TEXT {
        return Err(invalid(format!(
            "{of}'s vulnerability name is empty or too long"
        )));
    }
    let status = status(&string(statement, "status", of)?, of)?;
    let justification = text(statement, "justification", of)?;
    if let Some(j) = &justification
        && !JUSTIFICATIONS.contains(&j.as_str())
    {
        return Err(invalid(format!(
            "{of}'s justification `{}` is not one of OpenVEX's: {}",
            clip(j),
            JUSTIFICATIONS.join(", ")
        )));
    }
    let own = later(
        time(statement, "timestamp", of)?,
        time(statement, "last_updated", of)?,
    );
    let base = Statement {
        vulnerability,
        product: None,
        components: Vec::new(),
        status,
        justification,
        impact: text(statement, "impact_statement", of)?,
        action: text(statement, "action_statement", of)?,
        time: Some(own.unwrap_or_else(|| issued.to_owned())),
    };
    let products = statement
        .get("products")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid(format!("{of} has no `products` list")))?;
    let mut alone = Vec::new();
    let mut out = Vec::new();
    for product in products {
        let id = reference(product, of)?;
        count(references, 1)?;
        let subcomponents = match product.get("subcomponents") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(subs)) => subs
                .iter()
                .map(|s| reference(s, of))
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => return Err(invalid(format!("{of}'s `subcomponents` is not a list"))),
        };
        count(references, subcomponents.len())?;
        if subcomponents.is_empty() {
            alone.push(id);
        } else {
            out.push(Statement {
                product: Some(id),
                components: subcomponents,
                ..base.clone()
            });
        }
    }
    if !alone.is_empty() {
        out.insert(
            0,
            Statement {
                components: alone,
                ..base
            },
        );
    }
    Ok(out)
}

/// Counts references against [`MAX_REFERENCES`].
fn count(references: &mut usize, more: usize) -> Result<(), VexError> {
    *references = references.saturating_add(more);
    if *references > MAX_REFERENCES {
        return Err(VexError::TooManyReferences);
    }
    Ok(())
}

/// A product or subcomponent: its `identifiers.purl`, else its `@id` (or the string itself).
fn reference(value: &Value, of: &str) -> Result<String, VexError> {
    let id = match value {
        Value::String(s) => Some(s.clone()),
        Value::Object(_) => value
            .get("identifiers")
            .and_then(|i| i.get("purl"))
            .and_then(Value::as_str)
            .or_else(|| value.get("@id").and_then(Value::as_str))
            .map(str::to_owned),
        _ => None,
    };
    match id {
        Some(id) if !id.is_empty() && id.chars().count() <= super::MAX_TEXT => Ok(id),
        _ => Err(invalid(format!(
            "{of} names a product or subcomponent without an `@id` or `identifiers.purl`"
        ))),
    }
}

fn status(text: &str, of: &str) -> Result<Status, VexError> {
    match text {
        "not_affected" => Ok(Status::NotAffected),
        "affected" => Ok(Status::Affected),
        "fixed" => Ok(Status::Fixed),
        "under_investigation" => Ok(Status::UnderInvestigation),
        other => Err(invalid(format!(
            "{of}'s status `{}` is not one of not_affected, affected, fixed, under_investigation",
            clip(other)
        ))),
    }
}
