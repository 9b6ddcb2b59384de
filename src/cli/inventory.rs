//! What to take the inventory of (shared by `sbom` and `audit`), and where the supplier's
//! configuration is looked for.

use std::path::PathBuf;

use clap::Args;

use crate::inventory::{Features, InventoryOptions, InventorySource, Target};

/// What to take the inventory of: shared by `sbom` and `audit`.
#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// The workspace's Cargo.toml [default: ./Cargo.toml].
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,

    /// Read this Cargo.lock instead of running cargo: no cargo, no network, every locked
    /// package (dependency kinds, targets and features are not recorded in a lockfile).
    #[arg(long, value_name = "PATH", conflicts_with = "manifest_path")]
    pub lockfile: Option<PathBuf>,

    /// Read a built binary instead: the dependency list `cargo auditable` embedded in it (ELF,
    /// PE, Mach-O or WebAssembly): every Rust crate compiled in, with its dependency kind and
    /// the kind of its source, the product named by its root package, and the binary's own
    /// SHA-256 and SHA-512. No cargo runs. A binary without the list is refused (build it with
    /// `cargo install cargo-auditable && cargo auditable build --release`) unless
    /// --allow-incomplete.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["manifest_path", "lockfile", "product"])]
    pub binary: Option<PathBuf>,

    /// With --binary: a binary without the embedded list gives the crates its panic messages
    /// name (as `cargo audit bin` does), marked incomplete everywhere; it never passes
    /// sbom-completeness.
    #[arg(long, requires = "binary")]
    pub allow_incomplete: bool,

    /// Features to activate, comma or space separated (as for cargo).
    #[arg(
        short = 'F',
        long,
        value_name = "F",
        value_delimiter = ',',
        conflicts_with_all = ["lockfile", "binary"]
    )]
    pub features: Vec<String>,

    /// Activate all features.
    #[arg(long, conflicts_with_all = ["lockfile", "binary"])]
    pub all_features: bool,

    /// Do not activate the `default` feature.
    #[arg(long, conflicts_with_all = ["lockfile", "binary"])]
    pub no_default_features: bool,

    /// Target triple whose dependencies to include, or `all` for every platform's
    /// [default: the host].
    #[arg(long, value_name = "TRIPLE|all", conflicts_with_all = ["lockfile", "binary"])]
    pub target: Option<String>,

    /// Include dev-dependencies (scope `excluded`; they do not ship).
    #[arg(long, conflicts_with_all = ["lockfile", "binary"])]
    pub include_dev: bool,

    /// The package that is the product [default: the workspace's binary package].
    #[arg(long, value_name = "NAME", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub product: Option<String>,

    /// Use no network at all: cargo resolves from its local cache and vendored sources only,
    /// and nothing is downloaded.
    #[arg(long)]
    pub offline: bool,
}

impl InventoryArgs {
    /// The inventory options these flags ask for.
    pub fn inventory_options(&self) -> InventoryOptions {
        let source = match (&self.lockfile, &self.binary) {
            (_, Some(path)) => InventorySource::Binary {
                path: path.clone(),
                allow_incomplete: self.allow_incomplete,
            },
            (Some(lockfile), None) => InventorySource::Lockfile(lockfile.clone()),
            (None, None) => {
                let manifest = self
                    .manifest_path
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("Cargo.toml"));
                // A folder stands for the Cargo.toml in it.
                if manifest.is_dir() {
                    InventorySource::Manifest(manifest.join("Cargo.toml"))
                } else {
                    InventorySource::Manifest(manifest)
                }
            }
        };
        let target = match self.target.as_deref() {
            None => Target::Host,
            Some("all") => Target::All,
            Some(triple) => Target::Triple(triple.to_owned()),
        };
        InventoryOptions {
            source,
            features: Features {
                features: self
                    .features
                    .iter()
                    .flat_map(|f| f.split_whitespace())
                    .filter(|f| !f.is_empty())
                    .map(str::to_owned)
                    .collect(),
                all_features: self.all_features,
                no_default_features: self.no_default_features,
            },
            target,
            include_dev: self.include_dev,
            offline: self.offline,
            product: self.product.clone(),
        }
    }
}

impl InventoryArgs {
    /// The supplier's `charter-audit.toml`: beside the lockfile, or at the workspace root,
    /// looked for from the manifest's folder (or the current one) up to the folder that holds
    /// the workspace's Cargo.lock, so that a member's manifest finds its workspace's file.
    pub fn default_config(&self) -> Option<PathBuf> {
        let anchor = match (&self.lockfile, &self.manifest_path) {
            // A binary's folder (target/release) is searched upwards to the workspace's root.
            _ if self.binary.is_some() => {
                return self
                    .binary
                    .clone()
                    .and_then(|binary| find_config(binary, false));
            }
            (Some(lockfile), _) => lockfile.clone(),
            (None, Some(manifest)) => manifest.clone(),
            (None, None) => PathBuf::from("Cargo.toml"),
        };
        find_config(anchor, self.lockfile.is_some())
    }
}

/// Looks for `charter-audit.toml` from the anchor's folder upwards: only there when
/// `only_beside`, else up to a folder with a Cargo.lock or a `.git`.
pub(super) fn find_config(anchor: PathBuf, only_beside: bool) -> Option<PathBuf> {
    let start = if anchor.is_dir() {
        anchor
    } else {
        match anchor.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        }
    };
    let start = start.canonicalize().unwrap_or(start);
    for dir in start.ancestors() {
        let candidate = dir.join("charter-audit.toml");
        if candidate.is_file() {
            // Named relative to the current folder when it is under it, as given.
            let cwd = std::env::current_dir()
                .ok()
                .and_then(|c| c.canonicalize().ok());
            return Some(
                cwd.and_then(|cwd| candidate.strip_prefix(cwd).ok().map(PathBuf::from))
                    .unwrap_or(candidate),
            );
        }
        // The workspace root (its lockfile) or the repository's root ends the search.
        if only_beside || dir.join("Cargo.lock").is_file() || dir.join(".git").exists() {
            break;
        }
    }
    None
}
