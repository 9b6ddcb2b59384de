//! What an SBOM of a built binary says beyond one of a source tree: the binary itself (its
//! file name and digests), how far its list goes, and that sources are known by kind alone.
//!
//! Where the binary goes: CycloneDX 1.6 defines `metadata.component` as the component the BOM
//! describes and a component's `hashes` as the hashes *of that component*. An SBOM read from a
//! binary describes that binary, so the binary's SHA-256 and SHA-512 are the product
//! component's own `hashes`; its file name and SHA-512 are also its `distribution` reference
//! (the deployable form TR-03183-2 §5.2.2 asks for, as `--subject` artifacts are written), and
//! its file name `bsi:component:filename` under that profile. A separate `file` component would
//! be a second subject, with the crates depending on neither.

use cyclonedx_bom::external_models::date_time::DateTime;
use cyclonedx_bom::models::annotation::{Annotation, Annotations, Annotator};
use cyclonedx_bom::models::component::{Classification, Component};
use cyclonedx_bom::models::hash::{Hash, HashAlgorithm, HashValue, Hashes};
use cyclonedx_bom::models::property::Property;

use super::{Artifact, SbomOptions, Spec};
use crate::inventory::BinaryFile;
use crate::time::rfc3339;

/// Said of every binary's SBOM: what its list cannot hold.
pub(super) const NOT_LISTED: &str = "the Rust standard library (std, core, alloc) and native code linked by -sys crates are not listed";

/// Said of every component read from a binary's list.
pub(super) const SOURCE_DETAIL: &str = "kind-only";

/// The binary's properties of the SBOM's metadata.
pub(super) fn properties(file: &BinaryFile) -> Vec<(&'static str, String)> {
    let mut props = vec![
        (
            "charter-audit:inventory",
            if file.complete {
                "cargo-auditable"
            } else {
                "binary-panic-messages"
            }
            .to_owned(),
        ),
        ("charter-audit:binary", file.file_name.clone()),
        ("charter-audit:binary-format", file.format.to_owned()),
        ("charter-audit:not-listed", NOT_LISTED.to_owned()),
        (
            "charter-audit:source-detail",
            "kind only: the list cargo auditable embeds records crates.io, git, local or registry, never a URL, commit or checksum".to_owned(),
        ),
        ("charter-audit:dependency-kinds", "normal,build".to_owned()),
    ];
    if !file.complete {
        props.push((
            "charter-audit:incomplete",
            "no list embedded by cargo auditable: only the crates named by panic messages"
                .to_owned(),
        ));
    }
    props
}

/// The binary as the product's deployable form: an artifact (a `distribution` reference with
/// its SHA-512), unless `--subject` named the same file already.
pub(super) fn artifact(file: &BinaryFile, options: &SbomOptions) -> Option<Artifact> {
    let artifact = Artifact {
        name: file.file_name.clone(),
        sha512: file.sha512.clone(),
    };
    (!options.artifacts.contains(&artifact)).then_some(artifact)
}

/// The binary's digests as the product component's own hashes.
pub(super) fn hash(product: &mut Component, file: &BinaryFile) {
    product.hashes = Some(Hashes(vec![
        Hash {
            alg: HashAlgorithm::SHA_256,
            content: HashValue(file.sha256.clone()),
        },
        Hash {
            alg: HashAlgorithm::SHA_512,
            content: HashValue(file.sha512.clone()),
        },
    ]));
}

/// The annotation (CycloneDX 1.5 and later) that says, in words, how far the list goes.
pub(super) fn annotation(
    file: &BinaryFile,
    product_ref: &str,
    options: &SbomOptions,
) -> Option<Annotations> {
    if options.spec < Spec::V1_5 {
        return None;
    }
    let timestamp = DateTime::try_from(rfc3339(options.stamp.time)).ok()?;
    let mut tool = Component::new(
        Classification::Application,
        "charter-audit",
        env!("CARGO_PKG_VERSION"),
        None,
    );
    tool.bom_ref = None;
    let text = if file.complete {
        format!(
            "The components are the Rust crates compiled into {} ({}), as cargo auditable recorded them in the binary: complete for those crates, with their dependency kinds (normal, build); {NOT_LISTED}. Each component's source is known by kind only (crates.io, git, local, registry): the list records no URL, commit or checksum.",
            file.file_name, file.format
        )
    } else {
        format!(
            "{} ({}) carries no dependency list embedded by cargo auditable: the components are only the crates its panic messages name, with no dependency kinds or edges, an incomplete inventory; {NOT_LISTED}.",
            file.file_name, file.format
        )
    };
    Some(Annotations(vec![Annotation {
        bom_ref: None,
        subjects: vec![product_ref.to_owned()],
        annotator: Annotator::Component(tool),
        timestamp,
        text,
        signature: None,
    }]))
}

/// The per-component property of a component read from a binary's list.
pub(super) fn source_detail() -> Property {
    Property::new("charter-audit:source-detail", SOURCE_DETAIL)
}
