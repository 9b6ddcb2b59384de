//! One package as a CycloneDX component.

use cyclonedx_bom::external_models::normalized_string::NormalizedString;
use cyclonedx_bom::external_models::uri::Uri;
use cyclonedx_bom::models::component::{Classification, Component, Scope};
use cyclonedx_bom::models::external_reference::{
    ExternalReference, ExternalReferenceType, ExternalReferences,
};
use cyclonedx_bom::models::hash::{Hash, HashAlgorithm, HashValue, Hashes};
use cyclonedx_bom::models::property::{Properties, Property};

use super::license;
use crate::inventory::{Package, PackageSource, Reach};

/// The component for a package, whose purl is `purl` ([`Package::purl`]); `warnings` collects
/// what could not be kept as given; `bsi` adds BSI's `bsi:component:*` properties
/// ([`bsi_properties`]).
pub(super) fn component(
    package: &Package,
    purl: &str,
    bom_ref: &str,
    bsi: bool,
    warnings: &mut Vec<String>,
) -> Component {
    let manifest = &package.manifest;
    let mut component = Component::new(
        Classification::Library,
        &text(&package.name),
        &crate::text::version(&package.version),
        Some(bom_ref.to_owned()),
    );
    component.purl = super::purl(purl);
    component.description = manifest.description.as_deref().map(normalized);
    if !manifest.authors.is_empty() {
        component.author = Some(normalized(&manifest.authors.join(", ")));
    }
    component.scope = match package.reach {
        Reach::Normal => Some(Scope::Required),
        // Needed to build or test the product, not part of what runs.
        Reach::Build | Reach::Dev => Some(Scope::Excluded),
        Reach::Unknown => None,
    };
    component.hashes = package.checksum.as_ref().map(|sum| {
        Hashes(vec![Hash {
            alg: HashAlgorithm::SHA_256,
            content: HashValue(sum.clone()),
        }])
    });
    component.licenses = license::licenses(package, warnings);
    let references = external_references(package, warnings);
    component.external_references =
        (!references.is_empty()).then_some(ExternalReferences(references));

    let mut properties = vec![Property::new("charter-audit:source", package.source.kind())];
    if package.reach != Reach::Unknown {
        properties.push(Property::new(
            "charter-audit:dependency-kind",
            package.reach.as_str(),
        ));
    }
    // Only cargo metadata knows the members; in lockfile mode a path package may be either.
    if package.workspace_member && matches!(package.source, PackageSource::Path { path: Some(_) }) {
        properties.push(Property::new("charter-audit:workspace-member", "true"));
    }
    if bsi {
        properties.extend(bsi_properties(package));
    }
    component.properties = Some(Properties(properties));
    component
}

/// BSI's `bsi:component:*` properties (TR-03183-2 §5.2.2; BSI's CycloneDX property taxonomy)
/// of a dependency, as charter-audit can know them. A crate is distributed as source: a
/// registry crate as its `.crate` file (`NAME-VERSION.crate`, the file cargo downloads and
/// whose checksum the lockfile records), a gzip-compressed tar (`archive`) of source files and
/// its manifest, which describes what it holds (`structured`), never run as it is
/// (`non-executable`); a git or path dependency as a source tree, which is no archive and has
/// no file name of its own. What the crate becomes in the product is compiled into the
/// product's own files: it has no deployable form of its own, so none is claimed for it.
pub(super) fn bsi_properties(package: &Package) -> Vec<Property> {
    let registry = matches!(
        package.source,
        PackageSource::CratesIo | PackageSource::Registry { .. }
    );
    let mut properties = Vec::new();
    if registry {
        properties.push(Property::new(
            "bsi:component:filename",
            &format!("{}-{}.crate", text(&package.name), package.version),
        ));
    }
    properties.push(Property::new("bsi:component:executable", "non-executable"));
    properties.push(Property::new(
        "bsi:component:archive",
        if registry { "archive" } else { "no archive" },
    ));
    properties.push(Property::new("bsi:component:structured", "structured"));
    properties
}

fn external_references(package: &Package, warnings: &mut Vec<String>) -> Vec<ExternalReference> {
    let manifest = &package.manifest;
    let mut out = Vec::new();
    let mut push = |kind: ExternalReferenceType, field: &str, url: &str| match web_url(url) {
        Some(uri) => out.push(ExternalReference::new(kind, uri)),
        None => warnings.push(format!(
            "{}: `{field}` is not a URL, left out of the SBOM: {}",
            text(&package.display()),
            text(url)
        )),
    };
    if let Some(url) = &manifest.repository {
        push(ExternalReferenceType::Vcs, "repository", url);
    }
    if let Some(url) = &manifest.documentation {
        push(ExternalReferenceType::Documentation, "documentation", url);
    }
    if let Some(url) = &manifest.homepage {
        push(ExternalReferenceType::Website, "homepage", url);
    }
    if package.source == PackageSource::CratesIo {
        let uri = crates_io_page(&package.name, &crate::text::version(&package.version));
        if let Some(uri) = uri {
            out.push(ExternalReference::new(
                ExternalReferenceType::Distribution,
                uri,
            ));
        }
    }
    out
}

/// A crates.io package's page. A name of letters, digits, `-` and `_` and a version of
/// letters, digits, `-` and `.` make a URL that parses to itself
/// (`crates_io_page_is_what_the_parser_writes`), so it is taken as it is, without the parser
/// (thousands a run); anything else (a name of dots is a path step) goes through it.
fn crates_io_page(name: &str, version: &str) -> Option<Uri> {
    const BASE: &str = "https://crates.io/crates/";
    let mut page = String::with_capacity(BASE.len() + name.len() + 1 + version.len());
    page.push_str(BASE);
    page.push_str(name);
    page.push('/');
    page.push_str(version);
    let plain = crate::text::plain_ascii;
    if plain(name, b'_') && plain(version, b'.') {
        // The SBOM's validation parses it once more, with the rest of the document.
        Some(Uri::new(&page))
    } else {
        web_url(&page)
    }
}

/// A web or repository URL as the schema accepts it; other schemes (`javascript:`, `file:`)
/// from a manifest are not links anyone should follow, so they are left out.
fn web_url(url: &str) -> Option<Uri> {
    let parsed = url::Url::parse(url.trim()).ok()?;
    if !matches!(parsed.scheme(), "https" | "http" | "git" | "ssh") {
        return None;
    }
    Uri::try_from(parsed.to_string()).ok()
}

fn normalized(value: &str) -> NormalizedString {
    NormalizedString::new(&text(value))
}

/// Text from the audited project, safe in JSON, XML and a terminal.
pub(crate) fn text(value: &str) -> String {
    crate::text::clean(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn crates_io_page_is_what_the_parser_writes(
            name in "(\\.|\\.\\.|[A-Za-z0-9_.-]{1,12})",
            version in "(0|[1-9][0-9]{0,2})\\.(0|[1-9][0-9]{0,2})\\.(0|[1-9][0-9]{0,2})(-[A-Za-z][A-Za-z0-9.-]{0,5})?",
        ) {
            let page = format!("https://crates.io/crates/{name}/{version}");
            proptest::prop_assert_eq!(
                crates_io_page(&name, &version).map(|u| u.to_string()),
                web_url(&page).map(|u| u.to_string())
            );
        }
    }
}
