//! The NTIA minimum elements of an SBOM (STANDARDS.md), checked on a CycloneDX JSON document:
//! supplier, component names, versions and unique identifiers, dependency relationships,
//! author of the SBOM data and timestamp. Read from the JSON, so that it checks what a
//! recipient gets, whoever wrote it.

use cyclonedx_bom::models::bom::Bom;
use cyclonedx_bom::models::organization::OrganizationalEntity;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The parts of a CycloneDX JSON document that [`check`] reads, and nothing more: a supplier's
/// 60 MiB SBOM is not held whole as a `Value` (ten times its size) to look at a few fields.
#[derive(Deserialize)]
struct View {
    #[serde(default)]
    metadata: Option<Value>,
    #[serde(default)]
    components: Option<Vec<ComponentView>>,
    #[serde(default)]
    dependencies: Option<Vec<DependencyView>>,
}

#[derive(Deserialize)]
struct ComponentView {
    #[serde(default)]
    name: Option<Value>,
    #[serde(default)]
    version: Option<Value>,
    #[serde(default, rename = "bom-ref")]
    bom_ref: Option<Value>,
    #[serde(default)]
    purl: Option<Value>,
    #[serde(default)]
    cpe: Option<Value>,
    /// Present and not null: only that is read.
    #[serde(default)]
    swid: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    hashes: NonEmpty,
    #[serde(default)]
    author: Option<Value>,
    #[serde(default)]
    authors: NonEmpty,
    #[serde(default)]
    supplier: Option<Value>,
}

#[derive(Deserialize)]
struct DependencyView {
    #[serde(default, rename = "ref")]
    reference: Option<Value>,
}

/// Whether a field is a non-empty array, read without keeping its elements.
#[derive(Default)]
struct NonEmpty(bool);

impl<'de> Deserialize<'de> for NonEmpty {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = NonEmpty;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<NonEmpty, A::Error> {
                let mut any = false;
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    any = true;
                }
                Ok(NonEmpty(any))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<NonEmpty, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(NonEmpty(false))
            }
            fn visit_bool<E>(self, _: bool) -> Result<NonEmpty, E> {
                Ok(NonEmpty(false))
            }
            fn visit_i64<E>(self, _: i64) -> Result<NonEmpty, E> {
                Ok(NonEmpty(false))
            }
            fn visit_u64<E>(self, _: u64) -> Result<NonEmpty, E> {
                Ok(NonEmpty(false))
            }
            fn visit_f64<E>(self, _: f64) -> Result<NonEmpty, E> {
                Ok(NonEmpty(false))
            }
            fn visit_str<E>(self, _: &str) -> Result<NonEmpty, E> {
                Ok(NonEmpty(false))
            }
            fn visit_unit<E>(self) -> Result<NonEmpty, E> {
                Ok(NonEmpty(false))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// What the check needs of one component, from a whole document or from the view.
struct Facts<'a> {
    name: Option<&'a str>,
    version: Option<&'a str>,
    bom_ref: Option<&'a str>,
    /// A purl, CPE, SWID tag or hash.
    identified: bool,
    /// An author, authors, or a named supplier.
    authored: bool,
}

/// A string field's text, trimmed, when it has any.
fn text(value: Option<&Value>) -> Option<&str> {
    value
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// An entity's (supplier's, author's) name, when it has one.
fn name_of(entity: Option<&Value>) -> Option<String> {
    text(entity.and_then(|e| e.get("name"))).map(str::to_owned)
}

impl ComponentView {
    fn facts(&self) -> Facts<'_> {
        Facts {
            name: text(self.name.as_ref()),
            version: text(self.version.as_ref()),
            bom_ref: text(self.bom_ref.as_ref()),
            identified: text(self.purl.as_ref()).is_some()
                || text(self.cpe.as_ref()).is_some()
                || self.swid.is_some()
                || self.hashes.0,
            authored: text(self.author.as_ref()).is_some()
                || self.authors.0
                || name_of(self.supplier.as_ref()).is_some(),
        }
    }
}

fn facts_of(component: &Value) -> Facts<'_> {
    let non_empty = |key: &str| {
        component
            .get(key)
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    };
    Facts {
        name: text(component.get("name")),
        version: text(component.get("version")),
        bom_ref: text(component.get("bom-ref")),
        identified: text(component.get("purl")).is_some()
            || text(component.get("cpe")).is_some()
            || component.get("swid").is_some_and(|s| !s.is_null())
            || non_empty("hashes"),
        authored: text(component.get("author")).is_some()
            || non_empty("authors")
            || name_of(component.get("supplier")).is_some(),
    }
}

/// Checks a CycloneDX JSON document given as bytes, holding only what the check reads. A
/// document whose shape the pruned view does not take (a `dependencies` that is not a list of
/// objects, a key given twice) is checked whole, as it always could be.
pub fn check_bytes(document: &[u8]) -> Result<Completeness, serde_json::Error> {
    match serde_json::from_slice::<View>(document) {
        Ok(view) => {
            let listed = view
                .dependencies
                .iter()
                .flatten()
                .filter_map(|d| d.reference.as_ref()?.as_str())
                .collect();
            let components: Vec<Facts<'_>> = view
                .components
                .iter()
                .flatten()
                .map(ComponentView::facts)
                .collect();
            Ok(assess(
                Head::of(view.metadata.as_ref()),
                &listed,
                &components,
            ))
        }
        Err(_) => Ok(check(&serde_json::from_slice(document)?)),
    }
}

/// What the SBOM has of the minimum elements.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Completeness {
    /// The supplier's name (`metadata.supplier` or the subject component's `supplier`).
    pub supplier: Option<String>,
    /// The authors of the SBOM data (`metadata.authors`).
    pub authors: Vec<String>,
    pub timestamp: Option<String>,
    pub components: usize,
    /// Components without a name or a version.
    pub without_name_or_version: Vec<String>,
    /// Components without a purl, CPE, SWID tag or hash.
    pub without_identifier: Vec<String>,
    /// Components that appear in no `dependencies` entry.
    pub without_dependencies: Vec<String>,
    /// Components whose author (or supplier) is not given.
    pub without_author: Vec<String>,
}

/// Checks a CycloneDX JSON SBOM.
pub fn check(bom: &Value) -> Completeness {
    let listed = bom
        .get("dependencies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| d.get("ref").and_then(Value::as_str))
        .collect();
    let components: Vec<Facts<'_>> = bom
        .get("components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(facts_of)
        .collect();
    assess(Head::of(bom.get("metadata")), &listed, &components)
}

/// Checks the model of an SBOM this tool makes, as [`check_bytes`] would read the crate's
/// JSON of it (1.4 or 1.5; a field the crate writes is read as that JSON shows it): for an
/// audit that writes no SBOM, so that it is not serialised only to be read back.
pub fn check_model(bom: &Bom) -> Completeness {
    let metadata = bom.metadata.as_ref();
    let entity = |e: Option<&OrganizationalEntity>| trimmed(e?.name.as_deref()).map(str::to_owned);
    let head = Head {
        supplier: entity(metadata.and_then(|m| m.supplier.as_ref())).or_else(|| {
            entity(
                metadata
                    .and_then(|m| m.component.as_ref())
                    .and_then(|c| c.supplier.as_ref()),
            )
        }),
        authors: metadata
            .and_then(|m| m.authors.as_ref())
            .map(|authors| {
                authors
                    .iter()
                    .filter_map(|a| trimmed(a.name.as_deref()).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        timestamp: metadata
            .and_then(|m| m.timestamp.as_ref())
            .map(ToString::to_string),
    };
    let listed = bom
        .dependencies
        .iter()
        .flat_map(|d| &d.0)
        .map(|d| d.dependency_ref.as_str())
        .collect();
    let components: Vec<Facts<'_>> = bom
        .components
        .iter()
        .flat_map(|c| &c.0)
        .map(|c| Facts {
            name: trimmed(Some(&c.name)),
            version: trimmed(c.version.as_deref()),
            bom_ref: trimmed(c.bom_ref.as_deref()),
            identified: trimmed(c.purl.as_ref().map(AsRef::as_ref)).is_some()
                || trimmed(c.cpe.as_ref().map(AsRef::as_ref)).is_some()
                || c.swid.is_some()
                || c.hashes.as_ref().is_some_and(|h| !h.0.is_empty()),
            authored: trimmed(c.author.as_deref()).is_some()
                || entity(c.supplier.as_ref()).is_some(),
        })
        .collect();
    assess(head, &listed, &components)
}

/// A text's trimmed form, when it has any (as [`text`] reads a JSON string).
fn trimmed(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|t| !t.is_empty())
}

/// What the document says of itself: its supplier, the authors of its data, its timestamp.
struct Head {
    supplier: Option<String>,
    authors: Vec<String>,
    timestamp: Option<String>,
}

impl Head {
    /// From the JSON's `metadata`.
    fn of(metadata: Option<&Value>) -> Head {
        Head {
            supplier: name_of(metadata.and_then(|m| m.get("supplier"))).or_else(|| {
                name_of(
                    metadata
                        .and_then(|m| m.get("component"))
                        .and_then(|c| c.get("supplier")),
                )
            }),
            authors: metadata
                .and_then(|m| m.get("authors"))
                .and_then(Value::as_array)
                .map(|authors| authors.iter().filter_map(|a| name_of(Some(a))).collect())
                .unwrap_or_default(),
            timestamp: metadata
                .and_then(|m| m.get("timestamp"))
                .and_then(Value::as_str)
                .map(str::to_owned),
        }
    }
}

/// The minimum elements, from the document's head, the refs the dependency graph lists, and
/// what each top-level component says of itself.
fn assess(
    head: Head,
    listed: &std::collections::HashSet<&str>,
    components: &[Facts<'_>],
) -> Completeness {
    let mut out = Completeness {
        supplier: head.supplier,
        authors: head.authors,
        timestamp: head.timestamp,
        components: components.len(),
        ..Completeness::default()
    };
    for component in components {
        let label = match (component.name, component.version) {
            (Some(n), Some(v)) => format!("{n} {v}"),
            (Some(n), None) => n.to_owned(),
            _ => component
                .bom_ref
                .unwrap_or("(a component without a name)")
                .to_owned(),
        };
        if component.name.is_none() || component.version.is_none() {
            out.without_name_or_version.push(label.clone());
        }
        if !component.identified {
            out.without_identifier.push(label.clone());
        }
        if component.bom_ref.is_none_or(|r| !listed.contains(r)) {
            out.without_dependencies.push(label.clone());
        }
        if !component.authored {
            out.without_author.push(label);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_missing_element_is_found() {
        let bom = serde_json::json!({
            "metadata": {"timestamp": "2026-08-25T00:00:00Z", "authors": [{"name": " "}]},
            "components": [
                {"bom-ref": "a", "name": "a", "version": "1.0.0", "purl": "pkg:cargo/a@1.0.0", "author": "A"},
                {"bom-ref": "b", "name": "b", "hashes": [{"alg": "SHA-256", "content": "00"}]},
                {"bom-ref": "c", "name": "c", "version": "2.0.0", "supplier": {"name": "C Ltd"}}
            ],
            "dependencies": [{"ref": "a", "dependsOn": ["b"]}, {"ref": "b"}]
        });
        let c = check(&bom);
        assert_eq!(c.supplier, None);
        assert!(c.authors.is_empty(), "a blank author is no author");
        assert_eq!(c.timestamp.as_deref(), Some("2026-08-25T00:00:00Z"));
        assert_eq!(c.components, 3);
        assert_eq!(c.without_name_or_version, ["b"]);
        assert_eq!(c.without_identifier, ["c 2.0.0"]);
        assert_eq!(c.without_dependencies, ["c 2.0.0"]);
        assert_eq!(c.without_author, ["b"]);
        // Read from bytes through the pruned view: the same answer.
        assert_eq!(check_bytes(&serde_json::to_vec(&bom).unwrap()).unwrap(), c);
    }

    #[test]
    fn the_pruned_view_sees_what_the_whole_document_shows() {
        let bom = serde_json::json!({
            "bomFormat": "CycloneDX", "specVersion": "1.6",
            "metadata": {"timestamp": "2026-08-25T00:00:00Z", "supplier": {"name": "S"},
                         "authors": [{"name": "T"}], "tools": {"components": [{"name": "syft"}]}},
            "components": [
                {"bom-ref": "x", "name": "x", "version": 7, "cpe": "cpe:2.3:a:x:x:1:*:*:*:*:*:*:*",
                 "authors": [{"name": "X"}], "licenses": [{"license": {"id": "MIT"}}],
                 "properties": [{"name": "p", "value": "v"}], "components": [{"name": "inner"}]},
                {"name": "y", "version": "1", "swid": {"tagId": "t", "name": "y"}},
                {"bom-ref": "z", "name": null, "version": "2", "purl": " "}
            ],
            "dependencies": [{"ref": "x", "dependsOn": ["z"]}, {"ref": 3}],
            "vulnerabilities": [{"id": "CVE-1"}]
        });
        let whole = check(&bom);
        assert_eq!(
            check_bytes(&serde_json::to_vec(&bom).unwrap()).unwrap(),
            whole
        );
        assert_eq!(whole.without_name_or_version, ["x", "z"]);
        assert_eq!(whole.without_identifier, ["z"]);
        // Shapes the view does not take are checked whole: the same answer, never an error.
        let mut odd = bom.clone();
        odd["dependencies"] = serde_json::json!(["x"]);
        odd["components"][1]["swid"] = Value::Null;
        let text = serde_json::to_string(&odd).unwrap().replacen(
            "\"cpe\":",
            "\"cpe\":\"cpe:dup\",\"cpe\":",
            1,
        );
        let odd_whole = check(&serde_json::from_str(&text).unwrap());
        assert_eq!(check_bytes(text.as_bytes()).unwrap(), odd_whole);
        assert_eq!(
            odd_whole.without_identifier,
            ["y 1", "z"],
            "a null swid is no identifier"
        );
    }

    #[test]
    fn the_subject_components_supplier_counts() {
        let bom = serde_json::json!({
            "metadata": {"component": {"supplier": {"name": "Example Health Ltd"}}, "authors": [{"name": "Release team"}]}
        });
        let c = check(&bom);
        assert_eq!(c.supplier.as_deref(), Some("Example Health Ltd"));
        assert_eq!(c.authors, ["Release team"]);
        assert_eq!(c.timestamp, None);
    }
}
