//! What the SBOM holds that the `cyclonedx-bom` crate's checks (of 1.5 at most) would refuse,
//! added to its model after they have run: 1.6's `source-distribution` references, and the
//! product's release artifacts, which are named by a relative reference (their file name)
//! because where they will be published is not charter-audit's to know. The 1.6 JSON schema
//! checks the result ([`super::schema`]); the crate writes the model as it is.

use cyclonedx_bom::external_models::uri::Uri;
use cyclonedx_bom::models::bom::Bom;
use cyclonedx_bom::models::external_reference::{
    ExternalReference, ExternalReferenceType, ExternalReferences,
};
use cyclonedx_bom::models::hash::{Hash, HashAlgorithm, HashValue, Hashes};

use super::{SbomOptions, Spec};

/// Adds the parts of the document the crate cannot check.
pub(super) fn after_validation(bom: &mut Bom, options: &SbomOptions) {
    if options.spec >= Spec::V1_6
        && let Some(components) = &mut bom.components
    {
        for component in &mut components.0 {
            source_distribution(component);
        }
    }
    if !options.artifacts.is_empty()
        && let Some(product) = bom.metadata.as_mut().and_then(|m| m.component.as_mut())
    {
        let references = product
            .external_references
            .get_or_insert_with(|| ExternalReferences(Vec::new()));
        for artifact in &options.artifacts {
            let mut reference = ExternalReference::new(
                ExternalReferenceType::Distribution,
                Uri::new(&relative_reference(&artifact.name)),
            );
            reference.comment = Some("release artifact: file name and SHA-512".to_owned());
            reference.hashes = Some(Hashes(vec![Hash {
                alg: HashAlgorithm::SHA_512,
                content: HashValue(artifact.sha512.clone()),
            }]));
            references.0.push(reference);
        }
    }
}

/// A crates.io crate's `.crate` file, where cargo downloads it from, with the SHA-256 the
/// lockfile records: the hash of its source archive (a `source-distribution`), which is not
/// a deployable form (the crate is compiled into the product).
fn source_distribution(component: &mut cyclonedx_bom::models::component::Component) {
    let from_crates_io = component.properties.as_ref().is_some_and(|p| {
        p.0.iter()
            .any(|p| p.name == "charter-audit:source" && p.value.to_string() == "crates.io")
    });
    let Some(hashes) = component.hashes.clone().filter(|_| from_crates_io) else {
        return;
    };
    let name = component.name.to_string();
    let Some(version) = component.version.as_ref().map(ToString::to_string) else {
        return;
    };
    let url = format!("https://static.crates.io/crates/{name}/{name}-{version}.crate");
    let Ok(url) = Uri::try_from(url) else {
        return;
    };
    component
        .external_references
        .get_or_insert_with(|| ExternalReferences(Vec::new()))
        .0
        .push(ExternalReference {
            hashes: Some(hashes),
            ..ExternalReference::new(
                ExternalReferenceType::UnknownExternalReferenceType(
                    "source-distribution".to_owned(),
                ),
                url,
            )
        });
}

/// A file name as a relative URI reference: every byte but the unreserved ones
/// percent-encoded (so that `a:b` is not read as a scheme, nor `a/b` as a path).
fn relative_reference(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_become_relative_references() {
        assert_eq!(
            relative_reference("app-1.0-x86_64.tar.gz"),
            "app-1.0-x86_64.tar.gz"
        );
        assert_eq!(relative_reference("a:b c/é"), "a%3Ab%20c%2F%C3%A9");
    }
}
