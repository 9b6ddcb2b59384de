//! A package of any ecosystem, named by its package URL (purl): what a supplier's SBOM lists,
//! and what advisory databases other than RustSec are asked about. Here belongs only what
//! identifies a package (its OSV ecosystem, its name as OSV writes it, whether it comes from a
//! private source); matching it against advisories is the advisories stage's work.

use std::str::FromStr;

/// An OSV ecosystem (<https://ossf.github.io/osv-schema/#affectedpackage-field>): the ones this
/// tool knows by name, and any other an OSV record names, kept as written. Ordered and written
/// as OSV writes the name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ecosystem {
    CratesIo,
    Npm,
    PyPi,
    Maven,
    Go,
    RubyGems,
    NuGet,
    Packagist,
    Hex,
    Pub,
    /// An ecosystem this tool has no version order or purl type for (`Debian:12`...).
    Other(String),
}

impl Ecosystem {
    /// Every ecosystem this tool knows by name.
    const KNOWN: [Ecosystem; 10] = [
        Ecosystem::CratesIo,
        Ecosystem::Npm,
        Ecosystem::PyPi,
        Ecosystem::Maven,
        Ecosystem::Go,
        Ecosystem::RubyGems,
        Ecosystem::NuGet,
        Ecosystem::Packagist,
        Ecosystem::Hex,
        Ecosystem::Pub,
    ];

    /// The ecosystem OSV names `name`.
    pub fn parse(name: &str) -> Ecosystem {
        Ecosystem::KNOWN
            .into_iter()
            .find(|e| e.as_str() == name)
            .unwrap_or_else(|| Ecosystem::Other(name.to_owned()))
    }

    /// Its name as OSV writes it (`crates.io`, `PyPI`).
    pub fn as_str(&self) -> &str {
        match self {
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPi => "PyPI",
            Ecosystem::Maven => "Maven",
            Ecosystem::Go => "Go",
            Ecosystem::RubyGems => "RubyGems",
            Ecosystem::NuGet => "NuGet",
            Ecosystem::Packagist => "Packagist",
            Ecosystem::Hex => "Hex",
            Ecosystem::Pub => "Pub",
            Ecosystem::Other(name) => name,
        }
    }
}

impl std::fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialOrd for Ecosystem {
    fn partial_cmp(&self, other: &Ecosystem) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ecosystem {
    /// By name, as OSV writes it.
    fn cmp(&self, other: &Ecosystem) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl serde::Serialize for Ecosystem {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Ecosystem {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(Ecosystem::parse(&name))
    }
}

/// One component of a supplier's SBOM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Component {
    pub name: String,
    pub version: String,
    pub purl: Option<String>,
    /// The OSV ecosystem its purl type names, when there is one.
    pub ecosystem: Option<Ecosystem>,
    /// Why it is not to be checked at all, when it is not (a private source).
    pub private: Option<String>,
    /// Its name as the SBOM wrote it (before purl normalisation), for `private` patterns.
    pub raw_name: String,
}

impl Component {
    /// A component as an SBOM names it: `raw_name`, the `version` it states (or else its
    /// purl's), and its `purl`, from which its ecosystem and OSV name are taken unless it names
    /// a private source.
    pub fn identify(raw_name: &str, version: Option<&str>, purl: Option<&str>) -> Component {
        let parsed = purl.and_then(|p| packageurl::PackageUrl::from_str(p).ok());
        let version = version
            .map(str::to_owned)
            .or_else(|| parsed.as_ref().and_then(|p| p.version().map(str::to_owned)))
            .unwrap_or_default();
        let private = parsed
            .as_ref()
            .and_then(names_its_own_source)
            .or_else(|| names_a_local_version(&version));
        let identified = parsed
            .as_ref()
            .filter(|_| private.is_none())
            .and_then(ecosystem_of);
        Component {
            name: identified
                .as_ref()
                .map(|(_, name)| name.clone())
                .unwrap_or_else(|| raw_name.to_owned()),
            version,
            purl: purl.map(str::to_owned),
            ecosystem: identified.map(|(ecosystem, _)| ecosystem),
            private,
            raw_name: raw_name.to_owned(),
        }
    }
}

/// Why a purl that names where a package comes from other than its public registry (a
/// repository_url, a path, a VCS) is not one the public databases describe.
fn names_its_own_source(purl: &packageurl::PackageUrl<'_>) -> Option<String> {
    purl.qualifiers()
        .keys()
        .find(|k| matches!(k.as_ref(), "repository_url" | "download_url" | "vcs_url"))
        .map(|k| {
            format!(
                "its purl names its own source ({k}): a private or local package, which public advisory databases do not describe"
            )
        })
}

/// Why a version that is a path, a link or a repository (npm's `file:`, `git+ssh://...`, Go's
/// `(devel)`) names a local or private source: never sent, never matched.
fn names_a_local_version(version: &str) -> Option<String> {
    let v = version.to_ascii_lowercase();
    let local = [
        "file:",
        "link:",
        "git+",
        "git:",
        "github:",
        "http:",
        "https:",
        "ssh:",
        "workspace:",
        "portal:",
    ]
    .iter()
    .any(|p| v.starts_with(p))
        || v.contains("://")
        || v == "(devel)";
    local.then(|| {
        "its version names a local or private source (a path, link or repository): never sent to or matched against public databases".to_owned()
    })
}

/// The OSV ecosystem of a purl type, and the package name OSV uses for it.
pub fn ecosystem_of(purl: &packageurl::PackageUrl<'_>) -> Option<(Ecosystem, String)> {
    let name = purl.name().to_owned();
    let namespaced = |separator: &str| match purl.namespace() {
        Some(ns) if !ns.is_empty() => format!("{ns}{separator}{name}"),
        _ => name.clone(),
    };
    Some(match purl.ty() {
        "cargo" => (Ecosystem::CratesIo, name.clone()),
        "npm" => (Ecosystem::Npm, namespaced("/")),
        "pypi" => (Ecosystem::PyPi, name.clone()),
        "maven" => (Ecosystem::Maven, namespaced(":")),
        "golang" => (Ecosystem::Go, namespaced("/")),
        "gem" => (Ecosystem::RubyGems, name.clone()),
        "nuget" => (Ecosystem::NuGet, name.clone()),
        "composer" => (Ecosystem::Packagist, namespaced("/")),
        "hex" => (Ecosystem::Hex, name.clone()),
        "pub" => (Ecosystem::Pub, name.clone()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_component_from_a_private_source_is_never_identified() {
        let own = Component::identify(
            "internal",
            None,
            Some("pkg:npm/internal@1.0.0?repository_url=https://npm.example.org"),
        );
        assert_eq!((own.ecosystem, own.version.as_str()), (None, "1.0.0"));
        assert!(own.private.is_some_and(|p| p.contains("repository_url")));
        let local = Component::identify("x", Some("file:../x"), Some("pkg:npm/x"));
        assert_eq!(local.ecosystem, None);
        assert!(local.private.is_some());
        let public = Component::identify("Guava", Some("30.0"), Some("pkg:maven/com.google/guava"));
        assert_eq!(public.name, "com.google:guava");
        assert_eq!(public.ecosystem, Some(Ecosystem::Maven));
        assert_eq!((public.raw_name.as_str(), public.private), ("Guava", None));
    }
}
