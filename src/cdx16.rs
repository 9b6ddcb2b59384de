//! The official CycloneDX 1.6 JSON schema, vendored in `schemas/cyclonedx/` (Apache-2.0, source
//! and commit in its SOURCE.md) with the SPDX and JSF schemas it references, embedded so that
//! every CycloneDX 1.6 JSON document charter-audit writes is checked against it in every build,
//! offline. A foundation module: any stage that writes 1.6 (the attestation, the SBOM) shares it.

use std::sync::OnceLock;

use serde_json::Value;

const BOM: &str = include_str!("../schemas/cyclonedx/bom-1.6.schema.json");
const SPDX: &str = include_str!("../schemas/cyclonedx/spdx.schema.json");
const JSF: &str = include_str!("../schemas/cyclonedx/jsf-0.82.schema.json");

/// The most schema errors a message names.
const MAX_ERRORS: usize = 5;
/// The most characters of each error a message keeps.
const MAX_ERROR_CHARS: usize = 300;

/// Why a document is not CycloneDX 1.6.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("the vendored CycloneDX 1.6 schema does not load: {0}")]
    Schema(String),
    #[error("it does not follow the CycloneDX 1.6 JSON schema: {0}")]
    Document(String),
}

fn validator() -> Result<&'static jsonschema::Validator, Invalid> {
    static VALIDATOR: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            let parse = |text: &str| serde_json::from_str::<Value>(text).map_err(|e| e.to_string());
            let (bom, spdx, jsf) = (parse(BOM)?, parse(SPDX)?, parse(JSF)?);
            // The references resolve to the vendored copies; nothing is fetched.
            let registry = jsonschema::Registry::new()
                .add("http://cyclonedx.org/schema/spdx.schema.json", spdx)
                .and_then(|r| r.add("http://cyclonedx.org/schema/jsf-0.82.schema.json", jsf))
                .and_then(|r| r.prepare())
                .map_err(|e| e.to_string())?;
            // Offline: a reference the registry does not hold is an error, never a fetch.
            jsonschema::draft7::options()
                .offline()
                .should_validate_formats(true)
                .with_registry(&registry)
                .build(&bom)
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Invalid::Schema(e.clone()))
}

/// Checks `document` against the CycloneDX 1.6 JSON schema (formats asserted), naming the first
/// few places it departs.
pub fn validate(document: &Value) -> Result<(), Invalid> {
    problems(document, MAX_ERRORS).map_err(|problems| match problems {
        Problems::Schema(why) => Invalid::Schema(why),
        Problems::Document(found) => Invalid::Document(found.join("; ")),
    })
}

/// What [`problems`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problems {
    /// The vendored schema does not load (a bug, never input).
    Schema(String),
    /// Where and how the document departs from the schema, one line each.
    Document(Vec<String>),
}

/// Checks `document` against the CycloneDX 1.6 JSON schema (formats asserted); on failure, at
/// most `max` places where and how it departs.
pub fn problems(document: &Value, max: usize) -> Result<(), Problems> {
    let errors: Vec<String> = validator()
        .map_err(|e| Problems::Schema(e.to_string()))?
        .iter_errors(document)
        .take(max)
        .map(|e| {
            // The message quotes the value, which may be large: a line's worth is enough.
            let text: String = format!("at `{}`: {e}", e.instance_path())
                .chars()
                .take(MAX_ERROR_CHARS)
                .collect();
            crate::text::clean(&text)
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problems::Document(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_vendored_schema_loads_and_judges() {
        let minimal = json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1});
        validate(&minimal).unwrap();
        let mut wrong = minimal.clone();
        wrong["declarations"] = json!({"assessors": [{"thirdParty": "no"}]});
        let error = validate(&wrong).unwrap_err().to_string();
        assert!(
            error.contains("/declarations/assessors/0/thirdParty"),
            "{error}"
        );
        // The SPDX schema is the vendored one: an unknown licence id is refused.
        let mut licence = minimal.clone();
        licence["metadata"] = json!({"licenses": [{"license": {"id": "Not-A-Licence"}}]});
        assert!(validate(&licence).is_err());
        licence["metadata"] = json!({"licenses": [{"license": {"id": "Apache-2.0"}}]});
        validate(&licence).unwrap();
        // And the JSF schema: a signature that is not one is refused.
        let mut signed = minimal;
        signed["signature"] = json!({"algorithm": 5});
        assert!(validate(&signed).is_err());
    }
}
