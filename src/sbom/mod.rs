//! The CycloneDX SBOM of an [`Inventory`], validated before it is ever written.

mod binary;
mod component;
mod extend;
mod license;
pub mod ntia;
pub mod profile;
pub mod schema;
mod v1_6;
mod validate;
mod write;

pub use profile::Profile;

/// Reading a supplier's SBOM is inventory; its old path kept for the command layer.
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use cyclonedx_bom::external_models::date_time::DateTime;
use cyclonedx_bom::external_models::normalized_string::NormalizedString;
use cyclonedx_bom::external_models::uri::Uri;
use cyclonedx_bom::models::bom::{Bom, BomReference, SpecVersion, UrnUuid};
use cyclonedx_bom::models::component::{Classification, Component, Components};
use cyclonedx_bom::models::composition::{AggregateType, Composition, Compositions};
use cyclonedx_bom::models::dependency::{Dependencies, Dependency};
use cyclonedx_bom::models::lifecycle::{Lifecycle, Lifecycles, Phase};
use cyclonedx_bom::models::metadata::Metadata;
use cyclonedx_bom::models::organization::{OrganizationalContact, OrganizationalEntity};
use cyclonedx_bom::models::property::{Properties, Property};
use cyclonedx_bom::models::tool::{Tool, Tools};

use crate::inventory::{Inventory, Origin, Package, Product, Target};
use crate::time::{Stamp, rfc3339};

/// The CycloneDX versions this tool writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Spec {
    V1_4,
    V1_5,
    V1_6,
}

impl Spec {
    /// The version the `cyclonedx-bom` crate models and checks the document as: 1.6 is
    /// built and validated as 1.5 by the crate (which stops there), then written as 1.6 by
    /// [`v1_6`] and checked against the official 1.6 schema ([`schema`]).
    fn cdx(self) -> SpecVersion {
        match self {
            Spec::V1_4 => SpecVersion::V1_4,
            Spec::V1_5 | Spec::V1_6 => SpecVersion::V1_5,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Spec::V1_4 => "1.4",
            Spec::V1_5 => "1.5",
            Spec::V1_6 => "1.6",
        }
    }
}

/// The serialisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

/// Who supplies the product (NTIA: supplier name).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Supplier {
    pub name: String,
    pub url: Option<String>,
    pub contact: Option<String>,
}

/// How to write the SBOM.
#[derive(Clone, Debug)]
pub struct SbomOptions {
    pub spec: Spec,
    pub format: Format,
    pub supplier: Option<Supplier>,
    /// Authors of the SBOM data; the supplier when empty.
    pub authors: Vec<String>,
    pub stamp: Stamp,
    /// The audit's evaluation time, for the SBOM an audit makes (a metadata property).
    pub evaluated_at: Option<String>,
    /// The completeness profile the SBOM is written for: under `bsi-tr-03183-2` each
    /// component carries BSI's `bsi:component:*` properties.
    pub profile: Profile,
    /// The product's deployable form: its release artifacts (`--subject`), each a
    /// `distribution` reference of the product with its SHA-512.
    pub artifacts: Vec<Artifact>,
}

/// A release artifact of the product: its file name (no path) and SHA-512 (hex).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    pub name: String,
    pub sha512: String,
}

/// Why an SBOM could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    #[error("--supplier-url `{0}` is not a URL: give a full address such as https://example.org")]
    SupplierUrl(String),
    #[error(
        "--supplier-contact `{0}` is not an e-mail address: give one such as security@example.org"
    )]
    SupplierContact(String),
    #[error(
        "the {what} `{}` holds a control character, which no SBOM can carry (XML cannot hold it): give it without one",
        crate::text::clean(.value)
    )]
    Control { what: &'static str, value: String },
    #[error("the SBOM would not be valid CycloneDX {spec}, so it was not written:\n{problems}")]
    Invalid {
        spec: &'static str,
        problems: String,
    },
    #[error(
        "the SBOM would not be valid CycloneDX 1.6 (checked against schemas/cyclonedx/bom-1.6.schema.json), so it was not written:\n{0}"
    )]
    Schema(String),
    #[error("the SBOM just made does not read back as JSON (a bug of charter-audit): {0}")]
    Readback(String),
    #[error("could not serialise the SBOM as CycloneDX {spec} {format}: {message}")]
    Serialise {
        spec: &'static str,
        format: &'static str,
        message: String,
    },
}

/// A rendered SBOM and what a user should know about it.
#[derive(Clone, Debug)]
pub struct Document {
    pub bytes: Vec<u8>,
    pub warnings: Vec<String>,
}

/// Builds, validates and serialises the SBOM of an inventory.
pub fn generate(inventory: &Inventory, options: &SbomOptions) -> Result<Document, SbomError> {
    let options = effective(inventory, options);
    let (bom, warnings) = model(inventory, &options)?;
    let bytes = write::bytes(bom, &options)?;
    Ok(Document { bytes, warnings })
}

/// What the SBOM [`generate`] would write holds of the NTIA minimum elements, and its
/// warnings, for an audit that writes no SBOM: the same model is built and validated (a model
/// that could not be written stops the run as it would with `--out-dir`: the verdict never
/// depends on whether the SBOM is written), and the elements are read from it instead of from
/// its bytes. Equal to [`ntia::check_bytes`] of [`generate`]'s bytes (the tests of
/// `tests/sbom_completeness.rs` hold them to it on every fixture and corpus lockfile); a 1.6
/// document, which [`v1_6`] rewrites after the crate, is written and read as bytes.
pub fn completeness(
    inventory: &Inventory,
    options: &SbomOptions,
) -> Result<(ntia::Completeness, Vec<String>), SbomError> {
    if options.spec >= Spec::V1_6 || options.format != Format::Json {
        let document = generate(inventory, options)?;
        let completeness =
            ntia::check_bytes(&document.bytes).map_err(|e| SbomError::Readback(e.to_string()))?;
        return Ok((completeness, document.warnings));
    }
    let options = effective(inventory, options);
    let (bom, warnings) = model(inventory, &options)?;
    Ok((ntia::check_model(&bom), warnings))
}

/// The options as the document is made: a binary is its own deployable form, whether or not
/// --subject names it.
fn effective<'a>(inventory: &Inventory, options: &'a SbomOptions) -> Cow<'a, SbomOptions> {
    match &inventory.origin {
        Origin::Binary(file) => match binary::artifact(file, options) {
            Some(artifact) => Cow::Owned(SbomOptions {
                artifacts: [vec![artifact], options.artifacts.clone()].concat(),
                ..options.clone()
            }),
            None => Cow::Borrowed(options),
        },
        _ => Cow::Borrowed(options),
    }
}

/// The document's model, built and validated, with what the crate cannot check added.
fn model(inventory: &Inventory, options: &SbomOptions) -> Result<(Bom, Vec<String>), SbomError> {
    no_control(options)?;
    let mut warnings = Vec::new();
    let mut bom = build(inventory, options, &mut warnings)?;
    validate::check(&bom, options.spec)?;
    // What the crate's model holds but its checks (of 1.5 at most) would refuse: 1.6's
    // reference types, artifacts named by a relative reference. The 1.6 schema checks them.
    extend::after_validation(&mut bom, options);
    Ok((bom, warnings))
}

/// The supplier and authors come from the command line or the configuration: a control
/// character in them would make the XML ill-formed (and the JSON odd), so it is refused.
fn no_control(options: &SbomOptions) -> Result<(), SbomError> {
    let mut given: Vec<(&'static str, &str)> = Vec::new();
    if let Some(supplier) = &options.supplier {
        given.push(("supplier name", &supplier.name));
        given.extend(supplier.url.as_deref().map(|u| ("supplier URL", u)));
        given.extend(supplier.contact.as_deref().map(|c| ("supplier contact", c)));
    }
    given.extend(options.authors.iter().map(|a| ("author", a.as_str())));
    match given
        .iter()
        .find(|(_, value)| value.chars().any(char::is_control))
    {
        Some((what, value)) => Err(SbomError::Control {
            what,
            value: (*value).to_owned(),
        }),
        None => Ok(()),
    }
}

fn build(
    inventory: &Inventory,
    options: &SbomOptions,
    warnings: &mut Vec<String>,
) -> Result<Bom, SbomError> {
    // Each package's purl, made once: its bom-ref and its component's purl.
    let purls: Vec<String> = inventory.packages.iter().map(Package::purl).collect();
    let refs = bom_refs(&purls);
    let bsi = options.profile == Profile::BsiTr03183_2;
    let product_index = match &inventory.product {
        Product::Member(index) => Some(*index),
        Product::Synthetic { .. } => None,
    };
    let mut components = Vec::with_capacity(inventory.packages.len());
    for (index, package) in inventory.packages.iter().enumerate() {
        if Some(index) == product_index {
            continue;
        }
        let mut component =
            component::component(package, &purls[index], &refs[index], bsi, warnings);
        if let (Origin::Binary(_), Some(properties)) =
            (&inventory.origin, component.properties.as_mut())
        {
            properties.0.push(binary::source_detail());
        }
        components.push(component);
    }
    let (product_component, product_ref, product_deps) =
        product_component(inventory, &purls, &refs, options, warnings);
    let mut dependencies: Vec<Dependency> = inventory
        .packages
        .iter()
        .enumerate()
        .filter(|(index, _)| Some(*index) != product_index)
        .map(|(index, package)| dependency(&refs[index], &package.dependencies, &refs))
        .collect();
    dependencies.push(dependency(&product_ref, &product_deps, &refs));
    dependencies.sort_by(|a, b| a.dependency_ref.cmp(&b.dependency_ref));
    let aggregate = match &inventory.origin {
        Origin::CargoMetadata { .. } => AggregateType::Complete,
        Origin::Lockfile { .. } => AggregateType::Unknown,
        // Complete for the Rust crates compiled in (the annotation says what is not listed).
        Origin::Binary(file) if file.complete => AggregateType::Complete,
        Origin::Binary(_) => AggregateType::Incomplete,
    };
    let annotations = match &inventory.origin {
        Origin::Binary(file) => binary::annotation(file, &product_ref, options),
        _ => None,
    };
    let mut all_refs: Vec<BomReference> = dependencies
        .iter()
        .map(|d| BomReference::new(&d.dependency_ref))
        .collect();
    all_refs.sort_by(|a, b| a.0.cmp(&b.0));
    let metadata = metadata(inventory, options, product_component)?;
    Ok(Bom {
        version: 1,
        serial_number: Some(UrnUuid::generate()),
        metadata: Some(metadata),
        components: Some(Components(components)),
        dependencies: Some(Dependencies(dependencies)),
        compositions: Some(Compositions(vec![Composition {
            bom_ref: None,
            aggregate,
            assemblies: None,
            dependencies: Some(all_refs),
            vulnerabilities: None,
            signature: None,
        }])),
        spec_version: options.spec.cdx(),
        annotations,
        ..Bom::default()
    })
}

/// The SBOM's subject: the product package as an application, or the named application made
/// of several members; with its bom-ref and its dependencies (`purls` and `refs` are the
/// packages' own, by index).
fn product_component(
    inventory: &Inventory,
    purls: &[String],
    refs: &[String],
    options: &SbomOptions,
    warnings: &mut Vec<String>,
) -> (Component, String, Vec<usize>) {
    let (mut c, bom_ref, deps) = match &inventory.product {
        Product::Member(index) => {
            let package = &inventory.packages[*index];
            let mut c =
                component::component(package, &purls[*index], &refs[*index], false, warnings);
            c.component_type = Classification::Application;
            c.scope = None;
            (c, refs[*index].clone(), package.dependencies.clone())
        }
        Product::Synthetic {
            name,
            version,
            dependencies,
        } => {
            let bom_ref = format!("charter-audit:product/{name}");
            let mut c = Component::new(
                Classification::Application,
                name,
                version.as_deref().unwrap_or(""),
                Some(bom_ref.clone()),
            );
            c.version = version.as_deref().map(NormalizedString::new);
            (c, bom_ref, dependencies.clone())
        }
    };
    if let Origin::Binary(file) = &inventory.origin {
        binary::hash(&mut c, file);
    }
    // The product's deployable form is its release artifact: its file name, when there is
    // one (BSI gives a component one file name). Whether it is executable, an archive or
    // structured is the supplier's to say: charter-audit does not guess it from the bytes.
    if options.profile == Profile::BsiTr03183_2
        && let [artifact] = options.artifacts.as_slice()
    {
        let mut properties = c.properties.take().map(|p| p.0).unwrap_or_default();
        properties.push(Property::new(
            "bsi:component:filename",
            &component::text(&artifact.name),
        ));
        c.properties = Some(Properties(properties));
    }
    (c, bom_ref, deps)
}

/// The SBOM's metadata: when, by which tool, by whom, about which product from which
/// supplier, and how the inventory was taken.
fn metadata(
    inventory: &Inventory,
    options: &SbomOptions,
    mut product_component: Component,
) -> Result<Metadata, SbomError> {
    let supplier = options.supplier.as_ref().map(supplier_entity).transpose()?;
    // The supplier of the SBOM's subject is the supplier of the product (NTIA: supplier name).
    product_component.supplier = supplier.clone();
    let mut authors: Vec<String> = options.authors.clone();
    if authors.is_empty()
        && let Some(supplier) = &options.supplier
    {
        authors.push(supplier.name.clone());
    }
    Ok(Metadata {
        timestamp: DateTime::try_from(rfc3339(options.stamp.time)).ok(),
        tools: Some(tools(options.spec)),
        authors: (!authors.is_empty()).then(|| {
            authors
                .iter()
                .map(|name| OrganizationalContact {
                    name: Some(NormalizedString::new(name)),
                    ..OrganizationalContact::default()
                })
                .collect()
        }),
        component: Some(product_component),
        manufacture: None,
        supplier,
        licenses: None,
        properties: Some(Properties({
            let mut properties = origin_properties(&inventory.origin);
            if let Some(at) = &options.evaluated_at {
                properties.push(Property::new("charter-audit:evaluated-at", at));
            }
            properties
        })),
        // The SBOM is made from the resolved dependency graph (cargo metadata, or the
        // lockfile), before anything is built: CycloneDX's `pre-build` phase. Written in 1.6
        // only, so that 1.5 and 1.4 documents stay as they were.
        // Read from a built binary, it is `post-build`.
        lifecycles: (options.spec >= Spec::V1_6).then(|| {
            Lifecycles(vec![Lifecycle::Phase(match inventory.origin {
                Origin::Binary(_) => Phase::PostBuild,
                _ => Phase::PreBuild,
            })])
        }),
    })
}

/// The tool that wrote the SBOM: in 1.6 as a component (the form 1.5 introduced; the list
/// is deprecated), before 1.6 as the list it always was.
fn tools(spec: Spec) -> Tools {
    let name = "charter-audit";
    let version = env!("CARGO_PKG_VERSION");
    if spec >= Spec::V1_6 {
        let mut tool = Component::new(Classification::Application, name, version, None);
        tool.bom_ref = None;
        return Tools::Object {
            services: None,
            components: Some(Components(vec![tool])),
        };
    }
    Tools::List(vec![Tool {
        vendor: None,
        name: Some(NormalizedString::new(name)),
        version: Some(NormalizedString::new(version)),
        hashes: None,
        external_references: None,
    }])
}

/// A unique, stable bom-ref per package: its purl, with ` (2)`, ` (3)`... in the rare case that
/// two packages share one (cargo allows the same name and version from two path sources).
fn bom_refs(purls: &[String]) -> Vec<String> {
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(purls.len());
    purls
        .iter()
        .map(|purl| {
            let count = seen.entry(purl).or_insert(0);
            *count += 1;
            if *count == 1 {
                purl.clone()
            } else {
                format!("{purl} ({count})")
            }
        })
        .collect()
}

fn dependency(bom_ref: &str, deps: &[usize], refs: &[String]) -> Dependency {
    let mut depends_on: Vec<String> = deps.iter().map(|&d| refs[d].clone()).collect();
    depends_on.sort();
    depends_on.dedup();
    Dependency {
        dependency_ref: bom_ref.to_owned(),
        dependencies: depends_on,
    }
}

fn supplier_entity(supplier: &Supplier) -> Result<OrganizationalEntity, SbomError> {
    let url = match &supplier.url {
        Some(url) => {
            let uri =
                Uri::try_from(url.clone()).map_err(|_| SbomError::SupplierUrl(url.clone()))?;
            if url::Url::parse(url).is_err() {
                return Err(SbomError::SupplierUrl(url.clone()));
            }
            Some(vec![uri])
        }
        None => None,
    };
    let contact = match &supplier.contact {
        Some(email) => {
            let valid = email
                .split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
                && !email.chars().any(char::is_whitespace);
            if !valid {
                return Err(SbomError::SupplierContact(email.clone()));
            }
            Some(vec![OrganizationalContact {
                email: Some(NormalizedString::new(email)),
                ..OrganizationalContact::default()
            }])
        }
        None => None,
    };
    Ok(OrganizationalEntity {
        bom_ref: None,
        name: Some(NormalizedString::new(&supplier.name)),
        url,
        contact,
    })
}

/// How the inventory was taken, as `charter-audit:*` properties of the SBOM.
fn origin_properties(origin: &Origin) -> Vec<Property> {
    let mut props: BTreeMap<&str, String> = BTreeMap::new();
    match origin {
        Origin::CargoMetadata {
            rustc,
            target,
            features,
            include_dev,
        } => {
            props.insert("charter-audit:inventory", "cargo-metadata".to_owned());
            props.insert("charter-audit:rustc", rustc.version.clone());
            props.insert("charter-audit:host", rustc.host.clone());
            props.insert(
                "charter-audit:target",
                match target {
                    Target::Host => rustc.host.clone(),
                    Target::Triple(triple) => triple.clone(),
                    Target::All => "all".to_owned(),
                },
            );
            props.insert("charter-audit:features", features.describe());
            props.insert(
                "charter-audit:dependency-kinds",
                if *include_dev {
                    "normal,build,dev"
                } else {
                    "normal,build"
                }
                .to_owned(),
            );
        }
        Origin::Lockfile {
            version,
            fallback_reason,
        } => {
            props.insert("charter-audit:inventory", "cargo-lock".to_owned());
            props.insert("charter-audit:lockfile-version", version.to_string());
            if let Some(reason) = fallback_reason {
                props.insert("charter-audit:lockfile-fallback", reason.clone());
            }
        }
        Origin::Binary(file) => props.extend(binary::properties(file)),
    }
    props
        .into_iter()
        .map(|(name, value)| Property::new(name, &value))
        .collect()
}

/// Parses a purl string into cyclonedx's type (infallible there; validation happens later).
pub(crate) fn purl(value: &str) -> Option<cyclonedx_bom::external_models::uri::Purl> {
    cyclonedx_bom::external_models::uri::Purl::from_str(value).ok()
}
