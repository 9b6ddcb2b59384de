//! The inventory from `Cargo.lock` alone (formats v1 to v4): no cargo, no network.
//!
//! A lockfile records packages, sources, checksums and edges, but not dependency kinds, targets
//! or features, so every locked package is included and the composition is `unknown`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::lockfile_format::{self, Locked};
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
    #[error(
        "{} is {what}, not a regular file: a lockfile in the project must be the file itself (no link, FIFO or device); replace it with the real Cargo.lock",
        .path.display()
    )]
    NotRegular { path: PathBuf, what: &'static str },
    #[error(
        "{} is larger than {MAX_LOCKFILE_BYTES} bytes, more than any real Cargo.lock: it is not read",
        .path.display()
    )]
    TooLarge { path: PathBuf },
    #[error("{}: {}", .path.display(), conflict_message(.marker, *.line))]
    MergeConflict {
        path: PathBuf,
        marker: &'static str,
        line: usize,
    },
}

/// What to say about a lockfile left with merge-conflict markers, and what to do.
pub(crate) fn conflict_message(marker: &str, line: usize) -> String {
    format!(
        "Cargo.lock holds unresolved merge-conflict markers (`{marker}` at line {line}): finish \
         the merge first: keep one side (`git checkout --ours Cargo.lock` or `--theirs`), run \
         `cargo update --workspace` so cargo brings it up to date with the merged manifests, and \
         commit the result"
    )
}

/// The first git merge-conflict marker in a lockfile's text (`<<<<<<<`, `=======`, `>>>>>>>`
/// or diff3's `|||||||` at the start of a line), with its line number from 1. A conflicted
/// lockfile is not TOML, and toml's error about it does not tell the user what happened.
///
/// Each marker is looked for after a newline with `memchr`'s substring search, and the lines
/// before the first one found counted: the lockfile is read on the thread the rest of an audit
/// waits for, and going through it line by line took 2.8 M of the 17.8 M instructions of
/// taking nushell's inventory (callgrind); the property test below holds the two to the same
/// answer.
pub(crate) fn conflict_marker(text: &str) -> Option<(&'static str, usize)> {
    const AFTER_NEWLINE: [&str; 4] = ["\n<<<<<<<", "\n|||||||", "\n=======", "\n>>>>>>>"];
    let bytes = text.as_bytes();
    let (at, marker) = AFTER_NEWLINE
        .iter()
        .filter_map(|after_newline| {
            let marker = after_newline.strip_prefix('\n')?;
            if bytes.starts_with(marker.as_bytes()) {
                return Some((0, marker));
            }
            memchr::memmem::find(bytes, after_newline.as_bytes()).map(|at| (at + 1, marker))
        })
        .min_by_key(|(at, _)| *at)?;
    let line = memchr::memchr_iter(b'\n', bytes.get(..at)?).count() + 1;
    Some((marker, line))
}

/// Checksums by `(name, version)`: each candidate's source string and SHA-256 hex.
pub(crate) type Checksums = HashMap<(String, String), Vec<(Option<String>, String)>>;

/// The largest lockfile read (a 20,000-package lockfile is a few MiB).
pub const MAX_LOCKFILE_BYTES: u64 = 256 * 1024 * 1024;

/// The lockfile a user named: a symbolic link the user named is followed (the user chose it);
/// a folder's `Cargo.lock` is the project's and is not (see [`load`]).
pub(crate) fn user_named(path: &Path) -> PathBuf {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    }
}

/// Refuses a project's lockfile that is not a regular file (a link, FIFO or device) or is
/// larger than [`MAX_LOCKFILE_BYTES`], without opening it: run before cargo, which reads it too.
/// An absent lockfile is not refused here (cargo says what to do about it).
pub(crate) fn check_project_lockfile(path: &Path) -> Result<(), LockfileError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.is_file() => Err(LockfileError::NotRegular {
            path: path.to_path_buf(),
            what: crate::regular_file::kind(meta.file_type()),
        }),
        Ok(meta) if meta.len() > MAX_LOCKFILE_BYTES => Err(LockfileError::TooLarge {
            path: path.to_path_buf(),
        }),
        _ => Ok(()),
    }
}

/// Reads and parses a lockfile: a regular file (a symbolic link is not followed: the project
/// controls it) of at most [`MAX_LOCKFILE_BYTES`]; a folder stands for its `Cargo.lock`.
pub(crate) fn load(path: &Path) -> Result<Locked, LockfileError> {
    if path.is_dir() {
        return load(&path.join("Cargo.lock"));
    }
    let bytes = crate::regular_file::read(path, MAX_LOCKFILE_BYTES).map_err(|error| {
        use crate::regular_file::RegularFileError;
        let path = path.to_path_buf();
        match error {
            e if e.is_not_found() => LockfileError::NotFound(path),
            RegularFileError::NotRegular { what } => LockfileError::NotRegular { path, what },
            RegularFileError::TooLarge { .. } => LockfileError::TooLarge { path },
            RegularFileError::Io(source) => LockfileError::Read { path, source },
        }
    })?;
    let text = String::from_utf8(bytes).map_err(|_| LockfileError::Parse {
        path: path.to_path_buf(),
        message: "it is not UTF-8 text, so not a Cargo.lock".to_owned(),
    })?;
    if path.file_name().is_some_and(|n| n == "Cargo.toml") {
        return Err(LockfileError::Parse {
            path: path.to_path_buf(),
            message: "this is a manifest, not a lockfile: pass it with --manifest-path, or give --lockfile the Cargo.lock".to_owned(),
        });
    }
    if let Some((marker, line)) = conflict_marker(&text) {
        return Err(LockfileError::MergeConflict {
            path: path.to_path_buf(),
            marker,
            line,
        });
    }
    let hint = "fix it, or regenerate it with `cargo generate-lockfile` (and commit it)";
    let locked = lockfile_format::parse(&text).map_err(|message| LockfileError::Parse {
        path: path.to_path_buf(),
        message: format!("{message}; {hint}"),
    })?;
    if locked.packages.is_empty() {
        return Err(LockfileError::Parse {
            path: path.to_path_buf(),
            message: "it locks no packages; is it a workspace's Cargo.lock? Regenerate it with `cargo generate-lockfile`".to_owned(),
        });
    }
    Ok(locked)
}

/// The checksums recorded in a lockfile (for the cargo metadata inventory, which lacks them).
pub(crate) fn checksums(path: &Path) -> Result<Checksums, LockfileError> {
    let mut out: Checksums = HashMap::new();
    for package in load(path)?.packages {
        if let Some(sum) = package.checksum {
            out.entry((package.name, package.version.to_string()))
                .or_default()
                .push((package.source, sum));
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
    let locked = load(path)?;
    let credential = locked.packages.iter().any(|p| {
        p.source
            .as_deref()
            .is_some_and(super::source::carries_credential)
    });
    let packages: Vec<Package> = locked
        .packages
        .into_iter()
        .map(|locked| Package {
            source: PackageSource::parse(locked.source.as_deref()),
            // Path packages are the workspace's own (or path dependencies): Cargo.lock cannot
            // tell them apart.
            workspace_member: locked.source.is_none(),
            name: locked.name,
            version: locked.version,
            checksum: locked.checksum,
            manifest: ManifestInfo::default(),
            reach: Reach::Unknown,
            dependencies: locked.dependencies,
        })
        .collect();

    let (sorted, _) = super::binary::sorted(packages);

    let mut warnings = Vec::new();
    if credential {
        warnings.push(super::source::credential_warning(
            &path.display().to_string(),
        ));
    }
    let product = choose_product(&sorted, product, path, &mut warnings);
    Ok(Inventory {
        origin: Origin::Lockfile {
            version: locked.version,
            fallback_reason,
        },
        packages: sorted,
        product,
        warnings,
        lockfile: path.to_path_buf(),
    })
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
        let names: Vec<&str> = local.iter().map(|&i| packages[i].name.as_str()).collect();
        warnings.push(format!(
            "--product `{name}` is not a path package of {} (they are: {}), so the SBOM \
             describes an application `{name}` made of those no other package depends on",
            lockfile.display(),
            names.join(", ")
        ));
        return Product::Synthetic {
            name: name.to_owned(),
            version: None,
            dependencies: roots,
        };
    }
    if let [only] = roots[..] {
        return Product::Member(only);
    }
    if local.is_empty() {
        // A workspace's lockfile always holds its members: this one names none, so the product
        // is made of the packages nothing else depends on.
        let roots: Vec<usize> = (0..packages.len()).filter(|&i| !depended[i]).collect();
        let name = product_name_from_path(lockfile).unwrap_or_else(|| {
            super::metadata::synthetic_name(roots.iter().map(|&i| packages[i].name.as_str()))
        });
        warnings.push(format!(
            "{}: no workspace package in it (a workspace's Cargo.lock holds its members), so the \
             SBOM describes an application `{name}` made of the {} package(s) nothing else depends \
             on; pass --product NAME to name the product",
            lockfile.display(),
            roots.len()
        ));
        return Product::Synthetic {
            name,
            version: None,
            dependencies: roots,
        };
    }
    let name = product_name_from_path(lockfile).unwrap_or_else(|| {
        super::metadata::synthetic_name(roots.iter().map(|&i| packages[i].name.as_str()))
    });
    warnings.push(format!(
        "{}: {} workspace packages are not dependencies of any other, so the SBOM describes an \
         application `{name}` made of them; pass --product NAME to name the product",
        lockfile.display(),
        roots.len()
    ));
    Product::Synthetic {
        name,
        version: None,
        dependencies: roots,
    }
}

/// `nushell-2026-08.Cargo.lock` gives `nushell-2026-08`; a plain `Cargo.lock` gives nothing
/// (its folder's name would make the output depend on where it is checked out).
fn product_name_from_path(path: &Path) -> Option<String> {
    let file = path.file_name()?.to_string_lossy().into_owned();
    file.strip_suffix(".Cargo.lock")
        .filter(|stem| !stem.is_empty())
        .map(str::to_owned)
}

/// What the workspace's manifests declare, by member name.
pub(crate) type Declared = std::collections::BTreeMap<String, DeclaredMember>;

/// One workspace member as its manifest declares it.
#[derive(Debug, Default)]
pub(crate) struct DeclaredMember {
    /// Its own version (a release bump the lockfile has not seen makes the lockfile out of date).
    pub version: Option<semver::Version>,
    /// Its dependencies: name, version requirement, and source for git and registry
    /// dependencies (`git+URL?rev=...`, `registry+URL`) as cargo metadata gives it.
    pub deps: Vec<(String, semver::VersionReq, Option<String>)>,
}

/// Whether the lockfile still locks what the manifests declare, by cargo's rules (held against
/// real cargo in `lockcheck_tests`): every member at its declared version, every declared
/// dependency (of any kind or target, renamed or inherited from the workspace, as cargo metadata
/// resolves them) among the member's locked dependencies with a version that meets it, from the
/// same git repository and reference; and every dependency the lockfile records for a member still
/// declared. The check that keeps an out-of-date lockfile from standing in for cargo;
/// `Some(gap)` says what differs.
pub(crate) fn covers(path: &Path, declared: &Declared) -> Result<Option<String>, LockfileError> {
    let lockfile = load(path)?;
    for (member, DeclaredMember { version, deps }) in declared {
        let Some(locked_member) = lockfile.packages.iter().find(|p| {
            p.name == *member
                && p.source.is_none()
                && version.as_ref().is_none_or(|v| *v == p.version)
        }) else {
            return Ok(Some(match version {
                Some(version) => format!("workspace member `{member} {version}` is not in it"),
                None => format!("workspace member `{member}` is not in it"),
            }));
        };
        for (name, req, source) in deps {
            // Among what the lockfile records for this member (every kind, target and optional
            // dependency is recorded): a package elsewhere in the lockfile does not count.
            let satisfied = locked_member.dependencies.iter().any(|&dep| {
                let p = &lockfile.packages[dep];
                p.name == *name
                    && (requirement_matches(req, &p.version)
                        || source.as_deref().is_some_and(|s| s.starts_with("git+")))
                    && same_git_source(source.as_deref(), p.source.as_deref())
            });
            if !satisfied {
                return Ok(Some(format!(
                    "`{member}` needs `{name} {req}`{}, which it does not lock",
                    source
                        .as_deref()
                        .filter(|s| s.starts_with("git+"))
                        .map(|s| format!(" from {}", super::source::strip_userinfo(s).0))
                        .unwrap_or_default()
                )));
            }
        }
        for &dep in &locked_member.dependencies {
            let name = &lockfile.packages[dep].name;
            if !deps.iter().any(|(declared, _, _)| declared == name) {
                return Ok(Some(format!(
                    "it records `{name}` for `{member}`, which no longer declares it"
                )));
            }
        }
    }
    Ok(None)
}

/// Whether a locked version meets a declared requirement, as cargo decides it. A dependency
/// that names no version (`{ path = "../term" }`, shown as `*`) takes any version, pre-releases
/// too (cargo's `OptVersionReq::Any`); a requirement that names one follows semver, where a
/// pre-release (`0.5.0-dev`) meets only a requirement naming a pre-release of the same version.
pub(crate) fn requirement_matches(req: &semver::VersionReq, version: &semver::Version) -> bool {
    *req == semver::VersionReq::STAR || req.matches(version)
}

/// A declared git dependency must be locked from the same repository and reference (the
/// locked source adds `#commit`); other sources are not compared here.
fn same_git_source(declared: Option<&str>, locked: Option<&str>) -> bool {
    match declared {
        Some(declared) if declared.starts_with("git+") => locked
            .and_then(|l| l.split('#').next())
            .is_some_and(|l| l == declared),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The substring search finds what going through the text line by line finds: texts
        /// of whole and partial markers, newlines, carriage returns and letters.
        #[test]
        fn conflict_markers_are_found_as_line_by_line(
            text in "(<<<<<<<|=======|>>>>>>>|[|]{7}|<<|==|[|]|>|a| |\r|\n){0,40}",
        ) {
            const MARKERS: [&str; 4] = ["<<<<<<<", "|||||||", "=======", ">>>>>>>"];
            let by_line = text.lines().enumerate().find_map(|(index, line)| {
                MARKERS
                    .iter()
                    .find(|marker| line.starts_with(**marker))
                    .map(|marker| (*marker, index + 1))
            });
            proptest::prop_assert_eq!(conflict_marker(&text), by_line);
        }

        /// A marker at the start of any line is found, with its line number; a lockfile without
        /// one at a line start is never called conflicted.
        #[test]
        fn conflict_markers_are_found_where_they_are(
            lines in proptest::collection::vec("[ -~]{0,20}", 0..20),
            at in 0usize..20,
            marker in proptest::sample::select(vec!["<<<<<<< HEAD", "=======", ">>>>>>> b", "||||||| base"]),
        ) {
            let clean: Vec<String> = lines
                .iter()
                .map(|l| format!(" {l}"))
                .collect();
            proptest::prop_assert_eq!(conflict_marker(&clean.join("\n")), None);
            let at = at.min(clean.len());
            let mut conflicted = clean.clone();
            conflicted.insert(at, marker.to_owned());
            let found = conflict_marker(&conflicted.join("\n"));
            proptest::prop_assert_eq!(found.map(|(_, line)| line), Some(at + 1));
        }
    }
}
