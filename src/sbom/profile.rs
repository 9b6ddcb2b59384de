//! Completeness profiles: what an SBOM must hold for one standard, checked field by field on
//! a CycloneDX JSON document (ours or a supplier's), each missing field with the section that
//! asks for it and why it is missing. `ntia-2021` is the NTIA minimum elements ([`ntia`]);
//! `cisa-2025-draft` adds what CISA's August 2025 draft of the minimum elements adds (component
//! hash, licence, tool name, generation context); `bsi-tr-03183-2` is BSI TR-03183-2 v2.1
//! ([`bsi`]). The NTIA elements are the base of both others: CISA's draft keeps them, and
//! TR-03183-2 asks each of them in its own form (creator for author, component creator for
//! supplier, a hash for an identifier).
//!
//! A gap says whose it is to fill ([`Cause`]): the supplier's (a flag or the configuration
//! gives it), nobody's (the fact does not exist, such as the deployable form of a crate
//! compiled into the product, or is not a tool's to know, such as a concluded licence), or
//! the document's (it lacks what it should say).

mod bsi;
#[cfg(test)]
mod bsi_tests;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ntia::{self, Completeness};

/// A completeness profile, by the name `sbom --profile` and the policy give it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum Profile {
    /// The NTIA minimum elements of an SBOM (July 2021).
    #[default]
    #[serde(rename = "ntia-2021")]
    Ntia2021,
    /// CISA's "Minimum Elements for a Software Bill of Materials", draft for comment of
    /// August 2025.
    #[serde(rename = "cisa-2025-draft")]
    Cisa2025Draft,
    /// BSI TR-03183-2 v2.1.0 (2025-08-20), Part 2: Software Bill of Materials.
    #[serde(rename = "bsi-tr-03183-2")]
    BsiTr03183_2,
}

impl Profile {
    pub const ALL: [Profile; 3] = [
        Profile::Ntia2021,
        Profile::Cisa2025Draft,
        Profile::BsiTr03183_2,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Ntia2021 => "ntia-2021",
            Profile::Cisa2025Draft => "cisa-2025-draft",
            Profile::BsiTr03183_2 => "bsi-tr-03183-2",
        }
    }

    pub fn parse(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// The standard, as messages name it.
    pub fn title(self) -> &'static str {
        match self {
            Profile::Ntia2021 => "the NTIA minimum elements (2021)",
            Profile::Cisa2025Draft => "CISA's minimum elements (August 2025 draft)",
            Profile::BsiTr03183_2 => "BSI TR-03183-2 v2.1",
        }
    }

    /// Whether this profile checks everything `other` checks: the NTIA elements are in every
    /// profile; CISA's and BSI's additions are not in each other.
    pub fn includes(self, other: Profile) -> bool {
        self == other || other == Profile::Ntia2021
    }

    /// The CycloneDX version the profile needs: 1.6 for TR-03183-2 (§4), for CISA's
    /// generation context (`metadata.lifecycles`, which charter-audit writes in 1.6).
    pub fn needs_1_6(self) -> bool {
        self != Profile::Ntia2021
    }
}

/// Whose it is to fill a gap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    /// charter-audit writes it from what the supplier gives: a flag or the configuration.
    Supplier,
    /// The fact does not exist (the deployable form of a crate compiled into the product) or
    /// is not a tool's to know (a concluded licence): said, never invented.
    Unknowable,
    /// The document lacks what it should say.
    Absent,
}

/// One field a profile asks for that the SBOM does not hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// The element, as the standard names it (`hash of the deployable component`).
    pub element: &'static str,
    /// Where the standard asks for it (`TR-03183-2 §5.2.2`).
    pub source: &'static str,
    /// Where CycloneDX holds it.
    pub field: &'static str,
    /// The components that lack it (labels, `name version`); empty for the document itself.
    pub components: Vec<String>,
    pub cause: Cause,
    /// Why it is missing, and how to give it where that can be done.
    pub why: String,
}

impl Gap {
    /// One line: the element, its source and field, how many lack it, the first few, why.
    pub fn describe(&self) -> String {
        let whom = match self.components.as_slice() {
            [] => String::new(),
            [one] => format!(" {one}:"),
            list => {
                let first: Vec<&str> = list.iter().take(3).map(String::as_str).collect();
                let more = if list.len() > 3 { ", ..." } else { "" };
                format!(" {} components ({}{more}):", list.len(), first.join(", "))
            }
        };
        format!(
            "{} ({}; {}):{whom} {}",
            self.element, self.source, self.field, self.why
        )
    }
}

/// Every gap of `document` under `profile`: the NTIA elements, then the profile's own.
pub fn gaps(profile: Profile, document: &[u8]) -> Result<Vec<Gap>, serde_json::Error> {
    let mut out = ntia_gaps(&ntia::check_bytes(document)?);
    out.extend(extra_gaps(profile, document)?);
    Ok(out)
}

/// The gaps of what `profile` asks beyond the NTIA elements (none for `ntia-2021`).
pub fn extra_gaps(profile: Profile, document: &[u8]) -> Result<Vec<Gap>, serde_json::Error> {
    if profile == Profile::Ntia2021 {
        return Ok(Vec::new());
    }
    let bom: Value = serde_json::from_slice(document)?;
    Ok(match profile {
        Profile::Ntia2021 => Vec::new(),
        Profile::Cisa2025Draft => cisa(&bom),
        Profile::BsiTr03183_2 => bsi::gaps(&bom),
    })
}

const NTIA: &str = "NTIA minimum elements";

/// The NTIA elements a [`Completeness`] finds missing, as gaps.
pub fn ntia_gaps(c: &Completeness) -> Vec<Gap> {
    let mut out = Vec::new();
    let mut gap = |element, field, components: &[String], cause, why: &str| {
        out.push(Gap {
            element,
            source: NTIA,
            field,
            components: components.to_vec(),
            cause,
            why: why.to_owned(),
        });
    };
    if c.supplier.is_none() {
        gap(
            "supplier name",
            "metadata.supplier.name",
            &[],
            Cause::Supplier,
            "give it in charter-audit.toml's [supplier] table or with --supplier",
        );
    }
    if c.authors.is_empty() {
        gap(
            "author of the SBOM data",
            "metadata.authors[].name",
            &[],
            Cause::Supplier,
            "pass --author, or give a [supplier], which is the author by default",
        );
    }
    if c.timestamp.is_none() {
        gap(
            "timestamp",
            "metadata.timestamp",
            &[],
            Cause::Absent,
            "the document has none",
        );
    }
    for (list, element, field) in [
        (
            &c.without_name_or_version,
            "component name and version",
            "components[].name, .version",
        ),
        (
            &c.without_identifier,
            "other unique identifiers",
            "components[].purl, .cpe, .swid, .hashes",
        ),
        (
            &c.without_dependencies,
            "dependency relationships",
            "dependencies[].ref",
        ),
    ] {
        if !list.is_empty() {
            gap(element, field, list, Cause::Absent, "the document has none");
        }
    }
    if !c.without_author.is_empty() {
        gap(
            "component supplier or author",
            "components[].supplier, .author, .authors",
            &c.without_author,
            Cause::Unknowable,
            "the component's own metadata (for a crate, its manifest's `authors`) names none",
        );
    }
    out
}

/// A component of the document and how messages name it.
pub(super) struct Part<'a> {
    pub label: String,
    pub value: &'a Value,
    /// The product itself (`metadata.component`), not one of its components.
    pub product: bool,
}

/// The product (`metadata.component`), then every top-level component.
pub(super) fn parts(bom: &Value) -> Vec<Part<'_>> {
    let product = bom
        .get("metadata")
        .and_then(|m| m.get("component"))
        .filter(|c| c.is_object());
    let components = bom
        .get("components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    product
        .map(|c| (c, true))
        .into_iter()
        .chain(components.map(|c| (c, false)))
        .map(|(value, product)| Part {
            label: label(value),
            value,
            product,
        })
        .collect()
}

fn label(component: &Value) -> String {
    let text = |key: &str| {
        component
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|t| !t.is_empty())
    };
    let label = match (text("name"), text("version")) {
        (Some(n), Some(v)) => format!("{n} {v}"),
        (Some(n), None) => n.to_owned(),
        _ => text("bom-ref")
            .unwrap_or("(a component without a name)")
            .to_owned(),
    };
    crate::text::clean(&label)
}

/// A non-empty array at `key`.
pub(super) fn non_empty<'a>(value: &'a Value, key: &str) -> Option<&'a Vec<Value>> {
    value
        .get(key)
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
}

/// Whether the component is a crate (its purl is `pkg:cargo/...`).
pub(super) fn is_crate(component: &Value) -> bool {
    component
        .get("purl")
        .and_then(Value::as_str)
        .is_some_and(|p| p.starts_with("pkg:cargo/"))
}

/// A crate from a git or path source (its purl says so, as charter-audit writes it), which
/// has no registry checksum and no file of its own.
pub(super) fn is_source_tree(component: &Value) -> bool {
    let source = component
        .get("properties")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|p| p.get("name").and_then(Value::as_str) == Some("charter-audit:source"))
        .and_then(|p| p.get("value").and_then(Value::as_str));
    matches!(source, Some("git" | "path"))
}

/// Why a crate's manifest data (licence, authors, repository) is missing: the document was
/// made from Cargo.lock alone, which holds none, or the manifest gives none.
pub(super) fn manifest_why(bom: &Value, none_given: &'static str) -> &'static str {
    let lockfile = bom
        .get("metadata")
        .and_then(|m| m.get("properties"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|p| {
            p.get("name").and_then(Value::as_str) == Some("charter-audit:inventory")
                && p.get("value").and_then(Value::as_str) == Some("cargo-lock")
        });
    if lockfile {
        "read from Cargo.lock alone, which holds no manifest data (licences, authors, repositories): make the SBOM of the workspace (without --lockfile) for it"
    } else {
        none_given
    }
}

const CISA: &str = "CISA minimum elements, 2025 draft";

/// CISA's August 2025 draft: the NTIA elements plus component hash, licence, tool name and
/// generation context.
fn cisa(bom: &Value) -> Vec<Gap> {
    let mut out = Vec::new();
    let components: Vec<Part<'_>> = parts(bom).into_iter().filter(|p| !p.product).collect();
    // A field a crate cannot have (`unknowable`, with why) is said so; one it could have and
    // the document lacks is a gap of the document.
    let mut per_component = |element,
                             field,
                             lacks: &dyn Fn(&Value) -> bool,
                             unknowable: &dyn Fn(&Value) -> bool,
                             why_unknowable: &str| {
        let (mut unknown, mut others) = (Vec::new(), Vec::new());
        for part in components.iter().filter(|p| lacks(p.value)) {
            if unknowable(part.value) {
                unknown.push(part.label.clone());
            } else {
                others.push(part.label.clone());
            }
        }
        for (list, cause, why) in [
            (unknown, Cause::Unknowable, why_unknowable),
            (others, Cause::Absent, "the document has none"),
        ] {
            if !list.is_empty() {
                out.push(Gap {
                    element,
                    source: CISA,
                    field,
                    components: list,
                    cause,
                    why: why.to_owned(),
                });
            }
        }
    };
    per_component(
        "component hash",
        "components[].hashes",
        &|c| non_empty(c, "hashes").is_none(),
        &|c| is_crate(c) && is_source_tree(c),
        "a git or path dependency: cargo records no checksum of it, and charter-audit does not hash source trees",
    );
    per_component(
        "licence",
        "components[].licenses",
        &|c| non_empty(c, "licenses").is_none(),
        &is_crate,
        manifest_why(bom, "its manifest declares no licence"),
    );
    let metadata = bom.get("metadata");
    let tools = metadata.and_then(|m| m.get("tools"));
    let named = |list: Option<&Value>| {
        list.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|t| t.get("name").and_then(Value::as_str).is_some())
    };
    let has_tool = named(tools)
        || named(tools.and_then(|t| t.get("components")))
        || named(tools.and_then(|t| t.get("services")));
    let mut document = |element, field, why: &str| {
        out.push(Gap {
            element,
            source: CISA,
            field,
            components: Vec::new(),
            cause: Cause::Absent,
            why: why.to_owned(),
        });
    };
    if !has_tool {
        document("tool name", "metadata.tools", "the document names no tool");
    }
    if metadata.and_then(|m| non_empty(m, "lifecycles")).is_none() {
        document(
            "generation context",
            "metadata.lifecycles",
            "the document gives no lifecycle phase (charter-audit writes `pre-build` in CycloneDX 1.6: use --spec-version 1.6)",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_profiles_include_the_ntia_elements() {
        for p in Profile::ALL {
            assert_eq!(Profile::parse(p.as_str()), Some(p));
            assert_eq!(
                serde_json::to_value(p).unwrap(),
                Value::from(p.as_str()),
                "serde and as_str agree"
            );
            assert!(p.includes(Profile::Ntia2021));
        }
        assert!(!Profile::Cisa2025Draft.includes(Profile::BsiTr03183_2));
        assert!(!Profile::BsiTr03183_2.includes(Profile::Cisa2025Draft));
        assert!(!Profile::Ntia2021.includes(Profile::BsiTr03183_2));
        assert_eq!(Profile::parse("bsi"), None);
    }

    #[test]
    fn cisa_finds_each_missing_element() {
        let bom = serde_json::json!({
            "metadata": {"timestamp": "2026-01-01T00:00:00Z", "tools": {"components": []}},
            "components": [
                {"name": "a", "version": "1", "purl": "pkg:cargo/a@1", "hashes": [{"alg": "SHA-256", "content": "00"}],
                 "licenses": [{"expression": "MIT"}]},
                {"name": "b", "version": "2", "purl": "pkg:cargo/b@2?source=path",
                 "properties": [{"name": "charter-audit:source", "value": "path"}]},
                {"name": "c", "version": "3", "purl": "pkg:npm/c@3"}
            ]
        });
        let gaps = extra_gaps(Profile::Cisa2025Draft, &serde_json::to_vec(&bom).unwrap()).unwrap();
        let found: Vec<(&str, Vec<String>, Cause)> = gaps
            .iter()
            .map(|g| (g.element, g.components.clone(), g.cause))
            .collect();
        assert_eq!(
            found,
            [
                ("component hash", vec!["b 2".to_owned()], Cause::Unknowable),
                ("component hash", vec!["c 3".to_owned()], Cause::Absent),
                ("licence", vec!["b 2".to_owned()], Cause::Unknowable),
                ("licence", vec!["c 3".to_owned()], Cause::Absent),
                ("tool name", vec![], Cause::Absent),
                ("generation context", vec![], Cause::Absent),
            ]
        );
        assert!(gaps[0].describe().starts_with(
            "component hash (CISA minimum elements, 2025 draft; components[].hashes): b 2: a git or path dependency"
        ));
    }
}
