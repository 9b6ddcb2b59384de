//! The official CycloneDX 1.6 JSON schema (vendored in `schemas/cyclonedx/`, with the SPDX
//! licence-id and JSF signature schemas it references), compiled once, the first time a 1.6
//! document is checked. Every CycloneDX 1.6 JSON document charter-audit writes (SBOMs, and the
//! attestation of a run) is checked against it before it is written, in every build: the
//! `cyclonedx-bom` crate stops at 1.5 and cannot.

use std::sync::OnceLock;

use serde_json::Value;

use super::SbomError;

const BOM: &str = include_str!("../../schemas/cyclonedx/bom-1.6.schema.json");
const SPDX: &str = include_str!("../../schemas/cyclonedx/spdx.schema.json");
const JSF: &str = include_str!("../../schemas/cyclonedx/jsf-0.82.schema.json");

/// The most problems named: the first ones are enough to find the fault.
const MAX_ERRORS: usize = 20;
/// A problem's message quotes the value, which may be large: a line's worth is enough.
const MAX_ERROR_CHARS: usize = 300;

/// Checks a CycloneDX 1.6 JSON document against the official schema (formats asserted);
/// on failure, where and how it departs (at most 20 places).
pub fn validate_1_6(document: &Value) -> Result<(), Vec<String>> {
    let validator = validator().map_err(|e| vec![e.clone()])?;
    let errors: Vec<String> = validator
        .iter_errors(document)
        .take(MAX_ERRORS)
        .map(|e| {
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
        Err(errors)
    }
}

/// [`validate_1_6`] on a serialised document, as the SBOM writer needs it.
pub(super) fn check_1_6(bytes: &[u8]) -> Result<(), SbomError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| SbomError::Schema(format!("  not JSON: {e}")))?;
    validate_1_6(&value).map_err(|problems| {
        SbomError::Schema(
            problems
                .iter()
                .map(|p| format!("  {p}"))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    })
}

/// The compiled validator, or why the vendored schema does not load (a bug, never input).
fn validator() -> Result<&'static jsonschema::Validator, &'static String> {
    static VALIDATOR: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            let parse = |name: &str, text: &str| {
                serde_json::from_str::<Value>(text)
                    .map_err(|e| format!("the vendored schema {name} is not JSON: {e}"))
            };
            let bom = parse("bom-1.6.schema.json", BOM)?;
            let spdx = parse("spdx.schema.json", SPDX)?;
            let jsf = parse("jsf-0.82.schema.json", JSF)?;
            let load = |e: jsonschema::ReferencingError| {
                format!("the vendored CycloneDX 1.6 schema does not load: {e}")
            };
            // Registered under the addresses the schema names them by (their `$id`s), so
            // that nothing is ever fetched.
            let registry = jsonschema::Registry::new()
                .add("http://cyclonedx.org/schema/spdx.schema.json", spdx)
                .map_err(load)?
                .add("http://cyclonedx.org/schema/jsf-0.82.schema.json", jsf)
                .map_err(load)?
                .prepare()
                .map_err(load)?;
            jsonschema::options()
                .offline()
                .with_registry(&registry)
                .should_validate_formats(true)
                .build(&bom)
                .map_err(|e| format!("the vendored CycloneDX 1.6 schema does not load: {e}"))
        })
        .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_loads_and_judges() {
        let minimal = serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.6"});
        assert_eq!(validate_1_6(&minimal), Ok(()));
        let licence = serde_json::json!({
            "bomFormat": "CycloneDX", "specVersion": "1.6",
            "components": [{"type": "library", "name": "x",
                "licenses": [{"license": {"id": "MIT", "acknowledgement": "declared"}}]}]
        });
        assert_eq!(
            validate_1_6(&licence),
            Ok(()),
            "the SPDX schema is resolved"
        );
        let wrong_id = serde_json::json!({
            "bomFormat": "CycloneDX", "specVersion": "1.6",
            "components": [{"type": "library", "name": "x",
                "licenses": [{"license": {"id": "Not-A-Licence"}}]}]
        });
        assert!(validate_1_6(&wrong_id).is_err(), "SPDX ids are checked");
        let errors = validate_1_6(&serde_json::json!({
            "bomFormat": "CycloneDX", "specVersion": "1.6",
            "metadata": {"timestamp": "yesterday"},
            "components": [{"type": "library", "name": "x",
                "licenses": [{"expression": "MIT", "acknowledgement": "guessed"}]}]
        }))
        .unwrap_err();
        assert!(
            errors.iter().any(|e| e.contains("/metadata/timestamp")),
            "formats are asserted: {errors:?}"
        );
        assert!(
            errors.iter().any(|e| e.contains("/components/0/licenses")),
            "{errors:?}"
        );
    }
}
