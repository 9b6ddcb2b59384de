//! The inventory from `cargo metadata`: the resolved graph for one target and feature set.

use std::collections::HashMap;
use std::path::Path;

use cargo_metadata::{DependencyKind, Metadata, PackageId};

use super::cargo::{self, CargoError, MetadataArgs};
use super::graph::{self, EdgeKinds};
use super::{
    Inventory, InventoryOptions, ManifestInfo, Origin, Package, PackageSource, Product, Target,
    lockfile,
};

/// Runs cargo metadata on `manifest` and builds the inventory.
pub fn inventory(manifest: &Path, options: &InventoryOptions) -> Result<Inventory, CargoError> {
    let rustc = cargo::rustc_info(manifest)?;
    let filter_platform = match &options.target {
        Target::Host => Some(rustc.host.as_str()),
        Target::Triple(triple) => Some(triple.as_str()),
        Target::All => None,
    };
    let metadata = cargo::metadata(&MetadataArgs {
        manifest,
        features: &options.features,
        filter_platform,
        offline: options.offline,
        no_deps: false,
    })?;
    let lock_path = metadata.workspace_root.as_std_path().join("Cargo.lock");
    let checksums = lockfile::checksums(&lock_path).map_err(|e| CargoError::Lockfile {
        path: lock_path.clone(),
        message: e.to_string(),
    })?;
    from_metadata(
        &metadata,
        &checksums,
        Origin::CargoMetadata {
            rustc,
            target: options.target.clone(),
            features: options.features.clone(),
            include_dev: options.include_dev,
        },
        options.include_dev,
        options.product.as_deref(),
    )
}

fn without_userinfo(url: &str) -> String {
    super::source::strip_userinfo(url).0
}

/// One warning for each place a credential was found in a URL: the lockfile (package sources),
/// and each manifest (its repository, homepage or documentation link).
fn credential_warnings(metadata: &Metadata) -> Vec<String> {
    let has_credential = |url: Option<&str>| url.is_some_and(super::source::carries_credential);
    let mut warnings = Vec::new();
    if metadata
        .packages
        .iter()
        .any(|pkg| has_credential(pkg.source.as_ref().map(|s| s.repr.as_str())))
    {
        let lockfile = metadata.workspace_root.as_std_path().join("Cargo.lock");
        warnings.push(super::source::credential_warning(
            &lockfile.display().to_string(),
        ));
    }
    let mut manifests: Vec<String> = metadata
        .packages
        .iter()
        .filter(|pkg| {
            [&pkg.repository, &pkg.homepage, &pkg.documentation]
                .into_iter()
                .any(|url| has_credential(url.as_deref()))
        })
        .map(|pkg| format!("the manifest of {} {}", pkg.name, pkg.version))
        .collect();
    manifests.sort();
    manifests.dedup();
    warnings.extend(
        manifests
            .iter()
            .map(|m| super::source::credential_warning(m)),
    );
    warnings
}

/// Builds the inventory from parsed metadata (separate from running cargo, for tests).
pub(crate) fn from_metadata(
    metadata: &Metadata,
    checksums: &lockfile::Checksums,
    origin: Origin,
    include_dev: bool,
    product: Option<&str>,
) -> Result<Inventory, CargoError> {
    let workspace_root = metadata.workspace_root.as_std_path();
    let resolve = metadata
        .resolve
        .as_ref()
        .ok_or_else(|| CargoError::MetadataFailed {
            manifest: workspace_root.join("Cargo.toml"),
            summary: "cargo metadata returned no resolved dependency graph".to_owned(),
        })?;
    // Every package cargo reported, in a stable order (ids hold absolute paths: never output).
    let mut all: Vec<(Package, &PackageId)> = metadata
        .packages
        .iter()
        .map(|pkg| (package_of(pkg, metadata, checksums), &pkg.id))
        .collect();
    all.sort_by(|(a, _), (b, _)| sort_key(a).cmp(&sort_key(b)));
    let index: HashMap<&PackageId, usize> = all
        .iter()
        .enumerate()
        .map(|(i, (_, id))| (*id, i))
        .collect();
    let edges = resolved_edges(resolve, &index, all.len());
    // The product first: the SBOM describes it and what it reaches, not every member of the
    // workspace (an xtask or a second binary is not part of this product).
    let given = resolve.root.as_ref().and_then(|id| index.get(id)).copied();
    let unfiltered: Vec<Package> = all.iter().map(|(p, _)| p.clone()).collect();
    let mut warnings = credential_warnings(metadata);
    let product = choose_product(&unfiltered, product, given, &mut warnings);
    let roots = match &product {
        Product::Member(i) => vec![*i],
        Product::Synthetic { dependencies, .. } => dependencies.clone(),
    };
    let is_member: Vec<bool> = unfiltered.iter().map(|p| p.workspace_member).collect();
    let reach = graph::reach(&edges, &roots, &is_member, include_dev);
    let (packages, renumber) = keep_reached(all, &reach, &edges, include_dev);
    Ok(Inventory {
        origin,
        packages,
        product: renumbered_product(product, &renumber, &unfiltered),
        warnings,
        lockfile: workspace_root.join("Cargo.lock"),
    })
}

/// One package as cargo reported it: its source (a path one relative to the workspace root),
/// the lockfile's checksum, what its manifest says (links without credentials).
fn package_of(
    pkg: &cargo_metadata::Package,
    metadata: &Metadata,
    checksums: &lockfile::Checksums,
) -> Package {
    let workspace_root = metadata.workspace_root.as_std_path();
    let source = match PackageSource::parse(pkg.source.as_ref().map(|s| s.repr.as_str())) {
        PackageSource::Path { .. } => PackageSource::Path {
            path: Some(relative_dir(
                workspace_root,
                pkg.manifest_path.as_std_path(),
            )),
        },
        other => other,
    };
    let checksum = pick_checksum(
        checksums,
        &pkg.name,
        &pkg.version.to_string(),
        pkg.source.as_ref().map(|s| s.repr.as_str()),
    );
    Package {
        name: pkg.name.to_string(),
        version: pkg.version.clone(),
        source,
        checksum,
        manifest: ManifestInfo {
            authors: pkg.authors.clone(),
            license: pkg.license.clone(),
            license_file: pkg
                .license_file
                .as_ref()
                .and_then(|f| f.file_name().map(str::to_owned)),
            description: pkg.description.clone(),
            repository: pkg.repository.as_deref().map(without_userinfo),
            homepage: pkg.homepage.as_deref().map(without_userinfo),
            documentation: pkg.documentation.as_deref().map(without_userinfo),
            has_bin: pkg.targets.iter().any(|t| t.is_bin()),
        },
        workspace_member: metadata.workspace_members.contains(&pkg.id),
        reach: super::Reach::Unknown,
        dependencies: Vec::new(),
    }
}

/// The resolved edges with their kinds (already filtered by platform when cargo was asked),
/// between the `count` packages `index` numbers.
fn resolved_edges(
    resolve: &cargo_metadata::Resolve,
    index: &HashMap<&PackageId, usize>,
    count: usize,
) -> Vec<Vec<(usize, EdgeKinds)>> {
    let mut edges: Vec<Vec<(usize, EdgeKinds)>> = vec![Vec::new(); count];
    for node in &resolve.nodes {
        let Some(&from) = index.get(&node.id) else {
            continue;
        };
        for dep in &node.deps {
            let Some(&to) = index.get(&dep.pkg) else {
                continue;
            };
            let mut kinds = EdgeKinds::default();
            for info in &dep.dep_kinds {
                match info.kind {
                    DependencyKind::Normal => kinds.normal = true,
                    DependencyKind::Build => kinds.build = true,
                    DependencyKind::Development => kinds.dev = true,
                    _ => kinds.normal = true,
                }
            }
            edges[from].push((to, kinds));
        }
    }
    edges
}

/// Keeps what the product reaches, renumbered, with the dependencies that count; returns them
/// and each old number's new one.
fn keep_reached(
    all: Vec<(Package, &PackageId)>,
    reach: &[Option<super::Reach>],
    edges: &[Vec<(usize, EdgeKinds)>],
    include_dev: bool,
) -> (Vec<Package>, Vec<Option<usize>>) {
    let mut renumber = vec![None; all.len()];
    let mut packages = Vec::new();
    for (old, (package, _)) in all.into_iter().enumerate() {
        if let Some(r) = reach[old] {
            renumber[old] = Some(packages.len());
            packages.push(Package {
                reach: r,
                ..package
            });
        }
    }
    for (old, out) in edges.iter().enumerate() {
        let Some(from) = renumber[old] else { continue };
        let mut deps: Vec<usize> = out
            .iter()
            .filter(|(_, kinds)| kinds.normal || kinds.build || (include_dev && kinds.dev))
            .filter_map(|(to, _)| renumber[*to])
            .collect();
        deps.sort_unstable();
        deps.dedup();
        packages[from].dependencies = deps;
    }
    (packages, renumber)
}

/// The product in the kept packages' numbering; a member the filters dropped becomes a named
/// application of nothing.
fn renumbered_product(
    product: Product,
    renumber: &[Option<usize>],
    unfiltered: &[Package],
) -> Product {
    match product {
        Product::Member(i) => renumber[i].map_or_else(
            || Product::Synthetic {
                name: unfiltered[i].name.clone(),
                version: Some(unfiltered[i].version.to_string()),
                dependencies: Vec::new(),
            },
            Product::Member,
        ),
        Product::Synthetic {
            name,
            version,
            dependencies,
        } => Product::Synthetic {
            name,
            version,
            dependencies: dependencies.iter().filter_map(|&d| renumber[d]).collect(),
        },
    }
}

/// The stable order of packages: name, version, then source.
pub(crate) fn sort_key(package: &Package) -> (&str, &semver::Version, &PackageSource) {
    (&package.name, &package.version, &package.source)
}

/// Picks the product: `--product NAME`; else a member whose own manifest was given (not the
/// workspace root's); else the one member with a binary; else the root package; else the only
/// member; else a named application made of every member, with a warning.
fn choose_product(
    packages: &[Package],
    requested: Option<&str>,
    given: Option<usize>,
    warnings: &mut Vec<String>,
) -> Product {
    let members: Vec<usize> = (0..packages.len())
        .filter(|&i| packages[i].workspace_member)
        .collect();
    if let Some(name) = requested {
        if let Some(&found) = members.iter().find(|&&i| packages[i].name == name) {
            return Product::Member(found);
        }
        let names: Vec<&str> = members.iter().map(|&i| packages[i].name.as_str()).collect();
        warnings.push(format!(
            "--product `{name}` is not a package of the workspace (its packages: {}), so the SBOM \
             describes an application `{name}` made of all of them",
            names.join(", ")
        ));
        return Product::Synthetic {
            name: name.to_owned(),
            version: None,
            dependencies: members,
        };
    }
    if let Some(given) = given
        && !matches!(&packages[given].source, PackageSource::Path { path: Some(p) } if p == ".")
    {
        return Product::Member(given);
    }
    let binaries: Vec<usize> = members
        .iter()
        .copied()
        .filter(|&i| packages[i].manifest.has_bin)
        .collect();
    if let [only] = binaries[..] {
        return Product::Member(only);
    }
    if let [only] = members[..] {
        return Product::Member(only);
    }
    let root = packages.iter().position(|p| {
        p.workspace_member
            && matches!(&p.source, PackageSource::Path { path: Some(path) } if path == ".")
    });
    if let Some(root) = root {
        return Product::Member(root);
    }
    // Named after the workspace's packages, never its folder: the same workspace checked out
    // anywhere gives the same SBOM.
    let name = synthetic_name(members.iter().map(|&i| packages[i].name.as_str()));
    warnings.push(format!(
        "the workspace has {} binary packages and no root package, so the SBOM describes an \
         application `{name}` made of all {} members; pass --product NAME to name the product",
        binaries.len(),
        members.len()
    ));
    Product::Synthetic {
        name,
        version: None,
        dependencies: members,
    }
}

/// `NAME-workspace`, after the first of the packages in name order.
pub(crate) fn synthetic_name<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let first = names.min().unwrap_or("product");
    format!("{first}-workspace")
}

/// The folder of a manifest relative to the workspace root, `/`-separated (`.` for the root).
fn relative_dir(root: &Path, manifest: &Path) -> String {
    let dir = manifest.parent().unwrap_or(manifest);
    let root: Vec<_> = root.components().collect();
    let dir: Vec<_> = dir.components().collect();
    let common = root.iter().zip(&dir).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> =
        std::iter::repeat_n("..".to_owned(), root.len() - common).collect();
    parts.extend(
        dir[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

/// The checksum recorded in Cargo.lock for a package, matched by name, version and source.
fn pick_checksum(
    checksums: &lockfile::Checksums,
    name: &str,
    version: &str,
    source: Option<&str>,
) -> Option<String> {
    let candidates = checksums.get(&(name.to_owned(), version.to_owned()))?;
    let exact = candidates
        .iter()
        .find(|(s, _)| s.as_deref() == source)
        .map(|(_, c)| c.clone());
    exact.or_else(|| match &candidates[..] {
        [(_, only)] => Some(only.clone()),
        _ => None,
    })
}

/// The declared dependencies of each workspace member, from `cargo metadata --no-deps`.
pub(crate) fn declared(metadata: &Metadata) -> lockfile::Declared {
    let mut out = lockfile::Declared::new();
    for pkg in metadata.workspace_packages() {
        let entry = out.entry(pkg.name.to_string()).or_default();
        entry.version = Some(pkg.version.clone());
        for dep in &pkg.dependencies {
            entry.deps.push((
                dep.name.clone(),
                dep.req.clone(),
                dep.source.as_ref().map(|s| s.to_string()),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_dirs_never_absolute() {
        let root = Path::new("/home/ci/work/product");
        assert_eq!(
            relative_dir(root, Path::new("/home/ci/work/product/Cargo.toml")),
            "."
        );
        assert_eq!(
            relative_dir(
                root,
                Path::new("/home/ci/work/product/crates/util/Cargo.toml")
            ),
            "crates/util"
        );
        assert_eq!(
            relative_dir(root, Path::new("/home/ci/work/vendor/patched/Cargo.toml")),
            "../vendor/patched"
        );
    }
}
