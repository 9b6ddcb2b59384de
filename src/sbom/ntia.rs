//! The NTIA minimum elements of an SBOM (STANDARDS.md), checked on a CycloneDX JSON document:
//! supplier, component names, versions and unique identifiers, dependency relationships,
//! author of the SBOM data and timestamp. Read from the JSON, so that it checks what a
//! recipient gets, whoever wrote it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The parts of a CycloneDX JSON document that [`check`] reads, and nothing more: a supplier's
/// 60 MiB SBOM is not held whole as a `Value` (ten times its size) to look at a few fields.
#[derive(Deserialize, Serialize)]
struct View {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metadata: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    components: Option<Vec<ComponentView>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dependencies: Option<Vec<DependencyView>>,
}

#[derive(Deserialize, Serialize)]
struct ComponentView {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<Value>,
    #[serde(default, rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    bom_ref: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    purl: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cpe: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    swid: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hashes: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    author: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    authors: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    supplier: Option<Value>,
}

#[derive(Deserialize, Serialize)]
struct DependencyView {
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    reference: Option<Value>,
}

/// Checks a CycloneDX JSON document given as bytes, holding only what the check reads. A
/// document whose shape the pruned view does not take (a `dependencies` that is not a list of
/// objects, a key given twice) is checked whole, as it always could be.
pub fn check_bytes(document: &[u8]) -> Result<Completeness, serde_json::Error> {
    match serde_json::from_slice::<View>(document).and_then(serde_json::to_value) {
        Ok(view) => Ok(check(&view)),
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
    let metadata = bom.get("metadata");
    let name_of = |entity: Option<&Value>| {
        entity
            .and_then(|e| e.get("name"))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
    };
    let supplier = name_of(metadata.and_then(|m| m.get("supplier"))).or_else(|| {
        name_of(
            metadata
                .and_then(|m| m.get("component"))
                .and_then(|c| c.get("supplier")),
        )
    });
    let authors = metadata
        .and_then(|m| m.get("authors"))
        .and_then(Value::as_array)
        .map(|authors| authors.iter().filter_map(|a| name_of(Some(a))).collect())
        .unwrap_or_default();
    let timestamp = metadata
        .and_then(|m| m.get("timestamp"))
        .and_then(Value::as_str)
        .map(str::to_owned);

    let mut listed = std::collections::HashSet::new();
    for dependency in bom
        .get("dependencies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(r) = dependency.get("ref").and_then(Value::as_str) {
            listed.insert(r.to_owned());
        }
    }

    let components: Vec<&Value> = bom
        .get("components")
        .and_then(Value::as_array)
        .map(|c| c.iter().collect())
        .unwrap_or_default();
    let mut out = Completeness {
        supplier,
        authors,
        timestamp,
        components: components.len(),
        ..Completeness::default()
    };
    for component in components {
        let text = |key: &str| {
            component
                .get(key)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|t| !t.is_empty())
        };
        let name = text("name");
        let label = match (name, text("version")) {
            (Some(n), Some(v)) => format!("{n} {v}"),
            (Some(n), None) => n.to_owned(),
            _ => text("bom-ref")
                .unwrap_or("(a component without a name)")
                .to_owned(),
        };
        if name.is_none() || text("version").is_none() {
            out.without_name_or_version.push(label.clone());
        }
        let hashes = component
            .get("hashes")
            .and_then(Value::as_array)
            .is_some_and(|h| !h.is_empty());
        if text("purl").is_none()
            && text("cpe").is_none()
            && component.get("swid").is_none_or(Value::is_null)
            && !hashes
        {
            out.without_identifier.push(label.clone());
        }
        if text("bom-ref").is_none_or(|r| !listed.contains(r)) {
            out.without_dependencies.push(label.clone());
        }
        let authors = component
            .get("authors")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        if text("author").is_none() && !authors && name_of(component.get("supplier")).is_none() {
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
