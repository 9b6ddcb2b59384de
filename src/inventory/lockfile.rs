//! The inventory from `Cargo.lock` alone (formats v1 to v4): no cargo, no network.
//!
//! A lockfile records packages, sources, checksums and edges, but not dependency kinds, targets
//! or features, so every locked package is included and the composition is `unknown`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use cargo_lock::{Lockfile, ResolveVersion};

use super::metadata::sort_key;
use super::{Inventory, ManifestInfo, Origin, Package, PackageSource, Product, Reach};

/// Why a lockfile could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LockfileError {
    #[error(
        "no Cargo.lock at {}: run `cargo generate-lockfile` in the workspace and commit Cargo.lock",
        .0.display()
    )]
    NotFound(PathBuf),
    #[error("could not read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: Cargo.lock does not parse: {message}", .path.display())]
    Parse { path: PathBuf, message: String },
    #[error("{}: {message}", .path.display())]
    Invalid { path: PathBuf, message: String },
}

/// Checksums by `(name, version)`: each candidate's source string and SHA-256 hex.
pub(crate) type Checksums = HashMap<(String, String), Vec<(Option<String>, String)>>;

/// Reads and parses a lockfile.
pub(crate) fn load(path: &Path) -> Result<Lockfile, LockfileError> {
    let text = std::fs::read_to_string(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            LockfileError::NotFound(path.to_path_buf())
        } else {
            LockfileError::Read {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    text.parse::<Lockfile>()
        .map_err(|error| LockfileError::Parse {
            path: path.to_path_buf(),
            message: one_line(&error.to_string()),
        })
}

/// The checksums recorded in a lockfile (for the cargo metadata inventory, which lacks them).
pub(crate) fn checksums(path: &Path) -> Result<Checksums, LockfileError> {
    let lockfile = load(path)?;
    let mut out: Checksums = HashMap::new();
    for package in &lockfile.packages {
        if let Some(sum) = package.checksum.as_ref().and_then(|c| c.as_sha256()) {
            out.entry((package.name.to_string(), package.version.to_string()))
                .or_default()
                .push((
                    package.source.as_ref().map(|s| s.to_string()),
                    hex::encode(sum),
                ));
        }
    }
    Ok(out)
}

/// Builds the inventory from a lockfile. `fallback_reason` says why cargo was not used.
pub fn inventory(
    path: &Path,
    product: Option<&str>,
    fallback_reason: Option<String>,
) -> Result<Inventory, LockfileError> {
    let lockfile = load(path)?;
    let version = match lockfile.version {
        ResolveVersion::V1 => 1,
        ResolveVersion::V2 => 2,
        ResolveVersion::V3 => 3,
        _ => 4,
    };
    let mut packages: Vec<Package> = lockfile
        .packages
        .iter()
        .map(|locked| Package {
            name: locked.name.to_string(),
            version: locked.version.clone(),
            source: PackageSource::parse(locked.source.as_ref().map(|s| s.to_string()).as_deref()),
            checksum: locked
                .checksum
                .as_ref()
                .and_then(|c| c.as_sha256())
                .map(hex::encode),
            manifest: ManifestInfo::default(),
            // Path packages are the workspace's own (or path dependencies): Cargo.lock cannot
            // tell them apart.
            workspace_member: locked.source.is_none(),
            reach: Reach::Unknown,
            dependencies: Vec::new(),
        })
        .collect();
    let mut order: Vec<usize> = (0..packages.len()).collect();
    order.sort_by(|&a, &b| sort_key(&packages[a]).cmp(&sort_key(&packages[b])));
    let mut position = vec![0; packages.len()];
    for (new, &old) in order.iter().enumerate() {
        position[old] = new;
    }

    // Edges: a dependency names a package by name, and by version and source when ambiguous.
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, locked) in lockfile.packages.iter().enumerate() {
        by_name.entry(locked.name.as_str()).or_default().push(i);
    }
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); packages.len()];
    for (from, locked) in lockfile.packages.iter().enumerate() {
        for dep in &locked.dependencies {
            let candidates = by_name
                .get(dep.name.as_str())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let found = candidates.iter().copied().find(|&c| {
                let target = &lockfile.packages[c];
                target.version == dep.version
                    && (dep.source.is_none() || dep.source == target.source)
            });
            let found = found.or_else(|| {
                let same_version: Vec<usize> = candidates
                    .iter()
                    .copied()
                    .filter(|&c| lockfile.packages[c].version == dep.version)
                    .collect();
                (same_version.len() == 1).then(|| same_version[0])
            });
            match found {
                Some(to) => edges[from].push(position[to]),
                None => {
                    return Err(LockfileError::Invalid {
                        path: path.to_path_buf(),
                        message: format!(
                            "package `{} {}` depends on `{} {}`, which the lockfile does not \
                             contain; regenerate it with `cargo generate-lockfile`",
                            locked.name, locked.version, dep.name, dep.version
                        ),
                    });
                }
            }
        }
    }
    let mut sorted: Vec<Package> = Vec::with_capacity(packages.len());
    for &old in &order {
        let mut deps = std::mem::take(&mut edges[old]);
        deps.sort_unstable();
        deps.dedup();
        let mut package = std::mem::replace(&mut packages[old], placeholder());
        package.dependencies = deps;
        sorted.push(package);
    }

    let mut warnings = Vec::new();
    let product = choose_product(&sorted, product, path, &mut warnings);
    Ok(Inventory {
        origin: Origin::Lockfile {
            version,
            fallback_reason,
        },
        packages: sorted,
        product,
        warnings,
    })
}

fn placeholder() -> Package {
    Package {
        name: String::new(),
        version: semver::Version::new(0, 0, 0),
        source: PackageSource::Path { path: None },
        checksum: None,
        manifest: ManifestInfo::default(),
        workspace_member: false,
        reach: Reach::Unknown,
        dependencies: Vec::new(),
    }
}

/// `--product NAME` among the path packages, else the one path package nothing depends on,
/// else a named application made of every such root, with a warning.
fn choose_product(
    packages: &[Package],
    requested: Option<&str>,
    lockfile: &Path,
    warnings: &mut Vec<String>,
) -> Product {
    let mut depended = vec![false; packages.len()];
    for package in packages {
        for &dep in &package.dependencies {
            depended[dep] = true;
        }
    }
    let local: Vec<usize> = (0..packages.len())
        .filter(|&i| packages[i].workspace_member)
        .collect();
    let roots: Vec<usize> = local.iter().copied().filter(|&i| !depended[i]).collect();
    if let Some(name) = requested {
        if let Some(&found) = local.iter().find(|&&i| packages[i].name == name) {
            return Product::Member(found);
        }
        return Product::Synthetic {
            name: name.to_owned(),
            version: None,
            dependencies: roots,
        };
    }
    if let [only] = roots[..] {
        return Product::Member(only);
    }
    let name = product_name_from_path(lockfile);
    warnings.push(format!(
        "{}: {} workspace packages depend on no other, so the SBOM describes an application \
         `{name}` made of them; pass --product NAME to name the product",
        lockfile.display(),
        roots.len()
    ));
    Product::Synthetic {
        name,
        version: None,
        dependencies: roots,
    }
}

/// `nushell-2026-08.Cargo.lock` gives `nushell-2026-08`; `app/Cargo.lock` gives `app`.
fn product_name_from_path(path: &Path) -> String {
    let file = path.file_name().map(|n| n.to_string_lossy().into_owned());
    if let Some(stem) = file.as_deref().and_then(|f| f.strip_suffix(".Cargo.lock")) {
        return stem.to_owned();
    }
    path.canonicalize()
        .ok()
        .and_then(|p| {
            p.parent()
                .and_then(|d| d.file_name())
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "product".to_owned())
}

/// Whether every dependency the workspace declares has a locked package that satisfies it:
/// the check that keeps an out-of-date lockfile from standing in for cargo.
pub(crate) fn covers(
    path: &Path,
    declared: &std::collections::BTreeMap<String, Vec<(String, semver::VersionReq)>>,
) -> Result<Option<String>, LockfileError> {
    let lockfile = load(path)?;
    for (member, deps) in declared {
        if !lockfile.packages.iter().any(|p| p.name.as_str() == member) {
            return Ok(Some(format!("workspace member `{member}` is not in it")));
        }
        for (name, req) in deps {
            let satisfied = lockfile
                .packages
                .iter()
                .any(|p| p.name.as_str() == name && req.matches(&p.version));
            if !satisfied {
                return Ok(Some(format!(
                    "`{member}` needs `{name} {req}`, which it does not lock"
                )));
            }
        }
    }
    Ok(None)
}

/// toml's errors span several lines (position, a snippet with a caret, the problem); keep the
/// position and the problem: `TOML parse error at line 5, column 14: invalid float`.
fn one_line(message: &str) -> String {
    let message = message.strip_prefix("parse error: ").unwrap_or(message);
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
