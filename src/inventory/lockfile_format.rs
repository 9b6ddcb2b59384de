//! `Cargo.lock`, formats v1 to v4, parsed with serde and resolved in linear time.
//!
//! The `cargo-lock` crate resolves each dependency by scanning every package, which took 2.9 s
//! on a 20,000-package lockfile; this reader indexes packages by name instead. It also keeps
//! toml's line and column in its errors.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

mod canonical;

/// A parsed lockfile.
#[derive(Debug)]
pub(crate) struct Locked {
    /// The format version, 1 to 4.
    pub version: u32,
    pub packages: Vec<LockedPackage>,
}

/// One `[[package]]` entry, with its dependencies resolved to indices into `packages`.
#[derive(Debug)]
pub(crate) struct LockedPackage {
    pub name: String,
    pub version: semver::Version,
    pub source: Option<String>,
    /// SHA-256, lower-case hex.
    pub checksum: Option<String>,
    pub dependencies: Vec<usize>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawLockfile {
    version: Option<u32>,
    #[serde(default)]
    package: Vec<RawPackage>,
    /// Format v1 only: the root package, in the oldest lockfiles.
    root: Option<RawPackage>,
    /// Format v1: `"checksum NAME VERSION (SOURCE)" = "HEX"`.
    #[serde(default)]
    metadata: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
struct RawPackage {
    /// With its place in the text, for the error about a name that is not a crate name.
    name: toml::Spanned<String>,
    version: String,
    source: Option<String>,
    checksum: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

/// A dependency as written: `name`, `name version`, or `name version (source)`.
struct DepRef<'a> {
    name: &'a str,
    version: Option<&'a str>,
    source: Option<&'a str>,
}

fn dep_ref(text: &str) -> DepRef<'_> {
    let mut parts = text.splitn(3, ' ');
    let name = parts.next().unwrap_or_default();
    let version = parts.next();
    let source = parts
        .next()
        .map(|s| s.trim_start_matches('(').trim_end_matches(')'));
    DepRef {
        name,
        version,
        source,
    }
}

/// The longest crate name a registry accepts (crates.io's limit).
const MAX_REGISTRY_NAME_LEN: usize = 64;

/// Refuses a package name cargo would not accept. A name is later a path in a registry index
/// (`re/ge/regex`) and a file name: a registry package's name is ASCII letters, digits, `-` and
/// `_`, at most 64 long (crates.io's rule); any other package's is letters, digits, `-` and `_`
/// (cargo allows Unicode letters for local packages). The error names the line.
fn check_name(text: &str, p: &RawPackage) -> Result<(), String> {
    let name = p.name.get_ref();
    let from_registry = p
        .source
        .as_deref()
        .is_some_and(|s| s.starts_with("registry+") || s.starts_with("sparse+"));
    let valid = if from_registry {
        name.len() <= MAX_REGISTRY_NAME_LEN
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    } else {
        name.chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    };
    if !name.is_empty() && valid {
        return Ok(());
    }
    let line = text
        .get(..p.name.span().start)
        .map_or(0, |before| before.matches('\n').count() + 1);
    let rule = if from_registry {
        "a registry crate's name is ASCII letters, digits, `-` and `_`, at most 64 characters"
    } else {
        "a package name is letters, digits, `-` and `_`"
    };
    Err(format!(
        "line {line}: package name {:?} is not a crate name cargo accepts ({rule})",
        name.chars().take(80).collect::<String>()
    ))
}

/// Parses and resolves a lockfile's text. Errors are one line, with toml's position.
pub(crate) fn parse(text: &str) -> Result<Locked, String> {
    let raw: RawLockfile = match canonical::parse(text) {
        Some(raw) => raw,
        None => toml::from_str(text).map_err(|e| one_line(&e.to_string()))?,
    };
    let version = format_version(&raw)?;
    let v1_checksums: HashMap<&str, &str> = raw
        .metadata
        .iter()
        .filter_map(|(key, value)| Some((key.strip_prefix("checksum ")?, value.as_str()?)))
        .collect();
    let raws: Vec<&RawPackage> = raw.package.iter().chain(raw.root.as_ref()).collect();
    let mut packages = Vec::with_capacity(raws.len());
    for p in &raws {
        packages.push(locked_package(text, p, &v1_checksums)?);
    }
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::with_capacity(raws.len());
    for (i, p) in raws.iter().enumerate() {
        by_name
            .entry(p.name.get_ref().as_str())
            .or_default()
            .push(i);
    }
    for (from, p) in raws.iter().enumerate() {
        packages[from].dependencies = dependencies(p, &raws, &by_name)?;
    }
    Ok(Locked { version, packages })
}

/// The format version: as written, or for a lockfile without one, 1 when it has v1's
/// checksums or sources in its dependency entries, else 2.
fn format_version(raw: &RawLockfile) -> Result<u32, String> {
    Ok(match raw.version {
        Some(v @ 1..=4) => v,
        Some(v) => {
            return Err(format!(
                "lockfile format version {v} is not one this tool reads (1 to 4): update charter-audit"
            ));
        }
        None if raw.metadata.keys().any(|k| k.starts_with("checksum ")) => 1,
        None if raw
            .package
            .iter()
            .any(|p| p.dependencies.iter().any(|d| d.contains(" ("))) =>
        {
            1
        }
        None => 2,
    })
}

/// One package entry, checked (name, semver version, SHA-256 checksum), its dependencies not
/// yet resolved. A v1 lockfile keeps checksums in `[metadata]`.
fn locked_package(
    text: &str,
    p: &RawPackage,
    v1_checksums: &HashMap<&str, &str>,
) -> Result<LockedPackage, String> {
    check_name(text, p)?;
    let version = semver::Version::parse(&p.version).map_err(|e| {
        format!(
            "package `{}` has version `{}`, which is not semver: {e}",
            p.name.get_ref(),
            p.version
        )
    })?;
    let mut checksum = p.checksum.clone();
    if checksum.is_none() {
        let key = match &p.source {
            Some(source) => format!("{} {} ({source})", p.name.get_ref(), p.version),
            None => format!("{} {}", p.name.get_ref(), p.version),
        };
        checksum = v1_checksums.get(key.as_str()).map(|s| (*s).to_owned());
    }
    let checksum = checksum.filter(|c| c != "<none>");
    if let Some(sum) = &checksum
        && (sum.len() != 64 || !sum.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(format!(
            "package `{} {}` has checksum `{sum}`, which is not a SHA-256 in hex",
            p.name.get_ref(),
            p.version
        ));
    }
    Ok(LockedPackage {
        name: p.name.get_ref().clone(),
        version,
        source: p.source.clone(),
        checksum: checksum.map(|c| c.to_ascii_lowercase()),
        dependencies: Vec::new(),
    })
}

/// A package's dependencies, each resolved to the one package of `raws` it names (by name,
/// and by version and source when written), sorted and without repeats.
fn dependencies(
    p: &RawPackage,
    raws: &[&RawPackage],
    by_name: &HashMap<&str, Vec<usize>>,
) -> Result<Vec<usize>, String> {
    let mut deps = Vec::with_capacity(p.dependencies.len());
    for text in &p.dependencies {
        let dep = dep_ref(text);
        let candidates = by_name.get(dep.name).map(Vec::as_slice).unwrap_or(&[]);
        // The first two that match, not a list of them all: one is the answer, two an error.
        let mut matching = candidates
            .iter()
            .copied()
            .filter(|&c| dep.version.is_none_or(|v| raws[c].version == v))
            .filter(|&c| {
                dep.source
                    .is_none_or(|s| same_source(s, raws[c].source.as_deref()))
            });
        match (matching.next(), matching.next()) {
            (Some(only), None) => deps.push(only),
            (None, _) => {
                return Err(format!(
                    "package `{} {}` depends on `{text}`, which the lockfile does not contain: regenerate it with `cargo generate-lockfile`",
                    p.name.get_ref(),
                    p.version
                ));
            }
            (Some(_), Some(_)) => {
                return Err(format!(
                    "package `{} {}` depends on `{text}`, which matches several packages",
                    p.name.get_ref(),
                    p.version
                ));
            }
        }
    }
    deps.sort_unstable();
    deps.dedup();
    Ok(deps)
}

/// A dependency's source names its package's source; for git, dependency entries may lack the
/// `#commit` fragment that the package entry carries.
fn same_source(dep: &str, package: Option<&str>) -> bool {
    let Some(package) = package else {
        return false;
    };
    let strip = |s: &str| s.split('#').next().unwrap_or(s).to_owned();
    dep == package || strip(dep) == strip(package)
}

/// toml's errors span several lines (position, a snippet with a caret, the problem); keep the
/// position and the problem: `TOML parse error at line 5, column 14: invalid float`.
fn one_line(message: &str) -> String {
    let lines: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let problem: Vec<&str> = lines
        .iter()
        .skip(1)
        .filter(|l| !l.contains('|'))
        .copied()
        .collect();
    match lines.first() {
        Some(first) if problem.is_empty() => (*first).to_owned(),
        Some(first) => format!("{first}: {}", problem.join(" ")),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_checksums_and_qualified_dependencies() {
        let text = r#"
[[package]]
name = "a"
version = "1.0.0"
dependencies = [
 "b 2.0.0 (registry+https://github.com/rust-lang/crates.io-index)",
 "c 0.1.0 (git+https://example.org/c?rev=1)",
]

[[package]]
name = "b"
version = "2.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "c"
version = "0.1.0"
source = "git+https://example.org/c?rev=1#0123456789abcdef"

[metadata]
"checksum b 2.0.0 (registry+https://github.com/rust-lang/crates.io-index)" = "AB00000000000000000000000000000000000000000000000000000000000000"
"#;
        let locked = parse(text).unwrap();
        assert_eq!(locked.version, 1);
        assert_eq!(locked.packages[0].dependencies, [1, 2]);
        assert_eq!(
            locked.packages[1].checksum.as_deref(),
            Some("ab00000000000000000000000000000000000000000000000000000000000000")
        );
    }

    #[test]
    fn two_versions_of_one_name_are_told_apart() {
        let text = r#"
version = 4
[[package]]
name = "app"
version = "0.1.0"
dependencies = ["dup 1.0.0", "dup 2.0.0"]
[[package]]
name = "dup"
version = "1.0.0"
[[package]]
name = "dup"
version = "2.0.0"
"#;
        let locked = parse(text).unwrap();
        assert_eq!(locked.version, 4);
        assert_eq!(locked.packages[0].dependencies, [1, 2]);
    }

    #[test]
    fn errors_name_the_problem() {
        let err = parse("version = 4\n[[package]]\nname = \"a\"\nversion = 1.0\n").unwrap_err();
        assert!(
            err.starts_with("TOML parse error at line 4, column 11"),
            "{err}"
        );
        let err = parse("version = 9\n").unwrap_err();
        assert!(err.contains("format version 9"), "{err}");
        let err = parse("version = 4\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\ndependencies = [\"ghost\"]\n").unwrap_err();
        assert!(err.contains("depends on `ghost`"), "{err}");
        let err = parse(
            "version = 4\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nchecksum = \"xyz\"\n",
        )
        .unwrap_err();
        assert!(err.contains("not a SHA-256"), "{err}");
    }
}
