//! BSI TR-03183-2 v2.1.0 (2025-08-20): the fields an SBOM must hold (§4 format, §5.2.1 the
//! SBOM, §5.2.2 each component), BSI's CycloneDX property taxonomy for the component
//! properties (`bsi:component:*`), and the additional fields required where the data exists.
//! Sections as the taxonomy and ../shared/STANDARDS.md cite them; the guideline's PDF is at
//! <https://www.bsi.bund.de/dok/TR-03183-en>.

use serde_json::Value;

use super::{Cause, Gap, Part, is_crate, is_source_tree, manifest_why, non_empty, parts};

const FORMAT: &str = "TR-03183-2 §4";
const SBOM: &str = "TR-03183-2 §5.2.1";
const COMPONENT: &str = "TR-03183-2 §5.2.2";
const PROPERTY: &str = "TR-03183-2 §5.2.2, BSI taxonomy";
const EFFECTIVE: &str = "TR-03183-2 §5.2.5, BSI taxonomy";
const ADDITIONAL: &str = "TR-03183-2 §5.2, additional fields";

/// How the supplier gives what charter-audit writes as the SBOM's creator.
const GIVE_CONTACT: &str = "give the supplier's security contact e-mail or web address (charter-audit.toml's [supplier] contact or url, or --supplier-contact / --supplier-url)";

/// Every gap of a CycloneDX JSON document under TR-03183-2.
pub(super) fn gaps(bom: &Value) -> Vec<Gap> {
    let mut out = document(bom);
    let parts = parts(bom);
    let listed = dependency_refs(bom);
    let indicated = composition_refs(bom);
    let mut lacking = Lacking::default();
    for part in &parts {
        component(bom, part, &listed, &indicated, &mut lacking);
    }
    out.extend(lacking.into_gaps());
    out
}

/// The SBOM's own fields: format, creator, timestamp, SBOM-URI, no vulnerabilities.
fn document(bom: &Value) -> Vec<Gap> {
    let mut out = Vec::new();
    let mut gap = |element, source, field, cause, why: String| {
        out.push(Gap {
            element,
            source,
            field,
            components: Vec::new(),
            cause,
            why,
        });
    };
    let spec = bom.get("specVersion").and_then(Value::as_str).unwrap_or("");
    let at_least_1_6 = spec
        .split_once('.')
        .and_then(|(major, minor)| Some((major.parse::<u32>().ok()?, minor.parse::<u32>().ok()?)))
        .is_some_and(|version| version >= (1, 6));
    if !at_least_1_6 {
        gap(
            "format",
            FORMAT,
            "specVersion",
            Cause::Absent,
            format!(
                "CycloneDX `{}`: the guideline accepts CycloneDX 1.6 or later (charter-audit writes 1.6 by default; --spec-version 1.6)",
                crate::text::clean(spec)
            ),
        );
    }
    if non_empty(bom, "vulnerabilities").is_some() {
        gap(
            "no vulnerability information",
            FORMAT,
            "vulnerabilities",
            Cause::Absent,
            "the SBOM carries vulnerabilities, which the guideline forbids: give them separately (a VEX or CSAF document)".to_owned(),
        );
    }
    let metadata = bom.get("metadata");
    let creator = metadata.is_some_and(|m| {
        entity_contact(m.get("manufacturer"))
            || m.get("authors")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|a| text(a.get("email")).is_some())
    });
    if !creator {
        gap(
            "creator of the SBOM (e-mail or URL)",
            SBOM,
            "metadata.manufacturer.contact[].email or .url, metadata.authors[].email",
            Cause::Supplier,
            GIVE_CONTACT.to_owned(),
        );
    }
    if text(metadata.and_then(|m| m.get("timestamp"))).is_none() {
        gap(
            "timestamp",
            SBOM,
            "metadata.timestamp",
            Cause::Absent,
            "the document has none".to_owned(),
        );
    }
    let serial = text(bom.get("serialNumber")).is_some_and(|s| s.starts_with("urn:uuid:"));
    if !serial || bom.get("version").and_then(Value::as_u64).is_none() {
        gap(
            "SBOM-URI",
            SBOM,
            "serialNumber and version (BOM-Link urn:cdx:serial/version)",
            Cause::Absent,
            "the document has no urn:uuid serial number and version to make its BOM-Link of"
                .to_owned(),
        );
    }
    out
}

/// The components lacking each field, by field and cause, in the order first found.
#[derive(Default)]
struct Lacking {
    gaps: Vec<Gap>,
}

impl Lacking {
    fn add(
        &mut self,
        template: (&'static str, &'static str, &'static str),
        part: &Part<'_>,
        cause: Cause,
        why: &str,
    ) {
        let (element, source, field) = template;
        if let Some(gap) = self
            .gaps
            .iter_mut()
            .find(|g| g.element == element && g.cause == cause && g.why == why)
        {
            gap.components.push(part.label.clone());
            return;
        }
        self.gaps.push(Gap {
            element,
            source,
            field,
            components: vec![part.label.clone()],
            cause,
            why: why.to_owned(),
        });
    }

    fn into_gaps(self) -> Vec<Gap> {
        self.gaps
    }
}

const CREATOR: (&str, &str, &str) = (
    "component creator (e-mail or URL)",
    COMPONENT,
    "components[].manufacturer, .supplier (url, contact email), .authors[].email",
);
const NAME: (&str, &str, &str) = (
    "component name and version",
    COMPONENT,
    "components[].name, .version",
);
const FILENAME: (&str, &str, &str) = (
    "file name of the component",
    PROPERTY,
    "components[].properties bsi:component:filename",
);
const DEPENDENCIES: (&str, &str, &str) = (
    "dependencies, with a completeness indicator",
    COMPONENT,
    "dependencies[].ref, compositions[].aggregate",
);
const CONCLUDED: (&str, &str, &str) = (
    "distribution licence (concluded)",
    COMPONENT,
    "components[].licenses[] acknowledgement concluded",
);
const DEPLOYABLE: (&str, &str, &str) = (
    "SHA-512 hash of the deployable component",
    COMPONENT,
    "components[].externalReferences[type=distribution].hashes",
);
const EFFECTIVE_LICENCE: (&str, &str, &str) = (
    "effective licence",
    EFFECTIVE,
    "components[].properties bsi:component:effectiveLicence",
);
const SOURCE_URI: (&str, &str, &str) = (
    "source code URI",
    ADDITIONAL,
    "components[].externalReferences[type=vcs|source-distribution]",
);
const IDENTIFIERS: (&str, &str, &str) = (
    "other unique identifiers",
    ADDITIONAL,
    "components[].purl, .cpe",
);
const DECLARED: (&str, &str, &str) = (
    "original licences (declared)",
    ADDITIONAL,
    "components[].licenses[] acknowledgement declared",
);

/// One component's fields (the product's included: it is a component of the SBOM too).
fn component(
    bom: &Value,
    part: &Part<'_>,
    listed: &std::collections::HashSet<&str>,
    indicated: &std::collections::HashSet<&str>,
    lacking: &mut Lacking,
) {
    let c = part.value;
    let crate_ = is_crate(c) && !part.product;
    let tree = crate_ && is_source_tree(c);
    if !creator(c) {
        if part.product {
            lacking.add(CREATOR, part, Cause::Supplier, GIVE_CONTACT);
        } else if crate_ {
            lacking.add(CREATOR, part, Cause::Unknowable, manifest_why(bom, "the crate's manifest names no author e-mail address, and charter-audit does not take a project's web page for its creator's"));
        } else {
            lacking.add(CREATOR, part, Cause::Absent, "the document names none");
        }
    }
    if text(c.get("name")).is_none() || text(c.get("version")).is_none() {
        lacking.add(NAME, part, Cause::Absent, "the document has none");
    }
    let properties = |name: &str| -> Vec<&str> {
        c.get("properties")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|p| p.get("name").and_then(Value::as_str) == Some(name))
            .map(|p| p.get("value").and_then(Value::as_str).unwrap_or(""))
            .collect()
    };
    match properties("bsi:component:filename").as_slice() {
        [one] if !one.trim().is_empty() && !one.contains(['/', '\\']) => {}
        [] if part.product => lacking.add(FILENAME, part, Cause::Supplier, "pass exactly one release artifact with --subject FILE: its file name is the product's (with several, the guideline's one file name per component cannot be given)"),
        [] if tree => lacking.add(FILENAME, part, Cause::Unknowable, "a git or path dependency is a source tree, not a file"),
        [] => lacking.add(FILENAME, part, Cause::Absent, "the document has none"),
        _ => lacking.add(FILENAME, part, Cause::Absent, "given more than once, empty, or with a path"),
    }
    let bom_ref = text(c.get("bom-ref"));
    if !bom_ref.is_some_and(|r| listed.contains(r) && indicated.contains(r)) {
        lacking.add(DEPENDENCIES, part, Cause::Absent, "not in the dependency graph, or in no composition that says how complete its dependencies are");
    }
    let acknowledged = |kind: &str| {
        c.get("licenses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|choice| {
                let ack = choice
                    .get("acknowledgement")
                    .or_else(|| choice.get("license").and_then(|l| l.get("acknowledgement")));
                ack.and_then(Value::as_str) == Some(kind)
            })
    };
    if !acknowledged("concluded") {
        let why = if crate_ || part.product {
            "a concluded licence is the SBOM creator's own finding after review: charter-audit writes each licence as the manifest declares it (acknowledgement: declared) and concludes none"
        } else {
            "the document gives no concluded licence"
        };
        let cause = if crate_ || part.product {
            Cause::Unknowable
        } else {
            Cause::Absent
        };
        lacking.add(CONCLUDED, part, cause, why);
    }
    deployable(part, crate_, tree, lacking);
    for (name, allowed) in [
        ("bsi:component:executable", ["executable", "non-executable"]),
        ("bsi:component:archive", ["archive", "no archive"]),
        ("bsi:component:structured", ["structured", "unstructured"]),
    ] {
        let values = properties(name);
        if let [one] = values.as_slice()
            && allowed.contains(one)
        {
            continue;
        }
        let element = match name {
            "bsi:component:executable" => "executable property",
            "bsi:component:archive" => "archive property",
            _ => "structured property",
        };
        let template = (element, PROPERTY, "components[].properties bsi:component:*");
        if values.is_empty() && part.product {
            lacking.add(template, part, Cause::Unknowable, "the form of the release artifact (executable, archive, structured) is the supplier's to state: charter-audit does not guess it from the file");
        } else if values.is_empty() {
            lacking.add(
                template,
                part,
                Cause::Absent,
                "the document has none (charter-audit writes them with --profile bsi-tr-03183-2)",
            );
        } else {
            lacking.add(
                template,
                part,
                Cause::Absent,
                "given more than once, or with a value the taxonomy does not allow",
            );
        }
    }
    if properties("bsi:component:effectiveLicence").len() != 1 {
        lacking.add(EFFECTIVE_LICENCE, part, Cause::Unknowable, "the effective licence is the one the SBOM's creator uses the component under (a choice among what is declared): charter-audit does not make that choice");
    }
    additional(bom, part, crate_, lacking);
}

/// The deployable form's SHA-512: the product's from `--subject`; a crate has none of its own.
fn deployable(part: &Part<'_>, crate_: bool, tree: bool, lacking: &mut Lacking) {
    let c = part.value;
    let hashed = c
        .get("externalReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|r| r.get("type").and_then(Value::as_str) == Some("distribution"))
        .flat_map(|r| {
            r.get("hashes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .any(|h| h.get("alg").and_then(Value::as_str) == Some("SHA-512"));
    if hashed {
        return;
    }
    if part.product {
        lacking.add(DEPLOYABLE, part, Cause::Supplier, "pass each release artifact with --subject FILE: its file name and SHA-512 become the product's distribution references");
    } else if crate_ && c.get("scope").and_then(Value::as_str) == Some("excluded") {
        lacking.add(DEPLOYABLE, part, Cause::Unknowable, "a build or dev dependency: not part of the product as delivered, so it has no deployable form");
    } else if tree {
        lacking.add(
            DEPLOYABLE,
            part,
            Cause::Unknowable,
            "compiled into the product (statically linked): it has no deployable form of its own",
        );
    } else if crate_ {
        lacking.add(DEPLOYABLE, part, Cause::Unknowable, "compiled into the product (statically linked): it has no deployable form of its own; its .crate checksum hashes the source archive (a source-distribution reference), not a deployable form");
    } else {
        lacking.add(
            DEPLOYABLE,
            part,
            Cause::Absent,
            "no distribution reference with a SHA-512 hash",
        );
    }
}

/// The additional fields, required where the data exists.
fn additional(bom: &Value, part: &Part<'_>, crate_: bool, lacking: &mut Lacking) {
    let c = part.value;
    let has_reference = |kinds: &[&str]| {
        c.get("externalReferences")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|r| {
                r.get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| kinds.contains(&t))
            })
    };
    if !has_reference(&["vcs", "source-distribution"]) {
        let (cause, why) = if crate_ || part.product {
            (
                Cause::Unknowable,
                manifest_why(
                    bom,
                    "the manifest names no repository, and the crate has no registry archive",
                ),
            )
        } else {
            (Cause::Absent, "the document names none")
        };
        lacking.add(SOURCE_URI, part, cause, why);
    }
    if text(c.get("purl")).is_none() && text(c.get("cpe")).is_none() {
        lacking.add(
            IDENTIFIERS,
            part,
            Cause::Absent,
            "the document gives no purl or CPE",
        );
    }
    let licences = non_empty(c, "licenses");
    let declared = licences.into_iter().flatten().any(|choice| {
        let ack = choice
            .get("acknowledgement")
            .or_else(|| choice.get("license").and_then(|l| l.get("acknowledgement")));
        ack.and_then(Value::as_str) == Some("declared")
    });
    if !declared {
        let (cause, why) = match (licences.is_some(), crate_ || part.product) {
            (false, true) => (
                Cause::Unknowable,
                manifest_why(bom, "the manifest declares no licence"),
            ),
            (false, false) => (Cause::Absent, "the document gives no licence"),
            (true, _) => (
                Cause::Absent,
                "its licences are not marked declared (CycloneDX 1.6 licence acknowledgement)",
            ),
        };
        lacking.add(DECLARED, part, cause, why);
    }
}

/// An organisational entity with a web address or an e-mail contact.
fn entity_contact(entity: Option<&Value>) -> bool {
    let Some(entity) = entity else {
        return false;
    };
    let url = entity
        .get("url")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|u| text(Some(u)).is_some());
    let email = entity
        .get("contact")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| text(c.get("email")).is_some());
    url || email
}

/// The component's creator, by e-mail or web address: its manufacturer, supplier, an author
/// with an e-mail address, or the legacy `author` text holding one (`Name <a@b.org>`, as
/// Cargo manifests write it).
fn creator(c: &Value) -> bool {
    entity_contact(c.get("manufacturer"))
        || entity_contact(c.get("supplier"))
        || c.get("authors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|a| text(a.get("email")).is_some())
        || text(c.get("author")).is_some_and(|a| {
            a.split('<')
                .skip(1)
                .filter_map(|rest| rest.split_once('>').map(|(inside, _)| inside))
                .any(|inside| inside.contains('@') && !inside.contains(char::is_whitespace))
        })
}

fn text(value: Option<&Value>) -> Option<&str> {
    value
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The refs the dependency graph lists.
fn dependency_refs(bom: &Value) -> std::collections::HashSet<&str> {
    bom.get("dependencies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| d.get("ref").and_then(Value::as_str))
        .collect()
}

/// The refs a composition with an aggregate (the completeness indicator) covers.
fn composition_refs(bom: &Value) -> std::collections::HashSet<&str> {
    bom.get("compositions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| text(c.get("aggregate")).is_some())
        .flat_map(|c| {
            ["dependencies", "assemblies"]
                .into_iter()
                .filter_map(|key| c.get(key).and_then(Value::as_array))
                .flatten()
                .filter_map(Value::as_str)
        })
        .collect()
}
