//! What is in the product: packages, where they come from, and how they depend on each other.
//!
//! Three ways in: `cargo metadata` (the resolved graph for one target and feature set, see
//! [`metadata`]), a bare `Cargo.lock` (every package, no kinds or targets, see [`lockfile`])
//! and a built binary's embedded list (what was compiled in, see [`binary`]). All give the
//! same [`Inventory`], which later stages (SBOM, advisories, policy) consume.
//! A third, a supplier's own CycloneDX SBOM ([`cyclonedx`]), names packages of any ecosystem
//! by purl ([`purl`]).

pub mod binary;
pub mod binary_match;
mod cargo;
mod cargo_config;
pub mod cyclonedx;
mod graph;
mod head;
#[cfg(test)]
mod lockcheck_tests;
pub mod lockfile;
mod lockfile_format;
pub mod metadata;
pub mod purl;
mod source;
mod workdir;

use std::path::{Path, PathBuf};

pub use binary::{BinaryError, BinaryFile};
pub use cargo::{CargoError, RustcInfo};
pub(crate) use cargo_config::cargo_home;
pub use head::head_commit;
pub use lockfile::LockfileError;
pub use source::{PackageSource, Unlocated};
pub use workdir::WorkdirError;

/// Everything the product is made of, sorted and free of build-machine paths.
#[derive(Clone, Debug)]
pub struct Inventory {
    /// How the inventory was obtained.
    pub origin: Origin,
    /// Packages sorted by name, version and source; indices into this list identify them.
    pub packages: Vec<Package>,
    /// The product the SBOM describes.
    pub product: Product,
    /// Things a user should know about the inventory (fallbacks, guesses). Not errors.
    pub warnings: Vec<String>,
    /// The Cargo.lock behind it (where reports locate a package).
    pub lockfile: PathBuf,
}

/// How the inventory was obtained; recorded in the SBOM so a reader knows how far to trust it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `cargo metadata`: the resolved graph, filtered by target and dependency kind.
    CargoMetadata {
        rustc: RustcInfo,
        target: Target,
        features: Features,
        include_dev: bool,
    },
    /// `Cargo.lock` alone: every package, no dependency kinds, targets or features.
    Lockfile {
        /// The lockfile format version (1 to 4).
        version: u32,
        /// Why the lockfile was read instead of running cargo, when it was a fallback.
        fallback_reason: Option<String>,
    },
    /// The dependency list `cargo auditable` embedded in a built binary (complete for the Rust
    /// crates compiled in), or, with `--allow-incomplete`, what its panic messages name.
    Binary(BinaryFile),
}

impl Origin {
    /// True when the dependency graph is the one cargo resolved (so the SBOM is complete).
    pub fn is_resolved(&self) -> bool {
        match self {
            Origin::CargoMetadata { .. } => true,
            Origin::Lockfile { .. } => false,
            Origin::Binary(file) => file.complete,
        }
    }
}

/// Which platforms' dependencies are included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The host (the default): what `cargo build` would compile here.
    Host,
    /// One target triple.
    Triple(String),
    /// Every platform's dependencies.
    All,
}

/// The feature selection passed to cargo.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Features {
    pub features: Vec<String>,
    pub all_features: bool,
    pub no_default_features: bool,
}

impl Features {
    /// A short description for the SBOM, e.g. `default`, `all`, `default,tls`.
    pub fn describe(&self) -> String {
        if self.all_features {
            return "all".to_owned();
        }
        let mut parts = Vec::new();
        if !self.no_default_features {
            parts.push("default".to_owned());
        }
        parts.extend(self.features.iter().cloned());
        if parts.is_empty() {
            "none".to_owned()
        } else {
            parts.join(",")
        }
    }
}

/// One package of the product, a workspace member or a dependency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub version: semver::Version,
    pub source: PackageSource,
    /// SHA-256 of the `.crate` file, lower-case hex, from `Cargo.lock`.
    pub checksum: Option<String>,
    /// Manifest facts (only known from cargo metadata).
    pub manifest: ManifestInfo,
    pub workspace_member: bool,
    /// How the product reaches this package.
    pub reach: Reach,
    /// Indices of its direct dependencies in [`Inventory::packages`], sorted, without repeats.
    pub dependencies: Vec<usize>,
}

impl Package {
    /// The package URL (`pkg:cargo/NAME@VERSION`, with qualifiers for other sources).
    pub fn purl(&self) -> String {
        source::purl(&self.name, &self.version, &self.source)
    }

    /// `name version`, for messages.
    pub fn display(&self) -> String {
        format!("{} {}", self.name, self.version)
    }
}

/// What a package's own manifest says about it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ManifestInfo {
    pub authors: Vec<String>,
    pub license: Option<String>,
    /// File name of the licence file, when the manifest names one instead of an expression.
    pub license_file: Option<String>,
    pub description: Option<String>,
    pub repository: Option<String>,
    pub homepage: Option<String>,
    pub documentation: Option<String>,
    /// Whether the package has a binary target.
    pub has_bin: bool,
}

/// How the product reaches a package, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reach {
    /// Linked into the product (through normal dependencies only).
    Normal,
    /// Only needed to build it (a build dependency, or something only a build dependency uses).
    Build,
    /// Only needed to test it (a dev-dependency); present only with `--include-dev`.
    Dev,
    /// Not known: the inventory came from `Cargo.lock`, which does not record kinds.
    Unknown,
}

impl Reach {
    pub fn as_str(self) -> &'static str {
        match self {
            Reach::Normal => "normal",
            Reach::Build => "build",
            Reach::Dev => "dev",
            Reach::Unknown => "unknown",
        }
    }
}

/// What the SBOM's `metadata.component` describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Product {
    /// A workspace member (by index).
    Member(usize),
    /// No single member is the product: a named application made of the given packages.
    Synthetic {
        name: String,
        version: Option<String>,
        dependencies: Vec<usize>,
    },
}

/// Where to read the product from.
#[derive(Clone, Debug)]
pub enum InventorySource {
    /// Run `cargo metadata` on this manifest (`Cargo.toml`).
    Manifest(PathBuf),
    /// Read this `Cargo.lock` directly.
    Lockfile(PathBuf),
    /// Read the dependency list `cargo auditable` embedded in this binary; without one, the
    /// crates its panic messages name when `allow_incomplete`, else an error.
    Binary {
        path: PathBuf,
        allow_incomplete: bool,
    },
}

/// Options for taking the inventory.
#[derive(Clone, Debug)]
pub struct InventoryOptions {
    pub source: InventorySource,
    pub features: Features,
    pub target: Target,
    pub include_dev: bool,
    pub offline: bool,
    /// `--product NAME`: which package is the product.
    pub product: Option<String>,
}

/// Why an inventory could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error(transparent)]
    Cargo(#[from] CargoError),
    #[error(transparent)]
    Lockfile(#[from] LockfileError),
    #[error(transparent)]
    Binary(#[from] BinaryError),
}

/// Takes the inventory: cargo metadata, falling back to the lockfile (with a warning) only when
/// cargo cannot reach a source such as a git repository while offline.
pub fn take(options: &InventoryOptions) -> Result<Inventory, InventoryError> {
    match &options.source {
        InventorySource::Binary {
            path,
            allow_incomplete,
        } => Ok(binary::read(path, *allow_incomplete)?.into_inventory(path)),
        InventorySource::Lockfile(path) => Ok(lockfile::inventory(
            &lockfile::user_named(path),
            options.product.as_deref(),
            None,
        )?),
        InventorySource::Manifest(manifest) => match checked_lockfiles(manifest)
            .and_then(|()| metadata::inventory(manifest, options).map_err(Into::into))
        {
            Ok(inventory) => Ok(inventory),
            Err(InventoryError::Cargo(CargoError::SourceUnreachable { summary, .. })) => {
                let lockfile = find_lockfile(manifest).ok_or_else(|| CargoError::NoLockfile {
                    manifest: manifest.clone(),
                })?;
                ensure_lockfile_current(manifest, &lockfile, options.offline)?;
                // A fixed phrase: cargo's own message holds absolute paths, kept out of outputs.
                let reason = "cargo metadata could not reach a source".to_owned();
                let mut inventory =
                    lockfile::inventory(&lockfile, options.product.as_deref(), Some(reason))?;
                inventory.warnings.insert(
                    0,
                    format!(
                        "cargo metadata could not reach a source ({summary}); the inventory was \
                         read from {} instead and was not confirmed by cargo: every locked package \
                         is listed, without dependency kinds, targets or features, the \
                         composition is `unknown`, and what each registry package needs is \
                         checked against the registry index (`lockfile-incomplete`)",
                        lockfile.display()
                    ),
                );
                Ok(inventory)
            }
            Err(other) => Err(other),
        },
    }
}

/// Refuses the lockfile fallback when the lockfile does not lock what the manifests declare.
/// `cargo metadata --no-deps` reads only the workspace's manifests, so it works with no network.
fn ensure_lockfile_current(
    manifest: &Path,
    lockfile: &Path,
    offline: bool,
) -> Result<(), InventoryError> {
    let workspace = cargo::metadata(&cargo::MetadataArgs {
        manifest,
        features: &Features::default(),
        filter_platform: None,
        offline,
        no_deps: true,
    })?;
    match lockfile::covers(lockfile, &metadata::declared(&workspace))? {
        None => Ok(()),
        Some(gap) => Err(CargoError::LockfileOutdated {
            manifest: manifest.to_path_buf(),
            detail: Some(gap),
        }
        .into()),
    }
}

/// Refuses, before cargo reads any, a `Cargo.lock` beside the manifest, beside a manifest above
/// it, or beside the workspace root cargo finds (which a member's `package.workspace` may place
/// anywhere) that is not a regular file of bounded size: cargo would follow a link to
/// `/dev/zero` and read until memory runs out, or wait on a FIFO.
fn checked_lockfiles(manifest: &Path) -> Result<(), InventoryError> {
    let Some(start) = manifest.parent() else {
        return Ok(());
    };
    let start = std::path::absolute(start).unwrap_or_else(|_| start.to_path_buf());
    for dir in start.ancestors() {
        if dir == start || dir.join("Cargo.toml").is_file() {
            lockfile::check_project_lockfile(&dir.join("Cargo.lock"))?;
        }
    }
    if let Some(root) = cargo::workspace_root(manifest)?
        && let Some(dir) = root.parent()
    {
        lockfile::check_project_lockfile(&dir.join("Cargo.lock"))?;
    }
    Ok(())
}

/// The `Cargo.lock` cargo would use for a manifest: the nearest one in it or its parents.
pub(crate) fn find_lockfile(manifest: &Path) -> Option<PathBuf> {
    let start = manifest.parent()?;
    start
        .ancestors()
        .map(|dir| dir.join("Cargo.lock"))
        .find(|candidate| candidate.is_file())
}
