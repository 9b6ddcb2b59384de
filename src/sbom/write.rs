//! Writing the SBOM's model as bytes: the `cyclonedx-bom` crate's JSON or XML (1.4, 1.5), or
//! its 1.5 JSON rewritten as 1.6 by [`super::v1_6`] and checked against the 1.6 schema.

use cyclonedx_bom::models::bom::{Bom, UrnUuid};
use sha2::{Digest, Sha256};

use super::{Format, SbomError, SbomOptions, Spec, schema, v1_6};

/// The model as bytes. With a reproducible stamp the serial number is derived from the
/// content, so that equal inputs give equal bytes: serialised once with a placeholder, hashed,
/// then the real one put in its place (the same length, and the placeholder cannot occur
/// elsewhere: it is not a v5 UUID of ours).
pub(super) fn bytes(mut bom: Bom, options: &SbomOptions) -> Result<Vec<u8>, SbomError> {
    if !options.stamp.reproducible {
        return serialise(bom, options);
    }
    bom.serial_number = UrnUuid::new(format!("urn:uuid:{PLACEHOLDER}")).ok();
    let mut bytes = serialise(bom, options)?;
    let uuid = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, &Sha256::digest(&bytes));
    replace_once(
        &mut bytes,
        PLACEHOLDER.as_bytes(),
        uuid.to_string().as_bytes(),
    );
    Ok(bytes)
}

/// The serial number's stand-in while the content digest is computed.
const PLACEHOLDER: &str = "00000000-0000-5000-8000-000000000000";

fn replace_once(haystack: &mut [u8], needle: &[u8], with: &[u8]) {
    debug_assert_eq!(needle.len(), with.len());
    if let Some(at) = haystack.windows(needle.len()).position(|w| w == needle) {
        haystack[at..at + needle.len()].copy_from_slice(with);
    }
}

fn serialise(bom: Bom, options: &SbomOptions) -> Result<Vec<u8>, SbomError> {
    if options.spec != Spec::V1_6 {
        return serialise_as(bom, options.spec, options.format);
    }
    let additions = v1_6::Additions::of(options)?;
    match options.format {
        Format::Json => {
            let json = v1_6::json(&serialise_as(bom, Spec::V1_5, Format::Json)?, &additions)?;
            schema::check_1_6(&json)?;
            Ok(json)
        }
        Format::Xml => {
            // No kept crate validates XML against the 1.6 XSD (CI does, with
            // cyclonedx-python-lib): the same model is written as JSON too and that twin is
            // checked against the 1.6 schema, so that what the XML says is checked here.
            let twin = v1_6::json(
                &serialise_as(bom.clone(), Spec::V1_5, Format::Json)?,
                &additions,
            )?;
            schema::check_1_6(&twin)?;
            v1_6::xml(&serialise_as(bom, Spec::V1_5, Format::Xml)?, &additions)
        }
    }
}

/// The crate's own serialisation of `bom` as `spec` (1.6 is never asked of it).
fn serialise_as(bom: Bom, spec: Spec, format: Format) -> Result<Vec<u8>, SbomError> {
    let mut out = Vec::new();
    let (result, name) = match format {
        Format::Json => (
            bom.output_as_json(&mut out, spec.cdx())
                .map_err(|e| e.to_string()),
            "JSON",
        ),
        Format::Xml => (
            bom.output_as_xml(&mut out, spec.cdx())
                .map_err(|e| e.to_string()),
            "XML",
        ),
    };
    result.map_err(|message| SbomError::Serialise {
        spec: spec.as_str(),
        format: name,
        message,
    })?;
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    Ok(out)
}
