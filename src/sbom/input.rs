//! A supplier's own CycloneDX JSON SBOM (1.4, 1.5 or 1.6), read through a minimal model of
//! our own (the parts an audit needs: the subject, the components with their purls, nested
//! ones included), size-capped before parsing and depth-capped while parsing.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;

use crate::advisories::foreign::{Component, ecosystem_of};

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
    // serde_json stops at 128 levels of nesting, so a hostile depth costs nothing; the
    // number of objects is counted before parsing, so a hostile breadth costs nothing either.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(invalid(
            "the document is not a JSON object (a CycloneDX BOM is one, at line 1)".to_owned(),
        ));
    }
    // JSON is UTF-8 (RFC 8259), the parts this audit ignores included: they are kept as the
    // evidence and read again for the completeness check, which would fail far from the file.
    if let Err(e) = std::str::from_utf8(&bytes) {
        let at = e.valid_up_to();
        let before = &bytes[..at];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let column = at
            - before
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |n| n + 1)
            + 1;
        return Err(invalid(format!(
            "not UTF-8 at line {line}, byte {column} of the line: JSON is UTF-8; convert the file (e.g. iconv -t UTF-8) or have the tool that made it write UTF-8"
        )));
    }
    let objects = bytes.iter().filter(|b| **b == b'{').count();
    if objects > MAX_OBJECTS {
        return Err(invalid(format!(
            "{objects} JSON objects, more than the {MAX_OBJECTS} this tool reads in one SBOM"
        )));
    }
    let bom: Bom = serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
    if bom.bom_format != "CycloneDX" {
        return Err(invalid(format!(
            "bomFormat is `{}`",
            crate::text::clean(&bom.bom_format)
        )));
    }
    if !["1.4", "1.5", "1.6"].contains(&bom.spec_version.as_str()) {
        return Err(invalid(format!(
            "specVersion {} (this tool reads 1.4, 1.5 and 1.6)",
            crate::text::clean(&bom.spec_version)
        )));
    }
    let metadata = bom.metadata;
    let subject = metadata.as_ref().and_then(|m| m.component.as_ref());
    let product = match subject {
        Some(c) => (c.name.clone(), c.version.clone(), c.purl.clone()),
        None => (
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "product".to_owned()),
            None,
            None,
        ),
    };
    let supplier = metadata
        .as_ref()
        .and_then(|m| {
            m.supplier
                .as_ref()
                .or(m.component.as_ref().and_then(|c| c.supplier.as_ref()))
        })
        .and_then(|s| s.name.clone());
    let mut components = Vec::new();
    // The components, and those nested under the subject itself (cdxgen writes some there).
    let nested_in_subject = subject.map(|c| c.components.iter()).into_iter().flatten();
    let mut stack: Vec<(&CdxComponent, usize)> = bom
        .components
        .iter()
        .chain(nested_in_subject)
        .map(|c| (c, 0))
        .collect();
    stack.reverse();
    while let Some((component, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(invalid(format!(
                "components nested more than {MAX_DEPTH} deep (at component `{}`)",
                crate::text::clean(&component.name)
            )));
        }
        if components.len() == MAX_COMPONENTS {
            return Err(invalid(format!(
                "more than {MAX_COMPONENTS} components, the most this tool audits in one SBOM: audit the SBOMs of the product's parts one by one"
            )));
        }
        components.push(component_of(component));
        for child in component.components.iter().rev() {
            stack.push((child, depth + 1));
        }
    }
    Ok(Input {
        product,
        supplier,
        components,
        bytes,
    })
}

fn component_of(c: &CdxComponent) -> Component {
    let parsed = c
        .purl
        .as_deref()
        .and_then(|p| packageurl::PackageUrl::from_str(p).ok());
    // A purl that names where a package comes from other than its public registry (a
    // repository_url, a path, a VCS) is not one the public databases describe.
    let private = parsed.as_ref().and_then(|p| {
        p.qualifiers()
            .keys()
            .find(|k| matches!(k.as_ref(), "repository_url" | "download_url" | "vcs_url"))
            .map(|k| {
                format!(
                    "its purl names its own source ({k}): a private or local package, which public advisory databases do not describe"
                )
            })
    });
    let version = c
        .version
        .clone()
        .or_else(|| parsed.as_ref().and_then(|p| p.version().map(str::to_owned)))
        .unwrap_or_default();
    // A version that is a path, a link or a repository (npm's `file:`, `git+ssh://...`, Go's
    // `(devel)`) names a local or private source: never sent, never matched.
    let private = private.or_else(|| {
        let v = version.to_ascii_lowercase();
        let local = ["file:", "link:", "git+", "git:", "github:", "http:", "https:", "ssh:", "workspace:", "portal:"]
            .iter()
            .any(|p| v.starts_with(p))
            || v.contains("://")
            || v == "(devel)";
        local.then(|| {
            "its version names a local or private source (a path, link or repository): never sent to or matched against public databases".to_owned()
        })
    });
    let identified = parsed
        .as_ref()
        .filter(|_| private.is_none())
        .and_then(ecosystem_of);
    Component {
        name: identified
            .as_ref()
            .map(|(_, name)| name.clone())
            .unwrap_or_else(|| c.name.clone()),
        version,
        purl: c.purl.clone(),
        ecosystem: identified.map(|(ecosystem, _)| ecosystem.to_owned()),
        private,
        raw_name: c.name.clone(),
    }
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
            .map(|c| (c.name.clone(), c.ecosystem.clone()))
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
