//! Does an SBOM describe a binary? The packages of the list `cargo auditable` embedded in it
//! against the SBOM's Cargo components, by name, version and source kind (all the list
//! records), normal and build dependencies compared apart: what the binary holds that the SBOM
//! does not list (the SBOM hides what ships) and what the SBOM lists that the binary does not
//! hold (the SBOM over-states). The supplier's audit and the recipient's `verify` both call
//! [`compare`], each reading the list from the binary itself.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::binary::Embedded;

/// The comparison of one binary with one SBOM: `exact`, or the differences.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinaryMatch {
    /// The binary's file name.
    pub subject: String,
    /// The binary's root package (`name version`): the product it was built as.
    pub product: Option<String>,
    pub result: MatchResult,
    /// Runtime (normal) dependencies, and the product itself.
    pub normal: Differences,
    /// Build dependencies (build scripts, proc-macros).
    pub build: Differences,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchResult {
    /// The SBOM lists exactly the packages compiled into the binary.
    Exact,
    /// It does not: see the differences.
    Differs,
}

/// Packages, as `name version (source)`, sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Differences {
    /// In the binary, not in the SBOM: the SBOM hides what ships.
    pub only_in_binary: Vec<String>,
    /// In the SBOM, not in the binary: the SBOM over-states.
    pub only_in_sbom: Vec<String>,
}

impl BinaryMatch {
    /// Packages the binary holds that the SBOM does not list.
    pub fn hidden(&self) -> impl Iterator<Item = &String> {
        self.normal
            .only_in_binary
            .iter()
            .chain(&self.build.only_in_binary)
    }

    /// Packages the SBOM lists that the binary does not hold.
    pub fn overstated(&self) -> impl Iterator<Item = &String> {
        self.normal
            .only_in_sbom
            .iter()
            .chain(&self.build.only_in_sbom)
    }

    /// The differences in words, one line each, for a terminal or a report.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (kind, d) in [("normal", &self.normal), ("build", &self.build)] {
            for p in &d.only_in_binary {
                out.push(format!(
                    "{}: {p} ({kind}) is compiled in, but not in the SBOM",
                    self.subject
                ));
            }
            for p in &d.only_in_sbom {
                out.push(format!(
                    "{}: {p} ({kind}) is in the SBOM, but not compiled in",
                    self.subject
                ));
            }
        }
        out
    }
}

/// Why an SBOM could not be compared.
#[derive(Debug, thiserror::Error)]
#[error("the SBOM is not CycloneDX JSON charter-audit can compare with a binary: {0}")]
pub struct SbomUnreadable(String);

/// One Cargo package as both sides are compared: name, version, source kind.
type Key = (String, String, String);

/// The dependency kind an SBOM component records, when it records one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Normal,
    Build,
    /// Not recorded (an SBOM read from Cargo.lock, another tool's): either kind matches.
    Unknown,
}

/// Compares the binary's list with the SBOM (CycloneDX JSON, 1.4 to 1.6).
pub fn compare(binary: &Embedded, sbom: &[u8]) -> Result<BinaryMatch, SbomUnreadable> {
    let listed = sbom_packages(sbom)?;
    // By package, the kinds the SBOM gives it: a lookup per package, whatever the SBOM's size.
    let mut kinds: std::collections::HashMap<&Key, Vec<Kind>> = std::collections::HashMap::new();
    for (key, kind) in &listed {
        kinds.entry(key).or_default().push(*kind);
    }
    let mut shipped: [BTreeSet<Key>; 2] = Default::default();
    for package in &binary.packages {
        let key = (
            package.name.clone(),
            package.version.to_string(),
            package.source.kind().to_owned(),
        );
        let at = usize::from(package.reach == super::Reach::Build);
        shipped[at].insert(key);
    }
    let in_sbom = |key: &Key, kind: Kind| {
        kinds
            .get(key)
            .is_some_and(|of| of.iter().any(|o| *o == kind || *o == Kind::Unknown))
    };
    let in_binary = |key: &Key, kind: Kind| match kind {
        Kind::Normal => shipped[0].contains(key),
        Kind::Build => shipped[1].contains(key),
        Kind::Unknown => shipped.iter().any(|s| s.contains(key)),
    };
    let mut normal = Differences::default();
    let mut build = Differences::default();
    for (kind, set, out) in [
        (Kind::Normal, &shipped[0], &mut normal),
        (Kind::Build, &shipped[1], &mut build),
    ] {
        out.only_in_binary = set
            .iter()
            .filter(|key| !in_sbom(key, kind))
            .map(show)
            .collect();
    }
    for (key, kind) in &listed {
        if !in_binary(key, *kind) {
            let out = if *kind == Kind::Build {
                &mut build
            } else {
                &mut normal
            };
            out.only_in_sbom.push(show(key));
        }
    }
    for d in [&mut normal, &mut build] {
        d.only_in_sbom.sort();
        d.only_in_sbom.dedup();
    }
    let exact = [&normal, &build]
        .iter()
        .all(|d| d.only_in_binary.is_empty() && d.only_in_sbom.is_empty());
    Ok(BinaryMatch {
        subject: binary.file.file_name.clone(),
        product: binary
            .root
            .and_then(|r| binary.packages.get(r))
            .map(super::Package::display),
        result: if exact {
            MatchResult::Exact
        } else {
            MatchResult::Differs
        },
        normal,
        build,
    })
}

fn show((name, version, source): &Key) -> String {
    crate::text::clean(&format!("{name} {version} ({source})"))
}

/// The SBOM's Cargo components (the subject included), with the dependency kind each records;
/// dev-dependencies, which never ship, are left out.
fn sbom_packages(sbom: &[u8]) -> Result<Vec<(Key, Kind)>, SbomUnreadable> {
    let bom: serde_json::Value =
        serde_json::from_slice(sbom).map_err(|e| SbomUnreadable(e.to_string()))?;
    if bom.get("bomFormat").and_then(|f| f.as_str()) != Some("CycloneDX") {
        return Err(SbomUnreadable("no `bomFormat: CycloneDX`".to_owned()));
    }
    let mut out = Vec::new();
    let mut stack: Vec<&serde_json::Value> = Vec::new();
    stack.extend(bom.pointer("/metadata/component"));
    stack.extend(bom["components"].as_array().into_iter().flatten());
    // Nested components, to a bounded depth: the parse itself bounds the document.
    let mut seen = 0usize;
    while let Some(component) = stack.pop() {
        seen += 1;
        if seen > 1_000_000 {
            return Err(SbomUnreadable("more than a million components".to_owned()));
        }
        stack.extend(component["components"].as_array().into_iter().flatten());
        if let Some(entry) = cargo_package(component) {
            out.push(entry);
        }
    }
    Ok(out)
}

/// A component's name, version, source kind and dependency kind, if it is a Cargo package
/// (a `pkg:cargo/` purl) that ships (not a dev-dependency).
fn cargo_package(component: &serde_json::Value) -> Option<(Key, Kind)> {
    let purl = component["purl"].as_str()?;
    let parsed: packageurl::PackageUrl<'_> = purl.parse().ok()?;
    if parsed.ty() != "cargo" {
        return None;
    }
    let property = |name: &str| {
        component["properties"]
            .as_array()?
            .iter()
            .find(|p| p["name"] == name)?
            .get("value")?
            .as_str()
    };
    let kind = match property("charter-audit:dependency-kind") {
        Some("normal") => Kind::Normal,
        Some("build") => Kind::Build,
        Some("dev") => return None,
        _ => Kind::Unknown,
    };
    // The purl is what the audit judges a component by; a property or `version` field that
    // says otherwise makes the component match nothing the binary holds (so a package hidden
    // behind a contradicting field is reported, never counted as listed).
    let mut source = source_of_purl(&parsed).to_owned();
    // (An `other` source's purl names its repository: a registry, to the embedded list.)
    let agrees = |said: &str| said == source || (said == "other" && source == "registry");
    if let Some(said) = property("charter-audit:source").filter(|said| !agrees(said)) {
        source = format!("{source}, though the SBOM's property says {said}");
    }
    let mut version = parsed.version()?.to_owned();
    if let Some(said) = component["version"]
        .as_str()
        .filter(|said| *said != version)
    {
        version = format!("{version}, though its version field says {said}");
    }
    Some(((parsed.name().to_owned(), version, source), kind))
}

/// The source kind a Cargo purl names: crates.io unless a qualifier says otherwise.
fn source_of_purl(purl: &packageurl::PackageUrl<'_>) -> &'static str {
    let qualifiers = purl.qualifiers();
    let get = |key: &str| {
        qualifiers
            .iter()
            .find(|(k, _)| k.as_ref() == key)
            .map(|(_, v)| v.as_ref())
    };
    if get("vcs_url").is_some() {
        "git"
    } else if get("download_url").is_some_and(|u| u.starts_with("file:")) {
        "path"
    } else if get("repository_url").is_some() {
        "registry"
    } else {
        match get("source") {
            Some("path") => "path",
            Some("git") => "git",
            Some("registry") => "registry",
            _ => "crates.io",
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// The embedded list of a product `app` needing `a` (normal) and `b` (build).
    fn binary() -> Embedded {
        let json = r#"{"packages":[
            {"name":"app","version":"1.0.0","source":"local","dependencies":[1,2],"root":true},
            {"name":"a","version":"1.0.0","source":"crates.io"},
            {"name":"b","version":"2.0.0","source":"git","kind":"build"}]}"#;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut z, json.as_bytes()).unwrap();
        let payload = z.finish().unwrap();
        // A WebAssembly module with the custom section `.dep-v0`, as cargo auditable writes it.
        let mut body = vec![7u8];
        body.extend_from_slice(b".dep-v0");
        body.extend_from_slice(&payload);
        let mut module = b"\0asm\x01\0\0\0\0".to_vec();
        let mut len = body.len();
        loop {
            let byte = (len & 0x7f) as u8;
            len >>= 7;
            module.push(if len > 0 { byte | 0x80 } else { byte });
            if len == 0 {
                break;
            }
        }
        module.extend_from_slice(&body);
        super::super::binary::parse(Path::new("app.wasm"), &module, false).unwrap()
    }

    fn sbom(components: &str) -> Vec<u8> {
        format!(r#"{{"bomFormat":"CycloneDX","metadata":{{"component":{{"name":"app","purl":"pkg:cargo/app@1.0.0?source=path"}}}},"components":[{components}]}}"#).into_bytes()
    }

    #[test]
    fn kinds_known_only_by_purl_or_not_at_all_still_match() {
        // No properties: the source from the purl, either dependency kind; a dev-dependency
        // is never compared.
        let sbom = sbom(
            r#"{"name":"a","purl":"pkg:cargo/a@1.0.0"},
               {"name":"b","purl":"pkg:cargo/b@2.0.0?vcs_url=git%2Bhttps://x/b@abc"},
               {"name":"t","purl":"pkg:cargo/t@1.0.0","properties":[{"name":"charter-audit:dependency-kind","value":"dev"}]}"#,
        );
        let m = compare(&binary(), &sbom).unwrap();
        assert_eq!(m.result, MatchResult::Exact, "{m:?}");
        assert_eq!(m.product.as_deref(), Some("app 1.0.0"));
    }

    #[test]
    fn a_kind_recorded_otherwise_is_a_difference_on_both_sides() {
        let sbom = sbom(
            r#"{"name":"a","purl":"pkg:cargo/a@1.0.0","properties":[{"name":"charter-audit:dependency-kind","value":"build"}]},
               {"name":"b","purl":"pkg:cargo/b@2.0.0?source=git","properties":[{"name":"charter-audit:dependency-kind","value":"build"}]},
               {"name":"npm","purl":"pkg:npm/left-pad@1.0.0"}"#,
        );
        let m = compare(&binary(), &sbom).unwrap();
        assert_eq!(m.normal.only_in_binary, ["a 1.0.0 (crates.io)"]);
        assert_eq!(m.build.only_in_sbom, ["a 1.0.0 (crates.io)"]);
        assert!(m.build.only_in_binary.is_empty());
        assert_eq!(m.hidden().count(), 1);
        assert_eq!(
            m.lines()[0],
            "app.wasm: a 1.0.0 (crates.io) (normal) is compiled in, but not in the SBOM"
        );
    }

    #[test]
    fn what_is_not_cyclonedx_is_refused() {
        assert!(compare(&binary(), b"{}").is_err());
        assert!(compare(&binary(), b"not json").is_err());
    }
}
