//! Every CycloneDX 1.6 SBOM charter-audit writes is checked against the official 1.6 JSON
//! schema before it is written, in every build (the `cyclonedx-bom` crate stops at 1.5 and
//! cannot): the vendored schema in `schemas/cyclonedx/`, compiled once in `crate::cdx16`,
//! which the attestation of a run shares.

use serde_json::Value;

use super::SbomError;

/// The most problems named: the first ones are enough to find the fault.
const MAX_ERRORS: usize = 20;

/// Checks a CycloneDX 1.6 JSON document against the official schema (formats asserted), through
/// the one validator every 1.6 document shares (`crate::cdx16`); on failure, where and how it
/// departs (at most 20 places).
pub fn validate_1_6(document: &Value) -> Result<(), Vec<String>> {
    crate::cdx16::problems(document, MAX_ERRORS).map_err(|problems| match problems {
        crate::cdx16::Problems::Schema(why) => vec![why],
        crate::cdx16::Problems::Document(found) => found,
    })
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
