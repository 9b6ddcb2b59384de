//! A built binary as the inventory: the dependency list `cargo auditable` embeds in it (ELF,
//! PE, Mach-O, WebAssembly), read through `auditable-info`, the reader cargo-audit, syft and
//! trivy share, so that what charter-audit sees in a binary is what they see.
//!
//! The list names the Rust packages compiled into this binary for its own target, with the
//! kind of dependency (runtime or build) and the *kind* of source (`crates.io`, `git`,
//! `local`, `registry`): never a URL, commit or checksum, so a git or other-registry package
//! is known by kind alone ([`PackageSource::Unlocated`]) and the SBOM says so. It does not
//! list the Rust standard library or native code linked by `-sys` crates.
//!
//! A binary is hostile input like any other: the file is read up to [`MAX_FILE_BYTES`], and
//! the embedded list, zlib-compressed, is decompressed up to [`MAX_LIST_BYTES`]
//! (`auditable_info::Limits`): a truncated file, a section pointing past its end or a
//! compression bomb is an error (exit 2), never a large allocation.

use std::path::{Path, PathBuf};

use auditable_serde::{DependencyKind, Source, VersionInfo};
use sha2::{Digest, Sha256, Sha512};

use super::source::Unlocated;
use super::{Inventory, ManifestInfo, Origin, Package, PackageSource, Product, Reach};
use crate::regular_file::{self, RegularFileError};

/// The largest binary read (512 MiB): the whole file is held in memory to find its sections.
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;
/// The largest embedded list decompressed (8 MiB, `auditable-info`'s default): cargo
/// auditable's list of a product of 2,000 crates is under 200 KiB.
pub const MAX_LIST_BYTES: usize = 8 * 1024 * 1024;

/// The command that makes a binary carry its dependency list.
pub const FIX: &str = "cargo install cargo-auditable && cargo auditable build --release";

/// Why a binary could not be read as an inventory (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum BinaryError {
    #[error("{}: cannot read it: {message}", .path.display())]
    Read { path: PathBuf, message: String },
    #[error(
        "{}: cannot read it: larger than {MAX_FILE_BYTES} bytes, the largest binary charter-audit reads (it is held in memory to find its sections)",
        .path.display()
    )]
    TooLarge { path: PathBuf },
    #[error(
        "{}: no dependency list embedded by cargo auditable; build it with `{FIX}`, or pass --allow-incomplete for the crates its panic messages name (incomplete, never passes sbom-completeness)",
        .path.display()
    )]
    NoList { path: PathBuf },
    #[error(
        "{}: not an executable charter-audit can read (ELF, PE, Mach-O or WebAssembly), or a damaged or truncated one: {message}",
        .path.display()
    )]
    Executable { path: PathBuf, message: String },
    #[error(
        "{}: the dependency list embedded in it is larger than {MAX_LIST_BYTES} bytes once decompressed (a compression bomb, or not a list cargo auditable wrote); refused",
        .path.display()
    )]
    ListTooLarge { path: PathBuf },
    #[error(
        "{}: the dependency list embedded in it is damaged: {message}; rebuild it with `{FIX}`",
        .path.display()
    )]
    List { path: PathBuf, message: String },
}

/// What a binary is, besides the packages in it: the SBOM's deployable form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinaryFile {
    /// The file name, without its folder.
    pub file_name: String,
    /// `ELF`, `PE`, `Mach-O`, `WebAssembly`.
    pub format: &'static str,
    pub sha256: String,
    pub sha512: String,
    /// True when the list `cargo auditable` embedded was read; false for the best effort of
    /// `--allow-incomplete` (crate names and versions recovered from panic messages).
    pub complete: bool,
}

/// The embedded list of the binary at `path`, as one typed value, before it becomes an
/// inventory: what `verify` compares with an SBOM.
#[derive(Clone, Debug)]
pub struct Embedded {
    pub file: BinaryFile,
    pub packages: Vec<Package>,
    /// The index of the root package (the product) in `packages`, when the list names one.
    pub root: Option<usize>,
}

/// Reads the binary at `path`. Without an embedded list it is an error unless
/// `allow_incomplete`, which takes what its panic messages name instead.
pub fn read(path: &Path, allow_incomplete: bool) -> Result<Embedded, BinaryError> {
    let bytes = bounded(path).map_err(|error| match error {
        RegularFileError::TooLarge { .. } => BinaryError::TooLarge {
            path: path.to_path_buf(),
        },
        other => BinaryError::Read {
            path: path.to_path_buf(),
            message: other.to_string(),
        },
    })?;
    parse(path, &bytes, allow_incomplete)
}

/// A release artifact's list, when it carries one: `None` for a file that is no executable by
/// its first bytes (an archive, a checksum file: read no further), or an executable without the
/// list. An executable whose list is damaged, too large or points past its end is an error.
pub fn read_subject(path: &Path) -> Result<Option<Embedded>, BinaryError> {
    use std::io::Read;
    let mut magic = [0u8; 4];
    let count = regular_file::open_named(path)
        .map_err(std::io::Error::other)
        .and_then(|file| file.take(4).read(&mut magic))
        .map_err(|e| BinaryError::Read {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    if count < 4 || format_of(&magic) == "unknown" {
        return Ok(None);
    }
    match read(path, false) {
        Ok(embedded) => Ok(Some(embedded)),
        Err(BinaryError::NoList { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}

/// The file's bytes, refused from its size before any is read when it is over the limit (a
/// link to a device or a FIFO is refused when opened).
fn bounded(path: &Path) -> Result<Vec<u8>, RegularFileError> {
    use std::io::Read;
    let file = regular_file::open_named(path)?;
    let len = file.metadata()?.len();
    if len > MAX_FILE_BYTES {
        return Err(RegularFileError::TooLarge {
            limit: MAX_FILE_BYTES,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    // It may have grown since: what was read is what counts.
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(RegularFileError::TooLarge {
            limit: MAX_FILE_BYTES,
        });
    }
    Ok(bytes)
}

/// [`read`] of bytes already in memory (`path` names them in messages).
pub fn parse(path: &Path, bytes: &[u8], allow_incomplete: bool) -> Result<Embedded, BinaryError> {
    let mut file = BinaryFile {
        file_name: path.file_name().map_or_else(
            || path.display().to_string(),
            |n| crate::text::clean(&n.to_string_lossy()),
        ),
        format: format_of(bytes),
        sha256: hex::encode(Sha256::digest(bytes)),
        sha512: hex::encode(Sha512::digest(bytes)),
        complete: true,
    };
    let path_buf = || path.to_path_buf();
    match auditable_info::audit_info_from_slice(bytes, MAX_LIST_BYTES) {
        Ok(info) => {
            let (packages, root) = packages_of(&info).map_err(|message| BinaryError::List {
                path: path_buf(),
                message,
            })?;
            Ok(Embedded {
                file,
                packages,
                root,
            })
        }
        Err(auditable_info::Error::NoAuditData) if allow_incomplete => {
            file.complete = false;
            Ok(Embedded {
                file,
                packages: recovered(bytes),
                root: None,
            })
        }
        Err(error) => Err(refusal(path_buf(), error)),
    }
}

/// The error for each way `auditable-info` refuses a binary.
fn refusal(path: PathBuf, error: auditable_info::Error) -> BinaryError {
    use auditable_info::Error as E;
    match error {
        E::NoAuditData => BinaryError::NoList { path },
        E::OutputLimitExceeded | E::InputLimitExceeded => BinaryError::ListTooLarge { path },
        E::BinaryParsing(e) => BinaryError::Executable {
            path,
            message: e.to_string(),
        },
        E::Io(e) => BinaryError::Executable {
            path,
            message: e.to_string(),
        },
        other => BinaryError::List {
            path,
            message: crate::text::clean(&other.to_string()),
        },
    }
}

/// The format, by its magic bytes, for the SBOM.
fn format_of(bytes: &[u8]) -> &'static str {
    match bytes {
        [0x7f, b'E', b'L', b'F', ..] => "ELF",
        [b'M', b'Z', ..] => "PE",
        [0xfe, 0xed, 0xfa, 0xce | 0xcf, ..]
        | [0xce | 0xcf, 0xfa, 0xed, 0xfe, ..]
        | [0xca, 0xfe, 0xba, 0xbe, ..] => "Mach-O",
        [0, b'a', b's', b'm', ..] => "WebAssembly",
        _ => "unknown",
    }
}

/// The packages of the embedded list, sorted by name, version and source, with their edges
/// renumbered; and the root's new index.
fn packages_of(info: &VersionInfo) -> Result<(Vec<Package>, Option<usize>), String> {
    let count = info.packages.len();
    let mut packages = Vec::with_capacity(count);
    for (index, embedded) in info.packages.iter().enumerate() {
        if let Some(bad) = embedded.dependencies.iter().find(|&&d| d >= count) {
            return Err(format!(
                "package {index} ({}) depends on package {bad}, of {count}",
                crate::text::clean(&embedded.name)
            ));
        }
        // cargo's names: letters, digits, `-` and `_`, never empty (an empty one would make a
        // purl no reader takes, and an SBOM that could not be written).
        if embedded.name.is_empty()
            || !embedded
                .name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "package {index} is named `{}`, which no Cargo package can be",
                crate::text::clean(&embedded.name)
            ));
        }
        let mut dependencies = embedded.dependencies.clone();
        dependencies.sort_unstable();
        dependencies.dedup();
        packages.push(Package {
            name: embedded.name.clone(),
            version: embedded.version.clone(),
            source: source_of(&embedded.source),
            checksum: None,
            manifest: ManifestInfo::default(),
            workspace_member: embedded.root,
            reach: match embedded.kind {
                DependencyKind::Runtime => Reach::Normal,
                DependencyKind::Build => Reach::Build,
            },
            dependencies,
        });
    }
    let root = info.packages.iter().position(|p| p.root);
    let (sorted, position) = sorted(packages);
    Ok((sorted, root.map(|r| position[r])))
}

/// Packages sorted as every inventory is, edges renumbered; and where each old index went
/// (the lockfile's inventory is sorted the same way).
pub(super) fn sorted(mut packages: Vec<Package>) -> (Vec<Package>, Vec<usize>) {
    let mut order: Vec<usize> = (0..packages.len()).collect();
    order.sort_by(|&a, &b| {
        super::metadata::sort_key(&packages[a]).cmp(&super::metadata::sort_key(&packages[b]))
    });
    let mut position = vec![0; packages.len()];
    for (new, &old) in order.iter().enumerate() {
        position[old] = new;
    }
    for package in &mut packages {
        for dep in &mut package.dependencies {
            *dep = position[*dep];
        }
        package.dependencies.sort_unstable();
    }
    (moved(packages, &position), position)
}

/// Each package moved to its new index (`position[old]`), swapped into place along the
/// permutation's cycles in the vector it came in: collecting the sorted packages into a new,
/// growing vector made and copied about a tenth of a warm audit's page faults (nushell's
/// lockfile, `perf`).
fn moved(mut packages: Vec<Package>, position: &[usize]) -> Vec<Package> {
    let mut destination = position.to_vec();
    for here in 0..packages.len() {
        while destination[here] != here {
            let there = destination[here];
            packages.swap(here, there);
            destination.swap(here, there);
        }
    }
    packages
}

/// The embedded source kind. `local` is a path package; `git` and `registry` are known by kind
/// alone; a kind this reader does not know is kept verbatim.
fn source_of(source: &Source) -> PackageSource {
    match source {
        Source::CratesIo => PackageSource::CratesIo,
        Source::Local => PackageSource::Path { path: None },
        Source::Git => PackageSource::Unlocated(Unlocated::Git),
        Source::Registry => PackageSource::Unlocated(Unlocated::Registry),
        other => PackageSource::Other {
            repr: crate::text::clean(&String::from(other.clone())),
        },
    }
}

/// The best effort for a binary without the list: the crates whose panic messages name their
/// registry source path (`quitters`, as `cargo audit bin` does). Taken to be from crates.io,
/// as cargo-audit takes them; no kinds, no edges.
fn recovered(bytes: &[u8]) -> Vec<Package> {
    let packages = quitters::versions(bytes)
        .into_iter()
        .map(|(name, version)| Package {
            name: name.to_owned(),
            version,
            source: PackageSource::CratesIo,
            checksum: None,
            manifest: ManifestInfo::default(),
            workspace_member: false,
            reach: Reach::Unknown,
            dependencies: Vec::new(),
        })
        .collect();
    sorted(packages).0
}

impl Embedded {
    /// The inventory of the binary: the product is its root package, else (no list) a product
    /// named by the file.
    pub fn into_inventory(self, path: &Path) -> Inventory {
        let mut warnings = Vec::new();
        let product = match self.root {
            Some(root) => Product::Member(root),
            None => Product::Synthetic {
                name: self.file.file_name.clone(),
                version: None,
                dependencies: (0..self.packages.len()).collect(),
            },
        };
        if !self.file.complete {
            warnings.push(format!(
                "{}: no dependency list embedded by cargo auditable; {} crate(s) were recovered from panic messages, which name only some of the crates compiled in (those that can panic, from a registry): the inventory is incomplete, and never passes sbom-completeness; build it with `{FIX}`",
                path.display(),
                self.packages.len()
            ));
        }
        Inventory {
            origin: Origin::Binary(self.file),
            packages: self.packages,
            product,
            warnings,
            lockfile: path.to_path_buf(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(json: &str) -> VersionInfo {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn kinds_sources_and_root_survive_the_sort() {
        let (packages, root) = packages_of(&info(
            r#"{"packages":[
                {"name":"zed","version":"1.0.0","source":"local","dependencies":[1,2,3],"root":true},
                {"name":"cc","version":"1.0.72","source":"crates.io","kind":"build"},
                {"name":"alpha","version":"0.1.0","source":"git"},
                {"name":"beta","version":"2.0.0","source":"registry"}]}"#,
        ))
        .unwrap();
        let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["alpha", "beta", "cc", "zed"]);
        assert_eq!(root, Some(3));
        assert_eq!(packages[3].dependencies, [0, 1, 2]);
        assert_eq!(packages[2].reach, Reach::Build);
        assert_eq!(packages[0].reach, Reach::Normal);
        assert_eq!(packages[0].source.kind(), "git");
        assert_eq!(packages[1].source.kind(), "registry");
        assert_eq!(packages[3].source.kind(), "path");
        assert_eq!(packages[0].purl(), "pkg:cargo/alpha@0.1.0?source=git");
    }

    #[test]
    fn an_edge_past_the_list_is_refused() {
        let error = packages_of(&info(
            r#"{"packages":[{"name":"a","version":"1.0.0","source":"crates.io","dependencies":[7],"root":true}]}"#,
        ))
        .unwrap_err();
        assert!(error.contains("depends on package 7, of 1"), "{error}");
    }

    #[test]
    fn a_package_no_cargo_name_fits_is_refused() {
        for name in ["", " ", "a/b", ".."] {
            let error = packages_of(&info(&format!(
                r#"{{"packages":[{{"name":"{name}","version":"1.0.0","source":"local","root":true}}]}}"#
            )))
            .unwrap_err();
            assert!(
                error.contains("no Cargo package can be"),
                "{name:?}: {error}"
            );
        }
    }

    /// The packages moved as they were before they were swapped in place: collected into a
    /// new vector in their new order.
    fn moved_by_copying(packages: Vec<Package>, position: &[usize]) -> Vec<Package> {
        let mut order = vec![0; position.len()];
        for (old, &new) in position.iter().enumerate() {
            order[new] = old;
        }
        let mut slots: Vec<Option<Package>> = packages.into_iter().map(Some).collect();
        order.iter().filter_map(|&old| slots[old].take()).collect()
    }

    proptest::proptest! {
        /// Packages in any order, with repeated names and versions and any edges, come out
        /// sorted, each where the map says, and moved as copying them moved them.
        #[test]
        fn swapping_into_place_sorts_as_copying_did(
            drawn in proptest::collection::vec(
                (0..4u8, 0..3u64, 0..3u8, proptest::collection::vec(0..64usize, 0..4)),
                0..40,
            ),
        ) {
            let count = drawn.len();
            let packages: Vec<Package> = drawn
                .iter()
                .map(|(name, minor, source, deps)| Package {
                    name: format!("crate-{name}"),
                    version: semver::Version::new(1, *minor, 0),
                    source: match source {
                        0 => PackageSource::CratesIo,
                        1 => PackageSource::Unlocated(Unlocated::Git),
                        _ => PackageSource::Path { path: None },
                    },
                    checksum: None,
                    manifest: Default::default(),
                    workspace_member: false,
                    reach: Reach::Unknown,
                    dependencies: deps.iter().map(|d| d % count).collect(),
                })
                .collect();
            let (sorted, position) = sorted(packages.clone());
            let keys: Vec<_> = sorted.iter().map(crate::inventory::metadata::sort_key).collect();
            proptest::prop_assert!(keys.is_sorted());
            for (old, package) in packages.iter().enumerate() {
                let now = &sorted[position[old]];
                proptest::prop_assert_eq!(
                    (&now.name, &now.version),
                    (&package.name, &package.version)
                );
                let mut edges: Vec<usize> =
                    package.dependencies.iter().map(|d| position[*d]).collect();
                edges.sort_unstable();
                proptest::prop_assert_eq!(&now.dependencies, &edges);
            }
            // The move alone, against the old way's, on the packages in their old order.
            let before: Vec<Package> =
                (0..count).map(|old| sorted[position[old]].clone()).collect();
            proptest::prop_assert_eq!(
                moved(before.clone(), &position),
                moved_by_copying(before, &position)
            );
        }
    }

    #[test]
    fn text_is_no_executable() {
        let error = parse(Path::new("notes.txt"), b"hello", false).unwrap_err();
        assert!(matches!(error, BinaryError::Executable { .. }), "{error}");
        assert!(
            error
                .to_string()
                .starts_with("notes.txt: not an executable")
        );
    }
}
