//! A supplier's own CycloneDX JSON SBOM (1.4, 1.5 or 1.6), read through a minimal model of
//! our own (the parts an audit needs: the subject, the components with their purls, nested
//! ones included), size-capped before parsing and depth-capped while parsing. A supplier's SBOM
//! is the inventory of a product this tool did not build: what is in it, not what is known of it.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::purl::Component;

/// The largest SBOM read by default (64 MiB; `--max-sbom-size`).
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;
/// The most JSON objects read (a component is one or more): bounds the memory a parse takes.
const MAX_OBJECTS: usize = 2_500_000;
/// The most components audited from one SBOM: each costs memory in every report, and a
/// product of more is better audited as the several SBOMs of its parts.
const MAX_COMPONENTS: usize = 200_000;
/// The deepest nesting of components followed.
const MAX_DEPTH: usize = 32;

/// Why the SBOM could not be read (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{}: cannot read it: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: more than {limit} bytes, the most this audit reads (--max-sbom-size MIB, default 64): raise it if this is an SBOM", .path.display())]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{}: not a CycloneDX JSON SBOM: {message}", .path.display())]
    Invalid { path: PathBuf, message: String },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bom {
    bom_format: String,
    spec_version: String,
    metadata: Option<Metadata>,
    #[serde(default)]
    components: Vec<CdxComponent>,
}

#[derive(Deserialize)]
struct Metadata {
    component: Option<CdxComponent>,
    supplier: Option<Entity>,
}

#[derive(Deserialize)]
struct Entity {
    name: Option<String>,
}

#[derive(Deserialize)]
struct CdxComponent {
    name: String,
    version: Option<String>,
    purl: Option<String>,
    supplier: Option<Entity>,
    #[serde(default)]
    components: Vec<CdxComponent>,
}

/// What an audit takes from the SBOM.
#[derive(Debug)]
pub struct Input {
    /// The subject: name, version, purl.
    pub product: (String, Option<String>, Option<String>),
    pub supplier: Option<String>,
    pub components: Vec<Component>,
    /// The document as given, for the evidence.
    pub bytes: Vec<u8>,
}

/// Reads and checks the SBOM at `path`, of at most `max_bytes`.
pub fn read(path: &Path, max_bytes: u64) -> Result<Input, InputError> {
    let too_large = || InputError::TooLarge {
        path: path.to_path_buf(),
        limit: max_bytes,
    };
    let io = |source| InputError::Read {
        path: path.to_path_buf(),
        source,
    };
    // A file known to be too large is refused before a byte is read.
    if std::fs::metadata(path).map_err(io)?.len() > max_bytes {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large());
    }
    parse(path, bytes)
}

fn parse(path: &Path, bytes: Vec<u8>) -> Result<Input, InputError> {
    let invalid = |message: String| InputError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    check_bytes(&bytes).map_err(invalid)?;
    let bom: Bom = serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
    check_format(&bom).map_err(invalid)?;
    let metadata = bom.metadata.as_ref();
    let subject = metadata.and_then(|m| m.component.as_ref());
    Ok(Input {
        product: product_of(subject, path),
        supplier: supplier_of(metadata),
        components: components_of(&bom.components, subject).map_err(invalid)?,
        bytes,
    })
}

/// What can be told of the document before it is parsed: that it is a JSON object, in UTF-8,
/// of no more objects than this tool reads.
fn check_bytes(bytes: &[u8]) -> Result<(), String> {
    // serde_json stops at 128 levels of nesting, so a hostile depth costs nothing; the
    // number of objects is counted before parsing, so a hostile breadth costs nothing either.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(
            "the document is not a JSON object (a CycloneDX BOM is one, at line 1)".to_owned(),
        );
    }
    // JSON is UTF-8 (RFC 8259), the parts this audit ignores included: they are kept as the
    // evidence and read again for the completeness check, which would fail far from the file.
    if let Err(e) = std::str::from_utf8(bytes) {
        let (line, column) = line_and_column(bytes, e.valid_up_to());
        return Err(format!(
            "not UTF-8 at line {line}, byte {column} of the line: JSON is UTF-8; convert the file (e.g. iconv -t UTF-8) or have the tool that made it write UTF-8"
        ));
    }
    let objects = bytes.iter().filter(|b| **b == b'{').count();
    if objects > MAX_OBJECTS {
        return Err(format!(
            "{objects} JSON objects, more than the {MAX_OBJECTS} this tool reads in one SBOM"
        ));
    }
    Ok(())
}

/// The line and the byte of that line (both from 1) of the byte at offset `at`.
fn line_and_column(bytes: &[u8], at: usize) -> (usize, usize) {
    let before = &bytes[..at];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let column = at
        - before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |n| n + 1)
        + 1;
    (line, column)
}

/// That the document says it is CycloneDX, of a version this tool reads.
fn check_format(bom: &Bom) -> Result<(), String> {
    if bom.bom_format != "CycloneDX" {
        return Err(format!(
            "bomFormat is `{}`",
            crate::text::clean(&bom.bom_format)
        ));
    }
    if !["1.4", "1.5", "1.6"].contains(&bom.spec_version.as_str()) {
        return Err(format!(
            "specVersion {} (this tool reads 1.4, 1.5 and 1.6)",
            crate::text::clean(&bom.spec_version)
        ));
    }
    Ok(())
}

/// The subject's name, version and purl; without a subject, the file's name.
fn product_of(
    subject: Option<&CdxComponent>,
    path: &Path,
) -> (String, Option<String>, Option<String>) {
    match subject {
        Some(c) => (c.name.clone(), c.version.clone(), c.purl.clone()),
        None => (
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "product".to_owned()),
            None,
            None,
        ),
    }
}

/// The document's supplier, or else the subject's.
fn supplier_of(metadata: Option<&Metadata>) -> Option<String> {
    metadata
        .and_then(|m| {
            m.supplier
                .as_ref()
                .or(m.component.as_ref().and_then(|c| c.supplier.as_ref()))
        })
        .and_then(|s| s.name.clone())
}

/// Every component, nested ones included, in document order (depth first), within
/// [`MAX_DEPTH`] and [`MAX_COMPONENTS`].
fn components_of(
    top: &[CdxComponent],
    subject: Option<&CdxComponent>,
) -> Result<Vec<Component>, String> {
    let mut components = Vec::new();
    // The components, and those nested under the subject itself (cdxgen writes some there).
    let nested_in_subject = subject.map(|c| c.components.iter()).into_iter().flatten();
    let mut stack: Vec<(&CdxComponent, usize)> = top
        .iter()
        .chain(nested_in_subject)
        .map(|c| (c, 0))
        .collect();
    stack.reverse();
    while let Some((component, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(format!(
                "components nested more than {MAX_DEPTH} deep (at component `{}`)",
                crate::text::clean(&component.name)
            ));
        }
        if components.len() == MAX_COMPONENTS {
            return Err(format!(
                "more than {MAX_COMPONENTS} components, the most this tool audits in one SBOM: audit the SBOMs of the product's parts one by one"
            ));
        }
        components.push(Component::identify(
            &component.name,
            component.version.as_deref(),
            component.purl.as_deref(),
        ));
        for child in component.components.iter().rev() {
            stack.push((child, depth + 1));
        }
    }
    Ok(components)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_components_and_ecosystems() {
        let text = br#"{"bomFormat":"CycloneDX","specVersion":"1.6",
          "metadata":{"component":{"name":"portal","version":"2.1.0","supplier":{"name":"Example Health Ltd"}}},
          "components":[
            {"name":"lodash","version":"4.17.20","purl":"pkg:npm/lodash@4.17.20",
             "components":[{"name":"Django","version":"3.2.1","purl":"pkg:pypi/django@3.2.1"}]},
            {"name":"guava","version":"30.0-jre","purl":"pkg:maven/com.google.guava/guava@30.0-jre"},
            {"name":"internal","version":"1.0.0","purl":"pkg:npm/internal@1.0.0?repository_url=https://npm.example.org"},
            {"name":"no-purl","version":"1"}
          ]}"#;
        let input = parse(Path::new("sbom.json"), text.to_vec()).unwrap();
        assert_eq!(input.product.0, "portal");
        assert_eq!(input.supplier.as_deref(), Some("Example Health Ltd"));
        let got: Vec<(String, Option<String>)> = input
            .components
            .iter()
            .map(|c| {
                (
                    c.name.clone(),
                    c.ecosystem.as_ref().map(ToString::to_string),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("lodash".to_owned(), Some("npm".to_owned())),
                ("django".to_owned(), Some("PyPI".to_owned())),
                (
                    "com.google.guava:guava".to_owned(),
                    Some("Maven".to_owned())
                ),
                ("internal".to_owned(), None),
                ("no-purl".to_owned(), None),
            ]
        );
    }

    #[test]
    fn not_an_sbom() {
        for text in [
            &b"not json"[..],
            br#"{"bomFormat":"SPDX","specVersion":"1.5"}"#,
            br#"{"bomFormat":"CycloneDX","specVersion":"1.2"}"#,
        ] {
            assert!(parse(Path::new("x.json"), text.to_vec()).is_err());
        }
        // Every spec version from 1.4 reads.
        for version in ["1.4", "1.5", "1.6"] {
            let text = format!(r#"{{"bomFormat":"CycloneDX","specVersion":"{version}"}}"#);
            assert!(
                parse(Path::new("x.json"), text.into_bytes()).is_ok(),
                "{version}"
            );
        }
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let error = parse(Path::new("deep.json"), deep.into_bytes()).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("deep.json: not a CycloneDX JSON SBOM"),
            "{error}"
        );
    }
}
