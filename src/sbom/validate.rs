//! Validation against the spec version written, in every build: an invalid SBOM is an error.

use cyclonedx_bom::models::bom::Bom;
use cyclonedx_bom::validation::{Validate, ValidationErrorsKind, ValidationResult};

use super::{SbomError, Spec};

/// Checks the document against the CycloneDX version it will be written as.
pub(super) fn check(bom: &Bom, spec: Spec) -> Result<(), SbomError> {
    let result = bom.validate_version(spec.cdx());
    if result.passed() {
        return Ok(());
    }
    let mut problems = Vec::new();
    flatten("", result, &mut problems);
    problems.truncate(20);
    Err(SbomError::Invalid {
        spec: spec.as_str(),
        problems: problems.join("\n"),
    })
}

fn flatten(path: &str, result: ValidationResult, out: &mut Vec<String>) {
    for (field, kind) in result.errors() {
        let here = if path.is_empty() {
            field
        } else {
            format!("{path}.{field}")
        };
        match kind {
            ValidationErrorsKind::Struct(inner) => flatten(&here, inner, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    flatten(&format!("{here}[{index}]"), inner, out);
                }
            }
            ValidationErrorsKind::Enum(error) => out.push(format!("  {here}: {}", error.message)),
            ValidationErrorsKind::Field(errors) | ValidationErrorsKind::Custom(errors) => {
                for error in errors {
                    out.push(format!("  {here}: {}", error.message));
                }
            }
        }
    }
}
